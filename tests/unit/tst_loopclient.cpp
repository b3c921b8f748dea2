// core/client without a window or Label Studio: LoopStatus::fromJson and VersionInfo::fromJson on
// what a real LoopEngine writes (a store filled directly, versions trained for real) give the
// same values as the JSON; nulls and missing keys read as "none"; wrong types, bad names, dates
// and numbers are refused with a sentence naming the field; every key of a real document given
// every kind of wrong value never crashes (ASan/UBSan). InProcessLoopClient forwards the engine's
// signals, and an action's `done` runs after the call returned and already sees the change
// (train: state "training"; rollback: the older version active; settings); with the engine gone,
// reads are empty and actions fail.
#include "core/backend/predictionservice.h"
#include "core/client/inprocessloopclient.h"
#include "core/loop/loopengine.h"
#include "core/store/loopstore.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <memory>

using namespace loopdeck;
using client::InProcessLoopClient;
using client::LoopResult;
using client::LoopStatus;
using client::VersionInfo;

namespace {

constexpr int kTimeout = 60000; // ASan on a loaded 2-core machine; never a speed claim
constexpr int kTasks = 40;

const QString kKey = QStringLiteral("1.1764064800");
const QString kConfig = QStringLiteral(
    "<View><Text name=\"text\" value=\"$text\"/><Choices name=\"sentiment\" toName=\"text\" choice=\"single\">"
    "<Choice value=\"Positive\"/><Choice value=\"Negative\"/></Choices></View>");

// Task i: a review with words of its class (even: Positive), labelled accordingly.
store::ChangeSet annotatedTasks(int count)
{
    static const char *const pos[] = {"great", "lovely", "excellent", "happy", "fine"};
    static const char *const neg[] = {"awful", "broken", "terrible", "sad", "slow"};
    store::ChangeSet page;
    page.snapshotAtMs = 1;
    for (int i = 1; i <= count; ++i) {
        const char *const *words = i % 2 == 0 ? pos : neg;
        const std::string text = "review " + std::to_string(i) + " was " + words[i % 5] + " and " + words[(i / 5) % 5];
        store::TaskChange task;
        task.id = i;
        task.dataJson = nlohmann::json{{"text", text}}.dump();
        task.annotationsComplete = true;
        store::AnnotationChange a;
        a.id = i;
        a.taskId = i;
        nlohmann::json region = nlohmann::json::object();
        region["from_name"] = "sentiment";
        region["to_name"] = "text";
        region["type"] = "choices";
        region["value"]["choices"] = nlohmann::json::array({i % 2 == 0 ? "Positive" : "Negative"});
        a.resultJson = nlohmann::json::array({region}).dump();
        a.updatedAtMs = 1764064800000;
        task.annotations.push_back(a);
        page.tasks.push_back(task);
    }
    return page;
}

QJsonObject parse(const char *json)
{
    return QJsonDocument::fromJson(QByteArray(json)).object();
}

// Values of every JSON type (and numbers no field takes), for the "never crash" sweep.
QList<QJsonValue> oddValues()
{
    return {QJsonValue(QJsonValue::Null), true, -1, 0.5, 1e300, -1e300, QStringLiteral("x"), QString(),
            QJsonArray{QStringLiteral("x"), 3}, QJsonArray{}, QJsonObject{}, QJsonObject{{QStringLiteral("a"), 1}}};
}

} // namespace

class TestLoopClient final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void statusFromEngineOutput();
    void versionsFromEngineOutput();
    void nullsAndMissingKeysAreNone();
    void refusesWrongStatus_data();
    void refusesWrongStatus();
    void refusesWrongVersion_data();
    void refusesWrongVersion();
    void neverCrashesOnOddValues();
    void forwardsEngineSignals();
    void doneSeesTheChange();
    void failuresComeThroughDone();
    void engineGone();

private:
    void openEngine();
    // Trains one version by the client's Train now and waits for it.
    void trainVersion(int expected);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<loop::LoopEngine> m_engine;
    std::unique_ptr<InProcessLoopClient> m_client;
};

void TestLoopClient::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void TestLoopClient::cleanup()
{
    m_client.reset();
    m_engine.reset();
    m_dir.reset();
}

void TestLoopClient::openEngine()
{
    m_engine = std::make_unique<loop::LoopEngine>();
    QVERIFY(m_engine->open(m_dir->path(), loop::LoopSettings()).ok());
    m_engine->predictionService()->setLabelConfig(kKey, kConfig);
    // No automatic run (only Train now), a scheduled time to read, every new version active.
    loop::LoopSettings s;
    s.trainEvery = 0;
    s.onStartTraining = false;
    s.intervalMinutes = 600;
    s.cooldownSeconds = 0;
    s.minExamples = 4;
    s.activationMargin = 1.0;
    QVERIFY(m_engine->setSettings(kKey, s).ok());
    QVERIFY(m_engine->store()->apply(kKey, annotatedTasks(kTasks)).ok());
    m_client = std::make_unique<InProcessLoopClient>(m_engine.get());
}

void TestLoopClient::trainVersion(int expected)
{
    QSignalSpy finished(m_client.get(), &client::LoopClient::trainingFinished);
    std::optional<LoopResult> answer;
    m_client->train(kKey, [&](const LoopResult &r) { answer = r; });
    QTRY_VERIFY_WITH_TIMEOUT(answer.has_value(), kTimeout);
    QVERIFY2(answer->ok, qPrintable(answer->error));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
    QCOMPARE(finished.first().at(0).toString(), kKey);
    QCOMPARE(finished.first().at(1).toInt(), expected);
    QTRY_COMPARE_WITH_TIMEOUT(m_client->status(kKey)->state, QStringLiteral("idle"), kTimeout);
}

void TestLoopClient::statusFromEngineOutput()
{
    openEngine();
    // The usable examples are recounted by a worker after the first read.
    QTRY_COMPARE_WITH_TIMEOUT(m_engine->status(kKey).body.value(QStringLiteral("usable_examples")).toInt(), kTasks, kTimeout);
    trainVersion(1);
    const QJsonObject json = m_engine->status(kKey).body;
    QString why;
    const std::optional<LoopStatus> s = LoopStatus::fromJson(json, &why);
    QVERIFY2(s, qPrintable(why));
    QVERIFY(why.isEmpty());
    QCOMPARE(s->project, kKey);
    QCOMPARE(s->state, QStringLiteral("idle"));
    QCOMPARE(s->tasks, kTasks);
    QCOMPARE(s->annotations, kTasks);
    QCOMPARE(s->usableExamples, kTasks);
    QCOMPARE(s->cancelledAnnotations, 0);
    QCOMPARE(s->newSinceTraining, 0);
    QCOMPARE(json.value(QStringLiteral("active_version")).toString(), QStringLiteral("loopdeck-v1"));
    QCOMPARE(s->activeVersion, 1);
    const QString next = json.value(QStringLiteral("next_scheduled_run")).toString();
    QVERIFY(!next.isEmpty());
    QCOMPARE(s->nextScheduledRun, QDateTime::fromString(next, Qt::ISODateWithMs));
    QVERIFY(s->nextScheduledRun > QDateTime::currentDateTimeUtc());
    QVERIFY(!s->lastReconcile.isValid()); // null: no Label Studio to reconcile with
    QVERIFY(s->lastError.isEmpty());
    QVERIFY(s->reconcileError.isEmpty());
    QCOMPARE(s->failuresInARow, 0);
    QVERIFY(s->settings == m_engine->settings(kKey));
    QCOMPARE(s->settings.intervalMinutes, 600);
    QCOMPARE(QJsonArray::fromStringList(s->log), json.value(QStringLiteral("log")).toArray());
    QVERIFY2(s->log.join(QLatin1Char('\n')).contains(QStringLiteral(" trained version=1 ")), qPrintable(s->log.join(QLatin1Char('\n'))));
    QCOMPARE(s->raw, json);
    // The client reads the same.
    QCOMPARE(m_client->status(kKey)->raw, json);
    QVERIFY(!m_client->status(QStringLiteral("7.1764064800"))); // not in the loop
}

void TestLoopClient::versionsFromEngineOutput()
{
    openEngine();
    trainVersion(1);
    trainVersion(2);
    const QJsonArray details = m_engine->versionDetails(kKey);
    QCOMPARE(details.size(), 2);
    const QList<VersionInfo> versions = m_client->versions(kKey);
    QCOMPARE(versions.size(), 2);
    for (int i = 0; i < 2; ++i) {
        const QJsonObject d = details[i].toObject();
        QString why;
        const std::optional<VersionInfo> v = VersionInfo::fromJson(d, &why);
        QVERIFY2(v, qPrintable(why));
        QCOMPARE(v->version, i + 1);
        QCOMPARE(v->name, QStringLiteral("loopdeck-v%1").arg(i + 1));
        QCOMPARE(v->trigger, QStringLiteral("manual"));
        QCOMPARE(v->active, i == 1);
        QCOMPARE(v->trainingExamples, kTasks);
        QVERIFY(v->created.isValid());
        QCOMPARE(v->created, QDateTime::fromString(d.value(QStringLiteral("created")).toString(), Qt::ISODateWithMs));
        const QJsonObject metrics = d.value(QStringLiteral("metrics")).toObject();
        QCOMPARE(v->metrics, metrics);
        QVERIFY(v->accuracy > 0 && v->accuracy <= 1);
        QCOMPARE(v->accuracy, metrics.value(QStringLiteral("accuracy")).toDouble());
        QCOMPARE(v->durationMs, qint64(metrics.value(QStringLiteral("duration_ms")).toDouble()));
        QVERIFY(v->metrics.value(QStringLiteral("confusion")).isObject()); // kept for the detail views
        QVERIFY(d.value(QStringLiteral("live_acceptance")).isNull());
        QCOMPARE(v->liveAcceptance, -1.0);
        QCOMPARE(v->liveTotal, 0);
        QCOMPARE(v->raw, d);
        QCOMPARE(versions[i].raw, d);
    }
}

void TestLoopClient::nullsAndMissingKeysAreNone()
{
    // The smallest documents there are: nothing but what says whose and what.
    QString why = QStringLiteral("untouched");
    const auto s = LoopStatus::fromJson(parse(R"({"project": "3.1700000000", "state": "queued", "active_version": null,
        "next_scheduled_run": null, "last_reconcile": "", "last_error": null, "reconcile_error": null, "log": null,
        "settings": null, "webhook": {"url": "http://x/webhook", "state": "ok", "warning": null}, "queued": "manual"})"),
                                        &why);
    QVERIFY2(s, qPrintable(why));
    QCOMPARE(why, QStringLiteral("untouched")); // set only on failure
    QCOMPARE(s->state, QStringLiteral("queued"));
    QCOMPARE(s->queued, QStringLiteral("manual"));
    QCOMPARE(s->activeVersion, 0);
    QVERIFY(!s->nextScheduledRun.isValid());
    QVERIFY(!s->lastReconcile.isValid());
    QVERIFY(s->lastError.isEmpty());
    QVERIFY(s->log.isEmpty());
    QVERIFY(s->settings == loop::LoopSettings());
    QCOMPARE(s->webhookState, QStringLiteral("ok"));
    QVERIFY(s->webhookWarning.isEmpty());
    QCOMPARE(s->progress, 0.0);

    // "enabled" at the top counts when settings do not say.
    QCOMPARE(LoopStatus::fromJson(parse(R"({"project": "3", "state": "idle", "enabled": false})"))->settings.enabled, false);
    QCOMPARE(LoopStatus::fromJson(parse(R"({"project": "3", "state": "idle", "enabled": true,
        "settings": {"enabled": false}})"))->settings.enabled, false);
    // A progress beyond 0..1 is drawn at its end.
    QCOMPARE(LoopStatus::fromJson(parse(R"({"project": "3", "state": "training", "progress": 1.5})"))->progress, 1.0);

    const auto v = VersionInfo::fromJson(parse(R"({"version": 4, "metrics": {"accuracy": null}, "live_acceptance": null,
        "created": "", "trigger": null})"));
    QVERIFY(v);
    QCOMPARE(v->name, QStringLiteral("loopdeck-v4"));
    QCOMPARE(v->accuracy, -1.0);
    QCOMPARE(v->liveAcceptance, -1.0);
    QVERIFY(!v->created.isValid());
    QVERIFY(!v->active);
    // The name alone is enough; the live share follows from the counts when the rate is absent.
    const auto named = VersionInfo::fromJson(parse(R"({"name": "loopdeck-v12", "live_acceptance": {"accepted": 3, "total": 4}})"));
    QVERIFY(named);
    QCOMPARE(named->version, 12);
    QCOMPARE(named->liveAcceptance, 0.75);
    QCOMPARE(named->liveTotal, 4);
    // Dates with or without milliseconds, with an offset.
    QCOMPARE(VersionInfo::fromJson(parse(R"({"version": 1, "created": "2026-11-25T10:01:00+02:00"})"))->created,
             QDateTime(QDate(2026, 11, 25), QTime(8, 1), Qt::UTC));
}

void TestLoopClient::refusesWrongStatus_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("field");
    QTest::newRow("empty") << QByteArray("{}") << "project";
    QTest::newRow("no state") << QByteArray(R"({"project": "3"})") << "state";
    QTest::newRow("project number") << QByteArray(R"({"project": 3, "state": "idle"})") << "project";
    QTest::newRow("state list") << QByteArray(R"({"project": "3", "state": ["idle"]})") << "state";
    QTest::newRow("tasks text") << QByteArray(R"({"project": "3", "state": "idle", "tasks": "12"})") << "tasks";
    QTest::newRow("tasks negative") << QByteArray(R"({"project": "3", "state": "idle", "tasks": -1})") << "tasks";
    QTest::newRow("tasks fraction") << QByteArray(R"({"project": "3", "state": "idle", "annotations": 1.5})") << "annotations";
    QTest::newRow("tasks huge") << QByteArray(R"({"project": "3", "state": "idle", "usable_examples": 1e300})") << "usable_examples";
    QTest::newRow("version number") << QByteArray(R"({"project": "3", "state": "idle", "active_version": 4})") << "active_version";
    QTest::newRow("version short") << QByteArray(R"({"project": "3", "state": "idle", "active_version": "v4"})") << "active_version";
    QTest::newRow("version zero") << QByteArray(R"({"project": "3", "state": "idle", "active_version": "loopdeck-v0"})")
                                  << "active_version";
    QTest::newRow("version padded") << QByteArray(R"({"project": "3", "state": "idle", "active_version": "loopdeck-v04"})")
                                    << "active_version";
    QTest::newRow("version sign") << QByteArray(R"({"project": "3", "state": "idle", "active_version": "loopdeck-v+4"})")
                                  << "active_version";
    QTest::newRow("date words") << QByteArray(R"({"project": "3", "state": "idle", "next_scheduled_run": "tomorrow"})")
                                << "next_scheduled_run";
    QTest::newRow("date number") << QByteArray(R"({"project": "3", "state": "idle", "last_reconcile": 1764064800})")
                                 << "last_reconcile";
    QTest::newRow("error object") << QByteArray(R"({"project": "3", "state": "idle", "last_error": {}})") << "last_error";
    QTest::newRow("log text") << QByteArray(R"({"project": "3", "state": "idle", "log": "a line"})") << "log";
    QTest::newRow("log numbers") << QByteArray(R"({"project": "3", "state": "idle", "log": ["a", 2]})") << "log";
    QTest::newRow("settings text") << QByteArray(R"({"project": "3", "state": "idle", "settings": "on"})") << "settings";
    QTest::newRow("settings range") << QByteArray(R"({"project": "3", "state": "idle", "settings": {"train_every": -5}})")
                                    << "settings";
    QTest::newRow("webhook text") << QByteArray(R"({"project": "3", "state": "idle", "webhook": "ok"})") << "webhook";
    QTest::newRow("webhook warning") << QByteArray(R"({"project": "3", "state": "idle", "webhook": {"warning": 3}})")
                                     << "webhook.warning";
    QTest::newRow("progress text") << QByteArray(R"({"project": "3", "state": "training", "progress": "half"})") << "progress";
    QTest::newRow("enabled text") << QByteArray(R"({"project": "3", "state": "idle", "enabled": "yes"})") << "enabled";
    QTest::newRow("failures bool") << QByteArray(R"({"project": "3", "state": "idle", "failures_in_a_row": true})")
                                   << "failures_in_a_row";
}

void TestLoopClient::refusesWrongStatus()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, field);
    const QJsonDocument doc = QJsonDocument::fromJson(json);
    QVERIFY(doc.isObject());
    QString why;
    QVERIFY(!LoopStatus::fromJson(doc.object(), &why));
    QVERIFY2(why.contains(QStringLiteral("\"%1\"").arg(field)), qPrintable(why));
    QVERIFY2(why.endsWith(QLatin1Char('.')) && !why.endsWith(QLatin1String("..")), qPrintable(why));
    QVERIFY(!LoopStatus::fromJson(doc.object())); // no error wanted: still no crash
}

void TestLoopClient::refusesWrongVersion_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("field");
    QTest::newRow("empty") << QByteArray("{}") << "version";
    QTest::newRow("version zero") << QByteArray(R"({"version": 0})") << "version";
    QTest::newRow("version text") << QByteArray(R"({"version": "3"})") << "version";
    QTest::newRow("version fraction") << QByteArray(R"({"version": 2.5})") << "version";
    QTest::newRow("name short") << QByteArray(R"({"name": "v3"})") << "name";
    QTest::newRow("name number") << QByteArray(R"({"version": 3, "name": 3})") << "name";
    QTest::newRow("name disagrees") << QByteArray(R"({"version": 3, "name": "loopdeck-v4"})") << "name";
    QTest::newRow("created words") << QByteArray(R"({"version": 1, "created": "last week"})") << "created";
    QTest::newRow("active text") << QByteArray(R"({"version": 1, "active": "true"})") << "active";
    QTest::newRow("examples negative") << QByteArray(R"({"version": 1, "training_examples": -1})") << "training_examples";
    QTest::newRow("metrics list") << QByteArray(R"({"version": 1, "metrics": []})") << "metrics";
    QTest::newRow("accuracy text") << QByteArray(R"({"version": 1, "metrics": {"accuracy": "high"}})") << "metrics.accuracy";
    QTest::newRow("macro text") << QByteArray(R"({"version": 1, "metrics": {"macro_f1": "0.9"}})") << "metrics.macro_f1";
    QTest::newRow("accuracy above 1") << QByteArray(R"({"version": 1, "metrics": {"accuracy": 91.2}})") << "metrics.accuracy";
    QTest::newRow("duration negative") << QByteArray(R"({"version": 1, "metrics": {"duration_ms": -4}})") << "metrics.duration_ms";
    QTest::newRow("live number") << QByteArray(R"({"version": 1, "live_acceptance": 0.5})") << "live_acceptance";
    QTest::newRow("live more than all") << QByteArray(R"({"version": 1, "live_acceptance": {"accepted": 5, "total": 3}})")
                                        << "live_acceptance.accepted";
    QTest::newRow("live rate") << QByteArray(R"({"version": 1, "live_acceptance": {"rate": 2, "accepted": 1, "total": 1}})")
                               << "live_acceptance.rate";
    QTest::newRow("trigger number") << QByteArray(R"({"version": 1, "trigger": 5})") << "trigger";
}

void TestLoopClient::refusesWrongVersion()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, field);
    const QJsonDocument doc = QJsonDocument::fromJson(json);
    QVERIFY(doc.isObject());
    QString why;
    QVERIFY(!VersionInfo::fromJson(doc.object(), &why));
    QVERIFY2(why.contains(QStringLiteral("\"%1\"").arg(field)), qPrintable(why));
    QVERIFY(!VersionInfo::fromJson(doc.object()));
}

void TestLoopClient::neverCrashesOnOddValues()
{
    openEngine();
    trainVersion(1);
    const QJsonObject status = m_engine->status(kKey).body;
    const QJsonObject version = m_engine->versionDetails(kKey).first().toObject();
    QVERIFY(LoopStatus::fromJson(status));
    QVERIFY(VersionInfo::fromJson(version));
    // Every key (and every key of an object in it) with every kind of value: an answer or a
    // refusal with a sentence, never a crash or undefined behaviour.
    int refused = 0;
    const auto sweep = [&](const QJsonObject &doc, auto parser) {
        for (auto it = doc.begin(); it != doc.end(); ++it) {
            QList<QJsonObject> variants;
            for (const QJsonValue &odd : oddValues()) {
                QJsonObject changed = doc;
                changed.insert(it.key(), odd);
                variants << changed;
                if (it.value().isObject()) {
                    const QJsonObject inner = it.value().toObject();
                    for (auto in = inner.begin(); in != inner.end(); ++in) {
                        QJsonObject innerChanged = inner;
                        innerChanged.insert(in.key(), odd);
                        QJsonObject outer = doc;
                        outer.insert(it.key(), innerChanged);
                        variants << outer;
                    }
                }
            }
            QJsonObject without = doc;
            without.remove(it.key());
            variants << without;
            for (const QJsonObject &v : std::as_const(variants)) {
                QString why;
                if (!parser(v, &why)) {
                    ++refused;
                    QVERIFY2(!why.isEmpty(), qPrintable(QString::fromUtf8(QJsonDocument(v).toJson(QJsonDocument::Compact))));
                }
            }
        }
    };
    sweep(status, [](const QJsonObject &j, QString *e) { return LoopStatus::fromJson(j, e).has_value(); });
    sweep(version, [](const QJsonObject &j, QString *e) { return VersionInfo::fromJson(j, e).has_value(); });
    QVERIFY(refused > 100); // the sweep did reach the checks
}

void TestLoopClient::forwardsEngineSignals()
{
    openEngine();
    QCOMPARE(m_client->where(), client::LoopClient::Where::ThisComputer);
    QCOMPARE(m_client->describe(), QStringLiteral("this computer"));
    QVERIFY(m_client->isUp());
    QCOMPARE(m_client->projects(), QStringList{kKey});
    QSignalSpy status(m_client.get(), &client::LoopClient::statusChanged);
    QSignalSpy added(m_client.get(), &client::LoopClient::projectAdded);
    QSignalSpy started(m_client.get(), &client::LoopClient::trainingStarted);
    QSignalSpy versions(m_client.get(), &client::LoopClient::versionsChanged);
    // The engine emits statusChanged at once when settings are saved.
    loop::LoopSettings s = m_engine->settings(kKey);
    s.keepVersions = 7;
    QVERIFY(m_engine->setSettings(kKey, s).ok());
    QVERIFY(!status.isEmpty());
    QCOMPARE(status.last().at(0).toString(), kKey);
    m_engine->addProject(QStringLiteral("2.1764064900"));
    QCOMPARE(added.count(), 1);
    QCOMPARE(added.first().at(0).toString(), QStringLiteral("2.1764064900"));
    trainVersion(1);
    QCOMPARE(started.count(), 1);
    QCOMPARE(started.first(), (QList<QVariant>{kKey, QStringLiteral("manual")}));
    QVERIFY(!versions.isEmpty());
    // refresh() has nothing to fetch here, and still says so by the signals.
    status.clear();
    versions.clear();
    m_client->refresh(kKey);
    QCOMPARE(status.count(), 0); // later, not from inside the call
    QCOMPARE(versions.count(), 0);
    // (The engine may say statusChanged on its own meanwhile; versionsChanged it does not.)
    QTRY_COMPARE(versions.count(), 1);
    QVERIFY(!status.isEmpty());
}

void TestLoopClient::doneSeesTheChange()
{
    openEngine();
    trainVersion(1);
    // Train now: `done` runs after train() returned, and the status already shows the run.
    bool returned = false;
    std::optional<QString> stateInDone;
    QString answer;
    m_client->train(kKey, [&](const LoopResult &r) {
        QVERIFY(returned);
        answer = r.body.value(QStringLiteral("train")).toString();
        stateInDone = m_client->status(kKey)->state;
    });
    returned = true;
    QTRY_VERIFY_WITH_TIMEOUT(stateInDone.has_value(), kTimeout);
    QCOMPARE(answer, QStringLiteral("started"));
    QCOMPARE(*stateInDone, QStringLiteral("training"));
    QTRY_COMPARE_WITH_TIMEOUT(m_client->versions(kKey).size(), 2, kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(m_client->status(kKey)->state, QStringLiteral("idle"), kTimeout);
    QCOMPARE(m_client->status(kKey)->activeVersion, 2);

    // Roll back: in `done`, v1 is the active one in the status and in the versions.
    std::optional<LoopResult> rolled;
    int activeInDone = 0;
    QList<VersionInfo> versionsInDone;
    m_client->rollback(kKey, [&](const LoopResult &r) {
        rolled = r;
        activeInDone = m_client->status(kKey)->activeVersion;
        versionsInDone = m_client->versions(kKey);
    });
    QVERIFY(!rolled); // not from inside the call
    QTRY_VERIFY(rolled.has_value());
    QVERIFY2(rolled->ok, qPrintable(rolled->error));
    QCOMPARE(rolled->httpStatus, 0);
    QCOMPARE(rolled->body.value(QStringLiteral("active")).toString(), QStringLiteral("loopdeck-v1"));
    QCOMPARE(activeInDone, 1);
    QCOMPARE(versionsInDone.size(), 2);
    QVERIFY(versionsInDone[0].active);
    QVERIFY(!versionsInDone[1].active);

    // Activate v2 again.
    std::optional<int> activated;
    m_client->activate(kKey, 2, [&](const LoopResult &r) {
        QVERIFY(r.ok);
        activated = m_client->status(kKey)->activeVersion;
    });
    QTRY_VERIFY(activated.has_value());
    QCOMPARE(*activated, 2);

    // Settings: saved and in force when `done` runs.
    loop::LoopSettings s = m_client->settings(kKey);
    s.trainEvery = 33;
    s.dailyAt = QTime(2, 30);
    std::optional<loop::LoopSettings> inDone;
    m_client->setSettings(kKey, s, [&](const LoopResult &r) {
        QVERIFY(r.ok);
        inDone = m_client->status(kKey)->settings;
    });
    QTRY_VERIFY(inDone.has_value());
    QVERIFY(*inDone == s);
    QVERIFY(m_client->settings(kKey) == s);
}

void TestLoopClient::failuresComeThroughDone()
{
    openEngine();
    std::optional<LoopResult> cancel, activate, rollback;
    m_client->cancel(kKey, [&](const LoopResult &r) { cancel = r; });
    m_client->activate(kKey, 9, [&](const LoopResult &r) { activate = r; });
    m_client->rollback(kKey, [&](const LoopResult &r) { rollback = r; });
    QTRY_VERIFY(cancel && activate && rollback);
    for (const LoopResult *r : {&*cancel, &*activate, &*rollback}) {
        QVERIFY(!r->ok);
        QVERIFY(r->body.isEmpty());
        QVERIFY(!r->error.isEmpty());
    }
    QVERIFY2(cancel->error.contains(QStringLiteral("No training run")), qPrintable(cancel->error));
    QVERIFY2(activate->error.contains(QStringLiteral("no model version 9")), qPrintable(activate->error));
    // A null `done` is allowed (nobody waits for the answer).
    m_client->cancel(kKey, {});
    QTest::qWait(10);
}

void TestLoopClient::engineGone()
{
    openEngine();
    m_engine.reset();
    QVERIFY(!m_client->engine());
    QVERIFY(m_client->projects().isEmpty());
    QVERIFY(!m_client->status(kKey));
    QVERIFY(m_client->versions(kKey).isEmpty());
    std::optional<LoopResult> answer;
    m_client->train(kKey, [&](const LoopResult &r) { answer = r; });
    QTRY_VERIFY(answer.has_value());
    QVERIFY(!answer->ok);
    QVERIFY(!answer->error.isEmpty());
}

QTEST_GUILESS_MAIN(TestLoopClient)
#include "tst_loopclient.moc"
