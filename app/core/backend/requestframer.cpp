#include "core/backend/requestframer.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace loopdeck::backend {

namespace {

bool isTokenChar(char c)
{
    // RFC 9110 tchar
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool isToken(const QByteArray &s)
{
    return !s.isEmpty() && std::all_of(s.cbegin(), s.cend(), isTokenChar);
}

bool isDigits(const QByteArray &s)
{
    return !s.isEmpty() && std::all_of(s.cbegin(), s.cend(), [](char c) { return c >= '0' && c <= '9'; });
}

} // namespace

QByteArray RequestHead::header(const char *name) const
{
    for (const auto &h : headers)
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    return {};
}

QByteArray RequestHead::path() const
{
    const qsizetype q = target.indexOf('?');
    return q < 0 ? target : target.left(q);
}

QByteArray RequestHead::query() const
{
    const qsizetype q = target.indexOf('?');
    return q < 0 ? QByteArray() : target.mid(q + 1);
}

RequestFramer::RequestFramer(Limits limits, HeadCheck check, RequestDone done, bool keepBodies)
    : m_limits(limits)
    , m_check(std::move(check))
    , m_done(std::move(done))
    , m_keepBodies(keepBodies)
{
}

std::optional<FramingError> RequestFramer::fail(FramingError error)
{
    m_state = State::Failed;
    m_head.clear();
    m_body.clear();
    return error;
}

std::optional<FramingError> RequestFramer::parseHead(const QByteArray &block, RequestHead *head, const Limits &limits)
{
    *head = RequestHead();
    const QList<QByteArray> lines = block.split('\n');
    // Every line ended in CRLF (the caller found the final CRLF CRLF and checked for bare LF),
    // so every line but the last still ends in '\r' here.
    QList<QByteArray> clean;
    clean.reserve(lines.size());
    for (qsizetype i = 0; i < lines.size(); ++i) {
        QByteArray line = lines[i];
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.contains('\r') || line.contains('\0'))
            return FramingError{400, QStringLiteral("The request headers contain a stray CR or NUL byte.")};
        clean.append(line);
    }
    const QList<QByteArray> parts = clean.value(0).split(' ');
    if (parts.size() != 3 || !isToken(parts[0]) || parts[1].isEmpty())
        return FramingError{400, QStringLiteral("The request line is not \"METHOD /path HTTP/1.1\".")};
    head->method = parts[0];
    head->target = parts[1];
    head->version = parts[2];
    if (head->version != "HTTP/1.1" && head->version != "HTTP/1.0")
        return FramingError{505, QStringLiteral("Only HTTP/1.1 and HTTP/1.0 are spoken here.")};
    if (!head->target.startsWith('/'))
        return FramingError{400, QStringLiteral("The request target must be a path starting with '/'.")};
    for (char c : std::as_const(head->target))
        if (uchar(c) <= 0x20 || uchar(c) >= 0x7f)
            return FramingError{400, QStringLiteral("The request target contains a control, space or non-ASCII byte.")};
    if (clean.size() - 1 > limits.maxHeaderCount)
        return FramingError{431, QStringLiteral("The request has more than %1 header lines.").arg(limits.maxHeaderCount)};

    std::optional<qint64> length;
    for (qsizetype i = 1; i < clean.size(); ++i) {
        const QByteArray &line = clean[i];
        if (line.startsWith(' ') || line.startsWith('\t'))
            return FramingError{400, QStringLiteral("Folded header lines (starting with a space) are not accepted.")};
        const qsizetype colon = line.indexOf(':');
        const QByteArray name = colon > 0 ? line.left(colon) : QByteArray();
        if (!isToken(name))
            return FramingError{400, QStringLiteral("A header line is not \"Name: value\".")};
        const QByteArray value = line.mid(colon + 1).trimmed();
        const QByteArray lower = name.toLower();
        if (lower == "transfer-encoding")
            return FramingError{411, QStringLiteral("Transfer-Encoding (chunked bodies) is not accepted; send the body with a Content-Length header.")};
        if (lower == "upgrade")
            return FramingError{400, QStringLiteral("Protocol upgrades are not supported by this ML backend.")};
        if (lower == "content-length") {
            if (!isDigits(value) || value.size() > 18)
                return FramingError{400, QStringLiteral("Content-Length must be a decimal number of bytes, not \"%1\".")
                                             .arg(QString::fromLatin1(value.left(40)))};
            const qint64 n = value.toLongLong();
            if (length && *length != n)
                return FramingError{400, QStringLiteral("The request has two different Content-Length headers.")};
            length = n;
        }
        head->headers.append({name, value});
    }
    head->contentLength = length.value_or(0);
    if (head->method == "CONNECT" || head->method == "TRACE")
        return FramingError{405, QStringLiteral("%1 is not allowed on this ML backend.").arg(QString::fromLatin1(head->method))};
    if (head->contentLength > limits.maxBodyBytes)
        return FramingError{413, QStringLiteral("The request body has %1 bytes; this backend accepts at most %2 bytes.")
                                     .arg(head->contentLength)
                                     .arg(limits.maxBodyBytes)};
    return std::nullopt;
}

std::optional<FramingError> RequestFramer::feed(const char *p, qsizetype n)
{
    while (n > 0) {
        switch (m_state) {
        case State::Failed: return std::nullopt;
        case State::Head: {
            const qsizetype before = m_head.size();
            const qsizetype room = m_limits.maxHeaderBytes + 4 - before;
            const qsizetype take = std::min(n, room);
            m_head.append(p, take);
            // Look for the end only from where new bytes could complete it.
            const qsizetype from = std::max<qsizetype>(0, before - 3);
            const qsizetype end = m_head.indexOf("\r\n\r\n", from);
            const qsizetype scanTo = end < 0 ? m_head.size() : end + 4;
            for (qsizetype i = std::max<qsizetype>(0, before); i < scanTo; ++i) {
                if (m_head[i] == '\n' && (i == 0 || m_head[i - 1] != '\r'))
                    return fail({400, QStringLiteral("A header line ends in a bare LF; HTTP lines end in CRLF.")});
            }
            if (end < 0) {
                if (m_head.size() > m_limits.maxHeaderBytes)
                    return fail({431, QStringLiteral("The request headers are larger than %1 bytes.").arg(m_limits.maxHeaderBytes)});
                p += take;
                n -= take;
                break;
            }
            const qsizetype used = end + 4 - before;
            p += used;
            n -= used;
            const QByteArray block = m_head.left(end);
            m_head.clear();
            if (auto error = parseHead(block, &m_current, m_limits))
                return fail(*error);
            if (m_check)
                if (auto refused = m_check(m_current))
                    return fail(*refused);
            ++m_requests;
            m_remaining = m_current.contentLength;
            m_body.clear();
            if (m_remaining > 0) {
                m_state = State::Body;
            } else if (m_keepBodies && m_done) {
                m_done(m_current, QByteArray());
            }
            break;
        }
        case State::Body: {
            const qsizetype take = qsizetype(std::min<qint64>(n, m_remaining));
            if (m_keepBodies)
                m_body.append(p, take);
            p += take;
            n -= take;
            m_remaining -= take;
            if (m_remaining == 0) {
                m_state = State::Head;
                if (m_keepBodies && m_done) {
                    const QByteArray body = std::exchange(m_body, QByteArray());
                    m_done(m_current, body);
                }
            }
            break;
        }
        }
    }
    return std::nullopt;
}

} // namespace loopdeck::backend
