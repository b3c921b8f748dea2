// LOOPDECK_TOKEN reaches only the server it was given for: TokenStore's environment fallback
// needs LOOPDECK_URL naming the profile's server, and never beats a token kept for the
// profile; `loopdeck projects` refuses to send it to another --url (checked before any
// network traffic, with the real binary).
#include "core/settings/tokenstore.h"

#include <QEventLoop>
#include <QProcess>
#include <QTest>

using loopdeck::settings::TokenStore;

class TestTokenScope final : public QObject
{
    Q_OBJECT

    struct Read {
        QString token;
        TokenStore::Source source = TokenStore::Source::None;
    };
    static Read read(TokenStore &store, const QString &profile, const QUrl &server)
    {
        Read r;
        bool done = false;
        QEventLoop loop;
        store.read(profile, server, [&](const QString &token, TokenStore::Source source, const QString &) {
            r = {token, source};
            done = true;
            loop.quit();
        });
        if (!done)
            loop.exec();
        return r;
    }

private Q_SLOTS:
    void init()
    {
        qputenv("LOOPDECK_NO_KEYCHAIN", "1");
        qunsetenv("LOOPDECK_TOKEN");
        qunsetenv("LOOPDECK_URL");
    }

    void sameServer()
    {
        const auto same = [](const char *a, const char *b) {
            return TokenStore::sameServer(QUrl(QLatin1String(a)), QUrl(QLatin1String(b)));
        };
        QVERIFY(same("http://localhost:8080", "http://LOCALHOST:8080/"));
        QVERIFY(same("https://ls.example.org", "https://ls.example.org:443"));
        QVERIFY(same("http://ls.example.org/label", "http://ls.example.org/label/"));
        QVERIFY(!same("http://localhost:8080", "http://localhost:8081"));
        QVERIFY(!same("http://localhost:8080", "https://localhost:8080"));
        QVERIFY(!same("http://ls.example.org", "http://ls.example.org.evil.com"));
        QVERIFY(!same("http://ls.example.org/a", "http://ls.example.org/b"));
        QVERIFY(!same("", ""));
    }

    void environmentTokenNeedsItsServer()
    {
        const QUrl server(QStringLiteral("http://localhost:8080"));
        QString why;
        qputenv("LOOPDECK_TOKEN", "env-token");
        QVERIFY(TokenStore::environmentTokenFor(server, &why).isEmpty());
        QVERIFY2(why.contains(u"LOOPDECK_URL"), qPrintable(why));
        qputenv("LOOPDECK_URL", "http://other.example:8080");
        QVERIFY(TokenStore::environmentTokenFor(server, &why).isEmpty());
        QVERIFY2(why.contains(u"other.example"), qPrintable(why));
        qputenv("LOOPDECK_URL", "http://localhost:8080/");
        QCOMPARE(TokenStore::environmentTokenFor(server, &why), QStringLiteral("env-token"));
        QVERIFY(why.isEmpty());
    }

    void readUsesEnvironmentOnlyForItsServer()
    {
        TokenStore store;
        qputenv("LOOPDECK_TOKEN", "env-token");
        // No scope: nothing, for any profile.
        QCOMPARE(read(store, QStringLiteral("a"), QUrl(QStringLiteral("http://a.example"))).source, TokenStore::Source::None);
        qputenv("LOOPDECK_URL", "http://a.example");
        Read r = read(store, QStringLiteral("a"), QUrl(QStringLiteral("http://a.example")));
        QCOMPARE(r.source, TokenStore::Source::Environment);
        QCOMPARE(r.token, QStringLiteral("env-token"));
        // Another profile on another server never gets it.
        r = read(store, QStringLiteral("b"), QUrl(QStringLiteral("http://b.example")));
        QCOMPARE(r.source, TokenStore::Source::None);
        QVERIFY(r.token.isEmpty());
        // No server given (e.g. moving a renamed profile's token): never the environment.
        QCOMPARE(read(store, QStringLiteral("a"), QUrl()).source, TokenStore::Source::None);
        // A token kept for the profile wins over the environment.
        bool written = false;
        store.write(QStringLiteral("a"), QStringLiteral("stored-token"), [&](bool, const QString &) { written = true; });
        QVERIFY(written);
        r = read(store, QStringLiteral("a"), QUrl(QStringLiteral("http://a.example")));
        QCOMPARE(r.token, QStringLiteral("stored-token"));
        QCOMPARE(r.source, TokenStore::Source::Session);
    }

    void cliRefusesToSendTheTokenElsewhere()
    {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("LOOPDECK_TOKEN"), QStringLiteral("env-token"));
        env.insert(QStringLiteral("LOOPDECK_URL"), QStringLiteral("http://127.0.0.1:1"));
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        p.setProcessEnvironment(env);
        // Port 9 would refuse the connection (exit 3); the scope check must stop it first (exit 2).
        p.start(QStringLiteral(LOOPDECK_BINARY), {QStringLiteral("projects"), QStringLiteral("--url"), QStringLiteral("http://127.0.0.1:9")});
        QVERIFY(p.waitForFinished(30000));
        const QByteArray err = p.readAllStandardError();
        QCOMPARE(p.exitCode(), 2);
        QVERIFY2(err.contains("LOOPDECK_TOKEN was given for http://127.0.0.1:1"), err.constData());
        // Paired with its own --url it is used (and the unreachable port answers exit 3).
        env.insert(QStringLiteral("LOOPDECK_URL"), QStringLiteral("http://127.0.0.1:9"));
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(LOOPDECK_BINARY), {QStringLiteral("projects"), QStringLiteral("--url"), QStringLiteral("http://127.0.0.1:9")});
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 3);
    }
};

QTEST_GUILESS_MAIN(TestTokenScope)
#include "tst_tokenscope.moc"
