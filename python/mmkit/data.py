"""Market-data access: readers, event arrays, book replay.

Inputs are given as a list of paths read as one stream (e.g. a Binance capture continued by the
next day's file), in any format mmkit reads: an mmkit event file (``.mmk``), LOBSTER (``.zip`` or
``*_message_N.csv``), a Binance capture (``<ns> <json>`` per line, gzip or plain), a Databento
MBO CSV dump or DBN file. See ``docs/formats.md``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence, Union

import numpy as np
import pandas as pd

from mmkit import _core

PathLike = Union[str, os.PathLike]
#: One path, or several read in order as one stream.
Paths = Union[PathLike, Iterable[PathLike]]

#: NumPy dtype of one event (64 bytes, the C++ ``mmkit::Event`` layout, little-endian).
#: Prices and quantities are raw integers: decimal = raw × 10^-price_decimals (resp.
#: qty_decimals) of the stream's instrument. Timestamps are ns since the Unix epoch (UTC).
EVENT_DTYPE = np.dtype(
    [
        ("exch_ts_ns", "<i8"),
        ("local_ts_ns", "<i8"),
        ("price", "<i8"),
        ("qty", "<i8"),
        ("order_id", "<u8"),
        ("seq", "<u8"),
        ("record", "<u8"),
        ("instrument_id", "<u4"),
        ("kind", "u1"),
        ("side", "u1"),
        ("flags", "<u2"),
    ]
)
assert EVENT_DTYPE.itemsize == _core.EVENT_SIZE == 64

#: Event kind name -> code (``mmkit::EventKind``).
EVENT_KINDS: dict[str, int] = dict(_core.EVENT_KINDS)
#: Side codes: 0 none, 1 bid (buy), 2 ask (sell); for trades, the aggressor side.
SIDES = {"none": 0, "bid": 1, "ask": 2}
#: Event flag bits (``mmkit::event_flags``).
FLAGS = {
    "end_of_record": 1 << 0,
    "complete": 1 << 1,
    "snapshot": 1 << 2,
    "seed": 1 << 3,
    "bad_ts": 1 << 4,
    "no_exch_ts": 1 << 5,
}


def data_dir() -> Path:
    """The real-data directory: ``$MMKIT_DATA_DIR``, else ``../shared/data`` relative to the
    working directory (the repository root, for the Makefile, tests and examples)."""
    env = os.environ.get("MMKIT_DATA_DIR")
    if env:
        return Path(env)
    return Path.cwd().parent / "shared" / "data"


def _paths(paths: Union[PathLike, Iterable[PathLike]]) -> list[str]:
    if isinstance(paths, (str, os.PathLike)):
        return [os.fspath(paths)]
    return [os.fspath(p) for p in paths]


def open_source(paths: Paths, *, instrument: str = "", publisher: int = -1,
                tick_size: int = 0) -> "_core.EventSource":
    """Opens an event stream (C++ ``mmkit::data::open_source``).

    Args:
        paths: one path or a sequence read as one stream.
        instrument: symbol to select (Databento files with several instruments).
        publisher: Databento publisher id (-1: the reader's default, 39 for DBEQ).
        tick_size: raw tick override (0: from the format or inferred from the data).

    Returns an ``EventSource`` with ``instrument`` (dict), ``format``, ``book_level``,
    ``records``, ``tolerated`` (dict of counters), ``locate(record)`` and ``read(n)`` (a
    ``(k, 64)`` uint8 array, k <= n, k == 0 at the end; view it with :data:`EVENT_DTYPE`).
    Raises :class:`mmkit.Error` on malformed input.
    """
    return _core.open_source(_paths(paths), instrument, publisher, tick_size)


def read_events(paths: Paths, *, instrument: str = "", publisher: int = -1, tick_size: int = 0,
                max_events: int = 0) -> np.ndarray:
    """Reads a whole stream (or its first ``max_events``; 0 = all) into a structured array of
    :data:`EVENT_DTYPE`, shape ``(n,)``. A plain event file is memory-mapped and returned
    zero-copy (read-only); other inputs are read in C++ into a new array (64 bytes per event).
    Prices and quantities are raw int64 units, timestamps int64 ns since the Unix epoch (UTC).
    Other arguments as :func:`open_source`. Raises :class:`mmkit.Error` on malformed input."""
    plist = _paths(paths)
    if len(plist) == 1 and max_events == 0 and _is_plain_event_file(plist[0]):
        return _core.map_event_file(plist[0]).view(EVENT_DTYPE).reshape(-1)
    src = open_source(plist, instrument=instrument, publisher=publisher, tick_size=tick_size)
    chunks = []
    remaining = max_events if max_events > 0 else None
    while True:
        want = 1 << 20 if remaining is None else min(remaining, 1 << 20)
        if want == 0:
            break
        raw = src.read(want)
        if raw.shape[0] == 0:
            break
        chunks.append(raw.view(EVENT_DTYPE).reshape(-1))
        if remaining is not None:
            remaining -= raw.shape[0]
    if not chunks:
        return np.zeros(0, dtype=EVENT_DTYPE)
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)


def is_event_file(path: PathLike) -> bool:
    """True if ``path`` is an mmkit event file (``mmkit convert`` output)."""
    return _core.is_event_file(os.fspath(path))


def _is_plain_event_file(path: str) -> bool:
    # The header's u32 `compression` at byte 20 (docs/event_file.md): 0 plain, 1 zstd blocks.
    if not is_event_file(path):
        return False
    with open(path, "rb") as f:
        head = f.read(24)
    return len(head) == 24 and int.from_bytes(head[20:24], "little") == 0


def convert(paths: Paths, out: PathLike, *, compress: bool = False, level: int = 3,
            block_events: int = 65536, instrument: str = "", publisher: int = -1,
            tick_size: int = 0) -> dict:
    """Converts any source into an mmkit event file (``docs/event_file.md``): plain (memory-
    mapped, zero-copy to NumPy) or zstd-compressed blocks of ``block_events`` events at zstd
    ``level``. Streams with bounded memory; the output appears only when complete. Returns
    ``{"events", "records", "blocks", "payload_bytes", "file_bytes"}`` (int) and
    ``"source_format"`` (str). Raises :class:`mmkit.Error` naming the file on malformed input,
    invalid options or an I/O error."""
    return _core.convert(_paths(paths), os.fspath(out), compress, level, block_events,
                         instrument, publisher, tick_size)


def verify_event_file(path: PathLike) -> str:
    """Checks an event file's sizes, index and checksums: "" if sound, else what is wrong."""
    return _core.verify_event_file(os.fspath(path))


def events_frame(events: np.ndarray) -> pd.DataFrame:
    """A DataFrame of an :data:`EVENT_DTYPE` array of shape ``(n,)``: one row per event, one
    column per field (pandas copies them), ``kind`` and ``side`` as categorical names."""
    df = pd.DataFrame(events)
    kind_names = {v: k for k, v in EVENT_KINDS.items()}
    side_names = {v: k for k, v in SIDES.items()}
    df["kind"] = pd.Categorical(df["kind"].map(kind_names), categories=list(EVENT_KINDS))
    df["side"] = pd.Categorical(df["side"].map(side_names), categories=list(SIDES))
    return df


def inspect(paths: Paths, *, instrument: str = "", publisher: int = -1, tick_size: int = 0) -> dict:
    """Reads the stream to the end in C++ and summarizes it: instrument, format, time span
    (ns), event counts per kind, snapshot / seed / complete counts and the reader's tolerated
    counters (keys: ``mmkit._core.summarize``). Raises :class:`mmkit.Error` on malformed input."""
    return _core.summarize(_paths(paths), instrument, publisher, tick_size)


def book_csv(paths: Paths, out: PathLike, *, depth: int = 10, every: int = 1, impl: str = "auto",
             instrument: str = "", publisher: int = -1, tick_size: int = 0) -> dict:
    """Replays the stream into a book and writes it after every ``every``-th source record
    (row i belongs to record i when every == 1). Columns: ``exch_ts_ns, seq`` then for each
    level 1..depth ``bid_px_i, bid_qty_i, ask_px_i, ask_qty_i`` in decimal units; blank when
    the level is empty. ``impl``: ``auto`` / ``fast`` / ``naive`` (the reference books).
    Raises :class:`mmkit.Error` when the book rejects an event or is crossed after a complete
    update. Returns the replay summary."""
    return _core.write_book_csv(_paths(paths), os.fspath(out), depth, every, impl, instrument,
                                publisher, tick_size)


def replay(paths: Paths, *, impl: str = "auto", instrument: str = "", publisher: int = -1,
           tick_size: int = 0) -> dict:
    """Replays the stream into a book with the same validation as :func:`book_csv`, without
    output; returns the summary (events, records, complete_points, tolerated, final depths,
    final best bid / ask as decimal strings or None; keys: ``mmkit._core.replay``). Raises
    :class:`mmkit.Error` naming the source record when the book rejects an event or is crossed
    after a complete update."""
    return _core.replay(_paths(paths), impl, instrument, publisher, tick_size)


def read_candles(path: PathLike) -> pd.DataFrame:
    """Reads an OHLCV candle CSV (Bybit, Binance spot kline, Binance USD-M, FTX; recognized by
    header) into a DataFrame indexed by the bar open time (UTC). Columns: open, high, low,
    close (quote currency), volume (unit in ``df.attrs["volume_unit"]``: "base" or "quote"),
    quote_volume (NaN when absent), trades (-1 when absent). ``df.attrs`` also holds format,
    interval_ns and the tolerated counters (gaps). Raises :class:`mmkit.Error`."""
    d = _core.read_candles(os.fspath(path))
    cols = d.pop("columns")
    df = pd.DataFrame({k: v for k, v in cols.items() if k != "open_ts_ns"},
                      index=pd.to_datetime(cols["open_ts_ns"], unit="ns", utc=True))
    df.index.name = "open_time"
    df.attrs.update(d)
    return df


def read_funding(path: PathLike) -> pd.DataFrame:
    """Reads a funding-rate history (Binance CSV or freqtrade JSON) into a DataFrame indexed by
    funding time (UTC) with column ``rate`` (fraction per funding interval). ``df.attrs`` holds
    symbol and format. Raises :class:`mmkit.Error`."""
    d = _core.read_funding(os.fspath(path))
    cols = d.pop("columns")
    df = pd.DataFrame({"rate": cols["rate"]},
                      index=pd.to_datetime(cols["ts_ns"], unit="ns", utc=True))
    df.index.name = "funding_time"
    df.attrs.update(d)
    return df
