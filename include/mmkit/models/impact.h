// Market-impact models as cost estimators with one small interface, and (through
// ImpactTracker) as the engine's own-order impact (EngineConfig::impact_model, docs/engine.md).
//
// Conventions for every model:
//   * A schedule is a sequence of trades (t, qty) in non-decreasing time; qty is signed
//     (> 0 buy, < 0 sell), t in the model's time unit (seconds in the engine; days in the
//     Almgren-Chriss 2001 example). Prices are in any consistent unit (decimal price in the
//     engine), quantities in any consistent unit (decimal qty in the engine).
//   * The unaffected price p0 does not move by itself (no volatility, no drift): the figures are
//     expectations under a driftless price.
//   * displacement(t) is how far the trades so far have moved the price (signed, + = up).
//   * A trade's execution offset is execution price − p0 (signed); its cost is qty × offset, so
//     a buy at a higher price and a sell at a lower price both cost > 0.
//   * expected_cost(schedule) = Σ qty_i × offset_i (price × qty units), offsets taken in
//     schedule order: a trade sees the displacement left by the trades before it.
//
// Sources (formulas at each model):
//   Almgren & Chriss (2001), "Optimal execution of portfolio transactions", J. Risk 3(2), 5-39,
//     §1.3-1.5: linear permanent g(v) = γ v and temporary h(v) = ε sgn(v) + η v.
//   Tóth, Lempérière, Deremble, de Lataillade, Kockelkoren, Bouchaud (2011), "Anomalous price
//     impact and the critical nature of liquidity in financial markets", Phys. Rev. X 1, 021006:
//     the square-root law I(Q) = Y σ sqrt(Q / V).
//   Obizhaeva & Wang (2013), "Optimal trading strategy and supply/demand dynamics", J. Financial
//     Markets 16(1), 1-32: block-shaped book of depth 1/(κ + λ) per unit price; a trade of size x
//     moves the price by (κ + λ) x, of which λ x is permanent and κ x decays as e^{−ρ t}; i.e.
//     the propagator I(t) = Σ_s G(t − s) q_s with G(u) = λ + κ e^{−ρ u} (Bouchaud, Gefen,
//     Potters, Wyart 2004 with an exponential kernel).
#pragma once

#include <memory>
#include <span>
#include <string>

namespace mmkit::models {

/// One trade of a schedule: time (model time unit) and signed quantity (> 0 buy).
struct Trade {
  double t = 0;
  double qty = 0;
};

/// Running impact state of one trader's trades, fed in non-decreasing time. Not thread-safe.
class ImpactTracker {
 public:
  virtual ~ImpactTracker() = default;
  /// Records a trade of signed `qty` (!= 0) at time `t` (>= the previous trade's) and returns
  /// its execution offset: execution price − unaffected price (signed, price units).
  virtual double trade(double t, double qty) = 0;
  /// Displacement of the price at time t (>= the last trade's) left by the trades so far.
  [[nodiscard]] virtual double displacement(double t) const = 0;
};

/// An impact model. The cost estimators are defined by the tracker (same numbers in the
/// engine and in the estimators).
class ImpactModel {
 public:
  virtual ~ImpactModel() = default;
  [[nodiscard]] virtual std::unique_ptr<ImpactTracker> tracker() const = 0;
  /// e.g. "almgren-chriss:gamma=2.5e-07,eta=2.5e-06,epsilon=0.0625,tau=1".
  [[nodiscard]] virtual std::string describe() const = 0;

  /// Σ qty_i × offset_i over the schedule (price × qty units; > 0 = cost). Throws mmkit::Error
  /// if times decrease or a qty is 0 or not finite.
  [[nodiscard]] double expected_cost(std::span<const Trade> schedule) const;
  /// Displacement at time t left by the trades of `schedule` with time <= t.
  [[nodiscard]] double impact(double t, std::span<const Trade> schedule) const;
};

/// Almgren & Chriss (2001) linear impact (§1.2 permanent, §1.3 temporary, §1.5 linear forms):
/// a trade of n shares executed over an interval tau has rate v = n / tau;
///   permanent:  the price moves by τ g(v) = γ n after the trade;
///   temporary:  the trade executes at p0 + displacement + ε sgn(n) + η n / tau.
/// Over a sell program of X in equal intervals the cost is ½γX² + εX + (η̃/τ) Σ n_k² with
/// η̃ = η − ½γτ (§1.5, E(x) for linear impact); expected_cost reproduces it exactly.
/// Units: gamma price/qty, eta price·time/qty, epsilon price, tau time (> 0).
class AlmgrenChrissImpact final : public ImpactModel {
 public:
  /// Throws mmkit::Error unless gamma, eta, epsilon >= 0 and tau > 0 (all finite).
  AlmgrenChrissImpact(double gamma, double eta, double epsilon, double tau);
  [[nodiscard]] std::unique_ptr<ImpactTracker> tracker() const override;
  [[nodiscard]] std::string describe() const override;
  double gamma, eta, epsilon, tau;
};

/// Square-root impact (Tóth et al. 2011; Bouchaud, Bonart, Donier, Gould (2018) "Trades,
/// quotes and prices", ch. 12): the displacement after a (meta)order has executed a signed
/// cumulative Q is I(Q) = Y σ sgn(Q) sqrt(|Q| / V); each child trade pays the average of I
/// over the volume it executes: offset = [F(Q + q) − F(Q)] / q, F(x) = (2/3) Y σ |x|^{3/2} / √V,
/// so a one-sided metaorder of size Q costs (2/3) Y σ Q sqrt(Q / V) whatever its schedule (the
/// law has no time scale; no decay is modelled). Units: Y dimensionless (~0.5-1), sigma
/// price (volatility over the horizon V refers to, e.g. daily), V qty (e.g. daily volume).
class SquareRootImpact final : public ImpactModel {
 public:
  /// Throws mmkit::Error unless Y >= 0, sigma >= 0, V > 0 (all finite).
  SquareRootImpact(double Y, double sigma, double V);
  [[nodiscard]] std::unique_ptr<ImpactTracker> tracker() const override;
  [[nodiscard]] std::string describe() const override;
  double Y, sigma, V;
};

/// Transient impact with exponential decay (Obizhaeva & Wang 2013, §2-3; propagator form):
///   displacement D(t) = Σ_{t_i <= t} (lambda + kappa e^{−rho (t − t_i)}) q_i,
///   a trade q at t executes at p0 + D(t−) + (lambda + kappa) q / 2 (it walks a block-shaped
///   book of depth 1/(lambda + kappa): average concession half its own instantaneous impact).
/// Units: lambda, kappa price/qty; rho 1/time. Exact O(1) update per trade.
class TransientImpact final : public ImpactModel {
 public:
  /// Throws mmkit::Error unless lambda >= 0, kappa >= 0, rho >= 0 (all finite).
  TransientImpact(double lambda, double kappa, double rho);
  [[nodiscard]] std::unique_ptr<ImpactTracker> tracker() const override;
  [[nodiscard]] std::string describe() const override;
  double lambda, kappa, rho;
};

/// Parses a model spec: "" or "none" -> nullptr; otherwise NAME[:key=value,...] with
///   almgren-chriss: gamma, eta, epsilon (default 0), tau (default 1)
///   sqrt:           Y (default 1), sigma, V
///   transient:      kappa, rho, lambda (default 0)
/// Keys without a default are required. Throws mmkit::Error naming the names / keys accepted.
[[nodiscard]] std::unique_ptr<ImpactModel> make_impact_model(const std::string& spec);

}  // namespace mmkit::models
