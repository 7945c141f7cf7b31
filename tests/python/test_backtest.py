"""The main job end to end: mmkit.backtest / mmkit backtest on the synthetic market and real data."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mmkit
from mmkit.backtest import latency_override, resolve_config

SYNTH = {"duration_s": 300}


def test_synthetic_run_is_deterministic_byte_for_byte(tmp_path):
    a = mmkit.backtest(strategy="glft", synthetic=SYNTH, engine={"seed": 7})
    b = mmkit.backtest(strategy="glft", synthetic=SYNTH, engine={"seed": 7})
    a.write(tmp_path / "a")
    b.write(tmp_path / "b")
    assert (tmp_path / "a/metrics.json").read_bytes() == (tmp_path / "b/metrics.json").read_bytes()
    assert (tmp_path / "a/fills.csv").read_bytes() == (tmp_path / "b/fills.csv").read_bytes()
    assert a.metrics["fills"] > 0
    c = mmkit.backtest(strategy="glft", synthetic={**SYNTH, "seed": 8}, engine={"seed": 7})
    assert c.metrics != a.metrics


def test_accounting_identity_holds_from_the_fills():
    res = mmkit.backtest(strategy="spread-quoter", synthetic=SYNTH, engine={"maker_fee_bps": -1.0, "taker_fee_bps": 3.0})
    f = res.fills
    assert len(f) > 0
    signed_qty = (f["side"] * f["qty"]).sum()
    cash = (-(f["side"] * f["qty"] * f["price"]) - f["fee"]).sum()
    assert res.raw["final_position"] == pytest.approx(signed_qty, abs=1e-9)
    assert res.raw["final_cash"] == pytest.approx(cash, rel=1e-12, abs=1e-9)
    mark = res.samples["mid"].dropna().iloc[-1]
    assert res.metrics["total_pnl"] == pytest.approx(cash + signed_qty * mark, rel=1e-9, abs=1e-9)
    assert res.metrics["rebates_earned"] > 0  # negative maker fee


def test_stepping_in_pieces_equals_one_run():
    whole = mmkit.Backtest(strategy="avellaneda-stoikov", synthetic=SYNTH)
    whole.run()
    parts = mmkit.Backtest(strategy="avellaneda-stoikov", synthetic=SYNTH)
    assert parts.step(1000)
    t = parts.now
    parts.run_until(t + 60 * 10**9)
    assert parts.now >= t + 60 * 10**9 - 10**9
    while parts.step(777):
        pass
    assert parts.finished
    assert parts.results().metrics == whole.results().metrics


def test_latency_zero_means_no_latency_at_all():
    assert latency_override(0) == {"entry_latency_ms": 0.0, "response_latency_ms": 0.0,
                                   "feed_latency": "constant", "feed_latency_ms": 0.0}
    assert latency_override(5)["entry_latency_ms"] == 5


def test_config_errors_name_what_is_wrong(tmp_path):
    with pytest.raises(mmkit.Error, match="unknown engine setting 'latency'"):
        resolve_config(engine={"latency": 1})
    with pytest.raises(mmkit.Error, match="unknown strategy 'foo'"):
        resolve_config(strategy="foo")
    bad = tmp_path / "bad.toml"
    bad.write_text("[strategie]\nname='glft'\n")
    with pytest.raises(mmkit.Error, match=r"bad\.toml: unknown section \[strategie\]"):
        resolve_config(bad)
    with pytest.raises(mmkit.Error, match="gamma"):
        mmkit.backtest(strategy="glft", synthetic=SYNTH, params={"gama": 0.1})
    with pytest.raises(mmkit.Error, match="queue model"):
        mmkit.backtest(strategy="glft", synthetic=SYNTH, engine={"queue_model": "fifo"})


@pytest.mark.parametrize("name", ["avellaneda_stoikov", "glft", "spread_quoter"])
def test_every_example_config_runs_on_the_synthetic_market(name):
    cfg = Path(__file__).resolve().parents[2] / "configs" / f"{name}.toml"
    res = mmkit.backtest(config=cfg, synthetic=SYNTH)
    assert res.metrics["events"] > 0
    assert res.config["strategy"]["name"] == name.replace("_", "-")


def test_cli_backtest_writes_every_output(tmp_path):
    exe = Path(sys.executable).with_name("mmkit")
    out = tmp_path / "run"
    cfg = tmp_path / "c.toml"
    cfg.write_text("[synthetic]\nduration_s = 120\n")
    r = subprocess.run([str(exe), "backtest", "--strategy", "spread-quoter", "--config", str(cfg),
                        "--seed", "3", "--maker-fee", "-0.5", "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for name in ("metrics.json", "run_info.json", "fills.csv", "orders.csv", "timeseries.csv", "config.json", "report.html"):
        assert (out / name).stat().st_size > 0, name
    config = json.loads((out / "config.json").read_text())
    assert config["engine"]["seed"] == 3 and config["engine"]["maker_fee_bps"] == -0.5
    assert "wall_time_s" not in json.loads((out / "metrics.json").read_text())
    assert "total PnL" in r.stdout


def test_order_list_on_lobster_amzn_zero_latency(data_dir, tmp_path):
    orders = tmp_path / "orders.csv"
    # 2012-06-21 10:00 and 11:00 ET (EDT = UTC-4).
    orders.write_text("ts_ns,side,price,qty,type,tif\n"
                      "1340287200000000000,buy,1.00,100,limit,gtc\n"       # far below the market: rests, never fills
                      "1340290800000000000,buy,0,100,market,ioc\n"         # market buy walks the ask
                      "1340290800000000000,sell,10000.00,100,limit,fok\n") # no bid that high: FOK rejected
    cfg = Path(__file__).resolve().parents[2] / "configs" / "order_list.toml"  # 1 ms timer
    res = mmkit.backtest(data_dir / "lobster/LOBSTER_SampleFile_AMZN_2012-06-21_5.zip", config=cfg,
                         params={"orders": str(orders)}, engine=latency_override(0))
    o, f = res.orders, res.fills
    assert (f["order_id"] == 2).all() and f["qty"].sum() == 100 and not f["maker"].any()
    sub = o[o["event"] == "submitted"]["ts_ns"].to_numpy()
    assert 0 <= sub[0] - 1340287200000000000 < 1_000_000  # at the first callback at or after ts_ns
    assert list(o[o["order_id"] == 3]["reason"])[-1] == "fok_not_fillable"
    assert res.raw["final_position"] == 100


def test_glft_on_binance_queue_models_differ_and_account_exactly(data_dir):
    path = data_dir / "binance_l2/usdm/btcusdt_20240808.gz"
    cfg = Path(__file__).resolve().parents[2] / "configs" / "glft.toml"
    runs = {q: mmkit.backtest(path, config=cfg, engine={"queue_model": q}) for q in ("risk-averse", "prob-power-2")}
    for res in runs.values():
        f = res.fills
        assert len(f) > 10
        assert res.raw["final_position"] == pytest.approx((f["side"] * f["qty"]).sum(), abs=1e-9)
    assert runs["risk-averse"].metrics != runs["prob-power-2"].metrics


def test_agent_based_market_mode_runs_our_market_maker():
    res = mmkit.backtest(strategy="spread-quoter", synthetic={"mode": "agents", "duration_s": 600.0, "seed": 3})
    assert res.format == "agents"
    assert res.metrics["fills"] > 0
    with pytest.raises(mmkit.Error, match="mode"):
        mmkit.backtest(strategy="glft", synthetic={"mode": "zoo"})


def test_hawkes_flow_and_regimes_are_configurable_from_toml(tmp_path):
    cfg = tmp_path / "h.toml"
    cfg.write_text('[strategy]\nname = "spread-quoter"\n[synthetic]\nduration_s = 300.0\nflow = "hawkes"\n'
                   'regimes = true\n')
    res = mmkit.backtest(config=cfg)
    assert res.metrics["events"] > 1000
    bad = tmp_path / "bad.toml"
    bad.write_text('[synthetic]\nflow = "hawkes"\nhawkes_mu = [1.0, 2.0]\n')
    with pytest.raises(mmkit.Error, match="hawkes_mu"):
        mmkit.backtest(config=bad)


def test_modules_sections_reach_the_quoter_and_bad_ones_are_named(tmp_path):
    base = Path(__file__).resolve().parents[2] / "configs" / "spread_quoter.toml"
    cfg = tmp_path / "mods.toml"
    cfg.write_text(base.read_text() + "\n[modules.toxicity]\nenabled = true\nthreshold = 0.4\n"
                   "\n[modules.risk]\nenabled = true\nmax_drawdown = 1.0\ncooldown_s = 5.0\n")
    assert resolve_config(cfg)["strategy"]["params"]["toxicity.threshold"] == 0.4
    a = mmkit.backtest(config=base, synthetic=SYNTH)
    b = mmkit.backtest(config=cfg, synthetic=SYNTH)
    # Resolved settings list each configured module; the risk manager breaks at a 1 USD drawdown
    # on a run that makes hundreds of fills, so its counters show and the run differs from A.
    assert b.config["strategy"]["params"]["toxicity.threshold"] == 0.4
    summary = json.loads(b.metrics_json())["strategy"]
    assert summary["risk.circuit_breaks"] >= 1 and summary["modules.flatten_orders"] >= 1
    assert b.metrics["fills"] != a.metrics["fills"]
    assert "risk.circuit_breaks" not in json.loads(a.metrics_json()).get("strategy", {})
    bad = tmp_path / "bad.toml"
    bad.write_text(base.read_text() + "\n[modules.toxicty]\nenabled = true\n")
    with pytest.raises(mmkit.Error, match="toxicty"):
        mmkit.backtest(config=bad, synthetic=SYNTH)
    bad.write_text(base.read_text() + "\n[modules.toxicity]\nenabled = true\nthreshhold = 0.4\n")
    with pytest.raises(mmkit.Error, match="threshhold"):
        mmkit.backtest(config=bad, synthetic=SYNTH)
