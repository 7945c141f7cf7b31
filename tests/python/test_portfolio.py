"""Multi-instrument backtests with cross-asset hedging (mmkit.portfolio) and engine funding
(mmkit.backtest, engine setting ``funding``) on the real Binance USD-M captures."""
import json
from pathlib import Path

import pytest

import mmkit
from mmkit.backtest import backtest
from mmkit.portfolio import hedged_backtest

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "configs" / "hedge.toml"


def _usdm(data_dir: Path, name: str) -> Path:
    p = data_dir / "binance_l2" / "usdm" / name
    if not p.exists():
        pytest.skip(f"{p} not staged")
    return p


def test_hedged_run_end_to_end_writes_per_leg_and_total_outputs(data_dir, tmp_path):
    btc = _usdm(data_dir, "btcusdt_20240718.gz")
    eth = _usdm(data_dir, "ethusdt_20240718.gz")
    hedged = hedged_backtest(btc, hedge_with=eth, config=CONFIG)
    alone = hedged_backtest(btc, config=CONFIG)
    plain = backtest(btc, config=alone.config["quote"])
    assert hedged.names == ["BTCUSDT", "ETHUSDT"]
    assert hedged.currency == "USDT"
    legs = hedged.metrics["legs"]
    # The total is the sum of the legs; the hedge leg never changes the quoted leg.
    assert hedged.metrics["total_pnl"] == pytest.approx(legs["BTCUSDT"]["pnl"] + legs["ETHUSDT"]["pnl"], abs=1e-9)
    assert legs["BTCUSDT"]["pnl"] == alone.metrics["legs"]["BTCUSDT"]["pnl"]
    assert legs["BTCUSDT"]["fills"] == plain.metrics["fills"]
    assert legs["BTCUSDT"]["pnl"] == pytest.approx(plain.metrics["total_pnl"], abs=1e-9)
    # The last common-clock sample adds up too.
    last = hedged.samples.iloc[-1]
    assert last["total_pnl"] == pytest.approx(last["pnl_BTCUSDT"] + last["pnl_ETHUSDT"], abs=1e-9)
    # The hedger traded against the BTC inventory and measured a positive BTC-ETH correlation.
    h = hedged.metrics["hedge"]
    assert h["returns"] > 100
    assert 0.2 < h["correlation_full"] < 1.0
    assert h["hedge_orders"] > 0 and legs["ETHUSDT"]["fills"] > 0
    assert legs["ETHUSDT"]["fees"] > 0
    out = hedged.write(tmp_path / "run")
    m = json.loads((out / "metrics.json").read_text())
    assert set(m["legs"]) == {"BTCUSDT", "ETHUSDT"}
    for leg in ("0_BTCUSDT", "1_ETHUSDT"):
        assert (out / "legs" / leg / "fills.csv").exists()
        assert (out / "legs" / leg / "metrics.json").exists()
    report = (out / "report.html").read_text()
    assert "Per instrument and total" in report and "ETHUSDT" in report
    assert (out / "samples.csv").read_text().splitlines()[0].startswith("time,")


def test_funding_constant_settles_and_none_leaves_results_unchanged(data_dir):
    # The 2024-08-08 capture's exchange stamps run to 2024-08-09 00:00:01 UTC: one settlement.
    btc = _usdm(data_dir, "btcusdt_20240808.gz")
    glft = REPO / "configs" / "glft.toml"
    none = backtest(btc, config=glft)
    const = backtest(btc, config=glft, engine={"funding": "constant"})
    assert "funding_paid" not in none.metrics and "funding" not in none.samples.columns
    m = const.metrics
    assert m["funding_settlements"] == 1
    assert m["funding_paid"] != 0
    assert none.metrics["total_pnl"] - m["total_pnl"] == pytest.approx(m["funding_paid"], abs=1e-9)
    assert const.samples["funding"].iloc[-1] == pytest.approx(m["funding_paid"], abs=1e-12)
    # payment = position × mid × rate at 00:00:00 UTC: |funding| <= max |position| × max mid × 1e-4.
    bound = m["inventory_max_abs"] * const.samples["mid"].max() * 1e-4
    assert abs(m["funding_paid"]) <= bound + 1e-12
    dec = const.pnl_decomposition()
    assert dec["funding_pnl"].iloc[-1] == pytest.approx(-m["funding_paid"], abs=1e-12)
    assert (dec["spread_capture"] + dec["fees_pnl"] + dec["inventory_pnl"] + dec["funding_pnl"]
            - dec["total"]).abs().max() < 1e-9
    assert none.metrics == backtest(btc, config=glft, engine={"funding": "none"}).metrics


def test_funding_file_that_does_not_overlap_the_data_is_an_error_naming_it(data_dir):
    btc = _usdm(data_dir, "btcusdt_20240808.gz")
    f = data_dir / "funding" / "binance_usdm_csv" / "BTCUSDT.csv"
    if not f.exists():
        pytest.skip(f"{f} not staged")
    with pytest.raises(mmkit.Error) as e:
        backtest(btc, strategy="glft", engine={"funding": str(f)})
    msg = str(e.value)
    assert str(f) in msg and "does not overlap" in msg
    assert "2026-01-12" in msg and "2024-08-08" in msg


def test_unknown_hedge_settings_are_errors_naming_them(tmp_path):
    with pytest.raises(mmkit.Error, match="bandwidth"):
        mmkit.portfolio.resolve({"hedge": {"bandwidth": 1.0}})
    bad = tmp_path / "bad.toml"
    bad.write_text("[hedges]\nwindow = 3\n")
    with pytest.raises(mmkit.Error, match=r"unknown section \[hedges\]"):
        mmkit.portfolio.load_config(bad)
