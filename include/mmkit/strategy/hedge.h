// Cross-asset hedging: rolling correlation and beta between two instruments' mid log returns, a
// state object the legs of a portfolio share (published by their strategies), and a hedger
// strategy that keeps the second instrument's position near the notional beta hedge of the
// first. Multi-leg runs: mmkit/engine/portfolio.h; docs/hedging.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mmkit/strategy/strategy.h"

namespace mmkit::strategy {

/// Rolling OLS of x on y over the last `window` pairs (x = leg-1 log return, y = leg-2 log
/// return, sampled on one clock):
///   beta = Cov(x, y) / Var(y)   (the minimum-variance hedge ratio, Ederington 1979: holding
///                                −beta units of notional of y per unit of notional of x
///                                minimizes the variance of x − beta·y),
///   correlation = Cov(x, y) / (sd(x) sd(y)).
/// Sample moments (n − 1) over the window, computed from the stored pairs (no running-sum
/// drift). window = 0: every pair ever added (the full-sample figure).
class RollingBeta {
 public:
  explicit RollingBeta(std::size_t window) : window_(window) {}
  void add(double x, double y);
  /// Adds the log returns of two mids (decimal prices) against the previous add_mids() call;
  /// the first call only stores them. Non-positive or non-finite mids are ignored (the next
  /// valid pair restarts the returns).
  void add_mids(double mid_x, double mid_y);
  [[nodiscard]] std::size_t count() const noexcept { return xs_.size() - head_; }
  /// NaN with fewer than 2 pairs or a zero variance.
  [[nodiscard]] double beta() const;
  [[nodiscard]] double correlation() const;
  [[nodiscard]] double covariance() const;
  [[nodiscard]] double variance_x() const;
  [[nodiscard]] double variance_y() const;

 private:
  struct Moments {
    double cov = 0, vx = 0, vy = 0;
    std::size_t n = 0;
  };
  [[nodiscard]] Moments moments() const;
  std::size_t window_;
  std::vector<double> xs_, ys_;
  std::size_t head_ = 0;  // first pair in the window
  double last_x_ = 0, last_y_ = 0;
  bool have_last_ = false;
};

/// One leg's state as its strategy last published it (decimal units).
struct LegState {
  bool valid = false;
  TimestampNs ts_ns = kNoTimestamp;  ///< local time of the publication (that leg's clock)
  double position = 0;               ///< decimal qty (as known locally from fills)
  double mid = 0;                    ///< decimal price of the local book (last two-sided)
  double multiplier = 1;             ///< quote currency per (price × qty)
};

/// Shared by the strategies of a portfolio's legs; written only by the owner leg's strategy in
/// its own callbacks, so a reader sees it as of a time at or before its own now() (legs are
/// merged in one time order, engine/portfolio.h). Not thread-safe.
struct SharedState {
  std::vector<LegState> legs;
};

/// Decorates any strategy: forwards every callback and then publishes the leg's position and
/// mid to `state->legs[leg]`.
class PublishingStrategy final : public Strategy {
 public:
  PublishingStrategy(std::unique_ptr<Strategy> inner, std::shared_ptr<SharedState> state, std::size_t leg);
  void on_start(Context& c) override;
  void on_book_update(Context& c) override;
  void on_trade(Context& c, const TradeView& t) override;
  void on_order_update(Context& c, const OrderUpdate& u) override;
  void on_fill(Context& c, const Fill& f) override;
  void on_timer(Context& c) override;
  void on_end(Context& c) override;
  [[nodiscard]] Params resolved_params() const override { return inner_->resolved_params(); }
  [[nodiscard]] Params summary() const override { return inner_->summary(); }

 private:
  void publish(Context& c);
  std::unique_ptr<Strategy> inner_;
  std::shared_ptr<SharedState> state_;
  std::size_t leg_;
};

enum class HedgeStyle : std::uint8_t {
  kIoc,      ///< IOC limit at the touch (best ask to buy, best bid to sell)
  kPassive,  ///< post-only join of the same-side touch, canceled after passive_timeout_ns
};

struct HedgeParams {
  std::size_t follow = 0;          ///< index of the hedged leg in SharedState
  std::size_t self = 1;            ///< this leg's index (it publishes there too)
  TimestampNs return_interval_ns = 1'000'000'000;  ///< return sampling clock (local time)
  std::size_t window = 300;        ///< returns in the rolling beta / correlation
  std::size_t min_returns = 30;    ///< before that many returns: beta = beta_prior
  double beta_prior = 1.0;
  double fixed_beta = 0;           ///< > 0: use this beta, never the rolling one
  double band_notional = 1000;     ///< no trade while |position − target| × price × mult <= band (quote ccy)
  TimestampNs min_interval_ns = 1'000'000'000;  ///< minimum local time between two hedge orders
  HedgeStyle style = HedgeStyle::kIoc;
  TimestampNs passive_timeout_ns = 5'000'000'000;
  double max_order_qty = 0;        ///< decimal qty per hedge order, 0 = no cap
};

/// Reads hedge parameters (keys: follow, return_interval_ms, window, min_returns, beta_prior,
/// fixed_beta, band_notional, min_interval_ms, style = "ioc" | "passive",
/// passive_timeout_ms, max_order_qty). Throws mmkit::Error naming an unknown key or a bad value.
[[nodiscard]] HedgeParams hedge_params(const Params& p);

/// Target position of the hedge leg, decimal qty: −beta × (q1 × p1 × m1) / (p2 × m2)
/// (notional beta hedge: q = position, p = mid, m = contract multiplier).
[[nodiscard]] double hedge_target(double beta, double q1, double p1, double m1, double p2, double m2) noexcept;

/// Whether the hedge leg trades: |q2 − target| × p2 × m2 > band_notional (strictly).
[[nodiscard]] bool outside_band(double q2, double target, double p2, double m2, double band_notional) noexcept;

/// The hedger: runs on the second instrument, reads the followed leg from SharedState, samples
/// both mids every return_interval_ns (at its first callback at or after each tick) into a
/// RollingBeta, and trades toward hedge_target() rounded to the lot, when outside the band, at
/// most once per min_interval_ns, with at most one hedge order open.
class Hedger final : public Strategy {
 public:
  Hedger(HedgeParams params, std::shared_ptr<SharedState> state);
  void on_start(Context& c) override;
  void on_book_update(Context& c) override { tick(c); }
  void on_timer(Context& c) override { tick(c); }
  void on_fill(Context& c, const Fill& f) override;
  void on_end(Context& c) override { publish(c); }
  [[nodiscard]] Params resolved_params() const override;
  /// beta_last, correlation_last (rolling), beta_full, correlation_full (all returns), returns,
  /// beta_mean (mean of the rolling beta at the hedge decisions), hedge_orders, hedge_qty.
  [[nodiscard]] Params summary() const override;

  [[nodiscard]] const RollingBeta& rolling() const noexcept { return rolling_; }
  [[nodiscard]] double current_beta() const;
  [[nodiscard]] double last_target() const noexcept { return last_target_; }

 private:
  void tick(Context& c);
  void publish(Context& c);
  HedgeParams p_;
  std::shared_ptr<SharedState> state_;
  RollingBeta rolling_;
  RollingBeta full_{0};
  TimestampNs next_sample_ = kNoTimestamp;
  TimestampNs last_order_ts_ = kNoTimestamp;
  ClientOrderId open_id_ = 0;
  TimestampNs open_since_ = kNoTimestamp;
  bool cancel_sent_ = false;
  double last_target_ = 0;
  double beta_sum_ = 0;
  std::uint64_t beta_n_ = 0, orders_ = 0;
  double hedge_qty_ = 0;
};

}  // namespace mmkit::strategy
