// The embedded synthetic market: a seeded L3 order-flow generator driving a price-time
// priority matching engine, exposed as an EventSource, so `mmkit backtest` runs on a fresh
// machine with no data. Model, units and sources: docs/synthetic_market.md.
//
// Order flow after Cont, Stoikov, Talreja (2010), "A stochastic model for order book dynamics",
// Operations Research 58(3): limit orders at distance i ticks from the opposite best quote
// (rate λ(i) = k / i^α, or an explicit table λ(1..max_distance), per side), market orders (rate μ)
// and cancellations of each resting order at distance i (rate θ(i) per order, so a level's cancel
// rate is proportional to its queue size); sizes are drawn from geometric distributions with the
// given means (lots; limit and market orders each their own). Optional state-dependent
// extensions (off by default; docs/synthetic_market.md, "Joins and improvers"): limit orders that
// join their own side's best quote at rate λ_J (join_rate; λ(i) then excludes the own best), and
// improvers (orders placed inside the spread) that are fleeting with probability φ and cancel at
// θ_I (improver_fleeting_share, improver_cancel_rate).
//
// Two arrival models (`flow`):
//  - kPoisson: CST's independent Poisson processes, simulated exactly by the Gillespie method.
//  - kHawkes: the arrivals of the six event types (market buy, market sell, limit bid, limit ask,
//    cancel bid, cancel ask) follow a 6-variate Hawkes process with exponential kernels
//    (Hawkes 1971; Bacry, Mastromatteo, Muzy 2015), simulated exactly by Ogata (1981) thinning;
//    prices, sizes and cancel targets keep CST's rules. Cancels: the per-order rate θ(d) is
//    modulated by the cancel type's Hawkes intensity relative to its stationary mean.
// Optionally, volatility regimes: a continuous-time Markov chain (Hamilton 1989, in continuous
// time) over named parameter sets that scale the rates and sizes and add "tick moves" (market
// orders that take the whole best level).
// The matching engine is our own: market orders walk the opposite side in FIFO order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mmkit/core/types.h"
#include "mmkit/data/source.h"

namespace mmkit::sim {

enum class FlowModel : std::uint8_t {
  kPoisson = 0,  ///< CST 2010 independent Poisson processes
  kHawkes = 1,   ///< 6-variate Hawkes arrivals (hawkes_mu / hawkes_alpha / hawkes_beta)
};

/// Index of each event type in the Hawkes parameters (rows and columns of hawkes_alpha/_beta).
namespace flow_type {
inline constexpr std::uint32_t kMarketBuy = 0;   ///< takes the ask side
inline constexpr std::uint32_t kMarketSell = 1;  ///< takes the bid side
inline constexpr std::uint32_t kLimitBid = 2;
inline constexpr std::uint32_t kLimitAsk = 3;
inline constexpr std::uint32_t kCancelBid = 4;
inline constexpr std::uint32_t kCancelAsk = 5;
inline constexpr std::uint32_t kCount = 6;
}  // namespace flow_type

/// One volatility regime: multipliers of the base flow and a tick-move rate. In Poisson mode the
/// multipliers scale λ(i), μ and θ(i); in Hawkes mode they scale the Hawkes baselines
/// hawkes_mu of the market / limit types (not the excitation, so the branching ratios and the
/// stationarity are those of hawkes_alpha) and the per-order cancel rates θ(i).
struct RegimeParams {
  std::string name;                    ///< unique, 1 to 23 characters
  double limit_rate_multiplier = 1;    ///< >= 0
  double market_rate_multiplier = 1;   ///< >= 0
  double cancel_rate_multiplier = 1;   ///< > 0 (a positive cancel rate keeps the book bounded)
  double size_multiplier = 1;          ///< × mean_order_size and × the market order mean; each
                                       ///< product must be >= 1 lot
  double tick_move_rate = 0;           ///< per second, both sides together: market orders that
                                       ///< take the whole best level of a side picked 50/50
};

/// The four regimes low / medium / high / crisis (ours, illustrative; docs/synthetic_market.md).
[[nodiscard]] std::vector<RegimeParams> default_regimes();
/// Their transition rate matrix (per second; diagonal 0): mean stays 15 min (low), 10 min
/// (medium), 5 min (high), 1 min (crisis).
[[nodiscard]] std::vector<std::vector<double>> default_regime_transition();

struct SyntheticMarketConfig {
  std::string symbol = "SYNTH";
  std::int32_t price_decimals = 2;      ///< raw price = decimal × 10^2
  Price tick_size = 1;                  ///< raw ($0.01)
  Price initial_mid = 10'000;           ///< raw ($100.00); the opening book is built around it
  std::uint32_t max_distance = 10;      ///< ticks from the opposite best for new limit orders
  double limit_rate_k = 1.92;           ///< λ(i) = k / i^α per second per side (CST 2010 Table 2)
  double limit_rate_alpha = 0.52;
  /// Explicit λ(i) per second per side, i = 1..max_distance at index i − 1 (each finite, > 0):
  /// replaces the power law (limit_rate_k, limit_rate_alpha are then not used), for books whose
  /// arrival rates do not decrease with distance (LOBSTER GOOG's grow with it). Empty = k / i^α.
  std::vector<double> limit_rates;
  double market_rate = 0.94;            ///< μ per second per side
  /// Joins (docs/synthetic_market.md, "Joins and improvers"): λ_J per second per side, limit
  /// orders placed AT their own side's best quote (the last best while that side is empty, moved
  /// back if it would cross). When > 0 the distance law excludes the own best: a λ(i) arrival
  /// whose price equals the own side's best is dropped (thinning), so the rate of orders at the
  /// own best is exactly λ_J. 0 = off (no join events, no thinning: the CST 2010 model).
  double join_rate = 0;
  /// Improvers: an order placed strictly inside the spread (better than its own side's best at
  /// arrival) is "fleeting" with probability improver_fleeting_share (drawn at arrival; no draw
  /// when it is 1) and then cancels at θ_I = improver_cancel_rate per second for its whole life
  /// instead of θ(distance). 0 = off (every order cancels at θ(distance)).
  double improver_cancel_rate = 0;
  double improver_fleeting_share = 1;  ///< φ in (0, 1]; used only when improver_cancel_rate > 0
  std::vector<double> cancel_rates{0.71, 0.81, 0.68, 0.56, 0.47, 0.47, 0.43, 0.37, 0.35, 0.33};
                                        ///< θ(i) per order per second, i = 1..; last repeats
  double mean_order_size = 5;           ///< lots, geometric (limit orders; market orders too
                                        ///< when mean_market_order_size is 0)
  /// Mean size of market orders, lots, geometric like the limit orders (the same law: P(n) =
  /// p (1 − p)^(n−1), p = 1 / mean); 0 = mean_order_size. >= 1 otherwise.
  double mean_market_order_size = 0;
  std::uint32_t opening_orders_per_level = 5;
  double duration_s = 1800;             ///< simulated market time
  TimestampNs start_ns = 1'704'205'800'000'000'000;  ///< 2024-01-02 14:30:00 UTC
  TimestampNs feed_latency_ns = 0;      ///< local_ts = exch_ts + this
  std::uint64_t seed = 1;

  FlowModel flow = FlowModel::kPoisson;
  /// Hawkes mode: baselines per second of the six flow_type's (market orders and limit orders:
  /// events per second; cancels: see docs, the cancel rows set the modulation of θ(i)). Not
  /// used in Poisson mode (limit_rate_k and market_rate are not used in Hawkes mode;
  /// limit_rate_alpha, or limit_rates as λ(i)/λ(1), still gives the distance law and cancel_rates
  /// the per-order cancel rates).
  /// Defaults (ours): stationary means 0.94 market orders/s and 9.406 limit orders/s per side
  /// (the CST rates above) and 8.5 cancels/s per side; spectral radius 0.45.
  std::vector<double> hawkes_mu{0.517, 0.517, 5.36, 5.36, 4.915, 4.915};
  /// Branching ratios α[i][j]: expected type-i events triggered by one type-j event (row i).
  std::vector<std::vector<double>> hawkes_alpha{
      {0.40, 0.05, 0.00, 0.00, 0.00, 0.00},   // market buy   <- market buys (herding)
      {0.05, 0.40, 0.00, 0.00, 0.00, 0.00},   // market sell
      {0.05, 0.30, 0.35, 0.00, 0.05, 0.00},   // limit bid    <- market sells (replenishment)
      {0.30, 0.05, 0.00, 0.35, 0.00, 0.05},   // limit ask    <- market buys
      {0.00, 0.10, 0.10, 0.00, 0.30, 0.00},   // cancel bid   <- market sells, limit bids
      {0.10, 0.00, 0.00, 0.10, 0.00, 0.30}};  // cancel ask
  /// Decay rates β[i][j] per second (kernel α β e^{−β t}); default 4 /s for every pair.
  std::vector<std::vector<double>> hawkes_beta = std::vector<std::vector<double>>(6, std::vector<double>(6, 4.0));

  /// Volatility regimes; empty = off (the base parameters all the time). See default_regimes().
  std::vector<RegimeParams> regimes;
  /// Transition rates per second, regimes.size() × regimes.size(): entry [r][q] is the rate of
  /// jumping from regime r to q; the diagonal is 0 or minus the row's off-diagonal sum.
  std::vector<std::vector<double>> regime_transition;
  /// Name of the regime at start_ns; empty = the first of `regimes`.
  std::string initial_regime;
};

/// Named parameter sets (docs/synthetic_market.md):
///  - "goog2012": the Poisson generator fitted by `mmkit calibrate-flow` on LOBSTER GOOG
///    2012-06-21 (explicit λ(i), θ(i), separate market order sizes, joins and fleeting
///    improvers; tick $0.01, 4 price decimals,
///    23,400 s from 2012-06-21 13:30 UTC) — the [synthetic] section of configs/synthetic_goog.toml,
///    equal by test; the default market of `mmkit backtest` without data (kDefaultSyntheticPreset).
///  - "cst2010": SyntheticMarketConfig{} (Cont, Stoikov, Talreja 2010, Table 2; a $100 stock).
/// Throws mmkit::Error (location "synthetic market config", field "preset") for any other name.
[[nodiscard]] SyntheticMarketConfig synthetic_preset(const std::string& name);
/// The names synthetic_preset accepts, default first.
[[nodiscard]] std::vector<std::string> synthetic_preset_names();
inline constexpr const char* kDefaultSyntheticPreset = "goog2012";

/// A stretch of time spent in one regime: from `start_ns` (exchange time) until the next
/// spell's start (or the end of the run).
struct RegimeSpell {
  TimestampNs start_ns = 0;
  std::uint32_t regime = 0;  ///< index into SyntheticMarketConfig::regimes
};

/// The generator. Events: kAdd / kCancel / kExecution (each resting order hit, resting side)
/// with kComplete at the end of each generator step (one market order's executions form one
/// record), format "synthetic", L3. Deterministic for a given config, byte for byte on every
/// platform. Not thread-safe.
class SyntheticMarket : public data::EventSource {
 public:
  /// Regime spells so far (up to the latest generated event, and every switch at or before the
  /// end of the run once read() has returned 0), in time order; the first starts at start_ns.
  /// Empty when regimes are off. 16 bytes per switch.
  [[nodiscard]] virtual const std::vector<RegimeSpell>& regime_path() const = 0;
  /// Index of the current regime (0 when regimes are off).
  [[nodiscard]] virtual std::uint32_t regime() const = 0;
};

/// Throws mmkit::Error (location "synthetic market config", field = the config key, e.g.
/// "hawkes_alpha[2][1]", "regimes[3].size_multiplier") on a bad config.
[[nodiscard]] std::unique_ptr<SyntheticMarket> make_synthetic_market(const SyntheticMarketConfig& config);

}  // namespace mmkit::sim
