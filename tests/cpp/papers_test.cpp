// The classic papers reproduced (src/models/papers.cpp) and the impact models
// (src/models/impact.cpp), each against values derived here independently: hand computations,
// closed forms the library does not use, an ODE integration written here, and the papers'
// printed figures (within stated Monte Carlo standard errors). Plus the engine's own-order
// impact (EngineConfig::impact_model) on a hand-built book.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "mmkit/core/error.h"
#include "mmkit/core/event.h"
#include "mmkit/data/source.h"
#include "mmkit/engine/engine.h"
#include "mmkit/exchange/models.h"
#include "mmkit/models/impact.h"
#include "mmkit/models/papers.h"
#include "mmkit/strategy/glft.h"
#include "mmkit/strategy/strategy.h"
#include "fixtures.h"

namespace mmkit::models {
namespace {

// =============================================================================================
// Impact models

TEST(ImpactModels, AlmgrenChrissTwoBuysByHand) {
  // γ = 0.01 $/share, η = 0.1 $·day/share, ε = 0.05 $, τ = 1 day; buy 100 at t = 0 and at t = 1.
  // Trade 1: offset = 0 + 0.05 + 0.1 × 100 / 1 = 10.05 -> cost 1005; permanent shift 1.0.
  // Trade 2: offset = 1.0 + 0.05 + 10 = 11.05 -> cost 1105. Total 2110.
  const AlmgrenChrissImpact m(0.01, 0.1, 0.05, 1.0);
  const std::vector<Trade> s{{0.0, 100.0}, {1.0, 100.0}};
  EXPECT_NEAR(m.expected_cost(s), 2110.0, 1e-9);
  EXPECT_NEAR(m.impact(0.5, s), 1.0, 1e-12);
  EXPECT_NEAR(m.impact(1.0, s), 2.0, 1e-12);
  EXPECT_NEAR(m.impact(-1.0, s), 0.0, 1e-12);
  auto tr = m.tracker();
  EXPECT_NEAR(tr->trade(0.0, -50.0), -0.05 - 5.0, 1e-12);  // a sell executes below p0
  EXPECT_NEAR(tr->displacement(3.0), -0.5, 1e-12);
}

TEST(ImpactModels, AlmgrenChrissSellProgramCostIsThePaperFormula) {
  // Almgren-Chriss (2001) §1.5: E = ½γX² + εX + (η̃/τ) Σ n_k², η̃ = η − γτ/2. Their Table 1,
  // linear sale of X = 10^6 over N = 5 days: ½ 2.5e-7 1e12 = 125,000; ε X = 62,500;
  // η̃ = 2.375e-6, Σ n² = 5 × (2e5)² = 2e11 -> 475,000. Total $662,500.
  const AlmgrenChrissImpact m(2.5e-7, 2.5e-6, 0.0625, 1.0);
  std::vector<Trade> s;
  for (int k = 1; k <= 5; ++k) s.push_back({static_cast<double>(k), -2e5});
  EXPECT_NEAR(m.expected_cost(s), 662500.0, 1e-6);
}

TEST(ImpactModels, SquareRootCostIsScheduleFreeTwoThirdsOfPeakImpact) {
  // Y = 1, σ = 0.02, V = 1e6: a buy of Q = 4e4 has peak impact 0.02 × sqrt(0.04) = 0.004 and
  // costs ∫_0^Q Yσ sqrt(x/V) dx = (2/3) × 0.02 × 4e4 × 0.2 = 106.666…, in one or two pieces.
  const SquareRootImpact m(1.0, 0.02, 1e6);
  const std::vector<Trade> one{{0.0, 4e4}};
  const std::vector<Trade> two{{0.0, 1e4}, {5.0, 3e4}};
  EXPECT_NEAR(m.expected_cost(one), 320.0 / 3.0, 1e-9);
  EXPECT_NEAR(m.expected_cost(two), 320.0 / 3.0, 1e-9);
  EXPECT_NEAR(m.impact(10.0, one), 0.004, 1e-15);
  EXPECT_NEAR(m.impact(1.0, two), 0.02 * 0.1, 1e-15);
  // The first piece pays 2/3 of the impact it reaches: (2/3) × 0.002.
  auto tr = m.tracker();
  EXPECT_NEAR(tr->trade(0.0, 1e4), 0.002 * 2.0 / 3.0, 1e-15);
  // Selling it back returns the displacement to zero (the law has no decay, no memory).
  tr->trade(1.0, -1e4);
  EXPECT_NEAR(tr->displacement(2.0), 0.0, 1e-15);
  EXPECT_NEAR(m.expected_cost(std::vector<Trade>{{0.0, -4e4}}), 320.0 / 3.0, 1e-9);
}

TEST(ImpactModels, TransientDecaysExponentiallyByHand) {
  // κ = 0.001 $/share, ρ = ln 2 per s (half-life 1 s), no permanent part. Buy 100 at t = 0:
  // offset = ½ × 0.001 × 100 = 0.05, displacement 0.1, halved at t = 1 (0.05). Buy 100 at
  // t = 1: offset = 0.05 + 0.05 = 0.10. Cost = 100 × 0.05 + 100 × 0.10 = 15. At t = 2 the
  // displacement is (0.05 + 0.1) / 2 = 0.075.
  const TransientImpact m(0.0, 0.001, std::log(2.0));
  const std::vector<Trade> s{{0.0, 100.0}, {1.0, 100.0}};
  EXPECT_NEAR(m.expected_cost(s), 15.0, 1e-12);
  EXPECT_NEAR(m.impact(1.0 - 1e-12, s), 0.05, 1e-12);
  EXPECT_NEAR(m.impact(2.0, s), 0.075, 1e-12);
  // Obizhaeva-Wang permanent part λ does not decay: λ = 0.0005, one buy of 100.
  const TransientImpact ow(0.0005, 0.001, std::log(2.0));
  const std::vector<Trade> one{{0.0, 100.0}};
  EXPECT_NEAR(ow.impact(1000.0, one), 0.05, 1e-12);
  // A single block of x costs (λ + κ) x² / 2 (half its instantaneous impact).
  EXPECT_NEAR(ow.expected_cost(one), 0.0015 * 100.0 * 100.0 / 2.0, 1e-12);
}

TEST(ImpactModels, SchedulesMustBeOrderedAndNonZero) {
  const TransientImpact m(0.0, 0.001, 1.0);
  EXPECT_THROW((void)m.expected_cost(std::vector<Trade>{{1.0, 1.0}, {0.5, 1.0}}), Error);
  EXPECT_THROW((void)m.expected_cost(std::vector<Trade>{{1.0, 0.0}}), Error);
  EXPECT_THROW((void)m.expected_cost(std::vector<Trade>{{NAN, 1.0}}), Error);
  EXPECT_THROW(AlmgrenChrissImpact(1.0, 1.0, 0.0, 0.0), Error);
  EXPECT_THROW(SquareRootImpact(1.0, 0.1, 0.0), Error);
  EXPECT_THROW(TransientImpact(-1.0, 0.1, 1.0), Error);
}

TEST(ImpactModels, FactoryParsesSpecsAndNamesWhatIsWrong) {
  EXPECT_EQ(make_impact_model(""), nullptr);
  EXPECT_EQ(make_impact_model("none"), nullptr);
  const auto ac = make_impact_model("almgren-chriss:gamma=2.5e-7,eta=2.5e-6");
  ASSERT_NE(ac, nullptr);
  const auto* acp = dynamic_cast<const AlmgrenChrissImpact*>(ac.get());
  ASSERT_NE(acp, nullptr);
  EXPECT_EQ(acp->gamma, 2.5e-7);
  EXPECT_EQ(acp->eta, 2.5e-6);
  EXPECT_EQ(acp->epsilon, 0.0);
  EXPECT_EQ(acp->tau, 1.0);
  const auto sq = make_impact_model("sqrt:sigma=0.02,V=1e6");
  ASSERT_NE(dynamic_cast<const SquareRootImpact*>(sq.get()), nullptr);
  EXPECT_EQ(dynamic_cast<const SquareRootImpact*>(sq.get())->Y, 1.0);
  const auto tr = make_impact_model("transient:kappa=0.001,rho=0.5,lambda=1e-4");
  ASSERT_NE(dynamic_cast<const TransientImpact*>(tr.get()), nullptr);
  EXPECT_EQ(tr->describe(), "transient:kappa=0.001,rho=0.5,lambda=0.0001");
  auto message = [](const std::string& spec) {
    try {
      (void)make_impact_model(spec);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("linear:eta=1").find("expected none, almgren-chriss, sqrt or transient"), std::string::npos);
  EXPECT_NE(message("sqrt:sigma=1,V=1,W=2").find("unknown key 'W'"), std::string::npos);
  EXPECT_NE(message("transient:kappa=1").find("missing key 'rho'"), std::string::npos);
  EXPECT_NE(message("transient:kappa=x,rho=1").find("unparsable number 'x'"), std::string::npos);
  EXPECT_NE(message("transient:kappa").find("expected key=value"), std::string::npos);
  EXPECT_NE(message("transient:kappa=1,kappa=2,rho=1").find("given twice"), std::string::npos);
}

// =============================================================================================
// Avellaneda & Stoikov (2008)

TEST(AvellanedaStoikov2008, SpreadAndReservationPriceByHand) {
  // t = 0, γ = 0.1, σ = 2, T = 1, k = 1.5: γσ²T + (2/γ) ln(1 + γ/k) = 0.4 + 20 ln(16/15)
  // = 0.4 + 1.2907704227514… = 1.6907704227514.
  EXPECT_NEAR(as_spread(0.1, 2.0, 1.0, 1.5), 1.6907704227514233, 1e-13);
  EXPECT_NEAR(as_spread(0.01, 2.0, 0.0, 1.5), 200.0 * std::log(1.0 + 0.01 / 1.5), 1e-13);
  // r = s − q γ σ² (T − t) = 100 − 3 × 0.1 × 4 × 0.5 = 99.4.
  EXPECT_NEAR(as_reservation_price(100.0, 3.0, 0.1, 2.0, 0.5), 99.4, 1e-12);
  // Grid average over t_n = 0, 0.005, …, 0.995: 20 ln(16/15) + 0.4 × (1 − 0.005 × 199 / 2).
  EXPECT_NEAR(as_average_spread(0.1, 2.0, 1.0, 0.005, 1.5), 1.2907704227514234 + 0.4 * 0.5025, 1e-13);
}

TEST(AvellanedaStoikov2008, SymmetricStrategyQuotesTheInventoryStrategysAverageSpread) {
  AsSimConfig c;
  c.paths = 50;
  const auto rows = run_avellaneda_stoikov_2008(c);
  ASSERT_EQ(rows.size(), 6u);
  const double expected[3] = {1.2907704227514234 + 0.4 * 0.5025,
                              200.0 * std::log1p(0.01 / 1.5) + 0.04 * 0.5025,
                              2.0 * std::log1p(1.0 / 1.5) + 4.0 * 0.5025};
  for (int g = 0; g < 3; ++g) {
    const AsSimRow& inv = rows[2 * g];
    const AsSimRow& sym = rows[2 * g + 1];
    EXPECT_EQ(inv.gamma, c.gammas[g]);
    EXPECT_EQ(inv.strategy, AsStrategy::kInventory);
    EXPECT_EQ(sym.strategy, AsStrategy::kSymmetric);
    EXPECT_NEAR(inv.spread, expected[g], 1e-12) << g;
    EXPECT_EQ(sym.spread, inv.spread) << g;
  }
}

// E[profit] of the symmetric strategy with half-spread h, by hand: the mid is a martingale
// independent of the fills, so each fill earns its distance to the mid it is measured from in
// expectation. kFillThenMove: 2N P(h) h. kMoveThenFill: the distance is h ± σ√dt with
// probability ½ each: N Σ± P(h ± σ√dt)(h ± σ√dt). Var(q_T) = Σ_steps 2 p (1 − p).
struct SymmetricExpectation {
  double profit, q_std;
};
SymmetricExpectation symmetric_expectation(const AsSimConfig& c, double spread) {
  const double h = spread / 2, dS = c.sigma * std::sqrt(c.dt);
  const double n = std::round(c.T / c.dt);
  auto P = [&](double d) {
    const double l = c.A * std::exp(-c.k * d) * c.dt;
    return c.fill == AsFillProbability::kLinear ? std::min(1.0, l) : 1.0 - std::exp(-l);
  };
  if (c.timing == AsTiming::kFillThenMove) {
    const double p = P(h);
    return {2 * n * p * h, std::sqrt(2 * n * p * (1 - p))};
  }
  const double pu = P(h + dS), pd = P(h - dS);
  const double profit = n * (pu * (h + dS) + pd * (h - dS));
  // Per step and side the fill is Bernoulli with p = (pu + pd)/2 unconditionally, but the two
  // sides share the mid move: Var(B_b − B_a) = 2p(1 − p) − 2 Cov, Cov = E[pb pa] − p², with
  // (pb, pa) = (pu, pd) or (pd, pu).
  const double p = (pu + pd) / 2;
  const double cov = pu * pd - p * p;
  return {profit, std::sqrt(n * (2 * p * (1 - p) - 2 * cov))};
}

TEST(AvellanedaStoikov2008, SymmetricStrategyMatchesItsExpectationByHandForEveryOption) {
  for (const auto timing : {AsTiming::kMoveThenFill, AsTiming::kFillThenMove}) {
    for (const auto fill : {AsFillProbability::kLinear, AsFillProbability::kExponential}) {
      AsSimConfig c;
      c.timing = timing;
      c.fill = fill;
      c.paths = 4000;
      c.seed = 7;
      const AsSimRow r = simulate_avellaneda_stoikov(c, 0.1, AsStrategy::kSymmetric, 1.29);
      const SymmetricExpectation e = symmetric_expectation(c, 1.29);
      const double se = r.profit_std / std::sqrt(static_cast<double>(c.paths));
      EXPECT_NEAR(r.profit_mean, e.profit, 4 * se) << int(timing) << int(fill);
      // Sample std of q_T: its standard error is about std / sqrt(2 n).
      EXPECT_NEAR(r.final_q_std, e.q_std, 4 * e.q_std / std::sqrt(2.0 * c.paths)) << int(timing) << int(fill);
      EXPECT_NEAR(r.final_q_mean, 0.0, 4 * e.q_std / std::sqrt(static_cast<double>(c.paths)));
    }
  }
}

double combined_se(double our_std, double paper_std, double paths) {
  return std::sqrt(our_std * our_std + paper_std * paper_std) / std::sqrt(paths);
}

TEST(AvellanedaStoikov2008, ProfitMeansAgreeWithTheTablesWithinFourStandardErrors) {
  // Tables 1-2 (γ = 0.1, 0.01). Tolerance: 4 standard errors of the difference of two
  // 1000-path means, sqrt(s_ours² + s_paper²) / sqrt(1000). γ = 1: docs/papers.md (the printed
  // average spread 1.15 is not that of eq. (30)); see the next test.
  AsSimConfig c;
  const auto rows = run_avellaneda_stoikov_2008(c);
  for (int i = 0; i < 4; ++i) {
    const AsPaperRow& p = kAvellanedaStoikovTables[i];
    ASSERT_EQ(rows[i].gamma, p.gamma);
    ASSERT_EQ(rows[i].strategy, p.strategy);
    EXPECT_NEAR(rows[i].profit_mean, p.profit_mean, 4 * combined_se(rows[i].profit_std, p.profit_std, 1000))
        << p.gamma << " " << to_string(p.strategy);
  }
  // The paper's finding: the inventory strategy has a smaller P&L dispersion and final
  // inventory dispersion than the symmetric one, for every γ.
  for (int g = 0; g < 3; ++g) {
    EXPECT_LT(rows[2 * g].profit_std, rows[2 * g + 1].profit_std) << g;
    EXPECT_LT(rows[2 * g].final_q_std, rows[2 * g + 1].final_q_std) << g;
  }
}

TEST(AvellanedaStoikov2008, SymmetricStrategyAtThePrintedGammaOneSpreadReproducesTable3) {
  AsSimConfig c;
  const AsSimRow r = simulate_avellaneda_stoikov(c, 1.0, AsStrategy::kSymmetric, 1.15);
  const AsPaperRow& p = kAvellanedaStoikovTables[5];
  EXPECT_NEAR(r.profit_mean, p.profit_mean, 4 * combined_se(r.profit_std, p.profit_std, 1000));
  EXPECT_NEAR(r.final_q_std, p.final_q_std, 4 * p.final_q_std / std::sqrt(2000.0));
}

/// The §3.3 inventory strategy written again here (not the library's code), with the spread's
/// inventory-risk term scaled by `c` (c = 1: eq. (30)) and, optionally, quotes kept on their side
/// of the mid (δ >= 0). Same draws as simulate_avellaneda_stoikov (u_mid, u_b, u_a per step),
/// move-then-fill, P = min(1, A e^{−kδ} dt). Returns (profit mean, its standard error).
std::pair<double, double> as_inventory_by_hand(double gamma, double c, bool keep_side_of_mid) {
  const double s0 = 100, T = 1, sigma = 2, dt = 0.005, A = 140, k = 1.5;
  exchange::Rng rng(1);
  double sum = 0, sum2 = 0;
  const int paths = 1000;
  for (int p = 0; p < paths; ++p) {
    double s = s0, cash = 0;
    double q = 0;
    for (int n = 0; n < 200; ++n) {
      const double u_mid = rng.uniform(), u_b = rng.uniform(), u_a = rng.uniform();
      const double tau = T - n * dt;
      const double spread = c * gamma * sigma * sigma * tau + 2 / gamma * std::log(1 + gamma / k);
      const double r = s - q * gamma * sigma * sigma * tau;
      double bid = r - spread / 2, ask = r + spread / 2;
      s += u_mid < 0.5 ? sigma * std::sqrt(dt) : -sigma * std::sqrt(dt);
      if (keep_side_of_mid) {
        bid = std::min(bid, s);
        ask = std::max(ask, s);
      }
      if (u_b < std::min(1.0, A * std::exp(-k * (s - bid)) * dt)) {
        q += 1;
        cash -= bid;
      }
      if (u_a < std::min(1.0, A * std::exp(-k * (ask - s)) * dt)) {
        q -= 1;
        cash += ask;
      }
    }
    const double profit = cash + q * s;
    sum += profit;
    sum2 += profit * profit;
  }
  const double mean = sum / paths;
  return {mean, std::sqrt((sum2 - paths * mean * mean) / (paths - 1) / paths)};
}

TEST(AvellanedaStoikov2008, GammaOneInventoryRowIsOutOfReachOfEquations29And30) {
  // docs/papers.md: the paper's γ = 1 inventory strategy earns 33.92. Eqs. (29)-(30) as stated
  // give 30.61 (the library, and this independent loop to 1e-9); no scale c of the spread's
  // γσ²(T − t) term reaches 33.92 (the profit peaks near c = 1.2 at 31.2; c = 0, the printed
  // spread's liquidity term alone, loses money), so no spread explains the row with the
  // stated reservation price. Keeping the quotes on their side of the mid overshoots (37.9).
  AsSimConfig cfg;
  const AsSimRow lib = simulate_avellaneda_stoikov(cfg, 1.0, AsStrategy::kInventory, 0);
  const auto [base, base_se] = as_inventory_by_hand(1.0, 1.0, false);
  EXPECT_NEAR(base, lib.profit_mean, 1e-9);
  const double paper = 33.92;
  for (const double c : {0.0, 0.5, 0.75, 1.0, 1.1, 1.25, 1.5, 2.0}) {
    const auto [m, se] = as_inventory_by_hand(1.0, c, false);
    EXPECT_LT(m + 4 * se, paper) << "spread term scaled by " << c;
  }
  const auto [kept, kept_se] = as_inventory_by_hand(1.0, 1.0, true);
  EXPECT_GT(kept - 4 * kept_se, paper);
  // The same change leaves γ = 0.1 and 0.01 within 0.1 of eq. (30)'s figures: only at γ = 1
  // (reservation shift 4q(T − t) against a half-spread of 2.5) do quotes cross the mid often.
  EXPECT_NEAR(as_inventory_by_hand(0.1, 1.0, true).first, as_inventory_by_hand(0.1, 1.0, false).first, 0.1);
  EXPECT_NEAR(as_inventory_by_hand(0.01, 1.0, true).first, as_inventory_by_hand(0.01, 1.0, false).first, 0.1);
}

TEST(AvellanedaStoikov2008, SameSeedSameResultsOtherSeedOtherResults) {
  AsSimConfig c;
  c.paths = 200;
  c.seed = 42;
  const auto a = run_avellaneda_stoikov_2008(c);
  const auto b = run_avellaneda_stoikov_2008(c);
  c.seed = 43;
  const auto d = run_avellaneda_stoikov_2008(c);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].profit_mean, b[i].profit_mean);
    EXPECT_EQ(a[i].profit_std, b[i].profit_std);
    EXPECT_EQ(a[i].final_q_mean, b[i].final_q_mean);
    EXPECT_EQ(a[i].final_q_std, b[i].final_q_std);
    EXPECT_NE(a[i].profit_mean, d[i].profit_mean);
  }
}

TEST(AvellanedaStoikov2008, InvalidParametersThrow) {
  AsSimConfig c;
  EXPECT_THROW((void)simulate_avellaneda_stoikov(c, 0.0, AsStrategy::kInventory, 0), Error);
  c.paths = 1;
  EXPECT_THROW((void)simulate_avellaneda_stoikov(c, 0.1, AsStrategy::kInventory, 0), Error);
  c.paths = 10;
  c.dt = 0.3;  // T = 1 is not a whole number of steps
  EXPECT_THROW((void)simulate_avellaneda_stoikov(c, 0.1, AsStrategy::kInventory, 0), Error);
  c.dt = 0.005;
  EXPECT_THROW((void)simulate_avellaneda_stoikov(c, 0.1, AsStrategy::kSymmetric, -1.0), Error);
  c.gammas.clear();
  EXPECT_THROW((void)run_avellaneda_stoikov_2008(c), Error);
}

// =============================================================================================
// Guéant, Lehalle & Fernandez-Tapia (2013)

// v(t) by classical RK4 on dv/dt = M v backwards from v(T) = 1 (Proposition 1), written with
// the tridiagonal structure directly (not via glft_matrix): w(τ) = v(T − τ), dw/dτ = −M w.
std::vector<double> rk4_v(const GlftModel& m, double t, double h) {
  const int n = 2 * m.Q + 1;
  const double alpha = m.k * m.gamma * m.sigma * m.sigma / 2;
  const double eta = m.A * std::pow(1 + m.gamma / m.k, -(1 + m.k / m.gamma));
  auto f = [&](const std::vector<double>& w) {
    std::vector<double> d(n);
    for (int i = 0; i < n; ++i) {
      const double q = i - m.Q;
      double mw = alpha * q * q * w[i];
      if (i > 0) mw -= eta * w[i - 1];
      if (i + 1 < n) mw -= eta * w[i + 1];
      d[i] = -mw;
    }
    return d;
  };
  std::vector<double> w(n, 1.0), tmp(n);
  const long steps = std::lround((m.T - t) / h);
  for (long s = 0; s < steps; ++s) {
    const auto k1 = f(w);
    for (int i = 0; i < n; ++i) tmp[i] = w[i] + 0.5 * h * k1[i];
    const auto k2 = f(tmp);
    for (int i = 0; i < n; ++i) tmp[i] = w[i] + 0.5 * h * k2[i];
    const auto k3 = f(tmp);
    for (int i = 0; i < n; ++i) tmp[i] = w[i] + h * k3[i];
    const auto k4 = f(tmp);
    for (int i = 0; i < n; ++i) w[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
  }
  return w;
}

TEST(Glft2013, MatrixExponentialMatchesAnRk4IntegrationOfTheOdes) {
  const GlftModel m;  // σ = 0.3, A = 0.9, k = 0.3, γ = 0.01, T = 600, Q = 30
  for (const double t : {0.0, 540.0, 599.0}) {
    const std::vector<double> w = rk4_v(m, t, 0.005);
    const Eigen::VectorXd v = glft_v(m, t);
    ASSERT_EQ(v.size(), static_cast<Eigen::Index>(w.size()));
    // glft_v is v scaled by a positive constant: the ratio is the same for every q.
    const double scale = w[m.Q] / v(m.Q);
    for (int i = 0; i < v.size(); ++i) EXPECT_NEAR(w[i] / v(i) / scale, 1.0, 1e-8) << t << " " << i;
    const GlftQuotes e = glft_exact_quotes(m, t);
    const double base = std::log(1 + m.gamma / m.k) / m.gamma;
    for (int i = 0; i + 1 < v.size(); ++i) {
      EXPECT_NEAR(e.bid[i], std::log(w[i] / w[i + 1]) / m.k + base, 1e-6) << t << " " << i;
      EXPECT_NEAR(e.ask[i + 1], std::log(w[i + 1] / w[i]) / m.k + base, 1e-6) << t << " " << i;
    }
  }
}

TEST(Glft2013, MatrixAndConstantsByHand) {
  const GlftModel m;
  // α = k γ σ² / 2 = 0.3 × 0.01 × 0.09 / 2; η = 0.9 (31/30)^{−31}.
  EXPECT_NEAR(glft_alpha(m), 1.35e-4, 1e-18);
  EXPECT_NEAR(glft_eta(m), 0.3256783558467315, 1e-14);
  const Eigen::MatrixXd M = glft_matrix(m);
  ASSERT_EQ(M.rows(), 61);
  EXPECT_NEAR(M(0, 0), 1.35e-4 * 900, 1e-15);  // q = −30
  EXPECT_EQ(M(30, 30), 0.0);                    // q = 0
  EXPECT_NEAR(M(31, 30), -0.3256783558467315, 1e-14);
  EXPECT_EQ(M(0, 2), 0.0);
}

TEST(Glft2013, BidAtInventoryQEqualsAskAtMinusQ) {
  const GlftModel m;
  for (const double t : {0.0, 300.0, 599.9}) {
    const GlftQuotes e = glft_exact_quotes(m, t);
    const int n = 2 * m.Q + 1;
    for (int i = 0; i + 1 < n; ++i) EXPECT_NEAR(e.bid[i], e.ask[n - 1 - i], 1e-9) << t << " q=" << e.q[i];
    EXPECT_TRUE(std::isnan(e.bid[n - 1]));
    EXPECT_TRUE(std::isnan(e.ask[0]));
  }
}

TEST(Glft2013, AtTheHorizonTheQuotesAreTheLiquidityTermOnly) {
  // v(T) = 1, so δ^b = δ^a = (1/γ) ln(1 + γ/k) = 100 ln(31/30) = 3.278982282299097 ticks.
  const GlftQuotes e = glft_exact_quotes(GlftModel{}, 600.0);
  for (int i = 0; i + 1 < static_cast<int>(e.q.size()); ++i) EXPECT_NEAR(e.bid[i], 3.278982282299097, 1e-10);
}

TEST(Glft2013, ClosedFormApproximationByHand) {
  // c = sqrt(σ²γ/(2kA) (1 + γ/k)^{1 + k/γ}) = sqrt(0.0009 / 0.54 × (31/30)^31) = 0.0678658325…
  // δ^b(0) = 3.278982282… + c/2 = 3.312915198564539; δ^b(1) = base + 3c/2 = 3.380781031095423;
  // δ^a(3) = base − 5c/2 = 3.1093177009718875.
  const GlftQuotes a = glft_approx_quotes(GlftModel{});
  EXPECT_NEAR(a.bid[30], 3.312915198564539, 1e-12);
  EXPECT_NEAR(a.bid[31], 3.380781031095423, 1e-12);
  EXPECT_NEAR(a.ask[33], 3.1093177009718875, 1e-12);
  // Same closed form as the GLFT strategy's (Guéant 2017 form, order size Δ = 1).
  const auto c = strategy::glft_coefficients(0.01, 1.0, 0.9, 0.3);
  for (const int q : {-5, 0, 7}) {
    const auto g = strategy::glft_quote(c, 0.3, q, 1.0);
    EXPECT_NEAR(a.bid[q + 30], g.bid_depth, 1e-12) << q;
    EXPECT_NEAR(a.ask[q + 30], g.ask_depth, 1e-12) << q;
  }
}

TEST(Glft2013, ApproximationApproachesTheExactQuotesFarFromTheHorizon) {
  // At t = 0 with T = 600 s the exact quotes have converged to their T → ∞ limit (Theorem 2),
  // and for |q| <= 10 the closed form is within 0.005 tick of them (the paper: "always very
  // good for small values of the inventory"). Near T the exact quotes are not stationary and
  // the (time-free) approximation is off by much more.
  GlftModel m;
  const GlftQuotes lim = glft_limit_quotes(m);
  const GlftQuotes approx = glft_approx_quotes(m);
  for (const double T : {600.0, 1e5}) {
    m.T = T;
    const GlftQuotes e = glft_exact_quotes(m, 0.0);
    for (int q = -10; q <= 10; ++q) {
      const int i = q + m.Q;
      EXPECT_NEAR(e.bid[i], lim.bid[i], 1e-6) << T << " " << q;
      EXPECT_NEAR(e.bid[i], approx.bid[i], 0.005) << T << " " << q;
      EXPECT_NEAR(e.ask[i], approx.ask[i], 0.005) << T << " " << q;
    }
  }
  m.T = 600;
  const GlftQuotes late = glft_exact_quotes(m, 599.0);
  EXPECT_GT(std::fabs(late.bid[40] - approx.bid[40]), 0.2);  // q = 10, one second before T
}

TEST(Glft2013, InvalidModelThrows) {
  GlftModel m;
  m.Q = 0;
  EXPECT_THROW((void)glft_matrix(m), Error);
  m.Q = 5;
  m.gamma = -1;
  EXPECT_THROW((void)glft_approx_quotes(m), Error);
  m.gamma = 0.01;
  EXPECT_THROW((void)glft_v(m, 700.0), Error);
}

// =============================================================================================
// Almgren & Chriss (2001)

TEST(AlmgrenChriss2001, LambdaZeroIsTheLinearTrajectoryWithHandCostAndVariance) {
  const AcSolution s = almgren_chriss_solution(AcModel{}, 0.0);
  ASSERT_EQ(s.x.size(), 6u);
  for (int k = 0; k <= 5; ++k) EXPECT_NEAR(s.x[k], 1e6 * (1 - k / 5.0), 1e-6) << k;
  for (double n : s.n) EXPECT_NEAR(n, 2e5, 1e-6);
  // E = ½γX² + εX + (η̃/τ) X²/N = 125,000 + 62,500 + 2.375e-6 × 1e12 / 5 = 662,500.
  EXPECT_NEAR(s.E, 662500.0, 1e-6);
  // V = σ² τ Σ x_k² = 0.9025 × (0.8² + 0.6² + 0.4² + 0.2²) × 1e12 = 1.083e12.
  EXPECT_NEAR(s.V, 1.083e12, 1.0);
  EXPECT_EQ(s.kappa, 0.0);
  EXPECT_TRUE(std::isinf(s.half_life));
  EXPECT_NEAR(s.eta_tilde, 2.375e-6, 1e-20);
}

TEST(AlmgrenChriss2001, KappaFromTheDiscreteDispersionRelationByHand) {
  // κ̃² = λσ²/η̃ = λ × 0.9025 / 2.375e-6: 0.38 (λ = 1e-6), 0.76 (λ = 2e-6); τ = 1, so
  // cosh κ = 1 + κ̃²/2 = 1.19, 1.38 and κ = ln(c + sqrt(c² − 1)).
  const double c1 = 1.19, c2 = 1.38;
  const AcSolution a = almgren_chriss_solution(AcModel{}, 1e-6);
  const AcSolution b = almgren_chriss_solution(AcModel{}, 2e-6);
  EXPECT_NEAR(a.kappa_tilde * a.kappa_tilde, 0.38, 1e-12);
  EXPECT_NEAR(b.kappa_tilde * b.kappa_tilde, 0.76, 1e-12);
  EXPECT_NEAR(a.kappa, std::log(c1 + std::sqrt(c1 * c1 - 1)), 1e-12);
  EXPECT_NEAR(b.kappa, std::log(c2 + std::sqrt(c2 * c2 - 1)), 1e-12);
  EXPECT_NEAR(a.kappa, 0.6070761632470627, 1e-12);
  EXPECT_NEAR(b.kappa, 0.8462971345012561, 1e-12);
  EXPECT_NEAR(a.half_life, 1 / a.kappa, 1e-15);
}

TEST(AlmgrenChriss2001, CostAndVarianceMatchThePapersClosedForms) {
  // §2.2 closed forms for the optimal trajectory (the library sums over the trajectory instead):
  //   E = ½γX² + εX + η̃X² tanh(κτ/2)(τ sinh 2κT + 2T sinh κτ) / (2τ² sinh² κT)
  //   V = ½σ²X² (τ sinh κT cosh κ(T − τ) − T sinh κτ) / (sinh² κT sinh κτ)
  const AcModel m;
  const double X = m.X, T = m.T, tau = 1.0, et = 2.375e-6, sg = m.sigma;
  for (const double lambda : {1e-6, 2e-6, 1e-5}) {
    const AcSolution s = almgren_chriss_solution(m, lambda);
    const double k = s.kappa;
    const double E = 0.5 * m.gamma * X * X + m.epsilon * X +
                     et * X * X * std::tanh(0.5 * k * tau) * (tau * std::sinh(2 * k * T) + 2 * T * std::sinh(k * tau)) /
                         (2 * tau * tau * std::pow(std::sinh(k * T), 2));
    const double V = 0.5 * sg * sg * X * X *
                     (tau * std::sinh(k * T) * std::cosh(k * (T - tau)) - T * std::sinh(k * tau)) /
                     (std::pow(std::sinh(k * T), 2) * std::sinh(k * tau));
    EXPECT_NEAR(s.E / E, 1.0, 1e-12) << lambda;
    EXPECT_NEAR(s.V / V, 1.0, 1e-12) << lambda;
  }
  // The figures docs/papers.md reports.
  const AcSolution a = almgren_chriss_solution(m, 1e-6);
  EXPECT_NEAR(a.E, 911226.99, 0.01);
  EXPECT_NEAR(a.std, 603430.7, 0.1);
  const AcSolution b = almgren_chriss_solution(m, 2e-6);
  EXPECT_NEAR(b.E, 1140715.17, 0.01);
  EXPECT_NEAR(b.std, 449367.7, 0.1);
}

TEST(AlmgrenChriss2001, TrajectorySolvesTheDiscreteEulerLagrangeEquation) {
  // §2.2: (x_{k−1} − 2x_k + x_{k+1}) / τ² = κ̃² x_k for k = 1 … N − 1, x_0 = X, x_N = 0.
  const AcModel m;
  for (const double lambda : {1e-6, 2e-6}) {
    const AcSolution s = almgren_chriss_solution(m, lambda);
    EXPECT_EQ(s.x.front(), m.X);
    EXPECT_EQ(s.x.back(), 0.0);
    for (int k = 1; k < m.N; ++k) {
      const double lhs = (s.x[k - 1] - 2 * s.x[k] + s.x[k + 1]) / (s.tau * s.tau);
      EXPECT_NEAR(lhs, s.kappa_tilde * s.kappa_tilde * s.x[k], 1e-6 * m.X) << lambda << " " << k;
    }
  }
}

TEST(AlmgrenChriss2001, OptimalTrajectoryMinimizesMeanPlusLambdaVariance) {
  const AcModel m;
  const double lambda = 2e-6;
  const AcSolution s = almgren_chriss_solution(m, lambda);
  const double u0 = s.E + lambda * s.V;
  exchange::Rng rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<double> x = s.x;
    for (int k = 1; k < m.N; ++k) x[k] += (rng.uniform() - 0.5) * 2e4;
    EXPECT_GT(ac_expected_cost(m, x) + lambda * ac_variance(m, x), u0) << trial;
  }
}

TEST(AlmgrenChriss2001, FrontierCostRisesAsVarianceFalls) {
  const AcModel m;
  const auto lambdas = almgren_chriss_frontier_lambdas(61);
  ASSERT_EQ(lambdas.size(), 61u);
  EXPECT_EQ(lambdas.front(), 0.0);
  EXPECT_NEAR(lambdas[1], 1e-8, 1e-20);
  EXPECT_NEAR(lambdas.back(), 1e-4, 1e-16);
  double prev_e = -1, prev_v = std::numeric_limits<double>::infinity();
  for (const double l : lambdas) {
    const AcSolution s = almgren_chriss_solution(m, l);
    EXPECT_GT(s.E, prev_e) << l;
    EXPECT_LT(s.V, prev_v) << l;
    prev_e = s.E;
    prev_v = s.V;
  }
}

TEST(AlmgrenChriss2001, CostEqualsTheImpactEstimatorOnTheSameTrajectory) {
  const AcModel m;
  const AcSolution s = almgren_chriss_solution(m, 2e-6);
  const AlmgrenChrissImpact impact(m.gamma, m.eta, m.epsilon, s.tau);
  std::vector<Trade> sells;
  for (int k = 1; k <= m.N; ++k) sells.push_back({k * s.tau, -s.n[k - 1]});
  EXPECT_NEAR(impact.expected_cost(sells) / s.E, 1.0, 1e-12);
}

TEST(AlmgrenChriss2001, InvalidParametersThrow) {
  AcModel m;
  EXPECT_THROW((void)almgren_chriss_solution(m, -1e-6), Error);
  m.N = 0;
  EXPECT_THROW((void)almgren_chriss_solution(m, 1e-6), Error);
  m.N = 5;
  m.gamma = 1.0;  // η̃ = η − γτ/2 < 0
  EXPECT_THROW((void)almgren_chriss_solution(m, 1e-6), Error);
  m.gamma = 2.5e-7;
  EXPECT_THROW((void)ac_variance(m, std::vector<double>{1.0, 0.0}), Error);
}

// =============================================================================================
// Own-order impact in the engine (EngineConfig::impact_model)

constexpr TimestampNs kT0 = 1'700'000'000'000'000'000;
constexpr TimestampNs kSecond = 1'000'000'000;

/// Bid 99.90 × 1000, ask 100.00 × 1000 from T0, restated every 0.25 s for 5 s.
std::vector<Event> flat_book() {
  std::vector<Event> v;
  for (TimestampNs t = kT0; t <= kT0 + 5 * kSecond; t += kSecond / 4) {
    v.push_back(test::level(t, Side::kBid, 9990, 1000));
    v.push_back(test::level(t, Side::kAsk, 10000, 1000));
  }
  return v;
}

/// Sends market orders (IOC) at given exchange-clock times.
class MarketOrders final : public strategy::Strategy {
 public:
  explicit MarketOrders(std::vector<std::pair<TimestampNs, std::pair<Side, Qty>>> plan) : plan_(std::move(plan)) {}
  void on_start(strategy::Context& c) override { run(c); }
  void on_book_update(strategy::Context& c) override { run(c); }
  void on_timer(strategy::Context& c) override { run(c); }

 private:
  void run(strategy::Context& c) {
    while (next_ < plan_.size() && plan_[next_].first <= c.now()) {
      (void)c.submit(test::market(plan_[next_].second.first, plan_[next_].second.second));
      ++next_;
    }
  }
  std::vector<std::pair<TimestampNs, std::pair<Side, Qty>>> plan_;
  std::size_t next_ = 0;
};

std::vector<exchange::Fill> run_with_impact(const std::string& impact) {
  engine::EngineConfig cfg;
  cfg.impact_model = impact;
  cfg.timer_interval_ns = kSecond / 100;
  cfg.feed_latency.mode = exchange::FeedLatencyConfig::Mode::kConstant;
  auto strat = std::make_unique<MarketOrders>(std::vector<std::pair<TimestampNs, std::pair<Side, Qty>>>{
      {kT0, {Side::kBid, 10}}, {kT0 + kSecond, {Side::kBid, 10}}, {kT0 + 3 * kSecond, {Side::kAsk, 10}}});
  engine::Engine e(std::make_unique<test::VectorSource>(flat_book()), std::move(strat), std::move(cfg));
  e.run();
  std::vector<exchange::Fill> out;
  for (const auto& f : e.result().fills) out.push_back(f.fill);
  return out;
}

TEST(EngineOwnImpact, WithoutAModelTakerFillsAreAtTheBookPrice) {
  const auto f = run_with_impact("");
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].price, 10000);
  EXPECT_EQ(f[1].price, 10000);
  EXPECT_EQ(f[2].price, 9990);
}

TEST(EngineOwnImpact, AlmgrenChrissTemporaryAndPermanentImpactPriceOurTakerFillsByHand) {
  // γ = 0.01 $/unit, η = 0.02 $·s/unit, τ = 1 s. Buy 10: 100.00 + 0.02 × 10 = 100.20, then a
  // permanent +0.10. Buy 10 one second later: 100.00 + 0.10 + 0.20 = 100.30 (permanent +0.20).
  // Sell 10 two seconds later at the 99.90 bid: 99.90 + 0.20 − 0.20 = 99.90. The replayed book
  // is not moved: the exchange's best ask at every fill is still 100.00.
  const auto f = run_with_impact("almgren-chriss:gamma=0.01,eta=0.02,tau=1");
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].price, 10020);
  EXPECT_EQ(f[1].price, 10030);
  EXPECT_EQ(f[2].price, 9990);
  for (const auto& x : f) {
    EXPECT_FALSE(x.maker);
    EXPECT_EQ(x.ask_at_fill, 10000);
    EXPECT_EQ(x.bid_at_fill, 9990);
  }
}

TEST(EngineOwnImpact, TransientImpactDecaysBetweenOurTrades) {
  // κ = 0.01 $/unit, half-life 1 s. Buy 10: 100.00 + ½ × 0.01 × 10 = 100.05, displacement 0.10,
  // 0.05 one second later: buy 10 at 100.00 + 0.05 + 0.05 = 100.10; displacement 0.05 + 0.10 =
  // 0.15, 0.0375 two seconds later: sell 10 at 99.90 + 0.0375 − 0.05 = 99.8875 -> 99.89.
  const auto f = run_with_impact("transient:kappa=0.01,rho=" + std::to_string(std::log(2.0)));
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].price, 10005);
  EXPECT_EQ(f[1].price, 10010);
  EXPECT_EQ(f[2].price, 9989);
}

TEST(EngineOwnImpact, BadImpactSpecIsAConfigError) {
  engine::EngineConfig cfg;
  cfg.impact_model = "linear:eta=1";
  EXPECT_THROW(engine::Engine(std::make_unique<test::VectorSource>(flat_book()),
                              std::make_unique<MarketOrders>(std::vector<std::pair<TimestampNs, std::pair<Side, Qty>>>{}),
                              std::move(cfg)),
               Error);
}

}  // namespace
}  // namespace mmkit::models
