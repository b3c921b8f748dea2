#pragma once
// The dashboard's live connection to one Label Studio server: owns the client, refreshes the
// server's version, the current user and every project on demand and on a timer, records each
// successful refresh in the local store, and reports its state. A failed refresh never stops
// the polling, so a server that comes back is picked up by the next tick. Nothing here blocks.
// Owned by MainWindow; the projects model, the detail pane and the backend panel read from it.
#include "labelstudio/labelstudioclient.h"
#include "store/store.h"

#include <QDateTime>
#include <QObject>
#include <QTimer>

#include <memory>

namespace loopdeck::gui {

class DashboardSession final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DashboardSession)

public:
    enum class State {
        NotConfigured, // no server or no token
        Connecting,    // first refresh after setServer() is under way
        Connected,     // the last refresh succeeded
        Disconnected,  // the server could not be reached (keeps polling)
        Failed,        // the server answered with an error (bad token, 403, bad JSON...)
    };
    Q_ENUM(State)

    explicit DashboardSession(QObject *parent = nullptr);
    ~DashboardSession() override;

    // Points at a server (cancelling what is in flight) and refreshes at once.
    void setServer(const QUrl &url, const QString &token);
    // Opens the store in `dir`; returns false and says why on failure (the dashboard still works).
    bool setDataDir(const QString &dir, QString *error);
    void setRefreshInterval(int seconds);
    int refreshInterval() const { return m_timer.interval() / 1000; }

    // Starts a refresh unless one is running (then the running one counts).
    void refresh();
    bool isRefreshing() const { return m_refreshing; }

    State state() const { return m_state; }
    // The error of the last failed refresh (LsError::message() sentence), or empty.
    QString errorMessage() const { return m_error.isError() ? m_error.message() : QString(); }
    const labelstudio::LsError &lastError() const { return m_error; }
    const labelstudio::ServerVersion &version() const { return m_version; }
    const labelstudio::User &user() const { return m_user; }
    const QList<labelstudio::Project> &projects() const { return m_projects; }
    QDateTime lastSuccess() const { return m_lastSuccess; }
    QUrl serverUrl() const { return m_client.baseUrl(); }
    // The key progress snapshots are stored under for this server.
    QString storeKey() const;
    labelstudio::TokenKind tokenKind() const { return m_client.tokenKind(); }

    labelstudio::LabelStudioClient &client() { return m_client; }
    // Null when the store could not be opened.
    const store::Store *progressStore() const { return m_store && m_store->isOpen() ? m_store.get() : nullptr; }
    QString storeError() const { return m_storeError; }

Q_SIGNALS:
    void stateChanged(loopdeck::gui::DashboardSession::State state);
    void refreshStarted();
    // After every refresh, successful or not.
    void refreshFinished(bool ok);
    // New project list (after a successful refresh).
    void projectsUpdated(const QList<loopdeck::labelstudio::Project> &projects, const QDateTime &at);
    // A problem with the local store (cannot open, cannot write).
    void storeProblem(const QString &message);

private:
    void setState(State state);
    void fail(const labelstudio::LsError &error);
    void fetchIdentity(quint64 generation);
    void fetchProjects(quint64 generation);

    labelstudio::LabelStudioClient m_client;
    QTimer m_timer;
    std::unique_ptr<store::Store> m_store;
    QString m_storeError;
    State m_state = State::NotConfigured;
    labelstudio::LsError m_error;
    labelstudio::ServerVersion m_version;
    labelstudio::User m_user;
    bool m_haveIdentity = false;
    QList<labelstudio::Project> m_projects;
    QDateTime m_lastSuccess;
    bool m_refreshing = false;
    quint64 m_generation = 0;
};

} // namespace loopdeck::gui
