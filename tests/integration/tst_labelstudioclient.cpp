// The Label Studio client against a real Label Studio 1.23.2 (the ctest fixture): counts,
// pagination, both token kinds including a refresh, and the typed errors for a wrong token,
// disabled legacy tokens, a revoked PAT, a stopped server and a wrong URL.
#include "lsfixture.h"

#include "labelstudio/labelstudioclient.h"
#include "labelstudio/syncwait.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

using namespace loopdeck;
using namespace loopdeck::labelstudio;
using loopdeck::testing::LsFixture;

class TestLabelStudioClient final : public QObject
{
    Q_OBJECT

    LsFixture m_ls;

    // A fresh PAT for the fixture user. Label Studio allows one valid PAT per user (409 otherwise),
    // so every test that creates one revokes it before it ends.
    static QString createPat(LabelStudioClient &legacy)
    {
        auto [token, error] = syncWait<QString>([&](auto cb) { legacy.createPersonalAccessToken(cb); });
        if (error.isError())
            qWarning("creating a PAT failed: %s", qPrintable(error.message()));
        return token;
    }

private Q_SLOTS:
    void initTestCase() { LOOPDECK_REQUIRE_FIXTURE(m_ls); }

    void healthVersionWhoAmI()
    {
        LabelStudioClient client;
        client.setServer(m_ls.url, m_ls.token);
        QCOMPARE(client.tokenKind(), TokenKind::Legacy);
        auto [up, e1] = syncWait<bool>([&](auto cb) { client.checkHealth(cb); });
        QVERIFY2(up, qPrintable(e1.message()));
        auto [version, e2] = syncWait<ServerVersion>([&](auto cb) { client.fetchVersion(cb); });
        QVERIFY2(!e2.isError(), qPrintable(e2.message()));
        QCOMPARE(version.release, QStringLiteral("1.23.2"));
        auto [user, e3] = syncWait<User>([&](auto cb) { client.fetchWhoAmI(cb); });
        QVERIFY2(!e3.isError(), qPrintable(e3.message()));
        QCOMPARE(user.email, m_ls.username);
    }

    void countsMatchTheServerAcrossPages()
    {
        LabelStudioClient client;
        client.setServer(m_ls.url, m_ls.token);
        // Seed: tasks, annotations (some skipped) in several projects.
        struct Seed { QString title; QStringList texts; QStringList labels; };
        const QList<Seed> seeds = {
            {QStringLiteral("Counts A"), {QStringLiteral("great"), QStringLiteral("awful"), QStringLiteral("fine"), QStringLiteral("ok")},
             {QStringLiteral("Positive"), QStringLiteral("Negative"), QString()}},
            {QStringLiteral("Counts B"), {QStringLiteral("x"), QStringLiteral("y")}, {}},
            {QStringLiteral("Counts C"), {QStringLiteral("one")}, {QStringLiteral("Neutral")}},
        };
        QHash<int, Seed> byId;
        for (const Seed &s : seeds) {
            QString error;
            const auto seeded = testing::seedProject(client, s.title, s.texts, s.labels, testing::sentimentConfig(), &error);
            QVERIFY2(error.isEmpty(), qPrintable(error));
            QCOMPARE(seeded.taskIds.size(), s.texts.size());
            byId.insert(seeded.project.id, s);
        }
        client.setProjectPageSize(2); // force several pages
        auto [projects, error] = syncWait<QList<Project>>([&](auto cb) { client.fetchProjects(cb); });
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        QSet<int> seen;
        for (const Project &p : projects) {
            QVERIFY2(!seen.contains(p.id), "a project came twice across pages");
            seen.insert(p.id);
        }
        // Every project the server has is listed: compare with the server's own count.
        auto [page, e2] = syncWait<ProjectPage>([&](auto cb) { client.fetchProjectPage(1, cb); });
        QVERIFY(!e2.isError());
        QCOMPARE(qint64(projects.size()), page.count);
        QVERIFY(page.count >= 3);
        for (const Project &p : projects) {
            if (!byId.contains(p.id))
                continue;
            const Seed &s = byId[p.id];
            const qint64 skipped = std::count(s.labels.begin(), s.labels.end(), QString());
            QCOMPARE(p.title, s.title);
            QCOMPARE(p.counts.taskNumber, qint64(s.texts.size()));
            // Label Studio 1.23.2 counts a task whose only annotation was skipped in
            // skipped_annotations_number, not in num_tasks_with_annotations.
            QCOMPARE(p.counts.tasksWithAnnotations, qint64(s.labels.size()) - skipped);
            QCOMPARE(p.counts.skippedAnnotations, skipped);
            QCOMPARE(p.counts.totalPredictions, 0);
            // and the list agrees with the detail endpoint
            auto [detail, e3] = syncWait<Project>([&](auto cb) { client.fetchProject(p.id, cb); });
            QVERIFY(!e3.isError());
            QCOMPARE(detail.counts, p.counts);
            byId.remove(p.id);
        }
        QVERIFY2(byId.isEmpty(), "a seeded project is missing from the list");
    }

    void personalAccessTokenWithRefresh()
    {
        LabelStudioClient legacy;
        legacy.setServer(m_ls.url, m_ls.token);
        const QString pat = createPat(legacy);
        QVERIFY2(!pat.isEmpty(), "could not create a Personal Access Token through /api/token/");

        LabelStudioClient client;
        client.setServer(m_ls.url, pat);
        QCOMPARE(client.tokenKind(), TokenKind::PersonalAccessToken);
        QSignalSpy refreshed(&client, &LabelStudioClient::accessTokenRefreshed);
        // Two calls at once: exactly one refresh serves both.
        std::pair<User, LsError> a, b;
        int done = 0;
        QEventLoop loop;
        client.fetchWhoAmI([&](const User &u, const LsError &e) { a = {u, e}; if (++done == 2) loop.quit(); });
        client.fetchWhoAmI([&](const User &u, const LsError &e) { b = {u, e}; if (++done == 2) loop.quit(); });
        loop.exec();
        QVERIFY2(!a.second.isError(), qPrintable(a.second.message()));
        QVERIFY2(!b.second.isError(), qPrintable(b.second.message()));
        QCOMPARE(a.first.email, m_ls.username);
        QCOMPARE(refreshed.count(), 1);
        const QDateTime expires = refreshed.at(0).at(0).toDateTime();
        QVERIFY(expires > QDateTime::currentDateTimeUtc());

        // A later call reuses the access token.
        auto [projects, e1] = syncWait<QList<Project>>([&](auto cb) { client.fetchProjects(cb); });
        QVERIFY2(!e1.isError(), qPrintable(e1.message()));
        QCOMPARE(refreshed.count(), 1);

        // An access token the server rejects: refresh once on the 401 and retry.
        client.useAccessToken(QStringLiteral("eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.bad"));
        auto [user, e2] = syncWait<User>([&](auto cb) { client.fetchWhoAmI(cb); });
        QVERIFY2(!e2.isError(), qPrintable(e2.message()));
        QCOMPARE(user.email, m_ls.username);
        QCOMPARE(refreshed.count(), 2);

        // Revoke the PAT: the next refresh fails with "expired or revoked".
        const QByteArray body = QByteArray(R"({"refresh":")") + pat.toUtf8() + "\"}";
        auto [ignored, e3] = syncWait<QByteArray>(
            [&](auto cb) { legacy.sendRaw("POST", QStringLiteral("/api/token/blacklist/"), {}, body, cb); });
        QVERIFY2(!e3.isError(), qPrintable(e3.message()));
        LabelStudioClient revoked;
        revoked.setServer(m_ls.url, pat);
        auto [nobody, e4] = syncWait<User>([&](auto cb) { revoked.fetchWhoAmI(cb); });
        QCOMPARE(e4.kind, LsError::Kind::TokenExpired);
        QVERIFY(e4.message().contains(QLatin1String("revoked")));
    }

    void wrongTokenIsInvalidToken()
    {
        LabelStudioClient client;
        client.setServer(m_ls.url, QStringLiteral("0123456789012345678901234567890123456789"));
        auto [projects, error] = syncWait<QList<Project>>([&](auto cb) { client.fetchProjects(cb); });
        QCOMPARE(error.kind, LsError::Kind::InvalidToken);
        QCOMPARE(error.httpStatus, 401);
        QVERIFY(projects.isEmpty());
    }

    void legacyTokensDisabledIsExplained()
    {
        // Needs a PAT to switch the organisation's setting back on afterwards.
        LabelStudioClient legacy;
        legacy.setServer(m_ls.url, m_ls.token);
        const QString pat = createPat(legacy);
        QVERIFY(!pat.isEmpty());
        LabelStudioClient owner;
        owner.setServer(m_ls.url, pat);
        auto setLegacy = [&](bool on) {
            const QByteArray body = on ? R"({"api_tokens_enabled":true,"legacy_api_tokens_enabled":true})"
                                       : R"({"api_tokens_enabled":true,"legacy_api_tokens_enabled":false})";
            return syncWait<QByteArray>([&](auto cb) { owner.sendRaw("POST", QStringLiteral("/api/jwt/settings"), {}, body, cb); });
        };
        auto [off, e1] = setLegacy(false);
        QVERIFY2(!e1.isError(), qPrintable(e1.message()));
        auto [projects, error] = syncWait<QList<Project>>([&](auto cb) { legacy.fetchProjects(cb); });
        auto [on, e2] = setLegacy(true);
        QVERIFY2(!e2.isError(), qPrintable(e2.message()));
        QCOMPARE(error.kind, LsError::Kind::LegacyTokensDisabled);
        QVERIFY(error.message().contains(QLatin1String("Personal Access Token")));
        // back on: the legacy key works again
        auto [again, e3] = syncWait<User>([&](auto cb) { legacy.fetchWhoAmI(cb); });
        QVERIFY2(!e3.isError(), qPrintable(e3.message()));
        // tidy up: revoke the PAT so later tests can create one
        const QByteArray body = QByteArray(R"({"refresh":")") + pat.toUtf8() + "\"}";
        syncWait<QByteArray>([&](auto cb) { legacy.sendRaw("POST", QStringLiteral("/api/token/blacklist/"), {}, body, cb); });
    }

    void stoppedServerIsUnreachable()
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        const quint16 port = probe.serverPort();
        probe.close(); // nothing listens there now
        LabelStudioClient client;
        client.setServer(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)), m_ls.token);
        auto [projects, error] = syncWait<QList<Project>>([&](auto cb) { client.fetchProjects(cb); });
        QCOMPARE(error.kind, LsError::Kind::Unreachable);
        QVERIFY(error.isConnectivity());
        auto [up, e2] = syncWait<bool>([&](auto cb) { client.checkHealth(cb); });
        QVERIFY(!up);
        QCOMPARE(e2.kind, LsError::Kind::Unreachable);
    }

    void silentServerTimesOut()
    {
        QTcpServer silent; // accepts connections, never answers
        QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
        LabelStudioClient client;
        client.setServer(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(silent.serverPort())), m_ls.token);
        client.setTimeout(std::chrono::milliseconds(300));
        auto [projects, error] = syncWait<QList<Project>>([&](auto cb) { client.fetchProjects(cb); });
        QCOMPARE(error.kind, LsError::Kind::Timeout);
    }

    void wrongUrlIsNotFound()
    {
        LabelStudioClient client;
        QUrl wrong = m_ls.url;
        wrong.setPath(QStringLiteral("/not-label-studio"));
        client.setServer(wrong, m_ls.token);
        auto [projects, error] = syncWait<QList<Project>>([&](auto cb) { client.fetchProjects(cb); });
        QCOMPARE(error.kind, LsError::Kind::NotFound);
        QVERIFY(error.message().contains(QLatin1String("/not-label-studio")));
    }

    void missingProjectIsNotFound()
    {
        LabelStudioClient client;
        client.setServer(m_ls.url, m_ls.token);
        auto [p, error] = syncWait<Project>([&](auto cb) { client.fetchProject(999999, cb); });
        QCOMPARE(error.kind, LsError::Kind::NotFound);
    }

    void switchingServerCancelsInFlight()
    {
        LabelStudioClient client;
        client.setServer(m_ls.url, m_ls.token);
        LsError got;
        bool called = false;
        client.fetchProjects([&](const QList<Project> &, const LsError &e) { got = e; called = true; });
        client.setServer(m_ls.url, m_ls.token);
        QTRY_VERIFY(called);
        QCOMPARE(got.kind, LsError::Kind::Cancelled);
    }
};

QTEST_GUILESS_MAIN(TestLabelStudioClient)
#include "tst_labelstudioclient.moc"
