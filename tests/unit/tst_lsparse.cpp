// Parsing of answers recorded from a real Label Studio 1.23.2 (tests/data/labelstudio/), the
// error classification, and what happens to bodies that are not what Label Studio sends.
#include "labelstudio/lsparse.h"

#include <QFile>
#include <QTest>

using namespace loopdeck::labelstudio;

namespace {

QByteArray recorded(const char *name)
{
    QFile f(QStringLiteral(LOOPDECK_TESTDATA "/labelstudio/") + QString::fromLatin1(name));
    if (!f.open(QIODevice::ReadOnly))
        qFatal("missing test data %s", name);
    return f.readAll();
}

} // namespace

class TestLsParse final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void projectPages()
    {
        ProjectPage page1, page2;
        LsError error;
        QVERIFY2(parseProjectPage(recorded("projects_page1.json"), &page1, &error), qPrintable(error.message()));
        QVERIFY2(parseProjectPage(recorded("projects_page2.json"), &page2, &error), qPrintable(error.message()));
        QCOMPARE(page1.count, 3);
        QVERIFY(page1.hasNext);
        QVERIFY(!page2.hasNext);
        QCOMPARE(page1.projects.size() + page2.projects.size(), 3);
        const Project &recordedProject = page2.projects.constLast();
        QCOMPARE(recordedProject.id, 1);
        QCOMPARE(recordedProject.title, QStringLiteral("Recorded"));
        QCOMPARE(recordedProject.counts.taskNumber, 3);
        QCOMPARE(recordedProject.counts.tasksWithAnnotations, 1);
        QCOMPARE(recordedProject.counts.skippedAnnotations, 1);
        QCOMPARE(recordedProject.counts.totalAnnotations, 1);
        QCOMPARE(recordedProject.createdBy, QStringLiteral("loopdeck@example.com"));
        QVERIFY(recordedProject.createdAt.isValid());
        QVERIFY(recordedProject.labelConfig.contains(QLatin1String("<Choices")));
        QCOMPARE(recordedProject.counts.doneFraction(), 1.0 / 3.0);
    }

    void projectDetailWhoAmIVersion()
    {
        Project p;
        User u;
        ServerVersion v;
        LsError error;
        QVERIFY(parseProject(recorded("project_detail.json"), &p, &error));
        QCOMPARE(p.id, 1);
        QVERIFY(parseUser(recorded("whoami.json"), &u, &error));
        QCOMPARE(u.email, QStringLiteral("loopdeck@example.com"));
        QCOMPARE(u.displayName(), QStringLiteral("loopdeck@example.com"));
        QVERIFY(parseVersion(recorded("version.json"), &v, &error));
        QCOMPARE(v.release, QStringLiteral("1.23.2"));
        QString access;
        QVERIFY(parseAccessToken(recorded("token_refresh.json"), &access, &error));
        QVERIFY(access.startsWith(QLatin1String("eyJ")));
    }

    void emptyProjectHasZeroDone()
    {
        ProjectCounts c;
        QCOMPARE(c.doneFraction(), 0.0);
    }

    void badBodiesNameTheProblem_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("field");
        QTest::newRow("html") << QByteArray("<html>502 Bad Gateway</html>") << QString();
        QTest::newRow("empty") << QByteArray() << QString();
        QTest::newRow("list instead of page") << QByteArray("[]") << QString();
        QTest::newRow("results missing") << QByteArray(R"({"count": 1})") << QStringLiteral("results");
        QTest::newRow("results not a list") << QByteArray(R"({"count": 1, "results": {}})") << QStringLiteral("results");
        QTest::newRow("count is text") << QByteArray(R"({"count": "1", "results": []})") << QStringLiteral("count");
        QTest::newRow("project without id") << QByteArray(R"({"count": 1, "results": [{"title": "x"}]})")
                                            << QStringLiteral("results[0].id");
        QTest::newRow("task_number is text")
            << QByteArray(R"({"count": 1, "results": [{"id": 1, "task_number": "many"}]})")
            << QStringLiteral("results[0].task_number");
        QTest::newRow("title is a number") << QByteArray(R"({"count": 1, "results": [{"id": 1, "title": 5}]})")
                                           << QStringLiteral("results[0].title");
        QTest::newRow("created_by not an object")
            << QByteArray(R"({"count": 1, "results": [{"id": 1, "created_by": 3}]})") << QStringLiteral("results[0].created_by");
        QTest::newRow("bad date") << QByteArray(R"({"count": 1, "results": [{"id": 1, "created_at": "yesterday"}]})")
                                  << QStringLiteral("results[0].created_at");
    }

    void badBodiesNameTheProblem()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, field);
        ProjectPage page;
        LsError error;
        QVERIFY(!parseProjectPage(body, &page, &error));
        QCOMPARE(error.kind, LsError::Kind::BadResponse);
        QCOMPARE(error.field, field);
        QVERIFY(!error.message().isEmpty());
        if (!field.isEmpty())
            QVERIFY2(error.message().contains(field), qPrintable(error.message()));
    }

    void nullCountsAreZero()
    {
        ProjectPage page;
        LsError error;
        QVERIFY(parseProjectPage(R"({"count": 1, "next": null, "results": [{"id": 7, "task_number": null}]})", &page, &error));
        QCOMPARE(page.projects[0].counts.taskNumber, 0);
    }

    void classification_data()
    {
        QTest::addColumn<int>("netError");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("errorString");
        QTest::addColumn<int>("kind");
        QTest::newRow("invalid token") << int(QNetworkReply::AuthenticationRequiredError) << 401
                                       << recorded("error_invalid_token.json") << QString() << int(LsError::Kind::InvalidToken);
        QTest::newRow("legacy disabled") << int(QNetworkReply::AuthenticationRequiredError) << 401
                                         << recorded("error_legacy_disabled.json") << QString()
                                         << int(LsError::Kind::LegacyTokensDisabled);
        QTest::newRow("not found") << int(QNetworkReply::ContentNotFoundError) << 404 << recorded("error_not_found.json")
                                   << QString() << int(LsError::Kind::NotFound);
        QTest::newRow("forbidden") << int(QNetworkReply::ContentAccessDenied) << 403 << QByteArray(R"({"detail":"no"})")
                                   << QString() << int(LsError::Kind::Forbidden);
        QTest::newRow("server error") << int(QNetworkReply::InternalServerError) << 500 << QByteArray("<html>")
                                      << QString() << int(LsError::Kind::ServerError);
        QTest::newRow("bad gateway") << int(QNetworkReply::UnknownServerError) << 502 << QByteArray() << QString()
                                     << int(LsError::Kind::ServerError);
        QTest::newRow("validation") << int(QNetworkReply::ProtocolInvalidOperationError) << 400
                                    << QByteArray(R"({"detail":"Validation error","validation_errors":{"url":["bad"]}})")
                                    << QString() << int(LsError::Kind::ClientError);
        QTest::newRow("refused") << int(QNetworkReply::ConnectionRefusedError) << 0 << QByteArray()
                                 << QStringLiteral("Connection refused") << int(LsError::Kind::Unreachable);
        QTest::newRow("no host") << int(QNetworkReply::HostNotFoundError) << 0 << QByteArray()
                                 << QStringLiteral("Host not found") << int(LsError::Kind::Unreachable);
        QTest::newRow("timeout") << int(QNetworkReply::TimeoutError) << 0 << QByteArray() << QString()
                                 << int(LsError::Kind::Timeout);
        QTest::newRow("tls") << int(QNetworkReply::SslHandshakeFailedError) << 0 << QByteArray()
                             << QStringLiteral("SSL handshake failed") << int(LsError::Kind::Tls);
        QTest::newRow("cancel") << int(QNetworkReply::OperationCanceledError) << 0 << QByteArray() << QString()
                                << int(LsError::Kind::Cancelled);
    }

    void classification()
    {
        QFETCH(int, netError);
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(QString, errorString);
        QFETCH(int, kind);
        const LsError e = classifyFailure(QNetworkReply::NetworkError(netError), status, body, errorString, false);
        QCOMPARE(int(e.kind), kind);
        QCOMPARE(e.httpStatus, status);
        QVERIFY(!e.message().isEmpty());
        QVERIFY(!e.kindName().isEmpty());
    }

    void messagesSayWhatToDo()
    {
        LsError legacy = classifyFailure(QNetworkReply::AuthenticationRequiredError, 401, recorded("error_legacy_disabled.json"),
                                         {}, false);
        QVERIFY(legacy.message().contains(QLatin1String("Personal Access Token")));
        QVERIFY(legacy.isAuth());
        LsError invalid = classifyFailure(QNetworkReply::AuthenticationRequiredError, 401, recorded("error_invalid_token.json"),
                                          {}, false);
        QVERIFY(invalid.message().contains(QLatin1String("Invalid token.")));
        LsError validation = classifyFailure(QNetworkReply::ProtocolInvalidOperationError, 400,
                                             R"({"detail":"Validation error","validation_errors":{"url":["bad"]}})", {}, false);
        QVERIFY2(validation.message().contains(QLatin1String("url")), qPrintable(validation.message()));
        LsError refused = classifyFailure(QNetworkReply::ConnectionRefusedError, 0, {}, QStringLiteral("Connection refused"), false);
        QVERIFY(refused.isConnectivity());
        QVERIFY(refused.message().contains(QLatin1String("Connection refused")));
    }
};

QTEST_GUILESS_MAIN(TestLsParse)
#include "tst_lsparse.moc"
