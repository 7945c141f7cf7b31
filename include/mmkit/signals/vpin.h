// Flow toxicity on a volume clock (VPIN) and a trade arrival rate analyzer.
//
// Timestamps int64 ns (non-decreasing per instance). Not thread-safe. Invalid configs throw
// mmkit::Error naming the parameter. O(1) amortized per trade (per closed bar / bucket), no
// allocation per update once constructed, deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "mmkit/core/types.h"
#include "mmkit/signals/ema.h"

namespace mmkit::signals {

/// Standard normal CDF Φ(x) = ½ erfc(−x/√2).
[[nodiscard]] double normal_cdf(double x) noexcept;

struct VpinConfig {
  bool enabled = true;                     ///< false: update() no-op, value() = 0
  TimestampNs bar_ns = 1'000'000'000;      ///< time bar length (> 0); bars are [k·bar, (k+1)·bar)
                                           ///< of the epoch-aligned clock; 1 s
  double bucket_volume = 10.0;             ///< V: volume per bucket (> 0), in the qty unit of
                                           ///< update(); set per instrument (10 = 10 BTC)
  std::size_t buckets = 50;                ///< n buckets in the VPIN sum (>= 1)
  std::size_t sigma_bars = 500;            ///< σ_ΔP window: last this many bar changes (>= 2)
  std::size_t min_sigma_bars = 20;         ///< bars are classified once σ has this many (>= 2,
                                           ///< <= sigma_bars)
  double fixed_sigma = 0;                  ///< > 0: use this σ_ΔP (price unit) instead of the
                                           ///< estimate (tests, calibrated runs); 0 = estimate
};

/// VPIN, Easley, López de Prado & O'Hara (2012, "Flow toxicity and liquidity in a
/// high-frequency world", RFS 25(5)), §2:
///  1. Time bars of bar_ns: volume V_τ = Σ qty, close P_τ = last trade price; ΔP_τ = P_τ − P_{τ'}
///     with τ' the previous bar that had trades. Bars without trades are skipped (no volume, not
///     in σ). The first bar with trades only sets the reference close.
///  2. Bulk volume classification: V^B_τ = V_τ · Φ(ΔP_τ / σ_ΔP), V^S_τ = V_τ − V^B_τ, where σ_ΔP
///     is the sample standard deviation (n − 1) of the last `sigma_bars` bar changes ΔP including
///     the current bar's (or fixed_sigma). Bars before σ has `min_sigma_bars` changes are warm-up:
///     not classified, not bucketed (warmup_bars()). σ_ΔP == 0: Φ(ΔP/σ) is taken as 1 for ΔP > 0,
///     0 for ΔP < 0, ½ for ΔP = 0.
///  3. Volume clock: buckets of exactly V; a bar's volume fills the current bucket and the rest
///     spills into the next ones, each piece split buy/sell with the bar's fraction Φ(ΔP/σ).
///  4. VPIN = Σ_{last n buckets} |V^S − V^B| / (n V).
/// A bar is closed when a trade at or after its end arrives, or by advance().
class Vpin {
 public:
  using Config = VpinConfig;
  /// Throws mmkit::Error naming `bar_ns`, `bucket_volume`, `buckets`, `sigma_bars`,
  /// `min_sigma_bars` or `fixed_sigma`.
  explicit Vpin(const Config& config = {});

  /// Trade at local (or exchange) time ts; price in any unit (raw or decimal; σ_ΔP and
  /// fixed_sigma are in the same unit), qty > 0 in the unit of bucket_volume. The aggressor side
  /// is not used (BVC). qty <= 0 or non-finite inputs are ignored and counted in ignored().
  void update(TimestampNs ts, double price, double qty);
  /// Closes the bars that ended at or before ts.
  void advance(TimestampNs ts);
  /// VPIN over the last min(n, completed) buckets (divided by that count × V); 0 before any.
  [[nodiscard]] double value() const noexcept;
  /// True once n buckets are complete.
  [[nodiscard]] bool ready() const noexcept { return completed_ >= imbalance_.size(); }
  /// σ_ΔP in use (fixed_sigma, or the estimate; 0 before two changes).
  [[nodiscard]] double sigma() const noexcept;
  /// Buckets completed since construction / reset.
  [[nodiscard]] std::uint64_t buckets_completed() const noexcept { return completed_; }
  /// Buy / sell volume in the bucket being filled.
  [[nodiscard]] double open_bucket_buy() const noexcept { return open_buy_; }
  [[nodiscard]] double open_bucket_sell() const noexcept { return open_sell_; }
  /// |V^S − V^B| of the i-th most recent completed bucket (0 = newest), i < min(n, completed).
  [[nodiscard]] double bucket_imbalance(std::size_t i) const noexcept;
  /// Volume put into buckets so far (= buckets_completed() · V + the open bucket's volume).
  [[nodiscard]] double classified_volume() const noexcept { return classified_volume_; }
  [[nodiscard]] std::uint64_t bars() const noexcept { return bars_; }
  [[nodiscard]] std::uint64_t warmup_bars() const noexcept { return warmup_bars_; }
  [[nodiscard]] std::uint64_t ignored() const noexcept { return ignored_; }
  void reset() noexcept;
  [[nodiscard]] const Config& config() const noexcept { return config_; }

 private:
  void close_bar();
  void add_to_buckets(double volume, double buy_fraction) noexcept;

  Config config_;
  // current bar
  std::int64_t bar_index_ = 0;
  bool bar_open_ = false;
  double bar_volume_ = 0;
  double bar_close_ = 0;
  // previous bar close
  bool have_ref_ = false;
  double ref_close_ = 0;
  // σ window of ΔP
  std::vector<double> dp_ring_;
  std::size_t dp_head_ = 0;
  std::size_t dp_count_ = 0;
  std::size_t dp_since_resum_ = 0;
  double dp_sum_ = 0;
  double dp_sum_sq_ = 0;
  // buckets
  double open_buy_ = 0;
  double open_sell_ = 0;
  std::vector<double> imbalance_;
  std::size_t imb_head_ = 0;
  std::uint64_t completed_ = 0;
  double imb_sum_ = 0;
  std::size_t imb_since_resum_ = 0;
  double classified_volume_ = 0;
  std::uint64_t bars_ = 0;
  std::uint64_t warmup_bars_ = 0;
  std::uint64_t ignored_ = 0;
};

// ---------------------------------------------------------------------------------------------

struct TradeArrivalRateConfig {
  bool enabled = true;                            ///< false: update() no-op, values 0
  TimestampNs fast_half_life_ns = 5'000'000'000;  ///< fast kernel half-life (> 0); 5 s
  TimestampNs slow_half_life_ns = 300'000'000'000;///< slow kernel half-life (> fast); 5 min
};

/// Exponentially weighted trade arrival rate and volume rate. With κ = ln 2 / half_life, a
/// kernel estimate at time t over the trades i (times t_i <= t, quantities v_i) is
///   λ(t) = κ Σ_i e^{−κ (t − t_i)}            (trades / s)
///   ν(t) = κ Σ_i v_i e^{−κ (t − t_i)}        (qty / s)
///   m(t) = κ Σ_i v_i² e^{−κ (t − t_i)}       (qty² / s)
/// kept for a fast and a slow half-life. The z-scores compare fast with slow, scaled by the
/// observed dispersion of that difference (trade arrivals cluster, so the Poisson variance
/// λ_s κ_f / 2 of the fast estimate understates it by orders of magnitude on real data):
///   d_λ = λ_f − λ_s,  s²_λ = TimeEma_{slow half-life}(d_λ²) with d_λ² sampled after each trade
///   z_rate = d_λ(t) / s_λ,  and likewise z_volume with d_ν = ν_f − ν_s
/// (TimeEma: the value after a trade is held until the next; 0 when s = 0). m(t) is exposed as
/// volume_m2_rate(). Values are as of the last update / advance.
class TradeArrivalRate {
 public:
  using Config = TradeArrivalRateConfig;
  /// Throws mmkit::Error naming `fast_half_life_ns` or `slow_half_life_ns`.
  explicit TradeArrivalRate(const Config& config = {});

  /// Trade at ts (non-decreasing), qty >= 0 in any unit (negative / non-finite: ignored, counted).
  void update(TimestampNs ts, double qty);
  /// Decays the estimates to ts without a trade.
  void advance(TimestampNs ts);
  [[nodiscard]] double rate() const noexcept { return fast_count_; }        ///< λ_f, trades/s
  [[nodiscard]] double slow_rate() const noexcept { return slow_count_; }   ///< λ_s, trades/s
  [[nodiscard]] double volume_rate() const noexcept { return fast_volume_; }///< ν_f, qty/s
  [[nodiscard]] double slow_volume_rate() const noexcept { return slow_volume_; }
  [[nodiscard]] double volume_m2_rate() const noexcept { return fast_m2_; }  ///< m_f, qty²/s
  [[nodiscard]] double rate_z() const noexcept;
  [[nodiscard]] double volume_z() const noexcept;
  [[nodiscard]] std::uint64_t trades() const noexcept { return trades_; }
  [[nodiscard]] std::uint64_t ignored() const noexcept { return ignored_; }
  /// True once the time observed since the first trade is at least one slow half-life.
  [[nodiscard]] bool ready() const noexcept;
  void reset() noexcept;
  [[nodiscard]] const Config& config() const noexcept { return config_; }

 private:
  void decay_to(TimestampNs ts) noexcept;

  Config config_;
  double kappa_fast_ = 0;  // per ns
  double kappa_slow_ = 0;  // per ns
  TimestampNs first_ts_ = kNoTimestamp;
  TimestampNs last_ts_ = kNoTimestamp;
  double fast_count_ = 0, fast_volume_ = 0, fast_m2_ = 0;
  double slow_count_ = 0, slow_volume_ = 0, slow_m2_ = 0;
  TimeEma rate_var_;
  TimeEma volume_var_;
  std::uint64_t trades_ = 0;
  std::uint64_t ignored_ = 0;
};

}  // namespace mmkit::signals
