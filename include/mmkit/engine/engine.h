// The one event loop: replayed (or synthetic) market -> simulated exchange -> strategy.
//
// Timeline. Market events are processed by the exchange at their exchange time (made
// non-decreasing: max of the stamps seen so far) and delivered to the strategy after the feed
// latency; strategy actions reach the exchange after the entry latency, and responses / fills
// come back after the response latency. A cancel arriving after the fill it meant to prevent
// fails with kTooLateToCancel (the race is real). All of it is deterministic for a given input
// and seed. Memory is bounded: events are pulled from the source in batches and in-flight
// messages are held only for the latency window.
//
// The full contract (queue position on L3 and L2 data, order types, crossing fills, own
// liquidity, recording): docs/engine.md.
//
// Stepping: run() to the end, or step(n) / run_until(local_ts) for the Python API, the RL
// environments and paper trading — the same loop, not a second engine.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mmkit/data/source.h"
#include "mmkit/exchange/models.h"
#include "mmkit/exchange/order.h"
#include "mmkit/strategy/strategy.h"

namespace mmkit::engine {

/// Engine-enforced limits no strategy can breach (checked on submit and modify, against the
/// worst case: position + all open orders on that side filled). 0 = no limit.
struct RiskLimits {
  Qty max_position = 0;      ///< |position| (raw qty)
  Qty max_order_qty = 0;     ///< per order (raw qty)
  std::uint32_t max_open_orders = 0;
  double max_notional = 0;   ///< |position| × price, quote currency
};

/// One funding settlement of a perpetual: at `ts_ns` (ns since epoch UTC) every open position
/// pays position × mark × rate (× contract multiplier) in the quote currency; rate > 0: longs pay
/// shorts.
struct FundingSettlement {
  TimestampNs ts_ns = 0;
  double rate = 0;  ///< fraction per funding interval (0.0001 = 0.01 %)
};

/// Perpetual funding settled into cash during the run (docs/engine.md, "Funding").
///  - kNone: no funding (default; results are exactly those of an engine without funding).
///  - kConstant: `rate` at every multiple of `interval_ns` since the Unix epoch (00:00 UTC), e.g.
///    Binance USD-M's 8 h schedule 00:00 / 08:00 / 16:00 UTC (Binance "Introduction to Binance
///    Futures Funding Rates"; default rate 0.0001 = the USD-M baseline 0.01 % per 8 h).
///  - kSchedule: the settlements in `schedule` (strictly increasing ts), e.g. a staged history
///    read by funding_from_file(). A schedule with no settlement inside the data's window is an
///    error naming `source` and both time ranges.
struct FundingConfig {
  enum class Mode : std::uint8_t { kNone, kConstant, kSchedule };
  Mode mode = Mode::kNone;
  double rate = 0.0001;                          ///< kConstant
  TimestampNs interval_ns = 8 * 3'600'000'000'000LL;  ///< kConstant period; kSchedule: as read
  std::vector<FundingSettlement> schedule;       ///< kSchedule
  std::string source;                            ///< where the schedule came from (for errors)
};

/// A constant-rate schedule (kConstant). Throws mmkit::Error if interval_ns <= 0 or rate is not
/// finite.
[[nodiscard]] FundingConfig funding_constant(double rate, TimestampNs interval_ns);
/// A schedule from a staged funding history (data::read_funding: Binance CSV or freqtrade JSON);
/// interval_ns = the median spacing of its rows (8 h if it has one row). Throws mmkit::Error on a
/// bad file (the reader's message).
[[nodiscard]] FundingConfig funding_from_file(const std::string& path);

struct EngineConfig {
  exchange::FeeSchedule fees;
  RiskLimits risk;
  /// L2 data only; L3 data (LOBSTER, MBO) uses the exact FIFO. "risk-averse", "prob-power-N",
  /// "prob-log".
  std::string queue_model = "prob-power-2";
  std::unique_ptr<exchange::OrderLatency> order_latency;  ///< null = zero latency
  exchange::FeedLatencyConfig feed_latency;
  std::uint64_t seed = 1;
  TimestampNs timer_interval_ns = 100'000'000;   ///< strategy on_timer period (local time)
  TimestampNs sample_interval_ns = 1'000'000'000;  ///< time-series sampling period
  /// Markout horizons after each fill (ns).
  std::vector<TimestampNs> markout_horizons_ns{100'000'000, 1'000'000'000, 10'000'000'000,
                                              60'000'000'000};
  /// When false (default) the replayed market is not altered by our orders: our taker fills do
  /// not remove liquidity from the replayed book.
  bool own_orders_take_liquidity = false;
  /// Contract multiplier for money figures (0: the instrument's own, else 1); e.g. 50 for CME ES.
  std::uint32_t contract_multiplier = 0;
  /// Events before the strategy starts (book warm-up); they still go through the exchange.
  std::uint64_t warmup_events = 0;
  /// Own-order market impact on our taker fills: a models::make_impact_model spec
  /// (include/mmkit/models/impact.h), e.g. "almgren-chriss:gamma=0.0001,eta=0.001,tau=1",
  /// "sqrt:Y=0.7,sigma=50,V=20000", "transient:kappa=0.01,rho=0.1"; "" = none. Parameters in
  /// decimal price, decimal qty and seconds. Each taker order's fills are priced worse by the
  /// model's offset; the replayed market itself is not moved (docs/engine.md).
  std::string impact_model;
  /// Perpetual funding settlements (default none).
  FundingConfig funding;
};

/// Results of a run. Vectors are in time order; money in quote-currency decimals.
struct OrderLogEntry {
  exchange::OrderUpdate update;  ///< local_ts_ns when the strategy saw it / sent it
};

struct Sample {
  TimestampNs ts_ns = 0;  ///< local time
  Price best_bid = kNoPrice, best_ask = kNoPrice;  ///< exchange book
  Price our_bid = kNoPrice, our_ask = kNoPrice;    ///< our best open quotes (kNoPrice: none)
  Qty position = 0;
  exchange::Money cash = 0;
  double mid = 0;        ///< decimal
  double pnl = 0;        ///< cash + position × mid, decimal, fees included
  double fees = 0;       ///< cumulative fees paid (negative = rebates), decimal
  double funding = 0;    ///< cumulative funding paid (negative = received), decimal; in cash and pnl
};

/// One funding settlement applied to the account.
struct FundingPayment {
  TimestampNs ts_ns = 0;      ///< settlement time (the engine's timeline)
  double rate = 0;            ///< fraction per interval
  Qty position = 0;           ///< raw qty at the settlement (exchange side)
  double mark = 0;            ///< decimal mid of the replayed book at the settlement
  exchange::Money amount = 0; ///< paid (positive) or received (negative), Money units
};

struct FillRecord {
  exchange::Fill fill;
  std::vector<double> markouts;  ///< per horizon: (mid(t+h) − price) × side sign, decimal per
                                 ///< unit of qty; NaN if the data ended before t+h
};

/// Metrics (definitions in docs/metrics.md). Deterministic for given inputs and seed.
struct Metrics {
  double total_pnl = 0, realized_pnl = 0, unrealized_pnl = 0;
  double fees_paid = 0, rebates_earned = 0;
  double sharpe = 0, sortino = 0;  ///< of PnL increments at sample_interval, annualized √(year/Δt)
  double sample_interval_s = 0;
  double max_drawdown = 0;
  std::uint64_t orders = 0, fills = 0, maker_fills = 0, taker_fills = 0, cancels = 0, rejects = 0;
  double fill_ratio = 0;           ///< orders with at least one fill / orders submitted
  double volume = 0;               ///< decimal qty traded
  double notional = 0;             ///< quote currency
  double spread_captured_mean = 0; ///< per fill, (mid − price) × side sign, decimal price units
  std::vector<double> markout_mean;  ///< per horizon, qty-weighted, decimal price units
  std::vector<double> markout_horizons_s;
  double inventory_mean = 0, inventory_std = 0, inventory_max_abs = 0;  ///< decimal qty
  double time_at_position_limit = 0;  ///< fraction of time |position| >= max_position
  double var_95 = 0, cvar_95 = 0;     ///< of PnL increments (loss positive)
  std::uint64_t events = 0;
  TimestampNs start_ns = 0, end_ns = 0;
  /// Funding (EngineConfig::funding): total paid (negative = received), quote currency, included
  /// in total_pnl and realized_pnl; number of settlements inside the run.
  double funding_paid = 0;
  std::uint64_t funding_settlements = 0;
};

struct BacktestResult {
  Metrics metrics;
  std::vector<FillRecord> fills;
  std::vector<OrderLogEntry> orders;
  std::vector<Sample> samples;
  std::vector<FundingPayment> funding;  ///< settlements in time order (empty without funding)
  strategy::Params strategy_params;  ///< resolved
  strategy::Params strategy_summary; ///< Strategy::summary() at the end of the run
};

class Engine {
 public:
  /// Takes ownership of the source and the strategy. Throws mmkit::Error on a bad config.
  Engine(std::unique_ptr<data::EventSource> source, std::unique_ptr<strategy::Strategy> strategy,
         EngineConfig config);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Processes up to `n` market events (and everything due before the last of them); returns
  /// false once the data is exhausted (then the run is finished: on_end called, metrics final).
  bool step(std::uint64_t n);
  /// Processes everything due at or before local time `ts_ns`; false once the data is exhausted.
  bool run_until(TimestampNs ts_ns);
  /// Runs to the end.
  void run();
  [[nodiscard]] bool finished() const noexcept;

  [[nodiscard]] TimestampNs now() const noexcept;  ///< local time
  [[nodiscard]] std::uint64_t events_processed() const noexcept;
  [[nodiscard]] const InstrumentSpec& instrument() const noexcept;
  [[nodiscard]] Qty position() const noexcept;
  [[nodiscard]] exchange::Money cash() const noexcept;
  [[nodiscard]] const strategy::Context& context() const noexcept;

  /// Time of the next item on the engine's one timeline (a market event at the exchange, a
  /// delivery, an order message or response, a timer, a sample, a funding settlement), ns;
  /// kNoTimestamp when nothing is left (the next advance_one() finishes the run). For merging
  /// several engines event by event (engine/portfolio.h).
  [[nodiscard]] TimestampNs next_due();
  /// Processes exactly the item next_due() named (or finishes the run when none is left);
  /// false once finished.
  bool advance_one();
  /// Decimal mid of the exchange-side (replayed) book now; NaN if a side is empty.
  [[nodiscard]] double mid() const noexcept;

  /// Results so far (complete after the run finished).
  [[nodiscard]] const BacktestResult& result();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mmkit::engine
