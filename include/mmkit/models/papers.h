// The classic papers, reproduced (`mmkit paper NAME`; docs/papers.md states every figure beside
// the paper's):
//
//   avellaneda-stoikov-2008  Avellaneda & Stoikov (2008), "High-frequency trading in a limit
//                            order book", Quantitative Finance 8(3), 217-224, §3.3 (numerical
//                            simulations, Tables 1-3): inventory strategy vs symmetric strategy.
//   glft-2013                Guéant, Lehalle & Fernandez-Tapia (2013), "Dealing with the
//                            inventory risk: a solution to the market making problem", Mathematics
//                            and Financial Economics 7(4), 477-507: §3 Proposition 2 and
//                            Theorem 1 (exact quotes, v(t) = exp(−M(T − t)) 1), §4 Theorem 2
//                            (T → ∞ limit) and the closed-form approximation after Proposition 3.
//   almgren-chriss-2001      Almgren & Chriss (2001), "Optimal execution of portfolio
//                            transactions", Journal of Risk 3(2), 5-39: §2.2 explicit optimal
//                            trajectories, §2.3 half-life, §2.4 efficient frontier; Table 1
//                            parameters.
//
// All simulation is here, in C++ (no per-step work in Python). Deterministic: every random draw
// comes from mmkit::exchange::Rng seeded by the caller.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Dense>

namespace mmkit::models {

// =============================================================================================
// Avellaneda & Stoikov (2008)

/// Probability that a quote at distance δ is hit in one step of length dt:
///   kLinear       min(1, λ(δ) dt), the paper's choice (§3.3);
///   kExponential  1 − exp(−λ(δ) dt), the exact Poisson probability of at least one arrival.
/// λ(δ) = A e^{−kδ} (§2.3, the paper's exponential intensity).
enum class AsFillProbability : std::uint8_t { kLinear, kExponential };

/// Order of events within a step, after the quotes are set from (s_n, q_n, t_n):
///   kMoveThenFill  the mid moves to s_{n+1}, then each quote is hit with the probability of its
///                  distance to s_{n+1} (quotes stand during the step while the mid moves: fills
///                  are adversely selected). This order reproduces the paper's Tables 1-3.
///   kFillThenMove  fills at the distance to s_n, then the mid moves.
enum class AsTiming : std::uint8_t { kMoveThenFill, kFillThenMove };

enum class AsStrategy : std::uint8_t {
  kInventory,  ///< quotes r ± spread/2, the paper's reservation price and spread (eqs. (29)-(30))
  kSymmetric,  ///< quotes s ± spread/2 around the mid with a constant spread
};

/// The §3.3 experiment. Units: price (s0, sigma per unit of time^{1/2}), time (T, dt), A per
/// unit of time, k per unit of price, gamma per unit of price.
struct AsSimConfig {
  double s0 = 100;
  double T = 1;
  double sigma = 2;
  double dt = 0.005;
  double A = 140;
  double k = 1.5;
  std::int64_t q0 = 0;
  std::uint32_t paths = 1000;
  std::vector<double> gammas{0.1, 0.01, 1.0};
  AsFillProbability fill = AsFillProbability::kLinear;
  AsTiming timing = AsTiming::kMoveThenFill;
  std::uint64_t seed = 1;
};

/// One row of the results: one γ and one strategy over `paths` paths. Profit = cash + q_T s_T
/// (the inventory marked at the final mid). Standard deviations are sample ones (n − 1).
struct AsSimRow {
  double gamma = 0;
  AsStrategy strategy = AsStrategy::kInventory;
  double spread = 0;  ///< inventory: time average of the quoted spread; symmetric: its spread
  double profit_mean = 0, profit_std = 0;
  double final_q_mean = 0, final_q_std = 0;
  std::uint32_t paths = 0;
};

/// Total spread δa + δb = γσ²(T − t) + (2/γ) ln(1 + γ/k) (§3, eq. (30)); tau = T − t.
[[nodiscard]] double as_spread(double gamma, double sigma, double tau, double k) noexcept;
/// Reservation price r = s − q γ σ² (T − t) (§3, eq. (29)).
[[nodiscard]] double as_reservation_price(double s, double q, double gamma, double sigma,
                                          double tau) noexcept;
/// Mean of as_spread over the simulation grid t_n = n dt, n = 0 … N − 1, N = round(T / dt):
/// (2/γ) ln(1 + γ/k) + γσ² (T − (N − 1) dt / 2).
[[nodiscard]] double as_average_spread(double gamma, double sigma, double T, double dt,
                                       double k) noexcept;

/// Simulates one strategy. Per step n (t = n dt): quotes from (s_n, q_n, t); the mid moves
/// s_{n+1} = s_n ± σ√dt (up if u_mid < ½) and the bid is hit if u_b < P(δ^b), the ask lifted if
/// u_a < P(δ^a) (both may happen), in the order and with δ measured as c.timing says.
/// Draws per step, in order: u_mid, u_b, u_a — the same stream for every strategy and γ
/// (common random numbers: both strategies see the same mid paths).
/// `symmetric_spread` is used by kSymmetric only. Throws mmkit::Error on invalid parameters.
[[nodiscard]] AsSimRow simulate_avellaneda_stoikov(const AsSimConfig& c, double gamma,
                                                   AsStrategy strategy, double symmetric_spread);

/// The paper's experiment: for each γ in c.gammas, the inventory strategy and the symmetric
/// strategy with the inventory strategy's average spread (as_average_spread). Rows in the order
/// (γ0 inventory, γ0 symmetric, γ1 inventory, …).
[[nodiscard]] std::vector<AsSimRow> run_avellaneda_stoikov_2008(const AsSimConfig& c);

/// The paper's Tables 1-3 (γ = 0.1, 0.01, 1; 1000 simulations each), as printed.
struct AsPaperRow {
  double gamma;
  AsStrategy strategy;
  double spread, profit_mean, profit_std, final_q_mean, final_q_std;
};
extern const std::array<AsPaperRow, 6> kAvellanedaStoikovTables;

[[nodiscard]] const char* to_string(AsStrategy s) noexcept;

// =============================================================================================
// Guéant, Lehalle & Fernandez-Tapia (2013)

/// Units as in the paper's figures: prices in ticks, time in seconds; sigma tick·s^{-1/2},
/// A s^{-1}, k tick^{-1}, gamma tick^{-1}. Inventory in {−Q, …, Q} (unit order size).
struct GlftModel {
  double sigma = 0.3;
  double A = 0.9;
  double k = 0.3;
  double gamma = 0.01;
  double T = 600;
  int Q = 30;
};

/// Quotes per inventory q = −Q … Q (index q + Q): bid[q] = δ^b(q) (ticks below the mid), ask[q]
/// = δ^a(q) (ticks above). No bid at q = Q and no ask at q = −Q: NaN there.
struct GlftQuotes {
  std::vector<int> q;
  std::vector<double> bid, ask;
};

/// α = (k/2) γ σ² and η = A (1 + γ/k)^{−(1 + k/γ)} (Proposition 1).
[[nodiscard]] double glft_alpha(const GlftModel& m) noexcept;
[[nodiscard]] double glft_eta(const GlftModel& m) noexcept;
/// The (2Q+1)×(2Q+1) tridiagonal M of Proposition 2: α q² on the diagonal (rows ordered
/// q = −Q … Q), −η off the diagonal.
[[nodiscard]] Eigen::MatrixXd glft_matrix(const GlftModel& m);
/// v(t) = exp(−M (T − t)) × (1, …, 1)' (Proposition 2), computed with Eigen's matrix
/// exponential of −(M − μ I)(T − t), μ = the smallest eigenvalue of M, i.e. v scaled by the
/// positive factor e^{μ (T − t)} (the quotes depend only on ratios v_q / v_{q±1}; the scaling
/// keeps large T − t free of overflow). Index q + Q. Throws mmkit::Error unless 0 <= t <= T.
[[nodiscard]] Eigen::VectorXd glft_v(const GlftModel& m, double t);
/// Theorem 1: δ^b(t, q) = (1/k) ln(v_q / v_{q+1}) + (1/γ) ln(1 + γ/k),
///            δ^a(t, q) = (1/k) ln(v_q / v_{q−1}) + (1/γ) ln(1 + γ/k).
[[nodiscard]] GlftQuotes glft_exact_quotes(const GlftModel& m, double t);
/// Theorem 2: the T → ∞ limit, the same formulas with v replaced by f⁰, the eigenvector of the
/// smallest eigenvalue of M (taken positive).
[[nodiscard]] GlftQuotes glft_limit_quotes(const GlftModel& m);
/// The closed-form approximation (§4, after Proposition 3):
///   δ^b_∞(q) ≈ (1/γ) ln(1 + γ/k) + (2q + 1)/2 · sqrt(σ²γ/(2kA) (1 + γ/k)^{1 + k/γ}),
///   δ^a_∞(q) ≈ (1/γ) ln(1 + γ/k) − (2q − 1)/2 · sqrt(σ²γ/(2kA) (1 + γ/k)^{1 + k/γ}).
/// NaN at the same boundary points as the exact quotes.
[[nodiscard]] GlftQuotes glft_approx_quotes(const GlftModel& m);

// =============================================================================================
// Almgren & Chriss (2001)

/// Table 1 of the paper: S0 = 50 $/share, X = 10^6 shares, T = 5 days, N = 5, σ = 0.95
/// $/share/day^{1/2} (30% annual, 250-day year: 50 × 0.3 / √250 = 0.9487, printed 0.95),
/// ε = 1/16 $/share (half the 1/8 spread), η = 2.5e-6 $/share per share/day, γ = 2.5e-7
/// $/share². The drift of Table 1 (10%/year) is set to 0: these are the trajectories and the
/// frontier of a driftless price (§2.2-2.4).
struct AcModel {
  double X = 1e6;
  double S0 = 50;
  double sigma = 0.95;
  double T = 5;
  int N = 5;
  double epsilon = 0.0625;
  double eta = 2.5e-6;
  double gamma = 2.5e-7;
};

/// The optimal trajectory for one λ (§2.2): τ = T/N, η̃ = η − γτ/2, κ̃² = λσ²/η̃,
/// κ from cosh(κτ) = 1 + κ̃²τ²/2, x_k = sinh(κ(T − t_k)) / sinh(κT) X (k = 0 … N; λ = 0: the
/// linear trajectory x_k = (1 − k/N) X), n_k = x_{k−1} − x_k. E and V from §1.4-1.5 for linear
/// impact: E = ½γX² + ε Σ|n_k| + (η̃/τ) Σ n_k², V = σ² τ Σ_{k=1}^{N} x_k² ($, $²).
struct AcSolution {
  double lambda = 0;       ///< risk aversion, 1/$
  double tau = 0;          ///< days
  double eta_tilde = 0;    ///< $/share per share/day
  double kappa_tilde = 0;  ///< 1/day
  double kappa = 0;        ///< 1/day
  double half_life = 0;    ///< θ = 1/κ, days (infinite for λ = 0)
  double E = 0;            ///< expected cost, $
  double V = 0;            ///< variance of the cost, $²
  double std = 0;          ///< √V, $
  std::vector<double> t;   ///< t_k = kτ, days, k = 0 … N
  std::vector<double> x;   ///< holdings x_k, shares
  std::vector<double> n;   ///< trades n_k = x_{k−1} − x_k, k = 1 … N (n[0] is n_1)
};

/// Throws mmkit::Error for λ < 0, N < 1 or invalid parameters.
[[nodiscard]] AcSolution almgren_chriss_solution(const AcModel& m, double lambda);
/// E(x) and V(x) of an arbitrary trajectory x_0 … x_N (§1.4-1.5, linear impact).
[[nodiscard]] double ac_expected_cost(const AcModel& m, const std::vector<double>& x);
[[nodiscard]] double ac_variance(const AcModel& m, const std::vector<double>& x);
/// The λ grid of the frontier: 0 and `points` − 1 values log-spaced over [1e-8, 1e-4] 1/$.
[[nodiscard]] std::vector<double> almgren_chriss_frontier_lambdas(int points = 61);

}  // namespace mmkit::models
