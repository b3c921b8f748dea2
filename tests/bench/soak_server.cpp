// Soak-test server: a BackendServer (2 HTTP threads) in this process serving project 1 with a
// real model, and a hot model swap every 10 s (installModel of the other of two trained
// models as the next version, as the loop's activate does). Driven by tests/bench/soak.py,
// which sends the load and reads this process's RSS.
//   bench_soak_server PORT SECONDS
// Prints one JSON line at the end: swaps done, last version, the server's /metrics document.
#include "core/backend/backendserver.h"
#include "core/backend/predictionservice.h"
#include "core/model/textclassifier.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QJsonObject>
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
} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc < 3)
        qFatal("usage: bench_soak_server PORT SECONDS");
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
