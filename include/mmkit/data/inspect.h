// Summary of an event stream: what `mmkit inspect` prints.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "mmkit/core/event.h"
#include "mmkit/core/instrument.h"
#include "mmkit/data/source.h"

namespace mmkit::data {

struct StreamSummary {
  InstrumentSpec instrument;
  std::string format;
  BookLevel book_level = BookLevel::kL2;
  std::uint64_t events = 0;
  std::uint64_t records = 0;
  TimestampNs first_exch_ts_ns = kNoTimestamp, last_exch_ts_ns = kNoTimestamp;
  TimestampNs first_local_ts_ns = kNoTimestamp, last_local_ts_ns = kNoTimestamp;
  std::array<std::uint64_t, kEventKindCount> kind_counts{};  ///< indexed by EventKind
  std::uint64_t snapshot_events = 0;  ///< flag kSnapshot
  std::uint64_t seed_events = 0;      ///< flag kSeed
  std::uint64_t complete_points = 0;  ///< flag kComplete
  std::uint64_t bad_ts_events = 0;    ///< flag kBadTs
  Counters tolerated;
};

/// Reads `source` to the end and summarizes it. Time spans use min/max over events.
[[nodiscard]] StreamSummary summarize(EventSource& source);

}  // namespace mmkit::data
