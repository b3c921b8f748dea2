#!/usr/bin/env python3
"""Browser test: a DNS-rebinding page cannot read the ML backend.

    dns_rebinding_test.py LOOPDECK_BINARY [CHROMIUM]

DNS rebinding: a page loads from an attacker's name, then the name is made to resolve to
127.0.0.1, so the page's later requests to "its own" origin reach a local server; the browser
sees them as same-origin, so CORS and the Origin check do not apply (a same-origin GET sends no
Origin header). Only the Host header (the attacker's name) gives it away.

Here Chromium maps the name rebind.test to 127.0.0.1 (--host-resolver-rules), and the "switch"
is done by what answers on one port P, which stays open the whole time:
  1. `loopdeck serve` runs on its own port B; this script listens on 127.0.0.1:P and, until the
     switch, answers every request there itself with the attack page; Chromium opens
     http://rebind.test:P/;
  2. the page asks a "gate" on another port Q (CORS-open, answered by this script) to go on; from
     then on every request that arrives on P (on a new connection or on one Chromium opened
     before) is passed byte for byte, untouched, to the backend on B - what a changed DNS answer
     does for the browser;
  3. the page fetches http://rebind.test:P/loop/status, /versions, /metrics and /health -
     same-origin for the browser, now answered by the backend - and reports what it could read
     to the gate.
(An earlier version closed P and started the backend on it; a connection Chromium had opened
ahead of time then met a closed port and every fetch failed before reaching the backend.)
Pass: the backend answered every one 421 (no status, versions or metrics JSON reached the page),
its log names the refusals, and a request from a real client (Host 127.0.0.1) is still served.
Exit status 0 = pass. Standard library only.
"""
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from browser_common import chromium_from_argv, free_port, wait_for

PATHS = ["/loop/status", "/versions", "/metrics", "/health"]

PAGE = """<!doctype html><html><head><title>rebind</title></head><body><pre id="log"></pre>
<script>
const gate = "http://127.0.0.1:%(gate)d";
const paths = %(paths)s;
const log = (s) => { document.getElementById("log").textContent += s + "\\n"; };
async function run() {
  log("loaded from " + location.origin);
  await fetch(gate + "/go", {mode: "cors"});          // the port's owner has changed now
  const seen = {};
  for (const p of paths) {
    try {
      const r = await fetch(p, {cache: "no-store"});   // same origin: http://rebind.test:P
      seen[p] = {status: r.status, body: (await r.text()).slice(0, 2000)};
    } catch (e) {
      seen[p] = {error: String(e)};
    }
    log(p + " " + JSON.stringify(seen[p]));
  }
  await fetch(gate + "/report", {method: "POST", mode: "cors", body: JSON.stringify(seen)});
  log("DONE");
}
run();
</script></body></html>
"""


class Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass


def pipe(src, dst):
    """Copies src to dst until src ends, then ends dst's sending side."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class RebindingPort:
    """Port P: the attack page until switched, then a byte-for-byte pass to the backend.

    What a connection gets is decided when its first bytes arrive, not when it is accepted, so a
    connection Chromium opened early (a preconnect) and used after the switch reaches the backend."""

    def __init__(self, port, page):
        self.page = page
        self.backend_port = None
        self.switched = threading.Event()
        self.page_served = threading.Event()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.closed = False
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn):
        try:
            conn.settimeout(150)
            first = conn.recv(65536)
            if not first:
                return
            if self.switched.is_set():
                upstream = socket.create_connection(("127.0.0.1", self.backend_port), timeout=150)
                upstream.sendall(first)
                back = threading.Thread(target=pipe, args=(upstream, conn), daemon=True)
                back.start()
                pipe(conn, upstream)
                back.join(150)
                upstream.close()
                return
            while b"\r\n\r\n" not in first and len(first) < 65536:
                more = conn.recv(65536)
                if not more:
                    break
                first += more
            line = first.split(b"\r\n", 1)[0].split()
            path = line[1].decode("latin-1") if len(line) > 1 else ""
            body = self.page if path in ("/", "/index.html") else b"not here"
            status = b"200 OK" if body is self.page else b"404 Not Found"
            conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: text/html\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            if body is self.page:
                self.page_served.set()
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.closed = True
        self.sock.close()


def main():
    binary = sys.argv[1]
    chromium = chromium_from_argv()
    work = tempfile.mkdtemp(prefix="loopdeck-rebind-")
    procs = []
    servers = []
    rebinding = None
    try:
        port, gate_port, backend_port = free_port(), free_port(), free_port()
        page = (PAGE % {"gate": gate_port, "paths": json.dumps(PATHS)}).encode()
        report = {}
        reported = threading.Event()

        # The backend first, on its own port; the page cannot reach it until the switch.
        serve_log_path = os.path.join(work, "serve.log")
        serve_log = open(serve_log_path, "w")
        procs.append(subprocess.Popen([binary, "serve", "--port", str(backend_port), "--data-dir", os.path.join(work, "data")],
                                      stdout=serve_log, stderr=subprocess.STDOUT,
                                      env=dict(os.environ, QT_QPA_PLATFORM="offscreen")))
        wait_for(f"http://127.0.0.1:{backend_port}/health")

        rebinding = RebindingPort(port, page)
        rebinding.backend_port = backend_port

        class GateHandler(Quiet):
            def cors(self):
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def do_GET(self):
                rebinding.switched.set()   # the rebinding: the name now leads to the backend
                self.send_response(200)
                self.cors()

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                report.update(json.loads(self.rfile.read(length) or b"{}"))
                reported.set()
                self.send_response(200)
                self.cors()

        gate_server = http.server.ThreadingHTTPServer(("127.0.0.1", gate_port), GateHandler)
        servers.append(gate_server)
        threading.Thread(target=gate_server.serve_forever, daemon=True).start()

        # Chromium is started a second time (fresh profile) if it never asks for the page: once in a
        # full CI run it sat 90 s without a request, which says nothing about the backend. What
        # the page reads is still judged below, from whichever start loaded it.
        browser = None
        for attempt in (1, 2):
            cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                   "--host-resolver-rules=MAP rebind.test 127.0.0.1", "--proxy-server=direct://", "--proxy-bypass-list=*",
                   f"--user-data-dir={os.path.join(work, f'profile{attempt}')}", "--virtual-time-budget=60000", "--dump-dom",
                   f"http://rebind.test:{port}/"]
            browser = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            procs.append(browser)
            if rebinding.page_served.wait(45):
                break
            browser.kill()
            _, err = browser.communicate(timeout=30)
            print(f"chromium start {attempt} never asked for the page; its stderr ends:\n{err[-1500:]}")
        if not rebinding.page_served.is_set():
            raise SystemExit("FAIL: Chromium never loaded the page from http://rebind.test:%d/" % port)

        if not reported.wait(90):
            out, err = browser.communicate(timeout=30) if browser.poll() is not None else ("", "")
            print(err[-3000:])
            raise SystemExit("FAIL: the page never reported what it read")
        try:
            dom, _ = browser.communicate(timeout=60)
            print("chromium page log:\n" + (dom[dom.find("<pre"):dom.find("</pre>")] if "<pre" in dom else dom[-2000:]))
        except subprocess.TimeoutExpired:
            pass

        problems = []
        for path in PATHS:
            seen = report.get(path)
            if seen is None:
                problems.append(f"{path}: the page did not try it")
                continue
            if seen.get("status") != 421:
                problems.append(f"{path}: the page got {seen} instead of 421")
            elif "rebind.test" not in seen.get("body", ""):
                problems.append(f"{path}: the refusal does not name the host: {seen}")
            for leak in ('"projects"', '"versions"', '"routes"', '"model_class"'):
                if leak in seen.get("body", ""):
                    problems.append(f"{path}: the page read the backend's answer ({leak}): {seen['body'][:200]}")
        # A real client on the loopback address is still served.
        with urllib.request.urlopen(f"http://127.0.0.1:{backend_port}/health", timeout=10) as r:
            if r.status != 200:
                problems.append(f"GET /health from 127.0.0.1 answered {r.status}")
        time.sleep(0.3)
        serve_log.flush()
        with open(serve_log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        for path in PATHS:
            if f"GET {path} 421" not in log:
                problems.append(f"the backend's log has no refused GET {path}")
        if problems:
            print("backend log:\n" + log[-3000:])
            print("FAIL:\n  " + "\n  ".join(problems))
            return 1
        print(f"PASS: the rebinding page read nothing; {len(PATHS)} requests for rebind.test refused with 421")
        return 0
    finally:
        if rebinding:
            rebinding.close()
        for s in servers:
            s.shutdown()
            s.server_close()
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
