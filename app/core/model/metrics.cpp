#include "core/model/metrics.h"

#include "core/model/calibration.h"

#include <QHash>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

namespace loopdeck::model {
namespace {

double ratio(int num, int den)
{
    return den > 0 ? static_cast<double>(num) / den : 0.0;
}

double f1Of(double p, double r)
{
    return (p + r) > 0.0 ? 2.0 * p * r / (p + r) : 0.0;
}

bool sameSet(QStringList a, QStringList b)
{
    a.sort();
    a.removeDuplicates();
    b.sort();
    b.removeDuplicates();
    return a == b;
}

std::optional<Metrics> fail(QString *error, const QString &why)
{
    if (error)
        *error = why;
    return std::nullopt;
}

QStringList classesOf(const QList<Example> &examples)
{
    QStringList classes;
    for (const Example &e : examples)
        classes.append(e.labels);
    classes.sort();
    classes.removeDuplicates();
    return classes;
}

} // namespace

Metrics computeMetrics(const QStringList &classes, const QList<QStringList> &truth,
                       const QList<QStringList> &predicted, bool multiLabel)
{
    Metrics m;
    m.classes = classes;
    m.multiLabel = multiLabel;
    const qsizetype n = std::min(truth.size(), predicted.size());
    m.examples = static_cast<int>(n);
    const auto k = static_cast<std::size_t>(classes.size());
    QHash<QString, int> index;
    for (qsizetype i = 0; i < classes.size(); ++i)
        index.insert(classes[i], static_cast<int>(i));

    std::vector<int> tp(k, 0), fp(k, 0), fn(k, 0);
    int correct = 0;
    if (multiLabel)
        m.confusion.assign(k, std::vector<int>(4, 0));
    else
        m.confusion.assign(k, std::vector<int>(k, 0));

    for (qsizetype i = 0; i < n; ++i) {
        const QStringList &t = truth[i];
        const QStringList &p = predicted[i];
        if (multiLabel) {
            if (sameSet(t, p))
                ++correct;
            for (std::size_t c = 0; c < k; ++c) {
                const QString &cls = classes[static_cast<qsizetype>(c)];
                const bool inT = t.contains(cls);
                const bool inP = p.contains(cls);
                tp[c] += inT && inP;
                fp[c] += !inT && inP;
                fn[c] += inT && !inP;
                ++m.confusion[c][(inT ? 2 : 0) + (inP ? 1 : 0)];
            }
        } else {
            const QString tl = t.value(0);
            const QString pl = p.value(0);
            if (!t.isEmpty() && tl == pl)
                ++correct;
            const int ti = index.value(tl, -1);
            const int pi = index.value(pl, -1);
            if (ti >= 0 && pi >= 0)
                ++m.confusion[static_cast<std::size_t>(ti)][static_cast<std::size_t>(pi)];
            if (ti >= 0 && ti == pi) {
                ++tp[static_cast<std::size_t>(ti)];
            } else {
                if (ti >= 0)
                    ++fn[static_cast<std::size_t>(ti)];
                if (pi >= 0)
                    ++fp[static_cast<std::size_t>(pi)];
            }
        }
    }
    m.accuracy = ratio(correct, static_cast<int>(n));
    double f1Sum = 0.0;
    for (std::size_t c = 0; c < k; ++c) {
        ClassMetrics cm;
        cm.label = classes[static_cast<qsizetype>(c)];
        cm.precision = ratio(tp[c], tp[c] + fp[c]);
        cm.recall = ratio(tp[c], tp[c] + fn[c]);
        cm.f1 = f1Of(cm.precision, cm.recall);
        cm.support = tp[c] + fn[c];
        f1Sum += cm.f1;
        m.perClass.push_back(cm);
    }
    m.macroF1 = k > 0 ? f1Sum / static_cast<double>(k) : 0.0;
    return m;
}

void addCalibrationMetrics(Metrics &m, const QList<QStringList> &truth, const QList<Prediction> &predictions)
{
    const qsizetype n = std::min(truth.size(), predictions.size());
    std::vector<double> confidence;
    std::vector<char> correct;
    double brier = 0.0;
    for (qsizetype i = 0; i < n; ++i) {
        const Prediction &p = predictions[i];
        const QStringList &t = truth[i];
        for (const ClassScore &s : p.scores) {
            const double y = t.contains(s.label) ? 1.0 : 0.0;
            brier += (s.probability - y) * (s.probability - y);
            if (m.multiLabel) {
                confidence.push_back(s.probability);
                correct.push_back(y > 0.0 ? 1 : 0);
            }
        }
        if (!m.multiLabel && !p.scores.empty()) {
            confidence.push_back(p.scores.front().probability);
            correct.push_back(t.value(0) == p.scores.front().label ? 1 : 0);
        }
    }
    m.ece = expectedCalibrationError(confidence, correct, 10);
    m.brier = n > 0 ? brier / static_cast<double>(n) : 0.0;
}

std::vector<int> assignFolds(const QList<Example> &examples, int folds, quint32 seed)
{
    const auto n = static_cast<std::size_t>(examples.size());
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i)
        order[i] = i;
    std::mt19937 rng(seed);
    for (std::size_t i = n; i > 1; --i) {
        // Fisher-Yates with an explicit modulo-free draw (mt19937 output is standardised;
        // std::uniform_int_distribution is not).
        const std::uint64_t r = (static_cast<std::uint64_t>(rng()) * i) >> 32;
        std::swap(order[i - 1], order[static_cast<std::size_t>(r)]);
    }
    // Deal each class's shuffled examples round-robin over the folds (stratification).
    std::map<QString, int> nextFold;
    std::vector<int> fold(n, 0);
    int offset = 0;
    for (std::size_t idx : order) {
        const QString key = examples[static_cast<qsizetype>(idx)].labels.value(0);
        auto it = nextFold.find(key);
        if (it == nextFold.end()) {
            // Start each class at a different fold, so small classes don't all pile into fold 0.
            it = nextFold.emplace(key, offset).first;
            offset = (offset + 1) % std::max(folds, 1);
        }
        fold[idx] = it->second;
        it->second = (it->second + 1) % std::max(folds, 1);
    }
    return fold;
}

std::optional<Metrics> evaluateHoldout(const QList<Example> &examples, const TrainOptions &options,
                                       double testFraction, quint32 seed, QString *error)
{
    if (!(testFraction > 0.0 && testFraction < 1.0))
        return fail(error, QStringLiteral("The holdout fraction must be between 0 and 1."));
    if (examples.size() < 4)
        return fail(error, QStringLiteral("At least 4 examples are needed for a holdout evaluation (got %1).")
                               .arg(examples.size()));
    // Use k folds where fold 0 is the test part: k = round(1 / fraction).
    const int folds = std::max(2, static_cast<int>(std::lround(1.0 / testFraction)));
    const std::vector<int> fold = assignFolds(examples, folds, seed);
    QList<Example> trainSet, testSet;
    for (qsizetype i = 0; i < examples.size(); ++i)
        (fold[static_cast<std::size_t>(i)] == 0 ? testSet : trainSet).append(examples[i]);
    QString why;
    const auto model = TextClassifier::train(trainSet, options, &why);
    if (!model)
        return fail(error, QStringLiteral("The training part of the holdout split cannot be trained: %1").arg(why));
    QList<QStringList> truth, predicted;
    QList<Prediction> predictions;
    for (const Example &e : testSet) {
        truth.append(e.labels);
        predictions.append(model->predict(e.text));
        predicted.append(predictions.back().labels);
    }
    Metrics m = computeMetrics(classesOf(examples), truth, predicted, options.multiLabel);
    addCalibrationMetrics(m, truth, predictions);
    return m;
}

std::optional<Metrics> evaluateKFold(const QList<Example> &examples, const TrainOptions &options,
                                     int folds, quint32 seed, QString *error)
{
    if (folds < 2)
        return fail(error, QStringLiteral("k-fold evaluation needs at least 2 folds (got %1).").arg(folds));
    if (examples.size() < folds)
        return fail(error, QStringLiteral("%1-fold evaluation needs at least %1 examples (got %2).")
                               .arg(folds)
                               .arg(examples.size()));
    const std::vector<int> fold = assignFolds(examples, folds, seed);
    QList<QStringList> truth(examples.size()), predicted(examples.size());
    QList<Prediction> predictions(examples.size());
    for (int f = 0; f < folds; ++f) {
        QList<Example> trainSet;
        for (qsizetype i = 0; i < examples.size(); ++i)
            if (fold[static_cast<std::size_t>(i)] != f)
                trainSet.append(examples[i]);
        QString why;
        const auto model = TextClassifier::train(trainSet, options, &why);
        if (!model)
            return fail(error, QStringLiteral("Fold %1 of %2 cannot be trained: %3").arg(f + 1).arg(folds).arg(why));
        for (qsizetype i = 0; i < examples.size(); ++i) {
            if (fold[static_cast<std::size_t>(i)] != f)
                continue;
            truth[i] = examples[i].labels;
            predictions[i] = model->predict(examples[i].text);
            predicted[i] = predictions[i].labels;
        }
    }
    Metrics m = computeMetrics(classesOf(examples), truth, predicted, options.multiLabel);
    addCalibrationMetrics(m, truth, predictions);
    return m;
}

} // namespace loopdeck::model
