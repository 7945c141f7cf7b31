"""mmkit: a market-making engine with a C++20 core.

The public Python API. Every function here runs its per-event work in C++ (``mmkit._core``);
Python only opens files, passes options and receives whole arrays or summaries.

Errors in the input raise :class:`mmkit.Error` (a ``ValueError``) whose message names the
file, the line or byte offset, and what is wrong.
"""
from __future__ import annotations

from mmkit._core import Error, InstrumentSpec, L2Book, L3Book
from mmkit.backtest import Backtest, backtest
from mmkit.data import (
    EVENT_DTYPE,
    EVENT_KINDS,
    SIDES,
    FLAGS,
    book_csv,
    convert,
    data_dir,
    events_frame,
    inspect,
    is_event_file,
    open_source,
    read_candles,
    read_events,
    read_funding,
    replay,
    verify_event_file,
)
from mmkit.strategy import Context, Fill, Order, OrderUpdate, OrderView, Strategy, Trade

__version__ = "0.1.0"

__all__ = [
    "Backtest",
    "backtest",
    "Error",
    "InstrumentSpec",
    "L2Book",
    "L3Book",
    "Strategy",
    "Context",
    "Order",
    "Trade",
    "Fill",
    "OrderUpdate",
    "OrderView",
    "EVENT_DTYPE",
    "EVENT_KINDS",
    "SIDES",
    "FLAGS",
    "book_csv",
    "convert",
    "data_dir",
    "events_frame",
    "inspect",
    "is_event_file",
    "open_source",
    "read_candles",
    "read_events",
    "read_funding",
    "replay",
    "verify_event_file",
]
