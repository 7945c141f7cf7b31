#include "mmkit/data/databento.h"

#include "mmkit/core/error.h"

namespace mmkit::data {

std::unique_ptr<EventSource> open_databento(const std::vector<std::string>& paths, const SourceOptions&) {
  throw Error(SourceLocation{paths.empty() ? std::string() : paths.front()}, "databento reader not implemented yet");
}

}  // namespace mmkit::data
