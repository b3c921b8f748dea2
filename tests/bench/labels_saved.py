#!/usr/bin/env python3
"""Labels saved by the loop's uncertainty sampling, against a real Label Studio.

Two arms, same pool (POOL SpamAssassin mails), same held-out set (HELDOUT mails of the test
split), each with a fresh project and a fresh `loopdeck serve --label-studio URL`:
  sequential  - Label Studio's default "Sequential sampling"
  uncertainty - the loop's uncertainty_sampling setting: after every new version LoopDeck imports
                its predictions (score = confidence) and sets the project's sampling to
                "Uncertainty sampling", so /next hands out the least confident task first
A simulated annotator takes tasks only through GET /api/projects/{id}/next and answers each with
the true label via POST /api/tasks/{id}/annotations/ (webhooks reach LoopDeck). The loop trains
every TRAIN_EVERY labels (per-project settings in the loop store: train_every, cooldown 0); after
each training the annotator waits until the new version is active and its predictions are in
Label Studio (as a person would see them), and the active version's accuracy on the held-out set
is measured through LoopDeck's /predict. Learning curve = (labels, held-out accuracy).

usage: labels_saved.py LS_ENV_FILE LOOPDECK_BINARY DATA_DIR OUT_JSON OUT_PNG [LABELS]
"""
import datetime
import json
import os
import sys
import tempfile
import time

import loop_common as lc

POOL = 2000
HELDOUT = 600
TRAIN_EVERY = 20
TARGETS = (0.90, 0.92, 0.93, 0.95)
# The third arm switches the activation policy off (margin 1: a new version is kept only when it
# is worse by more than 1, never), to see what the default policy costs in labels.
# LABELS_ARMS (space-separated) picks arms, LABELS_REPEATS runs each that many times.
ARMS = tuple(os.environ.get("LABELS_ARMS", "sequential uncertainty uncertainty_always").split())
REPEATS = int(os.environ.get("LABELS_REPEATS", "1"))


def heldout_accuracy(server, pid, heldout):
    correct = 0
    for i in range(0, len(heldout), 100):
        chunk = heldout[i:i + 100]
        tasks = [{"id": 1000000 + i + k, "data": {"text": r["text"]}} for k, r in enumerate(chunk)]
        st, body = server.http.call("POST", "/predict", {"project": str(pid), "label_config": lc.LABEL_CONFIG, "tasks": tasks})
        if st != 200:
            raise RuntimeError(f"/predict: {st} {body}")
        for r, res in zip(chunk, body["results"]):
            got = res["result"][0]["value"]["choices"][0] if res.get("result") else None
            correct += got == r["label"]
    return correct / len(heldout)


def run_arm(ls, binary, pool, heldout, arm, labels_total, workdir, ls_url, token):
    truth = {}
    pid, ids = lc.create_project(ls, f"labels saved {arm} {int(time.time())}", [r["text"] for r in pool])
    for task_id, r in zip(ids, pool):
        truth[task_id] = r["label"]
    data_dir = os.path.join(workdir, arm)
    settings = {"train_every": TRAIN_EVERY, "cooldown_seconds": 0, "min_examples": 10, "keep_versions": 1000,
                "refresh_predictions": True, "uncertainty_sampling": arm.startswith("uncertainty")}
    if arm == "uncertainty_always":
        settings["activation_margin"] = 1.0  # every new version is activated
    # The project gets its row in the loop store with the first full sync; then its settings are
    # set through POST /loop/settings (what the window's loop settings and `loopdeck loop settings` do).
    server = lc.Loopdeck(binary, data_dir, ls_url=ls_url, token=token, train_every=TRAIN_EVERY)
    try:
        lc.register_backend(ls, pid, server.url)
        lc.wait_for(lambda: (server.status(pid) or {}).get("last_full_reconcile"), 300, what="the first full sync")
        st, body = server.http.call("POST", f"/loop/settings?project={pid}", settings)
        if st != 200:
            raise RuntimeError(f"/loop/settings: {st} {body}")
    except Exception:
        server.stop()
        raise
    curve, order = [], []
    try:
        # The answer carries the settings in force; older builds showed them in /loop/status only
        # once the engine's thread had saved them, so allow it a moment.
        lc.wait_for(lambda: ((server.status(pid) or {}).get("settings") or {}).get("cooldown_seconds") == 0, 30,
                    what="the loop settings in /loop/status")
        versions_seen = 0
        for n in range(1, labels_total + 1):
            st, task = lc.call_retrying(ls, "GET", f"/api/projects/{pid}/next")
            if st != 200:
                raise RuntimeError(f"/next: {st} {task}")
            order.append(task["id"])
            lc.annotate(ls, task["id"], truth[task["id"]])
            if n % TRAIN_EVERY == 0:
                # A training was triggered by this label; wait for it and for its predictions.
                def trained():
                    st, v = server.http.call("GET", f"/versions?project={pid}")
                    return v if st == 200 and len(v.get("details", [])) > versions_seen else None
                try:
                    v = lc.wait_for(trained, 300, step=0.05, what=f"a version after {n} labels")
                except RuntimeError:
                    s = server.status(pid)
                    print(f"{arm}: no version after {n} labels: {s.get('last_error') if s else s}", file=sys.stderr)
                    continue
                versions_seen = len(v["details"])
                # The registry lists a new version just before the policy decides about it: wait
                # for the run's "trained version=N ... activated=" line in the loop's log.
                number = v["details"][-1]["version"]

                def decided():
                    s = server.status(pid) or {}
                    return next((l for l in s.get("log", []) if f" trained version={number} " in l), None)
                line = lc.wait_for(decided, 120, step=0.02, what=f"the decision about v{number}")
                _, v = server.http.call("GET", f"/versions?project={pid}")
                active = next(d for d in v["details"] if d["active"])
                newest = next(d for d in v["details"] if d["version"] == number)
                if ("activated=true" in line) != newest["active"]:
                    raise RuntimeError(f"log and /versions disagree about v{number}: {line}")
                if newest["active"]:
                    def refreshed():
                        s = server.status(pid) or {}
                        r = s.get("prediction_refresh") or {}
                        return r.get("state") in ("done", "failed") and r.get("version") == newest["name"]
                    lc.wait_for(refreshed, 600, step=0.05, what="the prediction refresh")
                acc = heldout_accuracy(server, pid, heldout)
                curve.append({"labels": n, "active": active["name"], "newest": newest["name"],
                              "newest_active": newest["active"], "heldout_accuracy": acc, "decision": line,
                              "cv_accuracy": active["metrics"].get("accuracy")})
                print(f"{arm}: {n} labels, {active['name']} active, held-out accuracy {acc:.4f}; {line.split(' decision=')[-1][:200]}",
                      file=sys.stderr, flush=True)
        s = server.status(pid)
        _, project = ls.call("GET", f"/api/projects/{pid}/")
        spam_share = sum(truth[t] == "spam" for t in order) / len(order)
        return {"arm": arm, "project": pid, "curve": curve, "sampling": project.get("sampling"),
                "spam_share_of_labelled": spam_share, "refresh": s.get("prediction_refresh") if s else None}
    finally:
        server.stop()


def labels_to_reach(curve, target):
    for p in curve:
        if p["heldout_accuracy"] >= target:
            return p["labels"]
    return None


def plot(results, path, targets):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for r in results:
        if r.get("run", 1) != 1:
            continue  # one curve per arm (the first run); every run's figures are in the JSON and the table
        xs = [p["labels"] for p in r["curve"]]
        ys = [p["heldout_accuracy"] for p in r["curve"]]
        ax.plot(xs, ys, marker="o", markersize=3, label={
            "sequential": "Sequential sampling (Label Studio default)",
            "uncertainty": "Uncertainty sampling, default activation policy",
            "uncertainty_always": "Uncertainty sampling, every version activated"}[r["arm"]])
    for t in targets:
        ax.axhline(t, color="grey", linewidth=0.6, linestyle=":")
    ax.set_xlabel("labels given (through /api/projects/{id}/next)")
    ax.set_ylabel("held-out accuracy of the active version")
    ax.set_title("SpamAssassin, 2,000-task pool, training every 20 labels")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)


def main():
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    env = lc.read_env(sys.argv[1])
    binary, data_dir, out_json, out_png = sys.argv[2:6]
    labels_total = int(sys.argv[6]) if len(sys.argv) > 6 else 400
    rows = lc.load_spam(data_dir)
    pool = lc.shuffled([r for r in rows if r["split"] == "train"], 11)[:POOL]
    heldout = lc.shuffled([r for r in rows if r["split"] == "test"], 12)[:HELDOUT]
    ls = lc.Http(env["URL"], env["TOKEN"])
    workdir = tempfile.mkdtemp(prefix="labels-saved-")
    results = []
    summary = {}

    def write():
        # After every run, so a long benchmark stopped early keeps what it measured.
        summary.clear()
        for t in TARGETS:
            summary[f"{t:.2f}"] = {f"{r['arm']}#{r['run']}": labels_to_reach(r["curve"], t) for r in results}
        doc = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": lc.machine(),
               "pool": POOL, "heldout": HELDOUT, "train_every": TRAIN_EVERY, "labels": labels_total,
               "text_chars": lc.TEXT_CHARS, "results": results, "labels_to_reach": summary,
               "label_studio_500_retries": lc.RETRIES["count"]}
        with open(out_json, "w") as f:
            json.dump(doc, f, indent=1)

    for rep in range(REPEATS):
        for arm in ARMS:
            r = run_arm(ls, binary, pool, heldout, arm, labels_total, os.path.join(workdir, f"run{rep + 1}"), env["URL"], env["TOKEN"])
            r["run"] = rep + 1
            results.append(r)
            write()
    plot(results, out_png, TARGETS)
    print(json.dumps(summary), file=sys.stderr)


if __name__ == "__main__":
    main()
