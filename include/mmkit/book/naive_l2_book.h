// NaiveL2Book: the reference price-level book (std::map per side). Obviously correct, slow;
// the fast L2Book (l2_book.h) must behave identically (tests/cpp/book_test.cpp).
//
// Semantics (mmkit/book/book.h):
//   kLevelUpdate(side, price, qty): qty > 0 sets the level's total, qty == 0 removes it (removing
//     an absent level is kOk and changes nothing). Argument checks, in this order: side must be
//     kBid / kAsk (kInvalidSide), price != kNoPrice (kInvalidPrice), qty >= 0 (kInvalidQty).
//   kClear empties the book. kAdd, kCancel, kModify, kExecution: kUnsupported, no effect.
//   kTrade, kFill, kBestBidAsk, kStatus, kSnapshotStart, kSnapshotEnd: kOk, no effect.
//   kNone (or an out-of-range kind): kUnsupported.
// Level::order_count is always 0 on L2 books. Not thread-safe; one writer.
//
// This header also holds the small helpers shared by all four books (namespace detail).
#pragma once

#include <cstddef>
#include <iterator>
#include <map>

#include "mmkit/book/book.h"
#include "mmkit/core/event.h"
#include "mmkit/core/types.h"

namespace mmkit::book {

namespace detail {

/// Kinds that carry no book change (book.h): accepted and ignored by every book.
[[nodiscard]] constexpr bool is_informational(EventKind k) noexcept {
  switch (k) {
    case EventKind::kTrade:
    case EventKind::kFill:
    case EventKind::kBestBidAsk:
    case EventKind::kStatus:
    case EventKind::kSnapshotStart:
    case EventKind::kSnapshotEnd:
      return true;
    default:
      return false;
  }
}

[[nodiscard]] constexpr bool valid_side(Side s) noexcept {
  return s == Side::kBid || s == Side::kAsk;
}

/// Argument checks of a level update, in the order every book applies them.
[[nodiscard]] constexpr Errc check_level_update(Side s, Price p, Qty q) noexcept {
  if (!valid_side(s)) return Errc::kInvalidSide;
  if (p == kNoPrice) return Errc::kInvalidPrice;
  if (q < 0) return Errc::kInvalidQty;
  return Errc::kOk;
}

/// Argument checks of an add, in the order every L3 book applies them (the duplicate-id check
/// comes after these).
[[nodiscard]] constexpr Errc check_add(Side s, Price p, Qty q) noexcept {
  if (!valid_side(s)) return Errc::kInvalidSide;
  if (p == kNoPrice) return Errc::kInvalidPrice;
  if (q <= 0) return Errc::kInvalidQty;
  return Errc::kOk;
}

}  // namespace detail

class NaiveL2Book {
 public:
  /// Dispatches on e.kind (see the header comment).
  [[nodiscard]] Errc apply(const Event& e) {
    switch (e.kind) {
      case EventKind::kLevelUpdate:
        return set_level(e.side, e.price, e.qty);
      case EventKind::kClear:
        clear();
        return Errc::kOk;
      case EventKind::kAdd:
      case EventKind::kCancel:
      case EventKind::kModify:
      case EventKind::kExecution:
        return Errc::kUnsupported;
      default:
        return detail::is_informational(e.kind) ? Errc::kOk : Errc::kUnsupported;
    }
  }

  /// Level `price` on side `s` now holds `qty` in total (raw units); 0 removes it.
  [[nodiscard]] Errc set_level(Side s, Price price, Qty qty) {
    if (const Errc e = detail::check_level_update(s, price, qty); e != Errc::kOk) return e;
    auto& m = side_map(s);
    if (qty == 0) {
      m.erase(price);
    } else {
      m[price] = qty;
    }
    return Errc::kOk;
  }

  void clear() {
    bids_.clear();
    asks_.clear();
  }

  [[nodiscard]] Level best(Side s) const { return level(s, 0); }

  /// i-th level from the best (bids descending, asks ascending); Level{} past the depth.
  [[nodiscard]] Level level(Side s, std::size_t i) const {
    if (!detail::valid_side(s)) return {};
    const auto& m = side_map(s);
    if (i >= m.size()) return {};
    if (s == Side::kBid) {
      auto it = std::next(m.rbegin(), static_cast<std::ptrdiff_t>(i));
      return Level{it->first, it->second, 0};
    }
    auto it = std::next(m.begin(), static_cast<std::ptrdiff_t>(i));
    return Level{it->first, it->second, 0};
  }

  /// The level at `price` on side `s`; Level{} when absent.
  [[nodiscard]] Level level_at(Side s, Price price) const {
    if (!detail::valid_side(s)) return {};
    const auto& m = side_map(s);
    auto it = m.find(price);
    return it == m.end() ? Level{} : Level{it->first, it->second, 0};
  }

  [[nodiscard]] std::size_t depth(Side s) const {
    return detail::valid_side(s) ? side_map(s).size() : 0;
  }

  [[nodiscard]] bool crossed() const {
    return !bids_.empty() && !asks_.empty() && bids_.rbegin()->first >= asks_.begin()->first;
  }

  [[nodiscard]] const BookStats& stats() const { return stats_; }

 private:
  using SideMap = std::map<Price, Qty>;  // ascending price on both sides
  SideMap& side_map(Side s) { return s == Side::kBid ? bids_ : asks_; }
  const SideMap& side_map(Side s) const { return s == Side::kBid ? bids_ : asks_; }

  SideMap bids_;
  SideMap asks_;
  BookStats stats_;
};

static_assert(OrderBook<NaiveL2Book>);

}  // namespace mmkit::book
