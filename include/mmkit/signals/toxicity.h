// Toxicity of our own fills from post-fill markouts.
//
// Timestamps int64 ns (local time, non-decreasing per instance). Not thread-safe. Invalid configs
// throw mmkit::Error naming the parameter. O(1) amortized per call (pending fills in a Ring,
// no allocation once it reached its largest size), deterministic.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mmkit/core/types.h"
#include "mmkit/signals/ring.h"

namespace mmkit::signals {

struct ToxicityConfig {
  bool enabled = true;                      ///< false: calls are no-ops, value() = 0
  TimestampNs horizon_ns = 1'000'000'000;   ///< markout horizon h (> 0); 1 s
  double half_life_fills = 20;              ///< EMA half-life in resolved fills (> 0)
  double min_scale = 0;                     ///< floor of the normalization scale s (>= 0),
                                            ///< price unit of on_fill(); fills with s <= 0 after
                                            ///< the floor are ignored (counted)
};

/// Markout-based toxicity score. For each of our fills (side = our side: kBid = we bought, sign
/// +1; kAsk = we sold, sign −1) at price p and time t, with the spread S at fill time:
///   markout m = (mid(t + h) − p) · sign          (price unit; > 0 = the fill earned)
///   z       = m / s,  s = max(S, min_scale)       (markout in spreads)
///   score   = clamp(½ − z/2, 0, 1)               (1: mid moved ≥ one spread against the fill
///                                                 price; 0.5: mid at the fill price; 0: ≥ one
///                                                 spread in favour)
/// mid(t + h) is the last mid observed at or before t + h; a fill is resolved by the first
/// on_mid() with ts > t + h (using the mid before it), or ts == t + h (using that mid). A maker
/// fill at the touch with the mid unchanged after h has m = S/2 and score 0.25.
/// The score aggregates as an EMA over resolved fills in fill order:
///   value ← value + α (score − value),  α = 1 − 2^(−1/half_life_fills),  first: value = score.
/// The same EMA of m is kept (mean_markout(), price unit).
class ToxicityTracker {
 public:
  using Config = ToxicityConfig;
  /// Throws mmkit::Error naming `horizon_ns`, `half_life_fills` or `min_scale`.
  explicit ToxicityTracker(const Config& config = {});

  /// Our fill at local time ts (non-decreasing), our side (kBid / kAsk; kNone ignored and
  /// counted), fill price and the bid-ask spread at fill time, both in the same price unit as
  /// on_mid() (raw or decimal).
  void on_fill(TimestampNs ts, Side side, double price, double spread);
  /// Mid at local time ts (non-decreasing), same price unit; resolves the fills that are due.
  void on_mid(TimestampNs ts, double mid);
  /// EMA toxicity score in [0, 1]; 0 before the first resolved fill or when disabled.
  [[nodiscard]] double value() const noexcept { return score_; }
  [[nodiscard]] bool ready() const noexcept { return resolved_ > 0; }
  /// EMA of the markouts m (price unit).
  [[nodiscard]] double mean_markout() const noexcept { return mean_markout_; }
  /// Markout and score of the most recently resolved fill.
  [[nodiscard]] double last_markout() const noexcept { return last_markout_; }
  [[nodiscard]] double last_score() const noexcept { return last_score_; }
  [[nodiscard]] std::uint64_t resolved() const noexcept { return resolved_; }
  /// Resolved fills with m < 0 (the mid moved through the fill price against us).
  [[nodiscard]] std::uint64_t adverse() const noexcept { return adverse_; }
  /// Σ m over the resolved fills (price unit); total_markout() / resolved() is the plain mean.
  [[nodiscard]] double total_markout() const noexcept { return total_markout_; }
  [[nodiscard]] std::size_t pending() const noexcept { return pending_.size(); }
  [[nodiscard]] std::uint64_t ignored() const noexcept { return ignored_; }
  void reset() noexcept;
  [[nodiscard]] const Config& config() const noexcept { return config_; }

 private:
  struct Pending {
    TimestampNs due_ts = 0;
    double price = 0;
    double sign = 0;
    double scale = 0;
  };
  void resolve(const Pending& p, double mid) noexcept;

  Config config_;
  double alpha_ = 0;
  Ring<Pending> pending_;
  bool have_mid_ = false;
  double last_mid_ = 0;
  double score_ = 0;
  double mean_markout_ = 0;
  double last_markout_ = 0;
  double last_score_ = 0;
  std::uint64_t resolved_ = 0;
  std::uint64_t adverse_ = 0;
  double total_markout_ = 0;
  std::uint64_t ignored_ = 0;
};

}  // namespace mmkit::signals
