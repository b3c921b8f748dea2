#!/usr/bin/env python3
"""Writes the "Loop" section of docs/benchmarks.md (between the loop-bench markers) from the
JSON files of loop_latency.py, labels_saved.py and swap_under_load.py in RESULTS_DIR. A missing
file leaves its part out.

usage: loop_report.py RESULTS_DIR BENCHMARKS_MD
"""
import json
import os
import sys

BEGIN, END = "<!-- loop-bench:begin -->", "<!-- loop-bench:end -->"


def load(path):
    return json.load(open(path)) if os.path.exists(path) else None


def latency_part(doc):
    step = doc["results"][0].get("step", 50) if doc["results"] else 50
    out = [f"### A. Loop latency against the real Label Studio 1.23.2 ({doc['date']})", "",
           f"Machine: {doc['machine']}. N tasks (texts below), N-{step}-1 imported with their annotation and picked "
           "up by LoopDeck's first full sync; annotations are then posted through `POST /api/tasks/{id}/annotations/` "
           "as an annotator's, so Label Studio sends the webhooks. Timed from sending the POST that crosses the "
           "threshold until `POST /setup` reports the new version. **Loop** = the Nth annotation, the project's "
           f"version 2, with train_every {step} and version 1 (trained on N-{step}) serving: the loop as it runs "
           "(C and the weighting kept from version 1's cross-validation, its solutions the starting points). "
           f"**First version** = the (N-{step})th annotation, `--train-every N-{step}`: version 1, chosen from "
           "scratch. Seed recipe, same run, same project: export through the API "
           "(`GET /api/projects/{id}/export?exportType=JSON`) + scikit-learn fit (TfidfVectorizer(1,3) + "
           "LogisticRegression(C=10)) + pickle + a new python process that loads it and answers one prediction.", "",
           "| annotations | texts | loop: POST → /setup new version | of which the POST | LoopDeck training: features / selection / final | "
           "first version: POST → /setup | recipe: export | recipe: fit | recipe: restart | recipe total | loop faster by |",
           "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in doc["results"]:
        l, c, cold = r["loop"], r["recipe"], r.get("cold") or {}
        st = l.get("stages_ms") or {}
        stages = f"{l['training_ms'] / 1000:.2f} s: {st.get('features', 0) / 1000:.2f} / {st.get('selection', 0) / 1000:.2f} / {st.get('final', 0) / 1000:.2f}"
        out.append(f"| {r['n']:,} | {r.get('texts', 'mails')} | **{l['from_post_s']:.2f} s** | {l['post_s']:.2f} s | {stages} | "
                   f"{cold.get('from_post_s', float('nan')):.2f} s | {c['export_s']:.2f} s | {c['fit_s']:.2f} s | "
                   f"{c['restart_s']:.2f} s | **{c['total_s']:.2f} s** | {r['speedup']:.1f}× |")
    out.append("")
    notes = []
    for r in doc["results"]:
        l, cold = r["loop"], r.get("cold") or {}
        ws = l.get("warm_start") or {}
        cpu = l.get("cpu_s") or {}
        notes.append(f"N={r['n']:,}: import into Label Studio {cold.get('import_s', 0):.0f} s, first full sync "
                     f"{cold.get('first_full_sync_s', 0):.1f} s; version 2 started {ws.get('examples', 0):,} of its "
                     f"{l['examples']:,} examples from version 1's solutions and folds (C {l.get('c')} chosen by "
                     f"version 1 with {ws.get('selected_on', 0):,} examples"
                     + (f", on a stratified sample of {ws['selection_sample']:,}" if ws.get("selection_sample") and ws["selection_sample"] < ws.get("selected_on", 0) else "")
                     + f"); its \"selection\" stage is then the cross-validation at that one setting (the evaluation); "
                     f"evaluation accuracy {l['accuracy']:.3f} ({l['evaluation']}); version 1's training "
                     f"{cold.get('training_ms', 0) / 1000:.2f} s; export {r['recipe']['export_mb']:.1f} MB; CPU seconds while "
                     f"version 2 was awaited: LoopDeck {cpu.get('loopdeck', 0):.2f}, Label Studio {cpu.get('label_studio', 0):.2f}, "
                     f"this client {cpu.get('bench_client', 0):.2f}.")
    targets = {5000: 1.0, 50000: 5.0}
    for r in doc["results"]:
        if r["n"] in targets:
            limit = targets[r["n"]]
            ok = r["loop"]["from_post_s"] <= limit
            cold = (r.get("cold") or {}).get("from_post_s")
            chars = f", {r['characters'] / 1e6:.1f} M characters of text" if r.get("characters") else ""
            notes.append(f"Target (issue 14: ≤ {limit:g} s at {r['n']:,} annotations; here {r.get('texts', 'mails')}{chars}): "
                         f"{r['loop']['from_post_s']:.2f} s with a version serving — " + ("met" if ok else "NOT met")
                         + (f"; the project's first version (no earlier run to start from: C and the weighting "
                            f"chosen from scratch) {cold:.2f} s — "
                            + ("met" if cold <= limit else "not met") if cold is not None else "")
                         + f". Against the recipe: {r['speedup']:.1f}× with a version serving"
                         + (f", {r['recipe']['total_s'] / cold:.1f}× for the first version" if cold else "") + ".")
    out += ["- " + n for n in notes]
    return out


def labels_part(doc):
    results = doc["results"]
    arms = list(dict.fromkeys(r["arm"] for r in results))
    runs = {a: [r for r in results if r["arm"] == a] for a in arms}
    names = {"sequential": "sequential (LS default)", "uncertainty": "uncertainty, default policy",
             "uncertainty_always": "uncertainty, every version activated"}
    nruns = max(len(v) for v in runs.values())
    out = [f"### B. Labels saved by uncertainty sampling ({doc['date']})", "",
           f"Machine: {doc['machine']}. Pool of {doc['pool']:,} SpamAssassin mails (train split), held-out set of "
           f"{doc['heldout']} (test split); a simulated annotator takes {doc['labels']} tasks one by one through "
           "Label Studio's `GET /api/projects/{id}/next` and answers with the true label; the loop trains every "
           f"{doc['train_every']} labels (loop settings: train_every {doc['train_every']}, cooldown 0) and, with "
           "`uncertainty_sampling`, imports each new version's predictions and sets the project's sampling to "
           "\"Uncertainty sampling\". After each training the annotator waits for the new version's predictions; the "
           "accuracy of the **active** version on the held-out set is the curve. "
           f"{nruns} run(s) per arm; the plot shows the first run of each."
           + (f" Binary: {doc['binary']}." if doc.get("binary") else ""), "",
           "![learning curves](../tests/bench/results/loop_labels_saved.png)", "",
           "Labels needed to reach a held-out accuracy, per run: first time reached / from when on it stays at or above "
           f"it (within the {doc['labels']} labels; – = not reached or not kept):", "",
           "| target held-out accuracy | " + " | ".join(names.get(a, a) for a in arms) + " |",
           "|---:|" + "---|" * len(arms)]

    def first(curve, target):
        return next((p["labels"] for p in curve if p["heldout_accuracy"] >= target), None)

    def stays(curve, target):
        n = None
        for p in curve:
            if p["heldout_accuracy"] >= target:
                n = n or p["labels"]
            else:
                n = None
        return n
    for t in doc["labels_to_reach"]:
        target = float(t)
        cells = []
        for a in arms:
            cells.append(", ".join(f"{first(r['curve'], target) or '–'} / {stays(r['curve'], target) or '–'}" for r in runs[a]))
        out.append(f"| {t} | " + " | ".join(cells) + " |")
    out.append("")
    if doc.get("label_studio_500_retries"):
        out.append(f"- Label Studio (SQLite) answered 500 \"database is locked\" {doc['label_studio_500_retries']} times "
                   "when a prediction import and the annotator's request collided; the annotator retried after 0.5 s.")
    for a in arms:
        parts = []
        for r in runs[a]:
            final = r["curve"][-1] if r["curve"] else None
            kept = sum(1 for p in r["curve"] if not p["newest_active"])
            if final:
                parts.append(f"run {r.get('run', 1)}: {final['active']} active at {final['labels']} labels, held-out accuracy "
                             f"{final['heldout_accuracy']:.3f}, {kept} of {len(r['curve'])} new versions kept inactive, "
                             f"spam share of the labelled tasks {r['spam_share_of_labelled']:.2f}")
        out.append(f"- {names.get(a, a)} (project sampling at the end: \"{runs[a][-1]['sampling']}\"): " + "; ".join(parts) + ".")
    return out


def swap_part(doc):
    w = doc["wrk"]
    return [f"### C. /predict while versions are swapped in ({doc['date']})", "",
            f"Machine: {doc['machine']}. `loopdeck serve` with {doc['versions']} versions of one project (trained by the "
            f"loop on {doc['examples']} SpamAssassin annotations); wrk, {doc['connections']} connections, {doc['seconds']} s, "
            "`POST /predict` with one mail (300 characters) per request, while one client activates v1, v2, … v20 in turn "
            "through `POST /loop/activate` and rolls back through `POST /loop/rollback` after each, as fast as the "
            "answers come; a second client checks every answer names one real version.", "",
            "| /predict requests | per second | p50 | p99 | failed requests | activations | rollbacks | swaps per second | answers checked | bad answers |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {w['requests']:,} | {doc['predict_rps']:,.0f} | {w['p50_us'] / 1000:.1f} ms | {w['p99_us'] / 1000:.1f} ms | "
            f"**{doc['failed_requests']}** | {doc['swaps']['activate']} | {doc['swaps']['rollback']} | {doc['swaps']['per_s']:.1f} | "
            f"{doc['checked_answers']:,} | {doc['bad_answers']} |", "",
            f"- Operator calls: {doc['swaps']['failed']} failed (answers: {doc['swaps']['statuses']}; 409 = rollback with nothing "
            f"older than v1). The checker saw {doc['versions_seen_by_checker']} different versions."]


def main():
    results, md = sys.argv[1], sys.argv[2]
    parts = ["## Loop: annotations in, a better model out", "",
             "Reproduce: `tests/bench/loop_bench.sh latency|labels|swap` (one command each; raw figures in "
             "`tests/bench/results/`)."]
    for name, fn in (("loop_latency.json", latency_part), ("loop_labels_saved.json", labels_part), ("loop_swap.json", swap_part)):
        doc = load(os.path.join(results, name))
        if doc:
            parts += [""] + fn(doc)
    section = BEGIN + "\n" + "\n".join(parts) + "\n" + END
    text = open(md, encoding="utf-8").read()
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + section + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    open(md, "w", encoding="utf-8").write(text)


if __name__ == "__main__":
    main()
