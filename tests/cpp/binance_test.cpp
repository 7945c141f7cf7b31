// Binance capture reader (mmkit/data/binance.h): tiny hand-written captures for every rule and
// error path, and the real hftbacktest captures (SOURCES.md section B) replayed into the L2
// books and checked against the venue's own bookTicker.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "mmkit/book/l2_book.h"
#include "mmkit/book/naive_l2_book.h"
#include "mmkit/core/error.h"
#include "mmkit/core/event.h"
#include "mmkit/data/binance.h"
#include "mmkit/data/source.h"
#include "real_data.h"

namespace mmkit::data {
namespace {

using mmkit::test::data_dir;
using mmkit::test::under_ci;

namespace ef = event_flags;
using Levels = std::vector<std::pair<std::string, std::string>>;

// ---------------------------------------------------------------------------------------------
// Capture builders (the collector's line format: `<local_ns> <json>`).

std::string levels_json(const Levels& lv) {
  std::string s = "[";
  for (std::size_t i = 0; i < lv.size(); ++i) {
    if (i > 0) s += ',';
    s += "[\"" + lv[i].first + "\",\"" + lv[i].second + "\"]";
  }
  return s + "]";
}

std::string depth_usdm(long long ts, long long e_ms, long long first, long long last, long long prev,
                       const Levels& bids, const Levels& asks, const std::string& sym = "BTCUSDT") {
  return std::to_string(ts) + " {\"stream\":\"btcusdt@depth@0ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":" +
         std::to_string(e_ms) + ",\"T\":" + std::to_string(e_ms) + ",\"s\":\"" + sym +
         "\",\"U\":" + std::to_string(first) + ",\"u\":" + std::to_string(last) +
         ",\"pu\":" + std::to_string(prev) + ",\"b\":" + levels_json(bids) +
         ",\"a\":" + levels_json(asks) + "}}\n";
}

std::string depth_spot(long long ts, long long e_ms, long long first, long long last,
                       const Levels& bids, const Levels& asks) {
  return std::to_string(ts) + " {\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":" +
         std::to_string(e_ms) + ",\"s\":\"BTCUSDT\",\"U\":" + std::to_string(first) +
         ",\"u\":" + std::to_string(last) + ",\"b\":" + levels_json(bids) +
         ",\"a\":" + levels_json(asks) + "}}\n";
}

std::string snapshot(long long ts, long long id, const Levels& bids, const Levels& asks,
                     bool with_e = true) {
  std::string s = std::to_string(ts) + " {\"lastUpdateId\":" + std::to_string(id);
  if (with_e) s += ",\"E\":" + std::to_string(ts / 1000000 + 1270) + ",\"T\":" + std::to_string(ts / 1000000 + 1269);
  return s + ",\"bids\":" + levels_json(bids) + ",\"asks\":" + levels_json(asks) + "}\n";
}

std::string trade(long long ts, long long e_ms, long long id, const std::string& px,
                  const std::string& qty, bool buyer_is_maker, const std::string& x = "MARKET") {
  return std::to_string(ts) + " {\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":" +
         std::to_string(e_ms) + ",\"T\":" + std::to_string(e_ms) + ",\"s\":\"BTCUSDT\",\"t\":" +
         std::to_string(id) + ",\"p\":\"" + px + "\",\"q\":\"" + qty + "\",\"X\":\"" + x +
         "\",\"m\":" + (buyer_is_maker ? "true" : "false") + "}}\n";
}

std::string ticker_usdm(long long ts, long long e_ms, long long u, const std::string& b,
                        const std::string& bq, const std::string& a, const std::string& aq) {
  return std::to_string(ts) + " {\"stream\":\"btcusdt@bookTicker\",\"data\":{\"e\":\"bookTicker\",\"u\":" +
         std::to_string(u) + ",\"s\":\"BTCUSDT\",\"b\":\"" + b + "\",\"B\":\"" + bq + "\",\"a\":\"" + a +
         "\",\"A\":\"" + aq + "\",\"T\":" + std::to_string(e_ms) + ",\"E\":" + std::to_string(e_ms) + "}}\n";
}

std::string ticker_spot(long long ts, long long u, const std::string& b, const std::string& bq,
                        const std::string& a, const std::string& aq) {
  return std::to_string(ts) + " {\"stream\":\"btcusdt@bookTicker\",\"data\":{\"u\":" + std::to_string(u) +
         ",\"s\":\"BTCUSDT\",\"b\":\"" + b + "\",\"B\":\"" + bq + "\",\"a\":\"" + a + "\",\"A\":\"" + aq +
         "\"}}\n";
}

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/mmkit_binance_" + name;
}

std::string write_plain(const std::string& name, const std::string& text) {
  const std::string p = temp_path(name);
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

std::string write_gzip(const std::string& name, const std::string& text) {
  const std::string p = temp_path(name);
  gzFile gz = gzopen(p.c_str(), "wb");
  EXPECT_NE(gz, nullptr);
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
  return p;
}

std::vector<Event> read_all(EventSource& src, std::size_t batch = 256) {
  std::vector<Event> out;
  std::vector<Event> buf(batch);
  for (;;) {
    const std::size_t n = src.read(buf.data(), buf.size());
    if (n == 0) break;
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return out;
}

std::vector<Event> of_record(const std::vector<Event>& ev, std::uint64_t record) {
  std::vector<Event> out;
  for (const Event& e : ev) {
    if (e.record == record) out.push_back(e);
  }
  return out;
}

// Expects open + read_all to throw an mmkit::Error whose text contains every piece.
void expect_error(const std::vector<std::string>& paths, const std::vector<std::string>& pieces) {
  try {
    auto src = open_binance(paths, {});
    (void)read_all(*src);
    ADD_FAILURE() << "no error; expected one containing '" << pieces.front() << "'";
  } catch (const Error& e) {
    for (const std::string& p : pieces) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << "'" << e.what() << "' lacks '" << p << "'";
    }
  }
}

constexpr long long kT0 = 1723161255000000000LL;  // local ns of the first line
constexpr long long kE0 = 1723161256270LL;        // exchange ms, 1.27 s ahead

// A small futures capture: update before the snapshot (u < lastUpdateId: dropped), update
// covering lastUpdateId (buffered, applied at the snapshot), snapshot, trade, ticker, update.
std::string usdm_capture() {
  return depth_usdm(kT0 + 0, kE0 + 0, 90, 95, 89, {{"100.0", "1.000"}}, {}) +           // line 1
         depth_usdm(kT0 + 10, kE0 + 1, 96, 101, 95, {{"100.1", "2.000"}}, {{"100.5", "0.000"}}) +  // 2
         snapshot(kT0 + 20, 100, {{"100.0", "1.500"}, {"99.8", "3.000"}},
                  {{"100.3", "0.700"}, {"100.5", "4.000"}}) +                           // line 3
         trade(kT0 + 30, kE0 + 3, 7001, "100.3", "0.200", true) +                       // line 4
         ticker_usdm(kT0 + 40, kE0 + 4, 101, "100.1", "2.000", "100.3", "0.700") +       // line 5
         depth_usdm(kT0 + 50, kE0 + 5, 102, 105, 101, {{"100.1", "0.000"}}, {{"100.2", "0.300"}});  // 6
}

// ---------------------------------------------------------------------------------------------
// Synchronisation and sequence

TEST(BinanceReader, SnapshotThenBufferedUpdateThatCoversLastUpdateId) {
  const std::string p = write_plain("sync.txt", usdm_capture());
  auto src = open_binance({p}, {});
  EXPECT_EQ(src->format(), "binance-usdm");
  const std::vector<Event> ev = read_all(*src);
  EXPECT_EQ(src->records(), 6u);
  EXPECT_EQ(src->tolerated().get("binance.depth_dropped_before_sync"), 1u);

  // Snapshot events come first (lines 1-2 produce none at their place), then the buffered
  // update of line 2 with its own record and timestamps, then lines 4, 5, 6.
  ASSERT_EQ(ev.size(), 7u + 2u + 1u + 2u + 2u);  // snapshot, line 2, trade, ticker, line 6
  EXPECT_EQ(ev[0].kind, EventKind::kSnapshotStart);
  EXPECT_EQ(ev[1].kind, EventKind::kClear);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(ev[2 + i].kind, EventKind::kLevelUpdate);
    EXPECT_TRUE(ev[2 + i].has(ef::kSnapshot));
    EXPECT_EQ(ev[2 + i].seq, 100u);
    EXPECT_EQ(ev[2 + i].record, 2u);
  }
  EXPECT_EQ(ev[2].side, Side::kBid);
  EXPECT_EQ(ev[2].price, 10000000000LL);  // 100.0 at 8 decimals
  EXPECT_EQ(ev[2].qty, 150000000LL);      // 1.5
  EXPECT_EQ(ev[5].side, Side::kAsk);
  EXPECT_EQ(ev[5].price, 10050000000LL);
  EXPECT_EQ(ev[6].kind, EventKind::kSnapshotEnd);
  EXPECT_EQ(ev[6].flags, ef::kSnapshot | ef::kEndOfRecord | ef::kComplete);
  EXPECT_EQ(ev[6].exch_ts_ns, (kT0 + 20) / 1000000 * 1000000 + 1270LL * 1000000);

  // Line 2 (record 1): U=96 <= 100 <= u=101, applied after the snapshot.
  EXPECT_EQ(ev[7].record, 1u);
  EXPECT_EQ(ev[7].local_ts_ns, kT0 + 10);
  EXPECT_EQ(ev[7].exch_ts_ns, (kE0 + 1) * 1000000);
  EXPECT_EQ(ev[7].seq, 101u);
  EXPECT_EQ(ev[7].side, Side::kBid);
  EXPECT_EQ(ev[7].price, 10010000000LL);
  EXPECT_EQ(ev[7].flags, 0);
  EXPECT_EQ(ev[8].side, Side::kAsk);
  EXPECT_EQ(ev[8].qty, 0);
  EXPECT_EQ(ev[8].flags, ef::kEndOfRecord | ef::kComplete);
  EXPECT_EQ(ev[9].kind, EventKind::kTrade);
  EXPECT_EQ(ev[9].record, 3u);
  EXPECT_EQ(ev[10].kind, EventKind::kBestBidAsk);
  EXPECT_EQ(ev[12].record, 5u);
  EXPECT_EQ(ev[12].seq, 105u);

  // Nothing came from line 1 (dropped) and the book is the snapshot plus lines 2 and 6.
  EXPECT_TRUE(of_record(ev, 0).empty());
  book::NaiveL2Book b;
  for (const Event& e : ev) ASSERT_EQ(b.apply(e), Errc::kOk);
  EXPECT_EQ(b.best(Side::kBid), (book::Level{10000000000LL, 150000000LL, 0}));
  EXPECT_EQ(b.best(Side::kAsk), (book::Level{10020000000LL, 30000000LL, 0}));
  EXPECT_EQ(b.depth(Side::kAsk), 2u);  // 100.2, 100.3 (100.5 removed by line 2)
  EXPECT_EQ(src->locate(1), p + ":2");
}

TEST(BinanceReader, UsdmUpdateEndingAtLastUpdateIdIsTheFirstApplied) {
  // Futures rule: drop u < lastUpdateId; an update with u == lastUpdateId is kept (U <= X <= u).
  const std::string text = snapshot(kT0, 100, {{"100.0", "1.000"}}, {{"101.0", "1.000"}}) +
                           depth_usdm(kT0 + 1, kE0, 95, 99, 94, {{"99.0", "1.000"}}, {}) +
                           depth_usdm(kT0 + 2, kE0, 100, 100, 99, {{"99.5", "1.000"}}, {}) +
                           depth_usdm(kT0 + 3, kE0, 101, 102, 100, {{"99.6", "1.000"}}, {});
  auto src = open_binance({write_plain("usdm_eq.txt", text)}, {});
  const std::vector<Event> ev = read_all(*src);
  EXPECT_EQ(src->tolerated().get("binance.depth_dropped_before_sync"), 1u);
  EXPECT_TRUE(of_record(ev, 1).empty());
  ASSERT_EQ(of_record(ev, 2).size(), 1u);
  EXPECT_EQ(of_record(ev, 2)[0].seq, 100u);
  EXPECT_EQ(of_record(ev, 3).size(), 1u);
}

TEST(BinanceReader, SpotDropsUpToLastUpdateIdAndChainsOnUEqualsPreviousUPlusOne) {
  // Spot rule: drop u <= lastUpdateId; first applied has U <= X+1 <= u; then U == prev u + 1.
  const std::string text =
      depth_spot(kT0, kE0, 95, 100, {{"100.00", "1.0"}}, {}) +                       // u == X: drop
      snapshot(kT0 + 1, 100, {{"100.00", "1.00000"}}, {{"101.00", "2.00000"}}, false) +
      depth_spot(kT0 + 2, kE0 + 100, 98, 103, {{"100.50", "1.00000000"}}, {}) +      // applied
      depth_spot(kT0 + 3, kE0 + 200, 104, 104, {}, {{"101.00", "0.00000000"}}) +     // applied
      ticker_spot(kT0 + 4, 104, "100.50", "1.0", "101.50", "3.0");
  const std::string p = write_plain("spot_sync.txt", text);
  auto src = open_binance({p}, {});
  EXPECT_EQ(src->format(), "binance-spot");
  EXPECT_EQ(src->instrument().venue_str(), "binance-spot");
  const std::vector<Event> ev = read_all(*src);
  EXPECT_EQ(src->tolerated().get("binance.depth_dropped_before_sync"), 1u);
  EXPECT_TRUE(of_record(ev, 0).empty());
  // The spot snapshot has no exchange time: local time, flagged and counted.
  const std::vector<Event> snap = of_record(ev, 1);
  ASSERT_EQ(snap.size(), 5u);
  for (const Event& e : snap) {
    EXPECT_TRUE(e.has(ef::kNoExchTs));
    EXPECT_EQ(e.exch_ts_ns, kT0 + 1);
  }
  EXPECT_EQ(of_record(ev, 2).size(), 1u);
  EXPECT_EQ(of_record(ev, 3).size(), 1u);
  const std::vector<Event> tick = of_record(ev, 4);
  ASSERT_EQ(tick.size(), 2u);
  EXPECT_TRUE(tick[0].has(ef::kNoExchTs));
  EXPECT_EQ(tick[0].exch_ts_ns, kT0 + 4);
  EXPECT_EQ(src->tolerated().get("binance.no_exch_ts_records"), 2u);

  const std::string gap = text + depth_spot(kT0 + 5, kE0 + 300, 106, 107, {}, {});
  expect_error({write_plain("spot_gap.txt", gap)}, {"spot_gap.txt:6", "sequence gap: expected U=105, got 106"});
  const std::string bad_first = snapshot(kT0, 100, {{"100.00", "1.0"}}, {{"101.00", "2.0"}}, false) +
                                depth_spot(kT0 + 2, kE0, 102, 103, {{"100.50", "1.0"}}, {});
  expect_error({write_plain("spot_first.txt", bad_first)}, {"spot_first.txt:2", "lastUpdateId+1=101"});
}

TEST(BinanceReader, UpdatesAfterTheSnapshotBeforeSyncAreDroppedAndCounted) {
  const std::string text = snapshot(kT0, 200, {{"100.0", "1.000"}}, {{"101.0", "1.000"}}) +
                           depth_usdm(kT0 + 1, kE0, 150, 160, 149, {{"99.0", "1.000"}}, {}) +
                           depth_usdm(kT0 + 2, kE0, 161, 170, 160, {{"99.1", "1.000"}}, {}) +
                           trade(kT0 + 3, kE0, 1, "100.0", "0.001", false) +
                           depth_usdm(kT0 + 4, kE0, 171, 205, 170, {{"99.2", "1.000"}}, {});
  auto src = open_binance({write_plain("drop.txt", text)}, {});
  const std::vector<Event> ev = read_all(*src);
  EXPECT_EQ(src->records(), 5u);
  EXPECT_EQ(src->tolerated().get("binance.depth_dropped_before_sync"), 2u);
  EXPECT_TRUE(of_record(ev, 1).empty());
  EXPECT_TRUE(of_record(ev, 2).empty());
  EXPECT_EQ(of_record(ev, 3).size(), 1u);  // trades are not held back
  ASSERT_EQ(of_record(ev, 4).size(), 1u);
  EXPECT_EQ(of_record(ev, 4)[0].seq, 205u);
}

TEST(BinanceReader, FirstUpdateNotCoveringTheSnapshotIsAnError) {
  const std::string text = snapshot(kT0, 100, {{"100.0", "1.000"}}, {{"101.0", "1.000"}}) +
                           depth_usdm(kT0 + 1, kE0, 105, 110, 104, {{"99.0", "1.000"}}, {});
  expect_error({write_plain("nocover.txt", text)},
               {"nocover.txt:2", "does not cover lastUpdateId=100: U=105, u=110"});
}

TEST(BinanceReader, SequenceGapIsAnErrorWithFileAndLine) {
  const std::string text = usdm_capture() +
                           depth_usdm(kT0 + 60, kE0 + 6, 107, 109, 106, {{"100.0", "1.000"}}, {});
  expect_error({write_plain("gap.txt", text)}, {"gap.txt:7", "sequence gap: expected pu=105, got 106"});
}

// ---------------------------------------------------------------------------------------------
// Several files as one stream

TEST(BinanceReader, TwoGzipFilesContinueTheSequence) {
  const std::string a = write_gzip("day1.gz", usdm_capture());
  const std::string b =
      write_gzip("day2.gz", depth_usdm(kT0 + 100, kE0 + 10, 106, 108, 105, {{"100.1", "0.500"}}, {}) +
                                trade(kT0 + 110, kE0 + 11, 7002, "100.1", "0.100", false));
  auto src = open_binance({a, b}, {});
  const std::vector<Event> ev = read_all(*src);
  EXPECT_EQ(src->records(), 8u);
  const std::vector<Event> first_of_b = of_record(ev, 6);
  ASSERT_EQ(first_of_b.size(), 1u);
  EXPECT_EQ(first_of_b[0].seq, 108u);
  EXPECT_EQ(first_of_b[0].flags, ef::kEndOfRecord | ef::kComplete);
  EXPECT_EQ(src->locate(6), b + ":1");
  EXPECT_EQ(src->locate(7), b + ":2");
  EXPECT_EQ(src->locate(5), a + ":6");

  // A gap at the boundary names the second file's line.
  const std::string c = write_gzip("day2_gap.gz", depth_usdm(kT0 + 100, kE0 + 10, 107, 108, 106, {}, {{"101.0", "1.000"}}));
  expect_error({a, c}, {"day2_gap.gz:1", "sequence gap: expected pu=105, got 106"});
  // So does local time going back across the boundary.
  const std::string d = write_gzip("day2_back.gz", depth_usdm(kT0 + 49, kE0 + 10, 106, 108, 105, {}, {}));
  expect_error({a, d}, {"day2_back.gz:1", "local timestamp goes backwards"});
}

TEST(BinanceReader, ContinuationFileWithoutTheSnapshotFileIsAnError) {
  const std::string b =
      write_gzip("cont_only.gz", trade(kT0, kE0, 7002, "100.1", "0.100", false) +
                                     depth_usdm(kT0 + 100, kE0 + 10, 106, 108, 105, {{"100.1", "0.500"}}, {}));
  expect_error({b}, {"cont_only.gz:2", "no depth snapshot line", "give the file that holds the snapshot first"});
  // Files in the wrong order: same error on the first file.
  expect_error({b, write_gzip("first.gz", usdm_capture())}, {"cont_only.gz:2", "no depth snapshot"});
}

// ---------------------------------------------------------------------------------------------
// Trades and tickers

TEST(BinanceReader, TradeAggressorIsTheSellerWhenTheBuyerIsMaker) {
  const std::string text = snapshot(kT0, 100, {{"100.0", "1.000"}}, {{"100.1", "1.000"}}) +
                           trade(kT0 + 1, kE0 + 1, 9001, "100.0", "0.250", true) +
                           trade(kT0 + 2, kE0 + 2, 9002, "100.1", "0.003", false) +
                           trade(kT0 + 3, kE0 + 3, 9003, "100.1", "1.000", false, "INSURANCE_FUND");
  auto src = open_binance({write_plain("trades.txt", text)}, {});
  const std::vector<Event> ev = read_all(*src);
  const std::vector<Event> t1 = of_record(ev, 1);
  const std::vector<Event> t2 = of_record(ev, 2);
  ASSERT_EQ(t1.size(), 1u);
  ASSERT_EQ(t2.size(), 1u);
  EXPECT_EQ(t1[0].kind, EventKind::kTrade);
  EXPECT_EQ(t1[0].side, Side::kAsk);  // m = true: buyer is maker, seller took liquidity
  EXPECT_EQ(t1[0].seq, 9001u);
  EXPECT_EQ(t1[0].price, 10000000000LL);
  EXPECT_EQ(t1[0].qty, 25000000LL);
  EXPECT_EQ(t1[0].exch_ts_ns, (kE0 + 1) * 1000000);
  EXPECT_EQ(t1[0].local_ts_ns, kT0 + 1);
  EXPECT_EQ(t1[0].flags, ef::kEndOfRecord);
  EXPECT_EQ(t2[0].side, Side::kBid);
  EXPECT_EQ(t2[0].qty, 300000LL);
  EXPECT_TRUE(of_record(ev, 3).empty());  // not a market print
  EXPECT_EQ(src->tolerated().get("binance.trades_not_market"), 1u);
}

TEST(BinanceReader, BookTickerGivesBidThenAskBestBidAskEvents) {
  const std::string text = snapshot(kT0, 100, {{"100.0", "1.000"}}, {{"100.1", "1.000"}}) +
                           ticker_usdm(kT0 + 1, kE0 + 7, 555, "100.0", "1.234", "100.1", "0.005");
  auto src = open_binance({write_plain("ticker.txt", text)}, {});
  const std::vector<Event> ev = of_record(read_all(*src), 1);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, EventKind::kBestBidAsk);
  EXPECT_EQ(ev[0].side, Side::kBid);
  EXPECT_EQ(ev[0].price, 10000000000LL);
  EXPECT_EQ(ev[0].qty, 123400000LL);
  EXPECT_EQ(ev[0].flags, 0);
  EXPECT_EQ(ev[1].side, Side::kAsk);
  EXPECT_EQ(ev[1].price, 10010000000LL);
  EXPECT_EQ(ev[1].qty, 500000LL);
  EXPECT_EQ(ev[1].flags, ef::kEndOfRecord);
  for (const Event& e : ev) {
    EXPECT_EQ(e.seq, 555u);
    EXPECT_EQ(e.exch_ts_ns, (kE0 + 7) * 1000000);
  }
  EXPECT_EQ(src->tolerated().get("binance.no_exch_ts_records"), 0u);
}

// ---------------------------------------------------------------------------------------------
// Book effects

TEST(BinanceReader, ZeroQuantityRemovesTheLevelAndAbsentRemovalsAreCounted) {
  const std::string text = snapshot(kT0, 100, {{"100.0", "1.000"}, {"99.9", "2.000"}}, {{"100.1", "1.000"}}) +
                           depth_usdm(kT0 + 1, kE0, 100, 101, 99, {{"100.0", "0.000"}, {"98.0", "0"}}, {});
  auto src = open_binance({write_plain("remove.txt", text)}, {});
  const std::vector<Event> ev = read_all(*src);
  book::NaiveL2Book b;
  for (const Event& e : ev) ASSERT_EQ(b.apply(e), Errc::kOk);
  EXPECT_EQ(b.best(Side::kBid).price, 9990000000LL);
  EXPECT_EQ(b.depth(Side::kBid), 1u);
  EXPECT_EQ(src->tolerated().get("binance.absent_level_removals"), 1u);
}

TEST(BinanceReader, UpdateThatCrossesTheBookIsAnError) {
  const std::string text = snapshot(kT0, 100, {{"100.0", "1.000"}}, {{"100.1", "1.000"}}) +
                           depth_usdm(kT0 + 1, kE0, 100, 101, 99, {{"100.2", "1.000"}}, {});
  expect_error({write_plain("cross.txt", text)}, {"cross.txt:2", "book crossed", "best bid 100.2 >= best ask 100.1"});
  // The same price moving to the other side within one update is fine.
  const std::string ok = snapshot(kT0, 100, {{"100.0", "1.000"}}, {{"100.1", "1.000"}}) +
                         depth_usdm(kT0 + 1, kE0, 100, 101, 99, {{"100.1", "1.000"}}, {{"100.1", "0"}, {"100.2", "1"}});
  auto src = open_binance({write_plain("uncross.txt", ok)}, {});
  EXPECT_EQ(read_all(*src).size(), 5u + 3u);
}

TEST(BinanceReader, LaterSnapshotIsCheckedAgainstTheBook) {
  const std::string base = snapshot(kT0, 100, {{"100.0", "1.000"}}, {{"100.1", "1.000"}, {"100.3", "1.000"}}) +
                           depth_usdm(kT0 + 1, kE0, 100, 101, 99, {{"99.9", "2.000"}}, {{"100.1", "0"}});
  const std::string same = base + snapshot(kT0 + 2, 101, {{"100.0", "1.000"}, {"99.9", "2.000"}}, {{"100.3", "1.000"}});
  auto src = open_binance({write_plain("snap2.txt", same)}, {});
  const std::vector<Event> ev = read_all(*src);
  EXPECT_TRUE(of_record(ev, 2).empty());
  EXPECT_EQ(src->tolerated().get("binance.snapshots_verified"), 1u);

  const std::string other_id = base + snapshot(kT0 + 2, 150, {{"100.0", "1.000"}}, {{"100.3", "1.000"}});
  auto src2 = open_binance({write_plain("snap3.txt", other_id)}, {});
  (void)read_all(*src2);
  EXPECT_EQ(src2->tolerated().get("binance.snapshots_not_comparable"), 1u);

  const std::string differs = base + snapshot(kT0 + 2, 101, {{"100.0", "1.000"}, {"99.9", "2.500"}}, {{"100.3", "1.000"}});
  expect_error({write_plain("snap4.txt", differs)}, {"snap4.txt:3", "snapshot disagrees with the book", "99.9 x 2.5"});
}

// ---------------------------------------------------------------------------------------------
// Malformed input

TEST(BinanceReader, BadDecimalIsAnErrorNamingLineAndField) {
  const std::string text = usdm_capture() + trade(kT0 + 60, kE0, 7003, "100.3x", "0.1", true);
  expect_error({write_plain("baddec.txt", text)}, {"baddec.txt:7", "field 'p'", "unparsable decimal '100.3x'"});
  const std::string nine = usdm_capture() +
                           depth_usdm(kT0 + 60, kE0, 106, 106, 105, {{"100.000000001", "1"}}, {});
  expect_error({write_plain("baddec9.txt", nine)}, {"baddec9.txt:7", "field 'b'", "unparsable price '100.000000001'"});
}

TEST(BinanceReader, BadJsonIsAnErrorWithLineAndColumn) {
  std::string text = usdm_capture() + std::to_string(kT0 + 60) +
                     " {\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":17x,\"s\":\"BTCUSDT\"}}\n";
  expect_error({write_plain("badjson.txt", text)}, {"badjson.txt:7", "unparsable JSON at column", "field 'E'"});
  text = usdm_capture() + std::to_string(kT0 + 60) + " {\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"tra\n";
  expect_error({write_plain("truncated.txt", text)}, {"truncated.txt:7", "unparsable JSON"});
  text = usdm_capture() + "notanumber {}\n";
  expect_error({write_plain("badts.txt", text)}, {"badts.txt:7", "local_ts", "expected '<local_recv_ts_ns> <json>'"});
  text = usdm_capture() + std::to_string(kT0 + 60) + " {\"result\":null,\"id\":1}\n";
  expect_error({write_plain("unknown.txt", text)}, {"unknown.txt:7", "unrecognized message"});
}

TEST(BinanceReader, MissingFieldIsAnErrorNamingIt) {
  const std::string text = usdm_capture() + std::to_string(kT0 + 60) +
                           " {\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1,\"s\":\"BTCUSDT\",\"t\":5,\"q\":\"1\",\"m\":true}}\n";
  expect_error({write_plain("missing.txt", text)}, {"missing.txt:7", "field 'p'", "missing field"});
  const std::string no_pu = usdm_capture() + depth_spot(kT0 + 60, kE0, 106, 107, {}, {});
  expect_error({write_plain("nopu.txt", no_pu)}, {"nopu.txt:7", "field 'pu'"});
}

TEST(BinanceReader, LocalTimeGoingBackwardsIsAnError) {
  const std::string text = usdm_capture() + trade(kT0 + 49, kE0, 7003, "100.3", "0.1", true);
  expect_error({write_plain("back.txt", text)}, {"back.txt:7", "local timestamp goes backwards"});
}

TEST(BinanceReader, SymbolChangingMidStreamIsAnError) {
  const std::string text = usdm_capture() +
                           depth_usdm(kT0 + 60, kE0, 106, 107, 105, {}, {{"100.9", "1"}}, "ETHUSDT");
  expect_error({write_plain("sym.txt", text)}, {"sym.txt:7", "symbol changed mid-stream: ETHUSDT after BTCUSDT"});
}

TEST(BinanceReader, EmptyLinesAndOtherStreamsAreRecordsCountedWithoutEvents) {
  const std::string text = usdm_capture() + "\n" + std::to_string(kT0 + 60) +
                           " {\"stream\":\"btcusdt@markPrice\",\"data\":{\"e\":\"markPriceUpdate\",\"s\":\"BTCUSDT\"}}\n";
  auto src = open_binance({write_plain("other.txt", text)}, {});
  const std::vector<Event> ev = read_all(*src);
  EXPECT_EQ(src->records(), 8u);
  EXPECT_EQ(ev.size(), 14u);
  EXPECT_EQ(src->tolerated().get("binance.empty_lines"), 1u);
  EXPECT_EQ(src->tolerated().get("binance.unsupported_stream_messages"), 1u);
}

// ---------------------------------------------------------------------------------------------
// Instrument, batching, detection

TEST(BinanceReader, InstrumentComesFromTheSymbolAndTheSnapshotGcds) {
  const std::string p = write_plain("instr.txt", usdm_capture());
  auto src = open_binance({p}, {});
  const InstrumentSpec& s = src->instrument();  // valid before the first read()
  EXPECT_EQ(s.symbol_str(), "BTCUSDT");
  EXPECT_EQ(s.venue_str(), "binance-usdm");
  EXPECT_EQ(s.currency_str(), "USDT");
  EXPECT_EQ(s.price_decimals, 8);
  EXPECT_EQ(s.qty_decimals, 8);
  EXPECT_EQ(s.tick_size, 10000000);  // gcd(100.0, 99.8, 100.3, 100.5) = 0.1
  EXPECT_EQ(s.lot_size, 10000000);   // gcd(1.5, 3.0, 0.7, 4.0) = 0.1
  EXPECT_EQ(src->tolerated().get("binance.tick_size_inferred_raw"), 10000000u);
  EXPECT_EQ(src->records(), 0u);
  EXPECT_EQ(src->book_level(), BookLevel::kL2);

  SourceOptions o;
  o.tick_size = 1000000;
  auto src2 = open_binance({p}, o);
  EXPECT_EQ(src2->instrument().tick_size, 1000000);
  EXPECT_EQ(src2->tolerated().get("binance.tick_size_inferred_raw"), 0u);

  o.instrument = "ethusdt";
  EXPECT_THROW((void)open_binance({p}, o), Error);
  o.instrument = "btcusdt";
  EXPECT_NO_THROW((void)open_binance({p}, o));
}

TEST(BinanceReader, BatchSizeDoesNotChangeTheEvents) {
  const std::string p = write_plain("batch.txt", usdm_capture());
  auto a = open_binance({p}, {});
  auto b = open_binance({p}, {});
  const std::vector<Event> ea = read_all(*a, 1);
  const std::vector<Event> eb = read_all(*b, 1000);
  ASSERT_EQ(ea.size(), eb.size());
  for (std::size_t i = 0; i < ea.size(); ++i) {
    EXPECT_EQ(std::memcmp(&ea[i], &eb[i], sizeof(Event)), 0) << i;
  }
}

TEST(BinanceReader, OpenSourceDetectsTheCapture) {
  auto src = open_source({write_gzip("detect.gz", usdm_capture())});
  EXPECT_EQ(src->format(), "binance-usdm");
  EXPECT_EQ(read_all(*src).size(), 14u);
}

// ---------------------------------------------------------------------------------------------
// Real captures (SOURCES.md section B)

#define REQUIRE_FILES(paths)                                                           \
  for (const std::string& f_ : (paths)) {                                              \
    if (!std::filesystem::exists(f_)) {                                                \
      if (under_ci()) FAIL() << "real data missing under CI=true: " << f_;             \
      GTEST_SKIP() << "real data not found: " << f_ << " (set MMKIT_DATA_DIR)";        \
    }                                                                                  \
  }

// Futures ETH confirmed-point counts: not in SOURCES.md; measured with this reader (the
// equality of every such point is the check, the count documents the coverage).
constexpr long long kEthUsdm0808Confirmed = 80;
constexpr long long kEthUsdm0718Confirmed = 90;

struct Capture {
  const char* name;
  std::vector<const char*> files;  // relative to data_dir()/binance_l2
  const char* format;
  const char* symbol;
  std::uint64_t lines, depth, trades, tickers;  // SOURCES.md table, summed over the files
  Price tick;
  Qty lot;
  long long confirmed;  // futures: bookTickers at the last applied u (SOURCES.md); -1: spot
};

std::ostream& operator<<(std::ostream& os, const Capture& c) { return os << c.name; }

const Capture kCaptures[] = {
    {"usdm_btcusdt_20240808", {"usdm/btcusdt_20240808.gz"}, "binance-usdm", "BTCUSDT",
     93954, 6551, 21313, 66089, 10000000, 100000, 126},
    {"usdm_btcusdt_20240718_19", {"usdm/btcusdt_20240718.gz", "usdm/btcusdt_20240719.gz"},
     "binance-usdm", "BTCUSDT", 11414 + 60570, 3326 + 5696, 974 + 9727, 7113 + 45147, 10000000,
     100000, 106},
    {"usdm_ethusdt_20240808", {"usdm/ethusdt_20240808.gz"}, "binance-usdm", "ETHUSDT",
     74655, 6586, 14076, 53992, 1000000, 100000, kEthUsdm0808Confirmed},
    {"usdm_ethusdt_20240718_19", {"usdm/ethusdt_20240718.gz", "usdm/ethusdt_20240719.gz"},
     "binance-usdm", "ETHUSDT", 14003 + 55910, 3273 + 5656, 1640 + 12015, 9089 + 38239, 1000000,
     100000, kEthUsdm0718Confirmed},
    {"spot_btcusdt_20240808_09", {"spot/btcusdt_20240808.gz", "spot/btcusdt_20240809.gz"},
     "binance-spot", "BTCUSDT", 41249 + 58325, 3451 + 3044, 9757 + 10147, 28040 + 45134, 1000000,
     1000, -1},
    {"spot_ethusdt_20240808_09", {"spot/ethusdt_20240808.gz", "spot/ethusdt_20240809.gz"},
     "binance-spot", "ETHUSDT", 33618 + 46126, 3434 + 3036, 6106 + 8409, 24077 + 34681, 1000000,
     10000, -1},
};

struct ReplayResult {
  std::uint64_t applied_depth_records = 0;
  std::uint64_t trade_records = 0;
  std::uint64_t ticker_records = 0;
  std::uint64_t snapshots = 0;
  std::uint64_t complete_points = 0;
  std::uint64_t crossed_at_complete = 0;
  std::uint64_t u_not_increasing = 0;
  std::uint64_t book_errors = 0;
  std::uint64_t confirmed = 0;   // tickers whose u equals the last applied depth u
  std::uint64_t mismatches = 0;  // ... whose best bid / ask (price and qty) differ from the book
  std::uint64_t spot_ticker_at_book_top = 0;  // spot: ticker equal to the book's top (report)
  std::vector<std::int64_t> trade_exch_minus_local_ns;
};

template <class Book>
ReplayResult replay(EventSource& src, Book& book, bool futures) {
  ReplayResult r;
  std::vector<Event> buf(4096);
  std::uint64_t last_u = 0;
  bool have_u = false;
  Event bid_ticker;
  for (;;) {
    const std::size_t n = src.read(buf.data(), buf.size());
    if (n == 0) break;
    for (std::size_t i = 0; i < n; ++i) {
      const Event& e = buf[i];
      if (book.apply(e) != Errc::kOk) ++r.book_errors;
      switch (e.kind) {
        case EventKind::kSnapshotStart: ++r.snapshots; break;
        case EventKind::kLevelUpdate:
          if (!e.has(ef::kSnapshot) && e.has(ef::kEndOfRecord)) {
            if (have_u && e.seq <= last_u) ++r.u_not_increasing;
            last_u = e.seq;
            have_u = true;
            ++r.applied_depth_records;
          }
          break;
        case EventKind::kTrade:
          ++r.trade_records;
          r.trade_exch_minus_local_ns.push_back(e.exch_ts_ns - e.local_ts_ns);
          break;
        case EventKind::kBestBidAsk:
          if (e.side == Side::kBid) {
            bid_ticker = e;
            break;
          }
          ++r.ticker_records;
          {
            const book::Level bb = book.best(Side::kBid);
            const book::Level ba = book.best(Side::kAsk);
            const bool equal = bb.price == bid_ticker.price && bb.qty == bid_ticker.qty &&
                               ba.price == e.price && ba.qty == e.qty;
            if (futures && have_u && e.seq == last_u) {
              ++r.confirmed;
              if (!equal) ++r.mismatches;
            }
            if (!futures && equal) ++r.spot_ticker_at_book_top;
          }
          break;
        default: break;
      }
      if (e.has(ef::kComplete)) {
        ++r.complete_points;
        if (book.crossed()) ++r.crossed_at_complete;
      }
    }
  }
  return r;
}

class BinanceRealData : public ::testing::TestWithParam<Capture> {};

TEST_P(BinanceRealData, ReplayIsGaplessUncrossedAndMatchesTheVenueBookTicker) {
  const Capture& cap = GetParam();
  std::vector<std::string> paths;
  for (const char* f : cap.files) paths.push_back(data_dir() + "/binance_l2/" + f);
  REQUIRE_FILES(paths);

  auto src = open_source(paths);  // detection + open_binance
  EXPECT_EQ(src->format(), cap.format);
  EXPECT_EQ(src->instrument().symbol_str(), cap.symbol);
  EXPECT_EQ(src->instrument().venue_str(), cap.format);
  EXPECT_EQ(src->instrument().currency_str(), "USDT");
  EXPECT_EQ(src->instrument().tick_size, cap.tick);  // Binance's PRICE_FILTER tickSize
  EXPECT_EQ(src->instrument().lot_size, cap.lot);    // Binance's LOT_SIZE stepSize

  const bool futures = cap.confirmed >= 0;
  book::NaiveL2Book book;
  ReplayResult r;
  ASSERT_NO_THROW(r = replay(*src, book, futures));  // a sequence gap would throw
  const Counters& t = src->tolerated();

  EXPECT_EQ(src->records(), cap.lines);
  EXPECT_EQ(r.snapshots, 1u);
  EXPECT_EQ(r.applied_depth_records + t.get("binance.depth_dropped_before_sync") +
                t.get("binance.empty_depth_updates"),
            cap.depth);
  EXPECT_EQ(r.trade_records + t.get("binance.trades_not_market"), cap.trades);
  EXPECT_EQ(r.ticker_records, cap.tickers);
  EXPECT_EQ(cap.depth + cap.trades + cap.tickers + 1, cap.lines);  // every line accounted for
  EXPECT_EQ(r.book_errors, 0u);
  EXPECT_EQ(r.u_not_increasing, 0u);
  EXPECT_EQ(r.crossed_at_complete, 0u);
  EXPECT_GT(r.complete_points, r.applied_depth_records);
  EXPECT_EQ(t.get("binance.prices_off_tick"), 0u);
  if (futures) {
    EXPECT_EQ(r.confirmed, static_cast<std::uint64_t>(cap.confirmed));
    EXPECT_EQ(r.mismatches, 0u);
  }
  // Exchange time runs ahead of the capture's local clock (SOURCES.md: ~1.27 s; measured median
  // over trades: 1.27 s on 2024-08-08, 1.52 s on 2024-07-18/19). The reader must not shift it.
  ASSERT_FALSE(r.trade_exch_minus_local_ns.empty());
  auto& d = r.trade_exch_minus_local_ns;
  std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(d.size() / 2), d.end());
  const double median_s = static_cast<double>(d[d.size() / 2]) * 1e-9;
  EXPECT_GT(median_s, 1.1);
  EXPECT_LT(median_s, 1.6);

  std::cout << "[ " << cap.name << " ] records " << src->records() << ", applied depth "
            << r.applied_depth_records << ", dropped before sync "
            << t.get("binance.depth_dropped_before_sync") << ", trades " << r.trade_records
            << ", tickers " << r.ticker_records << ", kComplete points " << r.complete_points
            << ", confirmed ticker points " << r.confirmed << ", mismatches " << r.mismatches
            << ", spot tickers equal to the book top " << r.spot_ticker_at_book_top
            << ", absent removals " << t.get("binance.absent_level_removals")
            << ", median exch-local " << median_s << " s, final depth "
            << book.depth(Side::kBid) << "/" << book.depth(Side::kAsk) << "\n";
}

INSTANTIATE_TEST_SUITE_P(Captures, BinanceRealData, ::testing::ValuesIn(kCaptures),
                         [](const ::testing::TestParamInfo<Capture>& i) { return std::string(i.param.name); });

TEST(BinanceRealData, FastBookAgreesWithTheNaiveBookAtEveryCompletePoint) {
  const std::vector<std::string> paths = {data_dir() + "/binance_l2/usdm/btcusdt_20240808.gz"};
  REQUIRE_FILES(paths);
  auto src = open_binance(paths, {});
  book::NaiveL2Book naive;
  book::L2Book fast;
  std::vector<Event> buf(4096);
  std::uint64_t compared = 0, differ = 0;
  for (std::size_t n; (n = src->read(buf.data(), buf.size())) != 0;) {
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(naive.apply(buf[i]), Errc::kOk);
      ASSERT_EQ(fast.apply(buf[i]), Errc::kOk);
      if (!buf[i].has(ef::kComplete)) continue;
      ++compared;
      for (const Side s : {Side::kBid, Side::kAsk}) {
        for (std::size_t k = 0; k < 10; ++k) differ += naive.level(s, k) == fast.level(s, k) ? 0 : 1;
      }
    }
  }
  EXPECT_EQ(compared, 6551u - src->tolerated().get("binance.depth_dropped_before_sync") -
                          src->tolerated().get("binance.empty_depth_updates") + 1u);
  EXPECT_EQ(differ, 0u);
}

TEST(BinanceRealData, ContinuationDayAloneIsRejected) {
  const std::vector<std::string> paths = {data_dir() + "/binance_l2/usdm/btcusdt_20240719.gz"};
  REQUIRE_FILES(paths);
  try {
    (void)open_binance(paths, {});
    ADD_FAILURE() << "opened a continuation file without its snapshot";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("btcusdt_20240719.gz:1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mmkit::data
