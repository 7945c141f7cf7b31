#include "mmkit/data/funding.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "mmkit/core/decimal.h"
#include "mmkit/core/error.h"
#include "mmkit/data/line_reader.h"

namespace mmkit::data {
namespace {

constexpr std::string_view kCsvHeader = "timestamp,symbol,funding_rate";
constexpr std::int64_t kNsPerMs = 1'000'000;

bool ms_to_ns(std::int64_t ms, TimestampNs& out) {
  if (ms < 0 || ms > std::numeric_limits<std::int64_t>::max() / kNsPerMs) return false;
  out = ms * kNsPerMs;
  return true;
}

FundingSeries read_csv(const std::string& path) {
  auto lines = LineReader::open(path);
  FundingSeries out;
  out.path = path;
  out.format = "binance-csv";
  std::string_view line;
  if (!lines->next(line) || line != kCsvHeader) {
    throw_at_line(lines->name(), 1, {},
                  "unknown funding header '" + std::string(line) + "'; expected '" + std::string(kCsvHeader) +
                      "' or a freqtrade JSON array");
  }
  std::string_view f[4];
  while (lines->next(line)) {
    const auto fail = [&](std::string_view field, const std::string& what) {
      throw_at_line(lines->name(), lines->line_number(), field, what);
    };
    const std::size_t n = split_fields(line, ',', f, 4);
    if (n != 3) fail({}, "expected 3 fields, found " + std::to_string(n));
    std::int64_t ms = 0;
    FundingRate r;
    if (!parse_int(f[0], ms) || !ms_to_ns(ms, r.ts_ns)) {
      fail("timestamp", "unparsable time in ms '" + std::string(f[0]) + "'");
    }
    if (f[1].empty()) fail("symbol", "empty symbol");
    if (out.rows.empty()) {
      out.symbol = std::string(f[1]);
    } else if (f[1] != out.symbol) {
      fail("symbol", "symbol '" + std::string(f[1]) + "' differs from the file's '" + out.symbol + "'");
    }
    const auto [p, ec] = std::from_chars(f[2].data(), f[2].data() + f[2].size(), r.rate);
    if (f[2].empty() || ec != std::errc() || p != f[2].data() + f[2].size() || !std::isfinite(r.rate)) {
      fail("funding_rate", "unparsable or non-finite number '" + std::string(f[2]) + "'");
    }
    if (!out.rows.empty() && r.ts_ns <= out.rows.back().ts_ns) {
      fail("timestamp", "time " + std::string(f[0]) + " is not after the previous row's");
    }
    out.rows.push_back(r);
  }
  return out;
}

// "BTC_USDT_USDT-8h-funding_rate.json" -> "BTC/USDT:USDT"; "BTC_USDT-..." -> "BTC/USDT".
std::string freqtrade_pair(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  std::string name = path.substr(slash == std::string::npos ? 0 : slash + 1);
  name = name.substr(0, name.find('-'));
  const std::size_t a = name.find('_');
  if (a == std::string::npos) return name;
  const std::size_t b = name.find('_', a + 1);
  if (b == std::string::npos) return name.substr(0, a) + "/" + name.substr(a + 1);
  return name.substr(0, a) + "/" + name.substr(a + 1, b - a - 1) + ":" + name.substr(b + 1);
}

FundingSeries read_json(const std::string& path) {
  FundingSeries out;
  out.path = path;
  out.format = "freqtrade-json";
  out.symbol = freqtrade_pair(path);
  simdjson::padded_string json;
  if (const auto err = simdjson::padded_string::load(path).get(json); err) {
    throw Error(SourceLocation{path}, std::string("cannot read: ") + simdjson::error_message(err));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (const auto err = parser.parse(json).get(root); err) {
    throw Error(SourceLocation{path}, std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  simdjson::dom::array rows;
  if (root.get_array().get(rows)) {
    throw Error(SourceLocation{path}, "expected a freqtrade funding JSON array [[ts_ms, rate, 0, 0, 0, 0], ...]");
  }
  std::size_t i = 0;
  for (simdjson::dom::element row : rows) {
    const auto fail = [&](int slot, const std::string& what) {
      SourceLocation loc{path};
      loc.field = "[" + std::to_string(i) + "]" + (slot >= 0 ? "[" + std::to_string(slot) + "]" : "");
      throw Error(std::move(loc), what);
    };
    simdjson::dom::array cells;
    if (row.get_array().get(cells)) fail(-1, "row is not an array");
    if (cells.size() != 6) fail(-1, "expected 6 values [ts_ms, rate, 0, 0, 0, 0], found " + std::to_string(cells.size()));
    FundingRate r;
    int slot = 0;
    for (simdjson::dom::element cell : cells) {
      if (slot == 0) {
        std::int64_t ms = 0;
        double d = 0;
        if (cell.get_int64().get(ms) != simdjson::SUCCESS) {
          if (cell.get_double().get(d) != simdjson::SUCCESS || d != std::floor(d) || std::fabs(d) > 9e15) {
            fail(0, "time is not an integer number of ms");
          }
          ms = static_cast<std::int64_t>(d);
        }
        if (!ms_to_ns(ms, r.ts_ns)) fail(0, "time in ms out of range");
      } else {
        double v = 0;
        if (cell.get_double().get(v) != simdjson::SUCCESS || !std::isfinite(v)) fail(slot, "not a finite number");
        if (slot == 1) r.rate = v;
      }
      ++slot;
    }
    if (!out.rows.empty() && r.ts_ns <= out.rows.back().ts_ns) fail(0, "time is not after the previous row's");
    out.rows.push_back(r);
    ++i;
  }
  return out;
}

bool starts_with_json_array(const std::string& path) {
  auto lines = LineReader::open(path);
  std::string_view first;
  if (!lines->next(first)) return false;
  const std::size_t k = first.find_first_not_of(" \t");
  return k != std::string_view::npos && first[k] == '[';
}

}  // namespace

FundingSeries read_funding(const std::string& path) {
  return starts_with_json_array(path) ? read_json(path) : read_csv(path);
}

}  // namespace mmkit::data
