#include "mmkit/engine/profile.h"

#include <algorithm>
#include <vector>

#include "mmkit/book/l2_book.h"
#include "mmkit/book/l3_book.h"

namespace mmkit::engine {
namespace {

template <class Book>
strategy::MarketProfile run(data::EventSource& src, std::uint64_t max_events, double max_seconds) {
  Book book;
  strategy::MarketProfile p;
  std::vector<Event> batch(4096);
  std::vector<Qty> trade_qty;
  double spread_sum = 0;
  std::uint64_t spread_n = 0, seen = 0;
  TimestampNs first_ts = kNoTimestamp, last_ts = kNoTimestamp;
  const auto limit_ns = static_cast<TimestampNs>(max_seconds * 1e9);
  bool stop = false;
  while (!stop) {
    const std::size_t n = src.read(batch.data(), batch.size());
    if (n == 0) break;
    for (std::size_t i = 0; i < n && !stop; ++i) {
      const Event& e = batch[i];
      (void)book.apply(e);  // validation is the engine's job; the profile is best effort
      if (first_ts == kNoTimestamp) first_ts = e.exch_ts_ns;
      last_ts = std::max(last_ts, e.exch_ts_ns);
      if (e.kind == EventKind::kTrade || e.kind == EventKind::kExecution) trade_qty.push_back(e.qty);
      if (e.has(event_flags::kComplete) && !e.has(event_flags::kAuction)) {
        const auto bid = book.best(Side::kBid), ask = book.best(Side::kAsk);
        if (bid.price != kNoPrice && ask.price != kNoPrice && ask.price > bid.price) {
          spread_sum += static_cast<double>(ask.price - bid.price);
          ++spread_n;
          if (p.mid_price == 0) p.mid_price = 0.5 * static_cast<double>(bid.price + ask.price);
        }
      }
      stop = ++seen >= max_events || (last_ts - first_ts) >= limit_ns;
    }
  }
  if (!trade_qty.empty()) {
    auto mid = trade_qty.begin() + static_cast<std::ptrdiff_t>(trade_qty.size() / 2);
    std::nth_element(trade_qty.begin(), mid, trade_qty.end());
    p.median_trade_qty = static_cast<double>(*mid);
  }
  if (spread_n > 0) p.mean_spread = spread_sum / static_cast<double>(spread_n);
  const double span_s = first_ts == kNoTimestamp ? 0.0 : static_cast<double>(last_ts - first_ts) / 1e9;
  p.trades_per_second = span_s > 0 ? static_cast<double>(trade_qty.size()) / span_s : 0.0;
  return p;
}

}  // namespace

strategy::MarketProfile profile_market(data::EventSource& source, std::uint64_t max_events,
                                       double max_seconds) {
  if (source.book_level() == data::BookLevel::kL3) return run<book::L3Book>(source, max_events, max_seconds);
  return run<book::L2Book>(source, max_events, max_seconds);
}

}  // namespace mmkit::engine
