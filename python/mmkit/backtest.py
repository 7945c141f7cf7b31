"""The main job: a tick-level market-making backtest (C++ engine, Python front).

    res = mmkit.backtest("btcusdt_20240808.gz", strategy="glft", config="configs/glft.toml")
    res.metrics["total_pnl"]; res.fills (DataFrame); res.write("runs/glft")

With no data the run uses the embedded synthetic market (a seeded L3 order-flow generator driving
the same matching engine). Configuration (TOML, see ``configs/README.md``):

    [strategy]      name = "glft" and the strategy's parameters (docs/strategies.md)
    [engine]        latency, queue model, fees, risk limits, seed, sampling (ENGINE_DEFAULTS)
    [synthetic]     the synthetic market (docs/synthetic_market.md), when no data is given
    [source]        instrument / publisher / tick_size selection for multi-instrument files

Precedence: built-in defaults < config file < keyword overrides (the CLI's --latency,
--queue-model, --maker-fee, --taker-fee, --seed). Every per-event step runs in C++; Python
drives the engine in chunks of events.
"""
from __future__ import annotations

import copy
import os
import platform
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from mmkit import _core
from mmkit.data import PathLike, _paths

#: Engine settings and their defaults (units in the names; docs in configs/README.md).
ENGINE_DEFAULTS: dict[str, Any] = {
    "entry_latency_ms": 1.0,       # strategy -> exchange
    "response_latency_ms": 1.0,    # exchange -> strategy
    "latency_csv": "",             # empirical latency samples (entry_ns,response_ns); overrides the two above
    "feed_latency": "data",        # "data": local - exchange stamps (clock offset removed); "constant"
    "feed_latency_ms": 1.0,        # constant feed latency (and fallback for one-clock data, e.g. LOBSTER)
    "queue_model": "prob-power-2", # L2 data only: risk-averse, prob-power-N, prob-log
    "maker_fee_bps": 0.0,          # negative = rebate
    "taker_fee_bps": 0.0,
    "seed": 1,
    "max_position": 0.0,           # decimal qty, 0 = no limit
    "max_order_qty": 0.0,          # decimal qty, 0 = no limit
    "max_open_orders": 0,          # 0 = no limit
    "max_notional": 0.0,           # quote currency, 0 = no limit
    "sample_interval_ms": 1000.0,  # time series + Sharpe sampling
    "timer_interval_ms": 100.0,    # strategy on_timer period
    "markouts_ms": [100.0, 1000.0, 10000.0, 60000.0],
    "own_orders_take_liquidity": False,
    "warmup_events": 0,
    "contract_multiplier": 0,      # currency per price unit x qty unit (futures, e.g. 50 for ES); 0 = 1
    "impact_model": "",            # own-order impact on our taker fills (docs/engine.md), e.g. "sqrt:sigma=...,V=..."; "" = none
}

SECTIONS = ("strategy", "engine", "synthetic", "source")
STRATEGIES = ("avellaneda-stoikov", "glft", "spread-quoter", "order-list", "twap", "vwap", "pov",
              "almgren-chriss", "adaptive")


def load_config(path: Optional[PathLike]) -> dict:
    """Reads a TOML config; raises :class:`mmkit.Error` naming the file and the bad section."""
    if path is None:
        return {}
    p = Path(path)
    try:
        with open(p, "rb") as f:
            cfg = tomllib.load(f)
    except OSError as e:
        raise _core.Error(f"{p}: cannot read config: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise _core.Error(f"{p}: invalid TOML: {e}") from None
    for key in cfg:
        if key not in SECTIONS:
            raise _core.Error(f"{p}: unknown section [{key}] (known: {', '.join(SECTIONS)})")
    return cfg


def resolve_config(config: Union[None, PathLike, dict] = None, *, strategy: Optional[str] = None,
                   params: Optional[dict] = None, engine: Optional[dict] = None,
                   synthetic: Optional[dict] = None, source: Optional[dict] = None) -> dict:
    """Merges defaults, a config (path or dict) and overrides into the resolved config dict
    ``{"strategy": {"name", "params"}, "engine", "synthetic", "source"}``."""
    cfg = copy.deepcopy(config) if isinstance(config, dict) else load_config(config)
    strat = dict(cfg.get("strategy", {}))
    name = strategy or strat.pop("name", None) or "glft"
    strat.pop("name", None)
    nested = strat.pop("params", {})
    merged_params = {**strat, **nested, **(params or {})}
    eng = {**ENGINE_DEFAULTS, **cfg.get("engine", {}), **(engine or {})}
    for k in eng:
        if k not in ENGINE_DEFAULTS:
            raise _core.Error(f"unknown engine setting '{k}' (known: {', '.join(ENGINE_DEFAULTS)})")
    if name not in STRATEGIES:
        raise _core.Error(f"unknown strategy '{name}' (known: {', '.join(STRATEGIES)})")
    return {
        "strategy": {"name": name, "params": merged_params},
        "engine": eng,
        "synthetic": {**cfg.get("synthetic", {}), **(synthetic or {})},
        "source": {**cfg.get("source", {}), **(source or {})},
    }


def latency_override(latency_ms: float) -> dict:
    """The engine settings behind ``--latency MS``: order entry and response latency of MS each;
    0 means no latency at all (feed latency forced to a constant 0 as well)."""
    if latency_ms < 0:
        raise _core.Error("--latency must be >= 0 ms")
    if latency_ms == 0:
        return {"entry_latency_ms": 0.0, "response_latency_ms": 0.0, "feed_latency": "constant",
                "feed_latency_ms": 0.0}
    return {"entry_latency_ms": latency_ms, "response_latency_ms": latency_ms}


class Backtest:
    """A steppable run of the C++ engine (the one event loop also used by RL and paper trading).

    ``step(n)`` processes n market events, ``run_until(ts_ns)`` everything up to a local time,
    ``run()`` to the end; ``results()`` returns :class:`mmkit.results.BacktestResults`.
    """

    def __init__(self, data: Union[None, PathLike, Sequence[PathLike]] = None, *,
                 config: Union[None, PathLike, dict] = None, strategy: Optional[str] = None,
                 params: Optional[dict] = None, engine: Optional[dict] = None,
                 synthetic: Optional[dict] = None, source: Optional[dict] = None):
        self.paths = [] if data is None else _paths(data)
        self.config = resolve_config(config, strategy=strategy, params=params, engine=engine,
                                     synthetic=synthetic, source=source)
        self._t0 = time.perf_counter()
        # Execution algorithms without a volume profile / end time get them from an in-sample
        # pre-pass over the same data (mmkit.execution, docs/execution.md); others are unchanged.
        from mmkit import execution
        with tempfile.TemporaryDirectory(prefix="mmkit-profile-") as tmp:
            self.config = execution.prepared_config(self.paths or None, self.config,
                                                    Path(tmp) / "volume_profile.csv")
            eng = dict(self.config["engine"])
            self._bt = _core.Backtest(self.paths, self.config["synthetic"], self.config["source"],
                                      self.config["strategy"]["name"], self.config["strategy"]["params"], eng)
        self._wall = 0.0

    def step(self, n: int) -> bool:
        return self._bt.step(int(n))

    def run_until(self, ts_ns: int) -> bool:
        return self._bt.run_until(int(ts_ns))

    def run(self, progress: Optional[Callable[[int], None]] = None, chunk: int = 250_000) -> None:
        """Runs to the end, in chunks of ``chunk`` events, calling ``progress(events)`` between."""
        while self._bt.step(chunk):
            if progress is not None:
                progress(self._bt.events_processed)
        if progress is not None:
            progress(self._bt.events_processed)

    @property
    def finished(self) -> bool:
        return self._bt.finished

    @property
    def events_processed(self) -> int:
        return self._bt.events_processed

    @property
    def now(self) -> int:
        return self._bt.now

    @property
    def position(self) -> float:
        return self._bt.position

    def results(self):
        from mmkit.results import BacktestResults
        wall = time.perf_counter() - self._t0
        raw = self._bt.result()
        names = _core.event_names()
        orders = raw["orders"]
        for key in ("event", "status", "reason"):
            codes = orders.pop(f"{key}_code")
            orders[key] = np.asarray(names[key], dtype=object)[codes] if len(codes) else np.asarray([], dtype=object)
        config = copy.deepcopy(self.config)
        config["strategy"]["params"] = dict(raw.pop("strategy_params"))
        summary = dict(raw.pop("strategy_summary"))
        if summary:
            raw["metrics"]["strategy"] = summary
        raw["config"] = config
        raw["instrument"] = dict(self._bt.instrument)
        raw["data"] = [str(p) for p in self.paths] or ["synthetic market"]
        raw["format"] = self._bt.format
        events = int(raw["metrics"]["events"])
        raw["run_info"] = {
            "wall_time_s": wall,
            "events": events,
            "events_per_s": events / wall if wall > 0 else None,
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
            "python": platform.python_version(),
            "market_profile": dict(self._bt.profile),
        }
        return BacktestResults(raw)


def backtest(data: Union[None, PathLike, Sequence[PathLike]] = None, *, strategy: Optional[str] = None,
             config: Union[None, PathLike, dict] = None, params: Optional[dict] = None,
             engine: Optional[dict] = None, synthetic: Optional[dict] = None,
             source: Optional[dict] = None, progress: Optional[Callable[[int], None]] = None):
    """Runs a backtest to the end and returns :class:`mmkit.results.BacktestResults` (fills,
    orders and time series as DataFrames, metrics dict). Raises :class:`mmkit.Error` on bad data
    or configuration."""
    bt = Backtest(data, config=config, strategy=strategy, params=params, engine=engine,
                  synthetic=synthetic, source=source)
    bt.run(progress=progress)
    return bt.results()
