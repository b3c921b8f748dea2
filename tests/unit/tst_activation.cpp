// One active version per project, on disk and in memory: a storm of threads doing activate,
// rollback and publish on one project (as HTTP threads and the loop engine do) must leave the
// version that serves equal to the one active.json names, and a restart (a fresh registry and
// service on the same folder) must serve that same version. /predict keeps answering meanwhile.
// LOOPDECK_STORM_MS sets the storm's length (default 5000 ms), made of rounds in which the
// threads start together.
#include "core/backend/modelregistry.h"
#include "core/backend/predictionservice.h"
#include "core/model/textclassifier.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <atomic>
#include <barrier>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

using loopdeck::backend::ModelRegistry;
using loopdeck::backend::NewModelVersion;
using loopdeck::backend::PredictionService;
using loopdeck::model::Example;
using loopdeck::model::TextClassifier;
using nlohmann::json;

namespace {

const QString kProject = QStringLiteral("7");
const QString kTarget = QStringLiteral("sentiment");
const QString kConfig = QStringLiteral(
    "<View><Text name=\"text\" value=\"$text\"/>"
    "<Choices name=\"sentiment\" toName=\"text\" choice=\"single\">"
    "<Choice value=\"Positive\"/><Choice value=\"Negative\"/></Choices></View>");

std::shared_ptr<const TextClassifier> sentimentModel(bool inverted)
{
    const QString pos = inverted ? QStringLiteral("Negative") : QStringLiteral("Positive");
    const QString neg = inverted ? QStringLiteral("Positive") : QStringLiteral("Negative");
    QList<Example> examples;
    for (const char *t : {"good great excellent", "great movie, loved it", "excellent and good", "good good good"})
        examples.append(Example{QString::fromUtf8(t), {pos}});
    for (const char *t : {"bad awful terrible", "awful movie, hated it", "terrible and bad", "bad bad bad"})
        examples.append(Example{QString::fromUtf8(t), {neg}});
    QString error;
    auto model = TextClassifier::train(examples, {}, &error);
    if (!model)
        qFatal("cannot train the test model: %s", qPrintable(error));
    return model;
}

int stormMs()
{
    bool ok = false;
    const int ms = qEnvironmentVariableIntValue("LOOPDECK_STORM_MS", &ok);
    return ok && ms > 0 ? ms : 5000;
}

} // namespace

class TestActivation : public QObject
{
    Q_OBJECT

private slots:
    void stormKeepsDiskAndMemoryInAgreement();
};

void TestActivation::stormKeepsDiskAndMemoryInAgreement()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    auto registry = std::make_shared<ModelRegistry>(dir.path());
    PredictionService service(registry);
    service.setLabelConfig(kProject, kConfig);

    const std::shared_ptr<const TextClassifier> models[2] = {sentimentModel(false), sentimentModel(true)};
    NewModelVersion meta;
    meta.target = kTarget;
    QString error;
    for (int i = 0; i < 4; ++i)
        QVERIFY2(service.publish(kProject, models[i % 2], meta, &error), qPrintable(error));

    constexpr int kKeep = 6; // few versions: listing them stays cheap, operations overlap more
    constexpr int kThreads = 10; // more than the cores: threads are preempted mid-operation
    const int totalMs = stormMs();
    QElapsedTimer clock;
    clock.start();
    int rounds = 0;
    std::atomic<int> activations{0}, rollbacks{0}, publishes{0}, predictions{0}, badPredictions{0};
    // Rounds: the threads start together (a barrier) and each does one operation, so the
    // operations of a round overlap and finish close together; then every thread waits and
    // disk and memory must agree, also after a restart. The threads live across rounds (thread
    // creation is slow under ASan), and a reader calls predict all the time.
    QList<int> known;
    bool done = false;
    std::barrier sync(kThreads + 1);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            std::mt19937 rng(unsigned(t + 1));
            for (;;) {
                sync.arrive_and_wait(); // the round starts
                if (done)
                    return;
                const int pick = int(rng() % 100);
                QString why;
                if (pick < 40) {
                    if (service.activate(kProject, known.at(int(rng() % known.size())), &why))
                        ++activations;
                } else if (pick < 90) {
                    if (service.rollback(kProject, kTarget, &why))
                        ++rollbacks;
                } else if (service.publish(kProject, models[rng() % 2], meta, &why)) {
                    ++publishes;
                    // Retention, as the loop does after a training: at most kKeep versions, never
                    // the active or the newest one (removeVersion refuses the active one).
                    const auto all = registry->versions(kProject);
                    for (qsizetype i = 0; i + kKeep < all.size(); ++i)
                        registry->removeVersion(kProject, all.at(i).version, nullptr);
                }
                sync.arrive_and_wait(); // the round ends
            }
        });
    }
    // /predict must keep answering with a model while versions change under it.
    std::atomic<bool> stopReader{false};
    std::thread reader([&] {
        const json tasks = json::array({json{{"id", 1}, {"data", {{"text", "good great movie"}}}}});
        while (!stopReader.load()) {
            const auto out = service.predict(kProject, QString(), tasks);
            ++predictions;
            if (out.status != 200 || out.body.value("results", json::array()).size() != 1
                || out.body.value("model_version", std::string()) == "loopdeck-v0")
                ++badPredictions;
        }
    });
    QString failure;
    while (failure.isEmpty() && clock.elapsed() < totalMs) {
        ++rounds;
        known.clear();
        for (const auto &info : registry->versions(kProject))
            known << info.version;
        sync.arrive_and_wait();
        sync.arrive_and_wait();

        const int onDisk = registry->activeVersions(kProject).value(kTarget, 0);
        const int serving = service.activeVersion(kProject);
        if (onDisk <= 0 || serving != onDisk || service.activeTargets(kProject).value(kTarget) != onDisk) {
            failure = QStringLiteral("round %1: v%2 serves, active.json names v%3").arg(rounds).arg(serving).arg(onDisk);
            break;
        }
        // A restart reads active.json: it must serve what the first service served.
        auto freshRegistry = std::make_shared<ModelRegistry>(dir.path());
        PredictionService fresh(freshRegistry);
        QStringList warnings;
        if (fresh.loadActiveFromRegistry(&warnings) != 1 || !warnings.isEmpty())
            failure = QStringLiteral("round %1: the restart loaded no model (%2)").arg(rounds).arg(warnings.join(QLatin1Char(' ')));
        else if (fresh.activeVersion(kProject) != serving)
            failure = QStringLiteral("round %1: after a restart v%2 serves, before it v%3")
                          .arg(rounds)
                          .arg(fresh.activeVersion(kProject))
                          .arg(serving);
    }
    done = true;
    sync.arrive_and_wait();
    for (std::thread &t : threads)
        t.join();
    stopReader = true;
    reader.join();
    QVERIFY2(failure.isEmpty(), qPrintable(failure));
    qInfo("%d rounds in %lld ms: %d activations, %d rollbacks, %d publishes, %d predictions", rounds, clock.elapsed(),
          activations.load(), rollbacks.load(), publishes.load(), predictions.load());
    QVERIFY(activations > 0);
    QVERIFY(rollbacks > 0);
    QVERIFY(publishes > 0);
    QVERIFY(predictions > 0);
    QCOMPARE(badPredictions.load(), 0);
}

QTEST_GUILESS_MAIN(TestActivation)
#include "tst_activation.moc"
