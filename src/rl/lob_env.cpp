#include "mmkit/rl/lob_env.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

#include "mmkit/core/decimal.h"
#include "mmkit/core/error.h"
#include "mmkit/data/source.h"
#include "mmkit/engine/engine.h"
#include "mmkit/engine/profile.h"
#include "mmkit/exchange/models.h"
#include "mmkit/rl/lob_internal.h"
#include "mmkit/sim/synthetic_market.h"

namespace mmkit::rl {

namespace {
constexpr std::size_t kMidRing = 6;
}  // namespace

// ---------------------------------------------------------------------------------------------
// QuoteAgent

namespace {
strategy::QuotingStrategy* as_quoting(strategy::Strategy* s) {
  auto* q = dynamic_cast<strategy::QuotingStrategy*>(s);
  if (!q) throw Error("rl agent: the base strategy must be a quoting strategy (avellaneda-stoikov, glft, ...)");
  return q;
}
}  // namespace

QuoteAgent::QuoteAgent(std::unique_ptr<strategy::Strategy> base, ActionMode mode)
    : owned_(std::move(base)), base_(as_quoting(owned_.get())), mode_(mode) {
  if (mode_ == ActionMode::kDirect) {
    const float a[4] = {1, 1, 1, 1};
    set_action(a);
  }
}

QuoteAgent::~QuoteAgent() = default;

strategy::ExternalAdjust QuoteAgent::external_adjust(ActionMode mode, std::span<const float> a) {
  strategy::ExternalAdjust e;
  const auto at = [&](std::size_t j, float def) { return static_cast<double>(j < a.size() ? a[j] : def); };
  if (mode == ActionMode::kMultiplier) {
    e.adjust.spread_mult = at(0, 1);
    e.adjust.bid_size_mult = e.adjust.ask_size_mult = at(1, 1);
    e.skew_half_spreads = at(2, 0);
  } else {
    e.override_model = true;
    e.bid_offset_ticks = at(0, 1);
    e.ask_offset_ticks = at(1, 1);
    e.adjust.bid_size_mult = at(2, 1);
    e.adjust.ask_size_mult = at(3, 1);
  }
  return e;
}

void QuoteAgent::set_action(std::span<const float> a) { base_->set_external_adjust(external_adjust(mode_, a)); }

void QuoteAgent::on_start(strategy::Context& ctx) {
  before_callback(ctx);
  base_->on_start(ctx);
}
void QuoteAgent::on_book_update(strategy::Context& ctx) {
  before_callback(ctx);
  base_->on_book_update(ctx);
}
void QuoteAgent::on_trade(strategy::Context& ctx, const strategy::TradeView& t) {
  before_callback(ctx);
  base_->on_trade(ctx, t);
}
void QuoteAgent::on_order_update(strategy::Context& ctx, const strategy::OrderUpdate& u) {
  before_callback(ctx);
  base_->on_order_update(ctx, u);
}
void QuoteAgent::on_fill(strategy::Context& ctx, const strategy::Fill& f) {
  before_callback(ctx);
  ++fills_;
  traded_ += f.qty;
  base_->on_fill(ctx, f);
}
void QuoteAgent::on_timer(strategy::Context& ctx) {
  before_callback(ctx);
  base_->on_timer(ctx);
}
void QuoteAgent::on_end(strategy::Context& ctx) { base_->on_end(ctx); }
strategy::Params QuoteAgent::resolved_params() const { return base_->resolved_params(); }
strategy::Params QuoteAgent::summary() const { return base_->summary(); }

// ---------------------------------------------------------------------------------------------
// Observation

std::vector<std::string> lob_obs_names(bool regime_feature) {
  std::vector<std::string> n{"mid_norm",       "spread",   "volatility", "inventory",
                             "return_1",       "return_5", "book_imbalance", "pnl_ratio",
                             "time_remaining", "bid_queue_position", "ask_queue_position"};
  if (regime_feature) n.emplace_back("regime");
  return n;
}

double LobObserver::pnl(const strategy::Context& ctx) {
  const InstrumentSpec& spec = ctx.instrument();
  const double m = ctx.book().mid();
  if (std::isfinite(m)) last_mid_ = m;
  const double mid_dec = last_mid_ / static_cast<double>(pow10(spec.price_decimals));
  return exchange::money_to_double(ctx.cash(), spec) + spec.qty_to_double(ctx.position()) * mid_dec * spec.multiplier();
}

void LobObserver::start(const strategy::Context& ctx, Qty order_qty, Qty max_position) {
  const InstrumentSpec& spec = ctx.instrument();
  pnl0_ = pnl(ctx);
  mid_known_ = last_mid_ > 0;
  mid0_ = mid_known_ ? last_mid_ : 1.0;
  mids_.assign(kMidRing, mid0_);
  sq_.assign(static_cast<std::size_t>(std::max<std::int64_t>(1, c_.vol_window)), 0.0);
  sq_sum_ = 0;
  count_ = 0;
  order_qty_ = static_cast<double>(std::max<Qty>(order_qty, 1));
  max_units_ = std::max(1e-9, static_cast<double>(max_position) / order_qty_);
  pnl_norm_per_mid_ = spec.qty_to_double(max_position) * spec.multiplier() * 1e-3 /
                     static_cast<double>(pow10(spec.price_decimals));
  pnl_norm_ = c_.pnl_norm > 0 ? c_.pnl_norm : std::max(1e-12, mid0_ * pnl_norm_per_mid_);
}

void LobObserver::observe(const strategy::Context& ctx, std::int64_t step, double regime_level, float* o) {
  const InstrumentSpec& spec = ctx.instrument();
  const double tick = static_cast<double>(std::max<Price>(spec.tick_size, 1));
  const double p = pnl(ctx);  // updates last_mid_
  if (!mid_known_ && last_mid_ > 0) {
    // No two-sided book at the episode start: the episode's mid starts at the first one seen.
    mid_known_ = true;
    mid0_ = last_mid_;
    mids_.assign(kMidRing, mid0_);
    if (!(c_.pnl_norm > 0)) pnl_norm_ = std::max(1e-12, mid0_ * pnl_norm_per_mid_);
  }
  const double mid = mid_known_ ? last_mid_ : mid0_;
  if (step > 0) {
    const double prev = mids_[static_cast<std::size_t>(step - 1) % kMidRing];
    const double d = (mid - prev) / tick;
    const std::size_t w = sq_.size();
    const std::size_t slot = static_cast<std::size_t>(count_) % w;
    sq_sum_ += d * d - sq_[slot];
    sq_[slot] = d * d;
    ++count_;
    if (count_ % 4096 == 0) {  // re-sum against drift
      sq_sum_ = 0;
      for (double v : sq_) sq_sum_ += v;
    }
  }
  mids_[static_cast<std::size_t>(step) % kMidRing] = mid;
  const double m1 = mids_[static_cast<std::size_t>(std::max<std::int64_t>(step - 1, 0) + kMidRing) % kMidRing];
  const double m5 = step >= 5 ? mids_[static_cast<std::size_t>(step - 5) % kMidRing] : mid0_;
  const double m1v = step >= 1 ? m1 : mid0_;
  const strategy::BookView& b = ctx.book();
  const book::Level bb = b.best(Side::kBid), ba = b.best(Side::kAsk);
  double spread = 0, imb = 0;
  if (bb.price != kNoPrice && ba.price != kNoPrice) spread = static_cast<double>(ba.price - bb.price) / tick;
  if (bb.qty + ba.qty > 0) imb = static_cast<double>(bb.qty - ba.qty) / static_cast<double>(bb.qty + ba.qty);
  const std::int64_t nvol = std::min<std::int64_t>(count_, static_cast<std::int64_t>(sq_.size()));
  const double vol = nvol > 0 ? std::sqrt(std::max(0.0, sq_sum_) / static_cast<double>(nvol) / c_.step_s) : 0.0;
  // Queue position: our best resting order on each side; ahead / visible level volume.
  double queue[2] = {1.0, 1.0};
  Price best_px[2] = {kNoPrice, kNoPrice};
  Qty ahead[2] = {0, 0};
  for (const strategy::OrderView& ov : ctx.open_orders()) {
    if (ov.queue_ahead < 0 || ov.status != exchange::OrderStatus::kOpen) continue;
    const int s = ov.side == Side::kBid ? 0 : 1;
    const bool better = best_px[s] == kNoPrice || (s == 0 ? ov.price > best_px[s] : ov.price < best_px[s]);
    if (better) {
      best_px[s] = ov.price;
      ahead[s] = ov.queue_ahead;
    }
  }
  for (int s = 0; s < 2; ++s) {
    if (best_px[s] == kNoPrice) continue;
    const Side side = s == 0 ? Side::kBid : Side::kAsk;
    Qty level_qty = 0;
    const std::size_t depth = std::min<std::size_t>(b.depth(side), 64);
    for (std::size_t j = 0; j < depth; ++j) {
      const book::Level l = b.level(side, j);
      if (l.price == best_px[s]) {
        level_qty = l.qty;
        break;
      }
      if (s == 0 ? l.price < best_px[s] : l.price > best_px[s]) break;
    }
    queue[s] = level_qty > 0 ? std::clamp(static_cast<double>(ahead[s]) / static_cast<double>(level_qty), 0.0, 1.0) : 0.0;
  }
  const double steps = static_cast<double>(std::max<std::int64_t>(c_.episode_steps, 1));
  o[0] = static_cast<float>((mid / mid0_ - 1.0) * c_.mid_scale);
  o[1] = static_cast<float>(spread / c_.spread_scale);
  o[2] = static_cast<float>(vol / c_.vol_scale);
  o[3] = static_cast<float>(static_cast<double>(ctx.position()) / order_qty_ / max_units_);
  o[4] = static_cast<float>((mid / m1v - 1.0) * c_.return_scale);
  o[5] = static_cast<float>((mid / m5 - 1.0) * c_.return_scale);
  o[6] = static_cast<float>(imb);
  o[7] = static_cast<float>(std::clamp((p - pnl0_) / pnl_norm_, -1e3, 1e3));
  o[8] = static_cast<float>(std::max(0.0, 1.0 - static_cast<double>(step) / steps));
  o[9] = static_cast<float>(queue[0]);
  o[10] = static_cast<float>(queue[1]);
  if (c_.regime_feature) o[11] = static_cast<float>(regime_level);
}

void lob_action_space(ActionMode mode, double max_offset_ticks, double max_size_mult, std::vector<std::string>& names,
                      std::vector<float>& low, std::vector<float>& high) {
  if (mode == ActionMode::kMultiplier) {
    names = {"spread_mult", "size_mult", "skew"};
    low = {0.1f, 0.0f, -2.0f};
    high = {5.0f, static_cast<float>(max_size_mult), 2.0f};
  } else {
    names = {"bid_offset_ticks", "ask_offset_ticks", "bid_size", "ask_size"};
    const auto m = static_cast<float>(max_offset_ticks);
    low = {-m, -m, 0.0f, 0.0f};
    high = {m, m, static_cast<float>(max_size_mult), static_cast<float>(max_size_mult)};
  }
}

// ---------------------------------------------------------------------------------------------
// Settings

namespace {

TimestampNs ms_to_ns(double ms) { return static_cast<TimestampNs>(std::llround(ms * 1e6)); }

}  // namespace

namespace {
// Reads every key (types checked); values are validated by read_lob_settings.
void read_lob(ConfigReader& r, const std::string& kind, LobSettings& s, double& step_ms,
              const sim::SyntheticMarketConfig* given = nullptr) {
  s.kind = kind;
  s.mode = parse_action_mode(r.string("action_mode", "multiplier"));
  s.base = parse_base(r.string("base", "avellaneda-stoikov"));
  s.regime = parse_regime(r.string("regime", "medium"));
  s.episode_steps = r.integer("episode_steps", 600);
  step_ms = r.number("step_ms", 100);
  s.warmup_ns = ms_to_ns(r.number("warmup_s", 10) * 1e3);
  s.terminate_on_breach = r.boolean("terminate_on_breach", false);
  s.max_loss = r.number("max_loss", 0);
  s.max_offset_ticks = r.number("direct_max_offset_ticks", 20);
  s.max_size_mult = r.number("max_size_mult", 2);
  s.obs.mid_scale = r.number("obs.mid_scale", s.obs.mid_scale);
  s.obs.spread_scale = r.number("obs.spread_scale", s.obs.spread_scale);
  s.obs.vol_scale = r.number("obs.vol_scale", s.obs.vol_scale);
  s.obs.return_scale = r.number("obs.return_scale", s.obs.return_scale);
  s.obs.pnl_norm = r.number("obs.pnl_norm", s.obs.pnl_norm);
  s.obs.vol_window = r.integer("obs.vol_window", s.obs.vol_window);
  read_reward_config(r, s.reward);
  // Engine (as `mmkit backtest`'s [engine] section).
  s.engine.queue_model = r.string("engine.queue_model", "prob-power-2");
  (void)exchange::make_queue_model(s.engine.queue_model);
  s.engine.entry_ns = ms_to_ns(r.number("engine.entry_latency_ms", 0));
  s.engine.response_ns = ms_to_ns(r.number("engine.response_latency_ms", 0));
  s.engine.maker_fee_bps = r.number("engine.maker_fee_bps", 0);
  s.engine.taker_fee_bps = r.number("engine.taker_fee_bps", 0);
  const std::string feed = r.string("engine.feed_latency", "data");
  if (feed != "data" && feed != "constant") {
    throw Error("rl env: engine.feed_latency must be 'data' or 'constant', got '" + feed + "'");
  }
  s.engine.feed_constant = feed == "constant";
  s.engine.feed_ns = ms_to_ns(r.number("engine.feed_latency_ms", 0));
  s.engine.timer_ns = ms_to_ns(r.number("engine.timer_interval_ms", 100));
  s.strategy_params = r.with_prefix("strategy.");
  if (kind == "synthetic") {
    s.market = sim::synthetic_preset(r.string("synthetic.preset", "cst2010"));
    s.market.initial_mid = r.integer("synthetic.initial_mid", s.market.initial_mid);
    s.market.tick_size = r.integer("synthetic.tick_size", s.market.tick_size);
    s.market.price_decimals = static_cast<std::int32_t>(r.integer("synthetic.price_decimals", s.market.price_decimals));
    s.market.max_distance = static_cast<std::uint32_t>(r.integer("synthetic.max_distance", s.market.max_distance));
    if (r.has("synthetic.limit_rate_k") || r.has("synthetic.limit_rate_alpha")) s.market.limit_rates.clear();
    s.market.limit_rate_k = r.number("synthetic.limit_rate_k", s.market.limit_rate_k);
    s.market.limit_rate_alpha = r.number("synthetic.limit_rate_alpha", s.market.limit_rate_alpha);
    s.market.market_rate = r.number("synthetic.market_rate", s.market.market_rate);
    s.market.mean_order_size = r.number("synthetic.mean_order_size", s.market.mean_order_size);
    s.market.mean_market_order_size = r.number("synthetic.mean_market_order_size", s.market.mean_market_order_size);
    s.market.opening_orders_per_level =
        static_cast<std::uint32_t>(r.integer("synthetic.opening_orders_per_level", s.market.opening_orders_per_level));
    s.market.feed_latency_ns = ms_to_ns(r.number("synthetic.feed_latency_ms", 0));
    const std::string flow = r.string("synthetic.flow", "poisson");
    if (flow != "poisson" && flow != "hawkes") throw Error("rl env: synthetic.flow must be 'poisson' or 'hawkes'");
    s.market.flow = flow == "hawkes" ? sim::FlowModel::kHawkes : sim::FlowModel::kPoisson;
    s.switch_rate = r.number("synthetic.switch_rate", 1.0 / 30.0);
    s.obs.regime_feature = true;
    if (given) {
      for (const char* k : {"synthetic.preset", "synthetic.initial_mid", "synthetic.tick_size", "synthetic.price_decimals",
                            "synthetic.max_distance", "synthetic.limit_rate_k", "synthetic.limit_rate_alpha",
                            "synthetic.market_rate", "synthetic.mean_order_size", "synthetic.mean_market_order_size",
                            "synthetic.opening_orders_per_level", "synthetic.flow"}) {
        if (r.has(k)) {
          throw Error(std::string("rl env 'synthetic': '") + k +
                      "' given with a synthetic market table: put it in the table");
        }
      }
      const TimestampNs feed_ns = s.market.feed_latency_ns;
      s.market = *given;
      if (r.has("synthetic.feed_latency_ms")) s.market.feed_latency_ns = feed_ns;
      s.own_regimes = !s.market.regimes.empty();
    }
  } else {
    s.path = r.string("path", "");
    s.window_s = r.number("window_s", 0);
    s.tick_override = r.integer("tick_size", 0);
    s.instrument = r.string("instrument", "");
  }
}
}  // namespace

LobSettings read_lob_settings(const std::string& kind, const Config& config,
                              const sim::SyntheticMarketConfig* market) {
  if (market && kind != "synthetic") throw Error("rl env '" + kind + "': a synthetic market table needs kind 'synthetic'");
  ConfigReader r("rl env '" + kind + "'", config);
  LobSettings s;
  double step_ms = 100;
  read_lob(r, kind, s, step_ms, market);
  r.finish();
  if (kind == "replay" && s.path.empty()) throw Error("rl env 'replay': config key 'path' (a data file) is required");
  if (s.episode_steps < 1) throw Error("rl env: episode_steps must be >= 1");
  if (!(step_ms > 0) || !std::isfinite(step_ms)) throw Error("rl env: step_ms must be > 0");
  s.step_ns = ms_to_ns(step_ms);
  if (s.warmup_ns < 0) throw Error("rl env: warmup_s must be >= 0");
  if (s.engine.timer_ns <= 0) throw Error("rl env: engine.timer_interval_ms must be > 0");
  if (!(s.max_offset_ticks > 0) || !(s.max_size_mult > 0)) throw Error("rl env: action bounds must be > 0");
  if (s.obs.vol_window < 1) throw Error("rl env: obs.vol_window must be >= 1");
  if (kind == "replay") {
    if (s.window_s == 0) s.window_s = static_cast<double>(s.episode_steps) * step_ms * 1e-3;
    if (!(s.window_s > 0)) throw Error("rl env 'replay': window_s must be > 0");
  }
  if (!(s.switch_rate >= 0)) throw Error("rl env: synthetic.switch_rate must be >= 0");
  s.obs.episode_steps = s.episode_steps;
  s.obs.step_s = static_cast<double>(s.step_ns) * 1e-9;
  // Env defaults for the base strategy (quote soon after the warm-up); explicit keys win.
  if (s.base == BaseQuote::kAvellanedaStoikov && !s.strategy_params.count("sigma") &&
      !s.strategy_params.count("sigma_half_life_s")) {
    s.strategy_params["sigma_half_life_s"] = 2.0;
  }
  if (s.base == BaseQuote::kGlft && !s.strategy_params.count("sigma") && !s.strategy_params.count("vol_window_s")) {
    s.strategy_params["vol_window_s"] = 10.0;
  }
  return s;
}

engine::EngineConfig make_engine_config(const LobSettings& s, std::uint64_t seed) {
  engine::EngineConfig c;
  c.fees = exchange::FeeSchedule::from_bps(s.engine.maker_fee_bps, s.engine.taker_fee_bps);
  c.queue_model = s.engine.queue_model;
  if (s.engine.entry_ns != 0 || s.engine.response_ns != 0) {
    c.order_latency = std::make_unique<exchange::ConstantOrderLatency>(s.engine.entry_ns, s.engine.response_ns);
  }
  c.feed_latency.mode = s.engine.feed_constant ? exchange::FeedLatencyConfig::Mode::kConstant
                                               : exchange::FeedLatencyConfig::Mode::kFromData;
  c.feed_latency.constant_ns = s.engine.feed_ns;
  c.timer_interval_ns = s.engine.timer_ns;
  c.sample_interval_ns = 1'000'000'000;
  c.markout_horizons_ns.clear();
  c.seed = seed;
  return c;
}

sim::SyntheticMarketConfig episode_market(const LobSettings& s, Regime regime, std::uint64_t seed) {
  sim::SyntheticMarketConfig m = s.market;
  m.seed = seed;
  m.duration_s = static_cast<double>(s.warmup_ns + s.step_ns * (s.episode_steps + 1)) * 1e-9 + 1.0;
  if (s.own_regimes) return m;
  const std::vector<sim::RegimeParams> all = sim::default_regimes();
  if (regime == Regime::kSwitching) {
    m.regimes.assign(all.begin(), all.begin() + 3);
    const double w = s.switch_rate;
    m.regime_transition = {{0, w, 0}, {w, 0, w}, {0, w, 0}};
    m.initial_regime = all[static_cast<std::size_t>(seed % 3)].name;
  } else {
    m.regimes = {all[static_cast<std::size_t>(regime)]};
    m.regime_transition = {{0.0}};
    m.initial_regime.clear();
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// The env

namespace {

struct ReplayIndex {
  std::vector<std::uint64_t> event;  // event index of every kStride-th event
  std::vector<TimestampNs> local;    // its local_ts_ns
  TimestampNs first = 0, last = 0;
  std::uint64_t count = 0;
  static constexpr std::uint64_t kStride = 1024;
};

class LobEnv final : public VecEnv {
 public:
  LobEnv(const std::string& kind, std::size_t n, const Config& config, std::uint64_t seed,
         const sim::SyntheticMarketConfig* market = nullptr)
      : VecEnv(kind, n, config, seed), s_(read_lob_settings(kind, config, market)) {
    mode_ = s_.mode;
    base_ = s_.base;
    regime_ = s_.regime;
    base_name_ = s_.base == BaseQuote::kGlft ? "glft" : "avellaneda-stoikov";
    if (kind == "synthetic") {
      // The profile (base strategy defaults) comes from the configured market's own seed, not the
      // env seed, so that reset(seed) gives the same trajectories whatever the construction seed.
      auto probe = sim::make_synthetic_market(episode_market(s_, Regime::kMedium, s_.market.seed));
      spec_ = probe->instrument();
      profile_ = engine::profile_market(*probe);
    } else {
      auto probe = open_replay();
      spec_ = probe->instrument();
      index_replay(*probe);
      auto probe2 = open_replay();
      profile_ = engine::profile_market(*probe2);
    }
    // Validates the base strategy's parameters now (errors at construction, not in a step).
    (void)strategy::make_strategy(base_name_, s_.strategy_params, spec_, profile_);
    obs_names_ = lob_obs_names(s_.obs.regime_feature);
    obs_config_ = {{"mid_scale", s_.obs.mid_scale},
                   {"spread_scale", s_.obs.spread_scale},
                   {"vol_scale", s_.obs.vol_scale},
                   {"return_scale", s_.obs.return_scale},
                   {"pnl_norm", s_.obs.pnl_norm},
                   {"vol_window", static_cast<double>(s_.obs.vol_window)},
                   {"episode_steps", static_cast<double>(s_.episode_steps)},
                   {"step_ms", static_cast<double>(s_.step_ns) * 1e-6}};
    lob_action_space(s_.mode, s_.max_offset_ticks, s_.max_size_mult, action_names_, low_, high_);
    const std::size_t od = obs_names_.size(), ad = action_names_.size();
    obs_.assign(n * od, 0.0f);
    final_obs_.assign(n * od, 0.0f);
    reward_.assign(n, 0.0);
    terminated_.assign(n, 0);
    truncated_.assign(n, 0);
    stats_.assign(n, EpisodeStats{});
    clipped_.assign(n * ad, 0.0f);
    envs_.resize(n);
    reset();
  }

  const LobEnvSlot& slot(std::size_t i) const { return envs_[i]; }
  std::size_t chunk_envs() const noexcept override { return 2; }
  const LobSettings& settings() const { return s_; }
  const strategy::MarketProfile& profile() const { return profile_; }
  const std::string& base_name() const { return base_name_; }

 protected:
  void reset_block(std::size_t b, std::size_t e) override {
    for (std::size_t i = b; i < e; ++i) {
      envs_[i].episode = 0;
      reset_env(i);
      write_first_obs(i);
    }
  }

  void step_block(const float* actions, std::size_t b, std::size_t e) override {
    const std::size_t od = obs_dim(), ad = action_dim();
    for (std::size_t i = b; i < e; ++i) {
      LobEnvSlot& v = envs_[i];
      v.agent->set_action(std::span<const float>(actions + i * ad, ad));
      const bool alive = v.engine->run_until(v.t0 + (v.step + 1) * s_.step_ns);
      ++v.step;
      const strategy::Context& ctx = v.engine->context();
      const double pnl = v.observer.episode_pnl(ctx);
      const double mid = v.observer.last_mid_raw();
      const double scale = static_cast<double>(pow10(spec_.price_decimals));
      const double oq = static_cast<double>(v.order_qty);
      const double q = static_cast<double>(ctx.position()) / oq;
      const std::uint64_t fills = v.agent->fills() - v.fills_prev;
      const double traded = static_cast<double>(v.agent->traded_qty() - v.traded_prev) / oq;
      v.fills_prev = v.agent->fills();
      v.traded_prev = v.agent->traded_qty();
      const double r = shaped_reward(s_.reward, pnl - v.pnl_prev, q, static_cast<double>(s_.step_ns) * 1e-9,
                                     (mid - v.mid_prev) / scale, traded);
      v.pnl_prev = pnl;
      v.mid_prev = mid;
      reward_[i] = r;
      v.acc.add(r, q, fills, traded);
      float* o = obs_.data() + i * od;
      v.observer.observe(ctx, v.step, regime_level(v), o);
      const bool term = (s_.terminate_on_breach && std::fabs(q) >= v.max_units) || (s_.max_loss > 0 && pnl <= -s_.max_loss);
      const bool trunc = !term && (v.step >= s_.episode_steps || !alive);
      terminated_[i] = term;
      truncated_[i] = trunc;
      if (term || trunc) {
        std::copy(o, o + od, final_obs_.data() + i * od);
        stats_[i] = v.acc.finish(pnl, q, term);
        ++v.episode;
        reset_env(i);
        write_first_obs(i);
      }
    }
  }

 private:
  std::unique_ptr<data::EventSource> open_replay() const {
    data::SourceOptions o;
    o.instrument = s_.instrument;
    o.tick_size = s_.tick_override;
    return data::open_source({s_.path}, o);
  }

  void index_replay(data::EventSource& src) {
    std::vector<Event> buf(8192);
    std::uint64_t k = 0;
    bool first = true;
    for (;;) {
      const std::size_t got = src.read(buf.data(), buf.size());
      if (got == 0) break;
      for (std::size_t j = 0; j < got; ++j, ++k) {
        const TimestampNs t = buf[j].local_ts_ns;
        if (first) {
          idx_.first = t;
          first = false;
        }
        idx_.last = std::max(idx_.last, t);
        if (k % ReplayIndex::kStride == 0) {
          idx_.event.push_back(k);
          idx_.local.push_back(std::max(t, idx_.local.empty() ? t : idx_.local.back()));
        }
      }
    }
    idx_.count = k;
    const double span_s = static_cast<double>(idx_.last - idx_.first) * 1e-9;
    const double need_s = s_.window_s + static_cast<double>(s_.warmup_ns) * 1e-9;
    if (k == 0 || span_s <= need_s) {
      throw Error("rl env 'replay': " + s_.path + " spans " + std::to_string(span_s) +
                  " s, less than window_s + warmup_s = " + std::to_string(need_s) + " s");
    }
  }

  double regime_level(const LobEnvSlot& v) const {
    if (s_.kind != "synthetic") return 0.0;
    if (s_.own_regimes) {
      const std::size_t n = std::max<std::size_t>(s_.market.regimes.size(), 2) - 1;
      return static_cast<double>(v.market->regime()) / static_cast<double>(n);
    }
    if (v.regime == Regime::kSwitching) return static_cast<double>(v.market->regime()) / 2.0;
    return static_cast<double>(static_cast<int>(v.regime)) / 2.0;
  }

  void reset_env(std::size_t i) {
    LobEnvSlot& v = envs_[i];
    const std::uint64_t seed = env_seed(i, v.episode);
    v.regime = regime_;
    v.seed = seed;
    v.warmup_events = 0;
    std::unique_ptr<data::EventSource> src;
    engine::EngineConfig ec = make_engine_config(s_, seed);
    if (s_.kind == "synthetic") {
      v.market_config = episode_market(s_, v.regime, seed);
      auto m = sim::make_synthetic_market(v.market_config);
      v.market = m.get();
      v.t0 = v.market_config.start_ns + s_.warmup_ns;
      src = std::move(m);
    } else {
      exchange::Rng rng(seed);
      const TimestampNs lo = idx_.first + s_.warmup_ns;
      const TimestampNs hi = idx_.last - static_cast<TimestampNs>(std::llround(s_.window_s * 1e9));
      const TimestampNs start = lo + static_cast<TimestampNs>(rng.uniform() * static_cast<double>(std::max<TimestampNs>(hi - lo, 0)));
      // The strategy starts warmup_s before the window, at a stride boundary.
      const TimestampNs strat_start = start - s_.warmup_ns;
      const auto it = std::upper_bound(idx_.local.begin(), idx_.local.end(), strat_start);
      const std::size_t k = it == idx_.local.begin() ? 0 : static_cast<std::size_t>(it - idx_.local.begin()) - 1;
      ec.warmup_events = idx_.event[k];
      v.warmup_events = ec.warmup_events;
      v.t0 = start;
      v.market = nullptr;
      src = open_replay();
    }
    auto base = strategy::make_strategy(base_name_, s_.strategy_params, spec_, profile_);
    auto agent = std::make_unique<QuoteAgent>(std::move(base), s_.mode);
    v.agent = agent.get();
    v.order_qty = v.agent->base().settings().order_qty;
    v.max_units = static_cast<double>(v.agent->base().settings().max_position) / static_cast<double>(v.order_qty);
    v.engine = std::make_unique<engine::Engine>(std::move(src), std::move(agent), std::move(ec));
    (void)v.engine->run_until(v.t0);
    v.step = 0;
    v.observer = LobObserver(s_.obs);
    v.observer.start(v.engine->context(), v.order_qty, v.agent->base().settings().max_position);
    v.pnl_prev = 0;
    v.mid_prev = v.observer.last_mid_raw();
    v.fills_prev = v.agent->fills();
    v.traded_prev = v.agent->traded_qty();
    v.acc = EpisodeAccumulator{};
  }

  void write_first_obs(std::size_t i) {
    LobEnvSlot& v = envs_[i];
    v.observer.observe(v.engine->context(), 0, regime_level(v), obs_.data() + i * obs_dim());
  }

  LobSettings s_;
  InstrumentSpec spec_;
  strategy::MarketProfile profile_;
  std::string base_name_;
  ReplayIndex idx_;
  std::vector<LobEnvSlot> envs_;
};

}  // namespace

std::vector<std::string> lob_env_config_keys(const std::string& kind) {
  const Config empty;
  ConfigReader r("rl env '" + kind + "'", empty);
  LobSettings s;
  double step_ms = 100;
  read_lob(r, kind, s, step_ms);
  std::vector<std::string> k = r.known();
  k.emplace_back("strategy.*");
  return k;
}

std::unique_ptr<VecEnv> make_lob_env(const std::string& kind, std::size_t num_envs, const Config& config,
                                     std::uint64_t seed) {
  return std::make_unique<LobEnv>(kind, num_envs, config, seed);
}

std::unique_ptr<VecEnv> make_lob_env(const std::string& kind, std::size_t num_envs, const Config& config,
                                     std::uint64_t seed, const sim::SyntheticMarketConfig& market) {
  return std::make_unique<LobEnv>(kind, num_envs, config, seed, &market);
}

LobEnvView lob_env_view(const VecEnv& env, std::size_t i) {
  const auto* e = dynamic_cast<const LobEnv*>(&env);
  if (!e) throw Error("rl env: lob_env_view needs a 'synthetic' or 'replay' env, got '" + env.kind() + "'");
  if (i >= env.num_envs()) throw Error("rl env: env index out of range");
  return LobEnvView{&e->slot(i), &e->settings(), &e->profile(), &e->base_name()};
}

}  // namespace mmkit::rl
