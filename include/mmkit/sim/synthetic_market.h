// The embedded synthetic market: a seeded L3 order-flow generator driving a price-time
// priority matching engine, exposed as an EventSource, so `mmkit backtest` runs on a fresh
// machine with no data.
//
// Order flow after Cont, Stoikov, Talreja (2010), "A stochastic model for order book dynamics",
// Operations Research 58(3): independent Poisson processes for limit orders at distance i
// ticks from the opposite best quote (rate λ(i) = k / i^α, i = 1..max_distance), market orders
// (rate μ) and cancellations of each resting order at distance i (rate θ(i) per order, so a
// level's cancel rate is proportional to its queue size); sizes are drawn from a geometric
// distribution with the given mean (lots). Simulated exactly by the Gillespie method. The
// matching engine is our own: market orders walk the opposite side in FIFO order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mmkit/core/types.h"
#include "mmkit/data/source.h"

namespace mmkit::sim {

struct SyntheticMarketConfig {
  std::string symbol = "SYNTH";
  std::int32_t price_decimals = 2;      ///< raw price = decimal × 10^2
  Price tick_size = 1;                  ///< raw ($0.01)
  Price initial_mid = 10'000;           ///< raw ($100.00); the opening book is built around it
  std::uint32_t max_distance = 10;      ///< ticks from the opposite best for new limit orders
  double limit_rate_k = 1.92;           ///< λ(i) = k / i^α per second per side (CST 2010 Table 2)
  double limit_rate_alpha = 0.52;
  double market_rate = 0.94;            ///< μ per second per side
  std::vector<double> cancel_rates{0.71, 0.81, 0.68, 0.56, 0.47, 0.47, 0.43, 0.37, 0.35, 0.33};
                                        ///< θ(i) per order per second, i = 1..; last repeats
  double mean_order_size = 5;           ///< lots, geometric
  std::uint32_t opening_orders_per_level = 5;
  double duration_s = 1800;             ///< simulated market time
  TimestampNs start_ns = 1'704'205'800'000'000'000;  ///< 2024-01-02 14:30:00 UTC
  TimestampNs feed_latency_ns = 0;      ///< local_ts = exch_ts + this
  std::uint64_t seed = 1;
};

/// Events: kAdd / kCancel / kExecution (each resting order hit, resting side) with kComplete
/// at the end of each generator step (one market order's executions form one record), format
/// "synthetic", L3. Deterministic for a given config. Throws mmkit::Error on a bad config.
[[nodiscard]] std::unique_ptr<data::EventSource> make_synthetic_market(const SyntheticMarketConfig& config);

}  // namespace mmkit::sim
