#include "core/backend/httpworker.h"

#include "core/backend/loopevents.h"
#include "core/backend/requestframer.h"
#include "core/backend/servermetrics.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QHttpServerResponse>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <algorithm>

#ifdef Q_OS_UNIX
#include <unistd.h>
#endif
#ifdef Q_OS_LINUX
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#endif

namespace loopdeck::backend {

namespace {

QByteArray methodName(QHttpServerRequest::Method m)
{
    switch (m) {
    case QHttpServerRequest::Method::Get: return "GET";
    case QHttpServerRequest::Method::Put: return "PUT";
    case QHttpServerRequest::Method::Delete: return "DELETE";
    case QHttpServerRequest::Method::Post: return "POST";
    case QHttpServerRequest::Method::Head: return "HEAD";
    case QHttpServerRequest::Method::Options: return "OPTIONS";
    case QHttpServerRequest::Method::Patch: return "PATCH";
    case QHttpServerRequest::Method::Connect: return "CONNECT";
    case QHttpServerRequest::Method::Trace: return "TRACE";
    default: return "UNKNOWN";
    }
}

ApiRequest toApiRequest(const QHttpServerRequest &request)
{
    ApiRequest r;
    r.method = methodName(request.method());
    r.path = request.url().path();
    r.query = request.query();
    const auto headers = request.headers();
    r.headers.reserve(headers.size());
    for (const auto &h : headers) {
        if (r.authorization.isNull() && h.first.compare("authorization", Qt::CaseInsensitive) == 0)
            r.authorization = h.second;
        r.headers.append({h.first, h.second});
    }
    r.body = request.body();
    r.peer = request.remoteAddress().toString();
    return r;
}

QHttpServerResponse toQtResponse(const ApiResponse &response)
{
    QHttpServerResponse r(QByteArrayLiteral("application/json"), response.body,
                          QHttpServerResponse::StatusCode(response.status));
    for (const auto &h : response.headers)
        r.addHeader(h.first, h.second);
    return r;
}

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 421: return "Misdirected Request";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

// Writes a whole response and closes the connection (used when QHttpServer must never see
// the request).
void writeAndClose(QTcpSocket *socket, const ApiResponse &response)
{
    QByteArray head = "HTTP/1.1 " + QByteArray::number(response.status) + ' ' + reasonPhrase(response.status)
                      + "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(response.body.size())
                      + "\r\nConnection: close\r\nServer: LoopDeck/" LOOPDECK_VERSION "\r\n";
    for (const auto &h : response.headers)
        head += h.first + ": " + h.second + "\r\n";
    socket->write(head + "\r\n" + response.body);
    socket->disconnectFromHost();
}

// GET /loop/events on one connection (loopevents.h): Server-Sent Events until the client goes.
// Lives in the connection's thread, a child of its socket; the loop's events arrive queued.
class EventStream final : public QObject
{
public:
    // A client that reads nothing gets its stream closed past this much unsent data; it
    // reconnects and reads the state afresh.
    static constexpr qint64 kMaxUnsent = 1 << 20;
    static constexpr int kHeartbeatMs = 15000;

    EventStream(QTcpSocket *socket, std::shared_ptr<LoopEvents> events, std::shared_ptr<std::atomic<int>> openConnections)
        : QObject(socket)
        , m_socket(socket)
        , m_events(std::move(events))
        , m_open(std::move(openConnections))
    {
        m_events->streamOpened();
        // A stream does not hold one of the connections Label Studio's calls need (it has a cap
        // of its own, kMaxStreams); it gives its slot back until it ends.
        m_open->fetch_sub(1);
        // Nothing more is read from this connection: QHttpServer's reader (which would keep every
        // later byte in an open read transaction) is cut off, later bytes are dropped.
        QObject::disconnect(socket, &QIODevice::readyRead, nullptr, nullptr);
        if (socket->isTransactionStarted())
            socket->rollbackTransaction();
        socket->readAll();
        connect(socket, &QIODevice::readyRead, this, [socket] { socket->readAll(); });
        // A client that vanished (sleep, network change) is noticed by the kernel: keep-alive
        // probes, and on Linux unacknowledged heartbeats end the connection after 60 s.
        socket->setSocketOption(QAbstractSocket::KeepAliveOption, 1);
#ifdef Q_OS_LINUX
        const unsigned int userTimeoutMs = 60000;
        ::setsockopt(int(socket->socketDescriptor()), IPPROTO_TCP, TCP_USER_TIMEOUT, &userTimeoutMs, sizeof userTimeoutMs);
#endif
        const QByteArray hello = QJsonDocument(QJsonObject{{QStringLiteral("boot"), m_events->bootId()},
                                                           {QStringLiteral("version"), QStringLiteral(LOOPDECK_VERSION)}})
                                     .toJson(QJsonDocument::Compact);
        socket->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\n"
                      "X-Accel-Buffering: no\r\nConnection: close\r\nServer: LoopDeck/" LOOPDECK_VERSION "\r\n\r\n"
                      "retry: 3000\n\n"
                      + LoopEvents::frame(0, "hello", hello));
        connect(m_events.get(), &LoopEvents::event, this, &EventStream::send);
        auto *heartbeat = new QTimer(this);
        // A comment line now and then: proxies keep the connection, and a vanished client is noticed.
        connect(heartbeat, &QTimer::timeout, this, [this] { send(QByteArrayLiteral(": ping\n\n")); });
        heartbeat->start(kHeartbeatMs);
    }
    ~EventStream() override
    {
        m_events->streamClosed();
        m_open->fetch_add(1); // the socket's own end gives it back again
    }
    static constexpr int kMaxStreams = 64;

private:
    void send(const QByteArray &frame)
    {
        if (!m_socket || m_socket->state() != QAbstractSocket::ConnectedState)
            return;
        if (m_socket->bytesToWrite() > kMaxUnsent) {
            m_socket->abort();
            return;
        }
        m_socket->write(frame);
    }

    QPointer<QTcpSocket> m_socket;
    std::shared_ptr<LoopEvents> m_events;
    std::shared_ptr<std::atomic<int>> m_open;
};

// Watches the bytes of one connection as they arrive (before QHttpServer reads them) with a
// RequestFramer, and refuses a request from its headers alone: framing it cannot agree on
// with QHttpServer (chunked, duplicate lengths, bare LF: 400/411), a declared body over the
// limit (413), and whatever BackendApi::admit() refuses (Host 421, Origin 403, auth 401,
// Content-Type 415) - before any byte of the body is buffered.
class RequestGuard final : public QObject
{
public:
    using Reject = std::function<void(const QByteArray &method, const QByteArray &path, int status)>;

    RequestGuard(QTcpSocket *socket, const BackendApi &api, Reject reject, std::shared_ptr<std::atomic<int>> openConnections)
        : QObject(socket)
        , m_socket(socket)
        , m_api(api)
        , m_open(std::move(openConnections))
        , m_framer(limitsOf(api.config()),
                   [&api, socket](const RequestHead &head) -> std::optional<FramingError> {
                       const QString path = QString::fromUtf8(QByteArray::fromPercentEncoding(head.path()));
                       if (auto refused = api.admit(head.method, path, head.headers))
                           return FramingError{refused->status, QString(), *refused};
                       if (head.method == "GET" && BackendApi::normalizePath(path) == QLatin1String("/loop/events")) {
                           if (!api.events())
                               return FramingError{503, QStringLiteral("The loop is not running in this backend, so it has no events.")};
                           if (api.events()->openStreams() >= EventStream::kMaxStreams)
                               return FramingError{503, QStringLiteral("The backend has %1 event streams open, its limit; try again "
                                                                       "shortly.").arg(EventStream::kMaxStreams)};
                           FramingError stream{200, QString()};
                           stream.takeOver = true;
                           return stream;
                       }
                       // Admitted: a client waiting for leave to send its body (curl does) gets it.
                       if (head.contentLength > 0 && head.header("expect").toLower() == "100-continue")
                           socket->write("HTTP/1.1 100 Continue\r\n\r\n");
                       return std::nullopt;
                   })
        , m_reject(std::move(reject))
    {
        // Connected before QHttpServer connects its own slot, so this runs first.
        connect(socket, &QTcpSocket::readyRead, this, &RequestGuard::onReadyRead);
    }

private:
    static RequestFramer::Limits limitsOf(const ServerConfig &config)
    {
        RequestFramer::Limits limits;
        limits.maxBodyBytes = config.maxBodyBytes;
        return limits;
    }

    void onReadyRead()
    {
        if (m_framer.failed()) {
            m_socket->readAll(); // discard; QHttpServer must never see this request
            return;
        }
        const QByteArray chunk = m_socket->peek(m_socket->bytesAvailable());
        if (const auto error = m_framer.feed(chunk)) {
            m_socket->readAll();
            if (error->takeOver) {
                new EventStream(m_socket, m_api.events(), m_open);
                if (m_reject)
                    m_reject(m_framer.current().method, m_framer.current().path(), 200);
                return;
            }
            writeAndClose(m_socket, error->response ? *error->response : BackendApi::error(error->status, error->message));
            if (m_reject)
                m_reject(m_framer.current().method, m_framer.current().path(), error->status);
        }
    }

    QTcpSocket *m_socket;
    const BackendApi &m_api;
    std::shared_ptr<std::atomic<int>> m_open;
    RequestFramer m_framer;
    Reject m_reject;
};

// A QTcpServer that caps open connections (over every thread) and wraps every accepted
// socket in a RequestGuard.
class GuardedTcpServer final : public QTcpServer
{
public:
    GuardedTcpServer(std::shared_ptr<const BackendApi> api, std::shared_ptr<std::atomic<int>> open,
                     RequestGuard::Reject reject, QObject *parent)
        : QTcpServer(parent)
        , m_api(std::move(api))
        , m_open(std::move(open))
        , m_reject(std::move(reject))
    {
    }

protected:
    void incomingConnection(qintptr descriptor) override
    {
        auto *socket = new QTcpSocket(this);
        if (!socket->setSocketDescriptor(descriptor)) {
            delete socket;
#ifdef Q_OS_UNIX
            ::close(int(descriptor));
#endif
            return;
        }
        if (m_open->fetch_add(1) >= m_api->config().maxConnections) {
            m_open->fetch_sub(1);
            writeAndClose(socket, BackendApi::error(503, QStringLiteral("The ML backend has %1 open connections, its limit; try again shortly.")
                                                             .arg(m_api->config().maxConnections)));
            connect(socket, &QAbstractSocket::disconnected, socket, &QObject::deleteLater);
            if (m_reject)
                m_reject(QByteArray(), QByteArray(), 503);
            return;
        }
        connect(socket, &QObject::destroyed, [open = m_open] { open->fetch_sub(1); });
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        new RequestGuard(socket, *m_api, m_reject, m_open);
        addPendingConnection(socket);
    }

private:
    std::shared_ptr<const BackendApi> m_api;
    std::shared_ptr<std::atomic<int>> m_open;
    RequestGuard::Reject m_reject;
};

} // namespace

HttpWorker::HttpWorker(std::shared_ptr<const BackendApi> api, std::shared_ptr<ServerMetrics> metrics, RequestLog log,
                       std::shared_ptr<std::atomic<int>> openConnections)
    : m_api(std::move(api))
    , m_metrics(std::move(metrics))
    , m_log(std::move(log))
    , m_open(std::move(openConnections))
{
}

HttpWorker::~HttpWorker()
{
    shutdown();
}

QTcpServer *HttpWorker::makeListener()
{
    auto reject = [this](const QByteArray &method, const QByteArray &path, int status) {
        ApiRequest r;
        r.method = method;
        r.path = QString::fromUtf8(path.left(200));
        ApiResponse resp;
        resp.status = status;
        // 200: not a refusal but the event stream opening (RequestGuard answers it itself).
        finish(r, status == 200 ? QStringLiteral("GET /loop/events") : QStringLiteral("rejected"), resp, 0);
    };
    return new GuardedTcpServer(m_api, m_open, reject, this);
}

void HttpWorker::setUpRoutes()
{
    m_http = new QHttpServer(this);
    for (const RouteSpec &spec : allRoutes()) {
        const QString key = routeKey(spec);
        const Route route = spec.route;
        const QHttpServerRequest::Method method = qstrcmp(spec.method, "GET") == 0 ? QHttpServerRequest::Method::Get
                                                                                  : QHttpServerRequest::Method::Post;
        m_http->route(QString::fromLatin1(spec.path), method, [this, key, route](const QHttpServerRequest &request) {
            QElapsedTimer timer;
            timer.start();
            ApiRequest r;
            ApiResponse response;
            try {
                r = toApiRequest(request);
                response = m_api->handle(route, r); // never throws
            } catch (const std::bad_alloc &) {
                response = BackendApi::error(503, QStringLiteral("The ML backend ran out of memory reading this request."));
            }
            QHttpServerResponse qt = toQtResponse(response);
            finish(r, key, response, timer.nsecsElapsed());
            return qt;
        });
    }
    // QHttpServer 6.4 matches method and path together, so a known path with another method
    // lands here too: BackendApi tells 404 from 405 (and forgives "//predict" or "/predict/").
    m_http->setMissingHandler([this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
        QElapsedTimer timer;
        timer.start();
        ApiRequest r;
        ApiResponse response;
        Route routed = Route::Root;
        try {
            r = toApiRequest(request);
            response = m_api->dispatch(r, &routed); // never throws
        } catch (const std::bad_alloc &) {
            response = BackendApi::error(503, QStringLiteral("The ML backend ran out of memory reading this request."));
        }
        QString key = QStringLiteral("unmatched");
        if (response.status != 404 && response.status != 405 && response.status != 401 && response.status != 403
            && response.status != 415 && response.status != 421)
            for (const RouteSpec &spec : allRoutes())
                if (spec.route == routed)
                    key = routeKey(spec);
        QHttpServerResponse qt = toQtResponse(response);
        qt.addHeader(QByteArrayLiteral("Server"), QByteArrayLiteral("LoopDeck/" LOOPDECK_VERSION));
        finish(r, key, response, timer.nsecsElapsed());
        qt.write(std::move(responder));
    });
    m_http->afterRequest([](QHttpServerResponse &&response) {
        response.addHeader(QByteArrayLiteral("Server"), QByteArrayLiteral("LoopDeck/" LOOPDECK_VERSION));
        return std::move(response);
    });
}

void HttpWorker::finish(const ApiRequest &request, const QString &route, const ApiResponse &response, qint64 ns)
{
    m_metrics->record(route, response.status, ns);
    if (response.predictions > 0)
        m_metrics->addPredictions(response.predictions);
    if (m_log) {
        RequestRecord record;
        record.when = QDateTime::currentDateTimeUtc();
        record.method = QString::fromLatin1(request.method);
        record.path = request.path;
        record.status = response.status;
        record.latencyMs = double(ns) / 1e6;
        record.peer = request.peer;
        record.tasks = response.tasks;
        m_log(record);
    }
}

bool HttpWorker::listen(const QString &host, quint16 port, quint16 *boundPort, QString *error, bool *addressInUse)
{
    if (!m_http)
        setUpRoutes();
    QHostAddress address;
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
        address = QHostAddress(QHostAddress::LocalHost);
    else if (!address.setAddress(host)) {
        *error = QStringLiteral("\"%1\" is not an IP address to listen on (use e.g. 127.0.0.1 or 0.0.0.0).").arg(host);
        return false;
    }
    QTcpServer *listener = makeListener();
    if (!listener->listen(address, port)) {
        *addressInUse = listener->serverError() == QAbstractSocket::AddressInUseError;
        *error = listener->errorString();
        delete listener;
        return false;
    }
    m_http->bind(listener);
    m_listener = listener;
    *boundPort = listener->serverPort();
    return true;
}

bool HttpWorker::adopt(qintptr descriptor, QString *error)
{
    if (!m_http)
        setUpRoutes();
    QTcpServer *listener = makeListener();
    if (!listener->setSocketDescriptor(descriptor)) {
        *error = listener->errorString();
        delete listener;
        return false;
    }
    m_http->bind(listener);
    m_listener = listener;
    return true;
}

qintptr HttpWorker::socketDescriptor() const
{
    return m_listener ? m_listener->socketDescriptor() : -1;
}

void HttpWorker::shutdown()
{
    if (m_listener)
        m_listener->close();
    m_listener = nullptr;
    delete m_http; // closes the listener (its child) and every connection socket
    m_http = nullptr;
}

} // namespace loopdeck::backend
