#include "mmkit/engine/candle_backtest.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <thread>

#include "mmkit/core/error.h"
#include "mmkit/signals/volatility.h"
#include "mmkit/strategy/avellaneda_stoikov.h"

namespace mmkit::engine {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kSecondsPerYear = 365.0 * 86400.0;

[[noreturn]] void param_error(std::string_view key, std::string_view what) {
  throw Error("candle backtest: param '" + std::string(key) + "': " + std::string(what));
}

struct Key {
  const char* name;
  double CandleBacktestConfig::* field;  // nullptr: handled specially
};

const Key kKeys[] = {
    {"tick_size", &CandleBacktestConfig::tick_size},
    {"lot_size", &CandleBacktestConfig::lot_size},
    {"contract_multiplier", &CandleBacktestConfig::contract_multiplier},
    {"order_qty", &CandleBacktestConfig::order_qty},
    {"max_position", &CandleBacktestConfig::max_position},
    {"min_spread_ticks", &CandleBacktestConfig::min_spread_ticks},
    {"min_spread_bps", &CandleBacktestConfig::min_spread_bps},
    {"vol_multiplier", &CandleBacktestConfig::vol_multiplier},
    {"skew_per_lot", &CandleBacktestConfig::skew_per_lot},
    {"gamma", &CandleBacktestConfig::gamma},
    {"k", &CandleBacktestConfig::k},
    {"horizon_s", &CandleBacktestConfig::horizon_s},
    {"sigma", &CandleBacktestConfig::sigma},
    {"vol_window", &CandleBacktestConfig::vol_window},
    {"touch", nullptr},
    {"volume_fraction", &CandleBacktestConfig::volume_fraction},
    {"maker_fee_bps", &CandleBacktestConfig::maker_fee_bps},
    {"settle_funding", nullptr},
};

bool finite_at_least(double v, double lo) { return std::isfinite(v) && v >= lo; }

// floor / ceil to int64 without a libm call (no SSE4.1 round at the baseline ISA).
std::int64_t floor_ticks(double x) {
  const auto t = static_cast<std::int64_t>(x);
  return static_cast<double>(t) > x ? t - 1 : t;
}
std::int64_t ceil_ticks(double x) {
  const auto t = static_cast<std::int64_t>(x);
  return static_cast<double>(t) < x ? t + 1 : t;
}

std::int64_t to_lots(double qty, double lot) {
  return static_cast<std::int64_t>(std::floor(qty / lot + 1e-9));
}

// Ring-free estimate of σ_log per √s after each candle (NaN before ready).
std::vector<double> estimate_sigma(const data::CandleSeries& s, std::int64_t interval_ns,
                                   CandleVolEstimator e, double window) {
  std::vector<double> out(s.rows.size(), kNaN);
  const std::size_t n = static_cast<std::size_t>(window);
  if (e == CandleVolEstimator::kEwma) {
    signals::EwmaVolatilityConfig c;
    c.sample_interval_ns = interval_ns;
    c.half_life_ns = static_cast<TimestampNs>(std::llround(window * static_cast<double>(interval_ns)));
    c.min_samples = n;
    signals::EwmaVolatility v(c);
    for (std::size_t i = 0; i < s.rows.size(); ++i) {
      v.update(s.rows[i].open_ts_ns + interval_ns, s.rows[i].close);
      if (v.ready()) out[i] = v.value();
    }
    return out;
  }
  signals::RollingCandleVarianceConfig c;
  c.estimator = e == CandleVolEstimator::kParkinson ? signals::CandleVarianceEstimator::kParkinson
                                                    : signals::CandleVarianceEstimator::kGarmanKlass;
  c.window = n;
  c.candle_ns = interval_ns;
  signals::RollingCandleVariance v(c);
  for (std::size_t i = 0; i < s.rows.size(); ++i) {
    const auto& r = s.rows[i];
    v.update(r.open, r.high, r.low, r.close);
    if (v.ready()) out[i] = v.volatility();
  }
  return out;
}

}  // namespace

const char* to_string(CandleStrategy s) noexcept {
  return s == CandleStrategy::kSpreadQuoter ? "spread-quoter" : "avellaneda-stoikov";
}

const char* to_string(CandleVolEstimator e) noexcept {
  switch (e) {
    case CandleVolEstimator::kGarmanKlass: return "garman-klass";
    case CandleVolEstimator::kParkinson: return "parkinson";
    case CandleVolEstimator::kEwma: return "ewma";
  }
  return "?";
}

CandleStrategy parse_candle_strategy(std::string_view s) {
  if (s == "spread-quoter") return CandleStrategy::kSpreadQuoter;
  if (s == "avellaneda-stoikov") return CandleStrategy::kAvellanedaStoikov;
  param_error("strategy", "unknown '" + std::string(s) +
                              "' (known: spread-quoter, avellaneda-stoikov)");
}

CandleVolEstimator parse_candle_vol_estimator(std::string_view s) {
  if (s == "garman-klass") return CandleVolEstimator::kGarmanKlass;
  if (s == "parkinson") return CandleVolEstimator::kParkinson;
  if (s == "ewma") return CandleVolEstimator::kEwma;
  param_error("vol_estimator", "unknown '" + std::string(s) +
                                   "' (known: garman-klass, parkinson, ewma)");
}

const std::vector<std::string>& candle_param_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    for (const Key& key : kKeys) k.emplace_back(key.name);
    return k;
  }();
  return keys;
}

void set_candle_param(CandleBacktestConfig& c, std::string_view key, double value) {
  for (const Key& k : kKeys) {
    if (key != k.name) continue;
    if (k.field != nullptr) {
      c.*(k.field) = value;
    } else if (key == "touch") {
      c.touch = value != 0;
    } else {
      c.settle_funding = value != 0;
    }
    return;
  }
  std::string known;
  for (const Key& k : kKeys) known += (known.empty() ? "" : ", ") + std::string(k.name);
  param_error(key, "unknown key (known: " + known + ")");
}

void validate(const CandleBacktestConfig& c) {
  if (!(c.tick_size > 0) || !std::isfinite(c.tick_size)) param_error("tick_size", "must be > 0");
  if (!(c.lot_size > 0) || !std::isfinite(c.lot_size)) param_error("lot_size", "must be > 0");
  if (!(c.contract_multiplier > 0) || !std::isfinite(c.contract_multiplier))
    param_error("contract_multiplier", "must be > 0");
  if (!(c.order_qty > 0) || !std::isfinite(c.order_qty)) param_error("order_qty", "must be > 0");
  const double lots = c.order_qty / c.lot_size;
  if (std::fabs(lots - std::round(lots)) > 1e-6 || std::round(lots) < 1)
    param_error("order_qty", "must be a positive multiple of lot_size");
  if (!finite_at_least(c.max_position, 0)) param_error("max_position", "must be >= 0");
  if (!finite_at_least(c.min_spread_ticks, 0)) param_error("min_spread_ticks", "must be >= 0");
  if (!finite_at_least(c.min_spread_bps, 0)) param_error("min_spread_bps", "must be >= 0");
  if (!finite_at_least(c.vol_multiplier, 0)) param_error("vol_multiplier", "must be >= 0");
  if (!finite_at_least(c.skew_per_lot, 0)) param_error("skew_per_lot", "must be >= 0");
  if (!(c.gamma > 0) || !std::isfinite(c.gamma)) param_error("gamma", "must be > 0");
  if (!finite_at_least(c.k, 0)) param_error("k", "must be >= 0 (0: from min_spread_ticks)");
  if (c.strategy == CandleStrategy::kAvellanedaStoikov && c.k == 0 && !(c.min_spread_ticks > 0))
    param_error("k", "0 needs min_spread_ticks > 0 to derive k");
  if (!finite_at_least(c.horizon_s, 0)) param_error("horizon_s", "must be >= 0");
  if (!finite_at_least(c.sigma, 0)) param_error("sigma", "must be >= 0 (0: estimated)");
  if (!finite_at_least(c.vol_window, 1) || c.vol_window != std::floor(c.vol_window))
    param_error("vol_window", "must be an integer >= 1");
  if (!finite_at_least(c.volume_fraction, 0)) param_error("volume_fraction", "must be >= 0");
  if (!std::isfinite(c.maker_fee_bps)) param_error("maker_fee_bps", "must be finite");
}

PreparedCandles prepare_candles(const data::CandleSeries& series,
                                std::span<const data::FundingRate> funding, double tick_size,
                                CandleVolEstimator estimator, double vol_window) {
  if (series.rows.empty()) throw Error(SourceLocation(series.path), "candle backtest: no candles");
  if (series.interval_ns <= 0)
    throw Error(SourceLocation(series.path), "candle backtest: interval unknown (fewer than 2 candles)");
  if (!(tick_size > 0) || !std::isfinite(tick_size)) param_error("tick_size", "must be > 0");
  if (!finite_at_least(vol_window, 1) || vol_window != std::floor(vol_window))
    param_error("vol_window", "must be an integer >= 1");
  PreparedCandles p;
  p.tick_size = tick_size;
  p.interval_ns = series.interval_ns;
  p.vol_estimator = estimator;
  p.vol_window = vol_window;
  const std::size_t n = series.rows.size();
  p.close_ts_ns.resize(n);
  p.open.resize(n);
  p.high.resize(n);
  p.low.resize(n);
  p.close.resize(n);
  p.volume_base.resize(n);
  const bool quote_volume = series.volume_unit == "quote";
  auto ticks = [&](double px) {
    const double t = px / tick_size;
    const double r = std::round(t);
    if (std::fabs(t - r) > 1e-6) ++p.off_grid_prices;
    return static_cast<std::int64_t>(r);
  };
  for (std::size_t i = 0; i < n; ++i) {
    const data::Candle& c = series.rows[i];
    if (!(c.low > 0) || !(c.open > 0) || !(c.close > 0) || !(c.high > 0))
      throw Error(SourceLocation(series.path, 0, "low"),
                  "candle backtest: non-positive price in candle " + std::to_string(i));
    p.close_ts_ns[i] = c.open_ts_ns + series.interval_ns;
    p.open[i] = ticks(c.open);
    p.high[i] = ticks(c.high);
    p.low[i] = ticks(c.low);
    p.close[i] = ticks(c.close);
    p.volume_base[i] = quote_volume ? c.volume / c.close : c.volume;
  }
  p.sigma_log = estimate_sigma(series, series.interval_ns, estimator, vol_window);
  // Funding: settled after the last candle with close <= ts and ts < that close + interval
  // (the bar after it); times outside the data are counted, not settled.
  std::size_t j = 0;
  for (const data::FundingRate& f : funding) {
    while (j + 1 < n && p.close_ts_ns[j + 1] <= f.ts_ns) ++j;
    const bool before = f.ts_ns < p.close_ts_ns[j];
    const TimestampNs next = j + 1 < n ? p.close_ts_ns[j + 1] : p.close_ts_ns[j] + p.interval_ns;
    if (before || f.ts_ns >= next) {
      ++p.funding_outside;
      continue;
    }
    p.funding.push_back({j, f.ts_ns, f.rate});
  }
  return p;
}

CandleBacktestResult run_candle_backtest(const PreparedCandles& d, const CandleBacktestConfig& c,
                                         bool record) {
  validate(c);
  if (std::fabs(c.tick_size - d.tick_size) > 1e-12 * d.tick_size)
    param_error("tick_size", "differs from the prepared candles' tick");
  if (c.vol_estimator != d.vol_estimator || c.vol_window != d.vol_window)
    param_error("vol_window", "volatility settings differ from the prepared candles'");

  const std::size_t n = d.close.size();
  const double tick = c.tick_size, lot = c.lot_size, mult = c.contract_multiplier;
  const double tl = tick * lot * mult;  // currency per tick·lot
  const std::int64_t order_lots = std::llround(c.order_qty / lot);
  const std::int64_t max_lots = to_lots(c.max_position, lot);
  const double fee_rate = c.maker_fee_bps * 1e-4;
  const double interval_s = static_cast<double>(d.interval_ns) * 1e-9;
  const bool as = c.strategy == CandleStrategy::kAvellanedaStoikov;
  const double as_k = c.k > 0 ? c.k : strategy::as_k_for_spread(c.gamma, c.min_spread_ticks * tick);
  const bool need_sigma = as ? c.sigma == 0 : c.vol_multiplier > 0;
  const double bps = c.min_spread_bps * 1e-4;
  const std::int64_t touch_adj = c.touch ? 1 : 0;  // integer ticks: low <= bid ⇔ low < bid + 1
  const double inv_tick = 1.0 / tick;
  const double inv_order_lots = 1.0 / static_cast<double>(order_lots);

  CandleBacktestResult res;
  CandleMetrics& m = res.metrics;
  if (record) {
    res.ts_ns = d.close_ts_ns;
    res.close.resize(n);
    res.equity.resize(n);
    res.position.resize(n);
    res.cash.resize(n);
    res.bid.resize(n);
    res.ask.resize(n);
  }

  std::int64_t pos = 0;       // lots
  std::int64_t cash_tl = 0;   // −Σ signed fill ticks·lots
  double costs = 0;           // fees + funding, currency
  double fees = 0, funding_paid = 0;
  double prev_eq = 0, peak = 0, max_dd = 0;
  double sum_d = 0, sum_d2 = 0;        // per-candle equity changes (Welford-free: shifted sums)
  double inv_sum = 0, inv_sum2 = 0;
  std::size_t fi = 0;
  std::int64_t volume_lots = 0;
  std::int64_t n_buys = 0, n_sells = 0, n_both = 0, quoted = 0;
  double notional = 0;

  for (std::size_t t = 0; t < n; ++t) {
    std::int64_t bid = 0, ask = 0, bid_lots = 0, ask_lots = 0;
    if (t > 0) {
      const std::int64_t prev_close = d.close[t - 1];
      const double mid = static_cast<double>(prev_close) * tick;
      const double sig_log = d.sigma_log[t - 1];
      if (!need_sigma || !std::isnan(sig_log)) {
        const double q = static_cast<double>(pos) * inv_order_lots;
        double bid_t, ask_t;  // model prices in ticks
        if (as) {
          const double sigma = c.sigma > 0 ? c.sigma : sig_log * mid;
          const strategy::AsQuote a =
              strategy::avellaneda_stoikov_quote(mid, q, c.gamma, sigma, c.horizon_s, as_k);
          bid_t = a.bid * inv_tick;
          ask_t = a.ask * inv_tick;
        } else {
          const double mid_t = static_cast<double>(prev_close);
          const double sig_ticks = need_sigma ? sig_log * mid_t : 0.0;
          double spread = std::max(c.min_spread_ticks, bps * mid_t);
          spread = std::max(spread, sig_ticks * c.vol_multiplier);
          const double center = mid_t - c.skew_per_lot * q;
          bid_t = center - 0.5 * spread;
          ask_t = center + 0.5 * spread;
        }
        // 1e-9 tick tolerance so that exact grid prices computed in floating point stay put.
        bid = floor_ticks(bid_t + 1e-9);
        ask = ceil_ticks(ask_t - 1e-9);
        bid = std::min(bid, prev_close);
        ask = std::max(ask, prev_close);
        if (ask <= bid) ask = bid + 1;
        bid_lots = bid > 0 ? std::min(order_lots, max_lots - pos) : 0;
        ask_lots = ask > 0 ? std::min(order_lots, max_lots + pos) : 0;
        if (bid_lots < 0) bid_lots = 0;
        if (ask_lots < 0) ask_lots = 0;
      }
    }
    quoted += (bid_lots > 0) | (ask_lots > 0);
    if (record) {
      res.bid[t] = bid_lots > 0 ? static_cast<double>(bid) * tick : kNaN;
      res.ask[t] = ask_lots > 0 ? static_cast<double>(ask) * tick : kNaN;
    }
    // Fills. Both quotes were sized from the position at the start of the candle, so both may
    // fill and the order inside the candle changes nothing at the close (prices are fixed).
    // Branch-free: fills are close to coin flips, so branches would be mispredicted.
    const std::int64_t bid_cross = d.low[t] < bid + touch_adj;   // low <= bid with touch
    const std::int64_t ask_cross = d.high[t] > ask - touch_adj;  // high >= ask with touch
    std::int64_t buy = bid_lots * bid_cross, sell = ask_lots * ask_cross;
    if (c.volume_fraction > 0 && (buy > 0 || sell > 0)) {
      const std::int64_t cap = to_lots(c.volume_fraction * d.volume_base[t], lot);
      buy = std::min(buy, cap);
      sell = std::min(sell, cap);
    }
    {
      const std::int64_t buy_tl = buy * bid, sell_tl = sell * ask;
      pos += buy - sell;
      cash_tl += sell_tl - buy_tl;
      const double buy_notional = static_cast<double>(buy_tl) * tl;
      const double sell_notional = static_cast<double>(sell_tl) * tl;
      const double buy_fee = fee_rate * buy_notional, sell_fee = fee_rate * sell_notional;
      fees += buy_fee + sell_fee;
      costs += buy_fee + sell_fee;
      notional += buy_notional + sell_notional;
      volume_lots += buy + sell;
      n_buys += buy > 0;
      n_sells += sell > 0;
      n_both += (buy > 0) & (sell > 0);
      if (record && (buy > 0 || sell > 0)) {
        if (buy > 0)
          res.fills.push_back(CandleFill{t, d.close_ts_ns[t], Side::kBid,
                                         static_cast<double>(bid) * tick,
                                         static_cast<double>(buy) * lot, buy_fee});
        if (sell > 0)
          res.fills.push_back(CandleFill{t, d.close_ts_ns[t], Side::kAsk,
                                         static_cast<double>(ask) * tick,
                                         static_cast<double>(sell) * lot, sell_fee});
      }
    }

    const double close_px = static_cast<double>(d.close[t]) * tick;
    for (; fi < d.funding.size() && d.funding[fi].candle == t; ++fi) {
      if (!c.settle_funding) continue;
      const double position = static_cast<double>(pos) * lot;
      const double pay = position * close_px * d.funding[fi].rate * mult;
      funding_paid += pay;
      costs += pay;
      ++m.funding_settlements;
      if (record) {
        res.funding.push_back(FundingPayment{t, d.funding[fi].ts_ns, d.funding[fi].rate,
                                             close_px, position, pay});
      }
    }

    const double cash = static_cast<double>(cash_tl) * tl - costs;
    const double eq = cash + static_cast<double>(pos * d.close[t]) * tl;
    const double inv = static_cast<double>(pos) * lot;
    inv_sum += inv;
    inv_sum2 += inv * inv;
    if (t > 0) {
      const double dlt = eq - prev_eq;
      sum_d += dlt;
      sum_d2 += dlt * dlt;
    }
    prev_eq = eq;
    peak = std::max(peak, eq);
    max_dd = std::max(max_dd, peak - eq);
    if (record) {
      res.close[t] = close_px;
      res.equity[t] = eq;
      res.position[t] = inv;
      res.cash[t] = cash;
    }
  }

  const double nn = static_cast<double>(n);
  m.candles = static_cast<std::int64_t>(n);
  m.bid_fills = n_buys;
  m.ask_fills = n_sells;
  m.fills = n_buys + n_sells;
  m.both_sides_candles = n_both;
  m.quoted_candles = quoted;
  m.pnl = prev_eq;
  m.fees = fees;
  m.funding = funding_paid;
  m.gross_pnl = m.pnl + fees + funding_paid;
  m.max_drawdown = max_dd;
  m.volume = static_cast<double>(volume_lots) * lot;
  m.notional = notional;
  m.final_position = static_cast<double>(pos) * lot;
  m.inventory_mean = inv_sum / nn;
  m.inventory_std = std::sqrt(std::max(0.0, inv_sum2 / nn - m.inventory_mean * m.inventory_mean));
  if (n >= 3) {
    const double k = nn - 1;  // number of changes
    const double mean = sum_d / k;
    const double var = std::max(0.0, (sum_d2 - k * mean * mean) / (k - 1));
    const double sd = std::sqrt(var);
    const double scale = std::max(1.0, std::fabs(peak) + max_dd);
    m.sharpe = sd > 1e-12 * scale ? mean / sd * std::sqrt(kSecondsPerYear / interval_s) : 0.0;
  }
  return res;
}

CandleBacktestResult run_candle_backtest(const data::CandleSeries& series,
                                         std::span<const data::FundingRate> funding,
                                         const CandleBacktestConfig& config, bool record) {
  validate(config);
  const PreparedCandles p =
      prepare_candles(series, funding, config.tick_size, config.vol_estimator, config.vol_window);
  return run_candle_backtest(p, config, record);
}

std::vector<CandleSweepRow> candle_sweep(const data::CandleSeries& series,
                                         std::span<const data::FundingRate> funding,
                                         const CandleBacktestConfig& base,
                                         const std::vector<SweepAxis>& axes, int threads) {
  if (threads < 1 || threads > 64) param_error("threads", "must be in [1, 64]");
  std::size_t total = 1;
  bool reprepare = false;
  CandleBacktestConfig probe = base;
  for (const SweepAxis& a : axes) {
    if (a.values.empty()) param_error(a.key, "sweep axis has no values");
    set_candle_param(probe, a.key, a.values.front());  // throws for an unknown key
    if (a.key == "tick_size" || a.key == "vol_window") reprepare = true;
    total *= a.values.size();
  }
  std::vector<CandleSweepRow> rows(total);
  std::vector<CandleBacktestConfig> configs(total, base);
  for (std::size_t i = 0; i < total; ++i) {
    std::size_t rem = i;
    rows[i].values.resize(axes.size());
    for (std::size_t a = axes.size(); a-- > 0;) {
      const std::size_t k = rem % axes[a].values.size();
      rem /= axes[a].values.size();
      rows[i].values[a] = axes[a].values[k];
      set_candle_param(configs[i], axes[a].key, axes[a].values[k]);
    }
    validate(configs[i]);
  }
  std::unique_ptr<PreparedCandles> shared;
  if (!reprepare) {
    shared = std::make_unique<PreparedCandles>(
        prepare_candles(series, funding, base.tick_size, base.vol_estimator, base.vol_window));
  }
  auto work = [&](std::size_t first, std::size_t step) {
    for (std::size_t i = first; i < total; i += step) {
      if (shared) {
        rows[i].metrics = run_candle_backtest(*shared, configs[i], false).metrics;
      } else {
        rows[i].metrics = run_candle_backtest(series, funding, configs[i], false).metrics;
      }
    }
  };
  const std::size_t nt = std::min<std::size_t>(static_cast<std::size_t>(threads), total);
  if (nt <= 1) {
    work(0, 1);
  } else {
    std::vector<std::thread> pool;
    std::vector<std::exception_ptr> errors(nt);
    for (std::size_t k = 0; k < nt; ++k) {
      pool.emplace_back([&, k] {
        try {
          work(k, nt);
        } catch (...) {
          errors[k] = std::current_exception();
        }
      });
    }
    for (auto& th : pool) th.join();
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------

std::vector<data::Candle> candles_from_trades(std::span<const TradePrint> trades,
                                              std::int64_t interval_ns) {
  if (interval_ns <= 0) param_error("interval_ns", "must be > 0");
  std::vector<data::Candle> out;
  auto bar_of = [&](TimestampNs ts) {
    TimestampNs b = ts / interval_ns * interval_ns;
    if (ts < 0 && b != ts) b -= interval_ns;
    return b;
  };
  for (std::size_t i = 0; i < trades.size(); ++i) {
    const TradePrint& tr = trades[i];
    if (i > 0 && tr.ts_ns < trades[i - 1].ts_ns)
      throw Error("candles_from_trades: trade " + std::to_string(i) +
                  " is earlier than the previous one");
    if (!(tr.price > 0) || !std::isfinite(tr.price) || !(tr.qty > 0) || !std::isfinite(tr.qty))
      throw Error("candles_from_trades: trade " + std::to_string(i) +
                  " has a non-positive or non-finite price or qty");
    const TimestampNs b = bar_of(tr.ts_ns);
    if (out.empty() || out.back().open_ts_ns != b) {
      if (!out.empty()) {
        const double prev = out.back().close;
        for (TimestampNs g = out.back().open_ts_ns + interval_ns; g < b; g += interval_ns) {
          data::Candle flat;
          flat.open_ts_ns = g;
          flat.open = flat.high = flat.low = flat.close = prev;
          flat.volume = 0;
          flat.quote_volume = 0;
          flat.trades = 0;
          out.push_back(flat);
        }
      }
      data::Candle c;
      c.open_ts_ns = b;
      c.open = c.high = c.low = c.close = tr.price;
      c.volume = 0;
      c.quote_volume = 0;
      c.trades = 0;
      out.push_back(c);
    }
    data::Candle& c = out.back();
    c.high = std::max(c.high, tr.price);
    c.low = std::min(c.low, tr.price);
    c.close = tr.price;
    c.volume += tr.qty;
    c.quote_volume += tr.price * tr.qty;
    ++c.trades;
  }
  return out;
}

DerivedCandles candles_from_source(data::EventSource& src, std::int64_t interval_ns,
                                   bool include_executions) {
  DerivedCandles d;
  d.instrument = src.instrument();
  std::vector<TradePrint> prints;
  std::vector<Event> buf(4096);
  for (;;) {
    const std::size_t k = src.read(buf.data(), buf.size());
    if (k == 0) break;
    for (std::size_t i = 0; i < k; ++i) {
      const Event& e = buf[i];
      const bool is_trade = e.kind == EventKind::kTrade ||
                            (include_executions && e.kind == EventKind::kExecution);
      if (!is_trade || e.price == kNoPrice || e.qty <= 0) continue;
      prints.push_back(TradePrint{e.exch_ts_ns, d.instrument.price_to_double(e.price),
                                  d.instrument.qty_to_double(e.qty)});
    }
  }
  for (std::size_t i = 1; i < prints.size(); ++i)
    if (prints[i].ts_ns < prints[i - 1].ts_ns) ++d.reordered;
  if (d.reordered > 0)
    std::stable_sort(prints.begin(), prints.end(),
                     [](const TradePrint& a, const TradePrint& b) { return a.ts_ns < b.ts_ns; });
  d.prints = prints.size();
  d.series.format = "trades";
  d.series.volume_unit = "base";
  d.series.interval_ns = interval_ns;
  d.series.rows = candles_from_trades(prints, interval_ns);
  if (d.reordered > 0) d.series.tolerated.add("candles.trades_reordered", d.reordered);
  return d;
}

void write_candles_csv(const std::string& path, std::span<const data::Candle> candles,
                       std::int64_t interval_ns, int price_decimals, int qty_decimals) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) throw Error(SourceLocation(path), "cannot open for writing");
  std::fputs("timestamp,open,high,low,close,volume,quote_volume,trades,close_time\n", f);
  const int pd = std::clamp(price_decimals, 0, 12), qd = std::clamp(qty_decimals, 0, 12);
  for (const data::Candle& c : candles) {
    const long long open_ms = static_cast<long long>(c.open_ts_ns / 1'000'000);
    const long long close_ms = static_cast<long long>((c.open_ts_ns + interval_ns) / 1'000'000) - 1;
    std::fprintf(f, "%lld,%.*f,%.*f,%.*f,%.*f,%.*f,%.*f,%lld,%lld\n", open_ms, pd, c.open, pd,
                 c.high, pd, c.low, pd, c.close, qd, c.volume, pd + qd,
                 std::isnan(c.quote_volume) ? 0.0 : c.quote_volume,
                 static_cast<long long>(c.trades < 0 ? 0 : c.trades), close_ms);
  }
  if (std::fclose(f) != 0) throw Error(SourceLocation(path), "write failed");
}

}  // namespace mmkit::engine
