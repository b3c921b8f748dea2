// Unit tests for loopdeck::model::Tokenizer.
#include "core/model/tokenizer.h"

#include <QTest>

using loopdeck::model::Tokenizer;

class TestTokenizer : public QObject
{
    Q_OBJECT

private slots:
    void english();
    void caseFolding();
    void chinese();
    void japaneseAndKorean();
    void mixed();
    void urlsAndEmails();
    void numbers();
    void emptyAndPunctuation();
    void supplementaryPlane();
};

void TestTokenizer::english()
{
    const QStringList t = Tokenizer::tokenize(u"Hello, world! It's a nice-day.");
    QCOMPARE(t, (QStringList{u"hello"_qs, u"world"_qs, u"it's"_qs, u"a"_qs, u"nice"_qs, u"day"_qs}));
}

void TestTokenizer::caseFolding()
{
    QCOMPARE(Tokenizer::tokenize(u"FREE Free free"), (QStringList{u"free"_qs, u"free"_qs, u"free"_qs}));
    // Greek final sigma and capital fold to the same token.
    QCOMPARE(Tokenizer::tokenize(u"ΣΟΦΟΣ σοφος").value(0), Tokenizer::tokenize(u"σοφοσ").value(0));
}

void TestTokenizer::chinese()
{
    const QStringList t = Tokenizer::tokenize(u"我喜欢机器学习。");
    QCOMPARE(t, (QStringList{u"我"_qs, u"喜"_qs, u"欢"_qs, u"机"_qs, u"器"_qs, u"学"_qs, u"习"_qs}));
}

void TestTokenizer::japaneseAndKorean()
{
    // Katakana and Hangul would be single words by UAX #29; we split them per character.
    QCOMPARE(Tokenizer::tokenize(u"カメラ"), (QStringList{u"カ"_qs, u"メ"_qs, u"ラ"_qs}));
    QCOMPARE(Tokenizer::tokenize(u"한국어 좋아"),
             (QStringList{u"한"_qs, u"국"_qs, u"어"_qs, u"좋"_qs, u"아"_qs}));
    QCOMPARE(Tokenizer::tokenize(u"ひらがな").size(), 4);
}

void TestTokenizer::mixed()
{
    const QStringList t = Tokenizer::tokenize(u"用Qt6写GUI很好 OK");
    QCOMPARE(t, (QStringList{u"用"_qs, u"qt6"_qs, u"写"_qs, u"gui"_qs, u"很"_qs, u"好"_qs, u"ok"_qs}));
}

void TestTokenizer::urlsAndEmails()
{
    const QStringList t = Tokenizer::tokenize(
        u"Visit https://Example.com/a?b=c or www.test.org, mail Bob.Smith+x@mail.example.co.uk now");
    QCOMPARE(t, (QStringList{u"visit"_qs, Tokenizer::urlToken(), u"or"_qs, Tokenizer::urlToken(),
                             u"mail"_qs, Tokenizer::emailToken(), u"now"_qs}));
    // An @ without a domain is not an address.
    QCOMPARE(Tokenizer::tokenize(u"@home"), QStringList{u"home"_qs});
    // URL inside CJK text.
    QCOMPARE(Tokenizer::tokenize(u"看http://a.cn/x 吧"),
             (QStringList{u"看"_qs, Tokenizer::urlToken(), u"吧"_qs}));
}

void TestTokenizer::numbers()
{
    const QStringList t = Tokenizer::tokenize(u"Pay 1,000.50 now or 42 later, 2nd time");
    QCOMPARE(t, (QStringList{u"pay"_qs, Tokenizer::numberToken(), u"now"_qs, u"or"_qs,
                             Tokenizer::numberToken(), u"later"_qs, u"2nd"_qs, u"time"_qs}));
    QCOMPARE(Tokenizer::tokenize(u"٣٤"), QStringList{Tokenizer::numberToken()}); // Arabic-Indic digits
}

void TestTokenizer::emptyAndPunctuation()
{
    QVERIFY(Tokenizer::tokenize(u"").isEmpty());
    QVERIFY(Tokenizer::tokenize(u"  ... !!! -- \n\t").isEmpty());
}

void TestTokenizer::supplementaryPlane()
{
    // U+20BB7 (a Han character outside the BMP) is one token of two UTF-16 units.
    const QString s = QString::fromUcs4(U"\U00020BB7\U00020BB7");
    const QStringList t = Tokenizer::tokenize(s);
    QCOMPARE(t.size(), 2);
    QCOMPARE(t[0].size(), 2);
}

QTEST_APPLESS_MAIN(TestTokenizer)
#include "tst_tokenizer.moc"
