#!/usr/bin/env python3
"""End-to-end tests of the tape bridge (issue 4): a real recalld with its simulated tape library
(cartridge files under HOME/tape, drives timed by the LTO-8-like model, scaled down), real
imports, migration to tape with two copies, eviction of the disk copies, and reads through the
CLI and through a real recall-fs mount that stage the data back, as root and as the test users.

Run as root:  cd BUILD && ctest -R e2e_tape --output-on-failure
or directly:  RECALL_BIN_DIR=BUILD python3 -m unittest -v test_tape   (in tests/e2e)

The tests of one class run in order (test_1..., test_2...) over one daemon: migration first,
then reads, a damaged cartridge, an off-site one, and a migration killed with SIGKILL.
"""

import errno
import fcntl
import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
import traceback
import unittest

import test_spine as spine
from test_fs import FsBase, PYTHON
from test_spine import ALICE, BOB, CAROL, DAVE, Snapshot, b, clean_env, diff_listings, mkdir, show, user_cmd, write

HOST = "tapehost"
T1, T2 = spine.T1, spine.T2
# Mounts take 21 model seconds: 42 ms here. Cartridges of 6 MiB, so the data spreads over several.
FAST = ["--tape-drives", "2", "--tape-slots", "40", "--tape-cartridges", "30", "--tape-capacity-mb", "6",
        "--tape-time-scale", "0.002"]


def build_tree(root):
    """About 20 MB: files of many sizes (some incompressible, so blocks span tape records), a
    4 MiB file of many chunks, duplicates, a hard link, and a file only alice may read."""
    rnd = random.Random(20261201)
    mkdir(root)
    for d in range(6):
        mkdir(f"{root}/d{d}")
        for i in range(10):
            size = rnd.choice([0, 100, 5000, 70000, 300000, 1200000])
            data = rnd.randbytes(size) if i % 3 else (b"compressible text %d " % i * (size // 20 + 1))[:size]
            write(f"{root}/d{d}/f{i}.bin", data)
    big = rnd.randbytes(4 << 20)
    write(f"{root}/big.bin", big)
    write(f"{root}/dup.bin", big)
    os.link(f"{root}/big.bin", f"{root}/big-link.bin")
    write(f"{root}/private.txt", b"alice only\n" * 500, mode=0o600, owner=ALICE)
    os.chmod(root, 0o755)


def change_tree(root):
    rnd = random.Random(2)
    for d, i in ((0, 1), (1, 2), (2, 4), (3, 5), (4, 7)):
        write(f"{root}/d{d}/f{i}.bin", rnd.randbytes(250000))
    os.unlink(f"{root}/d5/f1.bin")
    os.unlink(f"{root}/dup.bin")
    for i in range(3):
        write(f"{root}/new{i}.bin", rnd.randbytes(100000 + i))


class TapeBase(FsBase):
    """FsBase (own recalld and mounts) with the helpers of the tape tests."""

    daemon_args = FAST

    @classmethod
    def mount_fs(cls):
        pass  # the tests mount when they need it

    def metrics(self):
        r = subprocess.run(["curl", "-s", "--unix-socket", self.sock, "http://r/metrics"], stdout=subprocess.PIPE,
                           timeout=30)
        out = {}
        for line in r.stdout.decode().splitlines():
            k, _, v = line.partition(" ")
            out[k] = int(v)
        return out

    def api_as(self, user, method, path, body=None):
        """(HTTP status, JSON) of a request straight to recalld's socket as `user`."""
        cmd = ["curl", "-s", "-X", method, "-o", "-", "-w", "\n%{http_code}", "--unix-socket", self.sock,
               "http://r" + path]
        if body is not None:
            cmd += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
        r = subprocess.run(user_cmd(user, cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                           cwd=self.base, env=clean_env())
        text, _, code = r.stdout.rpartition(b"\n")
        return int(code), json.loads(text) if text.strip() else None

    def volumes(self):
        return self.rj("volumes")

    def cartridge(self, volser):
        return next(c for c in self.volumes()["cartridges"] if c["volser"] == volser)

    def copies_of(self, path, at="latest"):
        """{copy number: volser} of the first chunk of a file, from `recall stat`'s words."""
        code, j = self.api_as(None, "GET", f"/v1/stat?host={HOST}&at={at}&path={path}")
        assert code == 200, j
        out = {}
        for w in j["where"]:
            parts = w.split()
            if parts[0] == "tape":
                out.setdefault(int(parts[3].rstrip(",")), set()).add(parts[1])
        return out, j

    def fresh_cache(self):
        """recalld restarted with an empty staging cache: the next reads come from tape."""
        self.daemon.stop()
        shutil.rmtree(os.path.join(self.home, "tape", "cache"), ignore_errors=True)
        self.daemon.start()

    def restart(self, args, clear_cache=False):
        self.daemon.stop()
        if clear_cache:
            shutil.rmtree(os.path.join(self.home, "tape", "cache"), ignore_errors=True)
        self.daemon.args = list(args)
        self.daemon.start()

    def assert_tree(self, snap, restored_root, what):
        spine.assert_restored_tree(self, snap, restored_root, what)

    def fresh_dir(self, name, owner=None):
        d = os.path.join(self.base, name)
        shutil.rmtree(d, ignore_errors=True)
        mkdir(d, 0o755, owner=owner)
        return d

    def wait_until(self, what, fn, timeout=60):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = fn()
            if last:
                return last
            time.sleep(0.05)
        self.fail(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


class TapeTest(TapeBase):
    @classmethod
    def prepare(cls):
        cls.src = os.path.join(cls.base, "src")
        build_tree(cls.src)
        cls.import_dir(HOST, cls.src, T1)
        cls.snap = {T1: Snapshot(cls.src)}
        change_tree(cls.src)
        cls.import_dir(HOST, cls.src, T2)
        cls.snap[T2] = Snapshot(cls.src)

    def test_1_migrate_two_copies_and_evict_the_disk_pool(self):
        vols = self.volumes()
        self.assertEqual([d["volser"] for d in vols["disk"]], ["D000001", "D000002"])
        self.assertEqual(len(vols["drives"]), 2)
        r = self.recall("migrate", "--all", "--copies", "2", "--json", timeout=300)
        self.assert_ok(r, "migrate --all --copies 2")
        rep = json.loads(r.stdout)["report"]
        self.assertEqual(sorted(rep["volumes"]), ["D000001", "D000002"], rep)
        self.assertEqual(sorted(rep["evicted"]), ["D000001", "D000002"], rep)
        self.assertGreaterEqual(len(rep["cartridges"]), 4, f"20 MB, two copies, 6 MiB cartridges: {rep}")
        self.assertFalse(rep["warnings"], rep)
        vols = self.volumes()
        for d in vols["disk"]:
            self.assertEqual((d["state"], d["chunks"]), ("evicted", 0), d)
            self.assertFalse(os.path.exists(d["path"]), f"{d['path']}: an evicted volume's file is removed")
        written = [c for c in vols["cartridges"] if c["chunks"] > 0]
        pools = {c["pool"] for c in written}
        self.assertEqual(pools, {1, 2}, written)
        for c in written:
            self.assertIn(c["state"], ("filling", "full"), c)
            self.assertTrue(any(s["host"] == HOST for s in c["sets"]), f"{c['volser']} names its backup sets: {c}")
            self.assertEqual(c["committed_bytes"], c["records"] * 256 * 1024, c)
            self.assertTrue(os.path.getsize(os.path.join(self.home, "tape", "cartridges", c["volser"] + ".tape"))
                            >= c["committed_bytes"])
        full = [c for c in written if c["state"] == "full"]
        self.assertTrue(full, "a cartridge filled up and the migration went on with the next")
        # Every chunk has its two copies on two different cartridges, and no disk copy.
        copies, st = self.copies_of(self.src + "/big.bin")
        self.assertEqual(sorted(copies), [1, 2], st)
        self.assertFalse(copies[1] & copies[2], f"copy 1 and copy 2 on the same cartridge: {st}")
        self.assertFalse([l for l in st["location"] if l.startswith("disk:")], st)
        # Nothing left to migrate: a second run copies nothing and evicts nothing.
        r = self.recall("migrate", "--all", "--json", timeout=120)
        self.assert_ok(r, "second migrate --all")
        self.assertEqual(json.loads(r.stdout)["report"]["chunks"], 0)

    def test_2_restores_from_tape_are_byte_identical(self):
        before = self.metrics()
        for at in (T1, T2):
            dest = self.fresh_dir("restore-" + at[11:13])
            r = self.recall("restore", "--host", HOST, "--at", at, self.src, dest, "--json", timeout=300)
            self.assert_ok(r, f"restore of the tree at {at}")
            self.assert_tree(self.snap[at], os.path.join(dest, "src"), f"the tree at {at}, from tape")
            if at == T1:
                j = json.loads(r.stdout)
                self.assertGreater(j["tape_bytes"], 10 << 20, j)
                self.assertTrue(j["cartridges"], j)
        after = self.metrics()
        self.assertGreater(after["recall_chunks_from_tape_total"], before["recall_chunks_from_tape_total"])
        self.assertEqual(after["recall_checksum_failures_total"], before["recall_checksum_failures_total"])
        # Each cartridge the restores needed was mounted about once, not once per file.
        mounts = after["recall_tape_mounts_total"] - before["recall_tape_mounts_total"]
        self.assertLessEqual(mounts, 2 * len([c for c in self.volumes()["cartridges"] if c["chunks"]]),
                             "restores thrash the drives")
        r = self.recall("cat", "--host", HOST, "--at", T1, self.src + "/dup.bin")
        self.assert_ok(r, "cat of a file only T1 has")
        with open(self.src + "/big.bin", "rb") as f:
            self.assertEqual(r.stdout, f.read())

    def test_3_reads_through_the_mount_stage_from_tape(self):
        self.fresh_cache()
        m = self.new_mount("mnt3")
        top = self.in_point(HOST, T2, self.src, m.path)
        for rel in ("big.bin", "d1/f2.bin", "new0.bin"):
            with open(os.path.join(top, rel), "rb") as f, open(os.path.join(self.src, rel), "rb") as g:
                self.assertEqual(f.read(), g.read(), f"{rel} read through the mount")
        r = subprocess.run(["diff", "-r", top, self.src], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        self.assertEqual(r.returncode, 0, f"diff -r of the mount and the tree: {r.stdout[:2000]!r} {r.stderr[:500]!r}")
        where = subprocess.run(["getfattr", "--absolute-names", "--only-values", "-n", "user.recall.location", os.path.join(top, "big.bin")],
                               stdout=subprocess.PIPE, timeout=30).stdout.decode()
        self.assertIn("tape R", where)
        self.assertIn("copy 2", where)
        staging = subprocess.run(["getfattr", "--absolute-names", "--only-values", "-n", "user.recall.staging", os.path.join(top, "big.bin")],
                                 stdout=subprocess.PIPE, timeout=30).stdout.decode()
        self.assertEqual(staging, "Staged from tape: reads at once")
        # A user reads through the mount too: the kernel checks alice's access, recalld stages.
        r = self.run_as(ALICE, ["cat", os.path.join(top, "private.txt")])
        self.assertEqual(r.returncode, 0, show(r))
        self.assertEqual(r.stdout, b"alice only\n" * 500)
        r = self.run_as(BOB, ["cat", os.path.join(top, "private.txt")])
        self.assertNotEqual(r.returncode, 0, "bob may not read alice's file")
        m.stop()

    def test_4_a_damaged_cartridge_falls_back_to_the_other_copy(self):
        copies, _ = self.copies_of(self.src + "/big.bin")
        bad = sorted(copies[1])[0]
        path = os.path.join(self.home, "tape", "cartridges", bad + ".tape")
        self.fresh_cache()
        # Every data record of the cartridge is garbage from its first byte on: a dead tape.
        size = os.path.getsize(path)
        with open(path, "r+b") as f:
            for off in range(256 * 1024, size, 256 * 1024):
                f.seek(off)
                f.write(os.urandom(4096))
        before = self.metrics()
        dest = self.fresh_dir("restore-damaged")
        r = self.recall("restore", "--host", HOST, "--at", T2, self.src, dest, timeout=300)
        self.assert_ok(r, f"restore with cartridge {bad} damaged")
        self.assert_tree(self.snap[T2], os.path.join(dest, "src"), f"the tree at T2 with {bad} damaged")
        after = self.metrics()
        self.assertGreater(after["recall_tape_copy_fallbacks_total"], before["recall_tape_copy_fallbacks_total"])
        self.assertGreater(after["recall_tape_read_errors_total"], before["recall_tape_read_errors_total"])
        self.assertGreater(self.cartridge(bad)["read_errors"], 0)
        self.assertIn(f"from {bad} failed", self.daemon.log())
        self.__class__.damaged = bad

    def test_5_an_off_site_copy_waits_for_the_operator(self):
        # big.bin's copy 1 is on the damaged cartridge; its copy 2 goes off-site.
        copies, _ = self.copies_of(self.src + "/big.bin")
        self.assertIn(self.damaged, copies[1])
        vault = sorted(copies[2])[0]
        self.fresh_cache()
        r = self.recall("volumes", "check-out", vault, "--note", "to the vault")
        self.assert_ok(r, f"check-out {vault}")
        c = self.cartridge(vault)
        self.assertEqual((c["place"], c["note"]), ("off-site", "to the vault"))
        cat = subprocess.Popen(user_cmd(ALICE, [spine.RECALL, "--socket", self.sock, "cat", "--host", HOST,
                                                self.src + "/big.bin"]),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env(), cwd=self.base)
        try:
            def waiting():
                q = self.rj("queue")
                ops = [o for o in q["operator_requests"] if o["volser"] == vault]
                reqs = [x for x in q["requests"] if x["state"] == "waiting for operator"]
                return (ops, reqs) if ops and reqs else None
            ops, reqs = self.wait_until("an operator request for " + vault, waiting)
            self.assertEqual(ops[0]["action"], "check in")
            self.assertEqual(reqs[0]["user"], ALICE)
            self.assertEqual(reqs[0]["cartridge"], vault)
            self.assertIn(f"bring tape {vault} back", reqs[0]["words"])
            self.assertIn(vault, self.recall("queue").stdout.decode())
            # Alice sees her own request; bob sees none of hers.
            code, mine = self.api_as(ALICE, "GET", "/v1/queue")
            self.assertEqual((code, len(mine["requests"])), (200, 1), mine)
            self.assertNotIn("drives", mine, "only admins see the drives")
            code, theirs = self.api_as(BOB, "GET", "/v1/queue")
            self.assertEqual((code, theirs["requests"], theirs["others"]), (200, [], 1), theirs)
            time.sleep(0.3)
            self.assertIsNone(cat.poll(), "the read waits while the cartridge is off-site")
            r = self.recall("volumes", "check-in", vault)
            self.assert_ok(r, f"check-in {vault}")
            out, err = cat.communicate(timeout=120)
        finally:
            if cat.poll() is None:
                cat.kill()
                cat.wait()
        self.assertEqual(cat.returncode, 0, err)
        with open(self.src + "/big.bin", "rb") as f:
            self.assertEqual(out, f.read())
        self.assertFalse([o for o in self.rj("queue")["operator_requests"] if o["volser"] == vault])
        self.assertNotEqual(self.cartridge(vault)["place"], "off-site")

    def test_6_access_and_admin_verbs(self):
        self.fresh_cache()
        private = self.src + "/private.txt"
        r = self.recall("cat", "--host", HOST, private, user=BOB)
        self.assert_one_line_error(r, codes=(4,), what="bob reads alice's file")
        code, j = self.api_as(BOB, "POST", "/v1/stage", {"host": HOST, "paths": [private]})
        self.assertEqual(code, 200, j)
        self.assertEqual((j["id"], j["files"]), (0, 0), "nothing staged for a file bob may not read")
        self.assertEqual(len(j["skipped"]), 1)
        self.assertFalse([x for x in self.rj("queue")["requests"] if x["user"] == BOB])
        code, j = self.api_as(BOB, "GET", "/v1/staging?host=" + HOST + "&path=" + private)
        self.assertEqual(code, 403, j)
        for verb in (["volumes"], ["volumes", "check-out", "R00001"], ["migrate", "--all"]):
            r = self.recall(*verb, user=BOB)
            self.assert_one_line_error(r, codes=(4,), what=f"bob runs recall {' '.join(verb)}")
        self.assert_ok(self.recall("volumes", user=DAVE), "dave (recall-admin) lists volumes")
        # Alice may: her own staging request, her estimate in words.
        code, j = self.api_as(ALICE, "POST", "/v1/estimate", {"host": HOST, "paths": [private, self.src + "/big.bin"]})
        self.assertEqual(code, 200, j)
        self.assertEqual(j["files"], 2)
        self.assertRegex(j["words"], r"^2 files, \d+ MB, \d tapes?, ")
        code, j = self.api_as(ALICE, "POST", "/v1/stage", {"host": HOST, "paths": [private], "priority": "prefetch"})
        self.assertIn(code, (200, 202), j)
        if j["id"]:
            self.wait_until("alice's prefetch", lambda: self.api_as(ALICE, "GET", f"/v1/queue/{j['id']}")[1]["state"] == "done")
        code, st = self.api_as(ALICE, "GET", "/v1/staging?host=" + HOST + "&path=" + private)
        self.assertEqual((code, st["state"]), (200, "staged"), st)
        # Bad input: one line, the right exit code.
        for args, codes in ((["volumes", "check-in", "not a volser"], (2,)),
                            (["volumes", "check-out", "R99999"], (3,)),
                            (["volumes", "evict", "R00001"], (2,)),
                            (["migrate", "D999999"], (3,)),
                            (["migrate"], (2,)),
                            (["migrate", "--copies", "3", "--all"], (2,))):
            self.assert_one_line_error(self.recall(*args), codes=codes, what=f"recall {' '.join(args)}")

    def test_7_many_concurrent_restores(self):
        self.fresh_cache()
        before = self.metrics()
        users = (ALICE, BOB, CAROL, DAVE)
        results = {}

        def restore(user, i):
            dest = self.fresh_dir(f"many-{user}", owner=user)
            sub = f"d{i}"
            r = self.recall("restore", "--host", HOST, "--at", T1, f"{self.src}/{sub}", dest, user=user, timeout=300)
            results[user] = (r, dest, sub)

        threads = [threading.Thread(target=restore, args=(u, i)) for i, u in enumerate(users)]
        for t in threads:
            t.start()
        # Root reads more at the same time, through the CLI, one file after another.
        for rel in ("d4/f0.bin", "d5/f3.bin", "big.bin"):
            r = self.recall("cat", "--host", HOST, "--at", T1, f"{self.src}/{rel}")
            self.assert_ok(r, f"cat {rel}")
        for t in threads:
            t.join()
        for user, (r, dest, sub) in results.items():
            self.assert_ok(r, f"{user}'s restore of {sub}")
            got = Snapshot(os.path.join(dest, sub), owners=False)
            want_root = b(self.src + "/" + sub)
            want = {p: h for p, h in self.snap[T1].sha.items() if p.startswith(want_root + b"/")}
            for p, h in want.items():
                q = b(dest) + p[len(b(self.src)):]
                self.assertEqual(got.sha.get(q), h, f"{user}: {q!r}")
        after = self.metrics()
        self.assertEqual(after["recall_checksum_failures_total"], before["recall_checksum_failures_total"])
        self.assertEqual(after["recall_tape_queue_requests"], 0)

    def test_8_nonblocking_and_interrupted_reads_through_the_mount(self):
        # Slow tape: a mount takes 4 s, so a read can be watched, and interrupted, while it waits.
        self.restart([*FAST[:-1], "0.2"], clear_cache=True)
        m = self.new_mount("mnt8")
        f = self.in_point(HOST, T2, self.src + "/d3/f3.bin", m.path)
        fd = os.open(f, os.O_RDONLY | os.O_NONBLOCK)
        try:
            with self.assertRaises(OSError) as e:
                os.read(fd, 4096)
            self.assertEqual(e.exception.errno, errno.EAGAIN, "O_NONBLOCK read of data on tape")
        finally:
            os.close(fd)
        self.assertFalse(self.rj("queue")["requests"], "a non-blocking read stages nothing")
        reader = subprocess.Popen(["cat", f], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        words = self.wait_until("the staging state as an xattr", lambda: subprocess.run(
            ["getfattr", "--absolute-names", "--only-values", "-n", "user.recall.staging", f], stdout=subprocess.PIPE).stdout.decode()
            .startswith(("Mounting tape", "Waiting for tape", "Positioning", "Reading")) and subprocess.run(
            ["getfattr", "--absolute-names", "--only-values", "-n", "user.recall.staging", f], stdout=subprocess.PIPE).stdout.decode())
        self.assertRegex(words, r"tape R\d{5}")
        q = self.wait_until("the read in the queue", lambda: self.rj("queue")["requests"])
        self.assertEqual(q[0]["priority"], "interactive")
        reader.send_signal(signal.SIGINT)
        reader.communicate(timeout=30)
        self.assertNotEqual(reader.returncode, 0)
        self.wait_until("the interrupted read's request to be withdrawn", lambda: not self.rj("queue")["requests"])
        with open(f, "rb") as g, open(self.src + "/d3/f3.bin", "rb") as h:
            self.assertEqual(g.read(), h.read(), "a later read gets the file")
        m.stop()
        self.restart(FAST)

    def test_9_a_migration_killed_with_sigkill_loses_nothing_and_resumes(self):
        extra = os.path.join(self.base, "extra")
        mkdir(extra)
        rnd = random.Random(9)
        for i in range(40):
            write(f"{extra}/x{i}.bin", rnd.randbytes(200000))
        self.import_dir("killhost", extra, T1)
        online = [d for d in self.volumes()["disk"] if d["state"] == "online"]
        self.assertEqual(len(online), 1, online)
        vol, chunks = online[0]["volser"], online[0]["chunks"]
        # Slow tape, and a commit every MiB: the migration takes a few seconds, in many commits.
        self.restart([*FAST[:-1], "0.3"])
        proc = subprocess.Popen([spine.RECALL, "--socket", self.sock, "migrate", vol, "--commit-mb", "1", "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())

        def commits():
            jobs = [j for j in self.rj("status")["jobs"] if j["kind"] == "migrate" and j["state"] == "running"]
            return jobs and jobs[0]["progress"]["commits"] >= 2
        try:
            self.wait_until("two commits of the migration", commits, timeout=120)
            self.daemon.kill9()
        finally:
            proc.communicate(timeout=30)
        self.assertNotEqual(proc.returncode, 0, "the CLI sees the daemon go")
        self.daemon.args = FAST
        self.daemon.start()
        vols = self.volumes()
        disk = next(d for d in vols["disk"] if d["volser"] == vol)
        self.assertEqual(disk["state"], "online", "not evicted: the migration did not finish")
        for c in vols["cartridges"]:
            if c["chunks"]:
                self.assertEqual(c["committed_bytes"], c["records"] * 256 * 1024, f"library and catalog agree: {c}")
        dest = self.fresh_dir("restore-killed")
        r = self.recall("restore", "--host", "killhost", extra, dest, timeout=300)
        self.assert_ok(r, "restore after the kill (disk and tape copies)")
        self.assertEqual(subprocess.run(["diff", "-r", extra, os.path.join(dest, "extra")]).returncode, 0)
        r = self.recall("migrate", vol, "--json", timeout=300)
        self.assert_ok(r, "the migration run again")
        rep = json.loads(r.stdout)["report"]
        self.assertEqual(rep["evicted"], [vol], rep)
        self.assertLess(rep["chunks"], chunks, "it resumed: chunks committed before the kill are not copied again")
        self.fresh_cache()
        dest = self.fresh_dir("restore-resumed")
        r = self.recall("restore", "--host", "killhost", extra, dest, timeout=300)
        self.assert_ok(r, "restore from tape after the resumed migration")
        self.assertEqual(subprocess.run(["diff", "-r", extra, os.path.join(dest, "extra")]).returncode, 0)

    def test_9z_both_copies_damaged_is_one_precise_error(self):
        """Regression (issue 24): with both tape copies damaged, cat and restore said "lost the
        connection" (exit 1); the reasons per copy were in recalld's log only."""
        path = self.src + "/big.bin"
        copies, _ = self.copies_of(path)
        self.assertIn(self.damaged, copies[1], "copy 1 is on the cartridge test 4 damaged")
        saved = {}
        try:
            for volser in copies[2]:
                cart = os.path.join(self.home, "tape", "cartridges", volser + ".tape")
                saved[cart] = spine.slurp(cart)
                with open(cart, "r+b") as f:
                    for off in range(256 * 1024, len(saved[cart]), 256 * 1024):
                        f.seek(off)
                        f.write(os.urandom(4096))
            self.fresh_cache()
            r = self.recall("cat", "--host", HOST, path, timeout=300)
            self.assert_one_line_error(r, (7,), "cat with both copies damaged")
            err = r.stderr.decode()
            self.assertNotIn("lost the connection", err)
            self.assertIn(f"copy 1 on {self.damaged}", err, show(r))
            self.assertTrue(any(f"copy 2 on {v}" in err for v in copies[2]), show(r))
            dest = self.fresh_dir("restore-both-damaged")
            r = self.recall("restore", "--host", HOST, path, dest, timeout=300)
            self.assert_one_line_error(r, (7,), "restore with both copies damaged")
            self.assertIn(f"copy 1 on {self.damaged}", r.stderr.decode(), show(r))
            self.assertEqual(os.listdir(dest), [], "nothing half-written is left")
        finally:
            for cart, data in saved.items():
                with open(cart, "wb") as f:
                    f.write(data)
            self.fresh_cache()


if __name__ == "__main__":
    unittest.main()
