// nanobind bindings of multi-instrument backtests: mmkit._core.Portfolio (engine/portfolio.h)
// with quoting legs (any shipped strategy, publishing its state) and hedge legs
// (strategy/hedge.h Hedger). Legs are plain dicts; their engine settings are parsed by the same
// code as mmkit._core.Backtest (backtest_bindings.cpp), and each leg's result dict has the
// same shape as Backtest.result().
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "mmkit/core/decimal.h"
#include "mmkit/core/error.h"
#include "mmkit/engine/engine.h"
#include "mmkit/engine/portfolio.h"
#include "mmkit/engine/profile.h"
#include "mmkit/strategy/hedge.h"
#include "mmkit/strategy/strategy.h"
#include "config_parsing.h"
#include "numpy_column.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace mmkit::python {

namespace {

struct LegInfo {
  InstrumentSpec spec;
  std::string format;
  strategy::MarketProfile profile;
  std::vector<TimestampNs> horizons;
};

class PyPortfolio {
 public:
  /// legs: [{"name", "paths", "source", "strategy", "params", "engine"}, ...]; strategy "hedge"
  /// makes a Hedger (params: strategy/hedge.h hedge_params; "self" defaults to the leg index),
  /// any other name a shipped strategy (strategy::make_strategy) that publishes its state.
  PyPortfolio(const nb::list& legs, double sample_interval_ms) {
    if (legs.size() == 0) throw Error("portfolio: no legs");
    auto shared = std::make_shared<strategy::SharedState>();
    shared->legs.resize(legs.size());
    std::vector<engine::Leg> built;
    for (std::size_t i = 0; i < legs.size(); ++i) {
      const nb::dict d = nb::cast<nb::dict>(legs[i]);
      for (auto [k, v] : d) {
        const std::string key = nb::cast<std::string>(k);
        if (key != "name" && key != "paths" && key != "source" && key != "strategy" && key != "params" &&
            key != "engine") {
          throw Error("portfolio leg " + std::to_string(i) + ": unknown key '" + key +
                      "' (known: name, paths, source, strategy, params, engine)");
        }
      }
      const auto paths = nb::cast<std::vector<std::string>>(d["paths"]);
      if (paths.empty()) throw Error("portfolio leg " + std::to_string(i) + ": no data files");
      const nb::dict source = d.contains("source") ? nb::cast<nb::dict>(d["source"]) : nb::dict();
      const nb::dict params = d.contains("params") ? nb::cast<nb::dict>(d["params"]) : nb::dict();
      const nb::dict eng = d.contains("engine") ? nb::cast<nb::dict>(d["engine"]) : nb::dict();
      const std::string name = d.contains("strategy") ? nb::cast<std::string>(d["strategy"]) : "glft";
      LegInfo info;
      {
        auto probe = backtest_open_input(paths, source);
        info.spec = probe->instrument();
        info.format = probe->format();
        info.profile = engine::profile_market(*probe);
      }
      engine::Leg leg;
      leg.name = d.contains("name") ? nb::cast<std::string>(d["name"]) : std::string();
      leg.source = backtest_open_input(paths, source);
      leg.config = backtest_engine_config(eng, info.spec);
      info.horizons = leg.config.markout_horizons_ns;
      strategy::Params p = backtest_params(params);
      if (name == "hedge") {
        if (p.find("self") == p.end()) p["self"] = static_cast<std::int64_t>(i);
        leg.strategy = std::make_unique<strategy::Hedger>(strategy::hedge_params(p), shared);
      } else {
        leg.strategy = std::make_unique<strategy::PublishingStrategy>(
            strategy::make_strategy(name, p, info.spec, info.profile), shared, i);
      }
      infos_.push_back(std::move(info));
      built.push_back(std::move(leg));
    }
    engine::PortfolioConfig pc;
    pc.sample_interval_ns = static_cast<TimestampNs>(std::llround(sample_interval_ms * 1e6));
    portfolio_ = std::make_unique<engine::Portfolio>(std::move(built), pc);
  }

  void run() {
    nb::gil_scoped_release r;
    portfolio_->run();
  }

  bool run_until(TimestampNs ts) {
    nb::gil_scoped_release r;
    return portfolio_->run_until(ts);
  }

  nb::dict result() {
    if (!portfolio_->finished()) throw Error("portfolio: result() before the run finished");
    const engine::PortfolioResult& r = portfolio_->result();
    nb::list legs;
    for (std::size_t i = 0; i < portfolio_->size(); ++i) {
      nb::dict l = backtest_result_dict(portfolio_->leg(i), infos_[i].horizons);
      l["name"] = r.names[i];
      l["instrument"] = backtest_instrument_dict(portfolio_->leg(i).instrument());
      l["format"] = infos_[i].format;
      l["profile"] = backtest_profile_dict(infos_[i].profile);
      legs.append(l);
    }
    const std::size_t n = r.samples.size(), k = portfolio_->size();
    std::vector<std::int64_t> ts(n);
    std::vector<double> total(n), net(n);
    std::vector<std::vector<double>> pnl(k, std::vector<double>(n)), pos(k, std::vector<double>(n)),
        mid(k, std::vector<double>(n));
    for (std::size_t j = 0; j < n; ++j) {
      const auto& s = r.samples[j];
      ts[j] = s.ts_ns;
      total[j] = s.total_pnl;
      net[j] = s.net_notional;
      for (std::size_t i = 0; i < k; ++i) {
        pnl[i][j] = s.pnl[i];
        pos[i][j] = s.position[i];
        mid[i][j] = s.mid[i];
      }
    }
    nb::dict samples;
    samples["ts_ns"] = column(std::move(ts));
    samples["total_pnl"] = column(std::move(total));
    samples["net_notional"] = column(std::move(net));
    for (std::size_t i = 0; i < k; ++i) {
      const std::string tag = std::to_string(i);
      samples[("pnl_" + tag).c_str()] = column(std::move(pnl[i]));
      samples[("position_" + tag).c_str()] = column(std::move(pos[i]));
      samples[("mid_" + tag).c_str()] = column(std::move(mid[i]));
    }
    const auto& m = r.metrics;
    nb::dict met;
    met["total_pnl"] = m.total_pnl;
    met["sharpe"] = m.sharpe;
    met["sortino"] = m.sortino;
    met["max_drawdown"] = m.max_drawdown;
    met["pnl_increment_std"] = m.pnl_increment_std;
    met["net_notional_mean"] = m.net_notional_mean;
    met["net_notional_std"] = m.net_notional_std;
    met["inventory_pnl_std"] = m.inventory_pnl_std;
    met["sample_interval_s"] = m.sample_interval_s;
    met["leg_pnl"] = m.leg_pnl;
    met["leg_fees"] = m.leg_fees;
    met["leg_spread_cost"] = m.leg_spread_cost;
    met["start_ns"] = m.start_ns;
    met["end_ns"] = m.end_ns;
    nb::dict out;
    out["names"] = r.names;
    out["currency"] = r.currency;
    out["legs"] = legs;
    out["samples"] = samples;
    out["metrics"] = met;
    return out;
  }

 private:
  std::vector<LegInfo> infos_;
  std::unique_ptr<engine::Portfolio> portfolio_;
};

}  // namespace

void bind_portfolio(nb::module_& m) {
  nb::class_<PyPortfolio>(m, "Portfolio",
                           "A multi-instrument backtest (include/mmkit/engine/portfolio.h, docs/hedging.md): "
                           "one Engine per leg, advanced in one merged time order (the leg with the earliest "
                           "due item first, ties to the lower index). Use mmkit.portfolio.hedged_backtest for "
                           "the configured front.")
      .def(nb::init<const nb::list&, double>(), "legs"_a, "sample_interval_ms"_a = 1000.0,
           "legs: list of dicts {paths: list[str], name, strategy (a shipped strategy name, or 'hedge' for a strategy/hedge.h Hedger), params, "
           "engine, source} parsed like mmkit.Backtest's tables; sample_interval_ms: the common clock of the "
           "total PnL series. Raises mmkit.Error for bad tables or legs in different quote currencies.")
      .def("run", &PyPortfolio::run, "Runs every leg to the end of its data.")
      .def("run_until", &PyPortfolio::run_until, "ts_ns"_a,
           "Processes every leg's items due at or before local time ts_ns (int64 ns since the epoch); "
           "False once all data is exhausted.")
      .def("result", &PyPortfolio::result,
           "dict: names, currency, legs (per leg: name, instrument, format, profile and the same result "
           "dict as Backtest.result()), samples (ts_ns int64, total_pnl float64, net_notional float64: 1-D "
           "arrays on the common clock) and metrics (total_pnl, sharpe, sortino, max_drawdown, "
           "pnl_increment_std, inventory_pnl_std, net_notional_mean/std, leg_pnl, leg_fees, "
           "leg_spread_cost; quote currency).");
}

}  // namespace mmkit::python
