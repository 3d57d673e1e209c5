"""The administrators' pages and the JSON API, on kabard's admin listener.

Every test starts its own kabard, creates its own users (random names) and its own rows (channel
'it-admin', session ids with a random prefix, KPM with random phone and PKH numbers), and deletes
the rows again at the end, so the shared database looks as before to the other modules (they count
KPM, for instance). Redirects are never followed: http.client, not urllib.
"""
import csv
import hashlib
import http.client
import io
import json
import random
import re
import socket
import string
import subprocess
import time
import urllib.parse

from kabartest import Kabard, wait_for

CHANNEL = "it-admin"
HEX64 = re.compile(r"^[0-9a-f]{64}$")
XSS_NAME = "<script>alert(1)</script>"
XSS_NOTE = "<img src=x onerror=alert(1)>"


# ---------------------------------------------------------------- small helpers

def rand_tag(n=8):
    return "".join(random.choice(string.ascii_lowercase) for _ in range(n))


def sq(s):
    """A SQL string literal."""
    return "'" + str(s).replace("\\", "\\\\").replace("'", "\\'") + "'"


class Resp:
    def __init__(self, status, msg, body):
        self.status = status
        self.msg = msg
        self.body = body
        self.set_cookies = msg.get_all("Set-Cookie") or []

    def header(self, name, default=None):
        return self.msg.get(name, default)

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<HTTP %s %s %r>" % (self.status, self.header("Location", ""), self.body[:300])


def raw_request(port, method, path, body=None, headers=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    t0 = time.time()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        try:
            data = resp.read()
        except http.client.IncompleteRead as e:
            raise AssertionError("%s %s: HTTP %s, the body ended early after %.1f s (%d bytes: %r)"
                                 % (method, path, resp.status, time.time() - t0, len(e.partial),
                                    e.partial[:200]))
        except socket.timeout:
            raise AssertionError("%s %s: HTTP %s, no more body after %.1f s (stream hangs)"
                                 % (method, path, resp.status, time.time() - t0))
        return Resp(resp.status, resp.msg, data)
    finally:
        conn.close()


def parse_set_cookie(line):
    parts = [p.strip() for p in line.split(";")]
    name, _, value = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip()
    return name, value, attrs


class Browser:
    """A cookie jar (name, value, path) and requests without redirects."""

    def __init__(self, port):
        self.port = port
        self.jar = {}
        self.last = None

    def request(self, method, path, form=None, body=None, headers=None, send_cookies=True, timeout=30):
        h = dict(headers or {})
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            h.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if send_cookies:
            bare = path.split("?")[0]
            cookies = ["%s=%s" % (n, v) for n, (v, p) in self.jar.items()
                       if bare == p or bare.startswith(p.rstrip("/") + "/") or p == "/"]
            if cookies:
                h["Cookie"] = "; ".join(cookies)
        r = raw_request(self.port, method, path, body, h, timeout=timeout)
        for line in r.set_cookies:
            name, value, attrs = parse_set_cookie(line)
            if attrs.get("max-age") == "0":
                self.jar.pop(name, None)
            else:
                self.jar[name] = (value, attrs.get("path", "/"))
        self.last = r
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, form, **kw):
        return self.request("POST", path, form=form, **kw)

    def session(self):
        return self.jar.get("kabar_session", (None,))[0]

    def csrf(self):
        r = self.get("/alerts")
        assert r.status == 200, ("GET /alerts for a CSRF token", r)
        return csrf_of(r.text)


def csrf_of(text):
    m = re.search(r'name="csrf" value="([0-9a-f]{64})"', text)
    assert m, "no csrf field in page: " + text[:400]
    return m.group(1)


def make_user(env, k, role="admin", region=None, name=None, password=None):
    name = name or "it-%s-%s" % (role[:3], rand_tag())
    password = password or "pw-" + rand_tag(12)
    cmd = [env.kabard, "-c", k.conf, "user", "add", name, "--role", role]
    if region is not None:
        cmd += ["--region", region]
    r = subprocess.run(cmd, input=password + "\n", capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, ("user add", r.returncode, r.stderr)
    assert r.stdout.strip() == "created " + name, r.stdout
    return name, password


def make_token(env, k, name, label=None):
    cmd = [env.kabard, "-c", k.conf, "user", "token", name]
    if label:
        cmd += ["--label", label]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, ("user token", r.returncode, r.stderr)
    tok = r.stdout.strip()
    assert HEX64.match(tok), tok
    return tok


def login(k, user, password, b=None, expect=303):
    b = b or Browser(k.admin_port)
    r = b.get("/login")
    assert r.status == 200, ("GET /login", r)
    csrf = csrf_of(r.text)
    r = b.post("/login", {"csrf": csrf, "username": user, "password": password})
    if expect is not None:
        assert r.status == expect, ("POST /login as %s: want %s" % (user, expect), r)
        if expect == 303:
            assert r.header("Location") == "/", r.header("Location")
            assert b.session() and HEX64.match(b.session()), b.jar
    return b, r


def admin_conf(env, **replace):
    """The test configuration with values of the admin group replaced: key=value."""
    rep = {}
    defaults = {"session_idle": "1800", "session_max": "43200", "secure_cookie": "false",
                "lockout_failures": "5", "lockout_seconds": "900", "login_per_minute": "10",
                "page_size": "50"}
    for key, value in replace.items():
        rep["  %s = %s;" % (key, defaults[key])] = "  %s = %s;" % (key, value)
    return env.config(replace=rep)


def queue_page(b, page=None):
    r = b.get("/queue" + ("?page=%d" % page if page is not None else ""))
    assert r.status == 200, ("GET /queue", r)
    m = re.search(r'<p id="count">(\d+) ', r.text)
    assert m, "no p#count: " + r.text[:500]
    rows = [(t, int(i)) for t, i in
            re.findall(r'<tr class="report" data-type="(business|attendance|help)" data-id="(\d+)">',
                       r.text)]
    return int(m.group(1)), rows, r.text


def set_filter(b, csrf, **f):
    form = {"csrf": csrf, "region": "", "assistant": "", "type": "", "bstatus": "",
            "review": "unreviewed", "from": "", "to": "", "q": ""}
    for key, v in f.items():
        form[key.rstrip("_")] = v
    r = b.post("/queue", form)
    assert r.status == 303 and r.header("Location") == "/queue", ("POST /queue %r" % f, r)
    return r


def review(b, csrf, rtype, rid, status, note=""):
    return b.post("/review", {"csrf": csrf, "type": rtype, "id": str(rid), "status": status,
                              "note": note})


def parse_csv(body):
    assert body[:3] == b"\xef\xbb\xbf", "no UTF-8 BOM: %r" % body[:10]
    rest = body[3:]
    assert b"\n" not in rest.replace(b"\r\n", b""), "a line ends without CR"
    assert rest.endswith(b"\r\n"), "the last line has no CRLF: %r" % rest[-20:]
    rows = list(csv.reader(io.StringIO(rest.decode("utf-8"), newline="")))
    return rows[0], rows[1:]


REVIEW_SQL = {
    "unreviewed": "NOT EXISTS (SELECT 1 FROM reviews v WHERE v.report_type = '{t}' AND "
                  "v.report_id = x.id AND v.status <> 'note')",
    "reviewed": "(SELECT v.status FROM reviews v WHERE v.report_type = '{t}' AND v.report_id = x.id"
                " AND v.status <> 'note' ORDER BY v.id DESC LIMIT 1) = 'reviewed'",
    "follow_up": "(SELECT v.status FROM reviews v WHERE v.report_type = '{t}' AND v.report_id = x.id"
                 " AND v.status <> 'note' ORDER BY v.id DESC LIMIT 1) = 'follow_up'",
    "all": "1 = 1",
}
TABLES = {"business": "business_reports", "attendance": "attendance_reports", "help": "help_requests"}


def db_count(env, where, types=("business", "attendance", "help"), review="unreviewed"):
    """How many reports of these types match `where` (over x = report, k = kpm)."""
    parts = ["(SELECT COUNT(*) FROM %s x JOIN kpm k ON k.id = x.kpm_id WHERE %s AND %s)"
             % (TABLES[t], where, REVIEW_SQL[review].format(t=t)) for t in types]
    return int(env.scalar("SELECT " + " + ".join(parts)))


def db_ids(env, rtype, where, review="unreviewed"):
    rows = env.sql("SELECT x.id FROM %s x JOIN kpm k ON k.id = x.kpm_id WHERE %s AND %s "
                   "ORDER BY x.id DESC" % (TABLES[rtype], where, REVIEW_SQL[review].format(t=rtype)))
    return [int(r[0]) for r in rows]


class Data:
    """Rows one test creates, and deletes again at the end."""

    def __init__(self, env):
        self.env = env
        self.tag = rand_tag()
        self.n = 0
        self.kpms = []
        self.regions = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def sid(self):
        self.n += 1
        return "%s-%d" % (self.tag, self.n)

    def desa(self, parent="520104"):
        for _ in range(50):
            code = parent + "%04d" % random.randint(5000, 9999)
            if self.env.scalar("SELECT COUNT(*) FROM regions WHERE code = %s" % sq(code)) == "0":
                self.env.sql("INSERT INTO regions (code, level, name, parent_code) VALUES "
                             "(%s, 'desa', %s, %s)" % (sq(code), sq("Desa Uji " + self.tag), sq(parent)))
                self.regions.append(code)
                return code
        raise AssertionError("no free desa code")

    def kpm(self, name, region="3204132005", assistant=1, nik4="4321", msisdn=None):
        for _ in range(20):
            phone = msisdn or "+62857%07d" % random.randint(0, 9999999)
            pkh = "9%011d" % random.randint(0, 10 ** 11 - 1)
            if self.env.scalar("SELECT COUNT(*) FROM kpm WHERE msisdn = %s OR pkh_number = %s"
                               % (sq(phone), sq(pkh))) == "0":
                break
        self.env.sql("INSERT INTO kpm (pkh_number, nik_last4, name, msisdn, region_code, assistant_id)"
                     " VALUES (%s, %s, %s, %s, %s, %d)"
                     % (sq(pkh), sq(nik4), sq(name), sq(phone), sq(region), assistant))
        kid = int(self.env.scalar("SELECT id FROM kpm WHERE msisdn = %s" % sq(phone)))
        self.kpms.append(kid)
        return kid

    def _insert(self, table, cols, values, at):
        sid = self.sid()
        self.env.sql("INSERT INTO %s (%s, msisdn, channel, session_id, created_at) VALUES "
                     "(%s, (SELECT msisdn FROM kpm WHERE id = %d), %s, %s, %s)"
                     % (table, cols, values, self._kpm, sq(CHANNEL), sq(sid), at or "NOW(3)"))
        return int(self.env.scalar("SELECT id FROM %s WHERE channel = %s AND session_id = %s"
                                   % (table, sq(CHANNEL), sq(sid))))

    def business(self, kpm, status=1, kind=2, revenue=1500000, workers=1, difficulty=None,
                 at=None, source="ussd"):
        self._kpm = kpm
        return self._insert(
            "business_reports",
            "kpm_id, source, status, kind, revenue, workers, difficulty, answers, input_path",
            "%d, %s, %d, %s, %s, %s, %s, '{}', ''" % (
                kpm, sq(source), status, "NULL" if kind is None else kind,
                "NULL" if revenue is None else revenue, "NULL" if workers is None else workers,
                "NULL" if difficulty is None else difficulty), at)

    def attendance(self, kpm, training=1, attended=1, reason=None, at=None, source="ussd"):
        self._kpm = kpm
        return self._insert(
            "attendance_reports", "kpm_id, training_id, source, attended, reason, answers, input_path",
            "%d, %d, %s, %d, %s, '{}', ''" % (kpm, training, sq(source), attended,
                                              "NULL" if reason is None else reason), at)

    def help(self, kpm, assistant=1, topic=1, text=None, at=None, source="sms"):
        self._kpm = kpm
        return self._insert(
            "help_requests", "kpm_id, assistant_id, source, topic, text",
            "%d, %d, %s, %d, %s" % (kpm, assistant, sq(source), topic,
                                    "NULL" if text is None else sq(text)), at)

    def bulk_business(self, kpm, n, prefix="bulk"):
        self.env.sql("INSERT INTO business_reports (kpm_id, msisdn, channel, session_id, source, "
                     "status, kind, revenue, workers, answers, input_path, created_at) "
                     "SELECT %d, (SELECT msisdn FROM kpm WHERE id = %d), %s, CONCAT(%s, s.seq), "
                     "'sms', 1 + s.seq MOD 4, 1, 1000 * s.seq, 1, '{}', '', "
                     "NOW(3) - INTERVAL s.seq SECOND FROM seq_1_to_%d s"
                     % (kpm, kpm, sq(CHANNEL), sq("%s-%s-" % (self.tag, prefix)), n))
        self.env.sync_last_report([kpm])

    def alert(self, kpm, assistant=1, rule="silent", state="new"):
        key = "%s:%s" % (self.tag, self.sid())
        self.env.sql("INSERT INTO alerts (rule, kpm_id, assistant_id, dedupe_key, state, urgency, "
                     "acked_at) VALUES (%s, %d, %d, %s, %s, 'digest', %s)"
                     % (sq(rule), kpm, assistant, sq(key), sq(state),
                        "NOW(3)" if state == "acknowledged" else "NULL"))
        return int(self.env.scalar("SELECT id FROM alerts WHERE dedupe_key = %s" % sq(key)))

    def cleanup(self):
        like = sq(self.tag + "-%")
        stmts = []
        for t, table in TABLES.items():
            stmts.append("DELETE FROM reviews WHERE report_type = '%s' AND report_id IN (SELECT id FROM "
                         "%s WHERE channel = %s AND session_id LIKE %s)" % (t, table, sq(CHANNEL), like))
        stmts.append("DELETE FROM alerts WHERE dedupe_key LIKE %s" % sq(self.tag + ":%"))
        for table in TABLES.values():
            stmts.append("DELETE FROM %s WHERE channel = %s AND session_id LIKE %s"
                         % (table, sq(CHANNEL), like))
        if self.kpms:
            ids = ",".join(str(i) for i in self.kpms)
            stmts.append("DELETE FROM alerts WHERE kpm_id IN (%s)" % ids)
            stmts.append("DELETE FROM kpm WHERE id IN (%s)" % ids)
        if self.regions:
            stmts.append("DELETE FROM admin_users WHERE region_code IN (%s)"
                         % ",".join(sq(c) for c in self.regions))
            stmts.append("DELETE FROM regions WHERE code IN (%s)" % ",".join(sq(c) for c in self.regions))
        self.env.sql("; ".join(stmts))


SECURITY_HEADERS = {
    "X-Frame-Options": lambda v: v == "DENY",
    "X-Content-Type-Options": lambda v: v == "nosniff",
    "Cache-Control": lambda v: v is not None and "no-store" in v,
    "Content-Security-Policy": lambda v: v is not None and "default-src 'none'" in v
    and "frame-ancestors 'none'" in v,
}


def check_security_headers(r, what):
    for name, ok in SECURITY_HEADERS.items():
        assert ok(r.header(name)), "%s: header %s is %r" % (what, name, r.header(name))


# ---------------------------------------------------------------- 1. login, cookie, logout

def test_admin_login_cookie_flags_and_logout(env):
    with Kabard(env) as k:
        assert k.admin_port and k.admin_port != k.port, (k.port, k.admin_port)
        user, pw = make_user(env, k)
        b = Browser(k.admin_port)
        # without a session every page sends the browser to /login
        for path in ("/", "/queue", "/kpm?id=1", "/alerts", "/export/reports.csv"):
            r = b.get(path)
            assert r.status == 303 and r.header("Location") == "/login", (path, r)
        r = b.get("/login")
        assert r.status == 200, r
        assert '<form id="login"' in r.text, r.text[:500]
        csrf = csrf_of(r.text)
        pre = [parse_set_cookie(c) for c in r.set_cookies if c.startswith("kabar_pre=")]
        assert len(pre) == 1, r.set_cookies
        name, value, attrs = pre[0]
        assert value == csrf, (value, csrf)
        assert attrs.get("path") == "/login", attrs
        assert "httponly" in attrs, attrs
        r = b.post("/login", {"csrf": csrf, "username": user, "password": pw})
        assert r.status == 303 and r.header("Location") == "/", r
        sess = [c for c in r.set_cookies if c.startswith("kabar_session=")]
        assert len(sess) == 1, r.set_cookies
        name, value, attrs = parse_set_cookie(sess[0])
        assert HEX64.match(value), value
        assert attrs.get("path") == "/", sess[0]
        assert "httponly" in attrs, sess[0]
        assert attrs.get("samesite") == "Strict", sess[0]
        assert "secure" not in attrs, "Secure without secure_cookie: " + sess[0]
        # the database keeps the SHA-256 of the cookie, never the cookie
        uid = env.scalar("SELECT id FROM admin_users WHERE username = %s" % sq(user))
        assert env.scalar("SELECT HEX(id_hash) = UPPER(SHA2(%s, 256)) FROM admin_sessions "
                          "WHERE user_id = %s" % (sq(value), uid)) == "1"
        assert env.scalar("SELECT COUNT(*) FROM audit_log WHERE actor = %s AND action = 'login'"
                          % sq(user)) == "1"
        r = b.get("/")
        assert r.status == 200, r
        assert 'id="logout"' in r.text
        # log out: the session row goes, and the old cookie leads to /login
        old = value
        csrf = csrf_of(r.text)
        r = b.post("/logout", {"csrf": csrf})
        assert r.status == 303 and r.header("Location") == "/login", r
        assert env.scalar("SELECT COUNT(*) FROM admin_sessions WHERE user_id = %s" % uid) == "0"
        r = raw_request(k.admin_port, "GET", "/", headers={"Cookie": "kabar_session=" + old})
        assert r.status == 303 and r.header("Location") == "/login", r
        r = raw_request(k.admin_port, "GET", "/queue", headers={"Cookie": "kabar_session=" + old})
        assert r.status == 303 and r.header("Location") == "/login", r

    # secure_cookie = true: the Secure flag on both cookies
    with Kabard(env, admin_conf(env, secure_cookie="true")) as k:
        user, pw = make_user(env, k)
        b = Browser(k.admin_port)
        r = b.get("/login")
        pre = [c for c in r.set_cookies if c.startswith("kabar_pre=")]
        assert pre and "secure" in parse_set_cookie(pre[0])[2], r.set_cookies
        r = b.post("/login", {"csrf": csrf_of(r.text), "username": user, "password": pw})
        assert r.status == 303, r
        sess = [c for c in r.set_cookies if c.startswith("kabar_session=")]
        assert sess and "secure" in parse_set_cookie(sess[0])[2], r.set_cookies


# ---------------------------------------------------------------- 2. wrong password, lockout

def test_admin_wrong_password_and_lockout(env):
    conf = admin_conf(env, lockout_failures="3", lockout_seconds="3")
    with Kabard(env, conf) as k:
        user, pw = make_user(env, k)
        # an unknown user and a wrong password answer alike
        b, r_unknown = login(k, "nobody-" + rand_tag(), "whatever-123", expect=401)
        assert '<form id="login"' in r_unknown.text
        assert not b.session()
        msg_unknown = re.search(r'<p class="message">(.*?)</p>', r_unknown.text)
        assert msg_unknown, r_unknown.text[:600]
        for i in range(3):
            b, r = login(k, user, "wrong-password-%d" % i, expect=401)
            assert not b.session(), "a session cookie after a wrong password"
            assert '<form id="login"' in r.text, r.text[:500]
            m = re.search(r'<p class="message">(.*?)</p>', r.text)
            assert m and m.group(1) == msg_unknown.group(1), (m and m.group(1), msg_unknown.group(1))
            assert "kata sandi" in m.group(1).lower() or "password" in m.group(1).lower(), m.group(1)
        assert env.scalar("SELECT locked_until > NOW(3) FROM admin_users WHERE username = %s"
                          % sq(user)) == "1", "locked_until not set after 3 failures"
        # locked: the right password is refused too, with the same answer
        b, r = login(k, user, pw, expect=401)
        assert not b.session()
        m = re.search(r'<p class="message">(.*?)</p>', r.text)
        assert m and m.group(1) == msg_unknown.group(1), m and m.group(1)
        assert env.scalar("SELECT COUNT(*) FROM admin_sessions s JOIN admin_users u ON u.id = s.user_id"
                          " WHERE u.username = %s" % sq(user)) == "0"
        rows = env.sql("SELECT action, target_type, target_id IS NOT NULL, detail IS NULL FROM audit_log"
                       " WHERE actor = %s ORDER BY id" % sq(user))
        actions = [r[0] for r in rows]
        assert actions == ["login.failed"] * 3 + ["login.locked"], actions
        assert all(r[1] == "user" and r[2] == "1" for r in rows), rows
        # the password never reaches the audit log or kabard's log
        assert env.scalar("SELECT COUNT(*) FROM audit_log WHERE detail LIKE %s" % sq("%" + pw + "%")) == "0"
        assert pw not in k.logtext()
        # after lockout_seconds the right password works again
        time.sleep(3.2)
        b, r = login(k, user, pw, expect=303)
        assert env.scalar("SELECT CONCAT(failed_logins, ':', locked_until IS NULL) FROM admin_users"
                          " WHERE username = %s" % sq(user)) == "0:1"
        assert b.get("/").status == 200


def test_admin_expired_lockout_does_not_relock_on_one_wrong_password(env):
    """Bug: when a lock had run out, failed_logins still stood at the limit, so one wrong
    password locked the account again at once. An expired lock starts the count again."""
    conf = admin_conf(env, lockout_failures="3", lockout_seconds="2")
    with Kabard(env, conf) as k:
        user, pw = make_user(env, k)
        for i in range(3):
            login(k, user, "wrong-password-%d" % i, expect=401)
        assert env.scalar("SELECT locked_until > NOW(3) FROM admin_users WHERE username = %s"
                          % sq(user)) == "1"
        time.sleep(2.3)
        login(k, user, "wrong-password-again", expect=401)
        assert env.scalar("SELECT CONCAT(failed_logins, ':', locked_until IS NULL) FROM admin_users"
                          " WHERE username = %s" % sq(user)) == "1:1"
        b, r = login(k, user, pw, expect=303)
        assert b.get("/").status == 200


# ---------------------------------------------------------------- 3. rate limit

def test_admin_login_rate_limit_per_address(env):
    with Kabard(env, admin_conf(env, login_per_minute="3")) as k:
        user, pw = make_user(env, k)
        # the limit counts per clock minute: do not start right before a minute ends
        if time.time() % 60 > 55:
            time.sleep(61 - time.time() % 60)
        b = Browser(k.admin_port)
        statuses = []
        for i in range(3):
            csrf = csrf_of(b.get("/login").text)   # each answer sets a new kabar_pre
            r = b.post("/login", {"csrf": csrf, "username": user, "password": "wrong-%d-xxxx" % i})
            statuses.append(r.status)
        assert statuses == [401, 401, 401], statuses
        csrf = csrf_of(b.get("/login").text)
        r = b.post("/login", {"csrf": csrf, "username": user, "password": pw})
        assert r.status == 429, ("4th login in a minute", r)
        assert r.header("Retry-After"), r.msg.items()
        assert not b.session()
        # GET /login is not limited, the correct password is still refused this minute
        assert b.get("/login").status == 200
        b2 = Browser(k.admin_port)
        b2, r = login(k, user, pw, b=b2, expect=429)


# ---------------------------------------------------------------- 4. session idle and max

def test_admin_session_idle_and_max_expiry(env):
    # the limits are checked against the database's clock, so the test ages the sessions there
    # rather than sleeping through them (sleeps of a second or two flaked on a loaded CI box)
    with Kabard(env, admin_conf(env, session_idle="60", session_max="120")) as k:
        user, pw = make_user(env, k)
        a, _ = login(k, user, pw)
        idle, _ = login(k, user, pw)
        assert a.get("/alerts").status == 200
        assert idle.get("/alerts").status == 200

        def age(client, column, seconds):
            h = hashlib.sha256(client.session().encode()).hexdigest()
            env.sql("UPDATE admin_sessions SET %s = NOW(3) - INTERVAL %d SECOND"
                    " WHERE id_hash = UNHEX('%s')" % (column, seconds, h))
            return h

        # active: idle 50 s of 60, and 90 s old of 120: still in, and its idle clock restarts
        age(a, "created_at", 90)
        ha = age(a, "last_seen", 50)
        assert a.get("/alerts").status == 200, "a session idle 50 s of 60 ended"
        assert env.scalar("SELECT TIMESTAMPDIFF(SECOND, last_seen, NOW(3)) < 10 FROM admin_sessions"
                          " WHERE id_hash = UNHEX('%s')" % ha) == "1", "use did not renew last_seen"
        # idle past session_idle: sent to the login page, its cookie cleared, its row gone
        age(idle, "last_seen", 61)
        r = idle.get("/alerts")
        assert r.status == 303 and r.header("Location") == "/login", ("idle session after 61 s", r)
        sid = idle.jar.get("kabar_session")
        assert sid is None, "an ended session's cookie is not cleared: %r" % (sid,)
        # in use all along but older than session_max: ended too
        age(a, "created_at", 121)
        r = a.get("/alerts")
        assert r.status == 303 and r.header("Location") == "/login", ("session past session_max", r)
        assert env.scalar("SELECT COUNT(*) FROM admin_sessions s JOIN admin_users u ON u.id = s.user_id"
                          " WHERE u.username = %s" % sq(user)) == "0", "expired sessions left in the table"


# ---------------------------------------------------------------- 5. CSRF

def test_admin_csrf_refused_without_a_token(env):
    with Kabard(env) as k, Data(env) as d:
        user, pw = make_user(env, k)
        kid = d.kpm("Uji Csrf " + d.tag)
        rid = d.business(kid)
        b, _ = login(k, user, pw)
        other, _ = login(k, user, pw)
        good = b.csrf()
        foreign = other.csrf()
        assert good != foreign
        uid = env.scalar("SELECT id FROM admin_users WHERE username = %s" % sq(user))
        wrong = "%064x" % random.getrandbits(256)
        for label, token in (("none", None), ("wrong", wrong), ("other session's", foreign),
                             ("empty", "")):
            def form(**f):
                if token is not None:
                    f["csrf"] = token
                return f
            r = b.post("/review", form(type="business", id=str(rid), status="reviewed", note="x"))
            assert r.status == 403, ("/review with %s csrf" % label, r)
            r = b.post("/queue", form(q="Siti", review="all"))
            assert r.status == 403, ("/queue with %s csrf" % label, r)
            r = b.post("/lang", form(lang="en"))
            assert r.status == 403, ("/lang with %s csrf" % label, r)
            r = b.post("/logout", form())
            assert r.status == 403, ("/logout with %s csrf" % label, r)
        assert env.scalar("SELECT COUNT(*) FROM reviews WHERE report_type = 'business' AND report_id = %d"
                          % rid) == "0", "a review without a valid CSRF token was stored"
        rows = env.sql("SELECT COALESCE(filter, 'NULL'), lang FROM admin_sessions WHERE user_id = %s" % uid)
        assert len(rows) == 2, "a session was logged out without a valid CSRF token: %r" % rows
        assert all(r == ["NULL", "id"] for r in rows), rows
        assert b.get("/").status == 200
        # with the right token it works
        r = review(b, good, "business", rid, "reviewed")
        assert r.status == 303, r
        # a CSRF token in the query string does not count either
        r = b.request("POST", "/lang?csrf=" + good, form={"lang": "en"})
        assert r.status == 403, ("csrf in the URL", r)

        # login without the kabar_pre cookie, or with another one
        c = Browser(k.admin_port)
        r = c.get("/login")
        csrf = csrf_of(r.text)
        r = c.post("/login", {"csrf": csrf, "username": user, "password": pw}, send_cookies=False)
        assert r.status == 403, ("login without kabar_pre", r)
        assert "kabar_session" not in c.jar
        r = c.request("POST", "/login", form={"csrf": csrf, "username": user, "password": pw},
                      send_cookies=False, headers={"Cookie": "kabar_pre=%064x" % random.getrandbits(256)})
        assert r.status == 403, ("login with a mismatched kabar_pre", r)
        r = c.request("POST", "/login", form={"username": user, "password": pw})
        assert r.status == 403, ("login without a csrf field", r)
        assert "kabar_session" not in c.jar
        assert len(env.sql("SELECT 1 FROM admin_sessions WHERE user_id = %s" % uid)) == 2


# ---------------------------------------------------------------- 6. roles and regions

def test_admin_supervisor_sees_only_the_region(env):
    with Kabard(env) as k, Data(env) as d:
        admin, apw = make_user(env, k)
        sup, spw = make_user(env, k, "supervisor", region="52")
        jb = d.business(1, status=1)           # Siti Aminah, Jawa Barat
        ntb = d.business(2, status=2)          # KPM 2, NTB
        ntb_att = d.attendance(2, training=3, attended=0, reason=2)
        s, _ = login(k, sup, spw)
        r = s.get("/")
        assert r.status == 200 and sup in r.text
        count, rows, text = queue_page(s)
        expected = db_count(env, "k.region_code LIKE '52%'")
        assert count == expected, ("supervisor's p#count", count, expected)
        assert ("business", ntb) in rows and ("attendance", ntb_att) in rows, rows[:10]
        assert ("business", jb) not in rows
        for t in TABLES:
            ids = [i for tt, i in rows if tt == t]
            if ids:
                regions = env.sql("SELECT DISTINCT LEFT(k.region_code, 2) FROM %s x JOIN kpm k ON "
                                  "k.id = x.kpm_id WHERE x.id IN (%s)" % (TABLES[t], ",".join(map(str, ids))))
                assert regions == [["52"]], (t, regions)
        # a filter naming another region shows nothing
        csrf = s.csrf()
        set_filter(s, csrf, region="32", review="all")
        count, rows, _ = queue_page(s)
        assert count == 0 and rows == [], ("supervisor 52 with region=32", count, rows[:5])
        set_filter(s, csrf, q="+628120000001", review="all")
        count, rows, _ = queue_page(s)
        assert count == 0 and rows == [], ("supervisor 52 searching KPM 1's phone", count, rows[:5])
        set_filter(s, csrf, reset="1")
        # KPM pages and reviews
        r = s.get("/kpm?id=1")
        assert r.status == 404, ("supervisor 52 on KPM 1 (Jawa Barat)", r)
        assert "Siti Aminah" not in r.text
        r = s.get("/kpm?id=2")
        assert r.status == 200, r
        r = review(s, csrf, "business", jb, "reviewed")
        assert r.status == 404, ("supervisor 52 reviewing a Jawa Barat report", r)
        assert env.scalar("SELECT COUNT(*) FROM reviews WHERE report_type = 'business' AND report_id = %d"
                          % jb) == "0"
        # the export holds only NTB rows, all of them
        r = s.get("/export/reports.csv")
        assert r.status == 200, r
        header, data = parse_csv(r.body)
        ri = header.index("region_code")
        assert data, "supervisor's export is empty"
        assert all(row[ri].startswith("52") for row in data), [row[ri] for row in data if not row[ri].startswith("52")][:5]
        got = [int(row[0]) for row in data]
        assert got == db_ids(env, "business", "k.region_code LIKE '52%'"), (len(got), "rows differ from DB")
        assert ntb in got and jb not in got
        r = s.get("/export/attendance.csv")
        header, data = parse_csv(r.body)
        assert all(row[header.index("region_code")].startswith("52") for row in data)
        assert [int(row[0]) for row in data] == db_ids(env, "attendance", "k.region_code LIKE '52%'")
        # the review within the region works
        r = review(s, csrf, "business", ntb, "follow_up")
        assert r.status == 303 and r.header("Location") == "/kpm?id=2#r-business-%d" % ntb, r
        # the admin sees both regions
        a, _ = login(k, admin, apw)
        count, rows, _ = queue_page(a)
        assert count == db_count(env, "1 = 1"), count
        assert ("business", jb) in rows, rows[:10]
        assert ("business", ntb) not in rows  # reviewed (follow_up) now
        assert a.get("/kpm?id=1").status == 200
        assert a.get("/kpm?id=2").status == 200
        set_filter(a, a.csrf(), review="all", q="+628120000002")
        count, rows, _ = queue_page(a)
        assert ("business", ntb) in rows and ("attendance", ntb_att) in rows, rows


# ---------------------------------------------------------------- 7. XSS

def test_admin_pages_escape_names_and_notes(env):
    with Kabard(env) as k, Data(env) as d:
        user, pw = make_user(env, k)
        kid = d.kpm(XSS_NAME)
        rid = d.business(kid)
        hid = d.help(kid, text='<b onmouseover="alert(3)">tolong</b>')
        b, _ = login(k, user, pw)
        csrf = b.csrf()
        set_filter(b, csrf, q=XSS_NAME, review="all")
        count, rows, text = queue_page(b)
        assert ("business", rid) in rows, (count, rows)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "<script" not in text.lower(), "raw <script> in the queue page"
        assert "<b onmouseover" not in text
        # the filter form shows q back inside value="...": quotes must be escaped too
        set_filter(b, csrf, q='x"><script>alert(2)</script>', review="all")
        count, rows, text = queue_page(b)
        assert "<script" not in text.lower()
        m = re.search(r'name="q" maxlength="100" value="([^"]*)"', text)
        assert m and m.group(1) == "x&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;", \
            text.split('name="q"')[1][:120]
        r = b.get("/kpm?id=%d" % kid)
        assert r.status == 200, r
        m = re.search(r'<h1 id="kpm-name">(.*?)</h1>', r.text)
        assert m and m.group(1) == "&lt;script&gt;alert(1)&lt;/script&gt;", m and m.group(1)
        assert "<script" not in r.text.lower()
        assert "<b onmouseover" not in r.text and "&lt;b onmouseover" in r.text
        r = review(b, csrf, "business", rid, "note", XSS_NOTE)
        assert r.status == 303, r
        r = b.get("/kpm?id=%d" % kid)
        assert "&lt;img src=x onerror=alert(1)&gt;" in r.text, "note not shown escaped"
        assert "<img" not in r.text.lower()
        # the title too
        t = re.search(r"<title>(.*?)</title>", r.text)
        assert t and "<script" not in t.group(1), t and t.group(1)
        assert hid  # the help request was on the page, escaped


# ---------------------------------------------------------------- 8. queue filters

def test_admin_queue_every_filter(env):
    with Kabard(env, admin_conf(env, page_size="5")) as k, Data(env) as d:
        user, pw = make_user(env, k)
        desa = d.desa("520104")
        name_a = "Rahmi %s Lestari" % d.tag
        name_b = "Wulan %s Sari" % d.tag
        ka = d.kpm(name_a, region=desa, assistant=3)
        kb = d.kpm(name_b, region="3204132005", assistant=2)
        phone_a = env.scalar("SELECT msisdn FROM kpm WHERE id = %d" % ka)
        rows = []  # type, id, kpm, region, assistant, bstatus, created (UTC)

        def add(kind, kpm, at, **kw):
            fn = getattr(d, kind)
            rid = fn(kpm, at=sq(at), **kw)
            rows.append({"type": kind, "id": rid, "kpm": kpm, "region": desa if kpm == ka else "3204132005",
                         "assistant": 3 if kpm == ka else 2, "bstatus": kw.get("status"), "at": at})
            return rid
        a1 = add("business", ka, "2021-03-10 16:59:59.000", status=1)   # WIB 2021-03-10 23:59:59
        a2 = add("business", ka, "2021-03-10 17:00:00.000", status=3)   # WIB 2021-03-11 00:00:00
        a3 = add("attendance", ka, "2021-03-12 05:00:00.000", training=3, attended=1)
        a4 = add("help", ka, "2021-03-13 05:00:00.000", assistant=3, topic=2)
        b1 = add("business", kb, "2021-03-14 05:00:00.000", status=2)
        b2 = add("business", kb, "2021-03-15 05:00:00.000", status=1)
        b3 = add("attendance", kb, "2021-03-16 05:00:00.000", training=1, attended=0, reason=1)
        b4 = add("help", kb, "2021-03-11 03:00:00.000", assistant=2, topic=1)
        b5 = add("business", kb, "2021-03-09 05:00:00.000", status=4)
        newest_first = sorted(rows, key=lambda r: r["at"], reverse=True)

        b, _ = login(k, user, pw)
        csrf = b.csrf()

        def all_pages():
            count, first, text = queue_page(b)
            got = list(first)
            page = 0
            while 'id="next"' in text:
                assert 'href="/queue?page=%d"' % (page + 1) in text, text[-400:]
                page += 1
                c2, more, text = queue_page(b, page)
                assert c2 == count
                assert 'id="prev" href="/queue?page=%d"' % (page - 1) in text, "no a#prev on page %d" % page
                assert len(more) <= 5, len(more)
                got += more
                assert page < 50, "pager does not end"
            return count, got

        def check(label, pred, review="unreviewed", **f):
            set_filter(b, csrf, review=review, **f)
            count, got = all_pages()
            want = [(r["type"], r["id"]) for r in newest_first if pred(r)]
            assert count == len(want), ("%s: p#count %d, want %d" % (label, count, len(want)))
            assert got == want, ("%s: rows\n got %r\nwant %r" % (label, got, want))

        everything = lambda r: True
        check("q name part", everything, q=d.tag)
        check("q name, other case", everything, q=d.tag.upper())
        check("q full name", lambda r: r["kpm"] == ka, q=name_a)
        local = "0" + phone_a[3:]
        for form in (phone_a, phone_a[1:], local, "%s %s-%s-%s" % (phone_a[:3], phone_a[3:6], phone_a[6:10],
                                                                     phone_a[10:]),
                     "+62 " + local, "(%s) %s" % (local[:4], local[4:])):
            check("q phone %r" % form, lambda r: r["kpm"] == ka, q=form)
        check("region desa", lambda r: r["region"] == desa, q=d.tag, region=desa)
        check("region province 52", lambda r: r["region"].startswith("52"), q=d.tag, region="52")
        check("region 32", lambda r: r["region"].startswith("32"), q=d.tag, region="32")
        check("assistant 2", lambda r: r["assistant"] == 2, q=d.tag, assistant="2")
        check("assistant 3", lambda r: r["assistant"] == 3, q=d.tag, assistant="3")
        for t in ("business", "attendance", "help"):
            check("type " + t, lambda r, t=t: r["type"] == t, q=d.tag, type_=t)
        for s in (1, 2, 3, 4):
            check("bstatus %d" % s, lambda r, s=s: r["type"] == "business" and r["bstatus"] == s,
                  q=d.tag, bstatus=str(s))
        check("bstatus 1 + type business", lambda r: r["type"] == "business" and r["bstatus"] == 1,
              q=d.tag, bstatus="1", type_="business")
        # WIB dates: 2021-03-10 17:00 UTC is 2021-03-11 in WIB
        check("to 2021-03-10", lambda r: r["at"] < "2021-03-10 17:00", q=d.tag, to="2021-03-10")
        check("from 2021-03-11", lambda r: r["at"] >= "2021-03-10 17:00", q=d.tag, from_="2021-03-11")
        check("from = to 2021-03-11", lambda r: "2021-03-10 17:00" <= r["at"] < "2021-03-11 17:00",
              q=d.tag, from_="2021-03-11", to="2021-03-11")
        check("from 2021-03-13 to 2021-03-15", lambda r: "2021-03-12 17:00" <= r["at"] < "2021-03-15 17:00",
              q=d.tag, from_="2021-03-13", to="2021-03-15")
        check("region + type + dates", lambda r: r["region"] == desa and r["type"] == "business"
              and r["at"] >= "2021-03-10 17:00", q=d.tag, region=desa, type_="business", from_="2021-03-11")
        # LIKE's own characters are literal
        check("q %", lambda r: False, q="%" + d.tag[:0] + "%%")
        check("q _", lambda r: False, q=d.tag[:3] + "_" + d.tag[4:])

        # review states
        assert review(b, csrf, "business", a1, "reviewed").status == 303
        assert review(b, csrf, "business", b1, "follow_up").status == 303
        assert review(b, csrf, "help", a4, "note", "noted only").status == 303
        done = {("business", a1), ("business", b1)}
        check("unreviewed after reviews", lambda r: (r["type"], r["id"]) not in done, q=d.tag)
        check("reviewed", lambda r: (r["type"], r["id"]) == ("business", a1), review="reviewed", q=d.tag)
        check("follow_up", lambda r: (r["type"], r["id"]) == ("business", b1), review="follow_up", q=d.tag)
        check("all", everything, review="all", q=d.tag)
        # the latest review counts: follow_up then reviewed is reviewed
        assert review(b, csrf, "business", b1, "reviewed").status == 303
        check("reviewed after follow_up", lambda r: (r["type"], r["id"]) in done, review="reviewed", q=d.tag)
        check("follow_up after reviewed", lambda r: False, review="follow_up", q=d.tag)
        # reviewed then follow_up again
        assert review(b, csrf, "business", a1, "follow_up").status == 303
        check("follow_up again", lambda r: (r["type"], r["id"]) == ("business", a1), review="follow_up", q=d.tag)

        # filters without q, against the database
        for label, f, where in (
                ("region 52", {"region": "52"}, "k.region_code LIKE '52%'"),
                ("assistant 5", {"assistant": "5"}, "k.assistant_id = 5"),
                ("region 81 + help", {"region": "81", "type_": "help"}, "k.region_code LIKE '81%'")):
            set_filter(b, csrf, **f)
            count, _, _ = queue_page(b)
            types = ("help",) if "type_" in f else ("business", "attendance", "help")
            want = db_count(env, where, types)
            assert count == want, (label, count, want)
        # the filter is in the session, not in the URL
        set_filter(b, csrf, q=phone_a)
        count, _, text = queue_page(b)
        assert count == 3, count   # a2, a3 (a1 is follow_up) and a4 (note only)
        assert phone_a[3:] not in "".join(re.findall(r'href="([^"]*)"', text)), "the phone number in a link"
        filt = env.scalar("SELECT filter FROM admin_sessions s JOIN admin_users u ON u.id = s.user_id "
                          "WHERE u.username = %s" % sq(user))
        assert filt and phone_a in filt, filt
        # bad filter values are refused, and do not replace the filter
        for bad in ({"type_": "x"}, {"bstatus": "5"}, {"from_": "2021-13-01"}, {"review": "maybe"},
                    {"region": "52'"}, {"assistant": "abc"}):
            form = {"csrf": csrf, "review": "unreviewed"}
            for key, v in bad.items():
                form[key.rstrip("_")] = v
            r = b.post("/queue", form)
            assert r.status == 400, (bad, r)
        count2, _, _ = queue_page(b)
        assert count2 == count
        # reset
        set_filter(b, csrf, reset="1")
        count, _, _ = queue_page(b)
        assert count == db_count(env, "1 = 1"), count


def test_admin_queue_business_status_with_another_type(env):
    """A business status with type=attendance (or help) is refused with a 400 that says why, and
    the stored filter stays as it was: the queue is still a complete page. (Bug: the builder
    had no table left and the page stopped after the filter form.)"""
    with Kabard(env) as k, Data(env) as d:
        user, pw = make_user(env, k)
        kid = d.kpm("Kontra %s" % d.tag)
        d.business(kid, status=1)
        d.attendance(kid)
        b, _ = login(k, user, pw)
        csrf = b.csrf()
        set_filter(b, csrf, q=d.tag, review="all")
        for t in ("attendance", "help"):
            form = {"csrf": csrf, "type": t, "bstatus": "1", "review": "all", "q": d.tag}
            r = b.post("/queue", form)
            assert r.status == 400, ("type=%s + bstatus=1" % t, r)
            assert "business reports only" in r.text, r.text[-400:]
            r = b.get("/queue")
            assert r.status == 200 and r.text.rstrip().endswith("</html>"), r.text[-200:]
            m = re.search(r'<p id="count">(\d+) ', r.text)
            assert m and m.group(1) == "2", ("the earlier filter still applies", r.text[-300:])
        # the API refuses the same combination
        token = make_token(env, k, user)
        r = raw_request(k.admin_port, "GET", "/api/v1/reports?type=attendance&bstatus=1",
                        headers={"Authorization": "Bearer " + token})
        assert r.status == 400, r


# ---------------------------------------------------------------- 9. exports

BUSINESS_COLS = ("report_id,created_wib,kpm_id,pkh_number,kpm_name,msisdn,region_code,assistant_id,"
                 "source,status,kind,revenue,workers,difficulty,review").split(",")
ATTENDANCE_COLS = ("report_id,created_wib,kpm_id,pkh_number,kpm_name,msisdn,region_code,assistant_id,"
                   "source,training_id,training_title,training_date,attended,reason,review").split(",")


def test_admin_exports_match_the_database(env):
    with Kabard(env) as k, Data(env) as d:
        admin, apw = make_user(env, k)
        desa = d.desa("810305")
        sup, spw = make_user(env, k, "supervisor", region=desa)
        name = '=HYPERLINK("http://x") %s' % d.tag
        ka = d.kpm(name, region=desa, assistant=5, nik4="0042")
        kb = d.kpm("Ana, %s" % d.tag, region="3204132005", assistant=1)
        phone = env.scalar("SELECT msisdn FROM kpm WHERE id = %d" % ka)
        pkh = env.scalar("SELECT pkh_number FROM kpm WHERE id = %d" % ka)
        ids = [d.business(ka, status=s, revenue=100000 * s, kind=s, workers=s, difficulty=2,
                          at="NOW(3) - INTERVAL %d MINUTE" % (10 - s)) for s in (1, 2, 3, 4)]
        bid = d.business(kb, status=1)
        d.business(2, status=1)  # so that the NTB supervisor's export below is not empty
        att = [d.attendance(ka, training=t, attended=t % 2, reason=None if t % 2 else 3) for t in (5, 6)]
        att_b = d.attendance(kb, training=1)

        a, _ = login(k, admin, apw)
        csrf = a.csrf()
        set_filter(a, csrf, q=d.tag, review="all", type_="help")
        r = a.get("/export/reports.csv")
        assert r.status == 200, r
        assert r.header("Content-Type") == "text/csv; charset=utf-8", r.header("Content-Type")
        disp = r.header("Content-Disposition") or ""
        assert disp.startswith("attachment") and ".csv" in disp, disp
        assert (r.header("Transfer-Encoding") or "").lower() == "chunked", r.msg.items()
        assert "no-store" in (r.header("Cache-Control") or "")
        header, data = parse_csv(r.body)
        assert header == BUSINESS_COLS, header
        got = [int(row[0]) for row in data]
        assert got == sorted(ids + [bid], reverse=True), ("export ignores type=help and keeps the rest",
                                                            got, ids, bid)
        row = dict(zip(header, data[got.index(ids[2])]))
        assert row["kpm_id"] == str(ka) and row["pkh_number"] == pkh, row
        assert row["msisdn"] == phone, ("a phone number stays as it is", row["msisdn"])
        assert row["kpm_name"] == "'" + name, ("formula guard", row["kpm_name"])
        assert row["region_code"] == desa and row["assistant_id"] == "5", row
        assert row["status"] == "3" and row["kind"] == "3" and row["revenue"] == "300000", row
        assert row["workers"] == "3" and row["difficulty"] == "2" and row["review"] == "unreviewed", row
        assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d$", row["created_wib"]), row["created_wib"]
        wib = env.scalar("SELECT DATE_FORMAT(created_at + INTERVAL 7 HOUR, '%%Y-%%m-%%d %%H:%%i') FROM "
                         "business_reports WHERE id = %d" % ids[2])
        assert row["created_wib"] == wib, (row["created_wib"], wib)
        assert dict(zip(header, data[got.index(bid)]))["kpm_name"] == "Ana, " + d.tag
        raw = r.body.decode("utf-8")
        assert '"\'=HYPERLINK(""http://x"") %s"' % d.tag in raw, "formula field not quoted as expected"
        # the same rows as the queue shows (filter type forced to business)
        set_filter(a, csrf, q=d.tag, review="all", type_="business")
        count, rows, _ = queue_page(a)
        assert count == len(got) and {i for _, i in rows} == set(got), (count, rows)
        # attendance, filter by region and review state
        r = a.get("/export/attendance.csv")
        header, data = parse_csv(r.body)
        assert header == ATTENDANCE_COLS, header
        assert [int(x[0]) for x in data] == sorted(att + [att_b], reverse=True), data
        row = dict(zip(header, data[[int(x[0]) for x in data].index(att[1])]))
        title = env.scalar("SELECT title FROM trainings WHERE id = 6")
        assert row["training_id"] == "6" and row["training_title"] == title and row["attended"] == "0" \
            and row["reason"] == "3", row
        assert review(a, csrf, "business", ids[0], "reviewed").status == 303
        set_filter(a, csrf, q=d.tag, region=desa)
        header, data = parse_csv(a.get("/export/reports.csv").body)
        assert [int(x[0]) for x in data] == sorted(ids[1:], reverse=True), data
        set_filter(a, csrf, q=d.tag, review="reviewed")
        header, data = parse_csv(a.get("/export/reports.csv").body)
        assert [int(x[0]) for x in data] == [ids[0]] and data[0][-1] == "reviewed", data
        assert env.scalar("SELECT COUNT(*) FROM audit_log WHERE actor = %s AND action = 'export'"
                          % sq(admin)) != "0"
        # the supervisor of the new desa: exactly its rows
        s, _ = login(k, sup, spw)
        header, data = parse_csv(s.get("/export/reports.csv").body)
        assert [int(x[0]) for x in data] == sorted(ids[1:], reverse=True), ("supervisor export", data)
        header, data = parse_csv(s.get("/export/attendance.csv").body)
        assert [int(x[0]) for x in data] == sorted(att, reverse=True), ("supervisor attendance", data)
        # a supervisor of a province, default filter (unreviewed)
        sup52, spw52 = make_user(env, k, "supervisor", region="52")
        s52, _ = login(k, sup52, spw52)
        header, data = parse_csv(s52.get("/export/reports.csv").body)
        assert [int(x[0]) for x in data] == db_ids(env, "business", "k.region_code LIKE '52%'")


def test_admin_export_larger_than_a_page(env):
    with Kabard(env) as k, Data(env) as d:
        admin, apw = make_user(env, k)
        kid = d.kpm("Banyak %s Laporan" % d.tag, region="3204132005", assistant=2)
        d.bulk_business(kid, 2500)
        want = [int(r[0]) for r in env.sql("SELECT id FROM business_reports WHERE kpm_id = %d ORDER BY id DESC"
                                           % kid)]
        assert len(want) == 2500
        a, _ = login(k, admin, apw)
        set_filter(a, a.csrf(), q=d.tag)
        t0 = time.time()
        r = a.get("/export/reports.csv")
        assert r.status == 200, r
        header, data = parse_csv(r.body)
        got = [int(x[0]) for x in data]
        assert len(got) == len(set(got)), "duplicate report_id: %d rows, %d distinct" % (len(got), len(set(got)))
        assert len(got) == 2500, ("rows in the export", len(got))
        assert got == want, "rows differ from the database (or not newest id first)"
        assert time.time() - t0 < 20, "export took %.1f s" % (time.time() - t0)
        # the queue count and pager agree
        count, rows, text = queue_page(a)
        assert count == 2500 and len(rows) == 50 and 'id="next"' in text, (count, len(rows))
        count, rows, text = queue_page(a, 49)
        assert len(rows) == 50 and 'id="next"' not in text, len(rows)
        assert rows[-1] == ("business", want[0]), ("oldest report last", rows[-1], want[0])
        # past the end: the last page again
        count, rows50, text = queue_page(a, 50)
        assert rows50 == rows, rows50[:3]


def test_admin_export_cut_by_the_database_is_not_a_complete_file(env):
    """Bug: when MariaDB went away in the middle of an export, kabard ended the chunked reply
    normally, so the client got a short CSV that looked complete. Now the connection is closed
    without the last chunk: the download fails instead of lying."""
    with Kabard(env) as k, Data(env) as d:
        admin, apw = make_user(env, k)
        kid = d.kpm("Putus %s" % d.tag)
        d.bulk_business(kid, 60000)
        a, _ = login(k, admin, apw)
        set_filter(a, a.csrf(), q=d.tag)
        conn = http.client.HTTPConnection("127.0.0.1", k.admin_port, timeout=60)
        conn.request("GET", "/export/reports.csv", headers={"Cookie": "kabar_session=" + a.session()})
        resp = conn.getresponse()
        assert resp.status == 200, resp.status
        first = resp.read(4096)
        assert first.startswith(b"\xef\xbb\xbf"), first[:10]
        # kabard waits for us (one chunk at a time); meanwhile the database goes away
        env.mariadb_stop()
        try:
            complete = True
            try:
                rest = resp.read()
                got = first + rest
            except http.client.IncompleteRead as e:
                complete = False
                got = first + e.partial
            lines = got.count(b"\r\n") - 1
            assert not complete, "a cut export ended like a complete one (%d rows)" % lines
            assert 0 < lines < 60000, lines
            wait_for(lambda: "end=db_" in k.logtext(), timeout=20, what="the export's end line")
        finally:
            env.mariadb_start()
        # and kabard goes on serving once the database is back
        wait_for(lambda: a.get("/").status == 200, timeout=30, what="the dashboard again")


def test_admin_export_of_exactly_one_page_and_of_nothing(env):
    """1000 rows fill the export's first database page exactly: the next page is empty."""
    with Kabard(env) as k, Data(env) as d:
        admin, apw = make_user(env, k)
        kid = d.kpm("Seribu %s Laporan" % d.tag, region="5201042003", assistant=3)
        d.bulk_business(kid, 1000)
        a, _ = login(k, admin, apw)
        csrf = a.csrf()
        set_filter(a, csrf, q=d.tag)
        r = a.get("/export/reports.csv", timeout=8)
        assert r.status == 200, r
        header, data = parse_csv(r.body)
        assert len(data) == 1000 and len({x[0] for x in data}) == 1000, len(data)
        # an export without rows: the BOM and the header line, and the reply ends
        set_filter(a, csrf, q="no such kpm " + d.tag)
        r = a.get("/export/reports.csv", timeout=8)
        assert r.status == 200, r
        header, data = parse_csv(r.body)
        assert header == BUSINESS_COLS and data == [], (header, data[:2])
        r = a.get("/export/attendance.csv", timeout=8)
        header, data = parse_csv(r.body)
        assert header == ATTENDANCE_COLS and data == [], (header, data[:2])


# ---------------------------------------------------------------- 10. review actions

def test_kpm_page_reviews_come_from_her_reports_not_from_the_reviewers_history(env):
    """The KPM page's reviews were read as every review of the reviewer filtered by ORs of IN
    subqueries (6 s at a million KPM); they are now read from her reports, one index dive each.
    Her reviews of each report type show, another KPM's (same reviewer) do not."""
    with Kabard(env) as k, Data(env) as d:
        user, pw = make_user(env, k)
        her = d.kpm("Ulasan %s Dewi" % d.tag)
        other = d.kpm("Ulasan %s Lain" % d.tag)
        mine = [("business", d.business(her)), ("attendance", d.attendance(her, training=3)),
                ("help", d.help(her, topic=3, text="tolong"))]
        theirs = [("business", d.business(other)), ("attendance", d.attendance(other, training=3)),
                  ("help", d.help(other, topic=3, text="tolong juga"))]
        b, _ = login(k, user, pw)
        csrf = csrf_of(b.get("/kpm?id=%d" % her).text)
        for who, reports in (("milik-dia", mine), ("milik-lain", theirs)):
            for t, i in reports:
                r = review(b, csrf, t, i, "note", "%s-%s-%s" % (who, t, d.tag))
                assert r.status == 303, (t, i, r)
        r = b.get("/kpm?id=%d" % her)
        assert r.status == 200, r
        for t, _ in mine:
            assert "milik-dia-%s-%s" % (t, d.tag) in r.text, ("her %s review missing" % t)
        assert "milik-lain-" not in r.text, "another KPM's review shown on her page"


def test_admin_review_actions_on_the_kpm_page(env):
    with Kabard(env) as k, Data(env) as d:
        user, pw = make_user(env, k)
        kid = d.kpm("Tinjau %s Utami" % d.tag, region="5201042003", assistant=4, nik4="9876")
        r1 = d.business(kid, at="NOW(3) - INTERVAL 3 MINUTE")
        r2 = d.attendance(kid, training=3, at="NOW(3) - INTERVAL 2 MINUTE")
        r3 = d.help(kid, assistant=4, topic=3, text="minta ditelepon", at="NOW(3) - INTERVAL 1 MINUTE")
        b, _ = login(k, user, pw)
        r = b.get("/kpm?id=%d" % kid)
        assert r.status == 200, r
        assert re.search(r'<h1 id="kpm-name">Tinjau %s Utami</h1>' % d.tag, r.text)
        assert "************9876" in r.text, "NIK not masked as 12 stars + last 4"
        for t, i in (("business", r1), ("attendance", r2), ("help", r3)):
            assert re.search(r'<article class="report" id="r-%s-%d" data-review="none">' % (t, i), r.text), (t, i)
        order = re.findall(r'<article class="report" id="r-(\w+)-(\d+)"', r.text)
        assert order == [("help", str(r3)), ("attendance", str(r2)), ("business", str(r1))], order
        assert r.text.count('<form class="review" method="post" action="/review">') == 3
        csrf = csrf_of(r.text)

        r = review(b, csrf, "business", r1, "reviewed", "sudah dicek %s" % d.tag)
        assert r.status == 303 and r.header("Location") == "/kpm?id=%d#r-business-%d" % (kid, r1), r
        r = review(b, csrf, "attendance", r2, "follow_up")
        assert r.status == 303 and r.header("Location") == "/kpm?id=%d#r-attendance-%d" % (kid, r2), r
        r = review(b, csrf, "help", r3, "note", "hanya catatan")
        assert r.status == 303, r
        # refused: empty note, too long a note, bad status or type, unknown report
        for form, want in ((("help", r3, "note", ""), 400), (("help", r3, "note", "x" * 1001), 400),
                           (("help", r3, "done", "x"), 400), (("bisnis", r1, "reviewed", ""), 400),
                           (("business", 999999999, "reviewed", ""), 404),
                           (("help", r1 + 10 ** 9, "reviewed", ""), 404)):
            r = review(b, csrf, *form)
            assert r.status == want, (form[:3], want, r)
        r = review(b, csrf, "help", r3, "note", "y" * 1000)
        assert r.status == 303, ("a note of exactly 1000 characters", r)
        rows = env.sql("SELECT report_type, report_id, status, COALESCE(note, 'NULL'), u.username FROM reviews v "
                       "JOIN admin_users u ON u.id = v.reviewer_id WHERE (report_type, report_id) IN "
                       "(('business', %d), ('attendance', %d), ('help', %d)) ORDER BY v.id" % (r1, r2, r3))
        assert rows == [["business", str(r1), "reviewed", "sudah dicek %s" % d.tag, user],
                        ["attendance", str(r2), "follow_up", "NULL", user],
                        ["help", str(r3), "note", "hanya catatan", user],
                        ["help", str(r3), "note", "y" * 1000, user]], rows
        audit = env.sql("SELECT action, target_type, target_id, COALESCE(detail, 'NULL') FROM audit_log "
                        "WHERE actor = %s AND action LIKE 'review.%%' ORDER BY id" % sq(user))
        assert audit == [["review.reviewed", "business", str(r1), "NULL"],
                         ["review.follow_up", "attendance", str(r2), "NULL"],
                         ["review.note", "help", str(r3), "NULL"],
                         ["review.note", "help", str(r3), "NULL"]], audit
        r = b.get("/kpm?id=%d" % kid)

        def article(t, i):
            m = re.search(r'<article class="report" id="r-%s-%d" data-review="(\w+)">(.*?)</article>'
                          % (t, i), r.text, re.S)
            assert m, (t, i)
            ul = re.search(r'<ul class="reviews">(.*?)</ul>', m.group(2), re.S)
            assert ul, "no ul.reviews in r-%s-%d" % (t, i)
            return m.group(1), ul.group(1)
        state, ul = article("business", r1)
        assert state == "reviewed", state
        assert user in ul and "sudah dicek %s" % d.tag in ul and "sudah ditinjau" in ul, ul
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", ul), ul
        state, ul = article("attendance", r2)
        assert state == "follow_up" and user in ul and "tindak lanjut" in ul, (state, ul)
        state, ul = article("help", r3)
        assert state == "none", ("a note alone does not review", state)
        assert "hanya catatan" in ul and user in ul, ul
        # the note-only report stays in the unreviewed queue, the others leave it
        set_filter(b, csrf, q=d.tag)
        count, rows, _ = queue_page(b)
        assert rows == [("help", r3)] and count == 1, (count, rows)
        # a supervisor of another region cannot review it (no row)
        sup, spw = make_user(env, k, "supervisor", region="81")
        s, _ = login(k, sup, spw)
        r = review(s, s.csrf(), "help", r3, "reviewed")
        assert r.status == 404, r
        assert env.scalar("SELECT COUNT(*) FROM reviews WHERE reviewer_id = (SELECT id FROM admin_users "
                          "WHERE username = %s)" % sq(sup)) == "0"
        assert s.get("/kpm?id=%d" % kid).status == 404
        assert s.get("/kpm?id=999999999").status == 404
        assert b.get("/kpm?id=999999999").status == 404
        assert b.get("/kpm?id=abc").status == 400


# ---------------------------------------------------------------- 11. API

def test_api_tokens_reports_kpm_reviews(env):
    with Kabard(env) as k, Data(env) as d:
        admin, _ = make_user(env, k)
        sup, _ = make_user(env, k, "supervisor", region="52")
        tok = make_token(env, k, admin, label="it")
        stok = make_token(env, k, sup)
        assert tok != stok
        assert env.scalar("SELECT COUNT(*) FROM api_tokens WHERE token_hash = UNHEX(SHA2(%s, 256))" % sq(tok)) == "1"
        assert env.scalar("SELECT COUNT(*) FROM api_tokens WHERE name = %s OR token_hash = %s"
                          % (sq(tok), sq(tok))) == "0"

        def api(method, path, token=tok, body=None, ctype=None):
            h = {}
            if token is not None:
                h["Authorization"] = "Bearer " + token
            if ctype:
                h["Content-Type"] = ctype
            return raw_request(k.admin_port, method, path, body, h)

        # 401s
        for token in (None, "", "x" * 64, "%064x" % random.getrandbits(256), tok[:-1], tok + "0", tok.upper()):
            r = api("GET", "/api/v1/reports", token=token)
            assert r.status == 401, (token, r)
            assert "error" in r.json() and r.header("WWW-Authenticate", "").startswith("Bearer"), r
        r = raw_request(k.admin_port, "GET", "/api/v1/kpm?id=1", headers={"Authorization": "Basic " + tok})
        assert r.status == 401, r
        # the aggregator port has no API
        r = raw_request(k.port, "GET", "/api/v1/reports", headers={"Authorization": "Bearer " + tok})
        assert r.status == 404, r

        desa = d.desa("520104")
        k1 = d.kpm("Api %s Satu" % d.tag, region=desa, assistant=3, nik4="1111")
        k2 = d.kpm("Api %s Dua" % d.tag, region=desa, assistant=4, nik4="2222")
        ids = [d.business(k1 if i % 2 else k2, status=1 + i % 4) for i in range(23)]
        att = d.attendance(k1, training=3)

        # walk all pages
        def walk(path, token=tok, limit=5):
            seen, cursor, pages = [], None, 0
            while True:
                url = path + "&limit=%d" % limit + ("&cursor=" + cursor if cursor else "")
                r = api("GET", url, token=token)
                assert r.status == 200, (url, r)
                j = r.json()
                assert set(j) == {"data", "next_cursor"}, j.keys()
                assert len(j["data"]) <= limit
                seen += j["data"]
                pages += 1
                cursor = j["next_cursor"]
                if cursor is None:
                    return seen, pages
                assert isinstance(cursor, str) and cursor.isdigit(), cursor
                assert pages < 100
        data, pages = walk("/api/v1/reports?type=business&review=all&region=" + desa)
        got = [o["report_id"] for o in data]
        assert len(got) == len(set(got)), "a report twice"
        assert got == sorted(ids, reverse=True), (got, ids)
        assert pages in (5, 6), pages
        assert list(data[0].keys()) == BUSINESS_COLS, list(data[0].keys())
        o = [x for x in data if x["report_id"] == ids[2]][0]
        assert o["kpm_id"] == k2 and o["status"] == 3 and o["region_code"] == desa and o["assistant_id"] == 4, o
        assert o["kpm_name"] == "Api %s Dua" % d.tag and o["review"] == "unreviewed", o
        data, _ = walk("/api/v1/reports?type=business&review=all&region=%s&bstatus=2" % desa, limit=2)
        assert [x["report_id"] for x in data] == [i for i in sorted(ids, reverse=True)
                                                  if (ids.index(i) % 4) + 1 == 2], data
        data, _ = walk("/api/v1/reports?type=business&review=all&assistant=3&region=" + desa, limit=100)
        assert sorted(x["report_id"] for x in data) == sorted(ids[1::2]), data
        # exactly one full page: the walk still ends
        data, _ = walk("/api/v1/reports?type=business&review=all&region=" + desa, limit=23)
        assert len(data) == 23
        data, _ = walk("/api/v1/reports?type=attendance&review=all&region=" + desa)
        assert [x["report_id"] for x in data] == [att] and list(data[0].keys()) == ATTENDANCE_COLS, data
        # a wider filter against the database
        data, _ = walk("/api/v1/reports?type=business&review=all&region=52", limit=1000)
        assert len(data) == db_count(env, "k.region_code LIKE '52%'", ("business",), "all")
        assert len({x["report_id"] for x in data}) == len(data)
        # q is refused; bad values are 400
        for bad in ("q=Siti", "q=%2B628120000001", "type=x", "limit=0", "limit=1001", "cursor=abc",
                    "bstatus=9", "from=2021-02-30x"):
            r = api("GET", "/api/v1/reports?" + bad)
            assert r.status == 400 and "error" in r.json(), (bad, r)

        # KPM
        r = api("GET", "/api/v1/kpm?id=%d" % k1)
        assert r.status == 200, r
        o = r.json()
        assert o["id"] == k1 and o["nik_masked"] == "************1111" and o["name"] == "Api %s Satu" % d.tag, o
        assert "nik" not in o and "nik_hmac" not in o, o.keys()
        r = api("GET", "/api/v1/kpm?id=1")
        assert r.status == 200 and r.json()["name"] == "Siti Aminah", r
        assert "3204134201710001" not in r.text, "KPM 1's NIK in the API"
        assert r.json()["nik_masked"] == "************0001", r.json()
        assert api("GET", "/api/v1/kpm?id=999999999").status == 404
        data, _ = walk("/api/v1/kpm?region=" + desa, limit=1)
        assert [x["id"] for x in data] == [k2, k1], data

        # supervisor scope
        assert api("GET", "/api/v1/kpm?id=1", token=stok).status == 404
        r = api("GET", "/api/v1/kpm?id=%d" % k1, token=stok)
        assert r.status == 200 and r.json()["id"] == k1, r
        r = api("GET", "/api/v1/reports?type=business&review=all&region=32&limit=10", token=stok)
        assert r.status == 200 and r.json()["data"] == [], r
        r = api("GET", "/api/v1/reports?type=business&review=all&limit=1000", token=stok)
        assert r.status == 200 and r.json()["data"], r
        assert all(x["region_code"].startswith("52") for x in r.json()["data"])
        data, _ = walk("/api/v1/kpm?region=32", token=stok, limit=10)
        assert data == [], data[:2]

        # reviews
        jb = d.business(1)
        body = json.dumps({"type": "business", "id": ids[0], "status": "follow_up", "note": "via api"}).encode()
        r = api("POST", "/api/v1/reviews", body=body, ctype="application/json")
        assert r.status == 201, r
        assert r.json() == {"result": "recorded", "kpm_id": k2}, r.json()
        assert env.sql("SELECT status, note FROM reviews WHERE report_type = 'business' AND report_id = %d"
                       % ids[0]) == [["follow_up", "via api"]]
        assert env.scalar("SELECT COUNT(*) FROM audit_log WHERE actor = %s AND action = 'review.follow_up' "
                          "AND target_id = %d" % (sq(admin), ids[0])) == "1"
        r = api("POST", "/api/v1/reviews", body=body, ctype="text/plain")
        assert r.status == 415, r
        r = api("POST", "/api/v1/reviews", body=body)
        assert r.status == 415, r
        for bad in (b"{", b"[]", b'{"type":"business","id":"1","status":"reviewed"}',
                    b'{"type":"business","id":1,"status":"ok"}', b'{"type":"business","id":1,"status":"note"}',
                    b'{"type":"business","id":1,"status":"reviewed","x":1}',
                    json.dumps({"type": "business", "id": ids[0], "status": "note", "note": "n" * 1001}).encode()):
            r = api("POST", "/api/v1/reviews", body=bad, ctype="application/json")
            assert r.status == 400, (bad[:60], r)
        r = api("POST", "/api/v1/reviews", body=json.dumps({"type": "business", "id": jb, "status": "reviewed"}).encode(),
                ctype="application/json", token=stok)
        assert r.status == 404, ("supervisor 52 reviewing a Jawa Barat report", r)
        assert env.scalar("SELECT COUNT(*) FROM reviews WHERE report_type = 'business' AND report_id = %d" % jb) == "0"
        r = api("POST", "/api/v1/reviews", body=json.dumps({"type": "help", "id": 10 ** 12, "status": "reviewed"}).encode(),
                ctype="application/json")
        assert r.status == 404, r
        r = api("POST", "/api/v1/reviews", body=json.dumps({"type": "business", "id": ids[1], "status": "reviewed"}).encode(),
                ctype="application/json; charset=utf-8", token=stok)
        assert r.status == 201 and r.json()["kpm_id"] == k1, r
        # the review shows in the reports' review column and in GET reviews
        r = api("GET", "/api/v1/reports?type=business&review=follow_up&region=" + desa)
        assert [x["report_id"] for x in r.json()["data"]] == [ids[0]], r.json()
        r = api("GET", "/api/v1/reviews?limit=1000")
        assert r.status == 200, r
        mine = [x for x in r.json()["data"] if x["report_type"] == "business" and x["report_id"] in (ids[0], ids[1])]
        assert sorted((x["report_id"], x["status"], x["reviewer"], x["kpm_id"]) for x in mine) == \
            sorted([(ids[0], "follow_up", admin, k2), (ids[1], "reviewed", sup, k1)]), mine
        r = api("GET", "/api/v1/reviews?limit=1000", token=stok)
        assert all(x["report_id"] != jb for x in r.json()["data"])

        # alerts
        al = d.alert(k1, assistant=3)
        ack = d.alert(k2, assistant=4, state="acknowledged")
        r = api("GET", "/api/v1/alerts?state=open&limit=1000")
        ids_open = [x["id"] for x in r.json()["data"]]
        assert al in ids_open and ack not in ids_open, ids_open[:10]
        r = api("GET", "/api/v1/alerts?state=acknowledged&limit=1000")
        assert ack in [x["id"] for x in r.json()["data"]]
        r = api("GET", "/api/v1/alerts?state=all&limit=1000")
        assert {al, ack} <= {x["id"] for x in r.json()["data"]}
        assert api("GET", "/api/v1/alerts?state=maybe").status == 400
        # last_used_at is kept
        assert env.scalar("SELECT last_used_at IS NOT NULL FROM api_tokens WHERE token_hash = UNHEX(SHA2(%s, 256))"
                          % sq(tok)) == "1"
        # a revoked token stops working
        env.sql("UPDATE api_tokens SET revoked_at = NOW(3) WHERE token_hash = UNHEX(SHA2(%s, 256))" % sq(stok))
        assert api("GET", "/api/v1/kpm?id=%d" % k1, token=stok).status == 401


# ---------------------------------------------------------------- 12. listeners and headers

def test_admin_pages_only_on_the_admin_listener_with_security_headers(env):
    with Kabard(env) as k, Data(env) as d:
        user, pw = make_user(env, k)
        kid = d.kpm("Header %s" % d.tag)
        d.business(kid)
        d.attendance(kid)
        for path in ("/login", "/", "/queue", "/kpm?id=1", "/alerts", "/export/reports.csv",
                     "/static/admin.css", "/api/v1/kpm?id=1"):
            r = raw_request(k.port, "GET", path)
            assert r.status == 404, ("aggregator port " + path, r)
        r = raw_request(k.port, "POST", "/login", b"csrf=x&username=a&password=b",
                        {"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status in (404, 405), r
        # the aggregator's routes are not on the admin port
        r = raw_request(k.admin_port, "POST", "/c/at/demo/ussd", b"text=", {"Content-Type":
                                                                            "application/x-www-form-urlencoded"})
        assert r.status == 404, r
        b = Browser(k.admin_port)
        r = b.get("/login")
        check_security_headers(r, "/login")
        b, _ = login(k, user, pw, b=b)
        for path in ("/", "/queue", "/kpm?id=%d" % kid, "/alerts"):
            r = b.get(path)
            assert r.status == 200, (path, r)
            check_security_headers(r, path)
            assert r.header("Content-Type", "").startswith("text/html"), r.header("Content-Type")
            assert '<link rel="stylesheet" href="/static/admin.css">' in r.text
            assert "<script" not in r.text.lower(), path
        r = b.get("/export/attendance.csv")
        assert r.status == 200
        check_security_headers(r, "/export/attendance.csv")
        r = b.get("/kpm?id=999999999")
        assert r.status == 404
        check_security_headers(r, "404 page")
        r = b.get("/static/admin.css")
        assert r.status == 200 and r.header("Content-Type", "").startswith("text/css"), r
        assert "svg.chart" in r.text
        # the stylesheet is enough for the CSP: no inline style attributes in pages
        r = b.get("/")
        assert 'style="' not in r.text, "inline style= breaks style-src 'self'"
        assert "<style" not in r.text


# ---------------------------------------------------------------- 13. dashboard, alerts, language

def test_admin_dashboard_charts_and_figures(env):
    with Kabard(env) as k, Data(env) as d:
        user, pw = make_user(env, k)
        kid = d.kpm("Dasbor %s" % d.tag, region="8103052004", assistant=5)
        d.business(kid, status=1, revenue=2000000, at="NOW(3) - INTERVAL 1 DAY")
        d.business(kid, status=2, revenue=0, at="NOW(3) - INTERVAL 9 DAY", source="sms")
        d.attendance(kid, training=4, attended=1, at="NOW(3) - INTERVAL 2 DAY")
        d.attendance(kid, training=5, attended=0, reason=1, at="NOW(3) - INTERVAL 20 DAY")
        d.help(kid, assistant=5, at="NOW(3) - INTERVAL 3 HOUR")
        week = int(env.scalar(
            "SELECT (SELECT COUNT(*) FROM business_reports WHERE created_at >= NOW(3) - INTERVAL 7 DAY)"
            " + (SELECT COUNT(*) FROM attendance_reports WHERE created_at >= NOW(3) - INTERVAL 7 DAY)"
            " + (SELECT COUNT(*) FROM help_requests WHERE created_at >= NOW(3) - INTERVAL 7 DAY)"))
        b, _ = login(k, user, pw)
        r = b.get("/")
        assert r.status == 200, r
        assert '<main id="dashboard">' in r.text, r.text[:600]
        figs = dict(re.findall(r'<div class="figure" id="(fig-[a-z]+)"><span class="value">([^<]*)</span>', r.text))
        for f in ("fig-week", "fig-running", "fig-revenue", "fig-attendance", "fig-alerts", "fig-silent",
                  "fig-graduation"):
            assert f in figs, (f, figs)
        assert int(figs["fig-week"]) == week, (figs["fig-week"], week)
        assert figs["fig-running"].endswith("%") and figs["fig-attendance"].endswith("%"), figs
        assert figs["fig-revenue"].startswith("Rp") or figs["fig-revenue"] == "-", figs
        for cid in ("chart-channel", "chart-status", "chart-attendance"):
            m = re.search(r'<section class="chart" id="%s">(.*?)</section>' % cid, r.text, re.S)
            assert m, "no section#" + cid
            assert re.search(r'<svg[^>]*class="chart"', m.group(1)), "no svg.chart in #" + cid
            assert "</svg>" in m.group(1)
        assert len(re.findall(r'<svg[^>]*class="chart"', r.text)) >= 3
        # a supervisor's dashboard counts only the region
        sup, spw = make_user(env, k, "supervisor", region="8103052004")
        s, _ = login(k, sup, spw)
        r = s.get("/")
        assert r.status == 200, r
        figs = dict(re.findall(r'<div class="figure" id="(fig-[a-z]+)"><span class="value">([^<]*)</span>', r.text))
        week81 = int(env.scalar(
            "SELECT (SELECT COUNT(*) FROM business_reports x JOIN kpm k ON k.id = x.kpm_id WHERE "
            "x.created_at >= NOW(3) - INTERVAL 7 DAY AND k.region_code LIKE '8103052004%')"
            " + (SELECT COUNT(*) FROM attendance_reports x JOIN kpm k ON k.id = x.kpm_id WHERE "
            "x.created_at >= NOW(3) - INTERVAL 7 DAY AND k.region_code LIKE '8103052004%')"
            " + (SELECT COUNT(*) FROM help_requests x JOIN kpm k ON k.id = x.kpm_id WHERE "
            "x.created_at >= NOW(3) - INTERVAL 7 DAY AND k.region_code LIKE '8103052004%')"))
        assert int(figs["fig-week"]) == week81, (figs["fig-week"], week81)
        assert len(re.findall(r'<svg[^>]*class="chart"', r.text)) >= 3


def test_admin_alerts_page(env):
    with Kabard(env) as k, Data(env) as d:
        user, pw = make_user(env, k)
        kid = d.kpm("Peringatan %s" % d.tag, region="5201042003", assistant=3)
        open_id = d.alert(kid, assistant=3, rule="silent")
        acked_id = d.alert(kid, assistant=3, rule="revenue_drop", state="acknowledged")
        b, _ = login(k, user, pw)
        for path in ("/alerts", "/alerts?state=open"):
            r = b.get(path)
            assert r.status == 200, r
            heads = re.findall(r'<h2 class="assistant">([^<]*)</h2>', r.text)
            assert "Lalu Hendra Wijaya" in heads, heads
            assert len(heads) == len(set(heads)), ("an assistant twice", heads)
            assert '<table class="alerts">' in r.text
            mine = re.findall(r'<tr class="alert">((?:(?!</tr>).)*?/kpm\?id=%d"(?:(?!</tr>).)*)</tr>' % kid, r.text, re.S)
            assert len(mine) == 1 and "silent" in mine[0], mine
        r = b.get("/alerts?state=acknowledged")
        assert r.status == 200
        mine = re.findall(r'<tr class="alert">((?:(?!</tr>).)*?/kpm\?id=%d"(?:(?!</tr>).)*)</tr>' % kid, r.text, re.S)
        assert len(mine) == 1 and "revenue_drop" in mine[0], mine
        assert b.get("/alerts?state=bogus").status == 400
        # a supervisor elsewhere does not see them
        sup, spw = make_user(env, k, "supervisor", region="32")
        s, _ = login(k, sup, spw)
        r = s.get("/alerts")
        assert "/kpm?id=%d\"" % kid not in r.text
        assert open_id and acked_id


def test_admin_language_switch(env):
    with Kabard(env) as k:
        user, pw = make_user(env, k)
        b, _ = login(k, user, pw)
        r = b.get("/queue")
        assert '<html lang="id">' in r.text and "Antrean tinjauan" in r.text, r.text[:400]
        csrf = csrf_of(r.text)
        r = b.post("/lang", {"csrf": csrf, "lang": "en"})
        assert r.status == 303 and r.header("Location") == "/", r
        r = b.get("/queue")
        assert '<html lang="en">' in r.text and "Review queue" in r.text, r.text[:400]
        assert "Antrean tinjauan" not in r.text
        assert re.search(r'<p id="count">\d+ reports</p>', r.text), "p#count not in English"
        r = b.post("/lang", {"csrf": csrf, "lang": "fr"})
        assert r.status == 400, r
        r = b.post("/lang", {"csrf": csrf, "lang": "id"})
        assert r.status == 303
        r = b.get("/")
        assert '<html lang="id">' in r.text and "Antrean tinjauan" in r.text
        # the login page follows Accept-Language
        r = raw_request(k.admin_port, "GET", "/login", headers={"Accept-Language": "en-US,en;q=0.8"})
        assert '<html lang="en">' in r.text and "Log in" in r.text, r.text[:400]


# ---------------------------------------------------------------- found by review

def test_admin_writing_page_waits_for_the_cluster_before_its_transaction_not_inside(env):
    """Bug (review, stop 26): a page that writes runs as one transaction, and its causal read
    (SET STATEMENT wsrep_sync_wait = 1 ...) was sent inside it, where MariaDB skips the wait:
    behind HAProxy a review could miss the login just made through another Galera node. Now
    db_run sends it before START TRANSACTION. Read off the server's general query log: on the
    connection that wrote the review, the wait comes before the transaction that wrote it."""
    with Kabard(env) as k, Data(env) as d:
        user, pw = make_user(env, k)
        rid = d.business(1, status=1)
        b, _ = login(k, user, pw)
        csrf = b.csrf()
        output = env.scalar("SELECT @@GLOBAL.log_output")
        env.sql("TRUNCATE mysql.general_log", db=False)
        env.sql("SET GLOBAL log_output = 'TABLE'; SET GLOBAL general_log = ON", db=False)
        try:
            r = review(b, csrf, "business", rid, "reviewed", note="causal %s" % d.tag)
            assert r.status == 303, r
        finally:
            env.sql("SET GLOBAL general_log = OFF; SET GLOBAL log_output = '%s'" % output, db=False)
        # each statement by its kind only: a logged statement may hold any bytes (a hash bound
        # as a parameter), which would not come back as one line of text; the CSV table gives
        # its rows back in the order they were written
        kinds = env.sql(
            "SELECT thread_id, CASE WHEN argument LIKE 'START TRANSACTION%%' THEN 'start'"
            " WHEN argument LIKE 'SET TRANSACTION%%' THEN 'isolation'"
            " WHEN argument LIKE '%%wsrep_sync_wait%%' THEN 'wait'"
            " WHEN argument LIKE 'INSERT INTO reviews%%%s%%' THEN 'review' ELSE 'other' END"
            " FROM mysql.general_log WHERE command_type IN ('Query', 'Execute')" % d.tag, db=False)
        wrote = [t for t, kind in kinds if kind == "review"]
        assert len(wrote) == 1, ("one review written", kinds[:40])
        mine = [kind for t, kind in kinds if t == wrote[0]]
        at = mine.index("review")
        start = max(i for i, kind in enumerate(mine[:at]) if kind == "start")
        assert "wait" not in mine[start:at], ("a causal read inside the transaction", mine[start:at])
        before = start - 1
        if before >= 0 and mine[before] == "isolation":
            before -= 1
        assert before >= 0 and mine[before] == "wait", \
            ("no causal read right before the transaction", mine[max(0, start - 3):start + 1])


def test_admin_connections_do_not_count_against_the_aggregators_cap(env):
    """Bug: connections to the admin listener counted against http.max_connections, which
    paused only the aggregators' listener: staff browsers could shut out SMS and USSD."""
    conf = env.config(replace={"  max_connections = 4096;": "  max_connections = 2;"})
    req = b"GET /static/admin.css HTTP/1.1\r\nHost: x\r\n\r\n"
    with Kabard(env, conf) as k:
        held = []
        for _ in range(3):
            c = socket.create_connection(("127.0.0.1", k.admin_port))
            c.sendall(req)
            c.settimeout(5)
            held.append(c)
        assert held[0].recv(4096).startswith(b"HTTP/1.1 200")
        peer = socket.create_connection(("127.0.0.1", k.port))
        peer.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        peer.settimeout(3)
        try:
            got = peer.recv(4096)
        except socket.timeout:
            got = b""
        assert got.startswith(b"HTTP/1.1 200"), "the aggregators' port must not wait for admin connections: %r" % got[:60]
        peer.close()
        for c in held:
            c.close()
        assert "listener=admin" in k.logtext(), "the admin listener has its own cap"


def test_admin_supervisor_without_a_region_is_refused(env):
    """Found by review: a supervisor row without a region read as every region. The database
    refuses such a row now (migration 005); kabard also refuses the login, the session and the
    token if the constraint is ever bypassed."""
    with Kabard(env) as k:
        user, pw = make_user(env, k, role="supervisor", region="52")
        b, _ = login(k, user, pw)
        tok = make_token(env, k, user)
        # the constraint
        r = subprocess.run(["mariadb", "--no-defaults", "-S", env.socket, "-uroot", env.db, "-e",
                            "UPDATE admin_users SET region_code = NULL WHERE username = %s" % sq(user)],
                           capture_output=True, text=True)
        assert r.returncode != 0 and "ck_admin_users_supervisor_region" in r.stderr, r.stderr
        # and behind it
        env.sql("SET SESSION check_constraint_checks = 0; "
                "UPDATE admin_users SET region_code = NULL WHERE username = %s" % sq(user))
        try:
            r = b.get("/queue")
            assert r.status == 303 and r.header("Location") == "/login", r
            login(k, user, pw, expect=401)
            r = raw_request(k.admin_port, "GET", "/api/v1/reports",
                            headers={"Authorization": "Bearer " + tok})
            assert r.status == 401, r
        finally:
            env.sql("UPDATE admin_users SET region_code = '52' WHERE username = %s" % sq(user))


def test_admin_unknown_name_costs_a_write_and_keeps_no_name(env):
    """Found by review: an unknown name answered faster than a known one (no writes). It is
    now audited like a failure, without the name typed (it may be a password)."""
    with Kabard(env) as k:
        before = int(env.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'login.unknown'"))
        name = "nobody-" + rand_tag()
        login(k, name, "whatever-123", expect=401)
        rows = env.sql("SELECT actor, detail IS NULL FROM audit_log WHERE action = 'login.unknown'"
                       " ORDER BY id DESC LIMIT 1")
        assert int(env.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'login.unknown'")) == before + 1
        assert rows[0] == ["-", "1"], rows
        assert env.scalar("SELECT COUNT(*) FROM audit_log WHERE actor = %s OR detail = %s"
                          % (sq(name), sq(name))) == "0"


def test_admin_queue_deeper_than_ten_thousand_rows_is_not_sorted(env):
    """Found by review: /queue?page=100000 made MariaDB sort page*size rows on a worker the
    aggregators share. Past the last page shows the last page; deeper than 10,000 rows asks for
    a narrower filter instead."""
    conf = admin_conf(env, page_size="5")
    with Kabard(env, conf) as k, Data(env) as d:
        admin, apw = make_user(env, k)
        kid = d.kpm("Dalam %s" % d.tag)
        d.bulk_business(kid, 10010)
        a, _ = login(k, admin, apw)
        set_filter(a, a.csrf(), q=d.tag)
        r = a.get("/queue?page=2001")
        assert r.status == 200 and 'id="too-deep"' in r.text, r.text[-600:]
        rows = re.findall(r'<tr class="report"', r.text)
        assert len(rows) == 5, len(rows)
        r = a.get("/queue?page=99999")
        assert r.status == 200 and 'id="too-deep"' in r.text
        # a page past the end of a short list is its last page
        set_filter(a, a.csrf(), q=d.tag, bstatus="1")
        n = int(env.scalar("SELECT COUNT(*) FROM business_reports WHERE kpm_id = %d AND status = 1" % kid))
        last = (n - 1) // 5
        r = a.get("/queue?page=%d" % (last + 50))
        assert r.status == 200 and 'id="too-deep"' not in r.text
        assert len(re.findall(r'<tr class="report"', r.text)) == n - last * 5
