// Unit tests for the LSA representation (lsa.h) and its use by TextClassifier: the randomized
// SVD against a brute-force eigen-decomposition, determinism, and the classifier's pool
// representation (when it is used, model files, the fast prediction path, and that it helps).
#include "core/model/features.h"
#include "core/model/lsa.h"
#include "core/model/modelfile.h"
#include "core/model/textclassifier.h"
#include "syntheticdata.h"

#include <QTest>
#include <QtEndian>

#include <algorithm>
#include <climits>
#include <cmath>
#include <map>
#include <random>

using namespace loopdeck::model;

namespace {

// rows x cols sparse matrix: three row groups ("topics") of different sizes and strengths, each
// row a random multiple of its topic's fixed pattern on the topic's own columns, plus small sparse
// noise everywhere. Rank 3 plus noise.
CsrMatrix lowRankPlusNoise(std::size_t rows, std::size_t cols, unsigned seed)
{
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<double> pattern(cols);
    for (double &p : pattern)
        p = 0.5 + unit(rng);
    CsrMatrix x;
    x.columns = cols;
    const double strength[3] = {3.0, 2.0, 1.2};
    for (std::size_t i = 0; i < rows; ++i) {
        const double u = unit(rng);
        const std::size_t topic = u < 0.5 ? 0 : u < 0.8 ? 1 : 2;
        const double scale = strength[topic] * (0.5 + unit(rng));
        std::vector<std::pair<std::uint32_t, float>> row;
        for (std::size_t j = 0; j < cols; ++j) {
            double v = 0.0;
            if (j % 3 == topic)
                v += scale * pattern[j];
            if (unit(rng) < 0.05)
                v += 0.05 * (unit(rng) - 0.5);
            if (v != 0.0)
                row.emplace_back(static_cast<std::uint32_t>(j), static_cast<float>(v));
        }
        for (const auto &[c, v] : row) {
            x.column.push_back(c);
            x.value.push_back(v);
        }
        x.start.push_back(x.column.size());
    }
    return x;
}

// Dense XᵀX.
std::vector<double> gram(const CsrMatrix &x)
{
    const std::size_t n = x.columns;
    std::vector<double> g(n * n, 0.0);
    for (std::size_t i = 0; i < x.rows(); ++i)
        for (std::size_t a = x.start[i]; a < x.start[i + 1]; ++a)
            for (std::size_t b = x.start[i]; b < x.start[i + 1]; ++b)
                g[x.column[a] * n + x.column[b]] += double(x.value[a]) * x.value[b];
    return g;
}

// Top eigenpairs of a symmetric positive semi-definite matrix by power iteration with deflation
// (brute force, independent of lsa.cpp).
void topEigen(const std::vector<double> &g, std::size_t n, int count, std::vector<double> &values,
              std::vector<std::vector<double>> &vectors)
{
    for (int e = 0; e < count; ++e) {
        std::vector<double> v(n);
        for (std::size_t i = 0; i < n; ++i)
            v[i] = 1.0 + 0.01 * static_cast<double>(i % 7);
        double lambda = 0.0;
        for (int it = 0; it < 5000; ++it) {
            for (const auto &p : vectors) { // deflate
                double dot = 0.0;
                for (std::size_t i = 0; i < n; ++i)
                    dot += p[i] * v[i];
                for (std::size_t i = 0; i < n; ++i)
                    v[i] -= dot * p[i];
            }
            std::vector<double> w(n, 0.0);
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t j = 0; j < n; ++j)
                    w[i] += g[i * n + j] * v[j];
            double norm = 0.0;
            for (double a : w)
                norm += a * a;
            norm = std::sqrt(norm);
            lambda = norm;
            for (std::size_t i = 0; i < n; ++i)
                v[i] = w[i] / norm;
        }
        values.push_back(lambda);
        vectors.push_back(v);
    }
}

// Two topics with 150 made-up words each from the same letters (so a word's char n-grams do not
// tell its topic) and shared filler. Texts draw topic words from [from, to) of their topic's list.
struct Topics {
    QStringList words[2];
    QStringList filler;
    Topics()
    {
        std::mt19937 rng(99);
        const QString consonants = u"bcdfghklmnprstvz"_qs;
        const QString vowels = u"aeiou"_qs;
        for (int t = 0; t < 2; ++t) {
            while (words[t].size() < 150) {
                QString w;
                for (int i = 0; i < 3; ++i)
                    w += consonants[static_cast<qsizetype>(rng() % 16)] + vowels[static_cast<qsizetype>(rng() % 5)];
                if (!words[0].contains(w) && !words[1].contains(w))
                    words[t] << w;
            }
        }
        filler = {u"the"_qs, u"and"_qs, u"of"_qs, u"it"_qs, u"was"_qs, u"very"_qs, u"we"_qs, u"saw"_qs};
    }
    QList<Example> make(int perClass, qsizetype from, qsizetype to, unsigned seed) const
    {
        std::mt19937 rng(seed);
        QList<Example> out;
        for (int i = 0; i < perClass; ++i) {
            for (int t = 0; t < 2; ++t) {
                QStringList text;
                for (int w = 0; w < 6; ++w) {
                    text << words[t][from + static_cast<qsizetype>(rng() % static_cast<unsigned>(to - from))];
                    text << filler[static_cast<qsizetype>(rng() % static_cast<unsigned>(filler.size()))];
                }
                out.append({text.join(u' '), {t == 0 ? u"alpha"_qs : u"beta"_qs}});
            }
        }
        return out;
    }
};

QStringList textsOf(const QList<Example> &examples)
{
    QStringList out;
    for (const Example &e : examples)
        out << e.text;
    return out;
}

double accuracy(const TextClassifier &model, const QList<Example> &test)
{
    int correct = 0;
    for (const Example &e : test)
        correct += model.predict(e.text).labels == e.labels;
    return static_cast<double>(correct) / static_cast<double>(test.size());
}

} // namespace

class TestLsa : public QObject
{
    Q_OBJECT

private slots:
    void recoversDominantSubspace();
    void rankDeficient();
    void deterministic();
    void tooFewColumnsGivesNoProjection();
    void largePoolKeepsTheMostFrequentBuckets();
    void poolWithFewLabels();
    void noPoolOrManyLabelsIsUnchanged();
    void roundTripAndFastPath();
    void damagedPoolSectionIsRefused();
    void poolHelpsWithFewLabels();
};

void TestLsa::recoversDominantSubspace()
{
    const CsrMatrix x = lowRankPlusNoise(400, 60, 5);
    const TruncatedSvd svd = truncatedSvd(x, 3);
    QCOMPARE(svd.k, 3);
    std::vector<double> values;
    std::vector<std::vector<double>> vectors;
    topEigen(gram(x), x.columns, 3, values, vectors);
    for (int c = 0; c < 3; ++c) {
        const double expected = std::sqrt(values[static_cast<std::size_t>(c)]);
        QVERIFY2(std::fabs(svd.singular[static_cast<std::size_t>(c)] - expected) <= 1e-6 * expected,
                 qPrintable(QStringLiteral("%1 vs %2").arg(svd.singular[static_cast<std::size_t>(c)]).arg(expected)));
        // The same direction up to sign: |cos| = 1.
        double dot = 0.0;
        for (std::size_t j = 0; j < x.columns; ++j)
            dot += svd.v[j * 3 + static_cast<std::size_t>(c)] * vectors[static_cast<std::size_t>(c)][j];
        QVERIFY2(std::fabs(std::fabs(dot) - 1.0) < 1e-6, qPrintable(QString::number(dot)));
    }
    // Orthonormal columns, also beyond the rank.
    const TruncatedSvd wide = truncatedSvd(x, 8);
    QCOMPARE(wide.k, 8);
    for (int a = 0; a < 8; ++a) {
        for (int b = 0; b < 8; ++b) {
            double dot = 0.0;
            for (std::size_t j = 0; j < x.columns; ++j)
                dot += wide.v[j * 8 + static_cast<std::size_t>(a)] * wide.v[j * 8 + static_cast<std::size_t>(b)];
            QVERIFY2(std::fabs(dot - (a == b ? 1.0 : 0.0)) < 1e-8, qPrintable(QStringLiteral("%1 %2: %3").arg(a).arg(b).arg(dot)));
        }
    }
    for (int c = 1; c < 8; ++c)
        QVERIFY(wide.singular[static_cast<std::size_t>(c)] <= wide.singular[static_cast<std::size_t>(c - 1)]);
}

void TestLsa::rankDeficient()
{
    // Rank 2 (two row patterns, no noise) but 5 dimensions asked: the sketch's columns are
    // dependent (Gram-Schmidt path); the extra singular values are 0 and their vectors zero.
    CsrMatrix x;
    x.columns = 12;
    for (std::size_t i = 0; i < 100; ++i) {
        const double scale = 1.0 + static_cast<double>(i % 5);
        for (std::uint32_t j = 0; j < 12; ++j) {
            if ((i % 2 == 0) == (j < 6)) {
                x.column.push_back(j);
                x.value.push_back(static_cast<float>(scale * (1.0 + j)));
            }
        }
        x.start.push_back(x.column.size());
    }
    const TruncatedSvd svd = truncatedSvd(x, 5);
    QCOMPARE(svd.k, 5);
    std::vector<double> values;
    std::vector<std::vector<double>> vectors;
    topEigen(gram(x), x.columns, 2, values, vectors);
    for (std::size_t c = 0; c < 2; ++c)
        QVERIFY(std::fabs(svd.singular[c] - std::sqrt(values[c])) <= 1e-6 * svd.singular[0]);
    for (std::size_t c = 2; c < 5; ++c) {
        QVERIFY2(svd.singular[c] <= 1e-6 * svd.singular[0], qPrintable(QString::number(svd.singular[c])));
        for (std::size_t j = 0; j < x.columns; ++j)
            QVERIFY(std::isfinite(svd.v[j * 5 + c]));
    }
}

void TestLsa::deterministic()
{
    const CsrMatrix x = lowRankPlusNoise(1500, 90, 11); // several parallel chunks
    const TruncatedSvd a = truncatedSvd(x, 10);
    const TruncatedSvd b = truncatedSvd(x, 10);
    QVERIFY(a.v == b.v);
    QVERIFY(a.singular == b.singular);
    const TruncatedSvd other = truncatedSvd(x, 10, 10, 5, 12345);
    QVERIFY(other.v != a.v); // another seed: another (equally good) basis of the noise part
}

void TestLsa::tooFewColumnsGivesNoProjection()
{
    std::vector<std::vector<std::uint32_t>> docs(300, std::vector<std::uint32_t>{1, 2, 3});
    QVERIFY(fitLsa(docs, 2, 5, 10).empty());
    for (std::size_t i = 0; i < docs.size(); ++i)
        docs[i] = {static_cast<std::uint32_t>(i % 20), static_cast<std::uint32_t>(20 + i % 7), 40};
    const LsaProjection p = fitLsa(docs, 5, 5, 10);
    QCOMPARE(p.dimensions, 5);
    QCOMPARE(p.buckets.size(), std::size_t(28));
    QCOMPARE(p.vectors.size(), std::size_t(28 * 5));
    float z[5];
    const std::uint32_t text[] = {3, 3, 24, 40, 1000};
    p.project(text, 5, z);
    double norm = 0.0;
    for (float v : z)
        norm += double(v) * v;
    QVERIFY(std::fabs(norm - 1.0) < 1e-6);
}

void TestLsa::poolWithFewLabels()
{
    const Topics topics;
    const auto labelled = topics.make(10, 0, 150, 1);
    const QStringList pool = textsOf(topics.make(200, 0, 150, 2));
    QString error;
    const auto model = TextClassifier::train(labelled, {}, &error, pool);
    QVERIFY2(model, qPrintable(error));
    QCOMPARE(model->poolDimensions(), 50);
    QCOMPARE(model->selection().formatVersion, 3);
    TrainOptions off;
    off.poolRepresentation = false;
    const auto plain = TextClassifier::train(labelled, off, &error, pool);
    QVERIFY2(plain, qPrintable(error));
    QCOMPARE(plain->poolDimensions(), 0);
    QVERIFY(plain->toBytes() != model->toBytes());
    // Deterministic.
    const auto again = TextClassifier::train(labelled, {}, &error, pool);
    QVERIFY(again && again->toBytes() == model->toBytes());
    // Multi-label models never carry it.
    TrainOptions multi;
    multi.multiLabel = true;
    const auto ml = TextClassifier::train(labelled, multi, &error, pool);
    QVERIFY(ml && ml->poolDimensions() == 0);
}

void TestLsa::noPoolOrManyLabelsIsUnchanged()
{
    TrainOptions off;
    off.poolRepresentation = false;
    QString error;
    const Topics topics;
    // No pool.
    const auto labelled = topics.make(150, 0, 150, 3);
    const auto a = TextClassifier::train(labelled, {}, &error);
    const auto b = TextClassifier::train(labelled, off, &error);
    QVERIFY(a && b);
    QCOMPARE(a->poolDimensions(), 0);
    QVERIFY(a->toBytes() == b->toBytes());
    // A pool, but 1000 labels or more.
    const auto many = topics.make(500, 0, 150, 4);
    const QStringList pool = textsOf(topics.make(100, 0, 150, 5));
    const auto c = TextClassifier::train(many, {}, &error, pool);
    const auto d = TextClassifier::train(many, off, &error, pool);
    QVERIFY(c && d);
    QCOMPARE(c->poolDimensions(), 0);
    QVERIFY(c->toBytes() == d->toBytes());
    // A pool too small (fewer than 200 texts in all).
    const auto e = TextClassifier::train(topics.make(10, 0, 150, 6), {}, &error, textsOf(topics.make(50, 0, 150, 7)));
    QVERIFY(e);
    QCOMPARE(e->poolDimensions(), 0);
}

void TestLsa::roundTripAndFastPath()
{
    const Topics topics;
    QString error;
    const auto model = TextClassifier::train(topics.make(12, 0, 150, 8), {}, &error, textsOf(topics.make(150, 0, 150, 9)));
    QVERIFY2(model, qPrintable(error));
    QCOMPARE(model->poolDimensions(), 50);
    const QByteArray bytes = model->toBytes();
    const auto loaded = TextClassifier::fromBytes(bytes, &error);
    QVERIFY2(loaded, qPrintable(error));
    QCOMPARE(loaded->poolDimensions(), 50);
    QCOMPARE(loaded->selection().formatVersion, 3);
    QVERIFY(loaded->toBytes() == bytes);
    const TrainOptions o = model->options();
    const FeatureHasher hasher(o.hashBits, o.charGrams);
    QStringList texts = textsOf(topics.make(20, 0, 150, 10));
    texts << QString() << u"nothing known here"_qs << u"the the the"_qs;
    for (const QString &t : texts) {
        const Prediction p = model->predict(t);
        const Prediction q = loaded->predict(t);
        const Prediction r = model->predictFromCounts(hasher.countText(t));
        QCOMPARE(p.labels, q.labels);
        QCOMPARE(p.labels, r.labels);
        QCOMPARE(p.scores.size(), r.scores.size());
        for (std::size_t i = 0; i < p.scores.size(); ++i) {
            QCOMPARE(p.scores[i].label, q.scores[i].label);
            QVERIFY(p.scores[i].probability == q.scores[i].probability); // bit-identical
            QCOMPARE(p.scores[i].label, r.scores[i].label);
            QVERIFY(p.scores[i].probability == r.scores[i].probability);
        }
    }
}

void TestLsa::damagedPoolSectionIsRefused()
{
    const Topics topics;
    QString error;
    const auto model = TextClassifier::train(topics.make(12, 0, 150, 8), {}, &error, textsOf(topics.make(150, 0, 150, 9)));
    QVERIFY2(model, qPrintable(error));
    QVERIFY(model->poolDimensions() > 0);
    const auto payload = ModelFile::decode(model->toBytes(), &error);
    QVERIFY(payload);
    // A format-3 payload under format 2 is refused.
    QVERIFY(!TextClassifier::fromBytes(ModelFile::encode(*payload, 2), &error));
    // The last LSA weight (just before the bias, steps and 16-bit weights) set to NaN.
    const qsizetype columns = 1;
    const qsizetype tail = model->featureCount() * columns * 2 + columns * 8;
    QByteArray bad = *payload;
    qToBigEndian<quint32>(0x7fc00000u, bad.data() + bad.size() - tail - 4);
    error.clear();
    QVERIFY(!TextClassifier::fromBytes(ModelFile::encode(bad, 3), &error));
    QVERIFY2(error.contains(u"pool representation"_qs), qPrintable(error));
    // Cut short inside the section: drop the LSA weights and everything after them.
    QByteArray cut = payload->left(payload->size() - tail - 4 * 50);
    QVERIFY(!TextClassifier::fromBytes(ModelFile::encode(cut, 3), &error));
    QVERIFY2(error.contains(u"pool representation"_qs), qPrintable(error));
}

void TestLsa::poolHelpsWithFewLabels()
{
    // Labelled texts use only the first 30 words of each topic; test texts only the other 120;
    // the pool uses all 150, so only a representation learned from the pool links them.
    const Topics topics;
    const auto labelled = topics.make(10, 0, 30, 21);
    const auto test = topics.make(100, 30, 150, 22);
    const QStringList pool = textsOf(topics.make(750, 0, 150, 23));
    TrainOptions on;
    on.selfTraining = false; // isolate the representation
    TrainOptions off = on;
    off.poolRepresentation = false;
    QString error;
    const auto with = TextClassifier::train(labelled, on, &error, pool);
    const auto without = TextClassifier::train(labelled, off, &error, pool);
    QVERIFY(with && without);
    QCOMPARE(with->poolDimensions(), 50);
    const double a = accuracy(*with, test), b = accuracy(*without, test);
    qInfo("pool representation: accuracy %.3f with, %.3f without", a, b);
    QVERIFY2(a >= b + 0.2, qPrintable(QStringLiteral("%1 vs %2").arg(a).arg(b)));
    QVERIFY(a >= 0.8);
    // With self-training as well (the default).
    const auto withSt = TextClassifier::train(labelled, {}, &error, pool);
    QVERIFY(withSt);
    qInfo("with self-training: %.3f", accuracy(*withSt, test));
}


void TestLsa::largePoolKeepsTheMostFrequentBuckets()
{
    // 2,000 texts of 400 buckets drawn from 100,000 (skewed towards low ones): far more than
    // kLsaMaxColumns buckets reach the document frequency; the kept ones are the most frequent.
    std::mt19937 rng(17);
    std::vector<std::vector<std::uint32_t>> documents(2000);
    std::map<std::uint32_t, std::uint32_t> df;
    for (auto &d : documents) {
        for (int i = 0; i < 400; ++i) {
            const auto u = double(rng() % 100000) / 100000.0;
            d.push_back(static_cast<std::uint32_t>(100000.0 * u * u) + (1u << 20));
        }
        std::sort(d.begin(), d.end());
        d.erase(std::unique(d.begin(), d.end()), d.end());
        for (std::uint32_t b : d)
            ++df[b];
    }
    std::size_t reaching = 0;
    for (const auto &[b, n] : df)
        reaching += n >= 2;
    QVERIFY(reaching > kLsaMaxColumns);
    const LsaProjection p = fitLsa(documents, 20, 2, 30);
    QCOMPARE(p.dimensions, 20);
    QCOMPARE(p.buckets.size(), kLsaMaxColumns);
    QVERIFY(std::is_sorted(p.buckets.begin(), p.buckets.end()));
    std::uint32_t keptMin = UINT32_MAX, droppedMax = 0;
    for (const auto &[b, n] : df) {
        if (std::binary_search(p.buckets.begin(), p.buckets.end(), b))
            keptMin = std::min(keptMin, n);
        else
            droppedMax = std::max(droppedMax, n);
    }
    QVERIFY2(keptMin >= droppedMax, qPrintable(QStringLiteral("%1 < %2").arg(keptMin).arg(droppedMax)));
}

QTEST_MAIN(TestLsa)
#include "tst_lsa.moc"
