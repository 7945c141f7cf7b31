// Streaming line reader over plain, gzip (.gz) and zip-member inputs, with line numbers and
// byte offsets for error messages. Memory is bounded by the longest line plus a 1 MiB buffer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mmkit::data {

class LineReader {
 public:
  /// Opens `path`: gzip if it starts with the gzip magic (concatenated members are read
  /// as one stream), otherwise plain bytes. Throws mmkit::Error if it cannot be opened.
  static std::unique_ptr<LineReader> open(const std::string& path);
  /// Opens member `member` of the zip archive `zip_path` (deflate or stored).
  static std::unique_ptr<LineReader> open_zip_member(const std::string& zip_path,
                                                     const std::string& member);

  virtual ~LineReader();

  /// Next line without its '\n' (and a trailing '\r'). The view is valid until the next call.
  /// Returns false at the end of the input. A final line without '\n' is returned.
  [[nodiscard]] bool next(std::string_view& line);
  /// 1-based number of the line last returned by next().
  [[nodiscard]] std::uint64_t line_number() const noexcept { return line_no_; }
  /// Byte offset (in the uncompressed stream) of the start of the line last returned.
  [[nodiscard]] std::uint64_t line_offset() const noexcept { return line_offset_; }
  /// "path" or "archive.zip!member": the name used in error messages.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

 protected:
  explicit LineReader(std::string name);
  /// Reads up to n bytes; returns 0 at the end. Throws mmkit::Error on I/O or decode errors.
  virtual std::size_t read_some(char* dst, std::size_t n) = 0;

 private:
  std::string name_;
  std::vector<char> buf_;
  std::size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  std::uint64_t line_no_ = 0;
  std::uint64_t line_offset_ = 0;
  std::uint64_t consumed_ = 0;  // bytes of the stream before buf_[begin_]
};

/// Names of the members of a zip archive. Throws mmkit::Error if it is not a readable zip.
[[nodiscard]] std::vector<std::string> zip_members(const std::string& zip_path);

/// Splits `line` on `sep` into at most `max_fields` views; returns the number of fields found
/// (which may exceed max_fields: the rest are not stored).
std::size_t split_fields(std::string_view line, char sep, std::string_view* fields,
                         std::size_t max_fields) noexcept;

}  // namespace mmkit::data
