"""Integration test harness: the real kabard binary, a real MariaDB, loopback HTTP only.

Every test is a function test_*(env) in a tests/integration/test_*.py module; `env` is the
Env below. A test fails by raising (assert), and is skipped by raising Skip. Python's standard library only.
"""
import json
import os
import random
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))


def free_port():
    """A port that could be bound a moment ago, below the kernel's ephemeral range: a port the
    kernel handed out for bind(0) can be taken as the source port of an outgoing connection
    (a test's client, kabard's curl, MariaDB's) before the server we start binds it."""
    low = 32768
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(10000, max(low, 10001))
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def is_asan(binary):
    """Whether a kabard binary was built with --enable-asan (its leak checker runs at exit)."""
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()


def rss_kib(pid):
    """A process's resident set size, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def metric(text, name):
    """The value of one sample (name with its labels, as /metrics writes it), or None."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


class Skip(Exception):
    """Raised by a test that cannot run here (a missing browser, say): counted as skipped, not
    as passed. scripts/test makes the tests it requires fail instead of skipping."""


def wait_for(pred, timeout=10.0, step=0.05, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("timed out waiting for " + what)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


def http(method, url, body=None, headers=None, timeout=10):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Response(r.status, dict(r.headers), r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, dict(e.headers), e.read())


def raw_http(port, data, timeout=5):
    """Send bytes as they are (malformed requests) and return what came back."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


class Kabard:
    """One kabard process with its own configuration file and log. environ: variables added to
    its environment (KABAR_FAULTS, say)."""

    def __init__(self, env, conf_text=None, name="kabard", environ=None):
        self.env = env
        self.environ = dict(os.environ, **(environ or {}))
        self.dir = tempfile.mkdtemp(prefix=name + ".", dir=env.tmp)
        self.conf = os.path.join(self.dir, "kabard.conf")
        self.log = os.path.join(self.dir, "kabard.log")
        with open(self.conf, "w") as f:
            f.write(conf_text if conf_text is not None else env.config())
        self.proc = None
        self.port = None
        self.admin_port = None

    def start(self, expect_start=True):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen([self.env.kabard, "-c", self.conf],
                                     stdout=self.logf, stderr=self.logf, env=self.environ)
        if not expect_start:
            return self
        m = wait_for(lambda: self._started(), timeout=15, what="kabard to start")
        self.port = int(m.group(1))
        a = re.search(r"event=started .*?admin_port=(\d+)", self.logtext())
        self.admin_port = int(a.group(1)) if a else None
        return self

    def _started(self):
        if self.proc.poll() is not None:
            raise AssertionError("kabard exited with %s:\n%s" % (self.proc.returncode, self.logtext()[-2000:]))
        return re.search(r"event=started .*?port=(\d+)", self.logtext())

    def logtext(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def get(self, path, **kw):
        return http("GET", self.url(path), **kw)

    def post(self, path, body, ctype="application/x-www-form-urlencoded", **kw):
        if isinstance(body, dict):
            body = urllib.parse.urlencode(body)
        if isinstance(body, str):
            body = body.encode()
        return http("POST", self.url(path), body, {"Content-Type": ctype}, **kw)

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("kabard did not stop within %ss" % timeout)
        self.logf.close()
        return rc

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        asan = [l for l in self.logtext().splitlines() if "ERROR: AddressSanitizer" in l or "runtime error:" in l]
        if asan and exc[0] is None:
            raise AssertionError("sanitizer report in kabard's log: " + asan[0])


class Env:
    def __init__(self, kabard, phone, socket_path, var, name):
        self.kabard = kabard
        self.phone = phone
        self.socket = socket_path
        self.var = var
        self.name = name
        self.tmp = tempfile.mkdtemp(prefix="it-%s." % name, dir=var)
        self.db = "kabar_it_" + re.sub(r"\W", "_", name)
        self.password_file = os.path.join(var, "db.password")

    # -- database, through the mariadb client as root over the private server's socket
    def sql(self, query, db=True):
        cmd = ["mariadb", "--no-defaults", "-S", self.socket, "-uroot", "-N", "-B"]
        if db:
            cmd.append(self.db)
        r = subprocess.run(cmd + ["-e", query], capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError("SQL failed: %s: %s" % (query[:200], r.stderr))
        return [line.split("\t") for line in r.stdout.splitlines()]

    def sql_script(self, text):
        """A script through the client's stdin, where DELIMITER works (trigger bodies)."""
        r = subprocess.run(["mariadb", "--no-defaults", "-S", self.socket, "-uroot", self.db],
                           input=text, capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError("SQL script failed: %s" % r.stderr)

    def sync_last_report(self, kpms=None):
        """kpm.last_report_at after a test wrote or deleted business reports by hand (report.c
        keeps it as it saves; migration 014)."""
        where = "" if kpms is None else " WHERE k.id IN (%s)" % ",".join(str(int(k)) for k in kpms)
        self.sql("UPDATE kpm k SET k.last_report_at = (SELECT MAX(b.created_at) FROM business_reports b"
                 " WHERE b.kpm_id = k.id)" + where)

    def scalar(self, query):
        rows = self.sql(query)
        return rows[0][0] if rows else None

    def config(self, port=0, **over):
        """The test configuration: the sample file with this run's values filled in."""
        with open(os.path.join(SRC, "config", "kabard.conf.in")) as f:
            text = f.read()
        text = (text.replace("@PORT@", str(port))
                .replace("@ADMINPORT@", str(over.get("admin_port", 0)))
                .replace("@DBSOCKET@", over.get("socket", self.socket))
                .replace("@DBPASSFILE@", self.password_file)
                .replace("@SQLDIR@", os.path.join(SRC, "sql"))
                .replace("@DIALOGS@", over.get("dialogs", os.path.join(SRC, "config", "dialogs.conf")))
                .replace("@KEYWORDS@", os.path.join(SRC, "config", "keywords.conf"))
                .replace("@LESSONS@", over.get("lessons", os.path.join(SRC, "config", "lessons.conf"))))
        text = text.replace('name = "kabar";', 'name = "%s";' % self.db)
        # the scheduler writes to the shared database: only the tests of alerts turn it on
        text = text.replace("alerts = {\n  enabled = true;", "alerts = {\n  enabled = %s;"
                            % ("true" if over.get("alerts") else "false"))
        for k, v in over.get("replace", {}).items():
            assert k in text, k
            text = text.replace(k, v)
        return text + over.get("extra", "")

    def prepare_database(self):
        self.sql("DROP DATABASE IF EXISTS %s; CREATE DATABASE %s CHARACTER SET utf8mb4 "
                 "COLLATE utf8mb4_unicode_ci; GRANT ALL ON %s.* TO 'kabar'@'localhost';"
                 % (self.db, self.db, self.db), db=False)
        conf = os.path.join(self.tmp, "migrate.conf")
        with open(conf, "w") as f:
            f.write(self.config())
        r = subprocess.run([self.kabard, "--migrate", "-c", conf], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("migrations failed: " + r.stderr)
        with open(os.path.join(SRC, "sql", "demo", "demo.sql")) as f:
            r = subprocess.run(["mariadb", "--no-defaults", "-S", self.socket, "-uroot", self.db],
                               stdin=f, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("demo data failed: " + r.stderr)

    # -- the private MariaDB itself, for outage tests
    def mariadb_stop(self):
        pid = int(open(os.path.join(self.var, "mysqld.pid")).read())
        os.kill(pid, signal.SIGTERM)

        def gone():
            # a server that mariadb_start() started is our child: reap it, or it stays a zombie
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            return not os.path.exists("/proc/%d" % pid)
        wait_for(gone, timeout=60, what="MariaDB to stop")

    def mariadb_kill9(self):
        """A crash of the server: SIGKILL, no shutdown at all (no flush, no goodbye to the
        clients, the pid file and socket left behind). mariadb_start() restarts it with the same
        command line, and InnoDB recovers from its redo log: what was committed stays, what was
        not is rolled back."""
        pid = int(open(os.path.join(self.var, "mysqld.pid")).read())
        os.kill(pid, signal.SIGKILL)

        def gone():
            try:
                os.waitpid(pid, os.WNOHANG)   # our child if mariadb_start() started it
            except ChildProcessError:
                pass
            return not os.path.exists("/proc/%d" % pid)
        wait_for(gone, timeout=30, what="MariaDB to die")

    def mariadb_start(self):
        with open(os.path.join(self.var, "mysqld.cmd")) as f:
            cmd = f.read().split()
        subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)

        def up():
            return subprocess.run(["mariadb-admin", "--no-defaults", "-S", self.socket, "-uroot", "ping"],
                                  capture_output=True).returncode == 0
        wait_for(up, timeout=60, step=0.2, what="MariaDB to start")
