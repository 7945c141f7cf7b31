#include "mmkit/strategy/order_list.h"

#include <string_view>
#include <utility>

#include "mmkit/core/decimal.h"
#include "mmkit/core/error.h"
#include "mmkit/data/line_reader.h"

namespace mmkit::strategy {
namespace {

constexpr std::string_view kHeader[] = {"ts_ns", "side", "price", "qty", "type", "tif"};

std::string quoted(std::string_view s) {
  std::string q;
  q.reserve(s.size() + 2);
  q.push_back('\'');
  q.append(s);
  q.push_back('\'');
  return q;
}

}  // namespace

std::vector<ListedOrder> read_order_list(const std::string& path, const InstrumentSpec& spec) {
  auto reader = data::LineReader::open(path);
  const std::string& file = reader->name();
  std::string_view line;
  if (!reader->next(line)) {
    throw_at_line(file, 1, "", "empty file: expected the header ts_ns,side,price,qty,type[,tif]");
  }
  std::string_view f[8];
  std::size_t nf = data::split_fields(line, ',', f, 8);
  if (nf != 5 && nf != 6) {
    throw_at_line(file, 1, "", "header must be ts_ns,side,price,qty,type[,tif], got " + quoted(line));
  }
  for (std::size_t i = 0; i < nf; ++i) {
    if (f[i] != kHeader[i]) {
      throw_at_line(file, 1, kHeader[i],
                    "header column " + std::to_string(i + 1) + " must be " + quoted(kHeader[i]) +
                        ", got " + quoted(f[i]));
    }
  }
  const std::size_t ncols = nf;
  const Price tick = spec.tick_size > 0 ? spec.tick_size : 1;
  const Qty lot = spec.lot_size > 0 ? spec.lot_size : 1;

  std::vector<ListedOrder> out;
  TimestampNs prev_ts = kNoTimestamp;
  while (reader->next(line)) {
    const std::uint64_t ln = reader->line_number();
    nf = data::split_fields(line, ',', f, 8);
    if (nf != ncols) {
      throw_at_line(file, ln, "",
                    "expected " + std::to_string(ncols) + " fields, got " + std::to_string(nf) +
                        (line.empty() ? " (empty line)" : ""));
    }
    ListedOrder o;
    o.line = ln;
    std::int64_t ts = 0;
    if (!parse_int(f[0], ts)) throw_at_line(file, ln, "ts_ns", "unparsable integer " + quoted(f[0]));
    if (prev_ts != kNoTimestamp && ts < prev_ts) {
      throw_at_line(file, ln, "ts_ns",
                    "timestamps not sorted: " + std::to_string(ts) + " after " + std::to_string(prev_ts));
    }
    prev_ts = ts;
    o.ts_ns = ts;

    if (f[1] == "buy") {
      o.request.side = Side::kBid;
    } else if (f[1] == "sell") {
      o.request.side = Side::kAsk;
    } else {
      throw_at_line(file, ln, "side", "unknown side " + quoted(f[1]) + " (accepted: buy, sell)");
    }

    if (f[4] == "limit") {
      o.request.type = exchange::OrderType::kLimit;
    } else if (f[4] == "market") {
      o.request.type = exchange::OrderType::kMarket;
    } else {
      throw_at_line(file, ln, "type", "unknown type " + quoted(f[4]) + " (accepted: limit, market)");
    }

    o.request.tif = exchange::TimeInForce::kGtc;
    if (ncols == 6 && !f[5].empty()) {
      if (f[5] == "gtc") {
        o.request.tif = exchange::TimeInForce::kGtc;
      } else if (f[5] == "post_only") {
        o.request.tif = exchange::TimeInForce::kPostOnly;
      } else if (f[5] == "ioc") {
        o.request.tif = exchange::TimeInForce::kIoc;
      } else if (f[5] == "fok") {
        o.request.tif = exchange::TimeInForce::kFok;
      } else {
        throw_at_line(file, ln, "tif",
                      "unknown tif " + quoted(f[5]) + " (accepted: gtc, post_only, ioc, fok)");
      }
    }
    const bool market = o.request.type == exchange::OrderType::kMarket;
    if (market && o.request.tif == exchange::TimeInForce::kPostOnly) {
      throw_at_line(file, ln, "tif", "a market order cannot be post_only");
    }

    if (market && f[2].empty()) {
      o.request.price = kNoPrice;
    } else {
      std::int64_t px = 0;
      if (!parse_decimal(f[2], spec.price_decimals, px)) {
        throw_at_line(file, ln, "price",
                      "unparsable price " + quoted(f[2]) + " (decimal with at most " +
                          std::to_string(spec.price_decimals) + " decimals)");
      }
      if (market) {
        o.request.price = kNoPrice;
      } else {
        if (px <= 0) throw_at_line(file, ln, "price", "price must be > 0, got " + quoted(f[2]));
        if (px % tick != 0) {
          throw_at_line(file, ln, "price",
                        "price " + quoted(f[2]) + " is not on the tick grid (tick " +
                            format_decimal(tick, spec.price_decimals, spec.price_display_decimals()) +
                            ")");
        }
        o.request.price = px;
      }
    }

    std::int64_t qty = 0;
    if (!parse_decimal(f[3], spec.qty_decimals, qty)) {
      throw_at_line(file, ln, "qty",
                    "unparsable quantity " + quoted(f[3]) + " (decimal with at most " +
                        std::to_string(spec.qty_decimals) + " decimals)");
    }
    if (qty <= 0) throw_at_line(file, ln, "qty", "quantity must be > 0, got " + quoted(f[3]));
    if (qty % lot != 0) {
      throw_at_line(file, ln, "qty",
                    "quantity " + quoted(f[3]) + " is not a multiple of the lot " +
                        format_decimal(lot, spec.qty_decimals, spec.qty_display_decimals()));
    }
    o.request.qty = qty;
    out.push_back(o);
  }
  return out;
}

OrderList::OrderList(const OrderListParams& p, const InstrumentSpec& spec) {
  if (!p.orders || p.orders->empty()) {
    throw Error("strategy 'order-list': param 'orders': required (path of a CSV "
                "ts_ns,side,price,qty,type[,tif])");
  }
  path_ = *p.orders;
  orders_ = read_order_list(path_, spec);
  ids_.reserve(orders_.size());
}

OrderList::OrderList(std::vector<ListedOrder> orders, std::string path)
    : orders_(std::move(orders)), path_(std::move(path)) {
  ids_.reserve(orders_.size());
}

void OrderList::flush(Context& ctx) {
  // submit() may deliver updates synchronously (e.g. a risk rejection): no re-entry.
  if (flushing_) return;
  flushing_ = true;
  struct Reset {
    bool& b;
    ~Reset() { b = false; }
  } reset{flushing_};
  const TimestampNs now = ctx.now();
  while (next_ < orders_.size() && orders_[next_].ts_ns <= now) {
    const OrderRequest& r = orders_[next_++].request;
    ids_.push_back(ctx.submit(r));
  }
}

Params OrderList::resolved_params() const {
  Params p;
  p["orders"] = path_;
  return p;
}

}  // namespace mmkit::strategy
