// The normalized market-data event: one fixed-size, trivially copyable record for every source
// (LOBSTER, Binance, Databento MBO, event files), so files can be memory-mapped and handed to
// NumPy without copying.
#pragma once

#include <cstdint>
#include <type_traits>

#include "mmkit/core/types.h"

namespace mmkit {

/// What an event does. Book effect in brackets.
enum class EventKind : std::uint8_t {
  kNone = 0,
  kAdd = 1,          ///< [L3] new order `order_id` at `price` for `qty` on `side`, queued last
  kCancel = 2,       ///< [L3] reduce order `order_id` by `qty`; removed when nothing remains
  kModify = 3,       ///< [L3] order `order_id` now at `price` with `qty`; a price change or a
                     ///<      size increase loses queue priority, a decrease keeps it
  kExecution = 4,    ///< [L3] visible execution: resting order `order_id` on `side` loses `qty`
  kFill = 5,         ///< [none] fill report (Databento F): the book change follows as C or M
  kTrade = 6,        ///< [none] trade print; `side` is the aggressor (kNone when unknown)
  kLevelUpdate = 7,  ///< [L2] level `price` on `side` now holds `qty` in total (0 = remove)
  kSnapshotStart = 8,  ///< [none] the following events (flag kSnapshot) rebuild the book
  kSnapshotEnd = 9,    ///< [none] the snapshot is complete
  kClear = 10,         ///< [book] remove every level and order (Databento R)
  kBestBidAsk = 11,    ///< [none] venue's top of book: `side` kBid -> best bid px/qty, kAsk -> ask
  kStatus = 12,        ///< [none] trading status; `price` holds the code (LOBSTER type 7:
                       ///<        -1 halt, 0 quoting, 1 resume)
};
inline constexpr int kEventKindCount = 13;
[[nodiscard]] const char* to_string(EventKind k) noexcept;

/// Bit flags of Event::flags.
namespace event_flags {
inline constexpr std::uint16_t kEndOfRecord = 1u << 0;  ///< last event made from its source record
inline constexpr std::uint16_t kComplete = 1u << 1;     ///< book is consistent after this event
                                                        ///< (end of a venue packet / update)
inline constexpr std::uint16_t kSnapshot = 1u << 2;     ///< part of a venue snapshot
inline constexpr std::uint16_t kSeed = 1u << 3;         ///< synthesized by the reader from a
                                                        ///< reference book (LOBSTER orderbook file:
                                                        ///< a level coming into view, or a level
                                                        ///< pushed beyond the file's depth)
inline constexpr std::uint16_t kBadTs = 1u << 4;        ///< venue marked the timestamp unreliable
inline constexpr std::uint16_t kNoExchTs = 1u << 5;     ///< no exchange stamp; exch_ts_ns = local
inline constexpr std::uint16_t kAuction = 1u << 6;      ///< pre-open / auction phase: resting
                                                        ///< orders may cross until the opening
                                                        ///< auction matches them (CME Globex
                                                        ///< pre-open), so a crossed book at a
                                                        ///< kComplete point is not an error
}  // namespace event_flags

/// One market-data event (64 bytes).
///  - exch_ts_ns / local_ts_ns: ns since epoch; exchange (matching engine) and local (receive).
///  - price / qty: raw units of the stream's InstrumentSpec; kNoPrice when not applicable.
///  - order_id: venue order id for L3 events, 0 otherwise.
///  - seq: venue sequence number (LOBSTER: message line, Binance: final update id `u` or trade id,
///    Databento: `sequence`).
///  - record: 0-based index of the source record (line / MBO record) in the input stream, counted
///    over all input files in order; several events may share a record.
///  - instrument_id: venue numeric id (Databento) or 0.
struct Event {
  TimestampNs exch_ts_ns = 0;
  TimestampNs local_ts_ns = 0;
  Price price = kNoPrice;
  Qty qty = 0;
  OrderId order_id = 0;
  std::uint64_t seq = 0;
  std::uint64_t record = 0;
  std::uint32_t instrument_id = 0;
  EventKind kind = EventKind::kNone;
  Side side = Side::kNone;
  std::uint16_t flags = 0;

  [[nodiscard]] bool has(std::uint16_t f) const noexcept { return (flags & f) != 0; }
};
static_assert(std::is_trivially_copyable_v<Event> && sizeof(Event) <= 64);
static_assert(sizeof(Event) == 64);

}  // namespace mmkit
