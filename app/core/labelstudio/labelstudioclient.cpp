#include "labelstudio/labelstudioclient.h"
#include "labelstudio/lsparse.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>

#include <nlohmann/json.hpp>

namespace loopdeck::labelstudio {

LabelStudioClient::LabelStudioClient(QObject *parent)
    : QObject(parent)
    , m_nam(new QNetworkAccessManager(this))
{
    // Redirects are followed only within the server's origin (same scheme, host and port):
    // QNetworkAccessManager resends every header of the request on a redirect, Authorization
    // included, and a PAT travels in the body of the refresh. A redirect to another origin ends
    // the request with LsError::Kind::Redirected, naming where the server pointed.
    m_nam->setRedirectPolicy(QNetworkRequest::SameOriginRedirectPolicy);
}

LabelStudioClient::~LabelStudioClient()
{
    // Replies are children of m_nam; aborting them here would call back into a dying object.
    m_generation++;
    m_waitingForRefresh.clear();
}

void LabelStudioClient::setServer(const QUrl &baseUrl, const QString &token)
{
    m_generation++;
    QUrl base = baseUrl;
    QString path = base.path();
    while (path.endsWith(u'/'))
        path.chop(1);
    base.setPath(path);
    m_base = base;
    m_auth = TokenAuth(token);
    m_refreshing = false;
    const auto waiting = std::exchange(m_waitingForRefresh, {});
    LsError cancelled;
    cancelled.kind = LsError::Kind::Cancelled;
    for (const Pending &p : waiting)
        p.done({}, cancelled);
    for (QNetworkReply *reply : m_nam->findChildren<QNetworkReply *>())
        reply->abort();
}

QUrl LabelStudioClient::urlFor(const QString &path, const QUrlQuery &query) const
{
    QUrl url = m_base;
    url.setPath(m_base.path() + path);
    if (!query.isEmpty())
        url.setQuery(query);
    return url;
}

void LabelStudioClient::enqueue(Pending request)
{
    if (request.authenticated && m_auth.kind() == TokenKind::PersonalAccessToken
        && (m_refreshing || m_auth.needsRefresh(QDateTime::currentDateTimeUtc()))) {
        m_waitingForRefresh.append(std::move(request));
        if (!m_refreshing)
            startRefresh();
        return;
    }
    dispatch(std::move(request));
}

void LabelStudioClient::dispatch(Pending request)
{
    QNetworkRequest req(request.url);
    req.setTransferTimeout(int(m_timeout.count()));
    req.setRawHeader("Accept", "application/json");
    if (!request.body.isEmpty() || request.verb == "POST" || request.verb == "PATCH")
        req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    if (request.authenticated) {
        const QByteArray header = m_auth.authorizationHeader();
        if (!header.isEmpty())
            req.setRawHeader("Authorization", header);
    }
    QNetworkReply *reply = m_nam->sendCustomRequest(req, request.verb, request.body);
    const quint64 generation = m_generation;
    connect(reply, &QNetworkReply::finished, this, [this, reply, generation, request = std::move(request)]() mutable {
        reply->deleteLater();
        const QByteArray body = reply->isOpen() ? reply->readAll() : QByteArray();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        auto netError = reply->error();
        // Only setServer() and the destructor abort on purpose, and both change the generation;
        // any other cancellation is the transfer timeout firing.
        if (netError == QNetworkReply::OperationCanceledError && generation == m_generation)
            netError = QNetworkReply::TimeoutError;
        if (generation != m_generation) {
            LsError cancelled;
            cancelled.kind = LsError::Kind::Cancelled;
            request.done({}, cancelled);
            return;
        }
        if (status >= 200 && status < 300) {
            request.done(body, {});
            return;
        }
        // One refresh-and-retry for a PAT whose access token the server no longer takes.
        if (status == 401 && request.authenticated && !request.retriedAfterRefresh
            && m_auth.kind() == TokenKind::PersonalAccessToken) {
            request.retriedAfterRefresh = true;
            m_auth.clearAccessToken();
            enqueue(std::move(request));
            return;
        }
        if (netError == QNetworkReply::InsecureRedirectError) {
            LsError error;
            error.kind = LsError::Kind::Redirected;
            error.httpStatus = status;
            error.detail = reply->errorString();
            QUrl target = reply->attribute(QNetworkRequest::RedirectionTargetAttribute).toUrl();
            if (target.isEmpty())
                target = QUrl::fromEncoded(reply->rawHeader("Location"));
            error.url = request.url.resolved(target).toString(QUrl::RemoveUserInfo | QUrl::RemoveQuery);
            request.done({}, error);
            return;
        }
        LsError error = classifyFailure(netError, status, body, reply->errorString(), false);
        error.url = request.url.toString(QUrl::RemoveUserInfo | QUrl::RemoveQuery);
        request.done({}, error);
    });
}

void LabelStudioClient::startRefresh()
{
    m_refreshing = true;
    nlohmann::json body = {{"refresh", m_auth.token().toStdString()}};
    Pending refresh;
    refresh.verb = "POST";
    refresh.url = urlFor(QStringLiteral("/api/token/refresh/"));
    refresh.body = QByteArray::fromStdString(body.dump());
    refresh.authenticated = false;
    const quint64 generation = m_generation;
    refresh.done = [this, generation](const QByteArray &answer, const LsError &error) {
        if (generation != m_generation)
            return;
        if (error.isError()) {
            LsError e = error;
            if (e.kind == LsError::Kind::InvalidToken) {
                const QString d = e.detail.toLower();
                if (d.contains(QLatin1String("blacklisted")) || d.contains(QLatin1String("expired")))
                    e.kind = LsError::Kind::TokenExpired;
            }
            finishRefresh(e);
            return;
        }
        QString access;
        LsError parseError;
        if (!parseAccessToken(answer, &access, &parseError)) {
            finishRefresh(parseError);
            return;
        }
        m_auth.setAccessToken(access);
        Q_EMIT accessTokenRefreshed(m_auth.accessExpiry().value_or(QDateTime()));
        finishRefresh({});
    };
    dispatch(std::move(refresh));
}

void LabelStudioClient::finishRefresh(const LsError &error)
{
    m_refreshing = false;
    const auto waiting = std::exchange(m_waitingForRefresh, {});
    for (Pending p : waiting) {
        if (error.isError())
            p.done({}, error);
        else
            dispatch(std::move(p));
    }
}

void LabelStudioClient::sendRaw(const QByteArray &verb, const QString &path, const QUrlQuery &query,
                                const QByteArray &body, Callback<QByteArray> done)
{
    Pending p;
    p.verb = verb;
    p.url = urlFor(path, query);
    p.body = body;
    p.done = std::move(done);
    enqueue(std::move(p));
}

template <typename T, typename Parser>
void LabelStudioClient::sendParsed(const QByteArray &verb, const QString &path, const QUrlQuery &query,
                                   const QByteArray &body, Parser parser, Callback<T> done)
{
    sendRaw(verb, path, query, body, [parser, done = std::move(done)](const QByteArray &answer, const LsError &error) {
        T value {};
        LsError e = error;
        if (!e.isError() && !parser(answer, &value, &e))
            value = T {};
        done(value, e);
    });
}

template <typename T, typename Parser>
void LabelStudioClient::getParsed(const QString &path, const QUrlQuery &query, Parser parser, Callback<T> done)
{
    sendParsed<T>("GET", path, query, {}, parser, std::move(done));
}

void LabelStudioClient::checkHealth(Callback<bool> done)
{
    Pending p;
    p.verb = "GET";
    p.url = urlFor(QStringLiteral("/health/"));
    p.authenticated = false;
    p.done = [done = std::move(done)](const QByteArray &body, const LsError &error) {
        if (error.isError()) {
            done(false, error);
            return;
        }
        const auto doc = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
        if (!doc.is_object() || doc.value("status", std::string()) != "UP") {
            done(false, LsError::badResponse(QStringLiteral("status"),
                                             QStringLiteral("should be \"UP\"; is this a Label Studio server?")));
            return;
        }
        done(true, {});
    };
    dispatch(std::move(p));
}

void LabelStudioClient::fetchVersion(Callback<ServerVersion> done)
{
    getParsed<ServerVersion>(QStringLiteral("/api/version/"), {}, parseVersion, std::move(done));
}

void LabelStudioClient::fetchWhoAmI(Callback<User> done)
{
    getParsed<User>(QStringLiteral("/api/current-user/whoami"), {}, parseUser, std::move(done));
}

void LabelStudioClient::fetchProjectPage(int page, Callback<ProjectPage> done)
{
    QUrlQuery q;
    q.addQueryItem(QStringLiteral("page"), QString::number(page));
    q.addQueryItem(QStringLiteral("page_size"), QString::number(m_pageSize));
    getParsed<ProjectPage>(QStringLiteral("/api/projects/"), q, parseProjectPage, std::move(done));
}

void LabelStudioClient::fetchProjectsFrom(int page, QList<Project> collected, Callback<QList<Project>> done)
{
    fetchProjectPage(page, [this, page, collected = std::move(collected), done = std::move(done)](
                               const ProjectPage &result, const LsError &error) mutable {
        if (error.isError()) {
            done({}, error);
            return;
        }
        collected.append(result.projects);
        // Follow by page number, not the `next` URL: behind a proxy that URL may name another host.
        if (result.hasNext && !result.projects.isEmpty() && collected.size() < result.count)
            fetchProjectsFrom(page + 1, std::move(collected), std::move(done));
        else
            done(collected, {});
    });
}

void LabelStudioClient::fetchProjects(Callback<QList<Project>> done)
{
    fetchProjectsFrom(1, {}, std::move(done));
}

void LabelStudioClient::fetchProject(int id, Callback<Project> done)
{
    getParsed<Project>(QStringLiteral("/api/projects/%1/").arg(id), {}, parseProject, std::move(done));
}

void LabelStudioClient::fetchMlBackends(int project, Callback<QList<MlBackend>> done)
{
    QUrlQuery q;
    q.addQueryItem(QStringLiteral("project"), QString::number(project));
    getParsed<QList<MlBackend>>(QStringLiteral("/api/ml/"), q, parseMlBackends, std::move(done));
}

void LabelStudioClient::createProject(const QString &title, const QString &labelConfig, Callback<Project> done)
{
    nlohmann::json body = {{"title", title.toStdString()}};
    if (!labelConfig.isEmpty())
        body["label_config"] = labelConfig.toStdString();
    sendParsed<Project>("POST", QStringLiteral("/api/projects/"), {}, QByteArray::fromStdString(body.dump()), parseProject,
                        std::move(done));
}

void LabelStudioClient::importTasks(int project, const QByteArray &tasksJsonArray, Callback<ImportResult> done)
{
    QUrlQuery q;
    q.addQueryItem(QStringLiteral("return_task_ids"), QStringLiteral("true"));
    sendParsed<ImportResult>("POST", QStringLiteral("/api/projects/%1/import").arg(project), q, tasksJsonArray,
                             parseImportResult, std::move(done));
}

void LabelStudioClient::createAnnotation(int task, const QByteArray &annotationJson, Callback<QByteArray> done)
{
    sendRaw("POST", QStringLiteral("/api/tasks/%1/annotations/").arg(task), {}, annotationJson, std::move(done));
}

void LabelStudioClient::registerMlBackend(const MlBackendRegistration &reg, Callback<MlBackend> done)
{
    fetchMlBackends(reg.project, [this, reg, done = std::move(done)](const QList<MlBackend> &existing,
                                                                    const LsError &error) {
        if (error.isError()) {
            done({}, error);
            return;
        }
        const auto normalized = [](QString u) {
            while (u.endsWith(u'/'))
                u.chop(1);
            return u;
        };
        for (const MlBackend &b : existing) {
            if (normalized(b.url) == normalized(reg.url)) {
                done(b, {});
                return;
            }
        }
        nlohmann::json body = {{"url", reg.url.toStdString()},
                               {"project", reg.project},
                               {"title", reg.title.toStdString()},
                               {"description", reg.description.toStdString()},
                               {"is_interactive", reg.isInteractive},
                               {"timeout", reg.timeoutSeconds},
                               {"auto_update", true}};
        const bool basic = !reg.basicAuthUser.isEmpty() || !reg.basicAuthPassword.isEmpty();
        body["auth_method"] = basic ? "BASIC_AUTH" : "NONE";
        if (basic) {
            body["basic_auth_user"] = reg.basicAuthUser.toStdString();
            body["basic_auth_pass"] = reg.basicAuthPassword.toStdString();
        }
        sendParsed<MlBackend>("POST", QStringLiteral("/api/ml/"), {}, QByteArray::fromStdString(body.dump()),
                              parseMlBackend, done);
    });
}

void LabelStudioClient::retrievePredictions(int project, const QList<int> &taskIds, Callback<QByteArray> done)
{
    QUrlQuery q;
    q.addQueryItem(QStringLiteral("id"), QStringLiteral("retrieve_tasks_predictions"));
    q.addQueryItem(QStringLiteral("project"), QString::number(project));
    nlohmann::json selected;
    if (taskIds.isEmpty()) {
        selected = {{"all", true}, {"excluded", nlohmann::json::array()}};
    } else {
        auto ids = nlohmann::json::array();
        for (int id : taskIds)
            ids.push_back(id);
        selected = {{"all", false}, {"included", ids}};
    }
    const nlohmann::json body = {{"selectedItems", selected}};
    sendRaw("POST", QStringLiteral("/api/dm/actions"), q, QByteArray::fromStdString(body.dump()), std::move(done));
}

void LabelStudioClient::createPersonalAccessToken(Callback<QString> done)
{
    sendParsed<QString>("POST", QStringLiteral("/api/token/"), {}, {}, parseCreatedToken, std::move(done));
}

} // namespace loopdeck::labelstudio
