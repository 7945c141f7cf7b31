#include "mmkit/data/databento.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <numeric>
#include <unordered_map>

#include "mmkit/core/decimal.h"
#include "mmkit/data/line_reader.h"

namespace mmkit::data {
namespace databento {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the DBN decoder reads little-endian fields in place");

// Databento publisher names by id, from github.com/databento/dbn rust/dbn/src/publishers.rs.
constexpr const char* kPublisherNames[] = {
    nullptr,
    "GLBX.MDP3.GLBX",    "XNAS.ITCH.XNAS",    "XBOS.ITCH.XBOS",    "XPSX.ITCH.XPSX",
    "BATS.PITCH.BATS",   "BATY.PITCH.BATS",   "EDGA.PITCH.EDGA",   "EDGX.PITCH.EDGX",
    "XNYS.PILLAR.XNYS",  "XCIS.PILLAR.XCIS",  "XASE.PILLAR.XASE",  "XCHI.PILLAR.XCHI",
    "XCIS.BBO.XCIS",     "XCIS.TRADES.XCIS",  "MEMX.MEMOIR.MEMX",  "EPRL.DOM.EPRL",
    "FINN.NLS.FINN",     "FINN.NLS.FINC",     "FINY.TRADES.FINY",  "OPRA.PILLAR.AMXO",
    "OPRA.PILLAR.XBOX",  "OPRA.PILLAR.XCBO",  "OPRA.PILLAR.EMLD",  "OPRA.PILLAR.EDGO",
    "OPRA.PILLAR.GMNI",  "OPRA.PILLAR.XISX",  "OPRA.PILLAR.MCRY",  "OPRA.PILLAR.XMIO",
    "OPRA.PILLAR.ARCO",  "OPRA.PILLAR.OPRA",  "OPRA.PILLAR.MPRL",  "OPRA.PILLAR.XNDQ",
    "OPRA.PILLAR.XBXO",  "OPRA.PILLAR.C2OX",  "OPRA.PILLAR.XPHL",  "OPRA.PILLAR.BATO",
    "OPRA.PILLAR.MXOP",  "IEXG.TOPS.IEXG",    "DBEQ.BASIC.XCHI",   "DBEQ.BASIC.XCIS",
    "DBEQ.BASIC.IEXG",   "DBEQ.BASIC.EPRL",
};
constexpr std::size_t kPublisherCount = sizeof kPublisherNames / sizeof kPublisherNames[0];

constexpr std::string_view kCsvColumns[] = {
    "ts_recv_ns", "ts_event_ns", "publisher_id", "publisher",  "instrument_id",
    "symbol",     "action",      "side",         "price_1e9",  "size",
    "order_id",   "flags",       "channel_id",   "ts_in_delta_ns", "sequence",
};
constexpr std::size_t kCsvColumnCount = sizeof kCsvColumns / sizeof kCsvColumns[0];

bool valid_action(char a) noexcept {
  return a == 'A' || a == 'C' || a == 'M' || a == 'R' || a == 'T' || a == 'F' || a == 'N';
}
bool valid_side(char s) noexcept { return s == 'B' || s == 'A' || s == 'N'; }

std::string printable(char c) {
  if (c >= 0x20 && c < 0x7f) return std::string("'") + c + "'";
  return "byte " + std::to_string(static_cast<unsigned char>(c));
}

// Days since 1970-01-01 of the proleptic Gregorian date y-m-d (H. Hinnant, days_from_civil).
std::int32_t days_from_civil(std::int32_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int32_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int32_t>(doe) - 719468;
}

constexpr std::int64_t kNsPerDay = 86'400'000'000'000LL;

// ---------------------------------------------------------------------------------------------
// CSV dump

class CsvMboReader final : public MboRecordReader {
 public:
  CsvMboReader(const std::string& path, std::unique_ptr<LineReader> lines)
      : MboRecordReader(path), lines_(std::move(lines)) {
    std::string_view header;
    if (!lines_->next(header)) throw_at_line(lines_->name(), 1, {}, "empty file: no CSV header");
    std::string_view cols[kCsvColumnCount + 1];
    const std::size_t n = split_fields(header, ',', cols, kCsvColumnCount + 1);
    bool ok = n == kCsvColumnCount;
    for (std::size_t i = 0; ok && i < kCsvColumnCount; ++i) ok = cols[i] == kCsvColumns[i];
    if (!ok) {
      std::string expected;
      for (std::size_t i = 0; i < kCsvColumnCount; ++i) {
        if (i) expected += ',';
        expected += kCsvColumns[i];
      }
      throw_at_line(lines_->name(), 1, {},
                    "not a Databento MBO CSV dump: header '" + std::string(header) +
                        "', expected '" + expected + "'");
    }
  }

  bool next(MboRecord& r) override {
    std::string_view line;
    if (!lines_->next(line)) return false;
    if (!parse_fast(line, r)) parse_checked(line, r);
    return true;
  }

  std::string_view symbol() const override { return symbol_; }
  std::string_view publisher() const override { return publisher_; }
  SourceLocation where() const override { return SourceLocation{lines_->name(), lines_->line_number()}; }
  std::string_view format() const noexcept override { return "databento-csv"; }

 private:
  // One pass over a well-formed row; false on anything unusual (parse_checked then names it).
  bool parse_fast(std::string_view line, MboRecord& r) noexcept {
    const char* p = line.data();
    const char* const end = p + line.size();
    const auto uint = [&](std::uint64_t max, std::uint64_t& v) {
      const char* start = p;
      v = 0;
      while (p < end && *p >= '0' && *p <= '9') {
        const auto d = static_cast<std::uint64_t>(*p - '0');
        if (v > (max - d) / 10) return false;
        v = v * 10 + d;
        ++p;
      }
      return p != start;
    };
    const auto sep = [&]() {
      if (p == end || *p != ',') return false;
      ++p;
      return true;
    };
    const auto text = [&](std::string_view& out) {
      const char* start = p;
      while (p < end && *p != ',') ++p;
      out = std::string_view(start, static_cast<std::size_t>(p - start));
      return true;
    };
    const auto sint = [&](std::uint64_t max_pos, std::uint64_t max_neg, std::int64_t& v) {
      const bool neg = p < end && *p == '-';
      if (neg) ++p;
      std::uint64_t u = 0;
      if (!uint(neg ? max_neg : max_pos, u)) return false;
      v = neg ? static_cast<std::int64_t>(0 - u) : static_cast<std::int64_t>(u);
      return true;
    };
    const auto one = [&](char& c) {
      if (p == end || *p == ',') return false;
      c = *p++;
      return true;
    };
    std::uint64_t u = 0;
    std::int64_t i = 0;
    constexpr std::uint64_t kU64 = ~std::uint64_t{0};
    constexpr std::uint64_t kI64 = static_cast<std::uint64_t>(INT64_MAX);
    if (!uint(kU64, r.ts_recv) || !sep() || !uint(kU64, r.ts_event) || !sep()) return false;
    if (!uint(0xFFFF, u) || !sep()) return false;
    r.publisher_id = static_cast<std::uint16_t>(u);
    if (!text(publisher_) || !sep() || !uint(0xFFFFFFFFu, u) || !sep()) return false;
    r.instrument_id = static_cast<std::uint32_t>(u);
    if (!text(symbol_) || !sep() || !one(r.action) || !sep() || !one(r.side) || !sep()) return false;
    if (!valid_action(r.action) || !valid_side(r.side)) return false;
    if (!sint(kI64, kI64 + 1, r.price) || !sep() || !uint(0xFFFFFFFFu, u) || !sep()) return false;
    r.size = static_cast<std::uint32_t>(u);
    if (!uint(kU64, r.order_id) || !sep() || !uint(0xFF, u) || !sep()) return false;
    r.flags = static_cast<std::uint8_t>(u);
    if (!uint(0xFF, u) || !sep()) return false;
    r.channel_id = static_cast<std::uint8_t>(u);
    if (!sint(INT32_MAX, std::uint64_t{INT32_MAX} + 1, i) || !sep()) return false;
    r.ts_in_delta = static_cast<std::int32_t>(i);
    if (!uint(0xFFFFFFFFu, u) || p != end) return false;
    r.sequence = static_cast<std::uint32_t>(u);
    return true;
  }

  void parse_checked(std::string_view line, MboRecord& r) {
    std::string_view f[kCsvColumnCount + 1];
    const std::size_t n = split_fields(line, ',', f, kCsvColumnCount + 1);
    if (n != kCsvColumnCount) {
      fail({}, "expected " + std::to_string(kCsvColumnCount) + " columns, found " +
                   std::to_string(n));
    }
    r.ts_recv = u64(f[0], 0);
    r.ts_event = u64(f[1], 1);
    r.publisher_id = static_cast<std::uint16_t>(bounded(f[2], 2, 0xFFFF));
    publisher_ = f[3];
    r.instrument_id = static_cast<std::uint32_t>(bounded(f[4], 4, 0xFFFFFFFFu));
    symbol_ = f[5];
    r.action = one_char(f[6], 6);
    if (!valid_action(r.action)) fail(kCsvColumns[6], "unknown action '" + std::string(f[6]) + "'");
    r.side = one_char(f[7], 7);
    if (!valid_side(r.side)) fail(kCsvColumns[7], "unknown side '" + std::string(f[7]) + "'");
    std::int64_t px = 0;
    if (!parse_int(f[8], px)) fail(kCsvColumns[8], "unparsable integer '" + std::string(f[8]) + "'");
    r.price = px;
    r.size = static_cast<std::uint32_t>(bounded(f[9], 9, 0xFFFFFFFFu));
    r.order_id = u64(f[10], 10);
    r.flags = static_cast<std::uint8_t>(bounded(f[11], 11, 0xFF));
    r.channel_id = static_cast<std::uint8_t>(bounded(f[12], 12, 0xFF));
    std::int64_t delta = 0;
    if (!parse_int(f[13], delta) || delta < INT32_MIN || delta > INT32_MAX) {
      fail(kCsvColumns[13], "unparsable or out-of-range i32 '" + std::string(f[13]) + "'");
    }
    r.ts_in_delta = static_cast<std::int32_t>(delta);
    r.sequence = static_cast<std::uint32_t>(bounded(f[14], 14, 0xFFFFFFFFu));
  }

  [[noreturn]] void fail(std::string_view field, const std::string& what) const {
    throw_at_line(lines_->name(), lines_->line_number(), field, what);
  }
  std::uint64_t u64(std::string_view s, std::size_t col) const {
    std::uint64_t v = 0;
    if (!parse_uint(s, v)) fail(kCsvColumns[col], "unparsable unsigned integer '" + std::string(s) + "'");
    return v;
  }
  std::uint64_t bounded(std::string_view s, std::size_t col, std::uint64_t max) const {
    std::uint64_t v = 0;
    if (!parse_uint(s, v) || v > max) {
      fail(kCsvColumns[col], "unparsable or out-of-range integer '" + std::string(s) + "' (max " +
                                 std::to_string(max) + ")");
    }
    return v;
  }
  char one_char(std::string_view s, std::size_t col) const {
    if (s.size() != 1) fail(kCsvColumns[col], "expected one character, found '" + std::string(s) + "'");
    return s[0];
  }

  std::unique_ptr<LineReader> lines_;
  std::string_view symbol_, publisher_;
};

// ---------------------------------------------------------------------------------------------
// DBN (plain or zstd)

constexpr std::uint32_t kZstdMagic = 0xFD2FB528u;
constexpr std::size_t kRecordHeaderSize = 16;
constexpr std::size_t kMinRead = 64 * 1024;
constexpr std::size_t kOutChunk = 1 << 20;

std::uint32_t le32(const char* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

bool is_zstd_magic(std::uint32_t m) noexcept {
  return m == kZstdMagic || (m & 0xFFFFFFF0u) == 0x184D2A50u;  // frame or skippable frame
}

class DbnMboReader final : public MboRecordReader {
 public:
  explicit DbnMboReader(const std::string& path) : MboRecordReader(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error(SourceLocation{path}, std::string("cannot open: ") + std::strerror(errno));
    try {
      char magic[4] = {};
      const std::size_t got = read_file(magic, 4);
      if (got == 4 && is_zstd_magic(le32(magic))) {
        zstd_ = true;
        ds_ = ZSTD_createDStream();
        if (ds_ == nullptr) throw Error(SourceLocation{path}, "cannot allocate a zstd stream");
        ZSTD_initDStream(ds_);
        in_.resize(ZSTD_DStreamInSize());
        std::memcpy(in_.data(), magic, 4);
        in_end_ = 4;
      } else {
        std::memcpy(buf_.data(), magic, got);
        end_ = got;
      }
      read_metadata();
    } catch (...) {
      release();
      throw;
    }
  }
  ~DbnMboReader() override { release(); }

  bool next(MboRecord& r) override {
    for (;;) {
      if (!fill(kRecordHeaderSize)) {
        if (end_ == begin_) return false;
        fail(0, {}, "truncated record header: " + std::to_string(end_ - begin_) +
                        " bytes at the end of the stream");
      }
      const char* p = buf_.data() + begin_;
      const std::size_t length = static_cast<unsigned char>(p[0]) * std::size_t{4};
      if (length < kRecordHeaderSize) {
        fail(0, "length", "record length " + std::to_string(length) + " bytes is shorter than the " +
                              std::to_string(kRecordHeaderSize) + "-byte record header");
      }
      if (!fill(length)) {
        fail(0, {}, "truncated record: length " + std::to_string(length) + " bytes, " +
                        std::to_string(end_ - begin_) + " left in the stream");
      }
      p = buf_.data() + begin_;
      const auto rtype = static_cast<std::uint8_t>(p[1]);
      record_offset_ = consumed_;
      if (rtype != kRtypeMbo) {
        ++non_mbo_records_;
        advance(length);
        continue;
      }
      if (length < kMboMsgSize) {
        fail(0, "length", "MBO record of " + std::to_string(length) + " bytes, expected at least " +
                              std::to_string(kMboMsgSize));
      }
      std::memcpy(&r.publisher_id, p + 2, 2);
      std::memcpy(&r.instrument_id, p + 4, 4);
      std::memcpy(&r.ts_event, p + 8, 8);
      std::memcpy(&r.order_id, p + 16, 8);
      std::memcpy(&r.price, p + 24, 8);
      std::memcpy(&r.size, p + 32, 4);
      r.flags = static_cast<std::uint8_t>(p[36]);
      r.channel_id = static_cast<std::uint8_t>(p[37]);
      r.action = p[38];
      r.side = p[39];
      std::memcpy(&r.ts_recv, p + 40, 8);
      std::memcpy(&r.ts_in_delta, p + 48, 4);
      std::memcpy(&r.sequence, p + 52, 4);
      if (!valid_action(r.action)) fail(38, "action", "unknown action " + printable(r.action));
      if (!valid_side(r.side)) fail(39, "side", "unknown side " + printable(r.side));
      advance(length);
      last_instrument_ = r.instrument_id;
      last_day_ = static_cast<std::int32_t>(static_cast<std::int64_t>(r.ts_recv) / kNsPerDay);
      last_publisher_ = r.publisher_id;
      return true;
    }
  }

  std::string_view symbol() const override {
    if (cache_instrument_ != last_instrument_ || cache_day_ != last_day_) {
      cache_instrument_ = last_instrument_;
      cache_day_ = last_day_;
      cache_symbol_ = {};
      for (const auto& iv : meta_.intervals) {
        if (iv.instrument_id == last_instrument_ && iv.start_day <= last_day_ && last_day_ < iv.end_day) {
          cache_symbol_ = iv.symbol;
          break;
        }
      }
    }
    return cache_symbol_;
  }
  std::string_view publisher() const override {
    if (label_id_ != last_publisher_ || label_.empty()) {
      label_id_ = last_publisher_;
      label_ = publisher_label(last_publisher_);
    }
    return label_;
  }
  SourceLocation where() const override {
    SourceLocation loc{path_};
    loc.byte_offset = record_offset_;
    loc.has_byte_offset = true;
    return loc;
  }
  const DbnMetadata* metadata() const noexcept override { return &meta_; }
  std::string_view format() const noexcept override { return "databento-dbn"; }

 private:
  void release() noexcept {
    if (ds_ != nullptr) ZSTD_freeDStream(ds_);
    ds_ = nullptr;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  [[noreturn]] void fail(std::size_t offset_in_record, std::string_view field, const std::string& what) const {
    throw_at_offset(path_, consumed_ + offset_in_record, field, what);
  }
  [[noreturn]] void fail_at(std::uint64_t offset, std::string_view field, const std::string& what) const {
    throw_at_offset(path_, offset, field, what);
  }

  std::size_t read_file(char* dst, std::size_t n) {
    std::size_t total = 0;
    while (total < n) {
      const ssize_t r = ::read(fd_, dst + total, n - total);
      if (r < 0) {
        if (errno == EINTR) continue;
        throw Error(SourceLocation{path_}, std::string("read failed: ") + std::strerror(errno));
      }
      if (r == 0) break;
      total += static_cast<std::size_t>(r);
    }
    return total;
  }

  // Decompressed bytes into dst (up to n); 0 at the end of the stream.
  std::size_t read_stream(char* dst, std::size_t n) {
    if (!zstd_) return read_file(dst, n);
    ZSTD_outBuffer out{dst, n, 0};
    while (out.pos == 0) {
      if (in_pos_ == in_end_ && !pending_) {
        if (in_eof_) break;
        in_end_ = read_file(in_.data(), in_.size());
        in_pos_ = 0;
        if (in_end_ == 0) {
          in_eof_ = true;
          break;
        }
      }
      ZSTD_inBuffer in{in_.data(), in_end_, in_pos_};
      const std::size_t ret = ZSTD_decompressStream(ds_, &out, &in);
      if (ZSTD_isError(ret)) {
        fail_at(consumed_ + (end_ - begin_) + out.pos, {},
                std::string("zstd decode error: ") + ZSTD_getErrorName(ret));
      }
      in_pos_ = in.pos;
      pending_ = out.pos == out.size;
      frame_open_ = ret != 0;
    }
    if (out.pos == 0 && frame_open_) {
      fail_at(consumed_ + (end_ - begin_), {}, "truncated zstd frame at the end of the file");
    }
    return out.pos;
  }

  // Makes at least `need` bytes available at buf_[begin_]; false if the stream ends first.
  bool fill(std::size_t need) {
    while (end_ - begin_ < need) {
      if (eof_) return false;
      if (begin_ > 0 && (buf_.size() - begin_ < need || buf_.size() - end_ < kMinRead)) {
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (buf_.size() - begin_ < need) buf_.resize(begin_ + need + kMinRead);
      const std::size_t got = read_stream(buf_.data() + end_, buf_.size() - end_);
      if (got == 0) eof_ = true;
      end_ += got;
    }
    return true;
  }

  void advance(std::size_t n) noexcept {
    begin_ += n;
    consumed_ += n;
  }

  void read_metadata() {
    if (!fill(8)) fail_at(0, {}, "not a DBN file: shorter than the 8-byte DBN prelude");
    const char* p = buf_.data() + begin_;
    if (std::memcmp(p, "DBN", 3) != 0) {
      fail_at(0, {}, std::memcmp(p, "DBZ", 3) == 0
                         ? "legacy DBZ file: only DBN (versions 1 to 3) is supported"
                         : "not a DBN file: missing the 'DBN' magic");
    }
    meta_.version = static_cast<std::uint8_t>(p[3]);
    if (meta_.version < 1 || meta_.version > 3) {
      fail_at(3, "version", "unsupported DBN version " + std::to_string(meta_.version) +
                                " (supported: 1 to 3)");
    }
    const std::uint32_t length = le32(p + 4);
    constexpr std::uint32_t kFixed = 100;
    if (length < kFixed) {
      fail_at(4, "metadata length", "metadata length " + std::to_string(length) +
                                        " is shorter than the fixed part (" + std::to_string(kFixed) + ")");
    }
    constexpr std::uint32_t kMaxMetadata = 256u << 20;
    if (length > kMaxMetadata) {
      fail_at(4, "metadata length", "implausible metadata length " + std::to_string(length) +
                                        " (more than 256 MiB)");
    }
    if (!fill(8 + static_cast<std::size_t>(length))) {
      fail_at(4, "metadata length", "truncated metadata: " + std::to_string(length) +
                                        " bytes announced, " + std::to_string(end_ - begin_ - 8) +
                                        " present");
    }
    const char* m = buf_.data() + begin_ + 8;
    const std::size_t mlen = length;
    std::size_t pos = 0;
    const auto off = [&](std::size_t at) { return static_cast<std::uint64_t>(8 + at); };
    const auto need = [&](std::size_t n, std::string_view field) {
      if (pos + n > mlen) fail_at(off(pos), field, "metadata ends inside this field");
    };
    const auto cstr = [&](std::size_t n) {
      const char* s = m + pos;
      pos += n;
      return std::string(s, strnlen(s, n));
    };
    meta_.dataset = cstr(16);
    std::memcpy(&meta_.schema, m + pos, 2);
    pos += 2;
    if (meta_.schema != 0 && meta_.schema != 0xFFFF) {
      fail_at(off(pos - 2), "schema",
              "schema " + std::to_string(meta_.schema) + " is not mbo (0): this reader decodes MBO");
    }
    std::memcpy(&meta_.start_ns, m + pos, 8);
    pos += 8;
    std::memcpy(&meta_.end_ns, m + pos, 8);
    pos += 8;
    pos += 8;                           // limit
    if (meta_.version == 1) pos += 8;  // deprecated record_count
    meta_.stype_in = static_cast<std::uint8_t>(m[pos++]);
    meta_.stype_out = static_cast<std::uint8_t>(m[pos++]);
    meta_.ts_out = m[pos++] != 0;
    std::size_t cstr_len = 22;  // DBN v1 SYMBOL_CSTR_LEN
    if (meta_.version >= 2) {
      std::uint16_t v = 0;
      std::memcpy(&v, m + pos, 2);
      pos += 2;
      cstr_len = v;
      if (cstr_len == 0) fail_at(off(pos - 2), "symbol_cstr_len", "symbol length 0");
    }
    pos += meta_.version == 1 ? 47 : 53;  // reserved
    need(4, "schema_definition_length");
    const std::uint32_t schema_def = le32(m + pos);
    if (schema_def != 0) {
      fail_at(off(pos), "schema_definition_length", "schema definitions are not supported");
    }
    pos += 4;
    const auto count = [&](std::string_view field) {
      need(4, field);
      const std::uint32_t c = le32(m + pos);
      pos += 4;
      return c;
    };
    for (const char* list : {"symbols", "partial", "not_found"}) {
      const std::uint32_t c = count(list);
      if (static_cast<std::uint64_t>(c) * cstr_len > mlen - pos) {
        fail_at(off(pos - 4), list, "count " + std::to_string(c) + " exceeds the metadata length");
      }
      for (std::uint32_t i = 0; i < c; ++i) {
        std::string s = cstr(cstr_len);
        if (std::strcmp(list, "symbols") == 0) meta_.symbols.push_back(std::move(s));
      }
    }
    const std::uint32_t mappings = count("mappings");
    const bool usable = meta_.stype_in == 1 && meta_.stype_out == 0;  // raw_symbol -> instrument_id
    for (std::uint32_t i = 0; i < mappings; ++i) {
      need(cstr_len + 4, "mappings");
      const std::string raw = cstr(cstr_len);
      const std::uint32_t intervals = le32(m + pos);
      pos += 4;
      for (std::uint32_t k = 0; k < intervals; ++k) {
        need(8 + cstr_len, "mapping interval");
        const std::uint32_t d0 = le32(m + pos), d1 = le32(m + pos + 4);
        const std::size_t at = pos;
        pos += 8;
        const std::string id = cstr(cstr_len);
        const auto day = [&](std::uint32_t yyyymmdd, std::size_t field_off) {
          const unsigned mo = yyyymmdd / 100 % 100, d = yyyymmdd % 100;
          if (mo < 1 || mo > 12 || d < 1 || d > 31) {
            fail_at(off(field_off), "mapping interval", "invalid date " + std::to_string(yyyymmdd));
          }
          return days_from_civil(static_cast<std::int32_t>(yyyymmdd / 10000), mo, d);
        };
        DbnSymbolInterval iv;
        iv.start_day = day(d0, at);
        iv.end_day = day(d1, at + 4);
        iv.symbol = raw;
        std::uint64_t inst = 0;
        if (usable && !id.empty() && parse_uint(id, inst) && inst <= 0xFFFFFFFFu) {
          iv.instrument_id = static_cast<std::uint32_t>(inst);
          meta_.intervals.push_back(std::move(iv));
        }
      }
    }
    begin_ += 8 + mlen;
    consumed_ = 8 + mlen;
    meta_.records_offset = consumed_;
  }

  int fd_ = -1;
  bool zstd_ = false;
  ZSTD_DStream* ds_ = nullptr;
  std::vector<char> in_;
  std::size_t in_pos_ = 0, in_end_ = 0;
  bool in_eof_ = false, pending_ = false, frame_open_ = false;

  std::vector<char> buf_ = std::vector<char>(kOutChunk);
  std::size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  std::uint64_t consumed_ = 0;       // decompressed offset of buf_[begin_]
  std::uint64_t record_offset_ = 0;  // decompressed offset of the last record

  DbnMetadata meta_;
  std::uint32_t last_instrument_ = 0;
  std::int32_t last_day_ = 0;
  std::uint16_t last_publisher_ = 0;
  mutable std::uint32_t cache_instrument_ = 0xFFFFFFFFu;
  mutable std::int32_t cache_day_ = INT32_MIN;
  mutable std::string_view cache_symbol_;
  mutable std::uint16_t label_id_ = 0;
  mutable std::string label_;
};

bool has_zstd_or_dbn_magic(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(SourceLocation{path}, std::string("cannot open: ") + std::strerror(errno));
  char magic[4] = {};
  const ssize_t r = ::read(fd, magic, 4);
  ::close(fd);
  if (r < 3) return false;
  if (std::memcmp(magic, "DBN", 3) == 0 || std::memcmp(magic, "DBZ", 3) == 0) return true;
  return r == 4 && is_zstd_magic(le32(magic));
}

// ---------------------------------------------------------------------------------------------
// Pre-scan

std::size_t action_index(char a) noexcept {
  switch (a) {
    case 'A': return 0;
    case 'C': return 1;
    case 'M': return 2;
    case 'R': return 3;
    case 'T': return 4;
    case 'F': return 5;
    default: return 6;
  }
}

struct FileInfo {
  std::string path;
  std::string format;
  std::uint64_t first_record = 0;
  std::uint64_t records = 0;         // MBO and other DBN records
  std::uint64_t records_offset = 0;  // DBN: offset of the first record
  std::uint64_t record_size = 0;     // DBN: uniform record size, 0 if not uniform
};

struct ScanResult {
  std::vector<MboStreamInfo> streams;
  std::vector<FileInfo> files;
};

ScanResult scan(const std::vector<std::string>& paths) {
  ScanResult res;
  std::uint64_t first = 0;
  for (const auto& path : paths) {
    auto reader = MboRecordReader::open(path);
    FileInfo fi;
    fi.path = path;
    fi.format = std::string(reader->format());
    fi.first_record = first;
    MboRecord r;
    std::uint64_t n = 0;
    std::size_t hit = SIZE_MAX;
    while (reader->next(r)) {
      ++n;
      if (hit == SIZE_MAX || res.streams[hit].publisher_id != r.publisher_id ||
          res.streams[hit].instrument_id != r.instrument_id || res.streams[hit].symbol != reader->symbol()) {
        hit = SIZE_MAX;
        for (std::size_t i = 0; i < res.streams.size(); ++i) {
          const auto& s = res.streams[i];
          if (s.publisher_id == r.publisher_id && s.instrument_id == r.instrument_id &&
              s.symbol == reader->symbol()) {
            hit = i;
            break;
          }
        }
        if (hit == SIZE_MAX) {
          MboStreamInfo s;
          s.publisher_id = r.publisher_id;
          s.publisher = std::string(reader->publisher());
          s.instrument_id = r.instrument_id;
          s.symbol = std::string(reader->symbol());
          res.streams.push_back(std::move(s));
          hit = res.streams.size() - 1;
        }
      }
      MboStreamInfo& s = res.streams[hit];
      ++s.records;
      if (r.flags & kFlagTob) ++s.tob_records;
      const std::size_t ai = action_index(r.action);
      if (ai < 6) ++s.action_counts[ai];
      if (r.price != kUndefPrice) {
        s.price_gcd = std::gcd(s.price_gcd, r.price < 0 ? -r.price : r.price);
      }
    }
    fi.records = n + reader->non_mbo_records();
    if (const DbnMetadata* md = reader->metadata()) {
      fi.records_offset = md->records_offset;
      if (reader->non_mbo_records() == 0) fi.record_size = md->ts_out ? kMboMsgSize + 8 : kMboMsgSize;
    }
    first += fi.records;
    res.files.push_back(std::move(fi));
  }
  return res;
}

std::string stream_name(const MboStreamInfo& s) {
  return (s.symbol.empty() ? std::to_string(s.instrument_id) : s.symbol) + "/" +
         std::to_string(s.publisher_id);
}

// ---------------------------------------------------------------------------------------------
// EventSource

class DatabentoSource final : public EventSource {
 public:
  DatabentoSource(const std::vector<std::string>& paths, const SourceOptions& options) {
    if (paths.empty()) throw Error("no Databento input file given");
    ScanResult scanned = scan(paths);
    files_ = std::move(scanned.files);
    streams_ = std::move(scanned.streams);
    select(paths, options);
  }

  const InstrumentSpec& instrument() const override { return spec_; }
  BookLevel book_level() const override { return BookLevel::kL3; }
  std::uint64_t records() const override { return record_; }
  const Counters& tolerated() const override { return tolerated_; }
  std::string format() const override { return "databento-mbo"; }

  std::string locate(std::uint64_t record) const override {
    for (const auto& f : files_) {
      if (record >= f.first_record && record < f.first_record + f.records) {
        const std::uint64_t k = record - f.first_record;
        if (f.format == "databento-csv") return f.path + ":" + std::to_string(k + 2);
        if (f.record_size != 0) {
          return f.path + " @ byte " + std::to_string(f.records_offset + k * f.record_size);
        }
        return f.path + " record " + std::to_string(k);
      }
    }
    return "record " + std::to_string(record) + " (beyond the input)";
  }

  std::size_t read(Event* out, std::size_t capacity) override {
    std::size_t n = 0;
    MboRecord r;
    while (n < capacity) {
      if (!reader_) {
        if (file_ >= files_.size()) break;
        reader_ = MboRecordReader::open(files_[file_].path);
        non_mbo_seen_ = 0;
      }
      const bool got = reader_->next(r);
      if (reader_->non_mbo_records() != non_mbo_seen_) {
        const std::uint64_t skipped = reader_->non_mbo_records() - non_mbo_seen_;
        non_mbo_ += skipped;
        record_ += skipped;
        non_mbo_seen_ = reader_->non_mbo_records();
      }
      if (!got) {
        reader_.reset();
        ++file_;
        continue;
      }
      const std::uint64_t rec = record_++;
      if (r.publisher_id != publisher_id_ || r.instrument_id != instrument_id_) {
        count_not_selected(r);
        continue;
      }
      if (convert(r, rec, out[n])) ++n;
    }
    sync_counters();
    return n;
  }

 private:
  struct LiveOrder {
    Price price;
    std::uint32_t size;
    char side;
  };

  void select(const std::vector<std::string>& paths, const SourceOptions& options) {
    std::vector<std::pair<std::uint32_t, std::string>> instruments;  // (id, symbol)
    for (const auto& s : streams_) {
      const std::pair<std::uint32_t, std::string> key{s.instrument_id, s.symbol};
      if (std::find(instruments.begin(), instruments.end(), key) == instruments.end()) {
        instruments.push_back(key);
      }
    }
    const auto list = [&] {
      std::string out;
      for (const auto& [id, sym] : instruments) {
        if (!out.empty()) out += ", ";
        out += (sym.empty() ? "<unmapped>" : sym) + " (instrument_id " + std::to_string(id) + ")";
      }
      return out;
    };
    const SourceLocation where{paths.front()};
    if (instruments.empty()) throw Error(where, "no MBO records in the input");
    std::vector<std::size_t> match;
    bool by_id = false;
    if (options.instrument.empty()) {
      if (instruments.size() != 1) {
        throw Error(where, "the input holds several instruments: " + list() +
                               "; choose one with the instrument option (symbol or instrument id)");
      }
      match.push_back(0);
    } else {
      for (std::size_t i = 0; i < instruments.size(); ++i) {
        if (instruments[i].second == options.instrument) match.push_back(i);
      }
      std::uint64_t id = 0;
      if (match.empty() && parse_uint(options.instrument, id)) {
        for (std::size_t i = 0; i < instruments.size(); ++i) {
          if (instruments[i].first == id) match.push_back(i);
        }
        by_id = true;
      }
      if (match.empty()) {
        throw Error(where, "instrument '" + options.instrument + "' is not in the input; found: " + list());
      }
      if (match.size() > 1) {
        throw Error(where, "instrument '" + options.instrument + "' is ambiguous in the input: " + list());
      }
    }
    instrument_id_ = instruments[match.front()].first;
    const std::string symbol = instruments[match.front()].second;

    std::vector<const MboStreamInfo*> pubs;
    for (const auto& s : streams_) {
      if (s.instrument_id == instrument_id_ && s.symbol == symbol) pubs.push_back(&s);
    }
    const std::string inst_name = symbol.empty() ? "instrument_id " + std::to_string(instrument_id_) : symbol;
    const auto pub_list = [&](bool only_l3) {
      std::string out;
      for (const auto* s : pubs) {
        if (only_l3 && s->tob_records != 0) continue;
        if (!out.empty()) out += ", ";
        out += std::to_string(s->publisher_id) + " (" + s->publisher + ", " +
               std::to_string(s->records) + " records" + (s->tob_records ? ", top-of-book" : "") + ")";
      }
      return out.empty() ? std::string("none") : out;
    };
    const MboStreamInfo* chosen = nullptr;
    if (options.publisher >= 0) {
      for (const auto* s : pubs) {
        if (s->publisher_id == options.publisher) chosen = s;
      }
      if (chosen == nullptr) {
        throw Error(where, "publisher " + std::to_string(options.publisher) + " has no records of " +
                               inst_name + "; publishers found: " + pub_list(false));
      }
    } else if (pubs.size() == 1) {
      chosen = pubs.front();
    } else {
      for (const auto* s : pubs) {
        if (s->tob_records != 0) continue;
        if (chosen != nullptr) {
          throw Error(where, inst_name + " has several order-by-order publishers: " + pub_list(true) +
                                 "; choose one with the publisher option");
        }
        chosen = s;
      }
      if (chosen == nullptr) {
        throw Error(where, inst_name + " has no order-by-order publisher: " + pub_list(false));
      }
    }
    if (chosen->tob_records != 0) {
      throw Error(where,
                  "publisher " + std::to_string(chosen->publisher_id) + " (" + chosen->publisher +
                      ") is a top-of-book feed encoded as pseudo-MBO (" +
                      std::to_string(chosen->tob_records) + " of its " + std::to_string(chosen->records) +
                      " " + inst_name +
                      " records carry F_TOB: each add re-sends the best bid or offer under one fixed "
                      "order id per side), not order-by-order depth, so it cannot be read as L3; "
                      "order-by-order publishers of " + inst_name + ": " + pub_list(true));
    }
    publisher_id_ = chosen->publisher_id;
    spec_.set_symbol(symbol.empty() ? std::to_string(instrument_id_) : symbol);
    spec_.set_venue(chosen->publisher);
    spec_.set_currency("USD");
    spec_.price_decimals = 9;
    spec_.qty_decimals = 0;
    spec_.tick_size = options.tick_size > 0 ? options.tick_size
                                            : (chosen->price_gcd > 0 ? chosen->price_gcd : 1);
    spec_.lot_size = 1;
    spec_.instrument_id = instrument_id_;
    if (by_id && symbol.empty()) tolerated_.add("databento.instrument_selected_by_id_without_symbol");

    for (const auto& s : streams_) {
      if (&s == chosen) continue;
      NotSelected ns;
      ns.publisher_id = s.publisher_id;
      ns.instrument_id = s.instrument_id;
      ns.counter = "databento.records_not_selected:" + stream_name(s);
      not_selected_.push_back(std::move(ns));
    }
  }

  void count_not_selected(const MboRecord& r) {
    if (ns_hit_ < not_selected_.size() && not_selected_[ns_hit_].publisher_id == r.publisher_id &&
        not_selected_[ns_hit_].instrument_id == r.instrument_id) {
      ++not_selected_[ns_hit_].count;
      ++not_selected_total_;
      return;
    }
    for (std::size_t i = 0; i < not_selected_.size(); ++i) {
      if (not_selected_[i].publisher_id == r.publisher_id && not_selected_[i].instrument_id == r.instrument_id) {
        ns_hit_ = i;
        ++not_selected_[i].count;
        ++not_selected_total_;
        return;
      }
    }
    // Same (publisher, instrument) as the selection under another symbol, or unseen by the scan.
    not_selected_.push_back(NotSelected{r.publisher_id, r.instrument_id,
                                        "databento.records_not_selected:" + std::to_string(r.instrument_id) +
                                            "/" + std::to_string(r.publisher_id),
                                        1, 0});
    ++not_selected_total_;
  }

  [[noreturn]] void fail(std::string_view field, const std::string& what) const {
    SourceLocation loc = reader_->where();
    loc.field = std::string(field);
    throw Error(std::move(loc), what);
  }

  static Side to_side(char s) noexcept {
    return s == 'B' ? Side::kBid : (s == 'A' ? Side::kAsk : Side::kNone);
  }

  std::string order_text(std::uint64_t id) const { return "order id " + std::to_string(id); }

  bool in_pre_open_ = true;  // no trade print seen since the start or the last clear

  bool convert(const MboRecord& r, std::uint64_t rec, Event& e) {
    if (r.ts_recv < last_ts_recv_) {
      if ((r.flags & kFlagBadTsRecv) == 0) {
        fail("ts_recv", "ts_recv " + std::to_string(r.ts_recv) + " goes backwards (previous " +
                            std::to_string(last_ts_recv_) + ") in the selected stream");
      }
      ++ts_backwards_bad_ts_;
    } else {
      last_ts_recv_ = r.ts_recv;
    }
    if (r.flags & kFlagBadTsRecv) ++bad_ts_;
    if (r.flags & kFlagSnapshot) ++snapshot_;
    if (r.flags & kFlagTob) ++tob_;
    if (r.flags & kFlagMbp) ++mbp_;
    if (r.flags & kFlagMaybeBadBook) ++maybe_bad_book_;

    const bool defined = r.price != kUndefPrice;
    const bool sided = r.side == 'B' || r.side == 'A';
    e.exch_ts_ns = static_cast<TimestampNs>(r.ts_event);
    e.local_ts_ns = static_cast<TimestampNs>(r.ts_recv);
    e.price = defined ? r.price : kNoPrice;
    e.qty = r.size;
    e.order_id = r.order_id;
    e.seq = r.sequence;
    e.record = rec;
    e.instrument_id = r.instrument_id;
    e.side = to_side(r.side);
    std::uint16_t fl = event_flags::kEndOfRecord;
    if (r.flags & kFlagLast) fl |= event_flags::kComplete;
    if (r.flags & kFlagSnapshot) fl |= event_flags::kSnapshot;
    if (r.flags & kFlagBadTsRecv) fl |= event_flags::kBadTs;
    // Until the stream's first trade print the venue is in its pre-open phase: CME Globex
    // accepts crossing orders there and matches them in the opening auction (ESH4 2023-12-25:
    // crossed at 891 F_LAST points between 22:39:55 and the 23:00:00 open, never after).
    if (r.action == 'T' || r.action == 'F') in_pre_open_ = false;
    if (r.action == 'R') in_pre_open_ = true;
    if (in_pre_open_) fl |= event_flags::kAuction;
    e.flags = fl;

    const auto require_order_fields = [&](const char* what) {
      if (!sided) fail("side", std::string(what) + " of " + order_text(r.order_id) + " without a side");
      if (!defined) fail("price", std::string(what) + " of " + order_text(r.order_id) + " without a price");
    };
    const auto live = [&](const char* what) -> LiveOrder& {
      const auto it = live_.find(r.order_id);
      if (it == live_.end()) {
        fail("order_id", std::string(what) + " of " + order_text(r.order_id) +
                             ", which is not live in the selected stream (never added, or already removed)");
      }
      if (r.side != 'N' && it->second.side != r.side) {
        fail("side", std::string(what) + " of " + order_text(r.order_id) + " on side " + r.side +
                         ", but the order rests on side " + it->second.side);
      }
      return it->second;
    };

    switch (r.action) {
      case 'A': {
        require_order_fields("add");
        if (r.size == 0) fail("size", "add of " + order_text(r.order_id) + " with size 0");
        const auto [it, inserted] = live_.try_emplace(r.order_id, LiveOrder{r.price, r.size, r.side});
        if (!inserted) fail("order_id", "add of " + order_text(r.order_id) + ", which is already live");
        e.kind = EventKind::kAdd;
        return true;
      }
      case 'C': {
        require_order_fields("cancel");
        LiveOrder& o = live("cancel");
        if (o.price != r.price) {
          fail("price", "cancel of " + order_text(r.order_id) + " at price " + std::to_string(r.price) +
                            ", but the order rests at " + std::to_string(o.price));
        }
        if (r.size == 0 || r.size > o.size) {
          fail("size", "cancel of " + std::to_string(r.size) + " from " + order_text(r.order_id) +
                           ", which has " + std::to_string(o.size) + " left");
        }
        o.size -= r.size;
        if (o.size == 0) live_.erase(r.order_id);
        e.kind = EventKind::kCancel;
        return true;
      }
      case 'M': {
        require_order_fields("modify");
        LiveOrder& o = live("modify");
        if (r.size == 0) fail("size", "modify of " + order_text(r.order_id) + " to size 0");
        o.price = r.price;
        o.size = r.size;
        e.kind = EventKind::kModify;
        return true;
      }
      case 'F': {
        // CME's opening-auction fills carry side N (no aggressor); the order's side is known.
        // Fills of ids never seen are tolerated: F does not change the book (CME ESH4 2023-12-25:
        // 7 of the 35 opening-auction fills name orders absent from the snapshot and the feed).
        if (!defined) fail("price", "fill of " + order_text(r.order_id) + " without a price");
        if (live_.find(r.order_id) == live_.end()) {
          ++fill_unknown_order_;
          e.kind = EventKind::kFill;
          return true;
        }
        const LiveOrder& o = live("fill");
        if (!sided) {
          e.side = to_side(o.side);
          ++fill_side_from_order_;
        }
        if (r.size == 0) fail("size", "fill of " + order_text(r.order_id) + " with size 0");
        // An iceberg (CME display quantity) is filled beyond its displayed size; the M that
        // follows shows the replenished size.
        if (r.size > o.size) ++fill_exceeds_visible_;
        e.kind = EventKind::kFill;
        return true;
      }
      case 'T':
        e.kind = EventKind::kTrade;
        return true;
      case 'R':
        live_.clear();
        e.kind = EventKind::kClear;
        return true;
      default:  // 'N': no action (carries flags only); no book effect, no event
        ++no_action_;
        return false;
    }
  }

  void sync_one(const char* name, std::uint64_t value, std::uint64_t& flushed) {
    if (value != flushed) {
      tolerated_.add(name, value - flushed);
      flushed = value;
    }
  }

  void sync_counters() {
    sync_one("databento.records_not_selected", not_selected_total_, flushed_[0]);
    for (auto& ns : not_selected_) {
      if (ns.count != ns.flushed) {
        tolerated_.add(ns.counter, ns.count - ns.flushed);
        ns.flushed = ns.count;
      }
    }
    sync_one("databento.snapshot_records", snapshot_, flushed_[1]);
    sync_one("databento.bad_ts_recv", bad_ts_, flushed_[2]);
    sync_one("databento.ts_recv_backwards_bad_ts", ts_backwards_bad_ts_, flushed_[3]);
    sync_one("databento.tob_flag", tob_, flushed_[4]);
    sync_one("databento.mbp_flag", mbp_, flushed_[5]);
    sync_one("databento.maybe_bad_book", maybe_bad_book_, flushed_[6]);
    sync_one("databento.non_mbo_records", non_mbo_, flushed_[7]);
    sync_one("databento.no_action_records", no_action_, flushed_[8]);
    sync_one("databento.fill_side_from_order", fill_side_from_order_, flushed_[9]);
    sync_one("databento.fill_unknown_order", fill_unknown_order_, flushed_[10]);
    sync_one("databento.fill_exceeds_visible_size", fill_exceeds_visible_, flushed_[11]);
  }

  struct NotSelected {
    std::uint16_t publisher_id = 0;
    std::uint32_t instrument_id = 0;
    std::string counter;
    std::uint64_t count = 0, flushed = 0;
  };

  std::vector<FileInfo> files_;
  std::vector<MboStreamInfo> streams_;
  InstrumentSpec spec_;
  std::uint16_t publisher_id_ = 0;
  std::uint32_t instrument_id_ = 0;

  std::size_t file_ = 0;
  std::unique_ptr<MboRecordReader> reader_;
  std::uint64_t non_mbo_seen_ = 0;
  std::uint64_t record_ = 0;
  std::uint64_t last_ts_recv_ = 0;
  std::unordered_map<std::uint64_t, LiveOrder> live_;

  std::vector<NotSelected> not_selected_;
  std::size_t ns_hit_ = SIZE_MAX;
  std::uint64_t not_selected_total_ = 0, snapshot_ = 0, bad_ts_ = 0, ts_backwards_bad_ts_ = 0, tob_ = 0,
                mbp_ = 0, maybe_bad_book_ = 0, non_mbo_ = 0, no_action_ = 0,
                fill_side_from_order_ = 0, fill_unknown_order_ = 0, fill_exceeds_visible_ = 0;
  std::uint64_t flushed_[12] = {};
  Counters tolerated_;
};

}  // namespace

std::string publisher_label(std::uint16_t publisher_id) {
  if (publisher_id == 0 || publisher_id >= kPublisherCount) return "publisher-" + std::to_string(publisher_id);
  const std::string_view name = kPublisherNames[publisher_id];
  const std::size_t last_dot = name.rfind('.');
  const std::string_view venue = name.substr(last_dot + 1);
  const std::string_view dataset_head = name.substr(0, name.find('.'));
  if (venue == dataset_head) return std::string(name.substr(0, last_dot));
  return std::string(name);
}

std::unique_ptr<MboRecordReader> MboRecordReader::open(const std::string& path) {
  if (has_zstd_or_dbn_magic(path)) return std::make_unique<DbnMboReader>(path);
  return std::make_unique<CsvMboReader>(path, LineReader::open(path));
}

std::vector<MboStreamInfo> scan_mbo(const std::vector<std::string>& paths) { return scan(paths).streams; }

}  // namespace databento

std::unique_ptr<EventSource> open_databento(const std::vector<std::string>& paths,
                                            const SourceOptions& options) {
  return std::make_unique<databento::DatabentoSource>(paths, options);
}

}  // namespace mmkit::data
