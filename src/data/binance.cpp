#include "mmkit/data/binance.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <numeric>
#include <string_view>
#include <utility>

#include "mmkit/core/decimal.h"
#include "mmkit/core/error.h"
#include "mmkit/data/line_reader.h"

namespace mmkit::data {
namespace {

namespace od = simdjson::ondemand;
namespace ef = event_flags;

/// Binance's API precision for prices and quantities (decimal strings with up to 8 digits).
constexpr int kDecimals = 8;
constexpr std::int64_t kNsPerMs = 1'000'000;

enum class Variant : std::uint8_t { kUnknown, kUsdm, kSpot };
enum class StreamKind : std::uint8_t { kDepth, kTrade, kBookTicker, kOther };

StreamKind stream_kind(std::string_view stream) noexcept {
  const std::size_t at = stream.find('@');
  const std::string_view type = at == std::string_view::npos ? stream : stream.substr(at + 1);
  if (type.substr(0, 5) == "depth") return StreamKind::kDepth;
  if (type == "trade") return StreamKind::kTrade;
  if (type == "bookTicker") return StreamKind::kBookTicker;
  return StreamKind::kOther;
}

/// Quote asset of a Binance symbol ("BTCUSDT" -> "USDT", "ETHBTC" -> "BTC", futures delivery
/// "BTCUSDT_240927" -> "USDT"); empty if none of the known quote assets ends it.
std::string_view quote_asset(std::string_view symbol) noexcept {
  const std::size_t us = symbol.find('_');
  if (us != std::string_view::npos) symbol = symbol.substr(0, us);
  static constexpr std::string_view kQuotes[] = {"FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDP",
                                                 "DAI",   "BTC",  "ETH",  "BNB",  "EUR",  "TRY",
                                                 "BRL",   "JPY",  "GBP",  "AUD",  "USD"};
  for (std::string_view q : kQuotes) {
    if (symbol.size() > q.size() && symbol.substr(symbol.size() - q.size()) == q) return q;
  }
  return {};
}

/// Where a line is: for error messages and the events' record index.
struct LineCtx {
  const std::string* file = nullptr;
  std::uint64_t line = 0;      ///< 1-based line in *file
  std::uint64_t record = 0;    ///< 0-based record over all files
  TimestampNs local_ts = 0;
  std::size_t json_col = 0;    ///< 0-based byte column of the JSON text in the line
};

/// Price levels of one book side, best at the back (key = price for bids, -price for asks,
/// ascending), so that changes near the top move little memory.
class SideLevels {
 public:
  struct Lv {
    std::int64_t key;
    Qty qty;
  };
  explicit SideLevels(bool bid) : bid_(bid) {}
  void clear() noexcept { lv_.clear(); }
  /// Sets the level's quantity (0 removes it). Returns false when qty is 0 and the level was
  /// absent.
  bool set(Price px, Qty qty) {
    const std::int64_t key = bid_ ? px : -px;
    auto it = std::lower_bound(lv_.begin(), lv_.end(), key,
                               [](const Lv& l, std::int64_t k) { return l.key < k; });
    const bool found = it != lv_.end() && it->key == key;
    if (qty == 0) {
      if (!found) return false;
      lv_.erase(it);
    } else if (found) {
      it->qty = qty;
    } else {
      lv_.insert(it, Lv{key, qty});
    }
    return true;
  }
  [[nodiscard]] bool empty() const noexcept { return lv_.empty(); }
  [[nodiscard]] Price best() const noexcept {
    return lv_.empty() ? kNoPrice : price_of(lv_.back().key);
  }
  [[nodiscard]] Price price_of(std::int64_t key) const noexcept { return bid_ ? key : -key; }
  [[nodiscard]] const std::vector<Lv>& levels() const noexcept { return lv_; }
  void reserve(std::size_t n) { lv_.reserve(n); }

 private:
  bool bid_;
  std::vector<Lv> lv_;
};

class BinanceSource final : public EventSource {
 public:
  BinanceSource(const std::vector<std::string>& paths, const SourceOptions& options);

  [[nodiscard]] const InstrumentSpec& instrument() const override { return spec_; }
  [[nodiscard]] BookLevel book_level() const override { return BookLevel::kL2; }
  [[nodiscard]] std::size_t read(Event* out, std::size_t capacity) override;
  [[nodiscard]] std::uint64_t records() const override { return records_; }
  [[nodiscard]] std::string locate(std::uint64_t record) const override;
  [[nodiscard]] const Counters& tolerated() const override { return counters_; }
  [[nodiscard]] std::string format() const override {
    return variant_ == Variant::kUsdm ? "binance-usdm" : "binance-spot";
  }

 private:
  struct Pending {
    LineCtx ctx;
    std::size_t ahead_index;
  };
  using Levels = std::vector<std::pair<Price, Qty>>;
  static constexpr std::size_t kNotAhead = static_cast<std::size_t>(-1);

  void read_ahead(const SourceOptions& options);
  [[nodiscard]] std::string_view ahead_line(std::size_t i) const noexcept {
    const std::size_t begin = i == 0 ? 0 : ahead_ends_[i - 1];
    return std::string_view(ahead_text_).substr(begin, ahead_ends_[i] - begin);
  }
  bool next_line(std::string_view& line, LineCtx& ctx, std::size_t& ahead_index);
  bool process_next();
  std::string_view split_line(std::string_view line, LineCtx& ctx) const;
  od::object load(std::string_view json, const LineCtx& c);
  void handle(std::string_view json, const LineCtx& c, std::size_t ahead_index);
  void on_depth(od::object& d, const LineCtx& c);
  void on_trade(od::object& d, const LineCtx& c);
  void on_book_ticker(od::object& d, const LineCtx& c);
  void on_snapshot(od::object& top, const LineCtx& c);
  void parse_snapshot(od::object& top, const LineCtx& c);
  void parse_levels(od::object& obj, const char* key, Levels* into, const Event* proto,
                    const LineCtx& c);
  void verify_snapshot(const LineCtx& c);
  void check_symbol(od::object& d, const LineCtx& c);

  std::uint64_t get_u64(od::object& o, const char* key, const LineCtx& c);
  bool get_opt_u64(od::object& o, const char* key, std::uint64_t& out, const LineCtx& c);
  std::string_view get_str(od::object& o, const char* key, const LineCtx& c);
  std::int64_t get_decimal(od::object& o, const char* key, const LineCtx& c);
  TimestampNs ms_to_ns(std::uint64_t ms, const char* key, const LineCtx& c) const;
  /// Text of a JSON string as written (escapes not decoded: a decimal with one fails to parse).
  [[nodiscard]] std::string_view raw_text(od::raw_json_string raw) const noexcept {
    const char* begin = raw.raw();
    const char* end = padded_.data() + padded_.size();
    const void* quote = std::memchr(begin, '"', static_cast<std::size_t>(end - begin));
    return std::string_view(begin, quote == nullptr ? 0 : static_cast<const char*>(quote) - begin);
  }
  [[noreturn]] void json_fail(simdjson::error_code err, std::string_view field, const LineCtx& c);
  [[noreturn]] void fail(const LineCtx& c, std::string_view field, std::string_view what) const {
    throw_at_line(*c.file, c.line, field, what);
  }
  std::string px_str(Price p) const { return format_decimal(p, kDecimals, spec_.price_display_decimals()); }
  std::string qty_str(Qty q) const { return format_decimal(q, kDecimals, spec_.qty_display_decimals()); }
  void count_off_tick(Price px) {
    if (px % spec_.tick_size != 0) counters_.add("binance.prices_off_tick");
  }

  std::vector<std::string> paths_;
  std::size_t file_index_ = 0;
  std::unique_ptr<LineReader> reader_;
  std::vector<std::uint64_t> file_first_record_;

  // Lines of the first file read by the constructor (up to the snapshot and the first depth
  // update), replayed by read() before the rest.
  std::string ahead_text_;
  std::vector<std::size_t> ahead_ends_;
  std::size_t ahead_pos_ = 0;
  std::vector<Pending> pending_depth_;
  bool flush_pending_ = false;

  simdjson::ondemand::parser parser_;
  simdjson::ondemand::document doc_;
  std::vector<char> padded_;

  InstrumentSpec spec_;
  std::string symbol_;
  Variant variant_ = Variant::kUnknown;
  Counters counters_;

  std::vector<Event> events_;
  std::size_t out_pos_ = 0;
  std::uint64_t records_ = 0;
  TimestampNs last_local_ts_ = std::numeric_limits<TimestampNs>::min();

  bool snapshot_done_ = false;
  bool synced_ = false;
  std::uint64_t snap_id_ = 0;      ///< lastUpdateId of the (first) snapshot
  std::uint64_t book_id_ = 0;      ///< update id of the book state: snap_id_, then the last u
  bool snap_has_e_ = false;
  std::uint64_t snap_e_ = 0;
  Levels snap_bids_, snap_asks_;
  SideLevels bids_{true}, asks_{false};
};

BinanceSource::BinanceSource(const std::vector<std::string>& paths, const SourceOptions& options)
    : paths_(paths), padded_(1 << 16) {
  if (paths_.empty()) throw Error("binance: no input file given");
  if (options.tick_size < 0) {
    throw Error(SourceLocation{paths_.front()}, "tick_size override must be positive");
  }
  reader_ = LineReader::open(paths_.front());
  file_first_record_.push_back(0);
  events_.reserve(4096);
  read_ahead(options);
}

// Reads the first file up to its snapshot line, its first depth update (futures or spot) and
// its first symbol, whichever comes last, keeping the lines for read().
void BinanceSource::read_ahead(const SourceOptions& options) {
  bool have_snapshot = false;
  std::uint64_t first_depth_line = 0;
  std::string_view line;
  LineCtx c;
  c.file = &paths_.front();
  Price tick = 0;
  Qty lot = 0;
  while (!(have_snapshot && variant_ != Variant::kUnknown && !symbol_.empty()) &&
         reader_->next(line)) {
    ahead_text_.append(line);
    ahead_ends_.push_back(ahead_text_.size());
    c.line = reader_->line_number();
    if (line.empty()) continue;
    const std::string_view json = split_line(line, c);
    od::object top = load(json, c);
    std::string_view stream;
    const auto err = top.find_field_unordered("stream").get_string().get(stream);
    if (err == simdjson::SUCCESS) {
      const StreamKind kind = stream_kind(stream);
      if (kind == StreamKind::kOther) continue;
      od::object data;
      if (const auto e = top.find_field_unordered("data").get_object().get(data)) json_fail(e, "data", c);
      if (symbol_.empty()) symbol_ = std::string(get_str(data, "s", c));
      if (kind == StreamKind::kDepth && variant_ == Variant::kUnknown) {
        std::uint64_t pu = 0;
        variant_ = get_opt_u64(data, "pu", pu, c) ? Variant::kUsdm : Variant::kSpot;
        first_depth_line = c.line;
      }
    } else if (err == simdjson::NO_SUCH_FIELD) {
      if (have_snapshot) continue;
      parse_snapshot(top, c);
      have_snapshot = true;
      for (const auto& lv : snap_bids_) {
        tick = std::gcd(tick, lv.first);
        lot = std::gcd(lot, lv.second);
      }
      for (const auto& lv : snap_asks_) {
        tick = std::gcd(tick, lv.first);
        lot = std::gcd(lot, lv.second);
      }
    } else {
      json_fail(err, "stream", c);
    }
  }
  if (!have_snapshot) {
    std::string what =
        "no depth snapshot line ({\"lastUpdateId\":…,\"bids\":…,\"asks\":…}) in the first file";
    if (first_depth_line != 0) {
      what += "; it continues a depth stream begun elsewhere: give the file that holds the "
              "snapshot first";
    }
    throw_at_line(paths_.front(), first_depth_line, {}, what);
  }
  if (symbol_.empty()) {
    throw Error(SourceLocation{paths_.front()}, "no stream message with a symbol 's' in the first file");
  }
  if (variant_ == Variant::kUnknown) variant_ = snap_has_e_ ? Variant::kUsdm : Variant::kSpot;
  if (!options.instrument.empty()) {
    std::string want = options.instrument;
    for (char& ch : want) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (want != symbol_) {
      throw Error(SourceLocation{paths_.front()},
                  "holds symbol " + symbol_ + ", not the requested instrument " + options.instrument);
    }
  }
  spec_.set_symbol(symbol_);
  spec_.set_venue(format());
  const std::string_view quote = quote_asset(symbol_);
  if (quote.empty()) counters_.add("binance.unknown_quote_asset");
  spec_.set_currency(quote);
  spec_.price_decimals = kDecimals;
  spec_.qty_decimals = kDecimals;
  if (options.tick_size > 0) {
    spec_.tick_size = options.tick_size;
  } else {
    spec_.tick_size = tick > 0 ? tick : 1;
    counters_.add("binance.tick_size_inferred_raw", static_cast<std::uint64_t>(spec_.tick_size));
  }
  spec_.lot_size = lot > 0 ? lot : 1;
  counters_.add("binance.lot_size_inferred_raw", static_cast<std::uint64_t>(spec_.lot_size));
  snap_bids_.clear();
  snap_asks_.clear();
  snap_has_e_ = false;
}

bool BinanceSource::next_line(std::string_view& line, LineCtx& ctx, std::size_t& ahead_index) {
  if (ahead_pos_ < ahead_ends_.size()) {
    ahead_index = ahead_pos_;
    line = ahead_line(ahead_pos_);
    ctx.file = &paths_.front();
    ctx.line = ++ahead_pos_;
    return true;
  }
  ahead_index = kNotAhead;
  for (;;) {
    if (reader_->next(line)) {
      ctx.file = &paths_[file_index_];
      ctx.line = reader_->line_number();
      return true;
    }
    if (file_index_ + 1 >= paths_.size()) return false;
    ++file_index_;
    reader_ = LineReader::open(paths_[file_index_]);
    file_first_record_.push_back(records_);
  }
}

std::string_view BinanceSource::split_line(std::string_view line, LineCtx& c) const {
  const std::size_t sp = line.find(' ');
  std::int64_t ts = 0;
  if (sp == std::string_view::npos || !parse_int(line.substr(0, sp), ts) || ts < 0) {
    fail(c, "local_ts", "expected '<local_recv_ts_ns> <json>', got '" +
                            std::string(line.substr(0, std::min<std::size_t>(line.size(), 40))) + "'");
  }
  c.local_ts = ts;
  c.json_col = sp + 1;
  return line.substr(sp + 1);
}

od::object BinanceSource::load(std::string_view json, const LineCtx& c) {
  if (padded_.size() < json.size() + simdjson::SIMDJSON_PADDING) {
    padded_.resize(json.size() + simdjson::SIMDJSON_PADDING);
  }
  std::memcpy(padded_.data(), json.data(), json.size());
  if (const auto err = parser_.iterate(padded_.data(), json.size(), padded_.size()).get(doc_)) {
    json_fail(err, {}, c);
  }
  od::object top;
  if (const auto err = doc_.get_object().get(top)) json_fail(err, {}, c);
  return top;
}

void BinanceSource::json_fail(simdjson::error_code err, std::string_view field, const LineCtx& c) {
  if (err == simdjson::NO_SUCH_FIELD) fail(c, field, "missing field");
  if (err == simdjson::INCORRECT_TYPE) fail(c, field, "unexpected JSON type");
  std::string what = "unparsable JSON";
  const char* at = nullptr;
  if (doc_.current_location().get(at) == simdjson::SUCCESS && at >= padded_.data() &&
      at < padded_.data() + padded_.size()) {
    what += " at column ";
    what += std::to_string(static_cast<std::size_t>(at - padded_.data()) + c.json_col + 1);
  }
  what += ": ";
  what += simdjson::error_message(err);
  fail(c, field, what);
}

std::uint64_t BinanceSource::get_u64(od::object& o, const char* key, const LineCtx& c) {
  std::uint64_t v = 0;
  if (const auto err = o.find_field_unordered(key).get_uint64().get(v)) json_fail(err, key, c);
  return v;
}

bool BinanceSource::get_opt_u64(od::object& o, const char* key, std::uint64_t& out,
                                const LineCtx& c) {
  const auto err = o.find_field_unordered(key).get_uint64().get(out);
  if (err == simdjson::NO_SUCH_FIELD) return false;
  if (err) json_fail(err, key, c);
  return true;
}

std::string_view BinanceSource::get_str(od::object& o, const char* key, const LineCtx& c) {
  std::string_view v;
  if (const auto err = o.find_field_unordered(key).get_string().get(v)) json_fail(err, key, c);
  return v;
}

std::int64_t BinanceSource::get_decimal(od::object& o, const char* key, const LineCtx& c) {
  od::raw_json_string raw;
  if (const auto err = o.find_field_unordered(key).get_raw_json_string().get(raw)) json_fail(err, key, c);
  const std::string_view s = raw_text(raw);
  std::int64_t v = 0;
  if (!parse_decimal(s, kDecimals, v) || v < 0) {
    fail(c, key, "unparsable decimal '" + std::string(s) + "' (non-negative, at most 8 decimals)");
  }
  return v;
}

TimestampNs BinanceSource::ms_to_ns(std::uint64_t ms, const char* key, const LineCtx& c) const {
  if (ms > static_cast<std::uint64_t>(std::numeric_limits<TimestampNs>::max() / kNsPerMs)) {
    fail(c, key, "exchange time " + std::to_string(ms) + " ms is out of range");
  }
  return static_cast<TimestampNs>(ms) * kNsPerMs;
}

void BinanceSource::check_symbol(od::object& d, const LineCtx& c) {
  const std::string_view s = get_str(d, "s", c);
  if (s != symbol_) {
    fail(c, "s", "symbol changed mid-stream: " + std::string(s) + " after " + symbol_);
  }
}

bool BinanceSource::process_next() {
  std::string_view line;
  LineCtx c;
  c.record = records_;
  std::size_t ahead_index = kNotAhead;
  if (!next_line(line, c, ahead_index)) return false;
  ++records_;
  if (line.empty()) {
    counters_.add("binance.empty_lines");
    return true;
  }
  const std::string_view json = split_line(line, c);
  if (c.local_ts < last_local_ts_) {
    fail(c, "local_ts", "local timestamp goes backwards: " + std::to_string(c.local_ts) +
                            " after " + std::to_string(last_local_ts_));
  }
  last_local_ts_ = c.local_ts;
  handle(json, c, ahead_index);
  if (flush_pending_) {
    flush_pending_ = false;
    for (const Pending& p : pending_depth_) {
      handle(ahead_line(p.ahead_index).substr(p.ctx.json_col), p.ctx, kNotAhead);
    }
    pending_depth_.clear();
    pending_depth_.shrink_to_fit();
  }
  return true;
}

void BinanceSource::handle(std::string_view json, const LineCtx& c, std::size_t ahead_index) {
  od::object top = load(json, c);
  std::string_view stream;
  const auto err = top.find_field_unordered("stream").get_string().get(stream);
  if (err == simdjson::NO_SUCH_FIELD) {
    on_snapshot(top, c);
    return;
  }
  if (err) json_fail(err, "stream", c);
  const StreamKind kind = stream_kind(stream);
  if (kind == StreamKind::kOther) {
    counters_.add("binance.unsupported_stream_messages");
    return;
  }
  od::object data;
  if (const auto e = top.find_field_unordered("data").get_object().get(data)) json_fail(e, "data", c);
  switch (kind) {
    case StreamKind::kDepth:
      if (!snapshot_done_) {
        // The constructor read ahead at least to the snapshot line.
        if (ahead_index == kNotAhead) fail(c, {}, "internal: depth update before the snapshot was not read ahead");
        check_symbol(data, c);
        pending_depth_.push_back(Pending{c, ahead_index});
        return;
      }
      on_depth(data, c);
      return;
    case StreamKind::kTrade: on_trade(data, c); return;
    case StreamKind::kBookTicker: on_book_ticker(data, c); return;
    case StreamKind::kOther: return;
  }
}

void BinanceSource::parse_levels(od::object& obj, const char* key, Levels* into,
                                 const Event* proto, const LineCtx& c) {
  od::array arr;
  if (const auto err = obj.find_field_unordered(key).get_array().get(arr)) json_fail(err, key, c);
  const bool bid = key[0] == 'b';
  for (auto item : arr) {
    od::array pair;
    if (const auto err = item.get_array().get(pair)) json_fail(err, key, c);
    std::string_view parts[2];
    std::size_t n = 0;
    for (auto x : pair) {
      od::raw_json_string raw;
      if (const auto err = x.get_raw_json_string().get(raw)) json_fail(err, key, c);
      if (n < 2) parts[n] = raw_text(raw);
      ++n;
    }
    if (n != 2) fail(c, key, "expected [price, qty], got " + std::to_string(n) + " elements");
    Price px = 0;
    Qty qty = 0;
    if (!parse_decimal(parts[0], kDecimals, px) || px <= 0) {
      fail(c, key, "unparsable price '" + std::string(parts[0]) + "' (positive, at most 8 decimals)");
    }
    if (!parse_decimal(parts[1], kDecimals, qty) || qty < 0) {
      fail(c, key, "unparsable quantity '" + std::string(parts[1]) +
                       "' (non-negative, at most 8 decimals)");
    }
    if (into != nullptr) {
      into->emplace_back(px, qty);
      continue;
    }
    count_off_tick(px);
    if (!(bid ? bids_ : asks_).set(px, qty)) counters_.add("binance.absent_level_removals");
    Event& e = events_.emplace_back(*proto);
    e.side = bid ? Side::kBid : Side::kAsk;
    e.price = px;
    e.qty = qty;
  }
}

void BinanceSource::on_depth(od::object& d, const LineCtx& c) {
  const TimestampNs exch = ms_to_ns(get_u64(d, "E", c), "E", c);
  check_symbol(d, c);
  const std::uint64_t first_id = get_u64(d, "U", c);
  const std::uint64_t final_id = get_u64(d, "u", c);
  std::uint64_t prev_id = 0;
  const bool has_pu = get_opt_u64(d, "pu", prev_id, c);
  const bool usdm = variant_ == Variant::kUsdm;
  if (usdm && !has_pu) fail(c, "pu", "missing field in a binance-usdm depth update");
  if (!usdm && has_pu) fail(c, "pu", "a USD-M futures depth update in a binance-spot stream");
  if (first_id > final_id) {
    fail(c, "U", "first update id " + std::to_string(first_id) + " > final update id " +
                     std::to_string(final_id));
  }
  if (!synced_) {
    if (usdm ? final_id < snap_id_ : final_id <= snap_id_) {
      counters_.add("binance.depth_dropped_before_sync");
      return;
    }
    const std::uint64_t target = usdm ? snap_id_ : snap_id_ + 1;
    if (!(first_id <= target && target <= final_id)) {
      fail(c, "U", std::string("first depth update after the snapshot does not cover ") +
                       (usdm ? "lastUpdateId=" : "lastUpdateId+1=") + std::to_string(target) +
                       ": U=" + std::to_string(first_id) + ", u=" + std::to_string(final_id));
    }
    synced_ = true;
  } else if (usdm) {
    if (prev_id != book_id_) {
      fail(c, "pu", "sequence gap: expected pu=" + std::to_string(book_id_) + ", got " +
                        std::to_string(prev_id));
    }
  } else if (first_id != book_id_ + 1) {
    fail(c, "U", "sequence gap: expected U=" + std::to_string(book_id_ + 1) + ", got " +
                     std::to_string(first_id));
  }
  book_id_ = final_id;
  Event proto;
  proto.exch_ts_ns = exch;
  proto.local_ts_ns = c.local_ts;
  proto.seq = final_id;
  proto.record = c.record;
  proto.kind = EventKind::kLevelUpdate;
  const std::size_t first = events_.size();
  parse_levels(d, "b", nullptr, &proto, c);
  parse_levels(d, "a", nullptr, &proto, c);
  if (events_.size() == first) {
    counters_.add("binance.empty_depth_updates");
    return;
  }
  events_.back().flags |= ef::kEndOfRecord | ef::kComplete;
  if (!bids_.empty() && !asks_.empty() && bids_.best() >= asks_.best()) {
    fail(c, {}, "book crossed after depth update u=" + std::to_string(final_id) + ": best bid " +
                    px_str(bids_.best()) + " >= best ask " + px_str(asks_.best()));
  }
}

void BinanceSource::on_trade(od::object& d, const LineCtx& c) {
  const TimestampNs exch = ms_to_ns(get_u64(d, "E", c), "E", c);
  check_symbol(d, c);
  const std::uint64_t id = get_u64(d, "t", c);
  const Price px = get_decimal(d, "p", c);
  const Qty qty = get_decimal(d, "q", c);
  std::string_view exec_type;
  const auto xerr = d.find_field_unordered("X").get_string().get(exec_type);
  if (xerr != simdjson::NO_SUCH_FIELD) {
    if (xerr) json_fail(xerr, "X", c);
    if (exec_type != "MARKET") {
      counters_.add("binance.trades_not_market");
      return;
    }
  }
  bool buyer_is_maker = false;
  if (const auto err = d.find_field_unordered("m").get_bool().get(buyer_is_maker)) json_fail(err, "m", c);
  count_off_tick(px);
  Event& e = events_.emplace_back();
  e.exch_ts_ns = exch;
  e.local_ts_ns = c.local_ts;
  e.price = px;
  e.qty = qty;
  e.seq = id;
  e.record = c.record;
  e.kind = EventKind::kTrade;
  e.side = buyer_is_maker ? Side::kAsk : Side::kBid;
  e.flags = ef::kEndOfRecord;
}

void BinanceSource::on_book_ticker(od::object& d, const LineCtx& c) {
  const std::uint64_t id = get_u64(d, "u", c);
  check_symbol(d, c);
  const Price bid_px = get_decimal(d, "b", c);
  const Qty bid_qty = get_decimal(d, "B", c);
  const Price ask_px = get_decimal(d, "a", c);
  const Qty ask_qty = get_decimal(d, "A", c);
  std::uint64_t e_ms = 0;
  const bool has_e = get_opt_u64(d, "E", e_ms, c);
  Event proto;
  proto.exch_ts_ns = has_e ? ms_to_ns(e_ms, "E", c) : c.local_ts;
  proto.local_ts_ns = c.local_ts;
  proto.seq = id;
  proto.record = c.record;
  proto.kind = EventKind::kBestBidAsk;
  if (!has_e) {
    proto.flags = ef::kNoExchTs;
    counters_.add("binance.no_exch_ts_records");
  }
  count_off_tick(bid_px);
  count_off_tick(ask_px);
  Event& b = events_.emplace_back(proto);
  b.side = Side::kBid;
  b.price = bid_px;
  b.qty = bid_qty;
  Event& a = events_.emplace_back(proto);
  a.side = Side::kAsk;
  a.price = ask_px;
  a.qty = ask_qty;
  a.flags |= ef::kEndOfRecord;
}

void BinanceSource::parse_snapshot(od::object& top, const LineCtx& c) {
  snap_bids_.clear();
  snap_asks_.clear();
  std::uint64_t id = 0;
  if (const auto err = top.find_field_unordered("lastUpdateId").get_uint64().get(id)) {
    if (err == simdjson::NO_SUCH_FIELD) {
      fail(c, {}, "unrecognized message: neither a combined-stream message ('stream') nor a depth "
                  "snapshot ('lastUpdateId')");
    }
    json_fail(err, "lastUpdateId", c);
  }
  snap_has_e_ = get_opt_u64(top, "E", snap_e_, c);
  parse_levels(top, "bids", &snap_bids_, nullptr, c);
  parse_levels(top, "asks", &snap_asks_, nullptr, c);
  for (std::size_t i = 0; i < snap_bids_.size(); ++i) {
    if (snap_bids_[i].second == 0) fail(c, "bids", "zero quantity at " + px_str(snap_bids_[i].first));
    if (i > 0 && snap_bids_[i].first >= snap_bids_[i - 1].first) {
      fail(c, "bids", "prices not strictly descending at " + px_str(snap_bids_[i].first));
    }
  }
  for (std::size_t i = 0; i < snap_asks_.size(); ++i) {
    if (snap_asks_[i].second == 0) fail(c, "asks", "zero quantity at " + px_str(snap_asks_[i].first));
    if (i > 0 && snap_asks_[i].first <= snap_asks_[i - 1].first) {
      fail(c, "asks", "prices not strictly ascending at " + px_str(snap_asks_[i].first));
    }
  }
  if (!snap_bids_.empty() && !snap_asks_.empty() &&
      snap_bids_.front().first >= snap_asks_.front().first) {
    fail(c, {}, "crossed snapshot: best bid " + px_str(snap_bids_.front().first) +
                    " >= best ask " + px_str(snap_asks_.front().first));
  }
  snap_id_ = id;
}

void BinanceSource::on_snapshot(od::object& top, const LineCtx& c) {
  if (snapshot_done_) {
    const std::uint64_t first_id = snap_id_;
    parse_snapshot(top, c);
    const std::uint64_t id = snap_id_;
    snap_id_ = first_id;
    if (id != book_id_) {
      counters_.add("binance.snapshots_not_comparable");
      return;
    }
    verify_snapshot(c);
    counters_.add("binance.snapshots_verified");
    return;
  }
  parse_snapshot(top, c);
  snapshot_done_ = true;
  book_id_ = snap_id_;
  flush_pending_ = !pending_depth_.empty();

  Event proto;
  proto.exch_ts_ns = snap_has_e_ ? ms_to_ns(snap_e_, "E", c) : c.local_ts;
  proto.local_ts_ns = c.local_ts;
  proto.seq = snap_id_;
  proto.record = c.record;
  proto.flags = ef::kSnapshot;
  if (!snap_has_e_) {
    proto.flags |= ef::kNoExchTs;
    counters_.add("binance.no_exch_ts_records");
  }
  events_.reserve(events_.size() + snap_bids_.size() + snap_asks_.size() + 3);
  events_.emplace_back(proto).kind = EventKind::kSnapshotStart;
  events_.emplace_back(proto).kind = EventKind::kClear;
  bids_.clear();
  asks_.clear();
  bids_.reserve(snap_bids_.size() * 2);
  asks_.reserve(snap_asks_.size() * 2);
  for (std::size_t i = snap_bids_.size(); i-- > 0;) {
    bids_.set(snap_bids_[i].first, snap_bids_[i].second);
  }
  for (std::size_t i = snap_asks_.size(); i-- > 0;) {
    asks_.set(snap_asks_[i].first, snap_asks_[i].second);
  }
  for (const auto& [px, qty] : snap_bids_) {
    Event& e = events_.emplace_back(proto);
    e.kind = EventKind::kLevelUpdate;
    e.side = Side::kBid;
    e.price = px;
    e.qty = qty;
  }
  for (const auto& [px, qty] : snap_asks_) {
    Event& e = events_.emplace_back(proto);
    e.kind = EventKind::kLevelUpdate;
    e.side = Side::kAsk;
    e.price = px;
    e.qty = qty;
  }
  Event& end = events_.emplace_back(proto);
  end.kind = EventKind::kSnapshotEnd;
  end.flags |= ef::kEndOfRecord | ef::kComplete;
  snap_bids_.clear();
  snap_asks_.clear();
}

// A later snapshot at the book's own update id must show the book's levels over its price range.
void BinanceSource::verify_snapshot(const LineCtx& c) {
  const auto check = [&](const Levels& snap, const SideLevels& book, const char* field) {
    const auto& lv = book.levels();
    std::size_t i = 0;
    auto it = lv.rbegin();
    for (; i < snap.size() && it != lv.rend(); ++i, ++it) {
      const Price bp = book.price_of(it->key);
      if (bp != snap[i].first || it->qty != snap[i].second) {
        fail(c, field, "snapshot disagrees with the book at update id " + std::to_string(book_id_) +
                           ": level " + std::to_string(i) + " is " + px_str(snap[i].first) + " x " +
                           qty_str(snap[i].second) + " in the snapshot, " + px_str(bp) + " x " +
                           qty_str(it->qty) + " in the book");
      }
    }
    if (i < snap.size()) {
      fail(c, field, "snapshot disagrees with the book at update id " + std::to_string(book_id_) +
                         ": the snapshot has " + std::to_string(snap.size()) +
                         " levels, the book " + std::to_string(lv.size()));
    }
  };
  check(snap_bids_, bids_, "bids");
  check(snap_asks_, asks_, "asks");
  snap_bids_.clear();
  snap_asks_.clear();
}

std::size_t BinanceSource::read(Event* out, std::size_t capacity) {
  std::size_t n = 0;
  while (n < capacity) {
    if (out_pos_ < events_.size()) {
      const std::size_t k = std::min(capacity - n, events_.size() - out_pos_);
      std::memcpy(static_cast<void*>(out + n), events_.data() + out_pos_, k * sizeof(Event));
      n += k;
      out_pos_ += k;
      continue;
    }
    events_.clear();
    out_pos_ = 0;
    if (!process_next()) break;
  }
  return n;
}

std::string BinanceSource::locate(std::uint64_t record) const {
  const auto it = std::upper_bound(file_first_record_.begin(), file_first_record_.end(), record);
  const std::size_t file = static_cast<std::size_t>(it - file_first_record_.begin()) - 1;
  return paths_[file] + ":" + std::to_string(record - file_first_record_[file] + 1);
}

}  // namespace

std::unique_ptr<EventSource> open_binance(const std::vector<std::string>& paths,
                                          const SourceOptions& options) {
  return std::make_unique<BinanceSource>(paths, options);
}

}  // namespace mmkit::data
