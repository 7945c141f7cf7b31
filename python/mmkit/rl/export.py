"""Export of an SB3 PPO policy to the JSON weights file read by the C++ "rl-policy" strategy.

Format "mmkit-mlp-v1" (docs/rl.md, /work/notes/rl_contract.md):

    {"format": "mmkit-mlp-v1", "activation": "tanh", "obs_names": [...], "action_names": [...],
     "action_mode": "multiplier"|"direct", "base": "avellaneda-stoikov"|"glft",
     "action_low": [...], "action_high": [...], "obs_config": {...}, "kind": ..., "env_config": {...},
     "layers": [{"weight": [[...]] (out x in), "bias": [...]}, ...]}

Evaluation: x = obs (float32, as the environment returns it: no VecNormalize); for every layer but
the last x = tanh(W x + b); the last layer gives the Gaussian mean, the deterministic action, which
is clipped to [action_low, action_high] -- exactly SB3's ``predict(obs, deterministic=True)`` for a
Box action space (``squash_output=False``). The policy must be PPO's ``MlpPolicy`` with a flatten
feature extractor, a Tanh activation and a DiagGaussian action distribution.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import numpy as np


def policy_layers(model) -> list[dict[str, Any]]:
    """The actor's Linear layers (hidden layers of ``mlp_extractor.policy_net`` then ``action_net``)
    as {"weight": out x in, "bias": out} float lists; checks the network is what the format assumes."""
    import torch
    from stable_baselines3.common.distributions import DiagGaussianDistribution
    from stable_baselines3.common.torch_layers import FlattenExtractor

    policy = model.policy
    if not isinstance(policy.action_dist, DiagGaussianDistribution):
        raise ValueError(f"export needs a DiagGaussian (Box action) policy, got {type(policy.action_dist).__name__}")
    if getattr(policy, "squash_output", False):
        raise ValueError("export does not support squash_output=True (gSDE) policies")
    if not isinstance(policy.pi_features_extractor, FlattenExtractor):
        raise ValueError("export needs the default FlattenExtractor")
    if getattr(policy, "normalize_images", False) and len(policy.observation_space.shape) == 3:
        raise ValueError("image observations are not supported")
    layers = []
    for mod in policy.mlp_extractor.policy_net:
        if isinstance(mod, torch.nn.Linear):
            layers.append(mod)
        elif not isinstance(mod, torch.nn.Tanh):
            raise ValueError(f"export supports Linear + Tanh policy networks, found {type(mod).__name__}")
    layers.append(policy.action_net)
    out = []
    for lin in layers:
        out.append({"weight": lin.weight.detach().cpu().double().numpy().tolist(),
                    "bias": lin.bias.detach().cpu().double().numpy().tolist()})
    return out


def export_policy(model, path, env=None, *, kind: Optional[str] = None, env_config: Optional[dict] = None) -> dict:
    """Writes ``model``'s deterministic actor to ``path`` (JSON "mmkit-mlp-v1") and returns the dict.

    ``env``: the training environment (an :class:`mmkit.rl.SB3VecMarketEnv`, :class:`MarketVectorEnv`
    or :class:`MarketMakingEnv`) for obs/action names and the market config; without it they come
    from ``kind``/``env_config`` and the model's spaces only."""
    core = getattr(env, "core", None)
    kind = kind or getattr(env, "kind", None)
    env_config = dict(env_config if env_config is not None else getattr(env, "config", {}) or {})
    space = model.policy.action_space
    doc = {
        "format": "mmkit-mlp-v1",
        "activation": "tanh",
        "obs_names": list(core.obs_names) if core is not None else [],
        "action_names": list(core.action_names) if core is not None else [],
        "action_mode": env_config.get("action_mode", "multiplier"),
        "base": env_config.get("base", "avellaneda-stoikov"),
        "action_low": np.asarray(space.low, np.float64).tolist(),
        "action_high": np.asarray(space.high, np.float64).tolist(),
        "obs_config": obs_config(core, env_config),
        "kind": kind,
        "env_config": env_config,
        "layers": policy_layers(model),
    }
    try:
        import stable_baselines3
        import torch
        doc["sb3"] = {"stable_baselines3": stable_baselines3.__version__, "torch": torch.__version__}
    except Exception:  # pragma: no cover - versions are informational only
        pass
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f, default=_json_default)
    return doc


def obs_config(core, env_config: dict) -> dict:
    """The observation settings the C++ policy must reproduce: the binding's ``obs_config`` when it
    exposes one, else the market config's ``obs.*`` keys (prefix removed) plus ``episode_steps`` and
    ``step_ms`` (absent keys: the C++ defaults, LobObsConfig)."""
    oc = getattr(core, "obs_config", None) if core is not None else None
    if oc:
        return dict(oc)
    out = {k[4:]: v for k, v in env_config.items() if k.startswith("obs.")}
    for k in ("episode_steps", "step_ms"):
        if k in env_config:
            out[k] = env_config[k]
    return out


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def mlp_act(doc: dict, obs: np.ndarray) -> np.ndarray:
    """Reference evaluation of an exported policy in NumPy (float64), rows = observations. For tests
    and checks only: the backtester evaluates the same file in C++."""
    x = np.atleast_2d(np.asarray(obs, dtype=np.float64))
    layers = doc["layers"]
    for j, layer in enumerate(layers):
        x = x @ np.asarray(layer["weight"]).T + np.asarray(layer["bias"])
        if j < len(layers) - 1:
            x = np.tanh(x)
    return np.clip(x, np.asarray(doc["action_low"]), np.asarray(doc["action_high"]))


def load_policy(path) -> dict:
    with open(path) as f:
        doc = json.load(f)
    if doc.get("format") != "mmkit-mlp-v1":
        raise ValueError(f"{path}: not an mmkit-mlp-v1 policy file (format={doc.get('format')!r})")
    return doc
