"""Graduation on two tracks, through the API (issue 12): POST /api/v1/graduations records one,
DELETE /api/v1/graduations?id=N revokes it, GET /api/v1/graduations lists them in cursor pages.
kpm.graduation and kpm.graduated_on follow the latest unrevoked graduation; every change is one
audit_log row; a supervisor reaches only her region, and a KPM outside it answers exactly as one
that does not exist, with nothing written; the same Idempotency-Key twice, or a job re-run after
a lost COMMIT (commit_lost:api_graduation, commit_lost:api_graduation_revoke), writes once.

Every test makes its own KPM (test_admin.Data) and removes them, with their graduations, at the
end."""
import datetime
import json

from kabartest import Kabard
from test_admin import Data, make_token, make_user, raw_request, sq
from test_faults import _fired, _need_faults

PAST = "2025-06-01"
LATER = "2025-09-15"


class GradData(Data):
    """test_admin.Data whose KPM may have graduations: those go first."""

    def cleanup(self):
        if self.kpms:
            self.env.sql("DELETE FROM graduations WHERE kpm_id IN (%s)"
                         % ",".join(str(i) for i in self.kpms))
        Data.cleanup(self)


def api(k, tok, method, path, body=None, key=None, ctype="application/json"):
    h = {"Authorization": "Bearer " + tok}
    if body is not None:
        h["Content-Type"] = ctype
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
    if key is not None:
        h["Idempotency-Key"] = key
    return raw_request(k.admin_port, method, path, body, h)


def record(k, tok, kpm, track="welfare", reason=None, date=PAST, key=None, **extra):
    body = {"kpm_id": kpm, "track": track,
            "reason": reason or ("business_sustains" if track == "welfare" else "left_pkh"),
            "effective_date": date}
    body.update(extra)
    return api(k, tok, "POST", "/api/v1/graduations", body, key)


def revoke(k, tok, gid, reason="recorded by mistake"):
    return api(k, tok, "DELETE", "/api/v1/graduations?id=%d" % gid, {"reason": reason})


def kpm_state(env, kpm):
    return env.sql("SELECT graduation, COALESCE(DATE_FORMAT(graduated_on, '%%Y-%%m-%%d'), 'NULL')"
                   " FROM kpm WHERE id = %d" % kpm)[0]


def grad_rows(env, kpm):
    return env.sql("SELECT id, track, reason, revoked_at IS NOT NULL FROM graduations"
                   " WHERE kpm_id = %d ORDER BY id" % kpm)


def audits(env, kpm, action=None, actor=None):
    q = "SELECT COUNT(*) FROM audit_log WHERE target_type = 'kpm' AND target_id = %d" % kpm
    if action:
        q += " AND action = %s" % sq(action)
    if actor:
        q += " AND actor = %s" % sq(actor)
    return int(env.scalar(q))


def test_graduation_record_revoke_and_the_kpm_follows_the_latest(env):
    with Kabard(env, name="grad-api") as k, GradData(env) as d:
        user, _ = make_user(env, k)
        tok = make_token(env, k, user)
        kid = d.kpm("Lulus %s Satu" % d.tag, nik4="7777")
        assert kpm_state(env, kid) == ["none", "NULL"]

        r = record(k, tok, kid, "welfare", date=PAST, note="usaha katering jalan")
        assert r.status == 201, r
        w = r.json()
        assert set(w) == {"id", "kpm_id", "track", "reason", "effective_date", "decided_by_type",
                          "decided_by_id", "decided_via", "note", "created_at", "revoked_at",
                          "revoked_by_type", "revoked_by_id", "revoke_reason"}, w
        uid = int(env.scalar("SELECT id FROM admin_users WHERE username = %s" % sq(user)))
        assert (w["kpm_id"], w["track"], w["reason"], w["effective_date"], w["decided_by_type"],
                w["decided_by_id"], w["decided_via"], w["note"], w["revoked_at"]) == \
            (kid, "welfare", "business_sustains", PAST, "admin", uid, "api", "usaha katering jalan",
             None), w
        assert kpm_state(env, kid) == ["welfare", PAST]
        r = api(k, tok, "GET", "/api/v1/kpm?id=%d" % kid)
        assert r.status == 200 and (r.json()["graduation"], r.json()["graduated_on"]) == ("welfare", PAST), r

        r = record(k, tok, kid, "natural", reason="no_component", date=LATER)
        assert r.status == 201, r
        n = r.json()
        assert kpm_state(env, kid) == ["natural", LATER]

        # revoking the natural one: the welfare one is the latest unrevoked again
        r = revoke(k, tok, n["id"], "KPM masih menerima PKH")
        assert r.status == 200, r
        o = r.json()
        assert o["id"] == n["id"] and o["revoked_at"] and o["revoked_by_type"] == "admin" \
            and o["revoked_by_id"] == uid and o["revoke_reason"] == "KPM masih menerima PKH", o
        assert kpm_state(env, kid) == ["welfare", PAST]
        # revoking it again changes nothing and answers the row as it is
        r2 = revoke(k, tok, n["id"], "again")
        assert r2.status == 200 and r2.json() == o, r2
        # the last one revoked: no graduation at all
        assert revoke(k, tok, w["id"]).status == 200
        assert kpm_state(env, kid) == ["none", "NULL"]
        r = api(k, tok, "GET", "/api/v1/kpm?id=%d" % kid)
        assert (r.json()["graduation"], r.json()["graduated_on"]) == ("none", None), r.json()

        # every change one audit row, as the administrator, naming no note
        actor = "admin:" + user
        assert audits(env, kid, "graduation.record", actor) == 2
        assert audits(env, kid, "graduation.revoke", actor) == 2
        assert audits(env, kid) == 4
        assert env.scalar("SELECT COUNT(*) FROM audit_log WHERE target_type = 'kpm' AND target_id = %d"
                          " AND detail LIKE '%%katering%%'" % kid) == "0"

        # the history, newest first, with a track filter
        r = api(k, tok, "GET", "/api/v1/graduations?kpm_id=%d" % kid)
        assert r.status == 200, r
        assert [(x["id"], x["track"], x["revoked_at"] is not None) for x in r.json()["data"]] == \
            [(n["id"], "natural", True), (w["id"], "welfare", True)], r.json()
        assert r.json()["next_cursor"] is None
        r = api(k, tok, "GET", "/api/v1/graduations?kpm_id=%d&track=welfare" % kid)
        assert [x["id"] for x in r.json()["data"]] == [w["id"]], r.json()

        # today is not in the future; cursor pages neither skip nor repeat
        today = datetime.datetime.utcnow().strftime("%Y-%m-%d")
        k2 = d.kpm("Lulus %s Dua" % d.tag)
        ids = []
        for i in range(5):
            r = record(k, tok, k2, "natural" if i % 2 else "welfare", date=today if i == 4 else PAST)
            assert r.status == 201, (i, r)
            ids.append(r.json()["id"])
        assert kpm_state(env, k2) == ["welfare", today]
        seen, cursor = [], None
        for _ in range(10):
            r = api(k, tok, "GET", "/api/v1/graduations?kpm_id=%d&limit=2%s"
                    % (k2, "&cursor=" + cursor if cursor else ""))
            assert r.status == 200, r
            seen += [x["id"] for x in r.json()["data"]]
            cursor = r.json()["next_cursor"]
            if cursor is None:
                break
        assert seen == sorted(ids, reverse=True), (seen, ids)


def test_graduation_supervisor_reaches_only_her_region(env):
    with Kabard(env, name="grad-scope") as k, GradData(env) as d:
        admin, _ = make_user(env, k)
        sup, _ = make_user(env, k, "supervisor", region="52")
        tok, stok = make_token(env, k, admin), make_token(env, k, sup)
        jb = d.kpm("Jabar %s" % d.tag)                       # region 32: not hers
        ntb = d.kpm("Ntb %s" % d.tag, region=d.desa("520104"))
        nobody = 10 ** 12

        # another region's KPM answers as one that does not exist, and nothing is written
        outside, missing = record(k, stok, jb), record(k, stok, nobody)
        assert outside.status == missing.status == 404, (outside, missing)
        assert outside.body == missing.body and outside.json() == {"error": "no such KPM"}, outside
        assert grad_rows(env, jb) == [] and kpm_state(env, jb) == ["none", "NULL"]
        assert env.scalar("SELECT COUNT(*) FROM audit_log WHERE actor = %s" % sq("admin:" + sup)) == "0"

        r = record(k, stok, ntb, "natural")
        assert r.status == 201 and r.json()["decided_by_type"] == "admin", r
        assert kpm_state(env, ntb) == ["natural", PAST]
        r = api(k, stok, "GET", "/api/v1/kpm?id=%d" % ntb)
        assert r.status == 200 and r.json()["graduated_on"] == PAST, r

        # the administrator's graduation of the Jawa Barat KPM: the supervisor can neither
        # revoke nor see it
        g = record(k, tok, jb).json()
        assert kpm_state(env, jb) == ["welfare", PAST]
        outside, missing = revoke(k, stok, g["id"]), revoke(k, stok, nobody)
        assert outside.status == missing.status == 404 and outside.body == missing.body, (outside, missing)
        assert outside.json() == {"error": "no such graduation"}, outside
        assert grad_rows(env, jb) == [[str(g["id"]), "welfare", "business_sustains", "0"]]
        assert kpm_state(env, jb) == ["welfare", PAST]
        assert audits(env, jb, "graduation.revoke") == 0
        r = api(k, stok, "GET", "/api/v1/graduations?limit=1000")
        assert r.status == 200 and g["id"] not in [x["id"] for x in r.json()["data"]], r
        assert all(x["kpm_id"] != jb for x in r.json()["data"])
        r = api(k, stok, "GET", "/api/v1/graduations?kpm_id=%d" % jb)
        assert r.status == 200 and r.json() == {"data": [], "next_cursor": None}, r
        # the administrator sees both
        r = api(k, tok, "GET", "/api/v1/graduations?limit=1000")
        got = [x["id"] for x in r.json()["data"]]
        assert g["id"] in got and grad_rows(env, ntb)[0][0] in [str(i) for i in got], got


def test_graduation_idempotency_key_writes_one_row(env):
    with Kabard(env, name="grad-idem") as k, GradData(env) as d:
        user, _ = make_user(env, k)
        other, _ = make_user(env, k)
        tok, otok = make_token(env, k, user), make_token(env, k, other)
        kid = d.kpm("Kunci %s Lulus" % d.tag)
        key = "grad-%s-%s" % (d.tag, "k" * 40)
        first = record(k, tok, kid, key=key)
        assert first.status == 201, first
        for _ in range(2):
            r = record(k, tok, kid, key=key)
            assert (r.status, r.body) == (first.status, first.body), r
        assert len(grad_rows(env, kid)) == 1 and audits(env, kid, "graduation.record") == 1
        # the same key for another graduation: refused, nothing written
        r = record(k, tok, kid, "natural", key=key)
        assert r.status == 422 and "Idempotency-Key" in r.json()["error"], r
        assert len(grad_rows(env, kid)) == 1 and kpm_state(env, kid) == ["welfare", PAST]
        # another user's key is his own
        assert record(k, otok, kid, key=key).status == 201
        assert len(grad_rows(env, kid)) == 2
        # bounded and printable; without a key each POST is a graduation
        for bad in ("x" * 65, "a\tb"):
            r = record(k, tok, kid, key=bad)
            assert r.status == 400 and "Idempotency-Key" in r.json()["error"], (bad, r)
        for _ in range(2):
            assert record(k, tok, kid).status == 201
        assert len(grad_rows(env, kid)) == 4 and audits(env, kid, "graduation.record") == 4


def test_graduation_commit_lost_writes_once(env):
    """The API's graduation jobs re-run after a lost COMMIT: one row, one audit row, the answer
    the first run would have given; lost twice in a row too, and for a revocation."""
    _need_faults(env)
    with GradData(env) as d:
        for fault, key in (("commit_lost:api_graduation=1", None),
                           ("commit_lost:api_graduation=1", "g-" + d.tag),
                           ("commit_lost:api_graduation=2", None)):
            with Kabard(env, name="grad-lost", environ={"KABAR_FAULTS": fault}) as k:
                user, _ = make_user(env, k)
                tok = make_token(env, k, user)
                kid = d.kpm("Hilang %s" % d.tag)
                r = record(k, tok, kid, key=key)
                assert _fired(k, fault.split("=")[0]) == int(fault[-1]), "the fault did not fire"
                rows = grad_rows(env, kid)
                assert len(rows) == 1, (fault, key, rows)
                assert r.status == 201 and r.json()["id"] == int(rows[0][0]), (fault, key, r)
                assert audits(env, kid, "graduation.record") == 1, (fault, key)
                assert kpm_state(env, kid) == ["welfare", PAST]
        fault = "commit_lost:api_graduation_revoke=1"
        with Kabard(env, name="grad-lost-revoke", environ={"KABAR_FAULTS": fault}) as k:
            user, _ = make_user(env, k)
            tok = make_token(env, k, user)
            kid = d.kpm("Hilang %s Cabut" % d.tag)
            g = record(k, tok, kid).json()
            r = revoke(k, tok, g["id"], "salah catat")
            assert _fired(k, "commit_lost:api_graduation_revoke") == 1, "the fault did not fire"
            assert r.status == 200 and r.json()["revoke_reason"] == "salah catat", r
            assert grad_rows(env, kid) == [[str(g["id"]), "welfare", "business_sustains", "1"]]
            assert audits(env, kid, "graduation.revoke") == 1
            assert kpm_state(env, kid) == ["none", "NULL"]


def test_graduation_bad_input_is_400_naming_the_field(env):
    with Kabard(env, name="grad-bad") as k, GradData(env) as d:
        user, _ = make_user(env, k)
        tok = make_token(env, k, user)
        kid = d.kpm("Salah %s" % d.tag)
        good = {"kpm_id": kid, "track": "welfare", "reason": "business_sustains",
                "effective_date": PAST}
        future = (datetime.datetime.utcnow() + datetime.timedelta(days=2)).strftime("%Y-%m-%d")
        cases = [
            ("kpm_id", None), ("kpm_id", "1"), ("kpm_id", 0), ("kpm_id", -3), ("kpm_id", 1.5),
            ("track", None), ("track", "none"), ("track", "Welfare"), ("track", 2),
            ("reason", None), ("reason", "no_such_reason"), ("reason", "left_pkh"),
            ("reason", "business_sustains\u0000x"), ("reason", ""),
            ("effective_date", None), ("effective_date", "2025-02-29"), ("effective_date", "2025/06/01"),
            ("effective_date", "01-06-2025"), ("effective_date", future), ("effective_date", PAST + "x"),
            ("note", "n" * 501), ("note", 5), ("note", ["x"]),
        ]
        for field, value in cases:
            body = dict(good)
            if value is None:
                del body[field]
            else:
                body[field] = value
            r = api(k, tok, "POST", "/api/v1/graduations", body)
            assert r.status == 400 and field in r.json()["error"], (field, value, r)
        r = api(k, tok, "POST", "/api/v1/graduations", dict(good, source="x"))
        assert r.status == 400 and "unknown field" in r.json()["error"], r
        for raw in (b"{", b"[]", b'"x"', b'{"kpm_id": 1, "kpm_id": 2}'):
            r = api(k, tok, "POST", "/api/v1/graduations", raw)
            assert r.status == 400, (raw, r)
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "application/jsonx"):
            r = api(k, tok, "POST", "/api/v1/graduations", good, ctype=ctype)
            assert r.status == 415, (ctype, r)
        assert grad_rows(env, kid) == [] and audits(env, kid) == 0
        # a note of 500 bytes, and an empty or null one, are fine
        assert api(k, tok, "POST", "/api/v1/graduations", dict(good, note="\u00e9" * 250)).status == 201
        assert api(k, tok, "POST", "/api/v1/graduations", dict(good, note="")).status == 201
        assert api(k, tok, "POST", "/api/v1/graduations", dict(good, note=None)).status == 201
        assert env.sql("SELECT COALESCE(note, 'NULL') FROM graduations WHERE kpm_id = %d ORDER BY id"
                       % kid)[1:] == [["NULL"], ["NULL"]]
        gid = int(grad_rows(env, kid)[0][0])

        # DELETE: the id in the query, the reason in the body
        for path in ("/api/v1/graduations", "/api/v1/graduations?id=", "/api/v1/graduations?id=abc",
                     "/api/v1/graduations?id=0", "/api/v1/graduations?gid=%d" % gid):
            r = api(k, tok, "DELETE", path, {"reason": "x"})
            assert r.status == 400 and "id" in r.json()["error"], (path, r)
        path = "/api/v1/graduations?id=%d" % gid
        for body in ({}, {"reason": ""}, {"reason": "r" * 256}, {"reason": 5},
                     {"reason": "x", "why": "y"}):
            r = api(k, tok, "DELETE", path, body)
            assert r.status == 400 and "reason" in r.json()["error"], (body, r)
        assert api(k, tok, "DELETE", path, {"reason": "x"}, ctype="text/plain").status == 415
        r = raw_request(k.admin_port, "DELETE", path, None, {"Authorization": "Bearer " + tok})
        assert r.status == 415, r
        assert grad_rows(env, kid)[0][3] == "0" and audits(env, kid, "graduation.revoke") == 0
        assert api(k, tok, "DELETE", path, {"reason": "r" * 255}).status == 200

        # GET
        for q in ("kpm_id=x", "kpm_id=0", "track=none", "track=x", "cursor=abc", "limit=0"):
            r = api(k, tok, "GET", "/api/v1/graduations?" + q)
            assert r.status == 400 and "error" in r.json(), (q, r)
        # no token, no API
        r = raw_request(k.admin_port, "POST", "/api/v1/graduations", json.dumps(good).encode(),
                        {"Content-Type": "application/json"})
        assert r.status == 401, r
