// Connection profiles: saved without the token, replaced by name, URLs checked; an edit that
// moves a profile to another server deletes the token it had.
#include "settings/connectionprofile.h"
#include "settings/tokenstore.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace loopdeck::settings;
using loopdeck::labelstudio::TokenKind;

class TestConnectionProfiles final : public QObject
{
    Q_OBJECT

    // The token TokenStore has for `profile` (session-only store: answers at once).
    static QString storedToken(TokenStore &tokens, const QString &profile, const QUrl &server)
    {
        QString found = QStringLiteral("<no answer>");
        tokens.read(profile, server, [&](const QString &token, TokenStore::Source, const QString &) { found = token; });
        return found;
    }

private Q_SLOTS:
    void initTestCase()
    {
        qputenv("LOOPDECK_NO_KEYCHAIN", "1"); // never touch the developer's keychain
        qunsetenv("LOOPDECK_TOKEN");
        qunsetenv("LOOPDECK_URL");
    }

    void editToAnotherServerDeletesTheToken_data()
    {
        QTest::addColumn<QString>("before");
        QTest::addColumn<QString>("after");
        QTest::addColumn<bool>("dropped");
        const QString local = QStringLiteral("http://localhost:8080");
        QTest::newRow("other host") << local << QStringLiteral("http://evil.example:8080") << true;
        QTest::newRow("other port") << local << QStringLiteral("http://localhost:8081") << true;
        QTest::newRow("other scheme") << local << QStringLiteral("https://localhost:8080") << true;
        QTest::newRow("IP for the name") << local << QStringLiteral("http://127.0.0.1:8080") << true;
        QTest::newRow("same server, other path") << local << QStringLiteral("http://localhost:8080/label-studio") << false;
        QTest::newRow("same server, host in capitals") << local << QStringLiteral("http://LOCALHOST:8080/") << false;
        QTest::newRow("default port written out") << QStringLiteral("https://ls.example.org")
                                                  << QStringLiteral("https://ls.example.org:443") << false;
    }

    void editToAnotherServerDeletesTheToken()
    {
        QFETCH(QString, before);
        QFETCH(QString, after);
        QFETCH(bool, dropped);
        QTemporaryDir dir;
        QSettings settings(dir.filePath(QStringLiteral("loopdeck.ini")), QSettings::IniFormat);
        ConnectionProfiles profiles(&settings);
        TokenStore tokens;
        const QString name = QStringLiteral("lab");
        profiles.save({name, QUrl(before), TokenKind::Legacy});
        tokens.write(name, QStringLiteral("old-server-token"), [](bool, const QString &) {});
        QCOMPARE(storedToken(tokens, name, QUrl(before)), QStringLiteral("old-server-token"));

        QCOMPARE(ConnectionProfiles::sameOrigin(QUrl(before), QUrl(after)), !dropped);
        QCOMPARE(profiles.saveEdited({name, QUrl(after), TokenKind::Legacy}, tokens), dropped);
        QCOMPARE(profiles.find(name)->url, QUrl(after));
        QCOMPARE(storedToken(tokens, name, QUrl(after)), dropped ? QString() : QStringLiteral("old-server-token"));
        QCOMPARE(profiles.find(name)->tokenKind, dropped ? TokenKind::Unknown : TokenKind::Legacy);
    }

    void newProfileKeepsOtherTokens()
    {
        QTemporaryDir dir;
        QSettings settings(dir.filePath(QStringLiteral("loopdeck.ini")), QSettings::IniFormat);
        ConnectionProfiles profiles(&settings);
        TokenStore tokens;
        profiles.save({QStringLiteral("a"), QUrl(QStringLiteral("http://a.example")), TokenKind::Legacy});
        tokens.write(QStringLiteral("a"), QStringLiteral("token-a"), [](bool, const QString &) {});
        QVERIFY(!profiles.saveEdited({QStringLiteral("b"), QUrl(QStringLiteral("http://b.example")), TokenKind::Legacy}, tokens));
        QCOMPARE(storedToken(tokens, QStringLiteral("a"), QUrl(QStringLiteral("http://a.example"))), QStringLiteral("token-a"));
    }

    void saveReplaceRemove()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("loopdeck.ini"));
        {
            QSettings settings(path, QSettings::IniFormat);
            ConnectionProfiles profiles(&settings);
            profiles.save({QStringLiteral("local"), QUrl(QStringLiteral("http://localhost:8080")), TokenKind::Legacy});
            profiles.save({QStringLiteral("team"), QUrl(QStringLiteral("https://ls.example.org")), TokenKind::PersonalAccessToken});
            profiles.save({QStringLiteral("local"), QUrl(QStringLiteral("http://127.0.0.1:8081")), TokenKind::Legacy});
            profiles.setLastUsed(QStringLiteral("team"));
        }
        QSettings settings(path, QSettings::IniFormat);
        ConnectionProfiles profiles(&settings);
        const auto all = profiles.all();
        QCOMPARE(all.size(), 2);
        QCOMPARE(profiles.find(QStringLiteral("local"))->url, QUrl(QStringLiteral("http://127.0.0.1:8081")));
        QCOMPARE(profiles.find(QStringLiteral("team"))->tokenKind, TokenKind::PersonalAccessToken);
        QCOMPARE(profiles.lastUsed(), QStringLiteral("team"));
        profiles.remove(QStringLiteral("local"));
        QVERIFY(!profiles.find(QStringLiteral("local")));
        QCOMPARE(profiles.all().size(), 1);
    }

    void tokenNeverInSettingsFile()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("loopdeck.ini"));
        {
            QSettings settings(path, QSettings::IniFormat);
            ConnectionProfiles(&settings).save({QStringLiteral("x"), QUrl(QStringLiteral("http://h:1")), TokenKind::Legacy});
        }
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray text = f.readAll();
        QVERIFY(text.contains("http://h:1"));
        QVERIFY(!text.toLower().contains("token="));
    }

    void validatesUrls_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<bool>("ok");
        QTest::newRow("http") << QStringLiteral("http://localhost:8080") << true;
        QTest::newRow("https with path") << QStringLiteral("https://example.org/label-studio") << true;
        QTest::newRow("empty") << QString() << false;
        QTest::newRow("ftp") << QStringLiteral("ftp://example.org") << false;
        QTest::newRow("no host") << QStringLiteral("http://") << false;
        QTest::newRow("credentials") << QStringLiteral("http://user:pw@example.org") << false;
    }

    void validatesUrls()
    {
        QFETCH(QString, url);
        QFETCH(bool, ok);
        QCOMPARE(ConnectionProfiles::validateUrl(QUrl(url)).isEmpty(), ok);
    }
};

QTEST_GUILESS_MAIN(TestConnectionProfiles)
#include "tst_connectionprofiles.moc"
