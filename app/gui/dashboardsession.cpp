#include "gui/dashboardsession.h"

#include <QDir>

namespace loopdeck::gui {

using labelstudio::LsError;

DashboardSession::DashboardSession(QObject *parent)
    : QObject(parent)
{
    m_timer.setInterval(30 * 1000);
    connect(&m_timer, &QTimer::timeout, this, &DashboardSession::refresh);
}

DashboardSession::~DashboardSession() = default;

void DashboardSession::setServer(const QUrl &url, const QString &token)
{
    ++m_generation;
    m_refreshing = false;
    m_haveIdentity = false;
    m_version = {};
    m_user = {};
    m_error = {};
    m_projects.clear();
    m_lastSuccess = {};
    m_client.setServer(url, token);
    if (!url.isValid() || token.isEmpty()) {
        m_timer.stop();
        setState(State::NotConfigured);
        Q_EMIT projectsUpdated(m_projects, {});
        return;
    }
    setState(State::Connecting);
    Q_EMIT projectsUpdated(m_projects, {});
    m_timer.start();
    refresh();
}

bool DashboardSession::setDataDir(const QString &dir, QString *error)
{
    m_store = std::make_unique<store::Store>();
    m_storeError.clear();
    if (!QDir().mkpath(dir)) {
        m_storeError = tr("Cannot create the data directory %1.").arg(QDir::toNativeSeparators(dir));
    } else if (!m_store->open(dir, &m_storeError)) {
        if (m_storeError.isEmpty())
            m_storeError = tr("Cannot open the local store in %1.").arg(QDir::toNativeSeparators(dir));
    }
    if (!m_storeError.isEmpty()) {
        m_store.reset();
        if (error)
            *error = m_storeError;
        Q_EMIT storeProblem(m_storeError);
        return false;
    }
    return true;
}

void DashboardSession::setRefreshInterval(int seconds)
{
    m_timer.setInterval(std::max(1, seconds) * 1000);
}

QString DashboardSession::storeKey() const
{
    return m_client.baseUrl().adjusted(QUrl::StripTrailingSlash).toString();
}

void DashboardSession::refresh()
{
    if (m_refreshing || m_state == State::NotConfigured)
        return;
    m_refreshing = true;
    Q_EMIT refreshStarted();
    if (m_haveIdentity)
        fetchProjects(m_generation);
    else
        fetchIdentity(m_generation);
}

void DashboardSession::fetchIdentity(quint64 generation)
{
    m_client.fetchVersion([this, generation](const labelstudio::ServerVersion &version, const LsError &error) {
        if (generation != m_generation)
            return;
        if (error.isError())
            return fail(error);
        m_version = version;
        m_client.fetchWhoAmI([this, generation](const labelstudio::User &user, const LsError &error) {
            if (generation != m_generation)
                return;
            if (error.isError())
                return fail(error);
            m_user = user;
            m_haveIdentity = true;
            fetchProjects(generation);
        });
    });
}

void DashboardSession::fetchProjects(quint64 generation)
{
    m_client.fetchProjects([this, generation](const QList<labelstudio::Project> &projects, const LsError &error) {
        if (generation != m_generation)
            return;
        if (error.isError())
            return fail(error);
        m_refreshing = false;
        m_error = {};
        m_projects = projects;
        m_lastSuccess = QDateTime::currentDateTimeUtc();
        if (m_store) {
            QString problem;
            if (!m_store->recordProgress(storeKey(), projects, m_lastSuccess, &problem))
                Q_EMIT storeProblem(tr("Could not record progress: %1").arg(problem));
        }
        setState(State::Connected);
        Q_EMIT projectsUpdated(m_projects, m_lastSuccess);
        Q_EMIT refreshFinished(true);
    });
}

void DashboardSession::fail(const LsError &error)
{
    if (error.kind == LsError::Kind::Cancelled)
        return;
    m_refreshing = false;
    m_error = error;
    // Ask who we are again after any failure: the token or the server may have changed.
    m_haveIdentity = false;
    const State next = error.isConnectivity() ? State::Disconnected : State::Failed;
    if (next != m_state)
        setState(next);
    else
        Q_EMIT stateChanged(m_state); // same state, new sentence
    Q_EMIT refreshFinished(false);
}

void DashboardSession::setState(State state)
{
    m_state = state;
    Q_EMIT stateChanged(state);
}

} // namespace loopdeck::gui
