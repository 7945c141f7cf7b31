// Multi-instrument backtests (src/engine/portfolio.cpp) and cross-asset hedging
// (src/strategy/hedge.cpp) on hand-built event streams with hand-computed answers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mmkit/core/error.h"
#include "mmkit/data/source.h"
#include "mmkit/engine/engine.h"
#include "mmkit/engine/portfolio.h"
#include "mmkit/exchange/order.h"
#include "mmkit/strategy/hedge.h"
#include "mmkit/strategy/strategy.h"
#include "fixtures.h"

namespace {

using mmkit::Event;
using mmkit::EventKind;
using mmkit::Price;
using mmkit::Qty;
using mmkit::Side;
using mmkit::TimestampNs;
using mmkit::engine::EngineConfig;
using mmkit::engine::Leg;
using mmkit::engine::Portfolio;
using mmkit::strategy::Context;
using mmkit::strategy::RollingBeta;
using mmkit::strategy::SharedState;
using mmkit::test::cents_spec;
using mmkit::test::level;
using mmkit::test::VectorSource;

constexpr TimestampNs kSec = 1'000'000'000;
constexpr TimestampNs kMs = 1'000'000;
constexpr TimestampNs T0 = 1'700'000'000 * kSec;
EngineConfig zero_latency() {
  EngineConfig c = mmkit::test::zero_latency();
  c.timer_interval_ns = 3600 * kSec;
  return c;
}

struct Seen {
  std::size_t leg;
  TimestampNs now;
};

/// Logs its book updates into a shared log; optionally takes `qty` at start (IOC at the touch).
class Logger final : public mmkit::strategy::Strategy {
 public:
  Logger(std::size_t leg, std::vector<Seen>* log, Qty qty = 0) : leg_(leg), log_(log), qty_(qty) {}
  void on_start(Context& c) override {
    if (qty_ != 0) c.submit(mmkit::test::market(qty_));
  }
  void on_book_update(Context& c) override {
    if (log_->empty() || log_->back().leg != leg_ || log_->back().now != c.now()) log_->push_back({leg_, c.now()});
  }

 private:
  std::size_t leg_;
  std::vector<Seen>* log_;
  Qty qty_;
};

/// A one-level book bid / bid + 2 ticks at times[0], moved up 10 ticks at each later time (one
/// complete update per time).
std::vector<Event> book_at(const std::vector<TimestampNs>& times, Price bid) {
  std::vector<Event> ev{level(times.front(), Side::kBid, bid, 50'000, 0),
                        level(times.front(), Side::kAsk, bid + 2, 50'000)};
  for (std::size_t i = 1; i < times.size(); ++i) {
    const Price b = bid + static_cast<Price>(i) * 10, old = b - 10;
    ev.push_back(level(times[i], Side::kAsk, old + 2, 0, 0));
    ev.push_back(level(times[i], Side::kAsk, b + 2, 50'000, 0));
    ev.push_back(level(times[i], Side::kBid, old, 0, 0));
    ev.push_back(level(times[i], Side::kBid, b, 50'000));
  }
  return ev;
}

Leg make_leg(std::vector<Event> ev, std::string sym, std::unique_ptr<mmkit::strategy::Strategy> s,
             std::string ccy = "USD") {
  Leg l;
  l.source = std::make_unique<VectorSource>(std::move(ev), cents_spec(sym, ccy, 3));
  l.strategy = std::move(s);
  l.config = zero_latency();
  return l;
}

TEST(Portfolio, LegsInterleaveInOneTimeOrderTiesToTheLowerLeg) {
  std::vector<Seen> log;
  std::vector<Leg> legs;
  legs.push_back(make_leg(book_at({T0 + 1 * kMs, T0 + 4 * kMs, T0 + 7 * kMs}, 10000), "A",
                          std::make_unique<Logger>(0, &log)));
  legs.push_back(make_leg(book_at({T0 + 2 * kMs, T0 + 3 * kMs, T0 + 4 * kMs, T0 + 8 * kMs}, 5000), "B",
                          std::make_unique<Logger>(1, &log)));
  Portfolio p(std::move(legs));
  std::vector<std::pair<std::size_t, TimestampNs>> items;
  TimestampNs last = 0;
  while (true) {
    TimestampNs due[2] = {p.leg(0).finished() ? 0 : p.leg(0).next_due(), p.leg(1).finished() ? 0 : p.leg(1).next_due()};
    if (!p.advance_one()) break;
    const std::size_t k = p.last_leg();
    const TimestampNs t = due[k];
    EXPECT_GE(t, last);  // one global time order
    if (!p.leg(1 - k).finished() && due[1 - k] != mmkit::kNoTimestamp) {
      EXPECT_TRUE(t < due[1 - k] || (t == due[1 - k] && k == 0)) << "leg " << k << " at " << t - T0;
    }
    last = t;
    items.push_back({k, t});
  }
  const std::vector<std::pair<std::size_t, TimestampNs>> want{{0, 1}, {1, 2}, {1, 3}, {0, 4}, {1, 4}, {0, 7}, {1, 8}};
  ASSERT_EQ(log.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(log[i].leg, want[i].first) << i;
    EXPECT_EQ(log[i].now, T0 + want[i].second * kMs) << i;
  }
  EXPECT_TRUE(p.finished());
  EXPECT_TRUE(p.leg(0).finished());
  EXPECT_TRUE(p.leg(1).finished());
}

TEST(Portfolio, PerLegAndTotalPnlAddUpOnACommonClock) {
  std::vector<Seen> log;
  std::vector<Leg> legs;
  // Leg A: long 2.000 at 100.02, the mid rises 0.10 per second for 3 s; leg B: short 1.000 at
  // 50.00, its mid rises 0.10 per second from 0.5 s on.
  legs.push_back(make_leg(book_at({T0, T0 + kSec, T0 + 2 * kSec, T0 + 3 * kSec}, 10000), "A",
                          std::make_unique<Logger>(0, &log, 2000)));
  legs.push_back(make_leg(book_at({T0 + kSec / 2, T0 + 3 * kSec / 2, T0 + 5 * kSec / 2}, 5000), "B",
                          std::make_unique<Logger>(1, &log, -1000)));
  Portfolio p(std::move(legs));
  p.run();
  const auto& r = p.result();
  ASSERT_EQ(r.legs.size(), 2u);
  EXPECT_EQ(r.names[0], "A");
  EXPECT_EQ(r.currency, "USD");
  // Leg A: bought 2 at 100.02, final mid 100.31 -> +0.58; leg B: sold 1 at 50.00, final mid
  // 50.21 -> -0.21.
  EXPECT_NEAR(r.metrics.leg_pnl[0], 2 * (100.31 - 100.02), 1e-9);
  EXPECT_NEAR(r.metrics.leg_pnl[1], -(50.21 - 50.00), 1e-9);
  EXPECT_NEAR(r.metrics.total_pnl, r.metrics.leg_pnl[0] + r.metrics.leg_pnl[1], 1e-12);
  ASSERT_GE(r.samples.size(), 4u);
  for (std::size_t i = 0; i + 1 < r.samples.size(); ++i) {
    EXPECT_EQ(r.samples[i].ts_ns, T0 + static_cast<TimestampNs>(i) * kSec);  // the common clock
  }
  for (const auto& s : r.samples) EXPECT_NEAR(s.total_pnl, s.pnl[0] + s.pnl[1], 1e-12);
  const auto& last = r.samples.back();
  EXPECT_NEAR(last.pnl[0], r.legs[0].samples.back().pnl, 1e-9);
  EXPECT_NEAR(last.pnl[1], r.legs[1].samples.back().pnl, 1e-9);
  EXPECT_NEAR(last.total_pnl, r.metrics.total_pnl, 1e-9);
  // At T0 + 1 s: A's mid 100.11 (update at 1 s), B's mid 50.01 (update at 0.5 s only).
  EXPECT_NEAR(r.samples[1].pnl[0], 2 * (100.11 - 100.02), 1e-9);
  EXPECT_NEAR(r.samples[1].pnl[1], -(50.01 - 50.00), 1e-9);
  EXPECT_NEAR(r.samples[1].net_notional, 2 * 100.11 - 50.01, 1e-9);
  // Inventory PnL per interval Σ q × Δmid: 2 × 0.10 (B flat), 2 × 0.10 − 0.10, 2 × 0.10 − 0.10
  // -> {0.2, 0.1, 0.1}, sample std sqrt(0.00666…/2).
  ASSERT_EQ(r.samples.size(), 4u);
  EXPECT_NEAR(r.metrics.inventory_pnl_std, std::sqrt((0.2 / 3 * 0.2 / 3 + 2 * 0.1 / 3 * 0.1 / 3) / 2), 1e-9);
  // Spread cost of the two market orders: half the 0.02 spread on 2 and on 1 unit.
  EXPECT_NEAR(r.metrics.leg_spread_cost[0], 2 * 0.01, 1e-9);
  EXPECT_NEAR(r.metrics.leg_spread_cost[1], 1 * 0.01, 1e-9);
}

TEST(Portfolio, LegsInDifferentQuoteCurrenciesAreAnError) {
  std::vector<Seen> log;
  std::vector<Leg> legs;
  legs.push_back(make_leg(book_at({T0}, 10000), "A", std::make_unique<Logger>(0, &log), "USDT"));
  legs.push_back(make_leg(book_at({T0}, 10000), "B", std::make_unique<Logger>(1, &log), "USDC"));
  try {
    Portfolio p(std::move(legs));
    FAIL() << "expected mmkit::Error";
  } catch (const mmkit::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("USDT"), std::string::npos) << what;
    EXPECT_NE(what.find("USDC"), std::string::npos) << what;
  }
}

TEST(RollingBeta, MatchesTheHandComputedOlsSlopeAndCorrelation) {
  // x = leg-1 returns, y = leg-2 returns. All four: Σdx·dy = 0.0008, Σdy² = 0.0006,
  // Σdx² = 0.0013 -> beta = 4/3, corr = 0.0008 / sqrt(0.0013 × 0.0006) = 0.905821627...
  const double x[] = {0.01, -0.02, 0.03, 0.00};
  const double y[] = {0.02, -0.01, 0.02, 0.01};
  RollingBeta all(0), last3(3);
  for (int i = 0; i < 4; ++i) {
    all.add(x[i], y[i]);
    last3.add(x[i], y[i]);
  }
  EXPECT_NEAR(all.beta(), 4.0 / 3.0, 1e-12);
  EXPECT_NEAR(all.correlation(), 0.0008 / std::sqrt(0.0013 * 0.0006), 1e-12);
  EXPECT_NEAR(all.covariance(), 0.0008 / 3, 1e-15);
  EXPECT_EQ(all.count(), 4u);
  // The window keeps the last three: Σdx·dy = 0.0007333…, Σdy² = 0.0004666… -> beta = 11/7.
  EXPECT_EQ(last3.count(), 3u);
  EXPECT_NEAR(last3.beta(), 11.0 / 7.0, 1e-12);
  EXPECT_NEAR(last3.correlation(), 0.9538209664765319, 1e-12);
  RollingBeta one(5);
  one.add(0.1, 0.2);
  EXPECT_TRUE(std::isnan(one.beta()));
  RollingBeta mids(0);
  mids.add_mids(100, 50);
  mids.add_mids(101, 50.5);
  mids.add_mids(99.99, 50.0);
  ASSERT_EQ(mids.count(), 2u);
  EXPECT_NEAR(mids.beta(), (std::log(99.99 / 101) - std::log(1.01)) / (std::log(50.0 / 50.5) - std::log(1.01)), 1e-12);
}

TEST(Hedger, TargetIsTheNotionalBetaHedgeAndTheBandIsStrict) {
  // 0.5 BTC at 60,000 with beta 0.8 -> −0.8 × 30,000 / 2,500 = −9.6 ETH.
  EXPECT_NEAR(mmkit::strategy::hedge_target(0.8, 0.5, 60000, 1, 2500, 1), -9.6, 1e-12);
  EXPECT_NEAR(mmkit::strategy::hedge_target(1.0, -2, 100, 50, 10, 5), 200.0, 1e-12);
  EXPECT_FALSE(mmkit::strategy::outside_band(-9.5, -9.6, 2500, 1, 1000));  // 250 <= 1000
  EXPECT_TRUE(mmkit::strategy::outside_band(0, -9.6, 2500, 1, 1000));      // 24,000 > 1000
  EXPECT_FALSE(mmkit::strategy::outside_band(-9.5, -9.75, 4000, 1, 1000));  // exactly 1000: no trade
}

TEST(Hedger, ParamsRejectUnknownKeysAndBadStyles) {
  mmkit::strategy::Params p{{"band_notional", 5.0}, {"style", std::string("passive")}};
  const auto h = mmkit::strategy::hedge_params(p);
  EXPECT_EQ(h.style, mmkit::strategy::HedgeStyle::kPassive);
  EXPECT_DOUBLE_EQ(h.band_notional, 5.0);
  EXPECT_THROW((void)mmkit::strategy::hedge_params({{"bandwidth", 1.0}}), mmkit::Error);
  EXPECT_THROW((void)mmkit::strategy::hedge_params({{"style", std::string("market")}}), mmkit::Error);
  EXPECT_THROW((void)mmkit::strategy::hedge_params({{"window", std::int64_t{1}}}), mmkit::Error);
}

struct HedgeRun {
  mmkit::engine::PortfolioResult result;
};

HedgeRun hedge_run(double band, const std::string& style) {
  auto shared = std::make_shared<SharedState>();
  std::vector<Seen> log;
  std::vector<Leg> legs;
  // Leg 0 buys 2.000 at 100.02 (mid 100.01) at T0; leg 1 (mid 50.01) updates every 0.5 s.
  legs.push_back(make_leg(book_at({T0, T0 + 10 * kSec}, 10000), "A",
                          std::make_unique<mmkit::strategy::PublishingStrategy>(
                              std::make_unique<Logger>(0, &log, 2000), shared, 0)));
  std::vector<Event> b{level(T0, Side::kBid, 5000, 50'000, 0), level(T0, Side::kAsk, 5002, 50'000)};
  for (int i = 1; i <= 8; ++i) b.push_back(level(T0 + i * kSec / 2, Side::kBid, 5000, 50'000 + i));
  mmkit::strategy::Params hp{{"fixed_beta", 0.5}, {"band_notional", band}, {"style", style},
                             {"min_interval_ms", 0.0}};
  legs.push_back(make_leg(std::move(b), "B",
                          std::make_unique<mmkit::strategy::Hedger>(mmkit::strategy::hedge_params(hp), shared)));
  Portfolio p(std::move(legs));
  p.run();
  return HedgeRun{p.result()};
}

TEST(Hedger, SellsTheRoundedBetaHedgeWithAnIocAtTheBid) {
  // Target −0.5 × 2 × 100.01 / 50.01 = −1.99980 -> 1.999 (lot 0.001, rounded toward zero),
  // one IOC sell at the bid 50.00; the remaining 0.0008 is below one lot.
  const HedgeRun r = hedge_run(0, "ioc");
  const auto& leg1 = r.result.legs[1];
  ASSERT_EQ(leg1.fills.size(), 1u);
  EXPECT_EQ(leg1.fills[0].fill.side, Side::kAsk);
  EXPECT_EQ(leg1.fills[0].fill.qty, 1999);
  EXPECT_EQ(leg1.fills[0].fill.price, 5000);
  EXPECT_FALSE(leg1.fills[0].fill.maker);
  EXPECT_NEAR(r.result.samples.back().position[1], -1.999, 1e-12);
  // Hedge cost against the mid: 1.999 × 0.01.
  EXPECT_NEAR(r.result.metrics.leg_spread_cost[1], 1.999 * 0.01, 1e-9);
}

TEST(Hedger, NoTradeInsideTheBand) {
  // |0 − (−1.9998)| × 50.01 = 100.01 <= 200.
  const HedgeRun r = hedge_run(200, "ioc");
  EXPECT_TRUE(r.result.legs[1].fills.empty());
  EXPECT_EQ(r.result.metrics.leg_pnl[1], 0.0);
}

TEST(Hedger, PassiveStyleJoinsTheAskPostOnly) {
  const HedgeRun r = hedge_run(0, "passive");
  const auto& orders = r.result.legs[1].orders;
  ASSERT_FALSE(orders.empty());
  EXPECT_EQ(orders[0].update.kind, mmkit::exchange::OrderEventKind::kSubmitted);
  EXPECT_EQ(orders[0].update.side, Side::kAsk);
  EXPECT_EQ(orders[0].update.price, 5002);  // joins the ask, does not cross
  EXPECT_EQ(orders[0].update.qty, 1999);
  EXPECT_TRUE(r.result.legs[1].fills.empty());  // no trades print in this data
}

}  // namespace
