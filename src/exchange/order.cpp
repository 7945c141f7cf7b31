#include "mmkit/exchange/order.h"

#include "mmkit/core/decimal.h"

namespace mmkit::exchange {

double money_to_double(Money m, const InstrumentSpec& spec) noexcept {
  // Split into integer and fractional parts of the unit 10^-(pd+qd+9) to keep precision for
  // large values.
  const int decimals = spec.price_decimals + spec.qty_decimals + 9;
  Money scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  const Money whole = m / scale;
  const Money frac = m % scale;
  return (static_cast<double>(whole) + static_cast<double>(frac) / static_cast<double>(scale)) *
         spec.multiplier();
}

const char* to_string(RejectReason r) noexcept {
  switch (r) {
    case RejectReason::kNone: return "none";
    case RejectReason::kPostOnlyWouldCross: return "post_only_would_cross";
    case RejectReason::kFokNotFillable: return "fok_not_fillable";
    case RejectReason::kNoLiquidity: return "no_liquidity";
    case RejectReason::kInvalidPrice: return "invalid_price";
    case RejectReason::kInvalidQty: return "invalid_qty";
    case RejectReason::kUnknownOrder: return "unknown_order";
    case RejectReason::kTooLateToCancel: return "too_late_to_cancel";
    case RejectReason::kDuplicateId: return "duplicate_id";
    case RejectReason::kRiskMaxPosition: return "risk_max_position";
    case RejectReason::kRiskMaxOrderSize: return "risk_max_order_size";
    case RejectReason::kRiskMaxOpenOrders: return "risk_max_open_orders";
    case RejectReason::kRiskMaxNotional: return "risk_max_notional";
  }
  return "?";
}

const char* to_string(OrderStatus s) noexcept {
  switch (s) {
    case OrderStatus::kPendingNew: return "pending_new";
    case OrderStatus::kOpen: return "open";
    case OrderStatus::kFilled: return "filled";
    case OrderStatus::kCanceled: return "canceled";
    case OrderStatus::kRejected: return "rejected";
  }
  return "?";
}

const char* to_string(TimeInForce t) noexcept {
  switch (t) {
    case TimeInForce::kGtc: return "gtc";
    case TimeInForce::kPostOnly: return "post_only";
    case TimeInForce::kIoc: return "ioc";
    case TimeInForce::kFok: return "fok";
  }
  return "?";
}

const char* to_string(OrderType t) noexcept { return t == OrderType::kMarket ? "market" : "limit"; }

const char* to_string(OrderEventKind k) noexcept {
  switch (k) {
    case OrderEventKind::kSubmitted: return "submitted";
    case OrderEventKind::kAccepted: return "accepted";
    case OrderEventKind::kFilled: return "filled";
    case OrderEventKind::kCanceled: return "canceled";
    case OrderEventKind::kRejected: return "rejected";
    case OrderEventKind::kModified: return "modified";
    case OrderEventKind::kCancelSent: return "cancel_sent";
    case OrderEventKind::kModifySent: return "modify_sent";
  }
  return "?";
}

}  // namespace mmkit::exchange
