#!/usr/bin/env python3
"""End-to-end tests of recall-fs (issue 3): a real recalld on a temporary home, real imports,
and a real FUSE mount of it, read through the kernel as root and as the test users that
scripts/setup.sh creates (setpriv).

Run as root:  cd BUILD && ctest -R e2e_fs --output-on-failure
or directly:  RECALL_BIN_DIR=BUILD python3 -m unittest -v test_fs   (in tests/e2e)

Each test class has its own temporary directory under /tmp (0755), its own recalld and its own
mount(s); the mounts are always unmounted at the end (fusermount3 -u, `umount -l` if that
fails, and a leftover recall-fs process of ours is killed by its pid). If /dev/fuse is missing
every test FAILS with a message saying so: this suite never skips.

Not tested here: interrupting a read that waits for tape (EINTR, withdrawn staging request) and
O_NONBLOCK reads of offline data (EAGAIN) need a tape volume, which only the tape bridge can
provide; every file here is on a disk volume, where reads never wait.
"""

import errno
import hashlib
import json
import os
import pwd
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import unittest

import test_spine as spine
from test_spine import (ALICE, BOB, CAROL, DAVE, TEST_USERS, Snapshot, b, clean_env, diff_listings, mkdir, raw,
                        sha256_file, show, slurp, user_cmd, write)

RECALL_FS = os.path.join(spine.BIN_DIR, "fusefs", "recall-fs")

HOST = "fshost"
T1, T2, T3, T4 = spine.T1, spine.T2, spine.T3, spine.T4
POINTS = (T1, T2, T3)
PUBLIC_V = spine.PUBLIC_V
ODD_NAMES = spine.ODD_NAMES
DIVISION_SLASH = "\u2215"
SPECIAL_NAMES = ("pipe", "chardev")  # entries diff -r cannot compare (it would open them)
# The test users cannot run a python3 below /root (pyenv and the like): the system's.
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else "python3"


def fs_precondition_problem():
    """None when the suite can run; otherwise what is missing (the suite then FAILS)."""
    p = spine.precondition_problem()
    if p:
        return p
    if not os.path.exists("/dev/fuse"):
        return ("/dev/fuse is missing: the recall-fs tests need FUSE (modprobe fuse, or give the container "
                "--device /dev/fuse); they FAIL rather than skip")
    if not stat.S_ISCHR(os.stat("/dev/fuse").st_mode):
        return "/dev/fuse is not a character device"
    for tool in ("fusermount3", "getfattr", "diff", "unshare"):
        if not shutil.which(tool):
            return f"{tool} not installed: run scripts/setup.sh as root"
    if not os.access(RECALL_FS, os.X_OK):
        return f"{RECALL_FS} is missing: build the recall-fs target first"
    return None


def mount_entry(path):
    """The /proc/self/mountinfo line (split) of the mount on `path`, or None."""
    with open("/proc/self/mountinfo", "rb") as f:
        for line in f:
            parts = line.split()
            mp = parts[4].decode().encode("latin-1").decode("unicode_escape") if b"\\" in parts[4] else parts[4].decode()
            if mp == path:
                return parts
    return None


def is_fuse_mount(path):
    m = mount_entry(path)
    if not m:
        return False
    sep = m.index(b"-")
    return m[sep + 1].startswith(b"fuse")


def recall_fs_pids(mountpoint):
    """Pids of recall-fs processes whose command line names exactly this mountpoint."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"recall-fs") for a in args[:4]) and os.fsencode(mountpoint) in args:
            pids.append(int(d))
    return pids


def err_name(e):
    return errno.errorcode.get(e.errno, str(e.errno))


class Mount:
    """recall-fs on MOUNTPOINT: as root with allow_other (daemonized: it must return 0 once
    mounted), or as `user` in the foreground (-f, a child we keep)."""

    def __init__(self, path, sock, logdir, user=None, allow_other=True, foreground=False):
        self.path, self.sock, self.logdir = path, sock, logdir
        self.user, self.allow_other, self.foreground = user, allow_other, foreground
        self.proc, self.pids = None, []
        self.log_path = os.path.join(logdir, "recall-fs-" + os.path.basename(path) + ".log")

    def command(self):
        cmd = [RECALL_FS, self.path, "--socket", self.sock]
        if self.allow_other:
            cmd += ["-o", "allow_other"]
        if self.foreground:
            cmd += ["-f"]
        return user_cmd(self.user, cmd)

    def start(self, timeout=20):
        log = open(self.log_path, "ab")
        try:
            if self.foreground:
                self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                             env=clean_env())
            else:
                r = subprocess.run(self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   timeout=timeout, env=clean_env())
                if r.returncode != 0:
                    raise AssertionError(f"recall-fs {self.path} exited {r.returncode}: {self.log()}")
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while not is_fuse_mount(self.path):
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"recall-fs -f exited {self.proc.returncode} before mounting: {self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.path} is not a FUSE mount {timeout} s after recall-fs started: "
                                     f"{self.log()}")
            time.sleep(0.05)
        if not self.foreground:
            # It returned once mounted: the mount is there at once, and a daemonized process serves it.
            self.pids = recall_fs_pids(self.path)
            if not self.pids:
                raise AssertionError(f"no recall-fs process serves {self.path} after it returned")

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-3000:]
        except OSError:
            return ""

    def alive_pids(self):
        if self.proc is not None:
            return [self.proc.pid] if self.proc.poll() is None else []
        return [p for p in self.pids if os.path.exists(f"/proc/{p}") and p in recall_fs_pids(self.path)]

    def unmount(self, timeout=10):
        """fusermount3 -u (as the user who mounted); the completed process."""
        return subprocess.run(user_cmd(self.user, ["fusermount3", "-u", self.path]), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, env=clean_env())

    def wait_exit(self, timeout=10):
        """True when the serving process is gone within `timeout` s."""
        deadline = time.monotonic() + timeout
        while self.alive_pids():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self):
        """Unmounts for good, whatever state it is in; a list of problems (empty when clean)."""
        problems = []
        if is_fuse_mount(self.path):
            try:
                r = self.unmount()
                if r.returncode != 0:
                    problems.append(f"fusermount3 -u {self.path}: {show(r)}")
            except subprocess.TimeoutExpired:
                problems.append(f"fusermount3 -u {self.path} hung")
            if is_fuse_mount(self.path):
                subprocess.run(["umount", "-l", self.path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               timeout=30)
        if not self.wait_exit(10):
            problems.append(f"recall-fs for {self.path} still running 10 s after the unmount; killed")
            for p in self.alive_pids():
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.proc is not None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                problems.append("recall-fs -f did not exit")
        return problems


# A program run as a test user: for each (relative path, type) on stdin, what that user gets
# below ROOT. Values are the results on success and the errno name on failure.
PROBE = r'''
import hashlib, json, os, stat, sys, errno
root = sys.argv[1]
def en(e): return errno.errorcode.get(e.errno, str(e.errno))
def attrs(st):
    a = [stat.filemode(st.st_mode), st.st_uid, st.st_gid, st.st_mtime_ns]
    if not stat.S_ISDIR(st.st_mode): a += [st.st_size, st.st_nlink]
    return a
out = {}
for rel, kind in json.load(sys.stdin):
    p = os.path.join(root, rel) if rel else root
    r = {}
    for op, fn in (("lstat", lambda: attrs(os.lstat(p))), ("stat", lambda: attrs(os.stat(p))),
                   ("access_r", lambda: os.access(p, os.R_OK)), ("access_x", lambda: os.access(p, os.X_OK)),
                   ("acl", lambda: os.getxattr(p, "system.posix_acl_access", follow_symlinks=False).hex()),
                   ("xattr_names", lambda: sorted(os.listxattr(p, follow_symlinks=False)))):
        try: r[op] = fn()
        except OSError as e: r[op] = en(e)
    if kind == "dir":
        try: r["list"] = sorted(os.listdir(p))
        except OSError as e: r["list"] = en(e)
    if kind in ("file", "symlink"):
        try:
            with open(p, "rb") as f: r["read"] = hashlib.sha256(f.read()).hexdigest()
        except OSError as e: r["read"] = en(e)
    if kind == "file":
        try: r["user_xattr"] = os.getxattr(p, "user.color").hex()
        except OSError as e: r["user_xattr"] = en(e)
    out[rel] = r
print(json.dumps(out))
'''


def build_perm_tree(root):
    """A small tree of varied owners, modes, groups and ACLs, the same for every class."""
    P = lambda rel: os.path.join(root, rel)
    facl = lambda *args: subprocess.run(["setfacl", *args], check=True, timeout=30)
    mkdir(root, 0o755)
    mkdir(P("home"), 0o755)
    mkdir(P("home/alice"), 0o700, ALICE, ALICE)
    write(P("home/alice/private.txt"), b"alice's private plans\n", 0o600, ALICE, ALICE)
    mkdir(P("home/alice/notes"), 0o755, ALICE, ALICE)
    write(P("home/alice/notes/n.txt"), b"a note inside alice's home\n", 0o644, ALICE, ALICE)
    mkdir(P("home/bob"), 0o750, BOB, BOB)
    write(P("home/bob/bob-notes.txt"), b"bob's notes\n", 0o644, BOB, BOB)
    mkdir(P("shared"), 0o750, "root", "rctest-staff")
    write(P("shared/team-plan.txt"), b"staff only plan\n", 0o640, "root", "rctest-staff")
    write(P("shared/rw-group.txt"), b"staff may write\n", 0o660, "root", "rctest-staff")
    mkdir(P("audit"), 0o755)
    write(P("audit/audit-note.txt"), b"for carol's eyes (ACL)\n", 0o600, "root", "root")
    facl("-m", f"u:{CAROL}:r", P("audit/audit-note.txt"))
    os.setxattr(P("audit/audit-note.txt"), "user.color", b"audit-secret")
    write(P("audit/audit-log.txt"), b"audit group log\n", 0o640, "root", "rctest-audit")
    write(P("audit/group-acl.txt"), b"audit group by ACL\n", 0o600, "root", "root")
    facl("-m", "g:rctest-audit:r", P("audit/group-acl.txt"))
    write(P("audit/masked.txt"), b"alice's ACL entry is masked\n", 0o600, "root", "root")
    facl("-n", "-m", f"u:{ALICE}:rw,m::---", P("audit/masked.txt"))
    mkdir(P("acl-dir"), 0o700)
    facl("-m", f"u:{BOB}:rx", P("acl-dir"))
    write(P("acl-dir/inside.txt"), b"inside a directory only bob's ACL entry opens\n", 0o644)
    mkdir(P("default-acl"), 0o750, "root", "rctest-audit")
    facl("-m", f"u:{ALICE}:rx,d:u:{ALICE}:rx,d:g::rx,d:o::-", P("default-acl"))
    write(P("default-acl/child.txt"), b"inherits the default ACL\n")  # created after: inherits
    mkdir(P("xonly"), 0o711)
    write(P("xonly/known.txt"), b"reachable by name, not listable\n", 0o644)
    mkdir(P("ronly"), 0o744)
    write(P("ronly/hidden.txt"), b"listable, not reachable\n", 0o644)
    write(P("group-deny.txt"), b"everyone but the staff\n", 0o604, "root", "rctest-staff")
    write(P("owner-deny.txt"), b"everyone but alice\n", 0o044, ALICE, "rctest-staff")
    write(P("dave-only.txt"), b"dave's\n", 0o640, DAVE, "recall-admin")
    write(P("world.txt"), b"for the world\n", 0o644)
    write(P("suid-tool"), b"#!/bin/sh\necho tool\n", 0o755, ALICE, ALICE)
    os.chmod(P("suid-tool"), 0o4755)
    os.link(P("home/alice/private.txt"), P("private-hardlink"))
    os.symlink("home/alice/private.txt", P("link-to-private"))
    os.symlink("world.txt", P("link-to-world"))
    mkdir(P("sticky"), 0o1777)
    write(P("sticky/bobs.txt"), b"bob's file in a sticky dir\n", 0o644, BOB, BOB)
    mkdir(P("setgid"), 0o2775, "root", "rctest-staff")
    write(P("setgid/f.txt"), b"in a setgid dir\n", 0o664, "root", "rctest-staff")
    os.setxattr(P("world.txt"), "user.color", b"blue")
    os.setxattr(P("home/alice/private.txt"), "user.color", b"alice-red")


def tree_entries(root):
    """[(relative path, type)] of everything below root (root itself as '')."""
    out = [("", "dir")]
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            out.append((os.path.relpath(p, root), spine.type_of(os.lstat(p))))
    return sorted(out)


class FsBase(spine.E2EBase):
    """E2EBase (own temp dir, recalld) plus the FUSE preconditions and mounts torn down at the end."""

    mounts = []

    @classmethod
    def setUpClass(cls):
        cls.mounts = []
        problem = fs_precondition_problem()
        if problem:
            cls.fixture_error = problem
            return
        super().setUpClass()
        if cls.fixture_error:
            return
        try:
            cls.mount_fs()
        except Exception:
            cls.fixture_error = f"mounting for {cls.__name__} failed:\n{traceback.format_exc()}"

    @classmethod
    def mount_fs(cls):
        cls.mnt = cls.new_mount("mnt").path

    @classmethod
    def new_mount(cls, name, user=None, allow_other=True, foreground=False, start=True):
        path = os.path.join(cls.base, name)
        os.makedirs(path, exist_ok=True)
        os.chmod(path, 0o755)
        if user:
            pw = pwd.getpwnam(user)
            os.chown(path, pw.pw_uid, pw.pw_gid)
        m = Mount(path, cls.sock, cls.base, user=user, allow_other=allow_other, foreground=foreground)
        cls.mounts.append(m)
        if start:
            m.start()
        return m

    @classmethod
    def tearDownClass(cls):
        problems = []
        for m in reversed(cls.mounts):
            try:
                problems += m.stop()
            except Exception:
                problems.append(traceback.format_exc())
        try:
            super().tearDownClass()
        finally:
            if problems:
                raise AssertionError(f"{cls.__name__}: unmounting was not clean: " + "; ".join(problems))

    # ---- helpers ---------------------------------------------------------------------------

    def run_as(self, user, cmd, timeout=60, input=None):
        return subprocess.run(user_cmd(user, cmd), input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout, cwd=self.base, env=clean_env())

    def probe(self, user, root, entries):
        r = self.run_as(user, [PYTHON, "-c", PROBE, root], input=json.dumps(entries).encode(), timeout=120)
        self.assertEqual(r.returncode, 0, f"probe as {user}: {show(r)}")
        return json.loads(r.stdout)

    def in_point(self, host, at, path, mnt=None):
        return os.path.join(mnt or self.mnt, host, at, path.lstrip("/"))

    def assert_errno(self, fn, codes, what):
        try:
            fn()
        except OSError as e:
            self.assertIn(e.errno, codes, f"{what}: got {err_name(e)} ({e}), want one of "
                                          f"{[errno.errorcode[c] for c in codes]}")
            return
        self.fail(f"{what}: succeeded, want {[errno.errorcode[c] for c in codes]}")

    @classmethod
    def import_as(cls, host, path, at, as_path):
        j = cls.rj("import", "dir", "--host", host, "--at", at, "--as", as_path, path, timeout=300)
        if j.get("state") != "complete":
            raise AssertionError(f"import of {path} as {host}:{as_path} ended {j.get('state')}: {j.get('error')}")
        return j


# =============================================================================================
# The main class: one host imported at three points, plus small hosts for visibility.
# =============================================================================================

class FsTest(FsBase):

    @classmethod
    def prepare(cls):
        t_start = time.monotonic()
        rng = random.Random(20250303)
        cls.src = os.path.join(cls.base, "src")
        S = lambda rel: os.path.join(cls.src, rel)
        cls.S = staticmethod(S)
        mkdir(cls.src)
        copy_start = time.monotonic()
        spine.copy_doc_subset(S("doc"), 300)
        build_perm_tree(S("perm"))
        # Content, hard links, symlinks, odd names, special files, times, xattrs and ACLs.
        mkdir(S("data"))
        cls.blob = rng.randbytes(4 << 20)
        write(S("data/blob.bin"), cls.blob)
        write(S("data/empty"), b"")
        mkdir(S("data/empty-dir"))
        mkdir(S("links"))
        write(S("links/a.bin"), rng.randbytes(70000))
        os.link(S("links/a.bin"), S("links/b.bin"))
        os.link(S("links/a.bin"), S("links/c.bin"))
        os.symlink("a.bin", S("links/current"))
        os.symlink("../nowhere/at/all", S("links/dangling"))
        os.symlink("/etc", S("links/absolute-dir"))
        mkdir(S("odd"))
        for i, name in enumerate(ODD_NAMES):
            write(os.path.join(b(cls.src), b"odd", name), f"odd file {i}\n".encode() + rng.randbytes(100 * i))
        os.mkfifo(S("odd/pipe"))
        os.chmod(S("odd/pipe"), 0o640)
        os.mknod(S("odd/chardev"), 0o620 | stat.S_IFCHR, os.makedev(1, 5))  # what /dev/zero is
        write(S("odd/old-mtime.txt"), b"from the past\n", mtime=946684800)
        write(S("odd/ns-mtime.txt"), b"nanoseconds\n")
        os.utime(S("odd/ns-mtime.txt"), ns=(1234567890123456789, 1234567890123456789))
        write(S("odd/before-1970.txt"), b"older than the epoch\n")
        os.utime(S("odd/before-1970.txt"), ns=(-315619200_250000000, -315619200_250000000))
        mkdir(S("xattr"))
        write(S("xattr/tagged.txt"), b"has user xattrs\n")
        os.setxattr(S("xattr/tagged.txt"), "user.comment", b"hello world")
        os.setxattr(S("xattr/tagged.txt"), "user.binary", bytes(range(256)))
        os.setxattr(S("xattr/tagged.txt"), "user.empty", b"")
        mkdir(S("xattr/dir-with-xattr"))
        os.setxattr(S("xattr/dir-with-xattr"), "user.dir", b"on a directory")
        mkdir(S("many"))
        for i in range(2500):
            write(S(f"many/entry-{i:05d}-with-a-rather-long-name-to-fill-readdir-pages"), b"")
        # A path deep enough that HOST@POINT + its path with U+2215 for '/' is over 255 bytes.
        cls.deep_rel = "deep/" + "/".join(f"level-{i}-of-a-deep-project-tree" for i in range(8)) + "/needle-deep.txt"
        mkdir(os.path.dirname(S(cls.deep_rel)))
        write(S(cls.deep_rel), b"found deep down\n")
        write(S("public.txt"), PUBLIC_V[0], 0o644)
        mkdir(S("vers"))
        write(S("vers/perm-change.txt"), b"readable by all at T1\n", 0o644)
        cls.setup_seconds = time.monotonic() - copy_start

        cls.snap, cls.copies = {}, {}

        def point(at):
            cls.import_dir(HOST, cls.src, at)
            cls.copies[at] = os.path.join(cls.base, "copies", at)
            os.makedirs(os.path.dirname(cls.copies[at]), exist_ok=True)
            subprocess.run(["cp", "-a", cls.src, cls.copies[at]], check=True, timeout=120)
            cls.snap[at] = Snapshot(cls.src)

        point(T1)
        # ---- T1 -> T2: edits, deletions, additions, a directory rename and deletion, a chmod.
        docs = sorted(p for p in cls.snap[T1].files() if p.startswith(b(S("doc/")))
                      and cls.snap[T1].attrs[p]["size"] < 100000)
        pkgdirs = sorted(d for d in os.listdir(S("doc")) if os.path.isdir(S("doc/" + d))
                         and not os.path.islink(S("doc/" + d)))
        small = [d for d in pkgdirs if 2 <= sum(len(f) for _, _, f in os.walk(S("doc/" + d))) <= 6]
        if len(small) < 2:
            raise AssertionError("need two small /usr/share/doc packages to rename and delete")
        cls.renamed_from, cls.renamed_to = "doc/" + small[0], "doc/" + small[0] + "-renamed"
        cls.deleted_dir = "doc/" + small[1]
        busy = lambda p: (p.startswith(b(S(cls.renamed_from)) + b"/")
                          or p.startswith(b(S(cls.deleted_dir)) + b"/"))
        docs = [p for p in docs if not busy(p)]
        cls.edited = docs[3:8]
        cls.deleted = [docs[20], docs[21]]
        cls.unchanged = docs[30]
        cls.chmodded = docs[25]
        for p in cls.edited:
            with open(p, "ab") as f:
                f.write(b"\nedited before T2\n")
        for p in cls.deleted:
            os.unlink(p)
        os.chmod(cls.chmodded, 0o600)
        write(S("public.txt"), PUBLIC_V[1])
        with open(S("data/blob.bin"), "r+b") as f:
            f.seek(len(cls.blob) // 2)
            f.write(bytes([cls.blob[len(cls.blob) // 2] ^ 0xFF]))
        os.rename(S(cls.renamed_from), S(cls.renamed_to))
        shutil.rmtree(S(cls.deleted_dir))
        mkdir(S("new-at-T2"))
        for i in range(3):
            write(S(f"new-at-T2/file{i}.dat"), rng.randbytes(20000 + 5000 * i))
        write(S("vers/perm-change.txt"), b"root only from T2 on\n", 0o600)
        point(T2)
        # ---- T2 -> T3: another public.txt, a link dropped, a symlink retargeted, a rename.
        write(S("public.txt"), PUBLIC_V[2])
        os.unlink(S("links/c.bin"))
        os.unlink(S("links/current"))
        os.symlink("b.bin", S("links/current"))
        mkdir(S("new-at-T3/deeper"), 0o750)
        write(S("new-at-T3/deeper/leaf.txt"), b"leaf\n")
        os.rename(S("new-at-T2/file1.dat"), S("new-at-T2/file1-renamed.dat"))
        point(T3)

        # Hosts for visibility: "bobhost"'s recorded root is a 0700 directory of bob's, so only
        # bob (and root) may ever search it; "changing" was open at T1 and bob's alone at T2.
        bobparent = os.path.join(cls.base, "bobparent")
        mkdir(bobparent, 0o700, BOB, BOB)
        mkdir(os.path.join(bobparent, "data"), 0o755, BOB, BOB)
        write(os.path.join(bobparent, "data", "hello.txt"), b"hello from bob's host\n", 0o644, BOB, BOB)
        cls.import_as("bobhost", os.path.join(bobparent, "data"), T1, "/data")
        chg = os.path.join(cls.base, "chg")
        mkdir(chg, 0o755)
        mkdir(os.path.join(chg, "data"), 0o755)
        write(os.path.join(chg, "data", "f.txt"), b"changing host\n", 0o644)
        cls.import_as("changing", os.path.join(chg, "data"), T1, "/data")
        mkdir(chg, 0o700, BOB, BOB)
        cls.import_as("changing", os.path.join(chg, "data"), T2, "/data")
        # A host for the parallel readers: files nothing else reads, so they are not cached.
        cls.bulk = os.path.join(cls.base, "bulk")
        mkdir(cls.bulk)
        cls.bulk_sha = {}
        for i in range(16):
            p = os.path.join(cls.bulk, f"part-{i:02d}.bin")
            write(p, rng.randbytes((1 << 20) + 4099 * i))
        for name in ("shared-a.bin", "shared-b.bin"):
            write(os.path.join(cls.bulk, name), rng.randbytes(12 << 20))
        for n in os.listdir(cls.bulk):
            cls.bulk_sha[n] = sha256_file(os.path.join(cls.bulk, n))
        cls.import_dir("bulk", cls.bulk, T1)
        # A host that gains a point while mounted.
        cls.grow = os.path.join(cls.base, "grow")
        mkdir(cls.grow)
        write(os.path.join(cls.grow, "g.txt"), b"first\n")
        cls.import_dir("growing", cls.grow, T1)
        cls.fixture_seconds = time.monotonic() - t_start

    # ---- helpers ---------------------------------------------------------------------------

    def P(self, at, rel="", mnt=None):
        """The mount's path of SRC/rel at a point of the main host."""
        return self.in_point(HOST, at, os.path.join(self.src, rel) if rel else self.src, mnt)

    # ---- 0: the command line ---------------------------------------------------------------

    def assert_fs_error(self, r, what, needle=None):
        self.assertEqual(r.returncode, 1, f"{what}: recall-fs must exit 1: {show(r)}")
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, f"{what}: want exactly one line on stderr: {show(r)}")
        self.assertTrue(lines[0].startswith(b"recall-fs: "), f"{what}: the line starts with 'recall-fs: ': {show(r)}")
        if needle:
            self.assertIn(needle, lines[0], f"{what}: the message should say {needle!r}: {show(r)}")

    def test_0_command_line_errors(self):
        d = tempfile.mkdtemp(prefix="mp-", dir=self.base)
        a_file = os.path.join(self.base, "not-a-dir")
        write(a_file, b"x\n")
        cases = [
            ([d, "--socket", os.path.join(self.base, "no-such.sock")], "recalld not running", None),
            ([a_file, "--socket", self.sock], "mountpoint is a file", b"not a directory"),
            ([os.path.join(self.base, "no-such-dir"), "--socket", self.sock], "mountpoint missing", None),
        ]
        for args, what, needle in cases:
            with self.subTest(what):
                r = subprocess.run([RECALL_FS, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=30, env=clean_env())
                self.assert_fs_error(r, what, needle)
                self.assertFalse(is_fuse_mount(args[0]), f"{what}: nothing may be left mounted")
        # /dev/fuse missing: in a private mount namespace whose /dev is an empty tmpfs.
        with self.subTest("/dev/fuse missing"):
            r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                                'mount -t tmpfs none /dev && exec "$@"', "sh", RECALL_FS, d, "--socket", self.sock],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                               env=clean_env())
            self.assert_fs_error(r, "/dev/fuse missing", b"/dev/fuse")
        self.assertEqual(os.listdir(d), [])
        self.assertFalse(is_fuse_mount(d))

    def test_0b_relative_socket_and_mountpoint(self):
        # `recall-fs mnt --socket home/recalld.sock` from the directory holding both: the mount
        # must work (or refuse at once), not return 0 and then answer EIO to everything.
        name = os.path.basename(tempfile.mkdtemp(prefix="mnt-relative-", dir=self.base))
        os.chmod(os.path.join(self.base, name), 0o755)
        m = Mount(os.path.join(self.base, name), self.sock, self.base)
        self.mounts.append(m)
        r = subprocess.run([RECALL_FS, name, "--socket", os.path.relpath(self.sock, self.base), "-o", "allow_other"],
                           cwd=self.base, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30, env=clean_env())
        if r.returncode != 0:
            self.assert_fs_error(r, "relative --socket refused")
            return
        deadline = time.monotonic() + 10
        while not is_fuse_mount(m.path) and time.monotonic() < deadline:
            time.sleep(0.05)
        m.pids = recall_fs_pids(name)
        try:
            try:
                top = os.listdir(m.path)
                pub = slurp(os.path.join(m.path, HOST, T3) + self.src + "/public.txt")
            except OSError as e:
                self.fail(f"`recall-fs {name} --socket {os.path.relpath(self.sock, self.base)}` (relative paths, "
                          f"run in {self.base}) exited 0, but the mount answers {err_name(e)}: {e}")
            self.assertIn(HOST, top, "listing a mount made with a relative --socket")
            self.assertEqual(pub, PUBLIC_V[2])
        finally:
            self.assertEqual(m.stop(), [], "unmounting the relative mount")

    # ---- 1: the layout ---------------------------------------------------------------------

    def test_1a_layout(self):
        top = sorted(os.listdir(self.mnt))
        self.assertEqual(top, sorted(["@search", "@versions", HOST, "bobhost", "changing", "bulk", "growing"]),
                         "root sees @search, @versions and every host")
        self.assertEqual(sorted(os.listdir(os.path.join(self.mnt, HOST))), sorted(list(POINTS) + ["latest"]))
        latest = os.path.join(self.mnt, HOST, "latest")
        self.assertTrue(stat.S_ISLNK(os.lstat(latest).st_mode), "latest is a symlink")
        self.assertEqual(os.readlink(latest), T3, "latest points to the newest point's name")
        self.assertEqual(os.stat(latest).st_ino, os.stat(os.path.join(self.mnt, HOST, T3)).st_ino)
        for at in POINTS:
            st = os.stat(os.path.join(self.mnt, HOST, at))
            self.assertTrue(stat.S_ISDIR(st.st_mode), f"point {at} is a directory")
        # The recorded absolute path: MOUNT/HOST/POINT/tmp/.../src, ancestors with real modes.
        for anc in ("/tmp", self.base, self.src):
            got, want = os.stat(self.in_point(HOST, T1, anc)), os.stat(anc)
            self.assertEqual((stat.filemode(got.st_mode), got.st_uid, got.st_gid),
                             (stat.filemode(want.st_mode), want.st_uid, want.st_gid), f"ancestor {anc} in the point")
        self.assertEqual(sorted(os.listdir(self.in_point(HOST, T1, "/"))), ["tmp"],
                         "the point's root holds only the path to the imported directory")
        self.assertEqual(sorted(os.listdir(self.P(T1))), sorted(os.listdir(self.copies[T1])))
        self.assertEqual(sorted(os.listdir(os.path.join(self.mnt, "bobhost", T1))), ["data"],
                         "--as /data is recorded as /data")
        self.assertEqual(len(os.listdir(self.P(T3, "many"))), 2500, "a directory of 2500 entries lists them all")
        vfs = os.statvfs(self.mnt)
        self.assertGreater(vfs.f_namemax, 0, "statfs answers")
        self.assertEqual(sorted(os.listdir(os.path.join(self.mnt, "@versions"))),
                         sorted([HOST, "bobhost", "changing", "bulk", "growing"]))

    def test_1b_every_point_equals_its_tree(self):
        for at in POINTS:
            with self.subTest(at):
                r = subprocess.run(["diff", "-r", "--no-dereference"] + [a for n in SPECIAL_NAMES for a in ("-x", n)]
                                   + [self.P(at), self.copies[at]], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   timeout=300)
                self.assertEqual(r.returncode, 0, f"diff -r of point {at} against the tree it was made from: "
                                                  f"{show(r)}")
                want = Snapshot(self.copies[at]).rebased(self.P(at))
                got = Snapshot(self.P(at))
                d = diff_listings(want.attrs, got.attrs)
                self.assertFalse(d, f"point {at}: type/mode/owner/size/mtime_ns/nlink/target differ:\n{d}")
                bad = [p for p in want.sha if got.sha.get(p) != want.sha[p]]
                self.assertFalse(bad, f"point {at}: {len(bad)} files differ in content, e.g. {bad[:5]}")
                self.assertEqual(got.link_groups(), want.link_groups(), f"point {at}: hard links (same st_ino)")
        # The same names through `latest`.
        self.assertEqual(sorted(os.listdir(self.in_point(HOST, "latest", self.src))), sorted(os.listdir(self.src)))

    def test_1c_cp_a_of_a_subtree(self):
        for at, rel in ((T1, "links"), (T3, "links"), (T1, "perm"), (T2, "xattr"), (T1, "odd")):
            with self.subTest(f"{rel} at {at}"):
                dest = tempfile.mkdtemp(prefix="cp-", dir=self.base)
                r = subprocess.run(["cp", "-a", self.P(at, rel), dest], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   timeout=120)
                self.assertEqual(r.returncode, 0, f"cp -a of {rel} at {at} out of the mount: {show(r)}")
                out = os.path.join(dest, rel)
                want = Snapshot(os.path.join(self.copies[at], rel)).rebased(out)
                got = Snapshot(out)
                d = diff_listings(want.attrs, got.attrs)
                self.assertFalse(d, f"cp -a of {rel} at {at}: copy differs from the original:\n{d}")
                self.assertEqual({p: h for p, h in got.sha.items()}, want.sha, f"cp -a of {rel} at {at}: content")
                self.assertEqual(got.link_groups(), want.link_groups(), f"cp -a of {rel} at {at}: hard links")
                for p in want.attrs:
                    orig = os.path.join(self.copies[at], rel) + os.fsdecode(p[len(b(out)):])
                    self.assertEqual(self.xattrs_of(p), self.xattrs_of(orig),
                                     f"cp -a of {rel} at {at}: xattrs/ACLs of {p!r}")

    @staticmethod
    def xattrs_of(p):
        try:
            return {n: os.getxattr(p, n, follow_symlinks=False) for n in os.listxattr(p, follow_symlinks=False)}
        except OSError as e:
            return err_name(e)

    def test_1d_stat_and_xattr_fidelity(self):
        at = T2
        copy = self.copies[at]
        problems = []
        for dirpath, dirnames, filenames in os.walk(b(copy)):
            for n in [b""] + dirnames + filenames:
                orig = os.path.join(dirpath, n) if n else dirpath
                mine = b(self.P(at)) + orig[len(b(copy)):]
                o, m = os.lstat(orig), os.lstat(mine)
                fields = ["st_mode", "st_uid", "st_gid", "st_mtime_ns", "st_nlink", "st_rdev"]
                if not stat.S_ISDIR(o.st_mode):
                    fields.append("st_size")
                for f in fields:
                    if getattr(o, f) != getattr(m, f):
                        problems.append(f"{mine!r}: {f} is {getattr(m, f)}, recorded {getattr(o, f)}")
                if self.xattrs_of(orig) != self.xattrs_of(mine):
                    problems.append(f"{mine!r}: xattrs {self.xattrs_of(mine)} vs recorded {self.xattrs_of(orig)}")
        self.assertFalse(problems, f"{len(problems)} stat/xattr differences:\n" + "\n".join(problems[:15]))
        # getfattr -d and getfacl show the same as on the original.
        for rel, cmd in (("xattr/tagged.txt", ["getfattr", "-d", "-m", "-", "-e", "hex", "--absolute-names"]),
                         ("perm/home/alice/private.txt", ["getfattr", "-d", "--absolute-names"]),
                         ("perm/audit/masked.txt", ["getfacl", "--omit-header", "--absolute-names"]),
                         ("perm/default-acl", ["getfacl", "--omit-header", "--absolute-names"]),
                         ("perm/default-acl/child.txt", ["getfacl", "--omit-header", "--absolute-names"]),
                         ("perm/acl-dir", ["getfacl", "--omit-header", "--absolute-names"])):
            o = subprocess.run(cmd + [os.path.join(copy, rel)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            m = subprocess.run(cmd + [self.P(at, rel)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            strip = lambda out: [l for l in out.splitlines() if not l.startswith(b"# file:")]
            self.assertEqual((m.returncode, strip(m.stdout)), (o.returncode, strip(o.stdout)),
                             f"`{' '.join(cmd)}` of {rel}: mount {show(m)} vs original {show(o)}")
        # Special files are entries, never opened as devices.
        dev = self.P(at, "odd/chardev")
        self.assertTrue(stat.S_ISCHR(os.lstat(dev).st_mode))
        self.assertEqual(os.lstat(dev).st_rdev, os.makedev(1, 5))
        self.assert_errno(lambda: open(dev, "rb").read(16), (errno.EACCES, errno.EPERM, errno.ENXIO),
                          "opening a recorded device node through the mount")
        self.assertTrue(stat.S_ISFIFO(os.lstat(self.P(at, "odd/pipe")).st_mode))
        # Inode numbers are stable, hard links share one with the right count.
        a, bb, c = (os.lstat(self.P(T1, f"links/{n}.bin")) for n in "abc")
        self.assertEqual((a.st_ino, a.st_nlink), (bb.st_ino, 3))
        self.assertEqual(a.st_ino, c.st_ino)
        self.assertEqual(os.lstat(self.P(T1, "links/a.bin")).st_ino, a.st_ino, "same st_ino on a second stat")
        a3, b3 = os.lstat(self.P(T3, "links/a.bin")), os.lstat(self.P(T3, "links/b.bin"))
        self.assertEqual((a3.st_ino, a3.st_nlink), (b3.st_ino, 2), "at T3 the group has two names")
        hl, pv = os.lstat(self.P(T1, "perm/private-hardlink")), os.lstat(self.P(T1, "perm/home/alice/private.txt"))
        self.assertEqual((hl.st_ino, hl.st_nlink), (pv.st_ino, 2), "hard link across directories")

    def test_1e_hidden_recall_xattrs(self):
        pub = self.P(T3, "public.txt")
        self.assertEqual(os.listxattr(pub), [], "user.recall.* are not listed (cp -a, rsync -X copy the file as it was)")
        self.assertEqual(os.getxattr(pub, "user.recall.versions"), b"3", "public.txt has three versions")
        self.assertEqual(os.getxattr(self.P(T1, "public.txt"), "user.recall.versions"), b"3", "at any point")
        self.assertEqual(os.getxattr(b(self.P(T3)) + self.unchanged[len(b(self.src)):], "user.recall.versions"), b"1")
        self.assertEqual(os.getxattr(pub, "user.recall.sha256").decode(), hashlib.sha256(PUBLIC_V[2]).hexdigest())
        self.assertEqual(os.getxattr(self.P(T1, "public.txt"), "user.recall.sha256").decode(),
                         hashlib.sha256(PUBLIC_V[0]).hexdigest())
        self.assertEqual(os.getxattr(pub, "user.recall.path").decode(), os.path.join(self.src, "public.txt"))
        loc = os.getxattr(self.P(T1, "data/blob.bin"), "user.recall.location").decode()
        self.assertRegex(loc, r"^disk \S+ \(online\)", "a file on a disk volume")
        r = subprocess.run(["getfattr", "--only-values", "-n", "user.recall.location", pub], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        self.assertEqual(r.returncode, 0, show(r))
        self.assertTrue(r.stdout.startswith(b"disk "), show(r))
        tagged = self.P(T1, "xattr/tagged.txt")
        self.assertEqual(sorted(os.listxattr(tagged)), ["user.binary", "user.comment", "user.empty"])
        self.assert_errno(lambda: os.getxattr(pub, "user.recall.no-such"), (errno.ENODATA,), "an unknown name")
        # Who may read the file may read where it is; others get nothing.
        note = self.P(T3, "perm/audit/audit-note.txt")  # 0600 root + ACL carol:r, in a 0755 dir
        r = self.run_as(CAROL, ["getfattr", "--only-values", "-n", "user.recall.sha256", note])
        self.assertEqual((r.returncode, r.stdout.decode()), (0, sha256_file(self.S("perm/audit/audit-note.txt"))),
                         show(r))
        for name in ("user.recall.sha256", "user.recall.location"):
            r = self.run_as(BOB, ["getfattr", "--only-values", "-n", name, note])
            self.assertNotEqual(r.returncode, 0, f"bob may not read {name} of a file he may not read: {show(r)}")
            self.assertEqual(r.stdout, b"", show(r))

    def test_1g_random_access_reads(self):
        rng = random.Random(99)
        t1, t2 = self.P(T1, "data/blob.bin"), self.P(T2, "data/blob.bin")
        blob2 = bytearray(self.blob)
        blob2[len(blob2) // 2] ^= 0xFF
        for path, want in ((t2, bytes(blob2)), (t1, self.blob)):
            fd = os.open(path, os.O_RDONLY)
            try:
                for _ in range(200):
                    off = rng.randrange(0, len(want) + 10)
                    n = rng.choice((1, 7, 4096, 65536, 200000, 1 << 20))
                    self.assertEqual(os.pread(fd, n, off), want[off:off + n], f"pread({n}, {off}) of {path}")
                self.assertEqual(os.pread(fd, 10, len(want) // 2 - 5), want[len(want) // 2 - 5:len(want) // 2 + 5])
            finally:
                os.close(fd)
        import mmap
        with open(t1, "rb") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as m:
            self.assertEqual(hashlib.sha256(m).hexdigest(), hashlib.sha256(self.blob).hexdigest(), "mmap of a file")

    def test_1f_read_only(self):
        f = self.P(T3, "public.txt")
        d = self.P(T3, "data")
        cases = [
            ("open for writing", lambda: open(f, "r+b")),
            ("create", lambda: open(os.path.join(d, "new.txt"), "xb")),
            ("truncate", lambda: os.truncate(f, 0)),
            ("mkdir", lambda: os.mkdir(os.path.join(d, "newdir"))),
            ("mkdir at the top", lambda: os.mkdir(os.path.join(self.mnt, "newhost"))),
            ("mkdir in a host", lambda: os.mkdir(os.path.join(self.mnt, HOST, "2030-01-01T00:00:00Z"))),
            ("mkdir in a search", lambda: os.mkdir(os.path.join(self.mnt, "@search", "q", "x"))),
            ("unlink", lambda: os.unlink(f)),
            ("rmdir", lambda: os.rmdir(self.P(T3, "data/empty-dir"))),
            ("rename", lambda: os.rename(f, f + ".x")),
            ("chmod", lambda: os.chmod(f, 0o600)),
            ("chown", lambda: os.chown(f, 0, 0)),
            ("utime", lambda: os.utime(f, (0, 0))),
            ("setxattr", lambda: os.setxattr(f, "user.x", b"1")),
            ("removexattr", lambda: os.removexattr(self.P(T3, "xattr/tagged.txt"), "user.comment")),
            ("symlink", lambda: os.symlink("x", os.path.join(d, "newlink"))),
            ("link", lambda: os.link(f, os.path.join(d, "newhard"))),
            ("mkfifo", lambda: os.mkfifo(os.path.join(d, "newfifo"))),
        ]
        for what, fn in cases:
            with self.subTest(what):
                self.assert_errno(fn, (errno.EROFS,), f"{what} on the mount")
        self.assertEqual(slurp(f), PUBLIC_V[2])

    # ---- 2: @versions ----------------------------------------------------------------------

    def V(self, host, path):
        return os.path.join(self.mnt, "@versions", host, path.lstrip("/"))

    def test_2a_versions_of_a_file(self):
        pub = os.path.join(self.src, "public.txt")
        vdir = self.V(HOST, pub)
        self.assertEqual(sorted(os.listdir(vdir)), list(POINTS), "one entry per version, named when it appeared")
        for i, at in enumerate(POINTS):
            p = os.path.join(vdir, at)
            self.assertEqual(slurp(p), PUBLIC_V[i], f"content of the version of {at}")
            st, want = os.lstat(p), self.snap[at].attrs[b(pub)]
            self.assertEqual((st.st_size, st.st_mode & 0o7777, st.st_mtime_ns, stat.S_ISREG(st.st_mode)),
                             (want["size"], want["mode"], want["mtime_ns"], True), f"attributes of version {at}")
        r = subprocess.run(["diff", os.path.join(vdir, T1), os.path.join(vdir, T2)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(r.returncode, 1, f"diff of two versions finds a difference: {show(r)}")
        self.assertIn(b"second version", r.stdout)
        # A file edited once, one never changed, one deleted at T2, one only chmodded.
        rel = lambda p: os.fsdecode(p)
        edited = rel(self.edited[0])
        self.assertEqual(sorted(os.listdir(self.V(HOST, edited))), [T1, T2], f"versions of {edited}")
        self.assertEqual(slurp(os.path.join(self.V(HOST, edited), T1)), slurp(self.copies[T1] + edited[len(self.src):]))
        self.assertEqual(slurp(os.path.join(self.V(HOST, edited), T2)), slurp(edited))
        self.assertEqual(os.listdir(self.V(HOST, rel(self.unchanged))), [T1], "an unchanged file has one version")
        gone = rel(self.deleted[0])
        self.assertEqual(os.listdir(self.V(HOST, gone)), [T1], "a file deleted at T2 keeps its version")
        self.assertEqual(slurp(os.path.join(self.V(HOST, gone), T1)), slurp(self.copies[T1] + gone[len(self.src):]))
        # A directory lists every name it ever had: renamed and deleted ones too.
        names = set()
        for at in POINTS:
            names |= set(os.listdir(os.path.join(self.copies[at], "doc")))
        self.assertEqual(set(os.listdir(self.V(HOST, os.path.join(self.src, "doc")))), names,
                         "@versions of doc/ lists every name seen in any point")
        for d in (self.renamed_from, self.renamed_to, self.deleted_dir):
            self.assertTrue(os.path.isdir(self.V(HOST, os.path.join(self.src, d))), f"@versions of {d}")
        # Symlink versions: the retargeted link.
        lnk = self.V(HOST, os.path.join(self.src, "links/current"))
        self.assertEqual(sorted(os.listdir(lnk)), [T1, T3])
        self.assertEqual([os.readlink(os.path.join(lnk, v)) for v in (T1, T3)], ["a.bin", "b.bin"])

    def test_2b_versions_as_users(self):
        pc = os.path.join(self.src, "vers/perm-change.txt")  # 0644 at T1, 0600 root at T2
        self.assertEqual(sorted(os.listdir(self.V(HOST, pc))), [T1, T2], "root sees both versions")
        r = self.run_as(ALICE, ["ls", "-1", self.V(HOST, pc)])
        self.assertEqual((r.returncode, r.stdout), (0, f"{T1}\n".encode()), f"alice sees only the version she could "
                                                                            f"read: {show(r)}")
        r = self.run_as(ALICE, ["cat", os.path.join(self.V(HOST, pc), T1)])
        self.assertEqual((r.returncode, r.stdout), (0, b"readable by all at T1\n"), show(r))
        r = self.run_as(ALICE, ["cat", os.path.join(self.V(HOST, pc), T2)])
        self.assertNotEqual(r.returncode, 0, f"alice must not read the T2 version: {show(r)}")
        # bob reads his notes through @versions, then alice at once: nothing.
        bn = os.path.join(self.src, "perm/home/bob/bob-notes.txt")
        r = self.run_as(BOB, ["cat", os.path.join(self.V(HOST, bn), T1)])
        self.assertEqual((r.returncode, r.stdout), (0, b"bob's notes\n"), show(r))
        for cmd in (["cat", os.path.join(self.V(HOST, bn), T1)], ["ls", self.V(HOST, bn)],
                    ["stat", os.path.join(self.V(HOST, bn), T1)]):
            r = self.run_as(ALICE, cmd)
            self.assertNotEqual(r.returncode, 0, f"alice right after bob: {show(r)}")
            self.assertNotIn(b"bob's notes", r.stdout)
        r = self.run_as(ALICE, ["ls", self.V(HOST, os.path.join(self.src, "perm/home/bob"))])
        self.assertNotIn(b"bob-notes", r.stdout, f"alice may not list bob's home in @versions: {show(r)}")
        r = self.run_as(BOB, ["ls", self.V(HOST, os.path.join(self.src, "perm/home/bob"))])
        self.assertEqual((r.returncode, r.stdout), (0, b"bob-notes.txt\n"), show(r))
        # A directory lists the names the caller could have listed at some point: alice could
        # enter changing's root at T1 (not at T2), so its history is hers to see.
        r = self.run_as(ALICE, ["ls", os.path.join(self.mnt, "@versions", "changing", "data")])
        self.assertEqual((r.returncode, r.stdout), (0, b"f.txt\n"), show(r))
        r = self.run_as(ALICE, ["cat", os.path.join(self.mnt, "@versions", "changing", "data", "f.txt", T1)])
        self.assertEqual((r.returncode, r.stdout), (0, b"changing host\n"), show(r))
        # Hosts in @versions follow the same rule as the top.
        r = self.run_as(ALICE, ["ls", "-1", os.path.join(self.mnt, "@versions")])
        self.assertNotIn(b"bobhost", r.stdout.split(), show(r))
        r = self.run_as(ALICE, ["ls", os.path.join(self.mnt, "@versions", "bobhost")])
        self.assertNotEqual(r.returncode, 0, f"alice may not look into bobhost's history: {show(r)}")

    # ---- 3: @search ------------------------------------------------------------------------

    def expected_search(self, query, user=None):
        j = self.rj("search", query, "--limit", "1000", user=user)
        return {f"{h['host']}@{h['at']}" + os.fsdecode(raw(h, "path")).replace("/", DIVISION_SLASH):
                (h["host"], h["at"], raw(h, "path")) for h in j["results"]}

    def test_3a_search_as_root(self):
        sdir = os.path.join(self.mnt, "@search", "public")
        got = sorted(os.listdir(sdir))
        want = self.expected_search("public")
        self.assertEqual(got, sorted(want), "@search/public lists the same hits as `recall search public`")
        name = f"{HOST}@{T3}" + os.path.join(self.src, "public.txt").replace("/", DIVISION_SLASH)
        self.assertIn(name, got)
        p = os.path.join(sdir, name)
        self.assertTrue(stat.S_ISLNK(os.lstat(p).st_mode))
        self.assertEqual(os.readlink(p), f"../../{HOST}/{T3}{self.src}/public.txt")
        self.assertEqual(slurp(p), PUBLIC_V[2], "following a hit reads the file")
        for n in got:
            host, at, path = want[n]
            self.assertEqual(os.readlink(os.path.join(sdir, n)), f"../../{host}/{at}" + os.fsdecode(path))
            self.assertTrue(os.path.exists(os.path.join(sdir, n)), f"hit {n} resolves")
        # A glob, an odd name, and a query with no hits.
        bins = os.listdir(os.path.join(self.mnt, "@search", "*.bin"))
        self.assertEqual(sorted(bins), sorted(self.expected_search("*.bin")))
        self.assertTrue(any(n.endswith(DIVISION_SLASH + "blob.bin") for n in bins), bins)
        self.assertEqual(os.listdir(os.path.join(self.mnt, "@search", "no-such-thing-anywhere")), [])
        latin = os.listdir(os.path.join(b(self.mnt), b"@search", b"latin1"))
        self.assertTrue(any(n.endswith(b"caf\xe9-latin1.txt") for n in latin), f"non-UTF-8 hit names: {latin}")
        hit = [n for n in latin if n.endswith(b"caf\xe9-latin1.txt")][0]
        self.assertEqual(slurp(os.path.join(b(self.mnt), b"@search", b"latin1", hit)),
                         slurp(os.path.join(b(self.src), b"odd", ODD_NAMES[0])))
        spaced = os.listdir(os.path.join(self.mnt, "@search", "sp ace & 'quote'"))
        self.assertEqual(sorted(spaced), sorted(self.expected_search("sp ace & 'quote'")), "a query with spaces")
        self.assertEqual(len(spaced), 1, spaced)
        self.assertEqual(slurp(os.path.join(self.mnt, "@search", "sp ace & 'quote'", spaced[0])),
                         slurp(os.path.join(self.src, "odd", "sp ace & 'quote'.txt")))
        many = os.listdir(os.path.join(self.mnt, "@search", "rather-long-name"))
        self.assertEqual(len(many), 1000, "2500 matches: the first 1000 are listed")
        self.assertEqual(sorted(many), sorted(self.expected_search("rather-long-name")))

    def test_3c_search_hit_with_a_long_path(self):
        # Real paths are often longer than a name on disk may be (255 bytes): such a hit must
        # still be listed, under a name that fits (the middle of the path gives way to "…",
        # the file name at the end stays), and what is listed must be usable (stat, readlink,
        # open, ls -l); the link target keeps the whole path.
        path = os.path.join(self.src, self.deep_rel)
        head = f"{HOST}@{T3}"
        flat = head + path.replace("/", DIVISION_SLASH)
        self.assertGreater(len(flat.encode()), 255, "fixture: the flattened name is longer than NAME_MAX")
        sdir = os.path.join(self.mnt, "@search", "needle-deep")
        names = os.listdir(sdir)
        self.assertEqual(len(names), 1, f"@search/needle-deep lists the one hit: {names}")
        problems = []
        for n in names:
            p = os.path.join(sdir, n)
            # Shortened: HOST@POINT, "…", a hash of the path, "…", then the end of the path.
            if not (len(n.encode()) <= 255 and n.startswith(head + "…") and "…" in n[len(head) + 1:]
                    and flat.endswith(n.split("…")[-1]) and n.endswith("needle-deep.txt")):
                problems.append(f"listed as {n!r}, want a name of at most 255 bytes that ends like {flat!r}")
            try:
                self.assertEqual(os.readlink(p), f"../../{HOST}/{T3}{path}")
            except (OSError, AssertionError) as e:
                problems.append(f"readlink of the hit: {e!r}")
            try:
                self.assertEqual(slurp(p), b"found deep down\n")
            except (OSError, AssertionError) as e:
                problems.append(f"following the hit fails: {e!r}")
        r = subprocess.run(["ls", "-l", sdir], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        if r.returncode != 0:
            problems.append(f"`ls -l @search/needle-deep` fails: {show(r)}")
        self.assertFalse(problems, "a search hit with a long path: " + "; ".join(problems))

    def search_as(self, user, query):
        r = self.run_as(user, ["ls", "-1", os.path.join(self.mnt, "@search", query)])
        self.assertEqual(r.returncode, 0, f"ls @search/{query} as {user}: {show(r)}")
        return sorted(r.stdout.decode().splitlines())

    def test_3b_search_per_user_never_leaks(self):
        private = os.path.join(self.src, "perm/home/alice/private.txt")
        bobs = os.path.join(self.src, "perm/home/bob/bob-notes.txt")
        flat = lambda at, p: f"{HOST}@{at}" + p.replace("/", DIVISION_SLASH)
        rounds = []
        for user in (ALICE, BOB, ALICE, BOB, CAROL, ALICE):  # in quick succession
            rounds.append((user, self.search_as(user, "notes"), self.search_as(user, "private")))
        for user, notes, priv in rounds:
            self.assertEqual(notes, sorted(self.expected_search("notes", user)), f"@search/notes as {user}")
            self.assertEqual(priv, sorted(self.expected_search("private", user)), f"@search/private as {user}")
            self.assertEqual(flat(T3, bobs) in notes, user == BOB, f"bob's notes among {user}'s hits")
            self.assertEqual(flat(T3, private) in priv, user == ALICE, f"alice's private file among {user}'s hits")
        # bob cannot look up or follow alice's hit by name, even right after alice did.
        hit = os.path.join(self.mnt, "@search", "private", flat(T3, private))
        r = self.run_as(ALICE, ["cat", hit])
        self.assertEqual((r.returncode, r.stdout), (0, b"alice's private plans\n"), show(r))
        for cmd in (["stat", hit], ["readlink", hit], ["cat", hit]):
            r = self.run_as(BOB, cmd)
            self.assertNotEqual(r.returncode, 0, f"bob right after alice: {show(r)}")
            self.assertNotIn(b"private plans", r.stdout)
        # Alice's hits never include a file she cannot read.
        r = self.run_as(ALICE, ["sh", "-c", 'for f in "$1"/*; do cat "$f" >/dev/null || exit 1; done',
                                "sh", os.path.join(self.mnt, "@search", "txt")])
        self.assertEqual(r.returncode, 0, f"alice can read every .txt hit she gets: {show(r)}")

    # ---- 4: permissions through the kernel -------------------------------------------------

    def test_4a_permission_matrix(self):
        orig = self.S("perm")
        entries = tree_entries(orig)
        self.assertGreater(len(entries), 30)
        want = {u: self.probe(u, orig, entries) for u in TEST_USERS}
        # The fixture means something: the users see different things.
        self.assertNotEqual(want[ALICE], want[BOB])
        self.assertEqual(want[ALICE]["home/alice/private.txt"]["read"], sha256_file(self.S("perm/home/alice/private.txt")))
        self.assertEqual(want[BOB]["home/alice/private.txt"]["read"], "EACCES")
        self.assertEqual(want[BOB]["group-deny.txt"]["read"], "EACCES")
        self.assertEqual(want[ALICE]["audit/masked.txt"]["read"], "EACCES")
        problems = []
        for at in (T3, T1):
            mroot = self.P(at, "perm")
            # Root walks everything first, so the kernel's caches hold every entry.
            root_view = self.probe(None, mroot, entries)
            root_orig = self.probe(None, orig, entries)
            if root_view != root_orig:
                problems.append(f"root at {at}: " + self.matrix_diff(root_orig, root_view))
            for order in (TEST_USERS, tuple(reversed(TEST_USERS))):
                for u in order:
                    got = self.probe(u, mroot, entries)
                    if got != want[u]:
                        problems.append(f"{u} at {at}: " + self.matrix_diff(want[u], got))
        self.assertFalse(problems, "access through the mount differs from the kernel's decision on the original "
                                   "(want, got):\n" + "\n".join(problems))

    @staticmethod
    def matrix_diff(want, got, limit=12):
        out = []
        for rel in sorted(set(want) | set(got)):
            w, g = want.get(rel, {}), got.get(rel, {})
            for op in sorted(set(w) | set(g)):
                if w.get(op) != g.get(op):
                    out.append(f"  {rel or '.'} {op}: {w.get(op)!r} vs {g.get(op)!r}")
        return f"{len(out)} differences\n" + "\n".join(out[:limit])

    def test_4c_recalld_fs_routes_asked_directly(self):
        # recall-fs's routes are on recalld's socket, which every local user may reach: asked
        # directly, they must tell no more than the host would have.
        def get(user, url):
            cmd = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--unix-socket", self.sock, "http://r" + url]
            r = self.run_as(user, cmd) if user else subprocess.run(cmd, stdout=subprocess.PIPE, timeout=60)
            body, _, code = r.stdout.rpartition(b"\n")
            return int(code), body
        note = os.lstat(self.P(T3, "perm/audit/audit-note.txt")).st_ino  # 0600 root, ACL carol:r
        self.assertEqual(note >> 60, 4, "fixture: the note is a plain version inode")
        version = note & ((1 << 60) - 1)
        code, body = get(BOB, f"/v1/fs/info?version={version}")
        self.assertEqual(code, 404, f"bob asks about a version he could never read: {body!r}")
        code, body = get(CAROL, f"/v1/fs/info?version={version}")
        self.assertEqual(code, 200, f"carol may read it: {body!r}")
        self.assertIn(b"sha256", body)
        audit = os.lstat(self.P(T3, "perm/audit")).st_ino
        self.assertEqual(audit >> 60, 3, "fixture: a directory inode")
        point, node = (audit & ((1 << 60) - 1)) >> 36, audit & ((1 << 36) - 1)
        url = f"/v1/fs/tree?point={point}&node={node}&budget=0"
        code, body = get(None, url)
        self.assertEqual(code, 200)
        self.assertIn(b"audit-secret", body, "root's listing carries the recorded user.color")
        for user, sees in ((BOB, False), (CAROL, True)):
            code, body = get(user, url)
            self.assertEqual(code, 200, f"{user} may list perm/audit")
            self.assertEqual(b"audit-secret" in body, sees,
                             f"{user}: user.* xattrs of a file only for those who may read it")
        # Ids of another host are no such node, not a listing.
        code, _ = get(None, f"/v1/fs/tree?point={point}&node=1&budget=0")
        self.assertIn(code, (200, 404))
        code, body = get(BOB, f"/v1/whoami")
        self.assertEqual(code, 200)
        r = self.run_as(BOB, ["curl", "-s", "-H", f"X-Recall-On-Behalf-Of: 0 0", "--unix-socket", self.sock,
                              "http://r/v1/whoami"])
        self.assertEqual(json.loads(r.stdout)["uid"], pwd.getpwnam(BOB).pw_uid,
                         "only root may ask on behalf of someone else")

    def test_4b_lookups_never_widen_access(self):
        pp = lambda rel: self.P(T3, "perm/" + rel)
        sequences = [  # (who goes first and succeeds, command, who follows and must fail)
            (BOB, ["cat", pp("home/bob/bob-notes.txt")], ALICE),
            (BOB, ["ls", pp("home/bob")], ALICE),
            (BOB, ["ls", pp("acl-dir")], ALICE),
            (BOB, ["cat", pp("acl-dir/inside.txt")], CAROL),
            (CAROL, ["cat", pp("audit/audit-note.txt")], BOB),
            (ALICE, ["cat", pp("private-hardlink")], BOB),
            (ALICE, ["cat", pp("link-to-private")], DAVE),
            (ALICE, ["ls", pp("home/alice/notes")], BOB),
            (ALICE, ["cat", pp("home/alice/notes/n.txt")], CAROL),
            (BOB, ["cat", pp("shared/team-plan.txt")], CAROL),
            (CAROL, ["cat", pp("group-deny.txt")], ALICE),
            (DAVE, ["cat", pp("dave-only.txt")], CAROL),
            (BOB, ["ls", os.path.join(self.mnt, "bobhost", "latest", "data")], ALICE),
            (BOB, ["cat", os.path.join(self.mnt, "bobhost", T1, "data", "hello.txt")], ALICE),
            (BOB, ["ls", os.path.join(self.mnt, "changing", T2, "data")], ALICE),
        ]
        for first, cmd, second in sequences:
            with self.subTest(f"{first} then {second}: {' '.join(cmd[:1])} {cmd[-1]}"):
                r1 = self.run_as(first, cmd)
                r2 = self.run_as(second, cmd)
                self.assertEqual(r1.returncode, 0, f"{first} may: {show(r1)}")
                self.assertNotEqual(r2.returncode, 0, f"{second} right after {first} must be refused: {show(r2)}")
                self.assertEqual(r2.stdout, b"", f"{second} got output: {show(r2)}")
                self.assertRegex(r2.stderr, rb"Permission denied|No such file",
                                 f"{second} refused with EACCES or ENOENT: {show(r2)}")
        # A host only bob can enter does not even show to alice, right after bob used it.
        for u in (BOB, ALICE, BOB, ALICE):
            self.run_as(BOB, ["ls", os.path.join(self.mnt, "bobhost")])
            r = self.run_as(u, ["ls", "-1", self.mnt])
            self.assertEqual(r.returncode, 0, show(r))
            self.assertEqual(b"bobhost" in r.stdout.split(), u == BOB, f"bobhost in `ls MOUNT/` as {u}: {show(r)}")
            self.assertIn(b"changing", r.stdout.split(), f"{u} could search /data's parent at T1: sees 'changing'")
        # Looking bobhost up by name is allowed (it shows the times of its points, as `recall
        # points --host bobhost` does), but nothing inside a point.
        r = self.run_as(BOB, ["ls", "-l", os.path.join(self.mnt, "bobhost", T1)])
        self.assertEqual(r.returncode, 0, show(r))
        for cmd in (["ls", os.path.join(self.mnt, "bobhost", T1)], ["ls", os.path.join(self.mnt, "bobhost", "latest/")],
                    ["stat", os.path.join(self.mnt, "bobhost", T1, "data")],
                    ["cat", os.path.join(self.mnt, "bobhost", T1, "data", "hello.txt")]):
            r = self.run_as(ALICE, cmd)
            self.assertNotEqual(r.returncode, 0, f"alice must not get into bobhost's points: {show(r)}")
            self.assertNotIn(b"hello", r.stdout, show(r))
        r = self.run_as(ALICE, ["ls", os.path.join(self.mnt, "changing")])
        self.assertEqual((r.returncode, sorted(r.stdout.split())), (0, sorted([T1.encode(), T2.encode(), b"latest"])),
                         show(r))
        r = self.run_as(ALICE, ["cat", os.path.join(self.mnt, "changing", T1, "data", "f.txt")])
        self.assertEqual((r.returncode, r.stdout), (0, b"changing host\n"), show(r))

    # ---- 5: many readers at once -----------------------------------------------------------

    def test_5_parallel_readers(self):
        bulk = os.path.join(self.mnt, "bulk", T1) + self.bulk
        jobs = [(None if i % 4 else CAROL, f"part-{i:02d}.bin") for i in range(16)]
        jobs += [(None if i % 2 else ALICE, "shared-a.bin") for i in range(6)]
        jobs += [(BOB if i % 3 == 0 else None, "shared-b.bin") for i in range(6)]
        results, lock = [], threading.Lock()

        def cat(user, name):
            p = subprocess.Popen(user_cmd(user, ["cat", os.path.join(bulk, name)]), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, cwd=self.base)
            h = hashlib.sha256()
            for block in iter(lambda: p.stdout.read(1 << 20), b""):
                h.update(block)
            err = p.stderr.read()
            p.stdout.close()
            p.stderr.close()
            rc = p.wait(120)
            with lock:
                results.append((user, name, rc, h.hexdigest(), err))

        find = subprocess.Popen(["find", self.P(T3), "-ls"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        find_out = {}
        t_find = threading.Thread(target=lambda: find_out.update(zip(("out", "err"), find.communicate(timeout=120))))
        t_find.start()
        t0 = time.monotonic()
        threads = [threading.Thread(target=cat, args=j) for j in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
        t_find.join(180)
        took = time.monotonic() - t0
        self.assertEqual(len(results), len(jobs), "every reader finished")
        bad = [(u, n, rc, err) for u, n, rc, h, err in results if rc != 0 or h != self.bulk_sha[n] or err]
        self.assertFalse(bad, f"{len(bad)} of {len(jobs)} parallel readers failed or read wrong bytes: {bad[:4]}")
        self.assertEqual((find.returncode, find_out.get("err")), (0, b""), "find over a point during the reads")
        want = subprocess.run(["find", self.copies[T3], "-ls"], stdout=subprocess.PIPE, check=True).stdout
        self.assertEqual(find_out["out"].count(b"\n"), want.count(b"\n"), "find listed the whole point")
        self.assertLess(took, 120, "parallel reads took too long")

    # ---- 6: the catalog grows under the mount ----------------------------------------------

    def test_6_new_points_and_hosts_appear(self):
        write(os.path.join(self.grow, "g.txt"), b"second\n")
        self.import_dir("growing", self.grow, T2)
        self.import_dir("newhost", self.grow, T1)
        deadline = time.monotonic() + 15
        while True:
            names = sorted(os.listdir(os.path.join(self.mnt, "growing")))
            latest = os.readlink(os.path.join(self.mnt, "growing", "latest"))
            top = os.listdir(self.mnt)
            if names == [T1, T2, "latest"] and latest == T2 and "newhost" in top:
                break
            if time.monotonic() > deadline:
                self.fail(f"15 s after the imports: growing/ lists {names}, latest -> {latest}, top {top}")
            time.sleep(0.5)
        self.assertEqual(slurp(os.path.join(self.mnt, "growing", "latest") + self.grow + "/g.txt"), b"second\n")
        self.assertEqual(slurp(os.path.join(self.mnt, "growing", T1) + self.grow + "/g.txt"), b"first\n")
        self.assertEqual(slurp(os.path.join(self.mnt, "newhost", T1) + self.grow + "/g.txt"), b"second\n")


# =============================================================================================
# A mount of one ordinary user, without allow_other.
# =============================================================================================

class SingleUserMountTest(FsBase):

    @classmethod
    def prepare(cls):
        cls.src = os.path.join(cls.base, "src")
        mkdir(cls.src)
        build_perm_tree(os.path.join(cls.src, "perm"))
        write(os.path.join(cls.src, "public.txt"), b"public\n")
        cls.import_dir(HOST, cls.src, T1)
        bobparent = os.path.join(cls.base, "bobparent")
        mkdir(bobparent, 0o700, BOB, BOB)
        mkdir(os.path.join(bobparent, "data"), 0o755, BOB, BOB)
        write(os.path.join(bobparent, "data", "hello.txt"), b"bob's host\n", 0o644, BOB, BOB)
        cls.import_as("bobhost", os.path.join(bobparent, "data"), T1, "/data")

    @classmethod
    def mount_fs(cls):
        # An ordinary user's libfuse opens /dev/fuse itself (fusermount3 only mounts): Debian's
        # udev makes it 0666; container runtimes often create it 0600. Make it what Debian has.
        if os.stat("/dev/fuse").st_mode & 0o666 != 0o666:
            print(f"\n{cls.__name__}: /dev/fuse was {stat.filemode(os.stat('/dev/fuse').st_mode)}; making it "
                  "0666 as udev does on Debian, so that an ordinary user can mount", file=sys.stderr)
            os.chmod("/dev/fuse", 0o666)
        cls.m = cls.new_mount("alice-mnt", user=ALICE, allow_other=False, foreground=True)
        cls.mnt = cls.m.path

    def test_1_alice_sees_what_she_may(self):
        r = self.run_as(ALICE, ["ls", "-1", self.mnt])
        self.assertEqual((r.returncode, sorted(r.stdout.decode().split())), (0, sorted(["@search", "@versions", HOST])),
                         f"alice's mount shows her hosts only: {show(r)}")
        orig = os.path.join(self.src, "perm")
        entries = tree_entries(orig)
        want = self.probe(ALICE, orig, entries)
        got = self.probe(ALICE, self.in_point(HOST, T1, orig), entries)
        self.assertEqual(got, want, "alice through her own mount vs the original tree (want, got):\n"
                         + FsTest.matrix_diff(want, got))
        r = self.run_as(ALICE, ["ls", "-1", os.path.join(self.mnt, "@search", "private")])
        self.assertEqual(r.returncode, 0, show(r))
        self.assertIn("private.txt", r.stdout.decode(), show(r))
        r = self.run_as(ALICE, ["ls", "-1", os.path.join(self.mnt, "@search", "bob-notes")])
        self.assertEqual((r.returncode, r.stdout), (0, b""), f"no hits of bob's for alice: {show(r)}")
        r = self.run_as(ALICE, ["cat", self.in_point(HOST, "latest", self.src + "/public.txt")])
        self.assertEqual((r.returncode, r.stdout), (0, b"public\n"), show(r))

    def test_2_others_cannot_enter(self):
        for u in (BOB, CAROL):
            for cmd in (["ls", self.mnt], ["stat", self.mnt], ["cat", self.in_point(HOST, T1, self.src + "/public.txt")]):
                r = self.run_as(u, cmd)
                self.assertNotEqual(r.returncode, 0, f"{u} must not enter alice's mount: {show(r)}")
                self.assertIn(b"Permission denied", r.stderr, show(r))

    def test_3_unmount_as_alice(self):
        self.assertTrue(is_fuse_mount(self.mnt))
        r = self.m.unmount()
        self.assertEqual(r.returncode, 0, f"fusermount3 -u as alice: {show(r)}")
        self.assertFalse(is_fuse_mount(self.mnt))
        try:
            rc = self.m.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.fail("recall-fs -f did not exit within 10 s of fusermount3 -u")
        self.assertEqual(rc, 0, f"recall-fs exits 0 after an unmount: {self.m.log()}")


# =============================================================================================
# The daemon restarts under a mounted filesystem.
# =============================================================================================

class DaemonRestartTest(FsBase):

    @classmethod
    def prepare(cls):
        cls.src = os.path.join(cls.base, "src")
        mkdir(cls.src)
        rng = random.Random(7)
        cls.content = {}
        for i in range(8):
            cls.content[f"f{i}.bin"] = rng.randbytes(300000 + i)
            write(os.path.join(cls.src, f"f{i}.bin"), cls.content[f"f{i}.bin"])
        mkdir(os.path.join(cls.src, "sub"))
        write(os.path.join(cls.src, "sub", "s.txt"), b"sub\n")
        cls.import_dir(HOST, cls.src, T1)

    def F(self, name):
        return self.in_point(HOST, T1, os.path.join(self.src, name))

    def timed(self, cmd, timeout=20):
        t0 = time.monotonic()
        try:
            r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=timeout, cwd=self.base)
        except subprocess.TimeoutExpired:
            self.fail(f"`{' '.join(cmd)}` hung (> {timeout} s) while recalld was down")
        return r, time.monotonic() - t0

    def test_restart_under_the_mount(self):
        self.assertEqual(slurp(self.F("f0.bin")), self.content["f0.bin"])
        self.daemon.stop()  # SIGTERM, must exit 0 within 10 s although the mount holds connections
        try:
            r, took = self.timed(["cat", self.F("f1.bin")])
            self.assertNotEqual(r.returncode, 0, f"a read of an uncached file with recalld down must fail: {show(r)}")
            self.assertEqual(r.stdout, b"", show(r))
            self.assertLess(took, 15, "the failed read must not wait long")
            # Listings answer or fail at once (what was cached may still be served); never hang.
            self.timed(["ls", self.mnt])
            self.timed(["ls", os.path.join(self.mnt, HOST)])
            self.timed(["ls", os.path.join(self.mnt, "@search", "f3")])
        finally:
            self.daemon.start()
        deadline = time.monotonic() + 10
        while True:
            r, _ = self.timed(["cat", self.F("f1.bin")])
            if r.returncode == 0:
                break
            if time.monotonic() > deadline:
                self.fail(f"10 s after recalld came back, reads through the mount still fail: {show(r)}")
            time.sleep(0.25)
        self.assertEqual(r.stdout, self.content["f1.bin"], "the read after the restart returns the right bytes")
        for n in ("f2.bin", "f3.bin", "sub/s.txt"):
            self.assertEqual(slurp(self.F(n)), self.content.get(n, b"sub\n"), f"{n} after the restart")
        self.assertIn(HOST, os.listdir(self.mnt))
        # And it unmounts cleanly, its process gone.
        m = self.mounts[0]
        r = m.unmount()
        self.assertEqual(r.returncode, 0, f"fusermount3 -u after a daemon restart: {show(r)}")
        self.assertFalse(is_fuse_mount(self.mnt), "unmounted")
        self.assertTrue(m.wait_exit(10), "recall-fs exits after fusermount3 -u")


if __name__ == "__main__":
    unittest.main(verbosity=2)
