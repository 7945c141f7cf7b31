"""`mmkit calibrate-flow` end to end: a synthetic market with known parameters (recovered within
tolerances from the Poisson counts), the real LOBSTER GOOG level-1 file (counts checked against the
message file itself), the TOML accepted by mmkit.backtest, the report, and the statistics by hand."""
import json
import math
import re
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

import mmkit
from mmkit import calibrate as cal

KNOWN = {
    "symbol": "KNOWN", "price_decimals": 3, "tick_size": 5, "initial_mid": 250_000, "max_distance": 8,
    "limit_rate_k": 1.6, "limit_rate_alpha": 0.8, "market_rate": 0.45,
    "cancel_rates": [0.9, 0.6, 0.5, 0.42, 0.35, 0.3, 0.27, 0.25, 0.2], "mean_order_size": 4.0,
    "opening_orders_per_level": 3, "duration_s": 4 * 3600.0, "seed": 20240611,
}
Z = 4.5  # tolerance in standard deviations of the Poisson / binomial counts


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("calibrate-flow")(cal.calibrate_flow_cmd)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps typer's sub-command parsing
        pass

    return app


def _run(args):
    res = CliRunner().invoke(_app(), ["calibrate-flow", *map(str, args)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res


@pytest.fixture(scope="module")
def known_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("known")
    written = cal.write_synthetic_events(d / "known.mmk", **KNOWN)
    assert written["events"] > 100_000
    out = d / "params.toml"
    res = _run([d / "known.mmk", "--out", out, "--seed", 3, "--no-hawkes", "--json"])
    return d, out, json.loads(res.stdout)


def test_command_recovers_the_parameters_of_a_known_synthetic_market(known_run):
    d, out, payload = known_run
    fit = payload["fit"]
    T = fit["duration_s"]
    assert T == pytest.approx(KNOWN["duration_s"], abs=1.0)
    assert fit["max_distance"] == KNOWN["max_distance"]
    # μ: 2μT market orders, Poisson.
    mu = KNOWN["market_rate"]
    assert abs(fit["market_rate"] - mu) <= Z * math.sqrt(2 * mu * T) / (2 * T)
    # λ(i) = k / i^α: each distance's count is Poisson(λ(i) · 2T).
    for i, rate in enumerate(fit["limit_rate"], start=1):
        lam = KNOWN["limit_rate_k"] * i ** -KNOWN["limit_rate_alpha"]
        assert abs(rate - lam) <= Z * math.sqrt(lam * 2 * T) / (2 * T), i
    assert abs(fit["limit_rate_k"] - KNOWN["limit_rate_k"]) <= Z * fit["limit_rate_k_se"]
    assert abs(fit["limit_rate_alpha"] - KNOWN["limit_rate_alpha"]) <= Z * fit["limit_rate_alpha_se"]
    # θ(i): cancels at distance i have compensator θ(i) X(i).
    for i, (th, x) in enumerate(zip(fit["cancel_rate"], fit["order_exposure_s"]), start=1):
        true = KNOWN["cancel_rates"][i - 1]
        assert abs(th - true) <= Z * math.sqrt(true * x) / x, i
    # Sizes: geometric with mean 4.
    p = 1 / KNOWN["mean_order_size"]
    n = fit["limit_sizes"]["count"]
    assert abs(fit["limit_sizes"]["mean"] - 4.0) <= Z * math.sqrt((1 - p) / p**2) / math.sqrt(n)
    assert fit["book_rejections"] == 0
    # The TOML: the [synthetic] section of the fit.
    cfg = tomllib.loads(out.read_text())
    assert set(cfg) == {"synthetic"}
    syn = cfg["synthetic"]
    assert syn["tick_size"] == 5 and syn["price_decimals"] == 3 and syn["initial_mid"] == 250_000
    assert syn["max_distance"] == 8
    assert syn["market_rate"] == pytest.approx(fit["market_rate"], rel=1e-6)
    assert syn["cancel_rates"][:8] == pytest.approx(fit["cancel_rate"], rel=1e-6)
    assert len(syn["cancel_rates"]) == 9  # θ(1..8) + the pooled rate beyond
    assert syn["cancel_rates"][8] == pytest.approx(0.2, abs=Z * math.sqrt(0.2 / fit["order_exposure_beyond_s"]))
    assert syn["mean_order_size"] == pytest.approx(fit["limit_sizes"]["mean"], rel=1e-6)
    # λ(i) written explicitly (the power law is not: the generator would not use it), and the
    # market orders' own mean size.
    assert syn["limit_rates"] == pytest.approx(fit["limit_rate"], rel=1e-6)
    assert "limit_rate_k" not in syn and "limit_rate_alpha" not in syn
    assert syn["mean_market_order_size"] == pytest.approx(fit["market_sizes"]["mean"], rel=1e-6)
    assert syn["flow"] == "poisson" and "hawkes_mu" not in syn  # --no-hawkes: nothing to carry
    header = out.read_text().split("[synthetic]")[0]
    assert "# command: mmkit calibrate-flow" in header and "known.mmk" in header and "# date:" in header


def test_fitted_toml_is_accepted_by_the_backtest(known_run):
    d, out, _ = known_run
    res = mmkit.backtest(config=out, strategy="spread-quoter", synthetic={"duration_s": 120})
    assert res.instrument["symbol"] == "SYN-KNOWN"
    assert res.metrics["events"] > 100


def test_report_is_self_contained_and_compares_real_with_simulated(known_run):
    d, _, payload = known_run
    html = (d / "report.html").read_text()
    assert payload["report"] == str(d / "report.html")
    assert "Real vs simulated" in html and "Signature plot" in html and "Spread" in html
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.I)  # plotly.js inline, nothing fetched
    assert html.count("<script") >= 10
    rows = {r["figure"]: r for r in payload["comparison"]}
    # The simulation is the same generator with the fitted parameters: the flow rates agree.
    for k in ("market orders / s", "limit orders / s", "cancels / s"):
        assert rows[k]["ratio"] == pytest.approx(1.0, abs=0.05), k
    assert rows["spread, mean (ticks)"]["ratio"] == pytest.approx(1.0, abs=0.1)


def test_goog_level_1_real_file_end_to_end(data_dir, tmp_path):
    path = data_dir / "lobster" / "LOBSTER_SampleFile_GOOG_2012-06-21_1.zip"
    with zipfile.ZipFile(path) as z:
        name = next(n for n in z.namelist() if "_message_1" in n)
        msg = pd.read_csv(z.open(name), header=None, names=["t", "type", "id", "size", "price", "dir"])
    counts = msg["type"].value_counts()
    out = tmp_path / "goog1.toml"
    res = _run([path, "--out", out, "--report", tmp_path / "r.html", "--json"])
    payload = json.loads(res.stdout)
    fit = payload["fit"]
    # Known answers from the message file itself.
    assert fit["limit_orders"] == counts[1]
    assert fit["cancels"] + fit["partial_cancels"] + fit["cancels_of_unknown_orders"] == counts[2] + counts[3]
    assert fit["executions"] == counts[4]
    assert fit["trades_without_book_effect"] == counts[5]
    assert fit["visible_levels"] == 1
    assert fit["book_rejections"] == 0
    assert fit["duration_s"] == pytest.approx(msg["t"].iloc[-1] - msg["t"].iloc[0], abs=1e-6)
    # Market orders: runs of executions with one timestamp and resting side, with no add or
    # cancel between them (hidden executions and halts do not interrupt a run).
    flow = msg[msg["type"].isin([1, 2, 3, 4])].reset_index(drop=True)
    is_ex = (flow["type"] == 4).to_numpy()
    same = np.r_[False, is_ex[:-1]] & flow["t"].eq(flow["t"].shift()).to_numpy() & flow["dir"].eq(flow["dir"].shift()).to_numpy()
    new_run = is_ex & ~same
    ex_dir = flow["dir"].to_numpy()
    assert fit["market_orders_buy"] + fit["market_orders_sell"] == int(new_run.sum())
    assert fit["market_orders_buy"] == int((new_run & (ex_dir == -1)).sum())
    assert fit["limit_sizes"]["mean"] == pytest.approx(msg.loc[msg["type"] == 1, "size"].mean(), rel=1e-12)
    assert fit["hawkes"]["fitted"], fit["hawkes"]["note"]
    assert fit["hawkes"]["spectral_radius"] < 1
    cfg = tomllib.loads(out.read_text())
    assert cfg["synthetic"]["tick_size"] == 100 and cfg["synthetic"]["price_decimals"] == 4
    res = mmkit.backtest(config=out, strategy="glft", synthetic={"duration_s": 300})
    assert res.metrics["events"] > 0
    assert (tmp_path / "r.html").stat().st_size > 100_000


def test_hawkes_flow_toml_carries_the_fitted_process(tmp_path):
    short = {**KNOWN, "duration_s": 900.0}
    cal.write_synthetic_events(tmp_path / "short.mmk", **short)
    res = cal.calibrate_flow(tmp_path / "short.mmk", flow="hawkes")
    h = res.fit["hawkes"]
    assert h["fitted"] and h["types"] == list(cal.FLOW_EVENT_TYPES)
    syn = res.synthetic
    assert syn["flow"] == "hawkes"
    assert syn["hawkes_alpha"] == h["alpha"]
    assert syn["hawkes_beta"] == h["beta"][0][0] == h["beta"][5][3]  # shared decay: one number
    assert syn["hawkes_mu"] == pytest.approx(h["mu"], abs=1e-6)
    text = cal.synthetic_toml(res, command="test")
    assert tomllib.loads(text)["synthetic"]["hawkes_alpha"] == pytest.approx(np.asarray(h["alpha"]), rel=1e-6)
    sim = res.simulate_statistics(seed=2)
    assert sim["events"] > 1000


def test_statistics_by_hand_bid_ask_bounce():
    # A mid that alternates between 100.00 and 100.01 every second: 1 s returns of ±1 bp (about),
    # 2 s returns of 0 -> the signature plot falls from RV(1 s) to 0 at 2 s.
    mid = np.tile([100.0, 100.01], 50)
    stats = {"mid": mid, "sample_interval_ns": 10**9, "spread_time_s": np.array([0.0, 3.0, 1.0]),
             "two_sided_s": 4.0, "duration_s": 4.0, "depth_bid_lots": np.array([2.0, 4.0]),
             "depth_ask_lots": np.array([4.0, 6.0]), "event_ts_ns": np.array([0, 10**9, 3 * 10**9], dtype=np.int64),
             "event_type": np.array([2, 0, 1], dtype=np.uint8), "mid_changes": 99}
    r = math.log(100.01 / 100.0) * 1e4
    assert cal.return_std_bp(stats, 1) == pytest.approx(np.std(np.r_[[r, -r] * 49, r], ddof=1), rel=1e-12)
    assert cal.return_std_bp(stats, 2) == pytest.approx(0.0, abs=1e-9)
    sig = cal.signature(stats, (1, 2))
    assert sig[0] == pytest.approx(r * r, rel=1e-12)  # every squared 1 s return is r², per 1 s
    assert sig[1] == pytest.approx(0.0, abs=1e-9)
    f = cal.key_figures(stats)
    assert f["spread_mean_ticks"] == pytest.approx((3 * 1 + 1 * 2) / 4)
    assert f["spread_median_ticks"] == 1
    assert f["spread_1_tick_share"] == pytest.approx(0.75)
    assert f["depth_level_1_lots"] == pytest.approx(3.0) and f["depth_level_2_lots"] == pytest.approx(5.0)
    assert f["market_orders_per_s"] == pytest.approx(2 / 4)
    assert f["inter_arrival_all_mean_s"] == pytest.approx(1.5)
    assert f["inter_arrival_trades_mean_s"] == pytest.approx(2.0)
    assert list(cal.inter_arrival_s(stats, "market_sell")) == []
    rows = cal.comparison_rows({"spread_mean_ticks": 2.0}, {"spread_mean_ticks": 3.0})
    assert rows[0] == ("spread, mean (ticks)", 2.0, 3.0, 1.5)


def test_flow_statistics_of_a_real_file_match_its_orderbook(data_dir):
    # The spread from the rebuilt book against LOBSTER's own orderbook file (level 1), time-weighted.
    path = data_dir / "lobster" / "LOBSTER_SampleFile_GOOG_2012-06-21_1.zip"
    with zipfile.ZipFile(path) as z:
        msg = pd.read_csv(z.open(next(n for n in z.namelist() if "_message_1" in n)), header=None,
                          names=["t", "type", "id", "size", "price", "dir"])
        ob = pd.read_csv(z.open(next(n for n in z.namelist() if "_orderbook_1" in n)), header=None,
                         names=["ask", "ask_sz", "bid", "bid_sz"])
    st = cal.flow_statistics(path)
    t = msg["t"].to_numpy()
    dt = np.diff(t)  # row k holds from message k to message k + 1
    two = ((ob["ask"] < 9_999_999_999) & (ob["bid"] > -9_999_999_999)).to_numpy()[:-1]
    spread_ticks = ((ob["ask"] - ob["bid"]) // 100).to_numpy()[:-1]
    assert st["two_sided_s"] == pytest.approx(dt[two].sum(), rel=1e-9)
    mean_spread = (spread_ticks[two] * dt[two]).sum() / dt[two].sum()
    assert cal.key_figures(st)["spread_mean_ticks"] == pytest.approx(mean_spread, rel=1e-6)
    depth1 = 0.5 * ((ob["bid_sz"] + ob["ask_sz"]).to_numpy()[:-1][two] * dt[two]).sum() / dt[two].sum()
    assert cal.key_figures(st)["depth_level_1_lots"] == pytest.approx(depth1, rel=1e-6)


def test_bad_input_raises_mmkit_error(data_dir, tmp_path):
    with pytest.raises(mmkit.Error, match="L3"):
        cal.calibrate_flow(data_dir / "binance_l2" / "usdm" / "btcusdt_20240718.gz")
    with pytest.raises(mmkit.Error, match="flow"):
        CliRunner().invoke(_app(), ["calibrate-flow", str(tmp_path / "x.mmk"), "--out", str(tmp_path / "o.toml"),
                                    "--flow", "gbm"], catch_exceptions=False)
    with pytest.raises(mmkit.Error, match="unknown synthetic market"):
        cal.write_synthetic_events(tmp_path / "x.mmk", regimes=1)


REPO = Path(__file__).resolve().parents[2]


def test_default_synthetic_market_is_the_goog_fit_of_configs_synthetic_goog_toml():
    # One source of truth: the C++ preset "goog2012" (the default market) is the [synthetic]
    # section of configs/synthetic_goog.toml, number for number, and its source block is what
    # cpp_preset generates from that TOML.
    toml = tomllib.loads((REPO / "configs" / "synthetic_goog.toml").read_text())["synthetic"]
    assert mmkit._core.DEFAULT_SYNTHETIC_PRESET == "goog2012"
    assert mmkit._core.synthetic_preset("goog2012") == toml
    block = cal.cpp_preset(toml, "goog2012")
    assert block in (REPO / "src" / "sim" / "synthetic_market.cpp").read_text()
    assert len(toml["limit_rates"]) == toml["max_distance"]
    cst = mmkit._core.synthetic_preset("cst2010")
    assert cst["symbol"] == "SYNTH" and cst["limit_rate_k"] == 1.92 and "limit_rates" not in cst


def test_backtest_without_data_runs_the_goog_market_and_cst2010_by_name():
    res = mmkit.backtest(strategy="spread-quoter", synthetic={"duration_s": 120})
    assert res.instrument["symbol"] == "SYN-GOOG" and res.metrics["events"] > 200
    assert res.metrics["start_ns"] >= 1_340_285_400_000_000_000  # 2012-06-21 13:30 UTC, the fitted session
    old = mmkit.backtest(strategy="spread-quoter", synthetic={"preset": "cst2010", "duration_s": 120})
    assert old.instrument["symbol"] == "SYNTH"
    with pytest.raises(mmkit.Error, match="preset"):
        mmkit.backtest(strategy="spread-quoter", synthetic={"preset": "goog"})
    with pytest.raises(mmkit.Error, match="limit_rates"):  # the table must match max_distance
        mmkit.backtest(strategy="spread-quoter", synthetic={"max_distance": 20, "duration_s": 60})
    # The power law replaces the preset's table; mean_order_size alone sizes market orders too.
    res = mmkit.backtest(strategy="spread-quoter",
                         synthetic={"max_distance": 20, "limit_rate_k": 0.5, "limit_rate_alpha": 0.0,
                                    "mean_order_size": 10.0, "duration_s": 60})
    assert res.metrics["events"] > 0


def test_joins_and_fleeting_improvers_are_fitted_written_and_read_back(tmp_path):
    # A known market with joins at the own best (λ_J = 0.6 /s per side) and fleeting improvers
    # (40 % cancel at 30 /s), one θ for every distance (the slow improvers then match the mixture).
    known = dict(KNOWN, duration_s=3 * 3600.0, cancel_rates=[0.4], join_rate=0.6, improver_cancel_rate=30.0,
                 improver_fleeting_share=0.4)
    cal.write_synthetic_events(tmp_path / "j.mmk", **known)
    res = cal.calibrate_flow(tmp_path / "j.mmk", hawkes=False)
    fit = res.fit
    assert abs(fit["join_rate"] - 0.6) <= Z * math.sqrt(0.6 * fit["join_exposure_s"]) / fit["join_exposure_s"]
    assert abs(fit["improver_fleeting_share"] - 0.4) <= Z * fit["improver_fleeting_share_se"]
    assert abs(fit["improver_cancel_rate"] - 30.0) <= Z * fit["improver_cancel_rate_se"]
    assert fit["improver_cancel_count"] < fit["improver_count"]
    syn = res.synthetic
    assert syn["join_rate"] == pytest.approx(fit["join_rate"], rel=1e-12)
    assert syn["improver_cancel_rate"] == pytest.approx(fit["improver_cancel_rate"], rel=1e-12)
    assert syn["improver_fleeting_share"] == pytest.approx(fit["improver_fleeting_share"], rel=1e-12)
    toml = cal.synthetic_toml(res, command="test")
    assert "# joins (limit orders at the own best" in toml and "fleeting" in toml
    back = tomllib.loads(toml)["synthetic"]
    assert back["join_rate"] == pytest.approx(syn["join_rate"], rel=1e-6)
    # The backtest reads the new keys (and rejects a bad share with the key's name).
    bt = mmkit.backtest(strategy="spread-quoter", synthetic=dict(back, duration_s=60.0))
    assert bt.metrics["events"] > 0
    with pytest.raises(mmkit.Error, match="improver_fleeting_share"):
        mmkit.backtest(strategy="spread-quoter", synthetic={"improver_cancel_rate": 10.0,
                                                            "improver_fleeting_share": 2.0, "duration_s": 10.0})
    # The CST 2010 estimators: λ_J and θ_I reported, not written.
    cst = cal.calibrate_flow(tmp_path / "j.mmk", hawkes=False, joins_and_improvers=False)
    assert "join_rate" not in cst.synthetic and "improver_cancel_rate" not in cst.synthetic
    assert cst.fit["join_count"] == fit["join_count"]
    assert sum(cst.fit["limit_count"]) > sum(fit["limit_count"])  # joins counted in λ(i)
