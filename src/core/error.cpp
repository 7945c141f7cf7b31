#include "mmkit/core/error.h"

namespace mmkit {

std::string SourceLocation::to_string() const {
  std::string s = file.empty() ? std::string("<input>") : file;
  if (line != 0) {
    s += ':';
    s += std::to_string(line);
  } else if (has_byte_offset) {
    s += " @ byte ";
    s += std::to_string(byte_offset);
  }
  if (!field.empty()) {
    s += ": field '";
    s += field;
    s += '\'';
  }
  return s;
}

Error::Error(SourceLocation where, std::string_view what)
    : std::runtime_error(where.to_string() + ": " + std::string(what)),
      where_(std::move(where)),
      what_(what) {}

Error::Error(std::string_view what) : std::runtime_error(std::string(what)), what_(what) {}

void throw_at_line(std::string_view file, std::uint64_t line, std::string_view field,
                   std::string_view what) {
  SourceLocation loc;
  loc.file = file;
  loc.line = line;
  loc.field = field;
  throw Error(std::move(loc), what);
}

void throw_at_offset(std::string_view file, std::uint64_t byte_offset, std::string_view field,
                     std::string_view what) {
  SourceLocation loc;
  loc.file = file;
  loc.byte_offset = byte_offset;
  loc.has_byte_offset = true;
  loc.field = field;
  throw Error(std::move(loc), what);
}

}  // namespace mmkit
