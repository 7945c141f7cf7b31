// Calibration of the Cont-Stoikov-Talreja order-flow generator (synthetic_market.h) to an L3
// event stream, and the flow statistics that compare a simulated market with a real one.
//
// Estimators (Cont, Stoikov, Talreja 2010, "A stochastic model for order book dynamics",
// Operations Research 58(3), §2.2), with distances in ticks from the OPPOSITE best quote (the
// generator's convention; its last price while that side is empty):
//   λ(i) = N_l(i) / E(i)        limit orders arriving at distance i, per side per second, joins
//                               excluded; E(i) = side-seconds during which distance i was inside
//                               the visible window and was not the own side's best (both sides
//                               summed, so λ is per side)
//   λ_J = N_J / E_J             joins: limit orders at their own side's best, per side per second;
//                               E_J = side-seconds with a non-empty own side at distance >= 1
//   k, α                         Poisson maximum likelihood of N_l(i) ~ Poisson(E(i) k / i^α),
//                               i = 1..max_distance (CST fit the same power law by least squares)
//   μ = N_m / (2 T)              market orders per side per second; a market order is the run of
//                               executions of one aggressor (same timestamp, same resting side,
//                               nothing else in between)
//   θ(i) = N_c(i) / X(i)         cancellations of whole orders at distance i per order per second;
//                               X(i) = order-seconds resting at distance i (time integral of the
//                               number of known orders there). Orders are cancelled whole in the
//                               generator, so partial cancels are counted apart, not in N_c.
//                               Improvers (placed strictly inside the spread, i.e. better than
//                               their own side's best at arrival) are apart from N_c and X(i):
//   φ, θ_I                       improvers' lifetimes (arrival to whole cancel, censored by a full
//                               execution or the end) as a mixture: a share φ cancels at θ_I
//                               ("fleeting"), the rest at θ_S; EM (fit_fleeting_mixture)
// The separations above are made with CalibrationOptions::joins_and_improvers (default off: the
// CST 2010 estimators with every limit order in N_l(i) and every order in N_c(i), X(i)).
// Standard errors are the Poisson ones (√N / exposure; the observed Fisher information for k, α).
// Sizes (lots = raw qty / lot_size): mean, geometric maximum likelihood p = 1 / mean
// (P(n) = p (1 − p)^(n−1), n ≥ 1, the generator's law) and empirical quantiles.
//
// Visible window (LOBSTER level-N files hold only messages touching the top N price levels,
// shared/data/SOURCES.md §A): a limit order placed beyond the N-th level does not appear, so counting
// adds over the whole session would bias λ(i) down at the distances the window does not always
// cover. Distance i on side s counts as exposed only while it is visible: side s holds fewer than N
// levels, or the price at distance i is at or better than its N-th level. λ(i) = N_l(i) / E(i) is
// unbiased if arrivals at a distance do not depend on whether the window covers it; max_distance
// (auto) keeps only distances visible at least `min_visible_fraction` of the time on each side.
// Levels seeded from the orderbook file (flag kSeed) and opening snapshots are book state, never
// arrivals; their volume is anonymous (not orders): it counts in depth, not in X(i), and cancels
// or executions taken from it are counted apart (cancels) or count as market orders (executions).
//
// Event classification (L3 sources):
//   kAdd (not kSnapshot / kSeed)        a limit order at its distance at arrival
//   kCancel of a known order, whole     a cancellation at the order's distance
//   kCancel partial / of an unknown id  counted (partial_cancels, cancels_of_unknown_orders)
//   kCancel / kModify after a kFill     the book effect of that fill (Databento MBO), not a cancel
//   kModify changing the price          a cancellation at the old distance + a limit order at the
//                                        new one; a size-only modify is counted (modifies_size_only)
//   kExecution, kFill                   part of a market order (grouping above)
//   kTrade                              a print without book effect (LOBSTER hidden executions,
//                                        Databento T): counted in trades_without_book_effect
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mmkit/core/instrument.h"
#include "mmkit/core/types.h"
#include "mmkit/data/source.h"
#include "mmkit/sim/hawkes.h"
#include "mmkit/sim/synthetic_market.h"

namespace mmkit::sim {

/// The order-flow events of a stream, as classified above. Values are the Hawkes type indices,
/// the grouping of the synthetic market's Hawkes mode (sim::flow_type in synthetic_market.h).
enum class FlowEventType : std::uint8_t {
  kMarketBuy = flow_type::kMarketBuy,    ///< a market order lifting the ask side
  kMarketSell = flow_type::kMarketSell,  ///< a market order hitting the bid side
  kLimitBid = flow_type::kLimitBid,      ///< a new limit order (L2: a bid level grows)
  kLimitAsk = flow_type::kLimitAsk,
  kCancelBid = flow_type::kCancelBid,    ///< a cancellation, whole or partial (L2: a bid level shrinks)
  kCancelAsk = flow_type::kCancelAsk,
};
/// Hawkes dimensions fitted by calibrate_flow: the six FlowEventType's.
inline constexpr std::uint32_t kFlowHawkesDims = flow_type::kCount;
/// "market_buy", "market_sell", "limit_bid", "limit_ask", "cancel_bid", "cancel_ask".
[[nodiscard]] const char* to_string(FlowEventType t) noexcept;

struct CalibrationOptions {
  /// Largest distance (ticks) of λ(i) and θ(i); 0 = auto: the largest i visible at least
  /// `min_visible_fraction` of the time on each side and at which a limit order arrived, capped
  /// at `max_distance_cap`.
  std::uint32_t max_distance = 0;
  std::uint32_t max_distance_cap = 1000;
  double min_visible_fraction = 0.5;
  /// Depth N of the visible window in price levels; 0 = auto (a LobsterReader's levels(), else
  /// everything is visible).
  std::uint32_t visible_levels = 0;
  /// Joins and improvers apart (docs/synthetic_market.md, "Joins and improvers"): λ(i) without
  /// the joins (and E(i) without the time distance i was the own best), θ(i) without the
  /// improvers, and synthetic_config() writes join_rate = λ_J and improver_cancel_rate = θ_I.
  /// false = the CST 2010 estimators (every limit order in λ(i), every order in θ(i)); λ_J and
  /// θ_I are estimated either way.
  bool joins_and_improvers = false;
  /// Fit the Hawkes process (fit_hawkes) to the flow event times.
  bool fit_hawkes = true;
  bool hawkes_beta_shared = true;
  /// Only the first `hawkes_max_events` flow events (and the time they span) enter the Hawkes
  /// fit; 0 = all.
  std::uint64_t hawkes_max_events = 0;
};

/// Size law of one kind of order, in lots.
struct SizeDistribution {
  std::uint64_t count = 0;
  double mean = 0;          ///< lots; 0 when count == 0
  double geometric_p = 0;   ///< maximum likelihood of P(n) = p (1 − p)^(n−1): 1 / mean
  double share_of_one = 0;  ///< empirical P(size = 1); the geometric law says geometric_p
  double ks_distance = 0;   ///< sup_n |F_empirical(n) − F_geometric(n)| (Kolmogorov-Smirnov)
  std::vector<double> quantile_levels{0.1, 0.25, 0.5, 0.75, 0.9, 0.99};
  std::vector<double> quantiles;  ///< lots, empirical (lower quantile: smallest n with F(n) >= q)
};

struct HawkesCalibration {
  bool fitted = false;
  std::string note;                 ///< why not fitted, or what was restricted
  std::vector<std::string> types;   ///< names of the dimensions (to_string(FlowEventType))
  std::vector<std::uint64_t> counts;  ///< events per type in the fitted window
  double horizon_s = 0;             ///< length of the fitted window, from the first flow event
  HawkesFit fit;                    ///< valid when fitted
};

/// Everything calibrate_flow estimates. Vectors indexed by distance hold i = 1..max_distance at
/// index i − 1.
struct FlowCalibration {
  InstrumentSpec instrument;
  std::string format;
  TimestampNs start_ns = 0;  ///< first event not flagged kSnapshot (exchange time)
  TimestampNs end_ns = 0;    ///< last event
  double duration_s = 0;     ///< T = end − start
  Price initial_mid = 0;     ///< raw price: ⌊(bid + ask) / 2⌋ of the first two-sided book
  std::uint32_t visible_levels = 0;  ///< N of the visible window, 0 = unlimited
  std::uint32_t max_distance = 0;

  // Limit orders.
  std::vector<std::uint64_t> limit_count;  ///< N_l(i), both sides
  std::vector<double> limit_exposure_s;    ///< E(i), side-seconds visible
  std::vector<double> limit_rate;          ///< λ(i) per side per second (0 where E = 0)
  std::vector<double> limit_rate_se;
  double visible_fraction_at_max_distance = 1;  ///< min over sides of E_side(max) / T
  /// The power law within the generator's range α in [0, 10] (the constrained maximum
  /// likelihood: when the unconstrained α is negative, α = 0 and k = Σ N_l / Σ E, the mean rate).
  double limit_rate_k = 0, limit_rate_k_se = 0;
  double limit_rate_alpha = 0, limit_rate_alpha_se = 0;
  /// The unconstrained maximum (α in [−10, 10]); equal to the above when α >= 0. NaN when fewer
  /// than two distances are exposed (then α = 0 and k = λ(1)) or no limit order arrived (k = 0).
  double limit_rate_k_free = 0, limit_rate_alpha_free = 0;
  std::uint64_t limit_orders = 0;                    ///< every observed limit order
  std::uint64_t limit_orders_beyond_max_distance = 0;
  std::uint64_t limit_orders_without_reference = 0;  ///< the opposite side never had a price
  std::uint64_t limit_orders_crossing = 0;           ///< distance < 1 (auction phases)
  // Joins and improvers (docs/synthetic_market.md, "Joins and improvers").
  std::uint64_t join_count = 0;      ///< N_J: limit orders at their own side's best (not in N_l)
  double join_exposure_s = 0;        ///< E_J: side-seconds with the own best at a distance >= 1
  double join_rate = 0, join_rate_se = 0;  ///< λ_J = N_J / E_J per side per second
  std::uint64_t improver_count = 0;  ///< limit orders strictly inside the spread (in N_l)
  std::uint64_t improver_cancel_count = 0;  ///< N_I: their whole cancels (not in N_c)
  double improver_exposure_s = 0;    ///< X_I: their order-seconds (not in X(i))
  double improver_pooled_cancel_rate = 0;  ///< N_I / X_I, one rate for every improver (NaN if X_I = 0)
  /// The fleeting mixture (fit_fleeting_mixture) of the improvers' lifetimes (from arrival to
  /// their whole cancel; censored by a full execution or the end): a share φ cancels at θ_I, the
  /// rest at θ_S. NaN when no improver was cancelled.
  double improver_fleeting_share = 0, improver_fleeting_share_se = 0;  ///< φ
  double improver_cancel_rate = 0, improver_cancel_rate_se = 0;        ///< θ_I, per order per second
  double improver_slow_cancel_rate = 0, improver_slow_cancel_rate_se = 0;  ///< θ_S (reported only)
  bool joins_and_improvers = false;  ///< CalibrationOptions::joins_and_improvers of the fit

  // Market orders.
  std::uint64_t market_orders[2] = {0, 0};  ///< [0] buy (lifts asks), [1] sell (hits bids)
  double market_rate = 0, market_rate_se = 0;  ///< μ per side per second
  std::uint64_t executions = 0;                ///< kExecution / kFill events in them

  // Cancellations.
  std::vector<std::uint64_t> cancel_count;  ///< N_c(i)
  std::vector<double> order_exposure_s;     ///< X(i), order-seconds
  std::vector<double> cancel_rate;          ///< θ(i) per order per second (NaN where X = 0)
  std::vector<double> cancel_rate_se;
  std::uint64_t cancels_beyond = 0;         ///< whole cancels at distance > max_distance
  double order_exposure_beyond_s = 0;
  double cancel_rate_beyond = 0;            ///< pooled θ beyond max_distance (NaN if no exposure)
  std::uint64_t cancels = 0;                ///< whole cancels of known orders, all distances
  std::uint64_t partial_cancels = 0;
  std::uint64_t cancels_of_unknown_orders = 0;
  std::uint64_t modifies_price = 0;
  std::uint64_t modifies_size_only = 0;

  // Sizes and the rest.
  SizeDistribution limit_sizes;
  SizeDistribution market_sizes;   ///< total lots executed per market order
  std::uint64_t trades_without_book_effect = 0;
  std::uint64_t book_rejections = 0;  ///< events the L3 book refused (counted, not applied)
  std::uint64_t events = 0;
  data::Counters source_tolerated;    ///< the reader's counters at the end

  HawkesCalibration hawkes;

  /// The fitted generator: tick, decimals, opening mid, max_distance, k and α (the constrained
  /// fit, kept for reference), limit_rates = the empirical λ(1..max_distance) (the generator uses
  /// them instead of k / i^α; a distance without exposure takes the nearest exposed one, each
  /// clamped to [10^-6, 10^5] /s; empty when no limit order arrived), μ; with joins_and_improvers: join_rate = λ_J (0 when no join was seen) and
  /// improver_cancel_rate = θ_I clamped to [10^-6, 10^5] /s (0 when no improver was cancelled),
  /// without: both 0; cancel_rates = θ(1..max_distance) (a distance without exposure takes the nearest
  /// estimated one; each clamped to [10^-6, 10^5] /s) followed by the pooled θ beyond
  /// max_distance when it had exposure (the generator applies the last entry to every farther
  /// distance); mean_order_size = the limit order mean (>= 1); mean_market_order_size = the market
  /// order mean (>= 1; 0 when no market order was seen); opening_orders_per_level = the mean
  /// number of known orders per tick within max_distance, at least 1; duration_s = T,
  /// start_ns = start; symbol "SYN-<data symbol>" (truncated to 23 characters).
  /// flow = `flow`; hawkes_mu / hawkes_alpha / hawkes_beta from the Hawkes fit when there is one
  /// (whatever `flow`: a Poisson config then switches to the fitted Hawkes arrivals by flow alone),
  /// the two cancel baselines raised to at least 10^-6 /s (the generator's minimum); without a fit
  /// they keep their defaults, and `flow` kHawkes throws mmkit::Error.
  [[nodiscard]] SyntheticMarketConfig synthetic_config(FlowModel flow = FlowModel::kPoisson) const;
};

/// Reads `src` to the end and estimates the generator's parameters (see the header comment).
/// Throws mmkit::Error if the source is not L3, holds no two-sided book or no time span, or if a
/// fixed max_distance exceeds max_distance_cap.
[[nodiscard]] FlowCalibration calibrate_flow(data::EventSource& src, const CalibrationOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Flow statistics: what the comparison report plots, from any EventSource (L3 or L2).

struct FlowStatisticsOptions {
  TimestampNs sample_interval_ns = 1'000'000'000;  ///< grid of the mid price
  std::uint32_t depth_levels = 5;                  ///< levels 1..depth_levels of the profile
  std::uint32_t max_spread_ticks = 200;            ///< histogram bins 0..max; the last is "≥ max"
};

/// Statistics of one stream, time-weighted over [start_ns, end_ns] (exchange time; from the first
/// event not flagged kSnapshot to the last event), from the book
/// rebuilt event by event (L3Book for L3 sources, L2Book for L2 ones). On L2 sources flow events
/// are level changes (an increase: kLimitBid / kLimitAsk, a decrease: kCancelBid / kCancelAsk) and
/// kTrade prints (market orders,
/// grouped like executions; side = aggressor).
struct FlowStatistics {
  InstrumentSpec instrument;
  std::string format;
  TimestampNs start_ns = 0, end_ns = 0;
  double duration_s = 0;
  double two_sided_s = 0;                ///< time with both sides non-empty
  std::vector<double> spread_time_s;     ///< seconds at a spread of n ticks, n = 0..max (last: ≥)
  double mean_spread_ticks = 0;          ///< time-weighted over two_sided_s (unclipped); NaN if 0
  /// Time-weighted mean volume (lots) of the l-th level from the best, l = 1..depth_levels, over
  /// the two-sided time (a missing level counts 0); [0] bid, [1] ask.
  std::vector<double> depth_lots[2];
  /// Order-flow events in order (kSnapshot / kSeed events excluded): exchange time and type.
  std::vector<TimestampNs> event_ts_ns;
  std::vector<std::uint8_t> event_type;  ///< FlowEventType
  /// Mid price (decimal) at grid_start_ns + k × sample_interval_ns, k = 0..; the book after every
  /// event at or before that time; NaN while a side is empty.
  TimestampNs grid_start_ns = 0;
  TimestampNs sample_interval_ns = 0;
  std::vector<double> mid;
  std::uint64_t events = 0;
  std::uint64_t mid_changes = 0;
  std::uint64_t book_rejections = 0;
};

/// Reads `src` to the end. Throws mmkit::Error on bad options (interval <= 0, depth_levels 0).
[[nodiscard]] FlowStatistics flow_statistics(data::EventSource& src, const FlowStatisticsOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Estimators, exposed for tests and reuse.

struct PowerLawFit {
  double k = 0, alpha = 0;
  double k_se = 0, alpha_se = 0;  ///< from the observed Fisher information
  double log_likelihood = 0;
};

/// Poisson maximum likelihood of counts[i-1] ~ Poisson(exposure[i-1] × k / i^α), i = 1..n, with
/// α in [alpha_min, alpha_max] (bisection on the profile score, which is decreasing in α; the
/// profile likelihood is unimodal, so the constrained maximum is the clamped α with its k).
/// Distances with zero exposure are left out. Throws mmkit::Error if the sizes differ, the bounds
/// are not finite with alpha_min <= alpha_max, no count is positive or fewer than two distances
/// have exposure.
[[nodiscard]] PowerLawFit fit_power_law(const std::vector<std::uint64_t>& counts, const std::vector<double>& exposure,
                                        double alpha_min = -10, double alpha_max = 10);

/// Two-component exponential mixture of censored lifetimes: a share φ ("fleeting") with hazard
/// θ_F, the rest with θ_S (θ_F >= θ_S), maximum likelihood by EM (Dempster, Laird, Rubin 1977):
/// life_s[k] seconds observed, cancelled[k] = 1 when a cancel ended it (0 = censored). Standard
/// errors are the complete-data ones (√(φ(1−φ)/n), θ / √(expected cancels of the component)).
struct FleetingMixtureFit {
  double share = 0, fast_rate = 0, slow_rate = 0;
  double share_se = 0, fast_rate_se = 0, slow_rate_se = 0;
  double log_likelihood = 0;
  int iterations = 0;
  bool converged = false;
};
/// Throws mmkit::Error if the sizes differ, a lifetime is negative or not finite, or no lifetime
/// ends in a cancel or the lifetimes sum to 0.
[[nodiscard]] FleetingMixtureFit fit_fleeting_mixture(const std::vector<double>& life_s,
                                                      const std::vector<std::uint8_t>& cancelled,
                                                      int max_iterations = 2000);

/// Size law of integer sizes (lots, each >= 1) as in SizeDistribution.
[[nodiscard]] SizeDistribution size_distribution(std::vector<std::int64_t> sizes);

}  // namespace mmkit::sim
