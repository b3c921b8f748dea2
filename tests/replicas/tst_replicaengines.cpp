// Two loop engines in one process on one PostgreSQL store, each with its own data folder and
// HTTP server: two replicas, as `serve --store` runs them, without a load balancer. Webhooks
// spread over both train exactly one version per threshold, and the other replica serves it
// within the polling period (NOTIFY usually makes it sooner); a run whose replica went away
// mid-run (its engine destroyed: the claim stays, the session and its lock end) is taken over
// by the survivor, which trains the version; /ready on both. Default settings but the threshold.
#include "core/backend/backendserver.h"
#include "core/backend/operatortoken.h"
#include "core/backend/predictionservice.h"
#include "core/loop/loopengine.h"
#include "core/store/loopstore.h"
#include "lswebhooks.h"
#include "pgtesting.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <random>

using loopdeck::backend::ServerConfig;
using loopdeck::loop::LoopEngine;
using loopdeck::loop::LoopSettings;
using loopdeck::test::annotationEvent;
using loopdeck::test::kConfig;
using loopdeck::test::sentence;
using namespace loopdeck::testing;

namespace {

constexpr int kTimeout = 120000; // ASan on a loaded 2-core machine; never a speed claim
const QString kKey = QStringLiteral("1.1764064800");

struct Reply {
    int status = 0;
    QByteArray body;
    QJsonObject json;
};

struct Replica {
    std::unique_ptr<QTemporaryDir> dir;
    std::unique_ptr<LoopEngine> engine;
    quint16 port = 0;
};

} // namespace

class TestReplicaEngines final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void thresholdTrainsOnceAndEveryReplicaServesIt();
    void survivorTakesOverARun();
    void explicitRequestWaitsForTheOtherReplica();
    void intervalRunsOnceAcrossReplicas();

private:
    void start(Replica &r, const LoopSettings &settings);
    Reply send(const Replica &r, const QByteArray &method, const QString &path, const QByteArray &body = {});
    void postAnnotations(const Replica &a, const Replica &b, int from, int count);
    int versionsInStore(LoopEngine &engine);
    int trainedRuns(LoopEngine &engine);

    QString m_url;
    QNetworkAccessManager *m_nam = nullptr;
    Replica m_a;
    Replica m_b;
};

void TestReplicaEngines::init()
{
    QVERIFY2(!pgAdminUrl().isEmpty(), "no PostgreSQL: run through ctest (fixture PG) or set LOOPDECK_PG_ADMIN_URL");
    m_url = freshDatabase();
    QVERIFY(!m_url.isEmpty());
    m_nam = new QNetworkAccessManager(this);
}

void TestReplicaEngines::cleanup()
{
    m_a.engine.reset();
    m_b.engine.reset();
    m_a = {};
    m_b = {};
    delete m_nam;
    m_nam = nullptr;
}

void TestReplicaEngines::start(Replica &r, const LoopSettings &settings)
{
    r.dir = std::make_unique<QTemporaryDir>();
    r.engine = std::make_unique<LoopEngine>();
    const auto opened = r.engine->open(r.dir->path(), settings, m_url);
    QVERIFY2(opened, qPrintable(opened.error()));
    QVERIFY(r.engine->isShared());
    ServerConfig config;
    config.port = 0;
    QString error;
    QVERIFY2(r.engine->startServer(config, &error), qPrintable(error));
    r.port = r.engine->server()->port();
    r.engine->setReplicaName(QStringLiteral("replica:%1").arg(r.port));
}

Reply TestReplicaEngines::send(const Replica &r, const QByteArray &method, const QString &path, const QByteArray &body)
{
    QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(r.port).arg(path)));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setTransferTimeout(30000);
    if (path.startsWith(QLatin1String("/loop/")))
        if (const auto token = loopdeck::backend::operatortoken::readFile(loopdeck::backend::operatortoken::pathIn(r.engine->dataDir())))
            request.setRawHeader("Authorization", "Bearer " + token.value().toLatin1());
    QNetworkReply *reply = m_nam->sendCustomRequest(request, method, body);
    QEventLoop loop;
    connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    Reply out;
    out.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    out.body = reply->readAll();
    out.json = QJsonDocument::fromJson(out.body).object();
    reply->deleteLater();
    return out;
}

void TestReplicaEngines::postAnnotations(const Replica &a, const Replica &b, int from, int count)
{
    std::mt19937 rng(7);
    for (int t = from; t < from + count; ++t) {
        const bool positive = t % 2 == 0;
        const Replica &to = t % 2 ? a : b; // spread like a balancer would
        // Label Studio's project object carries its creation time: the key, on every replica.
        const nlohmann::json project = {{"id", 1}, {"title", "Reviews"}, {"created_at", "2025-11-25T10:00:00.123456Z"},
                                        {"label_config", kConfig.toStdString()}};
        const Reply r = send(to, "POST", QStringLiteral("/webhook"),
                             annotationEvent("ANNOTATION_CREATED", project, t, 10000 + t, sentence(rng, positive),
                                             positive ? QStringLiteral("Positive") : QStringLiteral("Negative"), 1));
        if (r.status != 201)
            QFAIL(r.body.constData());
    }
}

int TestReplicaEngines::versionsInStore(LoopEngine &engine)
{
    const auto models = engine.store()->models(kKey);
    return models ? int(models->size()) : -1;
}

// Runs that produced a version (activated or kept inactive by the activation policy).
int TestReplicaEngines::trainedRuns(LoopEngine &engine)
{
    const auto runs = engine.store()->runs(kKey, 1000);
    if (!runs)
        return -1;
    int n = 0;
    for (const auto &r : runs.value())
        n += r.outcome == QLatin1String("trained") || r.outcome == QLatin1String("kept") ? 1 : 0;
    return n;
}

void TestReplicaEngines::thresholdTrainsOnceAndEveryReplicaServesIt()
{
    LoopSettings s; // the defaults users get, but a small threshold
    s.trainEvery = 20;
    s.minExamples = 10;
    s.refreshPredictions = false;
    start(m_a, s);
    start(m_b, s);
    QSignalSpy finishedA(m_a.engine.get(), &LoopEngine::trainingFinished);
    QSignalSpy finishedB(m_b.engine.get(), &LoopEngine::trainingFinished);
    const QJsonObject setup{{QStringLiteral("project"), kKey}, {QStringLiteral("schema"), kConfig}};
    QCOMPARE(send(m_a, "POST", QStringLiteral("/setup"), QJsonDocument(setup).toJson()).status, 200);
    QCOMPARE(send(m_b, "POST", QStringLiteral("/setup"), QJsonDocument(setup).toJson()).status, 200);
    QCOMPARE(send(m_a, "GET", QStringLiteral("/ready")).status, 200);

    postAnnotations(m_a, m_b, 1, 20);
    QVERIFY(!QTest::currentTestFailed()); // the 20th crosses the threshold, on whichever replica polls first
    QTRY_COMPARE_WITH_TIMEOUT(finishedA.count() + finishedB.count(), 1, kTimeout);
    // Both replicas keep polling the same pending count: no second run of the same trigger.
    QTest::qWait(3000);
    QCOMPARE(finishedA.count() + finishedB.count(), 1);
    QCOMPARE(versionsInStore(*m_a.engine), 1);
    QCOMPARE(trainedRuns(*m_b.engine), 1);
    // Every replica serves it.
    QTRY_COMPARE_WITH_TIMEOUT(m_a.engine->predictionService()->modelVersion(kKey), QStringLiteral("loopdeck-v1"), kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(m_b.engine->predictionService()->modelVersion(kKey), QStringLiteral("loopdeck-v1"), 3000);
    QCOMPARE(send(m_b, "POST", QStringLiteral("/setup"), QJsonDocument(setup).toJson()).json.value(QStringLiteral("model_version")).toString(),
             QStringLiteral("loopdeck-v1"));

    // The next 20, again spread: one more version, one more run.
    postAnnotations(m_a, m_b, 21, 20);
    QTRY_COMPARE_WITH_TIMEOUT(finishedA.count() + finishedB.count(), 2, kTimeout);
    QTest::qWait(3000);
    QCOMPARE(finishedA.count() + finishedB.count(), 2);
    QCOMPARE(trainedRuns(*m_a.engine), 2);
    const int active = m_a.engine->store()->activeModels(kKey)->value(QStringLiteral("sentiment"));
    QVERIFY(active >= 1);
    QTRY_COMPARE_WITH_TIMEOUT(m_a.engine->predictionService()->activeVersion(kKey), active, 3000);
    QTRY_COMPARE_WITH_TIMEOUT(m_b.engine->predictionService()->activeVersion(kKey), active, 3000);
    QCOMPARE(send(m_a, "GET", QStringLiteral("/ready")).status, 200);
    QCOMPARE(send(m_b, "GET", QStringLiteral("/ready")).status, 200);
    QCOMPARE(m_b.engine->store()->claims()->size(), 0);

    // A version whose file does not match its checksum is made active behind the replicas' backs:
    // neither serves it, both say they are not ready, and the version they serve keeps serving.
    const QString db = QUrl(m_url).path().mid(1);
    QCOMPARE(pgAdmin(QStringLiteral("INSERT INTO model_file (project_key, version, created, target, metrics, examples, sha256, size, body)"
                                    " SELECT project_key, 99, created, target, metrics, examples, sha256, size,"
                                    " set_byte(body, 40, (get_byte(body, 40) + 1) % 256) FROM model_file"
                                    " WHERE project_key = '%1' AND version = %2")
                         .arg(kKey)
                         .arg(active),
                     db),
             QString());
    QCOMPARE(pgAdmin(QStringLiteral("UPDATE model_active SET version = 99 WHERE project_key = '%1'").arg(kKey), db), QString());
    QCOMPARE(pgAdmin(QStringLiteral("NOTIFY loopdeck_active, '%1'").arg(kKey), db), QString());
    QTRY_COMPARE_WITH_TIMEOUT(send(m_b, "GET", QStringLiteral("/ready")).status, 503, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(send(m_a, "GET", QStringLiteral("/ready")).status, 503, 5000);
    const Reply notReady = send(m_b, "GET", QStringLiteral("/ready"));
    QCOMPARE(notReady.json.value(QStringLiteral("ready")).toBool(true), false);
    QVERIFY2(notReady.json.value(QStringLiteral("why")).toString().contains(QLatin1String("active version")), notReady.body.constData());
    QVERIFY2(!notReady.body.contains("SHA-256") && !notReady.body.contains(db.toUtf8()), notReady.body.constData()); // details only in the log
    QCOMPARE(m_b.engine->predictionService()->activeVersion(kKey), active);
    // Back to the good version: ready again.
    QCOMPARE(pgAdmin(QStringLiteral("UPDATE model_active SET version = %2 WHERE project_key = '%1'").arg(kKey).arg(active), db), QString());
    QTRY_COMPARE_WITH_TIMEOUT(send(m_b, "GET", QStringLiteral("/ready")).status, 200, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(send(m_a, "GET", QStringLiteral("/ready")).status, 200, 5000);
}

void TestReplicaEngines::intervalRunsOnceAcrossReplicas()
{
    // Both replicas' schedulers see the interval come due at the same (injected) time; one run.
    QDateTime now = QDateTime(QDate(2026, 12, 4), QTime(9, 0), Qt::UTC);
    LoopSettings s;
    s.trainEvery = 0;
    s.intervalMinutes = 5;
    s.cooldownSeconds = 0;
    s.minExamples = 10;
    s.refreshPredictions = false;
    start(m_a, s);
    start(m_b, s);
    m_a.engine->setClock([&] { return now; });
    m_b.engine->setClock([&] { return now; });
    QSignalSpy finishedA(m_a.engine.get(), &LoopEngine::trainingFinished);
    QSignalSpy finishedB(m_b.engine.get(), &LoopEngine::trainingFinished);
    const QJsonObject setup{{QStringLiteral("project"), kKey}, {QStringLiteral("schema"), kConfig}};
    QCOMPARE(send(m_a, "POST", QStringLiteral("/setup"), QJsonDocument(setup).toJson()).status, 200);
    QCOMPARE(send(m_b, "POST", QStringLiteral("/setup"), QJsonDocument(setup).toJson()).status, 200);
    postAnnotations(m_a, m_b, 1, 30);
    QVERIFY(!QTest::currentTestFailed());
    QTest::qWait(2500);
    QCOMPARE(finishedA.count() + finishedB.count(), 0); // not due yet
    now = now.addSecs(6 * 60);
    QTRY_COMPARE_WITH_TIMEOUT(finishedA.count() + finishedB.count(), 1, kTimeout);
    QTest::qWait(3000);
    QCOMPARE(finishedA.count() + finishedB.count(), 1);
    QCOMPARE(trainedRuns(*m_a.engine), 1);
    // The next period with new annotations: one more run; without: none.
    postAnnotations(m_a, m_b, 31, 10);
    now = now.addSecs(6 * 60);
    QTRY_COMPARE_WITH_TIMEOUT(finishedA.count() + finishedB.count(), 2, kTimeout);
    now = now.addSecs(6 * 60);
    QTest::qWait(3000);
    QCOMPARE(finishedA.count() + finishedB.count(), 2);
    QCOMPARE(trainedRuns(*m_b.engine), 2);

    // Settings changed through one replica reach the other.
    const Reply changed = send(m_a, "POST", QStringLiteral("/loop/settings?project=%1").arg(kKey),
                               QJsonDocument(QJsonObject{{QStringLiteral("train_every"), 7}}).toJson());
    QCOMPARE(changed.status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(m_b.engine->settings(kKey).trainEvery, 7, 5000);
    QCOMPARE(m_b.engine->settings(kKey).intervalMinutes, 5);
    QCOMPARE(m_a.engine->settings(kKey).trainEvery, 7);
}

void TestReplicaEngines::survivorTakesOverARun()
{
    LoopSettings s;
    s.trainEvery = 0; // by hand only
    s.refreshPredictions = false;
    start(m_a, s);
    start(m_b, s);
    const QJsonObject setup{{QStringLiteral("project"), kKey}, {QStringLiteral("schema"), kConfig}};
    QCOMPARE(send(m_a, "POST", QStringLiteral("/setup"), QJsonDocument(setup).toJson()).status, 200);
    postAnnotations(m_a, m_b, 1, 3000);
    QVERIFY(!QTest::currentTestFailed());
    QSignalSpy finishedB(m_b.engine.get(), &LoopEngine::trainingFinished);
    QStringList logB;
    connect(m_b.engine.get(), &LoopEngine::logLine, this, [&](const QString &line) { logB << line; });
    // A goes away right after its run started: the run never finishes there; the claim stays.
    bool claimedByA = false;
    connect(m_a.engine.get(), &LoopEngine::trainingStarted, this, [&] {
        const auto claims = m_b.engine->store()->claims();
        claimedByA = claims && claims->size() == 1 && claims->at(0).replica == QStringLiteral("replica:%1").arg(m_a.port);
        m_a.engine.reset();
    }, Qt::QueuedConnection);
    QCOMPARE(send(m_a, "POST", QStringLiteral("/loop/train?project=%1").arg(kKey)).status, 200);
    QTRY_VERIFY_WITH_TIMEOUT(!m_a.engine, kTimeout);
    QVERIFY(claimedByA);
    QCOMPARE(finishedB.count(), 0);
    // B takes it over (found by its 2 s check) and trains the version.
    QTRY_VERIFY_WITH_TIMEOUT(finishedB.count() >= 1, kTimeout);
    QVERIFY2(logB.join(u'\n').contains(QLatin1String("event=run_taken_over")), qPrintable(logB.join(u'\n')));
    QCOMPARE(versionsInStore(*m_b.engine), 1);
    QCOMPARE(trainedRuns(*m_b.engine), 1);
    QTRY_COMPARE_WITH_TIMEOUT(m_b.engine->store()->claims()->size(), 0, kTimeout);
    QCOMPARE(m_b.engine->predictionService()->activeVersion(kKey), 1);
}

void TestReplicaEngines::explicitRequestWaitsForTheOtherReplica()
{
    LoopSettings s;
    s.trainEvery = 0;
    s.refreshPredictions = false;
    start(m_a, s);
    start(m_b, s);
    const QJsonObject setup{{QStringLiteral("project"), kKey}, {QStringLiteral("schema"), kConfig}};
    QCOMPARE(send(m_a, "POST", QStringLiteral("/setup"), QJsonDocument(setup).toJson()).status, 200);
    postAnnotations(m_a, m_b, 1, 3000);
    QVERIFY(!QTest::currentTestFailed());
    QElapsedTimer clock;
    clock.start();
    qint64 finishedAAt = -1;
    qint64 startedBAt = -1;
    connect(m_a.engine.get(), &LoopEngine::trainingFinished, this, [&] { finishedAAt = clock.elapsed(); });
    connect(m_b.engine.get(), &LoopEngine::trainingStarted, this, [&] { startedBAt = clock.elapsed(); });
    QSignalSpy startedA(m_a.engine.get(), &LoopEngine::trainingStarted);
    QSignalSpy finishedB(m_b.engine.get(), &LoopEngine::trainingFinished);
    QCOMPARE(send(m_a, "POST", QStringLiteral("/loop/train?project=%1").arg(kKey)).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(startedA.count(), 1, kTimeout);
    // Asked on B while A runs: queued behind A's run, never beside it.
    const Reply asked = send(m_b, "POST", QStringLiteral("/loop/train?project=%1").arg(kKey));
    QCOMPARE(asked.status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(finishedB.count(), 1, kTimeout);
    QVERIFY(finishedAAt >= 0);
    QVERIFY2(startedBAt >= finishedAAt, qPrintable(QStringLiteral("B started at %1 ms, A finished at %2 ms").arg(startedBAt).arg(finishedAAt)));
    QCOMPARE(versionsInStore(*m_a.engine), 2);
    QCOMPARE(trainedRuns(*m_a.engine), 2);
}

QTEST_MAIN(TestReplicaEngines)
#include "tst_replicaengines.moc"
