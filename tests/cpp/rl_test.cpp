// Batched RL environments (model, synthetic, replay), the env agent and the rl-policy strategy.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mmkit/core/error.h"
#include "mmkit/data/source.h"
#include "mmkit/engine/engine.h"
#include "mmkit/rl/lob_internal.h"
#include "mmkit/rl/model_market.h"
#include "mmkit/rl/policy.h"
#include "mmkit/rl/vec_env.h"
#include "mmkit/sim/synthetic_market.h"
#include "mmkit/strategy/avellaneda_stoikov.h"
#include "mmkit/strategy/glft.h"

namespace {

using mmkit::rl::Config;
using mmkit::rl::VecEnv;

std::vector<float> classic_actions(const VecEnv& env) {
  std::vector<float> a(env.num_envs() * env.action_dim(), 0.0f);
  for (std::size_t i = 0; i < env.num_envs(); ++i) {
    a[i * env.action_dim()] = 1.0f;
    a[i * env.action_dim() + 1] = 1.0f;
  }
  return a;
}

std::string data_dir() {
  const char* d = std::getenv("MMKIT_DATA_DIR");
  return d ? d : std::string(MMKIT_SOURCE_DIR) + "/../shared/data";
}

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

// ---------------------------------------------------------------------------------------------
// Model market

TEST(ModelMarket, ClassicActionQuotesTheAvellanedaStoikovFormulas) {
  Config c;
  c["episode_steps"] = std::int64_t{200};
  auto env = mmkit::rl::make_vec_env("model", 4, c, 7);
  ASSERT_EQ(env->obs_dim(), 14u);
  ASSERT_EQ(env->action_dim(), 3u);
  const auto a = classic_actions(*env);
  for (int n = 0; n < 150; ++n) {
    std::vector<mmkit::rl::ModelEnvState> before;
    for (std::size_t i = 0; i < 4; ++i) before.push_back(mmkit::rl::model_env_state(*env, i));
    env->step(a.data());
    for (std::size_t i = 0; i < 4; ++i) {
      const auto& b = before[i];
      const double tau = 1.0 - static_cast<double>(b.step) * 0.005;
      const auto q = mmkit::strategy::avellaneda_stoikov_quote(b.s, b.q, 0.1, 2.0, tau, 1.5);
      EXPECT_EQ(b.base_bid, q.bid);
      EXPECT_EQ(b.base_ask, q.ask);
      const auto after = mmkit::rl::model_env_state(*env, i);
      EXPECT_EQ(after.bid, q.bid);  // the quote the step used: the formula, bit for bit
      EXPECT_EQ(after.ask, q.ask);
    }
  }
}

TEST(ModelMarket, GlftBaseQuotesTheGlftClosedForm) {
  Config c;
  c["base"] = std::string("glft");
  auto env = mmkit::rl::make_vec_env("model", 2, c, 3);
  const auto a = classic_actions(*env);
  const auto coef = mmkit::strategy::glft_coefficients(0.1, 1.0, 140.0, 1.5);
  for (int n = 0; n < 50; ++n) {
    const auto b = mmkit::rl::model_env_state(*env, 1);
    env->step(a.data());
    const auto g = mmkit::strategy::glft_quote(coef, 2.0, b.q, 1.0);
    const auto after = mmkit::rl::model_env_state(*env, 1);
    EXPECT_EQ(after.bid, b.s - g.bid_depth);
    EXPECT_EQ(after.ask, b.s + g.ask_depth);
  }
}

TEST(ModelMarket, MultiplierActionScalesTheSpreadAndShiftsTheCenter) {
  auto env = mmkit::rl::make_vec_env("model", 1, {}, 11);
  const auto b = mmkit::rl::model_env_state(*env, 0);
  const float a[3] = {2.0f, 1.0f, 0.5f};
  env->step(a);
  const auto after = mmkit::rl::model_env_state(*env, 0);
  const double h = 0.5 * (b.base_ask - b.base_bid);
  EXPECT_NEAR(after.ask - after.bid, 2 * 2.0 * h, 1e-12);
  EXPECT_NEAR(0.5 * (after.ask + after.bid), 0.5 * (b.base_ask + b.base_bid) + 0.5 * h, 1e-12);
}

TEST(ModelMarket, FillFrequencyMatchesOneMinusExpOfIntensity) {
  // Direct mode, bid 100 ticks (1.00) below the mid: δ^b = 1 ± σ√dt after the move.
  Config c;
  c["action_mode"] = std::string("direct");
  c["max_inventory"] = 1e9;
  const std::size_t n = 4096;
  auto env = mmkit::rl::make_vec_env("model", n, c, 5);
  std::vector<float> a(n * 4);
  for (std::size_t i = 0; i < n; ++i) {
    a[i * 4 + 0] = 100.0f;
    a[i * 4 + 1] = 500.0f;
    a[i * 4 + 2] = 1.0f;
    a[i * 4 + 3] = 0.0f;
  }
  const double ds = 2.0 * std::sqrt(0.005);
  auto p = [](double d) { return -std::expm1(-140.0 * std::exp(-1.5 * d) * 0.005); };
  const double expected = 0.5 * (p(1.0 + ds) + p(1.0 - ds));
  std::uint64_t fills = 0, trials = 0;
  for (int step = 0; step < 50; ++step) {
    std::vector<double> q0(n);
    for (std::size_t i = 0; i < n; ++i) q0[i] = mmkit::rl::model_env_state(*env, i).q;
    env->step(a.data());
    for (std::size_t i = 0; i < n; ++i) {
      if (env->truncated()[i]) continue;
      fills += mmkit::rl::model_env_state(*env, i).q > q0[i] ? 1 : 0;
      ++trials;
    }
  }
  const double freq = static_cast<double>(fills) / static_cast<double>(trials);
  const double se = std::sqrt(expected * (1 - expected) / static_cast<double>(trials));
  EXPECT_NEAR(freq, expected, 5 * se) << "expected " << expected;
}

TEST(ModelMarket, SameSeedSameTrajectoryWhateverTheThreadCount) {
  Config c;
  c["regime"] = std::string("switching");
  c["switch_prob"] = 0.05;
  const std::size_t n = 1024;
  auto e1 = mmkit::rl::make_vec_env("model", n, c, 99);
  auto e2 = mmkit::rl::make_vec_env("model", n, c, 99);
  e1->set_threads(1);
  e2->set_threads(2);
  std::vector<float> a(n * 3);
  for (int step = 0; step < 450; ++step) {
    for (std::size_t i = 0; i < n; ++i) {
      a[i * 3] = 0.5f + 0.001f * static_cast<float>((i + step) % 1000);
      a[i * 3 + 1] = 1.0f;
      a[i * 3 + 2] = 0.1f * static_cast<float>(static_cast<int>(i % 5) - 2);
    }
    e1->step(a.data());
    e2->step(a.data());
    ASSERT_EQ(0, std::memcmp(e1->obs(), e2->obs(), n * e1->obs_dim() * sizeof(float))) << "step " << step;
    ASSERT_EQ(0, std::memcmp(e1->reward(), e2->reward(), n * sizeof(double)));
    ASSERT_EQ(0, std::memcmp(e1->final_obs(), e2->final_obs(), n * e1->obs_dim() * sizeof(float)));
  }
  auto e3 = mmkit::rl::make_vec_env("model", n, c, 100);
  e3->step(a.data());
  EXPECT_NE(0, std::memcmp(e1->obs(), e3->obs(), n * e1->obs_dim() * sizeof(float)));
}

TEST(ModelMarket, TruncatesAtEpisodeStepsAndAutoResetsWithFinalObs) {
  Config c;
  c["episode_steps"] = std::int64_t{10};
  auto env = mmkit::rl::make_vec_env("model", 3, c, 1);
  const auto a = classic_actions(*env);
  const std::size_t tr = 8;  // time_remaining
  ASSERT_EQ(env->obs_names()[tr], "time_remaining");
  for (int s = 1; s <= 10; ++s) {
    env->step(a.data());
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(env->truncated()[i], s == 10 ? 1 : 0);
      EXPECT_EQ(env->terminated()[i], 0);
      if (s < 10) {
        EXPECT_NEAR(env->obs()[i * 14 + tr], 1.0 - 0.1 * s, 1e-6);
      }
    }
  }
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_FLOAT_EQ(env->final_obs()[i * 14 + tr], 0.0f);
    EXPECT_FLOAT_EQ(env->obs()[i * 14 + tr], 1.0f);
    EXPECT_EQ(env->episode_stats()[i].steps, 10u);
    EXPECT_EQ(mmkit::rl::model_env_state(*env, i).step, 0);
  }
}

TEST(ModelMarket, InventoryBreachTerminatesWhenConfigured) {
  Config c;
  c["action_mode"] = std::string("direct");
  c["max_inventory"] = 3.0;
  c["terminate_on_breach"] = true;
  auto env = mmkit::rl::make_vec_env("model", 1, c, 2);
  const float a[4] = {-100.0f, 500.0f, 1.0f, 0.0f};  // a bid above the mid: hit every step
  int steps = 0;
  do {
    env->step(a);
    ++steps;
  } while (!env->terminated()[0] && steps < 100);
  EXPECT_EQ(env->terminated()[0], 1);
  EXPECT_EQ(env->truncated()[0], 0);
  EXPECT_EQ(steps, 3);
  EXPECT_DOUBLE_EQ(env->episode_stats()[0].final_inventory, 3.0);
  EXPECT_TRUE(env->episode_stats()[0].terminated);
}

TEST(ModelMarket, RegimesSetTheParametersAtTheNextReset) {
  Config c;
  c["episode_steps"] = std::int64_t{5};
  auto env = mmkit::rl::make_vec_env("model", 2, c, 4);
  EXPECT_EQ(mmkit::rl::model_env_state(*env, 0).sigma, 2.0);
  env->set_regime(mmkit::rl::Regime::kHigh);
  const auto a = classic_actions(*env);
  env->step(a.data());
  EXPECT_EQ(mmkit::rl::model_env_state(*env, 0).sigma, 2.0);  // not before the reset
  for (int s = 0; s < 4; ++s) env->step(a.data());
  EXPECT_EQ(mmkit::rl::model_env_state(*env, 0).sigma, 4.0);
  EXPECT_EQ(mmkit::rl::model_env_state(*env, 0).A, 105.0);
  EXPECT_FLOAT_EQ(env->obs()[11], 2.0f);  // regime_sigma
}

TEST(ModelMarket, UnknownConfigKeyListsTheKnownOnes) {
  Config c;
  c["sigmaa"] = 1.0;
  try {
    (void)mmkit::rl::make_vec_env("model", 1, c, 1);
    FAIL() << "no error";
  } catch (const mmkit::Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("unknown config key 'sigmaa'"), std::string::npos) << m;
    EXPECT_NE(m.find("sigma"), std::string::npos);
    EXPECT_NE(m.find("reward.inventory_penalty"), std::string::npos);
  }
  EXPECT_THROW((void)mmkit::rl::make_vec_env("nope", 1, {}, 1), mmkit::Error);
  EXPECT_THROW((void)mmkit::rl::make_vec_env("model", 0, {}, 1), mmkit::Error);
  Config bad;
  bad["regime"] = std::string("extreme");
  EXPECT_THROW((void)mmkit::rl::make_vec_env("model", 1, bad, 1), mmkit::Error);
  EXPECT_THROW((void)mmkit::rl::make_vec_env("synthetic", 1, {}, 1)->optimal_action(nullptr), mmkit::Error);
}

TEST(RlEnv, ConfigKeysAreTheKeysTheReadersAccept) {
  const auto has = [](const std::vector<std::string>& v, const std::string& k) {
    return std::find(v.begin(), v.end(), k) != v.end();
  };
  const auto model = mmkit::rl::config_keys("model");
  EXPECT_TRUE(has(model, "sigma") && has(model, "reward.utility") && has(model, "obs.pnl_norm"));
  EXPECT_FALSE(has(model, "path"));
  const auto syn = mmkit::rl::config_keys("synthetic");
  EXPECT_TRUE(has(syn, "synthetic.preset") && has(syn, "engine.queue_model") && has(syn, "strategy.*"));
  const auto rep = mmkit::rl::config_keys("replay");
  EXPECT_TRUE(has(rep, "path") && has(rep, "window_s"));
  EXPECT_FALSE(has(rep, "synthetic.preset"));
  // Every listed model key is accepted (a numeric value where the default is numeric).
  Config c;
  c["s0"] = 50.0;
  c["obs.mid_scale"] = 3.0;
  c["reward.utility"] = std::string("exponential");
  EXPECT_NO_THROW((void)mmkit::rl::make_vec_env("model", 1, c, 1));
  EXPECT_THROW((void)mmkit::rl::make_vec_env("replay", 1, {}, 1), mmkit::Error);  // path required
}

TEST(RlReward, ShapedRewardMatchesHandComputation) {
  mmkit::rl::RewardConfig c;
  c.pnl_scale = 2;
  c.inventory_penalty = 0.5;
  c.vol_penalty = 3;
  c.impact_penalty = 0.25;
  // 2·1.5 − 0.5·4·0.1 − 3·4·0.01 − 0.25·9 = 3 − 0.2 − 0.12 − 2.25 = 0.43
  EXPECT_NEAR(mmkit::rl::shaped_reward(c, 1.5, 2.0, 0.1, 0.1, 3.0), 0.43, 1e-12);
  c.exponential = true;
  c.risk_aversion = 0.5;
  EXPECT_NEAR(mmkit::rl::shaped_reward(c, 1.5, 2.0, 0.1, 0.1, 3.0), (1 - std::exp(-0.5 * 0.43)) / 0.5, 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Synthetic order-book market

Config small_synthetic(const std::string& base = "avellaneda-stoikov") {
  Config c;
  c["episode_steps"] = std::int64_t{300};
  c["warmup_s"] = 5.0;
  c["base"] = base;
  return c;
}

struct FillKey {
  mmkit::TimestampNs ts;
  mmkit::Side side;
  mmkit::Price price;
  mmkit::Qty qty;
  bool operator==(const FillKey&) const = default;
};

std::vector<FillKey> fill_keys(const mmkit::engine::BacktestResult& r) {
  std::vector<FillKey> out;
  for (const auto& f : r.fills) out.push_back({f.fill.exch_ts_ns, f.fill.side, f.fill.price, f.fill.qty});
  return out;
}

void expect_classic_equivalence(const std::string& base) {
  Config c = small_synthetic(base);
  c["episode_steps"] = std::int64_t{2000};
  auto env = mmkit::rl::make_vec_env("synthetic", 2, c, 21);
  const auto a = classic_actions(*env);
  const std::int64_t steps = 1999;  // the last step would end the episode and reset the engine
  for (std::int64_t s = 0; s < steps; ++s) env->step(a.data());
  for (std::size_t i = 0; i < 2; ++i) {
    const auto v = mmkit::rl::lob_env_view(*env, i);
    auto& eng = const_cast<mmkit::engine::Engine&>(*v.slot->engine);
    const auto& env_result = eng.result();
    // The classic strategy in the backtester on the very same market and engine config.
    auto src = mmkit::sim::make_synthetic_market(v.slot->market_config);
    auto spec = src->instrument();
    auto strat = mmkit::strategy::make_strategy(*v.base_name, v.settings->strategy_params, spec, *v.profile);
    mmkit::engine::Engine bt(std::move(src), std::move(strat),
                             mmkit::rl::make_engine_config(*v.settings, v.slot->market_config.seed));
    (void)bt.run_until(v.slot->t0 + steps * v.settings->step_ns);
    const auto& bt_result = bt.result();
    ASSERT_GT(bt_result.fills.size(), 10u) << "too few fills for a meaningful comparison";
    std::printf("[ %s env %zu: %zu fills, %zu order updates, position %lld ]\n", base.c_str(), i,
                bt_result.fills.size(), bt_result.orders.size(), static_cast<long long>(bt.position()));
    EXPECT_EQ(fill_keys(env_result), fill_keys(bt_result));
    EXPECT_EQ(env_result.orders.size(), bt_result.orders.size());
    EXPECT_EQ(eng.position(), bt.position());
    EXPECT_TRUE(eng.cash() == bt.cash());
    EXPECT_EQ(v.slot->agent->fills(), bt_result.fills.size());
  }
}

TEST(SyntheticEnv, ClassicActionReproducesTheAvellanedaStoikovBacktest) { expect_classic_equivalence("avellaneda-stoikov"); }

TEST(SyntheticEnv, ClassicActionReproducesTheGlftBacktest) { expect_classic_equivalence("glft"); }

TEST(SyntheticEnv, WiderSpreadGivesFewerFills) {
  auto e1 = mmkit::rl::make_vec_env("synthetic", 4, small_synthetic(), 8);
  auto e2 = mmkit::rl::make_vec_env("synthetic", 4, small_synthetic(), 8);
  const auto a1 = classic_actions(*e1);
  auto a2 = a1;
  for (std::size_t i = 0; i < 4; ++i) a2[i * 3] = 4.0f;
  for (int s = 0; s < 299; ++s) {
    e1->step(a1.data());
    e2->step(a2.data());
  }
  std::uint64_t f1 = 0, f2 = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    f1 += mmkit::rl::lob_env_view(*e1, i).slot->agent->fills();
    f2 += mmkit::rl::lob_env_view(*e2, i).slot->agent->fills();
  }
  EXPECT_GT(f1, 0u);
  EXPECT_LT(f2, f1);
}

TEST(SyntheticEnv, SameSeedSameTrajectoryWhateverTheThreadCount) {
  Config c = small_synthetic();
  c["episode_steps"] = std::int64_t{50};
  c["regime"] = std::string("switching");
  auto e1 = mmkit::rl::make_vec_env("synthetic", 6, c, 5);
  auto e2 = mmkit::rl::make_vec_env("synthetic", 6, c, 5);
  e1->set_threads(1);
  e2->set_threads(2);
  ASSERT_EQ(e1->obs_dim(), 12u);
  std::vector<float> a(6 * 3);
  for (int s = 0; s < 120; ++s) {
    for (std::size_t i = 0; i < 6; ++i) {
      a[i * 3] = 0.5f + 0.25f * static_cast<float>(i % 4);
      a[i * 3 + 1] = 1.0f;
      a[i * 3 + 2] = 0.2f * static_cast<float>(s % 3) - 0.2f;
    }
    e1->step(a.data());
    e2->step(a.data());
    ASSERT_EQ(0, std::memcmp(e1->obs(), e2->obs(), 6 * e1->obs_dim() * sizeof(float))) << "step " << s;
    ASSERT_EQ(0, std::memcmp(e1->reward(), e2->reward(), 6 * sizeof(double)));
    ASSERT_EQ(0, std::memcmp(e1->truncated(), e2->truncated(), 6));
  }
  EXPECT_EQ(e1->episode_stats()[0].steps, 50u);
  // reset(seed) gives the same trajectory whatever the construction seed.
  auto e3 = mmkit::rl::make_vec_env("synthetic", 6, c, 1234);
  e1->reset(77);
  e3->reset(77);
  for (int s = 0; s < 30; ++s) {
    e1->step(a.data());
    e3->step(a.data());
  }
  EXPECT_EQ(0, std::memcmp(e1->obs(), e3->obs(), 6 * e1->obs_dim() * sizeof(float)));
}

TEST(SyntheticEnv, ObservationsAreInRangeAndQueuePositionsAreFractions) {
  auto env = mmkit::rl::make_vec_env("synthetic", 2, small_synthetic(), 3);
  const auto a = classic_actions(*env);
  bool saw_queue = false;
  for (int s = 0; s < 200; ++s) {
    env->step(a.data());
    for (std::size_t i = 0; i < 2; ++i) {
      const float* o = env->obs() + i * env->obs_dim();
      for (std::size_t j = 0; j < env->obs_dim(); ++j) ASSERT_TRUE(std::isfinite(o[j])) << env->obs_names()[j];
      EXPECT_GE(o[9], 0.0f);
      EXPECT_LE(o[9], 1.0f);
      EXPECT_GE(o[10], 0.0f);
      EXPECT_LE(o[10], 1.0f);
      saw_queue = saw_queue || (o[9] > 0.0f && o[9] < 1.0f);
      EXPECT_GT(o[1], 0.0f);  // spread
      EXPECT_LE(o[8], 1.0f);
    }
  }
  EXPECT_TRUE(saw_queue) << "never saw a queue position strictly inside the level";
}

TEST(SyntheticEnv, GivenMarketConfigReplacesTheSyntheticKeysAndKeepsItsOwnRegimes) {
  mmkit::sim::SyntheticMarketConfig m = mmkit::sim::synthetic_preset("cst2010");
  m.cancel_rates.assign(m.max_distance, 0.7);
  m.regimes = mmkit::sim::default_regimes();
  m.regime_transition = mmkit::sim::default_regime_transition();
  m.initial_regime = m.regimes[2].name;
  Config c = small_synthetic();
  c["synthetic.switch_rate"] = 0.5;
  auto env = mmkit::rl::make_lob_env("synthetic", 2, c, 4, m);
  const auto v = mmkit::rl::lob_env_view(*env, 0);
  EXPECT_TRUE(v.settings->own_regimes);
  EXPECT_EQ(v.slot->market_config.cancel_rates, m.cancel_rates);
  EXPECT_EQ(v.slot->market_config.regimes.size(), m.regimes.size());
  EXPECT_EQ(v.slot->market_config.initial_regime, m.regimes[2].name);
  EXPECT_EQ(v.slot->market_config.seed, v.slot->seed);  // the env still seeds each episode
  // The regime observation: the market's regime index / (number of regimes − 1).
  const float want = 2.0f / static_cast<float>(m.regimes.size() - 1);
  EXPECT_FLOAT_EQ(env->obs()[env->obs_dim() - 1], want);
  const auto a = classic_actions(*env);
  for (int s = 0; s < 20; ++s) env->step(a.data());
  // A synthetic.* market key besides the table is an error naming it; other kinds refuse a table.
  Config d = small_synthetic();
  d["synthetic.preset"] = std::string("goog2012");
  try {
    (void)mmkit::rl::make_lob_env("synthetic", 1, d, 1, m);
    ADD_FAILURE() << "no error";
  } catch (const mmkit::Error& e) {
    EXPECT_NE(std::string(e.what()).find("synthetic.preset"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)mmkit::rl::make_lob_env("replay", 1, Config{}, 1, m), mmkit::Error);
}

// A book and context set by hand, for the observer.
class HandBook final : public mmkit::strategy::BookView {
 public:
  mmkit::book::Level bid{mmkit::kNoPrice, 0}, ask{mmkit::kNoPrice, 0};
  mmkit::book::Level best(mmkit::Side s) const override { return s == mmkit::Side::kBid ? bid : ask; }
  mmkit::book::Level level(mmkit::Side s, std::size_t) const override { return best(s); }
  std::size_t depth(mmkit::Side s) const override { return best(s).price == mmkit::kNoPrice ? 0 : 1; }
};

class HandContext final : public mmkit::strategy::Context {
 public:
  HandBook b;
  mmkit::InstrumentSpec spec;
  mmkit::TimestampNs now() const override { return 0; }
  const mmkit::InstrumentSpec& instrument() const override { return spec; }
  const mmkit::strategy::BookView& book() const override { return b; }
  mmkit::Qty position() const override { return 0; }
  mmkit::strategy::Money cash() const override { return 0; }
  std::span<const mmkit::strategy::OrderView> open_orders() const override { return {}; }
  mmkit::strategy::ClientOrderId submit(const mmkit::strategy::OrderRequest&) override { return 0; }
  bool cancel(mmkit::strategy::ClientOrderId) override { return false; }
  bool modify(mmkit::strategy::ClientOrderId, mmkit::Price, mmkit::Qty) override { return false; }
  std::uint64_t events_seen() const override { return 0; }
};

TEST(LobObserver, EpisodeStartingWithoutATwoSidedBookStartsItsMidAtTheFirstOne) {
  HandContext ctx;
  ctx.b.ask = {10'100, 5};  // bid side empty
  mmkit::rl::LobObserver obs{mmkit::rl::LobObsConfig{}};
  obs.start(ctx, 1, 10);
  std::vector<float> o(11);
  for (std::int64_t step = 0; step < 2; ++step) {
    obs.observe(ctx, step, 0, o.data());
    for (std::size_t j = 0; j < o.size(); ++j) ASSERT_TRUE(std::isfinite(o[j])) << "step " << step << " obs " << j;
    EXPECT_EQ(o[0], 0.0f);  // mid_norm
    EXPECT_EQ(o[4], 0.0f);  // return_1
  }
  ctx.b.bid = {9'900, 5};  // mid 10,000: the episode's start mid
  obs.observe(ctx, 2, 0, o.data());
  EXPECT_EQ(o[0], 0.0f);
  EXPECT_EQ(o[4], 0.0f);
  EXPECT_EQ(o[5], 0.0f);
  ctx.b.bid = {10'100, 5};
  ctx.b.ask = {10'101, 5};  // mid 10,100.5
  obs.observe(ctx, 3, 0, o.data());
  EXPECT_NEAR(o[0], (10'100.5 / 10'000 - 1) * 100, 1e-4);  // mid_scale 100
  EXPECT_NEAR(o[4], (10'100.5 / 10'000 - 1) * 1e4, 1e-2);  // return_scale 1e4
  EXPECT_NEAR(o[1], 0.1, 1e-7);                             // 1 tick / spread_scale 10
}

// ---------------------------------------------------------------------------------------------
// Replay

TEST(ReplayEnv, RandomWindowsOfARealFileAreDeterministic) {
  const std::string path = data_dir() + "/lobster/LOBSTER_SampleFile_GOOG_2012-06-21_1.zip";
  if (!std::filesystem::exists(path)) {
    if (in_ci()) FAIL() << "missing " << path;
    GTEST_SKIP() << "data not found: " << path;
  }
  Config c;
  c["path"] = path;
  c["episode_steps"] = std::int64_t{100};
  c["warmup_s"] = 30.0;
  auto e1 = mmkit::rl::make_vec_env("replay", 3, c, 12);
  auto e2 = mmkit::rl::make_vec_env("replay", 3, c, 12);
  ASSERT_EQ(e1->obs_dim(), 11u);
  const auto a = classic_actions(*e1);
  std::vector<mmkit::TimestampNs> starts;
  for (std::size_t i = 0; i < 3; ++i) starts.push_back(mmkit::rl::lob_env_view(*e1, i).slot->t0);
  EXPECT_NE(starts[0], starts[1]);
  for (int s = 0; s < 100; ++s) {
    e1->step(a.data());
    e2->step(a.data());
    ASSERT_EQ(0, std::memcmp(e1->obs(), e2->obs(), 3 * e1->obs_dim() * sizeof(float)));
    ASSERT_EQ(0, std::memcmp(e1->reward(), e2->reward(), 3 * sizeof(double)));
  }
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(e1->truncated()[i], 1);
    EXPECT_EQ(e1->episode_stats()[i].steps, 100u);
    // The book at the window start is the file's book: two-sided, spread > 0.
    EXPECT_GT(e1->final_obs()[i * 11 + 1], 0.0f);
  }
}

TEST(ReplayEnv, ClassicActionReproducesTheBacktestOnTheSameWindow) {
  const std::string path = data_dir() + "/lobster/LOBSTER_SampleFile_GOOG_2012-06-21_1.zip";
  if (!std::filesystem::exists(path)) {
    if (in_ci()) FAIL() << "missing " << path;
    GTEST_SKIP() << "data not found: " << path;
  }
  Config c;
  c["path"] = path;
  c["episode_steps"] = std::int64_t{3000};
  c["warmup_s"] = 30.0;
  c["engine.entry_latency_ms"] = 1.0;
  c["engine.response_latency_ms"] = 1.0;
  c["engine.maker_fee_bps"] = -0.2;
  auto env = mmkit::rl::make_vec_env("replay", 2, c, 4);
  const auto a = classic_actions(*env);
  const std::int64_t steps = 2999;
  for (std::int64_t s = 0; s < steps; ++s) env->step(a.data());
  std::size_t total = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    const auto v = mmkit::rl::lob_env_view(*env, i);
    auto& eng = const_cast<mmkit::engine::Engine&>(*v.slot->engine);
    auto src = mmkit::data::open_source({path});
    const auto spec = src->instrument();
    auto strat = mmkit::strategy::make_strategy(*v.base_name, v.settings->strategy_params, spec, *v.profile);
    auto ec = mmkit::rl::make_engine_config(*v.settings, v.slot->seed);
    ec.warmup_events = v.slot->warmup_events;
    mmkit::engine::Engine bt(std::move(src), std::move(strat), std::move(ec));
    (void)bt.run_until(v.slot->t0 + steps * v.settings->step_ns);
    EXPECT_EQ(fill_keys(eng.result()), fill_keys(bt.result()));
    EXPECT_EQ(eng.result().orders.size(), bt.result().orders.size());
    EXPECT_TRUE(eng.cash() == bt.cash());
    total += bt.result().fills.size();
  }
  EXPECT_GT(total, 5u);
  std::printf("[ replay: %zu fills over 2 windows of 300 s ]\n", total);
}

// ---------------------------------------------------------------------------------------------
// Agent actions in the order-book market

TEST(QuoteAgent, ActionIsTheModulePipelinesExternalSlot) {
  using mmkit::rl::ActionMode;
  using mmkit::rl::QuoteAgent;
  const float m[3] = {2.5f, 0.5f, -1.0f};
  const auto e = QuoteAgent::external_adjust(ActionMode::kMultiplier, m);
  EXPECT_EQ(e.adjust.spread_mult, 2.5);
  EXPECT_EQ(e.adjust.bid_size_mult, 0.5);
  EXPECT_EQ(e.adjust.ask_size_mult, 0.5);
  EXPECT_EQ(e.skew_half_spreads, -1.0);
  EXPECT_FALSE(e.override_model);
  const float classic[3] = {1.0f, 1.0f, 0.0f};
  EXPECT_TRUE(QuoteAgent::external_adjust(ActionMode::kMultiplier, classic).identity());
  const float d[4] = {3.0f, -2.0f, 1.5f, 0.0f};
  const auto f = QuoteAgent::external_adjust(ActionMode::kDirect, d);
  EXPECT_TRUE(f.override_model);
  EXPECT_EQ(f.bid_offset_ticks, 3.0);
  EXPECT_EQ(f.ask_offset_ticks, -2.0);
  EXPECT_EQ(f.adjust.bid_size_mult, 1.5);
  EXPECT_EQ(f.adjust.ask_size_mult, 0.0);
  EXPECT_FALSE(f.identity());
  // The slot composed into the modules' adjustment and applied by the pipeline (apply_adjust)
  // is rl::apply_multiplier's law (the model market's): bid_b − (m − 1)h + skew·h, ...
  const double tick = 100;
  for (const double skew : {-2.0, -0.3, 0.0, 0.7, 2.0}) {
    for (const double mult : {0.1, 1.0, 1.7, 5.0}) {
      const double bid_b = 1'000'050.0 - 137.25, ask_b = 1'000'050.0 + 412.5;
      const float a[3] = {static_cast<float>(mult), 1.0f, static_cast<float>(skew)};
      mmkit::strategy::QuoteAdjust composed;
      mmkit::strategy::compose_external(QuoteAgent::external_adjust(ActionMode::kMultiplier, a), bid_b, ask_b,
                                        tick, composed);
      double bid = bid_b, ask = ask_b;
      mmkit::strategy::apply_adjust(composed, 1'000'050.0, tick, bid, ask);
      const auto want = mmkit::rl::apply_multiplier(bid_b, ask_b, static_cast<float>(mult), static_cast<float>(skew));
      EXPECT_NEAR(bid, want.bid, 1e-6) << mult << " " << skew;
      EXPECT_NEAR(ask, want.ask, 1e-6) << mult << " " << skew;
    }
  }
  // Composed with a module's adjustment: multipliers multiply, shifts add.
  mmkit::strategy::QuoteAdjust mod;
  mod.spread_mult = 2;
  mod.center_shift_ticks = 1;
  mod.bid_size_mult = 3;
  mod.quote_ask = false;
  mmkit::strategy::compose_external(e, 1000.0, 1400.0, tick, mod);
  EXPECT_DOUBLE_EQ(mod.spread_mult, 5.0);
  EXPECT_DOUBLE_EQ(mod.center_shift_ticks, 1.0 - 1.0 * 200.0 / tick);
  EXPECT_DOUBLE_EQ(mod.bid_size_mult, 1.5);
  EXPECT_DOUBLE_EQ(mod.ask_size_mult, 0.5);
  EXPECT_FALSE(mod.quote_ask);
}

TEST(QuoteAgent, ChangedActionRequotesAtTheNextBookUpdateDespiteTheThrottle) {
  Config c = small_synthetic();
  c["strategy.min_requote_interval_ms"] = 3000.0;  // the base alone requotes every 3 s (30 steps)
  auto env = mmkit::rl::make_vec_env("synthetic", 1, c, 9);
  const auto classic = classic_actions(*env);
  for (int s = 0; s < 61; ++s) env->step(classic.data());
  const auto v = mmkit::rl::lob_env_view(*env, 0);
  const auto& base = v.slot->agent->base();
  ASSERT_TRUE(std::isfinite(base.last_model_bid_raw())) << "the base never quoted";
  EXPECT_EQ(base.external_adjust().adjust.spread_mult, 1.0);
  const float wide[3] = {3.0f, 1.0f, 0.0f};
  const std::uint64_t before = base.requotes();
  int took = -1;
  for (int s = 0; s < 10 && took < 0; ++s) {
    env->step(wide);
    if (base.requotes() > before) took = s;
  }
  ASSERT_GE(took, 0) << "the new action never took effect";
  EXPECT_LE(took, 2);  // the next book update (~4 per 100 ms step), not 20 s later
  EXPECT_EQ(base.last_adjust().spread_mult, 3.0);
  const auto& bids = base.wanted_bids();
  const auto& asks = base.wanted_asks();
  if (!bids.empty() && !asks.empty()) {
    const double model_spread = base.last_model_ask_raw() - base.last_model_bid_raw();
    const auto tick = static_cast<double>(v.slot->engine->instrument().tick_size);
    EXPECT_GE(static_cast<double>(asks[0].price - bids[0].price), 3.0 * model_spread - 2.0 * tick);
  }
  // The same action again does not requote by itself.
  const std::uint64_t after = base.requotes();
  const std::uint64_t fills = v.slot->agent->fills();
  env->step(wide);
  if (v.slot->agent->fills() == fills) {
    EXPECT_EQ(base.requotes(), after);
  }
}

TEST(QuoteAgent, SizeMultiplierAndDirectOffsetsShapeTheWantedQuotes) {
  Config c = small_synthetic();
  auto env = mmkit::rl::make_vec_env("synthetic", 1, c, 6);
  const float mult[3] = {1.0f, 2.0f, 0.0f};
  int checked = 0, on_grid = 0;
  for (int s = 0; s < 200; ++s) {
    env->step(mult);
    const auto v = mmkit::rl::lob_env_view(*env, 0);
    const auto& bids = v.slot->agent->wanted_bids();
    const auto& base = v.slot->agent->base();
    const mmkit::Qty oq = v.slot->order_qty;
    const mmkit::Qty pos = v.slot->engine->position();
    const double model_bid = base.last_model_bid_raw();
    if (!bids.empty() && std::isfinite(model_bid) && pos + 2 * oq <= base.settings().max_position) {
      EXPECT_EQ(bids[0].qty, 2 * oq);
      // The size does not move the price: the model bid on the grid, or below it when the
      // passive-side rule clamped it.
      const mmkit::Price tick = v.slot->engine->instrument().tick_size;
      const auto grid = static_cast<mmkit::Price>(std::floor(model_bid / static_cast<double>(tick) + 1e-9)) * tick;
      EXPECT_LE(bids[0].price, grid);
      on_grid += bids[0].price == grid;
      ++checked;
    }
  }
  EXPECT_GT(checked, 10);
  EXPECT_GT(on_grid, checked / 2);

  Config d = small_synthetic();
  d["action_mode"] = std::string("direct");
  auto denv = mmkit::rl::make_vec_env("synthetic", 1, d, 6);
  ASSERT_EQ(denv->action_dim(), 4u);
  const float direct[4] = {3.0f, 5.0f, 1.0f, 0.0f};
  std::vector<double> dists;
  for (int s = 0; s < 200; ++s) {
    denv->step(direct);
    const auto v = mmkit::rl::lob_env_view(*denv, 0);
    const auto& bids = v.slot->agent->wanted_bids();
    EXPECT_TRUE(v.slot->agent->wanted_asks().empty());  // ask_size 0: no ask
    if (bids.empty()) continue;
    // bid = floor(mid − 3 ticks) on the grid: 3 or 3.5 ticks below the mid at the requote.
    const auto& b = v.slot->engine->context().book();
    const double mid = b.mid();
    const double dist = mid - static_cast<double>(bids[0].price);
    if (std::isfinite(mid)) dists.push_back(dist);
    EXPECT_EQ(bids[0].qty, v.slot->order_qty);
  }
  // The book may have moved since the last requote: the median distance is the requote's.
  ASSERT_GT(dists.size(), 10u);
  std::sort(dists.begin(), dists.end());
  const double median = dists[dists.size() / 2];
  EXPECT_GE(median, 3.0);
  EXPECT_LE(median, 3.5);
}

// ---------------------------------------------------------------------------------------------
// Policy

std::string write_file(const std::string& name, const std::string& text) {
  const std::string p = testing::TempDir() + name;
  std::ofstream(p) << text;
  return p;
}

std::string obs_names_json() {
  std::string s = "[";
  const auto n = mmkit::rl::lob_obs_names(false);
  for (std::size_t i = 0; i < n.size(); ++i) s += (i ? ",\"" : "\"") + n[i] + "\"";
  return s + "]";
}

std::string zero_row(std::size_t n, std::size_t one_at = 99, double v = 1) {
  std::string s = "[";
  for (std::size_t i = 0; i < n; ++i) {
    s += i ? "," : "";
    s += i == one_at ? std::to_string(v) : "0";
  }
  return s + "]";
}

std::string policy_json(const std::string& layers) {
  return "{\"format\":\"mmkit-mlp-v1\",\"activation\":\"tanh\",\"obs_names\":" + obs_names_json() +
         ",\"action_mode\":\"multiplier\",\"base\":\"avellaneda-stoikov\",\"action_low\":[0.1,0,-2],"
         "\"action_high\":[5,2,2],\"obs_config\":{\"step_ms\":100,\"episode_steps\":600},\"layers\":" +
         layers + "}";
}

TEST(RlPolicy, TwoLayerNetworkGivesTheHandComputedAction) {
  // h = tanh(W1 x + b1): W1 row 0 picks x0, row 1 is 2·x1; b1 = (0, 0.5).
  // y = W2 h + b2: W2 = [[1,0],[0,1],[1,1]], b2 = (1, 1, 0).
  const std::string layers = "[{\"weight\":[" + zero_row(11, 0) + "," + zero_row(11, 1, 2) +
                             "],\"bias\":[0,0.5]},{\"weight\":[[1,0],[0,1],[1,1]],\"bias\":[1,1,0]}]";
  const auto p = mmkit::rl::load_policy_file(write_file("policy2.json", policy_json(layers)));
  float x[11] = {0.5f, -1.0f, 3, 3, 3, 3, 3, 3, 3, 3, 3};
  float y[3];
  mmkit::rl::policy_action(p, x, y);
  // h = (tanh 0.5, tanh −1.5) = (0.46211716, −0.90514825)
  EXPECT_NEAR(y[0], 1.46211716, 1e-6);
  EXPECT_NEAR(y[1], 0.09485175, 1e-6);
  EXPECT_NEAR(y[2], -0.44303109, 1e-6);
  // One linear layer with bias (9, −1, 0.5): clipped to the bounds [0.1, 5] × [0, 2] × [−2, 2].
  const auto c = mmkit::rl::load_policy_file(write_file(
      "policy1.json", policy_json("[{\"weight\":[" + zero_row(11) + "," + zero_row(11) + "," + zero_row(11) +
                                  "],\"bias\":[9,-1,0.5]}]")));
  mmkit::rl::policy_action(c, x, y);
  EXPECT_EQ(y[0], 5.0f);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(y[2], 0.5f);
}

TEST(RlPolicy, MalformedWeightFilesAreRejectedWithTheField) {
  auto expect_error = [](const std::string& text, const std::string& needle) {
    const std::string p = write_file("bad_policy.json", text);
    try {
      (void)mmkit::rl::load_policy_file(p);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const mmkit::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error("{", "cannot read");
  expect_error(policy_json("[{\"weight\":[[1,0],[0]],\"bias\":[0,0]}]"), "ragged");
  expect_error(policy_json("[{\"weight\":[" + zero_row(11) + "],\"bias\":[0]}]"), "outputs");
  expect_error(policy_json("[{\"weight\":[" + zero_row(10) + "," + zero_row(10) + "," + zero_row(10) +
                           "],\"bias\":[0,0,0]}]"),
               "inputs");
  std::string wrong_format = policy_json("[]");
  wrong_format.replace(wrong_format.find("mmkit-mlp-v1"), 12, "other");
  expect_error(wrong_format, "format");
}

TEST(RlPolicy, ConstantClassicOutputReproducesTheAvellanedaStoikovBacktest) {
  const std::string layers = "[{\"weight\":[" + zero_row(11) + "," + zero_row(11) +
                             "],\"bias\":[0.3,-0.2]},{\"weight\":[[0,0],[0,0],[0,0]],\"bias\":[1,1,0]}]";
  const std::string path = write_file("policy_classic.json", policy_json(layers));
  mmkit::sim::SyntheticMarketConfig mc = mmkit::sim::synthetic_preset("cst2010");
  mc.duration_s = 300;
  mc.seed = 77;
  mmkit::strategy::Params params{{"sigma_half_life_s", 2.0}, {"gamma", 0.5}};
  auto run = [&](const std::string& name, mmkit::strategy::Params p) {
    auto src = mmkit::sim::make_synthetic_market(mc);
    const auto spec = src->instrument();
    mmkit::strategy::MarketProfile prof;
    prof.mean_spread = 2;
    prof.median_trade_qty = 5;
    prof.trades_per_second = 1;
    auto strat = mmkit::strategy::make_strategy(name, p, spec, prof);
    mmkit::engine::EngineConfig ec;
    ec.seed = 3;
    mmkit::engine::Engine e(std::move(src), std::move(strat), std::move(ec));
    e.run();
    return fill_keys(e.result());
  };
  auto pp = params;
  pp["policy"] = path;
  const auto classic = run("avellaneda-stoikov", params);
  const auto policy = run("rl-policy", pp);
  ASSERT_GT(classic.size(), 20u);
  EXPECT_EQ(policy, classic);
}

TEST(RlPolicy, PolicyStrategyActsOnEveryStep) {
  // spread_mult = 3 (bias), the rest classic: fewer fills than the classic strategy.
  const std::string layers = "[{\"weight\":[" + zero_row(11) + "],\"bias\":[0]},{\"weight\":[[0],[0],[0]],\"bias\":[3,1,0]}]";
  const std::string path = write_file("policy_wide.json", policy_json(layers));
  mmkit::sim::SyntheticMarketConfig mc = mmkit::sim::synthetic_preset("cst2010");
  mc.duration_s = 300;
  auto src = mmkit::sim::make_synthetic_market(mc);
  const auto spec = src->instrument();
  mmkit::strategy::MarketProfile prof;
  prof.mean_spread = 2;
  prof.median_trade_qty = 5;
  auto strat = mmkit::strategy::make_strategy("rl-policy", {{"policy", path}, {"sigma_half_life_s", 2.0}}, spec, prof);
  auto* pol = dynamic_cast<mmkit::rl::RlPolicy*>(strat.get());
  ASSERT_NE(pol, nullptr);
  mmkit::engine::Engine e(std::move(src), std::move(strat), mmkit::engine::EngineConfig{});
  e.run();
  // The base quotes alone for the default 10 s warm-up (as in the environments), then one
  // decision per 100 ms step: (300 s − 10 s) / 100 ms.
  EXPECT_NEAR(static_cast<double>(pol->decisions()), 2900.0, 5.0);
  EXPECT_FLOAT_EQ(pol->last_action()[0], 3.0f);
  EXPECT_THROW((void)mmkit::strategy::make_strategy("rl-policy", {}, spec, prof), mmkit::Error);
  EXPECT_THROW((void)mmkit::strategy::make_strategy("rl-policy", {{"policy", path}, {"warmup_s", -1.0}}, spec, prof),
               mmkit::Error);
  auto src0 = mmkit::sim::make_synthetic_market(mc);
  auto strat0 = mmkit::strategy::make_strategy(
      "rl-policy", {{"policy", path}, {"sigma_half_life_s", 2.0}, {"warmup_s", 0.0}}, spec, prof);
  auto* pol0 = dynamic_cast<mmkit::rl::RlPolicy*>(strat0.get());
  mmkit::engine::Engine e0(std::move(src0), std::move(strat0), mmkit::engine::EngineConfig{});
  e0.run();
  EXPECT_NEAR(static_cast<double>(pol0->decisions()), 3000.0, 5.0);  // no warm-up: 300 s / 100 ms
}

// ---------------------------------------------------------------------------------------------
// The model market's optimal policy (backward DP over the env's own discrete problem)

namespace optimal_dp {

using mmkit::rl::ModelMarketConfig;

// Independent brute force of the same problem: at every (t, q, regime) the best (δb, δa) on a
// grid of step `h` over [−1, 4], the expectation written out from the env's rules (mid ±σ√dt,
// fills 1 − exp(−A e^{−k δ} dt) with δ to the new mid, reward shaped on the post-fill q).
double brute_force_h00(const ModelMarketConfig& c, mmkit::rl::Regime regime, double h) {
  const bool sw = regime == mmkit::rl::Regime::kSwitching;
  const int R = sw ? 3 : 1;
  const int J = static_cast<int>(std::floor(c.max_inventory + 1e-9));
  const int L = 2 * J + 1;
  const auto T = static_cast<int>(c.episode_steps);
  std::vector<double> V(static_cast<std::size_t>((T + 1) * L * R), 0.0);
  auto at = [&](int t, int j, int r) -> double& { return V[static_cast<std::size_t>((t * L + j + J) * R + r)]; };
  const int G = static_cast<int>(std::lround(5.0 / h)) + 1;
  for (int t = T - 1; t >= 0; --t) {
    for (int j = -J; j <= J; ++j) {
      for (int r = 0; r < R; ++r) {
        const auto p = c.regime(sw ? static_cast<mmkit::rl::Regime>(r) : regime);
        const double q = j, d = p.sigma * std::sqrt(c.dt_s);
        double nxt[3];
        for (int m = -1; m <= 1; ++m) {
          nxt[m + 1] = 0;
          if (j + m < -J || j + m > J) continue;
          for (int r2 = 0; r2 < R; ++r2) {
            const double P = !sw ? 1.0 : (r2 == r ? 1 - c.switch_prob : 0.5 * c.switch_prob);
            nxt[m + 1] += P * at(t + 1, j + m, r2);
          }
        }
        double best = -1e300;
        for (int ib = 0; ib < G; ++ib) {
          for (int ia = 0; ia < G; ++ia) {
            const double db = -1 + ib * h, da = -1 + ia * h;
            double e = 0;
            for (const double ds : {d, -d}) {
              const double pb = j < J ? 1 - std::exp(-p.A * std::exp(-p.k * (db + ds)) * c.dt_s) : 0;
              const double pa = j > -J ? 1 - std::exp(-p.A * std::exp(-p.k * (da - ds)) * c.dt_s) : 0;
              for (int b = 0; b < 2; ++b) {
                for (int a = 0; a < 2; ++a) {
                  const double qn = q + b - a;
                  const double dpnl = q * ds + b * (db + ds) + a * (da - ds);
                  const double rew = mmkit::rl::shaped_reward(c.reward, dpnl, qn, c.dt_s, ds, b + a);
                  e += 0.5 * (b ? pb : 1 - pb) * (a ? pa : 1 - pa) * (rew + nxt[b - a + 1]);
                }
              }
            }
            best = std::max(best, e);
          }
        }
        at(t, j, r) = best;
      }
    }
  }
  return at(0, 0, sw ? 1 : 0);
}

ModelMarketConfig tiny_config(std::int64_t steps) {
  Config cfg;
  cfg["episode_steps"] = steps;
  cfg["dt_s"] = 0.05;  // fill probabilities up to ~1: the joint (bid, ask) outcomes matter
  cfg["max_inventory"] = 1.0;
  cfg["max_size_mult"] = 1.0;
  cfg["reward.vol_penalty"] = 0.5;
  cfg["reward.inventory_penalty"] = 0.3;
  cfg["reward.impact_penalty"] = 0.02;
  cfg["switch_prob"] = 0.3;
  mmkit::rl::ActionMode m;
  mmkit::rl::BaseQuote b;
  mmkit::rl::Regime g;
  return mmkit::rl::model_market_config(cfg, m, b, g);
}

}  // namespace optimal_dp

TEST(ModelOptimalPolicy, DpValueEqualsBruteForceOverAFineGridOnTinyProblems) {
  using mmkit::rl::Regime;
  struct Case {
    std::int64_t steps;
    Regime regime;
    bool exponential;
    double h;
  };
  for (const Case& k : {Case{2, Regime::kMedium, false, 0.004}, Case{3, Regime::kHigh, false, 0.005},
                        Case{2, Regime::kMedium, true, 0.005}, Case{2, Regime::kSwitching, false, 0.01}}) {
    auto c = optimal_dp::tiny_config(k.steps);
    c.reward.exponential = k.exponential;
    c.reward.risk_aversion = 0.5;
    const auto pol = mmkit::rl::model_optimal_policy(c, k.regime);
    const std::size_t r0 = k.regime == Regime::kSwitching ? 1 : 0;
    const double dp = pol.value[pol.index(0, 0, r0)];
    const double bf = optimal_dp::brute_force_h00(c, k.regime, k.h);
    std::printf("[ dp vs brute force ] %lld steps, %s, %s: DP h(0,0) %.12f, grid (step %.3f) %.12f, diff %.3g\n",
                static_cast<long long>(k.steps), mmkit::rl::to_string(k.regime), k.exponential ? "exponential" : "linear",
                dp, k.h, bf, dp - bf);
    // The grid optimum is below the exact one by at most max|f''| h² / 8 per step (|f''| < 2 here).
    EXPECT_GE(dp, bf - 1e-12) << k.steps << " steps, regime " << mmkit::rl::to_string(k.regime);
    EXPECT_LE(dp - bf, 0.25 * k.h * k.h * static_cast<double>(k.steps))
        << k.steps << " steps, regime " << mmkit::rl::to_string(k.regime);
    EXPECT_GT(dp, 0.0);
    // The limit: at q = +1 (J = 1) the bid is not quoted, at q = −1 the ask.
    EXPECT_TRUE(std::isinf(pol.delta_bid[pol.index(0, 1, r0)]));
    EXPECT_TRUE(std::isinf(pol.delta_ask[pol.index(0, -1, r0)]));
    EXPECT_TRUE(std::isfinite(pol.delta_ask[pol.index(0, 1, r0)]));
  }
}

TEST(ModelOptimalPolicy, IsSymmetricInInventoryAndLeansAgainstIt) {
  // Symmetry: at q = 0 with no drift the bid and ask offsets are equal; the inventory skews them.
  auto c = optimal_dp::tiny_config(5);
  c.max_inventory = 3;
  const auto pol = mmkit::rl::model_optimal_policy(c, mmkit::rl::Regime::kMedium);
  EXPECT_NEAR(pol.delta_bid[pol.index(0, 0, 0)], pol.delta_ask[pol.index(0, 0, 0)], 1e-12);
  EXPECT_GT(pol.delta_bid[pol.index(0, 2, 0)], pol.delta_ask[pol.index(0, 2, 0)]);  // long: sell cheaper
  EXPECT_NEAR(pol.delta_bid[pol.index(0, 2, 0)], pol.delta_ask[pol.index(0, -2, 0)], 1e-12);
  EXPECT_NEAR(pol.value[pol.index(0, 2, 0)], pol.value[pol.index(0, -2, 0)], 1e-12);
  EXPECT_LT(pol.value[pol.index(0, 2, 0)], pol.value[pol.index(0, 0, 0)]);
}

namespace optimal_dp {

struct Run {
  std::vector<double> reward;
  mmkit::rl::ModelOptimalClipStats clip;
};

// One episode per env (200 steps, all truncated), `optimal`: optimal_action() each step, else the
// classic constant action (1, 1, 0).
Run run_model(Config cfg, std::size_t n, std::uint64_t seed, bool optimal) {
  auto env = mmkit::rl::make_vec_env("model", n, cfg, seed);
  std::vector<float> a = optimal ? std::vector<float>(n * env->action_dim()) : classic_actions(*env);
  const auto steps = std::get<std::int64_t>(cfg.at("episode_steps"));
  for (std::int64_t t = 0; t < steps; ++t) {
    if (optimal) env->optimal_action(a.data());
    env->step(a.data());
  }
  Run out;
  for (std::size_t i = 0; i < n; ++i) out.reward.push_back(env->episode_stats()[i].reward);
  if (optimal) out.clip = mmkit::rl::model_optimal_clip_stats(*env);
  return out;
}

struct MeanSe {
  double mean = 0, se = 0;
};
MeanSe mean_se(const std::vector<double>& x) {
  double m = 0, m2 = 0;
  for (double v : x) m += v;
  m /= static_cast<double>(x.size());
  for (double v : x) m2 += (v - m) * (v - m);
  return {m, std::sqrt(m2 / static_cast<double>(x.size() - 1) / static_cast<double>(x.size()))};
}
MeanSe paired(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> d(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return mean_se(d);
}

}  // namespace optimal_dp

TEST(ModelOptimalPolicy, BeatsAvellanedaStoikovAndGlftAndRealizesItsDpValue) {
  // The evaluation's market (runs/rl_model_4m): medium regime, unit orders, λ_V = 0.05.
  Config cfg;
  cfg["episode_steps"] = std::int64_t{200};
  cfg["max_size_mult"] = 1.0;
  cfg["reward.vol_penalty"] = 0.05;
  const std::size_t n = 4000;
  const auto opt = optimal_dp::run_model(cfg, n, 11, true);
  const auto as = optimal_dp::run_model(cfg, n, 11, false);
  Config g = cfg;
  g["base"] = std::string("glft");
  const auto glft = optimal_dp::run_model(g, n, 11, false);
  Config d = cfg;
  d["action_mode"] = std::string("direct");
  const auto direct = optimal_dp::run_model(d, n, 11, true);

  mmkit::rl::ActionMode m;
  mmkit::rl::BaseQuote b;
  mmkit::rl::Regime r;
  const auto c = mmkit::rl::model_market_config(cfg, m, b, r);
  const auto pol = mmkit::rl::model_optimal_policy(c, mmkit::rl::Regime::kMedium);
  const double h00 = pol.value[pol.index(0, 0, 0)];

  const auto o = optimal_dp::mean_se(opt.reward), od = optimal_dp::mean_se(direct.reward);
  const auto vs_as = optimal_dp::paired(opt.reward, as.reward);
  const auto vs_glft = optimal_dp::paired(opt.reward, glft.reward);
  std::printf("[ model optimal ] h(0,0) %.4f; optimal (multiplier) %.4f ± %.4f (se), direct %.4f ± %.4f; "
              "optimal − A-S %.4f ± %.4f, optimal − GLFT %.4f ± %.4f (paired se, %zu episodes); "
              "clipped %llu of %llu actions\n",
              h00, o.mean, o.se, od.mean, od.se, vs_as.mean, vs_as.se, vs_glft.mean, vs_glft.se, n,
              static_cast<unsigned long long>(opt.clip.clipped), static_cast<unsigned long long>(opt.clip.actions));
  EXPECT_GT(vs_as.mean, -3 * vs_as.se);
  EXPECT_GT(vs_glft.mean, -3 * vs_glft.se);
  EXPECT_LT(std::fabs(o.mean - h00), 3.5 * o.se);
  EXPECT_LT(std::fabs(od.mean - h00), 3.5 * od.se);
  EXPECT_EQ(opt.clip.actions, n * 200);
}

TEST(ModelOptimalPolicy, SwitchingRegimeUsesTheRegimeAsStateAndRealizesItsValue) {
  Config cfg;
  cfg["episode_steps"] = std::int64_t{200};
  cfg["max_size_mult"] = 1.0;
  cfg["reward.vol_penalty"] = 0.05;
  cfg["regime"] = std::string("switching");
  cfg["switch_prob"] = 0.05;
  const std::size_t n = 4000;
  const auto mult = optimal_dp::run_model(cfg, n, 5, true);
  cfg["action_mode"] = std::string("direct");  // offsets within ±5 price: the DP quote is never clipped
  const auto opt = optimal_dp::run_model(cfg, n, 5, true);
  mmkit::rl::ActionMode m;
  mmkit::rl::BaseQuote b;
  mmkit::rl::Regime r;
  const auto c = mmkit::rl::model_market_config(cfg, m, b, r);
  const auto pol = mmkit::rl::model_optimal_policy(c, mmkit::rl::Regime::kSwitching);
  ASSERT_EQ(pol.regimes, 3u);
  // The episode starts in a uniformly drawn regime.
  double h0 = 0;
  for (std::size_t k = 0; k < 3; ++k) h0 += pol.value[pol.index(0, 0, k)] / 3.0;
  const auto o = optimal_dp::mean_se(opt.reward), om = optimal_dp::mean_se(mult.reward);
  std::printf("[ model optimal, switching ] E h(0,0,r) %.4f (low %.4f, medium %.4f, high %.4f); optimal direct "
              "%.4f ± %.4f (clipped %llu of %llu), multiplier (A-S base) %.4f ± %.4f (clipped %llu of %llu)\n",
              h0, pol.value[pol.index(0, 0, 0)], pol.value[pol.index(0, 0, 1)], pol.value[pol.index(0, 0, 2)],
              o.mean, o.se, static_cast<unsigned long long>(opt.clip.clipped),
              static_cast<unsigned long long>(opt.clip.actions), om.mean, om.se,
              static_cast<unsigned long long>(mult.clip.clipped), static_cast<unsigned long long>(mult.clip.actions));
  EXPECT_LT(std::fabs(o.mean - h0), 3.5 * o.se);
  EXPECT_EQ(opt.clip.clipped, 0u);
  // Multiplier mode clips the skew at ±2 base half spreads (the A-S base leans 1.6 q per unit in the
  // high regime): the clipped policy cannot beat the optimum.
  EXPECT_LT(om.mean, h0 + 3.5 * om.se);
  EXPECT_THROW((void)mmkit::rl::model_optimal_clip_stats(*mmkit::rl::make_vec_env("synthetic", 1, {}, 1)),
               mmkit::Error);
}

}  // namespace
