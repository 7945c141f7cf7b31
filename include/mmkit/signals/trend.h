// Directional signals: a Kalman local linear trend, QQE, and their combination into a bias.
//
// KalmanTrend and Qqe take one value per sample (a fixed clock is the caller's, or
// DirectionalSignal's). Not thread-safe. Invalid configs throw mmkit::Error naming the
// parameter. O(1) per sample, no allocation, deterministic.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mmkit/core/types.h"

namespace mmkit::signals {

struct KalmanTrendConfig {
  double q_level = 0.25;   ///< process noise variance of the level per sample (>= 0), y unit²
  double q_slope = 1e-4;   ///< process noise variance of the slope per sample (>= 0),
                           ///< (y unit / sample)²
  double r = 0.25;         ///< observation noise variance (> 0), y unit²
  double initial_slope_variance = 1.0;  ///< P₀[1][1] (> 0); P₀ = diag(r, this), x₀ = (y₀, 0)
};

/// Local linear trend model (Harvey 1989, §2.3.2; Durbin & Koopman 2012, §3.2):
///   x_k = (level_k, slope_k)ᵀ,  x_k = F x_{k−1} + w_k,  y_k = H x_k + v_k,
///   F = [[1, 1], [0, 1]] (one sample per step), H = [1, 0],
///   Q = cov(w) = [[q_level, 0], [0, q_slope]],  R = cov(v) = r.
/// Standard Kalman filter: predict x⁻ = F x, P⁻ = F P Fᵀ + Q; update with S = H P⁻ Hᵀ + r,
/// K = P⁻ Hᵀ / S, x = x⁻ + K (y − H x⁻), P = (I − K H) P⁻ (kept symmetric). The first
/// observation initializes x₀ = (y₀, 0), P₀ = diag(r, initial_slope_variance) without an
/// update. Units: the caller's y unit; the slope is per sample.
class KalmanTrend {
 public:
  using Config = KalmanTrendConfig;
  /// Throws mmkit::Error naming `q_level`, `q_slope`, `r` or `initial_slope_variance`.
  explicit KalmanTrend(const Config& config = {});

  /// One observation y (finite; non-finite is ignored). One predict + update step.
  void update(double y);
  /// Prediction step only (a missing observation).
  void predict_only();
  [[nodiscard]] double level() const noexcept { return x0_; }
  [[nodiscard]] double slope() const noexcept { return x1_; }
  /// Posterior variances / covariance of the state.
  [[nodiscard]] double level_variance() const noexcept { return p00_; }
  [[nodiscard]] double slope_variance() const noexcept { return p11_; }
  [[nodiscard]] double covariance() const noexcept { return p01_; }
  /// slope / √slope_variance (0 before the first observation).
  [[nodiscard]] double slope_z() const noexcept;
  [[nodiscard]] std::uint64_t samples() const noexcept { return samples_; }
  [[nodiscard]] bool ready() const noexcept { return samples_ >= 2; }
  void reset() noexcept;
  [[nodiscard]] const Config& config() const noexcept { return config_; }

 private:
  Config config_;
  double x0_ = 0, x1_ = 0;
  double p00_ = 0, p01_ = 0, p11_ = 0;
  std::uint64_t samples_ = 0;
};

// ---------------------------------------------------------------------------------------------

struct QqeConfig {
  std::size_t rsi_period = 14;  ///< Wilder RSI period N (>= 2)
  std::size_t smoothing = 5;    ///< SF: EMA period of the RSI (>= 1)
  double factor = 4.236;        ///< QQE factor (> 0)
};

/// Quantitative Qualitative Estimation (QQE; the common TradingView "QQE" formulation):
///   RSI_k  Wilder RSI(N) of the input: changes d = x_k − x_{k−1}, average gain / loss seeded with
///          the simple mean of the first N changes, then G ← G + (gain − G)/N (same for L);
///          RSI = 100 − 100 / (1 + G/L); 100 when L = 0 < G; 50 when G = L = 0.
///   M_k    = EMA_SF(RSI)                     (EMA α = 2/(SF+1), seeded with the first RSI)
///   A_k    = |M_k − M_{k−1}|                 (from the second M)
///   D_k    = EMA_W(EMA_W(A)) · factor,  W = 2N − 1  (EMAs α = 2/(W+1), seeded with first value)
///   long band:  nl = M − D; LB = (M_{k−1} > LB_{k−1} and M > LB_{k−1}) ? max(LB_{k−1}, nl) : nl
///   short band: ns = M + D; SB = (M_{k−1} < SB_{k−1} and M < SB_{k−1}) ? min(SB_{k−1}, ns) : ns
///   trend: +1 when M crosses above the previous short band (M_k > SB_{k−1} and
///          M_{k−1} <= SB_{k−2}), −1 when M crosses below the previous long band (M_k < LB_{k−1}
///          and M_{k−1} >= LB_{k−2}), else unchanged; +1 initially (Pine's nz(trend[1], 1)).
///          (The Pine script tests cross() in either direction; here only the upward cross of SB
///          and the downward cross of LB count, the ones that change the trend in practice.)
///   trailing line (slow) = trend > 0 ? LB : SB; the fast line is M.
/// Inputs in any unit (the RSI is scale-free). ready() once bands exist for two samples
/// (N + 3 samples).
class Qqe {
 public:
  using Config = QqeConfig;
  /// Throws mmkit::Error naming `rsi_period`, `smoothing` or `factor`.
  explicit Qqe(const Config& config = {});

  /// One sample x (finite; non-finite ignored).
  void update(double x);
  [[nodiscard]] bool ready() const noexcept { return bands_ >= 2; }
  [[nodiscard]] double rsi() const noexcept { return rsi_; }
  /// Fast line M (smoothed RSI, 0..100).
  [[nodiscard]] double rsi_ma() const noexcept { return m_; }
  /// Slow trailing line (LB when trend is up, SB when down).
  [[nodiscard]] double trailing_line() const noexcept { return trend_ > 0 ? lb_ : sb_; }
  [[nodiscard]] double long_band() const noexcept { return lb_; }
  [[nodiscard]] double short_band() const noexcept { return sb_; }
  /// D (band half-width, RSI points).
  [[nodiscard]] double dar() const noexcept { return dar_; }
  /// +1 (up) or −1 (down); 0 before ready().
  [[nodiscard]] int trend() const noexcept { return ready() ? trend_ : 0; }
  [[nodiscard]] std::uint64_t samples() const noexcept { return samples_; }
  void reset() noexcept;
  [[nodiscard]] const Config& config() const noexcept { return config_; }

 private:
  Config config_;
  std::uint64_t samples_ = 0;
  double prev_x_ = 0;
  // Wilder RSI
  std::size_t seed_count_ = 0;
  double seed_gain_ = 0, seed_loss_ = 0;
  double avg_gain_ = 0, avg_loss_ = 0;
  bool rsi_ready_ = false;
  double rsi_ = 50;
  // M, A, D
  bool have_m_ = false;
  double m_ = 0, prev_m_ = 0;
  bool have_a_ = false;
  double ema_a_ = 0, ema_ema_a_ = 0;
  double dar_ = 0;
  // bands
  std::uint64_t bands_ = 0;
  double lb_ = 0, sb_ = 0;            // at k
  double prev_lb_ = 0, prev_sb_ = 0;  // at k−1
  int trend_ = 1;
};

// ---------------------------------------------------------------------------------------------

struct DirectionalSignalConfig {
  bool enabled = true;                           ///< false: bias() = 0
  TimestampNs sample_interval_ns = 1'000'000'000;///< clock of the samples (> 0); 1 s
  KalmanTrendConfig kalman{};                    ///< in basis points of log mid (see below)
  QqeConfig qqe{};
  double slope_z_threshold = 2.0;                ///< |slope / sd(slope)| needed (> 0)
  std::size_t max_gap_samples = 600;             ///< a gap of more grid points than this feeds
                                                 ///< only this many held samples (>= 1)
};

/// Bias in {−1, 0, +1} from a Kalman trend and QQE on the mid sampled on a clock.
/// Sampling: grid t0 + k·h (t0 = first update), each sample the last mid at or before the grid
/// time (emitted when a later mid arrives or advance() passes it). The Kalman filter sees
/// y = 10⁴ · ln(mid / mid₀) (basis points from the first mid, so its noises are in bps²
/// and instrument-free; the slope is in bps per sample); QQE sees the mid itself.
/// Rule: +1 when slope_z > threshold AND qqe.trend() = +1; −1 when slope_z < −threshold AND
/// qqe.trend() = −1; otherwise 0 (and 0 until both are ready).
class DirectionalSignal {
 public:
  using Config = DirectionalSignalConfig;
  /// Throws mmkit::Error naming the offending parameter (kalman.* / qqe.* prefixed).
  explicit DirectionalSignal(const Config& config = {});

  /// Mid (positive, any unit) at local time ts (non-decreasing). Returns bias().
  int update(TimestampNs ts, double mid);
  /// Emits the grid samples strictly before ts (mid held). Returns bias().
  int advance(TimestampNs ts);
  /// −1, 0 or +1.
  [[nodiscard]] int bias() const noexcept { return bias_; }
  [[nodiscard]] const KalmanTrend& kalman() const noexcept { return kalman_; }
  [[nodiscard]] const Qqe& qqe() const noexcept { return qqe_; }
  [[nodiscard]] std::uint64_t samples() const noexcept { return samples_; }
  /// Grid points skipped because of max_gap_samples.
  [[nodiscard]] std::uint64_t skipped_samples() const noexcept { return skipped_; }
  void reset() noexcept;
  [[nodiscard]] const Config& config() const noexcept { return config_; }

 private:
  void sample(double mid) noexcept;

  Config config_;
  KalmanTrend kalman_;
  Qqe qqe_;
  bool started_ = false;
  TimestampNs next_ts_ = 0;
  double last_mid_ = 0;
  double mid0_ = 0;
  std::uint64_t samples_ = 0;
  std::uint64_t skipped_ = 0;
  int bias_ = 0;
};

}  // namespace mmkit::signals
