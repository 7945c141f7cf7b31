#include "mmkit/rl/model_market.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>

#include "mmkit/core/error.h"
#include "mmkit/exchange/models.h"
#include "mmkit/strategy/avellaneda_stoikov.h"
#include "mmkit/strategy/glft.h"

namespace mmkit::rl {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kTwoPow31 = 0x1.0p-31;
constexpr std::size_t kHist = 6;  // mids of steps n, n−1, …, n−5

void require(bool ok, const std::string& what) {
  if (!ok) throw Error("rl model market: " + what);
}

enum Obs : std::size_t {
  kMidNorm, kSpread, kVolatility, kInventory, kReturn1, kReturn5, kImbalance, kPnlRatio,
  kTimeRemaining, kBidQueue, kAskQueue, kRegimeSigma, kRegimeA, kRegimeK, kObsDim
};
}  // namespace

std::vector<std::string> model_obs_names() {
  return {"mid_norm",       "spread",        "volatility",        "inventory",
          "return_1",       "return_5",      "book_imbalance",    "pnl_ratio",
          "time_remaining", "bid_queue_position", "ask_queue_position", "regime_sigma",
          "regime_A",       "regime_k"};
}

ModelRegimeParams ModelMarketConfig::regime(Regime r) const {
  ModelRegimeParams p = medium;
  if (r == Regime::kLow) {
    p.sigma *= low_sigma_scale;
    p.A *= low_A_scale;
  } else if (r == Regime::kHigh) {
    p.sigma *= high_sigma_scale;
    p.A *= high_A_scale;
  } else if (r == Regime::kSwitching) {
    throw Error("rl model market: 'switching' is not a parameter set");
  }
  return p;
}


namespace {
void read_model(ConfigReader& r, ModelMarketConfig& c, ActionMode& mode, BaseQuote& base, Regime& regime) {
  mode = parse_action_mode(r.string("action_mode", "multiplier"));
  base = parse_base(r.string("base", "avellaneda-stoikov"));
  regime = parse_regime(r.string("regime", "medium"));
  c.episode_steps = r.integer("episode_steps", c.episode_steps);
  c.dt_s = r.number("dt_s", c.dt_s);
  c.max_inventory = r.number("max_inventory", c.max_inventory);
  c.s0 = r.number("s0", c.s0);
  c.gamma = r.number("gamma", c.gamma);
  c.tick = r.number("tick", c.tick);
  c.medium.sigma = r.number("sigma", c.medium.sigma);
  c.medium.A = r.number("A", c.medium.A);
  c.medium.k = r.number("k", c.medium.k);
  c.low_sigma_scale = r.number("low_sigma_scale", c.low_sigma_scale);
  c.high_sigma_scale = r.number("high_sigma_scale", c.high_sigma_scale);
  c.low_A_scale = r.number("low_A_scale", c.low_A_scale);
  c.high_A_scale = r.number("high_A_scale", c.high_A_scale);
  c.switch_prob = r.number("switch_prob", c.switch_prob);
  c.terminate_on_breach = r.boolean("terminate_on_breach", c.terminate_on_breach);
  c.max_loss = r.number("max_loss", c.max_loss);
  c.direct_max_offset_ticks = r.number("direct_max_offset_ticks", c.direct_max_offset_ticks);
  c.max_size_mult = r.number("max_size_mult", c.max_size_mult);
  c.obs_mid_scale = r.number("obs.mid_scale", c.obs_mid_scale);
  c.obs_spread_scale = r.number("obs.spread_scale", c.obs_spread_scale);
  c.obs_return_scale = r.number("obs.return_scale", c.obs_return_scale);
  c.obs_pnl_norm = r.number("obs.pnl_norm", c.obs_pnl_norm);
  read_reward_config(r, c.reward);
}
}  // namespace

ModelMarketConfig model_market_config(const Config& config, ActionMode& mode, BaseQuote& base,
                                      Regime& regime) {
  ConfigReader r("rl env 'model'", config);
  ModelMarketConfig c;
  read_model(r, c, mode, base, regime);
  r.finish();
  require(c.episode_steps >= 1, "episode_steps must be >= 1");
  require(c.dt_s > 0 && std::isfinite(c.dt_s), "dt_s must be > 0");
  require(c.max_inventory > 0, "max_inventory must be > 0");
  require(std::isfinite(c.s0) && c.s0 > 0, "s0 must be > 0");
  require(c.gamma > 0 && std::isfinite(c.gamma), "gamma must be > 0");
  require(c.tick > 0 && std::isfinite(c.tick), "tick must be > 0");
  require(c.medium.sigma > 0 && c.medium.A > 0 && c.medium.k > 0, "sigma, A and k must be > 0");
  require(c.low_sigma_scale > 0 && c.high_sigma_scale > 0 && c.low_A_scale > 0 && c.high_A_scale > 0,
          "regime scales must be > 0");
  require(c.switch_prob >= 0 && c.switch_prob <= 1, "switch_prob must be in [0, 1]");
  require(c.max_loss >= 0, "max_loss must be >= 0");
  require(c.direct_max_offset_ticks > 0 && c.max_size_mult > 0, "action bounds must be > 0");
  require(c.obs_mid_scale > 0 && c.obs_spread_scale > 0 && c.obs_return_scale > 0 && c.obs_pnl_norm >= 0,
          "observation scales must be > 0");
  if (c.obs_pnl_norm == 0) {
    c.obs_pnl_norm = c.medium.sigma * std::sqrt(static_cast<double>(c.episode_steps) * c.dt_s) * c.max_inventory;
  }
  return c;
}

std::vector<std::string> model_market_config_keys() {
  const Config empty;
  ConfigReader r("rl env 'model'", empty);
  ModelMarketConfig c;
  ActionMode m;
  BaseQuote b;
  Regime g;
  read_model(r, c, m, b, g);
  return r.known();
}


namespace {

// One state's step problem of model_optimal_policy (header): everything but the two offsets.
struct StepProblem {
  double q = 0, u = 1, d = 0, mu = 0, k = 1, dt = 0;
  RewardConfig rw;
  bool bid_ok = true, ask_ok = true;
  double next[3] = {};  // E[h(t+1, q', ·)] for q' = q − u, q, q + u
};

struct Deriv {
  double f = 0, g = 0, gg = 0;  // objective and its first two derivatives in the side's offset
};

// Fill probability p(x) = 1 − exp(−μ e^{−kx}) and its derivatives in x.
inline void fill_prob(double mu, double k, double x, double& p, double& dp, double& ddp) {
  const double e = mu * std::exp(-k * x);
  const double g = std::exp(-e);
  p = -std::expm1(-e);
  dp = -k * e * g;
  ddp = k * k * e * g * (1.0 - e);
}

// E[r_step + next] for offsets (db, da) and its derivatives in the offset of `side` (0 bid, 1 ask).
Deriv step_objective(const StepProblem& P, double db, double da, int side) {
  Deriv out;
  const RewardConfig& c = P.rw;
  for (const double ds : {P.d, -P.d}) {
    double pb = 0, dpb = 0, ddpb = 0, pa = 0, dpa = 0, ddpa = 0;
    if (P.bid_ok) fill_prob(P.mu, P.k, db + ds, pb, dpb, ddpb);
    if (P.ask_ok) fill_prob(P.mu, P.k, da - ds, pa, dpa, ddpa);
    for (int b = 0; b < 2; ++b) {
      for (int a = 0; a < 2; ++a) {
        const double Pb = b ? pb : 1.0 - pb, Pa = a ? pa : 1.0 - pa;
        const double qn = P.q + P.u * (b - a);
        const double traded = P.u * (b + a);
        const double lin = c.pnl_scale * (P.q * ds + b * P.u * (db + ds) + a * P.u * (da - ds)) -
                           c.inventory_penalty * qn * qn * P.dt - c.vol_penalty * qn * qn * ds * ds -
                           c.impact_penalty * traded * traded;
        double U = lin, U1 = 1, U2 = 0;
        if (c.exponential) {
          const double e = std::exp(-c.risk_aversion * lin);
          U = -std::expm1(-c.risk_aversion * lin) / c.risk_aversion;
          U1 = e;
          U2 = -c.risk_aversion * e;
        }
        const double w = U + P.next[b - a + 1];
        out.f += 0.5 * Pb * Pa * w;
        if (side == 0) {
          const double s1 = c.pnl_scale * P.u * b;
          const double dP = b ? dpb : -dpb, ddP = b ? ddpb : -ddpb;
          out.g += 0.5 * Pa * (dP * w + Pb * U1 * s1);
          out.gg += 0.5 * Pa * (ddP * w + 2.0 * dP * U1 * s1 + Pb * U2 * s1 * s1);
        } else {
          const double s1 = c.pnl_scale * P.u * a;
          const double dP = a ? dpa : -dpa, ddP = a ? ddpa : -ddpa;
          out.g += 0.5 * Pb * (dP * w + Pa * U1 * s1);
          out.gg += 0.5 * Pb * (ddP * w + 2.0 * dP * U1 * s1 + Pa * U2 * s1 * s1);
        }
      }
    }
  }
  return out;
}

// Maximizes over the offset of `side` with the other fixed: a bracket [lo, hi] with g(lo) > 0 >
// g(hi) (grown geometrically from x0), then safeguarded Newton on g (bisection when the Newton
// step leaves the bracket or the curvature is not negative).
double maximize_side(const StepProblem& P, double db, double da, int side, double x0) {
  auto g_at = [&](double x) {
    return side == 0 ? step_objective(P, x, da, 0) : step_objective(P, db, x, 1);
  };
  double step = 0.25 / P.k;
  double lo = x0, hi = x0;
  const double g0 = g_at(x0).g;
  if (g0 == 0) return x0;
  if (g0 > 0) {
    for (int i = 0; i < 200; ++i) {
      hi = lo + step;
      if (g_at(hi).g <= 0) break;
      lo = hi;
      step *= 2;
    }
  } else {
    for (int i = 0; i < 200; ++i) {
      lo = hi - step;
      if (g_at(lo).g >= 0) break;
      hi = lo;
      step *= 2;
    }
  }
  double x = 0.5 * (lo + hi);
  for (int it = 0; it < 200; ++it) {
    const Deriv D = g_at(x);
    if (D.g == 0) return x;
    if (D.g > 0) lo = x; else hi = x;
    double xn = (D.gg < 0) ? x - D.g / D.gg : 0.5 * (lo + hi);
    if (!(xn > lo && xn < hi)) xn = 0.5 * (lo + hi);
    const double dx = std::fabs(xn - x);
    x = xn;
    if (dx <= 1e-15 * (1.0 + std::fabs(x)) || hi - lo <= 1e-15 * (1.0 + std::fabs(x))) return x;
  }
  return x;
}

}  // namespace

ModelOptimalPolicy model_optimal_policy(const ModelMarketConfig& c, Regime regime) {
  ModelOptimalPolicy pol;
  pol.steps = c.episode_steps;
  pol.order_size = std::min(1.0, c.max_size_mult);
  const double u = pol.order_size, maxq = c.max_inventory + 1e-9;
  pol.max_level = static_cast<std::int64_t>(std::floor(maxq / u));
  const bool sw = regime == Regime::kSwitching;
  pol.regimes = sw ? 3 : 1;
  const std::int64_t J = pol.max_level, L = 2 * J + 1;
  const std::size_t R = pol.regimes;
  ModelRegimeParams par[3];
  for (std::size_t r = 0; r < R; ++r) par[r] = c.regime(sw ? static_cast<Regime>(r) : regime);
  const double inf = std::numeric_limits<double>::infinity();
  pol.value.assign(static_cast<std::size_t>((pol.steps + 1) * L) * R, 0.0);
  pol.delta_bid.assign(static_cast<std::size_t>(pol.steps * L) * R, inf);
  pol.delta_ask.assign(static_cast<std::size_t>(pol.steps * L) * R, inf);
  // P(r -> r'): stay 1 − p, each other regime p / 2 (the env's switch after the step).
  auto trans = [&](std::size_t r, std::size_t r2) {
    if (!sw) return 1.0;
    return r == r2 ? 1.0 - c.switch_prob : 0.5 * c.switch_prob;
  };
  auto terminal = [&](std::int64_t j) {
    return c.terminate_on_breach && std::fabs(static_cast<double>(j) * u) >= c.max_inventory;
  };
  for (std::int64_t t = pol.steps - 1; t >= 0; --t) {
    for (std::int64_t j = -J; j <= J; ++j) {
      for (std::size_t r = 0; r < R; ++r) {
        const ModelRegimeParams& p = par[r];
        StepProblem P;
        P.q = static_cast<double>(j) * u;
        P.u = u;
        P.d = p.sigma * std::sqrt(c.dt_s);
        P.mu = p.A * c.dt_s;
        P.k = p.k;
        P.dt = c.dt_s;
        P.rw = c.reward;
        P.bid_ok = P.q + u <= maxq;
        P.ask_ok = P.q - u >= -maxq;
        for (int m = -1; m <= 1; ++m) {
          const std::int64_t jn = j + m;
          double v = 0;
          if (jn >= -J && jn <= J && !terminal(jn)) {
            for (std::size_t r2 = 0; r2 < R; ++r2) v += trans(r, r2) * pol.value[pol.index(t + 1, jn, r2)];
          }
          P.next[m + 1] = v;
        }
        const std::size_t idx = pol.index(t, j, r);
        double db = 1.0 / p.k, da = 1.0 / p.k;
        if (t + 1 < pol.steps) {
          const std::size_t nx = pol.index(t + 1, j, r);
          if (std::isfinite(pol.delta_bid[nx])) db = pol.delta_bid[nx];
          if (std::isfinite(pol.delta_ask[nx])) da = pol.delta_ask[nx];
        }
        for (int it = 0; it < 100; ++it) {
          const double db0 = db, da0 = da;
          if (P.bid_ok) db = maximize_side(P, db, da, 0, db);
          if (P.ask_ok) da = maximize_side(P, db, da, 1, da);
          if (std::fabs(db - db0) <= 1e-13 * (1.0 + std::fabs(db)) &&
              std::fabs(da - da0) <= 1e-13 * (1.0 + std::fabs(da))) {
            break;
          }
        }
        pol.value[idx] = step_objective(P, db, da, 0).f;
        pol.delta_bid[idx] = P.bid_ok ? db : inf;
        pol.delta_ask[idx] = P.ask_ok ? da : inf;
      }
    }
  }
  return pol;
}

namespace {

class ModelMarket final : public VecEnv {
 public:
  ModelMarket(std::size_t n, const Config& config, std::uint64_t seed) : VecEnv("model", n, config, seed) {
    c_ = model_market_config(config, mode_, base_, regime_);
    for (Regime r : {Regime::kLow, Regime::kMedium, Regime::kHigh}) {
      const ModelRegimeParams p = c_.regime(r);
      const auto ri = static_cast<std::size_t>(r);
      params_[ri] = p;
      glft_[ri] = strategy::glft_coefficients(c_.gamma, 1.0, p.A, p.k);
    }
    obs_names_ = model_obs_names();
    obs_config_ = {{"mid_scale", c_.obs_mid_scale},   {"spread_scale", c_.obs_spread_scale},
                   {"return_scale", c_.obs_return_scale}, {"pnl_norm", c_.obs_pnl_norm},
                   {"max_inventory", c_.max_inventory}, {"episode_steps", static_cast<double>(c_.episode_steps)},
                   {"dt_s", c_.dt_s},                  {"tick", c_.tick}};
    if (mode_ == ActionMode::kMultiplier) {
      action_names_ = {"spread_mult", "size_mult", "skew"};
      low_ = {0.1f, 0.0f, -2.0f};
      high_ = {5.0f, static_cast<float>(c_.max_size_mult), 2.0f};
    } else {
      action_names_ = {"bid_offset_ticks", "ask_offset_ticks", "bid_size", "ask_size"};
      const auto m = static_cast<float>(c_.direct_max_offset_ticks);
      low_ = {-m, -m, 0.0f, 0.0f};
      high_ = {m, m, static_cast<float>(c_.max_size_mult), static_cast<float>(c_.max_size_mult)};
    }
    const std::size_t od = obs_names_.size(), ad = action_names_.size();
    obs_.assign(n * od, 0.0f);
    final_obs_.assign(n * od, 0.0f);
    reward_.assign(n, 0.0);
    terminated_.assign(n, 0);
    truncated_.assign(n, 0);
    stats_.assign(n, EpisodeStats{});
    clipped_.assign(n * ad, 0.0f);
    s_.assign(n, 0);
    q_.assign(n, 0);
    cash_.assign(n, 0);
    pnl_.assign(n, 0);
    step_.assign(n, 0);
    reg_.assign(n, 1);
    base_bid_.assign(n, 0);
    base_ask_.assign(n, 0);
    bid_.assign(n, kNaN);
    ask_.assign(n, kNaN);
    hist_.assign(n * kHist, 0);
    episode_.assign(n, 0);
    acc_.assign(n, EpisodeAccumulator{});
    rng_.assign(n, exchange::Rng(1));
    regime_of_episode_.assign(n, Regime::kMedium);
    sqrt_dt_ = std::sqrt(c_.dt_s);
    T_ = static_cast<double>(c_.episode_steps) * c_.dt_s;
    inv_s0_ = 1.0 / c_.s0;
    inv_spread_ = 1.0 / (c_.tick * c_.obs_spread_scale);
    inv_max_inventory_ = 1.0 / c_.max_inventory;
    inv_pnl_norm_ = 1.0 / c_.obs_pnl_norm;
    inv_steps_ = 1.0 / static_cast<double>(c_.episode_steps);
    for (std::size_t r = 0; r < 3; ++r) {
      ratio_[r][0] = static_cast<float>(params_[r].sigma / params_[1].sigma);
      ratio_[r][1] = static_cast<float>(params_[r].A / params_[1].A);
      ratio_[r][2] = static_cast<float>(params_[r].k / params_[1].k);
    }
    reset();
  }

  // The DP optimum (model_optimal_policy) mapped into the action space: multiplier mode inverts
  // apply_multiplier (spread_mult = target spread / base spread, skew = center shift / base half
  // spread), direct mode gives the offsets in ticks; size u; then clipped to the bounds. A side
  // not quoted at the inventory limit keeps the base quote's offset (the env does not quote it).
  void optimal_action(float* out) const override {
    const std::size_t ad = action_dim();
    std::uint64_t clipped = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      float* a = out + i * ad;
      const bool sw = regime_of_episode_[i] == Regime::kSwitching;
      const ModelOptimalPolicy& pol = policy(sw ? 3 : reg_[i]);
      const auto j = static_cast<std::int64_t>(std::llround(q_[i] / pol.order_size));
      const std::int64_t jc = std::clamp(j, -pol.max_level, pol.max_level);
      const std::size_t idx = pol.index(std::min(step_[i], pol.steps - 1), jc, sw ? reg_[i] : 0);
      const double s = s_[i];
      double db = pol.delta_bid[idx], da = pol.delta_ask[idx];
      if (!std::isfinite(db)) db = s - base_bid_[i];
      if (!std::isfinite(da)) da = base_ask_[i] - s;
      const auto u = static_cast<float>(pol.order_size);
      float raw[4];
      if (mode_ == ActionMode::kMultiplier) {
        const double h = 0.5 * (base_ask_[i] - base_bid_[i]);
        raw[0] = static_cast<float>((da + db) / (2.0 * h));
        raw[1] = u;
        raw[2] = static_cast<float>((0.5 * (da - db) + s - 0.5 * (base_ask_[i] + base_bid_[i])) / h);
      } else {
        raw[0] = static_cast<float>(db / c_.tick);
        raw[1] = static_cast<float>(da / c_.tick);
        raw[2] = u;
        raw[3] = u;
      }
      bool clip = false;
      for (std::size_t k = 0; k < ad; ++k) {
        a[k] = std::clamp(raw[k], low_[k], high_[k]);
        clip = clip || a[k] != raw[k];
      }
      clipped += clip ? 1 : 0;
    }
    clip_actions_.fetch_add(n_, std::memory_order_relaxed);
    clip_clipped_.fetch_add(clipped, std::memory_order_relaxed);
  }

  ModelOptimalClipStats clip_stats() const {
    return {clip_actions_.load(std::memory_order_relaxed), clip_clipped_.load(std::memory_order_relaxed)};
  }

  ModelEnvState state(std::size_t i) const {
    ModelEnvState st;
    st.s = s_[i];
    st.q = q_[i];
    st.cash = cash_[i];
    st.step = step_[i];
    const ModelRegimeParams& p = params_[reg_[i]];
    st.sigma = p.sigma;
    st.A = p.A;
    st.k = p.k;
    st.bid = bid_[i];
    st.ask = ask_[i];
    st.base_bid = base_bid_[i];
    st.base_ask = base_ask_[i];
    return st;
  }

 protected:
  std::size_t chunk_envs() const noexcept override { return 64; }

  void reset_block(std::size_t b, std::size_t e) override {
    const std::size_t od = obs_dim();
    for (std::size_t i = b; i < e; ++i) {
      episode_[i] = 0;
      reset_env(i);
      write_obs(i, obs_.data() + i * od);
    }
  }

  void step_block(const float* actions, std::size_t b, std::size_t e) override {
    const std::size_t od = obs_dim(), ad = action_dim();
    const double dt = c_.dt_s, maxq = c_.max_inventory + 1e-9;
    for (std::size_t i = b; i < e; ++i) {
      const float* a = actions + i * ad;
      double bid, ask, bsz, asz;
      if (mode_ == ActionMode::kMultiplier) {
        const QuotePair qp = apply_multiplier(base_bid_[i], base_ask_[i], a[0], a[2]);
        bid = qp.bid;
        ask = qp.ask;
        bsz = asz = a[1];
      } else {
        bid = s_[i] - static_cast<double>(a[0]) * c_.tick;
        ask = s_[i] + static_cast<double>(a[1]) * c_.tick;
        bsz = a[2];
        asz = a[3];
      }
      double q = q_[i];
      if (q + bsz > maxq || !(bsz > 0)) bsz = 0;
      if (q - asz < -maxq || !(asz > 0)) asz = 0;
      const ModelRegimeParams& p = params_[reg_[i]];
      exchange::Rng& rng = rng_[i];
      const std::uint64_t x = rng.next();
      const double s_old = s_[i];
      const double ds = p.sigma * sqrt_dt_;
      const double s = (x >> 63) != 0 ? s_old + ds : s_old - ds;
      const double u_b = static_cast<double>((x >> 32) & 0x7fffffffu) * kTwoPow31;
      const double u_a = static_cast<double>(x & 0x7fffffffu) * kTwoPow31;
      double cash = cash_[i];
      std::uint64_t fills = 0;
      double traded = 0;
      bid_[i] = bsz > 0 ? bid : kNaN;
      ask_[i] = asz > 0 ? ask : kNaN;
      // u < 1 − e^{−λdt} ⇔ e^{−λdt} < 1 − u (1 − u exact for a 31-bit u; exp is ~3x cheaper
      // than expm1 and its absolute error, ~1e-16, is far below the uniform's 2^-31 grid).
      if (bsz > 0 && std::exp(-p.A * std::exp(-p.k * (s - bid)) * dt) < 1.0 - u_b) {
        q += bsz;
        cash -= bid * bsz;
        ++fills;
        traded += bsz;
      }
      if (asz > 0 && std::exp(-p.A * std::exp(-p.k * (ask - s)) * dt) < 1.0 - u_a) {
        q -= asz;
        cash += ask * asz;
        ++fills;
        traded += asz;
      }
      s_[i] = s;
      q_[i] = q;
      cash_[i] = cash;
      const double pnl = cash + q * s;
      const double r = shaped_reward(c_.reward, pnl - pnl_[i], q, dt, s - s_old, traded);
      pnl_[i] = pnl;
      reward_[i] = r;
      const std::int64_t n = ++step_[i];
      hist_[i * kHist + static_cast<std::size_t>(n) % kHist] = s;
      if (regime_of_episode_[i] == Regime::kSwitching && c_.switch_prob > 0) {
        const double u = rng.uniform();
        if (u < c_.switch_prob) {
          const auto jump = static_cast<std::uint8_t>(1 + (u < 0.5 * c_.switch_prob ? 0 : 1));
          reg_[i] = static_cast<std::uint8_t>((reg_[i] + jump) % 3);
        }
      }
      acc_[i].add(r, q, fills, traded);
      const bool term = (c_.terminate_on_breach && std::fabs(q) >= c_.max_inventory) ||
                        (c_.max_loss > 0 && pnl <= -c_.max_loss);
      const bool trunc = !term && n >= c_.episode_steps;
      terminated_[i] = term;
      truncated_[i] = trunc;
      float* o = obs_.data() + i * od;
      update_base(i);
      write_obs(i, o);
      if (term || trunc) {
        std::copy(o, o + od, final_obs_.data() + i * od);
        stats_[i] = acc_[i].finish(pnl, q, term);
        ++episode_[i];
        reset_env(i);
        write_obs(i, o);
      }
    }
  }

 private:
  void reset_env(std::size_t i) {
    rng_[i] = exchange::Rng(env_seed(i, episode_[i]));
    const Regime r = regime_;
    regime_of_episode_[i] = r;
    reg_[i] = r == Regime::kSwitching ? static_cast<std::uint8_t>(rng_[i].below(3)) : static_cast<std::uint8_t>(r);
    s_[i] = c_.s0;
    q_[i] = 0;
    cash_[i] = 0;
    pnl_[i] = 0;
    step_[i] = 0;
    bid_[i] = ask_[i] = kNaN;
    for (std::size_t h = 0; h < kHist; ++h) hist_[i * kHist + h] = c_.s0;
    acc_[i] = EpisodeAccumulator{};
    update_base(i);
  }

  void update_base(std::size_t i) {
    const ModelRegimeParams& p = params_[reg_[i]];
    const double s = s_[i], q = q_[i];
    if (base_ == BaseQuote::kAvellanedaStoikov) {
      const double tau = T_ - static_cast<double>(step_[i]) * c_.dt_s;
      const strategy::AsQuote aq = strategy::avellaneda_stoikov_quote(s, q, c_.gamma, p.sigma, tau, p.k);
      base_bid_[i] = aq.bid;
      base_ask_[i] = aq.ask;
    } else {
      const strategy::GlftQuote g = strategy::glft_quote(glft_[reg_[i]], p.sigma, q, 1.0);
      base_bid_[i] = s - g.bid_depth;
      base_ask_[i] = s + g.ask_depth;
    }
  }

  void write_obs(std::size_t i, float* o) const {
    const std::uint8_t r = reg_[i];
    const double s = s_[i];
    const std::int64_t n = step_[i];
    const double* h = hist_.data() + i * kHist;
    const double s1 = h[static_cast<std::size_t>(n + kHist - 1) % kHist];
    const double s5 = h[static_cast<std::size_t>(n + kHist - 5) % kHist];
    o[kMidNorm] = static_cast<float>((s * inv_s0_ - 1.0) * c_.obs_mid_scale);
    o[kSpread] = static_cast<float>((base_ask_[i] - base_bid_[i]) * inv_spread_);
    o[kVolatility] = ratio_[r][0];
    o[kInventory] = static_cast<float>(q_[i] * inv_max_inventory_);
    o[kReturn1] = static_cast<float>((s / s1 - 1.0) * c_.obs_return_scale);
    o[kReturn5] = static_cast<float>((s / s5 - 1.0) * c_.obs_return_scale);
    o[kImbalance] = 0.0f;
    o[kPnlRatio] = static_cast<float>(pnl_[i] * inv_pnl_norm_);
    o[kTimeRemaining] = static_cast<float>(1.0 - static_cast<double>(n) * inv_steps_);
    o[kBidQueue] = 0.0f;
    o[kAskQueue] = 0.0f;
    o[kRegimeSigma] = ratio_[r][0];
    o[kRegimeA] = ratio_[r][1];
    o[kRegimeK] = ratio_[r][2];
  }

  // DP table of regime r (0..2 fixed, 3 switching), built on first use.
  const ModelOptimalPolicy& policy(std::size_t r) const {
    std::call_once(policy_once_[r], [&] {
      policy_[r] = model_optimal_policy(c_, r == 3 ? Regime::kSwitching : static_cast<Regime>(r));
    });
    return policy_[r];
  }

  mutable std::once_flag policy_once_[4];
  mutable ModelOptimalPolicy policy_[4];
  mutable std::atomic<std::uint64_t> clip_actions_{0}, clip_clipped_{0};
  ModelMarketConfig c_;
  ModelRegimeParams params_[3];
  strategy::GlftCoefficients glft_[3];
  double sqrt_dt_ = 0, T_ = 0;
  // Reciprocals of the observation scales (no division per step).
  double inv_s0_ = 0, inv_spread_ = 0, inv_max_inventory_ = 0, inv_pnl_norm_ = 0, inv_steps_ = 0;
  float ratio_[3][3] = {};  // per regime: σ, A, k over the medium regime's
  std::vector<double> s_, q_, cash_, pnl_, base_bid_, base_ask_, bid_, ask_, hist_;
  std::vector<std::int64_t> step_;
  std::vector<std::uint8_t> reg_;
  std::vector<Regime> regime_of_episode_;
  std::vector<std::uint64_t> episode_;
  std::vector<EpisodeAccumulator> acc_;
  std::vector<exchange::Rng> rng_;
};

}  // namespace

std::unique_ptr<VecEnv> make_model_market(std::size_t num_envs, const Config& config, std::uint64_t seed) {
  return std::make_unique<ModelMarket>(num_envs, config, seed);
}

ModelEnvState model_env_state(const VecEnv& env, std::size_t i) {
  const auto* m = dynamic_cast<const ModelMarket*>(&env);
  if (!m) throw Error("rl env: model_env_state needs a 'model' env, got '" + env.kind() + "'");
  if (i >= env.num_envs()) throw Error("rl env: env index out of range");
  return m->state(i);
}

ModelOptimalClipStats model_optimal_clip_stats(const VecEnv& env) {
  const auto* m = dynamic_cast<const ModelMarket*>(&env);
  if (!m) throw Error("rl env: model_optimal_clip_stats needs a 'model' env, got '" + env.kind() + "'");
  return m->clip_stats();
}

}  // namespace mmkit::rl
