#!/usr/bin/env python3
"""Runs packaging/deploy/haproxy.cfg for real in front of three stand-in replicas on loopback and
checks what docs/deploy.md says of it: a replica whose GET /ready answers 503 gets no requests;
a replica that drops requests is routed around for /predict (replayed) but not for POST /train
(not replayed) nor for a body bigger than HAProxy's buffer; a replica that refuses connections
is routed around for every request. The stand-ins are small Python HTTP servers, not loopdeck.

Usage: haproxy_replicas_test.py [HAPROXY]   (ctest deploy/haproxy_replicas). Loopback only,
bounded (about 15 s). Ends with "N passed, N failed"; exit 1 on a failure.
"""
import http.client
import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CFG = os.path.join(ROOT, "packaging", "deploy", "haproxy.cfg")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Replica(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.ready = True       # GET /ready answers 200 (else 503)
        self.drop = False       # close other requests without answering
        self.hits = 0           # requests other than /ready
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def handle_error(self, request, client_address):
        pass  # HAProxy's health checks close their connection early; nothing to report

    def stop(self):
        self.shutdown()
        self.server_close()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path == "/ready":
            status, body = (200, b'{"ready":true}') if self.server.ready else (503, b'{"ready":false,"why":"test"}')
        else:
            self.server.hits += 1
            if self.server.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            status, body = 200, b"{}"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = answer


def main():
    haproxy = sys.argv[1] if len(sys.argv) > 1 else (shutil.which("haproxy") or "/usr/sbin/haproxy")
    replicas = [Replica() for _ in range(3)]
    front, stats = free_port(), free_port()
    with open(CFG, encoding="utf-8") as f:
        cfg = f.read()
    servers = re.findall(r"^    server (replica\d) 127\.0\.0\.1:910\d$", cfg, re.M)
    assert len(servers) == 3, "haproxy.cfg no longer has the three placeholder servers this test rewrites"
    for i, r in enumerate(replicas):
        cfg = cfg.replace(f"127.0.0.1:910{i + 1}\n", f"127.0.0.1:{r.server_address[1]}\n")
    cfg = cfg.replace("bind *:9090", f"bind 127.0.0.1:{front}").replace("bind 127.0.0.1:8404", f"bind 127.0.0.1:{stats}")
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "haproxy.cfg")
    with open(path, "w", encoding="utf-8") as f:
        f.write(cfg)
    proc = subprocess.Popen([haproxy, "-db", "-f", path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        print(("ok   " if ok else "FAIL ") + what, flush=True)
        passed, failed = passed + bool(ok), failed + (not ok)

    def stats_rows():
        c = http.client.HTTPConnection("127.0.0.1", stats, timeout=2)
        c.request("GET", "/;csv")
        rows = c.getresponse().read().decode().splitlines()
        c.close()
        head = rows[0].lstrip("# ").split(",")
        out = {}
        for row in rows[1:]:
            cols = dict(zip(head, row.split(",")))
            if cols.get("pxname") == "loopdeck_replicas" and cols.get("svname", "").startswith("replica"):
                out[cols["svname"]] = cols
        return out

    def states():
        return {name: cols["status"] for name, cols in stats_rows().items()}

    def wait_for(want, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                if states() == want:
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    def send(method, route, body=b""):
        c = http.client.HTTPConnection("127.0.0.1", front, timeout=10)
        c.request(method, route, body=body or None, headers={"Content-Type": "application/json"})
        status = c.getresponse().status
        c.close()
        return status

    up = {"replica1": "UP", "replica2": "UP", "replica3": "UP"}
    small, big = b'{"tasks":[{"id":1,"data":{"text":"x"}}]}', b'{"x":"' + b"a" * 20000 + b'"}'
    try:
        check(wait_for(up, 5), "all three replicas UP (GET /ready answers 200)")

        a = replicas[0]
        a.ready = False
        t0 = time.monotonic()
        down = wait_for({**up, "replica1": "DOWN"}, 5)
        check(down, f"a replica whose /ready answers 503 is DOWN after {time.monotonic() - t0:.1f} s")
        a.hits = 0
        codes = [send("POST", "/predict", small) for _ in range(9)]
        check(codes == [200] * 9 and a.hits == 0, f"the DOWN replica gets no requests (answers {codes}, it got {a.hits})")

        a.ready, a.drop = True, True
        check(wait_for(up, 5), "it comes back UP")
        a.hits = 0
        codes = [send("POST", "/predict", small) for _ in range(9)]
        check(codes == [200] * 9 and a.hits > 0,
              f"small POST /predict dropped by a replica is replayed on another ({a.hits} dropped, answers {codes})")
        a.hits = 0
        codes = [send("POST", "/train", small) for _ in range(9)]
        check(a.hits > 0 and codes.count(502) == a.hits,
              f"POST /train dropped by a replica is not replayed ({a.hits} dropped, answers {codes})")
        a.hits = 0
        codes = [send("POST", "/predict", big) for _ in range(9)]
        check(a.hits > 0 and codes.count(502) == a.hits,
              f"a 20 kB POST /predict dropped by a replica is not replayed ({a.hits} dropped, answers {codes})")

        a.drop = False
        a.stop()  # refuses connections from now on; HAProxy notices it within about 2 s
        redispatched = int(stats_rows()["replica1"]["wredis"] or 0)
        codes = [send("POST", "/train", big) for _ in range(6)]
        redispatched = int(stats_rows()["replica1"]["wredis"] or 0) - redispatched
        check(codes == [200] * 6 and redispatched > 0,
              f"with a replica refusing connections, even a 20 kB POST /train is redispatched "
              f"({redispatched} redispatched, answers {codes})")
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        for r in replicas[1:]:
            r.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    if proc.returncode not in (0, 143, -15):
        print((proc.stderr.read() or b"").decode()[-2000:])
    print(f"haproxy replicas: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
