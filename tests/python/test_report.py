"""Backtest results, output directory and HTML report, on a synthetic results dict built here
(no engine): the accounting in it is exact by construction (pnl = cash + position × mid)."""
from __future__ import annotations

import importlib.util
import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from mmkit.report import (
    build_figures,
    downsample_indices,
    horizon_seconds,
    markout_curves,
    stride_indices,
)
from mmkit.results import BacktestResults

T0 = 1_723_075_200 * 10**9  # 2024-08-08 00:00:00 UTC
SEC = 10**9
HORIZONS = {"100ms": 0.1, "1s": 1.0, "10s": 10.0, "60s": 60.0}


def synthetic_raw(n_samples: int = 600, n_fills: int = 40, seed: int = 7, wall: float = 1.25) -> dict:
    """A results dict shaped like the bindings' (mmkit.Backtest.results()), self-consistent:
    samples' pnl = cash + position × mid, cumulative fees, markouts from the sampled mid."""
    rng = np.random.default_rng(seed)
    ts = T0 + np.arange(n_samples, dtype=np.int64) * SEC
    mid = np.round(60000 + np.cumsum(rng.normal(0, 0.8, n_samples)), 1) + 0.05  # half-tick mids
    bid, ask = mid - 0.05, mid + 0.05
    k = np.sort(rng.choice(np.arange(1, n_samples - 1), n_fills, replace=False))
    f_ts = ts[k] + 250_000_000  # fills between samples
    side = np.where(np.arange(n_fills) % 2 == 0, 1, -1).astype(np.int8)
    maker = (np.arange(n_fills) % 5 != 4)
    m_fill = mid[k]
    price = np.where(maker, m_fill - 0.05 * side, m_fill + 0.05 * side)
    qty = np.round(rng.uniform(0.001, 0.05, n_fills), 3)
    fee = price * qty * np.where(maker, -1e-4, 5e-4)
    # markout at horizon h: mid at the first sample at or after fill + h, NaN past the end
    fills = {
        "exch_ts_ns": f_ts, "local_ts_ns": f_ts + 1_000_000, "order_id": np.arange(1, n_fills + 1, dtype=np.uint64),
        "side": side, "price": price, "qty": qty, "fee": fee, "maker": maker.astype(np.uint8),
        "queue_ahead_at_entry": np.where(maker, rng.uniform(0, 3, n_fills).round(3), np.nan),
        "mid_at_fill": m_fill,
    }
    for label, h in HORIZONS.items():
        j = np.searchsorted(ts, f_ts + int(h * SEC))
        mk = np.full(n_fills, np.nan)
        ok = j < n_samples
        mk[ok] = (mid[j[ok]] - price[ok]) * side[ok]
        fills[f"markout_{label}"] = mk
    # samples: state after the fills with exch_ts <= sample ts
    c = np.searchsorted(f_ts, ts, side="right")
    cum = lambda v: np.concatenate([[0.0], np.cumsum(v)])[c]  # noqa: E731
    position = cum(side * qty)
    cash = cum(-side * price * qty - fee)
    fees = cum(fee)
    samples = {
        "ts_ns": ts, "best_bid": bid, "best_ask": ask,
        "our_bid": np.where(np.arange(n_samples) % 7 == 3, np.nan, bid - 0.1),
        "our_ask": ask + 0.1, "mid": mid, "position": position, "pnl": cash + position * mid, "fees": fees,
    }
    n_o = 3 * n_fills
    orders = {
        "ts_ns": np.repeat(f_ts - SEC // 2, 3) + np.tile([0, 10, 20], n_fills),
        "exch_ts_ns": np.repeat(f_ts - SEC // 2, 3) + np.tile([0, 5, 15], n_fills),
        "order_id": np.repeat(fills["order_id"], 3),
        "event": np.array(["submitted", "accepted", "filled"] * n_fills, dtype=object),
        "status": np.array(["pending_new", "open", "filled"] * n_fills, dtype=object),
        "reason": np.array(["none"] * n_o, dtype=object),
        "side": np.repeat(side, 3), "price": np.repeat(price, 3), "qty": np.repeat(qty, 3),
        "leaves": np.tile([1.0, 1.0, 0.0], n_fills) * np.repeat(qty, 3),
        "filled": np.tile([0.0, 0.0, 1.0], n_fills) * np.repeat(qty, 3),
    }
    total = float(cash[-1] + position[-1] * mid[-1])
    metrics = {
        "total_pnl": total, "realized_pnl": total - 0.1, "unrealized_pnl": 0.1,
        "fees_paid": float(fee[fee > 0].sum()), "rebates_earned": float(-fee[fee < 0].sum()),
        "sharpe": 1.2345678901234567, "sortino": 2.0, "sample_interval_s": 1.0, "max_drawdown": 3.5,
        "orders": n_fills, "fills": n_fills, "maker_fills": int(maker.sum()), "taker_fills": int((~maker).sum()),
        "cancels": 0, "rejects": 0, "fill_ratio": 1.0, "volume": float(qty.sum()),
        "notional": float((price * qty).sum()), "spread_captured_mean": 0.1 / 3,
        "markout_mean": {"100ms": 0.01, "1s": -0.02, "10s": 0.3, "60s": float("nan")},
        "inventory_mean": 0.01, "inventory_std": 0.02, "inventory_max_abs": 0.1,
        "time_at_position_limit": 0.0, "var_95": 1.5, "cvar_95": 2.25, "events": 123456,
        "start_ns": int(ts[0]), "end_ns": int(ts[-1]),
    }
    return {
        "fills": fills, "orders": orders, "samples": samples, "metrics": metrics,
        "instrument": {"symbol": "BTCUSDT", "venue": "BINANCE-USDM", "currency": "USDT", "price_decimals": 8,
                       "qty_decimals": 8, "tick_size_decimal": "0.1", "lot_size_decimal": "0.001"},
        "config": {"strategy": {"name": "glft", "params": {"gamma": 0.1}},
                   "engine": {"max_position": 0.05, "seed": 1, "markouts_ms": [100.0, 1000.0, 10000.0, 60000.0]},
                   "synthetic": {}, "source": {}},
        "data": ["btcusdt_20240808.gz"], "format": "binance-usdm",
        "run_info": {"wall_time_s": wall, "events": 123456, "events_per_s": 123456 / wall, "machine": "test"},
    }


@pytest.fixture
def results() -> BacktestResults:
    return BacktestResults(synthetic_raw())


def test_write_creates_every_output(results, tmp_path):
    out = results.write(tmp_path / "run")
    for name in ("metrics.json", "run_info.json", "fills.csv", "orders.csv", "timeseries.csv", "config.json",
                 "report.html"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert (out / "config.toml").is_file() == (importlib.util.find_spec("tomli_w") is not None)
    assert json.loads((out / "config.json").read_text())["strategy"]["name"] == "glft"
    info = json.loads((out / "run_info.json").read_text())
    assert info["wall_time_s"] == 1.25 and "versions" in info and "plotly" in info["versions"]


def test_metrics_json_is_byte_identical_across_writes_and_free_of_wall_clock(tmp_path):
    a = BacktestResults(synthetic_raw(wall=1.0)).write(tmp_path / "a")
    b = BacktestResults(synthetic_raw(wall=9.0)).write(tmp_path / "b")
    BacktestResults(synthetic_raw(wall=3.0)).write(tmp_path / "a")  # overwrite in place
    ma, mb = (a / "metrics.json").read_bytes(), (b / "metrics.json").read_bytes()
    assert ma == mb
    assert (a / "run_info.json").read_bytes() != (b / "run_info.json").read_bytes()

    def no_constants(name):
        raise AssertionError(f"non-JSON constant {name} in metrics.json")

    m = json.loads(ma, parse_constant=no_constants)
    assert list(m) == sorted(m)
    for key in ("wall_time_s", "events_per_s", "machine"):
        assert key not in m
    raw = synthetic_raw()["metrics"]
    assert m["sharpe"] == raw["sharpe"]  # floats round-trip exactly
    assert m["total_pnl"] == raw["total_pnl"]
    assert m["markout_mean"]["60s"] is None  # NaN (no observation) is written as null
    assert m["events"] == 123456


def test_report_is_self_contained(results, tmp_path):
    p = results.write(tmp_path)/"report.html"
    text = p.read_text(encoding="utf-8")
    assert "plotly.js v" in text or "plotly.js" in text.lower()
    assert text.count("Plotly.newPlot") == 4  # four figures
    # plotly.js itself is inline, once (the library defines its global there)
    assert len(text) > 1_000_000
    assert not re.search(r"<script[^>]*\bsrc\s*=", text, re.I)
    assert not re.search(r"<link[^>]*href\s*=\s*[\"']?(https?:)?//", text, re.I)
    assert "BTCUSDT" in text and "glft" in text and "2024-08-08" in text


def test_report_is_deterministic_apart_from_run_info(tmp_path):
    from mmkit.report import write_report
    r1, r2 = BacktestResults(synthetic_raw(wall=1.0)), BacktestResults(synthetic_raw(wall=1.0))
    write_report(r1, tmp_path / "1.html")
    write_report(r2, tmp_path / "2.html")
    assert (tmp_path / "1.html").read_bytes() == (tmp_path / "2.html").read_bytes()


def test_pnl_decomposition_sums_to_total_at_every_point(results):
    dec = results.pnl_decomposition()
    s = results.samples
    assert len(dec) == len(s)
    np.testing.assert_allclose(dec["total"].to_numpy(), s["pnl"].to_numpy(), rtol=0, atol=0)
    parts = dec["spread_capture"] + dec["inventory_pnl"] + dec["fees_pnl"]
    np.testing.assert_allclose(parts.to_numpy(), dec["total"].to_numpy(), rtol=0, atol=1e-9)
    # fees part is minus the cumulative fees; spread capture is the fills' edge against the mid
    np.testing.assert_allclose(dec["fees_pnl"].to_numpy(), -s["fees"].to_numpy(), atol=0)
    f = results.fills
    edge = (f["qty"] * (f["mid_at_fill"] - f["price"]) * f["side"]).sum()
    assert dec["spread_capture"].iloc[-1] == pytest.approx(edge, abs=1e-9)
    # independent check of the inventory part: Σ over past fills of side × qty × (mid(t) − mid at fill)
    t = s["ts_ns"].to_numpy()
    for i in (0, 100, 333, len(s) - 1):
        past = f["exch_ts_ns"].to_numpy() <= t[i]
        inv = (f["side"] * f["qty"] * (s["mid"].iloc[i] - f["mid_at_fill"]))[past].sum()
        assert dec["inventory_pnl"].iloc[i] == pytest.approx(inv, abs=1e-8)
    # timeseries.csv carries the same columns
    ts = results.timeseries()
    np.testing.assert_allclose(ts["spread_capture"] + ts["inventory_pnl"] + ts["fees_pnl"], ts["pnl"], atol=1e-9)


def test_decomposition_without_fills_is_all_inventory():
    raw = synthetic_raw(n_fills=0)
    raw["samples"]["pnl"] = np.linspace(0, 1, len(raw["samples"]["ts_ns"]))
    dec = BacktestResults(raw).pnl_decomposition()
    assert (dec["spread_capture"] == 0).all() and (dec["fees_pnl"] == 0).all()
    np.testing.assert_allclose(dec["inventory_pnl"], dec["total"], atol=0)


def test_downsampling_keeps_first_last_and_extremes():
    rng = np.random.default_rng(3)
    n = 123_457
    y = np.cumsum(rng.normal(size=n))
    y[50_000:50_100] = np.nan
    idx = downsample_indices(y, 5000)
    assert len(idx) <= 5000
    assert idx[0] == 0 and idx[-1] == n - 1
    assert np.all(np.diff(idx) > 0)
    assert np.nanargmin(y) in idx and np.nanargmax(y) in idx
    assert np.isnan(y[idx]).any()  # the gap survives
    assert np.array_equal(idx, downsample_indices(y, 5000))  # deterministic
    small = np.arange(10.0)
    assert np.array_equal(downsample_indices(small, 5000), np.arange(10))
    s = stride_indices(100_000, 5000)
    assert len(s) <= 5000 and s[0] == 0 and s[-1] == 99_999


def test_large_run_traces_are_downsampled_with_first_and_last_sample(tmp_path):
    raw = synthetic_raw(n_samples=20_000, n_fills=6_000)
    res = BacktestResults(raw)
    figs = build_figures(res)
    first = pd.Timestamp(raw["samples"]["ts_ns"][0], unit="ns")
    last = pd.Timestamp(raw["samples"]["ts_ns"][-1], unit="ns")
    for _, fig in figs:
        for tr in fig.data:
            assert len(tr.x) <= 5000, tr.name
    eq = figs[0][1].data[0]
    assert pd.Timestamp(eq.x[0]) == first and pd.Timestamp(eq.x[-1]) == last
    res.write(tmp_path)
    assert (tmp_path / "report.html").stat().st_size < 12_000_000


def test_csv_files_round_trip_the_columns(results, tmp_path):
    out = results.write(tmp_path)
    fills = pd.read_csv(out / "fills.csv")
    assert list(fills.columns[:3]) == ["time", "exch_ts_ns", "local_ts_ns"]
    np.testing.assert_array_equal(fills["price"].to_numpy(), results.fills["price"].to_numpy())
    np.testing.assert_array_equal(fills["qty"].to_numpy(), results.fills["qty"].to_numpy())
    assert fills["markout_60s"].isna().sum() == results.fills["markout_60s"].isna().sum() > 0
    assert fills["maker"].dtype == bool
    orders = pd.read_csv(out / "orders.csv")
    assert len(orders) == len(results.orders) and set(orders["event"]) == {"submitted", "accepted", "filled"}
    ts = pd.read_csv(out / "timeseries.csv")
    assert len(ts) == len(results.samples)
    assert {"ts_ns", "mid", "position", "pnl", "our_bid", "spread_capture", "inventory_pnl", "fees_pnl"} <= set(ts.columns)
    assert ts["ts_ns"].dtype == np.int64


def test_frames_are_indexed_by_utc_time(results):
    for df in (results.fills, results.orders, results.samples):
        assert isinstance(df.index, pd.DatetimeIndex) and str(df.index.tz) == "UTC"
    assert results.samples.index[0] == pd.Timestamp("2024-08-08", tz="UTC")
    assert results.fills["maker"].dtype == bool


def test_markout_curves_are_qty_weighted_per_side():
    raw = synthetic_raw(n_fills=0)
    raw["fills"] = {
        "exch_ts_ns": np.array([1, 2, 3], dtype=np.int64) + T0, "local_ts_ns": np.array([1, 2, 3]) + T0,
        "order_id": np.array([1, 2, 3], dtype=np.uint64), "side": np.array([1, 1, -1], dtype=np.int8),
        "price": np.array([99.0, 100.0, 101.0]), "qty": np.array([1.0, 3.0, 2.0]), "fee": np.zeros(3),
        "maker": np.array([1, 1, 0], dtype=np.uint8), "queue_ahead_at_entry": np.array([0.0, 1.0, np.nan]),
        "mid_at_fill": np.array([100.0, 100.5, 100.0]),
        "markout_1s": np.array([0.5, -0.5, 1.0]), "markout_100ms": np.array([np.nan, 1.0, 2.0]),
    }
    mk = markout_curves(BacktestResults(raw))
    assert list(mk.index) == ["0", "100ms", "1s"]
    assert mk.loc["0", "buy"] == pytest.approx((1 * 1.0 + 3 * 0.5) / 4)
    assert mk.loc["0", "sell"] == pytest.approx(1.0)  # sold 1 above the mid
    assert mk.loc["1s", "all"] == pytest.approx((1 * 0.5 + 3 * -0.5 + 2 * 1.0) / 6)
    assert mk.loc["100ms", "buy"] == pytest.approx(1.0)  # the NaN of fill 1 is ignored
    assert mk.loc["100ms", "all"] == pytest.approx((3 * 1.0 + 2 * 2.0) / 5)


def test_horizon_labels_parse_to_seconds():
    assert horizon_seconds("100ms") == pytest.approx(0.1)
    assert horizon_seconds("60s") == 60.0
    assert horizon_seconds("5m") == 300.0
    assert horizon_seconds("250us") == pytest.approx(250e-6)
    assert math.isinf(horizon_seconds("later"))


def test_summary_table_lists_key_metrics(results):
    from rich.console import Console
    con = Console(record=True, width=140)
    con.print(results.summary_table())
    text = con.export_text()
    assert "total PnL (USDT)" in text and "BTCUSDT" in text and "glft" in text
    assert "n/a" in text  # the undefined 60 s markout
    assert "events/s" in text  # wall-clock figures belong to the terminal summary


def test_empty_run_writes_every_file(tmp_path):
    raw = synthetic_raw(n_fills=0)
    raw["orders"] = {k: v[:0] for k, v in raw["orders"].items()}
    out = BacktestResults(raw).write(tmp_path)
    assert (out / "report.html").is_file()
    assert pd.read_csv(out / "fills.csv").empty
