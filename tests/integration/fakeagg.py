"""A fake Africa's Talking SMS send API on 127.0.0.1, for kabard's outbox.

    with FakeAT(api_key="k") as at:
        ... kabard posts to at.url + "/version1/messaging" ...
        req = at.wait_count(1)[0]
        assert req["form"]["to"] == "+628120000001"

Every request is recorded in .requests as a dict: time, method, path, headers (a dict with
case-insensitive names: r["headers"]["apiKey"]),
form (one value per field), body (bytes), status and response (what was answered).
Default answer: HTTP 201 with docs/PROTOCOLS.md's JSON, one Recipient per number in `to`, each
statusCode 101 "Success" with a unique messageId "ATXid_<n>". Modes, settable from any thread
at any time, are checked in this order for each request:
  delay(seconds)         every answer waits this long first (0 turns it off)
  reject_auth()          401 even for the right apiKey (a revoked key); a wrong or missing
                         apiKey always gets 401
  fail_next(n, 500)      the next n requests get that HTTP status (5xx), plain-text body
  permanent_next(n, 403) the next n requests get 201 with every recipient statusCode 403
                         (401-407: permanent for that message; 405 is an account problem)
  at_status(502, n=None) 201 with every recipient statusCode 500-502 (retry later), for the
                         next n requests or, with n=None, until at_status(None)
  invalid_numbers        a set: those recipients get 403 InvalidPhoneNumber, the others succeed
reset() clears every mode.
"""
import itertools
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATUS_NAMES = {
    100: "Processed", 101: "Success", 102: "Queued",
    401: "RiskHold", 402: "InvalidSenderId", 403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType", 405: "InsufficientBalance", 406: "UserInBlacklist",
    407: "CouldNotRoute",
    500: "InternalServerError", 501: "GatewayError", 502: "RejectedByGateway",
}

# Unique across every FakeAT of the process, so message ids never repeat within a test run.
_message_ids = itertools.count(1)


class Headers(dict):
    """Request headers with case-insensitive names (urllib sends "apiKey" as "Apikey")."""

    def __init__(self, items=()):
        super().__init__((k.lower(), v) for k, v in items)

    def __getitem__(self, name):
        return super().__getitem__(name.lower())

    def __contains__(self, name):
        return super().__contains__(name.lower())

    def get(self, name, default=None):
        return super().get(name.lower(), default)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeAT:
    def __init__(self, api_key="test-api-key", username=None, cost="IDR 350.0000"):
        """api_key: the apiKey header expected. username: if given, other usernames get 401."""
        self.api_key = api_key
        self.username = username
        self.cost = cost
        self.requests = []
        self.invalid_numbers = set()
        self._cond = threading.Condition()
        self._server = None
        self.reset()

    # -- modes

    def reset(self):
        with self._cond:
            self._delay = 0.0
            self._reject_auth = False
            self._fail = []        # HTTP statuses for the next requests
            self._permanent = []   # recipient statusCodes for the next requests
            self._at = None        # recipient statusCode 500-502
            self._at_left = None   # how many more requests get it; None: until cleared
            self.invalid_numbers = set()

    def delay(self, seconds):
        with self._cond:
            self._delay = float(seconds)

    def reject_auth(self, on=True):
        with self._cond:
            self._reject_auth = on

    def fail_next(self, n, status=500):
        with self._cond:
            self._fail += [status] * n

    def permanent_next(self, n, code=403):
        assert 401 <= code <= 407, code
        with self._cond:
            self._permanent += [code] * n

    def at_status(self, code, n=None):
        assert code is None or 500 <= code <= 502, code
        with self._cond:
            self._at, self._at_left = code, n

    # -- results

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self._server.server_address[1]

    @property
    def messaging_url(self):
        return self.url + "/version1/messaging"

    def wait_count(self, n, timeout=10):
        """The first n requests, once at least n have been answered."""
        end = time.time() + timeout
        with self._cond:
            while len(self.requests) < n:
                left = end - time.time()
                if left <= 0:
                    raise AssertionError("timed out waiting for %d requests to the fake AT (got %d)"
                                         % (n, len(self.requests)))
                self._cond.wait(min(left, 0.2))
            return list(self.requests[:n])

    def sent(self):
        """(number, message, messageId) for every recipient answered with success."""
        with self._cond:
            out = []
            for r in self.requests:
                for rec in r.get("recipients", []):
                    if rec["statusCode"] in (100, 101, 102):
                        out.append((rec["number"], r["form"].get("message"), rec["messageId"]))
            return out

    # -- life cycle

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, ctype, data = fake._answer(self.command, self.path, self.headers, body)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def log_message(self, *a):
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- the API

    def _answer(self, method, path, headers, body):
        rec = {"time": time.time(), "method": method, "path": path, "headers": Headers(headers.items()),
               "body": body, "form": {}, "recipients": []}
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        rec["form"] = {k: v[0] for k, v in form.items()}
        with self._cond:
            delay = self._delay
        if delay:
            time.sleep(delay)
        with self._cond:
            status, ctype, data = self._decide(method, path, headers, rec)
            rec.update(status=status, response=data)
            self.requests.append(rec)
            self._cond.notify_all()
        return status, ctype, data

    def _decide(self, method, path, headers, rec):
        """Under the lock: the answer to one request, consuming one-shot modes."""
        text = "text/plain; charset=utf-8"
        if urllib.parse.urlsplit(path).path.rstrip("/") != "/version1/messaging":
            return 404, text, b"Not found"
        if method != "POST":
            return 405, text, b"Method not allowed"
        form = rec["form"]
        if (self._reject_auth or headers.get("apiKey") != self.api_key
                or (self.username is not None and form.get("username") != self.username)):
            return 401, text, b"The supplied authentication is invalid"
        if self._fail:
            code = self._fail.pop(0)
            return code, text, b"Internal Server Error"
        if not form.get("to") or not form.get("message") or not form.get("username"):
            return 400, text, b"Request is missing required form field 'to', 'message' or 'username'"
        code = 101
        if self._permanent:
            code = self._permanent.pop(0)
        elif self._at is not None:
            code = self._at
            if self._at_left is not None:
                self._at_left -= 1
                if self._at_left <= 0:
                    self._at, self._at_left = None, None
        recipients = []
        for number in (n.strip() for n in form["to"].split(",")):
            if not number:
                continue
            c = 403 if number in self.invalid_numbers and code == 101 else code
            ok = c in (100, 101, 102)
            recipients.append({"statusCode": c, "number": number, "status": STATUS_NAMES[c],
                               "cost": self.cost if ok else "0",
                               "messageId": "ATXid_%d" % next(_message_ids) if ok else "None"})
        rec["recipients"] = recipients
        sent = sum(1 for r in recipients if r["statusCode"] in (100, 101, 102))
        total = self.cost if sent else "0"
        doc = {"SMSMessageData": {
            "Message": "Sent to %d/%d Total Cost: %s" % (sent, len(recipients), total),
            "Recipients": recipients}}
        return 201, "application/json", json.dumps(doc).encode("utf-8")
