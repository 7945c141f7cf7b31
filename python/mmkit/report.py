"""The self-contained HTML report of a backtest (plotly, with plotly.js embedded: it opens
offline, from a file, with nothing fetched).

Sections: header (instrument, data, strategy, period, key metrics), equity curve with the PnL
decomposition, inventory with the position limit, quotes vs mid with our fills, markout curves
per side, every metric, the resolved config and the run information.

PnL decomposition (at every sample time t; all in the quote currency):

    spread capture(t) = Σ over fills with exch_ts_ns <= t of qty × (mid_at_fill − price) × side
    fees(t)           = −(cumulative fees paid at t)        (the sample's ``fees``; rebates > 0)
    funding(t)        = −(cumulative funding paid at t)     (the sample's ``funding``, perpetuals
                                                             with engine funding only; docs/engine.md)
    inventory PnL(t)  = total(t) − spread capture(t) − fees(t) − funding(t)

where total(t) is the sample's PnL (cash + position × mid, fees included) and side is +1 for a
buy, −1 for a sell. Spread capture is what the fills earned against the mid at the moment they
happened; inventory PnL is what holding the position earned as the mid moved afterwards (it is
the residual, so the three parts sum to the total exactly). Fills without a mid at fill (a side
of the book was empty) contribute 0 to spread capture, so their edge lands in inventory PnL.

Large runs are downsampled for plotting only (the CSV files keep every sample), deterministically,
to at most ``MAX_POINTS`` points per trace (see :func:`downsample_indices`).
"""
from __future__ import annotations

import html
import json
import math
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from mmkit.results import BacktestResults

#: Most points drawn per trace.
MAX_POINTS = 5000

_UNIT_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_HORIZON_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(ns|us|µs|ms|s|min|m|h)\s*$")


def horizon_seconds(label: str) -> float:
    """Seconds of a markout horizon label ('100ms' -> 0.1, '1s', '60s', '5m', '250us');
    +inf when it is not one (sorted last)."""
    m = _HORIZON_RE.match(str(label))
    if not m:
        return math.inf
    return float(m.group(1)) * _UNIT_S[m.group(2)]


def downsample_indices(y: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices of the points of a series to draw: all of them when there are at most
    ``max_points``; otherwise the series is cut into equal buckets of consecutive points and each
    bucket keeps its minimum, its maximum and (if it has one) one NaN, so that extremes
    (drawdowns, inventory peaks) and gaps survive; the first and last points are always kept.
    Deterministic (stable sorts; ties go to the earliest point). Returns sorted int64 indices,
    at most ``max_points`` of them."""
    y = np.asarray(y, dtype="float64")
    n = len(y)
    if n <= max_points:
        return np.arange(n, dtype=np.int64)
    if max_points < 5:
        raise ValueError("max_points must be at least 5")
    nb = (max_points - 2) // 3
    edges = np.linspace(0, n, nb + 1).round().astype(np.int64)
    bucket = np.repeat(np.arange(nb, dtype=np.int64), np.diff(edges))
    nan = np.isnan(y)
    lo_key = np.where(nan, np.inf, y)
    hi_key = np.where(nan, -np.inf, y)
    by_min = np.lexsort((lo_key, bucket))              # ascending within each bucket
    by_max = np.lexsort((-hi_key, bucket))             # descending within each bucket
    by_nan = np.lexsort((~nan, bucket))                # NaN first within each bucket
    starts = edges[:-1]
    nonempty = np.diff(edges) > 0
    starts = starts[nonempty]
    picks = [by_min[starts], by_max[starts]]
    nan_pick = by_nan[starts]
    picks.append(nan_pick[nan[nan_pick]])
    idx = np.unique(np.concatenate([np.array([0, n - 1], dtype=np.int64), *picks]))
    return idx.astype(np.int64)


def stride_indices(n: int, max_points: int = MAX_POINTS) -> np.ndarray:
    """Evenly spaced indices (first and last included) for point markers: all when n <= max."""
    if n <= max_points:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.linspace(0, n - 1, max_points).round().astype(np.int64))


def _fill_times(fills: pd.DataFrame) -> np.ndarray:
    return fills["exch_ts_ns"].to_numpy(dtype="int64") if len(fills) else np.zeros(0, dtype="int64")


def _cumulative_at(ts_fill: np.ndarray, values: np.ndarray, ts_sample: np.ndarray) -> np.ndarray:
    """Σ values[i] over fills with ts_fill[i] <= t, for each sample time t (vectorized)."""
    if len(ts_fill) == 0:
        return np.zeros(len(ts_sample))
    order = np.argsort(ts_fill, kind="stable")
    cum = np.cumsum(values[order])
    k = np.searchsorted(ts_fill[order], ts_sample, side="right")
    return np.where(k > 0, cum[np.maximum(k - 1, 0)], 0.0)


def fill_spread_capture(fills: pd.DataFrame) -> np.ndarray:
    """Per fill: qty × (mid_at_fill − price) × side (quote currency), 0 where there is no mid;
    a 1-D float64 array, one value per row of ``fills``."""
    if len(fills) == 0:
        return np.zeros(0)
    v = (fills["qty"].to_numpy(float) * (fills["mid_at_fill"].to_numpy(float) - fills["price"].to_numpy(float))
         * fills["side"].to_numpy(float))
    return np.where(np.isfinite(v), v, 0.0)


def pnl_decomposition(results: "BacktestResults") -> pd.DataFrame:
    """PnL decomposition at every sample (module docstring): columns ``total``,
    ``spread_capture``, ``fees_pnl``, ``inventory_pnl`` (quote currency), indexed like
    ``results.samples``. spread_capture + fees_pnl + inventory_pnl == total wherever total is
    finite."""
    s = results.samples
    if len(s) == 0:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in ("total", "spread_capture", "fees_pnl", "inventory_pnl")})
    ts = s["ts_ns"].to_numpy(dtype="int64")
    f = results.fills
    tf = _fill_times(f)
    spread = _cumulative_at(tf, fill_spread_capture(f), ts)
    fee_fills = _cumulative_at(tf, f["fee"].to_numpy(float) if len(f) else np.zeros(0), ts)
    fees_paid = s["fees"].to_numpy(float) if "fees" in s.columns else np.full(len(s), np.nan)
    fees_paid = np.where(np.isfinite(fees_paid), fees_paid, fee_fills)
    total = s["pnl"].to_numpy(float)
    fees_pnl = 0.0 - fees_paid  # no negative zeros
    inventory = total - spread - fees_pnl
    if "funding" in s.columns:
        funding_pnl = 0.0 - s["funding"].to_numpy(float)
        inventory = inventory - funding_pnl
        return pd.DataFrame({"total": total, "spread_capture": spread, "fees_pnl": fees_pnl,
                             "inventory_pnl": inventory, "funding_pnl": funding_pnl}, index=s.index)
    return pd.DataFrame({"total": total, "spread_capture": spread, "fees_pnl": fees_pnl,
                         "inventory_pnl": inventory}, index=s.index)


def markout_curves(results: "BacktestResults") -> pd.DataFrame:
    """Qty-weighted mean markout per horizon (rows: '0' = at the fill, i.e. the spread captured,
    then the horizons in increasing order) and side (columns ``all``, ``buy``, ``sell``),
    NaN markouts ignored; decimal price per unit of qty. Positive = the mid moved our way."""
    f = results.fills
    labels = results.markout_labels
    rows = ["0"] + labels
    out = pd.DataFrame(index=pd.Index(rows, name="horizon"), columns=["all", "buy", "sell"], dtype=float)
    if len(f) == 0:
        return out
    qty = f["qty"].to_numpy(float)
    side = f["side"].to_numpy(float)
    cols = [(f["mid_at_fill"].to_numpy(float) - f["price"].to_numpy(float)) * side]
    cols += [f[f"markout_{h}"].to_numpy(float) for h in labels]
    masks = {"all": np.ones(len(f), bool), "buy": side > 0, "sell": side < 0}
    for r, v in zip(rows, cols):
        ok = np.isfinite(v)
        for name, m in masks.items():
            w = qty[ok & m]
            out.loc[r, name] = float(np.sum(w * v[ok & m]) / np.sum(w)) if w.sum() > 0 else np.nan
    return out


def _x(df: pd.DataFrame, idx: np.ndarray) -> np.ndarray:
    """Naive UTC datetime64[ns] x values (plotly prints them without a zone suffix)."""
    return pd.to_datetime(df["ts_ns"].to_numpy(dtype="int64")[idx], unit="ns").to_numpy()


def build_figures(results: "BacktestResults", max_points: int = MAX_POINTS) -> list[tuple[str, Any]]:
    """The report's plotly figures as (section title, figure), every trace downsampled to at
    most ``max_points`` points."""
    import plotly.graph_objects as go

    cur = results.instrument.get("currency") or "quote"
    figs: list[tuple[str, Any]] = []
    s = results.samples
    layout = dict(template="plotly_white", height=420, margin=dict(l=60, r=20, t=40, b=40),
                  legend=dict(orientation="h", y=1.08), hovermode="x")

    # Equity curve and decomposition.
    fig = go.Figure()
    if len(s):
        dec = pnl_decomposition(results)
        tsf = s.assign(**{c: dec[c].to_numpy() for c in dec.columns})
        for col, name, style in (("total", "total PnL", dict(width=2.2, color="#111")),
                                 ("spread_capture", "spread capture", dict(width=1.2, color="#2a9d8f")),
                                 ("inventory_pnl", "inventory PnL", dict(width=1.2, color="#e76f51")),
                                 ("fees_pnl", "fees (− paid, + rebates)", dict(width=1.2, color="#6d597a")),
                                 ("funding_pnl", "funding (− paid, + received)", dict(width=1.2, color="#e9c46a"))):
            if col not in tsf.columns:
                continue
            y = tsf[col].to_numpy(float)
            i = downsample_indices(y, max_points)
            fig.add_trace(go.Scatter(x=_x(tsf, i), y=y[i], name=name, mode="lines", line=style))
    fig.update_layout(title="Equity curve and PnL decomposition", yaxis_title=cur, xaxis_title="time (UTC)", **layout)
    figs.append(("Equity curve", fig))

    # Inventory.
    fig = go.Figure()
    if len(s):
        y = s["position"].to_numpy(float)
        i = downsample_indices(y, max_points)
        fig.add_trace(go.Scatter(x=_x(s, i), y=y[i], name="position", mode="lines", line=dict(shape="hv", color="#264653")))
        lim = results.max_position
        if lim > 0:
            for sign in (1, -1):
                fig.add_hline(y=sign * lim, line=dict(dash="dash", color="#c1121f", width=1),
                              annotation_text=f"{'+' if sign > 0 else '−'}max_position", annotation_position="top left")
    fig.update_layout(title="Inventory", yaxis_title=f"position ({results.instrument.get('symbol', '')})",
                      xaxis_title="time (UTC)", **layout)
    figs.append(("Inventory", fig))

    # Quotes vs mid with fills.
    fig = go.Figure()
    if len(s):
        for col, name, style in (("best_bid", "best bid", dict(width=0.8, color="#a8dadc")),
                                 ("best_ask", "best ask", dict(width=0.8, color="#f4acb7")),
                                 ("mid", "mid", dict(width=1.2, color="#555")),
                                 ("our_bid", "our bid", dict(width=1.4, color="#1d7a3a", shape="hv")),
                                 ("our_ask", "our ask", dict(width=1.4, color="#b5179e", shape="hv"))):
            if col not in s.columns:
                continue
            y = s[col].to_numpy(float)
            i = downsample_indices(y, max_points)
            fig.add_trace(go.Scatter(x=_x(s, i), y=y[i], name=name, mode="lines", line=style, connectgaps=False))
    f = results.fills
    if len(f):
        side = f["side"].to_numpy()
        maker = f["maker"].to_numpy(bool)
        t = f["exch_ts_ns"].to_numpy(dtype="int64")
        px = f["price"].to_numpy(float)
        qty = f["qty"].to_numpy(float)
        for sel, name, symbol, color in (((side > 0) & maker, "buy (maker)", "triangle-up", "#1d7a3a"),
                                         ((side > 0) & ~maker, "buy (taker)", "triangle-up-open", "#1d7a3a"),
                                         ((side < 0) & maker, "sell (maker)", "triangle-down", "#b5179e"),
                                         ((side < 0) & ~maker, "sell (taker)", "triangle-down-open", "#b5179e")):
            w = np.flatnonzero(sel)
            if len(w) == 0:
                continue
            w = w[stride_indices(len(w), max_points)]
            fig.add_trace(go.Scatter(x=pd.to_datetime(t[w], unit="ns").to_numpy(), y=px[w], name=name, mode="markers",
                                     marker=dict(symbol=symbol, size=8, color=color), customdata=qty[w],
                                     hovertemplate="%{y} × %{customdata}<extra>" + name + "</extra>"))
    fig.update_layout(title="Quotes vs mid, with our fills", yaxis_title=f"price ({cur})", xaxis_title="time (UTC)", **layout)
    figs.append(("Quotes and fills", fig))

    # Markout curves.
    fig = go.Figure()
    mk = markout_curves(results)
    for col, color in (("all", "#111"), ("buy", "#1d7a3a"), ("sell", "#b5179e")):
        fig.add_trace(go.Scatter(x=list(mk.index), y=mk[col].to_numpy(float), name=col, mode="lines+markers",
                                 line=dict(color=color, width=2 if col == "all" else 1.2)))
    fig.add_hline(y=0, line=dict(color="#999", width=1))
    fig.update_layout(title="Markouts: qty-weighted mean (mid(t+h) − price) × side; 0 = spread captured at the fill",
                      xaxis_title="horizon after the fill", yaxis_title=f"price ({cur}) per unit",
                      xaxis=dict(type="category"), **{k: v for k, v in layout.items() if k != "hovermode"})
    figs.append(("Markouts", fig))
    return figs


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1200px;color:#222}
h1{font-size:1.5em;margin-bottom:4px} h2{font-size:1.15em;margin-top:28px;border-bottom:1px solid #ddd}
table.kv{border-collapse:collapse;font-size:.92em} table.kv td,table.kv th{padding:3px 12px;border-bottom:1px solid #eee;text-align:left}
table.kv td.v{text-align:right;font-variant-numeric:tabular-nums}
.grid{display:flex;flex-wrap:wrap;gap:32px} pre{background:#f7f7f7;padding:10px;font-size:.85em;overflow:auto}
.note{color:#666;font-size:.88em}
"""


def _kv_table(rows) -> str:
    body = "".join(f"<tr><td>{html.escape(str(k))}</td><td class='v'>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table class='kv'>{body}</table>"


def _metric_rows(metrics: dict) -> list[tuple[str, str]]:
    from mmkit.results import METRIC_ORDER, fmt_ns, fmt_value
    keys = [k for k in METRIC_ORDER if k in metrics] + sorted(k for k in metrics if k not in METRIC_ORDER)
    rows: list[tuple[str, str]] = []
    for k in keys:
        v = metrics[k]
        if isinstance(v, dict):
            for h in sorted(v, key=lambda s: (horizon_seconds(s), s)):
                rows.append((f"{k}[{h}]", fmt_value(v[h])))
        elif isinstance(v, (list, tuple, np.ndarray)):
            rows.append((k, ", ".join(fmt_value(x) for x in v)))
        elif k in ("start_ns", "end_ns"):
            rows.append((k, f"{fmt_value(v)} ({fmt_ns(v)})"))
        else:
            rows.append((k, fmt_value(v)))
    return rows


def write_report(results: "BacktestResults", path: Union[str, os.PathLike], max_points: int = MAX_POINTS) -> Path:
    """Writes the self-contained HTML report of ``results`` to ``path`` (plotly.js embedded
    once, inline; no external script or stylesheet) and returns the path. Deterministic
    element ids; wall-clock figures appear only in the 'Run' section."""
    import plotly
    import plotly.io as pio
    from mmkit.results import _jsonable, fmt_value

    ins = results.instrument
    sym = ins.get("symbol", "") or "-"
    title = f"mmkit backtest: {results.strategy_name or '-'} on {sym}"
    instrument_line = (f"{sym} @ {ins.get('venue', '') or '-'} ({ins.get('currency', '') or '-'}), "
                       f"tick {ins.get('tick_size_decimal', ins.get('tick_size', '-'))}, "
                       f"lot {ins.get('lot_size_decimal', ins.get('lot_size', '-'))}")
    header_rows = [("instrument", instrument_line)]
    wall = ("wall time (s)", "events/s")
    header_rows += [(k, v) for k, v in results.summary_rows()[1:] if k not in wall]
    if results.format:
        header_rows.insert(2, ("format", results.format))

    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             "<p class='note'>PnL in the quote currency, fees included. Definitions: docs/metrics.md. "
             "Spread capture = Σ qty × (mid at fill − price) × side; fees = − cumulative fees paid; "
             "inventory PnL = total − spread capture − fees.</p>",
             "<h2>Summary</h2>", _kv_table(header_rows)]
    for i, (sec, fig) in enumerate(build_figures(results, max_points)):
        parts.append(f"<h2>{html.escape(sec)}</h2>")
        parts.append(pio.to_html(fig, full_html=False, include_plotlyjs=(i == 0), div_id=f"mmkit-fig-{i}",
                                 config={"displaylogo": False, "responsive": True}))
    parts.append("<h2>All metrics</h2>")
    parts.append(_kv_table(_metric_rows(results.metrics)))
    parts.append("<h2>Resolved config</h2>")
    parts.append(f"<pre>{html.escape(json.dumps(_jsonable(results.config), indent=2, sort_keys=True))}</pre>")
    ri = dict(results.run_info)
    ri.setdefault("plotly", plotly.__version__)
    parts.append("<h2>Run</h2>")
    parts.append(_kv_table([(k, fmt_value(v) if not isinstance(v, (dict, list)) else json.dumps(_jsonable(v), sort_keys=True))
                            for k, v in sorted(ri.items())]))
    parts.append(f"<p class='note'>{len(results.samples):,} samples, {len(results.fills):,} fills, "
                 f"{len(results.orders):,} order-log entries; charts show at most {max_points:,} points per trace "
                 "(per-bucket min / max, first and last kept); the CSV files hold every row.</p>")
    parts.append("</body></html>\n")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("".join(parts), encoding="utf-8")
    return p


def write_portfolio_report(results: "PortfolioResults", path: Union[str, os.PathLike],
                           max_points: int = MAX_POINTS) -> Path:
    """Writes the self-contained HTML report of a multi-instrument run
    (:class:`mmkit.portfolio.PortfolioResults`): per-instrument and total PnL, fees, spread cost
    and inventory std, the hedger's beta / correlation, the PnL per leg and in total and the net
    notional on the common clock. Each leg's own report is in legs/<i>_<name>/report.html."""
    import plotly.graph_objects as go
    import plotly.io as pio
    from mmkit.results import _jsonable, fmt_value

    s = results.samples
    cur = results.currency or "quote"
    layout = dict(template="plotly_white", height=420, margin=dict(l=60, r=20, t=40, b=40),
                  legend=dict(orientation="h", y=1.08), hovermode="x")
    figs = []
    fig = go.Figure()
    cols = [("total_pnl", "total PnL", dict(width=2.2, color="#111"))]
    cols += [(f"pnl_{n}", f"{n} PnL", dict(width=1.2)) for n in results.names]
    for col, name, style in cols:
        if col in s.columns and len(s):
            y = s[col].to_numpy(float)
            i = downsample_indices(y, max_points)
            fig.add_trace(go.Scatter(x=_x(s, i), y=y[i], name=name, mode="lines", line=style))
    fig.update_layout(title="PnL per instrument and total", yaxis_title=cur, xaxis_title="time (UTC)", **layout)
    figs.append(("PnL", fig))
    fig = go.Figure()
    if len(s):
        y = s["net_notional"].to_numpy(float)
        i = downsample_indices(y, max_points)
        fig.add_trace(go.Scatter(x=_x(s, i), y=y[i], name="net notional", mode="lines", line=dict(color="#264653")))
    fig.update_layout(title="Net notional Σ position × mid", yaxis_title=cur, xaxis_title="time (UTC)", **layout)
    figs.append(("Net notional", fig))

    head = "<tr>" + "".join(f"<th>{c}</th>" for c in ("leg", f"PnL ({cur})", "fees", "spread cost", "inventory std", "fills")) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>" for r in results.rows())
    m = results.metrics
    total_rows = [(k, fmt_value(m.get(k))) for k in ("total_pnl", "sharpe", "sortino", "max_drawdown", "pnl_increment_std",
                                                     "inventory_pnl_std", "net_notional_mean", "net_notional_std", "sample_interval_s")]
    hedge_rows = [(k, fmt_value(v)) for k, v in sorted((m.get("hedge") or {}).items())]
    title = "mmkit portfolio: " + " + ".join(results.names)
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{_CSS}</style></head><body>", f"<h1>{html.escape(title)}</h1>",
             "<p class='note'>Per-leg PnL: cash + position × mid (fees and funding included); spread cost = Σ qty × "
             "(price − mid at fill) × side (positive = paid). Definitions: docs/hedging.md.</p>",
             "<h2>Per instrument and total</h2>", f"<table class='kv'>{head}{body}</table>",
             "<h2>Total</h2>", _kv_table(total_rows)]
    if hedge_rows:
        parts += ["<h2>Hedge</h2>", _kv_table(hedge_rows)]
    for i, (sec, f) in enumerate(figs):
        parts.append(f"<h2>{html.escape(sec)}</h2>")
        parts.append(pio.to_html(f, full_html=False, include_plotlyjs=(i == 0), div_id=f"mmkit-pfig-{i}",
                                 config={"displaylogo": False, "responsive": True}))
    parts.append("<h2>Resolved config</h2>")
    parts.append(f"<pre>{html.escape(json.dumps(_jsonable(results.config), indent=2, sort_keys=True))}</pre>")
    parts.append("</body></html>\n")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("".join(parts), encoding="utf-8")
    return p
