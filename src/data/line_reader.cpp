#include "mmkit/data/line_reader.h"

#include <fcntl.h>
#include <unistd.h>
#include <zip.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "mmkit/core/error.h"

namespace mmkit::data {
namespace {
constexpr std::size_t kChunk = 1 << 20;

class PlainReader final : public LineReader {
 public:
  explicit PlainReader(const std::string& path) : LineReader(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error(SourceLocation{path}, std::string("cannot open: ") + std::strerror(errno));
  }
  ~PlainReader() override { ::close(fd_); }

 protected:
  std::size_t read_some(char* dst, std::size_t n) override {
    for (;;) {
      const ssize_t r = ::read(fd_, dst, n);
      if (r >= 0) return static_cast<std::size_t>(r);
      if (errno != EINTR) throw Error(SourceLocation{name()}, std::string("read failed: ") + std::strerror(errno));
    }
  }

 private:
  int fd_ = -1;
};

class GzipReader final : public LineReader {
 public:
  explicit GzipReader(const std::string& path) : LineReader(path) {
    gz_ = gzopen(path.c_str(), "rb");
    if (gz_ == nullptr) throw Error(SourceLocation{path}, "cannot open gzip file");
    gzbuffer(gz_, 1 << 18);
  }
  ~GzipReader() override { gzclose(gz_); }

 protected:
  std::size_t read_some(char* dst, std::size_t n) override {
    const int r = gzread(gz_, dst, static_cast<unsigned>(n));
    int errnum = Z_OK;
    const char* msg = gzerror(gz_, &errnum);
    if (r < 0 || (r == 0 && errnum != Z_OK && errnum != Z_STREAM_END)) {
      SourceLocation loc{name()};
      loc.byte_offset = static_cast<std::uint64_t>(gzoffset(gz_));
      loc.has_byte_offset = true;
      throw Error(std::move(loc), std::string("gzip decode error: ") + msg);
    }
    return static_cast<std::size_t>(r);
  }

 private:
  gzFile gz_ = nullptr;
};

class ZipMemberReader final : public LineReader {
 public:
  ZipMemberReader(const std::string& zip_path, const std::string& member)
      : LineReader(zip_path + "!" + member) {
    int err = 0;
    archive_ = zip_open(zip_path.c_str(), ZIP_RDONLY, &err);
    if (archive_ == nullptr) {
      zip_error_t ze;
      zip_error_init_with_code(&ze, err);
      const std::string msg = std::string("cannot open zip archive: ") + zip_error_strerror(&ze);
      zip_error_fini(&ze);
      throw Error(SourceLocation{zip_path}, msg);
    }
    file_ = zip_fopen(archive_, member.c_str(), 0);
    if (file_ == nullptr) {
      const std::string msg = std::string("cannot open member '") + member +
                              "': " + zip_strerror(archive_);
      zip_discard(archive_);
      throw Error(SourceLocation{zip_path}, msg);
    }
  }
  ~ZipMemberReader() override {
    zip_fclose(file_);
    zip_discard(archive_);
  }

 protected:
  std::size_t read_some(char* dst, std::size_t n) override {
    const zip_int64_t r = zip_fread(file_, dst, n);
    if (r < 0) throw Error(SourceLocation{name()}, std::string("zip read error: ") + zip_file_strerror(file_));
    return static_cast<std::size_t>(r);
  }

 private:
  zip_t* archive_ = nullptr;
  zip_file_t* file_ = nullptr;
};

bool has_gzip_magic(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(SourceLocation{path}, std::string("cannot open: ") + std::strerror(errno));
  unsigned char magic[2] = {0, 0};
  const ssize_t r = ::read(fd, magic, 2);
  ::close(fd);
  return r == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}
}  // namespace

LineReader::LineReader(std::string name) : name_(std::move(name)), buf_(kChunk) {}
LineReader::~LineReader() = default;

std::unique_ptr<LineReader> LineReader::open(const std::string& path) {
  if (has_gzip_magic(path)) return std::make_unique<GzipReader>(path);
  return std::make_unique<PlainReader>(path);
}

std::unique_ptr<LineReader> LineReader::open_zip_member(const std::string& zip_path,
                                                        const std::string& member) {
  return std::make_unique<ZipMemberReader>(zip_path, member);
}

bool LineReader::next(std::string_view& line) {
  for (;;) {
    const char* start = buf_.data() + begin_;
    const void* nl = begin_ < end_ ? std::memchr(start, '\n', end_ - begin_) : nullptr;
    if (nl != nullptr || (eof_ && begin_ < end_)) {
      const char* stop = nl != nullptr ? static_cast<const char*>(nl) : buf_.data() + end_;
      std::size_t len = static_cast<std::size_t>(stop - start);
      const std::size_t advance = len + (nl != nullptr ? 1 : 0);
      if (len > 0 && start[len - 1] == '\r') --len;
      line = std::string_view(start, len);
      line_offset_ = consumed_;
      consumed_ += advance;
      begin_ += advance;
      ++line_no_;
      return true;
    }
    if (eof_) return false;
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
    const std::size_t got = read_some(buf_.data() + end_, buf_.size() - end_);
    if (got == 0) eof_ = true;
    end_ += got;
  }
}

std::vector<std::string> zip_members(const std::string& zip_path) {
  int err = 0;
  zip_t* archive = zip_open(zip_path.c_str(), ZIP_RDONLY, &err);
  if (archive == nullptr) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    const std::string msg = std::string("not a readable zip archive: ") + zip_error_strerror(&ze);
    zip_error_fini(&ze);
    throw Error(SourceLocation{zip_path}, msg);
  }
  std::vector<std::string> names;
  const zip_int64_t n = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* nm = zip_get_name(archive, static_cast<zip_uint64_t>(i), 0);
    if (nm != nullptr) names.emplace_back(nm);
  }
  zip_discard(archive);
  return names;
}

std::size_t split_fields(std::string_view line, char sep, std::string_view* fields,
                         std::size_t max_fields) noexcept {
  std::size_t n = 0;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t next = line.find(sep, pos);
    const std::string_view f =
        line.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
    if (n < max_fields) fields[n] = f;
    ++n;
    if (next == std::string_view::npos) return n;
    pos = next + 1;
  }
}

}  // namespace mmkit::data
