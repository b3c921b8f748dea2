// RemoteLoopClient against a real loop over real HTTP: a LoopEngine with its backend on a free
// port, fed with Label Studio's webhook bodies. The client mirrors the engine's projects, status
// and versions; a training started through it arrives through the event stream; rollback,
// activate and settings act on the engine and the client's reads show the change when `done`
// runs; a wrong token, a closed port, a server of another version and a server that goes away
// give sentences; the client comes back by itself; an idle client sends no requests.
#include "core/backend/backendserver.h"
#include "core/backend/operatortoken.h"
#include "core/client/remoteloopclient.h"
#include "core/loop/loopengine.h"
#include "lswebhooks.h"

#include <QDeadlineTimer>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace loopdeck;
using client::LoopResult;
using client::RemoteLoopClient;

namespace {

constexpr int kTimeout = 60000; // ASan on a shared 2-core machine; not a speed claim
const QString kKey = QStringLiteral("1.1764064800");

} // namespace

class TestRemoteLoopClient final : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;
    std::unique_ptr<loop::LoopEngine> m_engine;
    QNetworkAccessManager m_nam;
    quint16 m_port = 0;
    QString m_token;

    int post(const QString &path, const QByteArray &body)
    {
        QNetworkRequest r(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(path)));
        r.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        QNetworkReply *reply = m_nam.post(r, body);
        QSignalSpy done(reply, &QNetworkReply::finished);
        done.wait(20000);
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        reply->deleteLater();
        return status;
    }
    RemoteLoopClient::Endpoint endpoint(const QString &token) const
    {
        RemoteLoopClient::Endpoint e;
        e.url = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_port));
        e.token = token;
        return e;
    }
    // Runs an action and waits for its `done`; `check` runs inside `done` (the reads must already agree).
    LoopResult run(const std::function<void(RemoteLoopClient::Done)> &action, const std::function<void()> &check = {})
    {
        // Shared: a `done` that comes after the test gave up must not write into a dead frame.
        auto result = std::make_shared<std::optional<LoopResult>>();
        action([result, check](const LoopResult &r) {
            if (check)
                check();
            *result = r;
        });
        QDeadlineTimer deadline(kTimeout);
        while (!*result && !deadline.hasExpired())
            QTest::qWait(20);
        return result->value_or(LoopResult::failure(QStringLiteral("no answer within the test's time")));
    }
    int engineActive() const
    {
        return m_engine->status(kKey).body.value(QStringLiteral("active_version")).toString().mid(10).toInt();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_engine = std::make_unique<loop::LoopEngine>();
        loop::LoopSettings settings;
        settings.trainEvery = 0; // trainings only when the test asks
        settings.activationMargin = 1.0;
        const auto opened = m_engine->open(m_dir.path(), settings);
        QVERIFY2(opened, qPrintable(opened.error()));
        backend::ServerConfig config;
        config.port = 0;
        QString error;
        QVERIFY2(m_engine->startServer(config, &error), qPrintable(error));
        m_port = m_engine->server()->port();
        m_token = backend::operatortoken::readFile(backend::operatortoken::pathIn(m_dir.path())).value();
        // Label Studio's calls: /setup, then 40 annotations as webhooks (no token).
        const QJsonObject setup{{QStringLiteral("project"), kKey}, {QStringLiteral("schema"), test::kConfig}};
        QCOMPARE(post(QStringLiteral("/setup"), QJsonDocument(setup).toJson()), 200);
        std::mt19937 rng(7);
        for (int t = 1; t <= 40; ++t) {
            const bool positive = t % 2 == 0;
            QCOMPARE(post(QStringLiteral("/webhook"),
                          test::annotationEvent("ANNOTATION_CREATED", 1, t, 1000 + t, test::sentence(rng, positive),
                                                positive ? QStringLiteral("Positive") : QStringLiteral("Negative"), 1)),
                     201);
        }
    }
    void cleanupTestCase() { m_engine.reset(); }

    void mirrorsTheEngineAndTrainsThroughIt()
    {
        RemoteLoopClient client;
        QSignalSpy added(&client, &client::LoopClient::projectAdded);
        QSignalSpy finished(&client, &client::LoopClient::trainingFinished);
        client.connectTo(endpoint(m_token));
        QTRY_VERIFY_WITH_TIMEOUT(client.isUp(), 10000);
        QTRY_COMPARE_WITH_TIMEOUT(client.projects(), QStringList{kKey}, 10000);
        // Read at connect: not announced as new (the notifier takes a new project's first reconcile
        // for its first import and keeps quiet about it).
        QCOMPARE(added.count(), 0);
        QCOMPARE(client.status(kKey)->annotations, 40);
        QCOMPARE(client.status(kKey)->annotations, m_engine->status(kKey).body.value(QStringLiteral("annotations")).toInt());
        QVERIFY(client.versions(kKey).isEmpty());
        QCOMPARE(client.where(), client::LoopClient::Where::Remote);
        QVERIFY(client.describe().contains(QString::number(m_port)));

        // Train now through the client: the new version arrives through the event stream.
        const LoopResult trained = run([&](auto done) { client.train(kKey, done); });
        QVERIFY2(trained.ok, qPrintable(trained.error));
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
        QCOMPARE(finished.at(0).at(0).toString(), kKey);
        QCOMPARE(finished.at(0).at(1).toInt(), 1);
        // When trainingFinished arrives, the reads already show the version.
        QCOMPARE(client.versions(kKey).size(), 1);
        QCOMPARE(client.versions(kKey).first().version, 1);
        QVERIFY(client.versions(kKey).first().active);
        QCOMPARE(client.versions(kKey).first().trainingExamples,
                 m_engine->versionDetails(kKey).first().toObject().value(QStringLiteral("training_examples")).toInt());
        QTRY_COMPARE_WITH_TIMEOUT(client.status(kKey)->activeVersion, 1, 10000);

        // A second version, then roll back and activate again: the engine does it, the client shows it at `done`.
        QVERIFY(run([&](auto done) { client.train(kKey, done); }).ok);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, kTimeout);
        QTRY_COMPARE_WITH_TIMEOUT(engineActive(), 2, 10000);
        const LoopResult back = run([&](auto done) { client.rollback(kKey, done); },
                                    [&] { QCOMPARE(client.status(kKey)->activeVersion, 1); });
        QVERIFY2(back.ok, qPrintable(back.error));
        QCOMPARE(engineActive(), 1);
        QVERIFY(run([&](auto done) { client.activate(kKey, 2, done); }, [&] { QCOMPARE(client.status(kKey)->activeVersion, 2); }).ok);
        QCOMPARE(engineActive(), 2);
        const LoopResult missing = run([&](auto done) { client.activate(kKey, 99, done); });
        QVERIFY(!missing.ok);
        QCOMPARE(missing.httpStatus, 404);
        QVERIFY(!missing.error.isEmpty());

        // Settings edited remotely are in force in the engine.
        loop::LoopSettings s = client.settings(kKey);
        s.trainEvery = 77;
        s.dailyAt = QTime(3, 15);
        QVERIFY(run([&](auto done) { client.setSettings(kKey, s, done); }, [&] { QCOMPARE(client.settings(kKey).trainEvery, 77); }).ok);
        QCOMPARE(m_engine->settings(kKey).trainEvery, 77);
        QCOMPARE(m_engine->settings(kKey).dailyAt, QTime(3, 15));

        // A project the loop takes in while the client watches is announced, through the events.
        const QJsonObject setup2{{QStringLiteral("project"), QStringLiteral("2.1764064800")}, {QStringLiteral("schema"), test::kConfig}};
        QCOMPARE(post(QStringLiteral("/setup"), QJsonDocument(setup2).toJson()), 200);
        QTRY_COMPARE_WITH_TIMEOUT(added.count(), 1, 10000);
        QCOMPARE(added.at(0).at(0).toString(), QStringLiteral("2.1764064800"));
        QTRY_COMPARE_WITH_TIMEOUT(client.projects().size(), 2, 10000);

        // Idle: no polling. The stream's heartbeat is not a request.
        QTest::qWait(500);
        const qint64 requests = client.requestsSent();
        QTest::qWait(3000);
        QCOMPARE(client.requestsSent(), requests);
        QVERIFY(client.isUp());
    }

    void everyActionIsAnsweredOnce()
    {
        RemoteLoopClient client;
        client.connectTo(endpoint(m_token));
        QTRY_VERIFY_WITH_TIMEOUT(client.isUp(), 10000);
        // In flight when the connection changes: answered at once, with a failure, and never again.
        auto answers = std::make_shared<QList<LoopResult>>();
        client.rollback(kKey, [answers](const LoopResult &r) { answers->append(r); });
        client.connectTo(endpoint(m_token));
        QCOMPARE(answers->size(), 1);
        QVERIFY(!answers->first().ok);
        QVERIFY2(answers->first().error.contains(QLatin1String("changed")), qPrintable(answers->first().error));
        QTest::qWait(1500);
        QCOMPARE(answers->size(), 1);
        // A pasted token with a line break never reaches a header.
        client.connectTo(endpoint(m_token + QStringLiteral("\r\nX-Evil: 1")));
        QVERIFY(!client.isUp());
        QVERIFY2(client.connectionError().contains(QLatin1String("characters")), qPrintable(client.connectionError()));
        QCOMPARE(client.requestsSent(), 0);
    }

    void wrongTokenSaysSo()
    {
        RemoteLoopClient client;
        QSignalSpy changed(&client, &client::LoopClient::connectionChanged);
        client.connectTo(endpoint(m_token + QStringLiteral("x")));
        QTRY_VERIFY_WITH_TIMEOUT(!client.connectionError().isEmpty(), 10000);
        QVERIFY(!client.isUp());
        QVERIFY2(client.connectionError().contains(QLatin1String("operator token")), qPrintable(client.connectionError()));
        QVERIFY(client.projects().isEmpty());
        std::optional<std::pair<bool, QString>> tested;
        RemoteLoopClient::testConnection(endpoint(QStringLiteral("ldo_wrong")), this,
                                         [&](bool ok, const QString &m) { tested = std::make_pair(ok, m); });
        QTRY_VERIFY_WITH_TIMEOUT(tested.has_value(), 10000);
        QVERIFY(!tested->first);
        QVERIFY2(tested->second.contains(QLatin1String("operator token")), qPrintable(tested->second));
        tested.reset();
        RemoteLoopClient::testConnection(endpoint(m_token), this, [&](bool ok, const QString &m) { tested = std::make_pair(ok, m); });
        QTRY_VERIFY_WITH_TIMEOUT(tested.has_value(), 10000);
        QVERIFY2(tested->first, qPrintable(tested->second));
    }

    void closedPortSaysSo()
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        const quint16 closed = probe.serverPort();
        probe.close();
        RemoteLoopClient::Endpoint e = endpoint(m_token);
        e.url.setPort(closed);
        std::optional<std::pair<bool, QString>> tested;
        RemoteLoopClient::testConnection(e, this, [&](bool ok, const QString &m) { tested = std::make_pair(ok, m); });
        QTRY_VERIFY_WITH_TIMEOUT(tested.has_value(), 10000);
        QVERIFY(!tested->first);
        QVERIFY2(tested->second.contains(QLatin1String("Nothing answers")), qPrintable(tested->second));
    }

    void otherVersionSaysSo()
    {
        // A fake server for this error path only: an event stream whose hello names version 9.9.0.
        QTcpServer fake;
        QVERIFY(fake.listen(QHostAddress::LocalHost, 0));
        connect(&fake, &QTcpServer::newConnection, this, [&fake] {
            while (QTcpSocket *s = fake.nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, s, [s] {
                    s->readAll();
                    s->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                             "event: hello\ndata: {\"boot\":\"b\",\"version\":\"9.9.0\"}\n\n");
                });
            }
        });
        RemoteLoopClient client;
        RemoteLoopClient::Endpoint e = endpoint(m_token);
        e.url.setPort(fake.serverPort());
        client.connectTo(e);
        QTRY_VERIFY_WITH_TIMEOUT(client.connectionError().contains(QLatin1String("9.9.0")), 10000);
        QVERIFY(!client.isUp());
    }

    void serverGoneAndBack()
    {
        RemoteLoopClient client;
        client.connectTo(endpoint(m_token));
        QTRY_VERIFY_WITH_TIMEOUT(client.isUp() && !client.projects().isEmpty(), 10000);
        m_engine->stopServer();
        QTRY_VERIFY_WITH_TIMEOUT(!client.isUp(), 10000);
        QVERIFY(!client.connectionError().isEmpty());
        backend::ServerConfig config;
        config.port = m_port;
        QString error;
        QVERIFY2(m_engine->startServer(config, &error), qPrintable(error));
        QTRY_VERIFY_WITH_TIMEOUT(client.isUp(), 20000);
        QTRY_COMPARE_WITH_TIMEOUT(client.projects(), m_engine->projects(), 10000);
    }
};

QTEST_MAIN(TestRemoteLoopClient)
#include "tst_remoteloopclient.moc"
