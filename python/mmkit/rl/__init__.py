"""mmkit.rl: reinforcement-learning market making on the C++ engine (docs/rl.md).

    env = mmkit.rl.MarketMakingEnv("model")             # Gymnasium Env (one environment)
    venv = mmkit.rl.MarketVectorEnv("model", 64)        # Gymnasium VectorEnv, one C++ call per batch step
    sb3env = mmkit.rl.SB3VecMarketEnv("model", 64)      # stable-baselines3 VecEnv
    mmkit.rl.train("model", 2_000_000, "runs/rl_model")  # = mmkit rl train
    mmkit.rl.evaluate("runs/rl_model", out="runs/rl_model/eval")
    mmkit.rl.export_policy(model, "policy.json", env)    # weights for the C++ "rl-policy" strategy

The markets, observation, actions and reward are computed in C++ (mmkit._core.VecMarketEnv);
stable-baselines3 and torch are needed only for training, evaluation and export (extra "rl").
"""
from __future__ import annotations

from mmkit.rl.envs import KINDS, MarketMakingEnv, MarketVectorEnv, make_core
from mmkit.rl.export import export_policy, load_policy, mlp_act

__all__ = ["KINDS", "MarketMakingEnv", "MarketVectorEnv", "SB3VecMarketEnv", "CurriculumCallback",
           "make_core", "export_policy", "load_policy", "mlp_act", "train", "evaluate"]


def __getattr__(name):
    # stable-baselines3 / torch are imported only when used.
    if name in ("SB3VecMarketEnv", "CurriculumCallback"):
        from mmkit.rl import sb3
        return getattr(sb3, name)
    if name == "train":
        from mmkit.rl.training import train
        return train
    if name == "evaluate":
        from mmkit.rl.evaluation import evaluate
        return evaluate
    raise AttributeError(f"module 'mmkit.rl' has no attribute '{name}'")
