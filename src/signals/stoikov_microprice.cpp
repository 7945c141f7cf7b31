#include "mmkit/signals/stoikov_microprice.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <string>

#include "mmkit/core/error.h"

namespace mmkit::signals {
namespace {

constexpr std::size_t kJumps = 4;  // ΔM ∈ {−1, −½, ½, 1} ticks
constexpr double kJumpTicks[kJumps] = {-1.0, -0.5, 0.5, 1.0};

[[noreturn]] void bad(const char* param, const std::string& what) {
  throw Error(std::string("StoikovMicroprice: config '") + param + "' " + what);
}

const StoikovMicropriceConfig& checked(const StoikovMicropriceConfig& c) {
  if (c.tick_size <= 0) bad("tick_size", "must be > 0");
  if (c.imbalance_buckets < 2) bad("imbalance_buckets", "must be >= 2");
  if (c.max_spread_ticks < 1) bad("max_spread_ticks", "must be >= 1");
  if (c.iterations < 1) bad("iterations", "must be >= 1");
  return c;
}

}  // namespace

StoikovMicroprice::StoikovMicroprice(const Config& config)
    : config_(checked(config)),
      n_states_(config.imbalance_buckets * config.max_spread_ticks),
      q_counts_(n_states_ * n_states_, 0.0),
      t_counts_(n_states_ * n_states_, 0.0),
      r_counts_(n_states_ * kJumps, 0.0),
      row_totals_(n_states_, 0.0),
      g_star_(n_states_, 0.0) {}

std::size_t StoikovMicroprice::bucket_of(double imbalance) const noexcept {
  const auto n = config_.imbalance_buckets;
  const double b = std::floor(imbalance * static_cast<double>(n));
  if (!(b > 0)) return 0;
  return std::min(static_cast<std::size_t>(b), n - 1);
}

long StoikovMicroprice::state_of(Price bid_px, Qty bid_qty, Price ask_px,
                                 Qty ask_qty) const noexcept {
  if (bid_px == kNoPrice || ask_px == kNoPrice || ask_px <= bid_px) return -1;
  if (bid_qty <= 0 || ask_qty <= 0) return -1;
  const Price spread = ask_px - bid_px;
  if (spread % config_.tick_size != 0) return -1;
  const std::int64_t s = spread / config_.tick_size;
  if (s < 1 || s > static_cast<std::int64_t>(config_.max_spread_ticks)) return -1;
  const double imb =
      static_cast<double>(bid_qty) / (static_cast<double>(bid_qty) + static_cast<double>(ask_qty));
  return static_cast<long>(bucket_of(imb) +
                           config_.imbalance_buckets * static_cast<std::size_t>(s - 1));
}

void StoikovMicroprice::observe(Price bid_px, Qty bid_qty, Price ask_px, Qty ask_qty) {
  if (!config_.enabled) return;
  const long x = state_of(bid_px, bid_qty, ask_px, ask_qty);
  if (x < 0) {
    if (have_prev_) ++dropped_;
    have_prev_ = false;
    return;
  }
  const std::int64_t mid2 = bid_px + ask_px;
  if (have_prev_) {
    const std::int64_t d2 = mid2 - prev_mid2_;  // ΔM in half ticks × tick
    const Price tick = config_.tick_size;
    long jump = -2;  // −2: not representable, −1: no change, 0..3: kJumpTicks index
    if (d2 == 0) {
      jump = -1;
    } else if (d2 % tick == 0) {
      switch (d2 / tick) {
        case -2: jump = 0; break;
        case -1: jump = 1; break;
        case 1: jump = 2; break;
        case 2: jump = 3; break;
        default: break;
      }
    }
    if (jump == -2) {
      ++dropped_;
    } else {
      ++transitions_;
      const auto n = config_.imbalance_buckets;
      const auto from = static_cast<std::size_t>(prev_state_);
      const auto to = static_cast<std::size_t>(x);
      // Mirror: bucket i → n − 1 − i (same spread), ΔM → −ΔM.
      const auto mirror = [n](std::size_t s) { return (s / n) * n + (n - 1 - s % n); };
      const std::size_t mfrom = mirror(from), mto = mirror(to);
      row_totals_[from] += 1;
      row_totals_[mfrom] += 1;
      if (jump == -1) {
        q_counts_[from * n_states_ + to] += 1;
        q_counts_[mfrom * n_states_ + mto] += 1;
      } else {
        const auto j = static_cast<std::size_t>(jump);
        r_counts_[from * kJumps + j] += 1;
        r_counts_[mfrom * kJumps + (kJumps - 1 - j)] += 1;
        t_counts_[from * n_states_ + to] += 1;
        t_counts_[mfrom * n_states_ + mto] += 1;
      }
    }
  }
  have_prev_ = true;
  prev_state_ = x;
  prev_mid2_ = mid2;
}

bool StoikovMicroprice::fit() {
  std::fill(g_star_.begin(), g_star_.end(), 0.0);
  fitted_ = false;
  if (!config_.enabled || transitions_ == 0) return false;
  const auto m = static_cast<Eigen::Index>(n_states_);
  Eigen::MatrixXd q = Eigen::MatrixXd::Zero(m, m);
  Eigen::MatrixXd t = Eigen::MatrixXd::Zero(m, m);
  Eigen::VectorXd r1k = Eigen::VectorXd::Zero(m);
  for (std::size_t x = 0; x < n_states_; ++x) {
    const double total = row_totals_[x];
    if (total <= 0) continue;
    const auto xi = static_cast<Eigen::Index>(x);
    for (std::size_t y = 0; y < n_states_; ++y) {
      const auto yi = static_cast<Eigen::Index>(y);
      q(xi, yi) = q_counts_[x * n_states_ + y] / total;
      t(xi, yi) = t_counts_[x * n_states_ + y] / total;
    }
    double v = 0;
    for (std::size_t j = 0; j < kJumps; ++j) v += r_counts_[x * kJumps + j] / total * kJumpTicks[j];
    r1k(xi) = v;
  }
  const Eigen::MatrixXd i_minus_q = Eigen::MatrixXd::Identity(m, m) - q;
  const Eigen::FullPivLU<Eigen::MatrixXd> lu(i_minus_q);
  if (!lu.isInvertible()) return false;
  const Eigen::VectorXd g1 = lu.solve(r1k);
  const Eigen::MatrixXd b = lu.solve(t);
  Eigen::VectorXd term = g1;
  Eigen::VectorXd g = g1;
  for (std::size_t i = 1; i < config_.iterations; ++i) {
    term = b * term;
    g += term;
  }
  for (std::size_t x = 0; x < n_states_; ++x) g_star_[x] = g(static_cast<Eigen::Index>(x));
  fitted_ = true;
  return true;
}

double StoikovMicroprice::adjustment_ticks(double imbalance,
                                           std::int64_t spread_ticks) const noexcept {
  if (!config_.enabled || !fitted_ || !std::isfinite(imbalance)) return 0.0;
  if (spread_ticks < 1 || spread_ticks > static_cast<std::int64_t>(config_.max_spread_ticks)) {
    return 0.0;
  }
  const std::size_t x = bucket_of(std::clamp(imbalance, 0.0, 1.0)) +
                        config_.imbalance_buckets * static_cast<std::size_t>(spread_ticks - 1);
  return g_star_[x];
}

double StoikovMicroprice::microprice(Price bid_px, Qty bid_qty, Price ask_px,
                                     Qty ask_qty) const noexcept {
  if (bid_px == kNoPrice || ask_px == kNoPrice) return 0.0;
  const double mid = 0.5 * (static_cast<double>(bid_px) + static_cast<double>(ask_px));
  const long x = state_of(bid_px, bid_qty, ask_px, ask_qty);
  if (x < 0 || !fitted_ || !config_.enabled) return mid;
  return mid + g_star_[static_cast<std::size_t>(x)] * static_cast<double>(config_.tick_size);
}

std::size_t StoikovMicroprice::empty_states() const noexcept {
  return static_cast<std::size_t>(
      std::count_if(row_totals_.begin(), row_totals_.end(), [](double v) { return v <= 0; }));
}

void StoikovMicroprice::reset() noexcept {
  std::fill(q_counts_.begin(), q_counts_.end(), 0.0);
  std::fill(t_counts_.begin(), t_counts_.end(), 0.0);
  std::fill(r_counts_.begin(), r_counts_.end(), 0.0);
  std::fill(row_totals_.begin(), row_totals_.end(), 0.0);
  std::fill(g_star_.begin(), g_star_.end(), 0.0);
  fitted_ = false;
  have_prev_ = false;
  prev_state_ = -1;
  prev_mid2_ = 0;
  transitions_ = 0;
  dropped_ = 0;
}

}  // namespace mmkit::signals
