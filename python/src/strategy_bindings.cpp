// nanobind bindings of the strategy API for strategies written in Python (the slow path):
// mmkit._core.Strategy is strategy::Strategy with a nanobind trampoline, so a Python subclass
// runs inside the same C++ engine as the shipped strategies. Each callback the subclass defines
// is called with a Context (mmkit._core.Context) that wraps strategy::Context for the duration of
// the callback; callbacks it does not define cost no Python call. The engine runs with the GIL
// released (Backtest.step); every callback takes it. An exception raised in a callback
// propagates out of step()/run() as the original Python exception with its traceback (the run
// cannot be continued after that).
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <nanobind/trampoline.h>

#include <cstdint>

#include <cmath>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "api_common.h"
#include "mmkit/exchange/order.h"
#include "mmkit/strategy/strategy.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace mmkit::python {
namespace {

using exchange::OrderType;
using exchange::TimeInForce;

/// "gtc" | "post_only" | "ioc" | "fok" -> limit order with that time in force; "market" -> market.
void parse_order_type(std::string_view t, OrderType& type, TimeInForce& tif) {
  type = OrderType::kLimit;
  if (t == "gtc") tif = TimeInForce::kGtc;
  else if (t == "post_only") tif = TimeInForce::kPostOnly;
  else if (t == "ioc") tif = TimeInForce::kIoc;
  else if (t == "fok") tif = TimeInForce::kFok;
  else if (t == "market") {
    type = OrderType::kMarket;
    tif = TimeInForce::kIoc;
  } else {
    throw Error("order type must be 'gtc', 'post_only', 'ioc', 'fok' or 'market', got '" + std::string(t) + "'");
  }
}

const char* order_type_name(OrderType type, TimeInForce tif) noexcept {
  if (type == OrderType::kMarket) return "market";
  switch (tif) {
    case TimeInForce::kGtc: return "gtc";
    case TimeInForce::kPostOnly: return "post_only";
    case TimeInForce::kIoc: return "ioc";
    case TimeInForce::kFok: return "fok";
  }
  return "gtc";
}

/// Decimal scales carried by the value objects handed to Python.
struct Scales {
  std::int32_t pd = 0;  ///< price_decimals
  std::int32_t qd = 0;  ///< qty_decimals
  double px(Price p) const { return p == kNoPrice ? std::nan("") : raw_to_decimal(p, pd); }
  double qty(Qty q) const { return raw_to_decimal(q, qd); }
};

struct PyTrade {
  strategy::TradeView v;
  Scales s;
};
struct PyOrderUpdate {
  exchange::OrderUpdate u;
  Scales s;
};
struct PyFill {
  exchange::Fill f;
  InstrumentSpec spec;
};
struct PyOrderView {
  exchange::OrderView v;
  Scales s;
};

/// The Python view of strategy::Context: valid only while the engine is inside a callback
/// (`ctx` is null otherwise and every method raises RuntimeError).
struct PyContext {
  strategy::Context* ctx = nullptr;

  strategy::Context& c() const {
    if (ctx == nullptr) throw nb::type_error("mmkit.Context used outside a strategy callback");
    return *ctx;
  }
  Scales scales() const {
    const InstrumentSpec& s = c().instrument();
    return {s.price_decimals, s.qty_decimals};
  }
  exchange::ClientOrderId submit_raw(Side side, Price price, Qty qty, std::string_view type, exchange::ClientOrderId id) {
    exchange::OrderRequest r;
    r.id = id;
    r.side = side;
    r.price = price;
    r.qty = qty;
    parse_order_type(type, r.type, r.tif);
    if (r.type == OrderType::kMarket) r.price = kNoPrice;
    return c().submit(r);
  }
  exchange::ClientOrderId submit(const std::string& side, nb::handle price, nb::handle qty, const std::string& type,
                                 exchange::ClientOrderId id) {
    const InstrumentSpec& s = c().instrument();
    const Price p = price.is_none() ? kNoPrice : decimal_to_raw(price, s.price_decimals, "price");
    if (p == kNoPrice && type != "market") throw Error("price is required for a " + type + " order");
    return submit_raw(parse_side(side), p, decimal_to_raw(qty, s.qty_decimals, "qty"), type, id);
  }
};

/// Names of the callbacks, in the order of PyStrategy::methods.
constexpr const char* kCallbackNames[] = {"on_start", "on_book_update", "on_trade", "on_order_update",
                                          "on_fill", "on_timer", "on_end"};
enum Callback : int { kOnStart, kOnBookUpdate, kOnTrade, kOnOrderUpdate, kOnFill, kOnTimer, kOnEnd, kCallbackCount };

/// strategy::Strategy as seen from Python. The trampoline below overrides every callback.
class PyStrategy : public strategy::Strategy {
 public:
  /// The Context object handed to Python callbacks (created on first use, then reused).
  nb::object ctx_obj;
  PyContext* pyctx = nullptr;
  /// The subclass's function for each callback (looked up on its type when the strategy is
  /// adopted by a backtest); invalid where the subclass does not override it. Functions, not
  /// bound methods, so the instance does not reference itself.
  nb::object methods[kCallbackCount];

  /// Looks the overrides up on type(self) (a method is overridden when it differs from the
  /// base class's binding).
  void resolve_overrides(nb::handle self) {
    nb::handle base = nb::type<PyStrategy>();
    nb::handle tp = self.type();
    for (int i = 0; i < kCallbackCount; ++i) {
      nb::object f = nb::getattr(tp, kCallbackNames[i]);
      methods[i] = f.is(nb::getattr(base, kCallbackNames[i])) ? nb::object() : f;
    }
  }

  PyContext& context() {
    if (!ctx_obj.is_valid()) {
      ctx_obj = nb::cast(PyContext{});
      pyctx = nb::inst_ptr<PyContext>(ctx_obj);
    }
    return *pyctx;
  }
};

/// Binds the Context to `c` for one callback; restores what was bound before (the engine may
/// call a callback from inside another, e.g. the update of a risk-rejected submit) on return or
/// on an exception.
struct ContextScope {
  PyContext& p;
  strategy::Context* prev;
  ContextScope(PyContext& pc, strategy::Context& c) : p(pc), prev(pc.ctx) { p.ctx = &c; }
  ~ContextScope() { p.ctx = prev; }
  ContextScope(const ContextScope&) = delete;
  ContextScope& operator=(const ContextScope&) = delete;
};

strategy::Params params_from(nb::handle obj, const char* what) {
  strategy::Params p;
  if (obj.is_none()) return p;
  if (!nb::isinstance<nb::dict>(obj)) throw Error(std::string("Strategy.") + what + "() must return a dict");
  for (auto [k, v] : nb::borrow<nb::dict>(obj)) {
    const std::string key = nb::cast<std::string>(nb::str(k));
    if (nb::isinstance<nb::bool_>(v)) p[key] = nb::cast<bool>(v);
    else if (nb::isinstance<nb::int_>(v)) p[key] = nb::cast<std::int64_t>(v);
    else if (nb::isinstance<nb::float_>(v)) p[key] = nb::cast<double>(v);
    else p[key] = nb::cast<std::string>(nb::str(v));
  }
  return p;
}

// The override of callback ID: with the GIL taken and the Context bound, calls the subclass's
// function (self, context, extra args...) when it defines one; otherwise nothing. The dispatch
// uses the functions resolved at adoption rather than NB_OVERRIDE's per-call lookup, which would
// also deliver a callback nested in the same callback (a synchronous update from submit inside
// on_order_update) to the C++ base (a no-op) as if it were a super() call.
#define MMKIT_PY_CALLBACK(ID, CTX, ...)                                                   \
  if (!methods[ID].is_valid()) return;                                                    \
  nb::gil_scoped_acquire nb_gil;                                                          \
  ContextScope nb_scope(context(), CTX);                                           \
  methods[ID](nb_trampoline.base(), ctx_obj __VA_OPT__(, ) __VA_ARGS__)

class PyStrategyTrampoline final : public PyStrategy {
 public:
  NB_TRAMPOLINE(PyStrategy);

  void on_start(strategy::Context& c) override { MMKIT_PY_CALLBACK(kOnStart, c); }
  void on_book_update(strategy::Context& c) override { MMKIT_PY_CALLBACK(kOnBookUpdate, c); }
  void on_trade(strategy::Context& c, const strategy::TradeView& t) override {
    MMKIT_PY_CALLBACK(kOnTrade, c, PyTrade{t, scales(c)});
  }
  void on_order_update(strategy::Context& c, const exchange::OrderUpdate& u) override {
    MMKIT_PY_CALLBACK(kOnOrderUpdate, c, PyOrderUpdate{u, scales(c)});
  }
  void on_fill(strategy::Context& c, const exchange::Fill& f) override {
    MMKIT_PY_CALLBACK(kOnFill, c, PyFill{f, c.instrument()});
  }
  void on_timer(strategy::Context& c) override { MMKIT_PY_CALLBACK(kOnTimer, c); }
  void on_end(strategy::Context& c) override { MMKIT_PY_CALLBACK(kOnEnd, c); }

  [[nodiscard]] strategy::Params resolved_params() const override { return call_params("resolved_params"); }
  [[nodiscard]] strategy::Params summary() const override { return call_params("summary"); }

 private:
  static Scales scales(const strategy::Context& c) {
    return {c.instrument().price_decimals, c.instrument().qty_decimals};
  }
  strategy::Params call_params(const char* name) const {
    nb::gil_scoped_acquire gil;
    nb::handle self = nb_trampoline.base();
    nb::object fn = nb::getattr(self, name, nb::none());
    if (fn.is_none()) return {};
    return params_from(fn(), name);
  }
};

/// What the engine owns: forwards to the Python object's C++ part and keeps the object alive.
class AdoptedStrategy final : public strategy::Strategy {
 public:
  AdoptedStrategy(nb::object owner, PyStrategy* s) : owner_(std::move(owner)), s_(s) {}
  ~AdoptedStrategy() override {
    nb::gil_scoped_acquire gil;
    owner_.reset();
  }
  void on_start(strategy::Context& c) override { s_->on_start(c); }
  void on_book_update(strategy::Context& c) override { s_->on_book_update(c); }
  void on_trade(strategy::Context& c, const strategy::TradeView& t) override { s_->on_trade(c, t); }
  void on_order_update(strategy::Context& c, const exchange::OrderUpdate& u) override { s_->on_order_update(c, u); }
  void on_fill(strategy::Context& c, const exchange::Fill& f) override { s_->on_fill(c, f); }
  void on_timer(strategy::Context& c) override { s_->on_timer(c); }
  void on_end(strategy::Context& c) override { s_->on_end(c); }
  [[nodiscard]] strategy::Params resolved_params() const override { return s_->resolved_params(); }
  [[nodiscard]] strategy::Params summary() const override { return s_->summary(); }

 private:
  nb::object owner_;
  PyStrategy* s_;
};

/// See make_book_view (api_common.h).
struct PyBookView {
  const strategy::BookView* v = nullptr;
  InstrumentSpec spec;
  nb::object owner;
};

nb::object funding_dict(const strategy::FundingInfo& f) {
  if (!f.available) return nb::none();
  nb::dict d;
  d["rate"] = f.rate;
  d["next_funding_ts"] = f.next_funding_ts == kNoTimestamp ? nb::object(nb::none()) : nb::int_(f.next_funding_ts);
  d["interval_ns"] = f.interval_ns;
  return d;
}

}  // namespace

nb::object make_book_view(const strategy::BookView& view, const InstrumentSpec& spec, nb::handle owner) {
  return nb::cast(PyBookView{&view, spec, nb::borrow(owner)});
}

std::unique_ptr<strategy::Strategy> adopt_python_strategy(nb::handle obj) {
  if (!nb::isinstance<PyStrategy>(obj)) {
    throw nb::type_error("strategy must be a str (a shipped strategy) or an mmkit.Strategy instance");
  }
  if (!nb::inst_ready(obj)) throw nb::type_error("mmkit.Strategy subclass did not call super().__init__()");
  PyStrategy* s = nb::inst_ptr<PyStrategy>(obj);
  s->resolve_overrides(obj);
  return std::make_unique<AdoptedStrategy>(nb::borrow(obj), s);
}

void bind_strategy(nb::module_& m) {
  nb::class_<PyTrade>(m, "Trade", "A trade print as the strategy sees it (after the feed latency).")
      .def_prop_ro("exch_ts_ns", [](const PyTrade& t) { return t.v.exch_ts_ns; }, "Exchange time, ns since epoch.")
      .def_prop_ro("local_ts_ns", [](const PyTrade& t) { return t.v.local_ts_ns; }, "Local time, ns since epoch.")
      .def_prop_ro("price", [](const PyTrade& t) { return t.s.px(t.v.price); }, "Decimal price.")
      .def_prop_ro("qty", [](const PyTrade& t) { return t.s.qty(t.v.qty); }, "Decimal quantity.")
      .def_prop_ro("price_raw", [](const PyTrade& t) { return t.v.price; }, "Raw int64 price units.")
      .def_prop_ro("qty_raw", [](const PyTrade& t) { return t.v.qty; }, "Raw int64 qty units.")
      .def_prop_ro("side", [](const PyTrade& t) { return side_name(t.v.side); }, "Aggressor: 'bid' (buyer) or 'ask'.");

  nb::class_<PyOrderUpdate>(m, "OrderUpdate", "A change of one of our orders (fills included).")
      .def_prop_ro("exch_ts_ns", [](const PyOrderUpdate& u) { return u.u.exch_ts_ns; }, "Exchange time, ns since epoch.")
      .def_prop_ro("local_ts_ns", [](const PyOrderUpdate& u) { return u.u.local_ts_ns; }, "Local time, ns since epoch.")
      .def_prop_ro("order_id", [](const PyOrderUpdate& u) { return u.u.order_id; }, "Client order id (> 0).")
      .def_prop_ro("kind", [](const PyOrderUpdate& u) { return exchange::to_string(u.u.kind); },
                   "submitted, accepted, filled, canceled, rejected, modified, cancel_sent, modify_sent.")
      .def_prop_ro("status", [](const PyOrderUpdate& u) { return exchange::to_string(u.u.status); }, "pending_new, open, filled, canceled or rejected.")
      .def_prop_ro("reason", [](const PyOrderUpdate& u) { return exchange::to_string(u.u.reason); },
                   "Reject reason ('none' unless rejected).")
      .def_prop_ro("side", [](const PyOrderUpdate& u) { return side_name(u.u.side); }, "'bid' or 'ask'.")
      .def_prop_ro("price", [](const PyOrderUpdate& u) { return u.s.px(u.u.price); }, "Decimal; NaN for market.")
      .def_prop_ro("qty", [](const PyOrderUpdate& u) { return u.s.qty(u.u.qty); }, "Decimal total size.")
      .def_prop_ro("leaves", [](const PyOrderUpdate& u) { return u.s.qty(u.u.leaves); }, "Open decimal quantity.")
      .def_prop_ro("filled", [](const PyOrderUpdate& u) { return u.s.qty(u.u.filled); }, "Filled decimal quantity.");

  nb::class_<PyFill>(m, "Fill", "One execution of our order.")
      .def_prop_ro("exch_ts_ns", [](const PyFill& f) { return f.f.exch_ts_ns; }, "Exchange time, ns since epoch.")
      .def_prop_ro("local_ts_ns", [](const PyFill& f) { return f.f.local_ts_ns; }, "Local time, ns since epoch.")
      .def_prop_ro("order_id", [](const PyFill& f) { return f.f.order_id; }, "Client order id (> 0).")
      .def_prop_ro("side", [](const PyFill& f) { return side_name(f.f.side); }, "Our side.")
      .def_prop_ro("price", [](const PyFill& f) { return raw_to_decimal(f.f.price, f.spec.price_decimals); }, "Decimal price.")
      .def_prop_ro("qty", [](const PyFill& f) { return raw_to_decimal(f.f.qty, f.spec.qty_decimals); }, "Decimal quantity.")
      .def_prop_ro("price_raw", [](const PyFill& f) { return f.f.price; }, "Raw int64 price units.")
      .def_prop_ro("qty_raw", [](const PyFill& f) { return f.f.qty; }, "Raw int64 qty units.")
      .def_prop_ro("fee", [](const PyFill& f) { return exchange::money_to_double(f.f.fee, f.spec); },
                   "Quote currency; > 0 paid, < 0 rebate.")
      .def_prop_ro("maker", [](const PyFill& f) { return f.f.maker; }, "True for a passive (maker) fill.");

  nb::class_<PyOrderView>(m, "OrderView", "One of our open orders as last known locally.")
      .def_prop_ro("id", [](const PyOrderView& o) { return o.v.id; }, "Client order id (> 0).")
      .def_prop_ro("side", [](const PyOrderView& o) { return side_name(o.v.side); }, "'bid' or 'ask'.")
      .def_prop_ro("price", [](const PyOrderView& o) { return o.s.px(o.v.price); }, "Decimal price.")
      .def_prop_ro("qty", [](const PyOrderView& o) { return o.s.qty(o.v.qty); }, "Decimal quantity.")
      .def_prop_ro("leaves", [](const PyOrderView& o) { return o.s.qty(o.v.leaves); }, "Open decimal quantity.")
      .def_prop_ro("filled", [](const PyOrderView& o) { return o.s.qty(o.v.filled); }, "Filled decimal quantity.")
      .def_prop_ro("price_raw", [](const PyOrderView& o) { return o.v.price; }, "Raw int64 price units.")
      .def_prop_ro("qty_raw", [](const PyOrderView& o) { return o.v.qty; }, "Raw int64 qty units.")
      .def_prop_ro("leaves_raw", [](const PyOrderView& o) { return o.v.leaves; }, "Raw int64 qty units.")
      .def_prop_ro("type", [](const PyOrderView& o) { return order_type_name(o.v.type, o.v.tif); }, "gtc, post_only, ioc, fok or market.")
      .def_prop_ro("status", [](const PyOrderView& o) { return exchange::to_string(o.v.status); }, "pending_new, open, filled, canceled or rejected.")
      .def_prop_ro("cancel_pending", [](const PyOrderView& o) { return o.v.cancel_pending; }, "A cancel is in flight.")
      .def_prop_ro("modify_pending", [](const PyOrderView& o) { return o.v.modify_pending; }, "A modify is in flight.")
      .def_prop_ro("queue_ahead", [](const PyOrderView& o) -> nb::object {
        if (o.v.queue_ahead < 0) return nb::none();
        return nb::float_(o.s.qty(o.v.queue_ahead));
      }, nb::sig("def queue_ahead(self) -> float | None"), "Exchange-side queue ahead estimate (decimal qty); None if not resting.")
      .def("__repr__", [](const PyOrderView& o) {
        return "OrderView(id=" + std::to_string(o.v.id) + ", side='" + side_name(o.v.side) + "', price_raw=" +
               std::to_string(o.v.price) + ", leaves_raw=" + std::to_string(o.v.leaves) + ", status='" +
               exchange::to_string(o.v.status) + "')";
      });

  nb::class_<PyBookView>(m, "BookView",
                         "Read-only view of a backtest's local book (what the strategy sees, after the feed\n"
                         "latency), live: it follows the run as it is stepped.")
      .def("best_bid", [](const PyBookView& b, bool raw) { return level_tuple(b.v->best(Side::kBid), b.spec, raw); },
           "raw"_a = false, nb::sig("def best_bid(self, raw: bool = False) -> tuple[float, float] | tuple[int, int] | None"),
           "Best bid (price, qty); raw int64 units when raw=True; None if empty.")
      .def("best_ask", [](const PyBookView& b, bool raw) { return level_tuple(b.v->best(Side::kAsk), b.spec, raw); },
           "raw"_a = false, nb::sig("def best_ask(self, raw: bool = False) -> tuple[float, float] | tuple[int, int] | None"),
           "Best ask (price, qty); raw int64 units when raw=True; None if empty.")
      .def("level", [](const PyBookView& b, const std::string& side, std::size_t i, bool raw) {
        return level_tuple(b.v->level(parse_side(side), i), b.spec, raw);
      }, "side"_a, "i"_a, "raw"_a = false,
         nb::sig("def level(self, side: str, i: int, raw: bool = False) -> tuple[float, float] | tuple[int, int] | None"),
         "i-th level (0 = best) of side 'bid' or 'ask'; None past the last.")
      .def("depth", [](const PyBookView& b, const std::string& side) { return b.v->depth(parse_side(side)); }, "side"_a,
           "Number of levels on side 'bid' or 'ask'.")
      .def("mid", [](const PyBookView& b) { return mid_decimal(b.v->mid(), b.spec); },
           "Decimal mid; NaN if a side is empty.");

  nb::class_<PyContext>(
      m, "Context",
      "What the engine offers a Python strategy inside a callback (strategy::Context): local time,\n"
      "the local book (after feed latency), position, cash, open orders, and order entry. Valid only\n"
      "during the callback that received it. Prices / quantities are decimals unless named *_raw.")
      .def_prop_ro("now", [](const PyContext& p) { return p.c().now(); }, "Local time, ns since the Unix epoch.")
      .def_prop_ro("instrument", [](const PyContext& p) { return p.c().instrument(); }, "The InstrumentSpec.")
      .def_prop_ro("position", [](const PyContext& p) {
        return raw_to_decimal(p.c().position(), p.c().instrument().qty_decimals);
      }, "Decimal position (+ long, - short) from the fills received so far.")
      .def_prop_ro("position_raw", [](const PyContext& p) { return p.c().position(); }, "Raw int64 qty units.")
      .def_prop_ro("cash", [](const PyContext& p) { return exchange::money_to_double(p.c().cash(), p.c().instrument()); },
                   "Cash in the quote currency, fees included.")
      .def_prop_ro("events_seen", [](const PyContext& p) { return p.c().events_seen(); },
                   "Trade prints and book updates seen so far.")
      .def("funding", [](const PyContext& p) { return funding_dict(p.c().funding()); },
           nb::sig("def funding(self) -> dict | None"),
           "Perpetual funding {rate, next_funding_ts, interval_ns}, or None when the run has none.")
      .def("best_bid", [](const PyContext& p, bool raw) {
        return level_tuple(p.c().book().best(Side::kBid), p.c().instrument(), raw);
      }, "raw"_a = false, nb::sig("def best_bid(self, raw: bool = False) -> tuple[float, float] | tuple[int, int] | None"),
         "Local best bid (price, qty); raw int64 units when raw=True; None if empty.")
      .def("best_ask", [](const PyContext& p, bool raw) {
        return level_tuple(p.c().book().best(Side::kAsk), p.c().instrument(), raw);
      }, "raw"_a = false, nb::sig("def best_ask(self, raw: bool = False) -> tuple[float, float] | tuple[int, int] | None"),
         "Local best ask (price, qty); raw int64 units when raw=True; None if empty.")
      .def("level", [](const PyContext& p, const std::string& side, std::size_t i, bool raw) {
        return level_tuple(p.c().book().level(parse_side(side), i), p.c().instrument(), raw);
      }, "side"_a, "i"_a, "raw"_a = false,
         nb::sig("def level(self, side: str, i: int, raw: bool = False) -> tuple[float, float] | tuple[int, int] | None"),
         "i-th level (0 = best) of side 'bid' or 'ask'; None past the last.")
      .def("depth", [](const PyContext& p, const std::string& side) { return p.c().book().depth(parse_side(side)); },
           "side"_a, "Number of levels on side 'bid' or 'ask' of the local book.")
      .def("mid", [](const PyContext& p) { return mid_decimal(p.c().book().mid(), p.c().instrument()); },
           "Decimal mid of the local book; NaN if a side is empty.")
      .def("open_orders", [](const PyContext& p) {
        const Scales s = p.scales();
        nb::list out;
        for (const exchange::OrderView& o : p.c().open_orders()) out.append(nb::cast(PyOrderView{o, s}));
        return out;
      }, nb::sig("def open_orders(self) -> list[OrderView]"), "Our orders not yet terminal, as a list of OrderView (a snapshot).")
      .def("submit", &PyContext::submit, "side"_a, "price"_a, "qty"_a, "type"_a = "gtc", "id"_a = 0,
           nb::sig("def submit(self, side: str, price: int | float | str | None, qty: int | float | str, "
                   "type: str = 'gtc', id: int = 0) -> int"),
           "Sends a new order; returns its id (assigned when id == 0).\n"
           "side: 'bid'/'buy' or 'ask'/'sell'. price, qty: decimals (int, float, str or Decimal),\n"
           "converted exactly to raw units (a float must be within 16 ulp of a multiple of\n"
           "10^-decimals, else mmkit.Error); price None for a market order.\n"
           "type: 'gtc', 'post_only', 'ioc', 'fok' or 'market'. Risk limits and tick / lot grid are\n"
           "checked by the engine (a breach is a 'rejected' order update, not an exception).")
      .def("submit", [](PyContext& p, nb::handle order) {
        return p.submit(nb::cast<std::string>(order.attr("side")), order.attr("price"), order.attr("qty"),
                        nb::cast<std::string>(nb::getattr(order, "type", nb::str("gtc"))),
                        nb::cast<exchange::ClientOrderId>(nb::getattr(order, "id", nb::int_(0))));
      }, "order"_a, nb::sig("def submit(self, order: object) -> int"), "Sends an order object with attributes side, price, qty, type, id (mmkit.Order).")
      .def("submit_raw", [](PyContext& p, const std::string& side, Price price, Qty qty, const std::string& type,
                            exchange::ClientOrderId id) {
        return p.submit_raw(parse_side(side), price, qty, type, id);
      }, "side"_a, "price_raw"_a, "qty_raw"_a, "type"_a = "gtc", "id"_a = 0,
         "submit() with price and qty in raw int64 units (no conversion).")
      .def("cancel", [](PyContext& p, exchange::ClientOrderId id) { return p.c().cancel(id); }, "order_id"_a,
           "Sends a cancel; False if the id is unknown locally or already terminal.")
      .def("modify", [](PyContext& p, exchange::ClientOrderId id, nb::handle price, nb::handle qty) {
        const InstrumentSpec& s = p.c().instrument();
        return p.c().modify(id, decimal_to_raw(price, s.price_decimals, "price"),
                            decimal_to_raw(qty, s.qty_decimals, "qty"));
      }, "order_id"_a, "price"_a, "qty"_a,
         nb::sig("def modify(self, order_id: int, price: int | float | str, qty: int | float | str) -> bool"),
         "Sends a modify (new decimal price and size; a price change or size increase loses priority);\n"
         "False if the id is unknown locally or terminal.")
      .def("modify_raw", [](PyContext& p, exchange::ClientOrderId id, Price price, Qty qty) {
        return p.c().modify(id, price, qty);
      }, "order_id"_a, "price_raw"_a, "qty_raw"_a, "modify() in raw int64 units.");

  nb::class_<PyStrategy, PyStrategyTrampoline>(
      m, "Strategy",
      "Base class of strategies written in Python (the slow path; see docs/python_api.md).\n"
      "Define any of the callbacks on_start(ctx), on_book_update(ctx), on_trade(ctx, trade),\n"
      "on_order_update(ctx, update), on_fill(ctx, fill), on_timer(ctx), on_end(ctx); undefined\n"
      "ones cost nothing. Optional: resolved_params() -> dict and summary() -> dict (recorded in\n"
      "the results). Subclasses that define __init__ must call super().__init__().")
      .def(nb::init<>())
      .def("on_start", [](PyStrategy&, PyContext&) {}, "ctx"_a, "Once, before the first market event.")
      .def("on_book_update", [](PyStrategy&, PyContext&) {}, "ctx"_a, "After each complete update of the local book.")
      .def("on_trade", [](PyStrategy&, PyContext&, const PyTrade&) {}, "ctx"_a, "trade"_a, "Each trade print.")
      .def("on_order_update", [](PyStrategy&, PyContext&, const PyOrderUpdate&) {}, "ctx"_a, "update"_a,
           "Every change of one of our orders (before on_fill for a fill).")
      .def("on_fill", [](PyStrategy&, PyContext&, const PyFill&) {}, "ctx"_a, "fill"_a, "Each fill of ours.")
      .def("on_timer", [](PyStrategy&, PyContext&) {}, "ctx"_a, "Every engine timer_interval_ms of local time.")
      .def("on_end", [](PyStrategy&, PyContext&) {}, "ctx"_a,
           "After the data ended; orders sent here never reach the exchange.");
}

}  // namespace mmkit::python
