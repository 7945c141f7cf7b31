"""Checks of a rebuilt book against a venue's own reference book.

``compare_lobster`` compares a book CSV written by :func:`mmkit.book_csv` (depth >= N, every 1)
with the orderbook file LOBSTER ships beside the messages (row k = state after message k;
per level ``ask_px, ask_sz, bid_px, bid_sz``; prices in dollars × 10000; empty levels
ask 9999999999 / bid -9999999999). Vectorized with pandas; no per-row Python work.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass
class BookComparison:
    rows: int            #: rows compared
    levels: int          #: levels per side compared
    mismatched_rows: int #: rows where any compared value differs
    first_mismatch: int  #: 0-based row of the first mismatch, -1 if none


def lobster_orderbook(path: Path) -> pd.DataFrame:
    """Reads a LOBSTER orderbook CSV (or the one inside a LOBSTER zip) as int64 columns."""
    path = Path(path)
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if "_orderbook_" in n]
            if len(names) != 1:
                raise ValueError(f"{path}: expected one *_orderbook_N.csv member, found {names}")
            return pd.read_csv(io.BytesIO(z.read(names[0])), header=None, dtype=np.int64)
    return pd.read_csv(path, header=None, dtype=np.int64)


def compare_lobster(lobster: Path, book_csv: Path) -> BookComparison:
    """Compares every row and level of LOBSTER's orderbook file with our book CSV."""
    ref = lobster_orderbook(lobster)
    ours = pd.read_csv(book_csv, dtype=str, keep_default_na=False)
    levels = ref.shape[1] // 4
    if len(ours) != len(ref):
        raise ValueError(f"{book_csv}: {len(ours)} rows, LOBSTER has {len(ref)}")
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
