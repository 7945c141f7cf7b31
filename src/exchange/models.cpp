#include "mmkit/exchange/models.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "mmkit/core/decimal.h"
#include "mmkit/core/error.h"
#include "mmkit/data/line_reader.h"
#include "mmkit/exchange/order.h"

namespace mmkit::exchange {

namespace {
std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(std::uint64_t seed) noexcept {
  std::uint64_t x = seed;
  for (auto& s : s_) s = splitmix64(x);
}

std::uint64_t Rng::next() noexcept {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

std::uint64_t Rng::below(std::uint64_t n) noexcept {
  // Lemire, "Fast random integer generation in an interval" (2019).
  unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
  auto low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(next()) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

ConstantOrderLatency::ConstantOrderLatency(TimestampNs entry_ns, TimestampNs response_ns)
    : entry_(entry_ns), response_(response_ns) {
  if (entry_ns < 0 || response_ns < 0) throw Error("order latency must be >= 0 ns");
}

std::string ConstantOrderLatency::describe() const {
  return "constant entry " + std::to_string(entry_) + " ns, response " + std::to_string(response_) + " ns";
}

EmpiricalOrderLatency::EmpiricalOrderLatency(std::vector<TimestampNs> entry_ns,
                                             std::vector<TimestampNs> response_ns)
    : entry_(std::move(entry_ns)), response_(std::move(response_ns)) {
  if (entry_.empty() || response_.empty()) throw Error("empirical latency needs at least one sample");
  for (const auto v : entry_) {
    if (v < 0) throw Error("empirical latency sample < 0");
  }
  for (const auto v : response_) {
    if (v < 0) throw Error("empirical latency sample < 0");
  }
}

std::unique_ptr<EmpiricalOrderLatency> EmpiricalOrderLatency::from_csv(const std::string& path) {
  auto reader = data::LineReader::open(path);
  std::string_view line;
  if (!reader->next(line) || line != "entry_ns,response_ns") {
    throw_at_line(path, 1, "", "expected the header 'entry_ns,response_ns'");
  }
  std::vector<TimestampNs> entry, response;
  while (reader->next(line)) {
    if (line.empty()) continue;
    std::string_view f[2];
    if (data::split_fields(line, ',', f, 2) != 2) {
      throw_at_line(path, reader->line_number(), "", "expected 2 fields");
    }
    std::int64_t e = 0, r = 0;
    if (!parse_int(f[0], e) || e < 0) throw_at_line(path, reader->line_number(), "entry_ns", "not a non-negative integer");
    if (!parse_int(f[1], r) || r < 0) throw_at_line(path, reader->line_number(), "response_ns", "not a non-negative integer");
    entry.push_back(e);
    response.push_back(r);
  }
  if (entry.empty()) throw_at_line(path, reader->line_number(), "", "no latency samples");
  return std::make_unique<EmpiricalOrderLatency>(std::move(entry), std::move(response));
}

TimestampNs EmpiricalOrderLatency::entry(Rng& rng) { return entry_[rng.below(entry_.size())]; }
TimestampNs EmpiricalOrderLatency::response(Rng& rng) { return response_[rng.below(response_.size())]; }

std::string EmpiricalOrderLatency::describe() const {
  return "empirical (" + std::to_string(entry_.size()) + " samples)";
}

void RiskAverseQueueModel::on_depth_change(QueueState& q, Qty /*prev_qty*/, Qty new_qty) const {
  q.ahead = std::min(q.ahead, static_cast<double>(new_qty));
  q.traded_since_depth = 0;
}

ProbQueueModel::ProbQueueModel(Family family, double n) : family_(family), n_(n) {
  if (family == Family::kPower && !(n > 0)) throw Error("probabilistic queue model: power n must be > 0");
}

double ProbQueueModel::prob_ahead_share(double ahead, double behind) const noexcept {
  const double fa = f(std::max(ahead, 0.0)), fb = f(std::max(behind, 0.0));
  return fa + fb > 0 ? fb / (fa + fb) : 0.0;
}

void ProbQueueModel::on_depth_change(QueueState& q, Qty prev_qty, Qty new_qty) const {
  const double decrease = static_cast<double>(prev_qty - new_qty) - static_cast<double>(q.traded_since_depth);
  q.traded_since_depth = 0;
  if (decrease > 0) {
    const double ahead = std::max(q.ahead, 0.0);
    const double behind = std::max(static_cast<double>(prev_qty) - ahead, 0.0);
    q.ahead -= decrease * prob_ahead_share(ahead, behind);
  }
  q.ahead = std::min(q.ahead, static_cast<double>(new_qty));
}

std::string ProbQueueModel::describe() const {
  if (family_ == Family::kLog) return "prob-log";
  std::string n = std::to_string(n_);
  while (n.size() > 1 && n.back() == '0') n.pop_back();
  if (!n.empty() && n.back() == '.') n.pop_back();
  return "prob-power-" + n;
}

std::unique_ptr<QueueModel> make_queue_model(const std::string& name) {
  if (name == "risk-averse") return std::make_unique<RiskAverseQueueModel>();
  if (name == "prob-log") return std::make_unique<ProbQueueModel>(ProbQueueModel::Family::kLog);
  constexpr std::string_view prefix = "prob-power-";
  if (name.rfind(prefix, 0) == 0) {
    const std::string n = name.substr(prefix.size());
    char* end = nullptr;
    const double v = std::strtod(n.c_str(), &end);
    if (!n.empty() && end == n.c_str() + n.size() && v > 0) {
      return std::make_unique<ProbQueueModel>(ProbQueueModel::Family::kPower, v);
    }
  }
  throw Error("unknown queue model '" + name + "' (expected risk-averse, prob-power-N with N > 0, or prob-log)");
}

FeeSchedule FeeSchedule::from_bps(double maker_bps, double taker_bps) {
  if (!std::isfinite(maker_bps) || !std::isfinite(taker_bps) || std::fabs(maker_bps) > 1e4 ||
      std::fabs(taker_bps) > 1e4) {
    throw Error("fees must be finite basis points within ±10000");
  }
  FeeSchedule f;
  f.maker_ppb = std::llround(maker_bps * static_cast<double>(kPpbPerBp));
  f.taker_ppb = std::llround(taker_bps * static_cast<double>(kPpbPerBp));
  return f;
}

}  // namespace mmkit::exchange
