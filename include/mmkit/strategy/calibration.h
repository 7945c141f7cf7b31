// Online calibration for the quoting models: trade-intensity estimation λ(δ) = A e^{−kδ} with
// a log-linear least-squares fit over a rolling window, and mid-price volatility (rolling
// realized volatility, or an exponentially weighted one).
//
// Units are the caller's: the estimators take a price-like value (ticks for GLFT and the spread
// quoter, decimal price for Avellaneda-Stoikov) and local timestamps in ns; volatilities come
// out in (value unit) per √second and intensities in trades per second. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "mmkit/core/types.h"

namespace mmkit::strategy {

/// Ordinary least squares y ≈ intercept + slope·x.
struct LinearFit {
  double slope = 0;
  double intercept = 0;
};
/// Fits the line by ordinary least squares. Needs x.size() == y.size() >= 2 and at least two
/// distinct x values; otherwise returns nullopt.
[[nodiscard]] std::optional<LinearFit> fit_line(std::span<const double> x,
                                                std::span<const double> y) noexcept;

/// Samples a piecewise-constant signal x(t) (the last value observed at or before t) on the
/// fixed grid t0, t0 + h, t0 + 2h, ... where t0 is the time of the first observation, and
/// hands out the increments x(t0 + (i+1)h) − x(t0 + ih). A sample at grid time T is emitted
/// once an observation with ts > T arrives (or advance(ts > T) is called), so that a later
/// observation stamped exactly T is still included.
class IntervalSampler {
 public:
  /// interval_ns > 0.
  explicit IntervalSampler(TimestampNs interval_ns) noexcept : interval_ns_(interval_ns) {}

  /// Feeds observation x at local time ts (non-decreasing). For each completed grid interval
  /// calls on_increment(double increment); when more than `max_zero_run` further intervals
  /// passed without a change it calls on_zeros(count) once for that many zero increments.
  template <class OnIncrement, class OnZeros>
  void update(TimestampNs ts, double x, std::size_t max_zero_run, OnIncrement&& on_increment,
              OnZeros&& on_zeros) {
    advance(ts, max_zero_run, on_increment, on_zeros);
    if (!started_) {
      started_ = true;
      prev_sample_ = x;
      next_ts_ = ts + interval_ns_;
    }
    last_ = x;
  }

  /// Emits the grid samples strictly before ts without a new observation.
  template <class OnIncrement, class OnZeros>
  void advance(TimestampNs ts, std::size_t max_zero_run, OnIncrement&& on_increment,
               OnZeros&& on_zeros) {
    if (!started_ || ts <= next_ts_) return;
    const auto due = static_cast<std::uint64_t>((ts - next_ts_ - 1) / interval_ns_) + 1;
    on_increment(last_ - prev_sample_);
    prev_sample_ = last_;
    const std::uint64_t zeros = due - 1;
    if (zeros > 0) {
      if (zeros > max_zero_run) {
        on_zeros(zeros);
      } else {
        for (std::uint64_t i = 0; i < zeros; ++i) on_increment(0.0);
      }
    }
    next_ts_ += static_cast<TimestampNs>(due) * interval_ns_;
  }

  [[nodiscard]] bool started() const noexcept { return started_; }
  [[nodiscard]] TimestampNs interval_ns() const noexcept { return interval_ns_; }

 private:
  TimestampNs interval_ns_;
  TimestampNs next_ts_ = 0;
  double prev_sample_ = 0;
  double last_ = 0;
  bool started_ = false;
};

/// Rolling realized volatility of a mid price:
///   σ = sqrt( Σ r_i² / (n · h) )
/// over the last n = window / h increments r_i of the mid sampled every h seconds
/// (IntervalSampler), i.e. the quadratic variation per second with a zero-mean assumption.
/// Units: (mid unit) per √second (ticks/√s when fed the mid in ticks).
class RollingVolatility {
 public:
  /// window_ns >= interval_ns > 0; ready() once at least `min_samples` (>= 1) increments.
  RollingVolatility(TimestampNs window_ns, TimestampNs interval_ns, std::size_t min_samples);

  void update(TimestampNs ts, double mid);
  void advance(TimestampNs ts);
  [[nodiscard]] bool ready() const noexcept { return count_ >= min_samples_; }
  /// σ in (mid unit)/√s; 0 before any increment.
  [[nodiscard]] double sigma() const noexcept;
  [[nodiscard]] std::size_t samples() const noexcept { return count_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return ring_.size(); }

 private:
  void push(double r);
  void push_zeros(std::uint64_t n);

  IntervalSampler sampler_;
  std::vector<double> ring_;
  std::size_t head_ = 0;   // next write position
  std::size_t count_ = 0;  // increments held (<= capacity)
  std::size_t since_recompute_ = 0;
  std::size_t min_samples_;
  double sum_sq_ = 0;
};

/// Exponentially weighted volatility of a mid price. Each increment r of the mid sampled every
/// h seconds gives a variance-rate observation v = r²/h; with the per-sample decay
/// d = 2^(−h / half_life) the estimate is the normalized weighted mean
///   σ² = Σ_j d^(n−j) v_j / Σ_j d^(n−j)
/// (the bias-corrected EWMA, pandas' adjust=True). Units: (mid unit) per √second.
class EwmaVolatility {
 public:
  /// interval_ns > 0, half_life_ns > 0; ready() once at least `min_samples` increments.
  EwmaVolatility(TimestampNs interval_ns, TimestampNs half_life_ns, std::size_t min_samples);

  void update(TimestampNs ts, double mid);
  void advance(TimestampNs ts);
  [[nodiscard]] bool ready() const noexcept { return count_ >= min_samples_; }
  [[nodiscard]] double sigma() const noexcept;
  [[nodiscard]] std::uint64_t samples() const noexcept { return count_; }
  [[nodiscard]] double decay() const noexcept { return decay_; }

 private:
  void push(double r);
  void push_zeros(std::uint64_t n);

  IntervalSampler sampler_;
  double h_s_;
  double decay_;
  double weighted_sum_ = 0;
  double weight_ = 0;
  std::uint64_t count_ = 0;
  std::size_t min_samples_;
};

/// Result of an intensity fit: λ(δ) = A e^{−kδ}, δ in ticks from the mid.
struct IntensityFit {
  double A = 0;               ///< trades per second at δ = 0
  double k = 0;               ///< per tick (> 0)
  std::size_t points = 0;     ///< distances used in the fit
  std::uint64_t trades = 0;   ///< trades in the window
  double window_s = 0;        ///< observed time the rates are divided by
};

/// Trade-intensity estimator after Avellaneda & Stoikov (2008) §2.3 and Guéant, Lehalle,
/// Fernandez-Tapia (2013): λ(δ) is the rate at which a limit order resting δ ticks from the
/// mid would be reached by market orders. A trade print at distance d ticks from the mid (d =
/// price − mid for a buyer-initiated trade, mid − price for a seller-initiated one, clamped at
/// 0) reaches every quote at δ ≤ d, so
///   λ(δ_i) = #{trades in the window with d >= δ_i} / window_s,   δ_i = i ticks, i = 0..bins−1
/// and ln λ(δ_i) = ln A − k δ_i is fitted by least squares over the distances with at least one
/// trade. (Under the exponential model this cumulative count and the count at each distance
/// have the same decay k; the cumulative one also gives A as the fill rate at the mid.)
/// The window is the last `window_ns` of local time; before a full window has been observed the
/// rates are divided by the time observed so far. Memory: one entry per trade in the window.
class IntensityEstimator {
 public:
  /// window_ns > 0, bins >= 2; fit() needs at least `min_trades` trades in the window.
  IntensityEstimator(TimestampNs window_ns, std::size_t bins, std::uint64_t min_trades);

  /// Starts (or continues) the observation period at ts: call on every market event so that
  /// rates are per observed second even before the first trade.
  void observe(TimestampNs ts);
  /// Records a trade at distance `distance_ticks` (>= 0; negatives are clamped to 0; distances
  /// beyond the last bin count in it, which leaves the cumulative counts exact).
  void add_trade(TimestampNs ts, double distance_ticks);
  /// Drops trades older than the window at ts and fits; nullopt until at least two distances
  /// have trades, `min_trades` trades are in the window, time has been observed, and the
  /// fitted k > 0.
  [[nodiscard]] std::optional<IntensityFit> fit(TimestampNs ts);
  /// #{trades in the window with distance >= i ticks} (after the last evict / fit).
  [[nodiscard]] std::uint64_t cumulative_count(std::size_t i) const noexcept;
  [[nodiscard]] std::uint64_t trades() const noexcept { return trades_.size(); }
  [[nodiscard]] std::size_t bins() const noexcept { return counts_.size(); }

 private:
  void evict(TimestampNs ts);

  struct Entry {
    TimestampNs ts;
    std::uint32_t bin;
  };
  TimestampNs window_ns_;
  std::uint64_t min_trades_;
  std::deque<Entry> trades_;
  std::vector<std::uint64_t> counts_;  // trades per exact bin
  std::vector<double> xs_, ys_;        // fit scratch
  TimestampNs start_ts_ = kNoTimestamp;
  TimestampNs last_ts_ = kNoTimestamp;
};

}  // namespace mmkit::strategy
