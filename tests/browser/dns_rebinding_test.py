#!/usr/bin/env python3
"""Browser test: a DNS-rebinding page cannot read the ML backend.

    dns_rebinding_test.py LOOPDECK_BINARY [CHROMIUM]

DNS rebinding: a page loads from an attacker's name, then the name is made to resolve to
127.0.0.1, so the page's later requests to "its own" origin reach a local server; the browser
sees them as same-origin, so CORS and the Origin check do not apply (a same-origin GET sends no
Origin header). Only the Host header (the attacker's name) gives it away.

Here Chromium maps the name rebind.test to 127.0.0.1 (--host-resolver-rules), and the "switch"
is done by the port's owner changing, on one port P:
  1. this script serves the attack page itself on 127.0.0.1:P; Chromium opens
     http://rebind.test:P/;
  2. the page asks a "gate" on another port Q (CORS-open, answered by this script) to go on; the
     script then stops serving on P and starts `loopdeck serve --port P`, and answers the gate
     once the backend is up;
  3. the page fetches http://rebind.test:P/loop/status, /versions, /metrics and /health -
     same-origin for the browser, now answered by the backend - and reports what it could read
     to the gate.
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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"FAIL: {url} did not answer within {timeout} s")


class Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main():
    binary = sys.argv[1]
    chromium = sys.argv[2] if len(sys.argv) > 2 else (shutil.which("chromium") or shutil.which("chromium-browser") or "chromium")
    work = tempfile.mkdtemp(prefix="loopdeck-rebind-")
    procs = []
    servers = []
    try:
        port, gate_port = free_port(), free_port()
        page = (PAGE % {"gate": gate_port, "paths": json.dumps(PATHS)}).encode()
        page_served = threading.Event()
        go = threading.Event()
        report = {}
        reported = threading.Event()

        class PageHandler(Quiet):
            def do_GET(self):
                body = page if self.path in ("/", "/index.html") else b"not here"
                self.send_response(200 if body is page else 404)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                if body is page:
                    page_served.set()

        class GateHandler(Quiet):
            def cors(self):
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def do_GET(self):
                go.wait(90)
                self.send_response(200)
                self.cors()

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                report.update(json.loads(self.rfile.read(length) or b"{}"))
                reported.set()
                self.send_response(200)
                self.cors()

        page_server = http.server.HTTPServer(("127.0.0.1", port), PageHandler)
        gate_server = http.server.ThreadingHTTPServer(("127.0.0.1", gate_port), GateHandler)
        servers.append(gate_server)
        threading.Thread(target=page_server.serve_forever, daemon=True).start()
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
            if page_served.wait(45):
                break
            browser.kill()
            _, err = browser.communicate(timeout=30)
            print(f"chromium start {attempt} never asked for the page; its stderr ends:\n{err[-1500:]}")
        if not page_served.is_set():
            raise SystemExit("FAIL: Chromium never loaded the page from http://rebind.test:%d/" % port)

        # The rebinding: the name now leads to the backend.
        page_server.shutdown()
        page_server.server_close()
        serve_log_path = os.path.join(work, "serve.log")
        serve_log = open(serve_log_path, "w")
        procs.insert(0, subprocess.Popen([binary, "serve", "--port", str(port), "--data-dir", os.path.join(work, "data")],
                                         stdout=serve_log, stderr=subprocess.STDOUT,
                                         env=dict(os.environ, QT_QPA_PLATFORM="offscreen")))
        wait_for(f"http://127.0.0.1:{port}/health")
        go.set()

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
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as r:
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
