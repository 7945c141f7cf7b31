// Multi-instrument backtests (contract: mmkit/engine/portfolio.h; docs/hedging.md).
#include "mmkit/engine/portfolio.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "mmkit/core/error.h"
#include "mmkit/metrics/metrics.h"

namespace mmkit::engine {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

struct Portfolio::Impl {
  std::vector<std::unique_ptr<Engine>> engines;
  PortfolioConfig cfg;
  PortfolioResult result;
  std::vector<double> last_mid;
  TimestampNs next_sample = kNoTimestamp;
  TimestampNs last_t = kNoTimestamp;
  std::size_t last_leg = 0;
  bool finished = false;

  void take_sample(TimestampNs ts) {
    PortfolioSample s;
    s.ts_ns = ts;
    const std::size_t n = engines.size();
    s.pnl.resize(n);
    s.position.resize(n);
    s.mid.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      Engine& e = *engines[i];
      const InstrumentSpec& spec = e.instrument();
      const double m = e.mid();
      if (std::isfinite(m)) last_mid[i] = m;
      const double q = spec.qty_to_double(e.position());
      const double cash = exchange::money_to_double(e.cash(), spec);
      s.position[i] = q;
      s.mid[i] = last_mid[i];
      s.pnl[i] = e.position() == 0 ? cash : cash + q * last_mid[i] * spec.multiplier();
      s.total_pnl += s.pnl[i];
      if (e.position() != 0) s.net_notional += q * last_mid[i] * spec.multiplier();
    }
    result.samples.push_back(std::move(s));
  }

  void finalize() {
    finished = true;
    TimestampNs end = last_t;
    for (const auto& e : engines) end = std::max(end, e->now());
    if (result.samples.empty() || result.samples.back().ts_ns < end) take_sample(end);
    PortfolioMetrics& m = result.metrics;
    const std::size_t n = engines.size();
    m.leg_pnl.assign(n, 0);
    m.leg_fees.assign(n, 0);
    m.leg_spread_cost.assign(n, 0);
    result.legs.clear();
    for (std::size_t i = 0; i < n; ++i) {
      const InstrumentSpec& spec = engines[i]->instrument();
      result.legs.push_back(engines[i]->result());
      const BacktestResult& r = result.legs.back();
      m.leg_pnl[i] = r.metrics.total_pnl;
      m.total_pnl += r.metrics.total_pnl;
      m.leg_fees[i] = r.metrics.fees_paid - r.metrics.rebates_earned;
      double cost = 0;
      for (const FillRecord& fr : r.fills) {
        const exchange::Fill& f = fr.fill;
        if (f.bid_at_fill == kNoPrice || f.ask_at_fill == kNoPrice) continue;
        const double mid = 0.5 * (spec.price_to_double(f.bid_at_fill) + spec.price_to_double(f.ask_at_fill));
        const double sg = f.side == Side::kBid ? 1.0 : -1.0;
        cost += spec.qty_to_double(f.qty) * (spec.price_to_double(f.price) - mid) * sg * spec.multiplier();
      }
      m.leg_spread_cost[i] = cost;
    }
    // Series metrics through the single-leg definitions (metrics::compute_metrics on a result
    // holding only the total PnL samples).
    BacktestResult total;
    total.samples.reserve(result.samples.size());
    for (const PortfolioSample& ps : result.samples) {
      Sample s;
      s.ts_ns = ps.ts_ns;
      s.pnl = ps.total_pnl;
      total.samples.push_back(s);
    }
    EngineConfig ec;
    ec.sample_interval_ns = cfg.sample_interval_ns;
    ec.markout_horizons_ns.clear();
    metrics::compute_metrics(total, ec, engines.front()->instrument(), 0);
    m.sharpe = total.metrics.sharpe;
    m.sortino = total.metrics.sortino;
    m.max_drawdown = total.metrics.max_drawdown;
    m.sample_interval_s = static_cast<double>(cfg.sample_interval_ns) * 1e-9;
    const auto& ss = result.samples;
    if (ss.size() >= 3) {
      const std::size_t k = ss.size() - 1;
      double sum = 0, sq = 0;
      for (std::size_t i = 0; i < k; ++i) sum += ss[i + 1].total_pnl - ss[i].total_pnl;
      const double mean = sum / static_cast<double>(k);
      for (std::size_t i = 0; i < k; ++i) {
        const double d = ss[i + 1].total_pnl - ss[i].total_pnl - mean;
        sq += d * d;
      }
      m.pnl_increment_std = std::sqrt(sq / static_cast<double>(k - 1));
    }
    if (ss.size() >= 3) {
      std::vector<double> inv;
      for (std::size_t k = 0; k + 1 < ss.size(); ++k) {
        double x = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const double dm = ss[k + 1].mid[i] - ss[k].mid[i];
          if (ss[k].position[i] != 0 && std::isfinite(dm)) {
            x += ss[k].position[i] * dm * engines[i]->instrument().multiplier();
          }
        }
        inv.push_back(x);
      }
      double mean = 0, sq = 0;
      for (const double x : inv) mean += x;
      mean /= static_cast<double>(inv.size());
      for (const double x : inv) sq += (x - mean) * (x - mean);
      m.inventory_pnl_std = std::sqrt(sq / static_cast<double>(inv.size() - 1));
    }
    if (!ss.empty()) {
      double sum = 0, sq = 0;
      for (const PortfolioSample& s : ss) sum += s.net_notional;
      m.net_notional_mean = sum / static_cast<double>(ss.size());
      for (const PortfolioSample& s : ss) sq += (s.net_notional - m.net_notional_mean) * (s.net_notional - m.net_notional_mean);
      m.net_notional_std = ss.size() >= 2 ? std::sqrt(sq / static_cast<double>(ss.size() - 1)) : 0.0;
      m.start_ns = ss.front().ts_ns;
      m.end_ns = ss.back().ts_ns;
    }
  }
};

Portfolio::Portfolio(std::vector<Leg> legs, PortfolioConfig config) : impl_(std::make_unique<Impl>()) {
  if (legs.empty()) throw Error("portfolio: no legs");
  if (config.sample_interval_ns <= 0) throw Error("portfolio: sample interval must be > 0 ns");
  impl_->cfg = config;
  for (std::size_t i = 0; i < legs.size(); ++i) {
    Leg& l = legs[i];
    if (!l.source) throw Error("portfolio: leg " + std::to_string(i) + " has no event source");
    if (!l.strategy) throw Error("portfolio: leg " + std::to_string(i) + " has no strategy");
    const std::string ccy = l.source->instrument().currency_str();
    const std::string sym = l.source->instrument().symbol_str();
    if (i == 0) {
      impl_->result.currency = ccy;
    } else if (ccy != impl_->result.currency) {
      throw Error("portfolio: legs must share one quote currency: leg 0 (" + impl_->result.names[0] + ") is in '" +
                  impl_->result.currency + "', leg " + std::to_string(i) + " (" + sym + ") in '" + ccy + "'");
    }
    impl_->result.names.push_back(l.name.empty() ? sym : l.name);
    impl_->engines.push_back(std::make_unique<Engine>(std::move(l.source), std::move(l.strategy), std::move(l.config)));
  }
  impl_->last_mid.assign(impl_->engines.size(), kNaN);
}

Portfolio::~Portfolio() = default;

bool Portfolio::advance_one() {
  Impl& p = *impl_;
  if (p.finished) return false;
  for (;;) {
    std::size_t best = p.engines.size();
    TimestampNs bt = 0;
    for (std::size_t i = 0; i < p.engines.size(); ++i) {
      Engine& e = *p.engines[i];
      if (e.finished()) continue;
      const TimestampNs t = e.next_due();
      if (t == kNoTimestamp) {
        (void)e.advance_one();  // finishes the leg (on_end, final sample, metrics)
        continue;
      }
      if (best == p.engines.size() || t < bt) {
        best = i;
        bt = t;
      }
    }
    if (best == p.engines.size()) {
      bool all = true;
      for (const auto& e : p.engines) all = all && e->finished();
      if (!all) continue;
      p.finalize();
      return false;
    }
    if (p.next_sample == kNoTimestamp) p.next_sample = bt;
    while (p.next_sample < bt) {
      p.take_sample(p.next_sample);
      p.next_sample += p.cfg.sample_interval_ns;
    }
    (void)p.engines[best]->advance_one();
    p.last_leg = best;
    p.last_t = bt;
    return true;
  }
}

bool Portfolio::run_until(TimestampNs ts_ns) {
  Impl& p = *impl_;
  while (!p.finished) {
    TimestampNs t = kNoTimestamp;
    bool any = false;
    for (const auto& e : p.engines) {
      if (e->finished()) continue;
      const TimestampNs d = e->next_due();
      if (d == kNoTimestamp) {
        any = false;
        t = kNoTimestamp;
        break;
      }
      if (!any || d < t) t = d;
      any = true;
    }
    if (any && t > ts_ns) return true;
    if (!advance_one()) return false;
  }
  return false;
}

void Portfolio::run() {
  while (advance_one()) {
  }
}

bool Portfolio::finished() const noexcept { return impl_->finished; }
std::size_t Portfolio::size() const noexcept { return impl_->engines.size(); }
Engine& Portfolio::leg(std::size_t i) { return *impl_->engines.at(i); }
std::size_t Portfolio::last_leg() const noexcept { return impl_->last_leg; }
const PortfolioResult& Portfolio::result() { return impl_->result; }

}  // namespace mmkit::engine
