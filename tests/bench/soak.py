#!/usr/bin/env python3
"""Soak test of the ML backend: mixed /predict, /setup, /webhook load at ~80 % of the capacity
measured first, for 10 minutes, with a hot model swap every 10 s inside the server.

    tests/bench/soak.py SOAK_SERVER [--seconds 600] [--workers 8] [--fraction 0.8] [--engine]

--engine: the real loop instead of timed swaps. The server runs a LoopEngine with its store and
the default settings; the webhooks are annotators labelling and relabelling a pool of 5,000 tasks
(each webhook a new annotation, or a changed one once the pool is done, with a label that follows
the text), so every webhook is stored and counts as new, the threshold trains versions on a
store of bounded size (RSS and open files can stay flat) and the engine swaps them in while
/predict is answered. The swap count is the engine's activations.

SOAK_SERVER is the bench_soak_server binary (built from tests/bench/soak_server.cpp; use a
Release build for figures). Phase 1 (20 s): closed-loop, as fast as the workers go -> capacity
(requests/s) of this client + server on this machine for the mix. Phase 2: open-loop at
fraction x capacity, requests spread evenly over time. Every answer must be 200/201 with a
JSON body (a /predict answer must carry one result); anything else, a timeout or a dropped
connection counts as a failed request. The server's RSS is sampled every 10 s. Prints the
figures as JSON and exits 1 on any failed request. Standard library only.
"""
import argparse
import json
import random
import socket
import subprocess
import sys
import threading
import time

CONFIG = ('<View><Text name=\\"text\\" value=\\"$text\\"/><Choices name=\\"sentiment\\" toName=\\"text\\">'
          '<Choice value=\\"Positive\\"/><Choice value=\\"Negative\\"/></Choices></View>')
TEXTS = ["good great excellent film", "awful terrible bad service", "that is positive", "hated it, awful"]


def request(path, body):
    body = body.encode()
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def make_requests():
    reqs = []
    for t in TEXTS:
        reqs.append(("predict", request("/predict", json.dumps(
            {"tasks": [{"id": 1, "data": {"text": t}}], "project": "1.1700000000",
             "label_config": CONFIG.replace('\\"', '"'), "params": {"context": None}}))))
    reqs.append(("setup", request("/setup", '{"project": "1.1700000000", "schema": "%s", "hostname": "http://localhost:8080", "access_token": "x"}' % CONFIG)))
    reqs.append(("webhook", request("/webhook", json.dumps(
        {"action": "ANNOTATION_CREATED", "annotation": {"id": 1, "result": []}, "task": {"id": 1, "project": 1},
         "project": {"id": 1}}))))
    return reqs


POOL = 5000


def engine_webhook(n):
    """Annotation number n of the engine mode: task and annotation n mod POOL; its label flips on
    each pass over the pool (and the task's text with it), so every webhook is a change."""
    task = n % POOL + 1
    rounds = n // POOL
    positive = (task + rounds) % 2 == 0
    text = (f"good great excellent film {task} round {rounds}" if positive
            else f"awful terrible bad service {task} round {rounds}")
    label = "Positive" if positive else "Negative"
    region = {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [label]}}
    return request("/webhook", json.dumps({
        "action": "ANNOTATION_UPDATED" if rounds else "ANNOTATION_CREATED",
        "annotation": {"id": task, "task": task, "result": [region], "was_cancelled": False, "ground_truth": False},
        "task": {"id": task, "data": {"text": text}},
        "project": {"id": 1, "created_at": "2023-11-14T22:13:20Z"}}))


MIX = [0, 1, 2, 3, 0, 1, 2, 4, 5, 3]  # 7 predict : 2 setup : 1 webhook (indices into make_requests)


class Conn:
    def __init__(self, port):
        self.port = port
        self.sock = None

    def send(self, kind, data):
        for attempt in (0, 1):
            try:
                if self.sock is None:
                    self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                    self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.sock.sendall(data)
                return self.read(kind)
            except (OSError, ValueError) as e:
                if self.sock:
                    self.sock.close()
                self.sock = None
                if attempt == 1:
                    return f"connection: {e}"

    def read(self, kind):
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ValueError("closed")
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ValueError("closed in body")
            rest += chunk
        if status not in (200, 201):
            return f"{kind} status {status}: {rest[:200]!r}"
        doc = json.loads(rest)
        if kind == "predict" and len(doc.get("results", [])) != 1:
            return f"predict without a result: {rest[:200]!r}"
        return None


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_files(pid):
    import os
    return len(os.listdir(f"/proc/{pid}/fd"))


NEXT_ID = [0]


def run(port, workers, seconds, rate=None, engine=False):
    reqs = make_requests()
    stop = time.time() + seconds
    counts = {"ok": 0, "failed": 0}
    failures = []
    lock = threading.Lock()

    def worker(n):
        conn = Conn(port)
        i = n
        interval = workers / rate if rate else 0.0
        next_at = time.time() + random.random() * interval
        while True:
            now = time.time()
            if now >= stop:
                break
            if rate:
                if now < next_at:
                    time.sleep(next_at - now)
                next_at += interval
            kind, data = reqs[MIX[i % len(MIX)]]
            i += 1
            if engine and kind == "webhook":
                with lock:
                    n = NEXT_ID[0]
                    NEXT_ID[0] += 1
                data = engine_webhook(n)
            problem = conn.send(kind, data)
            with lock:
                if problem:
                    counts["failed"] += 1
                    if len(failures) < 20:
                        failures.append(problem)
                else:
                    counts["ok"] += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    return threads, counts, failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server")
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--fraction", type=float, default=0.8)
    ap.add_argument("--port", type=int, default=19555)
    ap.add_argument("--engine", action="store_true", help="the real loop engine and store (see above)")
    args = ap.parse_args()
    total = 20 + args.seconds + 5  # the server quits by itself then and prints its summary
    command = [args.server, str(args.port), str(total)] + (["engine"] if args.engine else [])
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", args.port), timeout=1).close()
            break
        except OSError:
            if time.time() > deadline:
                sys.exit("soak: server did not start")
            time.sleep(0.2)

    threads, counts, failures = run(args.port, args.workers, 20, engine=args.engine)
    for t in threads:
        t.join()
    capacity = (counts["ok"] + counts["failed"]) / 20.0
    warm_failed = counts["failed"]
    rate = capacity * args.fraction
    rss = [(0, rss_kb(server.pid))]
    files = [(0, open_files(server.pid))]
    started = time.time()
    threads, counts, failures2 = run(args.port, args.workers, args.seconds, rate=rate, engine=args.engine)
    while any(t.is_alive() for t in threads):
        time.sleep(10)
        rss.append((round(time.time() - started), rss_kb(server.pid)))
        files.append((round(time.time() - started), open_files(server.pid)))
    for t in threads:
        t.join()
    elapsed = time.time() - started
    out, _ = server.communicate(timeout=120)
    summary = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    result = {
        "capacity_rps_closed_loop": round(capacity, 1),
        "target_rps": round(rate, 1),
        "achieved_rps": round((counts["ok"] + counts["failed"]) / elapsed, 1),
        "seconds": round(elapsed),
        "requests": counts["ok"] + counts["failed"],
        "failed": counts["failed"] + warm_failed,
        "failures": (failures + failures2)[:20],
        "mode": "engine" if args.engine else "timed swaps",
        "model_swaps": summary.get("swaps"),
        "versions_trained": summary.get("versions_trained"),
        "versions_kept_inactive": summary.get("versions_kept_inactive"),
        "annotations_stored": summary.get("annotations_stored"),
        "loop_error": summary.get("last_error"),
        "open_files_start": files[0][1],
        "open_files_end": files[-1][1],
        "open_files_max": max(f for _, f in files),
        "rss_kb_start": rss[0][1],
        "rss_kb_end": rss[-1][1],
        "rss_kb_max": max(r for _, r in rss),
        "rss_samples": rss,
        "open_file_samples": files,
    }
    print(json.dumps(result, indent=1))
    return 1 if result["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
