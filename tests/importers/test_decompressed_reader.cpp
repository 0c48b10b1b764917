// DecompressedReader against files made by the real compressors (gzip, bzip2, xz, lzip, zstd,
// lz4, installed by scripts/setup.sh): intact streams read back exactly; damage anywhere, a cut
// and trailing bytes that are not the format are refused as Corrupt, naming the file.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <random>

#include "common/unique_fd.h"
#include "importers/decompressed_reader.h"
#include "tests/http/temp_dir.h"

using namespace recall;
using namespace recall::import;

namespace {

struct Tool {
  const char* format;
  const char* command;  // compresses $IN to stdout
};
const Tool kTools[] = {{"gzip", "gzip -c"}, {"bzip2", "bzip2 -c"},  {"xz", "xz -c"},
                       {"lzip", "lzip -c"}, {"zstd", "zstd -q -c"}, {"lz4", "lz4 -q -c"}};

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}
void spit(const std::string& p, const std::string& data) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << data;
}

// Text-like data that compresses but not to nothing, so that damage lands in real blocks.
std::string payload(std::size_t n) {
  std::mt19937 rng(24);
  std::string s;
  const char* words[] = {"recall ", "tape ", "restore ", "point ", "catalog\n", "volume "};
  while (s.size() < n) s += words[rng() % 6] + std::to_string(rng() % 100000) + " ";
  return s.substr(0, n);
}

struct ReadResult {
  std::string bytes;
  std::optional<Error> error;
  std::string format;
  bool checked = true;
};

ReadResult read_all(const std::string& path) {
  ReadResult out;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  auto r = DecompressedReader::open(fd.get(), path);
  if (!r.ok()) return out.error = r.error(), out;
  out.format = (*r)->format();
  std::vector<std::uint8_t> buf(7000);  // small and odd: codecs must hold output across calls
  for (;;) {
    auto n = (*r)->read(buf.data(), buf.size());
    if (!n.ok()) return out.error = n.error(), out;
    if (*n == 0) break;
    out.bytes.append(reinterpret_cast<const char*>(buf.data()), *n);
  }
  out.checked = (*r)->checked();
  return out;
}

class DecompressedReaderTest : public ::testing::TestWithParam<Tool> {
 protected:
  void SetUp() override {
    data_ = payload(1 << 20);
    plain_ = dir_.path() + "/data";
    spit(plain_, data_);
    packed_ = dir_.path() + "/data.packed";
    const std::string cmd = std::string(GetParam().command) + " " + plain_ + " > " + packed_;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd << " (scripts/setup.sh installs the compressors)";
    bytes_ = slurp(packed_);
    ASSERT_GT(bytes_.size(), 1000u);
  }
  // Reading `damaged` must fail as Corrupt, naming the file, never return other bytes.
  void expect_refused(const std::string& damaged, const std::string& what) {
    const std::string p = dir_.path() + "/damaged";
    spit(p, damaged);
    auto r = read_all(p);
    ASSERT_TRUE(r.error.has_value()) << GetParam().format << " " << what << ": read "
                                     << (r.bytes == data_ ? "the right bytes" : "WRONG bytes") << " as good";
    EXPECT_EQ(r.error->kind, ErrorKind::Corrupt) << r.error->message;
    EXPECT_NE(r.error->message.find(p), std::string::npos) << r.error->message;
    EXPECT_EQ(r.error->message.find('\n'), std::string::npos);
  }
  recall::testing::TempDir dir_;
  std::string data_, plain_, packed_, bytes_;
};

TEST_P(DecompressedReaderTest, IntactStreamsReadBackExactly) {
  auto r = read_all(packed_);
  ASSERT_FALSE(r.error) << r.error->message;
  EXPECT_EQ(r.format, GetParam().format);
  EXPECT_TRUE(r.checked);
  EXPECT_TRUE(r.bytes == data_);
}

// Regression (issue 24): four zero bytes in the middle of a gzip stream imported as good.
TEST_P(DecompressedReaderTest, DamageInTheMiddleIsRefused) {
  for (double where : {0.25, 0.5, 0.75}) {
    std::string d = bytes_;
    const std::size_t at = static_cast<std::size_t>(static_cast<double>(d.size()) * where);
    for (std::size_t i = 0; i < 4; ++i) d[at + i] = 0;
    expect_refused(d, "zeros at " + std::to_string(at));
  }
}

TEST_P(DecompressedReaderTest, DamagedTrailerIsRefused) {
  std::string d = bytes_;
  d[d.size() - 2] ^= 0x55;  // the last check or size field
  expect_refused(d, "damaged trailer");
}

TEST_P(DecompressedReaderTest, TruncatedStreamsAreRefused) {
  expect_refused(bytes_.substr(0, bytes_.size() - 3), "cut by 3 bytes");
  expect_refused(bytes_.substr(0, bytes_.size() / 2), "cut in half");
}

// As the tools themselves: gzip, bzip2, xz, zstd and lz4 call bytes after the stream damage;
// lzip ignores them unless told otherwise (lzip -a), and so does liblzma's lzip decoder.
TEST_P(DecompressedReaderTest, GarbageAfterTheStreamIsRefused) {
  if (std::string(GetParam().format) == "lzip") {
    const std::string p = dir_.path() + "/trailing";
    spit(p, bytes_ + "garbage!");
    auto r = read_all(p);
    ASSERT_FALSE(r.error) << r.error->message;
    EXPECT_TRUE(r.bytes == data_);
    return;
  }
  expect_refused(bytes_ + "garbage!", "trailing garbage");
}

INSTANTIATE_TEST_SUITE_P(Compressors, DecompressedReaderTest, ::testing::ValuesIn(kTools),
                         [](const auto& info) { return std::string(info.param.format); });

TEST(DecompressedReader, GzipMembersConcatenatedAndZeroPaddingAreOneStream) {
  recall::testing::TempDir dir;
  const std::string a = payload(100000), b = payload(5000);
  spit(dir.path() + "/a", a);
  spit(dir.path() + "/b", b);
  const std::string out = dir.path() + "/ab.gz";
  ASSERT_EQ(std::system(("gzip -c " + dir.path() + "/a > " + out + " && gzip -c " + dir.path() + "/b >> " +
                         out + " && head -c 10240 /dev/zero >> " + out)
                            .c_str()),
            0);
  auto r = read_all(out);
  ASSERT_FALSE(r.error) << r.error->message;
  EXPECT_TRUE(r.bytes == a + b);
}

// Padding longer than one read of the file is not the end: a member after it still counts, and
// garbage after it is still refused.
TEST(DecompressedReader, ZeroPaddingLongerThanOneReadIsNotTheEnd) {
  recall::testing::TempDir dir;
  const std::string a = payload(100000), b = payload(5000);
  spit(dir.path() + "/a", a);
  spit(dir.path() + "/b", b);
  const std::string out = dir.path() + "/ab.gz", bad = dir.path() + "/zg.gz";
  ASSERT_EQ(std::system(("gzip -c " + dir.path() + "/a > " + out + " && head -c 1000000 /dev/zero >> " + out +
                         " && cp " + out + " " + bad + " && gzip -c " + dir.path() + "/b >> " + out +
                         " && printf garbage >> " + bad)
                            .c_str()),
            0);
  auto r = read_all(out);
  ASSERT_FALSE(r.error) << r.error->message;
  EXPECT_TRUE(r.bytes == a + b);
  auto g = read_all(bad);
  ASSERT_TRUE(g.error);
  EXPECT_EQ(g.error->kind, ErrorKind::Corrupt);
}

TEST(DecompressedReader, PlainFilesAreReadAsTheyAre) {
  recall::testing::TempDir dir;
  const std::string p = dir.path() + "/plain", data = payload(300000);
  spit(p, data);
  auto r = read_all(p);
  ASSERT_FALSE(r.error) << r.error->message;
  EXPECT_EQ(r.format, "none");
  EXPECT_TRUE(r.bytes == data);
}

TEST(DecompressedReader, AnXzStreamWithoutACheckIsReadButNotChecked) {
  recall::testing::TempDir dir;
  const std::string p = dir.path() + "/d", data = payload(200000);
  spit(p, data);
  ASSERT_EQ(std::system(("xz --check=none -c " + p + " > " + p + ".xz").c_str()), 0);
  auto r = read_all(p + ".xz");
  ASSERT_FALSE(r.error) << r.error->message;
  EXPECT_TRUE(r.bytes == data);
  EXPECT_FALSE(r.checked);
}

}  // namespace
