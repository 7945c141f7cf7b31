#include "mmkit/sim/synthetic_market.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "mmkit/core/error.h"
#include "mmkit/exchange/models.h"

// Floating-point determinism. Every branch of the generator is taken on integers (rates are
// fixed-point, see kUnitsPerSecond; events are picked by Rng::below); doubles appear only in the
// exponential waiting times and geometric sizes, through FastLog / det_log below, which use
// + - * /, frexp and bit operations only (correctly rounded or exact under IEEE 754), never libm's
// log, whose last bit differs between C libraries. Contracting a*b+c into one fused instruction
// (FMA) would change roundings on targets that have it (aarch64, x86 with -march=native), so it is
// switched off for that code: GCC contracts by default even in ISO C++ mode. Entry points carry
// MMKIT_SIM_NO_CONTRACT_ATTR (never inlined into code compiled with the default contraction);
// helpers called only from them carry MMKIT_SIM_NO_CONTRACT_INLINE.
#if defined(__clang__)
#define MMKIT_SIM_NO_CONTRACT_INLINE
#define MMKIT_SIM_NO_CONTRACT_ATTR __attribute__((noinline))
#define MMKIT_SIM_NO_CONTRACT_BODY _Pragma("clang fp contract(off)")
#elif defined(__GNUC__)
#define MMKIT_SIM_NO_CONTRACT_INLINE __attribute__((optimize("fp-contract=off")))
#define MMKIT_SIM_NO_CONTRACT_ATTR __attribute__((noinline, optimize("fp-contract=off")))
#define MMKIT_SIM_NO_CONTRACT_BODY
#else  // MSVC: /fp:precise does not contract unless /fp:contract is given.
#define MMKIT_SIM_NO_CONTRACT_INLINE
#define MMKIT_SIM_NO_CONTRACT_ATTR
#define MMKIT_SIM_NO_CONTRACT_BODY
#endif

namespace mmkit::sim {
namespace {

using Units = std::uint64_t;

/// Rates are held as integer multiples of 2^-24 per second ("units"), so the total rate, the
/// per-side cancel rates and the pick of an event are exact integer arithmetic, identical on
/// every platform. A rate is rounded to the nearest unit (6e-8 /s).
constexpr double kUnitsPerSecond = 16777216.0;  // 2^24
/// Seconds per unit-rate waiting time, in ns: 2^24 × 10^9 = 2^33 × 1953125, exact in a double.
constexpr double kNsPerUnitRate = kUnitsPerSecond * 1e9;
constexpr double kMaxRate = 1e5;       ///< per second; keeps Σ θ × orders far from 2^64 units
constexpr double kMinCancelRate = 1e-6;  ///< per second; a cancel rate must be at least this
constexpr std::uint32_t kMaxDistance = 100'000;
constexpr std::uint64_t kMaxOpeningOrders = 1'000'000;  // with θ <= kMaxRate: Σθ < 2^61 units
constexpr double kMaxMeanOrderSize = 1e9;
constexpr double kMaxDurationS = 1e9;

constexpr std::uint32_t kNil = 0xFFFFFFFFu;
constexpr int kBid = 0;
constexpr int kAsk = 1;

constexpr double kLn2Hi = 6.93147180369123816490e-01;  // fdlibm's split of ln 2
constexpr double kLn2Lo = 1.90821492927058770002e-10;

/// Natural logarithm of a finite x > 0 with + - * / and frexp only (bit-identical everywhere);
/// relative error ~1e-16. log(m) = 2 atanh(s), s = (m-1)/(m+1), m in [√½, √2), |s| < 0.1716;
/// the series is cut after s^23 (next term < 1e-19 relative).
MMKIT_SIM_NO_CONTRACT_ATTR double det_log(double x) noexcept {
  MMKIT_SIM_NO_CONTRACT_BODY
  int e = 0;
  double m = std::frexp(x, &e);
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    --e;
  }
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  double p = 1.0 / 23.0;
  for (int k = 21; k >= 1; k -= 2) p = p * s2 + 1.0 / static_cast<double>(k);
  const double de = static_cast<double>(e);
  return de * kLn2Hi + (de * kLn2Lo + 2.0 * s * p);
}

/// e^x with + - * / and ldexp only, for moderate |x| (construction-time rates).
MMKIT_SIM_NO_CONTRACT_ATTR double det_exp(double x) noexcept {
  MMKIT_SIM_NO_CONTRACT_BODY
  const double kf = std::floor(x / (kLn2Hi + kLn2Lo) + 0.5);
  const double r = (x - kf * kLn2Hi) - kf * kLn2Lo;  // |r| <= 0.35
  double p = 1.0;
  for (int n = 18; n >= 1; --n) p = 1.0 + r * p / static_cast<double>(n);
  return std::ldexp(p, static_cast<int>(kf));
}

/// ln x for a normal x > 0 on the hot path: x = 2^e · m, m in [1, 2) split into 128 bins by its
/// top 7 mantissa bits; bin j has a centre c_j (halved, with e + 1, above √2 so that values near 1
/// stay near 1; c = 1 exactly in the first and the last bin) and ln x = e·ln 2 + ln c_j +
/// 2 atanh(s), s = (m − c_j)/(m + c_j), |s| < 1/256, series to s^7 (relative error < 1e-19 before
/// rounding). ln c_j comes from det_log. Gives exactly 0 at x = 1 and a negative value just below.
class FastLog {
 public:
  FastLog() {
    for (int j = 0; j < kBins; ++j) {
      double c = 1.0 + (static_cast<double>(j) + 0.5) / kBins;
      int eadj = 0;
      double scale = 1.0;
      if (j == 0) c = 1.0;
      if (c >= 1.41421356237309504880) {
        c = j == kBins - 1 ? 1.0 : c * 0.5;
        eadj = 1;
        scale = 0.5;
      }
      bins_[j] = Bin{c, det_log(c), scale, static_cast<double>(eadj)};
    }
  }

  MMKIT_SIM_NO_CONTRACT_INLINE double operator()(double x) const noexcept {
    MMKIT_SIM_NO_CONTRACT_BODY
    const auto bits = std::bit_cast<std::uint64_t>(x);
    const auto e = static_cast<double>(static_cast<int>((bits >> 52) & 0x7FF) - 1023);
    const double m = std::bit_cast<double>((bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull);
    const Bin& b = bins_[(bits >> 45) & (kBins - 1)];
    const double mm = m * b.scale;
    const double s = (mm - b.c) / (mm + b.c);
    const double s2 = s * s;
    const double series = 2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0))));
    const double ee = e + b.eadj;
    return ee * kLn2Hi + (ee * kLn2Lo + (b.log_c + series));
  }

 private:
  static constexpr int kBins = 128;
  struct Bin {
    double c, log_c, scale, eadj;
  };
  Bin bins_[kBins];
};

const FastLog& fast_log() {
  static const FastLog table;
  return table;
}

/// Waiting time in ns, rounded, of a Poisson process of total rate `total` units: −ln(1−u)/rate,
/// u uniform in [0, 1).
MMKIT_SIM_NO_CONTRACT_ATTR std::int64_t waiting_ns(const FastLog& ln, double u, Units total) noexcept {
  MMKIT_SIM_NO_CONTRACT_BODY
  const double w = -ln(1.0 - u) * kNsPerUnitRate / static_cast<double>(total);
  return w > 0 ? static_cast<std::int64_t>(w + 0.5) : 0;
}

/// Geometric size on {1, 2, …} by inversion: 1 + ⌊ln(1−u) / ln q⌋, u uniform in [0, 1), q < 1 the
/// continuation probability (P(size > k) = q^k).
MMKIT_SIM_NO_CONTRACT_ATTR std::int64_t geometric(const FastLog& ln, double u, double log_q) noexcept {
  MMKIT_SIM_NO_CONTRACT_BODY
  const double k = ln(1.0 - u) / log_q;
  return 1 + (k > 0 ? static_cast<std::int64_t>(k) : 0);
}

Units to_units(double rate_per_s) {
  return static_cast<Units>(std::llround(rate_per_s * kUnitsPerSecond));
}

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

[[noreturn]] void bad(const std::string& field, const std::string& what) {
  throw Error(SourceLocation("synthetic market config", 0, field), what);
}

void check_rate(const std::string& field, double v, double lo) {
  if (!std::isfinite(v) || v < lo || v > kMaxRate) {
    bad(field, "must be a finite rate in [" + num(lo) + ", " + num(kMaxRate) +
                   "] per second, got " + num(v));
  }
}

void validate(const SyntheticMarketConfig& c) {
  if (c.symbol.empty() || c.symbol.size() > 23) {
    bad("symbol", "must have 1 to 23 characters, got " + std::to_string(c.symbol.size()));
  }
  if (c.price_decimals < 0 || c.price_decimals > 18) {
    bad("price_decimals", "must be in [0, 18], got " + std::to_string(c.price_decimals));
  }
  if (c.tick_size <= 0) bad("tick_size", "must be > 0 raw units, got " + std::to_string(c.tick_size));
  if (c.max_distance < 1 || c.max_distance > kMaxDistance) {
    bad("max_distance", "must be in [1, " + std::to_string(kMaxDistance) + "] ticks, got " +
                            std::to_string(c.max_distance));
  }
  if (c.initial_mid <= 0) bad("initial_mid", "must be > 0 raw units, got " + std::to_string(c.initial_mid));
  // Best bid = the grid price just below initial_mid; the opening book needs max_distance bid
  // levels at prices >= one tick.
  const std::int64_t below = c.initial_mid % c.tick_size == 0 ? c.initial_mid / c.tick_size - 1
                                                              : c.initial_mid / c.tick_size;
  if (below < static_cast<std::int64_t>(c.max_distance)) {
    bad("initial_mid", "must leave max_distance (" + std::to_string(c.max_distance) +
                           ") bid levels above zero: need initial_mid > " +
                           std::to_string(static_cast<std::int64_t>(c.max_distance) * c.tick_size) +
                           " raw units, got " + std::to_string(c.initial_mid));
  }
  if (c.initial_mid > std::numeric_limits<std::int64_t>::max() / 4) {
    bad("initial_mid", "too large: " + std::to_string(c.initial_mid));
  }
  check_rate("limit_rate_k", c.limit_rate_k, 0.0);
  if (!std::isfinite(c.limit_rate_alpha) || c.limit_rate_alpha < 0 || c.limit_rate_alpha > 10) {
    bad("limit_rate_alpha", "must be in [0, 10], got " + num(c.limit_rate_alpha));
  }
  check_rate("market_rate", c.market_rate, 0.0);
  if (c.cancel_rates.empty()) bad("cancel_rates", "must hold at least one rate θ(1) per second");
  for (std::size_t i = 0; i < c.cancel_rates.size(); ++i) {
    check_rate("cancel_rates[" + std::to_string(i) + "]", c.cancel_rates[i], kMinCancelRate);
  }
  if (!std::isfinite(c.mean_order_size) || c.mean_order_size < 1 ||
      c.mean_order_size > kMaxMeanOrderSize) {
    bad("mean_order_size", "must be in [1, " + num(kMaxMeanOrderSize) + "] lots, got " +
                               num(c.mean_order_size));
  }
  if (2ull * c.max_distance * c.opening_orders_per_level > kMaxOpeningOrders) {
    bad("opening_orders_per_level", "2 × max_distance × opening_orders_per_level must be <= " +
                                        std::to_string(kMaxOpeningOrders) + ", got " +
                                        std::to_string(2ull * c.max_distance * c.opening_orders_per_level));
  }
  if (!std::isfinite(c.duration_s) || c.duration_s <= 0 || c.duration_s > kMaxDurationS) {
    bad("duration_s", "must be in (0, " + num(kMaxDurationS) + "] seconds, got " + num(c.duration_s));
  }
  if (c.start_ns < 0) bad("start_ns", "must be >= 0 ns since the epoch, got " + std::to_string(c.start_ns));
  if (c.feed_latency_ns < 0) {
    bad("feed_latency_ns", "must be >= 0 ns, got " + std::to_string(c.feed_latency_ns));
  }
  const auto duration_ns = static_cast<std::int64_t>(std::llround(c.duration_s * 1e9));
  if (c.start_ns > std::numeric_limits<std::int64_t>::max() - duration_ns - c.feed_latency_ns) {
    bad("start_ns", "start_ns + duration + feed_latency_ns overflows int64 ns");
  }
}

// ---------------------------------------------------------------------------------------------

class SyntheticMarket final : public data::EventSource {
 public:
  explicit SyntheticMarket(const SyntheticMarketConfig& c)
      : cfg_(c), rng_(c.seed), end_ns_(std::llround(c.duration_s * 1e9)) {
    spec_.set_symbol(c.symbol);
    spec_.set_venue("SYNTHETIC");
    spec_.set_currency("USD");
    spec_.price_decimals = c.price_decimals;
    spec_.qty_decimals = 0;
    spec_.tick_size = c.tick_size;
    spec_.lot_size = 1;

    // Cont, Stoikov, Talreja (2010), eq. (4): λ(i) = k / i^α.
    lambda_cum_.resize(c.max_distance);
    Units cum = 0;
    for (std::uint32_t i = 1; i <= c.max_distance; ++i) {
      const double li = c.limit_rate_k * det_exp(-c.limit_rate_alpha * det_log(static_cast<double>(i)));
      cum += to_units(li);
      lambda_cum_[i - 1] = cum;
    }
    limit_units_ = cum;
    market_units_ = to_units(c.market_rate);
    theta_.resize(c.cancel_rates.size());
    for (std::size_t i = 0; i < theta_.size(); ++i) theta_[i] = to_units(c.cancel_rates[i]);

    const double p = 1.0 / c.mean_order_size;  // geometric on {1, 2, …}, mean 1/p
    log_q_ = p >= 1.0 ? 0.0 : det_log(1.0 - p);

    std::size_t cap = 1024;
    while (cap < 4ull * c.max_distance + 64) cap *= 2;
    ring_.assign(cap, Level{});
    mask_ = cap - 1;
    nodes_.reserve(std::max<std::size_t>(256, 4ull * c.max_distance * c.opening_orders_per_level));

    // Opening quotes: the grid prices just below and just above initial_mid.
    const std::int64_t t = c.tick_size;
    const std::int64_t bid = c.initial_mid % t == 0 ? c.initial_mid / t - 1 : c.initial_mid / t;
    side_[kBid].best = bid;
    side_[kAsk].best = c.initial_mid / t + 1;
  }

  const InstrumentSpec& instrument() const override { return spec_; }
  data::BookLevel book_level() const override { return data::BookLevel::kL3; }
  std::uint64_t records() const override { return record_; }
  const data::Counters& tolerated() const override { return tolerated_; }
  std::string format() const override { return "synthetic"; }
  std::string locate(std::uint64_t record) const override {
    return "synthetic market (symbol " + cfg_.symbol + ", seed " + std::to_string(cfg_.seed) +
           ") record " + std::to_string(record) + (record == 0 ? " (opening book)" : "");
  }

  std::size_t read(Event* out, std::size_t capacity) override {
    out_ = out;
    cap_ = capacity;
    n_ = 0;
    if (pending_pos_ < pending_.size()) {
      const std::size_t k = std::min(capacity, pending_.size() - pending_pos_);
      std::copy_n(pending_.data() + pending_pos_, k, out);
      pending_pos_ += k;
      n_ = k;
      if (pending_pos_ == pending_.size()) {
        pending_.clear();
        pending_pos_ = 0;
      }
    }
    while (n_ < cap_ && !done_) step();
    return n_;
  }

 private:
  struct Node {
    OrderId id = 0;
    Qty qty = 0;  // remaining lots
    std::uint32_t next = kNil;  // towards the back of the queue; free-list link when free
  };
  /// One price level of the ring; count == 0 means empty (head/tail meaningless).
  struct Level {
    std::int64_t tick = 0;
    std::uint32_t head = kNil;
    std::uint32_t tail = kNil;
    std::uint32_t count = 0;
  };
  /// `best` stays at the last best price when the side empties (the reference of the other
  /// side's limit orders, see docs/synthetic_market.md).
  struct BookSide {
    bool empty = true;
    std::int64_t best = 0;   // ticks
    std::int64_t worst = 0;  // ticks; valid when !empty
    Units cancel = 0;        // Σ over resting orders of θ(distance), units
  };

  // ---- ring of price levels, indexed by tick & mask_; live ticks always span < capacity ----

  Level& level(std::int64_t tick) { return ring_[static_cast<std::uint64_t>(tick) & mask_]; }

  void ensure_room(std::int64_t tick) {
    std::int64_t lo = tick;
    std::int64_t hi = tick;
    for (int s = 0; s < 2; ++s) {
      if (side_[s].empty) continue;
      lo = std::min({lo, side_[s].best, side_[s].worst});
      hi = std::max({hi, side_[s].best, side_[s].worst});
    }
    if (static_cast<std::uint64_t>(hi - lo) < ring_.size()) return;
    std::size_t cap = ring_.size();
    while (static_cast<std::uint64_t>(hi - lo) >= cap) cap *= 2;
    std::vector<Level> next(cap, Level{});
    for (const Level& l : ring_) {
      if (l.count != 0) next[static_cast<std::uint64_t>(l.tick) & (cap - 1)] = l;
    }
    ring_.swap(next);
    mask_ = cap - 1;
  }

  // ---- rates ----

  /// θ(d) in units for an order of side s at `tick`; d = ticks from the other side's best (its
  /// last best when empty), >= 1; θ(d) = cancel_rates[d-1], the last value beyond the list.
  Units theta(int s, std::int64_t tick) const {
    const std::int64_t anchor = side_[1 - s].best;
    const std::int64_t d = s == kBid ? anchor - tick : tick - anchor;
    const std::size_t i = static_cast<std::size_t>(std::clamp<std::int64_t>(d, 1, static_cast<std::int64_t>(theta_.size())));
    return theta_[i - 1];
  }

  void recompute_cancel(int s) {
    BookSide& b = side_[s];
    Units total = 0;
    if (!b.empty) {
      const std::int64_t dir = s == kBid ? -1 : 1;
      for (std::int64_t p = b.best;; p += dir) {
        const Level& l = level(p);
        if (l.count != 0) total += theta(s, p) * l.count;
        if (p == b.worst) break;
      }
    }
    b.cancel = total;
  }

  // ---- book operations (the matching engine) ----

  std::uint32_t alloc_node() {
    if (free_ != kNil) {
      const std::uint32_t n = free_;
      free_ = nodes_[n].next;
      return n;
    }
    nodes_.emplace_back();
    return static_cast<std::uint32_t>(nodes_.size() - 1);
  }
  void free_node(std::uint32_t n) {
    nodes_[n].next = free_;
    free_ = n;
  }

  /// Queues a new order last at (s, tick). The caller guarantees it does not cross.
  OrderId add_order(int s, std::int64_t tick, Qty qty) {
    ensure_room(tick);
    const OrderId id = next_id_++;
    const std::uint32_t n = alloc_node();
    nodes_[n] = Node{id, qty, kNil};
    Level& l = level(tick);
    if (l.count == 0) {
      l = Level{tick, n, n, 1};
    } else {
      nodes_[l.tail].next = n;
      l.tail = n;
      ++l.count;
    }
    BookSide& b = side_[s];
    if (b.empty) {
      b.empty = false;
      b.best = b.worst = tick;
    } else if (s == kBid) {
      b.best = std::max(b.best, tick);
      b.worst = std::min(b.worst, tick);
    } else {
      b.best = std::min(b.best, tick);
      b.worst = std::max(b.worst, tick);
    }
    b.cancel += theta(s, tick);
    return id;
  }

  /// Level (s, tick) just became empty: moves best / worst inwards, or marks the side empty
  /// (best keeps the last best price).
  void level_emptied(int s, std::int64_t tick) {
    BookSide& b = side_[s];
    if (b.best == b.worst) {
      b.empty = true;
      b.cancel = 0;
      return;
    }
    const std::int64_t away = s == kBid ? -1 : 1;  // from the best towards the worst
    if (tick == b.best) {
      std::int64_t p = tick + away;
      while (level(p).count == 0) p += away;
      b.best = p;
    } else if (tick == b.worst) {
      std::int64_t p = tick - away;
      while (level(p).count == 0) p -= away;
      b.worst = p;
    }
  }

  // ---- output ----

  Event* emit(EventKind kind, int s, std::int64_t tick, Qty qty, OrderId id) {
    Event* e;
    if (n_ < cap_) {
      e = out_ + n_++;
    } else {
      pending_.emplace_back();
      e = &pending_.back();
    }
    e->exch_ts_ns = cfg_.start_ns + now_ns_;
    e->local_ts_ns = e->exch_ts_ns + cfg_.feed_latency_ns;
    e->price = tick * cfg_.tick_size;
    e->qty = qty;
    e->order_id = id;
    e->seq = record_ + 1;
    e->record = record_;
    e->instrument_id = 0;
    e->kind = kind;
    e->side = s == kBid ? Side::kBid : Side::kAsk;
    e->flags = 0;
    return e;
  }

  static void end_record(Event* last) {
    if (last != nullptr) last->flags |= event_flags::kEndOfRecord | event_flags::kComplete;
  }

  // ---- the generator ----

  /// Geometric size on {1, 2, …} with mean cfg_.mean_order_size lots (p = 1/mean).
  Qty draw_size() { return log_q_ == 0.0 ? 1 : geometric(ln_, rng_.uniform(), log_q_); }

  void opening_book() {
    Event* last = nullptr;
    for (int s = 0; s < 2; ++s) {
      const std::int64_t start = side_[s].best;
      for (std::uint32_t i = 0; i < cfg_.max_distance; ++i) {
        const std::int64_t tick = s == kBid ? start - i : start + i;
        for (std::uint32_t k = 0; k < cfg_.opening_orders_per_level; ++k) {
          const Qty q = draw_size();
          const OrderId id = add_order(s, tick, q);
          last = emit(EventKind::kAdd, s, tick, q, id);
          last->flags = event_flags::kSnapshot;
        }
      }
    }
    recompute_cancel(kBid);
    recompute_cancel(kAsk);
    end_record(last);
  }

  void limit_order(int s, Units x) {
    const auto it = std::upper_bound(lambda_cum_.begin(), lambda_cum_.end(), x);
    const auto i = static_cast<std::int64_t>(it - lambda_cum_.begin()) + 1;  // distance, ticks
    const std::int64_t anchor = side_[1 - s].best;
    std::int64_t tick = s == kBid ? anchor - i : anchor + i;
    // The distance is >= 1 tick from the other side's best, so it never crosses; guard anyway.
    if (!side_[1 - s].empty) {
      tick = s == kBid ? std::min(tick, side_[kAsk].best - 1) : std::max(tick, side_[kBid].best + 1);
    }
    const Qty q = draw_size();
    if (tick < 1) {
      tolerated_.add("synthetic.limit_orders_at_nonpositive_price");
      return;
    }
    const OrderId id = add_order(s, tick, q);
    end_record(emit(EventKind::kAdd, s, tick, q, id));
  }

  /// Market order of the aggressor side whose resting side is `s`: walks side s from its best,
  /// FIFO within each level, one kExecution per resting order hit.
  void market_order(int s) {
    BookSide& b = side_[s];
    if (b.empty) {
      tolerated_.add("synthetic.market_orders_on_empty_side");
      return;
    }
    Qty q = draw_size();
    Event* last = nullptr;
    while (q > 0 && !b.empty) {
      const std::int64_t tick = b.best;
      Level& l = level(tick);
      const std::uint32_t n = l.head;
      Node& node = nodes_[n];
      const Qty x = std::min(q, node.qty);
      last = emit(EventKind::kExecution, s, tick, x, node.id);
      q -= x;
      node.qty -= x;
      if (node.qty == 0) {
        b.cancel -= theta(s, tick);
        l.head = node.next;
        --l.count;
        free_node(n);
        if (l.count == 0) level_emptied(s, tick);
      }
    }
    if (q > 0) tolerated_.add("synthetic.market_qty_beyond_book", static_cast<std::uint64_t>(q));
    end_record(last);
  }

  /// Cancels the resting order of side s picked with probability θ(d)/Σθ: x uniform in
  /// [0, side_[s].cancel) selects the level (walking from the best) and the order in it.
  void cancel_order(int s, Units x) {
    BookSide& b = side_[s];
    const std::int64_t away = s == kBid ? -1 : 1;
    for (std::int64_t p = b.best;; p += away) {
      Level& l = level(p);
      if (l.count != 0) {
        const Units th = theta(s, p);
        const Units w = th * l.count;
        if (x < w) {
          auto k = static_cast<std::uint32_t>(x / th);
          std::uint32_t prev = kNil;
          std::uint32_t n = l.head;
          for (; k > 0; --k) {
            prev = n;
            n = nodes_[n].next;
          }
          const Node node = nodes_[n];
          if (prev == kNil) {
            l.head = node.next;
          } else {
            nodes_[prev].next = node.next;
          }
          if (l.tail == n) l.tail = prev;
          --l.count;
          free_node(n);
          b.cancel -= th;
          end_record(emit(EventKind::kCancel, s, p, node.qty, node.id));
          if (l.count == 0) level_emptied(s, p);
          return;
        }
        x -= w;
      }
      if (p == b.worst) break;
    }
    throw Error(locate(record_) + ": internal error: cancel pick beyond the side's cancel rate");
  }

  /// One record: the opening book, or one Gillespie step (Gillespie 1977, direct method: an
  /// exponential wait at the total rate, then an event with probability rate / total).
  void step() {
    if (record_ == 0) {
      opening_book();
      record_ = 1;
      return;
    }
    const Units total = 2 * limit_units_ + 2 * market_units_ + side_[kBid].cancel + side_[kAsk].cancel;
    if (total == 0) {
      done_ = true;
      return;
    }
    const std::int64_t t = now_ns_ + waiting_ns(ln_, rng_.uniform(), total);
    if (t > end_ns_) {
      done_ = true;
      return;
    }
    now_ns_ = t;
    const std::int64_t best_bid = side_[kBid].best;
    const std::int64_t best_ask = side_[kAsk].best;
    Units x = rng_.below(total);
    if (x < limit_units_) {
      limit_order(kBid, x);
    } else if ((x -= limit_units_) < limit_units_) {
      limit_order(kAsk, x);
    } else if ((x -= limit_units_) < market_units_) {
      market_order(kAsk);  // buy market order
    } else if ((x -= market_units_) < market_units_) {
      market_order(kBid);  // sell market order
    } else if ((x -= market_units_) < side_[kBid].cancel) {
      cancel_order(kBid, x);
    } else {
      cancel_order(kAsk, x - side_[kBid].cancel);
    }
    // Distances (hence cancel rates) are measured from the other side's best.
    if (side_[kBid].best != best_bid) recompute_cancel(kAsk);
    if (side_[kAsk].best != best_ask) recompute_cancel(kBid);
    ++record_;
  }

  SyntheticMarketConfig cfg_;
  InstrumentSpec spec_;
  data::Counters tolerated_;
  exchange::Rng rng_;
  const FastLog& ln_ = fast_log();

  std::vector<Units> lambda_cum_;  // Σ_{j<=i} λ(j), units; index i-1 for distance i
  Units limit_units_ = 0;          // Σ λ(i), one side
  Units market_units_ = 0;         // μ, one side
  std::vector<Units> theta_;       // θ(i), units
  double log_q_ = 0;               // ln(1 − 1/mean_order_size); 0 when the mean is 1

  std::vector<Level> ring_;
  std::uint64_t mask_ = 0;
  std::vector<Node> nodes_;
  std::uint32_t free_ = kNil;
  BookSide side_[2];
  OrderId next_id_ = 1;

  std::int64_t now_ns_ = 0;  // simulated time since start_ns
  std::int64_t end_ns_;
  std::uint64_t record_ = 0;
  bool done_ = false;

  Event* out_ = nullptr;
  std::size_t cap_ = 0;
  std::size_t n_ = 0;
  std::vector<Event> pending_;  // events of a step that did not fit in the caller's buffer
  std::size_t pending_pos_ = 0;
};

}  // namespace

std::unique_ptr<data::EventSource> make_synthetic_market(const SyntheticMarketConfig& config) {
  validate(config);
  return std::make_unique<SyntheticMarket>(config);
}

}  // namespace mmkit::sim
