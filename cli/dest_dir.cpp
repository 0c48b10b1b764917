#include "cli/dest_dir.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <vector>

#include "common/paths.h"

namespace recall::cli {
namespace {

constexpr int kMaxSymlinks = 40;  // as the kernel's path walk (ELOOP)

std::deque<std::string> components(const std::string& path) {
  std::deque<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    std::size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string user_name(uid_t uid) {
  struct passwd pw {
  }, *found = nullptr;
  std::vector<char> buf(4096);
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found) return pw.pw_name;
  return "uid " + std::to_string(uid);
}

// Walks `path` from `start` (a directory), following only trusted symlinks, and leaves `at` on
// the directory that holds the last component, whose name it returns in `last` ("" when the
// path names `start` or "/" itself). `walked` names where it is, for messages.
class Walker {
 public:
  Walker(const std::string& dest, uid_t caller) : dest_(dest), caller_(caller) {}

  // Opens `name` in `at_` without following it; a trusted symlink is queued for expansion.
  // Returns an O_PATH descriptor of a directory to step into, or an invalid one when `name` is
  // a trusted symlink (expanded into `todo`).
  Result<UniqueFd> step(const std::string& name, std::deque<std::string>& todo) {
    UniqueFd fd(openat(at_.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return io_error("cannot open destination " + shown(name), errno);
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) return io_error("cannot check destination " + shown(name), errno);
    if (!S_ISLNK(st.st_mode)) return fd;
    RECALL_TRY(expand(fd, st, name, todo));
    return UniqueFd();
  }

  Status expand(const UniqueFd& link, const struct stat& st, const std::string& name,
                std::deque<std::string>& todo) {
    if (st.st_uid != 0 && st.st_uid != caller_)
      return make_error(ErrorKind::Denied,
                        "refusing destination " + escape_for_display(dest_) + ": " + shown(name) +
                            " is a symlink owned by " + user_name(st.st_uid) +
                            ", and a restore follows only its own or root's symlinks; give the real path");
    if (++followed_ > kMaxSymlinks)
      return io_error("cannot resolve destination " + escape_for_display(dest_), ELOOP);
    std::string target(4096, '\0');
    ssize_t n = readlinkat(link.get(), "", target.data(), target.size());
    if (n < 0) return io_error("cannot read symlink " + shown(name), errno);
    target.resize(static_cast<std::size_t>(n));
    auto parts = components(target);
    todo.insert(todo.begin(), parts.begin(), parts.end());
    if (!target.empty() && target.front() == '/') {
      at_.reset(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
      walked_ = "";
    }
    return {};
  }

  std::string shown(const std::string& name) const {
    return escape_for_display(walked_.empty() && name.empty() ? "/" : walked_ + "/" + name);
  }

  const std::string dest_;
  const uid_t caller_;
  UniqueFd at_;
  std::string walked_;
  int followed_ = 0;
};

}  // namespace

Result<DestDir> open_dest(const std::string& dest, const std::string& base, uid_t caller) {
  if (dest.empty()) return make_error(ErrorKind::Invalid, "the destination is empty");
  Walker w(dest, caller);
  const bool absolute = dest.front() == '/';
  w.at_.reset(open(absolute ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!w.at_) return io_error("cannot open the working directory", errno);
  w.walked_ = absolute ? "" : ".";
  std::deque<std::string> todo = components(dest);
  std::string last;  // the final component, once nothing is left to expand
  bool last_is_dir = todo.empty();
  while (!todo.empty()) {
    std::string name = todo.front();
    todo.pop_front();
    const bool final = todo.empty();
    if (final) {
      // The last component may not exist yet: then it is the new name.
      UniqueFd fd(openat(w.at_.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
      if (!fd && errno == ENOENT) {
        last = name;
        break;
      }
      if (!fd) return io_error("cannot open destination " + w.shown(name), errno);
      struct stat st {};
      if (fstat(fd.get(), &st) != 0) return io_error("cannot check destination " + w.shown(name), errno);
      if (S_ISLNK(st.st_mode)) {
        RECALL_TRY(w.expand(fd, st, name, todo));
        if (todo.empty()) last_is_dir = true;  // a link to "/" or "."
        continue;
      }
      if (!S_ISDIR(st.st_mode)) {  // an existing file: DEST names the item, conflicts as usual
        last = name;
        break;
      }
    }
    auto next = w.step(name, todo);
    if (!next.ok()) return next.error();
    if (!*next) continue;  // a trusted symlink, expanded into todo
    struct stat st {};
    if (fstat(next->get(), &st) != 0 || !S_ISDIR(st.st_mode))
      return make_error(ErrorKind::Invalid, "destination " + escape_for_display(dest) + ": " + w.shown(name) +
                                                " is not a directory");
    w.at_ = std::move(*next);
    w.walked_ = w.walked_ == "/" ? "/" + name : w.walked_ + "/" + name;
    if (final) last_is_dir = true;
  }
  DestDir out;
  out.dir.reset(openat(w.at_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!out.dir)
    return io_error("cannot open destination " + escape_for_display(w.walked_.empty() ? "/" : w.walked_),
                    errno);
  out.shown = w.walked_.empty() ? "/" : w.walked_;
  out.into = last_is_dir && last.empty();
  out.name = out.into ? base : last;
  return out;
}

}  // namespace recall::cli
