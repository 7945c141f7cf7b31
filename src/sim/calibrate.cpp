#include "mmkit/sim/calibrate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "mmkit/book/l2_book.h"
#include "mmkit/book/l3_book.h"
#include "mmkit/core/error.h"
#include "mmkit/data/lobster.h"

namespace mmkit::sim {

const char* to_string(FlowEventType t) noexcept {
  switch (t) {
    case FlowEventType::kMarketBuy: return "market_buy";
    case FlowEventType::kMarketSell: return "market_sell";
    case FlowEventType::kLimitBid: return "limit_bid";
    case FlowEventType::kLimitAsk: return "limit_ask";
    case FlowEventType::kCancelBid: return "cancel_bid";
    case FlowEventType::kCancelAsk: return "cancel_ask";
  }
  return "?";
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
/// Distance of a price whose side's reference (the opposite best) is unknown.
constexpr std::int64_t kNoDistance = std::numeric_limits<std::int64_t>::min();

int side_index(Side s) noexcept { return s == Side::kBid ? 0 : 1; }
Side side_of(int i) noexcept { return i == 0 ? Side::kBid : Side::kAsk; }

double ns_to_s(TimestampNs ns) noexcept { return static_cast<double>(ns) * 1e-9; }

/// How a cancellation relates to the order it removes.
enum class CancelKind : std::uint8_t { kWhole, kPartial, kUnknownOrder };

// ---------------------------------------------------------------------------------------------
// The replay shared by calibrate_flow and flow_statistics: rebuilds the book event by event,
// classifies the order flow (header comment of calibrate.h) and hands the book state over every
// interval of constant state to the sink.
//
// Sink interface:
//   void integrate(const Replay& r, TimestampNs t0, TimestampNs t1)   state constant on [t0, t1)
//   void on_limit(const Replay& r, int side, TimestampNs ts, std::int64_t distance, Qty lots,
//                 Price price, OrderId id)                      before the book applies it
//   void on_cancel(const Replay& r, int side, TimestampNs ts, std::int64_t distance, CancelKind k,
//                  OrderId id)
//   void on_market(const Replay& r, int aggressor, TimestampNs ts, Qty lots, std::uint64_t execs)
//   void on_flow(FlowEventType t, TimestampNs ts)        every flow event, in stream order
template <class Book, class Sink>
class FlowReplay {
 public:
  static constexpr bool kL3 = std::is_same_v<Book, book::L3Book>;

  FlowReplay(const InstrumentSpec& spec, Sink& sink) : spec_(spec), sink_(sink) {
    if (spec_.tick_size <= 0) throw Error("calibration: the instrument's tick_size must be > 0");
  }

  void run(data::EventSource& src) {
    std::vector<Event> buf(4096);
    for (;;) {
      const std::size_t n = src.read(buf.data(), buf.size());
      if (n == 0) break;
      for (std::size_t j = 0; j < n; ++j) step(buf[j]);
    }
    close_market();
  }

  [[nodiscard]] const Book& book() const noexcept { return book_; }
  [[nodiscard]] bool started() const noexcept { return started_; }
  [[nodiscard]] TimestampNs start_ns() const noexcept { return start_ns_; }
  [[nodiscard]] TimestampNs last_ns() const noexcept { return last_ns_; }
  [[nodiscard]] Price initial_mid() const noexcept { return initial_mid_; }
  [[nodiscard]] std::uint64_t events() const noexcept { return events_; }
  [[nodiscard]] std::uint64_t rejections() const noexcept { return rejections_; }
  [[nodiscard]] std::uint64_t mid_changes() const noexcept { return mid_changes_; }
  [[nodiscard]] std::uint64_t trades_without_book_effect() const noexcept { return prints_; }
  [[nodiscard]] std::uint64_t modifies_price() const noexcept { return modifies_price_; }
  [[nodiscard]] std::uint64_t modifies_size_only() const noexcept { return modifies_size_only_; }
  [[nodiscard]] Price tick() const noexcept { return spec_.tick_size; }
  [[nodiscard]] const InstrumentSpec& spec() const noexcept { return spec_; }

  /// The reference of side s's distances: the opposite best, or its last price while empty.
  [[nodiscard]] Price anchor(int s) const noexcept {
    const book::Level o = book_.best(side_of(1 - s));
    return o.price != kNoPrice ? o.price : last_best_[1 - s];
  }

  /// Ticks from the opposite best to `p` on side s (>= 1 when the book is not crossed), or
  /// kNoDistance when that side never had a price.
  [[nodiscard]] std::int64_t distance(int s, Price p) const noexcept {
    const Price a = anchor(s);
    if (a == kNoPrice) return kNoDistance;
    const Price diff = s == 0 ? a - p : p - a;
    return diff >= 0 ? diff / spec_.tick_size : -((-diff + spec_.tick_size - 1) / spec_.tick_size);
  }

  [[nodiscard]] Qty lots(Qty q) const noexcept { return spec_.lot_size > 1 ? q / spec_.lot_size : q; }

 private:
  void step(const Event& e) {
    ++events_;
    // The observed span starts with the first event that is not part of an opening snapshot
    // (Databento replays the book at the start of the day, hours before the session).
    if (!started_ && !e.has(event_flags::kSnapshot)) {
      started_ = true;
      start_ns_ = last_ns_ = e.exch_ts_ns;
    }
    if (started_ && e.exch_ts_ns > last_ns_) {
      sink_.integrate(*this, last_ns_, e.exch_ts_ns);
      last_ns_ = e.exch_ts_ns;
    }
    if (!e.has(event_flags::kSnapshot) && !e.has(event_flags::kSeed)) classify(e);
    if (book_.apply(e) != Errc::kOk) ++rejections_;
    for (int s = 0; s < 2; ++s) {
      const book::Level l = book_.best(side_of(s));
      if (l.price != kNoPrice) last_best_[s] = l.price;
    }
    if (e.has(event_flags::kComplete) || e.has(event_flags::kEndOfRecord)) {
      const book::Level b = book_.best(Side::kBid);
      const book::Level a = book_.best(Side::kAsk);
      if (b.price != kNoPrice && a.price != kNoPrice) {
        const Price mid2 = b.price + a.price;
        if (initial_mid_ == kNoPrice) {
          initial_mid_ = mid2 >= 0 ? mid2 / 2 : -((-mid2 + 1) / 2);
        } else if (mid2 != last_mid2_) {
          ++mid_changes_;
        }
        last_mid2_ = mid2;
      }
    }
  }

  void close_market() {
    if (!market_open_) return;
    market_open_ = false;
    const FlowEventType t = market_aggressor_ == 0 ? FlowEventType::kMarketBuy : FlowEventType::kMarketSell;
    sink_.on_market(*this, market_aggressor_, market_ts_, market_lots_, market_execs_);
    sink_.on_flow(t, market_ts_);
  }

  /// One execution (resting side `resting`) of a market order; starts a new one unless it
  /// continues the open one (same timestamp and resting side, nothing else in between).
  void execution(const Event& e, int resting) {
    if (market_open_ && (e.exch_ts_ns != market_ts_ || 1 - resting != market_aggressor_)) close_market();
    if (!market_open_) {
      market_open_ = true;
      market_ts_ = e.exch_ts_ns;
      market_aggressor_ = 1 - resting;
      market_lots_ = 0;
      market_execs_ = 0;
    }
    market_lots_ += lots(e.qty);
    ++market_execs_;
  }

  void limit(int s, const Event& e, Price price, Qty qty) {
    close_market();
    sink_.on_limit(*this, s, e.exch_ts_ns, distance(s, price), lots(qty), price, e.order_id);
    sink_.on_flow(s == 0 ? FlowEventType::kLimitBid : FlowEventType::kLimitAsk, e.exch_ts_ns);
  }

  void cancel(int s, const Event& e, Price price, CancelKind k) {
    close_market();
    sink_.on_cancel(*this, s, e.exch_ts_ns, distance(s, price), k, e.order_id);
    sink_.on_flow(s == 0 ? FlowEventType::kCancelBid : FlowEventType::kCancelAsk, e.exch_ts_ns);
  }

  /// Takes `qty` of order `id` from the fills not yet applied to the book (Databento: F records,
  /// then the C or M that removes the quantity); true when the change is such a fill's effect.
  bool fill_effect(OrderId id, Qty qty) {
    if (pending_fills_.empty()) return false;
    const auto it = pending_fills_.find(id);
    if (it == pending_fills_.end()) return false;
    it->second -= qty;
    if (it->second <= 0) pending_fills_.erase(it);
    return true;
  }

  void classify(const Event& e) {
    const int s = side_index(e.side);
    switch (e.kind) {
      case EventKind::kTrade:
        ++prints_;
        if constexpr (!kL3) {
          if (e.side == Side::kBid || e.side == Side::kAsk) execution(e, 1 - s);
        }
        return;
      case EventKind::kExecution:
        if constexpr (kL3) execution(e, s);
        return;
      case EventKind::kFill:
        if constexpr (kL3) {
          if (e.side == Side::kBid || e.side == Side::kAsk) {
            execution(e, s);
            pending_fills_[e.order_id] += e.qty;
          }
        }
        return;
      default:
        break;
    }
    if constexpr (kL3) {
      switch (e.kind) {
        case EventKind::kAdd:
          if (e.side == Side::kBid || e.side == Side::kAsk) limit(s, e, e.price, e.qty);
          return;
        case EventKind::kCancel: {
          if (fill_effect(e.order_id, e.qty)) return;
          const auto o = book_.order(e.order_id);
          if (!o) {
            if (e.side == Side::kBid || e.side == Side::kAsk) cancel(s, e, e.price, CancelKind::kUnknownOrder);
            return;
          }
          cancel(side_index(o->side), e, o->price, e.qty >= o->qty ? CancelKind::kWhole : CancelKind::kPartial);
          return;
        }
        case EventKind::kModify: {
          const auto o = book_.order(e.order_id);
          if (!o) return;  // the book rejects it and counts the rejection
          if (fill_effect(e.order_id, o->qty - e.qty)) return;
          if (e.price != o->price) {
            ++modifies_price_;
            const int os = side_index(o->side);
            cancel(os, e, o->price, CancelKind::kWhole);
            limit(os, e, e.price, e.qty);
          } else {
            ++modifies_size_only_;
          }
          return;
        }
        default:
          return;
      }
    } else {
      if (e.kind == EventKind::kLevelUpdate && (e.side == Side::kBid || e.side == Side::kAsk)) {
        const Qty before = book_.level_at(e.side, e.price).qty;
        if (e.qty > before) {
          limit(s, e, e.price, e.qty - before);
        } else if (e.qty < before) {
          cancel(s, e, e.price, e.qty == 0 ? CancelKind::kWhole : CancelKind::kPartial);
        }
      }
    }
  }

  InstrumentSpec spec_;
  Sink& sink_;
  Book book_;
  Price last_best_[2] = {kNoPrice, kNoPrice};
  bool started_ = false;
  TimestampNs start_ns_ = 0;
  TimestampNs last_ns_ = 0;
  Price initial_mid_ = kNoPrice;
  Price last_mid2_ = kNoPrice;
  std::uint64_t events_ = 0, rejections_ = 0, mid_changes_ = 0, prints_ = 0;
  std::uint64_t modifies_price_ = 0, modifies_size_only_ = 0;
  std::unordered_map<OrderId, Qty> pending_fills_;

  bool market_open_ = false;
  TimestampNs market_ts_ = 0;
  int market_aggressor_ = 0;
  Qty market_lots_ = 0;
  std::uint64_t market_execs_ = 0;
};

// ---------------------------------------------------------------------------------------------
// calibrate_flow's sink: counts and exposures up to a distance cap (index cap + 1 = beyond).

struct CalibrationSink {
  std::uint32_t cap = 0;
  std::uint32_t visible_levels = 0;  // 0 = everything visible
  bool separate = false;             // CalibrationOptions::joins_and_improvers
  std::vector<std::uint64_t> limit_at[2];  // arrivals by distance, 1..cap, cap+1 beyond
  std::vector<double> visible_upto_s[2];   // seconds during which distances 1..D were visible
  std::vector<std::uint64_t> cancel_at;    // whole cancels by distance (improvers apart)
  std::vector<double> exposure_at;         // order-seconds by distance (improvers apart)
  std::vector<double> own_best_s[2];       // seconds during which the own best was at distance D
  std::uint64_t joins = 0;                 // limit orders at the own best
  std::uint64_t improvers = 0;             // limit orders strictly inside the spread
  std::uint64_t improver_cancels = 0;      // whole cancels of improvers
  double improver_exposure = 0;            // order-seconds of resting improvers
  struct LiveImprover {
    OrderId id;
    int side;
    double life_s;  // order-seconds so far
  };
  std::vector<LiveImprover> live_improvers;  // improvers maybe still resting
  std::vector<double> improver_life_s;       // lifetimes of improvers gone (or at the end)
  std::vector<std::uint8_t> improver_cancelled;  // 1: whole cancel ends the life, 0: censored

  void improver_gone(std::size_t j, bool cancelled) {
    improver_life_s.push_back(live_improvers[j].life_s);
    improver_cancelled.push_back(cancelled ? 1 : 0);
    live_improvers[j] = live_improvers.back();
    live_improvers.pop_back();
  }
  std::uint64_t limit_orders = 0, without_reference = 0, crossing = 0;
  std::uint64_t cancels = 0, partial = 0, unknown = 0;
  std::uint64_t market[2] = {0, 0};
  std::uint64_t executions = 0;
  std::vector<std::int64_t> limit_sizes, market_sizes;
  std::vector<PointEvent> flow;
  TimestampNs flow_origin_ns = 0;
  bool origin_set = false;

  void init(std::uint32_t c, std::uint32_t n) {
    cap = c;
    visible_levels = n;
    for (int s = 0; s < 2; ++s) {
      limit_at[s].assign(cap + 2, 0);
      visible_upto_s[s].assign(cap + 2, 0.0);
      own_best_s[s].assign(cap + 2, 0.0);
    }
    cancel_at.assign(cap + 2, 0);
    exposure_at.assign(cap + 2, 0.0);
  }

  std::size_t bucket(std::int64_t d) const noexcept {
    return static_cast<std::size_t>(std::clamp<std::int64_t>(d, 1, static_cast<std::int64_t>(cap) + 1));
  }

  template <class R>
  void integrate(const R& r, TimestampNs t0, TimestampNs t1) {
    const double dt = ns_to_s(t1 - t0);
    const auto& b = r.book();
    for (int s = 0; s < 2; ++s) {
      if (r.anchor(s) == kNoPrice) continue;
      const Side sd = side_of(s);
      const std::size_t depth = b.depth(sd);
      for (std::size_t j = 0; j < depth; ++j) {
        const book::Level l = b.level(sd, j);
        if (l.order_count == 0) continue;
        const std::int64_t d = r.distance(s, l.price);
        if (d < 1) continue;  // crossed (auction phases): no distance
        exposure_at[bucket(d)] += dt * static_cast<double>(l.order_count);
      }
      const Price own = b.best(sd).price;
      if (own != kNoPrice) {
        const std::int64_t ds = r.distance(s, own);
        if (ds >= 1) own_best_s[s][bucket(ds)] += dt;
      }
      std::size_t upto = cap;
      if (visible_levels != 0 && depth >= visible_levels) {
        const std::int64_t dn = r.distance(s, b.level(sd, visible_levels - 1).price);
        upto = dn < 1 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(dn), cap);
      }
      visible_upto_s[s][upto] += dt;
    }
    // Improvers' order-seconds move from X(d) to their own exposure; orders gone (executed or
    // cancelled) leave the list.
    for (std::size_t j = 0; j < live_improvers.size();) {
      const auto o = b.order(live_improvers[j].id);
      if (!o) {  // executed (or removed without a cancel of ours): censored
        improver_gone(j, false);
        continue;
      }
      const std::int64_t d = r.distance(live_improvers[j].side, o->price);
      if (d >= 1) {
        if (separate) exposure_at[bucket(d)] -= dt;
        improver_exposure += dt;
        live_improvers[j].life_s += dt;
      }
      ++j;
    }
  }

  template <class R>
  void on_limit(const R& r, int s, TimestampNs, std::int64_t d, Qty lots, Price price, OrderId id) {
    ++limit_orders;
    limit_sizes.push_back(lots);
    if (d == kNoDistance) {
      ++without_reference;
    } else if (d < 1) {
      ++crossing;
    } else {
      const Price own = r.book().best(side_of(s)).price;  // before this order
      if (own != kNoPrice && price == own) {
        ++joins;
        if (separate) return;
      }
      ++limit_at[s][bucket(d)];
      if (own != kNoPrice && (s == 0 ? price > own : price < own)) {
        ++improvers;
        live_improvers.push_back(LiveImprover{id, s, 0.0});
      }
    }
  }

  template <class R>
  void on_cancel(const R&, int, TimestampNs, std::int64_t d, CancelKind k, OrderId id) {
    if (k == CancelKind::kPartial) {
      ++partial;
    } else if (k == CancelKind::kUnknownOrder) {
      ++unknown;
    } else {
      ++cancels;
      for (std::size_t j = 0; j < live_improvers.size(); ++j) {
        if (live_improvers[j].id != id) continue;
        improver_gone(j, true);
        ++improver_cancels;
        if (separate) return;
        break;
      }
      if (d != kNoDistance && d >= 1) ++cancel_at[bucket(d)];
    }
  }

  template <class R>
  void on_market(const R&, int aggressor, TimestampNs, Qty lots, std::uint64_t execs) {
    ++market[aggressor];
    executions += execs;
    market_sizes.push_back(lots);
  }

  void on_flow(FlowEventType t, TimestampNs ts) {
    if (!origin_set) {
      origin_set = true;
      flow_origin_ns = ts;
    }
    flow.push_back(PointEvent{ns_to_s(ts - flow_origin_ns), static_cast<std::uint32_t>(t)});
  }
};

// ---------------------------------------------------------------------------------------------
// flow_statistics' sink.

struct StatisticsSink {
  FlowStatistics* out = nullptr;
  FlowStatisticsOptions opt;
  TimestampNs next_grid_ns = 0;
  bool grid_started = false;
  double spread_tick_seconds = 0;

  template <class R>
  void grid(const R& r, TimestampNs t0, TimestampNs t1_inclusive) {
    if (!grid_started) {
      grid_started = true;
      out->grid_start_ns = t0;
      next_grid_ns = t0;
    }
    const auto& b = r.book();
    const book::Level bid = b.best(Side::kBid);
    const book::Level ask = b.best(Side::kAsk);
    const double scale = std::pow(10.0, -r.spec().price_decimals);
    const double mid = bid.price != kNoPrice && ask.price != kNoPrice
                           ? 0.5 * (static_cast<double>(bid.price) + static_cast<double>(ask.price)) * scale
                           : kNaN;
    while (next_grid_ns <= t1_inclusive) {
      out->mid.push_back(mid);
      next_grid_ns += opt.sample_interval_ns;
    }
  }

  template <class R>
  void integrate(const R& r, TimestampNs t0, TimestampNs t1) {
    grid(r, t0, t1 - 1);
    const double dt = ns_to_s(t1 - t0);
    const auto& b = r.book();
    const book::Level bid = b.best(Side::kBid);
    const book::Level ask = b.best(Side::kAsk);
    if (bid.price == kNoPrice || ask.price == kNoPrice) return;
    out->two_sided_s += dt;
    const Price diff = ask.price - bid.price;
    const std::int64_t ticks = diff <= 0 ? 0 : diff / r.tick();
    out->spread_time_s[static_cast<std::size_t>(std::min<std::int64_t>(ticks, opt.max_spread_ticks))] += dt;
    spread_tick_seconds += dt * static_cast<double>(ticks);
    for (int s = 0; s < 2; ++s) {
      const Side sd = side_of(s);
      const std::size_t n = std::min<std::size_t>(b.depth(sd), opt.depth_levels);
      for (std::size_t j = 0; j < n; ++j) {
        out->depth_lots[s][j] += dt * static_cast<double>(r.lots(b.level(sd, j).qty));
      }
    }
  }

  template <class R>
  void on_limit(const R&, int, TimestampNs, std::int64_t, Qty, Price, OrderId) {}
  template <class R>
  void on_cancel(const R&, int, TimestampNs, std::int64_t, CancelKind, OrderId) {}
  template <class R>
  void on_market(const R&, int, TimestampNs, Qty, std::uint64_t) {}

  void on_flow(FlowEventType t, TimestampNs ts) {
    out->event_ts_ns.push_back(ts);
    out->event_type.push_back(static_cast<std::uint8_t>(t));
  }
};

template <class Book>
void run_statistics(data::EventSource& src, FlowStatistics& st, const FlowStatisticsOptions& opt) {
  StatisticsSink sink;
  sink.out = &st;
  sink.opt = opt;
  FlowReplay<Book, StatisticsSink> replay(st.instrument, sink);
  replay.run(src);
  if (!replay.started()) throw Error("flow statistics: the source holds no event");
  st.start_ns = replay.start_ns();
  st.end_ns = replay.last_ns();
  st.duration_s = ns_to_s(st.end_ns - st.start_ns);
  sink.grid(replay, replay.last_ns(), replay.last_ns());
  st.events = replay.events();
  st.mid_changes = replay.mid_changes();
  st.book_rejections = replay.rejections();
  st.mean_spread_ticks = st.two_sided_s > 0 ? sink.spread_tick_seconds / st.two_sided_s : kNaN;
}

double clamp_rate(double v) {
  if (!std::isfinite(v)) return 1e-6;
  return std::clamp(v, 1e-6, 1e5);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

PowerLawFit fit_power_law(const std::vector<std::uint64_t>& counts, const std::vector<double>& exposure,
                          double alpha_min, double alpha_max) {
  if (!std::isfinite(alpha_min) || !std::isfinite(alpha_max) || alpha_min > alpha_max) {
    throw Error("fit_power_law: need finite bounds alpha_min <= alpha_max");
  }
  if (counts.size() != exposure.size()) {
    throw Error("fit_power_law: counts and exposure differ in size (" + std::to_string(counts.size()) + " vs " +
                std::to_string(exposure.size()) + ")");
  }
  std::vector<double> li, n, e;  // ln i, N_i, E_i over distances with exposure
  for (std::size_t j = 0; j < counts.size(); ++j) {
    if (!(exposure[j] > 0)) continue;
    li.push_back(std::log(static_cast<double>(j + 1)));
    n.push_back(static_cast<double>(counts[j]));
    e.push_back(exposure[j]);
  }
  double total = 0, target = 0;
  for (std::size_t j = 0; j < n.size(); ++j) {
    total += n[j];
    target += n[j] * li[j];
  }
  if (li.size() < 2) throw Error("fit_power_law: fewer than two distances with exposure");
  if (!(total > 0)) throw Error("fit_power_law: no arrival at any exposed distance");
  target /= total;
  // Profile score: the E_i i^-α-weighted mean of ln i, decreasing in α, equals the count-weighted
  // mean of ln i at the maximum. Weights are scaled by their largest term (no overflow).
  auto weighted_log_mean = [&](double a) {
    double mx = -std::numeric_limits<double>::infinity();
    for (std::size_t j = 0; j < e.size(); ++j) mx = std::max(mx, std::log(e[j]) - a * li[j]);
    double sw = 0, swl = 0;
    for (std::size_t j = 0; j < e.size(); ++j) {
      const double w = std::exp(std::log(e[j]) - a * li[j] - mx);
      sw += w;
      swl += w * li[j];
    }
    return swl / sw;
  };
  double lo = alpha_min, hi = alpha_max;
  double alpha;
  if (weighted_log_mean(lo) <= target) {
    alpha = lo;
  } else if (weighted_log_mean(hi) >= target) {
    alpha = hi;
  } else {
    for (int it = 0; it < 200 && hi - lo > 1e-13; ++it) {
      const double m = 0.5 * (lo + hi);
      (weighted_log_mean(m) > target ? lo : hi) = m;
    }
    alpha = 0.5 * (lo + hi);
  }
  double se_sum = 0;
  for (std::size_t j = 0; j < e.size(); ++j) se_sum += e[j] * std::exp(-alpha * li[j]);
  PowerLawFit f;
  f.alpha = alpha;
  f.k = total / se_sum;
  // Fisher information of (ln k, α): Σ μ_i x_i x_iᵀ with x_i = (1, −ln i) (Poisson regression).
  double i00 = 0, i01 = 0, i11 = 0, ll = 0;
  for (std::size_t j = 0; j < e.size(); ++j) {
    const double mu = e[j] * f.k * std::exp(-alpha * li[j]);
    i00 += mu;
    i01 -= mu * li[j];
    i11 += mu * li[j] * li[j];
    ll += (n[j] > 0 ? n[j] * std::log(mu) : 0.0) - mu - std::lgamma(n[j] + 1);
  }
  const double det = i00 * i11 - i01 * i01;
  if (det > 0) {
    f.k_se = f.k * std::sqrt(i11 / det);
    f.alpha_se = std::sqrt(i00 / det);
  } else {
    f.k_se = f.alpha_se = kNaN;
  }
  f.log_likelihood = ll;
  return f;
}

SizeDistribution size_distribution(std::vector<std::int64_t> sizes) {
  SizeDistribution d;
  d.count = sizes.size();
  d.quantiles.assign(d.quantile_levels.size(), kNaN);
  if (sizes.empty()) return d;
  std::sort(sizes.begin(), sizes.end());
  if (sizes.front() < 1) throw Error("size_distribution: sizes must be >= 1 lot, got " + std::to_string(sizes.front()));
  double sum = 0;
  std::uint64_t ones = 0;
  for (const std::int64_t s : sizes) {
    sum += static_cast<double>(s);
    ones += s == 1;
  }
  const double n = static_cast<double>(sizes.size());
  d.mean = sum / n;
  d.geometric_p = 1.0 / d.mean;
  d.share_of_one = static_cast<double>(ones) / n;
  // F_geo(m) = 1 − (1 − p)^m; F_emp is constant between distinct values v_j ≤ m < v_{j+1}, where
  // |F_emp − F_geo| is largest at an end.
  const double log_q = d.geometric_p >= 1 ? -std::numeric_limits<double>::infinity() : std::log1p(-d.geometric_p);
  auto fgeo = [&](double m) { return m <= 0 ? 0.0 : 1.0 - std::exp(m * log_q); };
  double ks = sizes.front() > 1 ? fgeo(static_cast<double>(sizes.front() - 1)) : 0.0;  // F_emp = 0 below v_0
  for (std::size_t j = 0; j < sizes.size();) {
    const std::int64_t v = sizes[j];
    std::size_t k = j;
    while (k < sizes.size() && sizes[k] == v) ++k;
    const double fe = static_cast<double>(k) / n;
    ks = std::max(ks, std::fabs(fe - fgeo(static_cast<double>(v))));
    if (k < sizes.size()) ks = std::max(ks, std::fabs(fe - fgeo(static_cast<double>(sizes[k] - 1))));
    j = k;
  }
  d.ks_distance = ks;
  for (std::size_t q = 0; q < d.quantile_levels.size(); ++q) {
    const double level = std::clamp(d.quantile_levels[q], 0.0, 1.0);
    const auto idx = static_cast<std::size_t>(std::max(1.0, std::ceil(level * n))) - 1;
    d.quantiles[q] = static_cast<double>(sizes[std::min(idx, sizes.size() - 1)]);
  }
  return d;
}

FleetingMixtureFit fit_fleeting_mixture(const std::vector<double>& life_s, const std::vector<std::uint8_t>& cancelled,
                                        int max_iterations) {
  if (life_s.size() != cancelled.size()) {
    throw Error("fit_fleeting_mixture: life_s and cancelled differ in size (" + std::to_string(life_s.size()) + " vs " +
                std::to_string(cancelled.size()) + ")");
  }
  double total_life = 0, n_cancel = 0;
  for (std::size_t k = 0; k < life_s.size(); ++k) {
    if (!(life_s[k] >= 0) || !std::isfinite(life_s[k])) throw Error("fit_fleeting_mixture: lifetimes must be finite and >= 0");
    total_life += life_s[k];
    n_cancel += cancelled[k] != 0 ? 1.0 : 0.0;
  }
  if (!(n_cancel > 0) || !(total_life > 0)) throw Error("fit_fleeting_mixture: needs a cancel and positive exposure");
  const double n = static_cast<double>(life_s.size());
  const double pooled = n_cancel / total_life;
  FleetingMixtureFit f;
  // Start: half the orders 30 times faster than the pooled rate, the rest at it.
  double phi = 0.5, fast = 30.0 * pooled, slow = pooled;
  std::vector<double> w(life_s.size());
  double ll_prev = -std::numeric_limits<double>::infinity();
  for (int it = 1; it <= max_iterations; ++it) {
    // E step: w_k = P(fast | L_k, δ_k), log densities δ ln θ − θ L.
    double sw = 0, swd = 0, swl = 0, s1d = 0, s1l = 0, ll = 0;
    const double lf = std::log(fast), ls = std::log(slow), lphi = std::log(phi), l1phi = std::log1p(-phi);
    for (std::size_t k = 0; k < life_s.size(); ++k) {
      const double dk = cancelled[k] != 0 ? 1.0 : 0.0;
      const double a = lphi + dk * lf - fast * life_s[k];
      const double b = l1phi + dk * ls - slow * life_s[k];
      const double m = std::max(a, b);
      const double lse = m + std::log(std::exp(a - m) + std::exp(b - m));
      ll += lse;
      const double wk = std::exp(a - lse);
      w[k] = wk;
      sw += wk;
      swd += wk * dk;
      swl += wk * life_s[k];
      s1d += (1 - wk) * dk;
      s1l += (1 - wk) * life_s[k];
    }
    f.log_likelihood = ll;
    f.iterations = it;
    // M step.
    phi = std::clamp(sw / n, 1e-12, 1.0 - 1e-12);
    fast = swl > 0 ? std::max(swd / swl, 1e-12) : fast;
    slow = s1l > 0 ? std::max(s1d / s1l, 1e-12) : slow;
    if (std::fabs(ll - ll_prev) <= 1e-10 * std::max(1.0, std::fabs(ll))) {
      f.converged = true;
      break;
    }
    ll_prev = ll;
  }
  if (fast < slow) {  // label the faster component "fleeting"
    std::swap(fast, slow);
    phi = 1 - phi;
    for (double& x : w) x = 1 - x;
  }
  double nf_cancel = 0, ns_cancel = 0;
  for (std::size_t k = 0; k < w.size(); ++k) {
    if (cancelled[k] != 0) {
      nf_cancel += w[k];
      ns_cancel += 1 - w[k];
    }
  }
  f.share = phi;
  f.fast_rate = fast;
  f.slow_rate = slow;
  f.share_se = std::sqrt(phi * (1 - phi) / n);
  f.fast_rate_se = nf_cancel > 0 ? fast / std::sqrt(nf_cancel) : kNaN;
  f.slow_rate_se = ns_cancel > 0 ? slow / std::sqrt(ns_cancel) : kNaN;
  return f;
}

// ---------------------------------------------------------------------------------------------

FlowCalibration calibrate_flow(data::EventSource& src, const CalibrationOptions& options) {
  if (src.book_level() != data::BookLevel::kL3) {
    throw Error("calibrate_flow: needs an order-by-order (L3) source; " + src.format() + " is L2");
  }
  if (options.max_distance_cap < 1 || options.max_distance_cap > 100'000) {
    throw Error("calibrate_flow: max_distance_cap must be in [1, 100000], got " + std::to_string(options.max_distance_cap));
  }
  if (options.max_distance > options.max_distance_cap) {
    throw Error("calibrate_flow: max_distance " + std::to_string(options.max_distance) + " exceeds max_distance_cap " +
                std::to_string(options.max_distance_cap));
  }
  if (!(options.min_visible_fraction >= 0 && options.min_visible_fraction <= 1)) {
    throw Error("calibrate_flow: min_visible_fraction must be in [0, 1]");
  }
  FlowCalibration c;
  c.instrument = src.instrument();
  c.format = src.format();
  std::uint32_t n_visible = options.visible_levels;
  if (n_visible == 0) {
    if (const auto* lob = dynamic_cast<const data::LobsterReader*>(&src)) n_visible = static_cast<std::uint32_t>(lob->levels());
  }
  c.visible_levels = n_visible;

  CalibrationSink sink;
  sink.init(options.max_distance_cap, n_visible);
  sink.separate = options.joins_and_improvers;
  c.joins_and_improvers = options.joins_and_improvers;
  FlowReplay<book::L3Book, CalibrationSink> replay(c.instrument, sink);
  replay.run(src);
  if (!replay.started()) throw Error("calibrate_flow: the source holds no event");
  if (replay.initial_mid() == kNoPrice) throw Error("calibrate_flow: the book was never two-sided");
  c.start_ns = replay.start_ns();
  c.end_ns = replay.last_ns();
  c.duration_s = ns_to_s(c.end_ns - c.start_ns);
  if (!(c.duration_s > 0)) throw Error("calibrate_flow: the events span no time");
  c.initial_mid = replay.initial_mid();
  c.events = replay.events();
  c.book_rejections = replay.rejections();
  c.trades_without_book_effect = replay.trades_without_book_effect();
  c.modifies_price = replay.modifies_price();
  c.modifies_size_only = replay.modifies_size_only();
  c.source_tolerated = src.tolerated();
  const double T = c.duration_s;
  const std::uint32_t cap = sink.cap;

  // Visible side-seconds at each distance: E_s(i) = Σ_{D >= i} visible_upto_s[s][D].
  std::vector<double> vis[2];
  for (int s = 0; s < 2; ++s) {
    vis[s].assign(cap + 2, 0.0);
    double acc = 0;
    for (std::size_t d = cap; d >= 1; --d) {
      acc += sink.visible_upto_s[s][d];
      vis[s][d] = acc;
    }
  }
  std::uint32_t max_d = options.max_distance;
  if (max_d == 0) {
    std::uint32_t last_arrival = 0;
    for (std::uint32_t d = 1; d <= cap; ++d) {
      if (sink.limit_at[0][d] + sink.limit_at[1][d] > 0) last_arrival = d;
    }
    std::uint32_t last_visible = 0;
    for (std::uint32_t d = 1; d <= cap; ++d) {
      if (std::min(vis[0][d], vis[1][d]) >= options.min_visible_fraction * T) last_visible = d;
    }
    max_d = std::min(last_arrival, last_visible);
    if (max_d == 0) {
      throw Error("calibrate_flow: no distance both received a limit order and was visible " +
                  std::to_string(options.min_visible_fraction) + " of the time; set max_distance");
    }
  }
  c.max_distance = max_d;
  c.visible_fraction_at_max_distance = std::min(vis[0][max_d], vis[1][max_d]) / T;

  c.limit_count.resize(max_d);
  c.limit_exposure_s.resize(max_d);
  c.limit_rate.resize(max_d);
  c.limit_rate_se.resize(max_d);
  c.cancel_count.resize(max_d);
  c.order_exposure_s.resize(max_d);
  c.cancel_rate.resize(max_d);
  c.cancel_rate_se.resize(max_d);
  for (std::uint32_t d = 1; d <= max_d; ++d) {
    const std::size_t j = d - 1;
    c.limit_count[j] = sink.limit_at[0][d] + sink.limit_at[1][d];
    // Joins apart: distance d is exposed to λ(d) only while it is not the own best.
    c.limit_exposure_s[j] = options.joins_and_improvers ? std::max(0.0, vis[0][d] - sink.own_best_s[0][d]) +
                                                              std::max(0.0, vis[1][d] - sink.own_best_s[1][d])
                                                        : vis[0][d] + vis[1][d];
    const double e = c.limit_exposure_s[j];
    c.limit_rate[j] = e > 0 ? static_cast<double>(c.limit_count[j]) / e : 0.0;
    c.limit_rate_se[j] = e > 0 ? std::sqrt(static_cast<double>(c.limit_count[j])) / e : kNaN;
    c.cancel_count[j] = sink.cancel_at[d];
    c.order_exposure_s[j] = sink.exposure_at[d];
    const double x = c.order_exposure_s[j];
    c.cancel_rate[j] = x > 0 ? static_cast<double>(c.cancel_count[j]) / x : kNaN;
    c.cancel_rate_se[j] = x > 0 ? std::sqrt(static_cast<double>(c.cancel_count[j])) / x : kNaN;
  }
  for (std::uint32_t d = max_d + 1; d <= cap + 1; ++d) {
    c.limit_orders_beyond_max_distance += sink.limit_at[0][d] + sink.limit_at[1][d];
    c.cancels_beyond += sink.cancel_at[d];
    c.order_exposure_beyond_s += sink.exposure_at[d];
  }
  c.cancel_rate_beyond = c.order_exposure_beyond_s > 0 ? static_cast<double>(c.cancels_beyond) / c.order_exposure_beyond_s : kNaN;
  c.limit_orders = sink.limit_orders;
  c.join_count = sink.joins;
  for (int s = 0; s < 2; ++s) {
    for (const double v : sink.own_best_s[s]) c.join_exposure_s += v;
  }
  c.join_rate = c.join_exposure_s > 0 ? static_cast<double>(c.join_count) / c.join_exposure_s : 0.0;
  c.join_rate_se = c.join_exposure_s > 0 ? std::sqrt(static_cast<double>(c.join_count)) / c.join_exposure_s : kNaN;
  c.improver_count = sink.improvers;
  c.improver_cancel_count = sink.improver_cancels;
  c.improver_exposure_s = sink.improver_exposure;
  const double xi = c.improver_exposure_s;
  c.improver_pooled_cancel_rate = xi > 0 ? static_cast<double>(c.improver_cancel_count) / xi : kNaN;
  while (!sink.live_improvers.empty()) sink.improver_gone(sink.live_improvers.size() - 1, false);
  if (c.improver_cancel_count > 0 && xi > 0) {
    const FleetingMixtureFit m = fit_fleeting_mixture(sink.improver_life_s, sink.improver_cancelled);
    c.improver_fleeting_share = m.share;
    c.improver_fleeting_share_se = m.share_se;
    c.improver_cancel_rate = m.fast_rate;
    c.improver_cancel_rate_se = m.fast_rate_se;
    c.improver_slow_cancel_rate = m.slow_rate;
    c.improver_slow_cancel_rate_se = m.slow_rate_se;
  } else {
    c.improver_fleeting_share = c.improver_fleeting_share_se = kNaN;
    c.improver_cancel_rate = c.improver_cancel_rate_se = kNaN;
    c.improver_slow_cancel_rate = c.improver_slow_cancel_rate_se = kNaN;
  }
  c.limit_orders_without_reference = sink.without_reference;
  c.limit_orders_crossing = sink.crossing;

  std::size_t exposed = 0;
  std::uint64_t arrivals = 0;
  for (std::uint32_t j = 0; j < max_d; ++j) {
    if (c.limit_exposure_s[j] > 0) {
      ++exposed;
      arrivals += c.limit_count[j];
    }
  }
  if (arrivals == 0) {
    c.limit_rate_k = c.limit_rate_alpha = 0;
    c.limit_rate_k_se = c.limit_rate_alpha_se = c.limit_rate_k_free = c.limit_rate_alpha_free = kNaN;
  } else if (exposed < 2) {
    c.limit_rate_k = c.limit_rate[0];
    c.limit_rate_k_se = c.limit_rate_se[0];
    c.limit_rate_alpha = 0;
    c.limit_rate_alpha_se = c.limit_rate_k_free = c.limit_rate_alpha_free = kNaN;
  } else {
    const PowerLawFit free = fit_power_law(c.limit_count, c.limit_exposure_s);
    c.limit_rate_k_free = free.k;
    c.limit_rate_alpha_free = free.alpha;
    const PowerLawFit pl = free.alpha >= 0 ? free : fit_power_law(c.limit_count, c.limit_exposure_s, 0.0, 10.0);
    c.limit_rate_k = pl.k;
    c.limit_rate_k_se = pl.k_se;
    c.limit_rate_alpha = pl.alpha;
    c.limit_rate_alpha_se = pl.alpha_se;
  }

  c.market_orders[0] = sink.market[0];
  c.market_orders[1] = sink.market[1];
  const double nm = static_cast<double>(sink.market[0] + sink.market[1]);
  c.market_rate = nm / (2 * T);
  c.market_rate_se = std::sqrt(nm) / (2 * T);
  c.executions = sink.executions;

  c.cancels = sink.cancels;
  c.partial_cancels = sink.partial;
  c.cancels_of_unknown_orders = sink.unknown;
  c.limit_sizes = size_distribution(std::move(sink.limit_sizes));
  c.market_sizes = size_distribution(std::move(sink.market_sizes));

  HawkesCalibration& h = c.hawkes;
  for (std::uint32_t t = 0; t < kFlowHawkesDims; ++t) h.types.emplace_back(to_string(static_cast<FlowEventType>(t)));
  h.counts.assign(kFlowHawkesDims, 0);
  std::vector<PointEvent>& ev = sink.flow;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double shift_s = 0;  // origin moved to the earliest flow event
  // Exchange stamps may step back (Databento ts_event is not monotone): the fit needs time order.
  if (!std::is_sorted(ev.begin(), ev.end(), [](const PointEvent& a, const PointEvent& b) { return a.t < b.t; })) {
    std::stable_sort(ev.begin(), ev.end(), [](const PointEvent& a, const PointEvent& b) { return a.t < b.t; });
    shift_s = ev.front().t;
    for (PointEvent& p : ev) p.t -= shift_s;
    h.note = "flow events sorted by exchange time";
  }
  if (options.hawkes_max_events != 0 && ev.size() > options.hawkes_max_events) {
    const double last_in = ev[options.hawkes_max_events - 1].t;
    h.horizon_s = std::max(ev[options.hawkes_max_events].t, std::nextafter(last_in, kInf));
    ev.resize(options.hawkes_max_events);
    h.note += (h.note.empty() ? "" : "; ") + ("first " + std::to_string(options.hawkes_max_events) + " flow events");
  } else if (!ev.empty()) {
    // Window [first flow event, last event]; every event strictly inside it.
    h.horizon_s = std::max(ns_to_s(c.end_ns - sink.flow_origin_ns) - shift_s, std::nextafter(ev.back().t, kInf));
  }
  for (const PointEvent& p : ev) ++h.counts[p.type];
  if (options.fit_hawkes) {
    const auto fewest = *std::min_element(h.counts.begin(), h.counts.end());
    if (fewest < 10) {
      h.note = "not fitted: fewer than 10 events of a type";
    } else if (!(h.horizon_s > 0)) {
      h.note = "not fitted: the flow events span no time";
    } else {
      h.fit = fit_hawkes(ev, h.horizon_s, kFlowHawkesDims, options.hawkes_beta_shared);
      h.fitted = true;
    }
  } else {
    h.note = "not fitted (disabled)";
  }
  return c;
}

SyntheticMarketConfig FlowCalibration::synthetic_config(FlowModel flow) const {
  SyntheticMarketConfig s;
  if (flow == FlowModel::kHawkes && !hawkes.fitted) {
    throw Error("calibration: no Hawkes fit for a Hawkes-mode market (" + hawkes.note + ")");
  }
  s.flow = flow;
  if (hawkes.fitted) {
    s.hawkes_mu = hawkes.fit.params.mu;
    // The generator needs a positive cancel baseline (θ(i) is modulated by the cancel intensity
    // relative to its mean); a fit may put all of it in the excitation.
    for (std::uint32_t i = flow_type::kCancelBid; i <= flow_type::kCancelAsk; ++i) {
      s.hawkes_mu[i] = std::max(s.hawkes_mu[i], 1e-6);
    }
    s.hawkes_alpha = hawkes.fit.params.alpha;
    s.hawkes_beta = hawkes.fit.params.beta;
  }
  const std::string sym = instrument.symbol_str();
  s.symbol = (sym.empty() ? std::string("SYN") : "SYN-" + sym).substr(0, 23);
  s.price_decimals = instrument.price_decimals;
  s.tick_size = instrument.tick_size;
  s.initial_mid = initial_mid;
  s.max_distance = max_distance;
  s.limit_rate_k = std::clamp(std::isfinite(limit_rate_k) ? limit_rate_k : 0.0, 0.0, 1e5);
  s.limit_rate_alpha = std::clamp(std::isfinite(limit_rate_alpha) ? limit_rate_alpha : 0.0, 0.0, 10.0);
  // λ(i) explicitly (the power law cannot express rates that grow with distance): the empirical
  // rates where E(i) > 0, a distance without exposure takes the nearest exposed one; each clamped
  // to [10^-6, 10^5] /s (a distance with exposure but no arrival gets 10^-6). Empty when no limit
  // order arrived (the generator then uses k = 0).
  s.limit_rates.clear();
  if (limit_rate_k > 0) {
    for (std::size_t j = 0; j < limit_rate.size(); ++j) {
      double v = kNaN;
      for (std::size_t r = 0; r < limit_rate.size() && std::isnan(v); ++r) {
        if (j >= r && limit_exposure_s[j - r] > 0) {
          v = limit_rate[j - r];
        } else if (j + r < limit_rate.size() && limit_exposure_s[j + r] > 0) {
          v = limit_rate[j + r];
        }
      }
      s.limit_rates.push_back(clamp_rate(v));
    }
  }
  s.market_rate = std::clamp(market_rate, 0.0, 1e5);
  s.join_rate = joins_and_improvers && join_count > 0 ? std::clamp(join_rate, 0.0, 1e5) : 0.0;
  const bool improvers_fitted = joins_and_improvers && improver_cancel_count > 0 && improver_exposure_s > 0 &&
                                std::isfinite(improver_cancel_rate) && improver_fleeting_share > 0;
  s.improver_cancel_rate = improvers_fitted ? clamp_rate(improver_cancel_rate) : 0.0;
  s.improver_fleeting_share = improvers_fitted ? std::clamp(improver_fleeting_share, 1e-6, 1.0) : 1.0;
  // θ(i) where X(i) > 0; a distance without exposure takes the nearest one that has it.
  std::vector<double> th(cancel_rate.size(), kNaN);
  for (std::size_t j = 0; j < th.size(); ++j) {
    if (order_exposure_s[j] > 0) th[j] = cancel_rate[j];
  }
  for (std::size_t j = 0; j < th.size(); ++j) {
    if (!std::isnan(th[j])) continue;
    for (std::size_t r = 1; r < th.size(); ++r) {
      if (j >= r && order_exposure_s[j - r] > 0) {
        th[j] = cancel_rate[j - r];
        break;
      }
      if (j + r < th.size() && order_exposure_s[j + r] > 0) {
        th[j] = cancel_rate[j + r];
        break;
      }
    }
  }
  s.cancel_rates.clear();
  for (const double v : th) s.cancel_rates.push_back(clamp_rate(v));
  if (order_exposure_beyond_s > 0) s.cancel_rates.push_back(clamp_rate(cancel_rate_beyond));
  if (s.cancel_rates.empty()) s.cancel_rates.push_back(1.0);
  s.mean_order_size = std::clamp(limit_sizes.count > 0 ? limit_sizes.mean : 1.0, 1.0, 1e9);
  s.mean_market_order_size = market_sizes.count > 0 ? std::clamp(market_sizes.mean, 1.0, 1e9) : 0.0;
  double orders_per_tick = 0;
  for (const double x : order_exposure_s) orders_per_tick += x;
  orders_per_tick /= 2.0 * duration_s * static_cast<double>(std::max<std::uint32_t>(max_distance, 1));
  s.opening_orders_per_level = static_cast<std::uint32_t>(std::max(1.0, std::round(orders_per_tick)));
  s.duration_s = duration_s;
  s.start_ns = start_ns;
  return s;
}

FlowStatistics flow_statistics(data::EventSource& src, const FlowStatisticsOptions& options) {
  if (options.sample_interval_ns <= 0) throw Error("flow_statistics: sample_interval_ns must be > 0");
  if (options.depth_levels < 1 || options.depth_levels > 1000) throw Error("flow_statistics: depth_levels must be in [1, 1000]");
  if (options.max_spread_ticks < 1 || options.max_spread_ticks > 1'000'000) {
    throw Error("flow_statistics: max_spread_ticks must be in [1, 1000000]");
  }
  FlowStatistics st;
  st.instrument = src.instrument();
  st.format = src.format();
  st.sample_interval_ns = options.sample_interval_ns;
  st.spread_time_s.assign(options.max_spread_ticks + 1, 0.0);
  for (auto& d : st.depth_lots) d.assign(options.depth_levels, 0.0);
  if (src.book_level() == data::BookLevel::kL3) {
    run_statistics<book::L3Book>(src, st, options);
  } else {
    run_statistics<book::L2Book>(src, st, options);
  }
  for (auto& d : st.depth_lots) {
    for (double& v : d) v = st.two_sided_s > 0 ? v / st.two_sided_s : kNaN;
  }
  return st;
}

}  // namespace mmkit::sim
