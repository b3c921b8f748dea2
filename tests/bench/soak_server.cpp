// Soak-test server, driven by tests/bench/soak.py (which sends the load and reads this
// process's RSS and open files).
//   bench_soak_server PORT SECONDS            a BackendServer (2 HTTP threads) serving project 1
//                                             with a real model, hot-swapped every 10 s
//                                             (installModel of the other of two trained models
//                                             as the next version, as activate does)
//   bench_soak_server PORT SECONDS engine     the real loop: a LoopEngine with its store in a
//                                             temporary directory and the default settings;
//                                             webhooks are stored, versions train on the
//                                             threshold and are swapped in by the engine
// Prints one JSON line at the end: swaps done, last version, the server's /metrics document
// (engine mode also: versions trained and kept, annotations stored).
#include "core/backend/backendserver.h"
#include "core/backend/predictionservice.h"
#include "core/loop/loopengine.h"
#include "core/model/textclassifier.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <array>
#include <cstdio>

using namespace loopdeck;

namespace {
std::shared_ptr<const model::TextClassifier> train(bool flipped)
{
    QList<model::Example> examples;
    const QString a = flipped ? QStringLiteral("Negative") : QStringLiteral("Positive");
    const QString b = flipped ? QStringLiteral("Positive") : QStringLiteral("Negative");
    for (const char *t : {"good great excellent", "great movie loved it", "excellent and good", "that is positive"})
        examples.append({QString::fromUtf8(t), {a}});
    for (const char *t : {"bad awful terrible", "awful movie hated it", "terrible and bad", "that is negative"})
        examples.append({QString::fromUtf8(t), {b}});
    QString error;
    auto m = model::TextClassifier::train(examples, {}, &error);
    if (!m)
        qFatal("training failed: %s", qPrintable(error));
    return m;
}
const char *const kConfig = "<View><Text name=\"text\" value=\"$text\"/><Choices name=\"sentiment\" toName=\"text\">"
                            "<Choice value=\"Positive\"/><Choice value=\"Negative\"/></Choices></View>";
// Label Studio's name of the soak's project 1 (created 2023-11-14T22:13:20Z), as soak.py sends it.
const QString kKey = QStringLiteral("1.1700000000");

// The real loop under the soak: webhooks go into the store, the threshold trains versions and
// the engine activates them while /predict is served.
int runEngine(QCoreApplication &app, quint16 port, int seconds)
{
    QTemporaryDir dir;
    loop::LoopEngine engine;
    if (const Status opened = engine.open(dir.path(), loop::LoopSettings()); !opened)
        qFatal("%s", qPrintable(opened.error()));
    engine.predictionService()->setLabelConfig(kKey, QString::fromLatin1(kConfig));
    int trained = 0, activated = 0, kept = 0;
    QObject::connect(&engine, &loop::LoopEngine::trainingFinished, &app,
                     [&](const QString &, int, bool on, double, double) { ++trained, ++(on ? activated : kept); });
    // A first version before the load starts, so every /predict has a model to answer with.
    for (int i = 1; i <= 60; ++i) {
        backend::WebhookEvent e;
        e.action = QStringLiteral("ANNOTATION_CREATED");
        e.projectId = kKey;
        const bool positive = i % 2 == 0;
        const QString text = positive ? QStringLiteral("good great excellent film %1").arg(i)
                                      : QStringLiteral("awful terrible bad service %1").arg(i);
        const QJsonObject region{{QStringLiteral("from_name"), QStringLiteral("sentiment")},
                                 {QStringLiteral("to_name"), QStringLiteral("text")},
                                 {QStringLiteral("type"), QStringLiteral("choices")},
                                 {QStringLiteral("value"),
                                  QJsonObject{{QStringLiteral("choices"),
                                               QJsonArray{positive ? QStringLiteral("Positive") : QStringLiteral("Negative")}}}}};
        e.payload = QJsonDocument(QJsonObject{
                                      {QStringLiteral("action"), e.action},
                                      {QStringLiteral("annotation"),
                                       QJsonObject{{QStringLiteral("id"), 900000000 + i},
                                                   {QStringLiteral("task"), 900000000 + i},
                                                   {QStringLiteral("result"), QJsonArray{region}},
                                                   {QStringLiteral("was_cancelled"), false},
                                                   {QStringLiteral("ground_truth"), false}}},
                                      {QStringLiteral("task"),
                                       QJsonObject{{QStringLiteral("id"), 900000000 + i},
                                                   {QStringLiteral("data"), QJsonObject{{QStringLiteral("text"), text}}}}},
                                      {QStringLiteral("project"), QJsonObject{{QStringLiteral("id"), 1}}}})
                        .toJson(QJsonDocument::Compact);
        (void)engine.ingestWebhook(e);
    }
    (void)engine.train(kKey);
    for (int waited = 0; engine.predictionService()->activeVersion(kKey) <= 0; waited += 10) {
        if (waited > 60000)
            qFatal("the first version did not train");
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
        QThread::msleep(10);
    }
    backend::ServerConfig config;
    config.port = port;
    config.threads = 2;
    config.dataDir = dir.path();
    QString error;
    if (!engine.startServer(config, &error))
        qFatal("%s", qPrintable(error));
    const int first = engine.predictionService()->activeVersion(kKey);
    QTimer::singleShot(seconds * 1000, &app, &QCoreApplication::quit);
    std::fprintf(stderr, "soak server (loop engine) listening on %u\n", unsigned(port));
    app.exec();
    const QJsonObject status = engine.status(kKey).body;
    QJsonObject out{{QStringLiteral("swaps"), engine.predictionService()->activeVersion(kKey) == first ? 0 : activated},
                    {QStringLiteral("last_version"), engine.predictionService()->activeVersion(kKey)},
                    {QStringLiteral("versions_trained"), trained},
                    {QStringLiteral("versions_activated"), activated},
                    {QStringLiteral("versions_kept_inactive"), kept},
                    {QStringLiteral("annotations_stored"), status.value(QStringLiteral("annotations"))},
                    {QStringLiteral("last_error"), status.value(QStringLiteral("last_error"))},
                    {QStringLiteral("metrics"), engine.server() ? engine.server()->metricsJson() : QJsonObject()}};
    engine.stopServer();
    std::printf("%s\n", QJsonDocument(out).toJson(QJsonDocument::Compact).constData());
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc < 3)
        qFatal("usage: bench_soak_server PORT SECONDS [engine]");
    if (argc > 3 && QByteArray(argv[3]) == "engine")
        return runEngine(app, quint16(QByteArray(argv[1]).toUInt()), QByteArray(argv[2]).toInt());
    const auto service = std::make_shared<backend::PredictionService>();
    const auto models = std::array{train(false), train(true)};
    int version = 1;
    service->installModel(QStringLiteral("1"), models[0], version, QStringLiteral("sentiment"));
    backend::BackendServer server(service);
    backend::ServerConfig config;
    config.port = quint16(QByteArray(argv[1]).toUInt());
    config.threads = 2;
    QString error;
    if (!server.start(config, &error))
        qFatal("%s", qPrintable(error));
    int swaps = 0;
    QTimer swap;
    QObject::connect(&swap, &QTimer::timeout, [&] {
        ++version;
        service->installModel(QStringLiteral("1"), models[version % 2 == 0 ? 1 : 0], version, QStringLiteral("sentiment"));
        ++swaps;
    });
    swap.start(10000);
    QTimer::singleShot(QByteArray(argv[2]).toInt() * 1000, &app, &QCoreApplication::quit);
    std::fprintf(stderr, "soak server listening on %u\n", unsigned(server.port()));
    app.exec();
    QJsonObject out{{QStringLiteral("swaps"), swaps}, {QStringLiteral("last_version"), version},
                    {QStringLiteral("metrics"), server.metricsJson()}};
    server.stop();
    std::printf("%s\n", QJsonDocument(out).toJson(QJsonDocument::Compact).constData());
    return 0;
}
