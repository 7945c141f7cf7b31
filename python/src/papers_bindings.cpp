// nanobind bindings of the paper reproductions and the impact estimators
// (include/mmkit/models/{papers,impact}.h). Results come back as plain dicts / lists; every
// simulation runs in C++ with the GIL released.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cmath>
#include <string>
#include <vector>

#include "mmkit/core/error.h"
#include "mmkit/models/impact.h"
#include "mmkit/models/papers.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace mmkit::python {
namespace {

using namespace mmkit::models;

nb::object num_or_none(double v) { return std::isfinite(v) ? nb::cast(v) : nb::none(); }

nb::list numbers(const std::vector<double>& v) {
  nb::list l;
  for (const double x : v) l.append(num_or_none(x));
  return l;
}

AsSimConfig as_config(std::uint64_t seed, std::uint32_t paths, const std::string& fill, const std::string& timing,
                      const std::vector<double>& gammas) {
  AsSimConfig c;
  c.seed = seed;
  c.paths = paths;
  if (!gammas.empty()) c.gammas = gammas;
  if (fill == "linear") c.fill = AsFillProbability::kLinear;
  else if (fill == "exponential") c.fill = AsFillProbability::kExponential;
  else throw Error("avellaneda-stoikov-2008: fill '" + fill + "' (expected linear or exponential)");
  if (timing == "move-then-fill") c.timing = AsTiming::kMoveThenFill;
  else if (timing == "fill-then-move") c.timing = AsTiming::kFillThenMove;
  else throw Error("avellaneda-stoikov-2008: timing '" + timing + "' (expected move-then-fill or fill-then-move)");
  return c;
}

nb::dict as_row(const AsSimRow& r) {
  nb::dict d;
  d["gamma"] = r.gamma;
  d["strategy"] = to_string(r.strategy);
  d["spread"] = r.spread;
  d["profit_mean"] = r.profit_mean;
  d["profit_std"] = r.profit_std;
  d["final_q_mean"] = r.final_q_mean;
  d["final_q_std"] = r.final_q_std;
  d["paths"] = r.paths;
  return d;
}

nb::dict glft_dict(const GlftModel& m, double t) {
  GlftQuotes ex, ap, li;
  {
    nb::gil_scoped_release release;
    ex = glft_exact_quotes(m, t);
    ap = glft_approx_quotes(m);
    li = glft_limit_quotes(m);
  }
  nb::dict d;
  d["q"] = ex.q;
  d["exact_bid"] = numbers(ex.bid);
  d["exact_ask"] = numbers(ex.ask);
  d["approx_bid"] = numbers(ap.bid);
  d["approx_ask"] = numbers(ap.ask);
  d["limit_bid"] = numbers(li.bid);
  d["limit_ask"] = numbers(li.ask);
  d["alpha"] = glft_alpha(m);
  d["eta"] = glft_eta(m);
  return d;
}

nb::dict ac_dict(const AcSolution& s) {
  nb::dict d;
  d["lambda"] = s.lambda;
  d["tau"] = s.tau;
  d["eta_tilde"] = s.eta_tilde;
  d["kappa_tilde"] = s.kappa_tilde;
  d["kappa"] = s.kappa;
  d["half_life"] = num_or_none(s.half_life);
  d["E"] = s.E;
  d["V"] = s.V;
  d["std"] = s.std;
  d["t"] = s.t;
  d["x"] = s.x;
  d["n"] = s.n;
  return d;
}

std::vector<Trade> schedule(const std::vector<double>& t, const std::vector<double>& qty) {
  if (t.size() != qty.size()) throw Error("impact schedule: t and qty differ in length");
  std::vector<Trade> s(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) s[i] = Trade{t[i], qty[i]};
  return s;
}

std::unique_ptr<ImpactModel> require_model(const std::string& spec) {
  auto m = make_impact_model(spec);
  if (!m) throw Error("impact model '" + spec + "': 'none' has no cost to estimate");
  return m;
}

}  // namespace

void bind_papers(nb::module_& m) {
  m.def(
      "paper_avellaneda_stoikov_2008",
      [](std::uint64_t seed, std::uint32_t paths, const std::string& fill, const std::string& timing,
         const std::vector<double>& gammas) {
        const AsSimConfig c = as_config(seed, paths, fill, timing, gammas);
        std::vector<AsSimRow> rows;
        {
          nb::gil_scoped_release release;
          rows = run_avellaneda_stoikov_2008(c);
        }
        nb::list out;
        for (const auto& r : rows) out.append(as_row(r));
        return out;
      },
      "seed"_a = 1, "paths"_a = 1000, "fill"_a = "linear", "timing"_a = "move-then-fill",
      "gammas"_a = std::vector<double>{});

  m.def(
      "paper_avellaneda_stoikov_2008_symmetric",
      [](double gamma, double spread, std::uint64_t seed, std::uint32_t paths, const std::string& fill,
         const std::string& timing) {
        const AsSimConfig c = as_config(seed, paths, fill, timing, {});
        AsSimRow r;
        {
          nb::gil_scoped_release release;
          r = simulate_avellaneda_stoikov(c, gamma, AsStrategy::kSymmetric, spread);
        }
        return as_row(r);
      },
      "gamma"_a, "spread"_a, "seed"_a = 1, "paths"_a = 1000, "fill"_a = "linear", "timing"_a = "move-then-fill");

  m.def("paper_avellaneda_stoikov_2008_tables", []() {
    nb::list out;
    for (const auto& p : kAvellanedaStoikovTables) {
      nb::dict d;
      d["gamma"] = p.gamma;
      d["strategy"] = to_string(p.strategy);
      d["spread"] = p.spread;
      d["profit_mean"] = p.profit_mean;
      d["profit_std"] = p.profit_std;
      d["final_q_mean"] = p.final_q_mean;
      d["final_q_std"] = p.final_q_std;
      out.append(d);
    }
    return out;
  });

  m.def(
      "paper_glft_2013",
      [](double sigma, double A, double k, double gamma, double T, int Q, double t) {
        GlftModel g;
        g.sigma = sigma;
        g.A = A;
        g.k = k;
        g.gamma = gamma;
        g.T = T;
        g.Q = Q;
        return glft_dict(g, t);
      },
      "sigma"_a = 0.3, "A"_a = 0.9, "k"_a = 0.3, "gamma"_a = 0.01, "T"_a = 600.0, "Q"_a = 30, "t"_a = 0.0);

  m.def(
      "paper_almgren_chriss_2001",
      [](const std::vector<double>& lambdas) {
        const AcModel model;
        nb::list out;
        for (const double l : lambdas) out.append(ac_dict(almgren_chriss_solution(model, l)));
        return out;
      },
      "lambdas"_a);

  m.def("paper_almgren_chriss_2001_model", []() {
    const AcModel a;
    nb::dict d;
    d["X"] = a.X;
    d["S0"] = a.S0;
    d["sigma"] = a.sigma;
    d["T"] = a.T;
    d["N"] = a.N;
    d["epsilon"] = a.epsilon;
    d["eta"] = a.eta;
    d["gamma"] = a.gamma;
    return d;
  });

  m.def("paper_almgren_chriss_2001_frontier_lambdas", &almgren_chriss_frontier_lambdas, "points"_a = 61);

  m.def(
      "impact_expected_cost",
      [](const std::string& spec, const std::vector<double>& t, const std::vector<double>& qty) {
        return require_model(spec)->expected_cost(schedule(t, qty));
      },
      "model"_a, "t"_a, "qty"_a);

  m.def(
      "impact_at",
      [](const std::string& spec, double at, const std::vector<double>& t, const std::vector<double>& qty) {
        return require_model(spec)->impact(at, schedule(t, qty));
      },
      "model"_a, "at"_a, "t"_a, "qty"_a);
}

}  // namespace mmkit::python
