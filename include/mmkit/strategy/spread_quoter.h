// Quoting machinery shared by the shipped quoting strategies (common settings, quotes on the
// tick / lot grid, order management, requote triggers), and the spread quoter:
//   spread = max(min_spread_ticks, σ × vol_multiplier)          [ticks]
//   center = mid − skew_per_lot × q                              [ticks; q = position / order_qty]
//   bid_i  = center − spread/2 − i × level_spacing_ticks,  ask_i = center + spread/2 + i × spacing
// with σ the rolling realized volatility of the mid (ticks/√s, RollingVolatility) and
// vol_multiplier in √s (σ × m is the standard deviation of the mid over m² seconds).
// Formulas, parameters and defaults: docs/strategies.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mmkit/strategy/calibration.h"
#include "mmkit/strategy/modules.h"
#include "mmkit/strategy/strategy.h"

namespace mmkit::strategy {

/// What triggers a requote: each complete book update (throttled by min_requote_interval) or
/// each timer tick (EngineConfig::timer_interval_ns). A fill always makes the next trigger
/// requote regardless of the throttle.
enum class RequoteTrigger : std::uint8_t { kBook = 0, kTimer = 1 };

/// Common settings as given (nullopt = default). Quantities are decimal (e.g. 0.01 BTC).
struct QuotingParams {
  std::optional<double> order_qty;                ///< per order; default: median trade qty
                                                  ///< rounded to the lot, >= 1 lot
  std::optional<double> max_position;            ///< |position| cap; default 10 × order_qty
  std::optional<std::int64_t> requote_threshold_ticks;  ///< default 1
  std::optional<bool> post_only;                  ///< default true
  std::optional<std::string> requote_on;          ///< "book" (default) or "timer"
  std::optional<double> min_requote_interval_ms;  ///< default 100
  std::optional<bool> requote_with_modify;        ///< default true
  Params modules;  ///< module params "NAME.key" (modules.h); none: no module
};

/// Resolved common settings (raw units).
struct QuotingSettings {
  Qty order_qty = 0;       ///< raw qty, a positive multiple of the lot
  Qty max_position = 0;    ///< raw qty, >= 0
  std::int64_t requote_threshold_ticks = 1;
  bool post_only = true;
  RequoteTrigger trigger = RequoteTrigger::kBook;
  TimestampNs min_requote_interval_ns = 100'000'000;
  bool use_modify = true;
  ModulesConfig modules;  ///< resolved module settings (modules.h)
};

/// Resolves defaults from the instrument and the market profile. Throws mmkit::Error naming
/// `strategy` and the parameter for an invalid value (non-positive or off-lot order_qty,
/// negative max_position, threshold < 1, unknown requote_on, negative interval, a module
/// param that resolve_modules rejects).
[[nodiscard]] QuotingSettings resolve_quoting(const QuotingParams& p, const InstrumentSpec& spec,
                                              const MarketProfile& profile,
                                              std::string_view strategy);
/// Writes the resolved common settings as Params (decimal quantities), with the module settings
/// of the modules given (append_module_params).
void append_quoting_params(const QuotingSettings& s, const InstrumentSpec& spec, Params& out);

/// Throws mmkit::Error("strategy 'S': param 'P': WHAT").
[[noreturn]] void throw_param_error(std::string_view strategy, std::string_view param,
                                    std::string_view what);
/// Checks `value` > 0 (or >= 0 when !strict) and finite; throws via throw_param_error.
double require_positive(double value, std::string_view strategy, std::string_view param,
                        bool strict = true);
/// Seconds / milliseconds (finite, >= 0) to ns, rounded to the nearest ns.
[[nodiscard]] TimestampNs seconds_to_ns(double s) noexcept;

/// Decimal quantity -> raw units (exact up to 1e-6 raw); throws mmkit::Error naming `what` if
/// it is not a multiple of the lot (or not positive when `positive`).
[[nodiscard]] Qty decimal_qty_to_raw(double qty, const InstrumentSpec& spec, std::string_view what,
                                     bool positive);

/// One order we want resting: price on the tick grid, qty on the lot grid.
struct QuoteLevel {
  Price price = kNoPrice;
  Qty qty = 0;
  friend bool operator==(const QuoteLevel&, const QuoteLevel&) = default;
};

/// Orderable quotes from model prices (raw price units, real-valued):
///  - the first bid is bid_raw rounded down to the tick, the first ask ask_raw rounded up;
///  - clamped to the passive side: bid <= best ask − tick, ask >= best bid + tick (a side of the
///    book that is empty imposes nothing);
///  - never crossed: if ask <= bid after that, ask = bid + tick;
///  - level i (0-based) is i × spacing_ticks further from the first;
///  - sizes: order_qty per level, cut so that position + Σ bid sizes <= max_position and
///    position − Σ ask sizes >= −max_position (each size rounded down to the lot; levels that
///    would get 0 are dropped, so a side at the limit is not quoted).
/// NaN model prices give no level on that side.
void build_quote_levels(double bid_raw, double ask_raw, std::size_t levels,
                        std::int64_t spacing_ticks, const book::Level& best_bid,
                        const book::Level& best_ask, Qty position, const QuotingSettings& s,
                        const InstrumentSpec& spec, std::vector<QuoteLevel>& bids,
                        std::vector<QuoteLevel>& asks);
/// Same with per-side order sizes (raw qty per level, in place of s.order_qty; <= 0: that side
/// is not quoted).
void build_quote_levels(double bid_raw, double ask_raw, std::size_t levels,
                        std::int64_t spacing_ticks, const book::Level& best_bid,
                        const book::Level& best_ask, Qty position, const QuotingSettings& s,
                        const InstrumentSpec& spec, Qty bid_qty, Qty ask_qty,
                        std::vector<QuoteLevel>& bids, std::vector<QuoteLevel>& asks);

/// The quotes after a module adjustment (modules.h): with ref = (bid + ask)/2 when both are
/// finite, else mid_raw,
///   bid' = ref + shift·tick − (ref − bid)·spread_mult,  ask' = ref + shift·tick + (ask − ref)·spread_mult
/// and NaN for a side the adjustment turns off. Sizes: base = a.order_qty (or order_qty when 0),
///   size = max(lot, floor_lot(base × side_mult)) if side_mult > 0, else 0.
/// Composes the external slot's adjustment into the modules' `a` (modules.h, ExternalAdjust);
/// bid_raw / ask_raw: the model quote after the override (h for skew_half_spreads; a side NaN:
/// no skew shift).
void compose_external(const ExternalAdjust& e, double bid_raw, double ask_raw, double tick,
                      QuoteAdjust& a) noexcept;
void apply_adjust(const QuoteAdjust& a, double mid_raw, double tick, double& bid_raw,
                  double& ask_raw) noexcept;
[[nodiscard]] Qty adjusted_size(Qty base, double mult, Qty lot) noexcept;

/// Keeps our resting orders on one side equal to a list of levels with the fewest messages:
/// an order within requote_threshold_ticks of a wanted level stays (its size is reduced by a
/// modify when it exceeds the wanted size, which keeps queue priority); other orders are moved
/// with modify (when enabled and the order is acknowledged, unfilled and has nothing pending)
/// or canceled; levels left without an order get a new one. Orders in flight (pending new or
/// pending modify) are never touched while a wanted level remains for them, so at most one
/// order per side per level is working. After a rejection for a risk reason (kRisk*) the side
/// is not re-submitted for 1 s of local time; other rejections (post-only would cross...) are
/// retried at the next requote.
class QuoteManager {
 public:
  explicit QuoteManager(const QuotingSettings& settings, const InstrumentSpec& spec)
      : s_(settings), tick_(spec.tick_size) {}

  void sync(Context& ctx, Side side, const std::vector<QuoteLevel>& levels);
  /// Cancels every open order of ours on `side` (kNone: both sides).
  void cancel_all(Context& ctx, Side side);
  void on_order_update(const OrderUpdate& u);

  static constexpr TimestampNs kRiskRejectBackoffNs = 1'000'000'000;
  [[nodiscard]] std::uint64_t rejects() const noexcept { return rejects_; }

 private:
  void collect(Context& ctx, Side side);

  QuotingSettings s_;
  Price tick_;
  std::vector<OrderView> mine_;  // scratch: our live orders on the side being synced
  std::vector<char> level_taken_, order_done_;
  TimestampNs paused_until_[3] = {kNoTimestamp, kNoTimestamp, kNoTimestamp};  // by Side
  std::uint64_t rejects_ = 0;
};

/// Base of the quoting strategies: requote triggers and throttle, mid tracking, order
/// management, position limit, and the module pipeline (modules.h; settings.modules): modules
/// see every book update, trade, fill, order update and timer tick, and adjust the model quotes
/// at each requote; the pipeline's external slot (set_external_adjust) adjusts them from
/// outside. On a module's kill the strategy cancels all its orders and sends an IOC market order
/// for −position (one at a time, re-sent while the position is not flat).
class QuotingStrategy : public Strategy {
 public:
  QuotingStrategy(const QuotingSettings& settings, const InstrumentSpec& spec,
                  std::size_t levels = 1, std::int64_t level_spacing_ticks = 1);

  void on_book_update(Context& ctx) final;
  void on_trade(Context& ctx, const TradeView& t) final;
  void on_timer(Context& ctx) final;
  void on_order_update(Context& ctx, const OrderUpdate& u) final;
  void on_fill(Context& ctx, const Fill& f) final;

  [[nodiscard]] const QuotingSettings& settings() const noexcept { return settings_; }
  /// Last wanted levels (after the grid, passive-side and position rules).
  [[nodiscard]] const std::vector<QuoteLevel>& wanted_bids() const noexcept { return bids_; }
  [[nodiscard]] const std::vector<QuoteLevel>& wanted_asks() const noexcept { return asks_; }
  [[nodiscard]] std::uint64_t requotes() const noexcept { return requotes_; }
  [[nodiscard]] const ModulePipeline& modules() const noexcept { return pipeline_; }
  [[nodiscard]] const QuoteAdjust& last_adjust() const noexcept { return last_adjust_; }
  /// The pipeline's external slot (modules.h, ExternalAdjust; the RL agent's action), applied at
  /// every requote from now on. A value different from the current one makes the next requote
  /// trigger (book update or timer tick, RequoteTrigger) requote regardless of
  /// min_requote_interval, as a fill does; the same value changes nothing.
  void set_external_adjust(const ExternalAdjust& e) noexcept;
  [[nodiscard]] const ExternalAdjust& external_adjust() const noexcept { return external_; }
  /// Model bid / ask of the last requote (raw price units, before any adjustment; NaN: none).
  [[nodiscard]] double last_model_bid_raw() const noexcept { return model_bid_; }
  [[nodiscard]] double last_model_ask_raw() const noexcept { return model_ask_; }
  /// IOC market orders sent by the kill switch.
  [[nodiscard]] std::uint64_t flatten_orders() const noexcept { return flatten_orders_; }
  /// The modules' counters ("NAME.counter"; empty without modules) and "modules.flatten_orders".
  [[nodiscard]] Params summary() const override;

 protected:
  enum class Decision : std::uint8_t {
    kQuote,    ///< quote the model prices
    kNoQuote,  ///< warm-up or nothing to quote: cancel what rests
    kHold,     ///< leave the orders as they are
  };
  /// Every complete book update with both sides present; mid in raw price units.
  virtual void observe_book(Context& ctx, double mid_raw) = 0;
  /// Every trade print; mid_raw is the mid of the last complete book (NaN if none).
  virtual void observe_trade(Context& ctx, const TradeView& t, double mid_raw) = 0;
  /// Every timer tick (for estimators that sample on a clock).
  virtual void observe_time(Context& ctx) = 0;
  /// Model bid / ask in raw price units (real-valued, before the grid); NaN = no quote that side.
  virtual Decision model_quotes(Context& ctx, double mid_raw, double& bid_raw, double& ask_raw) = 0;

  /// Requotes now (throttle not applied).
  void requote(Context& ctx);

  QuotingSettings settings_;
  InstrumentSpec spec_;
  double tick_ = 1;         ///< raw price units per tick
  double last_mid_ = 0;     ///< raw; NaN until a book with both sides
  TimestampNs first_ts_ = kNoTimestamp;  ///< local time of the first market event seen

 private:
  void maybe_requote(Context& ctx);
  void note_time(Context& ctx);
  void flatten(Context& ctx);
  [[nodiscard]] double pnl(Context& ctx, double mid_raw) const;

  QuoteManager manager_;
  std::size_t levels_;
  std::int64_t spacing_ticks_;
  std::vector<QuoteLevel> bids_, asks_;
  TimestampNs last_requote_ns_ = kNoTimestamp;
  bool dirty_ = false;
  std::uint64_t requotes_ = 0;
  ModulePipeline pipeline_;
  QuoteAdjust last_adjust_;
  ExternalAdjust external_;
  bool external_on_ = false;  ///< !external_.identity()
  double model_bid_, model_ask_;
  ClientOrderId flatten_id_ = 0;  ///< kill-switch order in flight (0: none)
  std::uint64_t flatten_orders_ = 0;
  double money_per_raw_ = 0;  ///< currency per (raw price × raw qty)
};

/// Spread-quoter parameters as given (nullopt = default).
struct SpreadQuoterParams {
  QuotingParams quoting;
  std::optional<double> min_spread_ticks;   ///< full spread floor; default max(1, mean spread)
  std::optional<double> vol_multiplier;     ///< √s; default 1
  std::optional<double> skew_per_lot;       ///< ticks per order_qty of position; default
                                            ///< min_spread / (2 × max_position / order_qty)
  std::optional<std::int64_t> levels;       ///< per side; default 1
  std::optional<std::int64_t> level_spacing_ticks;  ///< default 1
  std::optional<double> vol_window_s;       ///< default 60
  std::optional<double> vol_sample_ms;      ///< default 100
};

/// spread = max(min_spread, σ × multiplier), inventory skew, several levels. Until the
/// volatility estimator has 10 s of samples (or min(10 s, window)) it does not quote, unless
/// vol_multiplier is 0.
class SpreadQuoter final : public QuotingStrategy {
 public:
  /// Throws mmkit::Error for invalid parameters.
  SpreadQuoter(const SpreadQuoterParams& p, const InstrumentSpec& spec,
               const MarketProfile& profile);
  [[nodiscard]] Params resolved_params() const override;

  [[nodiscard]] double min_spread_ticks() const noexcept { return min_spread_ticks_; }
  [[nodiscard]] double skew_per_lot() const noexcept { return skew_per_lot_; }
  [[nodiscard]] double sigma_ticks() const noexcept { return vol_.sigma(); }

 protected:
  void observe_book(Context& ctx, double mid_raw) override;
  void observe_trade(Context&, const TradeView&, double) override {}
  void observe_time(Context& ctx) override;
  Decision model_quotes(Context& ctx, double mid_raw, double& bid_raw, double& ask_raw) override;

 private:
  struct Resolved {
    QuotingSettings quoting;
    double min_spread_ticks, vol_multiplier, skew_per_lot;
    std::int64_t levels, spacing;
    double vol_window_s, vol_sample_ms;
  };
  static Resolved resolve(const SpreadQuoterParams& p, const InstrumentSpec& spec,
                          const MarketProfile& profile);
  SpreadQuoter(const Resolved& r, const InstrumentSpec& spec);

  double min_spread_ticks_, vol_multiplier_, skew_per_lot_;
  std::int64_t levels_, spacing_;
  double vol_window_s_, vol_sample_ms_;
  RollingVolatility vol_;
};

}  // namespace mmkit::strategy
