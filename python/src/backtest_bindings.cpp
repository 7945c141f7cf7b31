// nanobind bindings of the backtest engine: mmkit._core.Backtest (steppable) and the market
// profile. Configuration arrives as plain dicts whose keys are checked here, against the C++
// structs they fill (unknown keys are errors naming them).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "mmkit/core/decimal.h"
#include "mmkit/core/error.h"
#include "mmkit/engine/engine.h"
#include "mmkit/engine/profile.h"
#include "mmkit/exchange/order.h"
#include "mmkit/sim/agent_market.h"
#include "mmkit/sim/synthetic_market.h"
#include "mmkit/strategy/strategy.h"
#include "config_parsing.h"
#include "numpy_column.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace mmkit::python {
std::unique_ptr<strategy::Strategy> adopt_python_strategy(nb::handle obj);  // strategy_bindings.cpp
nb::object make_book_view(const strategy::BookView& view, const InstrumentSpec& spec, nb::handle owner);
namespace {

using engine::BacktestResult;
using engine::Engine;
using engine::EngineConfig;

void check_keys(const nb::dict& d, const std::set<std::string>& known, const char* what) {
  for (auto [k, v] : d) {
    const std::string key = nb::cast<std::string>(k);
    if (!known.count(key)) {
      std::string list;
      for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
      throw Error(std::string("unknown ") + what + " setting '" + key + "' (known: " + list + ")");
    }
  }
}

double get_f(const nb::dict& d, const char* k, double def) {
  return d.contains(k) ? nb::cast<double>(d[k]) : def;
}
std::int64_t get_i(const nb::dict& d, const char* k, std::int64_t def) {
  return d.contains(k) ? nb::cast<std::int64_t>(d[k]) : def;
}

strategy::Params to_params(const nb::dict& d) {
  strategy::Params p;
  for (auto [k, v] : d) {
    const std::string key = nb::cast<std::string>(k);
    if (nb::isinstance<nb::bool_>(v)) p[key] = nb::cast<bool>(v);
    else if (nb::isinstance<nb::int_>(v)) p[key] = nb::cast<std::int64_t>(v);
    else if (nb::isinstance<nb::float_>(v)) p[key] = nb::cast<double>(v);
    else if (nb::isinstance<nb::str>(v)) p[key] = nb::cast<std::string>(v);
    else throw Error("strategy parameter '" + key + "' must be a bool, int, float or string");
  }
  return p;
}

nb::dict from_params(const strategy::Params& p) {
  nb::dict d;
  for (const auto& [k, v] : p) {
    std::visit([&](const auto& x) { d[k.c_str()] = x; }, v);
  }
  return d;
}

Qty qty_raw(double decimal, const InstrumentSpec& spec) {
  return static_cast<Qty>(std::llround(decimal * static_cast<double>(pow10(spec.qty_decimals))));
}

sim::SyntheticMarketConfig synthetic_config(const nb::dict& d) {
  check_keys(d, {"preset", "symbol", "price_decimals", "tick_size", "initial_mid", "max_distance", "limit_rate_k",
                 "limit_rate_alpha", "limit_rates", "market_rate", "cancel_rates", "mean_order_size",
                 "mean_market_order_size", "opening_orders_per_level", "duration_s", "start_ns", "feed_latency_ns",
                 "seed", "flow", "hawkes_mu", "hawkes_alpha", "hawkes_beta", "regimes", "regime_transition",
                 "initial_regime", "join_rate", "improver_cancel_rate", "improver_fleeting_share"},
             "synthetic market");
  // The base parameter set (sim::synthetic_preset): "goog2012" (default, fitted on LOBSTER GOOG) or
  // "cst2010"; the other keys override it. Setting limit_rate_k or limit_rate_alpha selects the
  // power law (drops the preset's explicit limit_rates table); mean_order_size without
  // mean_market_order_size sizes market orders like limit orders.
  if (d.contains("preset") && !nb::isinstance<nb::str>(d["preset"])) {
    throw Error("synthetic market setting 'preset' must be a string, got " + nb::cast<std::string>(nb::repr(d["preset"])));
  }
  sim::SyntheticMarketConfig c = sim::synthetic_preset(
      d.contains("preset") ? nb::cast<std::string>(d["preset"]) : std::string(sim::kDefaultSyntheticPreset));
  if (d.contains("limit_rate_k") || d.contains("limit_rate_alpha")) c.limit_rates.clear();
  if (d.contains("symbol")) c.symbol = nb::cast<std::string>(d["symbol"]);
  c.price_decimals = static_cast<std::int32_t>(get_i(d, "price_decimals", c.price_decimals));
  c.tick_size = get_i(d, "tick_size", c.tick_size);
  c.initial_mid = get_i(d, "initial_mid", c.initial_mid);
  c.max_distance = static_cast<std::uint32_t>(get_i(d, "max_distance", c.max_distance));
  c.limit_rate_k = get_f(d, "limit_rate_k", c.limit_rate_k);
  c.limit_rate_alpha = get_f(d, "limit_rate_alpha", c.limit_rate_alpha);
  c.market_rate = get_f(d, "market_rate", c.market_rate);
  c.join_rate = get_f(d, "join_rate", c.join_rate);
  c.improver_cancel_rate = get_f(d, "improver_cancel_rate", c.improver_cancel_rate);
  c.improver_fleeting_share = get_f(d, "improver_fleeting_share", c.improver_fleeting_share);
  c.mean_order_size = get_f(d, "mean_order_size", c.mean_order_size);
  if (d.contains("mean_order_size") && !d.contains("mean_market_order_size")) c.mean_market_order_size = 0;
  c.opening_orders_per_level = static_cast<std::uint32_t>(get_i(d, "opening_orders_per_level", c.opening_orders_per_level));
  c.duration_s = get_f(d, "duration_s", c.duration_s);
  c.start_ns = get_i(d, "start_ns", c.start_ns);
  c.feed_latency_ns = get_i(d, "feed_latency_ns", c.feed_latency_ns);
  c.seed = static_cast<std::uint64_t>(get_i(d, "seed", static_cast<std::int64_t>(c.seed)));

  // Flow models and regimes (docs/synthetic_market.md). Nested values arrive as Python lists and
  // dicts (TOML arrays and tables); each is checked for its shape and type here, its values by
  // make_synthetic_market (errors name the key, e.g. hawkes_alpha[2][1]).
  auto fail = [](const std::string& key, const std::string& what, const nb::handle& got) {
    throw Error("synthetic market setting '" + key + "' must be " + what + ", got " +
                nb::cast<std::string>(nb::str(got.type().attr("__name__"))) + " " +
                nb::cast<std::string>(nb::repr(got)));
  };
  auto is_list = [](const nb::handle& h) { return nb::isinstance<nb::list>(h) || nb::isinstance<nb::tuple>(h); };
  auto number = [&](const nb::handle& h, const std::string& key) {
    if (nb::isinstance<nb::bool_>(h) || !(nb::isinstance<nb::int_>(h) || nb::isinstance<nb::float_>(h))) fail(key, "a number", h);
    return nb::cast<double>(h);
  };
  auto text = [&](const nb::handle& h, const std::string& key) {
    if (!nb::isinstance<nb::str>(h)) fail(key, "a string", h);
    return nb::cast<std::string>(h);
  };
  auto numbers = [&](const nb::handle& h, const std::string& key) {
    if (!is_list(h)) fail(key, "a list of numbers", h);
    std::vector<double> v;
    std::size_t i = 0;
    for (nb::handle e : h) v.push_back(number(e, key + "[" + std::to_string(i++) + "]"));
    return v;
  };
  auto matrix = [&](const nb::handle& h, const std::string& key) {
    if (!is_list(h)) fail(key, "a list of lists of numbers (one list per row)", h);
    std::vector<std::vector<double>> m;
    std::size_t i = 0;
    for (nb::handle row : h) m.push_back(numbers(row, key + "[" + std::to_string(i++) + "]"));
    return m;
  };
  if (d.contains("limit_rates")) c.limit_rates = numbers(d["limit_rates"], "limit_rates");
  if (d.contains("cancel_rates")) c.cancel_rates = numbers(d["cancel_rates"], "cancel_rates");
  c.mean_market_order_size = get_f(d, "mean_market_order_size", c.mean_market_order_size);
  if (d.contains("flow")) {
    const std::string flow = text(d["flow"], "flow");
    if (flow == "poisson") {
      c.flow = sim::FlowModel::kPoisson;
    } else if (flow == "hawkes") {
      c.flow = sim::FlowModel::kHawkes;
    } else {
      throw Error("synthetic market setting 'flow' must be 'poisson' or 'hawkes', got '" + flow + "'");
    }
  }
  if (d.contains("hawkes_mu")) c.hawkes_mu = numbers(d["hawkes_mu"], "hawkes_mu");
  if (d.contains("hawkes_alpha")) c.hawkes_alpha = matrix(d["hawkes_alpha"], "hawkes_alpha");
  if (d.contains("hawkes_beta")) {
    const nb::handle b = d["hawkes_beta"];
    if (is_list(b)) {
      c.hawkes_beta = matrix(b, "hawkes_beta");
    } else {
      const double beta = number(b, "hawkes_beta");  // one decay rate for every pair
      c.hawkes_beta.assign(sim::flow_type::kCount, std::vector<double>(sim::flow_type::kCount, beta));
    }
  }
  // regimes = true: the four default regimes (low, medium, high, crisis) and their transition
  // rates; false: none; a list of tables: those regimes (regime_transition required).
  if (d.contains("regimes")) {
    const nb::handle r = d["regimes"];
    if (nb::isinstance<nb::bool_>(r)) {
      if (nb::cast<bool>(r)) {
        c.regimes = sim::default_regimes();
        c.regime_transition = sim::default_regime_transition();
      }
    } else if (is_list(r)) {
      std::size_t i = 0;
      for (nb::handle t : r) {
        const std::string at = "regimes[" + std::to_string(i++) + "]";
        if (!nb::isinstance<nb::dict>(t)) fail(at, "a table with name and multipliers", t);
        const nb::dict table = nb::borrow<nb::dict>(t);
        check_keys(table, {"name", "limit_rate_multiplier", "market_rate_multiplier", "cancel_rate_multiplier",
                           "size_multiplier", "tick_move_rate"},
                   ("synthetic market " + at).c_str());
        if (!table.contains("name")) throw Error("synthetic market setting '" + at + "' needs a name");
        sim::RegimeParams g;
        g.name = text(table["name"], at + ".name");
        auto opt = [&](const char* key, double& out) {
          if (table.contains(key)) out = number(table[key], at + "." + key);
        };
        opt("limit_rate_multiplier", g.limit_rate_multiplier);
        opt("market_rate_multiplier", g.market_rate_multiplier);
        opt("cancel_rate_multiplier", g.cancel_rate_multiplier);
        opt("size_multiplier", g.size_multiplier);
        opt("tick_move_rate", g.tick_move_rate);
        c.regimes.push_back(std::move(g));
      }
      c.regime_transition.clear();
    } else {
      fail("regimes", "true, false or a list of tables", r);
    }
  }
  if (d.contains("regime_transition")) c.regime_transition = matrix(d["regime_transition"], "regime_transition");
  if (d.contains("initial_regime")) c.initial_regime = text(d["initial_regime"], "initial_regime");
  return c;
}

std::unique_ptr<data::EventSource> open_input(const std::vector<std::string>& paths, const nb::dict& synthetic,
                                              const nb::dict& source) {
  check_keys(source, {"instrument", "publisher", "tick_size"}, "source");
  if (paths.empty()) {
    // [synthetic] mode: "cst" (default, the order-flow generator of docs/synthetic_market.md) or
    // "agents" (the agent-based market of docs/agent_market.md).
    const std::string mode = synthetic.contains("mode") ? nb::cast<std::string>(synthetic["mode"]) : "cst";
    if (mode == "agents") return sim::make_agent_market(sim::agent_market_config_from(to_params(synthetic)));
    if (mode != "cst") throw Error("synthetic market mode must be 'cst' or 'agents', got '" + mode + "'");
    nb::dict rest;
    for (auto [k, v] : synthetic) {
      if (nb::cast<std::string>(k) != "mode") rest[k] = v;
    }
    return sim::make_synthetic_market(synthetic_config(rest));
  }
  data::SourceOptions o;
  if (source.contains("instrument")) o.instrument = nb::cast<std::string>(source["instrument"]);
  o.publisher = get_i(source, "publisher", -1);
  o.tick_size = get_i(source, "tick_size", 0);
  return data::open_source(paths, o);
}

EngineConfig engine_config(const nb::dict& d, const InstrumentSpec& spec) {
  check_keys(d, {"entry_latency_ms", "response_latency_ms", "latency_csv", "feed_latency", "feed_latency_ms",
                 "queue_model", "maker_fee_bps", "taker_fee_bps", "seed", "max_position", "max_order_qty",
                 "max_open_orders", "max_notional", "sample_interval_ms", "timer_interval_ms", "markouts_ms",
                 "own_orders_take_liquidity", "warmup_events", "contract_multiplier", "impact_model", "funding",
                 "funding_rate", "funding_interval_h"},
             "engine");
  EngineConfig c;
  c.fees = exchange::FeeSchedule::from_bps(get_f(d, "maker_fee_bps", 0), get_f(d, "taker_fee_bps", 0));
  c.risk.max_position = qty_raw(get_f(d, "max_position", 0), spec);
  c.risk.max_order_qty = qty_raw(get_f(d, "max_order_qty", 0), spec);
  c.risk.max_open_orders = static_cast<std::uint32_t>(get_i(d, "max_open_orders", 0));
  c.risk.max_notional = get_f(d, "max_notional", 0);
  if (d.contains("queue_model")) c.queue_model = nb::cast<std::string>(d["queue_model"]);
  (void)exchange::make_queue_model(c.queue_model);  // validates the name now
  if (d.contains("latency_csv") && !nb::cast<std::string>(d["latency_csv"]).empty()) {
    c.order_latency = exchange::EmpiricalOrderLatency::from_csv(nb::cast<std::string>(d["latency_csv"]));
  } else {
    const auto entry = static_cast<TimestampNs>(std::llround(get_f(d, "entry_latency_ms", 0) * 1e6));
    const auto response = static_cast<TimestampNs>(std::llround(get_f(d, "response_latency_ms", 0) * 1e6));
    if (entry != 0 || response != 0) c.order_latency = std::make_unique<exchange::ConstantOrderLatency>(entry, response);
  }
  const std::string feed = d.contains("feed_latency") ? nb::cast<std::string>(d["feed_latency"]) : "data";
  if (feed == "data") {
    c.feed_latency.mode = exchange::FeedLatencyConfig::Mode::kFromData;
  } else if (feed == "constant") {
    c.feed_latency.mode = exchange::FeedLatencyConfig::Mode::kConstant;
  } else {
    throw Error("engine setting feed_latency must be 'data' or 'constant', got '" + feed + "'");
  }
  c.feed_latency.constant_ns = static_cast<TimestampNs>(std::llround(get_f(d, "feed_latency_ms", 0) * 1e6));
  c.seed = static_cast<std::uint64_t>(get_i(d, "seed", 1));
  c.sample_interval_ns = static_cast<TimestampNs>(std::llround(get_f(d, "sample_interval_ms", 1000) * 1e6));
  c.timer_interval_ns = static_cast<TimestampNs>(std::llround(get_f(d, "timer_interval_ms", 100) * 1e6));
  if (c.sample_interval_ns <= 0 || c.timer_interval_ns <= 0) throw Error("sample and timer intervals must be > 0");
  if (d.contains("markouts_ms")) {
    c.markout_horizons_ns.clear();
    for (double ms : nb::cast<std::vector<double>>(d["markouts_ms"])) {
      if (!(ms > 0)) throw Error("markout horizons must be > 0 ms");
      c.markout_horizons_ns.push_back(static_cast<TimestampNs>(std::llround(ms * 1e6)));
    }
  }
  if (d.contains("own_orders_take_liquidity")) c.own_orders_take_liquidity = nb::cast<bool>(d["own_orders_take_liquidity"]);
  c.warmup_events = static_cast<std::uint64_t>(get_i(d, "warmup_events", 0));
  if (d.contains("impact_model")) c.impact_model = nb::cast<std::string>(d["impact_model"]);
  const std::int64_t mult = get_i(d, "contract_multiplier", 0);
  if (mult < 0 || mult > 1'000'000'000) throw Error("engine setting contract_multiplier must be in [0, 1e9]");
  c.contract_multiplier = static_cast<std::uint32_t>(mult);
  // Perpetual funding (docs/engine.md "Funding"): "none", "constant" (funding_rate every
  // funding_interval_h hours from 00:00 UTC) or the path of a staged funding history.
  const std::string funding = d.contains("funding") ? nb::cast<std::string>(d["funding"]) : "none";
  if (funding == "constant") {
    const double hours = get_f(d, "funding_interval_h", 8.0);
    if (!(hours > 0) || !std::isfinite(hours)) throw Error("engine setting funding_interval_h must be > 0");
    c.funding = engine::funding_constant(get_f(d, "funding_rate", 0.0001),
                                         static_cast<TimestampNs>(std::llround(hours * 3600e9)));
  } else if (funding != "none" && !funding.empty()) {
    c.funding = engine::funding_from_file(funding);
  }
  return c;
}

std::string horizon_label(TimestampNs ns) {
  if (ns % 1'000'000'000 == 0) return std::to_string(ns / 1'000'000'000) + "s";
  if (ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + "ms";
  return std::to_string(ns) + "ns";
}

nb::dict profile_dict(const strategy::MarketProfile& p) {
  nb::dict d;
  d["median_trade_qty"] = p.median_trade_qty;
  d["mean_spread"] = p.mean_spread;
  d["trades_per_second"] = p.trades_per_second;
  d["mid_price"] = p.mid_price;
  return d;
}

nb::dict result_dict(Engine* engine_, const std::vector<TimestampNs>& horizons_);

class PyBacktest {
 public:
  PyBacktest(const std::vector<std::string>& paths, const nb::dict& synthetic, const nb::dict& source,
             const std::string& strategy_name, const nb::dict& params, const nb::dict& engine_settings) {
    init(paths, synthetic, source, engine_settings,
         [&](const InstrumentSpec& spec, const strategy::MarketProfile& profile) {
           return strategy::make_strategy(strategy_name, to_params(params), spec, profile);
         });
  }
  /// A strategy written in Python: an mmkit.Strategy instance (python/src/strategy_bindings.cpp).
  PyBacktest(const std::vector<std::string>& paths, const nb::dict& synthetic, const nb::dict& source,
             nb::handle py_strategy, const nb::dict& engine_settings) {
    init(paths, synthetic, source, engine_settings,
         [&](const InstrumentSpec&, const strategy::MarketProfile&) { return adopt_python_strategy(py_strategy); });
  }

  bool step(std::uint64_t n) {
    nb::gil_scoped_release r;
    return engine_->step(n);
  }
  bool run_until(TimestampNs ts) {
    nb::gil_scoped_release r;
    return engine_->run_until(ts);
  }
  void run() {
    nb::gil_scoped_release r;
    engine_->run();
  }

  nb::dict result();

  Engine& engine() { return *engine_; }
  const InstrumentSpec& spec() const { return spec_; }
  const std::string& format() const { return format_; }
  const strategy::MarketProfile& profile() const { return profile_; }

 private:
  /// Opens the input twice (a profiling pass, then the run), checks the engine settings, then
  /// builds the engine around `make(spec, profile)` (a std::unique_ptr<strategy::Strategy>).
  template <class StrategyFactory>
  void init(const std::vector<std::string>& paths, const nb::dict& synthetic, const nb::dict& source,
            const nb::dict& engine_settings, StrategyFactory&& make) {
    {
      auto probe = open_input(paths, synthetic, source);
      spec_ = probe->instrument();
      format_ = probe->format();
      profile_ = engine::profile_market(*probe);
    }
    auto src = open_input(paths, synthetic, source);
    config_ = engine_config(engine_settings, spec_);
    horizons_ = config_.markout_horizons_ns;
    sample_interval_ns_ = config_.sample_interval_ns;
    auto strat = make(spec_, profile_);
    engine_ = std::make_unique<Engine>(std::move(src), std::move(strat), std::move(config_));
  }

  InstrumentSpec spec_;
  std::string format_;
  strategy::MarketProfile profile_;
  EngineConfig config_;
  std::vector<TimestampNs> horizons_;
  TimestampNs sample_interval_ns_ = 0;
  std::unique_ptr<Engine> engine_;
};

nb::dict PyBacktest::result() { return result_dict(engine_.get(), horizons_); }

/// The result dict of a finished engine (what mmkit.backtest.Backtest.results() reads).
nb::dict result_dict(Engine* engine_, const std::vector<TimestampNs>& horizons_) {
  const BacktestResult& r = engine_->result();
  const InstrumentSpec& s = engine_->instrument();  // carries the configured contract multiplier
  const double px = 1.0 / static_cast<double>(pow10(s.price_decimals));
  const double qx = 1.0 / static_cast<double>(pow10(s.qty_decimals));
  const double nan = std::nan("");
  auto dpx = [&](Price p) { return p == kNoPrice ? nan : static_cast<double>(p) * px; };

  // fills
  const std::size_t nf = r.fills.size();
  std::vector<std::int64_t> f_exch(nf), f_local(nf);
  std::vector<std::uint64_t> f_id(nf);
  std::vector<std::int8_t> f_side(nf);
  std::vector<double> f_px(nf), f_qty(nf), f_fee(nf), f_qa(nf), f_mid(nf);
  std::vector<bool> maker_tmp(nf);
  std::vector<std::uint8_t> f_maker(nf);
  std::vector<std::vector<double>> f_mk(horizons_.size(), std::vector<double>(nf));
  for (std::size_t i = 0; i < nf; ++i) {
    const auto& f = r.fills[i].fill;
    f_exch[i] = f.exch_ts_ns;
    f_local[i] = f.local_ts_ns;
    f_id[i] = f.order_id;
    f_side[i] = f.side == Side::kBid ? 1 : -1;
    f_px[i] = dpx(f.price);
    f_qty[i] = static_cast<double>(f.qty) * qx;
    f_fee[i] = exchange::money_to_double(f.fee, s);
    f_maker[i] = f.maker ? 1 : 0;
    f_qa[i] = f.queue_ahead_at_entry < 0 ? nan : static_cast<double>(f.queue_ahead_at_entry) * qx;
    f_mid[i] = (f.bid_at_fill == kNoPrice || f.ask_at_fill == kNoPrice)
                   ? nan
                   : 0.5 * (dpx(f.bid_at_fill) + dpx(f.ask_at_fill));
    for (std::size_t h = 0; h < horizons_.size(); ++h) {
      f_mk[h][i] = h < r.fills[i].markouts.size() ? r.fills[i].markouts[h] : nan;
    }
  }
  nb::dict fills;
  fills["exch_ts_ns"] = column(std::move(f_exch));
  fills["local_ts_ns"] = column(std::move(f_local));
  fills["order_id"] = column(std::move(f_id));
  fills["side"] = column(std::move(f_side));
  fills["price"] = column(std::move(f_px));
  fills["qty"] = column(std::move(f_qty));
  fills["fee"] = column(std::move(f_fee));
  fills["maker"] = column(std::move(f_maker));
  fills["queue_ahead_at_entry"] = column(std::move(f_qa));
  fills["mid_at_fill"] = column(std::move(f_mid));
  for (std::size_t h = 0; h < horizons_.size(); ++h) {
    fills[("markout_" + horizon_label(horizons_[h])).c_str()] = column(std::move(f_mk[h]));
  }

  // order log (codes; python maps them to names)
  const std::size_t no = r.orders.size();
  std::vector<std::int64_t> o_ts(no), o_exch(no);
  std::vector<std::uint64_t> o_id(no);
  std::vector<std::uint8_t> o_event(no), o_status(no), o_reason(no);
  std::vector<std::int8_t> o_side(no);
  std::vector<double> o_px(no), o_qty(no), o_leaves(no), o_filled(no);
  for (std::size_t i = 0; i < no; ++i) {
    const auto& u = r.orders[i].update;
    o_ts[i] = u.local_ts_ns;
    o_exch[i] = u.exch_ts_ns;
    o_id[i] = u.order_id;
    o_event[i] = static_cast<std::uint8_t>(u.kind);
    o_status[i] = static_cast<std::uint8_t>(u.status);
    o_reason[i] = static_cast<std::uint8_t>(u.reason);
    o_side[i] = u.side == Side::kBid ? 1 : (u.side == Side::kAsk ? -1 : 0);
    o_px[i] = dpx(u.price);
    o_qty[i] = static_cast<double>(u.qty) * qx;
    o_leaves[i] = static_cast<double>(u.leaves) * qx;
    o_filled[i] = static_cast<double>(u.filled) * qx;
  }
  nb::dict orders;
  orders["ts_ns"] = column(std::move(o_ts));
  orders["exch_ts_ns"] = column(std::move(o_exch));
  orders["order_id"] = column(std::move(o_id));
  orders["event_code"] = column(std::move(o_event));
  orders["status_code"] = column(std::move(o_status));
  orders["reason_code"] = column(std::move(o_reason));
  orders["side"] = column(std::move(o_side));
  orders["price"] = column(std::move(o_px));
  orders["qty"] = column(std::move(o_qty));
  orders["leaves"] = column(std::move(o_leaves));
  orders["filled"] = column(std::move(o_filled));

  // samples
  const std::size_t ns = r.samples.size();
  std::vector<std::int64_t> s_ts(ns);
  std::vector<double> s_bb(ns), s_ba(ns), s_ob(ns), s_oa(ns), s_mid(ns), s_pos(ns), s_pnl(ns), s_fees(ns), s_fund(ns);
  for (std::size_t i = 0; i < ns; ++i) {
    const auto& x = r.samples[i];
    s_ts[i] = x.ts_ns;
    s_bb[i] = dpx(x.best_bid);
    s_ba[i] = dpx(x.best_ask);
    s_ob[i] = dpx(x.our_bid);
    s_oa[i] = dpx(x.our_ask);
    s_mid[i] = x.mid;
    s_pos[i] = static_cast<double>(x.position) * qx;
    s_pnl[i] = x.pnl;
    s_fees[i] = x.fees;
    s_fund[i] = x.funding;
  }
  nb::dict samples;
  samples["ts_ns"] = column(std::move(s_ts));
  samples["best_bid"] = column(std::move(s_bb));
  samples["best_ask"] = column(std::move(s_ba));
  samples["our_bid"] = column(std::move(s_ob));
  samples["our_ask"] = column(std::move(s_oa));
  samples["mid"] = column(std::move(s_mid));
  samples["position"] = column(std::move(s_pos));
  samples["pnl"] = column(std::move(s_pnl));
  samples["fees"] = column(std::move(s_fees));
  const bool with_funding = r.metrics.funding_settlements > 0 || !r.funding.empty() ||
                            engine_->context().funding().available;
  if (with_funding) samples["funding"] = column(std::move(s_fund));

  const auto& m = r.metrics;
  nb::dict met;
  met["total_pnl"] = m.total_pnl;
  met["realized_pnl"] = m.realized_pnl;
  met["unrealized_pnl"] = m.unrealized_pnl;
  met["fees_paid"] = m.fees_paid;
  met["rebates_earned"] = m.rebates_earned;
  met["sharpe"] = m.sharpe;
  met["sortino"] = m.sortino;
  met["sample_interval_s"] = m.sample_interval_s;
  met["max_drawdown"] = m.max_drawdown;
  met["orders"] = m.orders;
  met["fills"] = m.fills;
  met["maker_fills"] = m.maker_fills;
  met["taker_fills"] = m.taker_fills;
  met["cancels"] = m.cancels;
  met["rejects"] = m.rejects;
  met["fill_ratio"] = m.fill_ratio;
  met["volume"] = m.volume;
  met["notional"] = m.notional;
  met["spread_captured_mean"] = m.spread_captured_mean;
  nb::dict mk;
  for (std::size_t h = 0; h < m.markout_mean.size() && h < horizons_.size(); ++h) {
    mk[horizon_label(horizons_[h]).c_str()] = m.markout_mean[h];
  }
  met["markout_mean"] = mk;
  met["inventory_mean"] = m.inventory_mean;
  met["inventory_std"] = m.inventory_std;
  met["inventory_max_abs"] = m.inventory_max_abs;
  met["time_at_position_limit"] = m.time_at_position_limit;
  met["var_95"] = m.var_95;
  met["cvar_95"] = m.cvar_95;
  met["events"] = m.events;
  met["start_ns"] = m.start_ns;
  met["end_ns"] = m.end_ns;
  if (with_funding) {
    met["funding_paid"] = m.funding_paid;
    met["funding_settlements"] = m.funding_settlements;
  }

  nb::dict out;
  out["fills"] = fills;
  out["orders"] = orders;
  out["samples"] = samples;
  out["metrics"] = met;
  out["strategy_params"] = from_params(r.strategy_params);
  out["strategy_summary"] = from_params(r.strategy_summary);
  out["final_position"] = static_cast<double>(engine_->position()) * qx;
  out["final_cash"] = exchange::money_to_double(engine_->cash(), s);
  out["contract_multiplier"] = s.multiplier();
  return out;
}

}  // namespace

void bind_backtest(nb::module_& m) {
  nb::class_<PyBacktest>(m, "Backtest",
                       "A steppable run of the C++ backtest engine (engine::Engine), the one event loop also used by the\n"
                       "RL environments; mmkit.Backtest wraps it.\n"
                       "\n"
                       "Data: `paths` read as one stream (as open_source), or, when empty, the synthetic market configured\n"
                       "by `synthetic` (the [synthetic] section: mode 'cst' (default, docs/synthetic_market.md) or\n"
                       "'agents' (docs/agent_market.md) and their settings). `source`: instrument / publisher / tick_size\n"
                       "selection (as open_source). `engine`: the [engine] settings (mmkit.backtest.ENGINE_DEFAULTS,\n"
                       "docs/engine.md; latencies in ms, fees in bp, limits as decimal qty / quote currency).\n"
                       "The input is read twice: a first pass profiles the market (`profile`), the second is the run. The\n"
                       "engine runs with the GIL released; prices and quantities in and out are decimals. Unknown or\n"
                       "invalid settings raise mmkit.Error naming the setting; malformed data raises mmkit.Error naming\n"
                       "the file and line.")
      .def(nb::init<const std::vector<std::string>&, const nb::dict&, const nb::dict&, const std::string&,
                    const nb::dict&, const nb::dict&>(),
           "paths"_a, "synthetic"_a, "source"_a, "strategy"_a, "params"_a, "engine"_a,
           nb::sig("def __init__(self, paths: Sequence[str], synthetic: dict[str, typing.Any], "
                   "source: dict[str, typing.Any], strategy: str, params: dict[str, bool | int | float | str], "
                   "engine: dict[str, typing.Any]) -> None"),
           "A shipped C++ strategy by name ('glft', 'avellaneda-stoikov', 'spread-quoter', 'order-list',\n"
           "'twap', ...; docs/strategies.md) with its parameters `params` (bool, int, float or str values).\n"
           "Raises mmkit.Error for an unknown strategy or parameter (naming it and listing the accepted ones),\n"
           "a parameter of another type, and as the class says.")
      .def(nb::init<const std::vector<std::string>&, const nb::dict&, const nb::dict&, nb::handle, const nb::dict&>(),
           "paths"_a, "synthetic"_a, "source"_a, "strategy"_a, "engine"_a,
           nb::sig("def __init__(self, paths: Sequence[str], synthetic: dict[str, typing.Any], "
                   "source: dict[str, typing.Any], strategy: Strategy, engine: dict[str, typing.Any]) -> None"),
           "Runs an mmkit.Strategy instance (a Python subclass; the slow path) in the same engine. Raises\n"
           "TypeError when `strategy` is not an mmkit.Strategy (or its __init__ did not call\n"
           "super().__init__()), mmkit.Error as the class says.")
      .def("step", &PyBacktest::step, "n"_a,
           "Processes up to `n` market events (and everything due before the last of them). Returns False once\n"
           "the data is exhausted (the run is then finished: on_end called, metrics final), True otherwise. An\n"
           "exception raised in a Python strategy callback propagates; the run cannot continue after it.")
      .def("run_until", &PyBacktest::run_until, "ts_ns"_a,
           "Processes everything due at or before local time `ts_ns` (int ns since the Unix epoch). Returns\n"
           "False once the data is exhausted, True otherwise.")
      .def("run", &PyBacktest::run, "Runs to the end of the data (GIL released).")
      .def("result", &PyBacktest::result, nb::sig("def result(self) -> dict[str, typing.Any]"),
           "The results so far (complete once finished) as plain columns, converted in one pass and handed to\n"
           "NumPy without a copy. mmkit.Backtest.results() turns them into mmkit.results.BacktestResults.\n"
           "\n"
           "Returns a dict: fills, orders, samples (each a dict of equal-length 1-D NumPy arrays, one per\n"
           "column), metrics (dict, docs/metrics.md; markout_mean: dict horizon label -> value),\n"
           "strategy_params, strategy_summary (dict), final_position (float, decimal qty), final_cash (float,\n"
           "quote currency), contract_multiplier (float).\n"
           "fills, one row per fill in time order: exch_ts_ns, local_ts_ns int64 ns; order_id uint64; side\n"
           "int8 (+1 buy, -1 sell); price, qty, fee float64 decimals (fee > 0 paid, < 0 rebate, quote\n"
           "currency); maker uint8 (0/1); queue_ahead_at_entry float64 (decimal qty, NaN for taker fills);\n"
           "mid_at_fill float64 (NaN if a side was empty); markout_<h> float64 per engine markout horizon\n"
           "('100ms', '1s', ...; NaN when the data ended first).\n"
           "orders, the order log: ts_ns (local), exch_ts_ns int64 ns; order_id uint64; event_code,\n"
           "status_code, reason_code uint8 (names: event_names()); side int8 (+1, -1, 0); price, qty, leaves,\n"
           "filled float64 decimals.\n"
           "samples, every sample_interval_ms of local time: ts_ns int64 ns; best_bid, best_ask, our_bid,\n"
           "our_ask, mid, position, pnl, fees float64 decimals (NaN where absent; pnl = cash + position × mid,\n"
           "fees included); funding float64 (only when the run has funding).")
      .def_prop_ro("finished", [](PyBacktest& b) { return b.engine().finished(); },
                   "True once the data is exhausted and the run finished (on_end called, metrics final).")
      .def_prop_ro("now", [](PyBacktest& b) { return b.engine().now(); }, "Local time of the engine, int ns since the Unix epoch (UTC).")
      .def_prop_ro("events_processed", [](PyBacktest& b) { return b.engine().events_processed(); },
                   "Market events processed so far.")
      .def_prop_ro("position", [](PyBacktest& b) {
        return static_cast<double>(b.engine().position()) / static_cast<double>(pow10(b.spec().qty_decimals));
      }, "Position from the fills so far, decimal qty (> 0 long).")
      .def_prop_ro("cash", [](PyBacktest& b) { return exchange::money_to_double(b.engine().cash(), b.spec()); },
                   "Cash from the fills so far, quote currency (× the contract multiplier), fees included.")
      .def_prop_ro("format", [](PyBacktest& b) { return b.format(); },
                   "The input's format name, as EventSource.format; 'synthetic' or 'agents' for the synthetic markets.")
      .def_prop_ro("instrument", [](PyBacktest& b) { return backtest_instrument_dict(b.spec()); }, nb::sig("def instrument(self) -> dict[str, str | int]"),
      "The instrument: symbol, venue, currency (str); price_decimals, qty_decimals (int); tick_size,\n"
      "lot_size (str, decimal).")
      .def_prop_ro("profile", [](PyBacktest& b) { return profile_dict(b.profile()); },
                   nb::sig("def profile(self) -> dict[str, float]"),
                   "The market profile of the first pass over the input (strategy::MarketProfile), raw units:\n"
                   "median_trade_qty (raw qty, 0 if no trade), mean_spread (raw price), trades_per_second, mid_price\n"
                   "(raw price, first valid mid).")
      .def_prop_ro("book", [](nb::handle self) {
        PyBacktest& b = nb::cast<PyBacktest&>(self);
        return make_book_view(b.engine().context().book(), b.spec(), self);
      }, nb::sig("def book(self) -> BookView"), "The strategy's local book (after feed latency), live.");

  m.def("event_names", [] {
    nb::dict d;
    std::vector<std::string> ev, st, rs;
    for (int i = 0; i <= static_cast<int>(exchange::OrderEventKind::kModifySent); ++i)
      ev.emplace_back(exchange::to_string(static_cast<exchange::OrderEventKind>(i)));
    for (int i = 0; i <= static_cast<int>(exchange::OrderStatus::kRejected); ++i)
      st.emplace_back(exchange::to_string(static_cast<exchange::OrderStatus>(i)));
    for (int i = 0; i <= static_cast<int>(exchange::RejectReason::kRiskMaxNotional); ++i)
      rs.emplace_back(exchange::to_string(static_cast<exchange::RejectReason>(i)));
    d["event"] = ev;
    d["status"] = st;
    d["reason"] = rs;
    return d;
  }, nb::sig("def event_names() -> dict[str, list[str]]"),
        "Names of the order-log codes of Backtest.result()['orders'], indexed by code: {'event': [...],\n"
        "'status': [...], 'reason': [...]} (exchange::OrderEventKind, OrderStatus, RejectReason).");
}

// Shared with python/src/portfolio_bindings.cpp and rl_bindings.cpp (config_parsing.h: the same
// input, config parsing and result dicts).
sim::SyntheticMarketConfig backtest_synthetic_config(const nb::dict& d) { return synthetic_config(d); }
std::unique_ptr<data::EventSource> backtest_open_input(const std::vector<std::string>& paths, const nb::dict& source) {
  return open_input(paths, nb::dict(), source);
}
EngineConfig backtest_engine_config(const nb::dict& d, const InstrumentSpec& spec) { return engine_config(d, spec); }
strategy::Params backtest_params(const nb::dict& d) { return to_params(d); }
nb::dict backtest_params_dict(const strategy::Params& p) { return from_params(p); }
nb::dict backtest_result_dict(Engine& engine, const std::vector<TimestampNs>& horizons) {
  return result_dict(&engine, horizons);
}
nb::dict backtest_instrument_dict(const InstrumentSpec& s) {
  nb::dict d;
  d["symbol"] = s.symbol_str();
  d["venue"] = s.venue_str();
  d["currency"] = s.currency_str();
  d["price_decimals"] = s.price_decimals;
  d["qty_decimals"] = s.qty_decimals;
  d["tick_size"] = format_decimal(s.tick_size, s.price_decimals, s.price_display_decimals());
  d["lot_size"] = format_decimal(s.lot_size, s.qty_decimals, s.qty_display_decimals());
  return d;
}

nb::dict backtest_profile_dict(const strategy::MarketProfile& p) { return profile_dict(p); }

}  // namespace mmkit::python
