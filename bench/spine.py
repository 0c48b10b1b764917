#!/usr/bin/env python3
"""Spine benchmark of issue 2: Recall vs restic (backup) and plocate (search).

One run:
  1. builds or reuses the five-day linux-source dataset (bench/make_dataset.py),
  2. draws >= 100 search queries from real file-name fragments (seeded) and computes their
     expected hits from the day trees (the equivalent of `find -iname '*q*'`),
  3. for each day: rsync -a --delete the day tree into one fixed path WORK/live, then
     `recall import dir` (into a fresh recalld home) and `restic backup` (into a fresh repo),
     timing both from outside,
  4. measures catalog bytes per version, peak memory (recalld VmHWM, restic max RSS),
  5. times every query through `recall search` (process spawn included) and through a raw
     HTTP/1.1 client on the daemon socket (the daemon's answer time), checks the distinct
     paths Recall finds against the day trees, and times `plocate` over the same trees,
  6. optionally (--scale) imports the days under more hosts until the catalog holds
     >= 1,000,000 versions and times the queries again,
  7. writes WORK/results-<stamp>.json and prints a markdown table.

Python 3 standard library only. Run as root (restic/rsync over the tree, recalld admin).
"""
import argparse
import datetime
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
DAYS = 5
RESTIC_PASSWORD = "recall-bench"
GOALS = {"day1_faster_than_restic": True, "later_day_s": 1.0, "search_median_ms": 20.0,
         "search_median_ms_1m": 50.0}


def log(msg):
    print(f"[spine {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def at_of(day):
    return f"2026-01-{day:02d}T00:00:00Z"


def du_bytes(path):
    total = 0
    for root, dirs, files in os.walk(path):
        for n in files:
            try:
                total += os.lstat(os.path.join(root, n)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total


def pct(values, p):
    s = sorted(values)
    if not s:
        return None
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def summary_ms(values_s):
    ms = [v * 1000 for v in values_s]
    return {"n": len(ms), "median_ms": round(statistics.median(ms), 2), "p99_ms": round(pct(ms, 99), 2),
            "mean_ms": round(statistics.mean(ms), 2), "max_ms": round(max(ms), 2)}


# ---------------------------------------------------------------- dataset and queries

def load_dataset(work, seed):
    out = run([sys.executable, os.path.join(HERE, "make_dataset.py"), "--work", work, "--seed", str(seed)],
              stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def scan_days(days_root):
    """relpath -> [type char, list of per-day states or None]; the union over the five days."""
    paths = {}
    for d in range(1, DAYS + 1):
        root = os.path.join(days_root, f"day{d}")
        stack = [""]
        while stack:
            rel = stack.pop()
            with os.scandir(os.path.join(root, rel) if rel else root) as it:
                for ent in it:
                    r = f"{rel}/{ent.name}" if rel else ent.name
                    st = ent.stat(follow_symlinks=False)
                    if ent.is_dir(follow_symlinks=False):
                        t = "d"
                        stack.append(r)
                    elif ent.is_symlink():
                        t = "l"
                    else:
                        t = "f"
                    state = (t, st.st_mode, st.st_size if t == "f" else 0, int(st.st_mtime))
                    e = paths.get(r)
                    if e is None:
                        e = paths[r] = [None] * DAYS
                    e[d - 1] = state
    return paths


def expected_versions(states):
    """Runs of identical metadata over the days (a path unchanged over 5 days is one version)."""
    n, prev = 0, None
    for s in states:
        if s is not None and s != prev:
            n += 1
        prev = s
    return n


def draw_queries(paths, seed, per_bin):
    rng = random.Random(f"recall-bench-queries:{seed}")
    names = sorted({os.path.basename(p) for p in paths})
    lowered = [(p, os.path.basename(p).lower()) for p in sorted(paths)]
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    bins = [(1, 9), (10, 99), (100, 999), (1000, 10 ** 9)]
    chosen = {b: [] for b in bins}
    seen = set()
    attempts = 0
    while any(len(v) < per_bin for v in chosen.values()) and attempts < 20000:
        attempts += 1
        name = rng.choice(names)
        n = rng.randint(3, 8)
        if len(name) < n:
            continue
        off = rng.randrange(len(name) - n + 1)
        q = name[off:off + n]
        if not set(q) <= allowed or q.lower() in seen:
            continue
        seen.add(q.lower())
        ql = q.lower()
        hits = sum(1 for _, b in lowered if ql in b)
        for b in bins:
            if b[0] <= hits <= b[1] and len(chosen[b]) < per_bin:
                chosen[b].append(q)
    queries = [q for b in bins for q in chosen[b]]
    rng.shuffle(queries)
    return queries


def ground_truth(paths, queries):
    lowered = [(p, os.path.basename(p).lower(), e) for p, e in paths.items()]
    truth = {}
    for q in queries:
        ql = q.lower()
        match = [(p, e) for p, b, e in lowered if ql in b]
        truth[q] = {
            "paths": sorted(p for p, _ in match),
            "dirs": sum(1 for _, e in match if any(s and s[0] == "d" for s in e)),
            "versions": sum(expected_versions(e) for _, e in match),
            "per_day_hits": sum(sum(1 for s in e if s is not None) for _, e in match),
        }
    return truth


# ---------------------------------------------------------------- recall side

class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path, timeout=600):
        super().__init__("localhost", timeout=timeout)
        self.sock_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.sock_path)
        self.sock = s


class Recall:
    def __init__(self, bin_dir, home):
        self.recalld = os.path.join(bin_dir, "catalogd", "recalld") if os.path.isdir(
            os.path.join(bin_dir, "catalogd")) else os.path.join(bin_dir, "recalld")
        self.cli = os.path.join(bin_dir, "cli", "recall") if os.path.isdir(
            os.path.join(bin_dir, "cli")) else os.path.join(bin_dir, "recall")
        self.home = home
        self.sock = os.path.join(home, "recalld.sock")
        self.proc = None
        self.conn = None

    def start(self, fresh=True):
        """Starts recalld on a fresh (emptied) home, or with fresh=False on the existing one."""
        if fresh and os.path.exists(self.home):
            shutil.rmtree(self.home)
        if not fresh and os.path.exists(self.sock):
            os.unlink(self.sock)  # stale socket of an earlier run: wait for the new one
        os.makedirs(os.path.dirname(self.home), exist_ok=True)
        self.logf = open(self.home + ".log", "w" if fresh else "a")
        self.proc = subprocess.Popen([self.recalld, "--home", self.home], stdout=self.logf, stderr=subprocess.STDOUT)
        t0 = time.time()
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None:
                raise RuntimeError(f"recalld exited with {self.proc.returncode}; see {self.home}.log")
            if time.time() - t0 > 30:
                raise RuntimeError("recalld did not create its socket within 30 s")
            time.sleep(0.05)
        self.conn = UnixHTTP(self.sock)

    def stop(self):
        if self.conn:
            self.conn.close()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def proc_status(self):
        out = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "VmRSS"):
                    out[k] = int(v.split()[0]) * 1024
        return out

    def get(self, target):
        """GET over one persistent HTTP/1.1 connection; returns (seconds, status, parsed JSON)."""
        for attempt in range(2):
            try:
                t0 = time.perf_counter()
                self.conn.request("GET", target)
                r = self.conn.getresponse()
                body = r.read()
                dt = time.perf_counter() - t0
                return dt, r.status, json.loads(body) if body else None
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = UnixHTTP(self.sock)
                if attempt:
                    raise

    def cli_run(self, args):
        t0 = time.perf_counter()
        p = subprocess.run([self.cli, "--socket", self.sock, "--json"] + args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        return time.perf_counter() - t0, p

    def status(self):
        dt, p = self.cli_run(["status"])
        if p.returncode != 0:
            raise RuntimeError(f"recall status failed ({p.returncode}): {p.stderr.strip()}")
        return json.loads(p.stdout)

    def import_day(self, host, day, live):
        dt, p = self.cli_run(["import", "dir", "--host", host, "--at", at_of(day), live])
        doc = None
        try:
            doc = json.loads(p.stdout)
        except ValueError:
            pass
        if p.returncode != 0 or not doc or doc.get("state") != "complete":
            raise RuntimeError(f"recall import dir --host {host} day{day} failed (exit {p.returncode}):\n"
                               f"stdout: {p.stdout.strip()[:2000]}\nstderr: {p.stderr.strip()[:2000]}")
        return dt, doc

    def catalog_bytes(self):
        total = 0
        for suffix in ("", "-wal"):
            f = os.path.join(self.home, "catalog.db" + suffix)
            if os.path.exists(f):
                total += os.path.getsize(f)
        return total


# ---------------------------------------------------------------- restic side

class Restic:
    def __init__(self, work):
        self.repo = os.path.join(work, "restic-repo")
        self.cache = os.path.join(work, "restic-cache")
        self.env = dict(os.environ, RESTIC_PASSWORD=RESTIC_PASSWORD, RESTIC_REPOSITORY=self.repo)

    def init(self):
        for p in (self.repo, self.cache):
            if os.path.exists(p):
                shutil.rmtree(p)
        run(["restic", "init", "--cache-dir", self.cache], env=self.env, stdout=subprocess.DEVNULL)

    def backup(self, day, live):
        tv = os.path.join(os.path.dirname(self.repo), "restic-time.txt")
        cmd = ["/usr/bin/time", "-v", "-o", tv, "restic", "--cache-dir", self.cache, "backup", "--json",
               "--host", "bench", "--time", at_of(day).replace("T", " ").rstrip("Z"), live]
        t0 = time.perf_counter()
        p = subprocess.run(cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        dt = time.perf_counter() - t0
        if p.returncode != 0:
            raise RuntimeError(f"restic backup day{day} failed: {p.stderr[-2000:]}")
        summary = {}
        for line in p.stdout.splitlines():
            if '"summary"' in line:
                summary = json.loads(line)
        maxrss = None
        with open(tv) as f:
            for line in f:
                if "Maximum resident set size" in line:
                    maxrss = int(line.split(":")[1]) * 1024
        return dt, summary, maxrss


# ---------------------------------------------------------------- plocate side

def plocate_build(work, days_root):
    db = os.path.join(work, "plocate.db")
    t0 = time.perf_counter()
    run(["updatedb", "-U", days_root, "-o", db, "--require-visibility", "no", "--prunepaths", "",
         "--prunenames", "", "--prunefs", "", "--prune-bind-mounts", "no"])
    return db, time.perf_counter() - t0


def plocate_query(db, q):
    t0 = time.perf_counter()
    p = subprocess.run(["plocate", "-d", db, "-i", "-b", "-c", "--", q], stdout=subprocess.PIPE, text=True)
    return time.perf_counter() - t0, int(p.stdout.strip() or 0)


# ---------------------------------------------------------------- search runs

def search_timings(recall, queries, label):
    http_t, cli_t, per = [], [], {}
    for q in queries:  # daemon answer time first: the first time the daemon sees the query
        target = "/v1/search?" + urllib.parse.urlencode({"q": q, "limit": 50})
        dt, status, doc = recall.get(target)
        if status != 200:
            raise RuntimeError(f"GET {target} -> {status}: {doc}")
        http_t.append(dt)
        per[q] = {"http_s": dt, "total": doc["total"], "estimate": doc.get("total_is_estimate", False),
                  "mode": doc.get("mode")}
    for q in queries:
        dt, p = recall.cli_run(["search", "--limit", "50", "--", q])
        if p.returncode != 0:
            raise RuntimeError(f"recall search {q!r} failed ({p.returncode}): {p.stderr.strip()}")
        doc = json.loads(p.stdout)
        cli_t.append(dt)
        per[q]["cli_s"] = dt
        per[q]["cli_total"] = doc["total"]
    log(f"{label}: http median {statistics.median(http_t) * 1000:.1f} ms, "
        f"cli median {statistics.median(cli_t) * 1000:.1f} ms")
    return {"http": summary_ms(http_t), "cli": summary_ms(cli_t), "per_query": per}


def check_hits(recall, queries, truth, prefix):
    """All Recall paths for each query (paged), distinct, compared with the day trees."""
    mismatches, checked, total_diffs = [], 0, []
    for q in queries:
        got, offset, outside = set(), 0, 0
        total = None
        while True:
            target = "/v1/search?" + urllib.parse.urlencode({"q": q, "limit": 10000, "offset": offset})
            _, status, doc = recall.get(target)
            if status != 200:
                raise RuntimeError(f"GET {target} -> {status}: {doc}")
            total = doc["total"]
            for h in doc["results"]:
                p = h["path"]
                if p.startswith(prefix):
                    got.add(p[len(prefix):])
                else:
                    outside += 1
            offset += len(doc["results"])
            if not doc["results"] or len(doc["results"]) < 10000:
                break
        want = set(truth[q]["paths"])
        checked += 1
        rec = {"query": q, "expected_paths": len(want), "recall_paths": len(got), "recall_total": total,
               "expected_versions": truth[q]["versions"], "results_outside_live": outside, "rows_paged": offset}
        if got != want:
            rec["missing"] = sorted(want - got)[:10]
            rec["missing_count"] = len(want - got)
            rec["extra"] = sorted(got - want)[:10]
            rec["extra_count"] = len(got - want)
            mismatches.append(rec)
        if total != truth[q]["versions"] or offset != total:
            total_diffs.append(rec)
    return {"queries_checked": checked, "path_mismatches": mismatches, "path_mismatch_count": len(mismatches),
            "version_total_diffs": total_diffs[:20], "version_total_diff_count": len(total_diffs)}


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=os.environ.get("RECALL_BENCH_WORK", "/var/tmp/recall-bench"))
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--bin-dir", default=os.environ.get("RECALL_BIN_DIR", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build")),
                    help="build dir (with catalogd/recalld, cli/recall) or a dir holding both binaries")
    ap.add_argument("--per-bin", type=int, default=30, help="queries per hit-count bin (4 bins)")
    ap.add_argument("--skip-recall", action="store_true")
    ap.add_argument("--skip-restic", action="store_true")
    ap.add_argument("--skip-plocate", action="store_true")
    ap.add_argument("--scale", action="store_true", help="then grow the catalog to >= 1,000,000 versions")
    ap.add_argument("--scale-target", type=int, default=1_000_000)
    args = ap.parse_args()

    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    days_root = os.path.join(work, "days")
    live = os.path.join(work, "live")
    res = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "machine": machine(), "work": work, "seed": args.seed, "goals": GOALS}

    log("dataset")
    ds = load_dataset(work, args.seed)
    res["dataset"] = {"tarball": ds["tarball"], "seed": ds["seed"],
                      "days": [{k: d[k] for k in ("day", "entries", "files", "dirs", "symlinks", "bytes",
                                                  "changes", "content_digest")} for d in ds["days"]]}
    log("scanning day trees and drawing queries")
    paths = scan_days(days_root)
    queries = draw_queries(paths, args.seed, args.per_bin)
    truth = ground_truth(paths, queries)
    res["queries"] = {"count": len(queries), "distinct_paths_all_days": len(paths),
                      "expected_versions_all": sum(expected_versions(e) for e in paths.values()),
                      "list": queries,
                      "expected_paths": {q: len(truth[q]["paths"]) for q in queries}}
    log(f"{len(queries)} queries; {len(paths)} distinct paths over the five days")

    recall = None
    restic = None
    if not args.skip_recall:
        recall = Recall(args.bin_dir, os.path.join(work, "recall-home"))
        for b in (recall.recalld, recall.cli):
            if not os.access(b, os.X_OK):
                sys.exit(f"spine: {b} missing; build Recall or set RECALL_BIN_DIR (or pass --skip-recall)")
        # private copies, so a rebuild during the run cannot change the binaries under us
        bindir = os.path.join(work, "bin")
        os.makedirs(bindir, exist_ok=True)
        res["recall_bin_source"] = {}
        for b in (recall.recalld, recall.cli):
            st = os.stat(b)
            res["recall_bin_source"][b] = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(st.st_mtime))
            shutil.copy2(b, os.path.join(bindir, os.path.basename(b)))
        recall.recalld = os.path.join(bindir, "recalld")
        recall.cli = os.path.join(bindir, "recall")
        recall.start()
        res["recall_bin"] = {"recalld": recall.recalld, "cli": recall.cli}
    if not args.skip_restic:
        restic = Restic(work)
        restic.init()

    res["days"] = []
    try:
        for day in range(1, DAYS + 1):
            t0 = time.perf_counter()
            run(["rsync", "-a", "--delete", os.path.join(days_root, f"day{day}") + "/", live + "/"])
            run(["sync"])
            row = {"day": day, "rsync_s": round(time.perf_counter() - t0, 2)}
            if recall:
                dt, doc = recall.import_day("bench", day, live)
                run(["sync"])
                rep = doc.get("report", {})
                row["recall"] = {"wall_s": round(dt, 3), "report": rep, **recall.proc_status()}
                log(f"day{day}: recall {dt:.2f} s wall, report {rep.get('seconds')} s, "
                    f"VmHWM {row['recall'].get('VmHWM', 0) / 2**20:.0f} MiB")
            if restic:
                dt, summ, rss = restic.backup(day, live)
                run(["sync"])
                row["restic"] = {"wall_s": round(dt, 3), "max_rss": rss, "summary": summ}
                log(f"day{day}: restic {dt:.2f} s wall, max RSS {rss / 2**20:.0f} MiB")
            res["days"].append(row)

        if restic:
            res["restic_repo_bytes"] = du_bytes(restic.repo)
        if recall:
            st = recall.status()
            cat = st["catalog"]
            cb = recall.catalog_bytes()
            res["recall_status"] = cat
            res["recall_catalog_bytes"] = cb
            res["recall_catalog_bytes_per_version"] = round(cb / max(cat["versions"], 1), 1)
            res["recall_home_bytes"] = du_bytes(recall.home)
            log(f"catalog {cb / 1e6:.1f} MB for {cat['versions']} versions "
                f"= {res['recall_catalog_bytes_per_version']} B/version")
            res["search"] = search_timings(recall, queries, "search (5 days)")
            log("checking hit counts")
            res["hits"] = check_hits(recall, queries, truth, live + "/")
            log(f"hit check: {res['hits']['path_mismatch_count']} path mismatches, "
                f"{res['hits']['version_total_diff_count']} total-vs-expected-versions differences")

        if not args.skip_plocate:
            db, build_s = plocate_build(work, days_root)
            times, counts = [], {}
            for q in queries:
                dt, n = plocate_query(db, q)
                times.append(dt)
                counts[q] = n
            bad = [q for q in queries if counts[q] != truth[q]["per_day_hits"]]
            res["plocate"] = {"build_s": round(build_s, 2), "db_bytes": os.path.getsize(db), **summary_ms(times),
                              "count_mismatches": bad}
            log(f"plocate median {res['plocate']['median_ms']} ms, {len(bad)} count mismatches")

        if recall and args.scale:
            res["scale"] = scale(recall, days_root, live, queries, args.scale_target)
    finally:
        if recall:
            recall.stop()
        stamp = time.strftime("%Y%m%dT%H%M%S")
        out = os.path.join(work, f"results-{stamp}.json")
        with open(out, "w") as f:
            json.dump(res, f, indent=1)
        log(f"results: {out}")
    print(markdown(res))


def scale(recall, days_root, live, queries, target):
    """Grows the catalog to >= target versions, then times the queries again.

    Preferred: the five days again under hosts bench2..benchN. If a second host cannot be
    imported (a Recall bug seen on 2026-11-22: UNIQUE constraint failed: nodes.parent_id,
    nodes.name_id), falls back to more points of host `bench`, each importing a day tree
    recorded (--as) under a new path WORK/live-sK, so each point adds a full tree of versions."""
    out = {"imports": [], "method": "hosts"}
    host_n = 1
    versions = recall.status()["catalog"]["versions"]
    t_start = time.time()
    while versions < target and out["method"] == "hosts":
        host_n += 1
        host = f"bench{host_n}"
        try:
            for day in range(1, DAYS + 1):
                run(["rsync", "-a", "--delete", os.path.join(days_root, f"day{day}") + "/", live + "/"])
                dt, doc = recall.import_day(host, day, live)
                out["imports"].append({"host": host, "day": day, "wall_s": round(dt, 3),
                                       "seconds": doc.get("report", {}).get("seconds")})
        except RuntimeError as e:
            log(f"scale: import under a second host failed; falling back to more points of one host\n{e}")
            out["hosts_error"] = str(e)
            out["method"] = "points of host bench, each recorded --as WORK/live-sK"
            break
        versions = recall.status()["catalog"]["versions"]
        log(f"scale: {host} imported, catalog has {versions} versions")
    k = 0
    while versions < target:
        k += 1
        day = (k - 1) % DAYS + 1
        at = (datetime.datetime(2026, 1, 6, tzinfo=datetime.timezone.utc) + datetime.timedelta(days=k - 1))
        t0 = time.perf_counter()
        p = subprocess.run([recall.cli, "--socket", recall.sock, "--json", "import", "dir", "--host", "bench",
                            "--at", at.strftime("%Y-%m-%dT%H:%M:%SZ"), "--as", f"{live}-s{k}",
                            os.path.join(days_root, f"day{day}")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        dt = time.perf_counter() - t0
        if p.returncode != 0:
            raise RuntimeError(f"scale import --as {live}-s{k} failed: {p.stdout[-1500:]} {p.stderr[-1500:]}")
        doc = json.loads(p.stdout)
        out["imports"].append({"host": "bench", "as": f"{live}-s{k}", "day": day, "wall_s": round(dt, 3),
                               "seconds": doc.get("report", {}).get("seconds")})
        versions = recall.status()["catalog"]["versions"]
        log(f"scale: point {5 + k} (--as {live}-s{k}, day{day}) in {dt:.1f} s, catalog has {versions} versions")
    run(["sync"])
    st = recall.status()["catalog"]
    out["hosts"] = host_n if out["method"] == "hosts" else 1
    out["status"] = st
    out["catalog_bytes"] = recall.catalog_bytes()
    out["catalog_bytes_per_version"] = round(out["catalog_bytes"] / max(st["versions"], 1), 1)
    out["build_s"] = round(time.time() - t_start, 1)
    out["VmHWM"] = recall.proc_status().get("VmHWM")
    out["search"] = search_timings(recall, queries, f"search ({st['versions']} versions)")
    return out


def machine():
    m = {"nproc": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    m["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            m["mem_kib"] = int(f.readline().split()[1])
    except OSError:
        pass
    return m


def markdown(res):
    L = []
    days = res.get("days", [])
    L.append("| day | Recall wall s | Recall report s | Recall new MB | files read / unchanged | restic wall s | restic added MB |")
    L.append("|---|---|---|---|---|---|---|")
    for d in days:
        r, s = d.get("recall", {}), d.get("restic", {})
        rep = r.get("report", {})
        summ = s.get("summary", {})
        cells = [str(d["day"])]
        if rep:
            cells += [str(r["wall_s"]), str(rep.get("seconds", "-")), f"{rep.get('new_bytes', 0) / 1e6:.1f}",
                      f"{rep.get('files_read', '-')} / {rep.get('files_unchanged', '-')}"]
        else:
            cells += ["-"] * 4
        if s:
            cells += [str(s["wall_s"]), f"{summ.get('data_added', 0) / 1e6:.1f}"]
        else:
            cells += ["-"] * 2
        L.append("| " + " | ".join(cells) + " |")
    L.append("")
    if days and "recall" in days[0] and "restic" in days[0]:
        mb = res["dataset"]["days"][0]["bytes"] / 1e6
        r1, s1 = days[0]["recall"]["wall_s"], days[0]["restic"]["wall_s"]
        L.append(f"- day 1: Recall {r1:.2f} s ({mb / r1:.0f} MB/s) vs restic {s1:.2f} s ({mb / s1:.0f} MB/s); "
                 f"Recall/restic = {r1 / s1:.2f}")
        later_r = [d["recall"]["wall_s"] for d in days[1:]]
        later_s = [d["restic"]["wall_s"] for d in days[1:]]
        L.append(f"- days 2-5 median: Recall {statistics.median(later_r):.2f} s vs restic "
                 f"{statistics.median(later_s):.2f} s (max Recall {max(later_r):.2f} s)")
    if "recall_catalog_bytes_per_version" in res:
        L.append(f"- catalog: {res['recall_catalog_bytes'] / 1e6:.1f} MB for {res['recall_status']['versions']} "
                 f"versions = {res['recall_catalog_bytes_per_version']} B/version")
        L.append(f"- recalld VmHWM after day 1 {days[0]['recall']['VmHWM'] / 2**20:.0f} MiB, after day 5 "
                 f"{days[-1]['recall']['VmHWM'] / 2**20:.0f} MiB")
    if days and "restic" in days[0]:
        L.append(f"- restic max RSS day 1 {days[0]['restic']['max_rss'] / 2**20:.0f} MiB, max over days "
                 f"{max(d['restic']['max_rss'] for d in days) / 2**20:.0f} MiB")
    if "search" in res:
        s = res["search"]
        L.append(f"- search over 5 points ({res['queries']['count']} queries): daemon (HTTP) median "
                 f"{s['http']['median_ms']} ms p99 {s['http']['p99_ms']} ms; CLI median {s['cli']['median_ms']} ms "
                 f"p99 {s['cli']['p99_ms']} ms")
        h = res["hits"]
        L.append(f"- hit check: {h['path_mismatch_count']} of {h['queries_checked']} queries differ in distinct paths")
    if "plocate" in res:
        p = res["plocate"]
        L.append(f"- plocate: median {p['median_ms']} ms p99 {p['p99_ms']} ms")
    if "scale" in res:
        sc = res["scale"]
        L.append(f"- scale ({sc['method']}): {sc['status']['versions']} versions, {sc['status']['points']} points: daemon median "
                 f"{sc['search']['http']['median_ms']} ms p99 {sc['search']['http']['p99_ms']} ms; CLI median "
                 f"{sc['search']['cli']['median_ms']} ms")
    return "\n".join(L)


if __name__ == "__main__":
    main()
