#include "mmkit/data/lobster.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <filesystem>
#include <utility>

#include "mmkit/core/decimal.h"
#include "mmkit/core/error.h"
#include "mmkit/core/time.h"
#include "mmkit/data/line_reader.h"

namespace mmkit::data {
namespace {

/// Orderbook-file sentinels of an empty level (LOBSTER ReadMe, "Unoccupied Price Levels").
constexpr Price kAskSentinel = 9'999'999'999;
constexpr Price kBidSentinel = -9'999'999'999;
/// $0.01 at price_decimals 4.
constexpr Price kDefaultTick = 100;
constexpr std::size_t kMessageFields = 6;
constexpr const char* kTimeZone = "America/New_York";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view base_name_of(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// "X_message_N.csv" -> "X_orderbook_N.csv" (last occurrence in the base name); empty if none.
std::string orderbook_name_for(std::string_view message_path) {
  const std::size_t base = message_path.size() - base_name_of(message_path).size();
  const std::size_t at = message_path.rfind("_message_");
  if (at == std::string_view::npos || at < base) return {};
  std::string out(message_path.substr(0, at));
  out += "_orderbook_";
  out += message_path.substr(at + 9);
  return out;
}

[[noreturn]] void fail(const LineReader& r, std::string_view field, const std::string& what) {
  throw_at_line(r.name(), r.line_number(), field, what);
}

[[noreturn]] void fail_at(const LineReader& r, std::uint64_t line, std::string_view field,
                          const std::string& what) {
  throw_at_line(r.name(), line, field, what);
}

const char* side_word(Side s) { return s == Side::kBid ? "bid" : "ask"; }

/// A price level of the visible (shadow) book. `known` is the volume of orders added in the file
/// and still resting; total - known is anonymous. `uid` identifies this incarnation of the level:
/// an order whose level_uid differs was dropped with a forgotten level.
struct ShadowLevel {
  Price price;
  Qty total;
  Qty known;
  std::uint64_t uid;
};

/// One side of the shadow book, best level first (at most N + 1 levels between messages).
class ShadowSide {
 public:
  explicit ShadowSide(bool bid) : bid_(bid) { levels.reserve(32); }

  [[nodiscard]] bool better(Price a, Price b) const noexcept { return bid_ ? a > b : a < b; }

  [[nodiscard]] ShadowLevel* find(Price p) noexcept {
    for (ShadowLevel& l : levels) {
      if (l.price == p) return &l;
      if (better(p, l.price)) return nullptr;
    }
    return nullptr;
  }

  ShadowLevel& insert(Price p, Qty total, Qty known, std::uint64_t uid) {
    auto it = levels.begin();
    while (it != levels.end() && better(it->price, p)) ++it;
    return *levels.insert(it, ShadowLevel{p, total, known, uid});
  }

  void erase(const ShadowLevel* l) {
    levels.erase(levels.begin() + (l - levels.data()));
  }

  std::vector<ShadowLevel> levels;

 private:
  bool bid_;
};

/// An order added in the message file and not yet removed.
struct OrderState {
  std::uint64_t id;
  Price price;
  Qty remaining;
  std::uint64_t level_uid;
  Side side;
};

/// Open-addressing (linear probing, backward-shift deletion) map id -> OrderState; no allocation
/// per order. Order ids are parsed from non-negative int64, so kEmpty never is one.
class OrderMap {
 public:
  OrderMap() { reset(1u << 14); }

  [[nodiscard]] OrderState* find(std::uint64_t id) noexcept {
    for (std::size_t i = home(id);; i = (i + 1) & mask_) {
      OrderState& s = slots_[i];
      if (s.id == id) return &s;
      if (s.id == kEmpty) return nullptr;
    }
  }

  /// Precondition: `id` is absent.
  OrderState& insert(std::uint64_t id) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    std::size_t i = home(id);
    while (slots_[i].id != kEmpty) i = (i + 1) & mask_;
    slots_[i].id = id;
    ++size_;
    return slots_[i];
  }

  void erase(OrderState* s) noexcept {
    std::size_t i = static_cast<std::size_t>(s - slots_.data());
    for (std::size_t j = (i + 1) & mask_; slots_[j].id != kEmpty; j = (j + 1) & mask_) {
      const std::size_t k = home(slots_[j].id);
      const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (!stays) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i].id = kEmpty;
    --size_;
  }

  void clear() { reset(slots_.size()); }

 private:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};

  [[nodiscard]] std::size_t home(std::uint64_t id) const noexcept {
    return static_cast<std::size_t>((id * 0x9E3779B97F4A7C15ull) >> shift_);
  }

  void reset(std::size_t capacity) {
    slots_.assign(capacity, OrderState{kEmpty, 0, 0, 0, Side::kNone});
    mask_ = capacity - 1;
    shift_ = 64 - static_cast<int>(std::countr_zero(capacity));
    size_ = 0;
  }

  void grow() {
    std::vector<OrderState> old;
    old.swap(slots_);
    reset(old.size() * 2);
    for (const OrderState& s : old) {
      if (s.id == kEmpty) continue;
      std::size_t i = home(s.id);
      while (slots_[i].id != kEmpty) i = (i + 1) & mask_;
      slots_[i] = s;
      ++size_;
    }
  }

  std::vector<OrderState> slots_;
  std::size_t mask_ = 0;
  int shift_ = 64;
  std::size_t size_ = 0;
};

struct Message {
  TimestampNs ts;
  std::int64_t type;
  std::int64_t id;
  Qty size;
  Price price;
  Side side;  ///< from the direction column: the side of the limit order
};

struct RowLevel {
  Price price;
  Qty qty;
};

/// Fast path for an orderbook row: exactly `count` comma-separated integers "-?[0-9]{1,18}".
/// False on anything else; the caller then re-parses with split_fields / parse_int (same accepted
/// language, precise errors).
bool scan_ints(std::string_view line, std::int64_t* out, std::size_t count) noexcept {
  const char* p = line.data();
  const char* const end = p + line.size();
  for (std::size_t k = 0; k < count; ++k) {
    const bool neg = p < end && *p == '-';
    if (neg) ++p;
    const char* const start = p;
    std::int64_t v = 0;
    while (p < end && static_cast<unsigned>(*p - '0') < 10u) v = v * 10 + (*p++ - '0');
    if (p == start || p - start > 18) return false;
    out[k] = neg ? -v : v;
    if (k + 1 < count) {
      if (p == end || *p != ',') return false;
      ++p;
    }
  }
  return p == end;
}

/// Seconds after midnight -> ns. Up to 9 decimals: exact (parse_seconds_ns). 10 to 18 decimals
/// (a float printing artifact in LOBSTER's output, e.g. "43002.632812672004" in the AMZN level-5
/// sample): rounded to the nearest ns, `rounded` set.
bool parse_time(std::string_view s, std::int64_t& ns, bool& rounded) noexcept {
  rounded = false;
  const std::size_t dot = s.find('.');
  if (dot == std::string_view::npos || s.size() - dot - 1 <= 9) return parse_seconds_ns(s, ns);
  const std::string_view extra = s.substr(dot + 10);
  if (extra.size() > 9 || !all_digits(extra) || !parse_seconds_ns(s.substr(0, dot + 10), ns)) {
    return false;
  }
  if (extra[0] >= '5') ++ns;
  rounded = true;
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// File names and inputs

bool parse_lobster_file_name(std::string_view name, LobsterFileName& out) {
  if (ends_with(name, ".gz")) name.remove_suffix(3);
  if (!ends_with(name, ".csv")) return false;
  name.remove_suffix(4);
  std::string_view parts[5];
  for (int i = 4; i >= 0; --i) {
    const std::size_t us = name.rfind('_');
    if (us == std::string_view::npos) return false;
    parts[i] = name.substr(us + 1);
    name = name.substr(0, us);
  }
  // parts: date, start, end, kind, levels; name: symbol
  const std::string_view date = parts[0];
  if (name.empty() || date.size() != 10 || date[4] != '-' || date[7] != '-' ||
      !all_digits(date.substr(0, 4)) || !all_digits(date.substr(5, 2)) ||
      !all_digits(date.substr(8, 2))) {
    return false;
  }
  std::int64_t start = 0, end = 0, levels = 0;
  if (!all_digits(parts[1]) || !all_digits(parts[2]) || !all_digits(parts[4]) ||
      !parse_int(parts[1], start) || !parse_int(parts[2], end) || !parse_int(parts[4], levels) ||
      levels < 1 || levels > 10000) {
    return false;
  }
  if (parts[3] != "message" && parts[3] != "orderbook") return false;
  out.symbol = std::string(name);
  out.date = std::string(date);
  out.start_ms = start;
  out.end_ms = end;
  out.is_message = parts[3] == "message";
  out.levels = static_cast<int>(levels);
  return true;
}

std::vector<LobsterInput> resolve_lobster_inputs(const std::vector<std::string>& paths,
                                                 std::string_view symbol) {
  if (paths.empty()) throw Error("no LOBSTER input given");
  const char* const kExpected =
      "expected a LOBSTER zip or '<SYM>_<YYYY-MM-DD>_<start>_<end>_message_<N>.csv' (with its "
      "'..._orderbook_<N>.csv')";
  std::vector<LobsterInput> inputs;
  std::vector<bool> used(paths.size(), false);
  for (std::size_t i = 0; i < paths.size(); ++i) {
    const std::string& p = paths[i];
    if (ends_with(p, ".zip")) {
      used[i] = true;
      const std::vector<std::string> members = zip_members(p);
      std::vector<std::string> messages;
      std::vector<std::string> books;
      for (const std::string& m : members) {
        LobsterFileName fn;
        if (!parse_lobster_file_name(base_name_of(m), fn)) continue;
        (fn.is_message ? messages : books).push_back(m);
      }
      if (messages.empty()) {
        throw Error(SourceLocation{p}, std::string("holds no LOBSTER message file; ") + kExpected);
      }
      std::sort(messages.begin(), messages.end());
      for (const std::string& m : messages) {
        const std::string ob = orderbook_name_for(m);
        auto it = std::find(books.begin(), books.end(), ob);
        if (it == books.end()) {
          throw Error(SourceLocation{p}, "member '" + m + "' has no orderbook member '" + ob + "'");
        }
        books.erase(it);
        LobsterInput in;
        in.zip_path = p;
        in.message_path = m;
        in.orderbook_path = ob;
        (void)parse_lobster_file_name(base_name_of(m), in.name);
        inputs.push_back(std::move(in));
      }
      if (!books.empty()) {
        throw Error(SourceLocation{p},
                    "orderbook member '" + books.front() + "' has no message member");
      }
      continue;
    }
    LobsterFileName fn;
    if (!parse_lobster_file_name(base_name_of(p), fn)) throw Error(SourceLocation{p}, kExpected);
    if (!fn.is_message) continue;  // paired below with its message file
    used[i] = true;
    const std::string ob = orderbook_name_for(p);
    LobsterInput in;
    in.message_path = p;
    in.name = fn;
    for (std::size_t j = 0; j < paths.size(); ++j) {
      LobsterFileName other;
      if (j != i && !used[j] && parse_lobster_file_name(base_name_of(paths[j]), other) &&
          !other.is_message && base_name_of(paths[j]) == base_name_of(ob)) {
        in.orderbook_path = paths[j];
        used[j] = true;
        break;
      }
    }
    if (in.orderbook_path.empty()) {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(ob, ec)) {
        throw Error(SourceLocation{p}, "its orderbook file '" + ob +
                                           "' is not beside it; pass the orderbook file too");
      }
      in.orderbook_path = ob;
    }
    inputs.push_back(std::move(in));
  }
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (!used[i]) {
      throw Error(SourceLocation{paths[i]},
                  "LOBSTER orderbook file given without its message file");
    }
  }
  if (!symbol.empty()) {
    std::vector<LobsterInput> kept;
    for (LobsterInput& in : inputs) {
      if (in.name.symbol == symbol) kept.push_back(std::move(in));
    }
    if (kept.empty()) {
      throw Error(SourceLocation{paths.front()},
                  "no LOBSTER file of symbol '" + std::string(symbol) + "' among the inputs");
    }
    inputs = std::move(kept);
  }
  for (const LobsterInput& in : inputs) {
    if (in.name.symbol != inputs.front().name.symbol) {
      throw Error(SourceLocation{in.zip_path.empty() ? in.message_path : in.zip_path},
                  "holds symbol '" + in.name.symbol + "' but '" + inputs.front().name.symbol +
                      "' came first; one stream holds one symbol (select one with the "
                      "instrument option)");
    }
  }
  return inputs;
}

// ---------------------------------------------------------------------------------------------
// Reader

struct LobsterReader::Impl {
  std::vector<LobsterInput> inputs;
  InstrumentSpec spec;
  Price tick = kDefaultTick;

  std::size_t part = 0;  // index of the open input
  bool part_open = false;
  bool first_of_part = false;
  std::unique_ptr<LineReader> msg;
  std::unique_ptr<LineReader> ob;
  int depth = 0;
  TimestampNs midnight = 0;
  TimestampNs last_ts = kNoTimestamp;
  std::uint64_t records = 0;
  std::uint64_t rows_compared = 0;
  std::string first_mismatch;
  std::vector<std::pair<std::uint64_t, std::string>> part_starts;  // first record, message name

  ShadowSide asks{false};
  ShadowSide bids{true};
  OrderMap orders;
  std::uint64_t next_uid = 0;

  std::vector<std::string_view> fields;
  std::vector<std::int64_t> row_values;
  std::vector<RowLevel> row_ask;
  std::vector<RowLevel> row_bid;
  std::size_t row_na = 0;
  std::size_t row_nb = 0;

  std::vector<Event> pending;
  std::size_t pending_pos = 0;

  struct Counts {
    std::uint64_t opening_levels = 0;
    std::uint64_t seeded_levels = 0;
    std::uint64_t levels_forgotten = 0;
    std::uint64_t unknown_order_ids = 0;
    std::uint64_t forgotten_order_ids = 0;
    std::uint64_t row_mismatches = 0;
    std::uint64_t halts = 0;
    std::uint64_t quoting = 0;
    std::uint64_t resumes = 0;
    std::uint64_t times_rounded = 0;
  } counts;
  mutable Counters counters;

  ShadowSide& shadow(Side s) { return s == Side::kBid ? bids : asks; }

  void open_part() {
    const LobsterInput& in = inputs[part];
    if (in.zip_path.empty()) {
      msg = LineReader::open(in.message_path);
      ob = LineReader::open(in.orderbook_path);
    } else {
      msg = LineReader::open_zip_member(in.zip_path, in.message_path);
      ob = LineReader::open_zip_member(in.zip_path, in.orderbook_path);
    }
    depth = in.name.levels;
    try {
      midnight = local_midnight_utc_ns(in.name.date, kTimeZone);
    } catch (const Error& e) {
      throw Error(SourceLocation{msg->name()}, "date in the file name: " + e.what_only());
    }
    const std::size_t n = static_cast<std::size_t>(depth);
    fields.assign(4 * n + 1, std::string_view{});
    row_values.assign(4 * n, 0);
    row_ask.assign(n, RowLevel{});
    row_bid.assign(n, RowLevel{});
    asks.levels.clear();
    bids.levels.clear();
    orders.clear();
    part_starts.emplace_back(records, msg->name());
    part_open = true;
    first_of_part = true;
  }

  Event make(const Message& m, EventKind kind, Side side, Price price, Qty qty, OrderId id,
             std::uint16_t flags) const {
    Event e;
    e.exch_ts_ns = m.ts;
    e.local_ts_ns = m.ts;
    e.price = price;
    e.qty = qty;
    e.order_id = id;
    e.seq = msg->line_number();
    e.record = records;
    e.instrument_id = 0;
    e.kind = kind;
    e.side = side;
    e.flags = flags;
    return e;
  }

  std::int64_t int_field(std::string_view s, const char* field) const {
    std::int64_t v = 0;
    if (!parse_int(s, v)) fail(*msg, field, "unparsable integer '" + std::string(s) + "'");
    return v;
  }

  Message parse_message(std::string_view line) {
    std::string_view f[kMessageFields + 1];
    const std::size_t nf = split_fields(line, ',', f, kMessageFields + 1);
    if (nf != kMessageFields) {
      fail(*msg, "", "expected 6 fields (time,type,order_id,size,price,direction), found " +
                         std::to_string(nf));
    }
    Message m{};
    std::int64_t secs_ns = 0;
    bool rounded = false;
    if (!parse_time(f[0], secs_ns, rounded)) {
      fail(*msg, "time", "unparsable time '" + std::string(f[0]) +
                             "' (expected seconds after midnight, up to 18 decimals)");
    }
    if (rounded) ++counts.times_rounded;
    m.ts = midnight + secs_ns;
    if (last_ts != kNoTimestamp && m.ts < last_ts) {
      fail(*msg, "time", "time goes backwards: " + std::string(f[0]) +
                             " s after midnight is before the previous message (" +
                             format_utc(last_ts) + ")");
    }
    m.type = int_field(f[1], "type");
    m.id = int_field(f[2], "order_id");
    m.size = int_field(f[3], "size");
    m.price = int_field(f[4], "price");
    const std::int64_t direction = int_field(f[5], "direction");
    if (m.type < 1 || m.type > 7) {
      fail(*msg, "type", "unknown message type " + std::to_string(m.type) + " (expected 1-7)");
    }
    if (m.id < 0) fail(*msg, "order_id", "negative order id " + std::to_string(m.id));
    if (direction != 1 && direction != -1) {
      fail(*msg, "direction",
           "direction " + std::to_string(direction) + " (expected 1 buy or -1 sell)");
    }
    m.side = direction == 1 ? Side::kBid : Side::kAsk;
    if (m.type == 7) {
      if (m.price < -1 || m.price > 1) {
        fail(*msg, "price", "trading status code " + std::to_string(m.price) +
                                " (expected -1 halt, 0 quoting, 1 resume)");
      }
    } else {
      if (m.size <= 0) fail(*msg, "size", "non-positive size " + std::to_string(m.size));
      if (m.price <= 0) fail(*msg, "price", "non-positive price " + std::to_string(m.price));
      if (m.type <= 4 && m.price % tick != 0) {
        fail(*msg, "price", "price " + std::to_string(m.price) + " is off the tick grid (" +
                                std::to_string(tick) + "); set the tick size option");
      }
    }
    return m;
  }

  void parse_row(std::string_view line) {
    const std::size_t n = static_cast<std::size_t>(depth);
    if (!scan_ints(line, row_values.data(), 4 * n)) {
      const std::size_t nf = split_fields(line, ',', fields.data(), fields.size());
      if (nf != 4 * n) {
        fail(*ob, "", "expected " + std::to_string(4 * n) + " fields (" + std::to_string(n) +
                          " levels of ask price, ask size, bid price, bid size), found " +
                          std::to_string(nf));
      }
      for (std::size_t k = 0; k < 4 * n; ++k) {
        if (!parse_int(fields[k], row_values[k])) {
          fail(*ob, row_field_name(k), "unparsable integer '" + std::string(fields[k]) + "'");
        }
      }
    }
    row_na = 0;
    row_nb = 0;
    bool ask_ended = false, bid_ended = false;
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t* v = &row_values[4 * i];
      check_row_level(v[0], v[1], i, true, ask_ended);
      check_row_level(v[2], v[3], i, false, bid_ended);
    }
  }

  /// "ask_price_1", "ask_size_1", "bid_price_1", "bid_size_1", "ask_price_2", ... for field k.
  static std::string row_field_name(std::size_t k) {
    static const char* const kNames[4] = {"ask_price_", "ask_size_", "bid_price_", "bid_size_"};
    return kNames[k % 4] + std::to_string(k / 4 + 1);
  }

  void check_row_level(Price price, Qty qty, std::size_t i, bool ask, bool& ended) {
    const std::size_t k = 4 * i + (ask ? 0 : 2);
    if (price == (ask ? kAskSentinel : kBidSentinel)) {
      if (qty != 0) fail(*ob, row_field_name(k), "empty level with size " + std::to_string(qty));
      ended = true;
      return;
    }
    if (ended) fail(*ob, row_field_name(k), "level after an empty level");
    if (price <= 0) fail(*ob, row_field_name(k), "non-positive price " + std::to_string(price));
    if (qty <= 0) fail(*ob, row_field_name(k + 1), "non-positive size " + std::to_string(qty));
    std::vector<RowLevel>& row = ask ? row_ask : row_bid;
    std::size_t& count = ask ? row_na : row_nb;
    if (count > 0 && (ask ? price <= row[count - 1].price : price >= row[count - 1].price)) {
      fail(*ob, row_field_name(k),
           "price " + std::to_string(price) + " is not worse than the level before it");
    }
    row[count++] = RowLevel{price, qty};
  }

  /// Book before message 1 = row 1 with message 1 undone.
  void seed_opening(const Message& m) {
    for (std::size_t i = 0; i < row_na; ++i) {
      asks.levels.push_back(ShadowLevel{row_ask[i].price, row_ask[i].qty, 0, ++next_uid});
    }
    for (std::size_t i = 0; i < row_nb; ++i) {
      bids.levels.push_back(ShadowLevel{row_bid[i].price, row_bid[i].qty, 0, ++next_uid});
    }
    ShadowSide& s = shadow(m.side);
    if (m.type == 1) {
      ShadowLevel* l = s.find(m.price);
      if (l == nullptr || l->total < m.size) {
        fail(*ob, "", std::string("row 1 does not show message 1's add of ") +
                          std::to_string(m.size) + " at " + side_word(m.side) + " " +
                          std::to_string(m.price));
      }
      l->total -= m.size;
      if (l->total == 0) s.erase(l);
    } else if (m.type >= 2 && m.type <= 4) {
      ShadowLevel* l = s.find(m.price);
      if (l == nullptr) l = &s.insert(m.price, 0, 0, ++next_uid);
      l->total += m.size;
    }
    for (const ShadowLevel& l : asks.levels) {
      pending.push_back(make(m, EventKind::kLevelUpdate, Side::kAsk, l.price, l.total, 0,
                             event_flags::kSeed));
    }
    for (const ShadowLevel& l : bids.levels) {
      pending.push_back(make(m, EventKind::kLevelUpdate, Side::kBid, l.price, l.total, 0,
                             event_flags::kSeed));
    }
    counts.opening_levels += asks.levels.size() + bids.levels.size();
  }

  void apply_add(const Message& m) {
    const std::uint64_t id = static_cast<std::uint64_t>(m.id);
    if (OrderState* o = orders.find(id)) {
      const ShadowLevel* ol = shadow(o->side).find(o->price);
      if (ol != nullptr && ol->uid == o->level_uid) {
        fail(*msg, "order_id", "duplicate add of order id " + std::to_string(m.id) +
                                   ", which is still resting");
      }
      orders.erase(o);
    }
    ShadowSide& s = shadow(m.side);
    ShadowLevel* l = s.find(m.price);
    if (l == nullptr) l = &s.insert(m.price, 0, 0, ++next_uid);
    l->total += m.size;
    l->known += m.size;
    const std::uint64_t uid = l->uid;
    OrderState& o = orders.insert(id);
    o.price = m.price;
    o.remaining = m.size;
    o.level_uid = uid;
    o.side = m.side;
    pending.push_back(make(m, EventKind::kAdd, m.side, m.price, m.size, id, 0));
  }

  void apply_reduce(const Message& m) {
    const std::uint64_t id = static_cast<std::uint64_t>(m.id);
    ShadowSide& s = shadow(m.side);
    ShadowLevel* l = nullptr;
    if (OrderState* o = orders.find(id)) {
      ShadowLevel* ol = shadow(o->side).find(o->price);
      if (ol != nullptr && ol->uid == o->level_uid) {
        if (o->side != m.side) {
          fail(*msg, "direction", "order id " + std::to_string(m.id) + " is a " +
                                      side_word(o->side) + " order");
        }
        if (o->price != m.price) {
          fail(*msg, "price", "order id " + std::to_string(m.id) + " rests at " +
                                  std::to_string(o->price));
        }
        if (m.size > o->remaining || (m.type == 3 && m.size != o->remaining)) {
          fail(*msg, "size", "size " + std::to_string(m.size) + " but order id " +
                                 std::to_string(m.id) + " has " + std::to_string(o->remaining) +
                                 " remaining" + (m.type == 3 ? " (a delete removes all of it)" : ""));
        }
        o->remaining -= m.size;
        ol->known -= m.size;
        l = ol;
        if (o->remaining == 0) orders.erase(o);
      } else {
        orders.erase(o);
        ++counts.forgotten_order_ids;
      }
    } else {
      ++counts.unknown_order_ids;
    }
    if (l == nullptr) {
      l = s.find(m.price);
      const Qty anonymous = l == nullptr ? 0 : l->total - l->known;
      if (anonymous < m.size) {
        fail(*msg, "order_id",
             "unknown order id " + std::to_string(m.id) + ": level " + side_word(m.side) + " " +
                 std::to_string(m.price) + " holds " + std::to_string(anonymous) +
                 " shares of orders not added in the file, fewer than the " +
                 std::to_string(m.size) + " to remove");
      }
    }
    l->total -= m.size;
    if (l->total == 0) s.erase(l);
    const EventKind kind = m.type == 4 ? EventKind::kExecution : EventKind::kCancel;
    pending.push_back(make(m, kind, m.side, m.price, m.size, id, 0));
  }

  void apply(const Message& m) {
    const std::uint64_t id = static_cast<std::uint64_t>(m.id);
    switch (m.type) {
      case 1: apply_add(m); break;
      case 2:
      case 3:
      case 4: apply_reduce(m); break;
      case 5:
        pending.push_back(make(m, EventKind::kTrade, opposite(m.side), m.price, m.size, id, 0));
        break;
      case 6:
        pending.push_back(make(m, EventKind::kTrade, Side::kNone, m.price, m.size, id, 0));
        break;
      default:  // 7, checked in parse_message
        (m.price < 0 ? counts.halts : m.price == 0 ? counts.quoting : counts.resumes) += 1;
        pending.push_back(make(m, EventKind::kStatus, Side::kNone, m.price, m.size, id, 0));
        break;
    }
  }

  /// Forget levels beyond depth N, seed levels coming into view, compare with the row.
  void reconcile(const Message& m) {
    const std::size_t n = static_cast<std::size_t>(depth);
    bool mismatch = false;
    for (int k = 0; k < 2; ++k) {
      const Side side = k == 0 ? Side::kAsk : Side::kBid;
      ShadowSide& s = shadow(side);
      const std::vector<RowLevel>& row = k == 0 ? row_ask : row_bid;
      const std::size_t rn = k == 0 ? row_na : row_nb;
      while (s.levels.size() > n) {
        pending.push_back(make(m, EventKind::kLevelUpdate, side, s.levels.back().price, 0, 0,
                               event_flags::kSeed));
        s.levels.pop_back();
        ++counts.levels_forgotten;
      }
      for (std::size_t i = s.levels.size(); i < rn; ++i) {
        if (s.levels.empty() || s.better(s.levels.back().price, row[i].price)) {
          s.levels.push_back(ShadowLevel{row[i].price, row[i].qty, 0, ++next_uid});
          pending.push_back(make(m, EventKind::kLevelUpdate, side, row[i].price, row[i].qty, 0,
                                 event_flags::kSeed));
          ++counts.seeded_levels;
        }
      }
      bool same = s.levels.size() == rn;
      for (std::size_t i = 0; same && i < rn; ++i) {
        same = s.levels[i].price == row[i].price && s.levels[i].total == row[i].qty;
      }
      if (!same && !mismatch) {
        mismatch = true;
        if (first_mismatch.empty()) first_mismatch = describe_mismatch(side, row, rn);
      }
    }
    if (mismatch) ++counts.row_mismatches;
    ++rows_compared;
  }

  std::string describe_mismatch(Side side, const std::vector<RowLevel>& row, std::size_t rn) {
    std::string d = ob->name() + ":" + std::to_string(ob->line_number()) + ": " +
                    side_word(side) + " side: orderbook [";
    for (std::size_t i = 0; i < rn; ++i) {
      d += (i ? " " : "") + std::to_string(row[i].price) + "x" + std::to_string(row[i].qty);
    }
    d += "], messages [";
    const ShadowSide& s = shadow(side);
    for (std::size_t i = 0; i < s.levels.size(); ++i) {
      d += (i ? " " : "") + std::to_string(s.levels[i].price) + "x" +
           std::to_string(s.levels[i].total);
    }
    return d + "]";
  }

  /// Reads one message (and its row) into `pending`; false at the end of the last input.
  bool next_message() {
    std::string_view line;
    for (;;) {
      if (!part_open) {
        if (part == inputs.size()) return false;
        open_part();
      }
      if (msg->next(line)) break;
      std::string_view extra;
      if (ob->next(extra)) {
        fail(*ob, "", "orderbook file has more rows than the message file (" +
                          std::to_string(msg->line_number()) + ")");
      }
      part_open = false;
      ++part;
    }
    const Message m = parse_message(line);
    std::string_view row;
    if (!ob->next(row)) {
      fail_at(*ob, msg->line_number(), "",
              "orderbook file has fewer rows (" + std::to_string(ob->line_number()) +
                  ") than the message file; no row for message line " +
                  std::to_string(msg->line_number()));
    }
    parse_row(row);
    if (first_of_part) {
      first_of_part = false;
      if (records > 0) pending.push_back(make(m, EventKind::kClear, Side::kNone, kNoPrice, 0, 0, 0));
      seed_opening(m);
    }
    apply(m);
    reconcile(m);
    pending.back().flags |= event_flags::kEndOfRecord | event_flags::kComplete;
    last_ts = m.ts;
    ++records;
    return true;
  }
};

LobsterReader::LobsterReader(std::vector<LobsterInput> inputs, const SourceOptions& options)
    : impl_(std::make_unique<Impl>()) {
  if (inputs.empty()) throw Error("no LOBSTER input given");
  for (const LobsterInput& in : inputs) {
    if (in.name.symbol != inputs.front().name.symbol) {
      throw Error(SourceLocation{in.message_path},
                  "symbol '" + in.name.symbol + "' differs from '" + inputs.front().name.symbol +
                      "'; one stream holds one symbol");
    }
  }
  if (options.tick_size < 0) {
    throw Error(SourceLocation{inputs.front().message_path}, "negative tick size option");
  }
  Impl& d = *impl_;
  d.inputs = std::move(inputs);
  d.tick = options.tick_size > 0 ? options.tick_size : kDefaultTick;
  d.spec.set_symbol(d.inputs.front().name.symbol);
  d.spec.set_venue("NASDAQ");
  d.spec.set_currency("USD");
  d.spec.price_decimals = 4;
  d.spec.qty_decimals = 0;
  d.spec.tick_size = d.tick;
  d.spec.lot_size = 1;
  d.spec.instrument_id = 0;
  d.pending.reserve(256);
  d.open_part();
}

LobsterReader::~LobsterReader() = default;

const InstrumentSpec& LobsterReader::instrument() const { return impl_->spec; }

std::size_t LobsterReader::read(Event* out, std::size_t capacity) {
  Impl& d = *impl_;
  std::size_t n = 0;
  while (n < capacity) {
    if (d.pending_pos == d.pending.size()) {
      d.pending.clear();
      d.pending_pos = 0;
      if (!d.next_message()) break;
    }
    const std::size_t take = std::min(capacity - n, d.pending.size() - d.pending_pos);
    std::memcpy(static_cast<void*>(out + n), d.pending.data() + d.pending_pos, take * sizeof(Event));
    n += take;
    d.pending_pos += take;
  }
  return n;
}

std::uint64_t LobsterReader::records() const { return impl_->records; }

std::string LobsterReader::locate(std::uint64_t record) const {
  const Impl& d = *impl_;
  if (record < d.records) {
    for (std::size_t i = d.part_starts.size(); i-- > 0;) {
      if (d.part_starts[i].first <= record) {
        return d.part_starts[i].second + ":" + std::to_string(record - d.part_starts[i].first + 1);
      }
    }
  }
  return "record " + std::to_string(record);
}

const Counters& LobsterReader::tolerated() const {
  const Impl::Counts& c = impl_->counts;
  Counters out;
  out.add("lobster.opening_levels", c.opening_levels);
  out.add("lobster.seeded_levels", c.seeded_levels);
  out.add("lobster.levels_forgotten", c.levels_forgotten);
  out.add("lobster.unknown_order_ids", c.unknown_order_ids);
  out.add("lobster.forgotten_order_ids", c.forgotten_order_ids);
  out.add("lobster.row_mismatches", c.row_mismatches);
  out.add("lobster.halts", c.halts);
  out.add("lobster.quoting", c.quoting);
  out.add("lobster.resumes", c.resumes);
  out.add("lobster.times_rounded_to_ns", c.times_rounded);
  impl_->counters = std::move(out);
  return impl_->counters;
}

const std::vector<LobsterInput>& LobsterReader::inputs() const noexcept { return impl_->inputs; }
int LobsterReader::levels() const noexcept { return impl_->depth; }
std::uint64_t LobsterReader::rows_compared() const noexcept { return impl_->rows_compared; }
const std::string& LobsterReader::first_mismatch() const noexcept { return impl_->first_mismatch; }

std::unique_ptr<LobsterReader> open_lobster_reader(const std::vector<std::string>& paths,
                                                   const SourceOptions& options) {
  return std::make_unique<LobsterReader>(resolve_lobster_inputs(paths, options.instrument), options);
}

std::unique_ptr<EventSource> open_lobster(const std::vector<std::string>& paths,
                                          const SourceOptions& options) {
  return open_lobster_reader(paths, options);
}

}  // namespace mmkit::data
