// The "rl-policy" strategy: a trained policy run inside the C++ backtester.
//
// Weights file (JSON, written by mmkit.rl.export_policy; contract in docs/rl.md):
//   {"format": "mmkit-mlp-v1", "activation": "tanh", "obs_names": [...],
//    "action_mode": "multiplier" | "direct", "base": "avellaneda-stoikov" | "glft",
//    "action_low": [...], "action_high": [...],
//    "obs_config": {"mid_scale", "spread_scale", "vol_scale", "return_scale", "pnl_norm",
//                   "vol_window", "episode_steps", "step_ms"}   (all optional; LobObsConfig defaults),
//    "layers": [{"weight": [[...], ...] (out × in), "bias": [...] (out)}, ...]}
// The network is the SB3 PPO actor: y = W_L tanh(… tanh(W_1 x + b_1) …) + b_L (tanh between
// layers, none after the last); the deterministic action is the mean y, clipped to
// [action_low, action_high].
//
// In the backtest the policy keeps a step clock of step_ms of local time, starting at the first
// callback with a two-sided book; at each step boundary it builds the observation from the
// Context with the replay env's LobObserver (same features, same scales), evaluates the network
// and hands the action to a QuoteAgent over the base strategy (lob_env.h), exactly as the env
// applies it. Every episode_steps steps it starts a new "episode" (mid_norm, pnl_ratio and
// time_remaining restart), as the env's episodes do. A policy trained on the synthetic market
// (obs_names ending in "regime") gets regime = 0.5 (medium).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "mmkit/rl/lob_env.h"

namespace mmkit::rl {

/// A tanh MLP (dense layers, tanh between them, linear output).
class Mlp {
 public:
  Mlp() = default;
  /// weights[l] is out × in (row-major as given), biases[l] has `out` entries; consecutive layers
  /// must chain. Throws mmkit::Error otherwise.
  Mlp(std::vector<Eigen::MatrixXf> weights, std::vector<Eigen::VectorXf> biases);
  [[nodiscard]] std::size_t in_dim() const noexcept;
  [[nodiscard]] std::size_t out_dim() const noexcept;
  /// out[out_dim] = network(in[in_dim]). Not thread-safe (scratch buffers).
  void forward(const float* in, float* out) const;

 private:
  std::vector<Eigen::MatrixXf> w_;
  std::vector<Eigen::VectorXf> b_;
  mutable std::vector<Eigen::VectorXf> h_;
};

/// A parsed weights file.
struct PolicyFile {
  Mlp mlp;
  std::vector<std::string> obs_names;
  ActionMode mode = ActionMode::kMultiplier;
  BaseQuote base = BaseQuote::kAvellanedaStoikov;
  std::vector<float> action_low, action_high;
  LobObsConfig obs;
};

/// Reads and checks a weights file. Errors (mmkit::Error naming the file and the JSON key):
/// unreadable / invalid JSON, wrong format or activation, missing keys, ragged matrices, layer
/// shapes that do not chain, input size ≠ obs_names size, output size ≠ the action size of the
/// mode, obs_names not those of the order-book envs (lob_obs_names), bounds of the wrong size.
[[nodiscard]] PolicyFile load_policy_file(const std::string& path);

/// The deterministic action of `p` for observation `obs` (clipped), into out[action size].
void policy_action(const PolicyFile& p, const float* obs, float* out);

class RlPolicy final : public QuoteAgent {
 public:
  /// `base`: a strategy::QuotingStrategy (the file's base); `path`: reported in resolved_params.
  /// `warmup_ns`: local time from the first two-sided book during which the base quotes alone
  /// (the classic action), as the environments' warmup_s does before an episode's first step.
  RlPolicy(std::shared_ptr<const PolicyFile> policy, std::unique_ptr<strategy::Strategy> base,
           const std::string& path, TimestampNs warmup_ns = 10'000'000'000);
  [[nodiscard]] strategy::Params resolved_params() const override;
  [[nodiscard]] strategy::Params summary() const override;
  [[nodiscard]] std::uint64_t decisions() const noexcept { return decisions_; }
  [[nodiscard]] const std::vector<float>& last_obs() const noexcept { return obs_; }
  [[nodiscard]] const std::vector<float>& last_action() const noexcept { return act_; }

 protected:
  void before_callback(strategy::Context& ctx) override;

 private:
  std::shared_ptr<const PolicyFile> p_;
  std::string path_;
  LobObserver observer_;
  bool started_ = false;
  bool regime_feature_ = false;
  TimestampNs warmup_ns_ = 0;
  TimestampNs first_book_ns_ = kNoTimestamp;
  TimestampNs next_ns_ = 0;
  TimestampNs step_ns_ = 0;
  std::int64_t step_ = 0;
  std::uint64_t decisions_ = 0;
  std::vector<float> obs_, act_;
};

/// make_strategy("rl-policy", params, …): params "policy" (path of the weights file, required),
/// "warmup_s" (default 10, the environments' default warmup_s: the base strategy quotes alone
/// for this long from the first two-sided book — its estimators and auto parameters settle as
/// they did in training — before the policy acts); every other param goes to the base strategy
/// named by the file ("avellaneda-stoikov" or "glft"), e.g. gamma, order_qty. Throws mmkit::Error.
[[nodiscard]] std::unique_ptr<strategy::Strategy> make_rl_policy(const strategy::Params& params,
                                                                 const InstrumentSpec& spec,
                                                                 const strategy::MarketProfile& profile);

}  // namespace mmkit::rl
