#!/usr/bin/env python3
"""Do LoopDeck's writes make an annotator's saves fail on Label Studio with SQLite?

Label Studio on SQLite (its default) has one write lock; a write that waits for it too long fails
with 500 "database is locked". LoopDeck writes to Label Studio while annotators work: it imports
each new version's predictions (POST /api/projects/{id}/import/predictions, in small paced
batches that wait while annotators save) and sets the project's model_version (PATCH
/api/projects/{id}). This benchmark counts what an annotator would see.

Each run, against one real Label Studio (tests/integration/labelstudio_fixture.py):
  1. a fresh text-classification project with TASKS synthetic two-class texts;
  2. a fresh `loopdeck serve --label-studio URL` (token in LOOPDECK_TOKEN), registered as the
     project's ML backend (Label Studio creates its webhook); after its first full sync the
     project's loop settings are set through POST /loop/settings?project=ID to train_every
     TRAIN_EVERY, cooldown 0, refresh_predictions on;
  3. a simulated annotator works through Label Studio's REST API back to back (THINK_MS between
     operations, default 0) for OPS operations: create an annotation on the next task
     (POST /api/tasks/{id}/annotations/), change it (PATCH /api/annotations/{id}/), and every third
     task delete it again (DELETE /api/annotations/{id}/). No retries: every non-2xx answer or
     time-out (30 s) counts as a failed annotator request, with its status and body.
     Meanwhile the loop trains each time TRAIN_EVERY annotations are new or changed and refreshes
     the new version's predictions; GET /loop/status is polled every 0.5 s and LoopDeck's log is
     read for refresh outcomes (predictions_refreshed / refresh_failed / refresh_superseded);
  4. after the annotator stops, up to SETTLE_S seconds for the last refresh to finish.
Label Studio's own log is searched for "database is locked" (it logs a 500 with its traceback).

usage: annotator_bench.py LS_ENV_FILE LOOPDECK_BINARY OUT_JSON [--runs 5] [--tasks 2000]
                          [--ops 450] [--train-every 30] [--think-ms 0] [--settle-s 90]
                          [--report docs/benchmarks.md] [--report-only]
Only loopback traffic. Standard library only.
"""
import argparse
import datetime
import json
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import loop_common as lc

LABEL_CONFIG = ('<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text" choice="single">'
                '<Choice value="positive"/><Choice value="negative"/></Choices></View>')
POSITIVE = "good great excellent lovely wonderful happy delighted superb pleasant enjoyable fine nice brilliant".split()
NEGATIVE = "bad awful terrible poor horrible sad disappointed dreadful unpleasant boring broken rude slow".split()
NEUTRAL = ("the a service product room staff food price delivery order support time day team place "
           "we it was is very quite really and but with for of our this that").split()


def synthetic_tasks(n, seed):
    """n short review-like texts, about half of each class; returns (texts, true labels)."""
    rnd = random.Random(seed)
    texts, labels = [], []
    for _ in range(n):
        label = rnd.choice(("positive", "negative"))
        cue = POSITIVE if label == "positive" else NEGATIVE
        other = NEGATIVE if label == "positive" else POSITIVE
        words = [rnd.choice(NEUTRAL) for _ in range(rnd.randint(12, 30))]
        for _ in range(rnd.randint(1, 3)):
            words.insert(rnd.randrange(len(words) + 1), rnd.choice(cue))
        if rnd.random() < 0.2:
            words.insert(rnd.randrange(len(words) + 1), rnd.choice(other))
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


def result_for(label):
    return [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [label]}}]


class Annotator:
    """Label Studio's REST API as an annotator's browser uses it; every request timed and kept."""

    def __init__(self, base, token):
        self.base, self.token = base.rstrip("/"), token
        self.requests = []  # (op, status, seconds, error body or None)

    def call(self, op, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(self.base + path, data=data, method=method)
        r.add_header("Content-Type", "application/json")
        r.add_header("Authorization", "Token " + self.token)
        t0 = time.perf_counter()
        status, out, err = 0, None, None
        try:
            with urllib.request.urlopen(r, timeout=30) as resp:
                status = resp.status
                text = resp.read()
                out = json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            status, err = e.code, e.read().decode(errors="replace")[:300]
        except OSError as e:  # time-out, connection reset
            status, err = -1, f"{type(e).__name__}: {e}"
        self.requests.append((op, status, time.perf_counter() - t0, err))
        return status, out


class StatusPoller(threading.Thread):
    """Polls GET /loop/status and keeps every distinct prediction_refresh it saw."""

    def __init__(self, http, project):
        super().__init__(daemon=True)
        self.http, self.project = http, project
        self.seen = []  # distinct (version, state, sent, created) in order
        self.last = None
        self.stop_flag = threading.Event()

    def run(self):
        while not self.stop_flag.is_set():
            try:
                st, body = self.http.call("GET", f"/loop/status?project={self.project}", timeout=10)
                if st == 200 and isinstance(body, dict):
                    self.last = body
                    pr = body.get("prediction_refresh")
                    if pr:
                        key = (pr.get("version"), pr.get("state"), pr.get("sent"), pr.get("created"))
                        if not self.seen or self.seen[-1] != key:
                            self.seen.append(key)
            except OSError:
                pass
            self.stop_flag.wait(0.5)


def refresh_events(log_path, since):
    """LoopDeck's refresh outcomes from its log (lines after byte offset `since`)."""
    with open(log_path, encoding="utf-8", errors="replace") as f:
        f.seek(since)
        text = f.read()
    out = {"refreshed": [], "failed": [], "superseded": [], "trained": 0}
    for m in re.finditer(r"event=predictions_refreshed version=(\d+) sent=(\d+) created=(\d+) state=(\w+)", text):
        out["refreshed"].append({"version": int(m[1]), "sent": int(m[2]), "created": int(m[3]), "state": m[4]})
    for m in re.finditer(r"event=refresh_failed version=(\d+) error=\"([^\"]*)\"", text):
        out["failed"].append({"version": int(m[1]), "error": m[2][:300]})
    for m in re.finditer(r"event=refresh_superseded version=(\d+)", text):
        out["superseded"].append(int(m[1]))
    out["trained"] = len(re.findall(r"event=trained\b", text))
    return out


def ls_log_locked(ls_log, since):
    with open(ls_log, encoding="utf-8", errors="replace") as f:
        f.seek(since)
        return f.read().count("database is locked")


def one_run(run, args, env, binary, workdir):
    ls = lc.Http(env["URL"], env["TOKEN"])
    texts, labels = synthetic_tasks(args.tasks, seed=run)
    st, p = ls.call("POST", "/api/projects/", {"title": f"annotator bench {run} {int(time.time())}", "label_config": LABEL_CONFIG})
    if st >= 300:
        raise RuntimeError(f"project: {st} {p}")
    pid = p["id"]
    ids = []
    for i in range(0, len(texts), 1000):
        st, r = ls.call("POST", f"/api/projects/{pid}/import?return_task_ids=true", [{"text": t} for t in texts[i:i + 1000]])
        if st >= 300:
            raise RuntimeError(f"import: {st} {r}")
        ids += r["task_ids"]
    data_dir = os.path.join(workdir, f"loopdeck-{run}")
    server = lc.Loopdeck(binary, data_dir, ls_url=env["URL"], token=env["TOKEN"])
    ls_log_start = os.path.getsize(env["LOG"])
    try:
        lc.register_backend(ls, pid, server.url)
        lc.wait_for(lambda: (lambda s: s if s and s.get("last_full_reconcile") else None)(server.status(pid)), 300,
                    what="the first full sync")
        st, body = server.http.call("POST", f"/loop/settings?project={pid}",
                                    {"train_every": args.train_every, "cooldown_seconds": 0, "refresh_predictions": True})
        if st != 200:
            raise RuntimeError(f"/loop/settings: {st} {body}")
        log_start = os.path.getsize(server.log_path)
        poller = StatusPoller(server.http, pid)
        poller.start()

        ann = Annotator(env["URL"], env["TOKEN"])
        rnd = random.Random(100 + run)
        order = list(range(len(ids)))
        rnd.shuffle(order)
        ops, k = 0, 0
        t0 = time.perf_counter()

        def think():
            if args.think_ms:
                time.sleep(args.think_ms / 1000)
        while ops < args.ops and k < len(order):
            i = order[k]
            k += 1
            first = labels[i] if rnd.random() < 0.9 else ("negative" if labels[i] == "positive" else "positive")
            st, a = ann.call("create", "POST", f"/api/tasks/{ids[i]}/annotations/", {"result": result_for(first), "lead_time": 1.0})
            ops += 1
            think()
            if not (200 <= st < 300) or not isinstance(a, dict) or ops >= args.ops:
                continue
            st, _ = ann.call("update", "PATCH", f"/api/annotations/{a['id']}/", {"result": result_for(labels[i]), "lead_time": 2.0})
            ops += 1
            think()
            if k % 3 == 0 and ops < args.ops:
                ann.call("delete", "DELETE", f"/api/annotations/{a['id']}/")
                ops += 1
                think()
        annotating_s = time.perf_counter() - t0
        during = refresh_events(server.log_path, log_start)
        status_at_stop = poller.last
        stored_by_version = {}
        for version, _, _, created in list(poller.seen):
            stored_by_version[version] = max(stored_by_version.get(version, 0), created or 0)
        created_during = sum(stored_by_version.values())
        # The annotator has stopped: give the last refresh time to finish.
        t_settle = time.perf_counter()
        while time.perf_counter() - t_settle < args.settle_s:
            pr = (poller.last or {}).get("prediction_refresh") or {}
            if pr and pr.get("state") != "running" and (poller.last or {}).get("state") == "idle":
                break
            time.sleep(0.5)
        settle_s = time.perf_counter() - t_settle
        poller.stop_flag.set()
        poller.join()
        after = refresh_events(server.log_path, log_start)
        _, versions = server.http.call("GET", f"/versions?project={pid}")
    finally:
        server.stop()
    failed = [r for r in ann.requests if not (200 <= r[1] < 300)]
    by_op = {}
    for op, status, secs, _ in ann.requests:
        d = by_op.setdefault(op, {"n": 0, "failed": 0, "s": []})
        d["n"] += 1
        d["failed"] += 0 if 200 <= status < 300 else 1
        d["s"].append(secs)
    lat = sorted(r[2] for r in ann.requests)
    final = (poller.last or {}).get("prediction_refresh")
    return {
        "run": run, "project": pid, "tasks": len(ids), "operations": len(ann.requests),
        "failed_requests": len(failed),
        "failures": [{"op": op, "status": s, "body": (e or "")[:200]} for op, s, _, e in failed][:20],
        "failed_by_status": {str(s): sum(1 for r in failed if r[1] == s) for s in sorted({r[1] for r in failed})},
        "by_op": {op: {"n": d["n"], "failed": d["failed"], "median_ms": 1000 * statistics.median(d["s"])}
                  for op, d in by_op.items()},
        "latency_ms": {"p50": 1000 * lat[len(lat) // 2], "p95": 1000 * lat[int(len(lat) * 0.95)], "max": 1000 * lat[-1]},
        "annotating_s": annotating_s,
        "versions": len((versions or {}).get("versions", [])) if isinstance(versions, dict) else None,
        "refreshes_during": {"done_or_incomplete": len(during["refreshed"]),
                             "complete": sum(1 for r in during["refreshed"] if r["state"] == "done"),
                             "failed": len(during["failed"]), "superseded": len(during["superseded"])},
        "refreshes_total": {"done_or_incomplete": len(after["refreshed"]),
                            "complete": sum(1 for r in after["refreshed"] if r["state"] == "done"),
                            "failed": len(after["failed"]), "superseded": len(after["superseded"]),
                            "details": after["refreshed"], "failures": after["failed"]},
        "refresh_at_annotator_stop": (status_at_stop or {}).get("prediction_refresh"),
        "created_during_annotation": created_during,
        "refresh_final": final, "settle_s": settle_s,
        "refresh_states_seen": poller.seen,
        "ls_log_database_locked": ls_log_locked(env["LOG"], ls_log_start),
    }


BEGIN, END = "<!-- annotator-bench:begin -->", "<!-- annotator-bench:end -->"


def table(doc):
    """One configuration's runs: a setup line and a table."""
    runs = doc["runs"]
    pace = "back to back" if not doc["think_ms"] else f"{doc['think_ms']} ms apart (longer than the refresher's 2 s quiet time)"
    out = [f"**{doc['ops']} annotator requests per run, {pace}** ({doc['date']}):", "",
           "| run | annotator requests | failed | median / p95 / max latency | versions trained | refreshes finished while annotating | predictions stored while annotating | last refresh, after the annotator stopped | \"database is locked\" in Label Studio's log |",
           "|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for r in runs:
        d = r["refreshes_during"]
        fin = r.get("refresh_final") or {}
        after = (f"{fin.get('version')}: {fin.get('state')}, {fin.get('created')} of {fin.get('sent')} stored"
                 if fin else "none started")
        l = r["latency_ms"]
        stored = r.get("created_during_annotation")
        out.append(f"| {r['run']} | {r['operations']} | **{r['failed_requests']}** | {l['p50']:.0f} / {l['p95']:.0f} / {l['max']:.0f} ms "
                   f"| {r['versions']} | {d['done_or_incomplete']} ({d['complete']} done, {d['failed']} failed) "
                   f"| {'–' if stored is None else stored} | {after} | {r['ls_log_database_locked']} |")
    total_failed = sum(r["failed_requests"] for r in runs)
    total_ops = sum(r["operations"] for r in runs)
    out += ["", f"In all: {total_failed} failed annotator requests of {total_ops:,}."]
    statuses = {}
    for r in runs:
        for s, n in r["failed_by_status"].items():
            statuses[s] = statuses.get(s, 0) + n
    if statuses:
        out.append("Failed by status: " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())) + ". First bodies: "
                   + "; ".join(sorted({f['body'][:120].replace('|', '/') for r in runs for f in r['failures']})[:3]) + ".")
    return out + [""]


def report(docs, notes=""):
    """The "annotator saves while the loop writes" section of docs/benchmarks.md."""
    doc = docs[0]
    out = [BEGIN, "", "## Loop: an annotator's saves while LoopDeck writes to Label Studio", "",
           f"Machine: {doc['machine']}. Binary: `{doc['binary']}`. Label Studio 1.23.2 on SQLite (its default), "
           "started by `tests/integration/labelstudio_fixture.py`. Per run: a fresh project with "
           f"{doc['tasks']:,} synthetic two-class texts, a fresh `loopdeck serve --label-studio URL` registered as its ML "
           f"backend, loop settings train_every {doc['train_every']}, cooldown 0, refresh_predictions on (POST /loop/settings); "
           "then a simulated annotator works through Label Studio's REST API (create an annotation on the next task, change "
           "it, delete every third again; no retries) while the loop trains and imports each new version's predictions "
           "(batches of 100, 250 ms apart, each waiting until annotators have been quiet for 2 s, at most 60 s). Failed = "
           "any non-2xx answer or a time-out (30 s). Refreshes from LoopDeck's log and GET /loop/status (polled every 0.5 s); "
           f"\"after\" waits up to {doc['settle_s']:.0f} s once the annotator stops. `tests/bench/loop_bench.sh annotator` "
           "(`tests/bench/annotator_bench.py`), raw figures in `tests/bench/results/loop_annotator*.json`.", ""]
    for d in docs:
        out += table(d)
    if notes:
        out += [notes.strip(), ""]
    return out + [END]


def write_report(docs, md_path, notes=""):
    text = open(md_path, encoding="utf-8").read() if os.path.exists(md_path) else ""
    section = "\n".join(report(docs, notes)) + "\n"
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        text = head + section.rstrip("\n") + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(md_path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ls_env")
    ap.add_argument("loopdeck")
    ap.add_argument("out")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tasks", type=int, default=2000)
    ap.add_argument("--ops", type=int, default=450)
    ap.add_argument("--train-every", type=int, default=30)
    ap.add_argument("--think-ms", type=int, default=0)
    ap.add_argument("--settle-s", type=float, default=90)
    ap.add_argument("--report", metavar="BENCHMARKS_MD", help="write the section into this file (between markers)")
    ap.add_argument("--report-only", action="store_true", help="no runs: write the section from OUT_JSON")
    ap.add_argument("--also", action="append", default=[], metavar="JSON", help="another configuration's results for the report")
    ap.add_argument("--notes", default="", metavar="FILE", help="markdown appended to the section (observations)")
    args = ap.parse_args()
    notes = open(args.notes, encoding="utf-8").read() if args.notes else ""
    if args.report_only:
        write_report([json.load(open(p)) for p in [args.out] + args.also], args.report, notes)
        return
    env = lc.read_env(args.ls_env)
    workdir = tempfile.mkdtemp(prefix="annotator-bench-")
    runs = []
    for run in range(1, args.runs + 1):
        print(f"annotator bench: run {run}/{args.runs} ...", file=sys.stderr, flush=True)
        r = one_run(run, args, env, args.loopdeck, workdir)
        print(json.dumps({k: v for k, v in r.items() if k not in ("refresh_states_seen",)}), file=sys.stderr, flush=True)
        runs.append(r)
    doc = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": lc.machine(),
           "binary": args.loopdeck, "tasks": args.tasks, "ops": args.ops, "train_every": args.train_every,
           "think_ms": args.think_ms, "settle_s": args.settle_s, "runs": runs}
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
    if args.report:
        write_report([doc] + [json.load(open(p)) for p in args.also], args.report, notes)


if __name__ == "__main__":
    main()
