// EventSource: the pull interface every reader implements, and the counters of what a reader
// tolerated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mmkit/core/event.h"
#include "mmkit/core/instrument.h"

namespace mmkit::data {

/// Named counters, kept in first-insertion order: what a reader tolerated (and counted) instead
/// of failing, e.g. "lobster.seeded_levels", "binance.depth_dropped_before_sync".
class Counters {
 public:
  void add(std::string_view name, std::uint64_t n = 1);
  [[nodiscard]] std::uint64_t get(std::string_view name) const noexcept;
  [[nodiscard]] const std::vector<std::pair<std::string, std::uint64_t>>& items() const noexcept {
    return items_;
  }
  void merge(const Counters& other);

 private:
  std::vector<std::pair<std::string, std::uint64_t>> items_;
};

/// Whether a stream carries order-by-order (L3) or price-level (L2) book events.
enum class BookLevel : std::uint8_t { kL2 = 2, kL3 = 3 };

/// A stream of events in source order. Not thread-safe. Readers throw mmkit::Error (with file
/// and line or byte offset) on malformed input.
class EventSource {
 public:
  virtual ~EventSource() = default;

  /// Instrument of the stream; valid right after construction.
  [[nodiscard]] virtual const InstrumentSpec& instrument() const = 0;
  [[nodiscard]] virtual BookLevel book_level() const = 0;

  /// Writes up to `capacity` (> 0) next events into `out`; returns how many, 0 at the end.
  [[nodiscard]] virtual std::size_t read(Event* out, std::size_t capacity) = 0;

  /// Number of source records consumed so far (after the end: the total), counting records that
  /// produced no event (dropped before sync, other instruments...).
  [[nodiscard]] virtual std::uint64_t records() const = 0;
  /// Human location of a record for error messages, e.g. "btcusdt_20240808.gz:55".
  [[nodiscard]] virtual std::string locate(std::uint64_t record) const = 0;
  /// What the reader tolerated so far.
  [[nodiscard]] virtual const Counters& tolerated() const = 0;
  /// Short format name: "lobster", "binance-usdm", "binance-spot", "databento-mbo", "mmk".
  [[nodiscard]] virtual std::string format() const = 0;
};

/// Options that select and describe what to read.
struct SourceOptions {
  std::string instrument;       ///< symbol to select (Databento); empty = the only one / first
  std::int64_t publisher = -1;  ///< Databento publisher id to select; -1 = default (see reader)
  std::int64_t tick_size = 0;   ///< raw tick override; 0 = from the format or inferred
};

/// Opens any supported input by content and name: an mmkit event file (.mmk), LOBSTER
/// (.zip or *_message_N.csv with its *_orderbook_N.csv beside it), a Binance capture
/// (.gz lines `<ns> <json>`, several files read as one stream), a Databento MBO CSV dump
/// (.csv / .csv.gz) or DBN file (.dbn / .dbn.zst). Throws mmkit::Error naming the file if the
/// format is not recognized or the files do not belong together.
[[nodiscard]] std::unique_ptr<EventSource> open_source(const std::vector<std::string>& paths,
                                                       const SourceOptions& options = {});

}  // namespace mmkit::data
