// Shared test fixtures: the hand-built instruments, an in-memory EventSource, event and market-order
// builders, an engine config without feed latency, a mock book for strategies run without the
// engine, a temp-file writer and the error-message check.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "mmkit/core/error.h"
#include "mmkit/core/event.h"
#include "mmkit/core/instrument.h"
#include "mmkit/data/source.h"
#include "mmkit/engine/engine.h"
#include "mmkit/exchange/models.h"
#include "mmkit/exchange/order.h"
#include "mmkit/strategy/strategy.h"

namespace mmkit::test {

/// kComplete | kEndOfRecord: one event per record, the book consistent after it.
inline constexpr std::uint16_t kDone = event_flags::kComplete | event_flags::kEndOfRecord;

/// Prices in cents (price_decimals 2: raw 10000 = 100.00, tick 1 raw), quantities in steps of
/// 10^-qty_decimals (lot 1 raw); no currency when `currency` is empty.
inline InstrumentSpec cents_spec(const std::string& symbol = "TEST", const std::string& currency = "USD",
                                 int qty_decimals = 0) {
  InstrumentSpec s;
  s.set_symbol(symbol);
  if (!currency.empty()) s.set_currency(currency);
  s.price_decimals = 2;
  s.qty_decimals = static_cast<std::uint8_t>(qty_decimals);
  s.tick_size = 1;
  s.lot_size = 1;
  return s;
}

/// LOBSTER-like equity: $0.0001 raw price unit, tick $0.01 (100 raw), whole shares.
inline InstrumentSpec equity_spec() {
  InstrumentSpec s;
  s.set_symbol("TEST");
  s.set_currency("USD");
  s.price_decimals = 4;
  s.tick_size = 100;
  s.qty_decimals = 0;
  s.lot_size = 1;
  return s;
}

/// A price in dollars as raw units of equity_spec().
inline Price px(double dollars) { return static_cast<Price>(std::llround(dollars * 10000.0)); }

/// Crypto-like: price 0.1 tick (raw 1 at 1 decimal), qty 0.001 lot (raw 1 at 3 decimals).
inline InstrumentSpec crypto_spec() {
  InstrumentSpec s;
  s.set_symbol("BTCTEST");
  s.price_decimals = 1;
  s.tick_size = 1;
  s.qty_decimals = 3;
  s.lot_size = 1;
  return s;
}

/// An EventSource over a vector of events: event i is record i (locate: "test:<i+1>"), and an
/// event without a local timestamp (0) gets its exchange timestamp.
class VectorSource final : public data::EventSource {
 public:
  explicit VectorSource(std::vector<Event> events, InstrumentSpec spec = cents_spec(),
                        data::BookLevel level = data::BookLevel::kL2, std::string format = "test")
      : events_(std::move(events)), spec_(std::move(spec)), level_(level), format_(std::move(format)) {
    for (std::size_t i = 0; i < events_.size(); ++i) {
      events_[i].record = i;
      if (events_[i].local_ts_ns == 0) events_[i].local_ts_ns = events_[i].exch_ts_ns;
    }
  }
  const InstrumentSpec& instrument() const override { return spec_; }
  data::BookLevel book_level() const override { return level_; }
  std::size_t read(Event* out, std::size_t capacity) override {
    std::size_t n = 0;
    while (n < capacity && pos_ < events_.size()) out[n++] = events_[pos_++];
    return n;
  }
  std::uint64_t records() const override { return pos_; }
  std::string locate(std::uint64_t record) const override { return "test:" + std::to_string(record + 1); }
  const data::Counters& tolerated() const override { return counters_; }
  std::string format() const override { return format_; }

 private:
  std::vector<Event> events_;
  InstrumentSpec spec_;
  data::BookLevel level_;
  std::string format_;
  data::Counters counters_;
  std::size_t pos_ = 0;
};

/// One event at exchange time `ts` (no local timestamp: VectorSource gives it `ts`).
inline Event make_event(EventKind k, TimestampNs ts, Side s, Price p, Qty q, OrderId id = 0,
                        std::uint16_t flags = kDone) {
  Event e;
  e.exch_ts_ns = ts;
  e.kind = k;
  e.side = s;
  e.price = p;
  e.qty = q;
  e.order_id = id;
  e.flags = flags;
  return e;
}

/// An L2 level update: the total quantity at price `p` on side `s` becomes `q`.
inline Event level(TimestampNs ts, Side s, Price p, Qty q, std::uint16_t flags = kDone) {
  return make_event(EventKind::kLevelUpdate, ts, s, p, q, 0, flags);
}

/// A market order request for `q` (> 0) on side `s`: IOC unless `tif` says otherwise.
inline exchange::OrderRequest market(Side s, Qty q, exchange::TimeInForce tif = exchange::TimeInForce::kIoc) {
  exchange::OrderRequest r;
  r.side = s;
  r.qty = q;
  r.type = exchange::OrderType::kMarket;
  r.tif = tif;
  return r;
}

/// A market IOC for |q|: a buy when q > 0, a sell when q < 0.
inline exchange::OrderRequest market(Qty q) { return market(q > 0 ? Side::kBid : Side::kAsk, std::abs(q)); }

/// Engine settings with no feed latency (the strategy sees each event at its exchange time);
/// everything else at its default.
inline engine::EngineConfig zero_latency() {
  engine::EngineConfig c;
  c.feed_latency.mode = exchange::FeedLatencyConfig::Mode::kConstant;
  c.feed_latency.constant_ns = 0;
  return c;
}

/// A book for strategies run on a mock Context: levels best first, set by hand.
class MockBook final : public strategy::BookView {
 public:
  std::vector<book::Level> bids, asks;  // best first
  [[nodiscard]] book::Level best(Side s) const override { return level(s, 0); }
  [[nodiscard]] book::Level level(Side s, std::size_t i) const override {
    const auto& v = s == Side::kBid ? bids : asks;
    return i < v.size() ? v[i] : book::Level{};
  }
  [[nodiscard]] std::size_t depth(Side s) const override { return (s == Side::kBid ? bids : asks).size(); }
  /// One level a side, `q` on each.
  void set(Price bid, Price ask, Qty q = 100) { set(bid, q, ask, q); }
  /// One level a side.
  void set(Price bid, Qty bq, Price ask, Qty aq) {
    bids.assign(1, book::Level{bid, bq, 1});
    asks.assign(1, book::Level{ask, aq, 1});
  }
};

/// Writes `text` to the file `name` in the test temp dir; returns its path.
inline std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

/// `f()` throws mmkit::Error whose message contains every one of `needles`.
template <class F>
void expect_error(F&& f, const std::vector<std::string>& needles) {
  try {
    f();
    ADD_FAILURE() << "no mmkit::Error thrown";
  } catch (const Error& e) {
    const std::string m = e.what();
    for (const std::string& n : needles) {
      EXPECT_NE(m.find(n), std::string::npos) << "message: " << m << "\nmissing: " << n;
    }
  }
}


/// Start time of MockContext, ns since the epoch (2023-11-14 22:13:20 UTC).
inline constexpr TimestampNs kMockStart = 1'700'000'000LL * 1'000'000'000LL;

/// What a strategy sent through MockContext.
struct Action {
  enum Kind { kSubmit, kCancel, kModify } kind;
  exchange::ClientOrderId id = 0;
  Side side = Side::kNone;
  Price price = kNoPrice;
  Qty qty = 0;
  exchange::TimeInForce tif = exchange::TimeInForce::kGtc;
  exchange::OrderType type = exchange::OrderType::kLimit;
};

/// A strategy::Context without an engine, for unit tests of strategies: a MockBook, our orders
/// and the actions sent. With `ack` (default) orders rest at once and cancels / modifies apply at
/// once, otherwise they stay pending until ack_all(). Fills, rejections and IOC outcomes are
/// delivered by the test (fill(), reject(), ioc_rest_canceled()) in the engine's callback order.
class MockContext final : public strategy::Context {
 public:
  explicit MockContext(InstrumentSpec s) : spec(s) {}

  [[nodiscard]] TimestampNs now() const override { return now_ns; }
  [[nodiscard]] const InstrumentSpec& instrument() const override { return spec; }
  [[nodiscard]] const strategy::BookView& book() const override { return mbook; }
  [[nodiscard]] Qty position() const override { return pos; }
  [[nodiscard]] exchange::Money cash() const override { return 0; }
  [[nodiscard]] std::span<const exchange::OrderView> open_orders() const override { return orders; }
  [[nodiscard]] std::uint64_t events_seen() const override { return events; }

  exchange::ClientOrderId submit(const exchange::OrderRequest& r) override {
    const exchange::ClientOrderId id = r.id != 0 ? r.id : next_id++;
    actions.push_back({Action::kSubmit, id, r.side, r.price, r.qty, r.tif, r.type});
    exchange::OrderView o;
    o.id = id;
    o.side = r.side;
    o.price = r.price;
    o.qty = o.leaves = r.qty;
    o.type = r.type;
    o.tif = r.tif;
    o.status = ack ? exchange::OrderStatus::kOpen : exchange::OrderStatus::kPendingNew;
    orders.push_back(o);
    return id;
  }
  bool cancel(exchange::ClientOrderId id) override {
    actions.push_back({Action::kCancel, id});
    auto it = find(id);
    if (it == orders.end()) return false;
    if (ack) {
      orders.erase(it);
    } else {
      it->cancel_pending = true;
    }
    return true;
  }
  bool modify(exchange::ClientOrderId id, Price p, Qty q) override {
    auto it = find(id);
    actions.push_back({Action::kModify, id, it == orders.end() ? Side::kNone : it->side, p, q});
    if (it == orders.end()) return false;
    if (ack) {
      it->price = p;
      it->qty = q;
      it->leaves = q - it->filled;
    } else {
      it->modify_pending = true;
      pending_modify.push_back({id, p, q});
    }
    return true;
  }

  // --- test helpers
  void ack_all() {
    for (auto it = orders.begin(); it != orders.end();) {
      if (it->cancel_pending) {
        it = orders.erase(it);
        continue;
      }
      it->status = exchange::OrderStatus::kOpen;
      it->modify_pending = false;
      ++it;
    }
    for (const auto& m : pending_modify) {
      auto it = find(m.id);
      if (it == orders.end()) continue;
      it->price = m.price;
      it->qty = m.qty;
      it->leaves = m.qty - it->filled;
    }
    pending_modify.clear();
  }
  /// Our order `id` is filled by `q`; returns the exchange::Fill the engine would report.
  exchange::Fill fill(exchange::ClientOrderId id, Qty q) {
    auto it = find(id);
    EXPECT_NE(it, orders.end());
    exchange::Fill f;
    f.order_id = id;
    f.side = it->side;
    f.price = it->price;
    f.qty = q;
    pos += it->side == Side::kBid ? q : -q;
    it->filled += q;
    it->leaves -= q;
    if (it->leaves == 0) orders.erase(it);
    return f;
  }
  void reject(exchange::ClientOrderId id, exchange::RejectReason why, strategy::Strategy& s) {
    auto it = find(id);
    ASSERT_NE(it, orders.end());
    exchange::OrderUpdate u;
    u.order_id = id;
    u.kind = exchange::OrderEventKind::kRejected;
    u.status = exchange::OrderStatus::kRejected;
    u.reason = why;
    u.side = it->side;
    u.price = it->price;
    u.local_ts_ns = now_ns;
    orders.erase(it);
    s.on_order_update(*this, u);
  }
  /// Fills our order `id` by q at `price` (default: its limit) with the exchange book bid / ask
  /// just before the fill, and calls the strategy as the engine does.
  void fill(strategy::Strategy& s, exchange::ClientOrderId id, Qty q, Price bid, Price ask, Price price = kNoPrice) {
    const auto it = find(id);
    ASSERT_NE(it, orders.end()) << id;
    exchange::Fill f;
    f.exch_ts_ns = f.local_ts_ns = now_ns;
    f.order_id = id;
    f.side = it->side;
    f.price = price == kNoPrice ? it->price : price;
    f.qty = q;
    f.maker = it->tif != exchange::TimeInForce::kIoc;
    f.bid_at_fill = bid;
    f.ask_at_fill = ask;
    pos += it->side == Side::kBid ? q : -q;
    it->filled += q;
    it->leaves -= q;
    exchange::OrderUpdate u;
    u.order_id = id;
    u.kind = exchange::OrderEventKind::kFilled;
    u.side = it->side;
    u.price = it->price;
    u.qty = it->qty;
    u.leaves = it->leaves;
    u.filled = it->filled;
    u.status = it->leaves == 0 ? exchange::OrderStatus::kFilled : exchange::OrderStatus::kOpen;
    u.local_ts_ns = now_ns;
    if (it->leaves == 0) orders.erase(it);
    s.on_order_update(*this, u);
    s.on_fill(*this, f);
  }
  /// The unfilled rest of an IOC is canceled.
  void ioc_rest_canceled(strategy::Strategy& s, exchange::ClientOrderId id) {
    const auto it = find(id);
    ASSERT_NE(it, orders.end()) << id;
    exchange::OrderUpdate u;
    u.order_id = id;
    u.kind = exchange::OrderEventKind::kCanceled;
    u.status = exchange::OrderStatus::kCanceled;
    u.side = it->side;
    u.price = it->price;
    u.qty = it->qty;
    u.filled = it->filled;
    u.local_ts_ns = now_ns;
    orders.erase(it);
    s.on_order_update(*this, u);
  }
  std::vector<Action> take() {
    std::vector<Action> a;
    a.swap(actions);
    return a;
  }
  /// Our open orders on a side, best first.
  std::vector<exchange::OrderView> on(Side s) const {
    std::vector<exchange::OrderView> v;
    for (const exchange::OrderView& o : orders) {
      if (o.side == s && !o.cancel_pending) v.push_back(o);
    }
    std::sort(v.begin(), v.end(), [s](const exchange::OrderView& a, const exchange::OrderView& b) {
      return s == Side::kBid ? a.price > b.price : a.price < b.price;
    });
    return v;
  }

  InstrumentSpec spec;
  MockBook mbook;
  TimestampNs now_ns = kMockStart;
  Qty pos = 0;
  std::vector<exchange::OrderView> orders;
  std::vector<Action> actions;
  exchange::ClientOrderId next_id = 1;
  bool ack = true;
  std::uint64_t events = 0;

 private:
  struct PendingModify {
    exchange::ClientOrderId id;
    Price price;
    Qty qty;
  };
  std::vector<exchange::OrderView>::iterator find(exchange::ClientOrderId id) {
    return std::find_if(orders.begin(), orders.end(), [id](const exchange::OrderView& o) { return o.id == id; });
  }
  std::vector<PendingModify> pending_modify;
};

}  // namespace mmkit::test
