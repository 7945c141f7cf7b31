#include "mmkit/data/candles.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "mmkit/core/decimal.h"
#include "mmkit/core/error.h"
#include "mmkit/core/time.h"
#include "mmkit/data/line_reader.h"

namespace mmkit::data {
namespace {

enum class Kind { kBybit, kFtx, kBinanceSpot, kBinanceUsdm };

constexpr std::string_view kOhlcvHeader = "timestamp,open,high,low,close,volume";
constexpr std::string_view kSpotHeader =
    "open_time,open,high,low,close,volume,close_time,quote_volume,trade_count,taker_buy_base,"
    "taker_buy_quote,ignore";
constexpr std::string_view kUsdmHeader =
    "timestamp,open,high,low,close,volume,quote_volume,trades,close_time";

constexpr std::int64_t kNsPerMs = 1'000'000;

struct Layout {
  const char* format;
  const char* volume_unit;
  std::size_t fields;
  const char* const* names;
};

constexpr const char* kOhlcvNames[] = {"timestamp", "open", "high", "low", "close", "volume"};
constexpr const char* kSpotNames[] = {"open_time",   "open",         "high",           "low",
                                      "close",       "volume",       "close_time",     "quote_volume",
                                      "trade_count", "taker_buy_base", "taker_buy_quote", "ignore"};
constexpr const char* kUsdmNames[] = {"timestamp", "open",   "high",  "low",       "close",
                                      "volume",    "quote_volume", "trades", "close_time"};

Layout layout(Kind k) {
  switch (k) {
    case Kind::kBybit: return {"bybit", "base", 6, kOhlcvNames};
    case Kind::kFtx: return {"ftx", "quote", 6, kOhlcvNames};
    case Kind::kBinanceSpot: return {"binance-spot", "base", 12, kSpotNames};
    case Kind::kBinanceUsdm: return {"binance-usdm", "base", 9, kUsdmNames};
  }
  return {"", "", 0, nullptr};
}

// An ISO time with an explicit offset ("...+00:00" or "...Z") after the date part.
bool has_utc_offset(std::string_view ts) {
  if (ts.size() <= 10) return false;
  const std::string_view time = ts.substr(10);
  return time.find('+') != std::string_view::npos || time.find('-') != std::string_view::npos ||
         time.back() == 'Z';
}

class RowParser {
 public:
  RowParser(const LineReader& lines, const char* const* names) : lines_(lines), names_(names) {}

  [[noreturn]] void fail(std::size_t col, const std::string& what) const {
    throw_at_line(lines_.name(), lines_.line_number(), names_[col], what);
  }
  double number(std::string_view s, std::size_t col) const {
    double v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty() || !std::isfinite(v)) {
      fail(col, "unparsable or non-finite number '" + std::string(s) + "'");
    }
    return v;
  }
  std::int64_t integer(std::string_view s, std::size_t col) const {
    std::int64_t v = 0;
    if (!parse_int(s, v)) fail(col, "unparsable integer '" + std::string(s) + "'");
    return v;
  }
  TimestampNs iso(std::string_view s, std::size_t col) const {
    TimestampNs t = 0;
    if (!parse_iso8601_ns(s, t)) fail(col, "unparsable ISO 8601 time '" + std::string(s) + "'");
    return t;
  }
  TimestampNs millis(std::string_view s, std::size_t col) const {
    const std::int64_t ms = integer(s, col);
    if (ms < 0 || ms > std::numeric_limits<std::int64_t>::max() / kNsPerMs) {
      fail(col, "time in ms out of range '" + std::string(s) + "'");
    }
    return ms * kNsPerMs;
  }

 private:
  const LineReader& lines_;
  const char* const* names_;
};

std::string known_headers() {
  return "'" + std::string(kOhlcvHeader) + "' (bybit: ISO times with offset; ftx: ISO times without), '" +
         std::string(kSpotHeader) + "' (binance-spot), '" + std::string(kUsdmHeader) + "' (binance-usdm)";
}

}  // namespace

CandleSeries read_candles(const std::string& path) {
  auto lines = LineReader::open(path);
  CandleSeries out;
  out.path = path;
  std::string_view line;
  if (!lines->next(line)) throw_at_line(lines->name(), 1, {}, "empty file: no header; known headers: " + known_headers());
  Kind kind;
  if (line == kOhlcvHeader) {
    kind = Kind::kBybit;  // refined on the first row
  } else if (line == kSpotHeader) {
    kind = Kind::kBinanceSpot;
  } else if (line == kUsdmHeader) {
    kind = Kind::kBinanceUsdm;
  } else {
    throw_at_line(lines->name(), 1, {},
                  "unknown candle header '" + std::string(line) + "'; known headers: " + known_headers());
  }
  const bool shared_header = kind == Kind::kBybit;
  std::vector<TimestampNs> close_times;
  std::string_view f[13];
  while (lines->next(line)) {
    if (shared_header && out.rows.empty()) {
      const std::size_t comma = line.find(',');
      kind = has_utc_offset(line.substr(0, comma)) ? Kind::kBybit : Kind::kFtx;
    }
    const Layout lay = layout(kind);
    const RowParser p(*lines, lay.names);
    const std::size_t n = split_fields(line, ',', f, 13);
    if (n != lay.fields) {
      throw_at_line(lines->name(), lines->line_number(), {},
                    "expected " + std::to_string(lay.fields) + " fields (" + lay.format + "), found " +
                        std::to_string(n));
    }
    Candle c;
    c.open_ts_ns = kind == Kind::kBinanceUsdm ? p.millis(f[0], 0) : p.iso(f[0], 0);
    c.open = p.number(f[1], 1);
    c.high = p.number(f[2], 2);
    c.low = p.number(f[3], 3);
    c.close = p.number(f[4], 4);
    c.volume = p.number(f[5], 5);
    c.quote_volume = std::numeric_limits<double>::quiet_NaN();
    if (kind == Kind::kBinanceSpot) {
      close_times.push_back(p.iso(f[6], 6));
      c.quote_volume = p.number(f[7], 7);
      c.trades = p.integer(f[8], 8);
      p.number(f[9], 9);
      p.number(f[10], 10);
      p.number(f[11], 11);
    } else if (kind == Kind::kBinanceUsdm) {
      c.quote_volume = p.number(f[6], 6);
      c.trades = p.integer(f[7], 7);
      close_times.push_back(p.millis(f[8], 8));
    }
    if (c.volume < 0) p.fail(5, "negative volume");
    if (c.quote_volume < 0) p.fail(kind == Kind::kBinanceSpot ? 7 : 6, "negative quote volume");
    if (kind == Kind::kBinanceSpot || kind == Kind::kBinanceUsdm) {
      if (c.trades < 0) p.fail(kind == Kind::kBinanceSpot ? 8 : 7, "negative trade count");
    }
    if (!(c.low <= c.high)) p.fail(3, "low " + std::string(f[3]) + " above high " + std::string(f[2]));
    if (!(c.low <= c.open && c.open <= c.high)) {
      p.fail(1, "open " + std::string(f[1]) + " outside [low, high] = [" + std::string(f[3]) + ", " +
                    std::string(f[2]) + "]");
    }
    if (!(c.low <= c.close && c.close <= c.high)) {
      p.fail(4, "close " + std::string(f[4]) + " outside [low, high] = [" + std::string(f[3]) + ", " +
                    std::string(f[2]) + "]");
    }
    if (!out.rows.empty() && c.open_ts_ns <= out.rows.back().open_ts_ns) {
      p.fail(0, "time " + std::string(f[0]) + " is not after the previous bar's");
    }
    out.rows.push_back(c);
  }
  const Layout lay = layout(kind);
  out.format = lay.format;
  out.volume_unit = lay.volume_unit;
  if (out.rows.size() < 2) return out;

  std::unordered_map<std::int64_t, std::size_t> freq;
  for (std::size_t i = 1; i < out.rows.size(); ++i) ++freq[out.rows[i].open_ts_ns - out.rows[i - 1].open_ts_ns];
  std::size_t best = 0;
  for (const auto& [d, k] : freq) {
    if (k > best || (k == best && d < out.interval_ns)) {
      best = k;
      out.interval_ns = d;
    }
  }
  std::uint64_t gaps = 0, missing = 0;
  for (std::size_t i = 1; i < out.rows.size(); ++i) {
    const std::int64_t d = out.rows[i].open_ts_ns - out.rows[i - 1].open_ts_ns;
    if (d % out.interval_ns != 0) {
      throw_at_line(lines->name(), i + 2, lay.names[0],
                    "bar time is off the interval grid: " + std::to_string(d) +
                        " ns after the previous bar, interval " + std::to_string(out.interval_ns) + " ns");
    }
    if (d > out.interval_ns) {
      ++gaps;
      missing += static_cast<std::uint64_t>(d / out.interval_ns - 1);
    }
  }
  if (gaps != 0) {
    out.tolerated.add("candles.gaps", gaps);
    out.tolerated.add("candles.missing_bars", missing);
  }
  std::uint64_t close_mismatch = 0;
  for (std::size_t i = 0; i < close_times.size(); ++i) {
    if (close_times[i] != out.rows[i].open_ts_ns + out.interval_ns - kNsPerMs) ++close_mismatch;
  }
  if (close_mismatch != 0) out.tolerated.add("candles.close_time_mismatch", close_mismatch);
  return out;
}

}  // namespace mmkit::data
