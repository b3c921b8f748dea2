// Which registered backend URL is this backend (policy::isThisBackend): only its webhook may
// carry the webhook secret. Before, any URL with our port number counted (127.0.0.2:9090, or
// another host's :9090), so the secret could be written into a webhook to someone else.
#include "core/loop/policy.h"

#include <QTest>

using loopdeck::loop::policy::isThisBackend;
using loopdeck::loop::policy::ThisBackend;

class TestWebhookSecret final : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void thisBackend_data()
    {
        QTest::addColumn<QString>("bound");
        QTest::addColumn<QString>("url");
        QTest::addColumn<bool>("ours");
        // Loopback bind (the default).
        QTest::newRow("loopback: same address") << "127.0.0.1" << "http://127.0.0.1:9090" << true;
        QTest::newRow("loopback: localhost") << "127.0.0.1" << "http://localhost:9090/" << true;
        QTest::newRow("loopback: other port") << "127.0.0.1" << "http://127.0.0.1:9091" << false;
        QTest::newRow("loopback: another loopback address") << "127.0.0.1" << "http://127.0.0.2:9090" << false;
        QTest::newRow("loopback: another host, our port") << "127.0.0.1" << "http://backend.example:9090" << false;
        QTest::newRow("loopback: a LAN address of ours") << "127.0.0.1" << "http://192.0.2.10:9090" << false;
        QTest::newRow("loopback: no port means 80") << "127.0.0.1" << "http://127.0.0.1" << false;
        // Wildcard bind: any address or name of this machine.
        QTest::newRow("wildcard: our LAN address") << "0.0.0.0" << "http://192.0.2.10:9090" << true;
        QTest::newRow("wildcard: our name") << "0.0.0.0" << "http://loopdeck-host:9090" << true;
        QTest::newRow("wildcard: localhost") << "0.0.0.0" << "http://localhost:9090" << true;
        QTest::newRow("wildcard: 127.0.0.1") << "0.0.0.0" << "http://127.0.0.1:9090" << true;
        QTest::newRow("wildcard: someone else's address") << "0.0.0.0" << "http://192.0.2.99:9090" << false;
        QTest::newRow("wildcard: someone else's name") << "0.0.0.0" << "http://ml.example:9090" << false;
        QTest::newRow("ipv6 wildcard: our LAN address") << "::" << "http://192.0.2.10:9090" << true;
        // A bind to one address of the machine.
        QTest::newRow("LAN bind: that address") << "192.0.2.10" << "http://192.0.2.10:9090" << true;
        QTest::newRow("LAN bind: loopback does not reach it") << "192.0.2.10" << "http://127.0.0.1:9090" << false;
        QTest::newRow("LAN bind: localhost does not reach it") << "192.0.2.10" << "http://localhost:9090" << false;
    }
    void thisBackend()
    {
        QFETCH(QString, bound);
        QFETCH(QString, url);
        QFETCH(bool, ours);
        ThisBackend me;
        me.port = 9090;
        me.boundHost = bound;
        me.machineNames = {QStringLiteral("loopdeck-host")};
        me.machineAddresses = {QStringLiteral("127.0.0.1"), QStringLiteral("::1"), QStringLiteral("192.0.2.10")};
        QCOMPARE(isThisBackend(QUrl(url), me), ours);
    }
};

QTEST_GUILESS_MAIN(TestWebhookSecret)
#include "tst_webhooksecret.moc"
