"""What a peer hanging up, or a database outage under a polling load balancer, must not cost
kabard: memory, or its database queue."""
import concurrent.futures
import json
import os
import re
import selectors
import socket
import struct
import threading
import time

from kabartest import Kabard, is_asan, metric, rss_kib, wait_for
from test_admin import Data, login, make_user, set_filter


def order(n):
    def deco(fn):
        fn.order = n
        return fn
    return deco


def leak_checked():
    """kabard's environment with gcc's leak checker on (it runs at exit), whatever the caller's
    ASAN_OPTIONS say otherwise: the last setting of an option wins."""
    opts = os.environ.get("ASAN_OPTIONS", "")
    return {"ASAN_OPTIONS": (opts + ":" if opts else "") + "detect_leaks=1"}


def wait_idle(k):
    """Until no request is in flight but the /metrics request asking."""
    wait_for(lambda: metric(k.get("/metrics").text, "kabar_http_inflight") == 1, timeout=60,
             what="requests in flight to end")


# ---------------------------------------------------------------- aborted exports

EXPORT = "GET /export/reports.csv HTTP/1.1\r\nHost: kabar\r\nCookie: kabar_session=%s\r\n\r\n"


def cut_export(port, sid, when):
    """One export the client abandons: "first_bytes" resets the connection once the reply has
    begun (the stream is under way), "at_once" closes it right after the request, before any
    answer (kabard learns it when the stream starts)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # kabard soon waits for us
    s.settimeout(30)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall((EXPORT % sid).encode())
        if when == "first_bytes":
            first = s.recv(16)
            assert first.startswith(b"HTTP/1.1 200"), first
            # a reset, as a dropped link or a browser's stop button sends it
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        s.close()


def cut_exports(k, sid, n):
    whens = ["at_once" if i % 4 == 3 else "first_bytes" for i in range(n)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for f in [pool.submit(cut_export, k.admin_port, sid, w) for w in whens]:
            f.result()
    wait_idle(k)


def peer_gone(k):
    return len(re.findall(r"event=admin_export .*end=peer_gone", k.logtext()))


def stall_exports(k, sid, n):
    """n exports whose client stops reading and holds on: kabard's write timeout (http.timeout)
    is what ends them."""
    ended, socks = peer_gone(k), []
    try:
        for _ in range(n):
            s = socket.socket()
            socks.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(30)
            s.connect(("127.0.0.1", k.admin_port))
            s.sendall((EXPORT % sid).encode())
            assert s.recv(16).startswith(b"HTTP/1.1 200")
        wait_for(lambda: peer_gone(k) >= ended + n, timeout=60, what="stalled exports to time out")
    finally:
        for s in socks:
            s.close()
    wait_idle(k)


def test_aborted_exports_leak_nothing(env):
    """Bug: libevent detaches a request whose reply has not ended when the peer goes away (EOF,
    reset, timeout) and leaves it to its owner; kabard dropped its pointer (r->req = NULL) and
    never ended the reply, so every aborted export leaked the evhttp_request with its headers
    and buffers. 1,000 exports cut in the middle must leave nothing behind: ASan's leak checker
    at exit (the asan build), and the resident size over a second and a third 1,000 (any build).

    Seen failing once with the ASan suite running beside it (1,836 KiB over one batch): the
    growth is now the smaller of two batches."""
    asan = is_asan(env.kabard)
    conf = env.config(replace={"  timeout = 15;": "  timeout = 3;"})  # stalled ones end soon
    with Kabard(env, conf_text=conf, environ=leak_checked()) as k, Data(env) as d:
        admin, apw = make_user(env, k)
        kid = d.kpm("Batal %s Unduh" % d.tag)
        d.bulk_business(kid, 20000)  # 20 pages of the export
        a, _ = login(k, admin, apw)
        set_filter(a, a.csrf(), q=d.tag)
        sid = a.session()
        cut_exports(k, sid, 1000)
        assert peer_gone(k) >= 500, "exports ended by the peer going: %d" % peer_gone(k)
        stall_exports(k, sid, 50)
        # A leak grows the resident size in every batch; the allocator's arenas and the
        # kernel's socket buffers, on a machine busy with another suite, may in one of them:
        # the smaller growth of two batches is the one that counts.
        growths = []
        for _ in range(2):
            before = rss_kib(k.proc.pid)
            cut_exports(k, sid, 1000)
            growths.append(rss_kib(k.proc.pid) - before)
        growth = min(growths)
        # kabard still serves, both listeners
        assert k.get("/healthz").status == 200
        assert a.get("/").status == 200
        if not asan:  # ASan's quarantine holds freed memory: there its leak checker decides
            assert growth < 1000, "RSS grew by %s KiB over two batches of 1,000 aborted exports" % growths
        assert k.stop() == 0, "kabard's exit status (23: leaks found)"
        log = k.logtext()
        assert "LeakSanitizer" not in log, log[log.index("LeakSanitizer") - 200:][:3000]


# ---------------------------------------------------------------- /healthz during an outage

HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: kabar\r\nConnection: close\r\n\r\n"


def many_get(port, n, timeout=120):
    """n requests at once, one connection each; returns the raw answers."""
    sel = selectors.DefaultSelector()
    answers = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        sel.register(s, selectors.EVENT_WRITE, [b""])
    end = time.time() + timeout
    while len(answers) < n:
        assert time.time() < end, "%d of %d answered" % (len(answers), n)
        for key, ev in sel.select(timeout=1):
            s = key.fileobj
            if ev & selectors.EVENT_WRITE:
                s.sendall(HEALTHZ)
                sel.modify(s, selectors.EVENT_READ, key.data)
                continue
            try:
                chunk = s.recv(65536)
            except ConnectionError:
                chunk = b""
            if chunk:
                key.data[0] += chunk
                continue
            answers.append(key.data[0])
            sel.unregister(s)
            s.close()
    sel.close()
    return answers


@order(90)
def test_healthz_during_an_outage_does_not_fill_the_database_queue(env):
    """Bug: every /healthz queued its own probe with DB_FORCE, even while the database was
    marked down, so a load balancer polling hard during an outage filled the database queue (and
    crowded out what was queued behind). Now one probe at a time; requests that come while it
    runs share its answer."""
    with Kabard(env, name="probes") as k:
        assert k.get("/healthz").status == 200
        env.mariadb_stop()
        try:
            wait_for(lambda: k.get("/healthz").status == 503, timeout=15, what="healthz 503")
            m = k.get("/metrics").text
            probes0 = metric(m, "kabar_health_probes_total")
            assert probes0 is not None, "no kabar_health_probes_total in /metrics"
            peak, sampling = [0.0], [True]

            def sample():
                while sampling[0]:
                    q = metric(k.get("/metrics").text, "kabar_db_queued_jobs")
                    peak[0] = max(peak[0], q)
                    time.sleep(0.01)
            t = threading.Thread(target=sample)
            t.start()
            try:
                answers = many_get(k.port, 2000)
            finally:
                sampling[0] = False
                t.join()
            bad = [a for a in answers if not a.startswith(b"HTTP/1.1 503")]
            assert not bad, "%d answers not 503, e.g. %r" % (len(bad), bad[0][:200])
            body = json.loads(answers[0].split(b"\r\n\r\n", 1)[1])
            assert body["status"] == "unavailable" and body["db"] != "ok", body
            probes = metric(k.get("/metrics").text, "kabar_health_probes_total") - probes0
            assert 1 <= probes <= 200, "%d probes for 2,000 requests" % probes
            assert peak[0] <= 3, "database queue reached %d jobs" % peak[0]
        finally:
            env.mariadb_start()
        r = wait_for(lambda: (lambda r: r if r.status == 200 else None)(k.get("/healthz")),
                     timeout=30, what="healthz 200 again")
        assert r.json() == {"status": "ok", "db": "ok"}, r.text
        assert k.stop() == 0
