#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>

#include "mmkit/core/error.h"
#include "mmkit/exchange/models.h"
#include "mmkit/exchange/order.h"

namespace mmkit::exchange {
namespace {

TEST(Rng, SameSeedSameDrawsDifferentSeedDifferentDraws) {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next();
    EXPECT_EQ(x, b.next());
    EXPECT_NE(x, c.next());
  }
}

TEST(Rng, UniformBelowAndExponentialHaveTheRightMoments) {
  Rng r(7);
  double sum = 0, sum_exp = 0;
  std::uint64_t counts[5] = {};
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    ++counts[r.below(5)];
    sum_exp += r.exponential(4.0);
  }
  EXPECT_NEAR(sum / n, 0.5, 0.005);                 // sd of the mean ≈ 0.00065
  EXPECT_NEAR(sum_exp / n, 0.25, 0.0025);           // sd of the mean ≈ 0.00056
  for (auto c : counts) EXPECT_NEAR(static_cast<double>(c) / n, 0.2, 0.005);
}

TEST(Money, NotionalAndFeesAreExact) {
  // 61800.20 × 0.003 BTC at 1e-8 scales; taker 5 bp.
  const Price p = 6180020000000;
  const Qty q = 300000;
  InstrumentSpec spec;
  spec.price_decimals = 8;
  spec.qty_decimals = 8;
  EXPECT_DOUBLE_EQ(money_to_double(notional(p, q), spec), 185.4006);
  const FeeSchedule fees = FeeSchedule::from_bps(-0.25, 5.0);
  EXPECT_EQ(fees.maker_ppb, -25000);
  EXPECT_EQ(fees.taker_ppb, 500000);
  EXPECT_DOUBLE_EQ(money_to_double(fee_amount(p, q, fees.taker_ppb), spec), 185.4006 * 5e-4);
  EXPECT_LT(fee_amount(p, q, fees.maker_ppb), 0);  // a rebate
  EXPECT_THROW((void)FeeSchedule::from_bps(NAN, 1), Error);
}

TEST(QueueModel, RiskAverseOnlyAdvancesOnTradesAndCapsOnDepthCuts) {
  RiskAverseQueueModel m;
  QueueState q;
  m.on_new_order(q, 100);
  m.on_depth_change(q, 100, 80);  // a cancel somewhere: no advance, but 80 < 100 caps
  EXPECT_DOUBLE_EQ(q.ahead, 80);
  m.on_depth_change(q, 80, 120);  // growth behind us
  EXPECT_DOUBLE_EQ(q.ahead, 80);
  m.on_trade(q, 30);
  EXPECT_DOUBLE_EQ(q.ahead, 50);
  m.on_trade(q, 60);  // reaches us: 10 would fill
  EXPECT_DOUBLE_EQ(q.ahead, -10);
}

TEST(QueueModel, ProbabilisticSplitsUnexplainedDecreases) {
  ProbQueueModel power(ProbQueueModel::Family::kPower, 2.0);
  QueueState q;
  power.on_new_order(q, 60);  // 60 ahead; then 40 join behind
  power.on_depth_change(q, 60, 100);
  EXPECT_DOUBLE_EQ(q.ahead, 60);
  // Decrease of 10, none explained by trades: share ahead = 40² / (60² + 40²).
  power.on_depth_change(q, 100, 90);
  EXPECT_NEAR(q.ahead, 60 - 10 * 1600.0 / 5200.0, 1e-12);
  // A trade of 5 then a depth decrease of 5: fully explained, no further move.
  const double before = q.ahead;
  power.on_trade(q, 5);
  power.on_depth_change(q, 90, 85);
  EXPECT_NEAR(q.ahead, before - 5, 1e-12);

  ProbQueueModel log_model(ProbQueueModel::Family::kLog);
  EXPECT_NEAR(log_model.prob_ahead_share(60, 40), std::log1p(40.0) / (std::log1p(60.0) + std::log1p(40.0)), 1e-15);
}

TEST(QueueModel, FactoryNamesAndErrors) {
  EXPECT_EQ(make_queue_model("risk-averse")->describe(), "risk-averse");
  EXPECT_EQ(make_queue_model("prob-power-3")->describe(), "prob-power-3");
  EXPECT_EQ(make_queue_model("prob-log")->describe(), "prob-log");
  EXPECT_THROW((void)make_queue_model("prob-power-0"), Error);
  EXPECT_THROW((void)make_queue_model("fifo"), Error);
}

TEST(Latency, ConstantAndEmpiricalDraws) {
  Rng rng(1);
  ConstantOrderLatency c(1000, 2000);
  EXPECT_EQ(c.entry(rng), 1000);
  EXPECT_EQ(c.response(rng), 2000);
  EXPECT_THROW(ConstantOrderLatency(-1, 0), Error);
  EmpiricalOrderLatency e({10, 20, 30}, {5});
  std::set<TimestampNs> seen;
  for (int i = 0; i < 200; ++i) seen.insert(e.entry(rng));
  EXPECT_EQ(seen, (std::set<TimestampNs>{10, 20, 30}));
  EXPECT_EQ(e.response(rng), 5);
}

TEST(Latency, EmpiricalCsvErrorsNameTheLine) {
  const std::string p = ::testing::TempDir() + "/mmkit_latency.csv";
  std::ofstream(p) << "entry_ns,response_ns\n100,200\n300,x\n";
  try {
    (void)EmpiricalOrderLatency::from_csv(p);
    FAIL();
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find(":3: field 'response_ns'"), std::string::npos) << err.what();
  }
  std::ofstream(p) << "entry_ns,response_ns\n100,200\n300,400\n";
  EXPECT_EQ(EmpiricalOrderLatency::from_csv(p)->describe(), "empirical (2 samples)");
}

}  // namespace
}  // namespace mmkit::exchange
