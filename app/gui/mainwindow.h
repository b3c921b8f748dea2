#pragma once
// LoopDeck's main window: the connection selector and status at the top, then tabs for the
// projects dashboard (filterable, sortable table + detail pane for the selected project), the
// model page (the loop of the selected project) and the embedded ML backend; a notification
// banner above the tabs (and the tray, where there is one) reports what the loop did. Owns the DashboardSession that polls Label Studio, the saved
// connection profiles and the token store. Created by gui::run() and by the GUI tests, which
// pass their own QSettings and drive it through the public methods below.
// Views the user's loop (a LocalLoop: the application's, or its own when given none); when its
// store cannot be opened, a "Loop" page says what failed and what to do instead of the ML backend
// tab, and the dashboard works without the loop. The model page, the dashboard's loop columns and
// the notifications see a loop only through a client::LoopClient; while the demo runs they show
// the demo's own engine through a client of its own. The engine itself is used for what is not
// a view of the loop: its Label Studio connection and, on the backend tab, its server.
#include "gui/dashboardsession.h"
#include "settings/connectionprofile.h"
#include "settings/loopserverprofile.h"
#include "settings/tokenstore.h"

#include <QMainWindow>
#include <QPointer>
#include <QSet>

#include <memory>

class QAction;
class QActionGroup;
class QComboBox;
class QLabel;
class QLineEdit;
class QMenu;
class QSettings;
class QSortFilterProxyModel;
class QSplitter;
class QTabWidget;
class QTableView;
class QTimer;

namespace loopdeck::client {
class InProcessLoopClient;
class LoopClient;
class RemoteLoopClient;
} // namespace loopdeck::client
namespace loopdeck::loop {
class LoopEngine;
}
namespace loopdeck::demo {
class DemoSession;
}

namespace loopdeck::gui {

class AppSettings;
class BackendPanel;
class LocalLoop;
class ModelPage;
class NotificationBanner;
class Notifier;
class ProjectDetailPane;
class ProjectsModel;

class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    // Uses the application's QSettings unless `settings` is given (not owned; tests), and the
    // application's loop `loop` (not owned; opened here if it is not yet) or, without one, a loop
    // of its own.
    explicit MainWindow(QSettings *settings = nullptr, LocalLoop *loop = nullptr, QWidget *parent = nullptr);
    ~MainWindow() override;

    // What the connection dialog does on Save: stores the profile and the token (keychain or
    // session), makes it the current connection and connects. An empty token keeps the stored one.
    void applyConnection(const settings::ConnectionProfile &profile, const QString &token);
    void selectConnection(const QString &name);
    QString currentConnection() const;
    // Selects a project by id in the table (and shows it in the detail pane); false if not listed.
    bool selectProject(int projectId);
    // Applies refresh interval and data directory from the settings (after the settings dialog).
    void applySettings();

    DashboardSession *session() const { return m_session; }
    // The user's loop and the client the window views it through (null when its store could
    // not be opened: see loopErrorPage()).
    loop::LoopEngine *engine() const;
    client::LoopClient *client() const;
    // The loop the user chose: a LoopDeck server's (remoteClient()) or this computer's (client()).
    client::LoopClient *userClient() const;
    client::RemoteLoopClient *remoteClient() const { return m_remote.get(); }
    // The loop the model page and the dashboard show: the demo's while it runs, else userClient().
    client::LoopClient *shownClient() const;
    // "Loop: this computer" / "Loop: https://… — connected" as the status bar shows it.
    QString loopLocationText() const;
    // What "Connect to a LoopDeck server…" does on Connect: saves the server (the token in the
    // keychain, or for this session; an empty token keeps the stored one) and operates its loop.
    void applyLoopServer(const settings::LoopServerProfile &profile, const QString &token);
    // Operate a saved server's loop (its token from the keychain), or this computer's with "".
    void useLoopServer(const QString &name);
    QMenu *loopMenu() const { return m_loopMenu; }
    // The page that says why the user's loop is not running (null while it runs).
    QWidget *loopErrorPage() const { return m_loopErrorPage; }
    QString loopError() const;
    ProjectsModel *projectsModel() const { return m_model; }
    QSortFilterProxyModel *projectsProxy() const { return m_proxy; }
    QTableView *projectsTable() const { return m_table; }
    QLineEdit *filterEdit() const { return m_filter; }
    ProjectDetailPane *detailPane() const { return m_detail; }
    BackendPanel *backendPanel() const { return m_backend; }
    ModelPage *modelPage() const { return m_modelPage; }
    Notifier *notifier() const { return m_notifier; }
    NotificationBanner *notificationBanner() const { return m_banner; }
    QAction *notificationsAction() const { return m_notifyAction; }
    QTabWidget *tabs() const { return m_tabs; }
    QComboBox *connectionCombo() const { return m_connections; }
    // The connection state line as shown, e.g. "Disconnected — The server at … cannot be reached."
    QString statusText() const;
    QString tokenStatusText() const;
    settings::TokenStore::Source tokenSource() const { return m_tokenSource; }

    // The demo (a local Label Studio with a sample project and a simulated annotator).
    demo::DemoSession *demoSession() const { return m_demo; }
    QWidget *firstRunPanel() const { return m_firstRun; }
    QString firstRunMessage() const;

public Q_SLOTS:
    void startDemo();
    void stopDemo();
    void addConnection();
    void addLoopServer();
    void editLoopServer();
    void editConnection();
    void removeConnection();
    void openSettings();
    void refreshNow();

Q_SIGNALS:
    // Forwarded from the session after every refresh.
    void refreshed(bool ok);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildActions();
    void buildUi();
    bool openLoop();
    void buildLoopTabs();
    QWidget *buildLoopErrorPage();
    void showClient(client::LoopClient *client);
    void rebuildLoopMenu();
    void updateLoopLocation();
    void operateRemote(const settings::LoopServerProfile &profile, const QString &token);
    void updateLoopTabs();
    QWidget *buildStatusStrip();
    QWidget *buildProjectsPage();
    QWidget *buildFirstRunPanel(QWidget *parent);
    void updateFirstRun();
    void endDemo();
    bool fillProfiles(const QString &select); // without connecting
    void reloadProfiles(const QString &select);
    // `engineToo` false: only the dashboard (after the demo, the loop kept its Label Studio).
    void connectProfile(const QString &name, bool engineToo = true);
    void connectWithToken(const settings::ConnectionProfile &profile, const QString &token,
                          settings::TokenStore::Source source, bool engineToo = true);
    void updateStatus();
    void updateProjects(const QList<labelstudio::Project> &projects, const QDateTime &at);
    void updateFilterCount();
    void showCurrentProject();
    void setStateIndicator(const QColor &color);
    void queueLoopSummary(const QString &projectKey);
    void updateLoopSummaries();
    QString projectTitle(const QString &projectKey) const;
    // The dashboard row of a loop project: its Label Studio id and creation time must both
    // match (another server's project with the same id is not this one); nullptr when none.
    const labelstudio::Project *dashboardProject(const QString &projectKey) const;
    static QString keyOf(const labelstudio::Project &project);

    std::unique_ptr<QSettings> m_ownSettings;
    QSettings *m_settings;
    std::unique_ptr<AppSettings> m_appSettings;
    std::unique_ptr<settings::ConnectionProfiles> m_profiles;
    std::unique_ptr<settings::LoopServerProfiles> m_loopServers;
    settings::TokenStore *m_tokens;
    DashboardSession *m_session;
    // The user's loop (server, store, trainer): the application's, or m_ownLoop. Destroyed after
    // the tabs that view it.
    std::unique_ptr<LocalLoop> m_ownLoop;
    LocalLoop *m_loop;
    QPointer<client::LoopClient> m_shownClient; // m_loop's or m_demoClient; its signals reach this
    QWidget *m_loopErrorPage = nullptr;
    QLabel *m_loopErrorText = nullptr;
    settings::TokenStore::Source m_tokenSource = settings::TokenStore::Source::None;
    QString m_tokenWarning;
    QString m_notConfiguredReason;
    quint64 m_connectGeneration = 0;

    QAction *m_addAction = nullptr;
    QAction *m_editAction = nullptr;
    QAction *m_removeAction = nullptr;
    QAction *m_refreshAction = nullptr;
    QAction *m_settingsAction = nullptr;
    QAction *m_quitAction = nullptr;
    QAction *m_aboutAction = nullptr;
    QAction *m_notifyAction = nullptr;

    QComboBox *m_connections = nullptr;
    QLabel *m_stateDot = nullptr;
    QLabel *m_stateLabel = nullptr;
    QLabel *m_serverLabel = nullptr;
    QLabel *m_userLabel = nullptr;
    QLabel *m_tokenLabel = nullptr;
    QTabWidget *m_tabs = nullptr;
    QSplitter *m_splitter = nullptr;
    QLineEdit *m_filter = nullptr;
    QLabel *m_filterCount = nullptr;
    QTableView *m_table = nullptr;
    ProjectsModel *m_model = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
    ProjectDetailPane *m_detail = nullptr;
    BackendPanel *m_backend = nullptr;
    QWidget *m_firstRun = nullptr;
    QLabel *m_firstRunMessage = nullptr;
    QAction *m_demoAction = nullptr;
    demo::DemoSession *m_demo = nullptr;
    std::unique_ptr<client::InProcessLoopClient> m_demoClient; // the demo's engine, while it runs
    std::unique_ptr<client::RemoteLoopClient> m_remote;        // a LoopDeck server's loop, when chosen
    QString m_remoteName;                                       // its saved name
    quint64 m_remoteGeneration = 0;                             // token reads for an older choice are dropped
    QMenu *m_loopMenu = nullptr;
    QActionGroup *m_loopGroup = nullptr;
    bool m_remoteMissingToken = false;                          // m_remoteName chosen, but no token stored
    QLabel *m_loopLocation = nullptr;
    int m_demoProject = 0;
    ModelPage *m_modelPage = nullptr;
    NotificationBanner *m_banner = nullptr;
    Notifier *m_notifier = nullptr;
    QTimer *m_summaryTimer = nullptr;
    QSet<QString> m_pendingSummaries;
    QLabel *m_refreshStatus = nullptr;
    QLabel *m_intervalStatus = nullptr;
};

} // namespace loopdeck::gui
