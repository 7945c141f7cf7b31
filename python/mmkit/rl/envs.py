"""Gymnasium environments over the batched C++ market environment ``mmkit._core.VecMarketEnv``.

Every market step runs in C++: :class:`MarketMakingEnv` is one environment (``num_envs=1``) and
:class:`MarketVectorEnv` is N environments stepped by one C++ call per batch step. Python only
reshapes arrays and builds the info dicts the Gymnasium API requires.

Markets (``kind``), observation, actions and reward are the C++ side's (docs/rl.md):

    kind = "model"      Avellaneda-Stoikov style: mid diffusion, fills by intensity A exp(-k delta)
    kind = "synthetic"  the engine's synthetic order-book market, one Engine per environment
    kind = "replay"     a real data file (config key "path"); an episode is a random window

Episode end: ``terminated`` when the C++ environment ends the episode itself (e.g. a risk limit),
``truncated`` when the episode's step budget (``episode_steps``) runs out.
"""
from __future__ import annotations

import copy
from typing import Any, Optional

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from mmkit import _core

KINDS = ("model", "synthetic", "replay")


def flatten(d: dict, prefix: str = "") -> dict:
    """Nested tables -> the C++ environment's flat keys joined with dots ({"reward": {"pnl_scale": 1}}
    -> {"reward.pnl_scale": 1}); lists and scalars are kept."""
    out: dict = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def make_core(kind: str, num_envs: int = 1, config: Optional[dict] = None, seed: int = 0):
    """The C++ batched environment (``mmkit._core.VecMarketEnv``); nested config tables are
    flattened to dotted keys (:func:`flatten`). Raises :class:`mmkit.Error` for
    an unknown kind or config key (the message lists the known ones)."""
    if kind not in KINDS:
        raise _core.Error(f"unknown RL market kind '{kind}' (known: {', '.join(KINDS)})")
    return _core.VecMarketEnv(kind, int(num_envs), flatten(copy.deepcopy(config or {})), int(seed))


def spaces_of(core) -> tuple[spaces.Box, spaces.Box]:
    """(observation space, action space) of ONE environment of ``core``: Boxes with the C++ bounds
    (observation bounds from ``obs_low``/``obs_high`` when the binding exposes them, else ±inf)."""
    low = getattr(core, "obs_low", None)
    high = getattr(core, "obs_high", None)
    if low is None or high is None:
        low = np.full(core.obs_dim, -np.inf, dtype=np.float32)
        high = np.full(core.obs_dim, np.inf, dtype=np.float32)
    obs_space = spaces.Box(np.asarray(low, np.float32), np.asarray(high, np.float32), dtype=np.float32)
    act_space = spaces.Box(np.asarray(core.action_low, np.float32), np.asarray(core.action_high, np.float32),
                           dtype=np.float32)
    return obs_space, act_space


def episode_stats_row(stats: dict, i: int) -> dict:
    """Episode statistics of environment ``i`` as plain Python numbers."""
    return {k: np.asarray(v)[i].item() for k, v in stats.items()}


def _seed_of(seed) -> Optional[int]:
    if seed is None:
        return None
    if isinstance(seed, (list, tuple, np.ndarray)):
        seeds = [s for s in seed]
        if not seeds or seeds[0] is None:
            return None
        base = int(seeds[0])
        if any(s is None or int(s) != base + i for i, s in enumerate(seeds)):
            raise ValueError("per-environment seeds must be consecutive (seed, seed + 1, ...): the C++ "
                             "environment derives environment i's stream from one seed")
        return base
    return int(seed)


class MarketMakingEnv(gym.Env):
    """One market-making environment (Gymnasium ``Env``) over ``VecMarketEnv(num_envs=1)``.

    ``reset(seed=s)`` reseeds the C++ environment (same seed, same actions -> same trajectory);
    ``reset()`` without a seed continues its random stream. ``options={"regime": "high"}`` sets the
    volatility regime before the reset. At the end of an episode, ``info["episode_stats"]`` holds
    the C++ episode statistics (pnl, steps, fills, inventory_std, ...) and ``info["episode"]`` the
    return ``r`` (sum of rewards) and length ``l``.
    """

    metadata = {"render_modes": []}

    def __init__(self, kind: str = "model", config: Optional[dict] = None, seed: int = 0,
                 render_mode: Optional[str] = None):
        if render_mode is not None:
            raise ValueError("MarketMakingEnv has no render modes")
        self.render_mode = None
        self.kind = kind
        self.config = copy.deepcopy(config or {})
        self.core = make_core(kind, 1, self.config, seed)
        self.observation_space, self.action_space = spaces_of(self.core)
        self.obs_names = list(self.core.obs_names)
        self.action_names = list(self.core.action_names)
        self._act = np.zeros((1, self.core.action_dim), dtype=np.float32)
        self._ret = 0.0
        self._len = 0
        self._needs_reset = True

    def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None):
        super().reset(seed=seed)
        if options and "regime" in options:
            self.core.set_regime(str(options["regime"]))
        obs = self.core.reset(seed)
        self._ret, self._len, self._needs_reset = 0.0, 0, False
        return np.array(obs[0], dtype=np.float32), {}

    def step(self, action):
        if self._needs_reset:
            raise RuntimeError("step() called before reset() or after the episode ended")
        self._act[0] = np.asarray(action, dtype=np.float32).reshape(-1)
        obs, rew, term, trunc = self.core.step(self._act)
        r = float(rew[0])
        self._ret += r
        self._len += 1
        terminated, truncated = bool(term[0]), bool(trunc[0])
        info: dict[str, Any] = {}
        if terminated or truncated:
            # The C++ side has already started the next episode; the episode's last observation is final_obs.
            out = np.array(self.core.final_obs[0], dtype=np.float32)
            info["episode_stats"] = episode_stats_row(self.core.episode_stats(), 0)
            info["episode"] = {"r": self._ret, "l": self._len}
            self._needs_reset = True
        else:
            out = np.array(obs[0], dtype=np.float32)
        return out, r, terminated, truncated, info

    def set_regime(self, regime: str) -> None:
        """Volatility regime (low, medium, high, switching) from the next reset on."""
        self.core.set_regime(regime)


class MarketVectorEnv(gym.vector.VectorEnv):
    """N market-making environments stepped by ONE C++ call per batch step (Gymnasium 1.x
    ``VectorEnv``, autoreset mode ``SAME_STEP``: an environment whose episode ends is reset inside
    the same ``step``; the returned observation is the new episode's first, the episode's last one
    is ``info["final_obs"][i]`` (mask ``info["_final_obs"]``) and its statistics
    ``info["final_info"]`` (arrays over environments, mask ``info["_final_info"]``)."""

    metadata = {"render_modes": [], "autoreset_mode": gym.vector.AutoresetMode.SAME_STEP}

    def __init__(self, kind: str = "model", num_envs: int = 8, config: Optional[dict] = None, seed: int = 0):
        self.kind = kind
        self.config = copy.deepcopy(config or {})
        self.core = make_core(kind, num_envs, self.config, seed)
        self.num_envs = int(self.core.num_envs)
        self.single_observation_space, self.single_action_space = spaces_of(self.core)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, self.num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, self.num_envs)
        self.render_mode = None
        self.obs_names = list(self.core.obs_names)
        self.action_names = list(self.core.action_names)
        self._ret = np.zeros(self.num_envs)
        self._len = np.zeros(self.num_envs, dtype=np.int64)

    def reset(self, *, seed=None, options: Optional[dict] = None):
        if options and "regime" in options:
            self.core.set_regime(str(options["regime"]))
        s = _seed_of(seed)
        if s is not None:
            self._np_random, self._np_random_seed = gym.utils.seeding.np_random(s)
        obs = self.core.reset(s)
        self._ret[:] = 0.0
        self._len[:] = 0
        return np.array(obs, dtype=np.float32), {}

    def step(self, actions):
        a = np.ascontiguousarray(actions, dtype=np.float32).reshape(self.num_envs, -1)
        obs, rew, term, trunc = self.core.step(a)
        rew = np.asarray(rew, dtype=np.float64)
        term = np.asarray(term, dtype=bool)
        trunc = np.asarray(trunc, dtype=bool)
        self._ret += rew
        self._len += 1
        done = term | trunc
        info: dict[str, Any] = {}
        if done.any():
            stats = self.core.episode_stats()
            final = {k: np.where(done, np.asarray(v), np.zeros_like(np.asarray(v))) for k, v in stats.items()}
            final["episode"] = {"r": np.where(done, self._ret, 0.0), "l": np.where(done, self._len, 0),
                                "_r": done.copy(), "_l": done.copy()}
            info["final_obs"] = np.array(self.core.final_obs, dtype=np.float32)
            info["_final_obs"] = done.copy()
            info["final_info"] = final
            info["_final_info"] = done.copy()
            self._ret[done] = 0.0
            self._len[done] = 0
        return np.array(obs, dtype=np.float32), rew, term, trunc, info

    def set_regime(self, regime: str) -> None:
        """Volatility regime of every environment from its next reset on."""
        self.core.set_regime(regime)

    def close_extras(self, **kwargs) -> None:
        self.core = None
