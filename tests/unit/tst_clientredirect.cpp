// LabelStudioClient and HTTP redirects: the token (the Authorization header, and a Personal
// Access Token in the refresh body) never reaches another origin. Two fake servers on loopback:
// "home" (the configured Label Studio) answers a redirect to "elsewhere" (another port, so
// another origin), which records every request it gets. Fakes are enough here: this is an
// error path a real Label Studio does not take by itself.
#include "labelstudio/labelstudioclient.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <functional>

using namespace loopdeck::labelstudio;

namespace {

constexpr int kTimeout = 10000;

QString base64Url(const QByteArray &raw)
{
    return QString::fromLatin1(raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

// A Personal Access Token (a refresh JWT) as LabelStudioClient detects it.
QString makePat()
{
    return base64Url(R"({"alg":"HS256","typ":"JWT"})") + u'.'
           + base64Url(R"({"token_type":"refresh","exp":8102767397,"user_id":"1"})") + u'.' + base64Url("signature");
}

// One HTTP/1.1 request as received: the request line, header block and body, verbatim.
struct Seen {
    QByteArray method;
    QByteArray path;
    QByteArray head; // request line + headers
    QByteArray body;
};

// A loopback HTTP server that records each request and answers it with what `answer` returns
// (a complete HTTP response; the connection is then closed).
class FakeServer final : public QObject
{
public:
    using Answer = std::function<QByteArray(const Seen &)>;

    explicit FakeServer(Answer answer)
        : m_answer(std::move(answer))
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onData(socket); });
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
        if (!m_server.listen(QHostAddress::LocalHost, 0))
            qFatal("fake server cannot listen");
    }

    quint16 port() const { return m_server.serverPort(); }
    QString url(const char *path) const { return QStringLiteral("http://127.0.0.1:%1%2").arg(port()).arg(QLatin1String(path)); }
    const QList<Seen> &requests() const { return m_seen; }
    // Everything any request carried, for "the token never arrived here" checks.
    QByteArray everything() const
    {
        QByteArray all;
        for (const Seen &s : m_seen)
            all += s.head + "\r\n\r\n" + s.body;
        return all;
    }

    static QByteArray response(int status, const QByteArray &reason, const QByteArray &extraHeaders, const QByteArray &body)
    {
        return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason + "\r\nContent-Type: application/json\r\nContent-Length: "
               + QByteArray::number(body.size()) + "\r\nConnection: close\r\n" + extraHeaders + "\r\n" + body;
    }

private:
    void onData(QTcpSocket *socket)
    {
        QByteArray &buffer = m_buffers[socket];
        buffer += socket->readAll();
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        Seen seen;
        seen.head = buffer.left(end);
        qint64 length = 0;
        for (const QByteArray &line : seen.head.split('\n')) {
            const QByteArray l = line.trimmed();
            if (l.toLower().startsWith("content-length:"))
                length = l.mid(15).trimmed().toLongLong();
        }
        if (buffer.size() < end + 4 + length)
            return;
        seen.body = buffer.mid(end + 4, length);
        const QList<QByteArray> requestLine = seen.head.left(seen.head.indexOf("\r\n")).split(' ');
        seen.method = requestLine.value(0);
        seen.path = requestLine.value(1);
        m_buffers.remove(socket);
        m_seen.append(seen);
        socket->write(m_answer(seen));
        socket->disconnectFromHost();
    }

    QTcpServer m_server;
    Answer m_answer;
    QList<Seen> m_seen;
    QHash<QTcpSocket *, QByteArray> m_buffers;
};

const QByteArray kVersionBody = R"({"release": "1.23.2"})";

} // namespace

class TestClientRedirect final : public QObject
{
    Q_OBJECT

    // Runs one call and waits for its callback.
    template <typename T>
    static std::pair<T, LsError> wait(const std::function<void(Callback<T>)> &call)
    {
        std::optional<std::pair<T, LsError>> result;
        call([&](const T &value, const LsError &error) { result.emplace(value, error); });
        if (!QTest::qWaitFor([&] { return result.has_value(); }, kTimeout))
            return {T {}, LsError::badResponse(QStringLiteral("test"), QStringLiteral("no answer in time"))};
        return *result;
    }

private Q_SLOTS:
    void crossOriginRedirectNeverCarriesTheToken_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("verb");
        QTest::newRow("302 GET") << 302 << QByteArray("GET");
        QTest::newRow("301 GET") << 301 << QByteArray("GET");
        QTest::newRow("307 POST") << 307 << QByteArray("POST");
        QTest::newRow("308 POST") << 308 << QByteArray("POST");
    }

    void crossOriginRedirectNeverCarriesTheToken()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, verb);
        const QString token = QStringLiteral("0123456789abcdef0123456789abcdef01234567"); // a legacy key
        FakeServer elsewhere([](const Seen &) { return FakeServer::response(200, "OK", {}, kVersionBody); });
        FakeServer home([&](const Seen &) {
            return FakeServer::response(status, "Moved", "Location: " + elsewhere.url("/api/version/").toLatin1() + "\r\n", {});
        });
        LabelStudioClient client;
        client.setServer(QUrl(home.url("")), token);
        const auto [answer, error] = wait<QByteArray>([&](Callback<QByteArray> done) {
            client.sendRaw(verb, QStringLiteral("/api/version/"), {}, verb == "POST" ? QByteArray("{}") : QByteArray(), done);
        });
        QCOMPARE(home.requests().size(), 1);
        QVERIFY2(home.requests().at(0).head.contains(QByteArray(QByteArray("Authorization: Token ") + token.toLatin1())), home.requests().at(0).head);
        QVERIFY2(!elsewhere.everything().contains(token.toLatin1()), elsewhere.everything().constData());
        // Refused with a sentence naming where the server wanted to send us.
        QVERIFY(error.isError());
        QCOMPARE(error.kind, LsError::Kind::Redirected);
        QVERIFY2(error.message().contains(elsewhere.url("/api/version/")), qPrintable(error.message()));
        QVERIFY(answer.isEmpty());
    }

    void crossOriginRedirectOfTheRefreshKeepsThePat()
    {
        // A PAT goes to the server in the body of POST /api/token/refresh/; a 307 would resend it.
        const QString pat = makePat();
        FakeServer elsewhere([](const Seen &) {
            return FakeServer::response(200, "OK", {}, R"({"access": "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"})");
        });
        FakeServer home([&](const Seen &) {
            return FakeServer::response(307, "Temporary Redirect",
                                        "Location: " + elsewhere.url("/api/token/refresh/").toLatin1() + "\r\n", {});
        });
        LabelStudioClient client;
        client.setServer(QUrl(home.url("")), pat);
        const auto [version, error] = wait<ServerVersion>([&](Callback<ServerVersion> done) { client.fetchVersion(done); });
        QVERIFY(!home.requests().isEmpty());
        QVERIFY2(home.requests().at(0).body.contains(pat.toLatin1()), home.requests().at(0).body.constData());
        QVERIFY2(!elsewhere.everything().contains(pat.toLatin1()), elsewhere.everything().constData());
        QVERIFY(error.isError());
        QCOMPARE(error.kind, LsError::Kind::Redirected);
    }

    void sameOriginRedirectIsFollowedWithTheToken()
    {
        const QString token = QStringLiteral("0123456789abcdef0123456789abcdef01234567");
        FakeServer home([](const Seen &seen) {
            if (seen.path == "/old/api/version/")
                return FakeServer::response(301, "Moved Permanently", "Location: /api/version/\r\n", {});
            return FakeServer::response(200, "OK", {}, kVersionBody);
        });
        LabelStudioClient client;
        client.setServer(QUrl(home.url("/old")), token);
        const auto [version, error] = wait<ServerVersion>([&](Callback<ServerVersion> done) { client.fetchVersion(done); });
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        QCOMPARE(version.release, QStringLiteral("1.23.2"));
        QCOMPARE(home.requests().size(), 2);
        QCOMPARE(home.requests().at(1).path, QByteArray("/api/version/"));
        QVERIFY(home.requests().at(1).head.contains(QByteArray(QByteArray("Authorization: Token ") + token.toLatin1())));
    }

    void anotherHostNameIsAnotherOrigin()
    {
        // localhost and 127.0.0.1 reach the same socket but are different origins: refused too.
        const QString token = QStringLiteral("0123456789abcdef0123456789abcdef01234567");
        FakeServer home([](const Seen &) { return FakeServer::response(200, "OK", {}, kVersionBody); });
        FakeServer redirector([&](const Seen &) {
            return FakeServer::response(302, "Found",
                                        QStringLiteral("Location: http://localhost:%1/v/api/version/\r\n").arg(home.port()).toLatin1(), {});
        });
        LabelStudioClient client;
        client.setServer(QUrl(redirector.url("")), token);
        const auto [version, error] = wait<ServerVersion>([&](Callback<ServerVersion> done) { client.fetchVersion(done); });
        QCOMPARE(error.kind, LsError::Kind::Redirected);
        QVERIFY(home.requests().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestClientRedirect)
#include "tst_clientredirect.moc"
