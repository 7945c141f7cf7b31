"""stable-baselines3 ``VecEnv`` adapter over the batched C++ environment, and the curriculum callback.

SB3 conventions followed (stable_baselines3.common.vec_env.base_vec_env):
- ``step_wait`` returns (obs, rewards float32, dones bool, infos list of dicts); an environment whose
  episode ended is already reset (obs = the new episode's first observation), its last observation
  is ``infos[i]["terminal_observation"]`` and ``infos[i]["TimeLimit.truncated"]`` is True when the
  episode was cut by the step budget rather than terminated (SB3 then bootstraps the value).
- ``infos[i]["episode"] = {"r", "l", "t"}`` at the end of an episode (what SB3's Monitor writes; PPO
  logs rollout/ep_rew_mean from it) and ``infos[i]["episode_stats"]`` the C++ episode statistics.
- ``seed(s)`` stores seeds s, s+1, ... used at the next ``reset()`` (the C++ side derives environment
  i's stream from s); ``set_options({"regime": ...})`` likewise applies at the next reset.
"""
from __future__ import annotations

import copy
import time
from typing import Any, Iterable, Optional, Sequence

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv

from mmkit.rl.envs import _seed_of, episode_stats_row, make_core, spaces_of

REGIMES = ("low", "medium", "high", "switching")


class SB3VecMarketEnv(VecEnv):
    """N environments of one market kind as an SB3 ``VecEnv``: one C++ call per batch step."""

    def __init__(self, kind: str = "model", num_envs: int = 8, config: Optional[dict] = None, seed: int = 0):
        self.kind = kind
        self.config = copy.deepcopy(config or {})
        self.core = make_core(kind, num_envs, self.config, seed)
        self.render_mode = None
        obs_space, act_space = spaces_of(self.core)
        super().__init__(int(self.core.num_envs), obs_space, act_space)
        self.obs_names = list(self.core.obs_names)
        self.action_names = list(self.core.action_names)
        self._actions: Optional[np.ndarray] = None
        self._ret = np.zeros(self.num_envs)
        self._len = np.zeros(self.num_envs, dtype=np.int64)
        self._t0 = time.perf_counter()

    # -- VecEnv API
    def reset(self):
        opts = self._options[0] if self._options else {}
        if opts and "regime" in opts:
            self.set_regime(str(opts["regime"]))
        obs = self.core.reset(_seed_of(self._seeds))
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        self._ret[:] = 0.0
        self._len[:] = 0
        return np.array(obs, dtype=np.float32)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.ascontiguousarray(actions, dtype=np.float32).reshape(self.num_envs, -1)

    def step_wait(self):
        obs, rew, term, trunc = self.core.step(self._actions)
        rew = np.asarray(rew, dtype=np.float64)
        term = np.asarray(term, dtype=bool)
        trunc = np.asarray(trunc, dtype=bool)
        self._ret += rew
        self._len += 1
        dones = term | trunc
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if dones.any():
            final = np.array(self.core.final_obs, dtype=np.float32)
            stats = self.core.episode_stats()
            t = round(time.perf_counter() - self._t0, 6)
            for i in np.flatnonzero(dones):
                infos[i] = {
                    "terminal_observation": final[i],
                    "TimeLimit.truncated": bool(trunc[i] and not term[i]),
                    "episode": {"r": float(self._ret[i]), "l": int(self._len[i]), "t": t},
                    "episode_stats": episode_stats_row(stats, int(i)),
                }
            self._ret[dones] = 0.0
            self._len[dones] = 0
        return np.array(obs, dtype=np.float32), rew.astype(np.float32), dones, infos

    def close(self) -> None:
        self.core = None

    def seed(self, seed: Optional[int] = None) -> Sequence[Optional[int]]:
        return super().seed(seed)

    def _indices(self, indices) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        if isinstance(indices, int):
            return [indices]
        return list(indices)

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        """The same attribute for every environment: this adapter's (render_mode, kind, config,
        obs_names...) or else the C++ environment's (obs_dim, action_low, regime, threads...)."""
        if hasattr(self, attr_name) and attr_name not in ("core",):
            value = getattr(self, attr_name)
        elif hasattr(self.core, attr_name):
            value = getattr(self.core, attr_name)
        else:
            raise AttributeError(f"'{type(self).__name__}' environments have no attribute '{attr_name}'")
        return [value for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        if attr_name == "regime":
            self.set_regime(value)
            return
        raise AttributeError(f"attribute '{attr_name}' cannot be set on the C++ environments "
                             "(only 'regime')")

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list[Any]:
        """Methods are batch-wide in the C++ environment: ``set_regime`` applies to all environments
        (indices must then be all of them), ``optimal_action`` / ``episode_stats`` return the rows of
        ``indices``."""
        idx = self._indices(indices)
        if method_name == "set_regime":
            if sorted(idx) != list(range(self.num_envs)):
                raise ValueError("set_regime applies to all environments of the C++ batch")
            self.set_regime(*method_args, **method_kwargs)
            return [None for _ in idx]
        if method_name == "optimal_action":
            a = np.array(self.core.optimal_action(), dtype=np.float32)
            return [a[i] for i in idx]
        if method_name == "episode_stats":
            stats = self.core.episode_stats()
            return [episode_stats_row(stats, i) for i in idx]
        raise AttributeError(f"unknown environment method '{method_name}' "
                             "(known: set_regime, optimal_action, episode_stats)")

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return [False for _ in self._indices(indices)]

    def get_images(self) -> Sequence[Optional[np.ndarray]]:
        return [None for _ in range(self.num_envs)]

    # -- mmkit
    def set_regime(self, regime: str) -> None:
        """Volatility regime (low, medium, high, switching) from each environment's next reset on."""
        self.core.set_regime(str(regime))


def curriculum_schedule(phases: Iterable[dict], total_steps: int) -> list[tuple[int, str]]:
    """Phase list -> [(start env-step, regime), ...] sorted by start. Each phase is
    ``{"regime": R, "steps": N}`` (absolute env-steps) or ``{"regime": R, "fraction": f}`` (of
    ``total_steps``); phases follow one another, the last one runs to the end of training."""
    out: list[tuple[int, str]] = []
    start = 0
    for p in phases:
        regime = p.get("regime")
        if regime not in REGIMES:
            raise ValueError(f"curriculum phase regime '{regime}' unknown (known: {', '.join(REGIMES)})")
        if ("steps" in p) == ("fraction" in p):
            raise ValueError(f"curriculum phase {p}: give exactly one of 'steps' or 'fraction'")
        n = int(p["steps"]) if "steps" in p else int(round(float(p["fraction"]) * total_steps))
        if n < 0:
            raise ValueError(f"curriculum phase {p}: negative length")
        out.append((start, regime))
        start += n
    return out


class CurriculumCallback(BaseCallback):
    """Calls ``set_regime`` on the training VecEnv when the env-step count crosses a phase start
    (the regime applies from each environment's next reset, so a phase boundary takes at most one
    episode to reach every environment). ``history`` records (env-step, regime)."""

    def __init__(self, schedule: list[tuple[int, str]], verbose: int = 0):
        super().__init__(verbose)
        self.schedule = sorted(schedule)
        self.history: list[tuple[int, str]] = []
        self._next = 0

    def _apply(self) -> None:
        while self._next < len(self.schedule) and self.num_timesteps >= self.schedule[self._next][0]:
            regime = self.schedule[self._next][1]
            self.training_env.env_method("set_regime", regime)
            self.history.append((int(self.num_timesteps), regime))
            self.logger.record("curriculum/phase", self._next)
            if self.verbose:
                print(f"curriculum: env-step {self.num_timesteps:,}: regime {regime}")
            self._next += 1

    def _on_training_start(self) -> None:
        self._apply()

    def _on_step(self) -> bool:
        self._apply()
        return True
