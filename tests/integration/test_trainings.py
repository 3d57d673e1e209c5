"""Trainings and TOT (issue 13), through the real kabard and MariaDB: the admin pages create,
edit, enrol (by region, assistant, KUBE, or a list), show the roster and close a training, behind
the CSRF token, with an audit row each and a form nonce that makes a form sent twice one change;
refused values are a 422 with the form. Assistants and lecturers report their own attendance
with HADIR <code> by SMS (and the assistant's USSD menu): a wrong code, a training she is not
enrolled in, a closed one; a re-sent SMS counts once. The certification rule of kabard.conf
(training.certification) shows on the assistants page and in GET /api/v1/assistants. A
supervisor of another region gets 404 and writes nothing.

Assistants 1 and 2 of the demo data (+628130000001, +628130000002, desa 3204132005, Jawa Barat)
are A and B. Every test makes its own trainings (random codes) and lecturers and removes them."""
import datetime
import re

from kabartest import Kabard
from test_admin import Data, csrf_of, login, make_token, make_user, rand_tag, sq
from test_graduation import api
from test_sms import at_sms, new_mid, reply_of

A, B = 1, 2
PHONE = {A: "+628130000001", B: "+628130000002"}
DESA = "3204132005"


def day(offset=0):
    return (datetime.datetime.utcnow() + datetime.timedelta(hours=7, days=offset)).strftime("%Y-%m-%d")


class TrData(Data):
    """test_admin.Data with trainings and lecturers of its own."""

    def __init__(self, env):
        Data.__init__(self, env)
        self.codes = []
        self.lecturers = []

    def code(self):
        c = "T-" + rand_tag(6).upper()
        self.codes.append(c)
        return c

    def lecturer(self, name="Dosen Uji", region=DESA):
        phone = "+62811%07d" % (len(self.lecturers) + 1000000 + hash(self.tag) % 8000000)
        self.env.sql("INSERT INTO lecturers (name, msisdn, region_code) VALUES (%s, %s, %s)"
                     % (sq(name + " " + self.tag), sq(phone), sq(region)))
        lid = int(self.env.scalar("SELECT id FROM lecturers WHERE msisdn = %s" % sq(phone)))
        self.lecturers.append(lid)
        return lid, phone

    def cleanup(self):
        if self.codes:
            ids = self.env.sql("SELECT id FROM trainings WHERE code IN (%s)"
                               % ",".join(sq(c) for c in self.codes))
            for (tid,) in ids:
                self.env.sql("DELETE FROM enrollments WHERE training_id = %s;"
                             " DELETE FROM trainings WHERE id = %s" % (tid, tid))
        if self.lecturers:
            self.env.sql("DELETE FROM lecturers WHERE id IN (%s)"
                         % ",".join(str(i) for i in self.lecturers))
        Data.cleanup(self)


def nonce_of(text, form_id):
    m = re.search(r'<form id="%s".*?name="nonce" value="([0-9a-f]{32})"' % form_id, text, re.S)
    assert m, "no %s form: %s" % (form_id, text[:300])
    return m.group(1)


def new_form(b, code, **kw):
    page = b.get("/trainings/new")
    assert page.status == 200, page
    f = {"csrf": csrf_of(page.text), "nonce": nonce_of(page.text, "training-form"), "code": code,
         "title": "Pelatihan " + code, "place": "Balai Desa", "region": DESA,
         "start_date": day(), "start_time": "08:00", "end_date": day(),
         "audience": "assistant", "kind": "tot"}
    f.update(kw)
    return f


def create(b, env, code, **kw):
    r = b.post("/trainings", new_form(b, code, **kw))
    assert r.status == 303, r
    tid = int(env.scalar("SELECT id FROM trainings WHERE code = %s" % sq(code)))
    assert r.header("Location") == "/training?id=%d" % tid, r.header("Location")
    return tid


def tpage(b, tid, status=200):
    r = b.get("/training?id=%d" % tid)
    assert r.status == status, r
    return r.text


def form_of(b, tid, form_id, **kw):
    page = tpage(b, tid)
    f = {"csrf": csrf_of(page), "nonce": nonce_of(page, form_id), "id": str(tid)}
    f.update(kw)
    return f


def enrol(b, tid, by, value="", lst="", status=303):
    r = b.post("/training/enrol", form_of(b, tid, "enrol-form", by=by, value=value, list=lst))
    assert r.status == status, (by, value, r.status, r.text[:800])
    return r


def audits(env, tid, action=None):
    q = "SELECT COUNT(*) FROM audit_log WHERE target_type = 'training' AND target_id = %d" % tid
    if action:
        q += " AND action = %s" % sq(action)
    return int(env.scalar(q))


def acode(env, tid):
    return env.scalar("SELECT attendance_code FROM trainings WHERE id = %d" % tid)


def participants(env, tid, kind=None):
    if kind == "kpm":
        return int(env.scalar("SELECT COUNT(*) FROM enrollments WHERE training_id = %d" % tid))
    return int(env.scalar("SELECT COUNT(*) FROM training_participants WHERE training_id = %d%s"
                          % (tid, " AND participant_type = %s" % sq(kind) if kind else "")))


def days(env, tid, who="assistant", pid=A):
    return int(env.scalar("SELECT COUNT(*) FROM training_attendance WHERE training_id = %d"
                          " AND participant_type = %s AND participant_id = %d" % (tid, sq(who), pid)))


def sms(env, k, frm, text, mid=None):
    mid, r = at_sms(k, frm, text, mid or new_mid("ATXtot"))
    assert r.status == 200, (text, r.status)
    return mid, reply_of(env, mid)[0]


def test_training_pages_create_edit_csrf_audit_and_422(env):
    with Kabard(env, name="tr-crud") as k, TrData(env) as d:
        user, pw = make_user(env, k)
        b, _ = login(k, user, pw)
        assert 'id="nav-trainings"' in b.get("/").text
        code = d.code()
        f = new_form(b, code)
        r = b.post("/trainings", f)
        assert r.status == 303, r
        tid = int(env.scalar("SELECT id FROM trainings WHERE code = %s" % sq(code)))
        row = env.sql("SELECT audience, kind, created_by, closed_at IS NULL, attendance_code,"
                      " DATE_FORMAT(starts_at + INTERVAL 7 HOUR, '%%Y-%%m-%%d %%H:%%i')"
                      " FROM trainings WHERE id = %d" % tid)[0]
        assert row[:4] == ["assistant", "tot", user, "1"], row
        assert re.fullmatch(r"[0-9]{6}", row[4]) and row[5] == day() + " 08:00", row
        assert audits(env, tid, "training.create") == 1
        # the same form sent twice: one training, the same answer
        r = b.post("/trainings", f)
        assert r.status == 303 and r.header("Location") == "/training?id=%d" % tid, r
        assert env.scalar("SELECT COUNT(*) FROM trainings WHERE code = %s" % sq(code)) == "1"
        assert audits(env, tid) == 1
        # listed, and its page shows the code to say in the room
        lst = b.get("/trainings").text
        assert 'data-code="%s"' % code in lst
        assert 'id="attendance-code">%s' % row[4] in tpage(b, tid)

        # bad input: the form again with a message, 422, nothing written
        other = d.code()
        bad = [({"code": "x"}, "Kode"), ({"code": code}, "sudah dipakai"),
               ({"title": ""}, "judul"), ({"start_date": "2026-02-30"}, "Tanggal"),
               ({"start_time": "25:00"}, "Tanggal"),
               ({"end_date": day(-1)}, "selesai"), ({"region": "99"}, "wilayah"),
               ({"audience": "everyone"}, "Pilih peserta"), ({"kind": "party"}, "Pilih peserta")]
        for change, words in bad:
            ff = new_form(b, other)
            ff.update(change)
            r = b.post("/trainings", ff)
            assert r.status == 422, (change, r)
            m = re.search(r'<p class="message" id="training-error">([^<]*)</p>', r.text)
            assert m and words in m.group(1), (change, r.text[:600])
            assert '<form id="training-form"' in r.text
        assert env.scalar("SELECT COUNT(*) FROM trainings WHERE code = %s" % sq(other)) == "0"
        # without the CSRF token: 403, nothing written
        ff = new_form(b, other)
        del ff["csrf"]
        assert b.post("/trainings", ff).status == 403
        assert env.scalar("SELECT COUNT(*) FROM trainings WHERE code = %s" % sq(other)) == "0"

        # edit: the new values, one audit row; a bad one is a 422 on the training page
        ef = form_of(b, tid, "training-form", code=code, title="TOT Usaha Mikro", place="Aula",
                     region=DESA, start_date=day(), start_time="09:30", end_date=day(1),
                     audience="assistant", kind="tot")
        r = b.post("/training/edit", ef)
        assert r.status == 303, r
        assert env.sql("SELECT title, place, DATEDIFF(ends_at, starts_at) >= 1 FROM trainings"
                       " WHERE id = %d" % tid) == [["TOT Usaha Mikro", "Aula", "1"]]
        assert audits(env, tid, "training.update") == 1
        r = b.post("/training/edit", dict(form_of(b, tid, "training-form"), code=code,
                                          title="X", place="Y", region=DESA, start_date=day(),
                                          start_time="08:00", end_date=day(-3),
                                          audience="assistant", kind="tot"))
        assert r.status == 422 and 'id="training-error"' in r.text, r
        assert env.scalar("SELECT title FROM trainings WHERE id = %d" % tid) == "TOT Usaha Mikro"
        # a malformed id is a 400; an unknown one a 404
        assert b.get("/training?id=12x").status == 400
        assert b.get("/training?id=4000000000").status == 404


def test_training_enrol_by_region_assistant_kube_and_list(env):
    with Kabard(env, name="tr-enrol") as k, TrData(env) as d:
        user, pw = make_user(env, k)
        b, _ = login(k, user, pw)
        desa = d.desa()                      # NTB, a desa of this test only
        k1 = d.kpm("Enrol Satu " + d.tag, region=desa, assistant=3)
        k2 = d.kpm("Enrol Dua " + d.tag, region=desa, assistant=3)
        k3 = d.kpm("Enrol Tiga " + d.tag, region=DESA, assistant=A)
        env.sql("UPDATE kpm SET kube_id = 2 WHERE id = %d" % k3)
        tid = create(b, env, d.code(), audience="kpm", kind="in_person", region=desa)
        enrol(b, tid, "region", desa)
        assert participants(env, tid, "kpm") == 2
        assert audits(env, tid, "training.enrol") == 1
        # by assistant (her KPM) and by KUBE: everyone of hers, or of the group
        t2 = create(b, env, d.code(), audience="kpm", kind="in_person", region=desa)
        enrol(b, t2, "assistant", "3")
        n3 = int(env.scalar("SELECT COUNT(*) FROM kpm WHERE assistant_id = 3"))
        assert participants(env, t2, "kpm") == n3 and n3 >= 2
        t3 = create(b, env, d.code(), audience="kpm", kind="in_person")
        enrol(b, t3, "kube", "2")
        assert participants(env, t3, "kpm") == int(env.scalar(
            "SELECT COUNT(*) FROM kpm WHERE kube_id = 2"))
        assert env.scalar("SELECT COUNT(*) FROM enrollments WHERE training_id = %d AND kpm_id = %d"
                          % (t3, k3)) == "1"
        # a list: PKH numbers and phone numbers, the lines not found said on the page
        t4 = create(b, env, d.code(), audience="kpm", kind="in_person")
        pkh1 = env.scalar("SELECT pkh_number FROM kpm WHERE id = %d" % k1)
        phone2 = env.scalar("SELECT msisdn FROM kpm WHERE id = %d" % k2)
        r = enrol(b, t4, "list", lst="%s\n%s\n\n999000111222\nnobody" % (pkh1, phone2), status=200)
        m = re.search(r'<p class="message" id="enrol-message">([^<]*)</p>', r.text)
        assert m and "999000111222" in m.group(1) and "nobody" in m.group(1) and "(2)" in m.group(1), m
        assert participants(env, t4, "kpm") == 2
        # the roster shows them
        roster = tpage(b, t4)
        assert roster.count('class="participant" data-type="kpm"') == 2
        # the same list sent again with its nonce: nothing twice
        assert audits(env, t4, "training.enrol") == 1
        # an assistants' TOT: by region the assistants of the desa, by a list their phones
        t5 = create(b, env, d.code())
        enrol(b, t5, "region", DESA)
        assert participants(env, t5, "assistant") == int(env.scalar(
            "SELECT COUNT(*) FROM assistants WHERE region_code LIKE '%s%%'" % DESA))
        lid, lphone = d.lecturer()
        enrol(b, t5, "list", lst=lphone)
        assert participants(env, t5, "lecturer") == 1
        # KUBE enrols KPM, not assistants: 422, nothing written
        before = participants(env, t5)
        r = enrol(b, t5, "kube", "1", status=422)
        assert 'id="enrol-message"' in r.text and participants(env, t5) == before
        enrol(b, t5, "bogus", "1", status=422)
        enrol(b, t5, "region", "abc", status=422)


def test_training_tot_attendance_by_sms_and_certification(env):
    with Kabard(env, name="tr-tot") as k, TrData(env) as d:
        user, pw = make_user(env, k)
        b, _ = login(k, user, pw)
        tok = make_token(env, k, user)
        tid = create(b, env, d.code())           # a one-day TOT today
        code = acode(env, tid)
        enrol(b, tid, "assistant", str(A))
        lid, lphone = d.lecturer()
        enrol(b, tid, "list", lst=lphone)

        # a wrong code, and the right code from an assistant who is not enrolled
        wrong = "%06d" % ((int(code) + 1) % 1000000)
        _, body = sms(env, k, PHONE[A], "HADIR " + wrong)
        assert "tidak cocok" in body and days(env, tid) == 0, body
        _, body = sms(env, k, PHONE[B], "HADIR " + code)
        assert "tidak cocok" in body and days(env, tid, pid=B) == 0, body
        # enrolled: today recorded; the same message re-sent, and a second HADIR, count once
        mid, body = sms(env, k, PHONE[A], "HADIR " + code)
        assert "tercatat: 1 dari 1 hari" in body and days(env, tid) == 1, body
        _, again = sms(env, k, PHONE[A], "HADIR " + code, mid)
        assert again == body and days(env, tid) == 1
        _, body = sms(env, k, PHONE[A], "ATTEND " + code)
        assert "1 of 1 days" in body and days(env, tid) == 1, body
        # a lecturer's SMS
        _, body = sms(env, k, lphone, "HADIR " + code)
        assert "tercatat" in body and days(env, tid, "lecturer", lid) == 1, body
        _, body = sms(env, k, lphone, "INFO")
        assert "narasumber" in body, body
        # a malformed HADIR from an assistant: the usage
        _, body = sms(env, k, PHONE[A], "HADIR")
        assert "HADIR <kode pelatihan>" in body, body

        # certification: attended all (one) sessions, but not yet passed
        def cert(token=tok):
            r = api(k, token, "GET", "/api/v1/assistants?limit=1000")
            assert r.status == 200, r
            return {o["id"]: o for o in r.json()["data"]}
        assert cert()[A]["certified_at"] is None and cert()[A]["tot_attended"] >= 1
        f = form_of(b, tid, "training-form")
        page = tpage(b, tid)
        m = re.search(r'<form class="pass".*?name="nonce" value="([0-9a-f]{32})">'
                      r'<input type="hidden" name="id" value="%d"><input type="hidden" '
                      r'name="type" value="assistant"><input type="hidden" name="pid" '
                      r'value="%d">' % (tid, A), page, re.S)
        assert m, page[:2000]
        r = b.post("/training/pass", {"csrf": f["csrf"], "nonce": m.group(1), "id": str(tid),
                                      "type": "assistant", "pid": str(A), "passed": "1"})
        assert r.status == 303, r
        assert cert()[A]["certified_at"] is not None and audits(env, tid, "training.pass") == 1
        ap = b.get("/assistants").text
        assert re.search(r'<tr class="assistant" data-id="%d" data-certified="1"' % A, ap), ap[:1500]
        # the dashboard: certified assistants of Jawa Barat against their caseloads
        dash = b.get("/").text
        m = re.search(r'<tr class="province"><td>Jawa Barat</td><td class="assistants">(\d+)</td>'
                      r'<td class="certified">(\d+)</td><td class="caseload">(\d+)</td>'
                      r'<td class="covered">(\d+)</td></tr>', dash)
        assert m, dash[-3000:]
        assert int(m.group(1)) == int(env.scalar(
            "SELECT COUNT(*) FROM assistants WHERE region_code LIKE '32%'"))
        assert int(m.group(2)) >= 1
        assert int(m.group(3)) == int(env.scalar(
            "SELECT COUNT(*) FROM kpm k JOIN assistants a ON a.id = k.assistant_id"
            " WHERE a.region_code LIKE '32%'"))
        assert int(m.group(4)) >= int(env.scalar("SELECT COUNT(*) FROM kpm WHERE assistant_id = %d" % A))
        assert 'id="chart-trained"' in dash and "<svg" in dash

        # a two-day TOT (yesterday and today) attended only today is not all sessions
        t2 = create(b, env, d.code(), start_date=day(-1), end_date=day())
        enrol(b, t2, "assistant", str(B))
        _, body = sms(env, k, PHONE[B], "HADIR " + acode(env, t2))
        assert "1 dari 2 hari" in body, body
        env.sql("UPDATE training_participants SET passed = 1, passed_at = NOW(3)"
                " WHERE training_id = %d" % t2)
        assert cert()[B]["certified_at"] is None
        env.sql("INSERT INTO training_attendance (training_id, participant_type, participant_id,"
                " day, source, channel, session_id) VALUES (%d, 'assistant', %d, %s, 'sms', 'test',"
                " %s)" % (t2, B, sq(day(-1)), sq("t-" + d.tag)))
        assert cert()[B]["certified_at"] is not None
        env.sql("DELETE FROM training_participants WHERE training_id = %d" % t2)

        # closed: no more attendance, the page says so, and the forms are gone
        r = b.post("/training/close", form_of(b, tid, "close-form"))
        assert r.status == 303 and audits(env, tid, "training.close") == 1
        page = tpage(b, tid)
        assert 'data-closed="1"' in page and 'id="enrol-form"' not in page
        env.sql("DELETE FROM training_attendance WHERE training_id = %d" % tid)
        _, body = sms(env, k, PHONE[A], "HADIR " + code)
        assert "tidak menerima kehadiran" in body and days(env, tid) == 0, body
        r = b.post("/training/enrol", {"csrf": f["csrf"], "nonce": "0" * 32, "id": str(tid),
                                       "by": "assistant", "value": str(B)})
        assert r.status == 422 and participants(env, tid, "assistant") == 1, r

        # the API list of trainings
        r = api(k, tok, "GET", "/api/v1/trainings?limit=1")
        assert r.status == 200 and len(r.json()["data"]) == 1 and r.json()["next_cursor"], r
        mine = [t for t in api(k, tok, "GET", "/api/v1/trainings?limit=1000").json()["data"]
                if t["id"] == tid]
        assert mine and mine[0]["kind"] == "tot" and mine[0]["closed_at"] and mine[0]["enrolled"] == 2
        assert api(k, tok, "GET", "/api/v1/trainings?cursor=x").status == 400


def test_training_supervisor_scope(env):
    with Kabard(env, name="tr-scope") as k, TrData(env) as d:
        admin, apw = make_user(env, k)
        sup, spw = make_user(env, k, role="supervisor", region="52")
        ba, _ = login(k, admin, apw)
        bs, _ = login(k, sup, spw)
        tid = create(ba, env, d.code())              # Jawa Barat
        # another region's training: not listed, 404 on its page and on every form
        assert 'data-id="%d"' % tid not in bs.get("/trainings").text
        assert bs.get("/training?id=%d" % tid).status == 404
        csrf = csrf_of(bs.get("/trainings").text)
        for path, extra in [("/training/edit", {"code": "ZZ-1", "title": "x", "place": "y",
                                                "region": "5201042003", "start_date": day(),
                                                "start_time": "08:00", "end_date": day(),
                                                "audience": "assistant", "kind": "tot"}),
                            ("/training/enrol", {"by": "assistant", "value": "3"}),
                            ("/training/pass", {"type": "assistant", "pid": "1", "passed": "1"}),
                            ("/training/close", {})]:
            f = {"csrf": csrf, "id": str(tid)}
            f.update(extra)
            r = bs.post(path, f)
            assert r.status == 404, (path, r)
        assert audits(env, tid) == 1 and participants(env, tid) == 0
        assert env.scalar("SELECT closed_at IS NULL AND title LIKE 'Pelatihan %%' FROM trainings"
                          " WHERE id = %d" % tid) == "1"
        # she cannot create one outside her region either
        r = bs.post("/trainings", new_form(bs, d.code()))
        assert r.status == 422 and "wilayah" in r.text
        # in her region: created, and she enrols only assistants of hers
        t2 = create(bs, env, d.code(), region="5201042003")
        enrol(bs, t2, "list", lst="%s\n%s" % (PHONE[A], "+628130000003"), status=200)
        assert env.sql("SELECT participant_id FROM training_participants WHERE training_id = %d"
                       % t2) == [["3"]]
        enrol(bs, t2, "region", "32", status=303)
        assert participants(env, t2) == 1
        # the API lists what her region holds
        tok = make_token(env, k, sup)
        ts = [t["id"] for t in api(k, tok, "GET", "/api/v1/trainings?limit=1000").json()["data"]]
        assert t2 in ts and tid not in ts
        asst = [a["region_code"] for a in
                api(k, tok, "GET", "/api/v1/assistants?limit=1000").json()["data"]]
        assert asst and all(r.startswith("52") for r in asst)
        ap = bs.get("/assistants").text
        assert 'data-id="3"' in ap and 'data-id="1"' not in ap


def test_training_tot_attendance_in_the_assistants_ussd_menu(env):
    from test_assistant_ussd import AT
    with Kabard(env, name="tr-ussd") as k, TrData(env) as d:
        user, pw = make_user(env, k)
        b, _ = login(k, user, pw)
        # a title too long for one screen with the answer is cut there
        tid = create(b, env, d.code(), title="Pelatihan kewirausahaan sosial bagi pendamping "
                     "PKH se-Kabupaten Bandung, angkatan kedua tahun ini")
        code = acode(env, tid)
        enrol(b, tid, "assistant", str(A))
        s = AT(k, phone=PHONE[A])
        kind, menu = s.start()
        assert kind == "CON" and "5 Hadir pelatihan" in menu, menu
        kind, ask = s.send("5")
        assert kind == "CON" and "Kode pelatihan" in ask, ask
        # not a code: the screen again with the invalid line; a wrong code: her answer
        kind, again = s.send("12")
        assert kind == "CON" and "Kode pelatihan" in again and days(env, tid) == 0, again
        kind, wrong = s.send("%06d" % ((int(code) + 1) % 1000000))
        assert "tidak cocok" in wrong and days(env, tid) == 0, wrong
        kind, ask = s.send("0")
        kind, ask = s.send("5")
        kind, done = s.send(code)
        assert kind == "CON" and "tercatat: 1 dari 1 hari" in done, done
        assert "Pelatihan kewirausahaan" in done and "sosial" not in done, done
        assert len(done) <= 182, (len(done), done)
        # the aggregator retries the hop: the same screen, one attendance
        assert s.post("*".join(s.inputs)) == ("CON", done)
        assert days(env, tid) == 1
        src = env.sql("SELECT source FROM training_attendance WHERE training_id = %d" % tid)
        assert src == [["ussd"]], src
        # and then HADIR by SMS the same day counts no second day
        _, body = sms(env, k, PHONE[A], "HADIR " + code)
        assert "1 dari 1 hari" in body and days(env, tid) == 1, body


def test_training_demo_tot_loads_twice_and_takes_an_assistants_hadir(env):
    import os
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                       "sql", "demo", "demo_trainings.sql")
    with open(src) as f:
        script = f.read()
    try:
        with Kabard(env, name="tr-demo") as k:
            env.sql_script(script)
            env.sql_script(script)
            tid = int(env.scalar("SELECT id FROM trainings WHERE code = 'TOT-DEMO-1'"))
            assert env.sql("SELECT participant_type, COUNT(*) FROM training_participants"
                           " WHERE training_id = %d GROUP BY 1 ORDER BY 1" % tid) == \
                [["assistant", "5"], ["lecturer", "1"]]
            assert days(env, tid) == 1
            _, body = sms(env, k, PHONE[A], "HADIR 246810")
            assert "2 dari 3 hari" in body, body
            _, body = sms(env, k, "+628110000001", "HADIR 246810")
            assert "1 dari 3 hari" in body, body
    finally:
        env.sql("DELETE FROM trainings WHERE code = 'TOT-DEMO-1';"
                " DELETE FROM lecturers WHERE msisdn = '+628110000001'")


def test_training_closed_takes_no_kpm_hadir_either(env):
    with Kabard(env, name="tr-kpm-closed") as k, TrData(env) as d:
        user, pw = make_user(env, k)
        b, _ = login(k, user, pw)
        kid = d.kpm("Hadir Tutup " + d.tag)
        phone = env.scalar("SELECT msisdn FROM kpm WHERE id = %d" % kid)
        tid = create(b, env, d.code(), audience="kpm", kind="in_person", start_time="00:00")
        code = acode(env, tid)
        enrol(b, tid, "list", lst=env.scalar("SELECT pkh_number FROM kpm WHERE id = %d" % kid))
        _, body = sms(env, k, phone, "HADIR " + code)
        assert "tercatat" in body, body
        r = b.post("/training/close", form_of(b, tid, "close-form"))
        assert r.status == 303
        _, body = sms(env, k, phone, "HADIR " + code)
        assert "tidak cocok" in body, body
        assert env.scalar("SELECT COUNT(*) FROM attendance_reports WHERE training_id = %d" % tid) == "1"
        env.sql("DELETE FROM attendance_reports WHERE training_id = %d" % tid)


def test_training_closed_is_not_in_the_kpm_ussd_attendance_list(env):
    """The sibling of the SMS check above: the USSD attendance dialog listed a closed training
    and took her attendance at it."""
    from test_ussd import AT, option

    with Kabard(env, name="tr-kpm-closed-ussd") as k, TrData(env) as d:
        user, pw = make_user(env, k)
        b, _ = login(k, user, pw)
        kid = d.kpm("Hadir Ussd " + d.tag)
        phone = env.scalar("SELECT msisdn FROM kpm WHERE id = %d" % kid)
        pkh = env.scalar("SELECT pkh_number FROM kpm WHERE id = %d" % kid)
        open_code, closed_code = d.code(), d.code()
        t_open = create(b, env, open_code, audience="kpm", kind="in_person", start_time="00:00")
        t_closed = create(b, env, closed_code, audience="kpm", kind="in_person",
                          start_time="00:00")
        for tid in (t_open, t_closed):
            enrol(b, tid, "list", lst=pkh)
        r = b.post("/training/close", form_of(b, t_closed, "close-form"))
        assert r.status == 303
        s = AT(k, phone=phone)
        kind, menu = s.start()
        assert kind == "CON", menu
        kind, screen = s.send(option(menu, "Lapor pelatihan"))
        assert open_code in screen, screen
        assert closed_code not in screen, screen
        env.sql("DELETE FROM ussd_drafts WHERE kpm_id = %d" % kid)
