"""The classic papers, reproduced: ``mmkit paper NAME [--seed S] [--json] [--out DIR]``.

    avellaneda-stoikov-2008  Avellaneda & Stoikov (2008), Quantitative Finance 8(3), §3.3,
                             Tables 1-3: inventory vs symmetric strategy, 1000 simulations.
    glft-2013                Guéant, Lehalle & Fernandez-Tapia (2013), Mathematics and Financial
                             Economics 7(4): exact quotes (matrix exponential, Theorem 1) and the
                             closed-form approximation (§4).
    almgren-chriss-2001      Almgren & Chriss (2001), Journal of Risk 3(2): optimal trajectories,
                             E, sqrt(V), kappa for lambda in {0, 1e-6, 2e-6}; efficient frontier.

Every figure is computed in C++ (``mmkit._core``, include/mmkit/models/papers.h); this module
formats it. The papers' own figures and how ours compare: docs/papers.md.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import List, Optional, Sequence

from mmkit import _core

PAPERS = ("avellaneda-stoikov-2008", "glft-2013", "almgren-chriss-2001")

SOURCES = {
    "avellaneda-stoikov-2008": "Avellaneda & Stoikov (2008), 'High-frequency trading in a limit order book', "
                               "Quantitative Finance 8(3), 217-224, section 3.3, Tables 1-3",
    "glft-2013": "Guéant, Lehalle & Fernandez-Tapia (2013), 'Dealing with the inventory risk: a solution to the "
                 "market making problem', Mathematics and Financial Economics 7(4), 477-507, section 3 "
                 "(Proposition 2, Theorem 1) and section 4 (Theorem 2, closed-form approximation)",
    "almgren-chriss-2001": "Almgren & Chriss (2001), 'Optimal execution of portfolio transactions', "
                           "Journal of Risk 3(2), 5-39, section 2 (explicit optimal strategies, half-life, "
                           "efficient frontier), Table 1 parameters",
}

AS_ROW_KEYS = ("gamma", "strategy", "spread", "profit_mean", "profit_std", "final_q_mean", "final_q_std")

#: The gamma = 1 symmetric strategy of Table 3 quotes the printed average spread 1.15, not the
#: average of eq. (30) (3.03): docs/papers.md.
AS_PAPER_GAMMA1_SPREAD = 1.15

AC_LAMBDAS = (0.0, 1e-6, 2e-6)


def avellaneda_stoikov_2008(seed: int = 1, paths: int = 1000, fill: str = "linear",
                            timing: str = "move-then-fill", gammas: Optional[Sequence[float]] = None) -> List[dict]:
    """Rows ``{gamma, strategy, spread, profit_mean, profit_std, final_q_mean, final_q_std}``,
    one per gamma (default 0.1, 0.01, 1) and strategy ("inventory", "symmetric"); the symmetric
    strategy quotes the inventory strategy's time-average spread around the mid. ``fill``:
    "linear" (P = min(1, lambda dt), the paper's) or "exponential" (1 - exp(-lambda dt));
    ``timing``: "move-then-fill" (reproduces the paper's tables) or "fill-then-move".
    Deterministic for a given seed. Raises mmkit.Error for invalid options."""
    rows = _core.paper_avellaneda_stoikov_2008(seed=seed, paths=paths, fill=fill, timing=timing,
                                               gammas=list(gammas or []))
    return [{k: r[k] for k in AS_ROW_KEYS} for r in rows]


def avellaneda_stoikov_2008_tables() -> List[dict]:
    """The paper's Tables 1-3 as printed (same keys as :func:`avellaneda_stoikov_2008`)."""
    return _core.paper_avellaneda_stoikov_2008_tables()


def glft_2013(sigma: float = 0.3, A: float = 0.9, k: float = 0.3, gamma: float = 0.01, T: float = 600.0,
              Q: int = 30, t: float = 0.0) -> dict:
    """Optimal bid / ask distances (ticks) per inventory q = -Q..Q at time t: ``exact`` (Theorem 1,
    v = exp(-M(T - t)) 1), ``approx`` (the closed form of section 4), ``limit`` (T -> infinity,
    Theorem 2) and ``diff`` = approx - exact. None where a quote does not exist (no bid at
    q = Q, no ask at q = -Q). Units: sigma tick/sqrt(s), A 1/s, k and gamma 1/tick, T and t s."""
    r = _core.paper_glft_2013(sigma=sigma, A=A, k=k, gamma=gamma, T=T, Q=Q, t=t)
    rows = []
    for i, q in enumerate(r["q"]):
        row = {"q": q}
        for side in ("bid", "ask"):
            ex, ap, li = r[f"exact_{side}"][i], r[f"approx_{side}"][i], r[f"limit_{side}"][i]
            row[f"exact_{side}"] = ex
            row[f"approx_{side}"] = ap
            row[f"diff_{side}"] = None if ex is None or ap is None else ap - ex
            row[f"limit_{side}"] = li
        rows.append(row)
    return {"paper": "glft-2013", "source": SOURCES["glft-2013"],
            "params": {"sigma": sigma, "A": A, "k": k, "gamma": gamma, "T": T, "Q": Q, "t": t,
                       "alpha": r["alpha"], "eta": r["eta"]},
            "rows": rows}


def almgren_chriss_2001(lambdas: Sequence[float] = AC_LAMBDAS, frontier_points: int = 61) -> dict:
    """The Table 1 example: per lambda (1/$) the holdings x_k (shares) at t_k (days), trades n_k,
    kappa (1/day), half-life (days; None for lambda = 0), E ($), V ($^2), std = sqrt(V) ($); and
    the efficient frontier over ``frontier_points`` lambdas (0 and log-spaced 1e-8..1e-4)."""
    grid = _core.paper_almgren_chriss_2001_frontier_lambdas(frontier_points)
    frontier = [{k: s[k] for k in ("lambda", "kappa", "E", "V", "std")}
                for s in _core.paper_almgren_chriss_2001(grid)]
    return {"paper": "almgren-chriss-2001", "source": SOURCES["almgren-chriss-2001"],
            "params": _core.paper_almgren_chriss_2001_model(),
            "strategies": _core.paper_almgren_chriss_2001(list(lambdas)),
            "frontier": frontier}


def write_almgren_chriss_outputs(result: dict, out_dir: Path) -> List[Path]:
    """Writes frontier.csv (lambda,kappa,E,V,std), trajectories.csv (lambda,k,t,x,n) and
    almgren-chriss-2001.html (self-contained: plotly.js inline) under ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "frontier.csv", out_dir / "trajectories.csv", out_dir / "almgren-chriss-2001.html"]
    with open(paths[0], "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["lambda", "kappa", "E", "V", "std"])
        for p in result["frontier"]:
            w.writerow([repr(p["lambda"]), repr(p["kappa"]), repr(p["E"]), repr(p["V"]), repr(p["std"])])
    with open(paths[1], "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["lambda", "k", "t", "x", "n"])
        for s in result["strategies"]:
            for k, (t, x) in enumerate(zip(s["t"], s["x"])):
                w.writerow([repr(s["lambda"]), k, repr(t), repr(x), repr(s["n"][k - 1]) if k > 0 else ""])
    paths[2].write_text(_almgren_chriss_html(result), encoding="utf-8")
    return paths


def _almgren_chriss_html(result: dict) -> str:
    import html

    import plotly.graph_objects as go
    import plotly.io as pio

    fr = result["frontier"]
    frontier = go.Figure()
    frontier.add_trace(go.Scatter(x=[p["V"] / 1e12 for p in fr], y=[p["E"] / 1e6 for p in fr], mode="lines",
                                  name="efficient frontier",
                                  customdata=[p["lambda"] for p in fr],
                                  hovertemplate="V %{x:.4f}e12 $²<br>E %{y:.4f}e6 $<br>λ %{customdata:.3g}"))
    for s in result["strategies"]:
        frontier.add_trace(go.Scatter(x=[s["V"] / 1e12], y=[s["E"] / 1e6], mode="markers+text",
                                      text=[f"λ = {s['lambda']:g}"], textposition="top right",
                                      name=f"λ = {s['lambda']:g}"))
    frontier.update_layout(template="plotly_white", height=460, xaxis_title="variance V ($10¹²)",
                           yaxis_title="expected cost E ($10⁶)", margin=dict(l=60, r=20, t=30, b=50))
    traj = go.Figure()
    for s in result["strategies"]:
        traj.add_trace(go.Scatter(x=s["t"], y=[x / 1e3 for x in s["x"]], mode="lines+markers",
                                  name=f"λ = {s['lambda']:g}"))
    traj.update_layout(template="plotly_white", height=420, xaxis_title="time (days)",
                       yaxis_title="holdings x_k (10³ shares)", margin=dict(l=60, r=20, t=30, b=50))
    rows = "".join(
        f"<tr><td>{s['lambda']:g}</td><td>{s['kappa']:.6f}</td>"
        f"<td>{'∞' if s['half_life'] is None else format(s['half_life'], '.4f')}</td>"
        f"<td>{s['E']:,.0f}</td><td>{s['std']:,.0f}</td>"
        f"<td>{', '.join(f'{x:,.0f}' for x in s['x'])}</td></tr>" for s in result["strategies"])
    title = "Almgren & Chriss (2001): optimal execution, Table 1 example"
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:1000px;margin:auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p>{html.escape(result['source'])}. Parameters: {html.escape(json.dumps(result['params']))}; "
             "drift 0. E and V from the linear-impact formulas of section 1.5 (docs/papers.md).</p>",
             "<table><tr><th>λ (1/$)</th><th>κ (1/day)</th><th>half-life (days)</th><th>E ($)</th>"
             f"<th>√V ($)</th><th>x_0 … x_N (shares)</th></tr>{rows}</table>",
             "<h2>Efficient frontier</h2>",
             pio.to_html(frontier, full_html=False, include_plotlyjs=True, div_id="mmkit-ac-frontier",
                         config={"displaylogo": False}),
             "<h2>Trajectories</h2>",
             pio.to_html(traj, full_html=False, include_plotlyjs=False, div_id="mmkit-ac-trajectories",
                         config={"displaylogo": False}),
             "</body></html>"]
    return "\n".join(parts)


def _as_result(rows: List[dict], seed: int, paths: int) -> dict:
    check = _core.paper_avellaneda_stoikov_2008_symmetric(gamma=1.0, spread=AS_PAPER_GAMMA1_SPREAD, seed=seed,
                                                         paths=paths)
    return {"rows": rows, "paper": avellaneda_stoikov_2008_tables(), "paths": paths,
            "symmetric_gamma1_paper_spread": {k: check[k] for k in AS_ROW_KEYS}}


def _print_as(res: dict, console) -> None:
    from rich.table import Table

    n = res["paths"]
    tab = Table(title=f"Avellaneda & Stoikov (2008) §3.3, {n} paths: ours / paper (Tables 1-3)")
    for c in ("γ", "strategy", "spread", "profit mean ± s.e.", "profit std", "final q mean", "final q std"):
        tab.add_column(c, justify="right" if c != "strategy" else "left")
    paper = {(p["gamma"], p["strategy"]): p for p in res["paper"]}
    for r in res["rows"]:
        p = paper.get((r["gamma"], r["strategy"]))
        se = r["profit_std"] / math.sqrt(n)

        def pair(ours: str, key: str, fmt: str = ".2f") -> str:
            return f"{ours} / {format(p[key], fmt)}" if p else ours

        tab.add_row(f"{r['gamma']:g}", r["strategy"], pair(f"{r['spread']:.2f}", "spread"),
                    pair(f"{r['profit_mean']:.2f} ± {se:.2f}", "profit_mean"),
                    pair(f"{r['profit_std']:.2f}", "profit_std"),
                    pair(f"{r['final_q_mean']:.3f}", "final_q_mean", ".3g"),
                    pair(f"{r['final_q_std']:.2f}", "final_q_std"))
    console.print(tab)
    c = res["symmetric_gamma1_paper_spread"]
    p = paper.get((1.0, "symmetric"))
    console.print(f"γ = 1 symmetric at the paper's printed spread {AS_PAPER_GAMMA1_SPREAD}: profit "
                  f"{c['profit_mean']:.2f} ± {c['profit_std'] / math.sqrt(n):.2f} (paper {p['profit_mean']:.2f}), "
                  f"std {c['profit_std']:.2f} ({p['profit_std']:.2f}), final q std {c['final_q_std']:.2f} "
                  f"({p['final_q_std']:.2f}). Our spread column is the time average of eq. (30); "
                  "docs/papers.md explains the differences.")


def _print_glft(res: dict, console) -> None:
    from rich.table import Table

    pr = res["params"]
    tab = Table(title=(f"GLFT (2013): optimal quotes (ticks) at t = {pr['t']:g}, T = {pr['T']:g} s, Q = {pr['Q']}; "
                       f"σ = {pr['sigma']}, A = {pr['A']}, k = {pr['k']}, γ = {pr['gamma']}"))
    for c in ("q", "δb exact", "δb approx", "diff", "δa exact", "δa approx", "diff"):
        tab.add_column(c, justify="right")

    def f(v) -> str:
        return "-" if v is None else f"{v:.4f}"

    for r in res["rows"]:
        tab.add_row(str(r["q"]), f(r["exact_bid"]), f(r["approx_bid"]), f(r["diff_bid"]),
                    f(r["exact_ask"]), f(r["approx_ask"]), f(r["diff_ask"]))
    console.print(tab)


def _print_ac(res: dict, console) -> None:
    from rich.table import Table

    tab = Table(title="Almgren & Chriss (2001), Table 1 example (X = 10⁶ shares, T = 5 days, N = 5)")
    for c in ("λ (1/$)", "κ̃ (1/day)", "κ (1/day)", "half-life (days)", "E ($)", "√V ($)", "x_0 … x_5 (shares)"):
        tab.add_column(c, justify="right")
    for s in res["strategies"]:
        tab.add_row(f"{s['lambda']:g}", f"{s['kappa_tilde']:.5f}", f"{s['kappa']:.5f}",
                    "∞" if s["half_life"] is None else f"{s['half_life']:.4f}", f"{s['E']:,.0f}",
                    f"{s['std']:,.0f}", " ".join(f"{x:,.0f}" for x in s["x"]))
    console.print(tab)
    console.print(f"efficient frontier: {len(res['frontier'])} points (λ = 0 and 1e-8 … 1e-4); "
                  "--out DIR writes frontier.csv, trajectories.csv and an HTML plot.")


def run_paper(name: str, seed: int = 1, paths: Optional[int] = None) -> object:
    """The reproduction ``name`` (one of PAPERS) as the JSON-ready object `mmkit paper NAME --json`
    prints. ``paths`` (avellaneda-stoikov-2008 only, default 1000). Raises mmkit.Error for an
    unknown name or an option that does not apply."""
    if name not in PAPERS:
        raise _core.Error(f"unknown paper '{name}' (expected one of: {', '.join(PAPERS)})")
    if paths is not None and name != "avellaneda-stoikov-2008":
        raise _core.Error(f"--paths applies to avellaneda-stoikov-2008 only, not {name}")
    if name == "avellaneda-stoikov-2008":
        return avellaneda_stoikov_2008(seed=seed, paths=1000 if paths is None else paths)
    if name == "glft-2013":
        return glft_2013()
    return almgren_chriss_2001()


def paper_cmd(name: str, seed: int, as_json: bool, out: Optional[Path], paths: Optional[int]) -> None:
    """`mmkit paper NAME [--seed S] [--json] [--out DIR] [--paths N]`.

    Prints the reproduction as JSON (``--json``; for avellaneda-stoikov-2008 the list of rows
    ``{gamma, strategy, spread, profit_mean, profit_std, final_q_mean, final_q_std}``) or as a
    table beside the paper's figures. ``--out DIR`` also writes ``DIR/<name>.json`` and, for
    almgren-chriss-2001, frontier.csv, trajectories.csv and almgren-chriss-2001.html. The seed
    matters only to avellaneda-stoikov-2008 (the others are deterministic computations)."""
    from rich.console import Console

    console = Console()
    data = run_paper(name, seed=seed, paths=paths)
    written: List[Path] = []
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        jp = out / f"{name}.json"
        jp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        written.append(jp)
        if name == "almgren-chriss-2001":
            written += write_almgren_chriss_outputs(data, out)
    if as_json:
        print(json.dumps(data, indent=2))
    else:
        if name == "avellaneda-stoikov-2008":
            _print_as(_as_result(data, seed, 1000 if paths is None else paths), console)
        elif name == "glft-2013":
            _print_glft(data, console)
        else:
            _print_ac(data, console)
        console.print(f"[dim]source: {SOURCES[name]}[/dim]")
    for p in written:
        (Console(stderr=True) if as_json else console).print(f"[green]wrote[/green] {p}")
