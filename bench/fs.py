#!/usr/bin/env python3
"""Filesystem benchmark of issue 3: recall-fs vs squashfuse_ll, restic mount and the plain directory.

One run, all tools side by side, over day 5 of the spine's five-day kernel-tree dataset plus one
128 MiB incompressible file (big/blob-128MiB.bin, the same in all five days):
  1. builds or reuses the spine dataset (bench/make_dataset.py) and the bench trees
     WORK/fs/days/day1..day5 (hard-link copies of WORK/days/dayN plus the blob),
  2. builds or reuses the peers' data: a Recall home WORK/fs/recall-home (five `recall import dir`
     of one fixed path WORK/fs/live, host `bench`, 2026-01-01..05T00:00:00Z), a restic repo
     WORK/fs/restic-repo (same path, same days) and a squashfs image of day 5,
  3. mounts each tool once untimed to check it (entries `find` prints, SHA-256 of the blob and of
     the largest source file read through the mount),
  4. COLD: per repetition and tool, for each of mount+first `ls -la`, `find`, `du -s`, read of the
     blob, read of the largest source file: sync, drop caches, fresh mount, the one measurement,
     unmount,
  5. WARM: per tool one mount; each measurement once to prime, then timed repeatedly,
  6. peak memory (VmHWM) of every mount process, and of recalld (restarted before the runs),
  7. writes WORK/fs-results-<stamp>.json and prints markdown tables with goals (PASS/FAIL).

Python 3 standard library only. Run as root (drop_caches, FUSE mounts).
"""
import argparse
import datetime
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, HERE)
import spine  # noqa: E402  (Recall/Restic drivers, dataset loader, machine description)

DAYS = 5
DAY = 5                      # the day every tool serves
BLOB_REL = "big/blob-128MiB.bin"
BLOB_SIZE = 128 << 20
BLOB_MTIME = datetime.datetime(2026, 1, 1, 9, 0, 0, tzinfo=datetime.timezone.utc).timestamp()
TREES_VERSION = 1
MKSQUASHFS_OPTS = ["-comp", "zstd", "-noappend"]
READ_BLOCK = 1 << 20
MOUNT_TIMEOUT = 120
TOOLS = ["plain", "squashfuse_ll", "restic", "recall-fs"]
ALIASES = {"plain": "plain", "dir": "plain", "squashfuse": "squashfuse_ll", "squashfuse_ll": "squashfuse_ll",
           "sqfs": "squashfuse_ll", "squashfs": "squashfuse_ll", "restic": "restic", "recall": "recall-fs",
           "recall-fs": "recall-fs", "recallfs": "recall-fs"}
MEASURES = ["find", "du", "read_blob", "read_largest"]
MEM_GOAL = 50e6              # "recall-fs under 50 MB resident", MB = 10^6 bytes


def log(msg):
    print(f"[fs {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[:3]


def vm_status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "VmRSS"):
                    out[k] = int(v.split()[0]) * 1024
    except OSError:
        pass
    return out


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while True:
            b = f.read(READ_BLOCK)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def mounted(path):
    """True if path is a mount point in /proc/self/mounts (also sees dead FUSE mounts)."""
    path = os.path.realpath(path)
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 1 and fields[1].replace("\\040", " ") == path:
                return True
    return False


def fuse_unmount(mnt):
    """fusermount3 -u, retried while busy; lazy unmount as the last resort."""
    for _ in range(20):
        if not mounted(mnt):
            return True
        if subprocess.run(["fusermount3", "-u", mnt], stderr=subprocess.DEVNULL).returncode == 0:
            return True
        time.sleep(0.1)
    if mounted(mnt):
        subprocess.run(["fusermount3", "-uz", mnt], stderr=subprocess.DEVNULL)
        return False
    return True


# ---------------------------------------------------------------- dataset

def make_blob(path):
    """128 MiB of SHAKE-256 output: deterministic, incompressible, independent of Python's RNG."""
    tmp = path + ".tmp"
    h = hashlib.sha256()
    with open(tmp, "wb") as f:
        for i in range(BLOB_SIZE // (1 << 20)):
            b = hashlib.shake_256(f"recall-bench-blob:{i}".encode()).digest(1 << 20)
            h.update(b)
            f.write(b)
    os.chmod(tmp, 0o644)
    os.utime(tmp, (BLOB_MTIME, BLOB_MTIME))
    os.rename(tmp, path)
    return h.hexdigest()


def prepare_trees(work, fsdir, ds, rebuild):
    """WORK/fs/days/dayN = hard-link copy of WORK/days/dayN + big/blob-128MiB.bin. Returns the trees key."""
    days_dir = os.path.join(fsdir, "days")
    marker = os.path.join(days_dir, "trees.json")
    want = {"version": TREES_VERSION, "seed": ds["seed"], "meta_digests": [d["meta_digest"] for d in ds["days"]]}
    if not rebuild and os.path.exists(marker):
        with open(marker) as f:
            have = json.load(f)
        if {k: have.get(k) for k in want} == want and all(
                os.path.isfile(os.path.join(days_dir, f"day{d}", BLOB_REL)) for d in range(1, DAYS + 1)):
            log(f"reusing bench trees {days_dir}")
            return have
    log(f"building bench trees in {days_dir}")
    if os.path.exists(days_dir):
        shutil.rmtree(days_dir)
    os.makedirs(days_dir)
    blob = os.path.join(fsdir, "blob-128MiB.bin")
    blob_sha = make_blob(blob)
    for d in range(1, DAYS + 1):
        src = os.path.join(work, "days", f"day{d}")
        dst = os.path.join(days_dir, f"day{d}")
        run(["cp", "-al", src, dst + ".tmp"])
        big = os.path.join(dst + ".tmp", os.path.dirname(BLOB_REL))
        os.mkdir(big, 0o755)
        os.link(blob, os.path.join(dst + ".tmp", BLOB_REL))
        os.utime(big, (BLOB_MTIME, BLOB_MTIME))
        st = os.stat(src)
        os.utime(dst + ".tmp", (st.st_atime, st.st_mtime))  # the root's mtime as in the spine tree
        os.rename(dst + ".tmp", dst)
    want["blob_sha256"] = blob_sha
    with open(marker, "w") as f:
        json.dump(want, f, indent=1)
    return want


def tree_stats(root):
    """Entries find prints (root included), regular files, bytes, largest regular file outside big/."""
    n, files, size, largest = 1, 0, 0, (0, None)
    for dirpath, dirs, names in os.walk(root):
        n += len(dirs) + len(names)
        for name in names:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if not os.path.islink(p):
                files += 1
                size += st.st_size
                rel = os.path.relpath(p, root)
                if st.st_size > largest[0] and not rel.startswith("big/"):
                    largest = (st.st_size, rel)
    return {"entries": n, "files": files, "bytes": size, "largest": {"path": largest[1], "size": largest[0]}}


# ---------------------------------------------------------------- peers' data

def marker_ok(path, key):
    if not os.path.exists(path):
        return False
    with open(path) as f:
        return json.load(f) == key


def write_marker(path, key):
    with open(path + ".tmp", "w") as f:
        json.dump(key, f, indent=1)
    os.rename(path + ".tmp", path)


def recall_points(recall):
    dt, p = recall.cli_run(["points", "--host", "bench"])
    if p.returncode != 0:
        return None
    doc = json.loads(p.stdout)
    pts = doc.get("points", doc) if isinstance(doc, dict) else doc
    out = []
    for x in pts:
        out.append(x.get("at") or x.get("time") or x.get("point") if isinstance(x, dict) else x)
    return out


def prepare_imports(fsdir, trees_key, recall, restic, rebuild):
    """Imports the five days into Recall and/or restic unless their markers say they are complete."""
    live = os.path.join(fsdir, "live")
    res = {}
    rec_marker = os.path.join(fsdir, "recall-home.done")
    rst_marker = os.path.join(fsdir, "restic-repo.done")
    key = {"trees": trees_key, "live": live, "days": DAYS}
    need_recall = need_restic = False
    if recall:
        need_recall = rebuild or not marker_ok(rec_marker, key) or not os.path.isdir(recall.home)
        if not need_recall:
            try:
                recall.start(fresh=False)
                pts = recall_points(recall)
                if pts != [spine.at_of(d) for d in range(1, DAYS + 1)]:
                    log(f"recall home has points {pts}; re-importing")
                    need_recall = True
            except RuntimeError as e:
                log(f"recalld does not start on the existing home ({e}); re-importing")
                need_recall = True
            recall.stop()
        if need_recall:
            if os.path.exists(rec_marker):
                os.unlink(rec_marker)
            recall.start(fresh=True)
    if restic:
        need_restic = rebuild or not marker_ok(rst_marker, key) or not os.path.isdir(restic.repo)
        if need_restic:
            if os.path.exists(rst_marker):
                os.unlink(rst_marker)
            restic.init()
    if not (need_recall or need_restic):
        log("reusing the Recall home and the restic repo")
        return res
    res["recall_days"], res["restic_days"] = [], []
    try:
        for day in range(1, DAYS + 1):
            run(["rsync", "-a", "--delete", os.path.join(fsdir, "days", f"day{day}") + "/", live + "/"])
            run(["sync"])
            if need_recall:
                dt, doc = recall.import_day("bench", day, live)
                run(["sync"])
                res["recall_days"].append({"day": day, "wall_s": round(dt, 3),
                                           "seconds": doc.get("report", {}).get("seconds")})
                log(f"day{day}: recall import {dt:.2f} s")
            if need_restic:
                dt, summ, rss = restic.backup(day, live)
                run(["sync"])
                res["restic_days"].append({"day": day, "wall_s": round(dt, 3), "max_rss": rss})
                log(f"day{day}: restic backup {dt:.2f} s")
    finally:
        if need_recall:
            recall.stop()
    if need_recall:
        write_marker(rec_marker, key)
    if need_restic:
        write_marker(rst_marker, key)
    return res


def prepare_squashfs(fsdir, trees_key, rebuild):
    img = os.path.join(fsdir, f"day{DAY}.sqfs")
    marker = img + ".json"
    src = os.path.join(fsdir, "days", f"day{DAY}")
    cmd = ["mksquashfs", src, img] + MKSQUASHFS_OPTS
    key = {"trees": trees_key, "cmd": cmd}
    if not rebuild and os.path.exists(img) and os.path.exists(marker):
        with open(marker) as f:
            rec = json.load(f)
        if rec.get("key") == key:
            log(f"reusing {img}")
            return rec
    log(f"building {img}: {' '.join(cmd)}")
    if os.path.exists(marker):
        os.unlink(marker)
    t0 = time.perf_counter()
    run(cmd + ["-no-progress", "-quiet"], stdout=subprocess.DEVNULL)
    rec = {"key": key, "cmd": " ".join(cmd), "build_s": round(time.perf_counter() - t0, 1),
           "image_bytes": os.path.getsize(img), "mksquashfs": mksquashfs_version()}
    write_marker(marker, rec)
    return rec


def mksquashfs_version():
    p = subprocess.run(["mksquashfs", "-version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.stdout.splitlines()[0] if p.stdout else None


# ---------------------------------------------------------------- tools

class Mount:
    def __init__(self, tool, proc, root, mount_s):
        self.tool, self.proc, self.root, self.mount_s = tool, proc, root, mount_s


ACTIVE = []  # mounts to undo on exit


class Tool:
    name = "?"
    fuse = True

    def __init__(self, mnt, logdir):
        self.mnt = mnt
        self.logf = open(os.path.join(logdir, f"{self.name}.log"), "a")
        self.rel = None  # day-5 root relative to the mount point, found by the probe mount

    def argv(self):
        raise NotImplementedError

    def env(self):
        return None

    def candidates(self):
        """Possible day-5 roots below the mount point (probe mount only)."""
        return [""]

    def mount(self):
        if not self.fuse:
            return Mount(self, None, self.mnt, None)
        if mounted(self.mnt):
            fuse_unmount(self.mnt)
        os.makedirs(self.mnt, exist_ok=True)
        root = None if self.rel is None else os.path.join(self.mnt, self.rel) if self.rel else self.mnt
        t0 = time.perf_counter()
        # own session: a Ctrl-C reaches only this script, which then unmounts in order
        proc = subprocess.Popen(self.argv(), env=self.env(), stdout=self.logf, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        m = Mount(self, proc, root, None)
        ACTIVE.append(m)
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {proc.returncode} before the mount was ready; "
                                   f"see {self.logf.name}")
            if time.perf_counter() - t0 > MOUNT_TIMEOUT:
                raise RuntimeError(f"{self.name}: day-5 root not stat-able within {MOUNT_TIMEOUT} s")
            if root is not None:
                try:
                    if root != self.mnt or os.path.ismount(self.mnt):
                        os.stat(root)
                        m.mount_s = time.perf_counter() - t0
                        return m
                except OSError:
                    pass
            elif os.path.ismount(self.mnt):
                for c in self.candidates():
                    r = os.path.join(self.mnt, c) if c else self.mnt
                    if os.path.isfile(os.path.join(r, BLOB_REL)):
                        self.rel = c
                        m.root = r
                        m.mount_s = time.perf_counter() - t0
                        return m
                if time.perf_counter() - t0 > 10:
                    raise RuntimeError(f"{self.name}: mounted, but no day-5 root among {self.candidates()}")
            time.sleep(0.001)

    def unmount(self, m):
        if m.proc is None:
            return
        ok = fuse_unmount(self.mnt)
        try:
            m.proc.wait(15)
        except subprocess.TimeoutExpired:
            m.proc.terminate()
            try:
                m.proc.wait(10)
            except subprocess.TimeoutExpired:
                m.proc.kill()
                m.proc.wait()
        if m in ACTIVE:
            ACTIVE.remove(m)
        if not ok:
            raise RuntimeError(f"{self.name}: fusermount3 -u {self.mnt} failed; lazily unmounted")


class Plain(Tool):
    name = "plain"
    fuse = False

    def __init__(self, day_dir, logdir):
        super().__init__(day_dir, logdir)
        self.rel = ""
        self.command = f"(the directory {day_dir})"


class Squashfuse(Tool):
    name = "squashfuse_ll"

    def __init__(self, mnt, logdir, img):
        super().__init__(mnt, logdir)
        self.img = img
        self.rel = ""
        self.command = " ".join(["squashfuse_ll", "-f", img, mnt])

    def argv(self):
        return ["squashfuse_ll", "-f", self.img, self.mnt]


class ResticMount(Tool):
    name = "restic"

    def __init__(self, mnt, logdir, restic, live):
        super().__init__(mnt, logdir)
        self.restic = restic
        self.live = live
        self.command = " ".join(["restic", "-r", restic.repo, "--cache-dir", restic.cache, "mount", mnt])

    def argv(self):
        return ["restic", "-r", self.restic.repo, "--cache-dir", self.restic.cache, "mount", self.mnt]

    def env(self):
        return self.restic.env

    def find_snapshot(self):
        p = run(["restic", "-r", self.restic.repo, "--cache-dir", self.restic.cache, "snapshots", "--json",
                 "--host", "bench"], env=self.restic.env, stdout=subprocess.PIPE, text=True)
        snaps = sorted(json.loads(p.stdout), key=lambda s: s["time"])
        if len(snaps) != DAYS:
            raise RuntimeError(f"restic repo has {len(snaps)} snapshots of host bench, expected {DAYS}")
        s = snaps[DAY - 1]
        self.snapshot = {"short_id": s["short_id"], "time": s["time"], "paths": s["paths"]}
        self.rel = os.path.join("ids", s["short_id"], self.live.lstrip("/"))
        return self.snapshot


class RecallFs(Tool):
    name = "recall-fs"

    def __init__(self, mnt, logdir, binary, sock, live, extra):
        super().__init__(mnt, logdir)
        self.binary, self.sock, self.live, self.extra = binary, sock, live, extra
        self.command = " ".join([binary, mnt, "--socket", sock, "-f"] + extra)

    def argv(self):
        return [self.binary, self.mnt, "--socket", self.sock, "-f"] + self.extra

    def candidates(self):
        point = os.path.join("bench", spine.at_of(DAY))
        return [os.path.join(point, self.live.lstrip("/")), point,
                os.path.join("bench", "latest", self.live.lstrip("/")), os.path.join("bench", "latest")]


# ---------------------------------------------------------------- measurements

def timed_cmd(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=3600)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.decode(errors='replace')[-500:]}")
    return dt


def timed_read(path):
    """Sequential read in 1 MiB blocks into one buffer; returns (seconds, bytes)."""
    buf = bytearray(READ_BLOCK)
    n = 0
    t0 = time.perf_counter()
    with open(path, "rb", buffering=0) as f:
        while True:
            k = f.readinto(buf)
            if not k:
                break
            n += k
    return time.perf_counter() - t0, n


def measure(root, what, paths):
    if what == "ls":
        return timed_cmd(["ls", "-la", root])
    if what == "find":
        return timed_cmd(["find", root])
    if what == "du":
        return timed_cmd(["du", "-s", root])
    if what in ("read_blob", "read_largest"):
        dt, n = timed_read(os.path.join(root, paths[what]))
        if n != paths[what + "_size"]:
            raise RuntimeError(f"read {n} bytes of {paths[what]}, expected {paths[what + '_size']}")
        return dt
    raise ValueError(what)


def new_record(tool):
    return {"command": tool.command, "mount_cold_s": [], "mount_warm_s": [], "ls_cold_s": [], "ls_warm_s": [],
            "cold": {w: [] for w in MEASURES}, "warm": {w: [] for w in MEASURES}, "mounts": [], "errors": []}


def record_mount(rec, m):
    if m.proc is not None:
        rec["mounts"].append(vm_status(m.proc.pid))


def probe(tool, rec, paths):
    """Untimed: mount, find the day-5 root, count entries, check SHA-256 of the blob and the largest file."""
    m = tool.mount()
    try:
        rec["root"] = m.root
        p = subprocess.run(["find", m.root], stdout=subprocess.PIPE, check=True)
        rec["find_entries"] = p.stdout.count(b"\n")
        p = subprocess.run(["du", "-s", m.root], stdout=subprocess.PIPE, check=True, text=True)
        rec["du_kib"] = int(p.stdout.split()[0])
        rec["blob_sha256"] = sha256_file(os.path.join(m.root, paths["read_blob"]))
        rec["largest_sha256"] = sha256_file(os.path.join(m.root, paths["read_largest"]))
        record_mount(rec, m)
    finally:
        tool.unmount(m)


def cold_cycle(tool, rec, what, paths):
    drop_caches()
    m = tool.mount()
    try:
        if what == "ls":
            if m.mount_s is not None:
                rec["mount_cold_s"].append(m.mount_s)
            rec["ls_cold_s"].append(measure(m.root, "ls", paths))
        else:
            rec["cold"][what].append(measure(m.root, what, paths))
        record_mount(rec, m)
    finally:
        tool.unmount(m)


def warm_mount(tool, rec, paths):
    """The warm mount of a tool (page cache warm from the cold runs) and its first `ls -la`."""
    m = tool.mount()
    rec["_warm_mount"] = m
    if m.mount_s is not None:
        rec["mount_warm_s"].append(m.mount_s)
    rec["ls_warm_s"].append(measure(m.root, "ls", paths))


def warm_run(tool, rec, what, paths, keep):
    """One warm measurement on the tool's warm mount; keep=False is the priming run."""
    dt = measure(rec["_warm_mount"].root, what, paths)
    if keep:
        rec["warm"][what].append(dt)


def warm_unmount(tool, rec):
    m = rec.pop("_warm_mount", None)
    if m:
        record_mount(rec, m)
        tool.unmount(m)


def med(v):
    return statistics.median(v) if v else None


def summarize(rec, paths):
    s = {"mount_cold_ms": med(rec["mount_cold_s"]), "mount_warm_ms": med(rec["mount_warm_s"]),
         "ls_cold_ms": med(rec["ls_cold_s"]), "ls_warm_ms": med(rec["ls_warm_s"])}
    for k in list(s):
        if s[k] is not None:
            s[k] = round(s[k] * 1000, 2)
    for phase in ("cold", "warm"):
        for w in ("find", "du"):
            v = med(rec[phase][w])
            s[f"{w}_{phase}_ms"] = round(v * 1000, 2) if v is not None else None
        for w in ("read_blob", "read_largest"):
            v = med(rec[phase][w])
            s[f"{w}_{phase}_MBps"] = round(paths[w + "_size"] / v / 1e6, 1) if v else None
    hwm = [x.get("VmHWM") for x in rec["mounts"] if x.get("VmHWM")]
    s["vmhwm_max_bytes"] = max(hwm) if hwm else None
    return s


# ---------------------------------------------------------------- report

ROWS = [("mount, cold (spawn to day-5 root stat-able)", "mount_cold_ms", "ms"),
        ("mount, page cache warm", "mount_warm_ms", "ms"),
        ("first `ls -la` of the root after a fresh mount, cold", "ls_cold_ms", "ms"),
        ("first `ls -la` after a fresh mount, page cache warm", "ls_warm_ms", "ms"),
        ("`find` cold", "find_cold_ms", "ms"), ("`find` warm", "find_warm_ms", "ms"),
        ("`du -s` cold", "du_cold_ms", "ms"), ("`du -s` warm", "du_warm_ms", "ms"),
        ("read 128 MiB blob, cold", "read_blob_cold_MBps", "MB/s"),
        ("read 128 MiB blob, warm", "read_blob_warm_MBps", "MB/s"),
        ("read largest source file, cold", "read_largest_cold_MBps", "MB/s"),
        ("read largest source file, warm", "read_largest_warm_MBps", "MB/s")]


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "ms":
        return f"{v / 1000:.2f} s" if v >= 1000 else f"{v:.1f} ms" if v >= 10 else f"{v:.2f} ms"
    if unit == "MB/s":
        return f"{v / 1000:.2f} GB/s" if v >= 1000 else f"{v:.0f} MB/s"
    if unit == "MiB":
        return f"{v / 2**20:.1f} MiB"
    return str(v)


def goals(res):
    """Goal rows: (label, check(tool summary, plain, sqfs) -> (value text, pass bool or None))."""
    S = res["summary"]
    plain, sq = S.get("plain"), S.get("squashfuse_ll")

    def ratio(a, b):
        return a / b if a is not None and b else None

    out = []

    def time_vs(key, ref, refname, limit):
        def f(s):
            r = ratio(s.get(key), ref.get(key) if ref else None)
            if r is None:
                return "-", None
            return f"{fmt(s[key], 'ms')} = {r:.2f}x {refname}", r <= limit
        return f

    def tput_vs(key, ref, refname, limit):
        def f(s):
            r = ratio(s.get(key), ref.get(key) if ref else None)
            if r is None:
                return "-", None
            return f"{fmt(s[key], 'MB/s')} = {r * 100:.1f}% of {refname}", r >= limit
        return f

    out.append(("warm `find` within 1.5x of plain", time_vs("find_warm_ms", plain, "plain", 1.5)))
    out.append(("warm `du -s` within 1.5x of plain", time_vs("du_warm_ms", plain, "plain", 1.5)))
    out.append(("cold `find` no slower than squashfuse_ll", time_vs("find_cold_ms", sq, "squashfuse_ll", 1.0)))
    out.append(("cold `du -s` no slower than squashfuse_ll", time_vs("du_cold_ms", sq, "squashfuse_ll", 1.0)))
    out.append(("warm read of the blob >= 80% of plain", tput_vs("read_blob_warm_MBps", plain, "plain", 0.8)))
    out.append(("warm read of the largest file >= 80% of plain",
                tput_vs("read_largest_warm_MBps", plain, "plain", 0.8)))
    out.append(("cold read of the blob >= squashfuse_ll", tput_vs("read_blob_cold_MBps", sq, "squashfuse_ll", 1.0)))
    out.append(("cold read of the largest file >= squashfuse_ll",
                tput_vs("read_largest_cold_MBps", sq, "squashfuse_ll", 1.0)))

    def mem(s):
        v = s.get("vmhwm_max_bytes")
        if v is None:
            return "-", None
        return f"{v / 1e6:.1f} MB", v < MEM_GOAL
    out.append(("mount process under 50 MB resident (max VmHWM)", mem))
    return out


def markdown(res):
    S = res["summary"]
    tools = [t for t in TOOLS if t in S]
    L = [f"Day {DAY}: {res['tree']['entries']:,} entries, {res['tree']['bytes'] / 1e6:.0f} MB; "
         f"medians of {res['reps']['warm']} warm / {res['reps']['cold']} cold runs; load average "
         f"{' '.join(res['loadavg_start'])} at the start, {' '.join(res['loadavg_end'])} at the end"
         f"{' (NOT an idle machine: compare with care)' if float(res['loadavg_end'][1]) > 0.7 else ''}.", ""]
    L.append("| figure | " + " | ".join(tools) + " |")
    L.append("|---" * (len(tools) + 1) + "|")
    for label, key, unit in ROWS:
        L.append(f"| {label} | " + " | ".join(fmt(S[t].get(key), unit) for t in tools) + " |")
    L.append("| peak memory of the mount process (max VmHWM) | " +
             " | ".join(fmt(S[t].get("vmhwm_max_bytes"), "MiB") for t in tools) + " |")
    if "recall-fs" in S and res["tools"]["recall-fs"].get("recalld_vmhwm"):
        L.append("| recalld VmHWM (catalog work, separately) | " + " | ".join(
            fmt(res["tools"]["recall-fs"]["recalld_vmhwm"], "MiB") if t == "recall-fs" else "" for t in tools) + " |")
    L.append("| entries `find` prints | " + " | ".join(
        f"{res['tools'][t].get('find_entries', '-'):,}" if isinstance(res['tools'][t].get('find_entries'), int)
        else "-" for t in tools) + " |")
    L.append("| `du -s` total, KiB (how each reports st_blocks) | " + " | ".join(
        f"{res['tools'][t]['du_kib']:,}" if "du_kib" in res["tools"][t] else "-" for t in tools) + " |")
    L.append("| blob / largest file SHA-256 as plain | " + " | ".join(
        f"{'ok' if res['tools'][t].get('blob_ok') else 'DIFF'} / {'ok' if res['tools'][t].get('largest_ok') else 'DIFF'}"
        if "blob_ok" in res["tools"][t] else "-" for t in tools) + " |")
    L.append("")
    refs = [r for r in ("plain", "squashfuse_ll") if r in S]
    others = [t for t in tools if t != "plain"]
    if refs and others:
        L.append("Ratios (times: tool / reference, lower is better; reads: tool MB/s / reference MB/s, "
                 "higher is better):")
        L.append("")
        cols = [(t, r) for r in refs for t in others if t != r]
        L.append("| figure | " + " | ".join(f"{t} / {r}" for t, r in cols) + " |")
        L.append("|---" * (len(cols) + 1) + "|")
        for label, key, unit in ROWS:
            cells = []
            for t, r in cols:
                a, b = S[t].get(key), S[r].get(key)
                cells.append(f"{a / b:.2f}" if a is not None and b else "-")
            L.append(f"| {label} | " + " | ".join(cells) + " |")
        L.append("")
    fuse_tools = [t for t in tools if t != "plain"]
    if fuse_tools:
        L.append("Goals of issue 3 (they apply to recall-fs; the peers are shown for scale):")
        L.append("")
        L.append("| goal | " + " | ".join(fuse_tools) + " |")
        L.append("|---" * (len(fuse_tools) + 1) + "|")
        for label, f in goals(res):
            cells = []
            for t in fuse_tools:
                if t == "squashfuse_ll" and "squashfuse_ll" in label:
                    cells.append("(reference)")
                    continue
                text, ok = f(S[t])
                cells.append(text if ok is None else f"{'PASS' if ok else 'FAIL'} {text}")
            L.append(f"| {label} | " + " | ".join(cells) + " |")
        L.append("")
    for t, why in res.get("skipped", {}).items():
        L.append(f"- {t}: NOT MEASURED: {why}")
    for t in tools:
        for e in res["tools"][t].get("errors", []):
            L.append(f"- {t}: ERROR: {e}")
        note = res["tools"][t].get("note")
        if note:
            L.append(f"- {t}: {note}")
    return "\n".join(L)


# ---------------------------------------------------------------- main

def parse_only(s):
    out = []
    for x in s.split(","):
        x = x.strip().lower()
        if not x:
            continue
        if x not in ALIASES:
            sys.exit(f"fs: unknown tool {x!r} in --only (known: {', '.join(sorted(ALIASES))})")
        out.append(ALIASES[x])
    return [t for t in TOOLS if t in out]


def cleanup():
    for m in list(ACTIVE):
        try:
            m.tool.unmount(m)
        except Exception as e:  # noqa: BLE001 - best effort on the way out
            log(f"cleanup: {m.tool.name}: {e}")
    for m in list(ACTIVE):
        if m.proc and m.proc.poll() is None:
            m.proc.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=os.environ.get("RECALL_BENCH_WORK", "/var/tmp/recall-bench"))
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--bin-dir", default=os.environ.get("RECALL_BIN_DIR", os.path.join(os.path.dirname(HERE), "build")),
                    help="build dir with catalogd/recalld, cli/recall, fusefs/recall-fs")
    ap.add_argument("--only", default=",".join(TOOLS), help="comma list of plain,squashfuse,restic,recall")
    ap.add_argument("--reps", default="5,3", help="WARM,COLD repetitions (default 5,3); one number sets both")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the bench trees, image, Recall home and restic repo")
    ap.add_argument("--recall-fs-opt", action="append", default=[], help="extra argument for recall-fs (repeatable)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("fs: run as root (drop_caches, FUSE mounts)")
    if not os.path.exists("/dev/fuse"):
        sys.exit("fs: /dev/fuse is missing; FUSE cannot mount here")
    r = [int(x) for x in args.reps.split(",")]
    warm_reps, cold_reps = (r[0], r[0]) if len(r) == 1 else (r[0], r[1])
    selected = parse_only(args.only)

    work = os.path.abspath(args.work)
    fsdir = os.path.join(work, "fs")
    logdir = os.path.join(fsdir, "logs")
    os.makedirs(logdir, exist_ok=True)
    live = os.path.join(fsdir, "live")
    res = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "machine": spine.machine(), "kernel": os.uname().release, "work": work, "day": DAY,
           "reps": {"warm": warm_reps, "cold": cold_reps}, "selected": selected, "loadavg_start": loadavg(),
           "tools": {}, "skipped": {}, "summary": {}}
    t_start = time.time()

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    recall = recall_fs_bin = None
    try:
        log("dataset")
        ds = spine.load_dataset(work, args.seed)
        trees_key = prepare_trees(work, fsdir, ds, args.rebuild)
        day_dir = os.path.join(fsdir, "days", f"day{DAY}")
        tree = tree_stats(day_dir)
        res["tree"] = tree
        res["blob_sha256"] = trees_key.get("blob_sha256")
        paths = {"read_blob": BLOB_REL, "read_blob_size": BLOB_SIZE,
                 "read_largest": tree["largest"]["path"], "read_largest_size": tree["largest"]["size"]}
        res["files_read"] = paths
        log(f"day {DAY}: {tree['entries']} entries, largest source file {paths['read_largest']} "
            f"({paths['read_largest_size']} bytes)")

        # Recall: binaries copied (a rebuild during the run cannot change them), home imported or reused
        if "recall-fs" in selected:
            recall = spine.Recall(args.bin_dir, os.path.join(fsdir, "recall-home"))
            src_fs = os.path.join(args.bin_dir, "fusefs", "recall-fs")
            if not os.access(src_fs, os.X_OK):
                src_fs = os.path.join(args.bin_dir, "recall-fs")
            missing = [b for b in (recall.recalld, recall.cli) if not os.access(b, os.X_OK)]
            if missing:
                res["skipped"]["recall-fs"] = f"{', '.join(missing)} missing (build Recall or set RECALL_BIN_DIR)"
                recall = None
            else:
                bindir = os.path.join(fsdir, "bin")
                os.makedirs(bindir, exist_ok=True)
                res["recall_bin_source"] = {}
                srcs = [recall.recalld, recall.cli] + ([src_fs] if os.access(src_fs, os.X_OK) else [])
                for b in srcs:
                    st = os.stat(b)
                    res["recall_bin_source"][b] = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(st.st_mtime))
                    shutil.copy2(b, os.path.join(bindir, os.path.basename(b)))
                recall.recalld = os.path.join(bindir, "recalld")
                recall.cli = os.path.join(bindir, "recall")
                if os.access(src_fs, os.X_OK):
                    recall_fs_bin = os.path.join(bindir, "recall-fs")
                else:
                    res["skipped"]["recall-fs"] = (f"{os.path.join(args.bin_dir, 'fusefs', 'recall-fs')} missing "
                                                   f"(not built yet?); the Recall home is still prepared")
        restic = spine.Restic(fsdir) if "restic" in selected else None
        res["imports"] = prepare_imports(fsdir, trees_key, recall, restic, args.rebuild)
        sq = prepare_squashfs(fsdir, trees_key, args.rebuild) if "squashfuse_ll" in selected else None
        res["squashfs"] = sq

        # the tools
        mnt_root = os.path.join(fsdir, "mnt")
        tools = []
        for name in selected:
            mnt = os.path.join(mnt_root, name)
            if name == "plain":
                tools.append(Plain(day_dir, logdir))
            elif name == "squashfuse_ll":
                tools.append(Squashfuse(mnt, logdir, os.path.join(fsdir, f"day{DAY}.sqfs")))
            elif name == "restic":
                t = ResticMount(mnt, logdir, restic, live)
                res["restic_snapshot"] = t.find_snapshot()
                tools.append(t)
            elif name == "recall-fs" and recall and recall_fs_bin:
                tools.append(RecallFs(mnt, logdir, recall_fs_bin, recall.sock, live, args.recall_fs_opt))
            if name != "plain" and mounted(mnt):
                log(f"{mnt} is still mounted from an earlier run; unmounting")
                fuse_unmount(mnt)
        recalld_running = any(t.name == "recall-fs" for t in tools)
        if recalld_running:
            recall.start(fresh=False)  # fresh process: its VmHWM then covers the filesystem work only
            res["recalld_vm_at_start"] = recall.proc_status()
        for t in tools:
            res["tools"][t.name] = new_record(t)
        if any(t.name == "restic" for t in tools):
            res["tools"]["restic"]["note"] = (f"day 5 = snapshot {res['restic_snapshot']['short_id']}, root "
                                              f"MNT/ids/<id>{live}; `restic mount` as root without --allow-other "
                                              "(so default permissions do not apply); on-disk restic cache kept "
                                              "for cold runs")

        alive = list(tools)

        def guarded(t, fn, *a):
            try:
                fn(t, res["tools"][t.name], *a)
                return True
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                log(f"{t.name}: {e}")
                res["tools"][t.name]["errors"].append(str(e))
                alive.remove(t)
                try:
                    for m in [m for m in ACTIVE if m.tool is t]:
                        t.unmount(m)
                except RuntimeError as e2:
                    res["tools"][t.name]["errors"].append(str(e2))
                return False

        log("probe mounts: entries and checksums")
        for t in list(alive):
            if guarded(t, probe, paths):
                rec = res["tools"][t.name]
                log(f"{t.name}: root {rec['root']}, {rec['find_entries']} entries, du {rec['du_kib']} KiB")
        plain_rec = res["tools"].get("plain")
        ref_entries = plain_rec["find_entries"] if plain_rec and "find_entries" in plain_rec else tree["entries"]
        for t in tools:
            rec = res["tools"][t.name]
            if "find_entries" in rec:
                rec["entries_match"] = rec["find_entries"] == ref_entries
                rec["blob_ok"] = rec["blob_sha256"] == (trees_key.get("blob_sha256") or sha256_file(
                    os.path.join(day_dir, BLOB_REL)))
                if "largest_ref_sha256" not in res:
                    res["largest_ref_sha256"] = sha256_file(os.path.join(day_dir, paths["read_largest"]))
                rec["largest_ok"] = rec["largest_sha256"] == res["largest_ref_sha256"]
                if not rec["entries_match"]:
                    rec["errors"].append(f"find printed {rec['find_entries']} entries, plain {ref_entries}")
                if not (rec["blob_ok"] and rec["largest_ok"]):
                    rec["errors"].append("SHA-256 of a file read through the mount differs from plain")

        for rep in range(cold_reps):
            log(f"cold repetition {rep + 1}/{cold_reps}")
            for t in list(alive):
                for what in ["ls"] + MEASURES:
                    if not guarded(t, cold_cycle, what, paths):
                        break
        # WARM: every tool mounted at once; per measurement one priming run each, then the timed
        # repetitions interleaved over the tools, so a load spike does not hit only one tool
        log("warm runs")
        for t in list(alive):
            guarded(t, warm_mount, paths)
        for what in MEASURES:
            for t in list(alive):
                guarded(t, warm_run, what, paths, False)
            for _ in range(warm_reps):
                for t in list(alive):
                    guarded(t, warm_run, what, paths, True)
        for t in list(tools):
            if "_warm_mount" in res["tools"][t.name]:
                try:
                    warm_unmount(t, res["tools"][t.name])
                except RuntimeError as e:
                    res["tools"][t.name]["errors"].append(str(e))

        for t in tools:
            res["summary"][t.name] = summarize(res["tools"][t.name], paths)
        if recalld_running:
            res["tools"]["recall-fs"]["recalld_vm_at_end"] = recall.proc_status()
            res["tools"]["recall-fs"]["recalld_vmhwm"] = res["tools"]["recall-fs"]["recalld_vm_at_end"].get("VmHWM")
    except KeyboardInterrupt as e:
        res["interrupted"] = str(e) or "SIGINT"
        log(f"interrupted ({res['interrupted']}); cleaning up")
    finally:
        cleanup()
        if recall:
            recall.stop()
        for rec in res["tools"].values():
            rec.pop("_warm_mount", None)
        res["loadavg_end"] = loadavg()
        res["total_s"] = round(time.time() - t_start, 1)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        out = os.path.join(work, f"fs-results-{stamp}.json")
        with open(out, "w") as f:
            json.dump(res, f, indent=1)
        log(f"results: {out} (total {res['total_s']} s)")
    if "interrupted" in res:
        sys.exit(130)
    print(markdown(res))


if __name__ == "__main__":
    main()
