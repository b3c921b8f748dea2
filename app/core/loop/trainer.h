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

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QStringList>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace loopdeck::loop {

// What a run leaves for the next run of the same project (the engine keeps it in memory): the
// C and weighting the last full selection chose and on how many examples, and per task the
// cross-validation folds' dual solutions and the task's fold (the final model's solution only
// when there were no folds). A next run on a
// similar number of mostly the same examples (kReselectAfter, kWarmShare) keeps that choice, keeps
// each known task in its fold (new tasks go where their class has fewest) and starts every
// solver from these solutions, so it costs one cross-validation at one setting, mostly
// converged from the start; a run on many more or fewer examples, or with other classes,
// chooses again.
struct WarmState {
    QStringList classes; // the model's classes, sorted: what its columns mean
    bool multiple = false;
    double c = 0.0;
    model::FeatureWeighting weighting = model::FeatureWeighting::Plain;
    int selectedOn = 0;                  // examples there were when C and the weighting were chosen
    int selectionSample = 0;             // of which the choice saw (a stratified sample when large)
    QHash<qint64, qsizetype> rowOfTask;  // task id -> row of labels and solution (empty: a choice only)
    QList<QStringList> labels;           // per row: the labels the task was trained with
    std::vector<size_t> textHashes;      // per row: qHash of the text it was trained on
    model::WarmStart solution;           // per row: dual solutions and cross-validation folds
};

struct TrainingInput {
    QList<model::Example> examples;
    QList<qint64> exampleTasks; // per example: its task id (for the warm start; may be empty)
    std::shared_ptr<const WarmState> warm; // the previous run's, or null
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
    // For the next run (null when the examples had no task ids, or below kKFoldBelow).
    std::shared_ptr<const WarmState> warm;
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
    // A warm run keeps the previous choice of C and weighting while the examples number at most
    // this factor more (or fewer) than the choice was made on.
    static constexpr double kReselectAfter = 1.25;
    // ... and at least this share of its examples are the previous run's (same task, text and
    // labels); otherwise the data changed too much for the choice and the solutions to hold.
    static constexpr double kWarmShare = 0.8;

    // Fails with a sentence when the data cannot make a model (fewer than two classes, ...)
    // or "cancelled" when control->cancel was set.
    static Result<TrainingOutput> train(const TrainingInput &input, TrainingControl *control);
    static bool isCancelled(const Result<TrainingOutput> &result);
};

} // namespace loopdeck::loop
