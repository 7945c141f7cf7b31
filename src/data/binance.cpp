#include "mmkit/data/binance.h"

#include "mmkit/core/error.h"

namespace mmkit::data {

std::unique_ptr<EventSource> open_binance(const std::vector<std::string>& paths, const SourceOptions&) {
  throw Error(SourceLocation{paths.empty() ? std::string() : paths.front()}, "binance reader not implemented yet");
}

}  // namespace mmkit::data
