// LOBSTER reader: NASDAQ TotalView-ITCH reconstructions by LOBSTER (lobsterdata.com), a message
// file (L3 events touching the top N price levels) and its orderbook file (the top N levels after
// each message), read from the .zip as distributed or from the extracted CSVs.
//
// Format (LOBSTER_SampleFiles_ReadMe.txt, "This Version: 01 Sept 2013", shipped in every sample
// zip; type 6 from the LOBSTER output documentation):
//   file names  <SYM>_<YYYY-MM-DD>_<start_ms>_<end_ms>_message_<N>.csv and ..._orderbook_<N>.csv
//   message     time,type,order_id,size,price,direction (no header)
//     time       seconds after midnight (exchange local time, America/New_York), up to 9 decimals
//     type       1 new limit order, 2 partial cancel, 3 delete, 4 visible execution,
//                5 hidden execution, 6 cross trade (auction), 7 trading halt indicator
//     price      dollars × 10000; for type 7 the status code -1 halt, 0 quoting, 1 resume
//     direction  1 buy limit order, -1 sell limit order (an execution of a sell order is a
//                buyer-initiated trade)
//   orderbook   ask_px_1,ask_sz_1,bid_px_1,bid_sz_1,...,bid_sz_N: row k is the book after message
//               k; empty levels are ask 9999999999 / bid -9999999999 with size 0.
//
// Events (instrument: NASDAQ, USD, price_decimals 4, tick 100 = $0.01 unless
// SourceOptions::tick_size overrides it, qty_decimals 0, lot 1):
//   1 -> kAdd; 2 -> kCancel (qty = size); 3 -> kCancel (qty = size = the order's remaining size);
//   4 -> kExecution (side = the resting order's side, qty = size); 5 -> kTrade (side = aggressor =
//   opposite of direction; no book effect); 6 -> kTrade (side kNone); 7 -> kStatus (price = code).
//   LOBSTER has one clock: exch_ts_ns = local_ts_ns = local midnight of the file's date (UTC ns)
//   + time (exact for up to 9 decimals; 10-18 decimals, a float printing artifact seen once in
//   the AMZN level-5 sample, "43002.632812672004", are rounded to the nearest ns and counted in
//   "lobster.times_rounded_to_ns"). seq = 1-based line of the message file, record = 0-based message index over all inputs.
//   The last event made from a message carries kEndOfRecord | kComplete.
//
// Visibility (see shared/data/SOURCES.md, section A): a level-N message file holds only events
// touching the top N levels, so the reader keeps a shadow of the visible book and, after message
// k, uses orderbook row k only to
//   - forget levels pushed beyond depth N: kLevelUpdate(side, price, 0) flagged kSeed
//     (counter "lobster.levels_forgotten"); an L3 book drops them with their known orders, and the
//     reader forgets those order ids too (later references: "lobster.forgotten_order_ids");
//   - seed levels coming into view from beyond depth N (worse than every level the shadow holds):
//     kLevelUpdate(side, price, row qty) flagged kSeed ("lobster.seeded_levels");
//   - compare: a row whose top N levels differ from the shadow in any other way is counted in
//     "lobster.row_mismatches" (never patched; first_mismatch() describes the first one).
//   Before message 1 of each file the book is seeded from orderbook row 1 with message 1's effect
//   undone (kLevelUpdate kSeed events emitted before message 1's own event,
//   "lobster.opening_levels"). Cancels / executions of ids never added in the file (orders resting
//   since before the file's start) come out as ordinary kCancel / kExecution events and are taken
//   from the level's anonymous volume by an L3 book ("lobster.unknown_order_ids"). Type 7 messages
//   are counted in "lobster.halts" (-1), "lobster.quoting" (0), "lobster.resumes" (1).
//   Several inputs (files of consecutive days of one symbol) are read as one stream; each later
//   file starts with a kClear event before its opening book.
//
// Errors (mmkit::Error with file, 1-based line and field; zip members are named
// "archive.zip!member"): unparsable or out-of-range fields, a wrong number of fields, an unknown
// type, a direction other than ±1, a non-positive size or price where one is required, a visible
// price off the tick grid, time going backwards, a duplicate add, a cancel / execution that does not
// agree with its known order (side, price, size; a delete must remove the whole remaining size),
// an unknown order id whose level lacks the anonymous volume, an orderbook file with a different
// row count than the message file, a malformed orderbook row (field count, sentinels, level order).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mmkit/data/source.h"

namespace mmkit::data {

/// Parts of a LOBSTER file name "<SYM>_<YYYY-MM-DD>_<start_ms>_<end_ms>_<message|orderbook>_<N>.csv"
/// (a trailing ".gz" is accepted). start_ms / end_ms: milliseconds after midnight.
struct LobsterFileName {
  std::string symbol;
  std::string date;  ///< "YYYY-MM-DD"
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0;
  bool is_message = false;  ///< false: orderbook file
  int levels = 0;           ///< N >= 1
};

/// Parses the base name (no directory) of a LOBSTER file; false if it is not one.
[[nodiscard]] bool parse_lobster_file_name(std::string_view base_name, LobsterFileName& out);

/// One message file with its orderbook file. For zip inputs `zip_path` is the archive and the
/// paths are member names; otherwise `zip_path` is empty and the paths are files.
struct LobsterInput {
  std::string zip_path;
  std::string message_path;
  std::string orderbook_path;
  LobsterFileName name;  ///< parsed from the message file's name
};

/// Resolves user paths into message/orderbook pairs, in the order given: a .zip contributes every
/// message member with its orderbook member (sorted by name); a message CSV pairs with an orderbook
/// CSV among `paths` of the same name, or else the one beside it ("_message_" -> "_orderbook_");
/// an orderbook CSV must pair with a message CSV among `paths`. Keeps only `symbol` when non-empty.
/// Throws mmkit::Error naming the path for anything unpaired, unrecognized or ambiguous (several
/// symbols without a choice, a symbol not present).
[[nodiscard]] std::vector<LobsterInput> resolve_lobster_inputs(const std::vector<std::string>& paths,
                                                               std::string_view symbol = {});

/// The LOBSTER EventSource (L3). Not thread-safe.
class LobsterReader final : public EventSource {
 public:
  /// Opens the first input; throws mmkit::Error if it cannot be opened or if the inputs do not
  /// share one symbol. options.instrument selects a symbol (see resolve_lobster_inputs),
  /// options.tick_size overrides the tick (raw units, default 100 = $0.01).
  LobsterReader(std::vector<LobsterInput> inputs, const SourceOptions& options);
  ~LobsterReader() override;
  LobsterReader(const LobsterReader&) = delete;
  LobsterReader& operator=(const LobsterReader&) = delete;

  [[nodiscard]] const InstrumentSpec& instrument() const override;
  [[nodiscard]] BookLevel book_level() const override { return BookLevel::kL3; }
  [[nodiscard]] std::size_t read(Event* out, std::size_t capacity) override;
  [[nodiscard]] std::uint64_t records() const override;
  /// "<message file>:<line>" for records already read, "record <n>" otherwise.
  [[nodiscard]] std::string locate(std::uint64_t record) const override;
  [[nodiscard]] const Counters& tolerated() const override;
  [[nodiscard]] std::string format() const override { return "lobster"; }

  [[nodiscard]] const std::vector<LobsterInput>& inputs() const noexcept;
  /// Depth N of the input being read (of the first input before any read).
  [[nodiscard]] int levels() const noexcept;
  /// Orderbook rows compared with the shadow book so far (one per message).
  [[nodiscard]] std::uint64_t rows_compared() const noexcept;
  /// Description of the first row that differed from the shadow book; empty when none did.
  [[nodiscard]] const std::string& first_mismatch() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Opens LOBSTER input (paths as in resolve_lobster_inputs) as a LobsterReader. Throws
/// mmkit::Error on unusable paths; malformed content throws from read().
[[nodiscard]] std::unique_ptr<LobsterReader> open_lobster_reader(const std::vector<std::string>& paths,
                                                                 const SourceOptions& options = {});

/// Factory used by open_source(): same as open_lobster_reader.
[[nodiscard]] std::unique_ptr<EventSource> open_lobster(const std::vector<std::string>& paths,
                                                        const SourceOptions& options);

}  // namespace mmkit::data
