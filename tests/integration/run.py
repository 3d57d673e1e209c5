#!/usr/bin/env python3
"""Runs every test_* function of tests/integration/test_*.py against the real kabard.
Prints one line per test (PASS, FAIL or SKIP) and, last, "N passed, N failed"; skipped tests
count in neither."""
import argparse
import glob
import importlib
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kabartest  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kabard", required=True)
    ap.add_argument("--phone", default="")
    ap.add_argument("--socket", required=True)
    ap.add_argument("--var", required=True)
    ap.add_argument("--name", default="it")
    ap.add_argument("-k", dest="only", default="", help="run only tests whose name contains this")
    a = ap.parse_args()
    env = kabartest.Env(a.kabard, a.phone, a.socket, a.var, a.name)
    env.prepare_database()
    tests = []
    here = os.path.dirname(os.path.abspath(__file__))
    for path in sorted(glob.glob(os.path.join(here, "test_*.py"))):
        # one copy of each module: a test file that imports another (from test_ussd import
        # ...) gets the copy that runs here, so module state such as a session-id counter is
        # shared and two copies never hand out the same ids
        mod = importlib.import_module(os.path.basename(path)[:-3])
        for name in sorted(n for n in dir(mod) if n.startswith("test_")):
            fn = getattr(mod, name)
            if callable(fn) and a.only in name:
                tests.append(("%s.%s" % (mod.__name__, name), fn, getattr(fn, "order", 50)))
    tests.sort(key=lambda t: (t[2], t[0]))
    passed = failed = skipped = 0
    for name, fn, _ in tests:
        t0 = time.time()
        try:
            fn(env)
        except kabartest.Skip as e:
            skipped += 1
            print("SKIP [%s] %s: %s" % (a.name, name, e), flush=True)
        except Exception as e:  # a failed assert or anything unexpected
            failed += 1
            print("FAIL [%s] %s (%.1fs): %s" % (a.name, name, time.time() - t0, e), flush=True)
            traceback.print_exc(limit=3, file=sys.stdout)
        else:
            passed += 1
            print("PASS [%s] %s (%.1fs)" % (a.name, name, time.time() - t0), flush=True)
    if skipped:
        print("%d skipped" % skipped, flush=True)
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
