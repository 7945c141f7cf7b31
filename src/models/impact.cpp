#include "mmkit/models/impact.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string_view>

#include "mmkit/core/error.h"

namespace mmkit::models {
namespace {

double sgn(double x) noexcept { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }

double require(double v, bool ok, const char* model, const char* name, const char* rule) {
  if (!std::isfinite(v) || !ok) {
    throw Error(std::string("impact model '") + model + "': " + name + " = " + std::to_string(v) +
                " (must be finite and " + rule + ")");
  }
  return v;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

class AcTracker final : public ImpactTracker {
 public:
  explicit AcTracker(const AlmgrenChrissImpact& m) : m_{m.gamma, m.eta, m.epsilon, m.tau} {}
  double trade(double, double qty) override {
    const double offset = permanent_ + m_.epsilon * sgn(qty) + m_.eta * qty / m_.tau;
    permanent_ += m_.gamma * qty;
    return offset;
  }
  [[nodiscard]] double displacement(double) const override { return permanent_; }

 private:
  struct {
    double gamma, eta, epsilon, tau;
  } m_;
  double permanent_ = 0;
};

class SqrtTracker final : public ImpactTracker {
 public:
  explicit SqrtTracker(const SquareRootImpact& m) : m_{m.Y, m.sigma, m.V} {}
  double trade(double, double qty) override {
    const double before = q_;
    q_ += qty;
    return (F(q_) - F(before)) / qty;
  }
  [[nodiscard]] double displacement(double) const override {
    return m_.Y * m_.sigma * sgn(q_) * std::sqrt(std::fabs(q_) / m_.V);
  }

 private:
  // Antiderivative of I(x) = Y σ sgn(x) sqrt(|x|/V).
  double F(double x) const noexcept {
    return (2.0 / 3.0) * m_.Y * m_.sigma * std::pow(std::fabs(x), 1.5) / std::sqrt(m_.V);
  }
  struct {
    double Y, sigma, V;
  } m_;
  double q_ = 0;
};

class TransientTracker final : public ImpactTracker {
 public:
  explicit TransientTracker(const TransientImpact& m) : m_{m.lambda, m.kappa, m.rho} {}
  double trade(double t, double qty) override {
    const double offset = displacement(t) + 0.5 * (m_.lambda + m_.kappa) * qty;
    transient_ = transient_at(t) + m_.kappa * qty;
    permanent_ += m_.lambda * qty;
    t_ = t;
    return offset;
  }
  [[nodiscard]] double displacement(double t) const override { return permanent_ + transient_at(t); }

 private:
  double transient_at(double t) const noexcept {
    return transient_ == 0 ? 0.0 : transient_ * std::exp(-m_.rho * (t - t_));
  }
  struct {
    double lambda, kappa, rho;
  } m_;
  double permanent_ = 0, transient_ = 0, t_ = 0;
};

void check_schedule(std::span<const Trade> s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!std::isfinite(s[i].t) || !std::isfinite(s[i].qty) || s[i].qty == 0) {
      throw Error("impact schedule: trade " + std::to_string(i) + " has a zero or non-finite time / qty");
    }
    if (i > 0 && s[i].t < s[i - 1].t) {
      throw Error("impact schedule: trade " + std::to_string(i) + " at t = " + num(s[i].t) +
                  " is earlier than the previous one (times must not decrease)");
    }
  }
}

}  // namespace

double ImpactModel::expected_cost(std::span<const Trade> schedule) const {
  check_schedule(schedule);
  auto tr = tracker();
  double cost = 0;
  for (const Trade& x : schedule) cost += x.qty * tr->trade(x.t, x.qty);
  return cost;
}

double ImpactModel::impact(double t, std::span<const Trade> schedule) const {
  check_schedule(schedule);
  auto tr = tracker();
  for (const Trade& x : schedule) {
    if (x.t > t) break;
    tr->trade(x.t, x.qty);
  }
  return tr->displacement(t);
}

AlmgrenChrissImpact::AlmgrenChrissImpact(double gamma_, double eta_, double epsilon_, double tau_)
    : gamma(require(gamma_, gamma_ >= 0, "almgren-chriss", "gamma", ">= 0")),
      eta(require(eta_, eta_ >= 0, "almgren-chriss", "eta", ">= 0")),
      epsilon(require(epsilon_, epsilon_ >= 0, "almgren-chriss", "epsilon", ">= 0")),
      tau(require(tau_, tau_ > 0, "almgren-chriss", "tau", "> 0")) {}

std::unique_ptr<ImpactTracker> AlmgrenChrissImpact::tracker() const { return std::make_unique<AcTracker>(*this); }

std::string AlmgrenChrissImpact::describe() const {
  return "almgren-chriss:gamma=" + num(gamma) + ",eta=" + num(eta) + ",epsilon=" + num(epsilon) +
         ",tau=" + num(tau);
}

SquareRootImpact::SquareRootImpact(double Y_, double sigma_, double V_)
    : Y(require(Y_, Y_ >= 0, "sqrt", "Y", ">= 0")),
      sigma(require(sigma_, sigma_ >= 0, "sqrt", "sigma", ">= 0")),
      V(require(V_, V_ > 0, "sqrt", "V", "> 0")) {}

std::unique_ptr<ImpactTracker> SquareRootImpact::tracker() const { return std::make_unique<SqrtTracker>(*this); }

std::string SquareRootImpact::describe() const {
  return "sqrt:Y=" + num(Y) + ",sigma=" + num(sigma) + ",V=" + num(V);
}

TransientImpact::TransientImpact(double lambda_, double kappa_, double rho_)
    : lambda(require(lambda_, lambda_ >= 0, "transient", "lambda", ">= 0")),
      kappa(require(kappa_, kappa_ >= 0, "transient", "kappa", ">= 0")),
      rho(require(rho_, rho_ >= 0, "transient", "rho", ">= 0")) {}

std::unique_ptr<ImpactTracker> TransientImpact::tracker() const {
  return std::make_unique<TransientTracker>(*this);
}

std::string TransientImpact::describe() const {
  return "transient:kappa=" + num(kappa) + ",rho=" + num(rho) + ",lambda=" + num(lambda);
}

std::unique_ptr<ImpactModel> make_impact_model(const std::string& spec) {
  if (spec.empty() || spec == "none") return nullptr;
  const std::size_t colon = spec.find(':');
  const std::string name = spec.substr(0, colon);
  std::map<std::string, double> kv;
  if (colon != std::string::npos) {
    std::string_view rest(spec);
    rest.remove_prefix(colon + 1);
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      const std::size_t eq = item.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        throw Error("impact model '" + spec + "': expected key=value, got '" + std::string(item) + "'");
      }
      const std::string key(item.substr(0, eq));
      const std::string val(item.substr(eq + 1));
      char* end = nullptr;
      const double v = std::strtod(val.c_str(), &end);
      if (val.empty() || end != val.c_str() + val.size()) {
        throw Error("impact model '" + spec + "': key '" + key + "': unparsable number '" + val + "'");
      }
      if (!kv.emplace(key, v).second) throw Error("impact model '" + spec + "': key '" + key + "' given twice");
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  auto take = [&](const std::set<std::string>& known, const std::map<std::string, double>& defaults) {
    for (const auto& [k, v] : kv) {
      if (!known.count(k)) {
        std::string list;
        for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
        throw Error("impact model '" + name + "': unknown key '" + k + "' (known: " + list + ")");
      }
    }
    std::map<std::string, double> out = defaults;
    for (const auto& [k, v] : kv) out[k] = v;
    for (const auto& k : known) {
      if (!out.count(k)) throw Error("impact model '" + name + "': missing key '" + k + "'");
    }
    return out;
  };
  if (name == "almgren-chriss") {
    auto p = take({"gamma", "eta", "epsilon", "tau"}, {{"epsilon", 0.0}, {"tau", 1.0}});
    return std::make_unique<AlmgrenChrissImpact>(p["gamma"], p["eta"], p["epsilon"], p["tau"]);
  }
  if (name == "sqrt") {
    auto p = take({"Y", "sigma", "V"}, {{"Y", 1.0}});
    return std::make_unique<SquareRootImpact>(p["Y"], p["sigma"], p["V"]);
  }
  if (name == "transient") {
    auto p = take({"kappa", "rho", "lambda"}, {{"lambda", 0.0}});
    return std::make_unique<TransientImpact>(p["lambda"], p["kappa"], p["rho"]);
  }
  throw Error("unknown impact model '" + name + "' (expected none, almgren-chriss, sqrt or transient)");
}

}  // namespace mmkit::models
