// L3Book: the fast order-by-order book. Same semantics and Errc as NaiveL3Book (naive_l3_book.h:
// FIFO per level, Databento modify priority rules, anonymous volume ahead of known orders, order
// of argument checks), checked Errc for Errc by tests/cpp/book_test.cpp.
//
// Layout (all links are 32-bit indices, never pointers, so the pools may grow):
//  - orders: a pooled std::vector<Node> with a free list; each price level threads its orders
//    in an intrusive doubly-linked FIFO (head = front of the queue).
//  - levels: a pooled std::vector<LevelNode> with a free list (price, total, anonymous, FIFO
//    ends, order count); an order refers to its level by pool index, so cancel / execute /
//    modify are O(1) given the id unless a level appears or disappears.
//  - per side, a sorted std::vector<{price, level index}> with the BEST level at the BACK (bids
//    ascending, asks descending), searched by a short linear scan from the back then a binary
//    search (detail::lower_bound_from_back): activity concentrates near the top, where inserting
//    or erasing moves few elements.
//  - id -> order slot: detail::OrderIndex, open addressing with linear probing and backward-shift
//    deletion (no tombstones), power-of-two capacity, load <= 1/2, grows by doubling.
// Nothing is allocated in steady state: pools, vectors and the index only grow to the book's
// high-water mark (clear() keeps the capacity). Capacity limit: 2^32 - 2 orders and levels.
// Not thread-safe; one writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mmkit/book/book.h"
#include "mmkit/book/l2_book.h"
#include "mmkit/book/naive_l3_book.h"
#include "mmkit/core/event.h"
#include "mmkit/core/types.h"

namespace mmkit::book {

namespace detail {

inline constexpr std::uint32_t kNil = 0xFFFFFFFFu;

/// Open-addressing hash map OrderId (any uint64, 0 included) -> uint32 value (!= kNil).
/// Linear probing on a power-of-two table of {key, value} slots; value kNil marks an empty slot.
/// Fibonacci hashing (multiply by 2^64 / phi, keep the high bits) spreads sequential venue ids.
class OrderIndex {
 public:
  explicit OrderIndex(std::size_t expected = 0) { rehash(capacity_for(expected)); }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return slots_.size(); }

  /// Slot position holding `key`, or npos.
  [[nodiscard]] std::size_t find(OrderId key) const noexcept {
    std::size_t i = home(key);
    for (;;) {
      const Slot& sl = slots_[i];
      if (sl.value == kNil) return npos;
      if (sl.key == key) return i;
      i = (i + 1) & mask_;
    }
  }

  [[nodiscard]] std::uint32_t value_at(std::size_t pos) const noexcept {
    return slots_[pos].value;
  }

  /// Inserts key -> value. Returns false (and changes nothing) when the key is present.
  bool insert(OrderId key, std::uint32_t value) {
    if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
    std::size_t i = home(key);
    for (;;) {
      Slot& sl = slots_[i];
      if (sl.value == kNil) {
        sl.key = key;
        sl.value = value;
        ++size_;
        return true;
      }
      if (sl.key == key) return false;
      i = (i + 1) & mask_;
    }
  }

  /// Removes the entry at slot position `pos` (from find()); backward-shift deletion keeps
  /// every remaining key reachable from its home slot without tombstones.
  void erase_at(std::size_t pos) noexcept {
    std::size_t i = pos;
    std::size_t j = pos;
    for (;;) {
      j = (j + 1) & mask_;
      const Slot& sj = slots_[j];
      if (sj.value == kNil) break;
      const std::size_t h = home(sj.key);
      // sj may move back to i when i lies cyclically in [h, j).
      if (((j - h) & mask_) >= ((j - i) & mask_)) {
        slots_[i] = sj;
        i = j;
      }
    }
    slots_[i].value = kNil;
    --size_;
  }

  bool erase(OrderId key) noexcept {
    const std::size_t pos = find(key);
    if (pos == npos) return false;
    erase_at(pos);
    return true;
  }

  void clear() noexcept {
    for (Slot& s : slots_) s.value = kNil;
    size_ = 0;
  }

  /// Calls f(key, value) for every entry (unspecified order).
  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.value != kNil) f(s.key, s.value);
    }
  }

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

 private:
  struct Slot {
    OrderId key = 0;
    std::uint32_t value = kNil;
  };

  static std::size_t capacity_for(std::size_t n) {
    std::size_t c = 16;
    while (c < n * 2) c *= 2;
    return c;
  }

  [[nodiscard]] std::size_t home(OrderId key) const noexcept {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }

  void rehash(std::size_t new_capacity) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(new_capacity, Slot{});
    mask_ = new_capacity - 1;
    int bits = 0;
    while ((std::size_t{1} << bits) < new_capacity) ++bits;
    shift_ = 64 - bits;
    size_ = 0;
    for (const Slot& s : old) {
      if (s.value != kNil) insert(s.key, s.value);
    }
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  int shift_ = 64;
  std::size_t size_ = 0;
};

}  // namespace detail

class L3Book {
 public:
  /// `expected_orders`: resting orders to reserve room for (the pools grow beyond it as needed).
  explicit L3Book(std::size_t expected_orders = 1024) : index_(expected_orders) {
    nodes_.reserve(expected_orders);
    levels_.reserve(256);
    sides_[0].reserve(128);
    sides_[1].reserve(128);
  }

  /// Dispatches on e.kind (semantics: naive_l3_book.h).
  [[nodiscard]] Errc apply(const Event& e) {
    switch (e.kind) {
      case EventKind::kAdd:
        return add(e.order_id, e.side, e.price, e.qty);
      case EventKind::kCancel:
      case EventKind::kExecution: {
        if (e.qty <= 0) return Errc::kInvalidQty;
        const std::size_t pos = index_.find(e.order_id);
        if (pos != detail::OrderIndex::npos) return reduce_at(pos, e.qty);
        return reduce_anonymous(e.side, e.price, e.qty);
      }
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
    const std::uint32_t n = alloc_node();
    if (!index_.insert(id, n)) {
      free_node(n);
      return Errc::kDuplicateOrder;
    }
    const std::uint32_t l = find_or_create_level(s, price);
    nodes_[n].id = id;
    nodes_[n].qty = qty;
    append(l, n);
    return Errc::kOk;
  }

  [[nodiscard]] Errc cancel(OrderId id, Qty qty) {
    if (qty <= 0) return Errc::kInvalidQty;
    const std::size_t pos = index_.find(id);
    if (pos == detail::OrderIndex::npos) return Errc::kUnknownOrder;
    return reduce_at(pos, qty);
  }

  [[nodiscard]] Errc execute(OrderId id, Qty qty) { return cancel(id, qty); }

  [[nodiscard]] Errc modify(OrderId id, Price price, Qty qty) {
    const std::size_t pos = index_.find(id);
    if (pos == detail::OrderIndex::npos) return Errc::kUnknownOrder;
    if (qty < 0) return Errc::kInvalidQty;
    const std::uint32_t n = index_.value_at(pos);
    if (qty == 0) {
      remove_order(pos, n);
      return Errc::kOk;
    }
    if (price == kNoPrice) return Errc::kInvalidPrice;
    Node& node = nodes_[n];
    const std::uint32_t l = node.level;
    LevelNode& lv = levels_[l];
    if (price == lv.price) {
      lv.total += qty - node.qty;
      const bool to_tail = qty > node.qty;
      node.qty = qty;
      if (to_tail && lv.tail != n) {
        unlink(lv, node);
        link_tail(lv, n);
      }
      return Errc::kOk;
    }
    const Side s = lv.side;
    detach(n);
    const std::uint32_t nl = find_or_create_level(s, price);
    nodes_[n].qty = qty;
    append(nl, n);
    return Errc::kOk;
  }

  /// Takes `qty` from the anonymous volume of level (s, price): kOk (and counted in
  /// stats().anonymous_reductions) when it holds at least qty, else kUnknownOrder, no change.
  [[nodiscard]] Errc reduce_anonymous(Side s, Price price, Qty qty) {
    if (qty <= 0) return Errc::kInvalidQty;
    if (!detail::valid_side(s) || price == kNoPrice) return Errc::kUnknownOrder;
    const std::size_t pos = find_pos(s, price);
    std::vector<Entry>& v = side_vec(s);
    if (pos >= v.size() || v[pos].price != price) return Errc::kUnknownOrder;
    LevelNode& lv = levels_[v[pos].level];
    if (lv.anonymous < qty) return Errc::kUnknownOrder;
    lv.anonymous -= qty;
    lv.total -= qty;
    ++stats_.anonymous_reductions;
    if (lv.total == 0) {
      free_level(v[pos].level);
      v.erase(v.begin() + static_cast<std::ptrdiff_t>(pos));
    }
    return Errc::kOk;
  }

  /// Level (s, price) now holds `qty` in total (semantics: naive_l3_book.h).
  [[nodiscard]] Errc set_level(Side s, Price price, Qty qty) {
    if (const Errc e = detail::check_level_update(s, price, qty); e != Errc::kOk) return e;
    std::vector<Entry>& v = side_vec(s);
    const std::size_t pos = find_pos(s, price);
    const bool found = pos < v.size() && v[pos].price == price;
    if (qty == 0) {
      if (!found) return Errc::kOk;
      const std::uint32_t l = v[pos].level;
      for (std::uint32_t n = levels_[l].head; n != detail::kNil;) {
        const std::uint32_t next = nodes_[n].next;
        index_.erase(nodes_[n].id);
        free_node(n);
        n = next;
      }
      free_level(l);
      v.erase(v.begin() + static_cast<std::ptrdiff_t>(pos));
      return Errc::kOk;
    }
    std::uint32_t l;
    if (found) {
      l = v[pos].level;
    } else {
      l = alloc_level(s, price);
      side_vec(s).insert(side_vec(s).begin() + static_cast<std::ptrdiff_t>(pos), Entry{price, l});
    }
    LevelNode& lv = levels_[l];
    const Qty known = lv.total - lv.anonymous;
    if (qty < known) {
      lv.anonymous = 0;
      lv.total = known;
      return Errc::kQtyExceedsLevel;
    }
    lv.anonymous = qty - known;
    lv.total = qty;
    return Errc::kOk;
  }

  /// Empties the book; keeps every capacity.
  void clear() {
    nodes_.clear();
    free_nodes_ = detail::kNil;
    levels_.clear();
    free_levels_ = detail::kNil;
    sides_[0].clear();
    sides_[1].clear();
    index_.clear();
  }

  [[nodiscard]] Level best(Side s) const { return level(s, 0); }

  [[nodiscard]] Level level(Side s, std::size_t i) const {
    if (!detail::valid_side(s)) return {};
    const std::vector<Entry>& v = side_vec(s);
    if (i >= v.size()) return {};
    return to_level(levels_[v[v.size() - 1 - i].level]);
  }

  [[nodiscard]] Level level_at(Side s, Price price) const {
    const std::uint32_t l = level_index(s, price);
    return l == detail::kNil ? Level{} : to_level(levels_[l]);
  }

  [[nodiscard]] Qty anonymous(Side s, Price price) const {
    const std::uint32_t l = level_index(s, price);
    return l == detail::kNil ? 0 : levels_[l].anonymous;
  }

  /// Calls f(OrderId, Qty remaining) for each known order of level (s, price), FIFO order.
  template <class F>
  void for_each_order(Side s, Price price, F&& f) const {
    const std::uint32_t l = level_index(s, price);
    if (l == detail::kNil) return;
    for (std::uint32_t n = levels_[l].head; n != detail::kNil; n = nodes_[n].next) {
      f(nodes_[n].id, nodes_[n].qty);
    }
  }

  [[nodiscard]] std::size_t depth(Side s) const {
    return detail::valid_side(s) ? side_vec(s).size() : 0;
  }

  [[nodiscard]] bool crossed() const {
    const std::vector<Entry>& b = sides_[0];
    const std::vector<Entry>& a = sides_[1];
    return !b.empty() && !a.empty() && b.back().price >= a.back().price;
  }

  [[nodiscard]] bool contains(OrderId id) const {
    return index_.find(id) != detail::OrderIndex::npos;
  }
  [[nodiscard]] std::size_t order_count() const { return index_.size(); }

  [[nodiscard]] std::optional<OrderInfo> order(OrderId id) const {
    const std::size_t pos = index_.find(id);
    if (pos == detail::OrderIndex::npos) return std::nullopt;
    const Node& n = nodes_[index_.value_at(pos)];
    const LevelNode& lv = levels_[n.level];
    return OrderInfo{lv.side, lv.price, n.qty};
  }

  /// Anonymous volume + known volume ahead of `id` at its level; -1 if unknown. O(position).
  [[nodiscard]] Qty queue_ahead(OrderId id) const {
    const std::size_t pos = index_.find(id);
    if (pos == detail::OrderIndex::npos) return -1;
    const std::uint32_t target = index_.value_at(pos);
    const LevelNode& lv = levels_[nodes_[target].level];
    Qty ahead = lv.anonymous;
    for (std::uint32_t n = lv.head; n != target; n = nodes_[n].next) ahead += nodes_[n].qty;
    return ahead;
  }

  [[nodiscard]] const BookStats& stats() const { return stats_; }

  /// Layout invariants (called by check_invariants, book_check.h): "" when sound. O(size).
  [[nodiscard]] std::string check_internal() const;

 private:
  struct Node {
    OrderId id = 0;
    Qty qty = 0;  // remaining
    std::uint32_t prev = detail::kNil;
    std::uint32_t next = detail::kNil;  // towards the tail; free list link when free
    std::uint32_t level = detail::kNil;
  };
  struct LevelNode {
    Price price = kNoPrice;
    Qty total = 0;  // anonymous + known orders
    Qty anonymous = 0;
    std::uint32_t head = detail::kNil;  // front of the FIFO; free list link when free
    std::uint32_t tail = detail::kNil;
    std::uint32_t count = 0;
    Side side = Side::kNone;
  };
  struct Entry {
    Price price;
    std::uint32_t level;
  };

  static Level to_level(const LevelNode& lv) { return Level{lv.price, lv.total, lv.count}; }

  std::vector<Entry>& side_vec(Side s) { return sides_[s == Side::kAsk ? 1 : 0]; }
  const std::vector<Entry>& side_vec(Side s) const { return sides_[s == Side::kAsk ? 1 : 0]; }

  std::size_t find_pos(Side s, Price p) const {
    return s == Side::kBid
               ? detail::lower_bound_from_back<false>(sides_[0].data(), sides_[0].size(), p)
               : detail::lower_bound_from_back<true>(sides_[1].data(), sides_[1].size(), p);
  }

  std::uint32_t level_index(Side s, Price p) const {
    if (!detail::valid_side(s)) return detail::kNil;
    const std::vector<Entry>& v = side_vec(s);
    const std::size_t pos = find_pos(s, p);
    return pos < v.size() && v[pos].price == p ? v[pos].level : detail::kNil;
  }

  std::uint32_t alloc_node() {
    if (free_nodes_ != detail::kNil) {
      const std::uint32_t n = free_nodes_;
      free_nodes_ = nodes_[n].next;
      return n;
    }
    nodes_.emplace_back();
    return static_cast<std::uint32_t>(nodes_.size() - 1);
  }
  void free_node(std::uint32_t n) {
    nodes_[n].level = detail::kNil;
    nodes_[n].next = free_nodes_;
    free_nodes_ = n;
  }

  std::uint32_t alloc_level(Side s, Price p) {
    std::uint32_t l;
    if (free_levels_ != detail::kNil) {
      l = free_levels_;
      free_levels_ = levels_[l].head;
    } else {
      levels_.emplace_back();
      l = static_cast<std::uint32_t>(levels_.size() - 1);
    }
    levels_[l] = LevelNode{p, 0, 0, detail::kNil, detail::kNil, 0, s};
    return l;
  }
  void free_level(std::uint32_t l) {
    levels_[l].side = Side::kNone;
    levels_[l].head = free_levels_;
    free_levels_ = l;
  }

  std::uint32_t find_or_create_level(Side s, Price p) {
    std::vector<Entry>& v = side_vec(s);
    const std::size_t pos = find_pos(s, p);
    if (pos < v.size() && v[pos].price == p) return v[pos].level;
    const std::uint32_t l = alloc_level(s, p);
    v.insert(v.begin() + static_cast<std::ptrdiff_t>(pos), Entry{p, l});
    return l;
  }

  // Erases level `l` (empty: no orders, no anonymous volume) from its side vector and the pool.
  void erase_level(std::uint32_t l) {
    const LevelNode& lv = levels_[l];
    std::vector<Entry>& v = side_vec(lv.side);
    const std::size_t pos = find_pos(lv.side, lv.price);
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(pos));
    free_level(l);
  }

  void link_tail(LevelNode& lv, std::uint32_t n) {
    Node& node = nodes_[n];
    node.prev = lv.tail;
    node.next = detail::kNil;
    if (lv.tail != detail::kNil) {
      nodes_[lv.tail].next = n;
    } else {
      lv.head = n;
    }
    lv.tail = n;
  }

  void unlink(LevelNode& lv, const Node& node) {
    if (node.prev != detail::kNil) {
      nodes_[node.prev].next = node.next;
    } else {
      lv.head = node.next;
    }
    if (node.next != detail::kNil) {
      nodes_[node.next].prev = node.prev;
    } else {
      lv.tail = node.prev;
    }
  }

  // Queues order n (qty set) at the tail of level l.
  void append(std::uint32_t l, std::uint32_t n) {
    LevelNode& lv = levels_[l];
    nodes_[n].level = l;
    link_tail(lv, n);
    lv.total += nodes_[n].qty;
    ++lv.count;
  }

  // Takes order n out of its level (erasing the level when it empties); n stays allocated.
  void detach(std::uint32_t n) {
    Node& node = nodes_[n];
    const std::uint32_t l = node.level;
    LevelNode& lv = levels_[l];
    unlink(lv, node);
    lv.total -= node.qty;
    --lv.count;
    if (lv.total == 0) erase_level(l);
  }

  void remove_order(std::size_t index_pos, std::uint32_t n) {
    detach(n);
    index_.erase_at(index_pos);
    free_node(n);
  }

  Errc reduce_at(std::size_t index_pos, Qty qty) {
    const std::uint32_t n = index_.value_at(index_pos);
    Node& node = nodes_[n];
    if (qty > node.qty) return Errc::kQtyExceedsOrder;
    if (qty == node.qty) {
      remove_order(index_pos, n);
    } else {
      node.qty -= qty;
      levels_[node.level].total -= qty;
    }
    return Errc::kOk;
  }

  std::vector<Node> nodes_;
  std::uint32_t free_nodes_ = detail::kNil;
  std::vector<LevelNode> levels_;
  std::uint32_t free_levels_ = detail::kNil;
  std::vector<Entry> sides_[2];  // [0] bids ascending, [1] asks descending: best at the back
  detail::OrderIndex index_;
  BookStats stats_;
};

static_assert(L3OrderBook<L3Book>);

inline std::string L3Book::check_internal() const {
  using std::to_string;
  std::vector<char> node_seen(nodes_.size(), 0);
  std::vector<char> level_seen(levels_.size(), 0);
  std::size_t live = 0;
  for (int si = 0; si < 2; ++si) {
    const Side s = si == 0 ? Side::kBid : Side::kAsk;
    const std::vector<Entry>& v = sides_[si];
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::string where = std::string("L3Book ") + mmkit::to_string(s) + " entry " +
                                to_string(i) + " (price " + to_string(v[i].price) + ")";
      if (i > 0 && (si == 0 ? v[i - 1].price >= v[i].price : v[i - 1].price <= v[i].price)) {
        return where + ": side vector unsorted";
      }
      if (v[i].level >= levels_.size() || level_seen[v[i].level]) {
        return where + ": bad or shared level index";
      }
      level_seen[v[i].level] = 1;
      const LevelNode& lv = levels_[v[i].level];
      if (lv.price != v[i].price || lv.side != s) return where + ": level price / side mismatch";
      if (lv.anonymous < 0 || lv.total <= 0) return where + ": empty or negative level";
      Qty sum = lv.anonymous;
      std::uint32_t count = 0;
      std::uint32_t prev = detail::kNil;
      for (std::uint32_t n = lv.head; n != detail::kNil; n = nodes_[n].next) {
        if (n >= nodes_.size() || node_seen[n]) return where + ": FIFO cycle or bad node index";
        node_seen[n] = 1;
        const Node& node = nodes_[n];
        if (node.prev != prev) return where + ": broken prev link";
        if (node.level != v[i].level) return where + ": order points to another level";
        if (node.qty <= 0) return where + ": order with qty <= 0";
        const std::size_t pos = index_.find(node.id);
        if (pos == detail::OrderIndex::npos || index_.value_at(pos) != n) {
          return where + ": order " + to_string(node.id) + " not indexed to its slot";
        }
        sum += node.qty;
        ++count;
        prev = n;
      }
      if (lv.tail != prev) return where + ": tail is not the last order";
      if (sum != lv.total) return where + ": total differs from anonymous + orders";
      if (count != lv.count) return where + ": count differs from the FIFO length";
      live += count;
    }
  }
  if (live != index_.size()) return "L3Book: index holds orders not in any level";
  std::size_t free_nodes = 0;
  for (std::uint32_t n = free_nodes_; n != detail::kNil; n = nodes_[n].next) {
    if (n >= nodes_.size() || node_seen[n]) return "L3Book: free order list corrupt";
    node_seen[n] = 1;
    ++free_nodes;
  }
  if (live + free_nodes != nodes_.size()) return "L3Book: leaked order slots";
  std::size_t free_levels = 0;
  for (std::uint32_t l = free_levels_; l != detail::kNil; l = levels_[l].head) {
    if (l >= levels_.size() || level_seen[l]) return "L3Book: free level list corrupt";
    level_seen[l] = 1;
    ++free_levels;
  }
  if (sides_[0].size() + sides_[1].size() + free_levels != levels_.size()) {
    return "L3Book: leaked level slots";
  }
  return {};
}

}  // namespace mmkit::book
