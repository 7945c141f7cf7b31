#include "mmkit/strategy/avellaneda_stoikov.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "mmkit/core/decimal.h"

namespace mmkit::strategy {
namespace {
constexpr std::string_view kName = "avellaneda-stoikov";
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::int64_t default_max_ticks(const MarketProfile& profile, double tick_raw) {
  const double s = profile.mean_spread / tick_raw;
  return static_cast<std::int64_t>(std::isfinite(s) && s > 0 ? std::ceil(s) : 1.0) + 20;
}
}  // namespace

AsQuote avellaneda_stoikov_quote(double s, double q, double gamma, double sigma, double tau_s,
                                 double k) noexcept {
  AsQuote a;
  const double var_tau = sigma * sigma * tau_s;
  a.reservation = s - q * gamma * var_tau;
  a.spread = gamma * var_tau + (2.0 / gamma) * std::log1p(gamma / k);
  a.bid = a.reservation - 0.5 * a.spread;
  a.ask = a.reservation + 0.5 * a.spread;
  return a;
}

double as_k_for_spread(double gamma, double spread) noexcept {
  return gamma / std::expm1(0.5 * gamma * spread);
}

AvellanedaStoikov::Resolved AvellanedaStoikov::resolve(const AvellanedaStoikovParams& p,
                                                       const InstrumentSpec& spec,
                                                       const MarketProfile& profile) {
  Resolved r;
  r.quoting = resolve_quoting(p.quoting, spec, profile, kName);
  if (p.gamma) r.gamma = require_positive(*p.gamma, kName, "gamma");
  if (p.k) r.k = require_positive(*p.k, kName, "k");
  if (p.sigma) r.sigma = require_positive(*p.sigma, kName, "sigma");
  r.horizon = AsHorizon::kRolling;
  if (p.horizon) {
    if (*p.horizon == "rolling") {
      r.horizon = AsHorizon::kRolling;
    } else if (*p.horizon == "finite") {
      r.horizon = AsHorizon::kFinite;
    } else {
      throw_param_error(kName, "horizon", "unknown value '" + *p.horizon + "' (accepted: rolling, finite)");
    }
  }
  r.horizon_s = p.horizon_s ? require_positive(*p.horizon_s, kName, "horizon_s")
                            : (r.horizon == AsHorizon::kRolling ? 60.0 : 23400.0);
  r.calibrate_k = p.calibrate_k.value_or(false);
  if (r.calibrate_k && r.k) {
    throw_param_error(kName, "k", "give k or calibrate_k = true, not both");
  }
  r.calibration_window_s = p.calibration_window_s
                               ? require_positive(*p.calibration_window_s, kName, "calibration_window_s")
                               : 600.0;
  r.calibration_min_trades = p.calibration_min_trades ? *p.calibration_min_trades : 50;
  if (r.calibration_min_trades < 1) {
    throw_param_error(kName, "calibration_min_trades", "must be >= 1");
  }
  const double tick_raw = static_cast<double>(std::max<Price>(spec.tick_size, 1));
  r.calibration_max_ticks =
      p.calibration_max_ticks ? *p.calibration_max_ticks : default_max_ticks(profile, tick_raw);
  if (r.calibration_max_ticks < 2 || r.calibration_max_ticks > 100000) {
    throw_param_error(kName, "calibration_max_ticks", "must be in 2..100000");
  }
  r.sigma_half_life_s = p.sigma_half_life_s
                            ? require_positive(*p.sigma_half_life_s, kName, "sigma_half_life_s")
                            : 60.0;
  r.sigma_sample_ms =
      p.sigma_sample_ms ? require_positive(*p.sigma_sample_ms, kName, "sigma_sample_ms") : 100.0;
  const double scale = static_cast<double>(pow10(spec.price_decimals));
  const double spread_raw =
      std::isfinite(profile.mean_spread) ? std::max(profile.mean_spread, tick_raw) : tick_raw;
  r.spread_price = spread_raw / scale;
  return r;
}

AvellanedaStoikov::AvellanedaStoikov(const AvellanedaStoikovParams& p, const InstrumentSpec& spec,
                                     const MarketProfile& profile)
    : AvellanedaStoikov(resolve(p, spec, profile), spec) {}

AvellanedaStoikov::AvellanedaStoikov(const Resolved& r, const InstrumentSpec& spec)
    : QuotingStrategy(r.quoting, spec),
      r_(r),
      price_scale_(static_cast<double>(pow10(spec.price_decimals))),
      gamma_(r.gamma.value_or(kNaN)),
      k_(kNaN),
      k_spread_(kNaN),
      // EWMA ready after one half-life of samples.
      vol_(seconds_to_ns(r.sigma_sample_ms * 1e-3), seconds_to_ns(r.sigma_half_life_s),
           static_cast<std::size_t>(std::max(1.0, std::ceil(r.sigma_half_life_s /
                                                            (r.sigma_sample_ms * 1e-3))))),
      intensity_(seconds_to_ns(r.calibration_window_s),
                 static_cast<std::size_t>(r.calibration_max_ticks),
                 static_cast<std::uint64_t>(r.calibration_min_trades)) {
  if (r_.k) k_ = *r_.k;
  if (r_.sigma) resolve_model(*r_.sigma);
}

void AvellanedaStoikov::resolve_model(double sigma) {
  if (model_resolved_) return;
  const double var_tau = sigma * sigma * r_.horizon_s;
  if (!std::isfinite(var_tau)) return;
  const double S = r_.spread_price;
  if (std::isnan(gamma_)) {
    if (!(var_tau > 0)) return;
    gamma_ = S / (2.0 * var_tau);
  }
  if (!r_.k) {
    k_spread_ = as_k_for_spread(gamma_, std::max(S - gamma_ * var_tau, 0.5 * S));
    if (std::isnan(k_)) k_ = k_spread_;
  }
  model_resolved_ = true;
}

double AvellanedaStoikov::sigma() const noexcept {
  if (r_.sigma) return *r_.sigma;
  return vol_.ready() ? vol_.sigma() : kNaN;
}

void AvellanedaStoikov::observe_book(Context& ctx, double mid_raw) {
  if (!r_.sigma) vol_.update(ctx.now(), mid_raw / price_scale_);
  if (r_.calibrate_k) intensity_.observe(ctx.now());
}

void AvellanedaStoikov::observe_trade(Context& ctx, const TradeView& t, double mid_raw) {
  if (!r_.calibrate_k) return;
  intensity_.observe(ctx.now());
  if (std::isnan(mid_raw) || t.price == kNoPrice) return;
  const double px = static_cast<double>(t.price);
  const double d = t.side == Side::kBid   ? px - mid_raw
                   : t.side == Side::kAsk ? mid_raw - px
                                          : std::fabs(px - mid_raw);
  intensity_.add_trade(ctx.now(), d / tick_);
}

void AvellanedaStoikov::observe_time(Context& ctx) {
  if (!r_.sigma) vol_.advance(ctx.now());
  if (r_.calibrate_k) intensity_.observe(ctx.now());
}

QuotingStrategy::Decision AvellanedaStoikov::model_quotes(Context& ctx, double mid_raw,
                                                          double& bid_raw, double& ask_raw) {
  const double sig = sigma();
  if (std::isnan(sig)) return Decision::kNoQuote;
  resolve_model(sig);
  if (!model_resolved_) return Decision::kNoQuote;
  if (r_.calibrate_k) {
    if (const auto f = intensity_.fit(ctx.now())) k_ = f->k / (tick_ / price_scale_);
  }
  if (!(k_ > 0)) return Decision::kNoQuote;
  double tau = r_.horizon_s;
  if (r_.horizon == AsHorizon::kFinite) {
    const TimestampNs end = first_ts_ + seconds_to_ns(r_.horizon_s);
    tau = std::max<double>(0.0, static_cast<double>(end - ctx.now()) * 1e-9);
  }
  const double q = static_cast<double>(ctx.position()) / static_cast<double>(settings_.order_qty);
  last_ = avellaneda_stoikov_quote(mid_raw / price_scale_, q, gamma_, sig, tau, k_);
  bid_raw = last_.bid * price_scale_;
  ask_raw = last_.ask * price_scale_;
  return Decision::kQuote;
}

Params AvellanedaStoikov::resolved_params() const {
  Params p;
  append_quoting_params(settings_, spec_, p);
  const auto num_or_auto = [](double v) -> ParamValue {
    return std::isnan(v) ? ParamValue(std::string("auto")) : ParamValue(v);
  };
  p["gamma"] = num_or_auto(gamma_);
  p["k"] = r_.calibrate_k ? ParamValue(std::string("auto")) : num_or_auto(k_);
  p["sigma"] = r_.sigma ? ParamValue(*r_.sigma) : ParamValue(std::string("auto"));
  p["horizon"] = std::string(r_.horizon == AsHorizon::kRolling ? "rolling" : "finite");
  p["horizon_s"] = r_.horizon_s;
  p["calibrate_k"] = r_.calibrate_k;
  p["calibration_window_s"] = r_.calibration_window_s;
  p["calibration_min_trades"] = r_.calibration_min_trades;
  p["calibration_max_ticks"] = r_.calibration_max_ticks;
  p["sigma_half_life_s"] = r_.sigma_half_life_s;
  p["sigma_sample_ms"] = r_.sigma_sample_ms;
  return p;
}

}  // namespace mmkit::strategy
