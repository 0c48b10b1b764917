#!/usr/bin/env python3
"""End-to-end test of recall-browser (issue 5): a real recalld with real imported data (three
daily backups of a home tree, the first two migrated to the simulated tape library), and the
real browser window under Xvfb, run as the test users. The window is driven by
tests/gui/browser_e2e.cpp (QTest): as alice it searches "budget", picks Tuesday's version,
restores it into a folder (from tape), restores it again and keeps both; as dave (an admin) it
shows the cartridges and imports; with no daemon it shows the banner with Retry. Screenshots of
each state go to BUILD/tests/gui/screenshots/.

Run as root:  cd BUILD && ctest -R e2e_browser --output-on-failure
"""

import hashlib
import json
import os
import pwd
import random
import shutil
import subprocess
import unittest

import test_spine as spine
from test_spine import ALICE, BOB, DAVE, mkdir, show, user_cmd, write

HOST = "laptop"
MONDAY, TUESDAY, WEDNESDAY = "2026-11-23T09:00:00Z", "2026-11-24T09:00:00Z", "2026-11-25T09:00:00Z"
DRIVER = os.path.join(spine.BIN_DIR, "tests", "gui", "browser_e2e")
SHOTS = os.path.join(spine.BIN_DIR, "tests", "gui", "screenshots")
# Mounts take 21 model seconds: about 3 s here, long enough to see the wait in the window.
TAPE = ["--tape-drives", "2", "--tape-slots", "40", "--tape-cartridges", "30", "--tape-capacity-mb", "6",
        "--tape-time-scale", "0.15"]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class BrowserTest(spine.E2EBase):
    daemon_args = TAPE

    @classmethod
    def prepare(cls):
        for tool in ("xvfb-run", "Xvfb"):
            if not shutil.which(tool):
                raise AssertionError(f"{tool} is missing: run scripts/setup.sh")
        if not os.access(DRIVER, os.X_OK):
            raise AssertionError(f"{DRIVER} is missing: build the browser_e2e target")
        src = os.path.join(cls.base, "src")
        cls.src = src
        mkdir(src)
        mkdir(f"{src}/home")
        mkdir(f"{src}/home/alice", mode=0o700, owner=ALICE)
        mkdir(f"{src}/home/alice/Documents", mode=0o700, owner=ALICE)
        mkdir(f"{src}/home/bob", mode=0o700, owner=BOB)
        rnd = random.Random(5)
        cls.versions = {}
        budget = f"{src}/home/alice/Documents/budget-2026.ods"
        for day, at in (("monday", MONDAY), ("tuesday", TUESDAY), ("wednesday", WEDNESDAY)):
            data = rnd.randbytes(300000) if day != "wednesday" else b"\0" * 300000  # then it got corrupted
            cls.versions[day] = data
            write(budget, data, mode=0o600, owner=ALICE)
            write(f"{src}/home/alice/Documents/notes-{day}.txt", f"notes of {day}\n".encode(), mode=0o600, owner=ALICE)
            write(f"{src}/home/bob/budget-secret.ods", rnd.randbytes(5000), mode=0o600, owner=BOB)
            j = cls.rj("import", "dir", "--host", HOST, "--as", "/", "--at", at, src, timeout=300)
            if j.get("state") != "complete":
                raise AssertionError(f"import of {day} ended {j.get('state')}: {j.get('error')}")
            if day == "tuesday":  # older backups move to tape
                r = cls.recall("migrate", "--all", "--json", timeout=300)
                if r.returncode != 0:
                    raise AssertionError(show(r))
        cls.file = "/home/alice/Documents/budget-2026.ods"  # as on the host (--as /)
        cls.hidden = "/home/bob/budget-secret.ods"
        if os.path.isdir(SHOTS):
            shutil.rmtree(SHOTS)
        os.makedirs(SHOTS)

    def run_driver(self, role, user, extra_env=None):
        pw = pwd.getpwnam(user)
        home = os.path.join(self.base, f"home-{user}")
        out = os.path.join(self.base, f"out-{user}")
        shots = os.path.join(self.base, f"shots-{role}")
        for d in (home, out, shots):
            os.makedirs(d, exist_ok=True)
            os.chown(d, pw.pw_uid, pw.pw_gid)
            os.chmod(d, 0o700)
        env = {
            "PATH": "/usr/bin:/bin", "HOME": home, "XDG_RUNTIME_DIR": home, "XDG_CONFIG_HOME": home,
            "LC_ALL": "C.UTF-8", "TZ": "UTC", "RECALL_SOCKET": self.sock, "RECALL_E2E_ROLE": role,
            "RECALL_E2E_SHOTS": shots, "RECALL_E2E_OUT": out, "QT_QPA_PLATFORM": "xcb",
            "LSAN_OPTIONS": "suppressions=" + os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gui",
                                                           "lsan.supp"),
        }
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        env.update(extra_env or {})
        cmd = user_cmd(user, ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", DRIVER, "-maxwarnings", "0"])
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=600, env=env, cwd=home)
        for name in sorted(os.listdir(shots)):
            shutil.copy(os.path.join(shots, name), os.path.join(SHOTS, f"{role}-{name}"))
        self.assertEqual(r.returncode, 0, f"browser_e2e as {user} ({role}):\n{r.stdout.decode(errors='replace')}")
        return out

    def test_1_user_finds_and_restores_tuesdays_version_from_tape(self):
        out = self.run_driver("user", ALICE, {
            "RECALL_E2E_FILE": self.file,
            "RECALL_E2E_HIDDEN": self.hidden,
            "RECALL_E2E_TUESDAY": TUESDAY,
            "RECALL_E2E_TUESDAY_LAST": TUESDAY,
            "RECALL_E2E_TUESDAY_SHA": sha256(self.versions["tuesday"]),
            "RECALL_E2E_EXPECT_TAPES": "1 tape",
        })
        names = sorted(os.listdir(out))
        self.assertEqual(names, ["budget-2026.ods", "budget-2026.ods.recall-1"])
        for n in names:
            p = os.path.join(out, n)
            with open(p, "rb") as f:
                self.assertEqual(f.read(), self.versions["tuesday"], n)
            self.assertEqual(os.stat(p).st_uid, pwd.getpwnam(ALICE).pw_uid, "restored as the user")
        shots = os.listdir(SHOTS)
        for state in ("search-results", "versions", "restore-dialog", "restored", "conflict", "browse"):
            self.assertTrue([s for s in shots if state in s], f"no screenshot of {state}: {shots}")

    def test_2_admin_sees_cartridges_and_imports(self):
        self.run_driver("admin", DAVE)

    def test_3_no_daemon_shows_a_banner_with_retry(self):
        self.run_driver("unreachable", ALICE)


if __name__ == "__main__":
    unittest.main()
