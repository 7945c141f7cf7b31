// Cross-asset hedging (contract: mmkit/strategy/hedge.h; docs/hedging.md).
#include "mmkit/strategy/hedge.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <variant>

#include "mmkit/core/error.h"

namespace mmkit::strategy {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double number(const Params& p, const char* key, double def) {
  const auto it = p.find(key);
  if (it == p.end()) return def;
  if (const auto* d = std::get_if<double>(&it->second)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&it->second)) return static_cast<double>(*i);
  throw Error(std::string("hedge parameter ") + key + " must be a number");
}

double non_negative(const Params& p, const char* key, double def) {
  const double v = number(p, key, def);
  if (!(v >= 0) || !std::isfinite(v)) throw Error(std::string("hedge parameter ") + key + " must be a finite number >= 0");
  return v;
}

TimestampNs ms_to_ns(double ms) { return static_cast<TimestampNs>(std::llround(ms * 1e6)); }

double local_mid(const Context& c) {
  const double m = c.book().mid();
  return std::isfinite(m) ? c.instrument().price_to_double(1) * m : kNaN;
}

/// Writes the leg's state as of c.now(); the mid is kept from before when the book is one-sided.
void publish_leg(LegState& s, const Context& c) {
  s.ts_ns = c.now();
  s.position = c.instrument().qty_to_double(c.position());
  s.multiplier = c.instrument().multiplier();
  const double m = local_mid(c);
  if (std::isfinite(m)) s.mid = m;
  s.valid = s.mid > 0;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// RollingBeta

void RollingBeta::add(double x, double y) {
  xs_.push_back(x);
  ys_.push_back(y);
  if (window_ > 0 && count() > window_) ++head_;
  if (head_ > 4096 && head_ * 2 > xs_.size()) {
    xs_.erase(xs_.begin(), xs_.begin() + static_cast<std::ptrdiff_t>(head_));
    ys_.erase(ys_.begin(), ys_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

void RollingBeta::add_mids(double mid_x, double mid_y) {
  if (!(mid_x > 0) || !(mid_y > 0) || !std::isfinite(mid_x) || !std::isfinite(mid_y)) {
    have_last_ = false;
    return;
  }
  if (have_last_) add(std::log(mid_x / last_x_), std::log(mid_y / last_y_));
  last_x_ = mid_x;
  last_y_ = mid_y;
  have_last_ = true;
}

RollingBeta::Moments RollingBeta::moments() const {
  Moments m;
  m.n = count();
  if (m.n < 2) return m;
  double sx = 0, sy = 0;
  for (std::size_t i = head_; i < xs_.size(); ++i) {
    sx += xs_[i];
    sy += ys_[i];
  }
  const double n = static_cast<double>(m.n);
  const double mx = sx / n, my = sy / n;
  for (std::size_t i = head_; i < xs_.size(); ++i) {
    const double dx = xs_[i] - mx, dy = ys_[i] - my;
    m.cov += dx * dy;
    m.vx += dx * dx;
    m.vy += dy * dy;
  }
  m.cov /= n - 1;
  m.vx /= n - 1;
  m.vy /= n - 1;
  return m;
}

double RollingBeta::beta() const {
  const Moments m = moments();
  return m.n >= 2 && m.vy > 0 ? m.cov / m.vy : kNaN;
}

double RollingBeta::correlation() const {
  const Moments m = moments();
  return m.n >= 2 && m.vx > 0 && m.vy > 0 ? m.cov / std::sqrt(m.vx * m.vy) : kNaN;
}

double RollingBeta::covariance() const {
  const Moments m = moments();
  return m.n >= 2 ? m.cov : kNaN;
}
double RollingBeta::variance_x() const {
  const Moments m = moments();
  return m.n >= 2 ? m.vx : kNaN;
}
double RollingBeta::variance_y() const {
  const Moments m = moments();
  return m.n >= 2 ? m.vy : kNaN;
}

// ---------------------------------------------------------------------------------------------
// PublishingStrategy

PublishingStrategy::PublishingStrategy(std::unique_ptr<Strategy> inner, std::shared_ptr<SharedState> state,
                                       std::size_t leg)
    : inner_(std::move(inner)), state_(std::move(state)), leg_(leg) {
  if (!inner_) throw Error("PublishingStrategy: no strategy");
  if (!state_) throw Error("PublishingStrategy: no shared state");
  if (state_->legs.size() <= leg_) state_->legs.resize(leg_ + 1);
}

void PublishingStrategy::publish(Context& c) { publish_leg(state_->legs[leg_], c); }

void PublishingStrategy::on_start(Context& c) {
  inner_->on_start(c);
  publish(c);
}
void PublishingStrategy::on_book_update(Context& c) {
  inner_->on_book_update(c);
  publish(c);
}
void PublishingStrategy::on_trade(Context& c, const TradeView& t) {
  inner_->on_trade(c, t);
  publish(c);
}
void PublishingStrategy::on_order_update(Context& c, const OrderUpdate& u) {
  inner_->on_order_update(c, u);
  publish(c);
}
void PublishingStrategy::on_fill(Context& c, const Fill& f) {
  inner_->on_fill(c, f);
  publish(c);
}
void PublishingStrategy::on_timer(Context& c) {
  inner_->on_timer(c);
  publish(c);
}
void PublishingStrategy::on_end(Context& c) {
  inner_->on_end(c);
  publish(c);
}

// ---------------------------------------------------------------------------------------------
// Hedger

HedgeParams hedge_params(const Params& p) {
  static const char* const kKeys[] = {"follow",        "return_interval_ms", "window",          "min_returns",
                                      "beta_prior",    "fixed_beta",         "band_notional",   "min_interval_ms",
                                      "style",         "passive_timeout_ms", "max_order_qty",   "self"};
  for (const auto& [k, v] : p) {
    if (std::find_if(std::begin(kKeys), std::end(kKeys), [&](const char* x) { return k == x; }) == std::end(kKeys)) {
      std::string known;
      for (const char* x : kKeys) known += std::string(known.empty() ? "" : ", ") + x;
      throw Error("unknown hedge parameter '" + k + "' (known: " + known + ")");
    }
  }
  HedgeParams h;
  h.follow = static_cast<std::size_t>(non_negative(p, "follow", 0));
  h.self = static_cast<std::size_t>(non_negative(p, "self", 1));
  if (h.follow == h.self) throw Error("hedge parameters: follow and self must be different legs");
  h.return_interval_ns = ms_to_ns(non_negative(p, "return_interval_ms", 1000));
  if (h.return_interval_ns <= 0) throw Error("hedge parameter return_interval_ms must be > 0");
  h.window = static_cast<std::size_t>(non_negative(p, "window", 300));
  if (h.window < 2) throw Error("hedge parameter window must be >= 2 returns");
  h.min_returns = static_cast<std::size_t>(non_negative(p, "min_returns", 30));
  h.min_returns = std::max<std::size_t>(h.min_returns, 2);
  h.beta_prior = non_negative(p, "beta_prior", 1.0);
  h.fixed_beta = non_negative(p, "fixed_beta", 0.0);
  h.band_notional = non_negative(p, "band_notional", 1000.0);
  h.min_interval_ns = ms_to_ns(non_negative(p, "min_interval_ms", 1000));
  h.passive_timeout_ns = ms_to_ns(non_negative(p, "passive_timeout_ms", 5000));
  h.max_order_qty = non_negative(p, "max_order_qty", 0.0);
  if (const auto it = p.find("style"); it != p.end()) {
    const auto* s = std::get_if<std::string>(&it->second);
    if (s == nullptr || (*s != "ioc" && *s != "passive")) {
      throw Error("hedge parameter style must be \"ioc\" or \"passive\"");
    }
    h.style = *s == "ioc" ? HedgeStyle::kIoc : HedgeStyle::kPassive;
  }
  return h;
}

double hedge_target(double beta, double q1, double p1, double m1, double p2, double m2) noexcept {
  if (!(p2 > 0) || !(m2 > 0)) return 0;
  return -beta * (q1 * p1 * m1) / (p2 * m2);
}

bool outside_band(double q2, double target, double p2, double m2, double band_notional) noexcept {
  return std::fabs(q2 - target) * p2 * m2 > band_notional;
}

Hedger::Hedger(HedgeParams params, std::shared_ptr<SharedState> state)
    : p_(params), state_(std::move(state)), rolling_(params.window) {
  if (!state_) throw Error("Hedger: no shared state");
  const std::size_t need = std::max(p_.follow, p_.self) + 1;
  if (state_->legs.size() < need) state_->legs.resize(need);
}

double Hedger::current_beta() const {
  if (p_.fixed_beta > 0) return p_.fixed_beta;
  if (rolling_.count() < p_.min_returns) return p_.beta_prior;
  const double b = rolling_.beta();
  return std::isfinite(b) ? b : p_.beta_prior;
}

void Hedger::publish(Context& c) { publish_leg(state_->legs[p_.self], c); }

void Hedger::on_start(Context& c) {
  next_sample_ = c.now();
  tick(c);
}

void Hedger::on_fill(Context& c, const Fill& f) {
  hedge_qty_ += c.instrument().qty_to_double(f.qty);
  publish(c);
}

void Hedger::tick(Context& c) {
  publish(c);
  const TimestampNs now = c.now();
  const LegState& lead = state_->legs[p_.follow];
  const LegState& self = state_->legs[p_.self];
  if (next_sample_ != kNoTimestamp && now >= next_sample_) {
    if (lead.valid && self.valid) {
      rolling_.add_mids(lead.mid, self.mid);
      full_.add_mids(lead.mid, self.mid);
    }
    next_sample_ += ((now - next_sample_) / p_.return_interval_ns + 1) * p_.return_interval_ns;
  }
  if (!lead.valid || !self.valid) return;

  const InstrumentSpec& spec = c.instrument();
  // At most one hedge order: wait for it (IOC), or cancel it after the timeout (passive).
  const auto open = c.open_orders();
  if (!open.empty()) {
    if (p_.style == HedgeStyle::kPassive && !cancel_sent_ && open_since_ != kNoTimestamp &&
        now - open_since_ >= p_.passive_timeout_ns) {
      for (const OrderView& v : open) {
        if (!v.cancel_pending) c.cancel(v.id);
      }
      cancel_sent_ = true;
    }
    return;
  }
  open_id_ = 0;
  cancel_sent_ = false;
  open_since_ = kNoTimestamp;

  const double beta = current_beta();
  const double target = hedge_target(beta, lead.position, lead.mid, lead.multiplier, self.mid, self.multiplier);
  last_target_ = target;
  if (!outside_band(self.position, target, self.mid, self.multiplier, p_.band_notional)) return;
  if (last_order_ts_ != kNoTimestamp && now - last_order_ts_ < p_.min_interval_ns) return;

  double want = target - self.position;
  if (p_.max_order_qty > 0) want = std::clamp(want, -p_.max_order_qty, p_.max_order_qty);
  const double lot = spec.qty_to_double(spec.lot_size);
  const auto lots = static_cast<Qty>(std::floor(std::fabs(want) / lot + 1e-9));
  if (lots <= 0) return;
  const Side side = want > 0 ? Side::kBid : Side::kAsk;
  OrderRequest r;
  r.side = side;
  r.qty = lots * spec.lot_size;
  r.type = exchange::OrderType::kLimit;
  const BookView& b = c.book();
  if (p_.style == HedgeStyle::kIoc) {
    r.price = b.best(opposite(side)).price;
    r.tif = exchange::TimeInForce::kIoc;
  } else {
    r.price = b.best(side).price;
    r.tif = exchange::TimeInForce::kPostOnly;
  }
  if (r.price == kNoPrice) return;
  beta_sum_ += beta;
  ++beta_n_;
  open_id_ = c.submit(r);
  open_since_ = now;
  last_order_ts_ = now;
  ++orders_;
}

Params Hedger::resolved_params() const {
  Params p;
  p["follow"] = static_cast<std::int64_t>(p_.follow);
  p["return_interval_ms"] = static_cast<double>(p_.return_interval_ns) / 1e6;
  p["window"] = static_cast<std::int64_t>(p_.window);
  p["min_returns"] = static_cast<std::int64_t>(p_.min_returns);
  p["beta_prior"] = p_.beta_prior;
  p["fixed_beta"] = p_.fixed_beta;
  p["band_notional"] = p_.band_notional;
  p["min_interval_ms"] = static_cast<double>(p_.min_interval_ns) / 1e6;
  p["style"] = std::string(p_.style == HedgeStyle::kIoc ? "ioc" : "passive");
  p["passive_timeout_ms"] = static_cast<double>(p_.passive_timeout_ns) / 1e6;
  p["max_order_qty"] = p_.max_order_qty;
  return p;
}

Params Hedger::summary() const {
  Params s;
  s["beta_last"] = rolling_.beta();
  s["correlation_last"] = rolling_.correlation();
  s["beta_full"] = full_.beta();
  s["correlation_full"] = full_.correlation();
  s["returns"] = static_cast<std::int64_t>(full_.count());
  s["beta_mean"] = beta_n_ > 0 ? beta_sum_ / static_cast<double>(beta_n_) : kNaN;
  s["hedge_orders"] = static_cast<std::int64_t>(orders_);
  s["hedge_qty"] = hedge_qty_;
  return s;
}

}  // namespace mmkit::strategy
