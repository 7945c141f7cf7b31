#include "mmkit/signals/vpin.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "mmkit/core/error.h"

namespace mmkit::signals {
namespace {

[[noreturn]] void bad(const char* component, const char* param, const std::string& what) {
  throw Error(std::string(component) + ": config '" + param + "' " + what);
}

const VpinConfig& checked(const VpinConfig& c) {
  if (c.bar_ns <= 0) bad("Vpin", "bar_ns", "must be > 0");
  if (!(c.bucket_volume > 0) || !std::isfinite(c.bucket_volume)) {
    bad("Vpin", "bucket_volume", "must be > 0");
  }
  if (c.buckets < 1) bad("Vpin", "buckets", "must be >= 1");
  if (c.sigma_bars < 2) bad("Vpin", "sigma_bars", "must be >= 2");
  if (c.min_sigma_bars < 2 || c.min_sigma_bars > c.sigma_bars) {
    bad("Vpin", "min_sigma_bars", "must be in [2, sigma_bars]");
  }
  if (!(c.fixed_sigma >= 0) || !std::isfinite(c.fixed_sigma)) {
    bad("Vpin", "fixed_sigma", "must be >= 0");
  }
  return c;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

double normal_cdf(double x) noexcept { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

Vpin::Vpin(const Config& config)
    : config_(checked(config)),
      dp_ring_(config.sigma_bars, 0.0),
      imbalance_(config.buckets, 0.0) {}

void Vpin::update(TimestampNs ts, double price, double qty) {
  if (!config_.enabled) return;
  if (!(qty > 0) || !std::isfinite(qty) || !std::isfinite(price)) {
    ++ignored_;
    return;
  }
  const std::int64_t idx = floor_div(ts, config_.bar_ns);
  if (bar_open_ && idx != bar_index_) close_bar();
  if (!bar_open_) {
    bar_open_ = true;
    bar_index_ = idx;
    bar_volume_ = 0;
  }
  bar_volume_ += qty;
  bar_close_ = price;
}

void Vpin::advance(TimestampNs ts) {
  if (!config_.enabled || !bar_open_) return;
  if (floor_div(ts, config_.bar_ns) != bar_index_) close_bar();
}

double Vpin::sigma() const noexcept {
  if (config_.fixed_sigma > 0) return config_.fixed_sigma;
  if (dp_count_ < 2) return 0.0;
  const double n = static_cast<double>(dp_count_);
  const double var = (dp_sum_sq_ - dp_sum_ * dp_sum_ / n) / (n - 1.0);
  return var > 0 ? std::sqrt(var) : 0.0;
}

void Vpin::close_bar() {
  bar_open_ = false;
  ++bars_;
  if (!have_ref_) {
    have_ref_ = true;
    ref_close_ = bar_close_;
    ++warmup_bars_;
    return;
  }
  const double dp = bar_close_ - ref_close_;
  ref_close_ = bar_close_;
  const std::size_t cap = dp_ring_.size();
  if (dp_count_ >= cap) {
    const double old = dp_ring_[dp_head_];
    dp_sum_ -= old;
    dp_sum_sq_ -= old * old;
  } else {
    ++dp_count_;
  }
  dp_ring_[dp_head_] = dp;
  dp_sum_ += dp;
  dp_sum_sq_ += dp * dp;
  dp_head_ = (dp_head_ + 1) % cap;
  if (++dp_since_resum_ >= cap) {
    dp_since_resum_ = 0;
    double s = 0, s2 = 0;
    for (std::size_t i = 0; i < dp_count_; ++i) {
      s += dp_ring_[i];
      s2 += dp_ring_[i] * dp_ring_[i];
    }
    dp_sum_ = s;
    dp_sum_sq_ = s2;
  }
  if (config_.fixed_sigma <= 0 && dp_count_ < config_.min_sigma_bars) {
    ++warmup_bars_;
    return;
  }
  const double sd = sigma();
  double buy_fraction;
  if (sd > 0) {
    buy_fraction = normal_cdf(dp / sd);
  } else {
    buy_fraction = dp > 0 ? 1.0 : (dp < 0 ? 0.0 : 0.5);
  }
  classified_volume_ += bar_volume_;
  add_to_buckets(bar_volume_, buy_fraction);
}

void Vpin::add_to_buckets(double volume, double buy_fraction) noexcept {
  const double cap = config_.bucket_volume;
  const std::size_t n = imbalance_.size();
  while (volume > 0) {
    const double filled = open_buy_ + open_sell_;
    const double room = cap - filled;
    const double piece = std::min(room, volume);
    open_buy_ += piece * buy_fraction;
    open_sell_ += piece * (1.0 - buy_fraction);
    volume -= piece;
    if (piece >= room) {
      const double imb = std::abs(open_sell_ - open_buy_);
      if (completed_ >= n) imb_sum_ -= imbalance_[imb_head_];
      imbalance_[imb_head_] = imb;
      imb_sum_ += imb;
      imb_head_ = (imb_head_ + 1) % n;
      ++completed_;
      open_buy_ = 0;
      open_sell_ = 0;
      if (++imb_since_resum_ >= n) {
        imb_since_resum_ = 0;
        const std::size_t held = completed_ < n ? static_cast<std::size_t>(completed_) : n;
        double s = 0;
        for (std::size_t i = 0; i < held; ++i) s += imbalance_[i];
        imb_sum_ = s;
      }
    }
  }
}

double Vpin::bucket_imbalance(std::size_t i) const noexcept {
  const std::size_t n = imbalance_.size();
  const std::size_t held = completed_ < n ? static_cast<std::size_t>(completed_) : n;
  if (i >= held) return 0.0;
  return imbalance_[(imb_head_ + n - 1 - i) % n];
}

double Vpin::value() const noexcept {
  if (!config_.enabled || completed_ == 0) return 0.0;
  const std::size_t n = imbalance_.size();
  const std::size_t held = completed_ < n ? static_cast<std::size_t>(completed_) : n;
  const double v = imb_sum_ / (static_cast<double>(held) * config_.bucket_volume);
  return std::clamp(v, 0.0, 1.0);
}

void Vpin::reset() noexcept {
  bar_index_ = 0;
  bar_open_ = false;
  bar_volume_ = 0;
  bar_close_ = 0;
  have_ref_ = false;
  ref_close_ = 0;
  std::fill(dp_ring_.begin(), dp_ring_.end(), 0.0);
  dp_head_ = 0;
  dp_count_ = 0;
  dp_since_resum_ = 0;
  dp_sum_ = 0;
  dp_sum_sq_ = 0;
  open_buy_ = 0;
  open_sell_ = 0;
  std::fill(imbalance_.begin(), imbalance_.end(), 0.0);
  imb_head_ = 0;
  completed_ = 0;
  imb_sum_ = 0;
  imb_since_resum_ = 0;
  classified_volume_ = 0;
  bars_ = 0;
  warmup_bars_ = 0;
  ignored_ = 0;
}

// ---------------------------------------------------------------------------------------------

namespace {
const TradeArrivalRateConfig& checked(const TradeArrivalRateConfig& c) {
  if (c.fast_half_life_ns <= 0) bad("TradeArrivalRate", "fast_half_life_ns", "must be > 0");
  if (c.slow_half_life_ns <= c.fast_half_life_ns) {
    bad("TradeArrivalRate", "slow_half_life_ns", "must be > fast_half_life_ns");
  }
  return c;
}
}  // namespace

TradeArrivalRate::TradeArrivalRate(const Config& config)
    : config_(checked(config)),
      kappa_fast_(std::numbers::ln2 / static_cast<double>(config.fast_half_life_ns)),
      kappa_slow_(std::numbers::ln2 / static_cast<double>(config.slow_half_life_ns)),
      rate_var_(config.slow_half_life_ns),
      volume_var_(config.slow_half_life_ns) {}

void TradeArrivalRate::decay_to(TimestampNs ts) noexcept {
  if (last_ts_ == kNoTimestamp) {
    last_ts_ = ts;
    return;
  }
  if (ts <= last_ts_) return;
  const double dt = static_cast<double>(ts - last_ts_);
  const double df = std::exp(-kappa_fast_ * dt);
  const double ds = std::exp(-kappa_slow_ * dt);
  fast_count_ *= df;
  fast_volume_ *= df;
  fast_m2_ *= df;
  slow_count_ *= ds;
  slow_volume_ *= ds;
  slow_m2_ *= ds;
  last_ts_ = ts;
}

void TradeArrivalRate::update(TimestampNs ts, double qty) {
  if (!config_.enabled) return;
  if (!(qty >= 0) || !std::isfinite(qty)) {
    ++ignored_;
    return;
  }
  decay_to(ts);
  if (first_ts_ == kNoTimestamp) first_ts_ = ts;
  const double kf = kappa_fast_ * 1e9;  // per second
  const double ks = kappa_slow_ * 1e9;
  fast_count_ += kf;
  fast_volume_ += kf * qty;
  fast_m2_ += kf * qty * qty;
  slow_count_ += ks;
  slow_volume_ += ks * qty;
  slow_m2_ += ks * qty * qty;
  ++trades_;
  const double dr = fast_count_ - slow_count_;
  const double dv = fast_volume_ - slow_volume_;
  rate_var_.update(ts, dr * dr);
  volume_var_.update(ts, dv * dv);
}

void TradeArrivalRate::advance(TimestampNs ts) {
  if (config_.enabled && first_ts_ != kNoTimestamp) decay_to(ts);
}

double TradeArrivalRate::rate_z() const noexcept {
  const double var = rate_var_.value_at(last_ts_);
  return var > 0 ? (fast_count_ - slow_count_) / std::sqrt(var) : 0.0;
}

double TradeArrivalRate::volume_z() const noexcept {
  const double var = volume_var_.value_at(last_ts_);
  return var > 0 ? (fast_volume_ - slow_volume_) / std::sqrt(var) : 0.0;
}

bool TradeArrivalRate::ready() const noexcept {
  return first_ts_ != kNoTimestamp && last_ts_ - first_ts_ >= config_.slow_half_life_ns;
}

void TradeArrivalRate::reset() noexcept {
  first_ts_ = kNoTimestamp;
  last_ts_ = kNoTimestamp;
  fast_count_ = fast_volume_ = fast_m2_ = 0;
  slow_count_ = slow_volume_ = slow_m2_ = 0;
  rate_var_.reset();
  volume_var_.reset();
  trades_ = 0;
  ignored_ = 0;
}

}  // namespace mmkit::signals
