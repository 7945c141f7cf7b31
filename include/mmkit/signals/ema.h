// Time-based exponential moving average of a piecewise-constant signal observed at irregular
// times. Not thread-safe.
#pragma once

#include <cmath>
#include <cstdint>

#include "mmkit/core/types.h"

namespace mmkit::signals {

/// EMA in continuous time of a step signal x(t): the value x_k set at t_k holds until the next
/// update at t_{k+1}, so with Δt = t_{k+1} − t_k and α = 1 − 2^(−Δt/half_life)
///   ema(t_{k+1}) = ema(t_k) + α · (x_k − ema(t_k)),
/// the exact exponential-kernel average of the step signal (several updates at the same ts: only
/// the last one is held). The first update sets ema = x. half_life_ns == 0 means no smoothing
/// (value() is the last x). value_at(ts) extrapolates to a later time with the last x held.
class TimeEma {
 public:
  /// half_life_ns >= 0 (not checked here; the owning component validates its config).
  explicit TimeEma(TimestampNs half_life_ns = 0) noexcept : half_life_ns_(half_life_ns) {}

  /// x is the signal's value from ts on (ts non-decreasing; an earlier ts is treated as Δt = 0).
  void update(TimestampNs ts, double x) noexcept {
    if (!started_ || half_life_ns_ <= 0) {
      started_ = true;
      ema_ = x;
    } else {
      ema_ = value_at(ts);
    }
    if (ts > last_ts_ || last_ts_ == kNoTimestamp) last_ts_ = ts;
    last_x_ = x;
  }
  /// EMA at the time of the last update (0 before any).
  [[nodiscard]] double value() const noexcept { return ema_; }
  /// EMA at ts >= the last update, the last x held since (value() before any update).
  [[nodiscard]] double value_at(TimestampNs ts) const noexcept {
    if (!started_) return ema_;
    if (half_life_ns_ <= 0) return last_x_;
    if (ts <= last_ts_) return ema_;
    const double alpha =
        1.0 - std::exp2(-static_cast<double>(ts - last_ts_) / static_cast<double>(half_life_ns_));
    return ema_ + alpha * (last_x_ - ema_);
  }
  [[nodiscard]] double last() const noexcept { return last_x_; }
  [[nodiscard]] bool started() const noexcept { return started_; }
  [[nodiscard]] TimestampNs last_ts() const noexcept { return last_ts_; }
  void reset() noexcept {
    ema_ = 0;
    last_x_ = 0;
    last_ts_ = kNoTimestamp;
    started_ = false;
  }

 private:
  TimestampNs half_life_ns_;
  double ema_ = 0;
  double last_x_ = 0;
  TimestampNs last_ts_ = kNoTimestamp;
  bool started_ = false;
};

}  // namespace mmkit::signals
