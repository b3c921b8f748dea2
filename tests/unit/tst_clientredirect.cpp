// LabelStudioClient and HTTP redirects: the token (the Authorization header, and a Personal
// Access Token in the refresh body) never reaches another origin. Two fake servers on loopback:
// "home" (the configured Label Studio) answers a redirect to "elsewhere" (another port, so
// another origin), which records every request it gets. Fakes are enough here: this is an
// error path a real Label Studio does not take by itself.
#include "fakelabelstudio.h"
#include "labelstudio/labelstudioclient.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <functional>

using namespace loopdeck::labelstudio;
using loopdeck::test::FakeLabelStudio;
using loopdeck::test::FakeRequest;
using loopdeck::test::httpResponse;

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

// Everything any request carried, for "the token never arrived here" checks.
QByteArray everything(const FakeLabelStudio &server)
{
    QByteArray all;
    for (const FakeRequest &r : server.requests())
        all += r.head + "\r\n\r\n" + r.body;
    return all;
}

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
        FakeLabelStudio elsewhere([](const FakeRequest &, int) { return httpResponse(200, kVersionBody); });
        FakeLabelStudio home([&](const FakeRequest &, int) {
            return httpResponse(status, {}, "Location: " + elsewhere.url("/api/version/").toLatin1() + "\r\n");
        });
        LabelStudioClient client;
        client.setServer(QUrl(home.url("")), token);
        const auto [answer, error] = wait<QByteArray>([&](Callback<QByteArray> done) {
            client.sendRaw(verb, QStringLiteral("/api/version/"), {}, verb == "POST" ? QByteArray("{}") : QByteArray(), done);
        });
        QCOMPARE(home.requests().size(), 1);
        QVERIFY2(home.requests().at(0).head.contains(QByteArray(QByteArray("Authorization: Token ") + token.toLatin1())), home.requests().at(0).head);
        QVERIFY2(!everything(elsewhere).contains(token.toLatin1()), everything(elsewhere).constData());
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
        FakeLabelStudio elsewhere([](const FakeRequest &, int) {
            return httpResponse(200, R"({"access": "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"})");
        });
        FakeLabelStudio home([&](const FakeRequest &, int) {
            return httpResponse(307, {}, "Location: " + elsewhere.url("/api/token/refresh/").toLatin1() + "\r\n");
        });
        LabelStudioClient client;
        client.setServer(QUrl(home.url("")), pat);
        const auto [version, error] = wait<ServerVersion>([&](Callback<ServerVersion> done) { client.fetchVersion(done); });
        QVERIFY(!home.requests().isEmpty());
        QVERIFY2(home.requests().at(0).body.contains(pat.toLatin1()), home.requests().at(0).body.constData());
        QVERIFY2(!everything(elsewhere).contains(pat.toLatin1()), everything(elsewhere).constData());
        QVERIFY(error.isError());
        QCOMPARE(error.kind, LsError::Kind::Redirected);
    }

    void sameOriginRedirectIsFollowedWithTheToken()
    {
        const QString token = QStringLiteral("0123456789abcdef0123456789abcdef01234567");
        FakeLabelStudio home([](const FakeRequest &seen, int) {
            if (seen.target == "/old/api/version/")
                return httpResponse(301, {}, "Location: /api/version/\r\n");
            return httpResponse(200, kVersionBody);
        });
        LabelStudioClient client;
        client.setServer(QUrl(home.url("/old")), token);
        const auto [version, error] = wait<ServerVersion>([&](Callback<ServerVersion> done) { client.fetchVersion(done); });
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        QCOMPARE(version.release, QStringLiteral("1.23.2"));
        QCOMPARE(home.requests().size(), 2);
        QCOMPARE(home.requests().at(1).target, QByteArray("/api/version/"));
        QVERIFY(home.requests().at(1).head.contains(QByteArray(QByteArray("Authorization: Token ") + token.toLatin1())));
    }

    void anotherHostNameIsAnotherOrigin()
    {
        // localhost and 127.0.0.1 reach the same socket but are different origins: refused too.
        const QString token = QStringLiteral("0123456789abcdef0123456789abcdef01234567");
        FakeLabelStudio home([](const FakeRequest &, int) { return httpResponse(200, kVersionBody); });
        FakeLabelStudio redirector([&](const FakeRequest &, int) {
            return httpResponse(302, {}, QStringLiteral("Location: http://localhost:%1/v/api/version/\r\n").arg(home.port()).toLatin1());
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
