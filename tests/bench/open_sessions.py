#!/usr/bin/env python3
"""Opens USSD sessions on a running kabard, one hop each (the first, empty `text` of Africa's
Talking), for the session-memory benchmark (scripts/bench-sessions). Loopback only.

    open_sessions.py --port PORT --first N --count N [--fmt +62817%07d] [--conns 32]

Session i (first <= i < first + count) has the id bench-<run>-<i> and the number fmt % i, so
every session has its own caller: a phone holds one USSD dialogue at a time, and a second session
of one number ends the first. Keep-alive HTTP/1.1 on `conns` connections at once. Prints one
JSON line: {"con": replies that opened a dialog, "end": END replies (busy, refused),
"errors": anything else, "seconds": wall time}.
"""
import argparse
import asyncio
import json
import os
import time
import urllib.parse


async def worker(port, token, ids, fmt, run, counts):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for i in ids:
            body = urllib.parse.urlencode({
                "sessionId": "bench-%s-%d" % (run, i), "serviceCode": "*123*45#",
                "phoneNumber": fmt % i, "networkCode": "51010", "text": ""}).encode()
            writer.write(b"POST /c/at/%s/ussd HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (token.encode(), len(body), body))
            await writer.drain()
            status = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            reply = await reader.readexactly(length)
            if b" 200 " not in status:
                counts["errors"] += 1
            elif reply.startswith(b"CON "):
                counts["con"] += 1
            else:
                counts["end"] += 1
    finally:
        writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token", default="demo")
    ap.add_argument("--first", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--fmt", default="+62817%07d")
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--run", default=str(os.getpid()))
    a = ap.parse_args()
    counts = {"con": 0, "end": 0, "errors": 0}
    ids = list(range(a.first, a.first + a.count))
    t0 = time.time()
    await asyncio.gather(*(worker(a.port, a.token, ids[k::a.conns], a.fmt, a.run, counts)
                           for k in range(min(a.conns, len(ids)))))
    counts["seconds"] = round(time.time() - t0, 2)
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
