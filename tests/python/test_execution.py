"""Execution algorithms through the Python API: completion on the synthetic market, the in-sample
pre-pass, 5% of the day's volume of GOOG (LOBSTER), 50 BTC on the Binance futures capture, the
implementation-shortfall identity, determinism and the multi-seed study."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import mmkit
import mmkit.execution as x

GOOG = "lobster/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"
BTC = "binance_l2/usdm/btcusdt_20240808.gz"
ENGINE = {"own_orders_take_liquidity": True}
SYNTH = {"side": "buy", "quantity": 300.0, "start": "+60", "end": "+900"}


def check_report(s: dict) -> None:
    """The report's identities: spread + impact + timing = IS (bps and currency), shares sum to 1,
    filled = completion × target."""
    assert s["spread_bps"] + s["impact_bps"] + s["timing_bps"] == pytest.approx(s["is_bps"], abs=1e-9)
    assert (s["spread_currency"] + s["impact_currency"] + s["timing_currency"]
            == pytest.approx(s["is_currency"], abs=1e-6 * max(1.0, abs(s["is_currency"]))))
    if s["filled_qty"] > 0:
        assert s["passive_fill_share"] + s["aggressive_fill_share"] == pytest.approx(1.0)
        # IS in bps is the currency figure over the arrival notional.
        assert s["is_bps"] == pytest.approx(s["is_currency"] / (s["arrival_mid"] * s["filled_qty"]) * 1e4, rel=1e-9)
    assert s["filled_qty"] == pytest.approx(s["target_qty"] * s["completion_pct"] / 100)


@pytest.mark.parametrize("algo", [a for a in x.ALGORITHMS if a != "vwap"])
def test_each_algorithm_completes_on_the_synthetic_market(algo):
    params = dict(SYNTH)
    if algo == "pov":
        params["rate"] = 0.05
    res = mmkit.backtest(strategy=algo, params=params, engine=ENGINE, synthetic={"seed": 3})
    s = res.metrics["strategy"]
    assert s["algorithm"] == algo
    assert s["completion_pct"] == 100.0
    assert s["filled_qty"] == 300.0
    assert res.fills["qty"].sum() * res.fills["side"].iloc[0] == pytest.approx(300.0)
    assert s["finish_delay_s"] < 1.0
    check_report(s)
    assert s["child_orders"] == s["passive_orders"] + s["aggressive_orders"]
    assert res.metrics["fills"] == s["fills"]
    # Fills between start and end (+ the final sweep).
    assert res.fills["exch_ts_ns"].min() >= s["start_ns"]
    assert res.fills["exch_ts_ns"].max() <= s["end_ns"] + 1_000_000_000


def test_vwap_on_the_synthetic_market_uses_the_in_sample_prepass():
    res = x.run(strategy="vwap", params=SYNTH, engine=ENGINE, synthetic={"seed": 3})
    s = res.metrics["strategy"]
    assert s["profile"] == "in-sample"
    assert s["completion_pct"] == 100.0
    check_report(s)
    # The temporary profile is gone: the resolved config says so instead of naming it.
    assert res.config["strategy"]["params"]["profile"] == ""
    assert res.config["strategy"]["params"]["profile_in_sample"] is True


def test_plain_backtest_runs_the_in_sample_prepass_when_profile_or_end_is_missing():
    res = mmkit.backtest(strategy="vwap", params=SYNTH, engine=ENGINE, synthetic={"seed": 3})
    assert res.metrics["strategy"]["profile"] == "in-sample"
    assert res.metrics["strategy"]["completion_pct"] == 100.0
    res = mmkit.backtest(strategy="twap", params={"side": "buy", "quantity": 10.0}, engine=ENGINE,
                         synthetic={"seed": 3})
    assert res.metrics["strategy"]["completion_pct"] == 100.0


def test_prepass_profile_sums_to_the_market_volume_and_sets_the_parent_size(tmp_path):
    pre = x.prepass(synthetic={"seed": 5})
    prof = pre["profile"]
    assert prof["volume"].sum() == pytest.approx(pre["market_volume"])
    assert np.all(np.diff(prof["time_s"]) == 60.0)
    assert pre["last_ts_ns"] > pre["first_ts_ns"]
    # volume_fraction: 5% of the volume expected between start and end (in-sample: measured).
    path = tmp_path / "profile.csv"
    res = x.run(strategy="twap", params={"side": "sell", "volume_fraction": 0.05}, engine=ENGINE,
                synthetic={"seed": 5}, profile_path=path)
    s = res.metrics["strategy"]
    assert path.read_text() == pre["profile_csv"]
    assert res.config["strategy"]["params"]["profile"] == str(path)
    assert s["target_qty"] == math.floor(0.05 * s["expected_market_volume"] + 1e-9)
    # Default end: the last event minus min(60 s, 1% of the span).
    span = pre["last_ts_ns"] - pre["first_ts_ns"]
    assert s["end_ns"] == pre["last_ts_ns"] - round(min(60.0, 0.01 * span * 1e-9) * 1e9)
    assert s["completion_pct"] == 100.0
    assert (res.fills["qty"] * res.fills["side"]).sum() == pytest.approx(-s["target_qty"])
    check_report(s)


def test_runs_are_deterministic():
    a = mmkit.backtest(strategy="adaptive", params=SYNTH, engine=ENGINE, synthetic={"seed": 9}).metrics["strategy"]
    b = mmkit.backtest(strategy="adaptive", params=SYNTH, engine=ENGINE, synthetic={"seed": 9}).metrics["strategy"]
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == b[k] or (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k])), k
    assert not math.isnan(a["end_mid"])


def test_execution_study_gives_mean_std_and_a_decomposition_that_adds_up():
    df = x.execution_study(["twap", "pov"], seeds=[1, 2, 3], params=SYNTH, algo_params={"pov": {"rate": 0.05}},
                           engine=ENGINE)
    assert list(df["strategy"]) == ["twap", "pov"]
    assert list(df["runs"]) == [3, 3]
    for _, row in df.iterrows():
        assert row["completion_pct_mean"] == 100.0
        assert row["spread_bps_mean"] + row["impact_bps_mean"] + row["timing_bps_mean"] == pytest.approx(
            row["is_bps_mean"], abs=1e-9)
        assert row["is_bps_std"] > 0  # different seeds, different markets
    runs = x.execution_study("twap", seeds=[1, 2, 3], params=SYNTH, engine=ENGINE, per_run=True)
    assert len(runs) == 3
    assert runs["is_bps"].mean() == pytest.approx(df.loc[0, "is_bps_mean"])
    assert runs["is_bps"].std(ddof=1) == pytest.approx(df.loc[0, "is_bps_std"])
    assert runs["seed"].tolist() == [1, 2, 3]


@pytest.mark.parametrize("algo", x.ALGORITHMS)
def test_goog_five_percent_of_the_days_volume_completes(data_dir, algo):
    res = x.run(data_dir / GOOG, strategy=algo, params={"side": "buy", "volume_fraction": 0.05},
                engine={**ENGINE, "maker_fee_bps": -0.04, "taker_fee_bps": 0.05})
    s = res.metrics["strategy"]
    assert s["profile"] == "in-sample"
    # The file's trade prints (visible + hidden executions) total 706,125 shares; the interval
    # (09:30 to 15:59 minus the sweep margin) holds nearly all of it.
    assert 0.045 * 706_125 < s["target_qty"] <= 0.05 * 706_125
    assert s["completion_pct"] == 100.0
    assert s["participation_pct"] == pytest.approx(5.0, abs=0.2)
    check_report(s)
    assert abs(s["vwap_slippage_bps"]) < 50
    # Fills of ours only: the engine's fills are the report's.
    assert res.fills["qty"].sum() == pytest.approx(s["filled_qty"])
    assert (res.fills["side"] == 1).all()


@pytest.mark.parametrize("algo", x.ALGORITHMS)
def test_btc_fifty_btc_on_the_binance_capture(data_dir, algo):
    # The capture spans about 345 s: buy 50 BTC between the first event and +330 s.
    res = x.run(data_dir / BTC, strategy=algo, params={"side": "buy", "quantity": 50.0, "end": "+330"},
                engine={**ENGINE, "maker_fee_bps": 2.0, "taker_fee_bps": 5.0})
    s = res.metrics["strategy"]
    assert s["target_qty"] == 50.0
    assert s["completion_pct"] == 100.0
    check_report(s)
    assert s["end_ns"] - s["start_ns"] == 330_000_000_000
    assert s["fees_bps"] > 0
    assert 1.0 < s["participation_pct"] < 5.0  # 50 BTC of about 2,400 traded


def test_own_order_impact_model_shows_in_the_impact_term(data_dir):
    # The engine's square-root impact on our taker fills (GOOG: daily σ ≈ $8.7, daily volume
    # 706,125) prices crossing children worse than the book: only the impact term changes.
    params = {"side": "buy", "volume_fraction": 0.05}
    base = x.run(data_dir / GOOG, strategy="twap", params=params, engine=ENGINE).metrics["strategy"]
    imp = x.run(data_dir / GOOG, strategy="twap", params=params,
                engine={**ENGINE, "impact_model": "sqrt:Y=0.7,sigma=8.7,V=706125"}).metrics["strategy"]
    check_report(imp)
    assert imp["impact_bps"] > base["impact_bps"] + 0.5
    assert imp["spread_bps"] == pytest.approx(base["spread_bps"])
    assert imp["timing_bps"] == pytest.approx(base["timing_bps"])
    assert imp["completion_pct"] == 100.0
