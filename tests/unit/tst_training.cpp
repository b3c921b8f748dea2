// Unit tests for the training path's shortcuts (issue 14): the dual solver's warm start, the C
// path that stops climbing, the out-of-fold predictions the classifier hands back, and the loop
// trainer that uses them as its evaluation from Trainer::kKFoldBelow examples on.
#include "core/loop/trainer.h"
#include "core/model/linearsolver.h"
#include "core/model/textclassifier.h"
#include "syntheticdata.h"

#include <QJsonObject>
#include <QTest>

#include <cmath>
#include <random>

using namespace loopdeck::model;

namespace {

// A random sparse problem: rows of 5..30 of 400 columns, labels from a hidden linear rule with
// 10 % of them flipped (so the optimum has many non-zero duals).
struct Problem {
    CsrMatrix x;
    std::vector<char> positive;
};

Problem randomProblem(std::size_t rows, unsigned seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<double> gauss;
    Problem p;
    p.x.columns = 400;
    std::vector<double> rule(p.x.columns);
    for (double &r : rule)
        r = gauss(rng);
    for (std::size_t i = 0; i < rows; ++i) {
        const int len = 5 + static_cast<int>(rng() % 26);
        double score = 0.0;
        std::vector<std::uint32_t> cols;
        for (int e = 0; e < len; ++e)
            cols.push_back(static_cast<std::uint32_t>(rng() % p.x.columns));
        std::sort(cols.begin(), cols.end());
        cols.erase(std::unique(cols.begin(), cols.end()), cols.end());
        for (std::uint32_t c : cols) {
            const float v = static_cast<float>(0.1 + (rng() % 100) / 100.0);
            p.x.column.push_back(c);
            p.x.value.push_back(v);
            score += v * rule[c];
        }
        p.x.start.push_back(p.x.column.size());
        p.positive.push_back((score > 0.0) != (rng() % 10 == 0) ? 1 : 0);
    }
    return p;
}

std::vector<std::uint32_t> allRows(std::size_t n)
{
    std::vector<std::uint32_t> r(n);
    for (std::size_t i = 0; i < n; ++i)
        r[i] = static_cast<std::uint32_t>(i);
    return r;
}

// Two classes told apart by one word each (in 60 % of their texts), a quarter of the labels
// flipped, and 20 words of a 4,000-word vocabulary per text: the larger C, the more the model
// learns the flipped labels from words no other text has, so accuracy falls along the C path.
QList<Example> noisyLabels(int count, unsigned seed)
{
    std::mt19937 rng(seed);
    QList<Example> out;
    for (int i = 0; i < count; ++i) {
        const bool positive = i % 2 == 0;
        QStringList words;
        if (rng() % 10 < 6)
            words << (positive ? u"splendid"_qs : u"dreadful"_qs);
        for (int w = 0; w < 20; ++w)
            words << QStringLiteral("w%1").arg(rng() % 4000);
        const bool flipped = rng() % 4 == 0;
        out.append({words.join(u' '), {(positive != flipped) ? u"pos"_qs : u"neg"_qs}});
    }
    return out;
}

double accuracyOf(const std::vector<QStringList> &predicted, const QList<Example> &data)
{
    int right = 0;
    for (qsizetype i = 0; i < data.size(); ++i)
        right += predicted[static_cast<std::size_t>(i)] == data[i].labels;
    return double(right) / double(data.size());
}

} // namespace

class TestTraining : public QObject
{
    Q_OBJECT

private slots:
    void warmStartReachesTheSameOptimum();
    void startFromASolutionIsThatSolution();
    void nbRatiosLeaveDenseColumnsOut();
    void outOfFoldPredictionsAreTheCrossValidations();
    void noOutOfFoldWithoutCrossValidation();
    void cPathClimbsWhileAccuracyHolds();
    void cPathStopsWhenAccuracyFalls();
    void outOfFoldForBinaryAndMultiLabel();
    void rebuiltSolversChooseAsKeptOnes();
    void sampledSelectionStillPredictsEveryExample();
    void noReportWhenCancelled();
    void trainerEvaluatesWithTheModelsFoldsFromKFoldBelow();
    void trainerNestsTheEvaluationBelowKFoldBelow();
    void givenSettingSkipsTheSampledSelection();
    void warmStartFromAnEarlierTrainingSavesPasses();
    void trainerKeepsTheChoiceWhileTheDataIsSimilar();
    void trainerWarmStartIgnoresRelabelledAndForeignTasks();
};

void TestTraining::warmStartReachesTheSameOptimum()
{
    const Problem p = randomProblem(600, 3);
    const auto rows = allRows(p.x.rows());
    DualSvm cold(p.x, rows, p.positive, nullptr, 1);
    QVERIFY(cold.solve(1.0, nullptr, 1e-6, 5000));
    // From the solution of a neighbouring problem (C = 0.3 on half the rows, the rest at zero).
    std::vector<std::uint32_t> half(rows.begin(), rows.begin() + 300);
    DualSvm part(p.x, half, std::vector<char>(p.positive.begin(), p.positive.begin() + 300), nullptr, 2);
    QVERIFY(part.solve(0.3, nullptr, 1e-6, 5000));
    std::vector<float> start(rows.size(), 0.0f);
    for (std::size_t k = 0; k < half.size(); ++k)
        start[k] = static_cast<float>(part.alpha()[k]);
    DualSvm warm(p.x, rows, p.positive, nullptr, 3);
    warm.startFrom(start);
    QVERIFY(warm.solve(1.0, nullptr, 1e-6, 5000));
    // The problem is strictly convex in the duals: one optimum, whatever the start.
    double maxDiff = 0.0;
    for (std::size_t r = 0; r < p.x.rows(); ++r)
        maxDiff = std::max(maxDiff, std::fabs(cold.decision(r) - warm.decision(r)));
    QVERIFY2(maxDiff < 1e-3, qPrintable(QString::number(maxDiff)));
    // And the warm start is nearer: fewer epochs than from zero.
    QVERIFY2(warm.lastEpochs() < cold.lastEpochs(),
             qPrintable(QStringLiteral("%1 vs %2").arg(warm.lastEpochs()).arg(cold.lastEpochs())));
}

void TestTraining::startFromASolutionIsThatSolution()
{
    const Problem p = randomProblem(300, 5);
    const auto rows = allRows(p.x.rows());
    std::vector<float> scale(p.x.columns);
    for (std::size_t j = 0; j < scale.size(); ++j)
        scale[j] = 0.5f + static_cast<float>(j % 7) / 7.0f;
    for (const float *s : {static_cast<const float *>(nullptr), static_cast<const float *>(scale.data())}) {
        DualSvm a(p.x, rows, p.positive, s, 1);
        QVERIFY(a.solve(2.0, nullptr, 1e-4, 5000));
        std::vector<float> alpha(a.alpha().begin(), a.alpha().end());
        DualSvm b(p.x, rows, p.positive, s, 9);
        b.startFrom(alpha);
        // w and b rebuilt from the duals: the same decisions (up to the duals' float rounding).
        for (std::size_t r = 0; r < p.x.rows(); ++r)
            QVERIFY2(std::fabs(a.decision(r) - b.decision(r)) < 1e-4, qPrintable(QString::number(r)));
        QVERIFY(b.solve(2.0, nullptr, 1e-4, 5000));
        QVERIFY2(b.lastEpochs() <= 3, qPrintable(QString::number(b.lastEpochs())));
    }
    // Negative, NaN or missing duals start at zero; extra ones are ignored.
    DualSvm c(p.x, rows, p.positive, nullptr, 1);
    c.startFrom({-1.0f, std::nanf(""), 0.0f});
    QCOMPARE(c.bias(), 0.0);
    for (std::size_t r = 0; r < p.x.rows(); ++r)
        QCOMPARE(c.decision(r), 0.0);
}

void TestTraining::nbRatiosLeaveDenseColumnsOut()
{
    // The same rows with 5 dense columns appended: the sparse ratios are those of the matrix
    // without them, the dense ones 1.
    const Problem p = randomProblem(200, 7);
    CsrMatrix wide;
    wide.columns = p.x.columns + 5;
    for (std::size_t r = 0; r < p.x.rows(); ++r) {
        for (std::size_t e = p.x.start[r]; e < p.x.start[r + 1]; ++e) {
            wide.column.push_back(p.x.column[e]);
            wide.value.push_back(p.x.value[e]);
        }
        for (std::uint32_t d = 0; d < 5; ++d) {
            wide.column.push_back(static_cast<std::uint32_t>(p.x.columns) + d);
            wide.value.push_back(0.3f);
        }
        wide.start.push_back(wide.column.size());
    }
    const auto rows = allRows(p.x.rows());
    const std::vector<float> narrow = nbRatios(p.x, rows, p.positive);
    const std::vector<float> limited = nbRatios(wide, rows, p.positive, p.x.columns);
    QCOMPARE(limited.size(), wide.columns);
    for (std::size_t j = 0; j < p.x.columns; ++j)
        QCOMPARE(limited[j], narrow[j]);
    for (std::size_t j = p.x.columns; j < wide.columns; ++j)
        QCOMPARE(limited[j], 1.0f);
    // Counting every column shifts the sparse ones (what the limit is for).
    const std::vector<float> all = nbRatios(wide, rows, p.positive);
    bool shifted = false;
    for (std::size_t j = 0; j < p.x.columns && !shifted; ++j)
        shifted = all[j] != narrow[j];
    QVERIFY(shifted);
}

void TestTraining::outOfFoldPredictionsAreTheCrossValidations()
{
    // Three classes: temperature scaling keeps the arg-max, so the out-of-fold labels score
    // exactly the accuracy the cross-validation chose the setting by.
    const auto data = testdata::overlappingTopics(60, 35);
    TrainReport report;
    QString error;
    const auto model = TextClassifier::train(data, {}, &error, {}, {}, &report);
    QVERIFY2(model, qPrintable(error));
    QCOMPARE(report.outOfFold.size(), std::size_t(data.size()));
    for (const QStringList &labels : report.outOfFold) {
        QCOMPARE(labels.size(), 1);
        QVERIFY(model->classes().contains(labels.first()));
    }
    QCOMPARE(accuracyOf(report.outOfFold, data), model->selection().cvAccuracy);
    QVERIFY(model->selection().cvAccuracy < 1.0); // overlapping topics: some are wrong
    QVERIFY(report.cValuesTried >= 1 && report.cValuesTried <= 4);
    // The same run without a report trains the same model.
    const auto again = TextClassifier::train(data, {}, &error);
    QVERIFY(again);
    QCOMPARE(again->toBytes(), model->toBytes());
}

void TestTraining::noOutOfFoldWithoutCrossValidation()
{
    const QList<Example> tiny = {{u"good"_qs, {u"pos"_qs}}, {u"bad"_qs, {u"neg"_qs}}, {u"fine"_qs, {u"pos"_qs}}};
    TrainReport report;
    report.outOfFold.resize(7); // left over from an earlier use: cleared
    report.cValuesTried = 9;
    QString error;
    QVERIFY2(TextClassifier::train(tiny, {}, &error, {}, {}, &report), qPrintable(error));
    QVERIFY(report.outOfFold.empty());
    QCOMPARE(report.cValuesTried, 0);
}

void TestTraining::cPathClimbsWhileAccuracyHolds()
{
    // Separable topics: every C is as accurate as the one before, so the whole grid is tried.
    const auto data = testdata::topicSentences(40, 11);
    TrainReport report;
    QString error;
    QVERIFY2(TextClassifier::train(data, {}, &error, {}, {}, &report), qPrintable(error));
    QCOMPARE(report.cValuesTried, 4);
    // A fixed C: one value, no path.
    TrainOptions fixed;
    fixed.c = 1.0;
    QVERIFY2(TextClassifier::train(data, fixed, &error, {}, {}, &report), qPrintable(error));
    QCOMPARE(report.cValuesTried, 1);
}

void TestTraining::cPathStopsWhenAccuracyFalls()
{
    const auto data = noisyLabels(600, 4);
    TrainReport report;
    QString error;
    const auto model = TextClassifier::train(data, {}, &error, {}, {}, &report);
    QVERIFY2(model, qPrintable(error));
    QVERIFY2(report.cValuesTried < 4, qPrintable(QString::number(report.cValuesTried)));
    // The choice is among the C values tried.
    QVERIFY(model->selection().c <= 0.6);
}

void TestTraining::outOfFoldForBinaryAndMultiLabel()
{
    // Binary with more than 1,000 examples: Platt scaling with a bias, fitted per fold on the
    // other folds' values.
    const auto binary = noisyLabels(1200, 9);
    TrainReport report;
    QString error;
    const auto model = TextClassifier::train(binary, {}, &error, {}, {}, &report);
    QVERIFY2(model, qPrintable(error));
    QCOMPARE(report.outOfFold.size(), std::size_t(binary.size()));
    for (const QStringList &labels : report.outOfFold)
        QVERIFY(labels == QStringList{u"pos"_qs} || labels == QStringList{u"neg"_qs});
    const double acc = accuracyOf(report.outOfFold, binary);
    QVERIFY2(acc > 0.6 && qAbs(acc - model->selection().cvAccuracy) < 0.05,
             qPrintable(QStringLiteral("%1 vs %2").arg(acc).arg(model->selection().cvAccuracy)));
    // Multi-label: any number of labels per example, each from the classes.
    TrainOptions multi;
    multi.multiLabel = true;
    const auto data = testdata::topicSentences(40, 3, true);
    QVERIFY2(TextClassifier::train(data, multi, &error, {}, {}, &report), qPrintable(error));
    QCOMPARE(report.outOfFold.size(), std::size_t(data.size()));
    int multiple = 0;
    for (const QStringList &labels : report.outOfFold) {
        for (const QString &l : labels)
            QVERIFY((QStringList{u"food"_qs, u"sport"_qs, u"tech"_qs}).contains(l));
        multiple += labels.size() > 1;
    }
    QVERIFY(multiple > 0);
}

void TestTraining::rebuiltSolversChooseAsKeptOnes()
{
    const auto data = testdata::overlappingTopics(80, 21);
    TrainReport kept, rebuilt;
    TrainOptions small;
    small.cvSolverMemory = 1; // nothing fits: every C rebuilds its solvers from their duals
    QString error;
    const auto a = TextClassifier::train(data, {}, &error, {}, {}, &kept);
    const auto b = TextClassifier::train(data, small, &error, {}, {}, &rebuilt);
    QVERIFY(a && b);
    // A rebuilt solver starts from its float-rounded duals with a fresh visiting order, so it
    // stops at a slightly different point within the tolerance: close, not identical.
    QVERIFY2(qAbs(b->selection().cvAccuracy - a->selection().cvAccuracy) <= 0.03,
             qPrintable(QStringLiteral("%1 vs %2").arg(b->selection().cvAccuracy).arg(a->selection().cvAccuracy)));
    QCOMPARE(rebuilt.outOfFold.size(), kept.outOfFold.size());
    QVERIFY(qAbs(accuracyOf(rebuilt.outOfFold, data) - accuracyOf(kept.outOfFold, data)) <= 0.03);
    QVERIFY(rebuilt.cValuesTried >= 1 && rebuilt.cValuesTried <= 4);
    // Deterministic either way.
    const auto c = TextClassifier::train(data, small, &error);
    QVERIFY(c);
    QCOMPARE(c->toBytes(), b->toBytes());
}

void TestTraining::sampledSelectionStillPredictsEveryExample()
{
    // A work budget far below the data: C and the weighting are chosen on a sample, then the
    // chosen setting is cross-validated on all examples (calibration, out-of-fold labels).
    const auto data = testdata::overlappingTopics(700, 5);
    QVERIFY(data.size() >= 2000);
    TrainOptions options;
    options.cvWorkBudget = 10'000;
    TrainReport report;
    QString error;
    const auto model = TextClassifier::train(data, options, &error, {}, {}, &report);
    QVERIFY2(model, qPrintable(error));
    QCOMPARE(report.outOfFold.size(), std::size_t(data.size()));
    QVERIFY2(report.selectionExamples > 0 && report.selectionExamples < data.size(), qPrintable(QString::number(report.selectionExamples)));
    QCOMPARE(report.solution.foldOf.size(), std::size_t(data.size())); // from the run on all examples
    const double acc = accuracyOf(report.outOfFold, data);
    QVERIFY2(acc > 0.6, qPrintable(QString::number(acc)));
    const auto again = TextClassifier::train(data, options, &error);
    QVERIFY(again);
    QCOMPARE(again->toBytes(), model->toBytes());
    // The sample's choice generalises: close to the full selection's accuracy.
    TrainReport full;
    const auto whole = TextClassifier::train(data, {}, &error, {}, {}, &full);
    QVERIFY(whole);
    QCOMPARE(full.selectionExamples, int(data.size()));
    QVERIFY2(qAbs(acc - accuracyOf(full.outOfFold, data)) < 0.05, qPrintable(QString::number(acc)));
}

void TestTraining::noReportWhenCancelled()
{
    const auto data = testdata::overlappingTopics(60, 35);
    TrainReport report;
    report.cValuesTried = 7;
    int calls = 0;
    QString error;
    const auto model = TextClassifier::train(data, {}, &error, {}, [&](double p) { return ++calls < 20 || p < 0; }, &report);
    QVERIFY(!model);
    QVERIFY(calls >= 20);
    QVERIFY(report.outOfFold.empty());
    QCOMPARE(report.cValuesTried, 0);
}

void TestTraining::trainerEvaluatesWithTheModelsFoldsFromKFoldBelow()
{
    using loopdeck::loop::Trainer;
    loopdeck::loop::TrainingInput input;
    input.examples = testdata::overlappingTopics(Trainer::kKFoldBelow / 3 + 1, 8);
    QVERIFY(input.examples.size() >= Trainer::kKFoldBelow);
    loopdeck::loop::TrainingControl control;
    const auto out = Trainer::train(input, &control);
    QVERIFY2(out.ok(), qPrintable(out.ok() ? QString() : out.error()));
    const auto &o = out.value();
    QCOMPARE(o.metrics.value(u"evaluation"_qs).toString(), u"stratified 3-fold cross-validation"_qs);
    QCOMPARE(o.outOfFold.size(), std::size_t(input.examples.size()));
    std::vector<QStringList> predicted;
    for (const auto &p : o.outOfFold) {
        QVERIFY(p.has_value());
        predicted.push_back(*p);
    }
    // The reported accuracy is the out-of-fold one, which is the model's cross-validated one.
    QCOMPARE(o.metrics.value(u"accuracy"_qs).toDouble(), accuracyOf(predicted, input.examples));
    QCOMPARE(o.metrics.value(u"accuracy"_qs).toDouble(), o.classifier->selection().cvAccuracy);
    QCOMPARE(o.metrics.value(u"examples"_qs).toInt(), int(input.examples.size()));
    QCOMPARE(control.progress.load(), 1.0);
}

void TestTraining::trainerNestsTheEvaluationBelowKFoldBelow()
{
    using loopdeck::loop::Trainer;
    loopdeck::loop::TrainingInput input;
    input.examples = testdata::overlappingTopics(100, 8);
    QVERIFY(input.examples.size() < Trainer::kKFoldBelow);
    loopdeck::loop::TrainingControl control;
    const auto out = Trainer::train(input, &control);
    QVERIFY2(out.ok(), qPrintable(out.ok() ? QString() : out.error()));
    const auto &o = out.value();
    QCOMPARE(o.metrics.value(u"evaluation"_qs).toString(),
             QStringLiteral("stratified %1-fold cross-validation").arg(Trainer::kFolds));
    for (const auto &p : o.outOfFold)
        QVERIFY(p.has_value());
    // Nested: the folds' models chose their own settings, so the evaluation is not the final
    // model's cross-validated accuracy in general; it is measured on every example.
    std::vector<QStringList> predicted;
    for (const auto &p : o.outOfFold)
        predicted.push_back(*p);
    QCOMPARE(o.metrics.value(u"accuracy"_qs).toDouble(), accuracyOf(predicted, input.examples));
}

void TestTraining::givenSettingSkipsTheSampledSelection()
{
    // With C and the weighting given there is nothing to select: no cross-validation on a sample
    // before the one on all examples. The model is the one a budget-free run makes.
    const auto data = testdata::overlappingTopics(700, 5);
    TrainOptions fixed;
    fixed.c = 1.5;
    fixed.weighting = FeatureWeighting::Plain;
    fixed.cvWorkBudget = 10'000;
    TrainReport tight, free;
    QString error;
    const auto a = TextClassifier::train(data, fixed, &error, {}, {}, &tight);
    fixed.cvWorkBudget = std::size_t(1) << 40;
    const auto b = TextClassifier::train(data, fixed, &error, {}, {}, &free);
    QVERIFY(a && b);
    QCOMPARE(a->toBytes(), b->toBytes());
    QCOMPARE(tight.solverVisits, free.solverVisits);
    QCOMPARE(tight.cValuesTried, 1);
    QCOMPARE(tight.selectionExamples, 0); // nothing was chosen
}

void TestTraining::warmStartFromAnEarlierTrainingSavesPasses()
{
    // A training on 97 % of the examples hands its duals to one on all of them (C and weighting
    // kept, as the loop does): less solver work (the runs are deterministic, so an ignored warm
    // start would do exactly the same work), less still with the earlier folds' own solutions,
    // and the same model up to the tolerance.
    auto data = testdata::overlappingTopics(700, 21);
    const qsizetype earlier = data.size() * 97 / 100;
    TrainReport first;
    QString error;
    const auto previous = TextClassifier::train(data.mid(0, earlier), {}, &error, {}, {}, &first);
    QVERIFY2(previous, qPrintable(error));
    QCOMPARE(first.solution.final.size(), std::size_t(2));
    QCOMPARE(first.solution.foldOf.size(), std::size_t(earlier));
    QCOMPARE(first.solution.folds.size(), std::size_t(3));
    TrainOptions keep;
    keep.c = previous->selection().c;
    keep.weighting = previous->selection().weighting;
    // The earlier solutions, extended by the new examples (at 0), in the earlier folds (the new
    // examples spread over them).
    WarmStart start = first.solution;
    bool any = false;
    const auto extend = [&](WarmStart::Parts &parts) {
        for (auto &part : parts) {
            for (auto &column : part) {
                if (column.empty())
                    continue;
                QCOMPARE(column.size(), std::size_t(earlier));
                any = any || std::any_of(column.begin(), column.end(), [](float a) { return a > 0.0f; });
                column.resize(std::size_t(data.size()), 0.0f);
            }
        }
    };
    extend(start.final);
    for (auto &fold : start.folds)
        extend(fold);
    for (qsizetype i = earlier; i < data.size(); ++i)
        start.foldOf.push_back(int(i % 3));
    QVERIFY(any);
    TrainReport cold, finalOnly, warm;
    const auto coldModel = TextClassifier::train(data, keep, &error, {}, {}, &cold);
    WarmStart onlyFinal;
    onlyFinal.final = start.final;
    keep.warmStart = std::make_shared<WarmStart>(onlyFinal);
    const auto finalOnlyModel = TextClassifier::train(data, keep, &error, {}, {}, &finalOnly);
    keep.warmStart = std::make_shared<WarmStart>(start);
    const auto warmModel = TextClassifier::train(data, keep, &error, {}, {}, &warm);
    QVERIFY(coldModel && finalOnlyModel && warmModel);
    QVERIFY2(finalOnly.solverVisits < cold.solverVisits,
             qPrintable(QStringLiteral("%1 vs %2").arg(finalOnly.solverVisits).arg(cold.solverVisits)));
    // The folds' own solutions are closer starts than the final model's.
    QVERIFY2(warm.solverVisits < finalOnly.solverVisits,
             qPrintable(QStringLiteral("%1 vs %2").arg(warm.solverVisits).arg(finalOnly.solverVisits)));
    QCOMPARE(warm.solution.foldOf, start.foldOf); // the folds given are the folds used
    QVERIFY(qAbs(accuracyOf(warm.outOfFold, data) - accuracyOf(cold.outOfFold, data)) <= 0.02);
    int agree = 0;
    for (const Example &e : data)
        agree += warmModel->predict(e.text).labels == coldModel->predict(e.text).labels;
    QVERIFY2(agree >= data.size() * 99 / 100, qPrintable(QString::number(agree)));
    // A warm start shaped for other examples is ignored, not misread.
    keep.warmStart = std::make_shared<WarmStart>(first.solution);
    TrainReport ignored;
    const auto unshaped = TextClassifier::train(data, keep, &error, {}, {}, &ignored);
    QVERIFY(unshaped);
    QCOMPARE(unshaped->toBytes(), coldModel->toBytes());
}

namespace {

loopdeck::loop::TrainingInput keyedInput(const QList<Example> &examples)
{
    loopdeck::loop::TrainingInput input;
    input.examples = examples;
    for (qsizetype i = 0; i < examples.size(); ++i)
        input.exampleTasks.append(1000 + 3 * i);
    return input;
}

} // namespace

void TestTraining::trainerKeepsTheChoiceWhileTheDataIsSimilar()
{
    using loopdeck::loop::Trainer;
    const auto data = testdata::overlappingTopics(Trainer::kKFoldBelow / 3 + 30, 8);
    const qsizetype first = data.size() - 40;
    QVERIFY(first >= Trainer::kKFoldBelow);
    loopdeck::loop::TrainingControl control;
    const auto v1 = Trainer::train(keyedInput(data.mid(0, first)), &control);
    QVERIFY2(v1.ok(), qPrintable(v1.ok() ? QString() : v1.error()));
    const auto &warm = v1.value().warm;
    QVERIFY(warm);
    QCOMPARE(warm->selectedOn, int(first));
    QCOMPARE(warm->c, v1.value().classifier->selection().c);
    QCOMPARE(warm->labels.size(), first);
    QCOMPARE(v1.value().metrics.value(u"warm_start"_qs).toObject().value(u"examples"_qs).toInt(), 0);

    // 40 more examples: the choice is kept, every earlier task starts from its dual solution.
    auto next = keyedInput(data);
    next.warm = warm;
    const auto v2 = Trainer::train(next, &control);
    QVERIFY(v2.ok());
    const QJsonObject ws = v2.value().metrics.value(u"warm_start"_qs).toObject();
    QCOMPARE(ws.value(u"examples"_qs).toInt(), int(first));
    QCOMPARE(ws.value(u"selected_on"_qs).toInt(), int(first));
    QCOMPARE(v2.value().classifier->selection().c, warm->c);
    QCOMPARE(v2.value().classifier->selection().weighting, warm->weighting);
    QCOMPARE(v2.value().warm->selectedOn, int(first)); // carried: not chosen again
    // Every earlier task stayed in its fold; the 40 new ones spread over the folds.
    const std::vector<int> &before = warm->solution.foldOf, &after = v2.value().warm->solution.foldOf;
    QCOMPARE(before.size(), std::size_t(first));
    QCOMPARE(after.size(), std::size_t(data.size()));
    QVERIFY(std::equal(before.begin(), before.end(), after.begin()));
    std::vector<int> newPerFold(3, 0);
    for (std::size_t i = std::size_t(first); i < after.size(); ++i)
        ++newPerFold[std::size_t(after[i])];
    QVERIFY2(*std::min_element(newPerFold.begin(), newPerFold.end()) >= 10,
             qPrintable(QStringLiteral("%1 %2 %3").arg(newPerFold[0]).arg(newPerFold[1]).arg(newPerFold[2])));
    QCOMPARE(v2.value().outOfFold.size(), std::size_t(data.size()));
    // Cold, the same data: the same evaluation up to the solver's tolerance (that the warm start
    // saves work is warmStartFromAnEarlierTrainingSavesPasses's, with the setting fixed).
    const auto cold = Trainer::train(keyedInput(data), &control);
    QVERIFY(cold.ok());
    QVERIFY(qAbs(v2.value().metrics.value(u"accuracy"_qs).toDouble() - cold.value().metrics.value(u"accuracy"_qs).toDouble()) <= 0.02);

    // Far more examples than the choice was made on: chosen again.
    auto more = data;
    more += testdata::overlappingTopics(Trainer::kKFoldBelow / 6 + 1, 9);
    QVERIFY(more.size() > first * Trainer::kReselectAfter);
    auto grown = keyedInput(more);
    grown.warm = warm;
    const auto v3 = Trainer::train(grown, &control);
    QVERIFY(v3.ok());
    QCOMPARE(v3.value().metrics.value(u"warm_start"_qs).toObject().value(u"selected_on"_qs).toInt(), int(more.size()));
    QCOMPARE(v3.value().metrics.value(u"warm_start"_qs).toObject().value(u"examples"_qs).toInt(), 0);
    QCOMPARE(v3.value().warm->selectedOn, int(more.size()));
}

void TestTraining::trainerWarmStartIgnoresRelabelledAndForeignTasks()
{
    using loopdeck::loop::Trainer;
    const auto data = testdata::overlappingTopics(Trainer::kKFoldBelow / 3 + 1, 12);
    loopdeck::loop::TrainingControl control;
    const auto v1 = Trainer::train(keyedInput(data), &control);
    QVERIFY(v1.ok() && v1.value().warm);
    // Ten tasks relabelled (a dual belongs to a label), and every task id moved by one for the
    // last 100 (another task's dual is no start for this one): still mostly the same examples.
    auto changed = keyedInput(data);
    const QStringList classes = v1.value().classifier->classes();
    for (int i = 0; i < 10; ++i) {
        QStringList &labels = changed.examples[i].labels;
        labels = {classes.at((classes.indexOf(labels.first()) + 1) % classes.size())};
    }
    for (qsizetype i = changed.exampleTasks.size() - 100; i < changed.exampleTasks.size(); ++i)
        changed.exampleTasks[i] += 1;
    changed.warm = v1.value().warm;
    const auto v2 = Trainer::train(changed, &control);
    QVERIFY(v2.ok());
    QCOMPARE(v2.value().metrics.value(u"warm_start"_qs).toObject().value(u"examples"_qs).toInt(), int(data.size()) - 110);
    // Other texts under the same tasks (another data field, a re-imported project) for a third
    // of them: too little is the same, so C and the weighting are chosen again, from scratch.
    auto retexted = keyedInput(data);
    for (qsizetype i = 0; i < retexted.examples.size(); i += 3)
        retexted.examples[i].text += u" extra words"_qs;
    retexted.warm = v1.value().warm;
    const auto v5 = Trainer::train(retexted, &control);
    QVERIFY(v5.ok());
    QCOMPARE(v5.value().metrics.value(u"warm_start"_qs).toObject().value(u"examples"_qs).toInt(), 0);
    QCOMPARE(v5.value().metrics.value(u"warm_start"_qs).toObject().value(u"selected_on"_qs).toInt(), int(data.size()));
    // A choice only (after a restart: the active version's C and weighting, no solutions): kept
    // for mostly the same number of examples, the solvers start from zero.
    auto choice = std::make_shared<loopdeck::loop::WarmState>();
    choice->classes = v1.value().warm->classes;
    choice->c = 0.6;
    choice->weighting = FeatureWeighting::NaiveBayes;
    choice->selectedOn = int(data.size()) - 30;
    auto restarted = keyedInput(data);
    restarted.warm = choice;
    const auto v6 = Trainer::train(restarted, &control);
    QVERIFY(v6.ok());
    QCOMPARE(v6.value().classifier->selection().c, 0.6);
    QCOMPARE(v6.value().classifier->selection().weighting, FeatureWeighting::NaiveBayes);
    QCOMPARE(v6.value().metrics.value(u"warm_start"_qs).toObject().value(u"examples"_qs).toInt(), 0);
    QCOMPARE(v6.value().metrics.value(u"warm_start"_qs).toObject().value(u"selected_on"_qs).toInt(), int(data.size()) - 30);
    // Other classes: no warm start at all.
    auto renamed = keyedInput(data);
    for (Example &e : renamed.examples)
        e.labels = {e.labels.first() + u"-x"_qs};
    renamed.warm = v1.value().warm;
    const auto v3 = Trainer::train(renamed, &control);
    QVERIFY(v3.ok());
    QCOMPARE(v3.value().metrics.value(u"warm_start"_qs).toObject().value(u"examples"_qs).toInt(), 0);
    // Without task ids, nothing to key the duals by: no state for a next run.
    loopdeck::loop::TrainingInput plain;
    plain.examples = data;
    const auto v4 = Trainer::train(plain, &control);
    QVERIFY(v4.ok());
    QVERIFY(!v4.value().warm);
}

QTEST_GUILESS_MAIN(TestTraining)
#include "tst_training.moc"
