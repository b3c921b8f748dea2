#!/usr/bin/env python3
"""scikit-learn baseline for the training benchmark: the model of Label Studio's
sklearn_text_classifier example, TfidfVectorizer(ngram_range=(1, 3)) + LogisticRegression(C=10).

usage: sklearn_baseline.py TRAIN.jsonl TEST.jsonl MODEL.pkl  -> one JSON line of results on stdout
"""
import json
import os
import pickle
import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline


def load(path):
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            texts.append(r["text"])
            labels.append(r["label"])
    return texts, labels


def main():
    train_path, test_path, model_path = sys.argv[1:4]
    x_train, y_train = load(train_path)
    x_test, y_test = load(test_path)
    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 3)), LogisticRegression(C=10))
    start = time.perf_counter()
    model.fit(x_train, y_train)
    train_seconds = time.perf_counter() - start
    predicted = model.predict(x_test)
    with open(model_path, "wb") as f:
        pickle.dump(model, f)
    # One text per call, as an ML backend sees it.
    sample = x_test[:200]
    start = time.perf_counter()
    for text in sample:
        model.predict_proba([text])
    long_us = (time.perf_counter() - start) / len(sample) * 1e6
    short = "Congratulations, you won a free prize! Click here now"
    start = time.perf_counter()
    for _ in range(200):
        model.predict_proba([short])
    short_us = (time.perf_counter() - start) / 200 * 1e6
    print(json.dumps({
        "train_seconds": train_seconds,
        "accuracy": accuracy_score(y_test, predicted),
        "macro_f1": f1_score(y_test, predicted, average="macro"),
        "model_bytes": os.path.getsize(model_path),
        "predict_us_mail": long_us,
        "predict_us_short": short_us,
        "features": len(model[0].vocabulary_),
    }))


if __name__ == "__main__":
    main()
