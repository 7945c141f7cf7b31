#include "mmkit/signals/trend.h"

#include <cmath>
#include <string>

#include "mmkit/core/error.h"

namespace mmkit::signals {
namespace {

[[noreturn]] void bad(const char* component, const std::string& param, const std::string& what) {
  throw Error(std::string(component) + ": config '" + param + "' " + what);
}

void check_kalman(const KalmanTrendConfig& c, const char* component, const std::string& prefix) {
  if (!(c.q_level >= 0) || !std::isfinite(c.q_level)) {
    bad(component, prefix + "q_level", "must be >= 0");
  }
  if (!(c.q_slope >= 0) || !std::isfinite(c.q_slope)) {
    bad(component, prefix + "q_slope", "must be >= 0");
  }
  if (!(c.r > 0) || !std::isfinite(c.r)) bad(component, prefix + "r", "must be > 0");
  if (!(c.initial_slope_variance > 0) || !std::isfinite(c.initial_slope_variance)) {
    bad(component, prefix + "initial_slope_variance", "must be > 0");
  }
}

void check_qqe(const QqeConfig& c, const char* component, const std::string& prefix) {
  if (c.rsi_period < 2) bad(component, prefix + "rsi_period", "must be >= 2");
  if (c.smoothing < 1) bad(component, prefix + "smoothing", "must be >= 1");
  if (!(c.factor > 0) || !std::isfinite(c.factor)) bad(component, prefix + "factor", "must be > 0");
}

const KalmanTrendConfig& checked(const KalmanTrendConfig& c) {
  check_kalman(c, "KalmanTrend", "");
  return c;
}
const QqeConfig& checked(const QqeConfig& c) {
  check_qqe(c, "Qqe", "");
  return c;
}
const DirectionalSignalConfig& checked(const DirectionalSignalConfig& c) {
  const char* n = "DirectionalSignal";
  if (c.sample_interval_ns <= 0) bad(n, "sample_interval_ns", "must be > 0");
  check_kalman(c.kalman, n, "kalman.");
  check_qqe(c.qqe, n, "qqe.");
  if (!(c.slope_z_threshold > 0) || !std::isfinite(c.slope_z_threshold)) {
    bad(n, "slope_z_threshold", "must be > 0");
  }
  if (c.max_gap_samples < 1) bad(n, "max_gap_samples", "must be >= 1");
  return c;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

KalmanTrend::KalmanTrend(const Config& config) : config_(checked(config)) {}

void KalmanTrend::predict_only() {
  if (samples_ == 0) return;
  // x⁻ = F x, P⁻ = F P Fᵀ + Q with F = [[1, 1], [0, 1]].
  x0_ += x1_;
  const double p00 = p00_ + 2.0 * p01_ + p11_ + config_.q_level;
  const double p01 = p01_ + p11_;
  const double p11 = p11_ + config_.q_slope;
  p00_ = p00;
  p01_ = p01;
  p11_ = p11;
}

void KalmanTrend::update(double y) {
  if (!std::isfinite(y)) return;
  if (samples_ == 0) {
    x0_ = y;
    x1_ = 0;
    p00_ = config_.r;
    p01_ = 0;
    p11_ = config_.initial_slope_variance;
    samples_ = 1;
    return;
  }
  predict_only();
  const double s = p00_ + config_.r;
  const double k0 = p00_ / s;
  const double k1 = p01_ / s;
  const double innovation = y - x0_;
  x0_ += k0 * innovation;
  x1_ += k1 * innovation;
  // P = (I − K H) P⁻.
  const double p00 = (1.0 - k0) * p00_;
  const double p01 = (1.0 - k0) * p01_;
  const double p11 = p11_ - k1 * p01_;
  p00_ = p00;
  p01_ = p01;
  p11_ = p11;
  ++samples_;
}

double KalmanTrend::slope_z() const noexcept {
  if (samples_ == 0 || !(p11_ > 0)) return 0.0;
  return x1_ / std::sqrt(p11_);
}

void KalmanTrend::reset() noexcept {
  x0_ = x1_ = 0;
  p00_ = p01_ = p11_ = 0;
  samples_ = 0;
}

// ---------------------------------------------------------------------------------------------

Qqe::Qqe(const Config& config) : config_(checked(config)) {}

void Qqe::update(double x) {
  if (!std::isfinite(x)) return;
  ++samples_;
  if (samples_ == 1) {
    prev_x_ = x;
    return;
  }
  const double d = x - prev_x_;
  prev_x_ = x;
  const double gain = d > 0 ? d : 0.0;
  const double loss = d < 0 ? -d : 0.0;
  const double n = static_cast<double>(config_.rsi_period);
  if (!rsi_ready_) {
    seed_gain_ += gain;
    seed_loss_ += loss;
    if (++seed_count_ < config_.rsi_period) return;
    avg_gain_ = seed_gain_ / n;
    avg_loss_ = seed_loss_ / n;
    rsi_ready_ = true;
  } else {
    avg_gain_ += (gain - avg_gain_) / n;
    avg_loss_ += (loss - avg_loss_) / n;
  }
  if (avg_loss_ > 0) {
    rsi_ = 100.0 - 100.0 / (1.0 + avg_gain_ / avg_loss_);
  } else {
    rsi_ = avg_gain_ > 0 ? 100.0 : 50.0;
  }

  const double a_sf = 2.0 / (static_cast<double>(config_.smoothing) + 1.0);
  if (!have_m_) {
    have_m_ = true;
    m_ = rsi_;
    prev_m_ = m_;
    return;
  }
  prev_m_ = m_;
  m_ += a_sf * (rsi_ - m_);

  const double a = std::abs(m_ - prev_m_);
  const double w = 2.0 * n - 1.0;
  const double a_w = 2.0 / (w + 1.0);
  if (!have_a_) {
    have_a_ = true;
    ema_a_ = a;
    ema_ema_a_ = a;
  } else {
    ema_a_ += a_w * (a - ema_a_);
    ema_ema_a_ += a_w * (ema_a_ - ema_ema_a_);
  }
  dar_ = ema_ema_a_ * config_.factor;

  const double nl = m_ - dar_;
  const double ns = m_ + dar_;
  if (bands_ == 0) {
    lb_ = nl;
    sb_ = ns;
    prev_lb_ = lb_;
    prev_sb_ = sb_;
    ++bands_;
    return;
  }
  // Here lb_ / sb_ hold the bands at k−1 and prev_lb_ / prev_sb_ those at k−2 (when bands_ >= 2).
  const double lb1 = lb_, sb1 = sb_;
  const double lb2 = prev_lb_, sb2 = prev_sb_;
  const double lb = (prev_m_ > lb1 && m_ > lb1) ? std::max(lb1, nl) : nl;
  const double sb = (prev_m_ < sb1 && m_ < sb1) ? std::min(sb1, ns) : ns;
  if (bands_ >= 2) {
    if (m_ > sb1 && prev_m_ <= sb2) {
      trend_ = 1;
    } else if (m_ < lb1 && prev_m_ >= lb2) {
      trend_ = -1;
    }
  }
  prev_lb_ = lb1;
  prev_sb_ = sb1;
  lb_ = lb;
  sb_ = sb;
  ++bands_;
}

void Qqe::reset() noexcept {
  samples_ = 0;
  prev_x_ = 0;
  seed_count_ = 0;
  seed_gain_ = seed_loss_ = 0;
  avg_gain_ = avg_loss_ = 0;
  rsi_ready_ = false;
  rsi_ = 50;
  have_m_ = false;
  m_ = prev_m_ = 0;
  have_a_ = false;
  ema_a_ = ema_ema_a_ = 0;
  dar_ = 0;
  bands_ = 0;
  lb_ = sb_ = prev_lb_ = prev_sb_ = 0;
  trend_ = 1;
}

// ---------------------------------------------------------------------------------------------

DirectionalSignal::DirectionalSignal(const Config& config)
    : config_(checked(config)), kalman_(config.kalman), qqe_(config.qqe) {}

void DirectionalSignal::sample(double mid) noexcept {
  ++samples_;
  kalman_.update(1e4 * std::log(mid / mid0_));
  qqe_.update(mid);
  if (!kalman_.ready() || !qqe_.ready()) {
    bias_ = 0;
    return;
  }
  const double z = kalman_.slope_z();
  const int t = qqe_.trend();
  if (z > config_.slope_z_threshold && t > 0) {
    bias_ = 1;
  } else if (z < -config_.slope_z_threshold && t < 0) {
    bias_ = -1;
  } else {
    bias_ = 0;
  }
}

int DirectionalSignal::advance(TimestampNs ts) {
  if (!config_.enabled || !started_ || ts <= next_ts_) return bias_;
  const TimestampNs h = config_.sample_interval_ns;
  const auto due = static_cast<std::uint64_t>((ts - next_ts_ - 1) / h) + 1;
  const std::uint64_t fed = due < config_.max_gap_samples ? due : config_.max_gap_samples;
  for (std::uint64_t i = 0; i < fed; ++i) sample(last_mid_);
  skipped_ += due - fed;
  next_ts_ += static_cast<TimestampNs>(due) * h;
  return bias_;
}

int DirectionalSignal::update(TimestampNs ts, double mid) {
  if (!config_.enabled) return 0;
  if (!(mid > 0) || !std::isfinite(mid)) return bias_;
  if (!started_) {
    started_ = true;
    mid0_ = mid;
    last_mid_ = mid;
    next_ts_ = ts;
    return bias_;
  }
  advance(ts);
  last_mid_ = mid;
  return bias_;
}

void DirectionalSignal::reset() noexcept {
  kalman_.reset();
  qqe_.reset();
  started_ = false;
  next_ts_ = 0;
  last_mid_ = 0;
  mid0_ = 0;
  samples_ = 0;
  skipped_ = 0;
  bias_ = 0;
}

}  // namespace mmkit::signals
