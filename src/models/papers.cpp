#include "mmkit/models/papers.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <unsupported/Eigen/MatrixFunctions>

#include "mmkit/core/error.h"
#include "mmkit/exchange/models.h"

namespace mmkit::models {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void require(bool ok, const std::string& what) {
  if (!ok) throw Error(what);
}

bool positive(double v) { return std::isfinite(v) && v > 0; }

// Welford running mean / sample variance.
struct Moments {
  double n = 0, mean = 0, m2 = 0;
  void add(double x) noexcept {
    n += 1;
    const double d = x - mean;
    mean += d / n;
    m2 += d * (x - mean);
  }
  [[nodiscard]] double std() const noexcept { return n > 1 ? std::sqrt(m2 / (n - 1)) : kNaN; }
};

std::int64_t as_steps(double T, double dt) { return std::llround(T / dt); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Avellaneda & Stoikov (2008)

// Tables 1-3 of the paper (1000 simulations each).
const std::array<AsPaperRow, 6> kAvellanedaStoikovTables{{
    {0.1, AsStrategy::kInventory, 1.29, 62.94, 5.89, 0.10, 2.80},
    {0.1, AsStrategy::kSymmetric, 1.29, 67.21, 13.43, -0.018, 8.66},
    {0.01, AsStrategy::kInventory, 1.33, 66.78, 8.76, -0.02, 4.70},
    {0.01, AsStrategy::kSymmetric, 1.33, 67.36, 13.40, -0.31, 8.65},
    {1.0, AsStrategy::kInventory, 1.15, 33.92, 4.72, -0.02, 1.88},
    {1.0, AsStrategy::kSymmetric, 1.15, 66.20, 14.53, 0.25, 9.06},
}};

const char* to_string(AsStrategy s) noexcept {
  return s == AsStrategy::kInventory ? "inventory" : "symmetric";
}

double as_spread(double gamma, double sigma, double tau, double k) noexcept {
  return gamma * sigma * sigma * tau + (2.0 / gamma) * std::log1p(gamma / k);
}

double as_reservation_price(double s, double q, double gamma, double sigma, double tau) noexcept {
  return s - q * gamma * sigma * sigma * tau;
}

double as_average_spread(double gamma, double sigma, double T, double dt, double k) noexcept {
  const double n = static_cast<double>(as_steps(T, dt));
  return (2.0 / gamma) * std::log1p(gamma / k) + gamma * sigma * sigma * (T - (n - 1) * dt / 2.0);
}

AsSimRow simulate_avellaneda_stoikov(const AsSimConfig& c, double gamma, AsStrategy strategy,
                                     double symmetric_spread) {
  require(std::isfinite(c.s0), "avellaneda-stoikov-2008: s0 must be finite");
  require(positive(c.T) && positive(c.dt) && c.dt <= c.T, "avellaneda-stoikov-2008: need 0 < dt <= T");
  require(positive(c.sigma) && positive(c.A) && positive(c.k),
          "avellaneda-stoikov-2008: sigma, A and k must be > 0");
  require(positive(gamma), "avellaneda-stoikov-2008: gamma must be > 0");
  require(c.paths >= 2, "avellaneda-stoikov-2008: need at least 2 paths");
  require(std::fabs(static_cast<double>(as_steps(c.T, c.dt)) * c.dt - c.T) <= 1e-9 * c.T,
          "avellaneda-stoikov-2008: T must be a whole number of steps dt");
  if (strategy == AsStrategy::kSymmetric) {
    require(std::isfinite(symmetric_spread) && symmetric_spread >= 0,
            "avellaneda-stoikov-2008: the symmetric spread must be finite and >= 0");
  }
  const std::int64_t steps = as_steps(c.T, c.dt);
  const double dS = c.sigma * std::sqrt(c.dt);
  const double var_rate = gamma * c.sigma * c.sigma;
  const double liquidity = (2.0 / gamma) * std::log1p(gamma / c.k);
  const bool linear = c.fill == AsFillProbability::kLinear;
  auto hit_probability = [&](double delta) {
    const double l = c.A * std::exp(-c.k * delta) * c.dt;
    return linear ? std::min(1.0, l) : -std::expm1(-l);
  };

  exchange::Rng rng(c.seed);
  Moments profit, final_q;
  double spread_sum = 0;
  for (std::uint32_t p = 0; p < c.paths; ++p) {
    double s = c.s0, cash = 0;
    std::int64_t q = c.q0;
    for (std::int64_t n = 0; n < steps; ++n) {
      const double u_mid = rng.uniform();
      const double u_b = rng.uniform();
      const double u_a = rng.uniform();
      double bid, ask;
      if (strategy == AsStrategy::kInventory) {
        const double tau = c.T - static_cast<double>(n) * c.dt;
        const double spread = var_rate * tau + liquidity;
        const double r = s - static_cast<double>(q) * var_rate * tau;
        bid = r - spread / 2;
        ask = r + spread / 2;
        if (p == 0) spread_sum += spread;
      } else {
        bid = s - symmetric_spread / 2;
        ask = s + symmetric_spread / 2;
      }
      if (c.timing == AsTiming::kMoveThenFill) s += u_mid < 0.5 ? dS : -dS;
      if (u_b < hit_probability(s - bid)) {
        ++q;
        cash -= bid;
      }
      if (u_a < hit_probability(ask - s)) {
        --q;
        cash += ask;
      }
      if (c.timing == AsTiming::kFillThenMove) s += u_mid < 0.5 ? dS : -dS;
    }
    profit.add(cash + static_cast<double>(q) * s);
    final_q.add(static_cast<double>(q));
  }
  AsSimRow row;
  row.gamma = gamma;
  row.strategy = strategy;
  row.spread = strategy == AsStrategy::kInventory ? spread_sum / static_cast<double>(steps) : symmetric_spread;
  row.profit_mean = profit.mean;
  row.profit_std = profit.std();
  row.final_q_mean = final_q.mean;
  row.final_q_std = final_q.std();
  row.paths = c.paths;
  return row;
}

std::vector<AsSimRow> run_avellaneda_stoikov_2008(const AsSimConfig& c) {
  require(!c.gammas.empty(), "avellaneda-stoikov-2008: no gamma given");
  std::vector<AsSimRow> rows;
  rows.reserve(2 * c.gammas.size());
  for (const double g : c.gammas) {
    const AsSimRow inv = simulate_avellaneda_stoikov(c, g, AsStrategy::kInventory, 0.0);
    rows.push_back(inv);
    rows.push_back(simulate_avellaneda_stoikov(c, g, AsStrategy::kSymmetric, inv.spread));
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Guéant, Lehalle & Fernandez-Tapia (2013)

namespace {

void check_glft(const GlftModel& m) {
  require(positive(m.sigma) && positive(m.A) && positive(m.k) && positive(m.gamma) && positive(m.T),
          "glft-2013: sigma, A, k, gamma and T must be finite and > 0");
  require(m.Q >= 1 && m.Q <= 2000, "glft-2013: Q must be in 1..2000");
}

GlftQuotes quotes_from(const GlftModel& m, const Eigen::VectorXd& v) {
  const int n = 2 * m.Q + 1;
  const double base = std::log1p(m.gamma / m.k) / m.gamma;
  GlftQuotes out;
  out.q.resize(n);
  out.bid.assign(n, kNaN);
  out.ask.assign(n, kNaN);
  for (int i = 0; i < n; ++i) {
    out.q[i] = i - m.Q;
    if (i + 1 < n) out.bid[i] = std::log(v(i) / v(i + 1)) / m.k + base;
    if (i > 0) out.ask[i] = std::log(v(i) / v(i - 1)) / m.k + base;
  }
  return out;
}

double smallest_eigenvalue(const Eigen::MatrixXd& M, Eigen::VectorXd* vec) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(M);
  require(es.info() == Eigen::Success, "glft-2013: eigen decomposition of M failed");
  if (vec != nullptr) *vec = es.eigenvectors().col(0);
  return es.eigenvalues()(0);
}

}  // namespace

double glft_alpha(const GlftModel& m) noexcept { return 0.5 * m.k * m.gamma * m.sigma * m.sigma; }

double glft_eta(const GlftModel& m) noexcept {
  return m.A * std::pow(1.0 + m.gamma / m.k, -(1.0 + m.k / m.gamma));
}

Eigen::MatrixXd glft_matrix(const GlftModel& m) {
  check_glft(m);
  const int n = 2 * m.Q + 1;
  const double a = glft_alpha(m), e = glft_eta(m);
  Eigen::MatrixXd M = Eigen::MatrixXd::Zero(n, n);
  for (int i = 0; i < n; ++i) {
    const double q = i - m.Q;
    M(i, i) = a * q * q;
    if (i + 1 < n) M(i, i + 1) = M(i + 1, i) = -e;
  }
  return M;
}

Eigen::VectorXd glft_v(const GlftModel& m, double t) {
  const Eigen::MatrixXd M = glft_matrix(m);
  require(std::isfinite(t) && t >= 0 && t <= m.T, "glft-2013: t must be in [0, T]");
  const double tau = m.T - t;
  const double mu = smallest_eigenvalue(M, nullptr);
  const Eigen::MatrixXd shifted = M - mu * Eigen::MatrixXd::Identity(M.rows(), M.cols());
  const Eigen::MatrixXd E = (-tau * shifted).exp();
  return E * Eigen::VectorXd::Ones(M.rows());
}

GlftQuotes glft_exact_quotes(const GlftModel& m, double t) { return quotes_from(m, glft_v(m, t)); }

GlftQuotes glft_limit_quotes(const GlftModel& m) {
  Eigen::VectorXd f;
  smallest_eigenvalue(glft_matrix(m), &f);
  if (f.sum() < 0) f = -f;
  require((f.array() > 0).all(), "glft-2013: the ground-state eigenvector is not positive (Q too large?)");
  return quotes_from(m, f);
}

GlftQuotes glft_approx_quotes(const GlftModel& m) {
  check_glft(m);
  const int n = 2 * m.Q + 1;
  const double base = std::log1p(m.gamma / m.k) / m.gamma;
  const double c = std::sqrt(m.sigma * m.sigma * m.gamma / (2.0 * m.k * m.A) *
                             std::pow(1.0 + m.gamma / m.k, 1.0 + m.k / m.gamma));
  GlftQuotes out;
  out.q.resize(n);
  out.bid.assign(n, kNaN);
  out.ask.assign(n, kNaN);
  for (int i = 0; i < n; ++i) {
    const double q = i - m.Q;
    out.q[i] = i - m.Q;
    if (i + 1 < n) out.bid[i] = base + (2.0 * q + 1.0) / 2.0 * c;
    if (i > 0) out.ask[i] = base - (2.0 * q - 1.0) / 2.0 * c;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Almgren & Chriss (2001)

namespace {

void check_ac(const AcModel& m) {
  require(positive(m.X) && positive(m.T) && positive(m.sigma),
          "almgren-chriss-2001: X, T and sigma must be finite and > 0");
  require(m.N >= 1 && m.N <= 1000000, "almgren-chriss-2001: N must be in 1..1e6");
  require(std::isfinite(m.epsilon) && m.epsilon >= 0 && std::isfinite(m.eta) && m.eta >= 0 &&
              std::isfinite(m.gamma) && m.gamma >= 0,
          "almgren-chriss-2001: epsilon, eta and gamma must be finite and >= 0");
  const double tau = m.T / m.N;
  require(m.eta - 0.5 * m.gamma * tau > 0,
          "almgren-chriss-2001: eta~ = eta - gamma tau / 2 must be > 0 (the model's convexity condition)");
}

}  // namespace

double ac_expected_cost(const AcModel& m, const std::vector<double>& x) {
  check_ac(m);
  require(x.size() == static_cast<std::size_t>(m.N) + 1, "almgren-chriss-2001: trajectory needs N + 1 holdings");
  const double tau = m.T / m.N;
  const double eta_tilde = m.eta - 0.5 * m.gamma * tau;
  double abs_sum = 0, sq_sum = 0;
  for (int k = 1; k <= m.N; ++k) {
    const double n = x[k - 1] - x[k];
    abs_sum += std::fabs(n);
    sq_sum += n * n;
  }
  return 0.5 * m.gamma * x[0] * x[0] + m.epsilon * abs_sum + eta_tilde / tau * sq_sum;
}

double ac_variance(const AcModel& m, const std::vector<double>& x) {
  check_ac(m);
  require(x.size() == static_cast<std::size_t>(m.N) + 1, "almgren-chriss-2001: trajectory needs N + 1 holdings");
  const double tau = m.T / m.N;
  double s = 0;
  for (int k = 1; k <= m.N; ++k) s += x[k] * x[k];
  return m.sigma * m.sigma * tau * s;
}

AcSolution almgren_chriss_solution(const AcModel& m, double lambda) {
  check_ac(m);
  require(std::isfinite(lambda) && lambda >= 0, "almgren-chriss-2001: lambda must be finite and >= 0");
  AcSolution s;
  s.lambda = lambda;
  s.tau = m.T / m.N;
  s.eta_tilde = m.eta - 0.5 * m.gamma * s.tau;
  const double kt2 = lambda * m.sigma * m.sigma / s.eta_tilde;
  s.kappa_tilde = std::sqrt(kt2);
  s.kappa = std::acosh(1.0 + 0.5 * kt2 * s.tau * s.tau) / s.tau;
  s.half_life = s.kappa > 0 ? 1.0 / s.kappa : std::numeric_limits<double>::infinity();
  require(s.kappa * m.T < 700, "almgren-chriss-2001: kappa T too large (lambda too large for sinh)");
  s.t.resize(m.N + 1);
  s.x.resize(m.N + 1);
  for (int k = 0; k <= m.N; ++k) {
    s.t[k] = k * s.tau;
    s.x[k] = s.kappa > 0 ? std::sinh(s.kappa * (m.T - s.t[k])) / std::sinh(s.kappa * m.T) * m.X
                         : (1.0 - static_cast<double>(k) / m.N) * m.X;
  }
  s.x[m.N] = 0.0;
  s.n.resize(m.N);
  for (int k = 1; k <= m.N; ++k) s.n[k - 1] = s.x[k - 1] - s.x[k];
  s.E = ac_expected_cost(m, s.x);
  s.V = ac_variance(m, s.x);
  s.std = std::sqrt(s.V);
  return s;
}

std::vector<double> almgren_chriss_frontier_lambdas(int points) {
  require(points >= 2, "almgren-chriss-2001: the frontier needs at least 2 points");
  std::vector<double> out{0.0};
  const double lo = std::log10(1e-8), hi = std::log10(1e-4);
  for (int i = 0; i < points - 1; ++i) {
    out.push_back(std::pow(10.0, lo + (hi - lo) * i / std::max(1, points - 2)));
  }
  return out;
}

}  // namespace mmkit::models
