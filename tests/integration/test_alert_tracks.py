"""Alerts and reminders by graduation track (issue 12): every rule applies to the tracks it names
(defaults: README "## Alerts and reminders"), silent to a welfare graduate only inside her
follow-up period, a graduation candidate once decided never comes back every month, a welfare
graduate's relapse raises an immediate alert once per report, nudges and training reminders
reach a natural graduate only with her opt-in, and the welfare check-in goes once a month from
graduation.checkin_day, respecting STOP and quiet hours.

The real kabard with the scheduler's clock set by the test (test_alerts.Clock), the real
MariaDB. Every test makes its own KPM (test_admin.Data, assistant 1, WIB) and removes them,
their graduations, alerts and SMS at the end. A test whose clock is not today turns off every
rule it is not about, so that nothing is raised for the demo's KPM at a far date."""
import os
import re
import signal

from kabartest import Kabard, wait_for
from test_admin import Data, sq
from test_alerts import alerts_conf, day

RULES = ("business_closed", "help_requested", "training_missed", "silent", "revenue_drop",
         "graduation", "link_request", "relapse")


def conf(env, now, extra, replace):
    text = alerts_conf(env, now, extra)
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


class Clock:
    """test_alerts.Clock, with rule settings replaced in the text (replace: old -> new)."""

    def __init__(self, env, now, extra=None, replace=None, only=None, name="tracks"):
        self.env = env
        self.extra = dict(extra or {})
        if only is not None:
            self.extra["rules_off"] = tuple(r for r in RULES if r not in only)
        self.replace = dict(replace or {})
        self.k = Kabard(env, conf_text=conf(env, now, self.extra, self.replace), name=name)

    def __enter__(self):
        self.k.start()
        return self

    def __exit__(self, *exc):
        return self.k.__exit__(*exc)

    def ticks(self):
        log = self.k.logtext()
        assert "event=alerts_tick_failed" not in log, \
            [l for l in log.splitlines() if "failed" in l or "level=error" in l]
        return log.count("event=alerts_tick ")

    def tick_at(self, now):
        before = self.ticks()
        with open(self.k.conf, "w") as f:
            f.write(conf(self.env, now, self.extra, self.replace))
        self.k.send_signal(signal.SIGHUP)
        wait_for(lambda: self.ticks() > before, timeout=30, what="an alerts tick at %s" % now)


class Tracks(Data):
    """test_admin.Data whose KPM may be graduates: graduations, outbox SMS to them and their
    alerts go too."""

    def graduate(self, kpm, track, on):
        """A graduation as graduation.c leaves it: the history row, kpm.graduation and
        graduated_on."""
        self.env.sql("INSERT INTO graduations (kpm_id, track, reason, effective_date, decided_by_type,"
                     " decided_by_id, decided_via) VALUES (%d, %s, %s, %s, 'admin', 1, 'api')"
                     % (kpm, sq(track), sq("business_sustains" if track == "welfare" else "left_pkh"), sq(on)))
        self.env.sql("UPDATE kpm SET graduation = %s, graduated_on = %s WHERE id = %d" % (sq(track), sq(on), kpm))

    def of_track(self, track, on, label):
        kid = self.kpm("Jalur %s %s %s" % (label, track, self.tag))
        if track != "none":
            self.graduate(kid, track, on)
        return kid

    def cleanup(self):
        if self.kpms:
            ids = ",".join(str(i) for i in self.kpms)
            self.env.sql("DELETE FROM graduations WHERE kpm_id IN (%s)" % ids)
            self.env.sql("DELETE FROM outbox WHERE recipient IN (SELECT msisdn FROM kpm WHERE id IN (%s))" % ids)
            self.env.sql("DELETE FROM help_requests WHERE kpm_id IN (%s)" % ids)
        Data.cleanup(self)


def rules_of(env, kpm):
    """{rule: [(state, urgency), ...]} of a KPM's alerts."""
    out = {}
    for rule, state, urgency in env.sql("SELECT rule, state, urgency FROM alerts WHERE kpm_id = %d ORDER BY id" % kpm):
        out.setdefault(rule, []).append((state, urgency))
    return out


def at(s):
    return sq(s)


def months_before(env, d, n, dd="05"):
    return env.scalar("SELECT DATE_FORMAT(DATE(%s) - INTERVAL %d MONTH, '%%Y-%%m-%s')" % (sq(d), n, dd))


def only_these_take_reminders(env, kpms):
    """The nudge and reminders take ALERTS_BATCH rows a tick: the demo's KPM are kept out. The
    ones that had sent STOP are given back their STOP after."""
    stopped = [r[0] for r in env.sql("SELECT id FROM kpm WHERE reminders = 0")]
    env.sql("UPDATE kpm SET reminders = 0 WHERE id NOT IN (%s)" % ",".join(str(k) for k in kpms))

    def restore():
        env.sql("UPDATE kpm SET reminders = 1")
        if stopped:
            env.sql("UPDATE kpm SET reminders = 0 WHERE id IN (%s)" % ",".join(stopped))
    return restore


def test_tracks_every_rule_default_per_track(env):
    """Each rule with its default tracks, for a KPM of each track (welfare and natural graduated
    two months ago): raised or not."""
    d = day(env)
    now = "%s 03:00:00" % d
    grad = env.scalar("SELECT DATE(%s) - INTERVAL 2 MONTH" % sq(d))
    tracks = ("none", "natural", "welfare")
    with Tracks(env) as data:
        t = None
        try:
            k = {}
            for tr in tracks:
                k["closed", tr] = data.of_track(tr, grad, "tutup")
                data.business(k["closed", tr], status=3, revenue=None, at=at("%s 02:00:00" % d))
                k["drop", tr] = data.of_track(tr, grad, "turun")
                data.business(k["drop", tr], revenue=1000000, at=at("%s 01:00:00" % day(env, -20)))
                data.business(k["drop", tr], revenue=400000, at=at("%s 02:00:00" % d))
                k["silent", tr] = data.of_track(tr, grad, "diam")
                env.sql("UPDATE kpm SET created_at = %s - INTERVAL 60 DAY WHERE id = %d" % (sq(now), k["silent", tr]))
                k["cand", tr] = data.of_track(tr, grad, "calon")
                for m in (2, 1):
                    data.business(k["cand", tr], revenue=3000000, at=at(months_before(env, d, m) + " 01:00:00"))
                data.business(k["cand", tr], revenue=3000000, at=at("%s 01:00:00" % d))
                k["train", tr] = data.of_track(tr, grad, "latih")
            env.sql("INSERT INTO trainings (title, starts_at, place, region_code, attendance_code)"
                    " VALUES ('Jalur (tes) %s', '%s 02:00:00', 'Aula', '3204132005', '5556')" % (data.tag, day(env, -5)))
            t = env.scalar("SELECT id FROM trainings WHERE title = 'Jalur (tes) %s'" % data.tag)
            env.sql("INSERT INTO enrollments (training_id, kpm_id) VALUES %s"
                    % ",".join("(%s, %d)" % (t, k["train", tr]) for tr in tracks))
            with Clock(env, now, extra={"daily_cap": 1000}) as c:
                c.tick_at(now)
                c.tick_at("%s 03:10:00" % d)             # a second tick raises nothing new
            expect = {
                ("closed", "none"): ["business_closed"],
                ("closed", "natural"): [],
                ("closed", "welfare"): ["relapse"],      # a graduate's closure is a relapse risk
                ("drop", "none"): ["revenue_drop"],
                ("drop", "natural"): [],
                ("drop", "welfare"): ["relapse"],        # 60 % down, relapse.percent is 30
                ("silent", "none"): ["silent"],
                ("silent", "natural"): [],
                ("silent", "welfare"): ["silent"],       # inside her 12 months of follow-up
                ("cand", "none"): ["graduation"],
                ("cand", "natural"): [],
                ("cand", "welfare"): [],
                ("train", "none"): ["training_missed"],
                ("train", "natural"): [],
                ("train", "welfare"): [],
            }
            for key, rules in expect.items():
                got = rules_of(env, k[key])
                assert sorted(got) == sorted(rules), (key, got)
                for rule in rules:
                    assert len(got[rule]) == 1, (key, got)
            # the relapse alerts are immediate: sent at once, with the relapse text
            for key in (("closed", "welfare"), ("drop", "welfare")):
                assert rules_of(env, k[key])["relapse"] == [("sent", "immediate")], rules_of(env, k[key])
                body = env.scalar("SELECT o.body FROM alerts a JOIN alert_messages m ON m.alert_id = a.id"
                                  " JOIN outbox o ON o.id = m.outbox_id WHERE a.kpm_id = %d" % k[key])
                assert "lulus sejahtera" in body, body
        finally:
            if t is not None:
                env.sql("DELETE FROM enrollments WHERE training_id = %s" % t)
                env.sql("DELETE FROM trainings WHERE id = %s" % t)


def test_tracks_silent_welfare_only_inside_follow_up(env):
    d = day(env)
    now = "%s 03:00:00" % d
    with Tracks(env) as data:
        inside = data.of_track("welfare", env.scalar("SELECT DATE(%s) - INTERVAL 11 MONTH" % sq(d)), "dalam")
        outside = data.of_track("welfare", env.scalar("SELECT DATE(%s) - INTERVAL 13 MONTH" % sq(d)), "luar")
        unknown = data.of_track("welfare", d, "tanpa")      # a graduation older than the date
        env.sql("UPDATE kpm SET graduated_on = NULL WHERE id = %d" % unknown)
        env.sql("UPDATE kpm SET created_at = %s - INTERVAL 2 YEAR WHERE id IN (%d, %d, %d)"
                % (sq(now), inside, outside, unknown))
        with Clock(env, now, only=("silent",)) as c:
            c.tick_at(now)
        assert list(rules_of(env, inside)) == ["silent"]
        assert rules_of(env, outside) == {} and rules_of(env, unknown) == {}
        # follow-up periods are data: with welfare = 24 months the older graduate is inside
        with Clock(env, now, only=("silent",),
                   replace={"welfare = 12; natural = 0;": "welfare = 24; natural = 0;"}) as c:
            c.tick_at(now)
        assert list(rules_of(env, outside)) == ["silent"]


def candidate(env, data, tick):
    """A KPM who qualifies as a graduation candidate at `tick` (3 months of 3,000,000)."""
    kid = data.of_track("none", None, "calon")
    d = tick[:10]
    for m in (2, 1):
        data.business(kid, revenue=3000000, at=at(months_before(env, d, m) + " 01:00:00"))
    data.business(kid, revenue=3000000, at=at("%s 01:00:00" % d))
    return kid


def old_candidate_alert(env, kid, state, outcome):
    """A candidate alert raised 40 days before the tick (outside the rule's window)."""
    env.sql("INSERT INTO alerts (rule, kpm_id, assistant_id, dedupe_key, urgency, state, outcome,"
            " created_at) SELECT 'graduation', id, assistant_id, CONCAT('tracks-test:', id, ':', UUID()),"
            " 'digest', %s, %s, '2030-03-27 03:00:00' FROM kpm WHERE id = %d"
            % (sq(state), "NULL" if outcome is None else sq(outcome), kid))


def test_tracks_candidate_not_raised_again_once_decided(env):
    tick = "2030-05-06 03:00:00"
    with Tracks(env) as data:
        k = {name: candidate(env, data, tick) for name in
             ("fresh", "open", "sent", "later", "confirmed", "declined", "acked")}
        old_candidate_alert(env, k["open"], "new", None)
        old_candidate_alert(env, k["sent"], "sent", None)
        old_candidate_alert(env, k["later"], "acknowledged", "later")
        # confirmed (and her graduation revoked since: she is 'none'): never a candidate again
        old_candidate_alert(env, k["confirmed"], "acknowledged", "confirmed")
        old_candidate_alert(env, k["declined"], "acknowledged", "declined")
        env.sql("UPDATE kpm SET candidate_snooze_until = '2030-11-06' WHERE id = %d" % k["declined"])
        old_candidate_alert(env, k["acked"], "acknowledged", "called")   # acknowledged, undecided
        with Clock(env, tick, only=("graduation",)) as c:
            c.tick_at(tick)
            raised = {n: len(rules_of(env, kid).get("graduation", [])) for n, kid in k.items()}
            assert raised == {"fresh": 1, "open": 1, "sent": 1, "later": 1, "confirmed": 1,
                              "declined": 1, "acked": 2}, raised
            # the next month: the fresh one is open now (sent or not), nothing new for anyone
            env.sql("UPDATE alerts SET state = 'sent' WHERE kpm_id = %d" % k["fresh"])
            for kid in k.values():
                data.business(kid, revenue=3000000, at=at("2030-06-05 01:00:00"))
            c.tick_at("2030-06-06 03:00:00")
            raised2 = {n: len(rules_of(env, kid).get("graduation", [])) for n, kid in k.items()}
            assert raised2 == raised, raised2
            # the snooze over (a report in the last two days): the declined one comes back once
            for m in ("07", "08", "09", "10", "11"):
                data.business(k["declined"], revenue=3000000, at=at("2030-%s-05 01:00:00" % m))
            c.tick_at("2030-11-05 03:00:00")                   # the day before the snooze ends
            assert len(rules_of(env, k["declined"])["graduation"]) == 1
            data.business(k["declined"], revenue=3000000, at=at("2030-11-06 01:00:00"))
            c.tick_at("2030-11-06 03:00:00")
            assert len(rules_of(env, k["declined"])["graduation"]) == 2
            assert len(rules_of(env, k["confirmed"])["graduation"]) == 1


def test_tracks_relapse_immediate_once_per_report(env):
    tick = "2030-05-06 03:00:00"
    with Tracks(env) as data:
        w = data.of_track("welfare", "2029-09-01", "kambuh")
        late = data.of_track("welfare", "2029-04-01", "lama")         # 13 months ago
        small = data.of_track("welfare", "2029-09-01", "kecil")
        paused = data.of_track("welfare", "2029-09-01", "jeda")
        for kid in (w, late, small, paused):
            data.business(kid, revenue=2000000, at=at("2030-04-05 01:00:00"))
        data.business(w, status=3, revenue=None, at=at("2030-05-06 01:00:00"))
        data.business(late, status=3, revenue=None, at=at("2030-05-06 01:00:00"))
        data.business(small, revenue=1600000, at=at("2030-05-06 01:00:00"))   # 20 % down: no
        data.business(paused, status=2, revenue=None, at=at("2030-05-06 01:00:00"))
        with Clock(env, tick, only=("relapse",), extra={"daily_cap": 1000}) as c:
            c.tick_at(tick)
            c.tick_at("2030-05-06 03:05:00")
            rows = env.sql("SELECT a.dedupe_key, a.state, a.urgency, b.id FROM alerts a"
                           " JOIN business_reports b ON b.kpm_id = a.kpm_id AND b.status = 3"
                           " WHERE a.kpm_id = %d" % w)
            assert len(rows) == 1 and rows[0][:3] == ["relapse:%s" % rows[0][3], "sent", "immediate"], rows
            assert rules_of(env, late) == {} and rules_of(env, small) == {}
            assert rules_of(env, paused) == {"relapse": [("sent", "immediate")]}
            # a second report saying so, the next day: a second alert (per report, no window)
            data.business(w, revenue=500000, at=at("2030-05-07 01:00:00"))
            c.tick_at("2030-05-07 03:00:00")
            c.tick_at("2030-05-07 03:05:00")
            assert rules_of(env, w) == {"relapse": [("sent", "immediate")] * 2}, rules_of(env, w)
            sms = env.scalar("SELECT COUNT(*) FROM alert_messages m JOIN alerts a ON a.id = m.alert_id"
                             " WHERE a.kpm_id = %d" % w)
            assert sms == "2", sms


def test_tracks_help_and_link_reach_the_assistant_on_every_track(env):
    """A graduate's BANTUAN reaches her assistant (help_requested applies to every track by
    default); a track the rule does not name expires the alert unsent."""
    from test_sms import at_sms
    d = day(env)
    now = "%s 03:00:00" % d
    with Tracks(env) as data:
        k = {tr: data.of_track(tr, d, "bantuan") for tr in ("none", "natural", "welfare")}
        with Clock(env, now, only=("help_requested", "link_request"), extra={"daily_cap": 1000}) as c:
            for tr, kid in k.items():
                frm = env.scalar("SELECT msisdn FROM kpm WHERE id = %d" % kid)
                at_sms(c.k, frm, "BANTUAN modal", mid="tracks_%d_%s" % (os.getpid(), tr))
                env.sql("INSERT INTO alerts (rule, kpm_id, assistant_id, dedupe_key, urgency) SELECT"
                        " 'link_request', id, assistant_id, CONCAT('link:tracks-', id), 'immediate'"
                        " FROM kpm WHERE id = %d" % kid)
            c.tick_at(now)
        for tr, kid in k.items():
            assert rules_of(env, kid) == {"help_requested": [("sent", "immediate")],
                                          "link_request": [("sent", "immediate")]}, (tr, rules_of(env, kid))
        # help_requested named for KPM who have not graduated only: a welfare graduate's expires
        w = data.of_track("welfare", d, "bantuan2")
        with Clock(env, now, only=("help_requested",),
                   replace={'help_requested = { enabled = true; urgency = "immediate";\n'
                            '                       tracks = ["none", "natural", "welfare"]; };':
                            'help_requested = { enabled = true; urgency = "immediate"; tracks = ["none"]; };'}) as c:
            frm = env.scalar("SELECT msisdn FROM kpm WHERE id = %d" % w)
            at_sms(c.k, frm, "BANTUAN modal", mid="tracks_%d_w2" % os.getpid())
            c.tick_at(now)
        assert rules_of(env, w) == {"help_requested": [("expired", "immediate")]}, rules_of(env, w)


def test_tracks_nudges_and_reminders_to_natural_graduates_only_with_opt_in(env):
    tick = "2030-07-26 03:00:00"                              # 10:00 WIB, nudge_day 25
    with Tracks(env) as data:
        k = {"none": data.of_track("none", None, "ajak"),
             "natural": data.of_track("natural", "2030-01-10", "ajak"),
             "natural_opt_in": data.of_track("natural", "2030-01-10", "ajak"),
             "welfare": data.of_track("welfare", "2030-01-10", "ajak")}
        env.sql("UPDATE kpm SET support_opt_in = 1 WHERE id = %d" % k["natural_opt_in"])
        env.sql("INSERT INTO trainings (title, starts_at, place, region_code, attendance_code)"
                " VALUES ('Jalur ajak %s', '2030-07-27 02:00:00', 'Aula', '3204132005', '5557')" % data.tag)
        t = env.scalar("SELECT id FROM trainings WHERE title = 'Jalur ajak %s'" % data.tag)
        env.sql("INSERT INTO enrollments (training_id, kpm_id) VALUES %s"
                % ",".join("(%s, %d)" % (t, kid) for kid in k.values()))
        restore = only_these_take_reminders(env, list(k.values()))
        try:
            def got(prefix):
                keys = {r[0] for r in env.sql("SELECT idempotency_key FROM outbox WHERE idempotency_key LIKE %s"
                                               % sq(prefix + "%"))}
                return {n for n, kid in k.items() if any(x.endswith(":%d" % kid) for x in keys)}
            with Clock(env, tick, only=()) as c:
                c.tick_at(tick)
            assert got("nudge:2030-07:") == {"none", "natural_opt_in", "welfare"}, got("nudge:2030-07:")
            assert got("remind:%s:" % t) == {"none", "natural_opt_in", "welfare"}, got("remind:%s:" % t)
            # natural listed: every natural graduate; welfare no longer listed
            with Clock(env, "2030-08-26 03:00:00", only=(),
                       extra={"nudge_tracks": '["none", "natural"]'}) as c:
                c.tick_at("2030-08-26 03:00:00")
            assert got("nudge:2030-08:") == {"none", "natural", "natural_opt_in"}, got("nudge:2030-08:")
        finally:
            restore()
            env.sql("DELETE FROM enrollments WHERE training_id = %s" % t)
            env.sql("DELETE FROM trainings WHERE id = %s" % t)


def test_tracks_welfare_checkin_once_a_month_respecting_stop_and_quiet_hours(env):
    with Tracks(env) as data:
        k = {"welfare": data.of_track("welfare", "2029-06-01", "cek"),
             "stopped": data.of_track("welfare", "2029-06-01", "cek"),
             "over": data.of_track("welfare", "2028-12-01", "cek"),   # follow-up ended 2029-12-01
             "natural": data.of_track("natural", "2029-06-01", "cek"),
             "none": data.of_track("none", None, "cek")}
        env.sql("UPDATE kpm SET support_opt_in = 1 WHERE id = %d" % k["natural"])
        restore = only_these_take_reminders(env, [kid for n, kid in k.items() if n != "stopped"])
        try:
            def sent():
                rows = env.sql("SELECT idempotency_key, body FROM outbox WHERE idempotency_key LIKE 'checkin:%%'"
                               " AND recipient IN (SELECT msisdn FROM kpm WHERE id IN (%s))"
                               % ",".join(str(x) for x in k.values()))
                return sorted(r[0] for r in rows), [r[1] for r in rows]
            welfare = k["welfare"]
            with Clock(env, "2030-01-04 03:00:00", only=(),
                       extra={"nudge_day": 0, "remind_hours": 0}) as c:
                assert sent()[0] == []
                c.tick_at("2030-01-04 03:00:00")               # the day before checkin_day (5)
                assert sent()[0] == []
                c.tick_at("2030-01-05 15:00:00")               # 22:00 WIB: quiet
                assert sent()[0] == []
                c.tick_at("2030-01-06 00:30:00")               # 07:30 WIB: due, caught up
                keys, bodies = sent()
                assert keys == ["checkin:2030-01:%d" % welfare], keys
                assert "cek bulanan" in bodies[0], bodies
                c.tick_at("2030-01-20 03:00:00")               # once a month
                assert sent()[0] == ["checkin:2030-01:%d" % welfare]
                c.tick_at("2030-02-05 03:00:00")
                assert sent()[0] == ["checkin:2030-01:%d" % welfare, "checkin:2030-02:%d" % welfare]
        finally:
            restore()
