// Exact decimal <-> scaled-integer conversion (no floating point).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mmkit {

/// Parses a decimal string ("61800.20", "-0.5", "42") into an integer scaled by 10^decimals.
/// Returns false on anything else: empty, stray characters, more significant fractional digits
/// than `decimals` (trailing zeros beyond are accepted), or int64 overflow.
[[nodiscard]] bool parse_decimal(std::string_view s, int decimals, std::int64_t& out) noexcept;

/// Parses a base-10 signed integer; false on anything else or overflow.
[[nodiscard]] bool parse_int(std::string_view s, std::int64_t& out) noexcept;
[[nodiscard]] bool parse_uint(std::string_view s, std::uint64_t& out) noexcept;

/// Number of fractional digits written in `s` ("61800.20" -> 2, "5" -> 0).
[[nodiscard]] int fractional_digits(std::string_view s) noexcept;

/// Appends raw × 10^-raw_decimals printed with exactly `display_decimals` fractional digits
/// (display_decimals <= raw_decimals; digits dropped must be zero for an exact result, otherwise
/// all raw_decimals digits are printed).
void append_decimal(std::string& out, std::int64_t raw, int raw_decimals, int display_decimals);
[[nodiscard]] std::string format_decimal(std::int64_t raw, int raw_decimals, int display_decimals);

/// 10^n for 0 <= n <= 18.
[[nodiscard]] std::int64_t pow10(int n) noexcept;

}  // namespace mmkit
