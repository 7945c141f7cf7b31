#include "mmkit/data/event_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "mmkit/core/error.h"

static_assert(std::endian::native == std::endian::little,
              "the event file format is little-endian and written verbatim");

namespace mmkit::data {

namespace {

constexpr std::uint64_t kEventSize = sizeof(Event);
constexpr std::uint64_t kMaxBlockEvents = std::uint64_t{1} << 24;
constexpr std::size_t kPlainBatchEvents = 16384;  // 1 MiB per read / write
constexpr std::size_t kMaxLocateSegments = kEventFileMaxLocateSegments;
constexpr std::size_t kMaxLocateStrings = kEventFileMaxLocateText;

constexpr std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }

std::string errno_text() { return std::strerror(errno); }

[[noreturn]] void fail(const std::string& path, std::uint64_t offset, std::string_view what) {
  throw_at_offset(path, offset, {}, what);
}

std::string hex_bytes(const unsigned char* p, std::size_t n) {
  std::string s;
  char buf[4];
  for (std::size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, i == 0 ? "%02X" : " %02X", p[i]);
    s += buf;
  }
  return s;
}

std::string_view bounded_string(const char* p, std::size_t n) {
  return std::string_view(p, strnlen(p, n));
}

// --- Column layout of compressed blocks ---------------------------------------------------

constexpr std::size_t kWords = sizeof(Event) / 8;  // 64-bit words per event

// Word c (bytes [8c, 8c+8)) of event i goes to cols[c * n + i]: each field becomes a column of
// similar values, which zstd compresses 1.4-1.9x better than the events themselves.
void to_columns(const Event* events, std::size_t n, std::uint64_t* cols) {
  const auto* src = reinterpret_cast<const unsigned char*>(events);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t c = 0; c < kWords; ++c) std::memcpy(&cols[c * n + i], src + i * sizeof(Event) + c * 8, 8);
  }
}

void from_columns(const std::uint64_t* cols, std::size_t n, Event* events) {
  auto* dst = reinterpret_cast<unsigned char*>(events);
  std::size_t i = 0;
#if defined(__SSE2__)
  // Two events at a time: 2x2 transposes of 64-bit words (SSE2, the x86-64 baseline).
  for (; i + 2 <= n; i += 2) {
    unsigned char* e0 = dst + i * sizeof(Event);
    for (std::size_t c = 0; c < kWords; c += 2) {
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(cols + c * n + i));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(cols + (c + 1) * n + i));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(e0 + c * 8), _mm_unpacklo_epi64(a, b));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(e0 + sizeof(Event) + c * 8), _mm_unpackhi_epi64(a, b));
    }
  }
#endif
  for (; i < n; ++i) {
    std::uint64_t w[kWords];
    for (std::size_t c = 0; c < kWords; ++c) w[c] = cols[c * n + i];
    std::memcpy(dst + i * sizeof(Event), w, sizeof w);
  }
}

// --- Locate table builder -------------------------------------------------------------------

struct ParsedLocation {
  std::string_view prefix;
  std::string_view suffix;
  std::uint64_t value = 0;
  bool has_number = false;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Splits `text` around its last run of digits when that run is a canonical decimal (no leading
// zero, at most 19 digits), so that decimal(value) reproduces it exactly.
ParsedLocation parse_location(std::string_view text) {
  ParsedLocation p;
  std::size_t end = text.size();
  while (end > 0 && !is_digit(text[end - 1])) --end;
  std::size_t begin = end;
  while (begin > 0 && is_digit(text[begin - 1])) --begin;
  const std::size_t n = end - begin;
  if (n == 0 || n > 19 || (n > 1 && text[begin] == '0')) {
    p.prefix = text;
    return p;
  }
  for (std::size_t i = begin; i < end; ++i) p.value = p.value * 10 + static_cast<unsigned>(text[i] - '0');
  p.prefix = text.substr(0, begin);
  p.suffix = text.substr(end);
  p.has_number = true;
  return p;
}

class LocateBuilder {
 public:
  // Takes the source's locate() text of records [next, upto).
  void consume(const EventSource& src, std::uint64_t upto) {
    while (next_ < upto) {
      const std::uint64_t r = next_++;
      if (gave_up_) {
        next_ = upto;
        return;
      }
      const std::string text = src.locate(r);
      const ParsedLocation p = parse_location(text);
      if (open_ && extends(p, r)) continue;
      if (open_) done_.push_back(cur_);
      open_ = true;
      cur_ = EventFileLocateSegment{};
      cur_.first_record = r;
      stride_known_ = false;
      if (done_.size() + 1 >= kMaxLocateSegments ||
          strings_.size() + text.size() > kMaxLocateStrings) {
        cur_.flags = kLocateUnknown;
        gave_up_ = true;
        continue;
      }
      cur_.prefix_offset = intern(p.prefix);
      cur_.prefix_len = static_cast<std::uint32_t>(p.prefix.size());
      cur_.suffix_offset = intern(p.suffix);
      cur_.suffix_len = static_cast<std::uint32_t>(p.suffix.size());
      if (p.has_number) {
        cur_.flags = kLocateHasNumber;
        cur_.first_value = p.value;
      }
    }
  }

  // The serialized table (EventFileLocateTable, segments, strings).
  [[nodiscard]] std::vector<char> finish() {
    if (open_) done_.push_back(cur_);
    open_ = false;
    EventFileLocateTable t{};
    t.segment_count = done_.size();
    t.strings_size = strings_.size();
    std::vector<char> out(sizeof t + done_.size() * sizeof(EventFileLocateSegment) + strings_.size());
    char* p = out.data();
    std::memcpy(p, &t, sizeof t);
    p += sizeof t;
    if (!done_.empty()) std::memcpy(p, done_.data(), done_.size() * sizeof(EventFileLocateSegment));
    p += done_.size() * sizeof(EventFileLocateSegment);
    if (!strings_.empty()) std::memcpy(p, strings_.data(), strings_.size());
    return out;
  }

  [[nodiscard]] std::uint64_t segments() const { return done_.size() + (open_ ? 1 : 0); }

 private:
  std::string_view str(std::uint32_t off, std::uint32_t len) const {
    return std::string_view(strings_).substr(off, len);
  }

  bool extends(const ParsedLocation& p, std::uint64_t r) {
    if ((cur_.flags & kLocateUnknown) != 0) return true;
    if (p.has_number != ((cur_.flags & kLocateHasNumber) != 0)) return false;
    if (p.prefix != str(cur_.prefix_offset, cur_.prefix_len) ||
        p.suffix != str(cur_.suffix_offset, cur_.suffix_len)) {
      return false;
    }
    if (!p.has_number) return true;
    if (p.value < cur_.first_value) return false;
    const std::uint64_t diff = p.value - cur_.first_value;
    const std::uint64_t k = r - cur_.first_record;
    if (!stride_known_) {  // k == 1: the second record fixes the stride
      cur_.stride = diff;
      stride_known_ = true;
      return true;
    }
    if (cur_.stride == 0) return diff == 0;
    return diff % cur_.stride == 0 && diff / cur_.stride == k;
  }

  std::uint32_t intern(std::string_view s) {
    if (s.empty()) return 0;
    auto it = ids_.find(std::string(s));
    if (it != ids_.end()) return it->second;
    const auto off = static_cast<std::uint32_t>(strings_.size());
    strings_.append(s);
    ids_.emplace(std::string(s), off);
    return off;
  }

  std::vector<EventFileLocateSegment> done_;
  EventFileLocateSegment cur_{};
  bool open_ = false;
  bool stride_known_ = false;
  bool gave_up_ = false;
  std::uint64_t next_ = 0;
  std::string strings_;
  std::unordered_map<std::string, std::uint32_t> ids_;
};

// --- Output file ----------------------------------------------------------------------------

// A temporary file beside the destination, renamed over it by commit(); removed otherwise.
class OutputFile {
 public:
  explicit OutputFile(std::string final_path) : final_(std::move(final_path)) {
    static std::atomic<unsigned> counter{0};
    for (int attempt = 0;; ++attempt) {
      tmp_ = final_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
      fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ >= 0) return;
      if (errno != EEXIST || attempt >= 100) {
        throw Error(SourceLocation{final_}, "cannot create '" + tmp_ + "': " + errno_text());
      }
    }
  }
  ~OutputFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());
  }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write_at(std::uint64_t offset, const void* data, std::size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      const ssize_t w = ::pwrite(fd_, p, n, static_cast<off_t>(offset));
      if (w < 0) {
        if (errno == EINTR) continue;
        fail(final_, offset, "write failed: " + errno_text());
      }
      p += w;
      n -= static_cast<std::size_t>(w);
      offset += static_cast<std::uint64_t>(w);
    }
  }
  void append(const void* data, std::size_t n) {
    write_at(pos_, data, n);
    pos_ += n;
  }
  void pad_to(std::uint64_t alignment) {
    static constexpr char kZeros[kEventFileSectionAlign] = {};
    const std::uint64_t target = align_up(pos_, alignment);
    while (pos_ < target) append(kZeros, static_cast<std::size_t>(std::min<std::uint64_t>(target - pos_, sizeof kZeros)));
  }
  void seek(std::uint64_t pos) { pos_ = pos; }
  [[nodiscard]] std::uint64_t pos() const { return pos_; }

  void commit() {
    if (::fsync(fd_) != 0) fail(final_, pos_, "fsync failed: " + errno_text());
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail(final_, pos_, "close failed: " + errno_text());
    if (::rename(tmp_.c_str(), final_.c_str()) != 0) {
      throw Error(SourceLocation{final_}, "cannot rename '" + tmp_ + "' to it: " + errno_text());
    }
    committed_ = true;
  }

 private:
  std::string final_;
  std::string tmp_;
  int fd_ = -1;
  std::uint64_t pos_ = 0;
  bool committed_ = false;
};

// Uninitialized 64-byte aligned storage for `n` T (implicit-lifetime types: the allocation
// creates the objects, the decompressor fills their bytes), so that a reader does not clear
// megabytes it is about to overwrite.
struct AlignedDelete {
  void operator()(void* p) const noexcept { ::operator delete[](p, std::align_val_t{64}); }
};
template <class T>
std::unique_ptr<T[], AlignedDelete> alloc_uninit(std::size_t n) {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);
  return std::unique_ptr<T[], AlignedDelete>(static_cast<T*>(::operator new[](n * sizeof(T), std::align_val_t{64})));
}

struct ZstdCCtxDeleter {
  void operator()(ZSTD_CCtx* c) const noexcept { ZSTD_freeCCtx(c); }
};
struct ZstdDCtxDeleter {
  void operator()(ZSTD_DCtx* d) const noexcept { ZSTD_freeDCtx(d); }
};

// Running facts about the written events.
struct EventStats {
  std::uint64_t count = 0;
  std::uint64_t records_needed = 0;  // 1 + largest Event::record
  TimestampNs ts_min = kNoTimestamp;
  TimestampNs ts_max = kNoTimestamp;

  void add(const Event* e, std::size_t n) {
    if (n == 0) return;
    TimestampNs lo = count == 0 ? e[0].exch_ts_ns : ts_min;
    TimestampNs hi = count == 0 ? e[0].exch_ts_ns : ts_max;
    std::uint64_t rec = records_needed;
    for (std::size_t i = 0; i < n; ++i) {
      lo = std::min(lo, e[i].exch_ts_ns);
      hi = std::max(hi, e[i].exch_ts_ns);
      rec = std::max(rec, e[i].record + 1);
    }
    ts_min = lo;
    ts_max = hi;
    records_needed = rec;
    count += n;
  }
};

// --- Mapped file and its validated layout ---------------------------------------------------

class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(SourceLocation{path}, "cannot open: " + errno_text());
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const std::string why = errno_text();
      ::close(fd);
      throw Error(SourceLocation{path}, "cannot stat: " + why);
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
      if (p == MAP_FAILED) {
        const std::string why = errno_text();
        ::close(fd);
        throw Error(SourceLocation{path}, "cannot map: " + why);
      }
      data_ = static_cast<const unsigned char*>(p);
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<unsigned char*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  [[nodiscard]] const unsigned char* data() const { return data_; }
  [[nodiscard]] std::size_t size() const { return size_; }

 private:
  const unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
};

struct Layout {
  EventFileHeader header{};
  std::vector<EventFileBlock> blocks;
  std::vector<EventFileLocateSegment> segments;
  const char* strings = nullptr;
  std::uint64_t strings_size = 0;
};

void check_magic(const std::string& path, const unsigned char* d, std::size_t size) {
  const std::size_t n = std::min<std::size_t>(size, sizeof kEventFileMagic);
  if (std::memcmp(d, kEventFileMagic, n) == 0) {
    if (n < sizeof kEventFileMagic) {
      fail(path, size, "truncated: " + std::to_string(size) + " bytes, an event file starts with a " +
                           std::to_string(kEventFileHeaderSize) + "-byte header");
    }
    return;
  }
  std::string what = "bad magic: expected " +
                     hex_bytes(reinterpret_cast<const unsigned char*>(kEventFileMagic), 8) +
                     ", found " + hex_bytes(d, n);
  if (n >= 4 && std::memcmp(d, kEventFileMagic, 4) == 0) {
    static constexpr unsigned char kCrlfToLf[] = {'\n', 0x1a, '\n'};
    static constexpr unsigned char kLfToCrlf[] = {'\r', '\r', '\n'};
    if (n >= 7 && std::memcmp(d + 4, kCrlfToLf, 3) == 0) {
      what += " (the file went through a text-mode transfer that turned CR LF into LF)";
    } else if (n >= 7 && std::memcmp(d + 4, kLfToCrlf, 3) == 0) {
      what += " (the file went through a text-mode transfer that turned LF into CR LF)";
    } else {
      what += " (damaged mmkit event file)";
    }
  } else {
    what += " (not an mmkit event file)";
  }
  fail(path, 0, what);
}

// All checks done on open: header, block index and locate table (not the payload).
Layout parse_layout(const std::string& path, const unsigned char* d, std::size_t size) {
  if (size == 0) fail(path, 0, "empty file: not an mmkit event file");
  check_magic(path, d, size);
  std::uint32_t version = 0;
  if (size >= 12) std::memcpy(&version, d + offsetof(EventFileHeader, version), sizeof version);
  if (size >= 12 && version != kEventFileVersion) {
    fail(path, offsetof(EventFileHeader, version),
         "unsupported event file version " + std::to_string(version) + " (this build reads version " +
             std::to_string(kEventFileVersion) + "); convert the source again");
  }
  if (size < kEventFileHeaderSize) {
    fail(path, size, "truncated: " + std::to_string(size) + " bytes, the header alone is " +
                         std::to_string(kEventFileHeaderSize));
  }
  Layout L;
  EventFileHeader& h = L.header;
  std::memcpy(&h, d, sizeof h);
  if (h.header_size != kEventFileHeaderSize) {
    fail(path, offsetof(EventFileHeader, header_size),
         "header size " + std::to_string(h.header_size) + ", expected " +
             std::to_string(kEventFileHeaderSize));
  }
  if (h.event_size != kEventSize) {
    fail(path, offsetof(EventFileHeader, event_size),
         "event size " + std::to_string(h.event_size) + " does not match this build's Event (" +
             std::to_string(kEventSize) + " bytes)");
  }
  if (event_file_header_checksum(h) != h.header_checksum) {
    fail(path, offsetof(EventFileHeader, header_checksum), "header checksum mismatch (header damaged)");
  }
  if (h.file_size != size) {
    if (size < h.file_size) {
      fail(path, size, "truncated: file is " + std::to_string(size) + " bytes, header says " +
                           std::to_string(h.file_size));
    }
    fail(path, h.file_size, "file is " + std::to_string(size) + " bytes, header says " +
                                std::to_string(h.file_size) + " (trailing data)");
  }
  if (h.compression > static_cast<std::uint32_t>(EventFileCompression::kZstd)) {
    fail(path, offsetof(EventFileHeader, compression),
         "unknown compression " + std::to_string(h.compression));
  }
  if (h.book_level != static_cast<std::uint32_t>(BookLevel::kL2) &&
      h.book_level != static_cast<std::uint32_t>(BookLevel::kL3)) {
    fail(path, offsetof(EventFileHeader, book_level), "book level " + std::to_string(h.book_level) +
                                                          " is neither 2 nor 3");
  }
  if (h.counter_count > kEventFileMaxCounters) {
    fail(path, offsetof(EventFileHeader, counter_count),
         std::to_string(h.counter_count) + " counters, at most " + std::to_string(kEventFileMaxCounters));
  }
  for (std::uint32_t i = 0; i < h.counter_count; ++i) {
    if (strnlen(h.counters[i].name, kEventFileCounterNameSize) == kEventFileCounterNameSize) {
      fail(path, offsetof(EventFileHeader, counters) + i * sizeof(EventFileCounter),
           "counter " + std::to_string(i) + ": name not NUL-terminated");
    }
  }
  if (strnlen(h.source_format, kEventFileFormatNameSize) == kEventFileFormatNameSize) {
    fail(path, offsetof(EventFileHeader, source_format), "source format name not NUL-terminated");
  }

  // Sections: payload, index, locate table, in order, inside the file.
  const bool zstd = h.compression == static_cast<std::uint32_t>(EventFileCompression::kZstd);
  if (h.payload_offset < kEventFileHeaderSize || h.payload_offset % kEventFileSectionAlign != 0 ||
      h.payload_offset > size) {
    fail(path, offsetof(EventFileHeader, payload_offset),
         "payload offset " + std::to_string(h.payload_offset) + " out of range");
  }
  if (h.payload_size > size - h.payload_offset) {
    fail(path, offsetof(EventFileHeader, payload_size),
         "payload of " + std::to_string(h.payload_size) + " bytes at " + std::to_string(h.payload_offset) +
             " runs past the end of the file (" + std::to_string(size) + " bytes)");
  }
  const std::uint64_t payload_end = h.payload_offset + h.payload_size;
  if (!zstd) {
    if (h.event_count > h.payload_size / kEventSize || h.event_count * kEventSize != h.payload_size) {
      fail(path, offsetof(EventFileHeader, payload_size),
           "payload of " + std::to_string(h.payload_size) + " bytes does not hold " +
               std::to_string(h.event_count) + " events of " + std::to_string(kEventSize) + " bytes");
    }
    if (h.block_count != 0 || h.block_events != 0) {
      fail(path, offsetof(EventFileHeader, block_events), "uncompressed file with blocks");
    }
  } else {
    if (h.block_events == 0 || h.block_events > kMaxBlockEvents) {
      fail(path, offsetof(EventFileHeader, block_events),
           "block size " + std::to_string(h.block_events) + " events out of range 1.." +
               std::to_string(kMaxBlockEvents));
    }
    const std::uint64_t want_blocks = h.event_count / h.block_events + (h.event_count % h.block_events != 0);
    if (h.block_count != want_blocks) {
      fail(path, offsetof(EventFileHeader, block_count),
           std::to_string(h.block_count) + " blocks, " + std::to_string(h.event_count) + " events in blocks of " +
               std::to_string(h.block_events) + " need " + std::to_string(want_blocks));
    }
  }
  if (h.index_offset < payload_end || h.index_offset % kEventFileSectionAlign != 0 ||
      h.index_offset > size || h.block_count > (size - h.index_offset) / sizeof(EventFileBlock)) {
    fail(path, offsetof(EventFileHeader, index_offset),
         "block index (" + std::to_string(h.block_count) + " entries at " + std::to_string(h.index_offset) +
             ") out of range");
  }
  const std::uint64_t index_end = h.index_offset + h.block_count * sizeof(EventFileBlock);
  if (h.locate_offset < index_end || h.locate_offset % kEventFileSectionAlign != 0 ||
      h.locate_offset > size || h.locate_size != size - h.locate_offset ||
      h.locate_size < sizeof(EventFileLocateTable)) {
    fail(path, offsetof(EventFileHeader, locate_offset),
         "locate table (" + std::to_string(h.locate_size) + " bytes at " + std::to_string(h.locate_offset) +
             ") out of range");
  }

  // Block index.
  L.blocks.resize(h.block_count);
  if (h.block_count > 0) std::memcpy(L.blocks.data(), d + h.index_offset, h.block_count * sizeof(EventFileBlock));
  std::uint64_t expect_offset = h.payload_offset;
  const std::size_t bound = zstd ? ZSTD_compressBound(h.block_events * kEventSize) : 0;
  for (std::uint64_t i = 0; i < h.block_count; ++i) {
    const EventFileBlock& b = L.blocks[i];
    const std::uint64_t at = h.index_offset + i * sizeof(EventFileBlock);
    const std::uint64_t want_events =
        i + 1 < h.block_count ? h.block_events : h.event_count - i * h.block_events;
    if (b.offset != expect_offset || b.compressed_size == 0 || b.compressed_size > bound ||
        b.compressed_size > payload_end - b.offset) {
      fail(path, at, "block " + std::to_string(i) + ": " + std::to_string(b.compressed_size) +
                         " bytes at offset " + std::to_string(b.offset) + " out of range (expected offset " +
                         std::to_string(expect_offset) + ", payload ends at " + std::to_string(payload_end) + ")");
    }
    if (b.event_count != want_events) {
      fail(path, at, "block " + std::to_string(i) + ": " + std::to_string(b.event_count) +
                         " events, expected " + std::to_string(want_events));
    }
    if (b.event_count > 0 && b.first_record >= h.record_count) {
      fail(path, at, "block " + std::to_string(i) + ": first record " + std::to_string(b.first_record) +
                         " not below the record count " + std::to_string(h.record_count));
    }
    expect_offset = b.offset + b.compressed_size;
  }
  if (zstd && expect_offset != payload_end) {
    fail(path, h.index_offset, "blocks cover " + std::to_string(expect_offset - h.payload_offset) +
                                   " bytes, the payload is " + std::to_string(h.payload_size));
  }
  if (fnv1a64(d + h.index_offset, h.block_count * sizeof(EventFileBlock)) != h.index_checksum) {
    fail(path, h.index_offset, "block index checksum mismatch");
  }

  // Locate table.
  EventFileLocateTable t{};
  std::memcpy(&t, d + h.locate_offset, sizeof t);
  const std::uint64_t seg_room = (h.locate_size - sizeof t) / sizeof(EventFileLocateSegment);
  if (t.segment_count > seg_room ||
      t.strings_size != h.locate_size - sizeof t - t.segment_count * sizeof(EventFileLocateSegment)) {
    fail(path, h.locate_offset, "locate table of " + std::to_string(h.locate_size) + " bytes does not hold " +
                                    std::to_string(t.segment_count) + " segments and " +
                                    std::to_string(t.strings_size) + " bytes of text");
  }
  if ((h.record_count == 0) != (t.segment_count == 0)) {
    fail(path, h.locate_offset, std::to_string(t.segment_count) + " locate segments for " +
                                    std::to_string(h.record_count) + " records");
  }
  L.segments.resize(t.segment_count);
  const std::uint64_t seg_at = h.locate_offset + sizeof t;
  if (t.segment_count > 0) {
    std::memcpy(L.segments.data(), d + seg_at, t.segment_count * sizeof(EventFileLocateSegment));
  }
  L.strings = reinterpret_cast<const char*>(d + seg_at + t.segment_count * sizeof(EventFileLocateSegment));
  L.strings_size = t.strings_size;
  for (std::uint64_t i = 0; i < t.segment_count; ++i) {
    const EventFileLocateSegment& s = L.segments[i];
    const bool ordered = i == 0 ? s.first_record == 0 : s.first_record > L.segments[i - 1].first_record;
    if (!ordered || s.first_record >= h.record_count ||
        (s.flags & ~(kLocateHasNumber | kLocateUnknown)) != 0 ||
        std::uint64_t{s.prefix_offset} + s.prefix_len > t.strings_size ||
        std::uint64_t{s.suffix_offset} + s.suffix_len > t.strings_size) {
      fail(path, seg_at + i * sizeof(EventFileLocateSegment),
           "locate segment " + std::to_string(i) + " out of range");
    }
  }
  if (fnv1a64(d + h.locate_offset, h.locate_size) != h.locate_checksum) {
    fail(path, h.locate_offset, "locate table checksum mismatch");
  }
  return L;
}

EventFileInfo make_info(const std::string& path, const Layout& L) {
  const EventFileHeader& h = L.header;
  EventFileInfo info;
  info.path = path;
  info.version = h.version;
  info.compression = static_cast<EventFileCompression>(h.compression);
  info.zstd_level = h.zstd_level;
  info.event_count = h.event_count;
  info.record_count = h.record_count;
  info.block_events = h.block_events;
  info.block_count = h.block_count;
  info.payload_size = h.payload_size;
  info.file_size = h.file_size;
  info.locate_segments = L.segments.size();
  info.exch_ts_min = h.exch_ts_min;
  info.exch_ts_max = h.exch_ts_max;
  info.source_format = std::string(bounded_string(h.source_format, sizeof h.source_format));
  return info;
}

}  // namespace

// --- Checksums ------------------------------------------------------------------------------

std::uint64_t fnv1a64(const void* data, std::size_t size, std::uint64_t hash) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= p[i];
    hash *= kFnv1a64Prime;
  }
  return hash;
}

std::uint64_t event_file_header_checksum(const EventFileHeader& h) noexcept {
  EventFileHeader copy;
  std::memcpy(&copy, &h, sizeof copy);
  copy.header_checksum = 0;
  return fnv1a64(&copy, sizeof copy);
}

// --- Writer ---------------------------------------------------------------------------------

EventFileSummary write_event_file(EventSource& src, const std::string& out_path,
                                  const EventFileOptions& options) {
  if (options.compress) {
    if (options.block_events == 0 || options.block_events > kMaxBlockEvents) {
      throw Error(SourceLocation{out_path}, "block size " + std::to_string(options.block_events) +
                                                " events out of range 1.." + std::to_string(kMaxBlockEvents));
    }
    if (options.zstd_level < ZSTD_minCLevel() || options.zstd_level > ZSTD_maxCLevel()) {
      throw Error(SourceLocation{out_path}, "zstd level " + std::to_string(options.zstd_level) +
                                                " out of range " + std::to_string(ZSTD_minCLevel()) + ".." +
                                                std::to_string(ZSTD_maxCLevel()));
    }
  }

  OutputFile out(out_path);
  out.seek(kEventFileHeaderSize);
  EventStats stats;
  LocateBuilder locate;
  std::uint64_t payload_hash = kFnv1a64Offset;
  std::vector<EventFileBlock> index;
  std::uint64_t consumed = 0;
  const auto take_records = [&] {
    const std::uint64_t r = src.records();
    if (r > consumed) {
      locate.consume(src, r);
      consumed = r;
    }
  };

  if (!options.compress) {
    std::vector<Event> batch(kPlainBatchEvents);
    std::size_t fill = 0;
    for (bool end = false; !end;) {
      const std::size_t n = src.read(batch.data() + fill, batch.size() - fill);
      take_records();
      if (n == 0) {
        end = true;
      } else {
        stats.add(batch.data() + fill, n);
        fill += n;
      }
      if (fill == batch.size() || (end && fill > 0)) {
        out.append(batch.data(), fill * kEventSize);
        payload_hash = fnv1a64(batch.data(), fill * kEventSize, payload_hash);
        fill = 0;
      }
    }
  } else {
    std::unique_ptr<ZSTD_CCtx, ZstdCCtxDeleter> cctx(ZSTD_createCCtx());
    if (!cctx) throw Error(SourceLocation{out_path}, "zstd: cannot create a compression context");
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, options.zstd_level);
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_contentSizeFlag, 1);
    std::vector<Event> block(options.block_events);
    std::vector<std::uint64_t> cols(options.block_events * kWords);
    std::vector<char> frame(ZSTD_compressBound(options.block_events * kEventSize));
    std::size_t fill = 0;
    for (bool end = false; !end;) {
      const std::size_t n = src.read(block.data() + fill, block.size() - fill);
      take_records();
      if (n == 0) {
        end = true;
      } else {
        stats.add(block.data() + fill, n);
        fill += n;
      }
      if (fill == block.size() || (end && fill > 0)) {
        to_columns(block.data(), fill, cols.data());
        const std::size_t z = ZSTD_compress2(cctx.get(), frame.data(), frame.size(), cols.data(), fill * kEventSize);
        if (ZSTD_isError(z)) {
          fail(out_path, out.pos(), std::string("zstd compression failed: ") + ZSTD_getErrorName(z));
        }
        index.push_back(EventFileBlock{out.pos(), z, fill, block[0].record});
        out.append(frame.data(), z);
        payload_hash = fnv1a64(frame.data(), z, payload_hash);
        fill = 0;
      }
    }
  }

  const std::uint64_t record_count = src.records();
  if (record_count > consumed) locate.consume(src, record_count);
  if (stats.records_needed > record_count) {
    throw Error(SourceLocation{out_path},
                "the source reports " + std::to_string(record_count) + " records but an event refers to record " +
                    std::to_string(stats.records_needed - 1));
  }

  EventFileHeader h{};
  std::memset(static_cast<void*>(&h), 0, sizeof h);
  std::memcpy(h.magic, kEventFileMagic, sizeof h.magic);
  h.version = kEventFileVersion;
  h.header_size = kEventFileHeaderSize;
  h.event_size = kEventSize;
  h.compression = static_cast<std::uint32_t>(options.compress ? EventFileCompression::kZstd
                                                              : EventFileCompression::kNone);
  h.event_count = stats.count;
  h.record_count = record_count;
  h.payload_offset = kEventFileHeaderSize;
  h.payload_size = out.pos() - kEventFileHeaderSize;
  h.payload_checksum = payload_hash;
  h.block_events = options.compress ? options.block_events : 0;
  h.block_count = index.size();
  h.exch_ts_min = stats.ts_min;
  h.exch_ts_max = stats.ts_max;
  h.book_level = static_cast<std::uint32_t>(src.book_level());
  h.zstd_level = options.compress ? options.zstd_level : 0;
  h.instrument = src.instrument();

  std::string format = src.format();
  if (format.rfind("mmk:", 0) == 0) format.erase(0, 4);
  if (format.size() >= kEventFileFormatNameSize || format.find('\0') != std::string::npos) {
    throw Error(SourceLocation{out_path}, "source format name '" + format + "' does not fit the header (at most " +
                                              std::to_string(kEventFileFormatNameSize - 1) + " bytes, no NUL)");
  }
  std::memcpy(h.source_format, format.data(), format.size());

  const auto& counters = src.tolerated().items();
  if (counters.size() > kEventFileMaxCounters) {
    throw Error(SourceLocation{out_path}, "the source has " + std::to_string(counters.size()) +
                                              " tolerated counters, an event file holds at most " +
                                              std::to_string(kEventFileMaxCounters));
  }
  for (std::size_t i = 0; i < counters.size(); ++i) {
    const auto& [name, value] = counters[i];
    if (name.size() >= kEventFileCounterNameSize || name.find('\0') != std::string::npos) {
      throw Error(SourceLocation{out_path}, "tolerated counter name '" + name + "' does not fit the header (at most " +
                                                std::to_string(kEventFileCounterNameSize - 1) + " bytes, no NUL)");
    }
    std::memcpy(h.counters[i].name, name.data(), name.size());
    h.counters[i].value = value;
  }
  h.counter_count = static_cast<std::uint32_t>(counters.size());

  out.pad_to(kEventFileSectionAlign);
  h.index_offset = out.pos();
  h.index_checksum = fnv1a64(index.data(), index.size() * sizeof(EventFileBlock));
  if (!index.empty()) out.append(index.data(), index.size() * sizeof(EventFileBlock));
  out.pad_to(kEventFileSectionAlign);
  h.locate_offset = out.pos();
  const std::uint64_t segments = locate.segments();
  const std::vector<char> table = locate.finish();
  h.locate_size = table.size();
  h.locate_checksum = fnv1a64(table.data(), table.size());
  out.append(table.data(), table.size());
  h.file_size = out.pos();
  h.header_checksum = event_file_header_checksum(h);
  out.write_at(0, &h, sizeof h);
  out.commit();

  EventFileSummary s;
  s.event_count = h.event_count;
  s.record_count = h.record_count;
  s.block_count = h.block_count;
  s.payload_size = h.payload_size;
  s.file_size = h.file_size;
  s.locate_segments = segments;
  s.source_format = format;
  return s;
}

// --- Reader ---------------------------------------------------------------------------------

struct EventFileReader::Impl {
  explicit Impl(const std::string& p) : path(p), map(p), layout(parse_layout(p, map.data(), map.size())) {
    const EventFileHeader& h = layout.header;
    info = make_info(path, layout);
    for (std::uint32_t i = 0; i < h.counter_count; ++i) {
      counters.add(bounded_string(h.counters[i].name, kEventFileCounterNameSize), h.counters[i].value);
    }
    zstd = h.compression == static_cast<std::uint32_t>(EventFileCompression::kZstd);
    if (!zstd) events = reinterpret_cast<const Event*>(map.data() + h.payload_offset);
  }

  // Decompresses block `i` into `dst` (room for its event_count events).
  void decompress(std::uint64_t i, Event* dst) {
    const EventFileBlock& b = layout.blocks[i];
    if (!dctx) {
      dctx.reset(ZSTD_createDCtx());
      if (!dctx) throw Error(SourceLocation{path}, "zstd: cannot create a decompression context");
    }
    if (!cols) cols = alloc_uninit<std::uint64_t>(layout.header.block_events * kWords);
    const std::size_t want = b.event_count * kEventSize;
    const std::size_t got = ZSTD_decompressDCtx(dctx.get(), cols.get(), want, map.data() + b.offset, b.compressed_size);
    if (ZSTD_isError(got)) {
      fail(path, b.offset, "block " + std::to_string(i) + " of " + std::to_string(layout.blocks.size()) +
                               ": zstd decompression failed: " + ZSTD_getErrorName(got));
    }
    if (got != want) {
      fail(path, b.offset, "block " + std::to_string(i) + " decompressed to " + std::to_string(got) +
                               " bytes, the index says " + std::to_string(want));
    }
    from_columns(cols.get(), b.event_count, dst);
  }

  // Makes the block buffer hold the next events; false at the end.
  bool fill_buffer() {
    if (buf_pos < buf_len) return true;
    if (next_block >= layout.blocks.size()) return false;
    if (!buf) buf = alloc_uninit<Event>(layout.header.block_events);
    decompress(next_block, buf.get());
    buf_len = layout.blocks[next_block].event_count;
    buf_pos = 0;
    ++next_block;
    return true;
  }

  void delivered(const Event* e, std::size_t n) {
    if (n == 0) return;
    pos += n;
    records = std::max(records, e[n - 1].record + 1);
    if (pos == layout.header.event_count) records = std::max(records, layout.header.record_count);
  }

  std::string path;
  MappedFile map;
  Layout layout;
  EventFileInfo info;
  Counters counters;
  bool zstd = false;
  const Event* events = nullptr;  // plain files: the mapped payload

  std::uint64_t pos = 0;      // events delivered
  std::uint64_t records = 0;  // records()
  std::unique_ptr<ZSTD_DCtx, ZstdDCtxDeleter> dctx;
  std::unique_ptr<std::uint64_t[], AlignedDelete> cols;  // a decompressed block, column layout
  std::unique_ptr<Event[], AlignedDelete> buf;           // a decompressed block, events
  std::size_t buf_pos = 0;
  std::size_t buf_len = 0;
  std::size_t next_block = 0;
};

EventFileReader::EventFileReader(const std::string& path) : impl_(std::make_unique<Impl>(path)) {
  if (impl_->layout.header.event_count == 0) impl_->records = impl_->layout.header.record_count;
}

EventFileReader::~EventFileReader() = default;

const InstrumentSpec& EventFileReader::instrument() const { return impl_->layout.header.instrument; }

BookLevel EventFileReader::book_level() const {
  return static_cast<BookLevel>(impl_->layout.header.book_level);
}

std::size_t EventFileReader::read(Event* out, std::size_t capacity) {
  Impl& m = *impl_;
  if (!m.zstd) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(capacity, m.layout.header.event_count - m.pos));
    if (n > 0) std::memcpy(out, m.events + m.pos, n * kEventSize);
    m.delivered(out, n);
    return n;
  }
  std::size_t n = 0;
  while (n < capacity) {
    if (m.buf_pos == m.buf_len && m.next_block < m.layout.blocks.size() &&
        capacity - n >= m.layout.blocks[m.next_block].event_count) {
      const std::size_t k = m.layout.blocks[m.next_block].event_count;
      m.decompress(m.next_block, out + n);
      ++m.next_block;
      n += k;
      continue;
    }
    if (!m.fill_buffer()) break;
    const std::size_t k = std::min(capacity - n, m.buf_len - m.buf_pos);
    std::memcpy(out + n, m.buf.get() + m.buf_pos, k * kEventSize);
    m.buf_pos += k;
    n += k;
  }
  m.delivered(out, n);
  return n;
}

std::span<const Event> EventFileReader::next_chunk(std::size_t max_events) {
  Impl& m = *impl_;
  if (!m.zstd) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(max_events, m.layout.header.event_count - m.pos));
    const Event* p = m.events + m.pos;
    m.delivered(p, n);
    return {p, n};
  }
  if (max_events == 0 || !m.fill_buffer()) return {};
  const std::size_t n = std::min(max_events, m.buf_len - m.buf_pos);
  const Event* p = m.buf.get() + m.buf_pos;
  m.buf_pos += n;
  m.delivered(p, n);
  return {p, n};
}

void EventFileReader::rewind() noexcept {
  Impl& m = *impl_;
  m.pos = 0;
  m.records = m.layout.header.event_count == 0 ? m.layout.header.record_count : 0;
  m.buf_pos = m.buf_len = 0;
  m.next_block = 0;
}

std::uint64_t EventFileReader::records() const { return impl_->records; }

std::string EventFileReader::locate(std::uint64_t record) const {
  const Layout& L = impl_->layout;
  if (record >= L.header.record_count || L.segments.empty()) {
    return impl_->path + ": record " + std::to_string(record);
  }
  const auto it = std::upper_bound(L.segments.begin(), L.segments.end(), record,
                                   [](std::uint64_t r, const EventFileLocateSegment& s) { return r < s.first_record; });
  const EventFileLocateSegment& s = *(it - 1);
  if ((s.flags & kLocateUnknown) != 0) return impl_->path + ": record " + std::to_string(record);
  std::string text(L.strings + s.prefix_offset, s.prefix_len);
  if ((s.flags & kLocateHasNumber) != 0) text += std::to_string(s.first_value + s.stride * (record - s.first_record));
  text.append(L.strings + s.suffix_offset, s.suffix_len);
  return text;
}

const Counters& EventFileReader::tolerated() const { return impl_->counters; }

std::string EventFileReader::format() const { return "mmk:" + impl_->info.source_format; }

const EventFileInfo& EventFileReader::info() const noexcept { return impl_->info; }

const std::string& EventFileReader::source_format() const noexcept { return impl_->info.source_format; }

bool EventFileReader::compressed() const noexcept { return impl_->zstd; }

std::span<const Event> EventFileReader::events() const {
  if (impl_->zstd) {
    throw Error(SourceLocation{impl_->path},
                "the events of a compressed event file are not addressable in place; read them with "
                "read() / next_chunk(), or convert without compression");
  }
  return {impl_->events, static_cast<std::size_t>(impl_->layout.header.event_count)};
}

// --- Free functions -------------------------------------------------------------------------

bool is_event_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char head[4];
  std::size_t got = 0;
  while (got < sizeof head) {
    const ssize_t r = ::read(fd, head + got, sizeof head - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  ::close(fd);
  return got == sizeof head && std::memcmp(head, kEventFileMagic, sizeof head) == 0;
}

std::unique_ptr<EventSource> open_event_file(const std::string& path) {
  return std::make_unique<EventFileReader>(path);
}

namespace {

// Semantic checks of decoded events; `where(i)` gives the byte offset to report for event i.
template <class Where>
std::string check_events(const std::string& path, const EventFileHeader& h, const Event* e, std::size_t n,
                         std::uint64_t first_index, TimestampNs& lo, TimestampNs& hi, Where where) {
  for (std::size_t i = 0; i < n; ++i) {
    const Event& ev = e[i];
    std::string what;
    if (ev.record >= h.record_count) {
      what = "record " + std::to_string(ev.record) + " not below the record count " + std::to_string(h.record_count);
    } else if (static_cast<int>(ev.kind) >= kEventKindCount) {
      what = "unknown kind " + std::to_string(static_cast<int>(ev.kind));
    } else if (static_cast<int>(ev.side) > static_cast<int>(Side::kAsk)) {
      what = "unknown side " + std::to_string(static_cast<int>(ev.side));
    }
    if (!what.empty()) {
      SourceLocation loc;
      loc.file = path;
      loc.byte_offset = where(i);
      loc.has_byte_offset = true;
      return loc.to_string() + ": event " + std::to_string(first_index + i) + ": " + what;
    }
    lo = (first_index + i == 0) ? ev.exch_ts_ns : std::min(lo, ev.exch_ts_ns);
    hi = (first_index + i == 0) ? ev.exch_ts_ns : std::max(hi, ev.exch_ts_ns);
  }
  return {};
}

std::string at(const std::string& path, std::uint64_t offset, const std::string& what) {
  SourceLocation loc;
  loc.file = path;
  loc.byte_offset = offset;
  loc.has_byte_offset = true;
  return loc.to_string() + ": " + what;
}

bool all_zero(const unsigned char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

}  // namespace

std::string verify_event_file(const std::string& path) {
  try {
    EventFileReader reader(path);
    const EventFileReader::Impl& m = *reader.impl_;
    const EventFileHeader& h = m.layout.header;
    const unsigned char* d = m.map.data();
    if (fnv1a64(d + h.payload_offset, h.payload_size) != h.payload_checksum) {
      return at(path, h.payload_offset, "payload checksum mismatch (payload damaged)");
    }
    const std::uint64_t payload_end = h.payload_offset + h.payload_size;
    const std::uint64_t index_end = h.index_offset + h.block_count * sizeof(EventFileBlock);
    if (!all_zero(d + payload_end, h.index_offset - payload_end)) {
      return at(path, payload_end, "non-zero padding after the payload");
    }
    if (!all_zero(d + index_end, h.locate_offset - index_end)) {
      return at(path, index_end, "non-zero padding after the block index");
    }
    TimestampNs lo = kNoTimestamp, hi = kNoTimestamp;
    if (!m.zstd) {
      const std::string bad = check_events(path, h, m.events, h.event_count, 0, lo, hi, [&](std::size_t i) {
        return h.payload_offset + i * kEventSize;
      });
      if (!bad.empty()) return bad;
    } else {
      auto buf = alloc_uninit<Event>(h.block_events);
      EventFileReader::Impl& mm = *reader.impl_;
      for (std::uint64_t b = 0; b < m.layout.blocks.size(); ++b) {
        const EventFileBlock& blk = m.layout.blocks[b];
        mm.decompress(b, buf.get());
        if (buf[0].record != blk.first_record) {
          return at(path, h.index_offset + b * sizeof(EventFileBlock),
                    "block " + std::to_string(b) + ": first record " + std::to_string(blk.first_record) +
                        ", its first event has record " + std::to_string(buf[0].record));
        }
        const std::string bad = check_events(path, h, buf.get(), blk.event_count, b * h.block_events, lo, hi,
                                             [&](std::size_t) { return blk.offset; });
        if (!bad.empty()) return bad;
      }
    }
    if (lo != h.exch_ts_min || hi != h.exch_ts_max) {
      return at(path, offsetof(EventFileHeader, exch_ts_min),
                "exchange time range " + std::to_string(h.exch_ts_min) + ".." + std::to_string(h.exch_ts_max) +
                    " in the header, " + std::to_string(lo) + ".." + std::to_string(hi) + " in the events");
    }
    return {};
  } catch (const Error& e) {
    return e.what();
  }
}

}  // namespace mmkit::data
