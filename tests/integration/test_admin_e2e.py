"""The admin pages in a real browser: tests/e2e/admin.mjs (headless Chromium, playwright-core).

Needs /usr/bin/chromium (or $CHROMIUM), node and tests/e2e/node_modules (cd tests/e2e && npm ci).
Without them the test prints why it is skipped, and fails instead when KABAR_E2E_REQUIRED=1.

The browser run needs twelve weeks of demo activity (sql/demo/demo_reports.sql). Those rows
include outbox, inbound SMS and alert rows that other modules count, so they are loaded into a
database of this test's own (<env.db>_e2e: migrations, demo.sql, demo_reports.sql), never into
the shared one.
"""
import os
import random
import shutil
import string
import subprocess

from kabartest import SRC, Kabard, Skip

E2E = os.path.join(SRC, "tests", "e2e")
XSS_NAME = "<script>alert(1)</script>"


def _missing():
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    why = []
    if not os.access(chromium, os.X_OK):
        why.append("no browser at %s (apt-get install chromium)" % chromium)
    if shutil.which("node") is None:
        why.append("no node in PATH")
    if not os.path.isdir(os.path.join(E2E, "node_modules", "playwright-core")):
        why.append("no tests/e2e/node_modules/playwright-core (cd tests/e2e && npm ci)")
    return why


def _mariadb(env, db, *args, **kw):
    cmd = ["mariadb", "--no-defaults", "-S", env.socket, "-uroot"] + list(args)
    if db:
        cmd.append(db)
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def test_admin_e2e_browser(env):
    why = _missing()
    if why:
        if os.environ.get("KABAR_E2E_REQUIRED") == "1":
            raise AssertionError("KABAR_E2E_REQUIRED=1 but: " + "; ".join(why))
        raise Skip("; ".join(why))

    db = env.db + "_e2e"
    r = _mariadb(env, None, "-e", "DROP DATABASE IF EXISTS %s; CREATE DATABASE %s CHARACTER SET utf8mb4 "
                 "COLLATE utf8mb4_unicode_ci; GRANT ALL ON %s.* TO 'kabar'@'localhost';" % (db, db, db))
    assert r.returncode == 0, r.stderr
    conf = env.config(replace={'name = "%s";' % env.db: 'name = "%s";' % db})
    k = Kabard(env, conf, name="e2e")
    r = subprocess.run([env.kabard, "--migrate", "-c", k.conf], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "migrations: " + r.stderr
    for f in ("demo.sql", "demo_reports.sql"):
        with open(os.path.join(SRC, "sql", "demo", f)) as fh:
            r = _mariadb(env, db, stdin=fh, timeout=300)
        assert r.returncode == 0, "%s: %s" % (f, r.stderr)
    r = _mariadb(env, db, "-N", "-B", "-e", "SELECT COUNT(*) FROM business_reports WHERE channel = 'demo-data'")
    assert r.returncode == 0 and int(r.stdout.strip()) > 1000, ("demo reports not loaded", r.stdout, r.stderr)

    user = "e2e-" + "".join(random.choice(string.ascii_lowercase) for _ in range(8))
    password = "e2e-pw-" + "".join(random.choice(string.ascii_lowercase) for _ in range(12))
    phone = "+62858%07d" % random.randint(0, 9999999)
    r = _mariadb(env, db, "-N", "-B", "-e",
                 "INSERT INTO kpm (pkh_number, nik_last4, name, msisdn, region_code, assistant_id) "
                 "VALUES ('E2E%09d', '0000', '%s', '%s', '3204132005', 1); SELECT LAST_INSERT_ID();"
                 % (random.randint(0, 10 ** 9 - 1), XSS_NAME, phone))
    assert r.returncode == 0, r.stderr
    xss_id = r.stdout.strip()
    assert xss_id.isdigit(), r.stdout

    out = os.path.join(env.var, "e2e-out-" + env.name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    with k:
        r = subprocess.run([env.kabard, "-c", k.conf, "user", "add", user, "--role", "admin"],
                           input=password + "\n", capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        run_env = dict(os.environ,
                       KABAR_ADMIN_URL="http://127.0.0.1:%d" % k.admin_port,
                       KABAR_ADMIN_USER=user, KABAR_ADMIN_PASSWORD=password,
                       KABAR_E2E_OUT=out, KABAR_XSS_KPM_ID=xss_id)
        try:
            r = subprocess.run(["node", "admin.mjs"], cwd=E2E, env=run_env, capture_output=True,
                               text=True, timeout=90)
        except subprocess.TimeoutExpired as e:
            text = e.stdout.decode("utf-8", "replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            print("".join("  | " + l + "\n" for l in text.splitlines()), end="", flush=True)
            raise AssertionError("node admin.mjs did not end within 90 s")
        # indented, so that its own "N passed, M failed" is not taken for the runner's summary
        print("".join("  | " + l + "\n" for l in r.stdout.splitlines()), end="", flush=True)
        if r.stderr.strip():
            print("".join("  | stderr: " + l + "\n" for l in r.stderr[-3000:].splitlines()), end="", flush=True)
        failed = [l for l in r.stdout.splitlines() if l.startswith("not ok")]
        assert r.returncode == 0, "admin.mjs exited %d: %s (artefacts in %s)" % (r.returncode, failed, out)
        assert os.path.isfile(os.path.join(out, "dashboard.png")), "no dashboard.png in " + out
        assert "ok - xss" in r.stdout, "the xss step did not run"
    _mariadb(env, None, "-e", "DROP DATABASE IF EXISTS %s" % db)
