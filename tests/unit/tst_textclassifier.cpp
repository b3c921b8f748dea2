// Unit tests for loopdeck::model::TextClassifier and the evaluation helpers (metrics.h).
#include "core/model/calibration.h"
#include "core/model/metrics.h"
#include "core/model/textclassifier.h"
#include "syntheticdata.h"

#include <QElapsedTimer>
#include <QFuture>
#include <QTest>
#include <QtConcurrent/QtConcurrentRun>

using namespace loopdeck::model;

class TestTextClassifier : public QObject
{
    Q_OBJECT

private slots:
    void learnsTopics();
    void deterministic();
    void binary();
    void multiLabel();
    void errors_data();
    void errors();
    void predictUnknownText();
    void threadSafePredict();
    void predictLatency();
    void metricsByHand();
    void holdoutAndKFold();
    void overlappingVocabularies();
    void charGramsGeneraliseToUnseenForms();
    void selectionByCrossValidation();
    void selectionDeterministic();
    void fixedSettingsSkipTheGrid();
    void eceOnAKnownCase();
    void plattAndTemperatureRecoverKnownScales();
    void calibratedOnHoldout();
    void unlabeledTextsCountForIdf();
    void progressAndCancel();
};

void TestTextClassifier::learnsTopics()
{
    const auto train = testdata::topicSentences(60, 1);
    const auto test = testdata::topicSentences(20, 2);
    QString error;
    const auto model = TextClassifier::train(train, {}, &error);
    QVERIFY2(model, qPrintable(error));
    QCOMPARE(model->classes(), (QStringList{u"food"_qs, u"sport"_qs, u"tech"_qs}));
    QVERIFY(!model->isMultiLabel());
    int correct = 0;
    for (const Example &e : test) {
        const Prediction p = model->predict(e.text);
        QCOMPARE(p.labels.size(), 1);
        QCOMPARE(p.scores.size(), std::size_t(3));
        double sum = 0;
        for (std::size_t i = 0; i < p.scores.size(); ++i) {
            sum += p.scores[i].probability;
            if (i > 0)
                QVERIFY(p.scores[i - 1].probability >= p.scores[i].probability);
        }
        QVERIFY(qAbs(sum - 1.0) < 1e-6);
        QCOMPARE(p.labels.first(), p.scores.front().label);
        QCOMPARE(p.score, p.scores.front().probability);
        correct += p.labels.first() == e.labels.first();
    }
    QVERIFY2(correct >= test.size() * 9 / 10, qPrintable(QString::number(correct)));
    QCOMPARE(model->predict(u"the referee stopped the match"_qs).labels.first(), u"sport"_qs);
    QCOMPARE(model->predict(u"我的电脑软件"_qs).labels.first(), u"tech"_qs);
    QCOMPARE(model->trainingExamples(), int(train.size()));
    QVERIFY(model->featureCount() > 0);
}

void TestTextClassifier::deterministic()
{
    const auto data = testdata::topicSentences(40, 3);
    const auto a = TextClassifier::train(data, {}, nullptr);
    const auto b = TextClassifier::train(data, {}, nullptr);
    QVERIFY(a && b);
    QCOMPARE(a->toBytes(), b->toBytes());
    const QString text = u"new compiler for the team"_qs;
    QCOMPARE(a->predict(text).score, b->predict(text).score);
    // A different C gives a different model: the bytes comparison above is not vacuous.
    TrainOptions o;
    o.c = 0.5;
    const auto c = TextClassifier::train(data, o, nullptr);
    QVERIFY(c);
    QVERIFY(a->toBytes() != c->toBytes());
}

void TestTextClassifier::binary()
{
    QList<Example> data;
    for (const Example &e : testdata::topicSentences(40, 4))
        if (e.labels.first() != u"food")
            data.append(e);
    const auto model = TextClassifier::train(data, {}, nullptr);
    QVERIFY(model);
    QCOMPARE(model->classes(), (QStringList{u"sport"_qs, u"tech"_qs}));
    const Prediction s = model->predict(u"goal goal team coach"_qs);
    QCOMPARE(s.labels, QStringList{u"sport"_qs});
    QVERIFY(s.score > 0.5);
    QCOMPARE(s.scores.size(), std::size_t(2));
    QVERIFY(qAbs(s.scores[0].probability + s.scores[1].probability - 1.0) < 1e-9);
    QCOMPARE(model->predict(u"kernel server cpu"_qs).labels, QStringList{u"tech"_qs});
}

void TestTextClassifier::multiLabel()
{
    const auto data = testdata::topicSentences(80, 5, true);
    TrainOptions o;
    o.multiLabel = true;
    o.threshold = 0.4;
    QString error;
    const auto model = TextClassifier::train(data, o, &error);
    QVERIFY2(model, qPrintable(error));
    QVERIFY(model->isMultiLabel());
    const Prediction both = model->predict(u"pasta garlic recipe and the kernel server compiler"_qs);
    QVERIFY2(both.labels.contains(u"food"_qs) && both.labels.contains(u"tech"_qs),
             qPrintable(both.labels.join(u',')));
    QVERIFY(!both.labels.contains(u"sport"_qs));
    double mean = 0;
    for (const ClassScore &s : both.scores)
        if (both.labels.contains(s.label))
            mean += s.probability / both.labels.size();
    QVERIFY(qAbs(both.score - mean) < 1e-12);
    const Prediction one = model->predict(u"goal team coach referee"_qs);
    QCOMPARE(one.labels, QStringList{u"sport"_qs});
    // Examples without any label are allowed in multi-label training (negatives for all).
    QList<Example> withEmpty = data;
    withEmpty.append({u"nothing in particular"_qs, {}});
    QVERIFY(TextClassifier::train(withEmpty, o, nullptr));
}

void TestTextClassifier::errors_data()
{
    QTest::addColumn<QList<Example>>("examples");
    QTest::addColumn<bool>("multi");
    QTest::addColumn<double>("c");
    QTest::addColumn<QString>("expected");
    QTest::newRow("no data") << QList<Example>{} << false << 10.0 << u"no examples"_qs;
    QTest::newRow("one class") << QList<Example>{{u"a"_qs, {u"x"_qs}}, {u"b"_qs, {u"x"_qs}}} << false
                               << 10.0 << u"at least two different labels"_qs;
    QTest::newRow("two labels single")
        << QList<Example>{{u"a"_qs, {u"x"_qs, u"y"_qs}}, {u"b"_qs, {u"y"_qs}}} << false << 10.0
        << u"Example 1 has 2 labels"_qs;
    QTest::newRow("no label single") << QList<Example>{{u"a"_qs, {}}, {u"b"_qs, {u"y"_qs}}} << false
                                     << 10.0 << u"Example 1 has 0 labels"_qs;
    QTest::newRow("empty label") << QList<Example>{{u"a"_qs, {u""_qs}}, {u"b"_qs, {u"y"_qs}}} << false
                                 << 10.0 << u"empty label"_qs;
    QTest::newRow("no labels multi") << QList<Example>{{u"a"_qs, {}}, {u"b"_qs, {}}} << true << 10.0
                                     << u"no labels"_qs;
    QTest::newRow("bad C") << QList<Example>{{u"a"_qs, {u"x"_qs}}, {u"b"_qs, {u"y"_qs}}} << false << -1.0
                           << u"positive number"_qs;
}

void TestTextClassifier::errors()
{
    QFETCH(QList<Example>, examples);
    QFETCH(bool, multi);
    QFETCH(double, c);
    QFETCH(QString, expected);
    TrainOptions o;
    o.multiLabel = multi;
    o.c = c;
    QString error;
    QVERIFY(!TextClassifier::train(examples, o, &error));
    QVERIFY2(error.contains(expected), qPrintable(error));
}

void TestTextClassifier::predictUnknownText()
{
    const auto model = TextClassifier::train(testdata::topicSentences(20, 6), {}, nullptr);
    QVERIFY(model);
    for (const QString &text : {u""_qs, u"zzzz qqqq"_qs, u"!!!"_qs}) {
        const Prediction p = model->predict(text);
        QCOMPARE(p.labels.size(), 1);
        QVERIFY(p.score > 0.0 && p.score < 1.0);
    }
}

void TestTextClassifier::threadSafePredict()
{
    const auto model = TextClassifier::train(testdata::topicSentences(40, 8), {}, nullptr);
    QVERIFY(model);
    const auto test = testdata::topicSentences(30, 9);
    QList<QString> expected;
    for (const Example &e : test)
        expected.append(model->predict(e.text).labels.first() + QString::number(model->predict(e.text).score));
    QList<QFuture<int>> runs;
    for (int t = 0; t < 4; ++t)
        runs.append(QtConcurrent::run([&] {
            int mismatches = 0;
            for (int round = 0; round < 5; ++round)
                for (qsizetype i = 0; i < test.size(); ++i) {
                    const Prediction p = model->predict(test[i].text);
                    mismatches += (p.labels.first() + QString::number(p.score)) != expected[i];
                }
            return mismatches;
        }));
    for (auto &r : runs)
        QCOMPARE(r.result(), 0);
}

void TestTextClassifier::predictLatency()
{
    const auto model = TextClassifier::train(testdata::topicSentences(100, 10), {}, nullptr);
    QVERIFY(model);
    const QString text = u"We really saw a new compiler and the server today, very spicy noodles"_qs;
    QElapsedTimer timer;
    timer.start();
    const int n = 2000;
    double sink = 0;
    for (int i = 0; i < n; ++i)
        sink += model->predict(text).score;
    const double micros = timer.nsecsElapsed() / 1000.0 / n;
    // Informational only: speed is measured by tests/bench/train_bench.sh (Release), not asserted here.
    qInfo("predict: %.1f us per short text (this build)", micros);
    QVERIFY(sink > 0);
}

void TestTextClassifier::metricsByHand()
{
    const QStringList classes{u"a"_qs, u"b"_qs, u"c"_qs};
    const QList<QStringList> truth{{u"a"_qs}, {u"a"_qs}, {u"b"_qs}, {u"c"_qs}, {u"c"_qs}};
    const QList<QStringList> pred{{u"a"_qs}, {u"b"_qs}, {u"b"_qs}, {u"c"_qs}, {u"a"_qs}};
    const Metrics m = computeMetrics(classes, truth, pred, false);
    QCOMPARE(m.examples, 5);
    QCOMPARE(m.accuracy, 3.0 / 5);
    // a: tp1 fp1 fn1 -> p .5 r .5; b: tp1 fp1 fn0 -> p .5 r 1; c: tp1 fp0 fn1 -> p 1 r .5
    QCOMPARE(m.perClass[0].precision, 0.5);
    QCOMPARE(m.perClass[1].recall, 1.0);
    QCOMPARE(m.perClass[2].precision, 1.0);
    QCOMPARE(m.perClass[2].support, 2);
    const double f1b = 2 * 0.5 * 1.0 / 1.5;
    const double f1c = f1b;
    QVERIFY(qAbs(m.macroF1 - (0.5 + f1b + f1c) / 3) < 1e-12);
    QCOMPARE(m.confusion[0], (std::vector<int>{1, 1, 0}));
    QCOMPARE(m.confusion[2], (std::vector<int>{1, 0, 1}));

    const Metrics ml = computeMetrics(classes, {{u"a"_qs, u"b"_qs}, {u"c"_qs}}, {{u"b"_qs, u"a"_qs}, {}}, true);
    QCOMPARE(ml.accuracy, 0.5);
    QCOMPARE(ml.perClass[2].recall, 0.0);
    QCOMPARE(ml.confusion[2], (std::vector<int>{1, 0, 1, 0})); // tn fp fn tp
}

void TestTextClassifier::holdoutAndKFold()
{
    const auto data = testdata::topicSentences(50, 11);
    QString error;
    const auto h1 = evaluateHoldout(data, {}, 0.2, 42, &error);
    QVERIFY2(h1, qPrintable(error));
    QCOMPARE(h1->examples, 30); // stratified: 10 of each class's 50
    QVERIFY(h1->accuracy > 0.8);
    const auto h2 = evaluateHoldout(data, {}, 0.2, 42, &error);
    QCOMPARE(h2->accuracy, h1->accuracy);
    const auto k = evaluateKFold(data, {}, 5, 42, &error);
    QVERIFY2(k, qPrintable(error));
    QCOMPARE(k->examples, 150);
    for (const ClassMetrics &c : k->perClass)
        QCOMPARE(c.support, 50);
    QVERIFY(k->macroF1 > 0.8);
    // Fold assignment depends on the seed but is stable for one seed.
    QCOMPARE(assignFolds(data, 5, 1), assignFolds(data, 5, 1));
    QVERIFY(assignFolds(data, 5, 1) != assignFolds(data, 5, 2));
    QVERIFY(!evaluateKFold(data.mid(0, 3), {}, 5, 42, &error));
    QVERIFY(error.contains(u"at least 5"));
}

namespace {

double accuracyOn(const TextClassifier &model, const QList<Example> &test)
{
    int correct = 0;
    for (const Example &e : test)
        correct += model.predict(e.text).labels.value(0) == e.labels.first();
    return double(correct) / test.size();
}

} // namespace

void TestTextClassifier::overlappingVocabularies()
{
    // The classes share most words and a quarter of their own: neither 1.0 nor chance.
    const auto train = testdata::overlappingTopics(150, 31);
    const auto test = testdata::overlappingTopics(100, 32);
    QString error;
    const auto model = TextClassifier::train(train, {}, &error);
    QVERIFY2(model, qPrintable(error));
    const double acc = accuracyOn(*model, test);
    qInfo("overlapping vocabularies: accuracy %.3f", acc);
    QVERIFY2(acc >= 0.78, qPrintable(QString::number(acc)));
    QVERIFY2(acc < 0.999, qPrintable(QString::number(acc))); // the data really overlaps
}

void TestTextClassifier::charGramsGeneraliseToUnseenForms()
{
    // Test sentences use stem+ending pairs never seen in training: word features know nothing
    // about them, character n-grams still see the stems and endings.
    const auto train = testdata::overlappingTopics(150, 33);
    const auto test = testdata::overlappingTopics(100, 34, true);
    TrainOptions words;
    words.charGrams = false;
    const auto wordModel = TextClassifier::train(train, words, nullptr);
    const auto charModel = TextClassifier::train(train, {}, nullptr);
    QVERIFY(wordModel && charModel);
    const double w = accuracyOn(*wordModel, test);
    const double c = accuracyOn(*charModel, test);
    qInfo("unseen word forms: words only %.3f, with char n-grams %.3f", w, c);
    QVERIFY2(c >= 0.72, qPrintable(QString::number(c)));
    QVERIFY2(c >= w + 0.3, qPrintable(QStringLiteral("%1 vs %2").arg(c).arg(w)));
}

void TestTextClassifier::selectionByCrossValidation()
{
    const auto data = testdata::overlappingTopics(60, 35);
    const auto model = TextClassifier::train(data, {}, nullptr);
    QVERIFY(model);
    const ModelSelection s = model->selection();
    QCOMPARE(s.formatVersion, 2); // no pool representation: format 2
    QCOMPARE(s.folds, 3);
    QVERIFY(s.c > 0.0);
    QCOMPARE(model->options().c, s.c);
    QVERIFY(s.cvAccuracy > 0.6 && s.cvAccuracy <= 1.0);
    QCOMPARE(s.calibration, u"temperature"_qs);
    QCOMPARE(s.calibrationParameters.size(), std::size_t(1));
    QVERIFY(s.calibrationParameters[0] > 0.0);
    // The choice survives a save/load round trip.
    QString error;
    const auto back = TextClassifier::fromBytes(model->toBytes(), &error);
    QVERIFY2(back, qPrintable(error));
    QCOMPARE(back->selection().c, s.c);
    QCOMPARE(back->selection().weighting, s.weighting);
    QCOMPARE(back->selection().cvAccuracy, s.cvAccuracy);
    QCOMPARE(back->selection().calibrationParameters, s.calibrationParameters);
}

void TestTextClassifier::selectionDeterministic()
{
    // Cross-validation runs on several threads; equal input must still give equal bytes.
    const auto data = testdata::overlappingTopics(80, 36);
    QList<QByteArray> bytes;
    for (int i = 0; i < 3; ++i) {
        const auto m = TextClassifier::train(data, {}, nullptr);
        QVERIFY(m);
        bytes.append(m->toBytes());
    }
    QCOMPARE(bytes[1], bytes[0]);
    QCOMPARE(bytes[2], bytes[0]);
    // ... and different input gives a different model (the comparison is not vacuous).
    const auto other = TextClassifier::train(testdata::overlappingTopics(80, 37), {}, nullptr);
    QVERIFY(other && other->toBytes() != bytes[0]);
}

void TestTextClassifier::fixedSettingsSkipTheGrid()
{
    const auto data = testdata::overlappingTopics(40, 38);
    TrainOptions o;
    o.c = 0.7;
    o.weighting = FeatureWeighting::NaiveBayes;
    const auto m = TextClassifier::train(data, o, nullptr);
    QVERIFY(m);
    QCOMPARE(m->selection().c, 0.7);
    QCOMPARE(m->selection().weighting, FeatureWeighting::NaiveBayes);
    QVERIFY(m->selection().cvAccuracy >= 0.0); // still cross-validated, for the calibration
    o.weighting = FeatureWeighting::Plain;
    const auto p = TextClassifier::train(data, o, nullptr);
    QVERIFY(p && p->toBytes() != m->toBytes());
}

void TestTextClassifier::eceOnAKnownCase()
{
    // Bin 9: four predictions at 0.9, three right -> |0.75 - 0.9| x 4/6 = 0.1.
    // Bin 6: two at 0.6, one right -> |0.5 - 0.6| x 2/6 = 1/30.
    const std::vector<double> conf{0.9, 0.9, 0.9, 0.9, 0.6, 0.6};
    const std::vector<char> correct{1, 1, 1, 0, 1, 0};
    QVERIFY(qAbs(expectedCalibrationError(conf, correct) - (0.1 + 1.0 / 30)) < 1e-12);
    // Perfectly calibrated bins give 0; 1.0 falls into the last bin.
    QCOMPARE(expectedCalibrationError({1.0, 1.0, 0.5, 0.5}, {1, 1, 1, 0}), 0.0);
    QCOMPARE(expectedCalibrationError({}, {}), 0.0);
    // Metrics from predictions: a two-class case by hand.
    Metrics m = computeMetrics({u"a"_qs, u"b"_qs}, {{u"a"_qs}, {u"b"_qs}}, {{u"a"_qs}, {u"a"_qs}}, false);
    Prediction p1, p2;
    p1.labels = {u"a"_qs};
    p1.scores = {{u"a"_qs, 0.8}, {u"b"_qs, 0.2}};
    p2.labels = {u"a"_qs};
    p2.scores = {{u"a"_qs, 0.7}, {u"b"_qs, 0.3}};
    addCalibrationMetrics(m, {{u"a"_qs}, {u"b"_qs}}, {p1, p2});
    // bin 8: 0.8 right -> 0.2/2; bin 7: 0.7 wrong -> 0.7/2
    QVERIFY(qAbs(m.ece - 0.45) < 1e-12);
    // Brier: (0.2^2 + 0.2^2 + 0.7^2 + 0.7^2) / 2
    QVERIFY(qAbs(m.brier - (0.04 + 0.04 + 0.49 + 0.49) / 2) < 1e-12);
}

void TestTextClassifier::plattAndTemperatureRecoverKnownScales()
{
    // Labels drawn from p = sigmoid(2 d - 1): the fit must find a ~ 2, b ~ -1.
    std::mt19937 rng(5);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<double> d;
    std::vector<char> y;
    for (int i = 0; i < 20000; ++i) {
        const double x = u(rng) * 6.0 - 3.0;
        d.push_back(x);
        y.push_back(u(rng) < 1.0 / (1.0 + std::exp(-(2.0 * x - 1.0))) ? 1 : 0);
    }
    const PlattScale s = fitPlatt(d, y);
    QVERIFY2(qAbs(s.a - 2.0) < 0.1 && qAbs(s.b + 1.0) < 0.1, qPrintable(QStringLiteral("%1 %2").arg(s.a).arg(s.b)));
    // Three classes drawn from softmax(3 d): the temperature fit must find ~ 3.
    std::vector<double> dk;
    std::vector<int> truth;
    for (int i = 0; i < 20000; ++i) {
        double row[3], p[3];
        for (double &v : row) {
            v = u(rng) * 2.0 - 1.0;
            dk.push_back(v);
        }
        softmaxScaled(row, 3, 3.0, p);
        const double r = u(rng);
        truth.push_back(r < p[0] ? 0 : r < p[0] + p[1] ? 1 : 2);
    }
    const double a = fitTemperature(dk, 3, truth);
    QVERIFY2(qAbs(a - 3.0) < 0.15, qPrintable(QString::number(a)));
}

void TestTextClassifier::calibratedOnHoldout()
{
    // On held-out data the scores must mean what they say: ECE well below the uncalibrated
    // model's (raw SVM margins squashed by a sigmoid are far off).
    const auto train = testdata::overlappingTopics(200, 39);
    const auto test = testdata::overlappingTopics(200, 40);
    const auto model = TextClassifier::train(train, {}, nullptr);
    QVERIFY(model);
    std::vector<double> conf;
    std::vector<char> correct;
    for (const Example &e : test) {
        const Prediction p = model->predict(e.text);
        conf.push_back(p.score);
        correct.push_back(p.labels.first() == e.labels.first());
    }
    const double ece = expectedCalibrationError(conf, correct);
    qInfo("holdout ECE %.4f", ece);
    QVERIFY2(ece <= 0.05, qPrintable(QString::number(ece)));
    // Binary: Platt on the single column.
    QList<Example> two, twoTest;
    for (const Example &e : train)
        if (e.labels.first() != u"west")
            two.append(e);
    for (const Example &e : test)
        if (e.labels.first() != u"west")
            twoTest.append(e);
    const auto binary = TextClassifier::train(two, {}, nullptr);
    QVERIFY(binary);
    QCOMPARE(binary->selection().calibration, u"platt"_qs);
    conf.clear();
    correct.clear();
    for (const Example &e : twoTest) {
        const Prediction p = binary->predict(e.text);
        conf.push_back(p.score);
        correct.push_back(p.labels.first() == e.labels.first());
    }
    const double ece2 = expectedCalibrationError(conf, correct);
    qInfo("binary holdout ECE %.4f", ece2);
    QVERIFY2(ece2 <= 0.06, qPrintable(QString::number(ece2)));
}

void TestTextClassifier::unlabeledTextsCountForIdf()
{
    const auto data = testdata::overlappingTopics(20, 41);
    QStringList unlabeled;
    for (const Example &e : testdata::overlappingTopics(100, 42))
        unlabeled.append(e.text);
    const auto plain = TextClassifier::train(data, {}, nullptr);
    const auto withU = TextClassifier::train(data, {}, nullptr, unlabeled);
    QVERIFY(plain && withU);
    QCOMPARE(withU->trainingExamples(), int(data.size() + unlabeled.size())); // documents behind the idf
    QVERIFY(withU->featureCount() > plain->featureCount());
    QVERIFY(withU->toBytes() != plain->toBytes());
    QCOMPARE(withU->classes(), plain->classes());
}

void TestTextClassifier::progressAndCancel()
{
    const auto data = testdata::overlappingTopics(40, 43);
    std::vector<double> seen;
    const auto model = TextClassifier::train(data, {}, nullptr, {}, [&seen](double p) {
        seen.push_back(p); // called under a lock, never concurrently
        return true;
    });
    QVERIFY(model);
    QVERIFY(seen.size() >= 3);
    QCOMPARE(seen.front(), 0.0);
    QVERIFY(std::is_sorted(seen.begin(), seen.end()));
    QCOMPARE(seen.back(), 1.0);
    QString error;
    int calls = 0;
    const auto cancelled = TextClassifier::train(data, {}, &error, {}, [&calls](double p) {
        ++calls;
        return p < 0.3;
    });
    QVERIFY(!cancelled);
    QVERIFY2(error.contains(u"cancelled"), qPrintable(error));
    QVERIFY(calls >= 2);
}

QTEST_MAIN(TestTextClassifier)
#include "tst_textclassifier.moc"
