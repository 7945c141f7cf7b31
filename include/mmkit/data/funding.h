// Perpetual-futures funding-rate history.
//
// Formats, recognized by content:
//  - CSV "timestamp,symbol,funding_rate": funding time in ms since epoch, symbol (constant in the
//    file), rate as a fraction per funding interval (Binance GET /fapi/v1/fundingRate
//    fields fundingTime, symbol, fundingRate). The last line may lack its newline.
//  - freqtrade JSON "[[ts_ms, rate, 0, 0, 0, 0], ...]": freqtrade stores funding rates as OHLCV
//    candles with the rate in the "open" slot (freqtrade data/history, candle type
//    "funding_rate"); the other four slots must be numbers and are ignored. The symbol is the
//    freqtrade pair spelled in the file name ("BTC_USDT_USDT-8h-funding_rate.json" ->
//    "BTC/USDT:USDT").
#pragma once

#include <string>
#include <vector>

#include "mmkit/core/types.h"
#include "mmkit/data/source.h"

namespace mmkit::data {

struct FundingRate {
  TimestampNs ts_ns = 0;  ///< funding time, ns since epoch UTC
  double rate = 0;        ///< fraction per funding interval (0.0001 = 0.01 %)
};

struct FundingSeries {
  std::string path;
  std::string symbol;
  std::string format;  ///< "binance-csv" or "freqtrade-json"
  std::vector<FundingRate> rows;
  Counters tolerated;  ///< nothing is tolerated at present; kept for symmetry with the readers
};

/// Reads a funding file (CSV plain or gzip, or freqtrade JSON). Throws mmkit::Error naming the
/// file and line (CSV) or row index (JSON) and field on: an unknown header or JSON shape, a
/// wrong field count, an unparsable or non-finite number, a symbol differing from the first
/// row's, timestamps not strictly increasing.
[[nodiscard]] FundingSeries read_funding(const std::string& path);

}  // namespace mmkit::data
