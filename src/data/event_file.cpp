#include "mmkit/data/event_file.h"

#include "mmkit/core/error.h"

namespace mmkit::data {
bool is_event_file(const std::string&) { return false; }
std::unique_ptr<EventSource> open_event_file(const std::string& path) {
  throw Error(SourceLocation{path}, "event files not implemented yet");
}
}  // namespace mmkit::data
