#include "mmkit/sim/hawkes.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "mmkit/core/error.h"

namespace mmkit::sim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string idx(std::size_t i) {
  std::string s(1, '[');
  s += std::to_string(i);
  s += ']';
  return s;
}

[[noreturn]] void bad_param(const std::string& field, const std::string& what) {
  throw Error(SourceLocation("hawkes parameters", 0, field), what);
}

[[noreturn]] void bad_input(const std::string& field, const std::string& what) {
  throw Error(SourceLocation("hawkes events", 0, field), what);
}

/// Sizes, finiteness and signs (mu >= 0, alpha >= 0, beta > 0); not stationarity.
void check_shape_and_values(const HawkesParams& p) {
  const std::size_t d = p.mu.size();
  if (d == 0) bad_param("mu", "must hold at least one baseline rate (1/s)");
  if (p.alpha.size() != d) {
    bad_param("alpha", "must have " + std::to_string(d) + " rows (one per type), got " + std::to_string(p.alpha.size()));
  }
  if (p.beta.size() != d) {
    bad_param("beta", "must have " + std::to_string(d) + " rows (one per type), got " + std::to_string(p.beta.size()));
  }
  for (std::size_t i = 0; i < d; ++i) {
    if (!std::isfinite(p.mu[i]) || p.mu[i] < 0) {
      bad_param("mu" + idx(i), "must be a finite rate >= 0 per second, got " + num(p.mu[i]));
    }
    if (p.alpha[i].size() != d) {
      bad_param("alpha" + idx(i), "must have " + std::to_string(d) + " columns, got " + std::to_string(p.alpha[i].size()));
    }
    if (p.beta[i].size() != d) {
      bad_param("beta" + idx(i), "must have " + std::to_string(d) + " columns, got " + std::to_string(p.beta[i].size()));
    }
    for (std::size_t j = 0; j < d; ++j) {
      if (!std::isfinite(p.alpha[i][j]) || p.alpha[i][j] < 0) {
        bad_param("alpha" + idx(i) + idx(j), "must be a finite branching ratio >= 0, got " + num(p.alpha[i][j]));
      }
      if (!std::isfinite(p.beta[i][j]) || p.beta[i][j] <= 0) {
        bad_param("beta" + idx(i) + idx(j), "must be a finite decay rate > 0 per second, got " + num(p.beta[i][j]));
      }
    }
  }
}

double spectral_radius_of(const std::vector<std::vector<double>>& a) {
  const auto d = static_cast<Eigen::Index>(a.size());
  if (d == 0) return 0;
  Eigen::MatrixXd m(d, d);
  for (Eigen::Index i = 0; i < d; ++i) {
    for (Eigen::Index j = 0; j < d; ++j) m(i, j) = a[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
  }
  const Eigen::VectorXcd ev = m.eigenvalues();
  double r = 0;
  for (Eigen::Index i = 0; i < ev.size(); ++i) r = std::max(r, std::abs(ev(i)));
  return r;
}

void check_window(double horizon_s) {
  if (!std::isfinite(horizon_s) || horizon_s <= 0) {
    bad_input("horizon_s", "must be a finite window length > 0 seconds, got " + num(horizon_s));
  }
}

void check_events(const std::vector<PointEvent>& events, double horizon_s, std::size_t dims) {
  check_window(horizon_s);
  double prev = 0;
  for (std::size_t k = 0; k < events.size(); ++k) {
    const PointEvent& e = events[k];
    if (e.type >= dims) {
      bad_input("events" + idx(k), "type " + std::to_string(e.type) + " is not below the " + std::to_string(dims) + " dimensions");
    }
    if (!(e.t >= 0 && e.t < horizon_s)) {
      bad_input("events" + idx(k), "time " + num(e.t) + " s is outside the window [0, " + num(horizon_s) + ")");
    }
    if (e.t < prev) {
      bad_input("events" + idx(k), "time " + num(e.t) + " s is before the previous event's " + num(prev) + " s");
    }
    prev = e.t;
  }
}

/// Parameters as flat arrays: alpha and beta row-major, index i * d + j.
struct Flat {
  std::size_t d = 0;
  std::vector<double> mu, alpha, beta;
};

Flat flatten(const HawkesParams& p) {
  Flat f;
  f.d = p.mu.size();
  f.mu = p.mu;
  for (std::size_t i = 0; i < f.d; ++i) {
    f.alpha.insert(f.alpha.end(), p.alpha[i].begin(), p.alpha[i].end());
    f.beta.insert(f.beta.end(), p.beta[i].begin(), p.beta[i].end());
  }
  return f;
}

HawkesParams unflatten(const Flat& f) {
  HawkesParams p;
  p.mu = f.mu;
  p.alpha.assign(f.d, std::vector<double>(f.d));
  p.beta.assign(f.d, std::vector<double>(f.d));
  for (std::size_t i = 0; i < f.d; ++i) {
    for (std::size_t j = 0; j < f.d; ++j) {
      p.alpha[i][j] = f.alpha[i * f.d + j];
      p.beta[i][j] = f.beta[i * f.d + j];
    }
  }
  return p;
}

/// The distinct decay rates of a d × d matrix (one exponential per distinct value per step) and
/// the group of each pair.
struct DecayGroups {
  std::vector<double> rate;
  std::vector<std::uint32_t> of_pair;  // i * d + j -> index into rate
};

DecayGroups decay_groups(const std::vector<double>& beta) {
  DecayGroups g;
  g.of_pair.resize(beta.size());
  for (std::size_t q = 0; q < beta.size(); ++q) {
    const auto it = std::find(g.rate.begin(), g.rate.end(), beta[q]);
    g.of_pair[q] = static_cast<std::uint32_t>(it - g.rate.begin());
    if (it == g.rate.end()) g.rate.push_back(beta[q]);
  }
  return g;
}

/// Gradient of the log-likelihood with respect to mu, alpha and beta (flat, as Flat).
struct Gradient {
  std::vector<double> mu, alpha, beta;
  /// When `curvature` is set: the Gauss-Newton (outer-product) diagonal of −∇² log L, Σ_k
  /// (∂λ_{i_k}/∂θ)² / λ_{i_k}², for mu, alpha, beta (per pair) and beta_shared (all pairs moving
  /// together).
  bool curvature = false;
  std::vector<double> gn_mu, gn_alpha, gn_beta;
  double gn_beta_shared = 0;
};

/// Log-likelihood of a multivariate exponential Hawkes process on [0, T) (events checked by the
/// caller), and its gradient when `grad` is given. Ozaki (1979) recursion: for each pair (i, j)
///   A_ij(t) = Σ_{t_m^j < t} e^{−β_ij (t − t_m^j)},  B_ij(t) = Σ_{t_m^j < t} (t − t_m^j) e^{−β_ij (t − t_m^j)}
/// advance over a gap Δ as B ← e^{−βΔ}(B + Δ A), A ← e^{−βΔ} A, and each event of type j adds 1
/// to A_·j once time moves past it (events at the same time do not excite each other: the sum is
/// over t_m < t). Then
///   log L = Σ_k log λ_{i_k}(t_k) − Σ_i [μ_i T + Σ_j α_ij (N_j − A_ij(T))],
///   λ_i = μ_i + Σ_j α_ij β_ij A_ij,  ∂λ_i/∂α_ij = β_ij A_ij,  ∂λ_i/∂β_ij = α_ij (A_ij − β_ij B_ij),
/// and the compensator's derivative in β_ij is α_ij B_ij(T). Returns −inf where some event has
/// intensity <= 0.
double evaluate(const Flat& p, const std::vector<PointEvent>& events, double horizon_s, Gradient* grad) {
  const std::size_t d = p.d;
  const std::size_t dd = d * d;
  const DecayGroups groups = decay_groups(p.beta);
  // A_ij depends on i only through β_ij: with few distinct decay rates (one, when shared) keep one
  // state per (decay rate, j) instead of one per pair.
  const std::size_t kk = groups.rate.size();
  const bool by_rate = kk <= d;
  const std::size_t ns = by_rate ? kk * d : dd;
  std::vector<std::uint32_t> state_of_pair(dd), rate_of_state(ns), column_of_state(ns);
  for (std::size_t q = 0; q < dd; ++q) {
    state_of_pair[q] = static_cast<std::uint32_t>(by_rate ? groups.of_pair[q] * d + q % d : q);
  }
  for (std::size_t st = 0; st < ns; ++st) {
    rate_of_state[st] = static_cast<std::uint32_t>(by_rate ? st / d : groups.of_pair[st]);
    column_of_state[st] = static_cast<std::uint32_t>(st % d);
  }
  std::vector<double> a(ns, 0.0), b(ns, 0.0), decay(kk), pending(d, 0.0), count(d, 0.0);
  std::vector<double> ab(dd);  // α_ij β_ij
  for (std::size_t q = 0; q < dd; ++q) ab[q] = p.alpha[q] * p.beta[q];
  if (grad != nullptr) {
    grad->mu.assign(d, 0.0);
    grad->alpha.assign(dd, 0.0);
    grad->beta.assign(dd, 0.0);
    if (grad->curvature) {
      grad->gn_mu.assign(d, 0.0);
      grad->gn_alpha.assign(dd, 0.0);
      grad->gn_beta.assign(dd, 0.0);
      grad->gn_beta_shared = 0;
    }
  }
  bool any_pending = false;
  double now = 0;
  double ll = 0;
  auto advance = [&](double t) {
    if (any_pending) {
      for (std::size_t st = 0; st < ns; ++st) a[st] += pending[column_of_state[st]];
      std::fill(pending.begin(), pending.end(), 0.0);
      any_pending = false;
    }
    const double gap = t - now;
    if (gap <= 0) return;
    for (std::size_t k = 0; k < kk; ++k) decay[k] = std::exp(-groups.rate[k] * gap);
    for (std::size_t st = 0; st < ns; ++st) {
      const double e = decay[rate_of_state[st]];
      if (grad != nullptr) b[st] = e * (b[st] + gap * a[st]);
      a[st] *= e;
    }
    now = t;
  };
  for (const PointEvent& ev : events) {
    if (ev.t != now) advance(ev.t);
    const std::size_t i = ev.type;
    const std::size_t row = i * d;
    double lambda = p.mu[i];
    for (std::size_t j = 0; j < d; ++j) lambda += ab[row + j] * a[state_of_pair[row + j]];
    if (!(lambda > 0)) return -kInf;
    ll += std::log(lambda);
    if (grad != nullptr) {
      const double inv = 1.0 / lambda;
      grad->mu[i] += inv;
      for (std::size_t j = 0; j < d; ++j) {
        const std::size_t st = state_of_pair[row + j];
        grad->alpha[row + j] += p.beta[row + j] * a[st] * inv;
        grad->beta[row + j] += p.alpha[row + j] * (a[st] - p.beta[row + j] * b[st]) * inv;
      }
      if (grad->curvature) {
        const double inv2 = inv * inv;
        grad->gn_mu[i] += inv2;
        double dbeta = 0;
        for (std::size_t j = 0; j < d; ++j) {
          const std::size_t st = state_of_pair[row + j];
          const double da = p.beta[row + j] * a[st];
          const double db = p.alpha[row + j] * (a[st] - p.beta[row + j] * b[st]);
          grad->gn_alpha[row + j] += da * da * inv2;
          grad->gn_beta[row + j] += db * db * inv2;
          dbeta += db;
        }
        grad->gn_beta_shared += dbeta * dbeta * inv2;
      }
    }
    pending[i] += 1.0;
    count[i] += 1.0;
    any_pending = true;
  }
  advance(horizon_s);
  for (std::size_t i = 0; i < d; ++i) {
    double comp = p.mu[i] * horizon_s;
    for (std::size_t j = 0; j < d; ++j) comp += p.alpha[i * d + j] * (count[j] - a[state_of_pair[i * d + j]]);
    ll -= comp;
    if (grad != nullptr) {
      grad->mu[i] -= horizon_s;
      for (std::size_t j = 0; j < d; ++j) {
        const std::size_t st = state_of_pair[i * d + j];
        grad->alpha[i * d + j] -= count[j] - a[st];
        grad->beta[i * d + j] -= p.alpha[i * d + j] * b[st];
      }
    }
  }
  return ll;
}

// ---------------------------------------------------------------------------------------------
// Projected L-BFGS for min f(x) subject to x_k >= 0 for the coordinates in `bounded`: the
// two-metric projection method (Bertsekas 1982) with the L-BFGS inverse Hessian (Nocedal &
// Wright 2006, Algorithm 7.4, two-loop recursion) on the free coordinates. A bounded coordinate
// at 0 whose gradient points outwards is held (active); the step is projected onto the bounds
// and accepted by a backtracking Armijo search along the projected path. Converged when the
// projected gradient's ∞-norm is at most `tol`. Deterministic: no randomness, fixed constants.

struct Minimum {
  std::vector<double> x;
  double f = kInf;
  std::uint32_t iterations = 0;
  bool converged = false;
};

template <class F>
Minimum lbfgs(F&& f_and_grad, std::vector<double> x, const std::vector<bool>& bounded, std::uint32_t max_iter,
              double tol) {
  constexpr std::size_t kMemory = 10;
  constexpr double kArmijo = 1e-4;
  constexpr double kMaxStep = 4.0;    // largest move of one coordinate per iteration
  const std::size_t n = x.size();
  for (std::size_t q = 0; q < n; ++q) {
    if (bounded[q]) x[q] = std::max(x[q], 0.0);
  }
  std::vector<double> g(n), gn(n), xn(n), dir(n), alpha_hist(kMemory);
  std::vector<bool> active(n, false);
  std::vector<std::vector<double>> s_hist, y_hist;
  std::vector<double> rho_hist;
  Minimum out;
  double f = f_and_grad(x, g);
  out.x = x;
  out.f = f;
  if (!std::isfinite(f)) return out;
  auto inf_norm = [](const std::vector<double>& v) {
    double m = 0;
    for (double e : v) m = std::max(m, std::fabs(e));
    return m;
  };
  // Held coordinates: at the bound with the gradient pushing outwards (descent would leave).
  auto projected_gradient_norm = [&]() {
    double m = 0;
    for (std::size_t q = 0; q < n; ++q) {
      active[q] = bounded[q] && x[q] <= 0 && g[q] > 0;
      if (!active[q]) m = std::max(m, std::fabs(g[q]));
    }
    return m;
  };
  std::uint32_t stalls = 0;
  for (std::uint32_t it = 0; it < max_iter; ++it) {
    out.iterations = it;
    const double pg = projected_gradient_norm();
    if (pg <= tol) {
      out.converged = true;
      break;
    }
    // Two-loop recursion on the free coordinates: dir = −H g (held coordinates 0 in and out).
    for (std::size_t q = 0; q < n; ++q) dir[q] = active[q] ? 0.0 : g[q];
    const std::size_t m = s_hist.size();
    for (std::size_t k = m; k-- > 0;) {
      double sd = 0;
      for (std::size_t q = 0; q < n; ++q) sd += s_hist[k][q] * dir[q];
      alpha_hist[k] = rho_hist[k] * sd;
      for (std::size_t q = 0; q < n; ++q) dir[q] -= alpha_hist[k] * y_hist[k][q];
    }
    if (m > 0) {
      double sy = 0, yy = 0;
      for (std::size_t q = 0; q < n; ++q) {
        sy += s_hist[m - 1][q] * y_hist[m - 1][q];
        yy += y_hist[m - 1][q] * y_hist[m - 1][q];
      }
      for (double& v : dir) v *= sy / yy;
    }
    for (std::size_t k = 0; k < m; ++k) {
      double yd = 0;
      for (std::size_t q = 0; q < n; ++q) yd += y_hist[k][q] * dir[q];
      const double beta = rho_hist[k] * yd;
      for (std::size_t q = 0; q < n; ++q) dir[q] += s_hist[k][q] * (alpha_hist[k] - beta);
    }
    for (std::size_t q = 0; q < n; ++q) dir[q] = active[q] ? 0.0 : -dir[q];
    double slope = 0;
    for (std::size_t q = 0; q < n; ++q) slope += g[q] * dir[q];
    if (!(slope < 0)) {  // not a descent direction: forget the curvature, steepest descent
      s_hist.clear();
      y_hist.clear();
      rho_hist.clear();
      for (std::size_t q = 0; q < n; ++q) dir[q] = active[q] ? 0.0 : -g[q];
    }
    double step = m == 0 ? std::min(1.0, 1.0 / pg) : 1.0;
    step = std::min(step, kMaxStep / inf_norm(dir));
    double fn = kInf;
    bool accepted = false;
    for (int ls = 0; ls < 60; ++ls) {
      double decrease = 0;  // g · (x(step) − x) along the projected path
      for (std::size_t q = 0; q < n; ++q) {
        xn[q] = x[q] + step * dir[q];
        if (bounded[q] && xn[q] < 0) xn[q] = 0;
        decrease += g[q] * (xn[q] - x[q]);
      }
      fn = f_and_grad(xn, gn);
      if (std::isfinite(fn) && fn <= f + kArmijo * decrease) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) {
      // No decrease along the direction at double precision: a minimum as far as the arithmetic
      // resolves it when the projected gradient is already small.
      out.converged = pg <= 10 * tol;
      break;
    }
    std::vector<double> sv(n), yv(n);
    double sy = 0;
    for (std::size_t q = 0; q < n; ++q) {
      sv[q] = xn[q] - x[q];
      yv[q] = gn[q] - g[q];
      sy += sv[q] * yv[q];
    }
    if (sy > 1e-16) {
      if (s_hist.size() == kMemory) {
        s_hist.erase(s_hist.begin());
        y_hist.erase(y_hist.begin());
        rho_hist.erase(rho_hist.begin());
      }
      s_hist.push_back(std::move(sv));
      y_hist.push_back(std::move(yv));
      rho_hist.push_back(1.0 / sy);
    }
    const double drop = f - fn;
    x.swap(xn);
    g.swap(gn);
    f = fn;
    out.iterations = it + 1;
    stalls = drop <= 1e-15 * std::max(1.0, std::fabs(f)) ? stalls + 1 : 0;
    if (stalls >= 3) {
      out.converged = projected_gradient_norm() <= 10 * tol;
      break;
    }
  }
  out.x = x;
  out.f = f;
  if (projected_gradient_norm() <= tol) out.converged = true;
  return out;
}

/// The MLE problem: x = (mu_i >= 0, alpha_ij >= 0, log beta: one shared or d × d) over the free
/// parameters, each times its scaling unit (set_scaling), objective −log L / n. The baselines and
/// branching ratios stay on their natural scale, where log L is concave for fixed beta (the log of
/// a linear function minus a linear one) and the bound 0 can be reached (a type without baseline,
/// a pair without excitation: on short samples the maximum is often there; in log coordinates it
/// would lie at −∞, with a scaled gradient that never vanishes); the decay rates are positive.
class Problem {
 public:
  Problem(const std::vector<PointEvent>& events, double horizon_s, std::size_t d)
      : events_(events), horizon_(horizon_s), d_(d), count_(d, 0) {
    for (const PointEvent& e : events) ++count_[e.type];
    scale_ = 1.0 / static_cast<double>(std::max<std::size_t>(events.size(), 1));
  }

  /// Types with no event have mu = 0 and alpha_i· = 0 (the likelihood's supremum), and no
  /// event of type j can excite anything, so alpha_·j = 0 is fixed too (not identifiable).
  bool mu_free(std::size_t i) const { return count_[i] > 0; }
  bool alpha_free(std::size_t i, std::size_t j) const { return count_[i] > 0 && count_[j] > 0; }
  std::size_t count(std::size_t i) const { return count_[i]; }

  void set_layout(bool beta_shared) {
    shared_ = beta_shared;
    slots_.clear();
    unit_.clear();
    for (std::size_t i = 0; i < d_; ++i) {
      if (mu_free(i)) slots_.push_back({Slot::kMu, i});
    }
    for (std::size_t q = 0; q < d_ * d_; ++q) {
      if (alpha_free(q / d_, q % d_)) slots_.push_back({Slot::kAlpha, q});
    }
    if (shared_) {
      slots_.push_back({Slot::kBetaShared, 0});
    } else {
      for (std::size_t q = 0; q < d_ * d_; ++q) {
        if (alpha_free(q / d_, q % d_)) slots_.push_back({Slot::kBeta, q});
      }
    }
  }

  /// Diagonal scaling of the coordinates (a fixed preconditioner of the optimizer): coordinate k
  /// of x is u_k × (its natural value: mu, alpha, log beta), u_k = the square root of the
  /// Gauss-Newton curvature of the per-event objective in that natural coordinate at `at`
  /// (Σ (∂λ/∂θ)² / λ² / n, the Fisher information per event), so that every coordinate has unit
  /// curvature there. Without it the curvatures differ by orders of magnitude on short samples
  /// (rare types, pairs with little excitation) and L-BFGS, whose initial inverse Hessian is a
  /// multiple of the identity, needs thousands of iterations. u_k = 1 where the curvature is 0
  /// or not finite.
  void set_scaling(const Flat& at) {
    unit_.assign(slots_.size(), 1.0);
    Gradient g;
    g.curvature = true;
    if (!std::isfinite(evaluate(at, events_, horizon_, &g))) return;
    for (std::size_t k = 0; k < slots_.size(); ++k) {
      const Slot& s = slots_[k];
      double c = 0;
      switch (s.kind) {
        case Slot::kMu: c = g.gn_mu[s.index]; break;
        case Slot::kAlpha: c = g.gn_alpha[s.index]; break;
        case Slot::kBetaShared: c = at.beta[0] * at.beta[0] * g.gn_beta_shared; break;
        case Slot::kBeta: c = at.beta[s.index] * at.beta[s.index] * g.gn_beta[s.index]; break;
      }
      c *= scale_;
      if (std::isfinite(c) && c > 0) unit_[k] = std::sqrt(c);
    }
  }

  std::vector<double> to_x(const Flat& p) const {
    std::vector<double> x;
    for (const Slot& s : slots_) {
      switch (s.kind) {
        case Slot::kMu: x.push_back(p.mu[s.index]); break;
        case Slot::kAlpha: x.push_back(p.alpha[s.index]); break;
        case Slot::kBetaShared: x.push_back(std::log(p.beta[0])); break;
        case Slot::kBeta: x.push_back(std::log(p.beta[s.index])); break;
      }
    }
    for (std::size_t k = 0; k < x.size(); ++k) x[k] *= unit(k);
    return x;
  }

  /// Parameters at x; fixed ones from `base` (zeros for mu / alpha, beta as given).
  Flat from_x(const std::vector<double>& x, const Flat& base) const {
    Flat p = base;
    for (std::size_t k = 0; k < slots_.size(); ++k) {
      const Slot& s = slots_[k];
      const double xk = x[k] / unit(k);
      const double v = s.kind == Slot::kMu || s.kind == Slot::kAlpha ? std::max(xk, 0.0) : std::exp(xk);
      switch (s.kind) {
        case Slot::kMu: p.mu[s.index] = v; break;
        case Slot::kAlpha: p.alpha[s.index] = v; break;
        case Slot::kBetaShared: std::fill(p.beta.begin(), p.beta.end(), v); break;
        case Slot::kBeta: p.beta[s.index] = v; break;
      }
    }
    return p;
  }

  double objective(const std::vector<double>& x, std::vector<double>& gx, const Flat& base) const {
    const Flat p = from_x(x, base);
    Gradient g;
    const double ll = evaluate(p, events_, horizon_, &g);
    gx.assign(x.size(), 0.0);
    if (!std::isfinite(ll)) return kInf;
    for (std::size_t k = 0; k < slots_.size(); ++k) {
      const Slot& s = slots_[k];
      double dp = 0;  // ∂ log L / ∂ parameter
      double v = 0;
      switch (s.kind) {
        case Slot::kMu: dp = g.mu[s.index]; v = 1; break;
        case Slot::kAlpha: dp = g.alpha[s.index]; v = 1; break;
        case Slot::kBetaShared:
          for (double e : g.beta) dp += e;
          v = p.beta[0];
          break;
        case Slot::kBeta: dp = g.beta[s.index]; v = p.beta[s.index]; break;
      }
      gx[k] = -dp * v * scale_ / unit(k);
    }
    return -ll * scale_;
  }

  /// Which coordinates of x carry the bound x >= 0 (the branching ratios).
  std::vector<bool> bounded() const {
    std::vector<bool> b;
    for (const Slot& s : slots_) b.push_back(s.kind == Slot::kMu || s.kind == Slot::kAlpha);
    return b;
  }

 private:
  struct Slot {
    enum Kind { kMu, kAlpha, kBetaShared, kBeta } kind;
    std::size_t index;
  };
  double unit(std::size_t k) const { return k < unit_.size() ? unit_[k] : 1.0; }
  const std::vector<PointEvent>& events_;
  double horizon_;
  std::size_t d_;
  std::vector<std::size_t> count_;
  double scale_ = 1;
  bool shared_ = true;
  std::vector<Slot> slots_;
  std::vector<double> unit_;  // per slot; empty = 1
};

}  // namespace

// ---------------------------------------------------------------------------------------------

void HawkesParams::validate() const {
  check_shape_and_values(*this);
  const double r = spectral_radius_of(alpha);
  if (!(r < 1)) {
    bad_param("alpha", "spectral radius " + num(r) + " >= 1: the process is not stationary (it explodes)");
  }
}

double HawkesParams::spectral_radius() const {
  check_shape_and_values(*this);
  return spectral_radius_of(alpha);
}

std::vector<PointEvent> simulate_hawkes(const HawkesParams& p, double horizon_s, exchange::Rng& rng) {
  p.validate();
  check_window(horizon_s);
  const Flat f = flatten(p);
  const std::size_t d = f.d;
  const DecayGroups groups = decay_groups(f.beta);
  const std::size_t kk = groups.rate.size();
  // excitation[i * kk + k]: Σ over past events of the α_ij β_ij e^{−β_ij (t − t_m^j)} terms with
  // β_ij in group k; λ_i = μ_i + Σ_k excitation[i, k].
  std::vector<double> excitation(d * kk, 0.0), decay(kk), lambda(d);
  std::vector<PointEvent> out;
  double total_mu = 0;
  for (double m : f.mu) total_mu += m;
  // The expected count is μ T / (1 − ρ) at most (Λ = (I − α)^{-1} μ); reserve up to 2^24 events.
  out.reserve(static_cast<std::size_t>(std::min(16777216.0, total_mu * horizon_s / (1 - std::min(0.99, p.spectral_radius())) * 1.1)) + 16);
  // Ogata (1981) thinning. Between events every λ_i decays towards μ_i, so the intensity just
  // after the last event (or the last rejected candidate) bounds it until the next event:
  // candidates arrive at that rate and are kept with probability λ(t)/bound.
  double t = 0;
  double bound = total_mu;
  while (bound > 0) {
    const double gap = rng.exponential(bound);
    t += gap;
    if (!(t < horizon_s)) break;
    for (std::size_t k = 0; k < kk; ++k) decay[k] = std::exp(-groups.rate[k] * gap);
    double total = 0;
    for (std::size_t i = 0; i < d; ++i) {
      double l = f.mu[i];
      for (std::size_t k = 0; k < kk; ++k) {
        excitation[i * kk + k] *= decay[k];
        l += excitation[i * kk + k];
      }
      lambda[i] = l;
      total += l;
    }
    const double u = rng.uniform() * bound;
    if (u < total) {
      double cum = 0;
      std::size_t type = d - 1;
      for (std::size_t i = 0; i < d; ++i) {
        cum += lambda[i];
        if (u < cum) {
          type = i;
          break;
        }
      }
      out.push_back(PointEvent{t, static_cast<std::uint32_t>(type)});
      for (std::size_t i = 0; i < d; ++i) {
        const double jump = f.alpha[i * d + type] * f.beta[i * d + type];
        excitation[i * kk + groups.of_pair[i * d + type]] += jump;
        total += jump;
      }
    }
    bound = total;
  }
  return out;
}

double hawkes_log_likelihood(const HawkesParams& p, const std::vector<PointEvent>& events, double horizon_s) {
  check_shape_and_values(p);
  check_events(events, horizon_s, p.dims());
  return evaluate(flatten(p), events, horizon_s, nullptr);
}

HawkesFit fit_hawkes(const std::vector<PointEvent>& events, double horizon_s, std::uint32_t dims, bool beta_shared) {
  if (dims == 0) bad_input("dims", "must be >= 1");
  check_events(events, horizon_s, dims);
  const std::size_t d = dims;
  Problem prob(events, horizon_s, d);
  HawkesFit fit;
  Flat base;
  base.d = d;
  base.mu.assign(d, 0.0);
  base.alpha.assign(d * d, 0.0);
  base.beta.assign(d * d, 1.0);
  std::size_t active = 0;
  for (std::size_t i = 0; i < d; ++i) active += prob.count(i) > 0;
  if (active == 0) {  // no events: every rate 0
    fit.params = unflatten(base);
    fit.log_likelihood = 0;
    fit.converged = true;
    return fit;
  }
  // Start: half of each type's events to the baseline, branching ratios 0.5 / (types with
  // events) (spectral radius 0.5), and the decay rate from a grid around the event rate: a short
  // run from each, then the best to convergence.
  const double n = static_cast<double>(events.size());
  const double rate = n / horizon_s;
  // Converged when the projected gradient of the scaled per-event objective is at most
  // kSeTol / √n: the scaled coordinates have unit curvature per event, so that gradient is the
  // distance to the maximum in units of 1/√n, and the distance in standard errors (≈ 1/√n in
  // those units) is at most kSeTol (the optimizer's error is 10^-4 of the statistical one).
  constexpr double kSeTol = 1e-4;
  const double tol = kSeTol / std::sqrt(n);
  Flat start = base;
  for (std::size_t i = 0; i < d; ++i) {
    if (prob.mu_free(i)) start.mu[i] = 0.5 * static_cast<double>(prob.count(i)) / horizon_s;
    for (std::size_t j = 0; j < d; ++j) {
      if (prob.alpha_free(i, j)) start.alpha[i * d + j] = 0.5 / static_cast<double>(active);
    }
  }
  prob.set_layout(true);
  // One optimizer run from `from`, scaled at `from`; returns the minimum and its parameters.
  struct Run {
    Minimum m;
    Flat at;
  };
  auto run = [&](const Flat& from, std::uint32_t max_iter) {
    prob.set_scaling(from);
    auto fg = [&](const std::vector<double>& x, std::vector<double>& g) { return prob.objective(x, g, from); };
    Run r{lbfgs(fg, prob.to_x(from), prob.bounded(), max_iter, tol), Flat{}};
    r.at = prob.from_x(r.m.x, from);
    return r;
  };
  Run best;
  std::uint32_t iterations = 0;
  for (const double mult : {0.3, 1.0, 3.0, 10.0, 30.0, 100.0}) {
    Flat s = start;
    std::fill(s.beta.begin(), s.beta.end(), mult * rate);
    Run r = run(s, 20);
    iterations += r.m.iterations;
    if (r.m.f < best.m.f) best = std::move(r);
  }
  if (!std::isfinite(best.m.f)) {
    bad_input("events", "the log-likelihood is not finite at any start value (events too close to overflow)");
  }
  // To convergence in rounds of kRound iterations, each rescaled at its start point: the
  // curvatures change as the iterate moves (a branching ratio reaching 0 frees or fixes others),
  // and a stale scaling slows L-BFGS down as much as none.
  constexpr std::uint32_t kRound = 200;
  auto polish = [&](Flat from, std::uint32_t rounds) {
    Run r;
    for (std::uint32_t k = 0; k < rounds; ++k) {
      r = run(from, kRound);
      iterations += r.m.iterations;
      from = r.at;
      if (r.m.converged) break;
    }
    return r;
  };
  Run r = polish(best.at, 10);
  Flat current = r.at;
  bool converged = r.m.converged;
  if (!beta_shared) {
    prob.set_layout(false);
    r = polish(current, 20);
    current = r.at;
    converged = r.m.converged;
  }
  fit.params = unflatten(current);
  fit.log_likelihood = evaluate(current, events, horizon_s, nullptr);
  fit.iterations = iterations;
  fit.converged = converged;
  return fit;
}

}  // namespace mmkit::sim
