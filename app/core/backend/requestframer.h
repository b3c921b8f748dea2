#pragma once
// Finds where each HTTP/1.1 request on one connection begins and ends, from raw bytes as they
// arrive, without any socket: a pure byte-fed parser. HttpWorker runs one per connection in
// front of QHttpServer so that a request can be judged from its headers alone (size, framing,
// auth, Content-Type, Origin) before its body is buffered; the fuzz target feeds it raw bytes.
// Framing is deliberately narrow, the way Label Studio talks to an ML backend: a body is framed
// by one Content-Length only. Transfer-Encoding (chunked or any other) is refused with 411,
// conflicting or malformed Content-Length with 400, so this parser and QHttpServer can never
// disagree about where a request ends (no request smuggling, no desynchronisation).
// Not thread-safe; one instance per connection, used from that connection's thread.
#include "core/backend/backendapi.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

#include <functional>
#include <optional>

namespace loopdeck::backend {

struct RequestHead {
    QByteArray method;  // "POST"
    QByteArray target;  // "/predict?x=1" as sent
    QByteArray version; // "HTTP/1.1"
    QList<QPair<QByteArray, QByteArray>> headers; // names as sent, values trimmed
    qint64 contentLength = 0;

    // The value of the first header with this name (case-insensitive), or a null QByteArray.
    QByteArray header(const char *name) const;
    // The path part of the target ("/predict" for "/predict?x=1").
    QByteArray path() const;
    QByteArray query() const;
};

// A request the framer refused: the HTTP status and one English sentence saying why, or the
// whole response when the head check made one.
struct FramingError {
    FramingError(int status, QString message, std::optional<ApiResponse> response = std::nullopt)
        : status(status)
        , message(std::move(message))
        , response(std::move(response))
    {
    }
    int status = 400;
    QString message;
    std::optional<ApiResponse> response;
    // Not an error: the guard in front of QHttpServer answers this request itself (the event
    // stream, which stays open); nothing more of the connection is read by the framer.
    bool takeOver = false;
};

class RequestFramer final
{
public:
    struct Limits {
        qint64 maxBodyBytes = 32ll * 1024 * 1024;
        qsizetype maxHeaderBytes = 64 * 1024;
        int maxHeaderCount = 100;
    };
    // Called once a request's headers are complete. Return an error to refuse the request
    // (nothing more of the connection is read), or nullopt to let it through.
    using HeadCheck = std::function<std::optional<FramingError>(const RequestHead &)>;
    // Called for every complete request when bodies are kept (see keepBodies).
    using RequestDone = std::function<void(const RequestHead &, const QByteArray &body)>;

    explicit RequestFramer(Limits limits, HeadCheck check = {}, RequestDone done = {}, bool keepBodies = false);

    // Feeds the next bytes of the connection. Returns the error that ends the connection, once;
    // after an error every later call returns nullopt and consumes nothing.
    std::optional<FramingError> feed(const char *data, qsizetype size);
    std::optional<FramingError> feed(const QByteArray &bytes) { return feed(bytes.constData(), bytes.size()); }

    bool failed() const { return m_state == State::Failed; }
    // True between requests (no partial request buffered).
    bool idle() const { return m_state == State::Head && m_head.isEmpty(); }
    // The head of the request being received or the last one, for logging a refusal.
    const RequestHead &current() const { return m_current; }
    // Requests whose headers passed the check so far.
    int requestCount() const { return m_requests; }

    // Parses a complete header block (request line + header lines, without the final blank
    // line). Exposed for tests.
    static std::optional<FramingError> parseHead(const QByteArray &block, RequestHead *head, const Limits &limits);

private:
    enum class State { Head, Body, Failed };
    std::optional<FramingError> fail(FramingError error);

    Limits m_limits;
    HeadCheck m_check;
    RequestDone m_done;
    bool m_keepBodies;
    State m_state = State::Head;
    QByteArray m_head;
    QByteArray m_body;
    qint64 m_remaining = 0;
    RequestHead m_current;
    int m_requests = 0;
};

} // namespace loopdeck::backend
