// The model market ("model"): Avellaneda & Stoikov (2008), "High-frequency trading in a limit
// order book", Quantitative Finance 8(3), §2 dynamics, one market maker per env:
//   mid:   s_{n+1} = s_n ± σ√dt, each with probability ½ (the paper's binomial walk, §3.3);
//   fills: after the mid moves, the bid is hit with probability 1 − exp(−λ(δ^b) dt) and the ask
//          lifted with probability 1 − exp(−λ(δ^a) dt), independently, λ(δ) = A e^{−kδ} (§2.3),
//          δ^b = s_{n+1} − bid, δ^a = ask − s_{n+1} (quotes stand while the mid moves: the
//          timing kMoveThenFill of models/papers.h, which reproduces the paper's tables);
//   each fill trades size_mult units (1 unit = the A-S unit order); cash and inventory exact
//   doubles; PnL = cash + q s.
// Base quotes: strategy::avellaneda_stoikov_quote (r, δa + δb with T − t = (episode_steps − n) dt)
// or strategy::glft_quote (GLFT 2013 closed form, Δ = 1, prices as "ticks" of 1 price unit).
// Regimes (per env, drawn at reset): low / medium / high scale σ and A (docs/rl.md); switching:
// at each step, with probability `switch_prob`, the regime jumps to one of the two others
// (uniformly): a discrete-time Markov chain.
// Speed: structure of arrays, one 64-bit xoshiro draw per env-step, no allocation per step.
// optimal_action(): the exact optimum of this discrete problem's reward (model_optimal_policy below).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mmkit/rl/vec_env.h"

namespace mmkit::rl {

/// Parameters of one regime. Units: price, seconds.
struct ModelRegimeParams {
  double sigma = 2.0;  ///< price/√s
  double A = 140.0;    ///< 1/s
  double k = 1.5;      ///< 1/price
};

struct ModelMarketConfig {
  double s0 = 100;           ///< initial mid, price
  double dt_s = 0.005;       ///< step, s
  std::int64_t episode_steps = 200;  ///< T = episode_steps × dt (paper: T = 1, dt = 0.005)
  double gamma = 0.1;        ///< A-S risk aversion 1/price; GLFT ξ = γ
  double tick = 0.01;        ///< price per tick (direct-mode offsets, spread observation)
  double max_inventory = 50; ///< units; a side whose fill would pass it is not quoted
  bool terminate_on_breach = false;  ///< terminate when |q| >= max_inventory
  double max_loss = 0;       ///< terminate when PnL <= −max_loss (0: never)
  ModelRegimeParams medium;  ///< the "medium" regime (config keys sigma, A, k)
  double low_sigma_scale = 0.5, high_sigma_scale = 2.0;
  double low_A_scale = 1.25, high_A_scale = 0.75;
  double switch_prob = 0.01; ///< per step, regime "switching"
  double direct_max_offset_ticks = 500;
  double max_size_mult = 2;
  RewardConfig reward;
  // Observation scales (docs/rl.md).
  double obs_mid_scale = 10;       ///< mid_norm = (s/s0 − 1) × this
  double obs_spread_scale = 500;   ///< spread (ticks) / this
  double obs_return_scale = 100;   ///< return × this
  double obs_pnl_norm = 0;         ///< pnl_ratio = pnl / this; 0: σ √T × max_inventory (medium σ)

  /// Regime parameter set (kSwitching is not a parameter set: it is rejected).
  [[nodiscard]] ModelRegimeParams regime(Regime r) const;
};

/// Reads a ModelMarketConfig (keys: model_market_config_keys()); throws mmkit::Error.
[[nodiscard]] ModelMarketConfig model_market_config(const Config& config, ActionMode& mode,
                                                    BaseQuote& base, Regime& regime);
[[nodiscard]] std::vector<std::string> model_market_config_keys();

[[nodiscard]] std::unique_ptr<VecEnv> make_model_market(std::size_t num_envs, const Config& config,
                                                        std::uint64_t seed);

/// State of env i of a model-market VecEnv (for tests and diagnostics). `bid` / `ask` are the
/// quotes the last step used (NaN for a side not quoted); `base_bid` / `base_ask` the base quote
/// (A-S or GLFT) for the next step. Throws mmkit::Error if `env` is not a model market.
struct ModelEnvState {
  double s = 0, q = 0, cash = 0;
  std::int64_t step = 0;
  double sigma = 0, A = 0, k = 0;
  double bid = 0, ask = 0, base_bid = 0, base_ask = 0;
};
[[nodiscard]] ModelEnvState model_env_state(const VecEnv& env, std::size_t i);

/// The exact optimal policy of the model market's own discrete problem (docs/rl.md, "The optimal
/// policy"), by backward dynamic programming. Per step the reward depends only on (q, Δs, fills,
/// quote offsets) — ΔPnL = q Δs + 1{bid hit} u (δ^b + Δs) + 1{ask lifted} u (δ^a − Δs) with δ the
/// offsets from the mid s_n the quotes were set at — so the value of (t, cash x, mid S, q, regime)
/// is x + qS plus a function of (t, q, regime) whose increment is the expected step reward:
///   h(T, q, r) = 0 (no terminal liquidation or penalty: the episode is truncated, PnL marked to mid);
///   h(t, q, r) = max_{δ^b, δ^a} E[ r_step(q, Δs, fills) + Σ_{r'} P(r → r') h(t+1, q', r') ],
/// Δs = ±σ_r√dt (½ each), bid / ask filled independently given Δs with probabilities
/// 1 − exp(−A_r e^{−k_r(δ^b + Δs)} dt), 1 − exp(−A_r e^{−k_r(δ^a − Δs)} dt), q' = q + u(1{b} − 1{a}),
/// r_step = shaped_reward(reward, ΔPnL, q', dt, Δs, u(1{b} + 1{a})) (exact joint expectation over
/// the four fill outcomes; linear or exponential utility: the reward is additive per step either
/// way). A side whose fill would take |q| above max_inventory is not quoted (δ = +inf);
/// terminate_on_breach makes |q'| >= max_inventory terminal (h = 0). max_loss is not modelled (the
/// PnL stop breaks the separation): the table is the optimum without it. Orders of u = min(1,
/// max_size_mult) units (the A-S unit order); inventory levels q = j u, |j| <= J.
/// Maximization: the two offsets by coordinate ascent (each a 1-D maximization solved exactly:
/// safeguarded Newton on the analytic first and second derivatives inside a sign-change bracket,
/// to |step| <= 1e-15 (1 + |δ|)), until neither offset moves by more than 1e-13 (1 + |δ|).
struct ModelOptimalPolicy {
  std::int64_t steps = 0;      ///< episode_steps
  std::int64_t max_level = 0;  ///< J
  double order_size = 1;       ///< u, units
  std::size_t regimes = 1;     ///< 1: a fixed regime; 3: "switching" (index = Regime value)
  /// h(t, q, r), (steps + 1) × (2J + 1) × regimes, index ((t (2J + 1)) + j + J) regimes + r.
  std::vector<double> value;
  /// Optimal offsets from the mid s_t, price; steps × (2J + 1) × regimes, same index; +inf: the
  /// side is not quoted (inventory limit).
  std::vector<double> delta_bid, delta_ask;
  [[nodiscard]] std::size_t index(std::int64_t t, std::int64_t j, std::size_t r) const noexcept {
    return (static_cast<std::size_t>(t) * static_cast<std::size_t>(2 * max_level + 1) +
            static_cast<std::size_t>(j + max_level)) * regimes + r;
  }
};
/// Solves the DP for `regime` (kLow / kMedium / kHigh: that regime for the whole episode;
/// kSwitching: the Markov chain over the three, P(r → r) = 1 − switch_prob, P(r → r') =
/// switch_prob / 2 for each other r', the switch applied after the step's reward, as the env does).
[[nodiscard]] ModelOptimalPolicy model_optimal_policy(const ModelMarketConfig& config, Regime regime);

/// How often optimal_action() had to clip the exact optimal quote to the action bounds (counts of
/// env-actions since construction). Throws mmkit::Error if `env` is not a model market.
struct ModelOptimalClipStats {
  std::uint64_t actions = 0, clipped = 0;
};
[[nodiscard]] ModelOptimalClipStats model_optimal_clip_stats(const VecEnv& env);

/// Observation names of the model market, in order.
[[nodiscard]] std::vector<std::string> model_obs_names();

}  // namespace mmkit::rl
