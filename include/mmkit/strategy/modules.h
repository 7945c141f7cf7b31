// The market maker's modules: adjustments applied by the quoting strategies (QuotingStrategy,
// spread_quoter.h) between the model's bid / ask and the order grid.
//
// Pipeline. At each requote the model gives bid / ask (raw price units); every enabled module, in
// the fixed order of kModuleNames, composes its adjustment into one QuoteAdjust:
//   spread_mult      product of the modules' multipliers   (1 = unchanged)
//   center_shift     sum of the modules' shifts, ticks     (+ = quotes move up)
//   bid / ask size   product of the per-side multipliers   (1 = unchanged)
//   order_qty        the sizer's base size (raw qty; 0 = QuotingSettings::order_qty)
//   quote_bid / ask  AND of the modules' flags
//   freeze / kill    OR of the modules' flags
// and QuotingStrategy applies it (ref = (bid + ask)/2 when both sides are quoted, else the mid):
//   bid' = ref + shift·tick − (ref − bid)·spread_mult,   ask' = ref + shift·tick + (ask − ref)·spread_mult
//   size_side = max(lot, floor_lot(base × mult_side)) if mult_side > 0, else the side is off
// then build_quote_levels (grid, passive side, position limit) as without modules. freeze cancels
// our resting orders and quotes nothing; kill cancels everything and flattens the position with an
// IOC market order. With no module enabled nothing of this runs (results are unchanged bit for bit).
//
// Configuration: TOML sections [modules.NAME] flattened into the strategy params as "NAME.key"
// (python/mmkit/backtest.py); every module has `enabled` (default false). Keys, defaults, units and
// the laws of each module: docs/modules.md and configs/modules.toml.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mmkit/strategy/strategy.h"

namespace mmkit::strategy {

/// The composed adjustment (see the file comment).
struct QuoteAdjust {
  double spread_mult = 1;
  double center_shift_ticks = 0;
  double bid_size_mult = 1;
  double ask_size_mult = 1;
  Qty order_qty = 0;  ///< raw; 0 = the strategy's order_qty
  bool quote_bid = true;
  bool quote_ask = true;
  bool freeze = false;
  bool kill = false;
  /// With kill: raw qty cap of each flatten order (the rest is sent at the next requotes, one
  /// order in flight at a time), e.g. to stay under the venue's or the engine's max order size;
  /// 0 = the whole position at once. Not part of identity(): it only shapes a kill.
  Qty flatten_max_qty = 0;
  [[nodiscard]] bool identity() const noexcept {
    return spread_mult == 1 && center_shift_ticks == 0 && bid_size_mult == 1 &&
           ask_size_mult == 1 && order_qty == 0 && quote_bid && quote_ask && !freeze && !kill;
  }
};

/// The pipeline's external slot: an adjustment set from outside the strategy between requotes
/// (the RL agent's action, rl/lob_env.h; QuotingStrategy::set_external_adjust). At each requote
/// where the model quotes:
///  - override_model: the model prices become mid − bid_offset_ticks·tick and
///    mid + ask_offset_ticks·tick (direct control; mid = the book mid of the requote);
///  - then the modules compose their QuoteAdjust, and `adjust` is composed into it like one more
///    module (spread_mult ×, center_shift_ticks +, size multipliers ×, quote flags AND, freeze /
///    kill OR; order_qty replaces the modules' when > 0), and skew_half_spreads adds
///    skew_half_spreads × h / tick to the center shift, h = (ask − bid)/2 of the model quote
///    (after the override): a shift in units of the quote's own half spread.
/// identity() (the default): the strategy behaves exactly as without the slot.
struct ExternalAdjust {
  QuoteAdjust adjust;
  double skew_half_spreads = 0;
  bool override_model = false;
  double bid_offset_ticks = 0;  ///< override_model: ticks below the mid (< 0: above)
  double ask_offset_ticks = 0;  ///< override_model: ticks above the mid
  [[nodiscard]] bool identity() const noexcept {
    return !override_model && skew_half_spreads == 0 && adjust.identity();
  }
  friend bool operator==(const ExternalAdjust& a, const ExternalAdjust& b) noexcept {
    const QuoteAdjust &x = a.adjust, &y = b.adjust;
    return x.spread_mult == y.spread_mult && x.center_shift_ticks == y.center_shift_ticks &&
           x.bid_size_mult == y.bid_size_mult && x.ask_size_mult == y.ask_size_mult &&
           x.order_qty == y.order_qty && x.quote_bid == y.quote_bid && x.quote_ask == y.quote_ask &&
           x.freeze == y.freeze && x.kill == y.kill && a.skew_half_spreads == b.skew_half_spreads &&
           a.override_model == b.override_model && a.bid_offset_ticks == b.bid_offset_ticks &&
           a.ask_offset_ticks == b.ask_offset_ticks;
  }
};

/// State given to the modules at a requote.
struct QuoteInputs {
  TimestampNs now = 0;
  double mid_raw = 0;      ///< raw price units
  double tick = 1;         ///< raw price units per tick
  Qty position = 0;        ///< raw qty
  Qty order_qty = 0;       ///< the strategy's order_qty, raw
  Qty max_position = 0;    ///< the strategy's max_position, raw
  double pnl = 0;          ///< cash + position × mid, quote currency (fees included)
};

/// Module names in pipeline order.
inline constexpr std::array<std::string_view, 11> kModuleNames = {
    "imbalance", "microprice", "ofi", "tfi", "vpin", "toxicity", "trend",
    "adaptive", "funding", "sizer", "risk"};

/// Resolved module settings: for each module, its keys and values (numbers; bools as 0 / 1).
/// Built by resolve_modules; read by ModulePipeline.
struct ModulesConfig {
  std::map<std::string, std::map<std::string, double, std::less<>>, std::less<>> values;
  std::vector<std::string> given;  ///< modules named in the params (listed in resolved params)
  [[nodiscard]] bool enabled(std::string_view module) const;
  [[nodiscard]] bool any_enabled() const;
  /// The value of module.key (throws mmkit::Error if unknown: a programming error).
  [[nodiscard]] double get(std::string_view module, std::string_view key) const;
};

/// Facts used to resolve "auto" defaults.
struct ModuleDefaults {
  Qty order_qty = 0;     ///< raw
  Qty max_position = 0;  ///< raw
  double volume_per_s = 0;  ///< market volume rate, decimal qty / s (median trade × trades/s of
                            ///< the market profile; 0 if unknown)
};

/// True if `param` is a module param ("NAME.key").
[[nodiscard]] bool is_module_param(std::string_view param) noexcept;
/// Validates and resolves the "NAME.key" params. Throws mmkit::Error("strategy 'S': ...") for an
/// unknown module (listing the known ones), an unknown key (listing the module's keys), a value of
/// the wrong type or out of range.
[[nodiscard]] ModulesConfig resolve_modules(const Params& params, const InstrumentSpec& spec,
                                            const ModuleDefaults& defaults,
                                            std::string_view strategy);
/// Writes "NAME.key" for every module given in the params (all keys of an enabled module, only
/// `enabled` of a disabled one). Quantities in decimal units.
void append_module_params(const ModulesConfig& c, Params& out);

/// Risk manager states (see RiskModule in docs/modules.md).
enum class RiskState : std::uint8_t { kSafe = 0, kPositionLimit = 1, kCircuitBreak = 2 };
[[nodiscard]] const char* to_string(RiskState s) noexcept;

/// A module: observes the market and our orders, and adjusts the quotes at each requote.
class QuoteModule {
 public:
  virtual ~QuoteModule() = default;
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
  /// Every complete book update; mid_raw NaN when a side is empty or the book is crossed.
  virtual void on_book(Context&, double /*mid_raw*/) {}
  virtual void on_trade(Context&, const TradeView&, double /*mid_raw*/) {}
  virtual void on_fill(Context&, const Fill&, double /*mid_raw*/) {}
  virtual void on_order_update(Context&, const OrderUpdate&) {}
  virtual void on_timer(Context&, double /*mid_raw*/) {}
  /// Composes this module's adjustment into `a` (see the file comment).
  virtual void adjust(Context& ctx, const QuoteInputs& in, QuoteAdjust& a) = 0;
  /// Counters reported in Strategy::summary() as "NAME.counter".
  virtual void summary(Params&) const {}
};

/// Shared state between modules in one pipeline (written by the module that owns it, read by
/// later modules, e.g. the sizer reads the toxicity score). NaN = not available.
struct ModuleSignals {
  double toxicity = std::numeric_limits<double>::quiet_NaN();  ///< [0, 1]
  double vpin = std::numeric_limits<double>::quiet_NaN();      ///< [0, 1]
};

class ModulePipeline {
 public:
  ModulePipeline() = default;
  /// Builds the enabled modules. spec: the instrument (tick, lot, money scale).
  ModulePipeline(const ModulesConfig& config, const InstrumentSpec& spec);
  ModulePipeline(ModulePipeline&&) noexcept;
  ModulePipeline& operator=(ModulePipeline&&) noexcept;
  ~ModulePipeline();

  [[nodiscard]] bool empty() const noexcept { return modules_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return modules_.size(); }
  void on_book(Context& ctx, double mid_raw);
  void on_trade(Context& ctx, const TradeView& t, double mid_raw);
  void on_fill(Context& ctx, const Fill& f, double mid_raw);
  void on_order_update(Context& ctx, const OrderUpdate& u);
  void on_timer(Context& ctx, double mid_raw);
  /// The composed adjustment of every module (identity when empty).
  [[nodiscard]] QuoteAdjust adjust(Context& ctx, const QuoteInputs& in);
  /// "NAME.counter" of every module.
  [[nodiscard]] Params summary() const;
  /// The module named `name`, or nullptr if not enabled.
  [[nodiscard]] QuoteModule* find(std::string_view name) const noexcept;
  /// Risk manager state (kSafe when the risk module is not enabled).
  [[nodiscard]] RiskState risk_state() const noexcept;
  [[nodiscard]] const ModuleSignals& signals() const noexcept { return *signals_; }

 private:
  std::vector<std::unique_ptr<QuoteModule>> modules_;
  std::unique_ptr<ModuleSignals> signals_ = std::make_unique<ModuleSignals>();
};

// ---------------------------------------------------------------------------------------------
// Building blocks with a closed form, exposed for tests.

/// Fill-rate controller (adaptive module): every control interval T, with n fills in it,
/// r = n / (T / 60 s) fills per minute and target r*:
///   m ← clamp(m · exp(gain · (r − r*) / r*), m_min, m_max)
/// (too many fills widen the spread, too few tighten it; multiplicative, bounded).
class FillRateController {
 public:
  FillRateController(double target_per_min, double gain, double min_mult, double max_mult,
                     TimestampNs interval_ns) noexcept
      : target_(target_per_min), gain_(gain), min_(min_mult), max_(max_mult), interval_(interval_ns) {}
  void on_fill() noexcept { ++fills_; }
  /// Closes every interval ended at or before now (the first call starts the clock).
  void advance(TimestampNs now) noexcept;
  [[nodiscard]] double multiplier() const noexcept { return mult_; }
  [[nodiscard]] double last_rate_per_min() const noexcept { return last_rate_; }
  [[nodiscard]] std::uint64_t updates() const noexcept { return updates_; }

 private:
  double target_, gain_, min_, max_;
  TimestampNs interval_;
  TimestampNs start_ = kNoTimestamp;
  std::uint64_t fills_ = 0, updates_ = 0;
  double mult_ = 1, last_rate_ = 0;
};

/// Inventory decay (adaptive module): with age = time since the position last left 0 (or changed
/// sign), the extra center shift in ticks is
///   shift = −sign(position) × min(max_ticks, ticks_per_min × max(0, age_s − grace_s) / 60)
/// (quotes lean towards reducing a stale position, more the older it is).
[[nodiscard]] double inventory_decay_shift(Qty position, double age_s, double grace_s,
                                           double ticks_per_min, double max_ticks) noexcept;

}  // namespace mmkit::strategy
