"""The admin pages at national scale (issue 14): a page whose statement runs longer than
db.query_timeout is stopped by the server (max_statement_time on every pool connection) and
answered 503 with a message that says so, instead of hanging a worker and the administrator."""
import time

from kabartest import Kabard
from test_admin import login, make_user
from test_faults import _need_faults


def test_query_timeout_stops_a_slow_dashboard_statement_with_a_clear_503(env):
    """slow:admin_dashboard puts a statement that would run for an hour in the dashboard's
    place. With query_timeout = 1 the server stops it after a second (error 1969), not retried:
    the page answers 503 naming db.query_timeout within a few seconds (before, the client's read
    timeout lost the link and the job was run again), and the next dashboard is a 200."""
    _need_faults(env)
    conf = env.config(replace={"query_timeout = 10;": "query_timeout = 1;"})
    with Kabard(env, conf_text=conf, name="query-timeout",
                environ={"KABAR_FAULTS": "slow:admin_dashboard=1"}) as k:
        admin, apw = make_user(env, k)
        b, _ = login(k, admin, apw)
        t0 = time.monotonic()
        r = b.get("/", timeout=60)
        took = time.monotonic() - t0
        assert r.status == 503, ("a statement past query_timeout", r)
        assert 'id="query-timeout"' in r.text and "db.query_timeout" in r.text, r.text[:400]
        assert r.header("Retry-After") == "5", r.header("Retry-After")
        assert 0.9 <= took < 4, "answered after %.1f s, query_timeout is 1 s" % took
        log = k.logtext()
        assert log.count("event=fault_fired point=slow:admin_dashboard ") == 1, log[-2000:]
        assert "event=admin_query_timeout " in log and "err=1969" in log, log[-2000:]
        r = b.get("/")
        assert r.status == 200 and 'id="fig-week"' in r.text, ("the next dashboard", r)
