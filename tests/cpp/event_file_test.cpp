// Tests of the mmkit event file (include/mmkit/data/event_file.h, docs/event_file.md).
#include "mmkit/data/event_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "mmkit/core/error.h"
#include "mmkit/data/source.h"
#include "real_data.h"

namespace mmkit::data {
namespace {

using mmkit::test::data_dir;
using mmkit::test::under_ci;

namespace fs = std::filesystem;
using Bytes = std::vector<unsigned char>;

// --- Helpers --------------------------------------------------------------------------------

fs::path temp_root() { return fs::path(::testing::TempDir()) / ("mmkit_event_file_" + std::to_string(::getpid())); }

// Removes this run's temporary files at the end.
class TempCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(temp_root(), ec);
  }
};
[[maybe_unused]] ::testing::Environment* const kTempCleanup = ::testing::AddGlobalTestEnvironment(new TempCleanup);

std::string temp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir = temp_root() / (std::string(info->test_suite_name()) + "." + info->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

Bytes load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void save(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

EventFileHeader header_of(const Bytes& b) {
  EventFileHeader h{};
  std::memcpy(static_cast<void*>(&h), b.data(), sizeof h);
  return h;
}

void put_header(Bytes& b, EventFileHeader h, bool fix_checksum) {
  if (fix_checksum) h.header_checksum = event_file_header_checksum(h);
  std::memcpy(b.data(), &h, sizeof h);
}

std::vector<Event> read_all(EventSource& src, std::size_t batch) {
  std::vector<Event> out;
  std::vector<Event> buf(batch);
  for (;;) {
    const std::size_t n = src.read(buf.data(), buf.size());
    if (n == 0) break;
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return out;
}

bool same_bytes(const std::vector<Event>& a, const std::vector<Event>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(Event)) == 0);
}

// The message of the mmkit::Error thrown by f, "" if none.
template <class F>
std::string error_of(F&& f, Error* caught = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (caught != nullptr) *caught = e;
    return e.what();
  }
  return {};
}

// --- Synthetic source -----------------------------------------------------------------------

// A deterministic in-memory EventSource: records with 0..3 events each (every kind, side and
// flag), several "input files" with the locate() texts of real readers (header line skipped,
// a skipped line, byte offsets, texts without numbers or with zero-padded numbers, a suffix).
class SyntheticSource final : public EventSource {
 public:
  struct Options {
    std::uint64_t records = 3000;
    std::uint64_t trailing_empty = 5;        ///< last records make no event
    std::size_t max_batch = 1000;            ///< most events one read() returns
    std::uint64_t throw_at_record = ~0ull;   ///< throw mmkit::Error when reaching it
    std::size_t counters = 3;
    std::string format = "synthetic";
    std::string counter_name = "synthetic.tolerated_";
    std::size_t force_events = 0;            ///< > 0: exactly this many events, 1 per record
    std::uint64_t record_offset_bug = 0;     ///< added to every Event::record (writer must refuse)
  };

  explicit SyntheticSource(Options o) : o_(std::move(o)) {
    std::mt19937_64 rng(20240808);
    if (o_.force_events > 0) o_.records = o_.force_events, o_.trailing_empty = 0;
    per_record_.resize(o_.records);
    std::uint64_t kind = 0;
    TimestampNs ts = 1'700'000'000'000'000'000;
    for (std::uint64_t r = 0; r < o_.records; ++r) {
      std::size_t n = o_.force_events > 0 ? 1 : static_cast<std::size_t>(rng() % 4);
      if (o_.force_events == 0 && (r % 7 == 3 || r + o_.trailing_empty >= o_.records)) n = 0;
      for (std::size_t i = 0; i < n; ++i) {
        Event e;
        ts += static_cast<TimestampNs>(rng() % 5000);
        e.exch_ts_ns = ts - static_cast<TimestampNs>(rng() % 3000);  // not monotone
        e.local_ts_ns = ts + 1'270'000'000;
        e.kind = static_cast<EventKind>(kind++ % kEventKindCount);
        e.side = static_cast<Side>(rng() % 3);
        e.price = (rng() % 11 == 0) ? kNoPrice : static_cast<Price>(rng() % 2'000'000) - 1'000'000;
        e.qty = static_cast<Qty>(rng() % 100'000);
        e.order_id = (rng() % 5 == 0) ? ~0ull - (rng() % 100) : rng() % 1'000'000;
        e.seq = r * 10 + i;
        e.record = r + o_.record_offset_bug;
        e.instrument_id = static_cast<std::uint32_t>(17077 + (r % 2));
        e.flags = static_cast<std::uint16_t>(rng() % 64) & ~event_flags::kEndOfRecord;
        if (i + 1 == n) e.flags |= event_flags::kEndOfRecord;
        per_record_[r].push_back(e);
        all_.push_back(e);
      }
    }
    for (std::size_t i = 0; i < o_.counters; ++i) {
      counters_.add(o_.counter_name + std::to_string(i), 1000 * i + 7);
    }
    spec_.set_symbol("ESH4");
    spec_.set_venue("GLBX.MDP3");
    spec_.set_currency("USD");
    spec_.price_decimals = 9;
    spec_.qty_decimals = 0;
    spec_.tick_size = 250'000'000;
    spec_.lot_size = 1;
    spec_.instrument_id = 17077;
  }

  const InstrumentSpec& instrument() const override { return spec_; }
  BookLevel book_level() const override { return BookLevel::kL3; }
  std::size_t read(Event* out, std::size_t capacity) override {
    std::size_t n = 0;
    const std::size_t cap = std::min(capacity, o_.max_batch);
    while (n < cap && rec_ < o_.records) {
      if (rec_ == o_.throw_at_record) throw_at_line("synthetic.csv", rec_ + 1, "px", "bad price");
      const auto& evs = per_record_[rec_];
      while (n < cap && in_rec_ < evs.size()) out[n++] = evs[in_rec_++];
      if (in_rec_ == evs.size()) {
        ++rec_;
        in_rec_ = 0;
      }
    }
    return n;
  }
  std::uint64_t records() const override { return rec_; }
  std::string locate(std::uint64_t r) const override { return location(r); }
  const Counters& tolerated() const override { return counters_; }
  std::string format() const override { return o_.format; }

  static std::string location(std::uint64_t r) {
    if (r < 1000) return "a.csv:" + std::to_string(r + 2);              // header on line 1
    if (r < 1500) return "a.csv:" + std::to_string(r + 3);              // one line skipped
    if (r < 2000) return "dir/b_20240808.gz:" + std::to_string(r - 1499);
    if (r < 2300) return "c.dbn.zst @ byte " + std::to_string(16 + 56 * (r - 2000));
    if (r < 2310) return "weird record";
    if (r < 2320) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "x:%03u", static_cast<unsigned>(r - 2310));
      return buf;
    }
    if (r < 2330) return "x.zip!y.csv:" + std::to_string(r) + ": field 'px'";
    return "e.csv:" + std::to_string(2 * r);
  }
  // Segments location() needs: a.csv x2, b, c, weird, 10 zero-padded, y.csv, e.csv.
  static constexpr std::uint64_t kSegments = 17;

  const std::vector<Event>& all_events() const { return all_; }

 private:
  Options o_;
  std::vector<std::vector<Event>> per_record_;
  std::vector<Event> all_;
  Counters counters_;
  InstrumentSpec spec_;
  std::uint64_t rec_ = 0;
  std::size_t in_rec_ = 0;
};

SyntheticSource::Options small(std::uint64_t records) {
  SyntheticSource::Options o;
  o.records = records;
  return o;
}

void expect_same_stream(EventFileReader& r, const SyntheticSource& ref, std::uint64_t records,
                        std::size_t batch) {
  const std::vector<Event> got = read_all(r, batch);
  EXPECT_EQ(got.size(), ref.all_events().size());
  EXPECT_TRUE(same_bytes(got, ref.all_events()));
  EXPECT_EQ(r.records(), records);
  Event e;
  EXPECT_EQ(r.read(&e, 1), 0u);
}

TEST(EventFile, Fnv1a64MatchesTheReferenceVectors) {
  // Test vectors of the FNV reference code (draft-eastlake-fnv, 64-bit FNV-1a).
  EXPECT_EQ(fnv1a64("", 0), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a", 1), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar", 6), 0x85944171f73967e8ull);
  EXPECT_EQ(fnv1a64("bar", 3, fnv1a64("foo", 3)), 0x85944171f73967e8ull);  // streaming
}

// --- Round trips ----------------------------------------------------------------------------

TEST(EventFile, PlainRoundTripKeepsEventsInstrumentCountersRecordsAndLocations) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/s.mmk";
  SyntheticSource src(small(3000));
  const EventFileSummary sum = write_event_file(src, path);
  const SyntheticSource ref(small(3000));

  EXPECT_EQ(sum.event_count, ref.all_events().size());
  EXPECT_EQ(sum.record_count, 3000u);
  EXPECT_EQ(sum.block_count, 0u);
  EXPECT_EQ(sum.payload_size, ref.all_events().size() * 64);
  EXPECT_EQ(sum.file_size, fs::file_size(path));
  EXPECT_EQ(sum.locate_segments, SyntheticSource::kSegments);
  EXPECT_EQ(sum.source_format, "synthetic");

  // The data covers every kind, side and flag bit.
  std::set<int> kinds, sides;
  std::uint16_t flags = 0;
  for (const Event& e : ref.all_events()) {
    kinds.insert(static_cast<int>(e.kind));
    sides.insert(static_cast<int>(e.side));
    flags |= e.flags;
  }
  EXPECT_EQ(kinds.size(), static_cast<std::size_t>(kEventKindCount));
  EXPECT_EQ(sides.size(), 3u);
  EXPECT_EQ(flags, 63);

  EventFileReader r(path);
  EXPECT_FALSE(r.compressed());
  EXPECT_EQ(r.format(), "mmk:synthetic");
  EXPECT_EQ(r.source_format(), "synthetic");
  EXPECT_EQ(r.book_level(), BookLevel::kL3);
  EXPECT_EQ(std::memcmp(&r.instrument(), &ref.instrument(), sizeof(InstrumentSpec)), 0);
  EXPECT_EQ(r.instrument().symbol_str(), "ESH4");
  EXPECT_EQ(r.tolerated().items(), ref.tolerated().items());
  EXPECT_EQ(r.info().record_count, 3000u);
  EXPECT_EQ(r.info().event_count, ref.all_events().size());
  EXPECT_EQ(r.info().payload_size, ref.all_events().size() * 64);
  EXPECT_EQ(r.records(), 0u);
  for (std::uint64_t rec = 0; rec < 3000; ++rec) {
    ASSERT_EQ(r.locate(rec), SyntheticSource::location(rec)) << rec;
  }
  EXPECT_EQ(r.locate(3000), path + ": record 3000");

  TimestampNs lo = ref.all_events()[0].exch_ts_ns, hi = lo;
  for (const Event& e : ref.all_events()) lo = std::min(lo, e.exch_ts_ns), hi = std::max(hi, e.exch_ts_ns);
  EXPECT_EQ(r.info().exch_ts_min, lo);
  EXPECT_EQ(r.info().exch_ts_max, hi);

  expect_same_stream(r, ref, 3000, 333);
  EXPECT_EQ(verify_event_file(path), "");
}

TEST(EventFile, CompressedRoundTripKeepsEverythingAcrossReadSizes) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/s.mmk";
  SyntheticSource src(small(3000));
  EventFileOptions opt;
  opt.compress = true;
  opt.block_events = 100;
  const EventFileSummary sum = write_event_file(src, path, opt);
  const SyntheticSource ref(small(3000));
  const std::uint64_t n = ref.all_events().size();
  EXPECT_EQ(sum.block_count, (n + 99) / 100);
  EXPECT_LT(sum.payload_size, n * 64);

  for (std::size_t batch : {1ul, 7ul, 99ul, 100ul, 101ul, 250ul, 100000ul}) {
    EventFileReader r(path);
    EXPECT_TRUE(r.compressed());
    EXPECT_EQ(r.info().block_events, 100u);
    EXPECT_EQ(r.info().block_count, sum.block_count);
    EXPECT_EQ(r.info().zstd_level, 3);
    EXPECT_EQ(r.format(), "mmk:synthetic");
    EXPECT_EQ(r.tolerated().items(), ref.tolerated().items());
    EXPECT_EQ(std::memcmp(&r.instrument(), &ref.instrument(), sizeof(InstrumentSpec)), 0);
    expect_same_stream(r, ref, 3000, batch);
    for (std::uint64_t rec = 0; rec < 3000; rec += 7) ASSERT_EQ(r.locate(rec), SyntheticSource::location(rec));
  }
  EXPECT_EQ(verify_event_file(path), "");
}

TEST(EventFile, RecordsGrowWhileReadingAndIncludeTrailingRecordsAtTheEnd) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/s.mmk";
  SyntheticSource src(small(300));
  write_event_file(src, path);
  EventFileReader r(path);
  Event e;
  std::uint64_t prev = 0;
  const std::uint64_t n = r.info().event_count;
  for (std::uint64_t i = 0; i < n; ++i) {
    ASSERT_EQ(r.read(&e, 1), 1u);
    if (i + 1 < n) {
      EXPECT_EQ(r.records(), e.record + 1);
    }
    EXPECT_GE(r.records(), prev);
    prev = r.records();
  }
  // The last 5 records made no event; the count includes them once the events are exhausted.
  EXPECT_EQ(r.records(), 300u);
  EXPECT_LT(e.record + 1, 300u);
}

TEST(EventFile, NextChunkAndEventsGiveTheSameEventsWithoutCopying) {
  const std::string dir = temp_dir();
  const SyntheticSource ref(small(2000));
  for (bool compress : {false, true}) {
    const std::string path = dir + (compress ? "/z.mmk" : "/p.mmk");
    SyntheticSource src(small(2000));
    EventFileOptions opt;
    opt.compress = compress;
    opt.block_events = 128;
    write_event_file(src, path, opt);
    EventFileReader r(path);
    std::vector<Event> got;
    for (auto c = r.next_chunk(50); !c.empty(); c = r.next_chunk(50)) {
      EXPECT_LE(c.size(), 50u);
      got.insert(got.end(), c.begin(), c.end());
    }
    EXPECT_TRUE(same_bytes(got, ref.all_events())) << compress;
    EXPECT_EQ(r.records(), 2000u);
    r.rewind();
    EXPECT_EQ(r.records(), 0u);
    EXPECT_TRUE(same_bytes(read_all(r, 1000), ref.all_events())) << compress;
    if (!compress) {
      const std::span<const Event> all = r.events();
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(all.data()) % 64, 0u);
      ASSERT_EQ(all.size(), ref.all_events().size());
      EXPECT_EQ(std::memcmp(all.data(), ref.all_events().data(), all.size_bytes()), 0);
      r.rewind();
      EXPECT_EQ(r.next_chunk(10).data(), all.data());  // a view of the mapping itself
    } else {
      EXPECT_THROW((void)r.events(), Error);
    }
  }
}

TEST(EventFile, EmptyStreamAndRecordsWithoutEventsRoundTrip) {
  const std::string dir = temp_dir();
  for (bool compress : {false, true}) {
    for (std::uint64_t records : {0ull, 4ull}) {
      SyntheticSource::Options o = small(records);
      o.trailing_empty = records;  // no record makes an event
      o.counters = 0;
      const std::string path = dir + "/e" + std::to_string(records) + (compress ? "z" : "p") + ".mmk";
      SyntheticSource src(o);
      EventFileOptions opt;
      opt.compress = compress;
      const EventFileSummary sum = write_event_file(src, path, opt);
      EXPECT_EQ(sum.event_count, 0u);
      EXPECT_EQ(sum.record_count, records);
      EXPECT_EQ(sum.block_count, 0u);
      EventFileReader r(path);
      Event e;
      EXPECT_EQ(r.read(&e, 1), 0u);
      EXPECT_TRUE(r.next_chunk(10).empty());
      EXPECT_EQ(r.records(), records);
      EXPECT_TRUE(r.tolerated().items().empty());
      EXPECT_EQ(r.info().exch_ts_min, kNoTimestamp);
      for (std::uint64_t rec = 0; rec < records; ++rec) EXPECT_EQ(r.locate(rec), SyntheticSource::location(rec));
      EXPECT_EQ(verify_event_file(path), "") << path;
      if (!compress) {
        EXPECT_TRUE(r.events().empty());
      }
    }
  }
}

TEST(EventFile, BlockBoundariesExactPartialAndSingle) {
  const std::string dir = temp_dir();
  constexpr std::size_t kBlock = 64;
  for (std::size_t events : {1ul, 63ul, 64ul, 65ul, 128ul, 129ul}) {
    SyntheticSource::Options o;
    o.force_events = events;
    o.max_batch = 50;  // reads straddle block boundaries
    SyntheticSource src(o);
    const SyntheticSource ref(o);
    const std::string path = dir + "/b" + std::to_string(events) + ".mmk";
    EventFileOptions opt;
    opt.compress = true;
    opt.block_events = kBlock;
    const EventFileSummary sum = write_event_file(src, path, opt);
    EXPECT_EQ(sum.block_count, (events + kBlock - 1) / kBlock) << events;
    EventFileReader r(path);
    EXPECT_EQ(r.info().block_count, sum.block_count);
    for (std::size_t batch : {1ul, 64ul, 1000ul}) {
      r.rewind();
      EXPECT_TRUE(same_bytes(read_all(r, batch), ref.all_events())) << events << " " << batch;
      EXPECT_EQ(r.records(), events);
    }
    EXPECT_EQ(verify_event_file(path), "") << events;
  }
}

// Records only (no events) whose every location is a different text without a number.
class ManyLocationsSource final : public EventSource {
 public:
  explicit ManyLocationsSource(std::uint64_t records) : n_(records) {}
  const InstrumentSpec& instrument() const override { return spec_; }
  BookLevel book_level() const override { return BookLevel::kL2; }
  std::size_t read(Event*, std::size_t) override {
    done_ = n_;
    return 0;
  }
  std::uint64_t records() const override { return done_; }
  std::string locate(std::uint64_t r) const override {
    char buf[32];
    std::snprintf(buf, sizeof buf, "id-%010llu", static_cast<unsigned long long>(r));  // leading zeros
    return buf;
  }
  const Counters& tolerated() const override { return counters_; }
  std::string format() const override { return "many"; }

 private:
  std::uint64_t n_;
  std::uint64_t done_ = 0;
  InstrumentSpec spec_;
  Counters counters_;
};

TEST(EventFile, LocateTableBeyondItsCapAnswersWithTheRecordNumber) {
  const std::string dir = temp_dir();
  const std::uint64_t n = kEventFileMaxLocateSegments + 5;
  ManyLocationsSource src(n);
  const EventFileSummary sum = write_event_file(src, dir + "/m.mmk");
  EXPECT_EQ(sum.locate_segments, kEventFileMaxLocateSegments);
  EventFileReader r(dir + "/m.mmk");
  const std::uint64_t last_kept = kEventFileMaxLocateSegments - 2;
  EXPECT_EQ(r.locate(0), "id-0000000000");
  EXPECT_EQ(r.locate(last_kept), src.locate(last_kept));
  EXPECT_EQ(r.locate(last_kept + 1), dir + "/m.mmk: record " + std::to_string(last_kept + 1));
  EXPECT_EQ(r.locate(n - 1), dir + "/m.mmk: record " + std::to_string(n - 1));
  EXPECT_EQ(r.records(), n);
  EXPECT_EQ(verify_event_file(dir + "/m.mmk"), "");
}

TEST(EventFile, ConvertingAConvertedFileKeepsTheOriginalFormatAndIsByteIdentical) {
  const std::string dir = temp_dir();
  SyntheticSource a(small(2500));
  write_event_file(a, dir + "/plain.mmk");
  SyntheticSource b(small(2500));
  EventFileOptions z;
  z.compress = true;
  z.block_events = 1000;
  write_event_file(b, dir + "/z.mmk", z);
  {
    EventFileReader zr(dir + "/z.mmk");
    write_event_file(zr, dir + "/plain_from_z.mmk");
  }
  EXPECT_EQ(load(dir + "/plain.mmk"), load(dir + "/plain_from_z.mmk"));
  EventFileReader r(dir + "/plain_from_z.mmk");
  EXPECT_EQ(r.format(), "mmk:synthetic");
  for (std::uint64_t rec = 0; rec < 2500; ++rec) ASSERT_EQ(r.locate(rec), SyntheticSource::location(rec));
}

TEST(EventFile, SameInputGivesAByteIdenticalFile) {
  const std::string dir = temp_dir();
  for (bool compress : {false, true}) {
    EventFileOptions opt;
    opt.compress = compress;
    opt.block_events = 500;
    SyntheticSource s1(small(2000)), s2(small(2000));
    const std::string p1 = dir + "/one.mmk", p2 = dir + "/other_name.mmk";
    write_event_file(s1, p1, opt);
    ::usleep(20'000);
    write_event_file(s2, p2, opt);
    const Bytes b1 = load(p1), b2 = load(p2);
    EXPECT_FALSE(b1.empty());
    EXPECT_EQ(b1, b2) << compress;
    // Nothing but the named header fields is non-zero in the header's reserved space.
    const EventFileHeader h = header_of(b1);
    for (unsigned char c : h.reserved1) ASSERT_EQ(c, 0);
    EXPECT_EQ(h.reserved0, 0u);
  }
}

TEST(EventFile, FileDoesNotDependOnHowTheSourceBatchesItsEvents) {
  const std::string dir = temp_dir();
  for (bool compress : {false, true}) {
    EventFileOptions opt;
    opt.compress = compress;
    opt.block_events = 300;
    SyntheticSource::Options one = small(1500), many = small(1500);
    one.max_batch = 1;
    many.max_batch = 100000;
    SyntheticSource s1(one), s2(many);
    write_event_file(s1, dir + "/one.mmk", opt);
    write_event_file(s2, dir + "/many.mmk", opt);
    EXPECT_EQ(load(dir + "/one.mmk"), load(dir + "/many.mmk")) << compress;
  }
}

TEST(EventFile, OpenSourceRecognizesAnEventFile) {
  const std::string dir = temp_dir();
  SyntheticSource src(small(100));
  write_event_file(src, dir + "/s.mmk");
  EXPECT_TRUE(is_event_file(dir + "/s.mmk"));
  auto s = open_source({dir + "/s.mmk"});
  EXPECT_EQ(s->format(), "mmk:synthetic");
  const SyntheticSource ref(small(100));
  EXPECT_TRUE(same_bytes(read_all(*s, 64), ref.all_events()));
}

TEST(EventFile, IsEventFileOnlyForTheMagic) {
  const std::string dir = temp_dir();
  EXPECT_FALSE(is_event_file(dir + "/missing.mmk"));
  save(dir + "/empty", {});
  EXPECT_FALSE(is_event_file(dir + "/empty"));
  save(dir + "/short", {0x89, 'M', 'M'});
  EXPECT_FALSE(is_event_file(dir + "/short"));
  save(dir + "/text.csv", {'1', '2', ',', '3', '\n'});
  EXPECT_FALSE(is_event_file(dir + "/text.csv"));
  save(dir + "/head", {0x89, 'M', 'M', 'K'});
  EXPECT_TRUE(is_event_file(dir + "/head"));  // reaches the reader, which says it is truncated
  EXPECT_NE(error_of([&] { EventFileReader r(dir + "/head"); }).find("truncated"), std::string::npos);
  EXPECT_FALSE(is_event_file(dir));           // a directory
}

// --- Errors on reading ----------------------------------------------------------------------

struct WrittenFile {
  std::string path;
  Bytes bytes;
  EventFileHeader header;
};

WrittenFile write_sample(const std::string& dir, bool compress, const std::string& name) {
  SyntheticSource src(small(3000));
  EventFileOptions opt;
  opt.compress = compress;
  opt.block_events = 256;
  WrittenFile w;
  w.path = dir + "/" + name;
  write_event_file(src, w.path, opt);
  w.bytes = load(w.path);
  w.header = header_of(w.bytes);
  return w;
}

TEST(EventFileErrors, TruncatedFilesAreReportedWithTheFileAndOffset) {
  const std::string dir = temp_dir();
  for (bool compress : {false, true}) {
    const WrittenFile w = write_sample(dir, compress, compress ? "z.mmk" : "p.mmk");
    const EventFileHeader& h = w.header;
    if (compress) {
      ASSERT_GT(h.block_count, 1u);
    }
    const std::vector<std::uint64_t> cuts = {
        0, 3, 8, 100, 4095, 4096, 4096 + 10, h.payload_offset + h.payload_size - 1,
        h.index_offset + (compress ? 40u : 0u), h.locate_offset + 20, h.file_size - 1};
    for (std::uint64_t cut : cuts) {
      const std::string path = dir + "/cut.mmk";
      save(path, Bytes(w.bytes.begin(), w.bytes.begin() + static_cast<std::ptrdiff_t>(cut)));
      Error e("");
      const std::string msg = error_of([&] { EventFileReader r(path); }, &e);
      ASSERT_FALSE(msg.empty()) << cut;
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_EQ(e.where().file, path);
      if (cut == 0) {
        EXPECT_NE(msg.find("empty file"), std::string::npos) << msg;
        continue;
      }
      EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
      EXPECT_TRUE(e.where().has_byte_offset);
      EXPECT_EQ(e.where().byte_offset, cut) << msg;
      EXPECT_NE(verify_event_file(path).find("truncated"), std::string::npos);
    }
  }
}

TEST(EventFileErrors, TrailingDataIsReported) {
  const std::string dir = temp_dir();
  WrittenFile w = write_sample(dir, false, "p.mmk");
  w.bytes.push_back(0);
  save(w.path, w.bytes);
  const std::string msg = error_of([&] { EventFileReader r(w.path); });
  EXPECT_NE(msg.find("trailing data"), std::string::npos) << msg;
}

TEST(EventFileErrors, BadMagicIsReportedAndTextModeDamageIsNamed) {
  const std::string dir = temp_dir();
  WrittenFile w = write_sample(dir, false, "p.mmk");
  Bytes b = w.bytes;
  b[1] = 'X';
  save(w.path, b);
  EXPECT_FALSE(is_event_file(w.path));
  Error e("");
  std::string msg = error_of([&] { EventFileReader r(w.path); }, &e);
  EXPECT_NE(msg.find("bad magic"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not an mmkit event file"), std::string::npos) << msg;
  EXPECT_EQ(e.where().byte_offset, 0u);
  EXPECT_TRUE(e.where().has_byte_offset);

  // A text-mode transfer that turned every CR LF into LF.
  Bytes lf;
  for (std::size_t i = 0; i < w.bytes.size(); ++i) {
    if (w.bytes[i] == '\r' && i + 1 < w.bytes.size() && w.bytes[i + 1] == '\n') continue;
    lf.push_back(w.bytes[i]);
  }
  save(w.path, lf);
  EXPECT_TRUE(is_event_file(w.path));
  msg = error_of([&] { EventFileReader r(w.path); });
  EXPECT_NE(msg.find("CR LF into LF"), std::string::npos) << msg;

  // ... and one that turned LF into CR LF.
  Bytes crlf;
  for (unsigned char c : w.bytes) {
    if (c == '\n') crlf.push_back('\r');
    crlf.push_back(c);
  }
  save(w.path, crlf);
  msg = error_of([&] { EventFileReader r(w.path); });
  EXPECT_NE(msg.find("LF into CR LF"), std::string::npos) << msg;
}

TEST(EventFileErrors, UnsupportedVersionIsReported) {
  const std::string dir = temp_dir();
  WrittenFile w = write_sample(dir, true, "z.mmk");
  EventFileHeader h = w.header;
  h.version = 2;
  put_header(w.bytes, h, true);
  save(w.path, w.bytes);
  Error e("");
  const std::string msg = error_of([&] { EventFileReader r(w.path); }, &e);
  EXPECT_NE(msg.find("unsupported event file version 2"), std::string::npos) << msg;
  EXPECT_EQ(e.where().byte_offset, 8u);
}

TEST(EventFileErrors, EventSizeMismatchIsReported) {
  const std::string dir = temp_dir();
  WrittenFile w = write_sample(dir, false, "p.mmk");
  EventFileHeader h = w.header;
  h.event_size = 72;
  put_header(w.bytes, h, true);
  save(w.path, w.bytes);
  Error e("");
  const std::string msg = error_of([&] { EventFileReader r(w.path); }, &e);
  EXPECT_NE(msg.find("event size 72"), std::string::npos) << msg;
  EXPECT_EQ(e.where().byte_offset, 16u);
}

TEST(EventFileErrors, DamagedHeaderFailsItsChecksum) {
  const std::string dir = temp_dir();
  WrittenFile w = write_sample(dir, false, "p.mmk");
  w.bytes[offsetof(EventFileHeader, instrument) + 1] ^= 0x01;  // a letter of the symbol
  save(w.path, w.bytes);
  const std::string msg = error_of([&] { EventFileReader r(w.path); });
  EXPECT_NE(msg.find("header checksum mismatch"), std::string::npos) << msg;
}

TEST(EventFileErrors, BlockIndexEntryOutOfRangeIsReportedAtTheEntry) {
  const std::string dir = temp_dir();
  WrittenFile w = write_sample(dir, true, "z.mmk");
  const EventFileHeader& h = w.header;
  ASSERT_GE(h.block_count, 3u);
  EventFileBlock b{};
  const std::uint64_t at = h.index_offset + 1 * sizeof(EventFileBlock);
  std::memcpy(&b, w.bytes.data() + at, sizeof b);
  b.compressed_size = h.file_size;  // runs past the payload
  std::memcpy(w.bytes.data() + at, &b, sizeof b);
  save(w.path, w.bytes);
  Error e("");
  const std::string msg = error_of([&] { EventFileReader r(w.path); }, &e);
  EXPECT_NE(msg.find("block 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("out of range"), std::string::npos) << msg;
  EXPECT_EQ(e.where().byte_offset, at);

  // A change that keeps the index consistent in shape still fails its checksum.
  w = write_sample(dir, true, "z2.mmk");
  std::memcpy(&b, w.bytes.data() + at, sizeof b);
  b.first_record += 1;
  std::memcpy(w.bytes.data() + at, &b, sizeof b);
  save(w.path, w.bytes);
  EXPECT_NE(error_of([&] { EventFileReader r(w.path); }).find("block index checksum mismatch"),
            std::string::npos);
}

TEST(EventFileErrors, HeaderSectionOffsetsOutOfRangeAreReported) {
  const std::string dir = temp_dir();
  const WrittenFile w = write_sample(dir, true, "z.mmk");
  {
    Bytes b = w.bytes;
    EventFileHeader h = w.header;
    h.index_offset = h.file_size + 64;
    put_header(b, h, true);
    save(w.path, b);
    EXPECT_NE(error_of([&] { EventFileReader r(w.path); }).find("block index"), std::string::npos);
  }
  {
    Bytes b = w.bytes;
    EventFileHeader h = w.header;
    h.payload_size = h.file_size;
    put_header(b, h, true);
    save(w.path, b);
    EXPECT_NE(error_of([&] { EventFileReader r(w.path); }).find("runs past the end"), std::string::npos);
  }
  {
    Bytes b = w.bytes;
    EventFileHeader h = w.header;
    h.block_count -= 1;
    put_header(b, h, true);
    save(w.path, b);
    EXPECT_NE(error_of([&] { EventFileReader r(w.path); }).find("blocks"), std::string::npos);
  }
}

TEST(EventFileErrors, DamagedLocateTableIsReported) {
  const std::string dir = temp_dir();
  WrittenFile w = write_sample(dir, false, "p.mmk");
  w.bytes[w.bytes.size() - 3] ^= 0x20;  // a character of the location text
  save(w.path, w.bytes);
  Error e("");
  const std::string msg = error_of([&] { EventFileReader r(w.path); }, &e);
  EXPECT_NE(msg.find("locate table checksum mismatch"), std::string::npos) << msg;
  EXPECT_EQ(e.where().byte_offset, w.header.locate_offset);
}

TEST(EventFileErrors, FlippedByteInACompressedBlockFailsWhenReadAndInVerify) {
  const std::string dir = temp_dir();
  WrittenFile w = write_sample(dir, true, "z.mmk");
  const EventFileHeader& h = w.header;
  EventFileBlock b{};
  std::memcpy(&b, w.bytes.data() + h.index_offset + 2 * sizeof(EventFileBlock), sizeof b);
  w.bytes[b.offset + b.compressed_size / 2] ^= 0x10;
  save(w.path, w.bytes);

  EventFileReader r(w.path);  // the payload is not checked on open
  Error e("");
  const std::string msg = error_of([&] { (void)read_all(r, 100); }, &e);
  EXPECT_NE(msg.find("block 2 of"), std::string::npos) << msg;
  EXPECT_NE(msg.find("zstd"), std::string::npos) << msg;
  EXPECT_EQ(e.where().byte_offset, b.offset);
  EXPECT_EQ(e.where().file, w.path);
  const std::string v = verify_event_file(w.path);
  EXPECT_NE(v.find("payload checksum mismatch"), std::string::npos) << v;
}

TEST(EventFileErrors, FlippedByteInAPlainPayloadIsFoundByVerify) {
  const std::string dir = temp_dir();
  WrittenFile w = write_sample(dir, false, "p.mmk");
  ASSERT_EQ(verify_event_file(w.path), "");
  w.bytes[w.header.payload_offset + 64 * 10 + 3] ^= 0x01;
  save(w.path, w.bytes);
  const std::string v = verify_event_file(w.path);
  EXPECT_NE(v.find("payload checksum mismatch"), std::string::npos) << v;
  EXPECT_NE(v.find(w.path + " @ byte 4096"), std::string::npos) << v;
}

TEST(EventFileErrors, VerifyFindsEventsThatBreakTheHeaderFacts) {
  const std::string dir = temp_dir();
  WrittenFile w = write_sample(dir, false, "p.mmk");
  const std::uint64_t at = w.header.payload_offset + 64 * 5;
  Event e;
  std::memcpy(&e, w.bytes.data() + at, sizeof e);
  e.record = w.header.record_count;  // beyond the records of the file
  std::memcpy(w.bytes.data() + at, &e, sizeof e);
  EventFileHeader h = w.header;
  h.payload_checksum = fnv1a64(w.bytes.data() + h.payload_offset, h.payload_size);
  put_header(w.bytes, h, true);
  save(w.path, w.bytes);
  const std::string v = verify_event_file(w.path);
  EXPECT_NE(v.find("event 5: record 3000 not below the record count 3000"), std::string::npos) << v;
  EXPECT_NE(v.find("@ byte " + std::to_string(at)), std::string::npos) << v;
}

// --- Errors on writing ----------------------------------------------------------------------

std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(EventFileWrite, SourceErrorLeavesNoFileAndKeepsAnExistingOne) {
  const std::string dir = temp_dir();
  for (bool compress : {false, true}) {
    SyntheticSource::Options o = small(3000);
    o.throw_at_record = 2500;
    SyntheticSource src(o);
    EventFileOptions opt;
    opt.compress = compress;
    opt.block_events = 100;
    const std::string msg = error_of([&] { write_event_file(src, dir + "/new.mmk", opt); });
    EXPECT_NE(msg.find("synthetic.csv:2501"), std::string::npos) << msg;
    EXPECT_TRUE(dir_entries(dir).empty());

    save(dir + "/old.mmk", {'o', 'l', 'd'});
    SyntheticSource again(o);
    EXPECT_THROW(write_event_file(again, dir + "/old.mmk", opt), Error);
    EXPECT_EQ(load(dir + "/old.mmk"), (Bytes{'o', 'l', 'd'}));
    EXPECT_EQ(dir_entries(dir), std::vector<std::string>{"old.mmk"});
    fs::remove(dir + "/old.mmk");
  }
}

TEST(EventFileWrite, TooManyOrTooLongCountersAndFormatNamesAreRefused) {
  const std::string dir = temp_dir();
  {
    SyntheticSource::Options o = small(50);
    o.counters = 48;
    SyntheticSource src(o);
    write_event_file(src, dir + "/ok.mmk");
    EventFileReader r(dir + "/ok.mmk");
    EXPECT_EQ(r.tolerated().items().size(), 48u);
    EXPECT_EQ(r.tolerated().get("synthetic.tolerated_47"), 47007u);
    fs::remove(dir + "/ok.mmk");
  }
  {
    SyntheticSource::Options o = small(50);
    o.counters = 49;
    SyntheticSource src(o);
    const std::string msg = error_of([&] { write_event_file(src, dir + "/x.mmk"); });
    EXPECT_NE(msg.find("49 tolerated counters"), std::string::npos) << msg;
  }
  {
    SyntheticSource::Options o = small(50);
    o.counter_name = std::string(60, 'c');
    SyntheticSource src(o);
    const std::string msg = error_of([&] { write_event_file(src, dir + "/x.mmk"); });
    EXPECT_NE(msg.find("at most 55 bytes"), std::string::npos) << msg;
  }
  {
    SyntheticSource::Options o = small(50);
    o.format = std::string(40, 'f');
    SyntheticSource src(o);
    const std::string msg = error_of([&] { write_event_file(src, dir + "/x.mmk"); });
    EXPECT_NE(msg.find("at most 31 bytes"), std::string::npos) << msg;
  }
  EXPECT_TRUE(dir_entries(dir).empty());
}

TEST(EventFileWrite, InvalidOptionsAndInconsistentSourcesAreRefused) {
  const std::string dir = temp_dir();
  EventFileOptions opt;
  opt.compress = true;
  opt.block_events = 0;
  SyntheticSource s1(small(10));
  EXPECT_NE(error_of([&] { write_event_file(s1, dir + "/x.mmk", opt); }).find("block size 0"), std::string::npos);
  opt.block_events = 10;
  opt.zstd_level = 100;
  SyntheticSource s2(small(10));
  EXPECT_NE(error_of([&] { write_event_file(s2, dir + "/x.mmk", opt); }).find("zstd level 100"), std::string::npos);

  SyntheticSource::Options o = small(100);
  o.record_offset_bug = 200;
  SyntheticSource s3(o);
  const std::string msg = error_of([&] { write_event_file(s3, dir + "/x.mmk"); });
  EXPECT_NE(msg.find("the source reports 100 records but an event refers to record"), std::string::npos) << msg;
  EXPECT_TRUE(dir_entries(dir).empty());
}

// --- Real data ------------------------------------------------------------------------------

// Converts the input `rels` (plain and compressed), reads both back and compares them with a
// fresh read of the original: events byte for byte, record count, counters, instrument, book level
// and the locate() text of every record; `segments` is the expected locate segment count (one per
// input file).
void real_round_trip(const std::vector<std::string>& rels, std::uint64_t segments) {
  std::vector<std::string> paths;
  for (const std::string& rel : rels) {
    paths.push_back(data_dir() + "/" + rel);
    if (!fs::exists(paths.back())) {
      if (under_ci()) FAIL() << "data file missing under CI: " << paths.back();
      GTEST_SKIP() << "data file absent: " << paths.back() << " (set MMKIT_DATA_DIR)";
    }
  }
  std::unique_ptr<EventSource> probe;
  const std::string open_error = error_of([&] { probe = open_source(paths); });
  if (!open_error.empty()) {
    if (under_ci()) FAIL() << "cannot open " << paths[0] << ": " << open_error;
    GTEST_SKIP() << "reader not available yet: " << open_error;
  }
  const std::string dir = temp_dir();
  std::unique_ptr<EventSource> ref_src = open_source(paths);
  const std::vector<Event> ref = read_all(*ref_src, 4096);
  ASSERT_FALSE(ref.empty());
  for (bool compress : {false, true}) {
    const std::string out = dir + (compress ? "/z.mmk" : "/p.mmk");
    auto src = open_source(paths);
    EventFileOptions opt;
    opt.compress = compress;
    const EventFileSummary sum = write_event_file(*src, out, opt);
    EXPECT_EQ(sum.event_count, ref.size());
    EXPECT_EQ(sum.record_count, ref_src->records());
    EXPECT_EQ(sum.locate_segments, segments);
    EventFileReader r(out);
    EXPECT_EQ(r.format(), "mmk:" + ref_src->format());
    EXPECT_EQ(std::memcmp(&r.instrument(), &ref_src->instrument(), sizeof(InstrumentSpec)), 0);
    EXPECT_EQ(r.book_level(), ref_src->book_level());
    EXPECT_EQ(r.tolerated().items(), ref_src->tolerated().items());
    EXPECT_TRUE(same_bytes(read_all(r, 4096), ref)) << out;
    EXPECT_EQ(r.records(), ref_src->records());
    std::uint64_t mismatches = 0;
    for (std::uint64_t rec = 0; rec < ref_src->records(); ++rec) {
      if (r.locate(rec) != ref_src->locate(rec) && ++mismatches <= 5) {
        ADD_FAILURE() << rec << ": " << r.locate(rec) << " != " << ref_src->locate(rec);
      }
    }
    EXPECT_EQ(mismatches, 0u);
    EXPECT_EQ(verify_event_file(out), "");
    std::printf("[ real data ] %s -> %s: %llu events, %llu records, %llu locate segments, %llu bytes\n",
                rels.back().c_str(), compress ? "zstd" : "plain", static_cast<unsigned long long>(sum.event_count),
                static_cast<unsigned long long>(sum.record_count),
                static_cast<unsigned long long>(sum.locate_segments),
                static_cast<unsigned long long>(sum.file_size));
  }
}

TEST(EventFileRealData, LobsterGoogLevel10RoundTrips) {
  real_round_trip({"lobster/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"}, 1);
}

TEST(EventFileRealData, BinanceUsdmBtcusdtRoundTrips) {
  real_round_trip({"binance_l2/usdm/btcusdt_20240808.gz"}, 1);
}

TEST(EventFileRealData, BinanceUsdmTwoConsecutiveFilesKeepEachFilesLocations) {
  real_round_trip({"binance_l2/usdm/btcusdt_20240718.gz", "binance_l2/usdm/btcusdt_20240719.gz"}, 2);
}

TEST(EventFileRealData, CmeEsMboCsvRoundTrips) {
  real_round_trip({"cme_mbo/esh4-glbx-mdp3-20231225.mbo.csv.gz"}, 1);
}

}  // namespace
}  // namespace mmkit::data
