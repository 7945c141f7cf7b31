// The order-book interface shared by the L2 (price-level) and L3 (order-by-order, FIFO per
// level) books, fast and naive.
//
// A book consumes normalized Events (mmkit/core/event.h):
//   L2 and L3 books: kLevelUpdate, kClear; the informational kinds (kTrade, kFill, kBestBidAsk,
//                    kStatus, kSnapshotStart, kSnapshotEnd) are accepted and ignored.
//   L3 books only:   kAdd, kCancel, kModify, kExecution (an L2 book returns Errc::kUnsupported).
// On an L3 book a kLevelUpdate sets the level's total to `qty` by changing its *anonymous*
// volume: volume of unknown composition (an opening book, a level seeded from a reference book)
// that stands ahead of every known order at that price. A kCancel / kExecution for an order id
// the book does not know reduces the anonymous volume of the level at (side, price) when there
// is enough; that is counted in BookStats::anonymous_reductions. Otherwise kUnknownOrder.
// Prices are raw integers (InstrumentSpec); no floating point.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

#include "mmkit/core/event.h"
#include "mmkit/core/types.h"

namespace mmkit::book {

/// One price level. price == kNoPrice (and qty 0) for a level that does not exist.
struct Level {
  Price price = kNoPrice;
  Qty qty = 0;                   ///< total volume, anonymous included
  std::uint32_t order_count = 0; ///< known orders (L3); 0 on L2 books
  friend bool operator==(const Level&, const Level&) = default;
};

/// Tolerated conditions a book counts instead of failing.
struct BookStats {
  std::uint64_t anonymous_reductions = 0;  ///< cancels/executions of unknown ids taken from
                                           ///< anonymous volume
};

/// Common interface: everything `mmkit book`, the replayer and the typed tests use.
template <class B>
concept OrderBook = requires(B b, const B cb, const Event& e, Side s, std::size_t i) {
  { b.apply(e) } -> std::same_as<Errc>;
  { b.clear() };
  { cb.best(s) } -> std::same_as<Level>;        ///< best level of side s (kNoPrice if empty)
  { cb.level(s, i) } -> std::same_as<Level>;    ///< i-th level from the best, 0-based
  { cb.depth(s) } -> std::same_as<std::size_t>; ///< number of non-empty levels on side s
  { cb.crossed() } -> std::same_as<bool>;       ///< best bid >= best ask, both present
  { cb.stats() } -> std::same_as<const BookStats&>;
};

/// Order-by-order books add direct order operations and queue position.
template <class B>
concept L3OrderBook = OrderBook<B> && requires(B b, const B cb, OrderId id, Side s, Price p, Qty q) {
  { b.add(id, s, p, q) } -> std::same_as<Errc>;
  { b.cancel(id, q) } -> std::same_as<Errc>;     ///< reduce by q, remove at 0
  { b.execute(id, q) } -> std::same_as<Errc>;    ///< same book effect as cancel (a fill)
  { b.modify(id, p, q) } -> std::same_as<Errc>;  ///< new price / size (priority rules above)
  { cb.contains(id) } -> std::same_as<bool>;
  { cb.order_count() } -> std::same_as<std::size_t>;
  { cb.queue_ahead(id) } -> std::same_as<Qty>;   ///< volume ahead of `id` at its level (anonymous
                                                 ///< included); -1 if unknown id
};

}  // namespace mmkit::book
