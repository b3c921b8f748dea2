#include "core/backend/httpworker.h"

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

#include <algorithm>

#ifdef Q_OS_UNIX
#include <unistd.h>
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
    for (const auto &h : headers) {
        if (h.first.compare("authorization", Qt::CaseInsensitive) == 0) {
            r.authorization = h.second;
            break;
        }
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

// Watches the bytes of one connection as they arrive (before QHttpServer reads them) and
// rejects a request whose declared body is over the limit as soon as its headers are in.
// QHttpServer 6.4 would otherwise buffer any body in memory before a handler sees it.
class BodyGuard final : public QObject
{
public:
    using Reject = std::function<void(const QByteArray &method, const QByteArray &path, qint64 length)>;

    BodyGuard(QTcpSocket *socket, qint64 limit, Reject reject)
        : QObject(socket)
        , m_socket(socket)
        , m_limit(limit)
        , m_reject(std::move(reject))
    {
        // Connected before QHttpServer connects its own slot, so this runs first.
        connect(socket, &QTcpSocket::readyRead, this, &BodyGuard::onReadyRead);
    }

private:
    enum class State { Headers, Body, Chunked, Rejected };
    static constexpr qsizetype kMaxHeaderBytes = 64 * 1024;

    void onReadyRead()
    {
        if (m_state == State::Rejected) {
            m_socket->readAll(); // discard; QHttpServer must never see this request
            return;
        }
        const QByteArray chunk = m_socket->peek(m_socket->bytesAvailable());
        feed(chunk.constData(), chunk.size());
    }

    void feed(const char *p, qsizetype n)
    {
        while (n > 0 && m_state != State::Rejected) {
            switch (m_state) {
            case State::Headers: {
                const qsizetype before = m_head.size();
                m_head.append(p, n);
                const qsizetype end = m_head.indexOf("\r\n\r\n");
                if (end < 0) {
                    if (m_head.size() > kMaxHeaderBytes)
                        reject(431, QStringLiteral("The request headers are larger than %1 bytes.").arg(kMaxHeaderBytes));
                    return;
                }
                const qsizetype used = end + 4 - before; // bytes of this chunk that were header
                p += used;
                n -= used;
                startBody(m_head.left(end));
                m_head.clear();
                break;
            }
            case State::Body: {
                const qsizetype take = qsizetype(std::min<qint64>(n, m_remaining));
                p += take;
                n -= take;
                m_remaining -= take;
                if (m_remaining == 0)
                    m_state = State::Headers;
                break;
            }
            case State::Chunked: {
                // Count the bytes; find the last chunk ("0\r\n\r\n") to know where the request ends.
                m_tail.append(p, n);
                const qsizetype end = m_tail.indexOf("\r\n0\r\n\r\n");
                const qsizetype used = end < 0 ? n : std::max<qsizetype>(0, end + 7 - (m_tail.size() - n));
                m_chunkedBytes += used;
                p += used;
                n -= used;
                if (m_chunkedBytes > m_limit) {
                    reject(413, QStringLiteral("The request body is larger than the %1 bytes this backend accepts.").arg(m_limit));
                    return;
                }
                if (end >= 0) {
                    m_state = State::Headers;
                    m_tail.clear();
                } else if (m_tail.size() > 16) {
                    m_tail = m_tail.right(16);
                }
                break;
            }
            case State::Rejected: return;
            }
        }
    }

    void startBody(const QByteArray &head)
    {
        const qsizetype lineEnd = head.indexOf("\r\n");
        const QByteArray requestLine = head.left(lineEnd < 0 ? head.size() : lineEnd);
        const QList<QByteArray> parts = requestLine.split(' ');
        m_method = parts.value(0);
        m_path = parts.value(1);
        qint64 length = 0;
        bool chunked = false, expectContinue = false;
        const QList<QByteArray> lines = head.mid(lineEnd + 2).split('\n');
        for (const QByteArray &raw : lines) {
            const QByteArray line = raw.trimmed();
            const qsizetype colon = line.indexOf(':');
            if (colon <= 0)
                continue;
            const QByteArray name = line.left(colon).trimmed().toLower();
            const QByteArray value = line.mid(colon + 1).trimmed();
            if (name == "content-length")
                length = value.toLongLong();
            else if (name == "transfer-encoding" && value.toLower().contains("chunked"))
                chunked = true;
            else if (name == "expect" && value.toLower() == "100-continue")
                expectContinue = true;
        }
        if (length > m_limit) {
            reject(413, QStringLiteral("The request body has %1 bytes; this backend accepts at most %2 bytes.")
                            .arg(length)
                            .arg(m_limit));
            return;
        }
        if (expectContinue)
            m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
        if (chunked) {
            m_state = State::Chunked;
            m_chunkedBytes = 0;
            m_tail.clear();
        } else if (length > 0) {
            m_state = State::Body;
            m_remaining = length;
        } else {
            m_state = State::Headers;
        }
    }

    void reject(int status, const QString &message)
    {
        m_state = State::Rejected;
        const QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("error"), message},
                                                          {QStringLiteral("status"), status}})
                                    .toJson(QJsonDocument::Compact);
        const QByteArray reason = status == 413 ? "Payload Too Large" : "Request Header Fields Too Large";
        m_socket->readAll();
        m_socket->write("HTTP/1.1 " + QByteArray::number(status) + ' ' + reason
                        + "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size())
                        + "\r\nConnection: close\r\n\r\n" + body);
        m_socket->disconnectFromHost();
        if (m_reject)
            m_reject(m_method, m_path, status);
    }

    QTcpSocket *m_socket;
    qint64 m_limit;
    Reject m_reject;
    State m_state = State::Headers;
    QByteArray m_head;
    QByteArray m_tail;
    qint64 m_remaining = 0;
    qint64 m_chunkedBytes = 0;
    QByteArray m_method;
    QByteArray m_path;
};

// A QTcpServer that wraps every accepted socket in a BodyGuard.
class GuardedTcpServer final : public QTcpServer
{
public:
    GuardedTcpServer(qint64 limit, BodyGuard::Reject reject, QObject *parent)
        : QTcpServer(parent)
        , m_limit(limit)
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
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        new BodyGuard(socket, m_limit, m_reject);
        addPendingConnection(socket);
    }

private:
    qint64 m_limit;
    BodyGuard::Reject m_reject;
};

} // namespace

HttpWorker::HttpWorker(std::shared_ptr<const BackendApi> api, std::shared_ptr<ServerMetrics> metrics, RequestLog log,
                       qint64 maxBodyBytes)
    : m_api(std::move(api))
    , m_metrics(std::move(metrics))
    , m_log(std::move(log))
    , m_maxBodyBytes(maxBodyBytes)
{
}

HttpWorker::~HttpWorker()
{
    shutdown();
}

QTcpServer *HttpWorker::makeListener()
{
    auto reject = [this](const QByteArray &method, const QByteArray &path, qint64 status) {
        ApiRequest r;
        r.method = method;
        r.path = QString::fromUtf8(path);
        ApiResponse resp;
        resp.status = int(status);
        finish(r, QStringLiteral("rejected"), resp, 0);
    };
    return new GuardedTcpServer(m_maxBodyBytes, reject, this);
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
            const ApiRequest r = toApiRequest(request);
            const ApiResponse response = m_api->handle(route, r);
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
        const ApiRequest r = toApiRequest(request);
        Route routed = Route::Root;
        const ApiResponse response = m_api->handleUnmatched(r, &routed);
        QString key = QStringLiteral("unmatched");
        if (response.status != 404 && response.status != 405 && response.status != 401)
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
