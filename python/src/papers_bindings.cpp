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
      "gammas"_a = std::vector<double>{},
      nb::sig("def paper_avellaneda_stoikov_2008(seed: int = 1, paths: int = 1000, fill: str = 'linear', "
              "timing: str = 'move-then-fill', gammas: Sequence[float] = []) -> list[dict[str, typing.Any]]"),
      "Avellaneda & Stoikov (2008), section 4 simulation (models/papers.h, docs/papers.md): per gamma\n"
      "(default 0.1, 0.01, 1) the inventory strategy and the symmetric one (the inventory strategy's\n"
      "time-average spread around the mid), `paths` paths each with common random numbers, in C++ (GIL\n"
      "released); deterministic for a seed.\n"
      "\n"
      "fill: 'linear' (P = min(1, lambda dt), the paper's) or 'exponential' (1 - exp(-lambda dt));\n"
      "timing: 'move-then-fill' (reproduces the paper's tables) or 'fill-then-move'.\n"
      "Returns one dict per (gamma, strategy): gamma (float), strategy ('inventory' / 'symmetric'),\n"
      "spread, profit_mean, profit_std, final_q_mean, final_q_std (float; profit = cash + q_T s_T, sample\n"
      "standard deviations), paths (int). Raises mmkit.Error for an invalid fill, timing or parameter.");

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
      "gamma"_a, "spread"_a, "seed"_a = 1, "paths"_a = 1000, "fill"_a = "linear", "timing"_a = "move-then-fill",
      nb::sig("def paper_avellaneda_stoikov_2008_symmetric(gamma: float, spread: float, seed: int = 1, paths: int = 1000, "
              "fill: str = 'linear', timing: str = 'move-then-fill') -> dict[str, typing.Any]"),
      "One row of avellaneda_stoikov_2008 for the symmetric strategy quoting the total spread `spread`\n"
      "(price units, finite, >= 0) around the mid; `gamma` (> 0) only labels the row. Same dict keys;\n"
      "fill, timing as there. Raises mmkit.Error for an invalid fill, timing or parameter (paths < 2).");

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
  }, nb::sig("def paper_avellaneda_stoikov_2008_tables() -> list[dict[str, typing.Any]]"),
        "Avellaneda & Stoikov (2008) Tables 1-3 as printed: one dict per row with gamma, strategy, spread,\n"
        "profit_mean, profit_std, final_q_mean, final_q_std (the keys of avellaneda_stoikov_2008, without\n"
        "paths).");

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
      "sigma"_a = 0.3, "A"_a = 0.9, "k"_a = 0.3, "gamma"_a = 0.01, "T"_a = 600.0, "Q"_a = 30, "t"_a = 0.0,
      nb::sig("def paper_glft_2013(sigma: float = 0.3, A: float = 0.9, k: float = 0.3, gamma: float = 0.01, "
              "T: float = 600.0, Q: int = 30, t: float = 0.0) -> dict[str, typing.Any]"),
      "Guéant, Lehalle & Fernandez-Tapia (2013) optimal quotes per inventory q = -Q..Q at time t: exact\n"
      "(Theorem 1, v = exp(-M (T - t)) 1), approx (closed-form approximation, section 4) and limit (T ->\n"
      "infinity, Theorem 2), in ticks from the mid.\n"
      "\n"
      "Units: sigma tick / sqrt(s), A 1/s, k and gamma 1/tick, T and t s; Q lots.\n"
      "Returns a dict: q (list[int]); exact_bid, exact_ask, approx_bid, approx_ask, limit_bid, limit_ask\n"
      "(list of float distances, index q + Q; None where no quote exists: no bid at q = Q, no ask at q =\n"
      "-Q); alpha = (k/2) gamma sigma^2, eta = A (1 + gamma/k)^-(1 + k/gamma) (float, Proposition 1).\n"
      "Raises mmkit.Error unless 0 <= t <= T and the parameters are valid.");

  m.def(
      "paper_almgren_chriss_2001",
      [](const std::vector<double>& lambdas) {
        const AcModel model;
        nb::list out;
        for (const double l : lambdas) out.append(ac_dict(almgren_chriss_solution(model, l)));
        return out;
      },
      "lambdas"_a,
      nb::sig("def paper_almgren_chriss_2001(lambdas: Sequence[float]) -> list[dict[str, typing.Any]]"),
      "Almgren & Chriss (2001) optimal liquidation trajectory of the Table 1 example\n"
      "(paper_almgren_chriss_2001_model) for each risk aversion lambda (1/$) in `lambdas`.\n"
      "\n"
      "Returns one dict per lambda: lambda, tau (days), eta_tilde, kappa_tilde, kappa (1/day), half_life\n"
      "(days; None for lambda = 0), E (expected cost, $), V (variance, $^2), std (sqrt V, $) (float); t\n"
      "(list, days, k = 0..N), x (holdings, shares, k = 0..N), n (trades x_{k-1} - x_k, k = 1..N). Raises\n"
      "mmkit.Error for lambda < 0.");

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
  }, nb::sig("def paper_almgren_chriss_2001_model() -> dict[str, float | int]"),
        "The parameters of the Almgren & Chriss (2001) Table 1 example: X (shares), S0 ($/share), sigma\n"
        "($/share/day^1/2), T (days), N (periods), epsilon ($/share), eta ($/share per share/day), gamma\n"
        "($/share per share) (float; N int).");

  m.def("paper_almgren_chriss_2001_frontier_lambdas", &almgren_chriss_frontier_lambdas, "points"_a = 61,
        "The lambda grid of the efficient frontier (1/$): 0 and `points` - 1 values log-spaced over [1e-8,\n"
        "1e-4].");

  m.def(
      "impact_expected_cost",
      [](const std::string& spec, const std::vector<double>& t, const std::vector<double>& qty) {
        return require_model(spec)->expected_cost(schedule(t, qty));
      },
      "model"_a, "t"_a, "qty"_a,
      "Expected cost of the trade schedule (t[i], qty[i]) under the impact model `model`\n"
      "(models/impact.h: 'almgren-chriss:gamma=..,eta=..[,epsilon=..,tau=..]',\n"
      "'sqrt:sigma=..,V=..[,Y=..]', 'transient:kappa=..,rho=..[,lambda=..]'): sum of qty_i × (execution\n"
      "price_i - p0), price × qty units, > 0 = cost; qty > 0 buys, < 0 sells; times non-decreasing.\n"
      "Raises mmkit.Error for 'none' or an unknown model or key, t and qty of different lengths,\n"
      "decreasing times, or a qty that is 0 or not finite.");

  m.def(
      "impact_at",
      [](const std::string& spec, double at, const std::vector<double>& t, const std::vector<double>& qty) {
        return require_model(spec)->impact(at, schedule(t, qty));
      },
      "model"_a, "at"_a, "t"_a, "qty"_a,
      "Price displacement (price units, + = up) at time `at` left by the trades of the schedule (t[i],\n"
      "qty[i]) with time <= at, under the impact model `model` (as impact_expected_cost). Raises\n"
      "mmkit.Error as impact_expected_cost.");
}

}  // namespace mmkit::python
