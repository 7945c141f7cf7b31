// Perpetual funding settled by the engine (EngineConfig::funding, src/engine/engine.cpp) on
// hand-built event streams with hand-computed payments.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mmkit/core/error.h"
#include "mmkit/data/source.h"
#include "mmkit/engine/engine.h"
#include "mmkit/exchange/order.h"
#include "mmkit/strategy/strategy.h"
#include "fixtures.h"

namespace {

using mmkit::Event;
using mmkit::EventKind;
using mmkit::Price;
using mmkit::Qty;
using mmkit::Side;
using mmkit::TimestampNs;
using mmkit::engine::BacktestResult;
using mmkit::engine::Engine;
using mmkit::engine::EngineConfig;
using mmkit::engine::FundingConfig;
using mmkit::exchange::Money;
using mmkit::strategy::Context;
using mmkit::test::level;
using mmkit::test::VectorSource;
using mmkit::test::zero_latency;
using mmkit::test::expect_error;

constexpr TimestampNs kSec = 1'000'000'000;
constexpr TimestampNs kHour = 3600 * kSec;
constexpr TimestampNs kDay = 24 * kHour;
constexpr TimestampNs T0 = 1'700'000'000 * kSec;  // 2023-11-14 22:13:20 UTC, a whole second
/// Takes `qty` (signed: + buy, − sell) with one IOC at the touch on start; records the funding
/// info seen at start and the cash seen at each timer.
class Taker final : public mmkit::strategy::Strategy {
 public:
  explicit Taker(Qty qty) : qty_(qty) {}
  void on_start(Context& c) override {
    info_at_start = c.funding();
    if (qty_ != 0) c.submit(mmkit::test::market(qty_));
  }
  void on_end(Context& c) override { end_cash = c.cash(); }
  mmkit::strategy::FundingInfo info_at_start;
  Money end_cash = 0;

 private:
  Qty qty_;
};

struct Outcome {
  BacktestResult result;
  mmkit::strategy::FundingInfo info;
  Money end_cash = 0;
};

Outcome run(std::vector<Event> events, Qty qty, FundingConfig funding) {
  EngineConfig c = zero_latency();
  c.funding = std::move(funding);
  auto strat = std::make_unique<Taker>(qty);
  Taker* t = strat.get();
  Engine e(std::make_unique<VectorSource>(std::move(events)), std::move(strat), std::move(c));
  e.run();
  return Outcome{e.result(), t->info_at_start, t->end_cash};
}

/// Book 100.00 / 100.02 (mid 100.01) from T0, one more update at T0 + 2.5 s.
std::vector<Event> simple_book() {
  return {level(T0, Side::kBid, 10000, 50), level(T0, Side::kAsk, 10002, 50),
          level(T0 + 2 * kSec + kSec / 2, Side::kBid, 10000, 40)};
}

TEST(Funding, HandComputedSettlementMovesCashExactly) {
  // Long 3 at 100.02 (bought at T0 with zero latency, before the T0 settlement: a settlement
  // comes after every item due at its time); settlements at T0, T0 + 1 s, T0 + 2 s (1 s
  // interval, rate 0.0001), mid 100.01: each pays 3 × 100.01 × 0.0001 = 0.030003 USD
  // = 3,000,300,000 Money units (10^-11 USD).
  const Outcome with = run(simple_book(), 3, mmkit::engine::funding_constant(0.0001, kSec));
  const Outcome without = run(simple_book(), 3, FundingConfig{});
  ASSERT_EQ(with.result.funding.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& p = with.result.funding[i];
    EXPECT_EQ(p.ts_ns, T0 + static_cast<TimestampNs>(i) * kSec);
    EXPECT_EQ(p.position, 3);
    EXPECT_DOUBLE_EQ(p.mark, 100.01);
    EXPECT_EQ(p.amount, static_cast<Money>(3'000'300'000));
  }
  EXPECT_EQ(without.end_cash - with.end_cash, static_cast<Money>(9'000'900'000));
  EXPECT_EQ(with.result.metrics.funding_settlements, 3u);
  EXPECT_NEAR(with.result.metrics.funding_paid, 0.090009, 1e-12);
  EXPECT_NEAR(without.result.metrics.total_pnl - with.result.metrics.total_pnl, 0.090009, 1e-9);
  EXPECT_NEAR(without.result.metrics.realized_pnl - with.result.metrics.realized_pnl, 0.090009, 1e-9);
  EXPECT_EQ(without.result.metrics.funding_settlements, 0u);
  EXPECT_TRUE(without.result.funding.empty());
  // The cumulative funding column and the sampled PnL.
  const auto& s = with.result.samples.back();
  EXPECT_NEAR(s.funding, 0.090009, 1e-12);
  EXPECT_NEAR(without.result.samples.back().pnl - s.pnl, 0.090009, 1e-9);
  EXPECT_EQ(without.result.samples.back().funding, 0.0);
}

TEST(Funding, PositiveRateLongsPayShortsAndNegativeRateReverses) {
  const auto one = [](Qty q, double rate) {
    const Outcome r = run(simple_book(), q, mmkit::engine::funding_constant(rate, kSec));
    return r.result.funding.at(1).amount;
  };
  const Money unit = 1'000'100'000;  // 1 × 100.01 × 0.0001 in 10^-11 USD
  EXPECT_EQ(one(1, 0.0001), unit);     // long pays
  EXPECT_EQ(one(-1, 0.0001), -unit);   // short receives
  EXPECT_EQ(one(1, -0.0001), -unit);   // long receives
  EXPECT_EQ(one(-1, -0.0001), unit);   // short pays
  const Outcome short_pays = run(simple_book(), -2, mmkit::engine::funding_constant(-0.0001, kSec));
  EXPECT_NEAR(short_pays.result.metrics.funding_paid, 3 * 2 * 0.010001, 1e-12);  // 3 settlements
}

TEST(Funding, SettlementAtAnEventTimeSeesThatEvent) {
  // The ask moves to 100.10 at exactly T0 + 1 s, the settlement time: the settlement comes after
  // every item due at or before its time, so the mark is (100.00 + 100.10) / 2 = 100.05.
  std::vector<Event> ev = simple_book();
  ev.insert(ev.begin() + 2, level(T0 + kSec, Side::kAsk, 10010, 5));
  ev.insert(ev.begin() + 3, level(T0 + kSec, Side::kAsk, 10002, 0));
  const Outcome r = run(ev, 3, mmkit::engine::funding_constant(0.0001, kSec));
  ASSERT_GE(r.result.funding.size(), 2u);
  EXPECT_EQ(r.result.funding[1].ts_ns, T0 + kSec);
  EXPECT_DOUBLE_EQ(r.result.funding[1].mark, 100.05);
  EXPECT_EQ(r.result.funding[1].amount, static_cast<Money>(3 * 20010LL * 100'000'000LL / 2000));
  // Nothing after the last item: the data ends at T0 + 2.5 s, so no settlement at T0 + 3 s.
  EXPECT_EQ(r.result.funding.back().ts_ns, T0 + 2 * kSec);
}

TEST(Funding, ConstantScheduleSettlesAtZeroEightSixteenUtc) {
  // Data from 23:00 UTC the day before D to 01:00 UTC on D + 1, one update per hour.
  const TimestampNs d = (T0 / kDay + 1) * kDay;
  std::vector<Event> ev{level(d - kHour, Side::kBid, 10000, 50), level(d - kHour, Side::kAsk, 10002, 50)};
  for (TimestampNs t = d; t <= d + kDay + kHour; t += kHour) ev.push_back(level(t, Side::kBid, 10000, 60));
  const Outcome r = run(ev, 1, mmkit::engine::funding_constant(0.0001, 8 * kHour));
  ASSERT_EQ(r.result.funding.size(), 4u);
  const TimestampNs want[] = {d, d + 8 * kHour, d + 16 * kHour, d + kDay};
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(r.result.funding[i].ts_ns, want[i]) << i;
  EXPECT_TRUE(r.info.available);
  EXPECT_EQ(r.info.next_funding_ts, d);
  EXPECT_EQ(r.info.interval_ns, 8 * kHour);
  EXPECT_DOUBLE_EQ(r.info.rate, 0.0001);
  EXPECT_EQ(r.result.metrics.funding_settlements, 4u);
  // Binance USD-M default as the engine documents it.
  const FundingConfig def;
  EXPECT_EQ(def.mode, FundingConfig::Mode::kNone);
  EXPECT_EQ(def.interval_ns, 8 * kHour);
  EXPECT_DOUBLE_EQ(def.rate, 0.0001);
}

TEST(Funding, NoFundingMeansContextReportsUnavailable) {
  const Outcome r = run(simple_book(), 1, FundingConfig{});
  EXPECT_FALSE(r.info.available);
  EXPECT_EQ(r.info.next_funding_ts, mmkit::kNoTimestamp);
}

std::string write_csv(const std::string& name, const std::vector<std::pair<TimestampNs, double>>& rows) {
  const std::string path = (std::filesystem::path(testing::TempDir()) / name).string();
  std::ofstream f(path);
  f << "timestamp,symbol,funding_rate\n";
  for (const auto& [ts, rate] : rows) f << ts / 1'000'000 << ",TESTUSDT," << rate << "\n";
  return path;
}

TEST(Funding, ScheduleFileRatesAreSettledAtTheirTimes) {
  const std::string path =
      write_csv("funding_ok.csv", {{T0 + kSec, 0.0002}, {T0 + 2 * kSec, -0.0001}, {T0 + 3 * kSec, 0.5}});
  const FundingConfig f = mmkit::engine::funding_from_file(path);
  EXPECT_EQ(f.interval_ns, kSec);
  const Outcome r = run(simple_book(), 3, f);
  ASSERT_EQ(r.result.funding.size(), 2u);
  EXPECT_EQ(r.result.funding[0].amount, static_cast<Money>(3 * 20002LL * 200'000'000LL / 2000));
  EXPECT_EQ(r.result.funding[1].amount, -static_cast<Money>(3 * 20002LL * 100'000'000LL / 2000));
  EXPECT_DOUBLE_EQ(r.info.rate, 0.0002);
  EXPECT_EQ(r.info.next_funding_ts, T0 + kSec);
}

TEST(Funding, ScheduleAfterTheDataIsAnErrorNamingFileAndRanges) {
  const TimestampNs later = 1'768'233'600 * kSec;  // 2026-01-12 16:00 UTC
  const std::string path = write_csv("funding_later.csv", {{later, 0.0001}, {later + 8 * kHour, 0.0001}});
  // The schedule's range, then the data's.
  expect_error([&] { (void)run(simple_book(), 1, mmkit::engine::funding_from_file(path)); },
               {path, "does not overlap", "2026-01-12", "2023-11-14"});
}

TEST(Funding, ScheduleBeforeTheDataIsAnErrorNamingFileAndRanges) {
  const TimestampNs earlier = T0 - 30 * kDay;
  const std::string path = write_csv("funding_earlier.csv", {{earlier, 0.0001}, {earlier + 8 * kHour, 0.0001}});
  expect_error([&] { (void)run(simple_book(), 1, mmkit::engine::funding_from_file(path)); },
               {path, "does not overlap", "2023-10-15", "2023-11-14"});
}

TEST(Funding, BadConfigsAreRejected) {
  EXPECT_THROW((void)mmkit::engine::funding_constant(0.0001, 0), mmkit::Error);
  EXPECT_THROW((void)mmkit::engine::funding_constant(std::nan(""), kHour), mmkit::Error);
  FundingConfig f;
  f.mode = FundingConfig::Mode::kSchedule;
  f.schedule = {{T0 + kSec, 0.0001}, {T0 + kSec, 0.0001}};
  EXPECT_THROW((void)run(simple_book(), 1, f), mmkit::Error);
  f.schedule.clear();
  EXPECT_THROW((void)run(simple_book(), 1, f), mmkit::Error);
}

}  // namespace
