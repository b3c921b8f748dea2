// LoopEngine in-process, over real HTTP on a free loopback port, without Label Studio: /setup
// brings a project into the loop, ANNOTATION_CREATED webhooks fill the store until the
// threshold trains a version by itself, which becomes active and is reported by /setup and
// /versions; "train now"; the activation policy keeps a worse version inactive; activate and
// rollback; retention; cancel; every /predict answer comes from one whole model while versions
// are published, activated and rolled back from other threads; operator routes with bad input.
// Project keys: a data folder of the previous main (schema-2 store, models/3) is adopted by the
// first /setup with the full key and nothing of it reaches another server's project 3; two
// servers' project 1 never share rows, settings or versions. Failed runs back off (injected
// clock); START_TRAINING skips the cooldown; ANNOTATION_CREATED without an annotation is a 400;
// disconnecting from a Label Studio that never answers leaves no reconcile stuck.
#include "core/backend/backendserver.h"
#include "core/backend/modelregistry.h"
#include "core/backend/operatortoken.h"
#include "core/backend/predictionservice.h"
#include "core/loop/loopengine.h"
#include "core/loop/trainer.h"
#include "core/model/textclassifier.h"
#include "core/store/loopstore.h"
#include "fakelabelstudio.h"
#include "lswebhooks.h"
#include "legacystore.h"

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
using loopdeck::test::FakeLabelStudio;
using loopdeck::test::FakeRequest;
using loopdeck::test::httpResponse;
using loopdeck::test::annotationEvent;
using loopdeck::test::kConfig;
using loopdeck::test::sentence;
using nlohmann::json;

namespace {

constexpr int kTimeout = 60000; // generous: ASan, a loaded 2-core machine; never a speed claim

// Label Studio's name of the test project: id 1, created at 1764064800 (what /setup sends).
const QString kKey = QStringLiteral("1.1764064800");

// Label Studio's project object as a webhook carries it: id, created_at (microseconds, UTC).
json projectObject(qint64 id, const char *createdAt, const QString &labelConfig = kConfig)
{
    return json{{"id", id}, {"title", "Reviews"}, {"created_at", createdAt}, {"label_config", labelConfig.toStdString()}};
}

// Choices bound to an Image: a label config the text classifier cannot serve.
const QString kImageConfig = QStringLiteral(
    "<View><Image name=\"image\" value=\"$image\"/><Choices name=\"sentiment\" toName=\"image\" choice=\"single\">"
    "<Choice value=\"Positive\"/><Choice value=\"Negative\"/></Choices></View>");

// What a Label Studio stand-in (fakelabelstudio.h) answers: it lists project 1 (created
// 2025-11-25T10:00:00Z, key 1.1764064800) and, unless `silent`, answers the reconcile's requests
// (an empty task list). Silent, it accepts every other request and never answers.
QByteArray lsAnswer(const FakeRequest &request, bool silent)
{
    const QString path = request.path();
    if (path == QLatin1String("/api/projects/"))
        return httpResponse(200, R"({"count": 1, "next": null, "previous": null, "results": [{"id": 1, "title": "Reviews",)"
                                 R"( "created_at": "2025-11-25T10:00:00.123456Z"}]})");
    if (silent)
        return {}; // accepted, never answered
    if (path == QLatin1String("/api/projects/1/"))
        return httpResponse(200, QByteArray::fromStdString(projectObject(1, "2025-11-25T10:00:00.123456Z").dump()));
    if (path == QLatin1String("/api/tasks/"))
        return httpResponse(200, R"({"tasks": [], "total": 0, "total_annotations": 0, "total_predictions": 0})");
    if (path.startsWith(QLatin1String("/api/ml")) || path.startsWith(QLatin1String("/api/webhooks")))
        return httpResponse(200, "[]");
    return httpResponse(404, R"({"detail": "Not found."})");
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
    void activationIgnoresTasksTheActiveVersionLearnt();
    void retentionNeverDeletesActive();
    void cancelKeepsActiveServing();
    void operatorsChoiceDuringARunStands();
    void webhookBadInputAndIdempotency();
    void operatorRoutesBadInput();
    void predictFromOneWholeModelWhileSwapping();
    void adoptsLegacyStoreAndModels();
    void twoServersProjectOneNeverMix();
    void failuresBackOff();
    void annotationEventWithoutAnnotationIs400();
    void startTrainingSkipsCooldown();
    void disconnectUnsticksReconcile();
    void settingsChangesReadTheirWrites();
    void nextRunStartsFromThePreviousOne();

private:
    void startEngine(const LoopSettings &settings);
    Reply send(const QByteArray &method, const QString &path, const QByteArray &body = {});
    QString setupProject(qint64 project = 1);
    void postAnnotations(int from, int count, unsigned seed, bool noisy = false, const char *action = "ANNOTATION_CREATED",
                         int second = 1);
    // Texts made of made-up words (random letters, seeded), 30 per class, so what a model knows
    // is which words it saw. `words` texts of three words each (every word of both classes
    // three times, tasks from..from+59), or one word each (words 0..19 of both classes once,
    // tasks from..from+39): a model that did not see those words guesses.
    void postThreeWordTasks(int from, int variant = 0);
    void postOneWordTasks(int from);
    void deleteTasks(int from, int to);
    QJsonObject status(qint64 project = 1);
    QJsonArray details(qint64 project = 1);
    // By key (or anything /loop/* takes as project).
    Reply statusOf(const QString &project);
    QJsonArray detailsOf(const QString &project);
    Reply setupAs(const QString &project, const QString &labelConfig = kConfig);
    // ANNOTATION_CREATED for tasks from..from+count-1 with the given project object.
    void postFor(const json &projectJson, int from, int count, unsigned seed);
    // A clock the test moves by hand (the engine's schedulers and backoff read it).
    void freezeClock();
    void advanceClock(qint64 seconds) { m_nowMs += seconds * 1000; }
    QDateTime now() const { return QDateTime::fromMSecsSinceEpoch(m_nowMs.load(), Qt::UTC); }
    std::atomic<qint64> m_nowMs{0};

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<LoopEngine> m_engine;
    QNetworkAccessManager *m_nam = nullptr;
    quint16 m_port = 0;
};

void TestLoopEngine::settingsChangesReadTheirWrites()
{
    startEngine(LoopSettings{});
    setupProject(4);
    const QString key = QStringLiteral("4.1764064800");
    // Two changes of different keys, answered before the engine's thread saves either (no
    // event loop runs in between): both stand, and status shows them at once.
    const auto a = m_engine->configure(QStringLiteral("4"), QJsonObject{{QStringLiteral("cooldown_seconds"), 0}});
    const auto b = m_engine->configure(key, QJsonObject{{QStringLiteral("train_every"), 7}});
    QCOMPARE(int(a.error), int(loopdeck::backend::LoopReply::Error::None));
    QCOMPARE(int(b.error), int(loopdeck::backend::LoopReply::Error::None));
    QCOMPARE(m_engine->settings(key).cooldownSeconds, 0);
    QCOMPARE(m_engine->settings(key).trainEvery, 7);
    const QJsonObject shown = m_engine->status(key).body.value(QStringLiteral("settings")).toObject();
    QCOMPARE(shown.value(QStringLiteral("cooldown_seconds")).toInt(), 0);
    QCOMPARE(shown.value(QStringLiteral("train_every")).toInt(), 7);
    // The store gets both once the engine's thread has run: a restarted engine reads them.
    QTRY_COMPARE(m_engine->status(key).body.value(QStringLiteral("log")).toArray().size(), 3); // added, settings x2
    // An older save that runs after a newer change must not undo it: A is queued, a change C
    // is queued to be made after A's save runs, then B is made now. The engine thread runs A's
    // save, makes C (from what is in force then), runs B's save and C's.
    (void)m_engine->configure(key, QJsonObject{{QStringLiteral("cooldown_seconds"), 5}});
    QMetaObject::invokeMethod(
        m_engine.get(), [this, key] { (void)m_engine->configure(key, QJsonObject{{QStringLiteral("min_examples"), 12}}); },
        Qt::QueuedConnection);
    (void)m_engine->configure(key, QJsonObject{{QStringLiteral("train_every"), 9}});
    QTRY_COMPARE(m_engine->settings(key).minExamples, 12);
    QTRY_COMPARE(m_engine->status(key).body.value(QStringLiteral("log")).toArray().size(), 6);
    QCOMPARE(m_engine->settings(key).cooldownSeconds, 5);
    QCOMPARE(m_engine->settings(key).trainEvery, 9);
    m_engine.reset();
    startEngine(LoopSettings{});
    m_engine->addProject(key);
    QCOMPARE(m_engine->settings(key).cooldownSeconds, 5);
    QCOMPARE(m_engine->settings(key).trainEvery, 9);
    QCOMPARE(m_engine->settings(key).minExamples, 12);
}

void TestLoopEngine::nextRunStartsFromThePreviousOne()
{
    // From Trainer::kKFoldBelow examples on, a run hands its choice of C and weighting and its
    // solutions to the project's next run (trainer.h); the version's metrics say what was reused.
    LoopSettings s;
    s.trainEvery = 100000; // by hand only
    s.refreshPredictions = false;
    startEngine(s);
    QSignalSpy finished(m_engine.get(), &LoopEngine::trainingFinished);
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v0"));
    const int first = loopdeck::loop::Trainer::kKFoldBelow + 10;
    postAnnotations(1, first, 1);
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 4 * kTimeout);
    QVERIFY(finished.at(0).at(2).toBool());
    const QJsonObject m1 = details().at(0).toObject().value(QStringLiteral("metrics")).toObject();
    QVERIFY2(m1.contains(QStringLiteral("warm_start")), QJsonDocument(m1).toJson().constData());
    QCOMPARE(m1.value(QStringLiteral("warm_start")).toObject().value(QStringLiteral("examples")).toInt(), 0);
    QCOMPARE(m1.value(QStringLiteral("warm_start")).toObject().value(QStringLiteral("selected_on")).toInt(), first);
    QVERIFY(m1.value(QStringLiteral("stages_ms")).toObject().contains(QStringLiteral("features")));

    postAnnotations(first + 1, 20, 1);
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 4 * kTimeout);
    QVERIFY(finished.at(1).at(2).toBool());
    QCOMPARE(details().at(1).toObject().value(QStringLiteral("training_examples")).toInt(), first + 20);
    const QJsonObject m2 = details().at(1).toObject().value(QStringLiteral("metrics")).toObject();
    QCOMPARE(m2.value(QStringLiteral("warm_start")).toObject().value(QStringLiteral("examples")).toInt(), first);
    QCOMPARE(m2.value(QStringLiteral("warm_start")).toObject().value(QStringLiteral("selected_on")).toInt(), first);
    QCOMPARE(m2.value(QStringLiteral("model")).toObject().value(QStringLiteral("c")).toDouble(),
             m1.value(QStringLiteral("model")).toObject().value(QStringLiteral("c")).toDouble());
}

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
    // The operator's calls carry the token startServer() made in the data folder; Label Studio's
    // (/setup, /webhook, /predict) never do.
    const bool operatorCall = path.startsWith(QLatin1String("/loop/")) || path.startsWith(QLatin1String("/versions"));
    const auto token = loopdeck::backend::operatortoken::readFile(loopdeck::backend::operatortoken::pathIn(m_engine->dataDir()));
    if (operatorCall && token)
        request.setRawHeader("Authorization", "Bearer " + token.value().toLatin1());
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

Reply TestLoopEngine::statusOf(const QString &project)
{
    return send("GET", QStringLiteral("/loop/status?project=%1").arg(project));
}

QJsonArray TestLoopEngine::detailsOf(const QString &project)
{
    return send("GET", QStringLiteral("/versions?project=%1").arg(project)).json.value(QStringLiteral("details")).toArray();
}

Reply TestLoopEngine::setupAs(const QString &project, const QString &labelConfig)
{
    const QJsonObject body{{QStringLiteral("project"), project},
                           {QStringLiteral("schema"), labelConfig},
                           {QStringLiteral("hostname"), QStringLiteral("http://localhost:8080")},
                           {QStringLiteral("access_token"), QStringLiteral("0123456789abcdef0123456789abcdef01234567")},
                           {QStringLiteral("extra_params"), QJsonObject()}};
    return send("POST", QStringLiteral("/setup"), QJsonDocument(body).toJson(QJsonDocument::Compact));
}

void TestLoopEngine::postFor(const json &projectJson, int from, int count, unsigned seed)
{
    std::mt19937 rng(seed);
    for (int t = from; t < from + count; ++t) {
        const bool positive = t % 2 == 0;
        const Reply r = send("POST", QStringLiteral("/webhook"),
                             annotationEvent("ANNOTATION_CREATED", projectJson, t, 10000 + t, sentence(rng, positive),
                                             positive ? QStringLiteral("Positive") : QStringLiteral("Negative"), 1));
        QVERIFY2(r.status == 201, r.body.constData());
    }
}

namespace {

const QList<QStringList> &madeUpWords()
{
    static const QList<QStringList> words = [] {
        std::mt19937 rng(4242);
        QList<QStringList> w(2);
        for (int c = 0; c < 2; ++c)
            for (int i = 0; i < 30; ++i) {
                QString word;
                for (int k = 0; k < 8; ++k)
                    word += QLatin1Char(char('a' + rng() % 26));
                w[c] << word;
            }
        return w;
    }();
    return words;
}

QString labelOf(int c)
{
    return c == 0 ? QStringLiteral("Positive") : QStringLiteral("Negative");
}

} // namespace

void TestLoopEngine::postThreeWordTasks(int from, int variant)
{
    const auto &w = madeUpWords();
    int task = from;
    for (int i = 0; i < 30; ++i)
        for (int c = 0; c < 2; ++c) {
            const QString text = QStringList{w[c][i], w[c][(i + 1 + variant) % 30], w[c][(i + 7 + 2 * variant) % 30]}.join(QLatin1Char(' '));
            const Reply r = send("POST", QStringLiteral("/webhook"),
                                 annotationEvent("ANNOTATION_CREATED", 1, task, 10000 + task, text, labelOf(c), 1));
            QVERIFY2(r.status == 201, r.body.constData());
            ++task;
        }
}

void TestLoopEngine::postOneWordTasks(int from)
{
    const auto &w = madeUpWords();
    int task = from;
    for (int i = 0; i < 20; ++i)
        for (int c = 0; c < 2; ++c) {
            const Reply r = send("POST", QStringLiteral("/webhook"),
                                 annotationEvent("ANNOTATION_CREATED", 1, task, 10000 + task, w[c][i], labelOf(c), 1));
            QVERIFY2(r.status == 201, r.body.constData());
            ++task;
        }
}

void TestLoopEngine::deleteTasks(int from, int to)
{
    json tasks = json::array();
    for (int t = from; t <= to; ++t)
        tasks.push_back(json{{"id", t}});
    const json body = {{"action", "TASKS_DELETED"}, {"project", {{"id", 1}}}, {"tasks", tasks}};
    const Reply r = send("POST", QStringLiteral("/webhook"), QByteArray::fromStdString(body.dump()));
    QVERIFY2(r.status == 201, r.body.constData());
}

void TestLoopEngine::freezeClock()
{
    m_nowMs = QDateTime(QDate(2026, 11, 25), QTime(12, 0), Qt::UTC).toMSecsSinceEpoch();
    m_engine->setClock([this] { return now(); });
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
    // No annotation arrived since v1: nothing to compare on, the new version is activated.
    QCOMPARE(finished.at(1).at(2).toBool(), true);
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v2"));
    QCOMPARE(details().at(1).toObject().value(QStringLiteral("trigger")).toString(), QStringLiteral("manual"));
    {
        const auto runs = m_engine->store()->runs(kKey, 10);
        QVERIFY(runs);
        QVERIFY2(runs->constLast().message.contains(
                     QLatin1String("only 0 examples loopdeck-v1 was not trained on to compare on (fewer than 10")),
                 qPrintable(runs->constLast().message));
    }
    // No further automatic run without new annotations.
    QCOMPARE(status().value(QStringLiteral("new_since_training")).toInt(), 0);
    QCOMPARE(started.count(), 2);
}

void TestLoopEngine::activationPolicyActivateRollback()
{
    LoopSettings s; // the default policy (margin 0.02)
    s.trainEvery = 0; // manual only
    s.cooldownSeconds = 0;
    s.refreshPredictions = false;
    QCOMPARE(s.activationMargin, 0.02);
    startEngine(s);
    QSignalSpy finished(m_engine.get(), &LoopEngine::trainingFinished);
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v0"));
    QTRY_VERIFY_WITH_TIMEOUT(m_engine->projects().contains(kKey), kTimeout);
    const auto lastLog = [this] {
        const QJsonArray log = status().value(QStringLiteral("log")).toArray();
        for (qsizetype i = log.size() - 1; i >= 0; --i)
            if (log.at(i).toString().contains(QLatin1String(" trained version=")))
                return log.at(i).toString();
        return QString();
    };

    // v1: every made-up word three times.
    postThreeWordTasks(1);
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
    QVERIFY(finished.at(0).at(2).toBool());
    QVERIFY2(lastLog().contains(QLatin1String("no version was active")), qPrintable(lastLog()));

    // v2: 60 more texts of the same words; both versions are judged on them (v1 never saw
    // them) and the new one is not worse: activated.
    postThreeWordTasks(61, 1);
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, kTimeout);
    QCOMPARE(finished.at(1).at(1).toInt(), 2);
    QVERIFY2(finished.at(1).at(2).toBool(), qPrintable(lastLog()));
    QVERIFY2(finished.at(1).at(3).toDouble() >= 0.9, qPrintable(lastLog())); // v1 on the 60 shared examples
    QVERIFY2(finished.at(1).at(4).toDouble() >= 0.9, qPrintable(lastLog())); // v2's out-of-fold predictions for them
    QVERIFY2(lastLog().contains(QLatin1String("compared_with=v1 shared=60 ")), qPrintable(lastLog()));
    QVERIFY2(lastLog().contains(QLatin1String("not shown to be worse than loopdeck-v1 by more than 0.02 on the 60 "
                                              "labelled tasks loopdeck-v1 was not trained on")),
             qPrintable(lastLog()));
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v2"));

    // Everything v2 learnt from is deleted; 40 one-word texts of the same words come in. v3
    // learns only from them, and for each one its out-of-fold model never saw the word: on
    // these 40 shared examples v2 is right and v3 guesses, so v3 is kept inactive.
    deleteTasks(1, 120);
    postOneWordTasks(121);
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 3, kTimeout);
    QCOMPARE(finished.at(2).at(1).toInt(), 3);
    QVERIFY2(!finished.at(2).at(2).toBool(), qPrintable(lastLog())); // kept, not activated
    const double activeOnShared = finished.at(2).at(3).toDouble();
    const double newOnShared = finished.at(2).at(4).toDouble();
    QVERIFY2(activeOnShared >= 0.9 && newOnShared < activeOnShared - 0.2,
             qPrintable(QStringLiteral("%1 vs %2").arg(newOnShared).arg(activeOnShared)));
    QVERIFY2(lastLog().contains(QLatin1String("activated=false compared_with=v2 shared=40 ")), qPrintable(lastLog()));
    QVERIFY2(lastLog().contains(QLatin1String("worse than loopdeck-v2 by more than 0.02 with 95 % confidence on the 40")),
             qPrintable(lastLog()));
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v2"));
    QJsonArray d = details();
    QCOMPARE(d.size(), 3);
    QCOMPARE(d.at(1).toObject().value(QStringLiteral("active")).toBool(), true);
    QCOMPARE(d.at(2).toObject().value(QStringLiteral("active")).toBool(), false);
    const auto runs = m_engine->store()->runs(kKey, 10);
    QVERIFY(runs);
    QCOMPARE(runs->constLast().outcome, QStringLiteral("kept"));
    QVERIFY2(runs->constLast().message.startsWith(QLatin1String("loopdeck-v3 kept inactive, loopdeck-v2 stays active: worse than")),
             qPrintable(runs->constLast().message));

    // The operator overrides the policy, then goes back.
    Reply r = send("POST", QStringLiteral("/loop/activate?project=1&version=3"));
    QVERIFY2(r.status == 200, r.body.constData());
    QCOMPARE(r.json.value(QStringLiteral("active")).toString(), QStringLiteral("loopdeck-v3"));
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v3"));
    QCOMPARE(details().at(2).toObject().value(QStringLiteral("active")).toBool(), true);
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

    // A margin of 1 accepts anything: v4 (as v3, compared with v1 on the 40 one-word texts,
    // worse) is activated.
    LoopSettings loose = s;
    loose.activationMargin = 1.0;
    QVERIFY(m_engine->setSettings(kKey, loose));
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 4, kTimeout);
    QVERIFY2(finished.at(3).at(2).toBool(), qPrintable(lastLog()));
    QVERIFY2(lastLog().contains(QLatin1String("compared_with=v1 shared=40 ")), qPrintable(lastLog()));
    QVERIFY(finished.at(3).at(4).toDouble() < finished.at(3).at(3).toDouble());
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v4"));

    // The active version survives a restart of the engine.
    m_engine.reset();
    startEngine(s);
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v4"));
    QCOMPARE(details().size(), 4);
}

void TestLoopEngine::activationIgnoresTasksTheActiveVersionLearnt()
{
    // A second annotator agrees on every task v1 learnt: newer annotations, but the same texts
    // and labels. They are not examples v1 never saw, so v2 (the same data) is not judged on
    // them against v1 and is activated. (Judged by change counter, v1 scored 40/40 on its own
    // training data, v2 20/40 out of fold, and v2 was kept inactive.)
    LoopSettings s;
    s.trainEvery = 0;
    s.cooldownSeconds = 0;
    s.refreshPredictions = false;
    startEngine(s);
    QSignalSpy finished(m_engine.get(), &LoopEngine::trainingFinished);
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v0"));
    QTRY_VERIFY_WITH_TIMEOUT(m_engine->projects().contains(kKey), kTimeout);
    postOneWordTasks(1); // tasks 1..40, annotations 10001..10040
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
    QVERIFY(finished.at(0).at(2).toBool());
    const auto &w = madeUpWords();
    int task = 1;
    for (int i = 0; i < 20; ++i)
        for (int c = 0; c < 2; ++c) {
            const Reply r = send("POST", QStringLiteral("/webhook"),
                                 annotationEvent("ANNOTATION_CREATED", 1, task, 20000 + task, w[c][i], labelOf(c), 30));
            QVERIFY2(r.status == 201, r.body.constData());
            ++task;
        }
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, kTimeout);
    const auto runs = m_engine->store()->runs(kKey, 10);
    QVERIFY(runs && !runs->isEmpty());
    QVERIFY2(finished.at(1).at(2).toBool(), qPrintable(runs->constLast().message));
    QVERIFY2(runs->constLast().message.contains(QLatin1String("only 0 examples loopdeck-v1 was not trained on")),
             qPrintable(runs->constLast().message));
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
    postThreeWordTasks(1);
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

    // v4 is active; what it learnt from is deleted, so the next two versions are worse on the
    // examples that come after (activationPolicyActivateRollback) and are kept inactive: v4
    // (active) and v6 (newest) stay.
    deleteTasks(1, 60);
    postOneWordTasks(61);
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

void TestLoopEngine::operatorsChoiceDuringARunStands()
{
    LoopSettings s;
    s.trainEvery = 0;
    s.cooldownSeconds = 0;
    s.refreshPredictions = false;
    s.activationMargin = 1.0; // the comparison alone would activate every new version
    startEngine(s);
    QSignalSpy finished(m_engine.get(), &LoopEngine::trainingFinished);
    setupProject();
    QTRY_VERIFY_WITH_TIMEOUT(m_engine->projects().contains(kKey), kTimeout);
    postAnnotations(1, 30, 1);
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
    postAnnotations(31, 10, 1);
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, kTimeout);
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v2"));

    // A third run; right after it began (queued behind its start, so before its result), the
    // operator rolls back to v1. The run ends with v3 kept and v1 still serving.
    postAnnotations(41, 10, 1);
    bool rolledBack = false;
    const auto connection = connect(m_engine.get(), &LoopEngine::trainingStarted, this, [&](const QString &project, const QString &) {
        QMetaObject::invokeMethod(this, [&, project] { rolledBack = m_engine->rollback(project).error == loopdeck::backend::LoopReply::Error::None; },
                                  Qt::QueuedConnection);
    });
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 3, kTimeout);
    disconnect(connection);
    QVERIFY(rolledBack);
    QCOMPARE(finished.at(2).at(1).toInt(), 3);
    QCOMPARE(finished.at(2).at(2).toBool(), false); // not activated
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v1"));
    const auto runs = m_engine->store()->runs(kKey, 10);
    QVERIFY(runs && !runs->isEmpty());
    QCOMPARE(runs->constLast().outcome, QStringLiteral("kept"));
    QVERIFY2(runs->constLast().message.contains(QLatin1String("made active by hand")), qPrintable(runs->constLast().message));
    // The kept version can still be chosen.
    QCOMPARE(send("POST", QStringLiteral("/loop/activate?project=1&version=3")).status, 200);
    QCOMPARE(setupProject(), QStringLiteral("loopdeck-v3"));
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
    // Without a project: the list of the loop's projects (what a remote window reads first).
    const Reply list = send("GET", QStringLiteral("/loop/status"));
    QCOMPARE(list.status, 200);
    QCOMPARE(list.json.value(QStringLiteral("projects")).toArray().size(), int(m_engine->projects().size()));
    QCOMPARE(send("POST", QStringLiteral("/loop/train")).status, 400);
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

void TestLoopEngine::adoptsLegacyStoreAndModels()
{
    // The data folder of the previous main: a schema-2 store with project 3 and its trained
    // model under models/3 (published the way that LoopDeck did, under the bare id).
    const QString written = legacystore::writeSchemaTwo(m_dir->filePath(QStringLiteral("loopdeck.sqlite3")));
    QVERIFY2(written.isEmpty(), qPrintable(written));
    {
        auto registry = std::make_shared<loopdeck::backend::ModelRegistry>(m_dir->path());
        loopdeck::backend::PredictionService service(registry);
        service.setup(QStringLiteral("3"), kConfig);
        std::mt19937 rng(3);
        QList<Example> examples;
        for (int i = 0; i < 30; ++i)
            examples.append(Example{sentence(rng, i % 2 == 0), {i % 2 == 0 ? QStringLiteral("Positive") : QStringLiteral("Negative")}});
        loopdeck::backend::NewModelVersion meta;
        meta.target = QStringLiteral("sentiment");
        meta.metrics = QJsonObject{{QStringLiteral("accuracy"), 1.0}};
        meta.trainingExamples = 30;
        QString error;
        const auto v = service.publish(QStringLiteral("3"), trainModel(examples), meta, &error);
        QVERIFY2(v, qPrintable(error));
        QCOMPARE(v->version, 1);
    }
    QVERIFY(QDir(m_dir->filePath(QStringLiteral("models/3"))).exists());

    startEngine(LoopSettings{});
    QCOMPARE(m_engine->projects(), QStringList{QStringLiteral("3")});
    const QString key = QStringLiteral("3.1764064800");

    // Label Studio (now naming the project by its key) calls /setup: the old rows and model are
    // this project's, and the old model serves.
    // Adoption runs on the engine's thread right after this /setup (never inside an HTTP
    // request), so the old model serves from the next call on (Label Studio calls /setup before
    // every batch of predictions).
    Reply r = setupAs(key);
    QVERIFY2(r.status == 200, r.body.constData());
    QTRY_COMPARE_WITH_TIMEOUT(m_engine->projects(), QStringList{key}, kTimeout);
    QCOMPARE(setupAs(key).json.value(QStringLiteral("model_version")).toString(), QStringLiteral("loopdeck-v1"));
    QCOMPARE(m_engine->store()->projects().value(), QStringList{key});
    QVERIFY(!m_engine->store()->project(QStringLiteral("3")));
    QVERIFY(QDir(m_dir->filePath(QStringLiteral("models/3.1764064800"))).exists(QStringLiteral("v1.ldm")));
    QVERIFY(!QDir(m_dir->filePath(QStringLiteral("models/3"))).exists());
    QCOMPARE(m_engine->settings(key).trainEvery, 7); // the project's own settings came along
    r = statusOf(key);
    QVERIFY2(r.status == 200, r.body.constData());
    QCOMPARE(r.json.value(QStringLiteral("tasks")).toInt(), legacystore::kTasks);
    QCOMPARE(r.json.value(QStringLiteral("annotations")).toInt(), legacystore::kAnnotations);
    QCOMPARE(r.json.value(QStringLiteral("new_since_training")).toInt(), legacystore::kPending);
    QCOMPARE(r.json.value(QStringLiteral("active_version")).toString(), QStringLiteral("loopdeck-v1"));
    QJsonArray d = detailsOf(key);
    QCOMPARE(d.size(), 1);
    QCOMPARE(d.at(0).toObject().value(QStringLiteral("active")).toBool(), true);
    QCOMPARE(d.at(0).toObject().value(QStringLiteral("trigger")).toString(), QStringLiteral("manual"));
    const auto predictFor = [this](const QString &project) {
        return send("POST", QStringLiteral("/predict"),
                    QJsonDocument(QJsonObject{{QStringLiteral("project"), project},
                                              {QStringLiteral("tasks"),
                                               QJsonArray{QJsonObject{{QStringLiteral("id"), 3},
                                                                      {QStringLiteral("data"),
                                                                       QJsonObject{{QStringLiteral("text"), QStringLiteral("great superb")}}}}}}})
                        .toJson());
    };
    const Reply p = predictFor(key);
    QVERIFY2(p.status == 200, p.body.constData());
    QCOMPARE(p.json.value(QStringLiteral("results")).toArray().at(0).toObject().value(QStringLiteral("model_version")).toString(),
             QStringLiteral("loopdeck-v1"));
    // A bare "3" now means that key.
    QCOMPARE(statusOf(QStringLiteral("3")).json.value(QStringLiteral("project")).toString(), key);

    // Another server's project 3, set up afterwards, starts empty.
    const QString other = QStringLiteral("3.1764069999");
    r = setupAs(other);
    QVERIFY2(r.status == 200, r.body.constData());
    QCOMPARE(r.json.value(QStringLiteral("model_version")).toString(), QStringLiteral("loopdeck-v0"));
    QTRY_COMPARE_WITH_TIMEOUT(m_engine->projects(), (QStringList{key, other}), kTimeout);
    r = statusOf(other);
    QVERIFY2(r.status == 200, r.body.constData());
    QCOMPARE(r.json.value(QStringLiteral("tasks")).toInt(), 0);
    QCOMPARE(r.json.value(QStringLiteral("annotations")).toInt(), 0);
    QVERIFY(r.json.value(QStringLiteral("active_version")).isNull());
    QCOMPARE(r.json.value(QStringLiteral("settings")).toObject().value(QStringLiteral("train_every")).toInt(), LoopSettings{}.trainEvery);
    QCOMPARE(detailsOf(other).size(), 0);
    const Reply none = predictFor(other);
    QVERIFY2(none.status == 200, none.body.constData());
    QCOMPARE(none.json.value(QStringLiteral("results")).toArray().size(), 0); // no model of its own yet
    QVERIFY(!QDir(m_dir->filePath(QStringLiteral("models/3.1764069999"))).exists(QStringLiteral("v1.ldm")));
    QCOMPARE(m_engine->store()->versions(other)->size(), 0);
    QCOMPARE(statusOf(key).json.value(QStringLiteral("annotations")).toInt(), legacystore::kAnnotations);
    QCOMPARE(setupAs(key).json.value(QStringLiteral("model_version")).toString(), QStringLiteral("loopdeck-v1"));
    // Two project 3s now: a bare "3" is ambiguous.
    r = statusOf(QStringLiteral("3"));
    QVERIFY2(r.status == 400, r.body.constData());
}

void TestLoopEngine::twoServersProjectOneNeverMix()
{
    startEngine(LoopSettings{});
    QSignalSpy started(m_engine.get(), &LoopEngine::trainingStarted);
    QSignalSpy finished(m_engine.get(), &LoopEngine::trainingFinished);
    // Two Label Studio servers, each with a project 1, created at different times; the same
    // task and annotation ids on both.
    const json a = projectObject(1, "2025-11-25T10:00:00.123456Z");
    const json b = projectObject(1, "2025-11-25T11:26:39.999999Z");
    const QString keyA = QStringLiteral("1.1764064800"), keyB = QStringLiteral("1.1764069999");
    postFor(a, 1, 12, 1);
    postFor(b, 1, 3, 2);
    QTRY_COMPARE_WITH_TIMEOUT(m_engine->projects(), (QStringList{keyA, keyB}), kTimeout);
    QCOMPARE(m_engine->store()->counts(keyA)->annotations, 12);
    QCOMPARE(m_engine->store()->counts(keyB)->annotations, 3);
    QCOMPARE(statusOf(keyA).json.value(QStringLiteral("new_since_training")).toInt(), 12);
    QCOMPARE(statusOf(keyB).json.value(QStringLiteral("new_since_training")).toInt(), 3);
    QCOMPARE(m_engine->store()->allTexts(keyB, QStringLiteral("text"))->size(), 3);

    // A bare "1" does not say which: refused with a sentence that names both.
    Reply r = statusOf(QStringLiteral("1"));
    QVERIFY2(r.status == 400, r.body.constData());
    const QString why = r.json.value(QStringLiteral("error")).toString();
    QVERIFY2(why.contains(keyA) && why.contains(keyB), qPrintable(why));
    QCOMPARE(send("POST", QStringLiteral("/loop/train?project=1")).status, 400);

    // Settings of one are not the other's.
    r = send("POST", QStringLiteral("/loop/settings?project=%1").arg(keyA), R"({"keep_versions": 3, "min_examples": 4})");
    QVERIFY2(r.status == 200, r.body.constData());
    QTRY_COMPARE_WITH_TIMEOUT(m_engine->settings(keyA).keepVersions, 3, kTimeout);
    QCOMPARE(m_engine->settings(keyA).minExamples, 4);
    QCOMPARE(m_engine->settings(keyB), LoopSettings{});
    QCOMPARE(statusOf(keyB).json.value(QStringLiteral("settings")).toObject().value(QStringLiteral("keep_versions")).toInt(),
             LoopSettings{}.keepVersions);

    // Training one trains only that one.
    r = send("POST", QStringLiteral("/loop/train?project=%1").arg(keyA));
    QVERIFY2(r.status == 200, r.body.constData());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
    QCOMPARE(finished.at(0).at(0).toString(), keyA);
    QCOMPARE(finished.at(0).at(1).toInt(), 1);
    QCOMPARE(started.count(), 1);
    QCOMPARE(detailsOf(keyA).size(), 1);
    QCOMPARE(detailsOf(keyA).at(0).toObject().value(QStringLiteral("training_examples")).toInt(), 12);
    QCOMPARE(detailsOf(keyB).size(), 0);
    QCOMPARE(setupAs(keyA).json.value(QStringLiteral("model_version")).toString(), QStringLiteral("loopdeck-v1"));
    QCOMPARE(setupAs(keyB).json.value(QStringLiteral("model_version")).toString(), QStringLiteral("loopdeck-v0"));
    r = statusOf(keyB);
    QVERIFY(r.json.value(QStringLiteral("active_version")).isNull());
    QCOMPARE(r.json.value(QStringLiteral("new_since_training")).toInt(), 3);
    QCOMPARE(statusOf(keyA).json.value(QStringLiteral("new_since_training")).toInt(), 0);
    QVERIFY(!QDir(m_dir->filePath(QStringLiteral("models/1.1764069999"))).exists(QStringLiteral("v1.ldm")));
    QTest::qWait(1500); // a poll or two: nothing else starts
    QCOMPARE(started.count(), 1);
}

void TestLoopEngine::failuresBackOff()
{
    startEngine(LoopSettings{}); // defaults: threshold 50, cooldown 30 s
    freezeClock();
    QSignalSpy started(m_engine.get(), &LoopEngine::trainingStarted);
    QSignalSpy finished(m_engine.get(), &LoopEngine::trainingFinished);
    QSignalSpy failed(m_engine.get(), &LoopEngine::trainingFailed);
    // A label config the classifier cannot serve: every run fails for the same reason.
    const json unservable = projectObject(1, "2025-11-25T10:00:00.123456Z", kImageConfig);
    Reply r = setupAs(kKey, kImageConfig);
    QVERIFY2(r.status == 200, r.body.constData());
    QCOMPARE(r.json.value(QStringLiteral("servable")).toBool(), false);
    postFor(unservable, 1, 50, 1); // crosses the threshold
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, kTimeout);
    QCOMPARE(started.count(), 1);
    QCOMPARE(started.at(0).at(1).toString(), QStringLiteral("threshold"));
    const QDateTime failedAt = now();
    QJsonObject st = statusOf(kKey).json;
    QCOMPARE(st.value(QStringLiteral("failures_in_a_row")).toInt(), 1);
    QCOMPARE(QDateTime::fromString(st.value(QStringLiteral("backoff_until")).toString(), Qt::ISODateWithMs), failedAt.addSecs(60));
    QVERIFY(st.value(QStringLiteral("last_error")).toString().size() > 10);

    // Past the cooldown (30 s) but within the backoff: no automatic run, however often it polls.
    advanceClock(59);
    QTest::qWait(2500);
    QCOMPARE(started.count(), 1);
    QCOMPARE(statusOf(kKey).json.value(QStringLiteral("state")).toString(), QStringLiteral("idle"));

    // After it, the threshold starts a run again; it fails the same way: no new notification,
    // twice the wait.
    advanceClock(2);
    QTRY_COMPARE_WITH_TIMEOUT(started.count(), 2, kTimeout);
    QCOMPARE(started.at(1).at(1).toString(), QStringLiteral("threshold"));
    QTRY_COMPARE_WITH_TIMEOUT(statusOf(kKey).json.value(QStringLiteral("failures_in_a_row")).toInt(), 2, kTimeout);
    st = statusOf(kKey).json;
    QCOMPARE(QDateTime::fromString(st.value(QStringLiteral("backoff_until")).toString(), Qt::ISODateWithMs), now().addSecs(120));
    QCOMPARE(failed.count(), 1);

    // Label Studio's label config becomes servable; during the backoff "Train now" runs at
    // once, succeeds, and the failures are over.
    r = send("POST", QStringLiteral("/webhook"),
             QByteArray::fromStdString(json{{"action", "PROJECT_UPDATED"}, {"project", projectObject(1, "2025-11-25T10:00:00.123456Z")}}.dump()));
    QVERIFY2(r.status == 201 || r.status == 200, r.body.constData());
    QTRY_COMPARE_WITH_TIMEOUT(m_engine->predictionService()->labelConfigXml(kKey), kConfig, kTimeout);
    advanceClock(5);
    QTest::qWait(1500);
    QCOMPARE(started.count(), 2); // still backing off for automatic runs
    r = send("POST", QStringLiteral("/loop/train?project=%1").arg(kKey));
    QVERIFY2(r.status == 200, r.body.constData());
    QCOMPARE(r.json.value(QStringLiteral("train")).toString(), QStringLiteral("started"));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
    QCOMPARE(started.at(2).at(1).toString(), QStringLiteral("manual"));
    QCOMPARE(failed.count(), 1);
    st = statusOf(kKey).json;
    QCOMPARE(st.value(QStringLiteral("failures_in_a_row")).toInt(), 0);
    QVERIFY(st.value(QStringLiteral("backoff_until")).isNull());
    QVERIFY(st.value(QStringLiteral("last_error")).isNull());
    QCOMPARE(st.value(QStringLiteral("active_version")).toString(), QStringLiteral("loopdeck-v1"));
    // The store forgot the error too: it does not come back with the next start.
    QCOMPARE(m_engine->store()->project(kKey)->lastError, QString());
    m_engine.reset();
    startEngine(LoopSettings{});
    QVERIFY(statusOf(kKey).json.value(QStringLiteral("last_error")).isNull());
}

void TestLoopEngine::annotationEventWithoutAnnotationIs400()
{
    startEngine(LoopSettings{});
    const json project = projectObject(1, "2025-11-25T10:00:00.123456Z");
    postFor(project, 1, 2, 1);
    QTRY_VERIFY_WITH_TIMEOUT(m_engine->projects().contains(kKey), kTimeout);
    // Everything but the annotation: the task (with its data), the project.
    json body = json::parse(annotationEvent("ANNOTATION_CREATED", project, 3, 10003, QStringLiteral("a third text"),
                                            QStringLiteral("Positive"), 1)
                                .toStdString());
    body.erase("annotation");
    Reply r = send("POST", QStringLiteral("/webhook"), QByteArray::fromStdString(body.dump()));
    QVERIFY2(r.status == 400, r.body.constData());
    const QString why = r.json.value(QStringLiteral("error")).toString();
    QVERIFY2(why.contains(QLatin1String("annotation")) && why.size() > 20, qPrintable(why));
    body["annotation"] = nullptr;
    r = send("POST", QStringLiteral("/webhook"), QByteArray::fromStdString(body.dump()));
    QVERIFY2(r.status == 400, r.body.constData());
    // Nothing of it was stored: not the task, not a change.
    const auto counts = m_engine->store()->counts(kKey);
    QVERIFY(counts);
    QCOMPARE(counts->tasks, 2);
    QCOMPARE(counts->annotations, 2);
    QCOMPARE(m_engine->store()->pendingChanges(kKey).value(), 2);
    QVERIFY(!m_engine->store()->allTexts(kKey, QStringLiteral("text"))->contains(QStringLiteral("a third text")));
    QCOMPARE(m_engine->projects(), QStringList{kKey});
}

void TestLoopEngine::startTrainingSkipsCooldown()
{
    startEngine(LoopSettings{}); // defaults: threshold 50, cooldown 30 s
    freezeClock();               // the cooldown cannot pass by itself
    QSignalSpy started(m_engine.get(), &LoopEngine::trainingStarted);
    QSignalSpy finished(m_engine.get(), &LoopEngine::trainingFinished);
    const json project = projectObject(1, "2025-11-25T10:00:00.123456Z");
    QCOMPARE(setupAs(kKey).json.value(QStringLiteral("model_version")).toString(), QStringLiteral("loopdeck-v0"));
    postFor(project, 1, 50, 1);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
    QCOMPARE(started.at(0).at(1).toString(), QStringLiteral("threshold"));

    // Label Studio's "Start training" right after: runs now, not when the cooldown is over.
    const Reply r = send("POST", QStringLiteral("/webhook"),
                         QByteArray::fromStdString(json{{"action", "START_TRAINING"}, {"project", project}}.dump()));
    QVERIFY2(r.status == 201, r.body.constData());
    QTRY_COMPARE_WITH_TIMEOUT(started.count(), 2, 20000);
    QCOMPARE(started.at(1).at(1).toString(), QStringLiteral("start_training"));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, kTimeout);
    const QJsonArray d = detailsOf(kKey);
    QCOMPARE(d.size(), 2);
    QCOMPARE(d.at(1).toObject().value(QStringLiteral("trigger")).toString(), QStringLiteral("start_training"));
}

void TestLoopEngine::disconnectUnsticksReconcile()
{
    startEngine(LoopSettings{});
    QSignalSpy reconciled(m_engine.get(), &LoopEngine::reconciled);
    QCOMPARE(setupAs(kKey).status, 200);
    QTRY_VERIFY_WITH_TIMEOUT(m_engine->projects().contains(kKey), kTimeout);
    const QString token = QStringLiteral("0123456789abcdef0123456789abcdef01234567");

    // A Label Studio that lists the project, then never answers: the project's full sync hangs.
    FakeLabelStudio silent([](const FakeRequest &r, int) { return lsAnswer(r, true); });
    m_engine->setLabelStudio(silent.url(), token);
    QTRY_VERIFY_WITH_TIMEOUT(silent.paths().contains(QStringLiteral("/api/projects/1/")), kTimeout);
    QCOMPARE(reconciled.count(), 0);

    // Disconnected: nothing waits for that server any more.
    m_engine->setLabelStudio(QUrl(), QString());
    QVERIFY(!m_engine->hasLabelStudio());
    QVERIFY(statusOf(kKey).json.value(QStringLiteral("reconcile_error")).isNull());

    // Another Label Studio with the same project: a new sync starts and completes.
    FakeLabelStudio answering([](const FakeRequest &r, int) { return lsAnswer(r, false); });
    m_engine->setLabelStudio(answering.url(), token);
    QTRY_COMPARE_WITH_TIMEOUT(reconciled.count(), 1, 20000);
    QCOMPARE(reconciled.at(0).at(0).toString(), kKey);
    QVERIFY(answering.paths().contains(QStringLiteral("/api/projects/1/")));
    QVERIFY(answering.paths().contains(QStringLiteral("/api/tasks/")));
    const QJsonObject st = statusOf(kKey).json;
    // The full sync is recorded (an empty project has no watermark).
    QVERIFY2(!st.value(QStringLiteral("last_full_reconcile")).isNull(), QJsonDocument(st).toJson().constData());
    QVERIFY(st.value(QStringLiteral("reconcile_error")).isNull());
    m_engine->setLabelStudio(QUrl(), QString());
}

QTEST_MAIN(TestLoopEngine)
#include "tst_loopengine.moc"
