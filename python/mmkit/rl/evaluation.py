"""``mmkit rl evaluate``: the trained policy against the classic quotes on the same seeds / windows.

Strategies, each run on its own ``VecMarketEnv`` with ``num_envs = episodes`` created and reset with
the same seed, so environment i of every strategy sees the same market randomness (same mid path
on the model market, same order flow on the synthetic one, same window on replay):

    rl-policy           the PPO policy, SB3 ``predict(obs, deterministic=True)`` (one call per batch step)
    avellaneda-stoikov  multiplier mode, base A-S, constant action (1, 1, 0) = the classic strategy
    glft                multiplier mode, base GLFT, constant action (1, 1, 0)
    spread-quoter       direct mode, a fixed symmetric half spread and size, no skew
    optimal             (model market only) ``VecMarketEnv.optimal_action()`` at every step: the exact optimum
                        of the env's reward (backward DP, docs/rl.md), in direct mode (its offsets are never
                        clipped there; multiplier mode bounds the skew)

Each environment's first episode is one sample. Statistics over episodes: mean and standard
deviation of episode PnL, Sharpe = mean / std of episode PnL (per episode, not annualized), mean
inventory std, fill ratio (C++ ``fill_ratio`` when the environment reports it, else fills per step),
mean episode reward (the RL objective). Confidence intervals: 95 % Student-t intervals over episodes,
mean ± t(0.975, n-1) s / sqrt(n); the gap to the optimal policy is a paired t-interval over the
per-episode differences (same seeds).
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from mmkit import _core
from mmkit.rl.envs import make_core
from mmkit.rl.training import load_rl_config, market_config

CLASSIC = ("avellaneda-stoikov", "glft", "spread-quoter")
#: Market-config keys that belong to the trained policy (kept from its training config).
POLICY_KEYS = ("action_mode", "base", "max_size_mult", "direct_max_offset_ticks", "episode_steps", "step_ms")
#: Strategy params every quoting strategy accepts (include/mmkit/strategy/spread_quoter.h
#: QuotingParams); other "strategy.*" keys belong to the configured base only.
COMMON_QUOTING_PARAMS = ("order_qty", "max_position", "requote_threshold_ticks", "post_only", "requote_on",
                         "min_requote_interval_ms", "requote_with_modify")


def for_base(mc: dict, base: str) -> dict:
    """The market config ``mc`` for a classic row quoting with ``base``: "strategy.*" params meant
    for another base (e.g. A-S's sigma_half_life_s on the GLFT row) are dropped; the common quoting
    settings stay, so every row trades the same order size and limits."""
    own = mc.get("base", "avellaneda-stoikov")
    if base == own:
        return {**mc, "base": base}
    return {**{k: v for k, v in mc.items()
               if not k.startswith("strategy.") or k.split(".", 1)[1] in COMMON_QUOTING_PARAMS},
            "base": base}


def t_quantile_975(df: int) -> float:
    """Student-t 0.975 quantile (Cornish-Fisher expansion in 1/df, Abramowitz & Stegun 26.7.5;
    exact table below df = 8, error < 1e-4 above)."""
    table = {1: 12.7062, 2: 4.3027, 3: 3.1824, 4: 2.7764, 5: 2.5706, 6: 2.4469, 7: 2.3646, 8: 2.3060}
    if df <= 0:
        return float("nan")
    if df in table:
        return table[df]
    z = 1.959963984540054
    v = float(df)
    return (z + (z**3 + z) / (4 * v) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
            + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * v**4))


def mean_ci(x) -> dict:
    """mean, std (ddof 1), n and the 95 % t-interval half width of the mean."""
    x = np.asarray(x, dtype=np.float64)
    n = int(x.size)
    m = float(x.mean()) if n else float("nan")
    s = float(x.std(ddof=1)) if n > 1 else float("nan")
    h = t_quantile_975(n - 1) * s / math.sqrt(n) if n > 1 else float("nan")
    return {"mean": m, "std": s, "n": n, "ci95": [m - h, m + h], "ci95_half": h}


def run_episodes(core, seed: int, act: Callable[[np.ndarray, Any], np.ndarray], max_steps: int = 10_000_000) -> dict:
    """Steps every environment of ``core`` until each finished its first episode; ``act(obs, core)``
    gives the (N, action_dim) actions of a batch step. Returns per-environment arrays: the C++
    episode statistics of that first episode and ``reward`` (sum of rewards) and ``length``."""
    n = core.num_envs
    obs = np.array(core.reset(int(seed)), dtype=np.float32)
    done_once = np.zeros(n, dtype=bool)
    ret = np.zeros(n)
    ep_ret = np.zeros(n)
    ep_len = np.zeros(n, dtype=np.int64)
    stats: dict[str, np.ndarray] = {}
    steps = 0
    while not done_once.all():
        a = np.ascontiguousarray(act(obs, core), dtype=np.float32).reshape(n, -1)
        obs, rew, term, trunc = core.step(a)
        obs = np.array(obs, dtype=np.float32)
        ret += np.where(done_once, 0.0, np.asarray(rew, dtype=np.float64))
        steps += 1
        new = (np.asarray(term, bool) | np.asarray(trunc, bool)) & ~done_once
        if new.any():
            st = core.episode_stats()
            for k, v in st.items():
                v = np.asarray(v, dtype=np.float64)
                if k not in stats:
                    stats[k] = np.full(n, np.nan)
                stats[k][new] = v[new]
            ep_ret[new] = ret[new]
            ep_len[new] = steps
            done_once |= new
        if steps >= max_steps:
            raise RuntimeError(f"evaluation did not finish an episode in every environment after {steps} steps")
    stats["reward"] = ep_ret
    stats["length"] = ep_len.astype(np.float64)
    return stats


def summarize(ep: dict) -> dict:
    pnl = ep["pnl"]
    out = {"pnl": mean_ci(pnl), "reward": mean_ci(ep["reward"])}
    sd = float(np.std(pnl, ddof=1)) if pnl.size > 1 else float("nan")
    out["sharpe"] = float(np.mean(pnl) / sd) if sd and sd > 0 else float("nan")
    if "sharpe" in ep:
        out["episode_sharpe"] = mean_ci(ep["sharpe"])
    if "inventory_std" in ep:
        out["inventory_std"] = mean_ci(ep["inventory_std"])
    if "fill_ratio" in ep:
        out["fill_ratio"] = mean_ci(ep["fill_ratio"])
        out["fill_ratio_definition"] = "C++ episode_stats fill_ratio"
    elif "fills" in ep:
        steps = ep["steps"] if "steps" in ep else ep["length"]
        out["fill_ratio"] = mean_ci(ep["fills"] / np.maximum(steps, 1))
        out["fill_ratio_definition"] = "fills per step"
    return out


def _constant(action: np.ndarray) -> Callable:
    a = np.asarray(action, dtype=np.float32)

    def act(obs, core):
        return np.broadcast_to(a, (core.num_envs, a.size))
    return act


def _optimal(obs, core):
    return core.optimal_action()


def evaluate(model_dir, *, kind: Optional[str] = None, data=None, episodes: Optional[int] = None,
             seeds: Optional[list[int]] = None, out=None, config=None, strategies: Optional[list[str]] = None,
             console=None) -> dict:
    """Evaluates DIR/model.zip (trained by ``mmkit rl train``) against the classic strategies and
    returns the result dict (also written to OUT/evaluation.json, OUT/evaluation.html)."""
    from stable_baselines3 import PPO

    model_dir = Path(model_dir)
    with open(model_dir / "train_info.json") as f:
        tinfo = json.load(f)
    cfg = load_rl_config(config) if config is not None else load_rl_config(None, {
        k: v for k, v in tinfo.get("config", {}).items() if k in ("env", "evaluate")})
    kind = kind or tinfo["kind"]
    if data is not None:
        data = Path(data)
    elif kind == tinfo["kind"] and tinfo.get("data"):
        data = Path(tinfo["data"])
    mc = market_config(cfg, kind, data)
    # The policy runs on the evaluation market with its own action mode, base quote, action bounds and
    # observation settings (what its network was trained on).
    # Episode length and step: the policy's, for every strategy (same episodes).
    tmc = tinfo.get("market_config", {})
    mc.update({k: tmc[k] for k in ("episode_steps", "step_ms") if k in tmc})
    policy_mc = {**mc, **{k: v for k, v in tmc.items()
                          if k in POLICY_KEYS or k.startswith("obs.") or k.startswith("strategy.")}}
    episodes = int(episodes or cfg["evaluate"]["episodes"])
    seeds = list(seeds) if seeds else [int(cfg["evaluate"]["seed"])]
    strategies = strategies or ["rl-policy", *CLASSIC] + (["optimal"] if kind == "model" else [])
    model = PPO.load(model_dir / "model.zip", device="cpu")
    probe = make_core(kind, 1, policy_mc, 0)
    if (probe.obs_dim,) != model.observation_space.shape:
        raise _core.Error(f"the policy in {model_dir} takes {model.observation_space.shape[0]} observations "
                          f"({tinfo['kind']} market) but the {kind} market gives {probe.obs_dim}: evaluate it "
                          f"on a market of the kind it was trained on")

    def policy_act(obs, core):
        a, _ = model.predict(obs, deterministic=True)
        return a

    def env_for(name: str):
        if name == "rl-policy":
            return policy_mc, policy_act
        if name == "optimal":
            return {**policy_mc, "action_mode": "direct"}, _optimal
        if name in ("avellaneda-stoikov", "glft"):
            return {**for_base(mc, name), "action_mode": "multiplier"}, _constant([1.0, 1.0, 0.0])
        if name == "spread-quoter":
            return {**mc, "action_mode": "direct"}, None
        raise _core.Error(f"unknown evaluation strategy '{name}'")

    per: dict[str, dict[str, np.ndarray]] = {}
    notes: dict[str, str] = {}
    for name in strategies:
        emc, act = env_for(name)
        chunks = []
        for s in seeds:
            core = make_core(kind, episodes, emc, s)
            if name == "spread-quoter":
                act, notes[name] = _spread_quoter_action(core, kind, cfg["evaluate"], mc, s)
            chunks.append(run_episodes(core, s, act))
        per[name] = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}

    result: dict[str, Any] = {
        "model_dir": str(model_dir), "kind": kind, "data": str(data) if data is not None else None,
        "episodes_per_seed": episodes, "seeds": seeds, "market_config": mc, "policy_market_config": policy_mc,
        "ci_method": "95% Student-t interval over episodes (mean ± t(0.975, n-1) s/sqrt(n)); gap: paired t over episodes",
        "sharpe_definition": "mean / std of episode PnL over episodes (per episode, not annualized)",
        "strategies": {name: summarize(ep) for name, ep in per.items()},
        "notes": notes,
        "episodes": {name: {k: v.tolist() for k, v in ep.items()} for name, ep in per.items()},
    }
    if "optimal" in per and "rl-policy" in per:
        result["gap_to_optimal"] = {
            "reward": mean_ci(per["optimal"]["reward"] - per["rl-policy"]["reward"]),
            "pnl": mean_ci(per["optimal"]["pnl"] - per["rl-policy"]["pnl"]),
            "relative_reward": _rel(per["optimal"]["reward"].mean(), per["rl-policy"]["reward"].mean()),
            "definition": "optimal - policy, per episode on the same seeds (value = mean episode reward)",
        }
    if out is not None:
        write_outputs(result, Path(out))
    if console is not None:
        if not console.is_terminal:  # logs / pipes: wide enough for the whole table
            from rich.console import Console
            console = Console(width=120, file=console.file)
        console.print(table(result))
    return result


def _rel(opt: float, pol: float) -> Optional[float]:
    return float((opt - pol) / abs(opt)) if opt != 0 else None


def _spread_quoter_action(core, kind: str, ev: dict, mc: dict, seed: int):
    """Constant direct-mode action [h, h, size, size] clipped to the action bounds."""
    h = ev.get("spread_quoter_half_spread_ticks", "auto")
    note = ""
    if h == "auto":
        if kind == "model":
            core.reset(int(seed))
            opt = np.asarray(core.optimal_action(), dtype=np.float64)  # direct mode: offsets at q = 0
            h = float(np.mean(opt[:, :2]))
            note = f"half spread {h:.3f} ticks = the optimal policy's mean offset at the episode start (q = 0)"
        else:
            h = 1.0
            note = "half spread 1 tick"
    size = float(ev.get("spread_quoter_size", 1.0))
    lo = np.asarray(core.action_low, np.float64)
    hi = np.asarray(core.action_high, np.float64)
    a = np.clip(np.array([h, h, size, size], dtype=np.float64)[: core.action_dim], lo, hi)
    return _constant(a), note + f"; action {np.round(a, 4).tolist()} (bid_offset_ticks, ask_offset_ticks, bid_size, ask_size)"


def _fmt_ci(s: dict, digits: int = 3) -> str:
    return f"{s['mean']:.{digits}f} ± {s['ci95_half']:.{digits}f}"


def table(result: dict):
    from rich.table import Table
    t = Table(title=f"mmkit rl evaluate: {result['kind']} market, {result['episodes_per_seed'] * len(result['seeds'])} "
                    "episodes per strategy (mean ± 95% t-CI)", title_justify="left")
    t.add_column("strategy", no_wrap=True)
    for col in ("PnL", "PnL std", "Sharpe", "inventory std", "fills/step", "episode reward"):  # mean ± CI95
        t.add_column(col, justify="right", no_wrap=True)
    for name, s in result["strategies"].items():
        t.add_row(name, _fmt_ci(s["pnl"], 2), f"{s['pnl']['std']:.2f}", f"{s['sharpe']:.2f}",
                  _fmt_ci(s["inventory_std"], 2) if "inventory_std" in s else "-",
                  _fmt_ci(s["fill_ratio"], 3) if "fill_ratio" in s else "-", _fmt_ci(s["reward"], 2))
    if "gap_to_optimal" in result:
        g = result["gap_to_optimal"]
        rel = g["relative_reward"]
        t.caption = (f"gap to optimal (optimal - policy, paired): reward {_fmt_ci(g['reward'])}"
                     + (f" ({100 * rel:.1f} % of |optimal|)" if rel is not None else "")
                     + f", PnL {_fmt_ci(g['pnl'])}")
    return t


def write_outputs(result: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "evaluation.json", "w") as f:
        json.dump(result, f, indent=2, default=lambda o: o.item() if isinstance(o, np.generic) else str(o))
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots
    names = list(result["strategies"])
    fig = make_subplots(rows=1, cols=2, subplot_titles=("mean episode PnL (95% t-CI)", "episode PnL distribution"))
    fig.add_trace(go.Bar(x=names, y=[result["strategies"][n]["pnl"]["mean"] for n in names],
                         error_y={"type": "data", "array": [result["strategies"][n]["pnl"]["ci95_half"] for n in names]},
                         name="mean PnL"), row=1, col=1)
    for n in names:
        fig.add_trace(go.Box(y=result["episodes"][n]["pnl"], name=n, boxmean=True), row=1, col=2)
    fig.update_layout(title=f"mmkit rl evaluate: {result['model_dir']} on the {result['kind']} market",
                      showlegend=False, height=500)
    fig.write_html(out / "evaluation.html", include_plotlyjs="cdn")
