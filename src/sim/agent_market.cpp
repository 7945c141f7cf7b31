#include "mmkit/sim/agent_market.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "mmkit/core/error.h"
#include "mmkit/exchange/models.h"

// Floating-point determinism (src/sim/det_math.h): every double that decides something
// (waiting times, sizes, normal draws, V, the informed gap, the makers' quotes) is computed in the
// MMKIT_DET_FP functions below or det::log, with + - * /, sqrt and frexp only; everything else is
// integer arithmetic.
#include "det_math.h"
#include "level_book.h"

namespace mmkit::sim {

const char* to_string(AgentType t) noexcept {
  switch (t) {
    case AgentType::kNoise: return "noise";
    case AgentType::kInformed: return "informed";
    case AgentType::kMomentum: return "momentum";
    case AgentType::kMaker: return "maker";
  }
  return "?";
}

namespace {

constexpr char kWhere[] = "agent market config";
using level_book::kAsk;
using level_book::kBid;
using level_book::kNil;
constexpr std::uint32_t kOpeningOwner = 0xFFFFFFFEu;  ///< opening-book orders (noise liquidity)
constexpr std::int64_t kNoLimitBuy = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kNoLimitSell = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMaxWaitNs = 4'000'000'000'000'000'000;  ///< saturation of a waiting time

constexpr double kMaxRate = 1e5;             ///< per second, per agent
constexpr std::uint32_t kMaxPopulation = 1'000'000;  ///< per agent type
constexpr double kMaxDurationS = 1e9;
constexpr double kMaxLots = 1e9;
constexpr double kMaxTicks = 1e6;
constexpr std::uint64_t kMaxOpeningOrders = 1'000'000;


/// Exponential waiting time in ns with mean `mean_ns`, by inversion: −ln(1−u) × mean, u uniform
/// in [0, 1), rounded to the nearest ns, saturated at kMaxWaitNs.
MMKIT_DET_FP std::int64_t exp_wait_ns(double u, double mean_ns) noexcept {
  MMKIT_DET_FP_BODY
  const double w = -det::log(1.0 - u) * mean_ns;
  if (!(w < 4e18)) return kMaxWaitNs;
  return w > 0 ? static_cast<std::int64_t>(w + 0.5) : 0;
}

/// Geometric on {1, 2, …} by inversion: 1 + ⌊ln(1−u) / ln q⌋, q the continuation probability
/// (P(X > k) = q^k, mean 1/(1−q)); log_q = 0 means X = 1.
MMKIT_DET_FP std::int64_t geometric(double u, double log_q) noexcept {
  MMKIT_DET_FP_BODY
  if (log_q == 0.0) return 1;
  const double k = det::log(1.0 - u) / log_q;
  if (!(k < 1e15)) return 1'000'000'000'000'000;
  return 1 + (k > 0 ? static_cast<std::int64_t>(k) : 0);
}

/// Standard normal by Marsaglia's polar method (Marsaglia & Bray 1964); one of the pair is kept.
MMKIT_DET_FP double std_normal(exchange::Rng& rng) noexcept {
  MMKIT_DET_FP_BODY
  for (;;) {
    const double u = 2.0 * rng.uniform() - 1.0;
    const double v = 2.0 * rng.uniform() - 1.0;
    const double s = u * u + v * v;
    if (s > 0.0 && s < 1.0) return u * std::sqrt(-2.0 * det::log(s) / s);
  }
}

/// x + a × z, rounded twice (no FMA).
MMKIT_DET_FP double add_scaled(double x, double a, double z) noexcept {
  MMKIT_DET_FP_BODY
  return x + a * z;
}

/// signal − mid = (v + sd × z) − mid.
MMKIT_DET_FP double signal_gap(double v, double sd, double z, double mid) noexcept {
  MMKIT_DET_FP_BODY
  return (v + sd * z) - mid;
}

/// round(base + per × excess), capped at `cap`, at least 1 lot.
MMKIT_DET_FP Qty linear_size(double base, double per, double excess, double cap) noexcept {
  MMKIT_DET_FP_BODY
  double s = base + per * excess;
  if (!(s < cap)) s = cap;
  const auto q = static_cast<Qty>(s + 0.5);
  return q < 1 ? 1 : q;
}

/// Maker quotes on the tick grid: c = ref − skew × position; bid = c − h and ask = c + h, each
/// rounded to the nearest tick with ties away from c (bid = ⌈c − h − ½⌉, ask = ⌊c + h + ½⌋);
/// ask >= bid + 1.
MMKIT_DET_FP void maker_quote(double ref, double skew, double position, double h,
                                 std::int64_t& bid, std::int64_t& ask) noexcept {
  MMKIT_DET_FP_BODY
  const double c = ref - skew * position;
  bid = static_cast<std::int64_t>(std::ceil((c - h) - 0.5));
  ask = static_cast<std::int64_t>(std::floor((c + h) + 0.5));
  if (ask <= bid) ask = bid + 1;
}

/// acc + (v − tick) × qty for a buy, acc + (tick − v) × qty for a sell.
MMKIT_DET_FP double add_edge(double acc, double v, std::int64_t tick, Qty qty, bool buy) noexcept {
  MMKIT_DET_FP_BODY
  const double d = v - static_cast<double>(tick);
  return acc + (buy ? d : -d) * static_cast<double>(qty);
}

/// Microprice (b × Q_a + a × Q_b) / (Q_a + Q_b), ticks (Stoikov 2018's weighted mid).
MMKIT_DET_FP double microprice(std::int64_t b, std::int64_t a, Qty qb, Qty qa) noexcept {
  MMKIT_DET_FP_BODY
  const double wb = static_cast<double>(qb);
  const double wa = static_cast<double>(qa);
  return (static_cast<double>(b) * wa + static_cast<double>(a) * wb) / (wa + wb);
}

// ---- validation --------------------------------------------------------------------------------

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

[[noreturn]] void bad(const std::string& field, const std::string& what) {
  throw Error(SourceLocation(kWhere, 0, field), what);
}

void check_range(const char* field, double v, double lo, double hi, const char* unit) {
  if (!std::isfinite(v) || v < lo || v > hi) {
    bad(field, std::string("must be in [") + num(lo) + ", " + num(hi) + "] " + unit + ", got " + num(v));
  }
}

void check_positive(const char* field, double v, double hi, const char* unit) {
  if (!std::isfinite(v) || v <= 0 || v > hi) {
    bad(field, std::string("must be in (0, ") + num(hi) + "] " + unit + ", got " + num(v));
  }
}

void check_count(const char* field, std::uint64_t v, std::uint64_t lo, std::uint64_t hi) {
  if (v < lo || v > hi) {
    bad(field, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                   std::to_string(v));
  }
}

std::int64_t tick_below(Price price, Price tick) {
  return price % tick == 0 ? price / tick - 1 : price / tick;
}

}  // namespace

void validate(const AgentMarketConfig& c) {
  if (c.symbol.empty() || c.symbol.size() > 23) {
    bad("symbol", "must have 1 to 23 characters, got " + std::to_string(c.symbol.size()));
  }
  if (c.price_decimals < 0 || c.price_decimals > 18) {
    bad("price_decimals", "must be in [0, 18], got " + std::to_string(c.price_decimals));
  }
  if (c.tick_size <= 0) bad("tick_size", "must be > 0 raw units, got " + std::to_string(c.tick_size));
  if (c.initial_price <= 0 || c.initial_price > std::numeric_limits<std::int64_t>::max() / 4) {
    bad("initial_price", "must be in (0, 2^61) raw units, got " + std::to_string(c.initial_price));
  }
  check_count("opening_levels", c.opening_levels, 1, 100'000);
  check_count("opening_orders_per_level", c.opening_orders_per_level, 1, kMaxOpeningOrders);
  if (2ull * c.opening_levels * c.opening_orders_per_level > kMaxOpeningOrders) {
    bad("opening_orders_per_level", "2 × opening_levels × opening_orders_per_level must be <= " +
                                        std::to_string(kMaxOpeningOrders));
  }
  // The opening book needs opening_levels bid levels at prices >= one tick.
  if (tick_below(c.initial_price, c.tick_size) < static_cast<std::int64_t>(c.opening_levels)) {
    bad("initial_price", "must leave opening_levels (" + std::to_string(c.opening_levels) +
                             ") bid levels above zero: need initial_price > " +
                             std::to_string(static_cast<std::int64_t>(c.opening_levels) * c.tick_size) +
                             " raw units, got " + std::to_string(c.initial_price));
  }
  check_positive("duration_s", c.duration_s, kMaxDurationS, "seconds");
  if (c.start_ns < 0) bad("start_ns", "must be >= 0 ns since the epoch, got " + std::to_string(c.start_ns));
  if (c.feed_latency_ns < 0 || c.feed_latency_ns > 1'000'000'000'000'000) {
    bad("feed_latency_ns", "must be in [0, 10^15] ns, got " + std::to_string(c.feed_latency_ns));
  }
  const auto duration_ns = static_cast<std::int64_t>(std::llround(c.duration_s * 1e9));
  if (c.start_ns > std::numeric_limits<std::int64_t>::max() - duration_ns - c.feed_latency_ns) {
    bad("start_ns", "start_ns + duration + feed_latency_ns overflows int64 ns");
  }

  check_range("fundamental_vol_ticks", c.fundamental_vol_ticks, 0, 1e4, "ticks per sqrt(second)");
  check_range("fundamental_step_s", c.fundamental_step_s, 1e-6, 86'400, "seconds");
  check_range("fundamental_jump_rate", c.fundamental_jump_rate, 0, 1e3, "per second");
  check_range("fundamental_jump_std_ticks", c.fundamental_jump_std_ticks, 0, kMaxTicks, "ticks");

  check_count("noise_traders", c.noise_traders, 0, kMaxPopulation);
  check_positive("noise_rate", c.noise_rate, kMaxRate, "per second");
  check_range("noise_market_prob", c.noise_market_prob, 0, 1, "");
  check_range("noise_limit_mean_distance_ticks", c.noise_limit_mean_distance_ticks, 1, 1e4, "ticks");
  check_count("noise_limit_max_distance_ticks", c.noise_limit_max_distance_ticks, 1, 100'000);
  check_range("noise_mean_size_lots", c.noise_mean_size_lots, 1, kMaxLots, "lots");
  check_range("noise_order_lifetime_s", c.noise_order_lifetime_s, 1e-6, kMaxDurationS, "seconds");

  check_count("informed_traders", c.informed_traders, 0, kMaxPopulation);
  check_positive("informed_rate", c.informed_rate, kMaxRate, "per second");
  check_range("informed_signal_std_ticks", c.informed_signal_std_ticks, 0, kMaxTicks, "ticks");
  check_range("informed_threshold_ticks", c.informed_threshold_ticks, 0, kMaxTicks, "ticks");
  check_range("informed_base_size_lots", c.informed_base_size_lots, 1, kMaxLots, "lots");
  check_range("informed_size_per_tick_lots", c.informed_size_per_tick_lots, 0, kMaxLots, "lots per tick");
  check_range("informed_max_size_lots", c.informed_max_size_lots, c.informed_base_size_lots, kMaxLots,
              "lots (>= informed_base_size_lots)");
  check_range("informed_market_prob", c.informed_market_prob, 0, 1, "");
  check_count("informed_limit_ticks", c.informed_limit_ticks, 0, 1'000'000);

  check_count("momentum_traders", c.momentum_traders, 0, kMaxPopulation);
  check_positive("momentum_rate", c.momentum_rate, kMaxRate, "per second");
  check_range("momentum_lookback_s", c.momentum_lookback_s, 1e-3, 86'400, "seconds");
  check_range("momentum_threshold_ticks", c.momentum_threshold_ticks, 0, kMaxTicks, "ticks");
  check_range("momentum_base_size_lots", c.momentum_base_size_lots, 1, kMaxLots, "lots");
  check_range("momentum_size_per_tick_lots", c.momentum_size_per_tick_lots, 0, kMaxLots, "lots per tick");
  check_range("momentum_max_size_lots", c.momentum_max_size_lots, c.momentum_base_size_lots, kMaxLots,
              "lots (>= momentum_base_size_lots)");

  check_count("makers", c.makers, 0, kMaxPopulation);
  check_range("maker_half_spread_ticks", c.maker_half_spread_ticks, 0, 1e4, "ticks");
  check_range("maker_skew_ticks_per_lot", c.maker_skew_ticks_per_lot, 0, 1e4, "ticks per lot");
  if (c.maker_order_size_lots < 1 || c.maker_order_size_lots > 1'000'000'000) {
    bad("maker_order_size_lots", "must be in [1, 10^9] lots, got " + std::to_string(c.maker_order_size_lots));
  }
  if (c.maker_max_position_lots < 0 || c.maker_max_position_lots > 1'000'000'000'000) {
    bad("maker_max_position_lots",
        "must be in [0, 10^12] lots, got " + std::to_string(c.maker_max_position_lots));
  }
  check_range("maker_requote_interval_s", c.maker_requote_interval_s, 1e-6, 1e6, "seconds");
}

namespace {

// ---------------------------------------------------------------------------------------------

enum class WakeKind : std::uint8_t {
  kFundamental,  ///< V's Brownian step
  kJump,         ///< a jump of V
  kNoise,        ///< noise trader `agent` acts
  kNoiseCancel,  ///< the trader of order `order` (node `agent`) cancels it, if still resting
  kInformed,
  kMomentum,
  kMaker,        ///< maker `agent` requotes
};

/// One entry of the global wake-up queue, a binary min-heap on (t, seq): equal times in the
/// order they were scheduled.
struct Wake {
  std::int64_t t = 0;      ///< ns since start
  std::uint64_t seq = 0;
  OrderId order = 0;
  std::uint32_t agent = 0;
  WakeKind kind = WakeKind::kNoise;
};

struct WakeLater {
  bool operator()(const Wake& a, const Wake& b) const noexcept {
    return a.t != b.t ? a.t > b.t : a.seq > b.seq;
  }
};

struct Node {
  OrderId id = 0;  ///< 0 while the slot is free
  Qty qty = 0;     ///< remaining lots
  std::int64_t tick = 0;
  std::uint32_t prev = kNil;  ///< towards the front of the queue
  std::uint32_t next = kNil;  ///< towards the back; free-list link when free
  std::uint32_t owner = kNil; ///< agent index, or kOpeningOwner
  std::uint8_t side = 0;
};
/// One price level of the ring; count == 0 means empty.
struct Level {
  std::int64_t tick = 0;
  std::uint32_t head = kNil;
  std::uint32_t tail = kNil;
  std::uint32_t count = 0;
  Qty total = 0;
};
/// `best` stays at the last best price when the side empties: it remains the reference of
/// the other side's noise limit orders.
using BookSide = level_book::SideTicks;

class AgentMarketImpl final : public AgentMarket,
                              private level_book::LevelBook<Level, Node, BookSide>,
                              private level_book::EventOutput {
 public:
  explicit AgentMarketImpl(const AgentMarketConfig& c)
      : cfg_(c),
        spec_(level_book::generated_instrument(c.symbol, "AGENTS", c.price_decimals, c.tick_size)),
        rng_(c.seed),
        end_ns_(std::llround(c.duration_s * 1e9)) {
    informed_base_ = c.noise_traders;
    momentum_base_ = informed_base_ + c.informed_traders;
    maker_base_ = momentum_base_ + c.momentum_traders;
    agents_ = maker_base_ + c.makers;
    makers_.assign(c.makers, MakerState{});
    stats_.maker_position.assign(c.makers, 0);

    noise_mean_ns_ = 1e9 / c.noise_rate;
    informed_mean_ns_ = 1e9 / c.informed_rate;
    momentum_mean_ns_ = 1e9 / c.momentum_rate;
    lifetime_mean_ns_ = c.noise_order_lifetime_s * 1e9;
    jump_mean_ns_ = c.fundamental_jump_rate > 0 ? 1e9 / c.fundamental_jump_rate : 0;
    step_ns_ = std::max<std::int64_t>(1, std::llround(c.fundamental_step_s * 1e9));
    v_step_sd_ = c.fundamental_vol_ticks * std::sqrt(static_cast<double>(step_ns_) * 1e-9);
    maker_interval_ns_ = std::max<std::int64_t>(1, std::llround(c.maker_requote_interval_s * 1e9));
    momentum_lookback_ns_ = std::max<std::int64_t>(1, std::llround(c.momentum_lookback_s * 1e9));
    size_log_q_ = c.noise_mean_size_lots > 1 ? det::log(1.0 - 1.0 / c.noise_mean_size_lots) : 0.0;
    distance_log_q_ = c.noise_limit_mean_distance_ticks > 1
                          ? det::log(1.0 - 1.0 / c.noise_limit_mean_distance_ticks)
                          : 0.0;

    init_book(4ull * (c.opening_levels + c.noise_limit_max_distance_ticks) + 64,
              std::max<std::size_t>(1024, 4ull * c.opening_levels * c.opening_orders_per_level));
    heap_.reserve(agents_ + 1024);

    const std::int64_t bid = tick_below(c.initial_price, c.tick_size);
    side_[kBid].best = bid;
    side_[kAsk].best = c.initial_price / c.tick_size + 1;
    last_mid2_ = side_[kBid].best + side_[kAsk].best;
    value_ = static_cast<double>(c.initial_price) / static_cast<double>(c.tick_size);
  }

  const InstrumentSpec& instrument() const override { return spec_; }
  data::BookLevel book_level() const override { return data::BookLevel::kL3; }
  std::uint64_t records() const override { return record_; }
  const data::Counters& tolerated() const override { return tolerated_; }
  std::string format() const override { return "agents"; }
  std::string locate(std::uint64_t record) const override {
    return "agent market (symbol " + cfg_.symbol + ", seed " + std::to_string(cfg_.seed) +
           ") record " + std::to_string(record) + (record == 0 ? " (opening book)" : "");
  }

  double fundamental_ticks() const override { return value_; }
  TimestampNs now_ns() const override { return cfg_.start_ns + now_; }
  const AgentMarketStats& stats() const override { return stats_; }
  const AgentMarketConfig& config() const override { return cfg_; }

  std::size_t read(Event* out, std::size_t capacity) override {
    begin_read(out, capacity);
    while (n_ < cap_ && !done_) step();
    out_ = nullptr;
    return n_;
  }

 private:
  struct MakerState {
    std::uint32_t bid = kNil;  ///< node of the resting bid
    std::uint32_t ask = kNil;
  };

  // ---- agents ----

  AgentType type_of(std::uint32_t owner) const noexcept {
    if (owner == kOpeningOwner || owner < informed_base_) return AgentType::kNoise;
    if (owner < momentum_base_) return AgentType::kInformed;
    if (owner < maker_base_) return AgentType::kMomentum;
    return AgentType::kMaker;
  }
  AgentTypeStats& stats_of(AgentType t) { return stats_.by_type[static_cast<int>(t)]; }

  /// Accounts a trade of `qty` lots at `tick` for agent type t.
  void account(AgentType t, bool buy, std::int64_t tick, Qty qty) {
    AgentTypeStats& st = stats_of(t);
    if (buy) {
      st.bought += qty;
      st.cash_ticks -= tick * qty;
    } else {
      st.sold += qty;
      st.cash_ticks += tick * qty;
    }
    st.value_edge_ticks = add_edge(st.value_edge_ticks, value_, tick, qty, buy);
  }

  // ---- the wake-up queue ----

  void schedule(std::int64_t t, WakeKind kind, std::uint32_t agent, OrderId order = 0) {
    heap_.push_back(Wake{t, seq_++, order, agent, kind});
    std::push_heap(heap_.begin(), heap_.end(), WakeLater{});
  }
  Wake pop_wake() {
    std::pop_heap(heap_.begin(), heap_.end(), WakeLater{});
    const Wake w = heap_.back();
    heap_.pop_back();
    return w;
  }
  std::int64_t after(double mean_ns) {
    const std::int64_t w = exp_wait_ns(rng_.uniform(), mean_ns);
    return w > kMaxWaitNs - now_ ? kMaxWaitNs : now_ + w;
  }

  // ---- the matching engine (price-time priority) ----

  /// Queues a new order of `owner` last at (s, tick) and emits its kAdd. The caller guarantees
  /// it does not cross.
  std::uint32_t rest(int s, std::int64_t tick, Qty qty, std::uint32_t owner) {
    ensure_room(tick);
    const std::uint32_t n = alloc_node();
    Level& l = level(tick);
    const OrderId id = next_id_++;
    nodes_[n] = Node{id, qty, tick, kNil, kNil, owner, static_cast<std::uint8_t>(s)};
    if (l.count == 0) {
      l = Level{tick, n, n, 1, qty};
    } else {
      nodes_[n].prev = l.tail;
      nodes_[l.tail].next = n;
      l.tail = n;
      ++l.count;
      l.total += qty;
    }
    widen(s, tick);
    emit(EventKind::kAdd, s, tick, qty, id);
    return n;
  }

  /// Takes node n (remaining qty included) out of the book, frees it, and clears a maker's slot.
  void remove(std::uint32_t n) {
    Node& node = nodes_[n];
    Level& l = level(node.tick);
    if (node.prev != kNil) {
      nodes_[node.prev].next = node.next;
    } else {
      l.head = node.next;
    }
    if (node.next != kNil) {
      nodes_[node.next].prev = node.prev;
    } else {
      l.tail = node.prev;
    }
    l.total -= node.qty;
    --l.count;
    if (node.owner != kOpeningOwner && node.owner >= maker_base_) {
      MakerState& m = makers_[node.owner - maker_base_];
      if (m.bid == n) m.bid = kNil;
      if (m.ask == n) m.ask = kNil;
    }
    const int s = node.side;
    const std::int64_t tick = node.tick;
    node.id = 0;
    free_node(n);
    if (l.count == 0) vacate(s, tick);
  }

  void cancel(std::uint32_t n) {
    const Node& node = nodes_[n];
    emit(EventKind::kCancel, node.side, node.tick, node.qty, node.id);
    remove(n);
  }

  /// Walks side s (the resting side) from its best, FIFO within each level, taking up to `qty`
  /// lots at ticks no worse than `limit` (asks <= limit, bids >= limit): one kExecution per
  /// resting order hit. Returns the quantity left.
  Qty take(int s, Qty qty, std::int64_t limit, AgentType taker) {
    BookSide& b = side_[s];
    while (qty > 0 && !b.empty) {
      const std::int64_t tick = b.best;
      if (s == kAsk ? tick > limit : tick < limit) break;
      const std::uint32_t n = level(tick).head;
      Node& node = nodes_[n];
      const Qty x = std::min(qty, node.qty);
      emit(EventKind::kExecution, s, tick, x, node.id);
      const AgentType owner = type_of(node.owner);
      account(owner, s == kBid, tick, x);
      if (owner == AgentType::kMaker) {
        stats_.maker_position[node.owner - maker_base_] += s == kBid ? x : -x;
      }
      account(taker, s == kAsk, tick, x);
      qty -= x;
      if (x == node.qty) {
        remove(n);
      } else {
        node.qty -= x;
        level(tick).total -= x;
      }
    }
    return qty;
  }

  /// A market order against resting side s.
  void market_order(int s, Qty qty, AgentType who) {
    if (side_[s].empty) {
      tolerated_.add("agents.market_orders_on_empty_side");
      return;
    }
    const Qty left = take(s, qty, s == kAsk ? kNoLimitBuy : kNoLimitSell, who);
    if (left > 0) tolerated_.add("agents.market_qty_beyond_book", static_cast<std::uint64_t>(left));
  }

  /// Best tick of side s without the order in node `mine` (kNil: none); false if none.
  bool best_excluding(int s, std::uint32_t mine, std::int64_t& out) {
    const BookSide& b = side_[s];
    if (b.empty) return false;
    if (mine == kNil || nodes_[mine].tick != b.best || level(b.best).count > 1) {
      out = b.best;
      return true;
    }
    if (b.best == b.worst) return false;
    out = next_live(b.best, s == kBid ? -1 : 1);
    return true;
  }

  // ---- output ----

  void emit(EventKind kind, int s, std::int64_t tick, Qty qty, OrderId id) {
    last_ = put(kind, s, cfg_.start_ns + now_, cfg_.feed_latency_ns, tick * cfg_.tick_size, qty, id, record_);
    ++record_events_;
  }

  /// Closes the current record (flags its last event) and notes the mid.
  void finish_record() {
    if (record_events_ > 0) last_->flags |= event_flags::kEndOfRecord | event_flags::kComplete;
    ++record_;
    if (!side_[kBid].empty && !side_[kAsk].empty) {
      const std::int64_t m2 = side_[kBid].best + side_[kAsk].best;
      if (m2 != last_mid2_) {
        last_mid2_ = m2;
        if (cfg_.momentum_traders > 0) push_history(m2);
      }
    }
  }

  // ---- mid history for the momentum lookback: (time, 2 × mid) at each change ----

  void push_history(std::int64_t m2) {
    if (hist_size_ == hist_.size()) {
      std::vector<std::pair<std::int64_t, std::int64_t>> next(std::max<std::size_t>(64, 2 * hist_.size()));
      for (std::size_t i = 0; i < hist_size_; ++i) next[i] = hist_[(hist_head_ + i) & (hist_.size() - 1)];
      hist_.swap(next);
      hist_head_ = 0;
    }
    hist_[(hist_head_ + hist_size_) & (hist_.size() - 1)] = {now_, m2};
    ++hist_size_;
    prune_history();
  }
  /// Keeps one entry at or before now − lookback (the mid then) and everything after it.
  void prune_history() {
    const std::int64_t cut = now_ - momentum_lookback_ns_;
    while (hist_size_ >= 2 && hist_[(hist_head_ + 1) & (hist_.size() - 1)].first <= cut) {
      hist_head_ = (hist_head_ + 1) & (hist_.size() - 1);
      --hist_size_;
    }
  }
  /// 2 × mid at now − lookback (the opening mid before the first change).
  std::int64_t mid2_lookback() {
    prune_history();
    if (hist_size_ == 0 || hist_[hist_head_].first > now_ - momentum_lookback_ns_) return opening_mid2_;
    return hist_[hist_head_].second;
  }

  // ---- the agents ----

  Qty noise_size() { return geometric(rng_.uniform(), size_log_q_); }

  void opening_book() {
    record_events_ = 0;
    for (int s = 0; s < 2; ++s) {
      const std::int64_t start = side_[s].best;
      for (std::uint32_t i = 0; i < cfg_.opening_levels; ++i) {
        const std::int64_t tick = s == kBid ? start - i : start + i;
        for (std::uint32_t k = 0; k < cfg_.opening_orders_per_level; ++k) {
          const std::uint32_t n = rest(s, tick, noise_size(), kOpeningOwner);
          last_->flags = event_flags::kSnapshot;
          schedule(after(lifetime_mean_ns_), WakeKind::kNoiseCancel, n, nodes_[n].id);
        }
      }
    }
    opening_mid2_ = side_[kBid].best + side_[kAsk].best;
    finish_record();
    opened_ = true;

    if (v_step_sd_ > 0) schedule(step_ns_, WakeKind::kFundamental, 0);
    if (jump_mean_ns_ > 0) schedule(after(jump_mean_ns_), WakeKind::kJump, 0);
    for (std::uint32_t a = 0; a < informed_base_; ++a) schedule(after(noise_mean_ns_), WakeKind::kNoise, a);
    for (std::uint32_t a = informed_base_; a < momentum_base_; ++a) {
      schedule(after(informed_mean_ns_), WakeKind::kInformed, a);
    }
    for (std::uint32_t a = momentum_base_; a < maker_base_; ++a) {
      schedule(after(momentum_mean_ns_), WakeKind::kMomentum, a);
    }
    for (std::uint32_t a = maker_base_; a < agents_; ++a) {
      schedule(static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(maker_interval_ns_))),
               WakeKind::kMaker, a);
    }
  }

  /// A market order (prob. noise_market_prob) or a limit order d ticks from the opposite best,
  /// side 50/50. Always a message.
  void noise_action(std::uint32_t agent) {
    ++stats_of(AgentType::kNoise).messages;
    const double u = rng_.uniform();
    const bool buy = rng_.below(2) == 0;
    if (u < cfg_.noise_market_prob) {
      market_order(buy ? kAsk : kBid, noise_size(), AgentType::kNoise);
      return;
    }
    const int s = buy ? kBid : kAsk;
    const std::int64_t d = std::min<std::int64_t>(geometric(rng_.uniform(), distance_log_q_),
                                                   cfg_.noise_limit_max_distance_ticks);
    const std::int64_t ref = side_[1 - s].best;
    const std::int64_t tick = s == kBid ? ref - d : ref + d;
    const Qty q = noise_size();
    if (tick < 1) {
      tolerated_.add("agents.limit_orders_at_nonpositive_price");
      return;
    }
    const std::uint32_t n = rest(s, tick, q, agent);
    schedule(after(lifetime_mean_ns_), WakeKind::kNoiseCancel, n, nodes_[n].id);
  }

  /// Trades toward signal = V + noise when |signal − mid| > threshold. True if it sent an order.
  bool informed_action() {
    const double z = cfg_.informed_signal_std_ticks > 0 ? std_normal(rng_) : 0.0;
    const double gap = signal_gap(value_, cfg_.informed_signal_std_ticks, z,
                                  static_cast<double>(last_mid2_) * 0.5);
    const double excess = std::fabs(gap) - cfg_.informed_threshold_ticks;
    if (!(excess > 0)) return false;
    ++stats_of(AgentType::kInformed).messages;
    const bool buy = gap > 0;
    const int s = buy ? kAsk : kBid;
    const Qty q = linear_size(cfg_.informed_base_size_lots, cfg_.informed_size_per_tick_lots, excess,
                              cfg_.informed_max_size_lots);
    const bool market = cfg_.informed_market_prob > 0 &&
                        (cfg_.informed_market_prob >= 1 || rng_.uniform() < cfg_.informed_market_prob);
    if (market) {
      market_order(s, q, AgentType::kInformed);
      return true;
    }
    if (side_[s].empty) {
      tolerated_.add("agents.ioc_orders_on_empty_side");
      return true;
    }
    const auto lim = static_cast<std::int64_t>(cfg_.informed_limit_ticks);
    (void)take(s, q, buy ? side_[s].best + lim : side_[s].best - lim, AgentType::kInformed);
    return true;
  }

  /// Market order in the direction of mid(t) − mid(t − lookback) when |move| > threshold.
  bool momentum_action() {
    const std::int64_t move2 = last_mid2_ - mid2_lookback();
    const double excess = static_cast<double>(move2 < 0 ? -move2 : move2) * 0.5 - cfg_.momentum_threshold_ticks;
    if (!(excess > 0)) return false;
    ++stats_of(AgentType::kMomentum).messages;
    const Qty q = linear_size(cfg_.momentum_base_size_lots, cfg_.momentum_size_per_tick_lots, excess,
                              cfg_.momentum_max_size_lots);
    market_order(move2 > 0 ? kAsk : kBid, q, AgentType::kMomentum);
    return true;
  }

  /// One bid and one ask around the reference (mid or microprice) skewed by inventory, sizes cut
  /// to the position limit, never crossing the others' quotes; quotes already at the wanted
  /// price are left alone (they keep their priority). True if anything changed.
  bool maker_requote(std::uint32_t agent) {
    const std::uint32_t i = agent - maker_base_;
    MakerState& m = makers_[i];
    const Qty pos = stats_.maker_position[i];
    double ref = static_cast<double>(last_mid2_) * 0.5;
    if (cfg_.maker_use_microprice && !side_[kBid].empty && !side_[kAsk].empty) {
      ref = microprice(side_[kBid].best, side_[kAsk].best, level(side_[kBid].best).total,
                       level(side_[kAsk].best).total);
    }
    std::int64_t bid = 0;
    std::int64_t ask = 0;
    maker_quote(ref, cfg_.maker_skew_ticks_per_lot, static_cast<double>(pos), cfg_.maker_half_spread_ticks,
                bid, ask);
    std::int64_t other = 0;
    if (best_excluding(kAsk, m.ask, other)) bid = std::min(bid, other - 1);
    if (best_excluding(kBid, m.bid, other)) ask = std::max(ask, other + 1);
    const Qty size = cfg_.maker_order_size_lots;
    const Qty limit = cfg_.maker_max_position_lots;
    const Qty bid_qty = bid >= 1 ? std::min(size, limit - pos) : 0;
    const Qty ask_qty = ask >= 1 ? std::min(size, limit + pos) : 0;
    if (m.bid != kNil && (bid_qty <= 0 || nodes_[m.bid].tick != bid)) cancel(m.bid);
    if (m.ask != kNil && (ask_qty <= 0 || nodes_[m.ask].tick != ask)) cancel(m.ask);
    if (m.bid == kNil && bid_qty > 0) m.bid = rest(kBid, bid, bid_qty, agent);
    if (m.ask == kNil && ask_qty > 0) m.ask = rest(kAsk, ask, ask_qty, agent);
    if (record_events_ == 0) return false;
    ++stats_of(AgentType::kMaker).messages;
    return true;
  }

  /// One record: the opening book, or the wake-ups up to and including the next one that sends
  /// a message to the matching engine.
  void step() {
    if (!opened_) {
      opening_book();
      return;
    }
    while (!heap_.empty()) {
      const Wake w = pop_wake();
      if (w.t > end_ns_) break;
      now_ = w.t;
      record_events_ = 0;
      bool sent = false;
      switch (w.kind) {
        case WakeKind::kFundamental:
          value_ = add_scaled(value_, v_step_sd_, std_normal(rng_));
          schedule(now_ + step_ns_, WakeKind::kFundamental, 0);
          break;
        case WakeKind::kJump:
          value_ = add_scaled(value_, cfg_.fundamental_jump_std_ticks, std_normal(rng_));
          ++stats_.fundamental_jumps;
          schedule(after(jump_mean_ns_), WakeKind::kJump, 0);
          break;
        case WakeKind::kNoise:
          noise_action(w.agent);
          sent = true;
          schedule(after(noise_mean_ns_), WakeKind::kNoise, w.agent);
          break;
        case WakeKind::kNoiseCancel:
          if (nodes_[w.agent].id == w.order) {
            ++stats_of(type_of(nodes_[w.agent].owner)).messages;
            cancel(w.agent);
            sent = true;
          }
          break;
        case WakeKind::kInformed:
          sent = informed_action();
          schedule(after(informed_mean_ns_), WakeKind::kInformed, w.agent);
          break;
        case WakeKind::kMomentum:
          sent = momentum_action();
          schedule(after(momentum_mean_ns_), WakeKind::kMomentum, w.agent);
          break;
        case WakeKind::kMaker:
          sent = maker_requote(w.agent);
          schedule(now_ + maker_interval_ns_, WakeKind::kMaker, w.agent);
          break;
      }
      if (sent) {
        finish_record();
        return;
      }
    }
    done_ = true;
  }

  AgentMarketConfig cfg_;
  InstrumentSpec spec_;
  data::Counters tolerated_;
  exchange::Rng rng_;
  AgentMarketStats stats_;

  // agents: noise [0, informed_base_), informed [.., momentum_base_), momentum [.., maker_base_),
  // makers [.., agents_)
  std::uint32_t informed_base_ = 0, momentum_base_ = 0, maker_base_ = 0, agents_ = 0;
  std::vector<MakerState> makers_;
  double noise_mean_ns_ = 0, informed_mean_ns_ = 0, momentum_mean_ns_ = 0;
  double lifetime_mean_ns_ = 0, jump_mean_ns_ = 0;
  std::int64_t step_ns_ = 1, maker_interval_ns_ = 1, momentum_lookback_ns_ = 1;
  double v_step_sd_ = 0;       // ticks per fundamental step
  double size_log_q_ = 0;      // ln(1 − 1/noise_mean_size_lots); 0 when the mean is 1
  double distance_log_q_ = 0;  // ln(1 − 1/noise_limit_mean_distance_ticks)
  double value_ = 0;           // V, ticks

  std::vector<Wake> heap_;
  std::uint64_t seq_ = 0;

  std::int64_t last_mid2_ = 0;    // 2 × the last mid with both sides present, ticks
  std::int64_t opening_mid2_ = 0;
  std::vector<std::pair<std::int64_t, std::int64_t>> hist_;  // ring, power-of-two size
  std::size_t hist_head_ = 0, hist_size_ = 0;

  std::int64_t now_ = 0;  // ns since start_ns
  std::int64_t end_ns_;
  std::uint64_t record_ = 0;
  bool opened_ = false;
  bool done_ = false;

  Event* last_ = nullptr;          // the latest event emitted
  std::size_t record_events_ = 0;  // events emitted by the current record
};

// ---- flat key -> value configs ------------------------------------------------------------------

using Member = std::variant<double AgentMarketConfig::*, std::uint32_t AgentMarketConfig::*,
                           std::int64_t AgentMarketConfig::*, std::uint64_t AgentMarketConfig::*,
                           std::int32_t AgentMarketConfig::*, bool AgentMarketConfig::*,
                           std::string AgentMarketConfig::*>;
struct Field {
  const char* name;
  Member member;
};

#define MMKIT_AGENTS_FIELD(f) Field{#f, &AgentMarketConfig::f}
const std::vector<Field>& fields() {
  static const std::vector<Field> f{
      MMKIT_AGENTS_FIELD(symbol), MMKIT_AGENTS_FIELD(price_decimals), MMKIT_AGENTS_FIELD(tick_size),
      MMKIT_AGENTS_FIELD(initial_price), MMKIT_AGENTS_FIELD(duration_s), MMKIT_AGENTS_FIELD(start_ns),
      MMKIT_AGENTS_FIELD(feed_latency_ns), MMKIT_AGENTS_FIELD(seed), MMKIT_AGENTS_FIELD(opening_levels),
      MMKIT_AGENTS_FIELD(opening_orders_per_level), MMKIT_AGENTS_FIELD(fundamental_vol_ticks),
      MMKIT_AGENTS_FIELD(fundamental_step_s), MMKIT_AGENTS_FIELD(fundamental_jump_rate),
      MMKIT_AGENTS_FIELD(fundamental_jump_std_ticks), MMKIT_AGENTS_FIELD(noise_traders),
      MMKIT_AGENTS_FIELD(noise_rate), MMKIT_AGENTS_FIELD(noise_market_prob),
      MMKIT_AGENTS_FIELD(noise_limit_mean_distance_ticks), MMKIT_AGENTS_FIELD(noise_limit_max_distance_ticks),
      MMKIT_AGENTS_FIELD(noise_mean_size_lots), MMKIT_AGENTS_FIELD(noise_order_lifetime_s),
      MMKIT_AGENTS_FIELD(informed_traders), MMKIT_AGENTS_FIELD(informed_rate),
      MMKIT_AGENTS_FIELD(informed_signal_std_ticks), MMKIT_AGENTS_FIELD(informed_threshold_ticks),
      MMKIT_AGENTS_FIELD(informed_base_size_lots), MMKIT_AGENTS_FIELD(informed_size_per_tick_lots),
      MMKIT_AGENTS_FIELD(informed_max_size_lots), MMKIT_AGENTS_FIELD(informed_market_prob),
      MMKIT_AGENTS_FIELD(informed_limit_ticks), MMKIT_AGENTS_FIELD(momentum_traders),
      MMKIT_AGENTS_FIELD(momentum_rate), MMKIT_AGENTS_FIELD(momentum_lookback_s),
      MMKIT_AGENTS_FIELD(momentum_threshold_ticks), MMKIT_AGENTS_FIELD(momentum_base_size_lots),
      MMKIT_AGENTS_FIELD(momentum_size_per_tick_lots), MMKIT_AGENTS_FIELD(momentum_max_size_lots),
      MMKIT_AGENTS_FIELD(makers), MMKIT_AGENTS_FIELD(maker_half_spread_ticks),
      MMKIT_AGENTS_FIELD(maker_skew_ticks_per_lot), MMKIT_AGENTS_FIELD(maker_order_size_lots),
      MMKIT_AGENTS_FIELD(maker_max_position_lots), MMKIT_AGENTS_FIELD(maker_requote_interval_s),
      MMKIT_AGENTS_FIELD(maker_use_microprice),
  };
  return f;
}
#undef MMKIT_AGENTS_FIELD

const char* type_name(const AgentConfigValue& v) {
  switch (v.index()) {
    case 0: return "a bool";
    case 1: return "an int";
    case 2: return "a float";
    default: return "a string";
  }
}

/// An integer from an int or an integral float within [lo, hi].
std::int64_t integer_of(const std::string& key, const AgentConfigValue& v, std::int64_t lo, std::int64_t hi) {
  std::int64_t x = 0;
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    x = *i;
  } else if (const auto* d = std::get_if<double>(&v)) {
    // 2^63 is exact in a double; [-2^63, 2^63) converts without overflow.
    if (!std::isfinite(*d) || *d != std::floor(*d) || *d < -9.2233720368547758e18 ||
        *d >= 9.2233720368547758e18) {
      bad(key, "must be an integer, got " + num(*d));
    }
    x = static_cast<std::int64_t>(*d);
  } else {
    bad(key, std::string("must be an integer, got ") + type_name(v));
  }
  if (x < lo || x > hi) {
    bad(key, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(x));
  }
  return x;
}

void assign(AgentMarketConfig& c, const std::string& key, Member member, const AgentConfigValue& v) {
  std::visit(
      [&](auto m) {
        using T = std::remove_reference_t<decltype(c.*m)>;
        if constexpr (std::is_same_v<T, double>) {
          if (const auto* i = std::get_if<std::int64_t>(&v)) {
            c.*m = static_cast<double>(*i);
          } else if (const auto* d = std::get_if<double>(&v)) {
            c.*m = *d;
          } else {
            bad(key, std::string("must be a number, got ") + type_name(v));
          }
        } else if constexpr (std::is_same_v<T, bool>) {
          if (const auto* b = std::get_if<bool>(&v)) {
            c.*m = *b;
          } else {
            if (std::holds_alternative<std::string>(v)) bad(key, "must be a bool (or 0 / 1), got a string");
            c.*m = integer_of(key, v, 0, 1) != 0;
          }
        } else if constexpr (std::is_same_v<T, std::string>) {
          if (const auto* s = std::get_if<std::string>(&v)) {
            c.*m = *s;
          } else {
            bad(key, std::string("must be a string, got ") + type_name(v));
          }
        } else if constexpr (std::is_same_v<T, std::uint64_t>) {
          c.*m = static_cast<std::uint64_t>(integer_of(key, v, 0, std::numeric_limits<std::int64_t>::max()));
        } else {
          c.*m = static_cast<T>(integer_of(key, v, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
        }
      },
      member);
}

}  // namespace

std::unique_ptr<AgentMarket> AgentMarket::create(const AgentMarketConfig& config) {
  validate(config);
  return std::make_unique<AgentMarketImpl>(config);
}

std::unique_ptr<data::EventSource> make_agent_market(const AgentMarketConfig& config) {
  return AgentMarket::create(config);
}

const std::vector<std::string>& agent_market_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    for (const Field& f : fields()) k.emplace_back(f.name);
    k.emplace_back("mode");
    return k;
  }();
  return keys;
}

AgentMarketConfig agent_market_config_from(const std::map<std::string, AgentConfigValue, std::less<>>& values) {
  AgentMarketConfig c;
  for (const auto& [key, v] : values) {
    if (key == "mode") {
      const auto* s = std::get_if<std::string>(&v);
      if (s == nullptr || *s != "agents") {
        bad(key, std::string("must be \"agents\" for the agent market, got ") +
                     (s != nullptr ? "\"" + *s + "\"" : type_name(v)));
      }
      continue;
    }
    const auto& fs = fields();
    const auto it = std::find_if(fs.begin(), fs.end(), [&](const Field& f) { return key == f.name; });
    if (it == fs.end()) {
      std::string known;
      for (const std::string& k : agent_market_keys()) known += (known.empty() ? "" : ", ") + k;
      bad(key, "unknown agent market setting (known: " + known + ")");
    }
    assign(c, key, it->member, v);
  }
  validate(c);
  return c;
}

AgentMarketConfig agent_market_config_from(const std::map<std::string, double>& values) {
  std::map<std::string, AgentConfigValue, std::less<>> v;
  for (const auto& [key, x] : values) v.emplace(key, x);
  return agent_market_config_from(v);
}

}  // namespace mmkit::sim
