// `loopdeck projects` as a user runs it: the real binary against the fixture Label Studio.
#include "lsfixture.h"

#include <QProcess>
#include <QTest>

#include <nlohmann/json.hpp>

using loopdeck::testing::LsFixture;

namespace {

struct Run {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

Run runProjects(const QStringList &args, const QString &token)
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("LOOPDECK_TOKEN"), token);
    env.insert(QStringLiteral("LOOPDECK_NO_KEYCHAIN"), QStringLiteral("1"));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(LOOPDECK_BINARY), QStringList {QStringLiteral("projects")} + args);
    if (!p.waitForFinished(60000))
        qFatal("loopdeck projects did not finish");
    return {p.exitCode(), p.readAllStandardOutput(), p.readAllStandardError()};
}

} // namespace

class TestProjectsCli final : public QObject
{
    Q_OBJECT
    LsFixture m_ls;

private Q_SLOTS:
    void initTestCase() { LOOPDECK_REQUIRE_FIXTURE(m_ls); }

    void jsonMatchesServer()
    {
        loopdeck::labelstudio::LabelStudioClient client;
        client.setServer(m_ls.url, m_ls.token);
        QString error;
        const auto seeded = loopdeck::testing::seedProject(client, QStringLiteral("CLI project"),
                                                           {QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")},
                                                           {QStringLiteral("Positive")}, loopdeck::testing::sentimentConfig(),
                                                           &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        const Run r = runProjects({QStringLiteral("--url"), m_ls.url.toString(), QStringLiteral("--json")}, m_ls.token);
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const auto doc = nlohmann::json::parse(r.out.toStdString());
        bool found = false;
        for (const auto &p : doc.at("projects")) {
            if (p.at("id").get<int>() != seeded.project.id)
                continue;
            found = true;
            QCOMPARE(p.at("title").get<std::string>(), std::string("CLI project"));
            QCOMPARE(p.at("task_number").get<int>(), 3);
            QCOMPARE(p.at("num_tasks_with_annotations").get<int>(), 1);
            QCOMPARE(p.at("total_annotations_number").get<int>(), 1);
        }
        QVERIFY(found);
        QCOMPARE(doc.at("token_kind").get<std::string>(), std::string("legacy token"));
    }

    void tableListsProjects()
    {
        const Run r = runProjects({QStringLiteral("--url"), m_ls.url.toString()}, m_ls.token);
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY(r.out.startsWith("ID"));
        QVERIFY(r.out.contains("CLI project"));
    }

    void errorsExitNonZeroWithASentence()
    {
        const Run bad = runProjects({QStringLiteral("--url"), m_ls.url.toString()}, QStringLiteral("wrong-token-123456"));
        QCOMPARE(bad.exitCode, 4);
        QVERIFY2(bad.err.contains("rejected the token"), bad.err.constData());
        QVERIFY(bad.out.isEmpty());

        const Run dead = runProjects({QStringLiteral("--url"), QStringLiteral("http://127.0.0.1:9")}, m_ls.token);
        QCOMPARE(dead.exitCode, 3);
        QVERIFY2(dead.err.contains("Cannot reach"), dead.err.constData());

        const Run noUrl = runProjects({}, m_ls.token);
        QCOMPARE(noUrl.exitCode, 2);
        QVERIFY(noUrl.err.contains("--url"));

        const Run noToken = runProjects({QStringLiteral("--url"), m_ls.url.toString()}, QString());
        QCOMPARE(noToken.exitCode, 2);
        QVERIFY(noToken.err.contains("LOOPDECK_TOKEN"));

        const Run json = runProjects({QStringLiteral("--url"), m_ls.url.toString(), QStringLiteral("--json")},
                                     QStringLiteral("wrong-token-123456"));
        QCOMPARE(json.exitCode, 4);
        const auto doc = nlohmann::json::parse(json.out.toStdString());
        QCOMPARE(doc.at("error").at("kind").get<std::string>(), std::string("invalid_token"));
    }
};

QTEST_GUILESS_MAIN(TestProjectsCli)
#include "tst_projectscli.moc"
