// Reader of Binance market-data captures (the hftbacktest collector's format): USD-M futures
// ("binance-usdm") and spot ("binance-spot") depth diffs, REST depth snapshot, trades and
// bookTicker, as one L2 event stream.
//
// Input: text (plain or gzip), one message per line `<local_recv_ts_ns> <json>`:
//   combined-stream messages `{"stream":"<sym>@<type>","data":{…}}` with <type>
//     depth@0ms / depth@100ms / depth  `{"e":"depthUpdate","E","T"?,"s","U","u","pu"?,"b","a"}`
//     trade                          `{"e":"trade","E","T","s","t","p","q","m","X"?,…}`
//     bookTicker                     `{"e"?,"u","s","b","B","a","A","T"?,"E"?}`
//   and one REST depth snapshot `{"lastUpdateId","E"?,"T"?,"bids":[[px,qty],…],"asks":[…]}`.
// Sources: https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams
//          (Diff. Book Depth Streams, Individual Symbol Book Ticker Streams,
//          How-to-manage-a-local-order-book-correctly);
//          https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
//          (Trade Streams, Diff. Depth Stream, "How to manage a local order book correctly").
//
// Futures vs spot: a depth update carrying `pu` is USD-M futures, one without it spot (decided on
// the first depth update of the first file; the other variant later is an error). Without any
// depth update in the first file, a snapshot with `E` means futures.
//
// Several files are read as one stream, in the order given (e.g. `…_20240718.gz`,
// `…_20240719.gz`): the update-id sequence, the local clock and the symbol continue across files.
// The first file must hold the snapshot line.
//
// Book synchronisation (Binance's documented procedure):
//   - depth updates before the snapshot line are buffered; at the snapshot the reader emits
//     kSnapshotStart, kClear, one kLevelUpdate per level (all flagged kSnapshot, seq =
//     lastUpdateId) and kSnapshotEnd (kEndOfRecord | kComplete), then processes the buffered
//     updates (their events carry their own record index and timestamps, so local_ts_ns steps
//     back there), then the following lines;
//   - depth updates with u < lastUpdateId (futures) / u <= lastUpdateId (spot) before the first
//     applied one are dropped (counted "binance.depth_dropped_before_sync"), the first applied
//     must have U <= lastUpdateId <= u (futures) / U <= lastUpdateId+1 <= u (spot), and every
//     later one pu == previous u (futures) / U == previous u + 1 (spot);
//   - an applied update gives one kLevelUpdate per [px, qty] (qty 0 removes the level), all with
//     seq = u, the last flagged kEndOfRecord | kComplete. After it the book must not be crossed.
//   - a later snapshot line is a check, not a reset: when its lastUpdateId equals the last
//     applied u, its levels must equal the book's over the snapshot's price range (else Error);
//     otherwise it cannot be compared and is counted ("binance.snapshots_not_comparable").
//     It produces no events.
// Trades -> kTrade (seq = trade id t; side = aggressor: kAsk when m ("buyer is the maker") is
// true, kBid otherwise). Futures trades with X other than "MARKET" (insurance fund, ADL) are not
// market prints: no event, counted "binance.trades_not_market".
// bookTicker -> kBestBidAsk side kBid (b, B) then kBestBidAsk side kAsk (a, A), seq = u.
//
// Timestamps: local_ts_ns = the line's ns; exch_ts_ns = E (ms) × 1e6. Messages without E (spot
// bookTicker, spot snapshot) get exch_ts_ns = local_ts_ns and flag kNoExchTs (counted
// "binance.no_exch_ts_records"). The captures' local clock runs ~1.27 s behind E; it is kept.
//
// Instrument: symbol = `s`, venue = format(), currency = the symbol's quote asset (e.g. "USDT"),
// price_decimals = qty_decimals = 8, tick_size = GCD of the snapshot prices (raw) unless
// SourceOptions::tick_size is set, lot_size = GCD of the snapshot quantities (both recorded as
// counters "binance.tick_size_inferred_raw" / "binance.lot_size_inferred_raw").
//
// Errors (mmkit::Error with file and 1-based line): a line that is not `<ns> <json>`, local time
// going backwards, unparsable JSON (with the byte column), missing or mistyped fields,
// unparsable decimals, a sequence gap ("sequence gap: expected pu=…, got …"), a first update that
// does not cover the snapshot, a crossed book after an update, a later snapshot that disagrees
// with the book, the symbol or the futures/spot variant changing mid-stream, a first file
// without a snapshot line (a continuation file given alone or first), SourceOptions::instrument
// naming another symbol.
//
// Tolerated and counted: "binance.absent_level_removals" (qty 0 for a level not in the book:
// normal per Binance's procedure, step 9), "binance.empty_depth_updates" (no levels),
// "binance.unsupported_stream_messages" (streams other than depth / trade / bookTicker),
// "binance.empty_lines", "binance.prices_off_tick" (update / trade / ticker prices not a multiple
// of tick_size).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mmkit/data/source.h"

namespace mmkit::data {

/// Opens the Binance capture files `paths` (read as one stream, in order) as an L2 EventSource
/// (format() "binance-usdm" or "binance-spot"). Reads ahead to the snapshot line so that
/// instrument() is valid on return. Not thread-safe. Throws mmkit::Error (file, line) on
/// malformed input, at construction or from read().
[[nodiscard]] std::unique_ptr<EventSource> open_binance(const std::vector<std::string>& paths,
                                                        const SourceOptions& options);

}  // namespace mmkit::data
