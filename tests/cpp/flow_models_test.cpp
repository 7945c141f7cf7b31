// The synthetic market's flow models: Hawkes order flow (exactness of the simulated intensities,
// parameter recovery by maximum likelihood from the event stream) and volatility regimes
// (occupation of the Markov chain, rates and volatility by regime), and their configuration.
#include <gtest/gtest.h>

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "mmkit/book/l3_book.h"
#include "mmkit/book/replay.h"
#include "mmkit/core/error.h"
#include "mmkit/sim/hawkes.h"
#include "mmkit/sim/synthetic_market.h"

namespace mmkit::sim {
namespace {

using book::L3Book;
namespace ft = flow_type;

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

std::uint64_t fnv1a(const std::vector<Event>& ev) {
  std::uint64_t h = 14695981039346656037ull;
  const auto* p = reinterpret_cast<const unsigned char*>(ev.data());
  for (std::size_t i = 0; i < ev.size() * sizeof(Event); ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

SyntheticMarketConfig hawkes_config(double seconds) {
  SyntheticMarketConfig c;
  c.flow = FlowModel::kHawkes;
  c.duration_s = seconds;
  return c;
}

void with_default_regimes(SyntheticMarketConfig& c, double speedup = 1) {
  c.regimes = default_regimes();
  c.regime_transition = default_regime_transition();
  for (auto& row : c.regime_transition) {
    for (double& q : row) q *= speedup;
  }
}

/// The default regimes with a birth-death chain that spends a sixth of the time in low and in
/// crisis and a third in medium and in high (π = (1, 2, 2, 1) / 6; mean stays 60, 60, 60, 60 s),
/// so that every regime is well sampled in a short run.
void with_balanced_regimes(SyntheticMarketConfig& c) {
  c.regimes = default_regimes();
  c.regime_transition = {{0, 1.0 / 60, 0, 0},
                         {1.0 / 120, 0, 1.0 / 120, 0},
                         {0, 1.0 / 120, 0, 1.0 / 120},
                         {0, 0, 1.0 / 60, 0}};
}

/// Flow type of a record's first event (records > 0): kAdd -> limit, kCancel -> cancel, the first
/// kExecution of a market order -> market buy (resting ask) / sell (resting bid).
std::uint32_t flow_type_of(const Event& e) {
  switch (e.kind) {
    case EventKind::kAdd: return e.side == Side::kBid ? ft::kLimitBid : ft::kLimitAsk;
    case EventKind::kCancel: return e.side == Side::kBid ? ft::kCancelBid : ft::kCancelAsk;
    default: return e.side == Side::kAsk ? ft::kMarketBuy : ft::kMarketSell;
  }
}

/// |observed - expected| <= z * sd, printed on failure.
::testing::AssertionResult within_sd(double observed, double expected, double sd, double z = 4.5) {
  if (std::fabs(observed - expected) <= z * sd) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "observed " << observed << ", expected " << expected << " ± " << z << " × " << sd;
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

Eigen::MatrixXd to_matrix(const std::vector<std::vector<double>>& m) {
  Eigen::MatrixXd a(static_cast<Eigen::Index>(m.size()), static_cast<Eigen::Index>(m.size()));
  for (std::size_t i = 0; i < m.size(); ++i) {
    for (std::size_t j = 0; j < m.size(); ++j) a(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = m[i][j];
  }
  return a;
}

/// Regime index at exchange time t (the spell containing t).
std::uint32_t regime_at(const std::vector<RegimeSpell>& path, TimestampNs t) {
  auto it = std::upper_bound(path.begin(), path.end(), t, [](TimestampNs x, const RegimeSpell& s) { return x < s.start_ns; });
  return std::prev(it)->regime;
}

/// Seconds spent in each regime over [start, end].
std::vector<double> occupation_s(const std::vector<RegimeSpell>& path, std::size_t regimes, TimestampNs end_ns) {
  std::vector<double> t(regimes, 0.0);
  for (std::size_t k = 0; k < path.size(); ++k) {
    const TimestampNs until = k + 1 < path.size() ? path[k + 1].start_ns : end_ns;
    t[path[k].regime] += static_cast<double>(until - path[k].start_ns) * 1e-9;
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// Hawkes flow: the stream itself

TEST(HawkesFlow, SameSeedGivesIdenticalBytesWhateverTheBatchSize) {
  SyntheticMarketConfig c = hawkes_config(600);
  with_default_regimes(c, 20);
  const std::vector<Event> a = read_all(*make_synthetic_market(c));
  ASSERT_GT(a.size(), 10'000u);
  const std::vector<Event> b = read_all(*make_synthetic_market(c), 7);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(Event)), 0);
  c.seed = 2;
  EXPECT_NE(fnv1a(read_all(*make_synthetic_market(c))), fnv1a(a));
}

// Like SyntheticMarket.StreamDigestIsPinned: the Hawkes intensities, the regime chain and their
// comparisons use + - * / and integer conversions only (no libm), with FMA contraction off, so the
// stream is the same on every platform. A change here must be checked on -O0, -O2 and
// -O2 -march=native builds.
TEST(HawkesFlow, StreamDigestsArePinned) {
  const std::vector<Event> hawkes = read_all(*make_synthetic_market(hawkes_config(60)));
  EXPECT_EQ(hawkes.size(), 2507u);
  EXPECT_EQ(fnv1a(hawkes), 0xaded27779338328full) << std::hex << fnv1a(hawkes);
  SyntheticMarketConfig r = hawkes_config(60);
  with_default_regimes(r, 100);
  const std::vector<Event> regimes = read_all(*make_synthetic_market(r));
  EXPECT_EQ(regimes.size(), 2553u);
  EXPECT_EQ(fnv1a(regimes), 0x93f53ccd7cf44e13ull) << std::hex << fnv1a(regimes);
  SyntheticMarketConfig p;
  p.duration_s = 60;
  with_default_regimes(p, 100);
  const std::vector<Event> poisson = read_all(*make_synthetic_market(p));
  EXPECT_EQ(poisson.size(), 2556u);
  EXPECT_EQ(fnv1a(poisson), 0x934c9e522ec28d2eull) << std::hex << fnv1a(poisson);
}

TEST(HawkesFlow, ReplaysThroughTheValidatedReplayNeverCrossed) {
  SyntheticMarketConfig c = hawkes_config(1800);
  with_default_regimes(c, 10);
  book::ReplaySummary s;
  ASSERT_NO_THROW(s = book::replay(*make_synthetic_market(c)));
  EXPECT_GT(s.events, 50'000u);
  EXPECT_EQ(s.book_stats.anonymous_reductions, 0u);
  ASSERT_NO_THROW(book::replay(*make_synthetic_market(c), book::BookImpl::kNaive));
}

// The exactness test of the thinning: replays the stream, rebuilds every intensity the model
// defines from the observed events, the book and the regime path —
//   market / limit types: λ_i(t) = μ_i m_i(regime) + Σ_j α_ij β Σ_{t_m^j < t} e^{−β (t − t_m^j)}
//                         (+ tick_move_rate / 2 for the market types),
//   cancel types:         Σ_{orders of the side} θ(d) c(regime) × h_c(t) / Λ_c, Λ = (I − α)^{-1} μ,
// and checks the time-rescaling theorem (Brown et al. 2002): between consecutive events of each
// type, the integrated intensity is Exp(1) (mean 1 ± 4.5/√n, KS below the 0.1 % value 1.95/√n).
// Regimes are on, so the regime multipliers of μ, θ and the tick moves are checked too.
struct Rescaled {
  std::vector<double> gaps[ft::kCount];
  double compensator[ft::kCount] = {};
  std::uint64_t count[ft::kCount] = {};
  std::vector<std::uint64_t> limit_at_distance;  // both sides, index = distance
  std::uint64_t invisible = 0;                   // arrivals without an event (empty side)
  std::size_t spells = 0;
};

Rescaled rescale(const SyntheticMarketConfig& c) {
  auto src = make_synthetic_market(c);
  const std::vector<Event> ev = read_all(*src);
  const std::vector<RegimeSpell> path = src->regime_path();
  Rescaled out;
  out.spells = path.size();
  out.invisible = src->tolerated().get("synthetic.market_orders_on_empty_side") +
                  src->tolerated().get("synthetic.tick_moves_on_empty_side");
  out.limit_at_distance.assign(c.max_distance + 1, 0);
  constexpr std::size_t d = ft::kCount;
  const Eigen::VectorXd mean =
      (Eigen::MatrixXd::Identity(d, d) - to_matrix(c.hawkes_alpha)).lu().solve(Eigen::Map<const Eigen::VectorXd>(c.hawkes_mu.data(), d));
  const RegimeParams neutral{"base", 1, 1, 1, 1, 0};
  auto regime = [&](TimestampNs t) -> const RegimeParams& {
    return path.empty() ? neutral : c.regimes[regime_at(path, t)];
  };
  // excitation[i][j] = α_ij β_ij Σ_{t_m^j < now} e^{−β_ij (now − t_m^j)}
  std::vector<std::vector<double>> excitation(d, std::vector<double>(d, 0.0));
  double cancel_weight[2] = {0, 0};        // Σ θ(d) c over the side's orders
  double since_last[d] = {};               // integrated intensity since the type's last event
  TimestampNs now = c.start_ns;
  L3Book book;
  Price last_best[2] = {kNoPrice, kNoPrice};
  const Price tick = c.tick_size;

  auto recompute_weights = [&](const RegimeParams& g) {
    for (int s = 0; s < 2; ++s) {
      const Side side = s == 0 ? Side::kBid : Side::kAsk;
      const Price anchor = last_best[1 - s];
      double w = 0;
      for (std::size_t i = 0; i < book.depth(side); ++i) {
        const book::Level l = book.level(side, i);
        const std::int64_t dist = s == 0 ? (anchor - l.price) / tick : (l.price - anchor) / tick;
        const std::size_t k = static_cast<std::size_t>(std::clamp<std::int64_t>(dist, 1, static_cast<std::int64_t>(c.cancel_rates.size())));
        w += c.cancel_rates[k - 1] * g.cancel_rate_multiplier * l.order_count;
      }
      cancel_weight[s] = w;
    }
  };
  // Integrates every intensity from `now` to t (nothing changes in between but the decay).
  auto integrate = [&](TimestampNs t) {
    const double dt = static_cast<double>(t - now) * 1e-9;
    const RegimeParams& g = regime(now);
    for (std::size_t i = 0; i < d; ++i) {
      double mu = c.hawkes_mu[i];
      if (i <= ft::kMarketSell) mu *= g.market_rate_multiplier;
      else if (i <= ft::kLimitAsk) mu *= g.limit_rate_multiplier;
      double integral = mu * dt;
      for (std::size_t j = 0; j < d; ++j) {
        const double beta = c.hawkes_beta[i][j];
        integral += excitation[i][j] * (1 - std::exp(-beta * dt)) / beta;
        excitation[i][j] *= std::exp(-beta * dt);
      }
      if (i >= ft::kCancelBid) integral *= cancel_weight[i - ft::kCancelBid] / mean(static_cast<Eigen::Index>(i));
      if (i <= ft::kMarketSell) integral += 0.5 * g.tick_move_rate * dt;
      since_last[i] += integral;
      out.compensator[i] += integral;
    }
    now = t;
  };
  std::size_t next_spell = 1;
  for (std::size_t k = 0; k < ev.size();) {
    const Event& e = ev[k];
    std::size_t end = k;  // the record's events [k, end]
    while (!ev[end].has(event_flags::kEndOfRecord)) ++end;
    if (e.record > 0) {
      while (next_spell < path.size() && path[next_spell].start_ns <= e.exch_ts_ns) {
        integrate(path[next_spell].start_ns);
        ++next_spell;
        recompute_weights(regime(now));
      }
      integrate(e.exch_ts_ns);
      const std::uint32_t type = flow_type_of(e);
      out.gaps[type].push_back(since_last[type]);
      since_last[type] = 0;
      ++out.count[type];
      for (std::size_t i = 0; i < d; ++i) excitation[i][type] += c.hawkes_alpha[i][type] * c.hawkes_beta[i][type];
      if (e.kind == EventKind::kAdd) {
        const int s = e.side == Side::kBid ? 0 : 1;
        const Price anchor = last_best[1 - s];
        const std::int64_t dist = s == 0 ? (anchor - e.price) / tick : (e.price - anchor) / tick;
        if (dist >= 1 && dist <= static_cast<std::int64_t>(c.max_distance)) ++out.limit_at_distance[static_cast<std::size_t>(dist)];
      }
    }
    for (std::size_t j = k; j <= end; ++j) EXPECT_EQ(book.apply(ev[j]), Errc::kOk);
    for (int s = 0; s < 2; ++s) {
      const book::Level l = book.best(s == 0 ? Side::kBid : Side::kAsk);
      if (l.price != kNoPrice) last_best[s] = l.price;
    }
    recompute_weights(regime(now));
    k = end + 1;
  }
  while (next_spell < path.size()) {
    integrate(path[next_spell].start_ns);
    ++next_spell;
    recompute_weights(regime(now));
  }
  integrate(c.start_ns + static_cast<TimestampNs>(std::llround(c.duration_s * 1e9)));
  return out;
}

void expect_unit_exponential(const Rescaled& r, const char* what) {
  static const char* kNames[] = {"market buy", "market sell", "limit bid", "limit ask", "cancel bid", "cancel ask"};
  for (std::size_t i = 0; i < ft::kCount; ++i) {
    const double n = static_cast<double>(r.gaps[i].size());
    ASSERT_GT(n, 500) << kNames[i];
    double mean = 0;
    for (double g : r.gaps[i]) mean += g;
    mean /= n;
    const double ks = ks_exp1(r.gaps[i]);
    std::printf("[flow] %s %-11s n %6.0f  rescaled mean %.4f  KS %.4f (0.1%% critical %.4f)  count/compensator %.4f\n",
                what, kNames[i], n, mean, ks, 1.95 / std::sqrt(n), n / r.compensator[i]);
    EXPECT_NEAR(mean, 1.0, 4.5 / std::sqrt(n)) << what << " " << kNames[i];
    EXPECT_LT(ks, 1.95 / std::sqrt(n)) << what << " " << kNames[i];
    // The count is its compensator at the end plus a martingale of variance ≈ the count.
    EXPECT_TRUE(within_sd(n, r.compensator[i], std::sqrt(n) + 1)) << what << " " << kNames[i];
  }
}

TEST(HawkesFlow, EveryEventTypeArrivesAtItsModelIntensity) {
  SyntheticMarketConfig c = hawkes_config(3600);
  const Rescaled r = rescale(c);
  EXPECT_LT(static_cast<double>(r.invisible), 0.002 * static_cast<double>(r.count[0] + r.count[1]));
  expect_unit_exponential(r, "hawkes");
  // The distance of limit orders follows λ(i) / Σ λ (CST): multinomial counts.
  double total = 0, norm = 0;
  for (std::uint32_t i = 1; i <= c.max_distance; ++i) {
    total += static_cast<double>(r.limit_at_distance[i]);
    norm += std::pow(static_cast<double>(i), -c.limit_rate_alpha);
  }
  EXPECT_GT(total, 0.999 * static_cast<double>(r.count[ft::kLimitBid] + r.count[ft::kLimitAsk]));
  for (std::uint32_t i = 1; i <= c.max_distance; ++i) {
    const double p = std::pow(static_cast<double>(i), -c.limit_rate_alpha) / norm;
    EXPECT_TRUE(within_sd(static_cast<double>(r.limit_at_distance[i]), total * p, std::sqrt(total * p * (1 - p))))
        << "distance " << i;
  }
}

TEST(HawkesFlow, DistinctDecayRatesPerPairAreSimulatedExactlyToo) {
  // Three decay rates: market orders' kernels fast, limit orders' slow, cancels' in between.
  SyntheticMarketConfig c = hawkes_config(2400);
  for (std::size_t i = 0; i < ft::kCount; ++i) {
    for (std::size_t j = 0; j < ft::kCount; ++j) c.hawkes_beta[i][j] = j <= ft::kMarketSell ? 20.0 : j <= ft::kLimitAsk ? 1.5 : 6.0;
  }
  const Rescaled r = rescale(c);
  EXPECT_LT(static_cast<double>(r.invisible), 0.002 * static_cast<double>(r.count[0] + r.count[1]));
  expect_unit_exponential(r, "3 decay rates");
}

TEST(HawkesFlow, IntensitiesFollowTheRegimeMultipliers) {
  SyntheticMarketConfig c = hawkes_config(3600);
  with_default_regimes(c, 10);
  // Softer extremes than the default crisis so that the sides rarely run empty (an arrival on an
  // empty side leaves no event to rescale).
  c.regimes[3].market_rate_multiplier = 2.0;
  c.regimes[3].size_multiplier = 1.25;
  const Rescaled r = rescale(c);
  EXPECT_GT(r.spells, 20u);
  EXPECT_LT(static_cast<double>(r.invisible), 0.01 * static_cast<double>(r.count[0] + r.count[1]));
  expect_unit_exponential(r, "hawkes+regimes");
}

TEST(HawkesFlow, CancelsWithoutExcitationAreTheCstCancelRates) {
  // With no excitation at all, h_c(t) / Λ_c = 1: every resting order is canceled at θ(d) per
  // second, exactly CST's Poisson cancellation; market and limit orders are Poisson at μ.
  SyntheticMarketConfig c = hawkes_config(1800);
  for (auto& row : c.hawkes_alpha) std::fill(row.begin(), row.end(), 0.0);
  c.hawkes_mu = {0.94, 0.94, 9.4, 9.4, 3.0, 3.0};
  const Rescaled r = rescale(c);
  expect_unit_exponential(r, "no-excitation");
  for (std::uint32_t i = ft::kMarketBuy; i <= ft::kLimitAsk; ++i) {
    const double expected = c.hawkes_mu[i] * c.duration_s;
    EXPECT_TRUE(within_sd(static_cast<double>(r.count[i]), expected, std::sqrt(expected)));
  }
}

// ---------------------------------------------------------------------------------------------
// Hawkes flow: recovering the parameters by maximum likelihood from the event stream

/// Observed information −∇² log L of a d-variate Hawkes process with one decay rate β, at the
/// parameters p, parameter order (μ_0..μ_{d−1}, α_00, α_01, …, α_{d−1,d−1}, β). Analytic:
/// λ_i = μ_i + β Σ_j α_ij A_j with A_j, B_j, C_j = Σ_{t_m^j < t} s^n e^{−β s} (n = 0, 1, 2), so
/// ∂λ_i/∂μ_i = 1, ∂λ_i/∂α_ij = β A_j, ∂λ_i/∂β = Σ_j α_ij (A_j − β B_j), ∂²λ_i/∂α_ij∂β = A_j − β B_j,
/// ∂²λ_i/∂β² = Σ_j α_ij (β C_j − 2 B_j); the compensator μ_i T + Σ_j α_ij (N_j − A_j(T)) has
/// ∂²/∂α_ij∂β = B_j(T) and ∂²/∂β² = −Σ_j α_ij C_j(T).
Eigen::MatrixXd observed_information(const HawkesParams& p, const std::vector<PointEvent>& ev, double horizon) {
  const std::size_t d = p.dims();
  const double beta = p.beta[0][0];
  const std::size_t np = d + d * d + 1;
  const std::size_t ib = np - 1;
  Eigen::MatrixXd h = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(np), static_cast<Eigen::Index>(np));
  std::vector<double> a(d, 0.0), b(d, 0.0), cc(d, 0.0), count(d, 0.0), pending(d, 0.0);
  double now = 0;
  auto advance = [&](double t) {
    for (std::size_t j = 0; j < d; ++j) {
      a[j] += pending[j];
      pending[j] = 0;
    }
    const double s = t - now;
    const double e = std::exp(-beta * s);
    for (std::size_t j = 0; j < d; ++j) {
      cc[j] = e * (cc[j] + 2 * s * b[j] + s * s * a[j]);
      b[j] = e * (b[j] + s * a[j]);
      a[j] *= e;
    }
    now = t;
  };
  Eigen::VectorXd g(static_cast<Eigen::Index>(np));
  for (const PointEvent& e : ev) {
    if (e.t != now) advance(e.t);
    const std::size_t i = e.type;
    double lambda = p.mu[i];
    for (std::size_t j = 0; j < d; ++j) lambda += beta * p.alpha[i][j] * a[j];
    g.setZero();
    g(static_cast<Eigen::Index>(i)) = 1;
    double dbeta = 0, d2beta = 0;
    for (std::size_t j = 0; j < d; ++j) {
      g(static_cast<Eigen::Index>(d + i * d + j)) = beta * a[j];
      dbeta += p.alpha[i][j] * (a[j] - beta * b[j]);
      d2beta += p.alpha[i][j] * (beta * cc[j] - 2 * b[j]);
    }
    g(static_cast<Eigen::Index>(ib)) = dbeta;
    h -= g * g.transpose() / (lambda * lambda);
    for (std::size_t j = 0; j < d; ++j) {
      const auto q = static_cast<Eigen::Index>(d + i * d + j);
      h(q, static_cast<Eigen::Index>(ib)) += (a[j] - beta * b[j]) / lambda;
      h(static_cast<Eigen::Index>(ib), q) += (a[j] - beta * b[j]) / lambda;
    }
    h(static_cast<Eigen::Index>(ib), static_cast<Eigen::Index>(ib)) += d2beta / lambda;
    pending[i] += 1;
    count[i] += 1;
  }
  advance(horizon);
  for (std::size_t i = 0; i < d; ++i) {
    for (std::size_t j = 0; j < d; ++j) {
      const auto q = static_cast<Eigen::Index>(d + i * d + j);
      h(q, static_cast<Eigen::Index>(ib)) -= b[j];
      h(static_cast<Eigen::Index>(ib), q) -= b[j];
      h(static_cast<Eigen::Index>(ib), static_cast<Eigen::Index>(ib)) += p.alpha[i][j] * cc[j];
    }
  }
  return -h;
}

TEST(HawkesFlow, MaximumLikelihoodRecoversTheMarketAndLimitOrderParameters) {
  // Cancels excite nothing here (their columns of α are 0), so market buys, market sells, limit
  // bids and limit asks form an exact 4-variate Hawkes process with the top-left block of the
  // parameters, whatever the book does: fit it from the event stream and compare every parameter
  // with the truth, within 4 standard errors of the observed information.
  SyntheticMarketConfig c = hawkes_config(2400);
  for (auto& row : c.hawkes_alpha) row[ft::kCancelBid] = row[ft::kCancelAsk] = 0;
  auto src = make_synthetic_market(c);
  const std::vector<Event> ev = read_all(*src);
  std::vector<PointEvent> flow;
  std::uint64_t last_record = 0;
  for (const Event& e : ev) {
    if (e.record == 0 || e.record == last_record) continue;
    last_record = e.record;
    const std::uint32_t type = flow_type_of(e);
    if (type <= ft::kLimitAsk) flow.push_back(PointEvent{static_cast<double>(e.exch_ts_ns - c.start_ns) * 1e-9, type});
  }
  // A market order that finds its side empty leaves no event (it still excites the flow): rare
  // enough here not to matter.
  std::uint64_t markets = 0;
  for (const PointEvent& e : flow) markets += e.type <= ft::kMarketSell;
  EXPECT_LT(static_cast<double>(src->tolerated().get("synthetic.market_orders_on_empty_side")), 0.005 * static_cast<double>(markets));
  EXPECT_EQ(src->tolerated().get("synthetic.limit_orders_at_nonpositive_price"), 0u);
  const HawkesFit fit = fit_hawkes(flow, c.duration_s, 4, true);
  EXPECT_TRUE(fit.converged);
  HawkesParams truth;
  truth.mu.assign(c.hawkes_mu.begin(), c.hawkes_mu.begin() + 4);
  for (std::size_t i = 0; i < 4; ++i) {
    truth.alpha.emplace_back(c.hawkes_alpha[i].begin(), c.hawkes_alpha[i].begin() + 4);
    truth.beta.emplace_back(4, c.hawkes_beta[0][0]);
  }
  const Eigen::MatrixXd info = observed_information(fit.params, flow, c.duration_s);
  const Eigen::MatrixXd cov = info.inverse();
  static const char* kShort[] = {"MB", "MS", "LB", "LA"};
  std::printf("[flow] %zu flow events over %.0f s; fit: %u iterations, log L %.2f (truth %.2f)\n", flow.size(),
              c.duration_s, fit.iterations, fit.log_likelihood, hawkes_log_likelihood(truth, flow, c.duration_s));
  auto check = [&](const std::string& name, double fitted, double true_value, Eigen::Index k) {
    const double se = std::sqrt(cov(k, k));
    std::printf("[flow] %-12s true %.4f  fit %.4f  se %.4f  z %+.2f\n", name.c_str(), true_value, fitted, se,
                (fitted - true_value) / se);
    EXPECT_LE(std::fabs(fitted - true_value), 4 * se) << name;
    return se;
  };
  for (std::size_t i = 0; i < 4; ++i) check(std::string("mu ") + kShort[i], fit.params.mu[i], truth.mu[i], static_cast<Eigen::Index>(i));
  for (std::size_t i = 0; i < 4; ++i) {
    for (std::size_t j = 0; j < 4; ++j) {
      const double se = check(std::string("alpha ") + kShort[i] + "<-" + kShort[j], fit.params.alpha[i][j],
                              truth.alpha[i][j], static_cast<Eigen::Index>(4 + i * 4 + j));
      // Excitation between event types is visible in the stream: the replenishment of the ask
      // side after market buys (and of the bids after market sells) is far from zero.
      if ((i == ft::kLimitAsk && j == ft::kMarketBuy) || (i == ft::kLimitBid && j == ft::kMarketSell)) {
        EXPECT_GT(fit.params.alpha[i][j], 4 * se);
      }
    }
  }
  check("beta", fit.params.beta[0][0], c.hawkes_beta[0][0], 20);
}

// ---------------------------------------------------------------------------------------------
// Volatility regimes

TEST(Regimes, PathStartsInTheInitialRegimeAndOnlyTakesAllowedTransitions) {
  SyntheticMarketConfig c;
  c.duration_s = 3600;
  with_default_regimes(c, 30);
  c.initial_regime = "high";
  auto src = make_synthetic_market(c);
  EXPECT_EQ(src->regime(), 2u);
  ASSERT_EQ(src->regime_path().size(), 1u);
  EXPECT_EQ(src->regime_path()[0].start_ns, c.start_ns);
  (void)read_all(*src);
  const auto& path = src->regime_path();
  ASSERT_GT(path.size(), 50u);
  EXPECT_EQ(path[0].regime, 2u);
  const TimestampNs end_ns = c.start_ns + 3'600'000'000'000;
  for (std::size_t k = 1; k < path.size(); ++k) {
    EXPECT_GT(path[k].start_ns, path[k - 1].start_ns);
    EXPECT_LE(path[k].start_ns, end_ns);
    EXPECT_NE(path[k].regime, path[k - 1].regime);
    EXPECT_GT(c.regime_transition[path[k - 1].regime][path[k].regime], 0) << k;
  }
  EXPECT_EQ(src->regime(), path.back().regime);
  // Regimes off: no path.
  SyntheticMarketConfig off;
  off.duration_s = 10;
  auto plain = make_synthetic_market(off);
  (void)read_all(*plain);
  EXPECT_TRUE(plain->regime_path().empty());
  EXPECT_EQ(plain->regime(), 0u);
}

TEST(Regimes, OccupationMatchesTheStationaryDistributionOfTheChain) {
  // The default chain 30 times faster (mean stays 30 s, 20 s, 10 s, 2 s) over 40,000 s.
  // Stationary π: π Q = 0, Σ π = 1. The occupation fraction of regime i over T has asymptotic
  // variance 2 π_i Z_ii / T, Z = (1π − Q)^{-1} − 1π the fundamental matrix of the chain
  // (central limit theorem for additive functionals of an ergodic Markov chain).
  SyntheticMarketConfig c;
  c.duration_s = 40'000;
  c.limit_rate_k = 0.5;  // a light flow: the chain does not depend on it
  c.market_rate = 0.1;
  with_default_regimes(c, 30);
  const Eigen::MatrixXd q0 = to_matrix(c.regime_transition);
  Eigen::MatrixXd q = q0;
  for (Eigen::Index i = 0; i < q.rows(); ++i) q(i, i) = -q0.row(i).sum();
  const Eigen::Index n = q.rows();
  Eigen::MatrixXd a(n + 1, n);
  a << q.transpose(), Eigen::RowVectorXd::Ones(n);
  Eigen::VectorXd rhs = Eigen::VectorXd::Zero(n + 1);
  rhs(n) = 1;
  const Eigen::VectorXd pi = a.colPivHouseholderQr().solve(rhs);
  const Eigen::MatrixXd one_pi = Eigen::VectorXd::Ones(n) * pi.transpose();
  const Eigen::MatrixXd z = (one_pi - q).inverse() - one_pi;

  auto src = make_synthetic_market(c);
  (void)read_all(*src);
  const auto& path = src->regime_path();
  const std::vector<double> occ = occupation_s(path, static_cast<std::size_t>(n), c.start_ns + static_cast<TimestampNs>(c.duration_s * 1e9));
  for (Eigen::Index i = 0; i < n; ++i) {
    const double frac = occ[static_cast<std::size_t>(i)] / c.duration_s;
    const double sd = std::sqrt(2 * pi(i) * z(i, i) / c.duration_s);
    std::printf("[regimes] %-7s occupation %.4f  stationary %.4f  sd %.4f\n", c.regimes[static_cast<std::size_t>(i)].name.c_str(),
                frac, pi(i), sd);
    EXPECT_TRUE(within_sd(frac, pi(i), sd)) << c.regimes[static_cast<std::size_t>(i)].name;
  }
  // Jumps out of regime r: Poisson at the row's rate over the time spent there; the target q
  // with probability Q[r][q] / Σ Q[r][·] (binomial).
  std::vector<std::vector<double>> jumps(static_cast<std::size_t>(n), std::vector<double>(static_cast<std::size_t>(n), 0));
  for (std::size_t k = 1; k < path.size(); ++k) jumps[path[k - 1].regime][path[k].regime] += 1;
  for (std::size_t r = 0; r < static_cast<std::size_t>(n); ++r) {
    double out = 0, rate = 0;
    for (std::size_t t = 0; t < static_cast<std::size_t>(n); ++t) {
      out += jumps[r][t];
      if (t != r) rate += c.regime_transition[r][t];
    }
    const double expected = rate * occ[r];
    EXPECT_TRUE(within_sd(out, expected, std::sqrt(expected) + 1)) << "jumps out of " << c.regimes[r].name;
    for (std::size_t t = 0; t < static_cast<std::size_t>(n); ++t) {
      if (t == r) continue;
      const double p = c.regime_transition[r][t] / rate;
      EXPECT_TRUE(within_sd(jumps[r][t], out * p, std::sqrt(out * p * (1 - p)) + 0.5)) << c.regimes[r].name << " -> " << c.regimes[t].name;
    }
  }
}

TEST(Regimes, PoissonRatesAndSizesScaleWithTheRegime) {
  // In Poisson mode the counts per regime are Poisson with mean (rate × multiplier) × time there:
  // limit orders 2 Σλ(i) m_limit, market orders 2 μ m_market + tick_move_rate (a tick move is a
  // market order); the mean limit order size is mean_order_size × size_multiplier.
  SyntheticMarketConfig c;
  c.duration_s = 20'000;
  with_balanced_regimes(c);
  auto src = make_synthetic_market(c);
  const std::vector<Event> ev = read_all(*src);
  const auto& path = src->regime_path();
  const std::size_t n = c.regimes.size();
  const std::vector<double> occ = occupation_s(path, n, c.start_ns + static_cast<TimestampNs>(c.duration_s * 1e9));
  std::vector<double> limits(n, 0), markets(n, 0), size_sum(n, 0);
  std::uint64_t last_record = 0;
  for (const Event& e : ev) {
    if (e.record == 0 || e.record == last_record) continue;
    last_record = e.record;
    const std::uint32_t r = regime_at(path, e.exch_ts_ns);
    if (e.kind == EventKind::kAdd) {
      limits[r] += 1;
      size_sum[r] += static_cast<double>(e.qty);
    } else if (e.kind == EventKind::kExecution) {
      markets[r] += 1;
    }
  }
  double sum_lambda = 0;
  for (std::uint32_t i = 1; i <= c.max_distance; ++i) sum_lambda += c.limit_rate_k * std::pow(static_cast<double>(i), -c.limit_rate_alpha);
  const double invisible = static_cast<double>(src->tolerated().get("synthetic.market_orders_on_empty_side") +
                                               src->tolerated().get("synthetic.tick_moves_on_empty_side"));
  for (std::size_t r = 0; r < n; ++r) {
    const RegimeParams& g = c.regimes[r];
    ASSERT_GT(occ[r], 100) << g.name;
    const double el = 2 * sum_lambda * g.limit_rate_multiplier * occ[r];
    EXPECT_TRUE(within_sd(limits[r], el, std::sqrt(el))) << g.name << " limit orders";
    const double em = (2 * c.market_rate * g.market_rate_multiplier + g.tick_move_rate) * occ[r];
    EXPECT_LE(std::fabs(markets[r] - em), 4.5 * std::sqrt(em) + invisible) << g.name << " market orders";
    const double mean = c.mean_order_size * g.size_multiplier;
    const double p = 1 / mean;
    EXPECT_TRUE(within_sd(size_sum[r] / limits[r], mean, std::sqrt((1 - p) / (p * p) / limits[r]))) << g.name << " sizes";
    std::printf("[regimes] %-7s %7.0f s: limit orders %.3f/s (expected %.3f), market orders %.3f/s (%.3f), mean size %.3f (%.3f)\n",
                g.name.c_str(), occ[r], limits[r] / occ[r], el / occ[r], markets[r] / occ[r], em / occ[r],
                size_sum[r] / limits[r], mean);
  }
}

/// Realized variance of the mid per second in each regime: squared changes of the mid sampled
/// every second, over the seconds that lie inside one spell, with a standard error from the
/// sample of squared changes.
struct RealizedVariance {
  std::vector<double> per_s, se, seconds;
};

RealizedVariance realized_variance(const SyntheticMarketConfig& c) {
  auto src = make_synthetic_market(c);
  const std::vector<Event> ev = read_all(*src);
  const auto& path = src->regime_path();
  L3Book book;
  std::vector<double> mids;
  TimestampNs next = c.start_ns;
  double mid = 0;
  for (const Event& e : ev) {
    while (e.exch_ts_ns >= next && mid != 0) {
      mids.push_back(mid);
      next += 1'000'000'000;
    }
    EXPECT_EQ(book.apply(e), Errc::kOk);
    const book::Level b = book.best(Side::kBid);
    const book::Level a = book.best(Side::kAsk);
    if (e.has(event_flags::kComplete) && b.price != kNoPrice && a.price != kNoPrice) {
      mid = 0.5 * static_cast<double>(b.price + a.price) / static_cast<double>(c.tick_size);
    }
  }
  const std::size_t n = c.regimes.size();
  std::vector<double> s1(n, 0), s2(n, 0), cnt(n, 0);
  for (std::size_t k = 1; k < mids.size(); ++k) {
    const TimestampNs t0 = c.start_ns + static_cast<TimestampNs>(k - 1) * 1'000'000'000;
    const TimestampNs t1 = t0 + 1'000'000'000;
    const std::uint32_t r = regime_at(path, t0);
    if (regime_at(path, t1) != r) continue;
    auto it = std::upper_bound(path.begin(), path.end(), t0, [](TimestampNs x, const RegimeSpell& s) { return x < s.start_ns; });
    if (it != path.end() && it->start_ns <= t1) continue;  // a switch inside the second
    const double d2 = (mids[k] - mids[k - 1]) * (mids[k] - mids[k - 1]);
    s1[r] += d2;
    s2[r] += d2 * d2;
    cnt[r] += 1;
  }
  RealizedVariance out;
  for (std::size_t r = 0; r < n; ++r) {
    const double m = s1[r] / cnt[r];
    out.per_s.push_back(m);
    out.se.push_back(std::sqrt((s2[r] / cnt[r] - m * m) / cnt[r]));
    out.seconds.push_back(cnt[r]);
  }
  return out;
}

void expect_volatility_ordering(const SyntheticMarketConfig& c, const char* what) {
  const RealizedVariance rv = realized_variance(c);
  for (std::size_t r = 0; r < rv.per_s.size(); ++r) {
    std::printf("[regimes] %s %-7s %6.0f s: realized variance %.3f ticks²/s (se %.3f), volatility %.3f ticks/√s\n", what,
                c.regimes[r].name.c_str(), rv.seconds[r], rv.per_s[r], rv.se[r], std::sqrt(rv.per_s[r]));
  }
  // low < medium < high < crisis, each step by more than 4 standard errors of the difference
  // (the standard errors treat the 1-second squared changes as independent: a sanity margin,
  // the differences are large).
  for (std::size_t r = 1; r < rv.per_s.size(); ++r) {
    EXPECT_GT(rv.per_s[r] - rv.per_s[r - 1], 4 * std::hypot(rv.se[r], rv.se[r - 1]))
        << what << ": " << c.regimes[r].name << " vs " << c.regimes[r - 1].name;
  }
  EXPECT_GT(rv.per_s[2], 2 * rv.per_s[0]) << what << ": high vs low";
  EXPECT_GT(rv.per_s[3], 4 * rv.per_s[0]) << what << ": crisis vs low";
}

TEST(Regimes, RealizedVolatilityRisesFromLowToCrisis) {
  SyntheticMarketConfig c;
  c.duration_s = 20'000;
  with_balanced_regimes(c);
  expect_volatility_ordering(c, "poisson");
  c.flow = FlowModel::kHawkes;
  expect_volatility_ordering(c, "hawkes");
}

// ---------------------------------------------------------------------------------------------
// Configuration

TEST(FlowConfig, BadValuesThrowNamingTheField) {
  struct Case {
    std::string field;
    std::function<void(SyntheticMarketConfig&)> set;
  };
  auto regimes = [](SyntheticMarketConfig& c) { with_default_regimes(c); };
  const std::vector<Case> cases = {
      {"flow", [](auto& c) { c.flow = static_cast<FlowModel>(7); }},
      {"hawkes_mu", [](auto& c) { c.hawkes_mu.pop_back(); }},
      {"hawkes_mu[2]", [](auto& c) { c.hawkes_mu[2] = -1; }},
      {"hawkes_mu[4]", [](auto& c) { c.hawkes_mu[4] = 0; }},  // cancels are modulated relative to it
      {"hawkes_mu[0]", [](auto& c) { c.hawkes_mu[0] = 1e6; }},
      {"hawkes_alpha", [](auto& c) { c.hawkes_alpha.pop_back(); }},
      {"hawkes_alpha[3]", [](auto& c) { c.hawkes_alpha[3].push_back(0); }},
      {"hawkes_alpha[1][5]", [](auto& c) { c.hawkes_alpha[1][5] = -0.1; }},
      {"hawkes_alpha", [](auto& c) { c.hawkes_alpha[0][0] = 1.2; }},  // spectral radius > 1
      {"hawkes_beta[2][2]", [](auto& c) { c.hawkes_beta[2][2] = 0; }},
      {"hawkes_beta[0][1]", [](auto& c) { c.hawkes_beta[0][1] = 1e12; }},
      {"regime_transition", [](auto& c) { c.regime_transition = {{0}}; }},
      {"initial_regime", [](auto& c) { c.initial_regime = "low"; }},
      {"regimes[1].name", [regimes](auto& c) { regimes(c); c.regimes[1].name = "low"; }},
      {"regimes[0].name", [regimes](auto& c) { regimes(c); c.regimes[0].name = ""; }},
      {"regimes[2].limit_rate_multiplier", [regimes](auto& c) { regimes(c); c.regimes[2].limit_rate_multiplier = -1; }},
      {"regimes[2].market_rate_multiplier", [regimes](auto& c) { regimes(c); c.regimes[2].market_rate_multiplier = 1e9; }},
      {"regimes[3].cancel_rate_multiplier", [regimes](auto& c) { regimes(c); c.regimes[3].cancel_rate_multiplier = 0; }},
      {"regimes[3].size_multiplier", [regimes](auto& c) { regimes(c); c.regimes[3].size_multiplier = 0.1; }},
      {"regimes[1].tick_move_rate", [regimes](auto& c) { regimes(c); c.regimes[1].tick_move_rate = std::nan(""); }},
      {"regime_transition", [regimes](auto& c) { regimes(c); c.regime_transition.pop_back(); }},
      {"regime_transition[2]", [regimes](auto& c) { regimes(c); c.regime_transition[2].pop_back(); }},
      {"regime_transition[1][0]", [regimes](auto& c) { regimes(c); c.regime_transition[1][0] = -0.1; }},
      {"regime_transition[1][1]", [regimes](auto& c) { regimes(c); c.regime_transition[1][1] = 0.5; }},
      {"initial_regime", [regimes](auto& c) { regimes(c); c.initial_regime = "calm"; }},
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
  // Valid: the diagonal may be minus the row sum; a single regime with no transitions.
  SyntheticMarketConfig ok;
  with_default_regimes(ok);
  ok.regime_transition[1][1] = -(ok.regime_transition[1][0] + ok.regime_transition[1][2]);
  EXPECT_NO_THROW((void)make_synthetic_market(ok));
  SyntheticMarketConfig one;
  one.regimes = {RegimeParams{"only", 1, 1, 1, 1, 0.5}};
  one.regime_transition = {{0}};
  one.duration_s = 60;
  auto src = make_synthetic_market(one);
  (void)read_all(*src);
  EXPECT_EQ(src->regime_path().size(), 1u);
}

TEST(FlowConfig, DefaultRegimesAreLowMediumHighCrisisWithTheDocumentedMeanStays) {
  const auto r = default_regimes();
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].name, "low");
  EXPECT_EQ(r[1].name, "medium");
  EXPECT_EQ(r[2].name, "high");
  EXPECT_EQ(r[3].name, "crisis");
  // medium is the base market.
  EXPECT_EQ(r[1].limit_rate_multiplier, 1);
  EXPECT_EQ(r[1].market_rate_multiplier, 1);
  EXPECT_EQ(r[1].cancel_rate_multiplier, 1);
  EXPECT_EQ(r[1].size_multiplier, 1);
  EXPECT_EQ(r[1].tick_move_rate, 0);
  const auto q = default_regime_transition();
  const double stays[] = {900, 600, 300, 60};
  for (std::size_t i = 0; i < 4; ++i) {
    double out = 0;
    for (std::size_t j = 0; j < 4; ++j) out += j == i ? 0 : q[i][j];
    EXPECT_NEAR(1 / out, stays[i], 1e-9) << r[i].name;
  }
  // Default Hawkes parameters: stationary means 0.94 market and 9.406 limit orders per second per
  // side (the CST rates), spectral radius 0.45.
  const SyntheticMarketConfig c;
  const HawkesParams p{c.hawkes_mu, c.hawkes_alpha, c.hawkes_beta};
  EXPECT_NEAR(p.spectral_radius(), 0.45, 1e-9);
  const Eigen::VectorXd mean = (Eigen::MatrixXd::Identity(6, 6) - to_matrix(c.hawkes_alpha)).lu().solve(Eigen::Map<const Eigen::VectorXd>(c.hawkes_mu.data(), 6));
  EXPECT_NEAR(mean(0), 0.94, 1e-3);
  EXPECT_NEAR(mean(2), 1.92 * 4.8991, 2e-3);
}

}  // namespace
}  // namespace mmkit::sim
