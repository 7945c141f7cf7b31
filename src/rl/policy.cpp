#include "mmkit/rl/policy.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>

#include "mmkit/core/error.h"
#include "mmkit/strategy/spread_quoter.h"

namespace mmkit::rl {

// ---------------------------------------------------------------------------------------------
// Mlp

Mlp::Mlp(std::vector<Eigen::MatrixXf> weights, std::vector<Eigen::VectorXf> biases)
    : w_(std::move(weights)), b_(std::move(biases)) {
  if (w_.empty() || w_.size() != b_.size()) throw Error("mlp: need as many biases as weight matrices (>= 1)");
  for (std::size_t l = 0; l < w_.size(); ++l) {
    if (w_[l].rows() == 0 || w_[l].cols() == 0) throw Error("mlp: layer " + std::to_string(l) + " is empty");
    if (b_[l].size() != w_[l].rows()) {
      throw Error("mlp: layer " + std::to_string(l) + ": bias has " + std::to_string(b_[l].size()) +
                  " entries, weight has " + std::to_string(w_[l].rows()) + " rows");
    }
    if (l > 0 && w_[l].cols() != w_[l - 1].rows()) {
      throw Error("mlp: layer " + std::to_string(l) + " takes " + std::to_string(w_[l].cols()) +
                  " inputs, layer " + std::to_string(l - 1) + " gives " + std::to_string(w_[l - 1].rows()));
    }
  }
  h_.resize(w_.size());
  for (std::size_t l = 0; l < w_.size(); ++l) h_[l].resize(w_[l].rows());
}

std::size_t Mlp::in_dim() const noexcept { return w_.empty() ? 0 : static_cast<std::size_t>(w_.front().cols()); }
std::size_t Mlp::out_dim() const noexcept { return w_.empty() ? 0 : static_cast<std::size_t>(w_.back().rows()); }

void Mlp::forward(const float* in, float* out) const {
  const Eigen::Map<const Eigen::VectorXf> x(in, static_cast<Eigen::Index>(in_dim()));
  for (std::size_t l = 0; l < w_.size(); ++l) {
    if (l == 0) {
      h_[0].noalias() = w_[0] * x;
    } else {
      h_[l].noalias() = w_[l] * h_[l - 1];
    }
    h_[l] += b_[l];
    if (l + 1 < w_.size()) h_[l] = h_[l].array().tanh();
  }
  const Eigen::VectorXf& y = h_.back();
  for (Eigen::Index j = 0; j < y.size(); ++j) out[j] = y[j];
}

// ---------------------------------------------------------------------------------------------
// Weights file

namespace {

namespace dom = simdjson::dom;

[[noreturn]] void bad(const std::string& path, const std::string& field, const std::string& what) {
  throw Error(SourceLocation(path, 0, field), what);
}

std::vector<float> float_array(const std::string& path, const std::string& field, dom::element e) {
  dom::array a;
  if (e.get_array().get(a) != simdjson::SUCCESS) bad(path, field, "must be an array of numbers");
  std::vector<float> v;
  std::size_t i = 0;
  for (dom::element x : a) {
    double d;
    if (x.get_double().get(d) != simdjson::SUCCESS || !std::isfinite(d)) {
      bad(path, field + "[" + std::to_string(i) + "]", "must be a finite number");
    }
    v.push_back(static_cast<float>(d));
    ++i;
  }
  return v;
}

std::vector<std::string> string_array(const std::string& path, const std::string& field, dom::element e) {
  dom::array a;
  if (e.get_array().get(a) != simdjson::SUCCESS) bad(path, field, "must be an array of strings");
  std::vector<std::string> v;
  for (dom::element x : a) {
    std::string_view s;
    if (x.get_string().get(s) != simdjson::SUCCESS) bad(path, field, "must be an array of strings");
    v.emplace_back(s);
  }
  return v;
}

std::string get_string(const std::string& path, dom::object o, const char* key) {
  std::string_view s;
  if (o[key].get_string().get(s) != simdjson::SUCCESS) bad(path, key, "missing or not a string");
  return std::string(s);
}

}  // namespace

PolicyFile load_policy_file(const std::string& path) {
  dom::parser parser;
  dom::element root;
  if (const auto err = parser.load(path).get(root); err != simdjson::SUCCESS) {
    throw Error(SourceLocation(path), std::string("cannot read the policy weights file: ") + simdjson::error_message(err));
  }
  dom::object o;
  if (root.get_object().get(o) != simdjson::SUCCESS) bad(path, "", "the policy file must be a JSON object");
  PolicyFile p;
  if (get_string(path, o, "format") != "mmkit-mlp-v1") bad(path, "format", "must be \"mmkit-mlp-v1\"");
  std::string_view act = "tanh";
  if (o["activation"].get_string().get(act) == simdjson::SUCCESS && act != "tanh") {
    bad(path, "activation", "only \"tanh\" is supported, got \"" + std::string(act) + "\"");
  }
  dom::element e;
  if (o["obs_names"].get(e) != simdjson::SUCCESS) bad(path, "obs_names", "missing");
  p.obs_names = string_array(path, "obs_names", e);
  try {
    p.mode = parse_action_mode(get_string(path, o, "action_mode"));
    p.base = parse_base(get_string(path, o, "base"));
  } catch (const Error& err) {
    if (!err.where().file.empty()) throw;
    bad(path, "action_mode/base", err.what());
  }
  if (o["action_low"].get(e) != simdjson::SUCCESS) bad(path, "action_low", "missing");
  p.action_low = float_array(path, "action_low", e);
  if (o["action_high"].get(e) != simdjson::SUCCESS) bad(path, "action_high", "missing");
  p.action_high = float_array(path, "action_high", e);
  const std::size_t ad = p.mode == ActionMode::kMultiplier ? 3 : 4;
  if (p.action_low.size() != ad || p.action_high.size() != ad) {
    bad(path, "action_low", "action bounds must have " + std::to_string(ad) + " entries for action_mode " + to_string(p.mode));
  }
  for (std::size_t j = 0; j < ad; ++j) {
    if (!(p.action_low[j] <= p.action_high[j])) bad(path, "action_low", "action_low must be <= action_high");
  }
  if (p.obs_names == lob_obs_names(true)) {
    p.obs.regime_feature = true;
  } else if (p.obs_names != lob_obs_names(false)) {
    std::string m = "the policy's observations must be the order-book env's: ";
    for (const auto& n : lob_obs_names(false)) m += n + " ";
    m += "(optionally + regime)";
    bad(path, "obs_names", m);
  }
  dom::object oc;
  if (o["obs_config"].get_object().get(oc) == simdjson::SUCCESS) {
    for (auto [key, value] : oc) {
      double d;
      if (value.get_double().get(d) != simdjson::SUCCESS) {
        std::int64_t i;
        if (value.get_int64().get(i) != simdjson::SUCCESS) continue;  // non-numeric entries: informational
        d = static_cast<double>(i);
      }
      const std::string k(key);
      if (k == "mid_scale") p.obs.mid_scale = d;
      else if (k == "spread_scale") p.obs.spread_scale = d;
      else if (k == "vol_scale") p.obs.vol_scale = d;
      else if (k == "return_scale") p.obs.return_scale = d;
      else if (k == "pnl_norm") p.obs.pnl_norm = d;
      else if (k == "vol_window") p.obs.vol_window = static_cast<std::int64_t>(d);
      else if (k == "episode_steps") p.obs.episode_steps = static_cast<std::int64_t>(d);
      else if (k == "step_ms") p.obs.step_s = d * 1e-3;
    }
  }
  if (!(p.obs.step_s > 0) || p.obs.episode_steps < 1 || p.obs.vol_window < 1 || !(p.obs.mid_scale > 0) ||
      !(p.obs.spread_scale > 0) || !(p.obs.vol_scale > 0) || !(p.obs.return_scale > 0) || !(p.obs.pnl_norm >= 0)) {
    bad(path, "obs_config", "scales must be > 0, step_ms > 0, episode_steps and vol_window >= 1");
  }
  dom::array layers;
  if (o["layers"].get_array().get(layers) != simdjson::SUCCESS) bad(path, "layers", "missing or not an array");
  std::vector<Eigen::MatrixXf> ws;
  std::vector<Eigen::VectorXf> bs;
  std::size_t l = 0;
  for (dom::element layer : layers) {
    const std::string at = "layers[" + std::to_string(l) + "]";
    dom::array rows;
    if (layer["weight"].get_array().get(rows) != simdjson::SUCCESS) bad(path, at + ".weight", "missing or not an array");
    std::vector<std::vector<float>> m;
    for (dom::element row : rows) m.push_back(float_array(path, at + ".weight", row));
    if (m.empty() || m[0].empty()) bad(path, at + ".weight", "empty matrix");
    Eigen::MatrixXf w(static_cast<Eigen::Index>(m.size()), static_cast<Eigen::Index>(m[0].size()));
    for (std::size_t r = 0; r < m.size(); ++r) {
      if (m[r].size() != m[0].size()) bad(path, at + ".weight", "ragged matrix (row " + std::to_string(r) + ")");
      for (std::size_t c = 0; c < m[r].size(); ++c) w(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = m[r][c];
    }
    dom::element be;
    if (layer["bias"].get(be) != simdjson::SUCCESS) bad(path, at + ".bias", "missing");
    const std::vector<float> b = float_array(path, at + ".bias", be);
    ws.push_back(std::move(w));
    bs.push_back(Eigen::Map<const Eigen::VectorXf>(b.data(), static_cast<Eigen::Index>(b.size())));
    ++l;
  }
  try {
    p.mlp = Mlp(std::move(ws), std::move(bs));
  } catch (const Error& err) {
    bad(path, "layers", err.what());
  }
  if (p.mlp.in_dim() != p.obs_names.size()) {
    bad(path, "layers[0].weight", "takes " + std::to_string(p.mlp.in_dim()) + " inputs, obs_names has " +
                                      std::to_string(p.obs_names.size()));
  }
  if (p.mlp.out_dim() != ad) {
    bad(path, "layers", "the last layer gives " + std::to_string(p.mlp.out_dim()) + " outputs, action_mode " +
                            to_string(p.mode) + " needs " + std::to_string(ad));
  }
  return p;
}

void policy_action(const PolicyFile& p, const float* obs, float* out) {
  p.mlp.forward(obs, out);
  for (std::size_t j = 0; j < p.action_low.size(); ++j) {
    const float a = out[j];
    out[j] = a >= p.action_low[j] ? (a <= p.action_high[j] ? a : p.action_high[j]) : p.action_low[j];
  }
}

// ---------------------------------------------------------------------------------------------
// RlPolicy

RlPolicy::RlPolicy(std::shared_ptr<const PolicyFile> policy, std::unique_ptr<strategy::Strategy> base,
                   const std::string& path, TimestampNs warmup_ns)
    : QuoteAgent(std::move(base), policy->mode),
      p_(std::move(policy)),
      path_(path),
      observer_(p_->obs),
      regime_feature_(p_->obs.regime_feature),
      warmup_ns_(warmup_ns),
      step_ns_(static_cast<TimestampNs>(std::llround(p_->obs.step_s * 1e9))),
      obs_(p_->obs_names.size(), 0.0f),
      act_(p_->action_low.size(), 0.0f) {
  if (step_ns_ <= 0) throw Error(SourceLocation(path, 0, "obs_config.step_ms"), "must be > 0");
  if (warmup_ns_ < 0) throw Error("strategy 'rl-policy': param 'warmup_s' must be >= 0");
}

void RlPolicy::before_callback(strategy::Context& ctx) {
  const TimestampNs now = ctx.now();
  if (!started_) {
    if (!std::isfinite(ctx.book().mid())) return;
    if (first_book_ns_ == kNoTimestamp) first_book_ns_ = now;
    if (now < first_book_ns_ + warmup_ns_) return;  // the base alone, as in the env's warmup
    started_ = true;
    step_ = 0;
    observer_.start(ctx, base().settings().order_qty, base().settings().max_position);
    next_ns_ = now + step_ns_;
  } else {
    if (now < next_ns_) return;
    while (next_ns_ <= now) next_ns_ += step_ns_;
    ++step_;
    if (step_ >= p_->obs.episode_steps) {
      step_ = 0;
      observer_.start(ctx, base().settings().order_qty, base().settings().max_position);
    }
  }
  observer_.observe(ctx, step_, 0.5, obs_.data());
  policy_action(*p_, obs_.data(), act_.data());
  set_action(act_);
  ++decisions_;
}

strategy::Params RlPolicy::resolved_params() const {
  strategy::Params p = QuoteAgent::resolved_params();
  p["policy"] = path_;
  p["warmup_s"] = static_cast<double>(warmup_ns_) * 1e-9;
  return p;
}

strategy::Params RlPolicy::summary() const {
  strategy::Params p = QuoteAgent::summary();
  p["decisions"] = static_cast<std::int64_t>(decisions_);
  return p;
}

std::unique_ptr<strategy::Strategy> make_rl_policy(const strategy::Params& params, const InstrumentSpec& spec,
                                                   const strategy::MarketProfile& profile) {
  const auto it = params.find("policy");
  if (it == params.end() || !std::holds_alternative<std::string>(it->second)) {
    throw Error("strategy 'rl-policy': param 'policy' (path of the weights file) is required");
  }
  const std::string path = std::get<std::string>(it->second);
  auto file = std::make_shared<const PolicyFile>(load_policy_file(path));
  strategy::Params rest = params;
  rest.erase("policy");
  double warmup_s = 10.0;
  if (const auto w = rest.find("warmup_s"); w != rest.end()) {
    if (const auto* d = std::get_if<double>(&w->second)) warmup_s = *d;
    else if (const auto* i = std::get_if<std::int64_t>(&w->second)) warmup_s = static_cast<double>(*i);
    else throw Error("strategy 'rl-policy': param 'warmup_s' must be a number (seconds)");
    rest.erase(w);
  }
  if (!(warmup_s >= 0) || !std::isfinite(warmup_s)) {
    throw Error("strategy 'rl-policy': param 'warmup_s' must be a finite number >= 0");
  }
  const std::string base_name = file->base == BaseQuote::kGlft ? "glft" : "avellaneda-stoikov";
  auto base = strategy::make_strategy(base_name, rest, spec, profile);
  return std::make_unique<RlPolicy>(std::move(file), std::move(base), path,
                                    static_cast<TimestampNs>(std::llround(warmup_s * 1e9)));
}

}  // namespace mmkit::rl
