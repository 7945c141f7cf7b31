// L2Book: the fast price-level book. Same semantics and Errc as NaiveL2Book (naive_l2_book.h),
// checked by the typed and differential tests in tests/cpp/book_test.cpp.
//
// Layout: per side, the levels form one sequence sorted with the BEST level at the BACK (bids
// ascending, asks descending), stored as a vector of chunks of at most 64 levels (a B-tree of
// height 2; chunk entries are kept as price and qty arrays). Changes near the top touch the last
// chunk only and move few entries; changes deep in the book (Binance depth streams keep up to
// 5,000 levels a side and change them mostly 100-2,000 levels deep) move at most one chunk's
// entries instead of everything behind them. A price is located by a short linear scan from the
// back, then a branch-free binary search (detail::lower_bound_from_back), first over the chunks'
// worst prices, then inside the chunk. A chunk that falls to 8 levels merges into a neighbour
// with room. best(): O(1); level(s, i): O(1 + chunks ahead of level i). Chunks come from a pool
// with a free list: no allocation once the book has reached its largest depth.
// Not thread-safe; one writer.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mmkit/book/book.h"
#include "mmkit/book/naive_l2_book.h"
#include "mmkit/core/event.h"
#include "mmkit/core/types.h"

namespace mmkit::book {

namespace detail {

/// Levels checked one by one from the top before the binary search takes over.
inline constexpr std::size_t kLinearScanLevels = 8;

/// `d[0..n)` is sorted worst level first, best last (bids: ascending price, asks: descending).
/// Returns the first index whose level is at least as good as `p` (== p or better), i.e. the
/// position of `p` if present, else where it is inserted. `price_of(d[i])` gives the price.
template <bool kAskSide, class E, class PriceOf>
[[nodiscard]] inline std::size_t lower_bound_from_back(const E* d, std::size_t n, Price p,
                                                       PriceOf price_of) noexcept {
  auto worse = [](Price a, Price b) { return kAskSide ? a > b : a < b; };
  std::size_t j = n;
  for (std::size_t k = 0; k < kLinearScanLevels && j > 0; ++k) {
    if (worse(price_of(d[j - 1]), p)) return j;
    --j;
  }
  // Branch-free lower bound over [0, j) (a data-dependent branch here mispredicts half the
  // time on deep books).
  const E* base = d;
  std::size_t len = j;
  while (len > 1) {
    const std::size_t half = len / 2;
    base += static_cast<std::size_t>(worse(price_of(base[half - 1]), p)) * half;
    len -= half;
  }
  return static_cast<std::size_t>(base - d) + (len == 1 && worse(price_of(*base), p) ? 1 : 0);
}

/// Same, over elements with a member `Price price`.
template <bool kAskSide, class E>
[[nodiscard]] inline std::size_t lower_bound_from_back(const E* d, std::size_t n,
                                                       Price p) noexcept {
  return lower_bound_from_back<kAskSide>(d, n, p, [](const E& e) { return e.price; });
}

}  // namespace detail

class L2Book {
 public:
  L2Book() = default;
  /// Reserves room for about `levels_per_side` levels on each side.
  explicit L2Book(std::size_t levels_per_side) {
    const std::size_t chunks = levels_per_side / (kChunkCapacity / 2) + 2;
    pool_.reserve(2 * chunks);
    for (SideBook& sb : sides_) {
      sb.chunks.reserve(chunks);
      sb.fronts.reserve(chunks);
    }
  }

  /// Dispatches on e.kind (semantics: naive_l2_book.h).
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
    return s == Side::kBid ? set_level_impl<false>(sides_[0], price, qty)
                           : set_level_impl<true>(sides_[1], price, qty);
  }

  /// Empties the book; keeps the capacity.
  void clear() {
    pool_.clear();
    free_chunks_.clear();
    for (SideBook& sb : sides_) {
      sb.chunks.clear();
      sb.fronts.clear();
      sb.levels = 0;
    }
  }

  [[nodiscard]] Level best(Side s) const {
    if (!detail::valid_side(s)) return {};
    const SideBook& sb = side_book(s);
    if (sb.chunks.empty()) return {};
    const Chunk& c = pool_[sb.chunks.back()];
    return Level{c.price[c.size - 1], c.qty[c.size - 1], 0};
  }

  /// i-th level from the best; walks the chunks from the best one.
  [[nodiscard]] Level level(Side s, std::size_t i) const {
    if (!detail::valid_side(s)) return {};
    const SideBook& sb = side_book(s);
    if (i >= sb.levels) return {};
    for (std::size_t k = sb.chunks.size(); k-- > 0;) {
      const Chunk& c = pool_[sb.chunks[k]];
      if (i < c.size) return Level{c.price[c.size - 1 - i], c.qty[c.size - 1 - i], 0};
      i -= c.size;
    }
    return {};
  }

  [[nodiscard]] Level level_at(Side s, Price price) const {
    if (!detail::valid_side(s)) return {};
    const SideBook& sb = side_book(s);
    if (sb.chunks.empty()) return {};
    const Where w = s == Side::kBid ? locate<false>(sb, price) : locate<true>(sb, price);
    const Chunk& c = pool_[sb.chunks[w.chunk]];
    if (w.pos < c.size && c.price[w.pos] == price) return Level{price, c.qty[w.pos], 0};
    return {};
  }

  [[nodiscard]] std::size_t depth(Side s) const {
    return detail::valid_side(s) ? side_book(s).levels : 0;
  }

  [[nodiscard]] bool crossed() const {
    const Level b = best(Side::kBid);
    const Level a = best(Side::kAsk);
    return b.price != kNoPrice && a.price != kNoPrice && b.price >= a.price;
  }

  [[nodiscard]] const BookStats& stats() const { return stats_; }

  /// Layout invariants (called by check_invariants, book_check.h): "" when sound. O(levels).
  [[nodiscard]] std::string check_internal() const {
    std::size_t used = 0;
    for (int si = 0; si < 2; ++si) {
      const SideBook& sb = sides_[si];
      const std::string name = si == 0 ? "L2Book bid" : "L2Book ask";
      if (sb.fronts.size() != sb.chunks.size()) return name + ": fronts / chunks size mismatch";
      std::size_t levels = 0;
      bool have_prev = false;
      Price prev = 0;
      for (std::size_t k = 0; k < sb.chunks.size(); ++k) {
        if (sb.chunks[k] >= pool_.size()) return name + ": bad chunk index";
        const Chunk& c = pool_[sb.chunks[k]];
        if (c.size == 0 || c.size > kChunkCapacity) {
          return name + ": chunk " + std::to_string(k) + " has size " + std::to_string(c.size);
        }
        if (sb.fronts[k] != c.price[0]) return name + ": stale front of chunk " + std::to_string(k);
        for (std::uint32_t i = 0; i < c.size; ++i) {
          if (c.price[i] == kNoPrice || c.qty[i] <= 0) return name + ": bad entry";
          if (have_prev && (si == 0 ? prev >= c.price[i] : prev <= c.price[i])) {
            return name + ": unsorted at chunk " + std::to_string(k) + " entry " +
                   std::to_string(i);
          }
          prev = c.price[i];
          have_prev = true;
        }
        levels += c.size;
      }
      if (levels != sb.levels) return name + ": level count mismatch";
      used += sb.chunks.size();
    }
    if (used + free_chunks_.size() != pool_.size()) return "L2Book: leaked chunks";
    return {};
  }

 private:
  // Each side is one sorted sequence of levels, worst first and BEST LAST, cut into chunks of at
  // most kChunkCapacity levels (a B-tree of height 2): inserting or erasing a level moves at
  // most one chunk's entries, however deep the book (Binance books run to 5,000 levels a side
  // with most changes 100-2,000 levels deep). `chunks` lists pool indices in sequence order and
  // `fronts[k]` caches the worst price of chunk k for the search.
  static constexpr std::uint32_t kChunkCapacity = 64;
  struct Chunk {
    std::uint32_t size = 0;
    Price price[kChunkCapacity];
    Qty qty[kChunkCapacity];
  };
  struct SideBook {
    std::vector<std::uint32_t> chunks;
    std::vector<Price> fronts;
    std::size_t levels = 0;
  };
  struct Where {
    std::size_t chunk;  // index into SideBook::chunks
    std::uint32_t pos;  // lower bound of the price within the chunk
  };

  const SideBook& side_book(Side s) const { return sides_[s == Side::kAsk ? 1 : 0]; }

  // Chunk that holds (or would hold) `p`: the best-most chunk whose worst price is not better
  // than p (chunk 0 when p is worse than everything), found from the back; then the lower bound
  // inside it. Requires a non-empty side.
  template <bool kAskSide>
  Where locate(const SideBook& sb, Price p) const {
    constexpr auto self = [](Price x) { return x; };
    std::size_t k =
        detail::lower_bound_from_back<kAskSide>(sb.fronts.data(), sb.fronts.size(), p, self);
    // k = first chunk whose front is at least as good as p.
    if (k == sb.fronts.size() || sb.fronts[k] != p) k = k == 0 ? 0 : k - 1;
    const Chunk& c = pool_[sb.chunks[k]];
    return Where{k, static_cast<std::uint32_t>(
                        detail::lower_bound_from_back<kAskSide>(c.price, c.size, p, self))};
  }

  template <bool kAskSide>
  Errc set_level_impl(SideBook& sb, Price price, Qty qty) {
    if (sb.chunks.empty()) {
      if (qty == 0) return Errc::kOk;
      const std::uint32_t id = alloc_chunk();
      Chunk& c = pool_[id];
      c.size = 1;
      c.price[0] = price;
      c.qty[0] = qty;
      sb.chunks.push_back(id);
      sb.fronts.push_back(price);
      sb.levels = 1;
      return Errc::kOk;
    }
    const Where w = locate<kAskSide>(sb, price);
    Chunk& c = pool_[sb.chunks[w.chunk]];
    const bool found = w.pos < c.size && c.price[w.pos] == price;
    if (found) {
      if (qty != 0) {
        c.qty[w.pos] = qty;
      } else {
        erase_at(sb, w.chunk, w.pos);
      }
    } else if (qty != 0) {
      insert_at(sb, w.chunk, w.pos, price, qty);
    }
    return Errc::kOk;
  }

  std::uint32_t alloc_chunk() {
    if (!free_chunks_.empty()) {
      const std::uint32_t id = free_chunks_.back();
      free_chunks_.pop_back();
      pool_[id].size = 0;
      return id;
    }
    pool_.emplace_back();
    return static_cast<std::uint32_t>(pool_.size() - 1);
  }

  void insert_at(SideBook& sb, std::size_t k, std::uint32_t pos, Price price, Qty qty) {
    if (pool_[sb.chunks[k]].size == kChunkCapacity) {
      // Split: the better half moves to a new chunk k + 1.
      const std::uint32_t id = alloc_chunk();
      Chunk& full = pool_[sb.chunks[k]];
      Chunk& upper = pool_[id];
      constexpr std::uint32_t kKeep = kChunkCapacity / 2;
      upper.size = kChunkCapacity - kKeep;
      std::copy(full.price + kKeep, full.price + kChunkCapacity, upper.price);
      std::copy(full.qty + kKeep, full.qty + kChunkCapacity, upper.qty);
      full.size = kKeep;
      sb.chunks.insert(sb.chunks.begin() + static_cast<std::ptrdiff_t>(k + 1), id);
      sb.fronts.insert(sb.fronts.begin() + static_cast<std::ptrdiff_t>(k + 1), upper.price[0]);
      if (pos > kKeep) {
        ++k;
        pos -= kKeep;
      }
    }
    Chunk& c = pool_[sb.chunks[k]];
    std::copy_backward(c.price + pos, c.price + c.size, c.price + c.size + 1);
    std::copy_backward(c.qty + pos, c.qty + c.size, c.qty + c.size + 1);
    c.price[pos] = price;
    c.qty[pos] = qty;
    ++c.size;
    if (pos == 0) sb.fronts[k] = price;
    ++sb.levels;
  }

  void erase_at(SideBook& sb, std::size_t k, std::uint32_t pos) {
    Chunk& c = pool_[sb.chunks[k]];
    std::copy(c.price + pos + 1, c.price + c.size, c.price + pos);
    std::copy(c.qty + pos + 1, c.qty + c.size, c.qty + pos);
    --c.size;
    --sb.levels;
    if (c.size == 0) {
      free_chunks_.push_back(sb.chunks[k]);
      sb.chunks.erase(sb.chunks.begin() + static_cast<std::ptrdiff_t>(k));
      sb.fronts.erase(sb.fronts.begin() + static_cast<std::ptrdiff_t>(k));
      return;
    }
    if (pos == 0) sb.fronts[k] = c.price[0];
    // Merge a small chunk into a neighbour that has room, so chunks stay reasonably full.
    if (c.size <= kChunkCapacity / 8) {
      if (k + 1 < sb.chunks.size() && pool_[sb.chunks[k + 1]].size + c.size <= kChunkCapacity / 2) {
        merge_into_next(sb, k);
      } else if (k > 0 && pool_[sb.chunks[k - 1]].size + c.size <= kChunkCapacity / 2) {
        merge_into_next(sb, k - 1);
      }
    }
  }

  // Moves chunk k's entries to the front of chunk k + 1 and drops chunk k.
  void merge_into_next(SideBook& sb, std::size_t k) {
    Chunk& a = pool_[sb.chunks[k]];
    Chunk& b = pool_[sb.chunks[k + 1]];
    std::copy_backward(b.price, b.price + b.size, b.price + b.size + a.size);
    std::copy_backward(b.qty, b.qty + b.size, b.qty + b.size + a.size);
    std::copy(a.price, a.price + a.size, b.price);
    std::copy(a.qty, a.qty + a.size, b.qty);
    b.size += a.size;
    sb.fronts[k + 1] = b.price[0];
    free_chunks_.push_back(sb.chunks[k]);
    sb.chunks.erase(sb.chunks.begin() + static_cast<std::ptrdiff_t>(k));
    sb.fronts.erase(sb.fronts.begin() + static_cast<std::ptrdiff_t>(k));
  }

  std::vector<Chunk> pool_;
  std::vector<std::uint32_t> free_chunks_;
  SideBook sides_[2];  // [0] bids (ascending price), [1] asks (descending): best at the back
  BookStats stats_;
};

static_assert(OrderBook<L2Book>);

}  // namespace mmkit::book
