// Volatility estimators and a volatility regime classifier.
//
//  - EwmaVolatility: exponentially weighted volatility of mid log returns sampled on a fixed clock.
//  - RealizedVariance: rolling realized variance of mid log returns sampled on a fixed clock.
//  - parkinson_variance / garman_klass_variance: per-candle range estimators, and
//    RollingCandleVariance over the last N candles.
//  - VolRegimeClassifier: low / medium / high with hysteresis and a minimum dwell time.
//
// Units: timestamps are int64 ns (TimestampNs, local time of the caller's clock, non-decreasing
// per instance). Prices are double in any positive unit (raw or decimal: log returns and range
// ratios do not depend on the scale). Volatilities are of log returns, "per √s" (σ such that the
// variance of the log return over τ seconds is σ²·τ); variances are per second unless stated.
// Not thread-safe. Invalid configs throw mmkit::Error naming the parameter.
// Every class: O(1) per update (amortized per sample of the clock), no allocation per update
// after construction, deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "mmkit/core/types.h"
#include "mmkit/strategy/calibration.h"

namespace mmkit::signals {

/// Seconds in a year for annualizing a 24/7 market (crypto): 365 × 86400.
inline constexpr double kSecondsPerYear24x7 = 365.0 * 86400.0;

/// σ_year = σ_per_√s × √seconds_per_year (24/7 by default; use 252 × 6.5 × 3600 for an equity
/// session year). seconds_per_year > 0.
[[nodiscard]] double annualize_volatility(double sigma_per_sqrt_s,
                                          double seconds_per_year = kSecondsPerYear24x7) noexcept;

// ---------------------------------------------------------------------------------------------

struct EwmaVolatilityConfig {
  bool enabled = true;                              ///< false: update() is a no-op, value() = 0
  TimestampNs sample_interval_ns = 1'000'000'000;   ///< h: mid sampled every h (> 0); 1 s
  TimestampNs half_life_ns = 60'000'000'000;        ///< EWMA half-life (> 0); 60 s
  std::size_t min_samples = 10;                     ///< ready() after this many returns (>= 1)
};

/// EWMA volatility of mid log returns. ln(mid) is sampled every h (the last mid at or before each
/// grid time, strategy::IntervalSampler) and each log return r gives the variance-rate
/// observation r²/h; with the per-sample decay d = 2^(−h/half_life)
///   σ² = Σ_j d^(n−j) r_j²/h / Σ_j d^(n−j)
/// (bias-corrected EWMA, as strategy::EwmaVolatility, which this wraps on ln(mid); zero-mean
/// returns, RiskMetrics 1996 §5.2 with time-based decay). value() in log-return units per √s.
class EwmaVolatility {
 public:
  using Config = EwmaVolatilityConfig;
  /// Throws mmkit::Error naming `sample_interval_ns`, `half_life_ns` or `min_samples`.
  explicit EwmaVolatility(const Config& config = {});

  /// mid in any positive unit at local time ts (non-decreasing). Non-positive or non-finite mids
  /// are ignored and counted in rejected().
  void update(TimestampNs ts, double mid);
  /// Emits the grid samples strictly before ts without a new mid (the mid is held).
  void advance(TimestampNs ts);
  [[nodiscard]] bool ready() const noexcept;
  /// σ of log returns per √s; 0 before the first return or when disabled.
  [[nodiscard]] double value() const noexcept;
  /// value() × √kSecondsPerYear24x7.
  [[nodiscard]] double annualized() const noexcept;
  [[nodiscard]] std::uint64_t samples() const noexcept;
  [[nodiscard]] std::uint64_t rejected() const noexcept { return rejected_; }
  void reset();
  [[nodiscard]] const Config& config() const noexcept { return config_; }

 private:
  Config config_;
  strategy::EwmaVolatility impl_;
  std::uint64_t rejected_ = 0;
};

// ---------------------------------------------------------------------------------------------

struct RealizedVarianceConfig {
  bool enabled = true;                               ///< false: update() no-op, value() = 0
  TimestampNs sample_interval_ns = 1'000'000'000;    ///< h (> 0); 1 s
  TimestampNs window_ns = 300'000'000'000;           ///< W (>= h); 300 s → n = W/h returns
  std::size_t min_samples = 30;                      ///< ready() after this many returns (>= 1)
};

/// Rolling realized variance of mid log returns with a fixed sampling: ln(mid) sampled every h
/// (the last mid at or before each grid time), the last n = W/h log returns r_i kept, and
///   RV      = Σ r_i²                 (sum_squared(), over the returns held)
///   value() = Σ r_i² / (n_held · h)  (variance per second; = RV / W once the window is full)
/// (Andersen & Bollerslev 1998, realized variance from fixed-interval returns; wraps
/// strategy::RollingVolatility on ln(mid)).
class RealizedVariance {
 public:
  using Config = RealizedVarianceConfig;
  /// Throws mmkit::Error naming `sample_interval_ns`, `window_ns` or `min_samples`.
  explicit RealizedVariance(const Config& config = {});

  /// mid in any positive unit; non-positive / non-finite mids are ignored and counted.
  void update(TimestampNs ts, double mid);
  void advance(TimestampNs ts);
  [[nodiscard]] bool ready() const noexcept;
  /// Variance of log returns per second; 0 before the first return or when disabled.
  [[nodiscard]] double value() const noexcept;
  /// Σ r_i² over the returns held (dimensionless, not per second).
  [[nodiscard]] double sum_squared() const noexcept;
  /// √value(): σ of log returns per √s.
  [[nodiscard]] double volatility() const noexcept;
  [[nodiscard]] std::size_t samples() const noexcept;
  [[nodiscard]] std::uint64_t rejected() const noexcept { return rejected_; }
  void reset();
  [[nodiscard]] const Config& config() const noexcept { return config_; }

 private:
  Config config_;
  strategy::RollingVolatility impl_;
  std::uint64_t rejected_ = 0;
};

// ---------------------------------------------------------------------------------------------

/// Parkinson (1980, J. Business 53(1), eq. (3)) variance of the log return over one candle:
///   σ²_P = (ln(H/L))² / (4 ln 2).
/// Prices in any positive unit. Throws mmkit::Error naming `low` / `high` if low <= 0, not
/// finite, or high < low.
[[nodiscard]] double parkinson_variance(double high, double low);

/// Garman & Klass (1980, J. Business 53(1), the "practical" estimator σ̂²_5 of §4):
///   σ²_GK = ½ (ln(H/L))² − (2 ln 2 − 1) (ln(C/O))²
/// per candle; never negative for a valid candle since |ln(C/O)| <= ln(H/L) gives
/// σ²_GK >= (1.5 − 2 ln 2)(ln(H/L))² >= 0.
/// Throws mmkit::Error naming the parameter if any price <= 0 / not finite, high < low, or open or
/// close outside [low, high].
[[nodiscard]] double garman_klass_variance(double open, double high, double low, double close);

enum class CandleVarianceEstimator : std::uint8_t { kParkinson = 0, kGarmanKlass = 1 };
[[nodiscard]] const char* to_string(CandleVarianceEstimator e) noexcept;

struct RollingCandleVarianceConfig {
  bool enabled = true;              ///< false: update() no-op, value() = 0
  CandleVarianceEstimator estimator = CandleVarianceEstimator::kGarmanKlass;
  std::size_t window = 60;          ///< N candles (>= 1)
  TimestampNs candle_ns = 60'000'000'000;  ///< candle length (> 0), for per_second(); 1 min
};

/// Mean per-candle variance over the last N candles (ring buffer, running sum re-summed every N
/// updates against drift).
class RollingCandleVariance {
 public:
  using Config = RollingCandleVarianceConfig;
  /// Throws mmkit::Error naming `window` or `candle_ns`.
  explicit RollingCandleVariance(const Config& config = {});

  /// One candle (prices in any positive unit; validated as in the per-candle functions, which
  /// throw). Parkinson ignores open and close.
  void update(double open, double high, double low, double close);
  /// True once N candles have been seen.
  [[nodiscard]] bool ready() const noexcept { return count_ >= ring_.size(); }
  /// Mean per-candle variance of the log return over the candles held (0 before any).
  [[nodiscard]] double value() const noexcept;
  /// value() / candle seconds: variance per second.
  [[nodiscard]] double per_second() const noexcept;
  /// √per_second(): σ per √s.
  [[nodiscard]] double volatility() const noexcept;
  [[nodiscard]] std::size_t count() const noexcept {
    return count_ < ring_.size() ? count_ : ring_.size();
  }
  void reset();
  [[nodiscard]] const Config& config() const noexcept { return config_; }

 private:
  Config config_;
  std::vector<double> ring_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::size_t since_resum_ = 0;
  double sum_ = 0;
};

// ---------------------------------------------------------------------------------------------

enum class VolRegime : std::uint8_t { kLow = 0, kMedium = 1, kHigh = 2 };
[[nodiscard]] const char* to_string(VolRegime r) noexcept;

/// What the classifier compares with its thresholds.
enum class VolRegimeMode : std::uint8_t {
  kRatio = 0,     ///< x = short-horizon EWMA vol / long-horizon EWMA vol (dimensionless)
  kAbsolute = 1,  ///< x = short-horizon EWMA vol (log-return σ per √s)
};

struct VolRegimeConfig {
  bool enabled = true;           ///< false: regime() stays kMedium
  VolRegimeMode mode = VolRegimeMode::kRatio;
  double low_threshold = 0.8;    ///< x below → kLow (> 0, < high_threshold)
  double high_threshold = 1.25;  ///< x above → kHigh
  double hysteresis = 0.05;      ///< relative band h in [0, 1): see VolRegimeClassifier
  TimestampNs min_dwell_ns = 30'000'000'000;  ///< min time in a regime before leaving (>= 0); 30 s
  TimestampNs sample_interval_ns = 1'000'000'000;   ///< EWMA vols' clock (update(ts, mid)); 1 s
  TimestampNs short_half_life_ns = 30'000'000'000;  ///< short EWMA vol half-life; 30 s
  TimestampNs long_half_life_ns = 600'000'000'000;  ///< long EWMA vol half-life (> short); 10 min
  std::size_t min_samples = 30;  ///< both EWMA vols need this many returns before classifying
};

/// Volatility regime with hysteresis and a minimum dwell time. With thresholds L < H and band h:
///   target from kMedium: kHigh if x > H(1+h), kLow if x < L(1−h), else kMedium;
///   from kHigh:          stays kHigh while x >= H(1−h); else kLow if x < L(1−h), else kMedium;
///   from kLow:           stays kLow while x <= L(1+h); else kHigh if x > H(1+h), else kMedium.
/// A change to the target is made only when ts − (time of the last change) >= min_dwell_ns. The
/// first classification takes the plain band (x < L → kLow, x > H → kHigh, else kMedium) without
/// dwell. Before the first classification regime() is kMedium.
class VolRegimeClassifier {
 public:
  using Config = VolRegimeConfig;
  /// Throws mmkit::Error naming the offending parameter.
  explicit VolRegimeClassifier(const Config& config = {});

  /// Feeds the internal short / long EwmaVolatility with mid (positive, any unit) and classifies
  /// x (per `mode`) once both are ready. Returns regime().
  VolRegime update(TimestampNs ts, double mid);
  /// Classifies an externally computed x (same meaning as `mode`) at ts, bypassing the internal
  /// estimators. Non-finite x is ignored. Returns regime().
  VolRegime classify(TimestampNs ts, double x);
  [[nodiscard]] VolRegime regime() const noexcept { return regime_; }
  /// Last x classified (NaN before any).
  [[nodiscard]] double last_x() const noexcept { return last_x_; }
  [[nodiscard]] std::uint64_t changes() const noexcept { return changes_; }
  [[nodiscard]] const EwmaVolatility& short_vol() const noexcept { return short_; }
  [[nodiscard]] const EwmaVolatility& long_vol() const noexcept { return long_; }
  void reset();
  [[nodiscard]] const Config& config() const noexcept { return config_; }

 private:
  Config config_;
  EwmaVolatility short_;
  EwmaVolatility long_;
  VolRegime regime_ = VolRegime::kMedium;
  bool classified_ = false;
  TimestampNs last_change_ts_ = kNoTimestamp;
  double last_x_;
  std::uint64_t changes_ = 0;
};

}  // namespace mmkit::signals
