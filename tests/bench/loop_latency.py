#!/usr/bin/env python3
"""Loop latency against a real Label Studio, side by side with the seed recipe, in one run.

For each size N (default 1000 and 5000 SpamAssassin mails): a fresh project with N tasks of
which N-1 are imported with their annotation (Label Studio takes about 4 annotation POSTs a
second on this machine, so posting 5,000 one by one would take over 20 minutes), a fresh
`loopdeck serve --label-studio URL --train-every N` registered as the project's ML backend
(Label Studio creates its webhook; LoopDeck's first full sync brings the N-1 annotations into
its store), then the Nth annotation is posted through POST /api/tasks/{id}/annotations/ (Label
Studio fires the webhook that crosses the threshold) and timed:
  loop   = from sending the Nth annotation's POST until POST /setup reports loopdeck-v1
           (also from the POST's answer, and the training duration LoopDeck recorded)
  recipe = export through the API (GET /api/projects/{id}/export?exportType=JSON) + scikit-learn
           fit (TfidfVectorizer(ngram_range=(1, 3)) + LogisticRegression(C=10)) + pickle + a
           "backend restart": a new python process that loads the pickle and answers one prediction.

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


def run_size(ls, binary, rows, n, workdir, ls_url, token):
    texts = [r["text"] for r in rows[:n]]
    labels = [r["label"] for r in rows[:n]]
    # N tasks, the first N-1 imported with their annotation (fast; fires no annotation webhook).
    st, p = ls.call("POST", "/api/projects/", {"title": f"loop latency {n} {int(time.time())}", "label_config": lc.LABEL_CONFIG})
    pid = p["id"]
    ids = []
    for i in range(0, n, 1000):
        batch = []
        for k in range(i, min(i + 1000, n)):
            task = {"data": {"text": texts[k]}}
            if k < n - 1:
                task["annotations"] = [{"result": [{"from_name": "label", "to_name": "text", "type": "choices",
                                                    "value": {"choices": [labels[k]]}}]}]
            batch.append(task)
        st, r = ls.call("POST", f"/api/projects/{pid}/import?return_task_ids=true", batch)
        if st >= 300:
            raise RuntimeError(f"import: {st} {r}")
        ids += r["task_ids"]
    data_dir = os.path.join(workdir, f"loopdeck-{n}")
    server = lc.Loopdeck(binary, data_dir, ls_url=ls_url, token=token, train_every=n)
    try:
        t_reg = time.perf_counter()
        lc.register_backend(ls, pid, server.url)
        # LoopDeck's first full sync (reconcile) brings the N-1 annotations into its store.
        st = lc.wait_for(lambda: (lambda s: s if s and s.get("last_full_reconcile") else None)(server.status(pid)), 900,
                         what="the first full sync")
        sync_s = time.perf_counter() - t_reg
        if st["new_since_training"] != n - 1 or server.setup_version(pid) != "loopdeck-v0" or st["state"] != "idle":
            raise RuntimeError(f"unexpected state before the Nth annotation: {st}")
        # The Nth annotation, posted like an annotator's: Label Studio sends the webhook that crosses the threshold.
        t_send = time.perf_counter()
        lc.annotate(ls, ids[n - 1], labels[n - 1])
        t_answered = time.perf_counter()
        lc.wait_for(lambda: server.setup_version(pid) == "loopdeck-v1", 600, step=0.002, what="loopdeck-v1 in /setup")
        t_setup = time.perf_counter()
        _, versions = server.http.call("GET", f"/versions?project={pid}")
        detail = versions["details"][0]
        loop = {"from_post_s": t_setup - t_send, "from_post_answer_s": t_setup - t_answered,
                "post_s": t_answered - t_send, "training_ms": detail["metrics"].get("duration_ms"),
                "accuracy": detail["metrics"].get("accuracy"), "evaluation": detail["metrics"].get("evaluation"),
                "examples": detail["training_examples"], "trigger": detail["trigger"],
                "first_full_sync_s": sync_s}
    finally:
        server.stop()
    rec = recipe(ls, pid, workdir)
    return {"n": n, "project": pid, "loop": loop, "recipe": rec, "speedup": rec["total_s"] / loop["from_post_s"]}


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    env = lc.read_env(sys.argv[1])
    binary, data_dir, out = sys.argv[2], sys.argv[3], sys.argv[4]
    sizes = [int(a) for a in sys.argv[5:]] or [1000, 5000]
    ls = lc.Http(env["URL"], env["TOKEN"])
    rows = lc.shuffled(lc.load_spam(data_dir), 7)
    workdir = tempfile.mkdtemp(prefix="loop-latency-")
    results = []
    for n in sizes:
        print(f"loop latency: N={n} ...", file=sys.stderr, flush=True)
        r = run_size(ls, binary, rows, n, workdir, env["URL"], env["TOKEN"])
        print(json.dumps(r), file=sys.stderr, flush=True)
        results.append(r)
    doc = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": lc.machine(),
           "text_chars": lc.TEXT_CHARS, "results": results}
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main()
