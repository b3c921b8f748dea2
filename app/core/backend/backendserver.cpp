#include "core/backend/backendserver.h"

#include "core/backend/loopcontrol.h"

#include "core/backend/backendapi.h"
#include "core/backend/httpworker.h"
#include "core/backend/modelregistry.h"
#include "core/backend/predictionservice.h"
#include "core/backend/servermetrics.h"

#include <QHostAddress>
#include <QJsonObject>
#include <QMetaMethod>
#include <QTcpServer>
#include <QThread>
#include <QTimer>

#include <algorithm>

#ifdef Q_OS_UNIX
#include <unistd.h>
#endif

namespace loopdeck::backend {

namespace {
constexpr int kMaxLogBatch = 1000;
constexpr int kLogIntervalMs = 100;
} // namespace

BackendServer::BackendServer(std::shared_ptr<PredictionService> service, QObject *parent)
    : QObject(parent)
    , m_service(std::move(service))
    , m_metrics(std::make_shared<ServerMetrics>())
    , m_log(std::make_shared<LogQueue>())
{
    qRegisterMetaType<loopdeck::backend::RequestRecord>();
    qRegisterMetaType<loopdeck::backend::WebhookEvent>();
    m_logTimer = new QTimer(this);
    m_logTimer->setInterval(kLogIntervalMs);
    connect(m_logTimer, &QTimer::timeout, this, &BackendServer::drainLog);
}

BackendServer::~BackendServer()
{
    destroyWorkers();
}

void BackendServer::setLoopControl(std::shared_ptr<LoopControl> loop)
{
    m_loop = std::move(loop);
}

void BackendServer::setLoopEvents(std::shared_ptr<LoopEvents> events)
{
    m_events = std::move(events);
}

void BackendServer::setWebhookSink(std::function<WebhookOutcome(const WebhookEvent &)> sink)
{
    m_webhookSink = std::move(sink);
}

bool BackendServer::isLoopbackHost(const QString &host)
{
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
        return true;
    const QHostAddress address(host);
    return !address.isNull() && address.isLoopback();
}

QString BackendServer::checkConfig(const ServerConfig &config)
{
    if (config.host.trimmed().isEmpty())
        return QStringLiteral("No address to listen on; use 127.0.0.1 for this computer only.");
    if (config.host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) != 0 && QHostAddress(config.host).isNull())
        return QStringLiteral("\"%1\" is not an IP address to listen on (use e.g. 127.0.0.1, or 0.0.0.0 for every network).")
            .arg(config.host);
    if (config.basicAuthUser.isEmpty() != config.basicAuthPassword.isEmpty())
        return QStringLiteral("Basic auth needs both a user and a password (Label Studio's BASIC_AUTH sends both).");
    if (config.maxBodyBytes <= 0)
        return QStringLiteral("The maximum request body size must be more than 0 bytes.");
    if (!isLoopbackHost(config.host) && !config.hasAuth() && !config.forceInsecureBind)
        return QStringLiteral("Refusing to listen on %1 without a password: anyone who can reach this computer could read "
                              "predictions and send fake annotations. Set a Basic auth user and password (and the same in "
                              "Label Studio's model settings), listen on 127.0.0.1, or force the insecure bind if the network "
                              "is trusted.")
            .arg(config.host);
    return {};
}

quint16 BackendServer::suggestFreePort(const QString &host, quint16 preferred)
{
    QHostAddress address = host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0
                               ? QHostAddress(QHostAddress::LocalHost)
                               : QHostAddress(host);
    if (address.isNull())
        address = QHostAddress(QHostAddress::LocalHost);
    for (int p = int(preferred) + 1; p <= std::min(65535, int(preferred) + 100); ++p) {
        QTcpServer probe;
        if (probe.listen(address, quint16(p)))
            return quint16(p);
    }
    QTcpServer probe;
    if (probe.listen(address, 0))
        return probe.serverPort();
    return 0;
}

int BackendServer::automaticThreadCount()
{
    return std::clamp(QThread::idealThreadCount(), 1, 4);
}

QJsonObject BackendServer::metricsJson() const
{
    if (!m_service)
        return m_metrics->toJson();
    return BackendApi::metricsDocument(*m_metrics, *m_service, int(m_threads.size()));
}

void BackendServer::fail(const QString &message)
{
    m_lastError = message;
    m_state = State::Failed;
    Q_EMIT stateChanged(m_state);
    Q_EMIT errorOccurred(message);
}

bool BackendServer::start(const ServerConfig &config, QString *error)
{
    if (m_state == State::Listening)
        stop();
    m_config = config;
    m_suggestedPort = 0;
    m_port = 0;
    const auto failWith = [&](const QString &message) {
        if (error)
            *error = message;
        fail(message);
        return false;
    };
    if (const QString refused = checkConfig(config); !refused.isEmpty())
        return failWith(refused);

    if (!m_service) {
        auto registry = config.dataDir.isEmpty() ? nullptr : std::make_shared<ModelRegistry>(config.dataDir);
        m_service = std::make_shared<PredictionService>(registry);
        QStringList warnings;
        m_service->loadActiveFromRegistry(&warnings);
        for (const QString &w : warnings)
            Q_EMIT errorOccurred(w);
    }
    m_metrics->reset();

    int threads = config.threads > 0 ? config.threads : automaticThreadCount();
#ifndef Q_OS_UNIX
    threads = 1; // sharing one listening socket between threads needs dup()
#endif
    ApiHooks hooks;
    hooks.webhookSink = m_webhookSink;
    hooks.loop = m_loop;
    hooks.events = m_events;
    // Emitted from a server thread: receivers in this object's thread get them queued.
    hooks.webhookReceived = [this](const WebhookEvent &event) { Q_EMIT webhookReceived(event); };
    hooks.setupDone = [this](const QString &projectId, const QString &hostname, const SetupOutcome &outcome) {
        Q_EMIT projectSetup(projectId, hostname, outcome.modelVersion);
    };
    auto api = std::make_shared<const BackendApi>(m_service, m_metrics, config, hooks, threads);
    std::weak_ptr<LogQueue> weakLog = m_log;
    HttpWorker::RequestLog log = [weakLog](const RequestRecord &record) {
        const auto queue = weakLog.lock();
        if (!queue || queue->listeners.load(std::memory_order_relaxed) == 0)
            return;
        std::lock_guard lock(queue->mutex);
        if (queue->records.size() < kMaxLogBatch)
            queue->records.append(record);
        else
            ++queue->dropped;
    };

    auto openConnections = std::make_shared<std::atomic<int>>(0);
    for (int i = 0; i < threads; ++i) {
        auto *thread = new QThread;
        thread->setObjectName(QStringLiteral("loopdeck-http-%1").arg(i));
        auto *worker = new HttpWorker(api, m_metrics, log, openConnections);
        worker->moveToThread(thread);
        thread->start();
        m_threads.push_back(thread);
        m_workers.push_back(worker);
    }

    bool ok = false, inUse = false;
    QString why;
    quint16 bound = 0;
    qintptr descriptor = -1;
    HttpWorker *first = m_workers.front();
    QMetaObject::invokeMethod(
        first,
        [&] {
            ok = first->listen(config.host, config.port, &bound, &why, &inUse);
            descriptor = first->socketDescriptor();
        },
        Qt::BlockingQueuedConnection);
    if (!ok) {
        destroyWorkers();
        if (inUse) {
            m_suggestedPort = suggestFreePort(config.host, config.port);
            return failWith(
                m_suggestedPort
                    ? QStringLiteral("Port %1 on %2 is already in use by another program (perhaps another ML backend). "
                                     "Port %3 is free: choose it, or stop the other program.")
                          .arg(config.port)
                          .arg(config.host)
                          .arg(m_suggestedPort)
                    : QStringLiteral("Port %1 on %2 is already in use by another program, and no free port was found nearby.")
                          .arg(config.port)
                          .arg(config.host));
        }
        return failWith(QStringLiteral("Cannot listen on %1 port %2: %3").arg(config.host).arg(config.port).arg(why));
    }
#ifdef Q_OS_UNIX
    for (std::size_t i = 1; i < m_workers.size(); ++i) {
        HttpWorker *worker = m_workers[i];
        const int copy = ::dup(int(descriptor));
        bool adopted = false;
        if (copy >= 0)
            QMetaObject::invokeMethod(worker, [&] { adopted = worker->adopt(copy, &why); }, Qt::BlockingQueuedConnection);
        if (!adopted) {
            if (copy >= 0)
                ::close(copy);
            destroyWorkers();
            return failWith(QStringLiteral("Cannot start HTTP thread %1: %2").arg(i).arg(why));
        }
    }
#endif
    m_port = bound;
    m_lastError.clear();
    m_state = State::Listening;
    m_logTimer->start();
    Q_EMIT stateChanged(m_state);
    Q_EMIT listening(config.host, m_port);
    return true;
}

void BackendServer::destroyWorkers()
{
    for (HttpWorker *worker : m_workers)
        QMetaObject::invokeMethod(worker, [worker] { worker->shutdown(); }, Qt::BlockingQueuedConnection);
    for (QThread *thread : m_threads) {
        thread->quit();
        thread->wait();
    }
    for (HttpWorker *worker : m_workers)
        delete worker; // its thread has finished; it owns nothing any more
    for (QThread *thread : m_threads)
        delete thread;
    m_workers.clear();
    m_threads.clear();
}

void BackendServer::stop()
{
    if (m_workers.empty() && m_state != State::Listening)
        return;
    destroyWorkers();
    m_logTimer->stop();
    drainLog();
    m_port = 0;
    m_state = State::Stopped;
    Q_EMIT stateChanged(m_state);
    Q_EMIT stopped();
}

void BackendServer::connectNotify(const QMetaMethod &signal)
{
    if (signal == QMetaMethod::fromSignal(&BackendServer::requestServed))
        ++m_log->listeners;
}

void BackendServer::disconnectNotify(const QMetaMethod &signal)
{
    // An invalid method means "disconnected from everything".
    if (signal == QMetaMethod::fromSignal(&BackendServer::requestServed) || !signal.isValid())
        m_log->listeners = std::max(0, m_log->listeners - 1);
}

void BackendServer::drainLog()
{
    QList<RequestRecord> records;
    int dropped = 0;
    {
        std::lock_guard lock(m_log->mutex);
        records.swap(m_log->records);
        std::swap(dropped, m_log->dropped);
    }
    for (const RequestRecord &r : records)
        Q_EMIT requestServed(r);
    if (dropped > 0)
        Q_EMIT requestsDropped(dropped);
}

} // namespace loopdeck::backend
