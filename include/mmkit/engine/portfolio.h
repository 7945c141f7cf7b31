// Multi-instrument backtests: N legs, each an Engine with its own source, strategy and config,
// advanced in one merged time order, item by item (Engine::next_due / advance_one): the leg
// whose next item is earliest goes first, ties to the lower leg index. A leg's strategy only
// sees what other legs published (strategy/hedge.h SharedState) at or before its own time.
// Results: each leg's BacktestResult, a total PnL series on a common sample clock and total
// metrics. All legs must share one quote currency. docs/hedging.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mmkit/data/source.h"
#include "mmkit/engine/engine.h"
#include "mmkit/strategy/strategy.h"

namespace mmkit::engine {

struct Leg {
  std::string name;  ///< label in the results ("" = the instrument's symbol)
  std::unique_ptr<data::EventSource> source;
  std::unique_ptr<strategy::Strategy> strategy;
  EngineConfig config;
};

struct PortfolioConfig {
  /// Common sample clock: t0 + k × interval, t0 = the earliest first item over the legs.
  TimestampNs sample_interval_ns = 1'000'000'000;
};

/// One sample of the common clock, taken after every item due at or before ts_ns on every leg.
struct PortfolioSample {
  TimestampNs ts_ns = 0;
  std::vector<double> pnl;       ///< per leg: cash + position × mid × multiplier, quote currency
  std::vector<double> position;  ///< per leg, decimal qty (exchange side)
  std::vector<double> mid;       ///< per leg, decimal (last two-sided mid of the replayed book)
  double total_pnl = 0;          ///< Σ legs
  double net_notional = 0;       ///< Σ position × mid × multiplier
};

struct PortfolioMetrics {
  double total_pnl = 0;  ///< Σ legs' Metrics::total_pnl (funding included)
  /// Of the total series (computed by metrics::compute_metrics on it, the single-leg
  /// definitions of docs/metrics.md): annualized Sharpe of the increments, max drawdown, and
  /// the standard deviation of the increments (quote currency per sample interval).
  double sharpe = 0, sortino = 0, max_drawdown = 0, pnl_increment_std = 0;
  double net_notional_mean = 0, net_notional_std = 0;  ///< of the samples' net_notional
  /// Standard deviation over the sample intervals of the inventory PnL
  /// Σ_legs position(t_k) × (mid(t_k+1) − mid(t_k)) × multiplier (quote currency): the price
  /// risk the positions carried, without fees and spread (what a hedge is meant to reduce).
  double inventory_pnl_std = 0;
  double sample_interval_s = 0;
  std::vector<double> leg_pnl;          ///< per leg: Metrics::total_pnl
  std::vector<double> leg_fees;         ///< per leg: fees paid − rebates, quote currency
  /// Per leg: Σ fills qty × (price − mid at fill) × side sign × multiplier, quote currency
  /// (positive = paid away against the mid: the spread cost of taking; negative = earned).
  std::vector<double> leg_spread_cost;
  TimestampNs start_ns = 0, end_ns = 0;
};

struct PortfolioResult {
  std::vector<std::string> names;
  std::string currency;
  std::vector<BacktestResult> legs;
  std::vector<PortfolioSample> samples;
  PortfolioMetrics metrics;
};

class Portfolio {
 public:
  /// Throws mmkit::Error when there is no leg, a leg lacks a source or strategy, or the legs'
  /// quote currencies differ (naming both).
  explicit Portfolio(std::vector<Leg> legs, PortfolioConfig config = {});
  ~Portfolio();
  Portfolio(const Portfolio&) = delete;
  Portfolio& operator=(const Portfolio&) = delete;

  /// Processes the earliest item over all legs; false once every leg finished.
  bool advance_one();
  /// Processes every item due at or before ts_ns on every leg; false once every leg finished.
  bool run_until(TimestampNs ts_ns);
  void run();
  [[nodiscard]] bool finished() const noexcept;
  [[nodiscard]] std::size_t size() const noexcept;
  [[nodiscard]] Engine& leg(std::size_t i);
  /// Index of the leg that processed the last item (for tests of the merge order).
  [[nodiscard]] std::size_t last_leg() const noexcept;
  /// Complete once finished().
  [[nodiscard]] const PortfolioResult& result();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mmkit::engine
