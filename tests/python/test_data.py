"""End-to-end tests of the Python front over the C++ readers and books."""
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mmkit
from mmkit.verify import compare_lobster

GOOG1 = "lobster/LOBSTER_SampleFile_GOOG_2012-06-21_1.zip"
GOOG5 = "lobster/LOBSTER_SampleFile_GOOG_2012-06-21_5.zip"


def test_event_dtype_matches_the_cpp_record():
    assert mmkit.EVENT_DTYPE.itemsize == 64
    assert mmkit.EVENT_KINDS["add"] == 1 and mmkit.EVENT_KINDS["status"] == 12


def test_read_events_gives_a_structured_array_with_exact_integers(data_dir):
    ev = mmkit.read_events(data_dir / GOOG1)
    assert ev.dtype == mmkit.EVENT_DTYPE
    assert ev.shape[0] > 49_482  # messages plus seeded levels
    assert np.unique(ev["record"]).size <= 49_482
    # First message of the file: 34200.015105074 s after midnight ET, 2012-06-21 (EDT, UTC-4).
    first = ev[ev["record"] == 0]
    assert first["exch_ts_ns"][-1] == (1340251200 + 34200) * 10**9 + 15_105_074
    df = mmkit.events_frame(ev[:100])
    assert set(df["kind"].astype(str)) <= set(mmkit.EVENT_KINDS)


def test_inspect_reports_instrument_span_and_counts(data_dir):
    s = mmkit.inspect(data_dir / GOOG1)
    assert s["instrument"]["symbol"] == "GOOG"
    assert s["instrument"]["tick_size_decimal"] == "0.01"
    assert s["records"] == 49_482
    assert s["format"].startswith("lobster")
    assert sum(s["kinds"].values()) == s["events"]
    assert s["tolerated"]  # seeded levels and unknown order ids are counted


@pytest.mark.parametrize("rel,depth", [(GOOG1, 1), (GOOG5, 5)])
def test_book_csv_matches_every_row_of_lobsters_orderbook_file(data_dir, tmp_path, rel, depth):
    out = tmp_path / "book.csv"
    r = mmkit.book_csv(data_dir / rel, out, depth=depth)
    c = compare_lobster(data_dir / rel, out)
    assert r["rows"] == c.rows > 0
    assert c.levels == depth
    assert c.mismatched_rows == 0, f"first mismatch at row {c.first_mismatch}"


def test_compare_lobster_detects_a_wrong_row(data_dir, tmp_path):
    out = tmp_path / "book.csv"
    mmkit.book_csv(data_dir / GOOG1, out, depth=1)
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    df.loc[100, "bid_qty_1"] = str(int(df.loc[100, "bid_qty_1"]) + 1)
    df.to_csv(out, index=False)
    c = compare_lobster(data_dir / GOOG1, out)
    assert c.mismatched_rows == 1 and c.first_mismatch == 100


def test_malformed_input_raises_mmkit_error_naming_file_and_line(tmp_path):
    bad = tmp_path / "AAA_2012-06-21_34200000_57600000_message_1.csv"
    bad.write_text("34200.1,1,1,100,5794000,1\n34200.2,1,2,abc,5794000,1\n")
    (tmp_path / "AAA_2012-06-21_34200000_57600000_orderbook_1.csv").write_text(
        "9999999999,0,5794000,100\n9999999999,0,5794000,200\n")
    with pytest.raises(mmkit.Error, match=r"message_1\.csv:2"):
        mmkit.read_events(bad)
    with pytest.raises(ValueError):
        mmkit.inspect(tmp_path / "nothing-here.csv")


def test_cli_inspect_and_book(data_dir, tmp_path):
    exe = Path(sys.executable).with_name("mmkit")
    r = subprocess.run([str(exe), "inspect", str(data_dir / GOOG1)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "GOOG" in r.stdout and "49,482" in r.stdout
    out = tmp_path / "b.csv"
    r = subprocess.run([str(exe), "book", str(data_dir / GOOG1), "--depth", "1", "--every", "1000",
                        "--csv", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert len(pd.read_csv(out)) == 49_482 // 1000
    r = subprocess.run([str(exe), "inspect", str(tmp_path / "missing.gz")], capture_output=True, text=True)
    assert r.returncode == 2 and "missing.gz" in r.stderr


def test_read_candles_gives_a_utc_indexed_frame(data_dir):
    df = mmkit.read_candles(data_dir / "candles/bybit_linear_1m/BTCUSDT_1m.csv")
    assert len(df) == 43_200
    assert df.attrs["interval_ns"] == 60 * 10**9
    assert str(df.index[0]) == "2025-05-29 19:00:00+00:00"
    assert (df["low"] <= df[["open", "close"]].min(axis=1)).all()


def test_read_funding_known_values(data_dir):
    df = mmkit.read_funding(data_dir / "funding/binance_usdm_csv/BTCUSDT.csv")
    assert len(df) == 200
    assert df.loc[pd.Timestamp(1773187200000, unit="ms", tz="UTC"), "rate"] == -0.00011052


def test_verify_binance_futures_against_every_aligned_book_ticker(data_dir):
    from mmkit.verify import verify
    r = verify([data_dir / "binance_l2/usdm/btcusdt_20240718.gz",
                data_dir / "binance_l2/usdm/btcusdt_20240719.gz"])
    assert (r["compared"], r["mismatches"]) == (106, 0)
    assert r["records"] == 11_414 + 60_570


def test_verify_cme_mbo_final_book_uncrossed_at_4810(data_dir):
    from mmkit.verify import verify
    r = verify(data_dir / "cme_mbo/esh4-glbx-mdp3-20231225.mbo.dbn.zst")
    assert r["mismatches"] == 0
    assert (r["final_best_bid"], r["final_best_ask"]) == ("4810.00", "4810.25")
    assert r["crossed_in_auction"] > 0  # the pre-open accumulation before the 23:00 UTC open


def test_convert_then_read_events_zero_copy_is_identical(data_dir, tmp_path):
    src = data_dir / GOOG1
    plain, packed = tmp_path / "g.mmk", tmp_path / "g.zst.mmk"
    a = mmkit.convert(src, plain)
    b = mmkit.convert(src, packed, compress=True)
    assert a["events"] == b["events"] and b["file_bytes"] < a["file_bytes"] / 3
    assert mmkit.is_event_file(plain) and not mmkit.is_event_file(src)
    assert mmkit.verify_event_file(plain) == "" and mmkit.verify_event_file(packed) == ""
    direct = mmkit.read_events(src)
    mapped = mmkit.read_events(plain)
    assert not mapped.flags.writeable  # a view of the memory map, not a copy
    assert np.array_equal(direct, mapped)
    assert np.array_equal(direct, mmkit.read_events(packed))
    assert mmkit.inspect(plain)["tolerated"] == mmkit.inspect(src)["tolerated"]
    # Same input, same bytes.
    again = tmp_path / "g2.mmk"
    mmkit.convert(src, again)
    assert plain.read_bytes() == again.read_bytes()
