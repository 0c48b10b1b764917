// The access rule against the real kernel: a tree of real files with varied owners, modes and
// ACLs; for every test user x path x check, a child process that has become that user asks
// the kernel (open, opendir, access), and may_access_path must give the same answer from
// FileMetas built by lstat + read_acls. Needs root and the users of scripts/setup.sh.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/acl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>

#include "auth/access.h"
#include "auth/acl_io.h"

using namespace recall;

namespace {

constexpr const char* kSetupHint = "run scripts/setup.sh as root, then run this test as root";

struct TestUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // as a login would get them: getgrouplist(name, primary gid)
  Identity id;
};

// One path of the tree. owner/group are names; group "" keeps the group the kernel gave
// (setgid inheritance). inherit: created with `mode` inside a directory with a default ACL and
// left as the kernel made it (no chmod, no ACL of our own).
struct Node {
  const char* rel;
  bool dir;
  const char* owner;
  const char* group;
  mode_t mode;
  const char* acl = nullptr;          // setfacl text for the access ACL
  const char* default_acl = nullptr;  // setfacl text for the default ACL (directories)
  bool inherit = false;
};

// Parents before children. Comments name what each path exercises.
const Node kTree[] = {
    {"pub", true, "root", "root", 0755},
    {"pub/readme", false, "root", "root", 0644},
    {"pub/secret", false, "root", "root", 0600},
    {"pub/tool", false, "root", "root", 0755},
    {"pub/data", false, "rctest-alice", "rctest-alice", 0444},  // root may not exec: no x bit
    {"pub/zero", false, "rctest-bob", "rctest-bob", 0000},
    {"pub/owner-denied", false, "rctest-alice", "rctest-staff", 0077},  // owner class wins
    {"staff", true, "rctest-alice", "rctest-staff", 0750},
    {"staff/report", false, "rctest-alice", "rctest-staff", 0640},
    {"staff/bob-notes", false, "rctest-bob", "rctest-staff", 0604},  // group class --- beats other r
    {"staff/ro", false, "rctest-bob", "rctest-bob", 0444},
    {"staff/sub", true, "rctest-bob", "rctest-staff", 0311},  // search without listing
    {"staff/sub/deep", false, "rctest-bob", "rctest-staff", 0664},
    {"private", true, "rctest-carol", "rctest-carol", 0700},  // blocks traversal
    {"private/note", false, "rctest-carol", "rctest-carol", 0644},
    {"private/sub", true, "rctest-carol", "rctest-carol", 0755},
    {"private/sub/open", false, "rctest-carol", "rctest-carol", 0666},
    {"passage", true, "root", "root", 0711},
    {"passage/known", false, "root", "root", 0644},
    {"passage/audit", true, "root", "rctest-audit", 0710},
    {"passage/audit/log", false, "rctest-carol", "rctest-audit", 0640},
    {"passage/audit/run", false, "root", "rctest-audit", 0750},
    {"shared", true, "rctest-bob", "rctest-audit", 02775},  // setgid directory
    {"shared/inherited", false, "rctest-carol", "", 0660},
    {"shared/sub", true, "rctest-bob", "", 02770},
    {"shared/sub/f", false, "rctest-bob", "", 0640},
    {"dir-x-only", true, "rctest-carol", "rctest-audit", 0701},
    {"dir-x-only/f", false, "rctest-carol", "rctest-audit", 0604},
    {"noperm", true, "rctest-dave", "rctest-dave", 0000},
    {"noperm/f", false, "rctest-dave", "rctest-dave", 0644},
    {"acl-user", true, "rctest-alice", "rctest-alice", 0700,
     "u::rwx,u:rctest-carol:r-x,g::---,m::r-x,o::---"},
    {"acl-user/file", false, "rctest-alice", "rctest-alice", 0600,
     "u::rw-,u:rctest-carol:rw-,g::---,m::r--,o::---"},
    {"acl-mask", false, "rctest-alice", "rctest-staff", 0660,
     "u::rw-,u:rctest-dave:rwx,g::rw-,m::r--,o::---"},
    {"acl-group", false, "root", "root", 0600, "u::rw-,g::---,g:rctest-audit:r--,m::r--,o::---"},
    // carol matches only the named group, which grants nothing: denied although other has r.
    {"acl-group-deny", false, "rctest-dave", "rctest-staff", 0644,
     "u::rw-,g::r--,g:rctest-audit:---,m::r--,o::r--"},
    // bob (staff + audit) gets r from one entry and w from another, never rw from one.
    {"acl-rw-split", false, "root", "rctest-staff", 0664, "u::rw-,g::r--,g:rctest-audit:-w-,m::rw-,o::---"},
    {"acl-user-deny", false, "root", "root", 0644, "u::rw-,u:rctest-dave:---,g::r--,m::r--,o::r--"},
    // Mask ---: the kernel ignores the ACL and uses the mode bits.
    {"acl-mask-zero", false, "root", "root", 0604, "u::rw-,u:rctest-carol:r--,g::r--,m::---,o::r--"},
    {"acl-mask-zero-group", false, "root", "rctest-staff", 0604,
     "u::rw-,g::r--,g:rctest-audit:r--,m::---,o::r--"},
    {"acl-exec", false, "rctest-alice", "rctest-alice", 0640, "u::rw-,u:rctest-bob:r-x,g::r--,m::r-x,o::---"},
    {"acl-block", true, "root", "root", 0755, "u::rwx,u:rctest-bob:---,g::r-x,m::r-x,o::r-x"},
    {"acl-block/file", false, "root", "root", 0644},
    {"acl-block/group-x", true, "root", "root", 0750, "u::rwx,g::r-x,g:rctest-staff:--x,m::r-x,o::---"},
    {"acl-block/group-x/file", false, "rctest-carol", "rctest-carol", 0644},
    {"defacl", true, "rctest-alice", "rctest-staff", 0750, "u::rwx,u:rctest-carol:r-x,g::r-x,m::r-x,o::---",
     "u::rwx,u:rctest-carol:r-x,g::r-x,g:rctest-audit:rwx,m::rwx,o::---"},
    {"defacl/made-0640", false, "rctest-alice", "", 0640, nullptr, nullptr, true},
    {"defacl/made-0755", false, "rctest-bob", "", 0755, nullptr, nullptr, true},
    // Inherits mask --- (the create mode has no group bits): the kernel then ignores the ACL.
    {"defacl/made-0600", false, "rctest-alice", "", 0600, nullptr, nullptr, true},
    {"defacl/subdir", true, "rctest-alice", "", 0777, nullptr, nullptr, true},
    {"defacl/subdir/file", false, "rctest-dave", "", 0666, nullptr, nullptr, true},
    {"blocked", true, "root", "root", 0700},
    {"blocked/inner", true, "rctest-alice", "rctest-alice", 0777},
    {"blocked/inner/file", false, "rctest-alice", "rctest-alice", 0666,
     "u::rw-,u:rctest-bob:rw-,g::rw-,m::rw-,o::rw-"},
};

struct Check {
  const char* name;
  int want;  // what the evaluator is asked
};
// "read": open+read a file, opendir+readdir a directory. access() checks the real ids, which
// the child has set equal to the effective ones.
const Check kChecks[] = {{"read", kRead},
                         {"access(R_OK)", kRead},
                         {"access(W_OK)", kWrite},
                         {"access(X_OK)", kExec},
                         {"access(R_OK|W_OK)", kRead | kWrite}};
constexpr int kAccessMode[] = {0, R_OK, W_OK, X_OK, R_OK | W_OK};

// Removes the tree however the test ends (root may remove anything).
struct TempTree {
  std::string root;
  ~TempTree() {
    std::error_code ec;
    if (!root.empty()) std::filesystem::remove_all(root, ec);
  }
};

std::string lookup_test_user(const std::string& name, TestUser& u) {
  passwd* pw = getpwnam(name.c_str());
  if (pw == nullptr) return "user " + name + " is missing";
  u.name = name;
  u.uid = pw->pw_uid;
  u.gid = pw->pw_gid;
  int n = 64;
  u.groups.resize(n);
  if (getgrouplist(name.c_str(), u.gid, u.groups.data(), &n) < 0) return "getgrouplist failed for " + name;
  u.groups.resize(n);
  auto id = identity_for(u.uid, u.gid, "recall-admin");
  if (!id.ok()) return id.error().message;
  u.id = *id;
  return "";
}

std::string make_node(const std::string& root, const Node& n) {
  std::string path = root + "/" + n.rel;
  auto fail = [&](const char* what) { return path + ": " + what + ": " + std::strerror(errno); };
  mode_t create_mode = n.inherit ? n.mode : 0700;
  if (n.dir) {
    if (mkdir(path.c_str(), create_mode) != 0) return fail("mkdir");
  } else {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, create_mode);
    if (fd < 0) return fail("create");
    bool ok = write(fd, "recall\n", 7) == 7;
    close(fd);
    if (!ok) return fail("write");
  }
  passwd* pw = getpwnam(n.owner);
  gid_t gid = static_cast<gid_t>(-1);
  if (*n.group) {
    group* gr = getgrnam(n.group);
    if (gr == nullptr) return path + ": no group " + n.group;
    gid = gr->gr_gid;
  }
  if (pw == nullptr || lchown(path.c_str(), pw->pw_uid, gid) != 0) return fail("chown");
  if (n.inherit) return "";
  if (chmod(path.c_str(), n.mode) != 0) return fail("chmod");  // after chown, which may clear setgid
  auto set = [&](const char* text, acl_type_t type) -> std::string {
    if (text == nullptr) return "";
    acl_t acl = acl_from_text(text);
    if (acl == nullptr) return fail("acl_from_text");
    int rc = acl_set_file(path.c_str(), type, acl);
    int err = errno;
    acl_free(acl);
    errno = err;
    return rc == 0 ? "" : fail("acl_set_file (does /tmp support ACLs?)");
  };
  std::string err = set(n.acl, ACL_TYPE_ACCESS);
  return err.empty() ? set(n.default_acl, ACL_TYPE_DEFAULT) : err;
}

Result<FileMeta> meta_of(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return io_error("lstat " + path, errno);
  FileMeta m;
  m.type = S_ISDIR(st.st_mode)   ? FileType::Directory
           : S_ISLNK(st.st_mode) ? FileType::Symlink
                                 : FileType::Regular;
  m.mode = st.st_mode & 07777;
  m.uid = st.st_uid;
  m.gid = st.st_gid;
  auto user = lookup_user_name(st.st_uid);
  auto group = lookup_group_name(st.st_gid);
  if (!user.ok() || !group.ok()) return make_error(ErrorKind::Io, "name look-up for " + path);
  m.user = *user;
  m.group = *group;
  RECALL_TRY(read_acls(path.c_str(), is_dir(m), m));
  return m;
}

// In the child, as the user: '1' allowed, '0' EACCES, 'E' any other error (a broken test).
char kernel_check(const std::string& path, bool dir, int check) {
  auto denied = [] { return errno == EACCES ? '0' : 'E'; };
  if (check != 0) return access(path.c_str(), kAccessMode[check]) == 0 ? '1' : denied();
  if (dir) {
    DIR* d = opendir(path.c_str());
    if (d == nullptr) return denied();
    errno = 0;
    bool ok = readdir(d) != nullptr || errno == 0;
    closedir(d);
    return ok ? '1' : 'E';
  }
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW);
  if (fd < 0) return denied();
  char c;
  bool ok = read(fd, &c, 1) == 1;
  close(fd);
  return ok ? '1' : 'E';
}

// Forks a child that becomes `u` the way a login does (supplementary groups, then gid, then
// uid, so every capability is dropped) and runs every check; the answers come back by pipe.
std::string kernel_outcomes(const TestUser& u, const std::vector<std::pair<std::string, bool>>& paths) {
  std::string out(paths.size() * std::size(kChecks), '?');
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  pid_t pid = fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    close(fds[0]);
    if (setgroups(u.groups.size(), u.groups.data()) != 0 || setgid(u.gid) != 0 || setuid(u.uid) != 0)
      _exit(2);
    // Really dropped? A non-root user must not get root back.
    if (u.uid != 0 && (setuid(0) == 0 || geteuid() != u.uid || getegid() != u.gid)) _exit(3);
    for (std::size_t p = 0; p < paths.size(); ++p) {
      for (std::size_t c = 0; c < std::size(kChecks); ++c) {
        out[p * std::size(kChecks) + c] = kernel_check(paths[p].first, paths[p].second, static_cast<int>(c));
      }
    }
    std::size_t done = 0;
    while (done < out.size()) {
      ssize_t w = write(fds[1], out.data() + done, out.size() - done);
      if (w <= 0) _exit(4);
      done += static_cast<std::size_t>(w);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string got;
  char buf[4096];
  for (ssize_t r; (r = read(fds[0], buf, sizeof buf)) != 0;) {
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    got.append(buf, static_cast<std::size_t>(r));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return "child for " + u.name + " failed (status " + std::to_string(status) + ")";
  }
  if (got.size() != out.size()) return "short answer from child for " + u.name;
  return got;
}

}  // namespace

TEST(KernelMatrix, EvaluatorAgreesWithTheKernel) {
  ASSERT_EQ(geteuid(), 0u) << "the kernel matrix needs root to create owners and become the test users: "
                           << kSetupHint;
  std::vector<TestUser> users(5);
  const char* names[] = {"rctest-alice", "rctest-bob", "rctest-carol", "rctest-dave", "root"};
  for (std::size_t i = 0; i < users.size(); ++i) {
    std::string err = lookup_test_user(names[i], users[i]);
    ASSERT_EQ(err, "") << kSetupHint;
  }
  for (const char* g : {"rctest-staff", "rctest-audit", "recall-admin"}) {
    ASSERT_NE(getgrnam(g), nullptr) << "group " << g << " is missing: " << kSetupHint;
  }
  EXPECT_TRUE(users[3].id.admin);  // dave is in recall-admin
  EXPECT_FALSE(users[0].id.admin);
  EXPECT_TRUE(users[4].id.admin);

  TempTree tree;
  char tmpl[] = "/tmp/recall-auth-matrix-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr) << std::strerror(errno);
  tree.root = std::filesystem::canonical(tmpl).string();
  ASSERT_EQ(chmod(tree.root.c_str(), 0755), 0);  // mkdtemp makes 0700: let everyone in
  struct statvfs vfs;
  ASSERT_EQ(statvfs(tree.root.c_str(), &vfs), 0);
  ASSERT_FALSE(vfs.f_flag & ST_NOEXEC)
      << "/tmp is mounted noexec; access(X_OK) would not be about permissions";
  for (const Node& n : kTree) {
    std::string err = make_node(tree.root, n);
    ASSERT_EQ(err, "");
  }

  // Every path with its metadata, and the metadata of each ancestor from "/" down.
  std::vector<std::pair<std::string, bool>> paths = {{tree.root, true}};
  for (const Node& n : kTree) paths.emplace_back(tree.root + "/" + n.rel, n.dir);
  std::map<std::string, FileMeta> metas;
  auto meta_for = [&](const std::string& p) -> const FileMeta* {
    auto it = metas.find(p);
    if (it == metas.end()) {
      auto m = meta_of(p);
      if (!m.ok()) {
        ADD_FAILURE() << m.error().message;
        return nullptr;
      }
      it = metas.emplace(p, std::move(*m)).first;
    }
    return &it->second;
  };
  std::vector<std::vector<const FileMeta*>> ancestors(paths.size());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    std::string prefix;
    std::filesystem::path p(paths[i].first);
    for (auto part = p.begin(); std::next(part) != p.end(); ++part) {
      prefix = prefix.empty() ? part->string() : (prefix == "/" ? "/" : prefix + "/") + part->string();
      ancestors[i].push_back(meta_for(prefix));
    }
    ASSERT_NE(meta_for(paths[i].first), nullptr);
    for (auto* a : ancestors[i]) ASSERT_NE(a, nullptr);
  }

  std::size_t compared = 0, allowed = 0, mismatches = 0;
  std::map<std::string, char> kernel;  // "user path check" -> outcome, for the spot checks below
  for (const TestUser& u : users) {
    std::string outcomes = kernel_outcomes(u, paths);
    ASSERT_EQ(outcomes.size(), paths.size() * std::size(kChecks)) << outcomes;
    for (std::size_t p = 0; p < paths.size(); ++p) {
      const FileMeta& target = metas.at(paths[p].first);
      for (std::size_t c = 0; c < std::size(kChecks); ++c) {
        char k = outcomes[p * std::size(kChecks) + c];
        std::string rel = paths[p].first.substr(tree.root.size());
        kernel[u.name + " " + (rel.empty() ? "/" : rel) + " " + kChecks[c].name] = k;
        if (k == 'E') {
          ADD_FAILURE() << u.name << " " << paths[p].first << " " << kChecks[c].name << ": unexpected errno";
          continue;
        }
        bool ours = may_access_path(u.id, ancestors[p], target, kChecks[c].want, default_owner_map());
        ++compared;
        if (k == '1') ++allowed;
        if (ours != (k == '1')) {
          ++mismatches;
          ADD_FAILURE() << "MISMATCH user=" << u.name << " path=" << paths[p].first
                        << " check=" << kChecks[c].name << " kernel=" << (k == '1' ? "allowed" : "denied")
                        << " evaluator=" << (ours ? "allowed" : "denied") << " mode=" << std::oct
                        << target.mode << std::dec << " acl=" << acl_to_text(target.acl);
        }
      }
    }
  }
  std::cout << "[ kernel matrix ] compared " << compared << " decisions (" << users.size() << " users x "
            << paths.size() << " paths x " << std::size(kChecks) << " checks; " << allowed << " allowed, "
            << compared - allowed << " denied by the kernel), " << mismatches << " mismatches\n";
  RecordProperty("decisions", static_cast<int>(compared));
  EXPECT_GE(compared, 1000u);

  // The tree really exercises what it claims to (facts about the kernel, not about us).
  EXPECT_EQ(kernel["rctest-carol /acl-user/file read"], '1');
  EXPECT_EQ(kernel["rctest-carol /acl-user/file access(W_OK)"], '0');
  EXPECT_EQ(kernel["rctest-bob /acl-block/file read"], '0');
  EXPECT_EQ(kernel["rctest-carol /acl-group-deny read"], '0');
  EXPECT_EQ(kernel["rctest-bob /acl-rw-split access(W_OK)"], '1');
  EXPECT_EQ(kernel["rctest-bob /acl-rw-split access(R_OK|W_OK)"], '0');
  EXPECT_EQ(kernel["rctest-alice /staff/bob-notes read"], '0');
  EXPECT_EQ(kernel["rctest-carol /defacl/made-0640 read"], '1');
  EXPECT_EQ(kernel["root /pub/data access(X_OK)"], '0');
  EXPECT_EQ(kernel["root /blocked/inner/file read"], '1');
}
