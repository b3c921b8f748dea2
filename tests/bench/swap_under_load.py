#!/usr/bin/env python3
"""/predict under load while versions are swapped in: `loopdeck serve` (loop on, no Label Studio
needed: webhooks are posted to it directly) gets SpamAssassin annotations and trains VERSIONS
versions through POST /loop/train; then wrk loads POST /predict (1 task per request, 16
connections) while a client activates each version in turn through POST /loop/activate and rolls
back through POST /loop/rollback, as fast as the answers come, for the whole wrk run. Counts
failed requests (wrk: non-2xx + socket errors) and checks, with a second client, that every
/predict answer names a real version.

usage: swap_under_load.py LOOPDECK_BINARY DATA_DIR SERVE_BENCH_LUA OUT_JSON [SECONDS]
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import loop_common as lc

VERSIONS = 20
EXAMPLES = 400
CONNECTIONS = 16


def webhook(pid, i, text, label):
    return {"action": "ANNOTATION_CREATED", "project": {"id": pid, "label_config": lc.LABEL_CONFIG},
            "task": {"id": i, "data": {"text": text}, "project": pid},
            "annotation": {"id": 100000 + i, "task": i, "project": pid, "was_cancelled": False, "ground_truth": False,
                           "updated_at": "2026-11-25T10:00:00.000000Z",
                           "result": [{"from_name": "label", "to_name": "text", "type": "choices",
                                       "value": {"choices": [label]}}]}}


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    binary, data_dir, lua, out = sys.argv[1:5]
    seconds = int(sys.argv[5]) if len(sys.argv) > 5 else 20
    rows = lc.shuffled([r for r in lc.load_spam(data_dir) if r["split"] == "train"], 3)
    workdir = tempfile.mkdtemp(prefix="swap-under-load-")
    server = lc.Loopdeck(binary, os.path.join(workdir, "data"), train_every=1000000)
    pid = 1
    try:
        if server.setup_version(pid) != "loopdeck-v0":
            raise RuntimeError("setup failed")
        for i, r in enumerate(rows[:EXAMPLES], start=1):
            st, body = server.http.call("POST", "/webhook", webhook(pid, i, r["text"], r["label"]))
            if st != 201:
                raise RuntimeError(f"webhook: {st} {body}")
        for v in range(1, VERSIONS + 1):
            st, body = server.http.call("POST", f"/loop/train?project={pid}")
            if st != 200:
                raise RuntimeError(f"train: {st} {body}")
            lc.wait_for(lambda: len(server.http.call("GET", f"/versions?project={pid}")[1]["details"]) >= v, 300,
                        what=f"version {v}")
        # The request bodies: one test mail per request.
        bodies = os.path.join(workdir, "bodies.jsonl")
        with open(bodies, "w") as f:
            for k, r in enumerate([r for r in lc.load_spam(data_dir) if r["split"] == "test"][:200]):
                f.write(json.dumps({"project": f"{pid}.1", "label_config": lc.LABEL_CONFIG,
                                    "tasks": [{"id": k + 1, "data": {"text": r["text"][:300]}}]}) + "\n")
        stop = threading.Event()
        swaps = {"activate": 0, "rollback": 0, "failed": 0, "statuses": {}}
        checks = {"answers": 0, "bad": 0, "versions": set()}

        def swapper():
            v = 1
            while not stop.is_set():
                st, _ = server.http.call("POST", f"/loop/activate?project={pid}&version={v}")
                swaps["activate"] += 1
                swaps["statuses"][str(st)] = swaps["statuses"].get(str(st), 0) + 1
                if st != 200:
                    swaps["failed"] += 1
                st, _ = server.http.call("POST", f"/loop/rollback?project={pid}")
                swaps["rollback"] += 1
                swaps["statuses"][str(st)] = swaps["statuses"].get(str(st), 0) + 1
                if st not in (200, 409):  # 409 = nothing older than v1
                    swaps["failed"] += 1
                v = v % VERSIONS + 1

        def checker():
            body = json.loads(open(bodies).readline())
            while not stop.is_set():
                st, ans = server.http.call("POST", "/predict", body)
                checks["answers"] += 1
                names = {r.get("model_version") for r in ans.get("results", [])} if st == 200 else set()
                names.add(ans.get("model_version") if st == 200 else None)
                ok = st == 200 and len(names) == 1 and all(
                    n and n.startswith("loopdeck-v") and 1 <= int(n[10:]) <= VERSIONS for n in names)
                if ok:
                    checks["versions"].add(next(iter(names)))
                else:
                    checks["bad"] += 1

        threads = [threading.Thread(target=swapper), threading.Thread(target=checker)]
        for t in threads:
            t.start()
        t0 = time.perf_counter()
        wrk = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", lua, server.url + "/predict", "--", bodies],
                             capture_output=True, text=True, check=True)
        elapsed = time.perf_counter() - t0
        stop.set()
        for t in threads:
            t.join()
        result = json.loads(next(l for l in wrk.stdout.splitlines() if l.startswith("{")))
        doc = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": lc.machine(),
               "versions": VERSIONS, "examples": EXAMPLES, "seconds": seconds, "connections": CONNECTIONS, "wrk": result,
               "predict_rps": result["requests"] / (result["duration_us"] / 1e6),
               "failed_requests": result["non2xx"] + result["socket_errors"],
               "swaps": {"activate": swaps["activate"], "rollback": swaps["rollback"], "failed": swaps["failed"],
                         "statuses": swaps["statuses"], "per_s": (swaps["activate"] + swaps["rollback"]) / elapsed},
               "checked_answers": checks["answers"], "bad_answers": checks["bad"],
               "versions_seen_by_checker": len(checks["versions"])}
        with open(out, "w") as f:
            json.dump(doc, f, indent=1)
        print(json.dumps(doc), file=sys.stderr)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
