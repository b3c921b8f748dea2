#!/usr/bin/env python3
"""Loop latency against a real Label Studio, side by side with the seed recipe, in one run.

For each size N (default 5000 and 50000; SpamAssassin mails cut to 3,000 characters, or for an N above the
6,046 mails, passages of at most 300 characters cut from them, lc.spam_passages): a fresh
project with N tasks, of which N-STEP-1 are imported with their annotation (posting tens of
thousands one by one through the API would take long), a fresh `loopdeck serve --label-studio URL --train-every N-STEP` registered as the
project's ML backend (Label Studio creates its webhook; LoopDeck's first full sync brings the
annotations into its store). Then, timed from sending an annotation's POST through
POST /api/tasks/{id}/annotations/ (Label Studio fires the webhook that crosses the threshold) until
POST /setup reports the new version:
  cold = the (N-STEP)th annotation -> loopdeck-v1: the project's first version, C and the
         weighting chosen by cross-validation from scratch
  warm = after /loop/settings sets train_every STEP (cooldown 0) and STEP-1 more annotations are
         posted, the Nth -> loopdeck-v2: the loop as it runs, a version trained on N annotations
         while one trained on N-STEP serves (its choice of C and weighting kept, its solutions the
         solvers' starting points; see app/core/loop/trainer.h)
  recipe = export through the API (GET /api/projects/{id}/export?exportType=JSON) + scikit-learn
           fit (TfidfVectorizer(ngram_range=(1, 3)) + LogisticRegression(C=10)) + pickle + a
           "backend restart": a new python process that loads the pickle and answers one prediction.
STEP is LOOP_LATENCY_STEP (default 50).

usage: loop_latency.py LS_ENV_FILE LOOPDECK_BINARY DATA_DIR OUT_JSON [N ...]
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

import loop_common as lc

RESTART_SCRIPT = r"""
import pickle, sys
with open(sys.argv[1], "rb") as f:
    model = pickle.load(f)
print(model.predict(["Congratulations, you won a free prize! Click here now"])[0])
"""


def recipe(ls, pid, workdir):
    t0 = time.perf_counter()
    st, raw = ls.call("GET", f"/api/projects/{pid}/export?exportType=JSON", raw=True, timeout=1800)
    if st != 200:
        raise RuntimeError(f"export: {st} {raw[:300]}")
    tasks = json.loads(raw)
    t_export = time.perf_counter()
    texts, labels = [], []
    for t in tasks:
        anns = [a for a in t.get("annotations", []) if not a.get("was_cancelled")]
        if not anns:
            continue
        choice = anns[-1]["result"][0]["value"]["choices"][0]
        texts.append(t["data"]["text"])
        labels.append(choice)
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    import pickle
    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 3)), LogisticRegression(C=10))
    model.fit(texts, labels)
    path = os.path.join(workdir, f"model-{pid}.pkl")
    with open(path, "wb") as f:
        pickle.dump(model, f)
    t_fit = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", RESTART_SCRIPT, path], capture_output=True, text=True, check=True)
    t_restart = time.perf_counter()
    return {"export_s": t_export - t0, "fit_s": t_fit - t_export, "restart_s": t_restart - t_fit,
            "total_s": t_restart - t0, "examples": len(texts), "export_mb": len(raw) / 1e6,
            "restart_answer": out.stdout.strip()}


def timed_annotation(ls, server, pid, task_id, label, version, ls_pid):
    """Posts one annotation like an annotator; seconds until /setup reports `version`, the details,
    and the CPU seconds Label Studio, LoopDeck and this client used meanwhile (2 cores: whatever
    Label Studio does after an annotation competes with the training)."""
    cpu0 = (lc.group_cpu_seconds(ls_pid), lc.process_cpu_seconds(server.proc.pid), sum(os.times()[:2]))
    t_send = time.perf_counter()
    lc.annotate(ls, task_id, label)
    t_answered = time.perf_counter()
    # Polled every 10 ms: finer polling costs the machine (2 cores) more than it gains in resolution.
    lc.wait_for(lambda: server.setup_version(pid) == version, 900, step=0.01, what=f"{version} in /setup")
    t_setup = time.perf_counter()
    cpu1 = (lc.group_cpu_seconds(ls_pid), lc.process_cpu_seconds(server.proc.pid), sum(os.times()[:2]))
    _, versions = server.http.call("GET", f"/versions?project={pid}")
    detail = next(d for d in versions["details"] if d["name"] == version)
    m = detail["metrics"]
    return {"from_post_s": t_setup - t_send, "from_post_answer_s": t_setup - t_answered,
            "post_s": t_answered - t_send, "training_ms": m.get("duration_ms"), "stages_ms": m.get("stages_ms"),
            "warm_start": m.get("warm_start"), "c": (m.get("model") or {}).get("c"),
            "accuracy": m.get("accuracy"), "evaluation": m.get("evaluation"),
            "examples": detail["training_examples"], "trigger": detail["trigger"],
            "cpu_s": {"label_studio": cpu1[0] - cpu0[0], "loopdeck": cpu1[1] - cpu0[1], "bench_client": cpu1[2] - cpu0[2]}}


def settle(server, pid, usable):
    """Waits until /loop/status counts `usable` examples: the recount its own polling started (a read
    of every annotation on a worker) is over, so it does not run beside the timed training."""
    lc.wait_for(lambda: (server.status(pid) or {}).get("usable_examples") == usable, 300,
                step=0.1, what=f"{usable} usable examples in /loop/status")


def run_size(ls, binary, rows, n, step, workdir, ls_url, token, ls_pid):
    texts = [r["text"] for r in rows[:n]]
    labels = [r["label"] for r in rows[:n]]
    first = n - step  # the cold run's annotations
    # N tasks, the first N-STEP-1 imported with their annotation (fast; fires no annotation webhook).
    st, p = ls.call("POST", "/api/projects/", {"title": f"loop latency {n} {int(time.time())}", "label_config": lc.LABEL_CONFIG})
    pid = p["id"]
    ids = []
    t_import = time.perf_counter()
    for i in range(0, n, 1000):
        batch = []
        for k in range(i, min(i + 1000, n)):
            task = {"data": {"text": texts[k]}}
            if k < first - 1:
                task["annotations"] = [{"result": [{"from_name": "label", "to_name": "text", "type": "choices",
                                                    "value": {"choices": [labels[k]]}}]}]
            batch.append(task)
        st, r = ls.call("POST", f"/api/projects/{pid}/import?return_task_ids=true", batch)
        if st >= 300:
            raise RuntimeError(f"import: {st} {r}")
        ids += r["task_ids"]
    import_s = time.perf_counter() - t_import
    data_dir = os.path.join(workdir, f"loopdeck-{n}")
    server = lc.Loopdeck(binary, data_dir, ls_url=ls_url, token=token, train_every=first)
    try:
        t_reg = time.perf_counter()
        lc.register_backend(ls, pid, server.url)
        # LoopDeck's first full sync (reconcile) brings the annotations into its store.
        st = lc.wait_for(lambda: (lambda s: s if s and s.get("last_full_reconcile") else None)(server.status(pid)), 1800,
                         what="the first full sync")
        sync_s = time.perf_counter() - t_reg
        settle(server, pid, first - 1)
        if st["new_since_training"] != first - 1 or server.setup_version(pid) != "loopdeck-v0" or st["state"] != "idle":
            raise RuntimeError(f"unexpected state before the annotation that crosses the threshold: {st}")
        cold = timed_annotation(ls, server, pid, ids[first - 1], labels[first - 1], "loopdeck-v1", ls_pid)
        cold["first_full_sync_s"] = sync_s
        cold["import_s"] = import_s
        # The loop as it runs: a version every STEP annotations, no cooldown.
        code, body = server.http.call("POST", f"/loop/settings?project={pid}", {"train_every": step, "cooldown_seconds": 0})
        if code != 200:
            raise RuntimeError(f"/loop/settings: {code} {body}")
        lc.wait_for(lambda: ((server.status(pid) or {}).get("settings") or {}).get("train_every") == step, 30,
                    what="train_every in /loop/status")
        for k in range(first, n - 1):
            lc.annotate(ls, ids[k], labels[k])
        lc.wait_for(lambda: (server.status(pid) or {}).get("new_since_training") == step - 1, 120,
                    what=f"{step - 1} new annotations in the store")
        settle(server, pid, n - 1)
        if server.setup_version(pid) != "loopdeck-v1" or (server.status(pid) or {}).get("state") != "idle":
            raise RuntimeError(f"unexpected state before the Nth annotation: {server.status(pid)}")
        warm = timed_annotation(ls, server, pid, ids[n - 1], labels[n - 1], "loopdeck-v2", ls_pid)
        if not (warm.get("warm_start") or {}).get("examples"):
            raise RuntimeError(f"version 2 did not start from version 1: {warm}")
    finally:
        server.stop()
    rec = recipe(ls, pid, workdir)
    return {"n": n, "step": step, "project": pid, "loop": warm, "cold": cold, "recipe": rec,
            "speedup": rec["total_s"] / warm["from_post_s"]}


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    env = lc.read_env(sys.argv[1])
    binary, data_dir, out = sys.argv[2], sys.argv[3], sys.argv[4]
    sizes = [int(a) for a in sys.argv[5:]] or [5000, 50000]
    ls = lc.Http(env["URL"], env["TOKEN"])
    mails = lc.shuffled(lc.load_spam(data_dir), 7)
    passages = None
    step = int(os.environ.get("LOOP_LATENCY_STEP", "50"))
    workdir = tempfile.mkdtemp(prefix="loop-latency-")
    results = []
    for n in sizes:
        print(f"loop latency: N={n} ...", file=sys.stderr, flush=True)
        if n <= len(mails):
            rows, texts = mails, f"SpamAssassin mails cut to {lc.TEXT_CHARS:,} characters"
        else:
            passages = passages or lc.shuffled(lc.spam_passages(data_dir), 7)
            rows, texts = passages, "passages of at most 300 characters cut from the SpamAssassin mails"
            if n > len(rows):
                raise SystemExit(f"N={n}: only {len(rows)} texts")
        r = run_size(ls, binary, rows, n, step, workdir, env["URL"], env["TOKEN"], int(env["PID"]))
        r["texts"] = texts
        r["characters"] = sum(len(row["text"]) for row in rows[:n])
        print(json.dumps(r), file=sys.stderr, flush=True)
        results.append(r)
    doc = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": lc.machine(),
           "text_chars": lc.TEXT_CHARS, "results": results}
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main()
