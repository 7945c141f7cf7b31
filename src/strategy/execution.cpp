#include "mmkit/strategy/execution.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <string>
#include <system_error>
#include <utility>

#include "mmkit/core/decimal.h"
#include "mmkit/core/error.h"
#include "mmkit/data/line_reader.h"
#include "mmkit/strategy/spread_quoter.h"

namespace mmkit::strategy {
namespace {

constexpr TimestampNs kDayNs = 86'400'000'000'000;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

constexpr const char* kAlgoNames[] = {"twap", "vwap", "pov", "almgren-chriss", "adaptive"};

TimestampNs floor_div(TimestampNs a, TimestampNs b) noexcept {
  const TimestampNs q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int side_sign(Side s) noexcept { return s == Side::kBid ? 1 : -1; }

std::string num(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", x);
  return buf;
}

bool parse_double(std::string_view s, double& out) noexcept {
  if (s.empty()) return false;
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (*b == '+') ++b;
  const auto r = std::from_chars(b, e, out);
  return r.ec == std::errc() && r.ptr == e && std::isfinite(out);
}

std::string quoted(std::string_view s) {
  std::string q;
  q.reserve(s.size() + 2);
  q.push_back('\'');
  q.append(s);
  q.push_back('\'');
  return q;
}

double i128_to_double(__int128 x) noexcept { return static_cast<double>(x); }

}  // namespace

// =============================================================================================
// Volume profile

TimestampNs utc_midnight_ns(TimestampNs ts_ns) noexcept { return floor_div(ts_ns, kDayNs) * kDayNs; }

double VolumeProfile::volume_between(TimestampNs a, TimestampNs b) const noexcept {
  if (b <= a || bucket_ns <= 0 || volume.empty()) return 0.0;
  const TimestampNs end = origin_ns + static_cast<TimestampNs>(volume.size()) * bucket_ns;
  const TimestampNs lo = std::max(a, origin_ns), hi = std::min(b, end);
  if (hi <= lo) return 0.0;
  auto i = static_cast<std::size_t>((lo - origin_ns) / bucket_ns);
  double v = 0;
  for (; i < volume.size(); ++i) {
    const TimestampNs bs = origin_ns + static_cast<TimestampNs>(i) * bucket_ns;
    const TimestampNs be = bs + bucket_ns;
    if (bs >= hi) break;
    const TimestampNs ov = std::min(be, hi) - std::max(bs, lo);
    if (ov > 0) v += volume[i] * static_cast<double>(ov) / static_cast<double>(bucket_ns);
  }
  return v;
}

double VolumeProfile::total() const noexcept {
  double v = 0;
  for (double x : volume) v += x;
  return v;
}

VolumeProfile VolumeProfile::anchored(TimestampNs ts_ns) const {
  VolumeProfile p = *this;
  if (p.time_of_day) {
    p.origin_ns += utc_midnight_ns(ts_ns);
    p.time_of_day = false;
  }
  return p;
}

VolumeProfile read_volume_profile(const std::string& path) {
  auto reader = data::LineReader::open(path);
  const std::string& file = reader->name();
  std::string_view line;
  bool header = false;
  VolumeProfile p;
  p.time_of_day = true;
  std::vector<double> times;
  std::string_view f[4];
  while (reader->next(line)) {
    const std::uint64_t ln = reader->line_number();
    if (!line.empty() && line.front() == '#') continue;
    if (!header) {
      const std::size_t nf = data::split_fields(line, ',', f, 4);
      if (nf != 2 || f[0] != "time_s" || f[1] != "volume") {
        throw_at_line(file, ln, "", "header must be time_s,volume, got " + quoted(line));
      }
      header = true;
      continue;
    }
    const std::size_t nf = data::split_fields(line, ',', f, 4);
    if (nf != 2) {
      throw_at_line(file, ln, "",
                    "expected 2 fields, got " + std::to_string(nf) + (line.empty() ? " (empty line)" : ""));
    }
    double t = 0, v = 0;
    if (!parse_double(f[0], t) || t < 0) {
      throw_at_line(file, ln, "time_s", "expected seconds after 00:00 UTC (a number >= 0), got " + quoted(f[0]));
    }
    if (!parse_double(f[1], v) || v < 0) {
      throw_at_line(file, ln, "volume", "expected a quantity >= 0, got " + quoted(f[1]));
    }
    if (!times.empty()) {
      const double step = t - times.back();
      if (!(step > 0)) {
        throw_at_line(file, ln, "time_s", "times must increase: " + num(t) + " after " + num(times.back()));
      }
      if (times.size() >= 2) {
        const double bucket = times[1] - times[0];
        if (std::fabs(step - bucket) > 1e-6) {
          throw_at_line(file, ln, "time_s",
                        "rows must be evenly spaced (bucket " + num(bucket) + " s), got a step of " + num(step) + " s");
        }
      }
    }
    times.push_back(t);
    p.volume.push_back(v);
  }
  if (!header) throw_at_line(file, 1, "", "empty file: expected the header time_s,volume");
  if (times.size() < 2) {
    throw_at_line(file, reader->line_number(), "", "need at least two rows (their spacing is the bucket)");
  }
  p.origin_ns = seconds_to_ns(times[0]);
  p.bucket_ns = seconds_to_ns(times[1] - times[0]);
  if (p.bucket_ns <= 0) throw_at_line(file, 3, "time_s", "bucket must be at least 1 ns");
  return p;
}

// =============================================================================================
// Schedules

std::vector<TimestampNs> slice_boundaries(TimestampNs start, TimestampNs end, TimestampNs slice_ns) {
  if (end <= start) throw Error("slice_boundaries: end must be after start");
  if (slice_ns <= 0) throw Error("slice_boundaries: slice must be > 0 ns");
  std::vector<TimestampNs> b;
  const TimestampNs n = (end - start + slice_ns - 1) / slice_ns;
  b.reserve(static_cast<std::size_t>(n) + 1);
  for (TimestampNs k = 0; k < n; ++k) b.push_back(start + k * slice_ns);
  b.push_back(end);
  return b;
}

std::vector<Qty> cumulative_targets(Qty total, Qty lot, std::span<const double> fractions) {
  std::vector<Qty> t(fractions.size(), 0);
  if (fractions.empty()) return t;
  const Qty lots = total / lot;
  Qty prev = 0;
  for (std::size_t k = 0; k < fractions.size(); ++k) {
    const double f = std::clamp(fractions[k], 0.0, 1.0);
    // The small epsilon keeps exact fractions such as 2/3 × 300 from rounding down a lot.
    Qty q = static_cast<Qty>(std::floor(f * static_cast<double>(lots) + 1e-9)) * lot;
    q = std::clamp<Qty>(q, prev, total);
    t[k] = q;
    prev = q;
  }
  t.front() = 0;
  t.back() = total;
  return t;
}

std::vector<double> twap_fractions(std::span<const TimestampNs> b) {
  std::vector<double> f(b.size(), 0.0);
  if (b.size() < 2) return f;
  const double span = static_cast<double>(b.back() - b.front());
  for (std::size_t k = 0; k < b.size(); ++k) f[k] = static_cast<double>(b[k] - b.front()) / span;
  f.back() = 1.0;
  return f;
}

std::optional<std::vector<double>> vwap_fractions(std::span<const TimestampNs> b,
                                                  const VolumeProfile& profile) {
  if (b.size() < 2) return std::nullopt;
  const double total = profile.volume_between(b.front(), b.back());
  if (!(total > 0)) return std::nullopt;
  std::vector<double> f(b.size(), 0.0);
  double cum = 0;
  for (std::size_t k = 1; k < b.size(); ++k) {
    cum += profile.volume_between(b[k - 1], b[k]);
    f[k] = std::min(1.0, cum / total);
  }
  f.back() = 1.0;
  return f;
}

double almgren_chriss_kappa(double lambda, double sigma, double eta, double gamma, double tau) noexcept {
  const double eta_tilde = eta - 0.5 * gamma * tau;
  if (!(eta_tilde > 0) || !(tau > 0)) return kNaN;
  const double kt2 = lambda * sigma * sigma / eta_tilde;
  if (!(kt2 > 0)) return 0.0;
  return std::acosh(1.0 + 0.5 * kt2 * tau * tau) / tau;
}

double almgren_chriss_holdings(double kappa, double T, double t) noexcept {
  if (!(T > 0)) return 0.0;
  const double left = std::clamp(T - t, 0.0, T);
  if (kappa * T < 1e-9) return left / T;
  // sinh(κ(T−t))/sinh(κT) = e^{−κt}(1 − e^{−2κ(T−t)})/(1 − e^{−2κT}): stable for large κT.
  return std::exp(-kappa * (T - left)) * -std::expm1(-2.0 * kappa * left) / -std::expm1(-2.0 * kappa * T);
}

std::vector<double> almgren_chriss_fractions(std::span<const TimestampNs> b, double kappa) {
  std::vector<double> f(b.size(), 0.0);
  if (b.size() < 2) return f;
  const double T = static_cast<double>(b.back() - b.front()) * 1e-9;
  for (std::size_t k = 0; k < b.size(); ++k) {
    f[k] = 1.0 - almgren_chriss_holdings(kappa, T, static_cast<double>(b[k] - b.front()) * 1e-9);
  }
  f.front() = 0.0;
  f.back() = 1.0;
  return f;
}

// =============================================================================================
// Implementation shortfall

void ShortfallLedger::start(Side side, Price arrival_bid, Price arrival_ask) noexcept {
  side_ = side;
  p0_x2_ = arrival_bid + arrival_ask;
  started_ = true;
}

void ShortfallLedger::add(const Fill& f) noexcept {
  const int s = side_sign(side_);
  const __int128 q = f.qty;
  const Price p_x2 = 2 * f.price;
  ++fills_;
  filled_ += f.qty;
  if (f.maker) maker_filled_ += f.qty;
  notional_ += static_cast<__int128>(f.price) * q;
  fees_ += f.fee;
  const __int128 is = static_cast<__int128>(s) * (p_x2 - p0_x2_) * q;
  is_ += is;
  if (f.bid_at_fill == kNoPrice || f.ask_at_fill == kNoPrice) {
    ++no_mid_;
    timing_ += is;
    return;
  }
  const Price m_x2 = f.bid_at_fill + f.ask_at_fill;
  const Price full_spread = f.ask_at_fill - f.bid_at_fill;  // 2 × half spread
  const __int128 spread = static_cast<__int128>(f.maker ? -full_spread : full_spread) * q;
  const __int128 to_mid = static_cast<__int128>(s) * (p_x2 - m_x2) * q;
  spread_ += spread;
  impact_ += to_mid - spread;
  timing_ += static_cast<__int128>(s) * (m_x2 - p0_x2_) * q;
}

double ShortfallLedger::to_currency(__int128 x2, const InstrumentSpec& spec) noexcept {
  const double scale = static_cast<double>(pow10(spec.price_decimals)) * static_cast<double>(pow10(spec.qty_decimals));
  return i128_to_double(x2) / 2.0 / scale * spec.multiplier();
}

double ShortfallLedger::to_bps(__int128 x2) const noexcept {
  if (filled_ <= 0 || p0_x2_ <= 0) return 0.0;
  return i128_to_double(x2) / (static_cast<double>(p0_x2_) * static_cast<double>(filled_)) * 1e4;
}

// =============================================================================================
// Names

const char* to_string(ExecutionAlgo a) noexcept { return kAlgoNames[static_cast<int>(a)]; }

std::optional<ExecutionAlgo> execution_algo(std::string_view name) noexcept {
  for (int i = 0; i < 5; ++i) {
    if (name == kAlgoNames[i]) return static_cast<ExecutionAlgo>(i);
  }
  return std::nullopt;
}

bool is_execution_strategy(std::string_view name) noexcept { return execution_algo(name).has_value(); }

// =============================================================================================
// The strategy

namespace {

double require_nonneg(double v, std::string_view strategy, std::string_view param) {
  return require_positive(v, strategy, param, false);
}

// Rolling volatility of the mid (price/√s): window and sampling from the params (defaults 60 s,
// 1000 ms; invalid values are rejected by the constructor right after), ready after
// min(10 s, window) of samples.
RollingVolatility make_volatility(const ExecutionParams& p) {
  const double window = p.vol_window_s && *p.vol_window_s > 0 ? *p.vol_window_s : 60.0;
  double sample = p.vol_sample_ms && *p.vol_sample_ms > 0 ? *p.vol_sample_ms * 1e-3 : 1.0;
  sample = std::min(sample, window);
  const auto min_samples = static_cast<std::size_t>(std::max(1.0, std::floor(std::min(10.0, window) / sample)));
  return RollingVolatility(seconds_to_ns(window), seconds_to_ns(sample), min_samples);
}

std::optional<double> positive_opt(const std::optional<double>& v, std::string_view s, std::string_view n) {
  if (v) require_positive(*v, s, n);
  return v;
}

}  // namespace

ExecutionStrategy::ExecutionStrategy(ExecutionAlgo algo, const ExecutionParams& p, const InstrumentSpec& spec,
                                     const MarketProfile& profile)
    : algo_(algo),
      spec_(spec),
      mprofile_(profile),
      lot_(std::max<Qty>(spec.lot_size, 1)),
      tick_(std::max<Price>(spec.tick_size, 1)),
      vol_(make_volatility(p)) {
  const std::string_view name = to_string(algo);
  Resolved& r = r_;
  r.measure_only = p.measure_only.value_or(false);
  if (p.side) {
    if (*p.side == "buy") {
      r.side = Side::kBid;
    } else if (*p.side == "sell") {
      r.side = Side::kAsk;
    } else {
      throw_param_error(name, "side", "accepted: buy, sell; got " + quoted(*p.side));
    }
  } else if (!r.measure_only) {
    throw_param_error(name, "side", "required (buy or sell)");
  }
  if (p.quantity && p.volume_fraction) {
    throw_param_error(name, "volume_fraction", "give quantity or volume_fraction, not both");
  }
  if (p.quantity) {
    (void)decimal_qty_to_raw(*p.quantity, spec, "strategy '" + std::string(name) + "': param 'quantity'", true);
    r.quantity = p.quantity;
  }
  if (p.volume_fraction) {
    if (!(*p.volume_fraction > 0 && *p.volume_fraction <= 1)) {
      throw_param_error(name, "volume_fraction", "must be in (0, 1], got " + num(*p.volume_fraction));
    }
    r.volume_fraction = p.volume_fraction;
  }
  if (!r.measure_only && !p.quantity && !p.volume_fraction) {
    throw_param_error(name, "quantity", "required: give quantity (decimal qty) or volume_fraction");
  }
  for (const auto& [t, what] : {std::pair{&p.start, "start"}, std::pair{&p.end, "end"}}) {
    if (t->kind == ExecutionTime::Kind::kRelative && !(t->rel_s >= 0 && std::isfinite(t->rel_s))) {
      throw_param_error(name, what, "relative time must be \"+S\" with S >= 0 seconds");
    }
    if (t->kind == ExecutionTime::Kind::kAbsolute && t->abs_ns <= 0) {
      throw_param_error(name, what, "absolute time must be > 0 ns since the epoch");
    }
  }
  r.start = p.start;
  r.end = p.end;
  if (p.start.kind == p.end.kind) {
    if ((p.start.kind == ExecutionTime::Kind::kAbsolute && p.end.abs_ns <= p.start.abs_ns) ||
        (p.start.kind == ExecutionTime::Kind::kRelative && p.end.rel_s <= p.start.rel_s)) {
      throw_param_error(name, "end", "must be after start");
    }
  }
  r.slice_s = positive_opt(p.slice_s, name, "slice_s");
  if (p.profile && !p.profile->empty()) {
    r.profile_path = *p.profile;
    profile_ = read_volume_profile(r.profile_path);
  }
  r.profile_in_sample = p.profile_in_sample.value_or(false);
  r.post_only = p.post_only.value_or(true);
  r.sweep_timeout_s = p.sweep_timeout_s ? require_nonneg(*p.sweep_timeout_s, name, "sweep_timeout_s") : 10.0;
  r.profile_bucket_s = p.profile_bucket_s ? require_positive(*p.profile_bucket_s, name, "profile_bucket_s") : 60.0;
  if (p.rate && !(*p.rate > 0 && *p.rate <= 1)) throw_param_error(name, "rate", "must be in (0, 1], got " + num(*p.rate));
  r.rate = p.rate;
  const std::string prefix = "strategy '" + std::string(name) + "': param ";
  if (p.min_child) {
    (void)decimal_qty_to_raw(*p.min_child, spec, prefix + "'min_child'", true);
    r.min_child = p.min_child;
  }
  if (p.max_child) {
    (void)decimal_qty_to_raw(*p.max_child, spec, prefix + "'max_child'", true);
    r.max_child = p.max_child;
  }
  if (r.min_child && r.max_child && *r.max_child < *r.min_child) {
    throw_param_error(name, "max_child", "must be >= min_child");
  }
  r.lambda = p.lambda ? require_nonneg(*p.lambda, name, "lambda") : 1e-6;
  if (p.sigma) r.sigma = require_nonneg(*p.sigma, name, "sigma");
  r.eta = positive_opt(p.eta, name, "eta");
  if (p.gamma) r.gamma = require_nonneg(*p.gamma, name, "gamma");
  r.vol_window_s = p.vol_window_s ? require_positive(*p.vol_window_s, name, "vol_window_s") : 60.0;
  r.vol_sample_ms = p.vol_sample_ms ? require_positive(*p.vol_sample_ms, name, "vol_sample_ms") : 1000.0;
  if (r.vol_sample_ms * 1e-3 > r.vol_window_s) throw_param_error(name, "vol_sample_ms", "must not exceed vol_window_s");
  if (p.schedule) {
    const auto s = execution_algo(*p.schedule);
    if (!s || *s == ExecutionAlgo::kPov || *s == ExecutionAlgo::kAdaptive) {
      throw_param_error(name, "schedule", "accepted: twap, vwap, almgren-chriss; got " + quoted(*p.schedule));
    }
    r.schedule = *s;
  }
  r.behind_threshold = p.behind_threshold ? require_nonneg(*p.behind_threshold, name, "behind_threshold") : 0.5;
  if (p.max_urgency && !(*p.max_urgency >= 1 && std::isfinite(*p.max_urgency))) {
    throw_param_error(name, "max_urgency", "must be >= 1, got " + num(*p.max_urgency));
  }
  r.max_urgency = p.max_urgency.value_or(4.0);

  if (!r.measure_only) {
    const bool needs_profile = algo == ExecutionAlgo::kVwap ||
                               (algo == ExecutionAlgo::kAdaptive && r.schedule == ExecutionAlgo::kVwap);
    if (needs_profile && !profile_) {
      throw_param_error(name, "profile",
                        "required for a VWAP schedule: a volume-profile CSV (time_s,volume); "
                        "mmkit.execution.run measures one in-sample in a pre-pass");
    }
    if (r.volume_fraction && !profile_) {
      throw_param_error(name, "volume_fraction",
                        "needs a volume profile to estimate the interval's market volume (param "
                        "'profile'); mmkit.execution.run measures one in-sample in a pre-pass");
    }
    if (r.end.kind == ExecutionTime::Kind::kDefault && !profile_) {
      throw_param_error(name, "end",
                        "required without a profile (ns since the epoch or \"+S\" seconds after the "
                        "first event): the strategy cannot know where the data ends; "
                        "mmkit.execution.run sets it from a pre-pass");
    }
  }
}

// ---------------------------------------------------------------------------------------------

Qty ExecutionStrategy::round_lot(double raw) const noexcept {
  if (!(raw > 0)) return 0;
  return static_cast<Qty>(std::floor(raw / static_cast<double>(lot_) + 1e-9)) * lot_;
}

double ExecutionStrategy::to_price(double raw) const noexcept {
  return raw / static_cast<double>(pow10(spec_.price_decimals));
}

double ExecutionStrategy::sigma_now() const noexcept {
  if (r_.sigma) return *r_.sigma;
  return vol_.ready() ? vol_.sigma() : kNaN;
}

Price ExecutionStrategy::far_touch(Context& ctx) const { return ctx.book().best(opposite(r_.side)).price; }

Price ExecutionStrategy::sweep_price(Context& ctx, Qty qty) const {
  const BookView& b = ctx.book();
  const Side far = opposite(r_.side);
  const std::size_t n = b.depth(far);
  if (n == 0) return kNoPrice;
  Qty cum = 0;
  std::size_t i = 0;
  for (; i < n; ++i) {
    cum += b.level(far, i).qty;
    if (cum >= qty) break;
  }
  i = std::min(n - 1, i + sweep_retries_);
  return b.level(far, i).price;
}

Qty ExecutionStrategy::committed(Context& ctx, Qty* aggressive, const OrderView** passive) {
  Qty c = 0, a = 0;
  const OrderView* pv = nullptr;
  for (const OrderView& o : ctx.open_orders()) {
    const auto it = children_.find(o.id);
    const bool aggr = it != children_.end() && it->second.aggressive;
    Qty l = o.leaves;
    if (o.modify_pending && it != children_.end()) l = std::max(l, it->second.requested - o.filled);
    c += l;
    if (aggr) {
      a += l;
    } else if (pv == nullptr) {
      pv = &o;
    }
  }
  if (aggressive) *aggressive = a;
  if (passive) *passive = pv;
  return c;
}

ClientOrderId ExecutionStrategy::send(Context& ctx, Price price, Qty qty, bool aggressive) {
  OrderRequest req;
  req.side = r_.side;
  req.price = price;
  req.qty = qty;
  req.type = exchange::OrderType::kLimit;
  req.tif = aggressive ? exchange::TimeInForce::kIoc
                       : (r_.post_only ? exchange::TimeInForce::kPostOnly : exchange::TimeInForce::kGtc);
  const ClientOrderId id = ctx.submit(req);
  children_[id] = Child{aggressive, qty};
  ++child_orders_;
  ++(aggressive ? aggressive_orders_ : passive_orders_);
  return id;
}

Qty ExecutionStrategy::target_at(TimestampNs t) const noexcept {
  if (phase_ == Phase::kWaiting || t < start_ns_) return 0;
  if (algo_ == ExecutionAlgo::kPov) {
    return std::min(total_, round_lot(rate_ * static_cast<double>(mkt_qty_)));
  }
  if (bounds_.size() < 2 || t >= bounds_.back()) return total_;
  const auto it = std::upper_bound(bounds_.begin(), bounds_.end(), t);
  const auto k = static_cast<std::size_t>(it - bounds_.begin()) - 1;
  const double w = static_cast<double>(t - bounds_[k]) / static_cast<double>(bounds_[k + 1] - bounds_[k]);
  const double x = static_cast<double>(targets_[k]) + w * static_cast<double>(targets_[k + 1] - targets_[k]);
  return std::clamp(round_lot(x), targets_[k], targets_[k + 1]);
}

std::optional<std::vector<double>> ExecutionStrategy::schedule_fractions(ExecutionAlgo a) {
  switch (a) {
    case ExecutionAlgo::kVwap: return vwap_fractions(bounds_, anchored_);
    case ExecutionAlgo::kAlmgrenChriss: {
      const double s = sigma_now();
      sigma_used_ = std::isnan(s) ? 0.0 : s;
      const double tau = static_cast<double>(slice_ns_) / 1e9;
      kappa_ = almgren_chriss_kappa(r_.lambda, sigma_used_, eta_, gamma_, tau);
      if (std::isnan(kappa_)) {
        throw Error("strategy '" + std::string(to_string(algo_)) + "': Almgren-Chriss η̃ = eta − gamma·τ/2 = " +
                    num(eta_ - 0.5 * gamma_ * tau) + " <= 0 (eta " + num(eta_) + ", gamma " + num(gamma_) +
                    ", slice " + num(tau) + " s): lower gamma or the slice");
      }
      ++kappa_updates_;
      return almgren_chriss_fractions(bounds_, kappa_);
    }
    default: return twap_fractions(bounds_);
  }
}

void ExecutionStrategy::resolve_almgren_chriss(double sigma, std::size_t from) {
  sigma_used_ = sigma;
  const double tau = static_cast<double>(slice_ns_) / 1e9;
  const double k = almgren_chriss_kappa(r_.lambda, sigma, eta_, gamma_, tau);
  if (std::isnan(k)) return;
  kappa_ = k;
  ++kappa_updates_;
  const double T = static_cast<double>(bounds_.back() - bounds_[from]) * 1e-9;
  const double done = static_cast<double>(targets_[from]);
  const double left = static_cast<double>(total_) - done;
  Qty prev = targets_[from];
  for (std::size_t j = from + 1; j + 1 < bounds_.size(); ++j) {
    const double x = almgren_chriss_holdings(kappa_, T, static_cast<double>(bounds_[j] - bounds_[from]) * 1e-9);
    const Qty q = std::clamp(round_lot(done + left * (1.0 - x)), prev, total_);
    targets_[j] = q;
    prev = q;
  }
}

void ExecutionStrategy::begin(Context& ctx) {
  const BookView& b = ctx.book();
  ledger_.start(r_.side, b.best(Side::kBid).price, b.best(Side::kAsk).price);
  const std::string name = to_string(algo_);
  const double T = static_cast<double>(end_ns_ - start_ns_) * 1e-9;
  if (profile_) {
    anchored_ = profile_->anchored(start_ns_);
    expected_volume_ = anchored_.volume_between(start_ns_, end_ns_);
  }
  if (r_.quantity) {
    total_ = decimal_qty_to_raw(*r_.quantity, spec_, "quantity", true);
  } else {
    const double raw = *r_.volume_fraction * expected_volume_ * static_cast<double>(pow10(spec_.qty_decimals));
    total_ = round_lot(raw);
    if (total_ < lot_) {
      throw Error("strategy '" + name + "': param 'volume_fraction': " + num(*r_.volume_fraction) +
                  " of the expected volume " + num(expected_volume_) + " between start and end is less than one lot");
    }
  }
  slice_ns_ = r_.slice_s ? seconds_to_ns(*r_.slice_s) : std::max<TimestampNs>(1, std::min<TimestampNs>(
                                                                                      60'000'000'000, (end_ns_ - start_ns_) / 10));
  bounds_ = slice_boundaries(start_ns_, end_ns_, slice_ns_);
  rate_ = r_.rate ? *r_.rate : (r_.volume_fraction ? *r_.volume_fraction : 0.1);
  min_child_ = r_.min_child ? decimal_qty_to_raw(*r_.min_child, spec_, "min_child", true) : lot_;
  max_child_ = r_.max_child ? decimal_qty_to_raw(*r_.max_child, spec_, "max_child", true) : total_;
  max_child_ = std::max(max_child_, min_child_);

  // Almgren-Chriss impact defaults (AC 2001 § 4.4): a spread of price impact per 1% of the market's
  // volume rate (temporary) and per 10% of the interval's volume (permanent).
  const double spread = mprofile_.mean_spread > 0 && std::isfinite(mprofile_.mean_spread)
                            ? to_price(mprofile_.mean_spread)
                            : to_price(static_cast<double>(tick_));
  double rate_qty_s = expected_volume_ > 0 && T > 0 ? expected_volume_ / T : 0.0;
  if (!(rate_qty_s > 0)) {
    rate_qty_s = mprofile_.median_trade_qty * mprofile_.trades_per_second / static_cast<double>(pow10(spec_.qty_decimals));
  }
  if (!(rate_qty_s > 0)) rate_qty_s = spec_.qty_to_double(lot_);
  eta_ = r_.eta ? *r_.eta : spread / (0.01 * rate_qty_s);
  gamma_ = r_.gamma ? *r_.gamma : spread / (0.1 * rate_qty_s * std::max(T, 1e-9));

  profile_fallback_ = false;
  if (algo_ != ExecutionAlgo::kPov) {
    const ExecutionAlgo sched = algo_ == ExecutionAlgo::kAdaptive ? r_.schedule : algo_;
    auto f = schedule_fractions(sched);
    if (!f) {
      profile_fallback_ = true;  // the profile holds no volume in [start, end]: equal slices
      f = twap_fractions(bounds_);
    }
    targets_ = cumulative_targets(total_, lot_, *f);
  }
  slice_ = 0;
  pov_due_.assign(1, 0);
  phase_ = Phase::kRunning;
}

void ExecutionStrategy::update_urgency(Context& ctx) {
  const BookView& b = ctx.book();
  const Price bid = b.best(Side::kBid).price, ask = b.best(Side::kAsk).price;
  double vol_factor = 1.0, spread_factor = 1.0;
  const double s = sigma_now();
  if (!std::isnan(s) && s > 0) {
    sigma_sum_ += s;
    ++sigma_n_;
    vol_factor = s / (sigma_sum_ / static_cast<double>(sigma_n_));
  }
  if (bid != kNoPrice && ask != kNoPrice && ask > bid) {
    const double sp = static_cast<double>(ask - bid);
    spread_sum_ += sp;
    ++spread_n_;
    spread_factor = (spread_sum_ / static_cast<double>(spread_n_)) / sp;
  }
  urgency_ = std::clamp(vol_factor * spread_factor, 1.0 / r_.max_urgency, r_.max_urgency);
  urgency_sum_ += urgency_;
  ++urgency_n_;
}

void ExecutionStrategy::finish(Context& ctx, Phase phase) {
  for (const OrderView& o : ctx.open_orders()) {
    if (!o.cancel_pending) ctx.cancel(o.id);
  }
  phase_ = phase;
}

void ExecutionStrategy::sweep(Context& ctx) {
  Qty aggr = 0;
  const OrderView* passive = nullptr;
  const Qty comm = committed(ctx, &aggr, &passive);
  if (passive != nullptr && !passive->cancel_pending) ctx.cancel(passive->id);
  if (aggr > 0 || wait_book_) return;
  const Qty q = round_lot(static_cast<double>(total_ - ledger_.filled() - comm));
  if (q < lot_) return;
  const Price px = sweep_price(ctx, q);
  if (px == kNoPrice) return;
  send(ctx, px, q, true);
  ++sweep_retries_;
  ++crossings_;
}

void ExecutionStrategy::drive(Context& ctx) {
  if (driving_ || r_.measure_only) return;
  driving_ = true;
  struct Reset {
    bool& b;
    ~Reset() { b = false; }
  } reset{driving_};
  const TimestampNs now = ctx.now();
  if (phase_ != Phase::kWaiting && now >= end_ns_ && end_bid_ == kNoPrice) {
    end_bid_ = ctx.book().best(Side::kBid).price;
    end_ask_ = ctx.book().best(Side::kAsk).price;
  }
  if (phase_ == Phase::kDone) return;
  if (phase_ == Phase::kWaiting) {
    if (now < start_ns_) return;
    const BookView& b = ctx.book();
    const Price bid = b.best(Side::kBid).price, ask = b.best(Side::kAsk).price;
    if (bid == kNoPrice || ask == kNoPrice || ask <= bid) return;
    begin(ctx);
  }
  if (ledger_.filled() >= total_) {
    finish(ctx, Phase::kDone);
    return;
  }
  if (phase_ == Phase::kRunning && now >= end_ns_) {
    phase_ = Phase::kSweeping;
    wait_book_ = false;
  }
  if (phase_ == Phase::kSweeping) {
    if (now > end_ns_ + seconds_to_ns(r_.sweep_timeout_s)) {
      finish(ctx, Phase::kDone);
      return;
    }
    sweep(ctx);
    return;
  }
  const std::size_t n = bounds_.size() - 1;  // slices
  while (slice_ + 1 < n && now >= bounds_[slice_ + 1]) {
    ++slice_;
    wait_book_ = false;  // a new slice: cross again even if the far touch did not change
    const bool ac = algo_ == ExecutionAlgo::kAlmgrenChriss ||
                    (algo_ == ExecutionAlgo::kAdaptive && r_.schedule == ExecutionAlgo::kAlmgrenChriss);
    if (ac && !r_.sigma) {
      const double s = sigma_now();
      if (!std::isnan(s)) resolve_almgren_chriss(s, slice_);
    }
    if (algo_ == ExecutionAlgo::kPov) {
      pov_due_.push_back(std::min(total_, round_lot(rate_ * static_cast<double>(mkt_qty_))));
    }
  }

  Qty aggr = 0;
  const OrderView* passive = nullptr;
  const Qty comm = committed(ctx, &aggr, &passive);
  const Qty filled = ledger_.filled();
  const Qty room = total_ - filled - comm;
  const Qty done = filled + aggr;  // filled or being crossed

  Qty cross = 0, want = 0;
  if (algo_ == ExecutionAlgo::kPov) {
    cross = pov_due_.back() - done;
    const Qty now_target = target_at(now);
    const double elapsed = static_cast<double>(now - start_ns_) * 1e-9;
    const double flow = elapsed > 0 ? static_cast<double>(mkt_qty_) / elapsed : 0.0;  // raw qty/s
    // Expected participation until the next check (the next slice boundary).
    const Qty ahead = round_lot(rate_ * flow * static_cast<double>(bounds_[slice_ + 1] - now) * 1e-9);
    want = now_target - done + ahead;
    if (want > 0) want = std::clamp(want, min_child_, max_child_);
  } else if (algo_ == ExecutionAlgo::kAdaptive) {
    const Qty behind = target_at(now) - done;
    const double slice_qty = static_cast<double>(total_) / static_cast<double>(n);
    const double threshold = r_.behind_threshold * slice_qty / urgency_;
    cross = static_cast<double>(behind) > threshold ? behind : 0;
    want = targets_[slice_ + 1] - done;
  } else {
    cross = targets_[slice_] - done;
    want = targets_[slice_ + 1] - done;
  }

  if (cross >= lot_) {
    if (passive != nullptr && !passive->cancel_pending) ctx.cancel(passive->id);
    if (aggr > 0 || wait_book_) return;
    Qty q = std::min(cross, room);
    if (algo_ == ExecutionAlgo::kPov) q = std::min(q, max_child_);
    q = round_lot(static_cast<double>(q));
    const Price px = far_touch(ctx);
    if (q >= lot_ && px != kNoPrice) {
      send(ctx, px, q, true);
      ++crossings_;
    }
    return;
  }

  want = round_lot(static_cast<double>(std::min(want, total_ - done)));
  const BookView& b = ctx.book();
  const Price bid = b.best(Side::kBid).price, ask = b.best(Side::kAsk).price;
  if (bid == kNoPrice || ask == kNoPrice || ask <= bid) {
    return;  // one-sided or crossed local book: leave orders as they are
  }
  Price px = r_.side == Side::kBid ? bid : ask;
  if (algo_ == ExecutionAlgo::kAdaptive && urgency_ >= 1.5 && ask - bid >= 2 * tick_) {
    px += side_sign(r_.side) * tick_;  // urgent: one tick inside the spread, still passive
  }
  const Qty min_size = algo_ == ExecutionAlgo::kPov ? min_child_ : lot_;
  if (passive != nullptr) {
    if (passive->status == exchange::OrderStatus::kPendingNew || passive->modify_pending ||
        passive->cancel_pending) {
      return;
    }
    if (want < min_size) {
      ctx.cancel(passive->id);
      return;
    }
    const bool moved_away = r_.side == Side::kBid ? px > passive->price : px < passive->price;
    const Qty leaves = passive->leaves;
    const Qty tolerance = std::max(lot_, round_lot(static_cast<double>(want) / 4.0));
    if (leaves > want || moved_away || want - leaves >= tolerance) {
      const Qty new_leaves = std::min(want, leaves + std::max<Qty>(0, room));
      const Price new_px = moved_away ? px : passive->price;
      if (new_leaves != leaves || new_px != passive->price) {
        children_[passive->id].requested = passive->filled + new_leaves;
        ctx.modify(passive->id, new_px, passive->filled + new_leaves);
        ++modifies_;
      }
    }
    return;
  }
  if (passive_wait_) return;
  want = std::min(want, round_lot(static_cast<double>(room)));
  if (want >= min_size) send(ctx, px, want, false);
}

// ---------------------------------------------------------------------------------------------
// Callbacks

void ExecutionStrategy::on_start(Context& ctx) {
  first_ns_ = ctx.now();
  last_ns_ = first_ns_;
  if (r_.measure_only) {
    measure_day_ = utc_midnight_ns(first_ns_);
    return;
  }
  const std::string name = to_string(algo_);
  const auto resolve = [&](const ExecutionTime& t) -> TimestampNs {
    switch (t.kind) {
      case ExecutionTime::Kind::kAbsolute: return t.abs_ns;
      case ExecutionTime::Kind::kRelative: return first_ns_ + seconds_to_ns(t.rel_s);
      default: return kNoTimestamp;
    }
  };
  start_ns_ = resolve(r_.start);
  if (start_ns_ == kNoTimestamp) start_ns_ = first_ns_;
  end_ns_ = resolve(r_.end);
  if (end_ns_ == kNoTimestamp) {
    const VolumeProfile a = profile_->anchored(start_ns_);
    end_ns_ = a.origin_ns + static_cast<TimestampNs>(a.volume.size()) * a.bucket_ns;
  }
  if (end_ns_ <= start_ns_) {
    throw Error("strategy '" + name + "': param 'end': resolved end " + std::to_string(end_ns_) +
                " ns is not after the start " + std::to_string(start_ns_) + " ns");
  }
  drive(ctx);
}

void ExecutionStrategy::on_book_update(Context& ctx) {
  last_ns_ = ctx.now();
  if (r_.measure_only) return;
  if (!r_.sigma) {
    const double m = ctx.book().mid();
    if (!std::isnan(m)) vol_.update(ctx.now(), to_price(m));
  }
  if (wait_book_) {
    const book::Level far = ctx.book().best(opposite(r_.side));
    if (far.price != wait_far_.price || far.qty != wait_far_.qty) wait_book_ = false;
  }
  passive_wait_ = false;
  drive(ctx);
}

void ExecutionStrategy::on_trade(Context& ctx, const TradeView& t) {
  const TimestampNs now = ctx.now();
  last_ns_ = now;
  if (r_.measure_only) {
    const TimestampNs b = seconds_to_ns(r_.profile_bucket_s);
    const auto i = static_cast<std::size_t>(std::max<TimestampNs>(0, floor_div(now - measure_day_, b)));
    if (i >= measured_.size()) measured_.resize(i + 1, 0);
    measured_[i] += t.qty;
    measured_total_ += t.qty;
    measured_notional_ += static_cast<__int128>(t.price) * t.qty;
    ++measured_trades_;
    return;
  }
  if (phase_ != Phase::kWaiting && now >= start_ns_ && now <= end_ns_ && t.price != kNoPrice) {
    mkt_qty_ += t.qty;
    mkt_notional_ += static_cast<__int128>(t.price) * t.qty;
    ++mkt_trades_;
  }
  drive(ctx);
}

void ExecutionStrategy::hold_crossing(Context& ctx) {
  wait_book_ = true;
  wait_far_ = ctx.book().best(opposite(r_.side));
}

void ExecutionStrategy::on_order_update(Context& ctx, const OrderUpdate& u) {
  last_ns_ = ctx.now();
  const auto it = children_.find(u.order_id);
  const bool aggressive = it != children_.end() && it->second.aggressive;
  switch (u.kind) {
    case exchange::OrderEventKind::kRejected:
      ++rejects_;
      if (u.status == exchange::OrderStatus::kRejected) {
        if (aggressive) {
          hold_crossing(ctx);
        } else {
          passive_wait_ = true;
        }
      } else if (it != children_.end()) {
        it->second.requested = u.qty;  // a rejected modify or cancel: the order is as it was
      }
      break;
    case exchange::OrderEventKind::kCanceled:
      if (aggressive && u.filled < u.qty) hold_crossing(ctx);
      break;
    case exchange::OrderEventKind::kModified:
      if (it != children_.end()) it->second.requested = u.qty;
      break;
    default: break;
  }
  if (u.kind == exchange::OrderEventKind::kFilled) return;  // on_fill follows and drives
  drive(ctx);
}

void ExecutionStrategy::on_fill(Context& ctx, const Fill& f) {
  last_ns_ = ctx.now();
  if (children_.count(f.order_id) == 0) return;
  ledger_.add(f);
  last_fill_ns_ = std::max(last_fill_ns_, f.exch_ts_ns);
  drive(ctx);
}

void ExecutionStrategy::on_timer(Context& ctx) {
  last_ns_ = ctx.now();
  if (r_.measure_only) return;
  if (!r_.sigma) vol_.advance(ctx.now());
  if (algo_ == ExecutionAlgo::kAdaptive && phase_ == Phase::kRunning) update_urgency(ctx);
  drive(ctx);
}

void ExecutionStrategy::on_end(Context& ctx) {
  last_ns_ = ctx.now();
  if (end_bid_ == kNoPrice) {  // the data ended before `end`
    end_bid_ = ctx.book().best(Side::kBid).price;
    end_ask_ = ctx.book().best(Side::kAsk).price;
  }
}

// ---------------------------------------------------------------------------------------------
// Report

namespace {

ParamValue time_value(const ExecutionTime& t) {
  switch (t.kind) {
    case ExecutionTime::Kind::kAbsolute: return ParamValue(std::int64_t{t.abs_ns});
    case ExecutionTime::Kind::kRelative: {
      std::string r(1, '+');
      r += num(t.rel_s);
      return ParamValue(std::move(r));
    }
    default: return ParamValue(std::string("auto"));
  }
}

ParamValue opt_value(const std::optional<double>& v) {
  return v ? ParamValue(*v) : ParamValue(std::string("auto"));
}

}  // namespace

Params ExecutionStrategy::resolved_params() const {
  Params p;
  const bool started = phase_ != Phase::kWaiting;
  p["side"] = std::string(r_.side == Side::kAsk ? "sell" : (r_.side == Side::kBid ? "buy" : "auto"));
  p["quantity"] = opt_value(r_.quantity);
  p["volume_fraction"] = opt_value(r_.volume_fraction);
  if (start_ns_ != kNoTimestamp) {
    p["start"] = std::int64_t{start_ns_};
    p["end"] = std::int64_t{end_ns_};
  } else {
    p["start"] = time_value(r_.start);
    p["end"] = time_value(r_.end);
  }
  p["slice_s"] = r_.slice_s ? ParamValue(*r_.slice_s)
                            : (started ? ParamValue(static_cast<double>(slice_ns_) / 1e9) : ParamValue(std::string("auto")));
  p["profile"] = r_.profile_path;
  p["profile_in_sample"] = r_.profile_in_sample;
  p["post_only"] = r_.post_only;
  p["sweep_timeout_s"] = r_.sweep_timeout_s;
  p["measure_only"] = r_.measure_only;
  p["profile_bucket_s"] = r_.profile_bucket_s;
  const auto qty_value = [&](const std::optional<double>& given, Qty resolved) {
    if (given) return ParamValue(*given);
    return started ? ParamValue(spec_.qty_to_double(resolved)) : ParamValue(std::string("auto"));
  };
  if (algo_ == ExecutionAlgo::kPov) {
    p["rate"] = r_.rate ? ParamValue(*r_.rate) : (started ? ParamValue(rate_) : ParamValue(std::string("auto")));
    p["min_child"] = qty_value(r_.min_child, min_child_);
    p["max_child"] = qty_value(r_.max_child, max_child_);
  }
  if (algo_ == ExecutionAlgo::kAlmgrenChriss || algo_ == ExecutionAlgo::kAdaptive) {
    p["lambda"] = r_.lambda;
    p["sigma"] = opt_value(r_.sigma);
    p["eta"] = r_.eta ? ParamValue(*r_.eta) : (started ? ParamValue(eta_) : ParamValue(std::string("auto")));
    p["gamma"] = r_.gamma ? ParamValue(*r_.gamma) : (started ? ParamValue(gamma_) : ParamValue(std::string("auto")));
    p["vol_window_s"] = r_.vol_window_s;
    p["vol_sample_ms"] = r_.vol_sample_ms;
  }
  if (algo_ == ExecutionAlgo::kAdaptive) {
    p["schedule"] = std::string(to_string(r_.schedule));
    p["behind_threshold"] = r_.behind_threshold;
    p["max_urgency"] = r_.max_urgency;
  }
  return p;
}

Params ExecutionStrategy::summary() const {
  Params s;
  s["algorithm"] = std::string(to_string(algo_));
  const double qscale = static_cast<double>(pow10(spec_.qty_decimals));
  const double pscale = static_cast<double>(pow10(spec_.price_decimals));
  if (r_.measure_only) {
    // The in-sample pre-pass: trade-print volume per bucket since 00:00 UTC of the first event.
    s["measure_only"] = true;
    s["first_ts_ns"] = std::int64_t{first_ns_};
    s["last_ts_ns"] = std::int64_t{last_ns_};
    s["profile_bucket_s"] = r_.profile_bucket_s;
    s["market_volume"] = static_cast<double>(measured_total_) / qscale;
    s["market_trades"] = static_cast<std::int64_t>(measured_trades_);
    s["market_vwap"] = measured_total_ > 0 ? i128_to_double(measured_notional_) / static_cast<double>(measured_total_) / pscale
                                           : kNaN;
    std::string csv = "time_s,volume\n";
    const TimestampNs b = seconds_to_ns(r_.profile_bucket_s);
    if (first_ns_ != kNoTimestamp) {
      // Every bucket from the first event's to the last event's (at least two rows: the
      // spacing is the bucket).
      const TimestampNs lo = floor_div(first_ns_ - measure_day_, b);
      const TimestampNs hi = std::max(lo + 1, floor_div(last_ns_ - measure_day_, b));
      for (TimestampNs i = lo; i <= hi; ++i) {
        const auto u = static_cast<std::size_t>(i);
        csv += num(static_cast<double>(i * b) * 1e-9);
        csv += ',';
        append_decimal(csv, u < measured_.size() ? measured_[u] : 0, spec_.qty_decimals, spec_.qty_decimals);
        csv += '\n';
      }
    }
    s["profile_csv"] = csv;
    return s;
  }
  const int sg = side_sign(r_.side);
  const bool started = phase_ != Phase::kWaiting;
  const Qty filled = ledger_.filled();
  s["side"] = std::string(r_.side == Side::kBid ? "buy" : "sell");
  s["start_ns"] = std::int64_t{start_ns_ == kNoTimestamp ? 0 : start_ns_};
  s["end_ns"] = std::int64_t{end_ns_ == kNoTimestamp ? 0 : end_ns_};
  s["target_qty"] = static_cast<double>(total_) / qscale;
  s["filled_qty"] = static_cast<double>(filled) / qscale;
  s["completion_pct"] = total_ > 0 ? 100.0 * static_cast<double>(filled) / static_cast<double>(total_) : 0.0;
  s["finish_delay_s"] =
      last_fill_ns_ != kNoTimestamp && end_ns_ != kNoTimestamp && last_fill_ns_ > end_ns_
          ? static_cast<double>(last_fill_ns_ - end_ns_) * 1e-9
          : 0.0;
  const double p0 = started ? static_cast<double>(ledger_.arrival_x2()) / 2.0 / pscale : kNaN;
  s["arrival_mid"] = p0;
  s["avg_price"] = filled > 0 ? i128_to_double(ledger_.notional()) / static_cast<double>(filled) / pscale : kNaN;
  s["is_bps"] = ledger_.to_bps(ledger_.is_x2());
  s["spread_bps"] = ledger_.to_bps(ledger_.spread_x2());
  s["impact_bps"] = ledger_.to_bps(ledger_.impact_x2());
  s["timing_bps"] = ledger_.to_bps(ledger_.timing_x2());
  s["is_currency"] = ShortfallLedger::to_currency(ledger_.is_x2(), spec_);
  s["spread_currency"] = ShortfallLedger::to_currency(ledger_.spread_x2(), spec_);
  s["impact_currency"] = ShortfallLedger::to_currency(ledger_.impact_x2(), spec_);
  s["timing_currency"] = ShortfallLedger::to_currency(ledger_.timing_x2(), spec_);
  const double fees = exchange::money_to_double(ledger_.fees(), spec_);
  s["fees_currency"] = fees;
  const double notional0 = p0 * static_cast<double>(filled) / qscale * spec_.multiplier();
  s["fees_bps"] = filled > 0 && notional0 > 0 ? fees / notional0 * 1e4 : 0.0;
  double opp = 0;
  if (started && end_bid_ != kNoPrice && end_ask_ != kNoPrice) {
    const double end_mid = 0.5 * static_cast<double>(end_bid_ + end_ask_) / pscale;
    s["end_mid"] = end_mid;
    opp = sg * (end_mid - p0) * static_cast<double>(total_ - filled) / qscale * spec_.multiplier();
  } else {
    s["end_mid"] = kNaN;
  }
  s["opportunity_cost_currency"] = opp;
  const double vwap = mkt_qty_ > 0 ? i128_to_double(mkt_notional_) / static_cast<double>(mkt_qty_) / pscale : kNaN;
  s["market_vwap"] = vwap;
  s["market_volume"] = static_cast<double>(mkt_qty_) / qscale;
  s["market_trades"] = static_cast<std::int64_t>(mkt_trades_);
  const double avg = filled > 0 ? i128_to_double(ledger_.notional()) / static_cast<double>(filled) / pscale : kNaN;
  s["vwap_slippage_bps"] = filled > 0 && mkt_qty_ > 0 ? sg * (avg - vwap) / vwap * 1e4 : kNaN;
  s["participation_pct"] = mkt_qty_ > 0 ? 100.0 * static_cast<double>(filled) / static_cast<double>(mkt_qty_) : 0.0;
  s["expected_market_volume"] = expected_volume_;
  s["profile"] = std::string(!profile_ ? "none" : (r_.profile_in_sample ? "in-sample" : "file"));
  s["profile_fallback"] = profile_fallback_;
  s["child_orders"] = static_cast<std::int64_t>(child_orders_);
  s["passive_orders"] = static_cast<std::int64_t>(passive_orders_);
  s["aggressive_orders"] = static_cast<std::int64_t>(aggressive_orders_);
  s["modifies"] = static_cast<std::int64_t>(modifies_);
  s["rejects"] = static_cast<std::int64_t>(rejects_);
  s["fills"] = static_cast<std::int64_t>(ledger_.fills());
  s["fills_without_mid"] = static_cast<std::int64_t>(ledger_.fills_without_mid());
  const double pf = filled > 0 ? static_cast<double>(ledger_.maker_filled()) / static_cast<double>(filled) : 0.0;
  s["passive_fill_share"] = pf;
  s["aggressive_fill_share"] = filled > 0 ? 1.0 - pf : 0.0;
  s["slices"] = static_cast<std::int64_t>(bounds_.empty() ? 0 : bounds_.size() - 1);
  s["slice_s"] = static_cast<double>(slice_ns_) / 1e9;
  s["crossings"] = static_cast<std::int64_t>(crossings_);
  if (algo_ == ExecutionAlgo::kPov) s["rate"] = rate_;
  if (algo_ == ExecutionAlgo::kAlmgrenChriss ||
      (algo_ == ExecutionAlgo::kAdaptive && r_.schedule == ExecutionAlgo::kAlmgrenChriss)) {
    s["kappa"] = kappa_;
    s["kappa_T"] = kappa_ * (end_ns_ != kNoTimestamp ? static_cast<double>(end_ns_ - start_ns_) * 1e-9 : 0.0);
    s["sigma"] = sigma_used_;
    s["eta"] = eta_;
    s["gamma"] = gamma_;
    s["kappa_updates"] = static_cast<std::int64_t>(kappa_updates_);
  }
  if (algo_ == ExecutionAlgo::kAdaptive) {
    s["urgency_mean"] = urgency_n_ > 0 ? urgency_sum_ / static_cast<double>(urgency_n_) : 1.0;
  }
  return s;
}

// =============================================================================================
// Factory

namespace {

const char* type_name(const ParamValue& v) {
  switch (v.index()) {
    case 0: return "bool";
    case 1: return "integer";
    case 2: return "number";
    default: return "string";
  }
}

// Typed parameter reads remembering every name asked for, so that the unknown-name error lists
// exactly the parameters the algorithm accepts (the same contract as make_strategy's readers).
class Reader {
 public:
  Reader(std::string_view strategy, const Params& params) : strategy_(strategy), params_(params) {}

  std::optional<double> number(std::string_view name) {
    const ParamValue* v = find(name);
    if (!v) return std::nullopt;
    if (const auto* d = std::get_if<double>(v)) return *d;
    if (const auto* i = std::get_if<std::int64_t>(v)) return static_cast<double>(*i);
    if (const auto* s = std::get_if<std::string>(v); s && *s == "auto") return std::nullopt;
    wrong_type(name, *v, "a number (or \"auto\")");
  }
  std::optional<bool> boolean(std::string_view name) {
    const ParamValue* v = find(name);
    if (!v) return std::nullopt;
    if (const auto* b = std::get_if<bool>(v)) return *b;
    wrong_type(name, *v, "a bool");
  }
  std::optional<std::string> string(std::string_view name) {
    const ParamValue* v = find(name);
    if (!v) return std::nullopt;
    if (const auto* s = std::get_if<std::string>(v)) {
      if (*s == "auto") return std::nullopt;
      return *s;
    }
    wrong_type(name, *v, "a string");
  }
  ExecutionTime time(std::string_view name) {
    ExecutionTime t;
    const ParamValue* v = find(name);
    if (!v) return t;
    if (const auto* i = std::get_if<std::int64_t>(v)) {
      t.kind = ExecutionTime::Kind::kAbsolute;
      t.abs_ns = *i;
      return t;
    }
    if (const auto* d = std::get_if<double>(v); d && std::isfinite(*d) && std::floor(*d) == *d) {
      t.kind = ExecutionTime::Kind::kAbsolute;
      t.abs_ns = static_cast<TimestampNs>(*d);
      return t;
    }
    if (const auto* s = std::get_if<std::string>(v)) {
      if (*s == "auto") return t;
      double x = 0;
      if (s->size() > 1 && s->front() == '+' && parse_double(std::string_view(*s).substr(1), x)) {
        t.kind = ExecutionTime::Kind::kRelative;
        t.rel_s = x;
        return t;
      }
    }
    wrong_type(name, *v, "ns since the epoch (integer), \"+S\" (seconds after the first event) or \"auto\"");
  }

  void finish() const {
    for (const auto& [name, value] : params_) {
      if (asked_.count(name) != 0) continue;
      std::string m = "strategy '" + std::string(strategy_) + "': unknown param '" + name + "'; accepted params: ";
      for (std::size_t i = 0; i < order_.size(); ++i) m += (i ? ", " : "") + order_[i];
      throw Error(m);
    }
  }

 private:
  const ParamValue* find(std::string_view name) {
    if (asked_.emplace(name).second) order_.emplace_back(name);
    const auto it = params_.find(name);
    return it == params_.end() ? nullptr : &it->second;
  }
  [[noreturn]] void wrong_type(std::string_view name, const ParamValue& v, const char* expected) {
    std::string got = type_name(v);
    if (const auto* s = std::get_if<std::string>(&v)) got += " '" + *s + "'";
    throw_param_error(strategy_, name, std::string("expected ") + expected + ", got " + got);
  }

  std::string_view strategy_;
  const Params& params_;
  std::set<std::string, std::less<>> asked_;
  std::vector<std::string> order_;
};

}  // namespace

std::unique_ptr<Strategy> make_execution_strategy(const std::string& name, const Params& params,
                                                  const InstrumentSpec& spec, const MarketProfile& profile) {
  const auto algo = execution_algo(name);
  if (!algo) throw Error("unknown execution strategy '" + name + "'");
  Reader r(name, params);
  ExecutionParams p;
  p.side = r.string("side");
  p.quantity = r.number("quantity");
  p.volume_fraction = r.number("volume_fraction");
  p.start = r.time("start");
  p.end = r.time("end");
  p.slice_s = r.number("slice_s");
  p.profile = r.string("profile");
  p.profile_in_sample = r.boolean("profile_in_sample");
  p.post_only = r.boolean("post_only");
  p.sweep_timeout_s = r.number("sweep_timeout_s");
  p.measure_only = r.boolean("measure_only");
  p.profile_bucket_s = r.number("profile_bucket_s");
  if (*algo == ExecutionAlgo::kPov) {
    p.rate = r.number("rate");
    p.min_child = r.number("min_child");
    p.max_child = r.number("max_child");
  }
  if (*algo == ExecutionAlgo::kAlmgrenChriss || *algo == ExecutionAlgo::kAdaptive) {
    p.lambda = r.number("lambda");
    p.sigma = r.number("sigma");
    p.eta = r.number("eta");
    p.gamma = r.number("gamma");
    p.vol_window_s = r.number("vol_window_s");
    p.vol_sample_ms = r.number("vol_sample_ms");
  }
  if (*algo == ExecutionAlgo::kAdaptive) {
    p.schedule = r.string("schedule");
    p.behind_threshold = r.number("behind_threshold");
    p.max_urgency = r.number("max_urgency");
  }
  r.finish();
  return std::make_unique<ExecutionStrategy>(*algo, p, spec, profile);
}

}  // namespace mmkit::strategy
