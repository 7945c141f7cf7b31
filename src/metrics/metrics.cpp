// Backtest metrics. Every definition, formula and unit is in docs/metrics.md; the comments here
// name the convention each block implements.
#include "mmkit/metrics/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <vector>

namespace mmkit::metrics {
namespace {

using engine::BacktestResult;
using engine::EngineConfig;
using engine::FillRecord;
using engine::Sample;
using exchange::Money;
using exchange::OrderEventKind;

/// 365-day year (crypto trades every day; docs/metrics.md, "Annualization").
constexpr double kSecondsPerYear = 365.0 * 24.0 * 3600.0;
/// Standard deviations at or below this fraction of the largest |PnL| in the series are
/// rounding noise of the PnL differences, and count as zero variance.
constexpr double kZeroVarianceRelTol = 1e-12;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int side_sign(Side s) noexcept { return s == Side::kBid ? 1 : (s == Side::kAsk ? -1 : 0); }

Money pow10_money(int n) noexcept {
  Money p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

/// Exact Money (units 10^-(price_decimals + qty_decimals + 9)) to a decimal quote amount:
/// integer and fractional parts are converted separately so large amounts keep their cents.
double money_to_quote(Money m, const InstrumentSpec& spec) noexcept {
  const Money scale = pow10_money(spec.price_decimals + spec.qty_decimals + 9);
  const Money whole = m / scale;
  const Money frac = m % scale;
  return (static_cast<double>(whole) + static_cast<double>(frac) / static_cast<double>(scale)) *
         spec.multiplier();
}

/// An open FIFO lot: `qty` > 0 raw units bought (sign +1) or sold (sign -1) at `price`.
struct Lot {
  Price price;
  Qty qty;
};

struct FifoBook {
  std::deque<Lot> lots;  ///< all of sign `sign`, oldest first
  int sign = 0;          ///< +1 long, -1 short, 0 flat
  Qty position = 0;      ///< signed raw qty
  Money realized_gross = 0;  ///< closed lots, fees excluded
  Money cash = 0;            ///< −Σ sign × price × qty − Σ fee

  void apply(const exchange::Fill& f) {
    const int s = side_sign(f.side);
    if (s == 0 || f.qty <= 0) return;
    cash -= static_cast<Money>(s) * exchange::notional(f.price, f.qty) + f.fee;
    position += s * f.qty;
    Qty left = f.qty;
    while (left > 0 && sign == -s && !lots.empty()) {
      Lot& lot = lots.front();
      const Qty m = std::min(left, lot.qty);
      realized_gross += static_cast<Money>(sign) * exchange::notional(f.price - lot.price, m);
      lot.qty -= m;
      left -= m;
      if (lot.qty == 0) lots.pop_front();
    }
    if (lots.empty()) sign = 0;
    if (left > 0) {
      lots.push_back(Lot{f.price, left});
      sign = s;
    }
  }

  /// Σ over open lots of sign × price × qty (the signed cost of the open position).
  [[nodiscard]] Money open_cost() const noexcept {
    Money c = 0;
    for (const Lot& l : lots) c += exchange::notional(l.price, l.qty);
    return static_cast<Money>(sign) * c;
  }
};

double fill_mid(const exchange::Fill& f, const InstrumentSpec& spec) noexcept {
  if (f.bid_at_fill == kNoPrice || f.ask_at_fill == kNoPrice) return kNaN;
  return (spec.price_to_double(f.bid_at_fill) + spec.price_to_double(f.ask_at_fill)) / 2.0;
}

/// Mark price for the final position: mid of the last sample that has one, else the mid at the
/// last fill that has one, else the last fill's price; NaN when there is no fill and no sample.
double final_mark(const BacktestResult& r, const InstrumentSpec& spec) noexcept {
  for (auto it = r.samples.rbegin(); it != r.samples.rend(); ++it) {
    if (std::isfinite(it->mid) && it->mid > 0) return it->mid;
  }
  for (auto it = r.fills.rbegin(); it != r.fills.rend(); ++it) {
    const double m = fill_mid(it->fill, spec);
    if (std::isfinite(m)) return m;
  }
  if (!r.fills.empty()) return spec.price_to_double(r.fills.back().fill.price);
  return kNaN;
}

/// Sharpe, Sortino, VaR, CVaR and max drawdown of the sample PnL series.
void pnl_series_metrics(const std::vector<Sample>& samples, double interval_s,
                        engine::Metrics& m) {
  std::vector<double> pnl;
  pnl.reserve(samples.size());
  for (const Sample& s : samples) {
    if (std::isfinite(s.pnl)) pnl.push_back(s.pnl);
  }

  // Max drawdown: the running peak starts at 0, the PnL before the run.
  double peak = 0, max_dd = 0, scale = 0;
  for (double p : pnl) {
    peak = std::max(peak, p);
    max_dd = std::max(max_dd, peak - p);
    scale = std::max(scale, std::fabs(p));
  }
  m.max_drawdown = max_dd;

  if (pnl.size() < 2) return;
  const std::size_t n = pnl.size() - 1;
  std::vector<double> d(n);
  for (std::size_t i = 0; i < n; ++i) d[i] = pnl[i + 1] - pnl[i];

  double sum = 0;
  for (double x : d) sum += x;
  const double mean = sum / static_cast<double>(n);
  double ss = 0, down = 0;
  for (double x : d) {
    ss += (x - mean) * (x - mean);
    if (x < 0) down += x * x;
  }
  const double sd = n >= 2 ? std::sqrt(ss / static_cast<double>(n - 1)) : 0.0;
  const double dd = std::sqrt(down / static_cast<double>(n));
  const double tol = kZeroVarianceRelTol * scale;
  const double ann = interval_s > 0 ? std::sqrt(kSecondsPerYear / interval_s) : 0.0;
  m.sharpe = sd > tol ? mean / sd * ann : 0.0;
  m.sortino = dd > tol ? mean / dd * ann : 0.0;

  // Historical VaR / CVaR at 95 % on losses L = −ΔPnL: with L sorted ascending,
  // k = ceil(0.95 n) (1-based), VaR = L_(k), CVaR = mean(L_(k) .. L_(n)).
  std::vector<double> loss(n);
  for (std::size_t i = 0; i < n; ++i) loss[i] = -d[i];
  std::sort(loss.begin(), loss.end());
  const std::size_t k = (95 * n + 99) / 100;
  m.var_95 = loss[k - 1];
  double tail = 0;
  for (std::size_t i = k - 1; i < n; ++i) tail += loss[i];
  m.cvar_95 = tail / static_cast<double>(n - k + 1);
}

/// Inventory statistics, time-weighted: sample i holds over [t_i, t_{i+1}); the last sample
/// has weight 0 (it is the end of the run) unless it is the only one, or all timestamps are
/// equal, in which case every sample weighs the same.
void inventory_metrics(const std::vector<Sample>& samples, const EngineConfig& config,
                       const InstrumentSpec& spec, engine::Metrics& m) {
  if (samples.empty()) return;
  const std::size_t n = samples.size();
  std::vector<double> w(n, 0.0);
  double wsum = 0;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    w[i] = static_cast<double>(std::max<TimestampNs>(0, samples[i + 1].ts_ns - samples[i].ts_ns));
    wsum += w[i];
  }
  if (wsum <= 0) {
    std::fill(w.begin(), w.end(), 1.0);
    wsum = static_cast<double>(n);
  }
  double mean = 0, at_limit = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const Qty q = samples[i].position;
    mean += w[i] * spec.qty_to_double(q);
    const Qty aq = q < 0 ? -q : q;
    if (config.risk.max_position > 0 && aq >= config.risk.max_position) at_limit += w[i];
    m.inventory_max_abs = std::max(m.inventory_max_abs, spec.qty_to_double(aq));
  }
  mean /= wsum;
  double var = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = spec.qty_to_double(samples[i].position) - mean;
    var += w[i] * x * x;
  }
  m.inventory_mean = mean;
  m.inventory_std = std::sqrt(var / wsum);
  m.time_at_position_limit = config.risk.max_position > 0 ? at_limit / wsum : 0.0;
}

void widen(TimestampNs t, TimestampNs& lo, TimestampNs& hi, bool& any) noexcept {
  if (t == kNoTimestamp) return;
  if (!any) {
    lo = hi = t;
    any = true;
    return;
  }
  lo = std::min(lo, t);
  hi = std::max(hi, t);
}

}  // namespace

void compute_metrics(BacktestResult& result, const EngineConfig& config,
                     const InstrumentSpec& spec, std::uint64_t events) {
  engine::Metrics m;
  m.events = events;
  m.sample_interval_s = static_cast<double>(config.sample_interval_ns) * 1e-9;
  m.markout_horizons_s.reserve(config.markout_horizons_ns.size());
  for (TimestampNs h : config.markout_horizons_ns) {
    m.markout_horizons_s.push_back(static_cast<double>(h) * 1e-9);
  }

  // Fills: FIFO accounting, fees, volume, spread capture, markouts, exact max |position|.
  FifoBook book;
  Money fees_paid = 0, rebates = 0, notional_sum = 0;
  Qty volume = 0, max_abs_pos = 0;
  double spread_sum = 0;
  std::uint64_t spread_n = 0;
  const std::size_t nh = config.markout_horizons_ns.size();
  std::vector<double> mk_sum(nh, 0.0), mk_qty(nh, 0.0);
  std::vector<exchange::ClientOrderId> filled_ids;
  filled_ids.reserve(result.fills.size());
  for (const FillRecord& fr : result.fills) {
    const exchange::Fill& f = fr.fill;
    book.apply(f);
    max_abs_pos = std::max(max_abs_pos, book.position < 0 ? -book.position : book.position);
    if (f.fee > 0) fees_paid += f.fee; else rebates -= f.fee;
    volume += f.qty;
    notional_sum += exchange::notional(f.price, f.qty);
    if (f.maker) ++m.maker_fills; else ++m.taker_fills;
    filled_ids.push_back(f.order_id);
    const int s = side_sign(f.side);
    if (f.bid_at_fill != kNoPrice && f.ask_at_fill != kNoPrice && s != 0) {
      // (mid − price) × sign in raw units, doubled to stay an integer: (bid + ask − 2 price).
      const Price twice = (f.bid_at_fill + f.ask_at_fill - 2 * f.price) * s;
      spread_sum += spec.price_to_double(twice) / 2.0;
      ++spread_n;
    }
    const double q = spec.qty_to_double(f.qty);
    for (std::size_t h = 0; h < nh && h < fr.markouts.size(); ++h) {
      if (std::isfinite(fr.markouts[h])) {
        mk_sum[h] += q * fr.markouts[h];
        mk_qty[h] += q;
      }
    }
  }
  m.fills = result.fills.size();
  m.fees_paid = money_to_quote(fees_paid, spec);
  m.rebates_earned = money_to_quote(rebates, spec);
  m.volume = spec.qty_to_double(volume);
  m.notional = money_to_quote(notional_sum, spec);
  m.spread_captured_mean = spread_n > 0 ? spread_sum / static_cast<double>(spread_n) : kNaN;
  m.markout_mean.resize(nh);
  for (std::size_t h = 0; h < nh; ++h) {
    m.markout_mean[h] = mk_qty[h] > 0 ? mk_sum[h] / mk_qty[h] : kNaN;
  }

  // PnL: realized (FIFO, all fees) + unrealized (open lots at the mark) = cash + q × mark.
  m.realized_pnl = money_to_quote(book.realized_gross - fees_paid + rebates, spec);
  if (book.position != 0) {
    const double mark = final_mark(result, spec);
    m.unrealized_pnl = spec.qty_to_double(book.position) * mark * spec.multiplier() -
                       money_to_quote(book.open_cost(), spec);
  }
  m.total_pnl = m.realized_pnl + m.unrealized_pnl;

  // Order log.
  for (const engine::OrderLogEntry& e : result.orders) {
    switch (e.update.kind) {
      case OrderEventKind::kSubmitted: ++m.orders; break;
      case OrderEventKind::kCanceled: ++m.cancels; break;
      case OrderEventKind::kRejected: ++m.rejects; break;
      default: break;
    }
  }
  std::sort(filled_ids.begin(), filled_ids.end());
  const auto distinct = static_cast<std::uint64_t>(
      std::unique(filled_ids.begin(), filled_ids.end()) - filled_ids.begin());
  m.fill_ratio = m.orders > 0 ? static_cast<double>(distinct) / static_cast<double>(m.orders) : 0.0;

  pnl_series_metrics(result.samples, m.sample_interval_s, m);
  inventory_metrics(result.samples, config, spec, m);
  m.inventory_max_abs = std::max(m.inventory_max_abs, spec.qty_to_double(max_abs_pos));

  TimestampNs lo = 0, hi = 0;
  bool any = false;
  for (const Sample& s : result.samples) widen(s.ts_ns, lo, hi, any);
  for (const FillRecord& fr : result.fills) widen(fr.fill.local_ts_ns, lo, hi, any);
  for (const engine::OrderLogEntry& e : result.orders) widen(e.update.local_ts_ns, lo, hi, any);
  m.start_ns = lo;
  m.end_ns = hi;

  result.metrics = std::move(m);
}

}  // namespace mmkit::metrics
