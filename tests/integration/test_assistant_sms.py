"""The assistants' SMS (issue 12), through the real kabard and MariaDB: OK n <outcome>, CEK <pkh>,
KUNJUNG <pkh> <outcome> [YA|TIDAK], LULUS <pkh> <track>. Each acts only on the sender's own
caseload: another assistant's KPM or alert answers exactly as one that does not exist, and
nothing is written. A retried MO writes nothing twice; every change is audited as assistant:ID.
A KPM sending these words gets the KPM usage, an unknown number the unknown-number reply.

Assistants 1 and 2 of the demo data (+628130000001, +628130000002) are A and B; every test
makes its own KPM (test_admin.Data) and removes them, with their visits and graduations."""
import datetime

from kabartest import Kabard
from test_admin import Data, sq
from test_faults import _fired, _need_faults
from test_sms import at_sms, new_mid, reply_of

A, B = 1, 2
PHONE = {A: "+628130000001", B: "+628130000002"}
USAGE_ASSISTANT = "Kabar pendamping: CEK"
USAGE_ACK = "Format: OK <nomor peringatan> [hasil]"


class AsstData(Data):
    """test_admin.Data whose KPM may have home visits and graduations: those go first."""

    def cleanup(self):
        if self.kpms:
            ids = ",".join(str(i) for i in self.kpms)
            self.env.sql("DELETE FROM home_visits WHERE kpm_id IN (%s); "
                         "DELETE FROM graduations WHERE kpm_id IN (%s)" % (ids, ids))
        Data.cleanup(self)

    def pkh(self, kpm):
        return self.env.scalar("SELECT pkh_number FROM kpm WHERE id = %d" % kpm)

    def missing_pkh(self):
        """A PKH number of the same shape that no KPM has."""
        for n in range(10 ** 11 - 1, 0, -7919):
            pkh = "9%011d" % n
            if self.env.scalar("SELECT COUNT(*) FROM kpm WHERE pkh_number = %s" % sq(pkh)) == "0":
                return pkh
        raise AssertionError("no free PKH number")


def sms(env, k, frm, text, mid=None):
    # a tag of our own: test_sms.py's counter may run in another copy of its module
    mid, r = at_sms(k, frm, text, mid or new_mid("ATXasst"))
    assert r.status == 200, (text, r.status)
    return mid, reply_of(env, mid)[0]


def say(env, k, who, text, mid=None):
    return sms(env, k, PHONE[who], text, mid)[1]


def today_wib():
    return (datetime.datetime.utcnow() + datetime.timedelta(hours=7)).strftime("%Y-%m-%d")


def one_part(body):
    """GSM-7 basic characters only here, so a part is 160 of them."""
    return len(body) <= 160


def audits(env, target_type, target_id, action=None, actor=None):
    q = ("SELECT COUNT(*) FROM audit_log WHERE target_type = %s AND target_id = %d"
         % (sq(target_type), target_id))
    if action:
        q += " AND action = %s" % sq(action)
    if actor:
        q += " AND actor = %s" % sq(actor)
    return int(env.scalar(q))


def written(env, kpm):
    """Everything an assistant's SMS could write about a KPM."""
    return env.sql("SELECT (SELECT COUNT(*) FROM home_visits WHERE kpm_id = %d),"
                   " (SELECT COUNT(*) FROM graduations WHERE kpm_id = %d),"
                   " (SELECT graduation FROM kpm WHERE id = %d),"
                   " (SELECT COUNT(*) FROM alerts WHERE kpm_id = %d AND (outcome IS NOT NULL"
                   "  OR state = 'acknowledged')),"
                   " (SELECT COUNT(*) FROM audit_log WHERE target_type = 'kpm' AND target_id = %d)"
                   % (kpm, kpm, kpm, kpm, kpm))[0]


def test_assistant_sms_cek_her_kpm_in_one_part(env):
    with Kabard(env) as k, AsstData(env) as d:
        kid = d.kpm("Sari %s Lestari" % d.tag, assistant=A)
        d.business(kid, status=1, revenue=2500000, at="NOW(3) - INTERVAL 2 DAY")
        d.business(kid, status=1, revenue=3750000)
        d.alert(kid, assistant=A, rule="silent")
        d.alert(kid, assistant=A, rule="revenue_drop")
        d.alert(kid, assistant=A, rule="help_requested", state="acknowledged")
        pkh = d.pkh(kid)
        body = say(env, k, A, "CEK %s" % pkh)
        assert body == ("Sari %s Lestari (%s): lapor usaha %s BUKA Rp3.750.000. Peringatan"
                        " terbuka: 2." % (d.tag, pkh, today_wib())), body
        assert one_part(body), body
        body = say(env, k, A, "check %s" % pkh)
        assert body.startswith("Sari %s Lestari (%s): business report " % (d.tag, pkh)), body
        assert "OPEN Rp3.750.000. Open alerts: 2." in body, body
        # a closed business has no revenue to show
        d.business(kid, status=3, revenue=None)
        body = say(env, k, A, "cek no pkh %s" % pkh)
        assert " TUTUP. Peringatan terbuka: 2." in body, body
        # never reported
        k2 = d.kpm("Wati %s" % d.tag, assistant=A)
        body = say(env, k, A, "CEK %s" % d.pkh(k2))
        assert body == "Wati %s (%s): belum pernah lapor usaha. Peringatan terbuka: 0." % (
            d.tag, d.pkh(k2)), body
        # a long name is cut, not the facts, so the reply stays one part
        k3 = d.kpm("Siti Nurhaliza Rahmawati Kusumawardhani Putri Ayu Lestari Wulandari %s"
                   " Binti Haji Abdul" % d.tag, assistant=A)
        d.business(k3, status=1, revenue=1000000)
        body = say(env, k, A, "CEK %s" % d.pkh(k3))
        assert one_part(body) and body.startswith("Siti Nurhaliza") and "Abdul" not in body, body
        assert body.endswith("(%s): lapor usaha %s BUKA Rp1.000.000. Peringatan terbuka: 0."
                             % (d.pkh(k3), today_wib())), body
        # CEK reads, writes nothing
        assert written(env, kid) == ["0", "0", "none", "1", "0"]


def test_assistant_sms_kunjung_records_a_visit_once(env):
    with Kabard(env) as k, AsstData(env) as d:
        kid = d.kpm("Rina %s" % d.tag, assistant=A)
        pkh = d.pkh(kid)
        mid, body = sms(env, k, PHONE[A], "KUNJUNG %s 1 YA" % pkh)
        rows = env.sql("SELECT id, assistant_id, DATE_FORMAT(visit_date, '%%Y-%%m-%%d'), outcome,"
                       " business_running, source, channel, session_id FROM home_visits"
                       " WHERE kpm_id = %d" % kid)
        assert len(rows) == 1, rows
        vid = rows[0][0]
        assert rows[0][1:] == [str(A), today_wib(), "1", "1", "sms", "demo", "sms:" + mid], rows
        assert body == "Kunjungan ke Rina %s (%s) %s tercatat. No. %s." % (
            d.tag, pkh, today_wib(), vid), body
        assert audits(env, "kpm", kid, "visit.record", "assistant:%d" % A) == 1
        # the aggregator retries the MO: the same reply, nothing written twice
        mid2, body2 = sms(env, k, PHONE[A], "KUNJUNG %s 1 YA" % pkh, mid=mid)
        assert mid2 == mid and body2 == body
        assert env.scalar("SELECT COUNT(*) FROM home_visits WHERE kpm_id = %d" % kid) == "1"
        assert audits(env, "kpm", kid, "visit.record") == 1
        # words, English, and "not said"
        body = say(env, k, A, "visit %s moved no" % pkh)
        assert body.startswith("Visit to Rina %s (%s) on %s recorded. No. " % (d.tag, pkh, today_wib())), body
        say(env, k, A, "kunjungan %s tidak di rumah" % pkh)
        assert env.sql("SELECT outcome, COALESCE(business_running, 'NULL') FROM home_visits"
                       " WHERE kpm_id = %d ORDER BY id" % kid) == [["1", "1"], ["3", "0"], ["2", "NULL"]]
        assert audits(env, "kpm", kid, "visit.record", "assistant:%d" % A) == 3
        # a code kabard.conf does not list: her usage, nothing written
        body = say(env, k, A, "KUNJUNG %s 42 YA" % pkh)
        assert body.startswith(USAGE_ASSISTANT), body
        assert env.scalar("SELECT COUNT(*) FROM home_visits WHERE kpm_id = %d" % kid) == "3"


def test_assistant_sms_lulus_records_a_graduation_once(env):
    with Kabard(env) as k, AsstData(env) as d:
        kid = d.kpm("Yuni %s" % d.tag, assistant=A)
        pkh = d.pkh(kid)
        mid, body = sms(env, k, PHONE[A], "LULUS %s SEJAHTERA" % pkh)
        rows = env.sql("SELECT id, track, reason, DATE_FORMAT(effective_date, '%%Y-%%m-%%d'),"
                       " decided_by_type, decided_by_id, decided_via, idem_key FROM graduations"
                       " WHERE kpm_id = %d" % kid)
        assert len(rows) == 1, rows
        gid = rows[0][0]
        assert rows[0][1:] == ["welfare", "business_sustains", today_wib(), "assistant", str(A),
                               "sms", "sms:demo:" + mid], rows
        assert body == "Graduasi SEJAHTERA Yuni %s (%s) mulai %s tercatat. No. %s." % (
            d.tag, pkh, today_wib(), gid), body
        assert env.sql("SELECT graduation, DATE_FORMAT(graduated_on, '%%Y-%%m-%%d') FROM kpm"
                       " WHERE id = %d" % kid) == [["welfare", today_wib()]]
        assert audits(env, "kpm", kid, "graduation.record", "assistant:%d" % A) == 1
        _, body2 = sms(env, k, PHONE[A], "LULUS %s SEJAHTERA" % pkh, mid=mid)
        assert body2 == body
        assert env.scalar("SELECT COUNT(*) FROM graduations WHERE kpm_id = %d" % kid) == "1"
        assert audits(env, "kpm", kid, "graduation.record") == 1
        # the natural track, in English: its first configured reason
        body = say(env, k, A, "graduate %s natural" % pkh)
        assert body.startswith("NATURAL graduation of Yuni %s (%s) from %s recorded." % (
            d.tag, pkh, today_wib())), body
        assert env.sql("SELECT track, reason FROM graduations WHERE kpm_id = %d ORDER BY id"
                       % kid) == [["welfare", "business_sustains"], ["natural", "left_pkh"]]
        assert env.scalar("SELECT graduation FROM kpm WHERE id = %d" % kid) == "natural"
        assert audits(env, "kpm", kid, "graduation.record", "assistant:%d" % A) == 2


def test_assistant_sms_ok_with_an_outcome(env):
    with Kabard(env) as k, AsstData(env) as d:
        kid = d.kpm("Dewi %s" % d.tag, assistant=A)
        who = "assistant:%d" % A

        def alert_row(aid):
            return env.sql("SELECT state, COALESCE(outcome, 'NULL'), COALESCE(outcome_by, 'NULL'),"
                           " COALESCE(outcome_note, 'NULL') FROM alerts WHERE id = %d" % aid)[0]

        # a contact outcome: recorded, the alert acknowledged, audited
        a1 = d.alert(kid, assistant=A, rule="silent")
        mid, body = sms(env, k, PHONE[A], "OK %d DITELEPON" % a1)
        assert body == "Peringatan %d: DITELEPON tercatat. Terima kasih." % a1, body
        assert alert_row(a1) == ["acknowledged", "called", who, "NULL"]
        assert audits(env, "alert", a1, "alert.outcome", who) == 1
        sms(env, k, PHONE[A], "OK %d DITELEPON" % a1, mid=mid)
        assert audits(env, "alert", a1, "alert.outcome") == 1
        # a later one replaces it; English words answer in English
        body = say(env, k, A, "ok %d no action" % a1)
        assert body == "Alert %d: NO ACTION recorded. Thank you." % a1, body
        assert alert_row(a1)[1] == "no_action"
        say(env, k, A, "OK %d tidak bisa dihubungi" % a1)
        assert alert_row(a1)[1] == "unreachable"
        # a graduation candidate declined: its reason kept, no new candidate for a while
        a2 = d.alert(kid, assistant=A, rule="graduation")
        body = say(env, k, A, "OK %d TOLAK usaha baru jalan 2 bulan" % a2)
        assert body == "Peringatan %d: TOLAK tercatat. Terima kasih." % a2, body
        assert alert_row(a2) == ["acknowledged", "declined", who, "usaha baru jalan 2 bulan"]
        assert env.scalar("SELECT candidate_snooze_until > CURDATE() FROM kpm WHERE id = %d" % kid) == "1"
        # decided: another outcome is refused, nothing changes
        body = say(env, k, A, "OK %d LULUS" % a2)
        assert body.startswith("Peringatan %d tidak bisa diberi hasil itu" % a2), body
        assert alert_row(a2)[1] == "declined"
        # later leaves it open
        a3 = d.alert(kid, assistant=A, rule="graduation")
        say(env, k, A, "OK %d NANTI" % a3)
        assert alert_row(a3)[:2] == ["new", "later"]
        # confirmed records a welfare graduation keyed by the alert
        body = say(env, k, A, "ok %d confirm" % a3)
        assert body == "Alert %d: CONFIRM recorded. Thank you." % a3, body
        assert alert_row(a3)[:2] == ["acknowledged", "confirmed"]
        assert env.sql("SELECT track, decided_by_type, decided_by_id, decided_via, idem_key"
                       " FROM graduations WHERE kpm_id = %d" % kid) == [
            ["welfare", "assistant", str(A), "sms", "alert:%d" % a3]]
        assert audits(env, "kpm", kid, "graduation.record", who) == 1
        # a candidate's outcome on another rule's alert is refused
        a4 = d.alert(kid, assistant=A, rule="silent")
        body = say(env, k, A, "OK %d LULUS" % a4)
        assert body.startswith("Peringatan %d tidak bisa" % a4), body
        assert alert_row(a4) == ["new", "NULL", "NULL", "NULL"]
        # a bare OK n is the acknowledgement it always was: no outcome, no audit row
        body = say(env, k, A, "OK %d" % a4)
        assert body == "Peringatan %d dicatat sebagai ditangani. Terima kasih." % a4, body
        assert alert_row(a4) == ["acknowledged", "NULL", "NULL", "NULL"]
        assert audits(env, "alert", a4) == 0


def test_assistant_sms_malformed_gets_her_usage_and_writes_nothing(env):
    with Kabard(env) as k, AsstData(env) as d:
        kid = d.kpm("Nur %s" % d.tag, assistant=A)
        pkh = d.pkh(kid)
        a1 = d.alert(kid, assistant=A, rule="graduation")
        cases = [
            ("CEK", USAGE_ASSISTANT),
            ("CEK siti", USAGE_ASSISTANT),
            ("CEK %s1x" % pkh, USAGE_ASSISTANT),
            ("CEK 123456789012345678901", USAGE_ASSISTANT),
            ("CEK %s %s" % (pkh, pkh), USAGE_ASSISTANT),
            ("KUNJUNG", USAGE_ASSISTANT),
            ("KUNJUNG %s" % pkh, USAGE_ASSISTANT),
            ("KUNJUNG %s 0" % pkh, USAGE_ASSISTANT),
            ("KUNJUNG %s 100 YA" % pkh, USAGE_ASSISTANT),
            ("KUNJUNG %s ngobrol" % pkh, USAGE_ASSISTANT),
            ("KUNJUNG %s 1 YA 2" % pkh, USAGE_ASSISTANT),
            ("LULUS", USAGE_ASSISTANT),
            ("LULUS %s" % pkh, USAGE_ASSISTANT),
            ("LULUS %s kaya" % pkh, USAGE_ASSISTANT),
            ("LULUS SEJAHTERA %s" % pkh, USAGE_ASSISTANT),
            ("OK", USAGE_ACK),
            ("OK DITELEPON", USAGE_ACK),
            ("OK %d TOLAK" % a1, USAGE_ACK),
            ("OK %d DITELEPON 5" % a1, USAGE_ACK),
            ("USAHA BUKA 2500000 3", USAGE_ASSISTANT),  # a KPM's words from an assistant
            ("halo bu", USAGE_ASSISTANT),
        ]
        for text, want in cases:
            body = say(env, k, A, text)
            assert body.startswith(want), (text, body)
        en = say(env, k, A, "VISIT %s" % pkh)
        assert en.startswith("Kabar assistants: CHECK"), en
        assert written(env, kid) == ["0", "0", "none", "0", "0"]
        assert audits(env, "alert", a1) == 0


def test_assistant_sms_another_assistants_kpm_is_one_that_does_not_exist(env):
    """B asks about A's KPM and alerts: the replies are those for a PKH number or an alert that
    does not exist (up to the number she sent), and nothing is written."""
    with Kabard(env) as k, AsstData(env) as d:
        kid = d.kpm("Ani %s" % d.tag, assistant=A)
        d.business(kid, status=1, revenue=2000000)
        pkh, nopkh = d.pkh(kid), d.missing_pkh()
        silent = d.alert(kid, assistant=A, rule="silent")
        cand = d.alert(kid, assistant=A, rule="graduation")
        noalert = int(env.scalar("SELECT COALESCE(MAX(id), 0) + 1000000 FROM alerts"))
        for cmd in ("CEK {}", "CHECK {}", "KUNJUNG {} 1 YA", "VISIT {} met", "LULUS {} SEJAHTERA",
                    "GRADUATE {} natural"):
            theirs = say(env, k, B, cmd.format(pkh))
            nobody = say(env, k, B, cmd.format(nopkh))
            assert theirs.replace(pkh, "#") == nobody.replace(nopkh, "#"), (cmd, theirs, nobody)
            assert "Ani" not in theirs and "Rp" not in theirs, theirs
        assert nobody == "None of your KPM has PKH number %s." % nopkh, nobody
        for cmd in ("OK {}", "OK {} DITELEPON", "ok {} no action", "OK {} LULUS",
                    "OK {} TOLAK belum siap", "OK {} NANTI"):
            for aid in (silent, cand):
                theirs = say(env, k, B, cmd.format(aid))
                nobody = say(env, k, B, cmd.format(noalert))
                assert theirs.replace(str(aid), "#") == nobody.replace(str(noalert), "#"), (
                    cmd, theirs, nobody)
        assert written(env, kid) == ["0", "0", "none", "0", "0"]
        assert env.sql("SELECT state, COALESCE(outcome, 'NULL') FROM alerts WHERE id IN (%d, %d)"
                       " ORDER BY id" % (silent, cand)) == [["new", "NULL"], ["new", "NULL"]]
        assert audits(env, "alert", silent) == audits(env, "alert", cand) == 0
        assert env.scalar("SELECT candidate_snooze_until IS NULL FROM kpm WHERE id = %d" % kid) == "1"
        # and A, whose KPM she is, can
        assert say(env, k, A, "CEK %s" % pkh).startswith("Ani %s (%s)" % (d.tag, pkh))


def test_assistant_words_from_a_kpm_or_an_unknown_number(env):
    with Kabard(env) as k, AsstData(env) as d:
        kid = d.kpm("Lina %s" % d.tag, assistant=A)
        other = d.kpm("Maya %s" % d.tag, assistant=A)
        pkh = d.pkh(other)
        aid = d.alert(other, assistant=A, rule="graduation")
        kpm_phone = env.scalar("SELECT msisdn FROM kpm WHERE id = %d" % kid)
        for text in ("CEK %s" % pkh, "KUNJUNG %s 1 YA" % pkh, "LULUS %s SEJAHTERA" % pkh,
                     "OK %d LULUS" % aid, "CEK"):
            _, body = sms(env, k, kpm_phone, text)
            assert body.startswith("Kabar: USAHA BUKA"), (text, body)   # the KPM usage
            _, body = sms(env, k, "+628999000123", text)
            assert body.startswith("Nomor ini belum terdaftar"), (text, body)
            assert "Maya" not in body and pkh not in body
        assert written(env, other) == ["0", "0", "none", "0", "0"]
        assert written(env, kid) == ["0", "0", "none", "0", "0"]


def test_assistant_sms_commit_lost_writes_once(env):
    """sms_process re-run after a lost COMMIT, for each writing command: one visit, one
    graduation, one outcome, each with one audit row, and the first run's reply."""
    _need_faults(env)
    fault = "commit_lost:sms_process=1"
    with AsstData(env) as d:
        kid = d.kpm("Hilang %s" % d.tag, assistant=A)
        pkh = d.pkh(kid)
        cand = d.alert(kid, assistant=A, rule="graduation")
        for text in ("KUNJUNG %s 1 YA" % pkh, "LULUS %s ALAMIAH" % pkh, "OK %d LULUS" % cand):
            with Kabard(env, name="asst-lost", environ={"KABAR_FAULTS": fault}) as k:
                _, body = sms(env, k, PHONE[A], text)
                assert _fired(k, "commit_lost:sms_process") == 1, "the fault did not fire"
                assert "tercatat" in body, (text, body)
        assert env.scalar("SELECT COUNT(*) FROM home_visits WHERE kpm_id = %d" % kid) == "1"
        assert env.sql("SELECT track, idem_key LIKE 'sms:%%' FROM graduations WHERE kpm_id = %d"
                       " ORDER BY id" % kid) == [["natural", "1"], ["welfare", "0"]]
        who = "assistant:%d" % A
        assert audits(env, "kpm", kid, "visit.record", who) == 1
        assert audits(env, "kpm", kid, "graduation.record", who) == 2
        assert audits(env, "alert", cand, "alert.outcome", who) == 1
        assert env.scalar("SELECT outcome FROM alerts WHERE id = %d" % cand) == "confirmed"
