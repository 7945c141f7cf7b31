// Batched RL environments: env-steps per second (items/s) for each market kind and batch size,
// with the classic action (multiplier (1, 1, 0)); auto-resets are inside the timed loop.
//   BM_ModelEnv_Step/N/threads       model market (A-S 2008 dynamics), default config
//   BM_SyntheticEnv_Step/N/threads   Engine + SyntheticMarket per env, step = 100 ms
//   BM_ReplayEnv_Step/N/threads      Engine over a LOBSTER GOOG level-10 file converted to .mmk
// Results and machine: bench/RESULTS.md ("RL environments"); docs/rl.md.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "mmkit/data/event_file.h"
#include "mmkit/data/source.h"
#include "mmkit/rl/vec_env.h"

namespace {

using mmkit::rl::Config;

void run_env(benchmark::State& state, const std::string& kind, const Config& config) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto threads = static_cast<unsigned>(state.range(1));
  auto env = mmkit::rl::make_vec_env(kind, n, config, 42);
  env->set_threads(threads);
  std::vector<float> actions(n * env->action_dim(), 0.0f);
  for (std::size_t i = 0; i < n; ++i) {
    actions[i * env->action_dim() + 0] = 1.0f;
    actions[i * env->action_dim() + 1] = 1.0f;
  }
  for (auto _ : state) {
    env->step(actions.data());
    benchmark::DoNotOptimize(env->obs());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n));
}

void BM_ModelEnv_Step(benchmark::State& state) { run_env(state, "model", {}); }
BENCHMARK(BM_ModelEnv_Step)
    ->ArgsProduct({{1, 64, 1024, 4096}, {1, 2}})
    ->ArgNames({"envs", "threads"})
    ->UseRealTime()
    ->MinTime(1.0);

Config synthetic_config() {
  Config c;
  c["episode_steps"] = std::int64_t{600};
  c["warmup_s"] = 10.0;
  return c;
}

void BM_SyntheticEnv_Step(benchmark::State& state) { run_env(state, "synthetic", synthetic_config()); }
BENCHMARK(BM_SyntheticEnv_Step)
    ->ArgsProduct({{1, 64, 1024, 4096}, {1, 2}})
    ->ArgNames({"envs", "threads"})
    ->UseRealTime()
    ->MinTime(2.0);

std::string replay_file() {
  const char* dir = std::getenv("MMKIT_DATA_DIR");
  const std::string data = dir ? dir : "/work/shared/data";
  const std::string zip = data + "/lobster/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip";
  const std::string out = (std::filesystem::temp_directory_path() / "mmkit_env_bench_goog10.mmk").string();
  if (!std::filesystem::exists(out)) {
    auto src = mmkit::data::open_source({zip});
    (void)mmkit::data::write_event_file(*src, out);
  }
  return out;
}

void BM_ReplayEnv_Step(benchmark::State& state) {
  Config c;
  try {
    c["path"] = replay_file();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  c["episode_steps"] = std::int64_t{600};
  c["warmup_s"] = 10.0;
  run_env(state, "replay", c);
}
BENCHMARK(BM_ReplayEnv_Step)
    ->ArgsProduct({{1, 64, 1024}, {1, 2}})
    ->ArgNames({"envs", "threads"})
    ->UseRealTime()
    ->MinTime(2.0);

}  // namespace
