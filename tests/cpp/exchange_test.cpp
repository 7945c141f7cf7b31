// The engine and the simulated exchange (src/engine/engine.cpp) on hand-built event streams with
// known answers, plus a smoke run on real LOBSTER and Binance data.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <limits>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mmkit/book/naive_l3_book.h"
#include "mmkit/core/error.h"
#include "mmkit/data/source.h"
#include "mmkit/engine/engine.h"
#include "mmkit/exchange/models.h"
#include "mmkit/exchange/order.h"
#include "mmkit/sim/synthetic_market.h"
#include "mmkit/strategy/strategy.h"
#include "fixtures.h"
#include "real_data.h"

namespace {

using mmkit::test::data_dir;
using mmkit::test::under_ci;
using mmkit::test::kDone;
using mmkit::test::level;
using mmkit::test::make_event;
using mmkit::test::market;
using mmkit::test::VectorSource;

using mmkit::Event;
using mmkit::EventKind;
using mmkit::kNoPrice;
using mmkit::kNoTimestamp;
using mmkit::OrderId;
using mmkit::Price;
using mmkit::Qty;
using mmkit::Side;
using mmkit::TimestampNs;
using mmkit::engine::BacktestResult;
using mmkit::engine::Engine;
using mmkit::engine::EngineConfig;
using mmkit::exchange::ClientOrderId;
using mmkit::exchange::Fill;
using mmkit::exchange::Money;
using mmkit::exchange::OrderEventKind;
using mmkit::exchange::OrderRequest;
using mmkit::exchange::OrderStatus;
using mmkit::exchange::OrderType;
using mmkit::exchange::OrderUpdate;
using mmkit::exchange::RejectReason;
using mmkit::exchange::TimeInForce;
using mmkit::strategy::Context;
using mmkit::strategy::TradeView;
namespace ef = mmkit::event_flags;

constexpr TimestampNs T0 = 1'700'000'000'000'000'000;
constexpr TimestampNs kMs = 1'000'000;
constexpr TimestampNs kUs = 1'000;

Event add(TimestampNs ts, OrderId id, Side s, Price p, Qty q) { return make_event(EventKind::kAdd, ts, s, p, q, id); }
Event cancel(TimestampNs ts, OrderId id, Side s, Price p, Qty q) { return make_event(EventKind::kCancel, ts, s, p, q, id); }
Event exec(TimestampNs ts, OrderId id, Side s, Price p, Qty q) { return make_event(EventKind::kExecution, ts, s, p, q, id); }
Event modify(TimestampNs ts, OrderId id, Side s, Price p, Qty q) { return make_event(EventKind::kModify, ts, s, p, q, id); }
Event trade(TimestampNs ts, Side aggressor, Price p, Qty q) { return make_event(EventKind::kTrade, ts, aggressor, p, q); }

// ---------------------------------------------------------------------------------------------
// A test strategy: actions scheduled at local times (run from on_start / on_timer / on_book_update
// once now() reaches them), optional hooks, and a log of everything it received.

struct Received {
  std::vector<OrderUpdate> updates;
  std::vector<Fill> fills;
  std::vector<TradeView> trades;
  std::vector<TimestampNs> book_updates;  ///< now() at each on_book_update
  int starts = 0, ends = 0, timers = 0;
  TimestampNs start_ts = kNoTimestamp;
  Qty end_position = 0;
  Money end_cash = 0;
  std::map<ClientOrderId, std::vector<std::pair<TimestampNs, Qty>>> queue;  ///< sampled queue_ahead
};

class TestStrategy final : public mmkit::strategy::Strategy {
 public:
  using Action = std::function<void(Context&)>;
  explicit TestStrategy(Received* log) : log_(log) {}

  TestStrategy& at(TimestampNs ts, Action a) {
    actions_.push_back({ts, std::move(a), false});
    return *this;
  }
  std::function<void(Context&)> on_book;
  std::function<void(Context&, const OrderUpdate&)> on_update;
  bool sample_queue = false;

  void on_start(Context& c) override {
    ++log_->starts;
    log_->start_ts = c.now();
    run_due(c);
  }
  void on_book_update(Context& c) override {
    log_->book_updates.push_back(c.now());
    run_due(c);
    if (on_book) on_book(c);
  }
  void on_trade(Context&, const TradeView& t) override { log_->trades.push_back(t); }
  void on_order_update(Context& c, const OrderUpdate& u) override {
    log_->updates.push_back(u);
    if (on_update) on_update(c, u);
  }
  void on_fill(Context&, const Fill& f) override { log_->fills.push_back(f); }
  void on_timer(Context& c) override {
    ++log_->timers;
    run_due(c);
    if (sample_queue) {
      for (const auto& v : c.open_orders()) log_->queue[v.id].push_back({c.now(), v.queue_ahead});
    }
  }
  void on_end(Context& c) override {
    ++log_->ends;
    log_->end_position = c.position();
    log_->end_cash = c.cash();
  }

 private:
  void run_due(Context& c) {
    for (auto& a : actions_) {
      if (!a.done && a.ts <= c.now()) {
        a.done = true;
        a.fn(c);
      }
    }
  }
  struct Scheduled {
    TimestampNs ts;
    Action fn;
    bool done;
  };
  Received* log_;
  std::vector<Scheduled> actions_;
};

OrderRequest limit(Side s, Price p, Qty q, TimeInForce tif = TimeInForce::kGtc, ClientOrderId id = 0) {
  OrderRequest r;
  r.id = id;
  r.side = s;
  r.price = p;
  r.qty = q;
  r.tif = tif;
  return r;
}

/// Zero latency, 1 µs timer (scheduled actions fire at exact µs times), no fees.
EngineConfig base_config() {
  EngineConfig c;
  c.timer_interval_ns = kUs;
  c.sample_interval_ns = kMs;
  c.feed_latency.mode = mmkit::exchange::FeedLatencyConfig::Mode::kConstant;
  return c;
}

std::unique_ptr<Engine> make_engine(std::vector<Event> events, std::unique_ptr<TestStrategy> s,
                                    EngineConfig cfg = base_config(),
                                    mmkit::data::BookLevel lvl = mmkit::data::BookLevel::kL3,
                                    std::string format = "test") {
  return std::make_unique<Engine>(std::make_unique<VectorSource>(std::move(events), mmkit::test::cents_spec(), lvl, std::move(format)),
                                  std::move(s), std::move(cfg));
}

/// A two-sided L3 opening book: bid id 1 at 99.99 × 10, ask id 2 at 100.01 × 10 (at T0).
std::vector<Event> l3_opening() {
  return {add(T0, 1, Side::kBid, 9999, 10), add(T0, 2, Side::kAsk, 10001, 10)};
}

std::vector<const OrderUpdate*> updates_of(const Received& r, ClientOrderId id) {
  std::vector<const OrderUpdate*> v;
  for (const auto& u : r.updates) {
    if (u.order_id == id) v.push_back(&u);
  }
  return v;
}

Money signed_cash(const Fill& f) {
  const Money value = mmkit::exchange::notional(f.price, f.qty);
  return (f.side == Side::kBid ? -value : value) - f.fee;
}

/// Exact accounting: the engine's cash and position equal the sums over the recorded fills, and
/// cash + position × mark equals Σ over fills of (mark − price) × signed qty − fee, as Money.
void expect_exact_accounting(const Engine& e, const BacktestResult& r, Price mark) {
  Money cash = 0, pnl = 0;
  Qty pos = 0;
  for (const auto& fr : r.fills) {
    const Fill& f = fr.fill;
    const int sg = f.side == Side::kBid ? 1 : -1;
    cash += signed_cash(f);
    pos += sg * f.qty;
    pnl += sg * (mmkit::exchange::notional(mark, f.qty) - mmkit::exchange::notional(f.price, f.qty)) - f.fee;
  }
  EXPECT_EQ(e.position(), pos);
  EXPECT_TRUE(e.cash() == cash);
  EXPECT_TRUE(e.cash() + mmkit::exchange::notional(mark, e.position()) == pnl);
}

bool same_double(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

void expect_same_results(const BacktestResult& a, const BacktestResult& b) {
  ASSERT_EQ(a.fills.size(), b.fills.size());
  for (std::size_t i = 0; i < a.fills.size(); ++i) {
    const Fill &x = a.fills[i].fill, &y = b.fills[i].fill;
    EXPECT_EQ(x.exch_ts_ns, y.exch_ts_ns) << i;
    EXPECT_EQ(x.local_ts_ns, y.local_ts_ns) << i;
    EXPECT_EQ(x.order_id, y.order_id) << i;
    EXPECT_EQ(x.side, y.side) << i;
    EXPECT_EQ(x.price, y.price) << i;
    EXPECT_EQ(x.qty, y.qty) << i;
    EXPECT_TRUE(x.fee == y.fee) << i;
    EXPECT_EQ(x.maker, y.maker) << i;
    EXPECT_EQ(x.queue_ahead_at_entry, y.queue_ahead_at_entry) << i;
    EXPECT_EQ(x.bid_at_fill, y.bid_at_fill) << i;
    EXPECT_EQ(x.ask_at_fill, y.ask_at_fill) << i;
    ASSERT_EQ(a.fills[i].markouts.size(), b.fills[i].markouts.size());
    for (std::size_t h = 0; h < a.fills[i].markouts.size(); ++h) {
      EXPECT_TRUE(same_double(a.fills[i].markouts[h], b.fills[i].markouts[h])) << i << " " << h;
    }
  }
  ASSERT_EQ(a.orders.size(), b.orders.size());
  for (std::size_t i = 0; i < a.orders.size(); ++i) {
    const OrderUpdate &x = a.orders[i].update, &y = b.orders[i].update;
    EXPECT_EQ(x.exch_ts_ns, y.exch_ts_ns) << i;
    EXPECT_EQ(x.local_ts_ns, y.local_ts_ns) << i;
    EXPECT_EQ(x.order_id, y.order_id) << i;
    EXPECT_EQ(x.kind, y.kind) << i;
    EXPECT_EQ(x.status, y.status) << i;
    EXPECT_EQ(x.reason, y.reason) << i;
    EXPECT_EQ(x.price, y.price) << i;
    EXPECT_EQ(x.qty, y.qty) << i;
    EXPECT_EQ(x.leaves, y.leaves) << i;
    EXPECT_EQ(x.filled, y.filled) << i;
  }
  ASSERT_EQ(a.samples.size(), b.samples.size());
  for (std::size_t i = 0; i < a.samples.size(); ++i) {
    const auto &x = a.samples[i], &y = b.samples[i];
    EXPECT_EQ(x.ts_ns, y.ts_ns) << i;
    EXPECT_EQ(x.best_bid, y.best_bid) << i;
    EXPECT_EQ(x.best_ask, y.best_ask) << i;
    EXPECT_EQ(x.our_bid, y.our_bid) << i;
    EXPECT_EQ(x.our_ask, y.our_ask) << i;
    EXPECT_EQ(x.position, y.position) << i;
    EXPECT_TRUE(x.cash == y.cash) << i;
    EXPECT_TRUE(same_double(x.pnl, y.pnl)) << i;
  }
  EXPECT_TRUE(same_double(a.metrics.total_pnl, b.metrics.total_pnl));
  EXPECT_EQ(a.metrics.events, b.metrics.events);
}

/// The last sampled queue estimate at or before t (-2: none).
Qty last_before(const std::vector<std::pair<TimestampNs, Qty>>& q, TimestampNs t) {
  Qty a = -2;
  for (const auto& [ts, v] : q) {
    if (ts <= t) a = v;
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// Order types

TEST(Exchange, PostOnlyIsRejectedWhenItWouldCrossAndRestsOtherwise) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->at(T0 + kMs, [](Context& c) {
    c.submit(limit(Side::kBid, 10001, 1, TimeInForce::kPostOnly, 7));   // crosses the 100.01 ask
    c.submit(limit(Side::kBid, 10000, 1, TimeInForce::kPostOnly, 8));   // inside the spread
  });
  auto events = l3_opening();
  events.push_back(add(T0 + 2 * kMs, 3, Side::kBid, 9998, 1));
  auto e = make_engine(events, std::move(s));
  e->run();
  const auto u7 = updates_of(got, 7);
  ASSERT_EQ(u7.size(), 1u);
  EXPECT_EQ(u7[0]->kind, OrderEventKind::kRejected);
  EXPECT_EQ(u7[0]->reason, RejectReason::kPostOnlyWouldCross);
  const auto u8 = updates_of(got, 8);
  ASSERT_EQ(u8.size(), 1u);
  EXPECT_EQ(u8[0]->kind, OrderEventKind::kAccepted);
  EXPECT_EQ(u8[0]->status, OrderStatus::kOpen);
  EXPECT_TRUE(e->result().fills.empty());
}

TEST(Exchange, IocFillsWhatItCanAndCancelsTheRemainder) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->at(T0 + kMs, [](Context& c) { c.submit(limit(Side::kBid, 10002, 15, TimeInForce::kIoc, 5)); });
  auto events = l3_opening();
  events.push_back(add(T0, 3, Side::kAsk, 10002, 3));
  events.push_back(add(T0, 4, Side::kAsk, 10003, 50));
  events.push_back(add(T0 + 2 * kMs, 5, Side::kBid, 9998, 1));
  auto e = make_engine(events, std::move(s));
  e->run();
  const auto& fills = e->result().fills;
  ASSERT_EQ(fills.size(), 2u);
  EXPECT_EQ(fills[0].fill.price, 10001);
  EXPECT_EQ(fills[0].fill.qty, 10);
  EXPECT_EQ(fills[1].fill.price, 10002);
  EXPECT_EQ(fills[1].fill.qty, 3);
  EXPECT_FALSE(fills[0].fill.maker);
  EXPECT_EQ(fills[0].fill.queue_ahead_at_entry, -1);
  const auto u = updates_of(got, 5);
  ASSERT_EQ(u.size(), 3u);
  EXPECT_EQ(u[2]->kind, OrderEventKind::kCanceled);
  EXPECT_EQ(u[2]->status, OrderStatus::kCanceled);
  EXPECT_EQ(u[2]->filled, 13);
  EXPECT_EQ(u[2]->leaves, 2);
  EXPECT_EQ(e->position(), 13);
}

TEST(Exchange, IocAgainstAnEmptySideIsRejectedNoLiquidity) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->at(T0 + kMs, [](Context& c) {
    c.submit(limit(Side::kBid, 10005, 1, TimeInForce::kIoc, 1));
    c.submit(market(Side::kBid, 1));
  });
  auto e = make_engine({add(T0, 1, Side::kBid, 9999, 10), add(T0 + 2 * kMs, 2, Side::kBid, 9998, 1)}, std::move(s));
  e->run();
  ASSERT_EQ(got.updates.size(), 2u);
  for (const auto& u : got.updates) {
    EXPECT_EQ(u.kind, OrderEventKind::kRejected);
    EXPECT_EQ(u.reason, RejectReason::kNoLiquidity);
  }
}

TEST(Exchange, FokIsRejectedUnlessTheVisibleVolumeCoversIt) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->at(T0 + kMs, [](Context& c) {
    c.submit(limit(Side::kBid, 10002, 14, TimeInForce::kFok, 1));  // 10 + 3 visible up to 100.02
    c.submit(limit(Side::kBid, 10002, 13, TimeInForce::kFok, 2));
  });
  auto events = l3_opening();
  events.push_back(add(T0, 3, Side::kAsk, 10002, 3));
  events.push_back(add(T0 + 2 * kMs, 4, Side::kBid, 9998, 1));
  auto e = make_engine(events, std::move(s));
  e->run();
  const auto u1 = updates_of(got, 1);
  ASSERT_EQ(u1.size(), 1u);
  EXPECT_EQ(u1[0]->reason, RejectReason::kFokNotFillable);
  const auto u2 = updates_of(got, 2);
  ASSERT_EQ(u2.size(), 2u);
  EXPECT_EQ(u2.back()->kind, OrderEventKind::kFilled);
  EXPECT_EQ(u2.back()->status, OrderStatus::kFilled);
  EXPECT_EQ(e->position(), 13);
  for (const auto& f : e->result().fills) EXPECT_EQ(f.fill.order_id, 2u);
}

TEST(Exchange, MarketOrderWalksThreeLevelsAtTheirPricesWithTheTakerFee) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->at(T0 + kMs, [](Context& c) { c.submit(market(Side::kBid, 16)); });
  auto cfg = base_config();
  cfg.fees = mmkit::exchange::FeeSchedule::from_bps(-1, 5);  // taker 5 bp
  auto events = l3_opening();                                   // 10 @ 100.01
  events.push_back(add(T0, 3, Side::kAsk, 10002, 3));
  events.push_back(add(T0, 4, Side::kAsk, 10003, 5));
  events.push_back(add(T0 + 2 * kMs, 5, Side::kBid, 9998, 1));
  auto e = make_engine(events, std::move(s), std::move(cfg));
  e->run();
  const auto& fills = e->result().fills;
  ASSERT_EQ(fills.size(), 3u);
  Qty q = 0;
  Money value = 0, fees = 0;
  for (const auto& f : fills) {
    q += f.fill.qty;
    value += mmkit::exchange::notional(f.fill.price, f.fill.qty);
    fees += f.fill.fee;
    EXPECT_FALSE(f.fill.maker);
  }
  EXPECT_EQ(q, 16);
  EXPECT_EQ(fills[0].fill.qty, 10);
  EXPECT_EQ(fills[1].fill.qty, 3);
  EXPECT_EQ(fills[2].fill.qty, 3);
  EXPECT_EQ(fills[2].fill.price, 10003);
  // VWAP = (100.01 × 10 + 100.02 × 3 + 100.03 × 3) / 16 = 160.025 / 1.6 = 100.015625.
  EXPECT_TRUE(value == static_cast<Money>(160025) * 1'000'000'000);
  EXPECT_DOUBLE_EQ(static_cast<double>(value / 1'000'000'000) / 16 / 100, 100.015625);
  // 5 bp = 500,000 ppb of the notional, exact: $1,600.25 × 0.0005 = $0.800125.
  EXPECT_TRUE(fees == static_cast<Money>(160025) * 500'000);
  EXPECT_DOUBLE_EQ(mmkit::exchange::money_to_double(fees, e->instrument()), 0.800125);
  EXPECT_TRUE(e->cash() == -value - fees);
  EXPECT_EQ(e->position(), 16);
}

TEST(Exchange, NegativeMakerFeeIsARebateThatAddsCash) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->at(T0 + kMs, [](Context& c) { c.submit(limit(Side::kAsk, 10001, 4, TimeInForce::kGtc, 9)); });
  auto cfg = base_config();
  cfg.fees = mmkit::exchange::FeeSchedule::from_bps(-0.25, 4);
  auto events = l3_opening();                          // ask id 2 (10) ahead of us
  events.push_back(exec(T0 + 2 * kMs, 2, Side::kAsk, 10001, 10));
  events.push_back(add(T0 + 3 * kMs, 3, Side::kAsk, 10001, 5));  // behind us
  events.push_back(exec(T0 + 4 * kMs, 3, Side::kAsk, 10001, 5));  // reaches us first
  auto e = make_engine(events, std::move(s), std::move(cfg));
  e->run();
  const auto& fills = e->result().fills;
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_TRUE(fills[0].fill.maker);
  EXPECT_EQ(fills[0].fill.qty, 4);
  const Money fee = static_cast<Money>(10001) * 4 * -25'000;  // -0.25 bp
  EXPECT_TRUE(fills[0].fill.fee == fee);
  EXPECT_TRUE(e->cash() == mmkit::exchange::notional(10001, 4) - fee);
  EXPECT_TRUE(e->cash() > mmkit::exchange::notional(10001, 4));
}

TEST(Exchange, OffGridPriceAndQtyAreRejected) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->at(T0 + kMs, [](Context& c) {
    c.submit(limit(Side::kBid, 0, 1, TimeInForce::kGtc, 1));
    c.submit(limit(Side::kBid, 9990, 0, TimeInForce::kGtc, 2));
    c.submit(limit(Side::kBid, 9990, 1, TimeInForce::kGtc, 3));
    c.modify(3, -5, 1);
  });
  auto events = l3_opening();
  events.push_back(add(T0 + 2 * kMs, 3, Side::kBid, 9998, 1));
  auto e = make_engine(events, std::move(s));
  e->run();
  EXPECT_EQ(updates_of(got, 1)[0]->reason, RejectReason::kInvalidPrice);
  EXPECT_EQ(updates_of(got, 2)[0]->reason, RejectReason::kInvalidQty);
  const auto u3 = updates_of(got, 3);
  ASSERT_EQ(u3.size(), 2u);
  EXPECT_EQ(u3[1]->kind, OrderEventKind::kRejected);
  EXPECT_EQ(u3[1]->reason, RejectReason::kInvalidPrice);
  EXPECT_EQ(u3[1]->status, OrderStatus::kOpen);  // the order stays
  EXPECT_EQ(u3[1]->price, 9990);
}

// ---------------------------------------------------------------------------------------------
// Queue position on L3 data

TEST(ExchangeL3, BehindTwoKnownOrdersFillsOnlyAfterTheyAreExecuted) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->sample_queue = true;
  s->at(T0 + 3 * kMs, [](Context& c) { c.submit(limit(Side::kBid, 10000, 2, TimeInForce::kGtc, 1)); });
  std::vector<Event> events = {
      add(T0, 10, Side::kAsk, 10002, 10),
      add(T0 + 1 * kMs, 11, Side::kBid, 10000, 5),
      add(T0 + 2 * kMs, 12, Side::kBid, 10000, 3),
      add(T0 + 4 * kMs, 13, Side::kBid, 10000, 4),   // behind us
      exec(T0 + 5 * kMs, 11, Side::kBid, 10000, 5),  // ahead: 8 -> 3
      exec(T0 + 6 * kMs, 12, Side::kBid, 10000, 3),  // ahead: 3 -> 0, not us yet
      exec(T0 + 7 * kMs, 13, Side::kBid, 10000, 4),  // behind us: we are filled first
  };
  auto e = make_engine(events, std::move(s));
  e->run();
  const auto& fills = e->result().fills;
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].fill.exch_ts_ns, T0 + 7 * kMs);
  EXPECT_EQ(fills[0].fill.qty, 2);
  EXPECT_EQ(fills[0].fill.price, 10000);
  EXPECT_TRUE(fills[0].fill.maker);
  EXPECT_EQ(fills[0].fill.queue_ahead_at_entry, 8);
  EXPECT_EQ(fills[0].fill.bid_at_fill, 10000);
  EXPECT_EQ(fills[0].fill.ask_at_fill, 10002);
  // Sampled queue estimates: 8 after joining, 3 after the first execution, 0 after the second.
  const auto& q = got.queue.at(1);
  auto ahead_at = [&](TimestampNs t) {
    Qty a = -2;
    for (const auto& [ts, v] : q) {
      if (ts <= t) a = v;
    }
    return a;
  };
  EXPECT_EQ(ahead_at(T0 + 4 * kMs + 500 * kUs), 8);
  EXPECT_EQ(ahead_at(T0 + 5 * kMs + 500 * kUs), 3);
  EXPECT_EQ(ahead_at(T0 + 6 * kMs + 500 * kUs), 0);
}

TEST(ExchangeL3, ExecutionOfAnOrderBehindUsFillsUsFirstPartially) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->at(T0 + 2 * kMs, [](Context& c) { c.submit(limit(Side::kAsk, 10002, 5, TimeInForce::kGtc, 1)); });
  std::vector<Event> events = {
      add(T0, 10, Side::kBid, 10000, 10),
      add(T0 + 1 * kMs, 11, Side::kAsk, 10002, 2),
      add(T0 + 3 * kMs, 12, Side::kAsk, 10002, 6),   // behind us
      exec(T0 + 4 * kMs, 11, Side::kAsk, 10002, 2),  // ahead
      exec(T0 + 5 * kMs, 12, Side::kAsk, 10002, 3),  // behind: we get 3
      exec(T0 + 6 * kMs, 12, Side::kAsk, 10002, 3),  // behind: we get the last 2
  };
  auto e = make_engine(events, std::move(s));
  e->run();
  const auto& fills = e->result().fills;
  ASSERT_EQ(fills.size(), 2u);
  EXPECT_EQ(fills[0].fill.exch_ts_ns, T0 + 5 * kMs);
  EXPECT_EQ(fills[0].fill.qty, 3);
  EXPECT_EQ(fills[1].fill.exch_ts_ns, T0 + 6 * kMs);
  EXPECT_EQ(fills[1].fill.qty, 2);
  EXPECT_EQ(e->position(), -5);
  const auto u = updates_of(got, 1);
  EXPECT_EQ(u.back()->status, OrderStatus::kFilled);
}

TEST(ExchangeL3, CancelAheadAdvancesUsAndCancelBehindDoesNot) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->sample_queue = true;
  s->at(T0 + 3 * kMs, [](Context& c) { c.submit(limit(Side::kBid, 10000, 1, TimeInForce::kGtc, 1)); });
  std::vector<Event> events = {
      add(T0, 10, Side::kAsk, 10002, 10),
      add(T0 + 1 * kMs, 11, Side::kBid, 10000, 5),
      add(T0 + 2 * kMs, 12, Side::kBid, 10000, 3),
      add(T0 + 4 * kMs, 13, Side::kBid, 10000, 7),     // behind us
      cancel(T0 + 5 * kMs, 13, Side::kBid, 10000, 7),  // behind: no change (8)
      cancel(T0 + 6 * kMs, 11, Side::kBid, 10000, 2),  // ahead, partial: 6
      cancel(T0 + 7 * kMs, 12, Side::kBid, 10000, 3),  // ahead: 3
      add(T0 + 8 * kMs, 14, Side::kBid, 10000, 1),
  };
  auto e = make_engine(events, std::move(s));
  e->run();
  const auto& q = got.queue.at(1);
  auto ahead_at = [&](TimestampNs t) {
    Qty a = -2;
    for (const auto& [ts, v] : q) {
      if (ts <= t) a = v;
    }
    return a;
  };
  EXPECT_EQ(ahead_at(T0 + 4 * kMs + 1), 8);
  EXPECT_EQ(ahead_at(T0 + 5 * kMs + 1), 8);
  EXPECT_EQ(ahead_at(T0 + 6 * kMs + 1), 6);
  EXPECT_EQ(ahead_at(T0 + 7 * kMs + 1), 3);
  EXPECT_EQ(ahead_at(T0 + 8 * kMs + 1), 3);
  EXPECT_TRUE(e->result().fills.empty());
}

TEST(ExchangeL3, AnonymousSeededVolumeCountsAhead) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->sample_queue = true;
  s->at(T0 + 3 * kMs, [](Context& c) { c.submit(limit(Side::kBid, 10000, 1, TimeInForce::kGtc, 1)); });
  std::vector<Event> events = {
      add(T0, 10, Side::kAsk, 10002, 10),
      add(T0 + 1 * kMs, 11, Side::kBid, 10000, 2),
      level(T0 + 2 * kMs, Side::kBid, 10000, 8, kDone | ef::kSeed),  // 6 anonymous ahead of id 11
      cancel(T0 + 4 * kMs, 999, Side::kBid, 10000, 4),  // unknown id: anonymous, ahead: 8 -> 4
      exec(T0 + 5 * kMs, 11, Side::kBid, 10000, 2),     // known, ahead of us: 2
      exec(T0 + 6 * kMs, 998, Side::kBid, 10000, 2),    // anonymous: 0
      add(T0 + 7 * kMs, 12, Side::kBid, 10000, 3),
      exec(T0 + 8 * kMs, 12, Side::kBid, 10000, 3),     // behind us: filled
  };
  auto e = make_engine(events, std::move(s));
  e->run();
  const auto& fills = e->result().fills;
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].fill.queue_ahead_at_entry, 8);
  EXPECT_EQ(fills[0].fill.exch_ts_ns, T0 + 8 * kMs);
  const auto& q = got.queue.at(1);
  auto ahead_at = [&](TimestampNs t) {
    Qty a = -2;
    for (const auto& [ts, v] : q) {
      if (ts <= t) a = v;
    }
    return a;
  };
  EXPECT_EQ(ahead_at(T0 + 4 * kMs + 1), 4);
  EXPECT_EQ(ahead_at(T0 + 5 * kMs + 1), 2);
  EXPECT_EQ(ahead_at(T0 + 6 * kMs + 1), 0);
}

TEST(ExchangeL3, VenueModifiesAheadOfUsAdvanceUsByWhatLeavesTheQueueAhead) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->sample_queue = true;
  s->at(T0 + 3 * kMs, [](Context& c) { c.submit(limit(Side::kBid, 10000, 1, TimeInForce::kGtc, 1)); });
  std::vector<Event> events = {
      add(T0, 10, Side::kAsk, 10002, 10),
      add(T0 + 1 * kMs, 11, Side::kBid, 10000, 5),
      add(T0 + 2 * kMs, 12, Side::kBid, 10000, 3),
      modify(T0 + 4 * kMs, 11, Side::kBid, 10000, 2),  // decrease keeps its place: 8 -> 5
      modify(T0 + 5 * kMs, 12, Side::kBid, 9999, 3),   // leaves the level: 5 -> 2
      modify(T0 + 6 * kMs, 11, Side::kBid, 10000, 4),  // increase: behind us now: 2 -> 0
      exec(T0 + 7 * kMs, 11, Side::kBid, 10000, 4),    // behind us: we are filled
  };
  auto e = make_engine(events, std::move(s));
  e->run();
  const auto& q = got.queue.at(1);
  EXPECT_EQ(last_before(q, T0 + 4 * kMs + 1), 5);
  EXPECT_EQ(last_before(q, T0 + 5 * kMs + 1), 2);
  EXPECT_EQ(last_before(q, T0 + 6 * kMs + 1), 0);
  ASSERT_EQ(e->result().fills.size(), 1u);
  EXPECT_EQ(e->result().fills[0].fill.exch_ts_ns, T0 + 7 * kMs);
}

TEST(ExchangeL3, HiddenTradeAtOurPriceFillsOnlyAtTheFrontAndTradesThroughFillUpToTheirQuantity) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->at(T0 + 2 * kMs, [](Context& c) {
    c.submit(limit(Side::kBid, 10000, 3, TimeInForce::kGtc, 1));  // ahead 5 (id 11)
    c.submit(limit(Side::kBid, 9999, 2, TimeInForce::kGtc, 2));   // ahead 0
  });
  std::vector<Event> events = {
      add(T0, 10, Side::kAsk, 10002, 10),
      add(T0 + 1 * kMs, 11, Side::kBid, 10000, 5),
      trade(T0 + 3 * kMs, Side::kAsk, 10000, 4),  // hidden, at order 1's price, ahead 5: nothing
      trade(T0 + 4 * kMs, Side::kAsk, 9999, 1),   // through order 1 (better price first): 1 of 3;
                                                  // nothing left for order 2 at the print's price
      trade(T0 + 5 * kMs, Side::kAsk, 9998, 5),   // through both: order 1's last 2, then order 2's 2
  };
  auto e = make_engine(events, std::move(s));
  e->run();
  const auto& fills = e->result().fills;
  ASSERT_EQ(fills.size(), 3u);
  EXPECT_EQ(fills[0].fill.order_id, 1u);
  EXPECT_EQ(fills[0].fill.qty, 1);
  EXPECT_EQ(fills[0].fill.price, 10000);
  EXPECT_EQ(fills[1].fill.order_id, 1u);
  EXPECT_EQ(fills[1].fill.qty, 2);
  EXPECT_EQ(fills[1].fill.price, 10000);
  EXPECT_EQ(fills[2].fill.order_id, 2u);
  EXPECT_EQ(fills[2].fill.qty, 2);
  EXPECT_EQ(fills[2].fill.price, 9999);
}

TEST(ExchangeL3, DatabentoFillOfAnOrderBehindUsFillsUsAndTradePrintsAreNotCountedTwice) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->at(T0 + 2 * kMs, [](Context& c) { c.submit(limit(Side::kBid, 10000, 2, TimeInForce::kGtc, 1)); });
  const std::uint16_t mid = 0;
  std::vector<Event> events = {
      add(T0, 10, Side::kAsk, 10002, 10),
      add(T0 + 1 * kMs, 11, Side::kBid, 10000, 1),
      add(T0 + 3 * kMs, 12, Side::kBid, 10000, 5),
      // T, F, C, F, C of one aggressor selling 4 (CME / Databento MBO order of records).
      make_event(EventKind::kTrade, T0 + 4 * kMs, Side::kAsk, 10000, 4, 0, mid),
      make_event(EventKind::kFill, T0 + 4 * kMs, Side::kBid, 10000, 1, 11, mid),   // ahead: no change
      make_event(EventKind::kCancel, T0 + 4 * kMs, Side::kBid, 10000, 1, 11, mid),  // ahead -> 0
      make_event(EventKind::kFill, T0 + 4 * kMs, Side::kBid, 10000, 3, 12, mid),   // behind: we get 2
      make_event(EventKind::kCancel, T0 + 4 * kMs, Side::kBid, 10000, 3, 12, kDone),
  };
  auto e = make_engine(events, std::move(s), base_config(), mmkit::data::BookLevel::kL3, "databento-mbo");
  e->run();
  const auto& fills = e->result().fills;
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].fill.qty, 2);
  EXPECT_EQ(e->position(), 2);
}

TEST(ExchangeL3, ModifySizeDecreaseKeepsPriority) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->sample_queue = true;
  s->at(T0 + 2 * kMs, [](Context& c) { c.submit(limit(Side::kBid, 10000, 5, TimeInForce::kGtc, 1)); });
  s->at(T0 + 4 * kMs, [](Context& c) { c.modify(1, 10000, 3); });
  std::vector<Event> events = {
      add(T0, 10, Side::kAsk, 10002, 10),
      add(T0 + 1 * kMs, 11, Side::kBid, 10000, 5),
      add(T0 + 3 * kMs, 12, Side::kBid, 10000, 6),   // behind us
      exec(T0 + 5 * kMs, 11, Side::kBid, 10000, 5),  // ahead -> 0
      exec(T0 + 6 * kMs, 12, Side::kBid, 10000, 6),  // behind: we fill our 3
  };
  auto e = make_engine(events, std::move(s));
  e->run();
  const auto u = updates_of(got, 1);
  ASSERT_GE(u.size(), 2u);
  EXPECT_EQ(u[1]->kind, OrderEventKind::kModified);
  EXPECT_EQ(u[1]->qty, 3);
  const auto& fills = e->result().fills;
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].fill.qty, 3);
  EXPECT_EQ(fills[0].fill.exch_ts_ns, T0 + 6 * kMs);
  EXPECT_EQ(fills[0].fill.queue_ahead_at_entry, 5);
}

TEST(ExchangeL3, ModifySizeIncreaseLosesPriority) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->sample_queue = true;
  s->at(T0 + 2 * kMs, [](Context& c) { c.submit(limit(Side::kBid, 10000, 2, TimeInForce::kGtc, 1)); });
  s->at(T0 + 4 * kMs, [](Context& c) { c.modify(1, 10000, 4); });
  std::vector<Event> events = {
      add(T0, 10, Side::kAsk, 10002, 10),
      add(T0 + 1 * kMs, 11, Side::kBid, 10000, 5),
      add(T0 + 3 * kMs, 12, Side::kBid, 10000, 3),   // behind us, until our modify
      exec(T0 + 5 * kMs, 11, Side::kBid, 10000, 5),  // ahead: 8 -> 3
      exec(T0 + 6 * kMs, 12, Side::kBid, 10000, 3),  // now ahead of us: 0, no fill
      add(T0 + 7 * kMs, 13, Side::kBid, 10000, 9),
      exec(T0 + 8 * kMs, 13, Side::kBid, 10000, 9),  // behind: we fill 4
  };
  auto e = make_engine(events, std::move(s));
  e->run();
  const auto& fills = e->result().fills;
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].fill.exch_ts_ns, T0 + 8 * kMs);
  EXPECT_EQ(fills[0].fill.qty, 4);
  EXPECT_EQ(fills[0].fill.queue_ahead_at_entry, 8);  // re-queued behind 5 + 3
}

TEST(ExchangeL3, ModifyToQtyAtOrBelowFilledCancelsTheRest) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->at(T0 + 1 * kMs, [](Context& c) { c.submit(limit(Side::kBid, 10000, 5, TimeInForce::kGtc, 1)); });
  s->at(T0 + 3 * kMs, [](Context& c) { c.modify(1, 10000, 2); });
  std::vector<Event> events = {
      add(T0, 10, Side::kAsk, 10002, 10),
      add(T0 + 2 * kMs, 11, Side::kBid, 10000, 5),
      exec(T0 + 2 * kMs, 11, Side::kBid, 10000, 2),  // behind us: we fill 2
      add(T0 + 4 * kMs, 12, Side::kBid, 9999, 1),
  };
  auto e = make_engine(events, std::move(s));
  e->run();
  const auto u = updates_of(got, 1);
  ASSERT_EQ(u.back()->kind, OrderEventKind::kCanceled);
  EXPECT_EQ(u.back()->filled, 2);
  EXPECT_EQ(e->position(), 2);
}

TEST(ExchangeL3, CrossingBookFillsUsAtOurPriceOncePerPieceOfVolume) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->at(T0 + 1 * kMs, [](Context& c) { c.submit(limit(Side::kBid, 10000, 5, TimeInForce::kGtc, 1)); });
  std::vector<Event> events = {
      add(T0, 10, Side::kAsk, 10002, 10),
      add(T0, 11, Side::kBid, 9999, 5),
      add(T0 + 2 * kMs, 12, Side::kAsk, 10000, 3),  // reaches our bid: 3 at 100.00
      add(T0 + 3 * kMs, 13, Side::kBid, 9998, 1),   // unrelated: no second fill from id 12
      add(T0 + 4 * kMs, 14, Side::kAsk, 10000, 4),  // new volume: the 2 we still want
  };
  auto e = make_engine(events, std::move(s));
  e->run();
  const auto& fills = e->result().fills;
  ASSERT_EQ(fills.size(), 2u);
  EXPECT_EQ(fills[0].fill.exch_ts_ns, T0 + 2 * kMs);
  EXPECT_EQ(fills[0].fill.qty, 3);
  EXPECT_EQ(fills[0].fill.price, 10000);
  EXPECT_TRUE(fills[0].fill.maker);
  EXPECT_EQ(fills[1].fill.exch_ts_ns, T0 + 4 * kMs);
  EXPECT_EQ(fills[1].fill.qty, 2);
  EXPECT_EQ(e->position(), 5);
}

TEST(ExchangeL3, CrossedReplayedBookIsAnErrorNamingTheRecord) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  std::vector<Event> events = {add(T0, 10, Side::kAsk, 10002, 10), add(T0, 11, Side::kBid, 10002, 5)};
  auto e = make_engine(events, std::move(s));
  try {
    e->run();
    FAIL() << "expected mmkit::Error";
  } catch (const mmkit::Error& err) {
    EXPECT_NE(std::string(err.what()).find("test:2"), std::string::npos) << err.what();
    EXPECT_NE(std::string(err.what()).find("crossed"), std::string::npos) << err.what();
  }
}

TEST(ExchangeL3, RejectedReplayEventIsAnErrorNamingTheRecord) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  std::vector<Event> events = {add(T0, 10, Side::kAsk, 10002, 10), exec(T0, 10, Side::kAsk, 10002, 11)};
  auto e = make_engine(events, std::move(s));
  try {
    e->run();
    FAIL() << "expected mmkit::Error";
  } catch (const mmkit::Error& err) {
    EXPECT_NE(std::string(err.what()).find("test:2"), std::string::npos) << err.what();
  }
}

// ---------------------------------------------------------------------------------------------
// Queue position on L2 data

/// Bid 100.00 × 10 / ask 100.02 × 10; we join the bid with 1 lot; 10 more join behind us; 6 are
/// canceled (no trade); then sell trades of 8 and 3 at 100.00.
std::vector<Event> l2_queue_stream() {
  return {
      level(T0, Side::kBid, 10000, 10, 0),
      level(T0, Side::kAsk, 10002, 10, kDone),
      level(T0 + 2 * kMs, Side::kBid, 10000, 20),
      level(T0 + 3 * kMs, Side::kBid, 10000, 14),
      trade(T0 + 4 * kMs, Side::kAsk, 10000, 8),
      level(T0 + 4 * kMs + 500 * kUs, Side::kBid, 10000, 6),
      trade(T0 + 5 * kMs, Side::kAsk, 10000, 3),
      level(T0 + 5 * kMs + 500 * kUs, Side::kBid, 10000, 3),
  };
}

struct L2Run {
  std::vector<mmkit::engine::FillRecord> fills;
  std::vector<std::pair<TimestampNs, Qty>> queue;
};

L2Run run_l2_queue(const std::string& model) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->sample_queue = true;
  s->at(T0 + 1 * kMs, [](Context& c) { c.submit(limit(Side::kBid, 10000, 1, TimeInForce::kGtc, 1)); });
  auto cfg = base_config();
  cfg.queue_model = model;
  auto e = make_engine(l2_queue_stream(), std::move(s), std::move(cfg), mmkit::data::BookLevel::kL2);
  e->run();
  return {e->result().fills, got.queue[1]};
}

TEST(ExchangeL2, RiskAverseAndProbabilisticQueueModelsFillAtDifferentTimes) {
  const L2Run ra = run_l2_queue("risk-averse");
  const L2Run pb = run_l2_queue("prob-power-2");
  // Risk-averse: the cancel of 6 does not advance us (ahead 10); the trade of 8 leaves 2 ahead;
  // the trade of 3 reaches us.
  EXPECT_EQ(last_before(ra.queue, T0 + 3 * kMs + 1), 10);
  EXPECT_EQ(last_before(ra.queue, T0 + 4 * kMs + 1), 2);
  ASSERT_EQ(ra.fills.size(), 1u);
  EXPECT_EQ(ra.fills[0].fill.exch_ts_ns, T0 + 5 * kMs);
  // prob-power-2: ahead 10, behind 10 -> half the cancel (3) is ahead: 7; the trade of 8 fills us.
  EXPECT_EQ(last_before(pb.queue, T0 + 3 * kMs + 1), 7);
  ASSERT_EQ(pb.fills.size(), 1u);
  EXPECT_EQ(pb.fills[0].fill.exch_ts_ns, T0 + 4 * kMs);
  EXPECT_EQ(pb.fills[0].fill.queue_ahead_at_entry, 10);
  EXPECT_TRUE(pb.fills[0].fill.maker);
}

TEST(ExchangeL2, RiskAverseNeverAdvancesOnACancelOnlyOnADepthCut) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->sample_queue = true;
  s->at(T0 + 1 * kMs, [](Context& c) { c.submit(limit(Side::kBid, 10000, 1, TimeInForce::kGtc, 1)); });
  std::vector<Event> events = {
      level(T0, Side::kBid, 10000, 10, 0),        level(T0, Side::kAsk, 10002, 10, kDone),
      level(T0 + 2 * kMs, Side::kBid, 10000, 30), level(T0 + 3 * kMs, Side::kBid, 10000, 12),
      level(T0 + 4 * kMs, Side::kBid, 10000, 4),  level(T0 + 5 * kMs, Side::kBid, 10000, 9),
  };
  auto cfg = base_config();
  cfg.queue_model = "risk-averse";
  auto e = make_engine(events, std::move(s), std::move(cfg), mmkit::data::BookLevel::kL2);
  e->run();
  const auto& q = got.queue[1];
  EXPECT_EQ(last_before(q, T0 + 2 * kMs + 1), 10);
  EXPECT_EQ(last_before(q, T0 + 3 * kMs + 1), 10);  // 30 -> 12: no advance
  EXPECT_EQ(last_before(q, T0 + 4 * kMs + 1), 4);   // depth cut caps it
  EXPECT_EQ(last_before(q, T0 + 5 * kMs + 1), 4);
  EXPECT_TRUE(e->result().fills.empty());
}

TEST(Exchange, OwnTakerVolumeIsOnlyRemovedWhenOwnOrdersTakeLiquidity) {
  // Asks at 100.02: 10; the venue then cancels 3 (7 left) and adds 5 (12). Four IOC buys of 6.
  const std::vector<Event> l3 = {
      add(T0, 1, Side::kBid, 10000, 10),           add(T0, 2, Side::kAsk, 10002, 10),
      cancel(T0 + 2 * kMs, 2, Side::kAsk, 10002, 3), add(T0 + 3 * kMs, 3, Side::kAsk, 10002, 5),
      add(T0 + 4 * kMs, 4, Side::kBid, 9999, 1)};
  const std::vector<Event> l2 = {
      level(T0, Side::kBid, 10000, 10, 0),         level(T0, Side::kAsk, 10002, 10, kDone),
      level(T0 + 2 * kMs, Side::kAsk, 10002, 7),   level(T0 + 3 * kMs, Side::kAsk, 10002, 12),
      level(T0 + 4 * kMs, Side::kBid, 9999, 1)};
  for (const bool is_l3 : {true, false}) {
    for (const bool take : {false, true}) {
      Received got;
      auto s = std::make_unique<TestStrategy>(&got);
      auto ioc = [](Context& c) { c.submit(limit(Side::kBid, 10002, 6, TimeInForce::kIoc)); };
      s->at(T0 + 1 * kMs, [&](Context& c) {
        ioc(c);
        ioc(c);
      });
      s->at(T0 + 2 * kMs + 500 * kUs, ioc);
      s->at(T0 + 3 * kMs + 500 * kUs, ioc);
      auto cfg = base_config();
      cfg.own_orders_take_liquidity = take;
      auto e = make_engine(is_l3 ? l3 : l2, std::move(s), std::move(cfg),
                           is_l3 ? mmkit::data::BookLevel::kL3 : mmkit::data::BookLevel::kL2);
      e->run();
      // Not taken: every IOC sees the replayed volume. Taken: 6 + 4, then the venue's cancel of
      // 3 comes out of the 10 we took (7 left = all ours: nothing for the third IOC), then 5 new.
      EXPECT_EQ(e->position(), take ? 15 : 24) << is_l3 << take;
      if (take) {
        ASSERT_EQ(got.updates.size(), 6u);
        EXPECT_EQ(got.updates[3].reason, RejectReason::kNoLiquidity);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Latency

TEST(ExchangeLatency, OrderArrivesAfterEntryAndResponseComesBackAfterResponseLatency) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->at(T0 + 1 * kMs, [](Context& c) { c.submit(limit(Side::kBid, 10000, 1, TimeInForce::kGtc, 1)); });
  auto cfg = base_config();
  cfg.order_latency = std::make_unique<mmkit::exchange::ConstantOrderLatency>(2 * kMs, 3 * kMs);
  auto events = l3_opening();
  events.push_back(add(T0 + 10 * kMs, 3, Side::kBid, 9998, 1));
  auto e = make_engine(events, std::move(s), std::move(cfg));
  e->run();
  const auto u = updates_of(got, 1);
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0]->kind, OrderEventKind::kAccepted);
  EXPECT_EQ(u[0]->exch_ts_ns, T0 + 3 * kMs);
  EXPECT_EQ(u[0]->local_ts_ns, T0 + 6 * kMs);
  const auto& log = e->result().orders;
  ASSERT_GE(log.size(), 2u);
  EXPECT_EQ(log[0].update.kind, OrderEventKind::kSubmitted);
  EXPECT_EQ(log[0].update.local_ts_ns, T0 + 1 * kMs);
  EXPECT_EQ(log[1].update.kind, OrderEventKind::kAccepted);
}

TEST(ExchangeLatency, CancelThatLosesTheRaceToAFillIsTooLateAndTheFillStands) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->at(T0 + 1 * kMs, [](Context& c) { c.submit(limit(Side::kBid, 10000, 3, TimeInForce::kGtc, 1)); });
  s->at(T0 + 3 * kMs, [](Context& c) { EXPECT_TRUE(c.cancel(1)); });  // arrives at T0 + 4 ms
  auto cfg = base_config();
  cfg.order_latency = std::make_unique<mmkit::exchange::ConstantOrderLatency>(1 * kMs, 1 * kMs);
  auto events = l3_opening();
  events.push_back(exec(T0 + 3 * kMs + 500 * kUs, 1, Side::kBid, 9999, 4));  // through our bid
  events.push_back(add(T0 + 10 * kMs, 3, Side::kBid, 9998, 1));
  auto e = make_engine(events, std::move(s), std::move(cfg));
  e->run();
  const auto u = updates_of(got, 1);
  ASSERT_EQ(u.size(), 3u);
  EXPECT_EQ(u[0]->kind, OrderEventKind::kAccepted);
  EXPECT_EQ(u[1]->kind, OrderEventKind::kFilled);
  EXPECT_EQ(u[1]->exch_ts_ns, T0 + 3 * kMs + 500 * kUs);
  EXPECT_EQ(u[2]->kind, OrderEventKind::kRejected);
  EXPECT_EQ(u[2]->reason, RejectReason::kTooLateToCancel);
  EXPECT_EQ(u[2]->exch_ts_ns, T0 + 4 * kMs);
  EXPECT_EQ(e->position(), 3);
  EXPECT_EQ(got.end_position, 3);
}

TEST(ExchangeLatency, CancelThatWinsTheRaceCancels) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->at(T0 + 1 * kMs, [](Context& c) { c.submit(limit(Side::kBid, 10000, 3, TimeInForce::kGtc, 1)); });
  s->at(T0 + 3 * kMs, [](Context& c) { c.cancel(1); });
  auto cfg = base_config();
  cfg.order_latency = std::make_unique<mmkit::exchange::ConstantOrderLatency>(1 * kMs, 1 * kMs);
  auto events = l3_opening();
  events.push_back(exec(T0 + 4 * kMs + 500 * kUs, 1, Side::kBid, 9999, 4));
  auto e = make_engine(events, std::move(s), std::move(cfg));
  e->run();
  const auto u = updates_of(got, 1);
  ASSERT_EQ(u.size(), 2u);
  EXPECT_EQ(u[1]->kind, OrderEventKind::kCanceled);
  EXPECT_EQ(e->position(), 0);
}

TEST(ExchangeLatency, SecondCancelIsUnknownOrderAndTheLogShowsWhatWasSent) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->at(T0 + 1 * kMs, [](Context& c) { c.submit(limit(Side::kBid, 10000, 3, TimeInForce::kGtc, 1)); });
  s->at(T0 + 2 * kMs, [](Context& c) {
    EXPECT_TRUE(c.modify(1, 9999, 3));
    EXPECT_TRUE(c.cancel(1));
    EXPECT_TRUE(c.cancel(1));  // still open locally: sent, and unknown when it arrives
    EXPECT_FALSE(c.cancel(42));
  });
  s->at(T0 + 3 * kMs, [](Context& c) { EXPECT_FALSE(c.cancel(1)); });  // terminal locally
  auto cfg = base_config();
  cfg.order_latency = std::make_unique<mmkit::exchange::ConstantOrderLatency>(100 * kUs, 100 * kUs);
  auto events = l3_opening();
  events.push_back(add(T0 + 5 * kMs, 3, Side::kBid, 9998, 1));
  auto e = make_engine(events, std::move(s), std::move(cfg));
  e->run();
  const auto u = updates_of(got, 1);
  ASSERT_EQ(u.size(), 4u);
  EXPECT_EQ(u[1]->kind, OrderEventKind::kModified);
  EXPECT_EQ(u[1]->price, 9999);
  EXPECT_EQ(u[2]->kind, OrderEventKind::kCanceled);
  EXPECT_EQ(u[3]->kind, OrderEventKind::kRejected);
  EXPECT_EQ(u[3]->reason, RejectReason::kUnknownOrder);
  EXPECT_EQ(u[3]->status, OrderStatus::kCanceled);
  std::vector<OrderEventKind> kinds;
  for (const auto& entry : e->result().orders) kinds.push_back(entry.update.kind);
  const std::vector<OrderEventKind> want = {
      OrderEventKind::kSubmitted,  OrderEventKind::kAccepted, OrderEventKind::kModifySent,
      OrderEventKind::kCancelSent, OrderEventKind::kCancelSent, OrderEventKind::kModified,
      OrderEventKind::kCanceled,   OrderEventKind::kRejected};
  EXPECT_EQ(kinds, want);
  for (std::size_t i = 1; i < e->result().orders.size(); ++i) {
    EXPECT_LE(e->result().orders[i - 1].update.local_ts_ns, e->result().orders[i].update.local_ts_ns);
  }
}

TEST(ExchangeLatency, FeedLatencyFromDataRemovesTheClockOffset) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  // Local clock 1.3 s behind the exchange, plus 5, 2 and 7 ms of transport: offset -1.298 s.
  auto t1 = trade(T0 + 1 * kMs, Side::kBid, 10001, 1);
  t1.local_ts_ns = T0 + 1 * kMs - 1'300 * kMs + 5 * kMs;
  auto t2 = trade(T0 + 2 * kMs, Side::kBid, 10001, 1);
  t2.local_ts_ns = T0 + 2 * kMs - 1'300 * kMs + 2 * kMs;
  auto t3 = trade(T0 + 3 * kMs, Side::kBid, 10001, 1);
  t3.local_ts_ns = T0 + 3 * kMs - 1'300 * kMs + 7 * kMs;
  std::vector<Event> events = {level(T0, Side::kBid, 10000, 10, 0), level(T0, Side::kAsk, 10001, 10, kDone)};
  events[0].local_ts_ns = events[1].local_ts_ns = T0 - 1'300 * kMs + 4 * kMs;
  events.push_back(t1);
  events.push_back(t2);
  events.push_back(t3);
  auto cfg = base_config();
  cfg.feed_latency.mode = mmkit::exchange::FeedLatencyConfig::Mode::kFromData;
  cfg.feed_latency.floor_ns = 100 * kUs;
  auto e = make_engine(events, std::move(s), std::move(cfg), mmkit::data::BookLevel::kL2);
  e->run();
  ASSERT_EQ(got.trades.size(), 3u);
  EXPECT_EQ(got.trades[0].local_ts_ns, T0 + 1 * kMs + 3 * kMs + 100 * kUs);
  EXPECT_EQ(got.trades[1].local_ts_ns, T0 + 4 * kMs + 100 * kUs);  // FIFO: not before the first
  EXPECT_EQ(got.trades[2].local_ts_ns, T0 + 3 * kMs + 5 * kMs + 100 * kUs);
  EXPECT_EQ(got.trades[0].exch_ts_ns, T0 + 1 * kMs);
  EXPECT_EQ(got.trades[0].side, Side::kBid);
}

// ---------------------------------------------------------------------------------------------
// Risk limits

TEST(ExchangeRisk, BreachesAreRejectedAtOnceWithTheirReasonAndNothingIsSent) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->at(T0 + 1 * kMs, [](Context& c) {
    c.submit(limit(Side::kBid, 10000, 6, TimeInForce::kGtc, 1));  // > max_order_qty 5
    c.submit(limit(Side::kBid, 9990, 5, TimeInForce::kGtc, 2));   // 5 × 99.90 = 499.5: ok
    c.submit(limit(Side::kBid, 4000, 5, TimeInForce::kGtc, 3));   // worst 10 × 40.00: ok
    c.submit(limit(Side::kBid, 4000, 1, TimeInForce::kGtc, 4));   // worst case 11 > 10
    c.submit(limit(Side::kAsk, 10010, 4, TimeInForce::kGtc, 5));  // third open order: ok
    c.submit(limit(Side::kAsk, 10010, 1, TimeInForce::kGtc, 6));  // max_open_orders 3
  });
  s->at(T0 + 2 * kMs, [](Context& c) {
    c.cancel(5);
    c.modify(2, 9990, 6);  // > max_order_qty
  });
  s->at(T0 + 3 * kMs, [](Context& c) {
    c.submit(limit(Side::kAsk, 10010, 5, TimeInForce::kGtc, 7));  // notional 5 × 100.10 > 500
  });
  auto cfg = base_config();
  cfg.risk.max_order_qty = 5;
  cfg.risk.max_position = 10;
  cfg.risk.max_open_orders = 3;
  cfg.risk.max_notional = 500;
  auto events = l3_opening();
  events.push_back(add(T0 + 10 * kMs, 3, Side::kBid, 9998, 1));
  auto e = make_engine(events, std::move(s), std::move(cfg));
  e->run();
  auto reason_of = [&](ClientOrderId id) {
    for (const auto& u : got.updates) {
      if (u.order_id == id && u.kind == OrderEventKind::kRejected) return u.reason;
    }
    return RejectReason::kNone;
  };
  EXPECT_EQ(reason_of(1), RejectReason::kRiskMaxOrderSize);
  EXPECT_EQ(reason_of(2), RejectReason::kRiskMaxOrderSize);  // the modify
  EXPECT_EQ(reason_of(3), RejectReason::kNone);
  EXPECT_EQ(reason_of(4), RejectReason::kRiskMaxPosition);
  EXPECT_EQ(reason_of(5), RejectReason::kNone);
  EXPECT_EQ(reason_of(6), RejectReason::kRiskMaxOpenOrders);
  EXPECT_EQ(reason_of(7), RejectReason::kRiskMaxNotional);
  for (const auto& u : got.updates) {
    if (u.reason == RejectReason::kRiskMaxOrderSize || u.reason == RejectReason::kRiskMaxPosition ||
        u.reason == RejectReason::kRiskMaxOpenOrders || u.reason == RejectReason::kRiskMaxNotional) {
      EXPECT_EQ(u.exch_ts_ns, kNoTimestamp);  // never reached the exchange
    }
  }
  // Order 2 stays open at its old size after the rejected modify.
  const auto u2 = updates_of(got, 2);
  ASSERT_EQ(u2.size(), 2u);
  EXPECT_EQ(u2[1]->status, OrderStatus::kOpen);
  EXPECT_EQ(u2[1]->qty, 5);
  EXPECT_EQ(updates_of(got, 1).size(), 1u);  // nothing came back from the exchange
}

// ---------------------------------------------------------------------------------------------
// Determinism and stepping

/// A random but valid L3 order flow around 100.00 (bids 99.95-99.99, asks 100.01-100.05, so
/// never crossed): adds, partial cancels, venue modifies (a decrease keeps the place, an increase
/// or a price change goes to the tail), executions at the front of the best level and hidden
/// prints at the best price. Event times strictly increase. Deterministic for a seed.
std::vector<Event> random_l3_flow(std::uint64_t seed, int n) {
  mmkit::exchange::Rng rng(seed);
  struct O {
    OrderId id;
    Qty qty;
  };
  std::map<Price, std::deque<O>> bids, asks;  // price -> FIFO
  std::vector<Event> out;
  OrderId next = 1;
  TimestampNs t = T0;
  auto live = [&](std::map<Price, std::deque<O>>& m) {
    std::size_t c = 0;
    for (auto& [p, q] : m) c += q.size();
    return c;
  };
  auto random_price = [&](bool bid) {
    return bid ? 9999 - static_cast<Price>(rng.below(5)) : 10001 + static_cast<Price>(rng.below(5));
  };
  // The k-th live order of m: (level iterator, index in its FIFO).
  auto pick = [&](std::map<Price, std::deque<O>>& m) {
    std::size_t k = rng.below(live(m));
    auto it = m.begin();
    while (k >= it->second.size()) {
      k -= it->second.size();
      ++it;
    }
    return std::make_pair(it, k);
  };
  for (int i = 0; i < n; ++i) {
    t += 1 + static_cast<TimestampNs>(rng.below(3 * kMs));
    const std::uint64_t r = rng.below(100);
    const bool bid = rng.below(2) == 0;
    auto& m = bid ? bids : asks;
    const Side s = bid ? Side::kBid : Side::kAsk;
    if (r < 45 || live(m) < 3) {
      const Price p = random_price(bid);
      const Qty q = 1 + static_cast<Qty>(rng.below(9));
      m[p].push_back({next, q});
      out.push_back(add(t, next++, s, p, q));
    } else if (r < 65) {
      auto [it, k] = pick(m);
      O& o = it->second[k];
      const Qty q = 1 + static_cast<Qty>(rng.below(static_cast<std::uint64_t>(o.qty)));
      out.push_back(cancel(t, o.id, s, it->first, q));
      o.qty -= q;
      if (o.qty == 0) it->second.erase(it->second.begin() + static_cast<std::ptrdiff_t>(k));
      if (it->second.empty()) m.erase(it);
    } else if (r < 75) {
      auto [it, k] = pick(m);
      O o = it->second[k];
      const std::uint64_t how = rng.below(3);
      if (how == 0 && o.qty > 1) {
        it->second[k].qty = 1 + static_cast<Qty>(rng.below(static_cast<std::uint64_t>(o.qty - 1)));
        out.push_back(modify(t, o.id, s, it->first, it->second[k].qty));
        continue;
      }
      const Price p = how == 2 ? random_price(bid) : it->first;
      const Qty q = how == 2 ? o.qty : o.qty + 1 + static_cast<Qty>(rng.below(4));
      it->second.erase(it->second.begin() + static_cast<std::ptrdiff_t>(k));
      if (it->second.empty()) m.erase(it);
      m[p].push_back({o.id, q});
      out.push_back(modify(t, o.id, s, p, q));
    } else if (r < 95) {
      auto it = bid ? std::prev(m.end()) : m.begin();
      O& o = it->second.front();
      const Qty q = 1 + static_cast<Qty>(rng.below(static_cast<std::uint64_t>(o.qty)));
      out.push_back(exec(t, o.id, s, it->first, q));
      o.qty -= q;
      if (o.qty == 0) it->second.pop_front();
      if (it->second.empty()) m.erase(it);
    } else {
      const Price p = bid ? std::prev(m.end())->first : m.begin()->first;
      out.push_back(trade(t, opposite(s), p, 1 + static_cast<Qty>(rng.below(3))));
    }
  }
  return out;
}

/// Joins the best bid and ask with 1 lot; requotes (cancel + new) when the best moves away.
class JoinBest final : public mmkit::strategy::Strategy {
 public:
  /// `lots`: quote size in lots of the instrument.
  explicit JoinBest(Qty lots = 1, std::uint64_t every = 1) : lot_(lots), every_(every) {}
  void on_book_update(Context& c) override {
    if (++n_ % every_ != 0) return;
    for (const Side s : {Side::kBid, Side::kAsk}) {
      const auto best = c.book().best(s);
      if (best.price == kNoPrice) continue;
      bool have = false;
      for (const auto& o : c.open_orders()) {
        if (o.side != s) continue;
        if (o.price == best.price || o.cancel_pending || o.status == OrderStatus::kPendingNew) {
          have = true;
        } else {
          c.cancel(o.id);
          have = true;
        }
      }
      if (!have) c.submit(limit(s, best.price, lot_ * c.instrument().lot_size, TimeInForce::kPostOnly));
    }
  }
  void on_fill(Context&, const Fill&) override { ++fills_; }
  std::uint64_t fills_ = 0;

 private:
  Qty lot_;
  std::uint64_t every_;
  std::uint64_t n_ = 0;
};

/// Submits one order at the first book update at or after `at`, then records the exchange's
/// queue estimate for it at every book update and trade print.
class OneOrder final : public mmkit::strategy::Strategy {
 public:
  OneOrder(TimestampNs at, OrderRequest req) : at_(at), req_(req) {}
  void on_book_update(Context& c) override {
    if (!sent_ && c.now() >= at_) {
      sent_ = true;
      c.submit(req_);
    }
    record(c);
  }
  void on_trade(Context& c, const TradeView&) override { record(c); }
  void on_order_update(Context&, const OrderUpdate& u) override {
    if (u.kind == OrderEventKind::kAccepted) rested_at = u.exch_ts_ns;
  }
  std::vector<std::pair<TimestampNs, Qty>> ahead;
  TimestampNs rested_at = kNoTimestamp;

 private:
  void record(Context& c) {
    for (const auto& o : c.open_orders()) {
      if (o.queue_ahead >= 0) ahead.emplace_back(c.now(), o.queue_ahead);
    }
  }
  TimestampNs at_;
  OrderRequest req_;
  bool sent_ = false;
};

// The reference: the replayed events applied to a naive L3 book that also holds our order (a
// phantom id) from the moment it rested. Until our first fill, the engine's queue estimate must
// equal the phantom's queue_ahead after every event.
TEST(ExchangeL3, QueueAheadAndFirstFillMatchAShadowBookHoldingOurOrder) {
  std::uint64_t compared = 0, scenarios_with_fill = 0;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    const std::vector<Event> events = random_l3_flow(100 + seed, 1500);
    mmkit::exchange::Rng rng(seed);
    const bool bid = rng.below(2) == 0;
    const Side side = bid ? Side::kBid : Side::kAsk;
    const Price price = bid ? 9999 - static_cast<Price>(rng.below(4)) : 10001 + static_cast<Price>(rng.below(4));
    const TimestampNs at = events[200 + rng.below(800)].exch_ts_ns;
    auto strategy = std::make_unique<OneOrder>(at, limit(side, price, 1 + static_cast<Qty>(rng.below(5))));
    OneOrder* one = strategy.get();
    auto cfg = base_config();
    cfg.timer_interval_ns = 1'000 * kMs;
    Engine e(std::make_unique<VectorSource>(events, mmkit::test::cents_spec(), mmkit::data::BookLevel::kL3), std::move(strategy),
             std::move(cfg));
    e.run();
    ASSERT_NE(one->rested_at, kNoTimestamp) << seed;
    const TimestampNs first_fill =
        e.result().fills.empty() ? std::numeric_limits<TimestampNs>::max() : e.result().fills[0].fill.exch_ts_ns;
    scenarios_with_fill += e.result().fills.empty() ? 0 : 1;
    constexpr OrderId kPhantom = OrderId{1} << 62;
    // When the phantom would first trade: an execution of an order behind it at its price, or
    // at a price through it; a hidden print at its price when it is at the front, or through it.
    TimestampNs want_fill = std::numeric_limits<TimestampNs>::max();
    {
      mmkit::book::NaiveL3Book ref;
      bool in = false;
      for (const Event& ev_ : events) {
        if (!in && ev_.exch_ts_ns > one->rested_at) {
          ASSERT_EQ(ref.add(kPhantom, side, price, 1), mmkit::Errc::kOk);
          in = true;
        }
        if (in) {
          const bool through = bid ? ev_.price < price : ev_.price > price;
          bool hit = false;
          if (ev_.kind == EventKind::kExecution && ev_.side == side) {
            hit = through || (ev_.price == price && ref.queue_ahead(ev_.order_id) > ref.queue_ahead(kPhantom));
          } else if (ev_.kind == EventKind::kTrade && ev_.side == opposite(side)) {
            hit = through || (ev_.price == price && ref.queue_ahead(kPhantom) == 0);
          }
          if (hit) {
            want_fill = ev_.exch_ts_ns;
            break;
          }
        }
        ASSERT_EQ(ref.apply(ev_), mmkit::Errc::kOk);
      }
    }
    EXPECT_EQ(first_fill, want_fill) << "seed " << seed;
    mmkit::book::NaiveL3Book shadow;
    std::size_t next_event = 0;
    bool phantom_in = false;
    for (const auto& [ts, ahead] : one->ahead) {
      if (ts >= first_fill) break;
      while (next_event < events.size() && events[next_event].exch_ts_ns <= ts) {
        if (!phantom_in && events[next_event].exch_ts_ns > one->rested_at) {
          ASSERT_EQ(shadow.add(kPhantom, side, price, 1), mmkit::Errc::kOk);
          phantom_in = true;
        }
        ASSERT_EQ(shadow.apply(events[next_event]), mmkit::Errc::kOk);
        ++next_event;
      }
      if (!phantom_in) {
        ASSERT_EQ(shadow.add(kPhantom, side, price, 1), mmkit::Errc::kOk);
        phantom_in = true;
      }
      ASSERT_EQ(ahead, shadow.queue_ahead(kPhantom)) << "seed " << seed << " at +" << (ts - T0) << " ns";
      ++compared;
    }
  }
  EXPECT_GT(compared, 20'000u);
  EXPECT_GT(scenarios_with_fill, 10u);  // 16 of the 60: the comparison runs up to a fill
}

EngineConfig stepping_config(std::uint64_t seed) {
  EngineConfig c;
  c.seed = seed;
  c.fees = mmkit::exchange::FeeSchedule::from_bps(-0.2, 3);
  c.timer_interval_ns = 7 * kMs;
  c.sample_interval_ns = 50 * kMs;
  c.markout_horizons_ns = {5 * kMs, 100 * kMs};
  c.feed_latency.mode = mmkit::exchange::FeedLatencyConfig::Mode::kConstant;
  c.feed_latency.constant_ns = 300 * kUs;
  c.order_latency = std::make_unique<mmkit::exchange::EmpiricalOrderLatency>(
      std::vector<TimestampNs>{100 * kUs, 700 * kUs, 2 * kMs}, std::vector<TimestampNs>{200 * kUs, 1500 * kUs});
  return c;
}

std::unique_ptr<Engine> stepping_engine(std::uint64_t seed) {
  return std::make_unique<Engine>(
      std::make_unique<VectorSource>(random_l3_flow(11, 3000), mmkit::test::cents_spec(), mmkit::data::BookLevel::kL3),
      std::make_unique<JoinBest>(), stepping_config(seed));
}

TEST(ExchangeEngine, SameInputsAndSeedGiveIdenticalResults) {
  auto a = stepping_engine(5);
  auto b = stepping_engine(5);
  a->run();
  b->run();
  ASSERT_GT(a->result().fills.size(), 20u);
  expect_same_results(a->result(), b->result());
  auto c = stepping_engine(6);  // other latency draws
  c->run();
  bool differs = c->result().orders.size() != a->result().orders.size();
  for (std::size_t i = 0; !differs && i < a->result().orders.size(); ++i) {
    differs = a->result().orders[i].update.local_ts_ns != c->result().orders[i].update.local_ts_ns;
  }
  EXPECT_TRUE(differs);
}

TEST(ExchangeEngine, StepRunUntilAndRunInPiecesEqualOneRun) {
  auto whole = stepping_engine(3);
  whole->run();
  auto parts = stepping_engine(3);
  EXPECT_TRUE(parts->step(0));
  EXPECT_TRUE(parts->step(1));
  EXPECT_EQ(parts->events_processed(), 1u);
  EXPECT_TRUE(parts->step(17));
  EXPECT_EQ(parts->events_processed(), 18u);
  const TimestampNs t = parts->now();
  EXPECT_TRUE(parts->run_until(t + 250 * kMs));
  EXPECT_EQ(parts->now(), t + 250 * kMs);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(parts->step(13));
    ASSERT_TRUE(parts->run_until(parts->now() + 3 * kMs + i));
  }
  EXPECT_FALSE(parts->finished());
  parts->run();
  EXPECT_TRUE(parts->finished());
  EXPECT_FALSE(parts->step(5));
  EXPECT_FALSE(parts->run_until(parts->now() + kMs));
  EXPECT_EQ(parts->events_processed(), whole->events_processed());
  expect_same_results(whole->result(), parts->result());
  expect_exact_accounting(*whole, whole->result(), 10000);
}

TEST(ExchangeEngine, StepReturnsFalseOnceTheDataIsExhausted) {
  auto e = stepping_engine(1);
  std::uint64_t calls = 0;
  while (e->step(1000)) ++calls;
  EXPECT_EQ(calls, 2u);  // 3000 events: two full steps, the third finishes
  EXPECT_TRUE(e->finished());
  EXPECT_EQ(e->events_processed(), 3000u);
  EXPECT_EQ(e->result().metrics.events, 3000u);
}

TEST(ExchangeEngine, AccountingIsExactAndTheStrategyEndsKnowingTheExchangeTruth) {
  Received got;
  auto e = std::make_unique<Engine>(
      std::make_unique<VectorSource>(random_l3_flow(21, 4000), mmkit::test::cents_spec(), mmkit::data::BookLevel::kL3),
      std::make_unique<JoinBest>(3), stepping_config(9));
  e->run();
  const auto& r = e->result();
  ASSERT_GT(r.fills.size(), 20u);
  bool maker = false, buy = false, sell = false;
  for (const auto& f : r.fills) {
    maker |= f.fill.maker;
    buy |= f.fill.side == Side::kBid;
    sell |= f.fill.side == Side::kAsk;
  }
  EXPECT_TRUE(maker && buy && sell);
  for (const Price mark : {Price{9990}, Price{10000}, Price{10013}}) expect_exact_accounting(*e, r, mark);
  EXPECT_EQ(e->context().position(), e->position());
  EXPECT_TRUE(e->context().cash() == e->cash());
  // The last sample holds the exchange-side truth at the end.
  ASSERT_FALSE(r.samples.empty());
  EXPECT_EQ(r.samples.back().position, e->position());
  EXPECT_TRUE(r.samples.back().cash == e->cash());
}

TEST(ExchangeEngine, WarmupEventsReachTheBookButNotTheStrategy) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  auto cfg = base_config();
  cfg.warmup_events = 3;
  std::vector<Event> events = {add(T0, 1, Side::kBid, 9999, 10), add(T0 + 1 * kMs, 2, Side::kAsk, 10001, 10),
                               exec(T0 + 2 * kMs, 2, Side::kAsk, 10001, 1),
                               exec(T0 + 3 * kMs, 2, Side::kAsk, 10001, 1)};
  auto e = make_engine(events, std::move(s), std::move(cfg));
  e->run();
  EXPECT_EQ(got.starts, 1);
  EXPECT_EQ(got.start_ts, T0 + 3 * kMs);
  ASSERT_EQ(got.trades.size(), 1u);  // only the fourth event's print
  EXPECT_EQ(got.trades[0].side, Side::kBid);  // an execution of an ask: buyer-initiated
  ASSERT_EQ(got.book_updates.size(), 1u);
  EXPECT_EQ(got.ends, 1);
}

TEST(ExchangeEngine, MarkoutsUseTheMidAtFillTimePlusHorizon) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->at(T0 + 1 * kMs, [](Context& c) { c.submit(limit(Side::kBid, 10001, 2, TimeInForce::kIoc, 1)); });
  auto cfg = base_config();
  cfg.markout_horizons_ns = {1 * kMs, 5 * kMs, 100 * kMs};
  std::vector<Event> events = {
      add(T0, 1, Side::kBid, 9999, 10), add(T0, 2, Side::kAsk, 10001, 10),   // mid 100.00
      add(T0 + 1 * kMs + 500 * kUs, 3, Side::kBid, 10000, 1),                 // mid 100.005
      add(T0 + 2 * kMs, 4, Side::kAsk, 10003, 1),  // exactly t + 1 ms: no change of best
      cancel(T0 + 2 * kMs, 3, Side::kBid, 10000, 1),  // same instant, included: mid 100.00
      add(T0 + 4 * kMs, 5, Side::kBid, 10000, 1),  // mid 100.005 (in effect at t + 5 ms)
      add(T0 + 7 * kMs, 6, Side::kAsk, 10002, 1),  // after t + 5 ms
  };
  auto e = make_engine(events, std::move(s), std::move(cfg));
  e->run();
  const auto& fills = e->result().fills;
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].fill.exch_ts_ns, T0 + 1 * kMs);
  EXPECT_EQ(fills[0].fill.price, 10001);
  ASSERT_EQ(fills[0].markouts.size(), 3u);
  EXPECT_NEAR(fills[0].markouts[0], 100.00 - 100.01, 1e-9);
  EXPECT_NEAR(fills[0].markouts[1], 100.005 - 100.01, 1e-9);
  EXPECT_TRUE(std::isnan(fills[0].markouts[2]));  // data ends before t + 100 ms
}

TEST(ExchangeEngine, SamplesRecordBookQuotesPositionAndPnl) {
  Received got;
  auto s = std::make_unique<TestStrategy>(&got);
  s->at(T0 + 1 * kMs, [](Context& c) {
    c.submit(limit(Side::kBid, 10001, 2, TimeInForce::kIoc, 1));
    c.submit(limit(Side::kAsk, 10005, 1, TimeInForce::kGtc, 2));
  });
  auto cfg = base_config();
  cfg.sample_interval_ns = 2 * kMs;
  auto events = l3_opening();
  events.push_back(add(T0 + 3 * kMs, 3, Side::kBid, 9998, 1));
  events.push_back(add(T0 + 4 * kMs, 4, Side::kBid, 9997, 1));
  auto e = make_engine(events, std::move(s), std::move(cfg));
  e->run();
  const auto& sm = e->result().samples;
  ASSERT_EQ(sm.size(), 3u);  // T0, T0 + 2 ms, T0 + 4 ms
  EXPECT_EQ(sm[0].ts_ns, T0);
  EXPECT_EQ(sm[0].position, 0);
  EXPECT_EQ(sm[1].ts_ns, T0 + 2 * kMs);
  EXPECT_EQ(sm[1].position, 2);
  EXPECT_EQ(sm[1].best_bid, 9999);
  EXPECT_EQ(sm[1].best_ask, 10001);
  EXPECT_EQ(sm[1].our_bid, kNoPrice);
  EXPECT_EQ(sm[1].our_ask, 10005);
  EXPECT_NEAR(sm[1].mid, 100.00, 1e-12);
  EXPECT_NEAR(sm[1].pnl, -2 * 100.01 + 2 * 100.00, 1e-9);
  EXPECT_EQ(sm[2].ts_ns, T0 + 4 * kMs);
}

TEST(ExchangeEngine, BadConfigThrows) {
  auto mk = [](EngineConfig c) {
    Received got;
    return make_engine(l3_opening(), std::make_unique<TestStrategy>(&got), std::move(c));
  };
  auto c1 = base_config();
  c1.timer_interval_ns = 0;
  EXPECT_THROW(mk(std::move(c1)), mmkit::Error);
  auto c2 = base_config();
  c2.queue_model = "fifo-magic";
  EXPECT_THROW(mk(std::move(c2)), mmkit::Error);
  auto c3 = base_config();
  c3.markout_horizons_ns = {kMs, -1};
  EXPECT_THROW(mk(std::move(c3)), mmkit::Error);
  auto c4 = base_config();
  c4.risk.max_notional = -1;
  EXPECT_THROW(mk(std::move(c4)), mmkit::Error);
}

TEST(ExchangeEngine, RunsTheSyntheticMarketWithExactAccounting) {
  mmkit::sim::SyntheticMarketConfig sc;
  sc.duration_s = 120;
  sc.seed = 4;
  auto strategy = std::make_unique<JoinBest>(2);
  JoinBest* js = strategy.get();
  Engine e(mmkit::sim::make_synthetic_market(sc), std::move(strategy), stepping_config(2));
  e.run();
  const auto& r = e.result();
  EXPECT_GT(e.events_processed(), 1000u);
  ASSERT_GT(r.fills.size(), 5u);
  EXPECT_EQ(js->fills_, r.fills.size());
  expect_exact_accounting(e, r, 10000);
  EXPECT_EQ(e.context().position(), e.position());
}

// ---------------------------------------------------------------------------------------------
// Real data smoke runs

#define REQUIRE_DATA(path)                                                                   \
  if (!std::filesystem::exists(path)) {                                                      \
    if (under_ci()) FAIL() << "real data missing under CI=true: " << (path);                 \
    GTEST_SKIP() << "real data not found: " << (path) << " (set MMKIT_DATA_DIR)";           \
  }

void smoke(const std::string& path, const std::string& queue_model, Qty lot) {
  EngineConfig cfg;
  cfg.queue_model = queue_model;
  cfg.fees = mmkit::exchange::FeeSchedule::from_bps(-0.5, 3);
  cfg.order_latency = std::make_unique<mmkit::exchange::ConstantOrderLatency>(500 * kUs, 500 * kUs);
  cfg.feed_latency.constant_ns = 200 * kUs;
  auto strategy = std::make_unique<JoinBest>(lot);
  JoinBest* js = strategy.get();
  const auto start = std::chrono::steady_clock::now();
  Engine e(mmkit::data::open_source({path}), std::move(strategy), std::move(cfg));
  e.run();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto& r = e.result();
  ASSERT_TRUE(e.finished());
  Qty pos = 0;
  std::uint64_t maker = 0;
  for (const auto& f : r.fills) {
    pos += (f.fill.side == Side::kBid ? 1 : -1) * f.fill.qty;
    maker += f.fill.maker ? 1 : 0;
  }
  EXPECT_EQ(e.position(), pos);
  EXPECT_EQ(e.context().position(), pos);
  EXPECT_GT(r.fills.size(), 0u);
  EXPECT_EQ(js->fills_, r.fills.size());
  EXPECT_EQ(maker, r.fills.size());  // post-only quotes only make
  const Price mark = r.samples.empty() || r.samples.back().best_bid == kNoPrice ? 0 : r.samples.back().best_bid;
  expect_exact_accounting(e, r, mark);
  std::cout << "[smoke] " << path.substr(path.find_last_of('/') + 1) << " (" << queue_model << "): "
            << e.events_processed() << " events, " << r.fills.size() << " fills, " << r.orders.size()
            << " order log entries, position " << e.position() << ", pnl " << r.metrics.total_pnl << ", "
            << static_cast<double>(e.events_processed()) / secs / 1e6 << " M events/s (" << secs << " s)\n";
}

TEST(ExchangeRealData, JoinBestOnLobsterGoogLevel10) {
  const std::string p = data_dir() + "/lobster/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip";
  REQUIRE_DATA(p);
  smoke(p, "risk-averse", 1);
}

TEST(ExchangeRealData, JoinBestOnBinanceBtcusdtFutures) {
  const std::string p = data_dir() + "/binance_l2/usdm/btcusdt_20240808.gz";
  REQUIRE_DATA(p);
  smoke(p, "prob-power-2", 1);  // one lot: 0.001 BTC
}

}  // namespace
