#include "mmkit/signals/toxicity.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "mmkit/core/error.h"

namespace mmkit::signals {
namespace {

[[noreturn]] void bad(const char* param, const std::string& what) {
  throw Error(std::string("ToxicityTracker: config '") + param + "' " + what);
}

const ToxicityConfig& checked(const ToxicityConfig& c) {
  if (c.horizon_ns <= 0) bad("horizon_ns", "must be > 0");
  if (!(c.half_life_fills > 0) || !std::isfinite(c.half_life_fills)) {
    bad("half_life_fills", "must be > 0");
  }
  if (!(c.min_scale >= 0) || !std::isfinite(c.min_scale)) bad("min_scale", "must be >= 0");
  return c;
}

}  // namespace

ToxicityTracker::ToxicityTracker(const Config& config)
    : config_(checked(config)),
      alpha_(1.0 - std::exp2(-1.0 / config.half_life_fills)),
      pending_(64) {}

void ToxicityTracker::on_fill(TimestampNs ts, Side side, double price, double spread) {
  if (!config_.enabled) return;
  const double scale = std::max(std::isfinite(spread) ? spread : 0.0, config_.min_scale);
  if (side == Side::kNone || !std::isfinite(price) || !(scale > 0)) {
    ++ignored_;
    return;
  }
  pending_.push_back(Pending{ts + config_.horizon_ns, price, side == Side::kBid ? 1.0 : -1.0,
                             scale});
}

void ToxicityTracker::on_mid(TimestampNs ts, double mid) {
  if (!config_.enabled || !std::isfinite(mid)) return;
  while (!pending_.empty() && pending_.front().due_ts < ts) {
    if (have_mid_) {
      resolve(pending_.front(), last_mid_);
    } else {
      ++ignored_;
    }
    pending_.pop_front();
  }
  have_mid_ = true;
  last_mid_ = mid;
  while (!pending_.empty() && pending_.front().due_ts == ts) {
    resolve(pending_.front(), mid);
    pending_.pop_front();
  }
}

void ToxicityTracker::resolve(const Pending& p, double mid) noexcept {
  const double m = (mid - p.price) * p.sign;
  const double score = std::clamp(0.5 - 0.5 * m / p.scale, 0.0, 1.0);
  last_markout_ = m;
  last_score_ = score;
  total_markout_ += m;
  if (m < 0) ++adverse_;
  if (resolved_ == 0) {
    score_ = score;
    mean_markout_ = m;
  } else {
    score_ += alpha_ * (score - score_);
    mean_markout_ += alpha_ * (m - mean_markout_);
  }
  ++resolved_;
}

void ToxicityTracker::reset() noexcept {
  pending_.clear();
  have_mid_ = false;
  last_mid_ = 0;
  score_ = 0;
  mean_markout_ = 0;
  last_markout_ = 0;
  last_score_ = 0;
  resolved_ = 0;
  adverse_ = 0;
  total_markout_ = 0;
  ignored_ = 0;
}

}  // namespace mmkit::signals
