// Execution algorithms as strategies: a parent order (buy or sell a quantity between a start and
// an end time) worked through child orders on the simulated exchange (same queue, latency and
// fees as any strategy), with the implementation-shortfall report.
//
// Algorithms (command-line names): "twap", "vwap", "pov", "almgren-chriss", "adaptive". Each
// computes a cumulative target quantity over time; a passive child rests at the near touch for
// the current slice and, at each slice boundary, the shortfall against the target is crossed
// with an IOC limit at the far touch ("catch-up"). At `end` a final sweep crosses whatever is
// left, walking the visible book; completion below 100% is reported when liquidity is missing.
//   TWAP: equal slices of `slice_s`.
//   VWAP: slices proportional to a volume profile (trade-print volume per time bucket), by
//         default measured on the same data in a pre-pass (in-sample), or read from a CSV.
//   POV: target = rate × market volume (trade prints) seen since start, min / max child size.
//   Almgren-Chriss: holdings x(t) = X sinh(κ(T − t)) / sinh(κT), Almgren & Chriss (2001),
//         "Optimal execution of portfolio transactions", J. Risk 3(2), 5-39, eq. (18), with
//         κ from 2(cosh κτ − 1)/τ² = λσ²/η̃, η̃ = η − γτ/2 (their eq. (19)-(20), § 3).
//   Adaptive: a target schedule (TWAP, VWAP or Almgren-Chriss) followed with an urgency from
//         volatility and spread: ahead of schedule passive only; behind by more than a
//         threshold (smaller when urgent) cross the spread.
// Parameters, defaults and the report: docs/execution.md.
//
// Implementation shortfall (IS) against the arrival mid P0 (local mid when the parent starts),
// per fill i of q_i at p_i with the exchange's best bid b_i / ask a_i just before the fill
// (m_i = (b_i + a_i) / 2), side sign s (+1 buy, −1 sell):
//   IS     = Σ s (p_i − P0) q_i
//   spread = Σ s h_i q_i,  h_i = +(a_i − b_i)/2 for a taker fill, −(a_i − b_i)/2 for a maker fill
//   impact = Σ (s (p_i − m_i) − s h_i) q_i      (price beyond the touch / adverse book moves)
//   timing = Σ s (m_i − P0) q_i
// so spread + impact + timing = IS exactly (computed in integers: twice the raw prices × raw
// quantities). Fees are reported separately; bps are of P0 × filled quantity.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mmkit/strategy/calibration.h"
#include "mmkit/strategy/strategy.h"

namespace mmkit::strategy {

// ---------------------------------------------------------------------------------------------
// Volume profile

/// Trade-print volume per time bucket. Volume is spread uniformly within a bucket.
struct VolumeProfile {
  /// Start of bucket 0: ns since the epoch, or, when `time_of_day`, ns after 00:00 UTC of the
  /// day the run starts (profiles read from a CSV, usable on another day).
  TimestampNs origin_ns = 0;
  TimestampNs bucket_ns = 0;   ///< > 0
  std::vector<double> volume;  ///< decimal qty per bucket, >= 0
  bool time_of_day = false;

  /// Volume between absolute times a <= b (ns since the epoch; a time-of-day profile must be
  /// anchored first). 0 outside the buckets.
  [[nodiscard]] double volume_between(TimestampNs a, TimestampNs b) const noexcept;
  [[nodiscard]] double total() const noexcept;
  /// The same profile with absolute times: origin + 00:00 UTC of the day of `ts_ns`.
  [[nodiscard]] VolumeProfile anchored(TimestampNs ts_ns) const;
};

/// 00:00 UTC of the day holding ts_ns (ns since the epoch).
[[nodiscard]] TimestampNs utc_midnight_ns(TimestampNs ts_ns) noexcept;

/// Reads a profile CSV (plain or gzip):
///   time_s,volume
///   48600,1234.5
///   48660,987
/// time_s: bucket start in seconds after 00:00 UTC of the run's day (decimal, >= 0, rows evenly
/// spaced and increasing: the spacing is the bucket); volume: decimal quantity traded in the
/// bucket (>= 0). Lines starting with '#' are comments. The in-sample pre-pass writes the same
/// format (`profile_csv` of a `measure_only` run). Throws mmkit::Error naming file:line and
/// the field.
[[nodiscard]] VolumeProfile read_volume_profile(const std::string& path);

// ---------------------------------------------------------------------------------------------
// Schedules (pure functions; raw quantities are multiples of `lot`)

/// Slice boundaries t_0 = start < t_1 < ... < t_N = end with t_k = start + k·slice_ns (the last
/// slice is shorter when slice_ns does not divide end − start). end > start, slice_ns > 0.
[[nodiscard]] std::vector<TimestampNs> slice_boundaries(TimestampNs start, TimestampNs end,
                                                        TimestampNs slice_ns);

/// Cumulative targets at the boundaries t_0..t_N from cumulative fractions f_0 = 0 <= f_1 <= ...
/// <= f_N = 1: target_k = floor(f_k X / lot) · lot, target_N = X. total a multiple of lot.
[[nodiscard]] std::vector<Qty> cumulative_targets(Qty total, Qty lot,
                                                  std::span<const double> fractions);

/// TWAP fractions f_k = (t_k − t_0) / (t_N − t_0) (equal slices; a shorter last slice gets a
/// proportionally smaller share).
[[nodiscard]] std::vector<double> twap_fractions(std::span<const TimestampNs> boundaries);

/// VWAP fractions f_k = V(t_0, t_k) / V(t_0, t_N) from an anchored profile; nullopt when the
/// profile holds no volume between t_0 and t_N.
[[nodiscard]] std::optional<std::vector<double>> vwap_fractions(
    std::span<const TimestampNs> boundaries, const VolumeProfile& profile);

/// Almgren-Chriss κ (1/s) from risk aversion λ (1/currency), volatility σ (price/√s), temporary
/// impact η (price per qty/s), permanent impact γ (price per qty) and the slice length τ (s):
/// κ = acosh(1 + κ̃²τ²/2)/τ with κ̃² = λσ²/η̃, η̃ = η − γτ/2 (AC 2001 eq. (19)-(20)). Returns 0
/// for λσ² = 0 (the linear, TWAP trajectory); NaN when η̃ <= 0.
[[nodiscard]] double almgren_chriss_kappa(double lambda, double sigma, double eta, double gamma,
                                          double tau) noexcept;

/// Holdings left at time t of a horizon T, as a fraction of the initial holdings:
/// sinh(κ(T − t)) / sinh(κT) (AC 2001 eq. (18)), (T − t)/T for κ = 0. 0 <= t <= T.
[[nodiscard]] double almgren_chriss_holdings(double kappa, double T, double t) noexcept;

/// Almgren-Chriss fractions traded f_k = 1 − x(t_k)/X at the boundaries (t in seconds from
/// t_0, T = t_N − t_0).
[[nodiscard]] std::vector<double> almgren_chriss_fractions(std::span<const TimestampNs> boundaries,
                                                           double kappa);

// ---------------------------------------------------------------------------------------------
// Implementation shortfall

/// Implementation-shortfall accounting of one parent order (exact: integers in twice the raw
/// price units × raw qty). Feed every fill of the parent's children.
class ShortfallLedger {
 public:
  /// side: the parent's side; arrival_bid / arrival_ask: the book at arrival (P0 their mid).
  void start(Side side, Price arrival_bid, Price arrival_ask) noexcept;
  /// A child fill. A fill whose bid_at_fill or ask_at_fill is kNoPrice has no mid: its whole
  /// shortfall counts as timing and it is counted in fills_without_mid().
  void add(const Fill& f) noexcept;

  [[nodiscard]] bool started() const noexcept { return started_; }
  [[nodiscard]] Side side() const noexcept { return side_; }
  /// 2 × P0 in raw price units (b0 + a0).
  [[nodiscard]] Price arrival_x2() const noexcept { return p0_x2_; }
  [[nodiscard]] Qty filled() const noexcept { return filled_; }
  [[nodiscard]] Qty maker_filled() const noexcept { return maker_filled_; }
  [[nodiscard]] std::uint64_t fills() const noexcept { return fills_; }
  [[nodiscard]] std::uint64_t fills_without_mid() const noexcept { return no_mid_; }
  /// Σ p_i q_i, raw price × raw qty.
  [[nodiscard]] __int128 notional() const noexcept { return notional_; }
  /// Σ fee (exchange::Money).
  [[nodiscard]] Money fees() const noexcept { return fees_; }
  /// The terms × 2, raw price × raw qty: is_x2() == spread_x2() + impact_x2() + timing_x2().
  [[nodiscard]] __int128 is_x2() const noexcept { return is_; }
  [[nodiscard]] __int128 spread_x2() const noexcept { return spread_; }
  [[nodiscard]] __int128 impact_x2() const noexcept { return impact_; }
  [[nodiscard]] __int128 timing_x2() const noexcept { return timing_; }

  /// A term (×2 raw, as above) in currency: / 2 × 10^-(price_decimals + qty_decimals) × the
  /// contract multiplier.
  [[nodiscard]] static double to_currency(__int128 x2, const InstrumentSpec& spec) noexcept;
  /// A term in bps of P0 × filled (0 when nothing filled).
  [[nodiscard]] double to_bps(__int128 x2) const noexcept;

 private:
  Side side_ = Side::kNone;
  bool started_ = false;
  Price p0_x2_ = 0;
  Qty filled_ = 0, maker_filled_ = 0;
  std::uint64_t fills_ = 0, no_mid_ = 0;
  __int128 notional_ = 0, is_ = 0, spread_ = 0, impact_ = 0, timing_ = 0;
  Money fees_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The strategies

enum class ExecutionAlgo : std::uint8_t { kTwap, kVwap, kPov, kAlmgrenChriss, kAdaptive };
[[nodiscard]] const char* to_string(ExecutionAlgo a) noexcept;
/// "twap", "vwap", "pov", "almgren-chriss", "adaptive" -> the algorithm; nullopt otherwise.
[[nodiscard]] std::optional<ExecutionAlgo> execution_algo(std::string_view name) noexcept;

/// A start / end time as given: absolute (ns since the epoch), relative to the first event the
/// strategy sees ("+S", seconds), or the default.
struct ExecutionTime {
  enum class Kind : std::uint8_t { kDefault, kAbsolute, kRelative } kind = Kind::kDefault;
  TimestampNs abs_ns = 0;
  double rel_s = 0;
};

/// Parameters as given (nullopt = default; docs/execution.md). Quantities are decimal.
struct ExecutionParams {
  std::optional<std::string> side;       ///< "buy" | "sell" (required unless measure_only)
  std::optional<double> quantity;        ///< parent size, decimal qty (a multiple of the lot)
  std::optional<double> volume_fraction; ///< parent = this × expected market volume in [start, end]
  ExecutionTime start, end;              ///< default: first event / end of the profile
  std::optional<double> slice_s;         ///< default min(60, (end − start) / 10)
  std::optional<std::string> profile;    ///< volume-profile CSV (read_volume_profile)
  std::optional<bool> profile_in_sample; ///< the profile was measured on this data (reported)
  std::optional<bool> post_only;         ///< passive children post-only (default true) or GTC
  std::optional<double> sweep_timeout_s; ///< final sweep retries until end + this (default 10)
  std::optional<bool> measure_only;      ///< no orders: measure the profile (the pre-pass)
  std::optional<double> profile_bucket_s;///< bucket of the measured profile, s (default 60)
  // POV
  std::optional<double> rate;       ///< participation (0, 1]; default volume_fraction, else 0.1
  std::optional<double> min_child;  ///< decimal qty; default one lot
  std::optional<double> max_child;  ///< decimal qty; default the parent size
  // Almgren-Chriss (and the adaptive schedule "almgren-chriss")
  std::optional<double> lambda;  ///< risk aversion, 1/currency; default 1e-6 (AC 2001 § 4)
  std::optional<double> sigma;   ///< price/√s; default rolling estimate
  std::optional<double> eta;     ///< temporary impact, price per (qty/s); default spread/(0.01 R)
  std::optional<double> gamma;   ///< permanent impact, price per qty; default spread/(0.1 R T)
  std::optional<double> vol_window_s;   ///< rolling volatility window, s (default 60)
  std::optional<double> vol_sample_ms;  ///< its sampling interval, ms (default 1000)
  // Adaptive
  std::optional<std::string> schedule;      ///< "twap" | "vwap" | "almgren-chriss" (default twap)
  std::optional<double> behind_threshold;   ///< slices behind before crossing, at urgency 1 (0.5)
  std::optional<double> max_urgency;        ///< urgency clamp [1/max, max] (default 4)
};

/// One execution algorithm working one parent order. Deterministic. Not thread-safe.
class ExecutionStrategy final : public Strategy {
 public:
  /// Validates the parameters (and reads `profile`); throws mmkit::Error naming the strategy
  /// and the parameter.
  ExecutionStrategy(ExecutionAlgo algo, const ExecutionParams& p, const InstrumentSpec& spec,
                    const MarketProfile& profile);

  void on_start(Context& ctx) override;
  void on_book_update(Context& ctx) override;
  void on_trade(Context& ctx, const TradeView& t) override;
  void on_order_update(Context& ctx, const OrderUpdate& u) override;
  void on_fill(Context& ctx, const Fill& f) override;
  void on_timer(Context& ctx) override;
  void on_end(Context& ctx) override;
  [[nodiscard]] Params resolved_params() const override;
  /// The report (docs/execution.md): arrival price, average price, completion, IS and its
  /// decomposition, VWAP slippage, child orders, passive share; with measure_only: the profile.
  [[nodiscard]] Params summary() const override;

  [[nodiscard]] ExecutionAlgo algo() const noexcept { return algo_; }
  /// Parent size (raw qty); 0 before it is known (volume_fraction: at the start).
  [[nodiscard]] Qty target_qty() const noexcept { return total_; }
  [[nodiscard]] Qty filled() const noexcept { return ledger_.filled(); }
  [[nodiscard]] TimestampNs start_ns() const noexcept { return start_ns_; }
  [[nodiscard]] TimestampNs end_ns() const noexcept { return end_ns_; }
  /// Slice boundaries and cumulative targets (raw qty) once started (POV: empty targets).
  [[nodiscard]] const std::vector<TimestampNs>& boundaries() const noexcept { return bounds_; }
  [[nodiscard]] const std::vector<Qty>& targets() const noexcept { return targets_; }
  /// Cumulative target at local time t (piecewise linear between the boundaries; POV:
  /// rate × market volume seen). 0 before the start.
  [[nodiscard]] Qty target_at(TimestampNs t) const noexcept;
  [[nodiscard]] const ShortfallLedger& ledger() const noexcept { return ledger_; }
  [[nodiscard]] double kappa() const noexcept { return kappa_; }
  [[nodiscard]] double urgency() const noexcept { return urgency_; }
  /// Market trade-print volume (raw qty) seen in [start, min(now, end)].
  [[nodiscard]] Qty market_volume() const noexcept { return mkt_qty_; }

 private:
  enum class Phase : std::uint8_t { kWaiting, kRunning, kSweeping, kDone };
  struct Child {
    bool aggressive = false;
    Qty requested = 0;  ///< total size last asked for (a pending modify's new size)
  };
  struct Resolved {
    Side side = Side::kNone;
    std::optional<double> quantity, volume_fraction;
    ExecutionTime start, end;
    std::optional<double> slice_s;
    std::string profile_path;
    bool profile_in_sample = false;
    bool post_only = true;
    double sweep_timeout_s = 10;
    bool measure_only = false;
    double profile_bucket_s = 60;
    std::optional<double> rate, min_child, max_child;
    double lambda = 1e-6;
    std::optional<double> sigma, eta, gamma;
    double vol_window_s = 60, vol_sample_ms = 1000;
    ExecutionAlgo schedule = ExecutionAlgo::kTwap;
    double behind_threshold = 0.5, max_urgency = 4;
  };

  void begin(Context& ctx);
  void drive(Context& ctx);
  void sweep(Context& ctx);
  void finish(Context& ctx, Phase phase);
  void build_schedule(Context& ctx);
  void resolve_almgren_chriss(double sigma, std::size_t from);
  void update_urgency(Context& ctx);
  void hold_crossing(Context& ctx);
  [[nodiscard]] std::optional<std::vector<double>> schedule_fractions(ExecutionAlgo a);
  ClientOrderId send(Context& ctx, Price price, Qty qty, bool aggressive);
  [[nodiscard]] Qty committed(Context& ctx, Qty* aggressive, const OrderView** passive);
  [[nodiscard]] Price far_touch(Context& ctx) const;
  [[nodiscard]] Price sweep_price(Context& ctx, Qty qty) const;
  [[nodiscard]] double sigma_now() const noexcept;
  [[nodiscard]] Qty round_lot(double raw) const noexcept;
  [[nodiscard]] double to_price(double raw) const noexcept;

  ExecutionAlgo algo_;
  Resolved r_;
  InstrumentSpec spec_;
  MarketProfile mprofile_;
  std::optional<VolumeProfile> profile_;  ///< as read (possibly time of day)
  VolumeProfile anchored_;                ///< absolute, once started
  Qty lot_ = 1;
  Price tick_ = 1;

  Phase phase_ = Phase::kWaiting;
  TimestampNs first_ns_ = kNoTimestamp;  ///< on_start time
  TimestampNs last_ns_ = kNoTimestamp;   ///< latest callback time
  TimestampNs start_ns_ = kNoTimestamp, end_ns_ = kNoTimestamp;
  TimestampNs slice_ns_ = 0;
  Qty total_ = 0;
  Qty min_child_ = 0, max_child_ = 0;
  double rate_ = 0;
  double expected_volume_ = 0;  ///< decimal qty expected in [start, end] from the profile
  bool profile_fallback_ = false;
  std::vector<TimestampNs> bounds_;
  std::vector<Qty> targets_;
  std::size_t slice_ = 0;          ///< index k of the current slice [t_k, t_k+1)
  std::vector<Qty> pov_due_;       ///< POV: target at each boundary passed
  double kappa_ = 0, eta_ = 0, gamma_ = 0, sigma_used_ = 0;
  std::uint64_t kappa_updates_ = 0;

  ShortfallLedger ledger_;
  Price end_bid_ = kNoPrice, end_ask_ = kNoPrice;  ///< local book at end (opportunity cost)
  TimestampNs last_fill_ns_ = kNoTimestamp;
  std::unordered_map<ClientOrderId, Child> children_;
  std::uint64_t child_orders_ = 0, passive_orders_ = 0, aggressive_orders_ = 0, rejects_ = 0;
  std::uint64_t modifies_ = 0;
  bool wait_book_ = false;     ///< an IOC came back short: cross again once the far touch
  book::Level wait_far_;       ///< changes from this (or at the next slice / the sweep)
  bool passive_wait_ = false;  ///< a passive child was rejected: next one after a book update
  std::uint32_t sweep_retries_ = 0;
  bool driving_ = false;

  // Market observation (trade prints, local time).
  Qty mkt_qty_ = 0;
  __int128 mkt_notional_ = 0;
  std::uint64_t mkt_trades_ = 0;
  // measure_only: raw qty per bucket since the UTC midnight of the first event.
  TimestampNs measure_day_ = kNoTimestamp;
  std::vector<Qty> measured_;
  Qty measured_total_ = 0;
  __int128 measured_notional_ = 0;
  std::uint64_t measured_trades_ = 0;

  // Volatility and spread (Almgren-Chriss, adaptive).
  RollingVolatility vol_;
  double sigma_sum_ = 0, spread_sum_ = 0;
  std::uint64_t sigma_n_ = 0, spread_n_ = 0;
  double urgency_ = 1, urgency_sum_ = 0;
  std::uint64_t urgency_n_ = 0, crossings_ = 0;
};

/// True for the five execution algorithm names.
[[nodiscard]] bool is_execution_strategy(std::string_view name) noexcept;
/// The factory for the execution algorithms (called by make_strategy): reads and validates the
/// parameters (unknown names and wrong types are errors listing the accepted parameters).
[[nodiscard]] std::unique_ptr<Strategy> make_execution_strategy(const std::string& name,
                                                                const Params& params,
                                                                const InstrumentSpec& spec,
                                                                const MarketProfile& profile);

}  // namespace mmkit::strategy
