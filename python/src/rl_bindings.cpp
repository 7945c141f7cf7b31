// nanobind bindings of the batched RL environments (include/mmkit/rl/vec_env.h):
// mmkit._core.VecMarketEnv, rl_config_keys and rl_policy_act. Contract:
// docs/rl.md. Every array returned is a fresh copy owned by Python (safe to keep across steps).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config_parsing.h"
#include "mmkit/core/error.h"
#include "mmkit/rl/lob_env.h"
#include "mmkit/rl/policy.h"
#include "mmkit/rl/vec_env.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace mmkit::python {
namespace {

using rl::Config;
using rl::VecEnv;

/// Nested dicts become dotted keys ({"reward": {"pnl_scale": 2}} -> "reward.pnl_scale").
void flatten(const nb::dict& d, const std::string& prefix, Config& out) {
  for (auto [k, v] : d) {
    if (!nb::isinstance<nb::str>(k)) throw Error("rl env config: keys must be strings");
    const std::string key = prefix + nb::cast<std::string>(k);
    if (nb::isinstance<nb::dict>(v)) {
      flatten(nb::borrow<nb::dict>(v), key + ".", out);
    } else if (nb::isinstance<nb::bool_>(v)) {
      out[key] = nb::cast<bool>(v);
    } else if (nb::isinstance<nb::int_>(v)) {
      out[key] = nb::cast<std::int64_t>(v);
    } else if (nb::isinstance<nb::float_>(v)) {
      out[key] = nb::cast<double>(v);
    } else if (nb::isinstance<nb::str>(v)) {
      out[key] = nb::cast<std::string>(v);
    } else if (v.is_none()) {
      continue;  // None = default
    } else {
      throw Error("rl env config: '" + key + "' must be a bool, int, float, str or a table, got " +
                  nb::cast<std::string>(nb::str(v.type())));
    }
  }
}

template <class T>
nb::ndarray<nb::numpy, T> array_copy(const T* data, std::size_t rows, std::size_t cols) {
  auto* owned = new std::vector<T>(data, data + rows * (cols ? cols : 1));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  if (cols == 0) {
    const std::size_t shape[1] = {rows};
    return nb::ndarray<nb::numpy, T>(owned->data(), 1, shape, owner);
  }
  const std::size_t shape[2] = {rows, cols};
  return nb::ndarray<nb::numpy, T>(owned->data(), 2, shape, owner);
}

nb::ndarray<nb::numpy, bool> bool_copy(const std::uint8_t* data, std::size_t n) {
  auto* owned = new std::vector<std::uint8_t>(data, data + n);
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<std::uint8_t>*>(p); });
  const std::size_t shape[1] = {n};
  return nb::ndarray<nb::numpy, bool>(reinterpret_cast<bool*>(owned->data()), 1, shape, owner);
}

// Keys of the synthetic table that are the env's own, not the market's.
bool env_synthetic_key(const std::string& k) { return k == "switch_rate" || k == "feed_latency_ms"; }

class PyVecEnv {
 public:
  /// kind "synthetic": the market keys — a nested "synthetic" table and/or flat "synthetic.KEY"
  /// keys (as mmkit.rl flattens them) — are parsed by `mmkit backtest`'s [synthetic] parser
  /// (config_parsing.h; lists such as limit_rates, cancel_rates, regimes work), with the env's
  /// default preset "cst2010" when none is given; synthetic.switch_rate and feed_latency_ms stay
  /// env keys.
  PyVecEnv(const std::string& kind, std::size_t num_envs, const nb::dict& config, std::uint64_t seed) {
    Config c;
    if (kind != "synthetic") {
      flatten(config, "", c);
      env_ = rl::make_vec_env(kind, num_envs, c, seed);
      return;
    }
    nb::dict rest, table;
    const auto take = [&](const std::string& k, nb::handle v) {
      if (v.is_none()) return;
      if (env_synthetic_key(k)) {
        rest[("synthetic." + k).c_str()] = v;
      } else {
        if (table.contains(k.c_str())) throw Error("rl env config: synthetic market key '" + k + "' given twice");
        table[k.c_str()] = v;
      }
    };
    for (auto [k, v] : config) {
      if (!nb::isinstance<nb::str>(k)) throw Error("rl env config: keys must be strings");
      const std::string key = nb::cast<std::string>(k);
      if (key == "synthetic" && nb::isinstance<nb::dict>(v)) {
        for (auto [k2, v2] : nb::borrow<nb::dict>(v)) take(nb::cast<std::string>(nb::str(k2)), v2);
      } else if (key.rfind("synthetic.", 0) == 0) {
        take(key.substr(10), v);
      } else {
        rest[k] = v;
      }
    }
    flatten(rest, "", c);
    if (table.size() == 0) {
      env_ = rl::make_vec_env(kind, num_envs, c, seed);
      return;
    }
    if (!table.contains("preset")) table["preset"] = "cst2010";
    const sim::SyntheticMarketConfig market = backtest_synthetic_config(table);
    env_ = rl::make_lob_env(kind, num_envs, c, seed, market);
  }
  VecEnv& env() { return *env_; }
  std::size_t n() const { return env_->num_envs(); }
  std::size_t od() const { return env_->obs_dim(); }

  nb::object reset(std::optional<std::uint64_t> seed) {
    {
      nb::gil_scoped_release r;
      env_->reset(seed);
    }
    return nb::cast(array_copy(env_->obs(), n(), od()));
  }

  nb::tuple step(nb::ndarray<const float, nb::ndim<2>, nb::c_contig, nb::device::cpu> actions) {
    if (actions.shape(0) != n() || actions.shape(1) != env_->action_dim()) {
      throw Error("VecMarketEnv.step: actions must have shape (" + std::to_string(n()) + ", " +
                  std::to_string(env_->action_dim()) + "), got (" + std::to_string(actions.shape(0)) + ", " +
                  std::to_string(actions.shape(1)) + ")");
    }
    {
      nb::gil_scoped_release r;
      env_->step(actions.data());
    }
    return nb::make_tuple(array_copy(env_->obs(), n(), od()), array_copy(env_->reward(), n(), 0),
                          bool_copy(env_->terminated(), n()), bool_copy(env_->truncated(), n()));
  }

  nb::dict episode_stats() const {
    const auto& s = env_->episode_stats();
    std::vector<double> pnl, reward, inv_mean, inv_std, final_inv, volume;
    std::vector<std::int64_t> steps, fills;
    std::vector<std::uint8_t> term;
    for (const auto& e : s) {
      pnl.push_back(e.pnl);
      reward.push_back(e.reward);
      inv_mean.push_back(e.inventory_mean);
      inv_std.push_back(e.inventory_std);
      final_inv.push_back(e.final_inventory);
      volume.push_back(e.volume);
      steps.push_back(static_cast<std::int64_t>(e.steps));
      fills.push_back(static_cast<std::int64_t>(e.fills));
      term.push_back(e.terminated ? 1 : 0);
    }
    nb::dict d;
    d["pnl"] = array_copy(pnl.data(), pnl.size(), 0);
    d["reward"] = array_copy(reward.data(), reward.size(), 0);
    d["steps"] = array_copy(steps.data(), steps.size(), 0);
    d["fills"] = array_copy(fills.data(), fills.size(), 0);
    d["inventory_mean"] = array_copy(inv_mean.data(), inv_mean.size(), 0);
    d["inventory_std"] = array_copy(inv_std.data(), inv_std.size(), 0);
    d["final_inventory"] = array_copy(final_inv.data(), final_inv.size(), 0);
    d["volume"] = array_copy(volume.data(), volume.size(), 0);
    d["terminated"] = bool_copy(term.data(), term.size());
    return d;
  }

 private:
  std::unique_ptr<VecEnv> env_;
};

}  // namespace

void bind_rl(nb::module_& m) {
  nb::class_<PyVecEnv>(m, "VecMarketEnv",
                       "N market-making environments stepped together in C++ (docs/rl.md). Arrays returned "
                       "are fresh copies. kind 'synthetic': the market keys (a 'synthetic' table or "
                       "'synthetic.KEY' keys, lists included) are parsed by mmkit backtest's [synthetic] "
                       "parser (default preset 'cst2010').")
      .def(nb::init<const std::string&, std::size_t, const nb::dict&, std::uint64_t>(), "kind"_a, "num_envs"_a,
           "config"_a, "seed"_a)
      .def_prop_ro("kind", [](PyVecEnv& e) { return e.env().kind(); }, "Market kind: 'model', 'synthetic' or 'replay'.")
      .def_prop_ro("num_envs", [](PyVecEnv& e) { return e.env().num_envs(); }, "N, the number of environments stepped per call.")
      .def_prop_ro("obs_dim", [](PyVecEnv& e) { return e.env().obs_dim(); }, "Length of one observation (docs/rl.md, Observation).")
      .def_prop_ro("action_dim", [](PyVecEnv& e) { return e.env().action_dim(); }, "Length of one action: 3 (multiplier mode) or 4 (direct mode).")
      .def_prop_ro("obs_names", [](PyVecEnv& e) { return e.env().obs_names(); }, "Names of the observation columns, in order.")
      .def_prop_ro("action_names", [](PyVecEnv& e) { return e.env().action_names(); }, "Names of the action columns, in order.")
      .def_prop_ro("action_mode", [](PyVecEnv& e) { return std::string(rl::to_string(e.env().action_mode())); }, "'multiplier' ([spread_mult, size_mult, skew] on the base quote) or 'direct' ([bid offset ticks, ask offset ticks, bid size, ask size]).")
      .def_prop_ro("base", [](PyVecEnv& e) { return std::string(rl::to_string(e.env().base())); }, "Base quote of the multiplier mode: 'avellaneda-stoikov' or 'glft'.")
      .def_prop_ro("action_low", [](PyVecEnv& e) {
        return nb::cast(array_copy(e.env().action_low().data(), e.env().action_dim(), 0));
      }, "Lower action bounds, float32 (action_dim,) (a copy).")
      .def_prop_ro("action_high", [](PyVecEnv& e) {
        return nb::cast(array_copy(e.env().action_high().data(), e.env().action_dim(), 0));
      }, "Upper action bounds, float32 (action_dim,) (a copy).")
      .def_prop_ro("obs_low", [](PyVecEnv& e) {
        const auto v = e.env().obs_low();
        return nb::cast(array_copy(v.data(), v.size(), 0));
      }, "Lower observation bounds, float32 (obs_dim,) (-inf where unbounded).")
      .def_prop_ro("obs_high", [](PyVecEnv& e) {
        const auto v = e.env().obs_high();
        return nb::cast(array_copy(v.data(), v.size(), 0));
      }, "Upper observation bounds, float32 (obs_dim,) (+inf where unbounded).")
      .def_prop_ro("obs_config", [](PyVecEnv& e) {
        nb::dict d;
        for (const auto& [k, v] : e.env().obs_config()) d[k.c_str()] = v;
        return d;
      }, "The observation's normalization scales (name -> value), as written into exported policy files.")
      .def("reset", &PyVecEnv::reset, "seed"_a = nb::none(),
           "Resets every env; returns obs float32 (N, obs_dim).")
      .def("step", &PyVecEnv::step, "actions"_a,
           "actions float32 (N, action_dim) C-contiguous -> (obs float32 (N, obs_dim), reward float64 (N,), "
           "terminated bool (N,), truncated bool (N,)); ended envs are auto-reset.")
      .def_prop_ro("final_obs", [](PyVecEnv& e) {
        return nb::cast(array_copy(e.env().final_obs(), e.n(), e.od()));
      }, "float32 (N, obs_dim): the last observation of the episodes that ended at the last step (rows valid where terminated or truncated).")
      .def("episode_stats", &PyVecEnv::episode_stats, "dict of 1-D arrays (N,) describing each env's last finished episode (PnL in quote currency, steps, fills, inventory std, ...; docs/rl.md).")
      .def("set_regime", [](PyVecEnv& e, const std::string& r) { e.env().set_regime(rl::parse_regime(r)); },
           "regime"_a, "Volatility regime ('low', 'medium', 'high', 'switching') applied at each env's next reset (curricula). Raises mmkit.Error for another name.")
      .def_prop_ro("regime", [](PyVecEnv& e) { return std::string(rl::to_string(e.env().regime())); }, "The regime set by set_regime (or the config).")
      .def_prop_rw(
          "threads", [](PyVecEnv& e) { return e.env().threads(); },
          [](PyVecEnv& e, unsigned t) { e.env().set_threads(t); },
          "Worker threads of step() (results do not depend on it).")
      .def("optimal_action", [](PyVecEnv& e) {
        std::vector<float> a(e.n() * e.env().action_dim());
        e.env().optimal_action(a.data());
        return nb::cast(array_copy(a.data(), e.n(), e.env().action_dim()));
      }, "Model kind only: float32 (N, action_dim), the classic (Avellaneda-Stoikov closed-form) policy's action in the current state. Raises mmkit.Error for other kinds.");
  m.def(
      "rl_policy_act",
      [](const std::string& path, nb::ndarray<const float, nb::ndim<2>, nb::c_contig, nb::device::cpu> obs) {
        const rl::PolicyFile p = rl::load_policy_file(path);
        if (obs.shape(1) != p.obs_names.size()) {
          throw Error("rl_policy_act: obs must have " + std::to_string(p.obs_names.size()) + " columns, got " +
                      std::to_string(obs.shape(1)));
        }
        const std::size_t m = obs.shape(0), od = obs.shape(1), ad = p.action_low.size();
        std::vector<float> out(m * ad);
        for (std::size_t i = 0; i < m; ++i) rl::policy_action(p, obs.data() + i * od, out.data() + i * ad);
        return nb::cast(array_copy(out.data(), m, ad));
      },
      "path"_a, "obs"_a,
      "Actions float32 (M, action_dim) of a mmkit-mlp-v1 weights file for obs float32 (M, obs_dim): the rl-policy "
      "strategy's own code (MLP, deterministic mean, clipped).");
  m.def("rl_config_keys", &rl::config_keys, "kind"_a, "Config keys a VecMarketEnv kind accepts (dotted).");
}

}  // namespace mmkit::python
