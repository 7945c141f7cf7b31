#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "mmkit/book/l3_book.h"
#include "mmkit/book/naive_l3_book.h"
#include "mmkit/book/replay.h"
#include "mmkit/core/error.h"
#include "mmkit/engine/engine.h"
#include "mmkit/engine/profile.h"
#include "mmkit/sim/agent_market.h"
#include "mmkit/strategy/strategy.h"

namespace mmkit::sim {
namespace {

constexpr std::uint16_t kEnd = event_flags::kEndOfRecord | event_flags::kComplete;
constexpr std::int64_t kSecond = 1'000'000'000;

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

AgentMarketConfig short_config(double seconds = 600) {
  AgentMarketConfig c;
  c.duration_s = seconds;
  return c;
}

/// Only noise traders (no information, no trend following, no makers).
AgentMarketConfig noise_only(double seconds) {
  AgentMarketConfig c = short_config(seconds);
  c.informed_traders = 0;
  c.momentum_traders = 0;
  c.makers = 0;
  return c;
}

bool same_bytes(const std::vector<Event>& a, const std::vector<Event>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(Event)) == 0);
}

std::string field_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.where().field;
  }
  return "<no error>";
}

double mean(const std::vector<double>& x) {
  double s = 0;
  for (double v : x) s += v;
  return x.empty() ? 0 : s / static_cast<double>(x.size());
}

double stddev(const std::vector<double>& x) {
  const double m = mean(x);
  double s = 0;
  for (double v : x) s += (v - m) * (v - m);
  return std::sqrt(s / static_cast<double>(x.size() - 1));
}

double corr(const std::vector<double>& x, const std::vector<double>& y) {
  const double mx = mean(x);
  const double my = mean(y);
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

/// Sample autocorrelation of x at lag k.
double acf(const std::vector<double>& x, std::size_t k) {
  const double m = mean(x);
  double num = 0, den = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    den += (x[i] - m) * (x[i] - m);
    if (i >= k) num += (x[i] - m) * (x[i - k] - m);
  }
  return num / den;
}

/// h-step changes of a series sampled on the 1-s grid (non-overlapping).
std::vector<double> changes(const std::vector<double>& x, std::size_t h) {
  std::vector<double> r;
  for (std::size_t i = h; i < x.size(); i += h) r.push_back(x[i] - x[i - h]);
  return r;
}

/// A run read one event at a time into an L3Book: the book's mid and V on a 1-s grid (the state
/// after the last record at or before each grid time), the time-weighted spread, depth at the
/// best, and event counts.
struct MarketRun {
  AgentMarketConfig cfg;
  std::vector<double> mid;    // ticks
  std::vector<double> value;  // V, ticks
  double spread_ticks = 0;    // time-weighted mean over time with both sides present
  double depth_lots = 0;      // time-weighted mean of (bid qty + ask qty) / 2 at the best
  double one_tick_share = 0;  // fraction of time the spread is one tick
  double one_side_empty_share = 0;
  std::uint64_t events = 0;
  std::uint64_t kinds[kEventKindCount] = {};
  std::uint64_t records = 0;
  AgentMarketStats stats;
  double final_value = 0;
  Qty max_abs_maker_position = 0;
};

MarketRun simulate(const AgentMarketConfig& cfg) {
  MarketRun r;
  r.cfg = cfg;
  auto src = AgentMarket::create(cfg);
  const double tick = static_cast<double>(cfg.tick_size);
  book::L3Book b;
  Event e;
  std::int64_t next = cfg.start_ns + kSecond;
  std::int64_t prev_t = cfg.start_ns;
  double spread_w = 0, depth_w = 0, both_t = 0, one_t = 0, empty_t = 0;
  double cur_spread = NAN, cur_depth = 0;
  double cur_mid = NAN, cur_value = src->fundamental_ticks();
  while (src->read(&e, 1) == 1) {
    while (e.exch_ts_ns >= next && next <= cfg.start_ns + static_cast<std::int64_t>(cfg.duration_s) * kSecond) {
      if (!std::isnan(cur_mid)) {
        r.mid.push_back(cur_mid);
        r.value.push_back(cur_value);
      }
      next += kSecond;
    }
    EXPECT_EQ(b.apply(e), Errc::kOk);
    ++r.events;
    ++r.kinds[static_cast<int>(e.kind)];
    for (Qty p : src->stats().maker_position) r.max_abs_maker_position = std::max(r.max_abs_maker_position, std::abs(p));
    if (!e.has(event_flags::kComplete)) continue;
    const double dt = static_cast<double>(e.exch_ts_ns - prev_t);
    if (std::isnan(cur_spread)) {
      empty_t += dt;
    } else {
      spread_w += cur_spread * dt;
      depth_w += cur_depth * dt;
      both_t += dt;
      if (cur_spread == 1) one_t += dt;
    }
    prev_t = e.exch_ts_ns;
    const book::Level bb = b.best(Side::kBid);
    const book::Level ba = b.best(Side::kAsk);
    if (bb.price != kNoPrice && ba.price != kNoPrice) {
      cur_spread = static_cast<double>(ba.price - bb.price) / tick;
      cur_depth = static_cast<double>(bb.qty + ba.qty) / 2;
      cur_mid = static_cast<double>(bb.price + ba.price) / 2 / tick;
    } else {
      cur_spread = NAN;
    }
    cur_value = src->fundamental_ticks();
  }
  r.spread_ticks = spread_w / both_t;
  r.depth_lots = depth_w / both_t;
  r.one_tick_share = one_t / both_t;
  r.one_side_empty_share = empty_t / (both_t + empty_t);
  r.records = src->records();
  r.stats = src->stats();
  r.final_value = src->fundamental_ticks();
  return r;
}

double mean_abs_gap(const MarketRun& r) {
  double s = 0;
  for (std::size_t i = 0; i < r.mid.size(); ++i) s += std::fabs(r.value[i] - r.mid[i]);
  return s / static_cast<double>(r.mid.size());
}

// ---------------------------------------------------------------------------------------------
// The stream

TEST(AgentMarket, DescribesItsInstrumentAndFormat) {
  AgentMarketConfig c = short_config();
  c.symbol = "ABM";
  c.price_decimals = 4;
  c.tick_size = 100;
  c.initial_price = 1'000'000;
  auto src = make_agent_market(c);
  const InstrumentSpec& s = src->instrument();
  EXPECT_EQ(s.symbol_str(), "ABM");
  EXPECT_EQ(s.venue_str(), "AGENTS");
  EXPECT_EQ(s.currency_str(), "USD");
  EXPECT_EQ(s.price_decimals, 4);
  EXPECT_EQ(s.tick_size, 100);
  EXPECT_EQ(s.qty_decimals, 0);
  EXPECT_EQ(s.lot_size, 1);
  EXPECT_EQ(src->format(), "agents");
  EXPECT_EQ(src->book_level(), data::BookLevel::kL3);
  EXPECT_NE(src->locate(0).find("opening book"), std::string::npos);
  EXPECT_NE(src->locate(12).find("record 12"), std::string::npos);
}

TEST(AgentMarket, OpeningBookIsASnapshotAroundTheInitialPrice) {
  AgentMarketConfig c = short_config();
  c.tick_size = 5;
  c.initial_price = 10'000;  // on the grid: best bid 9,995, best ask 10,005
  c.opening_levels = 4;
  c.opening_orders_per_level = 2;
  auto src = AgentMarket::create(c);
  EXPECT_DOUBLE_EQ(src->fundamental_ticks(), 2000.0);
  const std::vector<Event> ev = read_all(*src);
  ASSERT_GT(ev.size(), 16u);
  book::L3Book b;
  for (std::size_t i = 0; i < 16; ++i) {
    const Event& e = ev[i];
    EXPECT_EQ(e.kind, EventKind::kAdd);
    EXPECT_EQ(e.record, 0u);
    EXPECT_EQ(e.order_id, i + 1);
    EXPECT_EQ(e.exch_ts_ns, c.start_ns);
    EXPECT_TRUE(e.has(event_flags::kSnapshot));
    EXPECT_EQ(e.has(kEnd), i == 15) << i;
    ASSERT_EQ(b.apply(e), Errc::kOk);
  }
  EXPECT_EQ(ev[16].record, 1u);
  EXPECT_FALSE(ev[16].has(event_flags::kSnapshot));
  EXPECT_EQ(b.best(Side::kBid).price, 9'995);
  EXPECT_EQ(b.best(Side::kAsk).price, 10'005);
  EXPECT_EQ(b.depth(Side::kBid), 4u);
  EXPECT_EQ(b.depth(Side::kAsk), 4u);
  EXPECT_EQ(b.level(Side::kBid, 3).price, 9'980);
  EXPECT_EQ(b.level(Side::kAsk, 3).price, 10'020);
  EXPECT_EQ(b.best(Side::kBid).order_count, 2u);
}

TEST(AgentMarket, SameSeedGivesTheSameBytesWhateverTheBatchSize) {
  const AgentMarketConfig c = short_config(300);
  const std::vector<Event> a = read_all(*make_agent_market(c), 4096);
  ASSERT_GT(a.size(), 3000u);
  EXPECT_TRUE(same_bytes(a, read_all(*make_agent_market(c), 1)));
  EXPECT_TRUE(same_bytes(a, read_all(*make_agent_market(c), 7)));
  AgentMarketConfig other = c;
  other.seed = 2;
  EXPECT_FALSE(same_bytes(a, read_all(*make_agent_market(other))));
}

TEST(AgentMarket, StreamDigestIsPinned) {
  // FNV-1a over the bytes of the default stream's first 2 minutes. Checked with g++ 12 at -O0,
  // -O2 and -O2 -march=native (FMA available): the doubles that decide events never contract.
  const std::vector<Event> ev = read_all(*make_agent_market(short_config(120)));
  std::uint64_t h = 14695981039346656037ull;
  const auto* p = reinterpret_cast<const unsigned char*>(ev.data());
  for (std::size_t i = 0; i < ev.size() * sizeof(Event); ++i) h = (h ^ p[i]) * 1099511628211ull;
  EXPECT_EQ(ev.size(), 2449u);
  EXPECT_EQ(h, 0xe8d8e86b20a91362ull) << std::hex << h;
}

TEST(AgentMarket, RecordsAreWellFormedAndInTimeOrder) {
  AgentMarketConfig c = short_config(900);
  c.feed_latency_ns = 1'500;
  auto src = make_agent_market(c);
  const std::vector<Event> ev = read_all(*src);
  ASSERT_GT(ev.size(), 10'000u);
  OrderId next_id = 1;
  std::uint64_t records_with_events = 0;
  for (std::size_t i = 0; i < ev.size(); ++i) {
    const Event& e = ev[i];
    const bool last_of_record = i + 1 == ev.size() || ev[i + 1].record != e.record;
    ASSERT_EQ(e.has(event_flags::kEndOfRecord), last_of_record) << i;
    ASSERT_EQ(e.has(event_flags::kComplete), last_of_record) << i;
    ASSERT_EQ(e.seq, e.record + 1);
    ASSERT_EQ(e.local_ts_ns, e.exch_ts_ns + 1'500);
    ASSERT_GT(e.qty, 0);
    ASSERT_EQ(e.price % c.tick_size, 0);
    ASSERT_GT(e.price, 0);
    ASSERT_TRUE(e.side == Side::kBid || e.side == Side::kAsk);
    ASSERT_TRUE(e.kind == EventKind::kAdd || e.kind == EventKind::kCancel || e.kind == EventKind::kExecution);
    if (e.kind == EventKind::kAdd) {
      ASSERT_EQ(e.order_id, next_id++);
    }
    if (i > 0) {
      ASSERT_GE(e.record, ev[i - 1].record);
      ASSERT_GE(e.exch_ts_ns, ev[i - 1].exch_ts_ns);
      if (e.record == ev[i - 1].record) {
        ASSERT_EQ(e.exch_ts_ns, ev[i - 1].exch_ts_ns);
      }
    }
    if (last_of_record) ++records_with_events;
  }
  ASSERT_LE(ev.back().exch_ts_ns, c.start_ns + 900 * kSecond);
  // records() counts messages that produced no event (market orders on an empty side) too.
  EXPECT_GE(src->records(), records_with_events);
  EXPECT_GE(src->records(), ev.back().record + 1);
}

TEST(AgentMarket, ReplaysThroughTheValidatedReplayNeverCrossed) {
  const AgentMarketConfig c = short_config(1800);
  book::ReplaySummary s;
  ASSERT_NO_THROW(s = book::replay(*make_agent_market(c)));
  EXPECT_GT(s.events, 20'000u);
  EXPECT_EQ(s.book_stats.anonymous_reductions, 0u);
  EXPECT_GT(s.complete_points, 10'000u);
  EXPECT_GT(s.final_bid_depth, 0u);
  EXPECT_GT(s.final_ask_depth, 0u);
  EXPECT_LT(s.final_best_bid.price, s.final_best_ask.price);
  book::ReplaySummary naive;
  ASSERT_NO_THROW(naive = book::replay(*make_agent_market(c), book::BookImpl::kNaive));
  EXPECT_EQ(naive.events, s.events);
  EXPECT_EQ(naive.final_best_bid, s.final_best_bid);
  EXPECT_EQ(naive.final_best_ask, s.final_best_ask);
  // A market thin enough for sides to run out replays cleanly too.
  AgentMarketConfig thin = c;
  thin.noise_traders = 5;
  thin.momentum_traders = 10;
  ASSERT_NO_THROW(s = book::replay(*make_agent_market(thin)));
  EXPECT_GT(s.tolerated.get("agents.market_orders_on_empty_side") +
                s.tolerated.get("agents.market_qty_beyond_book"),
            0u);
}

TEST(AgentMarket, ExecutionsTakeTheFrontOfTheBestLevelInPriceTimePriority) {
  auto src = make_agent_market(short_config(1800));
  book::L3Book b;
  std::vector<Event> buf(1);
  std::uint64_t executions = 0, walked_levels = 0;
  std::uint64_t record = ~0ull;
  Side taker_from = Side::kNone;
  Price last_px = kNoPrice;
  while (src->read(buf.data(), 1) == 1) {
    const Event& e = buf[0];
    if (e.kind == EventKind::kExecution) {
      ++executions;
      ASSERT_EQ(b.best(e.side).price, e.price) << "execution away from the best, record " << e.record;
      ASSERT_EQ(b.queue_ahead(e.order_id), 0) << "execution not at the front, record " << e.record;
      if (e.record == record && e.side == taker_from && e.price != last_px) {
        ++walked_levels;  // a sweep moves away from the best, never back
        ASSERT_TRUE(e.side == Side::kAsk ? e.price > last_px : e.price < last_px);
      }
      record = e.record;
      taker_from = e.side;
      last_px = e.price;
    } else if (e.kind == EventKind::kCancel) {
      const auto o = b.order(e.order_id);
      ASSERT_TRUE(o.has_value());
      ASSERT_EQ(o->qty, e.qty) << "a cancel removes the whole order";
    } else if (e.kind == EventKind::kAdd) {
      // A new order never crosses the opposite best.
      const book::Level opp = b.best(opposite(e.side));
      if (opp.price != kNoPrice) {
        ASSERT_TRUE(e.side == Side::kBid ? e.price < opp.price : e.price > opp.price);
      }
    }
    ASSERT_EQ(b.apply(e), Errc::kOk);
  }
  EXPECT_GT(executions, 3'000u);
  EXPECT_GT(walked_levels, 0u);
}

TEST(AgentMarket, TradesAreZeroSumAndMakersStayWithinTheirPositionLimit) {
  AgentMarketConfig c = short_config(3600);
  c.maker_max_position_lots = 12;  // binding: informed flow pushes makers to the limit
  const MarketRun r = simulate(c);
  Qty bought = 0, sold = 0;
  std::int64_t cash = 0;
  for (const AgentTypeStats& t : r.stats.by_type) {
    bought += t.bought;
    sold += t.sold;
    cash += t.cash_ticks;
  }
  // Every execution is a buy for one agent and a sell for another, at the same price.
  EXPECT_EQ(bought, sold);
  EXPECT_EQ(cash, 0);
  EXPECT_GT(bought, 10'000);
  EXPECT_LE(r.max_abs_maker_position, 12);
  EXPECT_EQ(r.max_abs_maker_position, 12) << "the limit should bind in this configuration";
  Qty makers = 0;
  for (Qty p : r.stats.maker_position) makers += p;
  EXPECT_EQ(makers, r.stats.of(AgentType::kMaker).position());
  EXPECT_GT(r.stats.of(AgentType::kMaker).messages, 1'000u);
}

TEST(AgentMarket, StreamsWithoutPrecomputingTheRun) {
  AgentMarketConfig c;
  c.duration_s = 1e9;  // ~31 years of market time: only a streaming generator returns at once
  auto src = make_agent_market(c);
  std::vector<Event> buf(10'000);
  EXPECT_EQ(src->read(buf.data(), buf.size()), buf.size());
  EXPECT_LT(buf.back().exch_ts_ns - c.start_ns, 3'600 * kSecond);
}

// ---------------------------------------------------------------------------------------------
// The fundamental value

TEST(AgentMarket, FundamentalIsAnArithmeticRandomWalkWithTheConfiguredVolatility) {
  AgentMarketConfig c = noise_only(4 * 3600);
  c.fundamental_vol_ticks = 0.5;
  c.fundamental_jump_rate = 0;
  const MarketRun r = simulate(c);
  // Increments over 10 s: N(0, σ² × 10); the sample variance of n of them has relative standard
  // error √(2/n) (χ² law). The grid samples fall at the last record before each second, so the
  // spacing jitters by the inter-event time (~0.1 s), well inside the tolerance.
  const std::vector<double> d = changes(r.value, 10);
  const double n = static_cast<double>(d.size());
  const double var = stddev(d) * stddev(d);
  EXPECT_NEAR(var / (0.25 * 10), 1.0, 4.5 * std::sqrt(2 / n));
  EXPECT_NEAR(mean(d), 0.0, 4.5 * std::sqrt(0.25 * 10 / n));
  EXPECT_EQ(r.stats.fundamental_jumps, 0u);
}

TEST(AgentMarket, FundamentalJumpsArriveAsAPoissonProcess) {
  AgentMarketConfig c = noise_only(4 * 3600);
  c.noise_traders = 2;
  c.fundamental_vol_ticks = 0;
  c.fundamental_jump_rate = 0.05;
  c.fundamental_jump_std_ticks = 3;
  const MarketRun r = simulate(c);
  const double expected = 0.05 * 4 * 3600;  // 720, Poisson: sd √720
  EXPECT_NEAR(static_cast<double>(r.stats.fundamental_jumps), expected, 4.5 * std::sqrt(expected));
  // With jumps only, V changes on a 1-s grid only when a jump fell in between.
  std::size_t moves = 0;
  for (std::size_t i = 1; i < r.value.size(); ++i) moves += r.value[i] != r.value[i - 1];
  EXPECT_GT(moves, 0u);
  EXPECT_LE(moves, r.stats.fundamental_jumps);
}

// ---------------------------------------------------------------------------------------------
// Statistical behaviour the model predicts

TEST(AgentMarket, WithOnlyNoiseTradersTheMidHasNoDrift) {
  // Noise traders are symmetric (side 50/50, distances from the opposite best), so the mid is a
  // driftless random walk: the mean 1-s change is 0 within its standard error. Returns are
  // slightly negatively autocorrelated (bid-ask bounce), which makes sd/√n conservative.
  for (std::uint64_t seed : {1ull, 2ull}) {
    AgentMarketConfig c = noise_only(4 * 3600);
    c.seed = seed;
    const MarketRun r = simulate(c);
    const std::vector<double> ret = changes(r.mid, 1);
    ASSERT_GT(ret.size(), 14'000u);
    const double se = stddev(ret) / std::sqrt(static_cast<double>(ret.size()));
    EXPECT_LT(std::fabs(mean(ret)), 4 * se) << "seed " << seed << " mean " << mean(ret) << " se " << se;
    // Martingale-like beyond the bounce: 30-s changes are uncorrelated with the previous ones.
    const std::vector<double> r30 = changes(r.mid, 30);
    EXPECT_LT(std::fabs(acf(r30, 1)), 4 / std::sqrt(static_cast<double>(r30.size()))) << "seed " << seed;
    // The mid does not know V: it wanders away from it.
    EXPECT_GT(mean_abs_gap(r), 5.0);
  }
}

TEST(AgentMarket, InformedTradersPullTheMidTowardTheFundamental) {
  // Informed traders buy when their signal of V is above the mid and sell when below, so
  // (a) the gap V − mid predicts the next mid change (positive correlation), and (b) the mean
  // |V − mid| shrinks as the informed rate grows (without them mid and V are independent walks).
  std::vector<double> gaps;
  for (double rate : {0.0, 0.05, 0.4}) {
    AgentMarketConfig c = short_config(4 * 3600);
    c.momentum_traders = 0;
    if (rate == 0) {
      c.informed_traders = 0;
    } else {
      c.informed_rate = rate;
    }
    const MarketRun r = simulate(c);
    gaps.push_back(mean_abs_gap(r));
    if (rate > 0) {
      std::vector<double> gap, next;
      for (std::size_t i = 0; i + 10 < r.mid.size(); i += 10) {
        gap.push_back(r.value[i] - r.mid[i]);
        next.push_back(r.mid[i + 10] - r.mid[i]);
      }
      const double rho = corr(gap, next);
      EXPECT_GT(rho, 4 / std::sqrt(static_cast<double>(gap.size()))) << "informed rate " << rate;
      // Informed traders buy below V and sell above it (measured at V when they trade); the
      // others, noise traders above all, pay for it. The edges sum to zero.
      EXPECT_GT(r.stats.of(AgentType::kInformed).value_edge_ticks, 0) << rate;
      EXPECT_LT(r.stats.of(AgentType::kNoise).value_edge_ticks, 0) << rate;
      double total = 0;
      for (const AgentTypeStats& t : r.stats.by_type) total += t.value_edge_ticks;
      EXPECT_NEAR(total, 0, 1e-6 * std::fabs(r.stats.of(AgentType::kInformed).value_edge_ticks));
    }
  }
  EXPECT_GT(gaps[0], gaps[1]);
  EXPECT_GT(gaps[1], gaps[2]);
  EXPECT_LT(gaps[2], 0.5 * gaps[0]);
}

TEST(AgentMarket, MomentumTradersRaiseShortLagReturnAutocorrelation) {
  // Momentum traders buy after the mid rose over their lookback and sell after it fell, so a move
  // is followed by more of it: the autocorrelation of 1-s mid changes at lags 1–5 rises (each
  // lag's sample autocorrelation has standard error ~1/√n).
  double base = 0, with = 0;
  std::size_t n = 0;
  for (std::uint32_t traders : {0u, 6u}) {
    AgentMarketConfig c = noise_only(4 * 3600);
    c.momentum_traders = traders;
    const MarketRun r = simulate(c);
    const std::vector<double> ret = changes(r.mid, 1);
    double a = 0;
    for (std::size_t k = 1; k <= 5; ++k) a += acf(ret, k) / 5;
    (traders == 0 ? base : with) = a;
    n = ret.size();
    if (traders > 0) {
      EXPECT_GT(r.stats.of(AgentType::kMomentum).messages, 1'000u);
    }
  }
  EXPECT_GT(with - base, 4 / std::sqrt(static_cast<double>(n))) << "without " << base << ", with " << with;
}

TEST(AgentMarket, CompetingMakersKeepTheSpreadTight) {
  // Thin noise liquidity alone leaves a wide, often empty book; makers quoting ⌊mid − 1⌋ /
  // ⌈mid + 1⌉ cap the spread at 3 ticks whenever they requote.
  AgentMarketConfig c = noise_only(2 * 3600);
  c.noise_traders = 10;
  const MarketRun without = simulate(c);
  c.makers = 3;
  const MarketRun with = simulate(c);
  EXPECT_LT(with.spread_ticks, without.spread_ticks);
  EXPECT_LT(with.spread_ticks, 0.8 * without.spread_ticks);
  EXPECT_GT(with.one_tick_share, without.one_tick_share);
  EXPECT_LE(with.one_side_empty_share, without.one_side_empty_share);
  // More makers compete the spread down further (or keep it), never widen it.
  c.makers = 6;
  const MarketRun more = simulate(c);
  EXPECT_LE(more.spread_ticks, with.spread_ticks * 1.02);
}

TEST(AgentMarket, MicropriceMakersRunToo) {
  AgentMarketConfig c = short_config(900);
  c.maker_use_microprice = true;
  book::ReplaySummary s;
  ASSERT_NO_THROW(s = book::replay(*make_agent_market(c)));
  EXPECT_FALSE(same_bytes(read_all(*make_agent_market(c)), read_all(*make_agent_market(short_config(900)))));
}

// ---------------------------------------------------------------------------------------------
// Our market maker in the agent market

TEST(AgentMarket, TheEngineRunsTheSpreadQuoterInTheAgentMarket) {
  const AgentMarketConfig c = short_config(1800);
  auto probe = make_agent_market(c);
  const strategy::MarketProfile profile = engine::profile_market(*probe);
  EXPECT_GT(profile.trades_per_second, 0.5);
  auto source = make_agent_market(c);
  const InstrumentSpec spec = source->instrument();
  auto strat = strategy::make_strategy("spread-quoter", {}, spec, profile);
  engine::EngineConfig ec;
  ec.fees = exchange::FeeSchedule::from_bps(-0.2, 0.5);
  engine::Engine eng(std::move(source), std::move(strat), std::move(ec));
  eng.run();
  ASSERT_TRUE(eng.finished());
  const engine::BacktestResult& r = eng.result();
  const std::vector<Event> all = read_all(*make_agent_market(c));
  EXPECT_EQ(r.metrics.events, all.size());
  EXPECT_GT(r.metrics.orders, 100u);
  EXPECT_GT(r.metrics.fills, 20u);
  EXPECT_GT(r.metrics.maker_fills, 0u);
  EXPECT_TRUE(std::isfinite(r.metrics.total_pnl));
  ASSERT_FALSE(r.samples.empty());
  EXPECT_GT(r.samples.back().mid, 90.0);
  EXPECT_LT(r.samples.back().mid, 110.0);
  std::printf("spread-quoter in the agent market, 30 min: %llu orders, %llu fills (%llu maker), P&L %.2f USD, "
              "spread captured %.4f USD, markout 1 s %.4f USD\n",
              static_cast<unsigned long long>(r.metrics.orders), static_cast<unsigned long long>(r.metrics.fills),
              static_cast<unsigned long long>(r.metrics.maker_fills), r.metrics.total_pnl,
              r.metrics.spread_captured_mean, r.metrics.markout_mean.size() > 1 ? r.metrics.markout_mean[1] : NAN);
}

// The lead binds `[synthetic] mode = "agents"` through the same dict -> Params conversion as the
// strategies: the value map is exactly strategy::Params.
static_assert(std::is_same_v<std::map<std::string, AgentConfigValue, std::less<>>, strategy::Params>);

// ---------------------------------------------------------------------------------------------
// Configuration

TEST(AgentMarket, BadConfigsThrowNamingTheField) {
  struct Case {
    const char* field;
    std::function<void(AgentMarketConfig&)> set;
  };
  const std::vector<Case> cases{
      {"symbol", [](AgentMarketConfig& c) { c.symbol = ""; }},
      {"price_decimals", [](AgentMarketConfig& c) { c.price_decimals = 19; }},
      {"tick_size", [](AgentMarketConfig& c) { c.tick_size = 0; }},
      {"initial_price", [](AgentMarketConfig& c) { c.initial_price = 5; }},
      {"duration_s", [](AgentMarketConfig& c) { c.duration_s = 0; }},
      {"duration_s", [](AgentMarketConfig& c) { c.duration_s = NAN; }},
      {"start_ns", [](AgentMarketConfig& c) { c.start_ns = -1; }},
      {"feed_latency_ns", [](AgentMarketConfig& c) { c.feed_latency_ns = -1; }},
      {"opening_levels", [](AgentMarketConfig& c) { c.opening_levels = 0; }},
      {"opening_orders_per_level", [](AgentMarketConfig& c) { c.opening_orders_per_level = 0; }},
      {"fundamental_vol_ticks", [](AgentMarketConfig& c) { c.fundamental_vol_ticks = -0.1; }},
      {"fundamental_step_s", [](AgentMarketConfig& c) { c.fundamental_step_s = 0; }},
      {"fundamental_jump_rate", [](AgentMarketConfig& c) { c.fundamental_jump_rate = INFINITY; }},
      {"fundamental_jump_std_ticks", [](AgentMarketConfig& c) { c.fundamental_jump_std_ticks = -1; }},
      {"noise_traders", [](AgentMarketConfig& c) { c.noise_traders = 2'000'000; }},
      {"noise_rate", [](AgentMarketConfig& c) { c.noise_rate = 0; }},
      {"noise_market_prob", [](AgentMarketConfig& c) { c.noise_market_prob = 1.5; }},
      {"noise_limit_mean_distance_ticks", [](AgentMarketConfig& c) { c.noise_limit_mean_distance_ticks = 0.5; }},
      {"noise_limit_max_distance_ticks", [](AgentMarketConfig& c) { c.noise_limit_max_distance_ticks = 0; }},
      {"noise_mean_size_lots", [](AgentMarketConfig& c) { c.noise_mean_size_lots = 0.9; }},
      {"noise_order_lifetime_s", [](AgentMarketConfig& c) { c.noise_order_lifetime_s = 0; }},
      {"informed_rate", [](AgentMarketConfig& c) { c.informed_rate = -1; }},
      {"informed_signal_std_ticks", [](AgentMarketConfig& c) { c.informed_signal_std_ticks = NAN; }},
      {"informed_threshold_ticks", [](AgentMarketConfig& c) { c.informed_threshold_ticks = -1; }},
      {"informed_base_size_lots", [](AgentMarketConfig& c) { c.informed_base_size_lots = 0; }},
      {"informed_size_per_tick_lots", [](AgentMarketConfig& c) { c.informed_size_per_tick_lots = -1; }},
      {"informed_max_size_lots", [](AgentMarketConfig& c) { c.informed_max_size_lots = 2; }},
      {"informed_market_prob", [](AgentMarketConfig& c) { c.informed_market_prob = -0.1; }},
      {"momentum_rate", [](AgentMarketConfig& c) { c.momentum_rate = 2e5; }},
      {"momentum_lookback_s", [](AgentMarketConfig& c) { c.momentum_lookback_s = 0; }},
      {"momentum_threshold_ticks", [](AgentMarketConfig& c) { c.momentum_threshold_ticks = -1; }},
      {"momentum_base_size_lots", [](AgentMarketConfig& c) { c.momentum_base_size_lots = 0.5; }},
      {"momentum_size_per_tick_lots", [](AgentMarketConfig& c) { c.momentum_size_per_tick_lots = NAN; }},
      {"momentum_max_size_lots", [](AgentMarketConfig& c) { c.momentum_max_size_lots = 1; }},
      {"makers", [](AgentMarketConfig& c) { c.makers = 5'000'000; }},
      {"maker_half_spread_ticks", [](AgentMarketConfig& c) { c.maker_half_spread_ticks = -0.5; }},
      {"maker_skew_ticks_per_lot", [](AgentMarketConfig& c) { c.maker_skew_ticks_per_lot = -1; }},
      {"maker_order_size_lots", [](AgentMarketConfig& c) { c.maker_order_size_lots = 0; }},
      {"maker_max_position_lots", [](AgentMarketConfig& c) { c.maker_max_position_lots = -1; }},
      {"maker_requote_interval_s", [](AgentMarketConfig& c) { c.maker_requote_interval_s = 0; }},
  };
  for (const Case& k : cases) {
    AgentMarketConfig c;
    k.set(c);
    EXPECT_EQ(field_of([&] { (void)make_agent_market(c); }), k.field) << k.field;
  }
  try {
    AgentMarketConfig c;
    c.noise_rate = -2;
    (void)make_agent_market(c);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("agent market config"), std::string::npos) << what;
    EXPECT_NE(what.find("noise_rate"), std::string::npos) << what;
    EXPECT_NE(what.find("-2"), std::string::npos) << what;
  }
  EXPECT_NO_THROW((void)make_agent_market(AgentMarketConfig{}));
}

TEST(AgentMarket, ConfigFromAFlatMapSetsFieldsAndNamesBadKeys) {
  using V = AgentConfigValue;
  const AgentMarketConfig c = agent_market_config_from(std::map<std::string, V, std::less<>>{
      {"mode", V{std::string("agents")}},
      {"symbol", V{std::string("XYZ")}},
      {"tick_size", V{std::int64_t{5}}},
      {"initial_price", V{2.0e4}},
      {"noise_traders", V{std::int64_t{12}}},
      {"noise_rate", V{std::int64_t{1}}},
      {"maker_use_microprice", V{true}},
      {"start_ns", V{std::int64_t{1'704'205'800'123'456'789}}},
      {"seed", V{std::int64_t{9}}},
  });
  EXPECT_EQ(c.symbol, "XYZ");
  EXPECT_EQ(c.tick_size, 5);
  EXPECT_EQ(c.initial_price, 20'000);
  EXPECT_EQ(c.noise_traders, 12u);
  EXPECT_DOUBLE_EQ(c.noise_rate, 1.0);
  EXPECT_TRUE(c.maker_use_microprice);
  EXPECT_EQ(c.start_ns, 1'704'205'800'123'456'789);
  EXPECT_EQ(c.seed, 9u);
  EXPECT_EQ(c.makers, AgentMarketConfig{}.makers);

  const AgentMarketConfig d = agent_market_config_from(std::map<std::string, double>{
      {"makers", 5}, {"maker_half_spread_ticks", 0.5}, {"maker_use_microprice", 1}, {"duration_s", 60}});
  EXPECT_EQ(d.makers, 5u);
  EXPECT_DOUBLE_EQ(d.maker_half_spread_ticks, 0.5);
  EXPECT_TRUE(d.maker_use_microprice);
  EXPECT_DOUBLE_EQ(d.duration_s, 60);

  // Every field is a key.
  EXPECT_EQ(agent_market_keys().size(), 45u);
  EXPECT_EQ(agent_market_keys().back(), "mode");

  try {
    (void)agent_market_config_from(std::map<std::string, double>{{"noise_trader", 3}});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where().field, "noise_trader");
    const std::string what = e.what();
    EXPECT_NE(what.find("unknown"), std::string::npos) << what;
    EXPECT_NE(what.find("noise_traders"), std::string::npos) << what;  // the known keys are listed
  }
  auto field = [](std::map<std::string, V, std::less<>> m) {
    return field_of([&] { (void)agent_market_config_from(m); });
  };
  EXPECT_EQ(field({{"makers", V{2.5}}}), "makers");                  // not an integer
  EXPECT_EQ(field({{"makers", V{std::int64_t{-1}}}}), "makers");     // out of the type's range
  EXPECT_EQ(field({{"symbol", V{1.0}}}), "symbol");                  // wrong type
  EXPECT_EQ(field({{"noise_rate", V{std::string("fast")}}}), "noise_rate");
  EXPECT_EQ(field({{"maker_use_microprice", V{2.0}}}), "maker_use_microprice");
  EXPECT_EQ(field({{"mode", V{std::string("cst")}}}), "mode");
  EXPECT_EQ(field({{"noise_rate", V{0.0}}}), "noise_rate");          // validated
  EXPECT_EQ(field({{"seed", V{-3.0}}}), "seed");
}

// ---------------------------------------------------------------------------------------------
// What the defaults look like (docs/agent_market.md quotes this output)

TEST(AgentMarketLongRun, DefaultMarketStatistics) {
  const MarketRun r = simulate(short_config(4 * 3600));
  const double T = r.cfg.duration_s;
  const std::vector<double> r1 = changes(r.mid, 1);
  const std::vector<double> r60 = changes(r.mid, 60);
  const std::vector<double> v60 = changes(r.value, 60);
  std::vector<double> gap;
  for (std::size_t i = 0; i < r.mid.size(); ++i) gap.push_back(r.value[i] - r.mid[i]);
  auto lagged = [&](std::size_t h) {
    std::vector<double> a(gap.begin(), gap.end() - static_cast<std::ptrdiff_t>(h));
    std::vector<double> b(gap.begin() + static_cast<std::ptrdiff_t>(h), gap.end());
    return corr(a, b);
  };
  std::printf("agent market, defaults, %.0f s, seed %llu\n", T, static_cast<unsigned long long>(r.cfg.seed));
  std::printf("  events %.1f/s: adds %.1f/s, cancels %.1f/s, executions %.1f/s; records %.1f/s\n",
              static_cast<double>(r.events) / T, static_cast<double>(r.kinds[1]) / T,
              static_cast<double>(r.kinds[2]) / T, static_cast<double>(r.kinds[4]) / T,
              static_cast<double>(r.records) / T);
  std::printf("  spread %.3f ticks (1 tick %.1f %% of the time), a side empty %.3f %% of the time\n",
              r.spread_ticks, 100 * r.one_tick_share, 100 * r.one_side_empty_share);
  std::printf("  depth at the best %.1f lots per side\n", r.depth_lots);
  std::printf("  mid: sd of 1-s changes %.3f ticks, of 60-s changes %.2f ticks (V: %.2f); acf(1 s) %.3f\n",
              stddev(r1), stddev(r60), stddev(v60), acf(r1, 1));
  std::printf("  |V - mid| %.2f ticks on average; autocorrelation of V - mid at 10/60/300 s: %.2f %.2f %.2f\n",
              mean_abs_gap(r), lagged(10), lagged(60), lagged(300));
  for (int t = 0; t < kAgentTypeCount; ++t) {
    const AgentTypeStats& s = r.stats.by_type[t];
    std::printf("  %-8s messages %.2f/s, volume %.2f lots/s, edge at V %+.3f ticks per lot traded\n",
                to_string(static_cast<AgentType>(t)), static_cast<double>(s.messages) / T,
                static_cast<double>(s.bought + s.sold) / T,
                s.value_edge_ticks / static_cast<double>(std::max<Qty>(1, s.bought + s.sold)));
  }
  EXPECT_GE(r.spread_ticks, 1.0);
  EXPECT_LE(r.spread_ticks, 3.0);
  EXPECT_LT(r.one_side_empty_share, 0.01);
  EXPECT_LT(mean_abs_gap(r), 5.0);  // the mid tracks V…
  EXPECT_GT(lagged(10), 0.3);        // …over minutes, not instantly
  EXPECT_LT(lagged(300), 0.3);
  EXPECT_GT(static_cast<double>(r.events) / T, 10.0);

  // Generation speed (documentation, not a test): batch reads, no book.
  auto src = make_agent_market(short_config(4 * 3600));
  std::vector<Event> buf(4096);
  std::uint64_t n = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t k; (k = src->read(buf.data(), buf.size())) != 0;) n += k;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("  generated %.1f million events/s (%.0f s of market time per second)\n", static_cast<double>(n) / secs / 1e6,
              T / secs);
}

}  // namespace
}  // namespace mmkit::sim
