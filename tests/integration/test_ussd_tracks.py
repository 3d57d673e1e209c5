"""Per-track USSD dialogs (issue 12), end to end: the real kabard, Africa's Talking hops, the real
MariaDB. config/dialogs.conf shows a welfare graduate inside her follow-up period the monthly
check-in first (stored as a business report of flow checkin; "I need help" is a help request
with its alert, as Minta bantuan raises it), a natural graduate the choice to keep business
support (kpm.support_opt_in, audited as hers) and, once, the exit survey (kpm.exit_survey_at);
a KPM on no track sees the menu of every KPM, unchanged.

Every test makes its own KPM and removes them at the end."""
import itertools
import os

from kabartest import Kabard
from test_admin import Data, sq
from test_ussd import AT as _AT, option, saved_number

TAG = "trk"
_sids = itertools.count(1)


def AT(k, phone):
    """A session with an id of this module's own: test_ussd.py's counter exists once per import
    of it (run.py loads the file apart from the modules that import it), so ids drawn from it
    here could meet its own tests' sessions."""
    return _AT(k, phone=phone, sid="%s-%d-%d" % (TAG, os.getpid(), next(_sids)))

NONE_MENU = ("Kabar KPM - Halo Ibu %s\n1 Lapor usaha\n2 Lapor pelatihan\n"
             "3 Minta bantuan pendamping\n4 Laporan saya\n5 Bahasa/Language\n6 Belajar")


class TrackData(Data):
    """test_admin.Data whose KPM are graduates, with what their sessions wrote."""

    def graduate(self, name, track, months_ago=2, **kw):
        kpm = self.kpm(name, msisdn=None, **kw)
        self.env.sql("UPDATE kpm SET graduation = %s, graduated_on = UTC_DATE() - INTERVAL %d MONTH"
                     " WHERE id = %d" % (sq(track), months_ago, kpm))
        return kpm

    def cleanup(self):
        if self.kpms:
            ids = ",".join(str(i) for i in self.kpms)
            self.env.sql("DELETE FROM alerts WHERE kpm_id IN (%s); "
                         "DELETE FROM help_requests WHERE kpm_id IN (%s); "
                         "DELETE FROM business_reports WHERE kpm_id IN (%s); "
                         "DELETE FROM ussd_drafts WHERE kpm_id IN (%s); "
                         "DELETE FROM audit_log WHERE target_type = 'kpm' AND target_id IN (%s)"
                         % (ids, ids, ids, ids, ids))
            self.env.sync_last_report(self.kpms)
        Data.cleanup(self)


def phone(env, kpm):
    return env.scalar("SELECT msisdn FROM kpm WHERE id = %d" % kpm)


def test_track_none_sees_the_menu_of_every_kpm_unchanged(env):
    with Kabard(env, name="tracks-none") as k, TrackData(env) as d:
        kpm = d.kpm("Ira Biasa")
        kind, menu = AT(k, phone=phone(env, kpm)).start()
        assert (kind, menu) == ("CON", NONE_MENU % "Ira Biasa"), menu


def test_welfare_graduate_in_follow_up_gets_the_checkin_first_stored_as_flow_checkin(env):
    with Kabard(env, name="tracks-checkin") as k, TrackData(env) as d:
        kpm = d.graduate("Jum Sejahtera", "welfare")
        s = AT(k, phone=phone(env, kpm))
        kind, menu = s.start()
        assert menu.splitlines()[1] == "1 Cek bulanan", menu
        kind, q = s.send("1")
        assert "masih berjalan" in q, q
        s.send(option(q, "Ya, berjalan"))
        s.send("2500000")
        kind, help_q = s.send("3")
        assert "Perlu bantuan" in help_q, help_q
        kind, confirm = s.send(option(help_q, "Tidak"))
        assert "Omzet Rp2.500.000" in confirm and "Bantuan" not in confirm, confirm
        kind, saved = s.send("1")
        assert kind == "END" and "Cek bulanan tersimpan" in saved, saved
        assert "menghubungi" not in saved, saved
        rows = env.sql("SELECT id, flow, status, revenue, workers FROM business_reports"
                       " WHERE kpm_id = %d" % kpm)
        assert rows == [[saved_number(saved), "checkin", "1", "2500000", "3"]], rows
        assert env.scalar("SELECT COUNT(*) FROM help_requests WHERE kpm_id = %d" % kpm) == "0"
        # the final hop retried: the same screen, one row
        assert s.post("*".join(s.inputs)) == ("END", saved)
        assert env.scalar("SELECT COUNT(*) FROM business_reports WHERE kpm_id = %d" % kpm) == "1"


def test_welfare_checkin_need_help_raises_a_help_request_with_its_alert(env):
    with Kabard(env, name="tracks-help") as k, TrackData(env) as d:
        kpm = d.graduate("Kiki Butuh", "welfare", months_ago=0)
        s = AT(k, phone=phone(env, kpm))
        s.start()
        kind, q = s.send("1")
        kind, help_q = s.send(option(q, "Tutup permanen"))  # no revenue, no workers asked
        assert "Perlu bantuan" in help_q, help_q
        kind, topics = s.send(option(help_q, "Ya"))
        kind, confirm = s.send(option(topics, "Pemasaran"))
        assert "Bantuan: Pemasaran" in confirm, confirm
        kind, saved = s.send("1")
        assert kind == "END" and "Pendamping Anda akan menghubungi" in saved, saved
        sid = s.sid
        assert env.sql("SELECT flow, status FROM business_reports WHERE session_id = %s" % sq(sid)) \
            == [["checkin", "3"]]
        assert env.sql("SELECT topic, source FROM help_requests WHERE session_id = %s" % sq(sid)) \
            == [["2", "ussd"]]
        assert env.sql("SELECT rule, urgency FROM alerts WHERE kpm_id = %d" % kpm) == \
            [["help_requested", "immediate"]]


def test_welfare_graduate_after_her_follow_up_gets_the_usual_menu(env):
    with Kabard(env, name="tracks-after") as k, TrackData(env) as d:
        kpm = d.graduate("Lina Lama", "welfare", months_ago=13)
        kind, menu = AT(k, phone=phone(env, kpm)).start()
        assert menu == NONE_MENU % "Lina Lama", menu


def test_natural_graduate_opts_in_to_business_support_and_out_again(env):
    with Kabard(env, name="tracks-optin") as k, TrackData(env) as d:
        kpm = d.graduate("Mira Alami", "natural")
        s = AT(k, phone=phone(env, kpm))
        kind, menu = s.start()
        assert "6 Dukungan usaha" in menu and "7 Survei akhir" in menu, menu
        kind, q = s.send("6")
        assert "masih menerima" not in q and "Tetap terima" in q, q
        s.send(option(q, "Ya"))
        kind, saved = s.send("1")
        assert kind == "END" and "tersimpan" in saved, saved
        assert env.scalar("SELECT support_opt_in FROM kpm WHERE id = %d" % kpm) == "1"
        assert env.sql("SELECT actor, action FROM audit_log WHERE target_type = 'kpm' AND"
                       " target_id = %d" % kpm) == [["kpm:%d" % kpm, "kpm.support_opt_in"]]
        s = AT(k, phone=phone(env, kpm))
        s.start()
        kind, q = s.send("6")
        assert "masih menerima" in q, q
        s.send(option(q, "Tidak"))
        s.send("1")
        assert env.scalar("SELECT support_opt_in FROM kpm WHERE id = %d" % kpm) == "0"
        assert env.scalar("SELECT COUNT(*) FROM audit_log WHERE target_type = 'kpm' AND"
                          " target_id = %d" % kpm) == "2"


def test_natural_graduate_answers_the_exit_survey_once(env):
    with Kabard(env, name="tracks-exit") as k, TrackData(env) as d:
        kpm = d.graduate("Nia Keluar", "natural")
        s = AT(k, phone=phone(env, kpm))
        s.start()
        kind, q = s.send("7")
        s.send(option(q, "Berjalan"))
        kind, plan = s.send("1")
        kind, confirm = s.send(option(plan, "Lanjut usaha"))
        assert "Rencana: Lanjut usaha" in confirm, confirm
        kind, saved = s.send("1")
        assert kind == "END" and "Terima kasih atas jawaban" in saved, saved
        assert env.sql("SELECT flow, status FROM business_reports WHERE kpm_id = %d" % kpm) == \
            [["exit_survey", "1"]]
        assert env.scalar("SELECT exit_survey_at IS NOT NULL FROM kpm WHERE id = %d" % kpm) == "1"
        s = AT(k, phone=phone(env, kpm))
        kind, menu = s.start()
        assert "Survei akhir" not in menu and "6 Dukungan usaha" in menu, menu
        kind, again = s.send("7")
        assert again.startswith("Pilihan tidak ada"), again
        assert env.scalar("SELECT COUNT(*) FROM business_reports WHERE kpm_id = %d" % kpm) == "1"
