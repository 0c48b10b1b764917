// The pieces of the tar importer that judge untrusted input: GNU dumpdirs, member names, and the
// in-memory image members are placed into.
#include <gtest/gtest.h>

#include <cstdio>

#include "importers/dumpdir.h"
#include "importers/pax_dumpdirs.h"
#include "importers/tree_image.h"

using namespace recall;
using namespace recall::import;
using namespace std::string_literals;

namespace {

TEST(Dumpdir, ParsesEveryCodeAndStopsAtTheEmptyEntry) {
  auto d = parse_dumpdir("Ya\0Nb\0Dc\0Rold/x\0Tnew/x\0Xtmp\0\0Yignored\0"s);
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->size(), 6u);
  EXPECT_EQ((*d)[0].code, 'Y');
  EXPECT_EQ((*d)[0].name, "a");
  EXPECT_EQ((*d)[3].name, "old/x");
  EXPECT_EQ((*d)[5].code, 'X');
  EXPECT_TRUE(parse_dumpdir("").ok());
}

TEST(Dumpdir, RefusesWhatTarNeverWrites) {
  for (const auto& bad : {"Ya"s, "Qx\0"s, "Y..\0"s, "Ya/b\0"s, "N\0"s, "D.\0"s}) {
    auto d = parse_dumpdir(bad);
    EXPECT_FALSE(d.ok()) << "accepted " << ::testing::PrintToString(bad);
  }
}

TEST(MemberParts, NamesGoBelowTheRoot) {
  bool absolute = true;
  auto p = member_parts("./data//x/./y", &absolute);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (std::vector<std::string>{"data", "x", "y"}));
  EXPECT_FALSE(absolute);
  p = member_parts("/etc/passwd", &absolute);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (std::vector<std::string>{"etc", "passwd"}));
  EXPECT_TRUE(absolute);
  p = member_parts("caf\xc3\xa9/\xff\xfe", nullptr);  // non-UTF-8 bytes are kept exactly
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)[1], "\xff\xfe");
}

TEST(MemberParts, RefusesEscapesAndMonsters) {
  EXPECT_FALSE(member_parts("a/../../etc/passwd", nullptr).ok());
  EXPECT_FALSE(member_parts("..", nullptr).ok());
  EXPECT_FALSE(member_parts("d/" + std::string(256, 'x'), nullptr).ok());
  std::string deep;
  for (int i = 0; i < 30; ++i) deep += std::string(200, 'y') + "/";
  EXPECT_FALSE(member_parts(deep, nullptr).ok());
  EXPECT_TRUE(member_parts(std::string(255, 'z'), nullptr).ok());
}

FileMeta dir_meta() {
  FileMeta m;
  m.type = FileType::Directory;
  m.mode = 0755;
  return m;
}

std::unique_ptr<ImageNode> file_node(std::uint64_t ino) {
  auto n = std::make_unique<ImageNode>();
  n->meta.type = FileType::Regular;
  n->meta.ino = ino;
  return n;
}

TEST(TreeImage, PutCreatesImpliedDirectoriesAndReplaces) {
  TreeImage img;
  ASSERT_TRUE(img.put({"a", "b", "f"}, file_node(1), dir_meta()).ok());
  ASSERT_NE(img.find({"a", "b"}), nullptr);
  EXPECT_EQ(img.find({"a", "b"})->meta.type, FileType::Directory);
  ASSERT_TRUE(img.put({"a", "b", "f"}, file_node(2), dir_meta()).ok());
  EXPECT_EQ(img.find({"a", "b", "f"})->meta.ino, 2u);
  EXPECT_EQ(img.size(), 4u);  // the root, a, b, f
}

TEST(TreeImage, NothingGoesBelowAFileOrASymlink) {
  TreeImage img;
  auto link = file_node(1);
  link->meta.type = FileType::Symlink;
  link->meta.link_target = "/etc";
  ASSERT_TRUE(img.put({"etc"}, std::move(link), dir_meta()).ok());
  EXPECT_FALSE(img.put({"etc", "passwd"}, file_node(2), dir_meta()).ok());
  ASSERT_TRUE(img.put({"f"}, file_node(3), dir_meta()).ok());
  EXPECT_FALSE(img.ensure_dir({"f", "sub"}, dir_meta()).ok());
}

TEST(TreeImage, TakeDetachesASubtreeAndLinksAreCounted) {
  TreeImage img;
  ASSERT_TRUE(img.put({"d", "x"}, file_node(7), dir_meta()).ok());
  ASSERT_TRUE(img.put({"d", "y"}, file_node(7), dir_meta()).ok());
  ASSERT_TRUE(img.put({"z"}, file_node(8), dir_meta()).ok());
  img.count_links();
  EXPECT_EQ(img.find({"d", "x"})->meta.nlink, 2u);
  EXPECT_EQ(img.find({"z"})->meta.nlink, 1u);
  auto d = img.take({"d"});
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->children.size(), 2u);
  EXPECT_EQ(img.find({"d"}), nullptr);
  EXPECT_EQ(img.take({"nope"}), nullptr);
}

// --- pax dump lists (GNU.dumpdir in extended headers) ---------------------------------------

// A 512-byte header of `type` whose size field says `size` (octal), checksum not needed here.
std::string header(char type, std::uint64_t size, const std::string& name = "x") {
  std::string h(512, '\0');
  h.replace(0, name.size(), name);
  char field[13];
  std::snprintf(field, sizeof field, "%011llo", static_cast<unsigned long long>(size));
  h.replace(124, 11, field, 11);
  h[156] = type;
  return h;
}

std::string pad(std::string data) {
  data.resize((data.size() + 511) / 512 * 512, '\0');
  return data;
}

std::string record(const std::string& key, const std::string& value) {
  std::string body = " " + key + "=" + value + "\n";
  std::size_t len = body.size() + 1;
  while (std::to_string(len).size() + body.size() != len) ++len;
  return std::to_string(len) + body;
}

TEST(PaxDumpdirs, FoundWhereTheirEntryBeginsPastFilesOfAnySize) {
  const std::string list = "Ya.txt\0Dsub\0\0"s;
  std::string ext = record("path", "./dir") + record("GNU.dumpdir", list);
  std::string big_ext = record("size", "1000");  // the pax size wins over the header's
  std::string tar = header('5', 0, "./") + header('0', 700, "f") + pad(std::string(700, 'z')) +
                    header('x', big_ext.size()) + pad(big_ext) + header('0', 0, "g") +
                    pad(std::string(1000, 'q'));
  const std::uint64_t at = tar.size();
  tar += header('x', ext.size()) + pad(ext) + header('5', 0, "dir") + std::string(1024, '\0');
  auto r = read_pax_dumpdirs_from(tar, "t.tar");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->at(at), list);
}

TEST(PaxDumpdirs, HostileHeadersAreOneLineErrorsNamingTheArchive) {
  std::string bad_size = header('0', 0);
  bad_size.replace(124, 12, "12x45678901 ");
  std::string huge = header('x', 1ull << 40);
  std::string liar = header('x', 40) + pad("99 path=./x\n");
  std::string no_eq = header('x', 12) + pad("12 pathxxxx\n");
  for (const auto& [name, tar] :
       {std::pair{"size", bad_size}, {"huge", huge}, {"liar", liar}, {"no =", no_eq}}) {
    auto r = read_pax_dumpdirs_from(tar, "evil.tar");
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_NE(r.error().message.find("evil.tar: header at byte 0"), std::string::npos) << r.error().message;
  }
  // Cut short or empty: nothing found, no error (libarchive judges truncation).
  EXPECT_TRUE(read_pax_dumpdirs_from(header('x', 600), "t.tar").ok());
  EXPECT_TRUE(read_pax_dumpdirs_from("", "t.tar").ok());
}

}  // namespace
