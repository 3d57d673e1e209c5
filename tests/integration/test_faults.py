"""Fault injection: kabard built with ./configure --enable-faults and started with KABAR_FAULTS
(the format is in gateway/db.h), so a database link breaks, or a COMMIT's answer is lost, at a
named point of a real job against the real MariaDB; then what the outbox promises is checked.

Without the faults compiled in these tests are skipped, and fail instead when
KABAR_FAULTS_REQUIRED=1 (scripts/test sets it)."""
import os
import subprocess
import time

from fakeagg import FakeAT
from kabartest import Kabard, Skip, wait_for
from test_sms import _queue, fake_at_config

CLAIM_TIMEOUT = 5
OUTBOX = ("  poll_ms = 50; claim_timeout = %d; per_recipient_per_minute = 50;" % CLAIM_TIMEOUT)


def _need_faults(env):
    with open(env.kabard, "rb") as f:
        if b"fault_fired" in f.read():
            return
    why = "%s is not built with --enable-faults" % env.kabard
    if os.environ.get("KABAR_FAULTS_REQUIRED") == "1":
        raise AssertionError("KABAR_FAULTS_REQUIRED=1 but " + why)
    raise Skip(why)


def _fired(k, point):
    return k.logtext().count("event=fault_fired point=%s " % point)


def _drain_under_fault(env, tag, faults, point, fires, n=20):
    """n SMS queued before kabard starts, so its first claims take them all while the fault
    fires; afterwards every one is sent exactly once, as the first attempt, nothing is left in
    'sending' past claim_timeout, and kabard still serves. Returns kabard's log."""
    _need_faults(env)
    _queue(env, tag, n)
    with FakeAT() as fake:
        conf = fake_at_config(env, fake, OUTBOX)
        with Kabard(env, conf_text=conf, name=tag, environ={"KABAR_FAULTS": faults}) as k:
            wait_for(lambda: _fired(k, point) == fires, timeout=20, what="%d firings of %s" % (fires, point))
            wait_for(lambda: env.scalar("SELECT COUNT(*) FROM outbox WHERE state = 'sent'") == str(n),
                     timeout=20, step=0.2,
                     what="%d sent (%s)" % (n, env.sql("SELECT state, claim_token, COUNT(*) FROM outbox"
                                                        " GROUP BY state, claim_token")))
            # past claim_timeout: nothing went back to the queue, nothing was sent again
            time.sleep(CLAIM_TIMEOUT + 1)
            assert env.scalar("SELECT COUNT(*) FROM outbox WHERE state <> 'sent'") == "0", \
                env.sql("SELECT id, state, claim_token FROM outbox WHERE state <> 'sent'")
            assert k.proc.poll() is None and k.get("/healthz").status == 200
            assert _fired(k, point) == fires, "fired again: the count was not honoured"
            log = k.logtext()
        bodies = sorted(m for (_, m, _) in fake.sent())
        assert bodies == sorted("%s %d" % (tag, i) for i in range(1, n + 1)), bodies
        # a claim that did not stand was not an attempt
        assert env.sql("SELECT DISTINCT attempts FROM outbox") == [["1"]], \
            env.sql("SELECT attempts, COUNT(*) FROM outbox GROUP BY attempts")
    return log


def test_outbox_claim_lost_link_leaves_no_row_in_sending(env):
    """Issue "Reliability": the claim's UPDATE committed on its own, then the read-back lost
    its link and every retry did too; the rows stayed 'sending' under this process's token,
    kept fresh by its heartbeats, and were never sent. Ten firings: the first two claims use up
    all their retries between the UPDATE and the read-back."""
    log = _drain_under_fault(env, "lostlink", "link:outbox_claim_readback=10",
                             "link:outbox_claim_readback", 10)
    assert "event=outbox_claim_failed" in log


def test_outbox_claim_commit_lost_reads_back_what_the_first_run_committed(env):
    """A claim whose COMMIT happened but whose answer was lost is run again with the same token:
    the re-run sends what the first run claimed, once, instead of leaving it in 'sending'."""
    log = _drain_under_fault(env, "lostcommit", "commit_lost:outbox_claim=1",
                             "commit_lost:outbox_claim", 1)
    assert "event=outbox_claim_failed" not in log


def test_outbox_claim_commit_lost_on_every_retry_releases_its_rows(env):
    """A claim that committed but failed all the same (every retry lost its answer) gave no rows
    to the sender: they were orphaned in 'sending' as above. Now its token is released: the rows
    go back to the queue, not counted as an attempt, and the next claim sends them."""
    log = _drain_under_fault(env, "released", "commit_lost:outbox_claim=10",
                             "commit_lost:outbox_claim", 10)
    assert "event=outbox_claim_failed" in log and "event=outbox_released" in log


def test_malformed_kabar_faults_stops_the_start(env):
    """A fault spec with a typo must not run the tests without the fault they asked for."""
    _need_faults(env)
    k = Kabard(env, name="badfaults", environ={"KABAR_FAULTS": "link:outbox_claim_readback=1,"})
    k.start(expect_start=False)
    try:
        assert k.proc.wait(timeout=15) == 1
    except subprocess.TimeoutExpired:
        k.proc.kill()
        k.proc.wait()
        raise AssertionError("kabard started with a malformed KABAR_FAULTS")
    finally:
        k.logf.close()
    assert "event=faults_refused" in k.logtext() and "entry 2: empty" in k.logtext(), k.logtext()
