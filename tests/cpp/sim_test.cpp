#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "mmkit/book/l3_book.h"
#include "mmkit/book/replay.h"
#include "mmkit/core/error.h"
#include "mmkit/sim/synthetic_market.h"

namespace mmkit::sim {
namespace {

using book::L3Book;

constexpr std::uint16_t kEnd = event_flags::kEndOfRecord | event_flags::kComplete;

std::vector<Event> read_all(data::EventSource& src, std::size_t batch = 4096) {
  std::vector<Event> all;
  std::vector<Event> buf(batch);
  for (;;) {
    const std::size_t n = src.read(buf.data(), buf.size());
    if (n == 0) break;
    all.insert(all.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return all;
}

std::vector<Event> generate(const SyntheticMarketConfig& c, std::size_t batch = 4096) {
  auto src = make_synthetic_market(c);
  return read_all(*src, batch);
}

SyntheticMarketConfig short_config(double seconds = 600) {
  SyntheticMarketConfig c;
  c.duration_s = seconds;
  return c;
}

bool same_bytes(const std::vector<Event>& a, const std::vector<Event>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(Event)) == 0);
}

std::int64_t ticks_between(Price from, Price to, Price tick) { return (to - from) / tick; }

// ---------------------------------------------------------------------------------------------

TEST(SyntheticMarket, DescribesItsInstrumentAndFormat) {
  SyntheticMarketConfig c = short_config();
  c.symbol = "ABC";
  c.price_decimals = 4;
  c.tick_size = 100;
  c.initial_mid = 1'000'000;
  auto src = make_synthetic_market(c);
  const InstrumentSpec& s = src->instrument();
  EXPECT_EQ(s.symbol_str(), "ABC");
  EXPECT_EQ(s.venue_str(), "SYNTHETIC");
  EXPECT_EQ(s.currency_str(), "USD");
  EXPECT_EQ(s.price_decimals, 4);
  EXPECT_EQ(s.tick_size, 100);
  EXPECT_EQ(s.qty_decimals, 0);
  EXPECT_EQ(s.lot_size, 1);
  EXPECT_EQ(src->format(), "synthetic");
  EXPECT_EQ(src->book_level(), data::BookLevel::kL3);
  EXPECT_NE(src->locate(0).find("opening book"), std::string::npos);
}

TEST(SyntheticMarket, OpeningBookHasTheConfiguredShapeAroundTheMid) {
  struct Case {
    Price tick, mid, bid, ask;
  };
  // On the grid the mid is skipped (2-tick spread); off the grid the neighbours are the quotes.
  for (const Case& k : {Case{1, 10'000, 9'999, 10'001}, Case{5, 10'002, 10'000, 10'005},
                        Case{5, 10'000, 9'995, 10'005}}) {
    SyntheticMarketConfig c = short_config(1);
    c.tick_size = k.tick;
    c.initial_mid = k.mid;
    c.max_distance = 7;
    c.opening_orders_per_level = 3;
    c.start_ns = 1'000'000'000;
    c.feed_latency_ns = 1234;
    const std::vector<Event> ev = generate(c);
    L3Book b;
    std::size_t opening = 0;
    for (const Event& e : ev) {
      if (e.record != 0) break;
      ++opening;
      EXPECT_EQ(e.kind, EventKind::kAdd);
      EXPECT_TRUE(e.has(event_flags::kSnapshot));
      EXPECT_EQ(e.exch_ts_ns, c.start_ns);
      EXPECT_EQ(e.local_ts_ns, c.start_ns + 1234);
      EXPECT_EQ(e.seq, 1u);
      ASSERT_EQ(b.apply(e), Errc::kOk);
    }
    ASSERT_EQ(opening, 2u * 7 * 3);
    EXPECT_EQ(ev[opening - 1].flags & kEnd, kEnd);
    for (std::size_t i = 0; i + 1 < opening; ++i) EXPECT_EQ(ev[i].flags & kEnd, 0) << i;
    ASSERT_EQ(b.depth(Side::kBid), 7u);
    ASSERT_EQ(b.depth(Side::kAsk), 7u);
    for (std::size_t i = 0; i < 7; ++i) {
      const auto di = static_cast<Price>(i);
      EXPECT_EQ(b.level(Side::kBid, i).price, k.bid - di * k.tick);
      EXPECT_EQ(b.level(Side::kAsk, i).price, k.ask + di * k.tick);
      EXPECT_EQ(b.level(Side::kBid, i).order_count, 3u);
      EXPECT_EQ(b.level(Side::kAsk, i).order_count, 3u);
    }
  }
}

TEST(SyntheticMarket, EmptyOpeningBookIsAllowedAndFillsFromTheOpeningQuotes) {
  SyntheticMarketConfig c = short_config(5);
  c.opening_orders_per_level = 0;
  const std::vector<Event> ev = generate(c);
  ASSERT_FALSE(ev.empty());
  EXPECT_NE(ev.front().record, 0u);  // record 0 (the opening book) has no event
  // The first limit order is placed against the other side's opening quote (9999 / 10001).
  const Event& first = ev.front();
  ASSERT_EQ(first.kind, EventKind::kAdd);
  if (first.side == Side::kBid) {
    EXPECT_GE(first.price, 10'001 - static_cast<Price>(c.max_distance));
    EXPECT_LE(first.price, 10'000);
  } else {
    EXPECT_LE(first.price, 9'999 + static_cast<Price>(c.max_distance));
    EXPECT_GE(first.price, 10'000);
  }
  EXPECT_NO_THROW(book::replay(*make_synthetic_market(c)));
}

TEST(SyntheticMarket, SameSeedGivesIdenticalEventBytesAndAnotherSeedDoesNot) {
  const SyntheticMarketConfig c = short_config(900);
  const std::vector<Event> a = generate(c);
  const std::vector<Event> b = generate(c);
  ASSERT_GT(a.size(), 10'000u);
  EXPECT_TRUE(same_bytes(a, b));
  SyntheticMarketConfig d = c;
  d.seed = 2;
  const std::vector<Event> other = generate(d);
  EXPECT_FALSE(same_bytes(a, other));
}

TEST(SyntheticMarket, BatchSizeDoesNotChangeTheStream) {
  const SyntheticMarketConfig c = short_config(300);
  const std::vector<Event> ref = generate(c, 4096);
  EXPECT_TRUE(same_bytes(ref, generate(c, 1)));
  EXPECT_TRUE(same_bytes(ref, generate(c, 7)));
}

// The stream is a function of the config alone: FNV-1a of the event bytes of the default config
// over 60 s. A change here means every platform / build must be checked to produce the new value
// (the generator takes every branch on integers and computes logarithms with + - * / only).
TEST(SyntheticMarket, StreamDigestIsPinned) {
  const std::vector<Event> ev = generate(short_config(60));
  std::uint64_t h = 14695981039346656037ull;
  const auto* p = reinterpret_cast<const unsigned char*>(ev.data());
  for (std::size_t i = 0; i < ev.size() * sizeof(Event); ++i) h = (h ^ p[i]) * 1099511628211ull;
  EXPECT_EQ(ev.size(), 2551u);
  EXPECT_EQ(h, 0x37b45f14cba8c29full) << std::hex << h;
}

TEST(SyntheticMarket, StreamsWithoutPrecomputingTheRun) {
  SyntheticMarketConfig c;
  c.duration_s = 1e9;  // ~31 years of market time: only a streaming generator returns at once
  auto src = make_synthetic_market(c);
  std::vector<Event> buf(10'000);
  EXPECT_EQ(src->read(buf.data(), buf.size()), buf.size());
  EXPECT_LT(buf.back().exch_ts_ns - c.start_ns, 3'600'000'000'000);
}

TEST(SyntheticMarket, ReplaysThroughTheValidatedReplayNeverCrossed) {
  const SyntheticMarketConfig c = short_config(1800);
  auto src = make_synthetic_market(c);
  book::ReplaySummary s;
  ASSERT_NO_THROW(s = book::replay(*src));
  EXPECT_GT(s.events, 50'000u);
  EXPECT_EQ(s.book_stats.anonymous_reductions, 0u);
  EXPECT_GT(s.final_bid_depth, 0u);
  EXPECT_GT(s.final_ask_depth, 0u);
  ASSERT_NO_THROW(book::replay(*make_synthetic_market(c), book::BookImpl::kNaive));
}

// ---------------------------------------------------------------------------------------------
// One long run (2 h of market time, default parameters) replayed event by event into an L3Book,
// checking every invariant on the way and collecting the statistics the model predicts.

struct LongRun {
  SyntheticMarketConfig cfg;
  double seconds = 0;
  std::uint64_t events = 0;
  std::vector<std::string> failures;  // invariant violations (first few)
  std::uint64_t violations = 0;
  // limit arrivals by side (0 bid, 1 ask) and distance from the other side's best, 1-based
  std::vector<std::uint64_t> limit_at[2];
  std::uint64_t limits = 0, size_sum = 0, size_one = 0;
  std::uint64_t market[2] = {0, 0};  // by aggressor: 0 buy, 1 sell
  std::uint64_t market_size_sum = 0;
  std::uint64_t cancels = 0;
  // cancels and order-seconds of exposure by distance (index min(d, kMaxD))
  static constexpr std::size_t kMaxD = 12;
  std::vector<double> cancel_at, exposure_at;
  // book profile, time-weighted over the run
  double spread_ticks_time = 0, depth_best_time = 0, orders_best_time = 0, both_sides_time = 0;
  std::map<std::int64_t, double> spread_hist;  // spread in ticks -> seconds
  std::uint64_t empty_side_adds = 0;
  Price first_mid = 0, last_mid = 0, last_mid2 = 0;  // twice the mid, raw units
  std::uint64_t mid_changes = 0;
  std::vector<Price> mid2_samples;  // twice the mid every 60 s
  double levels_time[2] = {0, 0}, orders_sampled = 0;
  std::uint64_t book_samples = 0;
  data::Counters tolerated;
};

/// Generates `cfg` and replays it into an L3Book, checking the invariants and collecting the
/// statistics.
LongRun collect(const SyntheticMarketConfig& cfg) {
  {
    LongRun r;
    r.cfg = cfg;
    r.seconds = r.cfg.duration_s;
    for (auto& v : r.limit_at) v.assign(r.cfg.max_distance + 1, 0);
    r.cancel_at.assign(LongRun::kMaxD + 1, 0);
    r.exposure_at.assign(LongRun::kMaxD + 1, 0);
    auto fail = [&r](const Event& e, const std::string& what) {
      ++r.violations;
      if (r.failures.size() < 5) r.failures.push_back("record " + std::to_string(e.record) + ": " + what);
    };
    const Price tick = r.cfg.tick_size;
    auto src = make_synthetic_market(r.cfg);
    L3Book b;
    Price last_best[2] = {kNoPrice, kNoPrice};
    TimestampNs prev_ts = r.cfg.start_ns;
    std::uint64_t prev_record = 0;
    bool prev_end = true;
    TimestampNs next_sample_ns = r.cfg.start_ns;
    std::uint64_t market_record = UINT64_MAX;
    Side market_side = Side::kNone;
    bool market_partial = false;
    const TimestampNs end_ns = r.cfg.start_ns + static_cast<TimestampNs>(r.cfg.duration_s * 1e9);
    auto profile = [&](double dt) {
      const book::Level bid = b.best(Side::kBid);
      const book::Level ask = b.best(Side::kAsk);
      for (int si = 0; si < 2; ++si) {
        const Side s = si == 0 ? Side::kBid : Side::kAsk;
        const Price anchor = si == 0 ? (ask.price != kNoPrice ? ask.price : last_best[1])
                                     : (bid.price != kNoPrice ? bid.price : last_best[0]);
        for (std::size_t i = 0; i < b.depth(s); ++i) {
          const book::Level l = b.level(s, i);
          const std::int64_t d = si == 0 ? ticks_between(l.price, anchor, tick) : ticks_between(anchor, l.price, tick);
          r.exposure_at[std::min<std::size_t>(static_cast<std::size_t>(d), LongRun::kMaxD)] += dt * l.order_count;
        }
      }
      if (bid.price != kNoPrice && ask.price != kNoPrice) {
        const std::int64_t sp = ticks_between(bid.price, ask.price, tick);
        r.spread_ticks_time += dt * static_cast<double>(sp);
        r.spread_hist[sp] += dt;
        r.depth_best_time += dt * 0.5 * static_cast<double>(bid.qty + ask.qty);
        r.orders_best_time += dt * 0.5 * (bid.order_count + ask.order_count);
        r.both_sides_time += dt;
      }
    };
    std::vector<Event> buf(4096);
    for (;;) {
      const std::size_t n = src->read(buf.data(), buf.size());
      if (n == 0) break;
      for (std::size_t j = 0; j < n; ++j) {
        const Event& e = buf[j];
        ++r.events;
        // Time and record structure.
        if (e.exch_ts_ns < prev_ts) fail(e, "exchange time goes back");
        if (e.exch_ts_ns < r.cfg.start_ns || e.exch_ts_ns > end_ns) fail(e, "time outside the run");
        if (e.local_ts_ns != e.exch_ts_ns + r.cfg.feed_latency_ns) fail(e, "local != exch + latency");
        if (e.seq != e.record + 1) fail(e, "seq != record + 1");
        if (e.record < prev_record) fail(e, "record goes back");
        if (e.record != prev_record && !prev_end) fail(e, "record ended without kEndOfRecord");
        if (e.record == prev_record && prev_end && r.events > 1) fail(e, "event after kEndOfRecord");
        if (e.has(event_flags::kEndOfRecord) != e.has(event_flags::kComplete)) fail(e, "end without complete");
        if (e.record > 0 && e.has(event_flags::kSnapshot)) fail(e, "snapshot flag after the opening");
        if (e.record > 0) profile(static_cast<double>(e.exch_ts_ns - prev_ts) * 1e-9);
        prev_ts = e.exch_ts_ns;
        prev_record = e.record;
        prev_end = e.has(event_flags::kEndOfRecord);

        const int si = e.side == Side::kBid ? 0 : 1;
        const Side other = opposite(e.side);
        if (e.record > 0) {
          switch (e.kind) {
            case EventKind::kAdd: {
              const book::Level o = b.best(other);
              const Price anchor = o.price != kNoPrice ? o.price : last_best[1 - si];
              if (o.price == kNoPrice) ++r.empty_side_adds;
              const std::int64_t d = si == 0 ? ticks_between(e.price, anchor, tick) : ticks_between(anchor, e.price, tick);
              if (d < 1 || d > static_cast<std::int64_t>(r.cfg.max_distance)) {
                fail(e, "limit order at distance " + std::to_string(d));
              } else {
                ++r.limit_at[si][static_cast<std::size_t>(d)];
              }
              if (e.qty < 1) fail(e, "size < 1");
              ++r.limits;
              r.size_sum += static_cast<std::uint64_t>(e.qty);
              r.size_one += e.qty == 1;
              break;
            }
            case EventKind::kCancel: {
              const auto o = b.order(e.order_id);
              if (!o) {
                fail(e, "cancel of an order not in the book");
                break;
              }
              if (o->side != e.side || o->price != e.price || o->qty != e.qty) fail(e, "cancel is not the full live order");
              const book::Level ob = b.best(other);
              const Price anchor = ob.price != kNoPrice ? ob.price : last_best[1 - si];
              const std::int64_t d = si == 0 ? ticks_between(e.price, anchor, tick) : ticks_between(anchor, e.price, tick);
              r.cancel_at[std::min<std::size_t>(static_cast<std::size_t>(std::max<std::int64_t>(d, 0)), LongRun::kMaxD)] += 1;
              ++r.cancels;
              break;
            }
            case EventKind::kExecution: {
              const auto o = b.order(e.order_id);
              if (!o) {
                fail(e, "execution of an order not in the book");
                break;
              }
              if (e.price != b.best(e.side).price) fail(e, "execution away from the best");
              if (b.queue_ahead(e.order_id) != 0) fail(e, "execution not at the front of the queue");
              if (e.qty > o->qty || e.qty < 1) fail(e, "execution qty out of range");
              if (e.record != market_record) {
                market_record = e.record;
                market_side = e.side;
                market_partial = false;
                ++r.market[si == 1 ? 0 : 1];  // resting ask <- buy market order
              } else if (e.side != market_side) {
                fail(e, "one market order hits both sides");
              }
              if (market_partial) fail(e, "execution after a partial fill in the same market order");
              market_partial = e.qty < o->qty;
              if (market_partial && !e.has(event_flags::kEndOfRecord)) fail(e, "partial fill before the end");
              r.market_size_sum += static_cast<std::uint64_t>(e.qty);
              break;
            }
            default:
              fail(e, std::string("unexpected kind ") + to_string(e.kind));
          }
        }
        if (b.apply(e) != Errc::kOk) fail(e, "book rejected the event");
        if (e.has(event_flags::kComplete) && b.crossed()) fail(e, "crossed book");
        for (int s = 0; s < 2; ++s) {
          const book::Level l = b.best(s == 0 ? Side::kBid : Side::kAsk);
          if (l.price != kNoPrice) last_best[s] = l.price;
        }
        if (last_best[0] != kNoPrice && last_best[1] != kNoPrice) {
          const Price mid2 = last_best[0] + last_best[1];  // twice the mid, raw units
          if (r.first_mid == 0) r.first_mid = mid2;
          if (mid2 != r.last_mid2 && r.last_mid2 != 0) ++r.mid_changes;
          r.last_mid2 = mid2;
          r.last_mid = mid2;
          while (e.exch_ts_ns >= next_sample_ns) {
            r.mid2_samples.push_back(mid2);
            next_sample_ns += 60'000'000'000;
          }
        }
        if (e.has(event_flags::kEndOfRecord) && e.record % 16 == 0) {
          for (int s = 0; s < 2; ++s) {
            const Side sd = s == 0 ? Side::kBid : Side::kAsk;
            r.levels_time[s] += static_cast<double>(b.depth(sd));
          }
          r.orders_sampled += static_cast<double>(b.order_count());
          ++r.book_samples;
        }
      }
    }
    profile(static_cast<double>(end_ns - prev_ts) * 1e-9);
    r.tolerated = src->tolerated();
    return r;
  }
}

const LongRun& long_run() {
  static const LongRun run = [] {
    SyntheticMarketConfig c;
    c.duration_s = 7200;
    c.feed_latency_ns = 5'000;
    return collect(c);
  }();
  return run;
}

/// 4 h of a market with an explicit limit_rates table that grows with distance (the LOBSTER GOOG
/// shape, which k / i^α cannot express) and market orders larger than limit orders.
const LongRun& table_run() {
  static const LongRun run = [] {
    SyntheticMarketConfig c;
    c.duration_s = 14'400;
    c.max_distance = 8;
    c.limit_rates = {0.4, 0.6, 0.9, 1.2, 1.6, 2.0, 2.2, 1.8};
    c.cancel_rates = {0.9, 0.5, 0.3, 0.25, 0.2, 0.2, 0.2, 0.2, 0.15};
    c.market_rate = 0.3;
    c.mean_order_size = 4;
    c.mean_market_order_size = 9;
    c.limit_rate_k = 50;  // not used with the table
    return collect(c);
  }();
  return run;
}

// |observed - expected| <= z * sd, printed on failure.
::testing::AssertionResult within_sd(double observed, double expected, double sd, double z = 4.5) {
  if (std::fabs(observed - expected) <= z * sd) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "observed " << observed << ", expected " << expected
                                       << " ± " << z << " × " << sd;
}

TEST(SyntheticMarketLongRun, EveryEventIsConsistentWithTheBook) {
  const LongRun& r = long_run();
  EXPECT_GT(r.events, 250'000u);
  EXPECT_EQ(r.violations, 0u);
  for (const std::string& f : r.failures) ADD_FAILURE() << f;
}

TEST(SyntheticMarketLongRun, MarketOrderRateIsMuPerSide) {
  const LongRun& r = long_run();
  const double expected = r.cfg.market_rate * r.seconds;  // Poisson: sd = sqrt(mean)
  const double on_empty = static_cast<double>(r.tolerated.get("synthetic.market_orders_on_empty_side"));
  for (int s = 0; s < 2; ++s) {
    EXPECT_TRUE(within_sd(static_cast<double>(r.market[s]), expected, std::sqrt(expected)))
        << (s == 0 ? "buy" : "sell") << " market orders (" << on_empty << " found the side empty)";
  }
}

TEST(SyntheticMarketLongRun, LimitOrderArrivalRateAtDistanceIIsLambdaI) {
  const LongRun& r = long_run();
  for (std::uint32_t i = 1; i <= r.cfg.max_distance; ++i) {
    const double lambda = r.cfg.limit_rate_k / std::pow(static_cast<double>(i), r.cfg.limit_rate_alpha);
    const double expected = lambda * r.seconds;
    for (int s = 0; s < 2; ++s) {
      EXPECT_TRUE(within_sd(static_cast<double>(r.limit_at[s][i]), expected, std::sqrt(expected)))
          << (s == 0 ? "bid" : "ask") << " limit orders at distance " << i;
    }
  }
  EXPECT_EQ(r.tolerated.get("synthetic.limit_orders_at_nonpositive_price"), 0u);
}

TEST(SyntheticMarketLongRun, OrderSizesAreGeometricWithTheConfiguredMean) {
  const LongRun& r = long_run();
  const double p = 1.0 / r.cfg.mean_order_size;
  const double n = static_cast<double>(r.limits);
  const double sd_size = std::sqrt((1 - p) / (p * p));  // geometric on {1, 2, ...}
  EXPECT_TRUE(within_sd(static_cast<double>(r.size_sum) / n, r.cfg.mean_order_size, sd_size / std::sqrt(n)));
  // P(size = 1) = p.
  EXPECT_TRUE(within_sd(static_cast<double>(r.size_one) / n, p, std::sqrt(p * (1 - p) / n)));
  // Market orders: the same law unless the book ran out under them.
  if (r.tolerated.get("synthetic.market_qty_beyond_book") == 0) {
    const double m = static_cast<double>(r.market[0] + r.market[1]);
    EXPECT_TRUE(within_sd(static_cast<double>(r.market_size_sum) / m, r.cfg.mean_order_size, sd_size / std::sqrt(m)));
  }
}

TEST(SyntheticMarketTable, LimitOrderArrivalRateAtDistanceIIsTheTableEntry) {
  const LongRun& r = table_run();
  EXPECT_EQ(r.violations, 0u);
  for (const std::string& f : r.failures) ADD_FAILURE() << f;
  for (std::uint32_t i = 1; i <= r.cfg.max_distance; ++i) {
    const double expected = r.cfg.limit_rates[i - 1] * r.seconds;  // Poisson: sd = sqrt(mean)
    for (int s = 0; s < 2; ++s) {
      EXPECT_TRUE(within_sd(static_cast<double>(r.limit_at[s][i]), expected, std::sqrt(expected)))
          << (s == 0 ? "bid" : "ask") << " limit orders at distance " << i;
    }
  }
}

TEST(SyntheticMarketTable, MarketOrdersHaveTheirOwnGeometricMeanSize) {
  const LongRun& r = table_run();
  ASSERT_EQ(r.tolerated.get("synthetic.market_qty_beyond_book"), 0u) << "the book ran out under a market order";
  const double m = static_cast<double>(r.market[0] + r.market[1]);
  const double pm = 1.0 / r.cfg.mean_market_order_size;
  EXPECT_TRUE(within_sd(static_cast<double>(r.market_size_sum) / m, r.cfg.mean_market_order_size,
                        std::sqrt((1 - pm) / (pm * pm)) / std::sqrt(m)));
  const double n = static_cast<double>(r.limits);
  const double p = 1.0 / r.cfg.mean_order_size;
  EXPECT_TRUE(within_sd(static_cast<double>(r.size_sum) / n, r.cfg.mean_order_size, std::sqrt((1 - p) / (p * p)) / std::sqrt(n)));
  EXPECT_TRUE(within_sd(static_cast<double>(r.size_one) / n, p, std::sqrt(p * (1 - p) / n)));
}

TEST(SyntheticMarket, ATableOfEqualRatesGivesThePowerLawStreamWithAlphaZero) {
  // λ(i) = k for every i both ways: the same integer rates, so the same bytes; and the market
  // order mean equal to mean_order_size is the default (0) stream too.
  SyntheticMarketConfig power = short_config(900);
  power.limit_rate_alpha = 0;
  SyntheticMarketConfig table = power;
  table.limit_rates.assign(table.max_distance, power.limit_rate_k);
  table.limit_rate_k = 123;  // not used with the table
  table.mean_market_order_size = power.mean_order_size;
  const std::vector<Event> a = generate(power);
  EXPECT_TRUE(same_bytes(a, generate(table)));
  table.limit_rates[3] *= 2;
  EXPECT_FALSE(same_bytes(a, generate(table)));
}

TEST(SyntheticMarket, GoogPresetRunsWithItsFittedRates) {
  SyntheticMarketConfig c = synthetic_preset("goog2012");
  EXPECT_EQ(synthetic_preset(kDefaultSyntheticPreset).symbol, "SYN-GOOG");
  ASSERT_EQ(c.limit_rates.size(), c.max_distance);
  EXPECT_GT(c.limit_rates.back(), 10 * c.limit_rates.front());  // GOOG's rates grow with distance
  EXPECT_GT(c.mean_market_order_size, c.mean_order_size);
  c.duration_s = 600;
  book::ReplaySummary s;
  ASSERT_NO_THROW(s = book::replay(*make_synthetic_market(c)));
  EXPECT_GT(s.events, 1000u);
  EXPECT_TRUE(same_bytes(generate(synthetic_preset("cst2010")), generate(SyntheticMarketConfig{})));
  try {
    (void)synthetic_preset("goog");
    ADD_FAILURE() << "no error for an unknown preset";
  } catch (const Error& e) {
    EXPECT_EQ(e.where().field, "preset");
    EXPECT_NE(std::string(e.what()).find("cst2010"), std::string::npos) << e.what();
  }
  EXPECT_EQ(synthetic_preset_names(), (std::vector<std::string>{"goog2012", "cst2010"}));
}

TEST(SyntheticMarketLongRun, CancelRatePerOrderAtDistanceIIsThetaI) {
  const LongRun& r = long_run();
  // Cancels at distance d form a counting process with compensator θ(d) × (order-seconds spent at
  // distance d), so count - θ(d)·exposure has variance θ(d)·exposure.
  int tested = 0;
  for (std::size_t d = 1; d <= LongRun::kMaxD; ++d) {
    const double theta = r.cfg.cancel_rates[std::min(d, r.cfg.cancel_rates.size()) - 1];
    const double expected = theta * r.exposure_at[d];
    if (expected < 100) continue;
    ++tested;
    EXPECT_TRUE(within_sd(r.cancel_at[d], expected, std::sqrt(expected)))
        << "distance " << d << (d == LongRun::kMaxD ? "+" : "") << ", exposure " << r.exposure_at[d] << " order-s";
  }
  EXPECT_GE(tested, 10);
  EXPECT_EQ(r.cancel_at[0], 0);
}

TEST(SyntheticMarketLongRun, ReportsTheBookProfile) {
  const LongRun& r = long_run();
  ASSERT_GT(r.both_sides_time, 0);
  const double spread = r.spread_ticks_time / r.both_sides_time;
  const double depth = r.depth_best_time / r.both_sides_time;
  const double orders = r.orders_best_time / r.both_sides_time;
  std::string hist;
  for (const auto& [sp, t] : r.spread_hist) {
    if (t / r.both_sides_time >= 0.001) {
      hist += " " + std::to_string(sp) + ":" + std::to_string(100 * t / r.both_sides_time).substr(0, 5) + "%";
    }
  }
  std::printf("[profile] events %llu over %.0f s (%.1f /s); limits %llu, cancels %llu, market %llu/%llu\n",
              static_cast<unsigned long long>(r.events), r.seconds, static_cast<double>(r.events) / r.seconds,
              static_cast<unsigned long long>(r.limits), static_cast<unsigned long long>(r.cancels),
              static_cast<unsigned long long>(r.market[0]), static_cast<unsigned long long>(r.market[1]));
  std::printf("[profile] mean spread %.3f ticks; spread time shares:%s\n", spread, hist.c_str());
  std::printf("[profile] mean depth at best %.2f lots (%.2f orders); both sides present %.4f of the time\n",
              depth, orders, r.both_sides_time / r.seconds);
  double var = 0;
  for (std::size_t i = 1; i < r.mid2_samples.size(); ++i) {
    const double dm = 0.5 * static_cast<double>(r.mid2_samples[i] - r.mid2_samples[i - 1]);
    var += dm * dm;
  }
  var /= static_cast<double>(r.mid2_samples.size() - 1);
  std::printf("[profile] mid changes %.2f /s; sd of 1-min mid changes %.2f ticks; levels per side %.1f/%.1f, "
              "orders in book %.1f\n",
              static_cast<double>(r.mid_changes) / r.seconds, std::sqrt(var),
              r.levels_time[0] / r.book_samples, r.levels_time[1] / r.book_samples, r.orders_sampled / r.book_samples);
  std::printf("[profile] mid %.2f -> %.2f ticks; adds against an empty side %llu; tolerated:",
              0.5 * static_cast<double>(r.first_mid), 0.5 * static_cast<double>(r.last_mid),
              static_cast<unsigned long long>(r.empty_side_adds));
  for (const auto& [k, v] : r.tolerated.items()) std::printf(" %s=%llu", k.c_str(), static_cast<unsigned long long>(v));
  std::printf("\n[profile] mean orders per side at distance d from the opposite best, d = 1..%zu+:", LongRun::kMaxD);
  for (std::size_t d = 1; d <= LongRun::kMaxD; ++d) std::printf(" %.2f", r.exposure_at[d] / (2 * r.seconds));
  std::printf("\n");
  EXPECT_GE(spread, 1.0);
  EXPECT_GT(depth, 0);
}

// ---------------------------------------------------------------------------------------------

TEST(SyntheticMarket, MarketOrdersWalkTheOppositeSideInPriceTimePriority) {
  // No limit orders and near-zero cancels: market orders eat the opening book. On each side the
  // fully executed orders must come in the order of the opening (best level first, FIFO), each
  // order's executions must add up to its size, and once a side is gone market orders find it
  // empty (counted, no event).
  SyntheticMarketConfig c = short_config(120);
  c.limit_rate_k = 0;
  c.market_rate = 2;
  c.cancel_rates = {1e-6};
  c.max_distance = 4;
  c.opening_orders_per_level = 3;
  const std::vector<Event> ev = generate(c);
  std::map<OrderId, Qty> size;
  std::vector<OrderId> opening[2];
  std::vector<OrderId> filled[2];
  std::map<OrderId, Qty> executed;
  for (const Event& e : ev) {
    const int s = e.side == Side::kBid ? 0 : 1;
    if (e.kind == EventKind::kAdd) {
      ASSERT_EQ(e.record, 0u);
      size[e.order_id] = e.qty;
      opening[s].push_back(e.order_id);
    } else if (e.kind == EventKind::kExecution) {
      executed[e.order_id] += e.qty;
      ASSERT_LE(executed[e.order_id], size[e.order_id]);
      if (executed[e.order_id] == size[e.order_id]) filled[s].push_back(e.order_id);
    } else {
      FAIL() << "unexpected " << to_string(e.kind);
    }
  }
  auto src = make_synthetic_market(c);
  (void)read_all(*src);
  for (int s = 0; s < 2; ++s) {
    ASSERT_EQ(filled[s].size(), opening[s].size()) << "120 s at 2 market orders/s must empty both sides";
    EXPECT_EQ(filled[s], opening[s]);
  }
  EXPECT_GT(src->tolerated().get("synthetic.market_orders_on_empty_side"), 0u);
  EXPECT_GT(src->tolerated().get("synthetic.market_qty_beyond_book"), 0u);
  // Records that produced no event still count: the last record index is below records().
  EXPECT_GT(src->records(), ev.back().record + 1);
}

TEST(SyntheticMarket, LimitOrdersAgainstAnEmptySideUseItsLastBestPrice) {
  // Heavy market flow against few limit orders empties sides often; an order placed while the
  // other side is empty sits 1..max_distance ticks from that side's last best price.
  SyntheticMarketConfig c = short_config(3600);
  c.limit_rate_k = 0.5;
  c.market_rate = 3;
  c.max_distance = 5;
  c.opening_orders_per_level = 1;
  auto src = make_synthetic_market(c);
  L3Book b;
  Price last_best[2] = {kNoPrice, kNoPrice};
  std::uint64_t against_empty = 0;
  std::vector<Event> buf(1024);
  for (;;) {
    const std::size_t n = src->read(buf.data(), buf.size());
    if (n == 0) break;
    for (std::size_t j = 0; j < n; ++j) {
      const Event& e = buf[j];
      if (e.kind == EventKind::kAdd && e.record > 0 && b.best(opposite(e.side)).price == kNoPrice) {
        ++against_empty;
        const Price ref = last_best[e.side == Side::kBid ? 1 : 0];
        const Price d = e.side == Side::kBid ? ref - e.price : e.price - ref;
        EXPECT_GE(d, 1);
        EXPECT_LE(d, 5);
      }
      ASSERT_EQ(b.apply(e), Errc::kOk);
      ASSERT_FALSE(e.has(event_flags::kComplete) && b.crossed());
      for (int s = 0; s < 2; ++s) {
        const book::Level l = b.best(s == 0 ? Side::kBid : Side::kAsk);
        if (l.price != kNoPrice) last_best[s] = l.price;
      }
    }
  }
  EXPECT_GT(against_empty, 100u);
}

// ---------------------------------------------------------------------------------------------

TEST(SyntheticMarketConfig, BadValuesThrowNamingTheField) {
  struct Case {
    std::string field;
    std::function<void(SyntheticMarketConfig&)> set;
  };
  const double nan = std::nan("");
  const std::vector<Case> cases = {
      {"symbol", [](auto& c) { c.symbol = ""; }},
      {"symbol", [](auto& c) { c.symbol = std::string(24, 'X'); }},
      {"price_decimals", [](auto& c) { c.price_decimals = -1; }},
      {"price_decimals", [](auto& c) { c.price_decimals = 19; }},
      {"tick_size", [](auto& c) { c.tick_size = 0; }},
      {"tick_size", [](auto& c) { c.tick_size = -5; }},
      {"initial_mid", [](auto& c) { c.initial_mid = 0; }},
      {"initial_mid", [](auto& c) { c.initial_mid = 10; }},  // 10 bid levels need mid > 10 ticks
      {"max_distance", [](auto& c) { c.max_distance = 0; }},
      {"max_distance", [](auto& c) { c.max_distance = 1'000'000; }},
      {"limit_rate_k", [](auto& c) { c.limit_rate_k = -1; }},
      {"limit_rate_k", [nan](auto& c) { c.limit_rate_k = nan; }},
      {"limit_rate_alpha", [](auto& c) { c.limit_rate_alpha = -0.5; }},
      {"limit_rate_alpha", [](auto& c) { c.limit_rate_alpha = INFINITY; }},
      {"market_rate", [](auto& c) { c.market_rate = -0.1; }},
      {"market_rate", [](auto& c) { c.market_rate = INFINITY; }},
      {"cancel_rates", [](auto& c) { c.cancel_rates.clear(); }},
      {"cancel_rates[2]", [](auto& c) { c.cancel_rates[2] = -0.3; }},
      {"cancel_rates[0]", [](auto& c) { c.cancel_rates[0] = 0; }},
      {"cancel_rates[9]", [nan](auto& c) { c.cancel_rates[9] = nan; }},
      {"mean_order_size", [](auto& c) { c.mean_order_size = 0.5; }},
      {"mean_order_size", [nan](auto& c) { c.mean_order_size = nan; }},
      {"opening_orders_per_level", [](auto& c) { c.opening_orders_per_level = 1'000'000; }},
      {"duration_s", [](auto& c) { c.duration_s = 0; }},
      {"duration_s", [](auto& c) { c.duration_s = -1; }},
      {"duration_s", [nan](auto& c) { c.duration_s = nan; }},
      {"start_ns", [](auto& c) { c.start_ns = -1; }},
      {"start_ns", [](auto& c) { c.start_ns = INT64_MAX - 10; }},
      {"feed_latency_ns", [](auto& c) { c.feed_latency_ns = -1; }},
      {"limit_rates", [](auto& c) { c.limit_rates.assign(9, 1.0); }},  // max_distance is 10
      {"limit_rates[3]", [](auto& c) { c.limit_rates.assign(10, 1.0); c.limit_rates[3] = 0; }},
      {"limit_rates[0]", [](auto& c) { c.limit_rates.assign(10, 1.0); c.limit_rates[0] = -2; }},
      {"limit_rates[9]", [nan](auto& c) { c.limit_rates.assign(10, 1.0); c.limit_rates[9] = nan; }},
      {"limit_rates[5]", [](auto& c) { c.limit_rates.assign(10, 1.0); c.limit_rates[5] = INFINITY; }},
      {"mean_market_order_size", [](auto& c) { c.mean_market_order_size = 0.5; }},
      {"mean_market_order_size", [](auto& c) { c.mean_market_order_size = -3; }},
      {"mean_market_order_size", [nan](auto& c) { c.mean_market_order_size = nan; }},
  };
  for (const Case& k : cases) {
    SyntheticMarketConfig c;
    k.set(c);
    try {
      (void)make_synthetic_market(c);
      ADD_FAILURE() << "no error for a bad " << k.field;
    } catch (const Error& e) {
      EXPECT_EQ(e.where().field, k.field) << e.what();
      EXPECT_NE(std::string(e.what()).find("'" + k.field + "'"), std::string::npos) << e.what();
    }
  }
  EXPECT_NO_THROW((void)make_synthetic_market(SyntheticMarketConfig{}));
}

TEST(SyntheticMarketConfig, MeanSizeOneGivesUnitOrders) {
  SyntheticMarketConfig c = short_config(60);
  c.mean_order_size = 1;
  for (const Event& e : generate(c)) ASSERT_EQ(e.qty, 1);
}

// ---------------------------------------------------------------------------------------------
// Joins and improvers (docs/synthetic_market.md, "Joins and improvers").

/// Replays a stream through an L3Book and classifies each limit order by the book before it:
/// joins (price = own best), improvers (strictly better than the own best); tracks improvers'
/// order-seconds and whole cancels, and the seconds each side was non-empty.
struct JoinImproverStats {
  std::uint64_t limits = 0, joins = 0, improvers = 0, improver_cancels = 0;
  double improver_exposure_s = 0;
  double nonempty_s[2] = {0, 0};
  double duration_s = 0;
  std::uint64_t rejected = 0;  // events the book refused
};

JoinImproverStats join_improver_stats(const SyntheticMarketConfig& c) {
  auto src = make_synthetic_market(c);
  L3Book b;
  JoinImproverStats st;
  std::map<OrderId, bool> live;  // improvers resting
  TimestampNs last = c.start_ns;
  std::vector<Event> buf(4096);
  for (;;) {
    const std::size_t n = src->read(buf.data(), buf.size());
    if (n == 0) break;
    for (std::size_t j = 0; j < n; ++j) {
      const Event& e = buf[j];
      const double dt = static_cast<double>(e.exch_ts_ns - last) * 1e-9;
      last = e.exch_ts_ns;
      st.improver_exposure_s += dt * static_cast<double>(live.size());
      for (int s = 0; s < 2; ++s) {
        if (b.best(s == 0 ? Side::kBid : Side::kAsk).price != kNoPrice) st.nonempty_s[s] += dt;
      }
      if (e.kind == EventKind::kAdd && e.record > 0) {
        ++st.limits;
        const Price own = b.best(e.side).price;
        if (own != kNoPrice && e.price == own) ++st.joins;
        if (own != kNoPrice && (e.side == Side::kBid ? e.price > own : e.price < own)) {
          ++st.improvers;
          live[e.order_id] = true;
        }
      }
      if (e.kind == EventKind::kCancel && live.erase(e.order_id) == 1) ++st.improver_cancels;
      if (b.apply(e) != Errc::kOk) ++st.rejected;
      if (e.kind == EventKind::kExecution && !b.order(e.order_id)) live.erase(e.order_id);
    }
  }
  st.duration_s = static_cast<double>(last - c.start_ns) * 1e-9;
  return st;
}

TEST(SyntheticMarketJoins, JoinsArriveAtTheOwnBestAtRateLambdaJAndTheDistanceLawSkipsIt) {
  SyntheticMarketConfig c = short_config(4 * 3600.0);
  c.join_rate = 1.5;
  const JoinImproverStats st = join_improver_stats(c);
  EXPECT_EQ(st.rejected, 0u);
  // Joins are Poisson(λ_J × time the own side is non-empty) per side (a join against an empty
  // own side lands at its last best and is not seen as one here); the λ(i) arrival at the own
  // best is thinned away, so nothing else lands there.
  const double expected = c.join_rate * (st.nonempty_s[0] + st.nonempty_s[1]);
  EXPECT_NEAR(static_cast<double>(st.joins), expected, 4.5 * std::sqrt(expected)) << st.joins;
  // Without joins, CST's λ(i) puts orders at the own best too, at a rate that depends on the
  // spread: far fewer than 1.5 /s per side here (k = 1.92, α = 0.52: λ(2) ≈ 1.34).
  SyntheticMarketConfig off = short_config(4 * 3600.0);
  const JoinImproverStats base = join_improver_stats(off);
  EXPECT_GT(base.joins, 0u);
  EXPECT_NE(base.joins, st.joins);
}

TEST(SyntheticMarketJoins, AJoinQueuesLastAtTheOwnBestPrice) {
  SyntheticMarketConfig c = short_config(60);
  c.join_rate = 5;
  c.market_rate = 0;
  c.limit_rate_k = 0.01;
  c.cancel_rates = {1e-6};
  const std::vector<Event> ev = generate(c);
  L3Book b;
  std::uint64_t joins = 0;
  for (const Event& e : ev) {
    if (e.kind == EventKind::kAdd && e.record > 0 && e.price == b.best(e.side).price) {
      const book::Level before = b.best(e.side);
      ASSERT_EQ(b.apply(e), Errc::kOk);
      const book::Level after = b.best(e.side);
      EXPECT_EQ(after.qty, before.qty + e.qty);
      EXPECT_EQ(after.order_count, before.order_count + 1);
      ++joins;
      continue;
    }
    ASSERT_EQ(b.apply(e), Errc::kOk);
  }
  // ~ 2 × 5 /s × 60 s, everything else nearly off.
  EXPECT_NEAR(static_cast<double>(joins), 600.0, 4.5 * std::sqrt(600.0));
}

TEST(SyntheticMarketImprovers, AnImproverCancelsAtThetaIForItsWholeLife) {
  SyntheticMarketConfig c = short_config(4 * 3600.0);
  c.improver_cancel_rate = 25;
  const JoinImproverStats st = join_improver_stats(c);
  EXPECT_EQ(st.rejected, 0u);
  // Improvers' cancels form a counting process with compensator θ_I × their order-seconds.
  ASSERT_GT(st.improver_cancels, 1000u);
  const double x = st.improver_exposure_s;
  const double rate = static_cast<double>(st.improver_cancels) / x;
  EXPECT_NEAR(rate, 25.0, 4.5 * std::sqrt(25.0 * x) / x) << st.improver_cancels << " cancels over " << x << " s";
  // Without the improver rate, the same orders cancel at θ(d) <= 0.81 /s.
  const JoinImproverStats base = join_improver_stats(short_config(4 * 3600.0));
  EXPECT_LT(static_cast<double>(base.improver_cancels) / base.improver_exposure_s, 1.0);
}

TEST(SyntheticMarketImprovers, OnlyTheFleetingShareOfImproversCancelsFast) {
  SyntheticMarketConfig c = short_config(4 * 3600.0);
  c.improver_cancel_rate = 1000;  // fleeting ones leave within ms; the others live at θ(d)
  c.improver_fleeting_share = 0.3;
  const JoinImproverStats st = join_improver_stats(c);
  c.improver_fleeting_share = 1;
  const JoinImproverStats all = join_improver_stats(c);
  // Mean improver life ≈ (1 − φ) / θ(d) + φ / θ_I: with φ = 1 it is ~1 ms, with φ = 0.3 over 0.7 s.
  EXPECT_LT(all.improver_exposure_s / static_cast<double>(all.improvers), 0.01);
  EXPECT_GT(st.improver_exposure_s / static_cast<double>(st.improvers), 0.3);
}

TEST(SyntheticMarketJoins, NewParametersRunInHawkesModeAndWithRegimes) {
  SyntheticMarketConfig c = short_config(1800);
  c.flow = FlowModel::kHawkes;
  c.join_rate = 2;
  c.improver_cancel_rate = 30;
  c.improver_fleeting_share = 0.5;
  c.regimes = default_regimes();
  c.regime_transition = default_regime_transition();
  const std::vector<Event> a = generate(c);
  EXPECT_TRUE(same_bytes(a, generate(c, 7)));
  L3Book b;
  std::uint64_t joins = 0;
  for (const Event& e : a) {
    if (e.kind == EventKind::kAdd && e.record > 0 && e.price == b.best(e.side).price) ++joins;
    ASSERT_EQ(b.apply(e), Errc::kOk);
    ASSERT_FALSE(e.has(event_flags::kComplete) && b.crossed());
  }
  // Hawkes: joins take λ_J / (λ_J + Σλ(i)) = 2 / 11.4 of the limit-type arrivals.
  EXPECT_GT(joins, 500u);
}

TEST(SyntheticMarketConfig, JoinAndImproverParametersAreValidated) {
  auto field_of = [](const SyntheticMarketConfig& c) {
    try {
      (void)make_synthetic_market(c);
    } catch (const Error& e) {
      return e.where().field;
    }
    return std::string("(no error)");
  };
  SyntheticMarketConfig c = short_config();
  c.join_rate = -1;
  EXPECT_EQ(field_of(c), "join_rate");
  c = short_config();
  c.improver_cancel_rate = -2;
  EXPECT_EQ(field_of(c), "improver_cancel_rate");
  c = short_config();
  c.improver_cancel_rate = 10;
  c.improver_fleeting_share = 0;
  EXPECT_EQ(field_of(c), "improver_fleeting_share");
  c.improver_fleeting_share = 1.5;
  EXPECT_EQ(field_of(c), "improver_fleeting_share");
  c.improver_fleeting_share = 0.5;
  EXPECT_EQ(field_of(c), "(no error)");
}

}  // namespace
}  // namespace mmkit::sim
