#include "mmkit/strategy/modules.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <string>

#include "mmkit/core/decimal.h"
#include "mmkit/core/error.h"
#include "mmkit/exchange/order.h"
#include "mmkit/signals/order_flow.h"
#include "mmkit/signals/toxicity.h"
#include "mmkit/signals/trend.h"
#include "mmkit/signals/volatility.h"
#include "mmkit/signals/vpin.h"

namespace mmkit::strategy {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kAuto = kNaN;  // default resolved in resolve_modules
constexpr TimestampNs kSecNs = 1'000'000'000;

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

TimestampNs secs(double s) { return static_cast<TimestampNs>(std::llround(s * 1e9)); }

double clamp(double x, double lo, double hi) { return std::min(hi, std::max(lo, x)); }

// ---------------------------------------------------------------------------------------------
// Key tables: every module's keys, kinds, defaults and accepted ranges [lo, hi].

enum class Kind : std::uint8_t { kBool, kInt, kNumber };

struct KeyDef {
  std::string_view key;
  Kind kind;
  double def;  // kAuto: resolved from the strategy's settings
  double lo, hi;
};

// The trend module's signal defaults are the signal's own (include/mmkit/signals/trend.h).
const signals::DirectionalSignalConfig kTrendDefaults{};

struct ModuleDef {
  std::string_view name;
  std::vector<KeyDef> keys;  // "enabled" first
};

const std::vector<ModuleDef>& module_defs() {
  static const std::vector<ModuleDef> defs = {
      {"imbalance",
       {{"enabled", Kind::kBool, 0, 0, 1},
        {"levels", Kind::kInt, 5, 1, 1000},
        {"level_decay", Kind::kNumber, 1.0, 1e-9, 1},
        {"half_life_s", Kind::kNumber, 1.0, 0, 1e6},
        {"shift_ticks", Kind::kNumber, 1.0, 0, 1e6},
        {"size_skew", Kind::kNumber, 0.0, 0, 0.99},
        {"max_shift_ticks", Kind::kNumber, 2.0, 0, 1e6}}},
      {"microprice",
       {{"enabled", Kind::kBool, 0, 0, 1},
        {"gain", Kind::kNumber, 1.0, 0, 1e6},
        {"max_shift_ticks", Kind::kNumber, 1.0, 0, 1e6}}},
      {"ofi",
       {{"enabled", Kind::kBool, 0, 0, 1},
        {"window_s", Kind::kNumber, 1.0, 1e-9, 1e6},
        {"shift_ticks", Kind::kNumber, 0.5, 0, 1e6},
        {"size_skew", Kind::kNumber, 0.0, 0, 0.99},
        {"max_shift_ticks", Kind::kNumber, 2.0, 0, 1e6}}},
      {"tfi",
       {{"enabled", Kind::kBool, 0, 0, 1},
        {"window_s", Kind::kNumber, 5.0, 1e-9, 1e6},
        {"shift_ticks", Kind::kNumber, 1.0, 0, 1e6},
        {"size_skew", Kind::kNumber, 0.0, 0, 0.99},
        {"max_shift_ticks", Kind::kNumber, 2.0, 0, 1e6}}},
      {"vpin",
       {{"enabled", Kind::kBool, 0, 0, 1},
        {"bucket_volume", Kind::kNumber, kAuto, 1e-12, kInf},
        {"bar_s", Kind::kNumber, 1.0, 1e-6, 1e6},
        {"buckets", Kind::kInt, 50, 1, 100000},
        {"threshold", Kind::kNumber, 0.3, 0, 0.999},
        {"gain", Kind::kNumber, 1.0, 0, 1e6},
        {"max_mult", Kind::kNumber, 2.0, 1, 1e6}}},
      {"toxicity",
       {{"enabled", Kind::kBool, 0, 0, 1},
        {"horizon_ms", Kind::kNumber, 1000.0, 1e-6, 1e9},
        {"half_life_fills", Kind::kNumber, 20.0, 1e-9, 1e9},
        {"threshold", Kind::kNumber, 0.5, 0, 1},
        {"gain", Kind::kNumber, 2.0, 0, 1e6},
        {"max_mult", Kind::kNumber, 2.0, 1, 1e6}}},
      {"trend",
       {{"enabled", Kind::kBool, 0, 0, 1},
        {"sample_ms", Kind::kNumber, kTrendDefaults.sample_interval_ns / 1e6, 1e-3, 1e9},
        {"slope_z_threshold", Kind::kNumber, kTrendDefaults.slope_z_threshold, 1e-9, 1e6},
        {"q_level", Kind::kNumber, kTrendDefaults.kalman.q_level, 0, 1e12},
        {"q_slope", Kind::kNumber, kTrendDefaults.kalman.q_slope, 0, 1e12},
        {"r", Kind::kNumber, kTrendDefaults.kalman.r, 1e-12, 1e12},
        {"rsi_period", Kind::kInt, static_cast<double>(kTrendDefaults.qqe.rsi_period), 2, 100000},
        {"qqe_smoothing", Kind::kInt, static_cast<double>(kTrendDefaults.qqe.smoothing), 1, 100000},
        {"qqe_factor", Kind::kNumber, kTrendDefaults.qqe.factor, 1e-9, 1e6},
        {"shift_ticks", Kind::kNumber, 1.0, 0, 1e6}}},
      {"adaptive",
       {{"enabled", Kind::kBool, 0, 0, 1},
        {"regime_low_threshold", Kind::kNumber, 0.8, 1e-12, kInf},
        {"regime_high_threshold", Kind::kNumber, 1.25, 1e-12, kInf},
        {"regime_short_half_life_s", Kind::kNumber, 30.0, 1e-6, 1e7},
        {"regime_long_half_life_s", Kind::kNumber, 600.0, 1e-6, 1e7},
        {"regime_min_dwell_s", Kind::kNumber, 30.0, 0, 1e7},
        {"low_spread_mult", Kind::kNumber, 0.8, 1e-6, 1e6},
        {"medium_spread_mult", Kind::kNumber, 1.0, 1e-6, 1e6},
        {"high_spread_mult", Kind::kNumber, 1.5, 1e-6, 1e6},
        {"low_size_mult", Kind::kNumber, 1.0, 0, 1e6},
        {"medium_size_mult", Kind::kNumber, 1.0, 0, 1e6},
        {"high_size_mult", Kind::kNumber, 0.5, 0, 1e6},
        {"decay_grace_s", Kind::kNumber, 30.0, 0, 1e9},
        {"decay_ticks_per_min", Kind::kNumber, 1.0, 0, 1e6},
        {"decay_max_ticks", Kind::kNumber, 3.0, 0, 1e6},
        {"target_fills_per_min", Kind::kNumber, 0.0, 0, 1e9},
        {"control_interval_s", Kind::kNumber, 60.0, 1e-3, 1e9},
        {"control_gain", Kind::kNumber, 0.5, 0, 100},
        {"min_spread_mult", Kind::kNumber, 0.5, 1e-6, 1e6},
        {"max_spread_mult", Kind::kNumber, 3.0, 1e-6, 1e6}}},
      {"funding",
       {{"enabled", Kind::kBool, 0, 0, 1},
        {"rate_scale", Kind::kNumber, 0.0001, 1e-12, 1},
        {"max_size_skew", Kind::kNumber, 0.5, 0, 1},
        {"freeze_before_s", Kind::kNumber, 30.0, 0, 1e7},
        {"freeze_after_s", Kind::kNumber, 0.0, 0, 1e7},
        {"fallback_rate", Kind::kNumber, 0.0, -1, 1},
        {"fallback_interval_h", Kind::kNumber, 0.0, 0, 1e4}}},
      {"sizer",
       {{"enabled", Kind::kBool, 0, 0, 1},
        {"min_qty", Kind::kNumber, kAuto, 0, kInf},
        {"max_qty", Kind::kNumber, kAuto, 0, kInf},
        {"vol_half_life_s", Kind::kNumber, 60.0, 1e-6, 1e7},
        {"vol_ref_half_life_s", Kind::kNumber, 1800.0, 1e-6, 1e7},
        {"vol_min_factor", Kind::kNumber, 0.5, 0, 1},
        {"vol_max_factor", Kind::kNumber, 2.0, 1, 1e6},
        {"fill_target_per_min", Kind::kNumber, 0.0, 0, 1e9},
        {"fill_min_factor", Kind::kNumber, 0.5, 0, 1},
        {"fill_window_s", Kind::kNumber, 300.0, 1e-3, 1e9},
        {"toxicity_weight", Kind::kNumber, 0.5, 0, 1},
        {"drawdown_limit", Kind::kNumber, 0.0, 0, kInf},
        {"drawdown_floor", Kind::kNumber, 0.25, 0, 1},
        {"inventory_weight", Kind::kNumber, 1.0, 0, 1}}},
      {"risk",
       {{"enabled", Kind::kBool, 0, 0, 1},
        {"position_limit", Kind::kNumber, kAuto, 0, kInf},
        {"max_daily_loss", Kind::kNumber, 0.0, 0, kInf},
        {"max_drawdown", Kind::kNumber, 0.0, 0, kInf},
        {"max_errors", Kind::kInt, 0, 0, 1e9},
        {"error_window_s", Kind::kNumber, 60.0, 1e-3, 1e9},
        {"cooldown_s", Kind::kNumber, 300.0, 0, 1e9},
        {"flatten", Kind::kBool, 1, 0, 1},
        {"flatten_max_qty", Kind::kNumber, 0.0, 0, kInf}}},
  };
  return defs;
}

std::string known_modules() {
  std::string s;
  for (std::string_view n : kModuleNames) {
    if (!s.empty()) s += ", ";
    s += n;
  }
  return s;
}

const ModuleDef* find_def(std::string_view name) {
  for (const ModuleDef& d : module_defs()) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

[[noreturn]] void module_error(std::string_view strategy, std::string_view param,
                               const std::string& what) {
  throw Error("strategy '" + std::string(strategy) + "': module param '" + std::string(param) +
              "': " + what);
}

double to_value(const ParamValue& v, const KeyDef& k, std::string_view strategy,
                std::string_view param) {
  double x = kNaN;
  if (k.kind == Kind::kBool) {
    if (const auto* b = std::get_if<bool>(&v)) return *b ? 1.0 : 0.0;
    module_error(strategy, param, "expected a bool");
  }
  if (const auto* d = std::get_if<double>(&v)) {
    x = *d;
  } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
    x = static_cast<double>(*i);
  } else if (const auto* s = std::get_if<std::string>(&v); s && *s == "auto") {
    return kAuto;
  } else {
    module_error(strategy, param,
                 k.kind == Kind::kInt ? "expected an integer" : "expected a number (or \"auto\")");
  }
  if (k.kind == Kind::kInt && (std::floor(x) != x || !std::isfinite(x))) {
    module_error(strategy, param, "expected an integer, got " + num(x));
  }
  if (!(x >= k.lo && x <= k.hi)) {
    module_error(strategy, param,
                 "must be in [" + num(k.lo) + ", " + num(k.hi) + "], got " + num(x));
  }
  return x;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Config

bool ModulesConfig::enabled(std::string_view module) const {
  const auto it = values.find(module);
  if (it == values.end()) return false;
  const auto e = it->second.find("enabled");
  return e != it->second.end() && e->second != 0;
}

bool ModulesConfig::any_enabled() const {
  for (std::string_view n : kModuleNames) {
    if (enabled(n)) return true;
  }
  return false;
}

double ModulesConfig::get(std::string_view module, std::string_view key) const {
  const auto it = values.find(module);
  if (it != values.end()) {
    const auto k = it->second.find(key);
    if (k != it->second.end()) return k->second;
  }
  throw Error("modules: no setting '" + std::string(module) + "." + std::string(key) + "'");
}

bool is_module_param(std::string_view param) noexcept {
  return param.find('.') != std::string_view::npos;
}

ModulesConfig resolve_modules(const Params& params, const InstrumentSpec& spec,
                              const ModuleDefaults& defaults, std::string_view strategy) {
  ModulesConfig c;
  for (const ModuleDef& d : module_defs()) {
    auto& m = c.values[std::string(d.name)];
    for (const KeyDef& k : d.keys) m[std::string(k.key)] = k.def;
  }
  for (const auto& [param, value] : params) {
    if (!is_module_param(param)) continue;
    const std::size_t dot = param.find('.');
    const std::string_view module = std::string_view(param).substr(0, dot);
    const std::string_view key = std::string_view(param).substr(dot + 1);
    const ModuleDef* d = find_def(module);
    if (d == nullptr) {
      module_error(strategy, param,
                   "unknown module '" + std::string(module) + "'; known modules: " + known_modules());
    }
    const KeyDef* kd = nullptr;
    for (const KeyDef& k : d->keys) {
      if (k.key == key) kd = &k;
    }
    if (kd == nullptr) {
      std::string keys;
      for (const KeyDef& k : d->keys) {
        if (!keys.empty()) keys += ", ";
        keys += k.key;
      }
      module_error(strategy, param,
                   "unknown key '" + std::string(key) + "' of module '" + std::string(module) +
                       "'; known keys: " + keys);
    }
    const double x = to_value(value, *kd, strategy, param);
    c.values[std::string(module)][std::string(key)] = std::isnan(x) ? kd->def : x;
    if (std::find(c.given.begin(), c.given.end(), module) == c.given.end()) {
      c.given.emplace_back(module);
    }
  }
  std::sort(c.given.begin(), c.given.end(), [](const std::string& a, const std::string& b) {
    const auto ia = std::find(kModuleNames.begin(), kModuleNames.end(), a);
    const auto ib = std::find(kModuleNames.begin(), kModuleNames.end(), b);
    return ia < ib;
  });

  // "auto" defaults (decimal quantities).
  const double order_qty = spec.qty_to_double(defaults.order_qty);
  const double max_pos = spec.qty_to_double(defaults.max_position);
  const double lot = spec.qty_to_double(std::max<Qty>(spec.lot_size, 1));
  auto& vp = c.values["vpin"];
  // 10 s of the profile's volume rate (so 50 buckets span about 8 minutes of trading), at least
  // one order_qty; 50 × order_qty when the rate is unknown.
  if (std::isnan(vp["bucket_volume"])) {
    vp["bucket_volume"] = defaults.volume_per_s > 0 ? std::max(order_qty, 10.0 * defaults.volume_per_s)
                                                    : 50.0 * order_qty;
  }
  auto& sz = c.values["sizer"];
  if (std::isnan(sz["min_qty"])) sz["min_qty"] = lot;
  if (std::isnan(sz["max_qty"])) sz["max_qty"] = 4.0 * order_qty;
  if (sz["max_qty"] < sz["min_qty"]) {
    module_error(strategy, "sizer.max_qty", "must be >= sizer.min_qty (" + num(sz["min_qty"]) + ")");
  }
  for (const char* key : {"min_qty", "max_qty"}) {
    const double raw = sz[key] * static_cast<double>(pow10(spec.qty_decimals));
    const double lots = raw / static_cast<double>(std::max<Qty>(spec.lot_size, 1));
    if (std::fabs(lots - std::round(lots)) > 1e-6 * std::max(1.0, lots)) {
      module_error(strategy, std::string("sizer.") + key,
                   "quantity " + num(sz[key]) + " is not a multiple of the lot " + num(lot));
    }
  }
  auto& rk = c.values["risk"];
  if (std::isnan(rk["position_limit"])) {
    const Qty lotr = std::max<Qty>(spec.lot_size, 1);
    const Qty lim = (defaults.max_position * 4 / 5) / lotr * lotr;
    rk["position_limit"] = lim > 0 ? spec.qty_to_double(lim) : max_pos;
  }
  const auto& ad = c.values["adaptive"];
  if (!(ad.at("regime_low_threshold") < ad.at("regime_high_threshold"))) {
    module_error(strategy, "adaptive.regime_low_threshold", "must be < regime_high_threshold");
  }
  if (!(ad.at("regime_short_half_life_s") < ad.at("regime_long_half_life_s"))) {
    module_error(strategy, "adaptive.regime_short_half_life_s", "must be < regime_long_half_life_s");
  }
  if (!(ad.at("min_spread_mult") <= 1 && ad.at("max_spread_mult") >= 1)) {
    module_error(strategy, "adaptive.min_spread_mult", "need min_spread_mult <= 1 <= max_spread_mult");
  }
  if (!(sz["vol_half_life_s"] < sz["vol_ref_half_life_s"])) {
    module_error(strategy, "sizer.vol_half_life_s", "must be < vol_ref_half_life_s");
  }
  return c;
}

void append_module_params(const ModulesConfig& c, Params& out) {
  for (const std::string& name : c.given) {
    const ModuleDef* d = find_def(name);
    const auto& vals = c.values.at(name);
    const bool on = vals.at("enabled") != 0;
    for (const KeyDef& k : d->keys) {
      const std::string key = name + "." + std::string(k.key);
      const double v = vals.at(std::string(k.key));
      if (k.kind == Kind::kBool) {
        out[key] = v != 0;
      } else if (k.kind == Kind::kInt) {
        out[key] = static_cast<std::int64_t>(v);
      } else {
        out[key] = v;
      }
      if (!on) break;
    }
  }
}

const char* to_string(RiskState s) noexcept {
  switch (s) {
    case RiskState::kSafe: return "SAFE";
    case RiskState::kPositionLimit: return "POSITION_LIMIT";
    case RiskState::kCircuitBreak: return "CIRCUIT_BREAK";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Closed-form pieces

void FillRateController::advance(TimestampNs now) noexcept {
  if (start_ == kNoTimestamp) {
    start_ = now;
    fills_ = 0;
    return;
  }
  while (interval_ > 0 && now - start_ >= interval_) {
    last_rate_ = static_cast<double>(fills_) / (static_cast<double>(interval_) / 60e9);
    if (target_ > 0) {
      mult_ = clamp(mult_ * std::exp(gain_ * (last_rate_ - target_) / target_), min_, max_);
    }
    fills_ = 0;
    start_ += interval_;
    ++updates_;
  }
}

double inventory_decay_shift(Qty position, double age_s, double grace_s, double ticks_per_min,
                             double max_ticks) noexcept {
  if (position == 0) return 0;
  const double mag = std::min(max_ticks, ticks_per_min * std::max(0.0, age_s - grace_s) / 60.0);
  return position > 0 ? -mag : mag;
}

// ---------------------------------------------------------------------------------------------
// Modules

namespace {

using Cfg = std::map<std::string, double, std::less<>>;

// Signal s (in [−1, 1] or any real) → center shift clamp(gain·s, ±max) and size skew
// bid ×(1 + k·clamp(s, −1, 1)), ask ×(1 − k·clamp(s, −1, 1)).
void apply_directional(double s, double shift_ticks, double max_shift, double size_skew,
                       QuoteAdjust& a) {
  if (!std::isfinite(s)) return;
  a.center_shift_ticks += clamp(shift_ticks * s, -max_shift, max_shift);
  if (size_skew > 0) {
    const double u = clamp(s, -1.0, 1.0);
    a.bid_size_mult *= 1.0 + size_skew * u;
    a.ask_size_mult *= 1.0 - size_skew * u;
  }
}

class ImbalanceModule final : public QuoteModule {
 public:
  explicit ImbalanceModule(const Cfg& c)
      : signal_(signals::BookImbalanceConfig{true, static_cast<std::size_t>(c.at("levels")),
                                             c.at("level_decay"), secs(c.at("half_life_s"))}),
        shift_(c.at("shift_ticks")),
        max_shift_(c.at("max_shift_ticks")),
        skew_(c.at("size_skew")),
        levels_(static_cast<std::size_t>(c.at("levels"))) {}
  std::string_view name() const noexcept override { return "imbalance"; }
  void on_book(Context& ctx, double) override {
    const BookView& b = ctx.book();
    bids_.clear();
    asks_.clear();
    const std::size_t nb = std::min(levels_, b.depth(Side::kBid));
    const std::size_t na = std::min(levels_, b.depth(Side::kAsk));
    for (std::size_t i = 0; i < nb; ++i) bids_.push_back(static_cast<double>(b.level(Side::kBid, i).qty));
    for (std::size_t i = 0; i < na; ++i) asks_.push_back(static_cast<double>(b.level(Side::kAsk, i).qty));
    if (nb == 0 && na == 0) return;
    signal_.update(ctx.now(), bids_, asks_);
  }
  void adjust(Context& ctx, const QuoteInputs&, QuoteAdjust& a) override {
    if (!signal_.ready()) return;
    last_ = signal_.value_at(ctx.now());
    apply_directional(last_, shift_, max_shift_, skew_, a);
  }
  void summary(Params& out) const override { out["imbalance.last"] = last_; }

 private:
  signals::BookImbalance signal_;
  double shift_, max_shift_, skew_;
  std::size_t levels_;
  std::vector<double> bids_, asks_;
  double last_ = 0;
};

class MicropriceModule final : public QuoteModule {
 public:
  explicit MicropriceModule(const Cfg& c) : gain_(c.at("gain")), max_shift_(c.at("max_shift_ticks")) {}
  std::string_view name() const noexcept override { return "microprice"; }
  void adjust(Context& ctx, const QuoteInputs& in, QuoteAdjust& a) override {
    const BookView& b = ctx.book();
    const book::Level bb = b.best(Side::kBid), ba = b.best(Side::kAsk);
    if (bb.price == kNoPrice || ba.price == kNoPrice) return;
    const double mp = signals::microprice(static_cast<double>(bb.price), static_cast<double>(bb.qty),
                                          static_cast<double>(ba.price), static_cast<double>(ba.qty));
    const double mid = 0.5 * (static_cast<double>(bb.price) + static_cast<double>(ba.price));
    last_ = (mp - mid) / in.tick;
    a.center_shift_ticks += clamp(gain_ * last_, -max_shift_, max_shift_);
  }
  void summary(Params& out) const override { out["microprice.last_offset_ticks"] = last_; }

 private:
  double gain_, max_shift_;
  double last_ = 0;
};

class OfiModule final : public QuoteModule {
 public:
  explicit OfiModule(const Cfg& c)
      : signal_(signals::OrderFlowImbalanceConfig{true, secs(c.at("window_s"))}),
        shift_(c.at("shift_ticks")),
        max_shift_(c.at("max_shift_ticks")),
        skew_(c.at("size_skew")) {}
  std::string_view name() const noexcept override { return "ofi"; }
  void on_book(Context& ctx, double) override {
    const BookView& b = ctx.book();
    const book::Level bb = b.best(Side::kBid), ba = b.best(Side::kAsk);
    if (bb.price == prev_bid_.price && bb.qty == prev_bid_.qty && ba.price == prev_ask_.price &&
        ba.qty == prev_ask_.qty) {
      return;
    }
    prev_bid_ = bb;
    prev_ask_ = ba;
    signal_.update(ctx.now(), bb.price, bb.qty, ba.price, ba.qty);
  }
  void adjust(Context& ctx, const QuoteInputs&, QuoteAdjust& a) override {
    signal_.advance(ctx.now());
    if (!signal_.ready()) return;
    last_ = signal_.value();
    apply_directional(last_, shift_, max_shift_, skew_, a);
  }
  void summary(Params& out) const override { out["ofi.last"] = last_; }

 private:
  signals::OrderFlowImbalance signal_;
  double shift_, max_shift_, skew_;
  book::Level prev_bid_{}, prev_ask_{};
  double last_ = 0;
};

class TfiModule final : public QuoteModule {
 public:
  explicit TfiModule(const Cfg& c)
      : signal_(signals::TradeFlowImbalanceConfig{true, secs(c.at("window_s"))}),
        shift_(c.at("shift_ticks")),
        max_shift_(c.at("max_shift_ticks")),
        skew_(c.at("size_skew")) {}
  std::string_view name() const noexcept override { return "tfi"; }
  void on_trade(Context&, const TradeView& t, double) override {
    signal_.update(t.local_ts_ns, t.side, static_cast<double>(t.qty));
  }
  void adjust(Context& ctx, const QuoteInputs&, QuoteAdjust& a) override {
    signal_.advance(ctx.now());
    if (signal_.count() == 0) return;
    last_ = signal_.value();
    apply_directional(last_, shift_, max_shift_, skew_, a);
  }
  void summary(Params& out) const override { out["tfi.last"] = last_; }

 private:
  signals::TradeFlowImbalance signal_;
  double shift_, max_shift_, skew_;
  double last_ = 0;
};

// spread_mult = min(max_mult, 1 + gain · max(0, x − threshold) / (1 − threshold))
double widen(double x, double threshold, double gain, double max_mult) {
  if (!std::isfinite(x)) return 1.0;
  return std::min(max_mult, 1.0 + gain * std::max(0.0, x - threshold) / (1.0 - threshold));
}

class VpinModule final : public QuoteModule {
 public:
  VpinModule(const Cfg& c, const InstrumentSpec& spec, ModuleSignals& sig)
      : signal_(make_config(c)),
        spec_(spec),
        threshold_(c.at("threshold")),
        gain_(c.at("gain")),
        max_mult_(c.at("max_mult")),
        sig_(sig) {}
  std::string_view name() const noexcept override { return "vpin"; }
  void on_trade(Context&, const TradeView& t, double) override {
    signal_.update(t.local_ts_ns, spec_.price_to_double(t.price), spec_.qty_to_double(t.qty));
  }
  void adjust(Context& ctx, const QuoteInputs&, QuoteAdjust& a) override {
    signal_.advance(ctx.now());
    if (!signal_.ready()) return;
    sig_.vpin = signal_.value();
    mult_ = widen(sig_.vpin, threshold_, gain_, max_mult_);
    a.spread_mult *= mult_;
    max_seen_ = std::max(max_seen_, mult_);
  }
  void summary(Params& out) const override {
    out["vpin.last"] = signal_.value();
    out["vpin.buckets"] = static_cast<std::int64_t>(signal_.buckets_completed());
    out["vpin.max_spread_mult"] = max_seen_;
  }

 private:
  static signals::VpinConfig make_config(const Cfg& c) {
    signals::VpinConfig v;
    v.bar_ns = secs(c.at("bar_s"));
    v.bucket_volume = c.at("bucket_volume");
    v.buckets = static_cast<std::size_t>(c.at("buckets"));
    return v;
  }
  signals::Vpin signal_;
  InstrumentSpec spec_;
  double threshold_, gain_, max_mult_;
  ModuleSignals& sig_;
  double mult_ = 1, max_seen_ = 1;
};

class ToxicityModule final : public QuoteModule {
 public:
  ToxicityModule(const Cfg& c, ModuleSignals& sig)
      : signal_(signals::ToxicityConfig{true, secs(c.at("horizon_ms") * 1e-3), c.at("half_life_fills"), 0}),
        threshold_(c.at("threshold")),
        gain_(c.at("gain")),
        max_mult_(c.at("max_mult")),
        sig_(sig) {}
  std::string_view name() const noexcept override { return "toxicity"; }
  void on_book(Context& ctx, double mid_raw) override {
    if (std::isfinite(mid_raw)) signal_.on_mid(ctx.now(), mid_raw);
  }
  void on_fill(Context& ctx, const Fill& f, double) override {
    // Spread at the fill from the exchange's quotes just before it; one tick when unknown.
    const double spread = f.bid_at_fill != kNoPrice && f.ask_at_fill != kNoPrice
                              ? static_cast<double>(f.ask_at_fill - f.bid_at_fill)
                              : static_cast<double>(std::max<Price>(ctx.instrument().tick_size, 1));
    signal_.on_fill(ctx.now(), f.side, static_cast<double>(f.price),
                    std::max(spread, static_cast<double>(std::max<Price>(ctx.instrument().tick_size, 1))));
  }
  void adjust(Context&, const QuoteInputs&, QuoteAdjust& a) override {
    if (!signal_.ready()) return;
    sig_.toxicity = signal_.value();
    const double m = widen(sig_.toxicity, threshold_, gain_, max_mult_);
    a.spread_mult *= m;
    max_seen_ = std::max(max_seen_, m);
  }
  void summary(Params& out) const override {
    out["toxicity.score"] = signal_.value();
    out["toxicity.resolved_fills"] = static_cast<std::int64_t>(signal_.resolved());
    out["toxicity.max_spread_mult"] = max_seen_;
  }

 private:
  signals::ToxicityTracker signal_;
  double threshold_, gain_, max_mult_;
  ModuleSignals& sig_;
  double max_seen_ = 1;
};

// Trend: center shift = bias × shift_ticks, bias ∈ {−1, 0, 1} from signals::DirectionalSignal.
class TrendModule final : public QuoteModule {
 public:
  explicit TrendModule(const Cfg& c) : signal_(make_config(c)), shift_(c.at("shift_ticks")) {}
  std::string_view name() const noexcept override { return "trend"; }
  void on_book(Context& ctx, double mid_raw) override {
    if (std::isfinite(mid_raw) && mid_raw > 0) signal_.update(ctx.now(), mid_raw);
  }
  void adjust(Context& ctx, const QuoteInputs&, QuoteAdjust& a) override {
    const int b = signal_.advance(ctx.now());
    a.center_shift_ticks += shift_ * b;
    if (b != last_) {
      ++changes_;
      last_ = b;
    }
    ++requotes_by_bias_[b + 1];
  }
  void summary(Params& out) const override {
    out["trend.bias"] = static_cast<std::int64_t>(signal_.bias());
    out["trend.bias_changes"] = static_cast<std::int64_t>(changes_);
    out["trend.requotes_down"] = static_cast<std::int64_t>(requotes_by_bias_[0]);
    out["trend.requotes_flat"] = static_cast<std::int64_t>(requotes_by_bias_[1]);
    out["trend.requotes_up"] = static_cast<std::int64_t>(requotes_by_bias_[2]);
  }

 private:
  static signals::DirectionalSignalConfig make_config(const Cfg& c) {
    signals::DirectionalSignalConfig d;
    d.sample_interval_ns = secs(c.at("sample_ms") * 1e-3);
    d.slope_z_threshold = c.at("slope_z_threshold");
    d.kalman.q_level = c.at("q_level");
    d.kalman.q_slope = c.at("q_slope");
    d.kalman.r = c.at("r");
    d.qqe.rsi_period = static_cast<std::size_t>(c.at("rsi_period"));
    d.qqe.smoothing = static_cast<std::size_t>(c.at("qqe_smoothing"));
    d.qqe.factor = c.at("qqe_factor");
    return d;
  }
  signals::DirectionalSignal signal_;
  double shift_;
  int last_ = 0;
  std::uint64_t changes_ = 0;
  std::uint64_t requotes_by_bias_[3] = {0, 0, 0};
};

class AdaptiveModule final : public QuoteModule {
 public:
  explicit AdaptiveModule(const Cfg& c)
      : regime_(make_regime(c)),
        controller_(c.at("target_fills_per_min"), c.at("control_gain"), c.at("min_spread_mult"),
                    c.at("max_spread_mult"), secs(c.at("control_interval_s"))),
        spread_{c.at("low_spread_mult"), c.at("medium_spread_mult"), c.at("high_spread_mult")},
        size_{c.at("low_size_mult"), c.at("medium_size_mult"), c.at("high_size_mult")},
        grace_s_(c.at("decay_grace_s")),
        decay_rate_(c.at("decay_ticks_per_min")),
        decay_max_(c.at("decay_max_ticks")) {}
  std::string_view name() const noexcept override { return "adaptive"; }
  void on_book(Context& ctx, double mid_raw) override {
    if (std::isfinite(mid_raw)) regime_.update(ctx.now(), mid_raw);
    track_position(ctx);
  }
  void on_fill(Context& ctx, const Fill&, double) override {
    controller_.on_fill();
    track_position(ctx);
  }
  void on_timer(Context& ctx, double) override { controller_.advance(ctx.now()); }
  void adjust(Context& ctx, const QuoteInputs& in, QuoteAdjust& a) override {
    controller_.advance(ctx.now());
    track_position(ctx);
    const auto r = static_cast<std::size_t>(regime_.regime());
    a.spread_mult *= spread_[r] * controller_.multiplier();
    a.bid_size_mult *= size_[r];
    a.ask_size_mult *= size_[r];
    const double age_s =
        position_since_ == kNoTimestamp ? 0.0 : static_cast<double>(ctx.now() - position_since_) * 1e-9;
    const double shift = inventory_decay_shift(in.position, age_s, grace_s_, decay_rate_, decay_max_);
    a.center_shift_ticks += shift;
    max_decay_ = std::max(max_decay_, std::fabs(shift));
  }
  void summary(Params& out) const override {
    out["adaptive.regime"] = std::string(signals::to_string(regime_.regime()));
    out["adaptive.regime_changes"] = static_cast<std::int64_t>(regime_.changes());
    out["adaptive.fill_rate_mult"] = controller_.multiplier();
    out["adaptive.fill_rate_per_min"] = controller_.last_rate_per_min();
    out["adaptive.max_decay_ticks"] = max_decay_;
  }

 private:
  static signals::VolRegimeConfig make_regime(const Cfg& c) {
    signals::VolRegimeConfig v;
    v.low_threshold = c.at("regime_low_threshold");
    v.high_threshold = c.at("regime_high_threshold");
    v.short_half_life_ns = secs(c.at("regime_short_half_life_s"));
    v.long_half_life_ns = secs(c.at("regime_long_half_life_s"));
    v.min_dwell_ns = secs(c.at("regime_min_dwell_s"));
    return v;
  }
  // The position's age starts when it leaves 0 or changes sign.
  void track_position(Context& ctx) {
    const Qty p = ctx.position();
    const int sign = (p > 0) - (p < 0);
    if (sign != last_sign_) {
      position_since_ = sign == 0 ? kNoTimestamp : ctx.now();
      last_sign_ = sign;
    }
  }
  signals::VolRegimeClassifier regime_;
  FillRateController controller_;
  double spread_[3], size_[3];
  double grace_s_, decay_rate_, decay_max_;
  int last_sign_ = 0;
  TimestampNs position_since_ = kNoTimestamp;
  double max_decay_ = 0;
};

// Funding: s = clamp(rate / rate_scale, −1, 1); bid ×(1 − k s), ask ×(1 + k s) with k =
// max_size_skew; freeze for t ∈ [next − freeze_before, next + freeze_after).
class FundingModule final : public QuoteModule {
 public:
  explicit FundingModule(const Cfg& c)
      : scale_(c.at("rate_scale")),
        skew_(c.at("max_size_skew")),
        before_(secs(c.at("freeze_before_s"))),
        after_(secs(c.at("freeze_after_s"))),
        fallback_rate_(c.at("fallback_rate")),
        fallback_interval_(secs(c.at("fallback_interval_h") * 3600.0)) {}
  std::string_view name() const noexcept override { return "funding"; }
  FundingInfo current(Context& ctx) const {
    FundingInfo f = ctx.funding();
    if (!f.available && fallback_interval_ > 0) {
      // Constant rate, settlements at multiples of the interval since the epoch (UTC 00/08/16 h
      // for 8 h, as Binance USD-M).
      f.available = true;
      f.rate = fallback_rate_;
      f.interval_ns = fallback_interval_;
      f.next_funding_ts = (ctx.now() / fallback_interval_ + 1) * fallback_interval_;
    }
    return f;
  }
  void on_timer(Context& ctx, double) override { observe(ctx); }
  void adjust(Context& ctx, const QuoteInputs&, QuoteAdjust& a) override {
    const FundingInfo f = observe(ctx);
    if (!f.available) return;
    const double s = clamp(f.rate / scale_, -1.0, 1.0);
    a.bid_size_mult *= 1.0 - skew_ * s;
    a.ask_size_mult *= 1.0 + skew_ * s;
    if (frozen(ctx.now(), f)) {
      a.freeze = true;
      ++freeze_requotes_;
    }
  }
  [[nodiscard]] bool frozen(TimestampNs now, const FundingInfo& f) const {
    if (f.next_funding_ts == kNoTimestamp) return false;
    if (now >= f.next_funding_ts - before_ && now < f.next_funding_ts) return true;
    // After a settlement: the previous one is next − interval.
    const TimestampNs prev = f.interval_ns > 0 ? f.next_funding_ts - f.interval_ns : kNoTimestamp;
    return after_ > 0 && prev != kNoTimestamp && now >= prev && now < prev + after_;
  }
  void summary(Params& out) const override {
    out["funding.available"] = available_;
    out["funding.rate"] = rate_;
    out["funding.apr"] = apr_;
    out["funding.seconds_to_next"] = to_next_s_;
    out["funding.settlements_seen"] = static_cast<std::int64_t>(settlements_);
    out["funding.freeze_requotes"] = static_cast<std::int64_t>(freeze_requotes_);
  }

 private:
  FundingInfo observe(Context& ctx) {
    const FundingInfo f = current(ctx);
    if (!f.available) return f;
    available_ = true;
    rate_ = f.rate;
    // APR = rate × settlements per year (365-day year of a 24/7 market).
    apr_ = f.interval_ns > 0 ? f.rate * (365.0 * 86400e9 / static_cast<double>(f.interval_ns)) : 0;
    to_next_s_ = f.next_funding_ts == kNoTimestamp
                     ? kNaN
                     : static_cast<double>(f.next_funding_ts - ctx.now()) * 1e-9;
    if (last_next_ != kNoTimestamp && f.next_funding_ts != last_next_) ++settlements_;
    last_next_ = f.next_funding_ts;
    return f;
  }
  double scale_, skew_;
  TimestampNs before_, after_;
  double fallback_rate_;
  TimestampNs fallback_interval_;
  bool available_ = false;  // funding seen at least once
  double rate_ = 0, apr_ = 0, to_next_s_ = kNaN;
  TimestampNs last_next_ = kNoTimestamp;
  std::uint64_t settlements_ = 0, freeze_requotes_ = 0;
};

// Sizer: size = clamp(order_qty · f_vol · f_fill · f_tox · f_dd, min_qty, max_qty), lot-rounded
// down, with per-side inventory factor on the side that increases |position|.
class SizerModule final : public QuoteModule {
 public:
  SizerModule(const Cfg& c, const InstrumentSpec& spec, const ModuleSignals& sig)
      : spec_(spec),
        sig_(sig),
        vol_(make_vol(c.at("vol_half_life_s"))),
        vol_ref_(make_vol(c.at("vol_ref_half_life_s"))),
        vol_min_(c.at("vol_min_factor")),
        vol_max_(c.at("vol_max_factor")),
        fill_target_(c.at("fill_target_per_min")),
        fill_min_(c.at("fill_min_factor")),
        fill_window_s_(c.at("fill_window_s")),
        tox_w_(c.at("toxicity_weight")),
        dd_limit_(c.at("drawdown_limit")),
        dd_floor_(c.at("drawdown_floor")),
        inv_w_(c.at("inventory_weight")) {
    const double scale = static_cast<double>(pow10(spec.qty_decimals));
    min_qty_ = static_cast<Qty>(std::llround(c.at("min_qty") * scale));
    max_qty_ = static_cast<Qty>(std::llround(c.at("max_qty") * scale));
  }
  std::string_view name() const noexcept override { return "sizer"; }
  void on_book(Context& ctx, double mid_raw) override {
    if (!std::isfinite(mid_raw)) return;
    vol_.update(ctx.now(), mid_raw);
    vol_ref_.update(ctx.now(), mid_raw);
  }
  void on_fill(Context& ctx, const Fill&, double) override {
    fill_times_.push_back(ctx.now());
  }
  void adjust(Context& ctx, const QuoteInputs& in, QuoteAdjust& a) override {
    double size = static_cast<double>(in.order_qty);
    // Volatility: f_vol = clamp(σ_ref / σ, vol_min, vol_max) (σ: short EWMA, σ_ref: long EWMA).
    f_vol_ = 1;
    if (vol_.ready() && vol_ref_.ready() && vol_.value() > 0) {
      f_vol_ = clamp(vol_ref_.value() / vol_.value(), vol_min_, vol_max_);
    }
    // Fill rate over the last fill_window_s: f_fill = clamp(target / rate, fill_min, 1).
    f_fill_ = 1;
    if (fill_target_ > 0) {
      const TimestampNs cutoff = ctx.now() - secs(fill_window_s_);
      while (!fill_times_.empty() && fill_times_.front() <= cutoff) fill_times_.pop_front();
      const double rate = static_cast<double>(fill_times_.size()) / (fill_window_s_ / 60.0);
      if (rate > fill_target_) f_fill_ = clamp(fill_target_ / rate, fill_min_, 1.0);
    }
    // Toxicity (from the toxicity module when enabled): f_tox = 1 − w · score.
    f_tox_ = std::isfinite(sig_.toxicity) ? 1.0 - tox_w_ * sig_.toxicity : 1.0;
    // Drawdown from the PnL peak: f_dd = max(floor, 1 − dd / limit).
    peak_ = std::max(peak_, in.pnl);
    f_dd_ = 1;
    if (dd_limit_ > 0) f_dd_ = std::max(dd_floor_, 1.0 - (peak_ - in.pnl) / dd_limit_);
    size *= f_vol_ * f_fill_ * f_tox_ * f_dd_;
    const Qty lot = std::max<Qty>(spec_.lot_size, 1);
    Qty q = static_cast<Qty>(std::floor(size / static_cast<double>(lot) + 1e-9)) * lot;
    q = std::clamp(q, min_qty_, std::max(min_qty_, max_qty_));
    if (q <= 0) q = lot;
    a.order_qty = q;
    last_qty_ = q;
    // Inventory: the side that adds to |position| × (1 − w · |position| / max_position).
    if (in.max_position > 0 && in.position != 0 && inv_w_ > 0) {
      const double u = std::min(1.0, std::fabs(static_cast<double>(in.position)) /
                                         static_cast<double>(in.max_position));
      (in.position > 0 ? a.bid_size_mult : a.ask_size_mult) *= 1.0 - inv_w_ * u;
    }
  }
  void summary(Params& out) const override {
    out["sizer.last_qty"] = spec_.qty_to_double(last_qty_);
    out["sizer.last_vol_factor"] = f_vol_;
    out["sizer.last_fill_factor"] = f_fill_;
    out["sizer.last_toxicity_factor"] = f_tox_;
    out["sizer.last_drawdown_factor"] = f_dd_;
  }

 private:
  static signals::EwmaVolatility make_vol(double half_life_s) {
    signals::EwmaVolatilityConfig v;
    v.sample_interval_ns = kSecNs;
    v.half_life_ns = secs(half_life_s);
    v.min_samples = 10;
    return signals::EwmaVolatility(v);
  }
  InstrumentSpec spec_;
  const ModuleSignals& sig_;
  signals::EwmaVolatility vol_, vol_ref_;
  double vol_min_, vol_max_, fill_target_, fill_min_;
  double fill_window_s_;
  double tox_w_, dd_limit_, dd_floor_, inv_w_;
  Qty min_qty_ = 0, max_qty_ = 0, last_qty_ = 0;
  std::deque<TimestampNs> fill_times_;
  double peak_ = -kInf;
  double f_vol_ = 1, f_fill_ = 1, f_tox_ = 1, f_dd_ = 1;
};

// Risk manager. Each requote:
//   CIRCUIT_BREAK if daily loss >= max_daily_loss, drawdown >= max_drawdown, or errors in the last
//     error_window_s >= max_errors (each check off when its limit is 0): kill (cancel all and
//     flatten), no quotes until now >= break + cooldown_s; then the peak PnL and the error count
//     are reset and the state is re-evaluated (a daily loss still over the limit breaks again);
//   else POSITION_LIMIT if |position| >= position_limit: only the side that reduces |position|;
//   else SAFE.
class RiskModule final : public QuoteModule {
 public:
  RiskModule(const Cfg& c, const InstrumentSpec& spec)
      : limit_(static_cast<Qty>(std::llround(c.at("position_limit") * static_cast<double>(pow10(spec.qty_decimals))))),
        max_daily_loss_(c.at("max_daily_loss")),
        max_dd_(c.at("max_drawdown")),
        max_errors_(static_cast<std::uint64_t>(c.at("max_errors"))),
        error_window_(secs(c.at("error_window_s"))),
        cooldown_(secs(c.at("cooldown_s"))),
        flatten_(c.at("flatten") != 0),
        flatten_max_qty_(static_cast<Qty>(std::llround(c.at("flatten_max_qty") * static_cast<double>(pow10(spec.qty_decimals))))) {}
  std::string_view name() const noexcept override { return "risk"; }
  void on_order_update(Context&, const OrderUpdate& u) override {
    using exchange::RejectReason;
    if (u.kind != exchange::OrderEventKind::kRejected) return;
    // Routine races and post-only crossings are not errors.
    if (u.reason == RejectReason::kPostOnlyWouldCross || u.reason == RejectReason::kTooLateToCancel ||
        u.reason == RejectReason::kUnknownOrder) {
      return;
    }
    errors_.push_back(u.local_ts_ns);
    ++errors_total_;
  }
  void adjust(Context& ctx, const QuoteInputs& in, QuoteAdjust& a) override {
    const TimestampNs now = ctx.now();
    const std::int64_t day = now / (86400 * kSecNs);
    if (day != day_) {
      day_ = day;
      day_start_pnl_ = in.pnl;
    }
    peak_ = std::max(peak_, in.pnl);
    while (!errors_.empty() && errors_.front() <= now - error_window_) errors_.pop_front();

    if (state_ == RiskState::kCircuitBreak) {
      if (now < break_until_) {
        a.kill = flatten_;
        a.flatten_max_qty = flatten_max_qty_;
        a.freeze = true;
        return;
      }
      peak_ = in.pnl;
      errors_.clear();
    }
    RiskState next = RiskState::kSafe;
    const double daily_loss = day_start_pnl_ - in.pnl;
    const double dd = peak_ - in.pnl;
    if ((max_daily_loss_ > 0 && daily_loss >= max_daily_loss_) || (max_dd_ > 0 && dd >= max_dd_) ||
        (max_errors_ > 0 && errors_.size() >= max_errors_)) {
      next = RiskState::kCircuitBreak;
    } else if (limit_ > 0 && (in.position >= limit_ || -in.position >= limit_)) {
      next = RiskState::kPositionLimit;
    }
    transition(next);
    if (next == RiskState::kCircuitBreak) {
      break_until_ = now + cooldown_;
      ++breaks_;
      a.kill = flatten_;
      a.flatten_max_qty = flatten_max_qty_;
      a.freeze = true;
    } else if (next == RiskState::kPositionLimit) {
      if (in.position > 0) a.quote_bid = false;
      if (in.position < 0) a.quote_ask = false;
    }
  }
  [[nodiscard]] RiskState state() const noexcept { return state_; }
  void summary(Params& out) const override {
    out["risk.state"] = std::string(to_string(state_));
    out["risk.to_safe"] = static_cast<std::int64_t>(to_[0]);
    out["risk.to_position_limit"] = static_cast<std::int64_t>(to_[1]);
    out["risk.to_circuit_break"] = static_cast<std::int64_t>(to_[2]);
    out["risk.circuit_breaks"] = static_cast<std::int64_t>(breaks_);
    out["risk.errors"] = static_cast<std::int64_t>(errors_total_);
  }

 private:
  void transition(RiskState next) {
    if (next == state_) return;
    ++to_[static_cast<int>(next)];
    state_ = next;
  }
  Qty limit_;
  double max_daily_loss_, max_dd_;
  std::uint64_t max_errors_;
  TimestampNs error_window_, cooldown_;
  bool flatten_;
  Qty flatten_max_qty_;  // raw; 0 = whole position
  RiskState state_ = RiskState::kSafe;
  std::int64_t day_ = std::numeric_limits<std::int64_t>::min();
  double day_start_pnl_ = 0, peak_ = -kInf;
  TimestampNs break_until_ = kNoTimestamp;
  std::deque<TimestampNs> errors_;
  std::uint64_t errors_total_ = 0, breaks_ = 0;
  std::uint64_t to_[3] = {0, 0, 0};
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Pipeline

ModulePipeline::ModulePipeline(const ModulesConfig& config, const InstrumentSpec& spec) {
  for (std::string_view name : kModuleNames) {
    if (!config.enabled(name)) continue;
    const Cfg& c = config.values.find(name)->second;
    ModuleSignals& sig = *signals_;
    std::unique_ptr<QuoteModule> m;
    if (name == "imbalance") m = std::make_unique<ImbalanceModule>(c);
    else if (name == "microprice") m = std::make_unique<MicropriceModule>(c);
    else if (name == "ofi") m = std::make_unique<OfiModule>(c);
    else if (name == "tfi") m = std::make_unique<TfiModule>(c);
    else if (name == "vpin") m = std::make_unique<VpinModule>(c, spec, sig);
    else if (name == "toxicity") m = std::make_unique<ToxicityModule>(c, sig);
    else if (name == "trend") m = std::make_unique<TrendModule>(c);
    else if (name == "adaptive") m = std::make_unique<AdaptiveModule>(c);
    else if (name == "funding") m = std::make_unique<FundingModule>(c);
    else if (name == "sizer") m = std::make_unique<SizerModule>(c, spec, sig);
    else if (name == "risk") m = std::make_unique<RiskModule>(c, spec);
    if (m) modules_.push_back(std::move(m));
  }
}

ModulePipeline::ModulePipeline(ModulePipeline&&) noexcept = default;
ModulePipeline& ModulePipeline::operator=(ModulePipeline&&) noexcept = default;
ModulePipeline::~ModulePipeline() = default;

void ModulePipeline::on_book(Context& ctx, double mid_raw) {
  for (auto& m : modules_) m->on_book(ctx, mid_raw);
}
void ModulePipeline::on_trade(Context& ctx, const TradeView& t, double mid_raw) {
  for (auto& m : modules_) m->on_trade(ctx, t, mid_raw);
}
void ModulePipeline::on_fill(Context& ctx, const Fill& f, double mid_raw) {
  for (auto& m : modules_) m->on_fill(ctx, f, mid_raw);
}
void ModulePipeline::on_order_update(Context& ctx, const OrderUpdate& u) {
  for (auto& m : modules_) m->on_order_update(ctx, u);
}
void ModulePipeline::on_timer(Context& ctx, double mid_raw) {
  for (auto& m : modules_) m->on_timer(ctx, mid_raw);
}

QuoteAdjust ModulePipeline::adjust(Context& ctx, const QuoteInputs& in) {
  QuoteAdjust a;
  for (auto& m : modules_) m->adjust(ctx, in, a);
  return a;
}

Params ModulePipeline::summary() const {
  Params p;
  for (const auto& m : modules_) m->summary(p);
  return p;
}

QuoteModule* ModulePipeline::find(std::string_view name) const noexcept {
  for (const auto& m : modules_) {
    if (m->name() == name) return m.get();
  }
  return nullptr;
}

RiskState ModulePipeline::risk_state() const noexcept {
  const auto* r = dynamic_cast<const RiskModule*>(find("risk"));
  return r ? r->state() : RiskState::kSafe;
}

}  // namespace mmkit::strategy
