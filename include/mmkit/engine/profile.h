// Market profile for instrument-derived strategy defaults (typical trade size, spread,
// activity), measured on the first events of a stream.
#pragma once

#include <cstdint>

#include "mmkit/data/source.h"
#include "mmkit/strategy/strategy.h"

namespace mmkit::engine {

/// Replays up to `max_events` events (and at most `max_seconds` of exchange time) of `source`
/// into a book and measures: median trade quantity (trade prints: kTrade and kExecution),
/// mean spread at complete points, trades per second, the first valid mid. Reads from the
/// source it is given (open a second source for the run itself).
[[nodiscard]] strategy::MarketProfile profile_market(data::EventSource& source,
                                                     std::uint64_t max_events = 200'000,
                                                     double max_seconds = 600.0);

}  // namespace mmkit::engine
