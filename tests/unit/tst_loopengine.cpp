// LoopEngine in-process, over real HTTP on a free loopback port, without Label Studio: /setup
// brings a project into the loop, ANNOTATION_CREATED webhooks fill the store until the
// threshold trains a version by itself, which becomes active and is reported by /setup and
// /versions; "train now"; the activation policy keeps a worse version inactive; activate and
// rollback; retention; cancel; every /predict answer comes from one whole model while versions
// are published, activated and rolled back from other threads; operator routes with bad input.
#include "core/backend/backendserver.h"
#include "core/backend/modelregistry.h"
#include "core/backend/predictionservice.h"
#include "core/loop/loopengine.h"
#include "core/model/textclassifier.h"
#include "core/store/loopstore.h"

#include <QDir>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <atomic>
#include <random>
#include <thread>

using loopdeck::backend::ServerConfig;
using loopdeck::loop::LoopEngine;
using loopdeck::loop::LoopSettings;
using loopdeck::model::Example;
using loopdeck::model::TextClassifier;
using nlohmann::json;

namespace {

constexpr int kTimeout = 60000; // generous: ASan, a loaded 2-core machine; never a speed claim

const QString kConfig = QStringLiteral(
    "<View><Text name=\"text\" value=\"$text\"/><Choices name=\"sentiment\" toName=\"text\" choice=\"single\">"
    "<Choice value=\"Positive\"/><Choice value=\"Negative\"/></Choices></View>");

// Sentences with a clear sentiment word mix, seeded.
QString sentence(std::mt19937 &rng, bool positive)
{
    static const QStringList pos = {QStringLiteral("great"), QStringLiteral("wonderful"), QStringLiteral("loved"),
                                    QStringLiteral("excellent"), QStringLiteral("superb"), QStringLiteral("delightful")};
    static const QStringList neg = {QStringLiteral("awful"), QStringLiteral("terrible"), QStringLiteral("hated"),
                                    QStringLiteral("boring"), QStringLiteral("dreadful"), QStringLiteral("broken")};
    static const QStringList filler = {QStringLiteral("the"), QStringLiteral("film"), QStringLiteral("was"),
                                       QStringLiteral("really"), QStringLiteral("and"), QStringLiteral("plot"),
                                       QStringLiteral("acting"), QStringLiteral("today")};
    QStringList words;
    const int n = 6 + int(rng() % 5);
    for (int i = 0; i < n; ++i)
        words << (rng() % 3 == 0 ? (positive ? pos : neg)[qsizetype(rng() % 6)] : filler[qsizetype(rng() % filler.size())]);
    words << (positive ? pos : neg)[qsizetype(rng() % 6)];
    return words.join(QLatin1Char(' '));
}

// Label Studio's name of the test project: id 1, created at 1764064800 (what /setup sends).
const QString kKey = QStringLiteral("1.1764064800");

QString lsTime(int second)
{
    return QDateTime(QDate(2026, 11, 25), QTime(10, 0), Qt::UTC).addSecs(second).toString(Qt::ISODateWithMs).replace(
        QStringLiteral("Z"), QStringLiteral("123Z"));
}

// A webhook body the way Label Studio 1.23.2 sends ANNOTATION_CREATED / ANNOTATION_UPDATED.
QByteArray annotationEvent(const char *action, qint64 project, qint64 taskId, qint64 annotationId, const QString &text,
                           const QString &label, int second)
{
    const json annotation = {{"id", annotationId},
                             {"result", json::array({json{{"id", "r" + std::to_string(annotationId)},
                                                          {"type", "choices"},
                                                          {"value", {{"choices", json::array({label.toStdString()})}}},
                                                          {"origin", "manual"},
                                                          {"to_name", "text"},
                                                          {"from_name", "sentiment"}}})},
                             {"created_username", " annotator@example.com, 1"},
                             {"created_ago", "0 minutes"},
                             {"completed_by", 1},
                             {"was_cancelled", false},
                             {"ground_truth", false},
                             {"created_at", lsTime(0).toStdString()},
                             {"updated_at", lsTime(second).toStdString()},
                             {"draft_created_at", nullptr},
                             {"lead_time", 2.5},
                             {"import_id", nullptr},
                             {"last_action", nullptr},
                             {"bulk_created", false},
                             {"task", taskId},
                             {"project", project},
                             {"updated_by", 1},
                             {"parent_prediction", nullptr},
                             {"parent_annotation", nullptr},
                             {"last_created_by", nullptr}};
    const json task = {{"id", taskId},
                       {"data", {{"text", text.toStdString()}}},
                       {"meta", json::object()},
                       {"created_at", lsTime(0).toStdString()},
                       {"updated_at", lsTime(second).toStdString()},
                       {"is_labeled", true},
                       {"overlap", 1},
                       {"inner_id", taskId},
                       {"total_annotations", 1},
                       {"cancelled_annotations", 0},
                       {"total_predictions", 0},
                       {"project", project},
                       {"updated_by", 1},
                       {"file_upload", nullptr}};
    const json body = {{"action", action},
                       {"annotation", annotation},
                       {"task", task},
                       {"project", {{"id", project}, {"title", "Reviews"}, {"label_config", kConfig.toStdString()}}}};
    return QByteArray::fromStdString(body.dump());
}

struct Reply {
    int status = 0;
    QByteArray body;
    QJsonObject json;
};

std::shared_ptr<const TextClassifier> trainModel(const QList<Example> &examples)
{
    QString error;
    auto m = TextClassifier::train(examples, {}, &error);
    if (!m)
        qFatal("cannot train a test model: %s", qPrintable(error));
    return m;
}

} // namespace

class TestLoopEngine final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void thresholdTrainsByItself();
    void activationPolicyActivateRollback();
    void retentionNeverDeletesActive();
    void cancelKeepsActiveServing();
    void webhookBadInputAndIdempotency();
    void operatorRoutesBadInput();
    void predictFromOneWholeModelWhileSwapping();

private:
    void startEngine(const LoopSettings &settings);
    Reply send(const QByteArray &method, const QString &path, const QByteArray &body = {});
    QString setupProject(qint64 project = 1);
    void postAnnotations(int from, int count, unsigned seed, bool noisy = false, const char *action = "ANNOTATION_CREATED",
                         int second = 1);
    QJsonObject status(qint64 project = 1);
    QJsonArray details(qint64 project = 1);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<LoopEngine> m_engine;
    QNetworkAccessManager *m_nam = nullptr;
    quint16 m_port = 0;
};

void TestLoopEngine::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_nam = new QNetworkAccessManager(this);
}

void TestLoopEngine::cleanup()
{
    m_engine.reset();
    delete m_nam;
    m_nam = nullptr;
    m_dir.reset();
}

void TestLoopEngine::startEngine(const LoopSettings &settings)
{
    m_engine = std::make_unique<LoopEngine>();
    const auto opened = m_engine->open(m_dir->path(), settings);
    QVERIFY2(opened, qPrintable(opened.error()));
    ServerConfig config;
    config.port = 0;
    QString error;
    QVERIFY2(m_engine->startServer(config, &error), qPrintable(error));
    m_port = m_engine->server()->port();
    QVERIFY(m_port != 0);
}

Reply TestLoopEngine::send(const QByteArray &method, const QString &path, const QByteArray &body)
{
    QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(path)));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setTransferTimeout(30000);
    QNetworkReply *reply = m_nam->sendCustomRequest(request, method, body);
    QEventLoop loop;
    connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    Reply r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = reply->readAll();
    r.json = QJsonDocument::fromJson(r.body).object();
    reply->deleteLater();
    return r;
}

QString TestLoopEngine::setupProject(qint64 project)
{
    const QJsonObject body{{QStringLiteral("project"), QStringLiteral("%1.1764064800").arg(project)},
                           {QStringLiteral("schema"), kConfig},
                           {QStringLiteral("hostname"), QStringLiteral("http://localhost:8080")},
                           {QStringLiteral("access_token"), QStringLiteral("0123456789abcdef0123456789abcdef01234567")},
                           {QStringLiteral("extra_params"), QJsonObject()}};
    const Reply r = send("POST", QStringLiteral("/setup"), QJsonDocument(body).toJson(QJsonDocument::Compact));
    if (r.status != 200)
        qWarning("setup answered %d: %s", r.status, r.body.constData());
    return r.json.value(QStringLiteral("model_version")).toString();
}

// Annotations for tasks from..from+count-1 (annotation id = task id + 10000). Labels alternate;
// `noisy` replaces them with seeded coin flips.
void TestLoopEngine::postAnnotations(int from, int count, unsigned seed, bool noisy, const char *action, int second)
{
    std::mt19937 rng(seed);
    std::mt19937 textRng(1234); // the texts stay the same between clean and noisy rounds
    for (int i = 0; i < from - 1; ++i)
        (void)sentence(textRng, i % 2 == 0);
    for (int t = from; t < from + count; ++t) {
        const bool positive = (t - 1) % 2 == 0;
        const QString text = sentence(textRng, positive);
        const bool label = noisy ? rng() % 2 == 0 : positive;
        const Reply r = send("POST", QStringLiteral("/webhook"),
                             annotationEvent(action, 1, t, 10000 + t, text, label ? QStringLiteral("Positive") : QStringLiteral("Negative"),
                                             second));
        QVERIFY2(r.status == 201, r.body.constData());
    }
}

QJsonObject TestLoopEngine::status(qint64 project)
{
    const Reply r = send("GET", QStringLiteral("/loop/status?project=%1").arg(project));
    if (r.status != 200)
        qWarning("status answered %d: %s", r.status, r.body.constData());
    return r.json;
}

QJsonArray TestLoopEngine::details(qint64 project)
{
    return send("GET", QStringLiteral("/versions?project=%1").arg(project)).json.value(QStringLiteral("details")).toArray();
}

void TestLoopEngine::thresholdTrainsByItself()
{
    LoopSettings s;
    s.trainEvery = 20;
    s.minExamples = 10;
    s.cooldownSeconds = 0;
    s.refreshPredictions = false;
    startEngine(s);
    QSignalSpy started(m_engine.get(), &LoopEngine::trainingStarted);
    QSignalSpy finished(m_engine.get(), &LoopEngine::trainingFinished);
    QSignalSpy changed(m_engine.get(), &LoopEngine::statusChanged);

    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v0"));
    QTRY_VERIFY_WITH_TIMEOUT(m_engine->projects().contains(kKey), kTimeout);

    postAnnotations(1, 19, 1);
    QTRY_VERIFY_WITH_TIMEOUT(changed.count() >= 19, kTimeout); // every webhook's follow-up ran
    QCOMPARE(started.count(), 0);
    QJsonObject st = status();
    QCOMPARE(st.value(QStringLiteral("new_since_training")).toInt(), 19);
    QCOMPARE(st.value(QStringLiteral("state")).toString(), QStringLiteral("idle"));
    QVERIFY(st.value(QStringLiteral("active_version")).isNull());

    postAnnotations(20, 1, 1); // crosses the threshold
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
    QCOMPARE(started.count(), 1);
    QCOMPARE(started.at(0).at(1).toString(), QStringLiteral("threshold"));
    QCOMPARE(finished.at(0).at(0).toString(), kKey);
    QCOMPARE(finished.at(0).at(1).toInt(), 1);
    QCOMPARE(finished.at(0).at(2).toBool(), true);

    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v1"));
    const QJsonArray d = details();
    QCOMPARE(d.size(), 1);
    const QJsonObject v1 = d.at(0).toObject();
    QCOMPARE(v1.value(QStringLiteral("name")).toString(), QStringLiteral("loopdeck-v1"));
    QCOMPARE(v1.value(QStringLiteral("trigger")).toString(), QStringLiteral("threshold"));
    QCOMPARE(v1.value(QStringLiteral("training_examples")).toInt(), 20);
    QCOMPARE(v1.value(QStringLiteral("active")).toBool(), true);
    const QJsonObject metrics = v1.value(QStringLiteral("metrics")).toObject();
    const double accuracy = metrics.value(QStringLiteral("accuracy")).toDouble(-1);
    QVERIFY2(accuracy >= 0.0 && accuracy <= 1.0, qPrintable(QString::number(accuracy)));
    QVERIFY(metrics.value(QStringLiteral("macro_f1")).isDouble());
    QVERIFY(metrics.value(QStringLiteral("per_class")).isObject() || metrics.value(QStringLiteral("per_class")).isArray());
    QVERIFY(!metrics.value(QStringLiteral("confusion")).isUndefined() && !metrics.value(QStringLiteral("confusion")).isNull());
    QVERIFY(!v1.value(QStringLiteral("created")).toString().isEmpty());

    // Usable examples are recounted on a worker (never on the caller's thread).
    QTRY_COMPARE_WITH_TIMEOUT(status().value(QStringLiteral("usable_examples")).toInt(), 20, kTimeout);
    st = status();
    QCOMPARE(st.value(QStringLiteral("new_since_training")).toInt(), 0);
    QCOMPARE(st.value(QStringLiteral("active_version")).toString(), QStringLiteral("loopdeck-v1"));
    QCOMPARE(st.value(QStringLiteral("state")).toString(), QStringLiteral("idle"));

    // The new version predicts.
    const Reply p = send("POST", QStringLiteral("/predict"),
                         QJsonDocument(QJsonObject{{QStringLiteral("project"), QStringLiteral("1.1764064800")},
                                                   {QStringLiteral("label_config"), kConfig},
                                                   {QStringLiteral("tasks"),
                                                    QJsonArray{QJsonObject{{QStringLiteral("id"), 500},
                                                                           {QStringLiteral("data"),
                                                                            QJsonObject{{QStringLiteral("text"),
                                                                                         QStringLiteral("great wonderful excellent")}}}}}}})
                             .toJson());
    QCOMPARE(p.status, 200);
    const QJsonObject result = p.json.value(QStringLiteral("results")).toArray().at(0).toObject();
    QCOMPARE(result.value(QStringLiteral("model_version")).toString(), QStringLiteral("loopdeck-v1"));
    QCOMPARE(result.value(QStringLiteral("result")).toArray().at(0).toObject().value(QStringLiteral("value")).toObject()
                 .value(QStringLiteral("choices")).toArray().at(0).toString(),
             QStringLiteral("Positive"));

    // Train now.
    const Reply t = send("POST", QStringLiteral("/loop/train?project=1"));
    QVERIFY2(t.status == 200, t.body.constData());
    QCOMPARE(t.json.value(QStringLiteral("train")).toString(), QStringLiteral("started"));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, kTimeout);
    QCOMPARE(started.at(1).at(1).toString(), QStringLiteral("manual"));
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v2"));
    QCOMPARE(details().at(1).toObject().value(QStringLiteral("trigger")).toString(), QStringLiteral("manual"));
    // No further automatic run without new annotations.
    QCOMPARE(status().value(QStringLiteral("new_since_training")).toInt(), 0);
    QCOMPARE(started.count(), 2);
}

void TestLoopEngine::activationPolicyActivateRollback()
{
    LoopSettings s;
    s.trainEvery = 0; // manual only
    s.cooldownSeconds = 0;
    s.refreshPredictions = false;
    s.activationMargin = 0.02;
    startEngine(s);
    QSignalSpy finished(m_engine.get(), &LoopEngine::trainingFinished);
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v0"));
    QTRY_VERIFY_WITH_TIMEOUT(m_engine->projects().contains(kKey), kTimeout);

    postAnnotations(1, 40, 1);
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
    QVERIFY(finished.at(0).at(2).toBool());
    const double clean = finished.at(0).at(4).toDouble();
    QVERIFY2(clean >= 0.9, qPrintable(QString::number(clean)));

    // The same texts relabelled by coin flips: a clearly worse model.
    postAnnotations(1, 40, 99, true, "ANNOTATION_UPDATED", 60);
    QVERIFY(status().value(QStringLiteral("new_since_training")).toInt() > 0);
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, kTimeout);
    QCOMPARE(finished.at(1).at(1).toInt(), 2);
    const double noisy = finished.at(1).at(4).toDouble();
    QCOMPARE(finished.at(1).at(3).toDouble(), clean); // compared with the active one
    QVERIFY2(noisy < clean - s.activationMargin, qPrintable(QStringLiteral("%1 vs %2").arg(noisy).arg(clean)));
    QCOMPARE(finished.at(1).at(2).toBool(), false); // kept, not activated
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v1"));
    QJsonArray d = details();
    QCOMPARE(d.size(), 2);
    QCOMPARE(d.at(0).toObject().value(QStringLiteral("active")).toBool(), true);
    QCOMPARE(d.at(1).toObject().value(QStringLiteral("active")).toBool(), false);
    const auto runs = m_engine->store()->runs(kKey, 10);
    QVERIFY(runs);
    QCOMPARE(runs->constLast().outcome, QStringLiteral("kept"));

    // The operator overrides the policy, then goes back.
    Reply r = send("POST", QStringLiteral("/loop/activate?project=1&version=2"));
    QVERIFY2(r.status == 200, r.body.constData());
    QCOMPARE(r.json.value(QStringLiteral("active")).toString(), QStringLiteral("loopdeck-v2"));
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v2"));
    QCOMPARE(details().at(1).toObject().value(QStringLiteral("active")).toBool(), true);
    r = send("POST", QStringLiteral("/loop/activate?project=1&version=loopdeck-v1"));
    QVERIFY2(r.status == 200, r.body.constData());
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v1"));
    QCOMPARE(send("POST", QStringLiteral("/loop/activate?project=1&version=2")).status, 200);
    r = send("POST", QStringLiteral("/loop/rollback?project=1"));
    QVERIFY2(r.status == 200, r.body.constData());
    QCOMPARE(r.json.value(QStringLiteral("active")).toString(), QStringLiteral("loopdeck-v1"));
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v1"));
    QCOMPARE(status().value(QStringLiteral("active_version")).toString(), QStringLiteral("loopdeck-v1"));
    // Nothing older than v1.
    r = send("POST", QStringLiteral("/loop/rollback?project=1"));
    QVERIFY2(r.status == 409, r.body.constData());
    QVERIFY(r.json.value(QStringLiteral("error")).toString().size() > 10);
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v1"));

    // A margin of 1 accepts anything: the next noisy version is activated.
    LoopSettings loose = s;
    loose.activationMargin = 1.0;
    QVERIFY(m_engine->setSettings(kKey, loose));
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 3, kTimeout);
    QCOMPARE(finished.at(2).at(2).toBool(), true);
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v3"));

    // The active version survives a restart of the engine.
    m_engine.reset();
    startEngine(s);
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v3"));
    QCOMPARE(details().size(), 3);
}

void TestLoopEngine::retentionNeverDeletesActive()
{
    LoopSettings s;
    s.trainEvery = 0;
    s.cooldownSeconds = 0;
    s.refreshPredictions = false;
    s.keepVersions = 2;
    startEngine(s);
    QSignalSpy finished(m_engine.get(), &LoopEngine::trainingFinished);
    setupProject();
    QTRY_VERIFY_WITH_TIMEOUT(m_engine->projects().contains(kKey), kTimeout);
    postAnnotations(1, 40, 1);
    for (int i = 1; i <= 4; ++i) {
        QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), i, kTimeout);
    }
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v4"));
    QJsonArray d = details();
    QCOMPARE(d.size(), 2);
    QCOMPARE(d.at(0).toObject().value(QStringLiteral("version")).toInt(), 3);
    QCOMPARE(d.at(1).toObject().value(QStringLiteral("version")).toInt(), 4);
    const QDir models(m_dir->filePath(QStringLiteral("models/1.1764064800")));
    QVERIFY(!models.exists(QStringLiteral("v1.ldm")));
    QVERIFY(!models.exists(QStringLiteral("v2.ldm")));
    QVERIFY(models.exists(QStringLiteral("v4.ldm")));
    QCOMPARE(m_engine->store()->versions(kKey)->size(), 2);

    // v4 is active; two noisy versions are kept inactive: v4 (active) and v6 (newest) stay.
    postAnnotations(1, 40, 99, true, "ANNOTATION_UPDATED", 60);
    for (int i = 5; i <= 6; ++i) {
        QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), i, kTimeout);
        QCOMPARE(finished.last().at(2).toBool(), false);
    }
    d = details();
    QCOMPARE(d.size(), 2);
    QCOMPARE(d.at(0).toObject().value(QStringLiteral("version")).toInt(), 4);
    QCOMPARE(d.at(0).toObject().value(QStringLiteral("active")).toBool(), true);
    QCOMPARE(d.at(1).toObject().value(QStringLiteral("version")).toInt(), 6);
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v4"));
    // Numbers are never reused.
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 7, kTimeout);
    QCOMPARE(finished.last().at(1).toInt(), 7);
}

void TestLoopEngine::cancelKeepsActiveServing()
{
    LoopSettings s;
    s.trainEvery = 0;
    s.cooldownSeconds = 0;
    s.refreshPredictions = false;
    s.activationMargin = 1.0; // every finished version is activated: only the cancel decides
    startEngine(s);
    QSignalSpy finished(m_engine.get(), &LoopEngine::trainingFinished);
    QSignalSpy failed(m_engine.get(), &LoopEngine::trainingFailed);
    setupProject();
    QTRY_VERIFY_WITH_TIMEOUT(m_engine->projects().contains(kKey), kTimeout);
    postAnnotations(1, 30, 1);
    QCOMPARE(m_engine->cancelRun(kKey), false); // nothing runs
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v1"));

    // The next run is cancelled the moment it starts (before the worker reads a single fold).
    bool cancelled = false;
    const auto connection = connect(m_engine.get(), &LoopEngine::trainingStarted, this,
                                    [&](const QString &project, const QString &) { cancelled = m_engine->cancelRun(project); }, Qt::DirectConnection);
    postAnnotations(31, 10, 1);
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
    QTRY_VERIFY_WITH_TIMEOUT(m_engine->store()->runs(kKey, 10)->size() == 2, kTimeout);
    disconnect(connection);
    QVERIFY(cancelled);
    QCOMPARE(m_engine->store()->runs(kKey, 10)->constLast().outcome, QStringLiteral("cancelled"));
    QCOMPARE(finished.count(), 1);
    QCOMPARE(failed.count(), 0);
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v1"));
    QCOMPARE(details().size(), 1);
    const QJsonObject st = status();
    QCOMPARE(st.value(QStringLiteral("state")).toString(), QStringLiteral("idle"));
    QCOMPARE(st.value(QStringLiteral("new_since_training")).toInt(), 10); // still to be learned
    QCOMPARE(st.value(QStringLiteral("active_version")).toString(), QStringLiteral("loopdeck-v1"));

    // The loop goes on afterwards.
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, kTimeout);
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v2"));
}

void TestLoopEngine::webhookBadInputAndIdempotency()
{
    LoopSettings s;
    s.trainEvery = 1000;
    s.refreshPredictions = false;
    startEngine(s);
    setupProject();
    QTRY_VERIFY_WITH_TIMEOUT(m_engine->projects().contains(kKey), kTimeout);
    postAnnotations(1, 5, 1);
    QCOMPARE(status().value(QStringLiteral("new_since_training")).toInt(), 5);
    // Label Studio resends (or a proxy duplicates) the same events: nothing changes.
    postAnnotations(1, 5, 1);
    QCOMPARE(status().value(QStringLiteral("new_since_training")).toInt(), 5);
    QCOMPARE(status().value(QStringLiteral("annotations")).toInt(), 5);

    // Malformed events: an answer with a sentence, nothing stored, the server still up.
    for (const QByteArray &body :
         {QByteArray(R"({"action": "ANNOTATION_CREATED", "project": {"id": 1}, "annotation": {"task": 3}})"),
          QByteArray(R"({"action": "ANNOTATION_CREATED", "project": {"id": 1}, "annotation": {"id": 7, "task": 3, "result": "x"}})"),
          QByteArray(R"({"action": "ANNOTATIONS_CREATED", "project": {"id": 1}, "annotation": [{"id": 8, "task": 3}], "task": [5]})"),
          QByteArray(R"({"action": "ANNOTATION_CREATED", "project": {"id": 1}, "annotation": 5})")}) {
        const Reply r = send("POST", QStringLiteral("/webhook"), body);
        QVERIFY2(r.status >= 400 && r.status < 600, r.body.constData());
        QVERIFY2(r.json.value(QStringLiteral("error")).toString().size() > 10, r.body.constData());
    }
    QCOMPARE(send("POST", QStringLiteral("/webhook"), "{not json").status, 400);
    QCOMPARE(status().value(QStringLiteral("annotations")).toInt(), 5);

    // START_TRAINING without an annotation (what "Start training" in Label Studio sends) trains.
    QSignalSpy finished(m_engine.get(), &LoopEngine::trainingFinished);
    QSignalSpy started(m_engine.get(), &LoopEngine::trainingStarted);
    const Reply r = send("POST", QStringLiteral("/webhook"),
                         QJsonDocument(QJsonObject{{QStringLiteral("action"), QStringLiteral("START_TRAINING")},
                                                   {QStringLiteral("project"),
                                                    QJsonObject{{QStringLiteral("id"), 1}, {QStringLiteral("label_config"), kConfig}}}})
                             .toJson());
    QVERIFY2(r.status == 201, r.body.constData());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
    QCOMPARE(started.at(0).at(1).toString(), QStringLiteral("start_training"));
    QCOMPARE(details().at(0).toObject().value(QStringLiteral("trigger")).toString(), QStringLiteral("start_training"));

    // Deletions through webhooks reach the store.
    QCOMPARE(send("POST", QStringLiteral("/webhook"),
                  R"({"action": "ANNOTATIONS_DELETED", "project": {"id": 1}, "annotations": [{"id": 10001}, {"id": 10002}]})")
                 .status,
             201);
    QCOMPARE(send("POST", QStringLiteral("/webhook"), R"({"action": "TASKS_DELETED", "project": {"id": 1}, "tasks": [{"id": 3}]})").status,
             201);
    QCOMPARE(status().value(QStringLiteral("annotations")).toInt(), 2);
    QCOMPARE(status().value(QStringLiteral("tasks")).toInt(), 4);

    // A label config changed in Label Studio (PROJECT_UPDATED) is in force at once: serving
    // and the next training use it (here: a third choice).
    QString changed = kConfig;
    changed.replace(QStringLiteral("</Choices>"), QStringLiteral("<Choice value=\"Mixed\"/></Choices>"));
    QVERIFY(changed != kConfig);
    const Reply updated = send("POST", QStringLiteral("/webhook"),
                               QJsonDocument(QJsonObject{{QStringLiteral("action"), QStringLiteral("PROJECT_UPDATED")},
                                                         {QStringLiteral("project"),
                                                          QJsonObject{{QStringLiteral("id"), 1}, {QStringLiteral("label_config"), changed}}}})
                                   .toJson());
    QVERIFY2(updated.status == 200 || updated.status == 201, updated.body.constData());
    QTRY_COMPARE_WITH_TIMEOUT(m_engine->predictionService()->labelConfigXml(kKey), changed, kTimeout);
}

void TestLoopEngine::operatorRoutesBadInput()
{
    LoopSettings s;
    s.trainEvery = 0;
    s.refreshPredictions = false;
    startEngine(s);
    // Before any project: unknown project everywhere.
    Reply r = send("GET", QStringLiteral("/loop/status?project=999"));
    QVERIFY2(r.status == 404, r.body.constData());
    QVERIFY(r.json.value(QStringLiteral("error")).toString().contains(QLatin1String("999")));
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=999")).status, 404);
    QCOMPARE(send("GET", QStringLiteral("/loop/status")).status, 400);
    QCOMPARE(send("GET", QStringLiteral("/loop/status?project=abc")).status, 400);
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=-4")).status, 400);
    QCOMPARE(send("POST", QStringLiteral("/loop/activate?project=1&version=abc")).status, 400);
    QCOMPARE(send("POST", QStringLiteral("/loop/activate?project=1&version=0")).status, 400);
    QCOMPARE(send("POST", QStringLiteral("/loop/activate?project=1")).status, 400);
    QCOMPARE(send("POST", QStringLiteral("/loop/activate?project=1&version=99999999999999999999")).status, 400);
    r = send("POST", QStringLiteral("/loop/activate?project=1&version=5"));
    QVERIFY2(r.status == 404, r.body.constData());
    r = send("POST", QStringLiteral("/loop/rollback?project=1"));
    QVERIFY2(r.status == 409, r.body.constData());
    QCOMPARE(send("GET", QStringLiteral("/loop/train?project=1")).status, 405);

    QSignalSpy finished(m_engine.get(), &LoopEngine::trainingFinished);
    QSignalSpy failed(m_engine.get(), &LoopEngine::trainingFailed);
    setupProject();
    QTRY_VERIFY_WITH_TIMEOUT(m_engine->projects().contains(kKey), kTimeout);
    QCOMPARE(status().value(QStringLiteral("state")).toString(), QStringLiteral("idle"));
    // "Train now" with no annotations fails with a sentence; nothing is activated.
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, kTimeout);
    QVERIFY(failed.at(0).at(1).toString().size() > 10);
    QVERIFY(status().value(QStringLiteral("last_error")).toString().size() > 10);
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v0"));

    postAnnotations(1, 12, 1);
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
    QVERIFY(status().value(QStringLiteral("last_error")).isNull());
    // One version: rolling back is not possible and changes nothing.
    r = send("POST", QStringLiteral("/loop/rollback?project=1"));
    QVERIFY2(r.status == 409, r.body.constData());
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v1"));
    QCOMPARE(send("POST", QStringLiteral("/loop/activate?project=1&version=2")).status, 404);
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v1"));
}

void TestLoopEngine::predictFromOneWholeModelWhileSwapping()
{
    LoopSettings s;
    s.trainEvery = 0;
    s.refreshPredictions = false;
    startEngine(s);
    setupProject();
    QTRY_VERIFY_WITH_TIMEOUT(m_engine->projects().contains(kKey), kTimeout);

    // Three kinds of models that answer the probe texts differently: normal, labels swapped,
    // and one trained on few examples (other scores).
    std::mt19937 rng(5);
    QList<Example> normal, swapped, few;
    for (int i = 0; i < 60; ++i) {
        const bool positive = i % 2 == 0;
        const QString text = sentence(rng, positive);
        const QString label = positive ? QStringLiteral("Positive") : QStringLiteral("Negative");
        const QString other = positive ? QStringLiteral("Negative") : QStringLiteral("Positive");
        normal.append(Example{text, {label}});
        swapped.append(Example{text, {other}});
        if (i < 8)
            few.append(Example{text, {label}});
    }
    const std::vector<std::shared_ptr<const TextClassifier>> kinds = {trainModel(normal), trainModel(swapped), trainModel(few)};
    auto service = m_engine->predictionService();
    const QString pid = kKey;
    loopdeck::backend::NewModelVersion meta;
    meta.target = QStringLiteral("sentiment");
    meta.metrics = QJsonObject{{QStringLiteral("accuracy"), 0.9}};
    QString error;
    for (const auto &m : kinds)
        QVERIFY2(service->publish(pid, m, meta, &error), qPrintable(error));

    const QStringList probes = {QStringLiteral("great wonderful film"), QStringLiteral("awful boring plot"),
                                QStringLiteral("the acting was really today")};
    QJsonArray tasks;
    for (int i = 0; i < probes.size(); ++i)
        tasks.append(QJsonObject{{QStringLiteral("id"), 900 + i}, {QStringLiteral("data"), QJsonObject{{QStringLiteral("text"), probes[i]}}}});
    const QByteArray predictBody = QJsonDocument(QJsonObject{{QStringLiteral("project"), QStringLiteral("1.1764064800")},
                                                             {QStringLiteral("label_config"), kConfig},
                                                             {QStringLiteral("tasks"), tasks}})
                                       .toJson(QJsonDocument::Compact);

    // Swappers on other threads: publish new versions, activate random ones, roll back.
    std::atomic<bool> stop{false};
    std::atomic<int> published{3}, activations{0}, rollbacks{0}, swapErrors{0};
    std::vector<std::thread> swappers;
    swappers.emplace_back([&] {
        for (int i = 0; i < 17 && !stop; ++i) {
            QString e;
            if (!service->publish(pid, kinds[std::size_t(i) % kinds.size()], meta, &e))
                ++swapErrors;
            else
                ++published;
            std::this_thread::yield();
        }
    });
    swappers.emplace_back([&] {
        std::mt19937 r(11);
        while (!stop) {
            const int v = 1 + int(r() % unsigned(published.load()));
            const auto reply = m_engine->activate(pid, v);
            if (reply.error != loopdeck::backend::LoopReply::Error::None)
                ++swapErrors;
            ++activations;
        }
    });
    swappers.emplace_back([&] {
        while (!stop) {
            const auto reply = m_engine->rollback(pid);
            // Not possible at the oldest version: fine. Anything else is a failure.
            if (reply.error != loopdeck::backend::LoopReply::Error::None
                && reply.error != loopdeck::backend::LoopReply::Error::NotPossible)
                ++swapErrors;
            ++rollbacks;
            std::this_thread::yield();
        }
    });

    // Clients: batches of parallel /predict requests until the swappers did enough.
    QList<QByteArray> answers;
    QList<int> statuses;
    int requests = 0;
    while (requests < 200 || published.load() < 20 || activations.load() < 50 || rollbacks.load() < 20) {
        QList<QNetworkReply *> batch;
        for (int i = 0; i < 16; ++i) {
            QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:%1/predict").arg(m_port)));
            request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
            batch << m_nam->post(request, predictBody);
        }
        for (QNetworkReply *reply : std::as_const(batch)) {
            if (!reply->isFinished()) {
                QEventLoop loop;
                connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
                loop.exec();
            }
            statuses << reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            answers << reply->readAll();
            reply->deleteLater();
        }
        requests += int(batch.size());
        if (requests > 20000)
            break; // the swappers are stuck; the checks below say so
    }
    stop = true;
    for (auto &t : swappers)
        t.join();
    QCOMPARE(swapErrors.load(), 0);
    QCOMPARE(published.load(), 20);
    QVERIFY2(activations.load() >= 50 && rollbacks.load() >= 20,
             qPrintable(QStringLiteral("activations %1, rollbacks %2").arg(activations.load()).arg(rollbacks.load())));

    // What each version answers, from its own file.
    QHash<int, QList<QPair<QString, double>>> expected;
    auto registry = service->registry();
    for (int v = 1; v <= published.load(); ++v) {
        QString e;
        const auto model = registry->load(pid, v, &e);
        QVERIFY2(model, qPrintable(e));
        for (const QString &probe : probes) {
            const auto p = model->predict(probe);
            expected[v].append({p.scores.front().label, p.scores.front().probability});
        }
    }
    QSet<int> seenVersions;
    for (qsizetype i = 0; i < answers.size(); ++i) {
        QVERIFY2(statuses[i] == 200, answers[i].constData());
        const QJsonObject body = QJsonDocument::fromJson(answers[i]).object();
        const QJsonArray results = body.value(QStringLiteral("results")).toArray();
        QCOMPARE(results.size(), probes.size());
        const QString top = body.value(QStringLiteral("model_version")).toString();
        for (qsizetype k = 0; k < results.size(); ++k) {
            const QJsonObject res = results[k].toObject();
            const QString name = res.value(QStringLiteral("model_version")).toString();
            QCOMPARE(name, top); // one model for the whole answer
            QVERIFY2(name.startsWith(QLatin1String("loopdeck-v")), qPrintable(name));
            const int v = name.mid(10).toInt();
            QVERIFY2(expected.contains(v), qPrintable(name));
            seenVersions.insert(v);
            const QJsonObject region = res.value(QStringLiteral("result")).toArray().at(0).toObject();
            const QString label = region.value(QStringLiteral("value")).toObject().value(QStringLiteral("choices")).toArray().at(0).toString();
            const double score = res.value(QStringLiteral("score")).toDouble();
            QCOMPARE(label, expected[v][k].first);
            QVERIFY2(qAbs(score - expected[v][k].second) < 1e-6,
                     qPrintable(QStringLiteral("v%1 probe %2: %3 vs %4").arg(v).arg(k).arg(score).arg(expected[v][k].second)));
        }
    }
    QVERIFY2(seenVersions.size() >= 2, "the swaps were not seen by any request");
    qInfo("%lld answers, %d versions seen, %d activations, %d rollbacks", qlonglong(answers.size()), int(seenVersions.size()),
          activations.load(), rollbacks.load());
}

QTEST_MAIN(TestLoopEngine)
#include "tst_loopengine.moc"
