// NaiveL3Book: the reference order-by-order book (std::map of levels, std::list FIFO per level,
// std::unordered_map id -> position). Obviously correct, slow; the fast L3Book (l3_book.h) must
// behave identically, Errc for Errc (tests/cpp/book_test.cpp).
//
// Semantics shared by both L3 books (mmkit/book/book.h gives the interface):
//  - FIFO per price level. add() appends at the tail of its level.
//  - cancel(id, q) / execute(id, q): reduce the order by q; removed when nothing remains.
//    q > remaining: kQtyExceedsOrder and no change.
//  - modify(id, p, q), Databento MBO "M" semantics: a price change or a size increase moves the
//    order to the tail of its (new) level; a size decrease (or the same size) at the same price
//    keeps its place; q == 0 removes the order. The side never changes.
//  - Anonymous volume: each level may hold volume of unknown composition (LOBSTER's opening book,
//    a level seeded from a reference book) that stands AHEAD of every known order at that price.
//    Level::qty = anonymous + sum of known orders; Level::order_count = known orders.
//    set_level(s, p, q) (kLevelUpdate): q > 0 sets the level's total to q by setting its anonymous
//    volume to q - known volume; when that would be negative the anonymous volume becomes 0 and
//    kQtyExceedsLevel is returned (known orders untouched). q == 0 removes the level with its
//    known orders, whose ids are forgotten (a later cancel of such an id is kUnknownOrder, or
//    is taken from anonymous volume by apply()). Removing an absent level is kOk.
//  - apply(kCancel / kExecution) for an id the book does not know takes e.qty from the anonymous
//    volume of level (e.side, e.price) when it holds at least e.qty (counted in
//    BookStats::anonymous_reductions); otherwise kUnknownOrder and no change.
//  - A level with no known order and no anonymous volume does not exist.
//  - queue_ahead(id) = anonymous volume + known volume ahead of id at its level; -1 if unknown.
//  - kClear empties the book; kTrade, kFill, kBestBidAsk, kStatus, kSnapshotStart, kSnapshotEnd are
//    kOk without effect; kNone: kUnsupported.
// Argument checks and their order (identical in both books):
//   add:      side (kInvalidSide), price != kNoPrice (kInvalidPrice), qty > 0 (kInvalidQty),
//             id not resting (kDuplicateOrder).
//   cancel / execute: q > 0 (kInvalidQty), id resting (kUnknownOrder), q <= remaining
//             (kQtyExceedsOrder).
//   modify:   id resting (kUnknownOrder), q >= 0 (kInvalidQty); q == 0 removes whatever p is;
//             otherwise p != kNoPrice (kInvalidPrice).
//   set_level: side, price, q >= 0 (as L2 books), then kQtyExceedsLevel as above.
//   apply(kCancel / kExecution): e.qty > 0 (kInvalidQty), then the id, then anonymous volume.
// Order ids are arbitrary uint64 values (0 included). Prices and quantities are raw units.
// Not thread-safe; one writer.
#pragma once

#include <cstddef>
#include <iterator>
#include <list>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

#include "mmkit/book/book.h"
#include "mmkit/book/naive_l2_book.h"
#include "mmkit/core/event.h"
#include "mmkit/core/types.h"

namespace mmkit::book {

/// A resting order as an L3 book sees it.
struct OrderInfo {
  Side side = Side::kNone;
  Price price = kNoPrice;
  Qty qty = 0;  ///< remaining quantity
  friend bool operator==(const OrderInfo&, const OrderInfo&) = default;
};

class NaiveL3Book {
 public:
  NaiveL3Book() = default;
  /// Deep copy: the copy's index refers to its own lists.
  NaiveL3Book(const NaiveL3Book& o) : bids_(o.bids_), asks_(o.asks_), stats_(o.stats_) {
    rebuild_index();
  }
  NaiveL3Book& operator=(const NaiveL3Book& o) {
    if (this != &o) {
      NaiveL3Book copy(o);
      *this = std::move(copy);
    }
    return *this;
  }
  NaiveL3Book(NaiveL3Book&&) noexcept = default;
  NaiveL3Book& operator=(NaiveL3Book&&) noexcept = default;
  ~NaiveL3Book() = default;

  /// Dispatches on e.kind (see the header comment).
  [[nodiscard]] Errc apply(const Event& e) {
    switch (e.kind) {
      case EventKind::kAdd:
        return add(e.order_id, e.side, e.price, e.qty);
      case EventKind::kCancel:
      case EventKind::kExecution:
        if (e.qty <= 0) return Errc::kInvalidQty;
        if (index_.count(e.order_id) != 0) return reduce(e.order_id, e.qty);
        return reduce_anonymous(e.side, e.price, e.qty);
      case EventKind::kModify:
        return modify(e.order_id, e.price, e.qty);
      case EventKind::kLevelUpdate:
        return set_level(e.side, e.price, e.qty);
      case EventKind::kClear:
        clear();
        return Errc::kOk;
      default:
        return detail::is_informational(e.kind) ? Errc::kOk : Errc::kUnsupported;
    }
  }

  [[nodiscard]] Errc add(OrderId id, Side s, Price price, Qty qty) {
    if (const Errc e = detail::check_add(s, price, qty); e != Errc::kOk) return e;
    if (index_.count(id) != 0) return Errc::kDuplicateOrder;
    PriceLevel& lvl = side_map(s)[price];
    lvl.orders.push_back(Resting{id, qty});
    index_.emplace(id, Loc{s, price, std::prev(lvl.orders.end())});
    return Errc::kOk;
  }

  [[nodiscard]] Errc cancel(OrderId id, Qty qty) {
    if (qty <= 0) return Errc::kInvalidQty;
    return reduce(id, qty);
  }

  [[nodiscard]] Errc execute(OrderId id, Qty qty) { return cancel(id, qty); }

  [[nodiscard]] Errc modify(OrderId id, Price price, Qty qty) {
    auto it = index_.find(id);
    if (it == index_.end()) return Errc::kUnknownOrder;
    if (qty < 0) return Errc::kInvalidQty;
    if (qty == 0) {
      remove(it);
      return Errc::kOk;
    }
    if (price == kNoPrice) return Errc::kInvalidPrice;
    Loc& loc = it->second;
    if (price == loc.price && qty <= loc.it->qty) {
      loc.it->qty = qty;
      return Errc::kOk;
    }
    const Side s = loc.side;
    remove(it);
    return add(id, s, price, qty);
  }

  /// Takes `qty` from the anonymous volume of level (s, price): kOk (and counted in
  /// stats().anonymous_reductions) when it holds at least qty, else kUnknownOrder, no change.
  [[nodiscard]] Errc reduce_anonymous(Side s, Price price, Qty qty) {
    if (qty <= 0) return Errc::kInvalidQty;
    if (!detail::valid_side(s) || price == kNoPrice) return Errc::kUnknownOrder;
    auto& m = side_map(s);
    auto lit = m.find(price);
    if (lit == m.end() || lit->second.anonymous < qty) return Errc::kUnknownOrder;
    lit->second.anonymous -= qty;
    ++stats_.anonymous_reductions;
    if (lit->second.anonymous == 0 && lit->second.orders.empty()) m.erase(lit);
    return Errc::kOk;
  }

  /// Level (s, price) now holds `qty` in total; see the header comment.
  [[nodiscard]] Errc set_level(Side s, Price price, Qty qty) {
    if (const Errc e = detail::check_level_update(s, price, qty); e != Errc::kOk) return e;
    auto& m = side_map(s);
    if (qty == 0) {
      auto lit = m.find(price);
      if (lit == m.end()) return Errc::kOk;
      for (const Resting& r : lit->second.orders) index_.erase(r.id);
      m.erase(lit);
      return Errc::kOk;
    }
    PriceLevel& lvl = m[price];
    const Qty known = known_volume(lvl);
    if (qty < known) {
      lvl.anonymous = 0;
      return Errc::kQtyExceedsLevel;
    }
    lvl.anonymous = qty - known;
    return Errc::kOk;
  }

  void clear() {
    bids_.clear();
    asks_.clear();
    index_.clear();
  }

  [[nodiscard]] Level best(Side s) const { return level(s, 0); }

  [[nodiscard]] Level level(Side s, std::size_t i) const {
    if (!detail::valid_side(s)) return {};
    const auto& m = side_map(s);
    if (i >= m.size()) return {};
    if (s == Side::kBid) {
      auto it = std::next(m.rbegin(), static_cast<std::ptrdiff_t>(i));
      return to_level(it->first, it->second);
    }
    auto it = std::next(m.begin(), static_cast<std::ptrdiff_t>(i));
    return to_level(it->first, it->second);
  }

  /// The level at `price` on side `s`; Level{} when absent.
  [[nodiscard]] Level level_at(Side s, Price price) const {
    if (!detail::valid_side(s)) return {};
    const auto& m = side_map(s);
    auto it = m.find(price);
    return it == m.end() ? Level{} : to_level(it->first, it->second);
  }

  /// Anonymous volume of level (s, price); 0 when absent.
  [[nodiscard]] Qty anonymous(Side s, Price price) const {
    if (!detail::valid_side(s)) return 0;
    const auto& m = side_map(s);
    auto it = m.find(price);
    return it == m.end() ? 0 : it->second.anonymous;
  }

  /// Calls f(OrderId, Qty remaining) for each known order of level (s, price), FIFO order.
  template <class F>
  void for_each_order(Side s, Price price, F&& f) const {
    if (!detail::valid_side(s)) return;
    const auto& m = side_map(s);
    auto it = m.find(price);
    if (it == m.end()) return;
    for (const Resting& r : it->second.orders) f(r.id, r.qty);
  }

  [[nodiscard]] std::size_t depth(Side s) const {
    return detail::valid_side(s) ? side_map(s).size() : 0;
  }

  [[nodiscard]] bool crossed() const {
    return !bids_.empty() && !asks_.empty() && bids_.rbegin()->first >= asks_.begin()->first;
  }

  [[nodiscard]] bool contains(OrderId id) const { return index_.count(id) != 0; }
  [[nodiscard]] std::size_t order_count() const { return index_.size(); }

  [[nodiscard]] std::optional<OrderInfo> order(OrderId id) const {
    auto it = index_.find(id);
    if (it == index_.end()) return std::nullopt;
    return OrderInfo{it->second.side, it->second.price, it->second.it->qty};
  }

  [[nodiscard]] Qty queue_ahead(OrderId id) const {
    auto it = index_.find(id);
    if (it == index_.end()) return -1;
    const PriceLevel& lvl = side_map(it->second.side).at(it->second.price);
    Qty ahead = lvl.anonymous;
    for (const Resting& r : lvl.orders) {
      if (r.id == id) break;
      ahead += r.qty;
    }
    return ahead;
  }

  [[nodiscard]] const BookStats& stats() const { return stats_; }

 private:
  struct Resting {
    OrderId id;
    Qty qty;
  };
  struct PriceLevel {
    Qty anonymous = 0;
    std::list<Resting> orders;
  };
  using SideMap = std::map<Price, PriceLevel>;  // ascending price on both sides
  struct Loc {
    Side side;
    Price price;
    std::list<Resting>::iterator it;
  };
  using Index = std::unordered_map<OrderId, Loc>;

  static Qty known_volume(const PriceLevel& lvl) {
    Qty v = 0;
    for (const Resting& r : lvl.orders) v += r.qty;
    return v;
  }
  static Level to_level(Price p, const PriceLevel& lvl) {
    return Level{p, lvl.anonymous + known_volume(lvl),
                 static_cast<std::uint32_t>(lvl.orders.size())};
  }

  SideMap& side_map(Side s) { return s == Side::kBid ? bids_ : asks_; }
  const SideMap& side_map(Side s) const { return s == Side::kBid ? bids_ : asks_; }

  void rebuild_index() {
    index_.clear();
    for (Side s : {Side::kBid, Side::kAsk}) {
      for (auto& [price, lvl] : side_map(s)) {
        for (auto it = lvl.orders.begin(); it != lvl.orders.end(); ++it) {
          index_.emplace(it->id, Loc{s, price, it});
        }
      }
    }
  }

  Errc reduce(OrderId id, Qty qty) {
    auto it = index_.find(id);
    if (it == index_.end()) return Errc::kUnknownOrder;
    Resting& r = *it->second.it;
    if (qty > r.qty) return Errc::kQtyExceedsOrder;
    r.qty -= qty;
    if (r.qty == 0) remove(it);
    return Errc::kOk;
  }

  void remove(Index::iterator it) {
    auto& m = side_map(it->second.side);
    auto lit = m.find(it->second.price);
    lit->second.orders.erase(it->second.it);
    if (lit->second.orders.empty() && lit->second.anonymous == 0) m.erase(lit);
    index_.erase(it);
  }

  SideMap bids_;
  SideMap asks_;
  Index index_;
  BookStats stats_;
};

static_assert(L3OrderBook<NaiveL3Book>);

}  // namespace mmkit::book
