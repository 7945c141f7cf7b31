// Order-flow signals: book imbalance, microprice, order flow imbalance (Cont, Kukanov & Stoikov
// 2014) and trade flow imbalance.
//
// Independent of strategy::Context: inputs are book levels / best quotes / trades, so each can be
// unit tested and fed from any loop. Timestamps are int64 ns (non-decreasing per instance).
// Not thread-safe. Invalid configs throw mmkit::Error naming the parameter. O(1) per update
// (rolling windows are Ring buffers, no allocation once the window reached its largest size),
// deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "mmkit/book/book.h"
#include "mmkit/core/types.h"
#include "mmkit/signals/ema.h"
#include "mmkit/signals/ring.h"

namespace mmkit::signals {

// ---------------------------------------------------------------------------------------------
// Book imbalance

/// Weighted imbalance of the first `levels` levels of each side:
///   I = (Σ_i w_i b_i − Σ_i w_i a_i) / (Σ_i w_i b_i + Σ_i w_i a_i),  w_i = level_decay^i,
/// i = 0 at the best level; b_i / a_i the bid / ask quantities (any unit, same on both sides).
/// I ∈ [−1, 1]; 0 when both sums are 0. Sides shorter than `levels` use what they have. Negative
/// quantities are treated as 0. levels >= 1, level_decay in (0, 1] (1 = equal weights).
[[nodiscard]] double book_imbalance(std::span<const double> bid_qty,
                                    std::span<const double> ask_qty, std::size_t levels,
                                    double level_decay = 1.0) noexcept;
/// Same on book levels (raw qty units); a level with price kNoPrice ends its side.
[[nodiscard]] double book_imbalance(std::span<const book::Level> bids,
                                    std::span<const book::Level> asks, std::size_t levels,
                                    double level_decay = 1.0) noexcept;

struct BookImbalanceConfig {
  bool enabled = true;                       ///< false: value() = 0 (update() still returns
                                             ///< the raw imbalance)
  std::size_t levels = 5;                    ///< N levels per side (>= 1)
  double level_decay = 1.0;                  ///< w_i = level_decay^i, in (0, 1]
  TimestampNs half_life_ns = 1'000'000'000;  ///< EMA half-life (>= 0, 0 = raw); 1 s
};

/// Book imbalance over N levels, smoothed by a time EMA (TimeEma: the raw imbalance set at an
/// update holds until the next, α = 1 − 2^(−Δt/half_life)). value() ∈ [−1, 1], positive = more
/// bid depth (buy pressure).
class BookImbalance {
 public:
  using Config = BookImbalanceConfig;
  /// Throws mmkit::Error naming `levels`, `level_decay` or `half_life_ns`.
  explicit BookImbalance(const Config& config = {});

  /// Book at local time ts: levels from the best outwards (raw qty; kNoPrice ends a side).
  /// Returns the raw (unsmoothed) imbalance of this book.
  double update(TimestampNs ts, std::span<const book::Level> bids,
                std::span<const book::Level> asks);
  /// Same with quantities only (best first, any unit).
  double update(TimestampNs ts, std::span<const double> bid_qty, std::span<const double> ask_qty);
  /// Smoothed imbalance as of the last update (0 before any or when disabled).
  [[nodiscard]] double value() const noexcept;
  /// Smoothed imbalance at ts >= the last update, the last raw value held.
  [[nodiscard]] double value_at(TimestampNs ts) const noexcept;
  /// Raw imbalance of the last book.
  [[nodiscard]] double raw() const noexcept { return ema_.last(); }
  [[nodiscard]] bool ready() const noexcept { return ema_.started(); }
  void reset() noexcept { ema_.reset(); }
  [[nodiscard]] const Config& config() const noexcept { return config_; }

 private:
  Config config_;
  TimeEma ema_;
};

// ---------------------------------------------------------------------------------------------
// Microprice

/// Size-weighted mid ("weighted mid price"):
///   (bid_px · ask_qty + ask_px · bid_qty) / (bid_qty + ask_qty)
/// Prices in any unit (raw or decimal; the result is in the same unit), quantities in any unit.
/// Returns the plain mid (bid_px + ask_px)/2 when bid_qty + ask_qty <= 0. This is NOT Stoikov's
/// (2018) micro-price (the limit of expected future mids): see StoikovMicroprice
/// (stoikov_microprice.h).
[[nodiscard]] double microprice(double bid_px, double bid_qty, double ask_px,
                                double ask_qty) noexcept;

// ---------------------------------------------------------------------------------------------
// Order flow imbalance (Cont, Kukanov & Stoikov 2014)

/// One best-quote event's contribution e_n, Cont, Kukanov & Stoikov (2014, "The price impact of
/// order book events", J. Financial Econometrics 12(1)), eq. (2)–(4):
///   e_n = q^b_n 1{P^b_n >= P^b_{n−1}} − q^b_{n−1} 1{P^b_n <= P^b_{n−1}}
///       − q^a_n 1{P^a_n <= P^a_{n−1}} + q^a_{n−1} 1{P^a_n >= P^a_{n−1}}
/// Prices raw (int64, compared exactly), quantities raw; result in raw quantity units.
[[nodiscard]] double ofi_contribution(Price bid_px, Qty bid_qty, Price ask_px, Qty ask_qty,
                                      Price prev_bid_px, Qty prev_bid_qty, Price prev_ask_px,
                                      Qty prev_ask_qty) noexcept;

struct OrderFlowImbalanceConfig {
  bool enabled = true;                     ///< false: update() no-op, value() = 0
  TimestampNs window_ns = 1'000'000'000;   ///< rolling window (> 0); 1 s
};

/// OFI over a rolling time window: OFI = Σ e_n over the best-quote updates with
/// ts ∈ (now − window, now], and the normalized signal
///   value() = OFI / D̄,   D̄ = mean over the same updates of (q^b_n + q^a_n)/2
/// (mean depth at the best quotes, CKS §3 divide by average depth; dimensionless). Feed every
/// best-quote change (unchanged quotes give e_n = 0 and only enter D̄). A quote with a missing
/// side (kNoPrice) contributes nothing and the next valid one starts afresh (e = 0).
class OrderFlowImbalance {
 public:
  using Config = OrderFlowImbalanceConfig;
  /// Throws mmkit::Error naming `window_ns`.
  explicit OrderFlowImbalance(const Config& config = {});

  /// Best bid / ask at local time ts (raw price and qty). Returns this update's e_n.
  double update(TimestampNs ts, Price bid_px, Qty bid_qty, Price ask_px, Qty ask_qty);
  /// Drops updates older than the window at ts (no new quote).
  void advance(TimestampNs ts);
  /// Normalized OFI (0 when the window is empty or when disabled).
  [[nodiscard]] double value() const noexcept;
  /// Σ e_n over the window (raw qty).
  [[nodiscard]] double sum() const noexcept { return sum_e_; }
  /// D̄ (raw qty; 0 when empty).
  [[nodiscard]] double mean_depth() const noexcept;
  /// Updates in the window.
  [[nodiscard]] std::size_t count() const noexcept { return window_.size(); }
  [[nodiscard]] bool ready() const noexcept { return !window_.empty(); }
  void reset() noexcept;
  [[nodiscard]] const Config& config() const noexcept { return config_; }

 private:
  struct Entry {
    TimestampNs ts = 0;
    double e = 0;
    double depth = 0;
  };
  void evict(TimestampNs ts) noexcept;

  Config config_;
  Ring<Entry> window_;
  double sum_e_ = 0;
  double sum_depth_ = 0;
  std::size_t since_resum_ = 0;
  Price prev_bid_px_ = kNoPrice;
  Qty prev_bid_qty_ = 0;
  Price prev_ask_px_ = kNoPrice;
  Qty prev_ask_qty_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Trade flow imbalance

struct TradeFlowImbalanceConfig {
  bool enabled = true;                     ///< false: update() no-op, value() = 0
  TimestampNs window_ns = 5'000'000'000;   ///< lookback (> 0); 5 s
};

/// (buy volume − sell volume) / (buy + sell volume) of aggressor-signed trades with
/// ts ∈ (now − window, now]; ∈ [−1, 1], 0 when there is no volume. Buy = aggressor Side::kBid.
class TradeFlowImbalance {
 public:
  using Config = TradeFlowImbalanceConfig;
  /// Throws mmkit::Error naming `window_ns`.
  explicit TradeFlowImbalance(const Config& config = {});

  /// Trade at local time ts; aggressor side kBid (buy) / kAsk (sell); qty > 0 in any unit.
  /// Trades with Side::kNone or qty <= 0 are ignored and counted in ignored().
  void update(TimestampNs ts, Side aggressor, double qty);
  /// Drops trades older than the window at ts.
  void advance(TimestampNs ts);
  [[nodiscard]] double value() const noexcept;
  [[nodiscard]] double buy_volume() const noexcept { return buy_; }
  [[nodiscard]] double sell_volume() const noexcept { return sell_; }
  [[nodiscard]] std::size_t count() const noexcept { return window_.size(); }
  [[nodiscard]] std::uint64_t ignored() const noexcept { return ignored_; }
  void reset() noexcept;
  [[nodiscard]] const Config& config() const noexcept { return config_; }

 private:
  struct Entry {
    TimestampNs ts = 0;
    double signed_qty = 0;
  };
  void evict(TimestampNs ts) noexcept;

  Config config_;
  Ring<Entry> window_;
  double buy_ = 0;
  double sell_ = 0;
  std::size_t since_resum_ = 0;
  std::uint64_t ignored_ = 0;
};

}  // namespace mmkit::signals
