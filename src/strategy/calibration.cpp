#include "mmkit/strategy/calibration.h"

#include <algorithm>
#include <cmath>

#include "mmkit/core/error.h"

namespace mmkit::strategy {

std::optional<LinearFit> fit_line(std::span<const double> x, std::span<const double> y) noexcept {
  const std::size_t n = x.size();
  if (n < 2 || y.size() != n) return std::nullopt;
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  if (!(sxx > 0)) return std::nullopt;
  LinearFit f;
  f.slope = sxy / sxx;
  f.intercept = my - f.slope * mx;
  return f;
}

// ---------------------------------------------------------------------------------------------

RollingVolatility::RollingVolatility(TimestampNs window_ns, TimestampNs interval_ns,
                                     std::size_t min_samples)
    : sampler_(interval_ns), min_samples_(std::max<std::size_t>(min_samples, 1)) {
  if (interval_ns <= 0 || window_ns < interval_ns) {
    throw Error("RollingVolatility: need window >= interval > 0");
  }
  ring_.assign(static_cast<std::size_t>(window_ns / interval_ns), 0.0);
}

void RollingVolatility::push(double r) {
  const std::size_t cap = ring_.size();
  if (count_ == cap) sum_sq_ -= ring_[head_] * ring_[head_];
  ring_[head_] = r;
  sum_sq_ += r * r;
  head_ = head_ + 1 == cap ? 0 : head_ + 1;
  if (count_ < cap) ++count_;
  // Running sums of non-integral values drift: rebuild once per full turn of the ring.
  if (++since_recompute_ >= cap) {
    since_recompute_ = 0;
    double s = 0;
    for (std::size_t i = 0; i < count_; ++i) s += ring_[i] * ring_[i];
    sum_sq_ = s;
  }
}

void RollingVolatility::push_zeros(std::uint64_t n) {
  if (n >= ring_.size()) {
    std::fill(ring_.begin(), ring_.end(), 0.0);
    head_ = 0;
    count_ = ring_.size();
    sum_sq_ = 0;
    since_recompute_ = 0;
    return;
  }
  for (std::uint64_t i = 0; i < n; ++i) push(0.0);
}

void RollingVolatility::update(TimestampNs ts, double mid) {
  sampler_.update(
      ts, mid, 0, [this](double r) { push(r); }, [this](std::uint64_t n) { push_zeros(n); });
}

void RollingVolatility::advance(TimestampNs ts) {
  sampler_.advance(ts, 0, [this](double r) { push(r); }, [this](std::uint64_t n) { push_zeros(n); });
}

double RollingVolatility::sigma() const noexcept {
  if (count_ == 0) return 0;
  const double h_s = static_cast<double>(sampler_.interval_ns()) * 1e-9;
  return std::sqrt(std::max(sum_sq_, 0.0) / (static_cast<double>(count_) * h_s));
}

// ---------------------------------------------------------------------------------------------

EwmaVolatility::EwmaVolatility(TimestampNs interval_ns, TimestampNs half_life_ns,
                               std::size_t min_samples)
    : sampler_(interval_ns), min_samples_(std::max<std::size_t>(min_samples, 1)) {
  if (interval_ns <= 0 || half_life_ns <= 0) {
    throw Error("EwmaVolatility: need interval > 0 and half-life > 0");
  }
  h_s_ = static_cast<double>(interval_ns) * 1e-9;
  decay_ = std::exp2(-static_cast<double>(interval_ns) / static_cast<double>(half_life_ns));
}

void EwmaVolatility::push(double r) {
  weighted_sum_ = decay_ * weighted_sum_ + r * r / h_s_;
  weight_ = decay_ * weight_ + 1.0;
  ++count_;
}

void EwmaVolatility::push_zeros(std::uint64_t n) {
  const double dn = std::pow(decay_, static_cast<double>(n));
  weighted_sum_ *= dn;
  weight_ = weight_ * dn + (decay_ < 1.0 ? (1.0 - dn) / (1.0 - decay_) : static_cast<double>(n));
  count_ += n;
}

void EwmaVolatility::update(TimestampNs ts, double mid) {
  sampler_.update(
      ts, mid, 64, [this](double r) { push(r); }, [this](std::uint64_t n) { push_zeros(n); });
}

void EwmaVolatility::advance(TimestampNs ts) {
  sampler_.advance(ts, 64, [this](double r) { push(r); }, [this](std::uint64_t n) { push_zeros(n); });
}

double EwmaVolatility::sigma() const noexcept {
  if (!(weight_ > 0)) return 0;
  return std::sqrt(std::max(weighted_sum_ / weight_, 0.0));
}

// ---------------------------------------------------------------------------------------------

IntensityEstimator::IntensityEstimator(TimestampNs window_ns, std::size_t bins,
                                       std::uint64_t min_trades)
    : window_ns_(window_ns), min_trades_(min_trades) {
  if (window_ns <= 0 || bins < 2) throw Error("IntensityEstimator: need window > 0 and bins >= 2");
  counts_.assign(bins, 0);
  xs_.reserve(bins);
  ys_.reserve(bins);
}

void IntensityEstimator::observe(TimestampNs ts) {
  if (start_ts_ == kNoTimestamp) start_ts_ = ts;
  if (last_ts_ == kNoTimestamp || ts > last_ts_) last_ts_ = ts;
}

void IntensityEstimator::add_trade(TimestampNs ts, double distance_ticks) {
  observe(ts);
  const double d = std::isfinite(distance_ticks) ? std::max(distance_ticks, 0.0)
                                                 : static_cast<double>(counts_.size());
  // The epsilon keeps distances computed as k − 1e−12 in bin k (mids on a half-tick grid are
  // exact; this only guards other grids).
  const double b = std::floor(d + 1e-9);
  const auto last = static_cast<double>(counts_.size() - 1);
  const auto bin = static_cast<std::uint32_t>(std::min(b, last));
  trades_.push_back(Entry{ts, bin});
  ++counts_[bin];
}

void IntensityEstimator::evict(TimestampNs ts) {
  const TimestampNs cutoff = ts - window_ns_;
  while (!trades_.empty() && trades_.front().ts <= cutoff) {
    --counts_[trades_.front().bin];
    trades_.pop_front();
  }
}

std::uint64_t IntensityEstimator::cumulative_count(std::size_t i) const noexcept {
  std::uint64_t n = 0;
  for (std::size_t j = i; j < counts_.size(); ++j) n += counts_[j];
  return n;
}

std::optional<IntensityFit> IntensityEstimator::fit(TimestampNs ts) {
  observe(ts);
  evict(ts);
  if (trades_.size() < std::max<std::uint64_t>(min_trades_, 1)) return std::nullopt;
  const double window_s =
      static_cast<double>(std::min(window_ns_, last_ts_ - start_ts_)) * 1e-9;
  if (!(window_s > 0)) return std::nullopt;
  xs_.clear();
  ys_.clear();
  std::uint64_t cum = 0;
  for (std::size_t i = counts_.size(); i-- > 0;) {
    cum += counts_[i];
    if (cum == 0) continue;
    xs_.push_back(static_cast<double>(i));
    ys_.push_back(std::log(static_cast<double>(cum) / window_s));
  }
  const auto line = fit_line(xs_, ys_);
  if (!line || !(-line->slope > 0)) return std::nullopt;
  IntensityFit f;
  f.A = std::exp(line->intercept);
  f.k = -line->slope;
  f.points = xs_.size();
  f.trades = trades_.size();
  f.window_s = window_s;
  return f;
}

}  // namespace mmkit::strategy
