// OHLCV candle files (1-minute / 1-hour bars) for models and signals. Doubles are used here:
// candles feed models, never the book.
//
// Formats, recognized by the header line (and, where two share a header, by the first row's
// timestamp style):
//  - "bybit":        timestamp,open,high,low,close,volume
//                    timestamp ISO 8601 with an explicit UTC offset ("2025-05-29 19:00:00+00:00");
//                    volume in the base coin (Bybit linear kline "volume", e.g. BTC).
//  - "ftx":          timestamp,open,high,low,close,volume
//                    timestamp ISO 8601 without offset, UTC ("2021-12-31 23:01:00.000000");
//                    volume is USD notional (FTX /markets/{name}/candles "volume").
//  - "binance-spot": open_time,open,high,low,close,volume,close_time,quote_volume,trade_count,
//                    taker_buy_base,taker_buy_quote,ignore
//                    times ISO 8601 with offset; volume in the base asset, quote_volume in the
//                    quote asset (Binance GET /api/v3/klines).
//  - "binance-usdm": timestamp,open,high,low,close,volume,quote_volume,trades,close_time
//                    times in ms since epoch; volume base asset, quote_volume quote asset
//                    (Binance GET /fapi/v1/klines).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mmkit/core/types.h"
#include "mmkit/data/source.h"

namespace mmkit::data {

/// One bar. Prices in the quote currency; quote_volume NaN and trades -1 where the format lacks
/// them; volume's unit is CandleSeries::volume_unit.
struct Candle {
  TimestampNs open_ts_ns = 0;  ///< bar open time, ns since epoch UTC
  double open = 0, high = 0, low = 0, close = 0;
  double volume = 0;
  double quote_volume = 0;     ///< NaN when absent
  std::int64_t trades = -1;    ///< -1 when absent
};

struct CandleSeries {
  std::string path;
  std::string format;         ///< "bybit", "ftx", "binance-spot", "binance-usdm"
  std::string volume_unit;    ///< "base" (coin) or "quote" (USD notional)
  std::int64_t interval_ns = 0;  ///< most common difference between consecutive bars; 0 if < 2 rows
  std::vector<Candle> rows;
  /// "candles.gaps" (differences larger than the interval) and "candles.missing_bars" (bars
  /// missing in them); "candles.close_time_mismatch" (binance formats: close_time !=
  /// open + interval - 1 ms).
  Counters tolerated;
};

/// Reads a candle CSV (plain or gzip). Throws mmkit::Error (file:line, field) on: an unknown
/// header (the message lists the known ones), a wrong field count, an unparsable or non-finite
/// number or timestamp, negative volume, OHLC inconsistency (low <= open, close <= high), a
/// timestamp not strictly after the previous one, or one off the interval grid (a difference
/// that is not a multiple of the interval). Gaps are counted, not fatal.
[[nodiscard]] CandleSeries read_candles(const std::string& path);

}  // namespace mmkit::data
