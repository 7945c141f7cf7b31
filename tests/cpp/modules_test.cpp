// The market maker's modules (mmkit/strategy/modules.h): config parsing and errors, each module's
// adjustment on hand-built states (a mock Context), the risk manager's state machine, the funding
// freeze window, the sizer's caps, the fill-rate controller, the quote arithmetic, and engine runs:
// the kill switch flattening the position, and disabled modules leaving results unchanged.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "mmkit/core/error.h"
#include "mmkit/core/event.h"
#include "mmkit/data/source.h"
#include "mmkit/engine/engine.h"
#include "mmkit/exchange/models.h"
#include "mmkit/sim/synthetic_market.h"
#include "mmkit/strategy/glft.h"
#include "mmkit/strategy/modules.h"
#include "mmkit/strategy/spread_quoter.h"
#include "mmkit/strategy/strategy.h"
#include "config_file.h"
#include "fixtures.h"

namespace mmkit::strategy {
namespace {

using exchange::OrderEventKind;
using exchange::OrderStatus;
using exchange::OrderType;
using exchange::RejectReason;
using exchange::TimeInForce;
using test::crypto_spec;
using test::expect_error;
using test::make_event;
using test::MockBook;

constexpr Side kBid = Side::kBid;
constexpr Side kAsk = Side::kAsk;
constexpr TimestampNs kSec = 1'000'000'000;
constexpr TimestampNs kMs = 1'000'000;
// 2024-08-08 00:00:00 UTC, a Binance 8-hourly funding time.
constexpr TimestampNs kMidnight = 1'723'075'200 * kSec;
constexpr TimestampNs kT0 = kMidnight - 3600 * kSec;

/// Book, position, cash and an order recorder; orders rest at once, cancels apply at once.
class MockContext final : public Context {
 public:
  explicit MockContext(InstrumentSpec s) : spec(s) {}
  [[nodiscard]] TimestampNs now() const override { return now_ns; }
  [[nodiscard]] const InstrumentSpec& instrument() const override { return spec; }
  [[nodiscard]] const BookView& book() const override { return mbook; }
  [[nodiscard]] Qty position() const override { return pos; }
  [[nodiscard]] Money cash() const override { return cash_money; }
  [[nodiscard]] std::span<const OrderView> open_orders() const override { return orders; }
  [[nodiscard]] std::uint64_t events_seen() const override { return 0; }
  [[nodiscard]] FundingInfo funding() const override { return fund; }
  ClientOrderId submit(const OrderRequest& r) override {
    submitted.push_back(r);
    OrderView o;
    o.id = next_id++;
    o.side = r.side;
    o.price = r.price;
    o.qty = o.leaves = r.qty;
    o.type = r.type;
    o.tif = r.tif;
    o.status = OrderStatus::kOpen;
    if (r.type == OrderType::kLimit) orders.push_back(o);
    return o.id;
  }
  bool cancel(ClientOrderId id) override {
    ++cancels;
    const auto it = std::find_if(orders.begin(), orders.end(), [id](const OrderView& o) { return o.id == id; });
    if (it == orders.end()) return false;
    orders.erase(it);
    return true;
  }
  bool modify(ClientOrderId id, Price p, Qty q) override {
    for (OrderView& o : orders) {
      if (o.id == id) {
        o.price = p;
        o.qty = o.leaves = q;
        return true;
      }
    }
    return false;
  }
  /// Sets the cash so that cash + pos × mid = pnl (decimal currency) at the current book.
  void set_pnl(double pnl) {
    const double mid = mbook.mid();
    const double per_raw = exchange::money_to_double(exchange::notional(1, 1), spec);
    const double cash = pnl - static_cast<double>(pos) * mid * per_raw;
    cash_money = static_cast<Money>(std::llround(cash / per_raw));
  }

  InstrumentSpec spec;
  MockBook mbook;
  TimestampNs now_ns = kT0;
  Qty pos = 0;
  Money cash_money = 0;
  std::vector<OrderView> orders;
  std::vector<OrderRequest> submitted;
  std::size_t cancels = 0;
  ClientOrderId next_id = 1;
  FundingInfo fund;
};

ModulesConfig config(const Params& p, Qty order_qty = 2, Qty max_position = 20) {
  return resolve_modules(p, crypto_spec(), ModuleDefaults{order_qty, max_position}, "glft");
}

QuoteInputs inputs(const MockContext& ctx, Qty order_qty = 2, Qty max_position = 20, double pnl = 0) {
  QuoteInputs in;
  in.now = ctx.now_ns;
  in.mid_raw = ctx.mbook.mid();
  in.tick = 1;
  in.position = ctx.pos;
  in.order_qty = order_qty;
  in.max_position = max_position;
  in.pnl = pnl;
  return in;
}

// =============================================================================================
// Config

TEST(ModulesConfig, EverythingIsDisabledByDefault) {
  const ModulesConfig c = config({});
  EXPECT_FALSE(c.any_enabled());
  for (std::string_view n : kModuleNames) EXPECT_FALSE(c.enabled(n)) << n;
  Params out;
  append_module_params(c, out);
  EXPECT_TRUE(out.empty());
}

TEST(ModulesConfig, UnknownModuleListsTheKnownOnes) {
  expect_error([] { (void)config({{"imbalanse.enabled", true}}); },
               {"strategy 'glft'", "imbalanse.enabled", "unknown module 'imbalanse'",
                "imbalance, microprice, ofi, tfi, vpin, toxicity, trend, adaptive, funding, sizer, risk"});
}

TEST(ModulesConfig, UnknownKeyListsTheModulesKeys) {
  expect_error([] { (void)config({{"risk.max_loss", 5.0}}); },
               {"unknown key 'max_loss' of module 'risk'", "position_limit", "max_daily_loss",
                "cooldown_s", "flatten"});
}

TEST(ModulesConfig, WrongTypesAndRangesAreRejected) {
  expect_error([] { (void)config({{"imbalance.enabled", 1.0}}); }, {"imbalance.enabled", "expected a bool"});
  expect_error([] { (void)config({{"imbalance.levels", 2.5}}); }, {"imbalance.levels", "integer"});
  expect_error([] { (void)config({{"imbalance.levels", std::int64_t{0}}}); }, {"must be in [1, 1000]"});
  expect_error([] { (void)config({{"vpin.threshold", 1.5}}); }, {"vpin.threshold", "must be in"});
  expect_error([] { (void)config({{"sizer.min_qty", 0.0015}}); }, {"sizer.min_qty", "multiple of the lot"});
  expect_error([] { (void)config({{"adaptive.regime_low_threshold", 2.0}}); },
               {"adaptive.regime_low_threshold", "< regime_high_threshold"});
}

TEST(ModulesConfig, AutoDefaultsAndResolvedParams) {
  const ModulesConfig c = config({{"sizer.enabled", true}, {"risk.enabled", true},
                                  {"vpin.enabled", false}, {"vpin.buckets", std::int64_t{7}}},
                                 /*order_qty=*/2, /*max_position=*/20);
  EXPECT_DOUBLE_EQ(c.get("sizer", "min_qty"), 0.001);  // one lot
  EXPECT_DOUBLE_EQ(c.get("sizer", "max_qty"), 0.008);  // 4 × order_qty
  EXPECT_DOUBLE_EQ(c.get("risk", "position_limit"), 0.016);  // 0.8 × max_position
  EXPECT_DOUBLE_EQ(c.get("vpin", "bucket_volume"), 0.1);     // 50 × order_qty (rate unknown)
  const ModulesConfig r = resolve_modules({}, crypto_spec(), ModuleDefaults{2, 20, 0.05}, "glft");
  EXPECT_DOUBLE_EQ(r.get("vpin", "bucket_volume"), 0.5);     // 10 s × 0.05 / s
  Params out;
  append_module_params(c, out);
  EXPECT_EQ(std::get<bool>(out.at("sizer.enabled")), true);
  EXPECT_DOUBLE_EQ(std::get<double>(out.at("sizer.max_qty")), 0.008);
  EXPECT_EQ(std::get<bool>(out.at("risk.flatten")), true);
  EXPECT_EQ(std::get<bool>(out.at("vpin.enabled")), false);
  EXPECT_EQ(out.count("vpin.buckets"), 0u);  // a disabled module lists only `enabled`
  EXPECT_EQ(out.count("imbalance.enabled"), 0u);
}

TEST(ModulesConfig, TheStrategyFactoryParsesModuleParams) {
  MarketProfile prof;
  prof.median_trade_qty = 2;
  prof.mean_spread = 1;
  prof.trades_per_second = 5;
  const Params p{{"gamma", 0.1}, {"imbalance.enabled", true}, {"imbalance.shift_ticks", 0.5}};
  const auto s = make_strategy("glft", p, crypto_spec(), prof);
  const Params r = s->resolved_params();
  EXPECT_EQ(std::get<bool>(r.at("imbalance.enabled")), true);
  EXPECT_DOUBLE_EQ(std::get<double>(r.at("imbalance.shift_ticks")), 0.5);
  EXPECT_EQ(std::get<std::int64_t>(r.at("imbalance.levels")), 5);
  expect_error([&] { (void)make_strategy("spread-quoter", {{"tox.enabled", true}}, crypto_spec(), prof); },
               {"strategy 'spread-quoter'", "unknown module 'tox'"});
  expect_error([&] { (void)make_strategy("avellaneda-stoikov", {{"risk.cooldown", 1.0}}, crypto_spec(), prof); },
               {"strategy 'avellaneda-stoikov'", "unknown key 'cooldown'"});
}

// configs/modules.toml: every module and key, each value the default unless its comment says
// "example"; the file builds a strategy.
TEST(ModulesConfig, ExampleConfigListsEveryModuleAndKeyWithItsDefault) {
  const char* root = std::getenv("MMKIT_SOURCE_DIR");
  const std::string path = std::string(root ? root : MMKIT_SOURCE_DIR) + "/configs/modules.toml";
  const test::ConfigFile file = test::read_config(path);
  const Params& given = file.modules;
  const std::set<std::string>& examples = file.examples;
  const std::string& name = file.name;
  EXPECT_EQ(name, "glft");
  // All keys with their defaults: every module enabled, nothing else given.
  Params all_on;
  for (std::string_view n : kModuleNames) all_on[std::string(n) + ".enabled"] = true;
  Params defaults;
  append_module_params(config(all_on), defaults);
  for (const auto& [param, def] : defaults) {
    ASSERT_EQ(given.count(param), 1u) << "configs/modules.toml lacks " << param;
    if (param.ends_with(".enabled") || examples.count(param) != 0) continue;
    const ParamValue& v = given.at(param);
    if (const auto* s = std::get_if<std::string>(&v)) {
      EXPECT_EQ(*s, "auto") << param;
      continue;
    }
    const double x = std::holds_alternative<bool>(v)           ? std::get<bool>(v)
                     : std::holds_alternative<std::int64_t>(v) ? static_cast<double>(std::get<std::int64_t>(v))
                                                               : std::get<double>(v);
    const double d = std::holds_alternative<bool>(def)           ? std::get<bool>(def)
                     : std::holds_alternative<std::int64_t>(def) ? static_cast<double>(std::get<std::int64_t>(def))
                                                                 : std::get<double>(def);
    EXPECT_DOUBLE_EQ(x, d) << param << " is not the default";
  }
  for (const auto& [param, v] : given) EXPECT_EQ(defaults.count(param), 1u) << "unknown " << param;
  for (std::string_view n : kModuleNames) {
    const bool on = std::get<bool>(given.at(std::string(n) + ".enabled"));
    EXPECT_EQ(on, examples.count(std::string(n) + ".enabled") == 1) << n;
  }
  MarketProfile prof;
  prof.median_trade_qty = 2;
  prof.mean_spread = 1;
  prof.trades_per_second = 5;
  const auto s = make_strategy(name, given, crypto_spec(), prof);
  EXPECT_EQ(std::get<bool>(s->resolved_params().at("toxicity.enabled")), true);
}

// =============================================================================================
// Quote arithmetic

TEST(ApplyAdjust, ScalesDistancesFromTheModelCenterAndShifts) {
  QuoteAdjust a;
  a.spread_mult = 2;
  a.center_shift_ticks = 1;
  double bid = 96, ask = 104;  // center 100, half-spread 4
  apply_adjust(a, 101, 0.5, bid, ask);
  EXPECT_DOUBLE_EQ(bid, 100.5 - 8);
  EXPECT_DOUBLE_EQ(ask, 100.5 + 8);
  // One side quoted: distances from the mid.
  double b2 = 98, a2 = std::numeric_limits<double>::quiet_NaN();
  apply_adjust(a, 100, 1, b2, a2);
  EXPECT_DOUBLE_EQ(b2, 101 - 4);
  EXPECT_TRUE(std::isnan(a2));
  QuoteAdjust off;
  off.quote_ask = false;
  double b3 = 99, a3 = 101;
  apply_adjust(off, 100, 1, b3, a3);
  EXPECT_DOUBLE_EQ(b3, 99);
  EXPECT_TRUE(std::isnan(a3));
}

TEST(ApplyAdjust, SizesAreLotRoundedDownWithOneLotFloor) {
  EXPECT_EQ(adjusted_size(10, 1.0, 1), 10);
  EXPECT_EQ(adjusted_size(10, 0.55, 2), 4);   // 5.5 → 2 lots of 2
  EXPECT_EQ(adjusted_size(10, 0.01, 2), 2);   // floor at one lot
  EXPECT_EQ(adjusted_size(10, 0.0, 2), 0);    // side off
  EXPECT_EQ(adjusted_size(10, 1.5, 1), 15);
}

TEST(BuildQuoteLevels, PerSideSizesRespectThePositionLimit) {
  QuotingSettings s;
  s.order_qty = 5;
  s.max_position = 10;
  std::vector<QuoteLevel> bids, asks;
  build_quote_levels(99.0, 101.0, 3, 1, book::Level{98, 1, 1}, book::Level{102, 1, 1}, /*pos=*/2, s,
                     crypto_spec(), /*bid_qty=*/3, /*ask_qty=*/7, bids, asks);
  ASSERT_EQ(bids.size(), 3u);  // room 8: 3, 3, 2
  EXPECT_EQ(bids[0].qty, 3);
  EXPECT_EQ(bids[2].qty, 2);
  ASSERT_EQ(asks.size(), 2u);  // room 12: 7, 5
  EXPECT_EQ(asks[0].qty, 7);
  EXPECT_EQ(asks[1].qty, 5);
}

// =============================================================================================
// Order-flow modules

TEST(ImbalanceModule, ShiftsTowardsTheHeavierSideAndSkewsSizes) {
  MockContext ctx(crypto_spec());
  ctx.mbook.set(1000, 30, 1001, 10);  // I = (30 − 10) / 40 = 0.5
  ModulePipeline p(config({{"imbalance.enabled", true}, {"imbalance.half_life_s", 0.0},
                           {"imbalance.shift_ticks", 3.0}, {"imbalance.max_shift_ticks", 1.2},
                           {"imbalance.size_skew", 0.4}}),
                   ctx.spec);
  p.on_book(ctx, ctx.mbook.mid());
  const QuoteAdjust a = p.adjust(ctx, inputs(ctx));
  EXPECT_DOUBLE_EQ(a.center_shift_ticks, 1.2);   // 3 × 0.5 = 1.5 clamped to 1.2
  EXPECT_DOUBLE_EQ(a.bid_size_mult, 1.2);        // 1 + 0.4 × 0.5
  EXPECT_DOUBLE_EQ(a.ask_size_mult, 0.8);
  EXPECT_DOUBLE_EQ(a.spread_mult, 1.0);
}

TEST(MicropriceModule, ShiftIsTheMicropriceOffsetInTicks) {
  MockContext ctx(crypto_spec());
  ctx.mbook.set(1000, 30, 1001, 10);  // micro = (1000·10 + 1001·30)/40 = 1000.75; mid 1000.5
  ModulePipeline p(config({{"microprice.enabled", true}, {"microprice.gain", 2.0},
                           {"microprice.max_shift_ticks", 5.0}}),
                   ctx.spec);
  EXPECT_DOUBLE_EQ(p.adjust(ctx, inputs(ctx)).center_shift_ticks, 0.5);
  ModulePipeline clamped(config({{"microprice.enabled", true}, {"microprice.gain", 2.0},
                                 {"microprice.max_shift_ticks", 0.3}}),
                         ctx.spec);
  EXPECT_DOUBLE_EQ(clamped.adjust(ctx, inputs(ctx)).center_shift_ticks, 0.3);
}

TEST(OfiModule, BidQueueGrowthIsBuyPressure) {
  MockContext ctx(crypto_spec());
  ModulePipeline p(config({{"ofi.enabled", true}, {"ofi.window_s", 10.0}, {"ofi.shift_ticks", 1.0},
                           {"ofi.max_shift_ticks", 100.0}}),
                   ctx.spec);
  ctx.mbook.set(1000, 10, 1001, 10);
  p.on_book(ctx, ctx.mbook.mid());
  ctx.now_ns += kMs;
  ctx.mbook.set(1000, 20, 1001, 10);  // e = 20 − 10 = 10; depths (10+10)/2 = 10, (20+10)/2 = 15
  p.on_book(ctx, ctx.mbook.mid());
  const QuoteAdjust a = p.adjust(ctx, inputs(ctx));
  EXPECT_DOUBLE_EQ(a.center_shift_ticks, 10.0 / 12.5);  // OFI / mean depth
}

TEST(TfiModule, BuyVolumeShiftsUp) {
  MockContext ctx(crypto_spec());
  ctx.mbook.set(1000, 10, 1001, 10);
  ModulePipeline p(config({{"tfi.enabled", true}, {"tfi.shift_ticks", 2.0}, {"tfi.size_skew", 0.5}}),
                   ctx.spec);
  TradeView t;
  t.local_ts_ns = ctx.now_ns;
  t.price = 1001;
  t.qty = 3;
  t.side = kBid;
  p.on_trade(ctx, t, ctx.mbook.mid());
  t.qty = 1;
  t.side = kAsk;
  p.on_trade(ctx, t, ctx.mbook.mid());  // TFI = (3 − 1)/4 = 0.5
  const QuoteAdjust a = p.adjust(ctx, inputs(ctx));
  EXPECT_DOUBLE_EQ(a.center_shift_ticks, 1.0);
  EXPECT_DOUBLE_EQ(a.bid_size_mult, 1.25);
  EXPECT_DOUBLE_EQ(a.ask_size_mult, 0.75);
  ctx.now_ns += 6 * kSec;  // the 5 s window emptied: no adjustment
  EXPECT_DOUBLE_EQ(p.adjust(ctx, inputs(ctx)).center_shift_ticks, 0.0);
}

// =============================================================================================
// Toxicity modules

TEST(VpinModule, OneSidedFlowWidensTheSpreadByTheStatedLaw) {
  MockContext ctx(crypto_spec());
  ctx.mbook.set(1000, 10, 1001, 10);
  ModulePipeline p(config({{"vpin.enabled", true}, {"vpin.bucket_volume", 0.002},
                           {"vpin.buckets", std::int64_t{5}}, {"vpin.threshold", 0.2},
                           {"vpin.gain", 1.0}, {"vpin.max_mult", 3.0}}),
                   ctx.spec);
  // Prices rising every 1 s bar by 1 or 2 ticks, 2 lots (0.002) per bar: after the σ warm-up
  // (20 bars) each bar fills one bucket, classified mostly as buys.
  TradeView t;
  t.qty = 2;
  t.side = kBid;
  Price px = 1000;
  for (int i = 0; i < 40; ++i) {
    px += 1 + (i % 2);
    t.local_ts_ns = ctx.now_ns + i * kSec;
    t.price = px;
    p.on_trade(ctx, t, ctx.mbook.mid());
  }
  ctx.now_ns += 41 * kSec;
  const QuoteAdjust a = p.adjust(ctx, inputs(ctx));
  const Params s = p.summary();
  const double v = std::get<double>(s.at("vpin.last"));
  ASSERT_GE(std::get<std::int64_t>(s.at("vpin.buckets")), 5);
  EXPECT_GT(v, 0.2);
  EXPECT_NEAR(a.spread_mult, std::min(3.0, 1.0 + (v - 0.2) / 0.8), 1e-12);
  EXPECT_NEAR(p.signals().vpin, v, 1e-15);
}

TEST(ToxicityModule, AdverseMarkoutsWidenAndFeedTheSizer) {
  MockContext ctx(crypto_spec());
  ctx.mbook.set(1000, 10, 1002, 10);
  ModulePipeline p(config({{"toxicity.enabled", true}, {"toxicity.horizon_ms", 1000.0},
                           {"toxicity.threshold", 0.5}, {"toxicity.gain", 2.0},
                           {"toxicity.max_mult", 5.0}, {"sizer.enabled", true},
                           {"sizer.toxicity_weight", 0.5}, {"sizer.inventory_weight", 0.0},
                           {"sizer.max_qty", 1.0}}),
                   ctx.spec);
  EXPECT_DOUBLE_EQ(p.adjust(ctx, inputs(ctx)).spread_mult, 1.0);  // no resolved fill yet
  p.on_book(ctx, ctx.mbook.mid());
  Fill f;
  f.side = kBid;
  f.price = 1000;
  f.qty = 1;
  f.bid_at_fill = 1000;
  f.ask_at_fill = 1002;  // spread 2
  p.on_fill(ctx, f, ctx.mbook.mid());
  // 1 s later the mid fell from 1001 to 997: markout −3 = −1.5 spreads → score 1.
  ctx.now_ns += kSec;
  ctx.mbook.set(996, 10, 998, 10);
  p.on_book(ctx, ctx.mbook.mid());
  ctx.now_ns += kMs;
  p.on_book(ctx, ctx.mbook.mid());
  const QuoteAdjust a = p.adjust(ctx, inputs(ctx, /*order_qty=*/10));
  EXPECT_DOUBLE_EQ(p.signals().toxicity, 1.0);
  EXPECT_DOUBLE_EQ(a.spread_mult, 3.0);  // 1 + 2 × (1 − 0.5) / (1 − 0.5)
  EXPECT_EQ(a.order_qty, 5);             // 10 × (1 − 0.5 × 1)
}

// =============================================================================================
// Trend

TEST(TrendModule, ASteadyRiseGivesAnUpBiasAndShiftsUp) {
  MockContext ctx(crypto_spec());
  ModulePipeline p(config({{"trend.enabled", true}, {"trend.shift_ticks", 2.0},
                           {"trend.sample_ms", 1000.0}}),
                   ctx.spec);
  for (int i = 0; i < 60; ++i) {
    ctx.now_ns = kT0 + i * kSec;
    const Price b = 100000 + 10 * i + (i % 3);
    ctx.mbook.set(b, 10, b + 1, 10);
    p.on_book(ctx, ctx.mbook.mid());
  }
  const QuoteAdjust up = p.adjust(ctx, inputs(ctx));
  EXPECT_DOUBLE_EQ(up.center_shift_ticks, 2.0);
  MockContext ctx2(crypto_spec());
  ModulePipeline down(config({{"trend.enabled", true}, {"trend.shift_ticks", 2.0}}), ctx2.spec);
  // QQE starts in its up trend; a rise then a steady fall crosses its long band downwards.
  for (int i = 0; i < 90; ++i) {
    ctx2.now_ns = kT0 + i * kSec;
    const Price b = i < 30 ? 100000 + 10 * i + (i % 3) : 100300 - 10 * (i - 30) - (i % 3);
    ctx2.mbook.set(b, 10, b + 1, 10);
    down.on_book(ctx2, ctx2.mbook.mid());
  }
  EXPECT_DOUBLE_EQ(down.adjust(ctx2, inputs(ctx2)).center_shift_ticks, -2.0);
}

// =============================================================================================
// Adaptive

TEST(InventoryDecay, ShiftGrowsWithAgeAgainstThePositionUpToTheCap) {
  EXPECT_DOUBLE_EQ(inventory_decay_shift(5, 20, 30, 1, 3), 0.0);   // within the grace period
  EXPECT_DOUBLE_EQ(inventory_decay_shift(5, 90, 30, 1, 3), -1.0);  // 60 s past grace at 1/min
  EXPECT_DOUBLE_EQ(inventory_decay_shift(-5, 90, 30, 2, 3), 2.0);
  EXPECT_DOUBLE_EQ(inventory_decay_shift(5, 1000, 30, 1, 3), -3.0);
  EXPECT_DOUBLE_EQ(inventory_decay_shift(0, 1000, 30, 1, 3), 0.0);
}

TEST(FillRateController, TooFewFillsTightenTooManyWidenWithinBounds) {
  FillRateController few(/*target=*/6, /*gain=*/0.5, 0.5, 2.0, 60 * kSec);
  few.advance(0);
  few.on_fill();                  // 1 fill/min vs 6
  few.advance(60 * kSec);
  EXPECT_EQ(few.updates(), 1u);
  EXPECT_DOUBLE_EQ(few.last_rate_per_min(), 1.0);
  EXPECT_NEAR(few.multiplier(), std::exp(0.5 * (1.0 - 6.0) / 6.0), 1e-12);
  EXPECT_LT(few.multiplier(), 1.0);
  for (int i = 2; i < 20; ++i) few.advance(i * 60 * kSec);  // no fills at all
  EXPECT_DOUBLE_EQ(few.multiplier(), 0.5);
  FillRateController many(6, 0.5, 0.5, 2.0, 60 * kSec);
  many.advance(0);
  for (int i = 0; i < 12; ++i) many.on_fill();
  many.advance(60 * kSec);
  EXPECT_NEAR(many.multiplier(), std::exp(0.5), 1e-12);
  for (int k = 2; k < 10; ++k) {
    for (int i = 0; i < 60; ++i) many.on_fill();
    many.advance(k * 60 * kSec);
  }
  EXPECT_DOUBLE_EQ(many.multiplier(), 2.0);
}

TEST(AdaptiveModule, StalePositionLeansTheQuotesAndRegimeStartsMedium) {
  MockContext ctx(crypto_spec());
  ctx.mbook.set(1000, 10, 1001, 10);
  ModulePipeline p(config({{"adaptive.enabled", true}, {"adaptive.decay_grace_s", 10.0},
                           {"adaptive.decay_ticks_per_min", 6.0}, {"adaptive.decay_max_ticks", 4.0},
                           {"adaptive.medium_spread_mult", 1.1}, {"adaptive.medium_size_mult", 0.5}}),
                   ctx.spec);
  p.on_book(ctx, ctx.mbook.mid());
  EXPECT_DOUBLE_EQ(p.adjust(ctx, inputs(ctx)).center_shift_ticks, 0.0);
  ctx.pos = 3;
  Fill f;
  p.on_fill(ctx, f, ctx.mbook.mid());  // the position's age starts now
  ctx.now_ns += 30 * kSec;             // 20 s past grace at 6 ticks/min: 2 ticks down
  const QuoteAdjust a = p.adjust(ctx, inputs(ctx));
  EXPECT_DOUBLE_EQ(a.center_shift_ticks, -2.0);
  EXPECT_DOUBLE_EQ(a.spread_mult, 1.1);  // medium regime × controller 1
  EXPECT_DOUBLE_EQ(a.bid_size_mult, 0.5);
  EXPECT_DOUBLE_EQ(a.ask_size_mult, 0.5);
  ctx.pos = -1;  // sign change restarts the age
  p.on_fill(ctx, f, ctx.mbook.mid());
  EXPECT_DOUBLE_EQ(p.adjust(ctx, inputs(ctx)).center_shift_ticks, 0.0);
}

// =============================================================================================
// Funding

TEST(FundingModule, SizesBySignAndFreezeWindowBeforeSettlement) {
  MockContext ctx(crypto_spec());
  ctx.mbook.set(1000, 10, 1001, 10);
  ModulePipeline p(config({{"funding.enabled", true}, {"funding.fallback_rate", 0.00005},
                           {"funding.fallback_interval_h", 8.0}, {"funding.rate_scale", 0.0001},
                           {"funding.max_size_skew", 0.5}, {"funding.freeze_before_s", 30.0},
                           {"funding.freeze_after_s", 5.0}}),
                   ctx.spec);
  ctx.now_ns = kMidnight - 31 * kSec;
  QuoteAdjust a = p.adjust(ctx, inputs(ctx));
  EXPECT_FALSE(a.freeze);
  EXPECT_DOUBLE_EQ(a.bid_size_mult, 0.75);  // s = 0.5: longs pay, fewer bids
  EXPECT_DOUBLE_EQ(a.ask_size_mult, 1.25);
  const Params s = p.summary();
  EXPECT_DOUBLE_EQ(std::get<double>(s.at("funding.apr")), 0.00005 * 3 * 365);
  EXPECT_TRUE(std::get<bool>(s.at("funding.available")));
  EXPECT_DOUBLE_EQ(std::get<double>(s.at("funding.seconds_to_next")), 31.0);
  ctx.now_ns = kMidnight - 30 * kSec;
  EXPECT_TRUE(p.adjust(ctx, inputs(ctx)).freeze);
  ctx.now_ns = kMidnight - 1;
  EXPECT_TRUE(p.adjust(ctx, inputs(ctx)).freeze);
  ctx.now_ns = kMidnight + 4 * kSec;  // within freeze_after_s of the settlement
  EXPECT_TRUE(p.adjust(ctx, inputs(ctx)).freeze);
  ctx.now_ns = kMidnight + 5 * kSec;
  EXPECT_FALSE(p.adjust(ctx, inputs(ctx)).freeze);
  EXPECT_EQ(std::get<std::int64_t>(p.summary().at("funding.settlements_seen")), 1);

  ModulePipeline neg(config({{"funding.enabled", true}, {"funding.fallback_rate", -0.0003},
                             {"funding.fallback_interval_h", 8.0}}),
                     ctx.spec);
  a = neg.adjust(ctx, inputs(ctx));
  EXPECT_DOUBLE_EQ(a.bid_size_mult, 1.5);  // s clamped to −1: shorts pay, more bids
  EXPECT_DOUBLE_EQ(a.ask_size_mult, 0.5);
}

TEST(FundingModule, UsesTheEnginesFundingOverTheFallback) {
  MockContext ctx(crypto_spec());
  ctx.mbook.set(1000, 10, 1001, 10);
  ctx.fund.available = true;
  ctx.fund.rate = -0.00005;
  ctx.fund.interval_ns = 4 * 3600 * kSec;
  ctx.fund.next_funding_ts = kT0 + 100 * kSec;
  ModulePipeline p(config({{"funding.enabled", true}, {"funding.fallback_rate", 0.001},
                           {"funding.fallback_interval_h", 8.0}}),
                   ctx.spec);
  const QuoteAdjust a = p.adjust(ctx, inputs(ctx));
  EXPECT_DOUBLE_EQ(a.bid_size_mult, 1.25);  // s = −0.5
  EXPECT_DOUBLE_EQ(a.ask_size_mult, 0.75);
  EXPECT_FALSE(a.freeze);
  const Params s = p.summary();
  EXPECT_DOUBLE_EQ(std::get<double>(s.at("funding.apr")), -0.00005 * 6 * 365);
  EXPECT_DOUBLE_EQ(std::get<double>(s.at("funding.seconds_to_next")), 100.0);
  ctx.now_ns = kT0 + 71 * kSec;  // default freeze_before_s = 30
  EXPECT_TRUE(p.adjust(ctx, inputs(ctx)).freeze);
  ctx.fund = FundingInfo{};  // none: no adjustment at all from the engine, fallback used
  ctx.now_ns = kT0;
  EXPECT_DOUBLE_EQ(p.adjust(ctx, inputs(ctx)).bid_size_mult, 0.5);  // fallback 0.001 → s = 1
}

TEST(FundingModule, FreezeCancelsRestingQuotesInTheStrategy) {
  MockContext ctx(crypto_spec());
  ctx.mbook.set(10000, 10, 10004, 10);
  SpreadQuoterParams sp;
  sp.quoting.order_qty = 0.002;
  sp.quoting.max_position = 0.02;
  sp.min_spread_ticks = 2;
  sp.vol_multiplier = 0;
  sp.quoting.modules = {{"funding.enabled", true}, {"funding.fallback_interval_h", 8.0},
                        {"funding.fallback_rate", 0.0}, {"funding.freeze_before_s", 10.0}};
  SpreadQuoter q(sp, ctx.spec, MarketProfile{});
  ctx.now_ns = kMidnight - 20 * kSec;
  q.on_book_update(ctx);
  ASSERT_EQ(ctx.orders.size(), 2u);
  EXPECT_EQ(ctx.orders[0].price, 10001);
  ctx.now_ns = kMidnight - 5 * kSec;
  q.on_book_update(ctx);
  EXPECT_TRUE(ctx.orders.empty());
  EXPECT_TRUE(q.wanted_bids().empty());
  ctx.now_ns = kMidnight + kSec;  // next settlement 8 h away: quoting again
  q.on_book_update(ctx);
  EXPECT_EQ(ctx.orders.size(), 2u);
}

// =============================================================================================
// Sizer

TEST(SizerModule, CapsAndInventoryFactor) {
  MockContext ctx(crypto_spec());
  ctx.mbook.set(1000, 10, 1001, 10);
  ModulePipeline big(config({{"sizer.enabled", true}, {"sizer.min_qty", 0.003}, {"sizer.max_qty", 0.006}}),
                     ctx.spec);
  EXPECT_EQ(big.adjust(ctx, inputs(ctx, /*order_qty=*/50)).order_qty, 6);  // capped at max
  EXPECT_EQ(big.adjust(ctx, inputs(ctx, /*order_qty=*/1)).order_qty, 3);   // raised to min
  EXPECT_EQ(big.adjust(ctx, inputs(ctx, /*order_qty=*/4)).order_qty, 4);
  // Drawdown: 1 − dd / limit with a floor.
  ModulePipeline dd(config({{"sizer.enabled", true}, {"sizer.max_qty", 1.0}, {"sizer.drawdown_limit", 100.0},
                            {"sizer.drawdown_floor", 0.25}, {"sizer.inventory_weight", 0.0}}),
                    ctx.spec);
  EXPECT_EQ(dd.adjust(ctx, inputs(ctx, 40, 400, /*pnl=*/50)).order_qty, 40);
  EXPECT_EQ(dd.adjust(ctx, inputs(ctx, 40, 400, /*pnl=*/0)).order_qty, 20);    // dd 50: × 0.5
  EXPECT_EQ(dd.adjust(ctx, inputs(ctx, 40, 400, /*pnl=*/-500)).order_qty, 10); // floor 0.25
  // Inventory: long half the max shrinks the bids by w × 0.5.
  ctx.pos = 10;
  const QuoteAdjust a = big.adjust(ctx, inputs(ctx, 4, 20));
  EXPECT_DOUBLE_EQ(a.bid_size_mult, 0.5);
  EXPECT_DOUBLE_EQ(a.ask_size_mult, 1.0);
}

TEST(SizerModule, FillRateAboveTargetShrinksSize) {
  MockContext ctx(crypto_spec());
  ctx.mbook.set(1000, 10, 1001, 10);
  ModulePipeline p(config({{"sizer.enabled", true}, {"sizer.max_qty", 1.0}, {"sizer.fill_target_per_min", 1.0},
                           {"sizer.fill_window_s", 60.0}, {"sizer.fill_min_factor", 0.1},
                           {"sizer.inventory_weight", 0.0}}),
                   ctx.spec);
  Fill f;
  for (int i = 0; i < 4; ++i) p.on_fill(ctx, f, 1000.5);  // 4 fills/min vs 1
  EXPECT_EQ(p.adjust(ctx, inputs(ctx, 40)).order_qty, 10);
  ctx.now_ns += 61 * kSec;  // out of the window
  EXPECT_EQ(p.adjust(ctx, inputs(ctx, 40)).order_qty, 40);
}

// =============================================================================================
// Risk manager

TEST(RiskModule, StateMachineWithCooldownAndTransitionCounts) {
  MockContext ctx(crypto_spec());
  ctx.mbook.set(1000, 10, 1001, 10);
  ModulePipeline p(config({{"risk.enabled", true}, {"risk.position_limit", 0.005},
                           {"risk.max_drawdown", 10.0}, {"risk.cooldown_s", 60.0}}),
                   ctx.spec);
  QuoteAdjust a = p.adjust(ctx, inputs(ctx, 2, 20, 0.0));
  EXPECT_EQ(p.risk_state(), RiskState::kSafe);
  EXPECT_TRUE(a.identity());
  ctx.pos = 5;  // at the limit: only asks
  a = p.adjust(ctx, inputs(ctx, 2, 20, 5.0));
  EXPECT_EQ(p.risk_state(), RiskState::kPositionLimit);
  EXPECT_FALSE(a.quote_bid);
  EXPECT_TRUE(a.quote_ask);
  ctx.pos = 0;
  a = p.adjust(ctx, inputs(ctx, 2, 20, 5.0));
  EXPECT_EQ(p.risk_state(), RiskState::kSafe);
  a = p.adjust(ctx, inputs(ctx, 2, 20, -5.0));  // drawdown 10 from the peak 5
  EXPECT_EQ(p.risk_state(), RiskState::kCircuitBreak);
  EXPECT_TRUE(a.kill);
  EXPECT_TRUE(a.freeze);
  ctx.now_ns += 59 * kSec;  // still cooling down, even if PnL recovered
  a = p.adjust(ctx, inputs(ctx, 2, 20, 100.0));
  EXPECT_EQ(p.risk_state(), RiskState::kCircuitBreak);
  EXPECT_TRUE(a.kill);
  ctx.now_ns += kSec;  // cooldown over: peak reset, back to SAFE
  a = p.adjust(ctx, inputs(ctx, 2, 20, 100.0));
  EXPECT_EQ(p.risk_state(), RiskState::kSafe);
  EXPECT_FALSE(a.kill);
  const Params s = p.summary();
  EXPECT_EQ(std::get<std::int64_t>(s.at("risk.to_position_limit")), 1);
  EXPECT_EQ(std::get<std::int64_t>(s.at("risk.to_safe")), 2);
  EXPECT_EQ(std::get<std::int64_t>(s.at("risk.to_circuit_break")), 1);
  EXPECT_EQ(std::get<std::string>(s.at("risk.state")), "SAFE");
}

TEST(RiskModule, DailyLossAndErrorCountBreak) {
  MockContext ctx(crypto_spec());
  ctx.mbook.set(1000, 10, 1001, 10);
  ModulePipeline loss(config({{"risk.enabled", true}, {"risk.max_daily_loss", 20.0}}), ctx.spec);
  (void)loss.adjust(ctx, inputs(ctx, 2, 20, 50.0));  // day starts at PnL 50
  (void)loss.adjust(ctx, inputs(ctx, 2, 20, 31.0));
  EXPECT_EQ(loss.risk_state(), RiskState::kSafe);
  (void)loss.adjust(ctx, inputs(ctx, 2, 20, 30.0));
  EXPECT_EQ(loss.risk_state(), RiskState::kCircuitBreak);

  ModulePipeline errs(config({{"risk.enabled", true}, {"risk.max_errors", std::int64_t{2}},
                              {"risk.error_window_s", 10.0}, {"risk.flatten", false}}),
                      ctx.spec);
  OrderUpdate u;
  u.kind = OrderEventKind::kRejected;
  u.reason = RejectReason::kPostOnlyWouldCross;  // routine: not an error
  u.local_ts_ns = ctx.now_ns;
  errs.on_order_update(ctx, u);
  errs.on_order_update(ctx, u);
  (void)errs.adjust(ctx, inputs(ctx));
  EXPECT_EQ(errs.risk_state(), RiskState::kSafe);
  u.reason = RejectReason::kRiskMaxNotional;
  errs.on_order_update(ctx, u);
  ctx.now_ns += 11 * kSec;  // the first error left the window
  u.local_ts_ns = ctx.now_ns;
  errs.on_order_update(ctx, u);
  (void)errs.adjust(ctx, inputs(ctx));
  EXPECT_EQ(errs.risk_state(), RiskState::kSafe);
  errs.on_order_update(ctx, u);
  const QuoteAdjust a = errs.adjust(ctx, inputs(ctx));
  EXPECT_EQ(errs.risk_state(), RiskState::kCircuitBreak);
  EXPECT_FALSE(a.kill);  // flatten = false: cancel only
  EXPECT_TRUE(a.freeze);
}

// =============================================================================================
// Engine runs

engine::EngineConfig zero_latency() {
  engine::EngineConfig c = test::zero_latency();
  c.timer_interval_ns = 10 * kMs;
  c.sample_interval_ns = 10 * kMs;
  return c;
}

TEST(KillSwitch, DailyLossBreachCancelsAndFlattensInAnEngineRun) {
  // Book 99.98 / 100.02; the quoter (2-tick spread, no skew) bids 99.99 and offers 100.01. A sell
  // execution at 99.98 goes through our bid: long 1 at 99.99. The bid side then drops to 99.50
  // (mid 99.76, loss 0.23 > 0.10): circuit break, cancel, IOC market sell 1 at 99.50.
  const TimestampNs t = kT0;
  std::vector<Event> evs = {
      make_event(EventKind::kAdd, t, kBid, 9998, 10, 1),
      make_event(EventKind::kAdd, t, kAsk, 10002, 10, 2),
      make_event(EventKind::kExecution, t + 10 * kMs, kBid, 9998, 5, 1),
      make_event(EventKind::kAdd, t + 20 * kMs, kBid, 9950, 10, 3),
      make_event(EventKind::kCancel, t + 30 * kMs, kBid, 9998, 5, 1),
      make_event(EventKind::kAdd, t + 200 * kMs, kAsk, 10003, 1, 4),
      make_event(EventKind::kAdd, t + 400 * kMs, kAsk, 10004, 1, 5),
  };
  SpreadQuoterParams sp;
  sp.quoting.order_qty = 1;
  sp.quoting.max_position = 10;
  sp.quoting.min_requote_interval_ms = 0;
  sp.min_spread_ticks = 2;
  sp.vol_multiplier = 0;
  sp.skew_per_lot = 0;
  sp.quoting.modules = {{"risk.enabled", true}, {"risk.max_daily_loss", 0.10}, {"risk.cooldown_s", 60.0}};
  const InstrumentSpec spec = test::cents_spec();
  auto strat = std::make_unique<SpreadQuoter>(sp, spec, MarketProfile{});
  SpreadQuoter* q = strat.get();
  engine::Engine e(std::make_unique<test::VectorSource>(evs, spec, data::BookLevel::kL3), std::move(strat), zero_latency());
  e.run();
  const auto& r = e.result();
  ASSERT_EQ(r.fills.size(), 2u);
  EXPECT_EQ(r.fills[0].fill.side, kBid);
  EXPECT_EQ(r.fills[0].fill.price, 9999);
  EXPECT_EQ(r.fills[1].fill.side, kAsk);
  EXPECT_FALSE(r.fills[1].fill.maker);
  EXPECT_EQ(r.fills[1].fill.price, 9950);
  EXPECT_EQ(e.position(), 0);
  EXPECT_EQ(q->flatten_orders(), 1u);
  EXPECT_EQ(q->modules().risk_state(), RiskState::kCircuitBreak);
  // No quote after the break: every submitted limit order predates the flatten order.
  bool market_seen = false;
  for (const auto& o : r.orders) {
    if (o.update.kind != OrderEventKind::kSubmitted) continue;
    if (o.update.price == kNoPrice || o.update.price == 0) market_seen = true;
    else EXPECT_FALSE(market_seen) << "limit order after the kill at " << o.update.price;
  }
  EXPECT_TRUE(market_seen);
  const Params s = r.strategy_summary;
  EXPECT_EQ(std::get<std::int64_t>(s.at("risk.to_circuit_break")), 1);
  EXPECT_EQ(std::get<std::int64_t>(s.at("modules.flatten_orders")), 1);
}

TEST(KillSwitch, FlattenOrdersAreCappedAndTheRestFollowsAtTheNextRequotes) {
  // As above with 3-lot quotes and flatten_max_qty = 1: the sell print of 5 through our 99.99 bid
  // fills all 3 lots; after the break the position is flattened by three market sells of 1 lot,
  // one per requote (one flatten order in flight at a time).
  const TimestampNs t = kT0;
  std::vector<Event> evs = {
      make_event(EventKind::kAdd, t, kBid, 9998, 10, 1),
      make_event(EventKind::kAdd, t, kAsk, 10002, 10, 2),
      make_event(EventKind::kExecution, t + 10 * kMs, kBid, 9998, 5, 1),
      make_event(EventKind::kAdd, t + 20 * kMs, kBid, 9950, 10, 3),
      make_event(EventKind::kCancel, t + 30 * kMs, kBid, 9998, 5, 1),
      make_event(EventKind::kAdd, t + 200 * kMs, kAsk, 10003, 1, 4),
      make_event(EventKind::kAdd, t + 400 * kMs, kAsk, 10004, 1, 5),
      make_event(EventKind::kAdd, t + 600 * kMs, kAsk, 10005, 1, 6),
      make_event(EventKind::kAdd, t + 800 * kMs, kAsk, 10006, 1, 7),
  };
  SpreadQuoterParams sp;
  sp.quoting.order_qty = 3;
  sp.quoting.max_position = 10;
  sp.quoting.min_requote_interval_ms = 0;
  sp.min_spread_ticks = 2;
  sp.vol_multiplier = 0;
  sp.skew_per_lot = 0;
  sp.quoting.modules = {{"risk.enabled", true}, {"risk.max_daily_loss", 0.10}, {"risk.cooldown_s", 60.0},
                        {"risk.flatten_max_qty", 1.0}};
  const InstrumentSpec spec = test::cents_spec();
  auto strat = std::make_unique<SpreadQuoter>(sp, spec, MarketProfile{});
  SpreadQuoter* q = strat.get();
  engine::Engine e(std::make_unique<test::VectorSource>(evs, spec, data::BookLevel::kL3), std::move(strat), zero_latency());
  e.run();
  const auto& r = e.result();
  ASSERT_EQ(r.fills.size(), 4u);
  EXPECT_EQ(r.fills[0].fill.side, kBid);
  EXPECT_EQ(r.fills[0].fill.qty, 3);
  for (std::size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(r.fills[i].fill.side, kAsk);
    EXPECT_FALSE(r.fills[i].fill.maker);
    EXPECT_EQ(r.fills[i].fill.qty, 1) << "flatten fill " << i;
  }
  EXPECT_EQ(e.position(), 0);
  EXPECT_EQ(q->flatten_orders(), 3u);
}

engine::BacktestResult synthetic_run(const Params& params) {
  sim::SyntheticMarketConfig sc;
  sc.duration_s = 300;
  sc.seed = 11;
  auto src = sim::make_synthetic_market(sc);
  MarketProfile prof;
  prof.median_trade_qty = 5;
  prof.mean_spread = 2;
  prof.trades_per_second = 1;
  auto strat = make_strategy("glft", params, src->instrument(), prof);
  engine::EngineConfig c;
  c.feed_latency.mode = exchange::FeedLatencyConfig::Mode::kConstant;
  c.feed_latency.constant_ns = kMs;
  c.order_latency = std::make_unique<exchange::ConstantOrderLatency>(kMs, kMs);
  engine::Engine e(std::move(src), std::move(strat), std::move(c));
  e.run();
  return e.result();
}

TEST(DisabledModules, ChangeNothing) {
  const Params base{{"order_qty", std::int64_t{5}}, {"max_position", std::int64_t{50}}};
  Params off = base;
  for (std::string_view n : kModuleNames) off[std::string(n) + ".enabled"] = false;
  off["imbalance.shift_ticks"] = 3.0;  // ignored while disabled
  const auto a = synthetic_run(base);
  const auto b = synthetic_run(off);
  ASSERT_GT(a.fills.size(), 10u);
  ASSERT_EQ(a.fills.size(), b.fills.size());
  for (std::size_t i = 0; i < a.fills.size(); ++i) {
    EXPECT_EQ(a.fills[i].fill.price, b.fills[i].fill.price);
    EXPECT_EQ(a.fills[i].fill.qty, b.fills[i].fill.qty);
    EXPECT_EQ(a.fills[i].fill.local_ts_ns, b.fills[i].fill.local_ts_ns);
  }
  ASSERT_EQ(a.orders.size(), b.orders.size());
  for (std::size_t i = 0; i < a.orders.size(); ++i) {
    EXPECT_EQ(a.orders[i].update.price, b.orders[i].update.price);
    EXPECT_EQ(a.orders[i].update.local_ts_ns, b.orders[i].update.local_ts_ns);
  }
  EXPECT_EQ(a.metrics.total_pnl, b.metrics.total_pnl);  // bit-identical
  EXPECT_EQ(a.metrics.sharpe, b.metrics.sharpe);
  EXPECT_EQ(a.metrics.inventory_std, b.metrics.inventory_std);
  EXPECT_TRUE(a.strategy_summary.empty());
  EXPECT_TRUE(b.strategy_summary.empty());
}

TEST(EnabledModules, ChangeTheRunAndReportTheirCounters) {
  const Params base{{"order_qty", std::int64_t{5}}, {"max_position", std::int64_t{50}}};
  Params on = base;
  on["imbalance.enabled"] = true;
  on["imbalance.size_skew"] = 0.5;
  on["risk.enabled"] = true;
  const auto a = synthetic_run(base);
  const auto b = synthetic_run(on);
  EXPECT_NE(a.metrics.total_pnl, b.metrics.total_pnl);
  EXPECT_EQ(b.strategy_summary.count("imbalance.last"), 1u);
  EXPECT_EQ(b.strategy_summary.count("risk.state"), 1u);
  EXPECT_EQ(std::get<bool>(b.strategy_params.at("imbalance.enabled")), true);
}

}  // namespace
}  // namespace mmkit::strategy
