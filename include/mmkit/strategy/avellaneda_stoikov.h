// Avellaneda & Stoikov (2008), "High-frequency trading in a limit order book", Quantitative
// Finance 8(3), 217-224: the reservation price and the optimal total spread of the
// exponential-utility market maker (§3, eqs. (29)-(30) in the approximation of §3.2):
//   r      = s − q γ σ² (T − t)
//   δa + δb = γ σ² (T − t) + (2/γ) ln(1 + γ/k)
//   bid = r − (δa + δb)/2,   ask = r + (δa + δb)/2
// Units: s, r, quotes in decimal price (quote currency per unit of the instrument); σ in
// price/√s (σ² in price²/s); T − t in seconds; γ and k in 1/price; q = position / order_qty
// (inventory counted in order-size units, the model's unit trade). Parameters and defaults:
// docs/strategies.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "mmkit/strategy/calibration.h"
#include "mmkit/strategy/spread_quoter.h"

namespace mmkit::strategy {

struct AsQuote {
  double reservation = 0;  ///< r, price
  double spread = 0;       ///< δa + δb, price
  double bid = 0;          ///< r − spread/2
  double ask = 0;          ///< r + spread/2
};

/// The closed forms above. s price, q order-size units, gamma 1/price (> 0), sigma price/√s,
/// tau_s seconds (>= 0), k 1/price (> 0).
[[nodiscard]] AsQuote avellaneda_stoikov_quote(double s, double q, double gamma, double sigma,
                                               double tau_s, double k) noexcept;

/// k such that the liquidity term (2/γ) ln(1 + γ/k) equals `spread` (price):
/// k = γ / (exp(γ·spread/2) − 1).
[[nodiscard]] double as_k_for_spread(double gamma, double spread) noexcept;

enum class AsHorizon : std::uint8_t {
  kRolling = 0,  ///< T − t = horizon_s at every quote
  kFinite = 1,   ///< T = first market event + horizon_s; T − t = max(0, T − now)
};

/// Parameters as given (nullopt = default, see docs/strategies.md).
struct AvellanedaStoikovParams {
  QuotingParams quoting;
  std::optional<double> gamma;    ///< 1/price; default: S / (2 σ² τ0) once σ is known
  std::optional<double> k;        ///< 1/price; default: zero-inventory spread = S (below)
  std::optional<double> sigma;    ///< price/√s; default: EWMA estimate
  std::optional<std::string> horizon;  ///< "rolling" (default) or "finite"
  std::optional<double> horizon_s;     ///< default 60 (rolling), 23400 (finite)
  std::optional<bool> calibrate_k;     ///< default false
  std::optional<double> calibration_window_s;        ///< default 600
  std::optional<std::int64_t> calibration_min_trades;  ///< default 50
  std::optional<std::int64_t> calibration_max_ticks;   ///< default ceil(mean spread ticks) + 20
  std::optional<double> sigma_half_life_s;  ///< default 60
  std::optional<double> sigma_sample_ms;    ///< default 100
};

/// Quotes r ± (δa + δb)/2 (one level a side) with the common quoting rules (spread_quoter.h).
/// Defaults, resolved once, the first time σ is known (given, or the EWMA ready), with
/// S = max(mean market spread, one tick) in price and τ0 = horizon_s:
///   γ = S / (2 σ² τ0): one order_qty of inventory moves the reservation price by S/2;
///   k = as_k_for_spread(γ, L), L = max(S − γσ²τ0, S/2): the zero-inventory spread at τ0 equals
///       the mean market spread (exactly so with the default γ: L = S/2);
///   with calibrate_k, k = k_ticks / tick from an IntensityEstimator (as in GLFT) once it fits.
/// No quotes before σ is known.
class AvellanedaStoikov final : public QuotingStrategy {
 public:
  /// Throws mmkit::Error for invalid parameters.
  AvellanedaStoikov(const AvellanedaStoikovParams& p, const InstrumentSpec& spec,
                    const MarketProfile& profile);
  [[nodiscard]] Params resolved_params() const override;

  /// Current model state (NaN where not yet known).
  [[nodiscard]] double gamma() const noexcept { return gamma_; }
  [[nodiscard]] double k() const noexcept { return k_; }
  [[nodiscard]] double sigma() const noexcept;
  [[nodiscard]] const AsQuote& last_quote() const noexcept { return last_; }

 protected:
  void observe_book(Context& ctx, double mid_raw) override;
  void observe_trade(Context& ctx, const TradeView& t, double mid_raw) override;
  void observe_time(Context& ctx) override;
  Decision model_quotes(Context& ctx, double mid_raw, double& bid_raw, double& ask_raw) override;

 private:
  struct Resolved {
    QuotingSettings quoting;
    std::optional<double> gamma, k, sigma;
    AsHorizon horizon;
    double horizon_s;
    bool calibrate_k;
    double calibration_window_s;
    std::int64_t calibration_min_trades, calibration_max_ticks;
    double sigma_half_life_s, sigma_sample_ms;
    double spread_price;  // S
  };
  static Resolved resolve(const AvellanedaStoikovParams& p, const InstrumentSpec& spec,
                          const MarketProfile& profile);
  AvellanedaStoikov(const Resolved& r, const InstrumentSpec& spec);
  void resolve_model(double sigma);

  Resolved r_;
  double price_scale_;  // raw price units per unit of decimal price
  double gamma_, k_, k_spread_;
  bool model_resolved_ = false;
  EwmaVolatility vol_;
  IntensityEstimator intensity_;
  AsQuote last_;
};

}  // namespace mmkit::strategy
