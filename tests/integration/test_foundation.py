"""The daemon itself: configuration check, health, metrics, signals, limits, outages, schema."""
import os
import signal
import socket
import subprocess
import time

from kabartest import Kabard, free_port, raw_http, wait_for


def order(n):
    def deco(fn):
        fn.order = n
        return fn
    return deco


def test_healthz_ok_with_database(env):
    with Kabard(env) as k:
        r = k.get("/healthz")
        assert r.status == 200, r.status
        assert r.json() == {"status": "ok", "db": "ok"}, r.text
        assert r.headers.get("Content-Type") == "application/json"


def test_metrics_counts_requests_by_route_and_status(env):
    with Kabard(env) as k:
        k.get("/healthz")
        k.get("/nope")
        r = k.get("/metrics")
        assert r.status == 200
        assert 'kabar_http_requests_total{route="healthz",status="200"} 1' in r.text, r.text[:800]
        assert 'kabar_http_requests_total{route="unmatched",status="404"} 1' in r.text
        assert 'kabar_http_request_duration_seconds_bucket{route="healthz",le="+Inf"} 1' in r.text
        for name in ("kabar_db_errors_total", "kabar_db_reconnects_total", "kabar_db_up 1"):
            assert name in r.text, name


def test_check_accepts_the_sample_configuration(env):
    k = Kabard(env)
    r = subprocess.run([env.kabard, "-t", "-c", k.conf], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "configuration ok" in r.stderr


def test_config_typo_names_file_and_line_and_exits_2(env):
    text = env.config(replace={"  max_connections = 4096;": "  max_conections = 4096;"})
    k = Kabard(env, conf_text=text)
    line = [i + 1 for i, l in enumerate(text.splitlines()) if "max_conections" in l][0]
    r = subprocess.run([env.kabard, "-t", "-c", k.conf], capture_output=True, text=True)
    assert r.returncode == 2, r.returncode
    assert "%s:%d: unknown setting 'max_conections'" % (k.conf, line) in r.stderr, r.stderr
    # and the daemon refuses to start with it
    r = subprocess.run([env.kabard, "-c", k.conf], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "max_conections" in r.stderr


def test_config_syntax_error_and_bad_values(env):
    cases = [
        ("  port = 0;                # 0 picks", "  port = 70000;"),
        ("  level = \"info\";", "  level = \"loud\";"),
        ('    token = "demo";\n    demo = true;', '    token = "short";'),
        ("  pool_size = 2;", "  pool_size = two;"),
    ]
    for old, new in cases:
        text = env.config()
        idx = text.index(old.split("\n")[0])
        text = text[:idx] + new + text[idx + len(old):]
        k = Kabard(env, conf_text=text)
        r = subprocess.run([env.kabard, "-t", "-c", k.conf], capture_output=True, text=True)
        assert r.returncode == 2, (new, r.stderr)
        assert r.stderr.startswith(k.conf + ":"), (new, r.stderr)
        assert int(r.stderr.split(":")[1]) > 0, (new, r.stderr)


def test_port_already_in_use_is_one_line_and_exit_1(env):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        k = Kabard(env, conf_text=env.config(port=port))
        r = subprocess.run([env.kabard, "-c", k.conf], capture_output=True, text=True, timeout=10)
        assert r.returncode == 1, r.returncode
        lines = [l for l in r.stderr.splitlines() if "cannot listen" in l]
        assert len(lines) == 1 and "Address already in use" in lines[0], r.stderr
    finally:
        s.close()


def test_sigterm_stops_cleanly_with_exit_0(env):
    k = Kabard(env).start()
    assert k.get("/healthz").status == 200
    rc = k.stop(signal.SIGTERM)
    assert rc == 0, rc
    assert "event=stopped" in k.logtext()


def test_sighup_reload_refuses_a_bad_file_and_keeps_running(env):
    with Kabard(env) as k:
        good = open(k.conf).read()
        with open(k.conf, "w") as f:
            f.write(good.replace("listen = {", "listen = {{"))
        k.send_signal(signal.SIGHUP)
        wait_for(lambda: "event=config_reload_refused" in k.logtext(), what="reload refused")
        assert k.get("/healthz").status == 200
        with open(k.conf, "w") as f:
            f.write(good.replace('level = "info";', 'level = "debug";'))
        k.send_signal(signal.SIGHUP)
        wait_for(lambda: "event=config_reloaded" in k.logtext(), what="reload")
        assert k.get("/healthz").status == 200


def test_unknown_path_method_and_oversized_body(env):
    with Kabard(env) as k:
        assert k.get("/nothing-here").status == 404
        r = k.post("/healthz", "x=1")
        assert r.status == 405 and "GET" in r.headers.get("Allow", ""), (r.status, r.headers)
        r = k.post("/c/at/demo/ussd", "text=" + "1" * 20000)
        assert r.status == 413, r.status
        assert b"400" in raw_http(k.port, b"GARBAGE\r\n\r\n")[:20]
        assert k.get("/healthz").status == 200


def test_schema_migrations_run_twice_change_nothing(env):
    before = env.sql("SELECT version, name FROM schema_migrations ORDER BY version")
    k = Kabard(env)
    r = subprocess.run([env.kabard, "--migrate", "-c", k.conf], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "0 applied now" in r.stderr, r.stderr
    assert env.sql("SELECT version, name FROM schema_migrations ORDER BY version") == before
    assert len(before) >= 1


def test_demo_data_holds_10000_kpm_in_the_benchmark_range(env):
    rows = env.sql("SELECT COUNT(*), MIN(msisdn), MAX(msisdn) FROM kpm")
    assert rows == [["10000", "+628120000001", "+628120010000"]], rows
    assert env.scalar("SELECT COUNT(*) FROM assistants") == "5"
    assert env.scalar("SELECT COUNT(*) FROM trainings") == "20"


@order(90)
def test_mariadb_outage_turns_healthz_503_and_back_without_restart(env):
    """Stop the real MariaDB under a running kabard, and start a second kabard while it is down."""
    with Kabard(env, name="outage") as k:
        assert k.get("/healthz").status == 200
        env.mariadb_stop()
        try:
            wait_for(lambda: k.get("/healthz").status == 503, timeout=15, what="healthz 503")
            r = k.get("/healthz")
            assert r.json()["db"] != "ok", r.text
            late = Kabard(env, name="late").start()
            assert late.get("/healthz").status == 503
        finally:
            env.mariadb_start()
        wait_for(lambda: k.get("/healthz").status == 200, timeout=30, what="healthz 200 again")
        wait_for(lambda: late.get("/healthz").status == 200, timeout=30, what="late kabard 200")
        assert late.stop() == 0
        m = k.get("/metrics").text
        assert "kabar_db_reconnects_total 0" not in m, "a reconnect must be counted"


def test_connection_cap_pauses_accepting_until_one_closes(env):
    conf = env.config(replace={"  max_connections = 4096;": "  max_connections = 2;"})
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    with Kabard(env, conf_text=conf) as k:
        held = []
        for _ in range(2):
            c = socket.create_connection(("127.0.0.1", k.port))
            c.sendall(req)
            assert c.recv(4096).startswith(b"HTTP/1.1 200"), "first two are served"
            held.append(c)
        third = socket.create_connection(("127.0.0.1", k.port))  # the kernel's backlog takes it
        third.sendall(req)
        third.settimeout(0.7)
        try:
            early = third.recv(4096)
        except socket.timeout:
            early = b""
        assert early == b"", "a third connection must wait while two are open: %r" % early[:40]
        held[0].close()
        third.settimeout(5)
        assert third.recv(4096).startswith(b"HTTP/1.1 200"), "served once one closed"
        third.close()
        held[1].close()
        assert "event=http_connection_cap" in k.logtext()


@order(91)
def test_db_after_an_outage_every_worker_reconnects_at_once(env):
    """A worker still in its reconnect backoff once another worker got back in used to fail its
    jobs and mark the database down again, so for up to 8 s after an outage callers got the
    busy screen every other hop. The backoff ends as soon as any worker is back."""
    import threading
    from test_ussd import AT
    with Kabard(env, name="backoff") as k:
        assert k.get("/healthz").status == 200
        env.mariadb_stop()
        try:
            # every worker fails, again and again, until its backoff is seconds long
            end = time.time() + 6
            while time.time() < end:
                threads = [threading.Thread(target=lambda: AT(k).start()) for _ in range(4)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                time.sleep(0.2)
        finally:
            env.mariadb_start()
        wait_for(lambda: k.get("/healthz").status == 200, timeout=30, what="healthz 200 again")
        busy, lock = [], threading.Lock()

        def hop():
            kind, screen = AT(k).start()
            if kind == "END":
                with lock:
                    busy.append(screen)
        end = time.time() + 3
        while time.time() < end:
            threads = [threading.Thread(target=hop) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert busy == [], "%d first hops got the busy screen after the database came back: %r" % (
            len(busy), busy[:2])


def test_connection_cap_holds_slow_requests_until_their_deadline_cuts_them(env):
    """Bug: a connection counted toward http.max_connections only once a request on it had
    been read, so connections sending a byte a second were never bounded by the cap. They
    count from accept now: at the cap the listener pauses, a new client waits in the kernel's
    backlog, and once http.timeout has passed since their first byte the slow ones are cut
    (bytes still coming do not extend it), the listener resumes and the client is served."""
    conf = env.config(replace={"  max_connections = 4096;": "  max_connections = 3;",
                               "  timeout = 15;": "  timeout = 2;"})
    with Kabard(env, conf_text=conf) as k:
        t0 = time.time()
        slow = [socket.create_connection(("127.0.0.1", k.port)) for _ in range(3)]
        for s in slow:
            s.sendall(b"GET /healthz HTTP/1.1\r\nX-Slow: ")
        wait_for(lambda: "event=http_connection_cap" in k.logtext(), timeout=5, what="the cap")
        late = socket.create_connection(("127.0.0.1", k.port))  # the kernel's backlog takes it
        late.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        late.setblocking(False)
        got, cut, answered_at = b"", set(), None
        while time.time() - t0 < 2 + 4 and answered_at is None:
            for s in slow:
                if s in cut:
                    continue
                s.setblocking(False)
                try:
                    s.send(b"a")  # a byte every 0.25 s: an idle timeout would never fire
                    if s.recv(4096) == b"":
                        cut.add(s)
                except BlockingIOError:
                    pass
                except OSError:
                    cut.add(s)
            try:
                chunk = late.recv(4096)
                got += chunk
                if got.startswith(b"HTTP/1.1 ") or not chunk:
                    answered_at = time.time() - t0
            except BlockingIOError:
                pass
            time.sleep(0.25)
        assert got.startswith(b"HTTP/1.1 200"), "the waiting client: %r" % got[:60]
        assert answered_at >= 1.5, "served at %.1f s, while three slow connections held the cap" % answered_at
        log = k.logtext()
        assert log.count("event=http_refused reason=deadline") >= 3, "the slow ones are cut"
        assert "event=http_accepting" in log, "the listener resumes below the cap"
        for s in slow + [late]:
            s.close()
        for _ in range(3):
            r = k.get("/healthz")
            assert r.status == 200, r.status
        assert 'kabar_http_refused_total{reason="deadline"} 3' in k.get("/metrics").text
