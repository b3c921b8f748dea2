// Connection profiles: saved without the token, replaced by name, URLs checked.
#include "settings/connectionprofile.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace loopdeck::settings;
using loopdeck::labelstudio::TokenKind;

class TestConnectionProfiles final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
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
