// PredictionService: no prediction before a model, per-project isolation, label-config
// handling, the model registry round trip, and hot swaps under concurrent predict calls.
#include "core/backend/modelregistry.h"
#include "core/backend/predictionservice.h"
#include "core/model/textclassifier.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>
#include <vector>

using loopdeck::backend::ModelRegistry;
using loopdeck::backend::NewModelVersion;
using loopdeck::backend::PredictionService;
using loopdeck::model::Example;
using loopdeck::model::TextClassifier;
using nlohmann::json;

namespace {

const QString kSentimentConfig = QStringLiteral(
    "<View><Text name=\"text\" value=\"$text\"/>"
    "<Choices name=\"sentiment\" toName=\"text\" choice=\"single\">"
    "<Choice value=\"Positive\"/><Choice value=\"Negative\"/></Choices></View>");

const QString kTopicConfig = QStringLiteral(
    "<View><Text name=\"body\" value=\"$body\"/>"
    "<Choices name=\"topic\" toName=\"body\" choice=\"single\">"
    "<Choice value=\"Sports\"/><Choice value=\"Cooking\"/></Choices></View>");

// A tiny sentiment model. inverted = the same words with the labels swapped, so a response
// tells which of the two models answered it.
std::shared_ptr<const TextClassifier> sentimentModel(bool inverted = false)
{
    const QString pos = inverted ? QStringLiteral("Negative") : QStringLiteral("Positive");
    const QString neg = inverted ? QStringLiteral("Positive") : QStringLiteral("Negative");
    QList<Example> examples;
    const char *good[] = {"good great excellent", "great movie, loved it", "excellent and good", "wonderful good fun",
                          "loved it great", "good good good"};
    const char *bad[] = {"bad awful terrible", "awful movie, hated it", "terrible and bad", "horrible bad boring",
                         "hated it awful", "bad bad bad"};
    for (const char *t : good)
        examples.append(Example{QString::fromUtf8(t), {pos}});
    for (const char *t : bad)
        examples.append(Example{QString::fromUtf8(t), {neg}});
    QString error;
    auto model = TextClassifier::train(examples, {}, &error);
    if (!model)
        qFatal("cannot train the test model: %s", qPrintable(error));
    return model;
}

std::shared_ptr<const TextClassifier> topicModel()
{
    QList<Example> examples;
    const char *sports[] = {"football match goal", "the team won the match", "goal in the final minute", "tennis match"};
    const char *cooking[] = {"bake the bread", "add salt to the soup", "oven recipe bake", "boil pasta with salt"};
    for (const char *t : sports)
        examples.append(Example{QString::fromUtf8(t), {QStringLiteral("Sports")}});
    for (const char *t : cooking)
        examples.append(Example{QString::fromUtf8(t), {QStringLiteral("Cooking")}});
    QString error;
    auto model = TextClassifier::train(examples, {}, &error);
    if (!model)
        qFatal("cannot train the test model: %s", qPrintable(error));
    return model;
}

json textTasks(std::initializer_list<const char *> texts, const char *key = "text")
{
    json tasks = json::array();
    int id = 1;
    for (const char *t : texts)
        tasks.push_back(json{{"id", id++}, {"data", json{{key, t}}}});
    return tasks;
}

} // namespace

class TestPredictionService final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void projectIdIsThePartBeforeTheFirstDot();
    void noPredictionBeforeAModelExists();
    void predictsWithTheInstalledModel();
    void projectsAreIsolated();
    void badTasksAreRefusedOnlyWhenAModelWouldReadThem();
    void labelConfigFromPredictIsAdopted();
    void registryPublishActivateRollback();
    void registryRefusesUnsafeProjectIds();
    void hotSwapUnderConcurrentPredict();
};

void TestPredictionService::projectIdIsThePartBeforeTheFirstDot()
{
    // The key is Label Studio's whole name of the project: two servers' project 3 differ.
    QCOMPARE(PredictionService::projectIdOf(QStringLiteral("3.1700000000")), QStringLiteral("3.1700000000"));
    QCOMPARE(PredictionService::projectIdOf(QStringLiteral(" 12 ")), QStringLiteral("12"));
    QCOMPARE(PredictionService::projectIdOf(QStringLiteral("1.2.3")), QStringLiteral("1.2"));
    QCOMPARE(PredictionService::projectIdOf(QString()), QString());
    QVERIFY(PredictionService::projectIdOf(QStringLiteral("3.1700000000")) != PredictionService::projectIdOf(QStringLiteral("3.1700000500")));
    QCOMPARE(PredictionService::versionName(3), QStringLiteral("loopdeck-v3"));
}

void TestPredictionService::noPredictionBeforeAModelExists()
{
    PredictionService service;
    const auto setup = service.setup(QStringLiteral("1"), kSentimentConfig);
    QVERIFY(setup.servable);
    QCOMPARE(setup.modelVersion, QStringLiteral("loopdeck-v0"));
    const auto out = service.predict(QStringLiteral("1"), kSentimentConfig, textTasks({"good", "bad"}));
    QCOMPARE(out.status, 200);
    QCOMPARE(out.predicted, 0);
    QVERIFY(out.body["results"].is_array());
    QVERIFY(out.body["results"].empty()); // LS saves nothing for an empty list
    QCOMPARE(service.activeVersion(QStringLiteral("1")), 0);
}

void TestPredictionService::predictsWithTheInstalledModel()
{
    PredictionService service;
    service.setup(QStringLiteral("1"), kSentimentConfig);
    service.installModel(QStringLiteral("1"), sentimentModel(), 4);
    QCOMPARE(service.modelVersion(QStringLiteral("1")), QStringLiteral("loopdeck-v4"));
    QCOMPARE(service.setup(QStringLiteral("1"), kSentimentConfig).modelVersion, QStringLiteral("loopdeck-v4"));

    const auto out = service.predict(QStringLiteral("1"), QString(), textTasks({"good great", "awful bad", "excellent"}));
    QCOMPARE(out.status, 200);
    QCOMPARE(out.predicted, 3);
    const json &results = out.body["results"];
    QCOMPARE(results.size(), std::size_t(3));
    const char *expected[] = {"Positive", "Negative", "Positive"};
    for (std::size_t i = 0; i < 3; ++i) {
        const json &item = results[i];
        QCOMPARE(item["model_version"].get<std::string>(), std::string("loopdeck-v4"));
        QVERIFY(item["score"].is_number());
        QCOMPARE(item["result"].size(), std::size_t(1));
        const json &region = item["result"][0];
        QCOMPARE(region["from_name"].get<std::string>(), std::string("sentiment"));
        QCOMPARE(region["to_name"].get<std::string>(), std::string("text"));
        QCOMPARE(region["type"].get<std::string>(), std::string("choices"));
        QCOMPARE(region["value"]["choices"][0].get<std::string>(), std::string(expected[i]));
        QVERIFY(region["score"].get<double>() > 0.5);
        QVERIFY(region["score"].get<double>() <= 1.0);
    }
}

void TestPredictionService::projectsAreIsolated()
{
    PredictionService service;
    service.setup(QStringLiteral("1"), kSentimentConfig);
    service.setup(QStringLiteral("2"), kTopicConfig);
    service.setup(QStringLiteral("3"), kSentimentConfig);
    service.installModel(QStringLiteral("1"), sentimentModel(), 1);
    service.installModel(QStringLiteral("2"), topicModel(), 7);

    const auto one = service.predict(QStringLiteral("1"), QString(), textTasks({"good"}));
    QCOMPARE(one.body["results"][0]["result"][0]["value"]["choices"][0].get<std::string>(), std::string("Positive"));
    const auto two = service.predict(QStringLiteral("2"), QString(), textTasks({"goal in the match"}, "body"));
    QCOMPARE(two.status, 200);
    QCOMPARE(two.body["results"][0]["result"][0]["from_name"].get<std::string>(), std::string("topic"));
    QCOMPARE(two.body["results"][0]["result"][0]["value"]["choices"][0].get<std::string>(), std::string("Sports"));
    QCOMPARE(two.body["results"][0]["model_version"].get<std::string>(), std::string("loopdeck-v7"));
    // Project 3 has the same config but no model: nothing.
    const auto three = service.predict(QStringLiteral("3"), QString(), textTasks({"good"}));
    QVERIFY(three.body["results"].empty());
    QCOMPARE(service.activeModelVersions().size(), 2);
    QCOMPARE(service.activeModelVersions().value(QStringLiteral("2")), QStringLiteral("loopdeck-v7"));
}

void TestPredictionService::badTasksAreRefusedOnlyWhenAModelWouldReadThem()
{
    PredictionService service;
    // Without a model a task without data is harmless (conformance test sends {"id": 1}).
    QCOMPARE(service.predict(QStringLiteral("1"), kSentimentConfig, json::array({json{{"id", 1}}})).status, 200);
    QCOMPARE(service.predict(QStringLiteral("1"), kSentimentConfig, json::array({42})).status, 400);
    QCOMPARE(service.predict(QStringLiteral("1"), kSentimentConfig, json("tasks")).status, 400);

    service.installModel(QStringLiteral("1"), sentimentModel(), 1);
    auto out = service.predict(QStringLiteral("1"), kSentimentConfig, json::array({json{{"id", 5}}}));
    QCOMPARE(out.status, 400);
    QVERIFY2(out.error.contains(QLatin1String("\"data\"")) && out.error.contains(QLatin1String("id 5")), qPrintable(out.error));
    out = service.predict(QStringLiteral("1"), kSentimentConfig, json::array({json{{"id", 6}, {"data", json{{"text", 12}}}}}));
    QCOMPARE(out.status, 400);
    QVERIFY2(out.error.contains(QLatin1String("data.text")) && out.error.contains(QLatin1String("a number")), qPrintable(out.error));
    out = service.predict(QStringLiteral("1"), kSentimentConfig, json::array({json{{"data", json{{"other", "x"}}}}}));
    QCOMPARE(out.status, 400);
    QVERIFY2(out.error.contains(QLatin1String("missing")), qPrintable(out.error));
    out = service.predict(QStringLiteral("1"), kSentimentConfig, json::array({json{{"data", "text"}}}));
    QCOMPARE(out.status, 400);
    // An empty list is fine.
    out = service.predict(QStringLiteral("1"), kSentimentConfig, json::array());
    QCOMPARE(out.status, 200);
    QVERIFY(out.body["results"].empty());
}

void TestPredictionService::labelConfigFromPredictIsAdopted()
{
    PredictionService service;
    service.installModel(QStringLiteral("1"), sentimentModel(), 2);
    // Never set up: the label config arrives with /predict.
    auto out = service.predict(QStringLiteral("1"), kSentimentConfig, textTasks({"good great"}));
    QCOMPARE(out.status, 200);
    QCOMPARE(out.body["results"][0]["result"][0]["value"]["choices"][0].get<std::string>(), std::string("Positive"));
    QCOMPARE(service.labelConfigXml(QStringLiteral("1")), kSentimentConfig);

    // The project replaced "Positive" by "Neutral": the best label the config still allows is chosen.
    QString onlyNegative = kSentimentConfig;
    onlyNegative.replace(QLatin1String("<Choice value=\"Positive\"/>"), QLatin1String("<Choice value=\"Neutral\"/>"));
    out = service.predict(QStringLiteral("1"), onlyNegative, textTasks({"good great"}));
    QCOMPARE(out.status, 200);
    QCOMPARE(out.body["results"][0]["result"][0]["value"]["choices"][0].get<std::string>(), std::string("Negative"));

    // A config with nothing the model can fill: no predictions, honestly empty.
    out = service.predict(QStringLiteral("1"), QStringLiteral("<View><Image name=\"i\" value=\"$img\"/></View>"),
                          textTasks({"good"}));
    QCOMPARE(out.status, 200);
    QVERIFY(out.body["results"].empty());
}

void TestPredictionService::registryPublishActivateRollback()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    auto registry = std::make_shared<ModelRegistry>(dir.path());
    PredictionService service(registry);
    service.setup(QStringLiteral("5"), kSentimentConfig);

    QString error;
    NewModelVersion meta;
    meta.target = QStringLiteral("sentiment");
    meta.metrics = QJsonObject{{QStringLiteral("accuracy"), 0.9}};
    meta.trainingExamples = 12;
    const auto v1 = service.publish(QStringLiteral("5"), sentimentModel(), meta, &error);
    QVERIFY2(v1, qPrintable(error));
    QCOMPARE(v1->version, 1);
    QVERIFY(QFile::exists(dir.filePath(QStringLiteral("models/5/v1.ldm"))));
    QVERIFY(QFile::exists(dir.filePath(QStringLiteral("models/5/v1.json"))));
    const auto v2 = service.publish(QStringLiteral("5"), sentimentModel(true), meta, &error);
    QVERIFY2(v2, qPrintable(error));
    QCOMPARE(v2->version, 2);
    QCOMPARE(service.modelVersion(QStringLiteral("5")), QStringLiteral("loopdeck-v2"));
    QCOMPARE(service.versionNames(QStringLiteral("5")), (QStringList{QStringLiteral("loopdeck-v1"), QStringLiteral("loopdeck-v2")}));
    auto out = service.predict(QStringLiteral("5"), QString(), textTasks({"good great"}));
    QCOMPARE(out.body["results"][0]["result"][0]["value"]["choices"][0].get<std::string>(), std::string("Negative"));

    // Sidecar contents.
    QFile sidecar(dir.filePath(QStringLiteral("models/5/v2.json")));
    QVERIFY(sidecar.open(QIODevice::ReadOnly));
    const QJsonObject side = QJsonDocument::fromJson(sidecar.readAll()).object();
    QCOMPARE(side.value(QStringLiteral("version")).toInt(), 2);
    QCOMPARE(side.value(QStringLiteral("training_examples")).toInt(), 12);
    QCOMPARE(side.value(QStringLiteral("metrics")).toObject().value(QStringLiteral("accuracy")).toDouble(), 0.9);
    QVERIFY(!side.value(QStringLiteral("created")).toString().isEmpty());

    // Roll back to v1, which is then what a fresh service loads from disk.
    const auto back = service.rollback(QStringLiteral("5"), QStringLiteral("sentiment"), &error);
    QVERIFY2(back, qPrintable(error));
    QCOMPARE(*back, 1);
    out = service.predict(QStringLiteral("5"), QString(), textTasks({"good great"}));
    QCOMPARE(out.body["results"][0]["result"][0]["value"]["choices"][0].get<std::string>(), std::string("Positive"));
    QCOMPARE(out.body["results"][0]["model_version"].get<std::string>(), std::string("loopdeck-v1"));
    QVERIFY(!service.rollback(QStringLiteral("5"), QStringLiteral("sentiment"), &error));
    QVERIFY(error.contains(QLatin1String("no version older")));

    PredictionService restarted(std::make_shared<ModelRegistry>(dir.path()));
    QStringList warnings;
    QCOMPARE(restarted.loadActiveFromRegistry(&warnings), 1);
    QVERIFY(warnings.isEmpty());
    QCOMPARE(restarted.modelVersion(QStringLiteral("5")), QStringLiteral("loopdeck-v1"));
    QVERIFY(restarted.activate(QStringLiteral("5"), 2, &error));
    QCOMPARE(restarted.modelVersion(QStringLiteral("5")), QStringLiteral("loopdeck-v2"));
    QVERIFY(!restarted.activate(QStringLiteral("5"), 9, &error));
    QVERIFY(error.contains(QLatin1String("no model version 9")));

    // A damaged model file is refused and the served model stays.
    QFile damaged(dir.filePath(QStringLiteral("models/5/v1.ldm")));
    QVERIFY(damaged.open(QIODevice::WriteOnly | QIODevice::Truncate));
    damaged.write("garbage");
    damaged.close();
    QVERIFY(!restarted.activate(QStringLiteral("5"), 1, &error));
    QCOMPARE(restarted.modelVersion(QStringLiteral("5")), QStringLiteral("loopdeck-v2"));
}

void TestPredictionService::registryRefusesUnsafeProjectIds()
{
    QTemporaryDir dir;
    ModelRegistry registry(dir.path());
    QVERIFY(!ModelRegistry::isValidProjectId(QStringLiteral("..")));
    QVERIFY(!ModelRegistry::isValidProjectId(QStringLiteral("a/b")));
    QVERIFY(!ModelRegistry::isValidProjectId(QString()));
    QVERIFY(ModelRegistry::isValidProjectId(QStringLiteral("42")));
    QString error;
    QVERIFY(!registry.addVersion(QStringLiteral("../x"), *sentimentModel(), {}, &error));
    QVERIFY(!error.isEmpty());
    QVERIFY(registry.versions(QStringLiteral("../x")).isEmpty());
}

void TestPredictionService::hotSwapUnderConcurrentPredict()
{
    // v(odd) says "good" is Positive, v(even) says it is Negative. Every answer must match the
    // model_version it reports: a request sees one whole model, never a mix.
    PredictionService service;
    service.setup(QStringLiteral("1"), kSentimentConfig);
    service.setup(QStringLiteral("2"), kTopicConfig);
    const auto normal = sentimentModel(false);
    const auto inverted = sentimentModel(true);
    service.installModel(QStringLiteral("1"), normal, 1);
    service.installModel(QStringLiteral("2"), topicModel(), 1);

    std::atomic<bool> stop{false};
    std::atomic<int> failures{0}, served{0}, mismatches{0}, otherProject{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            const json tasks = textTasks({"good great", "excellent good"});
            const json topicTasks = textTasks({"the match goal"}, "body");
            while (!stop.load()) {
                const auto out = service.predict(QStringLiteral("1"), QString(), tasks);
                if (out.status != 200 || out.body["results"].size() != 2) {
                    ++failures;
                    continue;
                }
                for (const json &item : out.body["results"]) {
                    const std::string version = item["model_version"].get<std::string>();
                    const int n = std::stoi(version.substr(10));
                    const std::string label = item["result"][0]["value"]["choices"][0].get<std::string>();
                    const std::string expected = n % 2 ? "Positive" : "Negative";
                    if (label != expected)
                        ++mismatches;
                }
                ++served;
                if (t == 0) {
                    const auto other = service.predict(QStringLiteral("2"), QString(), topicTasks);
                    if (other.status != 200
                        || other.body["results"][0]["result"][0]["value"]["choices"][0].get<std::string>() != "Sports")
                        ++otherProject;
                }
            }
        });
    }
    for (int v = 2; v <= 400; ++v) {
        service.installModel(QStringLiteral("1"), v % 2 ? normal : inverted, v);
        if (v % 50 == 0)
            QTest::qWait(1);
    }
    // Let every thread see the final model at least once.
    const int before = served.load();
    while (served.load() < before + 8)
        std::this_thread::yield();
    stop = true;
    for (auto &th : threads)
        th.join();
    QCOMPARE(failures.load(), 0);
    QCOMPARE(mismatches.load(), 0);
    QCOMPARE(otherProject.load(), 0);
    QVERIFY(served.load() > 8);
    QCOMPARE(service.modelVersion(QStringLiteral("1")), QStringLiteral("loopdeck-v400"));
    qInfo("%d concurrent predict calls during 399 swaps", served.load());
}

QTEST_GUILESS_MAIN(TestPredictionService)
#include "tst_predictionservice.moc"
