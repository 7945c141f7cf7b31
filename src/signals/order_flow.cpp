#include "mmkit/signals/order_flow.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "mmkit/core/error.h"

namespace mmkit::signals {
namespace {

[[noreturn]] void bad(const char* component, const char* param, const std::string& what) {
  throw Error(std::string(component) + ": config '" + param + "' " + what);
}

constexpr std::size_t kResumEvery = 4096;

template <class BidAt, class AskAt>
double weighted_imbalance(std::size_t nb, std::size_t na, std::size_t levels, double decay,
                          BidAt&& bid_at, AskAt&& ask_at) noexcept {
  double b = 0, a = 0, w = 1;
  const std::size_t n = std::max(std::min(nb, levels), std::min(na, levels));
  for (std::size_t i = 0; i < n; ++i) {
    if (i < nb) {
      const double q = bid_at(i);
      if (q > 0) b += w * q;
    }
    if (i < na) {
      const double q = ask_at(i);
      if (q > 0) a += w * q;
    }
    w *= decay;
  }
  const double total = b + a;
  return total > 0 ? (b - a) / total : 0.0;
}

std::size_t side_length(std::span<const book::Level> side) noexcept {
  std::size_t n = 0;
  while (n < side.size() && side[n].price != kNoPrice) ++n;
  return n;
}

}  // namespace

double book_imbalance(std::span<const double> bid_qty, std::span<const double> ask_qty,
                      std::size_t levels, double level_decay) noexcept {
  return weighted_imbalance(
      bid_qty.size(), ask_qty.size(), levels, level_decay,
      [&](std::size_t i) { return bid_qty[i]; }, [&](std::size_t i) { return ask_qty[i]; });
}

double book_imbalance(std::span<const book::Level> bids, std::span<const book::Level> asks,
                      std::size_t levels, double level_decay) noexcept {
  return weighted_imbalance(
      side_length(bids), side_length(asks), levels, level_decay,
      [&](std::size_t i) { return static_cast<double>(bids[i].qty); },
      [&](std::size_t i) { return static_cast<double>(asks[i].qty); });
}

// ---------------------------------------------------------------------------------------------

namespace {
const BookImbalanceConfig& checked(const BookImbalanceConfig& c) {
  if (c.levels < 1) bad("BookImbalance", "levels", "must be >= 1");
  if (!(c.level_decay > 0 && c.level_decay <= 1)) {
    bad("BookImbalance", "level_decay", "must be in (0, 1]");
  }
  if (c.half_life_ns < 0) bad("BookImbalance", "half_life_ns", "must be >= 0");
  return c;
}
}  // namespace

BookImbalance::BookImbalance(const Config& config)
    : config_(checked(config)), ema_(config.half_life_ns) {}

double BookImbalance::update(TimestampNs ts, std::span<const book::Level> bids,
                             std::span<const book::Level> asks) {
  const double raw = book_imbalance(bids, asks, config_.levels, config_.level_decay);
  if (config_.enabled) ema_.update(ts, raw);
  return raw;
}

double BookImbalance::update(TimestampNs ts, std::span<const double> bid_qty,
                             std::span<const double> ask_qty) {
  const double raw = book_imbalance(bid_qty, ask_qty, config_.levels, config_.level_decay);
  if (config_.enabled) ema_.update(ts, raw);
  return raw;
}

double BookImbalance::value() const noexcept { return config_.enabled ? ema_.value() : 0.0; }

double BookImbalance::value_at(TimestampNs ts) const noexcept {
  return config_.enabled ? ema_.value_at(ts) : 0.0;
}

// ---------------------------------------------------------------------------------------------

double microprice(double bid_px, double bid_qty, double ask_px, double ask_qty) noexcept {
  const double total = bid_qty + ask_qty;
  if (!(total > 0)) return 0.5 * (bid_px + ask_px);
  return (bid_px * ask_qty + ask_px * bid_qty) / total;
}

// ---------------------------------------------------------------------------------------------

double ofi_contribution(Price bid_px, Qty bid_qty, Price ask_px, Qty ask_qty, Price prev_bid_px,
                        Qty prev_bid_qty, Price prev_ask_px, Qty prev_ask_qty) noexcept {
  double e = 0;
  if (bid_px >= prev_bid_px) e += static_cast<double>(bid_qty);
  if (bid_px <= prev_bid_px) e -= static_cast<double>(prev_bid_qty);
  if (ask_px <= prev_ask_px) e -= static_cast<double>(ask_qty);
  if (ask_px >= prev_ask_px) e += static_cast<double>(prev_ask_qty);
  return e;
}

namespace {
const OrderFlowImbalanceConfig& checked(const OrderFlowImbalanceConfig& c) {
  if (c.window_ns <= 0) bad("OrderFlowImbalance", "window_ns", "must be > 0");
  return c;
}
}  // namespace

OrderFlowImbalance::OrderFlowImbalance(const Config& config)
    : config_(checked(config)), window_(256) {}

double OrderFlowImbalance::update(TimestampNs ts, Price bid_px, Qty bid_qty, Price ask_px,
                                  Qty ask_qty) {
  if (!config_.enabled) return 0.0;
  evict(ts);
  if (bid_px == kNoPrice || ask_px == kNoPrice) {
    prev_bid_px_ = kNoPrice;
    prev_ask_px_ = kNoPrice;
    return 0.0;
  }
  double e = 0;
  if (prev_bid_px_ != kNoPrice) {
    e = ofi_contribution(bid_px, bid_qty, ask_px, ask_qty, prev_bid_px_, prev_bid_qty_,
                         prev_ask_px_, prev_ask_qty_);
  }
  prev_bid_px_ = bid_px;
  prev_bid_qty_ = bid_qty;
  prev_ask_px_ = ask_px;
  prev_ask_qty_ = ask_qty;
  const double depth = 0.5 * (static_cast<double>(bid_qty) + static_cast<double>(ask_qty));
  window_.push_back(Entry{ts, e, depth});
  sum_e_ += e;
  sum_depth_ += depth;
  if (++since_resum_ >= kResumEvery) {
    since_resum_ = 0;
    double se = 0, sd = 0;
    for (std::size_t i = 0; i < window_.size(); ++i) {
      se += window_[i].e;
      sd += window_[i].depth;
    }
    sum_e_ = se;
    sum_depth_ = sd;
  }
  return e;
}

void OrderFlowImbalance::advance(TimestampNs ts) {
  if (config_.enabled) evict(ts);
}

void OrderFlowImbalance::evict(TimestampNs ts) noexcept {
  const TimestampNs cutoff = ts - config_.window_ns;
  while (!window_.empty() && window_.front().ts <= cutoff) {
    sum_e_ -= window_.front().e;
    sum_depth_ -= window_.front().depth;
    window_.pop_front();
  }
  if (window_.empty()) {
    sum_e_ = 0;
    sum_depth_ = 0;
  }
}

double OrderFlowImbalance::mean_depth() const noexcept {
  return window_.empty() ? 0.0 : sum_depth_ / static_cast<double>(window_.size());
}

double OrderFlowImbalance::value() const noexcept {
  const double d = mean_depth();
  return d > 0 ? sum_e_ / d : 0.0;
}

void OrderFlowImbalance::reset() noexcept {
  window_.clear();
  sum_e_ = 0;
  sum_depth_ = 0;
  since_resum_ = 0;
  prev_bid_px_ = kNoPrice;
  prev_bid_qty_ = 0;
  prev_ask_px_ = kNoPrice;
  prev_ask_qty_ = 0;
}

// ---------------------------------------------------------------------------------------------

namespace {
const TradeFlowImbalanceConfig& checked(const TradeFlowImbalanceConfig& c) {
  if (c.window_ns <= 0) bad("TradeFlowImbalance", "window_ns", "must be > 0");
  return c;
}
}  // namespace

TradeFlowImbalance::TradeFlowImbalance(const Config& config)
    : config_(checked(config)), window_(256) {}

void TradeFlowImbalance::update(TimestampNs ts, Side aggressor, double qty) {
  if (!config_.enabled) return;
  evict(ts);
  if (aggressor == Side::kNone || !(qty > 0) || !std::isfinite(qty)) {
    ++ignored_;
    return;
  }
  const double s = aggressor == Side::kBid ? qty : -qty;
  window_.push_back(Entry{ts, s});
  (s > 0 ? buy_ : sell_) += qty;
  if (++since_resum_ >= kResumEvery) {
    since_resum_ = 0;
    double b = 0, a = 0;
    for (std::size_t i = 0; i < window_.size(); ++i) {
      const double q = window_[i].signed_qty;
      (q > 0 ? b : a) += std::abs(q);
    }
    buy_ = b;
    sell_ = a;
  }
}

void TradeFlowImbalance::advance(TimestampNs ts) {
  if (config_.enabled) evict(ts);
}

void TradeFlowImbalance::evict(TimestampNs ts) noexcept {
  const TimestampNs cutoff = ts - config_.window_ns;
  while (!window_.empty() && window_.front().ts <= cutoff) {
    const double q = window_.front().signed_qty;
    (q > 0 ? buy_ : sell_) -= std::abs(q);
    window_.pop_front();
  }
  if (window_.empty()) {
    buy_ = 0;
    sell_ = 0;
  }
}

double TradeFlowImbalance::value() const noexcept {
  const double total = buy_ + sell_;
  if (!config_.enabled || !(total > 0)) return 0.0;
  const double v = (buy_ - sell_) / total;
  return v > 1 ? 1.0 : (v < -1 ? -1.0 : v);
}

void TradeFlowImbalance::reset() noexcept {
  window_.clear();
  buy_ = 0;
  sell_ = 0;
  since_resum_ = 0;
  ignored_ = 0;
}

}  // namespace mmkit::signals
