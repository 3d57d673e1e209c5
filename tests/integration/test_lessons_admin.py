"""Lessons for administrators (issue 13): completion and pass rates by region, assistant and
graduation track on /lessons, a KPM's lesson history on her page, GET /api/v1/lessons/progress
and /export/lessons.csv, all within the user's region; and the assistant's digest line for her
KPM who have not started the course N weeks after enrolment.

The real kabard and MariaDB. Every test enrols its own KPM (test_admin.Data) in a course of its
own (a random id), writing lesson_enrolments and lesson_progress rows directly as the lesson
store leaves them, and deletes them at the end."""
import random
import re

from kabartest import Kabard
from test_admin import Data, login, make_token, make_user, parse_csv, raw_request, sq
from test_alerts import day
from test_alert_tracks import Clock

COLS = ["id", "kpm_id", "region_code", "assistant_id", "track", "course", "module", "started_at",
        "started_via", "screens_seen", "attempts", "score", "questions", "passed_at", "passed_via",
        "updated_at"]


class Lessons(Data):
    """test_admin.Data with lesson enrolments and progress; all go at the end."""

    def enrol(self, kpm, course, at="NOW(3)", drip=0):
        self.env.sql("INSERT INTO lesson_enrolments (kpm_id, course, enrolled_at, drip) VALUES (%d, %s, %s, %d)"
                     % (kpm, sq(course), at, drip))

    def progress(self, kpm, course, module, passed=False, via="ussd", score=None):
        self.env.sql("INSERT INTO lesson_progress (kpm_id, course, module, started_via, screens_seen,"
                     " last_screen, attempts, score, questions, passed_at, passed_via) VALUES"
                     " (%d, %s, %s, %s, 4, 3, %d, %s, 3, %s, %s)"
                     % (kpm, sq(course), sq(module), sq(via), 1 if score is not None else 0,
                        "NULL" if score is None else score, "NOW(3)" if passed else "NULL",
                        sq(via) if passed else "NULL"))
        return int(self.env.scalar("SELECT id FROM lesson_progress WHERE kpm_id = %d AND course = %s"
                                   " AND module = %s" % (kpm, sq(course), sq(module))))

    assistants = ()

    def assistant(self, region="3204132005"):
        """An assistant of the test's own (WIB), so that no demo KPM counts in her digest."""
        phone = "+62813%08d" % random.randint(0, 10 ** 8 - 1)
        self.env.sql("INSERT INTO assistants (name, msisdn, region_code, tz) VALUES (%s, %s, %s, 'WIB')"
                     % (sq("Pendamping " + self.tag), sq(phone), sq(region)))
        aid = int(self.env.scalar("SELECT id FROM assistants WHERE msisdn = %s" % sq(phone)))
        self.assistants += (aid,)
        return aid

    def cleanup(self):
        if self.kpms:
            ids = ",".join(str(i) for i in self.kpms)
            self.env.sql("DELETE FROM lesson_progress WHERE kpm_id IN (%s); DELETE FROM lesson_events"
                         " WHERE kpm_id IN (%s); DELETE FROM lesson_enrolments WHERE kpm_id IN (%s);"
                         " DELETE FROM outbox WHERE recipient IN (SELECT msisdn FROM kpm WHERE id IN (%s))"
                         % (ids, ids, ids, ids))
        Data.cleanup(self)
        for aid in self.assistants:
            self.env.sql("DELETE FROM outbox WHERE idempotency_key LIKE 'digest:%d:%%';"
                         " DELETE FROM alerts WHERE assistant_id = %d; DELETE FROM assistants WHERE id = %d"
                         % (aid, aid, aid))


def fixture(d):
    """Six KPM of two provinces (52: assistants 3 and 4; 32: assistant 1), in a course of three
    modules. Returns (course, {name: kpm id}, [progress ids])."""
    course = "it-" + d.tag
    a, b = d.desa("520104"), d.desa("320413")
    k = {"a1": d.kpm("Ajar A1 " + d.tag, region=a, assistant=3),
         "a2": d.kpm("Ajar A2 " + d.tag, region=a, assistant=3),
         "a3": d.kpm("Ajar A3 " + d.tag, region=a, assistant=4),
         "a4": d.kpm("Ajar A4 " + d.tag, region=a, assistant=4),
         "b1": d.kpm("Ajar B1 " + d.tag, region=b, assistant=1),
         "b2": d.kpm("Ajar B2 " + d.tag, region=b, assistant=1)}
    d.env.sql("UPDATE kpm SET graduation = 'welfare', graduated_on = CURDATE() WHERE id = %d" % k["a3"])
    d.env.sql("UPDATE kpm SET graduation = 'natural', graduated_on = CURDATE() WHERE id = %d" % k["b2"])
    for kid in k.values():
        d.enrol(kid, course)
    rows = []
    for m in ("m1", "m2", "m3"):  # completed the course, one over USSD and SMS
        rows.append(d.progress(k["a1"], course, m, passed=True, via="sms" if m == "m2" else "ussd", score=3))
        rows.append(d.progress(k["b1"], course, m, passed=True, score=2))
    rows.append(d.progress(k["a2"], course, "m1"))  # started, not passed
    rows.append(d.progress(k["a3"], course, "m1", passed=True, via="sms", score=2))  # passed one
    return course, k, rows, a, b


def rates(text, table):
    """{group key: (enrolled, started, passed, completed)} of one table of /lessons."""
    m = re.search(r'<table id="%s">(.*?)</table>' % table, text, re.S)
    assert m, "no table " + table
    out = {}
    for key, row in re.findall(r'<tr class="group" data-key="([^"]*)">(.*?)</tr>', m.group(1), re.S):
        out[key] = tuple(int(re.search(r'<td class="%s" data-n="(\d+)"' % c, row).group(1))
                         for c in ("enrolled", "started", "passed", "completed"))
    return out


def test_lessons_rates_by_region_assistant_and_track(env):
    with Kabard(env) as k, Lessons(env) as d:
        course, kp, _, a, b = fixture(d)
        admin, apw = make_user(env, k)
        br, _ = login(k, admin, apw)
        r = br.get("/lessons?course=" + course)
        assert r.status == 200, r
        assert 'id="nav-lessons"' in r.text
        assert re.search(r'<span id="lessons-modules">3</span>', r.text), "three modules"
        assert rates(r.text, "lessons-by-region") == {"52": (4, 3, 2, 1), "32": (2, 1, 1, 1)}
        assert rates(r.text, "lessons-by-assistant") == {"3": (2, 2, 1, 1), "4": (2, 1, 1, 0),
                                                         "1": (2, 1, 1, 1)}
        assert rates(r.text, "lessons-by-track") == {"none": (4, 3, 2, 2), "welfare": (1, 1, 1, 0),
                                                     "natural": (1, 0, 0, 0)}
        assert "(50.0%)" in r.text
        # the review queue's filters
        r = br.get("/lessons?course=%s&assistant=4" % course)
        assert rates(r.text, "lessons-by-assistant") == {"4": (2, 1, 1, 0)}
        r = br.get("/lessons?course=%s&track=welfare" % course)
        assert rates(r.text, "lessons-by-track") == {"welfare": (1, 1, 1, 0)}
        r = br.get("/lessons?course=%s&region=%s" % (course, b))
        assert rates(r.text, "lessons-by-region") == {b: (2, 1, 1, 1)}, "one level below: the desa"
        assert br.get("/lessons?course=%s&track=nope" % course).status == 400
        assert br.get("/lessons?course=%s&assistant=x" % course).status == 400
        assert br.get("/lessons?course=%3Cb%3E").status == 400
        # a supervisor of province 52 sees her KPM only, by kabupaten
        sup, spw = make_user(env, k, "supervisor", region="52")
        s, _ = login(k, sup, spw)
        r = s.get("/lessons?course=" + course)
        assert rates(r.text, "lessons-by-region") == {"5201": (4, 3, 2, 1)}
        assert set(rates(r.text, "lessons-by-assistant")) == {"3", "4"}
        # ... and one of another province none of them
        other, opw = make_user(env, k, "supervisor", region="81")
        o, _ = login(k, other, opw)
        r = o.get("/lessons?course=" + course)
        assert r.status == 200 and rates(r.text, "lessons-by-region") == {}, r.text[-800:]
        assert "Ajar" not in r.text


def test_lessons_history_on_the_kpm_page(env):
    with Kabard(env) as k, Lessons(env) as d:
        course, kp, _, a, b = fixture(d)
        admin, apw = make_user(env, k)
        br, _ = login(k, admin, apw)
        r = br.get("/kpm?id=%d" % kp["a1"])
        assert r.status == 200, r
        m = re.search(r'<table id="kpm-lessons">(.*?)</table>', r.text, re.S)
        assert m, "no lesson history"
        rows = re.findall(r'<tr class="lesson" data-module="(m\d)" data-passed="(\d)">(.*?)</tr>', m.group(1), re.S)
        assert [(x, p) for x, p, _ in rows] == [("m1", "1"), ("m2", "1"), ("m3", "1")], rows
        m2 = rows[1][2]
        assert '<td class="screens">4</td>' in m2 and '<td class="attempts">1</td>' in m2, m2
        assert '<td class="score">3/3</td>' in m2 and '<td class="via">SMS</td>' in m2, m2
        r = br.get("/kpm?id=%d" % kp["a4"])
        assert "Belum mulai belajar." in r.text or "Has not started a lesson." in r.text
        # the history is the KPM's own: a supervisor of another province gets no page
        other, opw = make_user(env, k, "supervisor", region="32")
        o, _ = login(k, other, opw)
        assert o.get("/kpm?id=%d" % kp["a1"]).status == 404


def test_lessons_api_cursor_and_scope(env):
    with Kabard(env) as k, Lessons(env) as d:
        course, kp, ids, a, b = fixture(d)
        admin, _ = make_user(env, k)
        sup, _ = make_user(env, k, "supervisor", region="52")
        tok, stok = make_token(env, k, admin), make_token(env, k, sup)

        def api(path, token=tok):
            return raw_request(k.admin_port, "GET", path, headers={"Authorization": "Bearer " + token})

        def walk(q, token=tok, limit=3):
            got, cursor = [], None
            for _ in range(20):
                r = api("/api/v1/lessons/progress?course=%s%s&limit=%d%s"
                        % (course, q, limit, "&cursor=" + cursor if cursor else ""), token)
                assert r.status == 200, r
                j = r.json()
                assert len(j["data"]) <= limit
                got += j["data"]
                cursor = j["next_cursor"]
                if cursor is None:
                    return got
            raise AssertionError("no end")

        rows = walk("")
        assert [x["id"] for x in rows] == sorted(ids, reverse=True), "every row once, newest first"
        one = [x for x in rows if x["kpm_id"] == kp["a1"] and x["module"] == "m2"][0]
        assert one["passed_via"] == "sms" and one["score"] == 3 and one["questions"] == 3, one
        assert one["assistant_id"] == 3 and one["region_code"] == a and one["track"] == "none", one
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", one["passed_at"]), one
        assert len(walk("&kpm=%d" % kp["a1"])) == 3
        assert {x["kpm_id"] for x in walk("&module=m1")} == {kp["a1"], kp["a2"], kp["a3"], kp["b1"]}
        assert [x["kpm_id"] for x in walk("&track=welfare")] == [kp["a3"]]
        # the supervisor of 52: her region's rows, whatever she asks
        srows = walk("", stok, limit=2)
        assert {x["kpm_id"] for x in srows} == {kp["a1"], kp["a2"], kp["a3"]} and len(srows) == 5
        assert walk("&kpm=%d" % kp["b1"], stok) == []
        assert walk("&region=32", stok) == []
        for bad in ("&track=x", "&cursor=abc", "&limit=0", "&kpm=x", "&module=%3D1"):
            r = api("/api/v1/lessons/progress?course=%s%s" % (course, bad))
            assert r.status == 400 and "error" in r.json(), (bad, r)
        assert raw_request(k.admin_port, "GET", "/api/v1/lessons/progress").status == 401


def test_lessons_csv_export(env):
    with Kabard(env) as k, Lessons(env) as d:
        course, kp, ids, a, b = fixture(d)
        odd = "it2-" + d.tag
        d.enrol(kp["b2"], odd)
        formula = d.progress(kp["b2"], odd, "=1+A1")
        admin, apw = make_user(env, k)
        br, _ = login(k, admin, apw)
        r = br.get("/lessons?course=" + course)
        assert 'href="/export/lessons.csv?course=%s"' % course in r.text
        r = br.get("/export/lessons.csv?course=" + course)
        assert r.status == 200, r
        assert r.header("Content-Type") == "text/csv; charset=utf-8"
        assert "lessons" in (r.header("Content-Disposition") or "")
        header, data = parse_csv(r.body)
        assert header == COLS, header
        assert [int(x[0]) for x in data] == sorted(ids, reverse=True)
        row = dict(zip(header, data[[int(x[0]) for x in data].index(ids[2])]))
        assert row["kpm_id"] == str(kp["a1"]) and row["module"] == "m2" and row["passed_via"] == "sms", row
        header, data = parse_csv(br.get("/export/lessons.csv?course=%s&track=welfare" % course).body)
        assert [x[1] for x in data] == [str(kp["a3"])]
        r = br.get("/export/lessons.csv?course=" + odd)
        header, data = parse_csv(r.body)
        assert [int(x[0]) for x in data] == [formula] and data[0][6] == "'=1+A1", data
        assert br.get("/export/lessons.csv?track=x").status == 400
        sup, spw = make_user(env, k, "supervisor", region="32")
        s, _ = login(k, sup, spw)
        header, data = parse_csv(s.get("/export/lessons.csv?course=" + course).body)
        assert {x[1] for x in data} == {str(kp["b1"])}, data
        assert env.scalar("SELECT COUNT(*) FROM audit_log WHERE actor = %s AND action = 'export'"
                          " AND target_type = 'lessons'" % sq(admin)) != "0"


NOT_STARTED_OFF = 'lessons_not_started = { enabled = false; weeks = 2; tracks = ["none"]; };'
NOT_STARTED_ON = 'lessons_not_started = { enabled = true; weeks = 2; tracks = ["none"]; };'


def digests(env, assistant):
    return env.sql("SELECT idempotency_key, body FROM outbox WHERE idempotency_key LIKE 'digest:%d:%%'"
                   " ORDER BY id" % assistant)


def test_lessons_not_started_digest_line_on_and_off(env):
    """An assistant (WIB) of the test's own: of her KPM enrolled two weeks ago that day, the one
    on the rule's track with no progress is counted; one who started, a welfare graduate and one
    enrolled a day later are not (the later one is, the next day). Off by default: no digest."""
    d = day(env)
    with Lessons(env) as data:
        a = data.assistant()
        course = "it-" + data.tag
        two = env.scalar("SELECT DATE(%s) - INTERVAL 14 DAY" % sq(d))
        n = {name: data.kpm("Belum %s %s" % (name, data.tag), region="3204132005", assistant=a)
             for name in ("idle", "started", "welfare", "later")}
        for name in ("idle", "started", "welfare"):
            data.enrol(n[name], course, at=sq("%s 03:00:00" % two))   # 10:00 WIB that day
        data.enrol(n["later"], course, at=sq("%s 03:00:00" % env.scalar("SELECT DATE(%s) + INTERVAL 1 DAY" % sq(two))))
        data.progress(n["started"], course, "m1")
        env.sql("UPDATE kpm SET graduation = 'welfare', graduated_on = %s WHERE id = %d" % (sq(two), n["welfare"]))
        with Clock(env, "%s 10:30:00" % d, only=()) as c:               # 17:30 WIB, the rule off
            assert NOT_STARTED_OFF in open(c.k.conf).read()
            c.tick_at("%s 10:30:00" % d)
            assert digests(env, a) == [], "off by default: nothing to say"
        with Clock(env, "%s 10:30:00" % d, only=(), replace={NOT_STARTED_OFF: NOT_STARTED_ON}) as c:
            c.tick_at("%s 10:30:00" % d)
            rows = digests(env, a)
            assert len(rows) == 1 and rows[0][0] == "digest:%d:%s" % (a, d), rows
            assert "1 perlu perhatian" in rows[0][1] and "1 belum mulai belajar" in rows[0][1], rows
            c.tick_at("%s 11:30:00" % d)
            assert len(digests(env, a)) == 1, "once a day"
            nd = env.scalar("SELECT DATE(%s) + INTERVAL 1 DAY" % sq(d))
            c.tick_at("%s 10:30:00" % nd)
            rows = digests(env, a)
            assert len(rows) == 2 and "1 belum mulai belajar" in rows[1][1], ("the later one, a day later", rows)
            c.tick_at("%s 10:30:00" % env.scalar("SELECT DATE(%s) + INTERVAL 2 DAY" % sq(d)))
            assert len(digests(env, a)) == 2, "nobody enrolled that day: no digest"


def drips(env, kpm):
    """The drip's SMS to a KPM: [(module, body)] in the order queued."""
    return [(key.split(":")[2], body) for key, body in env.sql(
        "SELECT o.idempotency_key, o.body FROM outbox o JOIN kpm k ON k.msisdn = o.recipient"
        " WHERE k.id = %d AND o.idempotency_key LIKE 'drip:%%' ORDER BY o.id" % kpm)]


def test_lessons_drip_quiet_hours_stop_opt_in_never_twice(env):
    """The weekly lesson (course usaha of config/lessons.conf: pisah, harga, catat, jual,
    tabung) to KPM of assistant 1 (WIB) who opted in: not in the quiet hours, not after STOP, not
    without the opt-in, once a week, the next module she has neither passed nor been sent, and
    never one twice, even when drip_last_at is lost."""
    d = day(env)
    with Lessons(env) as data:
        n = {name: data.kpm("Tetes %s %s" % (name, data.tag), region="3204132005", assistant=1)
             for name in ("en", "passed", "no", "stop")}
        env.sql("UPDATE kpm SET lang = 'en' WHERE id = %d" % n["en"])
        env.sql("UPDATE kpm SET reminders = 0 WHERE id = %d" % n["stop"])
        for name in ("en", "passed", "stop"):
            data.enrol(n[name], "usaha", drip=1)
        data.enrol(n["no"], "usaha", drip=0)
        data.progress(n["passed"], "usaha", "pisah", passed=True)
        with Clock(env, "%s 15:00:00" % d, only=()) as c:
            c.tick_at("%s 15:00:00" % d)                       # 22:00 WIB: quiet hours
            assert [drips(env, k) for k in n.values()] == [[], [], [], []]
            d1 = env.scalar("SELECT DATE(%s) + INTERVAL 1 DAY" % sq(d))
            c.tick_at("%s 01:00:00" % d1)                      # 08:00 WIB
            en = drips(env, n["en"])
            assert [m for m, _ in en] == ["pisah"], en
            assert en[0][1].startswith("Keep business money apart"), en[0][1]
            assert [m for m, _ in drips(env, n["passed"])] == ["harga"], "the next module she has not passed"
            assert drips(env, n["passed"])[0][1].startswith("Menghitung harga jual: "), drips(env, n["passed"])
            assert drips(env, n["no"]) == [] and drips(env, n["stop"]) == [], "no opt-in, STOP"
            purposes = env.sql("SELECT DISTINCT o.purpose, o.priority FROM outbox o JOIN kpm k ON"
                               " k.msisdn = o.recipient WHERE k.id IN (%d, %d) AND o.idempotency_key"
                               " LIKE 'drip:%%'" % (n["en"], n["passed"]))
            assert purposes == [["reminder", "5"]], ("queued as the nudges are", purposes)
            assert env.scalar("SELECT COUNT(*) FROM lesson_events WHERE kpm_id = %d AND channel = 'drip'"
                              " AND event = 'drip:usaha:pisah'" % n["en"]) == "1"
            c.tick_at("%s 09:00:00" % d1)                      # the same week: nothing more
            assert len(drips(env, n["en"])) == 1 and len(drips(env, n["passed"])) == 1
            d8 = env.scalar("SELECT DATE(%s) + INTERVAL 8 DAY" % sq(d))
            c.tick_at("%s 01:00:00" % d8)                      # a week later: the next ones
            assert [m for m, _ in drips(env, n["en"])] == ["pisah", "harga"]
            assert [m for m, _ in drips(env, n["passed"])] == ["harga", "catat"]
            # drip_last_at lost (a restored backup, say): still never a module twice
            env.sql("UPDATE lesson_enrolments SET drip_last_at = NULL WHERE kpm_id = %d" % n["en"])
            c.tick_at("%s 02:00:00" % d8)
            assert [m for m, _ in drips(env, n["en"])] == ["pisah", "harga", "catat"]
            # STOP taken back: her first lesson comes
            env.sql("UPDATE kpm SET reminders = 1 WHERE id = %d" % n["stop"])
            c.tick_at("%s 03:00:00" % d8)
            assert [m for m, _ in drips(env, n["stop"])] == ["pisah"]
            assert drips(env, n["no"]) == []


def test_lessons_completed_counts_the_modules_of_the_lessons_file(env):
    """Course usaha of config/lessons.conf has five modules: four passed is not completed, even
    when nobody has a progress row of the fifth yet."""
    with Kabard(env) as k, Lessons(env) as d:
        desa = d.desa("520104")
        five, four = d.kpm("Lima " + d.tag, region=desa, assistant=3), d.kpm("Empat " + d.tag, region=desa, assistant=3)
        for kid in (five, four):
            d.enrol(kid, "usaha")
        for m in ("pisah", "harga", "catat", "jual", "tabung"):
            d.progress(five, "usaha", m, passed=True, score=3)
        for m in ("pisah", "harga", "catat", "jual"):
            d.progress(four, "usaha", m, passed=True, score=3)
        admin, apw = make_user(env, k)
        br, _ = login(k, admin, apw)
        r = br.get("/lessons?region=" + desa)                 # usaha: the file's first course
        assert r.status == 200, r
        assert 'data-course="usaha"' in r.text and '<span id="lessons-modules">5</span>' in r.text
        assert "berkas pelajaran" in r.text
        assert rates(r.text, "lessons-by-region") == {desa: (2, 2, 2, 1)}
