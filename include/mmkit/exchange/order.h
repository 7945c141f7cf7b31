// Our orders on the simulated exchange: requests, states, fills, rejections, and exact money.
//
// Money is exact: `Money` is a signed 128-bit integer in units of
//   10^-(price_decimals + qty_decimals + 9) of the quote currency
// so that notional = price_raw × qty_raw × 10^9 and a fee of `rate_ppb` parts per billion of the
// notional (1 bp = 100,000 ppb; negative = rebate) is price_raw × qty_raw × rate_ppb, with no
// rounding anywhere (CONVENTIONS: no floating point in accounting code). money_to_double()
// converts for metrics and reports only.
#pragma once

#include <cstdint>
#include <string_view>

#include "mmkit/core/instrument.h"
#include "mmkit/core/types.h"

namespace mmkit::exchange {

using Money = __int128;
inline constexpr std::int64_t kMoneyExtraScale = 1'000'000'000;  ///< the 10^9 above
inline constexpr std::int64_t kPpbPerBp = 100'000;

/// Decimal value of `m` in the quote currency (× the instrument's contract multiplier).
[[nodiscard]] double money_to_double(Money m, const InstrumentSpec& spec) noexcept;
/// price × qty as Money (exact).
[[nodiscard]] inline Money notional(Price p, Qty q) noexcept {
  return static_cast<Money>(p) * static_cast<Money>(q) * kMoneyExtraScale;
}
/// Fee on a fill (exact): positive = paid, negative = rebate earned.
[[nodiscard]] inline Money fee_amount(Price p, Qty q, std::int64_t rate_ppb) noexcept {
  return static_cast<Money>(p) * static_cast<Money>(q) * rate_ppb;
}

/// Strategy-assigned order id (unique per run, > 0).
using ClientOrderId = std::uint64_t;

enum class OrderType : std::uint8_t { kLimit = 0, kMarket = 1 };

/// kGtc rests until filled or canceled; kPostOnly is rejected if it would take liquidity on
/// arrival (Binance GTX, Hyperliquid ALO); kIoc fills what it can on arrival and cancels the
/// rest; kFok fills entirely on arrival or is rejected (nothing fills).
enum class TimeInForce : std::uint8_t { kGtc = 0, kPostOnly = 1, kIoc = 2, kFok = 3 };

enum class OrderStatus : std::uint8_t {
  kPendingNew = 0,      ///< sent, not yet at the exchange
  kOpen = 1,            ///< resting (possibly partially filled)
  kFilled = 2,          ///< terminal
  kCanceled = 3,        ///< terminal (by request, or IOC / market remainder)
  kRejected = 4,        ///< terminal
};

enum class RejectReason : std::uint8_t {
  kNone = 0,
  kPostOnlyWouldCross,
  kFokNotFillable,
  kNoLiquidity,          ///< market / IOC order with nothing on the other side
  kInvalidPrice,         ///< non-positive or off the tick grid
  kInvalidQty,           ///< non-positive or off the lot grid
  kUnknownOrder,         ///< cancel / modify of an id that is not open at the exchange
  kTooLateToCancel,      ///< the order was filled before the cancel / modify arrived
  kDuplicateId,
  kRiskMaxPosition,      ///< engine risk limits (RiskLimits)
  kRiskMaxOrderSize,
  kRiskMaxOpenOrders,
  kRiskMaxNotional,
};
[[nodiscard]] const char* to_string(RejectReason r) noexcept;
[[nodiscard]] const char* to_string(OrderStatus s) noexcept;
[[nodiscard]] const char* to_string(TimeInForce t) noexcept;
[[nodiscard]] const char* to_string(OrderType t) noexcept;

/// A new order as the strategy asks for it. Prices and quantities in raw units.
struct OrderRequest {
  ClientOrderId id = 0;  ///< 0: the engine assigns the next id
  Side side = Side::kNone;
  Price price = kNoPrice;  ///< ignored for kMarket
  Qty qty = 0;
  OrderType type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kGtc;
};

/// What the strategy knows of one of its orders (as of the last response it received).
struct OrderView {
  ClientOrderId id = 0;
  Side side = Side::kNone;
  Price price = kNoPrice;
  Qty qty = 0;          ///< current total size (after modifies)
  Qty leaves = 0;       ///< open quantity
  Qty filled = 0;
  OrderType type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kGtc;
  OrderStatus status = OrderStatus::kPendingNew;
  bool cancel_pending = false;
  bool modify_pending = false;
  Qty queue_ahead = -1;  ///< exchange-side queue ahead estimate (raw qty), -1 if not resting
};

/// One execution of our order.
struct Fill {
  TimestampNs exch_ts_ns = 0;   ///< when it happened at the exchange
  TimestampNs local_ts_ns = 0;  ///< when the strategy learns it (response latency)
  ClientOrderId order_id = 0;
  Side side = Side::kNone;      ///< our side
  Price price = kNoPrice;
  Qty qty = 0;
  Money fee = 0;                ///< positive paid, negative rebate
  bool maker = true;
  Qty queue_ahead_at_entry = -1;  ///< queue ahead when the order started resting (-1 taker)
  Price bid_at_fill = kNoPrice;   ///< exchange best bid / ask just before the fill (the mid is
  Price ask_at_fill = kNoPrice;   ///< their average; kNoPrice when a side is empty)
};

/// Order log entry / order update delivered to the strategy.
enum class OrderEventKind : std::uint8_t {
  kSubmitted = 0,   ///< strategy sent it (local time)
  kAccepted,        ///< GTC / post-only order accepted on arrival (before any taker fill it
                    ///< makes); IOC, FOK and market orders get fills and then kCanceled for
                    ///< any remainder, never kAccepted
  kFilled,          ///< partial or full fill (see Fill)
  kCanceled,
  kRejected,
  kModified,        ///< price / size changed at the exchange
  kCancelSent,
  kModifySent,
};
[[nodiscard]] const char* to_string(OrderEventKind k) noexcept;

struct OrderUpdate {
  TimestampNs exch_ts_ns = 0;   ///< exchange time of the change (kNoTimestamp for *Sent/Submitted)
  TimestampNs local_ts_ns = 0;  ///< local time the strategy sees it
  ClientOrderId order_id = 0;
  OrderEventKind kind = OrderEventKind::kSubmitted;
  OrderStatus status = OrderStatus::kPendingNew;
  RejectReason reason = RejectReason::kNone;
  Side side = Side::kNone;
  Price price = kNoPrice;
  Qty qty = 0;      ///< total size
  Qty leaves = 0;
  Qty filled = 0;
};

}  // namespace mmkit::exchange
