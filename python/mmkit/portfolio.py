"""Multi-instrument backtests and cross-asset hedging (C++ engine/portfolio.h, strategy/hedge.h).

    res = mmkit.portfolio.hedged_backtest("btcusdt_20240808.gz", hedge_with="ethusdt_20240808.gz",
                                          config="configs/hedge.toml")
    res.metrics["total_pnl"], res.legs[0].metrics, res.write("runs/hedge")

Leg 0 quotes with any shipped strategy ([strategy], [engine] as in ``mmkit backtest``); leg 1, when
``hedge_with`` is given and ``[hedge] enabled`` is true, runs the hedger: it keeps its position
near −β × (leg-0 position × leg-0 mid) / leg-1 mid, β = rolling OLS Cov(r0, r1) / Var(r1) of the
two mids' log returns (docs/hedging.md). Both legs run in one merged time order in C++ (no
per-event work in Python). Config sections (configs/hedge.toml):

    [strategy], [engine], [source]   the quoted leg, as in a backtest config
    [hedge]                          the hedger's parameters (hedge_params in strategy/hedge.h) and
                                     ``enabled`` (default true)
    [hedge_engine]                   the hedge leg's engine settings: ENGINE_DEFAULTS, then the
                                     quoted leg's latency, feed, queue, fee, seed and sampling
                                     settings (SHARED_ENGINE_KEYS), then these
    [portfolio]                      ``sample_interval_ms`` of the common PnL clock (default: the
                                     quoted leg's sample_interval_ms)
"""
from __future__ import annotations

import copy
import os
import platform
import time
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np
import pandas as pd

from mmkit import _core
from mmkit.backtest import ENGINE_DEFAULTS, resolve_config
from mmkit.backtest import load_config as _load_backtest_config
from mmkit.data import PathLike, _paths

#: Engine settings the hedge leg takes from the quoted leg (then [hedge_engine] overrides).
SHARED_ENGINE_KEYS = ("entry_latency_ms", "response_latency_ms", "latency_csv", "feed_latency", "feed_latency_ms",
                      "queue_model", "maker_fee_bps", "taker_fee_bps", "seed", "sample_interval_ms",
                      "timer_interval_ms", "markouts_ms", "own_orders_take_liquidity")

#: Hedger parameters and their defaults (strategy/hedge.h HedgeParams; docs/hedging.md).
HEDGE_DEFAULTS: dict[str, Any] = {
    "return_interval_ms": 1000.0,  # return sampling clock
    "window": 300,                 # returns in the rolling beta / correlation
    "min_returns": 30,             # before: beta = beta_prior
    "beta_prior": 1.0,
    "fixed_beta": 0.0,             # > 0: this beta, never the rolling one
    "band_notional": 1000.0,       # no trade while |q2 - target| x mid2 <= band (quote currency)
    "min_interval_ms": 1000.0,     # between two hedge orders
    "style": "ioc",                # "ioc" at the touch, or "passive" (post-only join, canceled after the timeout)
    "passive_timeout_ms": 5000.0,
    "max_order_qty": 0.0,          # decimal qty per hedge order, 0 = no cap
}

SECTIONS = ("strategy", "engine", "synthetic", "source", "hedge", "hedge_engine", "portfolio")


def load_config(path: Optional[PathLike]) -> dict:
    """Reads a portfolio TOML config; raises :class:`mmkit.Error` naming the file and the bad
    section."""
    return _load_backtest_config(path, SECTIONS)


def resolve(config: Union[None, PathLike, dict] = None, *, strategy: Optional[str] = None,
            params: Optional[dict] = None, engine: Optional[dict] = None, hedge: Optional[dict] = None,
            hedge_engine: Optional[dict] = None, sample_interval_ms: Optional[float] = None) -> dict:
    """The resolved portfolio config ``{"quote": <backtest config>, "hedge": {...},
    "hedge_enabled": bool, "hedge_engine": {...}, "sample_interval_ms": float}``."""
    cfg = copy.deepcopy(config) if isinstance(config, dict) else load_config(config)
    quote = resolve_config({k: v for k, v in cfg.items() if k in ("strategy", "engine", "synthetic", "source")},
                           strategy=strategy, params=params, engine=engine)
    h = {**cfg.get("hedge", {}), **(hedge or {})}
    enabled = bool(h.pop("enabled", True))
    for k in h:
        if k not in HEDGE_DEFAULTS:
            raise _core.Error(f"unknown hedge setting '{k}' (known: enabled, {', '.join(HEDGE_DEFAULTS)})")
    h = {**HEDGE_DEFAULTS, **h}
    he = {**ENGINE_DEFAULTS, **{k: quote["engine"][k] for k in SHARED_ENGINE_KEYS},
          **cfg.get("hedge_engine", {}), **(hedge_engine or {})}
    for k in he:
        if k not in ENGINE_DEFAULTS:
            raise _core.Error(f"unknown hedge_engine setting '{k}' (known: {', '.join(ENGINE_DEFAULTS)})")
    port = dict(cfg.get("portfolio", {}))
    for k in port:
        if k != "sample_interval_ms":
            raise _core.Error(f"unknown portfolio setting '{k}' (known: sample_interval_ms)")
    si = sample_interval_ms or port.get("sample_interval_ms") or quote["engine"]["sample_interval_ms"]
    return {"quote": quote, "hedge": h, "hedge_enabled": enabled, "hedge_engine": he,
            "sample_interval_ms": float(si)}


def _leg_results(raw: dict, config: dict, paths: list, wall: float):
    from mmkit.results import BacktestResults
    names = _core.event_names()
    orders = raw["orders"]
    for key in ("event", "status", "reason"):
        codes = orders.pop(f"{key}_code")
        orders[key] = np.asarray(names[key], dtype=object)[codes] if len(codes) else np.asarray([], dtype=object)
    config = copy.deepcopy(config)
    config["strategy"]["params"] = dict(raw.pop("strategy_params"))
    summary = dict(raw.pop("strategy_summary"))
    if summary:
        raw["metrics"]["strategy"] = summary
    raw["config"] = config
    raw["instrument"] = dict(raw["instrument"])
    raw["data"] = [str(p) for p in paths]
    events = int(raw["metrics"]["events"])
    raw["run_info"] = {"wall_time_s": wall, "events": events,
                       "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                       "python": platform.python_version(), "market_profile": dict(raw.pop("profile"))}
    return BacktestResults(raw)


class PortfolioResults:
    """Results of a portfolio run.

    Attributes:
        names: leg names (instrument symbols).
        legs: per leg :class:`mmkit.results.BacktestResults` (fills, orders, samples, metrics).
        samples: DataFrame on the common clock (UTC index): ``total_pnl``, ``net_notional`` and per
            leg ``pnl_<name>``, ``position_<name>``, ``mid_<name>``.
        metrics: dict: total_pnl, sharpe, sortino, max_drawdown, pnl_increment_std,
            inventory_pnl_std, net_notional_mean / _std, per-leg figures under ``legs`` (pnl, fees, spread_cost,
            inventory_std, fills) and the hedger's summary under ``hedge`` (beta, correlation).
    """

    def __init__(self, raw: dict, config: dict, leg_configs: list, paths: list, wall: float):
        self.config = config
        self.names: list[str] = list(raw["names"])
        self.currency: str = raw["currency"]
        self.legs = [_leg_results(l, c, p, wall) for l, c, p in zip(raw["legs"], leg_configs, paths)]
        cols = {k: np.asarray(v) for k, v in raw["samples"].items()}
        ren = {}
        for i, n in enumerate(self.names):
            for kind in ("pnl", "position", "mid"):
                ren[f"{kind}_{i}"] = f"{kind}_{n}"
        df = pd.DataFrame({ren.get(k, k): v for k, v in cols.items()})
        df.index = pd.to_datetime(df["ts_ns"], unit="ns", utc=True)
        df.index.name = "time"
        self.samples = df
        m = dict(raw["metrics"])
        legs = {}
        for i, (n, r) in enumerate(zip(self.names, self.legs)):
            legs[n] = {"pnl": m["leg_pnl"][i], "fees": m["leg_fees"][i], "spread_cost": m["leg_spread_cost"][i],
                       "inventory_std": r.metrics.get("inventory_std"), "fills": r.metrics.get("fills"),
                       "volume": r.metrics.get("volume"), "strategy": r.strategy_name}
            if "funding_paid" in r.metrics:
                legs[n]["funding_paid"] = r.metrics["funding_paid"]
        for k in ("leg_pnl", "leg_fees", "leg_spread_cost"):
            m.pop(k)
        m["legs"] = legs
        if len(self.legs) > 1 and "strategy" in self.legs[1].metrics:
            m["hedge"] = dict(self.legs[1].metrics["strategy"])
        self.metrics = m

    def rows(self) -> list[tuple[str, str, str, str, str, str]]:
        """(leg, PnL, fees, spread cost, inventory std, fills) per leg and the total."""
        from mmkit.results import fmt_value
        out = []
        for n, l in self.metrics["legs"].items():
            out.append((n, fmt_value(l["pnl"]), fmt_value(l["fees"]), fmt_value(l["spread_cost"]),
                        fmt_value(l["inventory_std"]), fmt_value(l["fills"])))
        out.append(("total", fmt_value(self.metrics["total_pnl"]), fmt_value(sum(l["fees"] for l in self.metrics["legs"].values())),
                    fmt_value(sum(l["spread_cost"] for l in self.metrics["legs"].values())), "-", "-"))
        return out

    def summary_table(self):
        from rich.table import Table
        from mmkit.results import fmt_value
        t = Table(title=f"portfolio ({self.currency})")
        for c in ("leg", "PnL", "fees", "spread cost", "inventory std", "fills"):
            t.add_column(c, justify="right" if c != "leg" else "left")
        for r in self.rows():
            t.add_row(*r)
        m = self.metrics
        t.caption = (f"total Sharpe {fmt_value(m['sharpe'])}, max drawdown {fmt_value(m['max_drawdown'])}, "
                     f"PnL increment std {fmt_value(m['pnl_increment_std'])}, inventory PnL std {fmt_value(m['inventory_pnl_std'])}, "
                     f"net notional std {fmt_value(m['net_notional_std'])}")
        if "hedge" in m:
            h = m["hedge"]
            t.caption += (f"; hedge beta (full / last) {fmt_value(h.get('beta_full'))} / {fmt_value(h.get('beta_last'))}, "
                          f"correlation {fmt_value(h.get('correlation_full'))} / {fmt_value(h.get('correlation_last'))}")
        return t

    def metrics_json(self) -> str:
        from mmkit.results import _dumps
        return _dumps(self.metrics)

    def write(self, out_dir: Union[str, os.PathLike]) -> Path:
        """Writes out_dir/metrics.json (total and per leg, deterministic), samples.csv (the common
        clock), report.html (per-instrument and total PnL) and legs/<i>_<name>/ (each leg's
        backtest outputs: fills.csv, orders.csv, metrics.json, report.html, ...)."""
        from mmkit.report import write_portfolio_report
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(self.metrics_json(), encoding="utf-8")
        from mmkit.results import BacktestResults
        BacktestResults._write_csv(self.samples, out / "samples.csv")
        for i, (n, r) in enumerate(zip(self.names, self.legs)):
            r.write(out / "legs" / f"{i}_{n}")
        write_portfolio_report(self, out / "report.html")
        return out


def hedged_backtest(data: Union[PathLike, Sequence[PathLike]], hedge_with: Union[None, PathLike, Sequence[PathLike]] = None,
                    *, config: Union[None, PathLike, dict] = None, strategy: Optional[str] = None,
                    params: Optional[dict] = None, engine: Optional[dict] = None, hedge: Optional[dict] = None,
                    hedge_engine: Optional[dict] = None, sample_interval_ms: Optional[float] = None,
                    source: Optional[dict] = None) -> PortfolioResults:
    """Runs the quoted leg on ``data`` and, with ``hedge_with`` (and [hedge] enabled), the hedger
    on the second instrument, in one merged time order; returns :class:`PortfolioResults`.
    Without ``hedge_with`` it is a one-leg portfolio (the unhedged baseline on the same clock).
    Raises :class:`mmkit.Error` on bad data or config, or legs in different quote currencies."""
    cfg = resolve(config, strategy=strategy, params=params, engine=engine, hedge=hedge,
                  hedge_engine=hedge_engine, sample_interval_ms=sample_interval_ms)
    q = cfg["quote"]
    paths = [[str(p) for p in _paths(data)]]
    legs = [{"paths": paths[0], "source": {**q["source"], **(source or {})}, "strategy": q["strategy"]["name"],
             "params": q["strategy"]["params"], "engine": q["engine"]}]
    leg_configs = [q]
    if hedge_with is not None and cfg["hedge_enabled"]:
        paths.append([str(p) for p in _paths(hedge_with)])
        hp = dict(cfg["hedge"])
        hp["follow"] = 0
        legs.append({"paths": paths[1], "strategy": "hedge", "params": hp, "engine": cfg["hedge_engine"]})
        leg_configs.append({"strategy": {"name": "hedge", "params": hp}, "engine": cfg["hedge_engine"],
                            "synthetic": {}, "source": {}})
    t0 = time.perf_counter()
    p = _core.Portfolio(legs, cfg["sample_interval_ms"])
    p.run()
    raw = p.result()
    return PortfolioResults(raw, cfg, leg_configs, paths, time.perf_counter() - t0)
