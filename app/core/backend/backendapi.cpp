#include "core/backend/backendapi.h"
#include "core/backend/operatortoken.h"

#include "core/backend/projectkey.h"

#include "core/backend/loopcontrol.h"
#include "core/backend/predictionservice.h"
#include "core/backend/servermetrics.h"

#include <QHostInfo>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "core/backend/jsontypename.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <set>

namespace loopdeck::backend {

using nlohmann::json;

namespace {

QByteArray dumpJson(const json &j)
{
    // Replace invalid UTF-8 instead of throwing: the body never fails to serialise.
    const std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
    return QByteArray(s.data(), qsizetype(s.size()));
}

QByteArray dumpJson(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

// A SAX handler that builds the DOM (nlohmann's own, iterative builder) and stops the parse as
// soon as the nesting is deeper than maxDepth or the document has more than maxElements
// values. (nlohmann's parser_callback_t is not used: its DOM builder rescans the parent on
// every closed object, which is quadratic in the length of an array of objects.)
class LimitedSax
{
public:
    using Dom = nlohmann::detail::json_sax_dom_parser<json>;
    LimitedSax(json &result, int maxDepth, qint64 maxElements)
        : m_dom(result, true)
        , m_maxDepth(maxDepth)
        , m_maxElements(maxElements)
    {
    }
    bool null() { return value() && m_dom.null(); }
    bool boolean(bool v) { return value() && m_dom.boolean(v); }
    bool number_integer(json::number_integer_t v) { return value() && m_dom.number_integer(v); }
    bool number_unsigned(json::number_unsigned_t v) { return value() && m_dom.number_unsigned(v); }
    bool number_float(json::number_float_t v, const json::string_t &s) { return value() && m_dom.number_float(v, s); }
    bool string(json::string_t &v) { return value() && m_dom.string(v); }
    bool binary(json::binary_t &v) { return value() && m_dom.binary(v); }
    bool start_object(std::size_t n) { return open() && m_dom.start_object(n); }
    bool key(json::string_t &k) { return m_dom.key(k); }
    bool end_object()
    {
        --m_depth;
        return m_dom.end_object();
    }
    bool start_array(std::size_t n) { return open() && m_dom.start_array(n); }
    bool end_array()
    {
        --m_depth;
        return m_dom.end_array();
    }
    template<class Exception>
    bool parse_error(std::size_t position, const std::string &token, const Exception &ex)
    {
        return m_dom.parse_error(position, token, ex); // throws (allow_exceptions)
    }
    bool depthExceeded() const { return m_depthExceeded; }
    bool elementsExceeded() const { return m_elementsExceeded; }

private:
    bool value()
    {
        if (++m_elements > m_maxElements) {
            m_elementsExceeded = true;
            return false;
        }
        return true;
    }
    bool open()
    {
        if (++m_depth > m_maxDepth) {
            m_depthExceeded = true;
            return false;
        }
        return value();
    }

    Dom m_dom;
    int m_maxDepth;
    qint64 m_maxElements;
    int m_depth = 0;
    qint64 m_elements = 0;
    bool m_depthExceeded = false;
    bool m_elementsExceeded = false;
};

// Parses the body as a JSON object or returns the error response in *failure, with the
// depth and element limits of the config (413 when one is exceeded).
std::optional<json> parseObject(const ApiRequest &request, const char *example, const ServerConfig &config,
                                ApiResponse *failure)
{
    const QString route = QString::fromLatin1(request.method) + QLatin1Char(' ')
                          + BackendApi::normalizePath(request.path);
    if (request.body.trimmed().isEmpty()) {
        *failure = BackendApi::error(400, QStringLiteral("The request body is empty; %1 expects a JSON object like %2.")
                                              .arg(route, QLatin1String(example)));
        return std::nullopt;
    }
    json j;
    try {
        LimitedSax sax(j, config.maxJsonDepth, config.maxJsonElements);
        const bool complete = json::sax_parse(request.body.constBegin(), request.body.constEnd(), &sax);
        if (!complete) {
            *failure = BackendApi::error(413, sax.depthExceeded()
                                                  ? QStringLiteral("The request body of %1 nests JSON more than %2 levels deep.")
                                                        .arg(route)
                                                        .arg(config.maxJsonDepth)
                                                  : QStringLiteral("The request body of %1 has more than %2 JSON values.")
                                                        .arg(route)
                                                        .arg(config.maxJsonElements));
            return std::nullopt;
        }
    } catch (const json::exception &e) {
        QString what = QString::fromUtf8(e.what());
        const qsizetype bracket = what.indexOf(QLatin1String("] "));
        if (what.startsWith(QLatin1Char('[')) && bracket > 0)
            what = what.mid(bracket + 2);
        *failure = BackendApi::error(400, QStringLiteral("The request body of %1 is not valid JSON (%2).").arg(route, what));
        return std::nullopt;
    }
    if (!j.is_object()) {
        *failure = BackendApi::error(400, QStringLiteral("The request body of %1 must be a JSON object like %2, not %3.")
                                              .arg(route, QLatin1String(example), QLatin1String(jsonTypeName(j))));
        return std::nullopt;
    }
    return j;
}

QByteArray headerValue(const HeaderList &headers, const char *name)
{
    for (const auto &h : headers)
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    return {};
}

bool hasHeader(const HeaderList &headers, const char *name)
{
    for (const auto &h : headers)
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return true;
    return false;
}

// "application/json", optionally with parameters ("; charset=utf-8").
bool isJsonContentType(const QByteArray &value)
{
    const qsizetype semicolon = value.indexOf(';');
    const QByteArray type = (semicolon < 0 ? value : value.left(semicolon)).trimmed().toLower();
    return type == "application/json";
}

// "project" may be "<id>.<timestamp>", a bare id string or a number. Missing -> empty string.
bool readProject(const json &body, QString *projectId, ApiResponse *failure, bool required)
{
    const auto it = body.find("project");
    if (it == body.end() || it->is_null()) {
        if (required) {
            *failure = BackendApi::error(400, QStringLiteral("The body has no \"project\"; Label Studio sends it as \"<project id>.<timestamp>\", e.g. \"3.1700000000\"."));
            return false;
        }
        projectId->clear();
        return true;
    }
    QString raw;
    if (it->is_string())
        raw = QString::fromStdString(it->get<std::string>());
    else if (it->is_number_integer())
        raw = QString::number(it->get<long long>());
    else {
        *failure = BackendApi::error(400, QStringLiteral("\"project\" must be a string like \"3.1700000000\", not %1.")
                                              .arg(QLatin1String(jsonTypeName(*it))));
        return false;
    }
    const QString id = PredictionService::projectIdOf(raw);
    if (!ModelRegistry::isValidProjectId(id)) {
        *failure = BackendApi::error(400, QStringLiteral("\"project\" is \"%1\", which does not start with a project id (letters, digits, '-' or '_', then an optional \".<timestamp>\").")
                                              .arg(raw.left(80)));
        return false;
    }
    *projectId = id;
    return true;
}

bool readOptionalString(const json &body, const char *key, QString *out, ApiResponse *failure)
{
    const auto it = body.find(key);
    if (it == body.end() || it->is_null()) {
        *out = QString();
        return true;
    }
    if (!it->is_string()) {
        *failure = BackendApi::error(400, QStringLiteral("\"%1\" must be a string, not %2.")
                                              .arg(QLatin1String(key), QLatin1String(jsonTypeName(*it))));
        return false;
    }
    *out = QString::fromStdString(it->get<std::string>());
    return true;
}

bool constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    const qsizetype n = std::max(a.size(), b.size());
    for (qsizetype i = 0; i < n; ++i) {
        const unsigned char x = i < a.size() ? uchar(a[i]) : 0;
        const unsigned char y = i < b.size() ? uchar(b[i]) : 0;
        diff |= x ^ y;
    }
    return diff == 0;
}

const std::set<std::string> kTrainingEvents = {"ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_CREATED",
                                               "ANNOTATION_DELETED", "ANNOTATIONS_DELETED", "START_TRAINING"};
// Every event the loop applies (the training events, plus the task and project changes that
// loop::parseWebhook turns into store changes): answered 201 {"status": "ok"}. Any other action
// (the loop ignores it) is answered 200 {"status": "Unknown event"}.
const std::set<std::string> kAppliedEvents = {"ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_CREATED",
                                              "ANNOTATION_DELETED", "ANNOTATIONS_DELETED", "START_TRAINING",
                                              "TASKS_CREATED", "TASKS_DELETED", "PROJECT_UPDATED"};

// The host name of a Host header value ("Example.org:9090" -> "example.org", "[::1]:9090" ->
// "[::1]"), lower-case and without a trailing dot; empty when the value is not a host[:port]
// (a name of other characters than letters, digits, '.', '-' and '_' included).
QString hostOf(const QByteArray &value)
{
    const QString text = QString::fromLatin1(value.trimmed()).toLower();
    QString host = text;
    QString port;
    if (text.startsWith(QLatin1Char('['))) {
        const qsizetype close = text.indexOf(QLatin1Char(']'));
        if (close < 0)
            return {};
        host = text.left(close + 1);
        const QString rest = text.mid(close + 1);
        if (!rest.isEmpty()) {
            if (!rest.startsWith(QLatin1Char(':')))
                return {};
            port = rest.mid(1);
        }
    } else if (const qsizetype colon = text.indexOf(QLatin1Char(':')); colon >= 0) {
        host = text.left(colon);
        port = text.mid(colon + 1);
    }
    for (const QChar c : std::as_const(port))
        if (!c.isDigit())
            return {};
    if (host.endsWith(QLatin1Char('.')))
        host.chop(1);
    if (!host.startsWith(QLatin1Char('[')))
        for (const QChar c : std::as_const(host))
            if (!(c.isDigit() || (c >= u'a' && c <= u'z') || c == u'.' || c == u'-' || c == u'_'))
                return {};
    return host;
}

// An IP literal: dotted IPv4 digits, or IPv6 in brackets. A name made of digits and dots cannot
// be registered, so a rebinding page never has one.
bool isIpLiteral(const QString &host)
{
    if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
        return QHostAddress(host.mid(1, host.size() - 2)).protocol() == QAbstractSocket::IPv6Protocol;
    for (const QChar c : host)
        if (!c.isDigit() && c != QLatin1Char('.'))
            return false;
    return QHostAddress(host).protocol() == QAbstractSocket::IPv4Protocol;
}

} // namespace

const QList<RouteSpec> &allRoutes()
{
    static const QList<RouteSpec> routes = {
        {Route::Root, "GET", "/"},
        {Route::Health, "GET", "/health"},
        {Route::Ready, "GET", "/ready"},
        {Route::Setup, "POST", "/setup"},
        {Route::Predict, "POST", "/predict"},
        {Route::Webhook, "POST", "/webhook"},
        {Route::Versions, "GET", "/versions"},
        {Route::Metrics, "GET", "/metrics"},
        {Route::LoopStatus, "GET", "/loop/status"},
        {Route::LoopTrain, "POST", "/loop/train"},
        {Route::LoopActivate, "POST", "/loop/activate"},
        {Route::LoopRollback, "POST", "/loop/rollback"},
        {Route::LoopCancel, "POST", "/loop/cancel"},
        {Route::LoopSettings, "POST", "/loop/settings"},
    };
    return routes;
}

QString routeKey(const RouteSpec &spec)
{
    return QLatin1String(spec.method) + QLatin1Char(' ') + QLatin1String(spec.path);
}

BackendApi::BackendApi(std::shared_ptr<PredictionService> service, std::shared_ptr<ServerMetrics> metrics,
                       const ServerConfig &config, ApiHooks hooks, int threads)
    : m_service(std::move(service))
    , m_metrics(std::move(metrics))
    , m_config(config)
    , m_hooks(std::move(hooks))
    , m_threads(threads)
{
    // The names this backend answers to besides IP literals: localhost, this machine's names and
    // the configured ones.
    const auto add = [this](const QString &name) {
        QString n = name.trimmed().toLower();
        if (n.endsWith(QLatin1Char('.')))
            n.chop(1);
        if (!n.isEmpty() && !m_hostNames.contains(n))
            m_hostNames << n;
    };
    add(QStringLiteral("localhost"));
    const QString machine = QHostInfo::localHostName();
    add(machine);
    if (const QString domain = QHostInfo::localDomainName(); !machine.isEmpty() && !domain.isEmpty())
        add(machine + QLatin1Char('.') + domain);
    for (const QString &name : m_config.allowedHosts)
        add(name);
    // A server told to listen on a name (`--host myhost.lan`) answers to that name.
    if (!m_config.host.isEmpty() && QHostAddress(m_config.host).isNull())
        add(m_config.host);
}

bool BackendApi::isAllowedHost(const QByteArray &hostHeader) const
{
    const QString host = hostOf(hostHeader);
    return !host.isEmpty() && (isIpLiteral(host) || m_hostNames.contains(host));
}

ApiResponse BackendApi::respond(int status, const QByteArray &body)
{
    ApiResponse r;
    r.status = status;
    r.body = body;
    return r;
}

ApiResponse BackendApi::error(int status, const QString &message)
{
    return respond(status, dumpJson(QJsonObject{{QStringLiteral("error"), message}, {QStringLiteral("status"), status}}));
}

QString BackendApi::normalizePath(const QString &path)
{
    QString p = path.isEmpty() ? QStringLiteral("/") : path;
    while (p.contains(QLatin1String("//")))
        p.replace(QLatin1String("//"), QLatin1String("/"));
    if (p.size() > 1 && p.endsWith(QLatin1Char('/')))
        p.chop(1);
    return p;
}

bool BackendApi::isOperatorPath(const QString &normalizedPath)
{
    return normalizedPath == QLatin1String("/loop") || normalizedPath.startsWith(QLatin1String("/loop/"));
}

ApiResponse BackendApi::operatorRefusal(const QString &message)
{
    ApiResponse r = error(401, message);
    r.headers.append(qMakePair(QByteArrayLiteral("WWW-Authenticate"), QByteArrayLiteral("Bearer realm=\"LoopDeck operator\"")));
    return r;
}

bool BackendApi::checkAuth(const QByteArray &authorization) const
{
    if (!m_config.hasAuth())
        return true;
    const QByteArray prefix = "basic ";
    if (authorization.size() <= prefix.size() || authorization.left(prefix.size()).toLower() != prefix)
        return false;
    const QByteArray decoded = QByteArray::fromBase64(authorization.mid(prefix.size()).trimmed());
    const qsizetype colon = decoded.indexOf(':');
    if (colon < 0)
        return false;
    const bool userOk = constantTimeEquals(decoded.left(colon), m_config.basicAuthUser.toUtf8());
    const bool passOk = constantTimeEquals(decoded.mid(colon + 1), m_config.basicAuthPassword.toUtf8());
    return userOk && passOk;
}

std::optional<ApiResponse> BackendApi::admit(const QByteArray &method, const QString &path, const HeaderList &headers) const
{
    // 0. DNS rebinding: a page whose name now resolves to this machine reaches us "same-origin"
    //    (no Origin header, no CORS), but its Host header still carries its own name.
    for (const auto &h : headers) {
        if (h.first.compare("host", Qt::CaseInsensitive) != 0 || isAllowedHost(h.second))
            continue;
        const QString name = hostOf(h.second).left(100);
        return error(421, QStringLiteral("This ML backend does not answer requests for the host name \"%1\" (it answers IP "
                                         "addresses, localhost and this machine's name). If Label Studio reaches it under that "
                                         "name, start it with --allowed-host %2.")
                              .arg(name.isEmpty() ? QString::fromLatin1(h.second.left(100)) : name,
                                   name.isEmpty() ? QStringLiteral("NAME") : name));
    }
    // 1. Browsers: any request that says where it comes from must come from an allowed page.
    //    (A cross-site form or no-cors fetch always carries Origin on POST.)
    if (hasHeader(headers, "origin")) {
        const QByteArray origin = headerValue(headers, "origin");
        if (!m_config.allowedOrigins.contains(QString::fromLatin1(origin)))
            return error(403, QStringLiteral("Requests from web pages (Origin %1) are not accepted by this ML backend; "
                                             "add the origin to the allowed origins if it is really needed.")
                                  .arg(QString::fromLatin1(origin.left(100))));
    }
    // 2. Credentials, on every route. The operator token (Bearer) is the only way into /loop/*,
    //    also from loopback (any local user or process can reach it), and admits the read-only
    //    routes a remote window needs besides (/versions with its details, /health, /metrics) -
    //    never Label Studio's writes (/setup, /predict, /webhook), which keep their own rules. A
    //    Bearer elsewhere (a proxy's own) is not ours: it is ignored there.
    const QString normalized = normalizePath(path);
    const bool isWebhook = normalized == QLatin1String("/webhook");
    const bool operatorPath = isOperatorPath(normalized);
    const bool operatorReadable = method == "GET"
        && (normalized == QLatin1String("/versions") || normalized == QLatin1String("/health") || normalized == QLatin1String("/metrics"));
    const QByteArray authorization = headerValue(headers, "authorization");
    const bool bearer = authorization.left(7).toLower() == "bearer ";
    const bool operatorOk = bearer && operatortoken::matchesBearer(authorization, m_config.operatorToken);
    if (operatorPath && !operatorOk) {
        if (m_config.operatorToken.isEmpty())
            return operatorRefusal(QStringLiteral("This backend has no operator token, so its operator routes (/loop/...) are closed."));
        return operatorRefusal(bearer ? QStringLiteral("The operator token is wrong (was it rotated? `loopdeck operator-token` on the "
                                                       "backend's machine prints the current one).")
                                      : QStringLiteral("The loop's operator routes need the operator token: send \"Authorization: "
                                                       "Bearer TOKEN\". It is in the file operator-token in the backend's data folder "
                                                       "(`loopdeck operator-token` prints it)."));
    }
    if (bearer && !operatorOk && normalized == QLatin1String("/versions") && !m_config.operatorToken.isEmpty())
        return operatorRefusal(QStringLiteral("The operator token is wrong, so /versions cannot show its details (was it rotated?)."));
    // /ready is asked by load balancers and Kubernetes probes, which send no credentials; it
    // says only whether this replica serves its active models.
    const bool probe = method == "GET" && normalized == QLatin1String("/ready");
    bool authorized = probe || (operatorOk && (operatorPath || operatorReadable)) || checkAuth(authorization);
    if (isWebhook && !m_config.webhookSecret.isEmpty()) {
        const bool secretOk = constantTimeEquals(headerValue(headers, kWebhookSecretHeader), m_config.webhookSecret.toUtf8());
        // With Basic auth set, either credential admits a webhook; without it, the secret is required.
        authorized = m_config.hasAuth() ? (secretOk || authorized) : secretOk;
        if (!authorized)
            return error(401, QStringLiteral("This ML backend accepts webhooks only with its shared secret in the %1 header%2.")
                                  .arg(QLatin1String(kWebhookSecretHeader),
                                       m_config.hasAuth() ? QStringLiteral(" or with HTTP Basic auth") : QString()));
    }
    if (!authorized) {
        ApiResponse r = error(401, authorization.isEmpty()
                                       ? QStringLiteral("This ML backend needs HTTP Basic auth; set the Basic auth user and password in Label Studio's model settings.")
                                       : QStringLiteral("The Basic auth user or password is wrong."));
        r.headers.append(qMakePair(QByteArrayLiteral("WWW-Authenticate"), QByteArrayLiteral("Basic realm=\"LoopDeck ML backend\", charset=\"UTF-8\"")));
        return r;
    }
    // 3. A POST must be JSON: a page can send text/plain, form or multipart bodies cross-origin
    //    without a preflight, but never application/json.
    if (method == "POST" && !isJsonContentType(headerValue(headers, "content-type")))
        return error(415, QStringLiteral("POST requests must have Content-Type: application/json (this one has %1).")
                              .arg(hasHeader(headers, "content-type")
                                       ? QStringLiteral("\"%1\"").arg(QString::fromLatin1(headerValue(headers, "content-type").left(80)))
                                       : QStringLiteral("none")));
    return std::nullopt;
}

ApiResponse BackendApi::guarded(Route route, const ApiRequest &request) const
{
    try {
        return this->route(route, request);
    } catch (const std::bad_alloc &) {
        return error(503, QStringLiteral("The ML backend ran out of memory answering this request; nothing was changed. "
                                         "Try again, or send fewer tasks at once."));
    } catch (const std::exception &e) {
        return error(500, QStringLiteral("The ML backend failed on this request: %1").arg(QString::fromUtf8(e.what())));
    }
}

ApiResponse BackendApi::handle(Route route, const ApiRequest &request) const
{
    if (auto refused = admit(request.method, request.path, request.headers))
        return *refused;
    return guarded(route, request);
}

ApiResponse BackendApi::route(Route route, const ApiRequest &request) const
{
    if (request.body.size() > m_config.maxBodyBytes)
        return error(413, QStringLiteral("The request body has %1 bytes; this backend accepts at most %2 bytes.")
                              .arg(request.body.size())
                              .arg(m_config.maxBodyBytes));
    switch (route) {
    case Route::Root:
    case Route::Health: return health();
    case Route::Ready: return ready();
    case Route::Setup: return setup(request);
    case Route::Predict: return predict(request);
    case Route::Webhook: return webhook(request);
    case Route::Versions: return versions(request);
    case Route::Metrics: return metrics();
    case Route::LoopStatus:
    case Route::LoopTrain:
    case Route::LoopActivate:
    case Route::LoopRollback:
    case Route::LoopCancel:
    case Route::LoopSettings: return loop(route, request);
    }
    return error(500, QStringLiteral("Unhandled route."));
}

ApiResponse BackendApi::dispatch(const ApiRequest &request, Route *routed) const
{
    if (auto refused = admit(request.method, request.path, request.headers))
        return *refused;
    try {
        const QString path = normalizePath(request.path);
        QStringList methods;
        for (const RouteSpec &spec : allRoutes()) {
            if (path != QLatin1String(spec.path))
                continue;
            if (request.method == spec.method) {
                if (routed)
                    *routed = spec.route;
                return guarded(spec.route, request);
            }
            methods << QLatin1String(spec.method);
        }
        const QString method = QString::fromLatin1(request.method.isEmpty() ? QByteArray("?") : request.method.left(20));
        if (!methods.isEmpty()) {
            ApiResponse r = error(405, QStringLiteral("%1 %2 is not allowed; %2 answers %3.")
                                           .arg(method, path, methods.join(QLatin1String(", "))));
            r.headers.append(qMakePair(QByteArrayLiteral("Allow"), methods.join(QLatin1String(", ")).toLatin1()));
            return r;
        }
        QStringList known;
        for (const RouteSpec &spec : allRoutes())
            if (spec.route != Route::Root)
                known << routeKey(spec);
        return error(404, QStringLiteral("There is no route %1 %2. This ML backend answers %3.")
                              .arg(method, path.left(200), known.join(QLatin1String(", "))));
    } catch (const std::bad_alloc &) {
        return error(503, QStringLiteral("The ML backend ran out of memory answering this request; nothing was changed."));
    }
}

ApiResponse BackendApi::health() const
{
    const QHash<QString, QString> active = m_service->activeModelVersions();
    QJsonObject body{{QStringLiteral("status"), QStringLiteral("UP")},
                     {QStringLiteral("model_class"), QStringLiteral("LoopDeck")},
                     {QStringLiteral("version"), QStringLiteral(LOOPDECK_VERSION)},
                     {QStringLiteral("projects_with_model"), int(active.size())}};
    return respond(200, dumpJson(body));
}

ApiResponse BackendApi::ready() const
{
    const QString why = m_hooks.loop ? m_hooks.loop->notReady() : QString();
    QJsonObject body{{QStringLiteral("ready"), why.isEmpty()},
                     {QStringLiteral("projects_with_model"), int(m_service->activeModelVersions().size())}};
    if (!why.isEmpty())
        body.insert(QStringLiteral("why"), why);
    return respond(why.isEmpty() ? 200 : 503, dumpJson(body));
}

QString BackendApi::resolved(const QString &projectId) const
{
    // A full key needs no lookup (the hot path of /predict); a bare id may name a known key.
    if (projectId.isEmpty() || projectId.contains(QLatin1Char('.')))
        return projectId;
    return m_hooks.loop ? m_hooks.loop->resolveProject(projectId) : m_service->resolve(projectId);
}

ApiResponse BackendApi::setup(const ApiRequest &request) const
{
    ApiResponse failure;
    const auto body = parseObject(request, R"({"project": "3.1700000000", "schema": "<View>...</View>"})", m_config, &failure);
    if (!body)
        return failure;
    QString projectId, schema, hostname, accessToken;
    if (!readProject(*body, &projectId, &failure, true) || !readOptionalString(*body, "schema", &schema, &failure)
        || !readOptionalString(*body, "hostname", &hostname, &failure)
        || !readOptionalString(*body, "access_token", &accessToken, &failure))
        return failure;
    projectId = resolved(projectId);
    // access_token is deliberately not kept or logged.
    const SetupOutcome outcome = m_service->setup(projectId, schema);
    if (m_hooks.setupDone)
        m_hooks.setupDone(projectId, hostname, outcome);
    QJsonObject answer{{QStringLiteral("model_version"), outcome.modelVersion},
                       {QStringLiteral("status"), QStringLiteral("ok")},
                       {QStringLiteral("servable"), outcome.servable}};
    if (!outcome.servable)
        answer.insert(QStringLiteral("warning"), outcome.reason);
    return respond(200, dumpJson(answer));
}

ApiResponse BackendApi::predict(const ApiRequest &request) const
{
    ApiResponse failure;
    const auto body = parseObject(request, R"({"tasks": [{"id": 1, "data": {"text": "..."}}], "project": "3.1700000000"})", m_config, &failure);
    if (!body)
        return failure;
    QString projectId, labelConfig;
    if (!readProject(*body, &projectId, &failure, false) || !readOptionalString(*body, "label_config", &labelConfig, &failure))
        return failure;
    projectId = resolved(projectId);
    const auto params = body->find("params");
    if (params != body->end() && !params->is_null() && !params->is_object())
        return error(400, QStringLiteral("\"params\" must be an object, not %1.").arg(QLatin1String(jsonTypeName(*params))));
    const auto tasksIt = body->find("tasks");
    if (tasksIt == body->end())
        return error(400, QStringLiteral("The body has no \"tasks\"; send {\"tasks\": [{\"id\": 1, \"data\": {\"text\": \"...\"}}]}."));
    if (!tasksIt->is_array() && !tasksIt->is_object())
        return error(400, QStringLiteral("\"tasks\" must be a list of task objects, not %1.").arg(QLatin1String(jsonTypeName(*tasksIt))));

    // The ml-backend conformance tests send a single task object: PredictionService takes it
    // as a list of one (by reference; request JSON is never copied).
    const int taskCount = tasksIt->is_object() ? 1 : int(tasksIt->size());
    const PredictOutcome outcome = m_service->predict(projectId, labelConfig, *tasksIt);
    ApiResponse r = outcome.status == 200 ? respond(200, dumpJson(outcome.body)) : error(outcome.status, outcome.error);
    r.tasks = taskCount;
    r.predictions = outcome.predicted;
    return r;
}

ApiResponse BackendApi::webhook(const ApiRequest &request) const
{
    ApiResponse failure;
    const auto body = parseObject(request, R"({"action": "ANNOTATION_CREATED", "project": {"id": 3}})", m_config, &failure);
    if (!body)
        return failure;
    const auto action = body->find("action");
    if (action == body->end() || !action->is_string())
        return error(400, action == body->end()
                              ? QStringLiteral("The webhook body has no \"action\" (e.g. \"ANNOTATION_CREATED\" or \"START_TRAINING\").")
                              : QStringLiteral("\"action\" must be a string, not %1.").arg(QLatin1String(jsonTypeName(*action))));

    WebhookEvent event;
    event.received = QDateTime::currentDateTimeUtc();
    event.action = QString::fromStdString(action->get<std::string>());
    event.payload = request.body;
    // Project id: project.id, else annotation.project, else task.project.
    const auto idOf = [](const json &j) -> QString {
        if (j.is_number_integer())
            return QString::number(j.get<long long>());
        if (j.is_string())
            return PredictionService::projectIdOf(QString::fromStdString(j.get<std::string>()));
        return {};
    };
    QString labelConfig;
    if (const auto project = body->find("project"); project != body->end()) {
        if (project->is_object()) {
            if (const auto id = project->find("id"); id != project->end())
                event.projectId = idOf(*id);
            // Label Studio's name of the project, "<id>.<created_at>" (projectkey.h): what
            // tells this server's project apart from another server's with the same id.
            if (const auto created = project->find("created_at");
                created != project->end() && created->is_string() && projectkey::lsId(event.projectId) > 0
                && !projectkey::hasCreated(event.projectId))
                if (const auto seconds = projectkey::unixSecondsOf(QString::fromStdString(created->get<std::string>())))
                    event.projectId = projectkey::make(projectkey::lsId(event.projectId), *seconds);
            if (const auto lc = project->find("label_config"); lc != project->end() && lc->is_string())
                labelConfig = QString::fromStdString(lc->get<std::string>());
        } else {
            event.projectId = idOf(*project);
        }
    }
    for (const char *holder : {"annotation", "task"}) {
        if (!event.projectId.isEmpty())
            break;
        const auto h = body->find(holder);
        if (h != body->end() && h->is_object())
            if (const auto p = h->find("project"); p != h->end())
                event.projectId = idOf(*p);
    }
    if (!event.projectId.isEmpty() && !ModelRegistry::isValidProjectId(event.projectId))
        event.projectId.clear();

    event.projectId = resolved(event.projectId);
    const bool known = kTrainingEvents.count(action->get<std::string>()) > 0;
    if (known && !event.projectId.isEmpty() && !labelConfig.isEmpty())
        m_service->setup(event.projectId, labelConfig); // keep the label config current
    if (m_hooks.webhookSink) {
        const WebhookOutcome outcome = m_hooks.webhookSink(event);
        if (outcome.kind == WebhookOutcome::Kind::BadEvent)
            return error(400, QStringLiteral("The %1 event cannot be used: %2").arg(event.action, outcome.message));
        if (outcome.kind == WebhookOutcome::Kind::StoreFailed)
            return error(500, QStringLiteral("The %1 event could not be stored: %2").arg(event.action, outcome.message));
    }
    if (m_hooks.webhookReceived)
        m_hooks.webhookReceived(event);
    if (kAppliedEvents.count(action->get<std::string>()) > 0)
        return respond(201, dumpJson(QJsonObject{{QStringLiteral("status"), QStringLiteral("ok")}}));
    return respond(200, dumpJson(QJsonObject{{QStringLiteral("status"), QStringLiteral("Unknown event")}}));
}

ApiResponse BackendApi::versions(const ApiRequest &request) const
{
    const QString raw = request.query.queryItemValue(QStringLiteral("project"), QUrl::FullyDecoded);
    if (!raw.isEmpty()) {
        const QString projectId = resolved(PredictionService::projectIdOf(raw));
        if (!ModelRegistry::isValidProjectId(projectId))
            return error(400, QStringLiteral("The project \"%1\" is not a project id like \"3\" or \"3.1700000000\".").arg(raw.left(80)));
        QJsonObject answer{{QStringLiteral("versions"), QJsonArray::fromStringList(m_service->versionNames(projectId))},
                           {QStringLiteral("project"), projectId},
                           {QStringLiteral("active"), m_service->modelVersion(projectId)}};
        // The details (training data sizes, metrics, triggers) are the operator's: only with the token.
        if (m_hooks.loop && operatortoken::matchesBearer(request.authorization, m_config.operatorToken))
            answer.insert(QStringLiteral("details"), m_hooks.loop->versionDetails(projectId));
        return respond(200, dumpJson(answer));
    }
    QStringList all;
    QJsonObject perProject;
    for (const QString &projectId : m_service->projects()) {
        const QStringList names = m_service->versionNames(projectId);
        perProject.insert(projectId, QJsonArray::fromStringList(names));
        for (const QString &n : names)
            if (!all.contains(n))
                all << n;
    }
    std::sort(all.begin(), all.end(), [](const QString &a, const QString &b) {
        return a.mid(10).toInt() < b.mid(10).toInt(); // "loopdeck-v" is 10 characters
    });
    return respond(200, dumpJson(QJsonObject{{QStringLiteral("versions"), QJsonArray::fromStringList(all)},
                                          {QStringLiteral("projects"), perProject}}));
}

ApiResponse BackendApi::fromLoopReply(const LoopReply &reply)
{
    using E = LoopReply::Error;
    switch (reply.error) {
    case E::None: return respond(200, dumpJson(reply.body));
    case E::UnknownProject:
    case E::UnknownVersion: return error(404, reply.message);
    case E::Busy:
    case E::NotPossible: return error(409, reply.message);
    case E::BadRequest: return error(400, reply.message);
    case E::Failed: return error(500, reply.message);
    }
    return error(500, reply.message);
}

ApiResponse BackendApi::loop(Route route, const ApiRequest &request) const
{
    if (!m_hooks.loop)
        return error(503, QStringLiteral("The loop is not running in this backend (it serves predictions only)."));
    const QString project = request.query.queryItemValue(QStringLiteral("project"), QUrl::FullyDecoded);
    if (project.isEmpty() && route == Route::LoopStatus)
        return respond(200, dumpJson(QJsonObject{{QStringLiteral("projects"), QJsonArray::fromStringList(m_hooks.loop->projectList())}}));
    if (project.isEmpty())
        return error(400, QStringLiteral("Say which project: add ?project=ID to the URL."));
    switch (route) {
    case Route::LoopStatus: return fromLoopReply(m_hooks.loop->status(project));
    case Route::LoopTrain: return fromLoopReply(m_hooks.loop->train(project));
    case Route::LoopRollback: return fromLoopReply(m_hooks.loop->rollback(project));
    case Route::LoopCancel: return fromLoopReply(m_hooks.loop->cancel(project));
    case Route::LoopSettings: {
        ApiResponse failure;
        const auto body = parseObject(request, R"({"train_every": 100, "interval_minutes": 0, "daily_at": "02:30"})", m_config, &failure);
        if (!body)
            return failure;
        const QJsonObject changes = QJsonDocument::fromJson(request.body).object();
        return fromLoopReply(m_hooks.loop->configure(project, changes));
    }
    case Route::LoopActivate: {
        const QString raw = request.query.queryItemValue(QStringLiteral("version"), QUrl::FullyDecoded);
        QString digits = raw;
        if (digits.startsWith(QLatin1String("loopdeck-v")))
            digits = digits.mid(10);
        bool ok = false;
        const int version = digits.toInt(&ok);
        if (!ok || version <= 0)
            return error(400, QStringLiteral("Say which version: add &version=N (or loopdeck-vN) to the URL, not \"%1\".")
                                  .arg(raw.left(40)));
        return fromLoopReply(m_hooks.loop->activate(project, version));
    }
    default: break;
    }
    return error(404, QStringLiteral("Unknown loop route."));
}

QJsonObject BackendApi::metricsDocument(const ServerMetrics &metrics, const PredictionService &service, int threads)
{
    QJsonObject body = metrics.toJson();
    QJsonObject active;
    const QHash<QString, QString> versions = service.activeModelVersions();
    for (auto it = versions.cbegin(); it != versions.cend(); ++it)
        active.insert(it.key(), it.value());
    body.insert(QStringLiteral("active_models"), active);
    body.insert(QStringLiteral("threads"), threads);
    body.insert(QStringLiteral("model_class"), QStringLiteral("LoopDeck"));
    return body;
}

ApiResponse BackendApi::metrics() const
{
    return respond(200, dumpJson(metricsDocument(*m_metrics, *m_service, m_threads)));
}

} // namespace loopdeck::backend
