#include "mmkit/data/source.h"

#include <algorithm>

#include "mmkit/core/error.h"
#include "mmkit/data/binance.h"
#include "mmkit/data/databento.h"
#include "mmkit/data/event_file.h"
#include "mmkit/data/line_reader.h"
#include "mmkit/data/lobster.h"

namespace mmkit::data {

void Counters::add(std::string_view name, std::uint64_t n) {
  for (auto& [k, v] : items_) {
    if (k == name) {
      v += n;
      return;
    }
  }
  items_.emplace_back(std::string(name), n);
}

std::uint64_t Counters::get(std::string_view name) const noexcept {
  for (const auto& [k, v] : items_) {
    if (k == name) return v;
  }
  return 0;
}

void Counters::merge(const Counters& other) {
  for (const auto& [k, v] : other.items_) add(k, v);
}

namespace {
bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

enum class Format { kEventFile, kLobster, kBinance, kDatabento, kUnknown };

Format detect(const std::string& path) {
  if (is_event_file(path)) return Format::kEventFile;
  if (ends_with(path, ".zip") || path.find("_message_") != std::string::npos ||
      path.find("_orderbook_") != std::string::npos) {
    return Format::kLobster;
  }
  if (ends_with(path, ".dbn") || ends_with(path, ".dbn.zst")) return Format::kDatabento;
  auto reader = LineReader::open(path);
  std::string_view first;
  if (!reader->next(first)) return Format::kUnknown;
  if (first.rfind("ts_recv", 0) == 0) return Format::kDatabento;
  const std::size_t sp = first.find(' ');
  if (sp != std::string_view::npos && sp > 0 && sp + 1 < first.size() && first[sp + 1] == '{' &&
      std::all_of(first.begin(), first.begin() + static_cast<std::ptrdiff_t>(sp),
                  [](char c) { return c >= '0' && c <= '9'; })) {
    return Format::kBinance;
  }
  return Format::kUnknown;
}
}  // namespace

std::unique_ptr<EventSource> open_source(const std::vector<std::string>& paths,
                                         const SourceOptions& options) {
  if (paths.empty()) throw Error("no input file given");
  const Format f = detect(paths.front());
  for (std::size_t i = 1; i < paths.size(); ++i) {
    if (detect(paths[i]) != f) {
      throw Error(SourceLocation{paths[i]},
                  "is not of the same format as '" + paths.front() + "'; inputs read as one stream "
                  "must share a format");
    }
  }
  switch (f) {
    case Format::kEventFile:
      if (paths.size() != 1) throw Error(SourceLocation{paths[1]}, "an event file is read alone");
      return open_event_file(paths.front());
    case Format::kLobster: return open_lobster(paths, options);
    case Format::kBinance: return open_binance(paths, options);
    case Format::kDatabento: return open_databento(paths, options);
    case Format::kUnknown: break;
  }
  throw Error(SourceLocation{paths.front()},
              "unrecognized input format (expected an mmkit event file, a LOBSTER zip or "
              "message CSV, a Binance capture '<ns> <json>' per line, or a Databento MBO CSV/DBN)");
}

}  // namespace mmkit::data
