// Project identity and reconcile against two real Label Studio 1.23.2 servers, through one real
// `loopdeck serve`: server A is the shared fixture, server B is started by this test. Both
// have a project with the same id (B gets filler projects until the ids match) — one
// sentiment, one spam/ham — and both register the same backend. Checks that the two never mix:
// each has its own store rows, versions and labels; /setup answers each with its own version;
// Label Studio B gets spam/ham predictions and A sentiment; a bare id is refused as ambiguous.
// Then a full reconcile of A (at a restart) while tasks and annotations are created and
// deleted in A during it: at the end the store holds exactly what Label Studio holds.
// The test functions run in order and share the servers and projects.
#include "lsfixture.h"
#include "serveprocess.h"

#include <QDateTime>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

using namespace loopdeck;
using namespace loopdeck::labelstudio;
using loopdeck::testing::call;
using loopdeck::testing::Http;
using loopdeck::testing::LsFixture;

namespace {

constexpr int kThreshold = 20;

QString spamConfig()
{
    return QStringLiteral("<View><Text name=\"text\" value=\"$text\"/>"
                          "<Choices name=\"kind\" toName=\"text\" choice=\"single\">"
                          "<Choice value=\"spam\"/><Choice value=\"ham\"/></Choices></View>");
}

nlohmann::json lsCall(LabelStudioClient &client, const QByteArray &verb, const QString &path, const QUrlQuery &query = {},
                      const QByteArray &body = {}, LsError *errorOut = nullptr)
{
    auto [answer, error] = syncWait<QByteArray>([&](auto cb) { client.sendRaw(verb, path, query, body, cb); });
    if (errorOut)
        *errorOut = error;
    if (error.isError())
        qWarning("%s %s failed: %s", verb.constData(), qPrintable(path), qPrintable(error.message()));
    return answer.isEmpty() ? nlohmann::json() : nlohmann::json::parse(answer.toStdString(), nullptr, false);
}

QByteArray choiceAnnotation(const char *control, const QString &label)
{
    const nlohmann::json a = {{"result",
                               {{{"from_name", control}, {"to_name", "text"}, {"type", "choices"},
                                 {"value", {{"choices", {label.toStdString()}}}}}}}};
    return QByteArray::fromStdString(a.dump());
}

// Every task id of a project with its annotation ids (not cancelled), from Label Studio.
struct LsContent {
    QSet<qint64> tasks;
    int annotations = 0;
};

LsContent contentOf(LabelStudioClient &client, int project)
{
    LsContent c;
    for (int page = 1;; ++page) {
        QUrlQuery q;
        q.addQueryItem(QStringLiteral("project"), QString::number(project));
        q.addQueryItem(QStringLiteral("fields"), QStringLiteral("task_only"));
        q.addQueryItem(QStringLiteral("page_size"), QStringLiteral("1000"));
        q.addQueryItem(QStringLiteral("page"), QString::number(page));
        LsError error;
        const auto doc = lsCall(client, "GET", QStringLiteral("/api/tasks/"), q, {}, &error);
        if (error.isError() || !doc.is_object() || !doc.contains("tasks"))
            break;
        for (const auto &t : doc["tasks"]) {
            c.tasks.insert(t.value("id", qint64(0)));
            c.annotations += int(t.value("total_annotations", 0) - t.value("cancelled_annotations", 0));
        }
        if (doc["tasks"].size() < 1000)
            break;
    }
    return c;
}

} // namespace

class TestIdentity final : public QObject
{
    Q_OBJECT
    LsFixture m_a;
    LsFixture m_b;
    QTemporaryDir m_bEnvDir;
    QString m_bEnv;
    QTemporaryDir m_data;
    LabelStudioClient m_clientA;
    LabelStudioClient m_clientB;
    testing::ServeProcess m_serve;
    testing::SeededProject m_projectA;
    testing::SeededProject m_projectB;
    QString m_keyA;
    QString m_keyB;

    QJsonObject status(const QString &key) const
    {
        return m_serve.call("GET", QStringLiteral("/loop/status"), QStringLiteral("project=%1").arg(key)).json;
    }
    bool startServe()
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("LOOPDECK_TOKEN"), m_a.token);
        return m_serve.start(m_data.path(), {QStringLiteral("--label-studio"), m_a.url.toString(), QStringLiteral("--train-every"),
                       QString::number(kThreshold), QStringLiteral("--log-level"), QStringLiteral("warning")}, env);
    }
    void stopServe() { m_serve.stop(); }
    bool registerBackend(LabelStudioClient &client, int project)
    {
        MlBackendRegistration reg;
        reg.url = QStringLiteral("http://127.0.0.1:%1").arg(m_serve.port);
        reg.project = project;
        auto [registered, error] = syncWait<MlBackend>([&](auto cb) { client.registerMlBackend(reg, cb); });
        if (error.isError())
            qWarning("registration: %s", qPrintable(error.message()));
        return !error.isError() && registered.state == QStringLiteral("CO");
    }
    bool annotate(LabelStudioClient &client, const QList<int> &tasks, int from, int count, const char *control,
                  const QStringList &labels)
    {
        for (int i = from; i < from + count; ++i) {
            auto [body, error] = syncWait<QByteArray>(
                [&](auto cb) { client.createAnnotation(tasks[i], choiceAnnotation(control, labels[i % labels.size()]), cb); });
            if (error.isError()) {
                qWarning("annotation %d: %s", i, qPrintable(error.message()));
                return false;
            }
        }
        return true;
    }

private Q_SLOTS:
    void initTestCase()
    {
        LOOPDECK_REQUIRE_FIXTURE(m_a);
        QVERIFY(m_data.isValid() && m_bEnvDir.isValid());
        // Server B: a second real Label Studio, for this suite only.
        m_bEnv = m_bEnvDir.filePath(QStringLiteral("b.env"));
        QProcess fixture;
        fixture.setProcessChannelMode(QProcess::ForwardedChannels);
        fixture.start(QStringLiteral("python3"), {QStringLiteral(LOOPDECK_LS_FIXTURE_SCRIPT), QStringLiteral("start"), m_bEnv,
                                                  QStringLiteral(LOOPDECK_LS_BIN)});
        QVERIFY(fixture.waitForFinished(300000));
        QCOMPARE(fixture.exitCode(), 0);
        m_b = LsFixture::loadFrom(m_bEnv);
        QVERIFY(m_b.isValid());
        QVERIFY(m_a.url != m_b.url);
        m_clientA.setServer(m_a.url, m_a.token);
        m_clientB.setServer(m_b.url, m_b.token);

        // A: sentiment. B: spam/ham, with the same project id (filler projects first).
        QStringList sentimentTexts, spamTexts;
        for (int i = 0; i < 60; ++i) {
            sentimentTexts << (i % 2 == 0 ? QStringLiteral("a lovely great happy day %1").arg(i)
                                          : QStringLiteral("an awful sad broken day %1").arg(i));
            spamTexts << (i % 2 == 0 ? QStringLiteral("win free money now click prize %1").arg(i)
                                     : QStringLiteral("meeting notes for the project review %1").arg(i));
        }
        QString error;
        m_projectA = testing::seedProject(m_clientA, QStringLiteral("Identity A"), sentimentTexts, {}, testing::sentimentConfig(), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        // Two servers' projects differ by their creation second (the key's second part); one
        // second apart is what any two real projects are (the check below makes sure).
        QTest::qWait(1100);
        for (int guard = 0; guard < 500; ++guard) {
            auto [p, e] = syncWait<Project>([&](auto cb) { m_clientB.createProject(QStringLiteral("Identity B"), spamConfig(), cb); });
            QVERIFY2(!e.isError(), qPrintable(e.message()));
            QVERIFY2(p.id <= m_projectA.project.id, "server B numbers past server A's project");
            if (p.id == m_projectA.project.id) {
                m_projectB.project = p;
                break;
            }
        }
        QCOMPARE(m_projectB.project.id, m_projectA.project.id);
        auto tasks = nlohmann::json::array();
        for (const QString &t : spamTexts)
            tasks.push_back({{"text", t.toStdString()}});
        auto [imported, e2] = syncWait<ImportResult>(
            [&](auto cb) { m_clientB.importTasks(m_projectB.project.id, QByteArray::fromStdString(tasks.dump()), cb); });
        QVERIFY2(!e2.isError(), qPrintable(e2.message()));
        m_projectB.taskIds = imported.taskIds;
        m_keyA = testing::keyOf(m_projectA.project);
        m_keyB = testing::keyOf(m_projectB.project);
        QVERIFY2(m_keyA != m_keyB, "both projects were created in the same second on both servers");
        QVERIFY(startServe());
    }

    void cleanupTestCase()
    {
        stopServe();
        if (!m_bEnv.isEmpty()) {
            QProcess fixture;
            fixture.start(QStringLiteral("python3"), {QStringLiteral(LOOPDECK_LS_FIXTURE_SCRIPT), QStringLiteral("stop"), m_bEnv});
            fixture.waitForFinished(60000);
        }
    }

    void twoServersProjectOneNeverMix()
    {
        QVERIFY(registerBackend(m_clientA, m_projectA.project.id));
        QVERIFY(registerBackend(m_clientB, m_projectB.project.id));
        // Both projects are known, each under Label Studio's own name of it.
        QTRY_VERIFY_WITH_TIMEOUT(status(m_keyA).value(QStringLiteral("project")).toString() == m_keyA, 20000);
        QTRY_VERIFY_WITH_TIMEOUT(status(m_keyB).value(QStringLiteral("project")).toString() == m_keyB, 20000);
        // A bare id cannot say which server's project is meant.
        const Http bare = m_serve.call("GET", QStringLiteral("/loop/status"), QStringLiteral("project=%1").arg(m_projectA.project.id));
        QCOMPARE(bare.status, 400);
        QVERIFY2(bare.body.contains(m_keyA.toUtf8()) && bare.body.contains(m_keyB.toUtf8()), bare.body.constData());

        // Annotate both past the threshold: each trains its own version on its own labels.
        QVERIFY(annotate(m_clientA, m_projectA.taskIds, 0, kThreshold + 4, "sentiment",
                         {QStringLiteral("Positive"), QStringLiteral("Negative")}));
        QVERIFY(annotate(m_clientB, m_projectB.taskIds, 0, kThreshold + 2, "kind", {QStringLiteral("spam"), QStringLiteral("ham")}));
        QTRY_COMPARE_WITH_TIMEOUT(status(m_keyA).value(QStringLiteral("annotations")).toInt(), kThreshold + 4, 30000);
        QTRY_COMPARE_WITH_TIMEOUT(status(m_keyB).value(QStringLiteral("annotations")).toInt(), kThreshold + 2, 30000);
        QTRY_VERIFY_WITH_TIMEOUT(!status(m_keyA).value(QStringLiteral("active_version")).isNull(), 90000);
        QTRY_VERIFY_WITH_TIMEOUT(!status(m_keyB).value(QStringLiteral("active_version")).isNull(), 90000);
        // A is the connected server: reconciled, every task. B reaches the loop by its webhooks
        // only (serve reconciles with the one server it was given): the annotated tasks.
        QCOMPARE(status(m_keyA).value(QStringLiteral("tasks")).toInt(), m_projectA.taskIds.size());
        QCOMPARE(status(m_keyB).value(QStringLiteral("tasks")).toInt(), kThreshold + 2);

        // Each version serves its own server's labels.
        const auto versionsOf = [&](const QString &key) {
            return m_serve.call("GET", QStringLiteral("/versions"), QStringLiteral("project=%1").arg(key)).json;
        };
        const QJsonArray detailsB = versionsOf(m_keyB).value(QStringLiteral("details")).toArray();
        QVERIFY(!detailsB.isEmpty());
        QCOMPARE(detailsB.at(0).toObject().value(QStringLiteral("target")).toString(), QStringLiteral("kind"));
        const QJsonArray detailsA = versionsOf(m_keyA).value(QStringLiteral("details")).toArray();
        QVERIFY(!detailsA.isEmpty());
        QCOMPARE(detailsA.at(0).toObject().value(QStringLiteral("target")).toString(), QStringLiteral("sentiment"));
        // /setup answers each server with its own version.
        for (const auto &[key, config] : {std::pair{m_keyA, testing::sentimentConfig()}, std::pair{m_keyB, spamConfig()}}) {
            const Http setup = m_serve.call("POST", QStringLiteral("/setup"), {},
                                    QJsonDocument(QJsonObject{{QStringLiteral("project"), key}, {QStringLiteral("schema"), config}})
                                        .toJson());
            QCOMPARE(setup.status, 200);
            QCOMPARE(setup.json.value(QStringLiteral("model_version")).toString(),
                     status(key).value(QStringLiteral("active_version")).toString());
        }

        // Label Studio B asks for predictions of its unlabeled tasks: spam/ham, from its own model.
        const QList<int> unlabeledB = m_projectB.taskIds.mid(kThreshold + 2, 5);
        auto [retrieved, e3] = syncWait<QByteArray>(
            [&](auto cb) { m_clientB.retrievePredictions(m_projectB.project.id, unlabeledB, cb); });
        QVERIFY2(!e3.isError(), qPrintable(e3.message()));
        int checked = 0;
        for (int task : unlabeledB) {
            const auto t = lsCall(m_clientB, "GET", QStringLiteral("/api/tasks/%1/").arg(task));
            QVERIFY(t.is_object() && t.contains("predictions"));
            for (const auto &p : t["predictions"]) {
                const std::string label = p["result"][0]["value"]["choices"][0].get<std::string>();
                QVERIFY2(label == "spam" || label == "ham", label.c_str());
                QCOMPARE(p["result"][0]["from_name"].get<std::string>(), std::string("kind"));
                ++checked;
            }
        }
        QVERIFY(checked >= 1);
        // The prediction refresh after A's version went to A (serve is connected to A), with
        // sentiment labels, and never to B.
        QTRY_COMPARE_WITH_TIMEOUT(
            status(m_keyA).value(QStringLiteral("prediction_refresh")).toObject().value(QStringLiteral("state")).toString(),
            QStringLiteral("done"), 90000);
        const auto refreshedA = lsCall(m_clientA, "GET", QStringLiteral("/api/tasks/%1/").arg(m_projectA.taskIds.last()));
        QVERIFY(refreshedA.is_object() && !refreshedA["predictions"].empty());
        QCOMPARE(refreshedA["predictions"][0]["result"][0]["from_name"].get<std::string>(), std::string("sentiment"));
        // B's tasks hold only B's own predictions (opening a task makes Label Studio B ask
        // /predict itself): spam/ham, never A's sentiment.
        const auto lastB = lsCall(m_clientB, "GET", QStringLiteral("/api/tasks/%1/").arg(m_projectB.taskIds.last()));
        QVERIFY(lastB.is_object());
        for (const auto &p : lastB["predictions"])
            QVERIFY2(p["result"][0]["from_name"].get<std::string>() == "kind", "server A's refresh wrote into server B");
        QVERIFY(status(m_keyB).value(QStringLiteral("prediction_refresh")).isUndefined()
                || status(m_keyB).value(QStringLiteral("prediction_refresh")).toObject().value(QStringLiteral("state")).toString()
                       != QStringLiteral("done"));
        // Separate model folders.
        QVERIFY(QDir(m_data.filePath(QStringLiteral("models/") + m_keyA)).exists());
        QVERIFY(QDir(m_data.filePath(QStringLiteral("models/") + m_keyB)).exists());
    }

    void reconcileDuringChangesEndsEqual()
    {
        // Enough tasks that the restart's listing takes several pages.
        const int extra = 2400;
        auto tasks = nlohmann::json::array();
        for (int i = 0; i < extra; ++i)
            tasks.push_back({{"text", QStringLiteral("filler review %1 quite fine").arg(i).toStdString()}});
        auto [imported, e1] = syncWait<ImportResult>(
            [&](auto cb) { m_clientA.importTasks(m_projectA.project.id, QByteArray::fromStdString(tasks.dump()), cb); });
        QVERIFY2(!e1.isError(), qPrintable(e1.message()));
        QList<int> all = m_projectA.taskIds + imported.taskIds;
        QTRY_COMPARE_WITH_TIMEOUT(status(m_keyA).value(QStringLiteral("tasks")).toInt(), int(all.size()), 60000);

        // Changes while the loop is down: a reconcile must find them.
        stopServe();
        QVERIFY(annotate(m_clientA, all, kThreshold + 4, 3, "sentiment", {QStringLiteral("Positive")}));
        const auto firstAnnotation = lsCall(m_clientA, "GET", QStringLiteral("/api/tasks/%1/annotations/").arg(all[0]));
        QVERIFY(firstAnnotation.is_array() && !firstAnnotation.empty());
        lsCall(m_clientA, "DELETE", QStringLiteral("/api/annotations/%1/").arg(firstAnnotation[0]["id"].get<qint64>()));

        // Restart: its full reconcile runs while tasks and annotations come and go in A.
        const QString restarted = QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
        QVERIFY(startServe());
        QRandomGenerator rng(7);
        for (int round = 0; round < 12; ++round) {
            // delete a task from the middle of the id range (page boundaries move)
            const int victim = all.takeAt(int(kThreshold + 10 + rng.bounded(int(all.size()) - kThreshold - 20)));
            lsCall(m_clientA, "DELETE", QStringLiteral("/api/tasks/%1/").arg(victim));
            // a new task
            auto [more, e] = syncWait<ImportResult>([&](auto cb) {
                m_clientA.importTasks(m_projectA.project.id,
                                      QByteArray::fromStdString(nlohmann::json::array({{{"text", "late arrival " + std::to_string(round)}}}).dump()),
                                      cb);
            });
            QVERIFY2(!e.isError(), qPrintable(e.message()));
            all += more.taskIds;
            // an annotation on an unlabeled task, and one deleted
            QVERIFY(annotate(m_clientA, all, int(all.size()) - 1, 1, "sentiment", {QStringLiteral("Negative")}));
            if (round % 3 == 0) {
                const auto anns = lsCall(m_clientA, "GET", QStringLiteral("/api/tasks/%1/annotations/").arg(all[1 + round]));
                if (anns.is_array() && !anns.empty())
                    lsCall(m_clientA, "DELETE", QStringLiteral("/api/annotations/%1/").arg(anns[0]["id"].get<qint64>()));
            }
            QTest::qWait(150);
        }
        // The store ends equal to Label Studio.
        const LsContent truth = contentOf(m_clientA, m_projectA.project.id);
        QCOMPARE(qsizetype(truth.tasks.size()), all.size());
        // The restart's own full reconcile finished (not the one before it).
        QTRY_VERIFY_WITH_TIMEOUT(status(m_keyA).value(QStringLiteral("last_full_reconcile")).toString() > restarted, 120000);
        QTRY_COMPARE_WITH_TIMEOUT(status(m_keyA).value(QStringLiteral("tasks")).toInt(), int(truth.tasks.size()), 60000);
        QTRY_COMPARE_WITH_TIMEOUT(status(m_keyA).value(QStringLiteral("annotations")).toInt(), truth.annotations, 60000);
        // B was not touched by A's reconcile.
        QCOMPARE(status(m_keyB).value(QStringLiteral("tasks")).toInt(), kThreshold + 2);
        QCOMPARE(status(m_keyB).value(QStringLiteral("annotations")).toInt(), kThreshold + 2);
    }
};

QTEST_MAIN(TestIdentity)
#include "tst_identity.moc"
