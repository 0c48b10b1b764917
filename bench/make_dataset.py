#!/usr/bin/env python3
"""Builds the five-day spine benchmark dataset from Debian's linux-source tarball.

Day 1 is the kernel tree exactly as shipped in /usr/src/linux-source-*.tar.xz (top directory
stripped). Each later day is a copy of the day before with, chosen by a seeded RNG:
  * about 1% of regular files edited (a line inserted, a block appended or a run of lines
    removed; mtime set to that day),
  * a few dozen files deleted and a few dozen added (copies of existing files with a header,
    so they deduplicate partly),
  * one directory (10-300 entries below it) renamed.
Everything is deterministic: lists are sorted before the RNG picks, the RNG is seeded from
(seed, day), and every mtime the generator touches is a fixed timestamp of that day.

The trees live in WORK/days/day1..day5 with WORK/days/dataset.json recording the generator
version, the seed, the tarball, per-day counts and two digests per day: `meta_digest`
(path, type, mode, size, mtime, link target of every entry; checked on every reuse) and
`content_digest` (SHA-256 over every file's bytes; checked with --verify-content).
If dataset.json exists and the trees still match it, nothing is regenerated.

Usage: make_dataset.py [--work /var/tmp/recall-bench] [--seed 20260101] [--force]
                       [--verify-content] [--tarball PATH]
Python 3 standard library only.
"""
import argparse
import datetime
import glob
import hashlib
import json
import os
import random
import shutil
import stat
import subprocess
import sys
import time

GENERATOR_VERSION = 1
DAYS = 5
EDIT_FRACTION = 0.01


def log(msg):
    print(f"[dataset] {msg}", file=sys.stderr, flush=True)


def day_epoch(day, second=0):
    """A fixed timestamp on 2026-01-0<day> 09:00 UTC (+ second)."""
    base = datetime.datetime(2026, 1, day, 9, 0, 0, tzinfo=datetime.timezone.utc)
    return int(base.timestamp()) + second


def walk_sorted(root):
    """Yields (relpath, lstat) for every entry below root (root excluded), sorted, no symlink follow."""
    stack = [""]
    while stack:
        rel = stack.pop()
        full = os.path.join(root, rel) if rel else root
        with os.scandir(full) as it:
            names = sorted(e.name for e in it)
        subdirs = []
        for n in names:
            r = f"{rel}/{n}" if rel else n
            st = os.lstat(os.path.join(root, r))
            yield r, st
            if stat.S_ISDIR(st.st_mode):
                subdirs.append(r)
        stack.extend(reversed(subdirs))


def type_char(mode):
    if stat.S_ISREG(mode):
        return "f"
    if stat.S_ISDIR(mode):
        return "d"
    if stat.S_ISLNK(mode):
        return "l"
    return "o"


def tree_digests(root, content=False):
    meta = hashlib.sha256()
    cont = hashlib.sha256()
    counts = {"entries": 0, "files": 0, "dirs": 0, "symlinks": 0, "bytes": 0}
    for rel, st in walk_sorted(root):
        t = type_char(st.st_mode)
        counts["entries"] += 1
        target = ""
        if t == "f":
            counts["files"] += 1
            counts["bytes"] += st.st_size
        elif t == "d":
            counts["dirs"] += 1
        elif t == "l":
            counts["symlinks"] += 1
            target = os.readlink(os.path.join(root, rel))
        size = st.st_size if t == "f" else 0
        meta.update(f"{rel}\0{t}\0{stat.S_IMODE(st.st_mode):o}\0{size}\0{int(st.st_mtime)}\0{target}\n".encode(
            "utf-8", "surrogateescape"))
        if content and t == "f":
            h = hashlib.sha256()
            with open(os.path.join(root, rel), "rb") as f:
                while True:
                    b = f.read(1 << 20)
                    if not b:
                        break
                    h.update(b)
            cont.update(f"{rel}\0".encode("utf-8", "surrogateescape") + h.digest())
    return meta.hexdigest(), (cont.hexdigest() if content else None), counts


def find_tarball(explicit):
    if explicit:
        return explicit
    cands = sorted(glob.glob("/usr/src/linux-source-*.tar.xz"))
    if not cands:
        sys.exit("make_dataset: no /usr/src/linux-source-*.tar.xz; run bench/setup.sh first")
    return cands[-1]


def edit_bytes(rng, data, day, k):
    """Returns edited content: insert a line, append a block, or drop a run of lines."""
    lines = data.split(b"\n")
    kind = rng.random()
    marker = f"/* recall-bench day {day} edit {k}: {rng.getrandbits(64):016x} */".encode()
    if kind < 0.6 or len(lines) < 4:
        pos = rng.randrange(len(lines) + 1)
        lines.insert(pos, marker)
    elif kind < 0.8:
        # append 5-40 lines taken from elsewhere in the file, plus the marker
        n = rng.randint(5, 40)
        start = rng.randrange(len(lines))
        lines.extend([marker] + lines[start:start + n])
    else:
        n = max(1, min(len(lines) // 10, rng.randint(1, 30)))
        start = rng.randrange(len(lines) - n + 1)
        del lines[start:start + n]
        lines.insert(start, marker)
    return b"\n".join(lines)


def make_next_day(prev_dir, day_dir, day, seed):
    rng = random.Random(f"recall-bench:{seed}:day{day}")
    tmp = day_dir + ".tmp"
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    subprocess.run(["cp", "-a", "--reflink=auto", prev_dir, tmp], check=True)

    files, dirs = [], []
    for rel, st in walk_sorted(tmp):
        if stat.S_ISREG(st.st_mode):
            files.append((rel, st.st_size))
        elif stat.S_ISDIR(st.st_mode):
            dirs.append(rel)
    files.sort()
    dirs.sort()
    touched_dirs = set()
    changes = {"edited": [], "deleted": [], "added": [], "renamed": None}

    # 1. edits: ~1% of regular files, non-empty, below 4 MiB
    candidates = [r for r, s in files if 0 < s < (4 << 20)]
    n_edit = int(round(len(files) * EDIT_FRACTION))
    for k, rel in enumerate(sorted(rng.sample(candidates, n_edit))):
        p = os.path.join(tmp, rel)
        with open(p, "rb") as f:
            data = f.read()
        with open(p, "wb") as f:
            f.write(edit_bytes(rng, data, day, k))
        t = day_epoch(day, k)
        os.utime(p, (t, t), follow_symlinks=False)
        changes["edited"].append(rel)
    edited = set(changes["edited"])

    # 2. deletions: a few dozen files not just edited
    n_del = rng.randint(30, 60)
    pool = [r for r, _ in files if r not in edited]
    for rel in sorted(rng.sample(pool, n_del)):
        os.unlink(os.path.join(tmp, rel))
        touched_dirs.add(os.path.dirname(rel))
        changes["deleted"].append(rel)
    deleted = set(changes["deleted"])

    # 3. additions: a few dozen new files, copies of an existing file with a header line
    n_add = rng.randint(30, 60)
    live_files = [r for r, _ in files if r not in deleted]
    for k in range(n_add):
        src = rng.choice(live_files)
        dest_dir = rng.choice(dirs)
        stem, ext = os.path.splitext(os.path.basename(src))
        name = f"{stem}_d{day}n{k:02d}{ext}"
        dest = f"{dest_dir}/{name}" if dest_dir else name
        if os.path.lexists(os.path.join(tmp, dest)):
            continue
        with open(os.path.join(tmp, src), "rb") as f:
            data = f.read()
        header = f"/* recall-bench day {day} added file {k} from {src} */\n".encode()
        with open(os.path.join(tmp, dest), "wb") as f:
            f.write(header + data)
        os.chmod(os.path.join(tmp, dest), 0o644)
        t = day_epoch(day, 3600 + k)
        os.utime(os.path.join(tmp, dest), (t, t))
        touched_dirs.add(dest_dir)
        changes["added"].append(dest)

    # 4. one directory rename: 10..300 entries below it, depth >= 2, not top level
    below = {}
    for rel, _ in files:
        parts = rel.split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            below[d] = below.get(d, 0) + 1
    rename_pool = sorted(d for d, n in below.items()
                         if 10 <= n <= 300 and d.count("/") >= 1 and os.path.isdir(os.path.join(tmp, d)))
    victim = rng.choice(rename_pool)
    new = f"{victim}-v{day}"
    os.rename(os.path.join(tmp, victim), os.path.join(tmp, new))
    touched_dirs.add(os.path.dirname(victim))
    changes["renamed"] = [victim, new, below[victim]]

    # directory mtimes: every directory whose entries changed gets a fixed time of this day
    t = day_epoch(day, 7200)
    for d in sorted(touched_dirs, key=lambda x: -x.count("/")):
        p = os.path.join(tmp, d) if d else tmp
        if os.path.isdir(p):
            os.utime(p, (t, t))
    os.rename(tmp, day_dir)
    return {k: (len(v) if isinstance(v, list) and k != "renamed" else v) for k, v in changes.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=os.environ.get("RECALL_BENCH_WORK", "/var/tmp/recall-bench"))
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--tarball")
    ap.add_argument("--force", action="store_true", help="regenerate even if the recorded trees match")
    ap.add_argument("--verify-content", action="store_true", help="also re-hash every file on reuse")
    args = ap.parse_args()

    days_root = os.path.join(args.work, "days")
    meta_path = os.path.join(days_root, "dataset.json")
    tarball = find_tarball(args.tarball)
    tb_stat = os.stat(tarball)
    tb_id = {"path": tarball, "size": tb_stat.st_size, "package": package_version()}

    if os.path.exists(meta_path) and not args.force:
        with open(meta_path) as f:
            rec = json.load(f)
        ok = (rec.get("generator") == GENERATOR_VERSION and rec.get("seed") == args.seed
              and rec.get("tarball", {}).get("size") == tb_id["size"])
        if ok:
            for d in rec["days"]:
                path = os.path.join(days_root, f"day{d['day']}")
                if not os.path.isdir(path):
                    ok = False
                    break
                m, c, _ = tree_digests(path, content=args.verify_content)
                if m != d["meta_digest"] or (args.verify_content and c != d["content_digest"]):
                    log(f"day{d['day']} does not match its recorded manifest")
                    ok = False
                    break
        if ok:
            log(f"reusing {days_root} (manifests match{', contents verified' if args.verify_content else ''})")
            print(json.dumps(rec))
            return
        log("recorded dataset does not match; regenerating")

    os.makedirs(days_root, exist_ok=True)
    if os.path.exists(meta_path):
        os.unlink(meta_path)
    for d in range(1, DAYS + 1):
        for p in (os.path.join(days_root, f"day{d}"), os.path.join(days_root, f"day{d}.tmp")):
            if os.path.exists(p):
                shutil.rmtree(p)

    rec = {"generator": GENERATOR_VERSION, "seed": args.seed, "tarball": tb_id, "days": []}
    t0 = time.time()
    day1 = os.path.join(days_root, "day1")
    tmp = day1 + ".tmp"
    os.makedirs(tmp)
    log(f"day1: extracting {tarball}")
    subprocess.run(["tar", "-xJf", tarball, "-C", tmp, "--strip-components=1", "--same-permissions",
                    "--numeric-owner"], check=True)
    os.rename(tmp, day1)
    changes = {"edited": 0, "deleted": 0, "added": 0, "renamed": None}
    for d in range(1, DAYS + 1):
        path = os.path.join(days_root, f"day{d}")
        if d > 1:
            log(f"day{d}: copying day{d - 1} and applying seeded changes")
            changes = make_next_day(os.path.join(days_root, f"day{d - 1}"), path, d, args.seed)
        m, c, counts = tree_digests(path, content=True)
        entry = {"day": d, "meta_digest": m, "content_digest": c, **counts, "changes": changes}
        rec["days"].append(entry)
        log(f"day{d}: {counts['entries']} entries, {counts['files']} files, {counts['bytes'] / 1e6:.0f} MB, "
            f"changes {changes}")
    rec["generated_seconds"] = round(time.time() - t0, 1)
    with open(meta_path + ".tmp", "w") as f:
        json.dump(rec, f, indent=1)
    os.rename(meta_path + ".tmp", meta_path)
    print(json.dumps(rec))


def package_version():
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", "linux-source"], capture_output=True,
                              text=True).stdout.strip() or None
    except OSError:
        return None


if __name__ == "__main__":
    main()
