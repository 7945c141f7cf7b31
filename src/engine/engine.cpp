// The engine: one deterministic discrete-event loop over the replayed market, the simulated
// exchange and the strategy (contract: mmkit/engine/engine.h). Every behaviour choice (timeline,
// feed latency, order types, L3 FIFO and L2 queue models, crossing fills, own liquidity,
// accounting, recording, end of data) is written down in docs/engine.md and tested in
// tests/cpp/exchange_test.cpp; keep the two in step.
#include "mmkit/engine/engine.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "mmkit/book/l2_book.h"
#include "mmkit/book/l3_book.h"
#include "mmkit/core/decimal.h"
#include "mmkit/core/error.h"
#include "mmkit/core/time.h"
#include "mmkit/data/funding.h"
#include "mmkit/metrics/metrics.h"
#include "mmkit/models/impact.h"

namespace mmkit::engine {

using exchange::ClientOrderId;
using exchange::Fill;
using exchange::Money;
using exchange::OrderEventKind;
using exchange::OrderRequest;
using exchange::OrderStatus;
using exchange::OrderType;
using exchange::OrderUpdate;
using exchange::OrderView;
using exchange::RejectReason;
using exchange::TimeInForce;

namespace {

constexpr std::size_t kBatch = 4096;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr TimestampNs kNever = std::numeric_limits<TimestampNs>::max();

/// Ring-buffer FIFO; grows by doubling, never shrinks.
template <class T>
class Fifo {
 public:
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] const T& front() const noexcept { return buf_[head_]; }
  [[nodiscard]] const T& operator[](std::size_t i) const noexcept { return buf_[(head_ + i) & mask_]; }
  void push(const T& v) {
    if (size_ == buf_.size()) grow();
    buf_[(head_ + size_) & mask_] = v;
    ++size_;
  }
  void pop() noexcept {
    head_ = (head_ + 1) & mask_;
    --size_;
  }

 private:
  void grow() {
    const std::size_t cap = buf_.empty() ? 16 : buf_.size() * 2;
    std::vector<T> nb(cap);
    for (std::size_t i = 0; i < size_; ++i) nb[i] = (*this)[i];
    buf_.swap(nb);
    head_ = 0;
    mask_ = cap - 1;
  }
  std::vector<T> buf_;
  std::size_t head_ = 0, size_ = 0, mask_ = 0;
};

inline int side_index(Side s) noexcept { return s == Side::kAsk ? 1 : 0; }
inline int side_sign(Side s) noexcept { return s == Side::kBid ? 1 : -1; }
/// Price `a` is strictly more aggressive than `b` for an order on side `s`.
inline bool strictly_better(Side s, Price a, Price b) noexcept { return s == Side::kBid ? a > b : a < b; }
inline bool better_or_equal(Side s, Price a, Price b) noexcept { return s == Side::kBid ? a >= b : a <= b; }

inline bool is_book_change(EventKind k) noexcept {
  switch (k) {
    case EventKind::kAdd:
    case EventKind::kCancel:
    case EventKind::kModify:
    case EventKind::kExecution:
    case EventKind::kLevelUpdate:
    case EventKind::kClear:
      return true;
    default:
      return false;
  }
}

/// Volume per price level (side, price) that our orders already traded against (see the file
/// comment): decays with the venue's decreases of that level, never exceeds the level.
class LevelOverlay {
 public:
  [[nodiscard]] bool empty() const noexcept { return m_.empty(); }
  [[nodiscard]] Qty at(Side s, Price p) const {
    if (m_.empty()) return 0;
    const auto it = m_.find({side_index(s), p});
    return it == m_.end() ? 0 : it->second;
  }
  void add(Side s, Price p, Qty q) {
    if (q > 0) m_[{side_index(s), p}] += q;
  }
  /// The replayed level (s, p) went from `before` to `after` (raw qty).
  void on_level_change(Side s, Price p, Qty before, Qty after) {
    if (m_.empty()) return;
    const auto it = m_.find({side_index(s), p});
    if (it == m_.end()) return;
    Qty c = it->second;
    if (after < before) c -= std::min(c, before - after);
    c = std::min(c, after);
    if (c <= 0) {
      m_.erase(it);
    } else {
      it->second = c;
    }
  }
  void clear() noexcept { m_.clear(); }

 private:
  std::map<std::pair<int, Price>, Qty> m_;
};

enum class MsgKind : std::uint8_t { kNew, kCancel, kModify };

/// An order message in flight to the exchange. kCancel: req.id; kModify: req.id, req.price,
/// req.qty (new total size).
struct OrderMsg {
  TimestampNs t = 0;
  MsgKind kind = MsgKind::kNew;
  OrderRequest req;
};

/// Which strategy request a response answers (clears the local pending flags).
enum class Answer : std::uint8_t { kNone, kNew, kCancel, kModify };

struct Response {
  TimestampNs t = 0;
  OrderUpdate update;
  Fill fill;
  bool has_fill = false;
  Answer answer = Answer::kNone;
};

/// One of our orders as the exchange knows it.
struct ExchOrder {
  ClientOrderId id = 0;
  Side side = Side::kNone;
  Price price = kNoPrice;
  Qty qty = 0;
  Qty leaves = 0;
  Qty filled = 0;
  OrderType type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kGtc;
  bool resting = false;
  std::uint64_t priority = 0;   ///< arrival order among our orders (smaller = earlier)
  Qty ahead = 0;                ///< L3: exact volume ahead; L2: rounded model estimate
  exchange::QueueState q;       ///< L2 queue model state
  Qty ahead_at_entry = -1;
};

struct ClosedOrder {
  OrderStatus status = OrderStatus::kCanceled;
  Side side = Side::kNone;
  Price price = kNoPrice;
  Qty qty = 0;
  Qty filled = 0;
};

enum class Item : std::uint8_t { kMarket, kArrival, kImmediate, kDelivery, kResponse, kTimer, kSample, kFunding, kNone };

/// The engine behind the pimpl, one instantiation per book type.
class SimBase {
 public:
  virtual ~SimBase() = default;
  virtual bool step(std::uint64_t n) = 0;
  virtual bool run_until(TimestampNs ts) = 0;
  virtual void run() = 0;
  [[nodiscard]] virtual bool finished() const noexcept = 0;
  [[nodiscard]] virtual TimestampNs now() const noexcept = 0;
  [[nodiscard]] virtual std::uint64_t events_processed() const noexcept = 0;
  [[nodiscard]] virtual const InstrumentSpec& instrument() const noexcept = 0;
  [[nodiscard]] virtual Qty position() const noexcept = 0;
  [[nodiscard]] virtual Money cash() const noexcept = 0;
  [[nodiscard]] virtual const strategy::Context& context() const noexcept = 0;
  [[nodiscard]] virtual BacktestResult& result() noexcept = 0;
  [[nodiscard]] virtual TimestampNs next_due() = 0;
  virtual bool advance_one() = 0;
  [[nodiscard]] virtual double mid() const noexcept = 0;
};

template <class Book>
class LocalBookView final : public strategy::BookView {
 public:
  explicit LocalBookView(const Book& b) : b_(b) {}
  [[nodiscard]] book::Level best(Side s) const override { return b_.best(s); }
  [[nodiscard]] book::Level level(Side s, std::size_t i) const override { return b_.level(s, i); }
  [[nodiscard]] std::size_t depth(Side s) const override { return b_.depth(s); }

 private:
  const Book& b_;
};

template <class Book>
class Sim final : public SimBase {
  static constexpr bool kL3 = std::is_same_v<Book, book::L3Book>;

 public:
  Sim(std::unique_ptr<data::EventSource> src, std::unique_ptr<strategy::Strategy> strat, EngineConfig cfg,
      std::unique_ptr<exchange::QueueModel> qmodel)
      : src_(std::move(src)), strat_(std::move(strat)), cfg_(std::move(cfg)), qmodel_(std::move(qmodel)),
        spec_(src_->instrument()), rng_(cfg_.seed), lview_(lbook_), ctx_(*this) {
    if (cfg_.contract_multiplier > 0) spec_.contract_multiplier = cfg_.contract_multiplier;
    impact_ = models::make_impact_model(cfg_.impact_model);
    if (impact_) impact_tracker_ = impact_->tracker();
    const std::string fmt = src_->format();
    fills_reported_ = kL3 && fmt.find("databento") != std::string::npos;
    markq_.resize(cfg_.markout_horizons_ns.size());
    prefetch();
    init_funding();
  }

  [[nodiscard]] TimestampNs next_due() override {
    if (finished_) return kNoTimestamp;
    TimestampNs t = 0;
    return next_item(t) == Item::kNone ? kNoTimestamp : t;
  }

  bool advance_one() override {
    if (finished_) return false;
    TimestampNs t = 0;
    const Item k = next_item(t);
    if (k == Item::kNone) {
      finish();
      return false;
    }
    process(k, t);
    return true;
  }

  [[nodiscard]] double mid() const noexcept override { return venue_mid(); }

  bool step(std::uint64_t n) override {
    if (finished_) return false;
    std::uint64_t done = 0;
    TimestampNs last = kNoTimestamp;
    for (;;) {
      TimestampNs t = 0;
      const Item k = next_item(t);
      if (k == Item::kNone) {
        finish();
        return false;
      }
      if (k == Item::kMarket) {
        if (done == n) return true;
        ++done;
        last = t;
      } else if (done == n && (n == 0 || t > last) && market_left()) {
        return true;
      }
      process(k, t);
    }
  }

  bool run_until(TimestampNs ts) override {
    if (finished_) return false;
    for (;;) {
      TimestampNs t = 0;
      const Item k = next_item(t);
      if (k == Item::kNone) {
        finish();
        return false;
      }
      if (t > ts) {
        if (ts > now_) now_ = ts;
        return true;
      }
      process(k, t);
    }
  }

  void run() override {
    while (!finished_) {
      TimestampNs t = 0;
      const Item k = next_item(t);
      if (k == Item::kNone) {
        finish();
        return;
      }
      process(k, t);
    }
  }

  [[nodiscard]] bool finished() const noexcept override { return finished_; }
  [[nodiscard]] TimestampNs now() const noexcept override { return now_; }
  [[nodiscard]] std::uint64_t events_processed() const noexcept override { return events_; }
  [[nodiscard]] const InstrumentSpec& instrument() const noexcept override { return spec_; }
  [[nodiscard]] Qty position() const noexcept override { return position_; }
  [[nodiscard]] Money cash() const noexcept override { return cash_; }
  [[nodiscard]] const strategy::Context& context() const noexcept override { return ctx_; }
  [[nodiscard]] BacktestResult& result() noexcept override { return result_; }

 private:
  class Ctx final : public strategy::Context {
   public:
    explicit Ctx(Sim& s) : s_(s) {}
    [[nodiscard]] TimestampNs now() const override { return s_.now_; }
    [[nodiscard]] const InstrumentSpec& instrument() const override { return s_.spec_; }
    [[nodiscard]] const strategy::BookView& book() const override { return s_.lview_; }
    [[nodiscard]] Qty position() const override { return s_.lposition_; }
    [[nodiscard]] Money cash() const override { return s_.lcash_; }
    [[nodiscard]] std::span<const OrderView> open_orders() const override { return s_.open_orders_snapshot(); }
    ClientOrderId submit(const OrderRequest& r) override { return s_.submit(r); }
    bool cancel(ClientOrderId id) override { return s_.cancel(id); }
    bool modify(ClientOrderId id, Price p, Qty q) override { return s_.modify(id, p, q); }
    [[nodiscard]] std::uint64_t events_seen() const override { return s_.events_seen_; }
    [[nodiscard]] strategy::FundingInfo funding() const override { return s_.funding_info(); }

   private:
    Sim& s_;
  };

  // ------------------------------------------------------------------------------------------
  // Input and the merged timeline

  void prefetch() {
    const exchange::FeedLatencyConfig& fl = cfg_.feed_latency;
    fl_constant_ = fl.mode == exchange::FeedLatencyConfig::Mode::kConstant;
    if (fl_constant_ || fl.calibration_events == 0) {
      batch_.resize(kBatch);
    } else {
      const std::size_t want = fl.calibration_events;
      const std::size_t cap = std::max<std::size_t>(4 * want, kBatch);
      std::size_t both = 0;
      bool one_clock = true;
      TimestampNs offset = kNever;
      while (both < want && batch_.size() < cap) {
        const std::size_t old = batch_.size();
        batch_.resize(old + kBatch);
        const std::size_t n = src_->read(batch_.data() + old, kBatch);
        batch_.resize(old + n);
        if (n == 0) {
          src_eof_ = true;
          break;
        }
        for (std::size_t i = old; i < old + n && both < want; ++i) {
          const Event& e = batch_[i];
          if (e.has(event_flags::kNoExchTs) || e.has(event_flags::kBadTs)) continue;
          ++both;
          const TimestampNs d = e.local_ts_ns - e.exch_ts_ns;
          offset = std::min(offset, d);
          if (d != 0) one_clock = false;
        }
      }
      bn_ = batch_.size();
      if (both == 0 || one_clock) {
        fl_constant_ = true;
      } else {
        fl_offset_ = offset;
      }
      if (batch_.size() < kBatch) batch_.resize(kBatch);
    }
    if (peek_market()) now_ = batch_[bpos_].exch_ts_ns;
  }

  bool peek_market() {
    if (bpos_ < bn_) return true;
    if (src_eof_) return false;
    bn_ = src_->read(batch_.data(), batch_.size());
    bpos_ = 0;
    if (bn_ == 0) {
      src_eof_ = true;
      return false;
    }
    return true;
  }

  bool market_left() { return peek_market(); }

  Item next_item(TimestampNs& t) {
    Item k = Item::kNone;
    TimestampNs best = kNever;
    auto consider = [&](Item i, TimestampNs ti) {
      if (ti < best) {
        best = ti;
        k = i;
      }
    };
    const bool market = peek_market();
    if (market) consider(Item::kMarket, std::max(texch_, batch_[bpos_].exch_ts_ns));
    if (!arrivals_.empty()) consider(Item::kArrival, arrivals_.front().t);
    if (!immediate_.empty()) consider(Item::kImmediate, immediate_.front().t);
    if (!deliveries_.empty()) consider(Item::kDelivery, deliveries_.front().local_ts_ns);
    if (!responses_.empty()) consider(Item::kResponse, responses_.front().t);
    if (started_ && (market || !deliveries_.empty())) {
      consider(Item::kTimer, next_timer_);
      consider(Item::kSample, next_sample_);
    }
    if (market) consider(Item::kFunding, funding_next_);  // inside the data's exchange-time window
    t = best;
    return k;
  }

  void process(Item k, TimestampNs t) {
    now_ = t;
    switch (k) {
      case Item::kMarket:
        on_market();
        break;
      case Item::kArrival: {
        const OrderMsg m = arrivals_.front();
        arrivals_.pop();
        on_arrival(m);
        break;
      }
      case Item::kImmediate: {
        const Response r = immediate_.front();
        immediate_.pop();
        on_response(r);
        break;
      }
      case Item::kDelivery: {
        const Event e = deliveries_.front();
        deliveries_.pop();
        on_delivery(e);
        break;
      }
      case Item::kResponse: {
        const Response r = responses_.front();
        responses_.pop();
        on_response(r);
        break;
      }
      case Item::kTimer:
        next_timer_ += cfg_.timer_interval_ns;
        strat_->on_timer(ctx_);
        break;
      case Item::kSample:
        next_sample_ += cfg_.sample_interval_ns;
        take_sample();
        break;
      case Item::kFunding:
        settle_funding();
        break;
      case Item::kNone:
        break;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Funding (docs/engine.md, "Funding")

  [[nodiscard]] std::string funding_range_text() const {
    const FundingConfig& f = cfg_.funding;
    return f.source + " covers " + format_utc(f.schedule.front().ts_ns - f.interval_ns) + " .. " +
           format_utc(f.schedule.back().ts_ns) + " (first settlement " + format_utc(f.schedule.front().ts_ns) +
           ", " + std::to_string(f.schedule.size()) + " settlements)";
  }

  void init_funding() {
    const FundingConfig& f = cfg_.funding;
    if (f.mode == FundingConfig::Mode::kNone) return;
    if (!peek_market()) return;
    data_start_ = batch_[bpos_].exch_ts_ns;
    if (f.mode == FundingConfig::Mode::kConstant) {
      const TimestampNs q = data_start_ / f.interval_ns;
      funding_next_ = (q * f.interval_ns >= data_start_ ? q : q + 1) * f.interval_ns;
      return;
    }
    if (data_start_ > f.schedule.back().ts_ns) {
      throw Error("funding schedule " + funding_range_text() + " does not overlap the data, which starts at " +
                  format_utc(data_start_) + " (after its last settlement)");
    }
    while (funding_idx_ < f.schedule.size() && f.schedule[funding_idx_].ts_ns < data_start_) ++funding_idx_;
    funding_next_ = f.schedule[funding_idx_].ts_ns;
  }

  [[nodiscard]] double next_funding_rate() const noexcept {
    const FundingConfig& f = cfg_.funding;
    if (f.mode == FundingConfig::Mode::kConstant) return f.rate;
    return funding_idx_ < f.schedule.size() ? f.schedule[funding_idx_].rate : 0.0;
  }

  [[nodiscard]] strategy::FundingInfo funding_info() const {
    strategy::FundingInfo fi;
    const FundingConfig& f = cfg_.funding;
    if (f.mode == FundingConfig::Mode::kNone) return fi;
    fi.available = true;
    fi.interval_ns = f.interval_ns;
    if (funding_next_ != kNever) {
      fi.next_funding_ts = funding_next_;
      fi.rate = next_funding_rate();
    }
    return fi;
  }

  // Settlement at now_ (after every other item due at or before now_): the exchange-side position
  // pays position × mid × rate, mid = (best bid + best ask) / 2 of the replayed book now (the last
  // two-sided one if a side is empty). Exact in Money units: rate is taken at 1e-12 resolution and
  // the product rounded half away from zero to one Money unit.
  void settle_funding() {
    const FundingConfig& f = cfg_.funding;
    const double rate = next_funding_rate();
    const Price b = xbook_.best(Side::kBid).price, a = xbook_.best(Side::kAsk).price;
    if (b != kNoPrice && a != kNoPrice) last_mid2_ = b + a;
    FundingPayment p;
    p.ts_ns = now_;
    p.rate = rate;
    p.position = position_;
    p.mark = last_mid2_ == kNoPrice ? kNaN : spec_.price_to_double(last_mid2_) / 2.0;
    if (last_mid2_ != kNoPrice && position_ != 0) {
      const auto rate_e12 = static_cast<Money>(std::llround(rate * 1e12));
      const Money num = static_cast<Money>(position_) * static_cast<Money>(last_mid2_) * rate_e12;
      constexpr Money kDen = 2000;  // (1/2 for the mid) × 10^9 (Money extra scale) / 10^12
      p.amount = num >= 0 ? (num + kDen / 2) / kDen : -((-num + kDen / 2) / kDen);
    }
    cash_ -= p.amount;
    lcash_ -= p.amount;
    funding_ += p.amount;
    result_.funding.push_back(p);
    if (f.mode == FundingConfig::Mode::kConstant) {
      funding_next_ += f.interval_ns;
    } else {
      ++funding_idx_;
      funding_next_ = funding_idx_ < f.schedule.size() ? f.schedule[funding_idx_].ts_ns : kNever;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Market events at the exchange

  TimestampNs feed_latency(const Event& e) const noexcept {
    const exchange::FeedLatencyConfig& fl = cfg_.feed_latency;
    if (fl_constant_ || e.has(event_flags::kNoExchTs) || e.has(event_flags::kBadTs)) return fl.constant_ns;
    return std::max<TimestampNs>(0, e.local_ts_ns - e.exch_ts_ns - fl_offset_) + fl.floor_ns;
  }

  [[noreturn]] void fail_at(const Event& e, const std::string& what) const {
    throw Error(src_->locate(e.record) + ": " + what);
  }

  void check_apply(const Event& e, Errc rc) const {
    if (rc == Errc::kOk) return;
    std::string what = std::string("book rejected ") + to_string(e.kind);
    if (e.order_id != 0) what += " of order " + std::to_string(e.order_id);
    what += " (side " + std::string(to_string(e.side)) + ", price " + std::to_string(e.price) + ", qty " +
            std::to_string(e.qty) + "): " + to_string(rc);
    fail_at(e, what);
  }

  void on_market() {
    const Event raw = batch_[bpos_++];
    const TimestampNs t = std::max(texch_, raw.exch_ts_ns);
    texch_ = t;
    if (pending_markouts_ > 0) resolve_markouts(t);
    if (has_resting()) before_event(raw);
    apply_exchange(raw);
    if (raw.has(event_flags::kComplete)) {
      if (xbook_.crossed()) {
        if (!raw.has(event_flags::kAuction)) {
          const int pd = spec_.price_display_decimals();
          fail_at(raw, "crossed book after a complete update: best bid " +
                           format_decimal(xbook_.best(Side::kBid).price, spec_.price_decimals, pd) + " >= best ask " +
                           format_decimal(xbook_.best(Side::kAsk).price, spec_.price_decimals, pd));
        }
      } else if (has_resting() && !raw.has(event_flags::kAuction)) {
        cross_fills();
      }
    }
    if (need_sweep_) sweep();
    Event d = raw;
    d.exch_ts_ns = t;
    TimestampNs at = t + feed_latency(raw);
    if (at < last_delivery_) at = last_delivery_;
    last_delivery_ = at;
    d.local_ts_ns = at;
    deliveries_.push(d);
    ++events_;
  }

  Qty venue_level_qty(Side s, Price p) const {
    if (p == kNoPrice || (s != Side::kBid && s != Side::kAsk)) return 0;
    return xbook_.level_at(s, p).qty;
  }

  void apply_exchange(const Event& e) {
    if (consumed_.empty() && crossed_.empty()) {
      check_apply(e, xbook_.apply(e));
      return;
    }
    if (e.kind == EventKind::kClear) {
      consumed_.clear();
      crossed_.clear();
      check_apply(e, xbook_.apply(e));
      return;
    }
    Side s = e.side;
    const Price p = e.price;
    Price p_old = kNoPrice;
    if constexpr (kL3) {
      if (e.kind == EventKind::kModify) {
        if (const auto info = xbook_.order(e.order_id)) {
          s = info->side;
          if (info->price != p) p_old = info->price;
        }
      }
    }
    const Qty b1 = venue_level_qty(s, p);
    const Qty b2 = venue_level_qty(s, p_old);
    check_apply(e, xbook_.apply(e));
    if (s != Side::kBid && s != Side::kAsk) return;
    const Qty a1 = venue_level_qty(s, p);
    consumed_.on_level_change(s, p, b1, a1);
    crossed_.on_level_change(s, p, b1, a1);
    if (p_old != kNoPrice) {
      const Qty a2 = venue_level_qty(s, p_old);
      consumed_.on_level_change(s, p_old, b2, a2);
      crossed_.on_level_change(s, p_old, b2, a2);
    }
  }

  [[nodiscard]] bool has_resting() const noexcept { return !resting_[0].empty() || !resting_[1].empty(); }

  // Queue and print logic for our resting orders; the exchange book is still the one before e.
  void before_event(const Event& e) {
    switch (e.kind) {
      case EventKind::kTrade:
        if (fills_reported_ || e.price == kNoPrice || e.qty <= 0) return;
        set_fill_quotes();
        on_print(e);
        return;
      case EventKind::kExecution:
      case EventKind::kFill:
      case EventKind::kCancel:
        if constexpr (kL3) {
          set_fill_quotes();
          on_l3_reduce(e);
        }
        return;
      case EventKind::kModify:
        if constexpr (kL3) on_l3_modify(e);
        return;
      case EventKind::kLevelUpdate:
        on_level_update(e);
        return;
      default:
        return;
    }
  }

  void set_fill_quotes() {
    fill_bid_ = xbook_.best(Side::kBid).price;
    fill_ask_ = xbook_.best(Side::kAsk).price;
  }

  // Index of the first of our orders on side s at `price` or worse. When `through` (an
  // aggressor went past them), our orders priced strictly better than `price` are filled first,
  // best price first, up to `volume` (the printed / executed quantity: the aggressor had at
  // least that much; each print of a sweep brings its own quantity).
  std::size_t fill_through(Side s, Price price, bool through, Qty& volume) {
    std::vector<ExchOrder*>& v = resting_[side_index(s)];
    std::size_t i = 0;
    for (; i < v.size() && strictly_better(s, v[i]->price, price); ++i) {
      if (through && volume > 0 && v[i]->leaves > 0) {
        const Qty f = std::min(v[i]->leaves, volume);
        volume -= f;
        fill(*v[i], f, v[i]->price, true);
      }
    }
    return i;
  }

  Qty lot_floor(double x) const noexcept {
    if (!(x > 0)) return 0;
    const auto units = static_cast<Qty>(std::floor(x / static_cast<double>(spec_.lot_size)));
    return units * spec_.lot_size;
  }

  void on_print(const Event& e) {
    const Side aggressor = e.side;
    for (const Side s : {Side::kBid, Side::kAsk}) {
      if (aggressor == s) continue;
      std::vector<ExchOrder*>& v = resting_[side_index(s)];
      if (v.empty()) continue;
      Qty rem = e.qty;
      const std::size_t i = fill_through(s, e.price, true, rem);
      if (aggressor == Side::kNone) continue;
      for (std::size_t j = i; j < v.size() && v[j]->price == e.price; ++j) {
        ExchOrder& o = *v[j];
        if (o.leaves == 0) continue;
        if constexpr (kL3) {
          if (o.ahead == 0 && rem > 0) {
            const Qty f = std::min(o.leaves, rem);
            fill(o, f, o.price, true);
            rem -= f;
          }
        } else {
          if (rem <= 0) {
            o.q.traded_since_depth += e.qty;
            continue;
          }
          qmodel_->on_trade(o.q, rem);
          o.q.traded_since_depth += e.qty - rem;
          if (o.q.ahead < 0) {
            const Qty f = std::min(o.leaves, lot_floor(-o.q.ahead));
            o.q.ahead = 0;
            if (f > 0) {
              fill(o, f, o.price, true);
              rem -= f;
            }
          }
          o.ahead = static_cast<Qty>(std::llround(std::max(0.0, o.q.ahead)));
        }
      }
    }
  }

  // kCancel / kExecution / kFill on an L3 book.
  void on_l3_reduce(const Event& e) {
    const Side s = e.side;
    if (s != Side::kBid && s != Side::kAsk) return;
    std::vector<ExchOrder*>& v = resting_[side_index(s)];
    if (v.empty()) return;
    const bool exec = e.kind != EventKind::kCancel;
    Qty rem = e.qty;
    const std::size_t i = fill_through(s, e.price, exec, rem);
    if (i == v.size() || v[i]->price != e.price) return;
    Qty qa = -1;  // -1: anonymous / unknown volume, ahead of all of ours
    if (const auto info = xbook_.order(e.order_id); info && info->side == s && info->price == e.price) {
      qa = xbook_.queue_ahead(e.order_id);
    }
    for (std::size_t j = i; j < v.size() && v[j]->price == e.price; ++j) {
      ExchOrder& o = *v[j];
      if (o.leaves == 0) continue;
      if (qa < 0 || qa < o.ahead) {
        if (e.kind != EventKind::kFill) o.ahead = std::max<Qty>(0, o.ahead - e.qty);
      } else if (exec && rem > 0) {
        const Qty f = std::min(o.leaves, rem);
        fill(o, f, o.price, true);
        rem -= f;
      }
    }
  }

  void on_l3_modify(const Event& e) {
    if constexpr (kL3) {
      const auto info = xbook_.order(e.order_id);
      if (!info) return;
      std::vector<ExchOrder*>& v = resting_[side_index(info->side)];
      std::size_t i = 0;
      while (i < v.size() && v[i]->price != info->price) ++i;
      if (i == v.size()) return;
      const Qty qa = xbook_.queue_ahead(e.order_id);
      const bool loses = e.qty == 0 || e.price != info->price || e.qty > info->qty;
      const Qty dec = loses ? info->qty : info->qty - e.qty;
      for (std::size_t j = i; j < v.size() && v[j]->price == info->price; ++j) {
        ExchOrder& o = *v[j];
        if (qa < o.ahead) o.ahead = std::max<Qty>(0, o.ahead - dec);
      }
    }
  }

  void on_level_update(const Event& e) {
    const Side s = e.side;
    if (s != Side::kBid && s != Side::kAsk) return;
    std::vector<ExchOrder*>& v = resting_[side_index(s)];
    std::size_t i = 0;
    while (i < v.size() && v[i]->price != e.price) ++i;
    if (i == v.size()) return;
    if constexpr (kL3) {
      if (e.qty == 0 && e.has(event_flags::kSeed)) return;
      for (std::size_t j = i; j < v.size() && v[j]->price == e.price; ++j) v[j]->ahead = std::min(v[j]->ahead, e.qty);
    } else {
      const Qty prev = xbook_.level_at(s, e.price).qty;
      for (std::size_t j = i; j < v.size() && v[j]->price == e.price; ++j) {
        ExchOrder& o = *v[j];
        qmodel_->on_depth_change(o.q, prev, e.qty);
        o.ahead = static_cast<Qty>(std::llround(std::max(0.0, o.q.ahead)));
      }
    }
  }

  // After a kComplete point: the opposite side reaching one of our resting prices fills it.
  void cross_fills() {
    for (const Side s : {Side::kBid, Side::kAsk}) {
      std::vector<ExchOrder*>& v = resting_[side_index(s)];
      if (v.empty()) continue;
      const Side opp = opposite(s);
      const book::Level top = xbook_.best(opp);
      if (top.price == kNoPrice || !better_or_equal(s, v.front()->price, top.price)) continue;
      set_fill_quotes();
      for (ExchOrder* op : v) {
        ExchOrder& o = *op;
        if (!better_or_equal(s, o.price, top.price)) break;
        for (std::size_t k = 0; o.leaves > 0; ++k) {
          const book::Level lvl = xbook_.level(opp, k);
          if (lvl.price == kNoPrice || !better_or_equal(s, o.price, lvl.price)) break;
          const Qty avail = lvl.qty - consumed_.at(opp, lvl.price) - crossed_.at(opp, lvl.price);
          if (avail <= 0) continue;
          const Qty f = std::min(o.leaves, avail);
          fill(o, f, o.price, true);
          crossed_.add(opp, lvl.price, f);
          if (cfg_.own_orders_take_liquidity) consumed_.add(opp, lvl.price, f);
        }
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Our orders at the exchange

  OrderUpdate make_update(const ExchOrder& o, OrderEventKind kind, OrderStatus st,
                          RejectReason reason = RejectReason::kNone) const {
    OrderUpdate u;
    u.exch_ts_ns = now_;
    u.order_id = o.id;
    u.kind = kind;
    u.status = st;
    u.reason = reason;
    u.side = o.side;
    u.price = o.price;
    u.qty = o.qty;
    u.leaves = o.leaves;
    u.filled = o.filled;
    return u;
  }

  TimestampNs push_response(const OrderUpdate& u, const Fill* f, Answer answer) {
    const TimestampNs lat = cfg_.order_latency ? cfg_.order_latency->response(rng_) : 0;
    TimestampNs t = now_ + lat;
    if (t < last_response_) t = last_response_;
    last_response_ = t;
    Response r;
    r.t = t;
    r.update = u;
    r.update.exch_ts_ns = now_;
    r.update.local_ts_ns = t;
    r.answer = answer;
    if (f != nullptr) {
      r.fill = *f;
      r.fill.local_ts_ns = t;
      r.has_fill = true;
    }
    responses_.push(r);
    return t;
  }

  void fill(ExchOrder& o, Qty q, Price px, bool maker) {
    o.leaves -= q;
    o.filled += q;
    const int sg = side_sign(o.side);
    const Money fee = exchange::fee_amount(px, q, maker ? cfg_.fees.maker_ppb : cfg_.fees.taker_ppb);
    const Money value = exchange::notional(px, q);
    position_ += sg * q;
    cash_ += (sg > 0 ? -value : value) - fee;
    fees_ += fee;
    Fill f;
    f.exch_ts_ns = now_;
    f.order_id = o.id;
    f.side = o.side;
    f.price = px;
    f.qty = q;
    f.fee = fee;
    f.maker = maker;
    f.queue_ahead_at_entry = maker ? o.ahead_at_entry : -1;
    f.bid_at_fill = fill_bid_;
    f.ask_at_fill = fill_ask_;
    const OrderUpdate u =
        make_update(o, OrderEventKind::kFilled, o.leaves == 0 ? OrderStatus::kFilled : OrderStatus::kOpen);
    f.local_ts_ns = push_response(u, &f, Answer::kNone);
    const std::size_t index = result_.fills.size();
    result_.fills.push_back(FillRecord{f, std::vector<double>(cfg_.markout_horizons_ns.size(), kNaN)});
    for (auto& q_h : markq_) q_h.push(index);
    pending_markouts_ += markq_.size();
    if (o.leaves == 0 && o.resting) need_sweep_ = true;
  }

  void close(const ExchOrder& o, OrderStatus st) {
    xclosed_[o.id] = ClosedOrder{st, o.side, o.price, o.qty, o.filled};
  }

  // Drops fully filled orders from the resting lists and the open set.
  void sweep() {
    need_sweep_ = false;
    std::vector<ClientOrderId> gone;
    for (auto& v : resting_) {
      std::size_t w = 0;
      for (ExchOrder* o : v) {
        if (o->leaves > 0) {
          v[w++] = o;
        } else {
          o->resting = false;
          close(*o, OrderStatus::kFilled);
          gone.push_back(o->id);
        }
      }
      v.resize(w);
    }
    for (const ClientOrderId id : gone) xorders_.erase(id);
  }

  void insert_resting(ExchOrder& o) {
    std::vector<ExchOrder*>& v = resting_[side_index(o.side)];
    const auto pos = std::find_if(v.begin(), v.end(),
                                  [&](const ExchOrder* x) { return strictly_better(o.side, o.price, x->price); });
    v.insert(pos, &o);
    o.resting = true;
  }

  void remove_resting(ExchOrder& o) {
    std::vector<ExchOrder*>& v = resting_[side_index(o.side)];
    v.erase(std::remove(v.begin(), v.end(), &o), v.end());
    o.resting = false;
  }

  void rest(ExchOrder& o) {
    const Qty level = std::max<Qty>(0, venue_level_qty(o.side, o.price) - consumed_.at(o.side, o.price));
    if constexpr (kL3) {
      o.ahead = level;
    } else {
      qmodel_->on_new_order(o.q, level);
      o.ahead = static_cast<Qty>(std::llround(std::max(0.0, o.q.ahead)));
    }
    o.ahead_at_entry = o.ahead;
    o.priority = ++priority_seq_;
    insert_resting(o);
  }

  /// Best opposite price with volume left for our orders (kNoPrice: none).
  Price best_available(Side opp) const {
    for (std::size_t k = 0;; ++k) {
      const book::Level lvl = xbook_.level(opp, k);
      if (lvl.price == kNoPrice) return kNoPrice;
      if (lvl.qty - consumed_.at(opp, lvl.price) > 0) return lvl.price;
    }
  }

  bool would_cross(Side s, Price price) const {
    const Price b = best_available(opposite(s));
    return b != kNoPrice && better_or_equal(s, price, b);
  }

  /// Volume available to a taker on side s up to `limit` (kNoPrice: no limit), stopping at `need`.
  Qty fillable(Side s, Price limit, Qty need) const {
    const Side opp = opposite(s);
    Qty sum = 0;
    for (std::size_t k = 0; sum < need; ++k) {
      const book::Level lvl = xbook_.level(opp, k);
      if (lvl.price == kNoPrice) break;
      if (limit != kNoPrice && !better_or_equal(s, limit, lvl.price)) break;
      sum += std::max<Qty>(0, lvl.qty - consumed_.at(opp, lvl.price));
    }
    return sum;
  }

  // Own-order impact (cfg_.impact_model) of the taker order `o` about to walk the book: the
  // whole fillable quantity is one trade of the model at now_; returns its execution offset in
  // raw price units (signed, rounded to the nearest raw unit), added to every fill's price.
  Price own_impact(const ExchOrder& o, Price limit) {
    const Qty q = std::min(o.leaves, fillable(o.side, limit, o.leaves));
    if (q <= 0) return 0;
    const double qty = side_sign(o.side) * spec_.qty_to_double(q);
    const double offset = impact_tracker_->trade(static_cast<double>(now_) * 1e-9, qty);
    return static_cast<Price>(std::llround(offset / spec_.price_to_double(1)));
  }

  // Taker fills walking the opposite side up to `limit` (kNoPrice: market).
  void walk(ExchOrder& o, Price limit) {
    const Side opp = opposite(o.side);
    set_fill_quotes();
    const Price impact = impact_tracker_ ? own_impact(o, limit) : 0;
    for (std::size_t k = 0; o.leaves > 0; ++k) {
      const book::Level lvl = xbook_.level(opp, k);
      if (lvl.price == kNoPrice) break;
      if (limit != kNoPrice && !better_or_equal(o.side, limit, lvl.price)) break;
      const Qty avail = lvl.qty - consumed_.at(opp, lvl.price);
      if (avail <= 0) continue;
      const Qty f = std::min(o.leaves, avail);
      fill(o, f, std::max<Price>(1, lvl.price + impact), false);
      crossed_.add(opp, lvl.price, f);
      if (cfg_.own_orders_take_liquidity) consumed_.add(opp, lvl.price, f);
    }
  }

  bool on_grid_price(Price p) const { return p != kNoPrice && p > 0 && p % spec_.tick_size == 0; }
  bool on_grid_qty(Qty q) const { return q > 0 && q % spec_.lot_size == 0; }

  void on_arrival(const OrderMsg& m) {
    switch (m.kind) {
      case MsgKind::kNew:
        exch_new(m.req);
        break;
      case MsgKind::kCancel:
        exch_cancel(m.req.id);
        break;
      case MsgKind::kModify:
        exch_modify(m.req.id, m.req.price, m.req.qty);
        break;
    }
    if (need_sweep_) sweep();
  }

  void exch_new(const OrderRequest& req) {
    ExchOrder o;
    o.id = req.id;
    o.side = req.side;
    o.price = req.type == OrderType::kMarket ? kNoPrice : req.price;
    o.qty = req.qty;
    o.leaves = req.qty;
    o.type = req.type;
    o.tif = req.tif;
    auto reject = [&](RejectReason r) {
      push_response(make_update(o, OrderEventKind::kRejected, OrderStatus::kRejected, r), nullptr, Answer::kNew);
      close(o, OrderStatus::kRejected);
    };
    if (xorders_.count(o.id) != 0 || xclosed_.count(o.id) != 0) {
      push_response(make_update(o, OrderEventKind::kRejected, OrderStatus::kRejected, RejectReason::kDuplicateId),
                    nullptr, Answer::kNew);
      return;
    }
    if (o.type == OrderType::kLimit && !on_grid_price(o.price)) return reject(RejectReason::kInvalidPrice);
    if (!on_grid_qty(o.qty)) return reject(RejectReason::kInvalidQty);
    const Side opp = opposite(o.side);
    const bool market = o.type == OrderType::kMarket;
    if (market || o.tif == TimeInForce::kIoc || o.tif == TimeInForce::kFok) {
      if (best_available(opp) == kNoPrice) {
        return reject(o.tif == TimeInForce::kFok ? RejectReason::kFokNotFillable : RejectReason::kNoLiquidity);
      }
      if (o.tif == TimeInForce::kFok && fillable(o.side, o.price, o.qty) < o.qty) {
        return reject(RejectReason::kFokNotFillable);
      }
      walk(o, o.price);
      if (o.leaves > 0) {
        push_response(make_update(o, OrderEventKind::kCanceled, OrderStatus::kCanceled), nullptr, Answer::kNew);
        close(o, OrderStatus::kCanceled);
      } else {
        close(o, OrderStatus::kFilled);
      }
      return;
    }
    const bool crosses = would_cross(o.side, o.price);
    if (o.tif == TimeInForce::kPostOnly && crosses) return reject(RejectReason::kPostOnlyWouldCross);
    ExchOrder& r = xorders_.emplace(o.id, o).first->second;
    push_response(make_update(r, OrderEventKind::kAccepted, OrderStatus::kOpen), nullptr, Answer::kNew);
    if (crosses) walk(r, r.price);
    if (r.leaves > 0) {
      rest(r);
    } else {
      close(r, OrderStatus::kFilled);
      xorders_.erase(r.id);
    }
  }

  // Rejection of a cancel / modify for an order not open at the exchange.
  void reject_not_open(ClientOrderId id, Answer answer) {
    ExchOrder o;
    o.id = id;
    RejectReason reason = RejectReason::kUnknownOrder;
    OrderStatus st = OrderStatus::kRejected;
    if (const auto it = xclosed_.find(id); it != xclosed_.end()) {
      const ClosedOrder& c = it->second;
      st = c.status;
      o.side = c.side;
      o.price = c.price;
      o.qty = c.qty;
      o.filled = c.filled;
      o.leaves = 0;
      if (c.status == OrderStatus::kFilled) reason = RejectReason::kTooLateToCancel;
    }
    push_response(make_update(o, OrderEventKind::kRejected, st, reason), nullptr, answer);
  }

  void exch_cancel(ClientOrderId id) {
    const auto it = xorders_.find(id);
    if (it == xorders_.end()) return reject_not_open(id, Answer::kCancel);
    ExchOrder& o = it->second;
    remove_resting(o);
    push_response(make_update(o, OrderEventKind::kCanceled, OrderStatus::kCanceled), nullptr, Answer::kCancel);
    close(o, OrderStatus::kCanceled);
    xorders_.erase(it);
  }

  void exch_modify(ClientOrderId id, Price price, Qty qty) {
    const auto it = xorders_.find(id);
    if (it == xorders_.end()) return reject_not_open(id, Answer::kModify);
    ExchOrder& o = it->second;
    auto reject = [&](RejectReason r) {
      push_response(make_update(o, OrderEventKind::kRejected, OrderStatus::kOpen, r), nullptr, Answer::kModify);
    };
    if (!on_grid_price(price)) return reject(RejectReason::kInvalidPrice);
    if (!on_grid_qty(qty)) return reject(RejectReason::kInvalidQty);
    if (qty <= o.filled) {
      remove_resting(o);
      push_response(make_update(o, OrderEventKind::kCanceled, OrderStatus::kCanceled), nullptr, Answer::kModify);
      close(o, OrderStatus::kCanceled);
      xorders_.erase(it);
      return;
    }
    if (price == o.price && qty <= o.qty) {
      o.qty = qty;
      o.leaves = qty - o.filled;
      push_response(make_update(o, OrderEventKind::kModified, OrderStatus::kOpen), nullptr, Answer::kModify);
      return;
    }
    const bool crosses = would_cross(o.side, price);
    if (crosses && o.tif == TimeInForce::kPostOnly) return reject(RejectReason::kPostOnlyWouldCross);
    remove_resting(o);
    o.price = price;
    o.qty = qty;
    o.leaves = qty - o.filled;
    push_response(make_update(o, OrderEventKind::kModified, OrderStatus::kOpen), nullptr, Answer::kModify);
    if (crosses) walk(o, price);
    if (o.leaves > 0) {
      rest(o);
    } else {
      close(o, OrderStatus::kFilled);
      xorders_.erase(it);
    }
  }

  // ------------------------------------------------------------------------------------------
  // The strategy side

  void start() {
    started_ = true;
    next_timer_ = now_ + cfg_.timer_interval_ns;
    next_sample_ = now_;
    strat_->on_start(ctx_);
  }

  void on_delivery(const Event& d) {
    // A venue snapshot (flag kSnapshot) carries the resting orders' original times (Databento
    // ts_event): the strategy, its timer and the sampling start after it.
    if (!started_ && delivered_ >= cfg_.warmup_events && !d.has(event_flags::kSnapshot)) start();
    ++delivered_;
    (void)lbook_.apply(d);  // the exchange book validated the same event sequence
    if (is_book_change(d.kind)) dirty_ = true;
    if (d.kind == EventKind::kTrade || d.kind == EventKind::kExecution) {
      ++events_seen_;
      if (started_) {
        strategy::TradeView tv;
        tv.exch_ts_ns = d.exch_ts_ns;
        tv.local_ts_ns = d.local_ts_ns;
        tv.price = d.price;
        tv.qty = d.qty;
        tv.side = d.kind == EventKind::kTrade ? d.side : opposite(d.side);
        strat_->on_trade(ctx_, tv);
      }
    }
    if (d.has(event_flags::kComplete) && dirty_) {
      dirty_ = false;
      ++events_seen_;
      if (started_) strat_->on_book_update(ctx_);
    }
  }

  OrderView* find_local(ClientOrderId id) {
    const auto it = lindex_.find(id);
    return it == lindex_.end() ? nullptr : &lopen_[it->second];
  }

  void erase_local(ClientOrderId id) {
    const auto it = lindex_.find(id);
    if (it == lindex_.end()) return;
    const std::size_t i = it->second;
    lindex_.erase(it);
    if (i + 1 != lopen_.size()) {
      lopen_[i] = lopen_.back();
      lindex_[lopen_[i].id] = i;
    }
    lopen_.pop_back();
  }

  static bool terminal(OrderStatus s) noexcept {
    return s == OrderStatus::kFilled || s == OrderStatus::kCanceled || s == OrderStatus::kRejected;
  }

  void on_response(const Response& r) {
    const OrderUpdate& u = r.update;
    if (OrderView* v = find_local(u.order_id)) {
      v->status = u.status;
      if (u.side != Side::kNone) {
        v->price = u.price;
        v->qty = u.qty;
        v->leaves = u.leaves;
        v->filled = u.filled;
      }
      if (r.answer == Answer::kCancel) v->cancel_pending = false;
      if (r.answer == Answer::kModify) v->modify_pending = false;
      if (terminal(u.status)) erase_local(u.order_id);
    }
    if (r.has_fill) {
      const Fill& f = r.fill;
      const int sg = side_sign(f.side);
      const Money value = exchange::notional(f.price, f.qty);
      lposition_ += sg * f.qty;
      lcash_ += (sg > 0 ? -value : value) - f.fee;
    }
    result_.orders.push_back(OrderLogEntry{u});
    if (started_) {
      strat_->on_order_update(ctx_, u);
      if (r.has_fill) strat_->on_fill(ctx_, r.fill);
    }
  }

  void log_sent(const OrderUpdate& u) { result_.orders.push_back(OrderLogEntry{u}); }

  void reject_locally(OrderUpdate u, RejectReason reason, OrderStatus st, Answer answer) {
    u.kind = OrderEventKind::kRejected;
    u.status = st;
    u.reason = reason;
    u.exch_ts_ns = kNoTimestamp;
    u.local_ts_ns = now_;
    Response r;
    r.t = now_;
    r.update = u;
    r.answer = answer;
    immediate_.push(r);
  }

  /// Reference price for max_notional when the order has none (market orders).
  Price risk_price(Side s, Price p) const {
    if (p != kNoPrice) return p;
    const Price opp = lbook_.best(opposite(s)).price;
    return opp != kNoPrice ? opp : lbook_.best(s).price;
  }

  RejectReason risk_check(Side s, Price price, Qty new_leaves, Qty order_qty, Qty replaced_leaves, bool is_new) const {
    const RiskLimits& r = cfg_.risk;
    if (r.max_order_qty > 0 && order_qty > r.max_order_qty) return RejectReason::kRiskMaxOrderSize;
    if (is_new && r.max_open_orders > 0 && lopen_.size() >= r.max_open_orders) {
      return RejectReason::kRiskMaxOpenOrders;
    }
    if (r.max_position <= 0 && r.max_notional <= 0) return RejectReason::kNone;
    Qty open_same = 0;
    for (const OrderView& v : lopen_) {
      if (v.side == s) open_same += v.leaves;
    }
    const Qty worst = lposition_ + side_sign(s) * (open_same - replaced_leaves + new_leaves);
    const Qty worst_abs = worst < 0 ? -worst : worst;
    if (r.max_position > 0 && worst_abs > r.max_position) return RejectReason::kRiskMaxPosition;
    if (r.max_notional > 0) {
      const Price p = risk_price(s, price);
      if (p != kNoPrice && spec_.qty_to_double(worst_abs) * spec_.price_to_double(p) * spec_.multiplier() > r.max_notional) {
        return RejectReason::kRiskMaxNotional;
      }
    }
    return RejectReason::kNone;
  }

  TimestampNs entry_time() {
    const TimestampNs lat = cfg_.order_latency ? cfg_.order_latency->entry(rng_) : 0;
    TimestampNs t = now_ + lat;
    if (t < last_arrival_) t = last_arrival_;
    last_arrival_ = t;
    return t;
  }

  ClientOrderId submit(const OrderRequest& request) {
    if (request.side != Side::kBid && request.side != Side::kAsk) {
      throw Error("Context::submit: order side must be buy (kBid) or sell (kAsk)");
    }
    OrderRequest req = request;
    if (req.type == OrderType::kMarket) req.price = kNoPrice;
    if (req.id == 0) {
      while (used_ids_.count(next_id_) != 0) ++next_id_;
      req.id = next_id_++;
    }
    OrderUpdate u;
    u.exch_ts_ns = kNoTimestamp;
    u.local_ts_ns = now_;
    u.order_id = req.id;
    u.kind = OrderEventKind::kSubmitted;
    u.status = OrderStatus::kPendingNew;
    u.side = req.side;
    u.price = req.price;
    u.qty = req.qty;
    u.leaves = req.qty;
    log_sent(u);
    if (!used_ids_.insert(req.id).second) {
      reject_locally(u, RejectReason::kDuplicateId, OrderStatus::kRejected, Answer::kNew);
      return req.id;
    }
    if (req.id >= next_id_) next_id_ = req.id + 1;
    const RejectReason risk = risk_check(req.side, req.price, req.qty, req.qty, 0, true);
    if (risk != RejectReason::kNone) {
      reject_locally(u, risk, OrderStatus::kRejected, Answer::kNew);
      return req.id;
    }
    OrderView v;
    v.id = req.id;
    v.side = req.side;
    v.price = req.price;
    v.qty = req.qty;
    v.leaves = req.qty;
    v.type = req.type;
    v.tif = req.tif;
    v.status = OrderStatus::kPendingNew;
    lindex_.emplace(v.id, lopen_.size());
    lopen_.push_back(v);
    arrivals_.push(OrderMsg{entry_time(), MsgKind::kNew, req});
    return req.id;
  }

  OrderUpdate view_update(const OrderView& v, OrderEventKind kind) const {
    OrderUpdate u;
    u.exch_ts_ns = kNoTimestamp;
    u.local_ts_ns = now_;
    u.order_id = v.id;
    u.kind = kind;
    u.status = v.status;
    u.side = v.side;
    u.price = v.price;
    u.qty = v.qty;
    u.leaves = v.leaves;
    u.filled = v.filled;
    return u;
  }

  bool cancel(ClientOrderId id) {
    OrderView* v = find_local(id);
    if (v == nullptr) return false;
    v->cancel_pending = true;
    log_sent(view_update(*v, OrderEventKind::kCancelSent));
    OrderRequest req;
    req.id = id;
    arrivals_.push(OrderMsg{entry_time(), MsgKind::kCancel, req});
    return true;
  }

  bool modify(ClientOrderId id, Price price, Qty qty) {
    OrderView* v = find_local(id);
    if (v == nullptr) return false;
    OrderUpdate sent = view_update(*v, OrderEventKind::kModifySent);
    sent.price = price;
    sent.qty = qty;
    log_sent(sent);
    const RejectReason risk =
        risk_check(v->side, price, std::max<Qty>(0, qty - v->filled), qty, v->leaves, false);
    if (risk != RejectReason::kNone) {
      reject_locally(view_update(*v, OrderEventKind::kRejected), risk, v->status, Answer::kModify);
      return true;
    }
    v->modify_pending = true;
    OrderRequest req;
    req.id = id;
    req.side = v->side;
    req.price = price;
    req.qty = qty;
    arrivals_.push(OrderMsg{entry_time(), MsgKind::kModify, req});
    return true;
  }

  // A copy, so that a strategy may submit / cancel while iterating it; queue_ahead is the
  // exchange-side estimate now.
  std::span<const OrderView> open_orders_snapshot() {
    lsnapshot_.assign(lopen_.begin(), lopen_.end());
    for (OrderView& v : lsnapshot_) {
      const auto it = xorders_.find(v.id);
      v.queue_ahead = it != xorders_.end() && it->second.resting ? it->second.ahead : -1;
    }
    return lsnapshot_;
  }

  // ------------------------------------------------------------------------------------------
  // Recording

  double venue_mid() const {
    const Price b = xbook_.best(Side::kBid).price, a = xbook_.best(Side::kAsk).price;
    if (b == kNoPrice || a == kNoPrice) return kNaN;
    return 0.5 * (spec_.price_to_double(b) + spec_.price_to_double(a));
  }

  void set_markout(std::size_t h, std::size_t index, double mid) {
    FillRecord& r = result_.fills[index];
    r.markouts[h] = (mid - spec_.price_to_double(r.fill.price)) * side_sign(r.fill.side);
  }

  // Markouts whose horizon ends before exchange time t (the book now holds every event up to it).
  void resolve_markouts(TimestampNs t) {
    double mid = kNaN;
    bool have_mid = false;
    for (std::size_t h = 0; h < markq_.size(); ++h) {
      Fifo<std::size_t>& q = markq_[h];
      const TimestampNs horizon = cfg_.markout_horizons_ns[h];
      while (!q.empty()) {
        const std::size_t index = q.front();
        if (result_.fills[index].fill.exch_ts_ns + horizon >= t) break;
        if (!have_mid) {
          mid = venue_mid();
          have_mid = true;
        }
        set_markout(h, index, mid);
        q.pop();
        --pending_markouts_;
      }
    }
  }

  void take_sample() {
    Sample s;
    s.ts_ns = now_;
    s.best_bid = xbook_.best(Side::kBid).price;
    s.best_ask = xbook_.best(Side::kAsk).price;
    for (const ExchOrder* o : resting_[0]) {
      if (o->leaves > 0) {
        s.our_bid = o->price;
        break;
      }
    }
    for (const ExchOrder* o : resting_[1]) {
      if (o->leaves > 0) {
        s.our_ask = o->price;
        break;
      }
    }
    s.position = position_;
    s.cash = cash_;
    const double m = venue_mid();
    if (!std::isnan(m)) last_mid_ = m;
    s.mid = last_mid_;
    const double cash = exchange::money_to_double(cash_, spec_);
    s.pnl = position_ == 0 ? cash : cash + spec_.qty_to_double(position_) * last_mid_ * spec_.multiplier();
    s.fees = exchange::money_to_double(fees_, spec_);
    s.funding = exchange::money_to_double(funding_, spec_);
    result_.samples.push_back(s);
  }

  void finish() {
    if (finished_) return;
    if (!started_) start();
    const double mid = venue_mid();
    for (std::size_t h = 0; h < markq_.size(); ++h) {
      Fifo<std::size_t>& q = markq_[h];
      const TimestampNs horizon = cfg_.markout_horizons_ns[h];
      while (!q.empty()) {
        const std::size_t index = q.front();
        if (result_.fills[index].fill.exch_ts_ns + horizon <= texch_) set_markout(h, index, mid);
        q.pop();
      }
    }
    pending_markouts_ = 0;
    strat_->on_end(ctx_);
    if (result_.samples.empty() || result_.samples.back().ts_ns < now_) take_sample();
    result_.strategy_params = strat_->resolved_params();
    result_.strategy_summary = strat_->summary();
    finished_ = true;
    metrics::compute_metrics(result_, cfg_, spec_, events_);
    if (cfg_.funding.mode != FundingConfig::Mode::kNone) {
      const FundingConfig& f = cfg_.funding;
      if (f.mode == FundingConfig::Mode::kSchedule && data_start_ != kNoTimestamp &&
          texch_ < f.schedule.front().ts_ns - f.interval_ns) {
        throw Error("funding schedule " + funding_range_text() + " does not overlap the data, " +
                    format_utc(data_start_) + " .. " + format_utc(texch_) + " (before its first interval)");
      }
      Metrics& m = result_.metrics;
      m.funding_paid = exchange::money_to_double(funding_, spec_);
      m.funding_settlements = result_.funding.size();
      m.total_pnl -= m.funding_paid;
      m.realized_pnl -= m.funding_paid;
    }
  }

  // ------------------------------------------------------------------------------------------

  std::unique_ptr<data::EventSource> src_;
  std::unique_ptr<strategy::Strategy> strat_;
  EngineConfig cfg_;
  std::unique_ptr<exchange::QueueModel> qmodel_;
  InstrumentSpec spec_;
  exchange::Rng rng_;
  bool fills_reported_ = false;

  Book xbook_;  // the exchange's replayed book
  Book lbook_;  // the local book (after feed latency)
  LocalBookView<Book> lview_;
  Ctx ctx_;

  std::vector<Event> batch_;
  std::size_t bpos_ = 0, bn_ = 0;
  bool src_eof_ = false;
  bool fl_constant_ = false;
  TimestampNs fl_offset_ = 0;

  TimestampNs now_ = 0;
  TimestampNs texch_ = kNoTimestamp;
  TimestampNs last_delivery_ = kNoTimestamp, last_arrival_ = kNoTimestamp, last_response_ = kNoTimestamp;
  TimestampNs next_timer_ = kNever, next_sample_ = kNever;
  Fifo<Event> deliveries_;
  Fifo<OrderMsg> arrivals_;
  Fifo<Response> immediate_;
  Fifo<Response> responses_;

  // Exchange side.
  std::unordered_map<ClientOrderId, ExchOrder> xorders_;  // open at the exchange
  std::unordered_map<ClientOrderId, ClosedOrder> xclosed_;
  std::vector<ExchOrder*> resting_[2];  // [0] bids, [1] asks: best price first, then arrival
  std::uint64_t priority_seq_ = 0;
  bool need_sweep_ = false;
  LevelOverlay consumed_;  // own_orders_take_liquidity
  LevelOverlay crossed_;   // volume our orders already traded against, for crossing fills
  std::unique_ptr<models::ImpactModel> impact_;           // cfg_.impact_model; null = none
  std::unique_ptr<models::ImpactTracker> impact_tracker_;  // our taker trades so far
  Price fill_bid_ = kNoPrice, fill_ask_ = kNoPrice;
  Qty position_ = 0;
  Money cash_ = 0, fees_ = 0;
  Money funding_ = 0;                  // cumulative funding paid
  TimestampNs funding_next_ = kNever;  // next settlement (kNever: none)
  std::size_t funding_idx_ = 0;        // kSchedule: index of the next settlement
  TimestampNs data_start_ = kNoTimestamp;
  Price last_mid2_ = kNoPrice;         // last two-sided best bid + best ask, raw

  // Strategy side.
  std::vector<OrderView> lopen_;
  std::vector<OrderView> lsnapshot_;  // what open_orders() last returned
  std::unordered_map<ClientOrderId, std::size_t> lindex_;
  std::unordered_set<ClientOrderId> used_ids_;
  ClientOrderId next_id_ = 1;
  Qty lposition_ = 0;
  Money lcash_ = 0;
  std::uint64_t events_ = 0, delivered_ = 0, events_seen_ = 0;
  bool started_ = false, dirty_ = false, finished_ = false;

  // Recording.
  std::vector<Fifo<std::size_t>> markq_;  // per horizon: fill indices awaiting their markout
  std::size_t pending_markouts_ = 0;
  double last_mid_ = kNaN;
  BacktestResult result_;
};

void validate(const EngineConfig& c) {
  if (c.timer_interval_ns <= 0) throw Error("engine config: timer_interval_ns must be > 0");
  if (c.sample_interval_ns <= 0) throw Error("engine config: sample_interval_ns must be > 0");
  for (const TimestampNs h : c.markout_horizons_ns) {
    if (h <= 0) throw Error("engine config: markout horizons must be > 0 ns");
  }
  if (c.risk.max_position < 0 || c.risk.max_order_qty < 0 || !(c.risk.max_notional >= 0) ||
      !std::isfinite(c.risk.max_notional)) {
    throw Error("engine config: risk limits must be >= 0 (0 = no limit)");
  }
  if (c.feed_latency.constant_ns < 0 || c.feed_latency.floor_ns < 0) {
    throw Error("engine config: feed latency must be >= 0 ns");
  }
  const FundingConfig& f = c.funding;
  if (f.mode != FundingConfig::Mode::kNone) {
    if (f.interval_ns <= 0) throw Error("engine config: funding interval must be > 0 ns");
    if (!std::isfinite(f.rate)) throw Error("engine config: funding rate must be finite");
  }
  if (f.mode == FundingConfig::Mode::kSchedule) {
    const std::string where = f.source.empty() ? std::string("funding schedule") : f.source;
    if (f.schedule.empty()) throw Error(where + ": funding schedule has no settlements");
    for (std::size_t i = 0; i < f.schedule.size(); ++i) {
      if (!std::isfinite(f.schedule[i].rate)) {
        throw Error(where + ": funding settlement " + std::to_string(i) + " has a non-finite rate");
      }
      if (i > 0 && f.schedule[i].ts_ns <= f.schedule[i - 1].ts_ns) {
        throw Error(where + ": funding settlement times must be strictly increasing (settlement " +
                    std::to_string(i) + ")");
      }
    }
  }
}

}  // namespace

FundingConfig funding_constant(double rate, TimestampNs interval_ns) {
  if (interval_ns <= 0) throw Error("funding: interval must be > 0 (got " + std::to_string(interval_ns) + " ns)");
  if (!std::isfinite(rate)) throw Error("funding: rate must be finite");
  FundingConfig f;
  f.mode = FundingConfig::Mode::kConstant;
  f.rate = rate;
  f.interval_ns = interval_ns;
  f.source = "constant";
  return f;
}

FundingConfig funding_from_file(const std::string& path) {
  const data::FundingSeries series = data::read_funding(path);
  if (series.rows.empty()) throw Error(path + ": funding file has no rows");
  FundingConfig f;
  f.mode = FundingConfig::Mode::kSchedule;
  f.source = path;
  f.schedule.reserve(series.rows.size());
  for (const data::FundingRate& r : series.rows) f.schedule.push_back(FundingSettlement{r.ts_ns, r.rate});
  if (f.schedule.size() > 1) {
    std::vector<TimestampNs> gaps;
    for (std::size_t i = 1; i < f.schedule.size(); ++i) gaps.push_back(f.schedule[i].ts_ns - f.schedule[i - 1].ts_ns);
    std::nth_element(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2), gaps.end());
    f.interval_ns = gaps[gaps.size() / 2];
  }
  return f;
}

struct Engine::Impl {
  std::unique_ptr<SimBase> sim;
};

Engine::Engine(std::unique_ptr<data::EventSource> source, std::unique_ptr<strategy::Strategy> strategy,
               EngineConfig config) {
  if (!source) throw Error("engine: no event source");
  if (!strategy) throw Error("engine: no strategy");
  validate(config);
  const InstrumentSpec& spec = source->instrument();
  if (spec.tick_size <= 0 || spec.lot_size <= 0) {
    throw Error("engine: instrument " + spec.symbol_str() + " has a non-positive tick or lot size");
  }
  auto qmodel = exchange::make_queue_model(config.queue_model);
  if (source->book_level() == data::BookLevel::kL3) {
    impl_ = std::make_unique<Impl>();
    impl_->sim = std::make_unique<Sim<book::L3Book>>(std::move(source), std::move(strategy), std::move(config),
                                                std::move(qmodel));
  } else {
    impl_ = std::make_unique<Impl>();
    impl_->sim = std::make_unique<Sim<book::L2Book>>(std::move(source), std::move(strategy), std::move(config),
                                                std::move(qmodel));
  }
}

Engine::~Engine() = default;

bool Engine::step(std::uint64_t n) { return impl_->sim->step(n); }
bool Engine::run_until(TimestampNs ts_ns) { return impl_->sim->run_until(ts_ns); }
void Engine::run() { impl_->sim->run(); }
bool Engine::finished() const noexcept { return impl_->sim->finished(); }
TimestampNs Engine::now() const noexcept { return impl_->sim->now(); }
std::uint64_t Engine::events_processed() const noexcept { return impl_->sim->events_processed(); }
const InstrumentSpec& Engine::instrument() const noexcept { return impl_->sim->instrument(); }
Qty Engine::position() const noexcept { return impl_->sim->position(); }
Money Engine::cash() const noexcept { return impl_->sim->cash(); }
const strategy::Context& Engine::context() const noexcept { return impl_->sim->context(); }
const BacktestResult& Engine::result() { return impl_->sim->result(); }
TimestampNs Engine::next_due() { return impl_->sim->next_due(); }
bool Engine::advance_one() { return impl_->sim->advance_one(); }
double Engine::mid() const noexcept { return impl_->sim->mid(); }

}  // namespace mmkit::engine
