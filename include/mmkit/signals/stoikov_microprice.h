// Stoikov's micro-price: the limit of the expected future mid given the current imbalance and
// spread, estimated from the observed best quotes as a Markov chain (Stoikov 2018, "The
// micro-price: a high-frequency estimator of future prices", Quantitative Finance 18(12), §3).
//
// Fitted offline (observe() a sequence of best quotes, then fit()), used online (microprice()).
// Prices and quantities raw (InstrumentSpec units); adjustments in ticks of Config::tick_size.
// Not thread-safe. Invalid configs throw mmkit::Error naming the parameter. observe() is O(1);
// fit() is O((nK)³) with n imbalance buckets and K spreads; deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "mmkit/core/types.h"

namespace mmkit::signals {

struct StoikovMicropriceConfig {
  bool enabled = true;                 ///< false: microprice() is the plain mid
  Price tick_size = 1;                 ///< raw tick (> 0)
  std::size_t imbalance_buckets = 10;  ///< n (>= 2): I = bid_qty/(bid_qty + ask_qty) in n equal
                                       ///< buckets of [0, 1]
  std::size_t max_spread_ticks = 2;    ///< K (>= 1): states with spreads of 1..K ticks
  std::size_t iterations = 6;          ///< terms of G* = Σ_{i<iterations} Bⁱ G¹ (>= 1; the
                                       ///< paper's code stops at 6)
};

/// Estimator after Stoikov (2018) §3. States x = (imbalance bucket, spread in ticks ∈ 1..K). For
/// consecutive observations x_t → x_{t+1} with mid change ΔM (in ticks, rounded to half ticks):
///   ΔM = 0:          a transient transition counted in Q[x_t][x_{t+1}];
///   ΔM ∈ {±½, ±1}:   an absorbing one counted in R¹[x_t][ΔM] and T[x_t][x_{t+1}].
/// Each transition is also counted mirrored (bucket i → n−1−i, ΔM → −ΔM: the paper's
/// symmetrization). Rows are normalized by all transitions out of x. Then (paper §3)
///   G¹ = (I − Q)⁻¹ R¹ k,  B = (I − Q)⁻¹ T,  G* = Σ_{i=0}^{iterations−1} Bⁱ G¹   (ticks),
/// k = (−1, −½, ½, 1), and micro-price = mid + G*(I, S)·tick. Transitions from or to a state
/// outside 1..K ticks, with |ΔM| > 1 tick, or with a missing / crossed side are dropped and
/// counted. States never observed get G* = 0. Buckets are of equal width (the paper's code uses
/// quantiles of the data).
class StoikovMicroprice {
 public:
  using Config = StoikovMicropriceConfig;
  /// Throws mmkit::Error naming `tick_size`, `imbalance_buckets`, `max_spread_ticks` or
  /// `iterations`.
  explicit StoikovMicroprice(const Config& config = {});

  /// Next best quote of the fitting sequence (the caller's sampling: every best-quote change, or
  /// a fixed clock). Raw prices and quantities.
  void observe(Price bid_px, Qty bid_qty, Price ask_px, Qty ask_qty);
  /// Breaks the sequence (a gap in the data): the next observe() starts a new chain.
  void end_sequence() noexcept { have_prev_ = false; }
  /// Estimates G* from the transitions counted so far (can be called again after more data).
  /// Returns false (and leaves G* at 0) when no transition was counted.
  bool fit();
  [[nodiscard]] bool fitted() const noexcept { return fitted_; }

  /// G*(I, S) in ticks for imbalance I = bid_qty/(bid_qty + ask_qty) ∈ [0, 1] and spread S in
  /// ticks; 0 for S outside 1..K, before fit() or when disabled.
  [[nodiscard]] double adjustment_ticks(double imbalance, std::int64_t spread_ticks) const noexcept;
  /// mid + G*·tick (raw price units, as double); the plain mid when the quote is off the state
  /// grid (S outside 1..K, a zero size) or before fit(); 0 when a side is missing (kNoPrice).
  /// Quantities raw.
  [[nodiscard]] double microprice(Price bid_px, Qty bid_qty, Price ask_px,
                                  Qty ask_qty) const noexcept;

  /// Transitions counted (before mirroring) and dropped.
  [[nodiscard]] std::uint64_t transitions() const noexcept { return transitions_; }
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_; }
  /// States (of n·K) with no transition out of them.
  [[nodiscard]] std::size_t empty_states() const noexcept;
  [[nodiscard]] std::size_t state_count() const noexcept { return n_states_; }
  void reset() noexcept;
  [[nodiscard]] const Config& config() const noexcept { return config_; }

 private:
  /// State index of a quote, or −1 if outside the grid. Also returns the mid in half ticks.
  [[nodiscard]] long state_of(Price bid_px, Qty bid_qty, Price ask_px, Qty ask_qty) const noexcept;
  [[nodiscard]] std::size_t bucket_of(double imbalance) const noexcept;

  Config config_;
  std::size_t n_states_ = 0;
  // Counts, row-major n_states × (n_states | 4).
  std::vector<double> q_counts_, t_counts_, r_counts_, row_totals_;
  std::vector<double> g_star_;
  bool fitted_ = false;
  bool have_prev_ = false;
  long prev_state_ = -1;
  std::int64_t prev_mid2_ = 0;  // bid + ask (raw), i.e. twice the mid
  std::uint64_t transitions_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace mmkit::signals
