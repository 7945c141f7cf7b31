// Strategies: calibration (intensity fit, volatility), the model closed forms (Avellaneda-Stoikov,
// GLFT) against values computed here independently, the common quoting rules (tick / lot grid,
// passive side, never crossed, position limit, requote threshold, throttle, rejections), the
// spread quoter, the order-list replayer and the factory. Strategies run against a mock Context
// (a book, a position and an order recorder), not the engine. Real-data runs drive the quoting
// strategies over a Binance futures capture and a LOBSTER file with real books.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "mmkit/book/l2_book.h"
#include "mmkit/book/l3_book.h"
#include "mmkit/core/error.h"
#include "mmkit/core/event.h"
#include "mmkit/data/source.h"
#include "mmkit/strategy/avellaneda_stoikov.h"
#include "mmkit/strategy/calibration.h"
#include "mmkit/strategy/glft.h"
#include "mmkit/strategy/order_list.h"
#include "mmkit/strategy/spread_quoter.h"
#include "mmkit/strategy/strategy.h"
#include "fixtures.h"
#include "real_data.h"
#include "config_file.h"

namespace mmkit::strategy {
namespace {

using mmkit::test::ConfigFile;
using mmkit::test::read_config;

using mmkit::test::data_dir;
using mmkit::test::under_ci;
using mmkit::test::crypto_spec;
using mmkit::test::equity_spec;
using mmkit::test::expect_error;
using mmkit::test::MockBook;
using mmkit::test::px;
using mmkit::test::write_file;

namespace fs = std::filesystem;
using exchange::OrderEventKind;
using exchange::OrderStatus;
using exchange::OrderType;
using exchange::RejectReason;
using exchange::TimeInForce;

constexpr Side kBid = Side::kBid;
constexpr Side kAsk = Side::kAsk;
constexpr TimestampNs kSec = 1'000'000'000;
constexpr TimestampNs kMs = 1'000'000;
constexpr TimestampNs kT0 = 1'700'000'000 * kSec;  // an arbitrary epoch time

using mmkit::test::Action;
using mmkit::test::MockContext;

std::size_t count(const std::vector<Action>& a, Action::Kind k) {
  return static_cast<std::size_t>(
      std::count_if(a.begin(), a.end(), [k](const Action& x) { return x.kind == k; }));
}

double floor_tick(double raw, double tick) { return std::floor(raw / tick) * tick; }
double ceil_tick(double raw, double tick) { return std::ceil(raw / tick) * tick; }

// =============================================================================================
// Calibration

TEST(FitLine, RecoversAnExactLine) {
  const std::vector<double> x{0, 1, 2, 3, 7};
  std::vector<double> y;
  for (double v : x) y.push_back(2.0 - 0.5 * v);
  const auto f = fit_line(x, y);
  ASSERT_TRUE(f);
  EXPECT_NEAR(f->slope, -0.5, 1e-12);
  EXPECT_NEAR(f->intercept, 2.0, 1e-12);
}

TEST(FitLine, MatchesHandComputedLeastSquares) {
  // x = 0,1,2; y = 1,2,4: mean x 1, mean y 7/3; Sxx = 2, Sxy = (−1)(−4/3) + (1)(5/3) = 3.
  const std::vector<double> x{0, 1, 2}, y{1, 2, 4};
  const auto f = fit_line(x, y);
  ASSERT_TRUE(f);
  EXPECT_NEAR(f->slope, 1.5, 1e-12);
  EXPECT_NEAR(f->intercept, 7.0 / 3.0 - 1.5, 1e-12);
}

TEST(FitLine, RejectsDegenerateInput) {
  const std::vector<double> one{1}, two_same{3, 3}, y2{1, 2};
  EXPECT_FALSE(fit_line(one, one));
  EXPECT_FALSE(fit_line(two_same, y2));
  EXPECT_FALSE(fit_line(y2, one));
}

// Trades whose cumulative counts are exactly N_i = 1024 / 2^i for i = 0..9 over W = 100 s:
// λ(i) = 10.24 · 2^−i per second, i.e. A = 10.24 /s, k = ln 2 per tick.
void add_geometric_trades(IntensityEstimator& est, TimestampNs start, double last_bin_distance) {
  std::vector<double> distances;
  for (int i = 0; i < 10; ++i) {
    const int exact = (i < 9) ? (1024 >> i) - (1024 >> (i + 1)) : 2;  // bin 9 holds N_9 = 2
    for (int j = 0; j < exact; ++j) distances.push_back(i == 9 ? last_bin_distance : i + 0.5);
  }
  ASSERT_EQ(distances.size(), 1024u);
  // Interleave distances deterministically over (start, start + 100 s].
  std::mt19937_64 rng(7);
  std::shuffle(distances.begin(), distances.end(), rng);
  for (std::size_t n = 0; n < distances.size(); ++n) {
    const TimestampNs ts = start + static_cast<TimestampNs>((n + 1) * (100 * kSec) / distances.size());
    est.add_trade(ts, distances[n]);
  }
}

TEST(IntensityEstimator, RecoversAAndKFromExactGeometricCounts) {
  IntensityEstimator est(100 * kSec, 10, 10);
  est.observe(0);
  add_geometric_trades(est, 0, 9.5);
  const auto f = est.fit(100 * kSec);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->trades, 1024u);
  EXPECT_EQ(f->points, 10u);
  EXPECT_DOUBLE_EQ(f->window_s, 100.0);
  EXPECT_NEAR(f->k, std::log(2.0), 1e-12);
  EXPECT_NEAR(f->A, 10.24, 1e-9);
  for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(est.cumulative_count(i), 1024u >> i);
}

TEST(IntensityEstimator, DistancesBeyondLastBinKeepCumulativeCountsExact) {
  IntensityEstimator est(100 * kSec, 10, 10);
  est.observe(0);
  add_geometric_trades(est, 0, 37.25);  // far beyond the last bin: counted in bin 9
  const auto f = est.fit(100 * kSec);
  ASSERT_TRUE(f);
  EXPECT_NEAR(f->k, std::log(2.0), 1e-12);
  EXPECT_NEAR(f->A, 10.24, 1e-9);
}

TEST(IntensityEstimator, RecoversAAndKFromSeededExponentialDistances) {
  // Poisson trades at rate A = 5 /s over 40,000 s with distances ~ Exp(k = 0.5 /tick):
  // #{d >= δ} / T = A e^{−kδ} in expectation. Deterministic: fixed seed, own inverse transform.
  const double A = 5.0, k = 0.5;
  const TimestampNs T = 40'000 * kSec;
  IntensityEstimator est(T, 16, 100);
  est.observe(0);
  std::mt19937_64 rng(20240808);
  const auto uniform = [&rng] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  double t = 0;
  for (;;) {
    t += -std::log1p(-uniform()) / A;
    if (t * 1e9 > static_cast<double>(T)) break;
    est.add_trade(static_cast<TimestampNs>(t * 1e9), -std::log1p(-uniform()) / k);
  }
  const auto f = est.fit(T);
  ASSERT_TRUE(f);
  EXPECT_NEAR(f->k, k, 0.01);
  EXPECT_NEAR(f->A / A, 1.0, 0.03);
}

TEST(IntensityEstimator, DropsTradesOlderThanTheWindow) {
  IntensityEstimator est(2 * kSec, 4, 1);
  est.observe(0);
  est.add_trade(1 * kSec, 0.5);
  est.add_trade(2 * kSec, 1.5);
  est.add_trade(3 * kSec, 2.5);
  // At 3.5 s the window is (1.5 s, 3.5 s]: the trade at 1 s is gone.
  const auto f = est.fit(3'500 * kMs);
  EXPECT_EQ(est.trades(), 2u);
  EXPECT_EQ(est.cumulative_count(0), 2u);
  EXPECT_EQ(est.cumulative_count(1), 2u);
  EXPECT_EQ(est.cumulative_count(2), 1u);
  EXPECT_EQ(est.cumulative_count(3), 0u);
  // Rates over 2 s: λ(0) = λ(1) = 1, λ(2) = 0.5: slope by hand over x = 0,1,2, y = 0,0,−ln2:
  // mean y = −ln2/3, Sxx = 2, Sxy = (1)(−ln2 + ln2/3) + (−1)(ln2/3) = −ln2 → k = ln2 / 2.
  ASSERT_TRUE(f);
  EXPECT_NEAR(f->k, std::log(2.0) / 2.0, 1e-12);
  EXPECT_NEAR(std::log(f->A), -std::log(2.0) / 3.0 + (std::log(2.0) / 2.0) * 1.0, 1e-12);
}

TEST(IntensityEstimator, RatesUseObservedTimeBeforeAFullWindow) {
  IntensityEstimator est(100 * kSec, 4, 1);
  est.observe(10 * kSec);
  for (int i = 0; i < 8; ++i) est.add_trade(20 * kSec, 0.2);
  for (int i = 0; i < 4; ++i) est.add_trade(30 * kSec, 1.2);
  const auto f = est.fit(50 * kSec);  // observed 40 s: λ(0) = 12/40, λ(1) = 4/40
  ASSERT_TRUE(f);
  EXPECT_DOUBLE_EQ(f->window_s, 40.0);
  EXPECT_NEAR(f->k, std::log(3.0), 1e-12);
  EXPECT_NEAR(f->A, 12.0 / 40.0, 1e-12);
}

TEST(IntensityEstimator, NeedsMinTradesAndTwoDistancesAndNegativesCountAtZero) {
  IntensityEstimator est(100 * kSec, 4, 3);
  est.observe(0);
  est.add_trade(1 * kSec, -0.7);  // clamped to distance 0
  est.add_trade(2 * kSec, 0.1);
  EXPECT_FALSE(est.fit(3 * kSec));  // 2 trades < 3
  est.add_trade(3 * kSec, 0.3);
  EXPECT_FALSE(est.fit(4 * kSec));  // one distance only
  EXPECT_EQ(est.cumulative_count(0), 3u);
  est.add_trade(4 * kSec, 1.0);
  EXPECT_TRUE(est.fit(5 * kSec));
}

TEST(RollingVolatility, MatchesHandComputedRealizedVolatility) {
  // Window 1 s, samples every 0.25 s: 4 increments kept.
  RollingVolatility v(1 * kSec, 250 * kMs, 4);
  v.update(0, 100);            // grid 0: 100
  v.update(100 * kMs, 101);
  v.update(300 * kMs, 102);    // grid 0.25 = 101: +1
  v.update(600 * kMs, 100);    // grid 0.50 = 102: +1
  EXPECT_EQ(v.samples(), 2u);
  EXPECT_FALSE(v.ready());
  EXPECT_NEAR(v.sigma(), std::sqrt(2.0 / (2 * 0.25)), 1e-12);
  v.update(1300 * kMs, 103);   // grid 0.75 = 100: −2; 1.00: 0; 1.25: 0
  // Increments +1 +1 −2 0 0, the last four kept: Σr² = 1 + 4 = 5 over 4 × 0.25 s.
  EXPECT_TRUE(v.ready());
  EXPECT_NEAR(v.sigma(), std::sqrt(5.0), 1e-12);
  v.advance(1600 * kMs);       // grid 1.50 = 103: +3 → −2 0 0 3
  EXPECT_NEAR(v.sigma(), std::sqrt(13.0), 1e-12);
  v.advance(1600 * kMs);       // nothing new
  EXPECT_NEAR(v.sigma(), std::sqrt(13.0), 1e-12);
}

TEST(RollingVolatility, LongQuietGapGivesZeroIncrements) {
  RollingVolatility v(1 * kSec, 250 * kMs, 1);
  v.update(0, 100);
  v.update(300 * kMs, 110);  // grid 0.25 = 100: 0
  v.update(600 * kMs, 110);  // grid 0.5 = 110: +10
  EXPECT_GT(v.sigma(), 0.0);
  v.update(3600 * kSec, 110);  // an hour later: all increments in the window are 0
  EXPECT_EQ(v.samples(), 4u);
  EXPECT_EQ(v.sigma(), 0.0);
}

TEST(EwmaVolatility, MatchesHandComputedWeightedMean) {
  // h = 1 s, half-life 1 s: decay d = 0.5 per sample; v = r² / 1 s.
  EwmaVolatility v(1 * kSec, 1 * kSec, 3);
  EXPECT_DOUBLE_EQ(v.decay(), 0.5);
  v.update(0, 10);
  v.update(500 * kMs, 12);
  v.update(1500 * kMs, 11);  // grid 1 = 12: r = 2, v = 4
  v.update(2500 * kMs, 11);  // grid 2 = 11: r = −1, v = 1
  EXPECT_FALSE(v.ready());
  EXPECT_NEAR(v.sigma() * v.sigma(), (0.5 * 4 + 1) / (0.5 + 1), 1e-12);  // 2
  v.advance(3500 * kMs);     // grid 3 = 11: r = 0
  EXPECT_TRUE(v.ready());
  EXPECT_NEAR(v.sigma() * v.sigma(), (0.25 * 4 + 0.5 * 1 + 0) / (0.25 + 0.5 + 1), 1e-12);  // 6/7
}

TEST(EwmaVolatility, ClosedFormZeroRunEqualsStepwise) {
  EwmaVolatility a(100 * kMs, 3 * kSec, 1), b(100 * kMs, 3 * kSec, 1);
  for (EwmaVolatility* v : {&a, &b}) {
    v->update(0, 50);
    v->update(150 * kMs, 53);
    v->update(250 * kMs, 51);
  }
  a.advance(250 * kMs + 200 * 100 * kMs);  // one jump: 200 zero increments in closed form
  for (int i = 1; i <= 200; ++i) b.advance(250 * kMs + i * 100 * kMs);  // stepwise
  EXPECT_EQ(a.samples(), b.samples());
  EXPECT_NEAR(a.sigma(), b.sigma(), 1e-12 * std::max(1.0, b.sigma()));
  EXPECT_GT(a.sigma(), 0.0);
}

// =============================================================================================
// Model closed forms

TEST(AvellanedaStoikov, ClosedFormMatchesHandCalculation) {
  // s = 100, q = 2, γ = 0.1, σ = 2, T−t = 30, k = 1.5:
  // r = 100 − 2·0.1·4·30 = 76; spread = 0.1·4·30 + (2/0.1)·ln(1 + 0.1/1.5) = 12 + 1.290770...
  const AsQuote a = avellaneda_stoikov_quote(100, 2, 0.1, 2, 30, 1.5);
  EXPECT_NEAR(a.reservation, 76.0, 1e-12);
  EXPECT_NEAR(a.spread, 13.290770422751423, 1e-12);
  EXPECT_NEAR(a.bid, 76.0 - 13.290770422751423 / 2, 1e-12);
  EXPECT_NEAR(a.ask, 76.0 + 13.290770422751423 / 2, 1e-12);
}

TEST(AvellanedaStoikov, KForSpreadInvertsTheLiquidityTerm) {
  for (double gamma : {0.01, 0.5, 3.0}) {
    for (double spread : {0.01, 0.15, 2.0}) {
      const double k = as_k_for_spread(gamma, spread);
      EXPECT_NEAR((2.0 / gamma) * std::log(1.0 + gamma / k), spread, 1e-12 * std::max(1.0, spread));
    }
  }
}

TEST(AvellanedaStoikov, QuotesReservationPriceAndSpreadOnTheGrid) {
  // γ = 2 /$, σ = 0.05 $/√s, rolling T−t = 60 s, k = 20 /$, mid $100.00, order_qty 100 shares.
  const double gamma = 2, sigma = 0.05, tau = 60, k = 20, s = 100.0;
  for (double q : {0.0, 1.0, -1.0, 2.5}) {
    AvellanedaStoikovParams p;
    p.gamma = gamma;
    p.sigma = sigma;
    p.k = k;
    p.horizon_s = tau;
    p.quoting.order_qty = 100;
    p.quoting.max_position = 1000;
    AvellanedaStoikov st(p, equity_spec(), MarketProfile{});
    MockContext ctx(equity_spec());
    ctx.mbook.set(px(99.50), px(100.50));
    ctx.pos = static_cast<Qty>(q * 100);
    st.on_book_update(ctx);
    // Independent closed form (decimal price), then the grid: bid down, ask up to $0.01.
    const double r = s - q * gamma * sigma * sigma * tau;
    const double spread = gamma * sigma * sigma * tau + (2 / gamma) * std::log(1 + gamma / k);
    const double want_bid = floor_tick((r - spread / 2) * 10000, 100);
    // Passive side: at q = 2.5 the model ask (99.4476) is below the best bid: best bid + tick.
    const double want_ask = std::max(ceil_tick((r + spread / 2) * 10000, 100),
                                     static_cast<double>(px(99.50) + 100));
    EXPECT_NEAR(st.last_quote().reservation, r, 1e-9);
    EXPECT_NEAR(st.last_quote().spread, spread, 1e-9);
    const auto bids = ctx.on(kBid), asks = ctx.on(kAsk);
    ASSERT_EQ(bids.size(), 1u) << "q=" << q;
    ASSERT_EQ(asks.size(), 1u) << "q=" << q;
    EXPECT_EQ(static_cast<double>(bids[0].price), want_bid) << "q=" << q;
    EXPECT_EQ(static_cast<double>(asks[0].price), want_ask) << "q=" << q;
    EXPECT_EQ(bids[0].qty, 100);
    EXPECT_EQ(bids[0].tif, TimeInForce::kPostOnly);
  }
}

TEST(AvellanedaStoikov, FiniteHorizonUsesTimeToTheEnd) {
  AvellanedaStoikovParams p;
  p.gamma = 2;
  p.sigma = 0.05;
  p.k = 20;
  p.horizon = "finite";
  p.horizon_s = 100;
  p.quoting.order_qty = 100;
  AvellanedaStoikov st(p, equity_spec(), MarketProfile{});
  MockContext ctx(equity_spec());
  ctx.mbook.set(px(99.50), px(100.50));
  ctx.pos = 100;  // q = 1
  st.on_book_update(ctx);  // T − t = 100 s
  EXPECT_NEAR(st.last_quote().reservation, 100 - 2 * 0.0025 * 100, 1e-9);
  ctx.now_ns += 40 * kSec;  // T − t = 60 s
  st.on_book_update(ctx);
  EXPECT_NEAR(st.last_quote().reservation, 100 - 2 * 0.0025 * 60, 1e-9);
  EXPECT_NEAR(st.last_quote().spread, 2 * 0.0025 * 60 + std::log(1 + 0.1), 1e-9);
  ctx.now_ns += 200 * kSec;  // past T: T − t = 0, only the liquidity term
  st.on_book_update(ctx);
  EXPECT_NEAR(st.last_quote().reservation, 100, 1e-9);
  EXPECT_NEAR(st.last_quote().spread, std::log(1 + 0.1), 1e-9);
}

TEST(AvellanedaStoikov, AutoGammaAndKQuoteTheMeanSpreadAndSkewHalfASpreadPerUnit) {
  // σ given, γ and k auto, S the mean market spread: γ = S / (2σ²τ0), and k such that the
  // liquidity term (2/γ) ln(1 + γ/k) is S − γσ²τ0 = S/2: zero-inventory spread S.
  MarketProfile prof;
  prof.mean_spread = 1500;  // $0.15
  prof.median_trade_qty = 100;
  AvellanedaStoikovParams p;
  p.sigma = 0.05;
  p.horizon_s = 60;
  AvellanedaStoikov st(p, equity_spec(), prof);
  const double S = 0.15, gamma = S / (2 * 0.0025 * 60);  // 0.5 /$
  EXPECT_NEAR(st.gamma(), gamma, 1e-12);
  EXPECT_NEAR(st.k(), gamma / (std::exp(gamma * (S / 2) / 2) - 1), 1e-9);
  MockContext ctx(equity_spec());
  ctx.mbook.set(px(99.00), px(101.00));
  st.on_book_update(ctx);
  EXPECT_NEAR(st.last_quote().reservation, 100, 1e-9);
  EXPECT_NEAR(st.last_quote().spread, S, 1e-9);
  ctx.pos = 100;  // q = 1 (order_qty from the profile: 100 shares)
  ctx.now_ns += kSec;
  st.on_book_update(ctx);
  EXPECT_NEAR(st.last_quote().reservation, 100 - S / 2, 1e-9);
  EXPECT_NEAR(st.last_quote().spread, S, 1e-9);
  const Params rp = st.resolved_params();
  EXPECT_NEAR(std::get<double>(rp.at("gamma")), gamma, 1e-12);
  EXPECT_NEAR(std::get<double>(rp.at("k")), st.k(), 1e-12);
  EXPECT_DOUBLE_EQ(std::get<double>(rp.at("order_qty")), 100.0);
  // A given γ larger than the default: the liquidity term stays at S/2 at least.
  p.gamma = 4.0;  // γσ²τ0 = 0.6 > S
  AvellanedaStoikov big(p, equity_spec(), prof);
  EXPECT_NEAR(big.k(), 4.0 / std::expm1(4.0 * (S / 2) / 2), 1e-9);
  // σ auto: nothing is resolved before the estimate.
  AvellanedaStoikovParams q;
  AvellanedaStoikov lazy(q, equity_spec(), prof);
  EXPECT_TRUE(std::isnan(lazy.gamma()));
  EXPECT_TRUE(std::isnan(lazy.k()));
}

TEST(AvellanedaStoikov, NoQuotesUntilSigmaIsEstimatedThenEwma) {
  AvellanedaStoikovParams p;
  p.gamma = 2;
  p.k = 20;
  p.sigma_half_life_s = 1;   // ready after 1 s of 100 ms samples (10 increments)
  p.sigma_sample_ms = 100;
  p.quoting.order_qty = 100;
  p.quoting.min_requote_interval_ms = 0;
  AvellanedaStoikov st(p, equity_spec(), MarketProfile{});
  MockContext ctx(equity_spec());
  EwmaVolatility ref(100 * kMs, 1 * kSec, 10);
  for (int i = 0; i <= 10; ++i) {
    // Mid alternates $100.00 / $100.01 every 100 ms.
    const Price shift = (i % 2) * 100;
    ctx.mbook.set(px(99.50) + shift, px(100.50) + shift);
    ctx.now_ns = kT0 + i * 100 * kMs;
    st.on_book_update(ctx);
    ref.update(ctx.now_ns, (static_cast<double>(px(100.00) + shift)) / 10000.0);
    if (i < 10) {
      EXPECT_TRUE(ctx.orders.empty()) << "quoted during warm-up at i=" << i;
    }
  }
  EXPECT_TRUE(std::isnan(st.sigma()));
  ctx.now_ns += 100 * kMs;
  st.on_book_update(ctx);  // the 10th increment is emitted: ready
  ref.update(ctx.now_ns, static_cast<double>(px(100.00)) / 10000.0);
  ASSERT_TRUE(ref.ready());
  EXPECT_NEAR(st.sigma(), ref.sigma(), 1e-12);
  // Every increment is ±$0.01 over 0.1 s: σ² = 1e-4 / 0.1 = 1e-3 $²/s exactly.
  EXPECT_NEAR(st.sigma(), std::sqrt(1e-3), 1e-12);
  EXPECT_EQ(ctx.on(kBid).size(), 1u);
  EXPECT_EQ(ctx.on(kAsk).size(), 1u);
}

TEST(Glft, CoefficientsMatchHandCalculation) {
  // γ = ξ = 0.05 /tick, Δ = 1, A = 2 /s, k = 0.5 /tick:
  // c1 = ln(1.1)/0.05 = 1.906203596..., c2 = sqrt(0.05/2 · 1.1^11) = 0.267072869...
  const GlftCoefficients c = glft_coefficients(0.05, 1, 2, 0.5);
  EXPECT_NEAR(c.c1, 1.9062035960864987, 1e-12);
  EXPECT_NEAR(c.c2, 0.26707286955576387, 1e-12);
  const GlftQuote g = glft_quote(c, 3.0, 0.0, 1.0);
  EXPECT_NEAR(g.half_spread, 1.9062035960864987 + 0.5 * 3 * 0.26707286955576387, 1e-12);
  EXPECT_NEAR(g.skew, 3 * 0.26707286955576387, 1e-12);
  // Δ ≠ 1: c1 = ln(1 + ξΔ/k)/(ξΔ), c2 = sqrt(γ/(2AΔk) (1 + ξΔ/k)^(k/(ξΔ)+1)).
  const GlftCoefficients c2 = glft_coefficients(0.1, 2, 1.5, 0.8);
  EXPECT_NEAR(c2.c1, std::log(1 + 0.2 / 0.8) / 0.2, 1e-12);
  EXPECT_NEAR(c2.c2, std::sqrt(0.1 / (2 * 1.5 * 2 * 0.8) * std::pow(1.25, 0.8 / 0.2 + 1)), 1e-12);
}

TEST(Glft, QuotesMatchClosedFormAtZeroAndUnitInventory) {
  const double gamma = 0.05, A = 2, k = 0.5, sigma = 3;
  const double c1 = std::log(1 + gamma / k) / gamma;
  const double c2 = std::sqrt(gamma / (2 * A * k) * std::pow(1 + gamma / k, k / gamma + 1));
  for (double q : {0.0, 1.0, -1.0}) {
    GlftParams p;
    p.gamma = gamma;
    p.A = A;
    p.k = k;
    p.sigma = sigma;
    p.quoting.order_qty = 100;
    Glft st(p, equity_spec(), MarketProfile{});
    MockContext ctx(equity_spec());
    ctx.mbook.set(px(99.80), px(100.20));  // mid 10,000 ticks
    ctx.pos = static_cast<Qty>(q * 100);
    st.on_book_update(ctx);
    const double bid_depth = c1 + 0.5 * sigma * c2 + q * sigma * c2;
    const double ask_depth = c1 + 0.5 * sigma * c2 - q * sigma * c2;
    EXPECT_NEAR(st.last_quote().bid_depth, bid_depth, 1e-12);
    EXPECT_NEAR(st.last_quote().ask_depth, ask_depth, 1e-12);
    const auto bids = ctx.on(kBid), asks = ctx.on(kAsk);
    ASSERT_EQ(bids.size(), 1u);
    ASSERT_EQ(asks.size(), 1u);
    EXPECT_EQ(bids[0].price, static_cast<Price>(std::floor(10000 - bid_depth)) * 100) << "q=" << q;
    EXPECT_EQ(asks[0].price, static_cast<Price>(std::ceil(10000 + ask_depth)) * 100) << "q=" << q;
  }
  // Hand values (q = 0: depths 2.3068; q = 1: 3.1080 / 1.5056): 99.97/100.03, 99.96/100.02.
  GlftParams p;
  p.gamma = gamma;
  p.A = A;
  p.k = k;
  p.sigma = sigma;
  p.quoting.order_qty = 100;
  Glft st(p, equity_spec(), MarketProfile{});
  MockContext ctx(equity_spec());
  ctx.mbook.set(px(99.80), px(100.20));
  ctx.pos = 100;
  st.on_book_update(ctx);
  EXPECT_EQ(ctx.on(kBid)[0].price, px(99.96));
  EXPECT_EQ(ctx.on(kAsk)[0].price, px(100.02));
}

TEST(Glft, CalibratesAAndKFromTradePrintsOnline) {
  GlftParams p;
  p.gamma = 0.05;
  p.sigma = 2;
  p.calibration_window_s = 100;
  p.calibration_min_trades = 100;
  p.calibration_max_ticks = 10;
  p.quoting.order_qty = 100;
  MarketProfile prof;
  prof.trades_per_second = 3;
  prof.mean_spread = 400;  // 4 ticks
  Glft st(p, equity_spec(), prof);
  EXPECT_DOUBLE_EQ(st.A(), 1.5);  // warm-up: trades/s / 2
  EXPECT_DOUBLE_EQ(st.k(), 0.5);  // 2 / (mean spread in ticks)
  MockContext ctx(equity_spec());
  ctx.mbook.set(px(99.99), px(100.00));  // mid 9999.5 ticks
  ctx.now_ns = kT0;
  st.on_book_update(ctx);
  EXPECT_FALSE(st.calibrated());
  // Buyer-initiated prints at $100.00 + i ticks are i + 0.5 ticks from the mid; cumulative
  // counts 1024 / 2^i over 100 s -> A = 10.24 /s, k = ln 2 /tick.
  std::vector<int> bins;
  for (int i = 0; i < 10; ++i) {
    const int exact = (i < 9) ? (1024 >> i) - (1024 >> (i + 1)) : 2;
    for (int j = 0; j < exact; ++j) bins.push_back(i);
  }
  std::mt19937_64 rng(3);
  std::shuffle(bins.begin(), bins.end(), rng);
  for (std::size_t n = 0; n < bins.size(); ++n) {
    ctx.now_ns = kT0 + static_cast<TimestampNs>((n + 1) * (100 * kSec) / bins.size());
    TradeView t;
    t.price = px(100.00) + bins[n] * 100;
    t.qty = 1;
    t.side = kBid;
    st.on_trade(ctx, t);
  }
  ctx.now_ns = kT0 + 100 * kSec;
  st.on_book_update(ctx);
  ASSERT_TRUE(st.calibrated());
  EXPECT_NEAR(st.k(), std::log(2.0), 1e-9);
  EXPECT_NEAR(st.A(), 10.24, 1e-6);
  const GlftQuote g = glft_quote(glft_coefficients(0.05, 1, 10.24, std::log(2.0)), 2, 0, 1);
  EXPECT_NEAR(st.last_quote().half_spread, g.half_spread, 1e-6);
  EXPECT_EQ(ctx.on(kBid)[0].price, static_cast<Price>(std::floor(9999.5 - g.bid_depth)) * 100);
  EXPECT_EQ(ctx.on(kAsk)[0].price, static_cast<Price>(std::ceil(9999.5 + g.ask_depth)) * 100);
}

TEST(Glft, NoQuotesUntilVolatilityIsKnown) {
  GlftParams p;
  p.vol_window_s = 5;
  p.vol_sample_ms = 500;  // ready after 5 s / 0.5 s = 10 increments
  p.quoting.order_qty = 100;
  p.quoting.min_requote_interval_ms = 0;
  Glft st(p, equity_spec(), MarketProfile{});
  MockContext ctx(equity_spec());
  ctx.mbook.set(px(99.99), px(100.01));
  for (int i = 0; i <= 10; ++i) {
    ctx.now_ns = kT0 + i * 500 * kMs;
    st.on_book_update(ctx);
    EXPECT_TRUE(ctx.orders.empty());
  }
  ctx.now_ns += 1;
  st.on_book_update(ctx);
  EXPECT_EQ(st.sigma(), 0.0);  // a flat mid: σ = 0
  EXPECT_EQ(ctx.on(kBid).size(), 1u);
}

// =============================================================================================
// The quoting rules

TEST(QuoteLevels, BidRoundsDownAskRoundsUpToTheTick) {
  QuotingSettings s;
  s.order_qty = 5;
  s.max_position = 50;
  std::vector<QuoteLevel> b, a;
  const book::Level bb{px(99.00), 1, 1}, ba{px(101.00), 1, 1};
  build_quote_levels(px(99.9999) + 0.4, px(100.0001) - 0.2, 1, 1, bb, ba, 0, s, equity_spec(), b, a);
  ASSERT_EQ(b.size(), 1u);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(b[0], (QuoteLevel{px(99.99), 5}));
  EXPECT_EQ(a[0], (QuoteLevel{px(100.01), 5}));
  // Values on the grid up to floating error stay on their tick.
  build_quote_levels(999999.99999999, 1000100.0000001, 1, 1, bb, ba, 0, s, equity_spec(), b, a);
  EXPECT_EQ(b[0].price, 1000000);
  EXPECT_EQ(a[0].price, 1000100);
}

TEST(QuoteLevels, ClampedToThePassiveSideOfTheOppositeBest) {
  QuotingSettings s;
  s.order_qty = 1;
  s.max_position = 10;
  std::vector<QuoteLevel> b, a;
  const book::Level bb{px(100.00), 1, 1}, ba{px(100.05), 1, 1};
  // Model bid through the best ask, model ask through the best bid.
  build_quote_levels(px(100.20), px(100.30), 2, 1, bb, ba, 0, s, equity_spec(), b, a);
  EXPECT_EQ(b[0].price, px(100.04));
  EXPECT_EQ(b[1].price, px(100.03));
  EXPECT_EQ(a[0].price, px(100.30));
  build_quote_levels(px(99.50), px(99.60), 1, 1, bb, ba, 0, s, equity_spec(), b, a);
  EXPECT_EQ(b[0].price, px(99.50));
  EXPECT_EQ(a[0].price, px(100.01));
  // Both model prices collapse on one tick: the ask moves up one tick.
  build_quote_levels(px(100.02), px(100.02), 1, 1, bb, ba, 0, s, equity_spec(), b, a);
  EXPECT_EQ(b[0].price, px(100.02));
  EXPECT_EQ(a[0].price, px(100.03));
}

TEST(QuoteLevels, RandomModelPricesAreOnTheGridPassiveAndNeverCrossed) {
  QuotingSettings s;
  s.order_qty = 3;
  s.max_position = 1000;
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> U(-1, 1);
  std::vector<QuoteLevel> b, a;
  const InstrumentSpec spec = equity_spec();
  for (int n = 0; n < 20000; ++n) {
    const Price bb = px(100.00) + static_cast<Price>(std::llround(U(rng) * 20)) * 100;
    const Price ba = bb + (1 + static_cast<Price>(std::llround(std::fabs(U(rng)) * 5))) * 100;
    const double center = static_cast<double>(bb) + U(rng) * 3000;
    const double half = std::fabs(U(rng)) * 1500;
    const double skew = U(rng) * 2000;
    build_quote_levels(center - half + skew, center + half + skew, 3, 2, {bb, 1, 1}, {ba, 1, 1}, 0,
                       s, spec, b, a);
    ASSERT_EQ(b.size(), 3u);
    ASSERT_EQ(a.size(), 3u);
    for (const auto& l : b) {
      ASSERT_EQ(l.price % 100, 0);
      ASSERT_LT(l.price, ba);
    }
    for (const auto& l : a) {
      ASSERT_EQ(l.price % 100, 0);
      ASSERT_GT(l.price, bb);
    }
    ASSERT_LT(b[0].price, a[0].price);
    ASSERT_EQ(b[0].price - b[1].price, 200);
    ASSERT_EQ(a[1].price - a[0].price, 200);
  }
}

TEST(QuoteLevels, PositionLimitStopsTheSideThatWouldExceedIt) {
  QuotingSettings s;
  s.order_qty = 10;
  s.max_position = 30;
  std::vector<QuoteLevel> b, a;
  const book::Level bb{px(99.00), 1, 1}, ba{px(101.00), 1, 1};
  build_quote_levels(px(99.50), px(100.50), 2, 1, bb, ba, 30, s, equity_spec(), b, a);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(a.size(), 2u);
  build_quote_levels(px(99.50), px(100.50), 2, 1, bb, ba, -30, s, equity_spec(), b, a);
  EXPECT_EQ(b.size(), 2u);
  EXPECT_TRUE(a.empty());
  // 15 of room: first bid level 10, second 5, no third.
  build_quote_levels(px(99.50), px(100.50), 3, 1, bb, ba, 15, s, equity_spec(), b, a);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].qty, 10);
  EXPECT_EQ(b[1].qty, 5);
  EXPECT_EQ(a.size(), 3u);
}

TEST(QuoteLevels, SizesAreCutToTheLot) {
  InstrumentSpec spec = crypto_spec();
  spec.lot_size = 5;  // 0.005
  QuotingSettings s;
  s.order_qty = 20;
  s.max_position = 32;
  std::vector<QuoteLevel> b, a;
  build_quote_levels(995, 1005, 3, 1, {990, 1, 1}, {1010, 1, 1}, 0, s, spec, b, a);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].qty, 20);
  EXPECT_EQ(b[1].qty, 10);  // 12 of room, cut to the lot of 5
}

SpreadQuoterParams fixed_spread_params(double min_spread_ticks, double skew = 0) {
  SpreadQuoterParams p;
  p.min_spread_ticks = min_spread_ticks;
  p.vol_multiplier = 0;
  p.skew_per_lot = skew;
  p.quoting.order_qty = 100;
  p.quoting.max_position = 1000;
  return p;
}

TEST(SpreadQuoter, LevelsSpacingAndInventorySkew) {
  SpreadQuoterParams p = fixed_spread_params(4, 1);
  p.levels = 3;
  p.level_spacing_ticks = 2;
  SpreadQuoter st(p, equity_spec(), MarketProfile{});
  MockContext ctx(equity_spec());
  ctx.mbook.set(px(99.95), px(100.05));
  ctx.pos = 200;  // q = 2: center = mid − 2 ticks
  st.on_book_update(ctx);
  const auto b = ctx.on(kBid), a = ctx.on(kAsk);
  ASSERT_EQ(b.size(), 3u);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(b[0].price, px(99.96));
  EXPECT_EQ(b[1].price, px(99.94));
  EXPECT_EQ(b[2].price, px(99.92));
  EXPECT_EQ(a[0].price, px(100.00));
  EXPECT_EQ(a[1].price, px(100.02));
  EXPECT_EQ(a[2].price, px(100.04));
  for (const auto& o : b) EXPECT_EQ(o.qty, 100);
  // Short 3: center = mid + 3 ticks; the bid at 100.01 is still below the best ask.
  MockContext c2(equity_spec());
  c2.mbook.set(px(99.95), px(100.05));
  c2.pos = -300;
  SpreadQuoter s2(p, equity_spec(), MarketProfile{});
  s2.on_book_update(c2);
  EXPECT_EQ(c2.on(kBid)[0].price, px(100.01));
  EXPECT_EQ(c2.on(kAsk)[0].price, px(100.05));
}

TEST(SpreadQuoter, SpreadFollowsVolatilityTimesMultiplier) {
  SpreadQuoterParams p;
  p.min_spread_ticks = 2;
  p.vol_multiplier = 1;   // √s
  p.skew_per_lot = 0;
  p.vol_window_s = 2;
  p.vol_sample_ms = 100;  // ready after min(10 s, 2 s) = 20 increments
  p.quoting.order_qty = 100;
  p.quoting.min_requote_interval_ms = 0;
  SpreadQuoter st(p, equity_spec(), MarketProfile{});
  MockContext ctx(equity_spec());
  // The mid alternates by one tick every 100 ms: each increment ±1 tick, σ = sqrt(1/0.1) ticks/√s.
  for (int i = 0; i <= 21; ++i) {
    const Price shift = (i % 2) * 100;
    ctx.mbook.set(px(99.90) + shift, px(100.10) + shift);
    ctx.now_ns = kT0 + i * 100 * kMs;
    st.on_book_update(ctx);
    if (i < 20) {
      EXPECT_TRUE(ctx.orders.empty()) << i;
    }
  }
  EXPECT_NEAR(st.sigma_ticks(), std::sqrt(10.0), 1e-12);
  // i = 21: mid = 100.01 (10001 ticks); spread = max(2, 3.1623) ticks.
  const double half = std::sqrt(10.0) / 2;
  EXPECT_EQ(ctx.on(kBid)[0].price, static_cast<Price>(std::floor(10001 - half)) * 100);
  EXPECT_EQ(ctx.on(kAsk)[0].price, static_cast<Price>(std::ceil(10001 + half)) * 100);
}

TEST(SpreadQuoter, AtThePositionLimitQuotesOnlyTheReducingSide) {
  SpreadQuoter st(fixed_spread_params(2), equity_spec(), MarketProfile{});
  MockContext ctx(equity_spec());
  ctx.mbook.set(px(99.95), px(100.05));
  st.on_book_update(ctx);
  ASSERT_EQ(ctx.on(kBid).size(), 1u);
  const ClientOrderId bid_id = ctx.on(kBid)[0].id;
  // Filled up to the limit: the next requote cancels the bid and keeps the ask.
  ctx.pos = 900;
  st.on_fill(ctx, ctx.fill(bid_id, 100));
  ctx.take();
  ctx.now_ns += 1 * kMs;
  st.on_book_update(ctx);
  EXPECT_TRUE(ctx.on(kBid).empty());
  EXPECT_EQ(ctx.on(kAsk).size(), 1u);
  EXPECT_EQ(count(ctx.take(), Action::kSubmit), 0u);
}

TEST(QuoteManager, KeepsOrdersWithinTheRequoteThreshold) {
  SpreadQuoterParams p = fixed_spread_params(2);
  p.quoting.requote_threshold_ticks = 2;
  p.quoting.min_requote_interval_ms = 0;
  SpreadQuoter st(p, equity_spec(), MarketProfile{});
  MockContext ctx(equity_spec());
  ctx.mbook.set(px(99.90), px(100.10));
  st.on_book_update(ctx);
  EXPECT_EQ(count(ctx.take(), Action::kSubmit), 2u);
  ctx.mbook.set(px(99.91), px(100.11));  // wanted quotes move 1 tick < 2: no message
  ctx.now_ns += 1;
  st.on_book_update(ctx);
  EXPECT_TRUE(ctx.take().empty());
  ctx.mbook.set(px(99.92), px(100.12));  // 2 ticks from the resting orders: both move
  ctx.now_ns += 1;
  st.on_book_update(ctx);
  const auto acts = ctx.take();
  EXPECT_EQ(count(acts, Action::kModify), 2u);
  EXPECT_EQ(count(acts, Action::kSubmit), 0u);
  EXPECT_EQ(ctx.on(kBid)[0].price, px(100.01));
  EXPECT_EQ(ctx.on(kAsk)[0].price, px(100.03));
}

TEST(QuoteManager, CancelAndNewWhenModifyIsDisabled) {
  SpreadQuoterParams p = fixed_spread_params(2);
  p.quoting.requote_with_modify = false;
  p.quoting.post_only = false;
  p.quoting.min_requote_interval_ms = 0;
  SpreadQuoter st(p, equity_spec(), MarketProfile{});
  MockContext ctx(equity_spec());
  ctx.mbook.set(px(99.90), px(100.10));
  st.on_book_update(ctx);
  auto acts = ctx.take();
  ASSERT_EQ(acts.size(), 2u);
  EXPECT_EQ(acts[0].tif, TimeInForce::kGtc);
  ctx.mbook.set(px(99.95), px(100.15));
  ctx.now_ns += 1;
  st.on_book_update(ctx);
  acts = ctx.take();
  EXPECT_EQ(count(acts, Action::kCancel), 2u);
  EXPECT_EQ(count(acts, Action::kSubmit), 2u);
  EXPECT_EQ(count(acts, Action::kModify), 0u);
  EXPECT_EQ(ctx.orders.size(), 2u);
}

TEST(QuoteManager, BookRequotesAreThrottledButAFillForcesTheNextOne) {
  SpreadQuoterParams p = fixed_spread_params(2);
  p.quoting.min_requote_interval_ms = 100;
  SpreadQuoter st(p, equity_spec(), MarketProfile{});
  MockContext ctx(equity_spec());
  ctx.mbook.set(px(99.90), px(100.10));
  st.on_book_update(ctx);
  ctx.take();
  ctx.mbook.set(px(99.95), px(100.15));
  ctx.now_ns += 50 * kMs;
  st.on_book_update(ctx);
  EXPECT_TRUE(ctx.take().empty());  // within 100 ms of the last requote
  ctx.now_ns += 50 * kMs;
  st.on_book_update(ctx);
  EXPECT_EQ(count(ctx.take(), Action::kModify), 2u);
  EXPECT_EQ(st.requotes(), 2u);
  ctx.pos = 100;
  st.on_fill(ctx, ctx.fill(ctx.on(kBid)[0].id, 100));
  ctx.now_ns += 1 * kMs;
  st.on_book_update(ctx);  // 1 ms later, but a fill happened: requote (new bid)
  EXPECT_EQ(count(ctx.take(), Action::kSubmit), 1u);
  EXPECT_EQ(st.requotes(), 3u);
}

TEST(QuoteManager, TimerTriggerRequotesOnlyOnTimer) {
  SpreadQuoterParams p = fixed_spread_params(2);
  p.quoting.requote_on = "timer";
  SpreadQuoter st(p, equity_spec(), MarketProfile{});
  MockContext ctx(equity_spec());
  ctx.mbook.set(px(99.90), px(100.10));
  st.on_book_update(ctx);
  EXPECT_TRUE(ctx.take().empty());
  st.on_timer(ctx);
  EXPECT_EQ(count(ctx.take(), Action::kSubmit), 2u);
}

TEST(QuoteManager, PostOnlyRejectionIsRetriedAtTheNextRequote) {
  SpreadQuoterParams p = fixed_spread_params(2);
  p.quoting.min_requote_interval_ms = 0;
  SpreadQuoter st(p, equity_spec(), MarketProfile{});
  MockContext ctx(equity_spec());
  ctx.mbook.set(px(99.90), px(100.10));
  st.on_book_update(ctx);
  ctx.take();
  ctx.reject(ctx.on(kBid)[0].id, RejectReason::kPostOnlyWouldCross, st);
  ctx.now_ns += 1;
  st.on_book_update(ctx);
  const auto acts = ctx.take();
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(acts[0].kind, Action::kSubmit);
  EXPECT_EQ(acts[0].side, kBid);
  EXPECT_EQ(acts[0].price, px(99.99));
}

TEST(QuoteManager, RiskRejectionPausesThatSideForOneSecond) {
  SpreadQuoterParams p = fixed_spread_params(2);
  p.quoting.min_requote_interval_ms = 0;
  SpreadQuoter st(p, equity_spec(), MarketProfile{});
  MockContext ctx(equity_spec());
  ctx.mbook.set(px(99.90), px(100.10));
  st.on_book_update(ctx);
  ctx.take();
  ctx.reject(ctx.on(kAsk)[0].id, RejectReason::kRiskMaxOpenOrders, st);
  ctx.now_ns += 500 * kMs;
  st.on_book_update(ctx);
  EXPECT_TRUE(ctx.take().empty());
  EXPECT_TRUE(ctx.on(kAsk).empty());
  ctx.now_ns += 500 * kMs;
  st.on_book_update(ctx);
  const auto acts = ctx.take();
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(acts[0].side, kAsk);
}

TEST(QuoteManager, OrdersInFlightAreNotDuplicatedOrTouched) {
  SpreadQuoterParams p = fixed_spread_params(2);
  p.quoting.min_requote_interval_ms = 0;
  p.levels = 2;
  SpreadQuoter st(p, equity_spec(), MarketProfile{});
  MockContext ctx(equity_spec());
  ctx.ack = false;
  ctx.mbook.set(px(99.90), px(100.10));
  st.on_book_update(ctx);
  EXPECT_EQ(count(ctx.take(), Action::kSubmit), 4u);
  for (int i = 0; i < 5; ++i) {  // pending: the market moves, nothing is sent
    ctx.mbook.set(px(99.90) + (i + 1) * 300, px(100.10) + (i + 1) * 300);
    ctx.now_ns += 1;
    st.on_book_update(ctx);
    EXPECT_TRUE(ctx.take().empty());
  }
  ctx.ack_all();
  ctx.now_ns += 1;
  st.on_book_update(ctx);
  const auto acts = ctx.take();
  EXPECT_EQ(count(acts, Action::kModify), 4u);
  EXPECT_EQ(count(acts, Action::kSubmit), 0u);
  EXPECT_EQ(ctx.orders.size(), 4u);
  // A modify in flight holds its level too.
  ctx.mbook.set(px(99.90), px(100.10));
  ctx.now_ns += 1;
  st.on_book_update(ctx);
  EXPECT_TRUE(ctx.take().empty());
}

TEST(QuoteManager, OversizedOrderIsReducedInPlace) {
  // Position grows while an order rests: its size is cut with a modify (priority kept).
  SpreadQuoterParams p = fixed_spread_params(2);
  p.quoting.min_requote_interval_ms = 0;
  p.quoting.max_position = 150;
  SpreadQuoter st(p, equity_spec(), MarketProfile{});
  MockContext ctx(equity_spec());
  ctx.mbook.set(px(99.90), px(100.10));
  st.on_book_update(ctx);
  ctx.take();
  ctx.pos = 80;  // e.g. a fill elsewhere: room 70 on the bid
  ctx.now_ns += 1;
  st.on_book_update(ctx);
  const auto acts = ctx.take();
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(acts[0].kind, Action::kModify);
  EXPECT_EQ(acts[0].price, px(99.99));
  EXPECT_EQ(acts[0].qty, 70);
}

TEST(QuoteManager, OneSidedOrCrossedBookLeavesOrdersAlone) {
  SpreadQuoter st(fixed_spread_params(2), equity_spec(), MarketProfile{});
  MockContext ctx(equity_spec());
  ctx.mbook.bids.clear();
  ctx.mbook.asks.assign(1, book::Level{px(100.10), 1, 1});
  st.on_book_update(ctx);
  EXPECT_TRUE(ctx.take().empty());
  ctx.mbook.set(px(100.20), px(100.10));
  ctx.now_ns += kSec;
  st.on_book_update(ctx);
  EXPECT_TRUE(ctx.take().empty());
}

// =============================================================================================
// Order list

TEST(OrderList, ParsesEveryField) {
  const std::string path = write_file("orders_ok.csv",
                                      "ts_ns,side,price,qty,type,tif\n"
                                      "1000,buy,580.12,100,limit,post_only\n"
                                      "1000,sell,580.2,5,limit,\n"
                                      "2000,sell,,30,market,ioc\n"
                                      "2500,buy,581,1,limit,fok\n"
                                      "3000,buy,0,7,market,gtc\n");
  const auto v = read_order_list(path, equity_spec());
  ASSERT_EQ(v.size(), 5u);
  EXPECT_EQ(v[0].ts_ns, 1000);
  EXPECT_EQ(v[0].request.side, kBid);
  EXPECT_EQ(v[0].request.price, 5801200);
  EXPECT_EQ(v[0].request.qty, 100);
  EXPECT_EQ(v[0].request.type, OrderType::kLimit);
  EXPECT_EQ(v[0].request.tif, TimeInForce::kPostOnly);
  EXPECT_EQ(v[0].line, 2u);
  EXPECT_EQ(v[1].request.side, kAsk);
  EXPECT_EQ(v[1].request.price, 5802000);
  EXPECT_EQ(v[1].request.tif, TimeInForce::kGtc);
  EXPECT_EQ(v[2].request.type, OrderType::kMarket);
  EXPECT_EQ(v[2].request.price, kNoPrice);
  EXPECT_EQ(v[2].request.tif, TimeInForce::kIoc);
  EXPECT_EQ(v[3].request.tif, TimeInForce::kFok);
  EXPECT_EQ(v[3].request.price, 5810000);
  EXPECT_EQ(v[4].request.price, kNoPrice);

  // Five-column header: tif defaults to gtc; decimal quantities on a crypto lot.
  const std::string p2 = write_file("orders_5.csv", "ts_ns,side,price,qty,type\n5,sell,61800.3,0.015,limit\n");
  const auto w = read_order_list(p2, crypto_spec());
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].request.price, 618003);
  EXPECT_EQ(w[0].request.qty, 15);
  EXPECT_EQ(w[0].request.tif, TimeInForce::kGtc);
}

TEST(OrderList, SubmitsEachOrderAtTheFirstCallbackAtOrAfterItsTime) {
  const std::string path = write_file("orders_time.csv",
                                      "ts_ns,side,price,qty,type\n"
                                      "100,buy,580.00,10,limit\n"
                                      "200,sell,580.10,10,limit\n"
                                      "200,sell,580.20,10,limit\n"
                                      "900,buy,,10,market\n");
  OrderListParams p;
  p.orders = path;
  OrderList st(p, equity_spec());
  MockContext ctx(equity_spec());
  ctx.now_ns = 50;
  st.on_start(ctx);
  EXPECT_TRUE(ctx.take().empty());
  ctx.now_ns = 100;
  st.on_book_update(ctx);
  auto a = ctx.take();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].price, 5800000);
  ctx.now_ns = 250;
  TradeView t;
  st.on_trade(ctx, t);
  a = ctx.take();
  ASSERT_EQ(a.size(), 2u);  // both orders due at 200, in file order
  EXPECT_EQ(a[0].price, 5801000);
  EXPECT_EQ(a[1].price, 5802000);
  ctx.now_ns = 899;
  st.on_timer(ctx);
  EXPECT_TRUE(ctx.take().empty());
  ctx.now_ns = 1000;
  st.on_timer(ctx);
  a = ctx.take();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].type, OrderType::kMarket);
  EXPECT_EQ(st.submitted(), 4u);
  EXPECT_EQ(st.ids(), (std::vector<ClientOrderId>{1, 2, 3, 4}));
  EXPECT_EQ(std::get<std::string>(st.resolved_params().at("orders")), path);
}

TEST(OrderList, ErrorsNameFileLineAndField) {
  const InstrumentSpec spec = equity_spec();
  struct Bad {
    const char* body;
    std::uint64_t line;
    const char* field;
    const char* what;
  };
  const Bad cases[] = {
      {"1,buy,58x.00,1,limit\n", 2, "price", "unparsable price '58x.00'"},
      {"1,buy,580.00005,1,limit\n", 2, "price", "unparsable price '580.00005'"},
      {"1,buy,580.00,1,limit\n2,buy,,1,limit\n", 3, "price", "unparsable price ''"},
      {"1,buy,580.005,1,limit\n", 2, "price", "price '580.005' is not on the tick grid (tick 0.01)"},
      {"1,hold,580.00,1,limit\n", 2, "side", "unknown side 'hold'"},
      {"1,buy,580.00,1,stop\n", 2, "type", "unknown type 'stop'"},
      {"5,buy,580.00,1,limit\n4,buy,580.00,1,limit\n", 3, "ts_ns", "timestamps not sorted: 4 after 5"},
      {"x,buy,580.00,1,limit\n", 2, "ts_ns", "unparsable integer 'x'"},
      {"1,buy,580.00,0,limit\n", 2, "qty", "quantity must be > 0"},
      {"1,buy,580.00,1.5,limit\n", 2, "qty", "unparsable quantity '1.5'"},
      {"1,buy,-1.00,1,limit\n", 2, "price", "price must be > 0"},
      {"1,buy,580.00,1\n", 2, "", "expected 5 fields, got 4"},
  };
  for (const Bad& c : cases) {
    const std::string path = write_file("orders_bad.csv", std::string("ts_ns,side,price,qty,type\n") + c.body);
    std::vector<std::string> needles{path + ":" + std::to_string(c.line), c.what};
    if (*c.field) needles.push_back(std::string("field '") + c.field + "'");
    expect_error([&] { (void)read_order_list(path, spec); }, needles);
  }
  // Off the tick grid: $0.001 parses at 4 decimals but is not a multiple of the $0.01 tick.
  const std::string off = write_file("orders_off.csv", "ts_ns,side,price,qty,type\n1,buy,580.001,1,limit\n");
  expect_error([&] { (void)read_order_list(off, spec); },
               {off + ":2", "field 'price'", "not on the tick grid (tick 0.01)"});
  const std::string tif = write_file("orders_tif.csv", "ts_ns,side,price,qty,type,tif\n1,buy,580.00,1,limit,day\n");
  expect_error([&] { (void)read_order_list(tif, spec); }, {tif + ":2", "field 'tif'", "unknown tif 'day'"});
  const std::string mpo =
      write_file("orders_mpo.csv", "ts_ns,side,price,qty,type,tif\n1,buy,,1,market,post_only\n");
  expect_error([&] { (void)read_order_list(mpo, spec); }, {mpo + ":2", "field 'tif'", "cannot be post_only"});
  const std::string hdr = write_file("orders_hdr.csv", "ts,side,price,qty,type\n");
  expect_error([&] { (void)read_order_list(hdr, spec); }, {hdr + ":1", "field 'ts_ns'", "got 'ts'"});
  const std::string empty = write_file("orders_empty.csv", "");
  expect_error([&] { (void)read_order_list(empty, spec); }, {empty + ":1", "empty file"});
  InstrumentSpec lot5 = crypto_spec();
  lot5.lot_size = 5;
  const std::string lot = write_file("orders_lot.csv", "ts_ns,side,price,qty,type\n1,buy,100.0,0.007,limit\n");
  expect_error([&] { (void)read_order_list(lot, lot5); },
               {lot + ":2", "field 'qty'", "not a multiple of the lot 0.005"});
  expect_error([&] { (void)read_order_list(testing::TempDir() + "/no_such_orders.csv", spec); },
               {"no_such_orders.csv"});
}

// =============================================================================================
// Factory

MarketProfile typical_profile() {
  MarketProfile m;
  m.median_trade_qty = 137;  // shares
  m.mean_spread = 1200;      // $0.12
  m.trades_per_second = 2;
  m.mid_price = px(580);
  return m;
}

TEST(MakeStrategy, UnknownNameListsTheStrategies) {
  expect_error([] { (void)make_strategy("glf", {}, equity_spec(), MarketProfile{}); },
               {"unknown strategy 'glf'", "avellaneda-stoikov", "glft", "spread-quoter", "order-list"});
}

TEST(MakeStrategy, UnknownParamListsTheAcceptedParams) {
  expect_error([] { (void)make_strategy("glft", {{"gama", 0.1}}, equity_spec(), MarketProfile{}); },
               {"strategy 'glft'", "unknown param 'gama'", "gamma", "order_qty", "calibration_window_s",
                "vol_sample_ms"});
  expect_error([] { (void)make_strategy("order-list", {{"orders", std::string("x")}, {"speed", 1.0}},
                                        equity_spec(), MarketProfile{}); },
               {"unknown param 'speed'", "accepted params: orders"});
}

TEST(MakeStrategy, WrongTypeNamesTheParamAndTheExpectedType) {
  expect_error([] { (void)make_strategy("glft", {{"gamma", std::string("high")}}, equity_spec(), {}); },
               {"param 'gamma'", "expected a number", "got string 'high'"});
  expect_error([] { (void)make_strategy("spread-quoter", {{"post_only", std::int64_t{1}}}, equity_spec(), {}); },
               {"param 'post_only'", "expected a bool", "got integer"});
  expect_error([] { (void)make_strategy("spread-quoter", {{"levels", 1.5}}, equity_spec(), {}); },
               {"param 'levels'", "expected an integer"});
  expect_error([] { (void)make_strategy("avellaneda-stoikov", {{"horizon", 3.0}}, equity_spec(), {}); },
               {"param 'horizon'", "expected a string"});
}

TEST(MakeStrategy, InvalidValuesAreErrors) {
  const InstrumentSpec eq = equity_spec();
  expect_error([&] { (void)make_strategy("glft", {{"gamma", -1.0}}, eq, {}); }, {"'gamma'", "must be > 0"});
  expect_error([&] { (void)make_strategy("glft", {{"A", 1.0}}, eq, {}); }, {"give A and k together"});
  expect_error([&] { (void)make_strategy("spread-quoter", {{"order_qty", 0.5}}, eq, {}); },
               {"'order_qty'", "more than 0 decimals"});
  expect_error([&] { (void)make_strategy("spread-quoter", {{"order_qty", 0.0015}}, crypto_spec(), {}); },
               {"'order_qty'"});
  expect_error([&] { (void)make_strategy("spread-quoter", {{"requote_on", std::string("tick")}}, eq, {}); },
               {"'requote_on'", "accepted: book, timer"});
  expect_error([&] { (void)make_strategy("avellaneda-stoikov", {{"horizon", std::string("forever")}}, eq, {}); },
               {"'horizon'", "accepted: rolling, finite"});
  expect_error([&] { (void)make_strategy("avellaneda-stoikov", {{"k", 2.0}, {"calibrate_k", true}}, eq, {}); },
               {"'k'", "not both"});
  expect_error([&] { (void)make_strategy("spread-quoter", {{"requote_threshold_ticks", std::int64_t{0}}}, eq, {}); },
               {"'requote_threshold_ticks'", ">= 1"});
  expect_error([&] { (void)make_strategy("order-list", {}, eq, {}); }, {"'orders'", "required"});
}

// The accepted names of a strategy, read back from the unknown-param error.
std::vector<std::string> accepted_params(const std::string& name, Params base) {
  base["__probe__"] = true;
  try {
    (void)make_strategy(name, base, equity_spec(), typical_profile());
  } catch (const Error& e) {
    const std::string m = e.what();
    const std::string key = "accepted params: ";
    const auto pos = m.find(key);
    if (pos == std::string::npos) return {};
    std::vector<std::string> out;
    std::string rest = m.substr(pos + key.size());
    std::size_t start = 0;
    while (start <= rest.size()) {
      const auto comma = rest.find(", ", start);
      out.push_back(rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 2;
    }
    return out;
  }
  return {};
}

TEST(MakeStrategy, ResolvedParamsCoverEveryAcceptedParamAndRoundTrip) {
  const std::string orders = write_file("orders_rt.csv", "ts_ns,side,price,qty,type\n1,buy,580.00,1,limit\n");
  for (const std::string name : {"avellaneda-stoikov", "glft", "spread-quoter", "order-list"}) {
    Params base;
    if (name == "order-list") base["orders"] = orders;
    if (name == "avellaneda-stoikov") base["sigma"] = 0.05;  // resolves γ and k at construction
    const auto accepted = accepted_params(name, base);
    ASSERT_FALSE(accepted.empty()) << name;
    const auto s = make_strategy(name, base, equity_spec(), typical_profile());
    const Params rp = s->resolved_params();
    std::vector<std::string> keys;
    for (const auto& [k, v] : rp) keys.push_back(k);
    std::vector<std::string> sorted_accepted = accepted;
    std::sort(sorted_accepted.begin(), sorted_accepted.end());
    EXPECT_EQ(keys, sorted_accepted) << name;
    // Feeding the resolved parameters back gives the same resolution.
    const auto again = make_strategy(name, rp, equity_spec(), typical_profile());
    EXPECT_EQ(again->resolved_params(), rp) << name;
  }
}

TEST(MakeStrategy, DefaultsDeriveFromTheInstrumentAndProfile) {
  const auto s = make_strategy("spread-quoter", {}, equity_spec(), typical_profile());
  const Params rp = s->resolved_params();
  EXPECT_DOUBLE_EQ(std::get<double>(rp.at("order_qty")), 137.0);     // median trade, lot 1
  EXPECT_DOUBLE_EQ(std::get<double>(rp.at("max_position")), 1370.0);  // 10 × order_qty
  EXPECT_DOUBLE_EQ(std::get<double>(rp.at("min_spread_ticks")), 12.0);
  EXPECT_DOUBLE_EQ(std::get<double>(rp.at("skew_per_lot")), 12.0 / 20.0);
  EXPECT_EQ(std::get<std::int64_t>(rp.at("requote_threshold_ticks")), 1);
  EXPECT_EQ(std::get<bool>(rp.at("post_only")), true);
  EXPECT_EQ(std::get<std::string>(rp.at("requote_on")), "book");
  // Crypto lot 0.001: median 0.0234 -> 23 lots; no trades seen -> one lot.
  MarketProfile m;
  m.median_trade_qty = 23.4;
  const Params c = make_strategy("glft", {}, crypto_spec(), m)->resolved_params();
  EXPECT_DOUBLE_EQ(std::get<double>(c.at("order_qty")), 0.023);
  EXPECT_EQ(std::get<std::string>(c.at("A")), "auto");
  EXPECT_DOUBLE_EQ(std::get<double>(c.at("gamma")), 0.05);
  EXPECT_EQ(std::get<std::int64_t>(c.at("calibration_max_ticks")), 21);
  const Params z = make_strategy("avellaneda-stoikov", {}, crypto_spec(), MarketProfile{})->resolved_params();
  EXPECT_DOUBLE_EQ(std::get<double>(z.at("order_qty")), 0.001);
  EXPECT_EQ(std::get<std::string>(z.at("gamma")), "auto");
  EXPECT_EQ(std::get<std::string>(z.at("sigma")), "auto");
  EXPECT_DOUBLE_EQ(std::get<double>(z.at("horizon_s")), 60.0);
  // Integers are accepted for numbers, "auto" for defaults.
  const Params w = make_strategy("glft", {{"order_qty", std::int64_t{2}}, {"k", std::string("auto")}},
                                 equity_spec(), m)->resolved_params();
  EXPECT_DOUBLE_EQ(std::get<double>(w.at("order_qty")), 2.0);
}

TEST(ExampleConfigs, ListEveryParameterOfTheirStrategyAndBuild) {
  const std::string dir = std::string(MMKIT_SOURCE_DIR) + "/configs/";
  const std::string orders = write_file("orders_cfg.csv", "ts_ns,side,price,qty,type\n1,buy,580.00,1,limit\n");
  std::vector<std::string> first_engine_keys;
  for (const auto& [file, name] : std::vector<std::pair<std::string, std::string>>{
           {"avellaneda_stoikov.toml", "avellaneda-stoikov"},
           {"glft.toml", "glft"},
           {"spread_quoter.toml", "spread-quoter"},
           {"order_list.toml", "order-list"}}) {
    ConfigFile c = read_config(dir + file);
    EXPECT_EQ(c.name, name) << file;
    if (name == "order-list") c.params["orders"] = orders;
    std::vector<std::string> keys;
    for (const auto& [k, v] : c.params) keys.push_back(k);
    auto accepted = accepted_params(name, name == "order-list" ? Params{{"orders", orders}} : Params{});
    std::sort(accepted.begin(), accepted.end());
    EXPECT_EQ(keys, accepted) << file << " must show every parameter";
    EXPECT_NO_THROW((void)make_strategy(name, c.params, equity_spec(), typical_profile())) << file;
    std::sort(c.engine_keys.begin(), c.engine_keys.end());
    if (first_engine_keys.empty()) first_engine_keys = c.engine_keys;
    EXPECT_EQ(c.engine_keys, first_engine_keys) << file << ": same [engine] keys in every example";
    EXPECT_GE(c.engine_keys.size(), 18u) << file;
  }
}

TEST(BookView, MidIsTheAverageOfTheBestPricesOrNaN) {
  MockBook b;
  b.set(1000, 1003);
  EXPECT_DOUBLE_EQ(b.mid(), 1001.5);
  b.asks.clear();
  EXPECT_TRUE(std::isnan(b.mid()));
}

// =============================================================================================
// Real data: the quoting strategies over real books (no exchange: our orders rest unfilled).

#define REQUIRE_DATA(var, rel)                                                        \
  const std::string var = data_dir() + "/" + (rel);                                    \
  if (!fs::exists(var)) {                                                             \
    if (under_ci()) FAIL() << "data file " << var << " missing under CI=true";        \
    GTEST_SKIP() << "data file " << var << " not found (set MMKIT_DATA_DIR)";        \
  }

template <class Book>
class RealBookView final : public BookView {
 public:
  explicit RealBookView(const Book& b) : b_(b) {}
  [[nodiscard]] book::Level best(Side s) const override { return b_.best(s); }
  [[nodiscard]] book::Level level(Side s, std::size_t i) const override { return b_.level(s, i); }
  [[nodiscard]] std::size_t depth(Side s) const override { return b_.depth(s); }

 private:
  const Book& b_;
};

struct RunStats {
  std::uint64_t events = 0, book_updates = 0, trades = 0, submits = 0, modifies = 0, cancels = 0;
  std::uint64_t off_grid = 0, through_opposite = 0, self_crossed = 0, over_limit = 0;
};

/// Replays `paths` into a real book and drives `st` through a mock context whose book is that
/// book; after every action checks our orders: on the tick and lot grid, the bid below the best
/// ask and the ask above the best bid at submission, our best bid below our best ask.
template <class Book>
RunStats drive(const std::vector<std::string>& paths, Strategy& st, Book& book, Qty max_position) {
  auto src = data::open_source(paths);
  const InstrumentSpec spec = src->instrument();
  MockContext ctx(spec);
  RealBookView<Book> view(book);
  struct ViewCtx final : public Context {
    MockContext& m;
    const BookView& v;
    ViewCtx(MockContext& m_, const BookView& v_) : m(m_), v(v_) {}
    TimestampNs now() const override { return m.now(); }
    const InstrumentSpec& instrument() const override { return m.instrument(); }
    const BookView& book() const override { return v; }
    Qty position() const override { return m.position(); }
    Money cash() const override { return 0; }
    std::span<const OrderView> open_orders() const override { return m.open_orders(); }
    ClientOrderId submit(const OrderRequest& r) override { return m.submit(r); }
    bool cancel(ClientOrderId id) override { return m.cancel(id); }
    bool modify(ClientOrderId id, Price p, Qty q) override { return m.modify(id, p, q); }
    std::uint64_t events_seen() const override { return m.events; }
  } vctx(ctx, view);

  RunStats r;
  std::vector<Event> buf(4096);
  TimestampNs next_timer = kNoTimestamp;
  bool started = false;
  const auto check = [&] {
    const auto acts = ctx.take();
    const book::Level bb = book.best(kBid), ba = book.best(kAsk);
    for (const Action& a : acts) {
      if (a.kind == Action::kCancel) {
        ++r.cancels;
        continue;
      }
      a.kind == Action::kSubmit ? ++r.submits : ++r.modifies;
      if (a.price % spec.tick_size != 0 || a.qty % spec.lot_size != 0 || a.qty <= 0) ++r.off_grid;
      if (a.side == kBid && ba.price != kNoPrice && a.price >= ba.price) ++r.through_opposite;
      if (a.side == kAsk && bb.price != kNoPrice && a.price <= bb.price) ++r.through_opposite;
    }
    const auto ob = ctx.on(kBid), oa = ctx.on(kAsk);
    if (!ob.empty() && !oa.empty() && ob[0].price >= oa[0].price) ++r.self_crossed;
    Qty bid_total = 0, ask_total = 0;
    for (const auto& o : ob) bid_total += o.leaves;
    for (const auto& o : oa) ask_total += o.leaves;
    if (bid_total > max_position || ask_total > max_position) ++r.over_limit;
  };
  for (;;) {
    const std::size_t n = src->read(buf.data(), buf.size());
    if (n == 0) break;
    for (std::size_t i = 0; i < n; ++i) {
      const Event& e = buf[i];
      ++r.events;
      (void)book.apply(e);
      ctx.now_ns = std::max(ctx.now_ns, e.local_ts_ns);
      if (!started) {
        ctx.now_ns = e.local_ts_ns;
        st.on_start(vctx);
        started = true;
        next_timer = e.local_ts_ns + 100 * kMs;
      }
      while (next_timer <= ctx.now_ns) {
        const TimestampNs keep = ctx.now_ns;
        ctx.now_ns = next_timer;
        st.on_timer(vctx);
        check();
        ctx.now_ns = keep;
        next_timer += 100 * kMs;
      }
      if (e.kind == EventKind::kTrade || e.kind == EventKind::kExecution) {
        TradeView t;
        t.exch_ts_ns = e.exch_ts_ns;
        t.local_ts_ns = e.local_ts_ns;
        t.price = e.price;
        t.qty = e.qty;
        t.side = e.kind == EventKind::kExecution ? opposite(e.side) : e.side;
        st.on_trade(vctx, t);
        ++r.trades;
        check();
      }
      if (e.has(event_flags::kComplete) && !e.has(event_flags::kAuction)) {
        ++ctx.events;
        st.on_book_update(vctx);
        ++r.book_updates;
        check();
      }
    }
  }
  st.on_end(vctx);
  return r;
}

void expect_clean(const RunStats& r) {
  EXPECT_GT(r.submits, 0u);
  EXPECT_EQ(r.off_grid, 0u);
  EXPECT_EQ(r.through_opposite, 0u);
  EXPECT_EQ(r.self_crossed, 0u);
  EXPECT_EQ(r.over_limit, 0u);
}

TEST(RealData, GlftCalibratesAndQuotesCleanlyOnBinanceBtcusdtFutures) {
  REQUIRE_DATA(path, "binance_l2/usdm/btcusdt_20240808.gz");
  auto src = data::open_source({path});
  const InstrumentSpec spec = src->instrument();
  src.reset();
  MarketProfile prof;
  prof.mean_spread = static_cast<double>(spec.tick_size);
  prof.median_trade_qty = 2.0 * static_cast<double>(spec.lot_size);
  prof.trades_per_second = 50;
  GlftParams p;
  p.calibration_window_s = 120;
  Glft st(p, spec, prof);
  book::L2Book book;
  const RunStats r = drive({path}, st, book, st.settings().max_position);
  expect_clean(r);
  EXPECT_TRUE(st.calibrated());
  EXPECT_GT(st.k(), 0.0);
  EXPECT_GT(st.A(), 0.0);
  EXPECT_GT(st.sigma(), 0.0);
  std::printf("  btcusdt 2024-08-08: %llu events, %llu book updates, %llu trades; submits %llu, "
              "modifies %llu, cancels %llu; fits %llu, A = %.4g /s, k = %.4g /tick, sigma = %.4g "
              "ticks/sqrt(s), half spread %.3f ticks, skew %.3f ticks\n",
              static_cast<unsigned long long>(r.events), static_cast<unsigned long long>(r.book_updates),
              static_cast<unsigned long long>(r.trades), static_cast<unsigned long long>(r.submits),
              static_cast<unsigned long long>(r.modifies), static_cast<unsigned long long>(r.cancels),
              static_cast<unsigned long long>(st.fits()), st.A(), st.k(), st.sigma(),
              st.last_quote().half_spread, st.last_quote().skew);
}

TEST(RealData, QuotersRunCleanlyOnLobsterGoogL3) {
  REQUIRE_DATA(path, "lobster/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip");
  auto src = data::open_source({path});
  const InstrumentSpec spec = src->instrument();
  src.reset();
  MarketProfile prof;
  prof.mean_spread = 13.0 * static_cast<double>(spec.tick_size);
  prof.median_trade_qty = 100;
  prof.trades_per_second = 0.5;
  {
    AvellanedaStoikovParams p;
    p.calibrate_k = true;
    AvellanedaStoikov st(p, spec, prof);
    book::L3Book book(1 << 14);
    const RunStats r = drive({path}, st, book, st.settings().max_position);
    expect_clean(r);
    EXPECT_GT(st.gamma(), 0.0);
    EXPECT_GT(st.k(), 0.0);
    std::printf("  GOOG A-S: %llu events, %llu trades; submits %llu, modifies %llu, cancels %llu; "
                "gamma = %.4g /$, k = %.4g /$, sigma = %.4g $/sqrt(s), last spread %.4f $\n",
                static_cast<unsigned long long>(r.events), static_cast<unsigned long long>(r.trades),
                static_cast<unsigned long long>(r.submits), static_cast<unsigned long long>(r.modifies),
                static_cast<unsigned long long>(r.cancels), st.gamma(), st.k(), st.sigma(),
                st.last_quote().spread);
  }
  {
    SpreadQuoterParams p;
    p.levels = 3;
    p.level_spacing_ticks = 2;
    SpreadQuoter st(p, spec, prof);
    book::L3Book book(1 << 14);
    const RunStats r = drive({path}, st, book, st.settings().max_position);
    expect_clean(r);
    std::printf("  GOOG spread-quoter: submits %llu, modifies %llu, cancels %llu; sigma = %.4g "
                "ticks/sqrt(s)\n",
                static_cast<unsigned long long>(r.submits), static_cast<unsigned long long>(r.modifies),
                static_cast<unsigned long long>(r.cancels), st.sigma_ticks());
  }
}

}  // namespace
}  // namespace mmkit::strategy
