// nanobind bindings: the private extension module mmkit._core. The public API is the plain
// Python package `mmkit` (python/mmkit/); nothing here is meant to be imported directly.
// mmkit::Error becomes mmkit.Error (a ValueError) with the same text (file, line, what).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "mmkit/book/replay.h"
#include "mmkit/core/decimal.h"
#include "mmkit/core/error.h"
#include "mmkit/core/event.h"
#include "mmkit/data/candles.h"
#include "mmkit/data/event_file.h"
#include "mmkit/data/funding.h"
#include "mmkit/data/inspect.h"
#include "mmkit/data/source.h"
#include "numpy_column.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace mmkit::python {
void bind_backtest(nb::module_& m);
void bind_papers(nb::module_& m);
void bind_calibrate(nb::module_& m);
void bind_rl(nb::module_& m);
void bind_portfolio(nb::module_& m);
void bind_candles(nb::module_& m);
void bind_books(nb::module_& m);
void bind_strategy(nb::module_& m);
}

namespace {

using mmkit::python::column;

using mmkit::data::EventSource;
using mmkit::data::SourceOptions;

SourceOptions make_options(const std::string& instrument, std::int64_t publisher, std::int64_t tick) {
  SourceOptions o;
  o.instrument = instrument;
  o.publisher = publisher;
  o.tick_size = tick;
  return o;
}

nb::dict instrument_dict(const mmkit::InstrumentSpec& s) {
  nb::dict d;
  d["symbol"] = s.symbol_str();
  d["venue"] = s.venue_str();
  d["currency"] = s.currency_str();
  d["price_decimals"] = s.price_decimals;
  d["qty_decimals"] = s.qty_decimals;
  d["tick_size"] = s.tick_size;
  d["lot_size"] = s.lot_size;
  d["tick_size_decimal"] = mmkit::format_decimal(s.tick_size, s.price_decimals, s.price_display_decimals());
  d["lot_size_decimal"] = mmkit::format_decimal(s.lot_size, s.qty_decimals, s.qty_display_decimals());
  d["instrument_id"] = s.instrument_id;
  return d;
}

nb::dict counters_dict(const mmkit::data::Counters& c) {
  nb::dict d;
  for (const auto& [k, v] : c.items()) d[k.c_str()] = v;
  return d;
}

/// Events as a (n, 64) uint8 array owned by Python; python/mmkit/events.py views it with the
/// structured dtype EVENT_DTYPE.
nb::ndarray<nb::numpy, std::uint8_t, nb::ndim<2>> events_array(std::vector<mmkit::Event>&& events) {
  auto* owned = new std::vector<mmkit::Event>(std::move(events));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<mmkit::Event>*>(p); });
  const std::size_t shape[2] = {owned->size(), sizeof(mmkit::Event)};
  return nb::ndarray<nb::numpy, std::uint8_t, nb::ndim<2>>(
      reinterpret_cast<std::uint8_t*>(owned->data()), 2, shape, owner);
}

struct PySource {
  std::unique_ptr<EventSource> src;
};

nb::dict summary_dict(const mmkit::data::StreamSummary& s) {
  nb::dict d;
  d["instrument"] = instrument_dict(s.instrument);
  d["format"] = s.format;
  d["book_level"] = s.book_level == mmkit::data::BookLevel::kL3 ? "L3" : "L2";
  d["events"] = s.events;
  d["records"] = s.records;
  d["first_exch_ts_ns"] = s.first_exch_ts_ns;
  d["last_exch_ts_ns"] = s.last_exch_ts_ns;
  d["first_local_ts_ns"] = s.first_local_ts_ns;
  d["last_local_ts_ns"] = s.last_local_ts_ns;
  nb::dict kinds;
  for (int k = 1; k < mmkit::kEventKindCount; ++k) {
    kinds[mmkit::to_string(static_cast<mmkit::EventKind>(k))] = s.kind_counts[static_cast<std::size_t>(k)];
  }
  d["kinds"] = kinds;
  d["snapshot_events"] = s.snapshot_events;
  d["seed_events"] = s.seed_events;
  d["complete_points"] = s.complete_points;
  d["bad_ts_events"] = s.bad_ts_events;
  d["tolerated"] = counters_dict(s.tolerated);
  return d;
}

nb::dict replay_dict(const mmkit::book::ReplaySummary& r, const mmkit::InstrumentSpec& spec) {
  nb::dict d;
  d["events"] = r.events;
  d["records"] = r.records;
  d["rows"] = r.rows;
  d["complete_points"] = r.complete_points;
  d["crossed_in_auction"] = r.crossed_in_auction;
  d["anonymous_reductions"] = r.book_stats.anonymous_reductions;
  d["tolerated"] = counters_dict(r.tolerated);
  d["final_bid_depth"] = r.final_bid_depth;
  d["final_ask_depth"] = r.final_ask_depth;
  auto px = [&](const mmkit::book::Level& l) -> nb::object {
    if (l.price == mmkit::kNoPrice) return nb::none();
    return nb::str(mmkit::format_decimal(l.price, spec.price_decimals, spec.price_display_decimals()).c_str());
  };
  auto qty = [&](const mmkit::book::Level& l) -> nb::object {
    if (l.price == mmkit::kNoPrice) return nb::none();
    return nb::str(mmkit::format_decimal(l.qty, spec.qty_decimals, spec.qty_display_decimals()).c_str());
  };
  d["final_best_bid"] = px(r.final_best_bid);
  d["final_best_bid_qty"] = qty(r.final_best_bid);
  d["final_best_ask"] = px(r.final_best_ask);
  d["final_best_ask_qty"] = qty(r.final_best_ask);
  return d;
}

mmkit::book::BookImpl parse_impl(const std::string& impl) {
  if (impl == "auto" || impl == "fast") return impl == "auto" ? mmkit::book::BookImpl::kAuto : mmkit::book::BookImpl::kFast;
  if (impl == "naive") return mmkit::book::BookImpl::kNaive;
  throw mmkit::Error("unknown book implementation '" + impl + "' (expected auto, fast or naive)");
}

}  // namespace

NB_MODULE(_core, m) {
  m.doc() = "mmkit C++ core (private; use the mmkit package)";
  nb::exception<mmkit::Error>(m, "Error", PyExc_ValueError);
  m.attr("Error").attr("__doc__") =
      "Bad input or configuration (a ValueError; C++ mmkit::Error). The message names where (file,\n"
      "1-based line or byte offset, field or setting) and what is wrong.";
  mmkit::python::bind_backtest(m);
  mmkit::python::bind_papers(m);
  mmkit::python::bind_calibrate(m);
  mmkit::python::bind_rl(m);
  mmkit::python::bind_portfolio(m);
  mmkit::python::bind_candles(m);
  mmkit::python::bind_books(m);
  mmkit::python::bind_strategy(m);

  m.attr("EVENT_SIZE") = sizeof(mmkit::Event);
  nb::dict kinds;
  for (int k = 0; k < mmkit::kEventKindCount; ++k) kinds[mmkit::to_string(static_cast<mmkit::EventKind>(k))] = k;
  m.attr("EVENT_KINDS") = kinds;

  nb::class_<PySource>(m, "EventSource",
                       "A stream of market events in source order (C++ mmkit::data::EventSource), from open_source().\n"
                       "\n"
                       "Pull events with read(); not thread-safe. Malformed input raises mmkit.Error naming the file, the\n"
                       "line or byte offset and the field; what the reader tolerates instead is counted in `tolerated`,\n"
                       "never skipped silently.")
      .def_prop_ro("instrument", [](const PySource& s) { return instrument_dict(s.src->instrument()); },
                   nb::sig("def instrument(self) -> dict[str, str | int]"),
                   "The stream's instrument: symbol, venue, currency (str); price_decimals, qty_decimals (int: decimal\n"
                   "= raw × 10^-decimals); tick_size, lot_size (int, raw units); tick_size_decimal, lot_size_decimal\n"
                   "(str, decimal); instrument_id (int, 0 if the venue has none).")
      .def_prop_ro("format", [](const PySource& s) { return s.src->format(); },
                   "Short format name: 'lobster', 'binance-usdm', 'binance-spot', 'databento-mbo'; 'mmk:<original\n"
                   "format>' for an mmkit event file.")
      .def_prop_ro("book_level", [](const PySource& s) {
        return s.src->book_level() == mmkit::data::BookLevel::kL3 ? "L3" : "L2";
      }, nb::sig("def book_level(self) -> str"), "'L3' (order-by-order events) or 'L2' (price-level events).")
      .def_prop_ro("records", [](const PySource& s) { return s.src->records(); },
                   "Source records (lines, MBO records) consumed so far, counting records that produced no event; the\n"
                   "total after the end. An event's `record` field is its 0-based record index.")
      .def_prop_ro("tolerated", [](const PySource& s) { return counters_dict(s.src->tolerated()); },
                   nb::sig("def tolerated(self) -> dict[str, int]"),
                   "What the reader tolerated (and counted) so far instead of failing: counter name -> count, e.g.\n"
                   "{'lobster.seeded_levels': 10}, in first-seen order.")
      .def("locate", [](const PySource& s, std::uint64_t record) { return s.src->locate(record); },
           nb::sig("def locate(self, record: int, /) -> str"),
           "Human location of the 0-based source record `record` (an event's `record` field) for messages,\n"
           "e.g. 'btcusdt_20240808.gz:55' (file and 1-based line).")
      .def(
          "read",
          [](PySource& s, std::size_t max_events) {
            std::vector<mmkit::Event> out(max_events == 0 ? 1 : max_events);
            std::size_t n = 0;
            {
              nb::gil_scoped_release release;
              while (n < out.size()) {
                const std::size_t got = s.src->read(out.data() + n, out.size() - n);
                if (got == 0) break;
                n += got;
              }
            }
            out.resize(n);
            return events_array(std::move(out));
          },
          "max_events"_a,
          "Reads the next events in C++ (GIL released): up to `max_events` (0 counts as 1), fewer only at the\n"
          "end of the stream, 0 once it is exhausted.\n"
          "\n"
          "Returns a (k, 64) uint8 NumPy array that owns the C++ buffer (no copy), one row per event in the\n"
          "layout of mmkit.EVENT_DTYPE: `arr.view(mmkit.EVENT_DTYPE).reshape(-1)`. Prices and quantities are\n"
          "raw int64 units, timestamps int64 ns since the Unix epoch (UTC).\n"
          "Raises mmkit.Error on malformed input (file, line or byte offset, field).");

  m.def(
      "open_source",
      [](const std::vector<std::string>& paths, const std::string& instrument, std::int64_t publisher,
         std::int64_t tick) {
        return std::make_unique<PySource>(PySource{mmkit::data::open_source(paths, make_options(instrument, publisher, tick))});
      },
      "paths"_a, "instrument"_a = "", "publisher"_a = -1, "tick_size"_a = 0,
      "Opens `paths`, read in order as one stream, with the reader their content and names call for: an\n"
      "mmkit event file (.mmk), LOBSTER (.zip, or *_message_N.csv beside its *_orderbook_N.csv), a\n"
      "Binance capture ('<ns> <json>' lines, gzip or plain), a Databento MBO CSV dump or DBN file\n"
      "(docs/formats.md).\n"
      "\n"
      "instrument: symbol to select (Databento; '' = the only or first one). publisher: Databento\n"
      "publisher id (-1 = the reader's default). tick_size: raw tick override (0 = from the format or\n"
      "inferred).\n"
      "Returns an EventSource positioned at the first event. Raises mmkit.Error naming the file when the\n"
      "format is not recognized, the files do not belong together or the header is malformed.");

  m.def(
      "summarize",
      [](const std::vector<std::string>& paths, const std::string& instrument, std::int64_t publisher,
         std::int64_t tick) {
        mmkit::data::StreamSummary s;
        {
          nb::gil_scoped_release release;
          auto src = mmkit::data::open_source(paths, make_options(instrument, publisher, tick));
          s = mmkit::data::summarize(*src);
        }
        return summary_dict(s);
      },
      "paths"_a, "instrument"_a = "", "publisher"_a = -1, "tick_size"_a = 0,
      nb::sig("def summarize(paths: Sequence[str], instrument: str = '', publisher: int = -1, tick_size: int = 0) "
              "-> dict[str, typing.Any]"),
      "Reads the stream (arguments as open_source) to the end in C++ and summarizes it (mmkit.inspect).\n"
      "\n"
      "Returns a dict: instrument (dict, as EventSource.instrument), format (str), book_level ('L2' /\n"
      "'L3'), events, records (int), first_exch_ts_ns, last_exch_ts_ns, first_local_ts_ns,\n"
      "last_local_ts_ns (int ns since the Unix epoch, min / max over events; INT64_MIN when absent),\n"
      "kinds (dict event kind name -> count), snapshot_events, seed_events, complete_points,\n"
      "bad_ts_events (int: events flagged snapshot, seed, complete, bad_ts), tolerated (dict counter ->\n"
      "count).\n"
      "Raises mmkit.Error on malformed input.");

  m.def(
      "write_book_csv",
      [](const std::vector<std::string>& paths, const std::string& out_path, std::size_t depth,
         std::uint64_t every, const std::string& impl, const std::string& instrument,
         std::int64_t publisher, std::int64_t tick) {
        mmkit::book::ReplaySummary r;
        mmkit::InstrumentSpec spec;
        {
          nb::gil_scoped_release release;
          auto src = mmkit::data::open_source(paths, make_options(instrument, publisher, tick));
          spec = src->instrument();
          std::FILE* f = out_path == "-" ? stdout : std::fopen(out_path.c_str(), "wb");
          if (f == nullptr) throw mmkit::Error(mmkit::SourceLocation{out_path}, "cannot open for writing");
          try {
            mmkit::book::BookCsvOptions o;
            o.depth = depth;
            o.every = every;
            o.impl = parse_impl(impl);
            r = mmkit::book::write_book_csv(*src, f, o);
          } catch (...) {
            if (f != stdout) std::fclose(f);
            throw;
          }
          if (f != stdout && std::fclose(f) != 0) {
            throw mmkit::Error(mmkit::SourceLocation{out_path}, "write failed");
          }
          if (f == stdout) std::fflush(stdout);
        }
        return replay_dict(r, spec);
      },
      "paths"_a, "out"_a, "depth"_a = 10, "every"_a = 1, "impl"_a = "auto", "instrument"_a = "",
      "publisher"_a = -1, "tick_size"_a = 0,
      nb::sig("def write_book_csv(paths: Sequence[str], out: str, depth: int = 10, every: int = 1, impl: str = 'auto', "
              "instrument: str = '', publisher: int = -1, tick_size: int = 0) -> dict[str, typing.Any]"),
      "Replays the stream (arguments as open_source) into a validated book and writes it as CSV to `out`\n"
      "('-' = stdout) after every `every`-th source record, so with every == 1 data row i is record i\n"
      "(mmkit.book_csv).\n"
      "\n"
      "Header: exch_ts_ns,seq, then per level i = 1..depth bid_px_i,bid_qty_i,ask_px_i,ask_qty_i; prices\n"
      "and quantities are decimals in the instrument's units, empty levels blank. impl: 'auto' (= 'fast':\n"
      "L3Book for L3 streams, L2Book for L2) or 'naive' (the reference books).\n"
      "Returns the replay summary (see replay). Raises mmkit.Error naming the source record when a book\n"
      "rejects an event or is crossed after a complete update (outside a pre-open auction), on malformed\n"
      "input, an unknown impl, or when `out` cannot be written.");

  m.def(
      "replay",
      [](const std::vector<std::string>& paths, const std::string& impl, const std::string& instrument,
         std::int64_t publisher, std::int64_t tick) {
        mmkit::book::ReplaySummary r;
        mmkit::InstrumentSpec spec;
        {
          nb::gil_scoped_release release;
          auto src = mmkit::data::open_source(paths, make_options(instrument, publisher, tick));
          spec = src->instrument();
          r = mmkit::book::replay(*src, parse_impl(impl));
        }
        return replay_dict(r, spec);
      },
      "paths"_a, "impl"_a = "auto", "instrument"_a = "", "publisher"_a = -1, "tick_size"_a = 0,
      nb::sig("def replay(paths: Sequence[str], impl: str = 'auto', instrument: str = '', publisher: int = -1, "
              "tick_size: int = 0) -> dict[str, typing.Any]"),
      "Replays the whole stream (arguments as open_source) into a fresh, validated book without output\n"
      "(mmkit.replay); impl as in write_book_csv.\n"
      "\n"
      "Returns a dict: events (applied), records (consumed), rows (CSV rows, 0 here), complete_points\n"
      "(complete updates checked for crossing), crossed_in_auction, anonymous_reductions (int), tolerated\n"
      "(dict counter -> count), final_bid_depth, final_ask_depth (levels), final_best_bid,\n"
      "final_best_bid_qty, final_best_ask, final_best_ask_qty (decimal str, None when the side is empty).\n"
      "Raises mmkit.Error naming the source record when the book rejects an event or is crossed after a\n"
      "complete update (outside a pre-open auction), and on malformed input or an unknown impl.");

  m.def(
      "time_replay",
      [](const std::vector<std::string>& paths, int repeats, const std::string& impl,
         const std::string& instrument, std::int64_t publisher, std::int64_t tick) {
        mmkit::book::ReplayTiming t;
        {
          nb::gil_scoped_release release;
          const SourceOptions o = make_options(instrument, publisher, tick);
          t = mmkit::book::time_replay([&] { return mmkit::data::open_source(paths, o); }, repeats,
                                       parse_impl(impl));
        }
        nb::dict d;
        d["events"] = t.events;
        d["records"] = t.records;
        d["seconds"] = t.seconds;
        return d;
      },
      "paths"_a, "repeats"_a = 5, "impl"_a = "auto", "instrument"_a = "", "publisher"_a = -1,
      "tick_size"_a = 0,
      nb::sig("def time_replay(paths: Sequence[str], repeats: int = 5, impl: str = 'auto', instrument: str = '', "
              "publisher: int = -1, tick_size: int = 0) -> dict[str, typing.Any]"),
      "Benchmark: `repeats` full replays (open + read + book apply + validation, one thread, GIL\n"
      "released), each on a freshly opened source; the clock is read once per repetition (mmkit bench\n"
      "replay).\n"
      "\n"
      "Returns {'events': int, 'records': int, 'seconds': list[float]} (wall-clock seconds per\n"
      "repetition). Raises mmkit.Error as replay does.");

  m.def(
      "read_candles",
      [](const std::string& path) {
        mmkit::data::CandleSeries c;
        {
          nb::gil_scoped_release release;
          c = mmkit::data::read_candles(path);
        }
        const std::size_t n = c.rows.size();
        std::vector<std::int64_t> ts(n), trades(n);
        std::vector<double> o(n), h(n), l(n), cl(n), v(n), qv(n);
        for (std::size_t i = 0; i < n; ++i) {
          const auto& r = c.rows[i];
          ts[i] = r.open_ts_ns;
          o[i] = r.open;
          h[i] = r.high;
          l[i] = r.low;
          cl[i] = r.close;
          v[i] = r.volume;
          qv[i] = r.quote_volume;
          trades[i] = r.trades;
        }
        nb::dict cols;
        cols["open_ts_ns"] = column(std::move(ts));
        cols["open"] = column(std::move(o));
        cols["high"] = column(std::move(h));
        cols["low"] = column(std::move(l));
        cols["close"] = column(std::move(cl));
        cols["volume"] = column(std::move(v));
        cols["quote_volume"] = column(std::move(qv));
        cols["trades"] = column(std::move(trades));
        nb::dict d;
        d["columns"] = cols;
        d["path"] = c.path;
        d["format"] = c.format;
        d["volume_unit"] = c.volume_unit;
        d["interval_ns"] = c.interval_ns;
        d["tolerated"] = counters_dict(c.tolerated);
        return d;
      },
      "path"_a, nb::sig("def read_candles(path: str) -> dict[str, typing.Any]"),
      "Reads an OHLCV candle CSV, plain or gzip (Bybit, Binance spot kline, Binance USD-M, FTX;\n"
      "recognized by the header), for mmkit.read_candles.\n"
      "\n"
      "Returns a dict: columns (dict of equal-length 1-D NumPy arrays, one row per bar in time order:\n"
      "open_ts_ns int64 ns since the Unix epoch (UTC); open, high, low, close float64 (quote currency);\n"
      "volume float64 (unit in volume_unit); quote_volume float64 (NaN when absent); trades int64 (-1\n"
      "when absent)), path, format ('bybit', 'ftx', 'binance-spot', 'binance-usdm'), volume_unit ('base'\n"
      "or 'quote') (str), interval_ns (int, the most common bar spacing; 0 with fewer than 2 rows),\n"
      "tolerated (dict: 'candles.gaps', 'candles.missing_bars', 'candles.close_time_mismatch').\n"
      "Raises mmkit.Error (file:line, field) on an unknown header, a wrong field count, an unparsable or\n"
      "non-finite number, negative volume, OHLC inconsistency, or a timestamp not after the previous one\n"
      "or off the interval grid; gaps are counted, not fatal.");

  m.def(
      "read_funding",
      [](const std::string& path) {
        mmkit::data::FundingSeries f;
        {
          nb::gil_scoped_release release;
          f = mmkit::data::read_funding(path);
        }
        std::vector<std::int64_t> ts(f.rows.size());
        std::vector<double> rate(f.rows.size());
        for (std::size_t i = 0; i < f.rows.size(); ++i) {
          ts[i] = f.rows[i].ts_ns;
          rate[i] = f.rows[i].rate;
        }
        nb::dict cols;
        cols["ts_ns"] = column(std::move(ts));
        cols["rate"] = column(std::move(rate));
        nb::dict d;
        d["columns"] = cols;
        d["path"] = f.path;
        d["symbol"] = f.symbol;
        d["format"] = f.format;
        d["tolerated"] = counters_dict(f.tolerated);
        return d;
      },
      "path"_a, nb::sig("def read_funding(path: str) -> dict[str, typing.Any]"),
      "Reads a funding-rate history (Binance CSV, plain or gzip, or freqtrade JSON), for\n"
      "mmkit.read_funding.\n"
      "\n"
      "Returns a dict: columns (dict of 1-D NumPy arrays in time order: ts_ns int64 ns since the Unix\n"
      "epoch (UTC) of the funding time; rate float64, fraction per funding interval, 0.0001 = 0.01 %, >\n"
      "0: longs pay shorts), path, symbol, format ('binance-csv' or 'freqtrade-json') (str), tolerated\n"
      "(dict).\n"
      "Raises mmkit.Error naming the file and line (CSV) or row index (JSON) and the field on an unknown\n"
      "header or JSON shape, a wrong field count, an unparsable or non-finite number, a symbol differing\n"
      "from the first row's, or timestamps not strictly increasing.");

  m.def("is_event_file", &mmkit::data::is_event_file, "path"_a,
        "True if the file at `path` starts with the mmkit event file magic (its first four bytes;\n"
        "docs/event_file.md), False otherwise, also for a missing or unreadable file.");

  m.def(
      "convert",
      [](const std::vector<std::string>& paths, const std::string& out, bool compress, int level,
         std::size_t block_events, const std::string& instrument, std::int64_t publisher,
         std::int64_t tick) {
        mmkit::data::EventFileSummary r;
        {
          nb::gil_scoped_release release;
          auto src = mmkit::data::open_source(paths, make_options(instrument, publisher, tick));
          mmkit::data::EventFileOptions o;
          o.compress = compress;
          o.zstd_level = level;
          o.block_events = block_events;
          r = mmkit::data::write_event_file(*src, out, o);
        }
        nb::dict d;
        d["events"] = r.event_count;
        d["records"] = r.record_count;
        d["blocks"] = r.block_count;
        d["payload_bytes"] = r.payload_size;
        d["file_bytes"] = r.file_size;
        d["source_format"] = r.source_format;
        return d;
      },
      "paths"_a, "out"_a, "compress"_a = false, "level"_a = 3, "block_events"_a = 65536,
      "instrument"_a = "", "publisher"_a = -1, "tick_size"_a = 0,
      nb::sig("def convert(paths: Sequence[str], out: str, compress: bool = False, level: int = 3, "
              "block_events: int = 65536, instrument: str = '', publisher: int = -1, tick_size: int = 0) "
              "-> dict[str, int | str]"),
      "Reads the stream (arguments as open_source) to its end and writes it as an mmkit event file at\n"
      "`out` (docs/event_file.md; mmkit.convert): the plain, memory-mappable event array, or with\n"
      "`compress` zstd blocks of `block_events` events (1 .. 2^24) at zstd `level`. Bounded memory;\n"
      "written to a temporary file renamed over `out` only when complete.\n"
      "\n"
      "Returns a dict: events, records, blocks (0 when plain), payload_bytes, file_bytes (int),\n"
      "source_format (str).\n"
      "Raises mmkit.Error naming the file on malformed input, invalid options or an I/O error (no partial\n"
      "output is left).");

  m.def("verify_event_file", &mmkit::data::verify_event_file, "path"_a,
        "Full check of an event file: header, block index and locate table, payload checksum, every block\n"
        "decompressed, every event's record and kind, the exch_ts range and padding. Returns '' when the\n"
        "file is sound, else the first problem as '<path> @ byte N: what'; never raises for a bad file.");

  m.def(
      "map_event_file",
      [](const std::string& path) {
        auto* reader = new mmkit::data::EventFileReader(path);
        nb::capsule owner(reader, [](void* p) noexcept { delete static_cast<mmkit::data::EventFileReader*>(p); });
        // Throws mmkit::Error for a compressed file; `owner` then deletes the reader (once).
        const std::span<const mmkit::Event> ev = reader->events();
        const std::size_t shape[2] = {ev.size(), sizeof(mmkit::Event)};
        return nb::ndarray<nb::numpy, const std::uint8_t, nb::ndim<2>>(
            reinterpret_cast<const std::uint8_t*>(ev.data()), 2, shape, owner);
      },
      "path"_a,
      "Zero-copy (n, 64) read-only uint8 view of a plain (uncompressed) event file's events,\n"
      "memory-mapped; the mapping lives as long as the array. View it with mmkit.EVENT_DTYPE.\n"
      "Raises mmkit.Error naming the file when it is not a sound event file or is compressed.");

  m.def(
      "check_venue_bbo",
      [](const std::vector<std::string>& paths, const std::string& impl, const std::string& instrument,
         std::int64_t publisher, std::int64_t tick) {
        mmkit::book::BboCheck c;
        mmkit::InstrumentSpec spec;
        {
          nb::gil_scoped_release release;
          auto src = mmkit::data::open_source(paths, make_options(instrument, publisher, tick));
          spec = src->instrument();
          c = mmkit::book::check_venue_bbo(*src, parse_impl(impl));
        }
        nb::dict d = replay_dict(c.replay, spec);
        d["bbo_points"] = c.points;
        d["bbo_mismatches"] = c.mismatches;
        d["first_mismatch"] = c.first_mismatch;
        return d;
      },
      "paths"_a, "impl"_a = "auto", "instrument"_a = "", "publisher"_a = -1, "tick_size"_a = 0,
      nb::sig("def check_venue_bbo(paths: Sequence[str], impl: str = 'auto', instrument: str = '', "
              "publisher: int = -1, tick_size: int = 0) -> dict[str, typing.Any]"),
      "Replays the stream (as replay) and compares the book with the venue's own top of book wherever the\n"
      "venue publishes one aligned with a depth update (Binance USD-M bookTicker with the same `u`): best\n"
      "bid and ask price and quantity (mmkit.verify).\n"
      "\n"
      "Returns replay's dict plus bbo_points (int, points compared), bbo_mismatches (int, expected 0) and\n"
      "first_mismatch (str: the source location and values of the first mismatch, '' if none). Raises\n"
      "mmkit.Error as replay does.");
}
