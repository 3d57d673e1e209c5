"""The alerts tick at one million KPM (README "### At one million KPM"): the report rules read
only the reports above the watermark (alert_marks 'reports') and move it in the tick's
transaction, the silent rule reads kpm.last_report_at through its index, and a tick that
crashes between raising and committing raises each alert once when it runs again."""
import re
import signal
import time

from kabartest import Kabard, wait_for
from test_alerts import Clock, clean, day, report
from test_faults import _fired, _need_faults
from test_sms import at_sms

# only the rules under test raise anything (the demo's trainings would fill the table)
OTHERS_OFF = ("help_requested", "training_missed", "revenue_drop", "graduation", "link_request",
              "relapse")


class Ticker(Clock):
    """Clock (test_alerts.py), whose tick_at answers the tick's log line."""

    def lines(self):
        return [l for l in self.k.logtext().splitlines() if "event=alerts_tick " in l]

    def tick_at(self, now):
        Clock.tick_at(self, now)
        return self.lines()[-1]


def field(line, name):
    m = re.search(r"\b%s=(\d+)" % name, line)
    assert m, (name, line)
    return int(m.group(1))


def closed_alerts(env, kpm):
    return int(env.scalar("SELECT COUNT(*) FROM alerts WHERE kpm_id = %d AND rule = 'business_closed'" % kpm))


def after_every_report(env):
    """A day after every report already in the database: the mark stops below a report younger
    than the settle time, and other tests leave reports dated ahead of today."""
    return env.scalar("SELECT DATE(GREATEST(UTC_TIMESTAMP(), COALESCE(MAX(created_at), 0)) + INTERVAL 1 DAY)"
                      " FROM business_reports")


def mark(env):
    return int(env.scalar("SELECT COALESCE(MAX(last_id), 0) FROM alert_marks WHERE name = 'reports'"))


def test_alerts_scale_watermark_reads_only_new_reports(env):
    clean(env, [470])
    d = after_every_report(env)
    off = {"rules_off": OTHERS_OFF + ("silent",)}
    with Ticker(env, "%s 02:00:00" % d, extra=off, name="scale") as t:
        t.tick_at("%s 02:00:00" % d)
        report(env, 470, 3, None, "%s 02:30:00" % d)
        rid = int(env.scalar("SELECT MAX(id) FROM business_reports WHERE kpm_id = 470"))
        line = t.tick_at("%s 03:00:00" % d)
        assert closed_alerts(env, 470) == 1
        assert field(line, "new_reports") >= 1 and field(line, "raised") >= 1, line
        for k in ("ms", "queued"):
            field(line, k)
        assert mark(env) >= rid, (mark(env), rid)
        line = t.tick_at("%s 03:30:00" % d)
        assert closed_alerts(env, 470) == 1
        assert field(line, "new_reports") == 0, line
        # below the mark the report is not read again: with its alert gone (and so its
        # window), a rule that scanned the last two days would raise it a second time
        env.sql("DELETE FROM alerts WHERE kpm_id = 470")
        t.tick_at("%s 04:00:00" % d)
        assert closed_alerts(env, 470) == 0


def test_alerts_scale_watermark_waits_for_reports_to_settle(env):
    """A report younger than the settle time keeps the mark below it, so a report that took its
    id earlier and commits late is still read."""
    clean(env, [471])
    d = after_every_report(env)
    off = {"rules_off": OTHERS_OFF + ("silent",)}
    with Ticker(env, "%s 05:00:00" % d, extra=off) as t:
        t.tick_at("%s 05:00:00" % d)
        report(env, 471, 1, 1000, "%s 05:59:00" % d)
        rid = int(env.scalar("SELECT MAX(id) FROM business_reports WHERE kpm_id = 471"))
        t.tick_at("%s 06:00:00" % d)            # one minute old: not settled
        assert mark(env) < rid, (mark(env), rid)
        t.tick_at("%s 06:10:00" % d)            # eleven minutes: settled
        assert mark(env) >= rid, (mark(env), rid)


def test_alerts_scale_crash_between_raising_and_commit_raises_once(env):
    _need_faults(env)
    clean(env, [472, 473])
    d = after_every_report(env)
    off = {"rules_off": OTHERS_OFF + ("silent",)}
    report(env, 472, 3, None, "%s 07:00:00" % d)
    report(env, 473, 2, None, "%s 07:00:00" % d)
    rid = int(env.scalar("SELECT MAX(id) FROM business_reports WHERE kpm_id IN (472, 473)"))
    with Ticker(env, "%s 07:30:00" % d, extra=off, environ={"KABAR_FAULTS": "link:alerts_raised=1"},
                name="scale-crash") as t:
        line = t.tick_at("%s 07:30:00" % d)
        assert _fired(t.k, "link:alerts_raised") == 1, t.k.logtext()[-2000:]
        assert field(line, "runs") == 2, line
        # the first run's alerts and mark were rolled back with the link; the re-run raised
        # them again, once each
        assert closed_alerts(env, 472) == 1 and closed_alerts(env, 473) == 1
        assert field(line, "raised") >= 2, line
        assert mark(env) >= rid
        t.tick_at("%s 08:00:00" % d)
        assert closed_alerts(env, 472) == 1 and closed_alerts(env, 473) == 1


def test_alerts_scale_commit_lost_tick_raises_nothing_twice(env):
    _need_faults(env)
    clean(env, [474])
    d = after_every_report(env)
    off = {"rules_off": OTHERS_OFF + ("silent",)}
    report(env, 474, 3, None, "%s 08:00:00" % d)
    with Ticker(env, "%s 08:30:00" % d, extra=off, environ={"KABAR_FAULTS": "commit_lost:alerts_tick=1"},
                name="scale-lost") as t:
        line = t.tick_at("%s 08:30:00" % d)
        assert _fired(t.k, "commit_lost:alerts_tick") == 1, t.k.logtext()[-2000:]
        assert field(line, "runs") == 2, line
        assert closed_alerts(env, 474) == 1


def test_alerts_scale_silent_reads_last_report_at(env):
    """kpm.last_report_at decides, not a probe of business_reports: a KPM whose column says she
    reported yesterday is not silent even without a report row, one whose column is old is
    silent even with a recent row (the column is what report.c keeps right)."""
    kpms = [475, 476, 477]
    clean(env, kpms)
    d = day(env)
    env.sql("UPDATE kpm SET created_at = UTC_TIMESTAMP() - INTERVAL 90 DAY WHERE id IN (475, 476, 477)")
    try:
        report(env, 476, 1, 1000, "%s 01:00:00" % d)
        env.sql("UPDATE kpm SET last_report_at = '%s 01:00:00' - INTERVAL 1 DAY WHERE id = 475" % d)
        env.sql("UPDATE kpm SET last_report_at = '%s 01:00:00' - INTERVAL 60 DAY WHERE id = 476" % d)
        off = {"rules_off": OTHERS_OFF + ("business_closed",)}
        with Ticker(env, "%s 02:00:00" % d, extra=off, name="scale") as t:
            t.tick_at("%s 02:00:00" % d)
            got = {int(r[0]) for r in env.sql("SELECT kpm_id FROM alerts WHERE rule = 'silent'"
                                              " AND kpm_id IN (475, 476, 477)")}
            assert got == {476, 477}, got       # 477: never reported, registered long ago
            t.tick_at("%s 02:30:00" % d)        # the sweep starts again: nothing twice
            assert env.scalar("SELECT COUNT(*) FROM alerts WHERE rule = 'silent'"
                              " AND kpm_id IN (475, 476, 477)") == "2"
    finally:
        env.sql("UPDATE kpm SET created_at = UTC_TIMESTAMP() WHERE id IN (475, 476, 477)")
        env.sync_last_report(kpms)


def test_alerts_scale_report_saved_sets_last_report_at(env):
    """A report saved by SMS sets its KPM's last_report_at in the same transaction."""
    clean(env, [478])
    env.sql("UPDATE kpm SET last_report_at = NULL WHERE id = 478")
    msisdn = env.scalar("SELECT msisdn FROM kpm WHERE id = 478")
    with Kabard(env, name="scale-sms") as k:
        _, r = at_sms(k, msisdn, "USAHA TUTUP")
        assert r.status == 200, r.status
        wait_for(lambda: env.scalar("SELECT COUNT(*) FROM business_reports WHERE kpm_id = 478") == "1",
                 what="the report")
        assert env.scalar("SELECT last_report_at = (SELECT created_at FROM business_reports"
                          " WHERE kpm_id = 478) FROM kpm WHERE id = 478") == "1"


ALL_RULES = OTHERS_OFF + ("business_closed", "silent")


def test_alerts_scale_nudge_walk_follows_the_rate_and_a_restart_neither_repeats_nor_skips(env):
    """The nudge walks each zone by KPM id, rate x tick_seconds x 1.1 KPM a tick (2 SMS/s x 5 s:
    11), from a cursor that moves with the SMS it queues: after two kabard, the second started
    after the first was killed mid-walk, the nudged KPM are exactly those who qualify up to the
    cursor, and the cursor has walked 11 KPM of the zone per tick."""
    stopped = [r[0] for r in env.sql("SELECT id FROM kpm WHERE reminders = 0")]
    env.sql("UPDATE kpm SET reminders = 1")
    env.sql("DELETE FROM alert_marks WHERE name LIKE 'nudge:%'")
    month, now = "2031-03", "2031-03-26 13:30:00"       # 20:30 WIB; WITA and WIT are quiet
    extra = {"rules_off": ALL_RULES, "nudge_day": 25, "remind_hours": 0, "tick_seconds": 5,
             "provider_rate": 2}
    wib = " FROM kpm k JOIN assistants s ON s.id = k.assistant_id WHERE s.tz = 'WIB'"

    def settled(t):
        """(ticks logged, cursor, WIB KPM up to the cursor), read between two ticks"""
        while True:
            n = len(t.lines())
            cur = int(env.scalar("SELECT COALESCE(MAX(last_id), 0) FROM alert_marks WHERE name = 'nudge:WIB'"))
            walked = int(env.scalar("SELECT COUNT(*)" + wib + " AND k.id <= %d" % cur))
            if len(t.lines()) == n and walked == 11 * n:
                return n, cur, walked
            if len(t.lines()) == n:
                time.sleep(0.3)                  # a tick committed, its line not written yet
                if len(t.lines()) == n:
                    return n, cur, walked

    def check(cur):
        nudged = {int(r[0]) for r in env.sql("SELECT SUBSTRING_INDEX(idempotency_key, ':', -1) FROM outbox"
                                            " WHERE idempotency_key LIKE 'nudge:%s:%%'" % month)}
        due = {int(r[0]) for r in env.sql("SELECT k.id" + wib + " AND k.id <= %d AND k.reminders = 1"
                                          " AND (k.graduation IN ('none', 'welfare') OR k.support_opt_in = 1)"
                                          % cur)}
        assert nudged == due, ("skipped", sorted(due - nudged)[:5], "extra", sorted(nudged - due)[:5])
        return nudged

    try:
        with Ticker(env, now, extra=extra, name="scale-nudge") as t:
            t.tick_at(now)
            wait_for(lambda: len(t.lines()) >= 3, timeout=30, what="three ticks")
            t.k.stop(signal.SIGKILL)            # mid-walk, between two ticks or inside one
            n1, cur1, walked1 = settled(t)
            assert walked1 == 11 * n1, (walked1, n1)
            first = check(cur1)
            assert 0 < len(first) <= walked1
            t.k.start()
            wait_for(lambda: len(t.lines()) >= n1 + 2, timeout=30, what="two more ticks")
            t.k.stop(signal.SIGKILL)
            n2, cur2, walked2 = settled(t)
            assert cur2 > cur1 and walked2 == 11 * n2, (cur1, cur2, walked2, n2)
            second = check(cur2)
            assert first < second
    finally:
        env.sql("UPDATE kpm SET reminders = 1")
        if stopped:
            env.sql("UPDATE kpm SET reminders = 0 WHERE id IN (%s)" % ",".join(stopped))


def test_alerts_scale_a_backlog_is_read_a_thousand_reports_a_tick(env):
    """A tick reads at most 1,000 reports above the mark (ALERTS_REPORTS_CAP), so a backlog
    is read over several ticks, each inside db.query_timeout; nothing is skipped."""
    clean(env, [480])
    d = after_every_report(env)
    off = {"rules_off": OTHERS_OFF + ("silent",)}
    with Ticker(env, "%s 02:00:00" % d, extra=off, name="scale-cap") as t:
        t.tick_at("%s 02:00:00" % d)
        before = mark(env)
        env.sql("INSERT INTO business_reports (kpm_id, msisdn, channel, session_id, source, status,"
                " workers, answers, input_path, created_at) SELECT k.id, k.msisdn, 'test',"
                " CONCAT('cap-', UUID(), s.seq), 'sms', 1, 1, '{}', '', '%s 01:00:00'"
                " FROM seq_1_to_1500 s JOIN kpm k ON k.id = 480" % d)
        env.sync_last_report([480])
        line = t.tick_at("%s 02:30:00" % d)
        assert field(line, "new_reports") == 1500, line
        read = int(env.scalar("SELECT COUNT(*) FROM business_reports WHERE id > %d AND id <= %d"
                              % (before, mark(env))))
        assert read == 1000, read
        line = t.tick_at("%s 03:00:00" % d)
        assert field(line, "new_reports") == 500, line
        assert int(env.scalar("SELECT COUNT(*) FROM business_reports WHERE id > %d" % mark(env))) == 0


def test_alerts_scale_reports_older_than_two_days_are_passed_at_once(env):
    """Reports older than the rules' two days above the mark (kabard down for days, a seeded
    year) were read a thousand a tick, each tick counting the whole backlog: 12,000 ticks for
    the bench's year. The mark now passes them at once; a recent report above them is read in
    the same tick."""
    clean(env, [480])
    d = after_every_report(env)
    off = {"rules_off": OTHERS_OFF + ("silent",)}
    with Ticker(env, "%s 02:00:00" % d, extra=off, name="scale-old") as t:
        report(env, 480, 1, 100000, "%s 01:00:00" % d)  # a mark that has moved: not the first
        t.tick_at("%s 02:00:00" % d)
        before = mark(env)
        assert before == int(env.scalar("SELECT MAX(id) FROM business_reports")), before
        env.sql("INSERT INTO business_reports (kpm_id, msisdn, channel, session_id, source, status,"
                " workers, answers, input_path, created_at) SELECT k.id, k.msisdn, 'test',"
                " CONCAT('old-', UUID(), s.seq), 'sms', 1, 1, '{}', '', '%s 01:00:00' - INTERVAL 3 DAY"
                " FROM seq_1_to_1500 s JOIN kpm k ON k.id = 480" % d)
        env.sql("INSERT INTO business_reports (kpm_id, msisdn, channel, session_id, source, status,"
                " workers, answers, input_path, created_at) SELECT k.id, k.msisdn, 'test',"
                " CONCAT('new-', UUID()), 'sms', 1, 1, '{}', '', '%s 02:10:00'"
                " FROM kpm k WHERE k.id = 480" % d)
        env.sync_last_report([480])
        newest = int(env.scalar("SELECT MAX(id) FROM business_reports"))
        assert newest - before > 1000, (before, newest)
        line = t.tick_at("%s 02:30:00" % d)
        assert field(line, "new_reports") == 1, line
        assert mark(env) == newest, ("the old backlog was not passed in one tick", before,
                                     mark(env), newest)
