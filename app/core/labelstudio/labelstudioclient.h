#pragma once
// Asynchronous client for Label Studio's REST API over QNetworkAccessManager. Never blocks:
// each call takes a callback that runs later on this object's thread (and never after the
// client is destroyed). Handles both token kinds (see TokenAuth): a Personal Access Token is
// exchanged for a Bearer access token, refreshed shortly before expiry and once on a 401,
// with a single refresh in flight while other requests wait for it. Redirects are followed only
// within the server's origin; one to another scheme, host or port is refused (Redirected), so
// the token never leaves for another server.
// Used by the dashboard, the ML backend panel, `loopdeck projects` and the integration tests.
#include "labelstudio/lserror.h"
#include "labelstudio/lstypes.h"
#include "labelstudio/tokenauth.h"

#include <QObject>
#include <QPointer>
#include <QUrl>
#include <QUrlQuery>

#include <chrono>
#include <functional>

class QNetworkAccessManager;
class QNetworkReply;

namespace loopdeck::labelstudio {

template <typename T>
using Callback = std::function<void(const T &value, const LsError &error)>;

struct MlBackendRegistration {
    QString url;            // e.g. http://127.0.0.1:9090
    int project = 0;
    QString title = QStringLiteral("LoopDeck");
    QString description;
    QString basicAuthUser;  // both set -> auth_method BASIC_AUTH
    QString basicAuthPassword;
    bool isInteractive = false;
    int timeoutSeconds = 100;
};

class LabelStudioClient final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LabelStudioClient)

public:
    explicit LabelStudioClient(QObject *parent = nullptr);
    ~LabelStudioClient() override;

    // Points the client at a server. Cancels what is in flight (callbacks get Cancelled).
    void setServer(const QUrl &baseUrl, const QString &token);
    QUrl baseUrl() const { return m_base; }
    TokenKind tokenKind() const { return m_auth.kind(); }
    const TokenAuth &auth() const { return m_auth; }

    // PAT only: use an access token obtained elsewhere (e.g. restored from a previous session).
    // If the server no longer takes it, the client refreshes once and retries.
    void useAccessToken(const QString &access) { m_auth.setAccessToken(access); }

    void setTimeout(std::chrono::milliseconds timeout) { m_timeout = timeout; }
    std::chrono::milliseconds timeout() const { return m_timeout; }
    void setProjectPageSize(int size) { m_pageSize = size; }

    // Reads
    void checkHealth(Callback<bool> done);                 // GET /health/ (no auth)
    void fetchVersion(Callback<ServerVersion> done);       // GET /api/version/
    void fetchWhoAmI(Callback<User> done);                 // GET /api/current-user/whoami
    void fetchProjectPage(int page, Callback<ProjectPage> done);
    void fetchProjects(Callback<QList<Project>> done);     // every page, in server order
    void fetchProject(int id, Callback<Project> done);
    void fetchMlBackends(int project, Callback<QList<MlBackend>> done);

    // Writes
    void createProject(const QString &title, const QString &labelConfig, Callback<Project> done);
    void importTasks(int project, const QByteArray &tasksJsonArray, Callback<ImportResult> done);
    void createAnnotation(int task, const QByteArray &annotationJson, Callback<QByteArray> done);
    // Registers the backend, or returns the project's existing registration for the same URL.
    void registerMlBackend(const MlBackendRegistration &registration, Callback<MlBackend> done);
    // DM action retrieve_tasks_predictions for the given tasks (all tasks when empty).
    void retrievePredictions(int project, const QList<int> &taskIds, Callback<QByteArray> done);
    void createPersonalAccessToken(Callback<QString> done); // POST /api/token/

    // Any JSON call, for what has no typed wrapper yet. `path` starts with "/".
    void sendRaw(const QByteArray &verb, const QString &path, const QUrlQuery &query, const QByteArray &body,
                 Callback<QByteArray> done);

Q_SIGNALS:
    // A PAT was exchanged for a fresh access token valid until `expires` (UTC; invalid if unknown).
    void accessTokenRefreshed(const QDateTime &expires);

private:
    struct Pending {
        QByteArray verb;
        QUrl url;
        QByteArray body;
        bool authenticated = true;
        bool retriedAfterRefresh = false;
        Callback<QByteArray> done;
    };

    void enqueue(Pending request);
    void dispatch(Pending request);
    void startRefresh();
    void finishRefresh(const LsError &error);
    QUrl urlFor(const QString &path, const QUrlQuery &query = {}) const;
    template <typename T, typename Parser>
    void sendParsed(const QByteArray &verb, const QString &path, const QUrlQuery &query, const QByteArray &body,
                    Parser parser, Callback<T> done);
    template <typename T, typename Parser>
    void getParsed(const QString &path, const QUrlQuery &query, Parser parser, Callback<T> done);
    void fetchProjectsFrom(int page, QList<Project> collected, Callback<QList<Project>> done);

    QNetworkAccessManager *m_nam;
    QUrl m_base;
    TokenAuth m_auth;
    std::chrono::milliseconds m_timeout {15000};
    int m_pageSize = 100;
    bool m_refreshing = false;
    QList<Pending> m_waitingForRefresh;
    quint64 m_generation = 0; // bumped by setServer(): replies of an older server are dropped
};

} // namespace loopdeck::labelstudio
