// Placeholder: the lobster reader is being written.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mmkit/data/source.h"

namespace mmkit::data {

/// Opens a lobster input as an EventSource. Throws mmkit::Error on malformed input.
[[nodiscard]] std::unique_ptr<EventSource> open_lobster(const std::vector<std::string>& paths,
                                                   const SourceOptions& options);

}  // namespace mmkit::data
