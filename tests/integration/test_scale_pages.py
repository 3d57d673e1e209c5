"""The admin pages at national scale (issue 14): a page whose statement runs longer than
db.query_timeout is stopped by the server (max_statement_time on every pool connection) and
answered 503 with a message that says so, instead of hanging a worker and the administrator."""
import re
import time

from kabartest import Kabard
from test_admin import Data, login, make_user, queue_page, set_filter
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


def test_queue_count_stops_at_10000_and_shows_10000_plus(env):
    """The queue counted every unreviewed report of the filter on each page view, a scan of the
    year's reports at a million KPM (4 s at 100,000). The count now stops at 10,001 rows of a
    type, the deepest page shown anyway: 10,001 reports show "10,000+" with a next page, and
    10,000 of them still their exact count."""
    with Kabard(env) as k, Data(env) as d:
        admin, apw = make_user(env, k)
        kid = d.kpm("Banyak %s" % d.tag)
        d.bulk_business(kid, 10001)
        b, _ = login(k, admin, apw)
        csrf = b.csrf()
        set_filter(b, csrf, q=d.tag, type="business")
        r = b.get("/queue")
        assert r.status == 200, r
        m = re.search(r'<p id="count">([^<]*)</p>', r.text)
        assert m and m.group(1) == "10.000+ laporan", m and m.group(1)
        assert 'id="next"' in r.text
        env.sql("DELETE FROM business_reports WHERE kpm_id = %d ORDER BY id LIMIT 1" % kid)
        total, rows, _ = queue_page(b)
        assert total == 10000 and len(rows) == 50, (total, len(rows))
