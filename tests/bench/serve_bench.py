#!/usr/bin/env python3
"""Helpers for serve_bench.sh: make request bodies, and write the results into docs/benchmarks.md."""
import json
import random
import sys


def make_bodies(test_jsonl, out_dir, label_config_file, max_chars):
    texts = []
    with open(test_jsonl, encoding="utf-8") as f:
        for line in f:
            t = json.loads(line)["text"].strip()
            if t:
                texts.append(t[:max_chars])
    random.Random(7).shuffle(texts)
    label_config = open(label_config_file, encoding="utf-8").read()
    params = {"login": None, "password": None, "context": None}

    def body(batch, first_id):
        tasks = [{"id": first_id + i, "data": {"text": t}, "meta": {}, "annotations": [], "predictions": []}
                 for i, t in enumerate(batch)]
        return json.dumps({"tasks": tasks, "project": "1.1700000000", "label_config": label_config, "params": params})

    with open(f"{out_dir}/single.bodies", "w", encoding="utf-8") as f:
        for i, t in enumerate(texts[:500]):
            f.write(body([t], i + 1) + "\n")
    with open(f"{out_dir}/batch100.bodies", "w", encoding="utf-8") as f:
        for k in range(10):
            batch = [texts[(k * 100 + i) % len(texts)] for i in range(100)]
            f.write(body(batch, k * 100 + 1) + "\n")
    sizes = [len(t) for t in texts[:500]]
    print(json.dumps({"texts": len(texts), "mean_chars": sum(sizes) / len(sizes)}))


def synthetic(train_out, test_out):
    rng = random.Random(1)
    pos = "good great excellent loved wonderful fun nice superb".split()
    neg = "bad awful terrible hated boring poor ugly dull".split()
    filler = "the movie plot actor was really quite a film story with some scenes and music".split()
    for path, n in ((train_out, 2000), (test_out, 600)):
        with open(path, "w", encoding="utf-8") as f:
            for i in range(n):
                label = "Positive" if i % 2 == 0 else "Negative"
                words = rng.sample(filler, 8) + rng.sample(pos if label == "Positive" else neg, 2)
                rng.shuffle(words)
                f.write(json.dumps({"text": " ".join(words), "label": label}) + "\n")


def report(results_json, doc_path):
    r = json.load(open(results_json, encoding="utf-8"))
    lines = ["<!-- serve-bench:begin -->",
             "## Serving: `loopdeck serve` under load",
             "",
             "Run `tests/bench/serve_bench.sh` to reproduce (it builds a Release `loopdeck`, starts `loopdeck serve`",
             "with a trained model and rewrites this section).",
             "",
             f"- Date: {r['date']}; machine: {r['nproc']} CPUs, {r['cpu']}; wrk and the server share these CPUs"
             " (and other work running at the time).",
             f"- Model: {r['model']}.",
             f"- Load: `wrk -t{r['wrk_threads']} -c{r['connections']} -d{r['seconds']}s`, keep-alive, against 127.0.0.1;"
             f" bodies are Label Studio-shaped `/predict` requests (task with `id`, `data.text`, `meta`, `annotations`,"
             f" `predictions`, plus `project`, `label_config`, `params`); texts are {r['text_note']}.",
             "- Latency is what wrk measured at the client (includes the network stack and queueing behind the",
             "  other connections); `server p99` is the handler time from the backend's own `/metrics`.",
             "",
             "| server threads | scenario | requests/s | predictions/s | p50 | p99 | server p99 | errors |",
             "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for row in r["rows"]:
        lines.append(
            f"| {row['threads']} | {row['scenario']} | {row['rps']:,.0f} | "
            + (f"{row['pps']:,.0f}" if row["pps"] else "–")
            + f" | {row['p50_ms']:.2f} ms | {row['p99_ms']:.2f} ms | "
            + (f"{row['server_p99_ms']:.2f} ms" if row.get("server_p99_ms") is not None else "–")
            + f" | {row['errors']} |")
    lines += ["", r["verdict"]]
    if r.get("note"):
        lines += ["", r["note"]]
    lines += ["<!-- serve-bench:end -->"]
    section = "\n".join(lines)
    try:
        doc = open(doc_path, encoding="utf-8").read()
    except FileNotFoundError:
        doc = "# LoopDeck benchmarks\n\nNumbers measured on the machine named in each section; rerun the scripts to update them.\n"
    begin, end = "<!-- serve-bench:begin -->", "<!-- serve-bench:end -->"
    if begin in doc and end in doc:
        doc = doc[:doc.index(begin)] + section + doc[doc.index(end) + len(end):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + section + "\n"
    open(doc_path, "w", encoding="utf-8").write(doc)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "bodies":
        make_bodies(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd == "synthetic":
        synthetic(sys.argv[2], sys.argv[3])
    elif cmd == "report":
        report(sys.argv[2], sys.argv[3])
    elif cmd == "note":  # add a free-text note to a results file (e.g. what else ran meanwhile)
        r = json.load(open(sys.argv[2], encoding="utf-8"))
        r["note"] = sys.argv[3]
        json.dump(r, open(sys.argv[2], "w", encoding="utf-8"), indent=1)
    else:
        sys.exit(f"unknown command {cmd}")
