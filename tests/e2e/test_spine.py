#!/usr/bin/env python3
"""End-to-end tests of the Recall spine (issue 2): a real recalld on a temporary home, driven
through the real `recall` CLI, as root and as the test users that scripts/setup.sh creates.

Run as root:  cd BUILD && ctest -R e2e --output-on-failure
or directly:  RECALL_BIN_DIR=BUILD python3 -m unittest -v test_spine   (in tests/e2e)

Each test class has its own temporary directory under /tmp (0755, so test users can reach it)
and its own recalld, stopped with SIGTERM at the end (it must exit 0 within 10 s).
"""

import concurrent.futures
import grp
import hashlib
import json
import os
import pwd
import random
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
import traceback
import unittest
import urllib.parse

BIN_DIR = os.environ.get("RECALL_BIN_DIR", "")
RECALLD = os.path.join(BIN_DIR, "catalogd", "recalld")
RECALL = os.path.join(BIN_DIR, "cli", "recall")

ALICE, BOB, CAROL, DAVE = "rctest-alice", "rctest-bob", "rctest-carol", "rctest-dave"
TEST_USERS = (ALICE, BOB, CAROL, DAVE)
TEST_GROUPS = ("rctest-staff", "rctest-audit", "recall-admin")

# The three points of the main host, and instants around them.
T0 = "2025-03-01T09:00:00Z"    # before the first point
T1 = "2025-03-01T10:00:00Z"
T1_5 = "2025-03-01T10:30:00Z"  # between T1 and T2: must show T1
T2 = "2025-03-01T11:00:00Z"
T3 = "2025-03-01T12:00:00Z"
T4 = "2025-03-01T13:00:00Z"
T5 = "2025-03-01T14:00:00Z"

SLOW_TREE = "/usr/share"  # big enough that an import of it runs for many seconds


def precondition_problem():
    """None when the suite can run; otherwise what is missing (the suite then FAILS)."""
    problems = []
    if os.geteuid() != 0:
        problems.append("not running as root")
    for u in TEST_USERS:
        try:
            pwd.getpwnam(u)
        except KeyError:
            problems.append(f"test user {u} missing")
    for g in TEST_GROUPS:
        try:
            grp.getgrnam(g)
        except KeyError:
            problems.append(f"group {g} missing")
    for tool in ("setpriv", "setfacl", "getfacl"):
        if not shutil.which(tool):
            problems.append(f"{tool} not installed")
    if problems:
        return "e2e preconditions not met (" + "; ".join(problems) + "): run scripts/setup.sh as root"
    if not BIN_DIR:
        return "RECALL_BIN_DIR is not set: run through ctest, or set it to the build directory"
    for b in (RECALLD, RECALL):
        if not os.access(b, os.X_OK):
            return f"{b} is missing: build the recalld and recall targets first"
    return None


def user_cmd(user, cmd):
    """cmd run as `user` with their primary group and supplementary groups."""
    if user is None:
        return cmd
    pw = pwd.getpwnam(user)
    return ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups"] + cmd


def clean_env():
    env = dict(os.environ)
    env.pop("RECALL_SOCKET", None)
    env["LC_ALL"] = "C.UTF-8"
    return env


def show(r):
    """A one-paragraph description of a finished command for failure messages."""
    args = [a.decode(errors="backslashreplace") if isinstance(a, bytes) else a for a in r.args]
    args = [a if len(a) < 120 else a[:100] + f"...({len(a)} chars)" for a in args]
    return (f"`{' '.join(args)}` exited {r.returncode}; stderr: {r.stderr[:800]!r}; "
            f"stdout: {r.stdout[:300]!r}")


def raw(entry, key):
    """A name/path/target from the API as exact bytes (the *_raw form when not UTF-8)."""
    if key + "_raw" in entry:
        return urllib.parse.unquote_to_bytes(entry[key + "_raw"])
    return entry[key].encode()


def b(p):
    return p if isinstance(p, bytes) else os.fsencode(p)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def type_of(st):
    m = st.st_mode
    if stat.S_ISREG(m):
        return "file"
    if stat.S_ISDIR(m):
        return "dir"
    if stat.S_ISLNK(m):
        return "symlink"
    if stat.S_ISFIFO(m):
        return "fifo"
    if stat.S_ISCHR(m):
        return "chardev"
    if stat.S_ISBLK(m):
        return "blockdev"
    if stat.S_ISSOCK(m):
        return "socket"
    return "unknown"


def attrs_from_stat(path, st, owners=True):
    t = type_of(st)
    a = {"type": t, "mode": st.st_mode & 0o7777, "mtime_ns": st.st_mtime_ns}
    if owners:
        a["uid"], a["gid"] = st.st_uid, st.st_gid
    if t in ("file", "symlink"):
        a["size"] = st.st_size
    if t == "file":
        a["nlink"] = st.st_nlink
    if t == "symlink":
        a["target"] = os.readlink(path)
    return a


def attrs_from_json(e):
    t = e.get("type")
    if "mode" not in e:
        return {"type": t, "visible": False}
    a = {"type": t, "mode": e["mode"] & 0o7777, "uid": e["uid"], "gid": e["gid"], "mtime_ns": e["mtime_ns"]}
    if t in ("file", "symlink"):
        a["size"] = e["size"]
    if t == "file":
        a["nlink"] = e["nlink"]
    if t == "symlink":
        a["target"] = raw(e, "target")
    return a


class Snapshot:
    """A file tree as it is on disk now: attributes, file hashes and inode groups, keyed by
    absolute bytes path (the root included)."""

    def __init__(self, root, hashes=True, owners=True):
        self.root = b(root)
        self.attrs, self.sha, self.ino = {}, {}, {}
        self._add(self.root, hashes, owners)
        for dirpath, dirnames, filenames in os.walk(self.root):
            for name in dirnames + filenames:
                self._add(os.path.join(dirpath, name), hashes, owners)

    def _add(self, p, hashes, owners):
        st = os.lstat(p)
        self.attrs[p] = attrs_from_stat(p, st, owners)
        if stat.S_ISREG(st.st_mode):
            self.ino[p] = (st.st_dev, st.st_ino)
            if hashes:
                self.sha[p] = sha256_file(p)

    def files(self):
        return sorted(p for p, a in self.attrs.items() if a["type"] == "file")

    def rebased(self, new_root):
        """The same snapshot with paths moved from self.root to new_root."""
        new_root = b(new_root)
        out = Snapshot.__new__(Snapshot)
        out.root = new_root
        mv = lambda p: new_root + p[len(self.root):]
        out.attrs = {mv(p): a for p, a in self.attrs.items()}
        out.sha = {mv(p): h for p, h in self.sha.items()}
        out.ino = {mv(p): i for p, i in self.ino.items()}
        return out

    def link_groups(self):
        groups = {}
        for p, i in self.ino.items():
            groups.setdefault(i, []).append(p)
        return sorted(sorted(g) for g in groups.values() if len(g) > 1)


def diff_listings(expected, actual, limit=6):
    """A readable description of how two {path: attrs} maps differ; '' when equal."""
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    differing = sorted(p for p in set(expected) & set(actual) if expected[p] != actual[p])
    if not (missing or extra or differing):
        return ""
    out = [f"{len(missing)} missing, {len(extra)} unexpected, {len(differing)} differing (of {len(expected)})"]
    out += [f"  missing   {p!r}: {expected[p]}" for p in missing[:limit]]
    out += [f"  extra     {p!r}: {actual[p]}" for p in extra[:limit]]
    for p in differing[:limit]:
        keys = sorted(set(expected[p]) | set(actual[p]))
        d = {k: (expected[p].get(k), actual[p].get(k)) for k in keys if expected[p].get(k) != actual[p].get(k)}
        out.append(f"  differs   {p!r}: (expected, got) {d}")
    return "\n".join(out)


def assert_restored_tree(tc, snap, restored_root, what):
    """Fails test case `tc` unless the tree at restored_root equals Snapshot `snap` (rebased):
    attributes, contents and hard links."""
    want = snap.rebased(restored_root)
    got = Snapshot(restored_root)
    d = diff_listings(want.attrs, got.attrs)
    tc.assertFalse(d, f"{what}: restored tree differs (type/mode/owner/size/mtime_ns/target):\n{d}")
    bad = [p for p in want.sha if got.sha.get(p) != want.sha[p]]
    tc.assertFalse(bad, f"{what}: {len(bad)} restored files differ in content, e.g. {bad[:5]}")
    tc.assertEqual(got.link_groups(), want.link_groups(), f"{what}: hard links not restored as hard links")


class Daemon:
    """A recalld on HOME, its stderr in LOGDIR/recalld-N.log."""

    def __init__(self, home, logdir, args=()):
        self.home, self.logdir = home, logdir
        self.args = list(args)  # more recalld options (the tape tests set the library's)
        self.sock = os.path.join(home, "recalld.sock")
        self.proc = None
        self.starts = 0

    def start(self, timeout=15):
        self.starts += 1
        self.log_path = os.path.join(self.logdir, f"recalld-{self.starts}.log")
        log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen([RECALLD, "--home", self.home, *self.args], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log, env=clean_env())
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "recalld: serving" in self.log():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"recalld exited {self.proc.returncode} while starting: {self.log()}")
            time.sleep(0.05)
        self.proc.kill()
        self.proc.wait(10)
        raise AssertionError(f"recalld did not say 'serving' within {timeout} s: {self.log()}")

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM; it must exit 0 within 10 s."""
        if not self.running():
            rc = None if self.proc is None else self.proc.returncode
            raise AssertionError(f"recalld was not running at shutdown (exit {rc}); log: {self.log()[-2000:]}")
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(f"recalld did not exit within 10 s of SIGTERM; log: {self.log()[-2000:]}")
        if rc != 0:
            raise AssertionError(f"recalld exited {rc} on SIGTERM (want 0); log: {self.log()[-2000:]}")

    def kill9(self):
        self.proc.kill()  # SIGKILL to this daemon's pid only
        self.proc.wait(10)


class E2EBase(unittest.TestCase):
    """Own temp dir and recalld per class; a fixture failure fails every test of the class."""

    fixture_error = None
    base = None
    daemon = None
    daemon_args = ()  # more recalld options for this class's daemon

    @classmethod
    def setUpClass(cls):
        cls.fixture_error = precondition_problem()
        if cls.fixture_error:
            return
        cls.base = tempfile.mkdtemp(prefix=f"recall-e2e-{cls.__name__}-", dir="/tmp")
        os.chmod(cls.base, 0o755)
        cls.home = os.path.join(cls.base, "home")
        try:
            cls.daemon = Daemon(cls.home, cls.base, cls.daemon_args)
            cls.daemon.start()
            cls.sock = cls.daemon.sock
            cls.prepare()
        except Exception:
            cls.fixture_error = f"fixture of {cls.__name__} failed:\n{traceback.format_exc()}"

    @classmethod
    def prepare(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.daemon is not None and cls.daemon.proc is not None:
                cls.daemon.stop()
        finally:
            if cls.base:
                shutil.rmtree(cls.base, ignore_errors=True)

    def setUp(self):
        if self.fixture_error:
            self.fail(self.fixture_error)

    # ---- running the CLI -------------------------------------------------------------------

    @classmethod
    def recall(cls, *args, user=None, timeout=60, sock=None):
        cmd = user_cmd(user, [RECALL, "--socket", sock or cls.sock, *args])
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout, cwd=cls.base, env=clean_env())

    @classmethod
    def rj(cls, *args, user=None, timeout=60):
        """`recall ARGS --json`, which must succeed; its JSON."""
        r = cls.recall(*args, "--json", user=user, timeout=timeout)
        if r.returncode != 0:
            raise AssertionError(show(r))
        try:
            return json.loads(r.stdout)
        except ValueError:
            raise AssertionError(f"not JSON: {show(r)}")

    @classmethod
    def import_dir(cls, host, path, at=None, user=None, timeout=300):
        """`recall import dir --json`; the job JSON (raises unless it exits 0 and completes)."""
        args = ["import", "dir", "--host", host] + (["--at", at] if at else []) + [path]
        j = cls.rj(*args, user=user, timeout=timeout)
        if j.get("state") != "complete":
            raise AssertionError(f"import {args} ended in state {j.get('state')}: {j.get('error')}")
        return j

    @classmethod
    def catalog(cls):
        return cls.rj("status")["catalog"]

    @classmethod
    def points(cls, host):
        return cls.rj("points", "--host", host)["points"]

    @classmethod
    def catalog_tree(cls, host, at, root, user=None):
        """{path: attrs} of root and everything below it at a point, from `recall ls --json`
        walked recursively (parallel clients, one `recall ls` per directory)."""
        root = b(root)
        parent, name = os.path.split(root)
        out = {}
        top = cls.rj("ls", "--host", host, "--at", at, parent, user=user)
        for e in top["entries"]:
            if raw(e, "name") == name:
                out[root] = attrs_from_json(e)
        if root not in out:
            raise AssertionError(f"`recall ls {parent!r}` at {at} does not list {name!r}")
        pending = [root]
        with concurrent.futures.ThreadPoolExecutor(6) as ex:
            while pending:
                listed = list(ex.map(lambda d: (d, cls.rj("ls", "--host", host, "--at", at, d, user=user)), pending))
                pending = []
                for d, j in listed:
                    if raw(j, "path") != d:
                        raise AssertionError(f"ls {d!r} answered for path {raw(j, 'path')!r}")
                    for e in j["entries"]:
                        p = raw(e, "path")
                        if p != d + b"/" + raw(e, "name"):
                            raise AssertionError(f"ls {d!r}: entry path {p!r} does not match its name")
                        if p in out:
                            raise AssertionError(f"ls {d!r}: {p!r} listed twice")
                        out[p] = attrs_from_json(e)
                        if e.get("type") == "dir":
                            pending.append(p)
        return out

    # ---- assertions ------------------------------------------------------------------------

    def assert_one_line_error(self, r, codes=None, what=""):
        label = what or show(r)
        self.assertGreaterEqual(r.returncode, 0, f"{label}: recall died of signal {-r.returncode}: {show(r)}")
        self.assertNotEqual(r.returncode, 0, f"{label}: expected a failure, got success: {show(r)}")
        if codes is not None:
            self.assertIn(r.returncode, codes, f"{label}: exit code {r.returncode}, want one of {codes}: {show(r)}")
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, f"{label}: want exactly one line on stderr, got {len(lines)}: {show(r)}")
        self.assertTrue(lines[0].startswith(b"recall: "), f"{label}: stderr must start with 'recall: ': {show(r)}")

    def assert_ok(self, r, what=""):
        self.assertEqual(r.returncode, 0, f"{what}: {show(r)}")

    def assert_daemon_alive(self, after=""):
        self.assertTrue(self.daemon.running(), f"recalld died {after}; log: {self.daemon.log()[-3000:]}")
        r = self.recall("status")
        self.assertEqual(r.returncode, 0, f"recalld does not answer {after}: {show(r)}")

    def running_jobs(self):
        return [j for j in self.rj("status")["jobs"] if j["state"] in ("queued", "running")]

    def wait_for_progress(self, proc, timeout=60, new_bytes=True):
        """Waits until recalld reports a running job with entries > 0 (and new bytes > 0)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                out, err = proc.communicate()
                self.fail(f"the import ended (exit {proc.returncode}) before it showed progress: {err!r} {out[:300]!r}")
            for j in self.running_jobs():
                p = j["progress"]
                if j["state"] == "running" and p["entries"] > 0 and (not new_bytes or p["new_bytes"] > 0):
                    return j
            time.sleep(0.1)
        self.fail(f"no import job showed progress within {timeout} s")

    def start_import(self, host, path, at):
        return subprocess.Popen([RECALL, "--socket", self.sock, "import", "dir", "--host", host, "--at", at, path],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=self.base, env=clean_env())


def slurp(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data, mode=None, owner=None, group=None, mtime=None):
    with open(path, "wb") as f:
        f.write(data)
    if mode is not None:
        os.chmod(path, mode)
    if owner or group:
        shutil.chown(path, owner, group)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def mkdir(path, mode=0o755, owner=None, group=None):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, mode)
    if owner or group:
        shutil.chown(path, owner, group)


def copy_doc_subset(dest, max_files):
    """Copies whole /usr/share/doc packages (sorted by name) until about max_files files."""
    os.makedirs(dest)
    src = "/usr/share/doc"
    count = 0
    for name in sorted(os.listdir(src)):
        p = os.path.join(src, name)
        if os.path.islink(p):
            os.symlink(os.readlink(p), os.path.join(dest, name))
            continue
        if not os.path.isdir(p):
            continue
        shutil.copytree(p, os.path.join(dest, name), symlinks=True)
        count += sum(len(f) for _, _, f in os.walk(p))
        if count >= max_files:
            break
    shutil.copystat(src, dest)
    return count


# =============================================================================================
# The main host: a real tree imported at three points, with edits, renames and deletions.
# =============================================================================================

HOST = "spine"
PUBLIC_V = [b"public notice, first version\n", b"public notice, second version, longer\n",
            b"public notice, third version\n" * 3]

# Files (relative to SRC) and the test users allowed to read them (root reads all).
PERM_FILES = {
    "home/alice/private.txt": {ALICE},
    "home/alice/suid-tool": {ALICE},
    "home/bob/bob-notes.txt": {BOB},          # 0644 but in a 0750 bob:bob directory
    "shared/team-plan.txt": {ALICE, BOB},     # 0640 root:rctest-staff in 0750 root:rctest-staff
    "audit/audit-note.txt": {CAROL},          # 0600 root:root + ACL user:rctest-carol:r
    "audit/audit-log.txt": {BOB, CAROL},      # 0640 root:rctest-audit
    "public.txt": set(TEST_USERS),
}
PERM_DIRS = {
    "home/alice": {ALICE},
    "home/bob": {BOB},
    "shared": {ALICE, BOB},
    "audit": set(TEST_USERS),
}
ODD_NAMES = [b"caf\xe9-latin1.txt", b"line\nbreak.txt", b"sp ace & 'quote'.txt", b"\xff\xfe\xfd",
             b"back\\xff", b"back\xff"]  # a backslash and the byte it could pass for


class SpineTest(E2EBase):
    """Items 1-4 and 6-8 of the e2e brief, on one host imported at T1, T2 and T3."""

    @classmethod
    def prepare(cls):
        t_start = time.monotonic()
        cls.src = os.path.join(cls.base, "src")
        cls.bsrc = b(cls.src)
        rng = random.Random(20250301)
        cls.rng = rng
        mkdir(cls.src)
        cls.doc_files = copy_doc_subset(os.path.join(cls.src, "doc"), 3000)
        S = lambda rel: os.path.join(cls.src, rel)

        # Files owned by test users, with varied modes and an ACL.
        mkdir(S("home"), 0o755)
        mkdir(S("home/alice"), 0o700, ALICE, ALICE)
        write(S("home/alice/private.txt"), b"alice's private plans\n", 0o600, ALICE, ALICE)
        write(S("home/alice/suid-tool"), b"#!/bin/sh\necho tool\n", 0o755, ALICE, ALICE)
        os.chmod(S("home/alice/suid-tool"), 0o4755)
        mkdir(S("home/bob"), 0o750, BOB, BOB)
        write(S("home/bob/bob-notes.txt"), b"bob's notes\n", 0o644, BOB, BOB)
        mkdir(S("shared"), 0o750, "root", "rctest-staff")
        write(S("shared/team-plan.txt"), b"staff only plan\n", 0o640, "root", "rctest-staff")
        mkdir(S("audit"), 0o755)
        write(S("audit/audit-note.txt"), b"for carol's eyes (ACL)\n", 0o600, "root", "root")
        subprocess.run(["setfacl", "-m", f"u:{CAROL}:r", S("audit/audit-note.txt")], check=True, timeout=30)
        write(S("audit/audit-log.txt"), b"audit group log\n", 0o640, "root", "rctest-audit")
        write(S("public.txt"), PUBLIC_V[0], 0o644)
        # Content for chunking and dedup, hard links, symlinks, odd names, a fifo, empties.
        mkdir(S("data"))
        cls.blob = rng.randbytes(4 << 20)
        write(S("data/blob.bin"), cls.blob)
        write(S("data/empty"), b"")
        mkdir(S("data/empty-dir"))
        mkdir(S("links"))
        write(S("links/a.bin"), rng.randbytes(70000))
        os.link(S("links/a.bin"), S("links/b.bin"))
        os.symlink("a.bin", S("links/current"))
        os.symlink("../nowhere/at/all", S("links/dangling"))
        os.symlink("/etc", S("links/absolute-dir"))
        mkdir(S("odd"))
        cls.odd_content = {}
        for i, name in enumerate(ODD_NAMES):
            data = f"odd file {i}\n".encode() + rng.randbytes(100 * i)
            write(os.path.join(cls.bsrc, b"odd", name), data)
            cls.odd_content[name] = data
        os.mkfifo(S("odd/pipe"))
        os.chmod(S("odd/pipe"), 0o640)
        write(S("odd/old-mtime.txt"), b"from the past\n", mtime=946684800)

        cls.snap, cls.reports, cls.public_sha = {}, {}, []

        def point(at):
            cls.snap[at] = Snapshot(cls.src)
            cls.public_sha.append(cls.snap[at].sha[b(S("public.txt"))])
            cls.reports[at] = cls.import_dir(HOST, cls.src, at)

        point(T1)

        # ---- T1 -> T2: edits, a metadata change, a directory rename, deletions, additions.
        docs = [p for p in cls.snap[T1].files()
                if p.startswith(b(S("doc/"))) and cls.snap[T1].attrs[p]["size"] < 100000]
        pkgdirs = sorted(d for d in os.listdir(S("doc")) if os.path.isdir(S("doc/" + d))
                         and not os.path.islink(S("doc/" + d)))
        small = [d for d in pkgdirs if 2 <= sum(len(f) for _, _, f in os.walk(S("doc/" + d))) <= 6]
        if len(small) < 2:
            raise AssertionError("need two small /usr/share/doc packages to rename and delete")
        cls.renamed_from, cls.renamed_to = "doc/" + small[0], "doc/" + small[0] + "-renamed"
        cls.deleted_dir = "doc/" + small[1]
        busy = lambda p: p.startswith(b(S(cls.renamed_from)) + b"/") or p.startswith(b(S(cls.deleted_dir)) + b"/")
        docs = [p for p in docs if not busy(p)]
        cls.edited_t2 = docs[3::max(1, len(docs) // 5)][:5]
        rest = [p for p in docs if p not in cls.edited_t2]
        cls.chmodded_t2 = [rest[7]]
        cls.deleted_t2 = [rest[11], rest[13], rest[17]]
        for p in cls.edited_t2:
            with open(p, "ab") as f:
                f.write(b"\nedited before T2\n")
        for p in cls.chmodded_t2:
            os.chmod(p, 0o600)
        for p in cls.deleted_t2:
            os.unlink(p)
        write(S("public.txt"), PUBLIC_V[1])
        with open(S("data/blob.bin"), "r+b") as f:  # one byte in the middle: same size, new mtime
            f.seek(len(cls.blob) // 2)
            f.write(bytes([cls.blob[len(cls.blob) // 2] ^ 0xFF]))
        cls.moved_files_t2 = sum(len(f) for _, _, f in os.walk(S(cls.renamed_from)))
        os.rename(S(cls.renamed_from), S(cls.renamed_to))
        shutil.rmtree(S(cls.deleted_dir))
        mkdir(S("new-at-T2"))
        cls.added_t2 = []
        for i in range(3):
            write(S(f"new-at-T2/file{i}.dat"), rng.randbytes(20000 + 5000 * i))
            cls.added_t2.append(S(f"new-at-T2/file{i}.dat"))
        write(S("doc/added-note.txt"), b"a note added before T2\n")
        cls.added_t2.append(S("doc/added-note.txt"))
        # Files whose content changed: the T2 import must read them.
        cls.changed_t2 = len(cls.edited_t2) + 2 + len(cls.added_t2)  # + public.txt + blob.bin
        cls.changed_bytes_t2 = (sum(os.path.getsize(p) for p in cls.edited_t2) + len(PUBLIC_V[1]) + (512 << 10)
                                + sum(os.path.getsize(p) for p in cls.added_t2))
        point(T2)

        # ---- T2 -> T3: another version of public.txt, more edits, renames and deletions.
        write(S("public.txt"), PUBLIC_V[2])
        with open(S("new-at-T2/file0.dat"), "ab") as f:
            f.write(b"appended before T3")
        first_moved = sorted(os.listdir(S(cls.renamed_to)))
        first_moved = [n for n in first_moved if os.path.isfile(S(cls.renamed_to + "/" + n))]
        os.unlink(S(cls.renamed_to + "/" + first_moved[0]))
        os.unlink(S("links/current"))
        os.symlink("b.bin", S("links/current"))
        mkdir(S("new-at-T3/deeper/deepest"), 0o750)
        write(S("new-at-T3/blob-copy.bin"), cls.blob)  # content already known: dedup
        write(S("new-at-T3/deeper/deepest/leaf.txt"), b"leaf\n")
        os.rename(S("doc/added-note.txt"), S("doc/added-note-renamed.txt"))
        point(T3)
        cls.fixture_seconds = time.monotonic() - t_start

    # ---- helpers ---------------------------------------------------------------------------

    def S(self, rel):
        return os.path.join(self.src, rel)

    def fresh_dir(self, name, owner=None):
        d = tempfile.mkdtemp(prefix=name + "-", dir=self.base)
        os.chmod(d, 0o755)
        if owner:
            shutil.chown(d, owner, pwd.getpwnam(owner).pw_gid)
        return d

    # ---- 1: every point lists exactly the tree it had --------------------------------------

    def test_1_points_list_exact_trees(self):
        pts = self.points(HOST)
        self.assertEqual([(p["at"], p["kind"]) for p in pts],
                         [(T1, "full"), (T2, "incremental"), (T3, "incremental")],
                         f"`recall points --host {HOST}` must show the three imports: {pts}")
        # --at with a UTC offset: 12:30+01:00 is 11:30Z, so T2.
        at_offset = self.rj("ls", "--host", HOST, "--at", "2025-03-01T12:30:00+01:00", self.src)
        self.assertEqual(at_offset["point"]["at"], T2, f"--at with an offset: {at_offset['point']}")
        self.assertEqual(at_offset["entries"], self.rj("ls", "--host", HOST, "--at", T2, self.src)["entries"])
        hosts = {h["name"]: h for h in self.rj("hosts")["hosts"]}
        self.assertIn(HOST, hosts)
        self.assertEqual(hosts[HOST]["points"], 3, hosts[HOST])
        for at, want in ((T1, T1), (T1_5, T1), (T2, T2), (T3, T3), ("latest", T3), (T4, T3)):
            got = self.catalog_tree(HOST, at, self.src)
            d = diff_listings(self.snap[want].attrs, got)
            self.assertFalse(d, f"`recall ls -R --at {at}` differs from the tree recorded before the import at "
                                f"{want}:\n{d}")

    def test_1b_search_substrings_globs_paging(self):
        def paths(*args):
            return [raw(h, "path") for h in self.rj("search", *args, "--host", HOST, "--limit", "10000")["results"]]

        bins = {b(self.S(p)) for p in ("links/a.bin", "links/b.bin", "data/blob.bin", "new-at-T3/blob-copy.bin")}
        got = set(paths("*.bin"))
        self.assertTrue(bins <= got, f"glob '*.bin' finds {sorted(bins - got)} too")
        self.assertIn(b(self.S("new-at-T3/blob-copy.bin")), paths("lob-cop"), "a 7-character substring")
        self.assertIn(b(self.S("data/blob.bin")), paths("bl"), "a 2-character query still works")
        self.assertIn(b(self.S("public.txt")), paths("PUBLIC"), "search ignores case")
        first = self.rj("search", "public.txt", "--host", HOST)["results"][0]
        self.assertEqual(first["name"], "public.txt", f"an exact name ranks first: {first}")
        # A file deleted before T2 is still found, at a point where it existed.
        gone = self.deleted_t2[0]
        hits = [h for h in self.rj("search", os.path.basename(gone).decode(), "--host", HOST, "--limit", "10000")
                ["results"] if raw(h, "path") == gone]
        self.assertTrue(hits, f"search finds {gone!r}, deleted after T1")
        self.assertEqual(hits[0]["at"], T1, f"the deleted file is found at the last point that had it: {hits[0]}")
        # Paging: two pages of 5 are the first page of 10.
        key = lambda h: (h["host"], h["at"], raw(h, "path"))
        ten = [key(h) for h in self.rj("search", "copyright", "--host", HOST, "--limit", "10")["results"]]
        p1 = [key(h) for h in self.rj("search", "copyright", "--host", HOST, "--limit", "5")["results"]]
        p2 = [key(h) for h in self.rj("search", "copyright", "--host", HOST, "--limit", "5", "--offset", "5")
              ["results"]]
        self.assertEqual(len(ten), 10, "enough copyright files for paging")
        self.assertEqual(p1 + p2, ten, "--offset pages through the same order")
        # Sorting and filters, as the browser uses them.
        sizes = [h["size"] for h in self.rj("search", "copyright", "--host", HOST, "--sort", "size", "--order",
                                            "desc", "--limit", "10000")["results"]]
        self.assertEqual(sizes, sorted(sizes, reverse=True), "--sort size --order desc")
        big = self.rj("search", "copyright", "--host", HOST, "--min-size", str(sizes[0]), "--limit", "10000")
        self.assertTrue(big["results"] and all(h["size"] == sizes[0] for h in big["results"]), big)
        self.assertEqual(self.rj("search", "copyright", "--host", HOST, "--before", "2000-01-01T00:00:00Z")["total"], 0)
        self.assertTrue(all(h["at"] == T1 for h in self.rj("search", "copyright", "--host", HOST, "--before", T1_5,
                                                            "--limit", "10000")["results"]), "--before names T1")
        self.assertTrue(all(h.get("where", {}).get("lives") == "disk" for h in big["results"]), big)
        self.assert_one_line_error(self.recall("search", "x", "--sort", "colour"), codes=(2,), what="unknown sort")

    # ---- 2: restores are byte identical ----------------------------------------------------

    def assert_restored_tree(self, snap, restored_root, what):
        assert_restored_tree(self, snap, restored_root, what)

    def test_2_restores_are_byte_identical(self):
        # The whole tree as it was at T1, after the T2 and T3 changes.
        dest = self.fresh_dir("restore-t1")
        r = self.recall("restore", "--host", HOST, "--at", T1, self.src, dest, timeout=300)
        self.assert_ok(r, "restore of the whole tree at T1")
        self.assert_restored_tree(self.snap[T1], os.path.join(dest, "src"), "whole tree at T1")
        self.assertTrue(self.snap[T1].link_groups(), "fixture: the tree has hard links")

        # A single file, into a new name, at each point; and cat.
        for i, at in enumerate((T1, T2, T3)):
            target = os.path.join(dest, f"public-{i}.txt")
            r = self.recall("restore", "--host", HOST, "--at", at, self.S("public.txt"), target)
            self.assert_ok(r, f"restore of public.txt at {at}")
            with open(target, "rb") as f:
                self.assertEqual(f.read(), PUBLIC_V[i], f"restored public.txt at {at}")
            want = self.snap[at].attrs[b(self.S("public.txt"))]
            self.assertEqual(os.stat(target).st_mtime_ns, want["mtime_ns"], f"mtime of restored public.txt at {at}")
            r = self.recall("cat", "--host", HOST, "--at", at, self.S("public.txt"))
            self.assert_ok(r, f"cat public.txt at {at}")
            self.assertEqual(r.stdout, PUBLIC_V[i], f"`recall cat --at {at}` of public.txt")
        # cat of a large file at T1 (before its one-byte edit) and at T2.
        r = self.recall("cat", "--host", HOST, "--at", T1, self.S("data/blob.bin"))
        self.assert_ok(r, "cat blob.bin at T1")
        self.assertTrue(r.stdout == self.blob, "`recall cat --at T1` of blob.bin differs from the T1 bytes")
        r = self.recall("cat", "--host", HOST, "--at", T2, self.S("data/blob.bin"))
        self.assertEqual(hashlib.sha256(r.stdout).hexdigest(), self.snap[T2].sha[b(self.S("data/blob.bin"))],
                         "`recall cat --at T2` of blob.bin")
        # Edited files of T2 at T1 and at T3.
        for p in self.edited_t2:
            for at in (T1, T3):
                r = self.recall("cat", "--host", HOST, "--at", at, p)
                self.assert_ok(r, f"cat {p!r} at {at}")
                self.assertEqual(hashlib.sha256(r.stdout).hexdigest(), self.snap[at].sha[p], f"cat {p!r} at {at}")

        # versions: one per distinct content, with their hashes.
        v = self.rj("versions", "--host", HOST, self.S("public.txt"))["versions"]
        shas = [x.get("sha256") for x in v]
        self.assertGreaterEqual(len(v), 3, f"versions of public.txt: {v}")
        self.assertEqual(len(set(shas)), len(shas), f"versions of public.txt must differ in sha256: {shas}")
        self.assertEqual(set(shas), set(self.public_sha), "versions' sha256 vs the three contents")
        v = self.rj("versions", "--host", HOST, self.edited_t2[0])["versions"]
        self.assertEqual(len(v), 2, f"versions of a file edited once: {v}")
        self.assertNotEqual(v[0].get("sha256"), v[1].get("sha256"), v)

        # As root, setuid bits and owners come back.
        target = os.path.join(dest, "suid-copy")
        r = self.recall("restore", "--host", HOST, self.S("home/alice/suid-tool"), target)
        self.assert_ok(r, "root restore of a setuid file")
        st = os.lstat(target)
        self.assertEqual((st.st_mode & 0o7777, st.st_uid), (0o4755, pwd.getpwnam(ALICE).pw_uid),
                         "root restores mode 04755 and owner alice")

    # ---- 3: the incremental forward-merges -------------------------------------------------

    def test_3_incremental_reads_only_changed_files(self):
        rep1, rep2, rep3 = (self.reports[t]["report"] for t in (T1, T2, T3))
        self.assertEqual((rep1["kind"], rep2["kind"], rep3["kind"]), ("full", "incremental", "incremental"))
        files_t2 = len(self.snap[T2].files())
        lo = self.changed_t2
        hi = self.changed_t2 + len(self.chmodded_t2) + self.moved_files_t2 + 2
        self.assertGreaterEqual(rep1["files_read"], len(self.snap[T1].ino) - 1, f"full import reads all: {rep1}")
        self.assertTrue(lo <= rep2["files_read"] <= hi,
                        f"T2 import read {rep2['files_read']} files; {lo} changed, at most {hi} may be read "
                        f"(+ chmod, + {self.moved_files_t2} under the renamed directory): {rep2}")
        self.assertGreaterEqual(rep2["files_unchanged"], files_t2 - hi,
                                f"most of the {files_t2} files must be unchanged (not read) at T2: {rep2}")
        self.assertGreater(rep2["files_unchanged"], 0.9 * files_t2, rep2)
        self.assertLessEqual(rep2["new_bytes"], self.changed_bytes_t2,
                             f"T2 stores only new content (a 1-byte edit of a 4 MiB file is one chunk or two): {rep2}")
        self.assertLess(rep2["bytes_read"], rep1["bytes_read"] / 4, f"T2 reads a fraction of T1: {rep1} {rep2}")
        self.assertGreater(rep2["deleted"], 0, f"deletions are counted: {rep2}")
        # T3: public.txt, file0.dat, blob-copy.bin, leaf.txt, renamed note (new path).
        self.assertTrue(4 <= rep3["files_read"] <= 8, f"T3 reads only the few changed files: {rep3}")
        self.assertLess(rep3["new_bytes"], 1 << 20, f"T3's copy of blob.bin must dedup: {rep3}")

    # ---- 4: dedup across hosts -------------------------------------------------------------

    def test_4_second_host_adds_almost_nothing(self):
        before = self.catalog()
        job = self.import_dir("mirror", self.src, T3)
        rep = job["report"]
        self.assertEqual(rep["kind"], "full", rep)
        self.assertGreater(rep["bytes_read"], 10 << 20, f"the mirror import reads the whole tree: {rep}")
        self.assertLessEqual(rep["new_bytes"], rep["bytes_read"] / 100,
                             f"same tree under a second host must dedup: new_bytes {rep['new_bytes']} "
                             f"vs bytes_read {rep['bytes_read']}")
        after = self.catalog()
        self.assertLessEqual(after["chunk_bytes"] - before["chunk_bytes"], before["chunk_bytes"] / 100,
                             f"chunk_bytes grew from {before['chunk_bytes']} to {after['chunk_bytes']}")
        self.assertEqual(after["hosts"], before["hosts"] + 1)
        d = diff_listings(self.snap[T3].attrs, self.catalog_tree("mirror", "latest", self.src))
        self.assertFalse(d, f"the mirror host lists the T3 tree:\n{d}")

    # ---- 6: who sees what, through the daemon, as real users -------------------------------

    def kernel_allows(self, user, path, is_dir=False):
        cmd = ["ls", "-1", "--", path] if is_dir else ["cat", "--", path]
        r = subprocess.run(user_cmd(user, cmd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=30, cwd=self.base)
        return r.returncode == 0

    def kernel_names_as(self, user, top):
        r = subprocess.run(user_cmd(user, ["find", top, "-mindepth", "1", "-print0"]), stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, timeout=30, cwd=self.base)
        return sorted(p for p in r.stdout.split(b"\0") if p)

    def catalog_names_as(self, user, top):
        """Paths below top that `recall ls` shows user, walking into what it may list."""
        out, pending = [], [b(top)]
        while pending:
            d = pending.pop()
            r = self.recall("ls", "--host", HOST, "--at", T3, d, "--json", user=user)
            if r.returncode == 4:
                continue
            self.assertEqual(r.returncode, 0, show(r))
            for e in json.loads(r.stdout)["entries"]:
                out.append(raw(e, "path"))
                if e["type"] == "dir":
                    pending.append(raw(e, "path"))
        return sorted(out)

    def test_6_permissions_as_real_users(self):
        # Users reach the daemon only through its socket, never the catalog or pool files.
        self.assertEqual(os.stat(self.home).st_mode & 0o7777, 0o711, "recalld's home is 0711")
        self.assertEqual(os.stat(self.sock).st_mode & 0o777, 0o666, "the socket is open to every local user")
        for rel in ("catalog.db", "pool"):
            self.assertFalse(self.kernel_allows(ALICE, os.path.join(self.home, rel), rel == "pool"),
                             f"a user can read recalld's {rel} directly")
        # The fixture must mean what the matrix says: check it against the kernel first.
        for rel, readers in PERM_FILES.items():
            for u in TEST_USERS:
                self.assertEqual(self.kernel_allows(u, self.S(rel)), u in readers,
                                 f"fixture: kernel read of {rel} by {u} (expected readers {readers})")
        for rel, readers in PERM_DIRS.items():
            for u in TEST_USERS:
                self.assertEqual(self.kernel_allows(u, self.S(rel), True), u in readers,
                                 f"fixture: kernel listing of {rel} by {u}")
        problems = []

        def check(cond, msg):
            if not cond:
                problems.append(msg)

        for rel, readers in PERM_FILES.items():
            path = self.S(rel)
            content = slurp(path)
            name = os.path.basename(rel)
            for u in TEST_USERS + ("root",):
                who = None if u == "root" else u
                allowed = u == "root" or u in readers
                r = self.recall("cat", "--host", HOST, "--at", T3, path, user=who)
                if allowed:
                    check(r.returncode == 0 and r.stdout == content, f"{u} must be able to cat {rel}: {show(r)}")
                else:
                    check(r.returncode == 4 and r.stdout == b"" and len(r.stderr.splitlines()) == 1
                          and r.stderr.startswith(b"recall: "),
                          f"{u} must get exit 4 and one line for cat {rel}: {show(r)}")
                r = self.recall("versions", "--host", HOST, path, "--json", user=who)
                check(r.returncode == (0 if allowed else 4), f"versions of {rel} as {u}: {show(r)}")
                r = self.recall("search", name, "--limit", "200", "--json", user=who)
                check(r.returncode == 0, f"search {name} as {u}: {show(r)}")
                if r.returncode == 0:
                    found = {raw(h, "path") for h in json.loads(r.stdout)["results"] if h["host"] == HOST}
                    check((b(path) in found) == allowed,
                          f"search {name!r} as {u}: {'missing' if allowed else 'must not return'} {rel}")
        for rel, readers in PERM_DIRS.items():
            for u in TEST_USERS:
                r = self.recall("ls", "--host", HOST, self.S(rel), user=u)
                if u in readers:
                    check(r.returncode == 0, f"{u} must be able to ls {rel}: {show(r)}")
                else:
                    check(r.returncode == 4 and len(r.stderr.splitlines()) == 1, f"{u} ls {rel}: want 4: {show(r)}")
        r = self.recall("search", "private", "--json", user=ALICE)
        check(r.returncode == 0 and any(raw(h, "path") == b(self.S("home/alice/private.txt"))
                                        for h in json.loads(r.stdout or b"{}").get("results", [])),
              f"`search private` as alice must find her file: {show(r)}")
        self.assertFalse(problems, f"{len(problems)} access problems:\n" + "\n".join(problems))

        # Walking the user-area as each user shows what the kernel shows that user.
        for u in TEST_USERS:
            for top in ("home", "shared", "audit"):
                self.assertEqual(self.catalog_names_as(u, self.S(top)), self.kernel_names_as(u, self.S(top)),
                                 f"`recall ls` walked as {u} below {top}/ vs `find` as {u}")

        # Search results never include a file the user can't cat.
        for u in TEST_USERS:
            hits = set()
            for q, limit in (("private", 50), ("note", 50), ("plan", 50), ("tool", 50), ("audit", 50), ("txt", 150)):
                j = self.rj("search", q, "--type", "file", "--limit", str(limit), user=u)
                hits |= {(h["host"], h["at"], raw(h, "path")) for h in j["results"]}
            self.assertTrue(hits, f"{u} finds something")

            def can_cat(hit):
                host, at, p = hit
                r = self.recall("cat", "--host", host, "--at", at, p, user=u)
                return hit, r

            with concurrent.futures.ThreadPoolExecutor(6) as ex:
                bad = [(h, show(r)) for h, r in ex.map(can_cat, sorted(hits)) if r.returncode != 0]
            self.assertFalse(bad, f"search as {u} returned {len(bad)} files {u} cannot cat, e.g. {bad[:3]}")

        # Restores as a user: files become the user's, setuid is dropped, others are refused.
        alice = pwd.getpwnam(ALICE)
        dest = self.fresh_dir("alice-restore", ALICE)
        for rel in ("home/alice/private.txt", "home/alice/suid-tool", "public.txt"):
            r = self.recall("restore", "--host", HOST, self.S(rel), dest, user=ALICE)
            self.assert_ok(r, f"alice restores {rel}")
            st = os.lstat(os.path.join(dest, os.path.basename(rel)))
            self.assertEqual((st.st_uid, st.st_gid), (alice.pw_uid, alice.pw_gid), f"owner of alice's restored {rel}")
        st = os.lstat(os.path.join(dest, "suid-tool"))
        self.assertEqual(st.st_mode & 0o7777, 0o755, "setuid bit must be dropped when alice restores suid-tool")
        self.assertEqual(os.lstat(os.path.join(dest, "private.txt")).st_mode & 0o7777, 0o600)
        with open(os.path.join(dest, "private.txt"), "rb") as f:
            self.assertEqual(f.read(), b"alice's private plans\n")
        r = self.recall("restore", "--host", HOST, self.S("home"), dest, user=ALICE)
        self.assert_ok(r, "alice restores /home (bob's part is skipped)")
        self.assertTrue(os.path.isfile(os.path.join(dest, "home/alice/private.txt")), "alice's file in home/")
        self.assertFalse(os.path.exists(os.path.join(dest, "home/bob/bob-notes.txt")),
                         "alice's restore of home/ must not contain bob's notes")
        for u, rel in ((BOB, "home/alice/private.txt"), (CAROL, "home/alice/private.txt"),
                       (BOB, "audit/audit-note.txt"), (CAROL, "shared/team-plan.txt"), (DAVE, "shared/team-plan.txt")):
            d = self.fresh_dir("denied", u)
            r = self.recall("restore", "--host", HOST, self.S(rel), d, user=u)
            self.assert_one_line_error(r, (4,), f"{u} restoring {rel}")
            self.assertEqual(os.listdir(d), [], f"a refused restore ({u}, {rel}) wrote nothing")
        d = self.fresh_dir("carol-acl", CAROL)
        r = self.recall("restore", "--host", HOST, self.S("audit/audit-note.txt"), d, user=CAROL)
        self.assert_ok(r, "carol restores the file her ACL entry lets her read")

        # whoami through status: identity comes from the socket, not the client.
        for u, admin in ((ALICE, False), (DAVE, True)):
            you = self.rj("status", user=u)["you"]
            self.assertEqual((you["user"], you["admin"]), (u, admin), f"status as {u}: {you}")

    def api_get_as(self, user, target):
        """GET TARGET from recalld's HTTP API as `user` (a python3 client run under setpriv)."""
        client = ("import json, socket, sys\n"
                  "s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n"
                  "s.sendall(('GET %s HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' % sys.argv[2]).encode())\n"
                  "data = b''\n"
                  "while True:\n"
                  "    b = s.recv(65536)\n"
                  "    if not b: break\n"
                  "    data += b\n"
                  "head, _, body = data.partition(b'\\r\\n\\r\\n')\n"
                  "print(head.split()[1].decode()); print(body.decode())\n")
        r = subprocess.run(user_cmd(user, ["python3", "-c", client, self.sock, target]), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30, env=clean_env())
        self.assertEqual(r.returncode, 0, show(r))
        status, _, body = r.stdout.decode().partition("\n")
        return int(status), json.loads(body)

    def test_6d_stat_shows_hashes_only_to_readers(self):
        q = urllib.parse.quote(self.S("audit/audit-note.txt"), safe="")
        target = f"/v1/stat?host={HOST}&path={q}"
        status, j = self.api_get_as(BOB, target)  # may look it up (audit/ is 0755), may not read it
        self.assertEqual(status, 200, j)
        self.assertNotIn("sha256", j, "the content hash of a file bob may not read must not be shown")
        self.assertNotIn("location", j, "where the bytes of a file bob may not read live must not be shown")
        status, j = self.api_get_as(CAROL, target)  # the ACL lets carol read it
        self.assertEqual(status, 200, j)
        self.assertEqual(len(j.get("sha256", "")), 64, j)

    def test_6c_user_restore_of_a_directory_skips_what_they_cannot_read(self):
        # bob may list audit/ and read audit-log.txt, but not audit-note.txt (carol's ACL entry).
        # As for directories he cannot list, the rest is restored and the file is reported.
        d = self.fresh_dir("bob-audit", BOB)
        r = self.recall("restore", "--host", HOST, self.S("audit"), d, user=BOB)
        self.assertEqual(r.returncode, 0, f"bob's restore of audit/ must restore what he can read: {show(r)}")
        self.assertEqual(slurp(os.path.join(d, "audit", "audit-log.txt")), b"audit group log\n")
        self.assertFalse(os.path.exists(os.path.join(d, "audit", "audit-note.txt")), "audit-note.txt is not bob's")
        self.assertIn(b"audit-note.txt", r.stderr, f"the skipped file is reported: {show(r)}")
        self.assertEqual(os.stat(os.path.join(d, "audit")).st_mode & 0o7777, 0o755, "directory mode restored")

    # ---- 7: restore safety -----------------------------------------------------------------

    def test_7a_restore_conflicts(self):
        pub = self.S("public.txt")
        d = self.fresh_dir("conflict")
        local = os.path.join(d, "public.txt")
        write(local, b"local edit\n")
        r = self.recall("restore", "--host", HOST, pub, d)  # default: rename
        self.assert_ok(r, "restore onto an existing file (default rename)")
        self.assertEqual(slurp(local), b"local edit\n", "rename must keep the existing file")
        self.assertEqual(slurp(local + ".recall-1"), PUBLIC_V[2], "rename puts the restore beside it")
        r = self.recall("restore", "--host", HOST, "--on-conflict", "rename", pub, d)
        self.assert_ok(r)
        self.assertTrue(os.path.exists(local + ".recall-2"), "a second rename picks the next free name")
        r = self.recall("restore", "--host", HOST, "--on-conflict", "skip", pub, d)
        self.assert_ok(r, "skip")
        self.assertEqual(slurp(local), b"local edit\n", "skip leaves the existing file")
        self.assertEqual(sorted(os.listdir(d)), ["public.txt", "public.txt.recall-1", "public.txt.recall-2"])
        # dry run first: nothing changes, the plan says replace.
        r = self.recall("restore", "--host", HOST, "--on-conflict", "overwrite", "--dry-run", pub, d)
        self.assert_ok(r, "dry run of an overwrite")
        self.assertIn(b"replace", r.stdout, f"the dry run's plan names the replacement: {show(r)}")
        self.assertEqual(slurp(local), b"local edit\n", "a dry run writes nothing")
        r = self.recall("restore", "--host", HOST, "--on-conflict", "overwrite", pub, d)
        self.assert_ok(r, "overwrite")
        self.assertEqual(slurp(local), PUBLIC_V[2], "overwrite replaces")
        self.assertEqual(len(os.listdir(d)), 3, "overwrite creates no extra file")

    def test_7b_dry_run_of_a_directory_plans_every_file(self):
        d = self.fresh_dir("dry")
        r = self.recall("restore", "--host", HOST, "--dry-run", self.S("links"), d)
        self.assert_ok(r, "dry run of a directory")
        self.assertEqual(os.listdir(d), [], "a dry run writes nothing")
        lines = r.stdout.decode(errors="replace").splitlines()
        for name in ("a.bin", "b.bin", "current", "dangling"):
            self.assertTrue(any(l.startswith("write") and l.rstrip().endswith("/" + name) for l in lines),
                            f"the dry run of links/ must plan writing {name}: {lines}")
        # Into an existing copy: the plan names what would be kept both, replaced or skipped.
        os.mkdir(os.path.join(d, "links"))
        write(os.path.join(d, "links", "a.bin"), b"local\n")
        for mode, word in (("rename", "rename"), ("overwrite", "replace"), ("skip", "skip")):
            r = self.recall("restore", "--host", HOST, "--dry-run", "--on-conflict", mode, self.S("links"), d)
            self.assert_ok(r, f"dry run --on-conflict {mode} into an existing copy")
            lines = r.stdout.decode(errors="replace").splitlines()
            self.assertTrue(any(l.startswith(word) and "/links/a.bin" in l for l in lines),
                            f"dry run --on-conflict {mode}: a line '{word} .../links/a.bin' expected: {lines}")
            self.assertEqual(sorted(os.listdir(os.path.join(d, "links"))), ["a.bin"], "a dry run writes nothing")
            self.assertEqual(slurp(os.path.join(d, "links", "a.bin")), b"local\n")

    def test_7c_symlinks_planted_in_dest_are_never_followed(self):
        elsewhere = self.fresh_dir("elsewhere")
        for mode in ("rename", "overwrite", "skip"):
            d = self.fresh_dir("planted-" + mode)
            os.symlink(elsewhere, os.path.join(d, "shared"))
            r = self.recall("restore", "--host", HOST, "--on-conflict", mode, self.S("shared"), d)
            self.assertEqual(os.listdir(elsewhere), [], f"--on-conflict {mode}: restore wrote through a symlink in "
                                                        f"DEST: {show(r)}")
            if mode == "overwrite":  # the link itself is replaced by the restored directory
                self.assertTrue(os.path.isdir(os.path.join(d, "shared")) and
                                not os.path.islink(os.path.join(d, "shared")), f"{mode}: link replaced: {show(r)}")
            else:
                self.assertTrue(os.path.islink(os.path.join(d, "shared")), f"{mode}: the planted link is left alone")
            if r.returncode != 0:
                self.assert_one_line_error(r, what=f"restore onto a planted symlink ({mode})")
            elif mode == "rename":
                self.assertTrue(os.path.isfile(os.path.join(d, "shared.recall-1", "team-plan.txt")),
                                f"rename: restored beside the link: {os.listdir(d)}")
        victim = os.path.join(elsewhere, "victim.txt")
        write(victim, b"must stay\n")
        d = self.fresh_dir("planted-file")
        os.mkdir(os.path.join(d, "shared"))
        os.symlink(victim, os.path.join(d, "shared", "team-plan.txt"))
        r = self.recall("restore", "--host", HOST, "--on-conflict", "overwrite", self.S("shared"), d)
        self.assertEqual(slurp(victim), b"must stay\n", f"overwrite followed a symlink: {show(r)}")
        if r.returncode == 0:
            p = os.path.join(d, "shared", "team-plan.txt")
            self.assertFalse(os.path.islink(p), "overwrite replaces the link itself")
            self.assertEqual(slurp(p), b"staff only plan\n")
        # One level down: DEST/home is a real directory, DEST/home/alice a link to elsewhere.
        for mode in ("rename", "overwrite"):
            d = self.fresh_dir("planted-deep-" + mode)
            os.mkdir(os.path.join(d, "home"))
            os.symlink(elsewhere, os.path.join(d, "home", "alice"))
            r = self.recall("restore", "--host", HOST, "--on-conflict", mode, self.S("home"), d)
            self.assertEqual(sorted(os.listdir(elsewhere)), ["victim.txt"],
                             f"--on-conflict {mode}: restore of home/ wrote through DEST/home/alice: {show(r)}")
            self.assertEqual(slurp(victim), b"must stay\n")
            if r.returncode != 0:
                self.assert_one_line_error(r, what=f"restore onto a planted symlink one level down ({mode})")

    def test_7e_symlinks_in_dests_own_path_are_followed_only_if_trusted(self):
        """Regression (issue 24): root restored through a user's symlink in DEST's path (bob's
        ~/s4 -> /etc made a root restore to ~/s4/x land in /etc/x)."""
        victim_dir = self.fresh_dir("victim-dir")  # root's, like /etc
        victim = os.path.join(victim_dir, "public.txt")
        write(victim, b"root's file\n")
        home = self.fresh_dir("bob-home", owner=BOB)
        bob_uid = pwd.getpwnam(BOB).pw_uid
        s4 = os.path.join(home, "s4")
        os.symlink(victim_dir, s4)
        os.lchown(s4, bob_uid, -1)
        for dest, mode in ((os.path.join(s4, "x"), "rename"), (s4, "overwrite"), (s4 + "/", "overwrite"),
                           (os.path.join(s4, "."), "overwrite")):
            with self.subTest(dest=dest, mode=mode):
                r = self.recall("restore", "--host", HOST, "--on-conflict", mode, self.S("public.txt"), dest)
                self.assert_one_line_error(r, (4,), f"root restore to {dest} through bob's symlink")
                self.assertIn(b"symlink owned by " + BOB.encode(), r.stderr, show(r))
                self.assertEqual(sorted(os.listdir(victim_dir)), ["public.txt"], f"{dest}: {show(r)}")
                self.assertEqual(slurp(victim), b"root's file\n", f"{dest}: another user's file replaced")
        # Deeper: a directory of bob's that is a link, under a real one; and a whole tree restored.
        os.mkdir(os.path.join(home, "real"))
        os.symlink(victim_dir, os.path.join(home, "real", "deep"))
        os.lchown(os.path.join(home, "real", "deep"), bob_uid, -1)
        r = self.recall("restore", "--host", HOST, self.S("shared"), os.path.join(home, "real", "deep", "y"))
        self.assert_one_line_error(r, (4,), "root restore of a tree through a symlink one level down")
        self.assertEqual(sorted(os.listdir(victim_dir)), ["public.txt"])
        # Links root owns are followed, and so are the caller's own.
        root_link = os.path.join(self.fresh_dir("root-links"), "to-target")
        target = self.fresh_dir("root-target")
        os.symlink(target, root_link)
        self.assert_ok(self.recall("restore", "--host", HOST, self.S("public.txt"), root_link), "root's own symlink")
        self.assertEqual(slurp(os.path.join(target, "public.txt")), PUBLIC_V[2])
        mine = os.path.join(home, "mine")
        os.mkdir(os.path.join(home, "bobs-target"))
        shutil.chown(os.path.join(home, "bobs-target"), BOB, BOB)
        os.symlink(os.path.join(home, "bobs-target"), mine)
        os.lchown(mine, bob_uid, -1)
        r = self.recall("restore", "--host", HOST, self.S("public.txt"), os.path.join(mine, "p.txt"), user=BOB)
        self.assert_ok(r, "bob restoring through his own symlink")
        self.assertEqual(slurp(os.path.join(home, "bobs-target", "p.txt")), PUBLIC_V[2])
        # ...but not another user's, for a user either (the /tmp attack turned round).
        r = self.recall("restore", "--host", HOST, self.S("public.txt"), os.path.join(s4, "z"), user=ALICE)
        self.assert_one_line_error(r, (4,), "alice restoring through bob's symlink")

    def test_7d_directory_onto_a_file_keeps_both(self):
        d = self.fresh_dir("dir-vs-file")
        write(os.path.join(d, "shared"), b"i am a file\n")
        r = self.recall("restore", "--host", HOST, self.S("shared"), d)
        self.assert_ok(r, "restore of a directory whose name is taken by a file (default rename)")
        self.assertEqual(slurp(os.path.join(d, "shared")), b"i am a file\n")
        self.assertEqual(slurp(os.path.join(d, "shared.recall-1", "team-plan.txt")), b"staff only plan\n",
                         f"the directory must be restored as shared.recall-1: {os.listdir(d)}")

    # ---- 8: hostile input ------------------------------------------------------------------

    def test_8a_hostile_queries(self):
        cases = [
            (("ls", "--host", HOST, "doc"), (2,), "relative path"),
            (("ls", "--host", HOST, self.src + "/home/../../../../../etc"), (2, 3), "path with .."),
            (("ls", "--host", HOST, "/" + "a" * 5000), (2, 3), "5000-byte path"),
            (("ls", "--host", HOST, self.src + "/" + "b" * 300), (2, 3), "300-byte name"),
            (("ls", "--host", "no-such-host", self.src), (3,), "unknown host"),
            (("ls", "--host", HOST, "--at", "yesterday", self.src), (2,), "bad --at"),
            (("ls", "--host", HOST, "--at", "2025-13-45T99:00:00Z", self.src), (2,), "impossible --at"),
            (("ls", "--host", HOST, "--at", T0, self.src), (2, 3), "--at before the first point"),
            (("ls", "--host", HOST, self.src + "/no/such/dir"), (3,), "missing path"),
            (("cat", "--host", HOST, self.src + "/doc"), (2,), "cat of a directory"),
            (("cat", "--host", HOST, self.src + "/doc/nope"), (3,), "cat of a missing file"),
            (("versions", "--host", HOST, self.src + "/nope"), (3,), "versions of a missing file"),
            (("versions", "--host", "no-such-host", self.src), (3,), "versions on an unknown host"),
            (("points", "--host", "no-such-host"), (3,), "points of an unknown host"),
            (("search", ""), (2,), "empty search"),
            (("search", "x", "--type", "bogus"), (2,), "bad --type"),
            (("restore", "--host", HOST, self.S("public.txt"), "/nonexistent-dir/x/y"), None, "bad DEST"),
            (("restore", "--host", HOST, "--at", "yesterday", self.S("public.txt"), self.base), (2,), "restore bad --at"),
            (("restore", "--host", HOST, self.src + "/nope", self.base), (3,), "restore of a missing path"),
        ]
        for args, codes, what in cases:
            with self.subTest(what):
                r = self.recall(*args)
                self.assert_one_line_error(r, codes, what)
                self.assertEqual(r.stdout, b"", f"{what}: nothing on stdout: {show(r)}")
                self.assert_daemon_alive(f"after {what}")
        r = subprocess.run([RECALL, "--socket", os.path.join(self.base, "no-such.sock"), "status"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, env=clean_env())
        self.assert_one_line_error(r, what="no daemon behind the socket")

    def test_8b_hostile_imports(self):
        before, pts = self.catalog(), self.points(HOST)
        f = os.path.join(self.base, "a-file")
        write(f, b"not a directory\n")
        cases = [
            (("import", "dir", "--host", HOST, "--at", T1_5, self.src), (6,), "import older than the newest point"),
            (("import", "dir", "--host", HOST, "--at", T3, self.src), (6,), "import at the newest point again"),
            (("import", "dir", "--host", HOST, "--at", T5, self.base + "/no-such-dir"), None, "nonexistent dir"),
            (("import", "dir", "--host", HOST, "--at", T5, f), None, "import of a file"),
            (("import", "dir", "--host", HOST, "--at", "yesterday", self.src), (2,), "import with a bad --at"),
            (("import", "dir", "--host", "", "--at", T5, self.src), (2,), "import with an empty host"),
            (("import", "dir", "--host", HOST, "--at", T5, "--as", "rel/path", self.src), (2,), "relative --as"),
        ]
        for args, codes, what in cases:
            with self.subTest(what):
                r = self.recall(*args, timeout=120)
                self.assert_one_line_error(r, codes, what)
                self.assert_daemon_alive(f"after {what}")
        r = self.recall("import", "dir", "--host", HOST, "--at", T1_5, self.src, timeout=120)
        self.assertRegex(r.stderr.decode(errors="replace").lower(), "older|newer|newest",
                         f"refusing an old point says why: {show(r)}")
        self.assertEqual(self.points(HOST), pts, "failed imports add no point")
        self.assertEqual(self.catalog(), before, "failed imports leave the catalog as it was")

    def test_8c_second_daemon_refused(self):
        r = subprocess.run([RECALLD, "--home", self.home], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=10, env=clean_env())
        self.assertNotEqual(r.returncode, 0, f"a second recalld on the same home must refuse: {show(r)}")
        self.assertIn(b"already running", r.stderr, show(r))
        self.assert_daemon_alive("after a second recalld was refused")

    def test_8d_odd_names_survive(self):
        listing = self.rj("ls", "--host", HOST, "--at", T3, self.S("odd"))
        names = {raw(e, "name") for e in listing["entries"]}
        for n in ODD_NAMES:
            self.assertIn(n, names, f"ls lists {n!r} byte-exactly")
        p = os.path.join(self.bsrc, b"odd", ODD_NAMES[0])
        r = self.recall("cat", "--host", HOST, p)
        self.assert_ok(r, "cat of a non-UTF-8 name")
        self.assertEqual(r.stdout, self.odd_content[ODD_NAMES[0]])
        d = self.fresh_dir("odd")
        r = self.recall("restore", "--host", HOST, "--at", T2, self.S("odd"), d)
        self.assert_ok(r, "restore of odd names")
        self.assert_restored_tree(Snapshot(self.S("odd")), os.path.join(d, "odd"), "odd names (unchanged since T1)")
        got = {n: slurp(os.path.join(b(d), b"odd", n)) for n in ODD_NAMES}
        self.assertEqual(got, self.odd_content, "odd-named files restored byte-exactly")
        self.assertTrue(stat.S_ISFIFO(os.lstat(os.path.join(d, "odd", "pipe")).st_mode), "the fifo is restored")

    def test_8e_names_cannot_forge_listings(self):
        """Regression (issue 24): a newline in a name was printed raw by ls, search and error
        lines, and a backslash as-is, so that 'back\\xff' and 'back' + byte 0xff looked alike."""
        listing = self.rj("ls", "--host", HOST, "--at", T3, self.S("odd"))
        r = self.recall("ls", "--host", HOST, "--at", T3, self.S("odd"))
        self.assert_ok(r, "ls of odd names")
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), len(listing["entries"]), f"one line per entry: {r.stdout!r}")
        self.assertTrue(any(l.endswith(b" line\\x0abreak.txt") for l in lines), r.stdout)
        self.assertTrue(any(l.endswith(b" back\\\\xff") for l in lines), r.stdout)
        self.assertTrue(any(l.endswith(b" back\\xff") for l in lines), r.stdout)
        self.assertTrue(any(l.endswith(b" caf\\xe9-latin1.txt") for l in lines), r.stdout)
        r = self.recall("search", "break.txt", "--host", HOST)
        self.assert_ok(r, "search for a name with a newline")
        hits = [l for l in r.stdout.splitlines() if l]
        self.assertTrue(hits and all(l.endswith(b"/odd/line\\x0abreak.txt") for l in hits), r.stdout)
        r = self.recall("cat", "--host", HOST, self.S("odd") + "/no\nrecall: such\\file")
        self.assert_one_line_error(r, (3,), "an error naming a path with a newline")
        self.assertIn(b"no\\x0arecall: such\\\\file", r.stderr, show(r))

    def test_8f_time_arguments(self):
        """Regression (issue 24): impossible dates were taken for later ones, '' meant latest and
        real dates outside 1677-2262 were 'not a time'."""
        for at in ("2025-02-30", "", "2025-02-29T10:00:00Z", "2025-04-31"):
            with self.subTest(at=at):
                r = self.recall("ls", "--host", HOST, "--at", at, self.src)
                self.assert_one_line_error(r, (2,), f"--at {at!r}")
                self.assertIn(b"not a time", r.stderr, show(r))
        r = self.recall("ls", "--host", HOST, "--at", "1600-01-01", self.src)
        self.assert_one_line_error(r, (3,), "--at before the first point")
        self.assertIn(b"1600-01-01T00:00:00Z", r.stderr, show(r))
        j = self.rj("ls", "--host", HOST, "--at", "9999-12-31", self.src)
        self.assertEqual(j["point"]["at"], T3, "a far future --at names the newest point")



# =============================================================================================
# Admins may import; nobody else.
# =============================================================================================

class AdminImportTest(E2EBase):
    @classmethod
    def prepare(cls):
        cls.src = os.path.join(cls.base, "small")
        mkdir(cls.src)
        write(os.path.join(cls.src, "f.txt"), b"small\n")

    def test_6b_only_admins_import(self):
        for u in (ALICE, BOB, CAROL):
            r = self.recall("import", "dir", "--host", "by-" + u, "--at", T1, self.src, user=u)
            self.assert_one_line_error(r, (4,), f"import as {u}")
            self.assertIn(b"admin", r.stderr.lower(), f"the refusal mentions admins: {show(r)}")
        self.assertEqual(self.rj("hosts")["hosts"], [], "refused imports create no host")
        j = self.rj("import", "dir", "--host", "by-dave", "--at", T1, "--as", "/srv/data", self.src, user=DAVE)
        self.assertEqual((j["state"], j["report"]["kind"]), ("complete", "full"), j)
        self.assertEqual(len(self.points("by-dave")), 1)
        names = [e["name"] for e in self.rj("ls", "--host", "by-dave", "/srv/data", user=CAROL)["entries"]]
        self.assertEqual(names, ["f.txt"], "--as /srv/data records the tree under /srv/data")
        r = self.recall("cat", "--host", "by-dave", "/srv/data/f.txt", user=CAROL)
        self.assert_ok(r, "a file imported by an admin is readable by others as on the host")
        self.assertEqual(r.stdout, b"small\n")
        r = self.recall("ls", "--host", "by-dave", self.src)
        self.assert_one_line_error(r, (3,), "with --as, the source path itself is not recorded")


# =============================================================================================
# A killed or cancelled import leaves nothing behind.
# =============================================================================================

class DamagedPoolTest(E2EBase):
    """Regression (issue 24): damage found after a file's first bytes had gone out reached the
    client as "lost the connection" (exit 1), the reason only in recalld's log."""
    HOST = "damaged"

    @classmethod
    def prepare(cls):
        cls.src = os.path.join(cls.base, "src")
        mkdir(cls.src)
        cls.data = random.Random(24).randbytes(12 << 20)  # incompressible: many chunks, in order
        write(os.path.join(cls.src, "big.bin"), cls.data)
        for d, mode in (("a-dir", 0o751), ("a-dir/inner", 0o555)):  # listed before big.bin
            mkdir(os.path.join(cls.src, d))
            write(os.path.join(cls.src, d, "small.txt"), b"small\n")
        for d, mode in (("a-dir/inner", 0o555), ("a-dir", 0o751)):
            os.chmod(os.path.join(cls.src, d), mode)
        cls.import_dir(cls.HOST, cls.src, T1)
        pool = os.path.join(cls.home, "pool")
        (vol,) = [n for n in os.listdir(pool) if n.endswith(".vol")]
        cls.volser = vol[:-4]
        path = os.path.join(pool, vol)
        with open(path, "r+b") as f:  # three quarters in: a chunk well after the first
            f.seek(os.path.getsize(path) * 3 // 4)
            f.write(b"\0" * 64)

    def test_damage_midway_is_the_same_one_line_error(self):
        big = os.path.join(self.src, "big.bin")
        r = self.recall("cat", "--host", self.HOST, big)
        self.assert_one_line_error(r, (7,), "cat of a file damaged three quarters in")
        self.assertGreater(len(r.stdout), 0, "the first bytes went out before the damage was met")
        self.assertTrue(self.data.startswith(r.stdout), "what went out was right")
        self.assertIn(self.volser.encode(), r.stderr, f"the error names the volume: {show(r)}")
        self.assertNotIn(b"lost the connection", r.stderr, show(r))
        d = tempfile.mkdtemp(dir=self.base)
        os.chmod(d, 0o755)
        r2 = self.recall("restore", "--host", self.HOST, big, d)
        self.assert_one_line_error(r2, (7,), "restore of a file damaged three quarters in")
        self.assertIn(self.volser.encode(), r2.stderr, show(r2))
        self.assertEqual(os.listdir(d), [], "nothing half-written is left")
        self.assert_daemon_alive("after a damaged read")

    def test_a_restore_that_stops_early_leaves_directories_with_their_modes(self):
        """Also seen in issue 24: a restore that stopped partway left its directories at 0700."""
        d = tempfile.mkdtemp(dir=self.base)
        os.chmod(d, 0o755)
        r = self.recall("restore", "--host", self.HOST, self.src, d)
        self.assert_one_line_error(r, (7,), "restore of a tree holding a damaged file")
        top = os.path.join(d, "src")
        self.assertEqual(slurp(os.path.join(top, "a-dir", "inner", "small.txt")), b"small\n")
        for rel, mode in (("a-dir", 0o751), ("a-dir/inner", 0o555)):
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(top, rel)).st_mode), mode, rel)
        self.assertFalse(os.path.exists(os.path.join(top, "big.bin")), "nothing half-written is left")


class KillTest(E2EBase):
    HOST = "victim"

    @classmethod
    def prepare(cls):
        cls.src = os.path.join(cls.base, "src")
        copy_doc_subset(cls.src, 150)
        cls.import_dir(cls.HOST, cls.src, T1)

    def pool_volumes(self):
        pool = os.path.join(self.home, "pool")
        return {n for n in os.listdir(pool) if n.endswith(".vol")}

    def test_5a_kill9_mid_import(self):
        before, pts, vols = self.catalog(), self.points(self.HOST), self.pool_volumes()
        cli = self.start_import(self.HOST, SLOW_TREE, T2)
        try:
            job = self.wait_for_progress(cli)
            deadline = time.monotonic() + 10  # give the import a chance to open a volume
            while not (self.pool_volumes() - vols) and time.monotonic() < deadline:
                time.sleep(0.05)
            written = self.pool_volumes() - vols
            self.daemon.kill9()
            try:
                out, err = cli.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                cli.kill()
                cli.communicate()
                self.fail("`recall import` hung after recalld was killed")
        finally:
            if cli.poll() is None:
                cli.kill()
                cli.wait(10)
        self.assertGreater(cli.returncode, 0, f"import CLI after the daemon died: exit {cli.returncode} {err!r}")
        self.assertEqual(len(err.splitlines()), 1, f"one line of error from the import CLI: {err!r}")
        self.assertIn(b"recalld stopped while job", err, "the CLI says the daemon stopped (issue 24)")
        self.assertTrue(written, f"the killed import had written a volume (progress {job['progress']})")

        self.daemon.start()
        self.assertEqual(self.catalog(), before, "after kill -9 the catalog counts are as before")
        self.assertEqual(self.points(self.HOST), pts, "after kill -9 the host has the same points")
        orphans = os.path.join(self.home, "orphans")
        moved = set(os.listdir(orphans)) if os.path.isdir(orphans) else set()
        self.assertEqual(self.pool_volumes() & written, set(), "the killed import's volumes left the pool")
        self.assertTrue(written <= moved, f"volumes {written} moved to orphans/ (found {moved})")
        log = self.daemon.log()
        for v in written:
            self.assertIn(v, log, f"recalld says it moved {v} aside")
        self.assertIn("orphans", log)
        # And the next import works, forward-merging from the last good point.
        job = self.import_dir(self.HOST, self.src, T3)
        self.assertEqual(job["report"]["kind"], "incremental", job["report"])
        self.assertEqual(job["report"]["files_read"], 0, f"nothing changed since T1: {job['report']}")
        self.assertEqual([p["at"] for p in self.points(self.HOST)], [T1, T3])

    def test_5b_ctrl_c_cancels(self):
        # The first import of a new host: afterwards the host must not exist at all.
        before, hosts = self.catalog(), self.rj("hosts")["hosts"]
        cli = self.start_import("newcomer", SLOW_TREE, T4)
        try:
            self.wait_for_progress(cli)
            t0 = time.monotonic()
            cli.send_signal(signal.SIGINT)
            out, err = cli.communicate(timeout=30)
            took = time.monotonic() - t0
        finally:
            if cli.poll() is None:
                cli.kill()
                cli.wait(10)
        self.assertEqual(cli.returncode, 130, f"Ctrl-C during an import exits 130: {err!r}")
        self.assertEqual(len(err.splitlines()), 1, f"one line on stderr: {err!r}")
        self.assertIn(b"cancel", err.lower(), err)
        self.assertLess(took, 15, "cancelling takes effect promptly")
        self.assertEqual(self.running_jobs(), [], "no job left running after Ctrl-C")
        self.assertEqual(self.rj("hosts")["hosts"], hosts, "a cancelled first import leaves no host behind")
        self.assert_one_line_error(self.recall("points", "--host", "newcomer"), (3,), "points of the cancelled host")
        self.assertEqual(self.catalog(), before, "a cancelled import leaves the catalog as it was")
        self.assert_daemon_alive("after a cancelled import")

    def test_5c_sigterm_during_import(self):
        before, pts = self.catalog(), self.points(self.HOST)
        cli = self.start_import(self.HOST, SLOW_TREE, T5)
        try:
            self.wait_for_progress(cli)
            self.daemon.stop()  # SIGTERM: exit 0 within 10 s, even with an import running
            try:
                out, err = cli.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                self.fail("`recall import` hung after recalld shut down")
        finally:
            if cli.poll() is None:
                cli.kill()
                cli.wait(10)
        self.assertGreater(cli.returncode, 0, f"the import CLI fails when recalld shuts down: {err!r}")
        self.assertEqual(len(err.splitlines()), 1, f"one line on stderr: {err!r}")
        self.daemon.start()
        self.assertEqual(self.points(self.HOST), pts, "an import interrupted by shutdown adds no point")
        self.assertEqual(self.catalog(), before, "an import interrupted by shutdown leaves the catalog as it was")


# =============================================================================================
# Readers are served while an import runs.
# =============================================================================================

class ConcurrencyTest(E2EBase):
    HOST = "busy"

    @classmethod
    def prepare(cls):
        cls.src = os.path.join(cls.base, "src")
        copy_doc_subset(cls.src, 300)
        cls.import_dir(cls.HOST, cls.src, T1)

    def test_9_clients_answered_during_import(self):
        baseline = self.rj("search", "copyright", "--host", self.HOST, "--limit", "1000")
        self.assertGreater(baseline["total"], 0)
        listing = self.rj("ls", "--host", self.HOST, self.src)
        cli = self.start_import(self.HOST, SLOW_TREE, T2)
        results, lock = [], threading.Lock()

        def client(i):
            for k in range(6):
                op = (i + k) % 3
                t0 = time.monotonic()
                if op == 0:
                    r = self.recall("search", "copyright", "--host", self.HOST, "--limit", "1000", "--json", timeout=30)
                elif op == 1:
                    r = self.recall("ls", "--host", self.HOST, self.src, "--json", timeout=30)
                else:
                    r = self.recall("search", "chan", "--limit", "20", "--json", timeout=30)
                took = time.monotonic() - t0
                with lock:
                    results.append((i, op, took, r))

        try:
            self.wait_for_progress(cli, new_bytes=False)
            threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            still_running = [j for j in self.running_jobs() if j["state"] == "running"]
        finally:
            if cli.poll() is None:
                cli.send_signal(signal.SIGINT)
                try:
                    cli.communicate(timeout=30)
                except subprocess.TimeoutExpired:
                    cli.kill()
                    cli.communicate()
        self.assertEqual(len(results), 48, "every client finished")
        failed = [(i, op, show(r)) for i, op, _, r in results if r.returncode != 0]
        self.assertFalse(failed, f"clients failed during the import: {failed[:3]}")
        slow = sorted(((took, i, op) for i, op, took, _ in results), reverse=True)
        self.assertLess(slow[0][0], 5.0, f"every answer under 5 s during an import; slowest: {slow[:5]}")
        for i, op, _, r in results:
            j = json.loads(r.stdout)
            if op == 0:
                self.assertEqual(j["total"], baseline["total"], "search sees the last committed state")
            elif op == 1:
                self.assertEqual(j["entries"], listing["entries"], "ls sees the last committed state")
        self.assertTrue(still_running, "the import was still running when the clients were done "
                                       "(otherwise this test proves nothing)")
        self.assertEqual(cli.returncode, 130, "the import was cancelled at the end")
        self.assertEqual(len(self.points(self.HOST)), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
