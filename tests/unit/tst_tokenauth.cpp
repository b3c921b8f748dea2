// Token kind detection and the Personal Access Token refresh decision.
#include "labelstudio/tokenauth.h"

#include <QTest>

using namespace loopdeck::labelstudio;

namespace {

QString base64Url(const QByteArray &raw)
{
    return QString::fromLatin1(raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

QString makeJwt(const QByteArray &payloadJson)
{
    return base64Url(R"({"alg":"HS256","typ":"JWT"})") + u'.' + base64Url(payloadJson) + u'.' + base64Url("signature");
}

} // namespace

class TestTokenAuth final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void detectsKinds_data()
    {
        QTest::addColumn<QString>("token");
        QTest::addColumn<int>("kind");
        QTest::newRow("legacy 40 hex") << QStringLiteral("b8bfde7349b9d4fcbb5137e804b8c4da21fae06e") << int(TokenKind::Legacy);
        QTest::newRow("legacy with spaces") << QStringLiteral("  abcdef123456  ") << int(TokenKind::Legacy);
        QTest::newRow("refresh jwt") << makeJwt(R"({"token_type":"refresh","exp":8102767397,"user_id":"1"})")
                                     << int(TokenKind::PersonalAccessToken);
        QTest::newRow("access jwt") << makeJwt(R"({"token_type":"access","exp":1795567703})") << int(TokenKind::AccessToken);
        QTest::newRow("jwt without type") << makeJwt(R"({"exp":1})") << int(TokenKind::PersonalAccessToken);
        QTest::newRow("three dots but not base64 json") << QStringLiteral("abc.def.ghi") << int(TokenKind::Legacy);
        QTest::newRow("payload is a list") << makeJwt("[1,2]") << int(TokenKind::Legacy);
        QTest::newRow("empty") << QString() << int(TokenKind::Unknown);
        QTest::newRow("blank") << QStringLiteral("   ") << int(TokenKind::Unknown);
    }

    void detectsKinds()
    {
        QFETCH(QString, token);
        QFETCH(int, kind);
        QCOMPARE(int(detectTokenKind(token)), kind);
    }

    void realRecordedAccessToken()
    {
        // An access token as returned by a real Label Studio 1.23.2 /api/token/refresh/.
        const QString access = QStringLiteral(
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NTY3NzAzLCJpYXQiOjE3OTU1Njc0MDMs"
            "Imp0aSI6IjU2ZDdhYzFlMWVmNzRlOWY5M2I3NmFkMDkwOTBkOGZmIiwidXNlcl9pZCI6IjEifQ.fCbqyI0bE2OCivLkknrgsahAB7AE-oM7hUB6y9xD2Tc");
        QCOMPARE(detectTokenKind(access), TokenKind::AccessToken);
        const auto exp = jwtExpiry(access);
        QVERIFY(exp.has_value());
        QCOMPARE(exp->toSecsSinceEpoch(), 1795567703);
    }

    void legacyHeader()
    {
        TokenAuth auth(QStringLiteral("abc123abc123"));
        QCOMPARE(auth.authorizationHeader(), QByteArray("Token abc123abc123"));
        QVERIFY(!auth.needsRefresh(QDateTime::currentDateTimeUtc()));
    }

    void patNeedsAccessFirst()
    {
        TokenAuth auth(makeJwt(R"({"token_type":"refresh","exp":8102767397})"));
        QCOMPARE(auth.kind(), TokenKind::PersonalAccessToken);
        QVERIFY(auth.authorizationHeader().isEmpty()); // never send the PAT itself as Bearer
        QVERIFY(auth.needsRefresh(QDateTime::currentDateTimeUtc()));
    }

    void patRefreshesBeforeExpiry()
    {
        const QDateTime now = QDateTime::fromSecsSinceEpoch(1'800'000'000, Qt::UTC);
        TokenAuth auth(makeJwt(R"({"token_type":"refresh"})"));
        const QString access = makeJwt(QByteArray(R"({"token_type":"access","exp":)") + QByteArray::number(1'800'000'300) + '}');
        auth.setAccessToken(access);
        QCOMPARE(auth.authorizationHeader(), "Bearer " + access.toUtf8());
        QVERIFY(!auth.needsRefresh(now));                       // 300 s left
        QVERIFY(!auth.needsRefresh(now.addSecs(300 - TokenAuth::kRefreshMarginSeconds - 1)));
        QVERIFY(auth.needsRefresh(now.addSecs(300 - TokenAuth::kRefreshMarginSeconds))); // inside the margin
        QVERIFY(auth.needsRefresh(now.addSecs(301)));           // expired
        auth.clearAccessToken();
        QVERIFY(auth.needsRefresh(now));
        QVERIFY(auth.authorizationHeader().isEmpty());
    }

    void accessTokenWithoutExpiryIsUsedUntilRejected()
    {
        TokenAuth auth(makeJwt(R"({"token_type":"refresh"})"));
        auth.setAccessToken(QStringLiteral("opaque-access"));
        QVERIFY(!auth.accessExpiry().has_value());
        QVERIFY(!auth.needsRefresh(QDateTime::currentDateTimeUtc()));
    }

    void pastedAccessTokenIsSentAsBearer()
    {
        const QString access = makeJwt(R"({"token_type":"access","exp":1})");
        TokenAuth auth(access);
        QCOMPARE(auth.authorizationHeader(), "Bearer " + access.toUtf8());
        QVERIFY(!auth.needsRefresh(QDateTime::currentDateTimeUtc())); // cannot refresh an access token
    }
};

QTEST_GUILESS_MAIN(TestTokenAuth)
#include "tst_tokenauth.moc"
