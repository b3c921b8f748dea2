// Unit tests for loopdeck::labelconfig::parse() on Label Studio's own templates and on
// configurations the built-in model cannot serve.
#include "core/labelconfig/labelconfig.h"

#include "core/backend/predictionservice.h"

#include <QCoreApplication>
#include <QFile>
#include <QTest>
#include <QTranslator>

using namespace loopdeck::labelconfig;

namespace {

QString fixture(const QString &name)
{
    QFile f(QStringLiteral(LOOPDECK_TESTDATA "/labelconfigs/") + name);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("missing fixture %s", qPrintable(name));
    return QString::fromUtf8(f.readAll());
}

} // namespace

class TestLabelConfig : public QObject
{
    Q_OBJECT

private slots:
    void textClassificationTemplate();
    void multipleTargetsAliasesNestedViews();
    void unsupported_data();
    void unsupported();
    void dynamicAndUrlText();
    void malformed();
    void empty();
    void translatedReasonsStayChoosable();
};

void TestLabelConfig::textClassificationTemplate()
{
    const LabelConfig c = parse(fixture(u"text-classification.xml"_qs));
    QVERIFY2(c.error.isEmpty(), qPrintable(c.error));
    QVERIFY(c.isServable());
    QVERIFY(c.reason().isEmpty());
    QCOMPARE(c.targets.size(), 1);
    const ClassificationTarget &t = c.targets.first();
    QCOMPARE(t.fromName, u"sentiment"_qs);
    QCOMPARE(t.toName, u"text"_qs);
    QCOMPARE(t.dataKey, u"text"_qs);
    QVERIFY(!t.multiple);
    QCOMPARE(t.choices, (QStringList{u"Positive"_qs, u"Negative"_qs, u"Neutral"_qs}));
    QCOMPARE(c.objects, QStringList{u"Text:text"_qs});
    QCOMPARE(c.controls, QStringList{u"Choices:sentiment"_qs});
    QVERIFY(c.unsupported.isEmpty());
}

void TestLabelConfig::multipleTargetsAliasesNestedViews()
{
    const LabelConfig c = parse(fixture(u"multi-target.xml"_qs));
    QVERIFY2(c.error.isEmpty(), qPrintable(c.error));
    QCOMPARE(c.targets.size(), 2);
    const ClassificationTarget &topic = c.targets[0];
    QCOMPARE(topic.fromName, u"topic"_qs);
    QCOMPARE(topic.toName, u"body"_qs);
    QCOMPARE(topic.dataKey, u"message"_qs);
    QVERIFY(topic.multiple);
    // Label Studio writes the alias into value.choices when a Choice has one.
    QCOMPARE(topic.choices, (QStringList{u"billing"_qs, u"bug"_qs, u"Other"_qs}));
    const ClassificationTarget &urgency = c.targets[1];
    QCOMPARE(urgency.fromName, u"urgency"_qs); // lower-case tag and toname attribute
    QCOMPARE(urgency.dataKey, u"title"_qs);
    QVERIFY(!urgency.multiple); // single-radio
    QCOMPARE(urgency.choices, (QStringList{u"Low"_qs, u"High"_qs}));
    QCOMPARE(c.objects, (QStringList{u"Text:body"_qs, u"Text:subject"_qs}));
    QCOMPARE(c.controls, (QStringList{u"Choices:topic"_qs, u"choices:urgency"_qs, u"TextArea:note"_qs}));
    QCOMPARE(c.unsupported.size(), 1);
    QVERIFY(c.unsupported.first().contains(u"TextArea \"note\""));
    QVERIFY(c.isServable());
}

void TestLabelConfig::unsupported_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("expected");
    QTest::newRow("image") << u"image-classification.xml"_qs << u"Choices \"choice\" classifies the Image object \"image\""_qs;
    QTest::newRow("taxonomy") << u"taxonomy.xml"_qs << u"Taxonomy \"taxonomy\" is not a Choices control"_qs;
    QTest::newRow("paragraphs") << u"intent-classification-and-slot-filling.xml"_qs
                                << u"classifies the Paragraphs object \"dialogue\""_qs;
    QTest::newRow("hypertext") << u"pdf-classification.xml"_qs << u"classifies the HyperText object \"pdf\""_qs;
    QTest::newRow("dangling") << u"dangling-toname.xml"_qs
                              << u"points to \"txt\", but the configuration has no object with that name"_qs;
}

void TestLabelConfig::unsupported()
{
    QFETCH(QString, file);
    QFETCH(QString, expected);
    const LabelConfig c = parse(fixture(file));
    QVERIFY2(c.error.isEmpty(), qPrintable(c.error));
    QVERIFY(!c.isServable());
    QVERIFY(c.targets.isEmpty());
    QVERIFY2(c.reason().contains(expected), qPrintable(c.reason()));
    QVERIFY(c.reason().endsWith(u'.'));
    QVERIFY(!c.reason().contains(u'\n'));
}

void TestLabelConfig::dynamicAndUrlText()
{
    const LabelConfig dynamic = parse(uR"(<View><Text name="t" value="$text"/>
        <Choices name="c" toName="t" value="$options"/></View>)"_qs);
    QVERIFY(!dynamic.isServable());
    QVERIFY2(dynamic.reason().contains(u"from task data"), qPrintable(dynamic.reason()));

    const LabelConfig url = parse(uR"(<View><Text name="t" value="$link" valueType="url"/>
        <Choices name="c" toName="t"><Choice value="a"/><Choice value="b"/></Choices></View>)"_qs);
    QVERIFY(!url.isServable());
    QVERIFY2(url.reason().contains(u"URL"), qPrintable(url.reason()));

    const LabelConfig fixed = parse(uR"(<View><Text name="t" value="Read this"/>
        <Choices name="c" toName="t"><Choice value="a"/><Choice value="b"/></Choices></View>)"_qs);
    QVERIFY2(fixed.reason().contains(u"fixed text"), qPrintable(fixed.reason()));

    const LabelConfig one = parse(uR"(<View><Text name="t" value="$x"/>
        <Choices name="c" toName="t"><Choice value="a"/></Choices></View>)"_qs);
    QVERIFY2(one.reason().contains(u"at least two"), qPrintable(one.reason()));

    const LabelConfig none = parse(uR"(<View><Text name="t" value="$x"/><Header value="hi"/></View>)"_qs);
    QVERIFY2(none.reason().contains(u"no controls"), qPrintable(none.reason()));
}

void TestLabelConfig::malformed()
{
    const LabelConfig c = parse(fixture(u"malformed.xml"_qs));
    QVERIFY(!c.error.isEmpty());
    QVERIFY(!c.isServable());
    QVERIFY2(c.error.contains(u"line 6"), qPrintable(c.error));
    QVERIFY2(c.error.contains(u"column"), qPrintable(c.error));
    QCOMPARE(c.reason(), c.error);

    const LabelConfig notView = parse(u"<Text name=\"t\" value=\"$t\"/>"_qs);
    QVERIFY2(notView.error.contains(u"<View>"), qPrintable(notView.error));
}

void TestLabelConfig::empty()
{
    QVERIFY(!parse(QString()).error.isEmpty());
    QVERIFY(!parse(u"   \n"_qs).isServable());
}

namespace {
// Translates every label config message into a language where no sentence starts with the
// English control name (as in Chinese: "Choices \"x\" ..." becomes "选项 ...").
class PrefixTranslator final : public QTranslator
{
public:
    QString translate(const char *context, const char *source, const char * = nullptr, int = -1) const override
    {
        if (qstrcmp(context, "loopdeck::labelconfig::LabelConfig") != 0)
            return {};
        return QStringLiteral("译：") + QString::fromUtf8(source);
    }
    bool isEmpty() const override { return false; }
};
} // namespace

void TestLabelConfig::translatedReasonsStayChoosable()
{
    PrefixTranslator translator;
    QVERIFY(QCoreApplication::installTranslator(&translator));
    // Two problems; the one about the Choices control is the better explanation, and it is
    // not the first one.
    const QString xml = QStringLiteral(
        "<View><Image name=\"img\" value=\"$image\"/><Labels name=\"l\" toName=\"img\"><Label value=\"a\"/></Labels>"
        "<Choices name=\"c\" toName=\"img\"><Choice value=\"a\"/><Choice value=\"b\"/></Choices></View>");
    const LabelConfig c = parse(xml);
    QCoreApplication::removeTranslator(&translator);
    QCOMPARE(c.unsupported.size(), 2);
    QVERIFY2(c.unsupportedEnglish.at(1).startsWith(u"Choices \"c\""), qPrintable(c.unsupportedEnglish.join(u'|')));
    QCOMPARE(c.reason(), c.unsupported.at(1));
    QVERIFY(c.reason().startsWith(u"译："));
    QCOMPARE(c.protocolReason(), c.unsupportedEnglish.at(1));

    // What /setup sends Label Studio stays English while the app runs translated.
    QVERIFY(QCoreApplication::installTranslator(&translator));
    loopdeck::backend::PredictionService service;
    const auto outcome = service.setup(QStringLiteral("1"), xml);
    QCoreApplication::removeTranslator(&translator);
    QVERIFY(!outcome.servable);
    QVERIFY2(outcome.reason.startsWith(u"Choices \"c\""), qPrintable(outcome.reason));
    const LabelConfig broken = [&] {
        QCoreApplication::installTranslator(&translator);
        LabelConfig b = parse(QStringLiteral("<View><Text"));
        QCoreApplication::removeTranslator(&translator);
        return b;
    }();
    QVERIFY(broken.error.startsWith(u"译："));
    QVERIFY(broken.errorEnglish.startsWith(u"The labeling configuration is not valid XML"));
    QCOMPARE(broken.protocolReason(), broken.errorEnglish);
}

QTEST_GUILESS_MAIN(TestLabelConfig)
#include "tst_labelconfig.moc"
