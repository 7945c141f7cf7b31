// The strategy API: callbacks from the engine and a context to read state and act.
//
// Time: every callback happens at a local (strategy) time, Context::now(), in ns since the
// epoch. The book a strategy sees is the local book: market events reach it after the feed
// latency; its orders reach the exchange after the entry latency and their updates come back
// after the response latency (mmkit/exchange/models.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <variant>

#include "mmkit/book/book.h"
#include "mmkit/core/instrument.h"
#include "mmkit/exchange/order.h"

namespace mmkit::strategy {

using exchange::ClientOrderId;
using exchange::Fill;
using exchange::Money;
using exchange::OrderRequest;
using exchange::OrderUpdate;
using exchange::OrderView;

/// A trade print as the strategy sees it (after feed latency). `side` is the aggressor.
struct TradeView {
  TimestampNs exch_ts_ns = 0;
  TimestampNs local_ts_ns = 0;
  Price price = kNoPrice;
  Qty qty = 0;
  Side side = Side::kNone;
};

/// Read-only view of the local book.
class BookView {
 public:
  virtual ~BookView() = default;
  [[nodiscard]] virtual book::Level best(Side s) const = 0;
  [[nodiscard]] virtual book::Level level(Side s, std::size_t i) const = 0;
  [[nodiscard]] virtual std::size_t depth(Side s) const = 0;
  /// (best bid + best ask) / 2 in raw price units; NaN if a side is empty.
  [[nodiscard]] double mid() const;
};

/// Perpetual funding as the engine knows it (EngineConfig::funding). The engine's `rate` is the
/// next settlement's rate from its schedule: it stands in for the venue's predicted funding rate
/// (Binance GET /fapi/v1/premiumIndex `lastFundingRate`), which a backtest cannot observe.
struct FundingInfo {
  bool available = false;
  double rate = 0;  ///< next settlement's rate, fraction per interval; > 0: longs pay shorts
  TimestampNs next_funding_ts = kNoTimestamp;  ///< ns since epoch UTC; kNoTimestamp: none left
  TimestampNs interval_ns = 0;                 ///< settlement period (ns)
};

/// What the engine offers a strategy inside a callback. Not thread-safe; valid only during
/// the callback.
class Context {
 public:
  virtual ~Context() = default;
  [[nodiscard]] virtual TimestampNs now() const = 0;
  [[nodiscard]] virtual const InstrumentSpec& instrument() const = 0;
  [[nodiscard]] virtual const BookView& book() const = 0;
  /// Position in raw qty units (+ long, − short), as known from fills received so far.
  [[nodiscard]] virtual Qty position() const = 0;
  /// Cash (Money units, see exchange/order.h), fees included.
  [[nodiscard]] virtual Money cash() const = 0;
  /// Our orders not yet terminal (as last known locally). A snapshot valid until the next call,
  /// so a strategy may submit / cancel while iterating it. OrderView::queue_ahead is the
  /// exchange's current estimate (not delayed by latency: a research convenience).
  [[nodiscard]] virtual std::span<const OrderView> open_orders() const = 0;
  /// Sends a new order; returns its id (assigned if request.id == 0). Engine risk limits are
  /// checked here: a breach produces a kRejected update (reason kRisk*) and nothing is sent.
  virtual ClientOrderId submit(const OrderRequest& request) = 0;
  /// Sends a cancel; false if the id is unknown locally or already terminal.
  virtual bool cancel(ClientOrderId id) = 0;
  /// Sends a modify (new price and size; a price change or size increase loses priority).
  virtual bool modify(ClientOrderId id, Price price, Qty qty) = 0;
  /// Number of trade prints and book updates seen so far (for warm-ups).
  [[nodiscard]] virtual std::uint64_t events_seen() const = 0;
  /// Funding of a perpetual (EngineConfig::funding); {} (available = false) when none.
  [[nodiscard]] virtual FundingInfo funding() const { return {}; }
};

/// Strategy parameters as given by a config file or the command line (name -> value).
using ParamValue = std::variant<bool, std::int64_t, double, std::string>;
using Params = std::map<std::string, ParamValue, std::less<>>;

/// Base class of all strategies. Callbacks default to doing nothing.
class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual void on_start(Context&) {}
  /// After each complete update of the local book.
  virtual void on_book_update(Context&) {}
  virtual void on_trade(Context&, const TradeView&) {}
  /// Every change of one of our orders, fills included (before on_fill for a fill).
  virtual void on_order_update(Context&, const OrderUpdate&) {}
  virtual void on_fill(Context&, const Fill&) {}
  /// Every timer_interval_ns of local time (EngineConfig::timer_interval_ns).
  virtual void on_timer(Context&) {}
  /// After the data ended and in-flight messages were delivered; orders sent here never reach
  /// the exchange.
  virtual void on_end(Context&) {}
  /// The parameters actually used, defaults resolved (for the run's resolved config).
  [[nodiscard]] virtual Params resolved_params() const { return {}; }
  /// Strategy-specific results reported at the end of the run (e.g. an execution algorithm's
  /// implementation shortfall), written under "strategy" in metrics.json. Deterministic.
  [[nodiscard]] virtual Params summary() const { return {}; }
};

/// Market facts for instrument-derived defaults, measured on the first events of the data.
struct MarketProfile {
  double median_trade_qty = 0;  ///< raw qty units (0 if no trade seen)
  double mean_spread = 0;       ///< raw price units
  double trades_per_second = 0;
  double mid_price = 0;         ///< raw price units, first valid mid
};

/// Creates a shipped strategy by command-line name: "avellaneda-stoikov", "glft", "twap", "vwap",
/// "pov", "almgren-chriss", "adaptive",
/// "spread-quoter", "order-list". Unknown names or parameters throw mmkit::Error naming them
/// and listing the accepted ones.
[[nodiscard]] std::unique_ptr<Strategy> make_strategy(const std::string& name, const Params& params,
                                                      const InstrumentSpec& spec,
                                                      const MarketProfile& profile);

}  // namespace mmkit::strategy
