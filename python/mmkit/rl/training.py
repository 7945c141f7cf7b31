"""``mmkit rl train``: PPO (stable-baselines3) on the batched C++ market environment.

Outputs in DIR: model.zip (SB3), policy.json (C++ "rl-policy" weights, mmkit.rl.export),
train_info.json (steps, wall time, env-steps/s, final mean episode reward, curriculum history, the
resolved config), checkpoints/ (CheckpointCallback) and tb/ (TensorBoard).
"""
from __future__ import annotations

import copy
import json
import os
import platform
import time
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from mmkit import _core
from mmkit.config import read_toml
from mmkit.rl.envs import KINDS, flatten

DEFAULT_CONFIG: dict[str, Any] = {
    "env": {"num_envs": 64, "seed": 1, "threads": 1,
            "common": {"action_mode": "multiplier", "base": "avellaneda-stoikov"},
            "model": {"max_size_mult": 1.0, "reward": {"vol_penalty": 0.05}},
            "synthetic": {"reward": {"pnl_scale": 100.0, "inventory_penalty": 0.05}},
            "replay": {}},
    "ppo": {"learning_rate": 3e-4, "lr_schedule": "linear", "n_steps": 256, "batch_size": 2048,
            "n_epochs": 10, "gamma": 0.99, "gae_lambda": 0.95, "clip_range": 0.2, "ent_coef": 0.01,
            "vf_coef": 0.5, "max_grad_norm": 0.5, "net_arch": [256, 256, 128], "activation": "tanh",
            "log_std_init": -1.0, "init_action": "classic"},
    "train": {"checkpoint_steps": 500_000, "threads": 1},
    "curriculum": {"enabled": True, "phases": [
        {"regime": "low", "fraction": 0.2}, {"regime": "medium", "fraction": 0.2},
        {"regime": "high", "fraction": 0.2}, {"regime": "switching", "fraction": 0.4}]},
    "evaluate": {"episodes": 200, "seed": 1000, "spread_quoter_half_spread_ticks": "auto",
                 "spread_quoter_size": 1.0},
}


def load_rl_config(path=None, overrides: Optional[dict] = None) -> dict:
    """Defaults < TOML file < overrides; unknown sections or keys raise :class:`mmkit.Error`
    (except inside the [env.*] market tables, which the C++ environment checks)."""
    cfg = copy.deepcopy(DEFAULT_CONFIG)
    user: dict = {}
    if path is not None:
        p = Path(path)
        user = read_toml(p)
    for src in (user, overrides or {}):
        for sec, vals in src.items():
            if sec not in cfg:
                raise _core.Error(f"unknown section [{sec}] in the RL config (known: {', '.join(cfg)})")
            for k, v in vals.items():
                if k not in cfg[sec]:
                    raise _core.Error(f"unknown key '{k}' in [{sec}] (known: {', '.join(cfg[sec])})")
                if sec == "env" and isinstance(cfg[sec][k], dict):
                    cfg[sec][k] = {**cfg[sec][k], **v}
                else:
                    cfg[sec][k] = v
    return cfg


def market_config(cfg: dict, kind: str, data: Optional[Path] = None) -> dict:
    """The dict passed to VecMarketEnv: [env.common] merged with [env.<kind>] (and path = --data)."""
    if kind not in KINDS:
        raise _core.Error(f"unknown RL market kind '{kind}' (known: {', '.join(KINDS)})")
    mc = flatten({**cfg["env"]["common"], **cfg["env"][kind]})
    if data is not None:
        mc["path"] = str(data)
    if kind == "replay" and "path" not in mc:
        raise _core.Error("--env replay needs --data FILE (or path in [env.replay])")
    return mc


def linear_schedule(initial: float) -> Callable[[float], float]:
    """SB3 schedule: progress_remaining goes 1 -> 0 over training, so lr = initial x remaining."""
    def f(progress_remaining: float) -> float:
        return float(initial) * float(progress_remaining)
    return f


def resolve_device(device: str) -> str:
    if device not in ("auto", "cpu", "cuda"):
        raise _core.Error(f"--device must be auto, cpu or cuda (got '{device}')")
    import torch
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise _core.Error("--device cuda: no CUDA device available to torch")
    return device


def build_ppo(venv, cfg: dict, seed: int, device: str, tb_dir: Optional[Path]):
    import torch
    from stable_baselines3 import PPO

    p = cfg["ppo"]
    if p["activation"] != "tanh":
        raise _core.Error("[ppo] activation must be 'tanh' (the C++ policy evaluator implements tanh only)")
    if p["lr_schedule"] not in ("linear", "constant"):
        raise _core.Error("[ppo] lr_schedule must be 'linear' or 'constant'")
    lr = linear_schedule(p["learning_rate"]) if p["lr_schedule"] == "linear" else float(p["learning_rate"])
    arch = [int(x) for x in p["net_arch"]]
    n_steps = int(p["n_steps"])
    batch = min(int(p["batch_size"]), n_steps * venv.num_envs)
    if p["init_action"] not in ("classic", "zero"):
        raise _core.Error("[ppo] init_action must be 'classic' or 'zero'")
    model = PPO(
        "MlpPolicy", venv, learning_rate=lr, n_steps=n_steps, batch_size=batch, n_epochs=int(p["n_epochs"]),
        gamma=float(p["gamma"]), gae_lambda=float(p["gae_lambda"]), clip_range=float(p["clip_range"]),
        ent_coef=float(p["ent_coef"]), vf_coef=float(p["vf_coef"]), max_grad_norm=float(p["max_grad_norm"]),
        policy_kwargs={"net_arch": {"pi": arch, "vf": arch}, "activation_fn": torch.nn.Tanh,
                       "log_std_init": float(p["log_std_init"])},
        tensorboard_log=str(tb_dir) if tb_dir is not None else None, seed=seed, device=device, verbose=0)
    if p["init_action"] == "classic" and getattr(venv, "core", None) is not None and venv.core.action_mode == "multiplier":
        # Start from the classic strategy: action_net's weights are initialized small (orthogonal,
        # gain 0.01), so a bias of (1, 1, 0) makes the initial mean action the A-S / GLFT quote.
        with torch.no_grad():
            model.policy.action_net.bias.copy_(torch.tensor([1.0, 1.0, 0.0], dtype=model.policy.action_net.bias.dtype))
    return model


def train(kind: str, steps: int, out, *, config=None, data=None, seed: Optional[int] = None,
          num_envs: Optional[int] = None, device: str = "auto", overrides: Optional[dict] = None,
          progress: Optional[Callable[[int, int], None]] = None) -> dict:
    """Trains PPO for ``steps`` env-steps and writes DIR/{model.zip, policy.json, train_info.json,
    checkpoints/, tb/}. Returns the train_info dict."""
    import torch
    from stable_baselines3.common.callbacks import BaseCallback, CallbackList, CheckpointCallback

    from mmkit.rl.export import export_policy
    from mmkit.rl.sb3 import CurriculumCallback, SB3VecMarketEnv, curriculum_schedule

    cfg = load_rl_config(config, overrides)
    if num_envs is not None:
        cfg["env"]["num_envs"] = int(num_envs)
    if seed is not None:
        cfg["env"]["seed"] = int(seed)
    seed = int(cfg["env"]["seed"])
    steps = int(steps)
    if steps <= 0:
        raise _core.Error("--steps must be > 0")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    mc = market_config(cfg, kind, Path(data) if data is not None else None)
    dev = resolve_device(device)
    threads = int(cfg["train"]["threads"])
    if threads > 0:
        torch.set_num_threads(threads)

    venv = SB3VecMarketEnv(kind, int(cfg["env"]["num_envs"]), mc, seed)
    if int(cfg["env"]["threads"]) > 0:
        venv.core.threads = int(cfg["env"]["threads"])
    schedule = curriculum_schedule(cfg["curriculum"]["phases"], steps) if cfg["curriculum"]["enabled"] else []
    if schedule:
        venv.set_regime(schedule[0][1])  # before the first reset, so phase 0 starts with the first episodes
    venv.seed(seed)
    model = build_ppo(venv, cfg, seed, dev, out / "tb")

    class _Progress(BaseCallback):
        def _on_step(self) -> bool:
            if progress is not None:
                progress(self.num_timesteps, steps)
            return True

    curriculum = CurriculumCallback(schedule)
    ckpt_every = max(1, int(cfg["train"]["checkpoint_steps"]) // venv.num_envs)
    callbacks = CallbackList([
        CheckpointCallback(save_freq=ckpt_every, save_path=str(out / "checkpoints"), name_prefix="ppo"),
        curriculum, _Progress()])
    t0 = time.perf_counter()
    model.learn(total_timesteps=steps, callback=callbacks, tb_log_name="ppo", progress_bar=False)
    wall = time.perf_counter() - t0

    model.save(out / "model.zip")
    export_policy(model, out / "policy.json", venv, kind=kind, env_config=mc)
    rewards = [float(e["r"]) for e in model.ep_info_buffer]
    done_steps = int(model.num_timesteps)
    info = {
        "kind": kind,
        "data": str(data) if data is not None else mc.get("path"),
        "steps": done_steps,
        "steps_requested": steps,
        "num_envs": venv.num_envs,
        "seed": seed,
        "device": dev,
        "torch_threads": torch.get_num_threads(),
        "wall_time_s": wall,
        "env_steps_per_s": done_steps / wall if wall > 0 else None,
        "final_mean_episode_reward": float(np.mean(rewards)) if rewards else None,
        "final_episodes_averaged": len(rewards),
        "curriculum": [{"env_step": s, "regime": r} for s, r in curriculum.history],
        "obs_names": list(venv.obs_names),
        "action_names": list(venv.action_names),
        "market_config": mc,
        "config": cfg,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                   f"{platform.system()} {platform.release()}",
    }
    with open(out / "train_info.json", "w") as f:
        json.dump(info, f, indent=2, default=str)
    venv.close()
    return info
