"""The USSD hot path (issue 14, second round): background duties never hold the workers that
answer callbacks, and an Africa's Talking hop advances the session by its last input instead of
replaying the whole path."""
import signal

from kabartest import Kabard, wait_for
from test_alerts import alerts_conf, day
from test_faults import _need_faults
from test_ussd import AT


def test_alerts_tick_held_on_the_background_worker_does_not_hold_ussd_hops(env):
    """An alerts tick catching up took seconds on one of the pool's workers, and the USSD hops
    queued behind it. With database.pool_size = 1 and the tick held by slow:alerts_raised (a
    statement that runs until query_timeout stops it), a whole report is answered while the
    tick's statement still runs: the tick fails (err 1969) only after the last hop's answer."""
    _need_faults(env)
    text = alerts_conf(env, "%s 08:00:00" % day(env))
    text = text.replace("  pool_size = 2;", "  pool_size = 1;")
    text = text.replace("query_timeout = 10;", "query_timeout = 8;")
    k = Kabard(env, conf_text=text, name="hot-held",
               environ={"KABAR_FAULTS": "slow:alerts_raised=1"})
    with k:
        k.send_signal(signal.SIGHUP)  # a tick now
        wait_for(lambda: "event=fault_fired point=slow:alerts_raised " in k.logtext(),
                 timeout=20, what="the tick held")
        s = AT(k, phone="+628120009091")
        # to the confirmation: the KPM's load at the first hop takes a pool worker (the
        # confirmation itself would wait for a row lock the held transaction has, not a worker)
        screens = s.walk("1*1*1*2500000*3")
        while "Rp2.500.000" not in screens[-1][1] and len(s.inputs) < 12:
            screens.append(s.send("1"))
        log = k.logtext()
        # the order of events: every answer came back while the tick's statement still ran
        assert "event=alerts_tick_failed" not in log and "errno=1969" not in log, log[-3000:]
        assert "Omzet" in screens[3][1] and "pekerja" in screens[4][1].lower(), screens
        assert screens[-1][0] == "CON" and "Rp2.500.000" in screens[-1][1], screens[-1]
        wait_for(lambda: "event=alerts_tick_failed err=1969" in k.logtext(), timeout=30,
                 what="the held tick stopped at query_timeout")


def test_at_path_that_does_not_extend_the_held_one_is_replayed(env):
    """Each hop now goes on from the dialog held after the previous one; a path that is not
    the held path plus inputs (here the first answer changed: another handset retrying, a
    second kabard, an aggregator's own replay) is replayed from the first screen, and gives
    what a fresh session given that path gives (the training list here)."""
    with Kabard(env) as k:
        a = AT(k, phone="+628120009092")
        a.walk("1*1*1")                                # held: business report, revenue question
        kind, screen = a.post("2")                     # not an extension: training report
        assert "Pilih pelatihan" in screen, screen
        kind, screen = a.post("1*1*1")                 # nor is this one of "2"
        assert "Omzet" in screen, screen
        kind, screen = a.post("1*1*1*450000")          # and this extends it again
        assert "pekerja" in screen.lower(), screen
        # a shorter path (a hop back in the aggregator's memory) is a replay too
        kind, screen = a.post("1*1")
        assert "Jenis usaha" in screen, screen
