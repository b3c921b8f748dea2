// Unit tests for the stable hash, FeatureHasher and TfidfModel (features.h).
#include "core/model/features.h"

#include <QTest>

#include <algorithm>
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
    void charGramHashIsStable();
    void latinCharWbGrams();
    void cjkCharGrams();
    void charBlockOnlyWhenEnabled();
    void blocksNormalisedSeparately();
    void minDfAndUnlabeledDocuments();
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
    const CsrMatrix all = dense.transformAll(docs, 16);
    const CsrMatrix viaSearch = dense.transformAll(docs, 0);
    QCOMPARE(all.rows(), docs.size());
    QCOMPARE(all.columns, dense.size());
    const auto rowOf = [](const CsrMatrix &x, std::size_t i) {
        SparseRow r;
        for (std::size_t e = x.start[i]; e < x.start[i + 1]; ++e)
            r.emplace_back(x.column[e], x.value[e]);
        return r;
    };
    for (std::size_t i = 0; i < docs.size(); ++i) {
        QCOMPARE(rowOf(all, i), dense.transform(docs[i]));
        QCOMPARE(rowOf(viaSearch, i), rowOf(all, i));
    }
    QVERIFY(rowOf(all, 3).empty());
    // A vocabulary without most of the documents' buckets (fitted on two of them, minDf 2): the
    // counting pass and the writing pass skip the same buckets, on both lookup paths.
    const TfidfModel narrow = TfidfModel::fit({docs[0], docs[1]}, {}, 16, 2);
    QVERIFY(narrow.size() > 0);
    const CsrMatrix narrowDense = narrow.transformAll(docs, 16);
    const CsrMatrix narrowSearch = narrow.transformAll(docs, 0);
    for (std::size_t i = 0; i < docs.size(); ++i) {
        QVERIFY(narrow.transform(docs[i]).size() < docs[i].size() || docs[i].empty());
        QCOMPARE(rowOf(narrowDense, i), narrow.transform(docs[i]));
        QCOMPARE(rowOf(narrowSearch, i), narrow.transform(docs[i]));
    }
    // Many rows (several chunks per thread) with extra entries after each row's own: every row
    // in its place.
    std::vector<TermCounts> many;
    for (int i = 0; i < 300; ++i)
        many.push_back(docs[static_cast<std::size_t>(i) % docs.size()]);
    const CsrMatrix wide = dense.transformAll(
        many.size(), [&](std::size_t i) -> const TermCounts & { return many[i]; }, 16, dense.size() + 1,
        [&](std::size_t i, std::vector<std::uint32_t> &columns, std::vector<float> &values) {
            columns.push_back(static_cast<std::uint32_t>(dense.size()));
            values.push_back(float(i));
        });
    QCOMPARE(wide.rows(), many.size());
    QCOMPARE(wide.columns, dense.size() + 1);
    for (std::size_t i = 0; i < many.size(); ++i) {
        SparseRow expected = dense.transform(many[i]);
        expected.emplace_back(static_cast<std::uint32_t>(dense.size()), float(i));
        QCOMPARE(rowOf(wide, i), expected);
    }
    QCOMPARE(sublinearTf(1), 1.0);
    QVERIFY(std::abs(sublinearTf(5) - (1.0 + std::log(5.0))) < 1e-12);
    QVERIFY(std::abs(sublinearTf(1000) - (1.0 + std::log(1000.0))) < 1e-12);
}

namespace {

std::vector<std::uint32_t> sortedBuckets(const FeatureHasher &h, QStringView text)
{
    std::vector<std::uint32_t> out;
    h.charGramBuckets(text, out);
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::uint32_t> expectedBuckets(const FeatureHasher &h, const QStringList &grams)
{
    std::vector<std::uint32_t> out;
    for (const QString &g : grams) {
        const QList<uint> cps = g.toUcs4();
        std::vector<char32_t> u(cps.begin(), cps.end());
        out.push_back(h.charBucket(charGramHash(u.data(), static_cast<int>(u.size()))));
    }
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

void TestFeatures::charGramHashIsStable()
{
    // Fixed values: a model file written on one machine must mean the same on every other.
    // FNV-1a 64 over the code points as 32-bit units, xor n; then the salted mixer.
    const char32_t ab[] = {U' ', U'a', U'b'};
    QCOMPARE(charGramHash(ab, 3), 0xc2d3aa17cdf6a14bull);
    const char32_t good[] = {U'好', U'吃'};
    QCOMPARE(charGramHash(good, 2), 0x305ddd08b066e133ull);
    const char32_t astral[] = {U'\U0001F600', U'x'}; // outside the BMP: one unit, not two surrogates
    QCOMPARE(charGramHash(astral, 2), 0xcb1e500c9a0692c7ull);
    const FeatureHasher h(20, true);
    QCOMPARE(h.charBucket(charGramHash(ab, 3)), 2003737u);
    QCOMPARE(h.charBucket(charGramHash(good, 2)), 1916627u);
    QCOMPARE(h.charBucket(charGramHash(astral, 2)), 1190536u);
}

void TestFeatures::latinCharWbGrams()
{
    const FeatureHasher h(20, true);
    // Case-folded, split at white space, each word padded with one space; punctuation stays in
    // the word (as scikit-learn's char_wb does); 2..4-grams; a padded word shorter than n once.
    QCOMPARE(sortedBuckets(h, u"Hi,  ab"),
             expectedBuckets(h, {u" h"_qs, u"hi"_qs, u"i,"_qs, u", "_qs, u" hi"_qs, u"hi,"_qs, u"i, "_qs,
                                 u" hi,"_qs, u"hi, "_qs, u" a"_qs, u"ab"_qs, u"b "_qs, u" ab"_qs,
                                 u"ab "_qs, u" ab "_qs}));
    QCOMPARE(sortedBuckets(h, u"x"), expectedBuckets(h, {u" x"_qs, u"x "_qs, u" x "_qs}));
    QVERIFY(sortedBuckets(h, u" \t\n ").empty());
    // Every bucket is in the character block.
    for (std::uint32_t b : sortedBuckets(h, u"Ünïcödé wörds, ΑΒΓ кириллица"))
        QVERIFY(b >= (1u << 20) && b < (1u << 21));
}

void TestFeatures::cjkCharGrams()
{
    const FeatureHasher h(20, true);
    // A Han run gives plain 1..3-grams without padding; a Latin run next to it is its own word.
    QCOMPARE(sortedBuckets(h, u"好吃的"),
             expectedBuckets(h, {u"好"_qs, u"吃"_qs, u"的"_qs, u"好吃"_qs, u"吃的"_qs, u"好吃的"_qs}));
    QCOMPARE(sortedBuckets(h, u"ok好吃"),
             expectedBuckets(h, {u" o"_qs, u"ok"_qs, u"k "_qs, u" ok"_qs, u"ok "_qs, u" ok "_qs, u"好"_qs,
                                 u"吃"_qs, u"好吃"_qs}));
    // Kana and Hangul are CJK too; a CJK character outside the BMP is one character.
    QCOMPARE(sortedBuckets(h, u"すし"), expectedBuckets(h, {u"す"_qs, u"し"_qs, u"すし"_qs}));
    QCOMPARE(sortedBuckets(h, u"한국"), expectedBuckets(h, {u"한"_qs, u"국"_qs, u"한국"_qs}));
    QCOMPARE(sortedBuckets(h, u"𠀀好"), expectedBuckets(h, {u"𠀀"_qs, u"好"_qs, u"𠀀好"_qs}));
}

void TestFeatures::charBlockOnlyWhenEnabled()
{
    const FeatureHasher words(16, false);
    const FeatureHasher both(16, true);
    const TermCounts w = words.countText(u"Good food");
    const TermCounts b = both.countText(u"Good food");
    QCOMPARE(w, words.count({u"good"_qs, u"food"_qs})); // format-1 features unchanged
    QCOMPARE(words.rangeBits(), 16);
    QCOMPARE(both.rangeBits(), 17);
    // The word block of both is the same; the rest is the character block.
    TermCounts wordPart, charPart;
    for (const auto &e : b)
        (e.first < (1u << 16) ? wordPart : charPart).push_back(e);
    QCOMPARE(wordPart, w);
    std::uint32_t total = 0;
    for (const auto &e : charPart)
        total += e.second;
    // " good " and " food ": 5 + 4 + 3 grams each
    QCOMPARE(total, 24u);
}

void TestFeatures::blocksNormalisedSeparately()
{
    // Buckets 1, 2 in block 0 and 9, 12 in block 1 (blockBits 3).
    TfidfModel m = TfidfModel::fit({{{1, 1}, {2, 1}, {9, 3}, {12, 1}}, {{1, 2}}}, 0);
    m.setBlockBits(3);
    const SparseRow row = m.transform({{1, 1}, {2, 1}, {9, 3}, {12, 1}});
    QCOMPARE(row.size(), std::size_t(4));
    const double block0 = double(row[0].second) * row[0].second + double(row[1].second) * row[1].second;
    const double block1 = double(row[2].second) * row[2].second + double(row[3].second) * row[3].second;
    QVERIFY(std::abs(block0 - 1.0) < 1e-6);
    QVERIFY(std::abs(block1 - 1.0) < 1e-6);
    // One block (the default): the whole row has norm 1.
    const TfidfModel one = TfidfModel::fit({{{1, 1}, {2, 1}, {9, 3}, {12, 1}}, {{1, 2}}}, 0);
    double all = 0;
    for (const auto &e : one.transform({{1, 1}, {2, 1}, {9, 3}, {12, 1}}))
        all += double(e.second) * e.second;
    QVERIFY(std::abs(all - 1.0) < 1e-6);
}

void TestFeatures::minDfAndUnlabeledDocuments()
{
    const std::vector<TermCounts> docs = {{{1, 1}, {2, 1}}, {{1, 1}, {3, 1}}};
    const std::vector<TermCounts> more = {{{3, 1}, {4, 1}}};
    for (int bits : {0, 8}) {
        const TfidfModel m = TfidfModel::fit(docs, more, bits, 2);
        QCOMPARE(m.buckets(), (std::vector<std::uint32_t>{1, 3}));
        QCOMPARE(m.documentFrequency(), (std::vector<std::uint32_t>{2, 2}));
        QCOMPARE(m.documentCount(), 3u);
        const TfidfModel all = TfidfModel::fit(docs, more, bits, 1);
        QCOMPARE(all.buckets(), (std::vector<std::uint32_t>{1, 2, 3, 4}));
    }
}

QTEST_APPLESS_MAIN(TestFeatures)
#include "tst_features.moc"
