#include "mmkit/signals/volatility.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

#include "mmkit/core/error.h"

namespace mmkit::signals {
namespace {

[[noreturn]] void bad(const char* component, const char* param, const std::string& what) {
  throw Error(std::string(component) + ": config '" + param + "' " + what);
}

void check_positive_price(const char* fn, const char* name, double v) {
  if (!(v > 0) || !std::isfinite(v)) {
    throw Error(std::string(fn) + ": parameter '" + name +
                "' must be a positive finite price, got " + std::to_string(v));
  }
}

constexpr std::size_t kResumEvery = 4096;

}  // namespace

double annualize_volatility(double sigma_per_sqrt_s, double seconds_per_year) noexcept {
  return sigma_per_sqrt_s * std::sqrt(seconds_per_year);
}

// ---------------------------------------------------------------------------------------------

namespace {
const EwmaVolatilityConfig& checked(const EwmaVolatilityConfig& c) {
  if (c.sample_interval_ns <= 0) bad("EwmaVolatility", "sample_interval_ns", "must be > 0");
  if (c.half_life_ns <= 0) bad("EwmaVolatility", "half_life_ns", "must be > 0");
  if (c.min_samples < 1) bad("EwmaVolatility", "min_samples", "must be >= 1");
  return c;
}
const RealizedVarianceConfig& checked(const RealizedVarianceConfig& c) {
  if (c.sample_interval_ns <= 0) bad("RealizedVariance", "sample_interval_ns", "must be > 0");
  if (c.window_ns < c.sample_interval_ns) {
    bad("RealizedVariance", "window_ns", "must be >= sample_interval_ns");
  }
  if (c.min_samples < 1) bad("RealizedVariance", "min_samples", "must be >= 1");
  return c;
}
}  // namespace

EwmaVolatility::EwmaVolatility(const Config& config)
    : config_(checked(config)),
      impl_(config.sample_interval_ns, config.half_life_ns, config.min_samples) {}

void EwmaVolatility::update(TimestampNs ts, double mid) {
  if (!config_.enabled) return;
  if (!(mid > 0) || !std::isfinite(mid)) {
    ++rejected_;
    return;
  }
  impl_.update(ts, std::log(mid));
}

void EwmaVolatility::advance(TimestampNs ts) {
  if (config_.enabled) impl_.advance(ts);
}

bool EwmaVolatility::ready() const noexcept { return config_.enabled && impl_.ready(); }

double EwmaVolatility::value() const noexcept { return config_.enabled ? impl_.sigma() : 0.0; }

double EwmaVolatility::annualized() const noexcept { return annualize_volatility(value()); }

std::uint64_t EwmaVolatility::samples() const noexcept { return impl_.samples(); }

void EwmaVolatility::reset() {
  impl_ = strategy::EwmaVolatility(config_.sample_interval_ns, config_.half_life_ns,
                                   config_.min_samples);
  rejected_ = 0;
}

// ---------------------------------------------------------------------------------------------

RealizedVariance::RealizedVariance(const Config& config)
    : config_(checked(config)),
      impl_(config.window_ns, config.sample_interval_ns, config.min_samples) {}

void RealizedVariance::update(TimestampNs ts, double mid) {
  if (!config_.enabled) return;
  if (!(mid > 0) || !std::isfinite(mid)) {
    ++rejected_;
    return;
  }
  impl_.update(ts, std::log(mid));
}

void RealizedVariance::advance(TimestampNs ts) {
  if (config_.enabled) impl_.advance(ts);
}

bool RealizedVariance::ready() const noexcept { return config_.enabled && impl_.ready(); }

double RealizedVariance::value() const noexcept {
  if (!config_.enabled) return 0.0;
  const double s = impl_.sigma();
  return s * s;
}

double RealizedVariance::sum_squared() const noexcept {
  const double h_s = static_cast<double>(config_.sample_interval_ns) * 1e-9;
  return value() * static_cast<double>(impl_.samples()) * h_s;
}

double RealizedVariance::volatility() const noexcept { return std::sqrt(value()); }

std::size_t RealizedVariance::samples() const noexcept { return impl_.samples(); }

void RealizedVariance::reset() {
  impl_ = strategy::RollingVolatility(config_.window_ns, config_.sample_interval_ns,
                                      config_.min_samples);
  rejected_ = 0;
}

// ---------------------------------------------------------------------------------------------

double parkinson_variance(double high, double low) {
  check_positive_price("parkinson_variance", "high", high);
  check_positive_price("parkinson_variance", "low", low);
  if (high < low) throw Error("parkinson_variance: parameter 'high' is below 'low'");
  const double u = std::log(high / low);
  return u * u / (4.0 * std::numbers::ln2);
}

double garman_klass_variance(double open, double high, double low, double close) {
  check_positive_price("garman_klass_variance", "open", open);
  check_positive_price("garman_klass_variance", "high", high);
  check_positive_price("garman_klass_variance", "low", low);
  check_positive_price("garman_klass_variance", "close", close);
  if (high < low) throw Error("garman_klass_variance: parameter 'high' is below 'low'");
  if (open < low || open > high) {
    throw Error("garman_klass_variance: parameter 'open' is outside [low, high]");
  }
  if (close < low || close > high) {
    throw Error("garman_klass_variance: parameter 'close' is outside [low, high]");
  }
  const double u = std::log(high / low);
  const double c = std::log(close / open);
  return 0.5 * u * u - (2.0 * std::numbers::ln2 - 1.0) * c * c;
}

const char* to_string(CandleVarianceEstimator e) noexcept {
  switch (e) {
    case CandleVarianceEstimator::kParkinson:
      return "parkinson";
    case CandleVarianceEstimator::kGarmanKlass:
      return "garman_klass";
  }
  return "?";
}

namespace {
const RollingCandleVarianceConfig& checked(const RollingCandleVarianceConfig& c) {
  if (c.window < 1) bad("RollingCandleVariance", "window", "must be >= 1");
  if (c.candle_ns <= 0) bad("RollingCandleVariance", "candle_ns", "must be > 0");
  if (c.estimator != CandleVarianceEstimator::kParkinson &&
      c.estimator != CandleVarianceEstimator::kGarmanKlass) {
    bad("RollingCandleVariance", "estimator", "is not a known estimator");
  }
  return c;
}
}  // namespace

RollingCandleVariance::RollingCandleVariance(const Config& config)
    : config_(checked(config)), ring_(config.window, 0.0) {}

void RollingCandleVariance::update(double open, double high, double low, double close) {
  if (!config_.enabled) return;
  const double v = config_.estimator == CandleVarianceEstimator::kParkinson
                       ? parkinson_variance(high, low)
                       : garman_klass_variance(open, high, low, close);
  const std::size_t n = ring_.size();
  if (count_ >= n) sum_ -= ring_[head_];
  ring_[head_] = v;
  sum_ += v;
  head_ = (head_ + 1) % n;
  ++count_;
  if (++since_resum_ >= n) {
    since_resum_ = 0;
    double s = 0;
    const std::size_t held = count();
    for (std::size_t i = 0; i < held; ++i) s += ring_[i];
    sum_ = s;
  }
}

double RollingCandleVariance::value() const noexcept {
  const std::size_t held = count();
  if (!config_.enabled || held == 0) return 0.0;
  const double m = sum_ / static_cast<double>(held);
  return m > 0 ? m : 0.0;
}

double RollingCandleVariance::per_second() const noexcept {
  return value() / (static_cast<double>(config_.candle_ns) * 1e-9);
}

double RollingCandleVariance::volatility() const noexcept { return std::sqrt(per_second()); }

void RollingCandleVariance::reset() {
  std::fill(ring_.begin(), ring_.end(), 0.0);
  head_ = 0;
  count_ = 0;
  since_resum_ = 0;
  sum_ = 0;
}

// ---------------------------------------------------------------------------------------------

const char* to_string(VolRegime r) noexcept {
  switch (r) {
    case VolRegime::kLow:
      return "low";
    case VolRegime::kMedium:
      return "medium";
    case VolRegime::kHigh:
      return "high";
  }
  return "?";
}

namespace {
const VolRegimeConfig& checked(const VolRegimeConfig& c) {
  const char* n = "VolRegimeClassifier";
  if (c.mode != VolRegimeMode::kRatio && c.mode != VolRegimeMode::kAbsolute) {
    bad(n, "mode", "is not a known mode");
  }
  if (!(c.low_threshold > 0) || !std::isfinite(c.low_threshold)) {
    bad(n, "low_threshold", "must be > 0");
  }
  if (!(c.high_threshold > c.low_threshold) || !std::isfinite(c.high_threshold)) {
    bad(n, "high_threshold", "must be > low_threshold");
  }
  if (!(c.hysteresis >= 0 && c.hysteresis < 1)) bad(n, "hysteresis", "must be in [0, 1)");
  if (c.min_dwell_ns < 0) bad(n, "min_dwell_ns", "must be >= 0");
  if (c.sample_interval_ns <= 0) bad(n, "sample_interval_ns", "must be > 0");
  if (c.short_half_life_ns <= 0) bad(n, "short_half_life_ns", "must be > 0");
  if (c.long_half_life_ns <= c.short_half_life_ns) {
    bad(n, "long_half_life_ns", "must be > short_half_life_ns");
  }
  if (c.min_samples < 1) bad(n, "min_samples", "must be >= 1");
  return c;
}

EwmaVolatilityConfig vol_config(const VolRegimeConfig& c, TimestampNs half_life_ns) {
  EwmaVolatilityConfig e;
  e.enabled = c.enabled;
  e.sample_interval_ns = c.sample_interval_ns;
  e.half_life_ns = half_life_ns;
  e.min_samples = c.min_samples;
  return e;
}
}  // namespace

VolRegimeClassifier::VolRegimeClassifier(const Config& config)
    : config_(checked(config)),
      short_(vol_config(config, config.short_half_life_ns)),
      long_(vol_config(config, config.long_half_life_ns)),
      last_x_(std::numeric_limits<double>::quiet_NaN()) {}

VolRegime VolRegimeClassifier::update(TimestampNs ts, double mid) {
  if (!config_.enabled) return regime_;
  short_.update(ts, mid);
  long_.update(ts, mid);
  if (!short_.ready() || !long_.ready()) return regime_;
  double x = short_.value();
  if (config_.mode == VolRegimeMode::kRatio) {
    const double base = long_.value();
    if (!(base > 0)) return regime_;
    x /= base;
  }
  return classify(ts, x);
}

VolRegime VolRegimeClassifier::classify(TimestampNs ts, double x) {
  if (!config_.enabled || !std::isfinite(x)) return regime_;
  last_x_ = x;
  const double lo = config_.low_threshold;
  const double hi = config_.high_threshold;
  const double h = config_.hysteresis;
  if (!classified_) {
    classified_ = true;
    regime_ = x < lo ? VolRegime::kLow : (x > hi ? VolRegime::kHigh : VolRegime::kMedium);
    last_change_ts_ = ts;
    return regime_;
  }
  VolRegime target = regime_;
  switch (regime_) {
    case VolRegime::kMedium:
      target = x > hi * (1 + h) ? VolRegime::kHigh
                                : (x < lo * (1 - h) ? VolRegime::kLow : VolRegime::kMedium);
      break;
    case VolRegime::kHigh:
      if (x < hi * (1 - h)) target = x < lo * (1 - h) ? VolRegime::kLow : VolRegime::kMedium;
      break;
    case VolRegime::kLow:
      if (x > lo * (1 + h)) target = x > hi * (1 + h) ? VolRegime::kHigh : VolRegime::kMedium;
      break;
  }
  if (target != regime_ && ts - last_change_ts_ >= config_.min_dwell_ns) {
    regime_ = target;
    last_change_ts_ = ts;
    ++changes_;
  }
  return regime_;
}

void VolRegimeClassifier::reset() {
  short_.reset();
  long_.reset();
  regime_ = VolRegime::kMedium;
  classified_ = false;
  last_change_ts_ = kNoTimestamp;
  last_x_ = std::numeric_limits<double>::quiet_NaN();
  changes_ = 0;
}

}  // namespace mmkit::signals
