"""SMS end to end: keyword reports in, replies out through the durable outbox, against the real
kabard and MariaDB, a fake Africa's Talking send API, and a real Kannel."""
import itertools
import os
import re
import signal
import tempfile
import time
import urllib.parse

from fakeagg import FakeAT
from kabartest import Kabard, http, wait_for

_mid = itertools.count(1)
SITI = "+628120000001"
PROVIDERS_LOG = 'providers = (\n  { name = "log"; type = "log"; }\n);'
DEMO_PROVIDER = '    provider = "log";           # replies to this channel\'s SMS go out through it'


def new_mid(tag="ATXmo"):
    return "%s_%d_%d" % (tag, os.getpid(), next(_mid))


def at_sms(k, frm, text, mid=None, token="demo"):
    mid = mid or new_mid()
    r = k.post("/c/at/%s/sms" % token, {"from": frm, "to": "12345", "text": text, "id": mid,
                                         "date": "2026-11-29 10:00:00", "linkId": "x",
                                         "networkCode": "51010"})
    return mid, r


def reply_of(env, mid):
    rows = env.sql("SELECT o.body, o.state, o.recipient FROM inbound_messages i JOIN outbox o"
                   " ON o.idempotency_key = CONCAT('reply:', i.channel, ':', i.provider_msg_id)"
                   " WHERE i.provider_msg_id = '%s'" % mid)
    assert len(rows) == 1, rows
    return rows[0]


def sayer(env, k, frm):
    """One SMS from frm and the reply to it, for a dialog."""
    def say(text, mid=None):
        mid, r = at_sms(k, frm, text, mid)
        assert r.status == 200, r.status
        return reply_of(env, mid)[0]
    return say


def fake_at_config(env, fake, extra_outbox="", rate=50, concurrency=8):
    d = tempfile.mkdtemp(dir=env.tmp)
    key = os.path.join(d, "at.key")
    with open(key, "w") as f:
        f.write(fake.api_key + "\n")
    providers = ('providers = (\n  { name = "log"; type = "log"; },\n'
                 '  { name = "at"; type = "at"; url = "%s"; username = "sandbox";'
                 ' secret_file = "%s"; sender = "KABAR"; rate = %d; concurrency = %d; timeout = 3; }\n);'
                 % (fake.url, key, rate, concurrency))
    conf = env.config(replace={PROVIDERS_LOG: providers, DEMO_PROVIDER: '    provider = "at";'})
    if extra_outbox:
        conf = re.sub(r"outbox = \{.*?\n\};", "outbox = {\n%s\n};" % extra_outbox, conf, flags=re.S)
    return conf


def test_sms_business_report_is_saved_and_answered(env):
    with Kabard(env) as k:
        mid, r = at_sms(k, SITI, "usaha buka Rp2.500.000 3")
        assert r.status == 200, (r.status, r.text)
        row = env.sql("SELECT status, revenue, workers, source FROM business_reports"
                      " WHERE session_id = 'sms:%s'" % mid)
        assert row == [["1", "2500000", "3", "sms"]], row
        body, state, to = reply_of(env, mid)
        assert "tersimpan" in body and to == SITI, body
        rid = env.scalar("SELECT id FROM business_reports WHERE session_id = 'sms:%s'" % mid)
        assert "No. %s" % rid in body, body
        # the log provider "sends" it: the sender marks the row sent by itself
        wait_for(lambda: reply_of(env, mid)[1] == "sent", what="reply sent")


def test_sms_retried_callback_changes_nothing(env):
    with Kabard(env) as k:
        mid, r1 = at_sms(k, "+628120000300", "USAHA TUTUP")
        _, r2 = at_sms(k, "+628120000300", "USAHA TUTUP", mid=mid)
        assert r1.status == r2.status == 200
        assert env.scalar("SELECT COUNT(*) FROM inbound_messages WHERE provider_msg_id='%s'" % mid) == "1"
        assert env.scalar("SELECT COUNT(*) FROM business_reports WHERE session_id='sms:%s'" % mid) == "1"
        assert env.scalar("SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE 'reply:%%:%s'" % mid) == "1"


def test_sms_every_message_gets_an_answer(env):
    cases = [
        (SITI, "halo apa kabar", "USAHA BUKA"),                 # not a keyword: usage
        (SITI, "USAHA BUKA", "Format: USAHA"),                  # keyword, revenue missing
        (SITI, "hadir", "HADIR <kode"),                         # code missing
        (SITI, "ABSEN 4821 9", "ABSEN <kode>"),                 # reason out of range
        (SITI, "HADIR 9999", "tidak cocok"),                    # not a code of her trainings
        (SITI, "info", "Kabar melayani"),
        ("+628120000002", "HELP please call me", "will call you"),  # English speaker, English
        ("+628999000111", "USAHA BUKA 2500000 3", "belum terdaftar"),  # unknown number
        (SITI, "ok 57", "Kabar:"),                               # a KPM's "ok" is no ack
    ]
    with Kabard(env) as k:
        for frm, text, want in cases:
            mid, r = at_sms(k, frm, text)
            assert r.status == 200, (text, r.status)
            body = reply_of(env, mid)[0]
            assert want in body, (text, body)
        # the unknown number learned nothing about anyone
        body = reply_of(env, mid)[0]
        assert "Siti" not in body and "+62" not in body


def test_sms_attendance_by_code(env):
    with Kabard(env) as k:
        mid, _ = at_sms(k, SITI, "Hadir 4821")
        assert env.sql("SELECT training_id, attended, source FROM attendance_reports"
                       " WHERE session_id='sms:%s'" % mid) == [["1", "1", "sms"]]
        title = env.scalar("SELECT title FROM trainings WHERE id = 1")
        assert title in reply_of(env, mid)[0]
        mid, _ = at_sms(k, SITI, "ABSEN 4821 2")
        assert env.sql("SELECT attended, reason FROM attendance_reports"
                       " WHERE session_id='sms:%s'" % mid) == [["0", "2"]]


def no_open_help_alert(env, msisdn):
    """An alert of this KPM's inside the window would hold back the one the test looks for."""
    env.sql("UPDATE alerts a JOIN kpm k ON k.id = a.kpm_id SET a.state = 'expired'"
            " WHERE k.msisdn = '%s' AND a.rule = 'help_requested'" % msisdn)


def test_sms_help_request_alerts_the_assistant(env):
    no_open_help_alert(env, SITI)
    with Kabard(env) as k:
        mid, _ = at_sms(k, SITI, "BANTUAN modal saya habis, tolong telepon")
        row = env.sql("SELECT id, topic, text, assistant_id FROM help_requests WHERE session_id='sms:%s'" % mid)
        assert len(row) == 1 and row[0][2] == "modal saya habis, tolong telepon", row
        assert env.scalar("SELECT rule FROM alerts WHERE dedupe_key='help:%s'" % row[0][0]) == "help_requested"
        name = env.scalar("SELECT name FROM assistants WHERE id = %s" % row[0][3])
        assert name in reply_of(env, mid)[0]


def test_sms_stop_and_mulai(env):
    with Kabard(env) as k:
        at_sms(k, "+628120000310", "STOP")
        assert env.scalar("SELECT reminders FROM kpm WHERE msisdn='+628120000310'") == "0"
        at_sms(k, "+628120000310", "mulai")
        assert env.scalar("SELECT reminders FROM kpm WHERE msisdn='+628120000310'") == "1"


def test_sms_ok_acknowledges_only_the_assistants_own_alert(env):
    no_open_help_alert(env, SITI)
    with Kabard(env) as k:
        mid, _ = at_sms(k, SITI, "BANTUAN tolong")
        hid = env.scalar("SELECT id FROM help_requests WHERE session_id='sms:%s'" % mid)
        alert, owner = env.sql("SELECT id, assistant_id FROM alerts WHERE dedupe_key='help:%s'" % hid)[0]
        own = env.scalar("SELECT msisdn FROM assistants WHERE id = %s" % owner)
        other = env.scalar("SELECT msisdn FROM assistants WHERE id <> %s LIMIT 1" % owner)
        for frm in (SITI, other):               # the KPM herself, another assistant
            m2, _ = at_sms(k, frm, "OK %s" % alert)
            assert env.scalar("SELECT state FROM alerts WHERE id=%s" % alert) == "new", frm
        assert "Tidak ada peringatan" in reply_of(env, m2)[0]
        m3, _ = at_sms(k, own, "ok %s" % alert)
        assert env.scalar("SELECT state FROM alerts WHERE id=%s" % alert) == "acknowledged"
        assert alert in reply_of(env, m3)[0]


def test_sms_database_down_asks_the_aggregator_to_retry(env):
    with Kabard(env, conf_text=env.config(socket="/nonexistent/mysql.sock")) as k:
        wait_for(lambda: k.get("/healthz").status == 503, what="db down")
        _, r = at_sms(k, SITI, "USAHA TUTUP")
        assert r.status == 503, r.status


def test_outbox_sends_through_africas_talking_and_follows_delivery_reports(env):
    with FakeAT() as fake:
        with Kabard(env, conf_text=fake_at_config(env, fake)) as k:
            mid, _ = at_sms(k, SITI, "USAHA TUTUP")
            req = fake.wait_count(1)[0]
            assert req["headers"].get("apiKey") == fake.api_key, req["headers"]
            assert req["form"]["to"] == SITI and "tersimpan" in req["form"]["message"], req["form"]
            assert req["form"]["username"] == "sandbox" and req["form"]["from"] == "KABAR"
            wait_for(lambda: reply_of(env, mid)[1] == "sent", what="sent")
            msgid = env.scalar("SELECT o.provider_msg_id FROM outbox o WHERE o.idempotency_key LIKE 'reply:%%:%s'" % mid)
            assert msgid.startswith("ATXid_"), msgid

            def dlr(status, msg=msgid):
                return k.post("/c/at/demo/dlr", {"id": msg, "status": status, "phoneNumber": SITI,
                                                  "networkCode": "51010", "retryCount": "0"})
            assert dlr("Buffered").status == 200
            assert reply_of(env, mid)[1] == "sent"          # interim: no change
            assert dlr("Success").status == 200
            assert reply_of(env, mid)[1] == "delivered"
            assert dlr("Failed").status == 200               # late and out of order
            assert reply_of(env, mid)[1] == "delivered"      # a final state never goes back
            assert dlr("Success", msg="ATXid_unknown").status == 200
            assert "event=dlr_unmatched" in k.logtext()


def test_outbox_retries_transient_failures_with_backoff(env):
    outbox = ("  backoff_min = 1; backoff_max = 4; max_age = 3600; poll_ms = 50;"
              " per_recipient_per_minute = 50;")
    with FakeAT() as fake:
        fake.fail_next(2, status=500)
        with Kabard(env, conf_text=fake_at_config(env, fake, outbox)) as k:
            mid, _ = at_sms(k, SITI, "USAHA BELUM")
            wait_for(lambda: reply_of(env, mid)[1] == "sent", timeout=20, what="sent after retries")
            reqs = fake.wait_count(3)
            gaps = [reqs[i + 1]["time"] - reqs[i]["time"] for i in range(2)]
            # 1 s then 2 s, each with +-25 % jitter: the second wait is the longer one
            assert gaps[0] >= 0.7 and gaps[1] >= 1.4 and gaps[1] > gaps[0], gaps
            assert env.scalar("SELECT attempts FROM outbox WHERE idempotency_key LIKE 'reply:%%:%s'" % mid) == "3"
            assert "kabar_outbox_retries_total 2" in k.get("/metrics").text


def test_outbox_permanent_failures_fail_at_once_and_405_raises_an_alarm(env):
    with FakeAT() as fake:
        fake.permanent_next(1, code=403)
        with Kabard(env, conf_text=fake_at_config(env, fake)) as k:
            mid, _ = at_sms(k, SITI, "USAHA BELUM")
            wait_for(lambda: reply_of(env, mid)[1] == "failed", what="failed")
            err = env.scalar("SELECT last_error FROM outbox WHERE idempotency_key LIKE 'reply:%%:%s'" % mid)
            assert "403" in err, err
            assert len(fake.requests) == 1
            fake.permanent_next(1, code=405)
            mid, _ = at_sms(k, SITI, "USAHA LIBUR")
            wait_for(lambda: reply_of(env, mid)[1] == "failed", what="failed 405")
            assert "kabar_outbox_alarms_total 1" in k.get("/metrics").text
            assert "event=outbox_alarm" in k.logtext()


def test_reply_texts_longer_than_the_segment_limit_are_refused_at_load(env):
    """A reply that cannot be sent whole is a configuration error, not a surprise at 2 a.m."""
    import subprocess
    conf = env.config().replace("  max_segments = 3;", "  max_segments = 1;")
    k = Kabard(env, conf_text=conf)
    r = subprocess.run([env.kabard, "-t", "-c", k.conf], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert "keywords.conf:0: replies." in r.stderr and "does not fit 1 SMS part" in r.stderr, r.stderr


def test_outbox_per_recipient_limit_holds(env):
    outbox = "  per_recipient_per_minute = 2; poll_ms = 50;"
    with FakeAT() as fake:
        with Kabard(env, conf_text=fake_at_config(env, fake, outbox)) as k:
            mids = [at_sms(k, "+628120000320", "USAHA BELUM")[0] for _ in range(4)]
            fake.wait_count(2)
            time.sleep(1.0)
            assert len(fake.requests) == 2, len(fake.requests)
            held = env.sql("SELECT state, next_attempt_at > NOW(3) + INTERVAL 30 SECOND FROM outbox"
                           " WHERE recipient='+628120000320' AND state = 'queued'")
            assert held == [["queued", "1"], ["queued", "1"]], held
            assert "kabar_outbox_deferred_total" in k.get("/metrics").text
            assert mids


def test_outbox_provider_rate_limit_holds(env):
    env.sql("DELETE FROM outbox")
    n = 30
    env.sql("INSERT INTO outbox (idempotency_key, recipient, body, purpose, provider, next_attempt_at,"
            " segments, encoding) SELECT CONCAT('rate-', seq), CONCAT('+62812', LPAD(1000 + seq, 7, '0')),"
            " 'Pengingat', 'reminder', 'at', NOW(3), 1, 'gsm7' FROM seq_1_to_%d" % n)
    with FakeAT() as fake:
        with Kabard(env, conf_text=fake_at_config(env, fake, "  poll_ms = 50;", rate=10)) as k:
            reqs = fake.wait_count(n, timeout=30)
            times = sorted(r["time"] for r in reqs)
            # a burst of at most one second's worth, then 10 a second
            for i in range(len(times)):
                in_window = [t for t in times if times[i] <= t < times[i] + 1.0]
                assert len(in_window) <= 2 * 10 + 1, (i, len(in_window))
            assert times[-1] - times[0] >= (n - 10) / 10 * 0.8, times[-1] - times[0]
            assert k


def test_outbox_crash_recovery_kill_9_with_1000_queued(env):
    """kill -9 in the middle of a drain; after a restart every message is delivered."""
    env.sql("DELETE FROM outbox")
    n = 1000
    env.sql("INSERT INTO outbox (idempotency_key, recipient, body, purpose, provider, next_attempt_at,"
            " segments, encoding) SELECT CONCAT('crash-', seq), CONCAT('+62813', LPAD(seq, 7, '0')),"
            " CONCAT('Pesan ', seq), 'reminder', 'at', NOW(3), 1, 'gsm7' FROM seq_1_to_%d" % n)
    outbox = ("  batch = 50; poll_ms = 20; claim_timeout = 5; per_recipient_per_minute = 5;")
    with FakeAT() as fake:
        fake.delay(0.01)
        conf = fake_at_config(env, fake, outbox, rate=400, concurrency=16)
        k = Kabard(env, conf_text=conf, name="crash").start()
        fake.wait_count(200, timeout=30)
        k.proc.send_signal(signal.SIGKILL)
        k.proc.wait()
        sending = int(env.scalar("SELECT COUNT(*) FROM outbox WHERE state = 'sending'"))
        with Kabard(env, conf_text=conf, name="after") as k2:
            wait_for(lambda: env.scalar("SELECT COUNT(*) FROM outbox WHERE state = 'sent'") == str(n),
                     timeout=90, step=0.5, what="all %d sent" % n)
            assert k2
        delivered = {m for (_, m, _) in fake.sent()}
        assert len(delivered) == n, len(delivered)
        dupes = len(fake.sent()) - n
        # at least once: only what was in flight or claimed at the kill can go twice
        assert dupes <= sending + 16, (dupes, sending)


def test_kannel_mo_reply_and_delivery_report_through_a_real_kannel(env):
    from kannel import Kannel
    k0 = Kabard(env)
    kport = __import__("kabartest").free_port()
    base = "http://127.0.0.1:%d/c/kannel/demo-kannel" % kport
    get_url = base + "/sms?from=%p&to=%P&text=%a&id=%I&smsc=%i&time=%T"
    with Kannel(os.path.join(k0.dir, "kannel"), get_url) as kannel:
        secret = os.path.join(k0.dir, "kannel.pw")
        with open(secret, "w") as f:
            f.write(kannel.sendsms_password + "\n")
        providers = ('providers = (\n  { name = "log"; type = "log"; },\n'
                     '  { name = "kannel"; type = "kannel"; url = "%s"; username = "%s";'
                     ' secret_file = "%s"; sender = "KABAR"; dlr_url = "%s/dlr"; }\n);'
                     % (kannel.sendsms_url, kannel.sendsms_user, secret, base))
        conf = env.config(port=kport, replace={PROVIDERS_LOG: providers,
                                               '    protocol = "kannel";\n    provider = "log";':
                                               '    protocol = "kannel";\n    provider = "kannel";'})
        with Kabard(env, conf_text=conf) as k:
            kannel.inject_mo("+628120000330", "usaha buka 1.500.000 2")
            mt = kannel.wait_mt(lambda m: m["to"].endswith("8120000330"), timeout=15)
            assert "tersimpan" in mt["text"], mt
            row = env.sql("SELECT revenue, workers FROM business_reports WHERE msisdn='+628120000330'"
                          " AND source='sms' ORDER BY id DESC LIMIT 1")
            assert row == [["1500000", "2"]], row
            oid = env.scalar("SELECT id FROM outbox WHERE recipient='+628120000330' ORDER BY id DESC LIMIT 1")
            wait_for(lambda: env.scalar("SELECT state FROM outbox WHERE id=%s" % oid) == "sent", what="sent")
            kannel.send_dlr(mt, status=1)
            wait_for(lambda: env.scalar("SELECT state FROM outbox WHERE id=%s" % oid) == "delivered",
                     what="delivered by Kannel's DLR")
            # the same MO again (smsbox retry, same %I) changes nothing
            assert env.scalar("SELECT COUNT(*) FROM inbound_messages WHERE msisdn_from='+628120000330'") == "1"
            assert k


def test_sms_bare_usaha_runs_the_business_dialog_one_question_per_sms(env):
    frm = "+628120000340"
    with Kabard(env) as k:
        say = sayer(env, k, frm)
        assert "Usaha Anda" in say("USAHA") and "1 Berjalan" in say("usaha")  # restart is fine
        assert "Jenis usaha" in say("1")
        assert "Omzet" in say("2")
        assert "Masukkan angka" in say("dua juta")            # re-asked with a reason
        assert "pekerja" in say("2500000").lower()
        assert "Kendala" in say("3")
        summary = say("1")
        assert "Rp2.500.000" in summary and "Kirim" in summary, summary
        assert env.scalar("SELECT COUNT(*) FROM business_reports WHERE msisdn='%s'" % frm) == "0"
        done = say("1")
        assert "tersimpan" in done, done
        row = env.sql("SELECT status, kind, revenue, workers, difficulty, source FROM business_reports"
                      " WHERE msisdn='%s'" % frm)
        assert row == [["1", "2", "2500000", "3", "1", "sms"]], row
        rid = env.scalar("SELECT id FROM business_reports WHERE msisdn='%s'" % frm)
        assert "No. %s" % rid in done
        assert env.scalar("SELECT COUNT(*) FROM sms_dialogs WHERE msisdn='%s'" % frm) == "0"
        # afterwards a plain answer is no longer part of a dialog: usage
        assert "USAHA BUKA" in say("1")


def test_sms_a_keyword_during_the_dialog_ends_it(env):
    frm = "+628120000341"
    with Kabard(env) as k:
        at_sms(k, frm, "USAHA")
        assert env.scalar("SELECT COUNT(*) FROM sms_dialogs WHERE msisdn='%s'" % frm) == "1"
        mid, _ = at_sms(k, frm, "USAHA TUTUP")
        assert "tersimpan" in reply_of(env, mid)[0]
        assert env.scalar("SELECT COUNT(*) FROM sms_dialogs WHERE msisdn='%s'" % frm) == "0"


def _queue(env, tag, n, provider="at"):
    env.sql("DELETE FROM outbox")
    env.sql("INSERT INTO outbox (idempotency_key, recipient, body, purpose, provider, next_attempt_at,"
            " segments, encoding) SELECT CONCAT('%s-', seq), CONCAT('+62814', LPAD(seq, 7, '0')),"
            " CONCAT('%s ', seq), 'reminder', '%s', NOW(3), 1, 'gsm7' FROM seq_1_to_%d"
            % (tag, tag, provider, n))


def test_outbox_rows_held_longer_than_claim_timeout_are_not_sent_twice(env):
    """Review finding: a row waiting for the rate limit past claim_timeout was reclaimed by
    the same process and sent again, without any crash."""
    _queue(env, "slow", 12)
    outbox = "  batch = 20; poll_ms = 50; claim_timeout = 5; per_recipient_per_minute = 50;"
    with FakeAT() as fake:
        with Kabard(env, conf_text=fake_at_config(env, fake, outbox, rate=2, concurrency=1)):
            wait_for(lambda: env.scalar("SELECT COUNT(*) FROM outbox WHERE state = 'sent'") == "12",
                     timeout=30, step=0.2, what="12 sent")
            time.sleep(1.0)
        bodies = [m for (_, m, _) in fake.sent()]
        assert len(bodies) == 12 and len(set(bodies)) == 12, sorted(bodies)


def test_sigterm_waits_for_sms_in_flight_and_nothing_goes_twice(env):
    """Review finding: SIGTERM dropped transfers in flight; after a restart they went again."""
    _queue(env, "term", 3)
    outbox = "  poll_ms = 50; per_recipient_per_minute = 50;"
    with FakeAT() as fake:
        fake.delay(1.5)
        conf = fake_at_config(env, fake, outbox)
        k = Kabard(env, conf_text=conf, name="term").start()
        wait_for(lambda: len(fake.requests) >= 1 or
                 env.scalar("SELECT COUNT(*) FROM outbox WHERE state = 'sending'") == "3",
                 what="sends in flight")
        time.sleep(0.3)
        assert k.stop(signal.SIGTERM) == 0
        assert env.scalar("SELECT COUNT(*) FROM outbox WHERE state = 'sent'") == "3", \
            env.sql("SELECT state, last_error FROM outbox")
        with Kabard(env, conf_text=conf, name="again"):
            time.sleep(1.0)
        assert len(fake.sent()) == 3, len(fake.sent())


def test_kannel_dlr_cannot_touch_another_providers_row(env):
    """Review finding: a Kannel DLR matched on the row id alone."""
    _queue(env, "other", 1, provider="at")
    oid = env.scalar("SELECT id FROM outbox WHERE idempotency_key = 'other-1'")
    env.sql("UPDATE outbox SET state = 'sent' WHERE id = %s" % oid)
    with Kabard(env) as k:
        r = k.get("/c/kannel/demo-kannel/dlr?id=%s&type=1" % oid)
        assert r.status == 200
        assert env.scalar("SELECT state FROM outbox WHERE id = %s" % oid) == "sent"


def test_sms_dialog_answer_delivered_twice_at_once_counts_once(env):
    """Review finding: two deliveries of one answer both appended it to the dialog's path."""
    import threading
    frm = "+628120000350"
    with Kabard(env) as k:
        at_sms(k, frm, "USAHA")
        mid = new_mid("twice")
        results = []
        threads = [threading.Thread(target=lambda: results.append(at_sms(k, frm, "1", mid=mid)[1].status))
                   for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
        assert results == [200] * 4, results
        assert env.scalar("SELECT input_path FROM sms_dialogs WHERE msisdn = '%s'" % frm) == "1*1"


def test_a_second_instance_never_takes_rows_the_first_still_holds(env):
    """Bench finding: an instance whose waiting list was full made no claims and so never
    refreshed its rows; a second instance took them after claim_timeout and sent them again."""
    _queue(env, "two", 30)
    outbox = "  batch = 10; poll_ms = 50; claim_timeout = 5; per_recipient_per_minute = 50;"
    with FakeAT() as fake:
        slow = Kabard(env, conf_text=fake_at_config(env, fake, outbox, rate=1, concurrency=1), name="slow").start()
        try:
            wait_for(lambda: env.scalar("SELECT COUNT(*) FROM outbox WHERE state = 'sending'") == "10",
                     what="the slow instance holds 10")
            with Kabard(env, conf_text=fake_at_config(env, fake, outbox, rate=1000), name="fast"):
                wait_for(lambda: env.scalar("SELECT COUNT(*) FROM outbox WHERE state = 'sent'") == "30",
                         timeout=40, step=0.2, what="30 sent")
        finally:
            slow.stop()
        bodies = [m for (_, m, _) in fake.sent()]
        assert len(bodies) == 30 and len(set(bodies)) == 30, len(bodies)


def test_outbox_a_sending_row_this_process_lost_track_of_goes_again_at_claim_timeout(env):
    """Bug (CI, stop 25): the heartbeat, which every claim runs, kept fresh each 'sending' row
    whose claim token began with this process's prefix, not only the rows it held. A row it had
    lost track of (a claim whose commit reached a Galera node only after its release had run
    there) stayed 'sending' for as long as the process ran, and was never sent. Now the heartbeat
    names the claims it holds: such a row goes stale at claim_timeout and is sent again while
    the rest still waits."""
    _queue(env, "busy", 100)
    outbox = "  batch = 10; poll_ms = 50; claim_timeout = 5; per_recipient_per_minute = 50;"
    with FakeAT() as fake:
        # five a second: the kabard holds rows for about 20 s
        with Kabard(env, conf_text=fake_at_config(env, fake, outbox, rate=5, concurrency=1)):
            token = wait_for(lambda: env.sql("SELECT claim_token FROM outbox WHERE state = 'sending'"
                                             " LIMIT 1"), what="a claim")[0][0]
            # a row under this process's prefix that it does not hold, untouched for 10 s
            env.sql("INSERT INTO outbox (idempotency_key, recipient, body, purpose, provider, state,"
                    " claim_token, attempts, next_attempt_at, updated_at, segments, encoding) VALUES"
                    " ('lost-1', '+628149999999', 'lost 1', 'reminder', 'at', 'sending', '%s', 1,"
                    " NOW(3) - INTERVAL 1 HOUR, NOW(3) - INTERVAL 10 SECOND, 1, 'gsm7')"
                    % (token[:12] + "ffffffffffff"))
            wait_for(lambda: env.scalar("SELECT state FROM outbox WHERE idempotency_key = 'lost-1'")
                     == "sent", timeout=60, step=0.2, what="the lost row sent")
            busy = int(env.scalar("SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE 'busy-%'"
                                  " AND state = 'sent'"))
            assert busy < 100, "the lost row went only once the kabard held nothing (%d sent)" % busy
            wait_for(lambda: env.scalar("SELECT COUNT(*) FROM outbox WHERE state = 'sent'") == "101",
                     timeout=60, step=0.2, what="101 sent")
        bodies = [m for (_, m, _) in fake.sent()]
        assert len(bodies) == 101 and len(set(bodies)) == 101 and "lost 1" in bodies, sorted(bodies)


def test_outbox_a_provider_answer_that_is_not_utf8_is_recorded_not_left_sending(env):
    """Bug (stop 26): a provider's answer reached last_error byte for byte, cut at a fixed
    length: a Latin-1 error page from Kannel's URL, or an Africa's Talking status cut in the
    middle of a character, is not UTF-8, MariaDB refused the outcome's UPDATE (1366), and the
    outcome was kept and retried for as long as kabard ran: the row stayed 'sending'. Now the
    text is made well-formed first, and the row ends 'failed' with a readable error."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    at_status = json.dumps({"SMSMessageData": {"Recipients": [
        {"statusCode": 403, "status": "\u00e9" * 40, "number": "+62814"}]}})

    class Answer(BaseHTTPRequestHandler):
        def _answer(self):
            if "kannel" in self.path:
                status, body = 403, b"Ditolak: \xe9t\xe9 refus\xe9 par l'op\xe9rateur\n"
            else:
                status, body = 201, at_status.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        d = tempfile.mkdtemp(dir=env.tmp)
        key = os.path.join(d, "secret")
        with open(key, "w") as f:
            f.write("secret\n")
        url = "http://127.0.0.1:%d" % srv.server_address[1]
        providers = ('providers = (\n  { name = "log"; type = "log"; },\n'
                     '  { name = "at"; type = "at"; url = "%s/at"; username = "sandbox";'
                     ' secret_file = "%s"; sender = "KABAR"; timeout = 3; },\n'
                     '  { name = "kannel"; type = "kannel"; url = "%s/kannel"; username = "k";'
                     ' secret_file = "%s"; sender = "KABAR"; timeout = 3; }\n);' % (url, key, url, key))
        conf = env.config(replace={PROVIDERS_LOG: providers})
        _queue(env, "bytes", 2, provider="at")
        env.sql("UPDATE outbox SET provider = 'kannel' WHERE idempotency_key = 'bytes-2'")
        with Kabard(env, conf_text=conf):
            wait_for(lambda: env.sql("SELECT state FROM outbox WHERE idempotency_key LIKE 'bytes-%'"
                                     " ORDER BY idempotency_key") == [["failed"], ["failed"]],
                     timeout=20, step=0.2, what="both rows failed, not left 'sending'")
        errors = [r[0] for r in env.sql("SELECT last_error FROM outbox WHERE idempotency_key"
                                        " LIKE 'bytes-%' ORDER BY idempotency_key")]
        assert errors[0].startswith("403 \u00e9\u00e9"), errors
        assert errors[1] == "HTTP 403: Ditolak: ?t? refus? par l'op?rateur", errors
    finally:
        srv.shutdown()


def test_kannel_post_url_form_is_accepted_like_get_url(env):
    with Kabard(env) as k:
        body = urllib.parse.urlencode({"from": "+628120000360", "to": "1234", "text": "USAHA BELUM",
                                       "id": "post-%d" % os.getpid(), "smsc": "operator"})
        r = k.post("/c/kannel/demo-kannel/sms", body)
        assert r.status == 200 and r.body == b"", (r.status, r.body)
        assert env.scalar("SELECT status FROM business_reports WHERE session_id = 'sms:post-%d'" % os.getpid()) == "4"
        r = k.post("/c/kannel/demo-kannel/sms", body, ctype="text/plain")
        assert r.status == 415


def test_sms_dialog_path_at_1024_bytes_then_one_more_sms(env):
    """Reliability issue: USAHA, answers that bring the stored path to 1,024 bytes, then any
    further SMS wrote one byte past the path. Now the dialog is over and the SMS gets the usage."""
    frm = "+628120000342"
    with Kabard(env) as k:
        say = sayer(env, k, frm)
        assert "Usaha Anda" in say("USAHA")
        # a wrong answer is asked again, and kept in the path: "1", "*" and 1,022 bytes
        assert "Pilihan tidak ada" in say("x" * 1022)
        path = env.scalar("SELECT input_path FROM sms_dialogs WHERE msisdn = '%s'" % frm)
        assert len(path) == 1024, len(path)
        body = say("1")
        assert body.startswith("Kabar: USAHA BUKA"), body
        assert env.scalar("SELECT COUNT(*) FROM sms_dialogs WHERE msisdn = '%s'" % frm) == "0"
        # the same from a path stored near the limit by any means, and the daemon still answers
        assert "Usaha Anda" in say("USAHA")
        env.sql("UPDATE sms_dialogs SET input_path = CONCAT('1', REPEAT('*0', 511), '*')"
                " WHERE msisdn = '%s'" % frm)
        body = say("2")
        assert body.startswith("Kabar: USAHA BUKA"), body
        # and a new dialog goes as ever
        assert "Usaha Anda" in say("USAHA") and "Jenis usaha" in say("1")


def test_sms_dialog_help_from_the_menu_is_saved(env):
    """00 in the SMS dialog leads to the main menu; a help request from there was answered with
    an empty SMS and not saved."""
    frm = "+628120000343"
    no_open_help_alert(env, frm)
    with Kabard(env) as k:
        say = sayer(env, k, frm)
        for text in ("USAHA", "00", "3", "1"):
            say(text)
        mid = new_mid()
        body = say("1", mid)
        row = env.sql("SELECT id, topic, source FROM help_requests WHERE session_id = 'sms:%s'" % mid)
        assert len(row) == 1 and row[0][1:] == ["1", "sms"], row
        assert "No. %s" % row[0][0] in body and "menghubungi" in body, body
        assert env.scalar("SELECT COUNT(*) FROM alerts WHERE dedupe_key = 'help:%s'" % row[0][0]) == "1"
        assert env.scalar("SELECT COUNT(*) FROM sms_dialogs WHERE msisdn = '%s'" % frm) == "0"
