#include "core/client/remoteloopclient.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSslConfiguration>
#include <QSslError>
#include <QTimer>
#include <QUrlQuery>
#include <QVersionNumber>

namespace loopdeck::client {

namespace {

constexpr int kMaxBackoffMs = 30000;
constexpr int kSlowRetryMs = 30000;    // a refused token or another version: no quick retries
constexpr int kStreamSilenceMs = 45000; // three missed heartbeats
constexpr qsizetype kMaxEventBytes = 4 * 1024 * 1024;

const char *const kSslErrorsProperty = "loopdeck_ssl_errors";

QString hostOf(const QUrl &url)
{
    return url.toDisplayString(QUrl::RemovePath | QUrl::RemoveQuery | QUrl::RemoveUserInfo | QUrl::RemoveFragment);
}

QString serverSentence(const QByteArray &body)
{
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    const QString sentence = doc.isObject() ? doc.object().value(QStringLiteral("error")).toString() : QString();
    return sentence.left(400);
}

// Same major.minor: the routes and JSON this client reads are the same.
bool compatibleVersion(const QString &theirs)
{
    const QVersionNumber mine = QVersionNumber::fromString(QStringLiteral(LOOPDECK_VERSION));
    const QVersionNumber other = QVersionNumber::fromString(theirs);
    return !other.isNull() && other.majorVersion() == mine.majorVersion() && other.minorVersion() == mine.minorVersion();
}

QString versionMismatch(const QUrl &url, const QString &theirs)
{
    return RemoteLoopClient::tr("%1 runs LoopDeck %2, this window is %3: use the same version on both (major and minor).")
        .arg(hostOf(url), theirs.isEmpty() ? RemoteLoopClient::tr("(unknown)") : theirs, QStringLiteral(LOOPDECK_VERSION));
}

// Keeps the TLS errors of a reply for describeFailure (they are gone once it has finished).
void recordSslErrors(QNetworkReply *reply)
{
    QObject::connect(reply, &QNetworkReply::sslErrors, reply, [reply](const QList<QSslError> &errors) {
        QStringList texts;
        for (const QSslError &e : errors)
            texts << e.errorString();
        reply->setProperty(kSslErrorsProperty, texts);
    });
}

} // namespace

bool RemoteLoopClient::isUsableToken(const QString &token)
{
    // Printable ASCII without spaces: a pasted line break must never end the Authorization header.
    for (const QChar c : token)
        if (c.unicode() <= 0x20 || c.unicode() >= 0x7f)
            return false;
    return true;
}

QString RemoteLoopClient::unusableTokenSentence()
{
    return tr("The operator token has characters a token cannot have (spaces, line breaks or non-ASCII); paste it again.");
}

void RemoteLoopClient::closeStream()
{
    QNetworkReply *reply = std::exchange(m_stream, nullptr);
    if (!reply)
        return;
    reply->disconnect(this); // its finished() (emitted by abort) must not reach onStreamEnded
    reply->abort();
    reply->deleteLater();
}

RemoteLoopClient::RemoteLoopClient(QObject *parent)
    : LoopClient(parent)
    , m_nam(new QNetworkAccessManager(this))
    , m_reconnect(new QTimer(this))
    , m_watchdog(new QTimer(this))
{
    m_reconnect->setSingleShot(true);
    connect(m_reconnect, &QTimer::timeout, this, &RemoteLoopClient::openStream);
    m_watchdog->setSingleShot(true);
    m_watchdog->setInterval(kStreamSilenceMs);
    connect(m_watchdog, &QTimer::timeout, this, [this] {
        if (m_stream)
            m_stream->abort(); // -> onStreamEnded: reconnect
    });
}

RemoteLoopClient::~RemoteLoopClient()
{
    ++m_generation;
    m_pendingDone.clear(); // nobody is left to tell
    closeStream();
}

QString RemoteLoopClient::describe() const
{
    return hostOf(m_endpoint.url);
}

void RemoteLoopClient::connectTo(const Endpoint &endpoint)
{
    disconnectFromServer();
    m_endpoint = endpoint;
    m_backoffMs = 1000;
    m_eventsReceived = 0;
    m_requestsSent = 0;
    if (!isUsableToken(endpoint.token)) {
        setUp(false, unusableTokenSentence());
        return;
    }
    openStream();
}

void RemoteLoopClient::disconnectFromServer()
{
    ++m_generation;
    m_reconnect->stop();
    m_watchdog->stop();
    closeStream();
    // Actions still waiting for an answer get one now: the connection they went to is gone.
    const QList<Done> waiting = m_pendingDone.values();
    m_pendingDone.clear();
    for (const Done &done : waiting)
        done(LoopResult::failure(tr("The connection to %1 changed before the answer came.").arg(hostOf(m_endpoint.url))));
    const QStringList known = m_order;
    m_projects.clear();
    m_order.clear();
    m_boot.clear();
    setUp(false, m_endpoint.url.isEmpty() ? QString() : tr("Disconnected from %1.").arg(hostOf(m_endpoint.url)));
    for (const QString &p : known)
        Q_EMIT statusChanged(p); // the views read "nothing" now
}

// ---- requests ---------------------------------------------------------------------------

QNetworkRequest RemoteLoopClient::request(const QString &path, const QString &query) const
{
    QUrl url = m_endpoint.url;
    QString base = url.path();
    if (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    url.setPath(base + path);
    url.setQuery(query);
    QNetworkRequest r(url);
    r.setRawHeader("Authorization", "Bearer " + m_endpoint.token.toUtf8());
    r.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    r.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    r.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    // A redirect would carry the token to wherever it points: never follow one.
    r.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    if (url.scheme() == QLatin1String("https")) {
        QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
        // Besides the system's, never instead of them (setting CAs would stop Qt loading those).
        if (!m_endpoint.caCertificates.isEmpty())
            ssl.setCaCertificates(QSslConfiguration::systemCaCertificates() + m_endpoint.caCertificates);
        r.setSslConfiguration(ssl);
    }
    return r;
}

QNetworkReply *RemoteLoopClient::send(const QByteArray &verb, const QString &path, const QString &query, const QByteArray &body)
{
    QNetworkRequest r = request(path, query);
    r.setTransferTimeout(m_endpoint.timeoutMs);
    ++m_requestsSent;
    QNetworkReply *reply = m_nam->sendCustomRequest(r, verb, body);
    recordSslErrors(reply);
    return reply;
}

void RemoteLoopClient::onFinished(QNetworkReply *reply,
                                  std::function<void(int status, const QByteArray &body, const QString &failure)> handle)
{
    const int generation = m_generation;
    connect(reply, &QNetworkReply::finished, this, [this, reply, generation, handle = std::move(handle)] {
        reply->deleteLater();
        if (generation != m_generation)
            return; // an answer for a connection that is gone
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QByteArray body = reply->readAll();
        QString failure;
        if (status != 200)
            failure = describeFailure(reply->url(), status, int(reply->error()), reply->errorString(), body,
                                      reply->property(kSslErrorsProperty).toStringList());
        handle(status, body, failure);
    });
}

QString RemoteLoopClient::describeFailure(const QUrl &url, int httpStatus, int networkError, const QString &networkErrorString,
                                          const QByteArray &body, const QStringList &sslErrors)
{
    const QString host = hostOf(url);
    const QString said = serverSentence(body);
    if (httpStatus == 0) {
        if (!sslErrors.isEmpty() || networkError == QNetworkReply::SslHandshakeFailedError)
            return tr("The TLS connection to %1 failed: %2. If its certificate comes from your team's own certificate authority, "
                      "give that CA's file in the connection.")
                .arg(host, sslErrors.isEmpty() ? networkErrorString : sslErrors.join(QStringLiteral("; ")));
        switch (networkError) {
        case QNetworkReply::ConnectionRefusedError:
            return tr("Nothing answers at %1 (connection refused): is `loopdeck serve` running there, on this port?").arg(host);
        case QNetworkReply::HostNotFoundError:
            return tr("The host name of %1 is not known.").arg(host);
        case QNetworkReply::TimeoutError:
        case QNetworkReply::OperationCanceledError:
            return tr("%1 did not answer in time.").arg(host);
        case QNetworkReply::RemoteHostClosedError:
            return tr("%1 closed the connection before answering.").arg(host);
        default: break;
        }
        return tr("Could not reach %1: %2.").arg(host, networkErrorString);
    }
    switch (httpStatus) {
    case 401:
        return tr("%1 refused the operator token: %2 On the server, `loopdeck operator-token` prints the current one.")
            .arg(host, said.isEmpty() ? tr("HTTP 401.") : said);
    case 404:
        return said.isEmpty() ? tr("%1 answered 404: is it a LoopDeck server (`loopdeck serve`) of this version?").arg(host)
                              : tr("%1: %2").arg(host, said);
    case 301: case 302: case 303: case 307: case 308:
        return tr("%1 redirects (HTTP %2); give the address it redirects to (the token is not sent on).").arg(host).arg(httpStatus);
    default: break;
    }
    return said.isEmpty() ? tr("%1 answered HTTP %2.").arg(host).arg(httpStatus) : tr("%1: %2").arg(host, said);
}

// ---- the event stream ----------------------------------------------------------------------

void RemoteLoopClient::openStream()
{
    if (m_endpoint.url.isEmpty())
        return;
    closeStream();
    m_streamBuffer.clear();
    m_eventName.clear();
    m_eventData.clear();
    m_streamChecked = false;
    ++m_streamId;
    QNetworkRequest r = request(QStringLiteral("/loop/events"));
    r.setRawHeader("Accept", "text/event-stream");
    ++m_requestsSent;
    QNetworkReply *reply = m_nam->get(r);
    m_stream = reply;
    recordSslErrors(reply);
    connect(reply, &QNetworkReply::readyRead, this, [this, reply] {
        if (reply == m_stream)
            onStreamData();
    });
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        if (reply == m_stream)
            onStreamEnded();
        reply->deleteLater();
    });
    m_watchdog->start();
}

void RemoteLoopClient::onStreamData()
{
    const int status = m_stream->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status != 200)
        return; // the body is an error document: read at the end
    if (!m_streamChecked) {
        m_streamChecked = true;
        const QString type = m_stream->header(QNetworkRequest::ContentTypeHeader).toString();
        if (!type.startsWith(QLatin1String("text/event-stream"))) {
            dropConnection(tr("%1 answered /loop/events with %2, not an event stream: is it a LoopDeck server (a proxy's page?)")
                               .arg(hostOf(m_endpoint.url), type.isEmpty() ? tr("no content type") : type.left(60)),
                           true);
            return;
        }
    }
    m_watchdog->start();
    m_streamBuffer += m_stream->readAll();
    // Server-Sent Events: lines; "field: value"; a blank line ends an event.
    qsizetype start = 0;
    for (;;) {
        const qsizetype nl = m_streamBuffer.indexOf('\n', start);
        if (nl < 0)
            break;
        QByteArray line = m_streamBuffer.mid(start, nl - start);
        start = nl + 1;
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.isEmpty()) {
            if (!m_eventData.isEmpty() || !m_eventName.isEmpty())
                dispatch(m_eventName.isEmpty() ? QByteArrayLiteral("message") : m_eventName, m_eventData);
            m_eventName.clear();
            m_eventData.clear();
            if (!m_stream)
                return; // dispatch() ended the stream (another version)
            continue;
        }
        if (line.startsWith(':'))
            continue; // heartbeat comment
        const qsizetype colon = line.indexOf(':');
        const QByteArray field = colon < 0 ? line : line.left(colon);
        QByteArray value = colon < 0 ? QByteArray() : line.mid(colon + 1);
        if (value.startsWith(' '))
            value.remove(0, 1);
        if (field == "event")
            m_eventName = value;
        else if (field == "data")
            m_eventData += (m_eventData.isEmpty() ? QByteArray() : QByteArrayLiteral("\n")) + value;
    }
    m_streamBuffer.remove(0, start);
    // What is still unparsed: no LoopDeck event is near this size.
    if (m_streamBuffer.size() + m_eventData.size() > kMaxEventBytes)
        dropConnection(tr("%1 sent an event larger than %2 MiB; reconnecting.").arg(hostOf(m_endpoint.url)).arg(kMaxEventBytes >> 20), false);
}

void RemoteLoopClient::onStreamEnded()
{
    QNetworkReply *reply = m_stream;
    m_stream = nullptr;
    m_watchdog->stop();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status == 200) {
        setUp(false, tr("The connection to %1 was lost; reconnecting.").arg(hostOf(m_endpoint.url)));
        scheduleReconnect(false);
        return;
    }
    setUp(false, describeFailure(reply->url(), status, int(reply->error()), reply->errorString(), reply->readAll(),
                                 reply->property(kSslErrorsProperty).toStringList()));
    // A refused token, a path that is not LoopDeck's or a refused host name does not fix itself quickly.
    scheduleReconnect(status == 401 || status == 403 || status == 404 || status == 421);
}

void RemoteLoopClient::dropConnection(const QString &why, bool slow)
{
    closeStream();
    m_watchdog->stop();
    setUp(false, why);
    scheduleReconnect(slow);
}

void RemoteLoopClient::scheduleReconnect(bool slow)
{
    if (m_endpoint.url.isEmpty() || m_reconnect->isActive())
        return; // one reconnect at a time, however many requests failed
    m_reconnect->start(slow ? kSlowRetryMs : m_backoffMs);
    if (!slow)
        m_backoffMs = std::min(m_backoffMs * 2, kMaxBackoffMs);
}

void RemoteLoopClient::setUp(bool up, const QString &error)
{
    const bool changed = up != m_up || error != m_error;
    m_up = up;
    m_error = up ? QString() : error;
    if (changed)
        Q_EMIT connectionChanged(m_up, m_error);
}

void RemoteLoopClient::dispatch(const QByteArray &event, const QByteArray &data)
{
    ++m_eventsReceived;
    const QJsonObject json = QJsonDocument::fromJson(data).object();
    if (event == "hello") {
        const QString version = json.value(QStringLiteral("version")).toString();
        if (!compatibleVersion(version)) {
            dropConnection(versionMismatch(m_endpoint.url, version), true);
            return;
        }
        m_boot = json.value(QStringLiteral("boot")).toString();
        setUp(true, QString());
        listProjects(); // the whole state once; events keep it fresh from here
        return;
    }
    const QString project = json.value(QStringLiteral("project")).toString();
    if (project.isEmpty())
        return;
    if (event == "status") {
        fetchStatus(project);
    } else if (event == "versions") {
        fetchVersions(project);
    } else if (event == "project_added") {
        m_projects[project].announce = true; // a project new to the loop (not one read at connect)
        refetchThen(project, {});            // projectAdded is emitted when its status lands
    } else if (event == "training_started") {
        const QString trigger = json.value(QStringLiteral("trigger")).toString();
        refetchThen(project, [this, project, trigger] { Q_EMIT trainingStarted(project, trigger); });
    } else if (event == "training_finished") {
        const int version = json.value(QStringLiteral("version")).toInt();
        const bool activated = json.value(QStringLiteral("activated")).toBool();
        const double previous = json.value(QStringLiteral("previous_accuracy")).toDouble(-1);
        const double accuracy = json.value(QStringLiteral("accuracy")).toDouble(-1);
        refetchThen(project, [=, this] { Q_EMIT trainingFinished(project, version, activated, previous, accuracy); });
    } else if (event == "training_failed") {
        const QString error = json.value(QStringLiteral("error")).toString();
        refetchThen(project, [this, project, error] { Q_EMIT trainingFailed(project, error); });
    } else if (event == "reconciled") {
        const int recovered = json.value(QStringLiteral("recovered")).toInt();
        refetchThen(project, [this, project, recovered] { Q_EMIT reconciled(project, recovered); });
    } else if (event == "predictions_refreshed") {
        const int version = json.value(QStringLiteral("version")).toInt();
        const int created = json.value(QStringLiteral("created")).toInt();
        const int sent = json.value(QStringLiteral("sent")).toInt();
        refetchThen(project, [=, this] { Q_EMIT predictionsRefreshed(project, version, created, sent); });
    }
}

// ---- the cached state ----------------------------------------------------------------------

void RemoteLoopClient::listProjects()
{
    const int stream = m_streamId;
    onFinished(send("GET", QStringLiteral("/loop/status")), [this, stream](int status, const QByteArray &body, const QString &failure) {
        if (stream != m_streamId)
            return; // for a stream that is gone
        if (status != 200) {
            // Reconnect and read everything again; an answer of the server (4xx) will not change quickly.
            dropConnection(failure, status >= 400 && status < 500);
            return;
        }
        m_backoffMs = 1000; // a whole connection worked
        const QJsonArray list = QJsonDocument::fromJson(body).object().value(QStringLiteral("projects")).toArray();
        QSet<QString> now;
        for (const QJsonValue &v : list)
            if (v.isString() && !v.toString().isEmpty())
                now.insert(v.toString());
        // Projects gone from the server (another data folder after a restart): forget them.
        const QStringList before = m_order;
        for (const QString &p : before)
            if (!now.contains(p)) {
                m_projects.remove(p);
                m_order.removeAll(p);
                Q_EMIT statusChanged(p);
            }
        for (const QJsonValue &v : list)
            if (v.isString() && !v.toString().isEmpty())
                refetchThen(v.toString(), {});
    });
}

void RemoteLoopClient::refetchThen(const QString &project, std::function<void()> then)
{
    Project &p = m_projects[project];
    if (then)
        p.afterFetch.append(std::move(then));
    fetchStatus(project);
    fetchVersions(project);
}

void RemoteLoopClient::refresh(const QString &project)
{
    if (m_up && !project.isEmpty())
        refetchThen(project, {});
}

void RemoteLoopClient::fetchStatus(const QString &project)
{
    Project &p = m_projects[project];
    if (p.statusBusy) {
        p.statusDirty = true; // one more read after the one in flight, however many events came
        return;
    }
    p.statusBusy = true;
    p.statusDirty = false;
    const int stream = m_streamId;
    onFinished(send("GET", QStringLiteral("/loop/status"), QStringLiteral("project=") + QString::fromLatin1(QUrl::toPercentEncoding(project))),
               [this, project, stream](int status, const QByteArray &body, const QString &failure) {
                   auto it = m_projects.find(project);
                   if (it == m_projects.end())
                       return;
                   it->statusBusy = false;
                   if (status == 200) {
                       QString why;
                       if (auto parsed = LoopStatus::fromJson(QJsonDocument::fromJson(body).object(), &why))
                           it->status = std::move(parsed);
                       else
                           qWarning("loopdeck: %s sent a status of %s that cannot be read: %s", qPrintable(describe()),
                                    qPrintable(project), qPrintable(why));
                   } else if (status == 404) {
                       it->status.reset();
                   } else if ((status == 0 || status == 401) && stream == m_streamId) {
                       // What the window shows may be stale now: reconnect and read everything again.
                       dropConnection(failure, status == 401);
                       return;
                   }
                   if (it->statusDirty) {
                       fetchStatus(project);
                       return;
                   }
                   if (!it->known && it->status) {
                       it->known = true;
                       if (!m_order.contains(project))
                           m_order.append(project);
                       // Only a project the loop just took in: the ones read at (re)connect are not new
                       // (the notifier treats a new project's first reconcile as its first import).
                       if (std::exchange(it->announce, false))
                           Q_EMIT projectAdded(project);
                   }
                   Q_EMIT statusChanged(project);
                   fetchDone(project);
               });
}

void RemoteLoopClient::fetchVersions(const QString &project)
{
    Project &p = m_projects[project];
    if (p.versionsBusy) {
        p.versionsDirty = true;
        return;
    }
    p.versionsBusy = true;
    p.versionsDirty = false;
    const int stream = m_streamId;
    onFinished(send("GET", QStringLiteral("/versions"), QStringLiteral("project=") + QString::fromLatin1(QUrl::toPercentEncoding(project))),
               [this, project, stream](int status, const QByteArray &body, const QString &failure) {
                   auto it = m_projects.find(project);
                   if (it == m_projects.end())
                       return;
                   it->versionsBusy = false;
                   if (status == 200) {
                       QList<VersionInfo> versions;
                       const QJsonArray details = QJsonDocument::fromJson(body).object().value(QStringLiteral("details")).toArray();
                       for (const QJsonValue &v : details)
                           if (auto parsed = VersionInfo::fromJson(v.toObject()))
                               versions.append(std::move(*parsed));
                       it->versions = std::move(versions);
                   } else if ((status == 0 || status == 401) && stream == m_streamId) {
                       dropConnection(failure, status == 401);
                       return;
                   }
                   if (it->versionsDirty) {
                       fetchVersions(project);
                       return;
                   }
                   Q_EMIT versionsChanged(project);
                   fetchDone(project);
               });
}

void RemoteLoopClient::fetchDone(const QString &project)
{
    auto it = m_projects.find(project);
    if (it == m_projects.end() || it->statusBusy || it->versionsBusy || it->afterFetch.isEmpty())
        return;
    const QList<std::function<void()>> waiting = std::exchange(it->afterFetch, {});
    for (const auto &f : waiting)
        f();
}

QStringList RemoteLoopClient::projects() const
{
    QStringList list = m_order;
    std::sort(list.begin(), list.end());
    return list;
}

std::optional<LoopStatus> RemoteLoopClient::status(const QString &project) const
{
    const auto it = m_projects.constFind(project);
    return it == m_projects.cend() ? std::nullopt : it->status;
}

QList<VersionInfo> RemoteLoopClient::versions(const QString &project) const
{
    const auto it = m_projects.constFind(project);
    return it == m_projects.cend() ? QList<VersionInfo>() : it->versions;
}

loop::LoopSettings RemoteLoopClient::settings(const QString &project) const
{
    const auto s = status(project);
    return s ? s->settings : loop::LoopSettings();
}

// ---- actions -------------------------------------------------------------------------------

void RemoteLoopClient::action(const QByteArray &verb, const QString &path, const QString &project, const QString &extraQuery,
                              const QByteArray &body, Done done)
{
    if (m_endpoint.url.isEmpty()) {
        QTimer::singleShot(0, this, [done] { done(LoopResult::failure(tr("Not connected to a LoopDeck server."))); });
        return;
    }
    QString query = QStringLiteral("project=") + QString::fromLatin1(QUrl::toPercentEncoding(project));
    if (!extraQuery.isEmpty())
        query += QLatin1Char('&') + extraQuery;
    // Every action is answered exactly once: here, or by disconnectFromServer with a failure.
    const quint64 id = ++m_nextAction;
    m_pendingDone.insert(id, std::move(done));
    const auto finish = [this, id](const LoopResult &r) {
        const auto it = m_pendingDone.find(id);
        if (it == m_pendingDone.end())
            return;
        const Done d = it.value();
        m_pendingDone.erase(it);
        d(r);
    };
    onFinished(send(verb, path, query, body.isEmpty() ? QByteArrayLiteral("{}") : body),
               [this, project, finish](int status, const QByteArray &answer, const QString &failure) {
                   if (status != 200) {
                       finish(LoopResult::failure(failure, status));
                       return;
                   }
                   const QJsonObject json = QJsonDocument::fromJson(answer).object();
                   // The reads show the change before `done` runs.
                   refetchThen(project, [finish, json] {
                       LoopResult r = LoopResult::success(json);
                       r.httpStatus = 200;
                       finish(r);
                   });
               });
}

void RemoteLoopClient::train(const QString &project, Done done)
{
    action("POST", QStringLiteral("/loop/train"), project, {}, {}, std::move(done));
}

void RemoteLoopClient::cancel(const QString &project, Done done)
{
    action("POST", QStringLiteral("/loop/cancel"), project, {}, {}, std::move(done));
}

void RemoteLoopClient::activate(const QString &project, int version, Done done)
{
    action("POST", QStringLiteral("/loop/activate"), project, QStringLiteral("version=%1").arg(version), {}, std::move(done));
}

void RemoteLoopClient::rollback(const QString &project, Done done)
{
    action("POST", QStringLiteral("/loop/rollback"), project, {}, {}, std::move(done));
}

void RemoteLoopClient::setSettings(const QString &project, const loop::LoopSettings &settings, Done done)
{
    action("POST", QStringLiteral("/loop/settings"), project, {}, QJsonDocument(settings.toJson()).toJson(QJsonDocument::Compact),
           std::move(done));
}

// ---- connection dialog ---------------------------------------------------------------------

QList<QSslCertificate> RemoteLoopClient::loadCaFile(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = tr("Could not read the CA file %1: %2.").arg(path, file.errorString());
        return {};
    }
    const QList<QSslCertificate> certs = QSslCertificate::fromData(file.read(4 * 1024 * 1024), QSsl::Pem);
    if (certs.isEmpty())
        *error = tr("The CA file %1 holds no PEM certificate.").arg(path);
    return certs;
}

void RemoteLoopClient::testConnection(const Endpoint &endpoint, QObject *context, std::function<void(bool, const QString &)> done)
{
    if (!isUsableToken(endpoint.token)) {
        QTimer::singleShot(0, context, [done] { done(false, unusableTokenSentence()); });
        return;
    }
    // A client of its own: /loop/status (token and routes) then /health (version).
    auto *probe = new RemoteLoopClient(context);
    probe->m_endpoint = endpoint;
    probe->onFinished(probe->send("GET", QStringLiteral("/loop/status")),
                      [probe, done](int status, const QByteArray &, const QString &failure) {
                          if (status != 200) {
                              done(false, failure);
                              probe->deleteLater();
                              return;
                          }
                          probe->onFinished(probe->send("GET", QStringLiteral("/health")),
                                            [probe, done](int status, const QByteArray &body, const QString &failure) {
                                                const QString version = QJsonDocument::fromJson(body).object()
                                                                            .value(QStringLiteral("version")).toString();
                                                if (status != 200)
                                                    done(false, failure);
                                                else if (!compatibleVersion(version))
                                                    done(false, versionMismatch(probe->m_endpoint.url, version));
                                                else
                                                    done(true, tr("Connected to LoopDeck %1 at %2.").arg(version, probe->describe()));
                                                probe->deleteLater();
                                            });
                      });
}

} // namespace loopdeck::client
