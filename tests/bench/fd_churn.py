#!/usr/bin/env python3
"""Thread and connection churn against a real `loopdeck serve` (loop on, no Label Studio): do
file descriptors and memory stay flat?

    fd_churn.py LOOPDECK_BINARY OUT_JSON [SECONDS]

Clients open a new TCP connection for every request (127.0.0.1 only) and alternate POST
/webhook (ANNOTATION_CREATED: a store write on an HTTP thread; task ids cycle over 2000 tasks,
so the store stops growing) with POST /predict, each with a short pause (a bounded loop, not a
load test). Every TRAIN_EVERY seconds (default 40, longer than QThreadPool's 30 s expiry) a
POST /loop/train runs a training on a fresh pool thread, which reads the store on its own
connection: the thread churn that used to leave one SQLite connection (and its file
descriptors) behind per thread. The server's open file count (/proc/PID/fd), RSS and thread
count are sampled every 10 s; the samples go to OUT_JSON next to a summary, which is printed.
Standard library only.
"""
import datetime
import json
import os
import random
import sys
import tempfile
import threading
import time

import loop_common as lc

PROJECT = 1
TASKS = 2000
CLIENTS = 2
PAUSE = 0.02  # seconds between a client's requests
SAMPLE_EVERY = 10
TRAIN_EVERY = int(os.environ.get("TRAIN_EVERY", "40"))
WORDS = {"ham": ["meeting", "lunch", "report", "family", "weekend", "project", "thanks", "call"],
         "spam": ["winner", "free", "offer", "cash", "prize", "click", "viagra", "lottery"]}


def webhook(i, rng):
    label = rng.choice(["ham", "spam"])
    text = " ".join(rng.choice(WORDS[label]) for _ in range(8))
    return {"action": "ANNOTATION_CREATED", "project": {"id": PROJECT, "label_config": lc.LABEL_CONFIG},
            "task": {"id": i, "data": {"text": text}, "project": PROJECT},
            "annotation": {"id": 100000 + i, "task": i, "project": PROJECT, "was_cancelled": False,
                           "ground_truth": False,
                           "updated_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                           "result": [{"from_name": "label", "to_name": "text", "type": "choices",
                                       "value": {"choices": [label]}}]}}


def sample(pid):
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    rss_kb = threads = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return {"fds": fds, "rss_mb": round(rss_kb / 1024, 1), "threads": threads}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, out = sys.argv[1:3]
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 1800
    workdir = tempfile.mkdtemp(prefix="fd-churn-")
    server = lc.Loopdeck(binary, os.path.join(workdir, "data"), train_every=1000000,
                         extra=["--threads", "2", "--log-level", "warning"])
    pid = server.proc.pid
    counts = {"webhook": 0, "predict": 0, "train": 0, "failed": 0, "statuses": {}}
    lock = threading.Lock()
    stop = threading.Event()

    def count(kind, status, ok):
        with lock:
            counts[kind] += 1
            counts["statuses"][str(status)] = counts["statuses"].get(str(status), 0) + 1
            if not ok:
                counts["failed"] += 1

    def client(seed):
        rng = random.Random(seed)
        http = server.http
        while not stop.is_set():
            try:
                st, _ = http.call("POST", "/webhook", webhook(rng.randrange(1, TASKS + 1), rng), timeout=30)
                count("webhook", st, st == 201)
                st, body = http.call("POST", "/predict", {
                    "project": f"{PROJECT}.1", "label_config": lc.LABEL_CONFIG,
                    "tasks": [{"id": 1, "data": {"text": "free cash prize for the winner"}}]}, timeout=30)
                count("predict", st, st == 200 and isinstance(body, dict))
            except OSError as e:
                count("predict", type(e).__name__, False)
            time.sleep(PAUSE)

    try:
        st, _ = server.http.call("POST", "/setup", {"project": f"{PROJECT}.1", "schema": lc.LABEL_CONFIG})
        if st != 200:
            raise RuntimeError(f"setup: {st}")
        start = time.time()
        samples = [dict(t=0, **sample(pid))]
        workers = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(CLIENTS)]
        for w in workers:
            w.start()
        next_sample = start + SAMPLE_EVERY
        next_train = start + 5
        while time.time() - start < seconds:
            now = time.time()
            if now >= next_train:
                st, _ = server.http.call("POST", f"/loop/train?project={PROJECT}", timeout=60)
                count("train", st, st == 200)
                next_train = now + TRAIN_EVERY
            if now >= next_sample:
                s = dict(t=round(now - start), **sample(pid))
                samples.append(s)
                print(json.dumps(s), flush=True)
                next_sample += SAMPLE_EVERY
            time.sleep(0.2)
        stop.set()
        for w in workers:
            w.join(60)
    finally:
        stop.set()
        server.stop()
    fds = [s["fds"] for s in samples]
    rss = [s["rss_mb"] for s in samples]
    summary = {
        "binary": binary, "seconds": seconds, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "fds": {"start": fds[0], "end": fds[-1], "max": max(fds), "after_first_minute_max": max(fds[6:] or fds)},
        "rss_mb": {"start": rss[0], "end": rss[-1], "max": max(rss)},
        "threads": {"start": samples[0]["threads"], "end": samples[-1]["threads"], "max": max(s["threads"] for s in samples)},
        "requests": counts,
        "samples": samples,
    }
    with open(out, "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps({k: v for k, v in summary.items() if k != "samples"}, indent=1))
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
