// Backtest metrics against hand calculations on tiny, hand-built results (docs/metrics.md).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "mmkit/engine/engine.h"
#include "mmkit/metrics/metrics.h"
#include "fixtures.h"

namespace mmkit::metrics {
namespace {

using engine::BacktestResult;
using engine::EngineConfig;
using engine::FillRecord;
using engine::OrderLogEntry;
using engine::Sample;
using exchange::OrderEventKind;
using test::cents_spec;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr TimestampNs kSec = 1'000'000'000;
const double kAnnual1s = std::sqrt(365.0 * 24 * 3600);  // √(seconds per year / 1 s)

EngineConfig config_1s(std::vector<TimestampNs> horizons = {kSec, 10 * kSec}) {
  EngineConfig c;
  c.sample_interval_ns = kSec;
  c.markout_horizons_ns = std::move(horizons);
  return c;
}

/// `rate_bp` basis points of the notional, as the exchange charges it (negative = rebate).
FillRecord fill(TimestampNs t, exchange::ClientOrderId id, Side side, Price price, Qty qty,
                double rate_bp, bool maker, Price bid, Price ask, std::vector<double> markouts) {
  FillRecord r;
  r.fill.exch_ts_ns = t;
  r.fill.local_ts_ns = t;
  r.fill.order_id = id;
  r.fill.side = side;
  r.fill.price = price;
  r.fill.qty = qty;
  r.fill.fee = exchange::fee_amount(price, qty,
                                    static_cast<std::int64_t>(std::llround(rate_bp * 1e5)));
  r.fill.maker = maker;
  r.fill.bid_at_fill = bid;
  r.fill.ask_at_fill = ask;
  r.markouts = std::move(markouts);
  return r;
}

Sample sample(TimestampNs t, Qty position, double mid, double pnl) {
  Sample s;
  s.ts_ns = t;
  s.position = position;
  s.mid = mid;
  s.pnl = pnl;
  return s;
}

OrderLogEntry log_entry(TimestampNs t, exchange::ClientOrderId id, OrderEventKind kind) {
  OrderLogEntry e;
  e.update.local_ts_ns = t;
  e.update.order_id = id;
  e.update.kind = kind;
  return e;
}

/// Three fills and five samples, 1 s apart:
///   t=1 s buy  10 @ 100.00 maker, rebate 1 bp (−0.10),  bid/ask 99.99/100.03, markouts {0.02, 0.05}
///   t=2 s sell  4 @ 100.05 maker, rebate 1 bp (−0.04002), bid/ask 100.02/100.06, {−0.03, NaN}
///   t=3 s sell 10 @ 100.00 taker, fee 5 bp (+0.50),     bid/ask 100.00/100.02, {0.01, NaN}
/// Positions 0, 10, 6, −4, −4; the final mid 99.98. Orders 1-3 filled, 4 canceled, 5 rejected.
BacktestResult three_fills() {
  BacktestResult r;
  r.fills.push_back(fill(1 * kSec, 1, Side::kBid, 10000, 10, -1, true, 9999, 10003, {0.02, 0.05}));
  r.fills.push_back(fill(2 * kSec, 2, Side::kAsk, 10005, 4, -1, true, 10002, 10006, {-0.03, kNaN}));
  r.fills.push_back(fill(3 * kSec, 3, Side::kAsk, 10000, 10, 5, false, 10000, 10002, {0.01, kNaN}));
  r.samples = {sample(0, 0, 100.00, 0.0), sample(1 * kSec, 10, 100.01, 0.0),
               sample(2 * kSec, 6, 100.04, 0.0), sample(3 * kSec, -4, 100.01, 0.0),
               sample(4 * kSec, -4, 99.98, 0.0)};
  for (exchange::ClientOrderId id = 1; id <= 5; ++id) {
    r.orders.push_back(log_entry(static_cast<TimestampNs>(id) * 100, id, OrderEventKind::kSubmitted));
  }
  r.orders.push_back(log_entry(1 * kSec, 1, OrderEventKind::kAccepted));
  r.orders.push_back(log_entry(2 * kSec, 2, OrderEventKind::kFilled));
  r.orders.push_back(log_entry(3500'000'000, 4, OrderEventKind::kCancelSent));
  r.orders.push_back(log_entry(3600'000'000, 4, OrderEventKind::kCanceled));
  r.orders.push_back(log_entry(3700'000'000, 5, OrderEventKind::kRejected));
  return r;
}

TEST(Metrics, FifoRealizedUnrealizedAndTotalMatchHandCalculation) {
  BacktestResult r = three_fills();
  compute_metrics(r, config_1s(), cents_spec(), 1234);
  const auto& m = r.metrics;
  // FIFO: 4 of the 10 @ 100.00 sold at 100.05 (+0.20), the other 6 at 100.00 (0); fees net
  // −0.10 − 0.04002 + 0.50 = 0.35998. Short 4 @ 100.00 marked at 99.98: +0.08.
  EXPECT_NEAR(m.realized_pnl, 0.20 - 0.35998, 1e-12);
  EXPECT_NEAR(m.unrealized_pnl, 0.08, 1e-12);
  EXPECT_NEAR(m.total_pnl, -0.07998, 1e-12);
  // Identity: final cash + position × final mid, cash = −Σ sign × price × qty − Σ fee.
  const double cash = -1000.00 + 400.20 + 1000.00 - 0.35998;
  EXPECT_NEAR(m.total_pnl, cash + (-4) * 99.98, 1e-9);
  EXPECT_NEAR(m.realized_pnl + m.unrealized_pnl, m.total_pnl, 1e-12);
  EXPECT_EQ(m.events, 1234u);
}

TEST(Metrics, FifoMatchesOldestLotFirstNotAverageCost) {
  BacktestResult r;
  r.fills.push_back(fill(1, 1, Side::kBid, 10000, 5, 0, true, kNoPrice, kNoPrice, {}));
  r.fills.push_back(fill(2, 2, Side::kBid, 10200, 5, 0, true, kNoPrice, kNoPrice, {}));
  r.fills.push_back(fill(3, 3, Side::kAsk, 10300, 7, 0, true, kNoPrice, kNoPrice, {}));
  r.samples = {sample(4, 3, 101.00, 0.0)};
  compute_metrics(r, config_1s({}), cents_spec(), 0);
  // FIFO: 5 × (103 − 100) + 2 × (103 − 102) = 17 (average cost would give 7 × 2 = 14).
  EXPECT_NEAR(r.metrics.realized_pnl, 17.0, 1e-12);
  // 3 left @ 102 marked at 101.
  EXPECT_NEAR(r.metrics.unrealized_pnl, -3.0, 1e-12);
  EXPECT_NEAR(r.metrics.total_pnl, 14.0, 1e-12);
  EXPECT_NEAR(r.metrics.total_pnl, -500 - 510 + 721 + 3 * 101.0, 1e-9);
}

TEST(Metrics, PositionFlipOpensTheRemainderAtTheFillPrice) {
  BacktestResult r;
  r.fills.push_back(fill(1, 1, Side::kAsk, 5000, 2, 0, true, kNoPrice, kNoPrice, {}));
  r.fills.push_back(fill(2, 2, Side::kBid, 4900, 5, 0, true, kNoPrice, kNoPrice, {}));
  r.samples = {sample(3, 3, 48.00, 0.0)};
  compute_metrics(r, config_1s({}), cents_spec(), 0);
  EXPECT_NEAR(r.metrics.realized_pnl, 2 * 1.00, 1e-12);     // short 2 @ 50 covered @ 49
  EXPECT_NEAR(r.metrics.unrealized_pnl, 3 * -1.00, 1e-12);  // long 3 @ 49 marked at 48
  EXPECT_NEAR(r.metrics.total_pnl, 100.00 - 245.00 + 3 * 48.00, 1e-9);
}

TEST(Metrics, FeesAndRebatesAreSplitBySign) {
  BacktestResult r = three_fills();
  compute_metrics(r, config_1s(), cents_spec(), 0);
  EXPECT_NEAR(r.metrics.fees_paid, 0.50, 1e-12);
  EXPECT_NEAR(r.metrics.rebates_earned, 0.10 + 0.04002, 1e-12);
}

TEST(Metrics, CountsVolumeNotionalAndFillRatioFromFillsAndOrderLog) {
  BacktestResult r = three_fills();
  for (Sample& s : r.samples) s.ts_ns += 1000;  // the first submit (t = 100 ns) comes first
  compute_metrics(r, config_1s(), cents_spec(), 0);
  const auto& m = r.metrics;
  EXPECT_EQ(m.orders, 5u);
  EXPECT_EQ(m.fills, 3u);
  EXPECT_EQ(m.maker_fills, 2u);
  EXPECT_EQ(m.taker_fills, 1u);
  EXPECT_EQ(m.cancels, 1u);  // kCanceled only; kCancelSent is the request
  EXPECT_EQ(m.rejects, 1u);
  EXPECT_DOUBLE_EQ(m.fill_ratio, 3.0 / 5.0);
  EXPECT_DOUBLE_EQ(m.volume, 24.0);
  EXPECT_NEAR(m.notional, 1000.00 + 400.20 + 1000.00, 1e-9);
  EXPECT_EQ(m.start_ns, 100);
  EXPECT_EQ(m.end_ns, 4 * kSec + 1000);
}

TEST(Metrics, FillRatioCountsOrdersNotFills) {
  BacktestResult r;
  r.orders.push_back(log_entry(0, 7, OrderEventKind::kSubmitted));
  r.orders.push_back(log_entry(0, 8, OrderEventKind::kSubmitted));
  r.fills.push_back(fill(1, 7, Side::kBid, 10000, 1, 0, true, 9999, 10001, {}));
  r.fills.push_back(fill(2, 7, Side::kBid, 10000, 1, 0, true, 9999, 10001, {}));
  compute_metrics(r, config_1s({}), cents_spec(), 0);
  EXPECT_DOUBLE_EQ(r.metrics.fill_ratio, 0.5);  // two fills of order 7, none of order 8
}

TEST(Metrics, SpreadCapturedIsMidMinusPriceTimesSignPerFill) {
  BacktestResult r = three_fills();
  compute_metrics(r, config_1s(), cents_spec(), 0);
  // +0.01 (bought 0.01 below mid), +0.01 (sold 0.01 above), −0.01 (taker sold below mid).
  EXPECT_NEAR(r.metrics.spread_captured_mean, (0.01 + 0.01 - 0.01) / 3, 1e-12);
}

TEST(Metrics, SpreadCapturedSkipsFillsWithoutAMid) {
  BacktestResult r;
  r.fills.push_back(fill(1, 1, Side::kBid, 10000, 1, 0, true, 9998, 10004, {}));
  r.fills.push_back(fill(2, 2, Side::kAsk, 10000, 1, 0, false, kNoPrice, 10001, {}));
  compute_metrics(r, config_1s({}), cents_spec(), 0);
  EXPECT_NEAR(r.metrics.spread_captured_mean, 0.01, 1e-12);
}

TEST(Metrics, MarkoutMeansAreQtyWeightedAndIgnoreNaN) {
  BacktestResult r = three_fills();
  compute_metrics(r, config_1s(), cents_spec(), 0);
  const auto& m = r.metrics;
  ASSERT_EQ(m.markout_mean.size(), 2u);
  ASSERT_EQ(m.markout_horizons_s.size(), 2u);
  EXPECT_DOUBLE_EQ(m.markout_horizons_s[0], 1.0);
  EXPECT_DOUBLE_EQ(m.markout_horizons_s[1], 10.0);
  EXPECT_NEAR(m.markout_mean[0], (10 * 0.02 + 4 * -0.03 + 10 * 0.01) / 24, 1e-12);
  EXPECT_NEAR(m.markout_mean[1], 0.05, 1e-12);  // only the first fill reached 10 s
}

TEST(Metrics, MarkoutWithNoObservationIsNaN) {
  BacktestResult r;
  r.fills.push_back(fill(1, 1, Side::kBid, 10000, 1, 0, true, 9999, 10001, {0.5, kNaN}));
  compute_metrics(r, config_1s(), cents_spec(), 0);
  EXPECT_DOUBLE_EQ(r.metrics.markout_mean[0], 0.5);
  EXPECT_TRUE(std::isnan(r.metrics.markout_mean[1]));
}

TEST(Metrics, SharpeAndSortinoAreAnnualizedWithA365DayYear) {
  BacktestResult r;
  const double pnl[] = {0, 1, 0, 2, 1};  // increments 1, −1, 2, −1
  for (int i = 0; i < 5; ++i) r.samples.push_back(sample(i * kSec, 0, 100, pnl[i]));
  compute_metrics(r, config_1s(), cents_spec(), 0);
  const auto& m = r.metrics;
  EXPECT_DOUBLE_EQ(m.sample_interval_s, 1.0);
  // mean 0.25; sample std √(6.75 / 3) = 1.5; downside deviation √((1 + 1) / 4).
  EXPECT_NEAR(m.sharpe, 0.25 / 1.5 * kAnnual1s, 1e-9);
  EXPECT_NEAR(m.sortino, 0.25 / std::sqrt(0.5) * kAnnual1s, 1e-9);
  EXPECT_DOUBLE_EQ(m.max_drawdown, 1.0);
}

TEST(Metrics, AnnualizationUsesTheSampleInterval) {
  BacktestResult r;
  const double pnl[] = {0, 1, 0, 2, 1};
  for (int i = 0; i < 5; ++i) r.samples.push_back(sample(i * 60 * kSec, 0, 100, pnl[i]));
  EngineConfig c = config_1s();
  c.sample_interval_ns = 60 * kSec;
  compute_metrics(r, c, cents_spec(), 0);
  EXPECT_DOUBLE_EQ(r.metrics.sample_interval_s, 60.0);
  EXPECT_NEAR(r.metrics.sharpe, 0.25 / 1.5 * std::sqrt(365.0 * 24 * 3600 / 60), 1e-9);
}

TEST(Metrics, MaxDrawdownIsLargestFallFromTheRunningPeakStartingAtZero) {
  BacktestResult r;
  const double pnl[] = {-2, 3, 1, 4, -1.5, 0};
  for (int i = 0; i < 6; ++i) r.samples.push_back(sample(i * kSec, 0, 100, pnl[i]));
  compute_metrics(r, config_1s(), cents_spec(), 0);
  EXPECT_DOUBLE_EQ(r.metrics.max_drawdown, 5.5);  // 4 -> −1.5

  BacktestResult down;
  down.samples = {sample(0, 0, 100, -2.0)};
  compute_metrics(down, config_1s(), cents_spec(), 0);
  EXPECT_DOUBLE_EQ(down.metrics.max_drawdown, 2.0);  // below the starting 0
}

TEST(Metrics, HistoricalVarAndCvarOfIncrements) {
  // Increments −9, −8, …, 10 (n = 20): losses 9 … −10. k = ceil(0.95 × 20) = 19:
  // VaR = 19th smallest loss = 8, CVaR = mean(8, 9) = 8.5.
  BacktestResult r;
  double p = 0;
  r.samples.push_back(sample(0, 0, 100, p));
  const int order[] = {3, -9, 10, -2, 7, 0, -8, 5, 1, -5, 9, -1, 2, -7, 6, -3, 4, -6, 8, -4};
  for (int i = 0; i < 20; ++i) {
    p += order[i];
    r.samples.push_back(sample((i + 1) * kSec, 0, 100, p));
  }
  compute_metrics(r, config_1s(), cents_spec(), 0);
  EXPECT_DOUBLE_EQ(r.metrics.var_95, 8.0);
  EXPECT_DOUBLE_EQ(r.metrics.cvar_95, 8.5);
}

TEST(Metrics, VarWithFewIncrementsIsTheWorstLoss) {
  BacktestResult r;
  const double pnl[] = {0, 1, 0, 2, 1};  // increments 1, −1, 2, −1: k = ceil(3.8) = 4
  for (int i = 0; i < 5; ++i) r.samples.push_back(sample(i * kSec, 0, 100, pnl[i]));
  compute_metrics(r, config_1s(), cents_spec(), 0);
  EXPECT_DOUBLE_EQ(r.metrics.var_95, 1.0);
  EXPECT_DOUBLE_EQ(r.metrics.cvar_95, 1.0);
}

TEST(Metrics, InventoryStatsAndTimeAtLimitFromPeriodicSamples) {
  BacktestResult r = three_fills();
  EngineConfig c = config_1s();
  c.risk.max_position = 6;
  compute_metrics(r, c, cents_spec(), 0);
  const auto& m = r.metrics;
  // Positions 0, 10, 6, −4 each hold 1 s; the last sample (−4) ends the run (weight 0).
  EXPECT_DOUBLE_EQ(m.inventory_mean, 3.0);
  EXPECT_NEAR(m.inventory_std, std::sqrt((9.0 + 49 + 9 + 49) / 4), 1e-12);
  EXPECT_DOUBLE_EQ(m.inventory_max_abs, 10.0);
  EXPECT_DOUBLE_EQ(m.time_at_position_limit, 2.0 / 4);  // |10| and |6| >= 6
}

TEST(Metrics, InventoryIsTimeWeightedAndMaxIsExactFromFills) {
  BacktestResult r;
  // Position 0 for 1 s, 4 for 3 s; between samples a fill took it to 9 and back.
  r.fills.push_back(fill(kSec + 1, 1, Side::kBid, 10000, 9, 0, true, kNoPrice, kNoPrice, {}));
  r.fills.push_back(fill(kSec + 2, 2, Side::kAsk, 10000, 5, 0, true, kNoPrice, kNoPrice, {}));
  r.samples = {sample(0, 0, 100, 0), sample(kSec, 0, 100, 0), sample(2 * kSec, 4, 100, 0),
               sample(5 * kSec, 4, 100, 0)};
  EngineConfig c = config_1s({});
  c.risk.max_position = 4;
  compute_metrics(r, c, cents_spec(), 0);
  const auto& m = r.metrics;
  EXPECT_DOUBLE_EQ(m.inventory_mean, (0 * 1 + 0 * 1 + 4 * 3) / 5.0);
  EXPECT_NEAR(m.inventory_std, std::sqrt((2 * 2.4 * 2.4 + 3 * 1.6 * 1.6) / 5), 1e-12);
  EXPECT_DOUBLE_EQ(m.inventory_max_abs, 9.0);
  EXPECT_DOUBLE_EQ(m.time_at_position_limit, 3.0 / 5);
}

TEST(Metrics, NoPositionLimitMeansNoTimeAtLimit) {
  BacktestResult r = three_fills();
  compute_metrics(r, config_1s(), cents_spec(), 0);
  EXPECT_DOUBLE_EQ(r.metrics.time_at_position_limit, 0.0);
}

TEST(Metrics, NoFillsGiveZeroPnlAndUndefinedMeansAsNaN) {
  BacktestResult r;
  r.orders.push_back(log_entry(0, 1, OrderEventKind::kSubmitted));
  r.orders.push_back(log_entry(5, 1, OrderEventKind::kCanceled));
  for (int i = 0; i < 3; ++i) r.samples.push_back(sample(i * kSec, 0, 100.0 + i, 0.0));
  compute_metrics(r, config_1s(), cents_spec(), 99);
  const auto& m = r.metrics;
  EXPECT_EQ(m.total_pnl, 0.0);
  EXPECT_EQ(m.realized_pnl, 0.0);
  EXPECT_EQ(m.unrealized_pnl, 0.0);
  EXPECT_EQ(m.fees_paid, 0.0);
  EXPECT_EQ(m.rebates_earned, 0.0);
  EXPECT_EQ(m.fills, 0u);
  EXPECT_EQ(m.orders, 1u);
  EXPECT_EQ(m.cancels, 1u);
  EXPECT_EQ(m.fill_ratio, 0.0);
  EXPECT_EQ(m.volume, 0.0);
  EXPECT_TRUE(std::isnan(m.spread_captured_mean));
  ASSERT_EQ(m.markout_mean.size(), 2u);
  EXPECT_TRUE(std::isnan(m.markout_mean[0]));
  EXPECT_EQ(m.sharpe, 0.0);   // zero variance
  EXPECT_EQ(m.sortino, 0.0);
  EXPECT_EQ(m.max_drawdown, 0.0);
  EXPECT_EQ(m.var_95, 0.0);
  EXPECT_EQ(m.inventory_std, 0.0);
  EXPECT_EQ(m.events, 99u);
}

TEST(Metrics, EmptyResultIsAllZeroAndFinite) {
  BacktestResult r;
  compute_metrics(r, config_1s(), cents_spec(), 0);
  const auto& m = r.metrics;
  for (double v : {m.total_pnl, m.sharpe, m.sortino, m.max_drawdown, m.fill_ratio,
                   m.inventory_mean, m.inventory_std, m.inventory_max_abs, m.var_95, m.cvar_95,
                   m.time_at_position_limit}) {
    EXPECT_EQ(v, 0.0);
  }
  EXPECT_EQ(m.start_ns, 0);
  EXPECT_EQ(m.end_ns, 0);
}

TEST(Metrics, OneSampleGivesZeroRatiosAndThatSampleAsInventory) {
  BacktestResult r;
  r.samples = {sample(7 * kSec, -3, 100, 1.5)};
  compute_metrics(r, config_1s(), cents_spec(), 0);
  const auto& m = r.metrics;
  EXPECT_EQ(m.sharpe, 0.0);
  EXPECT_EQ(m.sortino, 0.0);
  EXPECT_EQ(m.var_95, 0.0);
  EXPECT_EQ(m.cvar_95, 0.0);
  EXPECT_EQ(m.max_drawdown, 0.0);
  EXPECT_DOUBLE_EQ(m.inventory_mean, -3.0);
  EXPECT_EQ(m.inventory_std, 0.0);
  EXPECT_DOUBLE_EQ(m.inventory_max_abs, 3.0);
  EXPECT_EQ(m.start_ns, 7 * kSec);
}

TEST(Metrics, ConstantIncrementsWithRoundingNoiseHaveZeroSharpeNotInfinity) {
  BacktestResult r;
  // 0.1 × i is not exact in binary: the increments differ in the last bits.
  for (int i = 0; i < 50; ++i) r.samples.push_back(sample(i * kSec, 0, 100, 0.1 * i));
  compute_metrics(r, config_1s(), cents_spec(), 0);
  EXPECT_EQ(r.metrics.sharpe, 0.0);
  EXPECT_EQ(r.metrics.sortino, 0.0);  // no losing increment
  EXPECT_TRUE(std::isfinite(r.metrics.var_95));
  EXPECT_NEAR(r.metrics.var_95, -0.1, 1e-12);  // the worst increment is still a gain
}

TEST(Metrics, NonFiniteSamplePnlIsSkipped) {
  BacktestResult r;
  const double pnl[] = {kNaN, 0, 1, kNaN, 0, 2, 1};  // finite: 0, 1, 0, 2, 1
  for (int i = 0; i < 7; ++i) r.samples.push_back(sample(i * kSec, 0, 100, pnl[i]));
  compute_metrics(r, config_1s(), cents_spec(), 0);
  EXPECT_NEAR(r.metrics.sharpe, 0.25 / 1.5 * kAnnual1s, 1e-9);
}

TEST(Metrics, MarkFallsBackToTheLastFillMidWithoutSamples) {
  BacktestResult r;
  r.fills.push_back(fill(1, 1, Side::kBid, 10000, 2, 0, true, 10010, 10030, {}));
  compute_metrics(r, config_1s({}), cents_spec(), 0);
  EXPECT_NEAR(r.metrics.unrealized_pnl, 2 * 0.20, 1e-12);  // mid 100.20
}

TEST(Metrics, LargeBinanceScaleAmountsKeepCentPrecision) {
  InstrumentSpec s;
  s.price_decimals = 8;
  s.qty_decimals = 8;
  BacktestResult r;
  // 123.45678901 BTC bought at 60000.12345678, sold at 60000.22345678: +12.345678901 USDT.
  r.fills.push_back(fill(1, 1, Side::kBid, 6000012345678, 12345678901, 0, true, kNoPrice,
                         kNoPrice, {}));
  r.fills.push_back(fill(2, 2, Side::kAsk, 6000022345678, 12345678901, 0, true, kNoPrice,
                         kNoPrice, {}));
  compute_metrics(r, config_1s({}), s, 0);
  EXPECT_NEAR(r.metrics.realized_pnl, 12.345678901, 1e-9);
  EXPECT_NEAR(r.metrics.total_pnl, 12.345678901, 1e-9);
  EXPECT_NEAR(r.metrics.notional, (60000.12345678 + 60000.22345678) * 123.45678901, 1e-6);
}

TEST(Metrics, IsDeterministic) {
  BacktestResult a = three_fills(), b = three_fills();
  compute_metrics(a, config_1s(), cents_spec(), 5);
  compute_metrics(b, config_1s(), cents_spec(), 5);
  EXPECT_EQ(a.metrics.total_pnl, b.metrics.total_pnl);
  EXPECT_EQ(a.metrics.sharpe, b.metrics.sharpe);
  EXPECT_EQ(a.metrics.markout_mean, b.metrics.markout_mean);
  EXPECT_EQ(a.metrics.inventory_std, b.metrics.inventory_std);
}

}  // namespace
}  // namespace mmkit::metrics
