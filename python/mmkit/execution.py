"""Execution algorithms (TWAP, VWAP, POV, Almgren-Chriss, adaptive) on the backtester, with the
implementation-shortfall report (docs/execution.md).

The algorithms are ordinary strategies of the C++ engine (``mmkit.backtest(strategy="twap",
params=...)``). What this module adds is the **pre-pass**: a first replay of the same input in
``measure_only`` mode that measures the market's trade-print volume per time bucket and where the
data ends. :func:`run` uses it when the parameters need it (VWAP without a ``profile``,
``volume_fraction`` without a ``profile``, or no ``end``): the measured profile is then
**in-sample** (the schedule knows the day's volume curve before it happens; the report says
``profile = "in-sample"``). Give ``params["profile"]`` (a CSV ``time_s,volume`` from another
day) for an out-of-sample run.

    import mmkit.execution as x
    res = x.run("GOOG_2012-06-21_10.zip", strategy="vwap",
                params={"side": "buy", "volume_fraction": 0.05})
    res.metrics["strategy"]["is_bps"]

:func:`execution_study` runs algorithms over seeds of the synthetic market (or over time windows
of a file) and returns the implementation shortfall's mean, standard deviation and decomposition.
"""
from __future__ import annotations

import copy
import math
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional, Sequence, Union

import numpy as np
import pandas as pd

from mmkit import _core
from mmkit.backtest import backtest, resolve_config
from mmkit.data import PathLike

if TYPE_CHECKING:
    from mmkit.results import BacktestResults

#: The execution algorithms, by strategy name.
ALGORITHMS = ("twap", "vwap", "pov", "almgren-chriss", "adaptive")

#: Per-run report fields summarized by :func:`execution_study` (metrics["strategy"] keys).
STUDY_FIELDS = ("completion_pct", "is_bps", "spread_bps", "impact_bps", "timing_bps", "fees_bps",
                "vwap_slippage_bps", "is_currency", "passive_fill_share", "participation_pct",
                "child_orders", "finish_delay_s")

#: Room left after `end` for the final sweep when `end` is defaulted from the data's last event:
#: min(END_MARGIN_MAX_S, END_MARGIN_FRACTION × span) before the last event.
END_MARGIN_MAX_S = 60.0
END_MARGIN_FRACTION = 0.01


def _given(v: Any) -> bool:
    return v is not None and not (isinstance(v, str) and v in ("auto", ""))


def _config_dict(cfg: dict, params: dict) -> dict:
    out = copy.deepcopy(cfg)
    out["strategy"] = {"name": cfg["strategy"]["name"], "params": params}
    return out


def prepass(data: Union[None, PathLike, Sequence[PathLike]] = None, *,
            config: Union[None, PathLike, dict] = None, engine: Optional[dict] = None,
            synthetic: Optional[dict] = None, source: Optional[dict] = None,
            bucket_s: float = 60.0) -> dict:
    """Replays the input once with no orders (the execution strategy in ``measure_only`` mode,
    through the same engine, feed latency, warm-up, synthetic seed and source selection as the
    run) and measures the market.

    Returns a dict: ``profile`` (DataFrame ``time_s`` [bucket start, s after 00:00 UTC of the
    first event's day], ``volume`` [decimal qty of trade prints]), ``profile_csv`` (the same as
    CSV text, the format of the ``profile`` parameter), ``first_ts_ns`` / ``last_ts_ns`` (local
    times of the first and last event the strategy sees, ns since the epoch), ``market_volume``,
    ``market_trades``, ``market_vwap``. Raises :class:`mmkit.Error` on bad input.
    """
    cfg = resolve_config(config, strategy="twap", engine=engine, synthetic=synthetic, source=source)
    res = backtest(data, config=_config_dict(cfg, {"measure_only": True, "profile_bucket_s": float(bucket_s)}))
    s = res.metrics["strategy"]
    csv = s["profile_csv"]
    rows = [line.split(",") for line in csv.strip().splitlines()[1:]]
    profile = pd.DataFrame({"time_s": np.array([float(r[0]) for r in rows]),
                            "volume": np.array([float(r[1]) for r in rows])})
    return {
        "profile": profile,
        "profile_csv": csv,
        "first_ts_ns": int(s["first_ts_ns"]),
        "last_ts_ns": int(s["last_ts_ns"]),
        "market_volume": float(s["market_volume"]),
        "market_trades": int(s["market_trades"]),
        "market_vwap": float(s["market_vwap"]),
    }


def needs_prepass(strategy: str, params: dict) -> bool:
    """True when ``params`` (merged strategy parameters) need the in-sample pre-pass: no
    ``profile`` and a VWAP schedule, a ``volume_fraction`` or no ``end``."""
    if _given(params.get("profile")) or params.get("measure_only") is True:
        return False
    return (strategy == "vwap" or params.get("schedule") == "vwap" or _given(params.get("volume_fraction"))
            or not _given(params.get("end")))


def prepared_config(data: Union[None, PathLike, Sequence[PathLike]], cfg: dict, profile_path: PathLike,
                    bucket_s: float = 60.0) -> dict:
    """The resolved config ``cfg`` (``mmkit.backtest.resolve_config`` output) ready to run: when
    its execution parameters need the pre-pass (:func:`needs_prepass`), runs it, writes the
    in-sample profile to ``profile_path`` and returns a copy with ``profile``,
    ``profile_in_sample = true`` and, when missing, ``end`` = the last event minus
    min(60 s, 1% of the span) (data left for the final sweep); otherwise returns ``cfg``
    unchanged. The strategy reads the profile when it is built, so the file may be removed once
    the backtest is constructed."""
    name = cfg["strategy"]["name"]
    p = dict(cfg["strategy"]["params"])
    if name not in ALGORITHMS or not needs_prepass(name, p):
        return cfg
    pre = prepass(data, config=_config_dict(cfg, {}), bucket_s=bucket_s)
    if not _given(p.get("end")):
        span_s = (pre["last_ts_ns"] - pre["first_ts_ns"]) * 1e-9
        margin_s = min(END_MARGIN_MAX_S, END_MARGIN_FRACTION * span_s)
        p["end"] = int(pre["last_ts_ns"] - round(margin_s * 1e9))
    Path(profile_path).write_text(pre["profile_csv"])
    p["profile"] = os.fspath(profile_path)
    p["profile_in_sample"] = True
    return _config_dict(cfg, p)


def run(data: Union[None, PathLike, Sequence[PathLike]] = None, *, strategy: Optional[str] = None,
        params: Optional[dict] = None, config: Union[None, PathLike, dict] = None,
        engine: Optional[dict] = None, synthetic: Optional[dict] = None, source: Optional[dict] = None,
        profile_path: Optional[PathLike] = None, bucket_s: float = 60.0,
        progress: Optional[Callable[[int], None]] = None) -> BacktestResults:
    """Runs one execution algorithm over ``data`` (None: the synthetic market) and returns
    :class:`mmkit.results.BacktestResults`; the report is ``res.metrics["strategy"]``.

    Arguments as :func:`mmkit.backtest`. When the parameters need it (:func:`needs_prepass`)
    the in-sample pre-pass runs first (:func:`prepared_config`): its profile is written to
    ``profile_path`` (default: a temporary file, removed after the run, and ``profile`` then
    shows as ``""`` in the resolved config) and passed as ``profile`` with
    ``profile_in_sample = true``; a missing ``end`` becomes the last event's time minus
    min(60 s, 1% of the data's span), which leaves data for the final sweep. Raises
    :class:`mmkit.Error` for an unknown algorithm, bad parameters or bad input.
    """
    cfg = resolve_config(config, strategy=strategy, params=params, engine=engine, synthetic=synthetic,
                         source=source)
    name = cfg["strategy"]["name"]
    if name not in ALGORITHMS:
        raise _core.Error(f"mmkit.execution.run: '{name}' is not an execution algorithm "
                          f"(known: {', '.join(ALGORITHMS)})")
    with tempfile.TemporaryDirectory(prefix="mmkit-profile-") as tmp:
        path = Path(profile_path) if profile_path is not None else Path(tmp) / "profile.csv"
        ready = prepared_config(data, cfg, path, bucket_s=bucket_s)
        res = backtest(data, config=ready, progress=progress)
    if ready is not cfg and profile_path is None:
        res.config["strategy"]["params"]["profile"] = ""
    return res


def _rows(results: Iterable[tuple[dict, Any]]) -> pd.DataFrame:
    rows = []
    for keys, res in results:
        s = res.metrics.get("strategy", {})
        row = dict(keys)
        for k in ("target_qty", "filled_qty", "arrival_mid", "avg_price", "market_vwap", "market_volume",
                  "spread_currency", "impact_currency", "timing_currency", "fees_currency",
                  "opportunity_cost_currency", "profile", *STUDY_FIELDS):
            row[k] = s.get(k, math.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def execution_study(strategies: Union[str, Sequence[str]] = ALGORITHMS, *,
                    data: Union[None, PathLike, Sequence[PathLike]] = None,
                    seeds: Optional[Sequence[int]] = None,
                    windows: Optional[Sequence[tuple[Any, Any]]] = None,
                    params: Optional[dict] = None, algo_params: Optional[dict] = None,
                    config: Union[None, PathLike, dict] = None, engine: Optional[dict] = None,
                    synthetic: Optional[dict] = None, source: Optional[dict] = None,
                    per_run: bool = False) -> pd.DataFrame:
    """Runs execution algorithms over several runs and summarizes the implementation shortfall.

    Runs: on the synthetic market (``data`` None) one per seed in ``seeds`` (default 1..10; the
    seed is both the market's and the engine's), on a file one per ``(start, end)`` in
    ``windows`` (ns since the epoch or ``"+S"``; default: the parameters' own start and end),
    and both combined when both are given. ``params`` go to every algorithm, ``algo_params``
    (name -> dict) only to the one named (e.g. ``{"pov": {"rate": 0.04}}``). Every run goes
    through :func:`run` (pre-pass when needed, so a VWAP profile is in-sample per run).

    Returns, with ``per_run``, one row per run (``strategy``, ``seed``, ``window`` and the report
    fields of docs/execution.md); otherwise one row per algorithm: ``runs``, and for each of
    :data:`STUDY_FIELDS` its mean (``<field>_mean``) and sample standard deviation over runs
    (``<field>_std``, ddof = 1, NaN for one run). IS in bps of the arrival price; spread + impact
    + timing = IS in every run, so the means add up too.
    """
    algos = [strategies] if isinstance(strategies, str) else list(strategies)
    if data is None and seeds is None:
        seeds = list(range(1, 11))
    seed_list: list[Optional[int]] = list(seeds) if seeds is not None else [None]
    window_list: list[Optional[tuple[Any, Any]]] = list(windows) if windows is not None else [None]
    results = []
    for name in algos:
        for seed in seed_list:
            for window in window_list:
                p = {**(params or {}), **((algo_params or {}).get(name, {}))}
                if window is not None:
                    p["start"], p["end"] = window
                syn = dict(synthetic or {})
                eng = dict(engine or {})
                if seed is not None:
                    syn["seed"] = int(seed)
                    eng["seed"] = int(seed)
                res = run(data, strategy=name, params=p, config=config, engine=eng, synthetic=syn or None,
                          source=source)
                keys = {"strategy": name, "seed": seed,
                        "window": None if window is None else f"{window[0]}..{window[1]}"}
                results.append((keys, res))
    df = _rows(results)
    if per_run:
        return df
    agg = []
    for name in algos:
        d = df[df["strategy"] == name]
        row: dict[str, Any] = {"strategy": name, "runs": len(d)}
        for f in STUDY_FIELDS:
            x = pd.to_numeric(d[f], errors="coerce")
            row[f"{f}_mean"] = float(x.mean())
            row[f"{f}_std"] = float(x.std(ddof=1)) if len(x) > 1 else math.nan
        agg.append(row)
    return pd.DataFrame(agg)
