"""`mmkit paper NAME` (python/mmkit/papers.py over include/mmkit/models/papers.h): output shapes,
determinism, the files written with --out, and figures checked against hand computations."""
from __future__ import annotations

import csv
import json
import math
import re

import pytest

import mmkit
from mmkit import _core, papers

AS_KEYS = ["gamma", "strategy", "spread", "profit_mean", "profit_std", "final_q_mean", "final_q_std"]


def _json_out(capsys, name, seed=1, paths=None, out=None):
    papers.paper_cmd(name, seed, True, out, paths)
    return json.loads(capsys.readouterr().out)


def test_avellaneda_stoikov_json_is_one_row_per_gamma_and_strategy(capsys):
    rows = _json_out(capsys, "avellaneda-stoikov-2008", paths=200)
    assert [(r["gamma"], r["strategy"]) for r in rows] == [
        (0.1, "inventory"), (0.1, "symmetric"), (0.01, "inventory"), (0.01, "symmetric"),
        (1.0, "inventory"), (1.0, "symmetric")]
    for r in rows:
        assert list(r) == AS_KEYS
    # The symmetric strategy quotes the inventory strategy's time-average spread:
    # (2/γ) ln(1 + γ/k) + γσ² (T − 199 dt / 2), by hand.
    for g in (0.1, 0.01, 1.0):
        inv, sym = [r for r in rows if r["gamma"] == g]
        expected = 2 / g * math.log(1 + g / 1.5) + g * 4 * (1 - 0.005 * 199 / 2)
        assert inv["spread"] == pytest.approx(expected, rel=1e-12)
        assert sym["spread"] == inv["spread"]


def test_avellaneda_stoikov_same_seed_same_bytes_other_seed_other_figures(capsys):
    papers.paper_cmd("avellaneda-stoikov-2008", 7, True, None, 100)
    a = capsys.readouterr().out
    papers.paper_cmd("avellaneda-stoikov-2008", 7, True, None, 100)
    b = capsys.readouterr().out
    papers.paper_cmd("avellaneda-stoikov-2008", 8, True, None, 100)
    c = capsys.readouterr().out
    assert a == b
    assert json.loads(a)[0]["profit_mean"] != json.loads(c)[0]["profit_mean"]


def test_avellaneda_stoikov_gamma_point_one_profits_match_table_1():
    # Table 1: inventory 62.94 (std 5.89), symmetric 67.21 (std 13.43), 1000 simulations each;
    # within 4 standard errors of the difference of the two means.
    rows = papers.avellaneda_stoikov_2008(seed=1, paths=1000, gammas=[0.1])
    for r, (mean, std) in zip(rows, [(62.94, 5.89), (67.21, 13.43)]):
        se = math.sqrt(r["profit_std"] ** 2 + std ** 2) / math.sqrt(1000)
        assert abs(r["profit_mean"] - mean) < 4 * se, (r, mean)


def test_avellaneda_stoikov_table_shows_the_papers_figures(capsys):
    papers.paper_cmd("avellaneda-stoikov-2008", 1, False, None, 100)
    text = capsys.readouterr().out
    for v in ("62.94", "67.21", "66.78", "67.36", "33.92", "66.20"):
        assert v in text


def test_avellaneda_stoikov_options_are_checked():
    with pytest.raises(mmkit.Error, match="expected linear or exponential"):
        papers.avellaneda_stoikov_2008(fill="poisson")
    with pytest.raises(mmkit.Error, match="move-then-fill"):
        papers.avellaneda_stoikov_2008(timing="later")


def test_glft_json_has_exact_and_approximate_quotes_per_inventory(capsys):
    res = _json_out(capsys, "glft-2013")
    assert res["params"]["Q"] == 30 and res["params"]["T"] == 600
    rows = res["rows"]
    assert [r["q"] for r in rows] == list(range(-30, 31))
    assert rows[-1]["exact_bid"] is None and rows[0]["exact_ask"] is None
    by_q = {r["q"]: r for r in rows}
    # Closed form by hand: (1/γ) ln(1 + γ/k) + (2q + 1)/2 sqrt(σ²γ/(2kA) (1 + γ/k)^{1 + k/γ}).
    c = math.sqrt(0.09 * 0.01 / (2 * 0.3 * 0.9) * (1 + 0.01 / 0.3) ** (1 + 0.3 / 0.01))
    base = math.log(1 + 0.01 / 0.3) / 0.01
    for q in (-3, 0, 4):
        assert by_q[q]["approx_bid"] == pytest.approx(base + (2 * q + 1) / 2 * c, rel=1e-12)
        assert by_q[q]["approx_ask"] == pytest.approx(base - (2 * q - 1) / 2 * c, rel=1e-12)
    for r in rows:
        if r["exact_bid"] is not None:
            assert r["diff_bid"] == pytest.approx(r["approx_bid"] - r["exact_bid"], abs=1e-15)
            assert r["exact_bid"] == pytest.approx(by_q[-r["q"]]["exact_ask"], abs=1e-9)  # δb(q) = δa(−q)
        if abs(r["q"]) <= 10:
            assert abs(r["diff_bid"]) < 0.005 and abs(r["diff_ask"]) < 0.005


def test_almgren_chriss_json_and_files(capsys, tmp_path):
    res = _json_out(capsys, "almgren-chriss-2001", out=tmp_path)
    lam0, lam1, lam2 = res["strategies"]
    assert [s["lambda"] for s in res["strategies"]] == [0.0, 1e-6, 2e-6]
    # λ = 0: TWAP; E = ½γX² + εX + (η − γτ/2) X²/T = 125,000 + 62,500 + 475,000.
    assert lam0["x"] == pytest.approx([1e6, 8e5, 6e5, 4e5, 2e5, 0.0])
    assert lam0["E"] == pytest.approx(662500.0, rel=1e-12)
    assert lam0["half_life"] is None
    # κ from cosh(κτ) = 1 + κ̃²τ²/2, κ̃² = λσ²/η̃ = 1e-6 × 0.9025 / 2.375e-6 = 0.38.
    assert lam1["kappa"] == pytest.approx(math.acosh(1.19), rel=1e-12)
    assert lam2["kappa"] == pytest.approx(math.acosh(1.38), rel=1e-12)
    x = [1e6 * math.sinh(lam2["kappa"] * (5 - k)) / math.sinh(lam2["kappa"] * 5) for k in range(6)]
    assert lam2["x"] == pytest.approx(x, rel=1e-12, abs=1e-6)
    assert lam2["std"] == pytest.approx(math.sqrt(0.9025 * sum(v * v for v in x[1:])), rel=1e-12)

    saved = json.loads((tmp_path / "almgren-chriss-2001.json").read_text())
    assert saved == res
    with open(tmp_path / "frontier.csv") as f:
        frontier = list(csv.DictReader(f))
    assert len(frontier) == 61
    E = [float(r["E"]) for r in frontier]
    V = [float(r["V"]) for r in frontier]
    assert all(b > a for a, b in zip(E, E[1:])) and all(b < a for a, b in zip(V, V[1:]))
    with open(tmp_path / "trajectories.csv") as f:
        traj = list(csv.DictReader(f))
    assert len(traj) == 18 and traj[0] == {"lambda": "0.0", "k": "0", "t": "0.0", "x": "1000000.0", "n": ""}
    html = (tmp_path / "almgren-chriss-2001.html").read_text()
    assert "efficient frontier" in html.lower()
    assert re.search(r"<script[^>]+src=", html) is None  # plotly.js inline, nothing fetched
    assert html.count("Plotly.newPlot") == 2


def test_unknown_paper_and_misplaced_paths_are_errors():
    with pytest.raises(mmkit.Error, match="unknown paper 'hawkes-1971'"):
        papers.paper_cmd("hawkes-1971", 1, True, None, None)
    with pytest.raises(mmkit.Error, match="--paths applies to avellaneda-stoikov-2008 only"):
        papers.paper_cmd("glft-2013", 1, True, None, 10)


def test_impact_estimators_from_python_match_hand_computation():
    # Almgren-Chriss: buy 100 twice, γ = 0.01, η = 0.1, ε = 0.05, τ = 1: 1005 + 1105.
    spec = "almgren-chriss:gamma=0.01,eta=0.1,epsilon=0.05,tau=1"
    assert _core.impact_expected_cost(spec, [0.0, 1.0], [100.0, 100.0]) == pytest.approx(2110.0)
    assert _core.impact_at(spec, 1.5, [0.0, 1.0], [100.0, 100.0]) == pytest.approx(2.0)
    # Square root: a buy of Q costs (2/3) Y σ Q sqrt(Q/V).
    assert _core.impact_expected_cost("sqrt:Y=1,sigma=0.02,V=1e6", [0.0], [4e4]) == pytest.approx(320 / 3)
    with pytest.raises(mmkit.Error, match="unknown impact model 'linear'"):
        _core.impact_expected_cost("linear:eta=1", [0.0], [1.0])
