// Placeholder: the event file format is being written.
#pragma once

#include <memory>
#include <string>

#include "mmkit/data/source.h"

namespace mmkit::data {

/// True if `path` starts with the event-file magic.
[[nodiscard]] bool is_event_file(const std::string& path);
[[nodiscard]] std::unique_ptr<EventSource> open_event_file(const std::string& path);

}  // namespace mmkit::data
