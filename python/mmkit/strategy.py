"""Strategies written in Python: the slow path for research.

Subclass :class:`Strategy` and define any of the callbacks of the C++ ``strategy::Strategy``
(``include/mmkit/strategy/strategy.h``); the same C++ engine (latency, queue model, fees, risk
limits, metrics) runs it::

    class Quoter(mmkit.Strategy):
        def __init__(self, half_spread_ticks: int = 2, qty: float = 100):
            super().__init__()                       # required
            self.half, self.qty, self.ids = half_spread_ticks, qty, []

        def on_book_update(self, ctx: mmkit.Context) -> None:
            mid = ctx.mid()
            ...
            ctx.submit("bid", price, self.qty, type="post_only")

    res = mmkit.backtest("GOOG_10.zip", strategy=Quoter(), engine={"seed": 1})

Callbacks (all optional; one that is not defined costs no Python call):

=============================================  ===============================================
``on_start(ctx)``                              once, before the first market event
``on_book_update(ctx)``                        after each complete update of the local book
``on_trade(ctx, trade: Trade)``                each trade print (after the feed latency)
``on_order_update(ctx, update: OrderUpdate)``  every change of one of our orders
``on_fill(ctx, fill: Fill)``                   each fill of ours (after its order update)
``on_timer(ctx)``                              every ``timer_interval_ms`` of local time
``on_end(ctx)``                                after the data ended (orders sent here are void)
``resolved_params() -> dict``                  recorded as the run's strategy params
``summary() -> dict``                          recorded under ``metrics["strategy"]``
=============================================  ===============================================

The :class:`Context` (``mmkit.Context``) is valid only during the callback that received it.
Prices and quantities are decimals unless a name ends in ``_raw``; decimals given to
``submit`` / ``modify`` are converted to the instrument's raw int64 units exactly (a ``str`` or
``Decimal`` digit for digit; a ``float`` when it is within 16 ulp of a multiple of
10^-decimals, else :class:`mmkit.Error`). Order types: ``"gtc"``, ``"post_only"``, ``"ioc"``,
``"fok"``, ``"market"``.

An exception raised in a callback propagates out of ``Backtest.step`` / ``run`` /
:func:`mmkit.backtest` unchanged, with its Python traceback; the run cannot be continued.

Speed: every callback takes the GIL and crosses into Python, so a strategy that handles every
book update runs far slower than the C++ strategies (the measured ratio is in
docs/python_api.md). Use it to explore; port what works to C++.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Union

from mmkit import _core

#: A decimal price or quantity as accepted by ``Context.submit`` / ``modify``.
Number = Union[int, float, str, Decimal]

Context = _core.Context
Trade = _core.Trade
OrderUpdate = _core.OrderUpdate
Fill = _core.Fill
OrderView = _core.OrderView


class Strategy(_core.Strategy):
    """Base class of Python strategies (see the module docstring). Subclasses that define
    ``__init__`` must call ``super().__init__()``; an instance may run in one backtest at a time."""

    def __init__(self) -> None:
        super().__init__()


@dataclass(frozen=True)
class Order:
    """An order request for ``Context.submit(order)``.

    side: ``"bid"``/``"buy"`` or ``"ask"``/``"sell"``; price: decimal (None for ``"market"``);
    qty: decimal, > 0, on the lot grid; type: ``"gtc"``, ``"post_only"``, ``"ioc"``, ``"fok"`` or
    ``"market"``; id: 0 lets the engine assign the next id."""

    side: str
    price: Union[Number, None]
    qty: Number
    type: str = "gtc"
    id: int = 0


def strategy_name(obj: _core.Strategy) -> str:
    """The name recorded in a run's config for a Python strategy: ``python:<module>.<class>``."""
    cls = type(obj)
    return f"python:{cls.__module__}.{cls.__qualname__}"


class FixedSpreadQuoter(Strategy):
    """A fixed-spread quoter written in Python: the example of docs/python_api.md and the
    workload of its slow-path throughput figure (compare the C++ ``spread-quoter`` with
    ``vol_multiplier = 0``).

    On each local book update (at most once per ``min_requote_interval_ms`` unless a fill came
    in), one order per side: bid = floor((mid − half_spread_ticks × tick) / tick) × tick, ask =
    ceil((mid + half_spread_ticks × tick) / tick) × tick, ``qty`` each (decimal), post-only; no bid
    while position >= ``max_position``, no ask while position <= −``max_position``. A quote whose
    price moved is modified in place; all arithmetic is on raw integers.
    """

    def __init__(self, half_spread_ticks: int = 1, qty: Number = 1, max_position: Number = 10,
                 min_requote_interval_ms: float = 100.0, post_only: bool = True) -> None:
        super().__init__()
        if half_spread_ticks < 1:
            raise _core.Error("FixedSpreadQuoter: half_spread_ticks must be >= 1")
        self.half_spread_ticks = int(half_spread_ticks)
        self.qty = qty
        self.max_position = max_position
        self.interval_ns = int(round(min_requote_interval_ms * 1e6))
        self.type = "post_only" if post_only else "gtc"
        self._qty_raw = 0
        self._max_raw = 0
        self._last_ns = -(1 << 62)
        self._filled = False
        self._orders: dict[str, int] = {}    # side -> order id
        self._prices: dict[int, int] = {}    # order id -> raw price
        self._dead: set[int] = set()         # ids that ended before submit_raw returned

    def resolved_params(self) -> dict:
        return {"half_spread_ticks": self.half_spread_ticks, "qty": str(self.qty),
                "max_position": str(self.max_position), "min_requote_interval_ms": self.interval_ns / 1e6,
                "type": self.type}

    def on_start(self, ctx: Context) -> None:
        spec = ctx.instrument
        self._qty_raw = spec.qty_to_raw(self.qty)
        self._max_raw = spec.qty_to_raw(self.max_position)
        if self._qty_raw <= 0 or self._qty_raw % spec.lot_size:
            raise _core.Error(f"FixedSpreadQuoter: qty {self.qty} must be a positive multiple of the lot")

    def on_order_update(self, ctx: Context, update: OrderUpdate) -> None:
        if update.status in ("filled", "canceled", "rejected"):
            oid = update.order_id
            if self._prices.pop(oid, None) is None:
                self._dead.add(oid)                 # terminal inside submit_raw (e.g. a risk reject)
            for side, i in list(self._orders.items()):
                if i == oid:
                    del self._orders[side]

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        self._filled = True

    def on_book_update(self, ctx: Context) -> None:
        now = ctx.now
        if not self._filled and now - self._last_ns < self.interval_ns:
            return
        bid = ctx.best_bid(True)
        ask = ctx.best_ask(True)
        if bid is None or ask is None:
            return
        self._last_ns = now
        self._filled = False
        tick = ctx.instrument.tick_size
        mid2 = bid[0] + ask[0]                      # 2 × mid, raw
        off2 = 2 * self.half_spread_ticks * tick
        want_bid = ((mid2 - off2) // (2 * tick)) * tick
        want_ask = -((-(mid2 + off2)) // (2 * tick)) * tick
        pos = ctx.position_raw
        self._quote(ctx, "bid", want_bid, pos < self._max_raw)
        self._quote(ctx, "ask", want_ask, pos > -self._max_raw)

    def _quote(self, ctx: Context, side: str, price: int, allowed: bool) -> None:
        oid = self._orders.get(side)
        if not allowed:
            if oid is not None:
                ctx.cancel(oid)
            return
        if oid is None:
            oid = ctx.submit_raw(side, price, self._qty_raw, self.type)
            if oid in self._dead:
                self._dead.discard(oid)
            else:
                self._orders[side] = oid
                self._prices[oid] = price
        elif self._prices.get(oid) != price:
            if ctx.modify_raw(oid, price, self._qty_raw):
                self._prices[oid] = price
