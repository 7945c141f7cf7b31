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

namespace nb = nanobind;
using namespace nb::literals;

namespace mmkit::python {
void bind_backtest(nb::module_& m);
void bind_papers(nb::module_& m);
void bind_calibrate(nb::module_& m);
}

namespace {

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

template <class T>
nb::ndarray<nb::numpy, T, nb::ndim<1>> column(std::vector<T>&& v) {
  auto* owned = new std::vector<T>(std::move(v));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  const std::size_t shape[1] = {owned->size()};
  return nb::ndarray<nb::numpy, T, nb::ndim<1>>(owned->data(), 1, shape, owner);
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
  mmkit::python::bind_backtest(m);
  mmkit::python::bind_papers(m);
  mmkit::python::bind_calibrate(m);

  m.attr("EVENT_SIZE") = sizeof(mmkit::Event);
  nb::dict kinds;
  for (int k = 0; k < mmkit::kEventKindCount; ++k) kinds[mmkit::to_string(static_cast<mmkit::EventKind>(k))] = k;
  m.attr("EVENT_KINDS") = kinds;

  nb::class_<PySource>(m, "EventSource")
      .def_prop_ro("instrument", [](const PySource& s) { return instrument_dict(s.src->instrument()); })
      .def_prop_ro("format", [](const PySource& s) { return s.src->format(); })
      .def_prop_ro("book_level", [](const PySource& s) {
        return s.src->book_level() == mmkit::data::BookLevel::kL3 ? "L3" : "L2";
      })
      .def_prop_ro("records", [](const PySource& s) { return s.src->records(); })
      .def_prop_ro("tolerated", [](const PySource& s) { return counters_dict(s.src->tolerated()); })
      .def("locate", [](const PySource& s, std::uint64_t record) { return s.src->locate(record); })
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
          "max_events"_a);

  m.def(
      "open_source",
      [](const std::vector<std::string>& paths, const std::string& instrument, std::int64_t publisher,
         std::int64_t tick) {
        return std::make_unique<PySource>(PySource{mmkit::data::open_source(paths, make_options(instrument, publisher, tick))});
      },
      "paths"_a, "instrument"_a = "", "publisher"_a = -1, "tick_size"_a = 0);

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
      "paths"_a, "instrument"_a = "", "publisher"_a = -1, "tick_size"_a = 0);

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
      "publisher"_a = -1, "tick_size"_a = 0);

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
      "paths"_a, "impl"_a = "auto", "instrument"_a = "", "publisher"_a = -1, "tick_size"_a = 0);

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
      "tick_size"_a = 0);

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
      "path"_a);

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
      "path"_a);

  m.def("is_event_file", &mmkit::data::is_event_file, "path"_a);

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
      "instrument"_a = "", "publisher"_a = -1, "tick_size"_a = 0);

  m.def("verify_event_file", &mmkit::data::verify_event_file, "path"_a);

  m.def(
      "map_event_file",
      [](const std::string& path) {
        auto* reader = new mmkit::data::EventFileReader(path);
        nb::capsule owner(reader, [](void* p) noexcept { delete static_cast<mmkit::data::EventFileReader*>(p); });
        std::span<const mmkit::Event> ev;
        try {
          ev = reader->events();
        } catch (...) {
          delete reader;
          throw;
        }
        const std::size_t shape[2] = {ev.size(), sizeof(mmkit::Event)};
        return nb::ndarray<nb::numpy, const std::uint8_t, nb::ndim<2>>(
            reinterpret_cast<const std::uint8_t*>(ev.data()), 2, shape, owner);
      },
      "path"_a, "Zero-copy (n, 64) read-only view of a plain event file's events.");

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
      "paths"_a, "impl"_a = "auto", "instrument"_a = "", "publisher"_a = -1, "tick_size"_a = 0);
}
