#include "core/loop/trainer.h"

#include "core/model/metrics.h"

#include <QElapsedTimer>
#include <QJsonArray>

#include <algorithm>

namespace loopdeck::loop {

namespace {

const QString kCancelled = QStringLiteral("The training run was cancelled.");

QJsonObject metricsJson(const model::Metrics &m)
{
    QJsonArray perClass;
    for (const model::ClassMetrics &c : m.perClass)
        perClass.append(QJsonObject{{QStringLiteral("label"), c.label},
                                    {QStringLiteral("precision"), c.precision},
                                    {QStringLiteral("recall"), c.recall},
                                    {QStringLiteral("f1"), c.f1},
                                    {QStringLiteral("support"), c.support}});
    QJsonArray matrix;
    for (const std::vector<int> &row : m.confusion) {
        QJsonArray r;
        for (int v : row)
            r.append(v);
        matrix.append(r);
    }
    return QJsonObject{{QStringLiteral("accuracy"), m.accuracy},
                       {QStringLiteral("macro_f1"), m.macroF1},
                       {QStringLiteral("evaluated_examples"), m.examples},
                       {QStringLiteral("per_class"), perClass},
                       {QStringLiteral("confusion"),
                        QJsonObject{{QStringLiteral("labels"), QJsonArray::fromStringList(m.classes)},
                                    {QStringLiteral("matrix"), matrix},
                                    {QStringLiteral("layout"), m.multiLabel ? QStringLiteral("per_class_tn_fp_fn_tp")
                                                                            : QStringLiteral("truth_by_predicted")}}}};
}

QStringList classesOf(const TrainingInput &input)
{
    QStringList classes;
    for (const model::Example &e : input.examples)
        for (const QString &l : e.labels)
            if (!classes.contains(l))
                classes << l;
    // The label config's order first, then anything else the data has.
    QStringList ordered;
    for (const QString &c : input.choices)
        if (classes.contains(c))
            ordered << c;
    for (const QString &c : std::as_const(classes))
        if (!ordered.contains(c))
            ordered << c;
    return ordered;
}

// The previous run's solutions for this run's examples: rowOf[i] is example i's row there (-1:
// new, or labelled otherwise: its duals start at 0). Known examples keep their fold; the others
// go, in order, to the fold with the fewest examples of their first label.
model::WarmStart mapWarmStart(const model::WarmStart &previous, const std::vector<qsizetype> &rowOf,
                              const QList<model::Example> &examples)
{
    const std::size_t n = rowOf.size();
    const auto mapParts = [&](const model::WarmStart::Parts &parts) {
        model::WarmStart::Parts out = parts;
        for (auto &part : out) {
            for (std::vector<float> &column : part) {
                if (column.empty())
                    continue;
                std::vector<float> mapped(n, 0.0f);
                for (std::size_t i = 0; i < n; ++i)
                    if (rowOf[i] >= 0 && static_cast<std::size_t>(rowOf[i]) < column.size())
                        mapped[i] = column[static_cast<std::size_t>(rowOf[i])];
                column = std::move(mapped);
            }
        }
        return out;
    };
    model::WarmStart out;
    out.final = mapParts(previous.final);
    const int folds = int(previous.folds.size());
    if (folds < 2)
        return out;
    for (const model::WarmStart::Parts &fold : previous.folds)
        out.folds.push_back(mapParts(fold));
    out.foldOf.assign(n, -1);
    QHash<QString, std::vector<int>> perClass; // first label -> examples per fold
    const auto stratum = [&](std::size_t i) {
        const QStringList &labels = examples[qsizetype(i)].labels;
        return labels.isEmpty() ? QString() : labels.first();
    };
    for (std::size_t i = 0; i < n; ++i) {
        const qsizetype row = rowOf[i];
        if (row < 0 || static_cast<std::size_t>(row) >= previous.foldOf.size())
            continue;
        const int f = previous.foldOf[static_cast<std::size_t>(row)];
        if (f < 0 || f >= folds)
            continue;
        out.foldOf[i] = f;
        std::vector<int> &count = perClass[stratum(i)];
        count.resize(std::size_t(folds), 0);
        ++count[std::size_t(f)];
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (out.foldOf[i] >= 0)
            continue;
        std::vector<int> &count = perClass[stratum(i)];
        count.resize(std::size_t(folds), 0);
        const int f = int(std::min_element(count.begin(), count.end()) - count.begin());
        out.foldOf[i] = f;
        ++count[std::size_t(f)];
    }
    // New examples' duals are 0 (mapParts); a known one's is 0 in the fold it tests, as there.
    return out;
}

} // namespace

bool Trainer::isCancelled(const Result<TrainingOutput> &result)
{
    return !result.ok() && result.error() == kCancelled;
}

Result<TrainingOutput> Trainer::train(const TrainingInput &input, TrainingControl *control)
{
    QElapsedTimer timer;
    timer.start();
    const auto cancelled = [&] { return control && control->cancel.load(); };
    const auto progress = [&](double p) {
        if (control)
            control->progress.store(p);
    };
    progress(0.0);

    model::TrainOptions options;
    options.multiLabel = input.multiple;
    const QList<model::Example> &examples = input.examples;
    const QStringList classes = classesOf(input);
    if (classes.size() < 2)
        return Result<TrainingOutput>::failure(
            QStringLiteral("The annotations use %1 label(s); at least two different labels are needed to train.").arg(classes.size()));

    const int n = int(examples.size());
    QList<QStringList> truth, predicted;
    std::vector<std::optional<QStringList>> outOfFold(static_cast<std::size_t>(n));
    QString why;
    QString evaluation;
    std::shared_ptr<const model::TextClassifier> final;
    const bool keyed = input.exampleTasks.size() == n;
    int warmRows = 0;       // examples whose previous duals are the solvers' starting point
    int selectedOn = n;     // examples there were when C and the weighting were chosen
    int selectionSample = 0; // of which the choice saw (0: not known yet)
    if (n >= kKFoldBelow && keyed && input.warm && input.warm->multiple == input.multiple) {
        const WarmState &warm = *input.warm;
        QStringList sorted = classes;
        sorted.sort();
        const bool similarSize = n <= warm.selectedOn * kReselectAfter && n * kReselectAfter >= warm.selectedOn;
        if (sorted == warm.classes && similarSize && warm.c > 0.0) {
            std::vector<qsizetype> rowOf(static_cast<std::size_t>(n), -1);
            int known = 0;
            for (int i = 0; i < n; ++i) {
                const qsizetype row = warm.rowOfTask.value(input.exampleTasks[i], -1);
                if (row >= 0 && row < warm.labels.size() && row < qsizetype(warm.textHashes.size())
                    && warm.labels[row] == examples[i].labels && warm.textHashes[std::size_t(row)] == qHash(examples[i].text)) {
                    rowOf[std::size_t(i)] = row; // the same task, text and labels
                    ++known;
                }
            }
            // Mostly the same examples (not other texts under the same tasks, not relabelled):
            // the choice still holds and the solutions are close; otherwise choose again.
            // A state with no rows is a choice only (the active version's, after a restart): it
            // holds for the same classes and a similar size.
            if (known >= kWarmShare * n || warm.rowOfTask.isEmpty()) {
                options.c = warm.c;
                options.weighting = warm.weighting;
                selectedOn = warm.selectedOn;
                selectionSample = warm.selectionSample;
                warmRows = known;
                options.warmStart = std::make_shared<const model::WarmStart>(mapWarmStart(warm.solution, rowOf, examples));
            }
        }
    }
    model::TrainReport report;
    if (n >= kKFoldBelow) {
        // Many examples: the model's own cross-validation (which chose C and the weighting)
        // already predicted every example by a model that did not see it; that is the
        // evaluation, so the run trains once.
        final = model::TextClassifier::train(examples, options, &why, input.unlabeledTexts, [&](double p) {
            progress(p);
            return !cancelled();
        }, &report);
        if (cancelled())
            return Result<TrainingOutput>::failure(kCancelled);
        if (!final)
            return Result<TrainingOutput>::failure(QStringLiteral("The model cannot be trained: %1").arg(why));
        if (report.outOfFold.size() != static_cast<std::size_t>(n))
            return Result<TrainingOutput>::failure(
                QStringLiteral("The model's cross-validation did not predict every example (%1 of %2).")
                    .arg(report.outOfFold.size())
                    .arg(n));
        for (int i = 0; i < n; ++i) {
            truth.append(examples[i].labels);
            predicted.append(report.outOfFold[std::size_t(i)]);
            outOfFold[std::size_t(i)] = report.outOfFold[std::size_t(i)];
        }
        evaluation = QStringLiteral("stratified %1-fold cross-validation").arg(final->selection().folds);
    } else {
        // Fewer examples: a nested stratified k-fold evaluation (the model selection inside each
        // fold sees only that fold's training part), then the final model on all examples.
        const std::vector<int> fold = model::assignFolds(examples, kFolds, kSeed);
        for (int f = 0; f < kFolds; ++f) {
            if (cancelled())
                return Result<TrainingOutput>::failure(kCancelled);
            QList<model::Example> trainSet, testSet;
            std::vector<int> testIndex;
            for (int i = 0; i < n; ++i) {
                (fold[std::size_t(i)] == f ? testSet : trainSet).append(examples[i]);
                if (fold[std::size_t(i)] == f)
                    testIndex.push_back(i);
            }
            if (testSet.isEmpty())
                continue;
            const double base = double(f) / (kFolds + 1);
            const auto m = model::TextClassifier::train(trainSet, options, &why, input.unlabeledTexts, [&](double p) {
                progress(base + p / (kFolds + 1));
                return !cancelled();
            });
            if (cancelled())
                return Result<TrainingOutput>::failure(kCancelled);
            if (!m)
                return Result<TrainingOutput>::failure(
                    QStringLiteral("Evaluation fold %1 of %2 cannot be trained: %3").arg(f + 1).arg(kFolds).arg(why));
            for (qsizetype k = 0; k < testSet.size(); ++k) {
                const model::Example &e = testSet[k];
                truth.append(e.labels);
                predicted.append(m->predict(e.text).labels);
                outOfFold[std::size_t(testIndex[std::size_t(k)])] = predicted.constLast();
            }
            progress(double(f + 1) / (kFolds + 1));
        }
        if (cancelled())
            return Result<TrainingOutput>::failure(kCancelled);
        const double base = double(kFolds) / (kFolds + 1);
        final = model::TextClassifier::train(examples, options, &why, input.unlabeledTexts, [&](double p) {
            progress(base + p / (kFolds + 1));
            return !cancelled();
        });
        if (cancelled())
            return Result<TrainingOutput>::failure(kCancelled);
        if (!final)
            return Result<TrainingOutput>::failure(QStringLiteral("The model cannot be trained: %1").arg(why));
        evaluation = QStringLiteral("stratified %1-fold cross-validation").arg(kFolds);
    }

    const model::Metrics m = model::computeMetrics(classes, truth, predicted, input.multiple);
    if (selectionSample == 0)
        selectionSample = report.selectionExamples; // chosen by this run
    TrainingOutput out;
    if (n >= kKFoldBelow && keyed && report.solution.final.size() == 2) {
        auto next = std::make_shared<WarmState>();
        next->classes = final->classes();
        next->multiple = input.multiple;
        next->c = final->selection().c;
        next->weighting = final->selection().weighting;
        next->selectedOn = selectedOn;
        next->selectionSample = selectionSample;
        next->rowOfTask.reserve(n);
        next->textHashes.reserve(std::size_t(n));
        for (int i = 0; i < n; ++i) {
            next->rowOfTask.insert(input.exampleTasks[i], i);
            next->labels.append(examples[i].labels);
            next->textHashes.push_back(qHash(examples[i].text));
        }
        next->solution = std::move(report.solution);
        if (!next->solution.folds.empty())
            next->solution.final.clear(); // the folds' solutions start the next run's folds; the final one is a fallback only
        out.warm = std::move(next);
    }
    out.classifier = std::move(final);
    out.examples = n;
    out.outOfFold = std::move(outOfFold);
    out.durationMs = timer.elapsed();
    out.metrics = metricsJson(m);
    out.metrics.insert(QStringLiteral("examples"), n);
    out.metrics.insert(QStringLiteral("evaluation"), evaluation);
    out.metrics.insert(QStringLiteral("duration_ms"), out.durationMs);
    out.metrics.insert(QStringLiteral("unlabeled_texts"), int(input.unlabeledTexts.size()));
    if (n >= kKFoldBelow) {
        // Where the time went, and whether the run reused the previous run's choice and solutions.
        out.metrics.insert(QStringLiteral("stages_ms"),
                           QJsonObject{{QStringLiteral("features"), report.featuresMs},
                                       {QStringLiteral("selection"), report.selectionMs},
                                       {QStringLiteral("final"), report.finalMs}});
        out.metrics.insert(QStringLiteral("solver_visits"), double(report.solverVisits));
        out.metrics.insert(QStringLiteral("warm_start"),
                           QJsonObject{{QStringLiteral("examples"), warmRows},
                                       {QStringLiteral("selected_on"), selectedOn},
                                       {QStringLiteral("selection_sample"), selectionSample}});
    }
    const model::ModelSelection chosen = out.classifier->selection();
    out.metrics.insert(QStringLiteral("model"),
                       QJsonObject{{QStringLiteral("c"), chosen.c},
                                   {QStringLiteral("cv_accuracy"), chosen.cvAccuracy},
                                   {QStringLiteral("calibration"), chosen.calibration}});
    progress(1.0);
    return out;
}

} // namespace loopdeck::loop
