#include "gui/backendpanel.h"

#include "core/backend/operatortoken.h"
#include "core/loop/loopengine.h"

#include "backend/backendserver.h"
#include "backend/servermetrics.h"
#include "gui/appsettings.h"
#include "gui/dashboardsession.h"
#include "gui/statusdot.h"

#include <QApplication>
#include <QClipboard>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QHostInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPainter>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace loopdeck::gui {

using labelstudio::LsError;
using labelstudio::MlBackend;

QString mlBackendStateText(const QString &code)
{
    if (code == u"CO")
        return BackendPanel::tr("Connected");
    if (code == u"DI")
        return BackendPanel::tr("Disconnected");
    if (code == u"ER")
        return BackendPanel::tr("Error");
    if (code == u"TR")
        return BackendPanel::tr("Training");
    if (code == u"PR")
        return BackendPanel::tr("Predicting");
    return code.isEmpty() ? BackendPanel::tr("Unknown") : code;
}

namespace {

enum LogColumn { TimeCol, MethodCol, PathCol, StatusCol, LatencyCol, TasksCol, PeerCol };

QLabel *statValue(QWidget *parent)
{
    auto *l = new QLabel(QStringLiteral("—"), parent);
    QFont f = l->font();
    f.setPointSizeF(f.pointSizeF() * 1.5);
    f.setBold(true);
    l->setFont(f);
    l->setAlignment(Qt::AlignCenter);
    return l;
}

QString formatMs(double ms)
{
    const QLocale locale;
    if (ms < 10)
        return BackendPanel::tr("%1 ms").arg(locale.toString(ms, 'f', 2));
    return BackendPanel::tr("%1 ms").arg(locale.toString(ms, 'f', 0));
}

QString formatUptime(double seconds)
{
    const qint64 s = qint64(seconds);
    if (s < 60)
        return BackendPanel::tr("%1 s").arg(s);
    if (s < 3600)
        return BackendPanel::tr("%1 min %2 s").arg(s / 60).arg(s % 60);
    return BackendPanel::tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
}

} // namespace

BackendPanel::BackendPanel(DashboardSession *session, AppSettings *settings, loop::LoopEngine *engine, QWidget *parent)
    : QWidget(parent)
    , m_session(session)
    , m_settings(settings)
    , m_server(engine->server())
    , m_engine(engine)
    , m_tick(new QTimer(this))
{
    setObjectName(QStringLiteral("backendPanel"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 8, 0, 0);
    layout->setSpacing(10);
    auto *top = new QHBoxLayout;
    top->setSpacing(10);
    top->addWidget(buildServerBox(), 1);
    top->addWidget(buildLabelStudioBox(), 1);
    layout->addLayout(top);
    layout->addWidget(buildTrafficBox());
    layout->addWidget(buildLogBox(), 1);

    connect(m_server.data(), &backend::BackendServer::stateChanged, this, &BackendPanel::updateServerState);
    connect(m_server.data(), &backend::BackendServer::errorOccurred, this, &BackendPanel::showError);
    connect(m_server.data(), &backend::BackendServer::requestServed, this, &BackendPanel::onRequestServed);
    connect(m_server.data(), &backend::BackendServer::requestsDropped, this, [this](int n) { m_droppedLog += n; });
    connect(m_server.data(), &backend::BackendServer::webhookReceived, this, &BackendPanel::onWebhook);
    connect(m_server.data(), &backend::BackendServer::projectSetup, this,
            [this](const QString &projectId, const QString &, const QString &modelVersion) {
                m_setupLabel->setText(tr("%1 — project %2, model version %3")
                                          .arg(QLocale().toString(QTime::currentTime(), QStringLiteral("HH:mm:ss")), projectId,
                                               modelVersion.isEmpty() ? tr("none yet") : modelVersion));
            });
    connect(m_session, &DashboardSession::stateChanged, this, &BackendPanel::updateProjectActions);
    m_tick->setInterval(500);
    connect(m_tick, &QTimer::timeout, this, [this] {
        flushLog();
        updateMetrics();
    });
    updateServerState();
    updateProjectActions();
    updateMetrics();
}

BackendPanel::~BackendPanel()
{
    // Stop the server without running any slot of this half-destroyed panel: stop() emits
    // stateChanged/stopped and drains the request log, and those slots read the session, which
    // the main window may already have deleted (it is created before the tab widget).
    m_tick->stop();
    if (m_server)
        m_server->disconnect(this);
    if (m_session)
        m_session->disconnect(this);
    shutdown();
}

QWidget *BackendPanel::buildServerBox()
{
    auto *box = new QGroupBox(tr("Backend server"), this);
    auto *grid = new QGridLayout(box);
    grid->setHorizontalSpacing(10);
    grid->setVerticalSpacing(8);

    m_hostEdit = new QLineEdit(m_settings->backendHost(), box);
    m_hostEdit->setToolTip(tr("Address to listen on; 127.0.0.1 keeps the backend on this machine"));
    m_portSpin = new QSpinBox(box);
    m_portSpin->setRange(1, 65535);
    m_portSpin->setValue(m_settings->backendPort());
    m_portSpin->setMinimumWidth(90);
    m_startButton = new QPushButton(box);
    m_startButton->setObjectName(QStringLiteral("startBackendButton"));
    m_startButton->setMinimumWidth(150);
    connect(m_startButton, &QPushButton::clicked, this, [this] {
        if (isRunning())
            stopServer();
        else
            startServer();
    });
    auto *hostRow = new QHBoxLayout;
    m_hostEdit->setMaximumWidth(220);
    hostRow->addWidget(m_hostEdit, 1);
    hostRow->addSpacing(8);
    hostRow->addWidget(new QLabel(tr("Port:"), box));
    hostRow->addWidget(m_portSpin);
    hostRow->addStretch(1);
    hostRow->addWidget(m_startButton);
    grid->addWidget(new QLabel(tr("Listen on:"), box), 0, 0);
    grid->addLayout(hostRow, 0, 1);

    m_stateDot = new QLabel(box);
    m_stateDot->setFixedSize(14, 14);
    m_stateLabel = new QLabel(box);
    m_stateLabel->setWordWrap(true);
    QFont bold = m_stateLabel->font();
    bold.setBold(true);
    m_stateLabel->setFont(bold);
    auto *stateRow = new QHBoxLayout;
    stateRow->addWidget(m_stateDot);
    stateRow->addWidget(m_stateLabel, 1);
    grid->addWidget(new QLabel(tr("State:"), box), 1, 0);
    grid->addLayout(stateRow, 1, 1);

    m_urlEdit = new QLineEdit(box);
    m_urlEdit->setObjectName(QStringLiteral("backendUrl"));
    m_urlEdit->setReadOnly(true);
    m_urlEdit->setPlaceholderText(tr("Start the backend to get its URL"));
    m_copyButton = new QPushButton(QIcon(QStringLiteral(":/icons/copy.svg")), tr("Copy"), box);
    m_copyButton->setToolTip(tr("Copy the URL to paste it into Label Studio's Model settings"));
    connect(m_copyButton, &QPushButton::clicked, this, [this] {
        QApplication::clipboard()->setText(url());
        m_copyButton->setText(tr("Copied"));
        QTimer::singleShot(1500, this, [this] { m_copyButton->setText(tr("Copy")); });
    });
    // For a window elsewhere (Loop → Connect to a LoopDeck server…) or `loopdeck loop`: the
    // operator token of this backend, from its data folder, never shown on screen.
    m_copyTokenButton = new QPushButton(QIcon(QStringLiteral(":/icons/copy.svg")), tr("Copy operator token"), box);
    m_copyTokenButton->setObjectName(QStringLiteral("copyOperatorToken"));
    m_copyTokenButton->setToolTip(tr("The credential another window needs to operate this loop (kept in operator-token in "
                                     "the data folder; `loopdeck operator-token --rotate` replaces it)"));
    connect(m_copyTokenButton, &QPushButton::clicked, this, [this] {
        if (!m_engine)
            return;
        const auto token = backend::operatortoken::loadOrCreate(m_engine->dataDir());
        if (!token) {
            m_errorLabel->setText(token.error());
            return;
        }
        QApplication::clipboard()->setText(token.value());
        m_copyTokenButton->setText(tr("Copied"));
        QTimer::singleShot(1500, this, [this] { m_copyTokenButton->setText(tr("Copy operator token")); });
    });
    auto *urlRow = new QHBoxLayout;
    urlRow->addWidget(m_urlEdit, 1);
    urlRow->addWidget(m_copyButton);
    urlRow->addWidget(m_copyTokenButton);
    grid->addWidget(new QLabel(tr("URL:"), box), 2, 0);
    grid->addLayout(urlRow, 2, 1);

    m_errorLabel = new QLabel(box);
    m_errorLabel->setObjectName(QStringLiteral("backendError"));
    m_errorLabel->setWordWrap(true);
    m_errorLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QPalette pal = m_errorLabel->palette();
    pal.setColor(QPalette::WindowText, QColor(0xb3, 0x26, 0x1e));
    m_errorLabel->setPalette(pal);
    m_usePortButton = new QPushButton(box);
    connect(m_usePortButton, &QPushButton::clicked, this, [this] {
        m_portSpin->setValue(m_server->suggestedPort());
        startServer();
    });
    auto *errorRow = new QHBoxLayout;
    errorRow->addWidget(m_errorLabel, 1);
    errorRow->addWidget(m_usePortButton, 0, Qt::AlignTop);
    grid->addLayout(errorRow, 3, 0, 1, 2);
    grid->setColumnStretch(1, 1);
    grid->setRowStretch(4, 1);
    return box;
}

QWidget *BackendPanel::buildLabelStudioBox()
{
    auto *box = new QGroupBox(tr("Label Studio project"), this);
    auto *layout = new QVBoxLayout(box);
    layout->setSpacing(8);
    m_projectLabel = new QLabel(box);
    m_projectLabel->setWordWrap(true);
    layout->addWidget(m_projectLabel);

    auto *buttons = new QHBoxLayout;
    m_connectButton = new QPushButton(QIcon(QStringLiteral(":/icons/link.svg")), tr("Connect to this project"), box);
    m_connectButton->setObjectName(QStringLiteral("connectProjectButton"));
    m_connectButton->setToolTip(tr("Register this backend in the project's Model settings (an existing "
                                   "registration for the same URL is reused)"));
    m_checkButton = new QPushButton(tr("Check again"), box);
    m_checkButton->setToolTip(tr("Ask Label Studio how it sees this backend now"));
    m_fetchButton = new QPushButton(QIcon(QStringLiteral(":/icons/download.svg")), tr("Fetch predictions"), box);
    m_fetchButton->setObjectName(QStringLiteral("fetchPredictionsButton"));
    m_fetchButton->setToolTip(tr("Ask Label Studio to get predictions from this backend for all the project's tasks"));
    connect(m_connectButton, &QPushButton::clicked, this, &BackendPanel::connectToProject);
    connect(m_checkButton, &QPushButton::clicked, this, &BackendPanel::checkRegistration);
    connect(m_fetchButton, &QPushButton::clicked, this, &BackendPanel::fetchPredictions);
    buttons->addWidget(m_connectButton);
    buttons->addWidget(m_checkButton);
    buttons->addWidget(m_fetchButton);
    buttons->addStretch(1);
    layout->addLayout(buttons);

    auto *form = new QGridLayout;
    form->setHorizontalSpacing(10);
    m_lsStateLabel = new QLabel(box);
    m_lsStateLabel->setObjectName(QStringLiteral("labelStudioState"));
    QFont bold = m_lsStateLabel->font();
    bold.setBold(true);
    m_lsStateLabel->setFont(bold);
    m_lsDetailLabel = new QLabel(box);
    m_lsDetailLabel->setWordWrap(true);
    m_lsDetailLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_predictionsLabel = new QLabel(box);
    m_predictionsLabel->setWordWrap(true);
    form->addWidget(new QLabel(tr("Label Studio says:"), box), 0, 0);
    form->addWidget(m_lsStateLabel, 0, 1);
    form->addWidget(m_lsDetailLabel, 1, 1);
    m_setupLabel = new QLabel(tr("not yet"), box);
    m_setupLabel->setToolTip(tr("Label Studio calls /setup when it connects to the backend or opens the project"));
    form->addWidget(new QLabel(tr("Last /setup:"), box), 2, 0);
    form->addWidget(m_setupLabel, 2, 1);
    form->addWidget(new QLabel(tr("Predictions:"), box), 3, 0);
    form->addWidget(m_predictionsLabel, 3, 1);
    form->setColumnStretch(1, 1);
    layout->addLayout(form);
    layout->addStretch(1);
    showRegistration(std::nullopt, QString());
    return box;
}

QWidget *BackendPanel::buildTrafficBox()
{
    auto *box = new QGroupBox(tr("Traffic"), this);
    auto *grid = new QGridLayout(box);
    grid->setHorizontalSpacing(16);
    grid->setVerticalSpacing(2);
    m_requestsValue = statValue(box);
    m_requestsValue->setObjectName(QStringLiteral("requestCount"));
    m_errorsValue = statValue(box);
    m_predictionsValue = statValue(box);
    m_p50Value = statValue(box);
    m_p99Value = statValue(box);
    m_uptimeValue = statValue(box);
    const QList<std::pair<QLabel *, QString>> stats = {
        {m_requestsValue, tr("Requests")},      {m_errorsValue, tr("Errors")},
        {m_predictionsValue, tr("Predictions")}, {m_p50Value, tr("Latency p50")},
        {m_p99Value, tr("Latency p99")},         {m_uptimeValue, tr("Uptime")},
    };
    for (int i = 0; i < stats.size(); ++i) {
        auto *caption = new QLabel(stats[i].second, box);
        caption->setAlignment(Qt::AlignCenter);
        caption->setForegroundRole(QPalette::PlaceholderText);
        grid->addWidget(stats[i].first, 0, i);
        grid->addWidget(caption, 1, i);
        grid->setColumnStretch(i, 1);
    }
    return box;
}

QWidget *BackendPanel::buildLogBox()
{
    auto *split = new QSplitter(Qt::Horizontal, this);
    split->setChildrenCollapsible(false);
    auto *box = new QGroupBox(tr("Recent requests"), split);
    auto *layout = new QVBoxLayout(box);
    m_log = new QTreeWidget(box);
    m_log->setObjectName(QStringLiteral("requestLog"));
    m_log->setRootIsDecorated(false);
    m_log->setUniformRowHeights(true);
    m_log->setAlternatingRowColors(true);
    m_log->setSelectionMode(QAbstractItemView::NoSelection);
    m_log->setHeaderLabels({tr("Time"), tr("Method"), tr("Path"), tr("Status"), tr("Latency"), tr("Tasks"), tr("Client")});
    const QFontMetrics fm(m_log->font());
    m_log->setColumnWidth(TimeCol, fm.horizontalAdvance(QStringLiteral("00:00:00.000")) + 24);
    m_log->setColumnWidth(MethodCol, fm.horizontalAdvance(QStringLiteral("DELETE")) + 24);
    m_log->setColumnWidth(PathCol, fm.horizontalAdvance(QStringLiteral("/webhook/and/more")) + 24);
    m_log->setColumnWidth(StatusCol, fm.horizontalAdvance(QStringLiteral("Status")) + 30);
    m_log->setColumnWidth(LatencyCol, fm.horizontalAdvance(QStringLiteral("0000.00 ms")) + 24);
    m_log->setColumnWidth(TasksCol, fm.horizontalAdvance(QStringLiteral("Tasks")) + 30);
    m_log->header()->setStretchLastSection(true);
    layout->addWidget(m_log);

    auto *hookBox = new QGroupBox(tr("Webhooks from Label Studio"), split);
    auto *hookLayout = new QVBoxLayout(hookBox);
    m_webhooks = new QTreeWidget(hookBox);
    m_webhooks->setObjectName(QStringLiteral("webhookLog"));
    m_webhooks->setRootIsDecorated(false);
    m_webhooks->setUniformRowHeights(true);
    m_webhooks->setAlternatingRowColors(true);
    m_webhooks->setSelectionMode(QAbstractItemView::NoSelection);
    m_webhooks->setHeaderLabels({tr("Time"), tr("Action"), tr("Project"), tr("Task")});
    m_webhooks->setColumnWidth(0, fm.horizontalAdvance(QStringLiteral("00:00:00.000")) + 24);
    m_webhooks->setColumnWidth(1, fm.horizontalAdvance(QStringLiteral("ANNOTATION_CREATED")) + 24);
    m_webhooks->setColumnWidth(2, fm.horizontalAdvance(QStringLiteral("Project")) + 24);
    m_webhooks->setToolTip(tr("What Label Studio told the loop: new, changed and deleted annotations, “Start training”"));
    m_webhooks->header()->setStretchLastSection(true);
    hookLayout->addWidget(m_webhooks);
    split->addWidget(box);
    split->addWidget(hookBox);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    return split;
}

void BackendPanel::onWebhook(const backend::WebhookEvent &event)
{
    // The task: "task": {"id": N} for annotation events, "annotation": {"task": N} otherwise.
    const QJsonObject body = QJsonDocument::fromJson(event.payload).object();
    QJsonValue task = body.value(QStringLiteral("task")).toObject().value(QStringLiteral("id"));
    if (!task.isDouble())
        task = body.value(QStringLiteral("annotation")).toObject().value(QStringLiteral("task"));
    auto *item = new QTreeWidgetItem;
    item->setText(0, event.received.toLocalTime().toString(QStringLiteral("HH:mm:ss.zzz")));
    item->setText(1, event.action);
    item->setText(2, event.projectId);
    item->setText(3, task.isDouble() ? QString::number(qint64(task.toDouble())) : QString());
    m_webhooks->insertTopLevelItem(0, item);
    while (m_webhooks->topLevelItemCount() > kMaxLogRows)
        delete m_webhooks->takeTopLevelItem(m_webhooks->topLevelItemCount() - 1);
}

int BackendPanel::webhookRowCount() const
{
    return m_webhooks->topLevelItemCount();
}

QString BackendPanel::lastWebhookText() const
{
    const QTreeWidgetItem *item = m_webhooks->topLevelItem(0);
    return item ? QStringLiteral("%1 %2 %3").arg(item->text(1), item->text(2), item->text(3)) : QString();
}

QStringList BackendPanel::webhookTexts() const
{
    QStringList out;
    for (int i = 0; i < m_webhooks->topLevelItemCount(); ++i) {
        const QTreeWidgetItem *item = m_webhooks->topLevelItem(i);
        out << QStringLiteral("%1 %2 %3").arg(item->text(1), item->text(2), item->text(3));
    }
    return out;
}

// --- server ----------------------------------------------------------------------------------

bool BackendPanel::startServer()
{
    if (isRunning())
        return true;
    backend::ServerConfig config;
    config.host = m_hostEdit->text().trimmed().isEmpty() ? QStringLiteral("127.0.0.1") : m_hostEdit->text().trimmed();
    config.port = quint16(m_portSpin->value());
    config.dataDir = m_settings->dataDir();
    m_errorLabel->clear();
    QString error;
    const bool ok = m_engine && m_engine->startServer(config, &error);
    if (ok) {
        m_settings->setBackendHost(config.host);
        m_settings->setBackendPort(config.port);
        m_tick->start();
    } else {
        showError(error);
    }
    updateServerState();
    return ok;
}

void BackendPanel::stopServer()
{
    m_server->stop();
    m_tick->stop();
    flushLog();
    updateServerState();
    updateMetrics();
}

void BackendPanel::shutdown()
{
    if (m_server && m_server->state() == backend::BackendServer::State::Listening)
        m_server->stop();
}

bool BackendPanel::isRunning() const
{
    return m_server->isListening();
}

QString BackendPanel::url() const
{
    if (!isRunning())
        return {};
    QString host = m_server->config().host;
    if (host == u"0.0.0.0" || host == u"::")
        host = QHostInfo::localHostName();
    QUrl u;
    u.setScheme(QStringLiteral("http"));
    u.setHost(host);
    u.setPort(m_server->port());
    return u.toString();
}

void BackendPanel::updateServerState()
{
    const bool running = isRunning();
    const qreal dpr = devicePixelRatioF();
    switch (m_server->state()) {
    case backend::BackendServer::State::Listening:
        m_stateLabel->setText(tr("Running"));
        m_stateDot->setPixmap(statusDot(QColor(0x2e, 0xa0, 0x43), dpr));
        break;
    case backend::BackendServer::State::Failed:
        m_stateLabel->setText(tr("Failed to start"));
        m_stateDot->setPixmap(statusDot(QColor(0xd0, 0x3b, 0x2f), dpr));
        break;
    case backend::BackendServer::State::Stopped:
        m_stateLabel->setText(tr("Stopped"));
        m_stateDot->setPixmap(statusDot(QColor(0x9e, 0x9e, 0x9e), dpr));
        break;
    }
    m_startButton->setText(running ? tr("Stop backend") : tr("Start backend"));
    m_startButton->setIcon(QIcon(running ? QStringLiteral(":/icons/stop.svg") : QStringLiteral(":/icons/start.svg")));
    m_hostEdit->setEnabled(!running);
    m_portSpin->setEnabled(!running);
    m_urlEdit->setText(url());
    m_copyButton->setEnabled(running);
    const quint16 suggested = m_server->suggestedPort();
    m_usePortButton->setVisible(!running && suggested != 0 && !m_errorLabel->text().isEmpty());
    m_usePortButton->setText(tr("Use port %1").arg(suggested));
    m_errorLabel->setVisible(!m_errorLabel->text().isEmpty());
    updateProjectActions();
    Q_EMIT serverStateChanged(running);
}

void BackendPanel::showError(const QString &message)
{
    m_errorLabel->setText(message);
    m_errorLabel->setVisible(!message.isEmpty());
}

QString BackendPanel::stateText() const
{
    return m_stateLabel->text();
}

QString BackendPanel::errorText() const
{
    return m_errorLabel->text();
}

void BackendPanel::updateMetrics()
{
    const auto metrics = m_server->metrics();
    const QLocale locale;
    if (!metrics) {
        for (QLabel *l : {m_requestsValue, m_errorsValue, m_predictionsValue, m_p50Value, m_p99Value, m_uptimeValue})
            l->setText(QStringLiteral("—"));
        return;
    }
    const backend::ServerMetrics::RouteStats all = metrics->overall();
    m_requestsValue->setText(locale.toString(qint64(all.count)));
    m_errorsValue->setText(locale.toString(qint64(all.errors)));
    m_predictionsValue->setText(locale.toString(qint64(metrics->predictions())));
    m_p50Value->setText(all.count ? formatMs(all.latency.p50) : QStringLiteral("—"));
    m_p99Value->setText(all.count ? formatMs(all.latency.p99) : QStringLiteral("—"));
    m_uptimeValue->setText(isRunning() ? formatUptime(metrics->uptimeSeconds()) : QStringLiteral("—"));
    QPalette pal = m_errorsValue->palette();
    pal.setColor(QPalette::WindowText, all.errors ? QColor(0xb3, 0x26, 0x1e) : palette().color(QPalette::WindowText));
    m_errorsValue->setPalette(pal);
}

qint64 BackendPanel::requestCount() const
{
    const auto metrics = m_server->metrics();
    return metrics ? qint64(metrics->overall().count) : 0;
}

void BackendPanel::onRequestServed(const backend::RequestRecord &record)
{
    m_pendingLog.append(record);
    if (m_pendingLog.size() > kMaxLogRows)
        m_pendingLog.remove(0, m_pendingLog.size() - kMaxLogRows);
    if (!m_tick->isActive())
        flushLog();
}

void BackendPanel::flushLog()
{
    if (m_pendingLog.isEmpty())
        return;
    const QLocale locale;
    QList<QTreeWidgetItem *> items;
    for (auto it = m_pendingLog.crbegin(); it != m_pendingLog.crend(); ++it) {
        const backend::RequestRecord &r = *it;
        auto *item = new QTreeWidgetItem;
        item->setText(TimeCol, r.when.toLocalTime().toString(QStringLiteral("HH:mm:ss.zzz")));
        item->setText(MethodCol, r.method);
        item->setText(PathCol, r.path);
        item->setText(StatusCol, QString::number(r.status));
        item->setText(LatencyCol, formatMs(r.latencyMs));
        item->setText(TasksCol, r.tasks >= 0 ? locale.toString(r.tasks) : QString());
        item->setText(PeerCol, r.peer);
        for (int c : {StatusCol, LatencyCol, TasksCol})
            item->setTextAlignment(c, Qt::AlignRight | Qt::AlignVCenter);
        if (r.status >= 400) {
            for (int c = 0; c < m_log->columnCount(); ++c)
                item->setForeground(c, QColor(0xb3, 0x26, 0x1e));
        }
        items.append(item);
    }
    m_pendingLog.clear();
    m_log->insertTopLevelItems(0, items);
    while (m_log->topLevelItemCount() > kMaxLogRows)
        delete m_log->takeTopLevelItem(m_log->topLevelItemCount() - 1);
}

int BackendPanel::logRowCount() const
{
    return m_log->topLevelItemCount() + int(m_pendingLog.size());
}

// --- Label Studio ----------------------------------------------------------------------------

void BackendPanel::setProject(const labelstudio::Project *project)
{
    const int oldId = m_project ? m_project->id : 0;
    if (project)
        m_project = *project;
    else
        m_project.reset();
    const int newId = m_project ? m_project->id : 0;
    if (newId != oldId) {
        ++m_projectGeneration;
        m_registration.reset();
        showRegistration(std::nullopt, QString());
        if (newId && m_session->state() == DashboardSession::State::Connected && isRunning())
            checkRegistration();
    }
    updateProjectActions();
}

void BackendPanel::updateProjectActions()
{
    const bool connected = m_session->state() == DashboardSession::State::Connected;
    if (!m_project) {
        m_projectLabel->setText(tr("Select a project on the Projects tab to connect this backend to it."));
    } else {
        const QLocale locale;
        m_projectLabel->setText(tr("<b>%1</b> (#%2) — %3 tasks, %4 predictions in Label Studio")
                                    .arg(m_project->title.toHtmlEscaped())
                                    .arg(m_project->id)
                                    .arg(locale.toString(m_project->counts.taskNumber),
                                         locale.toString(m_project->counts.totalPredictions)));
    }
    const bool can = connected && m_project.has_value();
    m_connectButton->setEnabled(can);
    m_checkButton->setEnabled(can && isRunning());
    m_fetchButton->setEnabled(can && isRunning() && m_registration.has_value());
    if (!connected)
        m_connectButton->setToolTip(tr("Connect to a Label Studio server first"));
}

void BackendPanel::connectToProject()
{
    if (!m_project || m_session->state() != DashboardSession::State::Connected)
        return;
    if (!isRunning() && !startServer())
        return;
    labelstudio::MlBackendRegistration reg;
    reg.url = url();
    reg.project = m_project->id;
    reg.title = QStringLiteral("LoopDeck");
    reg.description = tr("LoopDeck's built-in text classifier");
    m_lsStateLabel->setText(tr("Registering…"));
    m_lsDetailLabel->clear();
    m_connectButton->setEnabled(false);
    const quint64 generation = m_projectGeneration;
    m_session->client().registerMlBackend(reg, [this, generation](const MlBackend &backend, const LsError &error) {
        if (generation != m_projectGeneration)
            return;
        if (error.isError()) {
            showRegistration(std::nullopt, error.message());
            Q_EMIT registrationUpdated(false);
        } else {
            showRegistration(backend, QString());
            Q_EMIT registrationUpdated(true);
        }
        updateProjectActions();
    });
}

void BackendPanel::checkRegistration()
{
    if (!m_project)
        return;
    const QString myUrl = url();
    const quint64 generation = m_projectGeneration;
    m_session->client().fetchMlBackends(
        m_project->id, [this, generation, myUrl](const QList<MlBackend> &backends, const LsError &error) {
            if (generation != m_projectGeneration)
                return;
            if (error.isError()) {
                showRegistration(m_registration, error.message());
                Q_EMIT registrationUpdated(false);
                return;
            }
            std::optional<MlBackend> mine;
            auto norm = [](const QString &u) { return QUrl(u).adjusted(QUrl::StripTrailingSlash); };
            for (const MlBackend &b : backends)
                if (norm(b.url) == norm(myUrl))
                    mine = b;
            showRegistration(mine, QString());
            Q_EMIT registrationUpdated(mine.has_value());
            updateProjectActions();
        });
}

void BackendPanel::showRegistration(const std::optional<MlBackend> &backend, const QString &error)
{
    m_registration = backend;
    QPalette pal = m_lsStateLabel->palette();
    QColor color = palette().color(QPalette::WindowText);
    if (!error.isEmpty()) {
        m_lsStateLabel->setText(tr("Request failed"));
        m_lsDetailLabel->setText(error);
        color = QColor(0xb3, 0x26, 0x1e);
    } else if (!backend) {
        m_lsStateLabel->setText(tr("Not connected to this project"));
        m_lsDetailLabel->setText(isRunning() ? tr("Press “Connect to this project” to register the backend.")
                                             : tr("Start the backend, then connect it to the project."));
    } else {
        m_lsStateLabel->setText(tr("%1 (%2)").arg(mlBackendStateText(backend->state), backend->state));
        QStringList details;
        details << tr("Registered as “%1” at %2").arg(backend->title, backend->url);
        if (!backend->modelVersion.isEmpty())
            details << tr("Model version: %1").arg(backend->modelVersion);
        if (!backend->errorMessage.isEmpty())
            details << tr("Label Studio reports: %1").arg(backend->errorMessage);
        m_lsDetailLabel->setText(details.join(QLatin1Char('\n')));
        if (backend->state == u"CO")
            color = QColor(0x1e, 0x7b, 0x4f);
        else if (backend->state == u"ER" || backend->state == u"DI")
            color = QColor(0xb3, 0x26, 0x1e);
    }
    pal.setColor(QPalette::WindowText, color);
    m_lsStateLabel->setPalette(pal);
    if (m_predictionsLabel->text().isEmpty() || !backend)
        m_predictionsLabel->setText(tr("Not requested yet"));
}

QString BackendPanel::labelStudioStateText() const
{
    return m_lsStateLabel->text();
}

void BackendPanel::fetchPredictions()
{
    if (!m_project)
        return;
    m_predictionsLabel->setText(tr("Asking Label Studio to fetch predictions…"));
    m_fetchButton->setEnabled(false);
    const quint64 generation = m_projectGeneration;
    m_session->client().retrievePredictions(m_project->id, {}, [this, generation](const QByteArray &body, const LsError &error) {
        if (generation != m_projectGeneration)
            return;
        updateProjectActions();
        if (error.isError()) {
            m_predictionsLabel->setText(tr("Failed: %1").arg(error.message()));
            Q_EMIT predictionsRequested(false);
            return;
        }
        const QJsonObject answer = QJsonDocument::fromJson(body).object();
        const QString time = QLocale().toString(QTime::currentTime(), QLocale::ShortFormat);
        if (answer.contains(QStringLiteral("processed_items")))
            m_predictionsLabel->setText(tr("At %1 Label Studio asked for predictions for %2 tasks; the counts "
                                           "update on the next refresh.")
                                            .arg(time, QLocale().toString(answer.value(QStringLiteral("processed_items")).toInt())));
        else
            m_predictionsLabel->setText(tr("Label Studio fetched predictions at %1; the counts update on the next refresh.").arg(time));
        m_session->refresh();
        Q_EMIT predictionsRequested(true);
    });
}

QString BackendPanel::predictionsText() const
{
    return m_predictionsLabel->text();
}

} // namespace loopdeck::gui
