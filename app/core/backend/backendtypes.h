#pragma once
// Plain value types shared by the ML backend server, its HTTP layer and its users (GUI, loop,
// CLI): the server configuration, one served request for the live log, one received webhook.
#include <QByteArray>
#include <QDateTime>
#include <QMetaType>
#include <QString>
#include <QStringList>

namespace loopdeck::backend {

struct ServerConfig {
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 9090;
    // Label Studio's BASIC_AUTH method: both set = every request must carry them.
    QString basicAuthUser;
    QString basicAuthPassword;
    qint64 maxBodyBytes = 32ll * 1024 * 1024; // larger bodies get 413
    QString dataDir;                           // model registry lives in <dataDir>/models
    bool forceInsecureBind = false;            // allow a non-loopback address without a password
    int threads = 0;                           // HTTP threads; 0 = automatic
    // Browsers: a request carrying an Origin header gets 403 unless the origin is listed here
    // exactly ("http://localhost:8080"). Label Studio's server-side calls send no Origin.
    QStringList allowedOrigins;
    // DNS rebinding: a request is served only when its Host header (without the port) is an IP
    // literal, "localhost", this machine's own name, or one of these names (case-insensitive),
    // e.g. "host.docker.internal" when Label Studio runs in Docker. Others get 421. A request
    // without a Host header (HTTP/1.0) is served.
    QStringList allowedHosts;
    // When set, POST /webhook is also accepted with this value in the X-LoopDeck-Webhook-Secret
    // header (Label Studio's auto-created ML webhook cannot send Basic auth; its "headers" can).
    QString webhookSecret;
    // The operator token (operatortoken.h): /loop/* needs "Authorization: Bearer <it>", and
    // /versions shows its "details" only with it. Empty: the operator routes answer 401.
    QString operatorToken;
    int maxConnections = 64;                   // open connections over all threads; more get 503
    int maxJsonDepth = 64;                     // nesting of request JSON; deeper gets 413
    qint64 maxJsonElements = 500000;           // values in one request JSON; more gets 413

    bool hasAuth() const { return !basicAuthUser.isEmpty() || !basicAuthPassword.isEmpty(); }
};

struct RequestRecord {
    QDateTime when;     // UTC
    QString method;     // "POST"
    QString path;       // "/predict"
    int status = 0;
    double latencyMs = 0.0; // time spent in the handler (parse, predict, serialise)
    QString peer;       // client address
    int tasks = -1;     // tasks in a /predict request, -1 otherwise
};

struct WebhookEvent {
    QDateTime received;
    QString action;     // "ANNOTATION_CREATED", "START_TRAINING", ...
    QString projectId;  // from project.id (or annotation.project / task.project); may be empty
    QByteArray payload; // the body exactly as Label Studio sent it
};

// What the loop made of a webhook, for the answer: stored (2xx), a malformed event (400, the
// sender's mistake: nothing was stored) or a store failure (500: ours, Label Studio may retry).
struct WebhookOutcome {
    enum class Kind { Stored, BadEvent, StoreFailed };
    Kind kind = Kind::Stored;
    QString message;
    static WebhookOutcome stored() { return {}; }
    static WebhookOutcome badEvent(const QString &why) { return {Kind::BadEvent, why}; }
    static WebhookOutcome storeFailed(const QString &why) { return {Kind::StoreFailed, why}; }
};

} // namespace loopdeck::backend

Q_DECLARE_METATYPE(loopdeck::backend::RequestRecord)
Q_DECLARE_METATYPE(loopdeck::backend::WebhookEvent)
