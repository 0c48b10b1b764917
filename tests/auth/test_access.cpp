// Unit tests of the access rule on hand-built FileMetas (no real users needed).
#include <gtest/gtest.h>

#include "auth/access.h"
#include "auth/acl_io.h"

using namespace recall;

namespace {

using Tag = AclEntry::Tag;

// A name service with two accounts, so mapping by name is tested without touching NSS.
OwnerMap test_map() {
  auto users = [](const std::string& n) -> Result<std::optional<std::uint32_t>> {
    if (n == "alice") return std::optional<std::uint32_t>(2001);
    if (n == "ldapdown") return make_error(ErrorKind::Io, "name service unavailable");
    return std::optional<std::uint32_t>();
  };
  auto groups = [](const std::string& n) -> Result<std::optional<std::uint32_t>> {
    if (n == "staff") return std::optional<std::uint32_t>(3001);
    return std::optional<std::uint32_t>();
  };
  return OwnerMap(users, groups);
}

Identity user(std::uint32_t uid, std::vector<std::uint32_t> groups) {
  Identity id;
  id.uid = uid;
  id.gid = groups.front();
  std::sort(groups.begin(), groups.end());
  id.groups = groups;
  return id;
}

FileMeta file(std::uint32_t uid, std::uint32_t gid, std::uint32_t mode, std::vector<AclEntry> acl = {}) {
  FileMeta m;
  m.uid = uid;
  m.gid = gid;
  m.mode = mode;
  m.acl = std::move(acl);
  return m;
}

FileMeta dir(std::uint32_t uid, std::uint32_t gid, std::uint32_t mode) {
  FileMeta m = file(uid, gid, mode);
  m.type = FileType::Directory;
  return m;
}

AclEntry ent(Tag tag, std::uint8_t perm, std::uint32_t id = 0, std::string name = "") {
  return AclEntry{tag, id, std::move(name), perm};
}

const Identity kOwner = user(100, {100});
const Identity kGroupMember = user(101, {101, 500});
const Identity kStranger = user(102, {102});
const Identity kRoot = user(0, {0});

}  // namespace

TEST(Access, ModeBitsOwnerGroupOther) {
  OwnerMap map = test_map();
  FileMeta f = file(100, 500, 0640);
  EXPECT_TRUE(permits(kOwner, f, kRead | kWrite, map));
  EXPECT_FALSE(permits(kOwner, f, kExec, map));
  EXPECT_TRUE(permits(kGroupMember, f, kRead, map));
  EXPECT_FALSE(permits(kGroupMember, f, kWrite, map));
  EXPECT_FALSE(permits(kStranger, f, kRead, map));
}

TEST(Access, FirstMatchingClassDecidesEvenIfALaterOneWouldGrant) {
  OwnerMap map = test_map();
  FileMeta f = file(100, 500, 0077);
  EXPECT_FALSE(permits(kOwner, f, kRead, map));  // owner class says ---
  EXPECT_TRUE(permits(kGroupMember, f, kRead, map));
  FileMeta g = file(100, 500, 0604);
  EXPECT_FALSE(permits(kGroupMember, g, kRead, map));  // group class says ---
  EXPECT_TRUE(permits(kStranger, g, kRead, map));
}

TEST(Access, NamedUserIsMasked) {
  OwnerMap map = test_map();
  FileMeta f = file(100, 500, 0640,
                    {ent(Tag::UserObj, 6), ent(Tag::User, 7, 102), ent(Tag::GroupObj, 4), ent(Tag::Mask, 4),
                     ent(Tag::Other, 0)});
  EXPECT_TRUE(permits(kStranger, f, kRead, map));
  EXPECT_FALSE(permits(kStranger, f, kWrite, map));  // rwx & mask r--
  EXPECT_FALSE(permits(user(103, {103}), f, kRead, map));
}

TEST(Access, NamedUserDecidesAloneEvenIfOtherGrants) {
  OwnerMap map = test_map();
  FileMeta f = file(100, 500, 0644,
                    {ent(Tag::UserObj, 6), ent(Tag::User, 0, 102), ent(Tag::GroupObj, 4), ent(Tag::Mask, 4),
                     ent(Tag::Other, 4)});
  EXPECT_FALSE(permits(kStranger, f, kRead, map));
  EXPECT_TRUE(permits(user(103, {103}), f, kRead, map));
}

TEST(Access, MaskLimitsGroupObjAndNamedGroups) {
  OwnerMap map = test_map();
  FileMeta f = file(100, 500, 0640,
                    {ent(Tag::UserObj, 6), ent(Tag::GroupObj, 6), ent(Tag::Group, 7, 600), ent(Tag::Mask, 4),
                     ent(Tag::Other, 0)});
  EXPECT_TRUE(permits(kGroupMember, f, kRead, map));
  EXPECT_FALSE(permits(kGroupMember, f, kWrite, map));
  Identity in600 = user(104, {104, 600});
  EXPECT_TRUE(permits(in600, f, kRead, map));
  EXPECT_FALSE(permits(in600, f, kExec, map));
}

TEST(Access, GroupClassAnyEntryMustGrantAllBitsAlone) {
  OwnerMap map = test_map();
  // owning group r--, named group 600 -w-: a member of both gets r or w, but not rw at once.
  FileMeta f = file(100, 500, 0664,
                    {ent(Tag::UserObj, 6), ent(Tag::GroupObj, 4), ent(Tag::Group, 2, 600), ent(Tag::Mask, 6),
                     ent(Tag::Other, 4)});
  Identity both = user(105, {105, 500, 600});
  EXPECT_TRUE(permits(both, f, kRead, map));
  EXPECT_TRUE(permits(both, f, kWrite, map));
  EXPECT_FALSE(permits(both, f, kRead | kWrite, map));
  // A member of a matching group that does not grant is denied although OTHER grants.
  EXPECT_FALSE(permits(user(106, {106, 600}), f, kRead, map));
  EXPECT_TRUE(permits(kStranger, f, kRead, map));
}

TEST(Access, EmptyMaskMakesTheKernelIgnoreTheAcl) {
  OwnerMap map = test_map();
  // Linux skips the ACL when the group-class bits are 000: the named user falls to OTHER.
  FileMeta f = file(100, 500, 0604,
                    {ent(Tag::UserObj, 6), ent(Tag::User, 4, 102), ent(Tag::GroupObj, 4), ent(Tag::Mask, 0),
                     ent(Tag::Other, 4)});
  EXPECT_TRUE(permits(kStranger, f, kRead, map));
  EXPECT_FALSE(permits(kGroupMember, f, kRead, map));
}

TEST(Access, RootReadsEverythingAndExecutesWhenAnyXBit) {
  OwnerMap map = test_map();
  EXPECT_TRUE(permits(kRoot, file(100, 500, 0000), kRead | kWrite, map));
  EXPECT_TRUE(permits(kRoot, dir(100, 500, 0000), kRead | kExec, map));
  EXPECT_FALSE(permits(kRoot, file(100, 500, 0644), kExec, map));
  EXPECT_TRUE(permits(kRoot, file(100, 500, 0601), kExec, map));
  // An admin who is not root gets no override here (roles live elsewhere).
  Identity admin = kStranger;
  admin.admin = true;
  EXPECT_FALSE(permits(admin, file(100, 500, 0600), kRead, map));
}

TEST(Access, OwnersMapByNameThenFallBackToRecordedId) {
  OwnerMap map = test_map();
  Identity alice = user(2001, {2001});
  FileMeta f = file(1001, 500, 0600);
  f.user = "alice";  // uid 1001 on the host, 2001 here
  EXPECT_TRUE(permits(alice, f, kRead, map));
  EXPECT_FALSE(permits(user(1001, {1001}), f, kRead, map));
  f.user = "gone";  // no such account here: the recorded uid counts
  EXPECT_TRUE(permits(user(1001, {1001}), f, kRead, map));
  EXPECT_FALSE(permits(alice, f, kRead, map));
  FileMeta g = file(1, 900, 0060);
  g.group = "staff";
  EXPECT_TRUE(permits(user(7, {7, 3001}), g, kRead, map));
  EXPECT_FALSE(permits(user(7, {7, 900}), g, kRead, map));
  // Named ACL entries map by name too.
  FileMeta a = file(1, 1, 0640,
                    {ent(Tag::UserObj, 6), ent(Tag::User, 4, 1001, "alice"), ent(Tag::GroupObj, 0),
                     ent(Tag::Mask, 4), ent(Tag::Other, 0)});
  EXPECT_TRUE(permits(alice, a, kRead, map));
  EXPECT_FALSE(permits(user(1001, {1001}), a, kRead, map));
}

TEST(Access, NameServiceFailureDeniesInsteadOfFallingBack) {
  OwnerMap map = test_map();
  EXPECT_EQ(map.local_uid(1001, "ldapdown"), kNoId);
  FileMeta f = file(1001, 500, 0600);
  f.user = "ldapdown";
  EXPECT_FALSE(permits(user(1001, {1001}), f, kRead, map));
}

TEST(Access, RealNameServiceMapsRoot) {
  OwnerMap map;
  EXPECT_EQ(map.local_uid(4242, "root"), 0u);
  EXPECT_EQ(map.local_gid(4242, "root"), 0u);
  EXPECT_EQ(map.local_uid(4242, "recall-no-such-user-x"), 4242u);
  EXPECT_EQ(map.local_uid(4242, ""), 4242u);
  EXPECT_EQ(&default_owner_map(), &default_owner_map());
}

TEST(Access, PathNeedsSearchOnEveryAncestor) {
  OwnerMap map = test_map();
  FileMeta root_dir = dir(0, 0, 0755);
  FileMeta home = dir(100, 500, 0710);  // group may pass, others may not
  FileMeta target = file(100, 500, 0644);
  const FileMeta* anc[] = {&root_dir, &home};
  EXPECT_TRUE(may_access_path(kOwner, anc, target, kRead, map));
  EXPECT_TRUE(may_access_path(kGroupMember, anc, target, kRead, map));
  EXPECT_FALSE(may_access_path(kStranger, anc, target, kRead, map));
  FileMeta not_dir = file(0, 0, 0777);
  const FileMeta* bad[] = {&root_dir, &not_dir};
  EXPECT_FALSE(may_access_path(kRoot, bad, target, kRead, map));
  EXPECT_TRUE(may_access_path(kRoot, std::span<const FileMeta* const>(), target, kRead, map));
}

TEST(Access, AclToText) {
  std::vector<AclEntry> acl = {ent(Tag::UserObj, 7),  ent(Tag::User, 5, 1001, "alice"),
                               ent(Tag::User, 4, 77), ent(Tag::GroupObj, 5),
                               ent(Tag::Mask, 5),     ent(Tag::Other, 0)};
  EXPECT_EQ(acl_to_text(acl), "user::rwx,user:alice:r-x,user:77:r--,group::r-x,mask::r-x,other::---");
  EXPECT_EQ(acl_to_text({}), "");
}
