"""Onboarding by import (issue 14), through the real kabard binary and MariaDB: `kabard -c FILE
import kpm|assistants FILE.csv [--dry-run]` on the files a district office exports (BOM and
';', ',' with quotes, CRLF or LF, phone numbers in every common form), every reject reason with
its line number while the rest of the file goes in, a second run of the same file changing
nothing, a changed row updating (a new assistant taking the KPM's open alerts with her), a dry
run writing nothing, one audit row per import with its counts.

Each test makes its own assistants and KPM (random registry ids, PKH numbers and phones) in the
demo desa 3204132005 and removes them."""
import hashlib
import hmac
import os
import random
import re
import subprocess

from kabartest import Kabard
from test_admin import rand_tag, sq
from test_faults import _need_faults

DESA = "3204132005"
NIK_KEY = "import-test-key-0123456789abcdef-0123456789"


def conf(env, batch_rows=5000):
    k = Kabard(env, conf_text="")  # only its directory: the configuration is written below
    key = os.path.join(k.dir, "nik.key")
    with open(key, "w") as f:
        f.write(NIK_KEY + "\n")
    with open(k.conf, "w") as f:
        f.write(env.config(extra='\nimport = { nik_key_file = "%s"; batch_rows = %d; };\n'
                           % (key, batch_rows)))
    return k


def phone():
    return "0812" + "".join(random.choice("0123456789") for _ in range(8))


def canon(p):
    return "+62" + re.sub(r"\D", "", p)[1:]


def pkh():
    return "9" + "".join(random.choice("0123456789") for _ in range(13))


class Result:
    def __init__(self, r):
        self.rc = r.returncode
        self.out = r.stdout.decode()
        self.err = r.stderr.decode()
        self.rejects = {}
        self.counts = {}
        for line in self.out.splitlines():
            m = re.match(r"line=(\d+) reason=(.*)$", line)
            if m:
                assert int(m.group(1)) not in self.rejects, ("line listed twice", line, self.out)
                self.rejects[int(m.group(1))] = m.group(2)
            elif line.startswith("import="):
                self.counts = dict(kv.split("=", 1) for kv in line.split())

    def count(self, name):
        return int(self.counts[name])

    def __repr__(self):
        return "rc=%d out=%r err=%r" % (self.rc, self.out, self.err[-2000:])


def run_import(env, k, kind, data, *extra, faults=None):
    path = os.path.join(k.dir, "in-%s.csv" % rand_tag())
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    environ = dict(os.environ, KABAR_FAULTS=faults) if faults else None
    r = subprocess.run([env.kabard, "-c", k.conf, "import", kind, path] + list(extra),
                       capture_output=True, timeout=120, env=environ)
    return Result(r)


def audit_rows(env, action):
    return env.sql("SELECT detail FROM audit_log WHERE action = %s ORDER BY id" % sq(action))


def cleanup(env, regs, pkhs):
    if pkhs:
        inlist = ",".join(sq(p) for p in pkhs)
        env.sql("DELETE al FROM alerts al JOIN kpm k ON k.id = al.kpm_id WHERE k.pkh_number IN (%s);"
                " DELETE FROM kpm WHERE pkh_number IN (%s)" % (inlist, inlist))
    if regs:
        env.sql("DELETE FROM assistants WHERE registry_id IN (%s)" % ",".join(sq(r) for r in regs))


def make_assistants(env, k, n):
    """n new assistants by import; their registry ids and database ids."""
    regs = ["IT-%s" % rand_tag(10) for _ in range(n)]
    text = "registry_id,name,msisdn,region_code\n" + "".join(
        "%s,Pendamping %d,%s,%s\n" % (r, i, phone(), DESA) for i, r in enumerate(regs))
    res = run_import(env, k, "assistants", text)
    assert res.rc == 0 and res.count("inserted") == n, res
    ids = [int(env.scalar("SELECT id FROM assistants WHERE registry_id = %s" % sq(r))) for r in regs]
    return regs, ids


def test_import_assistants_bom_semicolon_crlf_then_again_unchanged(env):
    k = conf(env)
    regs = ["IT-%s" % rand_tag(10) for _ in range(3)]
    phones = [phone() for _ in range(3)]
    audits = len(audit_rows(env, "import.assistants"))
    text = ("\ufeffID_Pendamping;Nama;No_HP;Kode_Wilayah;Zona_Waktu\r\n"
            "%s;Ani Rahayu;%s;%s;WIB\r\n"
            "%s;\"Budi; S.Sos\";+62 %s-%s-%s;%s;wita\r\n"
            "%s;Cici;62.%s;%s;\r\n"
            "%s;Ani Lagi;%s;%s;WIB\r\n") % (
        regs[0], phones[0], DESA,
        regs[1], phones[1][1:4], phones[1][4:8], phones[1][8:], DESA,
        regs[2], phones[2][1:], DESA,
        regs[0].lower(), phone(), DESA)  # registry ids compare without case, as the key does
    try:
        res = run_import(env, k, "assistants", text)
        assert res.rc == 0 and res.rejects == {5: "duplicate registry_id in the file"}, res
        assert (res.count("inserted"), res.count("updated"), res.count("unchanged")) == (3, 0, 0), res
        rows = env.sql("SELECT registry_id, name, msisdn, region_code, tz FROM assistants"
                       " WHERE registry_id IN (%s) ORDER BY registry_id" % ",".join(sq(r) for r in regs))
        want = sorted([[regs[0], "Ani Rahayu", canon(phones[0]), DESA, "WIB"],
                       [regs[1], "Budi; S.Sos", canon(phones[1]), DESA, "WITA"],
                       [regs[2], "Cici", canon(phones[2]), DESA, "WIB"]])
        assert rows == want, rows
        again = run_import(env, k, "assistants", text)
        assert again.rc == 0 and again.rejects == res.rejects, again
        assert (again.count("inserted"), again.count("updated"), again.count("unchanged")) == (0, 0, 3), again
        details = audit_rows(env, "import.assistants")[audits:]
        assert len(details) == 2, details
        assert "inserted=3 updated=0 unchanged=0 rejected=1" in details[0][0], details
        assert "inserted=0 updated=0 unchanged=3 rejected=1" in details[1][0], details
    finally:
        cleanup(env, regs, [])


def test_import_kpm_comma_quotes_phone_forms_and_nik(env):
    k = conf(env)
    regs, ids = make_assistants(env, k, 1)
    pkhs = [pkh() for _ in range(4)]
    p = [phone() for _ in range(4)]
    nik = "3204134501900001"
    text = ("pkh_number,name,msisdn,region_code,assistant_registry_id,nik\n"
            '%s,"Siti ""Ani"", Aminah",%s,%s,%s,%s\n'
            '%s,"Rina\nMaryani",62%s,%s,%s,\n'
            "%s,Dewi,+62 %s-%s-%s,%s,%s,\n"
            "%s,Lina,%s.%s.%s,%s,%s,\n") % (
        pkhs[0], p[0], DESA, regs[0], nik,
        pkhs[1], p[1][1:], DESA, regs[0],
        pkhs[2], p[2][1:4], p[2][4:8], p[2][8:], DESA, regs[0],
        pkhs[3], p[3][:4], p[3][4:8], p[3][8:], DESA, regs[0])
    try:
        res = run_import(env, k, "kpm", text)
        assert res.rc == 0 and res.rejects == {}, res
        assert res.count("inserted") == 4, res
        rows = env.sql("SELECT pkh_number, name, msisdn, assistant_id, region_code FROM kpm"
                       " WHERE pkh_number IN (%s)" % ",".join(sq(x) for x in pkhs))
        got = {r[0]: r[1:] for r in rows}
        assert got[pkhs[0]] == ['Siti "Ani", Aminah', canon(p[0]), str(ids[0]), DESA], got
        assert got[pkhs[1]][0] == "Rina\\nMaryani", got  # the client's -B escapes the newline
        for i in range(4):
            assert got[pkhs[i]][1] == canon(p[i]), (i, got)
        mac = hmac.new(NIK_KEY.encode(), nik.encode(), hashlib.sha256).hexdigest().upper()
        assert env.sql("SELECT HEX(nik_hmac), nik_last4 FROM kpm WHERE pkh_number = %s"
                       % sq(pkhs[0])) == [[mac, "0001"]]
        assert env.scalar("SELECT COUNT(*) FROM kpm WHERE pkh_number = %s AND nik_hmac IS NULL"
                          % sq(pkhs[1])) == "1"
        # the NIK is nowhere in clear
        assert nik not in res.out + res.err
        assert env.scalar("SELECT COUNT(*) FROM audit_log WHERE detail LIKE %s" % sq("%" + nik + "%")) == "0"
        again = run_import(env, k, "kpm", text)
        assert (again.count("inserted"), again.count("updated"), again.count("unchanged")) == (0, 0, 4), again
    finally:
        cleanup(env, regs, pkhs)


def test_import_kpm_rejects_every_reason_with_its_line(env):
    k = conf(env)
    regs, ids = make_assistants(env, k, 1)
    held = env.scalar("SELECT msisdn FROM kpm WHERE pkh_number NOT LIKE '9%' LIMIT 1")
    pkhs = [pkh() for _ in range(14)]
    good, dup = phone(), phone()
    lines = [
        "no_pkh;nama;hp;kode_wilayah;id_pendamping;nik",                  # 1
        "%s;Baik Satu;%s;%s;%s;" % (pkhs[0], good, DESA, regs[0]),         # 2 taken
        "%s;Nomor Salah;0812-34;%s;%s;" % (pkhs[1], DESA, regs[0]),        # 3
        "%s;Dua Kali;%s;%s;%s;" % (pkhs[2], dup, DESA, regs[0]),           # 4 taken
        "%s;Dua Kali Lagi;+62 %s;%s;%s;" % (pkhs[3], dup[1:], DESA, regs[0]),  # 5
        "%s;Punya Orang;%s;%s;%s;" % (pkhs[4], held, DESA, regs[0]),       # 6
        "%s;Tanpa Pendamping;%s;%s;NOBODY-%s;" % (pkhs[5], phone(), DESA, rand_tag()),  # 7
        "%s;Tanpa Wilayah;%s;3299999999;%s;" % (pkhs[6], phone(), regs[0]),  # 8
        "%s;NIK Pendek;%s;%s;%s;320413450190" % (pkhs[7], phone(), DESA, regs[0]),  # 9
        "%s;;%s;%s;%s;" % (pkhs[8], phone(), DESA, regs[0]),               # 10
        "%s;Kutip\"Salah;%s;%s;%s;" % (pkhs[9], phone(), DESA, regs[0]),   # 11
        "%s;Kurang Kolom;%s;%s" % (pkhs[10], phone(), DESA),               # 12
        "%s;Baik Dua;%s;%s;%s;" % (pkhs[11], phone(), DESA, regs[0]),      # 13 taken
        "%s;PKH Lagi;%s;%s;%s;" % (pkhs[11], phone(), DESA, regs[0]),      # 14
        "12ab;PKH Huruf;%s;%s;%s;" % (phone(), DESA, regs[0]),             # 15
    ]
    try:
        res = run_import(env, k, "kpm", "\n".join(lines) + "\n")
        assert res.rc == 0, res
        assert res.rejects == {
            3: "bad phone",
            5: "duplicate phone in the file",
            6: "phone held by another KPM",
            7: "unknown assistant",
            8: "unknown region",
            9: "NIK not 16 digits",
            10: "missing name",
            11: "quote inside an unquoted field",
            12: "field count differs from the header",
            14: "duplicate pkh_number in the file",
            15: "bad pkh_number",
        }, res
        assert (res.count("inserted"), res.count("rejected")) == (3, 11), res
        assert sorted(r[0] for r in env.sql("SELECT pkh_number FROM kpm WHERE pkh_number IN (%s)"
                                            % ",".join(sq(x) for x in pkhs))) == \
            sorted([pkhs[0], pkhs[2], pkhs[11]])
    finally:
        cleanup(env, regs, pkhs)


def test_import_phone_of_an_assistant_refused_for_a_kpm_and_the_reverse(env):
    """A KPM row with an assistant's phone, or an assistant row with a KPM's phone, is refused:
    an SMS or USSD session from that phone would reach the assistant's menus, never hers."""
    k = conf(env)
    regs, ids = make_assistants(env, k, 1)
    asst_phone = env.scalar("SELECT msisdn FROM assistants WHERE id = %d" % ids[0])
    kpm_phone = env.scalar("SELECT msisdn FROM kpm WHERE pkh_number NOT LIKE '9%' LIMIT 1")
    pkhs = [pkh(), pkh()]
    reg2 = "IT-%s" % rand_tag(10)
    try:
        res = run_import(env, k, "kpm", "no_pkh,nama,hp,kode_wilayah,id_pendamping\n"
                         "%s,Pakai HP Pendamping,%s,%s,%s\n%s,Baik,%s,%s,%s\n"
                         % (pkhs[0], asst_phone, DESA, regs[0], pkhs[1], phone(), DESA, regs[0]))
        assert res.rc == 0 and res.rejects == {2: "phone held by an assistant"}, res
        assert (res.count("inserted"), res.count("rejected")) == (1, 1), res
        assert env.scalar("SELECT COUNT(*) FROM kpm WHERE pkh_number = %s" % sq(pkhs[0])) == "0"
        res = run_import(env, k, "assistants", "registry_id,name,msisdn,region_code\n"
                         "%s,Pakai HP KPM,%s,%s\n" % (reg2, kpm_phone, DESA))
        assert res.rc == 0 and res.rejects == {2: "phone held by a KPM"}, res
        assert env.scalar("SELECT COUNT(*) FROM assistants WHERE registry_id = %s" % sq(reg2)) == "0"
    finally:
        cleanup(env, regs + [reg2], pkhs)


def test_import_missing_column_refuses_the_whole_file(env):
    k = conf(env)
    before = env.scalar("SELECT COUNT(*) FROM kpm")
    res = run_import(env, k, "kpm", "no_pkh,nama,hp,kode_wilayah\n%s,A,%s,%s\n" % (pkh(), phone(), DESA))
    assert res.rc == 2 and "missing column id_pendamping" in res.err, res
    assert env.scalar("SELECT COUNT(*) FROM kpm") == before


def test_import_changed_row_updates_and_reassignment_moves_open_alerts(env):
    k = conf(env)
    regs, ids = make_assistants(env, k, 2)
    a, b = ids
    pk, pk2 = pkh(), pkh()
    p, p2 = phone(), phone()
    row = "%s,%s,%s,%s,%s\n"
    head = "no_pkh,nama,hp,kode_wilayah,id_pendamping\n"
    try:
        first = run_import(env, k, "kpm", head + row % (pk, "Sri", p, DESA, regs[0])
                           + row % (pk2, "Tuti", p2, DESA, regs[0]))
        assert first.count("inserted") == 2, first
        kid = env.scalar("SELECT id FROM kpm WHERE pkh_number = %s" % sq(pk))
        tag = rand_tag()
        env.sql("INSERT INTO alerts (rule, kpm_id, assistant_id, dedupe_key, urgency, state) VALUES"
                " ('help_requested', %s, %d, 'it-open-%s', 'immediate', 'sent'),"
                " ('business_closed', %s, %d, 'it-new-%s', 'digest', 'new'),"
                " ('silent', %s, %d, 'it-acked-%s', 'digest', 'acknowledged')"
                % (kid, a, tag, kid, a, tag, kid, a, tag))
        second = run_import(env, k, "kpm", head + row % (pk, "Sri Wahyuni", p, DESA, regs[1])
                            + row % (pk2, "Tuti", p2, DESA, regs[0]))
        assert second.rc == 0 and second.rejects == {}, second
        assert (second.count("inserted"), second.count("updated"), second.count("unchanged")) == (0, 1, 1), second
        assert env.sql("SELECT name, assistant_id FROM kpm WHERE id = %s" % kid) == [["Sri Wahyuni", str(b)]]
        got = dict(env.sql("SELECT state, assistant_id FROM alerts WHERE kpm_id = %s" % kid))
        assert got == {"sent": str(b), "new": str(b), "acknowledged": str(a)}, got
    finally:
        cleanup(env, regs, [pk, pk2])


def test_import_dry_run_writes_nothing_and_lists_the_same_rejects(env):
    k = conf(env)
    regs, ids = make_assistants(env, k, 1)
    pkhs = [pkh() for _ in range(3)]
    text = ("no_pkh,nama,hp,kode_wilayah,id_pendamping\n"
            + "%s,Satu,%s,%s,%s\n" % (pkhs[0], phone(), DESA, regs[0])
            + "%s,Dua,12,%s,%s\n" % (pkhs[1], DESA, regs[0])
            + "%s,Tiga,%s,%s,NOBODY\n" % (pkhs[2], phone(), DESA))
    audits = env.scalar("SELECT COUNT(*) FROM audit_log")
    kpm = env.scalar("SELECT COUNT(*) FROM kpm")
    try:
        dry = run_import(env, k, "kpm", text, "--dry-run")
        assert dry.rc == 0 and dry.counts["dry_run"] == "1", dry
        assert dry.rejects == {3: "bad phone", 4: "unknown assistant"}, dry
        assert (dry.count("inserted"), dry.count("rejected")) == (1, 2), dry
        assert env.scalar("SELECT COUNT(*) FROM kpm") == kpm
        assert env.scalar("SELECT COUNT(*) FROM audit_log") == audits
        real = run_import(env, k, "kpm", text)
        assert real.rejects == dry.rejects and real.count("inserted") == 1, real
        assert int(env.scalar("SELECT COUNT(*) FROM audit_log")) == int(audits) + 1
    finally:
        cleanup(env, regs, pkhs)


def test_import_in_small_batches_with_progress(env):
    k = conf(env, batch_rows=2)
    regs, ids = make_assistants(env, k, 1)
    pkhs = [pkh() for _ in range(7)]
    lines = ["no_pkh,nama,hp,kode_wilayah,id_pendamping"]
    for i, x in enumerate(pkhs):
        lines.append("%s,KPM %d,%s,%s,%s" % (x, i, "0812" if i == 3 else phone(), DESA,
                                             "NOBODY" if i == 5 else regs[0]))
    try:
        res = run_import(env, k, "kpm", "\n".join(lines))  # no newline at the end
        assert res.rc == 0 and res.rejects == {5: "bad phone", 7: "unknown assistant"}, res
        assert res.count("inserted") == 5, res
        progress = [l for l in res.err.splitlines() if l.startswith("import kind=kpm ")]
        assert len(progress) == 3 and "inserted=5" in progress[-1], res
        assert env.scalar("SELECT COUNT(*) FROM kpm WHERE pkh_number IN (%s)"
                          % ",".join(sq(x) for x in pkhs)) == "5"
    finally:
        cleanup(env, regs, pkhs)


def test_import_kube_trainings_and_enrolments_keyed_on_their_codes(env):
    k = conf(env)
    regs, ids = make_assistants(env, k, 1)
    tag = rand_tag(6).upper()
    kube, tr = "KB-" + tag, "TR-" + tag
    pkhs = [pkh() for _ in range(2)]
    kpm = "no_pkh,nama,hp,kode_wilayah,id_pendamping\n" + "".join(
        "%s,Ibu %d,%s,%s,%s\n" % (x, i, phone(), DESA, regs[0]) for i, x in enumerate(pkhs))
    try:
        assert run_import(env, k, "kpm", kpm).count("inserted") == 2
        res = run_import(env, k, "kube", "kode_kube;nama;kode_wilayah\n%s;Kube Mawar;%s\n"
                         "%s;Kube Lain;3299999999\n%s;Lagi;%s\n" % (kube, DESA, kube + "X", kube, DESA))
        assert res.rejects == {3: "unknown region", 4: "duplicate code in the file"}, res
        assert env.sql("SELECT name, region_code FROM kube_groups WHERE code = %s" % sq(kube)) == \
            [["Kube Mawar", DESA]]
        # a KPM's KUBE by its code; an unknown one refuses the row
        members = kpm.replace("id_pendamping\n", "id_pendamping,kode_kube\n")
        members = members.replace(regs[0] + "\n", regs[0] + ",%s\n", 1) % kube
        members = members.replace(regs[0] + "\n", regs[0] + ",KB-NOPE\n", 1)
        res = run_import(env, k, "kpm", members)
        assert res.rejects == {3: "unknown KUBE"} and res.count("updated") == 1, res
        assert env.scalar("SELECT g.code FROM kpm k JOIN kube_groups g ON g.id = k.kube_id"
                          " WHERE k.pkh_number = %s" % sq(pkhs[0])) == kube
        assert run_import(env, k, "kpm", members).count("unchanged") == 1
        trains = ("kode_pelatihan,judul,tanggal,jam,tempat,kode_wilayah,kode_hadir,tanggal_selesai\n"
                  "%s,Pembukuan,2030-03-04,08:30,Balai Desa,%s,4821,2030-03-05\n"
                  "%s,Salah,2030-02-30,,Aula,%s,4822,\n"
                  "%s,Pendek,2030-03-04,,Aula,%s,48,\n") % (tr, DESA, tr + "B", DESA, tr + "C", DESA)
        res = run_import(env, k, "trainings", trains)
        assert res.rejects == {3: "bad date", 4: "bad attendance_code"} and res.count("inserted") == 1, res
        # WIB in the file, UTC in the table
        assert env.sql("SELECT starts_at, ends_at, attendance_code FROM trainings WHERE code = %s"
                       % sq(tr)) == [["2030-03-04 01:30:00", "2030-03-05 01:30:00", "4821"]]
        again = run_import(env, k, "trainings", trains.replace("Balai Desa", "Aula Kecamatan"))
        assert (again.count("updated"), again.count("unchanged")) == (1, 0), again
        enrol = ("kode_pelatihan,no_pkh\n" + "".join("%s,%s\n" % (tr, x) for x in pkhs)
                 + "%s,%s\n%s,123\n%s,%s\n" % (tr + "Z", pkhs[0], tr, tr, pkhs[0]))
        res = run_import(env, k, "enrolments", enrol)
        assert res.rejects == {4: "unknown training", 5: "unknown KPM",
                               6: "duplicate enrolment in the file"}, res
        assert res.count("inserted") == 2, res
        assert env.scalar("SELECT COUNT(*) FROM enrollments e JOIN trainings t ON t.id = e.training_id"
                          " WHERE t.code = %s" % sq(tr)) == "2"
        again = run_import(env, k, "enrolments", enrol)
        assert (again.count("inserted"), again.count("unchanged")) == (0, 2), again
        assert len(audit_rows(env, "import.enrolments")) >= 2
    finally:
        cleanup(env, regs, pkhs)
        env.sql("DELETE FROM trainings WHERE code = %s; DELETE FROM kube_groups WHERE code = %s"
                % (sq(tr), sq(kube)))


def test_import_batch_and_audit_commit_lost_write_each_row_and_the_audit_row_once(env):
    """A batch committed and its answer lost: db.c runs it again, which finds every row of it
    as written (the counts then say unchanged: the data is what counts); the audit row, keyed,
    is written once although its job also ran twice."""
    _need_faults(env)
    k = conf(env, batch_rows=2)
    regs, ids = make_assistants(env, k, 1)
    pkhs = [pkh() for _ in range(3)]
    text = "no_pkh,nama,hp,kode_wilayah,id_pendamping\n" + "".join(
        "%s,Ibu %d,%s,%s,%s\n" % (x, i, phone(), DESA, regs[0]) for i, x in enumerate(pkhs))
    audits = len(audit_rows(env, "import.kpm"))
    try:
        res = run_import(env, k, "kpm", text, faults="commit_lost:import_kpm=1,commit_lost:import_audit=1")
        assert res.rc == 0 and res.rejects == {}, res
        assert "point=commit_lost:import_kpm " in res.err and "point=commit_lost:import_audit " in res.err, res
        assert res.count("inserted") + res.count("unchanged") == 3, res
        assert env.scalar("SELECT COUNT(*) FROM kpm WHERE pkh_number IN (%s)"
                          % ",".join(sq(x) for x in pkhs)) == "3"
        assert len(audit_rows(env, "import.kpm")) == audits + 1
    finally:
        cleanup(env, regs, pkhs)
