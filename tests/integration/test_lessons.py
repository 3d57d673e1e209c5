"""The micro-lessons (config/lessons.conf) against the real kabard and MariaDB: a module over USSD
with a drop in the middle, one over SMS, progress counted once, and the course file checked."""
import os
import re
import subprocess

from kabartest import Kabard, SRC, wait_for
from test_sms import at_sms, new_mid, reply_of
from test_ussd import AT

# demo KPM that no other test uses (sql/demo/demo.sql: +62812 + n in 7 digits)
NUR = "+628120009701"
RINA = "+628120009702"
DEWI = "+628120009703"
ANI = "+628120009704"


def kpm_id(env, phone):
    return env.scalar("SELECT id FROM kpm WHERE msisdn = '%s'" % phone)


def progress(env, phone, module):
    return env.sql("SELECT screens_seen, last_screen, attempts, score, questions,"
                   " passed_at IS NOT NULL, COALESCE(passed_via, ''), started_via"
                   " FROM lesson_progress WHERE kpm_id = %s AND course = 'usaha' AND module = '%s'"
                   % (kpm_id(env, phone), module))


def follow_of(env, mid):
    rows = env.sql("SELECT o.body FROM inbound_messages i JOIN outbox o ON o.idempotency_key ="
                   " CONCAT('reply:', i.channel, ':', i.provider_msg_id, ':2')"
                   " WHERE i.provider_msg_id = '%s'" % mid)
    return rows[0][0].replace("\\n", "\n") if rows else None


def say(env, k, phone, text, mid=None):
    mid, r = at_sms(k, phone, text, mid)
    assert r.status == 200, r.status
    return mid, reply_of(env, mid)[0].replace("\\n", "\n")   # the client writes \n


def reset(env, phone):
    kid = kpm_id(env, phone)
    for t in ("lesson_events", "lesson_progress", "lesson_enrolments"):
        env.sql("DELETE FROM %s WHERE kpm_id = %s" % (t, kid))
    env.sql("DELETE FROM sms_dialogs WHERE msisdn = '%s'" % phone)


def test_lesson_by_sms_scored_and_counted_once(env):
    reset(env, RINA)
    with Kabard(env) as k:
        mid, body = say(env, k, RINA, "belajar")
        # the first module as one SMS of at most two parts, then its first question
        assert body.startswith("Pisahkan uang usaha: Simpan uang usaha"), body
        assert len(body) <= 306, len(body)
        q = follow_of(env, mid)
        assert q.startswith("1/2 Di mana uang usaha disimpan?\n1 Bersama uang belanja\n2 Di tempat"), q
        assert "Balas B" in q, q
        assert progress(env, RINA, "pisah") == [["3", "2", "0", "NULL", "NULL", "0", "", "sms"]]
        # a wrong answer shows the right one with its explanation, then the next question
        mid2, body = say(env, k, RINA, "B 1")
        assert body.startswith("Salah. Jawaban benar: 2 Di tempat sendiri. Uang terpisah"), body
        assert "2/2 Perlu uang untuk rumah" in body, body
        # the aggregator retries the callback: the same message is not scored twice
        at_sms(k, RINA, "B 1", mid2)
        assert env.scalar("SELECT sms_question FROM lesson_enrolments WHERE kpm_id = %s"
                          % kpm_id(env, RINA)) == "1"
        mid3, body = say(env, k, RINA, "1")        # a bare number answers the waiting question
        assert body.startswith("Benar!"), body
        assert "Belum lulus: 1/2 benar, perlu 2" in body, body
        assert progress(env, RINA, "pisah") == [["3", "2", "1", "1", "2", "0", "", "sms"]]
        at_sms(k, RINA, "1", mid3)                  # re-sent: counted once
        assert progress(env, RINA, "pisah")[0][2] == "1"
        # no question waits now: a bare number is what it always was (the usage)
        _, body = say(env, k, RINA, "2")
        assert body.startswith("Kabar: USAHA"), body
        # again, and passed
        mid, body = say(env, k, RINA, "BELAJAR")
        assert body.startswith("Pisahkan uang usaha:"), body
        say(env, k, RINA, "b2")
        _, body = say(env, k, RINA, "B 1")
        assert "Lulus Pisahkan uang usaha: 2/2 benar" in body, body
        assert progress(env, RINA, "pisah") == [["3", "2", "2", "2", "2", "1", "sms", "sms"]]
        # the next BELAJAR is the next module, in English when asked in English
        mid, body = say(env, k, RINA, "learn")
        assert body.startswith("Setting your price: Add up all costs"), body
        assert follow_of(env, mid).startswith("1/3 Cost Rp 10,000"), follow_of(env, mid)
        assert "Reply A <number>" in follow_of(env, mid)


def test_lesson_weekly_drip_words(env):
    reset(env, DEWI)
    with Kabard(env) as k:
        _, body = say(env, k, DEWI, "BELAJAR MINGGUAN")
        assert "tiap minggu" in body, body
        assert env.sql("SELECT course, drip FROM lesson_enrolments WHERE kpm_id = %s"
                       % kpm_id(env, DEWI)) == [["usaha", "1"]]
        _, body = say(env, k, DEWI, "learn stop")
        assert "weekly lesson is stopped" in body, body
        assert env.scalar("SELECT drip FROM lesson_enrolments WHERE kpm_id = %s"
                          % kpm_id(env, DEWI)) == "0"
        # an answer with no question waiting says so
        _, body = say(env, k, DEWI, "B 2")
        assert body.startswith("Tidak ada soal yang menunggu"), body


def test_lesson_unknown_number_learns_nothing(env):
    with Kabard(env) as k:
        mid, body = say(env, k, "+628999000123", "BELAJAR")
        assert body.startswith("Nomor ini belum terdaftar di Kabar"), body
        assert follow_of(env, mid) is None
        mid, body = say(env, k, "+628999000123", "B 2")
        assert body.startswith("Nomor ini belum terdaftar di Kabar"), body


def test_check_rejects_a_broken_lessons_file_with_file_and_line(env):
    with open(os.path.join(SRC, "config", "lessons.conf")) as f:
        text = f.read()
    # the first question of the first module gets a second right answer
    broken = text.replace('{ id = "Bersama uang belanja"; en = "With household money"; },',
                          '{ id = "Bersama uang belanja"; en = "With household money"; right = true; },', 1)
    assert broken != text
    path = os.path.join(env.tmp, "lessons-broken.conf")
    with open(path, "w") as f:
        f.write(broken)
    k = Kabard(env, conf_text=env.config(lessons=path))
    lines = broken.splitlines()
    line = [i + 1 for i, l in enumerate(lines) if l.strip() == "options = ("][0]
    r = subprocess.run([env.kabard, "-t", "-c", k.conf], capture_output=True, text=True)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "%s:%d: question: 2 right answers, must be exactly one" % (path, line) in r.stderr, r.stderr
    # the shipped file passes
    k = Kabard(env)
    r = subprocess.run([env.kabard, "-t", "-c", k.conf], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def learn_option(screen):
    m = re.search(r"^(\d+) Belajar$", screen, re.M)
    assert m, screen
    return m.group(1)


def test_lesson_by_ussd_with_a_drop_then_by_sms(env):
    reset(env, NUR)
    env.sql("DELETE FROM ussd_drafts WHERE msisdn = '%s'" % NUR)
    with Kabard(env) as k:
        a = AT(k, phone=NUR)
        kind, menu = a.start()
        kind, screen = a.send(learn_option(menu))
        assert screen.startswith("Pisahkan uang usaha (1/3)\nSimpan uang usaha"), screen
        assert screen.endswith("1 Lanjut"), screen
        kind, screen = a.send("1")
        assert screen.startswith("Pisahkan uang usaha (2/3)\nJangan dicampur"), screen
        # progress is kept per screen
        wait_for(lambda: progress(env, NUR, "pisah") == [["2", "1", "0", "NULL", "NULL", "0", "", "ussd"]],
                 what="screens seen")
        # the network drops the session in the middle of the lesson
        a.end("Incomplete")
        wait_for(lambda: env.scalar("SELECT COUNT(*) FROM ussd_drafts WHERE msisdn = '%s'" % NUR) == "1",
                 what="draft written")
        b = AT(k, phone=NUR)
        kind, screen = b.start()
        assert screen == "Anda punya pelajaran yang belum selesai.\n1 Lanjutkan laporan\n2 Mulai baru", screen
        kind, screen = b.send("1")
        assert screen.startswith("Pisahkan uang usaha (2/3)\nJangan dicampur"), screen   # the same screen
        b.send("1")
        kind, screen = b.send("1")
        assert screen == ("Soal 1/2: Di mana uang usaha disimpan?\n1 Bersama uang belanja\n"
                          "2 Di tempat sendiri"), screen
        # a wrong answer shows the right one with one line of explanation
        kind, screen = b.send("1")
        assert screen == ("Salah. Jawaban benar: 2 Di tempat sendiri.\n"
                          "Uang terpisah menunjukkan untung atau rugi.\n1 Lanjut"), screen
        kind, screen = b.send("1")
        assert screen.startswith("Soal 2/2: Perlu uang untuk rumah"), screen
        kind, screen = b.send("1")
        assert screen == "Benar!\n1 Lanjut", screen
        kind, screen = b.send("1")
        assert screen == "Belum lulus: 1/2 benar, perlu 2.\n1 Ulangi kuis\n00 Menu", screen
        wait_for(lambda: progress(env, NUR, "pisah")[0][2:6] == ["1", "1", "2", "0"], what="attempt 1")
        # the quiz again, passed
        kind, screen = b.send("1")
        assert screen.startswith("Soal 1/2:"), screen
        for key in ("2", "1", "1"):
            b.send(key)
        kind, screen = b.send("1")
        assert screen == "Lulus! 2/2 benar. Pelajaran Pisahkan uang usaha selesai.\n00 Menu", screen
        wait_for(lambda: progress(env, NUR, "pisah") == [["3", "2", "2", "2", "2", "1", "ussd", "ussd"]],
                 what="passed")
        # the aggregator retries the last hop: the same screen, the pass counted once
        kind, screen = b.post("*".join(b.inputs))
        assert screen.startswith("Lulus!"), screen
        wait_for(lambda: env.scalar("SELECT COUNT(*) FROM ussd_drafts WHERE msisdn = '%s'" % NUR) == "0",
                 what="draft gone")
        assert progress(env, NUR, "pisah")[0][2] == "2"
        b.end("Success")
        # the next module by SMS: the same rows, whichever channel
        mid, body = say(env, k, NUR, "BELAJAR")
        assert body.startswith("Menghitung harga jual:"), body
        say(env, k, NUR, "B 2")
        say(env, k, NUR, "2")
        _, body = say(env, k, NUR, "B 1")
        assert "Lulus Menghitung harga jual: 3/3 benar" in body, body
        assert progress(env, NUR, "harga") == [["3", "2", "1", "3", "3", "1", "sms", "sms"]]
        # and USSD goes on with the third
        c = AT(k, phone=NUR)
        kind, menu = c.start()
        kind, screen = c.send(learn_option(menu))
        assert screen.startswith("Catatan harian (1/3)"), screen
        assert env.sql("SELECT module, passed_via FROM lesson_progress WHERE kpm_id = %s"
                       " AND passed_at IS NOT NULL ORDER BY module" % kpm_id(env, NUR)) == \
            [["harga", "sms"], ["pisah", "ussd"]]
        # and the administrators' figures count her once per module, whichever channel
        from test_admin import make_token, make_user, raw_request

        admin, _ = make_user(env, k)
        r = raw_request(k.admin_port, "GET", "/api/v1/lessons/progress?kpm=%s&limit=50"
                        % kpm_id(env, NUR), headers={"Authorization": "Bearer "
                                                     + make_token(env, k, admin)})
        assert r.status == 200, r
        rows = r.json()["data"]
        passed = sorted(x["module"] for x in rows if x.get("passed_at"))
        assert passed == ["harga", "pisah"], rows
        assert len([x for x in rows if x["module"] == "pisah"]) == 1, rows


def test_lesson_demo_keys_take_the_first_module_and_demo_file_reruns(env):
    """The keys scripts/demo prints take a newcomer through her first module with kabar-phone;
    sql/demo/demo_lessons.sql loads twice without a change (checked inside a rolled-back
    transaction, so the shared test database keeps no demo progress)."""
    with open(os.path.join(SRC, "scripts", "demo")) as f:
        m = re.search(r"--phone \+628120000001 --keys '([0-9*]+)'", f.read())
    assert m, "scripts/demo prints no lesson keys"
    reset(env, ANI)
    with Kabard(env) as k:
        r = subprocess.run([env.phone, "--url", k.url("/c/at/demo/ussd"), "--phone", ANI,
                            "--keys", m.group(1)], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert "Lulus! 2/2 benar" in r.stdout, r.stdout
        wait_for(lambda: progress(env, ANI, "pisah")[0][5:7] == ["1", "ussd"] if progress(env, ANI, "pisah") else False,
                 what="passed")
    with open(os.path.join(SRC, "sql", "demo", "demo_lessons.sql")) as f:
        demo = f.read()
    count = ("SELECT (SELECT COUNT(*) FROM lesson_enrolments WHERE course = 'usaha' AND kpm_id <= 100),"
             " (SELECT COUNT(*) FROM lesson_progress WHERE kpm_id BETWEEN 2 AND 6);\n")
    r = subprocess.run(["mariadb", "--no-defaults", "-S", env.socket, "-uroot", "-N", "-B", env.db],
                       input="START TRANSACTION;\n" + demo + count + demo + count + "ROLLBACK;\n",
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and lines[0] == lines[1] and lines[0].split("\t")[1] == "6", lines


def test_lesson_loads_and_pages_on_the_smallest_screen_limit(env):
    """Bug: the course was checked against ussd.screen_limit, so a valid limit of 60 made the
    shipped lessons refuse to load and kabard to stop. A small screen pages a lesson with 99."""
    reset(env, "+628120009706")
    conf = env.config(replace={"screen_limit = 182;": "screen_limit = 60;"})
    with Kabard(env, conf_text=conf) as k:
        s = AT(k, phone="+628120009706")
        kind, screen = s.start()
        while "Belajar" not in screen:
            kind, screen = s.send("99")
        kind, screen = s.send(learn_option(screen))
        pages = [screen]
        while pages[-1].endswith("99 Lanjut") and len(pages) < 8:
            kind, page = s.send("99")
            assert len(page) <= 60, page
            pages.append(page)
        text = "\n".join(pages)
        assert "Pisahkan uang usaha" in text and "1 Lanjut" in text, pages
        kind, screen = s.send("1")
        assert screen.startswith("Pisahkan uang usaha (2/3)"), screen
