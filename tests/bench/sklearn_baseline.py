#!/usr/bin/env python3
"""scikit-learn baselines for the training benchmark, trained and scored on the same split:

  a  TfidfVectorizer(ngram_range=(1, 3)) + LogisticRegression(C=10)  (Label Studio's example)
  b  char_wb 1-3-gram sublinear TF-IDF + LogisticRegression(C=10)
  c  word 1-2 + char_wb 2-4 sublinear TF-IDF (FeatureUnion) + LinearSVC(C=0.5)

usage: sklearn_baseline.py a|b|c TRAIN.jsonl TEST.jsonl MODEL.pkl [SHORT_TEXT] [--limit N]
  -> one JSON line of results on stdout. --limit N trains on the first N training examples
  (learning curves). Calibration (ECE with 10 equal-width bins on the top-class probability,
  multi-class Brier score) uses predict_proba; LinearSVC has none, so (c) reports null there.
"""
import json
import os
import pickle
import sys
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline, make_union
from sklearn.svm import LinearSVC


def load(path):
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            texts.append(r["text"])
            labels.append(r["label"])
    return texts, labels


def make(kind):
    if kind == "a":
        return make_pipeline(TfidfVectorizer(ngram_range=(1, 3)), LogisticRegression(C=10))
    if kind == "b":
        return make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True),
                             LogisticRegression(C=10))
    if kind == "c":
        return make_pipeline(make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                                        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)),
                             LinearSVC(C=0.5))
    raise SystemExit(f"unknown baseline {kind!r}")


def calibration(model, texts, truth):
    """ECE (10 equal-width bins over the top probability) and multi-class Brier score."""
    if not hasattr(model, "predict_proba"):
        return None, None
    proba = model.predict_proba(texts)
    classes = list(model.classes_)
    top = proba.max(axis=1)
    correct = np.array([classes[i] == t for i, t in zip(proba.argmax(axis=1), truth)], dtype=float)
    bins = np.minimum((top * 10).astype(int), 9)
    ece = 0.0
    for b in range(10):
        mask = bins == b
        if mask.any():
            ece += mask.sum() / len(top) * abs(correct[mask].mean() - top[mask].mean())
    onehot = np.zeros_like(proba)
    for i, t in enumerate(truth):
        if t in classes:
            onehot[i, classes.index(t)] = 1.0
    brier = float(((proba - onehot) ** 2).sum(axis=1).mean())
    return float(ece), brier


def main():
    args = sys.argv[1:]
    limit = None
    if "--limit" in args:
        i = args.index("--limit")
        limit = int(args[i + 1])
        del args[i:i + 2]
    kind, train_path, test_path, model_path = args[:4]
    short = args[4] if len(args) > 4 else "Congratulations, you won a free prize! Click here now"
    x_train, y_train = load(train_path)
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
    x_test, y_test = load(test_path)
    model = make(kind)
    start = time.perf_counter()
    model.fit(x_train, y_train)
    train_seconds = time.perf_counter() - start
    predicted = model.predict(x_test)
    ece, brier = calibration(model, x_test, y_test)
    result = {
        "baseline": kind,
        "train_examples": len(x_train),
        "train_seconds": train_seconds,
        "accuracy": accuracy_score(y_test, predicted),
        "macro_f1": f1_score(y_test, predicted, average="macro"),
        "ece": ece,
        "brier": brier,
    }
    if not limit:
        with open(model_path, "wb") as f:
            pickle.dump(model, f)
        result["model_bytes"] = os.path.getsize(model_path)
        # One text per call, as an ML backend sees it.
        predict = model.predict_proba if hasattr(model, "predict_proba") else model.decision_function
        sample = x_test[:200]
        start = time.perf_counter()
        for text in sample:
            predict([text])
        result["predict_us_test"] = (time.perf_counter() - start) / len(sample) * 1e6
        start = time.perf_counter()
        for _ in range(200):
            predict([short])
        result["predict_us_short"] = (time.perf_counter() - start) / 200 * 1e6
    print(json.dumps(result))


if __name__ == "__main__":
    main()
