"""Alerts for assistants and reminders for KPM: the real kabard with the scheduler's clock set
by the test (alerts.fake_now, moved with SIGHUP), the real MariaDB, SMS through the outbox."""
import os
import re
import signal
import time

from kabartest import Kabard, wait_for

ZONE_OFFSET = {"WIB": 7, "WITA": 8, "WIT": 9}


def day(env, offset_days=0):
    """A date near today (UTC), so the demo's trainings (relative to the load) stay in range."""
    return env.scalar("SELECT DATE(UTC_TIMESTAMP() + INTERVAL %d DAY)" % offset_days)


def alerts_conf(env, now, extra=None):
    extra = dict(extra or {})
    rules_off = extra.pop("rules_off", ())
    rate = extra.pop("provider_rate", None)
    text = env.config(alerts=True)
    if rate is not None:
        old = '{ name = "log"; type = "log"; }'
        assert old in text
        text = text.replace(old, '{ name = "log"; type = "log"; rate = %d; }' % rate)
    for rule in rules_off:
        old = "    %s = { enabled = true;" % rule
        assert old in text, rule
        text = text.replace(old, "    %s = { enabled = false;" % rule)
    text = text.replace('  # fake_now = "2026-12-01 08:00:00";  # tests only: the scheduler\'s clock (UTC)',
                        '  fake_now = "%s";' % now)
    text = text.replace("  tick_seconds = 60;", "  tick_seconds = 3600;")  # ticks come from SIGHUP
    for k, v in extra.items():
        text = re.sub(r"(\n  %s = )[^;]*;" % k, r"\g<1>%s;" % v, text, count=1)
    return text


class Clock:
    """A kabard whose scheduler time the test moves: rewrite fake_now, SIGHUP, wait the tick."""

    def __init__(self, env, now, extra=None, name="alerts", environ=None):
        self.env, self.extra = env, extra
        self.k = Kabard(env, conf_text=alerts_conf(env, now, extra), name=name, environ=environ)

    def __enter__(self):
        self.k.start()
        return self

    def __exit__(self, *exc):
        return self.k.__exit__(*exc)

    def ticks(self):
        log = self.k.logtext()
        if "event=alerts_tick_failed" in log:
            raise AssertionError("a tick failed: " + [l for l in log.splitlines() if "failed" in l or "error" in l][0])
        return log.count("event=alerts_tick ")

    def tick_at(self, now):
        before = self.ticks()
        with open(self.k.conf, "w") as f:
            f.write(alerts_conf(self.env, now, self.extra))
        self.k.send_signal(signal.SIGHUP)
        wait_for(lambda: self.ticks() > before, what="an alerts tick at %s" % now)
        return now


def tries(c):
    """Ticks a Clock's kabard ran or skipped: of two kabard one holds the alerts lease and runs
    the tick, the other logs alerts_tick_skipped (issue 15)."""
    return c.k.logtext().count("event=alerts_tick ") + c.k.logtext().count("event=alerts_tick_skipped ")


def clean(env, kpms):
    ids = ",".join(str(k) for k in kpms)
    env.sql("DELETE m FROM alert_messages m JOIN alerts a ON a.id = m.alert_id WHERE a.kpm_id IN (%s)" % ids)
    env.sql("DELETE FROM alerts WHERE kpm_id IN (%s)" % ids)
    env.sql("DELETE FROM business_reports WHERE kpm_id IN (%s)" % ids)
    env.sql("DELETE FROM attendance_reports WHERE kpm_id IN (%s)" % ids)
    env.sync_last_report(kpms)


def report(env, kpm, status, revenue, at):
    env.sql("INSERT INTO business_reports (kpm_id, msisdn, channel, session_id, source, status,"
            " revenue, workers, answers, input_path, created_at) SELECT id, msisdn, 'test',"
            " CONCAT('t-', UUID()), 'ussd', %d, %s, 1, '{}', '', '%s' FROM kpm WHERE id = %d"
            % (status, "NULL" if revenue is None else revenue, at, kpm))
    env.sync_last_report([kpm])


def alerts_of(env, kpm, rule):
    return env.sql("SELECT id, state, urgency FROM alerts WHERE kpm_id = %d AND rule = '%s' ORDER BY id"
                   % (kpm, rule))


def alert_sms(env, alert_id):
    return env.sql("SELECT o.body, o.recipient FROM alert_messages m JOIN outbox o ON o.id = m.outbox_id"
                   " WHERE m.alert_id = %s" % alert_id)


def test_business_closed_alert_fires_once_and_not_again_in_its_window(env):
    clean(env, [401])
    d = day(env)
    with Clock(env, "%s 03:00:00" % d) as c:
        report(env, 401, 3, None, "%s 02:00:00" % d)
        c.tick_at("%s 03:00:00" % d)
        rows = alerts_of(env, 401, "business_closed")
        assert len(rows) == 1 and rows[0][1] == "sent", rows
        body, to = alert_sms(env, rows[0][0])[0]
        assert to == env.scalar("SELECT s.msisdn FROM kpm k JOIN assistants s ON s.id = k.assistant_id WHERE k.id = 401")
        name = env.scalar("SELECT name FROM kpm WHERE id = 401")
        assert name in body and "OK %s" % rows[0][0] in body, body
        c.tick_at("%s 03:05:00" % d)                        # the same event: nothing new
        report(env, 401, 2, None, "%s 04:00:00" % day(env, 1))
        c.tick_at("%s 05:00:00" % day(env, 1))              # a new closure inside 7 days
        assert len(alerts_of(env, 401, "business_closed")) == 1
        report(env, 401, 3, None, "%s 04:00:00" % day(env, 9))
        c.tick_at("%s 05:00:00" % day(env, 9))              # after the window: a new alert
        assert len(alerts_of(env, 401, "business_closed")) == 2


def test_every_digest_rule_fires_once(env):
    clean(env, [402, 403, 404, 405])
    d = day(env)
    # revenue drop: 1,000,000 then 400,000 (60 % down, the threshold is 50 %)
    report(env, 402, 1, 1000000, "%s 01:00:00" % day(env, -20))
    report(env, 402, 1, 400000, "%s 01:00:00" % d)
    # graduation: running at or above 2,500,000 in each of the last 3 months
    for m in (2, 1, 0):
        at = env.scalar("SELECT DATE_FORMAT(DATE('%s') - INTERVAL %d MONTH, '%%Y-%%m-05 01:00:00')" % (d, m))
        report(env, 403, 1, 3000000, at if m else "%s 01:00:00" % d)
    # training missed: reported absent from a training she was enrolled in
    t = env.scalar("SELECT training_id FROM enrollments WHERE kpm_id = 404 LIMIT 1")
    env.sql("INSERT INTO attendance_reports (kpm_id, training_id, msisdn, channel, session_id, source,"
            " attended, reason, answers, input_path) SELECT id, %s, msisdn, 'test', CONCAT('t-', UUID()),"
            " 'sms', 0, 1, '{}', '' FROM kpm WHERE id = 404" % t)
    # silent: registered long ago, no business report for more than 4 weeks
    env.sql("UPDATE kpm SET created_at = UTC_TIMESTAMP() - INTERVAL 60 DAY WHERE id = 405")
    try:
        with Clock(env, "%s 02:00:00" % d) as c:
            c.tick_at("%s 02:00:00" % d)
            for kpm, rule in ((402, "revenue_drop"), (403, "graduation"), (404, "training_missed"),
                              (405, "silent")):
                rows = alerts_of(env, kpm, rule)
                assert len(rows) == 1 and rows[0][2] == "digest", (rule, rows)
            c.tick_at("%s 02:30:00" % d)
            for kpm, rule in ((402, "revenue_drop"), (403, "graduation"), (404, "training_missed"),
                              (405, "silent")):
                assert len(alerts_of(env, kpm, rule)) == 1, rule
    finally:
        env.sql("UPDATE kpm SET created_at = UTC_TIMESTAMP() WHERE id = 405")


def test_digest_groups_per_assistant_with_counts_and_names(env):
    kpms = [406, 430, 436]      # all with assistant 2 (WIB)
    clean(env, kpms)
    env.sql("DELETE FROM outbox WHERE idempotency_key LIKE 'digest:%'")
    env.sql("UPDATE alerts SET state = 'expired' WHERE state = 'new'")
    for kpm, rule in ((406, "silent"), (430, "silent"), (436, "revenue_drop")):
        env.sql("INSERT INTO alerts (rule, kpm_id, assistant_id, dedupe_key, urgency) SELECT '%s', id,"
                " assistant_id, CONCAT('t:', UUID()), 'digest' FROM kpm WHERE id = %d" % (rule, kpm))
    d = day(env)
    # only the rules this test is about raise anything
    quiet_rules = {"rules_off": ("business_closed", "help_requested", "training_missed", "graduation",
                                 "link_request")}
    with Clock(env, "%s 09:00:00" % d, extra=quiet_rules) as c:   # 16:00 WIB: before the digest hour
        c.tick_at("%s 09:00:00" % d)
        assert env.scalar("SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE 'digest:2:%'") == "0"
        c.tick_at("%s 10:30:00" % d)                # 17:30 WIB
        rows = env.sql("SELECT body, recipient FROM outbox WHERE idempotency_key LIKE 'digest:2:%'")
        assert len(rows) == 1, rows
        body = rows[0][0]
        assert "3 perlu perhatian" in body and "2 tidak lapor" in body and "1 omzet turun" in body, body
        first = env.scalar("SELECT name FROM kpm WHERE id = 436")   # a revenue drop outranks silence
        assert "Utama: " + first in body, body
        assert env.scalar("SELECT COUNT(*) FROM alerts WHERE kpm_id IN (406,430,436) AND state='sent'") == "3"
        assert env.scalar("SELECT COUNT(*) FROM alert_messages m JOIN alerts a ON a.id = m.alert_id"
                          " WHERE a.kpm_id IN (406,430,436)") == "3"
        c.tick_at("%s 12:00:00" % d)                # later the same day: no second digest
        assert env.scalar("SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE 'digest:2:%'") == "1"


def test_quiet_hours_hold_digests_in_each_time_zone(env):
    """Only assistants 1, 3 and 5 (WIB, WITA, WIT) are looked at: the tick raises alerts of its
    own (silent KPM of other assistants, depending on what earlier tests left), and a digest to
    assistant 2 failed this test when it ran alone."""
    env.sql("DELETE FROM outbox WHERE idempotency_key LIKE 'digest:%'")
    env.sql("UPDATE alerts SET state = 'expired' WHERE state = 'new'")
    for assistant, kpm in ((1, 403), (3, 404), (5, 405)):     # WIB, WITA, WIT
        env.sql("INSERT INTO alerts (rule, kpm_id, assistant_id, dedupe_key, urgency) VALUES"
                " ('silent', %d, %d, CONCAT('q:', UUID()), 'digest')" % (kpm, assistant))
    d = day(env)
    with Clock(env, "%s 13:30:00" % d) as c:
        # 20:30 WIB (due), 21:30 WITA and 22:30 WIT (quiet)
        c.tick_at("%s 13:30:00" % d)
        sent = {r[0] for r in env.sql("SELECT SUBSTRING_INDEX(SUBSTRING_INDEX(idempotency_key, ':', 2), ':', -1)"
                                      " FROM outbox WHERE idempotency_key LIKE 'digest:%'")} & {"1", "3", "5"}
        assert sent == {"1"}, sent
        # the next day 08:30 UTC: 15:30 WIB, 16:30 WITA (before 17:00), 17:30 WIT (due)
        c.tick_at("%s 08:30:00" % day(env, 1))
        sent = {r[0] for r in env.sql("SELECT SUBSTRING_INDEX(SUBSTRING_INDEX(idempotency_key, ':', 2), ':', -1)"
                                      " FROM outbox WHERE idempotency_key LIKE 'digest:%'")} & {"1", "3", "5"}
        assert sent == {"1", "5"}, sent
        c.tick_at("%s 09:30:00" % day(env, 1))     # 17:30 WITA
        assert env.scalar("SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE 'digest:3:%'") == "1"


def test_daily_cap_folds_the_rest_into_the_digest(env):
    clean(env, [421, 403])
    env.sql("UPDATE alerts SET state = 'expired' WHERE state = 'new'")
    for kpm in (421, 403):                                  # both with assistant 1
        env.sql("INSERT INTO alerts (rule, kpm_id, assistant_id, dedupe_key, urgency) SELECT"
                " 'help_requested', id, assistant_id, CONCAT('cap:', UUID()), 'immediate'"
                " FROM kpm WHERE id = %d" % kpm)
    d = day(env)
    env.sql("DELETE FROM outbox WHERE purpose = 'alert' AND recipient = (SELECT msisdn FROM assistants WHERE id = 1)")
    with Clock(env, "%s 02:00:00" % d, extra={"daily_cap": 1}) as c:
        c.tick_at("%s 02:00:00" % d)
        states = env.sql("SELECT state, urgency FROM alerts WHERE kpm_id IN (421, 403)"
                         " AND rule = 'help_requested' ORDER BY id")
        assert sorted(states) == [["new", "digest"], ["sent", "immediate"]], states


def test_training_reminder_once_respecting_stop_and_quiet_hours(env):
    d = day(env)
    env.sql("DELETE FROM trainings WHERE title = 'Pemasaran online (tes)'")
    env.sql("INSERT INTO trainings (title, starts_at, place, region_code, attendance_code)"
            " VALUES ('Pemasaran online (tes)', '%s 06:00:00', 'Balai Desa', '3204132005', '7777')" % day(env, 1))
    t = env.scalar("SELECT id FROM trainings WHERE title = 'Pemasaran online (tes)'")
    env.sql("INSERT INTO enrollments (training_id, kpm_id) VALUES (%s, 421), (%s, 430)" % (t, t))
    env.sql("UPDATE kpm SET reminders = 1 WHERE id = 421")
    env.sql("UPDATE kpm SET reminders = 0 WHERE id = 430")      # sent STOP
    try:
        with Clock(env, "%s 15:00:00" % d, extra={"nudge_day": 0}) as c:
            c.tick_at("%s 15:00:00" % d)            # 22:00 WIB: quiet
            assert env.scalar("SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE 'remind:%s:%%'" % t) == "0"
            c.tick_at("%s 00:30:00" % day(env, 1))  # 07:30 WIB
            rows = env.sql("SELECT idempotency_key, body FROM outbox WHERE idempotency_key LIKE 'remind:%s:%%'" % t)
            assert [r[0] for r in rows] == ["remind:%s:421" % t], rows
            assert "Pemasaran online (tes)" in rows[0][1] and "Balai Desa" in rows[0][1] and "13:00" in rows[0][1], rows
            c.tick_at("%s 01:00:00" % day(env, 1))  # never twice
            assert env.scalar("SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE 'remind:%s:%%'" % t) == "1"
    finally:
        env.sql("UPDATE kpm SET reminders = 1 WHERE id = 430")
        env.sql("DELETE FROM enrollments WHERE training_id = %s" % t)
        env.sql("DELETE FROM trainings WHERE id = %s" % t)


def test_monthly_nudge_once_to_those_who_have_not_reported(env):
    env.sql("UPDATE kpm SET reminders = 0")
    env.sql("UPDATE kpm SET reminders = 1 WHERE id IN (440, 441)")
    clean(env, [440, 441])
    d = day(env)
    report(env, 441, 1, 100000, "%s 01:00:00" % d)       # 441 has reported this month
    month = d[:7]
    try:
        with Clock(env, "%s 03:00:00" % d, extra={"nudge_day": 1, "remind_hours": 0}) as c:
            c.tick_at("%s 03:00:00" % d)
            c.tick_at("%s 04:00:00" % d)
            rows = env.sql("SELECT idempotency_key FROM outbox WHERE idempotency_key LIKE 'nudge:%s:%%'"
                           " AND idempotency_key IN ('nudge:%s:440', 'nudge:%s:441')" % (month, month, month))
            assert rows == [["nudge:%s:440" % month]], rows
    finally:
        env.sql("UPDATE kpm SET reminders = 1")


def test_restart_between_raising_and_the_digest_neither_repeats_nor_skips(env):
    clean(env, [404])
    env.sql("DELETE FROM outbox WHERE idempotency_key LIKE 'digest:3:%'")
    env.sql("UPDATE alerts SET state = 'expired' WHERE state = 'new'")
    t = env.scalar("SELECT training_id FROM enrollments WHERE kpm_id = 404 LIMIT 1")
    env.sql("INSERT INTO attendance_reports (kpm_id, training_id, msisdn, channel, session_id, source,"
            " attended, answers, input_path) SELECT id, %s, msisdn, 'test', CONCAT('t-', UUID()), 'sms', 0, '{}', ''"
            " FROM kpm WHERE id = 404" % t)
    d = day(env)
    with Clock(env, "%s 02:00:00" % d, name="before") as c:     # 10:00 WITA: raised, no digest
        c.tick_at("%s 02:00:00" % d)
        assert alerts_of(env, 404, "training_missed")[0][1] == "new"
    for attempt in range(2):                                    # two restarts after the hour
        with Clock(env, "%s 10:00:00" % d, name="after%d" % attempt) as c:
            c.tick_at("%s 10:05:00" % d)                        # 18:05 WITA
    assert env.scalar("SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE 'digest:3:%'") == "1"
    assert alerts_of(env, 404, "training_missed")[0][1] == "sent"


def test_two_instances_racing_never_both_send_an_alert(env):
    env.sql("UPDATE alerts SET state = 'expired' WHERE state = 'new'")
    env.sql("INSERT INTO alerts (rule, kpm_id, assistant_id, dedupe_key, urgency) SELECT 'help_requested',"
            " id, assistant_id, CONCAT('race:', id, ':', UUID()), 'immediate' FROM kpm WHERE id BETWEEN 500 AND 539")
    d = day(env)
    extra = {"daily_cap": 1000}
    with Clock(env, "%s 02:00:00" % d, extra=extra, name="a") as a, \
            Clock(env, "%s 02:00:00" % d, extra=extra, name="b") as b:
        for i in range(3):
            at = "%s 02:0%d:00" % (d, i)
            for c in (a, b):
                with open(c.k.conf, "w") as f:
                    f.write(alerts_conf(env, at, extra))
            ta, tb = tries(a), tries(b)
            a.k.send_signal(signal.SIGHUP)
            b.k.send_signal(signal.SIGHUP)               # both at once
            wait_for(lambda: tries(a) > ta and tries(b) > tb, what="both ticks")
        sent = sum(int(n) for c in (a, b) for n in re.findall(r"event=alerts_tick .*alerts_sent=(\d+)", c.k.logtext()))
        assert sent == 40, sent
    assert env.scalar("SELECT COUNT(*) FROM alerts WHERE kpm_id BETWEEN 500 AND 539 AND state = 'sent'"
                      " AND dedupe_key LIKE 'race:%'") == "40"
    assert env.scalar("SELECT COUNT(*) FROM alert_messages m JOIN alerts a ON a.id = m.alert_id"
                      " WHERE a.dedupe_key LIKE 'race:%'") == "40"


def test_a_second_help_request_inside_the_window_raises_no_second_alert(env):
    from test_sms import at_sms
    clean(env, [450])
    env.sql("UPDATE alerts SET state = 'expired' WHERE state = 'new'")
    d = day(env)
    with Clock(env, "%s 02:00:00" % d, extra={"daily_cap": 100}) as c:
        frm = env.scalar("SELECT msisdn FROM kpm WHERE id = 450")
        before = int(env.scalar("SELECT COUNT(*) FROM help_requests WHERE kpm_id = 450"))
        # ids of its own: this module's copy of test_sms counts from 1 again
        at_sms(c.k, frm, "BANTUAN modal", mid="alerts_%d_1" % os.getpid())
        at_sms(c.k, frm, "BANTUAN modal, tolong cepat", mid="alerts_%d_2" % os.getpid())
        after = int(env.scalar("SELECT COUNT(*) FROM help_requests WHERE kpm_id = 450"))
        assert after - before == 2, (before, after)      # both requests are kept
        # one alert from the start: none to expire, none for the pages to count twice
        assert [r[1] for r in alerts_of(env, 450, "help_requested")] == ["new"]
        c.tick_at("%s 02:00:00" % d)
        states = sorted(r[1] for r in alerts_of(env, 450, "help_requested"))
        assert states == ["sent"], states


def test_two_help_requests_in_a_row_insert_one_open_alert_before_any_tick(env):
    """Reliability issue: the second help request inserted a second open alert, which only the
    next tick expired."""
    from test_sms import at_sms
    from test_ussd import AT
    clean(env, [451])
    frm = env.scalar("SELECT msisdn FROM kpm WHERE id = 451")
    with Kabard(env) as k:                                # no scheduler: no tick at all
        AT(k, phone=frm, sid="alerts-%d-ussd" % os.getpid()).walk("3*1*1")
        at_sms(k, frm, "BANTUAN modal", mid="alerts_%d_3" % os.getpid())
        at_sms(k, frm, "BANTUAN modal lagi", mid="alerts_%d_4" % os.getpid())
        assert env.scalar("SELECT COUNT(*) FROM help_requests WHERE kpm_id = 451"
                          " AND created_at > NOW() - INTERVAL 1 MINUTE") == "3"
        assert [r[1] for r in alerts_of(env, 451, "help_requested")] == ["new"]
        # expired (a disabled rule, say), it holds back nothing
        env.sql("UPDATE alerts SET state = 'expired' WHERE kpm_id = 451")
        at_sms(k, frm, "BANTUAN", mid="alerts_%d_5" % os.getpid())
        assert [r[1] for r in alerts_of(env, 451, "help_requested")] == ["expired", "new"]


def test_help_requests_of_one_kpm_at_once_insert_one_alert(env):
    """Two help requests of one KPM committing at once: the KPM's row is locked by the alert's
    insert, so the second waits (or deadlocks and is run again) and sees the first's alert."""
    import threading
    from test_sms import at_sms
    clean(env, [452])
    frm = env.scalar("SELECT msisdn FROM kpm WHERE id = 452")
    with Kabard(env) as k:
        results = []
        threads = [threading.Thread(target=lambda i=i: results.append(
            at_sms(k, frm, "BANTUAN tolong %d" % i, mid="alerts_%d_at_once_%d" % (os.getpid(), i))[1].status))
            for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert results == [200] * 6, results
        assert env.scalar("SELECT COUNT(*) FROM help_requests WHERE kpm_id = 452"
                          " AND created_at > NOW() - INTERVAL 1 MINUTE") == "6"
        assert [r[1] for r in alerts_of(env, 452, "help_requested")] == ["new"]


def test_link_requests_naming_one_kpm_insert_one_alert(env):
    """The same pattern for link requests: two unknown phones naming one KPM's PKH number."""
    from test_ussd import AT
    clean(env, [454])
    env.sql("DELETE FROM link_requests WHERE kpm_id = 454")
    pkh = env.scalar("SELECT pkh_number FROM kpm WHERE id = 454")
    with Kabard(env) as k:
        for i, phone in enumerate(("+628999000454", "+628999000455")):
            kind, screen = AT(k, phone=phone, sid="alerts-%d-link-%d" % (os.getpid(), i)).walk("1*%s*1" % pkh)[-1]
            assert kind == "END", screen
        assert env.scalar("SELECT COUNT(*) FROM link_requests WHERE kpm_id = 454") == "2"
        assert [r[1] for r in alerts_of(env, 454, "link_request")] == ["new"]


def test_two_instances_build_one_digest_per_assistant(env):
    """Review finding: both instances could build the same digest; the second marked its
    alerts against an SMS that did not name them."""
    env.sql("DELETE FROM outbox WHERE idempotency_key LIKE 'digest:4:%'")
    env.sql("UPDATE alerts SET state = 'expired' WHERE state = 'new'")
    env.sql("INSERT INTO alerts (rule, kpm_id, assistant_id, dedupe_key, urgency) SELECT 'silent', id,"
            " assistant_id, CONCAT('dig:', id, ':', UUID()), 'digest' FROM kpm WHERE assistant_id = 4 LIMIT 6")
    d = day(env)
    extra_on = {"rules_off": ("business_closed", "help_requested", "training_missed",
                              "revenue_drop", "graduation", "link_request")}
    with Clock(env, "%s 01:00:00" % d, extra=extra_on, name="da") as a, \
            Clock(env, "%s 01:00:00" % d, extra=extra_on, name="db") as b:
        at = "%s 09:30:00" % d                                  # 17:30 WITA
        for c in (a, b):
            with open(c.k.conf, "w") as f:
                f.write(alerts_conf(env, at, extra_on))
        ta, tb = tries(a), tries(b)
        a.k.send_signal(signal.SIGHUP)
        b.k.send_signal(signal.SIGHUP)
        wait_for(lambda: tries(a) > ta and tries(b) > tb, what="both ticks")
    digests = env.sql("SELECT id FROM outbox WHERE idempotency_key LIKE 'digest:4:%'")
    assert len(digests) == 1, digests
    linked = env.sql("SELECT DISTINCT m.outbox_id FROM alert_messages m JOIN alerts x ON x.id = m.alert_id"
                     " WHERE x.dedupe_key LIKE 'dig:%'")
    assert linked == digests, (linked, digests)


def test_training_missed_when_no_attendance_report_n_days_after(env):
    clean(env, [460, 461])
    env.sql("DELETE FROM enrollments WHERE kpm_id IN (460, 461)")
    env.sql("DELETE FROM trainings WHERE title = 'Pembukuan (tes)'")
    d = day(env)
    env.sql("INSERT INTO trainings (title, starts_at, place, region_code, attendance_code)"
            " VALUES ('Pembukuan (tes)', '%s 02:00:00', 'Aula', '3204132005', '5555')" % day(env, -5))
    t = env.scalar("SELECT id FROM trainings WHERE title = 'Pembukuan (tes)'")
    env.sql("INSERT INTO enrollments (training_id, kpm_id) VALUES (%s, 460), (%s, 461)" % (t, t))
    env.sql("INSERT INTO attendance_reports (kpm_id, training_id, msisdn, channel, session_id, source,"
            " attended, answers, input_path) SELECT id, %s, msisdn, 'test', CONCAT('t-', UUID()), 'sms', 1,"
            " '{}', '' FROM kpm WHERE id = 461" % t)       # 461 reported attending
    try:
        off = {"rules_off": ("business_closed", "help_requested", "silent", "revenue_drop",
                             "graduation", "link_request")}
        with Clock(env, "%s 02:00:00" % d, extra=off) as c:
            c.tick_at("%s 02:00:00" % d)      # 5 days after, the rule waits 3
            assert len(alerts_of(env, 460, "training_missed")) == 1
            assert alerts_of(env, 461, "training_missed") == []
    finally:
        env.sql("DELETE FROM attendance_reports WHERE training_id = %s" % t)
        env.sql("DELETE FROM enrollments WHERE training_id = %s" % t)
        env.sql("DELETE FROM trainings WHERE id = %s" % t)
