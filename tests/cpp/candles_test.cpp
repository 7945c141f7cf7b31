// Candle (OHLCV) and funding-rate readers: the real files of SOURCES.md F and G, and every error
// path on small malformed files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "mmkit/core/error.h"
#include "mmkit/core/time.h"
#include "mmkit/data/candles.h"
#include "mmkit/data/funding.h"
#include "real_data.h"

namespace {

using mmkit::test::data_dir;
using mmkit::test::under_ci;

using mmkit::data::read_candles;
using mmkit::data::read_funding;

#define REQUIRE_DATA(path)                                                    \
  do {                                                                        \
    if (!std::filesystem::exists(path)) {                                     \
      if (under_ci()) FAIL() << "real data missing under CI=true: " << (path);   \
      GTEST_SKIP() << "real data not found (set MMKIT_DATA_DIR): " << (path); \
    }                                                                         \
  } while (0)

std::string write_file(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::path(testing::TempDir()) / "mmkit_candles_test";
  std::filesystem::create_directories(dir);
  const std::string p = (dir / name).string();
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

mmkit::TimestampNs utc(const char* iso) {
  mmkit::TimestampNs t = 0;
  EXPECT_TRUE(mmkit::parse_iso8601_ns(iso, t)) << iso;
  return t;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const mmkit::Error& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_ERROR_HAS(stmt, ...)                                                            \
  do {                                                                                         \
    const std::string msg_ = error_of([&] { (void)(stmt); });                                  \
    ASSERT_FALSE(msg_.empty()) << "no mmkit::Error from " #stmt;                               \
    for (const char* part_ : {__VA_ARGS__}) {                                                  \
      EXPECT_NE(msg_.find(part_), std::string::npos) << "'" << part_ << "' not in: " << msg_; \
    }                                                                                          \
  } while (0)

constexpr std::int64_t kMinute = 60'000'000'000LL;
constexpr std::int64_t kHour = 60 * kMinute;

// ---------------------------------------------------------------------------------------------
// candles: real files (SOURCES.md F)

struct CandleFile {
  const char* path;
  const char* format;
  const char* volume_unit;
  std::size_t rows;
  const char* first;
  const char* last;
  std::int64_t interval;
};

const CandleFile kCandleFiles[] = {
    {"candles/bybit_linear_1m/BTCUSDT_1m.csv", "bybit", "base", 43200, "2025-05-29T19:00:00Z",
     "2025-06-28T18:59:00Z", kMinute},
    {"candles/bybit_linear_1m/ETHUSDT_1m.csv", "bybit", "base", 43200, "2025-05-29T19:00:00Z",
     "2025-06-28T18:59:00Z", kMinute},
    {"candles/binance_spot_1m/BTCUSDT_1m.csv", "binance-spot", "base", 14401, "2025-08-01T00:00:00Z",
     "2025-08-11T00:00:00Z", kMinute},
    {"candles/ftx_perp_1m/btc-perp-20211231-20220201_1m.csv", "ftx", "quote", 45031, "2021-12-31T23:01:00Z",
     "2022-02-01T05:31:00Z", kMinute},
    {"candles/binance_usdm_1h/BTCUSDT.csv", "binance-usdm", "base", 4500, "2025-09-13T08:00:00Z",
     "2026-03-19T19:00:00Z", kHour},
    {"candles/binance_usdm_1h/ETHUSDT.csv", "binance-usdm", "base", 4500, "2025-09-13T08:00:00Z",
     "2026-03-19T19:00:00Z", kHour},
};

TEST(CandlesRealData, EachFileHasTheRowsSpanAndIntervalOfSourcesMd) {
  for (const auto& f : kCandleFiles) {
    const std::string path = data_dir() + "/" + f.path;
    REQUIRE_DATA(path);
    const auto s = read_candles(path);
    EXPECT_EQ(s.format, f.format) << f.path;
    EXPECT_EQ(s.volume_unit, f.volume_unit) << f.path;
    ASSERT_EQ(s.rows.size(), f.rows) << f.path;
    EXPECT_EQ(s.rows.front().open_ts_ns, utc(f.first)) << f.path;
    EXPECT_EQ(s.rows.back().open_ts_ns, utc(f.last)) << f.path;
    EXPECT_EQ(s.interval_ns, f.interval) << f.path;
    // SOURCES.md F: no gaps and no OHLC violations in any file; the binance close times match.
    EXPECT_TRUE(s.tolerated.items().empty()) << f.path << ": " << s.tolerated.items().front().first;
    EXPECT_EQ(static_cast<std::int64_t>(s.rows.size() - 1) * s.interval_ns,
              s.rows.back().open_ts_ns - s.rows.front().open_ts_ns)
        << f.path;
  }
}

TEST(CandlesRealData, FirstRowsCarryTheFileValues) {
  const std::string bybit = data_dir() + "/candles/bybit_linear_1m/BTCUSDT_1m.csv";
  const std::string spot = data_dir() + "/candles/binance_spot_1m/BTCUSDT_1m.csv";
  const std::string usdm = data_dir() + "/candles/binance_usdm_1h/BTCUSDT.csv";
  const std::string ftx = data_dir() + "/candles/ftx_perp_1m/btc-perp-20211231-20220201_1m.csv";
  REQUIRE_DATA(bybit);
  REQUIRE_DATA(spot);
  REQUIRE_DATA(usdm);
  REQUIRE_DATA(ftx);
  // 2025-05-29 19:00:00+00:00,105796.0,105911.5,105796.0,105874.0,277.448
  const auto b = read_candles(bybit).rows.front();
  EXPECT_EQ(b.open, 105796.0);
  EXPECT_EQ(b.high, 105911.5);
  EXPECT_EQ(b.low, 105796.0);
  EXPECT_EQ(b.close, 105874.0);
  EXPECT_EQ(b.volume, 277.448);
  EXPECT_TRUE(std::isnan(b.quote_volume));
  EXPECT_EQ(b.trades, -1);
  // 2025-08-01 00:00:00+00:00,115764.07,115764.08,115704.78,115729.0,11.87539,...,1374354.6403012,1421,...
  const auto s = read_candles(spot).rows.front();
  EXPECT_EQ(s.open, 115764.07);
  EXPECT_EQ(s.volume, 11.87539);
  EXPECT_EQ(s.quote_volume, 1374354.6403012);
  EXPECT_EQ(s.trades, 1421);
  // 1757750400000,115715.50,116011.00,115715.50,115913.30,1844.202,213658733.84120,39746,1757753999999
  const auto u = read_candles(usdm).rows.front();
  EXPECT_EQ(u.open_ts_ns, 1757750400000LL * 1'000'000);
  EXPECT_EQ(u.high, 116011.00);
  EXPECT_EQ(u.quote_volume, 213658733.84120);
  EXPECT_EQ(u.trades, 39746);
  // 2021-12-31 23:01:00.000000,46319.0,46385.0,46319.0,46377.0,2300413.7295 (USD notional)
  const auto x = read_candles(ftx).rows.front();
  EXPECT_EQ(x.close, 46377.0);
  EXPECT_EQ(x.volume, 2300413.7295);
}

// ---------------------------------------------------------------------------------------------
// candles: synthetic files

constexpr const char* kOhlcv = "timestamp,open,high,low,close,volume\n";

TEST(Candles, GapsAreCountedWithTheMissingBars) {
  const std::string p = write_file("gaps.csv", std::string(kOhlcv) +
                                                   "2025-01-01 00:00:00+00:00,1,2,0.5,1.5,10\n"
                                                   "2025-01-01 00:01:00+00:00,1,2,0.5,1.5,10\n"
                                                   "2025-01-01 00:02:00+00:00,1,2,0.5,1.5,10\n"
                                                   "2025-01-01 00:05:00+00:00,1,2,0.5,1.5,10\n"
                                                   "2025-01-01 00:06:00+00:00,1,2,0.5,1.5,10\n"
                                                   "2025-01-01 00:08:00+00:00,1,2,0.5,1.5,10");
  const auto s = read_candles(p);
  EXPECT_EQ(s.format, "bybit");
  EXPECT_EQ(s.interval_ns, kMinute);
  EXPECT_EQ(s.rows.size(), 6u);
  EXPECT_EQ(s.tolerated.get("candles.gaps"), 2u);
  EXPECT_EQ(s.tolerated.get("candles.missing_bars"), 3u);
}

TEST(Candles, SharedHeaderIsFtxWhenTimesHaveNoOffset) {
  const std::string p = write_file("ftx.csv", std::string(kOhlcv) +
                                                  "2021-12-31 23:01:00.000000,1,2,0.5,1.5,10\n"
                                                  "2021-12-31 23:02:00.000000,1,2,0.5,1.5,10\n");
  const auto s = read_candles(p);
  EXPECT_EQ(s.format, "ftx");
  EXPECT_EQ(s.volume_unit, "quote");
  EXPECT_EQ(s.rows[1].open_ts_ns, utc("2021-12-31T23:02:00Z"));
}

TEST(Candles, BinanceCloseTimeThatDoesNotEndTheBarIsCounted) {
  const std::string p = write_file("usdm.csv",
                                   "timestamp,open,high,low,close,volume,quote_volume,trades,close_time\n"
                                   "3600000,1,2,0.5,1.5,10,15,7,7199999\n"
                                   "7200000,1,2,0.5,1.5,10,15,7,7200000\n");
  const auto s = read_candles(p);
  EXPECT_EQ(s.interval_ns, kHour);
  EXPECT_EQ(s.tolerated.get("candles.close_time_mismatch"), 1u);
}

TEST(CandlesErrors, UnknownHeaderListsTheKnownOnes) {
  const std::string p = write_file("hdr.csv", "time,o,h,l,c,v\n1,1,1,1,1,1\n");
  EXPECT_ERROR_HAS(read_candles(p), "hdr.csv:1", "unknown candle header 'time,o,h,l,c,v'",
                   "timestamp,open,high,low,close,volume", "open_time,open,high,low,close,volume,close_time",
                   "timestamp,open,high,low,close,volume,quote_volume,trades,close_time");
}

TEST(CandlesErrors, WrongFieldCountNamesTheLine) {
  const std::string p = write_file("count.csv", std::string(kOhlcv) +
                                                    "2025-01-01 00:00:00+00:00,1,2,0.5,1.5,10\n"
                                                    "2025-01-01 00:01:00+00:00,1,2,0.5,1.5\n");
  EXPECT_ERROR_HAS(read_candles(p), "count.csv:3", "expected 6 fields (bybit), found 5");
}

TEST(CandlesErrors, UnparsableAndNonFiniteNumbersNameLineAndField) {
  const std::string p1 = write_file("num.csv", std::string(kOhlcv) + "2025-01-01 00:00:00+00:00,1,2x,0.5,1.5,10\n");
  EXPECT_ERROR_HAS(read_candles(p1), "num.csv:2", "field 'high'", "unparsable or non-finite number '2x'");
  const std::string p2 = write_file("nan.csv", std::string(kOhlcv) + "2025-01-01 00:00:00+00:00,1,2,0.5,1.5,nan\n");
  EXPECT_ERROR_HAS(read_candles(p2), "nan.csv:2", "field 'volume'");
  const std::string p3 = write_file("time.csv", std::string(kOhlcv) + "2025-13-01 00:00:00+00:00,1,2,0.5,1.5,1\n");
  EXPECT_ERROR_HAS(read_candles(p3), "time.csv:2", "field 'timestamp'", "unparsable ISO 8601 time");
  const std::string p4 = write_file("ms.csv",
                                    "timestamp,open,high,low,close,volume,quote_volume,trades,close_time\n"
                                    "3600000,1,2,0.5,1.5,10,15,7.5,7199999\n");
  EXPECT_ERROR_HAS(read_candles(p4), "ms.csv:2", "field 'trades'", "unparsable integer '7.5'");
}

TEST(CandlesErrors, OhlcInconsistencyIsAnError) {
  const std::string hl = write_file("hl.csv", std::string(kOhlcv) + "2025-01-01 00:00:00+00:00,1,0.4,0.5,0.45,1\n");
  EXPECT_ERROR_HAS(read_candles(hl), "hl.csv:2", "low 0.5 above high 0.4");
  const std::string op = write_file("open.csv", std::string(kOhlcv) + "2025-01-01 00:00:00+00:00,3,2,0.5,1,1\n");
  EXPECT_ERROR_HAS(read_candles(op), "open.csv:2", "field 'open'", "outside [low, high]");
  const std::string cl = write_file("close.csv", std::string(kOhlcv) + "2025-01-01 00:00:00+00:00,1,2,0.5,0.4,1\n");
  EXPECT_ERROR_HAS(read_candles(cl), "close.csv:2", "field 'close'", "outside [low, high]");
  const std::string vol = write_file("vol.csv", std::string(kOhlcv) + "2025-01-01 00:00:00+00:00,1,2,0.5,1,-1\n");
  EXPECT_ERROR_HAS(read_candles(vol), "vol.csv:2", "negative volume");
}

TEST(CandlesErrors, TimestampsMustIncreaseAndStayOnTheGrid) {
  const std::string dup = write_file("dup.csv", std::string(kOhlcv) +
                                                    "2025-01-01 00:01:00+00:00,1,2,0.5,1.5,10\n"
                                                    "2025-01-01 00:01:00+00:00,1,2,0.5,1.5,10\n");
  EXPECT_ERROR_HAS(read_candles(dup), "dup.csv:3", "not after the previous bar");
  const std::string grid = write_file("grid.csv", std::string(kOhlcv) +
                                                      "2025-01-01 00:00:00+00:00,1,2,0.5,1.5,10\n"
                                                      "2025-01-01 00:01:00+00:00,1,2,0.5,1.5,10\n"
                                                      "2025-01-01 00:02:00+00:00,1,2,0.5,1.5,10\n"
                                                      "2025-01-01 00:03:30+00:00,1,2,0.5,1.5,10\n");
  EXPECT_ERROR_HAS(read_candles(grid), "grid.csv:5", "off the interval grid");
}

// ---------------------------------------------------------------------------------------------
// funding: real files (SOURCES.md G)

TEST(FundingRealData, BinanceCsvHasTheKnownRates) {
  const std::string btc = data_dir() + "/funding/binance_usdm_csv/BTCUSDT.csv";
  const std::string eth = data_dir() + "/funding/binance_usdm_csv/ETHUSDT.csv";
  REQUIRE_DATA(btc);
  REQUIRE_DATA(eth);
  const auto s = read_funding(btc);
  EXPECT_EQ(s.format, "binance-csv");
  EXPECT_EQ(s.symbol, "BTCUSDT");
  ASSERT_EQ(s.rows.size(), 200u);
  EXPECT_EQ(s.rows.front().ts_ns, utc("2026-01-12T16:00:00Z"));
  EXPECT_EQ(s.rows.back().ts_ns, 1773964800002LL * 1'000'000);  // 2026-03-20 00:00:00.002, no newline
  EXPECT_EQ(s.rows.back().rate, 0.00000625);
  int found = 0;
  for (const auto& r : s.rows) {
    if (r.ts_ns == 1773187200000LL * 1'000'000) {
      EXPECT_EQ(r.rate, -0.00011052);
      ++found;
    }
  }
  EXPECT_EQ(found, 1);
  const auto e = read_funding(eth);
  EXPECT_EQ(e.symbol, "ETHUSDT");
  EXPECT_EQ(e.rows.size(), 200u);
  EXPECT_EQ(e.rows.back().rate, -0.00006348);
}

TEST(FundingRealData, FreqtradeJsonTakesTheRateFromTheOpenSlot) {
  const std::string btc = data_dir() + "/funding/binance_usdm_freqtrade_json/BTC_USDT_USDT-8h-funding_rate.json";
  const std::string eth = data_dir() + "/funding/binance_usdm_freqtrade_json/ETH_USDT_USDT-8h-funding_rate.json";
  REQUIRE_DATA(btc);
  REQUIRE_DATA(eth);
  const auto b = read_funding(btc);
  EXPECT_EQ(b.format, "freqtrade-json");
  EXPECT_EQ(b.symbol, "BTC/USDT:USDT");
  ASSERT_EQ(b.rows.size(), 115u);
  EXPECT_EQ(b.rows.front().ts_ns, utc("2025-09-19T00:00:00Z"));
  EXPECT_EQ(b.rows.front().rate, -0.00000231);
  EXPECT_EQ(b.rows[1].ts_ns, 1758268800005LL * 1'000'000);
  EXPECT_EQ(b.rows.back().ts_ns, utc("2025-10-27T00:00:00Z"));
  EXPECT_EQ(b.rows.back().rate, 0.0001);
  const auto e = read_funding(eth);
  EXPECT_EQ(e.symbol, "ETH/USDT:USDT");
  ASSERT_EQ(e.rows.size(), 91u);
  EXPECT_EQ(e.rows.front().ts_ns, utc("2025-09-27T00:00:00Z"));
  EXPECT_EQ(e.rows.back().ts_ns, utc("2025-10-27T00:00:00Z"));
}

// ---------------------------------------------------------------------------------------------
// funding: errors

TEST(FundingErrors, CsvHeaderFieldsSymbolAndOrderAreChecked) {
  EXPECT_ERROR_HAS(read_funding(write_file("f_hdr.csv", "time,sym,rate\n1,X,0.1\n")), "f_hdr.csv:1",
                   "unknown funding header", "timestamp,symbol,funding_rate");
  constexpr const char* h = "timestamp,symbol,funding_rate\n";
  EXPECT_ERROR_HAS(read_funding(write_file("f_cnt.csv", std::string(h) + "1,BTCUSDT\n")), "f_cnt.csv:2",
                   "expected 3 fields, found 2");
  EXPECT_ERROR_HAS(read_funding(write_file("f_ts.csv", std::string(h) + "1.5,BTCUSDT,0.1\n")), "f_ts.csv:2",
                   "field 'timestamp'");
  EXPECT_ERROR_HAS(read_funding(write_file("f_rate.csv", std::string(h) + "1,BTCUSDT,abc\n")), "f_rate.csv:2",
                   "field 'funding_rate'", "'abc'");
  EXPECT_ERROR_HAS(read_funding(write_file("f_sym.csv", std::string(h) + "1,BTCUSDT,0.1\n2,ETHUSDT,0.1\n")),
                   "f_sym.csv:3", "symbol 'ETHUSDT' differs");
  EXPECT_ERROR_HAS(read_funding(write_file("f_ord.csv", std::string(h) + "2,BTCUSDT,0.1\n2,BTCUSDT,0.1\n")),
                   "f_ord.csv:3", "not after the previous row");
}

TEST(FundingErrors, JsonShapeAndValuesAreChecked) {
  EXPECT_ERROR_HAS(read_funding(write_file("j_bad.json", "[[1,0.1,0,0,0,0],")), "j_bad.json", "invalid JSON");
  EXPECT_ERROR_HAS(read_funding(write_file("j_obj.json", "[{\"a\":1}]")), "field '[0]'", "row is not an array");
  EXPECT_ERROR_HAS(read_funding(write_file("j_len.json", "[[1,0.1,0,0,0,0],[2,0.1,0,0,0]]")), "field '[1]'",
                   "expected 6 values");
  EXPECT_ERROR_HAS(read_funding(write_file("j_rate.json", "[[1,\"x\",0,0,0,0]]")), "field '[0][1]'",
                   "not a finite number");
  EXPECT_ERROR_HAS(read_funding(write_file("j_ts.json", "[[1.5,0.1,0,0,0,0]]")), "field '[0][0]'",
                   "not an integer number of ms");
  EXPECT_ERROR_HAS(read_funding(write_file("j_ord.json", "[[2,0.1,0,0,0,0],[1,0.1,0,0,0,0]]")), "field '[1][0]'",
                   "not after the previous row");
  const auto ok = read_funding(write_file("BTC_USDT-8h-funding_rate.json", "[[1000,0.5,0,0,0,0]]"));
  EXPECT_EQ(ok.symbol, "BTC/USDT");
  ASSERT_EQ(ok.rows.size(), 1u);
  EXPECT_EQ(ok.rows[0].ts_ns, 1'000'000'000);
  EXPECT_EQ(ok.rows[0].rate, 0.5);
}

}  // namespace
