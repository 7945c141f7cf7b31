// Replaying an EventSource into a book: the validated pipeline behind `mmkit book` and the
// replay benchmarks.
//
// Validation: every event a book rejects (Errc != kOk) and every crossed book at a kComplete
// point (best bid >= best ask after a complete venue update) is an mmkit::Error naming the
// source record (EventSource::locate) and what is wrong. A crossed book at a point flagged
// kAuction (venue pre-open, e.g. CME Globex before the opening auction) is counted instead.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <vector>
#include <string>

#include "mmkit/book/book.h"
#include "mmkit/data/source.h"

namespace mmkit::book {

/// Which implementation replays the stream. kAuto: L3Book for L3 streams, L2Book for L2 ones.
enum class BookImpl : std::uint8_t { kAuto, kFast, kNaive };

struct BookCsvOptions {
  std::size_t depth = 10;   ///< levels per side written (columns bid/ask px/qty 1..depth)
  std::uint64_t every = 1;  ///< a row after every K-th source record (records K-1, 2K-1, …)
  BookImpl impl = BookImpl::kAuto;
};

struct ReplaySummary {
  std::uint64_t events = 0;   ///< events applied
  std::uint64_t records = 0;  ///< source records consumed (EventSource::records at the end)
  std::uint64_t rows = 0;     ///< CSV rows written (0 when no CSV)
  std::uint64_t complete_points = 0;  ///< kComplete events at which crossing was checked
  std::uint64_t crossed_in_auction = 0;  ///< crossed kComplete points flagged kAuction (allowed)
  BookStats book_stats;
  data::Counters tolerated;   ///< the reader's counters at the end
  std::size_t final_bid_depth = 0, final_ask_depth = 0;
  Level final_best_bid, final_best_ask;
};

/// Writes the book after every `options.every`-th source record to `out` as CSV, in source
/// order, so that with every = 1 data row i (0-based) belongs to record i. Header:
///   exch_ts_ns,seq,bid_px_1,bid_qty_1,ask_px_1,ask_qty_1,…,ask_qty_N
/// Prices and quantities are decimals in the instrument's units (InstrumentSpec display
/// decimals); empty levels are left blank; exch_ts_ns and seq are those of the record's last
/// event (blank for a record that produced no event). Throws mmkit::Error as described above,
/// and on a write failure.
ReplaySummary write_book_csv(data::EventSource& source, std::FILE* out, const BookCsvOptions& options);

/// Replays the whole stream into a fresh book (validated as above) without output.
ReplaySummary replay(data::EventSource& source, BookImpl impl = BookImpl::kAuto);

/// The book against the venue's own top of book. A kBestBidAsk pair (bid event, then ask
/// event) whose seq equals the seq of the last applied depth update (kLevelUpdate with
/// kComplete) shows the best bid/ask of exactly that book state (Binance USD-M bookTicker `u`
/// == depthUpdate `u`, see the Binance "How to manage a local order book correctly" guide); each
/// such pair is a point, compared on best bid and ask price and quantity.
struct BboCheck {
  std::uint64_t points = 0;
  std::uint64_t mismatches = 0;
  std::string first_mismatch;  ///< locate() of the first mismatching record and the values
  ReplaySummary replay;
};
BboCheck check_venue_bbo(data::EventSource& source, BookImpl impl = BookImpl::kAuto);

/// Wall-clock seconds of `repeats` full replays (open + read + apply + validation), each on a
/// fresh source from `open`. For benchmarks only (the clock is read once per repetition).
struct ReplayTiming {
  std::uint64_t events = 0;
  std::uint64_t records = 0;
  std::vector<double> seconds;
};
ReplayTiming time_replay(const std::function<std::unique_ptr<data::EventSource>()>& open,
                         int repeats, BookImpl impl = BookImpl::kAuto);

}  // namespace mmkit::book
