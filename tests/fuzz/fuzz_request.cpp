// libFuzzer target for the ML backend's request path: raw bytes of one connection ->
// RequestFramer (framing + the header-time admission check) -> BackendApi::dispatch (routing,
// admission again, JSON parsing with limits, handlers, PredictionService with a real model).
// The first input byte picks the server configuration (open / Basic auth + webhook secret /
// an allowed origin) so every admission branch is reachable. Built with clang by
// tests/fuzz/run_fuzz.sh; seeds are real Label Studio requests (tests/fuzz/seeds).
#include "core/backend/backendapi.h"
#include "core/backend/predictionservice.h"
#include "core/backend/requestframer.h"
#include "core/backend/servermetrics.h"
#include "core/model/textclassifier.h"

#include <QUrlQuery>

#include <cstdint>
#include <cstdlib>
#include <memory>

using namespace loopdeck;
using namespace loopdeck::backend;

namespace {

const QString kConfig = QStringLiteral(
    "<View><Text name=\"text\" value=\"$text\"/><Choices name=\"sentiment\" toName=\"text\" choice=\"single\">"
    "<Choice value=\"Positive\"/><Choice value=\"Negative\"/></Choices>"
    "<Choices name=\"topic\" toName=\"text\" choice=\"multiple\"><Choice value=\"Tech\"/><Choice value=\"Food\"/></Choices></View>");

std::shared_ptr<const model::TextClassifier> model()
{
    static const auto m = [] {
        QList<model::Example> examples;
        for (const char *t : {"good great", "great fine", "lovely good"})
            examples.append({QString::fromUtf8(t), {QStringLiteral("Positive")}});
        for (const char *t : {"bad awful", "awful terrible", "terrible bad"})
            examples.append({QString::fromUtf8(t), {QStringLiteral("Negative")}});
        QString error;
        auto trained = model::TextClassifier::train(examples, {}, &error);
        if (!trained)
            std::abort();
        return trained;
    }();
    return m;
}

struct Backend {
    std::shared_ptr<PredictionService> service = std::make_shared<PredictionService>();
    std::shared_ptr<ServerMetrics> metrics = std::make_shared<ServerMetrics>();
    std::unique_ptr<BackendApi> api;

    explicit Backend(int variant)
    {
        service->installModel(QStringLiteral("1"), model(), 1);
        service->installModel(QStringLiteral("2"), model(), 2, QStringLiteral("topic"));
        service->setLabelConfig(QStringLiteral("1"), kConfig);
        service->setLabelConfig(QStringLiteral("2"), kConfig);
        ServerConfig config;
        config.maxBodyBytes = 256 * 1024;
        config.maxJsonElements = 20000;
        if (variant == 1) {
            config.basicAuthUser = QStringLiteral("ls");
            config.basicAuthPassword = QStringLiteral("pw");
            config.webhookSecret = QStringLiteral("s3cret");
        } else if (variant == 2) {
            config.allowedOrigins = {QStringLiteral("http://localhost:8080")};
        }
        ApiHooks hooks;
        hooks.webhookSink = [](const WebhookEvent &e) { return e.action == u"FAIL_SINK" ? WebhookOutcome::storeFailed(QStringLiteral("disk full")) : WebhookOutcome::stored(); };
        api = std::make_unique<BackendApi>(service, metrics, config, hooks, 1);
    }
};

Backend &backendFor(int variant)
{
    // Rebuilt now and then so that project state created by inputs does not pile up.
    static std::unique_ptr<Backend> backends[3];
    static unsigned runs = 0;
    if (++runs % 5000 == 0)
        for (auto &b : backends)
            b.reset();
    if (!backends[variant])
        backends[variant] = std::make_unique<Backend>(variant);
    return *backends[variant];
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    if (size == 0)
        return 0;
    const int variant = data[0] % 3;
    Backend &b = backendFor(variant);
    RequestFramer::Limits limits;
    limits.maxBodyBytes = b.api->config().maxBodyBytes;
    limits.maxHeaderBytes = 8 * 1024;
    const BackendApi &api = *b.api;
    RequestFramer framer(
        limits,
        [&api](const RequestHead &head) -> std::optional<FramingError> {
            const QString path = QString::fromUtf8(QByteArray::fromPercentEncoding(head.path()));
            if (auto refused = api.admit(head.method, path, head.headers))
                return FramingError(refused->status, QString(), *refused);
            return std::nullopt;
        },
        [&api](const RequestHead &head, const QByteArray &body) {
            ApiRequest r;
            r.method = head.method;
            r.path = QString::fromUtf8(QByteArray::fromPercentEncoding(head.path()));
            r.query = QUrlQuery(QString::fromUtf8(head.query()));
            r.authorization = head.header("authorization");
            r.headers = head.headers;
            r.body = body;
            const ApiResponse response = api.dispatch(r);
            if (response.status < 200 || response.status > 599 || response.body.isEmpty())
                std::abort(); // every answer is a JSON document with a real status
        },
        true);
    framer.feed(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    return 0;
}
