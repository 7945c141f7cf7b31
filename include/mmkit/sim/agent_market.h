// The agent-based synthetic market: a population of agents (noise, informed and momentum traders,
// competing market makers) sending orders to a price-time-priority matching engine, around a
// latent fundamental value V_t that only the informed traders observe (with noise). Exposed as an
// L3 EventSource (format "agents"), like make_synthetic_market, so the engine, the books and the
// strategies run on it unchanged.
//
// Lineage of the agents: noise traders and informed traders after Kyle (1985) and Glosten &
// Milgrom (1985) (informed traders trade on a private signal of the value, market makers only
// see the order flow); momentum (trend-following) traders and zero-intelligence order placement
// as in the agent-based LOB literature (Chiarella, Iori, Perelló 2009, "The impact of
// heterogeneous trading rules on the limit order book and order flows", JEDC 33(3)); makers
// quoting around the mid with an inventory skew (Avellaneda & Stoikov 2008, reservation price
// mid − skew × q). The model, its parameters and what the defaults look like: docs/agent_market.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "mmkit/core/types.h"
#include "mmkit/data/source.h"

namespace mmkit::sim {

/// Every rate is per agent, in events per second of market time; every size in lots (1 lot = 1
/// raw qty unit: qty_decimals 0, lot_size 1); every price distance in ticks. Defaults give a
/// market with a 1–2 tick spread whose mid follows V over minutes (docs/agent_market.md).
struct AgentMarketConfig {
  // ---- instrument and clock ----
  std::string symbol = "AGENTS";        ///< instrument: venue AGENTS, currency USD
  std::int32_t price_decimals = 2;      ///< raw price = decimal × 10^2
  Price tick_size = 1;                  ///< raw ($0.01)
  Price initial_price = 10'000;         ///< raw ($100.00): V_0, and the centre of the opening book
  double duration_s = 1800;             ///< market time simulated
  TimestampNs start_ns = 1'704'205'800'000'000'000;  ///< 2024-01-02 14:30:00 UTC
  TimestampNs feed_latency_ns = 0;      ///< local_ts = exch_ts + this
  std::uint64_t seed = 1;

  // ---- opening book (noise-trader orders, each with a noise-order lifetime) ----
  std::uint32_t opening_levels = 10;            ///< per side, one tick apart
  std::uint32_t opening_orders_per_level = 3;   ///< sizes as noise orders

  // ---- fundamental value V_t, in ticks: Brownian (arithmetic random walk) plus jumps ----
  double fundamental_vol_ticks = 0.3;       ///< σ_V, ticks per √s: V(t+Δ) − V(t) ~ N(0, σ_V² Δ)
  double fundamental_step_s = 0.1;          ///< V is updated on this grid (piecewise constant)
  double fundamental_jump_rate = 1.0 / 600; ///< Poisson jump arrivals per second (0: none)
  double fundamental_jump_std_ticks = 4;    ///< jump size ~ N(0, this²), ticks

  // ---- noise traders (zero intelligence) ----
  std::uint32_t noise_traders = 40;
  double noise_rate = 0.25;                 ///< actions per second per trader
  double noise_market_prob = 0.15;          ///< P(action is a market order); else a limit order
  double noise_limit_mean_distance_ticks = 4;  ///< limit price: d ticks from the opposite best,
                                               ///< d geometric on {1, 2, …} with this mean
  std::uint32_t noise_limit_max_distance_ticks = 20;  ///< d is capped here
  double noise_mean_size_lots = 4;          ///< geometric on {1, 2, …} with this mean
  double noise_order_lifetime_s = 8;        ///< mean (exponential) before its trader cancels it

  // ---- informed traders: trade toward their private signal of V ----
  std::uint32_t informed_traders = 5;
  double informed_rate = 0.1;               ///< looks per second per trader
  double informed_signal_std_ticks = 1;     ///< signal = V + N(0, this²), fresh at every look
  double informed_threshold_ticks = 2;      ///< trades when |signal − mid| > this
  double informed_base_size_lots = 3;       ///< size = base + per_tick × (|gap| − threshold),
  double informed_size_per_tick_lots = 2;   ///<   rounded to the nearest lot,
  double informed_max_size_lots = 30;       ///<   capped here
  double informed_market_prob = 0;          ///< P(market order); else a marketable IOC limit
  std::uint32_t informed_limit_ticks = 1;   ///< IOC limit = opposite best ± this many ticks

  // ---- momentum traders: follow the mid's move over a lookback ----
  std::uint32_t momentum_traders = 4;
  double momentum_rate = 0.1;               ///< looks per second per trader
  double momentum_lookback_s = 10;          ///< move = mid(t) − mid(t − lookback)
  double momentum_threshold_ticks = 0.5;     ///< trades (market order) when |move| > this
  double momentum_base_size_lots = 2;       ///< size = base + per_tick × (|move| − threshold),
  double momentum_size_per_tick_lots = 1;   ///<   rounded, capped at max
  double momentum_max_size_lots = 15;

  // ---- competing market makers: one bid and one ask each ----
  std::uint32_t makers = 3;
  double maker_half_spread_ticks = 1;       ///< bid = ⌊c − h⌋, ask = ⌈c + h⌉ (at least 1 tick apart)
  double maker_skew_ticks_per_lot = 0.05;   ///< c = reference − skew × position (lots)
  std::int64_t maker_order_size_lots = 5;   ///< per quote
  std::int64_t maker_max_position_lots = 60;  ///< |position| never exceeds it (quote sizes cut)
  double maker_requote_interval_s = 0.5;    ///< timer period (first requote at a random phase)
  bool maker_use_microprice = false;        ///< reference: microprice instead of the mid
};

/// Throws mmkit::Error (location "agent market config", field = the offending field) when a
/// value is out of range (ranges: docs/agent_market.md).
void validate(const AgentMarketConfig& config);

/// The agent types, in the order of AgentMarketStats::by_type.
enum class AgentType : std::uint8_t { kNoise = 0, kInformed = 1, kMomentum = 2, kMaker = 3 };
inline constexpr int kAgentTypeCount = 4;
[[nodiscard]] const char* to_string(AgentType t) noexcept;

/// What one agent type did so far (all agents of the type together).
struct AgentTypeStats {
  std::uint64_t messages = 0;   ///< records sent: orders, cancels, requotes that changed quotes
  Qty bought = 0;               ///< lots bought, as maker or taker
  Qty sold = 0;                 ///< lots sold
  std::int64_t cash_ticks = 0;  ///< Σ price × qty over sells − Σ over buys; ticks × lots
  /// Σ (V − price) × qty over buys + Σ (price − V) × qty over sells, V at the time of each
  /// trade, ticks × lots: what the trades earned measured at the fundamental value (the
  /// informed traders' edge, the others' adverse selection). Zero-sum over the types.
  double value_edge_ticks = 0;
  [[nodiscard]] Qty position() const noexcept { return bought - sold; }
  /// Profit marked at price `value_ticks`: cash + position × value, ticks × lots.
  [[nodiscard]] double pnl_ticks(double value_ticks) const noexcept {
    return static_cast<double>(cash_ticks) + static_cast<double>(position()) * value_ticks;
  }
};

struct AgentMarketStats {
  AgentTypeStats by_type[kAgentTypeCount];  ///< index: AgentType
  std::vector<Qty> maker_position;          ///< lots, per maker
  std::uint64_t fundamental_jumps = 0;
  [[nodiscard]] const AgentTypeStats& of(AgentType t) const noexcept {
    return by_type[static_cast<int>(t)];
  }
};

/// The agent market as an EventSource, with read access to what the stream does not carry.
///
/// Events (L3, format "agents", docs/agent_market.md): record 0 is the opening book (kAdd,
/// flag kSnapshot); then one record per message reaching the matching engine, in time order: a
/// limit order (kAdd), a market or IOC order (one kExecution per resting order hit, side = the
/// resting side, FIFO; the unfilled IOC remainder leaves no trace), a cancel (kCancel of the
/// whole remaining size), a maker's requote (kCancel of the quotes that move, then kAdd of the
/// new ones). The last event of each record carries kEndOfRecord | kComplete; the book is never
/// crossed. seq = record + 1. Deterministic: the same config gives the same bytes. Memory is
/// bounded (the book, the agents' wake-up queue, the mid history of the momentum lookback).
class AgentMarket : public data::EventSource {
 public:
  /// Throws mmkit::Error on a bad config (validate()).
  [[nodiscard]] static std::unique_ptr<AgentMarket> create(const AgentMarketConfig& config);

  /// V in ticks (raw price = ticks × tick_size) at the exchange time of the latest record
  /// generated, i.e. of the last event returned when events are read one at a time.
  [[nodiscard]] virtual double fundamental_ticks() const = 0;
  /// Market time of the latest record generated, ns since the epoch (start_ns before any).
  [[nodiscard]] virtual TimestampNs now_ns() const = 0;
  /// As of the latest record generated.
  [[nodiscard]] virtual const AgentMarketStats& stats() const = 0;
  [[nodiscard]] virtual const AgentMarketConfig& config() const = 0;
};

/// The same stream as AgentMarket::create(config), as a plain EventSource.
[[nodiscard]] std::unique_ptr<data::EventSource> make_agent_market(const AgentMarketConfig& config);

/// A config from flat key -> value pairs, keys = the field names of AgentMarketConfig (e.g. a
/// TOML `[synthetic]` table with `mode = "agents"`; the key "mode" is accepted when its value is
/// "agents"). Values: bool / int / float / string, the same variant as strategy::ParamValue.
/// Integer fields take an int or an integral float; float fields an int or a float; bool fields
/// a bool or 0 / 1; `symbol` a string. Unset fields keep their defaults. The result is validated.
/// Throws mmkit::Error (location "agent market config", field = the key) for an unknown key
/// (listing the known ones), a value of the wrong type, and any value validate() rejects.
using AgentConfigValue = std::variant<bool, std::int64_t, double, std::string>;
[[nodiscard]] AgentMarketConfig agent_market_config_from(
    const std::map<std::string, AgentConfigValue, std::less<>>& values);
/// Numbers only (bool fields: 0 / 1). `start_ns` must then be exactly representable as a double
/// (the default is); use the variant overload for arbitrary ns.
[[nodiscard]] AgentMarketConfig agent_market_config_from(const std::map<std::string, double>& values);

/// The accepted keys, in declaration order (every field of AgentMarketConfig, then "mode").
[[nodiscard]] const std::vector<std::string>& agent_market_keys();

}  // namespace mmkit::sim
