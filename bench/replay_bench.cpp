// Replay benchmarks on the real data files (events/s, one thread).
//
//   BM_Replay_<data>_<Book>_FromMemory : events preloaded into RAM, applied to a fresh book per
//                                        iteration (book speed alone; naive book as baseline)
//   BM_Replay_<data>_Source            : open + parse the source + apply + validation
//   BM_Replay_<data>_EventFile         : the same from a converted plain event file (mmap)
// Files come from MMKIT_DATA_DIR (default ../shared/data beside the repo); missing ones are
// skipped with a message. Converted files are written to the temp dir before timing.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "mmkit/book/l2_book.h"
#include "mmkit/book/l3_book.h"
#include "mmkit/book/naive_l2_book.h"
#include "mmkit/book/naive_l3_book.h"
#include "mmkit/book/replay.h"
#include "mmkit/data/event_file.h"
#include "mmkit/data/source.h"

namespace {

namespace fs = std::filesystem;
using mmkit::Event;

struct DataSet {
  const char* name;
  const char* rel_path;
};
constexpr DataSet kSets[] = {
    {"LobsterGOOG10", "lobster/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"},
    {"BinanceBTCUSDT0808", "binance_l2/usdm/btcusdt_20240808.gz"},
    {"CmeESH4", "cme_mbo/esh4-glbx-mdp3-20231225.mbo.csv.gz"},
};

fs::path data_dir() {
  if (const char* env = std::getenv("MMKIT_DATA_DIR")) return env;
  return fs::path(MMKIT_SOURCE_DIR).parent_path() / "shared" / "data";
}

std::vector<Event> load(const std::string& path) {
  auto src = mmkit::data::open_source({path});
  std::vector<Event> events;
  std::vector<Event> batch(1 << 16);
  for (std::size_t n; (n = src->read(batch.data(), batch.size())) != 0;) {
    events.insert(events.end(), batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return events;
}

template <class Book>
void from_memory(benchmark::State& state, const std::vector<Event>* events) {
  for (auto _ : state) {
    Book book;
    for (const Event& e : *events) benchmark::DoNotOptimize(book.apply(e));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * events->size()));
}

void full_replay(benchmark::State& state, std::string path) {
  std::uint64_t events = 0;
  for (auto _ : state) {
    auto src = mmkit::data::open_source({path});
    events = mmkit::book::replay(*src).events;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * events));
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  static std::vector<std::vector<Event>> loaded;
  loaded.reserve(std::size(kSets));
  for (const DataSet& set : kSets) {
    const fs::path path = data_dir() / set.rel_path;
    if (!fs::exists(path)) {
      std::fprintf(stderr, "replay_bench: %s not found, skipped\n", path.c_str());
      continue;
    }
    const std::string name = set.name;
    loaded.push_back(load(path.string()));
    const std::vector<Event>* ev = &loaded.back();
    const bool l3 = mmkit::data::open_source({path.string()})->book_level() == mmkit::data::BookLevel::kL3;
    if (l3) {
      benchmark::RegisterBenchmark(("BM_Replay_" + name + "_L3Book_FromMemory").c_str(),
                                   from_memory<mmkit::book::L3Book>, ev);
      benchmark::RegisterBenchmark(("BM_Replay_" + name + "_NaiveL3Book_FromMemory").c_str(),
                                   from_memory<mmkit::book::NaiveL3Book>, ev);
    } else {
      benchmark::RegisterBenchmark(("BM_Replay_" + name + "_L2Book_FromMemory").c_str(),
                                   from_memory<mmkit::book::L2Book>, ev);
      benchmark::RegisterBenchmark(("BM_Replay_" + name + "_NaiveL2Book_FromMemory").c_str(),
                                   from_memory<mmkit::book::NaiveL2Book>, ev);
    }
    const std::string converted = (fs::temp_directory_path() / ("mmkit_bench_" + name + ".mmk")).string();
    {
      auto src = mmkit::data::open_source({path.string()});
      (void)mmkit::data::write_event_file(*src, converted);
    }
    benchmark::RegisterBenchmark(("BM_Replay_" + name + "_Source").c_str(), full_replay, path.string())
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_Replay_" + name + "_EventFile").c_str(), full_replay, converted)
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
