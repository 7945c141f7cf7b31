#include "mmkit/book/replay.h"

#include <chrono>
#include <string>
#include <vector>

#include "mmkit/book/l2_book.h"
#include "mmkit/book/l3_book.h"
#include "mmkit/book/naive_l2_book.h"
#include "mmkit/book/naive_l3_book.h"
#include "mmkit/core/decimal.h"
#include "mmkit/core/error.h"

namespace mmkit::book {
namespace {

constexpr std::size_t kBatch = 4096;

[[noreturn]] void fail_at(const data::EventSource& src, std::uint64_t record, const std::string& what) {
  throw Error(src.locate(record) + ": " + what);
}

template <class Book>
void check_apply(const data::EventSource& src, const Event& e, Errc rc) {
  if (rc == Errc::kOk) return;
  std::string what = std::string("book rejected ") + to_string(e.kind);
  if (e.order_id != 0) what += " of order " + std::to_string(e.order_id);
  what += " (side " + std::string(to_string(e.side)) + ", price " + std::to_string(e.price) +
          ", qty " + std::to_string(e.qty) + "): " + to_string(rc);
  fail_at(src, e.record, what);
}

template <class Book>
void check_crossed(const data::EventSource& src, const Book& book, const Event& e,
                   ReplaySummary& s) {
  if (!book.crossed()) return;
  if (e.has(event_flags::kAuction)) {
    ++s.crossed_in_auction;
    return;
  }
  const InstrumentSpec& spec = src.instrument();
  const int pd = spec.price_display_decimals();
  fail_at(src, e.record,
          "crossed book after a complete update: best bid " +
              format_decimal(book.best(Side::kBid).price, spec.price_decimals, pd) +
              " >= best ask " + format_decimal(book.best(Side::kAsk).price, spec.price_decimals, pd));
}

class CsvWriter {
 public:
  CsvWriter(std::FILE* out, const InstrumentSpec& spec, std::size_t depth)
      : out_(out), spec_(spec), depth_(depth), pd_(spec.price_display_decimals()),
        qd_(spec.qty_display_decimals()) {
    buf_.reserve(kFlushAt + 4096);
    buf_ += "exch_ts_ns,seq";
    for (std::size_t i = 1; i <= depth_; ++i) {
      const std::string n = std::to_string(i);
      buf_ += ",bid_px_" + n + ",bid_qty_" + n + ",ask_px_" + n + ",ask_qty_" + n;
    }
    buf_ += '\n';
  }
  ~CsvWriter() = default;

  template <class Book>
  void row(const Book& book, const Event* last) {
    if (last != nullptr) {
      append_int(last->exch_ts_ns);
      buf_ += ',';
      append_uint(last->seq);
    } else {
      buf_ += ',';
    }
    for (std::size_t i = 0; i < depth_; ++i) {
      level(book.level(Side::kBid, i));
      level(book.level(Side::kAsk, i));
    }
    buf_ += '\n';
    ++rows_;
    if (buf_.size() >= kFlushAt) flush();
  }

  void flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), out_) != buf_.size()) {
      throw Error("write failed while writing the book CSV");
    }
    buf_.clear();
  }
  [[nodiscard]] std::uint64_t rows() const { return rows_; }

 private:
  static constexpr std::size_t kFlushAt = 1 << 20;
  void level(const Level& l) {
    buf_ += ',';
    if (l.price != kNoPrice) append_decimal(buf_, l.price, spec_.price_decimals, pd_);
    buf_ += ',';
    if (l.price != kNoPrice) append_decimal(buf_, l.qty, spec_.qty_decimals, qd_);
  }
  void append_int(std::int64_t v) { append_decimal(buf_, v, 0, 0); }
  void append_uint(std::uint64_t v) {
    char tmp[24];
    int n = 0;
    do {
      tmp[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0) buf_ += tmp[--n];
  }

  std::FILE* out_;
  const InstrumentSpec& spec_;
  std::size_t depth_;
  int pd_, qd_;
  std::string buf_;
  std::uint64_t rows_ = 0;
};

// Replays `src` into a fresh Book, validating every event; writes CSV rows when `csv` is set and
// calls `observe(book, event)` after each applied event.
template <class Book, class Observe>
ReplaySummary run(data::EventSource& src, CsvWriter* csv, std::uint64_t every, Observe&& observe) {
  Book book;
  ReplaySummary s;
  std::vector<Event> batch(kBatch);
  std::uint64_t next_record = 0;  // first record whose row is not written yet
  Event last{};
  bool have_last = false;
  auto emit_until = [&](std::uint64_t end_record) {  // rows for records [next_record, end_record)
    for (; next_record < end_record; ++next_record) {
      if ((next_record + 1) % every == 0) {
        const bool own = have_last && last.record == next_record;
        csv->row(book, own ? &last : nullptr);
      }
    }
  };
  for (;;) {
    const std::size_t n = src.read(batch.data(), batch.size());
    if (n == 0) break;
    for (std::size_t i = 0; i < n; ++i) {
      const Event& e = batch[i];
      if (csv != nullptr && e.record > next_record) emit_until(e.record);
      check_apply<Book>(src, e, book.apply(e));
      if (e.has(event_flags::kComplete)) {
        ++s.complete_points;
        check_crossed(src, book, e, s);
      }
      observe(book, e);
      if (csv != nullptr && e.has(event_flags::kEndOfRecord)) {
        last = e;
        have_last = true;
        emit_until(e.record + 1);
      }
    }
    s.events += n;
  }
  s.records = src.records();
  if (csv != nullptr) {
    emit_until(s.records);
    csv->flush();
    s.rows = csv->rows();
  }
  s.book_stats = book.stats();
  s.tolerated = src.tolerated();
  s.final_bid_depth = book.depth(Side::kBid);
  s.final_ask_depth = book.depth(Side::kAsk);
  s.final_best_bid = book.best(Side::kBid);
  s.final_best_ask = book.best(Side::kAsk);
  return s;
}

template <class Book>
ReplaySummary run(data::EventSource& src, CsvWriter* csv, std::uint64_t every) {
  return run<Book>(src, csv, every, [](const Book&, const Event&) {});
}

template <class Book>
BboCheck run_bbo(data::EventSource& src) {
  BboCheck c;
  std::uint64_t last_depth_seq = 0;
  bool have_depth = false;
  Level venue_bid;
  bool have_bid = false;
  const InstrumentSpec& spec = src.instrument();
  auto text = [&](const Level& l) {
    return l.price == kNoPrice ? std::string("none")
                               : format_decimal(l.price, spec.price_decimals, spec.price_display_decimals()) +
                                     " x " + format_decimal(l.qty, spec.qty_decimals, spec.qty_display_decimals());
  };
  auto observe = [&](const Book& book, const Event& e) {
    if (e.has(event_flags::kComplete) && e.kind == EventKind::kLevelUpdate && !e.has(event_flags::kSnapshot)) {
      last_depth_seq = e.seq;
      have_depth = true;
    }
    if (e.kind != EventKind::kBestBidAsk) return;
    if (e.side == Side::kBid) {
      venue_bid = Level{e.price, e.qty, 0};
      have_bid = true;
      return;
    }
    const bool aligned = have_bid && have_depth && e.seq == last_depth_seq;
    have_bid = false;
    if (!aligned) return;
    ++c.points;
    const Level ask{e.price, e.qty, 0};
    const Level our_bid = book.best(Side::kBid), our_ask = book.best(Side::kAsk);
    if (our_bid.price != venue_bid.price || our_bid.qty != venue_bid.qty || our_ask.price != ask.price ||
        our_ask.qty != ask.qty) {
      if (c.mismatches++ == 0) {
        c.first_mismatch = src.locate(e.record) + ": venue " + text(venue_bid) + " / " + text(ask) +
                           ", book " + text(our_bid) + " / " + text(our_ask);
      }
    }
  };
  c.replay = run<Book>(src, nullptr, 1, observe);
  return c;
}

ReplaySummary dispatch(data::EventSource& src, CsvWriter* csv, std::uint64_t every, BookImpl impl) {
  const bool l3 = src.book_level() == data::BookLevel::kL3;
  const bool naive = impl == BookImpl::kNaive;
  if (l3) return naive ? run<NaiveL3Book>(src, csv, every) : run<L3Book>(src, csv, every);
  return naive ? run<NaiveL2Book>(src, csv, every) : run<L2Book>(src, csv, every);
}

}  // namespace

ReplaySummary write_book_csv(data::EventSource& source, std::FILE* out, const BookCsvOptions& options) {
  if (options.depth == 0) throw Error("book depth must be at least 1");
  if (options.every == 0) throw Error("--every must be at least 1");
  CsvWriter csv(out, source.instrument(), options.depth);
  return dispatch(source, &csv, options.every, options.impl);
}

ReplaySummary replay(data::EventSource& source, BookImpl impl) {
  return dispatch(source, nullptr, 1, impl);
}

BboCheck check_venue_bbo(data::EventSource& source, BookImpl impl) {
  const bool l3 = source.book_level() == data::BookLevel::kL3;
  const bool naive = impl == BookImpl::kNaive;
  if (l3) return naive ? run_bbo<NaiveL3Book>(source) : run_bbo<L3Book>(source);
  return naive ? run_bbo<NaiveL2Book>(source) : run_bbo<L2Book>(source);
}

ReplayTiming time_replay(const std::function<std::unique_ptr<data::EventSource>()>& open,
                         int repeats, BookImpl impl) {
  ReplayTiming t;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto src = open();
    const ReplaySummary s = replay(*src, impl);
    const auto stop = std::chrono::steady_clock::now();
    t.events = s.events;
    t.records = s.records;
    t.seconds.push_back(std::chrono::duration<double>(stop - start).count());
  }
  return t;
}

}  // namespace mmkit::book
