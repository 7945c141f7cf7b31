// Calibration of the CST order-flow generator: the estimators on tiny hand-made streams (hand
// calculations), the recovery of known parameters from the synthetic market itself (tolerances
// from the Poisson counts), the flow statistics, and the real LOBSTER GOOG files (counts checked
// against the message file's own type counts).
#include <gtest/gtest.h>

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "mmkit/core/error.h"
#include "mmkit/data/source.h"
#include "mmkit/sim/calibrate.h"
#include "mmkit/sim/synthetic_market.h"
#include "real_data.h"

using namespace mmkit;
using namespace mmkit::sim;
namespace flags = event_flags;

namespace {

constexpr TimestampNs kT0 = 1'000'000'000'000;  // an arbitrary epoch, ns
constexpr TimestampNs kSec = 1'000'000'000;
constexpr std::uint16_t kEnd = flags::kEndOfRecord | flags::kComplete;

/// An EventSource over a vector of events (tick 1 raw, price_decimals 2, lot 1).
class VectorSource final : public data::EventSource {
 public:
  explicit VectorSource(std::vector<Event> ev, data::BookLevel level = data::BookLevel::kL3)
      : ev_(std::move(ev)), level_(level) {
    spec_.set_symbol("HAND");
    spec_.price_decimals = 2;
    spec_.tick_size = 1;
    spec_.lot_size = 1;
  }
  const InstrumentSpec& instrument() const override { return spec_; }
  data::BookLevel book_level() const override { return level_; }
  std::size_t read(Event* out, std::size_t capacity) override {
    std::size_t n = 0;
    while (n < capacity && pos_ < ev_.size()) out[n++] = ev_[pos_++];
    return n;
  }
  std::uint64_t records() const override { return pos_; }
  std::string locate(std::uint64_t r) const override { return "hand record " + std::to_string(r); }
  const data::Counters& tolerated() const override { return counters_; }
  std::string format() const override { return "hand"; }

 private:
  std::vector<Event> ev_;
  data::BookLevel level_;
  InstrumentSpec spec_;
  data::Counters counters_;
  std::size_t pos_ = 0;
};

/// Builds a stream; each call appends one event (one record unless `same_record`).
class Stream {
 public:
  Stream& at(double seconds) {
    ts_ = kT0 + static_cast<TimestampNs>(std::llround(seconds * 1e9));
    return *this;
  }
  Stream& add(OrderId id, Side s, Price p, Qty q, std::uint16_t extra = 0) {
    return push(EventKind::kAdd, id, s, p, q, extra);
  }
  Stream& cancel(OrderId id, Side s, Price p, Qty q) { return push(EventKind::kCancel, id, s, p, q); }
  Stream& exec(OrderId id, Side s, Price p, Qty q) { return push(EventKind::kExecution, id, s, p, q); }
  Stream& fill(OrderId id, Side s, Price p, Qty q) { return push(EventKind::kFill, id, s, p, q); }
  Stream& modify(OrderId id, Side s, Price p, Qty q) { return push(EventKind::kModify, id, s, p, q); }
  Stream& trade(Side aggressor, Price p, Qty q) { return push(EventKind::kTrade, 0, aggressor, p, q); }
  /// A trading-status event (no book effect, not a flow event).
  Stream& status() { return push(EventKind::kStatus, 0, Side::kNone, 0, 0); }
  Stream& level(Side s, Price p, Qty q, std::uint16_t extra = 0) {
    return push(EventKind::kLevelUpdate, 0, s, p, q, extra);
  }
  std::vector<Event> events() const { return ev_; }

 private:
  Stream& push(EventKind k, OrderId id, Side s, Price p, Qty q, std::uint16_t extra = 0) {
    Event e;
    e.exch_ts_ns = e.local_ts_ns = ts_;
    e.kind = k;
    e.order_id = id;
    e.side = s;
    e.price = p;
    e.qty = q;
    e.record = record_++;
    e.seq = e.record + 1;
    e.flags = static_cast<std::uint16_t>(kEnd | extra);
    ev_.push_back(e);
    return *this;
  }
  TimestampNs ts_ = kT0;
  std::uint64_t record_ = 0;
  std::vector<Event> ev_;
};

FlowCalibration calibrate(const Stream& s, CalibrationOptions o = {}) {
  VectorSource src(s.events());
  o.fit_hawkes = false;
  return calibrate_flow(src, o);
}

/// Opening book used by most hand streams: bid 100 (id 1, 10 lots), ask 105 (id 2, 10 lots),
/// flagged as a snapshot (book state, not arrivals), then a status event at 0 s that opens the
/// observed span (a snapshot alone does not: the span starts at the first non-snapshot event).
Stream opening() {
  Stream s;
  s.at(0).add(1, Side::kBid, 100, 10, flags::kSnapshot).add(2, Side::kAsk, 105, 10, flags::kSnapshot).status();
  return s;
}

::testing::AssertionResult within_sd(double observed, double expected, double sd, double z = 4.5) {
  if (std::fabs(observed - expected) <= z * sd) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "observed " << observed << ", expected " << expected << " ± " << z
                                       << " × " << sd;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Estimators on hand-made streams.

TEST(CalibrateFlow, LimitOrdersAreCountedByDistanceFromTheOppositeBestAndSnapshotsAreNot) {
  Stream s = opening();
  s.at(1).add(3, Side::kBid, 103, 5);   // 105 − 103 = 2 ticks from the ask
  s.at(2).add(4, Side::kAsk, 106, 7);   // 106 − 103 (new best bid) = 3
  s.at(3).add(5, Side::kBid, 104, 1);   // 105 − 104 = 1 (inside the spread)
  s.at(4).add(6, Side::kAsk, 108, 3);   // 108 − 104 = 4
  s.at(10).add(7, Side::kBid, 101, 2);  // 105 − 101 = 4
  CalibrationOptions o;
  o.max_distance = 4;
  const FlowCalibration c = calibrate(s, o);
  EXPECT_EQ(c.limit_orders, 5u);
  EXPECT_EQ(c.limit_count, (std::vector<std::uint64_t>{1, 1, 1, 2}));
  // Everything visible: each distance is exposed on both sides for the whole 10 s.
  for (double e : c.limit_exposure_s) EXPECT_DOUBLE_EQ(e, 20.0);
  EXPECT_DOUBLE_EQ(c.limit_rate[3], 2.0 / 20.0);
  EXPECT_DOUBLE_EQ(c.limit_rate_se[3], std::sqrt(2.0) / 20.0);
  EXPECT_DOUBLE_EQ(c.duration_s, 10.0);
  EXPECT_EQ(c.initial_mid, 102);  // ⌊(100 + 105) / 2⌋
  EXPECT_EQ(c.limit_sizes.count, 5u);
  EXPECT_DOUBLE_EQ(c.limit_sizes.mean, 18.0 / 5.0);
  EXPECT_EQ(c.book_rejections, 0u);
}

TEST(CalibrateFlow, ObservedSpanStartsAfterTheOpeningSnapshot) {
  // Databento replays the book at 00:00 UTC, hours before the session: the span (rates, exposure)
  // starts at the first event that is not part of the snapshot.
  Stream s;
  s.at(0).add(1, Side::kBid, 100, 10, flags::kSnapshot).add(2, Side::kAsk, 105, 10, flags::kSnapshot);
  s.at(3600).add(3, Side::kBid, 101, 1);
  s.at(3610).add(4, Side::kAsk, 104, 1);
  const FlowCalibration c = calibrate(s, CalibrationOptions{.max_distance = 5});
  EXPECT_EQ(c.start_ns, kT0 + 3600 * kSec);
  EXPECT_DOUBLE_EQ(c.duration_s, 10.0);
  EXPECT_EQ(c.initial_mid, 102);  // the snapshot's book
  // From 3600 s: bid 100 at 5 ticks from the ask 105 (10 s); bid 101 and the ask at 4 (2 × 10 s).
  EXPECT_DOUBLE_EQ(c.order_exposure_s[4], 10.0);
  EXPECT_DOUBLE_EQ(c.order_exposure_s[3], 20.0);
  EXPECT_EQ(c.limit_orders, 2u);
}

TEST(CalibrateFlow, AutoMaxDistanceIsTheFarthestArrival) {
  Stream s = opening();
  s.at(1).add(3, Side::kBid, 98, 5);  // distance 7
  s.at(2).add(4, Side::kAsk, 106, 5);  // distance 6
  const FlowCalibration c = calibrate(s);
  EXPECT_EQ(c.max_distance, 7u);
  EXPECT_EQ(c.limit_count.size(), 7u);
  EXPECT_EQ(c.limit_orders_beyond_max_distance, 0u);
}

TEST(CalibrateFlow, CancelRateIsWholeCancelsOverOrderSecondsAtTheDistance) {
  // Bid 100 rests at distance 5 from the ask 105 for 0..10 s (it is cancelled at 10 s); bid 102
  // (added at 2 s, distance 3) rests until 6 s (cancelled) ; ask 105 (distance 5 from bid 100,
  // distance 3 from bid 102 while it is the best) rests the whole 12 s.
  Stream s = opening();
  s.at(2).add(3, Side::kBid, 102, 4);
  s.at(6).cancel(3, Side::kBid, 102, 4);
  s.at(10).cancel(1, Side::kBid, 100, 10);
  s.at(12).add(4, Side::kBid, 101, 1);  // ends the run at 12 s
  CalibrationOptions o;
  o.max_distance = 6;
  const FlowCalibration c = calibrate(s, o);
  // Order-seconds: distance 3: bid 102 for 4 s + ask 105 for 4 s (2..6 s, from bid 102) = 8.
  // Distance 5: bid 100 for 10 s + ask 105 for 2 + 4 (0..2 s and 6..10 s, from bid 100) = 16.
  // From 10 to 12 s the bid side is empty: the ask's distance is from the last bid, 100: 5 → +2.
  EXPECT_DOUBLE_EQ(c.order_exposure_s[2], 8.0);
  EXPECT_DOUBLE_EQ(c.order_exposure_s[4], 18.0);
  EXPECT_EQ(c.cancel_count[2], 1u);
  EXPECT_EQ(c.cancel_count[4], 1u);
  EXPECT_DOUBLE_EQ(c.cancel_rate[2], 1.0 / 8.0);
  EXPECT_DOUBLE_EQ(c.cancel_rate[4], 1.0 / 18.0);
  EXPECT_TRUE(std::isnan(c.cancel_rate[0]));  // no exposure at distance 1
  EXPECT_EQ(c.cancels, 2u);
  // The bid at 101 arrived while the bid side was empty: distance from the ask, 4.
  EXPECT_EQ(c.limit_count[3], 1u);
}

TEST(CalibrateFlow, PartialCancelsAndCancelsOfUnknownOrdersAreCountedApart) {
  Stream s = opening();
  s.at(1).level(Side::kBid, 99, 30, flags::kSeed);  // anonymous volume seeded from a reference
  s.at(2).cancel(1, Side::kBid, 100, 4);            // partial
  s.at(3).cancel(77, Side::kBid, 99, 10);           // unknown id: from the anonymous volume
  s.at(4).cancel(1, Side::kBid, 100, 6);            // the rest: a whole cancel of what remains
  const FlowCalibration c = calibrate(s, CalibrationOptions{.max_distance = 6});
  EXPECT_EQ(c.partial_cancels, 1u);
  EXPECT_EQ(c.cancels_of_unknown_orders, 1u);
  EXPECT_EQ(c.cancels, 1u);
  EXPECT_EQ(c.cancel_count[4], 1u);  // 105 − 100
  // The seeded level holds no orders: no order-seconds at distance 6.
  EXPECT_DOUBLE_EQ(c.order_exposure_s[5], 0.0);
  EXPECT_EQ(c.limit_orders, 0u);
  EXPECT_EQ(c.book_rejections, 0u);
}

TEST(CalibrateFlow, MarketOrderIsTheRunOfExecutionsOfOneAggressor) {
  Stream s;
  s.at(0).add(1, Side::kAsk, 105, 3, flags::kSnapshot).add(2, Side::kAsk, 105, 4, flags::kSnapshot);
  s.add(3, Side::kAsk, 106, 5, flags::kSnapshot).add(4, Side::kBid, 100, 5, flags::kSnapshot);
  s.add(5, Side::kBid, 99, 5, flags::kSnapshot).status();
  s.at(1).exec(1, Side::kAsk, 105, 3).exec(2, Side::kAsk, 105, 4).exec(3, Side::kAsk, 106, 1);  // one buy of 8
  s.trade(Side::kBid, 106, 9);                                  // a hidden print: no book effect
  s.at(2).exec(3, Side::kAsk, 106, 2);                           // later: another buy of 2
  s.at(2).exec(4, Side::kBid, 100, 5);                           // same time, other side: a sell
  s.at(3).exec(5, Side::kBid, 99, 1);                            // a sell of 1 ...
  s.at(3).add(6, Side::kBid, 98, 1);                             // ... ended by an add
  s.at(3).exec(5, Side::kBid, 99, 1);                            // a new sell at the same time
  const FlowCalibration c = calibrate(s, CalibrationOptions{.max_distance = 10});
  EXPECT_EQ(c.market_orders[0], 2u);
  EXPECT_EQ(c.market_orders[1], 3u);
  EXPECT_EQ(c.executions, 7u);
  EXPECT_EQ(c.trades_without_book_effect, 1u);
  EXPECT_EQ(c.market_sizes.count, 5u);
  EXPECT_DOUBLE_EQ(c.market_sizes.mean, (8.0 + 2 + 5 + 1 + 1) / 5.0);
  EXPECT_DOUBLE_EQ(c.market_rate, 5.0 / (2 * 3.0));
}

TEST(CalibrateFlow, FillFollowedByItsCancelIsAnExecutionNotACancellation) {
  // Databento MBO: F (fill, no book change), then the C that removes the filled quantity.
  Stream s = opening();
  s.at(1).trade(Side::kAsk, 100, 4).fill(1, Side::kBid, 100, 4).cancel(1, Side::kBid, 100, 4);
  s.at(2).cancel(1, Side::kBid, 100, 6);  // a genuine cancel of the remaining 6
  const FlowCalibration c = calibrate(s, CalibrationOptions{.max_distance = 6});
  EXPECT_EQ(c.market_orders[1], 1u);
  EXPECT_EQ(c.market_orders[0], 0u);
  EXPECT_EQ(c.cancels, 1u);
  EXPECT_EQ(c.partial_cancels, 0u);
  EXPECT_EQ(c.cancel_count[4], 1u);
}

TEST(CalibrateFlow, PriceModifyIsACancellationAndANewLimitOrder) {
  Stream s = opening();
  s.at(1).modify(1, Side::kBid, 102, 10);  // from distance 5 to 3
  s.at(2).modify(1, Side::kBid, 102, 8);   // size only
  const FlowCalibration c = calibrate(s, CalibrationOptions{.max_distance = 6});
  EXPECT_EQ(c.modifies_price, 1u);
  EXPECT_EQ(c.modifies_size_only, 1u);
  EXPECT_EQ(c.cancel_count[4], 1u);
  EXPECT_EQ(c.limit_count[2], 1u);
}

TEST(CalibrateFlow, VisibleWindowLimitsTheExposureOfFarDistances) {
  // Visible depth N = 2. Bids 100 and 99 (distances 5 and 6 from the ask 105) fill the window for
  // the first 10 s: distances 1..6 are visible on the bid side, 7 and beyond are not. At 10 s the
  // bid 99 is cancelled: one bid level, everything visible for the last 10 s.
  Stream s = opening();
  s.at(0).add(3, Side::kBid, 99, 1, flags::kSnapshot);
  s.at(10).cancel(3, Side::kBid, 99, 1);
  s.at(20).add(4, Side::kAsk, 107, 1);
  CalibrationOptions o;
  o.max_distance = 8;
  o.visible_levels = 2;
  const FlowCalibration c = calibrate(s, o);
  EXPECT_EQ(c.visible_levels, 2u);
  EXPECT_DOUBLE_EQ(c.limit_exposure_s[5], 40.0);        // distance 6: both sides, 20 s
  EXPECT_DOUBLE_EQ(c.limit_exposure_s[6], 30.0);        // distance 7: bid side only after 10 s
  EXPECT_DOUBLE_EQ(c.visible_fraction_at_max_distance, 0.5);
  // Auto max_distance keeps distances visible at least half the time on each side: all 8 here,
  // but the farthest arrival (the ask at 107, distance 7) bounds it.
  o.max_distance = 0;
  EXPECT_EQ(calibrate(s, o).max_distance, 7u);
  o.min_visible_fraction = 0.75;
  EXPECT_EQ(calibrate(s, o).max_distance, 6u);
}

TEST(CalibrateFlow, RejectsL2SourcesAndBadOptions) {
  VectorSource l2(opening().events(), data::BookLevel::kL2);
  EXPECT_THROW((void)calibrate_flow(l2), Error);
  VectorSource a(opening().events());
  CalibrationOptions o;
  o.max_distance = 20;
  o.max_distance_cap = 10;
  EXPECT_THROW((void)calibrate_flow(a, o), Error);
  VectorSource empty(std::vector<Event>{});
  EXPECT_THROW((void)calibrate_flow(empty), Error);
  Stream one_sided;
  one_sided.at(0).add(1, Side::kBid, 100, 1).at(1).add(2, Side::kBid, 99, 1);
  VectorSource os(one_sided.events());
  try {
    (void)calibrate_flow(os);
    ADD_FAILURE() << "no throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("two-sided"), std::string::npos) << e.what();
  }
}

TEST(CalibrateFlow, HawkesFitSortsFlowEventsWhoseExchangeTimesStepBack) {
  // 12 rounds of: a bid and an ask added, a market order on each side, both cancelled; one
  // round stamped 0.5 s before the previous one (Databento's ts_event is not monotone).
  Stream s = opening();
  OrderId id = 10;
  for (int r = 0; r < 12; ++r) {
    const double t = r == 6 ? 5.0 * r - 5.5 : 5.0 * r + 1.0;
    s.at(t).add(id, Side::kBid, 101, 2).at(t + 0.1).add(id + 1, Side::kAsk, 104, 2);
    s.at(t + 0.2).exec(id + 1, Side::kAsk, 104, 1).at(t + 0.3).exec(id, Side::kBid, 101, 1);
    s.at(t + 0.4).cancel(id, Side::kBid, 101, 1).at(t + 0.5).cancel(id + 1, Side::kAsk, 104, 1);
    id += 2;
  }
  VectorSource src(s.events());
  CalibrationOptions o;
  o.max_distance = 5;
  const FlowCalibration c = calibrate_flow(src, o);
  ASSERT_TRUE(c.hawkes.fitted) << c.hawkes.note;
  EXPECT_EQ(c.hawkes.note, "flow events sorted by exchange time");
  EXPECT_EQ(c.hawkes.counts, (std::vector<std::uint64_t>{12, 12, 12, 12, 12, 12}));
  EXPECT_NEAR(c.hawkes.horizon_s, 56.5 - 1.0, 1e-9);  // from the first flow event to the last
  EXPECT_EQ(c.market_orders[0] + c.market_orders[1], 24u);
  EXPECT_EQ(c.book_rejections, 0u);
}

TEST(FitPowerLaw, RecoversExactRatesAndMatchesTheScoreEquation) {
  // Counts proportional to E_i k i^-α with E large: rounding is negligible.
  const double k = 2.0, alpha = 0.6;
  std::vector<std::uint64_t> n;
  std::vector<double> e;
  for (int i = 1; i <= 8; ++i) {
    e.push_back(1e8 * (i % 3 + 1));
    n.push_back(static_cast<std::uint64_t>(std::llround(e.back() * k * std::pow(i, -alpha))));
  }
  const PowerLawFit f = fit_power_law(n, e);
  EXPECT_NEAR(f.k, k, 1e-6);
  EXPECT_NEAR(f.alpha, alpha, 1e-7);
  // Standard errors scale like 1/√N: ~1e-5 relative here.
  EXPECT_GT(f.k_se, 0);
  EXPECT_LT(f.k_se / k, 1e-4);
  // A distance without exposure is left out, whatever its count.
  n.push_back(12345);
  e.push_back(0);
  EXPECT_NEAR(fit_power_law(n, e).alpha, alpha, 1e-7);
  // α < 0 (rates growing with distance) is allowed.
  const PowerLawFit g = fit_power_law({10, 20, 30}, {10, 10, 10});
  // Score: Σ N ln i / Σ N = Σ i^-α ln i / Σ i^-α; k = Σ N / Σ E i^-α.
  double sw = 0, swl = 0;
  for (int i = 1; i <= 3; ++i) {
    sw += std::pow(i, -g.alpha);
    swl += std::pow(i, -g.alpha) * std::log(i);
  }
  EXPECT_NEAR(swl / sw, (20 * std::log(2.0) + 30 * std::log(3.0)) / 60.0, 1e-10);
  EXPECT_LT(g.alpha, 0);
  EXPECT_NEAR(g.k, 60.0 / (10 * sw), 1e-9);
  // Constrained to α >= 0: the boundary, where k is the mean rate Σ N / Σ E.
  const PowerLawFit h = fit_power_law({10, 20, 30}, {10, 10, 10}, 0.0, 10.0);
  EXPECT_EQ(h.alpha, 0.0);
  EXPECT_DOUBLE_EQ(h.k, 2.0);
  EXPECT_THROW((void)fit_power_law({1, 2}, {1.0, 1.0}, 1.0, 0.0), Error);
  EXPECT_THROW((void)fit_power_law({1, 2}, {1.0}), Error);
  EXPECT_THROW((void)fit_power_law({0, 0}, {1.0, 1.0}), Error);
  EXPECT_THROW((void)fit_power_law({5, 0}, {1.0, 0.0}), Error);
}

TEST(SizeDistribution, MeanGeometricFitQuantilesAndKolmogorovSmirnovByHand) {
  const SizeDistribution d = size_distribution({4, 1, 2, 1});
  EXPECT_EQ(d.count, 4u);
  EXPECT_DOUBLE_EQ(d.mean, 2.0);
  EXPECT_DOUBLE_EQ(d.geometric_p, 0.5);
  EXPECT_DOUBLE_EQ(d.share_of_one, 0.5);
  // F_emp: 1 → .5, 2 → .75, 3 → .75, 4 → 1; F_geo: .5, .75, .875, .9375: sup = .125 at n = 3.
  EXPECT_DOUBLE_EQ(d.ks_distance, 0.125);
  // Levels 0.1, 0.25, 0.5, 0.75, 0.9, 0.99 of {1, 1, 2, 4}.
  EXPECT_EQ(d.quantiles, (std::vector<double>{1, 1, 1, 2, 4, 4}));
  // A gap below the smallest size counts: F_emp = 0 on [1, 2].
  EXPECT_NEAR(size_distribution({3, 3}).ks_distance, 1.0 - std::pow(2.0 / 3.0, 2), 1e-15);
  EXPECT_EQ(size_distribution({}).count, 0u);
  EXPECT_THROW((void)size_distribution({0, 1}), Error);
}

TEST(FlowStatistics, SpreadDepthMidGridAndFlowEventsByHand) {
  Stream s = opening();                       // bid 100 × 10, ask 105 × 10 from t = 0
  s.at(1.5).add(3, Side::kBid, 103, 4);       // spread 2 from 1.5 s; mid 104
  s.at(2).exec(2, Side::kAsk, 105, 10);       // ask side empty from 2 s
  s.at(3).add(4, Side::kAsk, 104, 6);         // spread 1; mid 103.5
  s.at(4).cancel(1, Side::kBid, 100, 10);
  VectorSource src(s.events());
  FlowStatisticsOptions o;
  o.depth_levels = 2;
  o.max_spread_ticks = 3;
  const FlowStatistics st = flow_statistics(src, o);
  EXPECT_EQ(st.events, 7u);
  EXPECT_DOUBLE_EQ(st.duration_s, 4.0);
  EXPECT_DOUBLE_EQ(st.two_sided_s, 3.0);  // 0..2 and 3..4
  EXPECT_EQ(st.spread_time_s, (std::vector<double>{0, 1.0, 0.5, 1.5}));  // 5 ticks → the "≥ 3" bin
  EXPECT_DOUBLE_EQ(st.mean_spread_ticks, (5 * 1.5 + 2 * 0.5 + 1 * 1.0) / 3.0);
  // Depth over the two-sided time: bid level 1: 10 × 1.5 + 4 × 0.5 + 4 × 1 = 21 → 7; level 2:
  // 10 × 0.5 + 10 × 1 = 15 → 5; ask level 1: 10 × 2 + 6 × 1 = 26 → 26/3.
  EXPECT_DOUBLE_EQ(st.depth_lots[0][0], 7.0);
  EXPECT_DOUBLE_EQ(st.depth_lots[0][1], 5.0);
  EXPECT_DOUBLE_EQ(st.depth_lots[1][0], 26.0 / 3.0);
  EXPECT_DOUBLE_EQ(st.depth_lots[1][1], 0.0);
  // Mid at 0, 1, 2, 3, 4 s (decimal, price_decimals 2).
  ASSERT_EQ(st.mid.size(), 5u);
  EXPECT_DOUBLE_EQ(st.mid[0], 1.025);
  EXPECT_DOUBLE_EQ(st.mid[1], 1.025);
  EXPECT_TRUE(std::isnan(st.mid[2]));
  EXPECT_DOUBLE_EQ(st.mid[3], 1.035);
  EXPECT_DOUBLE_EQ(st.mid[4], 1.035);  // bid 103 after the cancel of bid 100
  EXPECT_EQ(st.grid_start_ns, kT0);
  const std::vector<std::uint8_t> types{2, 0, 3, 4};  // limit bid, market buy, limit ask, cancel bid
  EXPECT_EQ(st.event_type, types);
  EXPECT_EQ(st.event_ts_ns, (std::vector<TimestampNs>{kT0 + 1'500'000'000, kT0 + 2 * kSec, kT0 + 3 * kSec, kT0 + 4 * kSec}));
  EXPECT_EQ(st.mid_changes, 2u);  // 102.5 → 104 → 103.5 (the one-sided time is not a change)
  VectorSource again(s.events());
  o.sample_interval_ns = 0;
  EXPECT_THROW((void)flow_statistics(again, o), Error);
}

TEST(FlowStatistics, L2SourcesUseLevelChangesAndTradePrints) {
  Stream s;
  s.at(0).level(Side::kBid, 100, 10).level(Side::kAsk, 102, 10);
  s.at(1).level(Side::kBid, 100, 15);       // +5: a limit
  s.at(2).trade(Side::kBid, 102, 3);         // buy print
  s.at(2).trade(Side::kBid, 102, 2);         // same time, same aggressor: the same market order
  s.at(3).level(Side::kAsk, 102, 5);         // −5: a cancel (L2 cannot tell executions)
  VectorSource src(s.events(), data::BookLevel::kL2);
  const FlowStatistics st = flow_statistics(src);
  EXPECT_EQ(st.event_type, (std::vector<std::uint8_t>{2, 3, 2, 0, 5}));
  EXPECT_DOUBLE_EQ(st.two_sided_s, 3.0);
  EXPECT_DOUBLE_EQ(st.spread_time_s[2], 3.0);
}

// ---------------------------------------------------------------------------------------------
// THE HARD TEST: parameters of a synthetic market recovered from its own event stream.

namespace {

SyntheticMarketConfig known_market() {
  SyntheticMarketConfig c;
  c.symbol = "KNOWN";
  c.price_decimals = 3;
  c.tick_size = 5;
  c.initial_mid = 250'000;
  c.max_distance = 8;
  c.limit_rate_k = 1.6;
  c.limit_rate_alpha = 0.8;
  c.market_rate = 0.45;
  c.cancel_rates = {0.9, 0.6, 0.5, 0.42, 0.35, 0.3, 0.27, 0.25, 0.2};
  c.mean_order_size = 4;
  c.opening_orders_per_level = 3;
  c.duration_s = 6 * 3600.0;
  c.seed = 20240611;
  return c;
}

const FlowCalibration& known_fit() {
  static const FlowCalibration fit = [] {
    auto src = make_synthetic_market(known_market());
    CalibrationOptions o;
    o.fit_hawkes = false;
    return calibrate_flow(*src, o);
  }();
  return fit;
}

}  // namespace

TEST(CalibrateFlowRecovery, InstrumentOpeningAndRangeAreExact) {
  const SyntheticMarketConfig t = known_market();
  const FlowCalibration& c = known_fit();
  EXPECT_EQ(c.format, "synthetic");
  EXPECT_EQ(c.instrument.tick_size, t.tick_size);
  EXPECT_EQ(c.instrument.price_decimals, t.price_decimals);
  // Opening quotes: the grid prices around 250.000 (on the grid: 249.995 / 250.005).
  EXPECT_EQ(c.initial_mid, t.initial_mid);
  EXPECT_EQ(c.max_distance, t.max_distance);  // auto: the farthest arrival, all visible
  EXPECT_NEAR(c.visible_fraction_at_max_distance, 1.0, 1e-12);
  EXPECT_NEAR(c.duration_s, t.duration_s, 1.0);
  EXPECT_GE(c.start_ns, t.start_ns);  // the first flow event after the opening snapshot
  EXPECT_LT(c.start_ns, t.start_ns + kSec);
  EXPECT_EQ(c.book_rejections, 0u);
  EXPECT_EQ(c.partial_cancels + c.cancels_of_unknown_orders + c.limit_orders_crossing, 0u);
  EXPECT_EQ(c.limit_orders_beyond_max_distance, 0u);
}

TEST(CalibrateFlowRecovery, MarketOrderRateMu) {
  const SyntheticMarketConfig t = known_market();
  const FlowCalibration& c = known_fit();
  // Each side's count is Poisson(μT): sd √(μT).
  const double T = c.duration_s;
  for (int s = 0; s < 2; ++s) {
    EXPECT_TRUE(within_sd(static_cast<double>(c.market_orders[s]), t.market_rate * T, std::sqrt(t.market_rate * T)));
  }
  EXPECT_TRUE(within_sd(c.market_rate, t.market_rate, std::sqrt(2 * t.market_rate * T) / (2 * T)));
  EXPECT_NEAR(c.market_rate_se, std::sqrt(2 * t.market_rate * T) / (2 * T), 0.05 * c.market_rate_se);
  std::printf("mu: true %.4f, fitted %.4f ± %.4f\n", t.market_rate, c.market_rate, c.market_rate_se);
}

TEST(CalibrateFlowRecovery, LimitRatesByDistanceAndThePowerLawKAlpha) {
  const SyntheticMarketConfig t = known_market();
  const FlowCalibration& c = known_fit();
  const double T = c.duration_s;
  for (std::uint32_t i = 1; i <= t.max_distance; ++i) {
    const double lambda = t.limit_rate_k * std::pow(i, -t.limit_rate_alpha);
    EXPECT_NEAR(c.limit_exposure_s[i - 1], 2 * T, 1e-9 * T);
    EXPECT_TRUE(within_sd(c.limit_rate[i - 1], lambda, std::sqrt(lambda * 2 * T) / (2 * T))) << "distance " << i;
  }
  // Standard errors from the Fisher information at the truth, not at the estimate.
  std::vector<std::uint64_t> expected_counts;
  std::vector<double> exposure(t.max_distance, 2 * T);
  double i00 = 0, i01 = 0, i11 = 0;
  for (std::uint32_t i = 1; i <= t.max_distance; ++i) {
    const double mu = 2 * T * t.limit_rate_k * std::pow(i, -t.limit_rate_alpha);
    const double l = std::log(static_cast<double>(i));
    i00 += mu;
    i01 -= mu * l;
    i11 += mu * l * l;
  }
  const double det = i00 * i11 - i01 * i01;
  const double k_sd = t.limit_rate_k * std::sqrt(i11 / det);
  const double alpha_sd = std::sqrt(i00 / det);
  EXPECT_TRUE(within_sd(c.limit_rate_k, t.limit_rate_k, k_sd));
  EXPECT_TRUE(within_sd(c.limit_rate_alpha, t.limit_rate_alpha, alpha_sd));
  EXPECT_NEAR(c.limit_rate_k_se, k_sd, 0.05 * k_sd);
  EXPECT_NEAR(c.limit_rate_alpha_se, alpha_sd, 0.05 * alpha_sd);
  std::printf("k: true %.4f, fitted %.4f ± %.4f; alpha: true %.4f, fitted %.4f ± %.4f\n", t.limit_rate_k,
              c.limit_rate_k, c.limit_rate_k_se, t.limit_rate_alpha, c.limit_rate_alpha, c.limit_rate_alpha_se);
}

TEST(CalibrateFlowRecovery, CancelRatesPerOrderByDistance) {
  const SyntheticMarketConfig t = known_market();
  const FlowCalibration& c = known_fit();
  // Cancels at distance i form a counting process with compensator θ(i) X(i): count − θ(i) X(i)
  // has variance θ(i) X(i), so θ̂(i) has sd √(θ(i) X(i)) / X(i).
  int tested = 0;
  for (std::uint32_t i = 1; i <= t.max_distance; ++i) {
    const double theta = t.cancel_rates[i - 1];
    const double x = c.order_exposure_s[i - 1];
    if (theta * x < 100) continue;
    ++tested;
    EXPECT_TRUE(within_sd(c.cancel_rate[i - 1], theta, std::sqrt(theta * x) / x)) << "distance " << i;
    std::printf("theta(%u): true %.4f, fitted %.4f ± %.4f (%llu cancels)\n", i, theta, c.cancel_rate[i - 1],
                c.cancel_rate_se[i - 1], static_cast<unsigned long long>(c.cancel_count[i - 1]));
  }
  EXPECT_GE(tested, 7);
  // Beyond max_distance (orders left behind when the opposite quote moved away) the generator
  // uses θ(9) = 0.2, the last of its list, at every distance: the pooled estimate recovers it.
  const double xb = c.order_exposure_beyond_s;
  ASSERT_GT(0.2 * xb, 100);
  EXPECT_TRUE(within_sd(c.cancel_rate_beyond, 0.2, std::sqrt(0.2 * xb) / xb));
  std::printf("theta(>8): true 0.2000, fitted %.4f ± %.4f (%llu cancels)\n", c.cancel_rate_beyond,
              std::sqrt(static_cast<double>(c.cancels_beyond)) / xb, static_cast<unsigned long long>(c.cancels_beyond));
}

TEST(CalibrateFlowRecovery, OrderSizesAreGeometricWithTheTrueMean) {
  const SyntheticMarketConfig t = known_market();
  const FlowCalibration& c = known_fit();
  const double p = 1.0 / t.mean_order_size;
  const double sd = std::sqrt((1 - p) / (p * p));
  const double n = static_cast<double>(c.limit_sizes.count);
  EXPECT_EQ(c.limit_sizes.count, c.limit_orders);
  EXPECT_TRUE(within_sd(c.limit_sizes.mean, t.mean_order_size, sd / std::sqrt(n)));
  EXPECT_TRUE(within_sd(c.limit_sizes.share_of_one, p, std::sqrt(p * (1 - p) / n)));
  // Kolmogorov-Smirnov distance of a correct law: O(1/√n) (here n ~ 3e5: < 0.01).
  EXPECT_LT(c.limit_sizes.ks_distance, 0.01);
  // Quantiles of the geometric law: smallest m with 1 − (1 − p)^m >= q.
  for (std::size_t j = 0; j < c.limit_sizes.quantile_levels.size() - 1; ++j) {
    const double q = c.limit_sizes.quantile_levels[j];
    const double m = std::ceil(std::log(1 - q) / std::log(1 - p));
    EXPECT_NEAR(c.limit_sizes.quantiles[j], m, 1.0) << "quantile " << q;
  }
  const double nm = static_cast<double>(c.market_sizes.count);
  EXPECT_TRUE(within_sd(c.market_sizes.mean, t.mean_order_size, sd / std::sqrt(nm)));
  std::printf("mean size: true %.3f, fitted %.3f (limit, n = %.0f), %.3f (market, n = %.0f)\n", t.mean_order_size,
              c.limit_sizes.mean, n, c.market_sizes.mean, nm);
}

TEST(CalibrateFlowRecovery, FittedConfigReproducesTheGenerator) {
  const SyntheticMarketConfig t = known_market();
  const FlowCalibration& c = known_fit();
  const SyntheticMarketConfig s = c.synthetic_config();
  EXPECT_EQ(s.symbol, "SYN-KNOWN");
  EXPECT_EQ(s.tick_size, t.tick_size);
  EXPECT_EQ(s.price_decimals, t.price_decimals);
  EXPECT_EQ(s.initial_mid, t.initial_mid);
  EXPECT_EQ(s.max_distance, t.max_distance);
  EXPECT_DOUBLE_EQ(s.limit_rate_k, c.limit_rate_k);
  EXPECT_DOUBLE_EQ(s.market_rate, c.market_rate);
  ASSERT_EQ(s.cancel_rates.size(), t.max_distance + 1);  // θ(1..8) and the pooled rate beyond
  EXPECT_DOUBLE_EQ(s.cancel_rates.back(), c.cancel_rate_beyond);
  EXPECT_DOUBLE_EQ(s.mean_order_size, c.limit_sizes.mean);
  // The explicit λ(i) table (every distance was exposed here) and the market orders' own size law.
  ASSERT_EQ(s.limit_rates.size(), t.max_distance);
  for (std::size_t j = 0; j < s.limit_rates.size(); ++j) EXPECT_DOUBLE_EQ(s.limit_rates[j], c.limit_rate[j]) << j;
  EXPECT_DOUBLE_EQ(s.mean_market_order_size, c.market_sizes.mean);
  EXPECT_EQ(s.flow, FlowModel::kPoisson);
  EXPECT_EQ(s.hawkes_alpha, SyntheticMarketConfig{}.hawkes_alpha);  // no Hawkes fit: the defaults
  EXPECT_EQ(s.start_ns, c.start_ns);
  EXPECT_DOUBLE_EQ(s.duration_s, c.duration_s);
  EXPECT_GE(s.opening_orders_per_level, 1u);
  EXPECT_NO_THROW((void)make_synthetic_market(s));
  // Refitting the fitted market recovers the fit (a second, independent sample: same tolerances).
  SyntheticMarketConfig again = s;
  again.seed = 99;
  auto src = make_synthetic_market(again);
  const FlowCalibration c2 = calibrate_flow(*src, CalibrationOptions{.fit_hawkes = false});
  EXPECT_TRUE(within_sd(c2.market_rate, t.market_rate, 2 * std::sqrt(2 * t.market_rate * c.duration_s) / (2 * c.duration_s)));
  EXPECT_TRUE(within_sd(c2.limit_rate_alpha, t.limit_rate_alpha, 2 * c.limit_rate_alpha_se));
}

TEST(CalibrateFlowRecovery, HawkesFitOfTheSyntheticFlowMatchesItsRatesAndItsCancelProbability) {
  // The maximum of the Hawkes likelihood balances each type's compensator with its count (scale
  // the row i parameters (μ_i, α_i·) by c: d/dc log L = N_i − Λ_i(T) = 0), so the fitted
  // stationary rates (I − A)^-1 μ match the counts per second up to edge effects. And nearly
  // every limit order of the CST market is later cancelled: the cancels of a side are explained
  // mostly by excitation from the limit orders of that side.
  SyntheticMarketConfig t = known_market();
  t.duration_s = 1800;
  auto src = make_synthetic_market(t);
  CalibrationOptions o;
  o.fit_hawkes = true;
  const FlowCalibration c = calibrate_flow(*src, o);
  const HawkesCalibration& h = c.hawkes;
  ASSERT_TRUE(h.fitted) << h.note;
  ASSERT_EQ(h.types, (std::vector<std::string>{"market_buy", "market_sell", "limit_bid", "limit_ask", "cancel_bid",
                                               "cancel_ask"}));
  EXPECT_EQ(h.counts[0], c.market_orders[0]);
  EXPECT_EQ(h.counts[1], c.market_orders[1]);
  EXPECT_EQ(h.counts[2] + h.counts[3], c.limit_orders);
  EXPECT_EQ(h.counts[4] + h.counts[5], c.cancels);
  EXPECT_NEAR(h.horizon_s, c.duration_s, 60.0);
  const HawkesParams& p = h.fit.params;
  ASSERT_EQ(p.dims(), 6u);
  for (int i = 0; i < 6; ++i) {
    std::printf("%-11s n %6llu mu %.4f alpha", h.types[i].c_str(), static_cast<unsigned long long>(h.counts[i]), p.mu[i]);
    for (int j = 0; j < 6; ++j) std::printf(" %.3f", p.alpha[i][j]);
    std::printf("  beta %.3f\n", p.beta[i][0]);
  }
  EXPECT_LT(p.spectral_radius(), 1.0);
  Eigen::MatrixXd a(6, 6);
  Eigen::VectorXd mu(6);
  for (int i = 0; i < 6; ++i) {
    mu(i) = p.mu[i];
    for (int j = 0; j < 6; ++j) a(i, j) = p.alpha[i][j];
  }
  const Eigen::VectorXd mean = (Eigen::MatrixXd::Identity(6, 6) - a).lu().solve(mu);
  for (int i = 0; i < 6; ++i) {
    const double rate = static_cast<double>(h.counts[i]) / h.horizon_s;
    EXPECT_NEAR(mean(i), rate, 0.03 * rate) << h.types[i];
  }
  // Market orders are Poisson(μ) per side: their rows hold little excitation.
  for (int i = 0; i < 2; ++i) {
    EXPECT_LT(a.row(i).sum(), 0.25) << h.types[i];
  }
  for (int s = 0; s < 2; ++s) {
    const double share = static_cast<double>(h.counts[4 + s]) / static_cast<double>(h.counts[2 + s]);
    EXPECT_GT(share, 0.85);
    EXPECT_GT(a(4 + s, 2 + s), 0.5) << "cancels per limit order, side " << s;
    for (int j = 0; j < 6; ++j) {
      if (j != 2 + s) {
        EXPECT_LT(a(4 + s, j), a(4 + s, 2 + s)) << "cancel row " << s << ", column " << j;
      }
    }
  }
  // Exported for the Hawkes mode of the generator (cancel baselines at least 1e-6 /s).
  const SyntheticMarketConfig hc = c.synthetic_config(FlowModel::kHawkes);
  EXPECT_EQ(hc.flow, FlowModel::kHawkes);
  EXPECT_EQ(hc.hawkes_alpha, p.alpha);
  EXPECT_EQ(hc.hawkes_beta, p.beta);
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(hc.hawkes_mu[i], p.mu[i], 1e-6);
  EXPECT_NO_THROW((void)make_synthetic_market(hc));
  EXPECT_THROW((void)known_fit().synthetic_config(FlowModel::kHawkes), Error);  // fitted without Hawkes
  // A Poisson config carries the fitted process too (flow = hawkes switches to it).
  const SyntheticMarketConfig pc = c.synthetic_config();
  EXPECT_EQ(pc.flow, FlowModel::kPoisson);
  EXPECT_EQ(pc.hawkes_alpha, p.alpha);
  EXPECT_EQ(pc.hawkes_mu, hc.hawkes_mu);
}

// ---------------------------------------------------------------------------------------------
// Real data: LOBSTER GOOG 2012-06-21. The counts are the message file's own type counts.

namespace {

std::string goog(int level) {
  return test::data_dir() + "/lobster/LOBSTER_SampleFile_GOOG_2012-06-21_" + std::to_string(level) + ".zip";
}

bool have(const std::string& path) {
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    std::fclose(f);
    return true;
  }
  return false;
}

}  // namespace

TEST(CalibrateFlowRealData, LobsterGoogLevel10CountsEveryMessage) {
  const std::string path = goog(10);
  if (!have(path)) {
    if (test::under_ci()) FAIL() << "real data missing under CI: " << path;
    GTEST_SKIP() << "real data not found: " << path << " (set MMKIT_DATA_DIR)";
  }
  auto src = data::open_source({path});
  CalibrationOptions o;
  o.fit_hawkes = false;
  const FlowCalibration c = calibrate_flow(*src, o);
  // Message types in GOOG_2012-06-21_34200000_57600000_message_10.csv: 1: 71,258; 2: 19;
  // 3: 64,961; 4: 7,765; 5: 3,913 (147,916 rows).
  EXPECT_EQ(c.limit_orders, 71'258u);
  EXPECT_EQ(c.cancels + c.partial_cancels + c.cancels_of_unknown_orders, 64'961u + 19u);
  EXPECT_EQ(c.executions, 7'765u);
  EXPECT_EQ(c.trades_without_book_effect, 3'913u);
  EXPECT_EQ(c.book_rejections, 0u);
  EXPECT_EQ(c.visible_levels, 10u);
  EXPECT_EQ(c.instrument.tick_size, 100);
  EXPECT_EQ(c.instrument.price_decimals, 4);
  // First orderbook row: ask 580.23, bid 579.40 (the opening seeds, before message 1 applies).
  EXPECT_NEAR(static_cast<double>(c.initial_mid), 0.5 * (5'802'300 + 5'794'000), 100.0);
  EXPECT_NEAR(c.duration_s, 57'599.871751084 - 34'200.015105074, 1e-6);
  EXPECT_EQ(c.market_orders[0] + c.market_orders[1] + 0, c.market_sizes.count);
  EXPECT_LE(c.market_orders[0] + c.market_orders[1], 7'765u);
  EXPECT_GE(c.visible_fraction_at_max_distance, 0.5);
  // Every limit order is placed at least one tick from the opposite best in a LOBSTER file.
  EXPECT_EQ(c.limit_orders_crossing, 0u);
  EXPECT_EQ(c.limit_orders_without_reference, 0u);
  std::printf("GOOG-10: max_distance %u (visible %.2f), k %.4f ± %.4f, alpha %.4f ± %.4f, mu %.5f ± %.5f, "
              "market orders %llu / %llu, theta(1) %.4f, theta(max) %.4f, beyond %.4f, mean size %.2f / %.2f\n",
              c.max_distance, c.visible_fraction_at_max_distance, c.limit_rate_k, c.limit_rate_k_se,
              c.limit_rate_alpha, c.limit_rate_alpha_se, c.market_rate, c.market_rate_se,
              static_cast<unsigned long long>(c.market_orders[0]), static_cast<unsigned long long>(c.market_orders[1]),
              c.cancel_rate[0], c.cancel_rate[c.max_distance - 1], c.cancel_rate_beyond, c.limit_sizes.mean,
              c.market_sizes.mean);
  // GOOG's spread (~30 ticks) puts most limit orders far from the opposite best: λ(i) grows with
  // i, the free power law has α < 0, and the generator's range α >= 0 gives the flat rate.
  EXPECT_LT(c.limit_rate_alpha_free, 0);
  EXPECT_EQ(c.limit_rate_alpha, 0);
  double n = 0, e = 0;
  for (std::uint32_t j = 0; j < c.max_distance; ++j) {
    n += static_cast<double>(c.limit_count[j]);
    e += c.limit_exposure_s[j];
  }
  EXPECT_NEAR(c.limit_rate_k, n / e, 1e-12);
  EXPECT_NO_THROW((void)make_synthetic_market(c.synthetic_config()));
}

TEST(CalibrateFlowRealData, MarketOrdersAreTheSameAtEveryLobsterDepth) {
  // Executions happen at the best quotes, which every LOBSTER depth shows: the level-1, 5 and 10
  // files of one day hold the same market orders (the limit orders differ with the window).
  std::vector<FlowCalibration> fits;
  for (const int level : {1, 5, 10}) {
    const std::string path = goog(level);
    if (!have(path)) {
      if (test::under_ci()) FAIL() << "real data missing under CI: " << path;
      GTEST_SKIP() << "real data not found: " << path << " (set MMKIT_DATA_DIR)";
    }
    auto src = data::open_source({path});
    CalibrationOptions o;
    o.fit_hawkes = false;
    fits.push_back(calibrate_flow(*src, o));
    EXPECT_EQ(fits.back().visible_levels, static_cast<std::uint32_t>(level));
  }
  for (std::size_t j = 1; j < fits.size(); ++j) {
    EXPECT_EQ(fits[j].market_orders[0], fits[0].market_orders[0]);
    EXPECT_EQ(fits[j].market_orders[1], fits[0].market_orders[1]);
    EXPECT_EQ(fits[j].executions, fits[0].executions);
    EXPECT_EQ(fits[j].market_sizes.mean, fits[0].market_sizes.mean);
    EXPECT_EQ(fits[j].trades_without_book_effect, fits[0].trades_without_book_effect);
    EXPECT_LT(fits[j - 1].limit_orders, fits[j].limit_orders);  // a deeper window shows more
    EXPECT_LT(fits[j - 1].max_distance, fits[j].max_distance);
  }
  // Runs of executions counted from the level-1 message file with pandas in
  // tests/python/test_calibrate.py::test_goog_level_1_real_file_end_to_end.
  EXPECT_EQ(fits[0].market_orders[0], 3'025u);
  EXPECT_EQ(fits[0].market_orders[1], 2'906u);
}

// ---------------------------------------------------------------------------------------------
// Joins and improvers (docs/synthetic_market.md, "Joins and improvers").

TEST(CalibrateFlow, JoinsAndImproversAreClassifiedByTheOwnBestBeforeTheOrder) {
  // Opening bid 100 / ask 105 (spread 5). 1 s: a bid joins at 100. 2 s: a bid improves to 102
  // (distance 3 from the ask). 2.5 s: it is cancelled (life 0.5 s). 3 s: end.
  Stream s = opening();
  s.at(1).add(3, Side::kBid, 100, 4).at(2).add(4, Side::kBid, 102, 2).at(2.5).cancel(4, Side::kBid, 102, 2).at(3).status();
  CalibrationOptions o;
  o.max_distance = 5;
  o.joins_and_improvers = true;
  const FlowCalibration c = calibrate(s, o);
  EXPECT_EQ(c.join_count, 1u);
  EXPECT_EQ(c.improver_count, 1u);
  EXPECT_EQ(c.improver_cancel_count, 1u);
  EXPECT_NEAR(c.improver_exposure_s, 0.5, 1e-9);
  EXPECT_NEAR(c.improver_pooled_cancel_rate, 2.0, 1e-9);
  // Own best at distance 5 on each side for 2.5 s, at 3 for 0.5 s: E_J = 6 side-seconds.
  EXPECT_NEAR(c.join_exposure_s, 6.0, 1e-9);
  EXPECT_NEAR(c.join_rate, 1.0 / 6.0, 1e-12);
  EXPECT_NEAR(c.join_rate_se, 1.0 / 6.0, 1e-12);
  // λ(5) without joins: N = 0, exposed only while 5 was not the own best (2..2.5 s, both sides);
  // λ(3): the improver, exposed 3 − 0.5 s per side.
  EXPECT_EQ(c.limit_count[4], 0u);
  EXPECT_NEAR(c.limit_exposure_s[4], 1.0, 1e-9);
  EXPECT_EQ(c.limit_count[2], 1u);
  EXPECT_NEAR(c.limit_exposure_s[2], 5.0, 1e-9);
  // θ(i) without the improver: no cancel at distance 3, whose order-seconds are the ask's
  // (distance 3 from the improved bid for 0.5 s).
  EXPECT_EQ(c.cancel_count[2], 0u);
  EXPECT_NEAR(c.order_exposure_s[2], 0.5, 1e-9);
  // Distance 5: bid 1 for 3 s, bid 3 for 2 s, ask 2 for 2.5 s.
  EXPECT_NEAR(c.order_exposure_s[4], 7.5, 1e-9);
  const SyntheticMarketConfig syn = c.synthetic_config();
  EXPECT_NEAR(syn.join_rate, 1.0 / 6.0, 1e-12);
  EXPECT_GT(syn.improver_cancel_rate, 0.0);

  // The CST 2010 estimators (the default): the join is a limit order at distance 5, exposed all
  // the time; the improver's order-seconds and cancel count at distance 3. λ_J, θ_I reported
  // only: the generator's config leaves them off.
  o.joins_and_improvers = false;
  const FlowCalibration d = calibrate(s, o);
  EXPECT_EQ(d.limit_count[4], 1u);
  EXPECT_NEAR(d.limit_exposure_s[4], 6.0, 1e-9);
  EXPECT_EQ(d.cancel_count[2], 1u);
  EXPECT_NEAR(d.order_exposure_s[2], 1.0, 1e-9);
  EXPECT_NEAR(d.order_exposure_s[4], 7.5, 1e-9);
  EXPECT_EQ(d.join_count, 1u);
  EXPECT_EQ(d.improver_cancel_count, 1u);
  EXPECT_EQ(d.synthetic_config().join_rate, 0.0);
  EXPECT_EQ(d.synthetic_config().improver_cancel_rate, 0.0);
}

TEST(FitFleetingMixture, RecoversShareAndRatesOfCensoredExponentialLifetimes) {
  // 20,000 lifetimes: 40 % at 50 /s, the rest at 0.5 /s, censored by an independent Exp(0.2 /s).
  std::mt19937_64 g(77);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  auto expo = [&](double rate) { return -std::log1p(-u(g)) / rate; };
  std::vector<double> life;
  std::vector<std::uint8_t> cancelled;
  for (int k = 0; k < 20000; ++k) {
    const double t = expo(u(g) < 0.4 ? 50.0 : 0.5);
    const double cens = expo(0.2);
    life.push_back(std::min(t, cens));
    cancelled.push_back(t <= cens ? 1 : 0);
  }
  const FleetingMixtureFit f = fit_fleeting_mixture(life, cancelled);
  EXPECT_TRUE(f.converged);
  EXPECT_TRUE(within_sd(f.share, 0.4, f.share_se));
  EXPECT_TRUE(within_sd(f.fast_rate, 50.0, f.fast_rate_se));
  EXPECT_TRUE(within_sd(f.slow_rate, 0.5, f.slow_rate_se));
  std::printf("phi %.4f ± %.4f, fast %.3f ± %.3f, slow %.4f ± %.4f (%d iterations)\n", f.share, f.share_se, f.fast_rate,
              f.fast_rate_se, f.slow_rate, f.slow_rate_se, f.iterations);
  EXPECT_THROW((void)fit_fleeting_mixture({1.0}, {1, 0}), Error);
  EXPECT_THROW((void)fit_fleeting_mixture({1.0, -1.0}, {1, 0}), Error);
  EXPECT_THROW((void)fit_fleeting_mixture({1.0, 2.0}, {0, 0}), Error);
}

TEST(CalibrateFlowRecovery, JoinRateAndFleetingImproversOfAKnownMarket) {
  SyntheticMarketConfig t = known_market();
  t.join_rate = 0.7;
  t.improver_cancel_rate = 20;
  t.improver_fleeting_share = 0.5;
  // One θ for every distance, so the slow improvers' lifetimes are exponential as the mixture
  // assumes (with θ(d) varying, φ and θ_I come out a few % off: 0.523 and 18.9 on the
  // known_market() rates).
  t.cancel_rates = {0.4};
  auto src = make_synthetic_market(t);
  CalibrationOptions o;
  o.fit_hawkes = false;
  o.joins_and_improvers = true;
  const FlowCalibration c = calibrate_flow(*src, o);
  EXPECT_EQ(c.book_rejections, 0u);
  // λ_J: Poisson count over the side-seconds with a non-empty own side.
  EXPECT_TRUE(within_sd(c.join_rate, t.join_rate, std::sqrt(t.join_rate * c.join_exposure_s) / c.join_exposure_s));
  // λ(i) still recovered (E(i) without the time i was the own best), and θ(i) without improvers.
  const double T = c.duration_s;
  for (std::uint32_t i = 1; i <= t.max_distance; ++i) {
    const double lambda = t.limit_rate_k * std::pow(i, -t.limit_rate_alpha);
    const double e = c.limit_exposure_s[i - 1];
    ASSERT_GT(e, 0.5 * T);
    EXPECT_TRUE(within_sd(c.limit_rate[i - 1], lambda, std::sqrt(lambda * e) / e)) << "distance " << i;
    const double theta = t.cancel_rates[0];
    const double x = c.order_exposure_s[i - 1];
    if (theta * x >= 100) {
      EXPECT_TRUE(within_sd(c.cancel_rate[i - 1], theta, std::sqrt(theta * x) / x)) << "distance " << i;
    }
  }
  // The mixture: the slow improvers cancel at θ(d) = 0.4 /s.
  ASSERT_GT(c.improver_cancel_count, 1000u);
  EXPECT_TRUE(within_sd(c.improver_fleeting_share, 0.5, c.improver_fleeting_share_se));
  EXPECT_TRUE(within_sd(c.improver_cancel_rate, 20.0, c.improver_cancel_rate_se));
  EXPECT_TRUE(within_sd(c.improver_slow_cancel_rate, 0.4, c.improver_slow_cancel_rate_se));
  std::printf("join: true %.3f, fitted %.4f ± %.4f; phi %.4f ± %.4f; theta_I %.3f ± %.3f; theta_S %.4f (%llu improvers)\n",
              t.join_rate, c.join_rate, c.join_rate_se, c.improver_fleeting_share, c.improver_fleeting_share_se,
              c.improver_cancel_rate, c.improver_cancel_rate_se, c.improver_slow_cancel_rate,
              static_cast<unsigned long long>(c.improver_count));
  const SyntheticMarketConfig syn = c.synthetic_config();
  EXPECT_EQ(syn.join_rate, c.join_rate);
  EXPECT_EQ(syn.improver_cancel_rate, c.improver_cancel_rate);
  EXPECT_EQ(syn.improver_fleeting_share, c.improver_fleeting_share);
}
