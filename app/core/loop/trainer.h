#pragma once
// One training run of the loop, off the GUI and HTTP threads: evaluates the classifier on the
// project's examples and trains the final model. Below 2,000 examples the evaluation is a nested
// stratified 5-fold cross-validation (five extra trainings; cheap at that size); from 2,000 on,
// it is the out-of-fold predictions of the classifier's own cross-validation (the one that
// chooses C and the weighting), so the run trains once: the loop's latency at thousands of
// annotations is one training. Reports progress and stops early when cancelled; a cancelled or
// failed run produces no model, so the active version keeps serving. The metrics JSON is what
// /versions "details" and the model page show: accuracy, macro_f1, per_class, confusion,
// examples, evaluation, duration_ms.
// Called by the loop engine on a worker thread (QtConcurrent); `train` itself is reentrant.
#include "core/model/textclassifier.h"
#include "core/result.h"

#include <QJsonObject>
#include <QList>
#include <QStringList>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace loopdeck::loop {

struct TrainingInput {
    QList<model::Example> examples;
    QStringList choices;        // the label config's choices, in order (empty = from the data)
    bool multiple = false;      // choice="multiple"
    QStringList unlabeledTexts; // texts of unlabeled tasks (document frequencies, self-training)
};

struct TrainingOutput {
    std::shared_ptr<const model::TextClassifier> classifier;
    QJsonObject metrics;
    int examples = 0;
    qint64 durationMs = 0;
    // Per input example (same order): the evaluation's prediction for it, made by a model that
    // did not see it (every example is predicted by one of the folds). The activation policy
    // compares these with the active version's predictions.
    std::vector<std::optional<QStringList>> outOfFold;
};

struct TrainingControl {
    std::atomic<bool> cancel{false};
    std::atomic<double> progress{0.0}; // 0..1
};

class Trainer final
{
public:
    static constexpr int kKFoldBelow = 2000;
    static constexpr int kFolds = 5;
    static constexpr quint32 kSeed = 20261125;

    // Fails with a sentence when the data cannot make a model (fewer than two classes, ...)
    // or "cancelled" when control->cancel was set.
    static Result<TrainingOutput> train(const TrainingInput &input, TrainingControl *control);
    static bool isCancelled(const Result<TrainingOutput> &result);
};

} // namespace loopdeck::loop
