#!/usr/bin/env python3
"""Self-check of the SMS test infrastructure, without kabard: kannel.Kannel (a real bearerbox
and smsbox) against a tiny stand-in for kabard's MO/DLR handler, and fakeagg.FakeAT.

    python3 tests/integration/selfcheck_sms_infra.py [--keep]

Prints one PASS/FAIL line per check and exits non-zero if any failed. --keep keeps the
temporary folder (Kannel's config and logs) for a look afterwards.
"""
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakeagg import FakeAT  # noqa: E402
from kannel import Kannel  # noqa: E402

SITI = "+628120000001"
ENG = "+628120000002"
TOKEN = "tok3n"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

failures = []


def check(name, cond, detail=""):
    print("%s %s%s" % ("PASS" if cond else "FAIL", name, "" if cond else ": " + str(detail)),
          flush=True)
    if not cond:
        failures.append(name)
    return cond


def wait(pred, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    return None


class FakeKabard:
    """Records every GET; /c/kannel/TOKEN/sms answers the reply SMS, anything else "OK"."""

    def __init__(self):
        self.calls = []
        self.lock = threading.Lock()
        me = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                u = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
                with me.lock:
                    me.calls.append((u.path, q))
                body = "Terima kasih" if u.path.endswith("/sms") else "OK"
                data = body.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]

    def find(self, path_end, **match):
        with self.lock:
            for p, q in self.calls:
                if p.endswith(path_end) and all(q.get(k) == v for k, v in match.items()):
                    return q
        return None

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def sendsms(k, **params):
    params.update(username=k.sendsms_user, password=k.sendsms_password)
    url = k.sendsms_url + "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def check_kannel(tmp):
    kab = FakeKabard()
    get_url = (kab.base + "/c/kannel/" + TOKEN + "/sms?from=%p&to=%P&text=%a&id=%I&smsc=%i"
               "&time=%t&ts=%T&coding=%c&charset=%C")
    reply_dlr = kab.base + "/c/kannel/" + TOKEN + "/dlr?kind=reply&type=%d&to=%p&mid=%F"
    k = Kannel(os.path.join(tmp, "kannel"), get_url, dlr_url_base=reply_dlr)
    try:
        t0 = time.time()
        k.start()
        check("kannel starts (%.2fs)" % (time.time() - t0), True)

        # MO in GSM-7, with the reply SMS coming back as an MT to the sender
        text = "usaha buka 2.500.000 3 é"
        k.inject_mo(SITI, text)
        q = wait(lambda: kab.find("/sms", text=text))
        check("MO reaches the app with UTF-8 text", q is not None, kab.calls)
        if q:
            check("MO from/to/smsc", (q["from"], q["to"], q["smsc"]) == (SITI, "1234", "operator"), q)
            check("MO id is a UUID", UUID.match(q["id"]), q["id"])
            check("MO time and coding", re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", q["time"])
                  and abs(int(q["ts"]) - time.time()) < 60 and q["coding"] == "0"
                  and q["charset"] == "UTF-8", q)
        mt = k.wait_mt(lambda m: m["to"] == SITI)
        check("reply body arrives at send-url as MT to the sender",
              mt["text"] == "Terima kasih" and mt["from"] == "1234", mt)
        d = wait(lambda: kab.find("/dlr", kind="reply", type="8"))
        check("reply SMS gets DLR 8 on dlr_url_base", d is not None and d["to"] == SITI, kab.calls)

        # MO in UCS-2 (outside GSM-7): mo-recode hands it over as UTF-8
        text2 = "Salam ✓ ünïcode Ω"
        k.inject_mo(ENG, text2)
        q = wait(lambda: kab.find("/sms", **{"from": ENG}))
        check("UCS-2 MO reaches the app as UTF-8", q is not None and q["text"] == text2
              and q["coding"] == "0", q)
        k.wait_mt(lambda m: m["to"] == ENG)

        # a refused MO raises
        right, k.smsc_password = k.smsc_password, "wrong"
        try:
            k.inject_mo(SITI, "x")
            check("refused MO raises", False, "no exception")
        except AssertionError as e:
            check("refused MO raises", "Authorization failed" in str(e), e)
        finally:
            k.smsc_password = right

        # MT through sendsms with a delivery report path
        status, body = sendsms(k, to=SITI, text="Halo é ✓ ok", charset="UTF-8", coding="2",
                               **{"from": "1234", "dlr-mask": "31",
                                  "dlr-url": kab.base + "/c/kannel/" + TOKEN
                                  + "/dlr?kind=mt&id=42&type=%d&to=%p&answer=%A"})
        check("sendsms accepts", status == 202 and body.startswith("0: Accepted"), (status, body))
        mt = k.wait_mt(lambda m: m["text"].startswith("Halo"))
        check("sendsms MT reaches send-url in UCS-2", mt["text"] == "Halo é ✓ ok"
              and mt["coding"] == "2" and mt["to"] == SITI and mt["dlr-mask"] == "31", mt)
        check("MT carries Kannel's dlr-mid and the app's dlr-url",
              UUID.match(mt["dlr-mid"] or "") and "id=42" in (mt["app-dlr-url"] or ""), mt)
        d8 = wait(lambda: kab.find("/dlr", kind="mt", id="42", type="8"))
        check("DLR 8 (smsc submit) arrives", d8 is not None and d8["to"] == SITI, kab.calls)
        k.send_dlr(mt, 1)
        d1 = wait(lambda: kab.find("/dlr", kind="mt", id="42", type="1"))
        check("DLR 1 (delivered) from the operator arrives", d1 is not None
              and "stat:DELIVRD" in d1["answer"], kab.calls)
        try:
            k.send_dlr(mt, 1, timeout=0.3)
            check("a second final DLR is refused", False, "accepted")
        except AssertionError as e:
            check("a second final DLR is refused", "Unknown DLR" in str(e), e)

        # GSM-7 MT without coding: é stays, characters outside GSM-7 become '?'
        sendsms(k, to=ENG, text="Kabar é ✓", charset="UTF-8", **{"from": "1234"})
        mt = k.wait_mt(lambda m: m["text"].startswith("Kabar"))
        check("sendsms without coding=2 maps non-GSM to '?'", mt["text"] == "Kabar é ?", mt["text"])

        # a long MT is split by Kannel and joined again by the stand-in
        long_text = " ".join("kata%03d" % i for i in range(40))
        sendsms(k, to=SITI, text=long_text, charset="UTF-8",
                **{"from": "1234", "dlr-mask": "3", "dlr-url": kab.base + "/dlr?kind=long&type=%d"})
        mt = k.wait_mt(lambda m: m["text"].startswith("kata000"))
        check("concatenated MT arrives whole", mt["text"] == long_text and mt["parts"] == 3,
              (mt["parts"], mt["text"]))
        k.send_dlr(mt, 1)
        check("multipart DLR arrives", wait(lambda: kab.find("/dlr", kind="long", type="1")),
              kab.calls)

        # the operator refuses an MT: Kannel reports type 16
        k.mt_fail_next(1)
        sendsms(k, to=SITI, text="ditolak", **{"from": "1234", "dlr-mask": "31",
                                               "dlr-url": kab.base + "/dlr?kind=rej&type=%d"})
        d16 = wait(lambda: kab.find("/dlr", kind="rej", type="16"))
        check("operator refusal gives DLR 16", d16 is not None, kab.calls)
        check("refused MT is not in .mt", not any(m["text"] == "ditolak" for m in k.mt),
              [m["text"] for m in k.mt])

        # automatic DLRs
        k.auto_dlr = 1
        sendsms(k, to=SITI, text="otomatis", **{"from": "1234", "dlr-mask": "31",
                                                "dlr-url": kab.base + "/dlr?kind=auto&type=%d"})
        check("auto_dlr reports delivery", wait(lambda: kab.find("/dlr", kind="auto", type="1")),
              kab.calls)
        k.auto_dlr = None

        # restart with the same ports and store
        t0 = time.time()
        k.stop(keep_operator=True)
        t1 = time.time()
        k.start()
        check("restart (stop %.2fs, start %.2fs)" % (t1 - t0, time.time() - t1), True)
        k.inject_mo(SITI, "setelah restart")
        check("MO after restart", wait(lambda: kab.find("/sms", text="setelah restart")), kab.calls)
    except Exception as e:  # report and carry on to the cleanup
        check("kannel checks ran to the end", False, "%s: %s\n%s" % (type(e).__name__, e,
                                                                     k.log_tails(10)))
    finally:
        pids = list(k.pids().values())
        t0 = time.time()
        k.stop()
        check("stop (%.2fs)" % (time.time() - t0),
              all(not os.path.exists("/proc/%d" % p) for p in pids), pids)
        kab.stop()


def post_at(at, form, key="test-api-key"):
    req = urllib.request.Request(at.messaging_url, data=urllib.parse.urlencode(form).encode(),
                                 method="POST", headers={"apiKey": key, "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def check_fakeat():
    form = {"username": "sandbox", "to": "+628120000001,+628120000002", "message": "Halo é",
            "from": "KABAR", "bulkSMSMode": "1", "enqueue": "1"}
    with FakeAT(api_key="test-api-key") as at:
        s, b = post_at(at, form)
        doc = json.loads(b) if s == 201 else {}
        recs = doc.get("SMSMessageData", {}).get("Recipients", [])
        check("AT default: 201 with one recipient per number",
              s == 201 and [r["number"] for r in recs] == ["+628120000001", "+628120000002"]
              and all(r["statusCode"] == 101 and r["status"] == "Success" for r in recs), (s, b))
        ids = [r["messageId"] for r in recs]
        check("AT message ids unique ATXid_<n>", len(set(ids)) == 2
              and all(re.match(r"^ATXid_\d+$", i) for i in ids), ids)
        r0 = at.requests[0]
        check("AT records headers and form", r0["headers"].get("apiKey") == "test-api-key"
              and r0["form"]["message"] == "Halo é" and r0["form"]["enqueue"] == "1", r0)

        s, b = post_at(at, form, key="wrong")
        check("AT wrong apiKey: 401", s == 401, (s, b))
        at.reject_auth()
        s, _ = post_at(at, form)
        check("AT reject_auth: 401 for the right key", s == 401, s)
        at.reject_auth(False)

        at.fail_next(2, status=503)
        got = [post_at(at, form)[0] for _ in range(3)]
        check("AT fail_next(2, 503)", got == [503, 503, 201], got)

        at.permanent_next(1, code=405)
        s, b = post_at(at, form)
        recs = json.loads(b)["SMSMessageData"]["Recipients"]
        check("AT permanent_next(405): 201 with InsufficientBalance", s == 201 and all(
            r["statusCode"] == 405 and r["status"] == "InsufficientBalance" for r in recs), b)
        s, b = post_at(at, form)
        check("AT back to success after permanent_next", json.loads(b)["SMSMessageData"]
              ["Recipients"][0]["statusCode"] == 101, b)

        at.at_status(502, n=1)
        s, b = post_at(at, form)
        recs = json.loads(b)["SMSMessageData"]["Recipients"]
        check("AT at_status(502)", s == 201 and recs[0]["statusCode"] == 502
              and recs[0]["status"] == "RejectedByGateway", b)
        at.at_status(500)
        codes = [json.loads(post_at(at, form)[1])["SMSMessageData"]["Recipients"][0]["statusCode"]
                 for _ in range(2)]
        at.at_status(None)
        codes.append(json.loads(post_at(at, form)[1])["SMSMessageData"]["Recipients"][0]["statusCode"])
        check("AT at_status(500) until cleared", codes == [500, 500, 101], codes)

        at.invalid_numbers.add("+628120000002")
        recs = json.loads(post_at(at, form)[1])["SMSMessageData"]["Recipients"]
        check("AT invalid_numbers", [r["statusCode"] for r in recs] == [101, 403], recs)
        at.reset()

        at.delay(0.5)
        t0 = time.time()
        post_at(at, form)
        check("AT delay(0.5)", 0.45 <= time.time() - t0 < 2, time.time() - t0)
        at.delay(0)

        n = len(at.requests)
        threading.Timer(0.2, post_at, args=(at, form)).start()
        got = at.wait_count(n + 1, timeout=5)
        check("AT wait_count", len(got) == n + 1, len(got))
        try:
            at.wait_count(n + 5, timeout=0.3)
            check("AT wait_count times out", False, "no exception")
        except AssertionError:
            check("AT wait_count times out", True)
        req = urllib.request.Request(at.url + "/other", data=b"x", method="POST")
        try:
            urllib.request.urlopen(req, timeout=5)
            code = 200
        except urllib.error.HTTPError as e:
            code = e.code
        check("AT unknown path: 404", code == 404, code)
        check("AT sent() lists successes", len(at.sent()) >= 2, at.sent())


def main():
    keep = "--keep" in sys.argv
    tmp = tempfile.mkdtemp(prefix="selfcheck-sms.")
    t0 = time.time()
    try:
        check_kannel(tmp)
        check_fakeat()
    finally:
        if keep:
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%s: %d failed (%.1fs)" % ("FAIL" if failures else "PASS", len(failures),
                                     time.time() - t0), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
