// Batched market-making environments for reinforcement learning: N independent environments
// stepped together in C++ (one call per batch step), with auto-reset, for the Python Gymnasium /
// SB3 front (python/mmkit/rl). Binding, observations, actions,
// rewards, regimes and measured speeds: docs/rl.md.
//
// Kinds (make_vec_env):
//   "model"     Avellaneda & Stoikov (2008) §2 dynamics: binomial mid ±σ√dt, Poisson fills with
//               intensity A e^{−kδ} (model_market.h);
//   "synthetic" one mmkit Engine per env over the synthetic order-book market (lob_env.h);
//   "replay"    one Engine per env over a window of a real data file (lob_env.h).
//
// Determinism: every env has its own xoshiro256** stream (exchange::Rng) seeded from
// (seed, env index), so a trajectory depends on the seed only — not on the number of threads nor
// on how envs are split between them. Thread-safety: a VecEnv is used from one thread at a time;
// internally step() splits the envs into contiguous blocks run on `threads` threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mmkit/strategy/strategy.h"

namespace mmkit::rl {

/// Environment settings: a flat map, nested tables flattened with dots ("reward.pnl_scale",
/// "synthetic.preset", "engine.queue_model", "strategy.gamma"). Unknown keys throw mmkit::Error
/// listing the known ones. Keys and defaults: docs/rl.md.
using Config = strategy::Params;

enum class ActionMode : std::uint8_t {
  kMultiplier = 0,  ///< [spread_mult, size_mult, skew] on the A-S / GLFT base quote
  kDirect = 1,      ///< [bid_offset_ticks, ask_offset_ticks, bid_size, ask_size]
};
enum class BaseQuote : std::uint8_t { kAvellanedaStoikov = 0, kGlft = 1 };
/// Volatility regime of the next episodes (curriculum). kSwitching: a Markov chain over low /
/// medium / high within the episode.
enum class Regime : std::uint8_t { kLow = 0, kMedium = 1, kHigh = 2, kSwitching = 3 };

/// "low" | "medium" | "high" | "switching"; throws mmkit::Error naming the accepted values.
[[nodiscard]] Regime parse_regime(std::string_view name);
[[nodiscard]] const char* to_string(Regime r) noexcept;
[[nodiscard]] ActionMode parse_action_mode(std::string_view name);
[[nodiscard]] BaseQuote parse_base(std::string_view name);
[[nodiscard]] const char* to_string(ActionMode m) noexcept;
[[nodiscard]] const char* to_string(BaseQuote b) noexcept;

/// Multiplier-mode action applied to a base quote (bid_b, ask_b), half spread h = (ask_b −
/// bid_b)/2 (prices in any one unit):
///   bid = bid_b − (spread_mult − 1) h + skew h,   ask = ask_b + (spread_mult − 1) h + skew h
/// i.e. the spread around the base center scaled by spread_mult and the center moved by skew
/// half spreads (skew > 0: both quotes up, leaning to buy). (1, 0) gives (bid_b, ask_b) exactly,
/// bit for bit. size = order size × size_mult. The model market applies it here; the order-book
/// envs apply the same law through the quoting strategy's pipeline slot (lob_env.h, QuoteAgent).
struct QuotePair {
  double bid = 0, ask = 0;
};
[[nodiscard]] inline QuotePair apply_multiplier(double bid_b, double ask_b, double spread_mult,
                                                double skew) noexcept {
  const double h = 0.5 * (ask_b - bid_b);
  const double widen = (spread_mult - 1.0) * h;
  const double shift = skew * h;
  return {bid_b - widen + shift, ask_b + widen + shift};
}

/// Reward per step (docs/rl.md, "Reward"):
///   r = pnl_scale · ΔPnL − λ_I q² dt − λ_V q² (Δmid)² − λ_Q C
/// ΔPnL: change of cash + q × mid over the step (quote currency, fees included); q inventory in
/// order-size units; dt the step length in seconds (so the inventory penalty does not depend on
/// the step size); (Δmid)² the squared mid change over the step (price²: the realized variance
/// of the inventory's value per unit q², the A-S mean-variance term); C the impact cost proxy
/// (Σ|fill qty| in order-size units over the step)² — a quadratic temporary-impact cost
/// (Almgren-Chriss η v²). With utility "exponential": r = (1 − exp(−a · r_lin)) / a with
/// a = risk_aversion (CARA utility of the step's linear reward).
struct RewardConfig {
  double pnl_scale = 1.0;
  double inventory_penalty = 0.0;  ///< λ_I, per (order unit)² per second
  double vol_penalty = 0.0;        ///< λ_V
  double impact_penalty = 0.0;     ///< λ_Q
  bool exponential = false;
  double risk_aversion = 0.1;      ///< a (> 0) for the exponential utility
};
[[nodiscard]] double shaped_reward(const RewardConfig& c, double dpnl, double q, double dt_s,
                                   double dmid, double traded_units) noexcept;

/// Statistics of the last finished episode of an env (zeros before the first one finishes).
struct EpisodeStats {
  double pnl = 0;            ///< cash + q × mid at the end, quote currency
  double reward = 0;         ///< sum of rewards
  std::uint64_t steps = 0;
  std::uint64_t fills = 0;   ///< our fills (model: one per hit quote)
  double inventory_mean = 0; ///< over the steps, order-size units
  double inventory_std = 0;  ///< population std over the steps
  double final_inventory = 0;
  double volume = 0;         ///< traded, order-size units
  bool terminated = false;   ///< ended by termination (not truncation)
};

/// Accumulates EpisodeStats step by step (Welford).
struct EpisodeAccumulator {
  double reward = 0, volume = 0, mean = 0, m2 = 0;
  std::uint64_t steps = 0, fills = 0;
  void add(double r, double q, std::uint64_t fills_step, double volume_step) noexcept;
  [[nodiscard]] EpisodeStats finish(double pnl, double q, bool terminated) const noexcept;
};

/// Runs fn(begin, end) over [0, n) in chunks of `chunk` indices handed out by an atomic counter
/// to the calling thread and threads − 1 persistent workers (a late worker costs nothing: the
/// caller takes the rest). No allocation per run. fn must not throw.
class BlockRunner {
 public:
  explicit BlockRunner(unsigned threads);
  ~BlockRunner();
  BlockRunner(const BlockRunner&) = delete;
  BlockRunner& operator=(const BlockRunner&) = delete;
  template <class F>
  void run(std::size_t n, std::size_t chunk, F&& fn) {
    run_impl(n, chunk, &fn, [](void* f, std::size_t b, std::size_t e) { (*static_cast<F*>(f))(b, e); });
  }
  [[nodiscard]] unsigned threads() const noexcept;

 private:
  using Thunk = void (*)(void*, std::size_t, std::size_t);
  void run_impl(std::size_t n, std::size_t chunk, void* fn, Thunk thunk);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The batched environment. Buffers are owned here and overwritten by the next reset() / step():
/// obs (N × obs_dim, row-major float32), reward (N float64), terminated / truncated (N bytes, 0/1),
/// final_obs (N × obs_dim; rows valid where the episode ended at the last step).
class VecEnv {
 public:
  virtual ~VecEnv();
  VecEnv(const VecEnv&) = delete;
  VecEnv& operator=(const VecEnv&) = delete;

  [[nodiscard]] const std::string& kind() const noexcept { return kind_; }
  [[nodiscard]] std::size_t num_envs() const noexcept { return n_; }
  [[nodiscard]] std::size_t obs_dim() const noexcept { return obs_names_.size(); }
  [[nodiscard]] std::size_t action_dim() const noexcept { return action_names_.size(); }
  [[nodiscard]] const std::vector<std::string>& obs_names() const noexcept { return obs_names_; }
  [[nodiscard]] const std::vector<std::string>& action_names() const noexcept { return action_names_; }
  [[nodiscard]] const std::vector<float>& action_low() const noexcept { return low_; }
  [[nodiscard]] const std::vector<float>& action_high() const noexcept { return high_; }
  [[nodiscard]] ActionMode action_mode() const noexcept { return mode_; }
  /// Bounds of each observation (±inf where unbounded), for a Gymnasium Box.
  [[nodiscard]] std::vector<float> obs_low() const;
  [[nodiscard]] std::vector<float> obs_high() const;
  /// The normalization scales the observation uses (name -> value; the keys of a policy file's
  /// "obs_config", docs/rl.md).
  [[nodiscard]] const std::vector<std::pair<std::string, double>>& obs_config() const noexcept { return obs_config_; }
  [[nodiscard]] BaseQuote base() const noexcept { return base_; }

  /// Resets every env (seed given: the env streams are re-seeded from it, as at construction).
  void reset(std::optional<std::uint64_t> seed = std::nullopt);
  /// One step of every env; `actions` N × action_dim row-major, clipped to the bounds. Envs whose
  /// episode ends are reset: obs() holds their new first observation, final_obs() the last one.
  void step(const float* actions);

  [[nodiscard]] const float* obs() const noexcept { return obs_.data(); }
  [[nodiscard]] const float* final_obs() const noexcept { return final_obs_.data(); }
  [[nodiscard]] const double* reward() const noexcept { return reward_.data(); }
  [[nodiscard]] const std::uint8_t* terminated() const noexcept { return terminated_.data(); }
  [[nodiscard]] const std::uint8_t* truncated() const noexcept { return truncated_.data(); }
  [[nodiscard]] const std::vector<EpisodeStats>& episode_stats() const noexcept { return stats_; }

  /// Regime of the episodes that start after this call (each env at its next reset).
  void set_regime(Regime r) noexcept { regime_ = r; }
  [[nodiscard]] Regime regime() const noexcept { return regime_; }
  /// Threads used by step() (>= 1; default 2). Results do not depend on it.
  void set_threads(unsigned threads);
  [[nodiscard]] unsigned threads() const noexcept { return runner_->threads(); }

  /// The optimal policy's action for the current state, N × action_dim (model kind only: the
  /// exact backward-DP optimum of this env's own discrete problem, rl::model_optimal_policy in
  /// model_market.h, mapped through the action space — clipped to its bounds in multiplier mode,
  /// offsets in direct mode). Throws mmkit::Error for the other kinds.
  virtual void optimal_action(float* out) const;

 protected:
  VecEnv(std::string kind, std::size_t n, const Config& config, std::uint64_t seed);
  virtual void reset_block(std::size_t begin, std::size_t end) = 0;
  virtual void step_block(const float* actions, std::size_t begin, std::size_t end) = 0;
  /// Envs per chunk handed to a thread (step() and reset() use one thread when n <= chunk).
  [[nodiscard]] virtual std::size_t chunk_envs() const noexcept { return 1; }
  /// Seed of env i's stream for episode number `episode` (splitmix64 of seed, i, episode).
  [[nodiscard]] std::uint64_t env_seed(std::size_t i, std::uint64_t episode) const noexcept;
  /// runner_->run over all envs; the first exception thrown in any chunk is rethrown here.
  template <class F>
  void run_guarded(F&& fn);

  std::string kind_;
  std::size_t n_;
  std::uint64_t seed_;
  ActionMode mode_ = ActionMode::kMultiplier;
  BaseQuote base_ = BaseQuote::kAvellanedaStoikov;
  Regime regime_ = Regime::kMedium;
  std::vector<std::string> obs_names_, action_names_;
  std::vector<float> low_, high_;
  std::vector<std::pair<std::string, double>> obs_config_;
  std::vector<float> obs_, final_obs_;
  std::vector<double> reward_;
  std::vector<std::uint8_t> terminated_, truncated_;
  std::vector<EpisodeStats> stats_;
  std::vector<float> clipped_;  // N × action_dim scratch
  std::unique_ptr<BlockRunner> runner_;
};

/// kind: "model" | "synthetic" | "replay". Throws mmkit::Error for an unknown kind, num_envs 0,
/// unknown config keys (listing the known ones) or invalid values.
[[nodiscard]] std::unique_ptr<VecEnv> make_vec_env(const std::string& kind, std::size_t num_envs,
                                                   const Config& config, std::uint64_t seed);

/// Config keys each kind accepts.
[[nodiscard]] std::vector<std::string> config_keys(const std::string& kind);

// --- Internal helpers shared by the kinds and the policy strategy -------------------------------

/// Typed reads of a Config, remembering the names asked for (for the unknown-key error).
class ConfigReader {
 public:
  ConfigReader(std::string_view what, const Config& config) : what_(what), config_(config) {}
  double number(std::string_view key, double def);
  std::int64_t integer(std::string_view key, std::int64_t def);
  bool boolean(std::string_view key, bool def);
  std::string string(std::string_view key, std::string_view def);
  [[nodiscard]] bool has(std::string_view key);
  /// Every key starting with `prefix` (e.g. "strategy."), prefix removed; all marked as known.
  [[nodiscard]] strategy::Params with_prefix(std::string_view prefix);
  /// Throws mmkit::Error if a key was given that was never asked for.
  void finish() const;
  [[nodiscard]] const std::vector<std::string>& known() const noexcept { return order_; }

 private:
  const strategy::ParamValue* find(std::string_view key);
  std::string what_;
  const Config& config_;
  std::vector<std::string> order_;
  std::vector<std::string> prefixes_;
};

/// Reads the reward.* keys (pnl_scale, inventory_penalty, vol_penalty, impact_penalty, utility,
/// risk_aversion) into `c`; throws mmkit::Error for invalid values.
void read_reward_config(ConfigReader& r, RewardConfig& c);

}  // namespace mmkit::rl
