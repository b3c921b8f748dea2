#pragma once
// A real `loopdeck serve` process for integration tests: started on a free loopback port with
// a data folder, waited for (/health), stopped with SIGTERM; its operator token (made by serve
// at start) is read from the data folder and sent with every call().
#include "lsfixture.h"

#include <QFile>
#include <QProcess>
#include <QTcpServer>
#include <QTest>

namespace loopdeck::testing {

class ServeProcess
{
public:
    quint16 port = 0;
    QString dataDir;
    QString token; // the operator token, read after start

    static quint16 freePort()
    {
        QTcpServer probe;
        probe.listen(QHostAddress::LocalHost, 0);
        return probe.serverPort();
    }

    // Starts `loopdeck serve --port P --data-dir D` + extra; true once /health answers 200.
    bool start(const QString &dir, const QStringList &extra, const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment())
    {
        dataDir = dir;
        if (port == 0)
            port = freePort();
        m_process.setProcessEnvironment(env);
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_process.start(QStringLiteral(LOOPDECK_BINARY), QStringList{QStringLiteral("serve"), QStringLiteral("--port"), QString::number(port),
                                                                     QStringLiteral("--data-dir"), dataDir}
                                                             + extra);
        if (!m_process.waitForStarted(10000))
            return false;
        for (int i = 0; i < 100; ++i) {
            if (testing::call("GET", url(QStringLiteral("/health"))).status == 200) {
                QFile file(dataDir + QStringLiteral("/operator-token"));
                if (!file.open(QIODevice::ReadOnly))
                    return false;
                token = QString::fromLatin1(file.readAll().trimmed());
                return !token.isEmpty();
            }
            if (m_process.state() == QProcess::NotRunning)
                return false;
            QTest::qWait(100);
        }
        return false;
    }
    void stop()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.terminate();
        if (!m_process.waitForFinished(20000))
            m_process.kill();
    }
    QProcess &process() { return m_process; }

    QUrl url(const QString &path, const QString &query = {}) const
    {
        QUrl u(QStringLiteral("http://127.0.0.1:%1%2").arg(port).arg(path));
        if (!query.isEmpty())
            u.setQuery(query);
        return u;
    }
    // A request with the operator token.
    Http call(const QByteArray &verb, const QString &path, const QString &query = {}, const QByteArray &body = {}) const
    {
        return testing::call(verb, url(path, query), body, "Bearer " + token.toLatin1());
    }

private:
    QProcess m_process;
};

} // namespace loopdeck::testing
