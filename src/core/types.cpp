#include "mmkit/core/event.h"
#include "mmkit/core/types.h"

namespace mmkit {

const char* to_string(Side s) noexcept {
  switch (s) {
    case Side::kBid: return "bid";
    case Side::kAsk: return "ask";
    case Side::kNone: break;
  }
  return "none";
}

const char* to_string(Errc e) noexcept {
  switch (e) {
    case Errc::kOk: return "ok";
    case Errc::kUnknownOrder: return "unknown order id";
    case Errc::kDuplicateOrder: return "duplicate order id";
    case Errc::kQtyExceedsOrder: return "quantity exceeds the order's remaining quantity";
    case Errc::kQtyExceedsLevel: return "quantity exceeds the level's volume";
    case Errc::kInvalidQty: return "invalid quantity";
    case Errc::kInvalidPrice: return "invalid price";
    case Errc::kInvalidSide: return "invalid side";
    case Errc::kUnsupported: return "event kind not supported by this book";
  }
  return "?";
}

const char* to_string(EventKind k) noexcept {
  switch (k) {
    case EventKind::kNone: return "none";
    case EventKind::kAdd: return "add";
    case EventKind::kCancel: return "cancel";
    case EventKind::kModify: return "modify";
    case EventKind::kExecution: return "execution";
    case EventKind::kFill: return "fill";
    case EventKind::kTrade: return "trade";
    case EventKind::kLevelUpdate: return "level_update";
    case EventKind::kSnapshotStart: return "snapshot_start";
    case EventKind::kSnapshotEnd: return "snapshot_end";
    case EventKind::kClear: return "clear";
    case EventKind::kBestBidAsk: return "best_bid_ask";
    case EventKind::kStatus: return "status";
  }
  return "?";
}

}  // namespace mmkit
