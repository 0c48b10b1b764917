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

// Walks DEST from "/" or the working directory. `at_` is the directory reached so far and
// `walked_` names it for messages ("" for "/").
class Walker {
 public:
  Walker(const std::string& dest, uid_t caller) : dest_(dest), caller_(caller) {}

  // Opens `name` in `at_` without following it: the descriptor (O_PATH) and what it is. A
  // failure to open leaves its errno in `open_errno_`.
  Result<std::pair<UniqueFd, struct stat>> open_here(const std::string& name) {
    UniqueFd fd(openat(at_.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    open_errno_ = fd ? 0 : errno;
    if (!fd) return io_error("cannot open destination " + shown(name), open_errno_);
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) return io_error("cannot check destination " + shown(name), errno);
    return std::pair<UniqueFd, struct stat>{std::move(fd), st};
  }

  // Puts the target of the symlink `link` (named `name`) in front of `todo`, if it may be
  // followed; an absolute one restarts the walk at "/".
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
  int open_errno_ = 0;
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
  std::string last;  // set when DEST names a new item (missing, or an existing non-directory)
  while (!todo.empty()) {
    std::string name = todo.front();
    todo.pop_front();
    const bool final = todo.empty();
    auto here = w.open_here(name);
    if (!here.ok()) {
      if (final && w.open_errno_ == ENOENT) {  // the last component may not exist yet: the new name
        last = name;
        break;
      }
      return here.error();
    }
    auto& [fd, st] = *here;
    if (S_ISLNK(st.st_mode)) {
      RECALL_TRY(w.expand(fd, st, name, todo));
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {
      if (final) {  // an existing file: DEST names the item, conflicts as usual
        last = name;
        break;
      }
      return make_error(ErrorKind::Invalid, "destination " + escape_for_display(dest) + ": " + w.shown(name) +
                                                " is not a directory");
    }
    w.at_ = std::move(fd);
    w.walked_ += "/" + name;
  }
  DestDir out;
  out.dir.reset(openat(w.at_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!out.dir)
    return io_error("cannot open destination " + escape_for_display(w.walked_.empty() ? "/" : w.walked_),
                    errno);
  out.shown = w.walked_.empty() ? "/" : w.walked_;
  out.into = last.empty();
  out.name = out.into ? base : last;
  return out;
}

}  // namespace recall::cli
