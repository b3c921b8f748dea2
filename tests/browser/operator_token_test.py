#!/usr/bin/env python3
"""Browser test: without the operator token, /loop/* refuses a page's requests, also on loopback.

    operator_token_test.py LOOPDECK_BINARY [CHROMIUM]

Starts `loopdeck serve` on a free loopback port and a plain HTTP server on another loopback port
serving a page. Real headless Chromium opens the page; it reaches the backend the ways a page can
without a CORS preflight and, for GET, without an Origin header (so the Origin check does not
apply): no-cors fetch() GETs of /loop/status, /loop/events and /loop/train, an <img> and a
<script> pointing at /loop/status, and an iframe navigated to /loop/status. Pass: the backend's
log shows every one of those GETs answered 401 (the operator-token check, not the Origin check,
refused them), /metrics shows no /loop/ route handled, and a client that sends the token from the
data folder is served (a control that the token, not the route, decides).
Exit status 0 = pass. Standard library only.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from browser_common import chromium_from_argv, free_port, wait_for

GETS = ["/loop/status?project=7", "/loop/events", "/loop/train?project=7"]

PAGE = """<!doctype html><html><head><title>operator</title></head><body><pre id="log"></pre>
<script>
const backend = "http://127.0.0.1:%(port)d";
const gets = %(gets)s;
const log = (s) => { document.getElementById("log").textContent += s + "\\n"; };
function loaded(el) { return new Promise(r => { el.onload = () => r("load"); el.onerror = () => r("error"); }); }
async function run() {
  for (const g of gets) {
    try {
      const r = await fetch(backend + g, {mode: "no-cors", cache: "no-store"});
      log("no-cors GET " + g + " opaque=" + (r.type === "opaque"));
    } catch (e) { log("no-cors GET " + g + " error " + e); }
  }
  const img = document.createElement("img");
  const imgDone = loaded(img);
  img.src = backend + "/loop/status?project=7&via=img";
  document.body.appendChild(img);
  log("img " + await imgDone);
  const script = document.createElement("script");
  const scriptDone = loaded(script);
  script.src = backend + "/loop/status?project=7&via=script";
  document.body.appendChild(script);
  log("script " + await scriptDone);
  const frame = document.createElement("iframe");
  const frameDone = loaded(frame);
  frame.src = backend + "/loop/status?project=7&via=iframe";
  document.body.appendChild(frame);
  log("iframe " + await frameDone);
  log("DONE");
}
run();
</script></body></html>
"""


def main():
    binary = sys.argv[1]
    chromium = chromium_from_argv()
    work = tempfile.mkdtemp(prefix="loopdeck-operator-")
    procs = []
    try:
        backend_port, page_port = free_port(), free_port()
        data = os.path.join(work, "data")
        serve_log_path = os.path.join(work, "serve.log")
        serve_log = open(serve_log_path, "w")
        procs.append(subprocess.Popen([binary, "serve", "--port", str(backend_port), "--data-dir", data],
                                      stdout=serve_log, stderr=subprocess.STDOUT,
                                      env=dict(os.environ, QT_QPA_PLATFORM="offscreen")))
        site = os.path.join(work, "site")
        os.makedirs(site)
        with open(os.path.join(site, "index.html"), "w", encoding="utf-8") as f:
            f.write(PAGE % {"port": backend_port, "gets": json.dumps(GETS)})
        procs.append(subprocess.Popen([sys.executable, "-m", "http.server", str(page_port), "--bind", "127.0.0.1",
                                       "--directory", site], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(f"http://127.0.0.1:{backend_port}/health")
        wait_for(f"http://127.0.0.1:{page_port}/index.html")
        with open(os.path.join(data, "operator-token"), encoding="ascii") as f:
            token = f.read().strip()
        mode = os.stat(os.path.join(data, "operator-token")).st_mode & 0o777

        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={os.path.join(work, 'profile')}", "--virtual-time-budget=15000", "--dump-dom",
               f"http://127.0.0.1:{page_port}/index.html"]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        dom = result.stdout
        print("chromium page log:\n" + (dom[dom.find("<pre"):dom.find("</pre>")] if "<pre" in dom else dom[-2000:]))
        if "DONE" not in dom:
            print(result.stderr[-3000:])
            raise SystemExit("FAIL: the page did not finish in Chromium")
        time.sleep(0.5)

        problems = []
        if mode != 0o600:
            problems.append(f"the operator-token file has mode {oct(mode)}, not 0o600")
        # The control: with the token the same route is served (404: no such project yet, not 401).
        req = urllib.request.Request(f"http://127.0.0.1:{backend_port}/loop/status?project=7",
                                     headers={"Authorization": "Bearer " + token})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                control = r.status
        except urllib.error.HTTPError as e:
            control = e.code
        if control == 401:
            problems.append("GET /loop/status with the token from the data folder was refused too")
        with urllib.request.urlopen(f"http://127.0.0.1:{backend_port}/metrics", timeout=10) as r:
            routes = json.load(r).get("routes", {})
        for key, value in routes.items():
            if key.startswith("GET /loop/") and key != "GET /loop/status" and value.get("count", 0):
                problems.append(f"{key} was handled for the page")
        if routes.get("GET /loop/status", {}).get("count", 0) > 1:
            problems.append("GET /loop/status was handled more often than the control asked")
        serve_log.flush()
        with open(serve_log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        expected = [g.split("?")[0] for g in GETS] + ["/loop/status"] * 3  # + img, script, iframe
        for path in set(expected):
            want = expected.count(path)
            got = log.count(f"GET {path} 401")
            if got < want:
                problems.append(f"the backend's log has {got} refused GET {path} (401), the page sent {want}")
        for path in set(expected):
            for status in ("200", "403"):
                if f"GET {path} {status}" in log:
                    problems.append(f"a page's GET {path} was answered {status}, not refused for the token")
        if token in log or token in dom:
            problems.append("the token appears in the backend's log or the page")
        if problems:
            print("backend log:\n" + log[-3000:])
            print("FAIL:\n  " + "\n  ".join(problems))
            return 1
        print(f"PASS: {len(expected)} page requests to /loop/* refused with 401; the token admits")
        return 0
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
