"""The import as an upload on the admin pages (issue 14, "Onboarding by import"): an
administrator posts a registry export as multipart/form-data to /import; kabard spools it and
runs `kabard import` in a child process, whose counts and rejected lines /import/job?id=N shows.
The real kabard over loopback, the real MariaDB; the rows, the audit row and the spool checked
in them."""
import os
import re
import time
import uuid

from kabartest import Kabard
from test_admin import Browser, csrf_of, login, make_user, raw_request, sq
from test_import import DESA, cleanup, make_assistants, phone, pkh


def upload_conf(env):
    k = Kabard(env, conf_text="")
    spool = os.path.join(k.dir, "spool")
    os.mkdir(spool)
    with open(k.conf, "w") as f:
        f.write(env.config(replace={"  page_size = 50;": '  page_size = 50;\n  import_spool = "%s";'
                                    % spool}))
    k.spool = spool
    return k


def multipart(fields, files, boundary=None):
    b = boundary or "----kabar" + uuid.uuid4().hex
    out = []
    for name, value in fields.items():
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                    % (b, name, value)).encode())
    for name, (filename, data) in files.items():
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                    "Content-Type: text/csv\r\n\r\n" % (b, name, filename)).encode()
                   + data + b"\r\n")
    out.append(("--%s--\r\n" % b).encode())
    return b"".join(out), "multipart/form-data; boundary=" + b


def upload(b, kind, data, dry_run=False, csrf=None, send_csrf=True):
    if csrf is None:
        r = b.get("/import")
        assert r.status == 200, ("GET /import", r)
        csrf = csrf_of(r.text)
    fields = {"kind": kind}
    if send_csrf:
        fields["csrf"] = csrf
    if dry_run:
        fields["dry_run"] = "1"
    body, ctype = multipart(fields, {"file": ("kpm.csv", data.encode())})
    return b.request("POST", "/import", body=body, headers={"Content-Type": ctype})


def wait_done(b, location, timeout=90):
    t0 = time.time()
    while True:
        r = b.get(location)
        assert r.status == 200, ("GET " + location, r)
        if 'id="import-state" class="done"' in r.text:
            return r
        assert 'class="running"' in r.text and r.header("Refresh") == "2", r
        assert time.time() - t0 < timeout, ("import still running", r.text[-2000:])
        time.sleep(0.2)


def kpm_csv(regs, pkhs, bad_at=None):
    lines = ["no_pkh;nama;hp;kode_wilayah;id_pendamping"]
    for i, p in enumerate(pkhs):
        lines.append("%s;KPM %d;%s;%s;%s" % (p, i, "0812" if i == bad_at else phone(), DESA, regs[0]))
    return "\r\n".join(lines) + "\r\n"


def test_import_upload_admin_kpm_counts_rejects_rows_and_one_audit_row(env):
    k = upload_conf(env)
    regs, _ = make_assistants(env, k, 1)
    pkhs = [pkh() for _ in range(4)]
    try:
        with k:
            admin, apw = make_user(env, k)
            b, _ = login(k, admin, apw)
            assert 'id="nav-import"' in b.get("/").text
            r = b.get("/import")
            assert 'enctype="multipart/form-data"' in r.text and 'name="dry_run"' in r.text, r.text
            r = upload(b, "kpm", kpm_csv(regs, pkhs, bad_at=2))
            assert r.status == 303, r
            loc = r.header("Location")
            assert re.match(r"^/import/job\?id=\d+$", loc), loc
            page = wait_done(b, loc).text
            assert "import=kpm inserted=3 updated=0 unchanged=0 rejected=1 dry_run=0" in page, page
            assert "line=4 reason=bad phone" in page, page  # the header is line 1
            got = sorted(r[0] for r in env.sql("SELECT pkh_number FROM kpm WHERE pkh_number IN (%s)"
                                               % ",".join(sq(p) for p in pkhs)))
            assert got == sorted(pkhs[:2] + pkhs[3:]), got
            audit = env.sql("SELECT actor, detail FROM audit_log WHERE action = 'import.kpm'"
                            " AND actor = %s" % sq(admin))
            assert len(audit) == 1 and "inserted=3" in audit[0][1], audit
            # the file's name as sent ends the spool file's, which the audit row names
            assert re.search(r"file=kabar-import-\w{6}-kpm\.csv ", audit[0][1]), audit
            assert os.listdir(k.spool) == [], ("the spool file outlives its import", os.listdir(k.spool))
            # the form links the last import
            assert 'id="import-last" href="%s"' % loc in b.get("/import").text
            assert re.search(r"event=import_finished id=\d+ kind=kpm dry_run=0 status=0 rejected=1",
                             k.logtext()), k.logtext()[-2000:]
    finally:
        cleanup(env, regs, pkhs)


def test_import_upload_dry_run_writes_nothing_and_takes_more_than_max_body_size(env):
    k = upload_conf(env)
    regs, _ = make_assistants(env, k, 1)
    pkhs = [pkh() for _ in range(400)]
    data = kpm_csv(["NO-SUCH-%s" % uuid.uuid4().hex[:8]], pkhs)
    assert len(data) > 16384  # http.max_body_size: only /import may take more
    try:
        with k:
            admin, apw = make_user(env, k)
            b, _ = login(k, admin, apw)
            r = upload(b, "kpm", data, dry_run=True)
            assert r.status == 303, r
            page = wait_done(b, r.header("Location")).text
            assert "inserted=0 updated=0 unchanged=0 rejected=400 dry_run=1" in page, page
            assert page.count("reason=unknown assistant") == 400, page[-1000:]
            assert env.scalar("SELECT COUNT(*) FROM kpm WHERE pkh_number IN (%s)"
                              % ",".join(sq(p) for p in pkhs)) == "0"
            assert env.scalar("SELECT COUNT(*) FROM audit_log WHERE actor = %s" % sq(admin)
                              + " AND action LIKE 'import.%'") == "0"
    finally:
        cleanup(env, regs, pkhs)


def test_import_upload_refused_to_supervisor_without_csrf_and_when_malformed(env):
    k = upload_conf(env)
    with k:
        admin, apw = make_user(env, k)
        sup, spw = make_user(env, k, "supervisor", region="32")
        s, _ = login(k, sup, spw)
        assert 'id="nav-import"' not in s.get("/").text
        assert s.get("/import").status == 403
        assert s.get("/import/job?id=1").status == 403
        r = upload(s, "kpm", "no_pkh\n1\n", csrf=s.csrf())
        assert r.status == 403 and "Hanya administrator" in r.text, r
        b, _ = login(k, admin, apw)
        r = upload(b, "kpm", "no_pkh\n1\n", send_csrf=False)
        assert r.status == 403 and 'class="message"' in r.text, r
        body, ctype = multipart({"csrf": b.csrf(), "kind": "kpm"}, {"file": ("x.csv", b"a,b\n")})
        r = b.request("POST", "/import", body=body[:-10], headers={"Content-Type": ctype})
        assert r.status == 400 and "the form does not end with its closing boundary" in r.text, r
        r = b.request("POST", "/import", body=body, headers={"Content-Type": "multipart/form-data"})
        assert r.status == 400 and "boundary" in r.text, r
        # every other admin route keeps http.max_body_size, though the listener takes uploads
        r = b.request("POST", "/queue", body=b"csrf=" + b"x" * 20000,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status == 413, r
        # a file the importer refuses whole: the page says why, and that it failed
        r = upload(b, "kpm", "no_pkh,nama\n%s,A\n" % pkh(), dry_run=True)
        assert r.status == 303, r
        page = wait_done(b, r.header("Location")).text
        assert "(status 2)" in page and "missing column" in page, page[-1500:]
        assert os.listdir(k.spool) == [], os.listdir(k.spool)


def test_import_upload_one_at_a_time_and_healthz_answers_while_it_runs(env):
    k = upload_conf(env)
    regs, _ = make_assistants(env, k, 1)
    pkhs = [pkh() for _ in range(30000)]
    data = kpm_csv(regs, pkhs)
    try:
        with k:
            admin, apw = make_user(env, k)
            b, _ = login(k, admin, apw)
            csrf = b.csrf()
            r = upload(b, "kpm", data, dry_run=True, csrf=csrf)
            assert r.status == 303, r
            loc = r.header("Location")
            busy = upload(b, "kpm", "no_pkh\n1\n", dry_run=True, csrf=csrf)
            running = b.get(loc)
            t0 = time.time()
            h = raw_request(k.port, "GET", "/healthz")
            took = time.time() - t0
            still = b.get(loc)
            assert 'class="running"' in running.text and 'class="running"' in still.text, (
                "the import ended too soon to tell", still.text[-500:])
            assert h.status == 200 and took < 1.0, (h, took)
            assert busy.status == 409, busy
            page = wait_done(b, loc).text
            m = re.search(r"import=kpm inserted=(\d+) updated=0 unchanged=0 rejected=(\d+) dry_run=1",
                          page)
            # random phones may meet in 30,000 rows: each such line is a reject, none lost
            assert m and int(m.group(1)) + int(m.group(2)) == 30000, page[-1000:]
    finally:
        cleanup(env, regs, [])
