#!/usr/bin/env python3
"""End-to-end tests of `recall import manifest` (issue 6): a manifest as a converter from another
product would write it, naming files whose bytes Recall has (by SHA-256, or in place on an archive
volume imported before with GNU tar's help) and files on volumes Recall does not know. Each point
lists what the manifest says; readable files restore their exact bytes; the others are listed and
unavailable with the reason. Broken or hostile manifests fail with one line naming the line, and
the catalog stays as it was.

Run as root:  cd BUILD && ctest -R e2e_manifest --output-on-failure
"""

import base64
import gzip
import hashlib
import json
import os
import subprocess
import unittest

from test_spine import E2EBase, b, mkdir, raw, write

T0, T1, T2 = "2024-04-30T10:00:00Z", "2024-05-01T10:00:00.5Z", "2024-05-02T10:00:00Z"


def sha(data):
    return hashlib.sha256(data).hexdigest()


class ManifestImportTest(E2EBase):

    @classmethod
    def prepare(cls):
        cls.work = os.path.join(cls.base, "work")
        src = os.path.join(cls.work, "src")
        mkdir(src)
        cls.a = b"known by its hash\n" * 500
        cls.bbin = os.urandom(300_000)
        write(f"{src}/a.txt", cls.a)
        write(f"{src}/b.bin", cls.bbin)
        cls.archive = os.path.join(cls.work, "src.tar")
        subprocess.run(["tar", "--format=pax", "-cf", cls.archive, "-C", cls.work, "src"], check=True)
        out = cls.rj("import", "tar", "--host", "tarhost", "--at", T0, cls.archive)
        cls.volser = out["imports"][0]["report"]["volser"]
        with open(cls.archive, "rb") as f:
            cls.b_offset = f.read().index(cls.bbin[:4096])

    def manifest(self, name, lines, gz=False):
        path = os.path.join(self.work, name)
        text = "".join(json.dumps(l) + "\n" if isinstance(l, dict) else l + "\n" for l in lines).encode()
        with (gzip.open if gz else open)(path, "wb") as f:
            f.write(text)
        return path

    HEADER = {"rec": "header", "format": "recall-manifest", "version": 1, "source": "tsm",
              "generated": "2024-05-03T00:00:00Z"}

    def good_lines(self):
        odd = b"/srv/caf\xe9-latin1.txt"
        return [
            self.HEADER,
            {"rec": "set", "set": "s1", "host": "tsmhost", "point_time": T1, "kind": "full", "label": "weekly"},
            {"rec": "entry", "set": "s1", "path": "/srv", "type": "dir", "size": 0, "mode": 0o750, "uid": 0,
             "gid": 0, "user": "root", "group": "root", "mtime": "2024-04-01T08:00:00.123456789Z"},
            {"rec": "entry", "set": "s1", "path": "/srv/a.txt", "type": "file", "size": len(self.a), "mode": 0o644,
             "uid": 1000, "gid": 1000, "user": "u", "group": "g", "mtime": "2024-04-02T08:00:00+02:00",
             "hashes": {"sha256": sha(self.a)}},
            {"rec": "entry", "set": "s1", "path": "/srv/b.bin", "type": "file", "size": len(self.bbin),
             "mode": 0o600, "mtime": "2024-04-03T08:00:00Z",
             "locations": [{"copy": 1, "volume": self.volser, "offset": self.b_offset, "length": len(self.bbin),
                            "container": "tar"}]},
            {"rec": "entry", "set": "s1", "path": "/srv/c.bin", "type": "file", "size": 12345,
             "mtime": "2024-04-04T08:00:00Z", "hashes": {"sha256": "ab" * 32},
             "locations": [{"copy": 1, "volume": "TAPE42", "file": 3, "offset": 1024, "container": "tsm"}]},
            {"rec": "entry", "set": "s1", "path": "/srv/link", "type": "symlink", "size": 0,
             "link_target": "a.txt", "mtime": "2024-04-05T08:00:00Z"},
            {"rec": "entry", "set": "s1", "path": "/srv/a-hard.txt", "type": "hardlink", "size": len(self.a),
             "hardlink_to": "/srv/a.txt"},
            {"rec": "entry", "set": "s1", "path_b64": base64.b64encode(odd).decode(), "type": "file", "size": 0,
             "mtime": "2024-04-06T08:00:00Z", "xattrs": {"user.note": base64.b64encode(b"kept").decode()}},
            {"rec": "set", "set": "s2", "host": "tsmhost", "point_time": T2, "kind": "incremental",
             "parent": "s1"},
            {"rec": "entry", "set": "s2", "state": "deleted", "path": "/srv/c.bin"},
            {"rec": "entry", "set": "s2", "state": "unchanged", "path": "/srv/a.txt"},
            {"rec": "entry", "set": "s2", "path": "/srv/new.bin", "type": "file", "size": 1000,
             "hashes": {"sha256": "cd" * 32},
             "locations": [{"volume": self.volser, "offset": self.b_offset, "length": 1000}]},
        ]

    def test_1_sets_become_points_with_what_can_be_read(self):
        before = self.catalog()
        path = self.manifest("good.jsonl", self.good_lines())
        job = self.rj("import", "manifest", path)
        rep = job["report"]
        self.assertEqual([s["set"] for s in rep["sets"]], ["s1", "s2"], rep)
        self.assertEqual([s["kind"] for s in rep["sets"]], ["full", "incremental"])
        s1, s2 = rep["sets"]
        self.assertEqual((s1["files"], s1["available"], s1["unavailable"]), (5, 4, 1), s1)
        self.assertEqual(s2["unavailable"], 1, s2)
        pts = self.points("tsmhost")
        self.assertEqual([p["at"] for p in pts], ["2024-05-01T10:00:00Z", T2])
        self.assertGreater(self.catalog()["points"], before["points"])

        ls = {raw(e, "name"): e for e in self.rj("ls", "--host", "tsmhost", "--at", T1, "/srv")["entries"]}
        self.assertEqual(set(ls), {b"a.txt", b"b.bin", b"c.bin", b"link", b"a-hard.txt", b"caf\xe9-latin1.txt"})
        self.assertEqual(ls[b"a.txt"]["mode"] & 0o7777, 0o644)
        self.assertEqual(ls[b"a.txt"]["mtime_ns"], 1712037600 * 10**9)  # +02:00 resolved
        self.assertEqual(ls[b"a.txt"]["nlink"], 2)
        self.assertEqual(ls[b"link"]["target"], "a.txt")
        self.assertIn("user.note", str(ls[b"caf\xe9-latin1.txt"]))
        srv = [e for e in self.rj("ls", "--host", "tsmhost", "--at", T1, "/")["entries"] if e["name"] == "srv"][0]
        self.assertEqual(srv["mtime_ns"], 1711958400123456789)
        self.assertEqual(srv["mode"] & 0o7777, 0o750)

        # Readable: by hash (the tar's a.txt) and in place from the tar volume at the given offset.
        for name, data in ((b"a.txt", self.a), (b"b.bin", self.bbin), (b"a-hard.txt", self.a)):
            r = self.recall("cat", "--host", "tsmhost", "--at", T1, "/srv/" + name.decode())
            self.assert_ok(r, f"cat {name}")
            self.assertEqual(r.stdout, data, f"bytes of {name}")
        # Listed, not readable: one line with the reason.
        r = self.recall("cat", "--host", "tsmhost", "--at", T1, "/srv/c.bin")
        self.assert_one_line_error(r, what="cat of a file on an unknown volume")
        self.assertIn(b"TAPE42", r.stderr)
        (v,) = self.rj("versions", "--host", "tsmhost", "/srv/c.bin")["versions"]
        self.assertIn("TAPE42", v.get("unavailable", ""), v)
        # s2: c.bin deleted, new.bin's bytes do not match its hash, a.txt kept.
        names2 = {raw(e, "name") for e in self.rj("ls", "--host", "tsmhost", "--at", T2, "/srv")["entries"]}
        self.assertNotIn(b"c.bin", names2)
        self.assertIn(b"a.txt", names2)
        (v,) = self.rj("versions", "--host", "tsmhost", "/srv/new.bin")["versions"]
        self.assertIn("do not match", v.get("unavailable", ""), v)

        # The same manifest again (compressed this time it is other bytes, so: the same file).
        again = self.rj("import", "manifest", path)
        self.assertTrue(again["report"]["already_imported"], again)
        self.assertEqual(len(self.points("tsmhost")), 2)

    def test_2_compressed_manifest(self):
        lines = [self.HEADER,
                 {"rec": "set", "set": "g1", "host": "gzhost", "point_time": T1},
                 {"rec": "entry", "set": "g1", "path": "/x", "type": "file", "size": len(self.a),
                  "hashes": {"sha256": sha(self.a)}}]
        job = self.rj("import", "manifest", self.manifest("m.jsonl.gz", lines, gz=True))
        self.assertEqual(job["report"]["sets"][0]["available"], 1, job)
        r = self.recall("cat", "--host", "gzhost", "--at", T1, "/x")
        self.assertEqual(r.stdout, self.a)

    def test_3_broken_and_hostile_manifests_change_nothing(self):
        s = {"rec": "set", "set": "b1", "host": "badhost", "point_time": T1}
        e = lambda p, **kw: {"rec": "entry", "set": "b1", "path": p, "type": "file", "size": 0, **kw}
        cases = {
            "not-json": ([self.HEADER, s, "{not json"], 3),
            "no-header": ([s], 1),
            "dotdot": ([self.HEADER, s, e("/a/../etc/passwd")], 3),
            "relative": ([self.HEADER, s, e("etc/passwd")], 3),
            "nul": ([self.HEADER, s, e("/a\u0000b")], 3),
            "huge": ([self.HEADER, s, e("/" + "/".join(["y" * 200] * 30))], 3),
            "twice": ([self.HEADER, s, e("/a"), e("/a")], 4),
            "float-size": ([self.HEADER, s, e("/a", size=1.5)], 3),
            "negative": ([self.HEADER, s, e("/a", size=-1)], 3),
            "bad-b64": ([self.HEADER, s, {"rec": "entry", "set": "b1", "path_b64": "!!", "type": "file",
                                          "size": 0}], 3),
            "unknown-rec": ([self.HEADER, s, {"rec": "volume"}], 3),
            "no-parent": ([self.HEADER, dict(s, kind="incremental")], 2),
            "unchanged-missing": ([self.HEADER, s, dict(s, set="b2", point_time=T2, kind="incremental",
                                                        parent="b1"),
                                   {"rec": "entry", "set": "b2", "state": "unchanged", "path": "/nope"}], 4),
            "below-symlink": ([self.HEADER, s, e("/l", type="symlink", link_target="/etc"), e("/l/passwd")], 4),
            "long-line": ([self.HEADER, s, e("/a", user="u" * (1 << 20))], 3),
            # The second set conflicts with tarhost's point at T0: the first set must not stay either.
            "partly-ok": ([self.HEADER, s, e("/ok"), {"rec": "set", "set": "t", "host": "tarhost",
                                                       "point_time": "2024-04-01T00:00:00Z"}], None),
        }
        before = self.catalog()
        for what, (lines, line) in cases.items():
            path = self.manifest(f"bad-{what}.jsonl", lines)
            r = self.recall("import", "manifest", path, timeout=120)
            self.assert_one_line_error(r, what=f"manifest {what}")
            self.assertIn(os.path.basename(path).encode(), r.stderr, f"{what}: the error names the manifest")
            if line:
                self.assertIn(f"line {line}:".encode(), r.stderr, f"{what}: the error names the line")
        self.assertEqual(self.catalog()["points"], before["points"], "a refused manifest left points")
        self.assertFalse(self.recall("points", "--host", "badhost").returncode == 0, "badhost has points")
        self.assert_daemon_alive("after hostile manifests")


if __name__ == "__main__":
    unittest.main()
