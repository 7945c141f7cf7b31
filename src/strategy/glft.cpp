#include "mmkit/strategy/glft.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mmkit::strategy {
namespace {
constexpr std::string_view kName = "glft";
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

GlftCoefficients glft_coefficients(double gamma, double delta, double A, double k) noexcept {
  const double xd = gamma * delta;  // ξΔ with ξ = γ
  GlftCoefficients c;
  c.c1 = std::log1p(xd / k) / xd;
  c.c2 = std::sqrt(gamma / (2.0 * A * delta * k) * std::pow(1.0 + xd / k, k / xd + 1.0));
  return c;
}

GlftQuote glft_quote(const GlftCoefficients& c, double sigma, double q, double delta) noexcept {
  GlftQuote g;
  g.half_spread = c.c1 + 0.5 * delta * sigma * c.c2;
  g.skew = sigma * c.c2;
  g.bid_depth = g.half_spread + g.skew * q;
  g.ask_depth = g.half_spread - g.skew * q;
  return g;
}

Glft::Resolved Glft::resolve(const GlftParams& p, const InstrumentSpec& spec,
                             const MarketProfile& profile) {
  Resolved r;
  r.quoting = resolve_quoting(p.quoting, spec, profile, kName);
  r.gamma = p.gamma ? require_positive(*p.gamma, kName, "gamma") : 0.05;
  r.delta = p.delta ? require_positive(*p.delta, kName, "delta") : 1.0;
  if (p.A.has_value() != p.k.has_value()) {
    throw_param_error(kName, p.A ? "A" : "k",
                      "give A and k together (fixed intensity) or neither (calibrated online)");
  }
  if (p.A) r.A = require_positive(*p.A, kName, "A");
  if (p.k) r.k = require_positive(*p.k, kName, "k");
  if (p.sigma) r.sigma = require_positive(*p.sigma, kName, "sigma", false);
  const double tick_raw = static_cast<double>(std::max<Price>(spec.tick_size, 1));
  const double spread_ticks =
      std::isfinite(profile.mean_spread) && profile.mean_spread > 0 ? profile.mean_spread / tick_raw
                                                                    : 1.0;
  const double tps = std::isfinite(profile.trades_per_second) ? profile.trades_per_second : 0.0;
  r.A0 = std::max(tps / 2.0, 0.01);
  r.k0 = 2.0 / std::max(1.0, spread_ticks);
  r.calibration_window_s = p.calibration_window_s
                               ? require_positive(*p.calibration_window_s, kName, "calibration_window_s")
                               : 600.0;
  r.calibration_min_trades = p.calibration_min_trades ? *p.calibration_min_trades : 50;
  if (r.calibration_min_trades < 1) throw_param_error(kName, "calibration_min_trades", "must be >= 1");
  r.calibration_max_ticks = p.calibration_max_ticks
                                ? *p.calibration_max_ticks
                                : static_cast<std::int64_t>(std::ceil(spread_ticks)) + 20;
  if (r.calibration_max_ticks < 2 || r.calibration_max_ticks > 100000) {
    throw_param_error(kName, "calibration_max_ticks", "must be in 2..100000");
  }
  r.vol_window_s = p.vol_window_s ? require_positive(*p.vol_window_s, kName, "vol_window_s") : 60.0;
  r.vol_sample_ms = p.vol_sample_ms ? require_positive(*p.vol_sample_ms, kName, "vol_sample_ms") : 100.0;
  if (r.vol_sample_ms * 1e-3 > r.vol_window_s) {
    throw_param_error(kName, "vol_sample_ms", "must not exceed vol_window_s");
  }
  return r;
}

Glft::Glft(const GlftParams& p, const InstrumentSpec& spec, const MarketProfile& profile)
    : Glft(resolve(p, spec, profile), spec) {}

Glft::Glft(const Resolved& r, const InstrumentSpec& spec)
    : QuotingStrategy(r.quoting, spec),
      r_(r),
      A_(r.A.value_or(r.A0)),
      k_(r.k.value_or(r.k0)),
      vol_(seconds_to_ns(r.vol_window_s), seconds_to_ns(r.vol_sample_ms * 1e-3),
           static_cast<std::size_t>(std::max(
               1.0, std::floor(std::min(10.0, r.vol_window_s) / (r.vol_sample_ms * 1e-3))))),
      intensity_(seconds_to_ns(r.calibration_window_s),
                 static_cast<std::size_t>(r.calibration_max_ticks),
                 static_cast<std::uint64_t>(r.calibration_min_trades)) {}

double Glft::sigma() const noexcept {
  if (r_.sigma) return *r_.sigma;
  return vol_.ready() ? vol_.sigma() : kNaN;
}

void Glft::observe_book(Context& ctx, double mid_raw) {
  if (!r_.sigma) vol_.update(ctx.now(), mid_raw / tick_);
  if (!r_.A) intensity_.observe(ctx.now());
}

void Glft::observe_trade(Context& ctx, const TradeView& t, double mid_raw) {
  if (r_.A) return;
  intensity_.observe(ctx.now());
  if (std::isnan(mid_raw) || t.price == kNoPrice) return;
  const double px = static_cast<double>(t.price);
  const double d = t.side == Side::kBid   ? px - mid_raw
                   : t.side == Side::kAsk ? mid_raw - px
                                          : std::fabs(px - mid_raw);
  intensity_.add_trade(ctx.now(), d / tick_);
}

void Glft::observe_time(Context& ctx) {
  if (!r_.sigma) vol_.advance(ctx.now());
  if (!r_.A) intensity_.observe(ctx.now());
}

QuotingStrategy::Decision Glft::model_quotes(Context& ctx, double mid_raw, double& bid_raw,
                                             double& ask_raw) {
  const double sig = sigma();
  if (std::isnan(sig)) return Decision::kNoQuote;
  if (!r_.A) {
    if (const auto f = intensity_.fit(ctx.now())) {
      A_ = f->A;
      k_ = f->k;
      ++fits_;
    }
  }
  const GlftCoefficients c = glft_coefficients(r_.gamma, r_.delta, A_, k_);
  const double q = static_cast<double>(ctx.position()) / static_cast<double>(settings_.order_qty);
  last_ = glft_quote(c, sig, q, r_.delta);
  if (!std::isfinite(last_.bid_depth) || !std::isfinite(last_.ask_depth)) return Decision::kNoQuote;
  bid_raw = mid_raw - last_.bid_depth * tick_;
  ask_raw = mid_raw + last_.ask_depth * tick_;
  return Decision::kQuote;
}

Params Glft::resolved_params() const {
  Params p;
  append_quoting_params(settings_, spec_, p);
  p["gamma"] = r_.gamma;
  p["delta"] = r_.delta;
  p["A"] = r_.A ? ParamValue(*r_.A) : ParamValue(std::string("auto"));
  p["k"] = r_.k ? ParamValue(*r_.k) : ParamValue(std::string("auto"));
  p["sigma"] = r_.sigma ? ParamValue(*r_.sigma) : ParamValue(std::string("auto"));
  p["calibration_window_s"] = r_.calibration_window_s;
  p["calibration_min_trades"] = r_.calibration_min_trades;
  p["calibration_max_ticks"] = r_.calibration_max_ticks;
  p["vol_window_s"] = r_.vol_window_s;
  p["vol_sample_ms"] = r_.vol_sample_ms;
  return p;
}

}  // namespace mmkit::strategy
