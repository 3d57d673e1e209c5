"""Every DB_TXN job is safe to re-run (issue "Reliability", defect 4). db.c re-runs a job whose
COMMIT went unanswered (2013), though the COMMIT may have happened: each test starts kabard with
KABAR_FAULTS="commit_lost:<job>=N" (gateway/db.h), so the job commits for real, loses the answer
and runs again; the action is done once through the real interface (a page, the API, an SMS
callback, the alerts tick, the outbox, the users CLI), and exactly one row of each kind must
exist afterwards, with the answer the first run would have given. The review key (the form's
nonce, the API's Idempotency-Key) is checked here too: a repeated request is a re-run that
the client makes.

Skipped without --enable-faults, failed instead when KABAR_FAULTS_REQUIRED=1."""
import hashlib
import json
import os
import re
import signal
import subprocess

from fakeagg import FakeAT
from kabartest import Kabard, wait_for
from test_admin import (Data, admin_conf, login, make_token, make_user, rand_tag, raw_request,
                        set_filter, sq)
from test_alerts import alert_sms, alerts_conf, alerts_of, clean, day, report
from test_faults import _fired, _need_faults
from test_sms import _queue, at_sms, fake_at_config, new_mid, no_open_help_alert, reply_of

SITI = "+628120000001"


def sms(k, text):
    """An SMS from Siti. Its message id has a tag of its own: test_sms numbers its ids from 1
    in its own copy of the module, and would find these ones already processed."""
    return at_sms(k, SITI, text, mid=new_mid("IDEMmo"))


def faulty(env, fault, name, conf_text=None):
    """A kabard whose job named in fault loses its COMMIT's answer."""
    _need_faults(env)
    return Kabard(env, conf_text=conf_text, name=name, environ={"KABAR_FAULTS": fault})


def count(env, query):
    return int(env.scalar(query))


def audit_count(env, actor, action, extra=""):
    return count(env, "SELECT COUNT(*) FROM audit_log WHERE actor = %s AND action = %s%s"
                 % (sq(actor), sq(action), extra))


# ---------------------------------------------------------------- reviews: the pages

def review_form(page, rtype, rid):
    """The hidden fields of the review form of one report on a KPM page."""
    for form in re.findall(r'<form class="review" method="post" action="/review">(.*?)</form>',
                           page, re.S):
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
        if fields.get("type") == rtype and fields.get("id") == str(rid):
            return fields
    raise AssertionError("no review form for %s %s" % (rtype, rid))


def reviews_of(env, rtype, rid):
    return env.sql("SELECT status, COALESCE(note, 'NULL') FROM reviews WHERE report_type = %s"
                   " AND report_id = %d ORDER BY id" % (sq(rtype), rid))


def review_audits(env, user, rtype, rid):
    return count(env, "SELECT COUNT(*) FROM audit_log WHERE actor = %s AND action LIKE 'review.%%'"
                      " AND target_type = %s AND target_id = %d" % (sq(user), sq(rtype), rid))


def test_review_commit_lost_writes_one_review_and_one_audit_row(env):
    """After 2013 on COMMIT the review job ran again: a second reviews row and a second
    audit_log row for one click."""
    with faulty(env, "commit_lost:admin_review=1", "idem-review") as k, Data(env) as d:
        user, pw = make_user(env, k)
        kid = d.kpm("Ulang %s Tinjau" % d.tag)
        rid = d.business(kid)
        b, _ = login(k, user, pw)
        form = review_form(b.get("/kpm?id=%d" % kid).text, "business", rid)
        form.update(status="reviewed", note="dicek %s" % d.tag)
        r = b.post("/review", form)
        assert r.status == 303 and r.header("Location") == "/kpm?id=%d#r-business-%d" % (kid, rid), r
        assert _fired(k, "commit_lost:admin_review") == 1, "the fault did not fire"
        assert reviews_of(env, "business", rid) == [["reviewed", "dicek %s" % d.tag]], \
            reviews_of(env, "business", rid)
        assert review_audits(env, user, "business", rid) == 1


def test_review_form_sent_twice_writes_one_review(env):
    """A double click, or a form sent again from the browser's history: the form's nonce makes
    the second one answer as the first and write nothing; the same form with another verdict
    is refused; a freshly rendered form is a new review."""
    with Kabard(env, name="idem-nonce") as k, Data(env) as d:
        user, pw = make_user(env, k)
        kid = d.kpm("Dua %s Kali" % d.tag)
        rid = d.business(kid)
        b, _ = login(k, user, pw)
        form = review_form(b.get("/kpm?id=%d" % kid).text, "business", rid)
        assert re.match(r"^[0-9a-f]{32}$", form.get("nonce", "")), form
        form.update(status="follow_up", note="")
        first, second = b.post("/review", form), b.post("/review", form)
        for r in (first, second):
            assert r.status == 303 and r.header("Location") == "/kpm?id=%d#r-business-%d" % (kid, rid), r
        assert reviews_of(env, "business", rid) == [["follow_up", "NULL"]], reviews_of(env, "business", rid)
        assert review_audits(env, user, "business", rid) == 1
        form["status"] = "reviewed"
        r = b.post("/review", form)
        assert r.status == 409, r
        assert len(reviews_of(env, "business", rid)) == 1
        # two forms of one page have their own nonces; a new page, new ones
        page = b.get("/kpm?id=%d" % kid).text
        nonces = re.findall(r'name="nonce" value="([0-9a-f]{32})"', page)
        assert len(nonces) == len(set(nonces)) >= 1 and form["nonce"] not in nonces, nonces
        again = review_form(page, "business", rid)
        again.update(status="reviewed", note="")
        assert b.post("/review", again).status == 303
        assert reviews_of(env, "business", rid) == [["follow_up", "NULL"], ["reviewed", "NULL"]]
        assert review_audits(env, user, "business", rid) == 2


# ---------------------------------------------------------------- reviews: the API

def api_review(k, token, body, key=None):
    h = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    if key is not None:
        h["Idempotency-Key"] = key
    return raw_request(k.admin_port, "POST", "/api/v1/reviews", json.dumps(body).encode(), h)


def test_api_review_commit_lost_writes_one_review_and_one_audit_row(env):
    """POST /api/v1/reviews re-run after a lost COMMIT: one review, one audit row, and the 201
    the first run would have sent; with an Idempotency-Key, and without one (the request keeps
    a key of its own). Lost twice in a row, too."""
    with Data(env) as d:
        for fault, key in (("commit_lost:api_review=1", None), ("commit_lost:api_review=1", "k-" + d.tag),
                           ("commit_lost:api_review=2", None)):
            with faulty(env, fault, "idem-api") as k:
                user, _ = make_user(env, k)
                tok = make_token(env, k, user)
                kid = d.kpm("Api %s Ulang" % d.tag)
                rid = d.help(kid)
                r = api_review(k, tok, {"type": "help", "id": rid, "status": "note", "note": "x"}, key)
                assert r.status == 201 and r.json() == {"result": "recorded", "kpm_id": kid}, (fault, key, r)
                assert _fired(k, fault.split("=")[0]) == int(fault[-1]), "the fault did not fire"
                assert reviews_of(env, "help", rid) == [["note", "x"]], (fault, key, reviews_of(env, "help", rid))
                assert review_audits(env, user, "help", rid) == 1, (fault, key)


def test_api_review_idempotency_key_answers_a_repeat_as_the_first(env):
    """A client that retries with its Idempotency-Key gets the first answer and writes nothing;
    the key is the reviewer's own (another user's same key is another review), bounded and
    printable; reused for another review it is refused; without it each POST is a review."""
    with Kabard(env, name="idem-apikey") as k, Data(env) as d:
        user, _ = make_user(env, k)
        other, _ = make_user(env, k)
        tok, otok = make_token(env, k, user), make_token(env, k, other)
        kid = d.kpm("Kunci %s Api" % d.tag)
        rid = d.attendance(kid)
        body = {"type": "attendance", "id": rid, "status": "follow_up", "note": "telepon"}
        key = "3f2a-%s-%s" % (d.tag, "u" * 40)
        first = api_review(k, tok, body, key)
        assert first.status == 201, first
        for _ in range(2):
            r = api_review(k, tok, body, key)
            assert (r.status, r.body) == (first.status, first.body), r
        assert reviews_of(env, "attendance", rid) == [["follow_up", "telepon"]]
        assert review_audits(env, user, "attendance", rid) == 1
        # the same key for another review: refused, nothing written
        r = api_review(k, tok, dict(body, status="reviewed"), key)
        assert r.status == 422 and "Idempotency-Key" in r.json()["error"], r
        assert len(reviews_of(env, "attendance", rid)) == 1
        # another reviewer's key space is their own
        r = api_review(k, otok, body, key)
        assert r.status == 201, r
        assert len(reviews_of(env, "attendance", rid)) == 2
        # bounded (64) and printable ASCII
        for bad in ("x" * 65, "caf\u00e9".encode("utf-8").decode("latin-1"), "a\tb", ""):
            r = api_review(k, tok, dict(body, status="reviewed"), bad)
            assert r.status == 400 and "Idempotency-Key" in r.json()["error"], (bad, r)
        assert api_review(k, tok, dict(body, status="reviewed"), "k" * 64).status == 201
        assert len(reviews_of(env, "attendance", rid)) == 3
        # without a key no key is derived: two POSTs are two reviews
        for _ in range(2):
            assert api_review(k, tok, dict(body, status="reviewed")).status == 201
        assert len(reviews_of(env, "attendance", rid)) == 5
        assert review_audits(env, user, "attendance", rid) == 4


# ---------------------------------------------------------------- login, logout, queue filter

def test_login_commit_lost_counts_a_wrong_password_once(env):
    """A failed login re-run after a lost COMMIT counted twice, so lockout_failures = 2 locked
    the account after one wrong password; an unknown name wrote two audit rows."""
    conf = admin_conf(env, lockout_failures="2")
    with faulty(env, "commit_lost:admin_login=1", "idem-loginfail", conf) as k:
        user, pw = make_user(env, k)
        login(k, user, "wrong-password-1", expect=401)
        assert _fired(k, "commit_lost:admin_login") == 1, "the fault did not fire"
        assert env.sql("SELECT failed_logins, locked_until IS NULL FROM admin_users WHERE username = %s"
                       % sq(user)) == [["1", "1"]], "one wrong password counted twice, or locked"
        assert audit_count(env, user, "login.failed") == 1
        assert audit_count(env, user, "login.locked") == 0
    with faulty(env, "commit_lost:admin_login=1", "idem-loginfail", conf) as k:
        unknown = audit_count(env, "-", "login.unknown")
        login(k, "nobody-" + rand_tag(), "whatever-123", expect=401)
        assert _fired(k, "commit_lost:admin_login") == 1, "the fault did not fire"
        assert audit_count(env, "-", "login.unknown") == unknown + 1
        # the count goes on from one: the second wrong password locks, and the lock holds
        login(k, user, "wrong-password-2", expect=401)
        assert env.sql("SELECT failed_logins, locked_until > NOW(3) FROM admin_users WHERE username = %s"
                       % sq(user)) == [["2", "1"]]
        login(k, user, pw, expect=401)
        assert audit_count(env, user, "login.failed") == 2
        assert audit_count(env, user, "login.locked") == 1


def test_login_commit_lost_creates_one_session(env):
    """A successful login re-run after a lost COMMIT created a second session (and audit row);
    the browser got the second cookie and the first session was left behind."""
    with faulty(env, "commit_lost:admin_login=1", "idem-login") as k:
        user, pw = make_user(env, k)
        b, r = login(k, user, pw)
        assert _fired(k, "commit_lost:admin_login") == 1, "the fault did not fire"
        rows = env.sql("SELECT LOWER(HEX(s.id_hash)) FROM admin_sessions s JOIN admin_users u"
                       " ON u.id = s.user_id WHERE u.username = %s" % sq(user))
        assert rows == [[hashlib.sha256(b.session().encode()).hexdigest()]], rows
        assert audit_count(env, user, "login") == 1
        assert b.get("/").status == 200


def test_logout_commit_lost_ends_the_session_once(env):
    with faulty(env, "commit_lost:admin_logout=1", "idem-logout") as k:
        user, pw = make_user(env, k)
        b, _ = login(k, user, pw)
        r = b.post("/logout", {"csrf": b.csrf()})
        assert r.status == 303 and r.header("Location") == "/login", r
        assert b.session() is None, "the session cookie was not cleared"
        assert _fired(k, "commit_lost:admin_logout") == 1, "the fault did not fire"
        assert count(env, "SELECT COUNT(*) FROM admin_sessions s JOIN admin_users u ON u.id = s.user_id"
                          " WHERE u.username = %s" % sq(user)) == 0
        assert audit_count(env, user, "logout") == 1


def test_queue_filter_commit_lost_keeps_the_filter(env):
    with faulty(env, "commit_lost:admin_filter=1", "idem-filter") as k:
        user, pw = make_user(env, k)
        b, _ = login(k, user, pw)
        tag = rand_tag()
        set_filter(b, b.csrf(), q=tag, review="all")
        assert _fired(k, "commit_lost:admin_filter") == 1, "the fault did not fire"
        rows = env.sql("SELECT s.filter FROM admin_sessions s JOIN admin_users u ON u.id = s.user_id"
                       " WHERE u.username = %s" % sq(user))
        assert len(rows) == 1 and json.loads(rows[0][0])["q"] == tag, rows
        r = b.get("/queue")
        assert r.status == 200 and 'value="%s"' % tag in r.text, r


# ---------------------------------------------------------------- SMS

def test_sms_commit_lost_saves_once_and_queues_one_reply(env):
    """An SMS processed, committed, its answer lost: the re-run finds the message processed and
    answers the aggregator 200, the reply queued once; a help request, its alert once."""
    no_open_help_alert(env, SITI)
    for text, table in (("usaha buka Rp1.750.000 2", "business_reports"),
                        ("BANTUAN tolong telepon saya", "help_requests")):
        with faulty(env, "commit_lost:sms_process=1", "idem-sms") as k:
            mid, r = sms(k, text)
            assert r.status == 200, (r.status, r.text)
            assert _fired(k, "commit_lost:sms_process") == 1, "the fault did not fire"
        assert env.sql("SELECT state FROM inbound_messages WHERE provider_msg_id = %s" % sq(mid)) \
            == [["processed"]]
        assert count(env, "SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE %s"
                     % sq("reply:%:" + mid)) == 1
        rows = env.sql("SELECT id FROM %s WHERE session_id = %s" % (table, sq("sms:" + mid)))
        assert len(rows) == 1, (table, rows)
        body = reply_of(env, mid)[0]
        assert env.scalar("SELECT reply FROM inbound_messages WHERE provider_msg_id = %s" % sq(mid)) == body
        if table == "business_reports":
            assert "No. %s" % rows[0][0] in body, body
        else:
            assert count(env, "SELECT COUNT(*) FROM alerts WHERE dedupe_key = %s"
                         % sq("help:" + rows[0][0])) == 1


def test_sms_store_lost_answer_stores_one_message_and_answers_once(env):
    """The raw SMS is stored in autocommit before it is acted on: an INSERT whose answer is
    lost is re-run, finds its own row and goes on; one message, one report, one reply."""
    with faulty(env, "link:sms_store=1", "idem-smsstore") as k:
        mid, r = sms(k, "usaha tutup")
        assert r.status == 200, (r.status, r.text)
        assert _fired(k, "link:sms_store") == 1, "the fault did not fire"
        assert env.sql("SELECT state FROM inbound_messages WHERE provider_msg_id = %s" % sq(mid)) \
            == [["processed"]]
        assert count(env, "SELECT COUNT(*) FROM business_reports WHERE session_id = %s" % sq("sms:" + mid)) == 1
        assert count(env, "SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE %s"
                     % sq("reply:%:" + mid)) == 1


def test_export_audit_lost_answer_writes_one_audit_row(env):
    """An export's audit row is written in autocommit; its INSERT's answer lost, the job ran
    again and wrote a second 'export' row for one download."""
    with faulty(env, "link:export_audit=1", "idem-export") as k:
        user, pw = make_user(env, k)
        b, _ = login(k, user, pw)
        r = b.get("/export/reports.csv")
        assert r.status == 200, r
        assert r.body.startswith(b"\xef\xbb\xbf"), r.body[:20]
        assert _fired(k, "link:export_audit") == 1, "the fault did not fire"
    assert audit_count(env, user, "export") == 1


# ---------------------------------------------------------------- the alerts tick

def test_alerts_tick_commit_lost_raises_and_sends_each_alert_once(env):
    clean(env, [401])
    d = day(env)
    now = "%s 03:00:00" % d
    report(env, 401, 3, None, "%s 02:00:00" % d)
    extra = {"daily_cap": 1000}  # what earlier tests sent the assistant today does not count
    with faulty(env, "commit_lost:alerts_tick=1", "idem-alerts", alerts_conf(env, now, extra)) as k:
        with open(k.conf, "w") as f:
            f.write(alerts_conf(env, "%s 03:01:00" % d, extra))
        k.send_signal(signal.SIGHUP)
        wait_for(lambda: "event=alerts_tick " in k.logtext(), what="an alerts tick")
        assert _fired(k, "commit_lost:alerts_tick") == 1, "the fault did not fire"
        assert "event=alerts_tick_failed" not in k.logtext()
        rows = alerts_of(env, 401, "business_closed")
        assert len(rows) == 1 and rows[0][1] == "sent", rows
        assert len(alert_sms(env, rows[0][0])) == 1
        assert count(env, "SELECT COUNT(*) FROM outbox WHERE idempotency_key = %s"
                     % sq("alert:" + rows[0][0])) == 1
        assert count(env, "SELECT COUNT(*) FROM alert_messages WHERE alert_id = %s" % rows[0][0]) == 1
        # the re-run found nothing left to send, yet the sender was woken for what the first sent
        wait_for(lambda: env.scalar("SELECT o.state FROM alert_messages m JOIN outbox o"
                                    " ON o.id = m.outbox_id WHERE m.alert_id = %s" % rows[0][0]) == "sent",
                 what="the alert SMS sent")


# ---------------------------------------------------------------- the outbox's outcomes

def test_outbox_results_commit_lost_records_each_outcome_once(env):
    """Outcomes are recorded in batches, one transaction each: a batch re-run after its COMMIT
    changes nothing (each UPDATE wants the row still 'sending' under its claim's token). A
    deferral by the recipient limit is not an attempt, and stays so after the re-run."""
    _queue(env, "idres", 4)
    env.sql("UPDATE outbox SET recipient = '+628140000001' WHERE idempotency_key = 'idres-2'")
    outbox = "  poll_ms = 50; claim_timeout = 5; per_recipient_per_minute = 1;"
    with FakeAT() as fake:
        conf = fake_at_config(env, fake, outbox)
        with faulty(env, "commit_lost:outbox_results=1", "idem-results", conf) as k:
            wait_for(lambda: _fired(k, "commit_lost:outbox_results") == 1, what="the fault")
            wait_for(lambda: env.scalar("SELECT COUNT(*) FROM outbox WHERE state = 'sent'") == "3",
                     timeout=20, step=0.2, what="3 sent")
            wait_for(lambda: env.scalar("SELECT COUNT(*) FROM outbox WHERE state = 'queued'"
                                        " AND claim_token IS NULL") == "1", what="1 deferred")
            assert "event=outbox_outcome_not_recorded" not in k.logtext()
            rows = env.sql("SELECT state, attempts, provider_msg_id IS NOT NULL FROM outbox ORDER BY id")
        assert sorted(rows) == [["queued", "0", "0"]] + [["sent", "1", "1"]] * 3, rows
        bodies = sorted(m for (_, m, _) in fake.sent())
        assert len(bodies) == 3 == len(set(bodies)), bodies


# ---------------------------------------------------------------- the users CLI

def test_users_cli_commit_lost_creates_one_user_and_one_token(env):
    """`kabard user add` re-run after a lost COMMIT found the user it had just created: it said
    "updated", and wrote a second audit row; `user token` stored a second token and printed it,
    leaving the first one live in the table."""
    _need_faults(env)
    k = Kabard(env, name="idem-users")  # its configuration file only: the CLI runs alone
    name = "it-idem-" + rand_tag()
    envv = dict(os.environ, KABAR_FAULTS="commit_lost:users=1")
    r = subprocess.run([env.kabard, "-c", k.conf, "user", "add", name, "--role", "admin"],
                       input="pw-" + rand_tag(12) + "\n", capture_output=True, text=True, timeout=30, env=envv)
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert "point=commit_lost:users " in r.stderr, "the fault did not fire: " + r.stderr
    assert r.stdout.strip() == "created " + name, r.stdout
    assert count(env, "SELECT COUNT(*) FROM admin_users WHERE username = %s" % sq(name)) == 1
    assert audit_count(env, "cli", "user.add", " AND detail = %s" % sq(name)) == 1
    assert audit_count(env, "cli", "user.update", " AND detail = %s" % sq(name)) == 0
    r = subprocess.run([env.kabard, "-c", k.conf, "user", "token", name],
                       capture_output=True, text=True, timeout=30, env=envv)
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert "point=commit_lost:users " in r.stderr, "the fault did not fire: " + r.stderr
    tok = r.stdout.strip()
    rows = env.sql("SELECT LOWER(HEX(t.token_hash)) FROM api_tokens t JOIN admin_users u"
                   " ON u.id = t.user_id WHERE u.username = %s" % sq(name))
    assert rows == [[hashlib.sha256(tok.encode()).hexdigest()]], rows
    assert audit_count(env, "cli", "token.add", " AND detail = %s" % sq(name)) == 1


def test_ussd_save_commit_lost_saves_one_report_with_the_number_shown(env):
    """A USSD report committed, its answer lost: the re-run finds the session's report by
    (channel, session id) and the final screen shows that report's number; one row."""
    from test_ussd import AT, saved_number
    with faulty(env, "commit_lost:ussd_save=1", "idem-ussd") as k:
        s = AT(k)
        last = s.walk("1*1*1*2500000*2*5*1")[-1]
        assert last[0] == "END", last
        assert _fired(k, "commit_lost:ussd_save") == 1, "the fault did not fire"
    rows = env.sql("SELECT id FROM business_reports WHERE session_id = %s" % sq(s.sid))
    assert len(rows) == 1, rows
    assert saved_number(last[1]) == rows[0][0], (last, rows)


def test_ussd_drafts_commit_lost_keeps_one_draft_and_offers_it(env):
    """A draft written behind, its COMMIT's answer lost: the re-run upserts the same row, and a
    redial is offered the report to continue."""
    from test_ussd import AT
    with faulty(env, "commit_lost:ussd_drafts=1", "idem-draft") as k:
        s = AT(k)
        s.walk("1*1*1")
        s.end("Incomplete")
        wait_for(lambda: _fired(k, "commit_lost:ussd_drafts") == 1, timeout=10,
                 what="the draft write's lost commit")
        wait_for(lambda: count(env, "SELECT COUNT(*) FROM ussd_drafts WHERE msisdn = %s"
                               % sq(s.phone)) == 1, timeout=10, what="one draft row")
        kind, screen = AT(k).start()
        assert kind == "CON" and "1" in screen and "2" in screen, screen
        assert "Lanjutkan" in screen or "Continue" in screen, screen
