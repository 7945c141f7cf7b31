// Pluggable models of the simulated exchange: latency, L2 queue position, fees.
// After hftbacktest's LatencyModel::entry/response and QueueModel::new_order/trade/depth
// (nkaz001/hftbacktest, backtest/models/{latency,queue,fee}.rs). Deterministic: every random
// draw comes from the engine's seeded Rng.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mmkit/core/types.h"

namespace mmkit::exchange {

/// splitmix64-seeded xoshiro256** (Blackman & Vigna): same seed, same draws on every platform.
class Rng {
 public:
  explicit Rng(std::uint64_t seed = 1) noexcept;
  std::uint64_t next() noexcept;
  /// Uniform in [0, 1).
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform integer in [0, n), n > 0 (Lemire's method without bias).
  std::uint64_t below(std::uint64_t n) noexcept;
  /// Exponential with the given rate (> 0).
  double exponential(double rate) noexcept { return -std::log1p(-uniform()) / rate; }

 private:
  std::uint64_t s_[4];
};

// ---------------------------------------------------------------------------------------------
// Latency

/// Order latency: entry = strategy -> exchange, response = exchange -> strategy; ns, >= 0.
class OrderLatency {
 public:
  virtual ~OrderLatency() = default;
  virtual TimestampNs entry(Rng& rng) = 0;
  virtual TimestampNs response(Rng& rng) = 0;
  [[nodiscard]] virtual std::string describe() const = 0;
};

class ConstantOrderLatency final : public OrderLatency {
 public:
  ConstantOrderLatency(TimestampNs entry_ns, TimestampNs response_ns);
  TimestampNs entry(Rng&) override { return entry_; }
  TimestampNs response(Rng&) override { return response_; }
  [[nodiscard]] std::string describe() const override;

 private:
  TimestampNs entry_, response_;
};

/// Draws (entry, response) pairs uniformly from recorded samples (e.g. measured round trips).
class EmpiricalOrderLatency final : public OrderLatency {
 public:
  /// Throws mmkit::Error if empty or a sample is negative.
  EmpiricalOrderLatency(std::vector<TimestampNs> entry_ns, std::vector<TimestampNs> response_ns);
  /// Reads a CSV with header `entry_ns,response_ns` (one sample per line). Errors name file:line.
  static std::unique_ptr<EmpiricalOrderLatency> from_csv(const std::string& path);
  TimestampNs entry(Rng& rng) override;
  TimestampNs response(Rng& rng) override;
  [[nodiscard]] std::string describe() const override;

 private:
  std::vector<TimestampNs> entry_, response_;
};

/// Feed latency: when a market event reaches the strategy, from its exchange time.
///  kFromData: local_ts - exch_ts - clock_offset, where clock_offset is the minimum of
///    (local_ts - exch_ts) over the first `calibration_events` events that carry both stamps
///    (removes a constant clock skew: Binance captures run ~1.3-1.5 s behind exchange time, so
///    the raw difference is negative), plus `floor_ns`. Events without an exchange stamp
///    (flag kNoExchTs) or with one clock (LOBSTER) fall back to `constant_ns`.
///  kConstant: always constant_ns.
struct FeedLatencyConfig {
  enum class Mode : std::uint8_t { kFromData, kConstant } mode = Mode::kFromData;
  TimestampNs constant_ns = 0;
  TimestampNs floor_ns = 0;
  std::uint32_t calibration_events = 10'000;
};

// ---------------------------------------------------------------------------------------------
// L2 queue position

/// State of one of our resting orders in a price-level (L2) queue. `ahead` is the estimated
/// volume ahead of us (raw qty, real-valued for probabilistic models).
struct QueueState {
  double ahead = 0;
  Qty traded_since_depth = 0;  ///< trades at our price since the last depth update of the level
};

/// Queue model for L2 data (on L3 data the exchange tracks the exact FIFO instead).
/// The engine calls, for an order resting at level L:
///   on_new_order when it starts resting (level_qty = L's visible volume before us);
///   on_trade for each trade print at our price with the aggressor on the other side;
///   on_depth_change when L's visible volume changes from prev_qty to new_qty.
/// A negative `ahead` after on_trade means the trade reached us: the engine fills
/// min(leaves, -ahead) and resets ahead to 0.
class QueueModel {
 public:
  virtual ~QueueModel() = default;
  virtual void on_new_order(QueueState& q, Qty level_qty) const { q = QueueState{static_cast<double>(level_qty), 0}; }
  virtual void on_trade(QueueState& q, Qty trade_qty) const {
    q.ahead -= static_cast<double>(trade_qty);
    q.traded_since_depth += trade_qty;
  }
  virtual void on_depth_change(QueueState& q, Qty prev_qty, Qty new_qty) const = 0;
  [[nodiscard]] virtual std::string describe() const = 0;
};

/// Risk-averse: the queue ahead shrinks only by trades at our price; a depth decrease can only
/// cap it at the new level volume (we never advance on cancels).
class RiskAverseQueueModel final : public QueueModel {
 public:
  void on_depth_change(QueueState& q, Qty prev_qty, Qty new_qty) const override;
  [[nodiscard]] std::string describe() const override { return "risk-averse"; }
};

/// Probabilistic (hftbacktest ProbQueueModel; Rigtorp, "Estimating order queue position"):
/// a depth decrease not explained by trades since the last depth update is split between
/// ahead and behind: ahead -= decrease × f(behind) / (f(ahead) + f(behind)), behind =
/// prev_qty − ahead; then ahead is capped at new_qty. Families: power f(x) = x^n, logarithmic
/// f(x) = ln(1 + x).
class ProbQueueModel final : public QueueModel {
 public:
  enum class Family : std::uint8_t { kPower, kLog };
  ProbQueueModel(Family family, double n = 2.0);
  void on_depth_change(QueueState& q, Qty prev_qty, Qty new_qty) const override;
  [[nodiscard]] std::string describe() const override;
  [[nodiscard]] double prob_ahead_share(double ahead, double behind) const noexcept;

 private:
  double f(double x) const noexcept { return family_ == Family::kPower ? std::pow(x, n_) : std::log1p(x); }
  Family family_;
  double n_;
};

/// "risk-averse", "prob-power-N" (e.g. prob-power-2, prob-power-3), "prob-log".
/// Throws mmkit::Error naming the accepted names.
[[nodiscard]] std::unique_ptr<QueueModel> make_queue_model(const std::string& name);

// ---------------------------------------------------------------------------------------------
// Fees

/// Maker / taker fee rates in parts per billion of notional (1 bp = 100,000 ppb); a negative
/// maker rate is a rebate.
struct FeeSchedule {
  std::int64_t maker_ppb = 0;
  std::int64_t taker_ppb = 0;
  /// From basis points (may be fractional, e.g. -0.25); exact to 1e-5 bp.
  static FeeSchedule from_bps(double maker_bps, double taker_bps);
};

}  // namespace mmkit::exchange
