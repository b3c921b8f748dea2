// The allocation-free prediction path must give exactly what the old one gave: the same tokens,
// the same (bucket, count) lists and bit-identical probabilities, on many random texts (Latin,
// CJK, mixed scripts, emoji, lone surrogates, punctuation, URLs, empty). The old extraction is
// kept in reference_features.h; the old scoring is TextClassifier::predictFromCounts().
#include "core/model/features.h"
#include "core/model/textclassifier.h"
#include "core/model/tokenizer.h"
#ifndef Q_MOC_RUN // moc cannot parse the raw string literals in it
#include "reference_features.h"
#endif

#include <QTest>

#include <QFile>

#include <atomic>
#include <random>
#include <thread>

using namespace loopdeck::model;

namespace {

// Random texts built from pieces chosen to hit the tokenizer's and n-gram extractor's corners:
// UAX #29 word-break classes of ASCII (letters, digits, . , ; : ' " _), every kind of white
// space, non-ASCII letters and marks, Han/Kana/Hangul, emoji and other surrogate pairs, lone
// surrogates, URLs and e-mail addresses, upper case for case folding (including ß, Σ, the
// Kelvin sign, which fold specially).
class TextGenerator
{
public:
    explicit TextGenerator(unsigned seed) : m_rng(seed) {}

    enum class Mix { Ascii, AsciiPunctuation, Latin, Cjk, Mixed };

    QString text(Mix mix, int maxPieces)
    {
        const int pieces = static_cast<int>(m_rng() % static_cast<unsigned>(maxPieces + 1));
        QString out;
        for (int i = 0; i < pieces; ++i)
            out += piece(mix);
        return out;
    }

    QString anyText(int maxPieces)
    {
        return text(static_cast<Mix>(m_rng() % 5), maxPieces);
    }

private:
    QString pick(const QStringList &list) { return list[static_cast<qsizetype>(m_rng() % list.size())]; }

    QString piece(Mix mix)
    {
        static const QStringList asciiWords = {u"the"_qs, u"Free"_qs, u"MONEY"_qs, u"click"_qs, u"here"_qs,
                                               u"don't"_qs, u"e.g."_qs, u"a.b"_qs, u"x_y"_qs, u"_id"_qs,
                                               u"3.14"_qs, u"1,000"_qs, u"2nd"_qs, u"42"_qs, u"R2D2"_qs,
                                               u"rock'n'roll"_qs, u"foo:bar"_qs, u"I"_qs, u"a"_qs};
        static const QStringList asciiPunct = {u" "_qs,  u"  "_qs, u"\t"_qs, u"\n"_qs, u"\r\n"_qs, u"\r"_qs,
                                               u"\v"_qs, u"\f"_qs, u"."_qs,  u","_qs,  u";"_qs,    u":"_qs,
                                               u"'"_qs,  u"\""_qs, u"_"_qs,  u"-"_qs,  u"!"_qs,    u"?"_qs,
                                               u"("_qs,  u")"_qs,  u"/"_qs,  u"@"_qs,  u"#"_qs,    u"$"_qs,
                                               u"%"_qs,  u"&"_qs,  u"*"_qs,  u"+"_qs,  u"="_qs,    u"<"_qs,
                                               u">"_qs,  u"["_qs,  u"]"_qs,  u"{"_qs,  u"}"_qs,    u"~"_qs,
                                               u"`"_qs,  u"^"_qs,  u"|"_qs,  u"\\"_qs, u"\x01"_qs, u"\x7f"_qs};
        static const QStringList special = {u"http://Example.com/a?b=c"_qs, u"www.test.org"_qs,
                                            u"Bob.Smith+x@mail.example.co.uk"_qs, u"a@b"_qs, u"ftp://x"_qs,
                                            u"mailto:me@host.de"_qs, u"://"_qs, u"www."_qs};
        static const QStringList latin = {u"café"_qs,  u"Straße"_qs, u"ΣΊΣΥΦΟΣ"_qs, u"Ελληνικά"_qs, u"привет"_qs,
                                          u"Über"_qs,  u"naïve"_qs,  u"e\u0301"_qs,  u"\u212A"_qs,     u"ǅ"_qs,
                                          u"ﬁ"_qs,     u"İstanbul"_qs, u"١٢٣"_qs,    u"٣٤"_qs,         u"²"_qs,
                                          u"\u00A0"_qs, u"\u2028"_qs, u"\u3000"_qs, u"\u200B"_qs,     u"\u00AD"_qs,
                                          u"שָׁלוֹם"_qs, u"مرحبا"_qs,  u"हिन्दी"_qs,   u"ไทย"_qs,        u"Ａｂｃ"_qs};
        static const QStringList cjk = {u"中文"_qs, u"质量不错"_qs, u"物流很快"_qs, u"下次还会再买"_qs, u"。"_qs,
                                        u"，"_qs,   u"！"_qs,     u"ひらがな"_qs, u"カタカナ"_qs,     u"ｶﾀｶﾅ"_qs,
                                        u"한국어"_qs, u"テスト"_qs,  u"漢字かな"_qs, u"電脑ABC"_qs,     u"第3次"_qs,
                                        // Han followed by what keeps it in one segment with the next
                                        // character (WB4: Extend, Format, ZWJ) or by break-class
                                        // punctuation, full-width forms and digits.
                                        u"中\u0301"_qs, u"字\uFE0F"_qs, u"漢\u200D"_qs, u"语\u302A"_qs, u"文\u00AD"_qs,
                                        u"好\u200B"_qs, u"一，二"_qs, u"３，５"_qs, u"价格：１２"_qs, u"'"_qs, u"字'"_qs,
                                        u"\u3400\u3401"_qs, u"\u9FF0"_qs, u"ー"_qs, u"々"_qs};
        static const QStringList astral = {QString::fromUcs4(U"\U0001F600"), QString::fromUcs4(U"\U0001F44D\U0001F3FD"),
                                           QString::fromUcs4(U"\U00020BB7\U00020BB7"), QString::fromUcs4(U"\U0001D400"),
                                           QString::fromUcs4(U"\U0001F1E9\U0001F1EA"),
                                           QString::fromUcs4(U"\U0001F468\u200D\U0001F469")};
        switch (mix) {
        case Mix::Ascii:
            return m_rng() % 2 ? pick(asciiWords) : pick(asciiPunct);
        case Mix::AsciiPunctuation: {
            // Short runs of word characters and break-class punctuation, densely mixed.
            static const QString alphabet = u"ab1_.,;:'\" \t\nZ9"_qs;
            QString s;
            const int n = 1 + static_cast<int>(m_rng() % 4);
            for (int i = 0; i < n; ++i)
                s += m_rng() % 4 ? alphabet[static_cast<qsizetype>(m_rng() % alphabet.size())]
                                 : QChar(static_cast<char16_t>(1 + m_rng() % 127)); // any ASCII but NUL
            return s;
        }
        case Mix::Latin:
            return m_rng() % 3 ? pick(latin) : pick(m_rng() % 2 ? asciiWords : asciiPunct);
        case Mix::Cjk:
            return m_rng() % 4 ? pick(cjk) : pick(asciiPunct);
        case Mix::Mixed:
            break;
        }
        switch (m_rng() % 8) {
        case 0: {
            // A lone surrogate (high or low).
            const char16_t c = m_rng() % 2 ? u'\xD83D' : u'\xDE00';
            return QString(QChar(c));
        }
        case 1:
            return pick(special);
        case 2:
            return pick(astral);
        case 3:
            return pick(cjk);
        case 4:
            return pick(latin);
        case 5:
            return pick(asciiPunct);
        default:
            return pick(asciiWords);
        }
    }

    std::mt19937 m_rng;
};

bool samePrediction(const Prediction &a, const Prediction &b)
{
    if (a.labels != b.labels || a.score != b.score || a.scores.size() != b.scores.size())
        return false;
    for (std::size_t i = 0; i < a.scores.size(); ++i)
        if (a.scores[i].label != b.scores[i].label || a.scores[i].probability != b.scores[i].probability)
            return false;
    return true;
}

QString describe(const QString &text)
{
    QString hex;
    for (QChar c : text)
        hex += QString::number(c.unicode(), 16) + u' ';
    return hex;
}

// Examples drawn from the generator, labelled by what they contain, so the model's vocabulary
// overlaps the random test texts.
QList<Example> randomExamples(unsigned seed, int count, bool multiLabel)
{
    TextGenerator gen(seed);
    QList<Example> out;
    for (int i = 0; i < count; ++i) {
        const QString t = gen.anyText(12);
        QStringList labels;
        bool cjk = false;
        for (QChar c : t)
            cjk = cjk || Tokenizer::isCjk(c.unicode());
        const bool digits = t.contains(u'1') || t.contains(u'4') || t.contains(u'9');
        if (multiLabel) {
            if (cjk)
                labels << u"cjk"_qs;
            if (digits)
                labels << u"digits"_qs;
            if (t.size() % 2)
                labels << u"odd"_qs;
        } else if (cjk) {
            labels << u"cjk"_qs;
        } else {
            labels << (digits ? u"digits"_qs : u"plain"_qs);
        }
        out.append({t, labels});
    }
    return out;
}

} // namespace

class TestFastPath : public QObject
{
    Q_OBJECT

private slots:
    void foldCaseMatchesQt();
    void cjkFastPathsMatchScripts();
    void tokensMatchReference();
    void countsMatchReference();
    void predictionsMatchReference_data();
    void predictionsMatchReference();
    void formatOneModelMatchesReference();
    void longTextsAndReuse();
};

void TestFastPath::foldCaseMatchesQt()
{
    TextGenerator gen(11);
    QString folded;
    for (int i = 0; i < 3000; ++i) {
        const QString t = gen.anyText(20);
        Tokenizer::foldCase(t, folded);
        QVERIFY2(folded == t.toCaseFolded(), qPrintable(describe(t)));
    }
    Tokenizer::foldCase(u"", folded);
    QVERIFY(folded.isEmpty());
}

void TestFastPath::cjkFastPathsMatchScripts()
{
    for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
        const QChar::Script sc = QChar::script(cp);
        const bool cjk = cp >= 0x1100
            && (sc == QChar::Script_Han || sc == QChar::Script_Hiragana || sc == QChar::Script_Katakana
                || sc == QChar::Script_Hangul);
        if (Tokenizer::isCjk(cp) != cjk)
            QFAIL(qPrintable(QStringLiteral("U+%1").arg(quint32(cp), 4, 16, QLatin1Char('0'))));
        if (cjk && QChar::isSpace(cp))
            QFAIL("a CJK character is a space"); // charGramsOfFolded relies on this
    }
}

void TestFastPath::tokensMatchReference()
{
    TextGenerator gen(12);
    for (int i = 0; i < 30000; ++i) {
        const QString t = gen.anyText(24);
        const QStringList fast = Tokenizer::tokenize(t);
        const QStringList ref = reference::tokenize(t);
        QVERIFY2(fast == ref, qPrintable(describe(t) + u" -> "_qs + fast.join(u'|') + u" vs "_qs + ref.join(u'|')));
    }
    for (const QString &t : {u""_qs, u" "_qs, u"..."_qs, u"\r\n\r\n"_qs, u"a"_qs, u"1"_qs, u"_"_qs, u"a."_qs, u".a"_qs,
                             u"1.2.3"_qs, u"a.1"_qs, u"1.a"_qs, u"a'b'c"_qs, u"1'2"_qs, u"a_1_b"_qs, u"__a__"_qs,
                             u"a::b"_qs, u"a:b:c"_qs, u"1,,2"_qs, u"1;2"_qs, u"a;b"_qs})
        QCOMPARE(Tokenizer::tokenize(t), reference::tokenize(t));
}

void TestFastPath::countsMatchReference()
{
    const FeatureHasher hashers[] = {FeatureHasher(20, true), FeatureHasher(20, false), FeatureHasher(12, true),
                                     FeatureHasher(FeatureHasher::kMaxHashBits, true)};
    TextGenerator gen(13);
    for (int i = 0; i < 4000; ++i) {
        const QString t = gen.anyText(40);
        for (const FeatureHasher &h : hashers) {
            const TermCounts fast = h.countText(t);
            QVERIFY2(fast == reference::countText(h, t), qPrintable(describe(t)));
            TermCounts reused{{1u, 2u}};
            h.countTextInto(t, reused);
            QVERIFY(reused == fast);
            std::vector<std::uint32_t> chars;
            h.charGramBuckets(t, chars);
            std::vector<std::uint32_t> refChars;
            reference::charGramBuckets(h, t, refChars);
            QVERIFY(chars == refChars); // same order too: occurrence order
        }
    }
}

void TestFastPath::predictionsMatchReference_data()
{
    QTest::addColumn<int>("kind");
    QTest::newRow("two classes (one column, Platt)") << 0;
    QTest::newRow("three classes (temperature)") << 1;
    QTest::newRow("multi-label (Platt per class)") << 2;
    QTest::newRow("word features only, 12 bits") << 3;
}

void TestFastPath::predictionsMatchReference()
{
    QFETCH(int, kind);
    TrainOptions o;
    o.c = 1.0; // fixed settings keep the test quick; the scoring path is what is tested
    o.weighting = FeatureWeighting::Plain;
    QList<Example> data = randomExamples(20 + static_cast<unsigned>(kind), 400, kind == 2);
    if (kind == 0)
        for (Example &e : data)
            if (e.labels.first() == u"digits")
                e.labels = {u"plain"_qs};
    if (kind == 2)
        o.multiLabel = true;
    if (kind == 3) {
        o.charGrams = false;
        o.hashBits = 12;
    }
    QString error;
    const auto trained = TextClassifier::train(data, o, &error);
    QVERIFY2(trained, qPrintable(error));
    // A saved and loaded copy predicts the same (it is built from the file).
    const auto model = TextClassifier::fromBytes(trained->toBytes(), &error);
    QVERIFY2(model, qPrintable(error));
    QCOMPARE(model->toBytes(), trained->toBytes());
    const FeatureHasher hasher(model->options().hashBits, model->options().charGrams);
    TextGenerator gen(30 + static_cast<unsigned>(kind));
    int known = 0;
    for (int i = 0; i < 3000; ++i) {
        const QString t = i == 0 ? QString() : gen.anyText(30);
        const Prediction fast = model->predict(t);
        const Prediction ref = model->predictFromCounts(reference::countText(hasher, t));
        QVERIFY2(samePrediction(fast, ref), qPrintable(describe(t)));
        QVERIFY(samePrediction(trained->predict(t), ref));
        known += fast.score != model->predict(u""_qs).score;
    }
    QVERIFY2(known > 1000, "most random texts should hit features the model knows");
}

void TestFastPath::formatOneModelMatchesReference()
{
    QString error;
    const auto model = TextClassifier::load(QStringLiteral(LOOPDECK_TESTDATA "/model/textclassifier-v1.ldm"), &error);
    QVERIFY2(model, qPrintable(error));
    QCOMPARE(model->selection().formatVersion, 1);
    const FeatureHasher hasher(model->options().hashBits, model->options().charGrams);
    QFile f(QStringLiteral(LOOPDECK_TESTDATA "/model/textclassifier-v1.jsonl"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QStringList texts;
    while (!f.atEnd())
        texts << QString::fromUtf8(f.readLine());
    TextGenerator gen(40);
    for (int i = 0; i < 2000; ++i)
        texts << gen.anyText(30);
    for (const QString &t : texts)
        QVERIFY2(samePrediction(model->predict(t), model->predictFromCounts(reference::countText(hasher, t))),
                 qPrintable(describe(t)));
}

void TestFastPath::longTextsAndReuse()
{
    // A long text grows the thread's buffers past what is kept; short texts after it must still
    // be right (the buffers are dropped and grown again), and so must calls from other threads.
    const auto model = TextClassifier::train(randomExamples(50, 300, false), {}, nullptr);
    QVERIFY(model);
    const FeatureHasher hasher(model->options().hashBits, model->options().charGrams);
    TextGenerator gen(51);
    QString longText;
    while (longText.size() < 700'000)
        longText += gen.anyText(40) + u' ';
    const QStringList texts = {gen.anyText(30), longText, gen.anyText(30), u"short"_qs, longText.left(5000)};
    for (const QString &t : texts)
        QVERIFY(samePrediction(model->predict(t), model->predictFromCounts(reference::countText(hasher, t))));
    QStringList many;
    for (int i = 0; i < 400; ++i)
        many << gen.anyText(30);
    QList<Prediction> expected;
    for (const QString &t : many)
        expected << model->predictFromCounts(reference::countText(hasher, t));
    bool allSame = true;
    std::vector<std::thread> threads;
    std::atomic<int> mismatches = 0;
    for (int th = 0; th < 4; ++th)
        threads.emplace_back([&] {
            for (qsizetype i = 0; i < many.size(); ++i)
                if (!samePrediction(model->predict(many[i]), expected[i]))
                    ++mismatches;
        });
    for (auto &t : threads)
        t.join();
    allSame = mismatches.load() == 0;
    QVERIFY(allSame);
}

QTEST_APPLESS_MAIN(TestFastPath)
#include "tst_fastpath.moc"
