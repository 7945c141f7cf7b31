"""The main job: a tick-level market-making backtest (C++ engine, Python front).

    res = mmkit.backtest("btcusdt_20240808.gz", strategy="glft", config="configs/glft.toml")
    res.metrics["total_pnl"]; res.fills (DataFrame); res.write("runs/glft")

With no data the run uses the embedded synthetic market (a seeded L3 order-flow generator driving
the same matching engine); by default the order flow fitted on LOBSTER GOOG 2012-06-21
(``[synthetic] preset = "goog2012"``, configs/synthetic_goog.toml; ``"cst2010"`` for the CST 2010
set). Configuration (TOML, see ``configs/README.md``):

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
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, Union

import numpy as np

from mmkit import _core
from mmkit.config import read_toml
from mmkit.data import PathLike, _paths

if TYPE_CHECKING:
    from mmkit.results import BacktestResults

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
    "funding": "none",             # perpetual funding settled into cash (docs/engine.md "Funding"): "none", "constant" or a funding file path
    "funding_rate": 0.0001,        # "constant": fraction per interval (0.0001 = 0.01 %, Binance USD-M baseline); > 0: longs pay shorts
    "funding_interval_h": 8.0,     # "constant": settlements every N hours from 00:00 UTC (8: 00/08/16 UTC)
}

SECTIONS = ("strategy", "engine", "synthetic", "source", "modules")
STRATEGIES = ("avellaneda-stoikov", "glft", "spread-quoter", "order-list", "rl-policy", "twap", "vwap", "pov",
              "almgren-chriss", "adaptive")


def load_config(path: Optional[PathLike], sections: Sequence[str] = SECTIONS) -> dict:
    """Reads a TOML config; raises :class:`mmkit.Error` naming the file and the bad section."""
    if path is None:
        return {}
    p = Path(path)
    cfg = read_toml(p)
    for key in cfg:
        if key not in sections:
            raise _core.Error(f"{p}: unknown section [{key}] (known: {', '.join(sections)})")
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
    # [modules.NAME] key = value -> strategy param "NAME.key" (the quoting strategies' modules,
    # docs/modules.md); the C++ side validates module and key names.
    module_params = {}
    for mod, keys in cfg.get("modules", {}).items():
        if not isinstance(keys, dict):
            raise _core.Error(f"[modules.{mod}] must be a table of settings")
        module_params.update({f"{mod}.{k}": v for k, v in keys.items()})
    merged_params = {**strat, **nested, **module_params, **(params or {})}
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

    Args:
        data: one path or several read as one stream (any format :func:`mmkit.open_source`
            reads); None: the synthetic market of the ``[synthetic]`` section.
        config: a TOML config path or an equivalent dict (sections ``strategy``, ``engine``,
            ``synthetic``, ``source``, ``modules``; ``configs/README.md``).
        strategy: a shipped strategy's name (:data:`STRATEGIES`; overrides the config's) or an
            :class:`mmkit.Strategy` instance (Python, the slow path; replaces ``[strategy]``).
        params, engine, synthetic, source: overrides of the config's sections (engine keys and
            units: :data:`ENGINE_DEFAULTS`; prices and quantities are decimals).

    Raises :class:`mmkit.Error` for an unknown section, setting, strategy or parameter (naming
    it), ``params`` given with a Python strategy, and malformed data (file, line, field);
    ``TypeError`` for a strategy object that is not an :class:`mmkit.Strategy`.
    """

    def __init__(self, data: Union[None, PathLike, Sequence[PathLike]] = None, *,
                 config: Union[None, PathLike, dict] = None, strategy: Union[None, str, "_core.Strategy"] = None,
                 params: Optional[dict] = None, engine: Optional[dict] = None,
                 synthetic: Optional[dict] = None, source: Optional[dict] = None):
        self.paths = [] if data is None else _paths(data)
        # strategy: a shipped strategy's name, or an mmkit.Strategy instance (Python, the slow
        # path: mmkit.strategy, docs/python_api.md) which replaces the [strategy] section.
        py_strategy = None if strategy is None or isinstance(strategy, str) else strategy
        if py_strategy is not None and params:
            raise _core.Error("params apply to shipped strategies; give a Python strategy its parameters itself")
        self.config = resolve_config(config, strategy=None if py_strategy is not None else strategy,
                                     params=params, engine=engine, synthetic=synthetic, source=source)
        if py_strategy is not None:
            from mmkit.strategy import strategy_name
            self.config["strategy"] = {"name": strategy_name(py_strategy), "params": {}}
        self._t0 = time.perf_counter()
        # Execution algorithms without a volume profile / end time get them from an in-sample
        # pre-pass over the same data (mmkit.execution, docs/execution.md); others are unchanged.
        from mmkit import execution
        with tempfile.TemporaryDirectory(prefix="mmkit-profile-") as tmp:
            self.config = execution.prepared_config(self.paths or None, self.config,
                                                    Path(tmp) / "volume_profile.csv")
            eng = dict(self.config["engine"])
            if py_strategy is not None:
                self._bt = _core.Backtest(self.paths, self.config["synthetic"], self.config["source"],
                                          py_strategy, eng)
            else:
                self._bt = _core.Backtest(self.paths, self.config["synthetic"], self.config["source"],
                                          self.config["strategy"]["name"], self.config["strategy"]["params"], eng)
        self._wall = 0.0

    def step(self, n: int) -> bool:
        """Processes up to ``n`` market events; False once the data is exhausted (the run is then
        finished and its metrics final)."""
        return self._bt.step(int(n))

    def run_until(self, ts_ns: int) -> bool:
        """Processes everything due at or before local time ``ts_ns`` (int ns since the Unix
        epoch, UTC); False once the data is exhausted."""
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
        """True once the data is exhausted and the run finished."""
        return self._bt.finished

    @property
    def events_processed(self) -> int:
        """Market events processed so far."""
        return self._bt.events_processed

    @property
    def now(self) -> int:
        """Local time of the engine, int ns since the Unix epoch (UTC)."""
        return self._bt.now

    @property
    def position(self) -> float:
        """Position from the fills so far, decimal qty (> 0 long)."""
        return self._bt.position

    @property
    def book(self) -> "_core.BookView":
        """The strategy's local book (after the feed latency), a live read-only view:
        ``best_bid(raw=False)``, ``best_ask``, ``level(side, i)``, ``depth(side)``, ``mid()``."""
        return self._bt.book

    @property
    def cash(self) -> float:
        """Cash in the quote currency, fees included (with ``position``: the account now)."""
        return self._bt.cash

    def results(self) -> BacktestResults:
        """The results so far (complete once finished) as :class:`mmkit.results.BacktestResults`:
        fills, orders and samples as DataFrames, the metrics dict, the resolved config and the
        run's wall-clock figures. Order-log codes are mapped to names."""
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


def backtest(data: Union[None, PathLike, Sequence[PathLike]] = None, *,
             strategy: Union[None, str, "_core.Strategy"] = None,
             config: Union[None, PathLike, dict] = None, params: Optional[dict] = None,
             engine: Optional[dict] = None, synthetic: Optional[dict] = None,
             source: Optional[dict] = None, progress: Optional[Callable[[int], None]] = None) -> BacktestResults:
    """Runs a backtest to the end and returns :class:`mmkit.results.BacktestResults` (fills,
    orders and time series as DataFrames, metrics dict). Arguments as :class:`Backtest`;
    ``progress(events)`` is called between chunks of 250,000 events. Raises :class:`mmkit.Error`
    on bad data or configuration."""
    bt = Backtest(data, config=config, strategy=strategy, params=params, engine=engine,
                  synthetic=synthetic, source=source)
    bt.run(progress=progress)
    return bt.results()
