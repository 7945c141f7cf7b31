"""The typed Python API: books, InstrumentSpec, Python strategies (the slow path), zero-copy
results, shipped stubs (docs/python_api.md)."""
from __future__ import annotations

import ast
import io
import os
import zipfile
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mmkit
from mmkit import _core
from mmkit.backtest import latency_override
from mmkit.strategy import FixedSpreadQuoter

GOOG10 = "lobster/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"
K = mmkit.EVENT_KINDS
S = mmkit.SIDES


def _events(rows):
    """Hand-built events: rows of (kind, side, price_raw, qty_raw, order_id)."""
    ev = np.zeros(len(rows), dtype=mmkit.EVENT_DTYPE)
    for i, (kind, side, price, qty, oid) in enumerate(rows):
        ev[i]["kind"], ev[i]["side"], ev[i]["price"], ev[i]["qty"], ev[i]["order_id"] = K[kind], S[side], price, qty, oid
        ev[i]["record"] = i
    return ev


SPEC = mmkit.InstrumentSpec(symbol="TEST", price_decimals=2, qty_decimals=3, tick_size=1, lot_size="0.001")


# --- InstrumentSpec and exact decimal conversion -------------------------------------------

def test_instrument_spec_is_read_only_and_converts_decimals_exactly():
    assert (SPEC.symbol, SPEC.price_decimals, SPEC.qty_decimals, SPEC.tick_size, SPEC.lot_size) == ("TEST", 2, 3, 1, 1)
    assert SPEC.tick == 0.01 and SPEC.lot == 0.001
    with pytest.raises(AttributeError):
        SPEC.price_decimals = 4
    assert SPEC.price_to_raw("580.12") == 58012
    assert SPEC.price_to_raw(580.11 + 0.01) == 58012       # float noise within 16 ulp
    assert SPEC.price_to_raw(Decimal("580.10")) == 58010
    assert SPEC.price_to_raw(580) == 58000                 # an int is a decimal integer
    assert SPEC.qty_to_raw("0.5") == 500
    with pytest.raises(mmkit.Error, match="not a decimal with at most 2"):
        SPEC.price_to_raw("580.123")
    with pytest.raises(mmkit.Error, match="not a multiple"):
        SPEC.price_to_raw(580.123)
    with pytest.raises(mmkit.Error, match="decimals"):
        mmkit.InstrumentSpec(price_decimals=19)


def test_instrument_spec_from_a_source_dict_keeps_raw_tick(data_dir):
    src = mmkit.open_source(data_dir / GOOG10)
    spec = mmkit.InstrumentSpec.from_dict(src.instrument)
    assert (spec.symbol, spec.price_decimals, spec.tick_size, spec.lot_size) == ("GOOG", 4, 100, 1)
    assert mmkit.L3Book(src).instrument.tick_size == 100   # a source is accepted directly


# --- books ----------------------------------------------------------------------------------

def test_l2_book_applies_level_updates_and_answers_in_decimals_and_raw():
    b = mmkit.L2Book(SPEC)
    ev = _events([("level_update", "bid", 10000, 1500, 0), ("level_update", "bid", 9999, 2000, 0),
                  ("level_update", "ask", 10002, 700, 0), ("level_update", "ask", 10005, 100, 0),
                  ("level_update", "bid", 9999, 0, 0)])            # removes the level
    assert b.apply(ev) == 0 and b.applied == 5
    assert b.best_bid() == (100.0, 1.5) and b.best_ask(raw=True) == (10002, 700)
    assert b.depth("bid") == 1 and b.depth("ask") == 2
    assert b.level("ask", 1) == (100.05, 0.1) and b.level("ask", 2) is None
    assert b.mid() == pytest.approx(100.01)
    bids, asks = b.snapshot(10)
    assert bids.shape == (1, 2) and asks.tolist() == [[100.02, 0.7], [100.05, 0.1]]
    bids_raw, _ = b.snapshot(1, raw=True)
    assert bids_raw.dtype == np.int64 and bids_raw.tolist() == [[10000, 1500]]
    assert bids_raw.flags.owndata is False and bids_raw.base is not None   # NumPy over the one copy
    with pytest.raises(mmkit.Error, match="side must be"):
        b.depth("up")
    b.clear()
    assert b.best_bid() is None and np.isnan(b.mid())


def test_l2_book_rejects_l3_events_strictly_or_counts_them():
    b = mmkit.L2Book(SPEC)
    ev = _events([("level_update", "bid", 10000, 1000, 0), ("add", "bid", 10001, 1000, 7),
                  ("level_update", "ask", 10003, 1000, 0)])
    with pytest.raises(mmkit.Error, match=r"event 1 of the array \(record 1, kind add.*not supported"):
        b.apply(ev)
    assert b.best_bid(raw=True) == (10000, 1000) and b.best_ask() is None   # events before it applied
    b.clear()
    assert b.apply(ev, strict=False) == 1 and b.rejected == 1 and b.best_ask(raw=True) == (10003, 1000)


def test_l3_book_keeps_fifo_queue_and_order_state():
    b = mmkit.L3Book(SPEC)
    b.apply(_events([("add", "bid", 10000, 1000, 1), ("add", "bid", 10000, 2000, 2), ("add", "ask", 10010, 500, 3),
                     ("execution", "bid", 10000, 400, 1), ("modify", "ask", 10009, 500, 3)]))
    assert b.best_bid(raw=True) == (10000, 2600) and b.order_count == 3
    assert b.queue_ahead(2, raw=True) == 600 and b.queue_ahead(2) == 0.6 and b.queue_ahead(99) is None
    assert b.order(3) == ("ask", 100.09, 0.5) and b.contains(1) and b.order(42) is None
    with pytest.raises(mmkit.Error, match="unknown_order|UnknownOrder|unknown order"):
        b.apply(_events([("cancel", "bid", 10005, 100, 42)]))


def test_l3_book_from_lobster_goog_matches_the_exchange_orderbook_file(data_dir):
    """Rows of LOBSTER's own orderbook file (state after message k) against the L3Book fed with the
    reader's events up to the end of record k: every 101st row plus the first and last, top 10
    levels each side, exact raw prices and sizes."""
    path = data_dir / GOOG10
    ev = mmkit.read_events(path)
    with zipfile.ZipFile(path) as z:
        name = next(n for n in z.namelist() if "orderbook_10" in n)
        ob = pd.read_csv(io.BytesIO(z.read(name)), header=None).to_numpy(dtype=np.int64)
    assert ob.shape == (147916, 40)
    rows = sorted(set(range(0, len(ob), 101)) | {len(ob) - 1})
    ends = np.searchsorted(ev["record"], np.asarray(rows, dtype=np.uint64), side="right")
    book = mmkit.L3Book(mmkit.open_source(path))
    start, compared = 0, 0
    for k, end in zip(rows, ends):
        book.apply(ev[start:end])
        start = end
        bids, asks = book.snapshot(10, raw=True)
        want_asks = [(p, q) for p, q in zip(ob[k, 0::4], ob[k, 1::4]) if p != 9999999999]
        want_bids = [(p, q) for p, q in zip(ob[k, 2::4], ob[k, 3::4]) if p != -9999999999]
        assert [tuple(r) for r in asks.tolist()] == want_asks, f"row {k}"
        assert [tuple(r) for r in bids.tolist()] == want_bids, f"row {k}"
        compared += 1
    assert compared == 1466
    assert book.best_bid(raw=True) == (ob[-1, 2], ob[-1, 3])
    # The first row of GOOG_2012-06-21_34200000_57600000_orderbook_10.csv: bid 579.40 x 496, ask 580.23 x 100.
    first = mmkit.L3Book(book.instrument)
    first.apply(ev[: np.searchsorted(ev["record"], 0, side="right")])
    assert first.best_bid() == (579.4, 496.0) and first.best_ask() == (580.23, 100.0)


def test_l2_book_on_binance_ends_where_the_cpp_replayer_ends(data_dir):
    path = data_dir / "binance_l2/usdm/btcusdt_20240808.gz"
    ref = mmkit.replay(path)
    book = mmkit.L2Book(mmkit.open_source(path))
    src = mmkit.open_source(path)
    while True:
        chunk = src.read(1 << 16)                     # (k, 64) uint8 chunks are accepted as they are
        if len(chunk) == 0:
            break
        book.apply(chunk)
    bid, bid_qty = book.best_bid()
    assert f"{bid:.1f}" == ref["final_best_bid"] and book.depth("bid") == ref["final_bid_depth"]
    assert book.depth("ask") == ref["final_ask_depth"]
    assert float(ref["final_best_bid_qty"]) == pytest.approx(bid_qty, abs=1e-12)


def test_backtest_book_view_follows_the_stepped_run_and_agrees_with_the_l3_book(data_dir):
    path = data_dir / GOOG10
    bt = mmkit.Backtest(path, strategy=mmkit.Strategy(), engine=latency_override(0))   # no callbacks
    view = bt.book
    assert view.best_bid() is None and np.isnan(view.mid())
    ev = mmkit.read_events(path)
    ref = mmkit.L3Book(mmkit.open_source(path))
    for n in (5_000, 50_000):
        bt.step(n - bt.events_processed)
        ref.apply(ev[ref.applied:bt.events_processed])
        assert bt.events_processed == n
        assert [view.level(s, i, raw=True) for s in ("bid", "ask") for i in range(10)] == \
               [ref.level(s, i, raw=True) for s in ("bid", "ask") for i in range(10)]
        assert view.depth("ask") == ref.depth("ask") and view.mid() == ref.mid()
    bt.run()
    ref.apply(ev[ref.applied:])
    assert view.best_bid() == ref.best_bid() == (565.12, 200.0) and view.best_ask() == ref.best_ask()


# --- zero-copy ------------------------------------------------------------------------------

def test_event_file_and_results_columns_are_zero_copy(data_dir, tmp_path):
    evf = tmp_path / "goog.evf"
    mmkit.convert(data_dir / GOOG10, evf)
    raw = _core.map_event_file(str(evf))
    ev = mmkit.read_events(evf)
    assert not raw.flags.writeable and not ev.flags.writeable and ev.base is not None
    view = raw.view(mmkit.EVENT_DTYPE).reshape(-1)
    assert np.shares_memory(view, raw)                       # the mapping, not a copy
    bt = mmkit.Backtest(data_dir / GOOG10, strategy="spread-quoter", engine={"seed": 1})
    bt.step(20_000)
    cols = bt._bt.result()["fills"]
    price = cols["price"]
    assert price.flags.owndata is False and price.base is not None   # NumPy over the moved C++ vector


# --- Python strategies ----------------------------------------------------------------------

def _order_rows(path):
    """Orders for 09:35..15:55 ET every 5 minutes built from the book itself: a GTC bid at the
    best bid and ask at the best ask, and every third time an IOC, a market order and a
    post-only order that would cross (rejected)."""
    ev = mmkit.read_events(path)
    book = mmkit.L3Book(mmkit.open_source(path))
    day0 = 1340251200 * 10**9                                 # 2012-06-21 00:00 EDT in ns UTC
    rows, start = [], 0
    for j, minute in enumerate(range(9 * 60 + 35, 15 * 60 + 56, 5)):
        ts = day0 + minute * 60 * 10**9
        end = int(np.searchsorted(ev["local_ts_ns"], ts, side="left"))
        book.apply(ev[start:end])
        start = end
        (bid, _), (ask, _) = book.best_bid(), book.best_ask()
        rows += [(ts, "buy", f"{bid:.2f}", "100", "limit", "gtc"), (ts, "sell", f"{ask:.2f}", "100", "limit", "gtc")]
        if j % 3 == 0:
            rows += [(ts, "buy", f"{ask:.2f}", "50", "limit", "ioc"), (ts, "sell", "", "30", "market", "ioc"),
                     (ts, "buy", f"{ask:.2f}", "10", "limit", "post_only")]
    return rows


class PyOrderList(mmkit.Strategy):
    """Python mirror of the C++ order-list strategy (include/mmkit/strategy/order_list.h)."""

    def __init__(self, rows):
        super().__init__()
        self.rows, self.next, self.ids, self.flushing = rows, 0, [], False

    def flush(self, ctx):
        if self.flushing:
            return
        self.flushing = True
        try:
            now = ctx.now
            while self.next < len(self.rows) and self.rows[self.next][0] <= now:
                ts, side, price, qty, typ, tif = self.rows[self.next]
                self.next += 1
                order = mmkit.Order(side, None if typ == "market" else price, qty, "market" if typ == "market" else tif)
                self.ids.append(ctx.submit(order))
        finally:
            self.flushing = False

    def on_start(self, ctx): self.flush(ctx)
    def on_book_update(self, ctx): self.flush(ctx)
    def on_trade(self, ctx, trade): self.flush(ctx)
    def on_order_update(self, ctx, update): self.flush(ctx)
    def on_fill(self, ctx, fill): self.flush(ctx)
    def on_timer(self, ctx): self.flush(ctx)


def test_python_order_list_gives_the_same_fills_and_pnl_as_the_cpp_order_list(data_dir, tmp_path):
    path = data_dir / GOOG10
    rows = _order_rows(path)
    csv = tmp_path / "orders.csv"
    csv.write_text("ts_ns,side,price,qty,type,tif\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    eng = {"seed": 7, "maker_fee_bps": -0.2, "taker_fee_bps": 0.3, "entry_latency_ms": 2.0}
    cpp = mmkit.backtest(path, strategy="order-list", params={"orders": str(csv)}, engine=eng)
    strat = PyOrderList(rows)
    py = mmkit.backtest(path, strategy=strat, engine=eng)
    assert strat.next == len(rows) == 232 and strat.ids == list(range(1, len(rows) + 1))
    assert len(cpp.fills) > 100 and (cpp.fills["maker"] == 1).any() and (cpp.fills["maker"] == 0).any()
    pd.testing.assert_frame_equal(py.fills, cpp.fills)
    pd.testing.assert_frame_equal(py.orders, cpp.orders)
    pd.testing.assert_frame_equal(py.samples, cpp.samples)
    assert py.metrics == cpp.metrics
    assert "rejected" in set(cpp.orders["status"])                    # the post-only crosses
    assert py.config["strategy"]["name"] == "python:test_api.PyOrderList"


def test_fixed_spread_quoter_quotes_both_sides_and_stays_within_its_position_limit(data_dir):
    path = data_dir / GOOG10
    bt = mmkit.Backtest(path, strategy=FixedSpreadQuoter(half_spread_ticks=1, qty=100, max_position=300),
                        engine={"seed": 1})
    bt.run()
    res = bt.results()
    f = res.fills
    assert len(f) > 100 and set(f["side"]) == {1, -1}
    assert res.samples["position"].abs().max() <= 300 + 100       # one order past the limit at most
    assert res.config["strategy"]["params"]["half_spread_ticks"] == 1


def test_exception_in_a_callback_propagates_with_its_python_traceback(data_dir):
    class Boom(mmkit.Strategy):
        def __init__(self):
            super().__init__()
            self.n = 0

        def on_book_update(self, ctx):
            self.n += 1
            if self.n == 50:
                raise KeyError("boom at update 50")

    s = Boom()
    bt = mmkit.Backtest(data_dir / GOOG10, strategy=s)
    with pytest.raises(KeyError, match="boom at update 50") as info:
        bt.step(10_000)
    assert s.n == 50
    assert any(entry.name == "on_book_update" for entry in info.traceback)


def test_context_is_valid_only_inside_callbacks_and_checks_inputs(data_dir):
    seen = {}

    class Probe(mmkit.Strategy):
        def on_start(self, ctx):
            seen["ctx"] = ctx
            seen["instrument"] = ctx.instrument.symbol

        def on_book_update(self, ctx):
            if "mid" not in seen and ctx.best_bid() and ctx.best_ask():
                seen["mid"] = ctx.mid()
                seen["bid"] = ctx.best_bid()
                seen["level0"] = ctx.level("bid", 0)
                seen["depth"] = ctx.depth("ask")
                with pytest.raises(mmkit.Error, match="not a decimal"):
                    ctx.submit("bid", "1.23456", 1)
                with pytest.raises(mmkit.Error, match="order type"):
                    ctx.submit("bid", "1.00", 1, type="day")
                seen["id"] = ctx.submit("bid", "1.00", 1, type="gtc")
                seen["open"] = [o.id for o in ctx.open_orders()]
                seen["cancel"] = ctx.cancel(seen["id"])

    mmkit.backtest(data_dir / GOOG10, strategy=Probe(), engine=latency_override(0))
    assert seen["instrument"] == "GOOG" and seen["bid"] == seen["level0"] and seen["depth"] >= 1
    assert seen["mid"] == pytest.approx((seen["bid"][0] + 580.23) / 2, abs=1.0)
    assert seen["id"] == 1 and seen["open"] == [1] and seen["cancel"] is True
    with pytest.raises(TypeError, match="outside a strategy callback"):
        seen["ctx"].now


def test_strategy_subclass_must_call_base_init():
    class Bad(mmkit.Strategy):
        def __init__(self):
            pass

    with pytest.raises(TypeError, match="super"):
        mmkit.backtest(strategy=Bad(), synthetic={"duration_s": 5.0})
    with pytest.raises(mmkit.Error, match="params apply to shipped strategies"):
        mmkit.backtest(strategy=FixedSpreadQuoter(), params={"qty": 1}, synthetic={"duration_s": 5.0})
    with pytest.raises(TypeError, match="mmkit.Strategy instance"):
        _core.Backtest([], {}, {}, object(), {})


# --- stubs ----------------------------------------------------------------------------------

def test_typing_stubs_are_generated_next_to_the_extension():
    stub = Path(_core.__file__).with_name("_core.pyi")
    if not stub.is_file():
        msg = f"{stub} not built (cmake target _core_stub; `make build` installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    text = stub.read_text()
    ast.parse(text)                                            # valid Python syntax
    for cls in ("class L2Book", "class L3Book", "class InstrumentSpec", "class Strategy", "class Context",
                "class Backtest", "class EventSource"):
        assert cls in text
    assert "def snapshot(self, depth: int = 10, raw: bool = False) -> tuple[numpy.ndarray, numpy.ndarray]" in text
    assert (Path(mmkit.__file__).parent / "py.typed").is_file()
