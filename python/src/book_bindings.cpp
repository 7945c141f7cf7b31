// nanobind bindings of the order books and the instrument spec: mmkit.L2Book, mmkit.L3Book,
// mmkit.InstrumentSpec. Events are applied in one call per array (the per-event loop runs in
// C++ with the GIL released); queries return decimals (float) or, with raw=True, the
// instrument's int64 raw units. Book semantics: mmkit/book/book.h, l2_book.h, l3_book.h.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "api_common.h"
#include "mmkit/book/l2_book.h"
#include "mmkit/book/l3_book.h"
#include "mmkit/core/event.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace mmkit::python {

namespace {

std::int64_t dict_int_or_decimal(const nb::dict& d, const char* key, int decimals, std::int64_t def) {
  if (!d.contains(key)) return def;
  nb::handle v = d[key];
  if (nb::isinstance<nb::int_>(v)) return nb::cast<std::int64_t>(v);  // raw units
  return decimal_to_raw(v, decimals, key);                              // decimal string
}

}  // namespace

InstrumentSpec spec_from(nb::handle obj) {
  if (nb::isinstance<InstrumentSpec>(obj)) return nb::cast<InstrumentSpec>(obj);
  if (nb::isinstance<nb::dict>(obj)) {
    const nb::dict d = nb::borrow<nb::dict>(obj);
    InstrumentSpec s;
    if (d.contains("symbol")) s.set_symbol(nb::cast<std::string>(d["symbol"]));
    if (d.contains("venue")) s.set_venue(nb::cast<std::string>(d["venue"]));
    if (d.contains("currency")) s.set_currency(nb::cast<std::string>(d["currency"]));
    s.price_decimals = d.contains("price_decimals") ? nb::cast<std::int32_t>(d["price_decimals"]) : 0;
    s.qty_decimals = d.contains("qty_decimals") ? nb::cast<std::int32_t>(d["qty_decimals"]) : 0;
    if (s.price_decimals < 0 || s.price_decimals > 18 || s.qty_decimals < 0 || s.qty_decimals > 18) {
      throw Error("instrument price_decimals and qty_decimals must be in [0, 18]");
    }
    s.tick_size = dict_int_or_decimal(d, "tick_size", s.price_decimals, 1);
    s.lot_size = dict_int_or_decimal(d, "lot_size", s.qty_decimals, 1);
    if (s.tick_size <= 0 || s.lot_size <= 0) throw Error("instrument tick_size and lot_size must be > 0");
    if (d.contains("instrument_id")) s.instrument_id = nb::cast<std::uint32_t>(d["instrument_id"]);
    if (d.contains("contract_multiplier")) s.contract_multiplier = nb::cast<std::uint32_t>(d["contract_multiplier"]);
    return s;
  }
  if (nb::hasattr(obj, "instrument")) return spec_from(obj.attr("instrument"));
  throw Error("expected an mmkit.InstrumentSpec, an instrument dict or an object with .instrument, got " +
              nb::cast<std::string>(nb::str(obj.type().attr("__name__"))));
}

namespace {

/// The events of `arr` as a span: `arr` is a structured array of EVENT_DTYPE (any shape, made
/// C-contiguous first, which copies only when it is not) or an (n, 64) uint8 array as returned by
/// EventSource.read. `keep` holds what the span points into.
std::span<const Event> event_span(nb::handle arr, nb::object& keep, std::vector<Event>& aligned) {
  nb::module_ np = nb::module_::import_("numpy");
  if (!nb::hasattr(arr, "dtype")) {
    throw nb::type_error("events must be a NumPy array of mmkit.EVENT_DTYPE (or (n, 64) uint8)");
  }
  nb::object a = np.attr("ascontiguousarray")(arr);
  nb::object dt = a.attr("dtype");
  if (!dt.attr("names").is_none()) {
    if (nb::cast<std::size_t>(dt.attr("itemsize")) != sizeof(Event)) {
      throw nb::type_error("events: structured dtype must have itemsize 64 (mmkit.EVENT_DTYPE)");
    }
    a = a.attr("reshape")(-1).attr("view")(np.attr("uint8")).attr("reshape")(-1, 64);
  }
  auto v = nb::cast<nb::ndarray<const std::uint8_t, nb::ndim<2>, nb::c_contig, nb::device::cpu>>(a);
  if (v.shape(1) != sizeof(Event)) throw nb::type_error("events: a uint8 array must have shape (n, 64)");
  keep = a;
  const std::size_t n = v.shape(0);
  if (reinterpret_cast<std::uintptr_t>(v.data()) % alignof(Event) != 0) {
    aligned.resize(n);
    if (n) std::memcpy(aligned.data(), v.data(), n * sizeof(Event));
    return {aligned.data(), n};
  }
  return {reinterpret_cast<const Event*>(v.data()), n};
}

template <class T>
nb::ndarray<nb::numpy, T, nb::ndim<2>> owned_2d(std::vector<T>&& v, std::size_t rows) {
  auto* owned = new std::vector<T>(std::move(v));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  const std::size_t shape[2] = {rows, 2};
  return nb::ndarray<nb::numpy, T, nb::ndim<2>>(owned->data(), 2, shape, owner);
}

/// A book plus the instrument that gives its raw units a meaning.
template <class Book>
struct PyBook {
  Book book;
  InstrumentSpec spec;
  std::uint64_t applied = 0;
  std::uint64_t rejected = 0;

  std::uint64_t apply(nb::handle events, bool strict) {
    nb::object keep;
    std::vector<Event> aligned;
    const std::span<const Event> ev = event_span(events, keep, aligned);
    std::uint64_t bad = 0;
    std::size_t fail_at = ev.size();
    Errc fail_code = Errc::kOk;
    {
      nb::gil_scoped_release release;
      for (std::size_t i = 0; i < ev.size(); ++i) {
        const Errc e = book.apply(ev[i]);
        if (e != Errc::kOk) {
          if (strict) {
            fail_at = i;
            fail_code = e;
            break;
          }
          ++bad;
        }
      }
    }
    if (fail_at < ev.size()) {
      applied += fail_at;
      const Event& e = ev[fail_at];
      throw Error("book rejected event " + std::to_string(fail_at) + " of the array (record " +
                  std::to_string(e.record) + ", kind " + to_string(e.kind) + ", side " + to_string(e.side) +
                  ", price " + std::to_string(e.price) + ", qty " + std::to_string(e.qty) + ", order_id " +
                  std::to_string(e.order_id) + "): " + to_string(fail_code) + "; events before it were applied");
    }
    applied += ev.size() - bad;
    rejected += bad;
    return bad;
  }

  nb::tuple snapshot(std::size_t depth, bool raw) const {
    nb::object sides[2];
    for (int k = 0; k < 2; ++k) {
      const Side s = k == 0 ? Side::kBid : Side::kAsk;
      const std::size_t n = std::min(depth, book.depth(s));
      if (raw) {
        std::vector<std::int64_t> out(2 * n);
        for (std::size_t i = 0; i < n; ++i) {
          const book::Level l = book.level(s, i);
          out[2 * i] = l.price;
          out[2 * i + 1] = l.qty;
        }
        sides[k] = nb::cast(owned_2d(std::move(out), n));
      } else {
        std::vector<double> out(2 * n);
        for (std::size_t i = 0; i < n; ++i) {
          const book::Level l = book.level(s, i);
          out[2 * i] = raw_to_decimal(l.price, spec.price_decimals);
          out[2 * i + 1] = raw_to_decimal(l.qty, spec.qty_decimals);
        }
        sides[k] = nb::cast(owned_2d(std::move(out), n));
      }
    }
    return nb::make_tuple(sides[0], sides[1]);
  }

  double mid() const {
    const book::Level b = book.best(Side::kBid);
    const book::Level a = book.best(Side::kAsk);
    if (b.price == kNoPrice || a.price == kNoPrice) return std::nan("");
    return 0.5 * (static_cast<double>(b.price) + static_cast<double>(a.price)) /
           static_cast<double>(pow10(spec.price_decimals));
  }
};

using PyL2 = PyBook<book::L2Book>;
using PyL3 = PyBook<book::L3Book>;

template <class B>
void bind_common(nb::class_<B>& c) {
  c.def("apply", &B::apply, "events"_a, "strict"_a = true,
        nb::sig("def apply(self, events: numpy.ndarray, strict: bool = True) -> int"),
        "Applies every event of `events` in order (one call; the loop runs in C++ with the GIL\n"
        "released).\n\n"
        "events: a NumPy structured array of mmkit.EVENT_DTYPE (any shape; made C-contiguous first,\n"
        "copied only if it is not) or an (n, 64) uint8 array as returned by EventSource.read.\n"
        "strict: when True, the first event the book rejects (a non-OK mmkit Errc, e.g. an L3 event\n"
        "on an L2 book, a cancel of an unknown order) raises mmkit.Error naming its index, record,\n"
        "kind and the error; the events before it stay applied. When False, rejected events leave\n"
        "the book unchanged and are counted.\n"
        "Returns the number of events rejected by this call (0 when strict).")
      .def("clear", [](B& b) { b.book.clear(); }, "Empties the book.")
      .def(
          "best_bid", [](const B& b, bool raw) { return level_tuple(b.book.best(Side::kBid), b.spec, raw); },
          "raw"_a = false, nb::sig("def best_bid(self, raw: bool = False) -> tuple[float, float] | tuple[int, int] | None"),
          "Best bid as (price, qty): decimals (float), or raw int64 units when raw=True; None if no bid.")
      .def(
          "best_ask", [](const B& b, bool raw) { return level_tuple(b.book.best(Side::kAsk), b.spec, raw); },
          "raw"_a = false, nb::sig("def best_ask(self, raw: bool = False) -> tuple[float, float] | tuple[int, int] | None"),
          "Best ask as (price, qty): decimals (float), or raw int64 units when raw=True; None if no ask.")
      .def(
          "level",
          [](const B& b, const std::string& side, std::size_t i, bool raw) {
            return level_tuple(b.book.level(parse_side(side), i), b.spec, raw);
          },
          "side"_a, "i"_a, "raw"_a = false,
          nb::sig("def level(self, side: str, i: int, raw: bool = False) -> tuple[float, float] | tuple[int, int] | None"),
          "The i-th level from the best (0-based) of side 'bid' or 'ask' as (price, qty); None past\n"
          "the last level. Raises mmkit.Error for another side name.")
      .def(
          "depth", [](const B& b, const std::string& side) { return b.book.depth(parse_side(side)); }, "side"_a,
          "Number of non-empty levels on side 'bid' or 'ask'.")
      .def("mid", &B::mid, "(best bid + best ask) / 2 as a decimal price; NaN if a side is empty.")
      .def_prop_ro("crossed", [](const B& b) { return b.book.crossed(); }, "Best bid >= best ask, both present.")
      .def("snapshot", &B::snapshot, "depth"_a = 10, "raw"_a = false,
           nb::sig("def snapshot(self, depth: int = 10, raw: bool = False) -> tuple[numpy.ndarray, numpy.ndarray]"),
           "The top `depth` levels as (bids, asks), each an array of shape (k, 2), k = min(depth,\n"
           "levels on that side), best level first, columns [price, qty]: float64 decimals, or int64\n"
           "raw units when raw=True. One copy out of the book (its chunked layout is not contiguous);\n"
           "the arrays own that copy.")
      .def_prop_ro("instrument", [](const B& b) { return b.spec; }, "The InstrumentSpec (read-only copy).")
      .def_ro("applied", &B::applied, "Events applied without error since construction.")
      .def_ro("rejected", &B::rejected, "Events rejected (strict=False) since construction.")
      .def_prop_ro(
          "anonymous_reductions", [](const B& b) { return b.book.stats().anonymous_reductions; },
          "Cancels / executions of unknown order ids taken from anonymous volume (L3; 0 on L2).");
}

}  // namespace

void bind_books(nb::module_& m) {
  nb::class_<InstrumentSpec>(m, "InstrumentSpec",
                             "Instrument scales (read-only): decimal price = raw × 10^-price_decimals,\n"
                             "decimal qty = raw × 10^-qty_decimals; tick_size and lot_size in raw units.")
      .def(
          "__init__",
          [](InstrumentSpec* self, const std::string& symbol, std::int32_t price_decimals, std::int32_t qty_decimals,
             nb::handle tick_size, nb::handle lot_size, const std::string& venue, const std::string& currency,
             std::uint32_t instrument_id, std::uint32_t contract_multiplier) {
            nb::dict d;
            d["symbol"] = symbol;
            d["venue"] = venue;
            d["currency"] = currency;
            d["price_decimals"] = price_decimals;
            d["qty_decimals"] = qty_decimals;
            d["tick_size"] = tick_size;
            d["lot_size"] = lot_size;
            d["instrument_id"] = instrument_id;
            d["contract_multiplier"] = contract_multiplier;
            new (self) InstrumentSpec(spec_from(d));
          },
          "symbol"_a = "", "price_decimals"_a = 0, "qty_decimals"_a = 0, "tick_size"_a = 1, "lot_size"_a = 1,
          "venue"_a = "", "currency"_a = "", "instrument_id"_a = 0, "contract_multiplier"_a = 0,
          nb::sig("def __init__(self, symbol: str = '', price_decimals: int = 0, qty_decimals: int = 0, "
                  "tick_size: int | str = 1, lot_size: int | str = 1, venue: str = '', currency: str = '', "
                  "instrument_id: int = 0, contract_multiplier: int = 0) -> None"),
          "tick_size / lot_size: int = raw units, str = decimal (e.g. '0.01'). Raises mmkit.Error\n"
          "for decimals outside [0, 18] or a non-positive tick or lot.")
      .def_static("from_dict", [](nb::handle d) { return spec_from(d); }, "instrument"_a,
                  nb::sig("def from_dict(instrument: dict | InstrumentSpec | object) -> InstrumentSpec"),
                  "From an instrument dict (mmkit.open_source(...).instrument, Backtest.instrument), an\n"
                  "InstrumentSpec, or an object with an .instrument attribute.")
      .def_prop_ro("symbol", &InstrumentSpec::symbol_str, "Venue symbol.")
      .def_prop_ro("venue", &InstrumentSpec::venue_str, "Venue name.")
      .def_prop_ro("currency", &InstrumentSpec::currency_str, "Quote currency.")
      .def_ro("price_decimals", &InstrumentSpec::price_decimals, "decimal price = raw × 10^-price_decimals.")
      .def_ro("qty_decimals", &InstrumentSpec::qty_decimals, "decimal qty = raw × 10^-qty_decimals.")
      .def_ro("tick_size", &InstrumentSpec::tick_size, "Raw price units.")
      .def_ro("lot_size", &InstrumentSpec::lot_size, "Raw qty units.")
      .def_ro("instrument_id", &InstrumentSpec::instrument_id, "Venue numeric id (Databento); 0 if none.")
      .def_ro("contract_multiplier", &InstrumentSpec::contract_multiplier, "0 means 1.")
      .def_prop_ro("tick", [](const InstrumentSpec& s) { return raw_to_decimal(s.tick_size, s.price_decimals); },
                   "Tick size as a decimal price.")
      .def_prop_ro("lot", [](const InstrumentSpec& s) { return raw_to_decimal(s.lot_size, s.qty_decimals); },
                   "Lot size as a decimal quantity.")
      .def(
          "price_to_raw", [](const InstrumentSpec& s, nb::handle v) { return decimal_to_raw(v, s.price_decimals, "price"); },
          "price"_a, nb::sig("def price_to_raw(self, price: int | float | str) -> int"), "Decimal price (int, float, str, Decimal) -> raw int64, exactly (see docs/python_api.md).")
      .def(
          "qty_to_raw", [](const InstrumentSpec& s, nb::handle v) { return decimal_to_raw(v, s.qty_decimals, "qty"); },
          "qty"_a, nb::sig("def qty_to_raw(self, qty: int | float | str) -> int"), "Decimal quantity -> raw int64, exactly.")
      .def(
          "price_from_raw", [](const InstrumentSpec& s, std::int64_t r) { return raw_to_decimal(r, s.price_decimals); },
          "price_raw"_a, "Raw price -> nearest float.")
      .def(
          "qty_from_raw", [](const InstrumentSpec& s, std::int64_t r) { return raw_to_decimal(r, s.qty_decimals); },
          "qty_raw"_a, "Raw quantity -> nearest float.")
      .def("__repr__", [](const InstrumentSpec& s) {
        return "InstrumentSpec(symbol='" + s.symbol_str() + "', price_decimals=" + std::to_string(s.price_decimals) +
               ", qty_decimals=" + std::to_string(s.qty_decimals) + ", tick_size=" + std::to_string(s.tick_size) +
               ", lot_size=" + std::to_string(s.lot_size) + ")";
      });

  nb::class_<PyL2> l2(m, "L2Book",
                      "Price-level book (mmkit/book/l2_book.h): applies kLevelUpdate and kClear events;\n"
                      "informational kinds are ignored; L3 kinds are rejected (Errc unsupported).");
  l2.def(
      "__init__",
      [](PyL2* self, nb::handle instrument, std::size_t levels_per_side) {
        new (self) PyL2{book::L2Book(levels_per_side), spec_from(instrument)};
      },
      "instrument"_a, "levels_per_side"_a = 1024,
      nb::sig("def __init__(self, instrument: InstrumentSpec | dict | object, levels_per_side: int = 1024) -> None"),
      "instrument: an InstrumentSpec, an instrument dict, or a source (anything with .instrument).\n"
      "levels_per_side: capacity reserved up front (the book grows beyond it).");
  bind_common(l2);

  nb::class_<PyL3> l3(m, "L3Book",
                      "Order-by-order book, FIFO per level (mmkit/book/l3_book.h): kAdd, kCancel, kModify,\n"
                      "kExecution, kLevelUpdate (anonymous volume), kClear.");
  l3.def(
      "__init__",
      [](PyL3* self, nb::handle instrument, std::size_t expected_orders) {
        new (self) PyL3{book::L3Book(expected_orders), spec_from(instrument)};
      },
      "instrument"_a, "expected_orders"_a = 1024,
      nb::sig("def __init__(self, instrument: InstrumentSpec | dict | object, expected_orders: int = 1024) -> None"),
      "instrument: an InstrumentSpec, an instrument dict, or a source (anything with .instrument).\n"
      "expected_orders: resting orders to reserve room for.");
  bind_common(l3);
  l3.def_prop_ro("order_count", [](const PyL3& b) { return b.book.order_count(); }, "Known resting orders.")
      .def("contains", [](const PyL3& b, OrderId id) { return b.book.contains(id); }, "order_id"_a,
           "True if the venue order id rests in the book.")
      .def(
          "order",
          [](const PyL3& b, OrderId id, bool raw) -> nb::object {
            const auto o = b.book.order(id);
            if (!o) return nb::none();
            if (raw) return nb::make_tuple(side_name(o->side), o->price, o->qty);
            return nb::make_tuple(side_name(o->side), raw_to_decimal(o->price, b.spec.price_decimals),
                                  raw_to_decimal(o->qty, b.spec.qty_decimals));
          },
          "order_id"_a, "raw"_a = false,
          nb::sig("def order(self, order_id: int, raw: bool = False) -> tuple[str, float, float] | tuple[str, int, int] | None"),
          "(side, price, remaining qty) of a resting order; None if unknown.")
      .def(
          "queue_ahead",
          [](const PyL3& b, OrderId id, bool raw) -> nb::object {
            const Qty q = b.book.queue_ahead(id);
            if (q < 0) return nb::none();
            if (raw) return nb::int_(q);
            return nb::float_(raw_to_decimal(q, b.spec.qty_decimals));
          },
          "order_id"_a, "raw"_a = false,
          nb::sig("def queue_ahead(self, order_id: int, raw: bool = False) -> float | int | None"),
          "Volume ahead of the order at its level (anonymous volume included); None if unknown.");
}

}  // namespace mmkit::python
