#include "mmkit/data/inspect.h"

#include <algorithm>
#include <vector>

namespace mmkit::data {

StreamSummary summarize(EventSource& source) {
  StreamSummary s;
  s.instrument = source.instrument();
  s.format = source.format();
  s.book_level = source.book_level();
  std::vector<Event> batch(4096);
  TimestampNs exch_min = kNoTimestamp, exch_max = kNoTimestamp;
  TimestampNs local_min = kNoTimestamp, local_max = kNoTimestamp;
  bool any = false;
  for (;;) {
    const std::size_t n = source.read(batch.data(), batch.size());
    if (n == 0) break;
    for (std::size_t i = 0; i < n; ++i) {
      const Event& e = batch[i];
      const auto k = static_cast<std::size_t>(e.kind);
      if (k < s.kind_counts.size()) ++s.kind_counts[k];
      s.snapshot_events += e.has(event_flags::kSnapshot);
      s.seed_events += e.has(event_flags::kSeed);
      s.complete_points += e.has(event_flags::kComplete);
      s.bad_ts_events += e.has(event_flags::kBadTs);
      if (!any) {
        exch_min = exch_max = e.exch_ts_ns;
        local_min = local_max = e.local_ts_ns;
        any = true;
      } else {
        exch_min = std::min(exch_min, e.exch_ts_ns);
        exch_max = std::max(exch_max, e.exch_ts_ns);
        local_min = std::min(local_min, e.local_ts_ns);
        local_max = std::max(local_max, e.local_ts_ns);
      }
    }
    s.events += n;
  }
  s.records = source.records();
  s.first_exch_ts_ns = exch_min;
  s.last_exch_ts_ns = exch_max;
  s.first_local_ts_ns = local_min;
  s.last_local_ts_ns = local_max;
  s.tolerated = source.tolerated();
  return s;
}

}  // namespace mmkit::data
