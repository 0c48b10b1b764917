#!/usr/bin/env python3
"""End-to-end tests of `recall scan` (issue 6): the catalog is lost and rebuilt from the disk-pool
volumes alone. Two forward-merged points of a changing tree (renames, deletions, hard links,
symlinks, xattrs, a private file, a duplicate and a multi-chunk file) and a gzip tar, imported
into a real recalld; then catalog.db is deleted, recalld restarts (setting the volumes aside as
orphans, as it must) and `recall scan` rebuilds from them. The rebuilt catalog lists the same
points with the same trees and restores the same bytes; scanning again is a no-op; a damaged
volume is refused with one line and the catalog stays as it was.

Run as root:  cd BUILD && ctest -R e2e_scan --output-on-failure
"""

import glob
import os
import shutil
import subprocess
import unittest

from test_spine import ALICE, BOB, E2EBase, Snapshot, diff_listings, mkdir, write

T1, T2, T3 = "2024-06-01T08:00:00Z", "2024-06-02T08:00:00Z", "2024-06-03T08:00:00Z"


class ScanRebuildTest(E2EBase):

    @classmethod
    def prepare(cls):
        work = os.path.join(cls.base, "work")
        cls.src = src = os.path.join(work, "src")
        mkdir(f"{src}/docs/old")
        mkdir(f"{src}/bin")
        write(f"{src}/docs/a.txt", b"alpha\n" * 1000)
        write(f"{src}/docs/dup.txt", b"alpha\n" * 1000)
        write(f"{src}/docs/old/gone.txt", b"deleted at T2\n")
        write(f"{src}/bin/big.bin", os.urandom(3_000_000))  # several chunks
        write(f"{src}/private.txt", b"alice only\n", mode=0o600, owner=ALICE, group=ALICE)
        write(f"{src}/empty", b"")
        os.link(f"{src}/docs/a.txt", f"{src}/docs/a-hard.txt")
        os.symlink("docs/a.txt", f"{src}/link")
        subprocess.run(["setfattr", "-n", "user.note", "-v", "kept", f"{src}/docs/a.txt"], check=True)
        cls.import_dir("h1", src, at=T1)
        shutil.rmtree(f"{src}/docs/old")
        os.rename(f"{src}/bin", f"{src}/tools")
        write(f"{src}/docs/new.txt", os.urandom(100_000))
        write(f"{src}/docs/dup.txt", b"changed\n")
        cls.import_dir("h1", src, at=T2)
        cls.archive = os.path.join(work, "src.tar.gz")
        subprocess.run(["tar", "-czf", cls.archive, "-C", work, "src"], check=True)
        out = cls.rj("import", "tar", "--host", "h2", "--at", T3, cls.archive, timeout=300)
        assert out["imports"][0]["state"] == "complete", out
        cls.views = [("h1", T1, src), ("h1", T2, src), ("h2", T3, "/src")]
        cls.before = cls.capture("before")
        cls.points_before = {h: cls.points(h) for h in ("h1", "h2")}

        # The disaster: the catalog is gone, the volumes survive.
        cls.daemon.stop()
        for f in glob.glob(os.path.join(cls.home, "catalog.db*")):
            os.remove(f)
        cls.daemon.start()
        cls.orphans = sorted(glob.glob(os.path.join(cls.home, "orphans", "*.vol")))
        assert cls.orphans, f"recalld set no volumes aside: {os.listdir(cls.home)}"
        assert cls.rj("hosts")["hosts"] == [], "the catalog should be empty after the loss"
        cls.scan = cls.rj("scan", *cls.orphans, timeout=300)

    @classmethod
    def capture(cls, tag):
        """Per point: its listing (attributes) and the snapshot of a restore of its tree."""
        out = {}
        for host, at, root in cls.views:
            listing = cls.catalog_tree(host, at, root)
            dest = os.path.join(cls.base, f"restore-{tag}-{host}-{at}")
            os.makedirs(dest)
            r = cls.recall("restore", "--host", host, "--at", at, root, dest, timeout=300)
            if r.returncode != 0:
                raise AssertionError(f"restore {host} {at}: {r.stderr.decode()}")
            out[(host, at)] = (listing, Snapshot(os.path.join(dest, os.path.basename(root))))
        return out

    def test_1_scan_rebuilds_every_point(self):
        self.assertEqual(self.scan["state"], "complete", self.scan)
        rep = self.scan["report"]
        self.assertEqual(len(rep["points"]), 3, rep)
        self.assertEqual(rep["incomplete_records"], 0)
        self.assertEqual(rep["warnings"], [])
        for h in ("h1", "h2"):
            want = [(p["at"], p["kind"], p.get("importer")) for p in self.points_before[h]]
            got = [(p["at"], p["kind"], p.get("importer")) for p in self.points(h)]
            self.assertEqual(got, want, f"points of {h}")

    def test_2_same_listings_and_same_bytes(self):
        after = self.capture("after")
        for key, (listing, snap) in self.before.items():
            got_listing, got_snap = after[key]
            d = diff_listings(listing, got_listing)
            self.assertFalse(d, f"{key}: the rebuilt point lists differently:\n{d}")
            rebased = snap.rebased(got_snap.root)
            self.assertFalse(diff_listings(rebased.attrs, got_snap.attrs), f"{key}: restored attributes")
            self.assertEqual(rebased.sha, got_snap.sha, f"{key}: restored bytes differ")
            self.assertEqual(rebased.link_groups(), got_snap.link_groups(), f"{key}: hard links")

    def test_3_permissions_hold_after_the_rebuild(self):
        r = self.recall("cat", "--host", "h1", "--at", T2, f"{self.src}/private.txt", user=BOB)
        self.assertNotEqual(r.returncode, 0, "bob must not read alice's private file")
        r = self.recall("cat", "--host", "h1", "--at", T2, f"{self.src}/private.txt", user=ALICE)
        self.assert_ok(r, "alice reads her file")
        self.assertEqual(r.stdout, b"alice only\n")

    def test_4_scanning_again_is_a_no_op(self):
        before = self.catalog()
        j = self.rj("scan", *self.orphans, timeout=300)
        rep = j["report"]
        self.assertEqual(rep["points"], [])
        self.assertEqual(len(rep["already"]), 3)
        self.assertTrue(all(v["known"] and v["new_chunks"] == 0 for v in rep["volumes"]), rep["volumes"])
        self.assertEqual(self.catalog(), before)

    def test_5_new_imports_go_on_after_the_rebuild(self):
        write(f"{self.src}/docs/later.txt", b"after the rebuild\n")
        j = self.import_dir("h1", self.src, at="2024-06-04T08:00:00Z")
        self.assertEqual(j["report"]["kind"], "incremental")
        r = self.recall("cat", "--host", "h1", "--at", "latest", f"{self.src}/docs/later.txt")
        self.assert_ok(r)
        self.assertEqual(r.stdout, b"after the rebuild\n")
        r = self.recall("cat", "--host", "h1", "--at", "latest", f"{self.src}/tools/big.bin")
        self.assert_ok(r, "a file kept from before the rebuild")

    def test_6_damaged_or_foreign_volumes_are_refused_in_one_line(self):
        before = self.catalog()
        bad = os.path.join(self.base, "damaged.vol")
        shutil.copy(max(self.orphans, key=os.path.getsize), bad)
        with open(bad, "r+b") as f:
            f.seek(os.path.getsize(bad) // 2)
            b = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([b[0] ^ 0xFF]))
        r = self.recall("scan", bad, timeout=300)
        self.assert_one_line_error(r, what="damaged volume")
        self.assertIn(b"damaged.vol", r.stderr)
        not_a_volume = os.path.join(self.base, "not-a-volume.vol")
        write(not_a_volume, b"just some bytes, not a Recall volume\n" * 10)
        r = self.recall("scan", not_a_volume)
        self.assert_one_line_error(r, what="not a volume")
        self.assertIn(b"not-a-volume.vol", r.stderr)
        r = self.recall("scan", os.path.join(self.base, "missing.vol"))
        self.assert_one_line_error(r, what="missing file")
        self.assertEqual(self.catalog(), before, "a refused scan must leave the catalog as it was")
        self.assert_daemon_alive("after refused scans")


if __name__ == "__main__":
    unittest.main()
