#pragma once
// The ML backend protocol without the HTTP plumbing: takes a parsed request for one route and
// returns status + JSON body. Handlers are thin: parse and validate the JSON, delegate to
// PredictionService, shape the answer the way Label Studio reads it. Every answer is JSON;
// every failure is {"error": "<sentence>", "status": N}.
// Every request first passes admit(), whatever its route (so routes added later inherit it):
// a Host header naming none of this backend's hosts (DNS rebinding) -> 421, an Origin not on
// the allow-list -> 403, missing/wrong Basic auth (or webhook secret) -> 401,
// a POST whose Content-Type is not application/json -> 415. HttpWorker also calls admit() as
// soon as a request's headers arrive, before its body is read. Request JSON is parsed with a
// nesting-depth and element-count limit (413), and an allocation failure answers 503.
// Called by the HTTP worker threads of BackendServer, concurrently. Thread-safe.
#include "core/backend/backendtypes.h"

#include <QByteArray>
#include <QHostAddress>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>
#include <QUrlQuery>

#include <functional>
#include <memory>
#include <optional>

namespace loopdeck::backend {

class LoopControl;
class LoopEvents;
struct LoopReply;
class PredictionService;
class ServerMetrics;
struct SetupOutcome;

enum class Route { Root, Health, Ready, Setup, Predict, Webhook, Versions, Metrics, LoopStatus, LoopTrain, LoopActivate, LoopRollback, LoopCancel, LoopSettings };

struct RouteSpec {
    Route route;
    const char *method; // "GET" / "POST"
    const char *path;   // "/predict"
};
// Every route the backend answers, in a fixed order.
const QList<RouteSpec> &allRoutes();
QString routeKey(const RouteSpec &spec); // "POST /predict"

using HeaderList = QList<QPair<QByteArray, QByteArray>>;

struct ApiRequest {
    QByteArray method;        // "GET", "POST", ...
    QString path;             // as received, e.g. "/predict"
    QUrlQuery query;
    QByteArray authorization; // the Authorization header
    HeaderList headers;       // every header as received (Authorization included)
    QByteArray body;
    QString peer;
};

struct ApiResponse {
    int status = 200;
    QByteArray body; // JSON
    QList<QPair<QByteArray, QByteArray>> headers;
    int tasks = -1;  // tasks in a /predict request (for the log)
    int predictions = 0;
};

struct ApiHooks {
    // Called on the server thread for every valid webhook before it is answered. Return an
    // empty string when the event is safely kept, or a sentence saying why not (-> 500).
    std::function<WebhookOutcome(const WebhookEvent &)> webhookSink;
    // Called on the server thread after a valid webhook / setup (queue to the GUI from there).
    std::function<void(const WebhookEvent &)> webhookReceived;
    std::function<void(const QString &projectId, const QString &hostname, const SetupOutcome &)> setupDone;
    // The loop behind /loop/* and /versions "details" (null: those routes answer 503).
    std::shared_ptr<LoopControl> loop;
    // The loop's events behind GET /loop/events (null: it answers 503).
    std::shared_ptr<LoopEvents> events;
};

class BackendApi final
{
public:
    BackendApi(std::shared_ptr<PredictionService> service, std::shared_ptr<ServerMetrics> metrics,
               const ServerConfig &config, ApiHooks hooks, int threads);

    // The header sent by webhooks that carry the shared secret (ServerConfig::webhookSecret).
    static constexpr const char *kWebhookSecretHeader = "X-LoopDeck-Webhook-Secret";

    // The checks every request passes before any route sees it (Origin, auth, Content-Type).
    // nullopt = admitted; else the refusal to send. Needs only the request line and headers.
    std::optional<ApiResponse> admit(const QByteArray &method, const QString &path, const HeaderList &headers) const;
    // Admits, checks the body size, then answers the route. Never throws: an allocation
    // failure answers 503, any other exception 500.
    ApiResponse handle(Route route, const ApiRequest &request) const;
    // Admits, then routes by method and path (forgiving "//predict", "/predict/"): answers the
    // route, else 405 (known path, other method) or 404. Never throws.
    ApiResponse dispatch(const ApiRequest &request, Route *routed = nullptr) const;
    ApiResponse handleUnmatched(const ApiRequest &request, Route *routed = nullptr) const { return dispatch(request, routed); }

    static ApiResponse error(int status, const QString &message);
    static ApiResponse respond(int status, const QByteArray &body);
    static QString normalizePath(const QString &path);

    bool checkAuth(const QByteArray &authorization) const;
    // /loop and /loop/... (after normalizePath): the routes that need the operator token.
    static bool isOperatorPath(const QString &normalizedPath);
    // 401 with the sentence and a Bearer challenge.
    static ApiResponse operatorRefusal(const QString &message);
    // True when a Host header value (port ignored) is an IP literal, localhost, this machine's
    // name or one of ServerConfig::allowedHosts.
    bool isAllowedHost(const QByteArray &hostHeader) const;
    const ServerConfig &config() const { return m_config; }
    const std::shared_ptr<LoopEvents> &events() const { return m_hooks.events; }
    // The GET /metrics document.
    static QJsonObject metricsDocument(const ServerMetrics &metrics, const PredictionService &service, int threads);

private:
    // A bare project id as the loop's key for it (LoopControl::resolveProject).
    QString resolved(const QString &projectId) const;
    ApiResponse route(Route route, const ApiRequest &request) const;
    ApiResponse guarded(Route route, const ApiRequest &request) const;
    ApiResponse health() const;
    ApiResponse ready() const;
    ApiResponse setup(const ApiRequest &request) const;
    ApiResponse predict(const ApiRequest &request) const;
    ApiResponse webhook(const ApiRequest &request) const;
    ApiResponse versions(const ApiRequest &request) const;
    ApiResponse metrics() const;
    ApiResponse loop(Route route, const ApiRequest &request) const;
    static ApiResponse fromLoopReply(const LoopReply &reply);

    std::shared_ptr<PredictionService> m_service;
    std::shared_ptr<ServerMetrics> m_metrics;
    ServerConfig m_config;
    QStringList m_hostNames; // lower-case, without a trailing dot
    ApiHooks m_hooks;
    int m_threads = 1;
};

} // namespace loopdeck::backend
