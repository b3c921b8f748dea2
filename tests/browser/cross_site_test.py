#!/usr/bin/env python3
"""Browser test: a web page from another local origin cannot change the ML backend.

    cross_site_test.py LOOPDECK_BINARY [CHROMIUM]

Starts `loopdeck serve` on a free loopback port (no Basic auth: the most exposed setup) and a
plain `python3 -m http.server` on another loopback port serving an attack page. Real headless
Chromium opens the page; its script tries, against /setup, /webhook, /predict and the operator
routes /loop/train, /loop/activate, /loop/rollback:
  - fetch(..., {mode: "no-cors", method: "POST"}) with a text/plain JSON body,
  - fetch(..., {mode: "cors"}) with Content-Type: application/json (needs a preflight),
  - a form POST (enctype text/plain, shaped to look like JSON) into an iframe,
and, as a control that the browser really reaches the backend, a no-cors GET /health.
Afterwards /metrics must show that no POST handler ran (counts 0, no prediction, no webhook),
that the backend refused the attempts it saw, and that GET /health was served. The label
config given with --label-config is then still the one /predict serves.
Exit status 0 = pass. Standard library only.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from browser_common import chromium_from_argv, free_port, wait_for

TARGETS = ["/setup", "/webhook", "/predict", "/loop/train", "/loop/activate", "/loop/rollback"]
CONFIG = ('<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
          '<Choice value="Positive"/><Choice value="Negative"/></Choices></View>')

PAGE = """<!doctype html><html><head><title>attack</title></head><body><pre id="log"></pre>
<script>
const backend = "http://127.0.0.1:%(port)d";
const targets = %(targets)s;
const log = (s) => { document.getElementById("log").textContent += s + "\\n"; };
const evil = JSON.stringify({project: "7", schema: "<View></View>", action: "START_TRAINING",
                             tasks: [{data: {text: "x"}}], version: 1});
async function run() {
  const tries = [];
  for (const t of targets) {
    tries.push(fetch(backend + t, {mode: "no-cors", method: "POST", body: evil,
                                   headers: {"Content-Type": "text/plain"}})
               .then(r => log("no-cors " + t + " opaque=" + (r.type === "opaque")), e => log("no-cors " + t + " error " + e)));
    tries.push(fetch(backend + t, {mode: "cors", method: "POST", body: evil,
                                   headers: {"Content-Type": "application/json"}})
               .then(r => log("cors " + t + " status " + r.status), e => log("cors " + t + " blocked")));
    const frame = document.createElement("iframe");
    frame.name = "f" + t.replace(/\\//g, "_");
    document.body.appendChild(frame);
    const form = document.createElement("form");
    form.method = "POST"; form.enctype = "text/plain"; form.action = backend + t; form.target = frame.name;
    const input = document.createElement("input");
    input.name = '{"project": "7", "schema": "<View></View>", "action": "START_TRAINING", "x": "';
    input.value = '"}';
    form.appendChild(input);
    document.body.appendChild(form);
    form.submit();
    log("form " + t + " submitted");
  }
  tries.push(fetch(backend + "/health", {mode: "no-cors"}).then(() => log("control GET /health sent")));
  await Promise.all(tries);
  await new Promise(r => setTimeout(r, 1500));
  log("DONE");
}
run();
</script></body></html>
"""


def metrics(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return json.load(r)


def main():
    binary = sys.argv[1]
    chromium = chromium_from_argv()
    work = tempfile.mkdtemp(prefix="loopdeck-browser-")
    procs = []
    try:
        backend_port, page_port = free_port(), free_port()
        config_file = os.path.join(work, "config.xml")
        with open(config_file, "w", encoding="utf-8") as f:
            f.write(CONFIG)
        serve_log = open(os.path.join(work, "serve.log"), "w")
        procs.append(subprocess.Popen([binary, "serve", "--port", str(backend_port), "--data-dir", os.path.join(work, "data"),
                                       "--label-config", f"7={config_file}"],
                                      stdout=serve_log, stderr=subprocess.STDOUT,
                                      env=dict(os.environ, QT_QPA_PLATFORM="offscreen")))
        site = os.path.join(work, "site")
        os.makedirs(site)
        with open(os.path.join(site, "index.html"), "w", encoding="utf-8") as f:
            f.write(PAGE % {"port": backend_port, "targets": json.dumps(TARGETS)})
        procs.append(subprocess.Popen([sys.executable, "-m", "http.server", str(page_port), "--bind", "127.0.0.1",
                                       "--directory", site], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(f"http://127.0.0.1:{backend_port}/health")
        wait_for(f"http://127.0.0.1:{page_port}/index.html")
        before = metrics(backend_port)

        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={os.path.join(work, 'profile')}", "--virtual-time-budget=15000", "--dump-dom",
               f"http://127.0.0.1:{page_port}/index.html"]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        dom = result.stdout
        print("chromium page log:\n" + (dom[dom.find("<pre"):dom.find("</pre>")] if "<pre" in dom else dom[-2000:]))
        if "DONE" not in dom:
            print(result.stderr[-3000:])
            raise SystemExit("FAIL: the attack page did not finish in Chromium")
        time.sleep(0.5)
        after = metrics(backend_port)
        routes = after.get("routes", {})
        print("backend routes after the page ran:", json.dumps(routes, indent=1, sort_keys=True))

        problems = []
        for key in ("POST /setup", "POST /webhook", "POST /predict"):
            if routes.get(key, {}).get("count", 0) != before.get("routes", {}).get(key, {}).get("count", 0):
                problems.append(f"{key} was handled {routes[key]['count']} time(s)")
        for key in routes:
            if key.startswith("POST /loop/") and routes[key].get("count", 0):
                problems.append(f"{key} was handled")
        if after.get("predictions_total", 0) != before.get("predictions_total", 0):
            problems.append("predictions were made")
        refused = routes.get("rejected", {}).get("count", 0) + routes.get("unmatched", {}).get("count", 0)
        if refused < len(TARGETS):
            problems.append(f"the backend saw only {refused} refused request(s); the browser did not really try")
        if routes.get("GET /health", {}).get("count", 0) < 1:
            problems.append("the control GET /health never reached the backend")
        # The label config is still ours: a JSON /predict from a real client gets a Choices answer
        # shape for project 7 (it has no model, so no results, but the config must not be empty).
        req = urllib.request.Request(f"http://127.0.0.1:{backend_port}/setup",
                                     data=json.dumps({"project": "7"}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            setup = json.load(r)
        if not setup.get("servable"):
            problems.append(f"project 7's label config was replaced: {setup}")
        if problems:
            print("FAIL:\n  " + "\n  ".join(problems))
            return 1
        print(f"PASS: {refused} cross-site requests refused, nothing changed")
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
