// mmkit core scalar types.
//
// Prices and quantities are signed 64-bit integers in *raw units* of the instrument:
//   decimal price    = raw price × 10^-price_decimals   (InstrumentSpec::price_decimals)
//   decimal quantity = raw qty   × 10^-qty_decimals     (InstrumentSpec::qty_decimals)
// No floating point is used in book, matching or accounting code.
// Timestamps are int64 nanoseconds since the Unix epoch (UTC), named *_ts_ns.
#pragma once

#include <cstdint>
#include <limits>

namespace mmkit {

using Price = std::int64_t;        ///< raw price units (see InstrumentSpec)
using Qty = std::int64_t;          ///< raw quantity units (see InstrumentSpec)
using OrderId = std::uint64_t;     ///< venue order id (L3); 0 means "no order"
using TimestampNs = std::int64_t;  ///< ns since the Unix epoch, UTC

/// Sentinel for "no price" (an empty side of the book, an undefined venue price).
inline constexpr Price kNoPrice = std::numeric_limits<Price>::min();
/// Sentinel for "no timestamp".
inline constexpr TimestampNs kNoTimestamp = std::numeric_limits<TimestampNs>::min();

/// Side of a resting order or a book level. For trades, the aggressor (taker) side.
enum class Side : std::uint8_t {
  kNone = 0,
  kBid = 1,  ///< buy
  kAsk = 2,  ///< sell
};

[[nodiscard]] constexpr Side opposite(Side s) noexcept {
  return s == Side::kBid ? Side::kAsk : (s == Side::kAsk ? Side::kBid : Side::kNone);
}
[[nodiscard]] const char* to_string(Side s) noexcept;

/// Result codes of hot-path operations (books, matching). Never thrown.
enum class Errc : std::uint8_t {
  kOk = 0,
  kUnknownOrder,      ///< order id not in the book
  kDuplicateOrder,    ///< add with an order id already resting
  kQtyExceedsOrder,   ///< cancel / execution larger than the order's remaining quantity
  kQtyExceedsLevel,   ///< reduction larger than the level's volume
  kInvalidQty,        ///< zero or negative quantity where a positive one is required
  kInvalidPrice,      ///< kNoPrice or a price off the book's grid
  kInvalidSide,       ///< Side::kNone where a side is required
  kUnsupported,       ///< event kind this book cannot apply (e.g. an L3 event on an L2 book)
};
[[nodiscard]] const char* to_string(Errc e) noexcept;

}  // namespace mmkit
