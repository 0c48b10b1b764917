// Point records (importers/point_record.h): a round trip keeps every field; parts frame and
// reassemble in any order; damaged, truncated or hostile records are refused with the reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "importers/point_record.h"

namespace recall::import {
namespace {

FileMeta meta(FileType t, std::uint32_t mode) {
  FileMeta m;
  m.type = t;
  m.mode = mode;
  m.uid = 1000;
  m.gid = 100;
  m.user = "alice";
  m.group = "users";
  m.mtime_ns = -1'234'567'890;  // before 1970: zigzag
  m.ctime_ns = 1'700'000'000'123'456'789;
  m.ino = 42;
  return m;
}

PointRecord sample() {
  PointRecord r;
  r.host = "h1";
  r.at = 1'717'228'800;
  r.importer = "dir";
  r.kind = "incremental";
  r.source = "/srv/data";
  r.stats = R"({"files_read":3})";
  r.chunks = {{sha256("c0"), 10}, {sha256("c1"), 20}};
  RecordContent a;
  a.sha = sha256("file a");
  a.size = 30;
  a.chunks = {0, 1};
  RecordContent gap;
  gap.sha = sha256("gap");
  gap.size = 5;
  gap.whole_sha = false;
  gap.gap = "volume TAPE42 is not known";
  gap.gap_source_sha = sha256("theirs");
  r.contents = {a, gap};
  r.image.root().meta = meta(FileType::Directory, 0755);
  auto f = std::make_unique<ImageNode>();
  f->meta = meta(FileType::Regular, 0600);
  f->meta.size = 30;
  f->meta.nlink = 2;
  f->meta.xattrs = {{"user.note", std::string("bin\0ary", 7)}};
  f->meta.acl = {{AclEntry::Tag::User, 1001, "bob", 4}};
  f->content_id = 1;
  auto g = std::make_unique<ImageNode>();
  g->meta = meta(FileType::Regular, 0644);
  g->meta.size = 5;
  g->content_id = 2;
  auto l = std::make_unique<ImageNode>();
  l->meta = meta(FileType::Symlink, 0777);
  l->meta.link_target = "../a";
  auto d = std::make_unique<ImageNode>();
  d->meta = meta(FileType::Directory, 0700);
  d->children.emplace("caf\xe9 latin1", std::move(g));
  r.image.root().children.emplace("a", std::move(f));
  r.image.root().children.emplace("link", std::move(l));
  r.image.root().children.emplace("dir", std::move(d));
  return r;
}

void expect_same_tree(const ImageNode& a, const ImageNode& b) {
  EXPECT_EQ(a.meta, b.meta);
  EXPECT_EQ(a.content_id, b.content_id);
  ASSERT_EQ(a.children.size(), b.children.size());
  for (const auto& [name, child] : a.children) {
    auto it = b.children.find(name);
    ASSERT_NE(it, b.children.end()) << name;
    expect_same_tree(*child, *it->second);
  }
}

TEST(PointRecord, RoundTripKeepsEverything) {
  const PointRecord r = sample();
  auto back = decode_point_record(encode_point_record(r));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->host, r.host);
  EXPECT_EQ(back->at, r.at);
  EXPECT_EQ(back->importer, r.importer);
  EXPECT_EQ(back->kind, r.kind);
  EXPECT_EQ(back->source, r.source);
  EXPECT_EQ(back->stats, r.stats);
  ASSERT_EQ(back->chunks.size(), 2u);
  EXPECT_EQ(back->chunks[1].sha, r.chunks[1].sha);
  EXPECT_EQ(back->chunks[1].size, 20u);
  ASSERT_EQ(back->contents.size(), 2u);
  EXPECT_EQ(back->contents[0].chunks, (std::vector<std::uint32_t>{0, 1}));
  EXPECT_TRUE(back->contents[0].whole_sha);
  EXPECT_EQ(back->contents[1].gap, r.contents[1].gap);
  EXPECT_EQ(back->contents[1].gap_source_sha, r.contents[1].gap_source_sha);
  EXPECT_FALSE(back->contents[1].whole_sha);
  expect_same_tree(r.image.root(), back->image.root());
}

TEST(PointRecord, PartsReassembleInAnyOrderWithDuplicates) {
  // Incompressible names make a record of several parts.
  PointRecord r = sample();
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string name(200, 'x');
    for (auto& c : name) c = static_cast<char>('a' + rng() % 26);
    auto n = std::make_unique<ImageNode>();
    n->meta = meta(FileType::Fifo, 0644);
    r.image.root().children.emplace(name, std::move(n));
  }
  const auto encoded = encode_point_record(r);
  auto parts = frame_record_parts(encoded);
  ASSERT_GT(parts.size(), 1u);
  for (const auto& p : parts) EXPECT_LE(p.size(), kRecordPartBytes);
  std::vector<std::vector<std::uint8_t>> shuffled = parts;
  shuffled.push_back(parts[0]);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  RecordAssembler a;
  for (const auto& p : shuffled) {
    ASSERT_TRUE(looks_like_record_part(p));
    auto part = parse_record_part(p);
    ASSERT_TRUE(part.ok()) << part.error().message;
    ASSERT_TRUE(a.add(*part).ok());
  }
  std::size_t incomplete = 9;
  auto whole = a.finish(&incomplete);
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  EXPECT_EQ(incomplete, 0u);
  ASSERT_EQ(whole->size(), 1u);
  EXPECT_EQ((*whole)[0].encoded, encoded);
}

TEST(PointRecord, AMissingPartLeavesTheRecordIncomplete) {
  auto parts = frame_record_parts(encode_point_record(sample()));
  RecordAssembler a;
  std::size_t incomplete = 0;
  auto whole = a.finish(&incomplete);
  ASSERT_TRUE(whole.ok());
  EXPECT_TRUE(whole->empty());
  // One part only, of a record claimed to have two.
  auto p = parts[0];
  p[16] = 2;  // part count
  auto part = parse_record_part(p);
  EXPECT_FALSE(part.ok()) << "a count that does not fit the length";
}

TEST(PointRecord, DamagedPartsAreRefused) {
  auto p = frame_record_parts(encode_point_record(sample()))[0];
  auto bad_version = p;
  bad_version[8] = 2;
  EXPECT_FALSE(parse_record_part(bad_version).ok());
  auto short_part = p;
  short_part.pop_back();
  EXPECT_FALSE(parse_record_part(short_part).ok());
  auto flipped = p;
  flipped.back() ^= 1;  // the record's bytes no longer match its id
  auto part = parse_record_part(flipped);
  ASSERT_TRUE(part.ok());
  RecordAssembler a;
  ASSERT_TRUE(a.add(*part).ok());
  std::size_t incomplete = 0;
  auto whole = a.finish(&incomplete);
  ASSERT_FALSE(whole.ok());
  EXPECT_NE(whole.error().message.find("SHA-256 mismatch"), std::string::npos) << whole.error().message;
}

TEST(PointRecord, HostileRecordsAreRefused) {
  auto with_child = [](const std::string& name) {
    PointRecord r = sample();
    auto n = std::make_unique<ImageNode>();
    n->meta = meta(FileType::Fifo, 0644);
    r.image.root().children.emplace(name, std::move(n));
    return encode_point_record(r);
  };
  for (const std::string& name :
       std::vector<std::string>{"..", ".", "", "a/b", std::string("nul\0x", 5), std::string(256, 'n')}) {
    auto r = decode_point_record(with_child(name));
    EXPECT_FALSE(r.ok()) << "name '" << name << "' accepted";
  }
  // Every truncation fails cleanly.
  const auto good = encode_point_record(sample());
  for (std::size_t n = 0; n < good.size(); ++n)
    EXPECT_FALSE(decode_point_record(std::span(good).first(n)).ok()) << "truncated at " << n;
  // Content index past the table, and a chunk list that does not add up.
  PointRecord r = sample();
  r.image.root().children.at("a")->content_id = 3;
  EXPECT_FALSE(decode_point_record(encode_point_record(r)).ok());
  r = sample();
  r.contents[0].size = 31;
  EXPECT_FALSE(decode_point_record(encode_point_record(r)).ok());
  r = sample();
  r.contents[0].chunks = {0, 5};
  EXPECT_FALSE(decode_point_record(encode_point_record(r)).ok());
  // Nesting past 512 levels.
  r = sample();
  ImageNode* at = &r.image.root();
  for (int i = 0; i < 600; ++i) {
    auto d = std::make_unique<ImageNode>();
    d->meta = meta(FileType::Directory, 0755);
    at = at->children.emplace("d", std::move(d)).first->second.get();
  }
  auto deep = decode_point_record(encode_point_record(r));
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.error().message.find("512"), std::string::npos) << deep.error().message;
}

}  // namespace
}  // namespace recall::import
