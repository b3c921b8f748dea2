#pragma once
// Quality numbers for a text classifier: accuracy, macro-F1, per-class precision / recall / F1 /
// support and a confusion matrix, plus holdout and k-fold evaluation with a fixed seed (the same
// data always splits the same way). Called by `loopdeck model train`, the trainer (loop) and the
// model registry, which stores these numbers next to each model version.
#include "core/model/textclassifier.h"

#include <QList>
#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

namespace loopdeck::model {

struct ClassMetrics {
    QString label;
    double precision = 0.0;
    double recall = 0.0;
    double f1 = 0.0;
    int support = 0; // true occurrences in the evaluated examples
};

struct Metrics {
    int examples = 0;
    double accuracy = 0.0; // single-label: share correct; multi-label: exact set match
    double macroF1 = 0.0;  // unweighted mean of per-class F1 over classes
    std::vector<ClassMetrics> perClass; // in the order of classes
    QStringList classes;
    // Single-label only: confusion[truth][predicted], indices into classes. For multi-label it
    // holds one row per class with {true negatives, false positives, false negatives, true positives}.
    std::vector<std::vector<int>> confusion;
    bool multiLabel = false;
    // Calibration of the scores, when the metrics came from predictions with scores (evaluation
    // helpers below), else -1. Single-label: ECE over the top probability vs correctness, 10
    // equal-width bins; Brier = mean over examples of sum over classes (p_c - [c is true])^2.
    // Multi-label: the same over every (example, class) probability vs membership.
    double ece = -1.0;
    double brier = -1.0;
};

// Compares truth and predictions (same length). Labels outside classes are ignored for the
// per-class numbers but still count as wrong for accuracy.
Metrics computeMetrics(const QStringList &classes, const QList<QStringList> &truth,
                       const QList<QStringList> &predicted, bool multiLabel);

// Fills m.ece and m.brier from predictions (same length as truth).
void addCalibrationMetrics(Metrics &m, const QList<QStringList> &truth, const QList<Prediction> &predictions);

// Deterministic stratified split helpers (by each example's first label, Mersenne Twister with
// the given seed, shuffled with our own Fisher-Yates so every standard library agrees).
// foldOf[i] is the fold (0..k-1) of examples[i].
std::vector<int> assignFolds(const QList<Example> &examples, int folds, quint32 seed);

// Trains on (1 - testFraction) of the data and scores the rest. std::nullopt + *error when a
// split cannot be trained (e.g. too few examples of a class for every part to see two classes).
std::optional<Metrics> evaluateHoldout(const QList<Example> &examples, const TrainOptions &options,
                                       double testFraction, quint32 seed, QString *error);

// k-fold cross-validation: every example is predicted once by a model that did not see it;
// the metrics are computed over all folds' predictions pooled.
std::optional<Metrics> evaluateKFold(const QList<Example> &examples, const TrainOptions &options,
                                     int folds, quint32 seed, QString *error);

} // namespace loopdeck::model
