// The in-place hasher on files laid out like archives: headers and padding around members'
// data. Checked: chunks tile each member exactly and hash its bytes as a reader will check them,
// a member's content hash is the SHA-256 of its bytes, the archive's identity covers every byte
// and does not depend on how many threads hashed, and a file shorter than its members is an
// error naming it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>

#include "common/unique_fd.h"
#include "importers/in_place_hasher.h"

using namespace recall;
using namespace recall::import;

namespace {

using Bytes = std::vector<std::uint8_t>;

struct Member {
  std::uint64_t offset, size;
};

// A file of `n` random bytes, and members at the given places.
class Archive {
 public:
  explicit Archive(std::size_t n, std::uint64_t seed = 1) : bytes_(n) {
    std::mt19937_64 rng(seed);
    for (auto& b : bytes_) b = static_cast<std::uint8_t>(rng());
    write();
  }
  ~Archive() { ::unlink(path_.c_str()); }
  Bytes& bytes() { return bytes_; }
  void write() {
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(bytes_.data(), 1, bytes_.size(), f), bytes_.size());
    std::fclose(f);
  }
  void truncate(std::size_t n) {
    bytes_.resize(n);
    write();
  }
  const std::string& path() const { return path_; }

 private:
  Bytes bytes_;
  std::string path_ = ::testing::TempDir() + "in_place_" + std::to_string(::getpid()) + ".tar";
};

struct Outcome {
  std::map<std::size_t, HashedMember> members;
  std::optional<Error> error;
  Digest identity{};
};

Outcome hash(const Archive& a, const std::vector<Member>& members, int threads) {
  UniqueFd fd(::open(a.path().c_str(), O_RDONLY));
  ImportProgress progress;
  std::atomic<bool> cancel{false};
  ChunkerParams small{.min = 256, .avg = 1024, .max = 4096};  // many chunks per member
  InPlaceHasher h(fd.get(), a.path(), small, threads, progress, cancel);
  Outcome out;
  for (std::size_t i = 0; i < members.size(); ++i) h.add(i, members[i].offset, members[i].size);
  struct stat st {};
  ::stat(a.path().c_str(), &st);
  h.finish(static_cast<std::uint64_t>(st.st_size));
  HashedSegment seg;
  while (h.next(seg, true)) {
    if (seg.error && !out.error) out.error = seg.error;
    for (auto& m : seg.members) out.members.emplace(m.index, std::move(m));
  }
  if (!out.error) out.identity = h.identity();
  return out;
}

// Members spread over several segments (segments close after 8 MiB), with gaps between them.
std::vector<Member> layout() {
  std::vector<Member> m;
  std::uint64_t at = 512;
  for (std::uint64_t size :
       {0ull, 1ull, 700ull, 5000ull, 3'000'000ull, 9'000'000ull, 12345ull, 6'000'000ull}) {
    m.push_back({at, size});
    at += size + 512 + (size % 512 ? 512 - size % 512 : 0);
  }
  return m;
}

std::uint64_t end_of(const std::vector<Member>& m) { return m.back().offset + m.back().size + 1024; }

}  // namespace

TEST(InPlaceHasher, ChunksTileEachMemberAndHashItsBytes) {
  const auto members = layout();
  Archive a(end_of(members));
  Outcome o = hash(a, members, 2);
  ASSERT_FALSE(o.error) << o.error->message;
  ASSERT_EQ(o.members.size(), members.size());
  for (std::size_t i = 0; i < members.size(); ++i) {
    const HashedMember& h = o.members.at(i);
    const Member& m = members[i];
    EXPECT_EQ(h.size, m.size);
    std::uint64_t at = m.offset;
    for (const auto& c : h.chunks) {
      EXPECT_EQ(c.offset, at);
      EXPECT_LE(c.size, 4096u);
      EXPECT_EQ(c.sha, sha256(std::span<const std::uint8_t>(a.bytes().data() + c.offset, c.size)));
      at += c.size;
    }
    EXPECT_EQ(at, m.offset + m.size) << "member " << i;
    EXPECT_EQ(h.content, sha256(std::span<const std::uint8_t>(a.bytes().data() + m.offset, m.size)))
        << "member " << i;
  }
}

TEST(InPlaceHasher, IdentityIsTheSameWhateverTheThreadsAndChangesWithAnyByte) {
  const auto members = layout();
  Archive a(end_of(members));
  const Digest one = hash(a, members, 1).identity;
  EXPECT_EQ(hash(a, members, 2).identity, one);
  EXPECT_EQ(hash(a, members, 5).identity, one);
  // A byte of a header (outside every member), a byte of a member, the last byte of the file.
  for (std::uint64_t at : {std::uint64_t{100}, members[5].offset + 4'000'000, end_of(members) - 1}) {
    a.bytes()[at] ^= 1;
    a.write();
    EXPECT_NE(hash(a, members, 2).identity, one) << "byte " << at;
    a.bytes()[at] ^= 1;
    a.write();
  }
  EXPECT_EQ(hash(a, members, 2).identity, one);
}

TEST(InPlaceHasher, AFileShorterThanItsMembersIsAnErrorNamingIt) {
  const auto members = layout();
  Archive a(end_of(members));
  a.truncate(members[5].offset + 100);  // inside the 9 MB member
  Outcome o = hash(a, members, 2);
  ASSERT_TRUE(o.error);
  EXPECT_NE(o.error->message.find(a.path()), std::string::npos) << o.error->message;
  EXPECT_NE(o.error->message.find("truncated"), std::string::npos) << o.error->message;
}

TEST(InPlaceHasher, MembersThatOverlapAreRefused) {
  Archive a(20000);
  Outcome o = hash(a, {{512, 4000}, {1024, 100}}, 1);
  ASSERT_TRUE(o.error);
  EXPECT_NE(o.error->message.find("overlap"), std::string::npos) << o.error->message;
}

TEST(InPlaceHasher, DroppedMidwayStopsItsWorkers) {
  Archive a(32 << 20);
  UniqueFd fd(::open(a.path().c_str(), O_RDONLY));
  ImportProgress progress;
  std::atomic<bool> cancel{false};
  {
    InPlaceHasher h(fd.get(), a.path(), {}, 2, progress, cancel);
    h.add(0, 0, 30 << 20);
    h.finish(32 << 20);
  }  // destroyed with the segment unfinished or unread: returns, leaks nothing
  SUCCEED();
}
