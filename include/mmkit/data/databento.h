// Databento market-by-order (MBO) input: the DBN binary originals (.dbn, .dbn.zst) and the CSV
// field dumps of them (.csv, .csv.gz), read record by record (MboRecordReader) or as an L3
// EventSource of one instrument of one publisher (open_databento).
//
// Sources:
//  - MBO schema and its semantics: https://databento.com/docs/schemas-and-data-formats/mbo
//  - flags, actions, sides, sentinels:
//    https://databento.com/docs/standards-and-conventions/common-fields-enums-types
//  - DBN encoding (metadata header v1/v2/v3, 56-byte MboMsg, little-endian):
//    https://databento.com/docs/standards-and-conventions/databento-binary-encoding and its
//    reference implementation github.com/databento/dbn (rust/dbn/src/decode/dbn/fsm.rs,
//    rust/dbn/src/record.rs, rust/dbn/src/publishers.rs).
//
// CSV dump columns (one header line, then one row per MboMsg, in file order):
//   ts_recv_ns, ts_event_ns, publisher_id, publisher, instrument_id, symbol, action, side,
//   price_1e9, size, order_id, flags, channel_id, ts_in_delta_ns, sequence
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mmkit/core/error.h"
#include "mmkit/data/source.h"

namespace mmkit::data {

namespace databento {

/// Databento's undefined price (i64::MAX); the EventSource maps it to kNoPrice.
inline constexpr std::int64_t kUndefPrice = std::numeric_limits<std::int64_t>::max();
/// Record type of MboMsg in the DBN RecordHeader.
inline constexpr std::uint8_t kRtypeMbo = 0xA0;
/// Size of an MboMsg in bytes (RecordHeader 16 + body 40), DBN v1 to v3.
inline constexpr std::size_t kMboMsgSize = 56;

/// Bits of MboRecord::flags (Databento "flags" field).
inline constexpr std::uint8_t kFlagLast = 0x80;          ///< F_LAST: last record of the event
                                                         ///< (venue packet) for the instrument
inline constexpr std::uint8_t kFlagTob = 0x40;           ///< F_TOB: top-of-book message, not an
                                                         ///< order (pseudo-MBO)
inline constexpr std::uint8_t kFlagSnapshot = 0x20;      ///< F_SNAPSHOT: from a replayed snapshot
inline constexpr std::uint8_t kFlagMbp = 0x10;           ///< F_MBP: aggregated price level
inline constexpr std::uint8_t kFlagBadTsRecv = 0x08;     ///< F_BAD_TS_RECV: ts_recv unreliable
inline constexpr std::uint8_t kFlagMaybeBadBook = 0x04;  ///< F_MAYBE_BAD_BOOK: a gap was detected

/// One MBO record, field for field as DBN's MboMsg (identical in DBN v1, v2 and v3).
struct MboRecord {
  std::uint64_t ts_recv = 0;    ///< ns since epoch, capture-server receive time
  std::uint64_t ts_event = 0;   ///< ns since epoch, matching-engine time
  std::int64_t price = 0;       ///< price × 1e9; kUndefPrice = undefined
  std::uint64_t order_id = 0;   ///< venue order id
  std::uint32_t size = 0;       ///< order quantity (A, M), quantity removed (C), traded (T, F)
  std::uint32_t instrument_id = 0;
  std::uint32_t sequence = 0;   ///< venue message sequence number
  std::int32_t ts_in_delta = 0; ///< ns, ts_recv minus the venue's send time
  std::uint16_t publisher_id = 0;
  std::uint8_t flags = 0;       ///< kFlag* bits
  std::uint8_t channel_id = 0;
  char action = 0;              ///< 'A' add, 'C' cancel, 'M' modify, 'R' clear, 'T' trade, 'F' fill
  char side = 0;                ///< 'B' bid, 'A' ask, 'N' none
  friend bool operator==(const MboRecord&, const MboRecord&) = default;
};

/// Symbology of a DBN file (metadata "mappings" with stype_in raw_symbol, stype_out
/// instrument_id): raw symbol of `instrument_id` on the UTC day [start_day, end_day).
struct DbnSymbolInterval {
  std::uint32_t instrument_id = 0;
  std::int32_t start_day = 0;  ///< days since 1970-01-01, inclusive
  std::int32_t end_day = 0;    ///< exclusive
  std::string symbol;
};

/// The DBN metadata header (versions 1-3).
struct DbnMetadata {
  std::uint8_t version = 0;
  std::string dataset;                 ///< e.g. "GLBX.MDP3"
  std::uint16_t schema = 0;            ///< 0 = mbo; 0xFFFF = mixed
  std::uint64_t start_ns = 0, end_ns = 0;
  std::uint8_t stype_in = 0, stype_out = 0;  ///< 0 instrument_id, 1 raw_symbol, ...
  bool ts_out = false;                 ///< records carry an appended u64 send timestamp
  std::vector<std::string> symbols;    ///< requested symbols
  std::vector<DbnSymbolInterval> intervals;
  std::uint64_t records_offset = 0;    ///< decompressed byte offset of the first record
};

/// Publisher label used for the venue and in the CSV dumps: Databento's publisher name
/// ("DBEQ.BASIC.XCHI") with a trailing venue equal to the dataset's own dropped
/// ("GLBX.MDP3.GLBX" -> "GLBX.MDP3"). Ids beyond Databento's table (1-42) -> "publisher-<id>".
[[nodiscard]] std::string publisher_label(std::uint16_t publisher_id);

/// Sequential reader of the raw MBO records of one file. Not thread-safe.
/// Throws mmkit::Error naming the file and line (CSV) or decompressed byte offset (DBN) on
/// malformed input: wrong column count, unparsable or out-of-range field, unknown action or side,
/// bad DBN magic / version / metadata, truncated record or zstd frame.
class MboRecordReader {
 public:
  /// Opens a DBN file (plain or zstd-compressed, recognized by content) or a CSV dump (plain or
  /// gzip, recognized by its header line).
  [[nodiscard]] static std::unique_ptr<MboRecordReader> open(const std::string& path);

  virtual ~MboRecordReader() = default;
  /// Next MBO record; false at the end. DBN records of other rtypes are skipped and counted in
  /// non_mbo_records().
  [[nodiscard]] virtual bool next(MboRecord& out) = 0;
  /// Symbol of the record last returned: the CSV `symbol` column, or the DBN metadata mapping
  /// for (instrument_id, UTC day of ts_recv); empty when the DBN metadata does not resolve it.
  [[nodiscard]] virtual std::string_view symbol() const = 0;
  /// Publisher label of the record last returned (CSV `publisher` column, or publisher_label()).
  [[nodiscard]] virtual std::string_view publisher() const = 0;
  /// Location of the record last returned: "file:line" or "file @ byte N".
  [[nodiscard]] virtual SourceLocation where() const = 0;
  /// DBN metadata, or nullptr for a CSV dump.
  [[nodiscard]] virtual const DbnMetadata* metadata() const noexcept { return nullptr; }
  /// "databento-csv" or "databento-dbn".
  [[nodiscard]] virtual std::string_view format() const noexcept = 0;
  [[nodiscard]] std::uint64_t non_mbo_records() const noexcept { return non_mbo_records_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 protected:
  explicit MboRecordReader(std::string path) : path_(std::move(path)) {}
  std::string path_;
  std::uint64_t non_mbo_records_ = 0;
};

/// One (publisher, instrument) stream found by scan_mbo().
struct MboStreamInfo {
  std::uint16_t publisher_id = 0;
  std::string publisher;        ///< label, see publisher_label()
  std::uint32_t instrument_id = 0;
  std::string symbol;           ///< empty when a DBN file does not map the id
  std::uint64_t records = 0;
  std::uint64_t tob_records = 0;  ///< records flagged F_TOB (pseudo-MBO top of book)
  std::uint64_t action_counts[6] = {};  ///< A, C, M, R, T, F
  std::int64_t price_gcd = 0;   ///< GCD of |price| over defined prices (raw 1e-9), 0 if none
};

/// Reads `paths` completely and lists their streams in order of first appearance.
[[nodiscard]] std::vector<MboStreamInfo> scan_mbo(const std::vector<std::string>& paths);

}  // namespace databento

/// Opens Databento MBO input (DBN and/or CSV dumps, read in order as one stream) as an L3
/// EventSource of one instrument of one publisher. Format name "databento-mbo".
///
/// Selection (from a pre-scan of all files):
///  - options.instrument: symbol ("ESH4", "GOOG"), or the numeric instrument id (needed when a
///    DBN file has no symbol mapping for it). Empty: the only instrument, else Error listing the
///    symbols found.
///  - options.publisher: publisher id; -1: the only publisher of the instrument whose records are
///    order-by-order (no F_TOB records; DBEQ.BASIC: 39 = XCHI). A top-of-book publisher (any
///    F_TOB record: DBEQ.BASIC 40 XCIS and 41 IEXG, one fixed order id per instrument and side)
///    is refused with an Error: it is not L3 depth.
///  - options.tick_size: raw 1e-9 tick; 0 = GCD of the stream's prices over the pre-scan.
/// InstrumentSpec: symbol, venue = publisher label, currency "USD", price_decimals 9,
/// qty_decimals 0, lot 1, instrument_id.
///
/// Events (one per selected record; flags kEndOfRecord always, kComplete on F_LAST, kSnapshot on
/// F_SNAPSHOT, kBadTs on F_BAD_TS_RECV): A -> kAdd, C -> kCancel (qty = removed), M -> kModify
/// (new price and size), R -> kClear, T -> kTrade (side = aggressor, N -> kNone), F -> kFill (no
/// book change: the C or M that follows removes the quantity). exch_ts_ns = ts_event,
/// local_ts_ns = ts_recv, seq = sequence, price kNoPrice when undefined.
///
/// The reader tracks the live orders of the selected stream (id -> side, price, size) and throws
/// mmkit::Error naming the file and line / byte offset for: a C or M of an order id not live
/// (never added, or already removed), a C larger than the order's remaining size or at another
/// price, a C / M / F whose side (when given) differs from the order's, a duplicate add, an A / M /
/// C without a side or price, a zero-size A / C / M / F, and ts_recv going backwards (unless the
/// record is flagged F_BAD_TS_RECV: then counted). Fills are not book changes, so three fill
/// conditions seen in the CME ESH4 file are counted instead: a fill of an id never seen (7 in
/// the 23:00 opening auction), a fill with side N (kFill then takes the order's side), and a fill
/// larger than the order's displayed size (icebergs; the M that follows re-sizes the order).
///
/// Tolerated counters: "databento.records_not_selected" (total) and
/// "databento.records_not_selected:<symbol>/<publisher_id>"; for the selected stream
/// "databento.snapshot_records", "databento.bad_ts_recv", "databento.ts_recv_backwards_bad_ts",
/// "databento.tob_flag", "databento.mbp_flag", "databento.maybe_bad_book",
/// "databento.fill_unknown_order", "databento.fill_side_from_order",
/// "databento.fill_exceeds_visible_size", "databento.no_action_records" (action N: no event);
/// "databento.non_mbo_records" (DBN records of other rtypes: counted in records(), no event);
/// "databento.instrument_selected_by_id_without_symbol".
[[nodiscard]] std::unique_ptr<EventSource> open_databento(const std::vector<std::string>& paths,
                                                          const SourceOptions& options);

}  // namespace mmkit::data
