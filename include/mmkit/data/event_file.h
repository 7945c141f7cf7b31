// The mmkit event file (".mmk"): a normalized, memory-mappable copy of any EventSource.
//
// `mmkit convert` writes it with write_event_file(); every command reads it through
// open_event_file() / open_source(). The full specification, with the NumPy dtype and measured
// figures, is docs/event_file.md; this comment and the structs below are the normative layout.
//
// Layout (all integers little-endian, all offsets in bytes from the start of the file; sections
// are in this order, each starting at a multiple of 64, gaps zero-filled):
//
//   [0, 4096)                          EventFileHeader (fixed size, below)
//   [payload_offset, +payload_size)    payload; payload_offset = 4096
//       compression 0 (none): event_count Event records of 64 bytes (mmkit/core/event.h),
//                             contiguous, so the mapped file exposes them zero-copy
//       compression 1 (zstd): block_count zstd frames, back to back, one per block of
//                             block_events events (the last block: the remainder), each frame with
//                             its content size and zstd's content checksum (XXH64, low 32 bits).
//                             A frame decompresses to the block in column layout: for a block of n
//                             events, 64-bit word c (Event bytes [8c, 8c+8)) of event i is at byte
//                             8 * (c * n + i), c = 0..7 (1.35-1.9x smaller than zstd of the events)
//   [index_offset, +32*block_count)    EventFileBlock per block (compression 1 only; else empty)
//   [locate_offset, +locate_size)      locate table: EventFileLocateTable, segment_count
//                                      EventFileLocateSegment, then strings_size bytes of text
//   file_size = locate_offset + locate_size
//
// Checksums are 64-bit FNV-1a (fnv1a64 below) over the bytes of the section they name.
// Opening a file checks the header (magic, version, sizes, header checksum), the block index and
// the locate table (structure and checksums), but not the payload: verify_event_file() does that.
//
// Location of records ("locate table"): the source's locate(record) text of every record is
// stored as segments of consecutive records whose text is `prefix + decimal(first_value +
// stride * (record - first_record)) + suffix` (flag kLocateHasNumber) or the constant
// `prefix + suffix`. The writer calls the source's locate() for every record and checks it
// against the open segment, so a converted file answers locate() exactly as the source did,
// e.g. "btcusdt_20240808.gz:55", with one segment per input file in the usual case.
//
// Thread-safety: an EventFileReader is not thread-safe (EventSource contract); several readers may
// map the same file. Big-endian hosts are not supported (the .cpp does not compile there).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <type_traits>

#include "mmkit/core/event.h"
#include "mmkit/core/instrument.h"
#include "mmkit/data/source.h"

namespace mmkit::data {

// --- On-disk format, version 1 ----------------------------------------------------------------

/// First 8 bytes of every event file: 0x89 'M' 'M' 'K' '\r' '\n' 0x1A '\n' (PNG-style: the high
/// byte catches 7-bit transfers, CR LF and LF catch text-mode newline translation either way,
/// 0x1A stops DOS `type`). is_event_file() tests the first four bytes only, so that a file damaged
/// by a text-mode transfer reaches the reader and is reported as such.
inline constexpr char kEventFileMagic[8] = {'\x89', 'M', 'M', 'K', '\r', '\n', '\x1a', '\n'};
inline constexpr std::uint32_t kEventFileVersion = 1;
inline constexpr std::uint32_t kEventFileHeaderSize = 4096;
inline constexpr std::size_t kEventFileMaxCounters = 48;
inline constexpr std::size_t kEventFileCounterNameSize = 56;  ///< incl. the terminating NUL
inline constexpr std::size_t kEventFileFormatNameSize = 32;   ///< incl. the terminating NUL
inline constexpr std::size_t kEventFileSectionAlign = 64;
/// Writer's caps on the locate table (memory and file size); from the record where either would
/// be exceeded on, the rest of the records get one kLocateUnknown segment.
inline constexpr std::size_t kEventFileMaxLocateSegments = std::size_t{1} << 18;
inline constexpr std::size_t kEventFileMaxLocateText = std::size_t{16} << 20;  ///< bytes

/// Header field `compression`: kNone = the events verbatim; kZstd = zstd frames of blocks in
/// column layout (see the top of this file).
enum class EventFileCompression : std::uint32_t { kNone = 0, kZstd = 1 };

/// One tolerated counter (EventSource::tolerated()): NUL-padded name, value.
struct EventFileCounter {
  char name[kEventFileCounterNameSize];
  std::uint64_t value;
};
static_assert(sizeof(EventFileCounter) == 64);

/// The 4096-byte header at offset 0. Every byte not named below is zero.
struct EventFileHeader {
  char magic[8];                   ///<   0 kEventFileMagic
  std::uint32_t version;           ///<   8 kEventFileVersion
  std::uint32_t header_size;       ///<  12 4096
  std::uint32_t event_size;        ///<  16 sizeof(Event) = 64
  std::uint32_t compression;       ///<  20 EventFileCompression
  std::uint64_t file_size;         ///<  24 total bytes of the file
  std::uint64_t event_count;       ///<  32 events in the payload
  std::uint64_t record_count;      ///<  40 EventSource::records() at the end of the source,
                                   ///<     including trailing records that made no event
  std::uint64_t payload_offset;    ///<  48 4096
  std::uint64_t payload_size;      ///<  56 bytes: 64 * event_count, or the sum of the frames
  std::uint64_t payload_checksum;  ///<  64 fnv1a64 of the payload bytes
  std::uint64_t block_events;      ///<  72 events per zstd block (0 when not compressed)
  std::uint64_t block_count;       ///<  80 ceil(event_count / block_events) (0 when not compressed)
  std::uint64_t index_offset;      ///<  88 offset of the block index (= locate_offset when empty)
  std::uint64_t index_checksum;    ///<  96 fnv1a64 of the 32 * block_count index bytes
  std::uint64_t locate_offset;     ///< 104 offset of the locate table
  std::uint64_t locate_size;       ///< 112 bytes of the locate table
  std::uint64_t locate_checksum;   ///< 120 fnv1a64 of the locate table
  std::int64_t exch_ts_min;        ///< 128 smallest Event::exch_ts_ns (kNoTimestamp if no event)
  std::int64_t exch_ts_max;        ///< 136 largest Event::exch_ts_ns (kNoTimestamp if no event)
  std::uint32_t book_level;        ///< 144 BookLevel: 2 or 3
  std::int32_t zstd_level;         ///< 148 level the blocks were compressed at (0 when none)
  std::uint32_t counter_count;     ///< 152 used entries of `counters`, in the source's order
  std::uint32_t reserved0;         ///< 156
  char source_format[kEventFileFormatNameSize];  ///< 160 EventSource::format() of the original
                                                 ///<     source (a leading "mmk:" removed), NUL-padded
  InstrumentSpec instrument;       ///< 192 EventSource::instrument(), verbatim (88 bytes)
  std::uint8_t reserved1[736];     ///< 280
  std::uint64_t header_checksum;   ///< 1016 fnv1a64 of these 4096 bytes with this field zero
  EventFileCounter counters[kEventFileMaxCounters];  ///< 1024 EventSource::tolerated()
};
static_assert(std::is_trivially_copyable_v<EventFileHeader>);
static_assert(sizeof(EventFileHeader) == kEventFileHeaderSize);
static_assert(offsetof(EventFileHeader, source_format) == 160);
static_assert(offsetof(EventFileHeader, instrument) == 192);
static_assert(offsetof(EventFileHeader, header_checksum) == 1016);
static_assert(offsetof(EventFileHeader, counters) == 1024);

/// One entry of the block index (compression 1).
struct EventFileBlock {
  std::uint64_t offset;           ///< file offset of the zstd frame; frames are contiguous
  std::uint64_t compressed_size;  ///< bytes of the frame
  std::uint64_t event_count;      ///< events in the block: block_events, the last one <=
  std::uint64_t first_record;     ///< Event::record of the block's first event
};
static_assert(sizeof(EventFileBlock) == 32);

/// Start of the locate table.
struct EventFileLocateTable {
  std::uint64_t segment_count;  ///< segments that follow, sorted by strictly increasing first_record
  std::uint64_t strings_size;   ///< bytes of text after the segments
};
static_assert(sizeof(EventFileLocateTable) == 16);

inline constexpr std::uint32_t kLocateHasNumber = 1u << 0;  ///< text has the computed number
inline constexpr std::uint32_t kLocateUnknown = 1u << 1;    ///< not stored (writer's size cap hit):
                                                            ///< locate() answers "<file>: record N"

/// Records [first_record, next segment's first_record or record_count). Offsets and lengths
/// index the text after the segments.
struct EventFileLocateSegment {
  std::uint64_t first_record;
  std::uint64_t first_value;  ///< number in the text of first_record (kLocateHasNumber)
  std::uint64_t stride;       ///< increase of the number per record (kLocateHasNumber)
  std::uint32_t prefix_offset;
  std::uint32_t prefix_len;
  std::uint32_t suffix_offset;
  std::uint32_t suffix_len;
  std::uint32_t flags;  ///< kLocate* bits
  std::uint32_t reserved;
};
static_assert(sizeof(EventFileLocateSegment) == 48);

inline constexpr std::uint64_t kFnv1a64Offset = 14695981039346656037ull;
inline constexpr std::uint64_t kFnv1a64Prime = 1099511628211ull;

/// 64-bit FNV-1a (Fowler, Noll, Vo; IETF draft-eastlake-fnv) of `size` bytes, continuing from
/// `hash` (start with kFnv1a64Offset).
[[nodiscard]] std::uint64_t fnv1a64(const void* data, std::size_t size,
                                    std::uint64_t hash = kFnv1a64Offset) noexcept;

/// The header_checksum field's value for `h` (FNV-1a of the header with that field zero).
[[nodiscard]] std::uint64_t event_file_header_checksum(const EventFileHeader& h) noexcept;

// --- Writing ----------------------------------------------------------------------------------

struct EventFileOptions {
  bool compress = false;            ///< zstd blocks instead of the plain, mappable event array
  int zstd_level = 3;               ///< ZSTD_minCLevel() .. ZSTD_maxCLevel() (1 .. 19 usual)
  std::size_t block_events = 65536; ///< events per block when compressed; 1 .. 2^24
};

/// What write_event_file() wrote.
struct EventFileSummary {
  std::uint64_t event_count = 0;
  std::uint64_t record_count = 0;
  std::uint64_t block_count = 0;      ///< 0 when not compressed
  std::uint64_t payload_size = 0;     ///< bytes of the payload on disk
  std::uint64_t file_size = 0;        ///< bytes of the whole file
  std::uint64_t locate_segments = 0;  ///< segments of the locate table
  std::string source_format;          ///< as stored in the header
};

/// Reads `src` to its end and writes it as an event file at `out_path`.
///
/// Streams with bounded memory (one read batch, or one block and its compressed frame, plus the
/// block index and the locate segments). Writes to a temporary file beside `out_path` and renames
/// it over `out_path` only when complete and flushed (fsync), so an error leaves no partial file
/// and an existing `out_path` untouched. The output is a function of the events, the source's
/// metadata (including its locate() texts, which name the inputs as they were given) and
/// `options` only: no conversion time, host or output path, so the same input gives a
/// byte-identical file.
///
/// Throws mmkit::Error naming `out_path` for I/O errors, invalid options, more than 48 tolerated
/// counters, a counter name longer than 55 bytes, a format name longer than 31 bytes, an event
/// whose `record` is not below the source's final records(); errors thrown by `src` propagate.
EventFileSummary write_event_file(EventSource& src, const std::string& out_path,
                                  const EventFileOptions& options = {});

// --- Reading ----------------------------------------------------------------------------------

/// Header facts, decoded.
struct EventFileInfo {
  std::string path;
  std::uint32_t version = 0;
  EventFileCompression compression = EventFileCompression::kNone;
  int zstd_level = 0;
  std::uint64_t event_count = 0;
  std::uint64_t record_count = 0;
  std::uint64_t block_events = 0;
  std::uint64_t block_count = 0;
  std::uint64_t payload_size = 0;
  std::uint64_t file_size = 0;
  std::uint64_t locate_segments = 0;
  TimestampNs exch_ts_min = kNoTimestamp;
  TimestampNs exch_ts_max = kNoTimestamp;
  std::string source_format;  ///< the original source's format(), e.g. "binance-usdm"
};

[[nodiscard]] std::string verify_event_file(const std::string& path);  // below

/// EventSource over an event file, memory-mapped read-only.
///
///  - format(): "mmk:" + the original source's format, e.g. "mmk:lobster" (source_format() gives
///    the original name alone).
///  - instrument(), book_level(): as the original source reported them at its end.
///  - tolerated(): the original source's final counters, complete from the start.
///  - records(): while reading, one past the largest Event::record among the last events of the
///    read batches so far; the file's record_count once every event has been delivered.
///  - locate(record): the original source's text (see the locate table above); for a record
///    at or beyond record_count: "<path>: record N".
///  - read(): plain files: a memcpy from the mapping; compressed files: blocks are decompressed
///    one at a time into one reusable column buffer and turned into events in a second reusable
///    buffer (or straight into `out` when it has room for a whole block): 2 * 64 * block_events
///    bytes, whatever the file size.
/// Errors (mmkit::Error naming the file and the byte offset): truncated or extended file, bad
/// magic (text-mode damage named as such), unsupported version, header / event size mismatch,
/// header / index / locate checksum mismatch, index or locate entry out of range, and, while
/// reading, a block that fails to decompress or to match its index entry.
class EventFileReader final : public EventSource {
 public:
  explicit EventFileReader(const std::string& path);
  ~EventFileReader() override;
  EventFileReader(const EventFileReader&) = delete;
  EventFileReader& operator=(const EventFileReader&) = delete;

  [[nodiscard]] const InstrumentSpec& instrument() const override;
  [[nodiscard]] BookLevel book_level() const override;
  [[nodiscard]] std::size_t read(Event* out, std::size_t capacity) override;
  [[nodiscard]] std::uint64_t records() const override;
  [[nodiscard]] std::string locate(std::uint64_t record) const override;
  [[nodiscard]] const Counters& tolerated() const override;
  [[nodiscard]] std::string format() const override;

  [[nodiscard]] const EventFileInfo& info() const noexcept;
  [[nodiscard]] const std::string& source_format() const noexcept;
  [[nodiscard]] bool compressed() const noexcept;

  /// All events of a plain (uncompressed) file, zero-copy: a view of the mapping, 64-byte
  /// aligned, valid while this reader lives (what NumPy can wrap without copying).
  /// Independent of the read position. Throws mmkit::Error for a compressed file.
  [[nodiscard]] std::span<const Event> events() const;

  /// Next up to `max_events` (> 0) events without copying, advancing the same position as
  /// read(); empty at the end. Compressed files: at most the rest of the current block. The view
  /// is valid until the next read(), next_chunk() or rewind().
  [[nodiscard]] std::span<const Event> next_chunk(std::size_t max_events);

  /// Back to the first event (records() back to 0, or record_count when there is no event).
  void rewind() noexcept;

 private:
  friend std::string verify_event_file(const std::string& path);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// True if `path` is readable and starts with the first four bytes of kEventFileMagic
/// ("\x89MMK"). Never throws.
[[nodiscard]] bool is_event_file(const std::string& path);

/// Opens an event file (an EventFileReader). Throws mmkit::Error as EventFileReader does.
[[nodiscard]] std::unique_ptr<EventSource> open_event_file(const std::string& path);

/// Full check of an event file: everything opening checks, plus the payload checksum, every
/// block decompressed (zstd content checksum, sizes, first_record), every event's `record` below
/// record_count and `kind` valid, the exch_ts range, and zero padding. Returns "" when the file is
/// sound, otherwise the first problem found as "<path> @ byte N: what" (or the error text of
/// opening). Never throws mmkit::Error for a bad file.
[[nodiscard]] std::string verify_event_file(const std::string& path);

}  // namespace mmkit::data
