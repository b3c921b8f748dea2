// LoopSettings: per-project JSON overrides on top of the serve/app defaults. Wrong types and
// out-of-range values are refused with a sentence naming the key, the target is left alone;
// a stored value that no longer validates falls back to the defaults.
#include "core/loop/loopsettings.h"

#include <QJsonDocument>
#include <QTest>

using loopdeck::loop::LoopSettings;

namespace {

LoopSettings someDefaults()
{
    LoopSettings d;
    d.trainEvery = 25;
    d.intervalMinutes = 15;
    d.keepVersions = 7;
    d.cooldownSeconds = 5;
    return d;
}

QJsonObject parseObject(const char *text)
{
    return QJsonDocument::fromJson(QByteArray(text)).object();
}

} // namespace

class TestLoopSettings final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void emptyKeepsDefaults();
    void overridesKeyByKey();
    void roundTrip();
    void refusesBadValues_data();
    void refusesBadValues();
    void dailyAt_data();
    void dailyAt();
    void rangeEdgesAccepted();
    void fromStored();
};

void TestLoopSettings::emptyKeepsDefaults()
{
    LoopSettings out;
    out.trainEvery = -99; // must be overwritten
    QString error;
    QVERIFY(LoopSettings::fromJson(QJsonObject(), someDefaults(), &out, &error));
    QCOMPARE(out, someDefaults());
    QVERIFY(error.isEmpty());
    // Documented defaults of a plain LoopSettings.
    const LoopSettings plain;
    QCOMPARE(plain.trainEvery, 50);
    QCOMPARE(plain.intervalMinutes, 0);
    QVERIFY(!plain.dailyAt.isValid());
    QCOMPARE(plain.activationMargin, 0.02);
    QCOMPARE(plain.keepVersions, 20);
    QVERIFY(plain.enabled);
    QVERIFY(plain.onStartTraining);
}

void TestLoopSettings::overridesKeyByKey()
{
    LoopSettings out;
    QString error;
    QVERIFY2(LoopSettings::fromJson(parseObject(R"({"train_every": 3, "daily_at": "02:30", "uncertainty_sampling": true,
                                                   "activation_margin": 0.1, "some_future_key": [1, 2]})"),
                                    someDefaults(), &out, &error),
             qPrintable(error));
    LoopSettings expected = someDefaults();
    expected.trainEvery = 3;
    expected.dailyAt = QTime(2, 30);
    expected.uncertaintySampling = true;
    expected.activationMargin = 0.1;
    QCOMPARE(out, expected);
    QCOMPARE(out.intervalMinutes, 15); // not in the JSON: the default stays
}

void TestLoopSettings::roundTrip()
{
    LoopSettings s;
    s.enabled = false;
    s.trainEvery = 0;
    s.intervalMinutes = 90;
    s.dailyAt = QTime(23, 5);
    s.onStartTraining = false;
    s.cooldownSeconds = 0;
    s.activationMargin = 0.5;
    s.keepVersions = 1;
    s.refreshPredictions = false;
    s.uncertaintySampling = true;
    s.minExamples = 2;
    LoopSettings back;
    QString error;
    const QJsonObject text = QJsonDocument::fromJson(QJsonDocument(s.toJson()).toJson()).object();
    QVERIFY2(LoopSettings::fromJson(text, LoopSettings(), &back, &error), qPrintable(error));
    QCOMPARE(back, s);
    QCOMPARE(s.toJson().value(QStringLiteral("daily_at")).toString(), QStringLiteral("23:05"));
    QCOMPARE(LoopSettings().toJson().value(QStringLiteral("daily_at")).toString(), QString());
    // fromStored of toJson gives the same.
    QCOMPARE(LoopSettings::fromStored(QJsonDocument(s.toJson()).toJson(), LoopSettings()), s);
}

void TestLoopSettings::refusesBadValues_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("key");
    QTest::newRow("train_every string") << QByteArray(R"({"train_every": "5"})") << "train_every";
    QTest::newRow("train_every negative") << QByteArray(R"({"train_every": -1})") << "train_every";
    QTest::newRow("train_every fraction") << QByteArray(R"({"train_every": 2.5})") << "train_every";
    QTest::newRow("train_every bool") << QByteArray(R"({"train_every": true})") << "train_every";
    QTest::newRow("train_every huge") << QByteArray(R"({"train_every": 1e300})") << "train_every";
    QTest::newRow("train_every too big") << QByteArray(R"({"train_every": 1000001})") << "train_every";
    QTest::newRow("interval null") << QByteArray(R"({"interval_minutes": null})") << "interval_minutes";
    QTest::newRow("interval negative") << QByteArray(R"({"interval_minutes": -5})") << "interval_minutes";
    QTest::newRow("cooldown too long") << QByteArray(R"({"cooldown_seconds": 86401})") << "cooldown_seconds";
    QTest::newRow("keep 0") << QByteArray(R"({"keep_versions": 0})") << "keep_versions";
    QTest::newRow("min_examples 1") << QByteArray(R"({"min_examples": 1})") << "min_examples";
    QTest::newRow("enabled string") << QByteArray(R"({"enabled": "yes"})") << "enabled";
    QTest::newRow("enabled number") << QByteArray(R"({"enabled": 1})") << "enabled";
    QTest::newRow("on_start_training") << QByteArray(R"({"on_start_training": null})") << "on_start_training";
    QTest::newRow("refresh string") << QByteArray(R"({"refresh_predictions": "false"})") << "refresh_predictions";
    QTest::newRow("uncertainty list") << QByteArray(R"({"uncertainty_sampling": []})") << "uncertainty_sampling";
    QTest::newRow("margin negative") << QByteArray(R"({"activation_margin": -0.01})") << "activation_margin";
    QTest::newRow("margin above 1") << QByteArray(R"({"activation_margin": 1.5})") << "activation_margin";
    QTest::newRow("margin string") << QByteArray(R"({"activation_margin": "0.1"})") << "activation_margin";
    QTest::newRow("daily number") << QByteArray(R"({"daily_at": 230})") << "daily_at";
    QTest::newRow("daily 25:00") << QByteArray(R"({"daily_at": "25:00"})") << "daily_at";
    QTest::newRow("daily 12:61") << QByteArray(R"({"daily_at": "12:61"})") << "daily_at";
    QTest::newRow("daily words") << QByteArray(R"({"daily_at": "at night"})") << "daily_at";
    QTest::newRow("daily object") << QByteArray(R"({"daily_at": {"h": 2}})") << "daily_at";
    QTest::newRow("good then bad") << QByteArray(R"({"train_every": 3, "keep_versions": 5000})") << "keep_versions";
}

void TestLoopSettings::refusesBadValues()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, key);
    const QJsonDocument doc = QJsonDocument::fromJson(json);
    QVERIFY(doc.isObject());
    LoopSettings out;
    out.trainEvery = 12345;
    const LoopSettings untouched = out;
    QString error;
    QVERIFY(!LoopSettings::fromJson(doc.object(), someDefaults(), &out, &error));
    QVERIFY2(error.contains(QLatin1Char('"') + key + QLatin1Char('"')), qPrintable(error));
    QVERIFY2(error.endsWith(QLatin1Char('.')), qPrintable(error));
    QCOMPARE(out, untouched);
}

void TestLoopSettings::dailyAt_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QTime>("expected");
    QTest::newRow("02:30") << QByteArray(R"({"daily_at": "02:30"})") << QTime(2, 30);
    QTest::newRow("2:30") << QByteArray(R"({"daily_at": "2:30"})") << QTime(2, 30);
    QTest::newRow("spaces") << QByteArray(R"({"daily_at": " 23:59 "})") << QTime(23, 59);
    QTest::newRow("midnight") << QByteArray(R"({"daily_at": "0:00"})") << QTime(0, 0);
    QTest::newRow("empty = off") << QByteArray(R"({"daily_at": ""})") << QTime();
    QTest::newRow("null = off") << QByteArray(R"({"daily_at": null})") << QTime();
}

void TestLoopSettings::dailyAt()
{
    QFETCH(QByteArray, json);
    QFETCH(QTime, expected);
    LoopSettings defaults;
    defaults.dailyAt = QTime(4, 0); // so "off" is visible
    LoopSettings out;
    QString error;
    QVERIFY2(LoopSettings::fromJson(QJsonDocument::fromJson(json).object(), defaults, &out, &error), qPrintable(error));
    QCOMPARE(out.dailyAt, expected);
}

void TestLoopSettings::rangeEdgesAccepted()
{
    LoopSettings out;
    QString error;
    QVERIFY2(LoopSettings::fromJson(parseObject(R"({"interval_minutes": 100000, "cooldown_seconds": 86400,
                                                   "keep_versions": 1, "min_examples": 2, "activation_margin": 0,
                                                   "train_every": 1000000})"),
                                    LoopSettings(), &out, &error),
             qPrintable(error));
    QCOMPARE(out.trainEvery, 1000000);
    QCOMPARE(out.intervalMinutes, 100000);
    QCOMPARE(out.cooldownSeconds, 86400);
    QCOMPARE(out.keepVersions, 1);
    QCOMPARE(out.minExamples, 2);
    QCOMPARE(out.activationMargin, 0.0);
    QVERIFY2(LoopSettings::fromJson(parseObject(R"({"train_every": 0})"), LoopSettings(), &out, &error), qPrintable(error));
    QCOMPARE(out.trainEvery, 0);
    QVERIFY2(LoopSettings::fromJson(parseObject(R"({"train_every": 7.0, "activation_margin": 1})"), LoopSettings(), &out, &error),
             qPrintable(error));
    QCOMPARE(out.trainEvery, 7);
    QCOMPARE(out.activationMargin, 1.0);
}

void TestLoopSettings::fromStored()
{
    const LoopSettings d = someDefaults();
    QCOMPARE(LoopSettings::fromStored(QByteArray(), d), d);
    QCOMPARE(LoopSettings::fromStored("{}", d), d);
    QCOMPARE(LoopSettings::fromStored("not json at all", d), d);
    QCOMPARE(LoopSettings::fromStored("[1, 2, 3]", d), d);
    LoopSettings partial = d;
    partial.trainEvery = 4;
    partial.keepVersions = 3;
    QCOMPARE(LoopSettings::fromStored(R"({"train_every": 4, "keep_versions": 3})", d), partial);
    // A stored value that no longer validates: the whole object falls back to the defaults
    // (half of a stored setting is worse than none).
    QCOMPARE(LoopSettings::fromStored(R"({"train_every": 4, "keep_versions": 0})", d), d);
}

QTEST_GUILESS_MAIN(TestLoopSettings)
#include "tst_loopsettings.moc"
