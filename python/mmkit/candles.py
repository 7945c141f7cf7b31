"""Candle backtester — LOWER FIDELITY: fast, coarse sweeps over months of OHLCV candles.

No order book, no queue, no latency: a quote resting through a candle fills in full at its own
price when the candle's low (bid) / high (ask) strictly crosses it. Quotes for candle t use only
candles up to t-1. Model, assumptions and measured figures: ``docs/candle_backtest.md``; the C++
core is ``include/mmkit/engine/candle_backtest.h``.

    res = candle_backtest("BTCUSDT_1m.csv", config="configs/candles.toml")
    res.metrics["pnl"]; res.equity (DataFrame); res.write("runs/candles")
    grid = candle_sweep("BTCUSDT_1m.csv", {"min_spread_bps": [2, 5, 10], "skew_per_lot": [0, 5]})
    candles_from_trades(["btcusdt_20240808.gz"], interval_s=60, out="btc_1m.csv")
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, List, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd

from mmkit import _core
from mmkit.config import read_toml

PathLike = Union[str, os.PathLike]

FIDELITY = "lower fidelity"
TITLE = "candle backtest — lower fidelity"
#: What the label "lower fidelity" means, printed with every result.
CAVEAT = ("no queue, no latency, fills at the quote when the candle's range crosses it; "
          "both sides may fill in one candle")

#: Non-numeric keys of the [candles] section (everything else is a numeric key of the C++ config).
TEXT_KEYS = ("strategy", "vol_estimator")
EXTRA_KEYS = ("funding", "threads", "start", "end")


def param_keys() -> list[str]:
    """Numeric config keys (``set_candle_param`` in C++), in declaration order."""
    return list(_core.candle_param_keys())


def load_candle_config(path: Optional[PathLike]) -> dict:
    """Reads a TOML file with sections [candles] (settings) and [sweep] (axes: key = [values]).
    Returns {"candles": {...}, "sweep": {...}}. Raises :class:`mmkit.Error` for unreadable TOML,
    an unknown section or key."""
    cfg: dict = {"candles": {}, "sweep": {}}
    if path is None:
        return cfg
    p = Path(path)
    raw = read_toml(p)
    known = set(param_keys()) | set(TEXT_KEYS) | set(EXTRA_KEYS)
    for section, body in raw.items():
        if section not in cfg:
            raise _core.Error(f"{p}: unknown section [{section}] (known: candles, sweep)")
        for k in body:
            if k not in known or (section == "sweep" and k not in param_keys()):
                raise _core.Error(f"{p}: [{section}] unknown key '{k}'")
        cfg[section].update(body)
    return cfg


def to_ns(t: Any) -> int:
    """A time (ISO string, UTC unless it says otherwise; pandas Timestamp; int ns) -> ns since
    epoch; None / "" -> 0 (unbounded)."""
    if t is None or t == "" or t == 0:
        return 0
    if isinstance(t, int):
        return t
    ts = pd.Timestamp(t)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.value)


def _split(settings: Mapping[str, Any]) -> tuple[dict, str, int, tuple[int, int]]:
    core = {k: v for k, v in settings.items() if k not in EXTRA_KEYS}
    funding = str(settings.get("funding", "") or "")
    threads = int(settings.get("threads", 2))
    return core, funding, threads, (to_ns(settings.get("start")), to_ns(settings.get("end")))


def _resolve(config: Optional[PathLike | Mapping], strategy: Optional[str], funding: Optional[PathLike],
             overrides: Optional[Mapping[str, Any]]) -> tuple[dict, dict]:
    if isinstance(config, Mapping):
        cfg = {"candles": dict(config.get("candles", config)), "sweep": dict(config.get("sweep", {}))}
    else:
        cfg = load_candle_config(config)
    settings = dict(cfg["candles"])
    if strategy is not None:
        settings["strategy"] = strategy
    if funding is not None:
        settings["funding"] = os.fspath(funding)
    if overrides:
        settings.update(overrides)
    return settings, cfg["sweep"]


class CandleResult:
    """One candle backtest: ``metrics`` (dict), ``equity`` (DataFrame indexed by close time:
    close, bid, ask (NaN = not quoted), position, cash, equity), ``fills`` (DataFrame: candle,
    close_time, side (+1 buy / -1 sell), price, qty, fee), ``funding`` (DataFrame: rate, mark,
    position, payment (> 0 paid)), ``info`` (input summary), ``settings`` (resolved config)."""

    fidelity = FIDELITY

    def __init__(self, raw: dict, settings: dict, wall_s: float):
        self.metrics: dict = dict(raw["metrics"])
        self.info: dict = dict(raw["info"])
        self.settings = settings
        self.wall_s = wall_s
        eq = raw["equity"]
        idx = pd.to_datetime(np.asarray(eq["close_ts_ns"]), unit="ns", utc=True)
        self.equity = pd.DataFrame({k: np.asarray(eq[k]) for k in ("close", "bid", "ask", "position", "cash", "equity")},
                                   index=idx)
        self.equity.index.name = "close_time"
        f = raw["fills"]
        self.fills = pd.DataFrame({"candle": np.asarray(f["candle"]),
                                   "close_time": pd.to_datetime(np.asarray(f["close_ts_ns"]), unit="ns", utc=True),
                                   "side": np.asarray(f["side"]), "price": np.asarray(f["price"]),
                                   "qty": np.asarray(f["qty"]), "fee": np.asarray(f["fee"])})
        p = raw["funding"]
        self.funding = pd.DataFrame({k: np.asarray(p[k]) for k in ("rate", "mark", "position", "payment")},
                                    index=pd.to_datetime(np.asarray(p["ts_ns"]), unit="ns", utc=True))
        self.funding.index.name = "funding_time"

    def summary(self) -> dict:
        m = self.metrics
        return {"fidelity": FIDELITY, "caveat": CAVEAT, **{k: m[k] for k in (
            "pnl", "gross_pnl", "fees", "funding", "sharpe", "max_drawdown", "fills", "volume",
            "inventory_mean", "inventory_std", "candles", "quoted_candles", "funding_settlements")}}

    def write(self, out: PathLike, sweep: Optional[pd.DataFrame] = None) -> None:
        """Writes metrics.json, equity.csv, fills.csv, funding.csv, sweep.csv (if given) and
        report.html into ``out``."""
        d = Path(out)
        d.mkdir(parents=True, exist_ok=True)
        doc = {"title": TITLE, "fidelity": FIDELITY, "caveat": CAVEAT, "metrics": self.metrics,
               "input": self.info, "config": self.settings, "wall_s": self.wall_s}
        (d / "metrics.json").write_text(json.dumps(doc, indent=2, default=str))
        self.equity.to_csv(d / "equity.csv")
        self.fills.to_csv(d / "fills.csv", index=False)
        self.funding.to_csv(d / "funding.csv")
        if sweep is not None:
            sweep.to_csv(d / "sweep.csv", index=False)
        write_report(d / "report.html", self, sweep)


def candle_backtest(path: PathLike, config: Optional[PathLike | Mapping] = None, *,
                    strategy: Optional[str] = None, funding: Optional[PathLike] = None,
                    overrides: Optional[Mapping[str, Any]] = None) -> CandleResult:
    """Runs one candle backtest (lower fidelity) on a candle file (any format of
    :func:`mmkit.read_candles`). ``config``: a TOML path (configs/candles.toml) or a dict of
    [candles] keys; ``overrides`` win over it. Keys ``start`` / ``end`` (ISO time, UTC) keep the
    candles opening in [start, end). Raises :class:`mmkit.Error`."""
    settings, _ = _resolve(config, strategy, funding, overrides)
    core, fpath, _, (start, end) = _split(settings)
    t0 = time.perf_counter()
    raw = _core.candle_backtest(os.fspath(path), fpath, core, True, start, end)
    return CandleResult(raw, settings, time.perf_counter() - t0)


def candle_sweep(path: PathLike, axes: Mapping[str, Sequence[float]], config: Optional[PathLike | Mapping] = None, *,
                 strategy: Optional[str] = None, funding: Optional[PathLike] = None,
                 overrides: Optional[Mapping[str, Any]] = None, threads: Optional[int] = None) -> pd.DataFrame:
    """Runs the grid (Cartesian product of ``axes``, last axis fastest) and returns one row per
    point: the axis values then the metrics. ``df.attrs``: wall_s (file read + all runs),
    points, candles, candles_per_s (candles × points / wall_s), fidelity. Rows do not depend on
    ``threads``. Raises :class:`mmkit.Error` for unknown keys or invalid points."""
    settings, cfg_axes = _resolve(config, strategy, funding, overrides)
    core, fpath, th, (start, end) = _split(settings)
    if threads is not None:
        th = threads
    ax = dict(cfg_axes)
    ax.update(axes)
    if not ax:
        raise _core.Error("candle sweep: no axes (give --sweep key=v1,v2 or a [sweep] section)")
    pairs = [(str(k), [float(x) for x in v]) for k, v in ax.items()]
    t0 = time.perf_counter()
    res = _core.candle_sweep(os.fspath(path), fpath, core, pairs, th, start, end)
    wall = time.perf_counter() - t0
    keys = [k for k, _ in pairs]
    df = pd.DataFrame(res["rows"])
    df = df[keys + [c for c in df.columns if c not in keys]]
    n = int(res["info"]["candles"])
    df.attrs.update({"wall_s": wall, "points": len(df), "candles": n, "threads": th,
                     "candles_per_s": n * len(df) / wall if wall > 0 else float("nan"),
                     "fidelity": FIDELITY})
    return df


def parse_interval(s: Union[str, int, float]) -> int:
    """'60s', '1m', '1h', '500ms' or seconds (number) -> ns (> 0)."""
    if isinstance(s, (int, float)):
        ns = int(round(float(s) * 1e9))
    else:
        t = s.strip().lower()
        for suffix, mult in (("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)):
            if t.endswith(suffix):
                ns = int(round(float(t[: -len(suffix)]) * mult))
                break
        else:
            ns = int(round(float(t) * 1e9))
    if ns <= 0:
        raise _core.Error(f"interval '{s}': must be > 0")
    return ns


def candles_from_trades(paths: Union[PathLike, Sequence[PathLike]], interval: Union[str, float] = "60s", *,
                        out: Optional[PathLike] = None, executions: str = "auto", instrument: str = "",
                        publisher: int = -1) -> dict:
    """OHLCV bars from the trade prints of a tick file (any format of :func:`mmkit.open_source`),
    aligned to multiples of the interval, by exchange time; empty bars flat at the previous close.
    ``executions``: also count visible executions as prints ("auto": yes for LOBSTER, whose
    visible trades are executions). With ``out``, writes a Binance USD-M kline CSV that
    :func:`mmkit.read_candles` and :func:`candle_backtest` read. Returns a summary dict (candles,
    prints, tick_size, lot_size, ...)."""
    ps = [os.fspath(paths)] if isinstance(paths, (str, os.PathLike)) else [os.fspath(p) for p in paths]
    return dict(_core.candles_from_trades_file(ps, parse_interval(interval), executions,
                                               os.fspath(out) if out is not None else "", instrument, publisher))


def write_report(path: PathLike, res: CandleResult, sweep: Optional[pd.DataFrame] = None) -> None:
    """A small self-contained plotly HTML report titled "candle backtest — lower fidelity"."""
    import plotly.graph_objects as go
    import plotly.io as pio
    from plotly.subplots import make_subplots

    eq = res.equity
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        subplot_titles=("equity (quote currency, marked at each close)", "position (base)", "close"))
    fig.add_trace(go.Scatter(x=eq.index, y=eq["equity"], name="equity", line=dict(width=1)), row=1, col=1)
    fig.add_trace(go.Scatter(x=eq.index, y=eq["position"], name="position", line=dict(width=1)), row=2, col=1)
    fig.add_trace(go.Scatter(x=eq.index, y=eq["close"], name="close", line=dict(width=1)), row=3, col=1)
    fig.update_layout(height=800, title=f"{TITLE}: {Path(res.info['path']).name} ({res.settings.get('strategy', 'spread-quoter')})",
                      showlegend=False)
    parts = [pio.to_html(fig, full_html=False, include_plotlyjs=True, div_id="mmkit-candles-equity")]
    if sweep is not None and len(sweep):
        keys = [c for c in sweep.columns if c in set(param_keys())]
        label = sweep[keys].astype(str).agg(" ".join, axis=1) if keys else sweep.index.astype(str)
        sf = go.Figure(go.Bar(x=label, y=sweep["pnl"], name="pnl"))
        sf.update_layout(title=f"sweep: PnL per grid point ({' × '.join(keys)}) — lower fidelity", height=450)
        parts.append(pio.to_html(sf, full_html=False, include_plotlyjs=False, div_id="mmkit-candles-sweep"))
    m = res.metrics
    rows = "".join(f"<tr><td>{k}</td><td>{v:,.6g}</td></tr>" if isinstance(v, float) else f"<tr><td>{k}</td><td>{v:,}</td></tr>"
                   for k, v in m.items())
    html = (f"<!doctype html><html><head><meta charset='utf-8'><title>{TITLE}</title></head><body>"
            f"<h1>{TITLE}</h1><p><b>Lower fidelity:</b> {CAVEAT}. Quotes from candles up to the previous close. "
            f"See docs/candle_backtest.md.</p><table border='1' cellspacing='0' cellpadding='3'>{rows}</table>"
            + "".join(parts) + "</body></html>")
    Path(path).write_text(html)


# ---------------------------------------------------------------------------------------------
# Tick vs candle over the same window.

#: Candle keys passed to the tick engine's strategy (docs/strategies.md) by compare_with_tick.
_TICK_PARAMS = {
    "spread-quoter": ("order_qty", "max_position", "min_spread_ticks", "vol_multiplier", "skew_per_lot"),
    "avellaneda-stoikov": ("order_qty", "max_position", "gamma", "k", "sigma", "horizon_s"),
}


def compare_with_tick(data: Union[PathLike, Sequence[PathLike]], config: Optional[PathLike | Mapping] = None, *,
                      strategy: Optional[str] = None, intervals: Sequence[Union[str, float]] = ("60s",),
                      overrides: Optional[Mapping[str, Any]] = None, engine: Optional[Mapping[str, Any]] = None,
                      workdir: Optional[PathLike] = None, executions: str = "auto",
                      matched_requote: bool = True) -> pd.DataFrame:
    """Runs the tick backtester (``mmkit.backtest``: queue, latency, the live book) and the candle
    backtester (lower fidelity) with the same strategy parameters over the same window: candles
    are built from the tick file's own trade prints at each interval. Tick size, lot and
    multiplier come from the tick file's instrument. The spread quoter is compared with
    ``levels = 1``; Avellaneda-Stoikov needs gamma, k and sigma given (the tick engine's defaults
    are resolved from the live book, which the candles do not have). Returns one row per model
    (``tick``: requotes on every book update; with ``matched_requote``, ``tick timer <interval>``:
    the tick engine requoting only on a timer of the candle length, so that the remaining
    difference is the fill model; ``candle <interval>``): pnl, fills, volume, inventory_std,
    inventory_mean, fees, and the ratios of pnl, fills, volume and inventory_std to the tick row
    named in ``ref`` (the matched timer row when run, else ``tick``). ``df.attrs`` holds the
    settings."""
    import tempfile

    from mmkit.backtest import Backtest

    settings, _ = _resolve(config, strategy, None, overrides)
    strat = str(settings.get("strategy", "spread-quoter"))
    if strat not in _TICK_PARAMS:
        raise _core.Error(f"compare: strategy '{strat}' (known: {', '.join(_TICK_PARAMS)})")
    if strat == "avellaneda-stoikov":
        for k in ("gamma", "k", "sigma"):
            if not float(settings.get(k, 0) or 0) > 0:
                raise _core.Error(f"compare: avellaneda-stoikov needs '{k}' > 0 given (no live book in candles)")
    if float(settings.get("min_spread_bps", 0) or 0) > 0:
        raise _core.Error("compare: min_spread_bps has no tick-engine counterpart; use min_spread_ticks")
    if float(settings.get("volume_fraction", 0) or 0) > 0 or settings.get("touch"):
        pass  # candle-only options; they change only the candle side, stated in the attrs
    paths = [os.fspath(data)] if isinstance(data, (str, os.PathLike)) else [os.fspath(p) for p in data]
    defaults = {"min_spread_ticks": 1.0, "vol_multiplier": 0.0, "skew_per_lot": 0.0,
                "order_qty": 0.001, "max_position": 0.01, "gamma": 0.1, "k": 0.0, "sigma": 0.0, "horizon_s": 60.0}
    params = {k: float(settings.get(k, defaults[k])) for k in _TICK_PARAMS[strat]}
    if strat == "spread-quoter":
        params["levels"] = 1
    else:
        params["horizon"] = "rolling"
    eng = {"maker_fee_bps": float(settings.get("maker_fee_bps", 0.0)), "taker_fee_bps": 0.0,
           **(dict(engine) if engine else {})}
    def run_tick(name: str, extra_params: dict, extra_engine: dict):
        t0 = time.perf_counter()
        bt = Backtest(paths, strategy=strat, params={**params, **extra_params}, engine={**eng, **extra_engine})
        bt.run()
        res = bt.results()
        tm = res.metrics
        return res, {"model": name, "ref": None, "pnl": tm["total_pnl"], "fills": int(tm["fills"]),
                     "volume": tm["volume"], "inventory_mean": tm["inventory_mean"],
                     "inventory_std": tm["inventory_std"], "fees": tm["fees_paid"] - tm["rebates_earned"],
                     "bars": None, "wall_s": time.perf_counter() - t0}

    tick, row = run_tick("tick", {}, {})
    tm = tick.metrics
    rows = [row]
    tmp = tempfile.TemporaryDirectory() if workdir is None else None
    wd = Path(workdir) if workdir is not None else Path(tmp.name)
    wd.mkdir(parents=True, exist_ok=True)
    try:
        for iv in intervals:
            ns = parse_interval(iv)
            csv = wd / f"candles_{ns // 1_000_000}ms.csv"
            info = candles_from_trades(paths, iv, out=csv, executions=executions)
            cset = {**settings, "tick_size": info["tick_size"], "lot_size": info["lot_size"],
                    "contract_multiplier": info["contract_multiplier"], "funding": ""}
            ref = "tick"
            if matched_requote:
                ms = ns / 1e6
                _, trow = run_tick(f"tick timer {iv}", {"requote_on": "timer", "min_requote_interval_ms": 0.0},
                                   {"timer_interval_ms": ms})
                trow["ref"] = "tick"
                rows.append(trow)
                ref = trow["model"]
            r = candle_backtest(csv, {"candles": cset})
            m = r.metrics
            rows.append({"model": f"candle {iv}", "ref": ref, "pnl": m["pnl"], "fills": int(m["fills"]), "volume": m["volume"],
                         "inventory_mean": m["inventory_mean"], "inventory_std": m["inventory_std"],
                         "fees": m["fees"], "bars": int(m["candles"]), "wall_s": r.wall_s})
    finally:
        if tmp is not None:
            tmp.cleanup()
    df = pd.DataFrame(rows)
    df["bars"] = df["bars"].astype("Int64")
    by_name = {r["model"]: r for r in rows}
    for k in ("pnl", "fills", "volume", "inventory_std"):
        out = []
        for r in rows:
            base = by_name[r["ref"]][k] if r["ref"] else None
            out.append(float("nan") if not base else r[k] / base)
        df[f"{k}_ratio"] = out
    df.attrs.update({"strategy": strat, "tick_params": params, "tick_engine": {k: tick.config["engine"][k] for k in (
        "entry_latency_ms", "response_latency_ms", "queue_model", "maker_fee_bps")},
        "candle_settings": {k: v for k, v in settings.items() if k != "funding"},
        "tick_period": [tm.get("start_ns"), tm.get("end_ns")], "fidelity": FIDELITY})
    return df


# ---------------------------------------------------------------------------------------------
# CLI: `mmkit candles backtest|from-trades` (registered by mmkit.cli).

def _parse_sweep(items: Sequence[str]) -> dict[str, list[float]]:
    axes: dict[str, list[float]] = {}
    for it in items:
        if "=" not in it:
            raise _core.Error(f"--sweep '{it}': expected key=v1,v2,...")
        k, vs = it.split("=", 1)
        try:
            axes[k.strip()] = [float(x) for x in vs.split(",") if x.strip()]
        except ValueError:
            raise _core.Error(f"--sweep '{it}': values must be numbers") from None
    return axes


def _parse_set(items: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for it in items:
        if "=" not in it:
            raise _core.Error(f"--set '{it}': expected key=value")
        k, v = (s.strip() for s in it.split("=", 1))
        if k in TEXT_KEYS or k in ("funding", "start", "end"):
            out[k] = v
        elif v.lower() in ("true", "false"):
            out[k] = v.lower() == "true"
        else:
            try:
                out[k] = float(v)
            except ValueError:
                raise _core.Error(f"--set '{it}': value must be a number") from None
    return out


def build_cli():
    """The ``candles`` typer sub-application."""

    import typer
    from rich.console import Console
    from rich.table import Table

    app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                      help="Candle backtester (LOWER FIDELITY: no queue, no latency, fills when the range crosses the quote).")
    console = Console()

    @app.command("backtest")
    def backtest_cmd(
        file: Path = typer.Argument(..., help="Candle CSV (Bybit, Binance spot / USD-M kline, FTX, or `mmkit candles from-trades` output)."),
        strategy: Optional[str] = typer.Option(None, "--strategy", "-s", help="spread-quoter or avellaneda-stoikov (default: the config's, else spread-quoter)."),
        config: Optional[Path] = typer.Option(None, "--config", "-c", help="TOML with [candles] and [sweep] (configs/candles.toml)."),
        sweep: Optional[List[str]] = typer.Option(None, "--sweep", help="Sweep axis key=v1,v2,... (repeatable; grid = product)."),
        set_: Optional[List[str]] = typer.Option(None, "--set", help="Override a [candles] key: key=value (repeatable)."),
        funding: Optional[Path] = typer.Option(None, "--funding", help="Funding-rate file settled in the PnL."),
        threads: Optional[int] = typer.Option(None, "--threads", help="Sweep threads (default: config's, else 2)."),
        start: Optional[str] = typer.Option(None, "--start", help="Keep candles opening at or after this time (ISO, UTC)."),
        end: Optional[str] = typer.Option(None, "--end", help="Keep candles opening before this time (ISO, UTC)."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output dir: metrics.json, equity.csv, fills.csv, funding.csv, sweep.csv, report.html."),
        as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
    ) -> None:
        """Candle backtest (LOWER FIDELITY) of one configuration, plus an optional parameter sweep."""
        overrides = _parse_set(set_ or [])
        if start is not None:
            overrides["start"] = start
        if end is not None:
            overrides["end"] = end
        res = candle_backtest(file, config, strategy=strategy, funding=funding, overrides=overrides)
        cfg_axes = load_candle_config(config)["sweep"] if not isinstance(config, Mapping) else {}
        axes = _parse_sweep(sweep or [])
        grid = None
        if axes or cfg_axes:
            grid = candle_sweep(file, axes, config, strategy=strategy, funding=funding, overrides=overrides,
                                threads=threads)
        if as_json:
            print(json.dumps({"title": TITLE, **res.summary(),
                              "sweep": None if grid is None else grid.to_dict(orient="records")}, indent=2, default=str))
        else:
            t = Table(title=f"{TITLE}: {file.name} ({res.settings.get('strategy', 'spread-quoter')})",
                      show_header=False, title_justify="left")
            for k, v in res.summary().items():
                t.add_row(k, f"{v:,.6g}" if isinstance(v, float) else (f"{v:,}" if isinstance(v, int) else str(v)))
            t.add_row("run", f"{res.info['candles']:,} candles in {res.wall_s * 1e3:.1f} ms (incl. file read)")
            console.print(t)
            if grid is not None:
                g = Table(title=f"sweep — lower fidelity ({len(grid)} points)", title_justify="left")
                cols = [c for c in grid.columns if c in axes or c in cfg_axes] + [
                    "pnl", "sharpe", "max_drawdown", "fills", "volume", "inventory_std", "fees", "funding"]
                for c in cols:
                    g.add_column(c, justify="right")
                for _, r in grid.iterrows():
                    g.add_row(*[f"{r[c]:,.6g}" if isinstance(r[c], float) else str(r[c]) for c in cols])
                console.print(g)
                a = grid.attrs
                console.print(f"[dim]{a['points']} points x {a['candles']:,} candles in {a['wall_s']:.3f} s "
                              f"({a['candles_per_s']:,.0f} candles/s, {a['threads']} threads, incl. file read)[/dim]")
        if out is not None:
            res.write(out, grid)
            console.print(f"[green]wrote[/green] {out}/ (metrics.json, equity.csv, fills.csv, funding.csv"
                          f"{', sweep.csv' if grid is not None else ''}, report.html)")

    @app.command("from-trades")
    def from_trades_cmd(
        data: List[Path] = typer.Argument(..., help="Tick data file(s) with trade prints, read as one stream."),
        out: Path = typer.Option(..., "--out", "-o", help="Output candle CSV (Binance USD-M kline layout)."),
        interval: str = typer.Option("60s", "--interval", help="Bar length: 60s, 1m, 1h, 500ms, or seconds."),
        executions: str = typer.Option("auto", "--executions", help="Count visible executions as prints: auto (LOBSTER), yes, no."),
        instrument: str = typer.Option("", "--instrument", help="Symbol to select (Databento files with several)."),
    ) -> None:
        """OHLCV candles from a tick file's trade prints (exchange time), for comparing the candle
        backtester with the tick backtester over the same window."""
        r = candles_from_trades(data, interval, out=out, executions=executions, instrument=instrument)
        console.print(f"[green]wrote[/green] {out}: {r['candles']:,} candles from {r['prints']:,} prints "
                      f"({r['source_format']} {r['symbol']}, tick {r['tick_size']:g}, lot {r['lot_size']:g})")

    @app.command("compare")
    def compare_cmd(
        data: List[Path] = typer.Argument(..., help="Tick data file(s) with trade prints (the window of both runs)."),
        config: Optional[Path] = typer.Option(None, "--config", "-c", help="TOML with [candles] (configs/candles.toml); min_spread_ticks, not bps."),
        strategy: Optional[str] = typer.Option(None, "--strategy", "-s", help="spread-quoter or avellaneda-stoikov."),
        interval: Optional[List[str]] = typer.Option(None, "--interval", help="Candle length(s), repeatable (default 60s)."),
        set_: Optional[List[str]] = typer.Option(None, "--set", help="Override a [candles] key: key=value (repeatable)."),
        latency: Optional[float] = typer.Option(None, "--latency", help="Tick engine entry and response latency, ms each (default: engine default)."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write comparison.csv, comparison.json and the derived candle CSVs here."),
    ) -> None:
        """Tick backtester vs candle backtester (lower fidelity), same parameters, same window."""
        engine = None
        if latency is not None:
            from mmkit.backtest import latency_override
            engine = latency_override(latency)
        df = compare_with_tick(data, config, strategy=strategy, intervals=interval or ["60s"],
                               overrides=_parse_set(set_ or []), engine=engine, workdir=out)
        t = Table(title=f"tick vs {TITLE}: {', '.join(p.name for p in data)} ({df.attrs['strategy']})", title_justify="left")
        cols = ["model", "ref", "bars", "pnl", "fills", "volume", "inventory_std", "fees", "pnl_ratio", "fills_ratio",
                "volume_ratio", "inventory_std_ratio"]
        for c in cols:
            t.add_column(c, justify="right")
        for _, r in df.iterrows():
            t.add_row(*["-" if r[c] is None or pd.isna(r[c]) else
                        (f"{r[c]:,.4g}" if isinstance(r[c], float) else str(r[c])) for c in cols])
        console.print(t)
        console.print(f"[dim]tick engine: {df.attrs['tick_engine']}; candle: {CAVEAT}[/dim]")
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            df.to_csv(out / "comparison.csv", index=False)
            (out / "comparison.json").write_text(json.dumps({"title": f"tick vs {TITLE}", **df.attrs,
                                                             "rows": df.to_dict(orient="records")}, indent=2, default=str))
            console.print(f"[green]wrote[/green] {out}/comparison.csv, comparison.json")

    return app
