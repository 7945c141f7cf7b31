#include "mmkit/data/lobster.h"

#include "mmkit/core/error.h"

namespace mmkit::data {

std::unique_ptr<EventSource> open_lobster(const std::vector<std::string>& paths, const SourceOptions&) {
  throw Error(SourceLocation{paths.empty() ? std::string() : paths.front()}, "lobster reader not implemented yet");
}

}  // namespace mmkit::data
