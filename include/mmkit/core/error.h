// The one exception type for input, configuration and construction errors.
//
// Every message names where (file, line or byte offset, field) and what is wrong, e.g.
//   "GOOG_message_10.csv:1234: field 'price': unparsable integer 'abc'".
// Hot paths do not throw; they return mmkit::Errc.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace mmkit {

/// Where an input error happened. `line` is 1-based (0 = unknown); `byte_offset` is used when
/// the input has no lines (binary files); `field` names the column or JSON key, if any.
struct SourceLocation {
  SourceLocation() = default;
  explicit SourceLocation(std::string file_, std::uint64_t line_ = 0, std::string field_ = {})
      : file(std::move(file_)), line(line_), field(std::move(field_)) {}

  std::string file;
  std::uint64_t line = 0;
  std::uint64_t byte_offset = 0;
  bool has_byte_offset = false;
  std::string field;

  [[nodiscard]] std::string to_string() const;
};

class Error : public std::runtime_error {
 public:
  Error(SourceLocation where, std::string_view what);
  explicit Error(std::string_view what);

  [[nodiscard]] const SourceLocation& where() const noexcept { return where_; }
  [[nodiscard]] const std::string& what_only() const noexcept { return what_; }

 private:
  SourceLocation where_;
  std::string what_;
};

/// Shorthands for the readers.
[[noreturn]] void throw_at_line(std::string_view file, std::uint64_t line, std::string_view field,
                                std::string_view what);
[[noreturn]] void throw_at_offset(std::string_view file, std::uint64_t byte_offset,
                                  std::string_view field, std::string_view what);

}  // namespace mmkit
