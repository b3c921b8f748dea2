// The loop against a real Label Studio 1.23.2, headless, through the real `loopdeck serve`
// binary: annotations posted through Label Studio's API reach the backend as webhooks, a
// version trains by itself at the threshold, becomes active, /setup reports it, and Label
// Studio holds refreshed predictions of that version with scores; "Start training"
// (POST /api/ml/{id}/train) trains a version; a deleted annotation leaves the store; and after
// the backend was stopped, annotations made meanwhile are recovered by the reconcile at start.
// The test functions run in order and share one project.
#include "lsfixture.h"
#include "serveprocess.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

using namespace loopdeck;
using namespace loopdeck::labelstudio;
using loopdeck::testing::LsFixture;
using loopdeck::testing::Http;
using loopdeck::testing::call;

namespace {

constexpr int kTasks = 120;
constexpr int kThreshold = 50;

// Two classes whose vocabularies overlap, so the model has something to learn and can err.
QStringList makeTexts(QStringList *labels)
{
    const QStringList pos = {QStringLiteral("great"), QStringLiteral("lovely"), QStringLiteral("excellent"), QStringLiteral("happy"),
                             QStringLiteral("fine")};
    const QStringList neg = {QStringLiteral("awful"), QStringLiteral("broken"), QStringLiteral("terrible"), QStringLiteral("sad"),
                             QStringLiteral("fine")};
    QStringList texts;
    for (int i = 0; i < kTasks; ++i) {
        const bool positive = (i * 7 + 3) % 5 < 3;
        const QStringList &words = positive ? pos : neg;
        texts << QStringLiteral("the delivery %1 was %2 and %3").arg(i).arg(words[i % 5], words[(i / 5) % 5]);
        labels->append(positive ? QStringLiteral("Positive") : QStringLiteral("Negative"));
    }
    return texts;
}


nlohmann::json lsCall(LabelStudioClient &client, const QByteArray &verb, const QString &path, const QUrlQuery &query = {},
                      const QByteArray &body = {})
{
    auto [answer, error] = syncWait<QByteArray>([&](auto cb) { client.sendRaw(verb, path, query, body, cb); });
    if (error.isError())
        qWarning("%s %s failed: %s", verb.constData(), qPrintable(path), qPrintable(error.message()));
    return answer.isEmpty() ? nlohmann::json() : nlohmann::json::parse(answer.toStdString(), nullptr, false);
}

} // namespace

class TestLoop final : public QObject
{
    Q_OBJECT
    LsFixture m_ls;
    QTemporaryDir m_data;
    LabelStudioClient m_client;
    testing::ServeProcess m_serve;
    int m_project = 0;
    QString m_key; // the loop's key of the project
    int m_mlBackend = 0;
    QList<int> m_tasks;
    QStringList m_labels;
    int m_annotated = 0;

    QJsonObject status() const
    {
        return m_serve.call("GET", QStringLiteral("/loop/status"), QStringLiteral("project=%1").arg(m_project)).json;
    }

    bool startServe()
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("LOOPDECK_TOKEN"), m_ls.token);
        return m_serve.start(m_data.path(), {QStringLiteral("--label-studio"), m_ls.url.toString(), QStringLiteral("--train-every"),
                       QString::number(kThreshold), QStringLiteral("--log-level"), QStringLiteral("warning")}, env);
    }
    void stopServe() { m_serve.stop(); }
    bool annotate(int count)
    {
        for (int i = 0; i < count; ++i, ++m_annotated) {
            auto [body, error] = syncWait<QByteArray>(
                [&](auto cb) { m_client.createAnnotation(m_tasks[m_annotated], testing::sentimentAnnotation(m_labels[m_annotated]), cb); });
            if (error.isError()) {
                qWarning("annotation %d: %s", m_annotated, qPrintable(error.message()));
                return false;
            }
        }
        return true;
    }

private Q_SLOTS:
    void initTestCase()
    {
        LOOPDECK_REQUIRE_FIXTURE(m_ls);
        QVERIFY(m_data.isValid());
        m_client.setServer(m_ls.url, m_ls.token);
        const QStringList texts = makeTexts(&m_labels);
        QString error;
        const auto seeded = testing::seedProject(m_client, QStringLiteral("Loop"), texts, {}, testing::sentimentConfig(), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        m_project = seeded.project.id;
        m_key = testing::keyOf(seeded.project);
        m_tasks = seeded.taskIds;
        QCOMPARE(m_tasks.size(), kTasks);
        QVERIFY(startServe());
    }
    void cleanupTestCase() { stopServe(); }

    void versionTrainsByItselfAndLabelStudioShowsIt()
    {
        MlBackendRegistration reg;
        reg.url = QStringLiteral("http://127.0.0.1:%1").arg(m_serve.port);
        reg.project = m_project;
        auto [registered, e1] = syncWait<MlBackend>([&](auto cb) { m_client.registerMlBackend(reg, cb); });
        QVERIFY2(!e1.isError(), qPrintable(e1.message()));
        QCOMPARE(registered.state, QStringLiteral("CO"));
        m_mlBackend = registered.id;
        // Label Studio made the project webhook to the backend by itself.
        QUrlQuery byProject;
        byProject.addQueryItem(QStringLiteral("project"), QString::number(m_project));
        const auto hooks = lsCall(m_client, "GET", QStringLiteral("/api/webhooks/"), byProject);
        QVERIFY(hooks.is_array() && !hooks.empty());
        QVERIFY(QString::fromStdString(hooks[0].value("url", std::string())).endsWith(QLatin1String("/webhook")));

        // The loop names the project as Label Studio does: "<id>.<created_at>".
        QTRY_COMPARE_WITH_TIMEOUT(status().value(QStringLiteral("project")).toString(), m_key, 20000);
        // Every new version activates here: this test is about the loop's plumbing; the
        // activation policy (whose outcome on a few dozen examples depends on the evaluation
        // split) is tested in tst_loopengine. Also shows that /loop/settings takes effect.
        const Http configured = m_serve.call("POST", QStringLiteral("/loop/settings"), QStringLiteral("project=%1").arg(m_project),
                                     QByteArrayLiteral("{\"activation_margin\": 1.0}"));
        QCOMPARE(configured.status, 200);
        QTRY_COMPARE_WITH_TIMEOUT(
            status().value(QStringLiteral("settings")).toObject().value(QStringLiteral("activation_margin")).toDouble(), 1.0, 5000);
        // After its first reconcile the loop has checked that webhook and found it.
        QTRY_COMPARE_WITH_TIMEOUT(status().value(QStringLiteral("webhook")).toObject().value(QStringLiteral("state")).toString(),
                                  QStringLiteral("ok"), 30000);
        // One short of the threshold: nothing trains.
        QVERIFY(annotate(kThreshold - 1));
        QTRY_COMPARE_WITH_TIMEOUT(status().value(QStringLiteral("annotations")).toInt(), kThreshold - 1, 20000);
        QTest::qWait(2500);
        QVERIFY(status().value(QStringLiteral("active_version")).isNull());
        QCOMPARE(status().value(QStringLiteral("new_since_training")).toInt(), kThreshold - 1);
        // The annotation that crosses it.
        QVERIFY(annotate(10));
        QTRY_COMPARE_WITH_TIMEOUT(status().value(QStringLiteral("active_version")).toString(), QStringLiteral("loopdeck-v1"), 60000);

        // /setup reports the version that tags the answers, so Label Studio asks again.
        const Http setup = m_serve.call("POST", QStringLiteral("/setup"), {},
                                QJsonDocument(QJsonObject{{QStringLiteral("project"), m_key},
                                                          {QStringLiteral("schema"), testing::sentimentConfig()}})
                                    .toJson());
        QCOMPARE(setup.status, 200);
        QCOMPARE(setup.json.value(QStringLiteral("model_version")).toString(), QStringLiteral("loopdeck-v1"));

        // /versions details: trigger, examples, metrics, active.
        const Http versions = m_serve.call("GET", QStringLiteral("/versions"), QStringLiteral("project=%1").arg(m_project));
        const QJsonArray details = versions.json.value(QStringLiteral("details")).toArray();
        QCOMPARE(details.size(), 1);
        const QJsonObject v1 = details.first().toObject();
        QCOMPARE(v1.value(QStringLiteral("trigger")).toString(), QStringLiteral("threshold"));
        QVERIFY(v1.value(QStringLiteral("training_examples")).toInt() >= kThreshold);
        QVERIFY(v1.value(QStringLiteral("active")).toBool());
        const double accuracy = v1.value(QStringLiteral("metrics")).toObject().value(QStringLiteral("accuracy")).toDouble(-1);
        QVERIFY2(accuracy > 0.5 && accuracy <= 1.0, qPrintable(QString::number(accuracy)));
        // Without the operator token (as Label Studio asks): the versions, not their details; and
        // /loop/* refuses, on loopback too.
        const Http plain = call("GET", m_serve.url(QStringLiteral("/versions"), QStringLiteral("project=%1").arg(m_project)));
        QCOMPARE(plain.status, 200);
        QCOMPARE(plain.json.value(QStringLiteral("versions")).toArray().size(), 1);
        QVERIFY(!plain.json.contains(QStringLiteral("details")));
        QCOMPARE(call("GET", m_serve.url(QStringLiteral("/loop/status"), QStringLiteral("project=%1").arg(m_project))).status, 401);
        QCOMPARE(call("POST", m_serve.url(QStringLiteral("/loop/train"), QStringLiteral("project=%1").arg(m_project)), "{}",
                      "Bearer ldo_not-the-token-of-this-backend")
                     .status,
                 401);

        // Label Studio holds the refreshed predictions of v1 for the unlabeled tasks, with scores,
        // and the project shows that version.
        QTRY_COMPARE_WITH_TIMEOUT(status().value(QStringLiteral("prediction_refresh")).toObject().value(QStringLiteral("state")).toString(),
                                  QStringLiteral("done"), 60000);
        const QJsonObject refresh = status().value(QStringLiteral("prediction_refresh")).toObject();
        QCOMPARE(refresh.value(QStringLiteral("created")).toInt(), refresh.value(QStringLiteral("sent")).toInt());
        QVERIFY(refresh.value(QStringLiteral("sent")).toInt() >= kTasks - m_annotated - 5);
        const auto task = lsCall(m_client, "GET", QStringLiteral("/api/tasks/%1/").arg(m_tasks.last()));
        QVERIFY(task.is_object() && task.contains("predictions"));
        bool found = false;
        for (const auto &p : task["predictions"]) {
            if (p.value("model_version", std::string()) != "loopdeck-v1")
                continue;
            found = true;
            const double score = p.value("score", -1.0);
            QVERIFY2(score > 0.0 && score <= 1.0, qPrintable(QString::number(score)));
            const std::string choice = p["result"][0]["value"]["choices"][0].get<std::string>();
            QVERIFY(choice == "Positive" || choice == "Negative");
        }
        QVERIFY2(found, "the last task has no prediction of loopdeck-v1");
        const auto project = lsCall(m_client, "GET", QStringLiteral("/api/projects/%1/").arg(m_project));
        QCOMPARE(QString::fromStdString(project.value("model_version", std::string())), QStringLiteral("loopdeck-v1"));
    }

    void startTrainingInLabelStudioTrainsAVersion()
    {
        QVERIFY(m_mlBackend > 0);
        const auto answer = lsCall(m_client, "POST", QStringLiteral("/api/ml/%1/train").arg(m_mlBackend), {}, QByteArrayLiteral("{}"));
        Q_UNUSED(answer);
        QTRY_COMPARE_WITH_TIMEOUT(status().value(QStringLiteral("active_version")).toString(), QStringLiteral("loopdeck-v2"), 60000);
        const Http versions = m_serve.call("GET", QStringLiteral("/versions"), QStringLiteral("project=%1").arg(m_project));
        const QJsonArray details = versions.json.value(QStringLiteral("details")).toArray();
        QCOMPARE(details.size(), 2);
        QCOMPARE(details.last().toObject().value(QStringLiteral("trigger")).toString(), QStringLiteral("start_training"));
    }

    void deletedAnnotationLeavesTheStore()
    {
        const int before = status().value(QStringLiteral("annotations")).toInt();
        const auto task = lsCall(m_client, "GET", QStringLiteral("/api/tasks/%1/").arg(m_tasks.first()));
        QVERIFY(task.is_object() && !task["annotations"].empty());
        const int annotationId = task["annotations"][0]["id"].get<int>();
        auto [body, error] = syncWait<QByteArray>(
            [&](auto cb) { m_client.sendRaw("DELETE", QStringLiteral("/api/annotations/%1/").arg(annotationId), {}, {}, cb); });
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        QTRY_COMPARE_WITH_TIMEOUT(status().value(QStringLiteral("annotations")).toInt(), before - 1, 20000);
    }

    void reconcileRecoversWhatWasMissedWhileStopped()
    {
        const int before = status().value(QStringLiteral("annotations")).toInt();
        stopServe();
        QVERIFY(annotate(7)); // webhooks to a stopped backend are lost (Label Studio never retries)
        QVERIFY(startServe());
        QTRY_COMPARE_WITH_TIMEOUT(status().value(QStringLiteral("annotations")).toInt(), before + 7, 60000);
        // The versions and the active one survived the restart.
        QCOMPARE(status().value(QStringLiteral("active_version")).toString(), QStringLiteral("loopdeck-v2"));
        QVERIFY(!status().value(QStringLiteral("last_reconcile")).isNull());
    }
};

QTEST_GUILESS_MAIN(TestLoop)
#include "tst_loop.moc"
