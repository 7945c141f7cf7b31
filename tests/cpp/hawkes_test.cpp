#include <gtest/gtest.h>

#include <Eigen/Dense>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "mmkit/core/error.h"
#include "mmkit/sim/hawkes.h"
#include "mmkit/sim/synthetic_market.h"

namespace mmkit::sim {
namespace {

using Matrix = std::vector<std::vector<double>>;

HawkesParams two_dim(double beta = 2.0) {
  HawkesParams p;
  p.mu = {0.5, 0.3};
  p.alpha = {{0.3, 0.1}, {0.2, 0.4}};
  p.beta = {{beta, beta}, {beta, beta}};
  return p;
}

/// Stationary mean intensity Λ = (I − α)^{-1} μ (Hawkes 1971).
Eigen::VectorXd stationary_rate(const HawkesParams& p) {
  const auto d = static_cast<Eigen::Index>(p.dims());
  Eigen::MatrixXd a(d, d);
  Eigen::VectorXd mu(d);
  for (Eigen::Index i = 0; i < d; ++i) {
    mu(i) = p.mu[static_cast<std::size_t>(i)];
    for (Eigen::Index j = 0; j < d; ++j) a(i, j) = p.alpha[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
  }
  return (Eigen::MatrixXd::Identity(d, d) - a).lu().solve(mu);
}

/// log L by the definition, O(n²): Σ_k log λ_{i_k}(t_k) − Σ_i ∫_0^T λ_i, with
/// λ_i(t) = μ_i + Σ_{t_m < t} α_{i j_m} β_{i j_m} e^{−β (t − t_m)} and
/// ∫_0^T λ_i = μ_i T + Σ_m α_{i j_m} (1 − e^{−β (T − t_m)}).
double direct_log_likelihood(const HawkesParams& p, const std::vector<PointEvent>& ev, double horizon) {
  double ll = 0;
  for (std::size_t k = 0; k < ev.size(); ++k) {
    const std::size_t i = ev[k].type;
    double lambda = p.mu[i];
    for (std::size_t m = 0; m < k; ++m) {
      if (!(ev[m].t < ev[k].t)) continue;
      const std::size_t j = ev[m].type;
      lambda += p.alpha[i][j] * p.beta[i][j] * std::exp(-p.beta[i][j] * (ev[k].t - ev[m].t));
    }
    ll += std::log(lambda);
  }
  for (std::size_t i = 0; i < p.dims(); ++i) {
    ll -= p.mu[i] * horizon;
    for (const PointEvent& e : ev) ll -= p.alpha[i][e.type] * (1 - std::exp(-p.beta[i][e.type] * (horizon - e.t)));
  }
  return ll;
}

/// Compensator Λ_i(t_k) at each event of type i (time-rescaling, Ogata 1988 / Brown et al. 2002),
/// by the definition with contributions older than 50/β taken as complete (1 − e^{−50} = 1 in
/// double precision). Returns, per type, the increments Λ_i(t_k) − Λ_i(t_{k−1}).
std::vector<std::vector<double>> rescaled_gaps(const HawkesParams& p, const std::vector<PointEvent>& ev) {
  const std::size_t d = p.dims();
  std::vector<std::vector<double>> gaps(d);
  std::vector<double> last(d, 0.0);
  double beta_min = 1e300;
  for (const auto& row : p.beta) for (double b : row) beta_min = std::min(beta_min, b);
  const double window = 50 / beta_min;
  std::vector<std::size_t> old_count(d, 0);  // events of each type older than the window
  std::size_t first_recent = 0;
  for (std::size_t k = 0; k < ev.size(); ++k) {
    const double t = ev[k].t;
    while (first_recent < k && ev[first_recent].t < t - window) ++old_count[ev[first_recent++].type];
    const std::size_t i = ev[k].type;
    double comp = p.mu[i] * t;
    for (std::size_t j = 0; j < d; ++j) comp += p.alpha[i][j] * static_cast<double>(old_count[j]);
    for (std::size_t m = first_recent; m < k; ++m) {
      const std::size_t j = ev[m].type;
      comp += p.alpha[i][j] * (1 - std::exp(-p.beta[i][j] * (t - ev[m].t)));
    }
    gaps[i].push_back(comp - last[i]);
    last[i] = comp;
  }
  return gaps;
}

/// Kolmogorov–Smirnov distance between the sample and Exp(1).
double ks_exp1(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  const double n = static_cast<double>(x.size());
  double dmax = 0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    const double f = 1 - std::exp(-x[k]);
    dmax = std::max({dmax, f - static_cast<double>(k) / n, static_cast<double>(k + 1) / n - f});
  }
  return dmax;
}

/// Observed information −∇² log L at `at`, by central differences of hawkes_log_likelihood over
/// the free parameters (mu, alpha, and one shared beta or every beta_ij), and the standard
/// errors sqrt(diag(I^{-1})) in the same order.
struct Information {
  std::vector<std::string> names;
  std::vector<double> values, se;
};

/// `interior_only`: leaves out the baselines and branching ratios at the bound 0 (held fixed; the
/// information of the others is that of the model restricted to the face the maximum lies on).
Information observed_information(const HawkesParams& at, const std::vector<PointEvent>& ev, double horizon,
                                 bool beta_shared, bool interior_only = false) {
  const std::size_t d = at.dims();
  Information info;
  std::vector<std::function<double&(HawkesParams&)>> ref;
  for (std::size_t i = 0; i < d; ++i) {
    if (interior_only && !(at.mu[i] > 0)) continue;
    info.names.push_back("mu[" + std::to_string(i) + "]");
    ref.push_back([i](HawkesParams& p) -> double& { return p.mu[i]; });
  }
  for (std::size_t i = 0; i < d; ++i) {
    for (std::size_t j = 0; j < d; ++j) {
      if (interior_only && !(at.alpha[i][j] > 0)) continue;
      info.names.push_back("alpha[" + std::to_string(i) + "][" + std::to_string(j) + "]");
      ref.push_back([i, j](HawkesParams& p) -> double& { return p.alpha[i][j]; });
    }
  }
  if (beta_shared) {
    info.names.push_back("beta");
  } else {
    for (std::size_t i = 0; i < d; ++i) {
      for (std::size_t j = 0; j < d; ++j) {
        info.names.push_back("beta[" + std::to_string(i) + "][" + std::to_string(j) + "]");
        ref.push_back([i, j](HawkesParams& p) -> double& { return p.beta[i][j]; });
      }
    }
  }
  const std::size_t n = info.names.size();
  auto get = [&](const HawkesParams& p, std::size_t a) {
    if (beta_shared && a == n - 1) return p.beta[0][0];
    HawkesParams q = p;
    return ref[a](q);
  };
  auto shift = [&](HawkesParams& p, std::size_t a, double h) {
    if (beta_shared && a == n - 1) {
      for (auto& row : p.beta) for (double& b : row) b += h;
    } else {
      ref[a](p) += h;
    }
  };
  std::vector<double> h(n);
  for (std::size_t a = 0; a < n; ++a) {
    info.values.push_back(get(at, a));
    h[a] = 1e-4 * std::max(std::fabs(info.values[a]), 1e-2);
  }
  auto ll = [&](std::size_t a, double sa, std::size_t b, double sb) {
    HawkesParams p = at;
    shift(p, a, sa);
    shift(p, b, sb);
    return hawkes_log_likelihood(p, ev, horizon);
  };
  Eigen::MatrixXd info_m(n, n);
  const double l0 = hawkes_log_likelihood(at, ev, horizon);
  for (std::size_t a = 0; a < n; ++a) {
    const double second = (ll(a, h[a], a, 0) - 2 * l0 + ll(a, -h[a], a, 0)) / (h[a] * h[a]);
    info_m(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(a)) = -second;
    for (std::size_t b = a + 1; b < n; ++b) {
      const double mixed = (ll(a, h[a], b, h[b]) - ll(a, h[a], b, -h[b]) - ll(a, -h[a], b, h[b]) +
                            ll(a, -h[a], b, -h[b])) / (4 * h[a] * h[b]);
      info_m(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(b)) = -mixed;
      info_m(static_cast<Eigen::Index>(b), static_cast<Eigen::Index>(a)) = -mixed;
    }
  }
  const Eigen::MatrixXd cov = info_m.inverse();
  for (std::size_t a = 0; a < n; ++a) info.se.push_back(std::sqrt(cov(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(a))));
  return info;
}

double true_value(const HawkesParams& p, const std::string& name) {
  unsigned i = 0, j = 0;
  if (std::sscanf(name.c_str(), "mu[%u]", &i) == 1) return p.mu[i];
  if (std::sscanf(name.c_str(), "alpha[%u][%u]", &i, &j) == 2) return p.alpha[i][j];
  if (std::sscanf(name.c_str(), "beta[%u][%u]", &i, &j) == 2) return p.beta[i][j];
  return p.beta[0][0];
}

// ---------------------------------------------------------------------------------------------

TEST(HawkesParams, SpectralRadiusIsTheLargestEigenvalueModulus) {
  // [[0.3, 0.1], [0.2, 0.4]]: trace 0.7, determinant 0.10, eigenvalues (0.7 ± 0.3) / 2.
  EXPECT_NEAR(two_dim().spectral_radius(), 0.5, 1e-12);
  HawkesParams rot;  // a permutation-like matrix with complex eigenvalues ±0.6i: radius 0.6
  rot.mu = {1, 1};
  rot.alpha = {{0, 0.9}, {0.4, 0}};
  rot.beta = {{1, 1}, {1, 1}};
  EXPECT_NEAR(rot.spectral_radius(), 0.6, 1e-12);
  EXPECT_NO_THROW(two_dim().validate());
}

TEST(HawkesParams, BadValuesThrowNamingTheField) {
  struct Case {
    std::string field;
    std::function<void(HawkesParams&)> set;
  };
  const std::vector<Case> cases = {
      {"mu", [](auto& p) { p.mu.clear(); }},
      {"mu[1]", [](auto& p) { p.mu[1] = -0.1; }},
      {"mu[0]", [](auto& p) { p.mu[0] = std::nan(""); }},
      {"alpha", [](auto& p) { p.alpha.pop_back(); }},
      {"alpha[1]", [](auto& p) { p.alpha[1].push_back(0); }},
      {"alpha[0][1]", [](auto& p) { p.alpha[0][1] = -0.01; }},
      {"beta", [](auto& p) { p.beta.push_back({1, 1}); }},
      {"beta[1]", [](auto& p) { p.beta[1] = {1}; }},
      {"beta[1][0]", [](auto& p) { p.beta[1][0] = 0; }},
      {"beta[0][0]", [](auto& p) { p.beta[0][0] = INFINITY; }},
      {"alpha", [](auto& p) { p.alpha = {{0.8, 0.3}, {0.3, 0.8}}; }},  // spectral radius 1.1
  };
  for (const Case& k : cases) {
    HawkesParams p = two_dim();
    k.set(p);
    try {
      p.validate();
      ADD_FAILURE() << "no error for a bad " << k.field;
    } catch (const Error& e) {
      EXPECT_EQ(e.where().field, k.field) << e.what();
    }
  }
  exchange::Rng rng(1);
  HawkesParams explosive = two_dim();
  explosive.alpha = {{0.9, 0.5}, {0.5, 0.9}};
  EXPECT_THROW((void)simulate_hawkes(explosive, 10, rng), Error);
  EXPECT_THROW((void)simulate_hawkes(two_dim(), 0, rng), Error);
  EXPECT_THROW((void)simulate_hawkes(two_dim(), std::nan(""), rng), Error);
}

TEST(HawkesLogLikelihood, BadEventsThrowNamingTheEvent) {
  const HawkesParams p = two_dim();
  auto field_of = [&](const std::vector<PointEvent>& ev, double horizon) -> std::string {
    try {
      (void)hawkes_log_likelihood(p, ev, horizon);
    } catch (const Error& e) {
      return e.where().field;
    }
    return "no error";
  };
  EXPECT_EQ(field_of({{0.5, 0}, {0.4, 1}}, 10), "events[1]");  // out of order
  EXPECT_EQ(field_of({{0.5, 0}, {0.6, 2}}, 10), "events[1]");  // type >= dims
  EXPECT_EQ(field_of({{-0.1, 0}}, 10), "events[0]");
  EXPECT_EQ(field_of({{10.0, 0}}, 10), "events[0]");  // the window is [0, T)
  EXPECT_EQ(field_of({}, 0), "horizon_s");
  EXPECT_THROW((void)fit_hawkes({{0.5, 3}}, 10, 2), Error);
  EXPECT_THROW((void)fit_hawkes({}, 10, 0), Error);
}

TEST(HawkesLogLikelihood, RecursionEqualsTheDirectSumIncludingTiesAndDistinctDecays) {
  HawkesParams p = two_dim();
  p.beta = {{2.0, 5.0}, {0.7, 3.0}};
  exchange::Rng rng(11);
  std::vector<PointEvent> ev = simulate_hawkes(p, 600, rng);
  ASSERT_GT(ev.size(), 500u);
  // Simultaneous events (as in a market order's executions): they must not excite each other.
  const std::size_t n0 = ev.size();
  for (std::size_t k = 10; k < n0; k += 97) ev.push_back(PointEvent{ev[k].t, 1 - ev[k].type});
  std::stable_sort(ev.begin(), ev.end(), [](const PointEvent& a, const PointEvent& b) { return a.t < b.t; });
  const double direct = direct_log_likelihood(p, ev, 600);
  const double fast = hawkes_log_likelihood(p, ev, 600);
  EXPECT_NEAR(fast, direct, 1e-9 * std::fabs(direct));
  // Away from the true parameters too.
  HawkesParams q = p;
  q.mu = {0.8, 0.1};
  q.alpha = {{0.05, 0.6}, {0.3, 0.2}};
  EXPECT_NEAR(hawkes_log_likelihood(q, ev, 600), direct_log_likelihood(q, ev, 600), 1e-9 * std::fabs(direct));
  // A Poisson process (alpha = 0): n log mu − mu T per type.
  HawkesParams poisson = p;
  poisson.alpha = {{0, 0}, {0, 0}};
  std::size_t n[2] = {0, 0};
  for (const PointEvent& e : ev) ++n[e.type];
  const double expected = static_cast<double>(n[0]) * std::log(0.5) - 0.5 * 600 +
                          static_cast<double>(n[1]) * std::log(0.3) - 0.3 * 600;
  EXPECT_NEAR(hawkes_log_likelihood(poisson, ev, 600), expected, 1e-9 * std::fabs(expected));
}

TEST(HawkesSimulation, SameSeedSameEventsAndTimesInsideTheWindow) {
  exchange::Rng a(5), b(5), c(6);
  const auto x = simulate_hawkes(two_dim(), 200, a);
  const auto y = simulate_hawkes(two_dim(), 200, b);
  const auto z = simulate_hawkes(two_dim(), 200, c);
  ASSERT_EQ(x.size(), y.size());
  for (std::size_t k = 0; k < x.size(); ++k) {
    EXPECT_EQ(x[k].t, y[k].t);
    EXPECT_EQ(x[k].type, y[k].type);
  }
  EXPECT_FALSE(x.size() == z.size() && x.front().t == z.front().t);
  for (std::size_t k = 0; k < x.size(); ++k) {
    ASSERT_GE(x[k].t, 0);
    ASSERT_LT(x[k].t, 200);
    if (k > 0) {
      ASSERT_GT(x[k].t, x[k - 1].t);
    }
    ASSERT_LT(x[k].type, 2u);
  }
  HawkesParams silent = two_dim();
  silent.mu = {0, 0};
  EXPECT_TRUE(simulate_hawkes(silent, 100, a).empty());
}

// One long sample of the 2-d process, shared by the tests below.
struct Sample {
  HawkesParams truth = two_dim();
  double horizon = 20'000;  // s: ~32,000 events
  std::vector<PointEvent> events;
};

const Sample& sample() {
  static const Sample s = [] {
    Sample r;
    exchange::Rng rng(2024);
    r.events = simulate_hawkes(r.truth, r.horizon, rng);
    return r;
  }();
  return s;
}

TEST(HawkesSimulation, CountsMatchTheStationaryRateWithinTheHawkesVariance) {
  const Sample& s = sample();
  const Eigen::VectorXd lambda = stationary_rate(s.truth);  // [0.825, 0.775] /s
  EXPECT_NEAR(lambda(0), 0.825, 1e-12);
  EXPECT_NEAR(lambda(1), 0.775, 1e-12);
  // Asymptotic covariance of N(T): T (I − α)^{-1} diag(Λ) (I − α)^{-T} (Hawkes 1971; Bacry,
  // Mastromatteo, Muzy 2015, eq. for the integrated covariance). The start from an empty history
  // lowers E N(T) by a bounded amount (~ Λ / β per type), negligible against the sd (~ 500).
  Eigen::Matrix2d a;
  a << 0.3, 0.1, 0.2, 0.4;
  const Eigen::Matrix2d inv = (Eigen::Matrix2d::Identity() - a).inverse();
  const Eigen::Matrix2d cov = s.horizon * inv * lambda.asDiagonal() * inv.transpose();
  double n[2] = {0, 0};
  for (const PointEvent& e : s.events) n[e.type] += 1;
  for (int i = 0; i < 2; ++i) {
    const double expected = lambda(i) * s.horizon;
    EXPECT_LE(std::fabs(n[i] - expected), 4.5 * std::sqrt(cov(i, i))) << "type " << i << ": " << n[i] << " vs " << expected;
  }
}

TEST(HawkesSimulation, TimeRescaledInterArrivalsAreUnitExponential) {
  // Under the true parameters the compensator increments between events of each type are i.i.d.
  // Exp(1) (time-rescaling theorem; Brown et al. 2002): mean 1 (sd 1/√n) and a KS distance below
  // the 0.1 % critical value 1.95/√n.
  const Sample& s = sample();
  const auto gaps = rescaled_gaps(s.truth, s.events);
  for (std::size_t i = 0; i < gaps.size(); ++i) {
    const double n = static_cast<double>(gaps[i].size());
    double mean = 0;
    for (double g : gaps[i]) mean += g;
    mean /= n;
    EXPECT_NEAR(mean, 1.0, 4.5 / std::sqrt(n)) << "type " << i;
    const double ks = ks_exp1(gaps[i]);
    EXPECT_LT(ks, 1.95 / std::sqrt(n)) << "type " << i;
    std::printf("[hawkes] type %zu: %zu events, rescaled mean %.4f, KS %.4f (critical %.4f)\n", i, gaps[i].size(),
                mean, ks, 1.95 / std::sqrt(n));
  }
  // The check has power: with the excitation ignored (a Poisson fit at the same mean rate) the
  // rescaled gaps are far from Exp(1).
  HawkesParams poisson = s.truth;
  const Eigen::VectorXd lambda = stationary_rate(s.truth);
  poisson.mu = {lambda(0), lambda(1)};
  poisson.alpha = {{0, 0}, {0, 0}};
  const auto wrong = rescaled_gaps(poisson, s.events);
  EXPECT_GT(ks_exp1(wrong[0]), 3 * 1.95 / std::sqrt(static_cast<double>(wrong[0].size())));
}

TEST(HawkesFit, RecoversEveryParameterWithinFourStandardErrors) {
  const Sample& s = sample();
  const auto t0 = std::chrono::steady_clock::now();
  const HawkesFit fit = fit_hawkes(s.events, s.horizon, 2, true);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(fit.converged);
  EXPECT_NEAR(fit.log_likelihood, hawkes_log_likelihood(fit.params, s.events, s.horizon), 1e-9);
  // The MLE beats the truth (it maximizes the same function), by about half a chi-square with 7
  // degrees of freedom (Wilks): 3.5 on average, < 12 with 99.9 % probability.
  const double gain = fit.log_likelihood - hawkes_log_likelihood(s.truth, s.events, s.horizon);
  EXPECT_GE(gain, 0);
  EXPECT_LT(gain, 12);
  const Information info = observed_information(fit.params, s.events, s.horizon, true);
  std::printf("[hawkes] %zu events, fit in %.3f s (%u iterations), log L gain over truth %.3f\n", s.events.size(),
              seconds, fit.iterations, gain);
  for (std::size_t a = 0; a < info.names.size(); ++a) {
    const double truth = true_value(s.truth, info.names[a]);
    std::printf("[hawkes] %-12s true %.4f  fit %.4f  se %.4f  z %+.2f\n", info.names[a].c_str(), truth,
                info.values[a], info.se[a], (info.values[a] - truth) / info.se[a]);
    EXPECT_LE(std::fabs(info.values[a] - truth), 4 * info.se[a]) << info.names[a];
    // The sample is long enough for the test to mean something: every estimate within 15 % of
    // the truth at 4 standard errors (mu and the branching ratios) and 10 % (beta).
    EXPECT_LT(4 * info.se[a], (info.names[a] == "beta" ? 0.10 : 0.15) * std::max(truth, 0.2)) << info.names[a];
  }
  EXPECT_LT(fit.params.spectral_radius(), 1);
}

TEST(HawkesFit, UnsharedDecayRatesAreRecoveredToo) {
  // Distinct decay rates per pair; a shorter window keeps the test fast, so the standard errors
  // (from the observed information of the 10-parameter model) are wider.
  HawkesParams truth = two_dim();
  truth.beta = {{1.5, 4.0}, {4.0, 1.5}};
  truth.alpha = {{0.3, 0.25}, {0.25, 0.3}};
  exchange::Rng rng(77);
  const double horizon = 20'000;
  const auto ev = simulate_hawkes(truth, horizon, rng);
  const HawkesFit fit = fit_hawkes(ev, horizon, 2, false);
  EXPECT_TRUE(fit.converged);
  const Information info = observed_information(fit.params, ev, horizon, false);
  for (std::size_t a = 0; a < info.names.size(); ++a) {
    const double t = true_value(truth, info.names[a]);
    std::printf("[hawkes] unshared %-12s true %.4f  fit %.4f  se %.4f  z %+.2f\n", info.names[a].c_str(), t,
                info.values[a], info.se[a], (info.values[a] - t) / info.se[a]);
    EXPECT_LE(std::fabs(info.values[a] - t), 4 * info.se[a]) << info.names[a];
  }
  // The shared fit of the same data is worse by a likelihood-ratio margin (3 extra parameters).
  const HawkesFit shared = fit_hawkes(ev, horizon, 2, true);
  EXPECT_GT(fit.log_likelihood - shared.log_likelihood, 8.0);
}

TEST(HawkesFit, TypesWithoutEventsGetZeroRates) {
  // A 3-d fit of data that only has types 0 and 1: type 2 gets mu = 0 and no excitation.
  const Sample& s = sample();
  std::vector<PointEvent> head(s.events.begin(), s.events.begin() + 3000);
  const double horizon = head.back().t + 1;
  const HawkesFit fit = fit_hawkes(head, horizon, 3, true);
  EXPECT_EQ(fit.params.mu[2], 0);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(fit.params.alpha[2][k], 0);
    EXPECT_EQ(fit.params.alpha[k][2], 0);
  }
  EXPECT_GT(fit.params.mu[0], 0);
  EXPECT_TRUE(std::isfinite(fit.log_likelihood));
  const HawkesFit none = fit_hawkes({}, 10, 2);
  EXPECT_EQ(none.params.mu, (std::vector<double>{0, 0}));
  EXPECT_EQ(none.log_likelihood, 0);
}

TEST(HawkesFit, IsDeterministic) {
  const Sample& s = sample();
  std::vector<PointEvent> head(s.events.begin(), s.events.begin() + 2000);
  const double horizon = head.back().t + 0.5;
  const HawkesFit a = fit_hawkes(head, horizon, 2);
  const HawkesFit b = fit_hawkes(head, horizon, 2);
  EXPECT_EQ(a.params.mu, b.params.mu);
  EXPECT_EQ(a.params.alpha, b.params.alpha);
  EXPECT_EQ(a.params.beta, b.params.beta);
  EXPECT_EQ(a.iterations, b.iterations);
}

}  // namespace
}  // namespace mmkit::sim

namespace mmkit::sim {
namespace {

/// A 6-type process shaped like the synthetic market's flow (market buy / sell, limit bid / ask,
/// cancel bid / ask; synthetic_market.h), every pair exciting a little so that the maximum is
/// inside the parameter space and the observed information gives the standard errors.
HawkesParams six_types() {
  HawkesParams p;
  p.mu = {0.5, 0.5, 3.0, 3.0, 2.5, 2.5};
  p.alpha.assign(6, std::vector<double>(6, 0.03));
  for (std::size_t i = 0; i < 6; ++i) p.alpha[i][i] = 0.3;
  p.alpha[2][1] = p.alpha[3][0] = 0.2;  // replenishment after market orders
  p.beta.assign(6, std::vector<double>(6, 4.0));
  return p;
}

TEST(HawkesFit, ShortSixTypeFlowsConvergeAndRecoverTheParametersWithinTheirStandardErrors) {
  // Short flows of the synthetic market's own 6-type Hawkes process (SyntheticMarketConfig's
  // defaults: many pairs without excitation, so many estimates end on the bound 0): 20 s, ~700
  // events, 43 parameters. Before the optimizer was scaled by the Fisher information and the
  // baselines moved to their natural scale, 8 of these 20 fits hit the iteration cap (L-BFGS with
  // a multiple of the identity as initial inverse Hessian, on curvatures that differ by orders
  // of magnitude) and reported converged = false.
  const SyntheticMarketConfig market;
  const HawkesParams sparse{market.hawkes_mu, market.hawkes_alpha, market.hawkes_beta};
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    exchange::Rng rng(seed);
    const auto ev = simulate_hawkes(sparse, 20, rng);
    const HawkesFit fit = fit_hawkes(ev, 20, 6, true);
    EXPECT_TRUE(fit.converged) << "seed " << seed << ", " << ev.size() << " events, " << fit.iterations << " iterations";
    EXPECT_LT(fit.iterations, 1000u) << "seed " << seed;
    EXPECT_GE(fit.log_likelihood, hawkes_log_likelihood(sparse, ev, 20)) << "seed " << seed;  // a maximum
  }
  // Recovery: 60 s of a process where every pair excites a little, so that the truth is inside
  // the parameter space; every estimate off the bound within 4 standard errors (observed
  // information of the model restricted to the face the maximum lies on).
  const HawkesParams truth = six_types();
  const double horizon = 60;
  exchange::Rng rng(1);
  const auto ev = simulate_hawkes(truth, horizon, rng);
  const HawkesFit fit = fit_hawkes(ev, horizon, 6, true);
  EXPECT_TRUE(fit.converged);
  EXPECT_GE(fit.log_likelihood, hawkes_log_likelihood(truth, ev, horizon));
  const Information info = observed_information(fit.params, ev, horizon, true, true);
  std::printf("[hawkes] short 6-type flow: %zu events, %u iterations, %zu of 43 parameters off the bound\n", ev.size(),
              fit.iterations, info.names.size());
  for (std::size_t a = 0; a < info.names.size(); ++a) {
    const double t = true_value(truth, info.names[a]);
    EXPECT_LE(std::fabs(info.values[a] - t), 4 * info.se[a]) << info.names[a] << " fit " << info.values[a] << " se " << info.se[a];
  }
  EXPECT_GE(info.names.size(), 30u);
  EXPECT_LT(fit.params.spectral_radius(), 1);
}

}  // namespace
}  // namespace mmkit::sim
