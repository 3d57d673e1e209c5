"""The assistant's own USSD menu (issue 12), end to end: the real kabard over loopback, Africa's
Talking hops, the real MariaDB. Her open alerts with an outcome each, a look-up of one of HER
KPM by PKH number, a home visit, a graduation candidate confirmed or declined, a phone-link
request approved, her language. Every action is audited as 'assistant:ID' and written once,
however often a hop is retried. Scope: another assistant's KPM and a PKH number that does not
exist give the same screen, and nothing is written.

Every test makes its own assistants and KPM and removes them at the end."""
import datetime
import itertools
import os
import random

from kabartest import Kabard
from test_admin import Data, sq
from test_faults import _fired, _need_faults
from test_ussd import AT as _AT, option

TAG = "asst"
_sids = itertools.count(1)


def AT(k, phone):
    """A session with an id of this module's own: test_ussd.py's counter exists once per import
    of it (run.py loads the file apart from the modules that import it), so ids drawn from it
    here could meet its own tests' sessions."""
    return _AT(k, phone=phone, sid="%s-%d-%d" % (TAG, os.getpid(), next(_sids)))


class AsstData(Data):
    """test_admin.Data with assistants of its own (and what they wrote)."""

    def __init__(self, env):
        Data.__init__(self, env)
        self.assistants = []

    def assistant(self, name, lang="id"):
        for _ in range(20):
            phone = "+62858%07d" % random.randint(0, 9999999)
            if self.env.scalar("SELECT COUNT(*) FROM assistants WHERE msisdn = %s" % sq(phone)) == "0" \
                    and self.env.scalar("SELECT COUNT(*) FROM kpm WHERE msisdn = %s" % sq(phone)) == "0":
                break
        self.env.sql("INSERT INTO assistants (name, msisdn, region_code, tz, language) VALUES "
                     "(%s, %s, '3204132005', 'WIB', %s)" % (sq(name), sq(phone), sq(lang)))
        aid = int(self.env.scalar("SELECT id FROM assistants WHERE msisdn = %s" % sq(phone)))
        self.assistants.append(aid)
        return aid, phone

    def cleanup(self):
        if self.kpms:
            ids = ",".join(str(i) for i in self.kpms)
            self.env.sql("DELETE FROM home_visits WHERE kpm_id IN (%s); "
                         "DELETE FROM graduations WHERE kpm_id IN (%s); "
                         "DELETE FROM link_requests WHERE kpm_id IN (%s); "
                         "DELETE FROM alerts WHERE kpm_id IN (%s)" % (ids, ids, ids, ids))
        Data.cleanup(self)
        if self.assistants:
            ids = ",".join(str(i) for i in self.assistants)
            self.env.sql("DELETE FROM audit_log WHERE actor IN (%s); DELETE FROM assistants WHERE id IN (%s)"
                         % (",".join(sq("assistant:%d" % i) for i in self.assistants), ids))


def audit(env, aid, action=None):
    q = "SELECT action, target_type, target_id FROM audit_log WHERE actor = 'assistant:%d'" % aid
    if action:
        q += " AND action = %s" % sq(action)
    return env.sql(q + " ORDER BY id")


def pkh_of(env, kpm):
    return env.scalar("SELECT pkh_number FROM kpm WHERE id = %d" % kpm)


def today_wib():
    return (datetime.datetime.utcnow() + datetime.timedelta(hours=7)).strftime("%Y-%m-%d")


def test_assistant_menu_lists_her_alerts_newest_first_and_records_an_outcome(env):
    with Kabard(env, name="asst-alerts") as k, AsstData(env) as d:
        aid, phone = d.assistant("Rina Uji")
        other, _ = d.assistant("Sari Lain")
        k1 = d.kpm("Ani Pertama", assistant=aid)
        k2 = d.kpm("Budi Kedua", assistant=aid)
        k3 = d.kpm("Cici Lain", assistant=other)
        old = d.alert(k1, assistant=aid, rule="silent")
        new = d.alert(k2, assistant=aid, rule="help_requested")
        d.alert(k3, assistant=other, rule="silent")
        env.sql("UPDATE alerts SET created_at = NOW(3) - INTERVAL 1 DAY WHERE id = %d" % old)
        s = AT(k, phone=phone)
        kind, menu = s.start()
        assert kind == "CON" and "Rina Uji" in menu and "Peringatan (2)" in menu, menu
        kind, lst = s.send("1")
        assert kind == "CON", lst
        lines = lst.splitlines()
        assert "Budi Kedua" in lines[1] and "Ani Pertama" in lines[2], lst  # newest first
        assert "Cici Lain" not in lst, lst  # another assistant's alert
        kind, detail = s.send("1")
        assert "Budi Kedua" in detail and pkh_of(env, k2) in detail, detail
        kind, done = s.send(option(detail, "Sudah ditelepon"))
        assert kind == "CON" and "Tersimpan" in done, done
        assert env.sql("SELECT outcome, state, outcome_by FROM alerts WHERE id = %d" % new) == \
            [["called", "acknowledged", "assistant:%d" % aid]]
        assert audit(env, aid, "alert.outcome") == [["alert.outcome", "alert", str(new)]]
        # the aggregator retries the hop: the same screen, nothing written twice
        assert s.post("*".join(s.inputs)) == ("CON", done)
        assert len(audit(env, aid)) == 1
        # back: the list again, without the alert just decided
        kind, lst2 = s.send("0")
        assert "Budi Kedua" not in lst2 and "Ani Pertama" in lst2, lst2


def test_assistant_alert_list_is_paged_and_a_long_name_fits_its_screen(env):
    with Kabard(env, name="asst-paged") as k, AsstData(env) as d:
        aid, phone = d.assistant("Rina Paging")
        for i in range(12):
            d.alert(d.kpm("KPM Nomor %02d Dengan Nama Yang Panjang" % i, assistant=aid),
                    assistant=aid, rule="training_missed")
        s = AT(k, phone=phone)
        s.start()
        kind, page1 = s.send("1")
        assert "99 Lanjut" in page1 and len(page1) <= 182, page1
        kind, page2 = s.send("99")
        assert page2 != page1 and "Absen pelatihan: KPM Nomor" in page2, page2
        first2 = page2.splitlines()[1].split(" ")[0]
        assert int(first2) > 1, page2  # numbering goes on across pages
        kind, detail = s.send(first2)
        # a long name is cut so that the alert and its five outcomes fit one screen
        assert "PKH" in detail and "5 Tidak perlu tindakan" in detail, detail
        assert len(detail) <= 182 and "Yang Panjang" not in detail, (len(detail), detail)


def test_assistant_lookup_of_another_assistants_kpm_or_an_unknown_pkh_is_the_same_screen(env):
    with Kabard(env, name="asst-scope") as k, AsstData(env) as d:
        a, pa = d.assistant("Rina Pemilik")
        b, pb = d.assistant("Sari Tetangga")
        ka = d.kpm("Dewi Rahasia", assistant=a)
        d.business(ka, status=1, revenue=2500000)
        d.alert(ka, assistant=a)
        pkh = pkh_of(env, ka)
        unknown = "8" + pkh[1:]
        while env.scalar("SELECT COUNT(*) FROM kpm WHERE pkh_number = %s" % sq(unknown)) != "0":
            unknown = "8%011d" % random.randint(0, 10 ** 11 - 1)
        before = env.scalar("SELECT COUNT(*) FROM audit_log")
        screens = []
        for p in (pkh, unknown):
            for item in ("2", "3"):  # look up, and a visit's look-up
                s = AT(k, phone=pb)
                s.start()
                s.send(item)
                screens.append(s.send(p))
        assert all(x == screens[0] for x in screens), screens
        assert "Dewi" not in screens[0][1] and "tidak ditemukan" in screens[0][1], screens[0]
        assert env.scalar("SELECT COUNT(*) FROM audit_log") == before
        assert env.scalar("SELECT COUNT(*) FROM home_visits WHERE kpm_id = %d" % ka) == "0"
        # her own assistant sees her: name, latest report, open alerts
        s = AT(k, phone=pa)
        s.start()
        s.send("2")
        kind, found = s.send(pkh)
        assert "Dewi Rahasia" in found and "Berjalan" in found and "2500000" in found, found
        assert "Peringatan terbuka: 1" in found, found


def test_assistant_records_a_home_visit_once(env):
    with Kabard(env, name="asst-visit") as k, AsstData(env) as d:
        aid, phone = d.assistant("Rina Kunjung")
        kpm = d.kpm("Eka Dikunjungi", assistant=aid)
        s = AT(k, phone=phone)
        s.start()
        s.send("3")
        kind, date = s.send(pkh_of(env, kpm))
        assert "HHBB" in date, date
        kind, bad = s.send("3113")  # not a date
        assert "Pilihan tidak ada" in bad, bad
        kind, outcomes = s.send("1")  # today
        assert "Bertemu KPM" in outcomes, outcomes
        kind, running = s.send("1")
        kind, confirm = s.send("1")
        assert "Eka Dikunjungi" in confirm and "Bertemu KPM" in confirm, confirm
        kind, done = s.send("1")
        assert "Tersimpan" in done, done
        assert s.post("*".join(s.inputs)) == ("CON", done)  # a retried hop
        rows = env.sql("SELECT assistant_id, DATE_FORMAT(visit_date, '%%Y-%%m-%%d'), outcome,"
                       " business_running, source FROM home_visits WHERE kpm_id = %d" % kpm)
        assert rows == [[str(aid), today_wib(), "1", "1", "ussd"]], rows
        assert audit(env, aid) == [["visit.record", "kpm", str(kpm)]]
        # from the look-up screen, a second visit in the same session is a second row
        s.send("00")
        s.send("2")
        kind, found = s.send(pkh_of(env, kpm))
        s.send("1")
        s.send("1")
        s.send("2")
        s.send("3")
        kind, done2 = s.send("1")
        assert "Tersimpan" in done2, done2
        assert env.scalar("SELECT COUNT(*) FROM home_visits WHERE kpm_id = %d" % kpm) == "2"


def test_assistant_actions_commit_lost_write_once(env):
    """Her jobs re-run after a lost COMMIT (db.c does that): one visit, one outcome, one audit
    row each, and the screen says saved."""
    _need_faults(env)
    faults = "commit_lost:ussd_assistant_visit=1,commit_lost:ussd_assistant_outcome=1"
    with Kabard(env, name="asst-lost", environ={"KABAR_FAULTS": faults}) as k, AsstData(env) as d:
        aid, phone = d.assistant("Rina Hilang")
        kpm = d.kpm("Intan Hilang", assistant=aid)
        alert = d.alert(kpm, assistant=aid, rule="silent")
        s = AT(k, phone=phone)
        s.start()
        s.send("3")
        s.send(pkh_of(env, kpm))
        for key in ("1", "1", "2"):
            s.send(key)
        kind, done = s.send("1")
        assert "Tersimpan" in done, done
        s.send("00")
        s.send("1")
        s.send("1")
        kind, done = s.send("2")  # visited
        assert "Tersimpan" in done, done
        assert _fired(k, "commit_lost:ussd_assistant_visit") == 1, "the fault did not fire"
        assert _fired(k, "commit_lost:ussd_assistant_outcome") == 1, "the fault did not fire"
        assert env.scalar("SELECT COUNT(*) FROM home_visits WHERE kpm_id = %d" % kpm) == "1"
        assert env.sql("SELECT outcome FROM alerts WHERE id = %d" % alert) == [["visited"]]
        assert sorted(r[0] for r in audit(env, aid)) == ["alert.outcome", "visit.record"]


def test_assistant_confirms_and_declines_graduation_candidates(env):
    with Kabard(env, name="asst-cand") as k, AsstData(env) as d:
        aid, phone = d.assistant("Rina Lulus")
        k1 = d.kpm("Fitri Calon", assistant=aid)
        k2 = d.kpm("Gita Calon", assistant=aid)
        a1 = d.alert(k1, assistant=aid, rule="graduation")
        a2 = d.alert(k2, assistant=aid, rule="graduation")
        env.sql("UPDATE alerts SET created_at = NOW(3) - INTERVAL 1 HOUR WHERE id = %d" % a2)
        s = AT(k, phone=phone)
        s.start()
        s.send("1")
        kind, detail = s.send("1")
        assert "Fitri Calon" in detail and "Konfirmasi" in detail, detail
        kind, done = s.send(option(detail, "Konfirmasi"))
        assert "Tersimpan" in done, done
        assert env.sql("SELECT graduation FROM kpm WHERE id = %d" % k1) == [["welfare"]]
        assert env.sql("SELECT outcome FROM alerts WHERE id = %d" % a1) == [["confirmed"]]
        kind, lst = s.send("0")
        kind, detail = s.send("1")
        assert "Gita Calon" in detail, detail
        kind, reasons = s.send(option(detail, "Tolak"))
        kind, done = s.send(option(reasons, "Usaha belum stabil"))
        assert "Tersimpan" in done, done
        assert env.sql("SELECT outcome, outcome_note FROM alerts WHERE id = %d" % a2) == \
            [["declined", "business_not_stable"]], env.sql("SELECT outcome, outcome_note FROM alerts WHERE id = %d" % a2)
        assert env.scalar("SELECT candidate_snooze_until > CURDATE() FROM kpm WHERE id = %d" % k2) == "1"
        acts = [r[0] for r in audit(env, aid)]
        assert acts.count("graduation.record") == 1 and acts.count("alert.outcome") == 2, acts
        # later: the candidate stays open, in her list
        k3 = d.kpm("Hesti Nanti", assistant=aid)
        a3 = d.alert(k3, assistant=aid, rule="graduation")
        kind, lst = s.send("0")
        kind, detail = s.send(option(lst, "Hesti Nanti"))
        kind, done = s.send(option(detail, "Nanti"))
        assert "Tersimpan" in done, done
        assert env.sql("SELECT outcome, state FROM alerts WHERE id = %d" % a3) == [["later", "new"]]
        assert env.sql("SELECT graduation FROM kpm WHERE id = %d" % k3) == [["none"]]
        kind, lst = s.send("0")
        assert "Hesti Nanti" in lst, lst


def test_assistant_approves_a_phone_link_request_of_her_kpm(env):
    with Kabard(env, name="asst-link") as k, AsstData(env) as d:
        aid, phone = d.assistant("Rina Nomor")
        kpm = d.kpm("Hana Ganti HP", assistant=aid)
        newphone = "+62859%07d" % random.randint(0, 9999999)
        sid = d.sid()
        env.sql("INSERT INTO link_requests (msisdn, pkh_number, kpm_id, channel, session_id) VALUES "
                "(%s, %s, %d, 'at', %s)" % (sq(newphone), sq(pkh_of(env, kpm)), kpm, sq(sid)))
        lid = int(env.scalar("SELECT id FROM link_requests WHERE session_id = %s" % sq(sid)))
        env.sql("INSERT INTO alerts (rule, kpm_id, assistant_id, dedupe_key, urgency) VALUES "
                "('link_request', %d, %d, 'link:%d', 'immediate')" % (kpm, aid, lid))
        s = AT(k, phone=phone)
        s.start()
        s.send("1")
        kind, detail = s.send("1")
        assert "Hana Ganti HP" in detail and "Setujui" in detail, detail
        kind, done = s.send(option(detail, "Setujui"))
        assert "Tersimpan" in done, done
        assert env.sql("SELECT status, decided_by FROM link_requests WHERE id = %d" % lid) == \
            [["approved", "assistant:%d" % aid]]
        assert env.scalar("SELECT msisdn FROM kpm WHERE id = %d" % kpm) == newphone
        assert [r[0] for r in audit(env, aid)] == ["link.approve"]


def test_assistant_menu_in_her_language_and_the_switch_is_remembered(env):
    with Kabard(env, name="asst-lang") as k, AsstData(env) as d:
        aid, phone = d.assistant("Rina Bahasa", lang="en")
        s = AT(k, phone=phone)
        kind, menu = s.start()
        assert "Assistant Rina Bahasa" in menu and "Record a visit" in menu, menu
        kind, langs = s.send("4")
        kind, menu = s.send(option(langs, "Bahasa Indonesia"))
        assert "Pendamping Rina Bahasa" in menu, menu
        assert env.scalar("SELECT language FROM assistants WHERE id = %d" % aid) == "id"
        kind, menu = AT(k, phone=phone).start()
        assert "Catat kunjungan" in menu, menu


def test_assistant_number_that_is_also_a_kpms_gets_the_kpm_menu(env):
    with Kabard(env, name="asst-both") as k, AsstData(env) as d:
        aid, phone = d.assistant("Rina Ganda")
        d.kpm("Rina Ganda", assistant=aid, msisdn=phone)
        kind, menu = AT(k, phone=phone).start()
        assert "Kabar KPM" in menu and "Lapor usaha" in menu, menu


def test_assistant_invalid_answers_re_ask_then_end_politely(env):
    with Kabard(env, name="asst-invalid") as k, AsstData(env) as d:
        aid, phone = d.assistant("Rina Salah")
        s = AT(k, phone=phone)
        s.start()
        kind, again = s.send("7")
        assert kind == "CON" and again.startswith("Pilihan tidak ada") and "Pendamping" in again, again
        s.send("x")
        kind, end = s.send("9")
        assert kind == "END", end
