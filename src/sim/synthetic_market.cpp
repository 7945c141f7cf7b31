#include "mmkit/sim/synthetic_market.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "mmkit/core/error.h"
#include "mmkit/exchange/models.h"
#include "mmkit/sim/hawkes.h"

// Floating-point determinism (src/sim/det_math.h). In Poisson mode every branch of the
// generator is taken on integers (rates are fixed-point, see kUnitsPerSecond; events are picked by
// Rng::below); doubles appear only in the exponential waiting times and geometric sizes, through
// FastLog / det::log. The Hawkes intensities and the regime chain are doubles computed with
// + - * / and det_exp_neg / FastLog only, so their comparisons are reproducible bit for bit too.
#include "det_math.h"
#include "level_book.h"

namespace mmkit::sim {
namespace {

using Units = std::uint64_t;

/// Rates are held as integer multiples of 2^-24 per second ("units"), so the total rate, the
/// per-side cancel rates and the pick of an event are exact integer arithmetic, identical on
/// every platform. A rate is rounded to the nearest unit (6e-8 /s).
constexpr double kUnitsPerSecond = 16777216.0;  // 2^24
/// Seconds per unit-rate waiting time, in ns: 2^24 × 10^9 = 2^33 × 1953125, exact in a double.
constexpr double kNsPerUnitRate = kUnitsPerSecond * 1e9;
constexpr double kMaxRate = 1e5;       ///< per second; keeps Σ θ × orders far from 2^64 units
constexpr double kMinCancelRate = 1e-6;  ///< per second; a cancel rate must be at least this
constexpr std::uint32_t kMaxDistance = 100'000;
constexpr std::uint64_t kMaxOpeningOrders = 1'000'000;  // with θ <= kMaxRate: Σθ < 2^61 units
constexpr double kMaxMeanOrderSize = 1e9;
constexpr double kMaxDurationS = 1e9;

using level_book::kAsk;
using level_book::kBid;
using level_book::kNil;

using det::kLn2Hi;
using det::kLn2Lo;

/// ln x for a normal x > 0 on the hot path: x = 2^e · m, m in [1, 2) split into 128 bins by its
/// top 7 mantissa bits; bin j has a centre c_j (halved, with e + 1, above √2 so that values near 1
/// stay near 1; c = 1 exactly in the first and the last bin) and ln x = e·ln 2 + ln c_j +
/// 2 atanh(s), s = (m − c_j)/(m + c_j), |s| < 1/256, series to s^7 (relative error < 1e-19 before
/// rounding). ln c_j comes from det::log. Gives exactly 0 at x = 1 and a negative value just below.
class FastLog {
 public:
  FastLog() {
    for (int j = 0; j < kBins; ++j) {
      double c = 1.0 + (static_cast<double>(j) + 0.5) / kBins;
      int eadj = 0;
      double scale = 1.0;
      if (j == 0) c = 1.0;
      if (c >= 1.41421356237309504880) {
        c = j == kBins - 1 ? 1.0 : c * 0.5;
        eadj = 1;
        scale = 0.5;
      }
      bins_[j] = Bin{c, det::log(c), scale, static_cast<double>(eadj)};
    }
  }

  MMKIT_DET_FP_INLINE double operator()(double x) const noexcept {
    MMKIT_DET_FP_BODY
    const auto bits = std::bit_cast<std::uint64_t>(x);
    const auto e = static_cast<double>(static_cast<int>((bits >> 52) & 0x7FF) - 1023);
    const double m = std::bit_cast<double>((bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull);
    const Bin& b = bins_[(bits >> 45) & (kBins - 1)];
    const double mm = m * b.scale;
    const double s = (mm - b.c) / (mm + b.c);
    const double s2 = s * s;
    const double series = 2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0))));
    const double ee = e + b.eadj;
    return ee * kLn2Hi + (ee * kLn2Lo + (b.log_c + series));
  }

 private:
  static constexpr int kBins = 128;
  struct Bin {
    double c, log_c, scale, eadj;
  };
  Bin bins_[kBins];
};

const FastLog& fast_log() {
  static const FastLog table;
  return table;
}

/// Waiting time in ns, rounded, of a Poisson process of total rate `total` units: −ln(1−u)/rate,
/// u uniform in [0, 1).
MMKIT_DET_FP std::int64_t waiting_ns(const FastLog& ln, double u, Units total) noexcept {
  MMKIT_DET_FP_BODY
  const double w = -ln(1.0 - u) * kNsPerUnitRate / static_cast<double>(total);
  return w > 0 ? static_cast<std::int64_t>(w + 0.5) : 0;
}

/// Geometric size on {1, 2, …} by inversion: 1 + ⌊ln(1−u) / ln q⌋, u uniform in [0, 1), q < 1 the
/// continuation probability (P(size > k) = q^k).
MMKIT_DET_FP std::int64_t geometric(const FastLog& ln, double u, double log_q) noexcept {
  MMKIT_DET_FP_BODY
  const double k = ln(1.0 - u) / log_q;
  return 1 + (k > 0 ? static_cast<std::int64_t>(k) : 0);
}


/// "Never": a time beyond any run (duration <= 10^9 s = 10^18 ns).
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
/// Waiting times at or beyond this many ns are "never" (no int64 overflow when added to a time).
constexpr double kFarNs = 4e18;

/// e^x for x <= 0 on the hot path (the Hawkes kernels' decay), with + - * / and integer
/// conversions only: x = k ln 2 + r, k = round(x / ln 2) (ties up), |r| <= ln2 / 2, e^r by its
/// Taylor polynomial of degree 13 (remainder < 5e-18 relative; Estrin's scheme), times 2^k built from its bits
/// (exact). Returns 0 below −708 (no subnormals).
MMKIT_DET_FP_INLINE double det_exp_neg(double x) noexcept {
  MMKIT_DET_FP_BODY
  if (!(x >= -708.0)) return 0.0;
  const auto k = static_cast<std::int64_t>(x * 1.44269504088896340736 - 0.5);  // toward 0: ceil
  const auto kf = static_cast<double>(k);
  const double r = (x - kf * kLn2Hi) - kf * kLn2Lo;
  constexpr double c2 = 1.0 / 2, c3 = c2 / 3, c4 = c3 / 4, c5 = c4 / 5, c6 = c5 / 6, c7 = c6 / 7, c8 = c7 / 8,
                   c9 = c8 / 9, c10 = c9 / 10, c11 = c10 / 11, c12 = c11 / 12, c13 = c12 / 13;
  // Estrin's scheme (independent products: a short dependency chain).
  const double r2 = r * r;
  const double r4 = r2 * r2;
  const double r8 = r4 * r4;
  const double a01 = 1.0 + r, a23 = c2 + c3 * r, a45 = c4 + c5 * r, a67 = c6 + c7 * r;
  const double a89 = c8 + c9 * r, a1011 = c10 + c11 * r, a1213 = c12 + c13 * r;
  const double b03 = a01 + r2 * a23, b47 = a45 + r2 * a67, b811 = a89 + r2 * a1011;
  const double p = (b03 + r4 * b47) + r8 * (b811 + r4 * a1213);
  return p * std::bit_cast<double>(static_cast<std::uint64_t>(k + 1023) << 52);  // k in [-1022, 0]
}

/// Waiting time in ns, rounded, of a Poisson process of rate `rate` per second (> 0):
/// −ln(1−u) / rate, u uniform in [0, 1); kNever when it is beyond kFarNs.
MMKIT_DET_FP std::int64_t waiting_ns_at(const FastLog& ln, double u, double rate) noexcept {
  MMKIT_DET_FP_BODY
  const double w = -ln(1.0 - u) * 1e9 / rate;
  if (!(w < kFarNs)) return kNever;
  return w > 0 ? static_cast<std::int64_t>(w + 0.5) : 0;
}

/// now + wait, kNever stays kNever.
std::int64_t after(std::int64_t now, std::int64_t wait) noexcept { return wait == kNever ? kNever : now + wait; }

/// Solves (I − a) x = b for the d × d row-major `a` by Gaussian elimination with partial pivoting
/// (the stationary mean intensity of a Hawkes process, Λ = (I − α)^{-1} μ). Only + - * / and
/// comparisons: the same bits everywhere.
MMKIT_DET_FP std::vector<double> solve_i_minus(std::vector<double> a, std::vector<double> b,
                                                             std::size_t d) {
  MMKIT_DET_FP_BODY
  for (std::size_t q = 0; q < d * d; ++q) a[q] = (q / d == q % d ? 1.0 : 0.0) - a[q];
  for (std::size_t c = 0; c < d; ++c) {
    std::size_t piv = c;
    for (std::size_t r = c + 1; r < d; ++r) {
      if (std::fabs(a[r * d + c]) > std::fabs(a[piv * d + c])) piv = r;
    }
    if (piv != c) {
      for (std::size_t k = 0; k < d; ++k) std::swap(a[c * d + k], a[piv * d + k]);
      std::swap(b[c], b[piv]);
    }
    for (std::size_t r = c + 1; r < d; ++r) {
      const double f = a[r * d + c] / a[c * d + c];
      for (std::size_t k = c; k < d; ++k) a[r * d + k] -= f * a[c * d + k];
      b[r] -= f * b[c];
    }
  }
  std::vector<double> x(d);
  for (std::size_t c = d; c-- > 0;) {
    double s = b[c];
    for (std::size_t k = c + 1; k < d; ++k) s -= a[c * d + k] * x[k];
    x[c] = s / a[c * d + c];
  }
  return x;
}

Units to_units(double rate_per_s) {
  return static_cast<Units>(std::llround(rate_per_s * kUnitsPerSecond));
}

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string index_str(std::size_t i) {
  std::string s(1, '[');
  s += std::to_string(i);
  s += ']';
  return s;
}

[[noreturn]] void bad(const std::string& field, const std::string& what) {
  throw Error(SourceLocation("synthetic market config", 0, field), what);
}

void check_rate(const std::string& field, double v, double lo) {
  if (!std::isfinite(v) || v < lo || v > kMaxRate) {
    bad(field, "must be a finite rate in [" + num(lo) + ", " + num(kMaxRate) +
                   "] per second, got " + num(v));
  }
}

constexpr std::size_t kMaxRegimes = 64;
constexpr double kMaxHawkesBeta = 1e9;  ///< per second: the clock resolves 1 ns

/// Ranges of a regime's multipliers against the base parameters (rates stay within the
/// generator's limits in every regime).
void validate_regimes(const SyntheticMarketConfig& c) {
  const std::size_t n = c.regimes.size();
  if (n == 0) {
    if (!c.regime_transition.empty()) bad("regime_transition", "given without regimes");
    if (!c.initial_regime.empty()) bad("initial_regime", "given without regimes");
    return;
  }
  if (n > kMaxRegimes) bad("regimes", "at most " + std::to_string(kMaxRegimes) + " regimes, got " + std::to_string(n));
  for (std::size_t r = 0; r < n; ++r) {
    const RegimeParams& g = c.regimes[r];
    const std::string at = "regimes" + index_str(r) + ".";
    if (g.name.empty() || g.name.size() > 23) {
      bad(at + "name", "must have 1 to 23 characters, got " + std::to_string(g.name.size()));
    }
    for (std::size_t q = 0; q < r; ++q) {
      if (c.regimes[q].name == g.name) bad(at + "name", "'" + g.name + "' is also the name of regimes" + index_str(q));
    }
    auto mult = [&](const char* field, double v, bool positive) {
      if (!std::isfinite(v) || v < 0 || (positive && v == 0)) {
        bad(at + field, std::string("must be a finite multiplier ") + (positive ? "> 0" : ">= 0") + ", got " + num(v));
      }
    };
    mult("limit_rate_multiplier", g.limit_rate_multiplier, false);
    mult("market_rate_multiplier", g.market_rate_multiplier, false);
    mult("cancel_rate_multiplier", g.cancel_rate_multiplier, true);
    mult("size_multiplier", g.size_multiplier, true);
    if (c.limit_rates.empty()) {
      check_rate(at + "limit_rate_multiplier", c.limit_rate_k * g.limit_rate_multiplier, 0.0);
    } else {
      for (double l : c.limit_rates) check_rate(at + "limit_rate_multiplier", l * g.limit_rate_multiplier, 0.0);
    }
    check_rate(at + "market_rate_multiplier", c.market_rate * g.market_rate_multiplier, 0.0);
    check_rate(at + "limit_rate_multiplier", c.join_rate * g.limit_rate_multiplier, 0.0);
    if (c.improver_cancel_rate != 0) {
      check_rate(at + "cancel_rate_multiplier", c.improver_cancel_rate * g.cancel_rate_multiplier, kMinCancelRate);
    }
    for (double th : c.cancel_rates) check_rate(at + "cancel_rate_multiplier", th * g.cancel_rate_multiplier, kMinCancelRate);
    for (std::uint32_t i = flow_type::kMarketBuy; i <= flow_type::kLimitAsk; ++i) {  // Hawkes baselines
      const bool market = i <= flow_type::kMarketSell;
      check_rate(at + (market ? "market_rate_multiplier" : "limit_rate_multiplier"),
                 c.hawkes_mu[i] * (market ? g.market_rate_multiplier : g.limit_rate_multiplier), 0.0);
    }
    const std::pair<const char*, double> means[] = {{"mean_order_size", c.mean_order_size},
                                                    {"mean_market_order_size", c.mean_market_order_size}};
    for (const auto& [key, mean] : means) {
      const double size = mean * g.size_multiplier;
      if (mean != 0 && !(size >= 1 && size <= kMaxMeanOrderSize)) {
        bad(at + "size_multiplier", std::string(key) + " × size_multiplier must be in [1, " + num(kMaxMeanOrderSize) +
                                        "] lots, got " + num(size));
      }
    }
    check_rate(at + "tick_move_rate", g.tick_move_rate, 0.0);
  }
  if (c.regime_transition.size() != n) {
    bad("regime_transition", "must be a " + std::to_string(n) + " × " + std::to_string(n) +
                                 " matrix of rates per second (one row per regime), got " +
                                 std::to_string(c.regime_transition.size()) + " rows");
  }
  for (std::size_t r = 0; r < n; ++r) {
    const auto& row = c.regime_transition[r];
    const std::string at = "regime_transition" + index_str(r);
    if (row.size() != n) {
      bad(at, "must have " + std::to_string(n) + " entries, got " + std::to_string(row.size()));
    }
    double out = 0;
    for (std::size_t q = 0; q < n; ++q) {
      if (q == r) continue;
      check_rate(at + index_str(q), row[q], 0.0);
      out += row[q];
    }
    const double diag = row[r];
    if (!(diag == 0 || std::fabs(diag + out) <= 1e-9 * std::max(out, 1e-300))) {
      bad(at + index_str(r), "the diagonal must be 0 or minus the row's off-diagonal sum (" + num(-out) + "), got " +
                                 num(diag));
    }
  }
  if (!c.initial_regime.empty()) {
    bool found = false;
    for (const RegimeParams& g : c.regimes) found = found || g.name == c.initial_regime;
    if (!found) bad("initial_regime", "'" + c.initial_regime + "' is not the name of a regime");
  }
}

void validate_hawkes(const SyntheticMarketConfig& c) {
  constexpr std::size_t d = flow_type::kCount;
  if (c.hawkes_mu.size() != d) {
    bad("hawkes_mu", "must hold 6 baseline rates (market buy, market sell, limit bid, limit ask, cancel bid, "
                     "cancel ask), got " + std::to_string(c.hawkes_mu.size()));
  }
  HawkesParams p{c.hawkes_mu, c.hawkes_alpha, c.hawkes_beta};
  try {
    p.validate();
  } catch (const Error& e) {
    bad("hawkes_" + e.where().field, e.what_only());
  }
  for (std::size_t i = 0; i < d; ++i) {
    check_rate("hawkes_mu" + index_str(i), c.hawkes_mu[i], i >= flow_type::kCancelBid ? kMinCancelRate : 0.0);
    for (std::size_t j = 0; j < d; ++j) {
      if (c.hawkes_beta[i][j] > kMaxHawkesBeta) {
        bad("hawkes_beta" + index_str(i) + index_str(j),
            "must be at most " + num(kMaxHawkesBeta) + " per second, got " + num(c.hawkes_beta[i][j]));
      }
    }
  }
}

void validate(const SyntheticMarketConfig& c) {
  if (c.symbol.empty() || c.symbol.size() > 23) {
    bad("symbol", "must have 1 to 23 characters, got " + std::to_string(c.symbol.size()));
  }
  if (c.price_decimals < 0 || c.price_decimals > 18) {
    bad("price_decimals", "must be in [0, 18], got " + std::to_string(c.price_decimals));
  }
  if (c.tick_size <= 0) bad("tick_size", "must be > 0 raw units, got " + std::to_string(c.tick_size));
  if (c.max_distance < 1 || c.max_distance > kMaxDistance) {
    bad("max_distance", "must be in [1, " + std::to_string(kMaxDistance) + "] ticks, got " +
                            std::to_string(c.max_distance));
  }
  if (c.initial_mid <= 0) bad("initial_mid", "must be > 0 raw units, got " + std::to_string(c.initial_mid));
  // Best bid = the grid price just below initial_mid; the opening book needs max_distance bid
  // levels at prices >= one tick.
  const std::int64_t below = c.initial_mid % c.tick_size == 0 ? c.initial_mid / c.tick_size - 1
                                                              : c.initial_mid / c.tick_size;
  if (below < static_cast<std::int64_t>(c.max_distance)) {
    bad("initial_mid", "must leave max_distance (" + std::to_string(c.max_distance) +
                           ") bid levels above zero: need initial_mid > " +
                           std::to_string(static_cast<std::int64_t>(c.max_distance) * c.tick_size) +
                           " raw units, got " + std::to_string(c.initial_mid));
  }
  if (c.initial_mid > std::numeric_limits<std::int64_t>::max() / 4) {
    bad("initial_mid", "too large: " + std::to_string(c.initial_mid));
  }
  check_rate("limit_rate_k", c.limit_rate_k, 0.0);
  if (!std::isfinite(c.limit_rate_alpha) || c.limit_rate_alpha < 0 || c.limit_rate_alpha > 10) {
    bad("limit_rate_alpha", "must be in [0, 10], got " + num(c.limit_rate_alpha));
  }
  if (!c.limit_rates.empty()) {
    if (c.limit_rates.size() != c.max_distance) {
      bad("limit_rates", "must hold one rate λ(i) per second per side for each distance i = 1..max_distance (" +
                             std::to_string(c.max_distance) + "), got " + std::to_string(c.limit_rates.size()));
    }
    for (std::size_t i = 0; i < c.limit_rates.size(); ++i) {
      const double v = c.limit_rates[i];
      if (!std::isfinite(v) || v <= 0 || v > kMaxRate) {
        bad("limit_rates" + index_str(i), "must be a finite rate in (0, " + num(kMaxRate) +
                                              "] per second (distance " + std::to_string(i + 1) + "), got " + num(v));
      }
    }
  }
  check_rate("market_rate", c.market_rate, 0.0);
  check_rate("join_rate", c.join_rate, 0.0);
  if (c.improver_cancel_rate != 0) check_rate("improver_cancel_rate", c.improver_cancel_rate, kMinCancelRate);
  if (!(c.improver_fleeting_share > 0 && c.improver_fleeting_share <= 1)) {
    bad("improver_fleeting_share", "must be in (0, 1], got " + num(c.improver_fleeting_share));
  }
  if (c.cancel_rates.empty()) bad("cancel_rates", "must hold at least one rate θ(1) per second");
  for (std::size_t i = 0; i < c.cancel_rates.size(); ++i) {
    check_rate("cancel_rates[" + std::to_string(i) + "]", c.cancel_rates[i], kMinCancelRate);
  }
  if (!std::isfinite(c.mean_order_size) || c.mean_order_size < 1 ||
      c.mean_order_size > kMaxMeanOrderSize) {
    bad("mean_order_size", "must be in [1, " + num(kMaxMeanOrderSize) + "] lots, got " +
                               num(c.mean_order_size));
  }
  if (!std::isfinite(c.mean_market_order_size) ||
      (c.mean_market_order_size != 0 && (c.mean_market_order_size < 1 || c.mean_market_order_size > kMaxMeanOrderSize))) {
    bad("mean_market_order_size", "must be 0 (= mean_order_size) or in [1, " + num(kMaxMeanOrderSize) +
                                      "] lots, got " + num(c.mean_market_order_size));
  }
  if (2ull * c.max_distance * c.opening_orders_per_level > kMaxOpeningOrders) {
    bad("opening_orders_per_level", "2 × max_distance × opening_orders_per_level must be <= " +
                                        std::to_string(kMaxOpeningOrders) + ", got " +
                                        std::to_string(2ull * c.max_distance * c.opening_orders_per_level));
  }
  if (!std::isfinite(c.duration_s) || c.duration_s <= 0 || c.duration_s > kMaxDurationS) {
    bad("duration_s", "must be in (0, " + num(kMaxDurationS) + "] seconds, got " + num(c.duration_s));
  }
  if (c.start_ns < 0) bad("start_ns", "must be >= 0 ns since the epoch, got " + std::to_string(c.start_ns));
  if (c.feed_latency_ns < 0) {
    bad("feed_latency_ns", "must be >= 0 ns, got " + std::to_string(c.feed_latency_ns));
  }
  const auto duration_ns = static_cast<std::int64_t>(std::llround(c.duration_s * 1e9));
  if (c.start_ns > std::numeric_limits<std::int64_t>::max() - duration_ns - c.feed_latency_ns) {
    bad("start_ns", "start_ns + duration + feed_latency_ns overflows int64 ns");
  }
  if (c.flow != FlowModel::kPoisson && c.flow != FlowModel::kHawkes) {
    bad("flow", "must be poisson or hawkes, got " + std::to_string(static_cast<int>(c.flow)));
  }
  validate_hawkes(c);
  validate_regimes(c);
}

// ---------------------------------------------------------------------------------------------

struct Node {
  OrderId id = 0;
  Qty qty = 0;  // remaining lots
  std::uint32_t next = kNil;  // towards the back of the queue; free-list link when free
  bool improver = false;      // placed inside the spread: cancels at θ_I (improver_cancel_rate > 0)
};
/// One price level of the ring; count == 0 means empty (head/tail meaningless).
struct Level {
  std::int64_t tick = 0;
  std::uint32_t head = kNil;
  std::uint32_t tail = kNil;
  std::uint32_t count = 0;
  std::uint32_t improvers = 0;  // orders of the level with Node::improver
};
/// `best` stays at the last best price when the side empties (the reference of the other
/// side's limit orders, see docs/synthetic_market.md).
struct BookSide : level_book::SideTicks {
  Units cancel = 0;  // Σ over resting orders of θ(distance), units
};

class Generator final : public SyntheticMarket,
                        private level_book::LevelBook<Level, Node, BookSide>,
                        private level_book::EventOutput {
 public:
  explicit Generator(const SyntheticMarketConfig& c)
      : cfg_(c),
        spec_(level_book::generated_instrument(c.symbol, "SYNTHETIC", c.price_decimals, c.tick_size)),
        rng_(c.seed),
        end_ns_(std::llround(c.duration_s * 1e9)) {

    // Cont, Stoikov, Talreja (2010), eq. (4): λ(i) = k / i^α, i.e. k × shape(i); with the explicit
    // table, k = λ(1) and shape(i) = λ(i) / λ(1).
    std::vector<double> shape(c.max_distance);
    if (c.limit_rates.empty()) {
      for (std::uint32_t i = 1; i <= c.max_distance; ++i) {
        shape[i - 1] = det::exp(-c.limit_rate_alpha * det::log(static_cast<double>(i)));
      }
    } else {
      for (std::uint32_t i = 0; i < c.max_distance; ++i) shape[i] = c.limit_rates[i] / c.limit_rates[0];
    }
    const RegimeParams neutral{"base", 1, 1, 1, 1, 0};
    if (c.regimes.empty()) {
      tables_.push_back(make_tables(neutral, shape));
    } else {
      for (const RegimeParams& g : c.regimes) tables_.push_back(make_tables(g, shape));
      for (std::size_t r = 0; r < c.regimes.size(); ++r) {
        if (c.regimes[r].name == c.initial_regime) regime_ = static_cast<std::uint32_t>(r);
      }
    }
    tab_ = &tables_[regime_];

    if (c.flow == FlowModel::kHawkes) init_hawkes(shape);

    init_book(4ull * c.max_distance + 64,
              std::max<std::size_t>(256, 4ull * c.max_distance * c.opening_orders_per_level));

    // Opening quotes: the grid prices just below and just above initial_mid.
    const std::int64_t t = c.tick_size;
    const std::int64_t bid = c.initial_mid % t == 0 ? c.initial_mid / t - 1 : c.initial_mid / t;
    side_[kBid].best = bid;
    side_[kAsk].best = c.initial_mid / t + 1;

    if (!c.regimes.empty()) {
      regime_path_.push_back(RegimeSpell{c.start_ns, regime_});
      schedule_switch();
    }
  }

  const InstrumentSpec& instrument() const override { return spec_; }
  data::BookLevel book_level() const override { return data::BookLevel::kL3; }
  std::uint64_t records() const override { return record_; }
  const data::Counters& tolerated() const override { return tolerated_; }
  std::string format() const override { return "synthetic"; }
  std::string locate(std::uint64_t record) const override {
    return "synthetic market (symbol " + cfg_.symbol + ", seed " + std::to_string(cfg_.seed) +
           ") record " + std::to_string(record) + (record == 0 ? " (opening book)" : "");
  }
  const std::vector<RegimeSpell>& regime_path() const override { return regime_path_; }
  std::uint32_t regime() const override { return regime_; }

  std::size_t read(Event* out, std::size_t capacity) override {
    begin_read(out, capacity);
    while (n_ < cap_ && !done_) step();
    return n_;
  }

 private:
  /// The rates of one regime (the base parameters when regimes are off), in units.
  struct Tables {
    std::vector<Units> lambda_cum;  // Σ_{j<=i} λ(j), units; index i-1 for distance i
    Units limit_units = 0;          // Σ λ(i), one side
    Units market_units = 0;         // μ, one side
    std::vector<Units> theta;       // θ(i), units
    double log_q = 0;               // ln(1 − 1/mean size); 0 when the mean is 1
    double market_log_q = 0;        // the same for market orders
    Units tick_move_units = 0;      // tick moves, one side (half the regime's rate)
    Units join_units = 0;           // λ_J, one side
    Units theta_improver = 0;       // θ_I; 0 when improvers are off
    double hawkes_mu[flow_type::kCount] = {};  // Hawkes baselines (cancel types: as configured)
    double tick_move_per_side = 0;  // per second, Hawkes mode
  };

  Tables make_tables(const RegimeParams& g, const std::vector<double>& shape) const {
    Tables t;
    t.lambda_cum.resize(shape.size());
    Units cum = 0;
    const double k = cfg_.limit_rates.empty() ? cfg_.limit_rate_k : cfg_.limit_rates[0];
    for (std::size_t i = 0; i < shape.size(); ++i) {
      const double li = cfg_.limit_rates.empty() ? k * shape[i] : cfg_.limit_rates[i];
      cum += to_units(li * g.limit_rate_multiplier);
      t.lambda_cum[i] = cum;
    }
    t.limit_units = cum;
    t.market_units = to_units(cfg_.market_rate * g.market_rate_multiplier);
    t.theta.resize(cfg_.cancel_rates.size());
    for (std::size_t i = 0; i < t.theta.size(); ++i) {
      t.theta[i] = to_units(cfg_.cancel_rates[i] * g.cancel_rate_multiplier);
    }
    const double p = 1.0 / (cfg_.mean_order_size * g.size_multiplier);  // geometric on {1, 2, …}, mean 1/p
    t.log_q = p >= 1.0 ? 0.0 : det::log(1.0 - p);
    if (cfg_.mean_market_order_size == 0) {
      t.market_log_q = t.log_q;
    } else {
      const double pm = 1.0 / (cfg_.mean_market_order_size * g.size_multiplier);
      t.market_log_q = pm >= 1.0 ? 0.0 : det::log(1.0 - pm);
    }
    t.tick_move_units = to_units(g.tick_move_rate * 0.5);
    t.join_units = to_units(cfg_.join_rate * g.limit_rate_multiplier);
    t.theta_improver = cfg_.improver_cancel_rate > 0 ? to_units(cfg_.improver_cancel_rate * g.cancel_rate_multiplier) : 0;
    for (std::uint32_t i = 0; i < flow_type::kCount; ++i) {
      const double m = i <= flow_type::kMarketSell ? g.market_rate_multiplier
                       : i <= flow_type::kLimitAsk ? g.limit_rate_multiplier
                                                   : 1.0;
      t.hawkes_mu[i] = cfg_.hawkes_mu[i] * m;
    }
    t.tick_move_per_side = g.tick_move_rate * 0.5;
    return t;
  }

  // ---- rates ----

  /// θ(d) in units for an order of side s at `tick`; d = ticks from the other side's best (its
  /// last best when empty), >= 1; θ(d) = cancel_rates[d-1], the last value beyond the list.
  Units theta(int s, std::int64_t tick) const {
    const std::int64_t anchor = side_[1 - s].best;
    const std::int64_t d = s == kBid ? anchor - tick : tick - anchor;
    const auto& th = tab_->theta;
    const std::size_t i = static_cast<std::size_t>(std::clamp<std::int64_t>(d, 1, static_cast<std::int64_t>(th.size())));
    return th[i - 1];
  }

  /// Σ of the cancel rates of level l of side s at `tick`: θ(d) per ordinary order, θ_I per
  /// improver.
  Units level_cancel(int s, std::int64_t tick, const Level& l) const {
    return theta(s, tick) * (l.count - l.improvers) + tab_->theta_improver * l.improvers;
  }

  void recompute_cancel(int s) {
    BookSide& b = side_[s];
    Units total = 0;
    if (!b.empty) {
      const std::int64_t dir = s == kBid ? -1 : 1;
      for (std::int64_t p = b.best;; p += dir) {
        const Level& l = level(p);
        if (l.count != 0) total += level_cancel(s, p, l);
        if (p == b.worst) break;
      }
    }
    b.cancel = total;
  }

  // ---- book operations (the matching engine) ----

  /// Queues a new order last at (s, tick). The caller guarantees it does not cross.
  OrderId add_order(int s, std::int64_t tick, Qty qty, bool improver = false) {
    ensure_room(tick);
    const OrderId id = next_id_++;
    const std::uint32_t n = alloc_node();
    nodes_[n] = Node{id, qty, kNil, improver};
    Level& l = level(tick);
    if (l.count == 0) {
      l = Level{tick, n, n, 1, improver ? 1u : 0u};
    } else {
      nodes_[l.tail].next = n;
      l.tail = n;
      ++l.count;
      if (improver) ++l.improvers;
    }
    widen(s, tick);
    side_[s].cancel += improver ? tab_->theta_improver : theta(s, tick);
    return id;
  }

  /// Level (s, tick) just became empty: moves best / worst inwards, or marks the side empty
  /// (best keeps the last best price).
  void level_emptied(int s, std::int64_t tick) {
    if (vacate(s, tick)) side_[s].cancel = 0;
  }

  // ---- output ----

  Event* emit(EventKind kind, int s, std::int64_t tick, Qty qty, OrderId id) {
    return put(kind, s, cfg_.start_ns + now_ns_, cfg_.feed_latency_ns, tick * cfg_.tick_size, qty, id, record_);
  }

  static void end_record(Event* last) {
    if (last != nullptr) last->flags |= event_flags::kEndOfRecord | event_flags::kComplete;
  }

  // ---- the generator ----

  /// Geometric size on {1, 2, …} with mean mean_order_size × the regime's size_multiplier lots.
  Qty draw_size() { return tab_->log_q == 0.0 ? 1 : geometric(ln_, rng_.uniform(), tab_->log_q); }
  /// The same with the market order mean (mean_market_order_size, or mean_order_size when 0).
  Qty draw_market_size() {
    return tab_->market_log_q == 0.0 ? 1 : geometric(ln_, rng_.uniform(), tab_->market_log_q);
  }

  void opening_book() {
    Event* last = nullptr;
    for (int s = 0; s < 2; ++s) {
      const std::int64_t start = side_[s].best;
      for (std::uint32_t i = 0; i < cfg_.max_distance; ++i) {
        const std::int64_t tick = s == kBid ? start - i : start + i;
        for (std::uint32_t k = 0; k < cfg_.opening_orders_per_level; ++k) {
          const Qty q = draw_size();
          const OrderId id = add_order(s, tick, q);
          last = emit(EventKind::kAdd, s, tick, q, id);
          last->flags = event_flags::kSnapshot;
        }
      }
    }
    recompute_cancel(kBid);
    recompute_cancel(kAsk);
    end_record(last);
  }

  /// A limit order of side s at distance i ticks, picked by x in [0, cum.back()) from the
  /// cumulative distance weights `cum`.
  void limit_order(int s, Units x, const std::vector<Units>& cum) {
    const auto it = std::upper_bound(cum.begin(), cum.end(), x);
    const auto i = static_cast<std::int64_t>(it - cum.begin()) + 1;  // distance, ticks
    const std::int64_t anchor = side_[1 - s].best;
    std::int64_t tick = s == kBid ? anchor - i : anchor + i;
    // The distance is >= 1 tick from the other side's best, so it never crosses; guard anyway.
    if (!side_[1 - s].empty) {
      tick = s == kBid ? std::min(tick, side_[kAsk].best - 1) : std::max(tick, side_[kBid].best + 1);
    }
    // Joins on: the own best's arrivals are the join events (λ_J), not λ(i) (thinning).
    if (joins_on_ && !side_[s].empty && tick == side_[s].best) return;
    const Qty q = draw_size();
    if (tick < 1) {
      tolerated_.add("synthetic.limit_orders_at_nonpositive_price");
      return;
    }
    const bool improver = tab_->theta_improver != 0 && !side_[s].empty &&
                          (s == kBid ? tick > side_[s].best : tick < side_[s].best) &&
                          (cfg_.improver_fleeting_share >= 1 || rng_.uniform() < cfg_.improver_fleeting_share);
    const OrderId id = add_order(s, tick, q, improver);
    end_record(emit(EventKind::kAdd, s, tick, q, id));
  }

  /// A join: a limit order of side s at its own best (the last best while the side is empty,
  /// moved back one tick inside the other side's best if it would cross).
  void join_order(int s) {
    std::int64_t tick = side_[s].best;
    if (!side_[1 - s].empty) {
      tick = s == kBid ? std::min(tick, side_[kAsk].best - 1) : std::max(tick, side_[kBid].best + 1);
    }
    const Qty q = draw_size();
    if (tick < 1) {
      tolerated_.add("synthetic.limit_orders_at_nonpositive_price");
      return;
    }
    const OrderId id = add_order(s, tick, q);
    end_record(emit(EventKind::kAdd, s, tick, q, id));
  }

  /// Market order of the aggressor side whose resting side is `s`, of a geometric size.
  void market_order(int s) {
    if (side_[s].empty) {
      tolerated_.add("synthetic.market_orders_on_empty_side");
      return;
    }
    take(s, draw_market_size());
  }

  /// A tick move: a market order taking every order at the best level of side s.
  void tick_move(int s) {
    if (side_[s].empty) {
      tolerated_.add("synthetic.tick_moves_on_empty_side");
      return;
    }
    Qty q = 0;
    for (std::uint32_t n = level(side_[s].best).head; n != kNil; n = nodes_[n].next) q += nodes_[n].qty;
    take(s, q);
  }

  /// Walks side s (not empty) from its best for q lots, FIFO within each level, one kExecution
  /// per resting order hit.
  void take(int s, Qty q) {
    BookSide& b = side_[s];
    Event* last = nullptr;
    while (q > 0 && !b.empty) {
      const std::int64_t tick = b.best;
      Level& l = level(tick);
      const std::uint32_t n = l.head;
      Node& node = nodes_[n];
      const Qty x = std::min(q, node.qty);
      last = emit(EventKind::kExecution, s, tick, x, node.id);
      q -= x;
      node.qty -= x;
      if (node.qty == 0) {
        if (node.improver) {
          b.cancel -= tab_->theta_improver;
          --l.improvers;
        } else {
          b.cancel -= theta(s, tick);
        }
        l.head = node.next;
        --l.count;
        free_node(n);
        if (l.count == 0) level_emptied(s, tick);
      }
    }
    if (q > 0) tolerated_.add("synthetic.market_qty_beyond_book", static_cast<std::uint64_t>(q));
    end_record(last);
  }

  /// Cancels the resting order of side s picked with probability θ(d)/Σθ: x uniform in
  /// [0, side_[s].cancel) selects the level (walking from the best) and the order in it.
  void cancel_order(int s, Units x) {
    BookSide& b = side_[s];
    const std::int64_t away = s == kBid ? -1 : 1;
    for (std::int64_t p = b.best;; p += away) {
      Level& l = level(p);
      if (l.count != 0) {
        const Units th_ordinary = theta(s, p);
        const Units w_ordinary = th_ordinary * (l.count - l.improvers);
        const Units w = w_ordinary + tab_->theta_improver * l.improvers;
        if (x < w) {
          // The k-th ordinary order (x < w_ordinary) or the k-th improver, in queue order.
          const bool improver = !(x < w_ordinary);
          const Units th = improver ? tab_->theta_improver : th_ordinary;
          auto k = static_cast<std::uint32_t>((improver ? x - w_ordinary : x) / th);
          std::uint32_t prev = kNil;
          std::uint32_t n = l.head;
          while (nodes_[n].improver != improver) {
            prev = n;
            n = nodes_[n].next;
          }
          for (; k > 0; --k) {
            do {
              prev = n;
              n = nodes_[n].next;
            } while (nodes_[n].improver != improver);
          }
          const Node node = nodes_[n];
          if (improver) --l.improvers;
          if (prev == kNil) {
            l.head = node.next;
          } else {
            nodes_[prev].next = node.next;
          }
          if (l.tail == n) l.tail = prev;
          --l.count;
          free_node(n);
          b.cancel -= th;
          end_record(emit(EventKind::kCancel, s, p, node.qty, node.id));
          if (l.count == 0) level_emptied(s, p);
          return;
        }
        x -= w;
      }
      if (p == b.worst) break;
    }
    throw Error(locate(record_) + ": internal error: cancel pick beyond the side's cancel rate");
  }

  // ---- volatility regimes: a continuous-time Markov chain over tables_ ----

  /// Draws the time of leaving the current regime: exponential at the row's total rate.
  void schedule_switch() {
    const double q = leave_rate_.empty() ? 0.0 : leave_rate_[regime_];
    next_switch_ns_ = q > 0 ? after(now_ns_, waiting_ns_at(ln_, rng_.uniform(), q)) : kNever;
  }

  /// At now_ns_ == next_switch_ns_: jumps to regime q with probability Q[r][q] / Σ_{q≠r} Q[r][q],
  /// records the spell, installs its rates and draws the next switch.
  MMKIT_DET_FP void switch_regime() {
    MMKIT_DET_FP_BODY
    const auto& row = cfg_.regime_transition[regime_];
    const double x = rng_.uniform() * leave_rate_[regime_];
    double cum = 0;
    std::uint32_t next = regime_;
    for (std::uint32_t q = 0; q < row.size(); ++q) {
      if (q == regime_ || row[q] <= 0) continue;
      next = q;  // the last candidate also takes the rounding remainder
      cum += row[q];
      if (x < cum) break;
    }
    regime_ = next;
    tab_ = &tables_[regime_];
    regime_path_.push_back(RegimeSpell{cfg_.start_ns + now_ns_, regime_});
    recompute_cancel(kBid);
    recompute_cancel(kAsk);
    schedule_switch();
  }

  // ---- Hawkes flow ----

  void init_hawkes(const std::vector<double>& shape) {
    constexpr std::size_t d = flow_type::kCount;
    dist_cum_.resize(shape.size());
    Units cum = 0;
    for (std::size_t i = 0; i < shape.size(); ++i) {
      cum += to_units(shape[i]);  // the distance law λ(i)/k; shape(1) = 1, so the total is >= 2^24
      dist_cum_[i] = cum;
    }
    // Joins: one more "distance" of weight λ_J / λ(1) at the end: the join event.
    if (cfg_.join_rate > 0) {
      const double k = cfg_.limit_rates.empty() ? cfg_.limit_rate_k : cfg_.limit_rates[0];
      cum += to_units(k > 0 ? cfg_.join_rate / k : 0.0);
      dist_cum_.push_back(cum);
    }
    for (std::size_t i = 0; i < d; ++i) {
      for (std::size_t j = 0; j < d; ++j) {
        const double b = cfg_.hawkes_beta[i][j];
        const auto it = std::find(decay_rate_.begin(), decay_rate_.end(), b);
        group_[i][j] = static_cast<std::uint32_t>(it - decay_rate_.begin());
        if (it == decay_rate_.end()) decay_rate_.push_back(b);
        jump_[i][j] = cfg_.hawkes_alpha[i][j] * b;
      }
    }
    groups_ = decay_rate_.size();
    // Cancels: per-order rate θ(d) × h_c(t) / Λ_c, Λ = (I − α)^{-1} μ the stationary mean.
    std::vector<double> a(d * d);
    for (std::size_t i = 0; i < d; ++i) {
      for (std::size_t j = 0; j < d; ++j) a[i * d + j] = cfg_.hawkes_alpha[i][j];
    }
    const std::vector<double> mean = solve_i_minus(a, cfg_.hawkes_mu, d);
    cancel_scale_[kBid] = 1.0 / (mean[flow_type::kCancelBid] * kUnitsPerSecond);
    cancel_scale_[kAsk] = 1.0 / (mean[flow_type::kCancelAsk] * kUnitsPerSecond);
  }

  /// Decays the excitation from hawkes_t_ns_ to t (>= hawkes_t_ns_).
  MMKIT_DET_FP void hawkes_advance(std::int64_t t) {
    MMKIT_DET_FP_BODY
    if (t == hawkes_t_ns_) return;
    const double dt = static_cast<double>(t - hawkes_t_ns_) * 1e-9;
    hawkes_t_ns_ = t;
    double* e = excitation_.data();
    if (groups_ == 1) {  // one decay rate (the usual case)
      const double f = det_exp_neg(-decay_rate_[0] * dt);
      for (std::size_t i = 0; i < flow_type::kCount; ++i) {
        const double v = e[i] * f;
        e[i] = v < 1e-250 ? 0.0 : v;
      }
      return;
    }
    double f[kMaxGroups];
    for (std::size_t k = 0; k < groups_; ++k) f[k] = det_exp_neg(-decay_rate_[k] * dt);
    for (std::size_t q = 0; q < flow_type::kCount * groups_; ++q) {
      const double v = e[q] * f[q % groups_];
      e[q] = v < 1e-250 ? 0.0 : v;
    }
  }

  /// The eight competing intensities per second at the current state: the six flow types (cancel
  /// types: Σθ(d) over the side's orders × h_c / Λ_c) and the two tick-move directions (buy,
  /// sell). Returns their sum; r[k] in the order of flow_type, then tick move buy, sell.
  MMKIT_DET_FP double hawkes_rates(double* r) const {
    MMKIT_DET_FP_BODY
    double h[flow_type::kCount];
    const double* e = excitation_.data();
    const double* mu = tab_->hawkes_mu;
    if (groups_ == 1) {
      for (std::size_t i = 0; i < flow_type::kCount; ++i) h[i] = mu[i] + e[i];
    } else {
      for (std::size_t i = 0; i < flow_type::kCount; ++i) {
        double v = mu[i];
        for (std::size_t k = 0; k < groups_; ++k) v += e[i * groups_ + k];
        h[i] = v;
      }
    }
    r[0] = h[flow_type::kMarketBuy];
    r[1] = h[flow_type::kMarketSell];
    r[2] = h[flow_type::kLimitBid];
    r[3] = h[flow_type::kLimitAsk];
    r[4] = static_cast<double>(side_[kBid].cancel) * cancel_scale_[kBid] * h[flow_type::kCancelBid];
    r[5] = static_cast<double>(side_[kAsk].cancel) * cancel_scale_[kAsk] * h[flow_type::kCancelAsk];
    r[6] = tab_->tick_move_per_side;
    r[7] = tab_->tick_move_per_side;
    double total = 0;
    for (int k = 0; k < 8; ++k) total += r[k];
    return total;
  }

  /// A limit-type arrival in Hawkes mode: a distance by dist_cum_, or a join (its last entry when
  /// joins are on).
  void hawkes_limit(int s) {
    const Units x = rng_.below(dist_cum_.back());
    if (dist_cum_.size() > cfg_.max_distance && !(x < dist_cum_[cfg_.max_distance - 1])) {
      join_order(s);
    } else {
      limit_order(s, x, dist_cum_);
    }
  }

  /// An arrival of flow type j excites every type i by α_ij β_ij (additions only).
  void excite(std::uint32_t j) {
    for (std::size_t i = 0; i < flow_type::kCount; ++i) excitation_[i * groups_ + group_[i][j]] += jump_[i][j];
  }

  /// Advances to the regime switch at next_switch_ns_ and performs it.
  void hawkes_switch() {
    hawkes_advance(next_switch_ns_);
    now_ns_ = next_switch_ns_;
    switch_regime();
    double r[8];
    bound_ = hawkes_rates(r);
  }

  /// One record by Ogata (1981) thinning, or a regime switch, or the end. Every intensity decays
  /// between events (the Hawkes terms towards their baselines; the cancel sums Σθ and the
  /// tick-move rates are constant), so the total just after the last event, switch or rejected
  /// candidate (bound_) bounds the total until the next one. The floating-point work that could
  /// be contracted into FMA is in hawkes_advance / hawkes_rates / waiting_ns_at; here only single
  /// products, sums and comparisons.
  void step_hawkes() {
    double r[8];
    for (;;) {
      if (!(bound_ > 0)) {
        if (next_switch_ns_ <= end_ns_) {
          hawkes_switch();
        } else {
          done_ = true;
        }
        return;
      }
      const std::int64_t t = after(now_ns_, waiting_ns_at(ln_, rng_.uniform(), bound_));
      if (t > next_switch_ns_ && next_switch_ns_ <= end_ns_) {
        hawkes_switch();
        return;
      }
      if (t > end_ns_) {
        done_ = true;
        return;
      }
      hawkes_advance(t);
      now_ns_ = t;
      const double total = hawkes_rates(r);
      const double x = rng_.uniform() * bound_;
      if (!(x < total)) {
        bound_ = total;
        continue;
      }
      int k = 0;
      double cum = r[0];
      while (k < 7 && !(x < cum)) cum += r[++k];
      const std::int64_t best_bid = side_[kBid].best;
      const std::int64_t best_ask = side_[kAsk].best;
      switch (k) {
        case 0: market_order(kAsk); excite(flow_type::kMarketBuy); break;
        case 1: market_order(kBid); excite(flow_type::kMarketSell); break;
        case 2: hawkes_limit(kBid); excite(flow_type::kLimitBid); break;
        case 3: hawkes_limit(kAsk); excite(flow_type::kLimitAsk); break;
        case 4: cancel_order(kBid, rng_.below(side_[kBid].cancel)); excite(flow_type::kCancelBid); break;
        case 5: cancel_order(kAsk, rng_.below(side_[kAsk].cancel)); excite(flow_type::kCancelAsk); break;
        case 6: tick_move(kAsk); excite(flow_type::kMarketBuy); break;
        default: tick_move(kBid); excite(flow_type::kMarketSell); break;
      }
      if (side_[kBid].best != best_bid) recompute_cancel(kAsk);
      if (side_[kAsk].best != best_ask) recompute_cancel(kBid);
      ++record_;
      bound_ = hawkes_rates(r);
      return;
    }
  }

  /// One record: the opening book, or one Gillespie step (Gillespie 1977, direct method: an
  /// exponential wait at the total rate, then an event with probability rate / total), or a
  /// regime switch (no record), or the end.
  void step() {
    if (record_ == 0) {
      opening_book();
      record_ = 1;
      if (cfg_.flow == FlowModel::kHawkes) {
        double r[8];
        bound_ = hawkes_rates(r);
      }
      return;
    }
    if (cfg_.flow == FlowModel::kHawkes) {
      step_hawkes();
      return;
    }
    const Tables& tb = *tab_;
    const Units total = 2 * tb.limit_units + 2 * tb.market_units + side_[kBid].cancel + side_[kAsk].cancel +
                        2 * tb.tick_move_units + 2 * tb.join_units;
    if (total == 0) {
      if (next_switch_ns_ <= end_ns_) {
        now_ns_ = next_switch_ns_;
        switch_regime();
      } else {
        done_ = true;
      }
      return;
    }
    const std::int64_t t = now_ns_ + waiting_ns(ln_, rng_.uniform(), total);
    if (t > next_switch_ns_ && next_switch_ns_ <= end_ns_) {
      // Memoryless: the drawn wait past the switch is discarded and redrawn at the new rates.
      now_ns_ = next_switch_ns_;
      switch_regime();
      return;
    }
    if (t > end_ns_) {
      done_ = true;
      return;
    }
    now_ns_ = t;
    const std::int64_t best_bid = side_[kBid].best;
    const std::int64_t best_ask = side_[kAsk].best;
    Units x = rng_.below(total);
    if (x < tb.limit_units) {
      limit_order(kBid, x, tb.lambda_cum);
    } else if ((x -= tb.limit_units) < tb.limit_units) {
      limit_order(kAsk, x, tb.lambda_cum);
    } else if ((x -= tb.limit_units) < tb.market_units) {
      market_order(kAsk);  // buy market order
    } else if ((x -= tb.market_units) < tb.market_units) {
      market_order(kBid);  // sell market order
    } else if ((x -= tb.market_units) < side_[kBid].cancel) {
      cancel_order(kBid, x);
    } else if ((x -= side_[kBid].cancel) < side_[kAsk].cancel) {
      cancel_order(kAsk, x);
    } else if ((x -= side_[kAsk].cancel) < tb.join_units) {
      join_order(kBid);
    } else if ((x -= tb.join_units) < tb.join_units) {
      join_order(kAsk);
    } else if (x - tb.join_units < tb.tick_move_units) {
      tick_move(kAsk);  // buy: takes the best ask level
    } else {
      tick_move(kBid);
    }
    // Distances (hence cancel rates) are measured from the other side's best.
    if (side_[kBid].best != best_bid) recompute_cancel(kAsk);
    if (side_[kAsk].best != best_ask) recompute_cancel(kBid);
    ++record_;
  }

  SyntheticMarketConfig cfg_;
  InstrumentSpec spec_;
  data::Counters tolerated_;
  exchange::Rng rng_;
  const FastLog& ln_ = fast_log();

  bool joins_on_ = cfg_.join_rate > 0;  // λ(i) skips the own best (join events instead)
  std::vector<Tables> tables_;  // one per regime (one when regimes are off)
  const Tables* tab_ = nullptr;  // the current regime's
  std::uint32_t regime_ = 0;
  std::vector<double> leave_rate_ = leave_rates(cfg_);  // Σ_{q≠r} Q[r][q] per regime
  std::int64_t next_switch_ns_ = kNever;
  std::vector<RegimeSpell> regime_path_;

  // Hawkes mode.
  std::vector<Units> dist_cum_;            // Σ_{j<=i} λ(j)/k, units: the distance law
  std::vector<double> decay_rate_;         // distinct β values, per second
  std::size_t groups_ = 0;
  std::uint32_t group_[flow_type::kCount][flow_type::kCount] = {};  // β_ij's index in decay_rate_
  double jump_[flow_type::kCount][flow_type::kCount] = {};          // α_ij β_ij
  static constexpr std::size_t kMaxGroups = flow_type::kCount * flow_type::kCount;
  std::array<double, flow_type::kCount * kMaxGroups> excitation_{};  // [i * groups_ + k]: type i, rate k
  std::int64_t hawkes_t_ns_ = 0;           // time the excitation refers to
  double cancel_scale_[2] = {0, 0};        // 1 / (Λ_c × 2^24): units × h_c → per second
  double bound_ = 0;                       // thinning bound, per second

  std::int64_t now_ns_ = 0;  // simulated time since start_ns
  std::int64_t end_ns_;
  std::uint64_t record_ = 0;
  bool done_ = false;

  static std::vector<double> leave_rates(const SyntheticMarketConfig& c) {
    std::vector<double> out;
    for (std::size_t r = 0; r < c.regime_transition.size(); ++r) {
      double q = 0;
      for (std::size_t k = 0; k < c.regime_transition[r].size(); ++k) {
        if (k != r) q += c.regime_transition[r][k];
      }
      out.push_back(q);
    }
    return out;
  }
};

}  // namespace

std::vector<RegimeParams> default_regimes() {
  //        name      limit  market cancel size  tick moves /s
  return {{"low", 1.0, 0.6, 0.8, 1.0, 0.0},
          {"medium", 1.0, 1.0, 1.0, 1.0, 0.0},
          {"high", 1.1, 1.6, 1.3, 1.25, 0.1},
          {"crisis", 1.2, 3.0, 2.0, 1.5, 0.5}};
}

std::vector<std::vector<double>> default_regime_transition() {
  // Per second. low <-> medium <-> high <-> crisis (a birth-death chain).
  return {{0, 1.0 / 900, 0, 0},
          {1.0 / 1200, 0, 1.0 / 1200, 0},
          {0, 1.0 / 400, 0, 1.0 / 1200},
          {0, 0, 1.0 / 60, 0}};
}

std::unique_ptr<SyntheticMarket> make_synthetic_market(const SyntheticMarketConfig& config) {
  validate(config);
  return std::make_unique<Generator>(config);
}

}  // namespace mmkit::sim

namespace mmkit::sim {

namespace {

/// The [synthetic] section of configs/synthetic_goog.toml (mmkit calibrate-flow on LOBSTER GOOG
/// 2012-06-21, level 10; docs/calibration.md has the command and the fit), written by
/// mmkit.calibrate.cpp_preset; tests/python/test_calibrate.py checks that they agree.
SyntheticMarketConfig goog2012() {
  SyntheticMarketConfig c;
  // goog2012: generated by mmkit.calibrate.cpp_preset from configs/synthetic_goog.toml; do not edit.
  c.symbol = "SYN-GOOG";
  c.price_decimals = 4;
  c.tick_size = 100;
  c.initial_mid = 5798150;
  c.max_distance = 55;
  c.limit_rates = {0.00123942, 0.001538754, 0.001432015, 0.002074157, 0.002164173, 0.002936247, 0.003420222, 0.003438589, 0.004358009, 0.004444556, 0.005108883, 0.005401966, 0.005555104, 0.00781286, 0.007681078, 0.008682393, 0.01012725, 0.009962867, 0.01089693, 0.01148667, 0.01447315, 0.0163691, 0.01792315, 0.017815, 0.01947918, 0.02199975, 0.02426071, 0.02664082, 0.02691457, 0.02839949, 0.02890986, 0.03103258, 0.03449067, 0.0336524, 0.03550183, 0.03612244, 0.03771213, 0.03830177, 0.040162, 0.0396736, 0.03900741, 0.04364941, 0.04256929, 0.04118631, 0.03979448, 0.03778206, 0.04552772, 0.03722272, 0.04060602, 0.03966348, 0.03371948, 0.03484433, 0.03240732, 0.03519069, 0.03042749};
  c.market_rate = 0.1267315;
  c.join_rate = 0.2455357;
  c.cancel_rates = {1.976988, 1.343354, 1.345505, 1.256694, 0.2348369, 0.4135649, 0.155291, 0.1665861, 0.1795918, 0.163179, 0.1321349, 0.1344407, 0.1870405, 0.08563325, 0.09716328, 0.1041861, 0.1287489, 0.1466412, 0.1119495, 0.1099964, 0.1018482, 0.1223331, 0.1174534, 0.1275022, 0.1312507, 0.127917, 0.1311056, 0.1261993, 0.1161079, 0.1332402, 0.1403191, 0.1233838, 0.1289398, 0.1230002, 0.1293525, 0.1262225, 0.12491, 0.116969, 0.1187835, 0.1111622, 0.1073698, 0.1121184, 0.1171563, 0.1168742, 0.1156945, 0.1220288, 0.1303376, 0.1171696, 0.1367552, 0.131599, 0.1362289, 0.1435633, 0.1408712, 0.1631623, 0.1515326, 0.1301168};
  c.improver_cancel_rate = 155.7584;
  c.improver_fleeting_share = 0.4154277;
  c.mean_order_size = 63.43905;
  c.mean_market_order_size = 83.03979;
  c.opening_orders_per_level = 1;
  c.duration_s = 23399.86;
  c.start_ns = 1340285400015105074;
  c.flow = FlowModel::kPoisson;
  c.hawkes_mu = {0.04829183, 0.05213775, 0.5360358, 0.5635656, 0.5774989, 0.5877447};
  c.hawkes_alpha = {{0.4077186, 0.003158114, 0.003007508, 0.009546777, 0.001025891, 0.004896309}, {0.007160709, 0.3816906, 0.006858761, 0.004254631, 0.004017193, 0.001070467}, {0.4121916, 0.2776253, 0.1160247, 0.01378609, 0.3165924, 0.1505788}, {0.3360777, 0.4190951, 0.03356757, 0.1316939, 0.1734753, 0.3060394}, {0.1268064, 0.2239204, 0.3013255, 0.05504639, 0.114985, 0.0366867}, {0.2871027, 0.1175009, 0.05548293, 0.2711895, 0.04197025, 0.1497646}};
  c.hawkes_beta.assign(flow_type::kCount, std::vector<double>(flow_type::kCount, 1135.42));
  return c;
}

}  // namespace

std::vector<std::string> synthetic_preset_names() { return {"goog2012", "cst2010"}; }

SyntheticMarketConfig synthetic_preset(const std::string& name) {
  if (name == "goog2012") return goog2012();
  if (name == "cst2010") return SyntheticMarketConfig{};
  throw Error(SourceLocation("synthetic market config", 0, "preset"),
              "unknown preset '" + name + "' (known: goog2012, cst2010)");
}

}  // namespace mmkit::sim
