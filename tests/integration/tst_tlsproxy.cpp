// The window's way to a team's loop through HTTPS: a real `loopdeck serve` behind Debian's nginx
// running packaging/nginx/loopdeck.conf (ports and certificate paths replaced), with a server
// certificate from a CA this test makes with openssl. RemoteLoopClient, given that CA, verifies
// the certificate, mirrors the loop, and a training started through the proxy arrives through
// the event stream (unbuffered by the example's /loop/events block). Without the CA the
// certificate is refused with a sentence; a wrong token is named as such through the proxy too.
#include "../unit/lswebhooks.h"
#include "core/client/remoteloopclient.h"
#include "lsfixture.h"
#include "serveprocess.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <random>

using namespace loopdeck;
using client::LoopResult;
using client::RemoteLoopClient;
using testing::ServeProcess;

namespace {

const QString kKey = QStringLiteral("1.1764064800");

bool run(const QString &program, const QStringList &args, const QString &dir, QString *output)
{
    QProcess p;
    p.setWorkingDirectory(dir);
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(program, args);
    if (!p.waitForFinished(60000))
        return false;
    *output = QString::fromLocal8Bit(p.readAll());
    return p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

} // namespace

class TestTlsProxy final : public QObject
{
    Q_OBJECT
    QTemporaryDir m_work;
    QTemporaryDir m_data;
    ServeProcess m_serve;
    QProcess m_nginx;
    quint16 m_httpsPort = 0;
    QList<QSslCertificate> m_ca;

    RemoteLoopClient::Endpoint endpoint(bool withCa, const QString &token) const
    {
        RemoteLoopClient::Endpoint e;
        e.url = QUrl(QStringLiteral("https://localhost:%1").arg(m_httpsPort));
        e.token = token;
        if (withCa)
            e.caCertificates = m_ca;
        return e;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_work.isValid() && m_data.isValid());
        const QString nginx = QStandardPaths::findExecutable(QStringLiteral("nginx"), {QStringLiteral("/usr/sbin"), QStringLiteral("/usr/bin")});
        QVERIFY2(!nginx.isEmpty(), "nginx is not installed (scripts/deps.sh --test installs it)");
        // The backend, fed as Label Studio would: /setup and 30 annotations.
        QVERIFY(m_serve.start(m_data.path(), {QStringLiteral("--train-every"), QStringLiteral("0")}));
        const QJsonObject setup{{QStringLiteral("project"), kKey}, {QStringLiteral("schema"), test::kConfig}};
        QCOMPARE(testing::call("POST", m_serve.url(QStringLiteral("/setup")), QJsonDocument(setup).toJson()).status, 200);
        std::mt19937 rng(3);
        for (int t = 1; t <= 30; ++t) {
            const bool positive = t % 2 == 0;
            QCOMPARE(testing::call("POST", m_serve.url(QStringLiteral("/webhook")),
                                   test::annotationEvent("ANNOTATION_CREATED", 1, t, 500 + t, test::sentence(rng, positive),
                                                         positive ? QStringLiteral("Positive") : QStringLiteral("Negative"), 1))
                         .status,
                     201);
        }

        // A CA and a server certificate for localhost / 127.0.0.1.
        const QString dir = m_work.path();
        QString out;
        QVERIFY2(run(QStringLiteral("openssl"), {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("rsa:2048"),
                                                 QStringLiteral("-nodes"), QStringLiteral("-keyout"), QStringLiteral("ca.key"), QStringLiteral("-out"),
                                                 QStringLiteral("ca.crt"), QStringLiteral("-days"), QStringLiteral("2"), QStringLiteral("-subj"),
                                                 QStringLiteral("/CN=LoopDeck test CA")},
                     dir, &out),
                 qPrintable(out));
        QVERIFY2(run(QStringLiteral("openssl"), {QStringLiteral("req"), QStringLiteral("-newkey"), QStringLiteral("rsa:2048"), QStringLiteral("-nodes"),
                                                 QStringLiteral("-keyout"), QStringLiteral("server.key"), QStringLiteral("-out"),
                                                 QStringLiteral("server.csr"), QStringLiteral("-subj"), QStringLiteral("/CN=localhost")},
                     dir, &out),
                 qPrintable(out));
        QFile ext(dir + QStringLiteral("/ext.cnf"));
        QVERIFY(ext.open(QIODevice::WriteOnly));
        ext.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n");
        ext.close();
        QVERIFY2(run(QStringLiteral("openssl"), {QStringLiteral("x509"), QStringLiteral("-req"), QStringLiteral("-in"), QStringLiteral("server.csr"),
                                                 QStringLiteral("-CA"), QStringLiteral("ca.crt"), QStringLiteral("-CAkey"), QStringLiteral("ca.key"),
                                                 QStringLiteral("-CAcreateserial"), QStringLiteral("-out"), QStringLiteral("server.crt"),
                                                 QStringLiteral("-days"), QStringLiteral("2"), QStringLiteral("-extfile"), QStringLiteral("ext.cnf")},
                     dir, &out),
                 qPrintable(out));
        QString caError;
        m_ca = RemoteLoopClient::loadCaFile(dir + QStringLiteral("/ca.crt"), &caError);
        QVERIFY2(!m_ca.isEmpty(), qPrintable(caError));

        // The example site, as shipped, with this test's ports and files.
        QFile example(QStringLiteral(LOOPDECK_SOURCE_DIR "/packaging/nginx/loopdeck.conf"));
        QVERIFY(example.open(QIODevice::ReadOnly));
        QString site = QString::fromUtf8(example.readAll());
        m_httpsPort = ServeProcess::freePort();
        const int replaced = site.count(QStringLiteral("127.0.0.1:9090"));
        QVERIFY(replaced >= 2);
        site.replace(QStringLiteral("127.0.0.1:9090"), QStringLiteral("127.0.0.1:%1").arg(m_serve.port));
        site.replace(QStringLiteral("listen 443 ssl;"), QStringLiteral("listen 127.0.0.1:%1 ssl;").arg(m_httpsPort));
        site.replace(QStringLiteral("/etc/ssl/loopdeck/"), dir + QLatin1Char('/'));
        site.replace(QStringLiteral("server_name loopdeck.example.org;"), QStringLiteral("server_name localhost;"));
        QVERIFY(site.contains(QStringLiteral("listen 127.0.0.1:%1 ssl;").arg(m_httpsPort)));
        QFile siteFile(dir + QStringLiteral("/site.conf"));
        QVERIFY(siteFile.open(QIODevice::WriteOnly));
        siteFile.write(site.toUtf8());
        siteFile.close();
        QDir().mkpath(dir + QStringLiteral("/tmp"));
        QFile::setPermissions(dir + QStringLiteral("/tmp"), QFileDevice::Permissions(0x7777));
        QFile main(dir + QStringLiteral("/nginx.conf"));
        QVERIFY(main.open(QIODevice::WriteOnly));
        main.write(QStringLiteral("worker_processes 1;\npid %1/nginx.pid;\nerror_log %1/error.log warn;\n"
                                  "events { worker_connections 64; }\n"
                                  "http {\n  access_log %1/access.log;\n"
                                  "  client_body_temp_path %1/tmp/body;\n  proxy_temp_path %1/tmp/proxy;\n"
                                  "  fastcgi_temp_path %1/tmp/fastcgi;\n  uwsgi_temp_path %1/tmp/uwsgi;\n  scgi_temp_path %1/tmp/scgi;\n"
                                  "  include %1/site.conf;\n}\n")
                       .arg(dir)
                       .toUtf8());
        main.close();
        m_nginx.setProcessChannelMode(QProcess::ForwardedChannels);
        m_nginx.start(nginx, {QStringLiteral("-p"), dir, QStringLiteral("-c"), dir + QStringLiteral("/nginx.conf"), QStringLiteral("-g"),
                              QStringLiteral("daemon off;")});
        QVERIFY(m_nginx.waitForStarted(10000));
        bool listening = false;
        for (int i = 0; i < 100 && !listening; ++i) {
            QTcpSocket probe;
            probe.connectToHost(QHostAddress::LocalHost, m_httpsPort);
            listening = probe.waitForConnected(200);
            if (!listening)
                QTest::qWait(100);
        }
        QFile log(dir + QStringLiteral("/error.log"));
        QVERIFY2(listening, log.open(QIODevice::ReadOnly) ? log.readAll().constData() : "nginx did not listen");
    }

    void cleanupTestCase()
    {
        if (m_nginx.state() != QProcess::NotRunning) {
            m_nginx.terminate();
            if (!m_nginx.waitForFinished(10000))
                m_nginx.kill();
        }
        m_serve.stop();
    }

    void verifiedCertificateAndEventsThroughTheProxy()
    {
        RemoteLoopClient client;
        QSignalSpy finished(&client, &client::LoopClient::trainingFinished);
        client.connectTo(endpoint(true, m_serve.token));
        QTRY_VERIFY2_WITH_TIMEOUT(client.isUp(), qPrintable(client.connectionError()), 15000);
        QTRY_COMPARE_WITH_TIMEOUT(client.projects(), QStringList{kKey}, 10000);
        QCOMPARE(client.status(kKey)->annotations, 30);
        std::optional<LoopResult> trained;
        client.train(kKey, [&](const LoopResult &r) { trained = r; });
        QTRY_VERIFY_WITH_TIMEOUT(trained.has_value(), 30000);
        QVERIFY2(trained->ok, qPrintable(trained->error));
        // The version arrives through the event stream, through nginx.
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        QCOMPARE(client.versions(kKey).size(), 1);
        const QJsonArray direct = m_serve.call("GET", QStringLiteral("/versions"), QStringLiteral("project=") + kKey)
                                      .json.value(QStringLiteral("details"))
                                      .toArray();
        QCOMPARE(direct.size(), 1);
        QCOMPARE(client.versions(kKey).first().trainingExamples, direct.first().toObject().value(QStringLiteral("training_examples")).toInt());
    }

    void unknownCaIsRefused()
    {
        std::optional<std::pair<bool, QString>> tested;
        RemoteLoopClient::testConnection(endpoint(false, m_serve.token), this,
                                         [&](bool ok, const QString &m) { tested = std::make_pair(ok, m); });
        QTRY_VERIFY_WITH_TIMEOUT(tested.has_value(), 15000);
        QVERIFY(!tested->first);
        QVERIFY2(tested->second.contains(QLatin1String("TLS")), qPrintable(tested->second));
        RemoteLoopClient client;
        client.connectTo(endpoint(false, m_serve.token));
        QTRY_VERIFY_WITH_TIMEOUT(client.connectionError().contains(QLatin1String("TLS")), 15000);
        QVERIFY(!client.isUp());
    }

    void wrongTokenThroughTheProxy()
    {
        std::optional<std::pair<bool, QString>> tested;
        RemoteLoopClient::testConnection(endpoint(true, QStringLiteral("ldo_not_this_servers_token")), this,
                                         [&](bool ok, const QString &m) { tested = std::make_pair(ok, m); });
        QTRY_VERIFY_WITH_TIMEOUT(tested.has_value(), 15000);
        QVERIFY(!tested->first);
        QVERIFY2(tested->second.contains(QLatin1String("operator token")), qPrintable(tested->second));
        tested.reset();
        RemoteLoopClient::testConnection(endpoint(true, m_serve.token), this, [&](bool ok, const QString &m) { tested = std::make_pair(ok, m); });
        QTRY_VERIFY_WITH_TIMEOUT(tested.has_value(), 15000);
        QVERIFY2(tested->first, qPrintable(tested->second));
    }
};

QTEST_MAIN(TestTlsProxy)
#include "tst_tlsproxy.moc"
