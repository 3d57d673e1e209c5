"""A real Kannel (bearerbox + smsbox, Debian's 1.4.5) on 127.0.0.1 for one integration test.

Everything lives under the `workdir` given: kannel.conf, logs, the message store, pid files.
The operator side is bearerbox's HTTP SMSC (`smsc = http`, `system-type = kannel`), and this
module plays the operator: it serves the SMSC's `send-url` (every MT lands there and is
recorded) and injects MO messages and delivery reports into the SMSC's own HTTP port.

    with Kannel(tmpdir, get_url) as k:
        k.inject_mo("+628120000001", "usaha buka 2.500.000")
        mt = k.wait_mt(lambda m: m["to"] == "+628120000001")
        k.send_dlr(mt, 1)

get_url is the sms-service `get-url` template; smsbox fills its escapes, URL-encoded:
  %p sender (the handset, "+62..." as injected)   %P receiver (the short code)
  %a the whole text (UTF-8 thanks to mo-recode)   %b the raw text (UCS-2 bytes if not recoded)
  %I Kannel's message id (a UUID: the dedupe key)  %i the smsc-id ("operator")
  %t time "YYYY-MM-DD HH:MM:SS" in UTC             %T time as Unix seconds
  %c coding (0 GSM text, 2 UCS-2, -1 when the SMSC said nothing)   %C charset ("UTF-8")
  %k keyword, %s next word, %r remaining words (Kannel's own keyword routing: not needed).
The HTTP response body is sent back to the sender as the reply SMS (empty body: no reply,
`omit-empty`); reply with Content-Type text/plain; charset=utf-8. GSM-7 replies keep é, ü etc.;
characters outside GSM-7 turn into '?' unless the reply carries `X-Kannel-Coding: 2`
(accept-x-kannel-headers is on), the same as sendsms without coding=2.

In a dlr-url, smsbox fills %d (type: 1 delivered, 2 failed, 4 buffered, 8 smsc submit,
16 smsc reject), %p (the handset), %P (the short code), %A (the SMSC's report text), %F (the
SMSC's message id), %T, plus any parameters of your own in the URL (e.g. `?id=42&type=%d`).

Delivery reports (verified with 1.4.5): with `dlr-mask=31`, bearerbox itself reports type 8 as
soon as the operator answers `Sent.`. Final reports come from the operator: because the smsc
group has its own `dlr-url`, every MT that asked for reports carries a `dlr-mid` (Kannel's UUID
for it); send_dlr() calls the SMSC port with `dlr-mask=<type>&dlr-mid=<uuid>&to=<number>`,
bearerbox matches it in its DLR store and smsbox calls the application's dlr-url. A report
for an unknown or already final message is refused ("Unknown DLR, not accepted"). Of a
concatenated MT only the first part asks for reports, so one report covers the message.

sendsms (kabard's MT path): GET .sendsms_url with username, password, to, text, from (required:
"Sender missing and no global set, rejected", HTTP 400), charset=UTF-8, coding=2 for text
outside GSM-7 (else Kannel sends '?' for it), dlr-mask, dlr-url. Success is HTTP 202
"0: Accepted for delivery"; a wrong password is 403 "Authorization failed for sendsms".

Each recorded MT (.mt) is a dict: every query parameter Kannel sent (to, from, coding, charset,
dlr-mask, dlr-url, smsc, username, password, ...; strings), plus text (decoded per coding and
charset), raw-text (bytes), udh (hex), parts (1, or the count joined), dlr-mid (Kannel's id
when reports were asked for, else None), dlr-mids (one per part that asked), app-dlr-url (the
application's dlr-url as given to sendsms, or None), received (time.time()), answered.
.mt_parts holds every single request, refused ones included.
"""
import os
import re
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kabartest import free_port

BEARERBOX = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"

# GSM 03.38 default alphabet and its extension table: what an operator would deliver as 7-bit.
GSM7 = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXT = "\f^{}\\[~]|€"

DLR_TEXT = {1: "DELIVRD", 2: "UNDELIV", 4: "ENROUTE", 8: "ACCEPTD", 16: "REJECTD"}


def is_gsm7(text):
    return all(c in GSM7 or c in GSM7_EXT for c in text)


def _q(s):
    return urllib.parse.quote(s, safe="")


def _get(url, timeout=10):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


class _Operator(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Kannel:
    """One bearerbox + smsbox pair with the operator stand-in; see the module docstring."""

    def __init__(self, workdir, get_url, dlr_url_base=None, smsc_id="operator", shortcode="1234",
                 dlr_mask=31, http_retries=0, http_retry_delay=1, extra=None, log_level=0):
        """get_url: the sms-service get-url template (escapes in the module docstring).
        dlr_url_base: optional dlr-url template for the *reply* SMS (the get-url answer), e.g.
        "http://127.0.0.1:PORT/c/kannel/TOKEN/dlr?type=%d&mid=%F"; it is asked for with
        dlr_mask. MT sent through sendsms carry their own dlr-url/dlr-mask.
        http_retries: smsbox's http-request-retry, every http_retry_delay seconds. Kannel's
        default is 0: an MO whose get-url fails (refused connection or any non-2xx answer) is
        dropped. With retries, the same MO (same %I) is fetched again.
        extra: {"core"|"smsc"|"smsbox"|"sms-service"|"sendsms-user": "more = lines\n"}."""
        self.dir = os.path.abspath(workdir)
        os.makedirs(self.dir, exist_ok=True)
        self.get_url = get_url
        self.dlr_url_base = dlr_url_base
        self.dlr_mask = dlr_mask
        self.smsc_id = smsc_id
        self.shortcode = shortcode
        self.http_retries = http_retries
        self.http_retry_delay = http_retry_delay
        self.extra = extra or {}
        self.log_level = log_level
        self.admin_password = "admin-secret"
        self.smsc_username = "opuser"
        self.smsc_password = "oppass"
        self.sendsms_user = "kabar"
        self.sendsms_password = "kabar-secret"
        self.admin_port = free_port()
        self.box_port = free_port()
        self.smsc_port = free_port()
        self.sendsms_port = free_port()
        self.admin_url = "http://127.0.0.1:%d" % self.admin_port
        self.smsc_url = "http://127.0.0.1:%d/" % self.smsc_port
        self.sendsms_url = "http://127.0.0.1:%d/cgi-bin/sendsms" % self.sendsms_port
        self.conf = os.path.join(self.dir, "kannel.conf")
        self.bearerbox_log = os.path.join(self.dir, "bearerbox.log")
        self.smsbox_log = os.path.join(self.dir, "smsbox.log")
        # What the smsc group's dlr-url expands to in each MT; the stand-in strips it again.
        self._dlr_wrap = "%s?username=%s&password=%s" % (
            self.smsc_url, self.smsc_username, self.smsc_password)

        self.mt = []          # whole MT messages (concatenated parts joined), in arrival order
        self.mt_parts = []    # every request on send-url, as received
        self.dlr_sent = []    # (mt, type, Kannel's answer) for every report injected
        self.auto_dlr = None  # a DLR type: report it for every MT that asks for reports
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._pending = {}    # (to, ref) -> {seq: part} while a concatenated MT arrives
        self._fail = []       # scripted answers for the next MT: (status, body)
        self._delay = 0.0
        self._server = None
        self._procs = {}

    # -- configuration

    def config_text(self):
        def esc(s):
            return s.replace("\\", "\\\\").replace('"', '\\"')
        store = os.path.join(self.dir, "store")
        service_dlr = ""
        if self.dlr_url_base:
            service_dlr = 'dlr-url = "%s"\ndlr-mask = %d\n' % (esc(self.dlr_url_base), self.dlr_mask)
        return f"""group = core
admin-port = {self.admin_port}
admin-interface = 127.0.0.1
admin-password = {self.admin_password}
admin-allow-ip = 127.0.0.1
smsbox-port = {self.box_port}
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
log-file = "{esc(self.bearerbox_log)}"
log-level = {self.log_level}
access-log = "{esc(os.path.join(self.dir, "access.log"))}"
store-type = file
store-location = "{esc(store)}"
store-dump-freq = 1
dlr-storage = internal
{self.extra.get("core", "")}
group = smsc
smsc = http
smsc-id = {self.smsc_id}
system-type = kannel
port = {self.smsc_port}
our-host = 127.0.0.1
connect-allow-ip = 127.0.0.1
smsc-username = {self.smsc_username}
smsc-password = {self.smsc_password}
send-url = "http://127.0.0.1:{self.operator_port}/send"
dlr-url = "{esc(self._dlr_wrap)}"
reconnect-delay = 1
{self.extra.get("smsc", "")}
group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.box_port}
sendsms-port = {self.sendsms_port}
sendsms-interface = 127.0.0.1
log-file = "{esc(self.smsbox_log)}"
log-level = {self.log_level}
access-log = "{esc(os.path.join(self.dir, "smsbox-access.log"))}"
mo-recode = true
reply-couldnotfetch = ""
reply-couldnotrepresent = ""
reply-requestfailed = ""
reply-emptymessage = ""
http-request-retry = {self.http_retries}
http-queue-delay = {self.http_retry_delay}
{self.extra.get("smsbox", "")}
group = sms-service
keyword = default
catch-all = true
get-url = "{esc(self.get_url)}"
max-messages = 3
concatenation = true
omit-empty = true
accept-x-kannel-headers = true
{service_dlr}{self.extra.get("sms-service", "")}
group = sendsms-user
username = {self.sendsms_user}
password = {self.sendsms_password}
user-allow-ip = 127.0.0.1
max-messages = 3
concatenation = true
{self.extra.get("sendsms-user", "")}"""

    # -- life cycle

    def start(self, timeout=15):
        self._start_operator()
        with open(self.conf, "w") as f:
            f.write(self.config_text())
        end = time.time() + timeout
        try:
            self._spawn("bearerbox", BEARERBOX)
            self._wait_up(end, smsbox=False)
            self._spawn("smsbox", SMSBOX)
            self._wait_up(end, smsbox=True)
        except BaseException:
            self.stop(graceful=False)
            raise
        return self

    def _wait_up(self, end, smsbox):
        while time.time() < end:
            for name, p in self._procs.items():
                if p.poll() is not None:
                    self._raise("%s exited with %s" % (name, p.returncode))
            if self._up(smsbox):
                return
            time.sleep(0.05)
        self._raise("Kannel not ready in time (%s)" % ("smsbox" if smsbox else "bearerbox"))

    def _spawn(self, name, binary):
        out = open(os.path.join(self.dir, name + ".out"), "ab")
        pidfile = os.path.join(self.dir, name + ".pid")
        self._procs[name] = subprocess.Popen(
            [binary, "-v", "3", "-p", pidfile, self.conf],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd=self.dir)
        out.close()

    def _up(self, smsbox):
        try:
            s = self.status()
        except OSError:
            return False
        smsc = re.search(r"^\s*%s\[.*\(online" % re.escape(self.smsc_id), s, re.M)
        if not smsbox:
            return bool(smsc)
        if not (smsc and re.search(r"^\s*smsbox:", s, re.M)):
            return False
        try:  # smsbox registers with bearerbox before its sendsms port listens
            _get(self.sendsms_url, timeout=2)
        except OSError:
            return False
        return True

    def _raise(self, why):
        raise AssertionError("%s\n%s" % (why, self.log_tails()))

    def log_tails(self, n=30):
        out = []
        for name in ("bearerbox.out", "bearerbox.log", "smsbox.out", "smsbox.log"):
            path = os.path.join(self.dir, name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    lines = f.read().decode("utf-8", "replace").splitlines()[-n:]
                out.append("--- %s\n%s" % (path, "\n".join(lines)))
        return "\n".join(out)

    def stop(self, graceful=True, keep_operator=False, timeout=10):
        """Shut both boxes down (through the admin port, else SIGTERM, else SIGKILL).
        keep_operator keeps the send-url stand-in and its records for a later start()."""
        procs = [p for p in self._procs.values() if p.poll() is None]
        if procs and graceful:
            try:
                _get(self.admin_url + "/shutdown?password=" + _q(self.admin_password), timeout=3)
            except OSError:
                pass
        for p in procs:
            if not graceful:
                p.kill()
            try:
                p.wait(timeout=timeout if graceful else 5)
            except subprocess.TimeoutExpired:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self._procs = {}
        if not keep_operator:
            self._stop_operator()

    def pids(self):
        """{"bearerbox": pid, "smsbox": pid} of the boxes this object started and that run."""
        return {n: p.pid for n, p in self._procs.items() if p.poll() is None}

    def kill(self, name="bearerbox"):
        """Crash one box (SIGKILL), e.g. to test what the file store keeps."""
        p = self._procs.pop(name)
        p.kill()
        p.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- admin

    def status(self):
        status, body = _get(self.admin_url + "/status.txt?password=" + _q(self.admin_password),
                            timeout=2)
        return body

    def admin(self, command, **params):
        """e.g. admin("stop-smsc", smsc="operator"); returns the answer's text."""
        params["password"] = self.admin_password
        return _get("%s/%s?%s" % (self.admin_url, command, urllib.parse.urlencode(params)))[1]

    def store_size(self):
        m = re.search(r"store size (-?\d+)", self.status())
        return int(m.group(1)) if m else None

    # -- MO and DLR injection, as the operator

    def inject_mo(self, sender, text, receiver=None, coding=None, **extra):
        """An MO from `sender` ("+62...") to `receiver` (the short code). Text that fits GSM-7
        goes as coding 0, anything else as UCS-2 (coding 2, UTF-16BE bytes), as an SMSC would
        deliver it; pass coding=0/2 to force one. Returns Kannel's answer; raises if refused."""
        if coding is None:
            coding = 0 if is_gsm7(text) else 2
        raw = text.encode("utf-16-be" if coding == 2 else "utf-8")
        params = [("username", self.smsc_username), ("password", self.smsc_password),
                  ("from", sender), ("to", receiver or self.shortcode), ("coding", str(coding))]
        params += [(k.replace("_", "-"), str(v)) for k, v in extra.items()]
        query = urllib.parse.urlencode(params) + "&text=" + urllib.parse.quote_from_bytes(raw, safe="")
        status, body = _get(self.smsc_url + "?" + query)
        if status not in (200, 202) or body.strip() != "Sent.":
            raise AssertionError("Kannel refused the MO: HTTP %s %r" % (status, body))
        return body

    def send_dlr(self, mt=None, status=1, text=None, err=None, timeout=5):
        """Report delivery of `mt` (a dict from .mt; default: the last one that asked for
        reports) with DLR type `status` (1 delivered, 2 failed, 4 buffered, 16 rejected).
        Retries while Kannel has not filed the message yet (the answer to send-url races the
        test). Returns Kannel's answers, one per part; raises if refused."""
        if mt is None:
            with self._lock:
                mts = [m for m in self.mt if m.get("dlr-mids")]
            if not mts:
                raise AssertionError("no MT asked for delivery reports")
            mt = mts[-1]
        if not mt.get("dlr-mids"):
            raise AssertionError("this MT asked for no delivery report: %r" % (mt,))
        if text is None:
            text = "id:%s stat:%s err:%03d" % (mt["dlr-mids"][0], DLR_TEXT.get(status, "UNKNOWN"),
                                               0 if err is None else int(err))
        answers = []
        for mid in mt["dlr-mids"]:
            params = {"username": self.smsc_username, "password": self.smsc_password,
                      "to": mt["to"], "dlr-mask": str(status), "dlr-mid": mid,
                      "dlr-url": mt.get("app-dlr-url") or "-", "text": text}
            if err is not None:
                params["dlr-err"] = str(err)
            url = self.smsc_url + "?" + urllib.parse.urlencode(params)
            end = time.time() + timeout
            while True:
                code, body = _get(url)
                if body.strip() == "Sent.":
                    break
                if "Unknown DLR" not in body or time.time() > end:
                    raise AssertionError("Kannel refused the DLR: HTTP %s %r" % (code, body))
                time.sleep(0.05)
            answers.append(body)
            with self._lock:
                self.dlr_sent.append((mt, status, body))
        return answers

    # -- MT, as received on send-url

    def wait_mt(self, pred=None, timeout=10):
        """The first MT (already received or arriving within timeout) that pred(mt) accepts."""
        found = self.wait_mts(1, pred, timeout)
        return found[0]

    def wait_mts(self, n, pred=None, timeout=10):
        """The first n MT that pred accepts; raises with what did arrive on timeout."""
        end = time.time() + timeout
        with self._cond:
            while True:
                found = [m for m in self.mt if pred is None or pred(m)]
                if len(found) >= n:
                    return found[:n]
                left = end - time.time()
                if left <= 0:
                    raise AssertionError("timed out waiting for %d MT (have %d matching); MT so far: %r"
                                         % (n, len(found), [(m["to"], m["text"]) for m in self.mt]))
                self._cond.wait(min(left, 0.2))

    def mt_fail_next(self, n, status=503, body="Service unavailable"):
        """Answer the next n MT with this instead of `Sent.` (Kannel: send failed)."""
        with self._lock:
            self._fail += [(status, body)] * n

    def mt_delay(self, seconds):
        """Hold every MT answer this long (a slow operator)."""
        self._delay = seconds

    # -- the send-url stand-in

    @property
    def operator_port(self):
        return self._server.server_address[1]

    def _start_operator(self):
        if self._server is not None:
            return
        kannel = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                status, body = kannel._on_mt(self.path)
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET

            def log_message(self, *a):
                pass

        self._server = _Operator(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _stop_operator(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _on_mt(self, path):
        part = self._parse_mt(path)
        if self._delay:
            time.sleep(self._delay)
        with self._cond:
            self.mt_parts.append(part)
            if self._fail:
                part["answered"] = self._fail.pop(0)
                return part["answered"]
            part["answered"] = (200, "Sent.")
            whole = self._assemble(part)
            if whole is not None:
                self.mt.append(whole)
                self._cond.notify_all()
        if whole is not None and self.auto_dlr and whole.get("dlr-mids"):
            threading.Thread(target=self._auto_dlr, args=(whole, self.auto_dlr), daemon=True).start()
        return 200, "Sent."

    def _auto_dlr(self, mt, status):
        try:
            self.send_dlr(mt, status)
        except (AssertionError, OSError):
            pass  # visible to the test as the missing report

    def _parse_mt(self, path):
        query = urllib.parse.urlsplit(path).query
        raw = {}
        for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True, encoding="latin-1"):
            raw[k] = v.encode("latin-1")
        m = {k: v.decode("utf-8", "replace") for k, v in raw.items() if k != "text"}
        m["raw-text"] = raw.get("text", b"")
        m["text"] = self._decode(raw.get("text", b""), m.get("coding"), m.get("charset"))
        m["udh"] = raw.get("udh", b"").hex()
        m["received"] = time.time()
        m["dlr-mid"] = m["app-dlr-url"] = None
        wrapped = m.get("dlr-url", "")
        head, tail = self._dlr_wrap + "&dlr-url=", "&dlr-mask=%d&dlr-mid="
        if wrapped.startswith(head) and tail in wrapped:
            cut = wrapped.rindex(tail)
            m["app-dlr-url"] = wrapped[len(head):cut] or None
            # Every MT carries a dlr-mid, but Kannel files (and accepts reports for) only
            # those sent with a dlr-mask: of a concatenated MT, only the first part.
            if m.get("dlr-mask", "0") not in ("", "0"):
                m["dlr-mid"] = wrapped[cut + len(tail):]
        return m

    @staticmethod
    def _decode(data, coding, charset):
        if coding == "2" or (charset or "").upper() in ("UTF-16BE", "UCS-2", "UCS2"):
            return data.decode("utf-16-be", "replace")
        if coding == "1":
            return data.hex()
        try:
            return data.decode(charset or "utf-8", "replace")
        except LookupError:
            return data.decode("utf-8", "replace")

    def _assemble(self, part):
        """A whole message, or None while parts of a concatenated one are missing."""
        udh = bytes.fromhex(part["udh"])
        ref = total = seq = None
        if len(udh) >= 6 and udh[1] == 0x00 and udh[2] == 3:
            ref, total, seq = udh[3], udh[4], udh[5]
        elif len(udh) >= 7 and udh[1] == 0x08 and udh[2] == 4:
            ref, total, seq = udh[3] << 8 | udh[4], udh[5], udh[6]
        mids = [part["dlr-mid"]] if part["dlr-mid"] else []
        if ref is None or total <= 1:
            whole = dict(part, parts=1, **{"dlr-mids": mids})
            return whole
        key = (part.get("to"), ref)
        got = self._pending.setdefault(key, {})
        got[seq] = part
        if len(got) < total:
            return None
        del self._pending[key]
        parts = [got[i] for i in sorted(got)]
        raw = b"".join(p["raw-text"] for p in parts)
        whole = dict(parts[0])
        whole.update({"raw-text": raw, "parts": total, "part-list": parts,
                      "text": self._decode(raw, whole.get("coding"), whole.get("charset")),
                      "dlr-mids": [p["dlr-mid"] for p in parts if p["dlr-mid"]]})
        return whole
