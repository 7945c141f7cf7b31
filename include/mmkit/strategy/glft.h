// Guéant, Lehalle, Fernandez-Tapia (2013), "Dealing with the inventory risk: a solution to the
// market making problem", Mathematics and Financial Economics 7(4), 477-507: the closed-form
// asymptotic approximation of the optimal quotes δ^b_∞(q), δ^a_∞(q) (stated there for a unit
// order size), in the form with order size Δ and ξ = γ of Guéant (2017), "Optimal market
// making", Applied Mathematical Finance 24(2), as in hftbacktest's GLFT example
// (nkaz001/hftbacktest, GLFT market-making tutorial, compute_coeff):
//   c1 = 1/(ξΔ) · ln(1 + ξΔ/k)
//   c2 = sqrt( γ / (2 A Δ k) · (1 + ξΔ/k)^(k/(ξΔ) + 1) )
//   δ^b(q) = c1 + (Δ/2) σ c2 + q σ c2        (bid depth below the mid)
//   δ^a(q) = c1 + (Δ/2) σ c2 − q σ c2        (ask depth above the mid)
// i.e. half spread c1 + (Δ/2)σc2 and skew σc2 per unit of inventory:
//   bid = mid − δ^b(q),   ask = mid + δ^a(q).
// Units: prices and depths in ticks; time in seconds; σ in ticks/√s; A in 1/s; k and γ = ξ in
// 1/tick; c1 in ticks, c2 in √s. q = position / order_qty and Δ (default 1) in the same unit:
// one order_qty. A and k are calibrated online (IntensityEstimator), σ from mid changes
// (RollingVolatility). Parameters and defaults: docs/strategies.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "mmkit/strategy/calibration.h"
#include "mmkit/strategy/spread_quoter.h"

namespace mmkit::strategy {

struct GlftCoefficients {
  double c1 = 0;  ///< ticks
  double c2 = 0;  ///< √s
};
/// gamma (= ξ) 1/tick > 0, delta > 0 (order-size units), A 1/s > 0, k 1/tick > 0.
[[nodiscard]] GlftCoefficients glft_coefficients(double gamma, double delta, double A,
                                                 double k) noexcept;

struct GlftQuote {
  double half_spread = 0;  ///< c1 + (Δ/2) σ c2, ticks
  double skew = 0;         ///< σ c2, ticks per unit of q
  double bid_depth = 0;    ///< δ^b(q) = half_spread + skew q, ticks below the mid
  double ask_depth = 0;    ///< δ^a(q) = half_spread − skew q, ticks above the mid
};
/// sigma ticks/√s, q and delta in order-size units.
[[nodiscard]] GlftQuote glft_quote(const GlftCoefficients& c, double sigma, double q,
                                   double delta) noexcept;

/// Parameters as given (nullopt = default, see docs/strategies.md).
struct GlftParams {
  QuotingParams quoting;
  std::optional<double> gamma;  ///< ξ = γ, 1/tick; default 0.05
  std::optional<double> delta;  ///< Δ, order-size units; default 1
  std::optional<double> A;      ///< 1/s; default calibrated (give A and k together)
  std::optional<double> k;      ///< 1/tick; default calibrated
  std::optional<double> sigma;  ///< ticks/√s; default rolling estimate
  std::optional<double> calibration_window_s;          ///< default 600
  std::optional<std::int64_t> calibration_min_trades;  ///< default 50
  std::optional<std::int64_t> calibration_max_ticks;   ///< default ceil(mean spread ticks) + 20
  std::optional<double> vol_window_s;   ///< default 60
  std::optional<double> vol_sample_ms;  ///< default 100
};

/// GLFT quoting with online calibration. Warm-up: until the first successful intensity fit,
/// A = max(trades_per_second / 2, 0.01) and k = 2 / max(1, mean spread in ticks) (a trade at
/// the typical half spread has λ = A/e); a later failed fit keeps the last good one. No
/// quotes until σ is known (given, or min(10 s, vol_window_s) of samples).
class Glft final : public QuotingStrategy {
 public:
  /// Throws mmkit::Error for invalid parameters (including only one of A and k).
  Glft(const GlftParams& p, const InstrumentSpec& spec, const MarketProfile& profile);
  [[nodiscard]] Params resolved_params() const override;

  [[nodiscard]] double A() const noexcept { return A_; }
  [[nodiscard]] double k() const noexcept { return k_; }
  /// ticks/√s; NaN until known.
  [[nodiscard]] double sigma() const noexcept;
  [[nodiscard]] bool calibrated() const noexcept { return fits_ > 0; }
  [[nodiscard]] std::uint64_t fits() const noexcept { return fits_; }
  [[nodiscard]] const GlftQuote& last_quote() const noexcept { return last_; }

 protected:
  void observe_book(Context& ctx, double mid_raw) override;
  void observe_trade(Context& ctx, const TradeView& t, double mid_raw) override;
  void observe_time(Context& ctx) override;
  Decision model_quotes(Context& ctx, double mid_raw, double& bid_raw, double& ask_raw) override;

 private:
  struct Resolved {
    QuotingSettings quoting;
    double gamma, delta;
    std::optional<double> A, k, sigma;
    double A0, k0;
    double calibration_window_s;
    std::int64_t calibration_min_trades, calibration_max_ticks;
    double vol_window_s, vol_sample_ms;
  };
  static Resolved resolve(const GlftParams& p, const InstrumentSpec& spec,
                          const MarketProfile& profile);
  Glft(const Resolved& r, const InstrumentSpec& spec);

  Resolved r_;
  double A_, k_;
  std::uint64_t fits_ = 0;
  RollingVolatility vol_;
  IntensityEstimator intensity_;
  GlftQuote last_;
};

}  // namespace mmkit::strategy
