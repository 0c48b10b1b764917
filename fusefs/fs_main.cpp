// recall-fs MOUNTPOINT [--socket PATH] [-o OPTIONS] [-f] [-d]: mounts the catalog read-only.
#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "catalogd/http/client_transport.h"
#include "common/fd_limit.h"
#include "fusefs/recall_fs.h"

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "recall-fs: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Mounts recalld's catalog as a read-only filesystem:\n"
      "  MOUNTPOINT/HOST/POINT/...     a host's files at one point (POINT: UTC time, ISO 8601)\n"
      "  MOUNTPOINT/HOST/latest        the newest point\n"
      "  MOUNTPOINT/@versions/HOST/P/  every version of path P you may read, named by when it appeared\n"
      "  MOUNTPOINT/@search/QUERY/     your matches for QUERY, as links into their points\n"
      "Mounted by root with -o allow_other it serves every user, each seeing what they could read\n"
      "when the backup was taken. Unmount with: fusermount3 -u MOUNTPOINT",
      "recall-fs"};
  std::string mountpoint, socket = recall::default_socket_path();
  std::vector<std::string> options;
  bool foreground = false, debug = false;
  app.add_option("MOUNTPOINT", mountpoint, "an empty directory")->required();
  app.add_option("--socket", socket, "recalld's socket ($RECALL_SOCKET or /var/lib/recall/recalld.sock)");
  app.add_option("-o", options, "mount options, e.g. allow_other (root: serve every user)")->delimiter(',');
  app.add_flag("-f,--foreground", foreground, "stay in the foreground (default: return once mounted)");
  app.add_flag("-d,--debug", debug, "log every request (implies -f)");
  CLI11_PARSE(app, argc, argv);

  if (access("/dev/fuse", F_OK) != 0)
    return fail("/dev/fuse is missing: load the FUSE module (modprobe fuse) or install fuse3");
  struct stat st {};
  if (stat(mountpoint.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return fail(mountpoint + ": not a directory (create an empty directory to mount on)");

  // Absolute: once mounted, the process runs from / (fuse_daemonize).
  std::error_code ec;
  socket = std::filesystem::absolute(socket, ec).string();
  recall::fs::FsOptions o;
  o.socket = socket;
  o.speak_for_callers = geteuid() == 0;
  // Ask recalld once now: a mount that cannot reach it would only answer EIO.
  recall::fs::DaemonLink probe(socket, false);
  auto who = probe.whoami();
  if (!who.ok()) return fail(who.error().message);
  o.data_socket = who->value("data_socket", "");
  if (o.data_socket.empty()) return fail("recalld at " + socket + " does not offer file data (too old?)");

  std::vector<std::string> args = {"recall-fs", "-o", "ro,default_permissions,fsname=recall,subtype=recall"};
  for (const auto& opt : options) args.insert(args.end(), {"-o", opt});
  // Last, so no option brings back setuid bits or device nodes from a backup.
  args.insert(args.end(), {"-o", "nosuid,nodev"});
  if (debug) args.push_back("-d");
  std::vector<char*> argv2;
  for (auto& a : args) argv2.push_back(a.data());
  fuse_args fargs = FUSE_ARGS_INIT(static_cast<int>(argv2.size()), argv2.data());

  // Every file being read holds a staged copy's descriptor; one mount serves every user.
  recall::raise_fd_limit();
  recall::fs::RecallFs fs(o);
  fuse_session* se = fuse_session_new(&fargs, &recall::fs::RecallFs::ops(), sizeof(fuse_lowlevel_ops), &fs);
  if (!se) return fail("could not start a FUSE session (see the message above)");
  int rc = 1;
  if (fuse_set_signal_handlers(se) == 0) {
    if (fuse_session_mount(se, mountpoint.c_str()) == 0) {
      fuse_daemonize(foreground || debug ? 1 : 0);
      fuse_loop_config* cfg = fuse_loop_cfg_create();
      fuse_loop_cfg_set_max_threads(cfg, 32);
      fuse_loop_cfg_set_idle_threads(cfg, 8);
      rc = fuse_session_loop_mt(se, cfg) == 0 ? 0 : 1;
      fuse_loop_cfg_destroy(cfg);
      fuse_session_unmount(se);
    } else {
      std::fprintf(stderr, "recall-fs: could not mount on %s\n", mountpoint.c_str());
    }
    fuse_remove_signal_handlers(se);
  }
  fuse_session_destroy(se);
  fuse_opt_free_args(&fargs);
  return rc;
}
