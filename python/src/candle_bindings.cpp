// nanobind bindings of the candle backtester (include/mmkit/engine/candle_backtest.h, LOWER
// FIDELITY: no queue, no latency, fills at the quote when the candle's range crosses it).
// Files are read and runs made in C++ with the GIL released; results come back as dicts of
// NumPy columns (python/mmkit/candles.py turns them into DataFrames).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "mmkit/core/error.h"
#include "mmkit/data/candles.h"
#include "mmkit/data/funding.h"
#include "mmkit/data/source.h"
#include "mmkit/engine/candle_backtest.h"
#include "numpy_column.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace mmkit::python {
namespace {

using namespace mmkit::engine;

/// Config from a dict: numeric keys of set_candle_param, plus "strategy" and "vol_estimator"
/// (strings). Unknown keys raise mmkit.Error.
CandleBacktestConfig config_from(const nb::dict& d) {
  CandleBacktestConfig c;
  for (auto [k, v] : d) {
    const std::string key = nb::cast<std::string>(k);
    if (key == "strategy") {
      c.strategy = parse_candle_strategy(nb::cast<std::string>(v));
    } else if (key == "vol_estimator") {
      c.vol_estimator = parse_candle_vol_estimator(nb::cast<std::string>(v));
    } else {
      double x;
      if (nb::isinstance<nb::bool_>(v)) {
        x = nb::cast<bool>(v) ? 1.0 : 0.0;
      } else {
        try {
          x = nb::cast<double>(v);
        } catch (const nb::cast_error&) {
          throw Error("candle backtest: param '" + key + "': expected a number");
        }
      }
      set_candle_param(c, key, x);
    }
  }
  validate(c);
  return c;
}

nb::dict metrics_dict(const CandleMetrics& m) {
  nb::dict d;
  d["pnl"] = m.pnl;
  d["gross_pnl"] = m.gross_pnl;
  d["fees"] = m.fees;
  d["funding"] = m.funding;
  d["sharpe"] = m.sharpe;
  d["max_drawdown"] = m.max_drawdown;
  d["fills"] = m.fills;
  d["bid_fills"] = m.bid_fills;
  d["ask_fills"] = m.ask_fills;
  d["both_sides_candles"] = m.both_sides_candles;
  d["volume"] = m.volume;
  d["notional"] = m.notional;
  d["inventory_mean"] = m.inventory_mean;
  d["inventory_std"] = m.inventory_std;
  d["final_position"] = m.final_position;
  d["candles"] = m.candles;
  d["quoted_candles"] = m.quoted_candles;
  d["funding_settlements"] = m.funding_settlements;
  return d;
}

struct Loaded {
  data::CandleSeries series;
  data::FundingSeries funding;
};

/// Reads the candles (keeping bars with start_ns <= open time < end_ns; 0 = unbounded) and the
/// funding file (all rows: settlements outside the kept bars are counted, not settled).
Loaded load(const std::string& path, const std::string& funding_path, std::int64_t start_ns,
            std::int64_t end_ns) {
  Loaded l;
  l.series = data::read_candles(path);
  if (start_ns != 0 || end_ns != 0) {
    auto& rows = l.series.rows;
    std::erase_if(rows, [&](const data::Candle& c) {
      return c.open_ts_ns < start_ns || (end_ns != 0 && c.open_ts_ns >= end_ns);
    });
    if (rows.empty()) throw Error(SourceLocation(path), "no candles in the requested window");
  }
  if (!funding_path.empty()) l.funding = data::read_funding(funding_path);
  return l;
}

nb::dict series_info(const Loaded& l, const PreparedCandles* p) {
  nb::dict d;
  d["path"] = l.series.path;
  d["format"] = l.series.format;
  d["volume_unit"] = l.series.volume_unit;
  d["interval_ns"] = l.series.interval_ns;
  d["candles"] = l.series.rows.size();
  d["first_open_ts_ns"] = l.series.rows.empty() ? 0 : l.series.rows.front().open_ts_ns;
  d["last_open_ts_ns"] = l.series.rows.empty() ? 0 : l.series.rows.back().open_ts_ns;
  d["gaps"] = l.series.tolerated.get("candles.gaps");
  d["funding_path"] = l.funding.path;
  d["funding_rows"] = l.funding.rows.size();
  if (p != nullptr) {
    d["off_grid_prices"] = p->off_grid_prices;
    d["funding_in_window"] = p->funding.size();
    d["funding_outside"] = p->funding_outside;
  }
  return d;
}

}  // namespace

void bind_candles(nb::module_& m) {
  m.def("candle_param_keys", [] { return candle_param_keys(); }, "Numeric config keys of the candle backtester (docs/candle_backtest.md).");

  m.def(
      "candle_backtest",
      [](const std::string& path, const std::string& funding_path, const nb::dict& config,
         bool record, std::int64_t start_ns, std::int64_t end_ns) {
        const CandleBacktestConfig c = config_from(config);
        Loaded l;
        PreparedCandles p;
        CandleBacktestResult r;
        {
          nb::gil_scoped_release release;
          l = load(path, funding_path, start_ns, end_ns);
          p = prepare_candles(l.series, l.funding.rows, c.tick_size, c.vol_estimator,
                              c.vol_window);
          r = run_candle_backtest(p, c, record);
        }
        nb::dict out;
        out["metrics"] = metrics_dict(r.metrics);
        out["info"] = series_info(l, &p);
        nb::dict cols;
        cols["close_ts_ns"] = column(std::move(r.ts_ns));
        cols["close"] = column(std::move(r.close));
        cols["bid"] = column(std::move(r.bid));
        cols["ask"] = column(std::move(r.ask));
        cols["position"] = column(std::move(r.position));
        cols["cash"] = column(std::move(r.cash));
        cols["equity"] = column(std::move(r.equity));
        out["equity"] = cols;
        const std::size_t nf = r.fills.size();
        std::vector<std::int64_t> f_candle(nf), f_ts(nf), f_side(nf);
        std::vector<double> f_px(nf), f_qty(nf), f_fee(nf);
        for (std::size_t i = 0; i < nf; ++i) {
          const auto& f = r.fills[i];
          f_candle[i] = static_cast<std::int64_t>(f.candle);
          f_ts[i] = f.ts_ns;
          f_side[i] = f.side == Side::kBid ? 1 : -1;
          f_px[i] = f.price;
          f_qty[i] = f.qty;
          f_fee[i] = f.fee;
        }
        nb::dict fills;
        fills["candle"] = column(std::move(f_candle));
        fills["close_ts_ns"] = column(std::move(f_ts));
        fills["side"] = column(std::move(f_side));
        fills["price"] = column(std::move(f_px));
        fills["qty"] = column(std::move(f_qty));
        fills["fee"] = column(std::move(f_fee));
        out["fills"] = fills;
        const std::size_t np = r.funding.size();
        std::vector<std::int64_t> p_ts(np);
        std::vector<double> p_rate(np), p_mark(np), p_pos(np), p_pay(np);
        for (std::size_t i = 0; i < np; ++i) {
          p_ts[i] = r.funding[i].ts_ns;
          p_rate[i] = r.funding[i].rate;
          p_mark[i] = r.funding[i].mark;
          p_pos[i] = r.funding[i].position;
          p_pay[i] = r.funding[i].payment;
        }
        nb::dict fund;
        fund["ts_ns"] = column(std::move(p_ts));
        fund["rate"] = column(std::move(p_rate));
        fund["mark"] = column(std::move(p_mark));
        fund["position"] = column(std::move(p_pos));
        fund["payment"] = column(std::move(p_pay));
        out["funding"] = fund;
        return out;
      },
      "path"_a, "funding_path"_a = "", "config"_a = nb::dict(), "record"_a = true,
      "start_ns"_a = 0, "end_ns"_a = 0,
      "Candle backtest (lower fidelity: no queue, no latency; docs/candle_backtest.md) of a candle file "
      "[start_ns, end_ns) (0 = open) with optional funding history. Returns dict: metrics, info, equity "
      "(per candle: close_ts_ns int64, close, bid, ask, position, cash, equity float64), fills (candle, "
      "close_ts_ns, side ±1, price, qty, fee) and funding (ts_ns, rate, mark, position, payment) as 1-D "
      "arrays. Raises mmkit.Error naming the file/line or the config key.");

  m.def(
      "candle_sweep",
      [](const std::string& path, const std::string& funding_path, const nb::dict& config,
         const std::vector<std::pair<std::string, std::vector<double>>>& axes, int threads,
         std::int64_t start_ns, std::int64_t end_ns) {
        const CandleBacktestConfig c = config_from(config);
        std::vector<SweepAxis> ax;
        for (const auto& [k, v] : axes) ax.push_back(SweepAxis{k, v});
        Loaded l;
        std::vector<CandleSweepRow> rows;
        {
          nb::gil_scoped_release release;
          l = load(path, funding_path, start_ns, end_ns);
          rows = candle_sweep(l.series, l.funding.rows, c, ax, threads);
        }
        nb::list out;
        for (const auto& r : rows) {
          nb::dict d = metrics_dict(r.metrics);
          for (std::size_t a = 0; a < ax.size(); ++a) d[ax[a].key.c_str()] = r.values[a];
          out.append(d);
        }
        nb::dict res;
        res["rows"] = out;
        res["info"] = series_info(l, nullptr);
        return res;
      },
      "path"_a, "funding_path"_a, "config"_a, "axes"_a, "threads"_a = 1, "start_ns"_a = 0,
      "end_ns"_a = 0,
      "Grid sweep of the candle backtester: axes = [(key, [values...]), ...]; returns dict rows (one "
      "metrics dict per grid point with the axis values, in grid order, last axis fastest; independent "
      "of threads) and info.");

  m.def(
      "candles_from_trades_file",
      [](const std::vector<std::string>& paths, std::int64_t interval_ns,
         const std::string& executions, const std::string& out_csv, const std::string& instrument,
         std::int64_t publisher) {
        DerivedCandles d;
        std::string format;
        {
          nb::gil_scoped_release release;
          data::SourceOptions o;
          o.instrument = instrument;
          o.publisher = publisher;
          auto src = data::open_source(paths, o);
          format = src->format();
          bool inc = executions == "yes";
          if (executions == "auto") inc = format == "lobster";
          else if (executions != "yes" && executions != "no")
            throw Error("candles_from_trades: executions '" + executions +
                        "' (expected auto, yes or no)");
          d = candles_from_source(*src, interval_ns, inc);
          if (!out_csv.empty())
            write_candles_csv(out_csv, d.series.rows, interval_ns,
                              d.instrument.price_display_decimals(),
                              d.instrument.qty_display_decimals());
        }
        nb::dict r;
        r["source_format"] = format;
        r["candles"] = d.series.rows.size();
        r["prints"] = d.prints;
        r["reordered"] = d.reordered;
        r["tick_size"] = d.instrument.price_to_double(d.instrument.tick_size);
        r["lot_size"] = d.instrument.qty_to_double(d.instrument.lot_size);
        r["contract_multiplier"] = d.instrument.multiplier();
        r["symbol"] = d.instrument.symbol_str();
        r["first_open_ts_ns"] = d.series.rows.empty() ? 0 : d.series.rows.front().open_ts_ns;
        r["last_open_ts_ns"] = d.series.rows.empty() ? 0 : d.series.rows.back().open_ts_ns;
        return r;
      },
      "paths"_a, "interval_ns"_a, "executions"_a = "auto", "out_csv"_a = "",
      "instrument"_a = "", "publisher"_a = -1,
      "OHLCV candles of interval_ns from a tick file's trade prints (executions: 'auto' counts visible "
      "executions on LOBSTER, 'yes', 'no'); optionally written to out_csv in the Binance USD-M kline "
      "layout. Returns dict: source_format, candles, prints, reordered, tick_size, lot_size, "
      "contract_multiplier, symbol, first/last_open_ts_ns.");
}

}  // namespace mmkit::python
