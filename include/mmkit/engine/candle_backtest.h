// Candle backtester: fast, coarse parameter sweeps over months of OHLCV candles.
//
// LOWER FIDELITY than the tick engine (engine.h): there is no order book, no queue, no latency,
// and nothing is known of the path inside a candle. A quote resting through candle t fills, in
// full, at its own price, when the candle's range crosses it:
//   bid fills  ⇔  low_t  <  bid_t   (option touch: low_t  <= bid_t)
//   ask fills  ⇔  high_t >  ask_t   (option touch: high_t >= ask_t)
// qty = the quote's size (option: capped at volume_fraction × the candle's volume).
// Model, assumptions, config keys and measured figures: docs/candle_backtest.md.
//
// Timing (no look-ahead): the quotes of candle t are computed from candles 0..t−1 only: the mid
// is close_{t−1}, σ the estimator's value after candle t−1, the position the one after t−1's
// fills and funding. Candle 0 is never quoted.
//
// Quoting models, per candle (prices in the quote currency, q = position / order_qty):
//  - spread quoter, the law of strategy/spread_quoter.h (docs/strategies.md#spread-quoter):
//      spread = max(min_spread_ticks, min_spread_bps·1e-4·mid/tick, σ_ticks × vol_multiplier)
//      center = mid − skew_per_lot × q × tick,   bid = center − spread/2,  ask = center + spread/2
//    σ_ticks: the candle volatility estimate in ticks/√s (σ_log × mid / tick); vol_multiplier √s.
//  - Avellaneda-Stoikov: strategy::avellaneda_stoikov_quote(mid, q, γ, σ_price, horizon_s, k)
//    (Avellaneda & Stoikov 2008, §3.2; strategy/avellaneda_stoikov.h), σ_price = σ_log × mid in
//    price/√s, T − t = horizon_s at every candle (rolling horizon); k defaults to
//    strategy::as_k_for_spread(γ, min_spread_ticks × tick).
// Then, on the tick grid: bid rounded down, ask rounded up, bid <= close_{t−1} and
// ask >= close_{t−1} (the post-only stand-in: no quote through the last price), ask > bid. Sizes:
// order_qty, cut to stay within ±max_position from the position at the start of the candle
// (a side at the limit is not quoted).
// Volatility: signals::RollingCandleVariance (Garman-Klass or Parkinson over vol_window candles)
// or signals::EwmaVolatility of the closes (half-life vol_window candles); σ_log per √s.
//
// Accounting: fills in integer ticks × lots (exact cash); maker fee = maker_fee_bps·1e-4 ×
// notional per fill (negative = rebate); funding settled at each funding time ts_f after the
// last candle whose close time <= ts_f: payment = position × close × rate (longs pay shorts when
// rate > 0), subtracted from cash. Equity (mark-to-market) at each close:
//   equity_t = cash_t + position_t × close_t,  cash = −Σ signed fill notional − fees − funding.
// All values in the quote currency (× contract_multiplier); PnL = final equity (start 0).
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mmkit/core/types.h"
#include "mmkit/data/candles.h"
#include "mmkit/data/funding.h"
#include "mmkit/data/source.h"

namespace mmkit::engine {

enum class CandleStrategy : std::uint8_t { kSpreadQuoter = 0, kAvellanedaStoikov = 1 };
enum class CandleVolEstimator : std::uint8_t { kGarmanKlass = 0, kParkinson = 1, kEwma = 2 };

[[nodiscard]] const char* to_string(CandleStrategy s) noexcept;
[[nodiscard]] const char* to_string(CandleVolEstimator e) noexcept;
/// "spread-quoter" / "avellaneda-stoikov"; throws mmkit::Error otherwise.
[[nodiscard]] CandleStrategy parse_candle_strategy(std::string_view s);
/// "garman-klass" / "parkinson" / "ewma"; throws mmkit::Error otherwise.
[[nodiscard]] CandleVolEstimator parse_candle_vol_estimator(std::string_view s);

/// Configuration. Prices in the quote currency, quantities in the base unit (coin, shares,
/// contracts). Numeric keys can be set by name (set_candle_param) — the names are the field names.
struct CandleBacktestConfig {
  CandleStrategy strategy = CandleStrategy::kSpreadQuoter;
  // instrument
  double tick_size = 0.1;             ///< price grid of the quotes (> 0); candle prices are
                                      ///< rounded to it (off-grid prices counted)
  double lot_size = 0.001;            ///< quantity grid (> 0)
  double contract_multiplier = 1.0;   ///< currency per price unit per quantity unit (> 0)
  // common quoting
  double order_qty = 0.001;           ///< per side per candle, a positive multiple of lot_size
  double max_position = 0.01;         ///< |position| cap (>= 0)
  // spread quoter
  double min_spread_ticks = 1.0;      ///< full-spread floor, ticks (>= 0)
  double min_spread_bps = 0.0;        ///< full-spread floor relative to the mid, bps (>= 0)
  double vol_multiplier = 0.0;        ///< √s; 0 = fixed spread (no volatility warm-up)
  double skew_per_lot = 0.0;          ///< ticks of center shift per order_qty of position (>= 0)
  // Avellaneda-Stoikov
  double gamma = 0.1;                 ///< risk aversion, 1/price (> 0)
  double k = 0.0;                     ///< order-arrival decay, 1/price; 0: as_k_for_spread(γ,
                                      ///< min_spread_ticks × tick)
  double horizon_s = 60.0;            ///< T − t, seconds (>= 0)
  double sigma = 0.0;                 ///< fixed σ in price/√s; 0: the candle estimate
  // volatility
  CandleVolEstimator vol_estimator = CandleVolEstimator::kGarmanKlass;
  double vol_window = 60.0;           ///< candles: rolling window, or EWMA half-life (>= 1)
  // fills and costs
  bool touch = false;                 ///< true: low <= bid / high >= ask also fills
  double volume_fraction = 0.0;       ///< > 0: fill qty <= fraction × candle volume (base),
                                      ///< rounded down to the lot; 0: no cap
  double maker_fee_bps = 0.0;         ///< per fill on notional; negative = rebate
  bool settle_funding = true;         ///< settle the funding series given to the run
};

/// Sets a numeric field by its name ("min_spread_bps", "order_qty", "touch" (0/1), ...).
/// Throws mmkit::Error listing the known keys for an unknown one.
void set_candle_param(CandleBacktestConfig& c, std::string_view key, double value);
/// The numeric keys set_candle_param accepts, in declaration order.
[[nodiscard]] const std::vector<std::string>& candle_param_keys();
/// Throws mmkit::Error("candle backtest: param 'P': WHAT") for an invalid value.
void validate(const CandleBacktestConfig& c);

/// Candles and funding converted once for many runs: prices in integer ticks, volume in the base
/// unit, the volatility estimate after each candle, funding times mapped to candles.
struct PreparedCandles {
  double tick_size = 0;
  std::int64_t interval_ns = 0;
  std::vector<TimestampNs> close_ts_ns;  ///< open + interval
  std::vector<std::int64_t> open, high, low, close;  ///< ticks
  std::vector<double> volume_base;       ///< base units (quote volumes converted at the close)
  std::vector<double> sigma_log;         ///< σ of log returns per √s after candle t; NaN before
                                         ///< the estimator is ready
  /// Funding settled after candle `candle` (the last one with close <= ts), in time order.
  struct Settlement {
    std::size_t candle;
    TimestampNs ts_ns;
    double rate;
  };
  std::vector<Settlement> funding;
  std::uint64_t off_grid_prices = 0;     ///< candle prices not within 1e-6 tick of the grid
  std::uint64_t funding_outside = 0;     ///< funding times before the first close or at/after
                                         ///< the last close + interval (not settled)
  CandleVolEstimator vol_estimator = CandleVolEstimator::kGarmanKlass;
  double vol_window = 0;
};

/// Throws mmkit::Error for an empty series, interval <= 0, a non-positive price, or an invalid
/// tick / vol_window.
[[nodiscard]] PreparedCandles prepare_candles(const data::CandleSeries& series,
                                              std::span<const data::FundingRate> funding,
                                              double tick_size, CandleVolEstimator estimator,
                                              double vol_window);

struct CandleFill {
  std::size_t candle = 0;   ///< index of the candle it filled in
  TimestampNs ts_ns = 0;    ///< that candle's close time (the fill time is unknown within it)
  Side side = Side::kNone;  ///< our side: kBid = we bought
  double price = 0;         ///< quote currency
  double qty = 0;           ///< base units
  double fee = 0;           ///< quote currency (negative = rebate)
};

struct FundingPayment {
  std::size_t candle = 0;
  TimestampNs ts_ns = 0;
  double rate = 0;
  double mark = 0;          ///< close of the candle before the settlement
  double position = 0;
  double payment = 0;       ///< position × mark × rate × multiplier; > 0 = we paid
};

struct CandleMetrics {
  double pnl = 0;             ///< final equity, quote currency (fees and funding included)
  double gross_pnl = 0;       ///< pnl + fees + funding (before costs)
  double fees = 0;            ///< Σ maker fees paid (negative = net rebate)
  double funding = 0;         ///< Σ funding paid (negative = received)
  double sharpe = 0;          ///< mean/sd of per-candle equity changes × √(365·86400 / interval_s)
                              ///< (24/7 year; 0 when sd ~ 0)
  double max_drawdown = 0;    ///< largest fall of equity from a running peak (>= 0)
  std::int64_t fills = 0;
  std::int64_t bid_fills = 0, ask_fills = 0;
  std::int64_t both_sides_candles = 0;  ///< candles where both quotes filled
  double volume = 0;          ///< Σ fill qty, base units
  double notional = 0;        ///< Σ fill price × qty × multiplier
  double inventory_mean = 0;  ///< mean position at the closes, base units
  double inventory_std = 0;   ///< population sd of the position at the closes
  double final_position = 0;
  std::int64_t candles = 0;
  std::int64_t quoted_candles = 0;  ///< candles with at least one quote
  std::int64_t funding_settlements = 0;
};

struct CandleBacktestResult {
  CandleMetrics metrics;
  // per candle (filled only when record = true):
  std::vector<TimestampNs> ts_ns;  ///< close time
  std::vector<double> close, equity, position, cash;
  std::vector<double> bid, ask;    ///< quotes resting through the candle; NaN = none
  std::vector<CandleFill> fills;
  std::vector<FundingPayment> funding;
};

/// One run. record = false keeps only the metrics (the sweep's mode). Throws mmkit::Error for
/// an invalid config or one whose tick / volatility settings differ from `data`'s.
[[nodiscard]] CandleBacktestResult run_candle_backtest(const PreparedCandles& data,
                                                       const CandleBacktestConfig& config,
                                                       bool record = true);

/// Convenience: prepare + run.
[[nodiscard]] CandleBacktestResult run_candle_backtest(const data::CandleSeries& series,
                                                       std::span<const data::FundingRate> funding,
                                                       const CandleBacktestConfig& config,
                                                       bool record = true);

/// One axis of a sweep: a numeric key of set_candle_param and its values.
struct SweepAxis {
  std::string key;
  std::vector<double> values;
};

struct CandleSweepRow {
  std::vector<double> values;  ///< one per axis, in axis order
  CandleMetrics metrics;
};

/// Runs the full grid (Cartesian product) from `base`, in row-major order: the last axis varies
/// fastest. `threads` in [1, 64]; points are split across threads but each row is written at its
/// grid index, so the result does not depend on `threads`. Axes touching tick_size,
/// vol_estimator or vol_window re-prepare the candles per point. Throws mmkit::Error for an
/// unknown key, an empty axis or an invalid point.
[[nodiscard]] std::vector<CandleSweepRow> candle_sweep(const data::CandleSeries& series,
                                                       std::span<const data::FundingRate> funding,
                                                       const CandleBacktestConfig& base,
                                                       const std::vector<SweepAxis>& axes,
                                                       int threads = 1);

// ---------------------------------------------------------------------------------------------
// Candles built from trade prints (for comparing with the tick backtester on the same window).

struct TradePrint {
  TimestampNs ts_ns = 0;  ///< trade time (exchange), ns since epoch
  double price = 0;       ///< quote currency
  double qty = 0;         ///< base units
};

/// OHLCV bars of `interval_ns` aligned to multiples of it since the epoch: open / close = first /
/// last print in [t, t + interval), high / low their max / min, volume = Σ qty (base),
/// quote_volume = Σ price × qty, trades = count. Bars between the first and the last print with
/// no trade are flat at the previous close with volume 0 and trades 0 (Binance kline
/// convention). Prints must be in non-decreasing time order (throws mmkit::Error naming the index
/// otherwise), with positive price and qty; interval_ns > 0.
[[nodiscard]] std::vector<data::Candle> candles_from_trades(std::span<const TradePrint> trades,
                                                            std::int64_t interval_ns);

struct DerivedCandles {
  data::CandleSeries series;   ///< format "trades", volume_unit "base"
  InstrumentSpec instrument;
  std::uint64_t prints = 0;    ///< trade prints used
  std::uint64_t reordered = 0; ///< prints whose exchange time was before the previous one's
                               ///< (stably sorted by time before binning)
};

/// Reads every event of `src` and bins its trade prints (EventKind::kTrade; with
/// include_executions also kExecution, for LOBSTER where visible executions are not kTrade) by
/// exchange time. Prices / quantities converted with the source's InstrumentSpec.
[[nodiscard]] DerivedCandles candles_from_source(data::EventSource& src, std::int64_t interval_ns,
                                                 bool include_executions);

/// Writes candles in the Binance USD-M kline CSV layout that data::read_candles reads back
/// ("timestamp,open,high,low,close,volume,quote_volume,trades,close_time", ms). Prices with
/// `price_decimals` decimals. Throws mmkit::Error if the file cannot be written.
void write_candles_csv(const std::string& path, std::span<const data::Candle> candles,
                       std::int64_t interval_ns, int price_decimals, int qty_decimals);

}  // namespace mmkit::engine
