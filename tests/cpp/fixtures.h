// Shared test fixtures: the hand-built instruments, an in-memory EventSource, event and market-order
// builders, an engine config without feed latency, a mock book for strategies run without the
// engine, a temp-file writer and the error-message check.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
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

}  // namespace mmkit::test
