// The embedded ML backend with a real Label Studio 1.23.2: registration (Label Studio calls
// /health and /setup), predictions fetched through the retrieve_tasks_predictions action and
// stored with our model_version and scores, /predict triggered by opening a task, and Basic
// auth accepted with the right password and refused with a wrong one.
#include "lsfixture.h"

#include "backend/backendserver.h"
#include "backend/predictionservice.h"
#include "model/textclassifier.h"

#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

using namespace loopdeck;
using namespace loopdeck::labelstudio;
using loopdeck::testing::LsFixture;

namespace {

const QStringList kTexts = {
    QStringLiteral("I love this, wonderful and great"), QStringLiteral("terrible, awful, I hate it"),
    QStringLiteral("great product, love it"),          QStringLiteral("awful service, hate this"),
    QStringLiteral("wonderful, really great"),          QStringLiteral("hate it, terrible experience"),
    QStringLiteral("what a great day"),                 QStringLiteral("such an awful mess"),
};
const QStringList kLabels = {
    QStringLiteral("Positive"), QStringLiteral("Negative"), QStringLiteral("Positive"), QStringLiteral("Negative"),
};

std::shared_ptr<const model::TextClassifier> trainOnSeed()
{
    QList<model::Example> examples;
    for (int i = 0; i < kLabels.size(); ++i)
        examples.append({kTexts[i], {kLabels[i]}});
    QString error;
    auto m = model::TextClassifier::train(examples, {}, &error);
    if (!m)
        qFatal("training failed: %s", qPrintable(error));
    return m;
}

nlohmann::json getJson(LabelStudioClient &client, const QString &path, const QUrlQuery &query = {})
{
    auto [body, error] = syncWait<QByteArray>([&](auto cb) { client.sendRaw("GET", path, query, {}, cb); });
    if (error.isError())
        qFatal("GET %s failed: %s", qPrintable(path), qPrintable(error.message()));
    return nlohmann::json::parse(body.toStdString());
}

} // namespace

class TestMlBackend final : public QObject
{
    Q_OBJECT
    LsFixture m_ls;
    QTemporaryDir m_data;

    backend::ServerConfig config(const QString &user = {}, const QString &password = {})
    {
        backend::ServerConfig c;
        c.host = QStringLiteral("127.0.0.1");
        c.port = backend::BackendServer::suggestFreePort(c.host, 19090);
        c.dataDir = m_data.path();
        c.basicAuthUser = user;
        c.basicAuthPassword = password;
        return c;
    }

    static QString urlOf(const backend::BackendServer &server)
    {
        return QStringLiteral("http://127.0.0.1:%1").arg(server.port());
    }

private Q_SLOTS:
    void initTestCase() { LOOPDECK_REQUIRE_FIXTURE(m_ls); }

    void registerPredictAndStore()
    {
        LabelStudioClient client;
        client.setServer(m_ls.url, m_ls.token);
        QString error;
        const auto seeded = testing::seedProject(client, QStringLiteral("ML backend"), kTexts, kLabels,
                                                 testing::sentimentConfig(), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        // Label Studio names the project to the backend as "<id>.<created_at>" (its key).
        const QString projectId = testing::keyOf(seeded.project);

        backend::BackendServer server;
        QSignalSpy setups(&server, &backend::BackendServer::projectSetup);
        QVERIFY2(server.start(config(), &error), qPrintable(error));

        MlBackendRegistration reg;
        reg.url = urlOf(server);
        reg.project = seeded.project.id;
        auto [registered, e1] = syncWait<MlBackend>([&](auto cb) { client.registerMlBackend(reg, cb); });
        QVERIFY2(!e1.isError(), qPrintable(e1.message()));
        QCOMPARE(registered.state, QStringLiteral("CO"));
        QTRY_VERIFY(setups.count() >= 1); // Label Studio called /setup with the project's config
        QCOMPARE(setups.first().at(0).toString(), projectId);
        QVERIFY(server.predictionService()->labelConfigXml(projectId).contains(QLatin1String("sentiment")));

        // Registering again reuses the registration instead of adding a second backend.
        auto [again, e2] = syncWait<MlBackend>([&](auto cb) { client.registerMlBackend(reg, cb); });
        QVERIFY(!e2.isError());
        QCOMPARE(again.id, registered.id);
        auto [backends, e3] = syncWait<QList<MlBackend>>([&](auto cb) { client.fetchMlBackends(seeded.project.id, cb); });
        QVERIFY(!e3.isError());
        QCOMPARE(backends.size(), 1);

        // Before any model: asking for predictions stores none.
        auto [r0, e4] = syncWait<QByteArray>([&](auto cb) { client.retrievePredictions(seeded.project.id, seeded.taskIds, cb); });
        QVERIFY2(!e4.isError(), qPrintable(e4.message()));
        QUrlQuery byProject;
        byProject.addQueryItem(QStringLiteral("project"), QString::number(seeded.project.id));
        QCOMPARE(getJson(client, QStringLiteral("/api/predictions/"), byProject).size(), size_t(0));

        // Train and publish version 1; Label Studio picks the new model_version up at its next /setup.
        QString publishError;
        const auto info = server.predictionService()->publish(projectId, trainOnSeed(), {QStringLiteral("sentiment"), {}, 4},
                                                              &publishError);
        QVERIFY2(info.has_value(), qPrintable(publishError));
        const QString version = server.predictionService()->modelVersion(projectId);
        QCOMPARE(version, QStringLiteral("loopdeck-v1"));

        const QList<int> unlabeled = seeded.taskIds.mid(kLabels.size(), 3);
        auto [r1, e5] = syncWait<QByteArray>([&](auto cb) { client.retrievePredictions(seeded.project.id, unlabeled, cb); });
        QVERIFY2(!e5.isError(), qPrintable(e5.message()));
        const auto predictions = getJson(client, QStringLiteral("/api/predictions/"), byProject);
        QCOMPARE(predictions.size(), size_t(unlabeled.size()));
        for (const auto &p : predictions) {
            QCOMPARE(QString::fromStdString(p.at("model_version").get<std::string>()), version);
            const double score = p.at("score").get<double>();
            QVERIFY(score > 0.0 && score <= 1.0);
            const auto &result = p.at("result").at(0);
            QCOMPARE(result.at("from_name").get<std::string>(), std::string("sentiment"));
            QCOMPARE(result.at("type").get<std::string>(), std::string("choices"));
            const int task = p.at("task").get<int>();
            const std::string choice = result.at("value").at("choices").at(0).get<std::string>();
            // the model learned the seed: "great" texts positive, "awful"/"hate" texts negative
            const QString text = kTexts[seeded.taskIds.indexOf(task)];
            const bool positive = text.contains(QLatin1String("great")) || text.contains(QLatin1String("wonderful"));
            QCOMPARE(choice, std::string(positive ? "Positive" : "Negative"));
        }

        // Opening a task that has no prediction makes Label Studio call /predict for it.
        const int lastTask = seeded.taskIds.constLast();
        const auto predictCount = [&server] {
            return server.metricsJson().value(QStringLiteral("routes")).toObject().value(QStringLiteral("POST /predict"))
                .toObject().value(QStringLiteral("count")).toDouble();
        };
        const double predictsBefore = predictCount();
        const double predictionsBefore = server.metricsJson().value(QStringLiteral("predictions_total")).toDouble();
        const auto task = getJson(client, QStringLiteral("/api/tasks/%1/").arg(lastTask));
        QVERIFY(task.at("predictions").size() >= 1);
        QCOMPARE(QString::fromStdString(task.at("predictions").at(0).at("model_version").get<std::string>()), version);
        // It was really our /predict that answered, for exactly this one task.
        QCOMPARE(predictCount(), predictsBefore + 1);
        QCOMPARE(server.metricsJson().value(QStringLiteral("predictions_total")).toDouble(), predictionsBefore + 1);
        server.stop();
    }

    void basicAuth()
    {
        LabelStudioClient client;
        client.setServer(m_ls.url, m_ls.token);
        QString error;
        const auto seeded = testing::seedProject(client, QStringLiteral("ML backend auth"), kTexts.mid(0, 2), {},
                                                 testing::sentimentConfig(), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        backend::BackendServer server;
        QVERIFY2(server.start(config(QStringLiteral("labelstudio"), QStringLiteral("s3cret-pass")), &error), qPrintable(error));

        MlBackendRegistration reg;
        reg.url = urlOf(server);
        reg.project = seeded.project.id;
        reg.basicAuthUser = QStringLiteral("labelstudio");
        reg.basicAuthPassword = QStringLiteral("wrong-pass");
        auto [refused, e1] = syncWait<MlBackend>([&](auto cb) { client.registerMlBackend(reg, cb); });
        QVERIFY(e1.isError());
        QCOMPARE(e1.httpStatus, 400); // Label Studio refuses a backend it cannot log in to
        QVERIFY2(!e1.message().isEmpty(), qPrintable(e1.message()));

        reg.basicAuthPassword = QStringLiteral("s3cret-pass");
        auto [accepted, e2] = syncWait<MlBackend>([&](auto cb) { client.registerMlBackend(reg, cb); });
        QVERIFY2(!e2.isError(), qPrintable(e2.message()));
        QCOMPARE(accepted.state, QStringLiteral("CO"));
        QCOMPARE(accepted.authMethod, QStringLiteral("BASIC_AUTH"));
        server.stop();
    }
};

QTEST_GUILESS_MAIN(TestMlBackend)
#include "tst_mlbackend.moc"
