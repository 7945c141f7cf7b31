// The price-level book and event output shared by the order-flow generators (private to src/sim):
// SyntheticMarket (synthetic_market.cpp) and the agent-based market (agent_market.cpp).
//
// LevelBook is a ring of price levels indexed by tick & mask, a pool of order nodes with a free
// list, and the best / worst tick of each side. Prices are ticks (int64); which orders a level
// queues, and what a level or a side counts beyond that, is the generator's: it supplies
//   Level: tick (int64), head / tail (node index, kNil when none), count (orders; 0 = empty);
//   Node:  next (node index towards the back of the queue; the free-list link while free);
//   Side:  empty, best, worst (ticks; best stays at the last best price when the side empties).
// The generators derive from LevelBook and EventOutput privately, so their matching code reads
// the members directly.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "mmkit/core/event.h"
#include "mmkit/core/instrument.h"
#include "mmkit/core/types.h"

namespace mmkit::sim::level_book {

inline constexpr std::uint32_t kNil = 0xFFFFFFFFu;  ///< no node
inline constexpr int kBid = 0;
inline constexpr int kAsk = 1;

/// A generated instrument: whole lots (qty_decimals 0, lot_size 1), quoted in USD; tick_size in
/// raw price units.
inline InstrumentSpec generated_instrument(std::string_view symbol, std::string_view venue,
                                           std::int32_t price_decimals, Price tick_size) {
  InstrumentSpec spec;
  spec.set_symbol(symbol);
  spec.set_venue(venue);
  spec.set_currency("USD");
  spec.price_decimals = price_decimals;
  spec.qty_decimals = 0;
  spec.tick_size = tick_size;
  spec.lot_size = 1;
  return spec;
}

/// The three fields every generator's side carries.
struct SideTicks {
  bool empty = true;
  std::int64_t best = 0;   // ticks
  std::int64_t worst = 0;  // ticks; valid when !empty
};

template <class Level, class Node, class SideT>
class LevelBook {
 protected:
  /// A ring of at least `min_capacity` levels (a power of two, >= 1024) and room for
  /// `reserve_nodes` orders before the pool grows.
  void init_book(std::size_t min_capacity, std::size_t reserve_nodes) {
    std::size_t cap = 1024;
    while (cap < min_capacity) cap *= 2;
    ring_.assign(cap, Level{});
    mask_ = cap - 1;
    nodes_.reserve(reserve_nodes);
  }

  // ---- ring of price levels, indexed by tick & mask_; live ticks always span < capacity ----

  Level& level(std::int64_t tick) { return ring_[static_cast<std::uint64_t>(tick) & mask_]; }

  /// Grows the ring (a power of two) until the live ticks of both sides and `tick` fit.
  void ensure_room(std::int64_t tick) {
    std::int64_t lo = tick;
    std::int64_t hi = tick;
    for (int s = 0; s < 2; ++s) {
      if (side_[s].empty) continue;
      lo = std::min({lo, side_[s].best, side_[s].worst});
      hi = std::max({hi, side_[s].best, side_[s].worst});
    }
    if (static_cast<std::uint64_t>(hi - lo) < ring_.size()) return;
    std::size_t cap = ring_.size();
    while (static_cast<std::uint64_t>(hi - lo) >= cap) cap *= 2;
    std::vector<Level> next(cap, Level{});
    for (const Level& l : ring_) {
      if (l.count != 0) next[static_cast<std::uint64_t>(l.tick) & (cap - 1)] = l;
    }
    ring_.swap(next);
    mask_ = cap - 1;
  }

  // ---- order pool ----

  std::uint32_t alloc_node() {
    if (free_ != kNil) {
      const std::uint32_t n = free_;
      free_ = nodes_[n].next;
      return n;
    }
    nodes_.emplace_back();
    return static_cast<std::uint32_t>(nodes_.size() - 1);
  }
  void free_node(std::uint32_t n) {
    nodes_[n].next = free_;
    free_ = n;
  }

  // ---- best / worst ----

  /// An order now rests at (s, tick): widens side s's best / worst to it.
  void widen(int s, std::int64_t tick) {
    SideT& b = side_[s];
    if (b.empty) {
      b.empty = false;
      b.best = b.worst = tick;
    } else if (s == kBid) {
      b.best = std::max(b.best, tick);
      b.worst = std::min(b.worst, tick);
    } else {
      b.best = std::min(b.best, tick);
      b.worst = std::max(b.worst, tick);
    }
  }

  /// The first non-empty level from `tick` (exclusive) stepping by `step` (±1); one must exist.
  std::int64_t next_live(std::int64_t tick, std::int64_t step) {
    std::int64_t p = tick + step;
    while (level(p).count == 0) p += step;
    return p;
  }

  /// Level (s, tick) just became empty: moves best / worst inwards, or marks the side empty
  /// (best keeps the last best price) and returns true.
  bool vacate(int s, std::int64_t tick) {
    SideT& b = side_[s];
    if (b.best == b.worst) {
      b.empty = true;
      return true;
    }
    const std::int64_t away = s == kBid ? -1 : 1;  // from the best towards the worst
    if (tick == b.best) {
      b.best = next_live(tick, away);
    } else if (tick == b.worst) {
      b.worst = next_live(tick, -away);
    }
    return false;
  }

  std::vector<Level> ring_;
  std::uint64_t mask_ = 0;
  std::vector<Node> nodes_;
  std::uint32_t free_ = kNil;
  SideT side_[2];
  OrderId next_id_ = 1;
};

/// The caller's batch of a read() plus the events of a step that did not fit in it.
class EventOutput {
 protected:
  /// Starts a read() into out[0, capacity): copies what is pending first.
  void begin_read(Event* out, std::size_t capacity) {
    out_ = out;
    cap_ = capacity;
    n_ = 0;
    if (pending_pos_ < pending_.size()) {
      const std::size_t k = std::min(capacity, pending_.size() - pending_pos_);
      std::copy_n(pending_.data() + pending_pos_, k, out);
      pending_pos_ += k;
      n_ = k;
      if (pending_pos_ == pending_.size()) {
        pending_.clear();
        pending_pos_ = 0;
      }
    }
  }

  /// Writes the next event (flags 0, instrument 0, seq = record + 1): into the caller's batch,
  /// or pending when it is full.
  Event* put(EventKind kind, int s, TimestampNs exch_ts_ns, std::int64_t latency_ns, Price price, Qty qty,
             OrderId id, std::uint64_t record) {
    Event* e;
    if (n_ < cap_) {
      e = out_ + n_++;
    } else {
      pending_.emplace_back();
      e = &pending_.back();
    }
    e->exch_ts_ns = exch_ts_ns;
    e->local_ts_ns = exch_ts_ns + latency_ns;
    e->price = price;
    e->qty = qty;
    e->order_id = id;
    e->seq = record + 1;
    e->record = record;
    e->instrument_id = 0;
    e->kind = kind;
    e->side = s == kBid ? Side::kBid : Side::kAsk;
    e->flags = 0;
    return e;
  }

  Event* out_ = nullptr;
  std::size_t cap_ = 0;
  std::size_t n_ = 0;
  std::vector<Event> pending_;  // events of a step that did not fit in the caller's buffer
  std::size_t pending_pos_ = 0;
};

}  // namespace mmkit::sim::level_book
