// Databento MBO: the CSV dump and DBN decoders (MboRecordReader), the L3 EventSource
// (open_databento), and replays of the real CME ES and DBEQ GOOG/GOOGL files into both L3 books.
#include <gtest/gtest.h>
#include <zstd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "mmkit/book/book_check.h"
#include "mmkit/book/l3_book.h"
#include "mmkit/book/naive_l3_book.h"
#include "mmkit/core/decimal.h"
#include "mmkit/core/error.h"
#include "mmkit/core/time.h"
#include "mmkit/data/databento.h"
#include "real_data.h"

namespace {

using mmkit::test::data_dir;
using mmkit::test::under_ci;

using mmkit::Event;
using mmkit::EventKind;
using mmkit::Side;
using mmkit::data::SourceOptions;
using mmkit::data::databento::MboRecord;
using mmkit::data::databento::MboRecordReader;
namespace db = mmkit::data::databento;
namespace ef = mmkit::event_flags;

// ---------------------------------------------------------------------------------------------
// helpers

#define REQUIRE_DATA(path)                                                          \
  do {                                                                              \
    if (!std::filesystem::exists(path)) {                                           \
      if (under_ci()) FAIL() << "real data missing under CI=true: " << (path);         \
      GTEST_SKIP() << "real data not found (set MMKIT_DATA_DIR): " << (path);       \
    }                                                                               \
  } while (0)

std::string cme(const char* ext) { return data_dir() + "/cme_mbo/esh4-glbx-mdp3-20231225.mbo." + ext; }
std::string dbeq(const char* ext) { return data_dir() + "/dbeq_mbo/dbeq-basic-20240403.mbo." + ext; }

std::string temp_path(const std::string& name) {
  return (std::filesystem::path(testing::TempDir()) / ("mmkit_databento_" + name)).string();
}

std::string write_file(const std::string& name, const std::string& bytes) {
  const std::string p = temp_path(name);
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

constexpr const char* kHeader =
    "ts_recv_ns,ts_event_ns,publisher_id,publisher,instrument_id,symbol,action,side,price_1e9,"
    "size,order_id,flags,channel_id,ts_in_delta_ns,sequence\n";

MboRecord rec(std::uint64_t ts_recv, char action, char side, std::int64_t price, std::uint32_t size,
              std::uint64_t order_id, std::uint8_t flags = 0x80, std::uint32_t instrument = 17077,
              std::uint16_t publisher = 1) {
  MboRecord r;
  r.ts_recv = ts_recv;
  r.ts_event = ts_recv - 1000;
  r.price = price;
  r.order_id = order_id;
  r.size = size;
  r.instrument_id = instrument;
  r.sequence = static_cast<std::uint32_t>(ts_recv % 100000);
  r.ts_in_delta = -17;
  r.publisher_id = publisher;
  r.flags = flags;
  r.channel_id = 3;
  r.action = action;
  r.side = side;
  return r;
}

std::string csv_row(const MboRecord& r, const std::string& symbol, const std::string& publisher) {
  return std::to_string(r.ts_recv) + "," + std::to_string(r.ts_event) + "," + std::to_string(r.publisher_id) +
         "," + publisher + "," + std::to_string(r.instrument_id) + "," + symbol + "," + r.action + "," + r.side +
         "," + std::to_string(r.price) + "," + std::to_string(r.size) + "," + std::to_string(r.order_id) + "," +
         std::to_string(r.flags) + "," + std::to_string(r.channel_id) + "," + std::to_string(r.ts_in_delta) +
         "," + std::to_string(r.sequence) + "\n";
}

std::string csv(const std::vector<MboRecord>& recs, const std::map<std::uint32_t, std::string>& symbols = {{17077, "ESH4"}}) {
  std::string s = kHeader;
  for (const auto& r : recs) s += csv_row(r, symbols.at(r.instrument_id), db::publisher_label(r.publisher_id));
  return s;
}

template <class T>
void put(std::string& s, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  s.append(b, sizeof(T));
}
void put_cstr(std::string& s, const std::string& v, std::size_t n) {
  std::string c = v;
  c.resize(n, '\0');
  s += c;
}

struct Mapping {
  std::string raw;
  std::uint32_t start, end;  // YYYYMMDD
  std::uint32_t instrument_id;
};

// A DBN file as specified by Databento (metadata v1 or v2/v3, then 56-byte MboMsg records).
std::string dbn(int version, const std::vector<MboRecord>& recs, const std::vector<Mapping>& mappings,
                std::uint8_t stype_in = 1) {
  const std::size_t cstr = version == 1 ? 22 : 71;
  std::string m;
  put_cstr(m, "GLBX.MDP3", 16);
  put<std::uint16_t>(m, 0);  // mbo
  put<std::uint64_t>(m, 1703462400000000000ULL);
  put<std::uint64_t>(m, 1703548800000000000ULL);
  put<std::uint64_t>(m, 0);
  if (version == 1) put<std::uint64_t>(m, recs.size());
  put<std::uint8_t>(m, stype_in);
  put<std::uint8_t>(m, 0);  // stype_out instrument_id
  put<std::uint8_t>(m, 0);  // ts_out
  if (version >= 2) put<std::uint16_t>(m, static_cast<std::uint16_t>(cstr));
  m.append(version == 1 ? 47 : 53, '\0');
  put<std::uint32_t>(m, 0);  // schema definition
  put<std::uint32_t>(m, static_cast<std::uint32_t>(mappings.size()));
  for (const auto& mp : mappings) put_cstr(m, mp.raw, cstr);
  put<std::uint32_t>(m, 0);  // partial
  put<std::uint32_t>(m, 0);  // not_found
  put<std::uint32_t>(m, static_cast<std::uint32_t>(mappings.size()));
  for (const auto& mp : mappings) {
    put_cstr(m, mp.raw, cstr);
    put<std::uint32_t>(m, 1);
    put<std::uint32_t>(m, mp.start);
    put<std::uint32_t>(m, mp.end);
    put_cstr(m, std::to_string(mp.instrument_id), cstr);
  }
  std::string out = "DBN";
  out += static_cast<char>(version);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(m.size()));
  out += m;
  for (const auto& r : recs) {
    put<std::uint8_t>(out, 14);
    put<std::uint8_t>(out, 0xA0);
    put(out, r.publisher_id);
    put(out, r.instrument_id);
    put(out, r.ts_event);
    put(out, r.order_id);
    put(out, r.price);
    put(out, r.size);
    put(out, r.flags);
    put(out, r.channel_id);
    out += r.action;
    out += r.side;
    put(out, r.ts_recv);
    put(out, r.ts_in_delta);
    put(out, r.sequence);
  }
  return out;
}

std::string zstd(const std::string& raw) {
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  const std::size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

const std::vector<Mapping> kEsMapping = {{"ESH4", 20231225, 20231226, 17077}};
constexpr std::uint64_t kT0 = 1703541600000000000ULL;  // 2023-12-25 22:00 UTC

std::vector<MboRecord> read_all(const std::string& path, std::vector<std::string>* symbols = nullptr) {
  auto r = MboRecordReader::open(path);
  std::vector<MboRecord> out;
  MboRecord m;
  while (r->next(m)) {
    out.push_back(m);
    if (symbols != nullptr) symbols->emplace_back(r->symbol());
  }
  return out;
}

std::vector<Event> read_events(mmkit::data::EventSource& src) {
  std::vector<Event> out;
  Event buf[97];
  std::size_t n;
  while ((n = src.read(buf, 97)) > 0) out.insert(out.end(), buf, buf + n);
  return out;
}

std::vector<Event> read_events(const std::string& path, const SourceOptions& o = {}) {
  auto src = mmkit::data::open_databento({path}, o);
  return read_events(*src);
}

// Runs f and returns the mmkit::Error text ("" if nothing was thrown).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const mmkit::Error& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_ERROR_HAS(stmt, ...)                                      \
  do {                                                                   \
    const std::string msg_ = error_of([&] { (void)(stmt); });            \
    ASSERT_FALSE(msg_.empty()) << "no mmkit::Error from " #stmt;         \
    for (const char* part_ : {__VA_ARGS__}) {                            \
      EXPECT_NE(msg_.find(part_), std::string::npos) << "'" << part_ << "' not in: " << msg_; \
    }                                                                    \
  } while (0)

// ---------------------------------------------------------------------------------------------
// publisher labels

TEST(DatabentoPublisher, LabelDropsAVenueThatRepeatsTheDataset) {
  EXPECT_EQ(db::publisher_label(1), "GLBX.MDP3");
  EXPECT_EQ(db::publisher_label(2), "XNAS.ITCH");
  EXPECT_EQ(db::publisher_label(39), "DBEQ.BASIC.XCHI");
  EXPECT_EQ(db::publisher_label(40), "DBEQ.BASIC.XCIS");
  EXPECT_EQ(db::publisher_label(41), "DBEQ.BASIC.IEXG");
  EXPECT_EQ(db::publisher_label(6), "BATY.PITCH.BATS");
  EXPECT_EQ(db::publisher_label(999), "publisher-999");
}

// ---------------------------------------------------------------------------------------------
// record readers on synthetic files

TEST(DatabentoRecordReader, CsvRowIsReadFieldForField) {
  const std::string p = write_file(
      "fields.csv", std::string(kHeader) +
                        "1703541600181198464,1703541600180087113,1,GLBX.MDP3,17077,ESH4,A,B,4797500000000,6,"
                        "6412777264941,130,7,-17261,4957\n");
  auto r = MboRecordReader::open(p);
  MboRecord m;
  ASSERT_TRUE(r->next(m));
  EXPECT_EQ(m.ts_recv, 1703541600181198464ULL);
  EXPECT_EQ(m.ts_event, 1703541600180087113ULL);
  EXPECT_EQ(m.publisher_id, 1);
  EXPECT_EQ(r->publisher(), "GLBX.MDP3");
  EXPECT_EQ(m.instrument_id, 17077u);
  EXPECT_EQ(r->symbol(), "ESH4");
  EXPECT_EQ(m.action, 'A');
  EXPECT_EQ(m.side, 'B');
  EXPECT_EQ(m.price, 4797500000000);
  EXPECT_EQ(m.size, 6u);
  EXPECT_EQ(m.order_id, 6412777264941ULL);
  EXPECT_EQ(m.flags, 130);
  EXPECT_EQ(m.channel_id, 7);
  EXPECT_EQ(m.ts_in_delta, -17261);
  EXPECT_EQ(m.sequence, 4957u);
  EXPECT_EQ(r->where().line, 2u);
  EXPECT_EQ(r->format(), "databento-csv");
  EXPECT_EQ(r->metadata(), nullptr);
  EXPECT_FALSE(r->next(m));
}

TEST(DatabentoRecordReader, DbnV1PlainAndV3ZstdDecodeToTheSameRecordsAsTheCsv) {
  const std::vector<MboRecord> recs = {
      rec(kT0 + 1, 'A', 'B', 4799000000000, 2, 11, 0x28),
      rec(kT0 + 2, 'A', 'A', 4800250000000, 5, 12, 0x80),
      rec(kT0 + 3, 'T', 'N', db::kUndefPrice, 1, 0, 0),
      rec(kT0 + 4, 'R', 'N', db::kUndefPrice, 0, 0, 0xA0),
  };
  const auto from_csv = read_all(write_file("same.csv", csv(recs)));
  std::vector<std::string> sym1, sym3;
  const auto from_v1 = read_all(write_file("same_v1.dbn", dbn(1, recs, kEsMapping)), &sym1);
  const auto from_v3 = read_all(write_file("same_v3.dbn.zst", zstd(dbn(3, recs, kEsMapping))), &sym3);
  EXPECT_EQ(from_csv, recs);
  EXPECT_EQ(from_v1, recs);
  EXPECT_EQ(from_v3, recs);
  EXPECT_EQ(sym1, std::vector<std::string>(4, "ESH4"));
  EXPECT_EQ(sym3, std::vector<std::string>(4, "ESH4"));

  auto r = MboRecordReader::open(temp_path("same_v3.dbn.zst"));
  ASSERT_NE(r->metadata(), nullptr);
  EXPECT_EQ(r->metadata()->version, 3);
  EXPECT_EQ(r->metadata()->dataset, "GLBX.MDP3");
  EXPECT_EQ(r->metadata()->symbols, std::vector<std::string>{"ESH4"});
  EXPECT_EQ(r->format(), "databento-dbn");
  MboRecord m;
  ASSERT_TRUE(r->next(m));
  EXPECT_EQ(r->publisher(), "GLBX.MDP3");
  ASSERT_TRUE(r->next(m));
  EXPECT_EQ(r->where().byte_offset, r->metadata()->records_offset + 56);
}

TEST(DatabentoRecordReader, DbnSymbolResolvesOnlyInsideTheMappingDays) {
  // ts_recv on 2023-12-26 is outside [20231225, 20231226).
  const std::vector<MboRecord> recs = {rec(kT0, 'A', 'B', 1000000000, 1, 1),
                                       rec(kT0 + 86'400'000'000'000ULL, 'A', 'B', 1000000000, 1, 2)};
  std::vector<std::string> syms;
  read_all(write_file("days.dbn", dbn(1, recs, kEsMapping)), &syms);
  EXPECT_EQ(syms, (std::vector<std::string>{"ESH4", ""}));
}

TEST(DatabentoRecordReader, DbnWithoutRawSymbolMappingIsSelectedByNumericIdAndSaysSo) {
  const std::vector<MboRecord> recs = {rec(kT0, 'A', 'B', 1000000000, 1, 1)};
  const std::string p = write_file("nosym.dbn", dbn(1, recs, kEsMapping, /*stype_in=*/3));  // continuous
  SourceOptions o;
  o.instrument = "17077";
  auto src = mmkit::data::open_databento({p}, o);
  EXPECT_EQ(src->instrument().symbol_str(), "17077");
  EXPECT_EQ(src->instrument().instrument_id, 17077u);
  EXPECT_EQ(src->tolerated().get("databento.instrument_selected_by_id_without_symbol"), 1u);
  EXPECT_EQ(read_events(*src).size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// record reader errors

TEST(DatabentoRecordReaderErrors, CsvWithAnotherHeaderIsRejectedAtLine1) {
  const std::string p = write_file("badheader.csv", "ts_recv,price\n1,2\n");
  EXPECT_ERROR_HAS(MboRecordReader::open(p), "badheader.csv:1", "not a Databento MBO CSV dump");
}

TEST(DatabentoRecordReaderErrors, CsvWrongColumnCountNamesTheLine) {
  const std::vector<MboRecord> recs = {rec(kT0, 'A', 'B', 1000000000, 1, 1)};
  const std::string p = write_file("columns.csv", csv(recs) + "1,2,3\n");
  auto r = MboRecordReader::open(p);
  MboRecord m;
  ASSERT_TRUE(r->next(m));
  EXPECT_ERROR_HAS(r->next(m), "columns.csv:3", "expected 15 columns, found 3");
}

TEST(DatabentoRecordReaderErrors, CsvUnparsableFieldNamesLineAndColumn) {
  std::string body = csv({rec(kT0, 'A', 'B', 1000000000, 1, 1)});
  body.replace(body.find("1000000000"), 10, "10.5");
  const std::string p = write_file("field.csv", body);
  auto r = MboRecordReader::open(p);
  MboRecord m;
  EXPECT_ERROR_HAS(r->next(m), "field.csv:2", "field 'price_1e9'", "unparsable integer '10.5'");
}

TEST(DatabentoRecordReaderErrors, CsvOutOfRangeFlagsAreRejected) {
  std::string body = csv({rec(kT0, 'A', 'B', 1000000000, 1, 1, 0x80)});
  body.replace(body.find(",128,"), 5, ",256,");
  auto r = MboRecordReader::open(write_file("flags.csv", body));
  MboRecord m;
  EXPECT_ERROR_HAS(r->next(m), "flags.csv:2", "field 'flags'", "out-of-range");
}

TEST(DatabentoRecordReaderErrors, UnknownActionAndSideAreRejectedInCsvAndDbn) {
  auto r1 = MboRecordReader::open(write_file("action.csv", csv({rec(kT0, 'X', 'B', 1, 1, 1)})));
  auto r2 = MboRecordReader::open(write_file("side.csv", csv({rec(kT0, 'A', 'Q', 1, 1, 1)})));
  MboRecord m;
  EXPECT_ERROR_HAS(r1->next(m), "action.csv:2", "field 'action'", "unknown action 'X'");
  EXPECT_ERROR_HAS(r2->next(m), "side.csv:2", "field 'side'", "unknown side 'Q'");

  const std::string bytes = dbn(1, {rec(kT0, 'A', 'B', 1, 1, 1), rec(kT0, 'X', 'B', 1, 1, 2)}, kEsMapping);
  auto r3 = MboRecordReader::open(write_file("action.dbn", bytes));
  ASSERT_TRUE(r3->next(m));
  const std::string action_at = "action.dbn @ byte " + std::to_string(r3->metadata()->records_offset + 56 + 38);
  EXPECT_ERROR_HAS(r3->next(m), action_at.c_str(), "field 'action'", "unknown action 'X'");
}

TEST(DatabentoRecordReaderErrors, DbnWithoutMagicOrOfAnUnknownVersionIsRejected) {
  std::string v9 = dbn(1, {}, kEsMapping);
  v9[3] = 9;
  EXPECT_ERROR_HAS(MboRecordReader::open(write_file("v9.dbn", v9)), "v9.dbn @ byte 3", "unsupported DBN version 9");
  std::string huge = dbn(1, {}, kEsMapping);
  huge[7] = 0x7F;  // metadata length ~2 GiB
  EXPECT_ERROR_HAS(MboRecordReader::open(write_file("huge.dbn", huge)), "huge.dbn @ byte 4", "implausible metadata length");
  std::string notdbn = zstd("hello, not a DBN stream at all");
  EXPECT_ERROR_HAS(MboRecordReader::open(write_file("notdbn.dbn.zst", notdbn)), "notdbn.dbn.zst @ byte 0",
                   "missing the 'DBN' magic");
}

TEST(DatabentoRecordReaderErrors, DbnTruncatedMetadataAndRecordsNameTheByteOffset) {
  const std::string full = dbn(1, {rec(kT0, 'A', 'B', 1, 1, 1), rec(kT0, 'A', 'B', 1, 1, 2)}, kEsMapping);
  EXPECT_ERROR_HAS(MboRecordReader::open(write_file("shortmeta.dbn", full.substr(0, 60))), "shortmeta.dbn @ byte 4",
                   "truncated metadata");
  auto r = MboRecordReader::open(write_file("shortrec.dbn", full.substr(0, full.size() - 10)));
  MboRecord m;
  ASSERT_TRUE(r->next(m));
  const std::string second = "shortrec.dbn @ byte " + std::to_string(r->metadata()->records_offset + 56);
  EXPECT_ERROR_HAS(r->next(m), second.c_str(), "truncated record");

  std::string zero_len = full;
  zero_len[r->metadata()->records_offset] = 2;  // 8 bytes: shorter than the header
  auto r2 = MboRecordReader::open(write_file("zerolen.dbn", zero_len));
  EXPECT_ERROR_HAS(r2->next(m), "shorter than the 16-byte record header");
}

TEST(DatabentoRecordReaderErrors, TruncatedZstdFrameIsAnError) {
  std::vector<MboRecord> recs;
  std::uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 20000; ++i) {  // several zstd blocks of poorly compressible records
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    recs.push_back(rec(kT0 + i, 'A', 'B', static_cast<std::int64_t>(x >> 20), 1, x));
  }
  const std::string z = zstd(dbn(3, recs, kEsMapping));
  const std::string p = write_file("cut.dbn.zst", z.substr(0, z.size() - 40));
  std::uint64_t decoded = 0;
  EXPECT_ERROR_HAS(
      [&] {
        auto r = MboRecordReader::open(p);
        MboRecord m;
        while (r->next(m)) ++decoded;
      }(),
      "cut.dbn.zst @ byte");
  EXPECT_GT(decoded, 1000u);
  EXPECT_LT(decoded, recs.size());
}

TEST(DatabentoRecordReaderErrors, NonMboRecordsAreSkippedAndCounted) {
  std::string bytes = dbn(1, {rec(kT0, 'A', 'B', 1, 1, 1)}, kEsMapping);
  std::string sys(24, '\0');  // a 24-byte record of rtype 0x17 (SystemMsg-like) before the MBO
  sys[0] = 6;
  sys[1] = 0x17;
  auto r0 = MboRecordReader::open(write_file("nonmbo0.dbn", bytes));
  const std::size_t at = r0->metadata()->records_offset;
  bytes.insert(at, sys);
  auto r = MboRecordReader::open(write_file("nonmbo.dbn", bytes));
  MboRecord m;
  ASSERT_TRUE(r->next(m));
  EXPECT_EQ(m.order_id, 1u);
  EXPECT_EQ(r->where().byte_offset, at + 24);
  EXPECT_EQ(r->non_mbo_records(), 1u);
  auto src = mmkit::data::open_databento({temp_path("nonmbo.dbn")}, {});
  EXPECT_EQ(read_events(*src).front().record, 1u);
  EXPECT_EQ(src->records(), 2u);
  EXPECT_EQ(src->tolerated().get("databento.non_mbo_records"), 1u);
}

// ---------------------------------------------------------------------------------------------
// the EventSource on synthetic files

TEST(DatabentoSource, ActionsBecomeEventsWithTheVenueFlags) {
  const std::vector<MboRecord> recs = {
      rec(kT0 + 1, 'A', 'B', 4799000000000, 2, 11, 0x28),      // snapshot, bad ts_recv
      rec(kT0 + 2, 'A', 'A', 4800250000000, 5, 12, 0x80),
      rec(kT0 + 3, 'T', 'B', 4800250000000, 3, 0, 0x00),
      rec(kT0 + 3, 'F', 'A', 4800250000000, 3, 12, 0x00),
      rec(kT0 + 3, 'C', 'A', 4800250000000, 3, 12, 0x80),
      rec(kT0 + 4, 'M', 'B', 4799500000000, 4, 11, 0x80),
      rec(kT0 + 5, 'T', 'N', db::kUndefPrice, 1, 0, 0x00),
      rec(kT0 + 6, 'R', 'N', db::kUndefPrice, 0, 0, 0x80),
  };
  const auto ev = read_events(write_file("kinds.csv", csv(recs)));
  ASSERT_EQ(ev.size(), recs.size());
  const EventKind kinds[] = {EventKind::kAdd,   EventKind::kAdd,    EventKind::kTrade, EventKind::kFill,
                             EventKind::kCancel, EventKind::kModify, EventKind::kTrade, EventKind::kClear};
  for (std::size_t i = 0; i < ev.size(); ++i) {
    EXPECT_EQ(ev[i].kind, kinds[i]) << i;
    EXPECT_EQ(ev[i].record, i);
    EXPECT_TRUE(ev[i].has(ef::kEndOfRecord));
    EXPECT_EQ(ev[i].has(ef::kComplete), (recs[i].flags & 0x80) != 0) << i;
    EXPECT_EQ(ev[i].exch_ts_ns, static_cast<std::int64_t>(recs[i].ts_event));
    EXPECT_EQ(ev[i].local_ts_ns, static_cast<std::int64_t>(recs[i].ts_recv));
    EXPECT_EQ(ev[i].seq, recs[i].sequence);
    EXPECT_EQ(ev[i].instrument_id, 17077u);
    EXPECT_EQ(ev[i].order_id, recs[i].order_id);
  }
  EXPECT_TRUE(ev[0].has(ef::kSnapshot));
  EXPECT_TRUE(ev[0].has(ef::kBadTs));
  EXPECT_FALSE(ev[1].has(ef::kSnapshot));
  EXPECT_EQ(ev[0].side, Side::kBid);
  EXPECT_EQ(ev[0].price, 4799000000000);
  EXPECT_EQ(ev[0].qty, 2);
  EXPECT_EQ(ev[2].side, Side::kBid);  // trade: aggressor
  EXPECT_EQ(ev[4].qty, 3);            // cancel: quantity removed
  EXPECT_EQ(ev[5].price, 4799500000000);
  EXPECT_EQ(ev[5].qty, 4);            // modify: new size
  EXPECT_EQ(ev[6].side, Side::kNone);
  EXPECT_EQ(ev[6].price, mmkit::kNoPrice);
}

TEST(DatabentoSource, InstrumentSpecAndTickFromThePricesGcd) {
  const std::vector<MboRecord> recs = {rec(kT0 + 1, 'A', 'B', 4799000000000, 2, 11),
                                       rec(kT0 + 2, 'A', 'A', 4800250000000, 5, 12),
                                       rec(kT0 + 3, 'A', 'A', 4800750000000, 5, 13)};
  const std::string p = write_file("spec.csv", csv(recs));
  auto src = mmkit::data::open_databento({p}, {});
  const auto& s = src->instrument();
  EXPECT_EQ(s.symbol_str(), "ESH4");
  EXPECT_EQ(s.venue_str(), "GLBX.MDP3");
  EXPECT_EQ(s.currency_str(), "USD");
  EXPECT_EQ(s.price_decimals, 9);
  EXPECT_EQ(s.qty_decimals, 0);
  EXPECT_EQ(s.tick_size, 250000000);
  EXPECT_EQ(s.lot_size, 1);
  EXPECT_EQ(s.instrument_id, 17077u);
  EXPECT_EQ(src->book_level(), mmkit::data::BookLevel::kL3);
  EXPECT_EQ(src->format(), "databento-mbo");
  SourceOptions o;
  o.tick_size = 10000000;
  EXPECT_EQ(mmkit::data::open_databento({p}, o)->instrument().tick_size, 10000000);
}

TEST(DatabentoSource, OtherStreamsCountAsRecordsAndPerStreamCounters) {
  const std::map<std::uint32_t, std::string> syms = {{7151, "GOOG"}, {7152, "GOOGL"}};
  const std::vector<MboRecord> recs = {
      rec(kT0 + 1, 'A', 'B', 150000000000, 100, 1, 0x80, 7151, 39),
      rec(kT0 + 2, 'A', 'B', 151000000000, 100, 1, 0xC0, 7152, 40),  // TOB
      rec(kT0 + 3, 'A', 'B', 152000000000, 100, 2, 0x80, 7152, 39),
      rec(kT0 + 4, 'C', 'B', 150000000000, 100, 1, 0x80, 7151, 39),
      rec(kT0 + 5, 'A', 'A', 151000000000, 100, 7, 0xC0, 7151, 41),  // TOB
  };
  const std::string p = write_file("streams.csv", csv(recs, syms));
  SourceOptions o;
  o.instrument = "GOOG";
  auto src = mmkit::data::open_databento({p}, o);
  EXPECT_EQ(src->instrument().venue_str(), "DBEQ.BASIC.XCHI");  // default: the order-by-order one
  const auto ev = read_events(*src);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].record, 0u);
  EXPECT_EQ(ev[1].record, 3u);
  EXPECT_EQ(src->records(), 5u);
  EXPECT_EQ(src->tolerated().get("databento.records_not_selected"), 3u);
  EXPECT_EQ(src->tolerated().get("databento.records_not_selected:GOOGL/40"), 1u);
  EXPECT_EQ(src->tolerated().get("databento.records_not_selected:GOOGL/39"), 1u);
  EXPECT_EQ(src->tolerated().get("databento.records_not_selected:GOOG/41"), 1u);
  EXPECT_EQ(src->locate(3), p + ":5");

  const auto streams = db::scan_mbo({p});
  ASSERT_EQ(streams.size(), 4u);
  EXPECT_EQ(streams[0].symbol, "GOOG");
  EXPECT_EQ(streams[0].records, 2u);
  EXPECT_EQ(streams[0].action_counts[1], 1u);  // one cancel
  EXPECT_EQ(streams[1].tob_records, 1u);
}

TEST(DatabentoSource, SeveralFilesAreOneStreamWithRecordsCountedAcrossThem) {
  const std::string a = write_file("multi_a.dbn.zst", zstd(dbn(1, {rec(kT0 + 1, 'A', 'B', 1000000000, 1, 1)}, kEsMapping)));
  const std::string b = write_file("multi_b.csv", csv({rec(kT0 + 2, 'C', 'B', 1000000000, 1, 1)}));
  auto src = mmkit::data::open_databento({a, b}, {});
  const auto ev = read_events(*src);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].kind, EventKind::kCancel);
  EXPECT_EQ(ev[1].record, 1u);
  EXPECT_EQ(src->locate(1), b + ":2");
  EXPECT_NE(src->locate(0).find(" @ byte "), std::string::npos);
}

TEST(DatabentoSource, FillWithoutSideTakesTheOrdersSideAndFillsOfUnknownIdsAreCounted) {
  const std::vector<MboRecord> recs = {rec(kT0 + 1, 'A', 'A', 1000000000, 1, 5),
                                       rec(kT0 + 2, 'F', 'N', 1000000000, 1, 5, 0),
                                       rec(kT0 + 2, 'F', 'N', 1000000000, 4, 99, 0),
                                       rec(kT0 + 2, 'F', 'A', 1000000000, 3, 5, 0),  // iceberg
                                       rec(kT0 + 3, 'C', 'A', 1000000000, 1, 5)};
  auto src = mmkit::data::open_databento({write_file("fills.csv", csv(recs))}, {});
  const auto ev = read_events(*src);
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_EQ(ev[1].side, Side::kAsk);
  EXPECT_EQ(ev[2].side, Side::kNone);
  EXPECT_EQ(src->tolerated().get("databento.fill_side_from_order"), 1u);
  EXPECT_EQ(src->tolerated().get("databento.fill_unknown_order"), 1u);
  EXPECT_EQ(src->tolerated().get("databento.fill_exceeds_visible_size"), 1u);
}

// ---------------------------------------------------------------------------------------------
// EventSource errors

std::string source_error(const std::string& name, const std::vector<MboRecord>& recs, const SourceOptions& o = {}) {
  const std::string p = write_file(name, csv(recs));
  return error_of([&] {
    auto src = mmkit::data::open_databento({p}, o);
    read_events(*src);
  });
}

#define EXPECT_HAS(msg, part) EXPECT_NE((msg).find(part), std::string::npos) << (msg)

TEST(DatabentoSourceErrors, CancelOfAnIdNeverAddedNamesTheLine) {
  const auto msg = source_error("c_unknown.csv", {rec(kT0, 'A', 'B', 1000000000, 5, 1),
                                                  rec(kT0 + 1, 'C', 'B', 1000000000, 1, 2)});
  EXPECT_HAS(msg, "c_unknown.csv:3");
  EXPECT_HAS(msg, "field 'order_id'");
  EXPECT_HAS(msg, "cancel of order id 2, which is not live");
}

TEST(DatabentoSourceErrors, CancelLargerThanTheOrderIsAnError) {
  const auto msg = source_error("c_big.csv", {rec(kT0, 'A', 'B', 1000000000, 5, 1),
                                              rec(kT0 + 1, 'C', 'B', 1000000000, 3, 1),
                                              rec(kT0 + 2, 'C', 'B', 1000000000, 3, 1)});
  EXPECT_HAS(msg, "c_big.csv:4");
  EXPECT_HAS(msg, "cancel of 3 from order id 1, which has 2 left");
}

TEST(DatabentoSourceErrors, CancelAfterTheOrderWasRemovedIsAnError) {
  const auto msg = source_error("c_twice.csv", {rec(kT0, 'A', 'B', 1000000000, 5, 1),
                                                rec(kT0 + 1, 'C', 'B', 1000000000, 5, 1),
                                                rec(kT0 + 2, 'C', 'B', 1000000000, 5, 1)});
  EXPECT_HAS(msg, "c_twice.csv:4");
  EXPECT_HAS(msg, "not live");
}

TEST(DatabentoSourceErrors, ModifyAndFillOfUnknownOrWrongSideOrders) {
  EXPECT_HAS(source_error("m_unknown.csv", {rec(kT0, 'M', 'B', 1000000000, 5, 9)}), "modify of order id 9, which is not live");
  const auto side = source_error("m_side.csv", {rec(kT0, 'A', 'B', 1000000000, 5, 1), rec(kT0 + 1, 'M', 'A', 1000000000, 5, 1)});
  EXPECT_HAS(side, "m_side.csv:3");
  EXPECT_HAS(side, "rests on side B");
  const auto px = source_error("c_px.csv", {rec(kT0, 'A', 'B', 1000000000, 5, 1), rec(kT0 + 1, 'C', 'B', 2000000000, 1, 1)});
  EXPECT_HAS(px, "rests at 1000000000");
}

TEST(DatabentoSourceErrors, DuplicateAddAndAddWithoutSideOrPrice) {
  EXPECT_HAS(source_error("dup.csv", {rec(kT0, 'A', 'B', 1000000000, 5, 1), rec(kT0 + 1, 'A', 'B', 1000000000, 5, 1)}),
             "already live");
  EXPECT_HAS(source_error("noside.csv", {rec(kT0, 'A', 'N', 1000000000, 5, 1)}), "add of order id 1 without a side");
  EXPECT_HAS(source_error("nopx.csv", {rec(kT0, 'A', 'B', db::kUndefPrice, 5, 1)}), "without a price");
}

TEST(DatabentoSourceErrors, TsRecvBackwardsFailsUnlessFlaggedBad) {
  const auto msg = source_error("back.csv", {rec(kT0 + 10, 'A', 'B', 1000000000, 5, 1),
                                             rec(kT0 + 5, 'A', 'B', 1000000000, 5, 2)});
  EXPECT_HAS(msg, "back.csv:3");
  EXPECT_HAS(msg, "goes backwards");
  auto src = mmkit::data::open_databento(
      {write_file("back_bad.csv", csv({rec(kT0 + 10, 'A', 'B', 1000000000, 5, 1),
                                       rec(kT0 + 5, 'A', 'B', 1000000000, 5, 2, 0x88)}))},
      {});
  EXPECT_EQ(read_events(*src).size(), 2u);
  EXPECT_EQ(src->tolerated().get("databento.ts_recv_backwards_bad_ts"), 1u);
  EXPECT_EQ(src->tolerated().get("databento.bad_ts_recv"), 1u);
}

TEST(DatabentoSourceErrors, SelectionErrorsListWhatTheInputHolds) {
  const std::map<std::uint32_t, std::string> syms = {{7151, "GOOG"}, {7152, "GOOGL"}};
  const std::string p = write_file(
      "select.csv", csv({rec(kT0, 'A', 'B', 150000000000, 100, 1, 0x80, 7151, 39),
                         rec(kT0 + 1, 'A', 'B', 151000000000, 100, 1, 0xC0, 7152, 40),
                         rec(kT0 + 2, 'A', 'B', 151000000000, 100, 2, 0x80, 7152, 39)},
                        syms));
  EXPECT_ERROR_HAS(mmkit::data::open_databento({p}, {}), "several instruments", "GOOG (instrument_id 7151)",
                   "GOOGL (instrument_id 7152)");
  SourceOptions o;
  o.instrument = "AAPL";
  EXPECT_ERROR_HAS(mmkit::data::open_databento({p}, o), "instrument 'AAPL' is not in the input", "GOOGL");
  o.instrument = "GOOG";
  o.publisher = 41;
  EXPECT_ERROR_HAS(mmkit::data::open_databento({p}, o), "publisher 41 has no records of GOOG", "39 (DBEQ.BASIC.XCHI");
  o.instrument = "GOOGL";
  o.publisher = 40;
  EXPECT_ERROR_HAS(mmkit::data::open_databento({p}, o), "publisher 40 (DBEQ.BASIC.XCIS) is a top-of-book feed",
                   "cannot be read as L3", "39 (DBEQ.BASIC.XCHI");
  o.instrument = "7152";  // the numeric id selects too
  o.publisher = -1;
  EXPECT_EQ(mmkit::data::open_databento({p}, o)->instrument().symbol_str(), "GOOGL");
}

TEST(DatabentoSourceErrors, TwoOrderByOrderPublishersNeedAChoice) {
  const std::string p = write_file("twopub.csv", csv({rec(kT0, 'A', 'B', 1000000000, 1, 1, 0x80, 17077, 1),
                                                      rec(kT0 + 1, 'A', 'B', 1000000000, 1, 1, 0x80, 17077, 2)}));
  EXPECT_ERROR_HAS(mmkit::data::open_databento({p}, {}), "several order-by-order publishers", "1 (GLBX.MDP3",
                   "2 (XNAS.ITCH");
  SourceOptions o;
  o.publisher = 2;
  EXPECT_EQ(mmkit::data::open_databento({p}, o)->instrument().venue_str(), "XNAS.ITCH");
}

// ---------------------------------------------------------------------------------------------
// real data: DBN originals against their CSV dumps, field for field

struct CompareResult {
  std::uint64_t compared = 0, mismatches = 0;
  bool same_length = true;
  double csv_seconds = 0, dbn_seconds = 0;
  std::string first_mismatch;
};

CompareResult compare_dbn_with_csv(const std::string& dbn_path, const std::string& csv_path) {
  CompareResult res;
  auto d = MboRecordReader::open(dbn_path);
  auto c = MboRecordReader::open(csv_path);
  MboRecord a, b;
  for (;;) {
    const bool ga = d->next(a), gb = c->next(b);
    if (ga != gb) {
      res.same_length = false;
      break;
    }
    if (!ga) break;
    ++res.compared;
    if (!(a == b) || d->symbol() != c->symbol() || d->publisher() != c->publisher()) {
      if (res.mismatches++ == 0) res.first_mismatch = c->where().to_string();
    }
  }
  // Throughput of each decoder alone (informational).
  const auto time_reader = [](const std::string& p) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = MboRecordReader::open(p);
    MboRecord m;
    std::uint64_t n = 0;
    while (r->next(m)) n += m.size;
    EXPECT_GT(n, 0u);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  res.dbn_seconds = time_reader(dbn_path);
  res.csv_seconds = time_reader(csv_path);
  return res;
}

TEST(DatabentoRealData, CmeDbnOriginalEqualsItsCsvDumpFieldForField) {
  REQUIRE_DATA(cme("dbn.zst"));
  REQUIRE_DATA(cme("csv.gz"));
  const auto r = compare_dbn_with_csv(cme("dbn.zst"), cme("csv.gz"));
  EXPECT_TRUE(r.same_length);
  EXPECT_EQ(r.compared, 68792u);
  EXPECT_EQ(r.mismatches, 0u) << "first at " << r.first_mismatch;
  std::printf("[ cme ] records compared %llu, mismatches %llu; record reader throughput: DBN %.2f M rec/s, "
              "CSV.gz %.2f M rec/s\n",
              static_cast<unsigned long long>(r.compared), static_cast<unsigned long long>(r.mismatches),
              r.compared / r.dbn_seconds / 1e6, r.compared / r.csv_seconds / 1e6);
  auto d = MboRecordReader::open(cme("dbn.zst"));
  ASSERT_NE(d->metadata(), nullptr);
  EXPECT_EQ(d->metadata()->version, 1);
  EXPECT_EQ(d->metadata()->dataset, "GLBX.MDP3");
}

TEST(DatabentoRealData, DbeqDbnOriginalEqualsItsCsvDumpFieldForField) {
  REQUIRE_DATA(dbeq("dbn.zst"));
  REQUIRE_DATA(dbeq("csv.gz"));
  const auto r = compare_dbn_with_csv(dbeq("dbn.zst"), dbeq("csv.gz"));
  EXPECT_TRUE(r.same_length);
  EXPECT_EQ(r.compared, 286130u);
  EXPECT_EQ(r.mismatches, 0u) << "first at " << r.first_mismatch;
  std::printf("[ dbeq ] records compared %llu, mismatches %llu; record reader throughput: DBN %.2f M rec/s, "
              "CSV.gz %.2f M rec/s\n",
              static_cast<unsigned long long>(r.compared), static_cast<unsigned long long>(r.mismatches),
              r.compared / r.dbn_seconds / 1e6, r.compared / r.csv_seconds / 1e6);
  auto d = MboRecordReader::open(dbeq("dbn.zst"));
  EXPECT_EQ(d->metadata()->version, 3);
  EXPECT_EQ(d->metadata()->dataset, "DBEQ.BASIC");
}

// ---------------------------------------------------------------------------------------------
// real data: CME ESH4

struct KindCounts {
  std::map<EventKind, std::uint64_t> snapshot, live;
};

KindCounts count_kinds(const std::vector<Event>& ev) {
  KindCounts k;
  for (const auto& e : ev) ++(e.has(ef::kSnapshot) ? k.snapshot : k.live)[e.kind];
  return k;
}

TEST(DatabentoRealData, CmeEsh4CountsSpecAndIdenticalEventsFromCsvAndDbn) {
  REQUIRE_DATA(cme("dbn.zst"));
  REQUIRE_DATA(cme("csv.gz"));
  const auto t0 = std::chrono::steady_clock::now();
  auto csv_src = mmkit::data::open_databento({cme("csv.gz")}, {});
  const auto from_csv = read_events(*csv_src);
  const auto t1 = std::chrono::steady_clock::now();
  auto dbn_src = mmkit::data::open_databento({cme("dbn.zst")}, {});
  const auto from_dbn = read_events(*dbn_src);
  const auto t2 = std::chrono::steady_clock::now();
  std::printf("[ cme ] EventSource incl. pre-scan: CSV.gz %.2f M rec/s, DBN %.2f M rec/s\n",
              68792 / std::chrono::duration<double>(t1 - t0).count() / 1e6,
              68792 / std::chrono::duration<double>(t2 - t1).count() / 1e6);

  const auto& spec = csv_src->instrument();
  EXPECT_EQ(spec.symbol_str(), "ESH4");
  EXPECT_EQ(spec.venue_str(), "GLBX.MDP3");
  EXPECT_EQ(spec.instrument_id, 17077u);
  EXPECT_EQ(spec.price_decimals, 9);
  EXPECT_EQ(spec.tick_size, 250000000);  // 0.25 index points
  EXPECT_EQ(std::memcmp(&spec, &dbn_src->instrument(), sizeof spec), 0);

  ASSERT_EQ(from_csv.size(), 68792u);
  ASSERT_EQ(from_dbn.size(), from_csv.size());
  for (std::size_t i = 0; i < from_csv.size(); ++i) {
    ASSERT_EQ(std::memcmp(&from_csv[i], &from_dbn[i], sizeof(Event)), 0) << "event " << i;
  }
  EXPECT_EQ(csv_src->records(), 68792u);
  EXPECT_EQ(dbn_src->records(), 68792u);

  const auto k = count_kinds(from_csv);
  EXPECT_EQ(k.snapshot.at(EventKind::kAdd), 8725u);
  EXPECT_EQ(k.snapshot.size(), 1u);
  EXPECT_EQ(k.live.at(EventKind::kAdd), 20491u);
  EXPECT_EQ(k.live.at(EventKind::kCancel), 17999u);
  EXPECT_EQ(k.live.at(EventKind::kModify), 12233u);
  EXPECT_EQ(k.live.at(EventKind::kFill), 6371u);
  EXPECT_EQ(k.live.at(EventKind::kTrade), 2973u);
  EXPECT_EQ(k.live.count(EventKind::kClear), 0u);
  std::uint64_t live = 0;
  for (const auto& [kind, n] : k.live) live += n;
  EXPECT_EQ(live, 60067u);

  const auto& tol = csv_src->tolerated();
  EXPECT_EQ(tol.get("databento.snapshot_records"), 8725u);
  EXPECT_EQ(tol.get("databento.bad_ts_recv"), 8725u);  // the snapshot: flags 0x28
  EXPECT_EQ(tol.get("databento.ts_recv_backwards_bad_ts"), 0u);
  EXPECT_EQ(tol.get("databento.records_not_selected"), 0u);
  // The 22:00 opening auction: 35 fills with side N, 7 of ids neither in the snapshot nor added.
  EXPECT_EQ(tol.get("databento.fill_side_from_order"), 28u);
  EXPECT_EQ(tol.get("databento.fill_unknown_order"), 7u);
  EXPECT_EQ(tol.get("databento.fill_exceeds_visible_size"), 28u);
  for (const auto& [name, n] : tol.items()) std::printf("[ cme ] tolerated %s = %llu\n", name.c_str(), static_cast<unsigned long long>(n));
}

// F_LAST (kComplete) points after the snapshot, split at the first trade: before it a futures
// book may legitimately be crossed (CME pre-open: orders accumulate for the opening auction).
struct ReplayReport {
  std::uint64_t applied = 0, not_ok = 0, complete_points = 0, crossed_at_complete = 0;
  std::uint64_t complete_before_first_trade = 0, crossed_before_first_trade = 0;
  mmkit::TimestampNs first_trade_local_ts = 0, last_crossed_local_ts = 0;
  std::string first_not_ok, invariant;
};

template <class Book>
ReplayReport replay(Book& book, const std::vector<Event>& ev, const mmkit::data::EventSource& src) {
  ReplayReport rep;
  bool after_snapshot = false;
  for (const auto& e : ev) {
    const mmkit::Errc rc = book.apply(e);
    ++rep.applied;
    if (rc != mmkit::Errc::kOk && rep.not_ok++ == 0) {
      rep.first_not_ok = src.locate(e.record) + ": " + mmkit::to_string(rc);
    }
    if (!e.has(ef::kSnapshot)) after_snapshot = true;
    if (e.kind == EventKind::kTrade && rep.first_trade_local_ts == 0) rep.first_trade_local_ts = e.local_ts_ns;
    if (after_snapshot && e.has(ef::kComplete)) {
      const bool crossed = book.crossed();
      if (rep.first_trade_local_ts == 0) {
        ++rep.complete_before_first_trade;
        if (crossed) ++rep.crossed_before_first_trade;
      } else {
        ++rep.complete_points;
        if (crossed) ++rep.crossed_at_complete;
      }
      if (crossed) rep.last_crossed_local_ts = e.local_ts_ns;
    }
  }
  rep.invariant = mmkit::book::check_invariants(book);
  return rep;
}

std::string px(const mmkit::InstrumentSpec& s, mmkit::Price p) {
  return p == mmkit::kNoPrice ? std::string("-") : mmkit::format_decimal(p, s.price_decimals, s.price_display_decimals());
}

template <class Book>
void print_top(const char* tag, const Book& b, const mmkit::InstrumentSpec& s, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const auto bid = b.level(Side::kBid, i), ask = b.level(Side::kAsk, i);
    std::printf("[ %s ] L%zu  bid %s x %lld (%u orders) | ask %s x %lld (%u orders)\n", tag, i + 1,
                px(s, bid.price).c_str(), static_cast<long long>(bid.qty), bid.order_count,
                px(s, ask.price).c_str(), static_cast<long long>(ask.qty), ask.order_count);
  }
}

TEST(DatabentoRealData, CmeEsh4ReplaysIntoBothL3BooksAndEndsUncrossedAt4810) {
  REQUIRE_DATA(cme("dbn.zst"));
  auto src = mmkit::data::open_databento({cme("dbn.zst")}, {});
  const auto ev = read_events(*src);
  mmkit::book::NaiveL3Book naive;
  mmkit::book::L3Book fast(16384);
  const auto rn = replay(naive, ev, *src);
  const auto rf = replay(fast, ev, *src);
  for (const auto* r : {&rn, &rf}) {
    EXPECT_EQ(r->applied, 68792u);
    EXPECT_EQ(r->not_ok, 0u) << r->first_not_ok;
    // From the opening trade (23:00:00 UTC, the reopen auction) on: never crossed.
    EXPECT_EQ(r->complete_points, 46097u);
    EXPECT_EQ(r->crossed_at_complete, 0u);
    // Pre-open 22:00-23:00: 925 F_LAST points, 891 of them crossed (22:39:55 to 23:00:00), as the
    // auction book may be; all before the first trade.
    EXPECT_EQ(r->complete_before_first_trade, 925u);
    EXPECT_EQ(r->crossed_before_first_trade, 891u);
    EXPECT_LT(r->last_crossed_local_ts, r->first_trade_local_ts);
    EXPECT_EQ(r->invariant, "");
  }
  const auto& spec = src->instrument();
  EXPECT_EQ(naive.best(Side::kBid).price, 4810000000000);
  EXPECT_EQ(naive.best(Side::kAsk).price, 4810250000000);
  EXPECT_FALSE(naive.crossed());
  EXPECT_EQ(naive.order_count(), fast.order_count());
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(naive.level(Side::kBid, i), fast.level(Side::kBid, i));
    EXPECT_EQ(naive.level(Side::kAsk, i), fast.level(Side::kAsk, i));
  }
  print_top("cme", naive, spec, 5);
  std::printf("[ cme ] resting orders %zu; F_LAST points: pre-open %llu (crossed %llu, last %s), from the "
              "opening trade at %s on %llu (crossed %llu)\n",
              naive.order_count(), static_cast<unsigned long long>(rn.complete_before_first_trade),
              static_cast<unsigned long long>(rn.crossed_before_first_trade),
              mmkit::format_utc(rn.last_crossed_local_ts).c_str(), mmkit::format_utc(rn.first_trade_local_ts).c_str(),
              static_cast<unsigned long long>(rn.complete_points), static_cast<unsigned long long>(rn.crossed_at_complete));
}

TEST(DatabentoRealData, OpenSourceRecognizesTheCsvDumpAndTheDbnOriginal) {
  REQUIRE_DATA(cme("dbn.zst"));
  REQUIRE_DATA(cme("csv.gz"));
  for (const char* ext : {"csv.gz", "dbn.zst"}) {
    auto src = mmkit::data::open_source({cme(ext)});
    EXPECT_EQ(src->format(), "databento-mbo") << ext;
    EXPECT_EQ(src->instrument().symbol_str(), "ESH4") << ext;
    Event e[4];
    ASSERT_EQ(src->read(e, 4), 4u);
    EXPECT_EQ(e[0].kind, EventKind::kAdd);
    EXPECT_EQ(e[0].order_id, 6412777162812u);  // first row of the dump
    EXPECT_EQ(e[0].price, 4799000000000);
  }
}

// ---------------------------------------------------------------------------------------------
// real data: DBEQ GOOG / GOOGL

TEST(DatabentoRealData, DbeqNeedsAnInstrumentAndRefusesTopOfBookPublishers) {
  REQUIRE_DATA(dbeq("csv.gz"));
  EXPECT_ERROR_HAS(mmkit::data::open_databento({dbeq("csv.gz")}, {}), "several instruments", "GOOG (instrument_id 7151)",
                   "GOOGL (instrument_id 7152)");
  for (const std::int64_t pub : {40, 41}) {
    SourceOptions o;
    o.instrument = "GOOG";
    o.publisher = pub;
    EXPECT_ERROR_HAS(mmkit::data::open_databento({dbeq("csv.gz")}, o), "top-of-book feed", "cannot be read as L3",
                     "39 (DBEQ.BASIC.XCHI");
  }
}

struct Bbo {
  mmkit::Price bid = mmkit::kNoPrice, ask = mmkit::kNoPrice;
  std::uint32_t bid_size = 0, ask_size = 0;
  std::uint64_t ts = 0;
};

TEST(DatabentoRealData, DbeqGoogAndGooglPublisher39ReplayUncrossed) {
  REQUIRE_DATA(dbeq("dbn.zst"));
  REQUIRE_DATA(dbeq("csv.gz"));
  // Last top of book published by the pseudo-MBO feeds 40 and 41 (information only: other venues).
  std::map<std::pair<std::uint32_t, std::uint16_t>, Bbo> tob;
  {
    auto r = MboRecordReader::open(dbeq("dbn.zst"));
    MboRecord m;
    while (r->next(m)) {
      if (m.publisher_id == 39 || m.action != 'A') continue;
      Bbo& b = tob[{m.instrument_id, m.publisher_id}];
      (m.side == 'B' ? b.bid : b.ask) = m.price == db::kUndefPrice ? mmkit::kNoPrice : m.price;
      (m.side == 'B' ? b.bid_size : b.ask_size) = m.size;
      b.ts = m.ts_recv;
    }
  }
  const std::pair<const char*, std::uint64_t> expected[] = {{"GOOG", 17953}, {"GOOGL", 19039}};
  for (const auto& [sym, events] : expected) {
    for (const char* ext : {"dbn.zst", "csv.gz"}) {
      SourceOptions o;
      o.instrument = sym;
      auto src = mmkit::data::open_databento({dbeq(ext)}, o);
      const auto& spec = src->instrument();
      EXPECT_EQ(spec.venue_str(), "DBEQ.BASIC.XCHI");
      EXPECT_EQ(spec.tick_size, 10000000);  // $0.01
      const auto ev = read_events(*src);
      EXPECT_EQ(ev.size(), events) << sym;
      EXPECT_EQ(src->records(), 286130u);
      EXPECT_EQ(src->tolerated().get("databento.records_not_selected"), 286130u - events);
      EXPECT_EQ(src->tolerated().get("databento.fill_unknown_order"), 0u);
      if (std::string(ext) != "dbn.zst") continue;

      mmkit::book::NaiveL3Book naive;
      mmkit::book::L3Book fast;
      const auto rn = replay(naive, ev, *src);
      const auto rf = replay(fast, ev, *src);
      for (const auto* r : {&rn, &rf}) {
        EXPECT_EQ(r->not_ok, 0u) << sym << ": " << r->first_not_ok;
        EXPECT_EQ(r->crossed_at_complete + r->crossed_before_first_trade, 0u) << sym;
        EXPECT_EQ(r->invariant, "");
      }
      EXPECT_EQ(naive.best(Side::kBid), fast.best(Side::kBid));
      EXPECT_EQ(naive.best(Side::kAsk), fast.best(Side::kAsk));
      EXPECT_FALSE(naive.crossed());
      const auto bid = naive.best(Side::kBid), ask = naive.best(Side::kAsk);
      std::printf("[ dbeq %s ] XCHI (39) final BBO %s x %lld / %s x %lld, resting orders %zu, F_LAST points %llu\n",
                  sym, px(spec, bid.price).c_str(), static_cast<long long>(bid.qty), px(spec, ask.price).c_str(),
                  static_cast<long long>(ask.qty), naive.order_count(),
                  static_cast<unsigned long long>(rn.complete_points + rn.complete_before_first_trade));
      for (const std::uint16_t pub : {40, 41}) {
        const Bbo& b = tob[{spec.instrument_id, pub}];
        std::printf("[ dbeq %s ] %s (%u) last published BBO %s x %u / %s x %u at %s\n", sym,
                    db::publisher_label(pub).c_str(), pub, px(spec, b.bid).c_str(), b.bid_size,
                    px(spec, b.ask).c_str(), b.ask_size, mmkit::format_utc(static_cast<std::int64_t>(b.ts)).c_str());
      }
    }
  }
}

}  // namespace
