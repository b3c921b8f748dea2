// Unit tests for the stable hash, FeatureHasher and TfidfModel (features.h).
#include "core/model/features.h"

#include <QTest>

#include <cmath>

using namespace loopdeck::model;

class TestFeatures : public QObject
{
    Q_OBJECT

private slots:
    void stableHashIsFnv1aOverUtf8();
    void unigramsAndBigrams();
    void bucketsStayInRange();
    void idfAndSublinearTf();
    void unknownBucketsDropped();
    void fromPartsValidates();
    void denseAndSortedPathsAgree();
};

void TestFeatures::stableHashIsFnv1aOverUtf8()
{
    // Published FNV-1a 64 test vectors.
    QCOMPARE(stableHash(u""), 0xcbf29ce484222325ull);
    QCOMPARE(stableHash(u"a"), 0xaf63dc4c8601ec8cull);
    QCOMPARE(stableHash(u"foobar"), 0x85944171f73967e8ull);
    // Non-ASCII is hashed as UTF-8: compare with a byte-wise FNV-1a over toUtf8().
    const QString s = u"中文 é \U0001F600"_qs;
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (char c : s.toUtf8())
        h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    QCOMPARE(stableHash(s), h);
}

void TestFeatures::unigramsAndBigrams()
{
    const FeatureHasher hasher(20);
    const TermCounts c = hasher.count({u"a"_qs, u"b"_qs, u"a"_qs, u"b"_qs});
    // unigrams a(2) b(2); bigrams a>b (2), b>a (1): 4 distinct buckets, 7 occurrences.
    QCOMPARE(c.size(), std::size_t(4));
    std::uint32_t total = 0;
    for (std::size_t i = 0; i < c.size(); ++i) {
        total += c[i].second;
        if (i > 0)
            QVERIFY(c[i - 1].first < c[i].first);
    }
    QCOMPARE(total, 7u);
    // Order matters for bigrams.
    QVERIFY(hasher.bigramBucket(stableHash(u"a"), stableHash(u"b"))
            != hasher.bigramBucket(stableHash(u"b"), stableHash(u"a")));
    QVERIFY(hasher.unigramBucket(stableHash(u"a")) != hasher.bigramBucket(stableHash(u"a"), stableHash(u"a")));
    QCOMPARE(hasher.countText(u"Hello World"), hasher.count({u"hello"_qs, u"world"_qs}));
    QVERIFY(hasher.count({}).empty());
}

void TestFeatures::bucketsStayInRange()
{
    const FeatureHasher hasher(12);
    QCOMPARE(hasher.hashBits(), 12);
    for (const auto &[bucket, n] : hasher.countText(u"the quick brown fox jumps over the lazy dog 狐狸 跳"))
        QVERIFY(bucket < (1u << 12));
}

void TestFeatures::idfAndSublinearTf()
{
    // Documents built from raw buckets to control counts exactly.
    const std::vector<TermCounts> docs = {{{1, 1}, {2, 3}}, {{1, 1}}, {{1, 2}, {5, 1}}};
    const TfidfModel m = TfidfModel::fit(docs);
    QCOMPARE(m.size(), std::size_t(3));
    QCOMPARE(m.buckets(), (std::vector<std::uint32_t>{1, 2, 5}));
    QCOMPARE(m.documentFrequency(), (std::vector<std::uint32_t>{3, 1, 1}));
    const double idf1 = std::log(4.0 / 4.0) + 1.0;
    const double idf2 = std::log(4.0 / 2.0) + 1.0;
    QVERIFY(std::abs(m.idf()[0] - idf1) < 1e-6);
    QVERIFY(std::abs(m.idf()[1] - idf2) < 1e-6);
    const SparseRow row = m.transform({{1, 1}, {2, 3}});
    QCOMPARE(row.size(), std::size_t(2));
    const double v1 = 1.0 * idf1;
    const double v2 = (1.0 + std::log(3.0)) * idf2;
    const double norm = std::sqrt(v1 * v1 + v2 * v2);
    QCOMPARE(row[0].first, 0u);
    QCOMPARE(row[1].first, 1u);
    QVERIFY(std::abs(row[0].second - v1 / norm) < 1e-6);
    QVERIFY(std::abs(row[1].second - v2 / norm) < 1e-6);
    double sq = 0;
    for (const auto &e : row)
        sq += double(e.second) * e.second;
    QVERIFY(std::abs(sq - 1.0) < 1e-6);
}

void TestFeatures::unknownBucketsDropped()
{
    const TfidfModel m = TfidfModel::fit({{{10, 1}, {20, 1}}});
    QCOMPARE(m.column(20), 1);
    QCOMPARE(m.column(15), -1);
    const SparseRow row = m.transform({{5, 4}, {20, 1}, {99, 1}});
    QCOMPARE(row.size(), std::size_t(1));
    QCOMPARE(row[0].first, 1u);
    QVERIFY(std::abs(row[0].second - 1.0f) < 1e-6);
    QVERIFY(m.transform({{7, 1}}).empty());
}

void TestFeatures::fromPartsValidates()
{
    QString error;
    QVERIFY(TfidfModel::fromParts({1, 2}, {1, 2}, 2, &error));
    QVERIFY(!TfidfModel::fromParts({2, 1}, {1, 1}, 2, &error));
    QVERIFY(error.contains(u"sorted"));
    QVERIFY(!TfidfModel::fromParts({1, 2}, {1, 3}, 2, &error));
    QVERIFY(!TfidfModel::fromParts({1}, {1, 1}, 2, &error));
}

void TestFeatures::denseAndSortedPathsAgree()
{
    const FeatureHasher hasher(16);
    std::vector<TermCounts> docs;
    for (const QString &t : {u"the cat sat on the mat"_qs, u"the dog ate the cat food"_qs, u"猫 狗 cat"_qs, u""_qs})
        docs.push_back(hasher.countText(t));
    const TfidfModel sorted = TfidfModel::fit(docs);
    const TfidfModel dense = TfidfModel::fit(docs, 16);
    QCOMPARE(dense.buckets(), sorted.buckets());
    QCOMPARE(dense.documentFrequency(), sorted.documentFrequency());
    QCOMPARE(dense.documentCount(), 4u);
    // Buckets beyond the announced range fall back to sorting instead of overflowing.
    QCOMPARE(TfidfModel::fit({{{70000, 1}}}, 16).buckets(), std::vector<std::uint32_t>{70000});
    const std::vector<SparseRow> all = dense.transformAll(docs, 16);
    const std::vector<SparseRow> viaSearch = dense.transformAll(docs, 0);
    QCOMPARE(all.size(), docs.size());
    for (std::size_t i = 0; i < docs.size(); ++i) {
        QCOMPARE(all[i], dense.transform(docs[i]));
        QCOMPARE(viaSearch[i], all[i]);
    }
    QVERIFY(all[3].empty());
    QCOMPARE(sublinearTf(1), 1.0);
    QVERIFY(std::abs(sublinearTf(5) - (1.0 + std::log(5.0))) < 1e-12);
    QVERIFY(std::abs(sublinearTf(1000) - (1.0 + std::log(1000.0))) < 1e-12);
}

QTEST_APPLESS_MAIN(TestFeatures)
#include "tst_features.moc"
