// The operator token (operatortoken.h) and the event stream (GET /loop/events) on a real
// BackendServer: /loop/* needs the token on loopback too, Label Studio's routes do not, the
// "details" of /versions show only with it, Basic auth does not open /loop/*, and the stream
// says hello, carries the loop's events in order and lets go of a client that left.
#include "core/backend/backendserver.h"
#include "core/backend/loopcontrol.h"
#include "core/backend/loopevents.h"
#include "core/backend/modelregistry.h"
#include "core/backend/operatortoken.h"
#include "core/backend/predictionservice.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <thread>

using namespace loopdeck::backend;

namespace {

const QByteArray kSetup = QJsonDocument(QJsonObject{
    {QStringLiteral("project"), QStringLiteral("1")},
    {QStringLiteral("schema"), QStringLiteral("<View><Text name='t' value='$t'/><Choices name='c' toName='t'>"
                                              "<Choice value='a'/><Choice value='b'/></Choices></View>")}}).toJson();

// A loop that answers every action with a fixed body, so the test sees what the HTTP layer lets in.
class FixedLoop final : public LoopControl
{
public:
    std::atomic<int> calls{0};
    LoopReply status(const QString &p) const override { return LoopReply::ok(QJsonObject{{QStringLiteral("project"), p}}); }
    LoopReply train(const QString &) override { ++calls; return LoopReply::ok({}); }
    LoopReply activate(const QString &, int) override { ++calls; return LoopReply::ok({}); }
    LoopReply rollback(const QString &) override { ++calls; return LoopReply::ok({}); }
    LoopReply cancel(const QString &) override { ++calls; return LoopReply::ok({}); }
    LoopReply configure(const QString &, const QJsonObject &) override { ++calls; return LoopReply::ok({}); }
    QJsonArray versionDetails(const QString &) const override { return QJsonArray{QJsonObject{{QStringLiteral("version"), 1}}}; }
};

QByteArray request(const QByteArray &method, const QByteArray &target, const QByteArray &extraHeaders = {},
                   const QByteArray &body = {})
{
    return method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
           + QByteArray::number(body.size()) + "\r\n" + extraHeaders + "\r\n" + body;
}

// Sends bytes, reads until the peer closes or waitMs pass.
QByteArray exchange(quint16 port, const QByteArray &bytes, int waitMs = 30000)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000))
        return {};
    socket.write(bytes);
    QByteArray answer;
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < waitMs && socket.state() == QAbstractSocket::ConnectedState) {
        if (socket.waitForReadyRead(50))
            answer += socket.readAll();
        if (answer.contains("\r\n\r\n")) {
            const qsizetype at = answer.indexOf("Content-Length: ");
            const qsizetype end = answer.indexOf("\r\n\r\n");
            if (at >= 0 && at < end) {
                const int length = answer.mid(at + 16, answer.indexOf("\r\n", at) - at - 16).toInt();
                if (answer.size() >= end + 4 + length)
                    break;
            }
        }
    }
    return answer + socket.readAll();
}

int statusOf(const QByteArray &answer)
{
    return answer.mid(9, 3).toInt();
}

} // namespace

class TestOperatorAccess final : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;
    std::shared_ptr<PredictionService> m_service;
    std::shared_ptr<FixedLoop> m_loop = std::make_shared<FixedLoop>();
    std::shared_ptr<LoopEvents> m_events = std::make_shared<LoopEvents>();
    QString m_token;

    std::unique_ptr<BackendServer> start(ServerConfig config)
    {
        auto server = std::make_unique<BackendServer>(m_service);
        server->setLoopControl(m_loop);
        server->setLoopEvents(m_events);
        config.port = 0;
        config.dataDir = m_dir.path();
        QString error;
        if (!server->start(config, &error))
            qWarning("%s", qPrintable(error));
        return server;
    }
    QByteArray bearer(const QString &token) const { return "Authorization: Bearer " + token.toLatin1() + "\r\n"; }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_service = std::make_shared<PredictionService>(std::make_shared<ModelRegistry>(m_dir.path()));
        const auto token = operatortoken::loadOrCreate(m_dir.path());
        QVERIFY2(token, qPrintable(token.error()));
        m_token = token.value();
    }

    void tokenFileIsOwnerOnlyAndStable()
    {
        QTemporaryDir dir;
        const auto made = operatortoken::loadOrCreate(dir.path() + QStringLiteral("/new/folder"));
        QVERIFY2(made, qPrintable(made.error()));
        QVERIFY(made.value().startsWith(QLatin1String("ldo_")));
        QCOMPARE(made.value().size(), 4 + 43);
        const QString path = operatortoken::pathIn(dir.path() + QStringLiteral("/new/folder"));
#ifdef Q_OS_UNIX
        QCOMPARE(QFile::permissions(path) & ~(QFileDevice::ReadUser | QFileDevice::WriteUser),
                 QFileDevice::ReadOwner | QFileDevice::WriteOwner);
#endif
        const auto again = operatortoken::loadOrCreate(dir.path() + QStringLiteral("/new/folder"));
        QCOMPARE(again.value(), made.value());
        const auto rotated = operatortoken::rotate(dir.path() + QStringLiteral("/new/folder"));
        QVERIFY(rotated && rotated.value() != made.value());
        QCOMPARE(operatortoken::readFile(path).value(), rotated.value());
        QVERIFY(operatortoken::generate() != operatortoken::generate());
    }

    void badTokenFilesAreRefused()
    {
        QTemporaryDir dir;
        QFile file(operatortoken::pathIn(dir.path()));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("\n\n");
        file.close();
        const auto empty = operatortoken::loadOrCreate(dir.path());
        QVERIFY(!empty);
        QVERIFY(empty.error().contains(QLatin1String("holds no token")));
        QVERIFY(!operatortoken::readFile(dir.path() + QStringLiteral("/absent")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("short");
        file.close();
        QVERIFY(!operatortoken::readFile(file.fileName()));
    }

    void bearerComparison()
    {
        const QString t = QStringLiteral("ldo_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG");
        QVERIFY(operatortoken::matchesBearer("Bearer " + t.toLatin1(), t));
        QVERIFY(operatortoken::matchesBearer("bearer  " + t.toLatin1() + ' ', t));
        QVERIFY(!operatortoken::matchesBearer("Bearer " + t.toLatin1().chopped(1), t));
        QVERIFY(!operatortoken::matchesBearer("Bearer " + t.toLatin1() + 'x', t));
        QVERIFY(!operatortoken::matchesBearer("Basic " + t.toLatin1(), t));
        QVERIFY(!operatortoken::matchesBearer(t.toLatin1(), t));
        QVERIFY(!operatortoken::matchesBearer("Bearer ", QString()));
        QVERIFY(!operatortoken::matchesBearer("Bearer x", QString()));
    }

    void loopRoutesNeedTheTokenOnLoopback()
    {
        ServerConfig config;
        config.operatorToken = m_token;
        const auto server = start(config);
        QVERIFY(server->isListening());
        const int before = m_loop->calls;
        for (const QByteArray &target : {QByteArray("/loop/train?project=1"), QByteArray("/loop/activate?project=1&version=1"),
                                         QByteArray("/loop/rollback?project=1"), QByteArray("/loop/cancel?project=1"),
                                         QByteArray("/loop/settings?project=1"), QByteArray("//loop/train/?project=1")}) {
            const QByteArray none = exchange(server->port(), request("POST", target, {}, "{}"));
            QVERIFY2(statusOf(none) == 401, none.constData());
            QVERIFY(none.contains("WWW-Authenticate: Bearer"));
            QVERIFY(none.contains("operator token"));
            const QByteArray wrong = exchange(server->port(), request("POST", target, bearer(m_token + QLatin1Char('x')), "{}"));
            QVERIFY2(statusOf(wrong) == 401, wrong.constData());
            QVERIFY(!wrong.contains(m_token.toLatin1())); // a refusal never echoes a token
        }
        QCOMPARE(int(m_loop->calls), before);
        const QByteArray status = exchange(server->port(), request("GET", "/loop/status?project=1"));
        QCOMPARE(statusOf(status), 401);
        const QByteArray ok = exchange(server->port(), request("POST", "/loop/train?project=1", bearer(m_token), "{}"));
        QVERIFY2(statusOf(ok) == 200, ok.constData());
        QCOMPARE(int(m_loop->calls), before + 1);
        // Label Studio's calls need no token, and a Bearer that is not ours (a proxy's) is ignored there.
        QCOMPARE(statusOf(exchange(server->port(), request("GET", "/health"))), 200);
        QCOMPARE(statusOf(exchange(server->port(), request("GET", "/health", bearer(QStringLiteral("a_proxy_token_0123456789"))))), 200);
        const QByteArray setup = exchange(server->port(), request("POST", "/setup", {},
                                                                  kSetup));
        QVERIFY2(statusOf(setup) == 200, setup.constData());
        // /versions: the list for anyone, the details only with the token.
        const QByteArray plain = exchange(server->port(), request("GET", "/versions?project=1"));
        QCOMPARE(statusOf(plain), 200);
        QVERIFY2(!plain.contains("\"details\""), plain.constData());
        const QByteArray detailed = exchange(server->port(), request("GET", "/versions?project=1", bearer(m_token)));
        QCOMPARE(statusOf(detailed), 200);
        QVERIFY2(detailed.contains("\"details\""), detailed.constData());
        QCOMPARE(statusOf(exchange(server->port(), request("GET", "/versions?project=1", bearer(QStringLiteral("ldo_wrong_wrong_wrong"))))), 401);
        server->stop();
    }

    void withoutATokenTheLoopIsClosed()
    {
        const auto server = start(ServerConfig());
        const QByteArray answer = exchange(server->port(), request("GET", "/loop/status?project=1", bearer(m_token)));
        QCOMPARE(statusOf(answer), 401);
        QVERIFY(answer.contains("no operator token"));
        QCOMPARE(statusOf(exchange(server->port(), request("GET", "/loop/status?project=1"))), 401);
        server->stop();
    }

    void basicAuthDoesNotOpenTheLoop()
    {
        ServerConfig config;
        config.operatorToken = m_token;
        config.basicAuthUser = QStringLiteral("ls");
        config.basicAuthPassword = QStringLiteral("pw");
        const auto server = start(config);
        const QByteArray basic = "Authorization: Basic " + QByteArray("ls:pw").toBase64() + "\r\n";
        QCOMPARE(statusOf(exchange(server->port(), request("GET", "/loop/status?project=1", basic))), 401);
        QCOMPARE(statusOf(exchange(server->port(), request("GET", "/loop/status?project=1", bearer(m_token)))), 200);
        QCOMPARE(statusOf(exchange(server->port(), request("GET", "/health", basic))), 200);
        QCOMPARE(statusOf(exchange(server->port(), request("GET", "/health"))), 401);
        // The token opens the read-only routes a remote window reads, never Label Studio's writes.
        QCOMPARE(statusOf(exchange(server->port(), request("GET", "/health", bearer(m_token)))), 200);
        QCOMPARE(statusOf(exchange(server->port(), request("GET", "/versions?project=1", bearer(m_token)))), 200);
        QCOMPARE(statusOf(exchange(server->port(), request("POST", "/predict", bearer(m_token), R"({"project": "1", "tasks": []})"))), 401);
        QCOMPARE(statusOf(exchange(server->port(), request("POST", "/webhook", bearer(m_token), R"({"action": "X"})"))), 401);
        server->stop();
    }

    void eventStream()
    {
        ServerConfig config;
        config.operatorToken = m_token;
        const auto server = start(config);
        const QByteArray refused = exchange(server->port(), "GET /loop/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        QCOMPARE(statusOf(refused), 401);
        QCOMPARE(m_events->openStreams(), 0);

        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, server->port());
        QVERIFY(socket.waitForConnected(5000));
        socket.write("GET /loop/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n" + bearer(m_token) + "\r\n");
        QByteArray seen;
        QTRY_VERIFY_WITH_TIMEOUT((seen += socket.readAll()).contains("event: hello"), 30000);
        QVERIFY2(seen.startsWith("HTTP/1.1 200 OK\r\n"), seen.constData());
        QVERIFY(seen.contains("Content-Type: text/event-stream"));
        QVERIFY(seen.contains(m_events->bootId().toLatin1()));
        QTRY_COMPARE(m_events->openStreams(), 1);
        // Posted from another thread, as the engine's workers may.
        std::thread poster([this] {
            for (int i = 0; i < 50; ++i)
                m_events->post("status", QJsonObject{{QStringLiteral("project"), QStringLiteral("p%1").arg(i)}});
        });
        poster.join();
        QTRY_VERIFY_WITH_TIMEOUT((seen += socket.readAll()).contains("\"p49\""), 30000);
        qsizetype last = -1;
        for (int i = 0; i < 50; ++i) {
            const qsizetype at = seen.indexOf(QByteArray("data: {\"project\":\"p" + QByteArray::number(i) + "\"}\n\n"));
            QVERIFY2(at > last, qPrintable(QStringLiteral("event %1 missing or out of order").arg(i)));
            last = at;
        }
        QCOMPARE(seen.count("event: status\n"), 50);
        socket.disconnectFromHost();
        QTRY_COMPARE_WITH_TIMEOUT(m_events->openStreams(), 0, 30000);
        // The server still serves after a stream went.
        QCOMPARE(statusOf(exchange(server->port(), request("GET", "/health"))), 200);
        server->stop();
    }

    void eventStreamWithoutALoopIs503()
    {
        auto server = std::make_unique<BackendServer>(m_service);
        ServerConfig config;
        config.port = 0;
        config.dataDir = m_dir.path();
        config.operatorToken = m_token;
        QVERIFY(server->start(config));
        const QByteArray answer = exchange(server->port(), "GET /loop/events HTTP/1.1\r\nHost: 127.0.0.1\r\n" + bearer(m_token) + "\r\n");
        QCOMPARE(statusOf(answer), 503);
        server->stop();
    }
};

QTEST_GUILESS_MAIN(TestOperatorAccess)
#include "tst_operatoraccess.moc"
