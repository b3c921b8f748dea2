#include "gui/mainwindow.h"

#include "core/backend/modelregistry.h"
#include "core/backend/projectkey.h"

#include "core/client/inprocessloopclient.h"
#include "core/client/remoteloopclient.h"
#include "core/demo/demosession.h"

#include "core/loop/loopengine.h"

#include "gui/appsettings.h"
#include "gui/backendpanel.h"
#include "gui/connectiondialog.h"
#include "gui/localloop.h"
#include "gui/loopserverdialog.h"
#include "gui/modelpage.h"
#include "gui/notifier.h"
#include "gui/progressdelegate.h"
#include "gui/projectdetailpane.h"
#include "gui/projectsmodel.h"
#include "gui/settingsdialog.h"
#include "gui/statusdot.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDir>
#include <QFrame>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QIcon>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenuBar>
#include <QMessageBox>
#include <QPainter>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <QTableView>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

namespace loopdeck::gui {

using State = DashboardSession::State;
using Source = settings::TokenStore::Source;

namespace {

QFrame *separator(QWidget *parent)
{
    auto *line = new QFrame(parent);
    line->setFrameShape(QFrame::VLine);
    line->setFrameShadow(QFrame::Sunken);
    return line;
}

QString tokenKindText(labelstudio::TokenKind kind)
{
    switch (kind) {
    case labelstudio::TokenKind::Legacy: return MainWindow::tr("legacy token");
    case labelstudio::TokenKind::PersonalAccessToken: return MainWindow::tr("Personal Access Token");
    case labelstudio::TokenKind::AccessToken: return MainWindow::tr("short-lived access token");
    case labelstudio::TokenKind::Unknown: break;
    }
    return MainWindow::tr("no token");
}

QString tokenSourceText(Source source)
{
    switch (source) {
    case Source::Keychain: return MainWindow::tr("token saved in keychain");
    case Source::Session: return MainWindow::tr("not saved — session only");
    case Source::Environment: return MainWindow::tr("from LOOPDECK_TOKEN — not saved");
    case Source::None: break;
    }
    return MainWindow::tr("no token");
}

} // namespace

MainWindow::MainWindow(QSettings *settings, LocalLoop *loop, QWidget *parent)
    : QMainWindow(parent)
    , m_ownSettings(settings ? nullptr : std::make_unique<QSettings>())
    , m_settings(settings ? settings : m_ownSettings.get())
    , m_appSettings(std::make_unique<AppSettings>(m_settings))
    , m_profiles(std::make_unique<settings::ConnectionProfiles>(m_settings))
    , m_loopServers(std::make_unique<settings::LoopServerProfiles>(m_settings))
    , m_tokens(new settings::TokenStore(this))
    , m_session(new DashboardSession(this))
    , m_ownLoop(loop ? nullptr : std::make_unique<LocalLoop>())
    , m_loop(loop ? loop : m_ownLoop.get())
{
    openLoop();
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("LoopDeck"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/loopdeck.svg")));
    buildActions();
    buildUi();

    connect(m_session, &DashboardSession::stateChanged, this, &MainWindow::updateStatus);
    connect(m_session, &DashboardSession::projectsUpdated, this, &MainWindow::updateProjects);
    connect(m_session, &DashboardSession::refreshStarted, this, [this] {
        m_refreshStatus->setText(tr("Refreshing…"));
        m_refreshAction->setEnabled(false);
    });
    connect(m_session, &DashboardSession::refreshFinished, this, [this](bool ok) {
        m_refreshAction->setEnabled(true);
        const QString now = QLocale().toString(QTime::currentTime(), QStringLiteral("HH:mm:ss"));
        if (ok)
            m_refreshStatus->setText(tr("Last refresh at %1").arg(now));
        else
            m_refreshStatus->setText(tr("Refresh failed at %1; retrying automatically").arg(now));
        Q_EMIT refreshed(ok);
    });
    connect(m_session, &DashboardSession::storeProblem, this,
            [this](const QString &message) { statusBar()->showMessage(message, 15000); });

    // The loop columns of the dashboard follow the shown client (showClient).
    m_summaryTimer = new QTimer(this);
    m_summaryTimer->setSingleShot(true);
    m_summaryTimer->setInterval(150);
    connect(m_summaryTimer, &QTimer::timeout, this, &MainWindow::updateLoopSummaries);
    m_notifier = new Notifier(m_settings, m_banner, this);
    if (client()) {
        m_notifier->watch(client(), [this](const QString &id) { return projectTitle(id); });
        m_notifier->watchServer(engine()->server());
    }
    showClient(client());
    // The loop chosen last time: a LoopDeck server's, once its token is read.
    if (!m_loopServers->current().isEmpty())
        useLoopServer(m_loopServers->current());
    updateLoopLocation();
    m_notifyAction->setChecked(m_notifier->isEnabled());
    connect(m_notifyAction, &QAction::toggled, m_notifier, &Notifier::setEnabled);
    connect(m_notifier, &Notifier::showWindowRequested, this, [this] {
        showNormal();
        raise();
        activateWindow();
        if (shownClient())
            m_tabs->setCurrentWidget(m_modelPage);
    });

    applySettings();
    reloadProfiles(m_profiles->lastUsed());
    resize(1280, 800);
}

MainWindow::~MainWindow()
{
    delete m_demo; // stops the demo's Label Studio before the engine goes
    m_demo = nullptr;
    // The backend tab and the model page view the loop: they go first, then the loop (m_ownLoop,
    // or the application's, which outlives the window).
    delete m_backend;
    m_backend = nullptr;
    delete m_modelPage;
    m_modelPage = nullptr;
}

void MainWindow::buildActions()
{
    auto icon = [](const char *name) { return QIcon(QStringLiteral(":/icons/%1.svg").arg(QLatin1String(name))); };
    m_addAction = new QAction(icon("add"), tr("&Add connection…"), this);
    m_addAction->setToolTip(tr("Add a Label Studio connection"));
    m_editAction = new QAction(icon("edit"), tr("&Edit connection…"), this);
    m_editAction->setToolTip(tr("Change the URL or token of this connection"));
    m_removeAction = new QAction(icon("remove"), tr("&Remove connection"), this);
    m_refreshAction = new QAction(icon("refresh"), tr("&Refresh"), this);
    m_refreshAction->setShortcut(QKeySequence::Refresh);
    m_refreshAction->setToolTip(tr("Fetch the projects again now (%1)").arg(QKeySequence(QKeySequence::Refresh).toString(QKeySequence::NativeText)));
    m_settingsAction = new QAction(icon("settings"), tr("&Settings…"), this);
    m_settingsAction->setMenuRole(QAction::PreferencesRole);
    m_quitAction = new QAction(tr("&Quit"), this);
    m_quitAction->setShortcut(QKeySequence::Quit);
    m_quitAction->setMenuRole(QAction::QuitRole);
    m_aboutAction = new QAction(tr("&About LoopDeck"), this);
    m_aboutAction->setMenuRole(QAction::AboutRole);
    m_notifyAction = new QAction(tr("Loop &notifications"), this);
    m_notifyAction->setObjectName(QStringLiteral("notificationsAction"));
    m_notifyAction->setCheckable(true);
    m_notifyAction->setToolTip(tr("Tell me when a training run finishes or fails, the backend stops answering or missed annotations are recovered"));

    connect(m_addAction, &QAction::triggered, this, &MainWindow::addConnection);
    connect(m_editAction, &QAction::triggered, this, &MainWindow::editConnection);
    connect(m_removeAction, &QAction::triggered, this, &MainWindow::removeConnection);
    connect(m_refreshAction, &QAction::triggered, this, &MainWindow::refreshNow);
    connect(m_settingsAction, &QAction::triggered, this, &MainWindow::openSettings);
    connect(m_quitAction, &QAction::triggered, this, &QWidget::close);
    connect(m_aboutAction, &QAction::triggered, this, [this] {
        QMessageBox::about(this, tr("About LoopDeck"),
                           tr("<h3>LoopDeck %1</h3><p>A desktop control panel for the Label Studio labeling loop: "
                              "project progress, a built-in ML backend and its model.</p>")
                               .arg(QStringLiteral(LOOPDECK_VERSION)));
    });

    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_settingsAction);
    file->addAction(m_notifyAction);
    file->addSeparator();
    file->addAction(m_quitAction);
    QMenu *connection = menuBar()->addMenu(tr("&Connection"));
    connection->addAction(m_addAction);
    connection->addAction(m_editAction);
    connection->addAction(m_removeAction);
    connection->addSeparator();
    connection->addAction(m_refreshAction);
    connection->addSeparator();
    m_demoAction = connection->addAction(tr("Try the &demo"));
    m_demoAction->setObjectName(QStringLiteral("demoAction"));
    m_demoAction->setToolTip(tr("Start a local Label Studio with a sample project and watch the loop train"));
    connect(m_demoAction, &QAction::triggered, this, [this] { m_demo ? stopDemo() : startDemo(); });
    m_loopMenu = menuBar()->addMenu(tr("&Loop"));
    m_loopMenu->setObjectName(QStringLiteral("loopMenu"));
    // Built when it opens: never rebuilt from inside one of its own actions.
    connect(m_loopMenu, &QMenu::aboutToShow, this, &MainWindow::rebuildLoopMenu);
    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(m_aboutAction);
}

void MainWindow::buildUi()
{
    auto *toolbar = addToolBar(tr("Main toolbar"));
    toolbar->setObjectName(QStringLiteral("mainToolbar"));
    toolbar->setMovable(false);
    toolbar->setFloatable(false);
    toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toolbar->setIconSize(QSize(18, 18));
    toolbar->setContextMenuPolicy(Qt::PreventContextMenu);
    auto *connectionLabel = new QLabel(tr("Connection:"), toolbar);
    connectionLabel->setContentsMargins(6, 0, 6, 0);
    toolbar->addWidget(connectionLabel);
    m_connections = new QComboBox(toolbar);
    m_connections->setObjectName(QStringLiteral("connectionCombo"));
    m_connections->setMinimumContentsLength(22);
    m_connections->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_connections->setToolTip(tr("Saved Label Studio connections"));
    connect(m_connections, &QComboBox::activated, this,
            [this](int index) { connectProfile(m_connections->itemText(index)); });
    toolbar->addWidget(m_connections);
    toolbar->addAction(m_addAction);
    toolbar->addAction(m_editAction);
    toolbar->addSeparator();
    toolbar->addAction(m_refreshAction);
    auto *spacer = new QWidget(toolbar);
    spacer->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    toolbar->addWidget(spacer);
    toolbar->addAction(m_settingsAction);

    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(8, 6, 8, 4);
    layout->setSpacing(6);
    layout->addWidget(buildStatusStrip());
    m_banner = new NotificationBanner(central);
    layout->addWidget(m_banner);

    m_tabs = new QTabWidget(central);
    m_tabs->setObjectName(QStringLiteral("mainTabs"));
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(buildProjectsPage(), QIcon(QStringLiteral(":/icons/projects.svg")), tr("Projects"));
    m_modelPage = new ModelPage(client(), m_tabs);
    m_tabs->addTab(m_modelPage, QIcon(QStringLiteral(":/icons/model.svg")), tr("Model"));
    buildLoopTabs();
    layout->addWidget(m_tabs, 1);
    setCentralWidget(central);

    m_refreshStatus = new QLabel(statusBar());
    m_intervalStatus = new QLabel(statusBar());
    statusBar()->addWidget(m_refreshStatus, 1);
    statusBar()->addPermanentWidget(m_intervalStatus);
    m_loopLocation = new QLabel(statusBar());
    m_loopLocation->setObjectName(QStringLiteral("loopLocation"));
    statusBar()->addPermanentWidget(m_loopLocation);
}

bool MainWindow::openLoop()
{
    // The application's loop is open already (or failed in this very folder: no second try).
    const QString dir = m_appSettings->dataDir();
    if (engine() || (!m_loop->error().isEmpty() && m_loop->errorDir() == dir))
        return engine() != nullptr;
    return m_loop->open(dir);
}

loop::LoopEngine *MainWindow::engine() const
{
    return m_loop->engine();
}

client::LoopClient *MainWindow::client() const
{
    return m_loop->client();
}

QString MainWindow::loopError() const
{
    return m_loop->error();
}

// The tab after the model page: the ML backend of the user's loop, or (when its store could not
// be opened) the page that says why, shown first.
void MainWindow::buildLoopTabs()
{
    const int index = m_tabs->indexOf(m_modelPage) + 1;
    if (engine()) {
        delete m_loopErrorPage; // removes its tab
        m_loopErrorPage = nullptr;
        m_loopErrorText = nullptr;
        m_backend = new BackendPanel(m_session, m_appSettings.get(), engine(), m_tabs);
        m_tabs->insertTab(index, m_backend, QIcon(QStringLiteral(":/icons/backend.svg")), tr("ML backend"));
        return;
    }
    if (!m_loopErrorPage) {
        m_tabs->insertTab(index, buildLoopErrorPage(), QIcon(QStringLiteral(":/icons/backend.svg")), tr("Loop"));
        m_tabs->setCurrentWidget(m_loopErrorPage);
    }
    m_loopErrorText->setText(
        tr("<h3>The loop cannot open its data folder</h3>"
           "<p><b>Folder:</b> %1</p><p><b>Reason:</b> %2</p>"
           "<p>Without it the built-in ML backend, training and the model history are off; the Projects tab "
           "still works, and so does the demo.</p>"
           "<p><b>What to do:</b> choose another data directory in <i>Settings…</i> (the loop starts there at once), "
           "or make this folder writable, or move a damaged <tt>loopdeck.sqlite3</tt> out of it and restart "
           "LoopDeck. A store written by a newer LoopDeck needs that version.</p>")
            .arg(QDir::toNativeSeparators(m_loop->errorDir()).toHtmlEscaped(), m_loop->error().toHtmlEscaped()));
}

QWidget *MainWindow::buildLoopErrorPage()
{
    m_loopErrorPage = new QWidget(m_tabs);
    m_loopErrorPage->setObjectName(QStringLiteral("loopErrorPage"));
    auto *layout = new QVBoxLayout(m_loopErrorPage);
    layout->setContentsMargins(24, 20, 24, 20);
    m_loopErrorText = new QLabel(m_loopErrorPage);
    m_loopErrorText->setObjectName(QStringLiteral("loopErrorText"));
    m_loopErrorText->setWordWrap(true);
    m_loopErrorText->setTextFormat(Qt::RichText);
    m_loopErrorText->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *settingsButton = new QPushButton(QIcon(QStringLiteral(":/icons/settings.svg")), tr("Open Settings…"), m_loopErrorPage);
    settingsButton->setObjectName(QStringLiteral("loopErrorSettingsButton"));
    connect(settingsButton, &QPushButton::clicked, this, &MainWindow::openSettings);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(settingsButton);
    buttons->addStretch(1);
    layout->addWidget(m_loopErrorText);
    layout->addLayout(buttons);
    layout->addStretch(1);
    return m_loopErrorPage;
}

client::LoopClient *MainWindow::userClient() const
{
    return m_remote ? static_cast<client::LoopClient *>(m_remote.get()) : client();
}

// ---- which loop: this computer's or a LoopDeck server's -----------------------------------

void MainWindow::rebuildLoopMenu()
{
    m_loopMenu->clear();
    delete m_loopGroup;
    m_loopGroup = new QActionGroup(m_loopMenu);
    QActionGroup *group = m_loopGroup;
    QAction *local = m_loopMenu->addAction(tr("&This computer"));
    local->setObjectName(QStringLiteral("loopLocalAction"));
    local->setCheckable(true);
    local->setChecked(m_remoteName.isEmpty());
    local->setToolTip(tr("The loop of this window's own engine and ML backend"));
    group->addAction(local);
    connect(local, &QAction::triggered, this, [this] { useLoopServer(QString()); });
    for (const settings::LoopServerProfile &p : m_loopServers->all()) {
        QAction *a = m_loopMenu->addAction(p.name);
        a->setCheckable(true);
        a->setChecked(p.name == m_remoteName);
        a->setToolTip(p.url.toDisplayString());
        group->addAction(a);
        const QString name = p.name;
        connect(a, &QAction::triggered, this, [this, name] { useLoopServer(name); });
    }
    m_loopMenu->addSeparator();
    QAction *add = m_loopMenu->addAction(tr("&Connect to a LoopDeck server…"));
    add->setObjectName(QStringLiteral("loopAddServerAction"));
    connect(add, &QAction::triggered, this, &MainWindow::addLoopServer);
    if (!m_remoteName.isEmpty()) {
        QAction *edit = m_loopMenu->addAction(tr("&Edit this server…"));
        connect(edit, &QAction::triggered, this, [this] { QTimer::singleShot(0, this, &MainWindow::editLoopServer); });
        QAction *remove = m_loopMenu->addAction(tr("&Forget this server"));
        connect(remove, &QAction::triggered, this, [this] {
            const auto profile = m_loopServers->find(m_remoteName);
            if (!profile)
                return;
            if (QMessageBox::question(this, tr("Forget this server"),
                                      tr("Forget the LoopDeck server \"%1\" and its operator token? The window goes back to "
                                         "this computer's loop; the server and its loop are not changed.")
                                          .arg(profile->name))
                != QMessageBox::Yes)
                return;
            m_loopServers->remove(profile->name);
            m_tokens->remove(profile->tokenKey());
            useLoopServer(QString());
        });
    }
}

void MainWindow::editLoopServer()
{
    const auto profile = m_loopServers->find(m_remoteName);
    if (!profile)
        return;
    // Whether a token is stored decides whether an empty field may keep it.
    m_tokens->read(profile->tokenKey(), QUrl(), [this, old = *profile](const QString &stored, settings::TokenStore::Source, const QString &) {
        QStringList taken;
        for (const auto &p : m_loopServers->all())
            if (p.name != old.name)
                taken << p.name;
        LoopServerDialog dialog(taken, this);
        dialog.setProfile(old, !stored.isEmpty());
        if (dialog.exec() != QDialog::Accepted)
            return;
        const settings::LoopServerProfile edited = dialog.profile();
        QString token = dialog.token();
        // A token belongs to one server: at another address (scheme, host, port) the dialog asked
        // for a new one; the old one is never sent there. Same server: an empty field keeps it.
        if (token.isEmpty() && settings::ConnectionProfiles::sameOrigin(old.url, edited.url))
            token = stored;
        if (edited.name != old.name) {
            m_loopServers->remove(old.name);
            m_tokens->remove(old.tokenKey()); // (the same name: the write below replaces it)
        }
        applyLoopServer(edited, token);
    });
}

void MainWindow::addLoopServer()
{
    QStringList taken;
    for (const auto &p : m_loopServers->all())
        taken << p.name;
    LoopServerDialog dialog(taken, this);
    if (dialog.exec() == QDialog::Accepted)
        applyLoopServer(dialog.profile(), dialog.token());
}

void MainWindow::applyLoopServer(const settings::LoopServerProfile &profile, const QString &token)
{
    m_loopServers->save(profile);
    if (token.isEmpty()) {
        useLoopServer(profile.name); // keep the stored token
        return;
    }
    m_tokens->write(profile.tokenKey(), token, [this](bool persisted, const QString &warning) {
        if (!persisted && !warning.isEmpty())
            statusBar()->showMessage(warning, 15000);
    });
    operateRemote(profile, token);
}

void MainWindow::useLoopServer(const QString &name)
{
    if (!name.isEmpty() && name == m_remoteName && m_remote)
        return; // already operated: a reconnect would only drop the actions in flight
    const quint64 generation = ++m_remoteGeneration;
    if (name.isEmpty()) {
        m_loopServers->setCurrent(QString());
        if (m_remote) {
            if (m_shownClient == m_remote.get())
                showClient(client());
            m_remote.reset();
        }
        m_remoteName.clear();
        m_remoteMissingToken = false;
        updateLoopLocation();
        return;
    }
    const auto profile = m_loopServers->find(name);
    if (!profile) {
        statusBar()->showMessage(tr("No LoopDeck server named \"%1\" is saved.").arg(name), 10000);
        useLoopServer(QString());
        return;
    }
    // No URL: LOOPDECK_TOKEN (a Label Studio token) is never a fallback for an operator token.
    m_tokens->read(profile->tokenKey(), QUrl(),
                   [this, generation, p = *profile](const QString &token, settings::TokenStore::Source, const QString &warning) {
                       if (generation != m_remoteGeneration)
                           return; // another loop was chosen meanwhile
                       if (token.isEmpty()) {
                           // Not connected without one: it would only be refused, again and again.
                           statusBar()->showMessage(warning.isEmpty() ? tr("No operator token is stored for \"%1\"; edit the server "
                                                                           "and paste it.")
                                                                            .arg(p.name)
                                                                      : warning,
                                                    15000);
                           if (m_remote && m_shownClient == m_remote.get())
                               showClient(client());
                           m_remote.reset();
                           m_remoteName = p.name;
                           m_remoteMissingToken = true;
                           updateLoopLocation();
                           return;
                       }
                       operateRemote(p, token);
                   });
}

void MainWindow::operateRemote(const settings::LoopServerProfile &profile, const QString &token)
{
    ++m_remoteGeneration;
    client::RemoteLoopClient::Endpoint endpoint;
    endpoint.url = profile.url;
    endpoint.token = token;
    if (!profile.caFile.isEmpty()) {
        QString error;
        endpoint.caCertificates = client::RemoteLoopClient::loadCaFile(profile.caFile, &error);
        if (!error.isEmpty())
            statusBar()->showMessage(error, 15000);
    }
    const bool shown = !m_demo;
    if (m_remote && m_shownClient == m_remote.get())
        showClient(nullptr); // nothing views the old client while it goes (and nothing saves into another loop)
    m_remote = std::make_unique<client::RemoteLoopClient>();
    m_remoteName = profile.name;
    m_remoteMissingToken = false;
    m_loopServers->setCurrent(profile.name);
    // The label is the context: showClient() cuts the window's own connections to a client.
    connect(m_remote.get(), &client::LoopClient::connectionChanged, m_loopLocation, [this] { updateLoopLocation(); });
    m_notifier->watch(m_remote.get(), [this](const QString &id) { return projectTitle(id); });
    m_remote->connectTo(endpoint);
    if (shown)
        showClient(m_remote.get());
    updateLoopLocation();
}

QString MainWindow::loopLocationText() const
{
    if (!m_remote && m_remoteMissingToken)
        return tr("Loop: %1 — no operator token (Loop → Edit this server…)").arg(m_remoteName);
    if (!m_remote)
        return tr("Loop: this computer");
    if (m_remote->isUp())
        return tr("Loop: %1 — connected").arg(m_remote->describe());
    const QString why = m_remote->connectionError();
    return why.isEmpty() ? tr("Loop: %1 — connecting…").arg(m_remote->describe())
                         : tr("Loop: %1 — not answering").arg(m_remote->describe());
}

void MainWindow::updateLoopLocation()
{
    if (!m_loopLocation)
        return;
    m_loopLocation->setText(loopLocationText());
    // Escaped: the reason may carry a remote server's own sentence, never markup from there.
    m_loopLocation->setToolTip(m_remote && !m_remote->isUp() ? m_remote->connectionError().toHtmlEscaped() : QString());
    m_loopLocation->setStyleSheet(m_remote && !m_remote->isUp() && !m_remote->connectionError().isEmpty()
                                      ? QStringLiteral("color:#c62828")
                                      : QString());
}

client::LoopClient *MainWindow::shownClient() const
{
    return m_shownClient.data();
}

// The model page and the dashboard's loop columns follow `loop` (the user's or the demo's).
void MainWindow::showClient(client::LoopClient *loop)
{
    if (m_shownClient)
        m_shownClient->disconnect(this);
    m_shownClient = loop;
    m_pendingSummaries.clear();
    m_model->clearLoopSummaries();
    if (loop) {
        // Coalesced: a burst of webhooks makes one update per project.
        connect(loop, &client::LoopClient::statusChanged, this, &MainWindow::queueLoopSummary);
        connect(loop, &client::LoopClient::versionsChanged, this, &MainWindow::queueLoopSummary);
        connect(loop, &client::LoopClient::projectAdded, this, &MainWindow::queueLoopSummary);
        // A loop that stops answering shows no loop columns rather than its last known state.
        connect(loop, &client::LoopClient::connectionChanged, this, [this, loop](bool up) {
            if (!up) {
                m_pendingSummaries.clear();
                m_model->clearLoopSummaries();
                return;
            }
            for (const QString &id : loop->projects())
                queueLoopSummary(id);
        });
        for (const QString &id : loop->projects())
            queueLoopSummary(id);
    }
    m_modelPage->setClient(loop);
    updateLoopTabs();
}

void MainWindow::updateLoopTabs()
{
    m_tabs->setTabEnabled(m_tabs->indexOf(m_modelPage), shownClient() != nullptr);
    if (m_backend) {
        // The backend tab configures the user's server; the demo runs its own.
        const int index = m_tabs->indexOf(m_backend);
        m_tabs->setTabEnabled(index, !m_demo);
        m_tabs->setTabToolTip(index, m_demo ? tr("The demo runs a backend of its own; this tab is for yours once the demo stops.")
                                            : QString());
    }
}

QWidget *MainWindow::buildStatusStrip()
{
    auto *strip = new QFrame(this);
    strip->setObjectName(QStringLiteral("connectionStatus"));
    strip->setFrameShape(QFrame::StyledPanel);
    strip->setAutoFillBackground(true);
    QPalette pal = strip->palette();
    pal.setColor(QPalette::Window, pal.color(QPalette::Base));
    strip->setPalette(pal);
    auto *layout = new QHBoxLayout(strip);
    layout->setContentsMargins(10, 6, 10, 6);
    layout->setSpacing(10);
    m_stateDot = new QLabel(strip);
    m_stateDot->setFixedSize(14, 14);
    m_stateLabel = new QLabel(strip);
    m_stateLabel->setObjectName(QStringLiteral("connectionState"));
    m_stateLabel->setWordWrap(true);
    m_stateLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_stateLabel->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    QFont bold = m_stateLabel->font();
    bold.setBold(true);
    m_stateLabel->setFont(bold);
    m_serverLabel = new QLabel(strip);
    m_userLabel = new QLabel(strip);
    m_tokenLabel = new QLabel(strip);
    m_tokenLabel->setObjectName(QStringLiteral("tokenStatus"));
    layout->addWidget(m_stateDot, 0, Qt::AlignVCenter);
    layout->addWidget(m_stateLabel, 1);
    layout->addWidget(separator(strip));
    layout->addWidget(m_serverLabel);
    layout->addWidget(separator(strip));
    layout->addWidget(m_userLabel);
    layout->addWidget(separator(strip));
    layout->addWidget(m_tokenLabel);
    return strip;
}

QWidget *MainWindow::buildProjectsPage()
{
    m_splitter = new QSplitter(Qt::Horizontal, this);
    m_splitter->setObjectName(QStringLiteral("projectsSplitter"));
    m_splitter->setChildrenCollapsible(false);

    auto *left = new QWidget(m_splitter);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 8, 0, 0);
    leftLayout->setSpacing(6);
    auto *filterRow = new QHBoxLayout;
    m_filter = new QLineEdit(left);
    m_filter->setObjectName(QStringLiteral("projectFilter"));
    m_filter->setPlaceholderText(tr("Filter projects by title…"));
    m_filter->setClearButtonEnabled(true);
    m_filter->addAction(QIcon(QStringLiteral(":/icons/search.svg")), QLineEdit::LeadingPosition);
    m_filterCount = new QLabel(left);
    m_filterCount->setForegroundRole(QPalette::PlaceholderText);
    filterRow->addWidget(m_filter, 1);
    filterRow->addWidget(m_filterCount);
    leftLayout->addLayout(filterRow);

    m_model = new ProjectsModel(this);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(ProjectsModel::SortRole);
    m_proxy->setFilterKeyColumn(ProjectsModel::TitleColumn);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setDynamicSortFilter(true);
    connect(m_filter, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);
    connect(m_filter, &QLineEdit::textChanged, this, &MainWindow::updateFilterCount);
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, &MainWindow::updateFilterCount);
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &MainWindow::updateFilterCount);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &MainWindow::updateFilterCount);

    m_table = new QTableView(left);
    m_table->setObjectName(QStringLiteral("projectsTable"));
    m_table->setModel(m_proxy);
    m_table->setItemDelegateForColumn(ProjectsModel::DoneColumn, new ProgressDelegate(m_table));
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAlternatingRowColors(true);
    m_table->setShowGrid(false);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideRight);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 14);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(ProjectsModel::TitleColumn, Qt::AscendingOrder);
    QHeaderView *header = m_table->horizontalHeader();
    header->setHighlightSections(false);
    header->setStretchLastSection(false);
    header->setMinimumSectionSize(60);
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setSectionResizeMode(ProjectsModel::TitleColumn, QHeaderView::Stretch);
    const QFontMetrics fm(header->font());
    for (int c = 1; c < ProjectsModel::ColumnCount; ++c) {
        const QString text = m_model->headerData(c, Qt::Horizontal).toString();
        int width = std::max(fm.horizontalAdvance(text) + 22, fm.horizontalAdvance(QStringLiteral("00,000")) + 16);
        if (c == ProjectsModel::DoneColumn)
            width = std::max(width, fm.horizontalAdvance(QStringLiteral("100%")) * 3 + 12);
        if (c == ProjectsModel::ActiveVersionColumn)
            width = std::max(width, fm.horizontalAdvance(QStringLiteral("loopdeck-v00")) + 16);
        if (c == ProjectsModel::RefreshedColumn)
            width = std::max(width, fm.horizontalAdvance(QStringLiteral("00:00 AM")) + 16);
        m_table->setColumnWidth(c, width);
    }
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &MainWindow::showCurrentProject);
    leftLayout->addWidget(buildFirstRunPanel(left));
    leftLayout->addWidget(m_table, 1);

    m_detail = new ProjectDetailPane(this);
    auto *scroll = new QScrollArea(m_splitter);
    scroll->setObjectName(QStringLiteral("detailScroll"));
    scroll->setWidget(m_detail);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroll->setMinimumWidth(400);

    m_splitter->addWidget(left);
    m_splitter->addWidget(scroll);
    m_splitter->setStretchFactor(0, 3);
    m_splitter->setStretchFactor(1, 2);
    m_splitter->setSizes({840, 480});
    updateFilterCount();
    return m_splitter;
}

void MainWindow::applySettings()
{
    if (!engine() && m_appSettings->dataDir() != m_loop->errorDir()) {
        // Another data directory after the loop could not open its store: try there now.
        const bool opened = openLoop();
        buildLoopTabs();
        if (opened) {
            m_notifier->watch(client(), [this](const QString &id) { return projectTitle(id); });
            m_notifier->watchServer(engine()->server());
            if (m_demo) {
                updateLoopTabs(); // the demo's loop stays shown until it stops
            } else {
                showClient(userClient());
                connectProfile(currentConnection());
            }
        }
    }
    m_session->setRefreshInterval(m_appSettings->refreshIntervalSeconds());
    m_intervalStatus->setText(tr("Auto-refresh every %1 s").arg(m_appSettings->refreshIntervalSeconds()));
    QString error;
    if (!m_session->setDataDir(m_appSettings->dataDir(), &error))
        statusBar()->showMessage(error, 15000);
    showCurrentProject();
}

// --- connections -----------------------------------------------------------------------------

QWidget *MainWindow::buildFirstRunPanel(QWidget *parent)
{
    m_firstRun = new QFrame(parent);
    m_firstRun->setObjectName(QStringLiteral("firstRunPanel"));
    auto *frame = static_cast<QFrame *>(m_firstRun);
    frame->setFrameShape(QFrame::StyledPanel);
    auto *layout = new QVBoxLayout(m_firstRun);
    layout->setContentsMargins(16, 12, 16, 12);
    auto *title = new QLabel(tr("<h3>Welcome to LoopDeck</h3>"), m_firstRun);
    auto *steps = new QLabel(
        tr("<ol>"
           "<li><b>Connect</b> to your Label Studio: <i>Add connection…</i> with its URL and a token from "
           "<i>Account &amp; Settings</i> (a Personal Access Token is best).</li>"
           "<li><b>Start the backend</b> on the <i>ML backend</i> tab and press <i>Connect to this project</i>; "
           "start Label Studio with ML_BLOCK_LOCAL_IP=false and SSRF_PROTECTION_ENABLED=false so it may call it.</li>"
           "<li><b>Label.</b> Every 50 new annotations a new version trains by itself; the <i>Model</i> tab shows "
           "its accuracy, and Label Studio shows its predictions.</li>"
           "</ol>"
           "<p>No Label Studio at hand? The demo starts one on this computer with sample reviews and a "
           "simulated annotator, and the first version trains within about a minute.</p>"),
        m_firstRun);
    steps->setWordWrap(true);
    steps->setTextFormat(Qt::RichText);
    m_firstRunMessage = new QLabel(m_firstRun);
    m_firstRunMessage->setObjectName(QStringLiteral("firstRunMessage"));
    m_firstRunMessage->setWordWrap(true);
    m_firstRunMessage->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *buttons = new QHBoxLayout;
    auto *add = new QPushButton(QIcon(QStringLiteral(":/icons/add.svg")), tr("Add connection…"), m_firstRun);
    add->setObjectName(QStringLiteral("firstRunAddButton"));
    auto *demoButton = new QPushButton(tr("Try the demo"), m_firstRun);
    demoButton->setObjectName(QStringLiteral("tryDemoButton"));
    connect(add, &QPushButton::clicked, this, &MainWindow::addConnection);
    connect(demoButton, &QPushButton::clicked, this, &MainWindow::startDemo);
    buttons->addWidget(add);
    buttons->addWidget(demoButton);
    buttons->addStretch(1);
    layout->addWidget(title);
    layout->addWidget(steps);
    layout->addWidget(m_firstRunMessage);
    layout->addLayout(buttons);
    return m_firstRun;
}

void MainWindow::updateFirstRun()
{
    if (!m_firstRun)
        return;
    // Shown while there is no saved connection and no demo running, or when the demo failed.
    const bool noConnection = m_profiles->all().isEmpty();
    const bool demoRunning = m_demo && m_demo->stage() != demo::DemoSession::Stage::Failed;
    m_firstRun->setVisible(noConnection && !demoRunning);
}

QString MainWindow::firstRunMessage() const
{
    return m_firstRunMessage ? m_firstRunMessage->text() : QString();
}

void MainWindow::startDemo()
{
    if (m_demo)
        return;
    // The demo brings its own loop engine, backend and data folder; the user's engine, store,
    // settings and Label Studio connection stay as they are.
    m_demo = new demo::DemoSession(this);
    m_demoProject = 0;
    m_firstRunMessage->clear();
    m_demoAction->setText(tr("Stop the &demo"));
    connect(m_demo, &demo::DemoSession::stageChanged, this, [this](demo::DemoSession::Stage, const QString &message) {
        statusBar()->showMessage(tr("Demo: %1").arg(message));
    });
    connect(m_demo, &demo::DemoSession::labelStudioReady, this, [this](const QUrl &url, const QString &token, int project) {
        // A session-only connection: nothing is saved, the token never reaches the keychain, and
        // the demo's progress history goes to its own folder.
        m_demoProject = project;
        m_notConfiguredReason.clear();
        m_tokenSource = settings::TokenStore::Source::Session;
        QString error;
        if (!m_session->setDataDir(QDir(m_demo->dataDir()).filePath(QStringLiteral("dashboard")), &error))
            statusBar()->showMessage(error, 15000);
        m_session->setServer(url, token);
        m_session->setRefreshInterval(5); // the demo moves fast; Settings' interval is back after it
        updateStatus();
        updateFirstRun();
    });
    connect(m_demo, &demo::DemoSession::failed, this, [this](const QString &message) {
        endDemo();
        m_firstRunMessage->setText(tr("<span style=\"color:#c62828\">The demo could not start: %1</span>").arg(message.toHtmlEscaped()));
        statusBar()->showMessage(tr("Demo: %1").arg(message));
        m_firstRun->setVisible(true);
    });
    updateFirstRun();
    m_demo->start();
    if (m_demo && m_demo->engine()) {
        m_demoClient = std::make_unique<client::InProcessLoopClient>(m_demo->engine());
        m_notifier->watch(m_demoClient.get(), [this](const QString &id) { return projectTitle(id); });
        m_notifier->watchServer(m_demo->engine()->server());
        showClient(m_demoClient.get());
    }
}

void MainWindow::stopDemo()
{
    if (!m_demo)
        return;
    endDemo();
    statusBar()->showMessage(tr("The demo stopped; its Label Studio and data are gone."), 10000);
}

// Stops the demo and gives the window back to the user's loop and connection.
void MainWindow::endDemo()
{
    showClient(userClient()); // first: the demo's loop goes with the demo
    m_demoClient.reset();
    m_demo->stop();
    m_demo->deleteLater();
    m_demo = nullptr;
    m_demoProject = 0;
    m_demoAction->setText(tr("Try the &demo"));
    updateProjects({}, QDateTime::currentDateTime()); // the demo's projects are gone with it
    updateLoopTabs();
    applySettings(); // the refresh interval and the user's progress store
    // Back to the user's connection. Only the dashboard: the user's loop kept its Label Studio.
    fillProfiles(m_profiles->lastUsed());
    connectProfile(m_connections->currentText(), false);
    updateFirstRun();
}

bool MainWindow::fillProfiles(const QString &select)
{
    const QList<settings::ConnectionProfile> all = m_profiles->all();
    const QSignalBlocker blocker(m_connections);
    m_connections->clear();
    for (const auto &p : all) {
        m_connections->addItem(QIcon(QStringLiteral(":/icons/server.svg")), p.name);
        m_connections->setItemData(m_connections->count() - 1, p.url.toDisplayString(), Qt::ToolTipRole);
    }
    m_editAction->setEnabled(!all.isEmpty());
    m_removeAction->setEnabled(!all.isEmpty());
    m_connections->setEnabled(!all.isEmpty());
    updateFirstRun();
    if (all.isEmpty()) {
        m_connections->setPlaceholderText(tr("No connection yet"));
        m_connections->setCurrentIndex(-1);
        return false;
    }
    const int index = m_connections->findText(select);
    m_connections->setCurrentIndex(index < 0 ? 0 : index);
    return true;
}

void MainWindow::reloadProfiles(const QString &select)
{
    fillProfiles(select);
    if (m_demo)
        return; // the demo's session-only connection stays until the demo stops
    connectProfile(m_connections->currentText());
}

QString MainWindow::currentConnection() const
{
    return m_connections->currentText();
}

void MainWindow::selectConnection(const QString &name)
{
    const int index = m_connections->findText(name);
    if (index < 0)
        return;
    m_connections->setCurrentIndex(index);
    connectProfile(name);
}

void MainWindow::connectProfile(const QString &name, bool engineToo)
{
    const quint64 generation = ++m_connectGeneration;
    const auto profile = m_profiles->find(name);
    if (!profile) {
        m_notConfiguredReason = tr("No connection yet — choose “Add connection…” to connect to a Label Studio server.");
        m_tokenSource = Source::None;
        m_session->setServer(QUrl(), QString());
        if (engine() && engineToo)
            engine()->setLabelStudio(QUrl(), QString());
        if (m_backend)
            m_backend->setProject(nullptr);
        updateStatus();
        return;
    }
    m_profiles->setLastUsed(name);
    m_tokens->read(name, profile->url,
                   [this, generation, engineToo, p = *profile](const QString &token, Source source, const QString &warning) {
                       if (generation != m_connectGeneration)
                           return;
                       m_tokenWarning = warning;
                       connectWithToken(p, token, source, engineToo);
                   });
}

void MainWindow::connectWithToken(const settings::ConnectionProfile &profile, const QString &token, Source source,
                                  bool engineToo)
{
    m_tokenSource = token.isEmpty() ? Source::None : source;
    if (token.isEmpty())
        m_notConfiguredReason = tr("No token for “%1” — choose “Edit connection…” to enter it.").arg(profile.name);
    else
        m_notConfiguredReason.clear();
    m_session->setServer(profile.url, token);
    if (engine() && engineToo)
        engine()->setLabelStudio(profile.url, token);
    updateStatus();
}

void MainWindow::applyConnection(const settings::ConnectionProfile &profileIn, const QString &token)
{
    settings::ConnectionProfile profile = profileIn;
    const auto existing = m_profiles->find(profile.name);
    if (token.isEmpty() && existing)
        profile.tokenKind = existing->tokenKind;
    else if (!token.isEmpty())
        profile.tokenKind = labelstudio::detectTokenKind(token);
    // Moved to another server: the old server's token is deleted (a new one is written below).
    m_profiles->saveEdited(profile, *m_tokens);
    m_profiles->setLastUsed(profile.name);
    if (token.isEmpty()) {
        reloadProfiles(profile.name);
        return;
    }
    const quint64 generation = ++m_connectGeneration;
    fillProfiles(profile.name);
    m_tokens->write(profile.name, token, [this, generation, profile, token](bool persisted, const QString &warning) {
        if (generation != m_connectGeneration)
            return; // another connection was chosen meanwhile
        m_tokenWarning = warning;
        connectWithToken(profile, token, persisted ? Source::Keychain : Source::Session);
    });
}

void MainWindow::addConnection()
{
    QStringList names;
    for (const auto &p : m_profiles->all())
        names << p.name;
    ConnectionDialog dialog(names, this);
    dialog.setSessionOnly(m_tokens->isSessionOnly());
    if (names.contains(dialog.profile().name))
        dialog.setValues(tr("Label Studio %1").arg(names.size() + 1), QStringLiteral("http://localhost:8080"), QString());
    if (dialog.exec() != QDialog::Accepted)
        return;
    applyConnection(dialog.profile(), dialog.token());
}

void MainWindow::editConnection()
{
    const auto profile = m_profiles->find(currentConnection());
    if (!profile)
        return addConnection();
    QStringList names;
    for (const auto &p : m_profiles->all())
        names << p.name;
    ConnectionDialog dialog(names, this);
    dialog.setSessionOnly(m_tokens->isSessionOnly());
    dialog.setProfile(*profile, m_tokenSource != Source::None);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const settings::ConnectionProfile edited = dialog.profile();
    const QString token = dialog.token();
    if (edited.name != profile->name) {
        // Renamed: move the token to the new name (or take the new one), drop the old entry.
        const QString oldName = profile->name;
        // No server given: an environment token is never moved into the keychain.
        // A token is moved only while the server stays the same.
        const bool sameServer = settings::ConnectionProfiles::sameOrigin(profile->url, edited.url);
        m_tokens->read(oldName, QUrl(), [this, edited, token, oldName, sameServer](const QString &oldToken, Source, const QString &) {
            m_profiles->remove(oldName);
            m_tokens->remove(oldName);
            applyConnection(edited, token.isEmpty() && sameServer ? oldToken : token);
        });
        return;
    }
    applyConnection(edited, token);
}

void MainWindow::removeConnection()
{
    const QString name = currentConnection();
    if (name.isEmpty())
        return;
    const auto answer = QMessageBox::question(
        this, tr("Remove connection"),
        tr("Remove the connection “%1” and forget its token?").arg(name), QMessageBox::Yes | QMessageBox::No,
        QMessageBox::No);
    if (answer != QMessageBox::Yes)
        return;
    m_profiles->remove(name);
    m_tokens->remove(name);
    reloadProfiles(QString());
}

void MainWindow::openSettings()
{
    SettingsDialog dialog(m_appSettings.get(), this);
    if (dialog.exec() == QDialog::Accepted)
        applySettings();
}

void MainWindow::refreshNow()
{
    m_session->refresh();
}

// --- status ----------------------------------------------------------------------------------

void MainWindow::setStateIndicator(const QColor &color)
{
    m_stateDot->setPixmap(statusDot(color, devicePixelRatioF()));
}

void MainWindow::updateStatus()
{
    const State state = m_session->state();
    QString text;
    QColor color;
    switch (state) {
    case State::NotConfigured:
        text = m_notConfiguredReason.isEmpty() ? tr("Not connected") : m_notConfiguredReason;
        color = QColor(0x9e, 0x9e, 0x9e);
        break;
    case State::Connecting:
        text = tr("Connecting to %1…").arg(m_session->serverUrl().toDisplayString());
        color = QColor(0xf0, 0xb4, 0x29);
        break;
    case State::Connected:
        text = tr("Connected to %1").arg(m_session->serverUrl().toDisplayString());
        color = QColor(0x2e, 0xa0, 0x43);
        break;
    case State::Disconnected:
        text = tr("Disconnected — %1").arg(m_session->errorMessage());
        color = QColor(0xd0, 0x3b, 0x2f);
        break;
    case State::Failed:
        text = tr("Connection failed — %1").arg(m_session->errorMessage());
        color = QColor(0xd0, 0x3b, 0x2f);
        break;
    }
    m_stateLabel->setText(text);
    setStateIndicator(color);

    const bool haveServer = state != State::NotConfigured;
    const QString version = m_session->version().release;
    m_serverLabel->setText(version.isEmpty() ? tr("Label Studio —") : tr("Label Studio %1").arg(version));
    m_serverLabel->setToolTip(m_session->serverUrl().toDisplayString());
    const QString user = m_session->user().displayName();
    m_userLabel->setText(user.isEmpty() ? tr("User —") : user);
    m_userLabel->setToolTip(m_session->user().email);
    m_tokenLabel->setText(haveServer ? tokenStatusText() : tr("no token"));
    m_tokenLabel->setToolTip(m_tokenWarning);
    for (QWidget *w : {static_cast<QWidget *>(m_serverLabel), static_cast<QWidget *>(m_userLabel)})
        w->setEnabled(haveServer && state != State::Disconnected);
    m_refreshAction->setEnabled(haveServer && !m_session->isRefreshing());
    if (!haveServer)
        m_refreshStatus->clear();
}

QString MainWindow::statusText() const
{
    return m_stateLabel->text();
}

QString MainWindow::tokenStatusText() const
{
    return tr("%1 · %2").arg(tokenKindText(m_session->tokenKind()), tokenSourceText(m_tokenSource));
}

// --- projects --------------------------------------------------------------------------------

void MainWindow::updateProjects(const QList<labelstudio::Project> &projects, const QDateTime &at)
{
    m_model->setProjects(projects, at);
    updateFilterCount();
    if (m_demoProject > 0 && selectProject(m_demoProject)) {
        m_demoProject = -m_demoProject; // selected once; the user may pick another afterwards
        return;
    }
    if (m_table->selectionModel()->currentIndex().isValid())
        showCurrentProject();
    else if (m_proxy->rowCount() > 0)
        m_table->selectRow(0);
    else
        showCurrentProject();
}

void MainWindow::updateFilterCount()
{
    const int total = m_model->rowCount();
    const int shown = m_proxy->rowCount();
    if (total == 0)
        m_filterCount->setText(tr("No projects"));
    else if (shown == total)
        m_filterCount->setText(tr("Projects: %1").arg(total));
    else
        m_filterCount->setText(tr("Showing %1 of %2").arg(shown).arg(total));
}

bool MainWindow::selectProject(int projectId)
{
    const int row = m_model->rowOf(projectId);
    if (row < 0)
        return false;
    const QModelIndex index = m_proxy->mapFromSource(m_model->index(row, 0));
    if (!index.isValid())
        return false;
    m_table->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_table->scrollTo(index);
    return true;
}

void MainWindow::showCurrentProject()
{
    if (!m_table)
        return;
    const QModelIndex current = m_table->selectionModel()->currentIndex();
    const QModelIndex source = m_proxy->mapToSource(current);
    const labelstudio::Project *project = source.isValid() ? m_model->projectAt(source.row()) : nullptr;
    if (!project) {
        m_detail->clear();
        if (m_backend)
            m_backend->setProject(nullptr);
        if (m_modelPage)
            m_modelPage->setProject(QString(), QString());
        return;
    }
    QList<store::ProgressPoint> history;
    if (const store::Store *store = m_session->progressStore()) {
        QString problem;
        history = store->progress(m_session->storeKey(), project->id, 1000, &problem);
        if (!problem.isEmpty())
            statusBar()->showMessage(tr("Could not read the progress history: %1").arg(problem), 15000);
    }
    m_detail->showProject(*project, history);
    if (m_backend)
        m_backend->setProject(project);
    if (m_modelPage && m_modelPage->projectKey() != keyOf(*project))
        m_modelPage->setProject(keyOf(*project), project->title);
}

// --- loop ------------------------------------------------------------------------------------

QString MainWindow::keyOf(const labelstudio::Project &project)
{
    return project.createdAt.isValid() ? backend::projectkey::make(project.id, project.createdAt.toSecsSinceEpoch())
                                       : QString::number(project.id);
}

const labelstudio::Project *MainWindow::dashboardProject(const QString &projectKey) const
{
    const int row = m_model ? m_model->rowOf(int(backend::projectkey::lsId(projectKey))) : -1;
    const labelstudio::Project *p = m_model ? m_model->projectAt(row) : nullptr;
    if (!p || (backend::projectkey::hasCreated(projectKey) && keyOf(*p) != projectKey))
        return nullptr;
    return p;
}

QString MainWindow::projectTitle(const QString &projectKey) const
{
    const labelstudio::Project *p = dashboardProject(projectKey);
    return p ? p->title : QString();
}

void MainWindow::queueLoopSummary(const QString &projectId)
{
    m_pendingSummaries.insert(projectId);
    if (!m_summaryTimer->isActive())
        m_summaryTimer->start();
}

void MainWindow::updateLoopSummaries()
{
    const QSet<QString> pending = std::exchange(m_pendingSummaries, {});
    client::LoopClient *loop = shownClient();
    if (!loop)
        return;
    for (const QString &id : pending) {
        const labelstudio::Project *shown = dashboardProject(id);
        if (!shown)
            continue; // another server's project
        LoopSummary summary;
        if (const std::optional<client::LoopStatus> status = loop->status(id)) {
            summary.state = status->state == u"idle" && !status->settings.enabled ? QStringLiteral("off") : status->state;
            if (status->activeVersion > 0)
                summary.activeVersion = backend::ModelRegistry::versionName(status->activeVersion);
            for (const client::VersionInfo &v : loop->versions(id))
                if (v.active)
                    summary.accuracy = v.accuracy;
        }
        m_model->setLoopSummary(int(shown->id), summary);
    }
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    stopDemo();
    if (m_backend)
        m_backend->shutdown();
    event->accept();
}

} // namespace loopdeck::gui
