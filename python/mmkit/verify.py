"""Checks of a rebuilt book against a venue's own reference book (``mmkit verify``).

- LOBSTER: every row of the orderbook file shipped with the messages (:func:`compare_lobster`).
- Binance USD-M: every bookTicker aligned with a depth update (C++ ``check_venue_bbo``).
- Databento MBO and Binance spot: a validated replay (every event accepted, never crossed after
  a complete update outside the pre-open) and the final book.

``compare_lobster`` compares a book CSV written by :func:`mmkit.book_csv` (depth >= N, every 1)
with the orderbook file LOBSTER ships beside the messages (row k = state after message k;
per level ``ask_px, ask_sz, bid_px, bid_sz``; prices in dollars × 10000; empty levels
ask 9999999999 / bid -9999999999). Vectorized with pandas; no per-row Python work.
"""
from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mmkit import _core
from mmkit.data import Paths, book_csv, _paths


@dataclass
class BookComparison:
    """The outcome of :func:`compare_lobster`: rows and levels compared, and the mismatches."""

    rows: int            #: rows compared
    levels: int          #: levels per side compared
    mismatched_rows: int #: rows where any compared value differs
    first_mismatch: int  #: 0-based row of the first mismatch, -1 if none


def lobster_orderbook(path: Path) -> pd.DataFrame:
    """Reads a LOBSTER orderbook CSV (or the one inside a LOBSTER zip) as int64 columns: one row
    per message, 4N columns ``ask_px, ask_sz, bid_px, bid_sz`` per level 1..N (prices in dollars
    × 10000). Raises ``ValueError`` for a zip without exactly one ``*_orderbook_N.csv``."""
    path = Path(path)
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if "_orderbook_" in n]
            if len(names) != 1:
                raise ValueError(f"{path}: expected one *_orderbook_N.csv member, found {names}")
            return pd.read_csv(io.BytesIO(z.read(names[0])), header=None, dtype=np.int64)
    return pd.read_csv(path, header=None, dtype=np.int64)


def compare_lobster(lobster: Path, book: Path) -> BookComparison:
    """Compares every row and level of LOBSTER's orderbook file ``lobster`` (CSV or zip) with our
    book CSV ``book`` (:func:`mmkit.book_csv` output, every = 1, depth >= N): prices exactly in
    LOBSTER units, empty levels as LOBSTER's sentinels. Raises ``ValueError`` when the row counts
    differ."""
    return _compare(lobster_orderbook(lobster), book)


def _compare(ref: pd.DataFrame, book: Path) -> BookComparison:
    ours = pd.read_csv(book, dtype=str, keep_default_na=False)
    levels = ref.shape[1] // 4
    if len(ours) != len(ref):
        raise ValueError(f"{book}: {len(ours)} rows, LOBSTER has {len(ref)}")
    bad = np.zeros(len(ref), dtype=bool)

    def raw_px(col: pd.Series) -> np.ndarray:  # decimal dollars -> LOBSTER units (× 10000)
        s = col.replace("", "nan").astype(float).to_numpy()
        return np.where(np.isnan(s), np.nan, np.round(s * 10000))

    def raw_qty(col: pd.Series) -> np.ndarray:
        return col.replace("", "0").astype(np.int64).to_numpy()

    for i in range(levels):
        ask_px, ask_sz, bid_px, bid_sz = (ref[4 * i + k].to_numpy() for k in range(4))
        exp_ask = np.where(ask_px >= 9999999999, np.nan, ask_px)
        exp_bid = np.where(bid_px <= -9999999999, np.nan, bid_px)
        for exp_px, exp_sz, side in ((exp_ask, ask_sz, "ask"), (exp_bid, bid_sz, "bid")):
            got_px = raw_px(ours[f"{side}_px_{i + 1}"])
            got_sz = raw_qty(ours[f"{side}_qty_{i + 1}"])
            same_px = (got_px == exp_px) | (np.isnan(got_px) & np.isnan(exp_px))
            same_sz = got_sz == np.where(np.isnan(exp_px), 0, exp_sz)
            bad |= ~(same_px & same_sz)
    idx = np.flatnonzero(bad)
    return BookComparison(rows=len(ref), levels=levels, mismatched_rows=int(bad.sum()),
                          first_mismatch=int(idx[0]) if idx.size else -1)


def _lobster_reference(path: str) -> Path:
    """The orderbook file matching a LOBSTER input (a zip holds it; a message CSV has it beside)."""
    p = Path(path)
    if p.suffix == ".zip" or "_orderbook_" in p.name:
        return p
    ref = p.with_name(re.sub(r"_message_(\d+)\.csv$", r"_orderbook_\1.csv", p.name))
    if not ref.exists():
        raise ValueError(f"{p}: no orderbook file {ref.name} beside it to verify against")
    return ref


def verify(paths: Paths, *, instrument: str = "", publisher: int = -1, tick_size: int = 0) -> dict:
    """Rebuilds the book from ``paths`` and checks it against what the venue publishes.

    Returns a dict with ``check`` (what was compared), ``compared`` (rows or points),
    ``mismatches`` (expected 0) and the replay summary. Raises :class:`mmkit.Error` on bad
    input (including a book rejecting an event or crossing after a complete update)."""
    plist = _paths(paths)
    src = _core.open_source(plist, instrument, publisher, tick_size)
    fmt = src.format.removeprefix("mmk:")
    del src
    if fmt == "lobster" and not plist[0].endswith(".mmk"):
        ref = lobster_orderbook(_lobster_reference(plist[0]))
        levels = ref.shape[1] // 4
        with tempfile.TemporaryDirectory(prefix="mmkit-verify-") as tmp:
            out = Path(tmp) / "book.csv"
            summary = book_csv(plist, out, depth=levels)
            c = _compare(ref, out)
        return {"check": f"LOBSTER orderbook file, every row, {levels} levels a side",
                "compared": c.rows, "mismatches": c.mismatched_rows,
                "first_mismatch": c.first_mismatch, **summary}
    r = _core.check_venue_bbo(plist, "auto", instrument, publisher, tick_size)
    if fmt == "binance-usdm":
        return {"check": "bookTicker aligned with the last depth update (same u): best bid/ask",
                "compared": r["bbo_points"], "mismatches": r["bbo_mismatches"], **r}
    crossed = (r["final_best_bid"] is not None and r["final_best_ask"] is not None
               and float(r["final_best_bid"]) >= float(r["final_best_ask"]))
    return {"check": "validated replay: every event accepted, uncrossed after complete updates "
                     "(pre-open crossings counted), final book uncrossed",
            "compared": r["complete_points"], "mismatches": int(crossed), **r}
