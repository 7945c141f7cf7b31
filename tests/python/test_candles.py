"""Candle backtester (lower fidelity): the Python API, the CLI on a real file slice, and the
tick-vs-candle comparison machinery. Hand-computed cases are in tests/cpp/candle_backtest_test.cpp."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mmkit
from mmkit import candles

HAND = "timestamp,open,high,low,close,volume\n" + "".join(
    f"2025-01-01 00:0{i}:00+00:00,{o},{h},{l},{c},10\n"
    for i, (o, h, l, c) in enumerate([(100, 100, 100, 100), (100, 102, 98, 100), (100, 101, 99, 99),
                                       (99, 99, 97, 97), (97, 100, 97, 100)]))
HAND_CFG = {"tick_size": 1.0, "lot_size": 1.0, "order_qty": 1.0, "max_position": 10.0,
            "min_spread_ticks": 2.0, "vol_window": 2}


@pytest.fixture()
def hand_file(tmp_path) -> Path:
    p = tmp_path / "hand.csv"
    p.write_text(HAND)
    return p


def test_hand_built_candles_give_the_hand_pnl(hand_file):
    # Same worked example as the C++ test: buy 99 / sell 101, buy 98, sell 98 -> PnL 2.
    r = candles.candle_backtest(hand_file, HAND_CFG)
    assert r.metrics["pnl"] == pytest.approx(2.0)
    assert r.metrics["fills"] == 4
    assert list(r.fills["price"]) == [99.0, 101.0, 98.0, 98.0]
    assert list(r.fills["side"]) == [1, -1, 1, -1]
    assert list(r.equity["equity"]) == [0.0, 2.0, 2.0, 1.0, 2.0]
    assert np.isnan(r.equity["bid"].iloc[0])
    assert r.fidelity == "lower fidelity"


def test_sweep_rows_are_in_grid_order_and_match_single_runs(hand_file):
    df = candles.candle_sweep(hand_file, {"min_spread_ticks": [2, 4], "skew_per_lot": [0, 1]}, HAND_CFG, threads=2)
    assert list(zip(df["min_spread_ticks"], df["skew_per_lot"])) == [(2, 0), (2, 1), (4, 0), (4, 1)]
    for _, row in df.iterrows():
        single = candles.candle_backtest(hand_file, HAND_CFG, overrides={
            "min_spread_ticks": row["min_spread_ticks"], "skew_per_lot": row["skew_per_lot"]})
        assert row["pnl"] == pytest.approx(single.metrics["pnl"])
    assert df.attrs["points"] == 4 and df.attrs["fidelity"] == "lower fidelity"


def test_unknown_keys_are_errors(hand_file, tmp_path):
    with pytest.raises(mmkit.Error, match="unknown key"):
        candles.candle_backtest(hand_file, {**HAND_CFG, "min_sprad_ticks": 1.0})
    bad = tmp_path / "bad.toml"
    bad.write_text("[candles]\nnot_a_key = 1\n")
    with pytest.raises(mmkit.Error, match="not_a_key"):
        candles.load_candle_config(bad)


def test_shipped_config_loads_and_names_only_known_keys():
    cfg = candles.load_candle_config(Path(__file__).resolve().parents[2] / "configs" / "candles.toml")
    assert cfg["candles"]["strategy"] == "spread-quoter"


def test_candles_from_trades_on_the_binance_capture_match_the_trade_prints(data_dir, tmp_path):
    tick = data_dir / "binance_l2/usdm/btcusdt_20240808.gz"
    out = tmp_path / "btc_1m.csv"
    info = candles.candles_from_trades([tick], "60s", out=out)
    df = mmkit.read_candles(out)
    # 21,313 trade prints (docs/formats.md / SOURCES.md), 23:54-23:59: six 1-minute bars.
    assert info["prints"] == 21_313
    assert len(df) == 6 and df["trades"].sum() == 21_313
    assert info["tick_size"] == pytest.approx(0.1) and info["lot_size"] == pytest.approx(0.001)
    # The reader's own count of trade events over the same file.
    assert mmkit.inspect([tick])["kinds"]["trade"] == 21_313
    assert (df["low"] <= df["open"]).all() and (df["high"] >= df["close"]).all()


def test_cli_backtest_and_sweep_on_a_real_day_slice(data_dir, tmp_path):
    src = data_dir / "candles/bybit_linear_1m/BTCUSDT_1m.csv"
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "mmkit.cli", "candles", "backtest", str(src), "--strategy", "spread-quoter",
           "--config", str(Path(__file__).resolve().parents[2] / "configs" / "candles.toml"),
           "--start", "2025-06-01", "--end", "2025-06-02",
           "--sweep", "min_spread_bps=5,20", "--sweep", "skew_per_lot=0,5", "--out", str(out)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "lower fidelity" in p.stdout
    m = json.loads((out / "metrics.json").read_text())
    assert m["fidelity"] == "lower fidelity" and "lower fidelity" in m["title"]
    assert m["metrics"]["candles"] == 1440
    eq = pd.read_csv(out / "equity.csv")
    assert len(eq) == 1440 and eq["equity"].iloc[-1] == pytest.approx(m["metrics"]["pnl"])
    sw = pd.read_csv(out / "sweep.csv")
    assert list(zip(sw["min_spread_bps"], sw["skew_per_lot"])) == [(5, 0), (5, 5), (20, 0), (20, 5)]
    assert "candle backtest — lower fidelity" in (out / "report.html").read_text()


def test_funding_from_the_staged_history_is_settled(data_dir):
    r = candles.candle_backtest(data_dir / "candles/binance_usdm_1h/BTCUSDT.csv",
                                candles.load_candle_config(Path(__file__).resolve().parents[2] / "configs" / "candles.toml"),
                                funding=data_dir / "funding/binance_usdm_csv/BTCUSDT.csv",
                                overrides={"start": "2026-01-12T15:00", "end": "2026-03-20"})
    assert r.metrics["funding_settlements"] == len(r.funding) > 190
    assert r.metrics["funding"] == pytest.approx(r.funding["payment"].sum())
    assert np.allclose(r.funding["payment"], r.funding["position"] * r.funding["mark"] * r.funding["rate"])


def test_tick_vs_candle_comparison_runs_both_on_the_same_window(data_dir, tmp_path):
    tick = data_dir / "binance_l2/usdm/btcusdt_20240808.gz"
    df = candles.compare_with_tick(tick, {"candles": {"order_qty": 0.01, "max_position": 0.1, "min_spread_ticks": 20.0,
                                                      "skew_per_lot": 5.0}}, intervals=["60s", "1s"])
    assert list(df["model"]) == ["tick", "tick timer 60s", "candle 60s", "tick timer 1s", "candle 1s"]
    assert list(df["ref"].fillna("-")) == ["-", "tick", "tick timer 60s", "tick", "tick timer 1s"]
    assert (df["fills"] > 0).all()
    rows = df.set_index("model")
    # one quote per side per candle: at most 2 fills per candle
    assert rows.loc["candle 60s", "fills"] <= 2 * rows.loc["candle 60s", "bars"]
    assert rows.loc["candle 60s", "fills_ratio"] == pytest.approx(
        rows.loc["candle 60s", "fills"] / rows.loc["tick timer 60s", "fills"])
    # quoting once a minute, the tick engine trades far less than when it requotes on the book
    assert rows.loc["tick timer 60s", "volume"] < 0.2 * rows.loc["tick", "volume"]
    # at a matched quoting pace the two fill models trade volumes of the same order
    assert 0.5 < rows.loc["candle 60s", "volume_ratio"] < 2.0
