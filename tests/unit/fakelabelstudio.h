#pragma once
// A stand-in for Label Studio (or any HTTP server) on a loopback port, for unit tests of code
// that talks to it through the real LabelStudioClient: it records every request and answers
// each with what the test's script returns — a whole HTTP response (httpResponse()), or nothing,
// which leaves the request hanging (the client's time-out, or a server that never answers).
// Each answer closes its connection. Fakes are for what a real Label Studio does not do on
// request (5xx, dropped filters, deleted tasks at the right moment); tests/integration/ has the
// real one.
#include <QByteArray>
#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QObject>
#include <QStringList>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrl>
#include <QUrlQuery>

#include <functional>

namespace loopdeck::test {

// One HTTP/1.1 request as the fake received it.
struct FakeRequest {
    QByteArray method;
    QByteArray target; // the request target as sent: path and query
    QByteArray head;   // request line and headers
    QByteArray body;
    qint64 atMs = 0;   // when it arrived, on the fake's clock

    QString path() const { return QUrl(QString::fromLatin1(target)).path(); }
    QUrlQuery query() const { return QUrlQuery(QUrl(QString::fromLatin1(target)).query(QUrl::FullyDecoded)); }
    QString queryItem(const char *name) const { return query().queryItemValue(QLatin1String(name), QUrl::FullyDecoded); }
};

// A complete response with a JSON content type; the connection closes after it.
inline QByteArray httpResponse(int status, const QByteArray &body, const QByteArray &extraHeaders = {})
{
    return "HTTP/1.1 " + QByteArray::number(status) + " X\r\nContent-Type: application/json\r\nContent-Length: "
           + QByteArray::number(body.size()) + "\r\nConnection: close\r\n" + extraHeaders + "\r\n" + body;
}

class FakeLabelStudio final : public QObject
{
public:
    // `index` counts requests from 0. An empty answer leaves the request unanswered.
    using Script = std::function<QByteArray(const FakeRequest &, int index)>;

    explicit FakeLabelStudio(Script script)
        : m_script(std::move(script))
    {
        m_clock.start();
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onData(socket); });
                // A client gone mid-request leaves no bytes behind for a later socket at the
                // same address.
                connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
                    m_buffers.remove(socket);
                    socket->deleteLater();
                });
            }
        });
        if (!m_server.listen(QHostAddress::LocalHost, 0))
            qFatal("fake Label Studio cannot listen");
    }

    ~FakeLabelStudio() override
    {
        // The sockets (the server's children) go after m_buffers: they must not call back.
        for (QTcpSocket *socket : m_server.findChildren<QTcpSocket *>())
            QObject::disconnect(socket, nullptr, this, nullptr);
    }

    void setScript(Script script) { m_script = std::move(script); }
    quint16 port() const { return m_server.serverPort(); }
    QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port())); }
    QString url(const char *path) const { return url().toString() + QLatin1String(path); }
    const QList<FakeRequest> &requests() const { return m_seen; }
    // The decoded paths asked for, in order.
    QStringList paths() const
    {
        QStringList out;
        for (const FakeRequest &r : m_seen)
            out << r.path();
        return out;
    }
    const QElapsedTimer &clock() const { return m_clock; }
    // Runs when a request has arrived, before the script answers it.
    std::function<void(const FakeRequest &)> onRequest;

private:
    void onData(QTcpSocket *socket)
    {
        QByteArray &buffer = m_buffers[socket];
        buffer += socket->readAll();
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        FakeRequest request;
        request.head = buffer.left(end);
        qint64 length = 0;
        for (const QByteArray &line : request.head.split('\n'))
            if (line.trimmed().toLower().startsWith("content-length:"))
                length = line.trimmed().mid(15).trimmed().toLongLong();
        if (buffer.size() < end + 4 + length)
            return;
        request.atMs = m_clock.elapsed();
        request.body = buffer.mid(end + 4, length);
        const QList<QByteArray> requestLine = request.head.left(request.head.indexOf("\r\n")).split(' ');
        request.method = requestLine.value(0);
        request.target = requestLine.value(1);
        m_buffers.remove(socket);
        const int index = int(m_seen.size());
        m_seen.append(request);
        if (onRequest)
            onRequest(request);
        const QByteArray answer = m_script(request, index);
        if (answer.isEmpty())
            return; // no answer: the client waits for its time-out
        socket->write(answer);
        socket->disconnectFromHost();
    }

    QTcpServer m_server;
    Script m_script;
    QList<FakeRequest> m_seen;
    QHash<QTcpSocket *, QByteArray> m_buffers;
    QElapsedTimer m_clock;
};

} // namespace loopdeck::test
