// Order books: one typed suite over the naive reference books and the fast books, plus
// randomized differential tests (fast vs naive, Errc for Errc, level for level).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "mmkit/book/book.h"
#include "mmkit/book/book_check.h"
#include "mmkit/book/l2_book.h"
#include "mmkit/book/l3_book.h"
#include "mmkit/book/naive_l2_book.h"
#include "mmkit/book/naive_l3_book.h"
#include "mmkit/core/instrument.h"
#include "mmkit/data/source.h"
#include "real_data.h"

namespace mmkit::book {

void PrintTo(const Level& l, std::ostream* os) {
  *os << "Level{" << l.price << ", " << l.qty << ", " << l.order_count << "}";
}
void PrintTo(const OrderInfo& o, std::ostream* os) {
  *os << "OrderInfo{" << to_string(o.side) << ", " << o.price << ", " << o.qty << "}";
}

namespace {

using mmkit::test::data_dir;
using mmkit::test::under_ci;

constexpr Side kBid = Side::kBid;
constexpr Side kAsk = Side::kAsk;

Event make_event(EventKind kind, Side side = Side::kNone, Price price = kNoPrice, Qty qty = 0,
                 OrderId id = 0) {
  Event e;
  e.kind = kind;
  e.side = side;
  e.price = price;
  e.qty = qty;
  e.order_id = id;
  return e;
}
Event level_update(Side s, Price p, Qty q) { return make_event(EventKind::kLevelUpdate, s, p, q); }
Event add_event(OrderId id, Side s, Price p, Qty q) {
  return make_event(EventKind::kAdd, s, p, q, id);
}
Event cancel_event(OrderId id, Side s, Price p, Qty q) {
  return make_event(EventKind::kCancel, s, p, q, id);
}
Event exec_event(OrderId id, Side s, Price p, Qty q) {
  return make_event(EventKind::kExecution, s, p, q, id);
}

template <class B>
std::vector<Level> levels(const B& b, Side s) {
  std::vector<Level> out;
  for (std::size_t i = 0; i < b.depth(s); ++i) out.push_back(b.level(s, i));
  return out;
}

template <class B>
std::vector<std::pair<OrderId, Qty>> queue(const B& b, Side s, Price p) {
  std::vector<std::pair<OrderId, Qty>> out;
  b.for_each_order(s, p, [&](OrderId id, Qty q) { out.emplace_back(id, q); });
  return out;
}

using Queue = std::vector<std::pair<OrderId, Qty>>;

// ---------------------------------------------------------------------------------------------
// Common suite: every book.

template <class B>
class AnyBook : public ::testing::Test {
 protected:
  B book;
};
using AllBooks = ::testing::Types<NaiveL2Book, L2Book, NaiveL3Book, L3Book>;
TYPED_TEST_SUITE(AnyBook, AllBooks);

TYPED_TEST(AnyBook, EmptyBookHasNoLevels) {
  auto& b = this->book;
  EXPECT_EQ(b.best(kBid), Level{});
  EXPECT_EQ(b.best(kAsk), Level{});
  EXPECT_EQ(b.level(kBid, 3), Level{});
  EXPECT_EQ(b.depth(kBid), 0u);
  EXPECT_EQ(b.depth(kAsk), 0u);
  EXPECT_EQ(b.depth(Side::kNone), 0u);
  EXPECT_FALSE(b.crossed());
  EXPECT_EQ(check_invariants(b), "");
}

TYPED_TEST(AnyBook, LevelsAreSortedFromTheBestAndPastTheDepthIsEmpty) {
  auto& b = this->book;
  for (Price p : {101, 99, 100, 97}) ASSERT_EQ(b.apply(level_update(kBid, p, p * 10)), Errc::kOk);
  for (Price p : {105, 103, 104}) ASSERT_EQ(b.apply(level_update(kAsk, p, p)), Errc::kOk);
  EXPECT_EQ(b.depth(kBid), 4u);
  EXPECT_EQ(b.depth(kAsk), 3u);
  const std::vector<Price> bid_prices = {101, 100, 99, 97};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(b.level(kBid, i).price, bid_prices[i]);
    EXPECT_EQ(b.level(kBid, i).qty, bid_prices[i] * 10);
  }
  EXPECT_EQ(b.level(kAsk, 0).price, 103);
  EXPECT_EQ(b.level(kAsk, 1).price, 104);
  EXPECT_EQ(b.level(kAsk, 2).price, 105);
  EXPECT_EQ(b.level(kAsk, 2).qty, 105);
  EXPECT_EQ(b.level(kBid, 4), Level{});
  EXPECT_EQ(b.level(kAsk, 3), Level{});
  EXPECT_EQ(b.level(kAsk, 1000), Level{});
  EXPECT_EQ(b.best(kBid).price, 101);
  EXPECT_EQ(b.best(kAsk).price, 103);
  EXPECT_EQ(check_invariants(b), "");
}

TYPED_TEST(AnyBook, LevelUpdateReplacesTotalAndZeroRemoves) {
  auto& b = this->book;
  ASSERT_EQ(b.apply(level_update(kAsk, 200, 5)), Errc::kOk);
  ASSERT_EQ(b.apply(level_update(kAsk, 200, 7)), Errc::kOk);
  EXPECT_EQ(b.best(kAsk).qty, 7);
  ASSERT_EQ(b.apply(level_update(kAsk, 200, 2)), Errc::kOk);
  EXPECT_EQ(b.best(kAsk).qty, 2);
  EXPECT_EQ(b.depth(kAsk), 1u);
  ASSERT_EQ(b.apply(level_update(kAsk, 200, 0)), Errc::kOk);
  EXPECT_EQ(b.depth(kAsk), 0u);
  EXPECT_EQ(b.best(kAsk), Level{});
}

TYPED_TEST(AnyBook, RemovingAnAbsentLevelIsOkAndChangesNothing) {
  auto& b = this->book;
  ASSERT_EQ(b.apply(level_update(kBid, 100, 4)), Errc::kOk);
  EXPECT_EQ(b.apply(level_update(kBid, 99, 0)), Errc::kOk);
  EXPECT_EQ(b.apply(level_update(kAsk, 100, 0)), Errc::kOk);
  EXPECT_EQ(b.depth(kBid), 1u);
  EXPECT_EQ(b.depth(kAsk), 0u);
  EXPECT_EQ(b.best(kBid).qty, 4);
}

TYPED_TEST(AnyBook, LevelUpdateRejectsInvalidArguments) {
  auto& b = this->book;
  EXPECT_EQ(b.apply(level_update(Side::kNone, 100, 1)), Errc::kInvalidSide);
  EXPECT_EQ(b.apply(level_update(kBid, kNoPrice, 1)), Errc::kInvalidPrice);
  EXPECT_EQ(b.apply(level_update(kBid, 100, -1)), Errc::kInvalidQty);
  EXPECT_EQ(b.depth(kBid), 0u);
  EXPECT_EQ(b.depth(kAsk), 0u);
}

TYPED_TEST(AnyBook, CrossedWhenBestBidReachesBestAsk) {
  auto& b = this->book;
  ASSERT_EQ(b.apply(level_update(kBid, 100, 1)), Errc::kOk);
  EXPECT_FALSE(b.crossed());  // one side only
  ASSERT_EQ(b.apply(level_update(kAsk, 101, 1)), Errc::kOk);
  EXPECT_FALSE(b.crossed());
  ASSERT_EQ(b.apply(level_update(kAsk, 100, 1)), Errc::kOk);
  EXPECT_TRUE(b.crossed());  // locked counts as crossed
  ASSERT_EQ(b.apply(level_update(kAsk, 100, 0)), Errc::kOk);
  EXPECT_FALSE(b.crossed());
  ASSERT_EQ(b.apply(level_update(kBid, 102, 1)), Errc::kOk);
  EXPECT_TRUE(b.crossed());
  EXPECT_EQ(check_invariants(b), "");  // crossing is not an invariant violation
}

TYPED_TEST(AnyBook, ClearEmptiesTheBook) {
  auto& b = this->book;
  ASSERT_EQ(b.apply(level_update(kBid, 100, 1)), Errc::kOk);
  ASSERT_EQ(b.apply(level_update(kAsk, 101, 1)), Errc::kOk);
  EXPECT_EQ(b.apply(make_event(EventKind::kClear)), Errc::kOk);
  EXPECT_EQ(b.depth(kBid), 0u);
  EXPECT_EQ(b.depth(kAsk), 0u);
  ASSERT_EQ(b.apply(level_update(kAsk, 105, 3)), Errc::kOk);
  EXPECT_EQ(b.best(kAsk), (Level{105, 3, 0}));
  b.clear();
  EXPECT_EQ(b.best(kAsk), Level{});
}

TYPED_TEST(AnyBook, InformationalKindsAreAcceptedAndIgnored) {
  auto& b = this->book;
  ASSERT_EQ(b.apply(level_update(kBid, 100, 1)), Errc::kOk);
  for (EventKind k : {EventKind::kTrade, EventKind::kFill, EventKind::kBestBidAsk,
                      EventKind::kStatus, EventKind::kSnapshotStart, EventKind::kSnapshotEnd}) {
    EXPECT_EQ(b.apply(make_event(k, kBid, 100, 1, 7)), Errc::kOk) << to_string(k);
  }
  EXPECT_EQ(b.apply(make_event(EventKind::kNone, kBid, 100, 1)), Errc::kUnsupported);
  EXPECT_EQ(b.best(kBid), (Level{100, 1, 0}));
  EXPECT_EQ(b.depth(kAsk), 0u);
}

// ---------------------------------------------------------------------------------------------
// L2 books.

template <class B>
class L2 : public ::testing::Test {
 protected:
  B book;
};
using L2Books = ::testing::Types<NaiveL2Book, L2Book>;
TYPED_TEST_SUITE(L2, L2Books);

TYPED_TEST(L2, OrderEventsAreUnsupported) {
  auto& b = this->book;
  EXPECT_EQ(b.apply(add_event(1, kBid, 100, 1)), Errc::kUnsupported);
  EXPECT_EQ(b.apply(cancel_event(1, kBid, 100, 1)), Errc::kUnsupported);
  EXPECT_EQ(b.apply(exec_event(1, kBid, 100, 1)), Errc::kUnsupported);
  EXPECT_EQ(b.apply(make_event(EventKind::kModify, kBid, 100, 1, 1)), Errc::kUnsupported);
  EXPECT_EQ(b.depth(kBid), 0u);
}

TYPED_TEST(L2, LevelAtFindsAnyPrice) {
  auto& b = this->book;
  for (Price p = 100; p < 120; ++p) ASSERT_EQ(b.set_level(kAsk, p, p - 99), Errc::kOk);
  EXPECT_EQ(b.level_at(kAsk, 110), (Level{110, 11, 0}));
  EXPECT_EQ(b.level_at(kAsk, 99), Level{});
  EXPECT_EQ(b.level_at(kBid, 110), Level{});
}

// ---------------------------------------------------------------------------------------------
// L3 books.

template <class B>
class L3 : public ::testing::Test {
 protected:
  B book;
};
using L3Books = ::testing::Types<NaiveL3Book, L3Book>;
TYPED_TEST_SUITE(L3, L3Books);

TYPED_TEST(L3, AddBuildsLevelsAndRejectsDuplicatesAndBadArguments) {
  auto& b = this->book;
  ASSERT_EQ(b.add(1, kBid, 100, 5), Errc::kOk);
  ASSERT_EQ(b.add(2, kBid, 100, 7), Errc::kOk);
  ASSERT_EQ(b.add(3, kAsk, 102, 4), Errc::kOk);
  EXPECT_EQ(b.add(1, kAsk, 105, 1), Errc::kDuplicateOrder);
  EXPECT_EQ(b.add(9, Side::kNone, 100, 1), Errc::kInvalidSide);
  EXPECT_EQ(b.add(9, kBid, kNoPrice, 1), Errc::kInvalidPrice);
  EXPECT_EQ(b.add(9, kBid, 100, 0), Errc::kInvalidQty);
  EXPECT_EQ(b.add(9, kBid, 100, -3), Errc::kInvalidQty);
  EXPECT_FALSE(b.contains(9));
  EXPECT_EQ(b.order_count(), 3u);
  EXPECT_EQ(b.best(kBid), (Level{100, 12, 2}));
  EXPECT_EQ(b.best(kAsk), (Level{102, 4, 1}));
  EXPECT_EQ(b.order(2), (OrderInfo{kBid, 100, 7}));
  EXPECT_FALSE(b.order(9).has_value());
  EXPECT_EQ(check_invariants(b), "");
}

TYPED_TEST(L3, OrderIdZeroIsAnOrdinaryId) {
  auto& b = this->book;
  ASSERT_EQ(b.add(0, kAsk, 10, 3), Errc::kOk);
  EXPECT_TRUE(b.contains(0));
  EXPECT_EQ(b.cancel(0, 3), Errc::kOk);
  EXPECT_FALSE(b.contains(0));
  EXPECT_EQ(b.depth(kAsk), 0u);
}

TYPED_TEST(L3, ExecutionsConsumeTheQueueInFifoOrder) {
  auto& b = this->book;
  ASSERT_EQ(b.apply(add_event(1, kAsk, 500, 10)), Errc::kOk);
  ASSERT_EQ(b.apply(add_event(2, kAsk, 500, 20)), Errc::kOk);
  ASSERT_EQ(b.apply(add_event(3, kAsk, 500, 30)), Errc::kOk);
  EXPECT_EQ(queue(b, kAsk, 500), (Queue{{1, 10}, {2, 20}, {3, 30}}));
  EXPECT_EQ(b.queue_ahead(1), 0);
  EXPECT_EQ(b.queue_ahead(2), 10);
  EXPECT_EQ(b.queue_ahead(3), 30);
  ASSERT_EQ(b.apply(exec_event(1, kAsk, 500, 4)), Errc::kOk);  // partial fill keeps the front
  EXPECT_EQ(queue(b, kAsk, 500), (Queue{{1, 6}, {2, 20}, {3, 30}}));
  EXPECT_EQ(b.queue_ahead(3), 26);
  ASSERT_EQ(b.apply(exec_event(1, kAsk, 500, 6)), Errc::kOk);
  EXPECT_FALSE(b.contains(1));
  EXPECT_EQ(b.queue_ahead(1), -1);
  EXPECT_EQ(b.queue_ahead(2), 0);
  EXPECT_EQ(b.queue_ahead(3), 20);
  ASSERT_EQ(b.execute(2, 20), Errc::kOk);
  EXPECT_EQ(b.queue_ahead(3), 0);
  EXPECT_EQ(b.best(kAsk), (Level{500, 30, 1}));
  ASSERT_EQ(b.execute(3, 30), Errc::kOk);
  EXPECT_EQ(b.depth(kAsk), 0u);
  EXPECT_EQ(b.order_count(), 0u);
  EXPECT_EQ(b.stats().anonymous_reductions, 0u);
}

TYPED_TEST(L3, PartialCancelKeepsQueuePriority) {
  auto& b = this->book;
  ASSERT_EQ(b.add(1, kBid, 100, 10), Errc::kOk);
  ASSERT_EQ(b.add(2, kBid, 100, 10), Errc::kOk);
  ASSERT_EQ(b.cancel(1, 9), Errc::kOk);
  EXPECT_EQ(queue(b, kBid, 100), (Queue{{1, 1}, {2, 10}}));
  EXPECT_EQ(b.queue_ahead(2), 1);
}

TYPED_TEST(L3, ModifyPriceChangeLosesQueuePriority) {
  auto& b = this->book;
  ASSERT_EQ(b.add(1, kBid, 100, 10), Errc::kOk);
  ASSERT_EQ(b.add(2, kBid, 101, 5), Errc::kOk);
  ASSERT_EQ(b.add(3, kBid, 101, 6), Errc::kOk);
  ASSERT_EQ(b.apply(make_event(EventKind::kModify, kBid, 101, 10, 1)), Errc::kOk);
  EXPECT_EQ(queue(b, kBid, 101), (Queue{{2, 5}, {3, 6}, {1, 10}}));
  EXPECT_EQ(b.queue_ahead(1), 11);
  EXPECT_EQ(b.depth(kBid), 1u);  // the old level emptied and disappeared
  EXPECT_EQ(b.order(1), (OrderInfo{kBid, 101, 10}));
  // A price change with a smaller size also goes to the tail.
  ASSERT_EQ(b.modify(2, 99, 1), Errc::kOk);
  ASSERT_EQ(b.modify(3, 99, 1), Errc::kOk);
  EXPECT_EQ(queue(b, kBid, 99), (Queue{{2, 1}, {3, 1}}));
  EXPECT_EQ(levels(b, kBid), (std::vector<Level>{{101, 10, 1}, {99, 2, 2}}));
  EXPECT_EQ(check_invariants(b), "");
}

TYPED_TEST(L3, ModifySizeIncreaseLosesQueuePriority) {
  auto& b = this->book;
  ASSERT_EQ(b.add(1, kAsk, 100, 10), Errc::kOk);
  ASSERT_EQ(b.add(2, kAsk, 100, 10), Errc::kOk);
  ASSERT_EQ(b.add(3, kAsk, 100, 10), Errc::kOk);
  ASSERT_EQ(b.modify(1, 100, 11), Errc::kOk);
  EXPECT_EQ(queue(b, kAsk, 100), (Queue{{2, 10}, {3, 10}, {1, 11}}));
  EXPECT_EQ(b.queue_ahead(1), 20);
  EXPECT_EQ(b.queue_ahead(2), 0);
  EXPECT_EQ(b.best(kAsk), (Level{100, 31, 3}));
}

TYPED_TEST(L3, ModifySizeDecreaseKeepsQueuePriority) {
  auto& b = this->book;
  ASSERT_EQ(b.add(1, kAsk, 100, 10), Errc::kOk);
  ASSERT_EQ(b.add(2, kAsk, 100, 10), Errc::kOk);
  ASSERT_EQ(b.modify(1, 100, 3), Errc::kOk);
  EXPECT_EQ(queue(b, kAsk, 100), (Queue{{1, 3}, {2, 10}}));
  EXPECT_EQ(b.queue_ahead(2), 3);
  ASSERT_EQ(b.modify(1, 100, 3), Errc::kOk);  // same size, same price: nothing moves
  EXPECT_EQ(queue(b, kAsk, 100), (Queue{{1, 3}, {2, 10}}));
  EXPECT_EQ(b.best(kAsk), (Level{100, 13, 2}));
}

TYPED_TEST(L3, ModifyToZeroRemovesAndUnknownOrBadArgumentsAreRejected) {
  auto& b = this->book;
  ASSERT_EQ(b.add(1, kAsk, 100, 10), Errc::kOk);
  ASSERT_EQ(b.add(2, kAsk, 101, 10), Errc::kOk);
  EXPECT_EQ(b.modify(7, 100, 1), Errc::kUnknownOrder);
  EXPECT_EQ(b.modify(1, 100, -1), Errc::kInvalidQty);
  EXPECT_EQ(b.modify(1, kNoPrice, 5), Errc::kInvalidPrice);
  EXPECT_EQ(b.order(1), (OrderInfo{kAsk, 100, 10}));
  EXPECT_EQ(b.modify(1, kNoPrice, 0), Errc::kOk);
  EXPECT_FALSE(b.contains(1));
  EXPECT_EQ(levels(b, kAsk), (std::vector<Level>{{101, 10, 1}}));
}

TYPED_TEST(L3, QueueAheadCountsAnonymousVolumeFirst) {
  auto& b = this->book;
  ASSERT_EQ(b.add(1, kBid, 100, 10), Errc::kOk);
  ASSERT_EQ(b.apply(level_update(kBid, 100, 50)), Errc::kOk);  // 40 anonymous + order 1
  EXPECT_EQ(b.anonymous(kBid, 100), 40);
  ASSERT_EQ(b.add(2, kBid, 100, 5), Errc::kOk);
  EXPECT_EQ(b.queue_ahead(1), 40);
  EXPECT_EQ(b.queue_ahead(2), 50);
  EXPECT_EQ(b.best(kBid), (Level{100, 55, 2}));
  // A level that starts anonymous: orders join behind it.
  ASSERT_EQ(b.apply(level_update(kAsk, 110, 300)), Errc::kOk);
  EXPECT_EQ(b.best(kAsk), (Level{110, 300, 0}));
  ASSERT_EQ(b.add(3, kAsk, 110, 7), Errc::kOk);
  EXPECT_EQ(b.queue_ahead(3), 300);
  EXPECT_EQ(b.best(kAsk), (Level{110, 307, 1}));
  // Raising the total again only changes the anonymous part.
  ASSERT_EQ(b.apply(level_update(kAsk, 110, 17)), Errc::kOk);
  EXPECT_EQ(b.anonymous(kAsk, 110), 10);
  EXPECT_EQ(b.queue_ahead(3), 10);
  EXPECT_EQ(check_invariants(b), "");
}

TYPED_TEST(L3, UnknownIdCancelConsumesAnonymousVolumeAndIsCounted) {
  auto& b = this->book;
  ASSERT_EQ(b.apply(level_update(kAsk, 200, 100)), Errc::kOk);
  ASSERT_EQ(b.add(1, kAsk, 200, 10), Errc::kOk);
  EXPECT_EQ(b.apply(cancel_event(42, kAsk, 200, 30)), Errc::kOk);
  EXPECT_EQ(b.apply(exec_event(43, kAsk, 200, 20)), Errc::kOk);
  EXPECT_EQ(b.stats().anonymous_reductions, 2u);
  EXPECT_EQ(b.anonymous(kAsk, 200), 50);
  EXPECT_EQ(b.best(kAsk), (Level{200, 60, 1}));
  EXPECT_EQ(b.queue_ahead(1), 50);
  EXPECT_EQ(b.apply(exec_event(44, kAsk, 200, 50)), Errc::kOk);  // exactly all of it
  EXPECT_EQ(b.queue_ahead(1), 0);
  EXPECT_EQ(b.stats().anonymous_reductions, 3u);
  // A purely anonymous level disappears when its volume is taken.
  ASSERT_EQ(b.apply(level_update(kBid, 150, 8)), Errc::kOk);
  EXPECT_EQ(b.apply(cancel_event(45, kBid, 150, 8)), Errc::kOk);
  EXPECT_EQ(b.depth(kBid), 0u);
  EXPECT_EQ(check_invariants(b), "");
}

TYPED_TEST(L3, UnknownIdWithoutEnoughAnonymousVolumeIsUnknownOrder) {
  auto& b = this->book;
  ASSERT_EQ(b.add(1, kAsk, 200, 10), Errc::kOk);
  EXPECT_EQ(b.apply(cancel_event(42, kAsk, 200, 1)), Errc::kUnknownOrder);  // known volume only
  ASSERT_EQ(b.apply(level_update(kAsk, 200, 15)), Errc::kOk);              // 5 anonymous
  EXPECT_EQ(b.apply(exec_event(42, kAsk, 200, 6)), Errc::kUnknownOrder);
  EXPECT_EQ(b.apply(exec_event(42, kAsk, 201, 1)), Errc::kUnknownOrder);   // no such level
  EXPECT_EQ(b.apply(exec_event(42, kBid, 200, 1)), Errc::kUnknownOrder);   // wrong side
  EXPECT_EQ(b.apply(exec_event(42, Side::kNone, 200, 1)), Errc::kUnknownOrder);
  EXPECT_EQ(b.cancel(42, 1), Errc::kUnknownOrder);  // direct calls never use anonymous volume
  EXPECT_EQ(b.apply(cancel_event(42, kAsk, 200, 0)), Errc::kInvalidQty);
  EXPECT_EQ(b.stats().anonymous_reductions, 0u);
  EXPECT_EQ(b.best(kAsk), (Level{200, 15, 1}));
  EXPECT_EQ(b.anonymous(kAsk, 200), 5);
}

TYPED_TEST(L3, OversizedCancelIsRejectedWithoutChange) {
  auto& b = this->book;
  ASSERT_EQ(b.add(1, kBid, 100, 10), Errc::kOk);
  ASSERT_EQ(b.add(2, kBid, 100, 10), Errc::kOk);
  ASSERT_EQ(b.apply(level_update(kBid, 100, 1000)), Errc::kOk);
  EXPECT_EQ(b.cancel(1, 11), Errc::kQtyExceedsOrder);
  EXPECT_EQ(b.execute(1, 11), Errc::kQtyExceedsOrder);
  EXPECT_EQ(b.apply(cancel_event(1, kBid, 100, 11)), Errc::kQtyExceedsOrder);  // not anonymous
  EXPECT_EQ(b.cancel(1, 0), Errc::kInvalidQty);
  EXPECT_EQ(b.cancel(1, -1), Errc::kInvalidQty);
  EXPECT_EQ(queue(b, kBid, 100), (Queue{{1, 10}, {2, 10}}));
  EXPECT_EQ(b.best(kBid), (Level{100, 1000, 2}));
  EXPECT_EQ(b.stats().anonymous_reductions, 0u);
}

TYPED_TEST(L3, LevelUpdateToZeroForgetsTheLevelsOrders) {
  auto& b = this->book;
  ASSERT_EQ(b.add(1, kBid, 100, 10), Errc::kOk);
  ASSERT_EQ(b.add(2, kBid, 100, 10), Errc::kOk);
  ASSERT_EQ(b.add(3, kBid, 99, 10), Errc::kOk);
  ASSERT_EQ(b.apply(level_update(kBid, 100, 0)), Errc::kOk);
  EXPECT_FALSE(b.contains(1));
  EXPECT_FALSE(b.contains(2));
  EXPECT_TRUE(b.contains(3));
  EXPECT_EQ(b.order_count(), 1u);
  EXPECT_EQ(levels(b, kBid), (std::vector<Level>{{99, 10, 1}}));
  EXPECT_EQ(b.apply(cancel_event(1, kBid, 100, 10)), Errc::kUnknownOrder);
  ASSERT_EQ(b.add(1, kAsk, 105, 2), Errc::kOk);  // the id is free again
  EXPECT_EQ(check_invariants(b), "");
}

TYPED_TEST(L3, LevelUpdateBelowKnownVolumeZeroesAnonymousAndIsRejected) {
  auto& b = this->book;
  ASSERT_EQ(b.add(1, kBid, 100, 10), Errc::kOk);
  ASSERT_EQ(b.apply(level_update(kBid, 100, 25)), Errc::kOk);
  EXPECT_EQ(b.anonymous(kBid, 100), 15);
  EXPECT_EQ(b.apply(level_update(kBid, 100, 9)), Errc::kQtyExceedsLevel);
  EXPECT_EQ(b.anonymous(kBid, 100), 0);
  EXPECT_EQ(b.best(kBid), (Level{100, 10, 1}));
  EXPECT_EQ(b.order(1), (OrderInfo{kBid, 100, 10}));
  EXPECT_EQ(b.apply(level_update(kBid, 100, 10)), Errc::kOk);  // exactly the known volume
  EXPECT_EQ(b.anonymous(kBid, 100), 0);
}

TYPED_TEST(L3, EmptyLevelsDisappearButAnonymousOnesStay) {
  auto& b = this->book;
  ASSERT_EQ(b.add(1, kAsk, 100, 10), Errc::kOk);
  ASSERT_EQ(b.add(2, kAsk, 101, 10), Errc::kOk);
  ASSERT_EQ(b.apply(level_update(kAsk, 101, 15)), Errc::kOk);
  ASSERT_EQ(b.cancel(1, 10), Errc::kOk);
  ASSERT_EQ(b.cancel(2, 10), Errc::kOk);
  EXPECT_EQ(levels(b, kAsk), (std::vector<Level>{{101, 5, 0}}));
  EXPECT_EQ(b.level_at(kAsk, 100), Level{});
  EXPECT_EQ(check_invariants(b), "");
}

TYPED_TEST(L3, ClearForgetsOrdersAndAnonymousVolume) {
  auto& b = this->book;
  ASSERT_EQ(b.add(1, kAsk, 100, 10), Errc::kOk);
  ASSERT_EQ(b.apply(level_update(kBid, 90, 15)), Errc::kOk);
  ASSERT_EQ(b.apply(make_event(EventKind::kClear)), Errc::kOk);
  EXPECT_EQ(b.order_count(), 0u);
  EXPECT_FALSE(b.contains(1));
  EXPECT_EQ(b.depth(kBid) + b.depth(kAsk), 0u);
  EXPECT_EQ(b.apply(cancel_event(7, kBid, 90, 1)), Errc::kUnknownOrder);
  ASSERT_EQ(b.add(1, kAsk, 100, 3), Errc::kOk);
  EXPECT_EQ(b.best(kAsk), (Level{100, 3, 1}));
  EXPECT_EQ(check_invariants(b), "");
}

TYPED_TEST(L3, ManyOrdersSurviveGrowthAndRemoval) {
  auto& b = this->book;
  constexpr OrderId kN = 20000;
  for (OrderId id = 1; id <= kN; ++id) {
    const Side s = id % 2 ? kBid : kAsk;
    const Price p =
        s == kBid ? 1000 - static_cast<Price>(id % 97) : 1001 + static_cast<Price>(id % 89);
    ASSERT_EQ(b.add(id * 0x9E3779B97F4A7C15ull, s, p, static_cast<Qty>(id % 7 + 1)), Errc::kOk);
  }
  EXPECT_EQ(b.order_count(), kN);
  EXPECT_EQ(b.depth(kBid), 97u);
  EXPECT_EQ(b.depth(kAsk), 89u);
  EXPECT_EQ(check_invariants(b), "");
  for (OrderId id = 1; id <= kN; id += 2) {
    ASSERT_EQ(b.cancel(id * 0x9E3779B97F4A7C15ull, static_cast<Qty>(id % 7 + 1)), Errc::kOk);
  }
  EXPECT_EQ(b.order_count(), kN / 2);
  EXPECT_EQ(b.depth(kBid), 0u);
  EXPECT_EQ(check_invariants(b), "");
  for (OrderId id = 2; id <= kN; id += 2) {
    ASSERT_TRUE(b.contains(id * 0x9E3779B97F4A7C15ull));
    ASSERT_FALSE(b.contains(id * 0x9E3779B97F4A7C15ull + 1));
  }
}

TYPED_TEST(L3, CopiesAreIndependentAndComplete) {
  auto& b = this->book;
  ASSERT_EQ(b.add(1, kBid, 100, 10), Errc::kOk);
  ASSERT_EQ(b.add(2, kBid, 100, 20), Errc::kOk);
  ASSERT_EQ(b.apply(level_update(kAsk, 101, 5)), Errc::kOk);
  TypeParam copy(b);
  ASSERT_EQ(b.cancel(1, 10), Errc::kOk);
  EXPECT_EQ(copy.queue_ahead(2), 10);
  EXPECT_EQ(copy.best(kBid), (Level{100, 30, 2}));
  ASSERT_EQ(copy.cancel(2, 5), Errc::kOk);  // the copy's own index and lists
  EXPECT_EQ(copy.best(kBid), (Level{100, 25, 2}));
  EXPECT_EQ(b.best(kBid), (Level{100, 20, 1}));
  EXPECT_EQ(check_invariants(copy), "");
  b = copy;
  EXPECT_EQ(b.queue_ahead(2), 10);
  ASSERT_EQ(b.execute(1, 10), Errc::kOk);
  EXPECT_TRUE(copy.contains(1));
  EXPECT_EQ(check_invariants(b), "");
}

// ---------------------------------------------------------------------------------------------
// Differential tests: fast vs naive under random operations.

// Compares depth, levels 0..min(depth, max_levels) (the one past the depth included), crossed()
// and stats().
template <class Fast, class Naive>
void expect_same_levels(const Fast& f, const Naive& n, std::uint64_t step,
                        std::size_t max_levels = static_cast<std::size_t>(-1)) {
  for (const Side s : {kBid, kAsk}) {
    ASSERT_EQ(f.depth(s), n.depth(s)) << "step " << step;
    for (std::size_t i = 0; i <= std::min(n.depth(s), max_levels); ++i) {
      ASSERT_EQ(f.level(s, i), n.level(s, i)) << "step " << step << " side " << to_string(s)
                                              << " level " << i;
    }
  }
  ASSERT_EQ(f.crossed(), n.crossed()) << "step " << step;
  ASSERT_EQ(f.stats().anonymous_reductions, n.stats().anonymous_reductions) << "step " << step;
}

TEST(L3BookDifferential, MatchesNaiveBookOnRandomOperations) {
  for (std::uint64_t seed : {1ull, 2ull, 3ull}) {
    std::mt19937_64 rng(seed);
    L3Book fast;
    NaiveL3Book naive;
    std::vector<OrderId> ids;  // ids ever added (some no longer rest)
    OrderId next_id = 1;
    constexpr Price kMid = 10000;
    auto rand_side = [&] { return rng() % 2 ? kBid : kAsk; };
    auto rand_price = [&](Side s) {
      const std::uint64_t near = std::min(rng() % 8, rng() % 40);
      const Price off = static_cast<Price>(rng() % 8 == 0 ? rng() % 60 : near);
      return s == kBid ? kMid - off : kMid + 1 + off;  // both sides overlap sometimes below
    };
    auto rand_qty = [&] { return static_cast<Qty>(rng() % 20 + 1); };
    auto pick_id = [&]() -> OrderId {
      if (ids.empty() || rng() % 10 == 0) return next_id + 1000000 + rng() % 100;  // unknown
      return ids[rng() % ids.size()];
    };
    std::uint64_t counts[8] = {};
    for (std::uint64_t step = 0; step < 60000; ++step) {
      const unsigned op = static_cast<unsigned>(rng() % 100);
      Event e;
      if (op < 35) {
        const Side s = rng() % 50 == 0 ? Side::kNone : rand_side();
        const OrderId id = rng() % 30 == 0 && !ids.empty() ? ids[rng() % ids.size()] : next_id++;
        Price p = rand_price(s == Side::kNone ? kBid : s);
        if (rng() % 10 == 0) p = rand_price(opposite(s == Side::kNone ? kBid : s));  // crosses
        Qty q = rng() % 50 == 0 ? -static_cast<Qty>(rng() % 2) : rand_qty();
        e = add_event(id, s, p, q);
        ids.push_back(id);
        ++counts[0];
      } else if (op < 62) {
        const OrderId id = pick_id();
        const auto info = naive.order(id);
        const Side s = info ? info->side : rand_side();
        const Price p = info ? info->price : rand_price(s);
        Qty q = info && rng() % 3 ? info->qty : rand_qty();  // full, partial or over-sized
        if (rng() % 40 == 0) q = 0;
        e = op < 54 ? cancel_event(id, s, p, q) : exec_event(id, s, p, q);
        ++counts[1];
      } else if (op < 77) {
        const OrderId id = pick_id();
        const auto info = naive.order(id);
        Price p = info ? info->price : rand_price(rand_side());
        Qty q = info ? info->qty : rand_qty();
        switch (rng() % 5) {
          case 0: p = rand_price(info ? info->side : kBid); break;
          case 1: q = q + 1 + static_cast<Qty>(rng() % 5); break;
          case 2: q = std::max<Qty>(1, q - 1 - static_cast<Qty>(rng() % 5)); break;
          case 3: q = rng() % 4 == 0 ? -1 : 0; break;
          default: break;
        }
        if (rng() % 50 == 0) p = kNoPrice;
        e = make_event(EventKind::kModify, rand_side(), p, q, id);
        ++counts[2];
      } else if (op < 85) {
        // Unknown-id cancel / execution aimed at a level, maybe anonymous.
        const Side s = rand_side();
        const Price p = rand_price(s);
        const Qty anon = naive.anonymous(s, p);
        const Qty q = anon > 0 && rng() % 2 ? 1 + static_cast<Qty>(rng() % anon) : rand_qty();
        e = rng() % 2 ? cancel_event(next_id + 5000000, s, p, q)
                      : exec_event(next_id + 5000000, s, p, q);
        ++counts[3];
      } else if (op < 99) {
        const Side s = rng() % 100 == 0 ? Side::kNone : rand_side();
        const Price p = rand_price(s == Side::kNone ? kBid : s);
        const Level cur = naive.level_at(s == Side::kNone ? kBid : s, p);
        Qty q;
        switch (rng() % 5) {
          case 0: q = 0; break;
          case 1: q = cur.qty + static_cast<Qty>(rng() % 30); break;
          case 2:
            q = cur.qty > 1 ? cur.qty - 1 - static_cast<Qty>(rng() % (cur.qty - 1)) : 1;
            break;
          case 3: q = rng() % 20 == 0 ? -5 : rand_qty(); break;
          default: q = cur.qty + 1; break;
        }
        e = level_update(s, p, q);
        ++counts[4];
      } else {
        e = make_event(rng() % 10 == 0 ? EventKind::kClear : EventKind::kTrade, rand_side(),
                       kMid, 1, 0);
        ++counts[5];
      }
      const Errc rf = fast.apply(e);
      const Errc rn = naive.apply(e);
      ASSERT_EQ(rf, rn) << "seed " << seed << " step " << step << " kind " << to_string(e.kind)
                        << " id " << e.order_id << " side " << to_string(e.side) << " price "
                        << e.price << " qty " << e.qty;
      ++counts[6 + (rn == Errc::kOk ? 0 : 1)];
      ASSERT_EQ(fast.order_count(), naive.order_count()) << "step " << step;
      if (step % 97 == 0 || rn != Errc::kOk) {
        expect_same_levels(fast, naive, step);
        if (HasFailure()) return;
        for (int k = 0; k < 8 && !ids.empty(); ++k) {
          const OrderId id = ids[rng() % ids.size()];
          ASSERT_EQ(fast.queue_ahead(id), naive.queue_ahead(id)) << "step " << step;
          ASSERT_EQ(fast.order(id), naive.order(id)) << "step " << step;
        }
      }
      if (step % 997 == 0) {
        ASSERT_EQ(check_invariants(fast), "") << "step " << step;
        ASSERT_EQ(check_invariants(naive), "") << "step " << step;
        for (const Side s : {kBid, kAsk}) {
          for (std::size_t i = 0; i < naive.depth(s); ++i) {
            const Price p = naive.level(s, i).price;
            ASSERT_EQ(queue(fast, s, p), queue(naive, s, p)) << "step " << step;
          }
        }
      }
    }
    expect_same_levels(fast, naive, 0);
    EXPECT_EQ(check_invariants(fast), "");
    // Every kind and both outcomes were exercised in quantity.
    for (int k = 0; k < 8; ++k) {
      if (k == 5) continue;
      EXPECT_GT(counts[k], 500u) << "category " << k;
    }
    EXPECT_GT(fast.stats().anonymous_reductions, 100u);
  }
}

TEST(L2BookDifferential, MatchesNaiveBookOnRandomOperations) {
  // Alternating growth and shrink phases over up to ~2,000 levels a side, so that L2Book's
  // chunks split, merge and empty many times.
  for (std::uint64_t seed : {7ull, 8ull}) {
    std::mt19937_64 rng(seed);
    L2Book fast;
    NaiveL2Book naive;
    std::size_t max_depth = 0;
    std::size_t shrunk_from_deep = 0;  // steps at < 100 levels after > 1000 without a clear
    std::size_t max_since_clear = 0;
    for (std::uint64_t step = 0; step < 96000; ++step) {
      const bool growing = (step / 16000) % 2 == 0;
      Event e;
      const unsigned op = static_cast<unsigned>(rng() % 100);
      const Side s = rng() % 200 == 0 ? Side::kNone : (rng() % 2 ? kBid : kAsk);
      const Price off = static_cast<Price>(rng() % 3 == 0 ? rng() % 10 : rng() % 2000);
      const Price p = s == kBid ? 5000 - off : 5001 + off - (rng() % 20 == 0 ? 5 : 0);
      if (op < (growing ? 20u : 97u)) {
        const std::size_t d = naive.depth(s);
        // While shrinking, most removals hit an existing level (anywhere in the depth).
        const bool hit = !growing && d > 0 && op % 8 != 0;
        e = level_update(s, hit ? naive.level(s, rng() % d).price : p, 0);
      } else if (op < 99) {
        e = level_update(s, rng() % 500 == 0 ? kNoPrice : p, static_cast<Qty>(rng() % 100) - 1);
      } else {
        e = make_event(rng() % 200 ? EventKind::kAdd : EventKind::kClear, s, p, 1, 1);
        if (e.kind == EventKind::kClear) max_since_clear = 0;
      }
      ASSERT_EQ(fast.apply(e), naive.apply(e)) << "step " << step;
      if (step % 31 == 0) {
        expect_same_levels(fast, naive, step, step % 1023 == 0 ? static_cast<std::size_t>(-1) : 20);
        if (HasFailure()) return;
        ASSERT_EQ(fast.level_at(kBid, p), naive.level_at(kBid, p));
        ASSERT_EQ(fast.level_at(kAsk, p), naive.level_at(kAsk, p));
      }
      if (step % 1001 == 0) {
        ASSERT_EQ(check_invariants(fast), "") << "step " << step;
      }
      max_depth = std::max(max_depth, naive.depth(kBid));
      max_since_clear = std::max(max_since_clear, naive.depth(kBid));
      if (max_since_clear > 1000 && naive.depth(kBid) < 100) ++shrunk_from_deep;
    }
    expect_same_levels(fast, naive, 0);
    EXPECT_GT(max_depth, 1000u);
    EXPECT_GT(shrunk_from_deep, 0u);
  }
}

// ---------------------------------------------------------------------------------------------
// Real data (shared/data/SOURCES.md): the fast and naive books agree Errc for Errc and level for
// level on whole recorded streams, and reproduce the venue's known answers.

struct RealStream {
  std::vector<Event> events;
  InstrumentSpec spec;
};

// Reads a whole file through mmkit::data::open_source.
RealStream read_stream(const std::filesystem::path& path) {
  RealStream rs;
  auto src = data::open_source({path.string()});
  rs.spec = src->instrument();
  std::vector<Event> buf(1 << 14);
  while (const std::size_t n = src->read(buf.data(), buf.size())) {
    rs.events.insert(rs.events.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return rs;
}

#define MMKIT_REQUIRE_DATA(path)                                                        \
  do {                                                                                  \
    if (!std::filesystem::exists(path)) {                                               \
      if (under_ci()) FAIL() << "real data missing under CI=true: " << (path).string(); \
      GTEST_SKIP() << "real data not found: " << (path).string()                        \
                   << " (set MMKIT_DATA_DIR)";                                          \
    }                                                                                   \
  } while (0)

struct ReplayTally {
  std::size_t not_ok = 0;
  std::size_t complete = 0;
  std::size_t crossed_complete = 0;
  std::size_t crossed_after_first_trade = 0;
};

// Replays `events` into both books; at every kComplete compares the top 10 levels (every 500th
// kComplete: all levels and the invariants).
template <class Fast, class Naive>
ReplayTally replay_both(const std::vector<Event>& events, Fast& fast, Naive& naive) {
  ReplayTally t;
  bool traded = false;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    const Errc rf = fast.apply(e);
    const Errc rn = naive.apply(e);
    EXPECT_EQ(rf, rn) << "event " << i << " (record " << e.record << ")";
    t.not_ok += rn != Errc::kOk;
    traded = traded || e.kind == EventKind::kTrade;
    if (!e.has(event_flags::kComplete)) continue;
    ++t.complete;
    const bool full = t.complete % 500 == 0;
    expect_same_levels(fast, naive, i, full ? static_cast<std::size_t>(-1) : 10);
    if (full) {
      EXPECT_EQ(check_invariants(fast), "") << "event " << i;
      EXPECT_EQ(check_invariants(naive), "") << "event " << i;
    }
    if (::testing::Test::HasFailure()) return t;
    if (naive.crossed()) {
      ++t.crossed_complete;
      t.crossed_after_first_trade += traded;
    }
  }
  expect_same_levels(fast, naive, events.size());
  EXPECT_EQ(check_invariants(fast), "");
  return t;
}

TEST(RealData, L3BooksAgreeOnCmeEsh4MboAndEndUncrossedAt4810) {
  const auto path = std::filesystem::path(data_dir()) / "cme_mbo" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst";
  MMKIT_REQUIRE_DATA(path);
  const RealStream rs = read_stream(path);
  ASSERT_EQ(rs.spec.price_decimals, 9);
  L3Book fast;
  NaiveL3Book naive;
  const ReplayTally t = replay_both(rs.events, fast, naive);
  // SOURCES.md C: every C and M refers to a known order; the final book is 4810.00 / 4810.25.
  EXPECT_EQ(rs.events.size(), 68792u);
  EXPECT_EQ(t.not_ok, 0u);
  EXPECT_GT(t.crossed_complete, 0u);           // the pre-open book crosses before the open...
  EXPECT_EQ(t.crossed_after_first_trade, 0u);  // ...and never once trading has begun
  EXPECT_EQ(fast.best(kBid).price, 4'810'000'000'000);
  EXPECT_EQ(fast.best(kAsk).price, 4'810'250'000'000);
  EXPECT_FALSE(fast.crossed());
  EXPECT_EQ(fast.order_count(), naive.order_count());
  EXPECT_EQ(fast.stats().anonymous_reductions, 0u);
}

TEST(RealData, L3BooksAgreeOnLobsterSamplesAndNeverCross) {
  for (const char* name : {"LOBSTER_SampleFile_GOOG_2012-06-21_10.zip",
                           "LOBSTER_SampleFile_AMZN_2012-06-21_5.zip"}) {
    SCOPED_TRACE(name);
    const auto path = std::filesystem::path(data_dir()) / "lobster" / name;
    MMKIT_REQUIRE_DATA(path);
    const RealStream rs = read_stream(path);
    L3Book fast;
    NaiveL3Book naive;
    const ReplayTally t = replay_both(rs.events, fast, naive);
    if (HasFailure()) return;
    EXPECT_EQ(t.not_ok, 0u);
    EXPECT_EQ(t.crossed_complete, 0u);  // SOURCES.md A: 0 crossed book rows
    // One kComplete per message row: 147,916 (GOOG level 10), 155,935 (AMZN level 5).
    EXPECT_EQ(t.complete, std::string(name).find("GOOG") != std::string::npos ? 147916u : 155935u);
    // Orders resting since before 09:30 are cancelled / executed out of anonymous volume.
    EXPECT_GT(fast.stats().anonymous_reductions, 1000u);
    EXPECT_EQ(fast.stats().anonymous_reductions, naive.stats().anonymous_reductions);
  }
}

TEST(RealData, L2BooksAgreeOnBinanceDepthAndMatchEveryAlignedBookTicker) {
  const auto path = std::filesystem::path(data_dir()) / "binance_l2" / "usdm" / "btcusdt_20240808.gz";
  MMKIT_REQUIRE_DATA(path);
  const RealStream rs = read_stream(path);
  L2Book fast;
  NaiveL2Book naive;
  const ReplayTally t = replay_both(rs.events, fast, naive);
  EXPECT_EQ(t.not_ok, 0u);
  EXPECT_EQ(t.crossed_complete, 0u);
  // SOURCES.md B: a bookTicker whose u equals the u of the last applied depth event shows the
  // best bid / ask of exactly that book: 126 such points in this file, all equal.
  L2Book book;
  std::uint64_t last_depth_u = 0;
  std::size_t aligned = 0;
  for (const Event& e : rs.events) {
    (void)book.apply(e);
    if (e.kind == EventKind::kLevelUpdate) last_depth_u = e.seq;
    if (e.kind != EventKind::kBestBidAsk || e.seq != last_depth_u) continue;
    ++aligned;
    EXPECT_EQ(book.best(e.side), (Level{e.price, e.qty, 0})) << "bookTicker u=" << e.seq;
  }
  EXPECT_EQ(aligned, 2u * 126u);  // one event per side
}

}  // namespace
}  // namespace mmkit::book
