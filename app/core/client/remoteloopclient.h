#pragma once
// A loop in another process, often on another machine: a `loopdeck serve` reached over HTTP(S)
// with its operator token (operatortoken.h). One event stream (GET /loop/events, Server-Sent
// Events) stays open; on every (re)connect the client reads the project list, each project's
// status and versions once, and afterwards only what an event names. So an idle window costs the
// server one open connection and a heartbeat line every 15 s, not a poll.
//
// When the server goes away the client says so (isUp() false, connectionError() a sentence,
// connectionChanged) and reconnects by itself, 1 s doubling to 30 s; a refused token or a server
// of another version is not retried in a loop (30 s apart). GUI thread (any one thread).
#include "core/client/loopclient.h"

#include <QHash>
#include <QList>
#include <QPointer>
#include <QSet>
#include <QSslCertificate>

#include <memory>

QT_BEGIN_NAMESPACE
class QNetworkAccessManager;
class QNetworkReply;
class QNetworkRequest;
class QTimer;
QT_END_NAMESPACE

namespace loopdeck::client {

class RemoteLoopClient final : public LoopClient
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RemoteLoopClient)
public:
    struct Endpoint {
        QUrl url;                        // http(s)://host:port[/prefix] of `loopdeck serve`
        QString token;                   // its operator token
        QList<QSslCertificate> caCertificates; // trusted besides the system's (a team's own CA)
        int timeoutMs = 15000;           // per request (not the event stream)
    };

    explicit RemoteLoopClient(QObject *parent = nullptr);
    ~RemoteLoopClient() override;

    // Connects (again) to `endpoint`; forgets what it knew of the previous one.
    void connectTo(const Endpoint &endpoint);
    // Closes the stream; reads answer empty, isUp() false.
    void disconnectFromServer();
    Endpoint endpoint() const { return m_endpoint; }

    // One check for a connection dialog: reaches the server, its version and the token.
    // `done(ok, sentence)` says what is wrong in words (unreachable, TLS, token, version).
    static void testConnection(const Endpoint &endpoint, QObject *context, std::function<void(bool ok, const QString &message)> done);
    // Whether a pasted token can go into a header (printable ASCII, no spaces), and the sentence when not.
    static bool isUsableToken(const QString &token);
    static QString unusableTokenSentence();
    // Reads PEM certificates (a team's CA) from a file; *error says why not.
    static QList<QSslCertificate> loadCaFile(const QString &path, QString *error);

    Where where() const override { return Where::Remote; }
    QString describe() const override;
    bool isUp() const override { return m_up; }
    QString connectionError() const override { return m_error; }

    QStringList projects() const override;
    std::optional<LoopStatus> status(const QString &project) const override;
    QList<VersionInfo> versions(const QString &project) const override;
    loop::LoopSettings settings(const QString &project) const override;
    void refresh(const QString &project) override;

    void train(const QString &project, Done done) override;
    void cancel(const QString &project, Done done) override;
    void activate(const QString &project, int version, Done done) override;
    void rollback(const QString &project, Done done) override;
    void setSettings(const QString &project, const loop::LoopSettings &settings, Done done) override;

    // Events received and requests sent since connectTo (the idle-cost test reads them).
    qint64 eventsReceived() const { return m_eventsReceived; }
    qint64 requestsSent() const { return m_requestsSent; }

    // The sentence for a failed request (also used by testConnection).
    static QString describeFailure(const QUrl &url, int httpStatus, int networkError, const QString &networkErrorString,
                                   const QByteArray &body, const QStringList &sslErrors);

private:
    struct Project {
        std::optional<LoopStatus> status;
        QList<VersionInfo> versions;
        bool known = false;              // its first status came
        bool announce = false;           // named by a project_added event: emit projectAdded
        bool statusBusy = false, statusDirty = false;
        bool versionsBusy = false, versionsDirty = false;
        // Signals that wait for the next status and versions to land (trainingFinished, ...).
        QList<std::function<void()>> afterFetch;
    };

    QNetworkRequest request(const QString &path, const QString &query = {}) const;
    QNetworkReply *send(const QByteArray &verb, const QString &path, const QString &query = {}, const QByteArray &body = {});
    // Calls `handle(status, body, sentence)` when the reply ends; ignores replies of an older connection.
    void onFinished(QNetworkReply *reply, std::function<void(int status, const QByteArray &body, const QString &failure)> handle);
    void action(const QByteArray &verb, const QString &path, const QString &project, const QString &extraQuery,
                const QByteArray &body, Done done);

    void openStream();
    void onStreamData();
    void onStreamEnded();
    void dispatch(const QByteArray &event, const QByteArray &data);
    void scheduleReconnect(bool slow);
    // Ends the event stream's reply, if any, without it reaching onStreamEnded.
    void closeStream();
    // Ends the stream (if open), says why, and reconnects (slowly for what does not fix itself).
    void dropConnection(const QString &why, bool slow);
    void setUp(bool up, const QString &error);
    void listProjects();
    void fetchStatus(const QString &project);
    void fetchVersions(const QString &project);
    void fetchDone(const QString &project);
    // Refetches both, then runs `then` (a signal for the window).
    void refetchThen(const QString &project, std::function<void()> then);

    Endpoint m_endpoint;
    QNetworkAccessManager *m_nam = nullptr;
    QPointer<QNetworkReply> m_stream;
    QByteArray m_streamBuffer;
    QByteArray m_eventName, m_eventData;
    QTimer *m_reconnect = nullptr;
    QTimer *m_watchdog = nullptr;        // nothing heard from the stream for 45 s: it is dead
    int m_backoffMs = 1000;
    int m_generation = 0;                // bumped by connectTo/disconnect: older replies are ignored
    bool m_up = false;
    QString m_error;
    QString m_boot;                      // the server's loop id from "hello"
    QHash<QString, Project> m_projects;
    QStringList m_order;
    int m_streamId = 0;                  // bumped per stream: a failure of an older one's request is not this one's
    bool m_streamChecked = false;        // its Content-Type was looked at
    QHash<quint64, Done> m_pendingDone;  // actions waiting for their answer
    quint64 m_nextAction = 0;
    qint64 m_eventsReceived = 0;
    qint64 m_requestsSent = 0;
};

} // namespace loopdeck::client
