// Invariant checker for every OrderBook (tests, debug replays; O(levels + orders), not for hot
// paths).
//
// check_invariants(book) returns "" when the book is sound, else a description of the first
// violation found:
//  - every level 0..depth-1 exists (price != kNoPrice) and has qty > 0;
//  - levels are strictly sorted from the best (bids descending, asks ascending);
//  - level(s, depth(s)) is the empty Level{};
//  - L3 books offering anonymous() and for_each_order() (NaiveL3Book, L3Book): at every level,
//    anonymous + sum of known orders == Level::qty, every known order has qty > 0, their count
//    == Level::order_count, queue_ahead of each order == anonymous + the volume listed before it,
//    and the counts summed over all levels == order_count();
//  - books with a member `std::string check_internal() const` (L3Book, L2Book): its result.
// A crossed book is NOT a violation: callers check crossed() at kComplete points.
#pragma once

#include <cstddef>
#include <string>

#include "mmkit/book/book.h"
#include "mmkit/core/types.h"

namespace mmkit::book {

namespace detail {

template <class B>
concept HasLevelOrders = requires(const B cb, Side s, Price p) {
  { cb.anonymous(s, p) } -> std::same_as<Qty>;
  cb.for_each_order(s, p, [](OrderId, Qty) {});
};

template <class B>
concept HasInternalCheck = requires(const B cb) {
  { cb.check_internal() } -> std::same_as<std::string>;
};

inline std::string level_text(Side s, std::size_t i, const Level& l) {
  return std::string(to_string(s)) + " level " + std::to_string(i) + " (price " +
         std::to_string(l.price) + ", qty " + std::to_string(l.qty) + ", orders " +
         std::to_string(l.order_count) + ")";
}

}  // namespace detail

template <OrderBook B>
[[nodiscard]] std::string check_invariants(const B& book) {
  std::size_t orders_seen = 0;
  for (const Side s : {Side::kBid, Side::kAsk}) {
    const std::size_t n = book.depth(s);
    Level prev;
    for (std::size_t i = 0; i < n; ++i) {
      const Level l = book.level(s, i);
      if (l.price == kNoPrice) return detail::level_text(s, i, l) + ": missing within the depth";
      if (l.qty <= 0) return detail::level_text(s, i, l) + ": qty <= 0";
      if (i > 0) {
        const bool sorted = s == Side::kBid ? l.price < prev.price : l.price > prev.price;
        if (!sorted) {
          return detail::level_text(s, i, l) + ": not strictly behind level " +
                 std::to_string(i - 1) + " at price " + std::to_string(prev.price);
        }
      }
      if constexpr (L3OrderBook<B> && detail::HasLevelOrders<B>) {
        const Qty anon = book.anonymous(s, l.price);
        if (anon < 0) return detail::level_text(s, i, l) + ": negative anonymous volume";
        Qty sum = anon;
        std::size_t count = 0;
        std::string err;
        book.for_each_order(s, l.price, [&](OrderId id, Qty q) {
          if (!err.empty()) return;
          if (q <= 0) {
            err = "order " + std::to_string(id) + " has qty " + std::to_string(q);
          } else if (book.queue_ahead(id) != sum) {
            err = "order " + std::to_string(id) + " has queue_ahead " +
                  std::to_string(book.queue_ahead(id)) + ", expected " + std::to_string(sum);
          }
          sum += q;
          ++count;
        });
        if (!err.empty()) return detail::level_text(s, i, l) + ": " + err;
        if (sum != l.qty) {
          return detail::level_text(s, i, l) + ": anonymous " + std::to_string(anon) +
                 " + orders sum to " + std::to_string(sum);
        }
        if (count != l.order_count) {
          return detail::level_text(s, i, l) + ": lists " + std::to_string(count) + " orders";
        }
        orders_seen += count;
      }
      prev = l;
    }
    if (book.level(s, n) != Level{}) {
      return std::string(to_string(s)) + " level past the depth " + std::to_string(n) +
             " is not empty";
    }
    if (book.best(s) != book.level(s, 0)) {
      return std::string(to_string(s)) + " best() differs from level(0)";
    }
  }
  if constexpr (L3OrderBook<B> && detail::HasLevelOrders<B>) {
    if (orders_seen != book.order_count()) {
      return "levels hold " + std::to_string(orders_seen) + " orders, order_count() is " +
             std::to_string(book.order_count());
    }
  }
  if constexpr (detail::HasInternalCheck<B>) {
    return book.check_internal();
  }
  return {};
}

}  // namespace mmkit::book
