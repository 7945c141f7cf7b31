"""Results of a backtest: DataFrames, the metrics dict, the terminal summary and the ``--out``
directory.

:class:`BacktestResults` wraps the dict the engine bindings return for a finished run
(``mmkit.Backtest.results()``):

``fills``
    dict of equal-length arrays, one row per fill of ours, in time order: ``exch_ts_ns``,
    ``local_ts_ns`` (int64 ns since the Unix epoch, UTC), ``order_id``, ``side`` (+1 buy,
    -1 sell), ``price``, ``qty``, ``fee`` (decimal; fee > 0 paid, < 0 rebate), ``maker`` (bool
    or 0/1), ``queue_ahead_at_entry`` (decimal qty, NaN for taker fills), ``mid_at_fill``
    (NaN when a side of the book was empty) and ``markout_<h>`` per horizon label (``100ms``,
    ``1s``, ...): (mid(t + h) − price) × side, decimal price per unit, NaN when the data ended
    before t + h.
``orders``
    the order log: ``ts_ns`` (local), ``exch_ts_ns``, ``order_id``, ``event``, ``status``,
    ``reason`` (str), ``side``, ``price``, ``qty``, ``leaves``, ``filled``.
``samples``
    the time series at the sampling interval: ``ts_ns`` (local), ``best_bid``, ``best_ask``,
    ``our_bid``, ``our_ask``, ``mid``, ``position``, ``pnl``, ``fees`` (decimals, NaN where
    absent; ``pnl`` = cash + position × mid with fees included; ``fees`` cumulative, < 0 when
    rebates dominate).
``metrics``
    every field of the C++ ``Metrics`` (docs/metrics.md), ``markout_mean`` as a dict
    horizon label -> value.
``instrument``, ``config`` (the resolved config), ``data`` (input paths), ``format``,
``run_info`` (wall-clock figures, machine).

Everything is vectorized: no Python loop runs per fill, order or sample.
"""
from __future__ import annotations

import json
import math
import os
import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Optional, Union

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import rich.table

#: Keys of run_info that are wall-clock or machine dependent; they never enter metrics.json.
WALL_CLOCK_KEYS = ("wall_time_s", "events_per_s", "machine", "python", "versions")

#: Order of the metrics in the summary table and the report (others follow, sorted).
METRIC_ORDER = (
    "total_pnl", "realized_pnl", "unrealized_pnl", "fees_paid", "rebates_earned",
    "sharpe", "sortino", "sample_interval_s", "max_drawdown", "var_95", "cvar_95",
    "orders", "fills", "maker_fills", "taker_fills", "cancels", "rejects", "fill_ratio",
    "volume", "notional", "spread_captured_mean", "markout_mean",
    "inventory_mean", "inventory_std", "inventory_max_abs", "time_at_position_limit",
    "events", "start_ns", "end_ns",
)

_FILL_TS = "exch_ts_ns"


def _columns(table: Optional[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    if not table:
        return {}
    return {str(k): np.asarray(v) for k, v in table.items()}


def _frame(table: Optional[Mapping[str, Any]], ts_col: str) -> pd.DataFrame:
    """DataFrame of the columns, indexed by a UTC DatetimeIndex made from ``ts_col`` (kept as a
    column too); an empty frame when there is no data."""
    cols = _columns(table)
    df = pd.DataFrame(cols)
    if ts_col in df.columns:
        idx = pd.DatetimeIndex(pd.to_datetime(df[ts_col].to_numpy(dtype="int64"), unit="ns", utc=True), name="time")
        df.index = idx
    return df


def _jsonable(x: Any) -> Any:
    """Plain-Python copy for json: NumPy scalars/arrays converted, NaN and ±inf as None."""
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return [_jsonable(v) for v in x.tolist()]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        f = float(x)
        return f if math.isfinite(f) else None
    if isinstance(x, Path):
        return str(x)
    return x


def _dumps(obj: Any) -> str:
    """Deterministic JSON: sorted keys, floats as their shortest round-trip repr, no NaN."""
    return json.dumps(_jsonable(obj), sort_keys=True, indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def _drop_none(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {k: _drop_none(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_drop_none(v) for v in x if v is not None]
    return x


def fmt_ns(ns: Any) -> str:
    """ns since the epoch as 'YYYY-MM-DD HH:MM:SS.fff UTC'; '-' for none."""
    if ns is None or (isinstance(ns, float) and not math.isfinite(ns)) or int(ns) <= -(2**62):
        return "-"
    return pd.Timestamp(int(ns), unit="ns", tz="UTC").strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def fmt_value(v: Any) -> str:
    """A metric for humans: integers with thousands separators; floats with 0 decimals from
    1,000 up, 2 decimals from 1 up, else 4 significant digits; 'n/a' for undefined (NaN /
    None)."""
    if v is None:
        return "n/a"
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if not math.isfinite(f):
            return "n/a"
        a = abs(f)
        text = f"{f:,.0f}" if a >= 1000 else (f"{f:,.2f}" if a >= 1 else f"{f:.4g}")
        return "0" if text.lstrip("-") in ("0", "0.00") else text
    return str(v)


class BacktestResults:
    """The results of one backtest run (see the module docstring for the input dict).

    Attributes:
        fills: DataFrame, one row per fill, indexed by the exchange time of the fill (UTC).
        orders: DataFrame, the order log, indexed by local time (UTC).
        samples: DataFrame, the sampled time series, indexed by local time (UTC).
        metrics: dict (docs/metrics.md), deterministic for given inputs and seed.
        instrument, config, run_info: dicts; data: list of input paths.
    """

    def __init__(self, raw: Mapping[str, Any]):
        self.raw = raw
        fills = _frame(raw.get("fills"), _FILL_TS)
        if "maker" in fills.columns:
            fills["maker"] = fills["maker"].astype(bool)
        if "side" in fills.columns:
            fills["side"] = fills["side"].astype("int8")
        self.fills = fills
        self.orders = _frame(raw.get("orders"), "ts_ns")
        self.samples = _frame(raw.get("samples"), "ts_ns")
        self.metrics: dict = dict(raw.get("metrics") or {})
        self.instrument: dict = dict(raw.get("instrument") or {})
        self.config: dict = dict(raw.get("config") or {})
        self.run_info: dict = dict(raw.get("run_info") or {})
        data = raw.get("data")
        self.data: list[str] = [str(data)] if isinstance(data, (str, os.PathLike)) else [str(d) for d in (data or [])]
        self.format: str = str(raw.get("format", ""))

    # -- descriptions ------------------------------------------------------------------------

    @property
    def strategy_name(self) -> str:
        """The strategy's name from the resolved config (``"python:<module>.<class>"`` for a
        Python strategy), "" when absent."""
        s = self.config.get("strategy")
        if isinstance(s, Mapping):
            return str(s.get("name", ""))
        return str(s or "")

    @property
    def max_position(self) -> float:
        """The engine's position limit (decimal qty), 0 when none."""
        eng = self.config.get("engine")
        v = eng.get("max_position") if isinstance(eng, Mapping) else self.config.get("max_position")
        try:
            return float(v or 0.0)
        except (TypeError, ValueError):
            return 0.0

    @property
    def markout_labels(self) -> list[str]:
        """Markout horizon labels in the fills, shortest horizon first."""
        from mmkit.report import horizon_seconds
        labels = [c[len("markout_"):] for c in self.fills.columns if c.startswith("markout_")]
        return sorted(labels, key=lambda s: (horizon_seconds(s), s))

    def pnl_decomposition(self) -> pd.DataFrame:
        """PnL at every sample split into spread capture, inventory PnL and fees
        (see :func:`mmkit.report.pnl_decomposition`)."""
        from mmkit.report import pnl_decomposition
        return pnl_decomposition(self)

    def timeseries(self) -> pd.DataFrame:
        """The samples with the PnL decomposition columns (what timeseries.csv holds)."""
        dec = self.pnl_decomposition()
        ts = self.samples.copy()
        if len(ts):
            for c in ("spread_capture", "inventory_pnl", "fees_pnl", "funding_pnl"):
                if c in dec.columns:
                    ts[c] = dec[c].to_numpy()
        return ts

    # -- terminal ----------------------------------------------------------------------------

    def summary_rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs of the summary, deterministic part first."""
        m = self.metrics
        cur = self.instrument.get("currency") or "quote"
        rows: list[tuple[str, str]] = []
        sym = self.instrument.get("symbol", "")
        venue = self.instrument.get("venue", "")
        rows.append(("instrument", f"{sym} @ {venue}".strip(" @") or "-"))
        rows.append(("data", ", ".join(self.data) or "-"))
        rows.append(("strategy", self.strategy_name or "-"))
        rows.append(("period", f"{fmt_ns(m.get('start_ns'))} -> {fmt_ns(m.get('end_ns'))}"))
        rows.append(("events", fmt_value(m.get("events"))))
        rows.append((f"total PnL ({cur})", fmt_value(m.get("total_pnl"))))
        rows.append(("  realized / unrealized", f"{fmt_value(m.get('realized_pnl'))} / {fmt_value(m.get('unrealized_pnl'))}"))
        rows.append(("  fees paid / rebates", f"{fmt_value(m.get('fees_paid'))} / {fmt_value(m.get('rebates_earned'))}"))
        if "funding_paid" in m:
            rows.append(("  funding paid (settlements)",
                         f"{fmt_value(m.get('funding_paid'))} ({fmt_value(m.get('funding_settlements'))})"))
        rows.append((f"Sharpe / Sortino ({fmt_value(m.get('sample_interval_s'))} s, annualized)",
                     f"{fmt_value(m.get('sharpe'))} / {fmt_value(m.get('sortino'))}"))
        rows.append(("max drawdown", fmt_value(m.get("max_drawdown"))))
        rows.append(("VaR / CVaR 95% per interval", f"{fmt_value(m.get('var_95'))} / {fmt_value(m.get('cvar_95'))}"))
        rows.append(("orders / fills (maker, taker)",
                     f"{fmt_value(m.get('orders'))} / {fmt_value(m.get('fills'))} "
                     f"({fmt_value(m.get('maker_fills'))}, {fmt_value(m.get('taker_fills'))})"))
        rows.append(("cancels / rejects", f"{fmt_value(m.get('cancels'))} / {fmt_value(m.get('rejects'))}"))
        rows.append(("fill ratio", fmt_value(m.get("fill_ratio"))))
        rows.append(("volume / notional", f"{fmt_value(m.get('volume'))} / {fmt_value(m.get('notional'))}"))
        rows.append(("spread captured / fill", fmt_value(m.get("spread_captured_mean"))))
        mk = m.get("markout_mean") or {}
        if isinstance(mk, Mapping) and mk:
            from mmkit.report import horizon_seconds
            labels = sorted(mk, key=lambda s: (horizon_seconds(s), s))
            rows.append(("markouts " + " / ".join(labels), " / ".join(fmt_value(mk[k]) for k in labels)))
        rows.append(("inventory mean / std / max|q|",
                     f"{fmt_value(m.get('inventory_mean'))} / {fmt_value(m.get('inventory_std'))} / "
                     f"{fmt_value(m.get('inventory_max_abs'))}"))
        rows.append(("time at position limit", fmt_value(m.get("time_at_position_limit"))))
        ri = self.run_info
        if "wall_time_s" in ri:
            rows.append(("wall time (s)", fmt_value(ri.get("wall_time_s"))))
        if "events_per_s" in ri:
            rows.append(("events/s", fmt_value(ri.get("events_per_s"))))
        return rows

    def summary_table(self) -> "rich.table.Table":
        """A ``rich.table.Table`` of the key metrics (and the run's wall-clock figures)."""
        from rich.table import Table
        t = Table(title=f"backtest: {self.strategy_name or '-'}", show_header=False, title_justify="left")
        t.add_column("metric")
        t.add_column("value", justify="right")
        for k, v in self.summary_rows():
            t.add_row(k, v)
        return t

    # -- output directory --------------------------------------------------------------------

    def metrics_json(self) -> str:
        """The text of metrics.json: sorted keys, round-trip floats, NaN as null, no wall-clock
        figure; byte-identical for the same inputs and seed."""
        m = {k: v for k, v in self.metrics.items() if k not in WALL_CLOCK_KEYS}
        return _dumps(m)

    def run_info_json(self) -> str:
        """The text of run_info.json: the run's wall-clock figures (wall_time_s, events_per_s),
        machine, platform and package versions; differs between runs by design."""
        info = dict(self.run_info)
        versions = dict(info.get("versions") or {})
        versions.setdefault("python", platform.python_version())
        versions.setdefault("numpy", np.__version__)
        versions.setdefault("pandas", pd.__version__)
        try:
            import mmkit
            versions.setdefault("mmkit", getattr(mmkit, "__version__", "unknown"))
        except Exception:  # the extension may be absent when results are built by hand
            versions.setdefault("mmkit", "unknown")
        try:
            import plotly
            versions.setdefault("plotly", plotly.__version__)
        except ImportError:
            pass
        info["versions"] = versions
        info.setdefault("machine", f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}")
        info.setdefault("platform", sys.platform)
        return _dumps(info)

    def write(self, out_dir: Union[str, os.PathLike]) -> Path:
        """Writes the run to ``out_dir`` (created if needed) and returns its path:

        metrics.json (deterministic), run_info.json (wall clock, events/s, versions, machine),
        fills.csv, orders.csv, timeseries.csv (ns timestamps and a UTC ``time`` column, floats
        written round-trip, NaN as empty), config.json (the resolved config; config.toml as
        well when ``tomli_w`` is installed) and report.html (self-contained).
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(self.metrics_json(), encoding="utf-8")
        (out / "run_info.json").write_text(self.run_info_json(), encoding="utf-8")
        self._write_csv(self.fills, out / "fills.csv")
        self._write_csv(self.orders, out / "orders.csv")
        self._write_csv(self.timeseries(), out / "timeseries.csv")
        (out / "config.json").write_text(_dumps(self.config), encoding="utf-8")
        try:
            import tomli_w
        except ImportError:
            tomli_w = None
        if tomli_w is not None:
            (out / "config.toml").write_text(tomli_w.dumps(_drop_none(_jsonable(self.config))), encoding="utf-8")
        from mmkit.report import write_report
        write_report(self, out / "report.html")
        return out

    @staticmethod
    def _write_csv(df: pd.DataFrame, path: Path) -> None:
        if isinstance(df.index, pd.DatetimeIndex):
            df = df.reset_index()  # the UTC "time" column first, then the raw columns
        df.to_csv(path, index=False, lineterminator="\n")

    def __repr__(self) -> str:
        m = self.metrics
        return (f"BacktestResults(strategy={self.strategy_name!r}, fills={len(self.fills)}, "
                f"orders={len(self.orders)}, samples={len(self.samples)}, total_pnl={m.get('total_pnl')!r})")
