#include "mmkit/strategy/spread_quoter.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "mmkit/core/decimal.h"
#include "mmkit/core/error.h"

namespace mmkit::strategy {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Grid rounding of a real-valued raw price; the epsilon absorbs the representation error of
// values that are mathematically on the grid (e.g. 100.99999999999999 ticks).
bool floor_to_tick(double x, Price tick, Price& out) noexcept {
  const double t = std::floor(x / static_cast<double>(tick) + 1e-9);
  if (!std::isfinite(t) || std::fabs(t) > 9.0e15 / static_cast<double>(tick)) return false;
  out = static_cast<Price>(t) * tick;
  return true;
}
bool ceil_to_tick(double x, Price tick, Price& out) noexcept {
  const double t = std::ceil(x / static_cast<double>(tick) - 1e-9);
  if (!std::isfinite(t) || std::fabs(t) > 9.0e15 / static_cast<double>(tick)) return false;
  out = static_cast<Price>(t) * tick;
  return true;
}

bool is_risk_reject(exchange::RejectReason r) noexcept {
  using exchange::RejectReason;
  return r == RejectReason::kRiskMaxPosition || r == RejectReason::kRiskMaxOrderSize ||
         r == RejectReason::kRiskMaxOpenOrders || r == RejectReason::kRiskMaxNotional;
}

int side_index(Side s) noexcept { return static_cast<int>(s); }

}  // namespace

void throw_param_error(std::string_view strategy, std::string_view param, std::string_view what) {
  std::string m = "strategy '";
  m += strategy;
  m += "': param '";
  m += param;
  m += "': ";
  m += what;
  throw Error(m);
}

double require_positive(double value, std::string_view strategy, std::string_view param,
                        bool strict) {
  if (!std::isfinite(value) || (strict ? !(value > 0) : !(value >= 0))) {
    throw_param_error(strategy, param,
                      std::string(strict ? "must be > 0" : "must be >= 0") + ", got " + num(value));
  }
  return value;
}

TimestampNs seconds_to_ns(double s) noexcept { return static_cast<TimestampNs>(std::llround(s * 1e9)); }

Qty decimal_qty_to_raw(double qty, const InstrumentSpec& spec, std::string_view what,
                       bool positive) {
  const double x = qty * static_cast<double>(pow10(spec.qty_decimals));
  if (!std::isfinite(x) || std::fabs(x) > 9.0e18) {
    throw Error(std::string(what) + ": quantity " + num(qty) + " out of range");
  }
  const auto raw = static_cast<Qty>(std::llround(x));
  if (std::fabs(x - static_cast<double>(raw)) > 1e-6 * std::max(1.0, std::fabs(x))) {
    throw Error(std::string(what) + ": quantity " + num(qty) + " has more than " +
                std::to_string(spec.qty_decimals) + " decimals");
  }
  if (positive && raw <= 0) throw Error(std::string(what) + ": quantity must be > 0, got " + num(qty));
  if (spec.lot_size > 0 && raw % spec.lot_size != 0) {
    throw Error(std::string(what) + ": quantity " + num(qty) + " is not a multiple of the lot " +
                format_decimal(spec.lot_size, spec.qty_decimals, spec.qty_display_decimals()));
  }
  return raw;
}

QuotingSettings resolve_quoting(const QuotingParams& p, const InstrumentSpec& spec,
                                const MarketProfile& profile, std::string_view strategy) {
  QuotingSettings s;
  const Qty lot = std::max<Qty>(spec.lot_size, 1);
  const std::string prefix = "strategy '" + std::string(strategy) + "': param ";
  if (p.order_qty) {
    s.order_qty = decimal_qty_to_raw(*p.order_qty, spec, prefix + "'order_qty'", true);
  } else {
    const double lots = std::isfinite(profile.median_trade_qty) && profile.median_trade_qty > 0
                            ? std::round(profile.median_trade_qty / static_cast<double>(lot))
                            : 1.0;
    s.order_qty = std::max<Qty>(1, static_cast<Qty>(std::min(lots, 1e15))) * lot;
  }
  if (p.max_position) {
    require_positive(*p.max_position, strategy, "max_position");
    s.max_position = static_cast<Qty>(
        std::llround(*p.max_position * static_cast<double>(pow10(spec.qty_decimals))));
  } else {
    s.max_position = 10 * s.order_qty;
  }
  if (p.requote_threshold_ticks) {
    if (*p.requote_threshold_ticks < 1) {
      throw_param_error(strategy, "requote_threshold_ticks",
                        "must be >= 1, got " + std::to_string(*p.requote_threshold_ticks));
    }
    s.requote_threshold_ticks = *p.requote_threshold_ticks;
  }
  if (p.post_only) s.post_only = *p.post_only;
  if (p.requote_on) {
    if (*p.requote_on == "book") {
      s.trigger = RequoteTrigger::kBook;
    } else if (*p.requote_on == "timer") {
      s.trigger = RequoteTrigger::kTimer;
    } else {
      throw_param_error(strategy, "requote_on",
                        "unknown value '" + *p.requote_on + "' (accepted: book, timer)");
    }
  }
  if (p.min_requote_interval_ms) {
    require_positive(*p.min_requote_interval_ms, strategy, "min_requote_interval_ms", false);
    s.min_requote_interval_ns = seconds_to_ns(*p.min_requote_interval_ms * 1e-3);
  }
  if (p.requote_with_modify) s.use_modify = *p.requote_with_modify;
  ModuleDefaults md{s.order_qty, s.max_position, 0};
  if (std::isfinite(profile.median_trade_qty) && std::isfinite(profile.trades_per_second)) {
    md.volume_per_s = std::max(0.0, profile.median_trade_qty * profile.trades_per_second) /
                      static_cast<double>(pow10(spec.qty_decimals));
  }
  s.modules = resolve_modules(p.modules, spec, md, strategy);
  return s;
}

void append_quoting_params(const QuotingSettings& s, const InstrumentSpec& spec, Params& out) {
  out["order_qty"] = spec.qty_to_double(s.order_qty);
  out["max_position"] = spec.qty_to_double(s.max_position);
  out["requote_threshold_ticks"] = s.requote_threshold_ticks;
  out["post_only"] = s.post_only;
  out["requote_on"] = std::string(s.trigger == RequoteTrigger::kBook ? "book" : "timer");
  out["min_requote_interval_ms"] = static_cast<double>(s.min_requote_interval_ns) * 1e-6;
  out["requote_with_modify"] = s.use_modify;
  append_module_params(s.modules, out);
}

// ---------------------------------------------------------------------------------------------

void build_quote_levels(double bid_raw, double ask_raw, std::size_t levels,
                        std::int64_t spacing_ticks, const book::Level& best_bid,
                        const book::Level& best_ask, Qty position, const QuotingSettings& s,
                        const InstrumentSpec& spec, std::vector<QuoteLevel>& bids,
                        std::vector<QuoteLevel>& asks) {
  build_quote_levels(bid_raw, ask_raw, levels, spacing_ticks, best_bid, best_ask, position, s, spec,
                     s.order_qty, s.order_qty, bids, asks);
}

void build_quote_levels(double bid_raw, double ask_raw, std::size_t levels,
                        std::int64_t spacing_ticks, const book::Level& best_bid,
                        const book::Level& best_ask, Qty position, const QuotingSettings& s,
                        const InstrumentSpec& spec, Qty bid_qty, Qty ask_qty,
                        std::vector<QuoteLevel>& bids, std::vector<QuoteLevel>& asks) {
  bids.clear();
  asks.clear();
  const Price tick = std::max<Price>(spec.tick_size, 1);
  const Qty lot = std::max<Qty>(spec.lot_size, 1);
  Price b0 = kNoPrice, a0 = kNoPrice;
  bool has_b = !std::isnan(bid_raw) && floor_to_tick(bid_raw, tick, b0);
  bool has_a = !std::isnan(ask_raw) && ceil_to_tick(ask_raw, tick, a0);
  if (has_b && best_ask.price != kNoPrice) b0 = std::min(b0, best_ask.price - tick);
  if (has_a && best_bid.price != kNoPrice) a0 = std::max(a0, best_bid.price + tick);
  if (has_b && has_a && a0 <= b0) a0 = b0 + tick;
  const Price step = tick * std::max<std::int64_t>(spacing_ticks, 1);

  if (has_b) {
    Qty room = s.max_position - position;
    for (std::size_t i = 0; i < levels; ++i) {
      const Price px = b0 - static_cast<Price>(i) * step;
      if (px <= 0) break;
      Qty q = std::min(bid_qty, room);
      q -= q % lot;
      if (q <= 0) break;
      bids.push_back(QuoteLevel{px, q});
      room -= q;
    }
  }
  if (has_a) {
    Qty room = s.max_position + position;
    for (std::size_t i = 0; i < levels; ++i) {
      const Price px = a0 + static_cast<Price>(i) * step;
      if (px <= 0) break;
      Qty q = std::min(ask_qty, room);
      q -= q % lot;
      if (q <= 0) break;
      asks.push_back(QuoteLevel{px, q});
      room -= q;
    }
  }
}

void compose_external(const ExternalAdjust& e, double bid_raw, double ask_raw, double tick,
                      QuoteAdjust& a) noexcept {
  const QuoteAdjust& x = e.adjust;
  a.spread_mult *= x.spread_mult;
  a.center_shift_ticks += x.center_shift_ticks;
  if (e.skew_half_spreads != 0 && std::isfinite(bid_raw) && std::isfinite(ask_raw)) {
    a.center_shift_ticks += e.skew_half_spreads * 0.5 * (ask_raw - bid_raw) / tick;
  }
  a.bid_size_mult *= x.bid_size_mult;
  a.ask_size_mult *= x.ask_size_mult;
  if (x.order_qty > 0) a.order_qty = x.order_qty;
  a.quote_bid = a.quote_bid && x.quote_bid;
  a.quote_ask = a.quote_ask && x.quote_ask;
  a.freeze = a.freeze || x.freeze;
  a.kill = a.kill || x.kill;
  if (x.flatten_max_qty > 0) {
    a.flatten_max_qty = a.flatten_max_qty > 0 ? std::min(a.flatten_max_qty, x.flatten_max_qty) : x.flatten_max_qty;
  }
}

void apply_adjust(const QuoteAdjust& a, double mid_raw, double tick, double& bid_raw,
                  double& ask_raw) noexcept {
  const bool hb = std::isfinite(bid_raw), ha = std::isfinite(ask_raw);
  const double ref = hb && ha ? 0.5 * (bid_raw + ask_raw) : mid_raw;
  const double center = ref + a.center_shift_ticks * tick;
  bid_raw = hb && a.quote_bid ? center - (ref - bid_raw) * a.spread_mult : kNaN;
  ask_raw = ha && a.quote_ask ? center + (ask_raw - ref) * a.spread_mult : kNaN;
}

Qty adjusted_size(Qty base, double mult, Qty lot) noexcept {
  lot = std::max<Qty>(lot, 1);
  if (!(mult > 0) || base <= 0) return 0;
  const double x = std::floor(static_cast<double>(base) * mult / static_cast<double>(lot) + 1e-9);
  const Qty q = static_cast<Qty>(std::min(x, 9.0e15)) * lot;
  return std::max(q, lot);
}

// ---------------------------------------------------------------------------------------------

void QuoteManager::collect(Context& ctx, Side side) {
  mine_.clear();
  for (const OrderView& o : ctx.open_orders()) {
    if (o.side != side || o.cancel_pending || o.type != exchange::OrderType::kLimit) continue;
    if (o.status != exchange::OrderStatus::kPendingNew && o.status != exchange::OrderStatus::kOpen) {
      continue;
    }
    mine_.push_back(o);
  }
}

void QuoteManager::sync(Context& ctx, Side side, const std::vector<QuoteLevel>& levels) {
  collect(ctx, side);
  const std::size_t n = levels.size(), m = mine_.size();
  level_taken_.assign(n, 0);
  order_done_.assign(m, 0);
  const auto in_flight = [](const OrderView& o) {
    return o.status == exchange::OrderStatus::kPendingNew || o.modify_pending;
  };
  const auto dist = [](Price a, Price b) { return a > b ? a - b : b - a; };

  // Orders in flight hold the nearest wanted level until they are acknowledged.
  for (std::size_t i = 0; i < m; ++i) {
    if (!in_flight(mine_[i])) continue;
    std::size_t best = n;
    for (std::size_t j = 0; j < n; ++j) {
      if (!level_taken_[j] && (best == n || dist(levels[j].price, mine_[i].price) <
                                                dist(levels[best].price, mine_[i].price))) {
        best = j;
      }
    }
    if (best < n) {
      level_taken_[best] = 1;
      order_done_[i] = 1;
    }
  }

  // Acknowledged orders close enough to a wanted level stay.
  const Price threshold = s_.requote_threshold_ticks * tick_;
  for (std::size_t j = 0; j < n; ++j) {
    if (level_taken_[j]) continue;
    std::size_t best = m;
    for (std::size_t i = 0; i < m; ++i) {
      if (order_done_[i] || dist(mine_[i].price, levels[j].price) >= threshold) continue;
      if (best == m || dist(mine_[i].price, levels[j].price) < dist(mine_[best].price, levels[j].price)) {
        best = i;
      }
    }
    if (best == m) continue;
    const OrderView& o = mine_[best];
    order_done_[best] = 1;
    if (o.leaves > levels[j].qty) {
      // Too large for the position limit: a size decrease keeps priority; a partially filled
      // order is canceled and replaced (the meaning of a modify size after fills is avoided).
      if (s_.use_modify && o.filled == 0) {
        ctx.modify(o.id, o.price, levels[j].qty);
        level_taken_[j] = 1;
      } else {
        ctx.cancel(o.id);
      }
    } else {
      level_taken_[j] = 1;
    }
  }

  // The rest are moved to a free level (modify) or canceled.
  std::size_t next_free = 0;
  for (std::size_t i = 0; i < m; ++i) {
    if (order_done_[i]) continue;
    const OrderView& o = mine_[i];
    while (next_free < n && level_taken_[next_free]) ++next_free;
    if (next_free < n && s_.use_modify && !in_flight(o) && o.filled == 0) {
      ctx.modify(o.id, levels[next_free].price, levels[next_free].qty);
      level_taken_[next_free] = 1;
    } else {
      ctx.cancel(o.id);
    }
    order_done_[i] = 1;
  }

  const int si = side_index(side);
  if (paused_until_[si] != kNoTimestamp && ctx.now() < paused_until_[si]) return;
  for (std::size_t j = 0; j < n; ++j) {
    if (level_taken_[j]) continue;
    OrderRequest r;
    r.side = side;
    r.price = levels[j].price;
    r.qty = levels[j].qty;
    r.type = exchange::OrderType::kLimit;
    r.tif = s_.post_only ? exchange::TimeInForce::kPostOnly : exchange::TimeInForce::kGtc;
    ctx.submit(r);
  }
}

void QuoteManager::cancel_all(Context& ctx, Side side) {
  for (Side s : {Side::kBid, Side::kAsk}) {
    if (side != Side::kNone && s != side) continue;
    collect(ctx, s);
    for (const OrderView& o : mine_) ctx.cancel(o.id);
  }
}

void QuoteManager::on_order_update(const OrderUpdate& u) {
  if (u.kind != exchange::OrderEventKind::kRejected) return;
  ++rejects_;
  if (is_risk_reject(u.reason) && (u.side == Side::kBid || u.side == Side::kAsk)) {
    paused_until_[side_index(u.side)] = u.local_ts_ns + kRiskRejectBackoffNs;
  }
}

// ---------------------------------------------------------------------------------------------

QuotingStrategy::QuotingStrategy(const QuotingSettings& settings, const InstrumentSpec& spec,
                                 std::size_t levels, std::int64_t level_spacing_ticks)
    : settings_(settings),
      spec_(spec),
      tick_(static_cast<double>(std::max<Price>(spec.tick_size, 1))),
      last_mid_(kNaN),
      manager_(settings, spec),
      levels_(levels),
      spacing_ticks_(level_spacing_ticks),
      pipeline_(settings.modules, spec),
      model_bid_(kNaN),
      model_ask_(kNaN),
      money_per_raw_(exchange::money_to_double(exchange::notional(1, 1), spec)) {
  bids_.reserve(levels);
  asks_.reserve(levels);
}

double QuotingStrategy::pnl(Context& ctx, double mid_raw) const {
  return exchange::money_to_double(ctx.cash(), spec_) +
         static_cast<double>(ctx.position()) * mid_raw * money_per_raw_;
}

void QuotingStrategy::flatten(Context& ctx) {
  manager_.cancel_all(ctx, Side::kNone);
  const Qty pos = ctx.position();
  if (pos == 0 || flatten_id_ != 0) return;
  OrderRequest r;
  r.side = pos > 0 ? Side::kAsk : Side::kBid;
  r.qty = pos > 0 ? pos : -pos;
  if (last_adjust_.flatten_max_qty > 0) r.qty = std::min(r.qty, last_adjust_.flatten_max_qty);
  r.type = exchange::OrderType::kMarket;
  r.tif = exchange::TimeInForce::kIoc;
  flatten_id_ = ctx.submit(r);
  ++flatten_orders_;
}

Params QuotingStrategy::summary() const {
  if (pipeline_.empty()) return {};
  Params p = pipeline_.summary();
  p["modules.flatten_orders"] = static_cast<std::int64_t>(flatten_orders_);
  return p;
}

void QuotingStrategy::note_time(Context& ctx) {
  if (first_ts_ == kNoTimestamp) first_ts_ = ctx.now();
}

void QuotingStrategy::on_book_update(Context& ctx) {
  note_time(ctx);
  const BookView& b = ctx.book();
  const book::Level bb = b.best(Side::kBid), ba = b.best(Side::kAsk);
  const bool valid = bb.price != kNoPrice && ba.price != kNoPrice && bb.price < ba.price;
  if (valid) {
    last_mid_ = 0.5 * (static_cast<double>(bb.price) + static_cast<double>(ba.price));
    observe_book(ctx, last_mid_);
  }
  if (!pipeline_.empty()) pipeline_.on_book(ctx, valid ? last_mid_ : kNaN);
  if (settings_.trigger == RequoteTrigger::kBook) maybe_requote(ctx);
}

void QuotingStrategy::on_trade(Context& ctx, const TradeView& t) {
  note_time(ctx);
  observe_trade(ctx, t, last_mid_);
  if (!pipeline_.empty()) pipeline_.on_trade(ctx, t, last_mid_);
}

void QuotingStrategy::on_timer(Context& ctx) {
  note_time(ctx);
  observe_time(ctx);
  if (!pipeline_.empty()) pipeline_.on_timer(ctx, last_mid_);
  if (settings_.trigger == RequoteTrigger::kTimer) maybe_requote(ctx);
}

void QuotingStrategy::on_order_update(Context& ctx, const OrderUpdate& u) {
  manager_.on_order_update(u);
  if (flatten_id_ != 0 && u.order_id == flatten_id_ &&
      (u.status == exchange::OrderStatus::kFilled || u.status == exchange::OrderStatus::kCanceled ||
       u.status == exchange::OrderStatus::kRejected)) {
    flatten_id_ = 0;
  }
  if (!pipeline_.empty()) pipeline_.on_order_update(ctx, u);
}

void QuotingStrategy::set_external_adjust(const ExternalAdjust& e) noexcept {
  if (e == external_) return;
  external_ = e;
  external_on_ = !e.identity();
  dirty_ = true;
}

void QuotingStrategy::on_fill(Context& ctx, const Fill& f) {
  dirty_ = true;
  if (!pipeline_.empty()) pipeline_.on_fill(ctx, f, last_mid_);
}

void QuotingStrategy::maybe_requote(Context& ctx) {
  if (!dirty_ && last_requote_ns_ != kNoTimestamp &&
      ctx.now() - last_requote_ns_ < settings_.min_requote_interval_ns) {
    return;
  }
  requote(ctx);
}

void QuotingStrategy::requote(Context& ctx) {
  const BookView& b = ctx.book();
  const book::Level bb = b.best(Side::kBid), ba = b.best(Side::kAsk);
  if (bb.price == kNoPrice || ba.price == kNoPrice || bb.price >= ba.price) return;
  last_requote_ns_ = ctx.now();
  dirty_ = false;
  ++requotes_;
  const double mid = 0.5 * (static_cast<double>(bb.price) + static_cast<double>(ba.price));
  double bid = kNaN, ask = kNaN;
  const Decision d = model_quotes(ctx, mid, bid, ask);
  model_bid_ = bid;
  model_ask_ = ask;
  if (!pipeline_.empty() || external_on_) {
    if (external_on_ && d == Decision::kQuote && external_.override_model) {
      bid = mid - external_.bid_offset_ticks * tick_;
      ask = mid + external_.ask_offset_ticks * tick_;
    }
    if (!pipeline_.empty()) {
      QuoteInputs in;
      in.now = ctx.now();
      in.mid_raw = mid;
      in.tick = tick_;
      in.position = ctx.position();
      in.order_qty = settings_.order_qty;
      in.max_position = settings_.max_position;
      in.pnl = pnl(ctx, mid);
      last_adjust_ = pipeline_.adjust(ctx, in);
    } else {
      last_adjust_ = QuoteAdjust{};
    }
    if (external_on_) compose_external(external_, bid, ask, tick_, last_adjust_);
    if (last_adjust_.kill) {
      bids_.clear();
      asks_.clear();
      flatten(ctx);
      return;
    }
    if (last_adjust_.freeze) {
      bids_.clear();
      asks_.clear();
      manager_.cancel_all(ctx, Side::kNone);
      return;
    }
    if (d == Decision::kQuote && !last_adjust_.identity()) {
      apply_adjust(last_adjust_, mid, tick_, bid, ask);
      const Qty base = last_adjust_.order_qty > 0 ? last_adjust_.order_qty : settings_.order_qty;
      const Qty lot = std::max<Qty>(spec_.lot_size, 1);
      build_quote_levels(bid, ask, levels_, spacing_ticks_, bb, ba, ctx.position(), settings_,
                         spec_, adjusted_size(base, last_adjust_.bid_size_mult, lot),
                         adjusted_size(base, last_adjust_.ask_size_mult, lot), bids_, asks_);
      manager_.sync(ctx, Side::kBid, bids_);
      manager_.sync(ctx, Side::kAsk, asks_);
      return;
    }
  }
  if (d == Decision::kHold) return;
  if (d == Decision::kNoQuote) {
    bids_.clear();
    asks_.clear();
  } else {
    build_quote_levels(bid, ask, levels_, spacing_ticks_, bb, ba, ctx.position(), settings_, spec_,
                       bids_, asks_);
  }
  manager_.sync(ctx, Side::kBid, bids_);
  manager_.sync(ctx, Side::kAsk, asks_);
}

// ---------------------------------------------------------------------------------------------

namespace {
constexpr std::string_view kSpreadQuoter = "spread-quoter";
}

SpreadQuoter::Resolved SpreadQuoter::resolve(const SpreadQuoterParams& p,
                                             const InstrumentSpec& spec,
                                             const MarketProfile& profile) {
  Resolved r;
  r.quoting = resolve_quoting(p.quoting, spec, profile, kSpreadQuoter);
  const double tick = static_cast<double>(std::max<Price>(spec.tick_size, 1));
  if (p.min_spread_ticks) {
    r.min_spread_ticks = require_positive(*p.min_spread_ticks, kSpreadQuoter, "min_spread_ticks");
  } else {
    const double ms = profile.mean_spread / tick;
    r.min_spread_ticks = std::isfinite(ms) ? std::max(1.0, ms) : 1.0;
  }
  r.vol_multiplier =
      p.vol_multiplier ? require_positive(*p.vol_multiplier, kSpreadQuoter, "vol_multiplier", false)
                       : 1.0;
  if (p.skew_per_lot) {
    r.skew_per_lot = require_positive(*p.skew_per_lot, kSpreadQuoter, "skew_per_lot", false);
  } else {
    const double units = static_cast<double>(r.quoting.max_position) /
                         static_cast<double>(r.quoting.order_qty);
    r.skew_per_lot = r.min_spread_ticks / (2.0 * std::max(units, 1.0));
  }
  r.levels = p.levels ? *p.levels : 1;
  if (r.levels < 1 || r.levels > 1000) {
    throw_param_error(kSpreadQuoter, "levels", "must be in 1..1000, got " + std::to_string(r.levels));
  }
  r.spacing = p.level_spacing_ticks ? *p.level_spacing_ticks : 1;
  if (r.spacing < 1) {
    throw_param_error(kSpreadQuoter, "level_spacing_ticks",
                      "must be >= 1, got " + std::to_string(r.spacing));
  }
  r.vol_window_s = p.vol_window_s ? require_positive(*p.vol_window_s, kSpreadQuoter, "vol_window_s")
                                  : 60.0;
  r.vol_sample_ms =
      p.vol_sample_ms ? require_positive(*p.vol_sample_ms, kSpreadQuoter, "vol_sample_ms") : 100.0;
  if (r.vol_sample_ms * 1e-3 > r.vol_window_s) {
    throw_param_error(kSpreadQuoter, "vol_sample_ms", "must not exceed vol_window_s");
  }
  return r;
}

namespace {
// Warm-up of the rolling volatility: min(10 s, window) of samples.
std::size_t warmup_samples(double window_s, double sample_ms) {
  return static_cast<std::size_t>(std::max(1.0, std::floor(std::min(10.0, window_s) /
                                                           (sample_ms * 1e-3))));
}
}  // namespace

SpreadQuoter::SpreadQuoter(const SpreadQuoterParams& p, const InstrumentSpec& spec,
                           const MarketProfile& profile)
    : SpreadQuoter(resolve(p, spec, profile), spec) {}

SpreadQuoter::SpreadQuoter(const Resolved& r, const InstrumentSpec& spec)
    : QuotingStrategy(r.quoting, spec, static_cast<std::size_t>(r.levels), r.spacing),
      min_spread_ticks_(r.min_spread_ticks),
      vol_multiplier_(r.vol_multiplier),
      skew_per_lot_(r.skew_per_lot),
      levels_(r.levels),
      spacing_(r.spacing),
      vol_window_s_(r.vol_window_s),
      vol_sample_ms_(r.vol_sample_ms),
      vol_(seconds_to_ns(r.vol_window_s), seconds_to_ns(r.vol_sample_ms * 1e-3),
           warmup_samples(r.vol_window_s, r.vol_sample_ms)) {}

void SpreadQuoter::observe_book(Context& ctx, double mid_raw) { vol_.update(ctx.now(), mid_raw / tick_); }

void SpreadQuoter::observe_time(Context& ctx) { vol_.advance(ctx.now()); }

QuotingStrategy::Decision SpreadQuoter::model_quotes(Context& ctx, double mid_raw, double& bid_raw,
                                                     double& ask_raw) {
  if (vol_multiplier_ > 0 && !vol_.ready()) return Decision::kNoQuote;
  const double spread = std::max(min_spread_ticks_, vol_.sigma() * vol_multiplier_);
  const double q = static_cast<double>(ctx.position()) / static_cast<double>(settings_.order_qty);
  const double center = mid_raw - skew_per_lot_ * q * tick_;
  bid_raw = center - 0.5 * spread * tick_;
  ask_raw = center + 0.5 * spread * tick_;
  return Decision::kQuote;
}

Params SpreadQuoter::resolved_params() const {
  Params p;
  append_quoting_params(settings_, spec_, p);
  p["min_spread_ticks"] = min_spread_ticks_;
  p["vol_multiplier"] = vol_multiplier_;
  p["skew_per_lot"] = skew_per_lot_;
  p["levels"] = levels_;
  p["level_spacing_ticks"] = spacing_;
  p["vol_window_s"] = vol_window_s_;
  p["vol_sample_ms"] = vol_sample_ms_;
  return p;
}

}  // namespace mmkit::strategy
