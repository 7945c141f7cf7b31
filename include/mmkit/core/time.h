// Time conversions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mmkit/core/types.h"

namespace mmkit {

/// UTC ns of local midnight of `date` ("YYYY-MM-DD") in the IANA time zone `tz`
/// (e.g. "America/New_York", from the system tz database). Throws mmkit::Error on a bad date
/// or an unknown zone.
[[nodiscard]] TimestampNs local_midnight_utc_ns(std::string_view date, std::string_view tz);

/// Parses "SSSSS.fffffffff" (seconds, up to 9 fractional digits) into ns, exactly.
[[nodiscard]] bool parse_seconds_ns(std::string_view s, std::int64_t& out_ns) noexcept;

/// Parses ISO 8601 "YYYY-MM-DD[T ]HH:MM[:SS[.fff…]][Z|+00:00|±HH:MM]" into UTC ns. A missing
/// offset means UTC. Returns false on anything else.
[[nodiscard]] bool parse_iso8601_ns(std::string_view s, TimestampNs& out) noexcept;

/// Formats UTC ns as "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ".
[[nodiscard]] std::string format_utc(TimestampNs ts);

}  // namespace mmkit
