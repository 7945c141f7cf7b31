// Order-book environments ("synthetic", "replay"): each env runs its own mmkit Engine
// (engine/engine.h) with an internal agent strategy (QuoteAgent) that hands the current action
// to the classic strategy's module-pipeline slot (strategy::ExternalAdjust). One step = Engine::run_until(t0 + (n + 1) × step_ms) of local
// time. "synthetic": a fresh SyntheticMarket (sim/synthetic_market.h) per episode, seeded from
// the env's stream; "replay": a window of a data file (an .mmk event file or any source
// data::open_source reads), its start drawn by the env's stream, the book warmed up by the engine
// from the file start (EngineConfig::warmup_events). Queue, latency and fee models: EngineConfig,
// as in the backtester. Details and measured speeds: docs/rl.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "mmkit/rl/vec_env.h"
#include "mmkit/sim/synthetic_market.h"
#include "mmkit/strategy/spread_quoter.h"

namespace mmkit::rl {

/// The agent inside the engine: a thin owner of the classic quoting strategy (`base`, e.g. an
/// AvellanedaStoikov or Glft from strategy::make_strategy) that trades with the engine's own
/// context. The action is not a second quoting mechanism: set_action writes it into the base's
/// module-pipeline slot (strategy::QuotingStrategy::set_external_adjust, modules.h
/// ExternalAdjust), so it adjusts the model quote the way the modules do:
///  - multiplier [spread_mult, size_mult, skew]: spread_mult × the model spread around its
///    center, the center shifted by skew model half-spreads (rl::apply_multiplier's law), both
///    sides' size multiplied by size_mult;
///  - direct [bid_offset_ticks, ask_offset_ticks, bid_size, ask_size]: the model prices are
///    overridden by mid ∓ offset·tick, the sizes are bid_size / ask_size × order_qty;
/// sizes follow the pipeline's rule strategy::adjusted_size (max(lot, floor_lot(order_qty ×
/// mult)) for mult > 0; 0: that side is not quoted); then the base's grid, passive-side and
/// position rules and its QuoteManager. Action (1, 1, 0) is the identity: the base trades exactly
/// as alone (same orders, fills, PnL — tested). A changed action takes effect at the base's next
/// requote trigger (its next complete book update; requote_on = timer: timer tick) after
/// set_action, without waiting for min_requote_interval_ms; the same action again changes nothing.
class QuoteAgent : public strategy::Strategy {
 public:
  /// `base` must be a strategy::QuotingStrategy; throws mmkit::Error otherwise.
  QuoteAgent(std::unique_ptr<strategy::Strategy> base, ActionMode mode);
  ~QuoteAgent() override;

  /// The action (action_dim floats, already within the bounds).
  void set_action(std::span<const float> action);
  /// The pipeline slot value of an action (the mapping above).
  [[nodiscard]] static strategy::ExternalAdjust external_adjust(ActionMode mode, std::span<const float> action);
  [[nodiscard]] const strategy::QuotingStrategy& base() const noexcept { return *base_; }
  [[nodiscard]] std::uint64_t fills() const noexcept { return fills_; }
  [[nodiscard]] Qty traded_qty() const noexcept { return traded_; }  ///< raw qty, both sides
  /// The base's wanted levels (after the action).
  [[nodiscard]] const std::vector<strategy::QuoteLevel>& wanted_bids() const noexcept { return base_->wanted_bids(); }
  [[nodiscard]] const std::vector<strategy::QuoteLevel>& wanted_asks() const noexcept { return base_->wanted_asks(); }

  void on_start(strategy::Context& ctx) override;
  void on_book_update(strategy::Context& ctx) override;
  void on_trade(strategy::Context& ctx, const strategy::TradeView& t) override;
  void on_order_update(strategy::Context& ctx, const strategy::OrderUpdate& u) override;
  void on_fill(strategy::Context& ctx, const strategy::Fill& f) override;
  void on_timer(strategy::Context& ctx) override;
  void on_end(strategy::Context& ctx) override;
  [[nodiscard]] strategy::Params resolved_params() const override;
  [[nodiscard]] strategy::Params summary() const override;

 protected:
  /// Called at the start of every callback, before the base sees it (the policy strategy's
  /// step clock).
  virtual void before_callback(strategy::Context&) {}

 private:
  std::unique_ptr<strategy::Strategy> owned_;
  strategy::QuotingStrategy* base_;
  ActionMode mode_;
  std::uint64_t fills_ = 0;
  Qty traded_ = 0;
};

/// Observation of the order-book envs and the rl-policy strategy, from a strategy::Context at
/// step boundaries (names: lob_obs_names). Scales (docs/rl.md, "Observation"):
struct LobObsConfig {
  double mid_scale = 100;      ///< mid_norm = (mid / mid_at_episode_start − 1) × this
  double spread_scale = 10;    ///< spread = market spread in ticks / this
  double vol_scale = 1;        ///< volatility = σ (ticks/√s, last vol_window steps) / this
  double return_scale = 1e4;   ///< return_k = (mid_n / mid_{n−k} − 1) × this
  double pnl_norm = 0;         ///< pnl_ratio = episode PnL / this (quote currency); 0: mid0 (decimal)
                               ///< × max_position (decimal) × 0.001
  std::int64_t vol_window = 50;  ///< steps
  std::int64_t episode_steps = 600;
  double step_s = 0.1;
  bool regime_feature = false; ///< append "regime" (synthetic market regime index / 2)
};
[[nodiscard]] std::vector<std::string> lob_obs_names(bool regime_feature);

class LobObserver {
 public:
  LobObserver() = default;
  explicit LobObserver(const LobObsConfig& c) : c_(c) {}
  /// Episode start (step 0): remembers the mid, the PnL and clears the history. Without a
  /// two-sided book yet, the episode's start mid is the first mid observe() sees (until then the
  /// mid features are 0).
  void start(const strategy::Context& ctx, Qty order_qty, Qty max_position);
  /// Writes the observation of step `step` (0 = episode start) into `out` (obs_dim floats).
  /// Call once per step, in order. `regime_level` is used when regime_feature is set.
  void observe(const strategy::Context& ctx, std::int64_t step, double regime_level, float* out);
  /// Mark-to-mid PnL (quote currency, fees included) of the context; the last valid mid when a
  /// side is empty.
  [[nodiscard]] double pnl(const strategy::Context& ctx);
  [[nodiscard]] double last_mid_raw() const noexcept { return last_mid_; }
  [[nodiscard]] double episode_pnl(const strategy::Context& ctx) { return pnl(ctx) - pnl0_; }
  [[nodiscard]] const LobObsConfig& config() const noexcept { return c_; }

 private:
  LobObsConfig c_;
  double mid0_ = 0, last_mid_ = 0, pnl0_ = 0, pnl_norm_ = 1;
  bool mid_known_ = false;        // a two-sided book seen since start(); else mid0_ = 1 stands in
  double pnl_norm_per_mid_ = 0;   // default pnl_norm / mid0 (raw price)
  double order_qty_ = 1, max_units_ = 1;
  std::vector<double> mids_;  // ring of the last 6 step mids
  std::vector<double> sq_;    // ring of the last vol_window squared mid changes (ticks²)
  double sq_sum_ = 0;
  std::int64_t count_ = 0;
};

[[nodiscard]] std::vector<std::string> lob_env_config_keys(const std::string& kind);
[[nodiscard]] std::unique_ptr<VecEnv> make_lob_env(const std::string& kind, std::size_t num_envs,
                                                   const Config& config, std::uint64_t seed);
/// The "synthetic" kind with its base market given as a parsed sim::SyntheticMarketConfig (the
/// Python binding parses a nested "synthetic" table with `mmkit backtest`'s [synthetic] parser,
/// so list keys such as limit_rates, cancel_rates, regimes, hawkes_* work). It replaces the
/// "synthetic.*" keys (giving one of them too is an error), except synthetic.switch_rate and
/// synthetic.feed_latency_ms. Per episode the env still sets seed and duration_s. If the market
/// has regimes, they are used as given (transition rates, initial regime) and the `regime` key /
/// set_regime do not change the market; the "regime" observation is then the market's regime
/// index / (number of regimes − 1). Throws mmkit::Error (kind not "synthetic", bad keys).
[[nodiscard]] std::unique_ptr<VecEnv> make_lob_env(const std::string& kind, std::size_t num_envs,
                                                   const Config& config, std::uint64_t seed,
                                                   const sim::SyntheticMarketConfig& market);

/// Action bounds of the order-book envs and the rl-policy strategy for a mode.
void lob_action_space(ActionMode mode, double max_offset_ticks, double max_size_mult,
                      std::vector<std::string>& names, std::vector<float>& low, std::vector<float>& high);

}  // namespace mmkit::rl
