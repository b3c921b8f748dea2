#pragma once
// One HTTP serving thread of BackendServer: a QHttpServer with the backend routes, fed by a
// listening socket (the first worker opens it; the others share a duplicate of it, so the
// kernel hands each new connection to whichever thread accepts first). Each accepted socket
// gets a guard (a RequestFramer) that refuses a request from its headers alone - bad framing,
// a body over the limit, or whatever BackendApi::admit() refuses - before its body is read.
// Open connections are counted over all workers; beyond ServerConfig::maxConnections a new
// one gets 503 and is closed.
// Created by BackendServer and moved to its own QThread; all methods run in that thread.
#include "core/backend/backendapi.h"

#include <QObject>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>

QT_BEGIN_NAMESPACE
class QHttpServer;
class QTcpServer;
QT_END_NAMESPACE

namespace loopdeck::backend {

class ServerMetrics;

class HttpWorker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpWorker)
public:
    using RequestLog = std::function<void(const RequestRecord &)>;

    HttpWorker(std::shared_ptr<const BackendApi> api, std::shared_ptr<ServerMetrics> metrics, RequestLog log,
               std::shared_ptr<std::atomic<int>> openConnections);
    ~HttpWorker() override;

    // Opens the listening socket. On failure *error says why and *addressInUse tells a busy port.
    bool listen(const QString &host, quint16 port, quint16 *boundPort, QString *error, bool *addressInUse);
    // Serves from a descriptor that already listens (a dup of the first worker's socket).
    bool adopt(qintptr descriptor, QString *error);
    qintptr socketDescriptor() const;
    // Closes the listener and every open connection.
    void shutdown();

private:
    void setUpRoutes();
    void finish(const ApiRequest &request, const QString &route, const ApiResponse &response, qint64 nanoseconds);
    QTcpServer *makeListener();

    std::shared_ptr<const BackendApi> m_api;
    std::shared_ptr<ServerMetrics> m_metrics;
    RequestLog m_log;
    std::shared_ptr<std::atomic<int>> m_open;
    QHttpServer *m_http = nullptr;
    QTcpServer *m_listener = nullptr;
};

} // namespace loopdeck::backend
