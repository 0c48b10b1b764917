#!/usr/bin/env python3
"""Importer benchmark of issue 6: `recall import tar` vs plain `tar tvf` of the same archive,
and (when this Recall has it) `recall import restic` vs `restic ls -l` of every snapshot.

Dataset: Debian's linux-source tree (bench/setup.sh installs it), plus 20,000 small generated
files (seeded) so that the archive holds more than 100,000 entries. One uncompressed GNU tar of
it; a restic repository of the same tree with two snapshots (the second after 1% of the files
changed).

Each tool runs --runs times (default 3, fresh recalld home each time); medians are reported with
the ratio to the peer. Peak memory: recalld's VmHWM for Recall (the import runs inside the
daemon; the CLI only follows it), GNU time's max RSS for tar and restic. Writes
WORK/importers-<stamp>.json and prints a markdown table.

Python 3 standard library only. Run as root.
"""
import argparse
import datetime
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESTIC_PASSWORD = "recall-bench"


def log(msg):
    print(f"[importers {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def timed(cmd, env=None):
    """Wall seconds and max RSS (KiB, GNU time) of a command whose output is discarded."""
    t0 = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       env=env)
    secs = time.monotonic() - t0
    if r.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed: {r.stderr.decode()[-500:]}")
    return secs, int(r.stderr.decode().strip().splitlines()[-1])


def build_tree(work):
    tree = os.path.join(work, "tree")
    if os.path.isdir(tree):
        return tree
    src = sorted(p for p in os.listdir("/usr/src") if p.startswith("linux-source-") and ".tar" in p)
    if not src:
        raise SystemExit("no /usr/src/linux-source-*.tar.*: run bench/setup.sh")
    log(f"extracting /usr/src/{src[-1]}")
    os.makedirs(tree + ".tmp", exist_ok=True)
    run(["tar", "-xf", f"/usr/src/{src[-1]}", "-C", tree + ".tmp", "--strip-components=1"])
    rnd = random.Random(20261202)
    for i in range(20_000):
        d = os.path.join(tree + ".tmp", "generated", f"d{i // 500:03d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i:05d}.txt"), "wb") as f:
            f.write(rnd.randbytes(rnd.randint(0, 4096)))
    os.rename(tree + ".tmp", tree)
    return tree


def count_entries(tree):
    n = 1
    for _, dirs, files in os.walk(tree):
        n += len(dirs) + len(files)
    return n


class Recalld:
    def __init__(self, bin_dir, home):
        self.bin_dir, self.home = bin_dir, home
        shutil.rmtree(home, ignore_errors=True)
        os.makedirs(home)
        self.log = open(os.path.join(home, "recalld.log"), "wb")
        self.proc = subprocess.Popen([os.path.join(bin_dir, "catalogd", "recalld"), "--home", home],
                                     stdout=self.log, stderr=self.log)
        for _ in range(200):
            if "recalld: serving" in open(os.path.join(home, "recalld.log"), errors="replace").read():
                return
            time.sleep(0.05)
        raise SystemExit("recalld did not start")

    def recall(self, *args):
        return [os.path.join(self.bin_dir, "cli", "recall"), "--socket", os.path.join(self.home, "recalld.sock"),
                *args]

    def hwm_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


def recall_import(bin_dir, work, args):
    d = Recalld(bin_dir, os.path.join(work, "home"))
    try:
        base = d.hwm_kib()
        t0 = time.monotonic()
        r = subprocess.run(d.recall(*args, "--json"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        secs = time.monotonic() - t0
        if r.returncode != 0:
            raise SystemExit(f"recall {' '.join(args)} failed: {r.stderr.decode()}")
        return secs, d.hwm_kib(), base, json.loads(r.stdout)
    finally:
        d.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=os.environ.get("RECALL_BENCH_WORK", "/var/tmp/recall-bench"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bin-dir", default=os.environ.get("RECALL_BIN_DIR", os.path.join(HERE, "..", "build")))
    a = ap.parse_args()
    work = os.path.join(a.work, "importers")
    os.makedirs(work, exist_ok=True)
    tree = build_tree(work)
    entries = count_entries(tree)
    archive = os.path.join(work, "tree.tar")
    if not os.path.exists(archive):
        log("tar -cf tree.tar")
        run(["tar", "--format=gnu", "-cf", archive + ".tmp", "-C", work, "tree"])
        os.rename(archive + ".tmp", archive)
    res = {"date": datetime.datetime.utcnow().isoformat() + "Z", "entries": entries,
           "archive_bytes": os.path.getsize(archive), "tar": [], "recall_tar": []}
    log(f"{entries} entries, archive {res['archive_bytes'] / 1e6:.0f} MB")
    for i in range(a.runs):
        subprocess.run(["cat", archive], stdout=subprocess.DEVNULL)  # same page cache for both
        s, rss = timed(["tar", "tvf", archive])
        res["tar"].append({"s": s, "rss_kib": rss})
        s, hwm, base, out = recall_import(a.bin_dir, work, ["import", "tar", "--host", "bench", "--at",
                                                             "2026-01-01T00:00:00Z", archive])
        rep = out["imports"][0]["report"]
        res["recall_tar"].append({"s": s, "hwm_kib": hwm, "idle_kib": base, "entries": rep["entries"]})
        log(f"run {i + 1}: tar tvf {res['tar'][-1]['s']:.2f} s, recall import tar {s:.2f} s "
            f"(recalld peak {hwm / 1024:.0f} MiB)")

    # restic: the same tree, two snapshots.
    repo = os.path.join(work, "restic-repo")
    env = dict(os.environ, RESTIC_PASSWORD=RESTIC_PASSWORD, RESTIC_REPOSITORY=repo,
               RESTIC_CACHE_DIR=os.path.join(work, "restic-cache"))
    if not os.path.isdir(repo):
        log("restic init + 2 backups")
        run(["restic", "init", "--repository-version", "2"], env=env, stdout=subprocess.DEVNULL)
        run(["restic", "backup", "--host", "bench", tree], env=env, stdout=subprocess.DEVNULL)
        rnd = random.Random(7)
        files = sorted(os.path.join(r, f) for r, _, fs in os.walk(os.path.join(tree, "generated")) for f in fs)
        for p in rnd.sample(files, len(files) // 100):
            with open(p, "ab") as f:
                f.write(b"changed\n")
        run(["restic", "backup", "--host", "bench", tree], env=env, stdout=subprocess.DEVNULL)
    has_restic = subprocess.run([os.path.join(a.bin_dir, "cli", "recall"), "import", "restic", "--help"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    res["restic_ls"], res["recall_restic"] = [], []
    pw = os.path.join(work, "restic-password")
    with open(pw, "w") as f:
        f.write(RESTIC_PASSWORD + "\n")
    for i in range(a.runs):
        s, rss = timed(["restic", "ls", "-l", "--no-cache", "latest"], env=env)  # warm-up
        t0 = time.monotonic()
        peak = 0
        for snap in json.loads(subprocess.run(["restic", "snapshots", "--json", "--no-cache"], env=env, check=True,
                                              stdout=subprocess.PIPE).stdout):
            _, rss = timed(["restic", "ls", "-l", "--no-cache", snap["id"]], env=env)
            peak = max(peak, rss)
        res["restic_ls"].append({"s": time.monotonic() - t0, "rss_kib": peak})
        if has_restic:
            s, hwm, base, out = recall_import(a.bin_dir, work, ["import", "restic", "--repo", repo,
                                                                 "--password-file", pw])
            res["recall_restic"].append({"s": s, "hwm_kib": hwm, "idle_kib": base})
        log(f"run {i + 1}: restic ls -l (all snapshots) {res['restic_ls'][-1]['s']:.2f} s"
            + (f", recall import restic {res['recall_restic'][-1]['s']:.2f} s" if has_restic else ""))

    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = os.path.join(a.work, f"importers-{stamp}.json")
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    med = lambda rows, k: statistics.median(r[k] for r in rows) if rows else float("nan")
    print(f"\n{entries:,} entries, archive {res['archive_bytes'] / 1e6:,.0f} MB; median of {a.runs}; raw: {out}\n")
    print("| what | median s | ratio | peak memory |")
    print("| --- | --- | --- | --- |")
    t, r = med(res["tar"], "s"), med(res["recall_tar"], "s")
    print(f"| `tar tvf` | {t:.2f} | 1.00× | {med(res['tar'], 'rss_kib') / 1024:.0f} MiB |")
    print(f"| `recall import tar` (in place) | {r:.2f} | {r / t:.2f}× | "
          f"{med(res['recall_tar'], 'hwm_kib') / 1024:.0f} MiB recalld peak |")
    ls = med(res["restic_ls"], "s")
    print(f"| `restic ls -l`, both snapshots | {ls:.2f} | 1.00× | {med(res['restic_ls'], 'rss_kib') / 1024:.0f} MiB |")
    if res["recall_restic"]:
        rr = med(res["recall_restic"], "s")
        print(f"| `recall import restic` | {rr:.2f} | {rr / ls:.2f}× | "
              f"{med(res['recall_restic'], 'hwm_kib') / 1024:.0f} MiB recalld peak |")
    else:
        print("| `recall import restic` | not in this build | - | - |")


if __name__ == "__main__":
    main()
