// Order-book micro-benchmarks: the fast books (L3Book, L2Book) against the naive reference books
// (NaiveL3Book, NaiveL2Book), same operation sequences, items/s (ns/op = 1e9 / items_per_second).
//
// Book shape (all L3 benchmarks): 10,000 resting orders on both sides of a mid, prices within
// 100 ticks, offset from the top drawn with P(k) ∝ 0.85^k (about half of the orders and most of
// the activity within the top 5 ticks), sizes 1..100. Every operation sequence is generated
// before the timed loop; the timed loop holds no clock call except as noted:
//  - Add / Cancel / Execute: timed batches of kBatch = 1024 operations; the book is restored
//    after each batch under PauseTiming (a Pause/Resume pair leaks about 435 ns into the timing
//    on this machine, i.e. < 0.5 ns per operation).
//  - AddCancel, Modify, LevelUpdate: sequences that keep the book in steady state by themselves,
//    no pausing at all.
//  - Replay: a synthetic L3 event stream (45% add, 40% cancel, 10% execution, 5% modify; adds
//    and executions near the top) through apply(const Event&); the book is reset under
//    PauseTiming once per 1,000,000 events.
//  - ReplayLatency: the same synthetic stream, each apply() timed alone with serialized TSC
//    reads (lfence; rdtsc) to give per-event latency percentiles (p50_ns ... p999_ns, the median
//    cost of an empty timer pair subtracted, reported as timer_overhead_ns). This is the one
//    benchmark with clock reads in its loop; read its percentiles, not its items/s.
//  - Replay<File>: real event streams (Databento CME MBO ESH4, LOBSTER GOOG level 10, Binance
//    USD-M BTCUSDT depth) read into memory with mmkit::data::open_source, then replayed through
//    apply(); skipped when the data or the reader is unavailable (MMKIT_DATA_DIR, default
//    ../shared/data from the repo root).
// items_per_second is computed from CPU time (Google Benchmark's default): the machine is shared,
// so compare fast and naive from the same run, as a ratio.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "mmkit/book/l2_book.h"
#include "mmkit/book/l3_book.h"
#include "mmkit/book/naive_l2_book.h"
#include "mmkit/book/naive_l3_book.h"
#include "mmkit/core/event.h"
#include "mmkit/data/source.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace {

using mmkit::Errc;
using mmkit::Event;
using mmkit::EventKind;
using mmkit::OrderId;
using mmkit::Price;
using mmkit::Qty;
using mmkit::Side;
using namespace mmkit::book;

constexpr Price kMid = 1'000'000;
constexpr Price kTicks = 100;
constexpr std::size_t kRestingOrders = 10'000;
constexpr std::size_t kBatch = 1024;
constexpr std::size_t kRounds = 64;  // distinct pre-generated batches, cycled

/// Distance from the top of the book in ticks, in [0, kTicks): P(k) ∝ 0.85^k.
Price draw_offset(std::mt19937_64& rng) {
  static std::geometric_distribution<int> geo(0.15);
  for (;;) {
    const int k = geo(rng);
    if (k < kTicks) return k;
  }
}

Price price_at(Side s, Price offset) {
  return s == Side::kBid ? kMid - 1 - offset : kMid + 1 + offset;
}

/// Order size, 1..100.
Qty draw_qty(std::mt19937_64& rng) { return static_cast<Qty>(rng() % 100 + 1); }

/// A part of q (> 1): 1..q-1.
Qty part_of(Qty q, std::mt19937_64& rng) {
  return 1 + static_cast<Qty>(rng() % static_cast<std::uint64_t>(q - 1));
}

struct Resting {
  OrderId id;
  Side side;
  Price price;
  Qty qty;
  Price offset;
};

std::vector<Resting> initial_orders(std::mt19937_64& rng) {
  std::vector<Resting> out;
  out.reserve(kRestingOrders);
  for (std::size_t i = 0; i < kRestingOrders; ++i) {
    const Side s = i % 2 ? Side::kAsk : Side::kBid;
    const Price off = draw_offset(rng);
    out.push_back({1'000'000'000'000ull + i * 7, s, price_at(s, off), draw_qty(rng), off});
  }
  return out;
}

template <class B>
void load(B& book, const std::vector<Resting>& orders) {
  book.clear();
  for (const Resting& o : orders) {
    if (book.add(o.id, o.side, o.price, o.qty) != Errc::kOk) std::abort();
  }
}

template <class B>
void finish(benchmark::State& state, std::size_t ops_per_iteration, std::size_t errors) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * ops_per_iteration));
  if (errors != 0) state.SkipWithError("an operation did not return kOk");
}

// ---------------------------------------------------------------------------------------------
// L3 operations.

template <class B>
void BM_Add(benchmark::State& state) {
  std::mt19937_64 rng(1);
  const auto init = initial_orders(rng);
  B book;
  load(book, init);
  std::vector<Resting> adds;
  for (std::size_t i = 0; i < kBatch * kRounds; ++i) {
    const Side s = rng() % 2 ? Side::kAsk : Side::kBid;
    const Price off = draw_offset(rng);
    adds.push_back({2'000'000'000'000ull + i, s, price_at(s, off), draw_qty(rng), off});
  }
  std::size_t round = 0;
  std::size_t errors = 0;
  for (auto _ : state) {
    const Resting* batch = adds.data() + round * kBatch;
    for (std::size_t i = 0; i < kBatch; ++i) {
      errors += book.add(batch[i].id, batch[i].side, batch[i].price, batch[i].qty) != Errc::kOk;
    }
    state.PauseTiming();
    for (std::size_t i = 0; i < kBatch; ++i) {
      errors += book.cancel(batch[i].id, batch[i].qty) != Errc::kOk;
    }
    round = (round + 1) % kRounds;
    state.ResumeTiming();
  }
  finish<B>(state, kBatch, errors);
}

template <class B>
void BM_Cancel(benchmark::State& state) {
  std::mt19937_64 rng(2);
  const auto init = initial_orders(rng);
  B book;
  load(book, init);
  // Each round cancels kBatch distinct resting orders (uniform over orders, hence mostly near
  // the top), which are re-added (with their original size) under PauseTiming.
  std::vector<std::uint32_t> picks;
  for (std::size_t r = 0; r < kRounds; ++r) {
    std::vector<std::uint32_t> perm(init.size());
    for (std::uint32_t i = 0; i < perm.size(); ++i) perm[i] = i;
    std::shuffle(perm.begin(), perm.end(), rng);
    picks.insert(picks.end(), perm.begin(), perm.begin() + kBatch);
  }
  std::size_t round = 0;
  std::size_t errors = 0;
  for (auto _ : state) {
    const std::uint32_t* batch = picks.data() + round * kBatch;
    for (std::size_t i = 0; i < kBatch; ++i) {
      const Resting& o = init[batch[i]];
      errors += book.cancel(o.id, o.qty) != Errc::kOk;
    }
    state.PauseTiming();
    for (std::size_t i = 0; i < kBatch; ++i) {
      const Resting& o = init[batch[i]];
      errors += book.add(o.id, o.side, o.price, o.qty) != Errc::kOk;
    }
    round = (round + 1) % kRounds;
    state.ResumeTiming();
  }
  finish<B>(state, kBatch, errors);
}

template <class B>
void BM_Execute(benchmark::State& state) {
  std::mt19937_64 rng(3);
  const auto init = initial_orders(rng);
  B book;
  load(book, init);
  // Executions hit distinct orders within the top 3 ticks; 60% take the whole order, 40% part.
  // The executed orders are restored (remainder cancelled, original re-added) under PauseTiming.
  std::vector<std::uint32_t> near_top;
  for (std::uint32_t i = 0; i < init.size(); ++i) {
    if (init[i].offset < 3) near_top.push_back(i);
  }
  if (near_top.size() < kBatch) std::abort();
  struct Exec {
    std::uint32_t order;
    Qty qty;
  };
  std::vector<Exec> execs;
  for (std::size_t r = 0; r < kRounds; ++r) {
    std::shuffle(near_top.begin(), near_top.end(), rng);
    for (std::size_t i = 0; i < kBatch; ++i) {
      const Qty q = init[near_top[i]].qty;
      execs.push_back({near_top[i], rng() % 10 < 6 || q == 1 ? q : part_of(q, rng)});
    }
  }
  std::size_t round = 0;
  std::size_t errors = 0;
  for (auto _ : state) {
    const Exec* batch = execs.data() + round * kBatch;
    for (std::size_t i = 0; i < kBatch; ++i) {
      errors += book.execute(init[batch[i].order].id, batch[i].qty) != Errc::kOk;
    }
    state.PauseTiming();
    for (std::size_t i = 0; i < kBatch; ++i) {
      const Resting& o = init[batch[i].order];
      if (batch[i].qty < o.qty) errors += book.cancel(o.id, o.qty - batch[i].qty) != Errc::kOk;
      errors += book.add(o.id, o.side, o.price, o.qty) != Errc::kOk;
    }
    round = (round + 1) % kRounds;
    state.ResumeTiming();
  }
  finish<B>(state, kBatch, errors);
}

template <class B>
void BM_AddCancel(benchmark::State& state) {
  std::mt19937_64 rng(4);
  const auto init = initial_orders(rng);
  B book;
  load(book, init);
  // Alternating add / cancel: op 2k adds a new order near the top, op 2k+1 cancels a uniformly
  // chosen resting order, so the book stays at 10,000 orders with no pausing. The sequence is
  // generated by simulating the set of resting orders; it ends where it began (same set), so it
  // can be cycled.
  struct Op {
    OrderId id;
    Side side;
    Price price;
    Qty qty;
    bool add;
  };
  constexpr std::size_t kPairs = 1 << 17;
  std::vector<Resting> live = init;
  std::vector<Op> ops;
  ops.reserve(2 * kPairs + 2 * init.size());
  for (std::size_t i = 0; i < kPairs; ++i) {
    const Side s = rng() % 2 ? Side::kAsk : Side::kBid;
    const Price off = draw_offset(rng);
    const Resting n{3'000'000'000'000ull + i, s, price_at(s, off), draw_qty(rng), off};
    ops.push_back({n.id, n.side, n.price, n.qty, true});
    live.push_back(n);
    const std::size_t k = rng() % live.size();
    ops.push_back({live[k].id, live[k].side, live[k].price, live[k].qty, false});
    live[k] = live.back();
    live.pop_back();
  }
  // Return to the initial set: cancel what remains of the generated orders, re-add what was
  // cancelled of the initial ones (pairwise, to keep alternating).
  std::unordered_map<OrderId, bool> resting;
  for (const Resting& o : live) resting[o.id] = true;
  std::vector<Resting> gone;
  for (const Resting& o : init) {
    if (!resting.count(o.id)) gone.push_back(o);
  }
  std::vector<Resting> extra;
  for (const Resting& o : live) {
    if (o.id >= 3'000'000'000'000ull) extra.push_back(o);
  }
  if (gone.size() != extra.size()) std::abort();
  for (std::size_t i = 0; i < gone.size(); ++i) {
    ops.push_back({gone[i].id, gone[i].side, gone[i].price, gone[i].qty, true});
    ops.push_back({extra[i].id, extra[i].side, extra[i].price, extra[i].qty, false});
  }
  std::size_t errors = 0;
  for (auto _ : state) {
    for (const Op& op : ops) {
      const Errc r =
          op.add ? book.add(op.id, op.side, op.price, op.qty) : book.cancel(op.id, op.qty);
      errors += r != Errc::kOk;
    }
  }
  finish<B>(state, ops.size(), errors);
}

template <class B>
void BM_Modify(benchmark::State& state) {
  std::mt19937_64 rng(5);
  const auto init = initial_orders(rng);
  B book;
  load(book, init);
  // Modifies of uniformly chosen orders: 1/3 move to a new price near the top (same side), 2/3
  // take a new size 1..100 at the same price (about half decreases, keeping priority, and half
  // increases, losing it). Never removes an order, so the sequence is valid when cycled.
  struct Op {
    OrderId id;
    Price price;
    Qty qty;
  };
  std::vector<Price> price_of(init.size());
  for (std::size_t i = 0; i < init.size(); ++i) price_of[i] = init[i].price;
  std::vector<Op> ops;
  constexpr std::size_t kOps = 1 << 18;
  for (std::size_t i = 0; i < kOps; ++i) {
    const std::size_t k = rng() % init.size();
    if (rng() % 3 == 0) price_of[k] = price_at(init[k].side, draw_offset(rng));
    ops.push_back({init[k].id, price_of[k], draw_qty(rng)});
  }
  std::size_t errors = 0;
  for (auto _ : state) {
    for (const Op& op : ops) errors += book.modify(op.id, op.price, op.qty) != Errc::kOk;
  }
  finish<B>(state, ops.size(), errors);
}

// ---------------------------------------------------------------------------------------------
// L2 level updates.

template <class B>
void BM_LevelUpdate(benchmark::State& state) {
  std::mt19937_64 rng(6);
  // Levels within 1000 ticks of the mid on each side (offsets drawn as above, plus a uniform
  // 10% over the whole range, as in a 1000-level Binance depth book); 25% of the updates remove
  // a level, so about 740 levels per side stand in steady state.
  struct Op {
    Side side;
    Price price;
    Qty qty;
  };
  auto draw = [&]() -> Op {
    const Side s = rng() % 2 ? Side::kAsk : Side::kBid;
    const Price off = rng() % 10 == 0 ? static_cast<Price>(rng() % 1000) : draw_offset(rng);
    const Qty q = rng() % 4 == 0 ? 0 : static_cast<Qty>(rng() % 100'000 + 1);
    return {s, price_at(s, off), q};
  };
  B book;
  for (int i = 0; i < 200'000; ++i) {
    const Op op = draw();
    (void)book.set_level(op.side, op.price, op.qty);
  }
  std::vector<Op> ops;
  constexpr std::size_t kOps = 1 << 18;
  for (std::size_t i = 0; i < kOps; ++i) ops.push_back(draw());
  std::size_t errors = 0;
  for (auto _ : state) {
    for (const Op& op : ops) errors += book.set_level(op.side, op.price, op.qty) != Errc::kOk;
  }
  state.counters["bid_depth"] = static_cast<double>(book.depth(Side::kBid));
  finish<B>(state, ops.size(), errors);
}

// ---------------------------------------------------------------------------------------------
// Replay of a synthetic L3 stream through apply().

struct Stream {
  std::vector<Event> initial;  // builds the starting book (not timed)
  std::vector<Event> events;   // timed
};

const Stream& synthetic_stream() {
  static const Stream stream = [] {
    constexpr std::size_t kEvents = 1'000'000;
    std::mt19937_64 rng(7);
    Stream st;
    L3Book sim(2 * kRestingOrders);
    std::vector<OrderId> live;
    std::unordered_map<OrderId, std::size_t> slot;
    OrderId next_id = 5'000'000'000'000ull;
    std::uint64_t seq = 0;
    auto make = [&](EventKind k, OrderId id, Side s, Price p, Qty q) {
      Event e;
      e.exch_ts_ns = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(seq) * 1000;
      e.local_ts_ns = e.exch_ts_ns + 5000;
      e.kind = k;
      e.order_id = id;
      e.side = s;
      e.price = p;
      e.qty = q;
      e.seq = e.record = seq++;
      e.flags = mmkit::event_flags::kEndOfRecord | mmkit::event_flags::kComplete;
      return e;
    };
    auto forget = [&](OrderId id) {
      const std::size_t k = slot.at(id);
      live[k] = live.back();
      slot[live[k]] = k;
      live.pop_back();
      slot.erase(id);
    };
    auto emit = [&](std::vector<Event>& out, const Event& e) {
      if (sim.apply(e) != Errc::kOk) std::abort();
      out.push_back(e);
      if (e.kind == EventKind::kAdd) {
        slot[e.order_id] = live.size();
        live.push_back(e.order_id);
      } else if (!sim.contains(e.order_id)) {
        forget(e.order_id);
      }
    };
    auto add = [&](std::vector<Event>& out) {
      const Side s = rng() % 2 ? Side::kAsk : Side::kBid;
      emit(out, make(EventKind::kAdd, next_id++, s, price_at(s, draw_offset(rng)), draw_qty(rng)));
    };
    for (std::size_t i = 0; i < kRestingOrders; ++i) add(st.initial);
    st.events.reserve(kEvents);
    while (st.events.size() < kEvents) {
      unsigned r = static_cast<unsigned>(rng() % 100);
      if (r < 45 && live.size() > kRestingOrders * 11 / 10) r = 50;
      if (r >= 45 && r < 85 && live.size() < kRestingOrders * 9 / 10) r = 0;
      if (r < 45) {
        add(st.events);
      } else if (r < 85) {
        const OrderId id = live[rng() % live.size()];
        const auto o = *sim.order(id);
        const Qty q = rng() % 10 == 0 && o.qty > 1 ? part_of(o.qty, rng) : o.qty;
        emit(st.events, make(EventKind::kCancel, id, o.side, o.price, q));
      } else if (r < 95) {
        const Side s = rng() % 2 ? Side::kAsk : Side::kBid;
        const Level top = sim.best(s);
        OrderId front = 0;
        Qty front_qty = 0;
        bool first = true;
        sim.for_each_order(s, top.price, [&](OrderId id, Qty q) {
          if (!first) return;
          front = id;
          front_qty = q;
          first = false;
        });
        if (first) continue;
        const Qty q = rng() % 10 < 6 || front_qty == 1 ? front_qty : part_of(front_qty, rng);
        emit(st.events, make(EventKind::kExecution, front, s, top.price, q));
      } else {
        const OrderId id = live[rng() % live.size()];
        const auto o = *sim.order(id);
        Price p = o.price;
        Qty q = o.qty;
        switch (rng() % 5) {
          case 0:
          case 1: q = o.qty > 1 ? 1 + static_cast<Qty>(rng() % (o.qty - 1)) : 1; break;
          case 2: q = o.qty + 1 + static_cast<Qty>(rng() % 50); break;
          default: p = price_at(o.side, draw_offset(rng)); break;
        }
        emit(st.events, make(EventKind::kModify, id, o.side, p, q));
      }
    }
    return st;
  }();
  return stream;
}

template <class B>
void replay(benchmark::State& state, const std::vector<Event>& initial,
            const std::vector<Event>& events) {
  B book;
  std::size_t errors = 0;
  for (auto _ : state) {
    state.PauseTiming();
    book.clear();
    for (const Event& e : initial) errors += book.apply(e) != Errc::kOk;
    state.ResumeTiming();
    for (const Event& e : events) errors += book.apply(e) != Errc::kOk;
  }
  benchmark::DoNotOptimize(book.best(Side::kBid));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * events.size()));
  state.counters["events"] = static_cast<double>(events.size());
  if (errors != 0) state.SkipWithError("an event did not return kOk");
}

template <class B>
void BM_Replay(benchmark::State& state) {
  const Stream& st = synthetic_stream();
  replay<B>(state, st.initial, st.events);
  std::size_t kinds[mmkit::kEventKindCount] = {};
  for (const Event& e : st.events) ++kinds[static_cast<int>(e.kind)];
  auto share = [&](EventKind k) {
    return static_cast<double>(kinds[static_cast<int>(k)]) / static_cast<double>(st.events.size());
  };
  state.counters["add"] = share(EventKind::kAdd);
  state.counters["cancel"] = share(EventKind::kCancel);
  state.counters["exec"] = share(EventKind::kExecution);
  state.counters["modify"] = share(EventKind::kModify);
}

// ---------------------------------------------------------------------------------------------
// Per-event latency percentiles on the synthetic stream.

inline std::uint64_t ticks() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_lfence();
  const std::uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
#else
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

template <class B>
void BM_ReplayLatency(benchmark::State& state) {
  const Stream& st = synthetic_stream();
  B book;
  std::vector<std::uint32_t> lat(st.events.size());
  std::size_t errors = 0;
  double ns_per_tick = 0;
  for (auto _ : state) {
    state.PauseTiming();
    book.clear();
    for (const Event& e : st.initial) errors += book.apply(e) != Errc::kOk;
    state.ResumeTiming();
    const auto c0 = std::chrono::steady_clock::now();
    const std::uint64_t t0 = ticks();
    for (std::size_t i = 0; i < st.events.size(); ++i) {
      const std::uint64_t a = ticks();
      errors += book.apply(st.events[i]) != Errc::kOk;
      const std::uint64_t b = ticks();
      lat[i] = static_cast<std::uint32_t>(std::min<std::uint64_t>(b - a, 0xFFFFFFFFu));
    }
    const std::uint64_t t1 = ticks();
    const auto c1 = std::chrono::steady_clock::now();
    ns_per_tick = std::chrono::duration<double, std::nano>(c1 - c0).count() /
                  static_cast<double>(t1 - t0);
  }
  std::vector<std::uint32_t> empty(100'000);
  for (std::uint32_t& x : empty) {
    const std::uint64_t a = ticks();
    const std::uint64_t b = ticks();
    x = static_cast<std::uint32_t>(b - a);
  }
  std::nth_element(empty.begin(), empty.begin() + empty.size() / 2, empty.end());
  const double overhead = empty[empty.size() / 2];
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double q) {
    const double t = lat[std::min(lat.size() - 1, static_cast<std::size_t>(q * lat.size()))];
    return std::max(0.0, t - overhead) * ns_per_tick;
  };
  state.counters["p50_ns"] = pct(0.50);
  state.counters["p90_ns"] = pct(0.90);
  state.counters["p99_ns"] = pct(0.99);
  state.counters["p999_ns"] = pct(0.999);
  state.counters["timer_overhead_ns"] = overhead * ns_per_tick;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * st.events.size()));
  if (errors != 0) state.SkipWithError("an event did not return kOk");
}

// ---------------------------------------------------------------------------------------------
// Replay of real event streams (read once into memory).

// MMKIT_DATA_DIR, else <repo root>/../shared/data with the root from MMKIT_SOURCE_DIR or, failing
// that, from this file's path.
std::filesystem::path data_dir() {
  if (const char* d = std::getenv("MMKIT_DATA_DIR"); d != nullptr && *d != 0) return d;
  if (const char* r = std::getenv("MMKIT_SOURCE_DIR"); r != nullptr && *r != 0) {
    return std::filesystem::path(r) / ".." / "shared" / "data";
  }
  return std::filesystem::path(__FILE__).parent_path().parent_path() / ".." / "shared" / "data";
}

struct FileStream {
  std::vector<Event> events;
  std::string error;  // why the stream is unavailable
  std::uint64_t rejected = 0;  // events the fast book did not accept (the reader's business)
};

const FileStream& file_stream(const std::string& relative) {
  static std::unordered_map<std::string, FileStream> cache;
  auto it = cache.find(relative);
  if (it != cache.end()) return it->second;
  FileStream fs;
  const auto path = data_dir() / relative;
  if (!std::filesystem::exists(path)) {
    fs.error = "data file absent: " + path.string();
  } else {
    try {
      auto src = mmkit::data::open_source({path.string()});
      std::vector<Event> buf(1 << 14);
      while (const std::size_t n = src->read(buf.data(), buf.size())) {
        fs.events.insert(fs.events.end(), buf.begin(),
                         buf.begin() + static_cast<std::ptrdiff_t>(n));
      }
    } catch (const std::exception& ex) {
      fs.error = std::string("reader failed: ") + ex.what();
      fs.events.clear();
    }
  }
  return cache.emplace(relative, std::move(fs)).first->second;
}

template <class B>
void replay_file(benchmark::State& state, const std::string& relative) {
  const FileStream& fs = file_stream(relative);
  if (!fs.error.empty() || fs.events.empty()) {
    state.SkipWithError(fs.error.empty() ? "no events" : fs.error.c_str());
    for (auto _ : state) {
    }
    return;
  }
  B book;
  std::size_t not_ok = 0;
  for (auto _ : state) {
    book.clear();  // O(capacity); included in the timing, negligible against the stream
    for (const Event& e : fs.events) not_ok += book.apply(e) != Errc::kOk;
  }
  benchmark::DoNotOptimize(book.best(Side::kBid));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * fs.events.size()));
  state.counters["events"] = static_cast<double>(fs.events.size());
  const auto passes = std::max<std::int64_t>(1, static_cast<std::int64_t>(state.iterations()));
  state.counters["not_ok_per_pass"] = static_cast<double>(not_ok) / static_cast<double>(passes);
}

template <class B>
void BM_ReplayCmeMbo(benchmark::State& state) {
  replay_file<B>(state, "cme_mbo/esh4-glbx-mdp3-20231225.mbo.dbn.zst");
}

template <class B>
void BM_ReplayLobsterGoog10(benchmark::State& state) {
  replay_file<B>(state, "lobster/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip");
}

template <class B>
void BM_ReplayBinanceUsdm(benchmark::State& state) {
  replay_file<B>(state, "binance_l2/usdm/btcusdt_20240808.gz");
}

}  // namespace

#define MMKIT_BOOK_BENCH(Type, Op) \
  BENCHMARK_TEMPLATE(BM_##Op, Type)->Name("BM_" #Type "_" #Op)

MMKIT_BOOK_BENCH(L3Book, Add);
MMKIT_BOOK_BENCH(NaiveL3Book, Add);
MMKIT_BOOK_BENCH(L3Book, Cancel);
MMKIT_BOOK_BENCH(NaiveL3Book, Cancel);
MMKIT_BOOK_BENCH(L3Book, Execute);
MMKIT_BOOK_BENCH(NaiveL3Book, Execute);
MMKIT_BOOK_BENCH(L3Book, AddCancel);
MMKIT_BOOK_BENCH(NaiveL3Book, AddCancel);
MMKIT_BOOK_BENCH(L3Book, Modify);
MMKIT_BOOK_BENCH(NaiveL3Book, Modify);
MMKIT_BOOK_BENCH(L2Book, LevelUpdate);
MMKIT_BOOK_BENCH(NaiveL2Book, LevelUpdate);
MMKIT_BOOK_BENCH(L3Book, Replay)->Unit(benchmark::kMillisecond);
MMKIT_BOOK_BENCH(NaiveL3Book, Replay)->Unit(benchmark::kMillisecond);
MMKIT_BOOK_BENCH(L3Book, ReplayLatency)->Unit(benchmark::kMillisecond)->Iterations(3);
MMKIT_BOOK_BENCH(NaiveL3Book, ReplayLatency)->Unit(benchmark::kMillisecond)->Iterations(3);
MMKIT_BOOK_BENCH(L3Book, ReplayCmeMbo)->Unit(benchmark::kMillisecond);
MMKIT_BOOK_BENCH(NaiveL3Book, ReplayCmeMbo)->Unit(benchmark::kMillisecond);
MMKIT_BOOK_BENCH(L3Book, ReplayLobsterGoog10)->Unit(benchmark::kMillisecond);
MMKIT_BOOK_BENCH(NaiveL3Book, ReplayLobsterGoog10)->Unit(benchmark::kMillisecond);
MMKIT_BOOK_BENCH(L2Book, ReplayBinanceUsdm)->Unit(benchmark::kMillisecond);
MMKIT_BOOK_BENCH(NaiveL2Book, ReplayBinanceUsdm)->Unit(benchmark::kMillisecond);
