// Multivariate Hawkes processes with exponential kernels: exact simulation and maximum
// likelihood estimation.
//
// Intensity of type i (Hawkes 1971; notation of Bacry, Mastromatteo, Muzy 2015):
//   λ_i(t) = μ_i + Σ_j Σ_{t_k^j < t} α_ij β_ij exp(−β_ij (t − t_k^j))
// so α_ij is the branching ratio (expected number of type-i events triggered by one type-j
// event) and β_ij the decay rate (1/s). Stationary iff the spectral radius of [α_ij] < 1.
// Times in seconds (double) relative to the start of the window.
#pragma once

#include <cstdint>
#include <vector>

#include "mmkit/exchange/models.h"

namespace mmkit::sim {

struct HawkesParams {
  std::vector<double> mu;                  ///< baseline rates, 1/s, size d
  std::vector<std::vector<double>> alpha;  ///< branching ratios, d × d (row i: effect on type i)
  std::vector<std::vector<double>> beta;   ///< decay rates, 1/s, d × d
  [[nodiscard]] std::size_t dims() const noexcept { return mu.size(); }
  /// Throws mmkit::Error naming the field if sizes mismatch, values are negative / non-finite,
  /// or the process is not stationary (spectral radius of alpha >= 1).
  void validate() const;
  [[nodiscard]] double spectral_radius() const;
};

/// One event of a multivariate point process.
struct PointEvent {
  double t = 0;          ///< seconds since the window start
  std::uint32_t type = 0;
};

/// Simulates on [0, horizon_s) exactly (Ogata thinning with the exact exponential-kernel
/// intensity bound), events in time order.
[[nodiscard]] std::vector<PointEvent> simulate_hawkes(const HawkesParams& p, double horizon_s,
                                                      exchange::Rng& rng);

/// Exact log-likelihood of `events` (time-ordered, types < dims) on [0, horizon_s), computed
/// with the O(n d²) recursion of Ozaki (1979).
[[nodiscard]] double hawkes_log_likelihood(const HawkesParams& p, const std::vector<PointEvent>& events,
                                           double horizon_s);

struct HawkesFit {
  HawkesParams params;
  double log_likelihood = 0;
  std::uint32_t iterations = 0;
  bool converged = false;
};

/// Maximum likelihood estimate of (mu, alpha, beta) from `events` on [0, horizon_s), `dims`
/// types; `beta_shared`: one decay rate for all pairs (more stable on short samples).
/// Optimizer: projected L-BFGS over (mu >= 0, alpha >= 0, log beta), each coordinate scaled by the
/// square root of its Fisher information per event (Gauss-Newton diagonal, recomputed every 200
/// iterations). `converged`: the scaled projected gradient is at most 10^-4 / √n (n events), i.e.
/// the optimizer's error is below 10^-4 standard errors. Deterministic (fixed start values and
/// optimizer).
[[nodiscard]] HawkesFit fit_hawkes(const std::vector<PointEvent>& events, double horizon_s, std::uint32_t dims,
                                   bool beta_shared = true);

}  // namespace mmkit::sim
