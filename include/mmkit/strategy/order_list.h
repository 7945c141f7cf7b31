// The order-list replayer: submits the orders of a CSV file at the local times written in it,
// with no other logic (what-if tests of one's own order logs, queue-position studies).
//
// File format (plain or gzip), one order per line after the header:
//   ts_ns,side,price,qty,type[,tif]
//   ts_ns  local time in ns since the Unix epoch (integer), non-decreasing down the file
//   side   buy | sell
//   price  decimal price (e.g. 580.12) on the instrument's tick grid; for type market it may be
//          empty and is ignored
//   qty    decimal quantity (> 0) on the lot grid
//   type   limit | market
//   tif    gtc | post_only | ioc | fok (default gtc; a market order cannot be post_only)
// Errors name file:line: field 'F' and what is wrong.
//
// Submission time: an order is submitted in the first callback (on_start, on_book_update,
// on_trade, on_timer, on_order_update or on_fill) whose local time Context::now() is at or
// after its ts_ns; so the granularity is the spacing of those callbacks (at worst the timer
// interval, EngineConfig::timer_interval_ns), and orders due at the same callback go in file
// order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mmkit/strategy/strategy.h"

namespace mmkit::strategy {

struct ListedOrder {
  TimestampNs ts_ns = 0;  ///< local submission time (ns since epoch)
  OrderRequest request;   ///< id 0: the engine assigns it
  std::uint64_t line = 0; ///< 1-based line in the file
};

/// Reads and validates the whole file. Throws mmkit::Error naming file:line and the field.
[[nodiscard]] std::vector<ListedOrder> read_order_list(const std::string& path,
                                                       const InstrumentSpec& spec);

struct OrderListParams {
  std::optional<std::string> orders;  ///< path of the CSV (required)
};

class OrderList final : public Strategy {
 public:
  /// Reads the file; throws mmkit::Error if `orders` is missing or the file is invalid.
  OrderList(const OrderListParams& p, const InstrumentSpec& spec);
  OrderList(std::vector<ListedOrder> orders, std::string path);

  void on_start(Context& ctx) override { flush(ctx); }
  void on_book_update(Context& ctx) override { flush(ctx); }
  void on_trade(Context& ctx, const TradeView&) override { flush(ctx); }
  void on_order_update(Context& ctx, const OrderUpdate&) override { flush(ctx); }
  void on_fill(Context& ctx, const Fill&) override { flush(ctx); }
  void on_timer(Context& ctx) override { flush(ctx); }
  [[nodiscard]] Params resolved_params() const override;

  [[nodiscard]] const std::vector<ListedOrder>& orders() const noexcept { return orders_; }
  /// Orders submitted so far.
  [[nodiscard]] std::size_t submitted() const noexcept { return next_; }
  /// Ids the engine returned, in file order (one per submitted order).
  [[nodiscard]] const std::vector<ClientOrderId>& ids() const noexcept { return ids_; }

 private:
  void flush(Context& ctx);

  std::vector<ListedOrder> orders_;
  std::string path_;
  std::size_t next_ = 0;
  std::vector<ClientOrderId> ids_;
  bool flushing_ = false;
};

}  // namespace mmkit::strategy
