#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "mmkit/book/replay.h"
#include "mmkit/core/error.h"

namespace mmkit::book {
namespace {

using data::BookLevel;
using data::Counters;
using data::EventSource;

// An in-memory stream: events as given, `records` total, locate -> "mem:<record+1>".
class VectorSource final : public EventSource {
 public:
  VectorSource(std::vector<Event> events, std::uint64_t records, BookLevel level)
      : events_(std::move(events)), records_(records), level_(level) {
    spec_.set_symbol("TEST");
    spec_.price_decimals = 2;
    spec_.tick_size = 1;
  }
  const InstrumentSpec& instrument() const override { return spec_; }
  BookLevel book_level() const override { return level_; }
  std::size_t read(Event* out, std::size_t capacity) override {
    std::size_t n = 0;
    while (n < capacity && pos_ < events_.size()) out[n++] = events_[pos_++];
    return n;
  }
  std::uint64_t records() const override { return pos_ == events_.size() ? records_ : 0; }
  std::string locate(std::uint64_t record) const override { return "mem:" + std::to_string(record + 1); }
  const Counters& tolerated() const override { return counters_; }
  std::string format() const override { return "memory"; }

 private:
  std::vector<Event> events_;
  std::size_t pos_ = 0;
  std::uint64_t records_;
  BookLevel level_;
  InstrumentSpec spec_;
  Counters counters_;
};

constexpr std::uint16_t kEnd = event_flags::kEndOfRecord | event_flags::kComplete;

Event level(std::uint64_t record, Side side, Price px, Qty qty, std::uint16_t flags = kEnd) {
  Event e;
  e.kind = EventKind::kLevelUpdate;
  e.record = record;
  e.seq = 100 + record;
  e.exch_ts_ns = 1000 + static_cast<TimestampNs>(record);
  e.side = side;
  e.price = px;
  e.qty = qty;
  e.flags = flags;
  return e;
}

std::vector<std::string> csv_lines(EventSource& src, const BookCsvOptions& o) {
  std::FILE* f = std::tmpfile();
  write_book_csv(src, f, o);
  std::rewind(f);
  std::vector<std::string> lines;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, f) != nullptr) {
    std::string s(buf);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    lines.push_back(s);
  }
  std::fclose(f);
  return lines;
}

TEST(BookCsv, OneRowPerRecordIncludingRecordsWithoutEvents) {
  // Record 0: bid; record 1: no event (e.g. dropped before sync); record 2: two events; record 3
  // trailing with no event.
  VectorSource src({level(0, Side::kBid, 10000, 5), level(2, Side::kAsk, 10100, 7, 0),
                    level(2, Side::kAsk, 10200, 1)},
                   4, BookLevel::kL2);
  BookCsvOptions o;
  o.depth = 2;
  const auto lines = csv_lines(src, o);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "exch_ts_ns,seq,bid_px_1,bid_qty_1,ask_px_1,ask_qty_1,bid_px_2,bid_qty_2,ask_px_2,ask_qty_2");
  EXPECT_EQ(lines[1], "1000,100,100.00,5,,,,,,");
  EXPECT_EQ(lines[2], ",,100.00,5,,,,,,");
  EXPECT_EQ(lines[3], "1002,102,100.00,5,101.00,7,,,102.00,1");
  EXPECT_EQ(lines[4], ",,100.00,5,101.00,7,,,102.00,1");
}

TEST(BookCsv, EveryKWritesRecordsKMinusOneTwoKMinusOne) {
  std::vector<Event> ev;
  for (std::uint64_t r = 0; r < 7; ++r) ev.push_back(level(r, Side::kBid, 10000, static_cast<Qty>(r + 1)));
  VectorSource src(ev, 7, BookLevel::kL2);
  BookCsvOptions o;
  o.depth = 1;
  o.every = 3;
  const auto lines = csv_lines(src, o);
  ASSERT_EQ(lines.size(), 3u);  // header + records 2 and 5
  EXPECT_EQ(lines[1], "1002,102,100.00,3,,");
  EXPECT_EQ(lines[2], "1005,105,100.00,6,,");
}

TEST(BookCsv, CrossedBookAtACompletePointIsAnErrorNamingTheRecord) {
  VectorSource src({level(0, Side::kBid, 10000, 5), level(1, Side::kAsk, 9900, 1)}, 2, BookLevel::kL2);
  try {
    (void)replay(src);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mem:2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("crossed"), std::string::npos) << e.what();
  }
}

TEST(BookCsv, TransientCrossingInsideAPacketIsAllowed) {
  // The ask is crossed only until the bid is lifted later in the same packet.
  VectorSource src({level(0, Side::kBid, 10000, 5), level(1, Side::kAsk, 9900, 1, 0),
                    level(1, Side::kBid, 10000, 0)},
                   2, BookLevel::kL2);
  EXPECT_NO_THROW((void)replay(src));
}

TEST(BookCsv, RejectedEventIsAnErrorWithOrderAndReason) {
  Event cancel;
  cancel.kind = EventKind::kCancel;
  cancel.order_id = 77;
  cancel.side = Side::kBid;
  cancel.price = 10000;
  cancel.qty = 1;
  cancel.flags = kEnd;
  VectorSource src({cancel}, 1, BookLevel::kL3);
  try {
    (void)replay(src);
    FAIL();
  } catch (const Error& e) {
    const std::string w = e.what();
    EXPECT_NE(w.find("mem:1"), std::string::npos) << w;
    EXPECT_NE(w.find("order 77"), std::string::npos) << w;
    EXPECT_NE(w.find("unknown order id"), std::string::npos) << w;
  }
}

TEST(BookCsv, FastAndNaiveBooksWriteTheSameCsv) {
  std::vector<Event> ev;
  std::uint64_t r = 0;
  for (int i = 0; i < 50; ++i, ++r) {
    Event a;
    a.kind = EventKind::kAdd;
    a.order_id = static_cast<OrderId>(i + 1);
    a.side = i % 2 == 0 ? Side::kBid : Side::kAsk;
    a.price = a.side == Side::kBid ? 10000 - (i % 7) : 10010 + (i % 5);
    a.qty = 1 + i % 3;
    a.record = r;
    a.flags = kEnd;
    ev.push_back(a);
  }
  for (int i = 0; i < 50; i += 3, ++r) {
    Event c;
    c.kind = EventKind::kCancel;
    c.order_id = static_cast<OrderId>(i + 1);
    c.qty = 1;
    c.record = r;
    c.flags = kEnd;
    ev.push_back(c);
  }
  BookCsvOptions o;
  o.depth = 5;
  VectorSource a(ev, r, BookLevel::kL3), b(ev, r, BookLevel::kL3);
  o.impl = BookImpl::kFast;
  const auto fast = csv_lines(a, o);
  o.impl = BookImpl::kNaive;
  const auto naive = csv_lines(b, o);
  EXPECT_EQ(fast.size(), r + 1);
  EXPECT_EQ(fast, naive);
}

TEST(BookCsv, ZeroDepthOrEveryIsRejected) {
  VectorSource src({}, 0, BookLevel::kL2);
  BookCsvOptions o;
  o.depth = 0;
  std::FILE* f = std::tmpfile();
  EXPECT_THROW((void)write_book_csv(src, f, o), Error);
  o.depth = 1;
  o.every = 0;
  EXPECT_THROW((void)write_book_csv(src, f, o), Error);
  std::fclose(f);
}

}  // namespace
}  // namespace mmkit::book

namespace mmkit::book {
namespace {

Event bbo(std::uint64_t record, Side side, Price px, Qty qty, std::uint64_t seq) {
  Event e;
  e.kind = EventKind::kBestBidAsk;
  e.record = record;
  e.side = side;
  e.price = px;
  e.qty = qty;
  e.seq = seq;
  e.flags = side == Side::kAsk ? event_flags::kEndOfRecord : 0;
  return e;
}

TEST(VenueBbo, OnlyTickersAlignedWithTheLastDepthUpdateAreCompared) {
  std::vector<Event> ev{level(0, Side::kBid, 10000, 5, 0), level(0, Side::kAsk, 10100, 2)};
  ev.push_back(bbo(1, Side::kBid, 10000, 5, 100));  // aligned (seq 100 = record 0's seq): match
  ev.push_back(bbo(1, Side::kAsk, 10100, 2, 100));
  ev.push_back(bbo(2, Side::kBid, 10000, 9, 99));  // not aligned: ignored although different
  ev.push_back(bbo(2, Side::kAsk, 10100, 2, 99));
  ev.push_back(bbo(3, Side::kBid, 10000, 5, 100));  // aligned, ask qty differs: mismatch
  ev.push_back(bbo(3, Side::kAsk, 10100, 3, 100));
  VectorSource src(ev, 4, BookLevel::kL2);
  const BboCheck c = check_venue_bbo(src);
  EXPECT_EQ(c.points, 2u);
  EXPECT_EQ(c.mismatches, 1u);
  EXPECT_NE(c.first_mismatch.find("mem:4"), std::string::npos) << c.first_mismatch;
}

}  // namespace
}  // namespace mmkit::book
