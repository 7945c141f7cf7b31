#include "mmkit/rl/vec_env.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <exception>
#include <mutex>
#include <set>
#include <thread>

#include "mmkit/core/error.h"
#include "mmkit/rl/lob_env.h"
#include "mmkit/rl/model_market.h"

namespace mmkit::rl {

namespace {
std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

const char* type_name(const strategy::ParamValue& v) {
  switch (v.index()) {
    case 0: return "bool";
    case 1: return "integer";
    case 2: return "number";
    default: return "string";
  }
}
}  // namespace

Regime parse_regime(std::string_view name) {
  if (name == "low") return Regime::kLow;
  if (name == "medium") return Regime::kMedium;
  if (name == "high") return Regime::kHigh;
  if (name == "switching") return Regime::kSwitching;
  throw Error("rl env: unknown regime '" + std::string(name) + "' (accepted: low, medium, high, switching)");
}
const char* to_string(Regime r) noexcept {
  switch (r) {
    case Regime::kLow: return "low";
    case Regime::kMedium: return "medium";
    case Regime::kHigh: return "high";
    default: return "switching";
  }
}
ActionMode parse_action_mode(std::string_view name) {
  if (name == "multiplier") return ActionMode::kMultiplier;
  if (name == "direct") return ActionMode::kDirect;
  throw Error("rl env: unknown action_mode '" + std::string(name) + "' (accepted: multiplier, direct)");
}
BaseQuote parse_base(std::string_view name) {
  if (name == "avellaneda-stoikov") return BaseQuote::kAvellanedaStoikov;
  if (name == "glft") return BaseQuote::kGlft;
  throw Error("rl env: unknown base '" + std::string(name) + "' (accepted: avellaneda-stoikov, glft)");
}
const char* to_string(ActionMode m) noexcept { return m == ActionMode::kMultiplier ? "multiplier" : "direct"; }
const char* to_string(BaseQuote b) noexcept { return b == BaseQuote::kGlft ? "glft" : "avellaneda-stoikov"; }

double shaped_reward(const RewardConfig& c, double dpnl, double q, double dt_s, double dmid,
                     double traded_units) noexcept {
  const double q2 = q * q;
  const double lin = c.pnl_scale * dpnl - c.inventory_penalty * q2 * dt_s -
                     c.vol_penalty * q2 * dmid * dmid - c.impact_penalty * traded_units * traded_units;
  if (!c.exponential) return lin;
  return -std::expm1(-c.risk_aversion * lin) / c.risk_aversion;
}

void read_reward_config(ConfigReader& r, RewardConfig& c) {
  c.pnl_scale = r.number("reward.pnl_scale", c.pnl_scale);
  c.inventory_penalty = r.number("reward.inventory_penalty", c.inventory_penalty);
  c.vol_penalty = r.number("reward.vol_penalty", c.vol_penalty);
  c.impact_penalty = r.number("reward.impact_penalty", c.impact_penalty);
  const std::string u = r.string("reward.utility", "linear");
  if (u != "linear" && u != "exponential") {
    throw Error("rl env: reward.utility must be 'linear' or 'exponential', got '" + u + "'");
  }
  c.exponential = u == "exponential";
  c.risk_aversion = r.number("reward.risk_aversion", c.risk_aversion);
  if (!(c.risk_aversion > 0) || !std::isfinite(c.risk_aversion)) throw Error("rl env: reward.risk_aversion must be > 0");
  for (double v : {c.pnl_scale, c.inventory_penalty, c.vol_penalty, c.impact_penalty}) {
    if (!std::isfinite(v) || v < 0) throw Error("rl env: reward weights must be finite and >= 0");
  }
}

void EpisodeAccumulator::add(double r, double q, std::uint64_t fills_step, double volume_step) noexcept {
  reward += r;
  fills += fills_step;
  volume += volume_step;
  ++steps;
  const double d = q - mean;
  mean += d / static_cast<double>(steps);
  m2 += d * (q - mean);
}

EpisodeStats EpisodeAccumulator::finish(double pnl, double q, bool terminated) const noexcept {
  EpisodeStats s;
  s.pnl = pnl;
  s.reward = reward;
  s.steps = steps;
  s.fills = fills;
  s.inventory_mean = mean;
  s.inventory_std = steps > 0 ? std::sqrt(m2 / static_cast<double>(steps)) : 0.0;
  s.final_inventory = q;
  s.volume = volume;
  s.terminated = terminated;
  return s;
}

// ---------------------------------------------------------------------------------------------
// BlockRunner: envs are handed out in chunks from an atomic counter, so a worker that the OS
// schedules late (a busy machine) costs nothing: the calling thread takes the remaining chunks.
// The calling thread only waits for workers that are inside a chunk. Workers sleep on a
// generation counter (C++20 atomic wait: a futex on Linux). All atomics are seq_cst: the
// worker's `active` increment and the caller's `closed` store are ordered so that either the
// worker sees the run closed or the caller sees the worker active.

namespace {
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}
}  // namespace

struct BlockRunner::Impl {
  unsigned threads = 1;
  std::vector<std::thread> workers;
  std::atomic<std::uint64_t> generation{0};
  std::atomic<std::size_t> next{0};
  std::atomic<unsigned> active{0};
  std::atomic<bool> closed{true};
  std::atomic<bool> stop{false};
  std::atomic<bool> sleeping{false};
  static constexpr std::chrono::microseconds kSpin{20};
  void* fn = nullptr;
  Thunk thunk = nullptr;
  std::size_t n = 0, chunk = 1;

  void drain() {
    for (;;) {
      const std::size_t b = next.fetch_add(chunk);
      if (b >= n) return;
      thunk(fn, b, std::min(n, b + chunk));
    }
  }

  void work() {
    std::uint64_t seen = 0;
    for (;;) {
      // Spin up to kSpin (20 µs) before sleeping: back-to-back steps find the worker awake, without a
      // futex wake-up (tens of µs on a busy machine) per step.
      const auto t0 = std::chrono::steady_clock::now();
      for (unsigned k = 1; generation.load() == seen; ++k) {
        cpu_relax();
        if ((k & 63) == 0 && std::chrono::steady_clock::now() - t0 > kSpin) break;
      }
      sleeping.store(true);
      generation.wait(seen);
      sleeping.store(false);
      const std::uint64_t g = generation.load();
      seen = g;
      if (stop.load()) return;
      active.fetch_add(1);
      if (generation.load() == g && !closed.load()) drain();
      if (active.fetch_sub(1) == 1) active.notify_all();
    }
  }
};

BlockRunner::BlockRunner(unsigned threads) : impl_(std::make_unique<Impl>()) {
  impl_->threads = std::max(1u, threads);
  for (unsigned i = 1; i < impl_->threads; ++i) impl_->workers.emplace_back([this] { impl_->work(); });
}

BlockRunner::~BlockRunner() {
  impl_->stop.store(true);
  impl_->generation.fetch_add(1);
  impl_->generation.notify_all();
  for (auto& t : impl_->workers) t.join();
}

unsigned BlockRunner::threads() const noexcept { return impl_->threads; }

void BlockRunner::run_impl(std::size_t n, std::size_t chunk, void* fn, Thunk thunk) {
  Impl& s = *impl_;
  chunk = std::max<std::size_t>(1, chunk);
  if (s.threads <= 1 || n <= chunk) {
    if (n > 0) thunk(fn, 0, n);
    return;
  }
  s.fn = fn;
  s.thunk = thunk;
  s.n = n;
  s.chunk = chunk;
  s.next.store(0);
  s.closed.store(false);
  s.generation.fetch_add(1);
  if (s.sleeping.load()) s.generation.notify_all();
  s.drain();
  s.closed.store(true);
  for (unsigned a = s.active.load(); a != 0; a = s.active.load()) s.active.wait(a);
}

// ---------------------------------------------------------------------------------------------
// ConfigReader

const strategy::ParamValue* ConfigReader::find(std::string_view key) {
  if (std::find(order_.begin(), order_.end(), key) == order_.end()) order_.emplace_back(key);
  const auto it = config_.find(key);
  return it == config_.end() ? nullptr : &it->second;
}

bool ConfigReader::has(std::string_view key) { return find(key) != nullptr; }

double ConfigReader::number(std::string_view key, double def) {
  const strategy::ParamValue* v = find(key);
  if (!v) return def;
  if (const auto* d = std::get_if<double>(v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(v)) return static_cast<double>(*i);
  throw Error(what_ + ": '" + std::string(key) + "' must be a number, got " + type_name(*v));
}

std::int64_t ConfigReader::integer(std::string_view key, std::int64_t def) {
  const strategy::ParamValue* v = find(key);
  if (!v) return def;
  if (const auto* i = std::get_if<std::int64_t>(v)) return *i;
  if (const auto* d = std::get_if<double>(v); d && std::floor(*d) == *d && std::fabs(*d) < 9e15) {
    return static_cast<std::int64_t>(*d);
  }
  throw Error(what_ + ": '" + std::string(key) + "' must be an integer, got " + type_name(*v));
}

bool ConfigReader::boolean(std::string_view key, bool def) {
  const strategy::ParamValue* v = find(key);
  if (!v) return def;
  if (const auto* b = std::get_if<bool>(v)) return *b;
  throw Error(what_ + ": '" + std::string(key) + "' must be a bool, got " + type_name(*v));
}

std::string ConfigReader::string(std::string_view key, std::string_view def) {
  const strategy::ParamValue* v = find(key);
  if (!v) return std::string(def);
  if (const auto* s = std::get_if<std::string>(v)) return *s;
  throw Error(what_ + ": '" + std::string(key) + "' must be a string, got " + type_name(*v));
}

strategy::Params ConfigReader::with_prefix(std::string_view prefix) {
  prefixes_.emplace_back(prefix);
  strategy::Params out;
  for (const auto& [k, v] : config_) {
    if (k.size() > prefix.size() && k.compare(0, prefix.size(), prefix) == 0) out[k.substr(prefix.size())] = v;
  }
  return out;
}

void ConfigReader::finish() const {
  for (const auto& [k, v] : config_) {
    if (std::find(order_.begin(), order_.end(), k) != order_.end()) continue;
    bool prefixed = false;
    for (const std::string& p : prefixes_) prefixed = prefixed || (k.size() > p.size() && k.compare(0, p.size(), p) == 0);
    if (prefixed) continue;
    std::string m = what_ + ": unknown config key '" + k + "'; known keys: ";
    for (std::size_t i = 0; i < order_.size(); ++i) m += (i ? ", " : "") + order_[i];
    for (const std::string& p : prefixes_) m += ", " + p + "*";
    throw Error(m);
  }
}

// ---------------------------------------------------------------------------------------------
// VecEnv

VecEnv::VecEnv(std::string kind, std::size_t n, const Config&, std::uint64_t seed)
    : kind_(std::move(kind)), n_(n), seed_(seed), runner_(std::make_unique<BlockRunner>(2)) {
  if (n == 0) throw Error("rl env: num_envs must be >= 1");
}

VecEnv::~VecEnv() = default;

std::uint64_t VecEnv::env_seed(std::size_t i, std::uint64_t episode) const noexcept {
  return splitmix64(splitmix64(splitmix64(seed_) ^ static_cast<std::uint64_t>(i)) + episode);
}

namespace {
void obs_bound(const std::string& name, float& lo, float& hi) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  lo = -inf;
  hi = inf;
  if (name == "time_remaining" || name == "bid_queue_position" || name == "ask_queue_position" || name == "regime") {
    lo = 0.0f;
    hi = 1.0f;
  } else if (name == "book_imbalance") {
    lo = -1.0f;
    hi = 1.0f;
  } else if (name == "spread" || name == "volatility" || name == "regime_sigma" || name == "regime_A" ||
             name == "regime_k") {
    lo = 0.0f;
  }
}
}  // namespace

std::vector<float> VecEnv::obs_low() const {
  std::vector<float> v(obs_dim());
  float hi;
  for (std::size_t j = 0; j < v.size(); ++j) obs_bound(obs_names_[j], v[j], hi);
  return v;
}

std::vector<float> VecEnv::obs_high() const {
  std::vector<float> v(obs_dim());
  float lo;
  for (std::size_t j = 0; j < v.size(); ++j) obs_bound(obs_names_[j], lo, v[j]);
  return v;
}

void VecEnv::set_threads(unsigned threads) { runner_ = std::make_unique<BlockRunner>(std::max(1u, threads)); }

void VecEnv::reset(std::optional<std::uint64_t> seed) {
  if (seed) seed_ = *seed;
  std::fill(reward_.begin(), reward_.end(), 0.0);
  std::fill(terminated_.begin(), terminated_.end(), 0);
  std::fill(truncated_.begin(), truncated_.end(), 0);
  run_guarded([this](std::size_t b, std::size_t e) { reset_block(b, e); });
}

void VecEnv::step(const float* actions) {
  const std::size_t ad = action_dim();
  for (std::size_t i = 0; i < n_; ++i) {
    for (std::size_t j = 0; j < ad; ++j) {
      const float a = actions[i * ad + j];
      // NaN actions become the lower bound (a NaN never reaches the simulation).
      clipped_[i * ad + j] = a >= low_[j] ? (a <= high_[j] ? a : high_[j]) : low_[j];
    }
  }
  const float* a = clipped_.data();
  run_guarded([this, a](std::size_t b, std::size_t e) { step_block(a, b, e); });
}

template <class F>
void VecEnv::run_guarded(F&& fn) {
  std::exception_ptr error;
  std::mutex m;
  runner_->run(n_, chunk_envs(), [&](std::size_t b, std::size_t e) {
    try {
      fn(b, e);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(m);
      if (!error) error = std::current_exception();
    }
  });
  if (error) std::rethrow_exception(error);
}

void VecEnv::optimal_action(float*) const {
  throw Error("rl env: optimal_action() is available for the 'model' kind only (this env is '" + kind_ + "')");
}

std::vector<std::string> config_keys(const std::string& kind) {
  if (kind == "model") return model_market_config_keys();
  if (kind == "synthetic" || kind == "replay") return lob_env_config_keys(kind);
  throw Error("rl env: unknown kind '" + kind + "' (accepted: model, synthetic, replay)");
}

std::unique_ptr<VecEnv> make_vec_env(const std::string& kind, std::size_t num_envs, const Config& config,
                                     std::uint64_t seed) {
  if (kind == "model") return make_model_market(num_envs, config, seed);
  if (kind == "synthetic" || kind == "replay") return make_lob_env(kind, num_envs, config, seed);
  throw Error("rl env: unknown kind '" + kind + "' (accepted: model, synthetic, replay)");
}

}  // namespace mmkit::rl
