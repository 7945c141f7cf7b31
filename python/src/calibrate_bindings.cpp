// nanobind bindings of the order-flow calibration (mmkit/sim/calibrate.h): mmkit._core.calibrate_flow
// (an opaque FlowCalibration holding every estimate, exported as plain dicts), flow_statistics on
// data files or on the fitted market, and a writer of CST synthetic markets to event files (test
// inputs). Option dicts are checked key by key (unknown keys are errors naming them).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "mmkit/core/decimal.h"
#include "mmkit/core/error.h"
#include "mmkit/data/event_file.h"
#include "mmkit/data/source.h"
#include "mmkit/sim/calibrate.h"
#include "mmkit/sim/synthetic_market.h"
#include "numpy_column.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace mmkit::python {
namespace {

template <class T>
nb::ndarray<nb::numpy, T, nb::ndim<1>> array_of(const std::vector<T>& v) {
  return column(std::vector<T>(v));
}

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

double get_f(const nb::dict& d, const char* k, double def) { return d.contains(k) ? nb::cast<double>(d[k]) : def; }
std::int64_t get_i(const nb::dict& d, const char* k, std::int64_t def) {
  return d.contains(k) ? nb::cast<std::int64_t>(d[k]) : def;
}

std::uint32_t get_u32(const nb::dict& d, const char* k, std::uint32_t def) {
  const std::int64_t v = get_i(d, k, def);
  if (v < 0 || v > 0xFFFFFFFFll) throw Error(std::string("setting '") + k + "' must be in [0, 2^32)");
  return static_cast<std::uint32_t>(v);
}

data::SourceOptions source_options(const nb::dict& d) {
  check_keys(d, {"instrument", "publisher", "tick_size"}, "source");
  data::SourceOptions o;
  if (d.contains("instrument")) o.instrument = nb::cast<std::string>(d["instrument"]);
  o.publisher = get_i(d, "publisher", -1);
  o.tick_size = get_i(d, "tick_size", 0);
  return o;
}

sim::CalibrationOptions calibration_options(const nb::dict& d) {
  check_keys(d, {"max_distance", "max_distance_cap", "min_visible_fraction", "visible_levels", "fit_hawkes",
                 "hawkes_beta_shared", "hawkes_max_events", "joins_and_improvers"},
             "calibration");
  sim::CalibrationOptions o;
  o.max_distance = get_u32(d, "max_distance", o.max_distance);
  o.max_distance_cap = get_u32(d, "max_distance_cap", o.max_distance_cap);
  o.min_visible_fraction = get_f(d, "min_visible_fraction", o.min_visible_fraction);
  o.visible_levels = get_u32(d, "visible_levels", o.visible_levels);
  if (d.contains("fit_hawkes")) o.fit_hawkes = nb::cast<bool>(d["fit_hawkes"]);
  if (d.contains("hawkes_beta_shared")) o.hawkes_beta_shared = nb::cast<bool>(d["hawkes_beta_shared"]);
  if (d.contains("joins_and_improvers")) o.joins_and_improvers = nb::cast<bool>(d["joins_and_improvers"]);
  const std::int64_t hm = get_i(d, "hawkes_max_events", 0);
  if (hm < 0) throw Error("setting 'hawkes_max_events' must be >= 0");
  o.hawkes_max_events = static_cast<std::uint64_t>(hm);
  return o;
}

sim::FlowStatisticsOptions statistics_options(const nb::dict& d) {
  check_keys(d, {"sample_interval_ms", "depth_levels", "max_spread_ticks"}, "flow statistics");
  sim::FlowStatisticsOptions o;
  o.sample_interval_ns = static_cast<TimestampNs>(std::llround(get_f(d, "sample_interval_ms", 1000) * 1e6));
  o.depth_levels = get_u32(d, "depth_levels", o.depth_levels);
  o.max_spread_ticks = get_u32(d, "max_spread_ticks", o.max_spread_ticks);
  return o;
}

sim::FlowModel flow_model(const std::string& s) {
  if (s == "poisson") return sim::FlowModel::kPoisson;
  if (s == "hawkes") return sim::FlowModel::kHawkes;
  throw Error("flow must be 'poisson' or 'hawkes', got '" + s + "'");
}

/// The CST subset of the synthetic market's settings (the keys of SyntheticMarketConfig's Poisson
/// mode), for writing test inputs.
sim::SyntheticMarketConfig cst_config(const nb::dict& d) {
  check_keys(d, {"symbol", "price_decimals", "tick_size", "initial_mid", "max_distance", "limit_rate_k",
                 "limit_rate_alpha", "limit_rates", "market_rate", "cancel_rates", "mean_order_size",
                 "mean_market_order_size", "opening_orders_per_level", "duration_s", "start_ns", "seed",
                 "join_rate", "improver_cancel_rate", "improver_fleeting_share"},
             "synthetic market (CST subset)");
  sim::SyntheticMarketConfig c;
  if (d.contains("symbol")) c.symbol = nb::cast<std::string>(d["symbol"]);
  c.price_decimals = static_cast<std::int32_t>(get_i(d, "price_decimals", c.price_decimals));
  c.tick_size = get_i(d, "tick_size", c.tick_size);
  c.initial_mid = get_i(d, "initial_mid", c.initial_mid);
  c.max_distance = get_u32(d, "max_distance", c.max_distance);
  c.limit_rate_k = get_f(d, "limit_rate_k", c.limit_rate_k);
  c.limit_rate_alpha = get_f(d, "limit_rate_alpha", c.limit_rate_alpha);
  c.market_rate = get_f(d, "market_rate", c.market_rate);
  c.join_rate = get_f(d, "join_rate", c.join_rate);
  c.improver_cancel_rate = get_f(d, "improver_cancel_rate", c.improver_cancel_rate);
  c.improver_fleeting_share = get_f(d, "improver_fleeting_share", c.improver_fleeting_share);
  if (d.contains("cancel_rates")) c.cancel_rates = nb::cast<std::vector<double>>(d["cancel_rates"]);
  c.mean_order_size = get_f(d, "mean_order_size", c.mean_order_size);
  if (d.contains("limit_rates")) c.limit_rates = nb::cast<std::vector<double>>(d["limit_rates"]);
  c.mean_market_order_size = get_f(d, "mean_market_order_size", c.mean_market_order_size);
  c.opening_orders_per_level = get_u32(d, "opening_orders_per_level", c.opening_orders_per_level);
  c.duration_s = get_f(d, "duration_s", c.duration_s);
  c.start_ns = get_i(d, "start_ns", c.start_ns);
  c.seed = static_cast<std::uint64_t>(get_i(d, "seed", static_cast<std::int64_t>(c.seed)));
  return c;
}

nb::list matrix(const std::vector<std::vector<double>>& m) {
  nb::list rows;
  for (const auto& r : m) rows.append(nb::cast(r));
  return rows;
}

/// The [synthetic] settings of a config (keys of SyntheticMarketConfig, as `mmkit backtest`
/// reads them). flow always; the Hawkes keys in Hawkes mode or when they differ from the defaults
/// (a fitted process, for switching to flow = "hawkes"; hawkes_beta a number when every pair
/// shares one decay rate); limit_rates instead of limit_rate_k / limit_rate_alpha when given;
/// mean_market_order_size when not 0; seed and feed latency left to the run.
nb::dict config_dict(const sim::SyntheticMarketConfig& c) {
  nb::dict d;
  d["symbol"] = c.symbol;
  d["price_decimals"] = c.price_decimals;
  d["tick_size"] = c.tick_size;
  d["initial_mid"] = c.initial_mid;
  d["max_distance"] = c.max_distance;
  if (c.limit_rates.empty()) {
    d["limit_rate_k"] = c.limit_rate_k;
    d["limit_rate_alpha"] = c.limit_rate_alpha;
  } else {
    d["limit_rates"] = nb::cast(c.limit_rates);  // replaces k / i^α (not written: unused)
  }
  d["market_rate"] = c.market_rate;
  if (c.join_rate != 0) d["join_rate"] = c.join_rate;
  d["cancel_rates"] = nb::cast(c.cancel_rates);
  if (c.improver_cancel_rate != 0) {
    d["improver_cancel_rate"] = c.improver_cancel_rate;
    d["improver_fleeting_share"] = c.improver_fleeting_share;
  }
  d["mean_order_size"] = c.mean_order_size;
  if (c.mean_market_order_size != 0) d["mean_market_order_size"] = c.mean_market_order_size;
  d["opening_orders_per_level"] = c.opening_orders_per_level;
  d["duration_s"] = c.duration_s;
  d["start_ns"] = c.start_ns;
  d["flow"] = c.flow == sim::FlowModel::kHawkes ? "hawkes" : "poisson";
  const sim::SyntheticMarketConfig defaults;
  if (c.flow == sim::FlowModel::kHawkes || c.hawkes_mu != defaults.hawkes_mu || c.hawkes_alpha != defaults.hawkes_alpha ||
      c.hawkes_beta != defaults.hawkes_beta) {
    d["hawkes_mu"] = nb::cast(c.hawkes_mu);
    d["hawkes_alpha"] = matrix(c.hawkes_alpha);
    bool shared = true;
    for (const auto& row : c.hawkes_beta) {
      for (const double b : row) shared = shared && b == c.hawkes_beta[0][0];
    }
    if (shared && !c.hawkes_beta.empty() && !c.hawkes_beta[0].empty()) {
      d["hawkes_beta"] = c.hawkes_beta[0][0];  // one decay rate for every pair
    } else {
      d["hawkes_beta"] = matrix(c.hawkes_beta);
    }
  }
  return d;
}

nb::dict instrument_dict(const InstrumentSpec& s) {
  nb::dict d;
  d["symbol"] = s.symbol_str();
  d["venue"] = s.venue_str();
  d["currency"] = s.currency_str();
  d["price_decimals"] = s.price_decimals;
  d["qty_decimals"] = s.qty_decimals;
  d["tick_size"] = s.tick_size;
  d["lot_size"] = s.lot_size;
  d["tick_size_decimal"] = format_decimal(s.tick_size, s.price_decimals, s.price_display_decimals());
  return d;
}

nb::dict size_dict(const sim::SizeDistribution& s) {
  nb::dict d;
  d["count"] = s.count;
  d["mean"] = s.mean;
  d["geometric_p"] = s.geometric_p;
  d["share_of_one"] = s.share_of_one;
  d["ks_distance"] = s.ks_distance;
  d["quantile_levels"] = nb::cast(s.quantile_levels);
  d["quantiles"] = nb::cast(s.quantiles);
  return d;
}

template <class T>
nb::list list_of(const std::vector<T>& v) {
  nb::list l;
  for (const T& x : v) l.append(x);
  return l;
}

nb::dict calibration_dict(const sim::FlowCalibration& c) {
  nb::dict d;
  d["instrument"] = instrument_dict(c.instrument);
  d["format"] = c.format;
  d["start_ns"] = c.start_ns;
  d["end_ns"] = c.end_ns;
  d["duration_s"] = c.duration_s;
  d["initial_mid"] = c.initial_mid;
  d["visible_levels"] = c.visible_levels;
  d["max_distance"] = c.max_distance;
  d["limit_count"] = list_of(c.limit_count);
  d["limit_exposure_s"] = list_of(c.limit_exposure_s);
  d["limit_rate"] = list_of(c.limit_rate);
  d["limit_rate_se"] = list_of(c.limit_rate_se);
  d["visible_fraction_at_max_distance"] = c.visible_fraction_at_max_distance;
  d["limit_rate_k"] = c.limit_rate_k;
  d["limit_rate_k_se"] = c.limit_rate_k_se;
  d["limit_rate_alpha"] = c.limit_rate_alpha;
  d["limit_rate_alpha_se"] = c.limit_rate_alpha_se;
  d["limit_rate_k_free"] = c.limit_rate_k_free;
  d["limit_rate_alpha_free"] = c.limit_rate_alpha_free;
  d["limit_orders"] = c.limit_orders;
  d["limit_orders_beyond_max_distance"] = c.limit_orders_beyond_max_distance;
  d["limit_orders_without_reference"] = c.limit_orders_without_reference;
  d["limit_orders_crossing"] = c.limit_orders_crossing;
  d["join_count"] = c.join_count;
  d["join_exposure_s"] = c.join_exposure_s;
  d["join_rate"] = c.join_rate;
  d["join_rate_se"] = c.join_rate_se;
  d["improver_count"] = c.improver_count;
  d["improver_cancel_count"] = c.improver_cancel_count;
  d["improver_exposure_s"] = c.improver_exposure_s;
  d["improver_cancel_rate"] = c.improver_cancel_rate;
  d["improver_cancel_rate_se"] = c.improver_cancel_rate_se;
  d["improver_pooled_cancel_rate"] = c.improver_pooled_cancel_rate;
  d["improver_fleeting_share"] = c.improver_fleeting_share;
  d["improver_fleeting_share_se"] = c.improver_fleeting_share_se;
  d["improver_slow_cancel_rate"] = c.improver_slow_cancel_rate;
  d["improver_slow_cancel_rate_se"] = c.improver_slow_cancel_rate_se;
  d["market_orders_buy"] = c.market_orders[0];
  d["market_orders_sell"] = c.market_orders[1];
  d["market_rate"] = c.market_rate;
  d["market_rate_se"] = c.market_rate_se;
  d["executions"] = c.executions;
  d["cancel_count"] = list_of(c.cancel_count);
  d["order_exposure_s"] = list_of(c.order_exposure_s);
  d["cancel_rate"] = list_of(c.cancel_rate);
  d["cancel_rate_se"] = list_of(c.cancel_rate_se);
  d["cancels_beyond"] = c.cancels_beyond;
  d["order_exposure_beyond_s"] = c.order_exposure_beyond_s;
  d["cancel_rate_beyond"] = c.cancel_rate_beyond;
  d["cancels"] = c.cancels;
  d["partial_cancels"] = c.partial_cancels;
  d["cancels_of_unknown_orders"] = c.cancels_of_unknown_orders;
  d["modifies_price"] = c.modifies_price;
  d["modifies_size_only"] = c.modifies_size_only;
  d["limit_sizes"] = size_dict(c.limit_sizes);
  d["market_sizes"] = size_dict(c.market_sizes);
  d["trades_without_book_effect"] = c.trades_without_book_effect;
  d["book_rejections"] = c.book_rejections;
  d["events"] = c.events;
  nb::dict tol;
  for (const auto& [k, v] : c.source_tolerated.items()) tol[k.c_str()] = v;
  d["source_tolerated"] = tol;
  nb::dict h;
  h["fitted"] = c.hawkes.fitted;
  h["note"] = c.hawkes.note;
  h["types"] = list_of(c.hawkes.types);
  h["counts"] = list_of(c.hawkes.counts);
  h["horizon_s"] = c.hawkes.horizon_s;
  if (c.hawkes.fitted) {
    const sim::HawkesFit& f = c.hawkes.fit;
    h["mu"] = list_of(f.params.mu);
    h["alpha"] = matrix(f.params.alpha);
    h["beta"] = matrix(f.params.beta);
    h["log_likelihood"] = f.log_likelihood;
    h["iterations"] = f.iterations;
    h["converged"] = f.converged;
    h["spectral_radius"] = f.params.spectral_radius();
  }
  d["hawkes"] = h;
  return d;
}

nb::dict statistics_dict(sim::FlowStatistics&& s) {
  nb::dict d;
  d["instrument"] = instrument_dict(s.instrument);
  d["format"] = s.format;
  d["start_ns"] = s.start_ns;
  d["end_ns"] = s.end_ns;
  d["duration_s"] = s.duration_s;
  d["two_sided_s"] = s.two_sided_s;
  d["spread_time_s"] = column(std::move(s.spread_time_s));
  d["mean_spread_ticks"] = s.mean_spread_ticks;
  d["depth_bid_lots"] = column(std::move(s.depth_lots[0]));
  d["depth_ask_lots"] = column(std::move(s.depth_lots[1]));
  d["event_ts_ns"] = column(std::move(s.event_ts_ns));
  d["event_type"] = column(std::move(s.event_type));
  d["grid_start_ns"] = s.grid_start_ns;
  d["sample_interval_ns"] = s.sample_interval_ns;
  d["mid"] = column(std::move(s.mid));
  d["events"] = s.events;
  d["mid_changes"] = s.mid_changes;
  d["book_rejections"] = s.book_rejections;
  return d;
}

}  // namespace

void bind_calibrate(nb::module_& m) {
  nb::list types;
  for (std::uint32_t t = 0; t < sim::kFlowHawkesDims; ++t) types.append(sim::to_string(static_cast<sim::FlowEventType>(t)));
  m.attr("FLOW_EVENT_TYPES") = types;

  nb::class_<sim::FlowCalibration>(m, "FlowCalibration",
      "The result of calibrate_flow(): every estimate of the order-flow generator's parameters fitted on\n"
      "an L3 stream (C++ sim::FlowCalibration; estimators and units in docs/calibration.md). Opaque; read\n"
      "it with to_dict().")
      .def("to_dict", &calibration_dict, nb::sig("def to_dict(self) -> dict[str, typing.Any]"),
           "Every estimate as plain Python values (docs/calibration.md): instrument (dict), format (str),\n"
           "start_ns, end_ns (int ns, exchange time), duration_s, initial_mid (raw price), visible_levels,\n"
           "max_distance (ticks); per distance i = 1..max_distance (lists): limit_count, limit_exposure_s,\n"
           "limit_rate, limit_rate_se (1/s), cancel_count, order_exposure_s, cancel_rate, cancel_rate_se (1/s\n"
           "per order); limit_rate_k, limit_rate_alpha (power law k / i^alpha) with *_se and *_free;\n"
           "market_rate, market_rate_se (1/s); counts (limit_orders*, market_orders_buy / _sell, executions,\n"
           "cancels, partial_cancels, modifies_*, book_rejections, events, ...); limit_sizes, market_sizes\n"
           "(dict: count, mean (lots), geometric_p, share_of_one, ks_distance, quantile_levels, quantiles);\n"
           "source_tolerated (dict); hawkes (dict: fitted, note, types, counts, horizon_s, and when fitted mu,\n"
           "alpha, beta (lists, 1/s), log_likelihood, iterations, converged, spectral_radius).")
      .def(
          "synthetic_config",
          [](const sim::FlowCalibration& c, const std::string& flow) { return config_dict(c.synthetic_config(flow_model(flow))); },
          "flow"_a = "poisson", nb::sig("def synthetic_config(self, flow: str = 'poisson') -> dict[str, typing.Any]"),
          "The [synthetic] settings of the fitted generator for the arrival model `flow` ('poisson' or\n"
          "'hawkes'): symbol, price_decimals, tick_size, initial_mid (raw), max_distance, limit_rate_k /\n"
          "limit_rate_alpha or limit_rates, market_rate, cancel_rates, mean_order_size,\n"
          "mean_market_order_size (when not 0), opening_orders_per_level, duration_s, start_ns, flow and,\n"
          "from a Hawkes fit, hawkes_mu / hawkes_alpha / hawkes_beta. Raises mmkit.Error for an unknown flow,\n"
          "or 'hawkes' without a Hawkes fit.")
      .def(
          "simulate_statistics",
          [](const sim::FlowCalibration& c, const std::string& flow, std::uint64_t seed, const nb::dict& options) {
            sim::SyntheticMarketConfig cfg = c.synthetic_config(flow_model(flow));
            cfg.seed = seed;
            const sim::FlowStatisticsOptions o = statistics_options(options);
            sim::FlowStatistics st;
            {
              nb::gil_scoped_release release;
              auto src = sim::make_synthetic_market(cfg);
              st = sim::flow_statistics(*src, o);
            }
            return statistics_dict(std::move(st));
          },
          "flow"_a = "poisson", "seed"_a = 1, "options"_a = nb::dict(),
          nb::sig("def simulate_statistics(self, flow: str = 'poisson', seed: int = 1, options: dict[str, typing.Any] = {}) "
                  "-> dict[str, typing.Any]"),
          "flow_statistics() of the fitted market simulated (GIL released) with arrival model `flow` and\n"
          "`seed` over the data's own span; `options` as in flow_statistics. Returns the same dict. Raises\n"
          "mmkit.Error as synthetic_config and for unknown options.");

  m.def(
      "calibrate_flow",
      [](const std::vector<std::string>& paths, const nb::dict& source, const nb::dict& options) {
        const data::SourceOptions so = source_options(source);
        const sim::CalibrationOptions co = calibration_options(options);
        auto out = std::make_unique<sim::FlowCalibration>();
        {
          nb::gil_scoped_release release;
          auto src = data::open_source(paths, so);
          *out = sim::calibrate_flow(*src, co);
        }
        return out;
      },
      "paths"_a, "source"_a = nb::dict(), "options"_a = nb::dict(),
      nb::sig("def calibrate_flow(paths: Sequence[str], source: dict[str, typing.Any] = {}, "
              "options: dict[str, typing.Any] = {}) -> FlowCalibration"),
      "Fits the order-flow generator (sim::calibrate_flow, docs/calibration.md) to the L3 stream `paths`\n"
      "(read as one stream; LOBSTER, Databento MBO or an event file of either or of the synthetic\n"
      "market), in C++ with the GIL released.\n"
      "\n"
      "source: {instrument, publisher, tick_size} as in open_source. options (all optional): max_distance\n"
      "(ticks, 0 = auto), max_distance_cap (1000), min_visible_fraction (0.5), visible_levels (0 = auto),\n"
      "fit_hawkes (True), hawkes_beta_shared (True), hawkes_max_events (0 = all), joins_and_improvers (False).\n"
      "Returns a FlowCalibration. Raises mmkit.Error for an unknown option (naming it), an L2 source, no\n"
      "two-sided book or no time span, a fixed max_distance above max_distance_cap, and malformed input.");

  m.def(
      "flow_statistics",
      [](const std::vector<std::string>& paths, const nb::dict& source, const nb::dict& options) {
        const data::SourceOptions so = source_options(source);
        const sim::FlowStatisticsOptions o = statistics_options(options);
        sim::FlowStatistics st;
        {
          nb::gil_scoped_release release;
          auto src = data::open_source(paths, so);
          st = sim::flow_statistics(*src, o);
        }
        return statistics_dict(std::move(st));
      },
      "paths"_a, "source"_a = nb::dict(), "options"_a = nb::dict(),
      nb::sig("def flow_statistics(paths: Sequence[str], source: dict[str, typing.Any] = {}, "
              "options: dict[str, typing.Any] = {}) -> dict[str, typing.Any]"),
      "Statistics of the stream `paths` from the book rebuilt event by event (sim::flow_statistics), in\n"
      "C++ with the GIL released. source as in calibrate_flow; options: sample_interval_ms (1000),\n"
      "depth_levels (5), max_spread_ticks (200).\n"
      "\n"
      "Returns a dict: instrument (dict), format (str), start_ns, end_ns (int ns), duration_s,\n"
      "two_sided_s (float s), spread_time_s (1-D float64 array: seconds at a spread of n ticks, n =\n"
      "0..max_spread_ticks, the last bin >=), mean_spread_ticks (float), depth_bid_lots, depth_ask_lots\n"
      "(1-D float64: time-weighted mean volume of levels 1..depth_levels, lots), event_ts_ns (1-D int64\n"
      "ns), event_type (1-D uint8, index into FLOW_EVENT_TYPES), grid_start_ns, sample_interval_ns (int\n"
      "ns), mid (1-D float64 decimal mid at grid_start_ns + k × sample_interval_ns, NaN while a side is\n"
      "empty), events, mid_changes, book_rejections (int).\n"
      "Raises mmkit.Error for an unknown option, an interval <= 0, depth_levels 0 and malformed input.");

  m.def(
      "synthetic_preset", [](const std::string& name) { return config_dict(sim::synthetic_preset(name)); }, "name"_a,
      nb::sig("def synthetic_preset(name: str) -> dict[str, typing.Any]"),
      "The [synthetic] settings of a named parameter set (sim::synthetic_preset): 'goog2012' (the default "
      "synthetic market) or 'cst2010'.\n"
      "Keys as FlowCalibration.synthetic_config; names in SYNTHETIC_PRESETS. Raises mmkit.Error for any other name.");
  m.attr("SYNTHETIC_PRESETS") = nb::cast(sim::synthetic_preset_names());
  m.attr("DEFAULT_SYNTHETIC_PRESET") = sim::kDefaultSyntheticPreset;

  m.def(
      "write_synthetic_event_file",
      [](const nb::dict& synthetic, const std::string& path) {
        const sim::SyntheticMarketConfig cfg = cst_config(synthetic);
        data::EventFileSummary s;
        {
          nb::gil_scoped_release release;
          auto src = sim::make_synthetic_market(cfg);
          s = data::write_event_file(*src, path);
        }
        nb::dict d;
        d["events"] = s.event_count;
        d["records"] = s.record_count;
        return d;
      },
      "synthetic"_a, "path"_a,
      nb::sig("def write_synthetic_event_file(synthetic: dict[str, typing.Any], path: str) -> dict[str, int]"),
      "Writes the CST (Poisson) synthetic market with the settings `synthetic` (keys: symbol,\n"
      "price_decimals, tick_size, initial_mid, max_distance, limit_rate_k, limit_rate_alpha, limit_rates,\n"
      "market_rate, cancel_rates, mean_order_size, mean_market_order_size, opening_orders_per_level,\n"
      "duration_s, start_ns, seed; docs/synthetic_market.md) to an mmkit event file at `path`. Returns\n"
      "{'events': int, 'records': int}. Raises mmkit.Error for an unknown key (naming it), invalid values\n"
      "or an I/O error.");
}

}  // namespace mmkit::python
