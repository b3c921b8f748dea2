// `loopdeck serve --config FILE` and its shutdown, with the real binary: every option has a key
// in the file's [serve] section, the command line wins over the file, unknown keys and bad
// values are refused with a sentence and exit status 2, and SIGTERM stops the server cleanly
// (exit status 0, the store left readable). The allowed-host key (like --allowed-host) adds
// host names the backend answers to.
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

namespace {

QString writeIni(const QTemporaryDir &dir, const QString &name, const QByteArray &text)
{
    const QString path = dir.filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        qFatal("cannot write %s", qPrintable(path));
    f.write(text);
    return path;
}

// GET /health with this Host header; the status code, or 0 without an answer.
int healthStatusFor(quint16 port, const QByteArray &host)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000))
        return 0;
    socket.write("GET /health HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
    QByteArray answer;
    while (answer.size() < 12 && socket.waitForReadyRead(5000))
        answer += socket.readAll();
    return answer.mid(9, 3).toInt();
}

quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

} // namespace

class TestServeConfig final : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;

    int runToEnd(const QStringList &args, QString *stderrText)
    {
        QProcess p;
        p.start(QStringLiteral(LOOPDECK_BINARY), args);
        if (!p.waitForFinished(30000)) {
            p.kill();
            return -1;
        }
        *stderrText = QString::fromUtf8(p.readAllStandardError());
        return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    }

private Q_SLOTS:
    void refusesUnknownKeysAndBadValues_data()
    {
        QTest::addColumn<QByteArray>("ini");
        QTest::addColumn<QString>("expected");
        QTest::newRow("unknown key") << QByteArray("[serve]\nportt = 9\n") << QStringLiteral("unknown key \"portt\"");
        QTest::newRow("flag value") << QByteArray("[serve]\nno-loop = maybe\n") << QStringLiteral("takes true or false");
        QTest::newRow("outside the section") << QByteArray("port = 9\n") << QStringLiteral("[serve] section");
        QTest::newRow("other section") << QByteArray("[server]\nport = 9\n") << QStringLiteral("unknown section [server]");
        QTest::newRow("bad port value") << QByteArray("[serve]\nport = many\n") << QStringLiteral("--port must be a number");
        QTest::newRow("bad daily time") << QByteArray("[serve]\ntrain-daily = 25:99\n") << QStringLiteral("--train-daily wants a time");
        QTest::newRow("allowed host with a port") << QByteArray("[serve]\nallowed-host = \"lab.example:9090\"\n")
                                                  << QStringLiteral("--allowed-host wants a host name");
    }
    void refusesUnknownKeysAndBadValues()
    {
        QFETCH(QByteArray, ini);
        QFETCH(QString, expected);
        const QString path = writeIni(m_dir, QStringLiteral("bad.ini"), ini);
        QString err;
        QCOMPARE(runToEnd({QStringLiteral("serve"), QStringLiteral("--config"), path}, &err), 2);
        QVERIFY2(err.contains(expected), qPrintable(err));
    }

    void missingFileIsRefused()
    {
        QString err;
        QCOMPARE(runToEnd({QStringLiteral("serve"), QStringLiteral("--config"), m_dir.filePath(QStringLiteral("none.ini"))}, &err), 2);
        QVERIFY2(err.contains(QLatin1String("does not exist")), qPrintable(err));
    }

    void allowedHostsFromTheFileAndTheCommandLine()
    {
        const quint16 port = freePort();
        const QString path = writeIni(m_dir, QStringLiteral("hosts.ini"),
                                      QStringLiteral("[serve]\nport = %1\ndata-dir = %2\nallowed-host = lab.example, ls.internal\n")
                                          .arg(port)
                                          .arg(m_dir.filePath(QStringLiteral("hosts-data")))
                                          .toUtf8());
        QProcess p;
        p.start(QStringLiteral(LOOPDECK_BINARY), {QStringLiteral("serve"), QStringLiteral("--config"), path,
                                                  QStringLiteral("--allowed-host"), QStringLiteral("cli.example")});
        QVERIFY(p.waitForStarted());
        QString err;
        QTRY_VERIFY_WITH_TIMEOUT((err += QString::fromUtf8(p.readAllStandardError())).contains(QLatin1String("listening on")), 20000);
        const QByteArray portText = QByteArray::number(port);
        QCOMPARE(healthStatusFor(port, "lab.example:" + portText), 200);
        QCOMPARE(healthStatusFor(port, "ls.internal"), 200);
        QCOMPARE(healthStatusFor(port, "cli.example:" + portText), 200);
        QCOMPARE(healthStatusFor(port, "127.0.0.1:" + portText), 200);
        QCOMPARE(healthStatusFor(port, "evil.example:" + portText), 421);
        p.terminate();
        QVERIFY(p.waitForFinished(20000));
        QCOMPARE(p.exitCode(), 0);
    }

    void fileOptionsApplyCommandLineWinsAndSigtermStopsCleanly()
    {
        const quint16 filePort = freePort();
        const quint16 flagPort = freePort();
        QVERIFY(filePort != flagPort);
        const QString data = m_dir.filePath(QStringLiteral("data"));
        const QString path = writeIni(m_dir, QStringLiteral("ok.ini"),
                                      QStringLiteral("[serve]\nport = %1\ndata-dir = %2\nlog-level = info\nno-loop = false\n")
                                          .arg(filePort)
                                          .arg(data)
                                          .toUtf8());
        QProcess p;
        p.start(QStringLiteral(LOOPDECK_BINARY), {QStringLiteral("serve"), QStringLiteral("--config"), path, QStringLiteral("--port"),
                                                  QString::number(flagPort)});
        QVERIFY(p.waitForStarted());
        QString err;
        QTRY_VERIFY_WITH_TIMEOUT((err += QString::fromUtf8(p.readAllStandardError())).contains(QLatin1String("listening on")), 20000);
        QVERIFY2(err.contains(QStringLiteral("http://127.0.0.1:%1").arg(flagPort)), qPrintable(err));
        QVERIFY2(err.contains(QStringLiteral("data %1").arg(data)), qPrintable(err));
        p.terminate(); // SIGTERM
        QVERIFY(p.waitForFinished(20000));
        err += QString::fromUtf8(p.readAllStandardError());
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 0);
        QVERIFY2(err.contains(QLatin1String("stopping")), qPrintable(err));
        // Every log line is one event with a timestamp in front.
        static const QRegularExpression stamp(QStringLiteral("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3} "));
        for (const QString &line : err.split(QLatin1Char('\n'), Qt::SkipEmptyParts))
            QVERIFY2(stamp.match(line).hasMatch(), qPrintable(line));
        // The store was closed cleanly and opens as a database with the loop's tables.
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("check"));
            db.setDatabaseName(data + QStringLiteral("/loopdeck.sqlite3"));
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec(QStringLiteral("PRAGMA integrity_check")) && q.next());
            QCOMPARE(q.value(0).toString(), QStringLiteral("ok"));
            QVERIFY(q.exec(QStringLiteral("SELECT COUNT(*) FROM loop_project")));
        }
        QSqlDatabase::removeDatabase(QStringLiteral("check"));
    }
};

QTEST_GUILESS_MAIN(TestServeConfig)
#include "tst_serveconfig.moc"
