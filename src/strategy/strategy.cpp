#include "mmkit/strategy/strategy.h"

#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mmkit/core/error.h"
#include "mmkit/strategy/avellaneda_stoikov.h"
#include "mmkit/strategy/execution.h"
#include "mmkit/strategy/glft.h"
#include "mmkit/strategy/order_list.h"
#include "mmkit/rl/policy.h"
#include "mmkit/strategy/spread_quoter.h"

namespace mmkit::strategy {

double BookView::mid() const {
  const book::Level b = best(Side::kBid), a = best(Side::kAsk);
  if (b.price == kNoPrice || a.price == kNoPrice) return std::numeric_limits<double>::quiet_NaN();
  return 0.5 * (static_cast<double>(b.price) + static_cast<double>(a.price));
}

namespace {

constexpr const char* kStrategyNames[] = {"avellaneda-stoikov", "glft", "spread-quoter",
                                          "order-list", "rl-policy", "twap", "vwap", "pov", "almgren-chriss",
                                          "adaptive"};

const char* type_name(const ParamValue& v) {
  switch (v.index()) {
    case 0: return "bool";
    case 1: return "integer";
    case 2: return "number";
    default: return "string";
  }
}

// Reads typed parameters by name, remembering every name asked for: the accepted names of a
// strategy are exactly the ones its builder reads, so the unknown-name error lists them all.
class ParamReader {
 public:
  ParamReader(std::string_view strategy, const Params& params)
      : strategy_(strategy), params_(params) {}

  /// int64 or double; the string "auto" (or absence) means "default".
  std::optional<double> number(std::string_view name) {
    const ParamValue* v = find(name);
    if (!v) return std::nullopt;
    if (const auto* d = std::get_if<double>(v)) return *d;
    if (const auto* i = std::get_if<std::int64_t>(v)) return static_cast<double>(*i);
    if (const auto* s = std::get_if<std::string>(v); s && *s == "auto") return std::nullopt;
    wrong_type(name, *v, "a number (or \"auto\")");
  }
  std::optional<std::int64_t> integer(std::string_view name) {
    const ParamValue* v = find(name);
    if (!v) return std::nullopt;
    if (const auto* i = std::get_if<std::int64_t>(v)) return *i;
    if (const auto* d = std::get_if<double>(v); d && std::isfinite(*d) && std::floor(*d) == *d &&
                                                std::fabs(*d) < 9.0e15) {
      return static_cast<std::int64_t>(*d);
    }
    if (const auto* s = std::get_if<std::string>(v); s && *s == "auto") return std::nullopt;
    wrong_type(name, *v, "an integer (or \"auto\")");
  }
  std::optional<bool> boolean(std::string_view name) {
    const ParamValue* v = find(name);
    if (!v) return std::nullopt;
    if (const auto* b = std::get_if<bool>(v)) return *b;
    wrong_type(name, *v, "a bool");
  }
  std::optional<std::string> string(std::string_view name) {
    const ParamValue* v = find(name);
    if (!v) return std::nullopt;
    if (const auto* s = std::get_if<std::string>(v)) return *s;
    wrong_type(name, *v, "a string");
  }

  QuotingParams quoting() {
    QuotingParams q;
    q.order_qty = number("order_qty");
    q.max_position = number("max_position");
    q.requote_threshold_ticks = integer("requote_threshold_ticks");
    q.post_only = boolean("post_only");
    q.requote_on = string("requote_on");
    q.min_requote_interval_ms = number("min_requote_interval_ms");
    q.requote_with_modify = boolean("requote_with_modify");
    for (const auto& [name, value] : params_) {
      if (!is_module_param(name)) continue;
      asked_.emplace(name);
      q.modules.emplace(name, value);
    }
    return q;
  }

  /// Throws if a parameter was given that no reader asked for.
  void finish() const {
    for (const auto& [name, value] : params_) {
      if (asked_.count(name) != 0) continue;
      std::string m = "strategy '" + std::string(strategy_) + "': unknown param '" + name +
                      "'; accepted params: ";
      bool first = true;
      for (const std::string& a : order_) {
        if (!first) m += ", ";
        m += a;
        first = false;
      }
      throw Error(m);
    }
  }

 private:
  const ParamValue* find(std::string_view name) {
    if (asked_.emplace(name).second) order_.emplace_back(name);
    const auto it = params_.find(name);
    return it == params_.end() ? nullptr : &it->second;
  }
  [[noreturn]] void wrong_type(std::string_view name, const ParamValue& v, const char* expected) {
    std::string got = type_name(v);
    if (const auto* s = std::get_if<std::string>(&v)) got += " '" + *s + "'";
    throw_param_error(strategy_, name, std::string("expected ") + expected + ", got " + got);
  }

  std::string_view strategy_;
  const Params& params_;
  std::set<std::string, std::less<>> asked_;
  std::vector<std::string> order_;
};

std::unique_ptr<Strategy> build_avellaneda_stoikov(ParamReader& r, const InstrumentSpec& spec,
                                                   const MarketProfile& profile) {
  AvellanedaStoikovParams p;
  p.quoting = r.quoting();
  p.gamma = r.number("gamma");
  p.k = r.number("k");
  p.sigma = r.number("sigma");
  p.horizon = r.string("horizon");
  p.horizon_s = r.number("horizon_s");
  p.calibrate_k = r.boolean("calibrate_k");
  p.calibration_window_s = r.number("calibration_window_s");
  p.calibration_min_trades = r.integer("calibration_min_trades");
  p.calibration_max_ticks = r.integer("calibration_max_ticks");
  p.sigma_half_life_s = r.number("sigma_half_life_s");
  p.sigma_sample_ms = r.number("sigma_sample_ms");
  r.finish();
  return std::make_unique<AvellanedaStoikov>(p, spec, profile);
}

std::unique_ptr<Strategy> build_glft(ParamReader& r, const InstrumentSpec& spec,
                                     const MarketProfile& profile) {
  GlftParams p;
  p.quoting = r.quoting();
  p.gamma = r.number("gamma");
  p.delta = r.number("delta");
  p.A = r.number("A");
  p.k = r.number("k");
  p.sigma = r.number("sigma");
  p.calibration_window_s = r.number("calibration_window_s");
  p.calibration_min_trades = r.integer("calibration_min_trades");
  p.calibration_max_ticks = r.integer("calibration_max_ticks");
  p.vol_window_s = r.number("vol_window_s");
  p.vol_sample_ms = r.number("vol_sample_ms");
  r.finish();
  return std::make_unique<Glft>(p, spec, profile);
}

std::unique_ptr<Strategy> build_spread_quoter(ParamReader& r, const InstrumentSpec& spec,
                                              const MarketProfile& profile) {
  SpreadQuoterParams p;
  p.quoting = r.quoting();
  p.min_spread_ticks = r.number("min_spread_ticks");
  p.vol_multiplier = r.number("vol_multiplier");
  p.skew_per_lot = r.number("skew_per_lot");
  p.levels = r.integer("levels");
  p.level_spacing_ticks = r.integer("level_spacing_ticks");
  p.vol_window_s = r.number("vol_window_s");
  p.vol_sample_ms = r.number("vol_sample_ms");
  r.finish();
  return std::make_unique<SpreadQuoter>(p, spec, profile);
}

std::unique_ptr<Strategy> build_order_list(ParamReader& r, const InstrumentSpec& spec,
                                           const MarketProfile&) {
  OrderListParams p;
  p.orders = r.string("orders");
  r.finish();
  return std::make_unique<OrderList>(p, spec);
}

}  // namespace

std::unique_ptr<Strategy> make_strategy(const std::string& name, const Params& params,
                                        const InstrumentSpec& spec, const MarketProfile& profile) {
  if (is_execution_strategy(name)) return make_execution_strategy(name, params, spec, profile);
  ParamReader r(name, params);
  if (name == "avellaneda-stoikov") return build_avellaneda_stoikov(r, spec, profile);
  if (name == "glft") return build_glft(r, spec, profile);
  if (name == "spread-quoter") return build_spread_quoter(r, spec, profile);
  if (name == "order-list") return build_order_list(r, spec, profile);
  if (name == "rl-policy") return rl::make_rl_policy(params, spec, profile);
  std::string m = "unknown strategy '" + name + "'; accepted: ";
  bool first = true;
  for (const char* n : kStrategyNames) {
    if (!first) m += ", ";
    m += n;
    first = false;
  }
  throw Error(m);
}

}  // namespace mmkit::strategy
