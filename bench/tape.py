#!/usr/bin/env python3
"""Tape staging benchmark of issue 4: Recall's staging scheduler against first-come-first-served
and against the lower bound, in the simulated library's model time.

Dataset (seeded, made here): 10 hosts of 60 files each (600 files, 16 KiB to 2 MiB, about
300 MB; 70% incompressible), each imported once (so 10 disk volumes), then migrated to tape with
`recall migrate --all --streams 4`: four disk volumes at a time interleaved on one drive onto
LTO-8-like cartridges of 32 MiB (so the data spreads over about ten of them), one copy.

The mix: 500 of the 600 files drawn at random, dealt to four users (rctest-alice, -bob, -carol,
-dave) in random order; each user's process fires all of its 125 reads at once (one connection
each, GET /v1/content, every body checked against its SHA-256), and the four start together.
The library has two drives, both empty at the start, and the staging cache is empty.

Measured, for each scheduler (recalld restarted with --tape-scheduler recall, then fcfs):
makespan = recalld's model clock from the release of the users to the last byte of the last
file; drive mounts; records read. The lower bound is recalld's own estimate for the 500 files
(POST /v1/estimate): each needed cartridge mounted once and read in one forward pass, the passes
shared over the drives as evenly as they go, the last unmount of each drive left out. Model
seconds are real seconds divided by the time scale: 0.1 for Recall's run (a 21 s mount takes
2.1 s), 0.02 for FCFS's, which is some fifty times longer (--scale, --fcfs-scale); the benchmark's
own overhead (500 requests submitted over two cores) is magnified by 1/scale in model time. Goals: Recall within 1.25x of the lower bound, and at least 5x faster than FCFS.

Python 3 standard library only. Run as root (the users read as themselves through setpriv).
"""
import argparse
import hashlib
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import spine  # noqa: E402  (UnixHTTP, machine description)

HOSTS = 10
FILES_PER_HOST = 60
MIX = 500
USERS = ["rctest-alice", "rctest-bob", "rctest-carol", "rctest-dave"]
DATA_VERSION = 1
MIGRATION_SCALE = ["--tape-time-scale", "0.02"]


def log(msg):
    print(f"[tape {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# One user's reads: every file at once, each on its own connection; prints a JSON summary.
USER_SCRIPT = r'''
import hashlib, http.client, json, socket, sys, threading, time, urllib.parse
sock, paths = sys.argv[1], json.load(sys.stdin)
class C(http.client.HTTPConnection):
    def __init__(s): super().__init__("localhost", timeout=3600)
    def connect(s):
        s.sock = socket.socket(socket.AF_UNIX); s.sock.connect(sock)
out, lock = [], threading.Lock()
go = threading.Event()
def read(host, path):
    c = C(); go.wait(); t0 = time.monotonic()
    c.request("GET", "/v1/content?host=" + host + "&path=" + urllib.parse.quote(path, safe=""))
    r = c.getresponse(); h = hashlib.sha256(); n = 0
    while True:
        b = r.read(1 << 20)
        if not b: break
        h.update(b); n += len(b)
    ok = r.status == 200 and h.hexdigest() == r.getheader("X-Recall-Sha256")
    with lock: out.append({"path": path, "ok": ok, "status": r.status, "bytes": n, "t0": t0, "t1": time.monotonic()})
ts = [threading.Thread(target=read, args=p) for p in paths]
for t in ts: t.start()
sys.stdout.write("ready\n"); sys.stdout.flush()
sys.stdin.close()
open(sys.argv[2]).read()  # a FIFO: opens when the benchmark releases everyone at once
go.set()
for t in ts: t.join()
print(json.dumps(out))
'''


def make_data(root, seed):
    stamp = os.path.join(root, ".dataset.json")
    want = {"version": DATA_VERSION, "seed": seed, "hosts": HOSTS, "files": FILES_PER_HOST}
    if os.path.exists(stamp) and json.load(open(stamp)) == want:
        return
    shutil.rmtree(root, ignore_errors=True)
    rnd = random.Random(f"recall-bench-tape:{seed}")
    for h in range(HOSTS):
        d = os.path.join(root, f"h{h}")
        os.makedirs(d)
        for i in range(FILES_PER_HOST):
            size = int(16384 * (2048 / 16) ** rnd.random())  # log-uniform 16 KiB .. 2 MiB
            data = rnd.randbytes(size) if rnd.random() < 0.7 else (b"log line %d of host %d\n" % (i, h) * (size // 20 + 1))[:size]
            with open(os.path.join(d, f"f{i:02d}.bin"), "wb") as f:
                f.write(data)
            os.chmod(os.path.join(d, f"f{i:02d}.bin"), 0o644)
        os.chmod(d, 0o755)
    os.chmod(root, 0o755)
    json.dump(want, open(stamp, "w"))


class Daemon:
    def __init__(self, bin_dir, home, args):
        self.recalld = os.path.join(bin_dir, "catalogd", "recalld")
        self.cli = os.path.join(bin_dir, "cli", "recall")
        self.home, self.args = home, args
        self.sock = os.path.join(home, "recalld.sock")
        self.proc = None

    def start(self, extra=()):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.logf = open(self.home + ".log", "a")
        self.proc = subprocess.Popen([self.recalld, "--home", self.home, *self.args, *extra], stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        t0 = time.time()
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.time() - t0 > 30:
                raise RuntimeError(f"recalld did not start; see {self.home}.log")
            time.sleep(0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)

    def call(self, method, target, body=None):
        c = spine.UnixHTTP(self.sock, timeout=3600)
        c.request(method, target, body=json.dumps(body) if body is not None else None,
                  headers={"Content-Type": "application/json"} if body is not None else {})
        r = c.getresponse()
        data = r.read()
        c.close()
        if r.status >= 300:
            raise RuntimeError(f"{method} {target}: {r.status} {data[:500]!r}")
        return json.loads(data) if data else None

    def cli_json(self, *args):
        p = subprocess.run([self.cli, "--socket", self.sock, "--json", *args], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"recall {' '.join(args)}: {p.stderr.strip()}")
        return json.loads(p.stdout)

    def metrics(self):
        c = spine.UnixHTTP(self.sock)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        c.close()
        return {k: int(v) for k, _, v in (line.partition(" ") for line in text.splitlines())}


def prepare(d, data, rebuild):
    marker = os.path.join(d.home, ".prepared")
    if os.path.exists(marker) and not rebuild:
        d.start(MIGRATION_SCALE)
        return json.load(open(marker))
    shutil.rmtree(d.home, ignore_errors=True)
    os.makedirs(d.home)
    d.start(MIGRATION_SCALE)
    for h in range(HOSTS):
        d.cli_json("import", "dir", "--host", f"bench-h{h}", "--at", f"2026-01-01T{h:02d}:00:00Z",
                   os.path.join(data, f"h{h}"))
    t0 = time.time()
    job = d.cli_json("migrate", "--all", "--streams", "4")
    info = {"migrate_real_s": time.time() - t0, "migration": job["report"]}
    json.dump(info, open(marker, "w"))
    return info


def run_mix(d, mix, scheduler, scale, home):
    d.stop()
    shutil.rmtree(os.path.join(home, "tape", "cache"), ignore_errors=True)  # nothing staged yet
    d.start(["--tape-scheduler", scheduler, "--tape-time-scale", str(scale)])
    m0 = d.metrics()
    fifo = os.path.join(home, "go.fifo")
    if os.path.exists(fifo):
        os.unlink(fifo)
    os.mkfifo(fifo, 0o644)
    procs = []
    for user, paths in mix.items():
        p = subprocess.Popen(["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "/usr/bin/python3",
                              "-c", USER_SCRIPT, d.sock, fifo], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
        p.stdin.write(json.dumps(paths))
        p.stdin.close()
        procs.append(p)
    for p in procs:
        assert p.stdout.readline().strip() == "ready"  # every connection opened
    clock0 = d.call("GET", "/v1/queue")["model_time_s"]
    real0 = time.monotonic()
    with open(fifo, "w"):  # opening the write end releases all readers at once
        pass
    results = []
    for p in procs:
        out = p.stdout.read()
        p.wait()
        results += json.loads(out)
    real1 = time.monotonic()
    clock1 = d.call("GET", "/v1/queue")["model_time_s"]
    m1 = d.metrics()
    drives = d.call("GET", "/v1/queue")["drives"]
    os.unlink(fifo)
    bad = [r for r in results if not r["ok"]]
    if bad:
        raise RuntimeError(f"{scheduler}: {len(bad)} reads failed or did not match their SHA-256, e.g. {bad[:3]}")
    last = max(r["t1"] for r in results)
    return {
        "scheduler": scheduler,
        "scale": scale,
        "files": len(results),
        "bytes": sum(r["bytes"] for r in results),
        "makespan_model_s": (last - real0) / scale,
        "clock_model_s": clock1 - clock0,
        "real_s": real1 - real0,
        "mounts": m1["recall_tape_mounts_total"] - m0["recall_tape_mounts_total"],
        "records_read": m1["recall_tape_records_read_total"] - m0["recall_tape_records_read_total"],
        "chunks_staged": m1["recall_staging_chunks_total"] - m0["recall_staging_chunks_total"],
        "median_file_model_s": sorted((r["t1"] - real0) / scale for r in results)[len(results) // 2],
        "first_request_model_s": (min(r["t0"] for r in results) - real0) / scale,
        "drives": drives,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default=os.environ.get("RECALL_BENCH_WORK", "/var/tmp/recall-bench") + "/tape")
    ap.add_argument("--bin-dir", default=os.environ.get("RECALL_BIN_DIR", os.path.join(HERE, "..", "build")))
    ap.add_argument("--scale", type=float, default=0.1,
                    help="real seconds per model second for Recall's run (the larger, the less the benchmark's own "
                         "overhead is magnified)")
    ap.add_argument("--fcfs-scale", type=float, default=0.02,
                    help="the same for the FCFS run, which takes some 50 times longer in model time")
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--only", default="recall,fcfs", help="schedulers to run: recall,fcfs")
    ap.add_argument("--rebuild", action="store_true", help="import and migrate again")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    data = os.path.join(a.work, "data")
    make_data(data, a.seed)
    home = os.path.join(a.work, "home")
    # The binaries are copied first, so a rebuild during the run does not change them.
    bin_dir = os.path.join(a.work, "bin")
    for sub, name in (("catalogd", "recalld"), ("cli", "recall")):
        os.makedirs(os.path.join(bin_dir, sub), exist_ok=True)
        shutil.copy2(os.path.join(a.bin_dir, sub, name), os.path.join(bin_dir, sub, name))
    d = Daemon(bin_dir, home,
               ["--tape-drives", "2", "--tape-slots", "30", "--tape-cartridges", "24", "--tape-capacity-mb", "20",
                "--max-connections", "1024", "--tape-cache-mb", "2048"])
    try:
        info = prepare(d, data, a.rebuild)
        vols = d.cli_json("volumes")
        carts = [c for c in vols["cartridges"] if c["chunks"]]
        log(f"data on {len(carts)} cartridges: {', '.join(c['volser'] for c in carts)}")
        d.stop()  # the bound is for an empty staging cache, as the runs start with
        shutil.rmtree(os.path.join(home, "tape", "cache"), ignore_errors=True)
        d.start(MIGRATION_SCALE)
        rnd = random.Random(f"recall-bench-tape-mix:{a.seed}")
        files = [(f"bench-h{h}", os.path.join(data, f"h{h}", f"f{i:02d}.bin"))
                 for h in range(HOSTS) for i in range(FILES_PER_HOST)]
        chosen = rnd.sample(files, MIX)
        mix = {u: [] for u in USERS}
        for k, f in enumerate(chosen):
            mix[USERS[k % len(USERS)]].append(f)
        for u in USERS:
            rnd.shuffle(mix[u])
        est = d.call("POST", "/v1/estimate", {"files": [{"host": h, "path": p} for h, p in chosen]})
        log(f"lower bound: {est['lower_bound_model_s']:.0f} model s over {len(est['cartridges'])} cartridges")
        runs = []
        for sched in a.only.split(","):
            log(f"running the mix with the {sched} scheduler")
            scale = a.fcfs_scale if sched == "fcfs" else a.scale
            r = run_mix(d, mix, sched, scale, home)
            log(f"{sched}: makespan {r['makespan_model_s']:.0f} model s ({r['real_s']:.1f} s real), {r['mounts']} mounts")
            runs.append(r)
    finally:
        d.stop()
    res = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": spine.machine(), "seed": a.seed,
           "files_in_mix": MIX, "users": len(USERS), "drives": 2, "cartridges_with_data": len(carts),
           "cartridges_needed": len(est["cartridges"]), "mix_bytes": est["bytes"],
           "lower_bound_model_s": est["lower_bound_model_s"], "migration": info, "runs": runs}
    out = os.path.join(os.path.dirname(a.work), f"tape-results-{time.strftime('%Y%m%d-%H%M%S')}.json")
    json.dump(res, open(out, "w"), indent=1)
    print(markdown(res))
    log(f"raw figures: {out}")


def markdown(res):
    lb = res["lower_bound_model_s"]
    by = {r["scheduler"]: r for r in res["runs"]}
    L = [f"Mix: {res['files_in_mix']} files ({res['mix_bytes'] / 1e6:.0f} MB) by {res['users']} users at once, "
         f"{res['cartridges_needed']} cartridges needed (data on {res['cartridges_with_data']}), "
         f"{res['drives']} drives.", "",
         "| schedule | time scale | makespan (model s) | vs lower bound | mounts | records read | median file done (model s) |",
         "|---|---|---|---|---|---|---|",
         f"| lower bound | - | {lb:.0f} | 1.00x | {res['cartridges_needed']} | - | - |"]
    for name in ("recall", "fcfs"):
        if name in by:
            r = by[name]
            L.append(f"| {'Recall' if name == 'recall' else 'first come, first served'} | {r['scale']} | {r['makespan_model_s']:.0f} | "
                     f"{r['makespan_model_s'] / lb:.2f}x | {r['mounts']} | {r['records_read']} | {r['median_file_model_s']:.0f} |")
    if "recall" in by:
        ratio = by["recall"]["makespan_model_s"] / lb
        L.append("")
        L.append(f"Goal 1, Recall within 1.25x of the lower bound: {ratio:.2f}x, {'PASS' if ratio <= 1.25 else 'FAIL'}")
        if "fcfs" in by:
            speed = by["fcfs"]["makespan_model_s"] / by["recall"]["makespan_model_s"]
            L.append(f"Goal 2, at least 5x faster than FCFS: {speed:.1f}x, {'PASS' if speed >= 5 else 'FAIL'}")
    m = res["migration"]["migration"]
    L.append(f"Migration of the 10 disk volumes (4 streams interleaved on one drive): {m['bytes'] / 1e6:.0f} MB in "
             f"{m['model_seconds']:.0f} model s onto {len(m['cartridges'])} cartridges, {m['commits']} commits.")
    return "\n".join(L)


if __name__ == "__main__":
    main()
