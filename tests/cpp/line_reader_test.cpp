#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <string>
#include <vector>

#include "mmkit/core/error.h"
#include "mmkit/data/line_reader.h"

namespace mmkit::data {
namespace {

std::string temp_path(const std::string& name) { return ::testing::TempDir() + "/mmkit_lr_" + name; }

std::vector<std::string> read_all(LineReader& r) {
  std::vector<std::string> out;
  std::string_view line;
  while (r.next(line)) out.emplace_back(line);
  return out;
}

TEST(LineReader, PlainFileLinesNumbersAndOffsets) {
  const std::string p = temp_path("plain.txt");
  std::ofstream(p, std::ios::binary) << "a,b\r\nsecond\n\nlast-without-newline";
  auto r = LineReader::open(p);
  std::string_view line;
  ASSERT_TRUE(r->next(line));
  EXPECT_EQ(line, "a,b");
  EXPECT_EQ(r->line_number(), 1u);
  EXPECT_EQ(r->line_offset(), 0u);
  ASSERT_TRUE(r->next(line));
  EXPECT_EQ(line, "second");
  EXPECT_EQ(r->line_offset(), 5u);
  ASSERT_TRUE(r->next(line));
  EXPECT_EQ(line, "");
  ASSERT_TRUE(r->next(line));
  EXPECT_EQ(line, "last-without-newline");
  EXPECT_EQ(r->line_number(), 4u);
  EXPECT_FALSE(r->next(line));
}

TEST(LineReader, GzipIsDetectedByMagicAndConcatenatedMembersAreOneStream) {
  const std::string p = temp_path("two_members.gz");
  for (const char* mode : {"wb", "ab"}) {
    gzFile gz = gzopen(p.c_str(), mode);
    ASSERT_NE(gz, nullptr);
    const std::string text = std::string(mode) == "wb" ? "one\ntwo\n" : "three\n";
    gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
    gzclose(gz);
  }
  auto r = LineReader::open(p);
  EXPECT_EQ(read_all(*r), (std::vector<std::string>{"one", "two", "three"}));
}

TEST(LineReader, LinesLongerThanTheBufferAreWhole) {
  const std::string p = temp_path("long.txt");
  const std::string big(3 << 20, 'x');
  std::ofstream(p, std::ios::binary) << "short\n" << big << "\nend\n";
  auto r = LineReader::open(p);
  const auto lines = read_all(*r);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].size(), big.size());
  EXPECT_EQ(lines[2], "end");
}

TEST(LineReader, MissingFileAndBadZipAreErrorsNamingTheFile) {
  try {
    (void)LineReader::open(temp_path("does-not-exist"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does-not-exist"), std::string::npos);
  }
  const std::string p = temp_path("not-a.zip");
  std::ofstream(p) << "plain text";
  EXPECT_THROW((void)zip_members(p), Error);
  EXPECT_THROW((void)LineReader::open_zip_member(p, "x.csv"), Error);
}

TEST(LineReader, CorruptGzipIsAnError) {
  const std::string p = temp_path("corrupt.gz");
  {
    gzFile gz = gzopen(p.c_str(), "wb");
    const std::string text(100000, 'q');
    gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
    gzclose(gz);
  }
  std::string bytes;
  {
    std::ifstream in(p, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[bytes.size() / 2] ^= 0x55;
  bytes.resize(bytes.size() - 4);
  std::ofstream(p, std::ios::binary) << bytes;
  auto r = LineReader::open(p);
  std::string_view line;
  EXPECT_THROW(
      {
        while (r->next(line)) {
        }
      },
      Error);
}

TEST(SplitFields, CountsAllFieldsEvenPastCapacity) {
  std::string_view f[3];
  EXPECT_EQ(split_fields("a,,c", ',', f, 3), 3u);
  EXPECT_EQ(f[1], "");
  EXPECT_EQ(f[2], "c");
  EXPECT_EQ(split_fields("1,2,3,4,5", ',', f, 3), 5u);
  EXPECT_EQ(f[2], "3");
  EXPECT_EQ(split_fields("", ',', f, 3), 1u);
}

}  // namespace
}  // namespace mmkit::data
