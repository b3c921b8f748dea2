#pragma once
// The embedded Label Studio ML backend: /health, /setup, /predict, /webhook, /versions, /metrics
// over HTTP, served by QHttpServer in worker threads of its own (never the GUI thread).
// The GUI (one-click backend) and `loopdeck serve` own one; start()/stop() are called from the
// owner's thread and state, errors, the request log and webhooks arrive as signals there.
#include "core/backend/backendtypes.h"

#include <QList>
#include <QObject>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

QT_BEGIN_NAMESPACE
class QJsonObject;
class QThread;
class QTimer;
QT_END_NAMESPACE

namespace loopdeck::backend {

class HttpWorker;
class LoopControl;
class LoopEvents;
class PredictionService;
class ServerMetrics;

class BackendServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BackendServer)
public:
    enum class State { Stopped, Listening, Failed };
    Q_ENUM(State)

    // Without a service, start() makes one from config.dataDir (registry + active models).
    explicit BackendServer(std::shared_ptr<PredictionService> service = {}, QObject *parent = nullptr);
    ~BackendServer() override;

    // Binds and starts serving; returns false with a sentence in *error (also emitted as
    // errorOccurred) when the config is refused or the port cannot be bound. Takes a few ms.
    bool start(const ServerConfig &config, QString *error = nullptr);
    // Closes the socket and every connection, then joins the threads. Safe to call twice.
    void stop();

    State state() const { return m_state; }
    bool isListening() const { return m_state == State::Listening; }
    ServerConfig config() const { return m_config; }
    quint16 port() const { return m_port; }       // bound port while listening
    int threadCount() const { return int(m_threads.size()); }
    quint16 suggestedPort() const { return m_suggestedPort; } // set when the port was busy
    QString lastError() const { return m_lastError; }

    std::shared_ptr<PredictionService> predictionService() const { return m_service; }
    std::shared_ptr<ServerMetrics> metrics() const { return m_metrics; }
    QJsonObject metricsJson() const; // the same document GET /metrics answers

    // Optional: called on a server thread for every valid webhook before it is answered, so
    // the store can keep annotations in a transaction first. Return "" when kept, else why not.
    // Must be thread-safe and fast (Label Studio waits 1 s). Set before start().
    void setWebhookSink(std::function<WebhookOutcome(const WebhookEvent &)> sink);
    // Optional: the loop behind /loop/* and the "details" of /versions. Set before start().
    void setLoopControl(std::shared_ptr<LoopControl> loop);
    // Optional: the loop's events behind GET /loop/events. Set before start().
    void setLoopEvents(std::shared_ptr<LoopEvents> events);

    // A sentence saying why the config must not be served, or empty when it is fine.
    static QString checkConfig(const ServerConfig &config);
    static bool isLoopbackHost(const QString &host);
    // A port near `preferred` that can be bound on host now (0 when none is found).
    static quint16 suggestFreePort(const QString &host, quint16 preferred);
    // Threads used when ServerConfig::threads is 0.
    static int automaticThreadCount();

Q_SIGNALS:
    void stateChanged(loopdeck::backend::BackendServer::State state);
    void listening(const QString &host, quint16 port);
    void stopped();
    void errorOccurred(const QString &message);
    // The request log, delivered in this object's thread in batches every 100 ms (so a burst of
    // requests never floods the GUI's event loop). At most 1000 records per batch; the rest
    // are counted in requestsDropped.
    void requestServed(const loopdeck::backend::RequestRecord &record);
    void requestsDropped(int count);
    void webhookReceived(const loopdeck::backend::WebhookEvent &event);
    void projectSetup(const QString &projectId, const QString &hostname, const QString &modelVersion);

protected:
    void connectNotify(const QMetaMethod &signal) override;
    void disconnectNotify(const QMetaMethod &signal) override;

private:
    void fail(const QString &message);
    void drainLog();
    void destroyWorkers();

    std::shared_ptr<PredictionService> m_service;
    std::shared_ptr<ServerMetrics> m_metrics;
    std::function<WebhookOutcome(const WebhookEvent &)> m_webhookSink;
    std::shared_ptr<LoopControl> m_loop;
    std::shared_ptr<LoopEvents> m_events;
    ServerConfig m_config;
    State m_state = State::Stopped;
    quint16 m_port = 0;
    quint16 m_suggestedPort = 0;
    QString m_lastError;
    std::vector<QThread *> m_threads;
    std::vector<HttpWorker *> m_workers;
    QTimer *m_logTimer = nullptr;

    struct LogQueue {
        std::atomic<int> listeners{0}; // connections to requestServed; 0 = keep no records
        std::mutex mutex;
        QList<RequestRecord> records;
        int dropped = 0;
    };
    std::shared_ptr<LogQueue> m_log;
};

} // namespace loopdeck::backend
