"""``mmkit calibrate-flow``: fit the synthetic market's order-flow generator to a real L3 file,
and compare the fitted market, simulated for the same duration, with the real one.

    res = mmkit.calibrate.calibrate_flow("LOBSTER_SampleFile_GOOG_2012-06-21_10.zip")
    res.fit["market_rate"]; res.synthetic            # every estimate; the [synthetic] settings
    real = mmkit.calibrate.flow_statistics("LOBSTER_SampleFile_GOOG_2012-06-21_10.zip")
    sim = res.simulate_statistics(seed=1)
    mmkit.calibrate.key_figures(real), mmkit.calibrate.key_figures(sim)

The estimators (C++, ``include/mmkit/sim/calibrate.h``; ``docs/calibration.md``) follow Cont,
Stoikov, Talreja (2010), §2.2: limit-order arrival rates λ(i) by distance i ticks from the
opposite best (per side per second, over the time each distance was visible), the power law
λ(i) = k / i^α by Poisson maximum likelihood, the market-order rate μ, cancellation rates θ(i)
per resting order, the size laws, and a 6-variate Hawkes process (market buy / sell, limit bid /
ask, cancel bid / ask) by maximum likelihood (``mmkit::sim::fit_hawkes``). Per-event work runs in
C++; the statistics below are vectorized NumPy over the arrays it returns.
"""
from __future__ import annotations

import datetime as _dt
import html
import json
import math
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional, Sequence, Union

import numpy as np
import typer

from mmkit import _core
from mmkit.data import PathLike, _paths

#: Hawkes / flow event types, in the index order of the synthetic market's ``flow_type``.
FLOW_EVENT_TYPES: tuple[str, ...] = tuple(_core.FLOW_EVENT_TYPES)
#: Horizons (s) of the volatility figures.
VOL_HORIZONS_S = (1, 10, 60)
#: Sampling intervals (s) of the signature plot: 1 s to 5 min.
SIGNATURE_INTERVALS_S = (1, 2, 5, 10, 20, 30, 60, 90, 120, 180, 240, 300)
#: Depth levels of the profile.
DEPTH_LEVELS = 5
#: Significant digits of the numbers written to the TOML (the estimates' standard errors are
#: 0.1 % or more of their values).
TOML_DIGITS = 7


@dataclass
class CalibrationResult:
    """One fit: ``fit`` holds every estimate (dict; units in ``docs/calibration.md``),
    ``synthetic`` the ``[synthetic]`` settings of the fitted generator for ``flow``."""

    fit: dict
    synthetic: dict
    flow: str
    data: list[str]
    _handle: Any = field(repr=False)

    def synthetic_config(self, flow: str = "poisson") -> dict:
        """The ``[synthetic]`` settings for the arrival model ``flow`` ("poisson" or "hawkes");
        raises :class:`mmkit.Error` for "hawkes" when the Hawkes process was not fitted."""
        return self._handle.synthetic_config(flow)

    def simulate_statistics(self, *, flow: Optional[str] = None, seed: int = 1,
                            sample_interval_ms: float = 1000.0, depth_levels: int = DEPTH_LEVELS) -> dict:
        """Flow statistics (see :func:`flow_statistics`) of the fitted market simulated over the
        data's own span (same start and duration) with ``seed``."""
        return self._handle.simulate_statistics(flow or self.flow, int(seed),
                                                {"sample_interval_ms": float(sample_interval_ms),
                                                 "depth_levels": int(depth_levels)})


def calibrate_flow(data: Union[PathLike, Sequence[PathLike]], *, instrument: str = "", publisher: int = -1,
                   tick_size: int = 0, max_distance: int = 0, min_visible_fraction: float = 0.5,
                   visible_levels: int = 0, hawkes: bool = True, hawkes_max_events: int = 0,
                   flow: str = "poisson", joins_and_improvers: bool = True) -> CalibrationResult:
    """Fits the generator to an L3 file (LOBSTER, Databento MBO, an event file of either or of the
    synthetic market). ``max_distance`` 0 = auto (the farthest distance visible at least
    ``min_visible_fraction`` of the time on each side that received a limit order);
    ``visible_levels`` 0 = auto (LOBSTER: the file's depth N; others: unlimited; give N for an
    event file converted from LOBSTER). ``flow``: the arrival model of ``.synthetic``.
    ``joins_and_improvers``: fit joins (λ_J) and improvers' cancels (θ_I) apart from λ(i), θ(i)
    and write them (``join_rate``, ``improver_cancel_rate``); False = the CST 2010 estimators.
    Raises :class:`mmkit.Error` on unusable input (L2 data, no two-sided book)."""
    paths = _paths(data)
    source = _source(instrument, publisher, tick_size)
    options = {"max_distance": int(max_distance), "min_visible_fraction": float(min_visible_fraction),
               "visible_levels": int(visible_levels), "fit_hawkes": bool(hawkes),
               "hawkes_max_events": int(hawkes_max_events), "joins_and_improvers": bool(joins_and_improvers)}
    handle = _core.calibrate_flow(paths, source, options)
    fit = handle.to_dict()
    if flow == "hawkes" and not fit["hawkes"]["fitted"]:
        raise _core.Error(f"--flow hawkes needs the Hawkes fit ({fit['hawkes']['note']})")
    return CalibrationResult(fit=fit, synthetic=handle.synthetic_config(flow), flow=flow, data=paths, _handle=handle)


def flow_statistics(data: Union[PathLike, Sequence[PathLike]], *, instrument: str = "", publisher: int = -1,
                    tick_size: int = 0, sample_interval_ms: float = 1000.0,
                    depth_levels: int = DEPTH_LEVELS) -> dict:
    """Statistics of a stream computed in C++ from the rebuilt book (``flow_statistics`` in
    ``calibrate.h``): ``spread_time_s`` (seconds at n ticks, last bin ≥), ``depth_bid_lots`` /
    ``depth_ask_lots`` (time-weighted mean volume of levels 1..depth_levels, lots),
    ``event_ts_ns`` / ``event_type`` (flow events, indices into :data:`FLOW_EVENT_TYPES`),
    ``mid`` (decimal mid on a grid of ``sample_interval_ms`` from ``grid_start_ns``; NaN while a
    side is empty), ``duration_s``, ``two_sided_s``, ``events``, ``mid_changes``."""
    return _core.flow_statistics(_paths(data), _source(instrument, publisher, tick_size),
                                 {"sample_interval_ms": float(sample_interval_ms), "depth_levels": int(depth_levels)})


def write_synthetic_events(path: PathLike, **synthetic: Any) -> dict:
    """Writes the CST (Poisson) synthetic market with the given ``[synthetic]`` settings (keys
    of ``docs/synthetic_market.md``: symbol, price_decimals, tick_size, initial_mid, max_distance,
    limit_rate_k, limit_rate_alpha, limit_rates, market_rate, join_rate, cancel_rates,
    improver_cancel_rate, improver_fleeting_share, mean_order_size,
    mean_market_order_size, opening_orders_per_level, duration_s, start_ns, seed; defaults: the
    "cst2010" parameter set) as an mmkit event file; returns
    ``{"events", "records"}``. A known-parameter input for calibration tests."""
    return _core.write_synthetic_event_file(synthetic, str(path))


def _source(instrument: str, publisher: int, tick_size: int) -> dict:
    s: dict = {}
    if instrument:
        s["instrument"] = instrument
    if publisher >= 0:
        s["publisher"] = int(publisher)
    if tick_size:
        s["tick_size"] = int(tick_size)
    return s


# ---------------------------------------------------------------------------------------------
# Statistics of a stream (vectorized over the arrays flow_statistics returns).

def _log_mid(stats: dict) -> np.ndarray:
    mid = np.asarray(stats["mid"], dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mid > 0, np.log(mid), np.nan)


def _interval_steps(stats: dict, seconds: float) -> int:
    return max(1, int(round(seconds * 1e9 / stats["sample_interval_ns"])))


def return_std_bp(stats: dict, horizon_s: float) -> float:
    """Standard deviation of the mid's log returns over ``horizon_s`` (overlapping windows on the
    mid grid; pairs with an empty side left out), in basis points; NaN with fewer than 2 pairs."""
    lm = _log_mid(stats)
    h = _interval_steps(stats, horizon_s)
    if len(lm) <= h:
        return math.nan
    r = (lm[h:] - lm[:-h]) * 1e4
    r = r[np.isfinite(r)]
    return float(np.std(r, ddof=1)) if len(r) >= 2 else math.nan


def signature(stats: dict, intervals_s: Sequence[float] = SIGNATURE_INTERVALS_S) -> np.ndarray:
    """Realized variance of the mid per second of data, in bp²/s, at each sampling interval h:
    RV(h) = mean over the h grid offsets of Σ (Δ_h log mid)² × 10^8 / (span covered), the
    signature plot of Andersen, Bollerslev, Diebold, Labys (2000). Flat in h for a diffusive
    price; rising towards small h from microstructure noise (bid-ask bounce); falling from
    mean-reversion-free momentum. NaN where no return is defined."""
    lm = _log_mid(stats)
    dt = stats["sample_interval_ns"] * 1e-9
    out = np.full(len(intervals_s), np.nan)
    for j, hs in enumerate(intervals_s):
        h = _interval_steps(stats, hs)
        if len(lm) <= h:
            continue
        r2 = (lm[h:] - lm[:-h]) ** 2 * 1e8  # every offset at once: overlapping returns
        ok = np.isfinite(r2)
        if ok.sum() == 0:
            continue
        # Overlapping sum / h = the mean over offsets of the non-overlapping sums; each return
        # covers h × dt seconds.
        out[j] = float(r2[ok].sum() / ok.sum() / (h * dt))
    return out


def inter_arrival_s(stats: dict, kind: str = "all") -> np.ndarray:
    """Inter-arrival times (s) of flow events: ``kind`` "all", "trades" (market orders of either
    side), or one of :data:`FLOW_EVENT_TYPES`."""
    ts = np.asarray(stats["event_ts_ns"], dtype="int64")
    ty = np.asarray(stats["event_type"])
    if kind == "trades":
        ts = ts[ty <= 1]
    elif kind != "all":
        ts = ts[ty == FLOW_EVENT_TYPES.index(kind)]
    return np.diff(ts) * 1e-9


def key_figures(stats: dict) -> dict:
    """The comparison's key figures of one stream (floats; NaN where undefined)."""
    spread = np.asarray(stats["spread_time_s"], dtype="float64")
    two = float(stats["two_sided_s"])
    ticks = np.arange(len(spread))
    share = spread / two if two > 0 else np.full(len(spread), np.nan)
    cdf = np.cumsum(share)
    dur = float(stats["duration_s"])
    ty = np.asarray(stats["event_type"])
    f: dict[str, float] = {}
    f["duration_s"] = dur
    f["spread_mean_ticks"] = float(stats["mean_spread_ticks"]) if "mean_spread_ticks" in stats else (
        float((share * ticks).sum()) if two > 0 else math.nan)
    f["spread_median_ticks"] = float(ticks[np.searchsorted(cdf, 0.5)]) if two > 0 else math.nan
    f["spread_1_tick_share"] = float(share[1]) if len(share) > 1 else math.nan
    f["two_sided_share"] = two / dur if dur > 0 else math.nan
    depth = 0.5 * (np.asarray(stats["depth_bid_lots"], dtype="float64") + np.asarray(stats["depth_ask_lots"], dtype="float64"))
    for i, v in enumerate(depth[:DEPTH_LEVELS], start=1):
        f[f"depth_level_{i}_lots"] = float(v)
    f["events_per_s"] = len(ty) / dur if dur > 0 else math.nan
    f["limit_orders_per_s"] = float(((ty == 2) | (ty == 3)).sum() / dur) if dur > 0 else math.nan
    f["cancels_per_s"] = float(((ty == 4) | (ty == 5)).sum() / dur) if dur > 0 else math.nan
    f["market_orders_per_s"] = float((ty <= 1).sum() / dur) if dur > 0 else math.nan
    for kind in ("all", "trades"):
        ia = inter_arrival_s(stats, kind)
        m = float(ia.mean()) if len(ia) else math.nan
        f[f"inter_arrival_{kind}_mean_s"] = m
        f[f"inter_arrival_{kind}_median_s"] = float(np.median(ia)) if len(ia) else math.nan
        f[f"inter_arrival_{kind}_cv"] = float(ia.std() / m) if len(ia) > 1 and m > 0 else math.nan
    for h in VOL_HORIZONS_S:
        f[f"return_std_{h}s_bp"] = return_std_bp(stats, h)
    sig = signature(stats)
    f["signature_1s_bp2_per_s"] = float(sig[0])
    f["signature_300s_bp2_per_s"] = float(sig[-1])
    f["mid_changes_per_s"] = stats["mid_changes"] / dur if dur > 0 else math.nan
    return f


#: Key figures of the comparison table: (key, label).
COMPARISON_ROWS = (
    ("spread_mean_ticks", "spread, mean (ticks)"),
    ("spread_median_ticks", "spread, median (ticks)"),
    ("spread_1_tick_share", "spread = 1 tick (time share)"),
    *((f"depth_level_{i}_lots", f"depth at level {i} (lots)") for i in range(1, DEPTH_LEVELS + 1)),
    ("events_per_s", "flow events / s"),
    ("limit_orders_per_s", "limit orders / s"),
    ("cancels_per_s", "cancels / s"),
    ("market_orders_per_s", "market orders / s"),
    ("inter_arrival_all_mean_s", "inter-arrival, events, mean (s)"),
    ("inter_arrival_all_cv", "inter-arrival, events, CV"),
    ("inter_arrival_trades_mean_s", "inter-arrival, trades, mean (s)"),
    ("inter_arrival_trades_cv", "inter-arrival, trades, CV"),
    *((f"return_std_{h}s_bp", f"σ of {h} s mid returns (bp)") for h in VOL_HORIZONS_S),
    ("signature_1s_bp2_per_s", "realized variance at 1 s (bp²/s)"),
    ("signature_300s_bp2_per_s", "realized variance at 5 min (bp²/s)"),
    ("mid_changes_per_s", "mid changes / s"),
)


def comparison_rows(real: dict, sim: dict) -> list[tuple[str, float, float, float]]:
    """(label, real, simulated, simulated / real) for the key figures of :func:`key_figures`."""
    rows = []
    for key, label in COMPARISON_ROWS:
        a, b = real.get(key, math.nan), sim.get(key, math.nan)
        ratio = b / a if (a and math.isfinite(a) and math.isfinite(b)) else math.nan
        rows.append((label, a, b, ratio))
    return rows


# ---------------------------------------------------------------------------------------------
# TOML output.

def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if not math.isfinite(f):
            raise _core.Error(f"cannot write a non-finite number ({f}) into the TOML")
        text = f"{f:.{TOML_DIGITS}g}"
        return text if any(c in text for c in ".e") else text + ".0"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple, np.ndarray)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"no TOML form for {type(v).__name__}")


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    f = float(v)
    if not math.isfinite(f):
        return "n/a"
    return f"{f:.{digits}g}"


def synthetic_toml(result: CalibrationResult, *, command: str = "", date: Optional[str] = None) -> str:
    """The ``[synthetic]`` config of the fitted generator, with a header comment (command, date,
    data, the estimates with standard errors); ``mmkit backtest --config`` reads it."""
    fit = result.fit
    ins = fit["instrument"]
    date = date or _dt.date.today().isoformat()
    lines = [
        "# Synthetic market fitted by `mmkit calibrate-flow` (docs/calibration.md).",
        f"# command: {command}" if command else "# command: (library call)",
        f"# date:    {date}",
        "# data:    " + ", ".join(Path(p).name for p in result.data),
        f"#          {ins['symbol']} ({fit['format']}), tick {ins['tick_size_decimal']}, "
        f"{fit['duration_s']:.1f} s from {_fmt_ts(fit['start_ns'])}, {fit['events']:,} events read",
        f"# window:  visible depth {fit['visible_levels'] or 'unlimited'} levels; distances 1..{fit['max_distance']} "
        f"ticks from the opposite best (visible {fit['visible_fraction_at_max_distance']:.0%} of the time at "
        f"{fit['max_distance']})",
        f"# λ(i) = k / i^α (Poisson ML, α in [0, 10]): k = {_fmt(fit['limit_rate_k'])} ± {_fmt(fit['limit_rate_k_se'], 2)} /s, "
        f"α = {_fmt(fit['limit_rate_alpha'])} ± {_fmt(fit['limit_rate_alpha_se'], 2)}; "
        f"unconstrained k = {_fmt(fit['limit_rate_k_free'])}, α = {_fmt(fit['limit_rate_alpha_free'])}",
        "# empirical λ(i) per side per second, i = 1..: "
        + ", ".join(_fmt(x, 3) for x in fit["limit_rate"])
        + (" (written below as limit_rates; the generator uses them instead of k / i^α)"
           if "limit_rates" in result.synthetic else ""),
        f"# μ = {_fmt(fit['market_rate'])} ± {_fmt(fit['market_rate_se'], 2)} market orders /s per side "
        f"({fit['market_orders_buy']:,} buys, {fit['market_orders_sell']:,} sells, {fit['executions']:,} executions)",
        f"# joins (limit orders at the own best, not in λ(i)): λ_J = {_fmt(fit['join_rate'])} ± "
        f"{_fmt(fit['join_rate_se'], 2)} /s per side ({fit['join_count']:,} joins); improvers (placed inside the "
        f"spread, {fit['improver_count']:,}, {fit['improver_cancel_count']:,} cancelled; not in θ(i)): a share "
        f"φ = {_fmt(fit['improver_fleeting_share'], 3)} ± {_fmt(fit['improver_fleeting_share_se'], 1)} fleeting, "
        f"θ_I = {_fmt(fit['improver_cancel_rate'])} ± {_fmt(fit['improver_cancel_rate_se'], 2)} /s; the rest "
        f"θ_S = {_fmt(fit['improver_slow_cancel_rate'])} ± {_fmt(fit['improver_slow_cancel_rate_se'], 2)} /s "
        f"(pooled {_fmt(fit['improver_pooled_cancel_rate'], 3)} /s)",
        "# θ(i) ± se per order per second: "
        + ", ".join(f"{_fmt(t, 3)}±{_fmt(s, 1)}" for t, s in zip(fit["cancel_rate"], fit["cancel_rate_se"]))
        + f"; beyond: {_fmt(fit['cancel_rate_beyond'], 3)}",
        f"# sizes (lots): limit orders mean {_fmt(fit['limit_sizes']['mean'])}, quantiles "
        + "/".join(_fmt(q, 4) for q in fit["limit_sizes"]["quantiles"])
        + f" at {'/'.join(str(x) for x in fit['limit_sizes']['quantile_levels'])}, "
        f"KS to geometric {_fmt(fit['limit_sizes']['ks_distance'], 3)}; market orders mean "
        f"{_fmt(fit['market_sizes']['mean'])} (mean_market_order_size), quantiles "
        + "/".join(_fmt(q, 4) for q in fit["market_sizes"]["quantiles"])
        + f", KS to geometric {_fmt(fit['market_sizes']['ks_distance'], 3)}",
        f"# counted apart: {fit['partial_cancels']:,} partial cancels, {fit['cancels_of_unknown_orders']:,} cancels of "
        f"orders not seen arriving, {fit['trades_without_book_effect']:,} trades without book effect (hidden), "
        f"{fit['limit_orders_beyond_max_distance']:,} limit orders beyond max_distance",
    ]
    h = fit["hawkes"]
    if h["fitted"]:
        beta = h["beta"][0][0]
        lines.append(f"# Hawkes ({', '.join(h['types'])}): mu = {', '.join(_fmt(x, 3) for x in h['mu'])} /s; "
                     f"beta = {_fmt(beta, 4)} /s (shared); spectral radius {_fmt(h['spectral_radius'], 3)}; "
                     f"converged {h['converged']}")
        for name, row in zip(h["types"], h["alpha"]):
            lines.append(f"#   alpha[{name}] = " + ", ".join(_fmt(x, 3) for x in row))
    else:
        lines.append(f"# Hawkes: {h['note']}")
    lines += [f"# arrival model written below: {result.flow}"
              + ("; the fitted Hawkes parameters are written too (set flow = \"hawkes\" to use them)"
                 if result.flow != "hawkes" and "hawkes_mu" in result.synthetic else ""), "", "[synthetic]"]
    for k, v in result.synthetic.items():
        lines.append(f"{k} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


def cpp_preset(synthetic: dict, name: str) -> str:
    """C++ statements that set a ``SyntheticMarketConfig c`` to the ``[synthetic]`` settings
    ``synthetic`` (numbers spelt as in the TOML, so the doubles are the same), for the named
    parameter sets of ``src/sim/synthetic_market.cpp`` (``synthetic_preset``): the "goog2012"
    block there is ``cpp_preset(tomllib.load(open("configs/synthetic_goog.toml", "rb"))["synthetic"],
    "goog2012")``, and tests/python/test_calibrate.py checks that the two agree."""
    def num(v: Any) -> str:
        if isinstance(v, bool):
            raise TypeError("no boolean settings in a preset")
        return _toml_value(v) if isinstance(v, float) else str(int(v))

    def vec(v: Sequence[Any]) -> str:
        return "{" + ", ".join(num(x) for x in v) + "}"

    lines = [f"  // {name}: generated by mmkit.calibrate.cpp_preset from configs/synthetic_goog.toml; do not edit."]
    for k, v in synthetic.items():
        if k == "symbol":
            lines.append(f"  c.symbol = {json.dumps(v)};")
        elif k == "flow":
            lines.append(f"  c.flow = FlowModel::{'kHawkes' if v == 'hawkes' else 'kPoisson'};")
        elif k == "hawkes_alpha" or (k == "hawkes_beta" and isinstance(v, list)):
            lines.append(f"  c.{k} = {{" + ", ".join(vec(r) for r in v) + "};")
        elif k == "hawkes_beta":
            lines.append(f"  c.hawkes_beta.assign(flow_type::kCount, std::vector<double>(flow_type::kCount, {num(v)}));")
        elif isinstance(v, list):
            lines.append(f"  c.{k} = {vec(v)};")
        else:
            lines.append(f"  c.{k} = {num(v)};")
    return "\n".join(lines) + "\n"


def _fmt_ts(ns: int) -> str:
    secs, frac = divmod(int(ns), 1_000_000_000)
    return _dt.datetime.fromtimestamp(secs, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S") + " UTC"


# ---------------------------------------------------------------------------------------------
# The HTML report.

def _log_bins(values: Sequence[np.ndarray], n: int = 50) -> np.ndarray:
    pos = [v[v > 0] for v in values if len(v)]
    pos = [v for v in pos if len(v)]
    if not pos:
        return np.logspace(-6, 3, n + 1)
    lo = min(float(v.min()) for v in pos)
    hi = max(float(v.max()) for v in pos)
    return np.logspace(math.log10(lo), math.log10(hi) + 1e-9, n + 1)


def _density(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    c, _ = np.histogram(x[x > 0], bins=edges)
    w = np.diff(edges)
    total = max(len(x), 1)
    return c / total / w


def build_figures(result: CalibrationResult, real: dict, sim: dict, max_points: int = 5000) -> list[tuple[str, Any]]:
    """The report's plotly figures as (section title, figure)."""
    import plotly.graph_objects as go

    fit = result.fit
    layout = dict(template="plotly_white", height=400, margin=dict(l=60, r=20, t=40, b=50),
                  legend=dict(orientation="h", y=1.1))
    figs: list[tuple[str, Any]] = []
    real_c, sim_c = "#264653", "#e76f51"

    # λ(i) with the fitted power laws.
    i = np.arange(1, fit["max_distance"] + 1)
    lam = np.asarray(fit["limit_rate"], dtype=float)
    se = np.asarray(fit["limit_rate_se"], dtype=float)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=i, y=lam, mode="markers", name="empirical λ(i)", error_y=dict(type="data", array=1.96 * se),
                             marker=dict(color=real_c)))
    fig.add_trace(go.Scatter(x=i, y=fit["limit_rate_k"] * i ** -fit["limit_rate_alpha"], mode="lines",
                             name=f"k/i^α, α ≥ 0 (k={_fmt(fit['limit_rate_k'], 3)}, α={_fmt(fit['limit_rate_alpha'], 3)})",
                             line=dict(color=sim_c)))
    if math.isfinite(fit["limit_rate_alpha_free"]) and fit["limit_rate_alpha_free"] != fit["limit_rate_alpha"]:
        fig.add_trace(go.Scatter(x=i, y=fit["limit_rate_k_free"] * i ** -fit["limit_rate_alpha_free"], mode="lines",
                                 name=f"unconstrained (α={_fmt(fit['limit_rate_alpha_free'], 3)})",
                                 line=dict(color=sim_c, dash="dash")))
    fig.update_layout(title="Limit-order arrival rate by distance from the opposite best (95% intervals)",
                      xaxis_title="distance i (ticks)", yaxis_title="orders / s per side", **layout)
    figs.append(("Limit-order arrival rates λ(i)", fig))

    # θ(i).
    th = np.asarray(fit["cancel_rate"], dtype=float)
    ths = np.asarray(fit["cancel_rate_se"], dtype=float)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=i, y=th, mode="markers+lines", name="θ(i)", error_y=dict(type="data", array=1.96 * ths),
                             marker=dict(color=real_c)))
    fig.update_layout(title=f"Cancellation rate per resting order (beyond {fit['max_distance']}: "
                            f"{_fmt(fit['cancel_rate_beyond'], 3)} /s)",
                      xaxis_title="distance i (ticks)", yaxis_title="1 / s per order", **layout)
    figs.append(("Cancellation rates θ(i)", fig))

    # Sizes: quantiles, limit vs market vs the geometric law.
    fig = go.Figure()
    for key, name, color in (("limit_sizes", "limit orders", real_c), ("market_sizes", "market orders", sim_c)):
        s = fit[key]
        if not s["count"]:
            continue
        fig.add_trace(go.Scatter(x=s["quantile_levels"], y=s["quantiles"], mode="markers+lines", name=f"{name} (empirical)",
                                 line=dict(color=color)))
        p = s["geometric_p"]
        q = np.asarray(s["quantile_levels"], dtype=float)
        geo = np.ceil(np.log1p(-q) / math.log1p(-p)) if p < 1 else np.ones_like(q)
        fig.add_trace(go.Scatter(x=q, y=geo, mode="lines", name=f"{name} (geometric, mean {_fmt(s['mean'], 3)})",
                                 line=dict(color=color, dash="dot")))
    fig.update_layout(title="Order size quantiles (lots)", xaxis_title="quantile level", yaxis_title="lots", **layout)
    figs.append(("Order sizes", fig))

    # Spread distribution.
    fig = go.Figure()
    for st, name, color in ((real, "real", real_c), (sim, "simulated", sim_c)):
        sp = np.asarray(st["spread_time_s"], dtype=float)
        share = sp / st["two_sided_s"] if st["two_sided_s"] > 0 else sp
        fig.add_trace(go.Bar(x=np.arange(len(sp)), y=share, name=name, marker_color=color, opacity=0.75))
    fig.update_layout(title=f"Spread distribution (share of two-sided time; last bin = ≥ {len(real['spread_time_s']) - 1} ticks)",
                      xaxis_title="spread (ticks)", yaxis_title="time share", barmode="overlay", **layout)
    figs.append(("Spread", fig))

    # Depth profile.
    fig = go.Figure()
    lv = np.arange(1, DEPTH_LEVELS + 1)
    for st, name, color in ((real, "real", real_c), (sim, "simulated", sim_c)):
        d = 0.5 * (np.asarray(st["depth_bid_lots"], dtype=float) + np.asarray(st["depth_ask_lots"], dtype=float))
        fig.add_trace(go.Bar(x=lv, y=d[:DEPTH_LEVELS], name=name, marker_color=color))
    fig.update_layout(title="Depth profile: mean volume of the l-th level from the best (bid and ask averaged)",
                      xaxis_title="level", yaxis_title="lots", barmode="group", **layout)
    figs.append(("Depth profile", fig))

    # Inter-arrival times.
    for kind, title in (("all", "all flow events"), ("trades", "trades (market orders)")):
        a, b = inter_arrival_s(real, kind), inter_arrival_s(sim, kind)
        edges = _log_bins([a, b])
        mids = np.sqrt(edges[1:] * edges[:-1])
        fig = go.Figure()
        for x, name, color in ((a, "real", real_c), (b, "simulated", sim_c)):
            fig.add_trace(go.Scatter(x=mids, y=_density(x, edges), mode="lines+markers", name=f"{name} (n={len(x):,})",
                                     line=dict(color=color)))
        zero = [(x == 0).mean() if len(x) else 0 for x in (a, b)]
        fig.update_layout(title=f"Inter-arrival times of {title} (density, log bins; zero gaps: real {zero[0]:.1%}, "
                                f"simulated {zero[1]:.1%})",
                          xaxis_title="seconds", yaxis_title="density (1/s)", xaxis_type="log", yaxis_type="log", **layout)
        figs.append((f"Inter-arrival times: {title}", fig))

    # Volatility and signature plot.
    fig = go.Figure()
    for st, name, color in ((real, "real", real_c), (sim, "simulated", sim_c)):
        fig.add_trace(go.Bar(x=[f"{h} s" for h in VOL_HORIZONS_S], y=[return_std_bp(st, h) for h in VOL_HORIZONS_S],
                             name=name, marker_color=color))
    fig.update_layout(title="Volatility: standard deviation of mid log returns", yaxis_title="bp", barmode="group", **layout)
    figs.append(("Volatility", fig))
    fig = go.Figure()
    for st, name, color in ((real, "real", real_c), (sim, "simulated", sim_c)):
        fig.add_trace(go.Scatter(x=list(SIGNATURE_INTERVALS_S), y=signature(st), mode="lines+markers", name=name,
                                 line=dict(color=color)))
    fig.update_layout(title="Signature plot: realized variance per second vs sampling interval",
                      xaxis_title="sampling interval (s)", yaxis_title="bp² / s", xaxis_type="log", **layout)
    figs.append(("Signature plot", fig))

    # Mid paths.
    fig = go.Figure()
    for st, name, color in ((real, "real", real_c), (sim, "simulated", sim_c)):
        mid = np.asarray(st["mid"], dtype=float)
        step = max(1, len(mid) // max_points)
        t = (np.arange(0, len(mid), step) * st["sample_interval_ns"]) * 1e-9 / 60
        fig.add_trace(go.Scatter(x=t, y=mid[::step], mode="lines", name=name, line=dict(color=color, width=1)))
    fig.update_layout(title=f"Mid price (every {step * real['sample_interval_ns'] * 1e-9:g} s at most {max_points:,} points)",
                      xaxis_title="minutes from the start", yaxis_title=f"price ({fit['instrument']['currency'] or 'quote'})",
                      **layout)
    figs.append(("Mid price", fig))
    return figs


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1200px;color:#222}
h1{font-size:1.5em;margin-bottom:4px} h2{font-size:1.15em;margin-top:28px;border-bottom:1px solid #ddd}
table.kv{border-collapse:collapse;font-size:.92em} table.kv td,table.kv th{padding:3px 12px;border-bottom:1px solid #eee;text-align:left}
table.kv td.v{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f7f7f7;padding:10px;font-size:.85em;overflow:auto} .note{color:#666;font-size:.88em}
"""


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td{' class=v' if j else ''}>{html.escape(str(c))}</td>" for j, c in enumerate(r))
                   + "</tr>" for r in rows)
    return f"<table class='kv'><tr>{head}</tr>{body}</table>"


def parameter_rows(fit: dict) -> list[tuple[str, str, str, str]]:
    """(parameter, estimate, standard error, unit) rows of the fit, for the terminal and the report."""
    rows = [
        ("tick size", fit["instrument"]["tick_size_decimal"], "", fit["instrument"]["currency"] or "price"),
        ("price decimals", str(fit["instrument"]["price_decimals"]), "", "digits of the raw price"),
        ("opening mid", str(fit["initial_mid"]), "", "raw price"),
        ("max_distance", str(fit["max_distance"]), "", f"ticks (visible {fit['visible_fraction_at_max_distance']:.0%})"),
        ("k (λ(i) = k / i^α)", _fmt(fit["limit_rate_k"]), _fmt(fit["limit_rate_k_se"], 2), "orders / s per side"),
        ("α", _fmt(fit["limit_rate_alpha"]), _fmt(fit["limit_rate_alpha_se"], 2), "(constrained to [0, 10])"),
        ("α unconstrained", _fmt(fit["limit_rate_alpha_free"]), "", f"k = {_fmt(fit['limit_rate_k_free'])}"),
        ("μ (market orders)", _fmt(fit["market_rate"]), _fmt(fit["market_rate_se"], 2), "orders / s per side"),
        ("λ_J (joins at the own best)", _fmt(fit["join_rate"]), _fmt(fit["join_rate_se"], 2),
         f"orders / s per side (n = {fit['join_count']:,})"),
        ("φ (fleeting improvers)", _fmt(fit["improver_fleeting_share"]), _fmt(fit["improver_fleeting_share_se"], 2),
         f"share of {fit['improver_count']:,} improvers ({fit['improver_cancel_count']:,} cancelled)"),
        ("θ_I (fleeting cancels)", _fmt(fit["improver_cancel_rate"]), _fmt(fit["improver_cancel_rate_se"], 2),
         "1 / s per order"),
        ("θ_S (other improvers)", _fmt(fit["improver_slow_cancel_rate"]), _fmt(fit["improver_slow_cancel_rate_se"], 2),
         "1 / s per order (reported; the generator uses θ(i))"),
    ]
    for j, (t, s) in enumerate(zip(fit["cancel_rate"], fit["cancel_rate_se"]), start=1):
        if j <= 5 or j == len(fit["cancel_rate"]):
            rows.append((f"θ({j})", _fmt(t), _fmt(s, 2), "1 / s per order"))
    rows.append((f"θ(> {fit['max_distance']})", _fmt(fit["cancel_rate_beyond"]), "", "1 / s per order (pooled)"))
    ls, ms = fit["limit_sizes"], fit["market_sizes"]
    rows += [
        ("mean limit order size", _fmt(ls["mean"]), _fmt(math.sqrt(max(ls["mean"] ** 2 - ls["mean"], 0) / max(ls["count"], 1)), 2)
         if ls["count"] else "", f"lots (geometric p = {_fmt(ls['geometric_p'], 3)}, KS {_fmt(ls['ks_distance'], 2)})"),
        ("mean market order size", _fmt(ms["mean"]), "", f"lots (n = {ms['count']:,})"),
    ]
    h = fit["hawkes"]
    if h["fitted"]:
        rows.append(("Hawkes β (shared)", _fmt(h["beta"][0][0]), "", "1 / s"))
        rows.append(("Hawkes spectral radius", _fmt(h["spectral_radius"], 3), "", "branching"))
        for name, mu, row in zip(h["types"], h["mu"], h["alpha"]):
            rows.append((f"Hawkes {name}", f"μ {_fmt(mu, 3)}", "", "α row: " + ", ".join(_fmt(x, 2) for x in row)))
    else:
        rows.append(("Hawkes", "not fitted", "", h["note"]))
    return rows


def write_report(path: PathLike, result: CalibrationResult, real: dict, sim: dict, *, seed: int = 1,
                 command: str = "") -> Path:
    """Writes the self-contained HTML comparison report (plotly.js embedded once, inline)."""
    import plotly
    import plotly.io as pio

    fit = result.fit
    ins = fit["instrument"]
    title = f"mmkit calibrate-flow: {ins['symbol']} ({fit['format']})"
    fr, fs = key_figures(real), key_figures(sim)
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>",
             f"<p class='note'>Data: {html.escape(', '.join(result.data))}. Simulated: the fitted generator "
             f"({html.escape(result.flow)} arrivals, seed {seed}) over the same span ({fit['duration_s']:.0f} s). "
             "Estimators and their biases: docs/calibration.md.</p>",
             "<h2>Real vs simulated</h2>",
             _table(("figure", "real", "simulated", "sim / real"),
                    [(lab, _fmt(a), _fmt(b), _fmt(r, 3)) for lab, a, b, r in comparison_rows(fr, fs)]),
             "<h2>Fitted parameters</h2>",
             _table(("parameter", "estimate", "std. error", "unit / note"), parameter_rows(fit))]
    for k, (sec, fig) in enumerate(build_figures(result, real, sim)):
        parts.append(f"<h2>{html.escape(sec)}</h2>")
        parts.append(pio.to_html(fig, full_html=False, include_plotlyjs=(k == 0), div_id=f"mmkit-calib-{k}",
                                 config={"displaylogo": False, "responsive": True}))
    parts.append("<h2>[synthetic] settings</h2>")
    parts.append(f"<pre>{html.escape(synthetic_toml(result, command=command))}</pre>")
    parts.append(f"<p class='note'>plotly {plotly.__version__}</p></body></html>\n")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("".join(parts), encoding="utf-8")
    return p


# ---------------------------------------------------------------------------------------------
# The command.

def _command_line(data: Sequence[Path], out: Path, extra: Sequence[str]) -> str:
    return "mmkit calibrate-flow " + " ".join(shlex.quote(str(p)) for p in data) + f" --out {shlex.quote(str(out))}" + \
        "".join(" " + e for e in extra)


def calibrate_flow_cmd(
    data: List[Path] = typer.Argument(..., help="L3 market data file(s), read as one stream (LOBSTER, Databento MBO, .mmk)."),
    out: Path = typer.Option(..., "--out", "-o", help="TOML to write ([synthetic] section, read by `mmkit backtest --config`)."),
    instrument: str = typer.Option("", "--instrument", help="Symbol to select (Databento files with several)."),
    publisher: int = typer.Option(-1, "--publisher", help="Databento publisher id (default: the L3 one)."),
    report: Optional[Path] = typer.Option(None, "--report", help="Comparison report (default: report.html beside --out)."),
    seed: int = typer.Option(1, "--seed", help="Seed of the simulated market of the comparison."),
    tick_size: int = typer.Option(0, "--tick-size", help="Raw tick override (0: from the format or inferred)."),
    max_distance: int = typer.Option(0, "--max-distance", help="Largest distance (ticks) of λ(i), θ(i); 0 = auto."),
    visible_levels: int = typer.Option(0, "--visible-levels", help="Depth N of the visible window; 0 = auto (LOBSTER: the file's N)."),
    flow: str = typer.Option("poisson", "--flow", help="Arrival model written and simulated: poisson or hawkes."),
    hawkes: bool = typer.Option(True, "--hawkes/--no-hawkes", help="Fit the 6-variate Hawkes process."),
    joins: bool = typer.Option(True, "--joins/--no-joins",
                               help="Fit joins at the own best (join_rate) and improvers' cancels (improver_cancel_rate) "
                                    "apart; --no-joins: the CST 2010 estimators."),
    compare: bool = typer.Option(True, "--compare/--no-compare", help="Simulate the fitted market and write the report."),
    as_json: bool = typer.Option(False, "--json", help="Print the fit (and the comparison) as JSON instead of tables."),
) -> None:
    """Fit the synthetic market's order flow to an L3 file; compare the simulated market with it.

    Writes ``--out`` (the ``[synthetic]`` TOML with the estimates in its header comment) and,
    unless ``--no-compare``, the HTML report; prints the fitted parameters and the real vs
    simulated key figures (or JSON with ``--json``). Raises :class:`mmkit.Error` on unusable
    input. Methods: docs/calibration.md."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if flow not in ("poisson", "hawkes"):
        raise _core.Error(f"--flow must be poisson or hawkes, got '{flow}'")
    extra = [f"--flow {flow}"] if flow != "poisson" else []
    if instrument:
        extra.append(f"--instrument {shlex.quote(instrument)}")
    if publisher >= 0:
        extra.append(f"--publisher {publisher}")
    if tick_size:
        extra.append(f"--tick-size {tick_size}")
    if max_distance:
        extra.append(f"--max-distance {max_distance}")
    if visible_levels:
        extra.append(f"--visible-levels {visible_levels}")
    if not hawkes:
        extra.append("--no-hawkes")
    if not joins:
        extra.append("--no-joins")
    if report is not None:
        extra.append(f"--report {shlex.quote(str(report))}")
    if seed != 1:
        extra.append(f"--seed {seed}")
    if not compare:
        extra.append("--no-compare")
    command = _command_line(data, out, extra)

    res = calibrate_flow(data, instrument=instrument, publisher=publisher, tick_size=tick_size,
                         max_distance=max_distance, visible_levels=visible_levels, hawkes=hawkes, flow=flow,
                         joins_and_improvers=joins)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(synthetic_toml(res, command=command), encoding="utf-8")

    payload: dict = {"fit": res.fit, "synthetic": res.synthetic, "out": str(out)}
    rows = None
    if compare:
        real = flow_statistics(data, instrument=instrument, publisher=publisher, tick_size=tick_size)
        sim = res.simulate_statistics(seed=seed)
        rows = comparison_rows(key_figures(real), key_figures(sim))
        rpath = Path(report) if report is not None else out.parent / "report.html"
        write_report(rpath, res, real, sim, seed=seed, command=command)
        payload["comparison"] = [{"figure": r[0], "real": r[1], "simulated": r[2], "ratio": r[3]} for r in rows]
        payload["report"] = str(rpath)

    if as_json:
        print(json.dumps(_jsonable(payload), indent=2))
        return
    ins = res.fit["instrument"]
    t = Table(title=f"fitted order flow: {ins['symbol']} ({res.fit['format']}, {res.fit['duration_s']:,.0f} s, "
                    f"{res.fit['events']:,} events)")
    for c, j in (("parameter", "left"), ("estimate", "right"), ("std. error", "right"), ("unit / note", "left")):
        t.add_column(c, justify=j)
    for r in parameter_rows(res.fit):
        t.add_row(*r)
    console.print(t)
    if rows is not None:
        t = Table(title=f"real vs simulated (seed {seed}, {res.flow} arrivals)")
        for c, j in (("figure", "left"), ("real", "right"), ("simulated", "right"), ("sim / real", "right")):
            t.add_column(c, justify=j)
        for lab, a, b, r in rows:
            t.add_row(lab, _fmt(a), _fmt(b), _fmt(r, 3))
        console.print(t)
    console.print(f"[green]wrote[/green] {out}" + (f" and {payload['report']}" if "report" in payload else ""))


def _jsonable(o: Any) -> Any:
    """Plain JSON values: arrays as lists, NaN / inf as null."""
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, np.ndarray):
        return [_jsonable(v) for v in o.tolist()]
    if isinstance(o, (bool, np.bool_)):
        return bool(o)
    if isinstance(o, (int, np.integer)):
        return int(o)
    if isinstance(o, (float, np.floating)):
        f = float(o)
        return f if math.isfinite(f) else None
    return o
