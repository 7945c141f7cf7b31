// Internals of the order-book envs exposed for tests, benchmarks and the rl-policy strategy:
// resolved settings, per-env episode state, and the builders of an episode's engine config and
// synthetic market (so a test can run the classic backtest on exactly the same market).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "mmkit/engine/engine.h"
#include "mmkit/rl/lob_env.h"
#include "mmkit/sim/synthetic_market.h"

namespace mmkit::rl {

/// Resolved settings of an order-book env (config keys: docs/rl.md).
struct LobSettings {
  std::string kind;  ///< "synthetic" | "replay"
  ActionMode mode = ActionMode::kMultiplier;
  BaseQuote base = BaseQuote::kAvellanedaStoikov;
  Regime regime = Regime::kMedium;
  std::int64_t episode_steps = 600;
  TimestampNs step_ns = 100'000'000;
  TimestampNs warmup_ns = 10'000'000'000;  ///< market time before step 0 (the base warms up)
  bool terminate_on_breach = false;        ///< terminate when |q| >= max_position / order_qty
  double max_loss = 0;                     ///< terminate when episode PnL <= −max_loss (0: never)
  double max_offset_ticks = 20, max_size_mult = 2;
  LobObsConfig obs;
  RewardConfig reward;
  strategy::Params strategy_params;  ///< for make_strategy(base name, …), "strategy.*" keys
  struct Engine {
    std::string queue_model = "prob-power-2";
    TimestampNs entry_ns = 0, response_ns = 0;
    double maker_fee_bps = 0, taker_fee_bps = 0;
    bool feed_constant = false;
    TimestampNs feed_ns = 0;
    TimestampNs timer_ns = 100'000'000;
  } engine;
  // synthetic
  sim::SyntheticMarketConfig market;
  bool own_regimes = false;  ///< the given market's regimes are used as given (make_lob_env)
  double switch_rate = 1.0 / 30.0;  ///< per second between neighbouring regimes (switching)
  // replay
  std::string path;
  double window_s = 0;
  std::int64_t tick_override = 0;
  std::string instrument;
};

/// `market` (synthetic only; may be null): the base market config given already parsed, in place
/// of the "synthetic.*" keys (make_lob_env).
[[nodiscard]] LobSettings read_lob_settings(const std::string& kind, const Config& config,
                                            const sim::SyntheticMarketConfig* market = nullptr);
/// The EngineConfig of an episode (a fresh latency model; markouts off; seed given).
[[nodiscard]] engine::EngineConfig make_engine_config(const LobSettings& s, std::uint64_t seed);
/// The synthetic market of an episode: settings' market, seed, duration warmup + (episode_steps
/// + 1) steps + 1 s, regimes: the regime's sim::default_regimes() entry alone, or (switching)
/// low / medium / high with rates switch_rate between neighbours, starting at seed % 3; with
/// own_regimes, the market's own regimes, transition rates and initial regime.
[[nodiscard]] sim::SyntheticMarketConfig episode_market(const LobSettings& s, Regime regime, std::uint64_t seed);

/// One env's current episode.
struct LobEnvSlot {
  std::unique_ptr<engine::Engine> engine;
  QuoteAgent* agent = nullptr;           ///< owned by engine
  sim::SyntheticMarket* market = nullptr;  ///< owned by engine (synthetic only)
  sim::SyntheticMarketConfig market_config;  ///< synthetic only
  LobObserver observer;
  Regime regime = Regime::kMedium;
  TimestampNs t0 = 0;  ///< local time of step 0
  std::uint64_t seed = 0;           ///< the episode's seed (market and engine)
  std::uint64_t warmup_events = 0;  ///< replay: EngineConfig::warmup_events of the episode
  std::int64_t step = 0;
  Qty order_qty = 1;
  double max_units = 1;
  double pnl_prev = 0, mid_prev = 0;
  std::uint64_t fills_prev = 0;
  Qty traded_prev = 0;
  std::uint64_t episode = 0;
  EpisodeAccumulator acc;
};

struct LobEnvView {
  const LobEnvSlot* slot;
  const LobSettings* settings;
  const strategy::MarketProfile* profile;
  const std::string* base_name;
};
/// Read-only view of env i (valid until the next reset / step). Throws mmkit::Error if `env` is
/// not an order-book env.
[[nodiscard]] LobEnvView lob_env_view(const VecEnv& env, std::size_t i);

}  // namespace mmkit::rl
