"""Graduation in the administrators' pages and the API lists (issue 12), through the real
kabard admin listener: the KPM page records a graduation (POST /graduation, a form nonce as its
key) and revokes one (POST /graduation/revoke), within the user's region and behind the CSRF
token; refused values show the form again with a message (422); the alerts page answers a
graduation candidate (confirmed, declined with a reason, later); the queue, the exports and the
API lists filter by track; the dashboard counts graduates by track and month and draws the
welfare cohort (business running 3, 6 and 12 months after graduation); what an assistant did by
USSD or SMS (rows inserted here as graduation.c writes them) shows with her name.

Every test makes its own KPM and removes them, with what hangs on them, at the end."""
import html
import re

from kabartest import Kabard
from test_admin import csrf_of, login, make_token, make_user, parse_csv, set_filter, sq
from test_faults import _fired, _need_faults
from test_graduation import GradData, api, audits, grad_rows, kpm_state, record, revoke

PAST = "2025-06-01"


class PageData(GradData):
    """GradData whose KPM may also have home visits."""

    def cleanup(self):
        if self.kpms:
            self.env.sql("DELETE FROM home_visits WHERE kpm_id IN (%s)"
                         % ",".join(str(i) for i in self.kpms))
        GradData.cleanup(self)


def kpm_page(b, kid, status=200):
    r = b.get("/kpm?id=%d" % kid)
    assert r.status == status, ("GET /kpm?id=%d" % kid, r)
    return r.text


def nonce_of(text):
    m = re.search(r'<form id="graduation-form".*?name="nonce" value="([0-9a-f]+)"', text, re.S)
    assert m, "no graduation form: " + text[:300]
    return m.group(1)


def grad_form(page, kid, track="welfare", reason="business_sustains", date=PAST, note="", **kw):
    f = {"csrf": csrf_of(page), "nonce": nonce_of(page), "kpm": str(kid), "track": track,
         "reason": reason, "effective_date": date, "note": note}
    f.update(kw)
    return f


def history(text):
    """(id, track, revoked) of the graduation rows of a KPM page, as shown."""
    return [(int(i), t, rv == "1") for i, t, rv in
            re.findall(r'<tr class="graduation" data-id="(\d+)" data-track="(\w+)" '
                       r'data-revoked="([01])">', text)]


def today_minus(env, months, days=0):
    return env.scalar("SELECT DATE_FORMAT(CAST(NOW() + INTERVAL 7 HOUR AS DATE) - INTERVAL %d MONTH"
                      " - INTERVAL %d DAY, '%%Y-%%m-%%d')" % (months, days))


def test_graduation_page_record_revoke_and_bad_input(env):
    with Kabard(env, name="grad-page") as k, PageData(env) as d:
        user, pw = make_user(env, k)
        b, _ = login(k, user, pw)
        kid = d.kpm("Halaman %s Lulus" % d.tag)
        page = kpm_page(b, kid)
        assert 'id="graduation-track" data-track="none"' in page and history(page) == []
        # the reasons offered are the configured ones, grouped by track
        assert 'value="business_sustains"' in page and 'value="left_pkh"' in page

        # recorded through the form: a redirect back, the KPM follows, one audit row
        form = grad_form(page, kid, note="warung <b>ramai</b>")
        r = b.post("/graduation", form)
        assert r.status == 303 and r.header("Location") == "/kpm?id=%d#graduation" % kid, r
        assert kpm_state(env, kid) == ["welfare", PAST]
        assert audits(env, kid, "graduation.record", "admin:" + user) == 1
        row = env.sql("SELECT decided_by_type, decided_via, note, idem_key FROM graduations"
                      " WHERE kpm_id = %d" % kid)
        uid = env.scalar("SELECT id FROM admin_users WHERE username = %s" % sq(user))
        assert row == [["admin", "page", "warung <b>ramai</b>", "page:%s:%s" % (uid, form["nonce"])]], row
        # the same form sent twice is one graduation
        r = b.post("/graduation", form)
        assert r.status == 303, r
        assert len(grad_rows(env, kid)) == 1 and audits(env, kid) == 1
        # ... and the same nonce with other values is refused
        r = b.post("/graduation", dict(form, effective_date="2025-06-02"))
        assert r.status == 409 and len(grad_rows(env, kid)) == 1, r
        page = kpm_page(b, kid)
        gid = int(grad_rows(env, kid)[0][0])
        assert history(page) == [(gid, "welfare", False)], history(page)
        assert 'id="graduated-on">%s<' % PAST in page
        assert "Usaha mencukupi kebutuhan keluarga" in page and "halaman admin" in page
        assert "warung &lt;b&gt;ramai&lt;/b&gt;" in page and "<b>ramai" not in page
        assert html.escape(user) in page

        # bad input: the form again with a clear message, 422, nothing written
        bad = [
            ({"effective_date": "2025-02-30"}, "Tanggal berlaku"),
            ({"effective_date": "2099-01-01"}, "Tanggal berlaku"),
            ({"effective_date": "kemarin"}, "Tanggal berlaku"),
            ({"track": "natural"}, "alasan"),           # business_sustains is a welfare reason
            ({"reason": "nope"}, "alasan"),
            ({"track": "graduated"}, "Pilih jalur"),
            ({"note": "x" * 501}, "500 byte"),
        ]
        for change, words in bad:
            page = kpm_page(b, kid)
            r = b.post("/graduation", grad_form(page, kid, **change))
            assert r.status == 422, (change, r)
            m = re.search(r'<p class="message" id="graduation-error">([^<]*)</p>', r.text)
            assert m and words in m.group(1), (change, r.text[:600])
            assert '<form id="graduation-form"' in r.text, change
        assert len(grad_rows(env, kid)) == 1 and audits(env, kid) == 1
        # a malformed KPM id is a 400, not a crash
        r = b.post("/graduation", dict(grad_form(page, kid), kpm="12abc"))
        assert r.status == 400, r
        # without the CSRF token: refused, nothing written
        f = grad_form(page, kid, track="natural", reason="left_pkh")
        del f["csrf"]
        r = b.post("/graduation", f)
        assert r.status == 403 and len(grad_rows(env, kid)) == 1, r
        r = b.post("/graduation/revoke", {"id": str(gid), "kpm": str(kid), "reason": "x"})
        assert r.status == 403 and grad_rows(env, kid)[0][3] == "0", r

        # revoking: a reason is needed
        page = kpm_page(b, kid)
        r = b.post("/graduation/revoke", {"csrf": csrf_of(page), "id": str(gid), "kpm": str(kid),
                                          "reason": ""})
        assert r.status == 422 and 'id="revoke-error"' in r.text, r
        assert grad_rows(env, kid)[0][3] == "0"
        r = b.post("/graduation/revoke", {"csrf": csrf_of(page), "id": str(gid), "kpm": str(kid),
                                          "reason": "salah catat"})
        assert r.status == 303 and r.header("Location") == "/kpm?id=%d#graduation" % kid, r
        assert kpm_state(env, kid) == ["none", "NULL"]
        assert audits(env, kid, "graduation.revoke", "admin:" + user) == 1
        # sent again: nothing more
        r = b.post("/graduation/revoke", {"csrf": csrf_of(page), "id": str(gid), "kpm": str(kid),
                                          "reason": "salah catat"})
        assert r.status == 303 and audits(env, kid, "graduation.revoke") == 1, r
        page = kpm_page(b, kid)
        assert history(page) == [(gid, "welfare", True)]
        assert "dicabut" in page and "salah catat" in page
        assert 'id="graduation-track" data-track="none"' in page
        # a graduation that does not exist
        r = b.post("/graduation/revoke", {"csrf": csrf_of(page), "id": "999999999999",
                                          "kpm": str(kid), "reason": "x"})
        assert r.status == 404, r


def test_graduation_page_supervisor_of_another_region_gets_404(env):
    with Kabard(env, name="grad-page-scope") as k, PageData(env) as d:
        admin, _ = make_user(env, k)
        tok = make_token(env, k, admin)
        desa = d.desa("520104")
        sup, spw = make_user(env, k, "supervisor", region=desa)
        b, _ = login(k, sup, spw)
        mine = d.kpm("Milik %s" % d.tag, region=desa)
        other = d.kpm("Lain %s" % d.tag)                     # Jawa Barat
        g = record(k, tok, other).json()
        kpm_page(b, other, 404)
        page = kpm_page(b, mine)
        # the form of her own KPM page, pointed at the other KPM: 404, nothing written
        r = b.post("/graduation", grad_form(page, other, track="natural", reason="left_pkh"))
        assert r.status == 404, r
        assert grad_rows(env, other) == [[str(g["id"]), "welfare", "business_sustains", "0"]]
        r = b.post("/graduation/revoke", {"csrf": csrf_of(page), "id": str(g["id"]),
                                          "kpm": str(mine), "reason": "bukan wilayah saya"})
        assert r.status == 404, r
        assert kpm_state(env, other) == ["welfare", PAST]
        assert env.scalar("SELECT COUNT(*) FROM audit_log WHERE actor = %s" % sq("admin:" + sup)) == "0"
        # her own KPM: recorded
        r = b.post("/graduation", grad_form(page, mine, track="natural", reason="no_component"))
        assert r.status == 303 and kpm_state(env, mine) == ["natural", PAST], r


def test_graduation_page_candidate_outcome_buttons(env):
    with Kabard(env, name="grad-cand") as k, PageData(env) as d:
        desa = d.desa("520104")
        sup, spw = make_user(env, k, "supervisor", region=desa)
        b, _ = login(k, sup, spw)
        kc, kd, kl, ks = (d.kpm("Calon %s %s" % (d.tag, n), region=desa) for n in "CDLS")
        ac, ad, al = (d.alert(x, rule="graduation") for x in (kc, kd, kl))
        silent = d.alert(ks, rule="silent")
        other = d.alert(d.kpm("Calon %s luar" % d.tag), rule="graduation")   # another region
        r = b.get("/alerts")
        assert r.status == 200
        for a in (ac, ad, al):
            row = re.search(r'<td id="alert-%d".*?</tr>' % a, r.text, re.S).group(0)
            assert 'action="/alerts/outcome"' in row and 'name="id" value="%d"' % a in row, row
        assert 'id="alert-%d"' % other not in r.text
        row = re.search(r'<tr class="alert"><td id="alert-%d".*?</tr>' % silent, r.text, re.S).group(0)
        assert "/alerts/outcome" not in row
        csrf = csrf_of(r.text)

        def outcome(aid, o, reason=""):
            return b.post("/alerts/outcome", {"csrf": csrf, "id": str(aid), "outcome": o,
                                              "reason": reason})

        # confirmed: a welfare graduation, the alert acknowledged
        r = outcome(ac, "confirmed")
        assert r.status == 303 and r.header("Location") == "/alerts?state=open#alert-%d" % ac, r
        assert kpm_state(env, kc)[0] == "welfare"
        assert env.sql("SELECT track, reason, decided_via FROM graduations WHERE kpm_id = %d" % kc) == \
            [["welfare", "candidate_confirmed", "page"]]
        assert env.sql("SELECT state, outcome, outcome_by FROM alerts WHERE id = %d" % ac) == \
            [["acknowledged", "confirmed", "admin:" + sup]]
        # declined needs a reason: the alerts page again with the message
        r = outcome(ad, "declined")
        assert r.status == 422 and 'id="outcome-error"' in r.text, r
        assert env.scalar("SELECT outcome IS NULL AND candidate_snooze_until IS NULL FROM alerts a"
                          " JOIN kpm k ON k.id = a.kpm_id WHERE a.id = %d" % ad) == "1"
        r = outcome(ad, "declined", "usaha belum stabil")
        assert r.status == 303, r
        assert env.sql("SELECT a.state, a.outcome, a.outcome_note, k.candidate_snooze_until > "
                       "CAST(NOW() + INTERVAL 7 HOUR AS DATE), k.graduation FROM alerts a JOIN kpm k"
                       " ON k.id = a.kpm_id WHERE a.id = %d" % ad) == \
            [["acknowledged", "declined", "usaha belum stabil", "1", "none"]]
        # later: stays open, the buttons stay
        r = outcome(al, "later")
        assert r.status == 303, r
        assert env.sql("SELECT state, outcome FROM alerts WHERE id = %d" % al) == [["new", "later"]]
        assert kpm_state(env, kl)[0] == "none"
        r = b.get("/alerts")
        row = re.search(r'<tr class="alert"><td id="alert-%d".*?</tr>' % al, r.text, re.S).group(0)
        assert 'data-outcome="later"' in row and "/alerts/outcome" in row and "nanti" in row
        r = b.get("/alerts?state=acknowledged")
        row = re.search(r'<tr class="alert"><td id="alert-%d".*?</tr>' % ad, r.text, re.S).group(0)
        assert "graduasi ditolak" in row and "usaha belum stabil" in row and sup in row, row
        # a decided candidate is not decided again; a silent alert is no candidate; another
        # region's alert is not found; a made-up outcome is a 400
        assert outcome(ac, "declined", "ganti").status == 409
        assert outcome(silent, "confirmed").status == 422
        assert outcome(other, "confirmed").status == 404
        assert env.scalar("SELECT outcome IS NULL FROM alerts WHERE id = %d" % other) == "1"
        assert outcome(ac, "visited").status == 400
        # the KPM page shows the alert's outcome
        page = kpm_page(b, kd)
        row = re.search(r'<tr class="alert" data-id="%d".*?</tr>' % ad, page, re.S).group(0)
        assert 'data-outcome="declined"' in row and "usaha belum stabil" in row, row


def test_graduation_pages_track_filter_queue_export_api(env):
    with Kabard(env, name="grad-track") as k, PageData(env) as d:
        admin, _ = make_user(env, k)
        tok = make_token(env, k, admin)
        desa = d.desa("520104")
        sup, spw = make_user(env, k, "supervisor", region=desa)
        stok = make_token(env, k, sup)
        b, _ = login(k, sup, spw)
        kn, kw, k0 = (d.kpm("Jalur %s %s" % (d.tag, n), region=desa) for n in ("alami", "sejahtera", "belum"))
        assert record(k, tok, kn, "natural").status == 201
        assert record(k, tok, kw, "welfare").status == 201
        rep = {x: d.business(x) for x in (kn, kw, k0)}
        al = {x: d.alert(x) for x in (kn, kw, k0)}

        csrf = b.csrf()
        for track, want in (("welfare", kw), ("natural", kn), ("none", k0)):
            set_filter(b, csrf, track=track, type="business")
            r = b.get("/queue")
            rows = re.findall(r'<tr class="report" data-type="business" data-id="(\d+)">', r.text)
            assert rows == [str(rep[want])], (track, rows)
            assert '<option value="%s" selected>' % track in r.text
            r = b.get("/export/reports.csv")
            assert r.status == 200, r
            header, data = parse_csv(r.body)
            assert [x[0] for x in data] == [str(rep[want])], (track, data)
            # the API, with the supervisor's token
            r = api(k, stok, "GET", "/api/v1/reports?type=business&track=%s" % track)
            assert [x["report_id"] for x in r.json()["data"]] == [rep[want]], r
            r = api(k, stok, "GET", "/api/v1/kpm?region=%s&track=%s" % (desa, track))
            assert [x["id"] for x in r.json()["data"]] == [want], r
            r = api(k, stok, "GET", "/api/v1/alerts?track=%s" % track)
            assert [x["id"] for x in r.json()["data"]] == [al[want]], r
        set_filter(b, csrf, track="")
        rows = re.findall(r'data-type="business" data-id="(\d+)"', b.get("/queue").text)
        assert sorted(rows) == sorted(str(v) for v in rep.values())
        r = api(k, stok, "GET", "/api/v1/kpm?region=%s&track=welfare" % desa)
        assert (r.json()["data"][0]["graduation"], r.json()["data"][0]["graduated_on"]) == ("welfare", PAST)
        for path in ("/api/v1/reports?track=graduated", "/api/v1/kpm?track=x",
                     "/api/v1/alerts?track=Welfare"):
            r = api(k, stok, "GET", path)
            assert r.status == 400 and "track" in r.json()["error"], (path, r)
        f = {"csrf": csrf, "track": "graduated"}
        assert b.post("/queue", f).status == 400


def test_graduation_pages_dashboard_graduates_and_cohort(env):
    with Kabard(env, name="grad-dash") as k, PageData(env) as d:
        admin, _ = make_user(env, k)
        tok = make_token(env, k, admin)
        desa = d.desa("520104")
        sup, spw = make_user(env, k, "supervisor", region=desa)
        b, _ = login(k, sup, spw)

        def graduate(name, months, track="welfare"):
            kid = d.kpm("Kohort %s %s" % (d.tag, name), region=desa)
            date = today_minus(env, months)
            r = record(k, tok, kid, track, date=date)
            assert r.status == 201, r
            return kid, date, r.json()["id"]

        def report(kid, date, months, status, days=0):
            # 10:00 WIB on that day
            d.business(kid, status=status,
                       at="CAST('%s' AS DATETIME) + INTERVAL %d MONTH + INTERVAL %d DAY + INTERVAL 3 HOUR"
                       % (date, months, days))

        w1, g1, _ = graduate("w1", 13)
        report(w1, g1, 1, 1)
        report(w1, g1, 5, 2)
        report(w1, g1, 11, 1)
        w2, g2, _ = graduate("w2", 7)                  # no report at all
        w3, g3, _ = graduate("w3", 4)
        report(w3, g3, 0, 2, days=-10)                 # before her graduation: not counted
        report(w3, g3, 2, 1)
        report(w3, g3, 3, 3, days=1)                   # the day after 3 months: outside
        w4, _, _ = graduate("w4", 2)                   # not 3 months yet
        w5, g5, _ = graduate("w5", 30)                 # beyond the 24 months looked at
        report(w5, g5, 1, 1)
        w6, g6, x6 = graduate("w6", 8)                 # revoked
        report(w6, g6, 1, 1)
        assert revoke(k, tok, x6).status == 200
        n1, gn, _ = graduate("n1", 5, "natural")
        report(n1, gn, 1, 1)

        r = b.get("/")
        assert r.status == 200, r
        cohort = {int(m): (int(a), int(c), int(n), int(s)) for m, a, c, n, s in re.findall(
            r'<tr data-months="(\d+)"><td>[^<]*</td><td class="graduates">(\d+)</td>'
            r'<td class="running">(\d+)</td><td class="none">(\d+)</td><td class="share">(\d+)%</td>',
            r.text)}
        # 3 months: w1 (running), w2 (no report), w3 (running); 6: w1 (closed for a while), w2;
        # 12: w1 (running again)
        assert cohort == {3: (3, 2, 1, 67), 6: (2, 0, 1, 0), 12: (1, 1, 0, 100)}, cohort
        assert 'id="chart-cohort"' in r.text and "<svg" in r.text.split('id="chart-cohort"')[1]
        assert 'id="cohort-definition"' in r.text
        months = {m: (int(n), int(w)) for m, n, w in re.findall(
            r'<tr data-month="([0-9-]+)"><td>[^<]*</td><td class="natural">(\d+)</td>'
            r'<td class="welfare">(\d+)</td></tr>', r.text)}
        assert len(months) == 12, months
        want = {}
        for date, track in ((g2, "welfare"), (g3, "welfare"), (today_minus(env, 2), "welfare"),
                            (gn, "natural")):
            n, w = want.get(date[:7], (0, 0))
            want[date[:7]] = (n + (track == "natural"), w + (track == "welfare"))
        assert {m: v for m, v in months.items() if v != (0, 0)} == want, (months, want)


def test_graduation_pages_assistant_actions_show_with_her_name_page_and_api(env):
    with Kabard(env, name="grad-asst") as k, PageData(env) as d:
        admin, pw = make_user(env, k)
        tok = make_token(env, k, admin)
        desa = d.desa("520104")
        sup, _ = make_user(env, k, "supervisor", region=desa)
        stok = make_token(env, k, sup)
        b, _ = login(k, admin, pw)
        kid = d.kpm("Dampingan %s" % d.tag, assistant=2)
        aname = env.scalar("SELECT name FROM assistants WHERE id = 2")
        # as gateway/graduation.c writes them for an assistant by USSD and SMS
        env.sql("INSERT INTO graduations (kpm_id, track, reason, effective_date, decided_by_type,"
                " decided_by_id, decided_via, idem_key) VALUES (%d, 'natural', 'left_pkh',"
                " '2025-05-01', 'assistant', 2, 'sms', %s)" % (kid, sq("it:" + d.tag)))
        env.sql("UPDATE kpm SET graduation = 'natural', graduated_on = '2025-05-01' WHERE id = %d" % kid)
        env.sql("INSERT INTO home_visits (kpm_id, assistant_id, visit_date, outcome, business_running,"
                " source, channel, session_id) VALUES (%d, 2, '2025-05-20', 1, 1, 'ussd', 'it', %s)"
                % (kid, sq(d.tag + "-v1")))
        al = d.alert(kid, assistant=2)
        env.sql("UPDATE alerts SET outcome = 'visited', outcome_at = NOW(3), outcome_by = 'assistant:2',"
                " outcome_note = 'sudah ke rumah', state = 'acknowledged', acked_at = NOW(3)"
                " WHERE id = %d" % al)

        page = kpm_page(b, kid)
        hist = re.search(r'<table id="graduations">.*?</table>', page, re.S).group(0)
        assert html.escape(aname) + " (pendamping)" in hist and "SMS" in hist, hist
        visits = re.search(r'<table id="kpm-visits">.*?</table>', page, re.S).group(0)
        assert "2025-05-20" in visits and html.escape(aname) in visits and "Bertemu KPM" in visits \
            and "<td>ya</td>" in visits, visits
        row = re.search(r'<tr class="alert" data-id="%d".*?</tr>' % al, page, re.S).group(0)
        assert "dikunjungi" in row and html.escape(aname) + " (pendamping)" in row \
            and "sudah ke rumah" in row, row

        r = api(k, tok, "GET", "/api/v1/graduations?kpm=%d" % kid)
        g = r.json()["data"]
        assert [(x["decided_by_type"], x["decided_by_id"], x["decided_by_name"], x["decided_via"])
                for x in g] == [("assistant", 2, aname, "sms")], r
        r = api(k, tok, "GET", "/api/v1/visits?kpm=%d" % kid)
        v = r.json()["data"]
        assert [(x["kpm_id"], x["assistant_id"], x["assistant_name"], x["visit_date"],
                 x["outcome_code"], x["outcome"], x["business_running"], x["source"]) for x in v] == \
            [(kid, 2, aname, "2025-05-20", 1, "Met the KPM", 1, "ussd")], r
        assert r.json()["next_cursor"] is None
        r = api(k, tok, "GET", "/api/v1/alerts?state=all&limit=1000")
        a = [x for x in r.json()["data"] if x["id"] == al]
        assert [(x["outcome"], x["outcome_by"], x["outcome_by_type"], x["outcome_by_name"],
                 x["outcome_note"]) for x in a] == \
            [("visited", "assistant:2", "assistant", aname, "sudah ke rumah")], a
        assert a[0]["outcome_at"] and a[0]["outcome_at"].endswith("Z")
        # a supervisor of another region sees none of it
        assert api(k, stok, "GET", "/api/v1/visits?kpm=%d" % kid).json() == \
            {"data": [], "next_cursor": None}
        assert api(k, stok, "GET", "/api/v1/graduations?kpm=%d" % kid).json()["data"] == []
        assert all(x["id"] != al for x in
                   api(k, stok, "GET", "/api/v1/alerts?state=all&limit=1000").json()["data"])
        assert api(k, tok, "GET", "/api/v1/visits?kpm=abc").status == 400
        # visits in cursor pages
        for i in range(2, 5):
            env.sql("INSERT INTO home_visits (kpm_id, assistant_id, visit_date, outcome, source,"
                    " channel, session_id) VALUES (%d, 2, '2025-06-0%d', 2, 'sms', 'it', %s)"
                    % (kid, i, sq("%s-v%d" % (d.tag, i))))
        seen, cursor = [], None
        for _ in range(5):
            r = api(k, tok, "GET", "/api/v1/visits?kpm=%d&limit=3%s"
                    % (kid, "&cursor=" + cursor if cursor else ""))
            seen += [x["visit_date"] for x in r.json()["data"]]
            cursor = r.json()["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == ["2025-05-20", "2025-06-02", "2025-06-03", "2025-06-04"] \
            and len(set(seen)) == 4, seen


def test_graduation_pages_commit_lost_writes_once(env):
    """The pages' jobs re-run after a lost COMMIT (README: "Every DB_TXN job is safe to
    re-run"): one graduation, one revocation, one candidate outcome, each with one audit row,
    and the redirect the first run would have given."""
    _need_faults(env)
    with PageData(env) as d:
        fault = "commit_lost:admin_graduation=1,commit_lost:admin_graduation_revoke=1," \
                "commit_lost:admin_alert_outcome=1"
        with Kabard(env, name="grad-page-lost", environ={"KABAR_FAULTS": fault}) as k:
            user, pw = make_user(env, k)
            b, _ = login(k, user, pw)
            kid = d.kpm("Hilang %s Halaman" % d.tag)
            page = kpm_page(b, kid)
            r = b.post("/graduation", grad_form(page, kid))
            assert _fired(k, "commit_lost:admin_graduation") == 1, "the fault did not fire"
            assert r.status == 303 and r.header("Location") == "/kpm?id=%d#graduation" % kid, r
            rows = grad_rows(env, kid)
            assert len(rows) == 1 and audits(env, kid, "graduation.record") == 1, rows
            r = b.post("/graduation/revoke", {"csrf": csrf_of(page), "id": rows[0][0],
                                              "kpm": str(kid), "reason": "salah catat"})
            assert _fired(k, "commit_lost:admin_graduation_revoke") == 1
            assert r.status == 303 and kpm_state(env, kid) == ["none", "NULL"], r
            assert audits(env, kid, "graduation.revoke") == 1
            cand = d.kpm("Hilang %s Calon" % d.tag)
            al = d.alert(cand, rule="graduation")
            r = b.post("/alerts/outcome", {"csrf": csrf_of(page), "id": str(al),
                                           "outcome": "confirmed", "reason": ""})
            assert _fired(k, "commit_lost:admin_alert_outcome") == 1
            assert r.status == 303, r
            assert len(grad_rows(env, cand)) == 1 and kpm_state(env, cand)[0] == "welfare"
            assert audits(env, cand, "graduation.record") == 1
            assert env.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'alert.outcome'"
                              " AND target_type = 'alert' AND target_id = %d" % al) == "1"


def test_graduation_pages_dashboard_twice_on_one_connection_error_1054(env):
    """Bug: the cohort's first statement joined a derived table of the months (3, 6, 12) to a
    correlated subquery; MariaDB 10.11 answers its second run as a prepared statement on the
    same connection with 1054 (unknown column), so every dashboard after the first per worker
    was a 503. More requests than workers, one after the other: every one is a page."""
    with Kabard(env, name="grad-dash-again") as k:
        user, pw = make_user(env, k)
        b, _ = login(k, user, pw)
        for i in range(8):
            r = b.get("/")
            assert r.status == 200 and 'id="cohort-table"' in r.text, (i, r)
