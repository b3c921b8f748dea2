#include "gui/modelpage.h"

#include "core/backend/projectkey.h"

#include "gui/accuracychart.h"
#include "gui/confusionmodel.h"
#include "gui/scheduleeditor.h"
#include "gui/statusdot.h"
#include "gui/versionsmodel.h"

#include <QApplication>
#include <QDateTime>
#include <QFileDialog>
#include <QFontDatabase>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QRegularExpression>
#include <QPushButton>
#include <QSaveFile>
#include <QScrollArea>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTextCursor>
#include <QTimer>
#include <QVBoxLayout>

#include <utility>

namespace loopdeck::gui {

namespace {

const QColor kIdle(0x2e, 0xa0, 0x43);
const QColor kBusy(0xf0, 0xb4, 0x29);
const QColor kOff(0x9e, 0x9e, 0x9e);

QLabel *wrapLabel(QWidget *parent, const char *name)
{
    auto *l = new QLabel(parent);
    l->setObjectName(QLatin1String(name));
    l->setWordWrap(true);
    // Plain: these show sentences that may come from a remote server; no markup from there.
    l->setTextFormat(Qt::PlainText);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return l;
}

void setupTable(QTableView *t)
{
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setSelectionMode(QAbstractItemView::SingleSelection);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setWordWrap(false);
    t->verticalHeader()->setDefaultSectionSize(t->fontMetrics().height() + 10);
    t->horizontalHeader()->setHighlightSections(false);
}

QString ratio(double value)
{
    return value < 0 ? QString() : QLocale().toString(value, 'f', 3);
}

// The trainer's evaluation sentence ("stratified 5-fold cross-validation", "stratified 20 %
// holdout") in the UI language; anything else as it came.
QString evaluationText(const QString &evaluation)
{
    static const QRegularExpression kfold(QStringLiteral("^stratified (\\d+)-fold cross-validation$"));
    static const QRegularExpression holdout(QStringLiteral("^stratified (\\d+) % holdout$"));
    if (const auto m = kfold.match(evaluation); m.hasMatch())
        return ModelPage::tr("stratified %1-fold cross-validation").arg(m.captured(1));
    if (const auto m = holdout.match(evaluation); m.hasMatch())
        return ModelPage::tr("stratified %1 % holdout").arg(m.captured(1));
    return evaluation;
}

} // namespace

ModelPage::ModelPage(client::LoopClient *client, QWidget *parent)
    : QWidget(parent)
    , m_client(client)
    , m_coalesce(new QTimer(this))
    , m_tick(new QTimer(this))
{
    setObjectName(QStringLiteral("modelPage"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 8, 0, 0);
    layout->setSpacing(8);
    m_heading = new QLabel(this);
    m_heading->setObjectName(QStringLiteral("modelHeading"));
    QFont big = m_heading->font();
    big.setPointSizeF(big.pointSizeF() * 1.25);
    big.setBold(true);
    m_heading->setFont(big);
    layout->addWidget(m_heading);

    auto *split = new QSplitter(Qt::Horizontal, this);
    split->setObjectName(QStringLiteral("modelSplitter"));
    split->setChildrenCollapsible(false);
    auto *left = new QWidget(split);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(buildTrainingBox());
    leftLayout->addWidget(buildVersionsBox(), 1);

    auto *right = new QSplitter(Qt::Vertical, split);
    right->setChildrenCollapsible(false);
    m_chart = new AccuracyChart(right);
    m_tabs = new QTabWidget(right);
    m_tabs->setObjectName(QStringLiteral("modelTabs"));
    m_tabs->addTab(buildEvaluationTab(), tr("Evaluation"));
    m_schedule = new ScheduleEditor;
    auto *scheduleScroll = new QScrollArea;
    scheduleScroll->setWidget(m_schedule);
    scheduleScroll->setWidgetResizable(true);
    scheduleScroll->setFrameShape(QFrame::NoFrame);
    m_tabs->addTab(scheduleScroll, tr("Schedule"));
    auto *logPage = new QWidget;
    auto *logLayout = new QVBoxLayout(logPage);
    m_errorLabel = wrapLabel(logPage, "loopErrors");
    QPalette red = m_errorLabel->palette();
    red.setColor(QPalette::WindowText, QColor(0xb3, 0x26, 0x1e));
    m_errorLabel->setPalette(red);
    m_log = new QPlainTextEdit(logPage);
    m_log->setObjectName(QStringLiteral("loopLog"));
    m_log->setReadOnly(true);
    m_log->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_log->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    logLayout->addWidget(m_errorLabel);
    logLayout->addWidget(m_log, 1);
    m_tabs->addTab(logPage, tr("Log"));
    right->addWidget(m_chart);
    right->addWidget(m_tabs);
    right->setStretchFactor(0, 3);
    right->setStretchFactor(1, 2);
    split->addWidget(left);
    split->addWidget(right);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    split->setSizes({620, 700});
    layout->addWidget(split, 1);

    connect(m_schedule, &ScheduleEditor::edited, this, &ModelPage::saveSchedule);

    m_coalesce->setSingleShot(true);
    m_coalesce->setInterval(50);
    connect(m_coalesce, &QTimer::timeout, this, &ModelPage::refresh);
    m_tick->setInterval(500);
    connect(m_tick, &QTimer::timeout, this, &ModelPage::refreshStatus);
    connectClient();
    setProject(QString(), QString());
}

ModelPage::~ModelPage() = default;

QWidget *ModelPage::buildTrainingBox()
{
    auto *box = new QGroupBox(tr("Training"), this);
    auto *layout = new QVBoxLayout(box);
    auto *row = new QHBoxLayout;
    m_stateDot = new QLabel(box);
    m_stateDot->setFixedSize(14, 14);
    m_stateLabel = new QLabel(box);
    m_stateLabel->setObjectName(QStringLiteral("trainingState"));
    QFont bold = m_stateLabel->font();
    bold.setBold(true);
    m_stateLabel->setFont(bold);
    m_progress = new QProgressBar(box);
    m_progress->setObjectName(QStringLiteral("trainingProgress"));
    m_progress->setRange(0, 100);
    m_progress->setMaximumWidth(160);
    m_trainButton = new QPushButton(QIcon(QStringLiteral(":/icons/refresh.svg")), tr("Train now"), box);
    m_trainButton->setObjectName(QStringLiteral("trainNowButton"));
    m_cancelButton = new QPushButton(tr("Cancel"), box);
    m_cancelButton->setObjectName(QStringLiteral("cancelTrainingButton"));
    m_cancelButton->setToolTip(tr("Stop the run in progress; the active version keeps serving"));
    row->addWidget(m_stateDot, 0, Qt::AlignVCenter);
    row->addWidget(m_stateLabel, 1);
    row->addWidget(m_progress);
    row->addWidget(m_trainButton);
    row->addWidget(m_cancelButton);
    layout->addLayout(row);
    m_reasonLabel = wrapLabel(box, "trainReason");
    m_reasonLabel->setForegroundRole(QPalette::PlaceholderText);
    m_countsLabel = wrapLabel(box, "loopCounts");
    m_messageLabel = wrapLabel(box, "modelMessage");
    layout->addWidget(m_reasonLabel);
    layout->addWidget(m_countsLabel);
    layout->addWidget(m_messageLabel);
    connect(m_trainButton, &QPushButton::clicked, this, &ModelPage::trainNow);
    connect(m_cancelButton, &QPushButton::clicked, this, &ModelPage::cancelRun);
    return box;
}

QWidget *ModelPage::buildVersionsBox()
{
    auto *box = new QGroupBox(tr("Versions"), this);
    auto *layout = new QVBoxLayout(box);
    m_versions = new VersionsModel(this);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_versions);
    m_proxy->setSortRole(VersionsModel::SortRole);
    m_proxy->setDynamicSortFilter(true);
    m_table = new QTableView(box);
    m_table->setObjectName(QStringLiteral("versionsTable"));
    m_table->setModel(m_proxy);
    setupTable(m_table);
    m_table->setAlternatingRowColors(true);
    m_table->setShowGrid(false);
    m_table->verticalHeader()->hide();
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(VersionsModel::VersionColumn, Qt::DescendingOrder);
    QHeaderView *header = m_table->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::ResizeToContents);
    header->setSectionResizeMode(VersionsModel::CreatedColumn, QHeaderView::Stretch);
    header->setMinimumSectionSize(fontMetrics().horizontalAdvance(QStringLiteral("v000")) + 16);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this] {
        // A version the operator picked stays selected; otherwise the selection follows the
        // active version as new ones arrive.
        if (!m_selectingAutomatically)
            m_userSelected = true;
        showSelectedEvaluation();
        updateVersionActions();
    });
    layout->addWidget(m_table, 1);

    auto *buttons = new QHBoxLayout;
    m_activateButton = new QPushButton(tr("Activate"), box);
    m_activateButton->setObjectName(QStringLiteral("activateVersionButton"));
    m_activateButton->setToolTip(tr("Serve the selected version to Label Studio"));
    m_rollbackButton = new QPushButton(tr("Roll back"), box);
    m_rollbackButton->setObjectName(QStringLiteral("rollbackButton"));
    m_exportButton = new QPushButton(tr("Export CSV…"), box);
    m_exportButton->setObjectName(QStringLiteral("exportCsvButton"));
    m_exportButton->setToolTip(tr("Save the metrics of every version as a CSV file"));
    buttons->addWidget(m_activateButton);
    buttons->addWidget(m_rollbackButton);
    buttons->addStretch(1);
    buttons->addWidget(m_exportButton);
    layout->addLayout(buttons);
    connect(m_activateButton, &QPushButton::clicked, this, &ModelPage::activateSelected);
    connect(m_rollbackButton, &QPushButton::clicked, this, &ModelPage::rollBack);
    connect(m_exportButton, &QPushButton::clicked, this, &ModelPage::exportCsvInteractive);
    return box;
}

QWidget *ModelPage::buildEvaluationTab()
{
    auto *page = new QWidget;
    auto *layout = new QVBoxLayout(page);
    m_evaluationLabel = wrapLabel(page, "evaluationLabel");
    layout->addWidget(m_evaluationLabel);
    auto *row = new QHBoxLayout;
    m_confusion = new ConfusionModel(this);
    m_confusionTable = new QTableView(page);
    m_confusionTable->setObjectName(QStringLiteral("confusionTable"));
    m_confusionTable->setModel(m_confusion);
    setupTable(m_confusionTable);
    m_confusionTable->setSelectionMode(QAbstractItemView::NoSelection);
    m_confusionTable->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_confusionTable->horizontalHeader()->setMinimumSectionSize(56);
    m_confusionTable->setToolTip(tr("Rows: true class; columns: predicted class. Shading: share of the row."));
    m_classes = new ClassMetricsModel(this);
    m_classTable = new QTableView(page);
    m_classTable->setObjectName(QStringLiteral("classMetricsTable"));
    m_classTable->setModel(m_classes);
    setupTable(m_classTable);
    m_classTable->verticalHeader()->hide();
    m_classTable->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_classTable->horizontalHeader()->setSectionResizeMode(ClassMetricsModel::ClassColumn, QHeaderView::Stretch);
    auto *matrixBox = new QVBoxLayout;
    auto *matrixCaption = new QLabel(tr("Confusion matrix (rows: true, columns: predicted)"), page);
    matrixCaption->setForegroundRole(QPalette::PlaceholderText);
    matrixBox->addWidget(matrixCaption);
    matrixBox->addWidget(m_confusionTable, 1);
    auto *classBox = new QVBoxLayout;
    auto *classCaption = new QLabel(tr("Per class"), page);
    classCaption->setForegroundRole(QPalette::PlaceholderText);
    classBox->addWidget(classCaption);
    classBox->addWidget(m_classTable, 1);
    row->addLayout(matrixBox, 1);
    row->addLayout(classBox, 1);
    layout->addLayout(row, 1);
    return page;
}

void ModelPage::setProject(const QString &projectId, const QString &title)
{
    const bool changed = projectId != m_projectId;
    m_projectId = projectId;
    m_title = title;
    if (changed) {
        ++m_shown; // answers to actions on the previous project are not for this one
        m_trainRequested = false;
        m_cancelRequested = false;
        m_cancelRunning = false;
        m_switchRunning = false;
        m_savesRunning = 0;
        m_userSelected = false;
        m_versions->clear();
        m_confusion->clear();
        m_classes->clear();
        m_messageLabel->clear();
        m_schedule->setMessage(QString(), false);
        if (m_client && !projectId.isEmpty())
            m_schedule->setSettings(m_client->settings(projectId));
    }
    QString heading = !projectId.isEmpty()
        ? tr("Model of “%1”").arg(title.isEmpty() ? tr("project %1").arg(backend::projectkey::lsId(projectId)) : title)
        : tr("Select a project on the Projects tab");
    // Which loop, at a glance, when it is not this computer's.
    if (m_client && m_client->where() == client::LoopClient::Where::Remote)
        heading += QStringLiteral(" — ") + tr("on %1").arg(m_client->describe());
    m_heading->setText(heading);
    refresh();
}

void ModelPage::setClient(client::LoopClient *client)
{
    if (m_client == client)
        return;
    if (m_client)
        m_client->disconnect(this);
    m_client = client;
    connectClient();
    const QString project = std::exchange(m_projectId, QString());
    setProject(project, m_title); // the same project key means another project in another loop
}

void ModelPage::connectClient()
{
    if (!m_client)
        return;
    using client::LoopClient;
    auto mine = [this](const QString &id) {
        if (id == m_projectId && !m_projectId.isEmpty() && !m_coalesce->isActive())
            m_coalesce->start();
    };
    connect(m_client, &LoopClient::statusChanged, this, mine);
    connect(m_client, &LoopClient::versionsChanged, this, mine);
    connect(m_client, &LoopClient::projectAdded, this, mine);
    connect(m_client, &LoopClient::connectionChanged, this, [this, mine] { mine(m_projectId); });
    connect(m_client, &LoopClient::trainingFinished, this, [this, mine](const QString &id, int, bool, double, double) {
        if (id == m_projectId)
            m_trainRequested = m_cancelRequested = false;
        mine(id);
    });
    connect(m_client, &LoopClient::trainingFailed, this, [this, mine](const QString &id, const QString &error) {
        if (id != m_projectId)
            return;
        m_trainRequested = false;
        if (std::exchange(m_cancelRequested, false))
            showMessage(tr("Training cancelled; the active version keeps serving."), false);
        else
            showMessage(tr("Training failed: %1").arg(error), true);
        mine(id);
    });
}

void ModelPage::refresh()
{
    refreshStatus();
    refreshVersions();
}

void ModelPage::refreshStatus()
{
    QString reason;
    m_status.reset();
    QString stateText;
    QColor color = kOff;
    if (!m_client || m_projectId.isEmpty()) {
        m_state.clear();
        stateText = tr("No project selected");
        reason = tr("Select a project first.");
    } else if (!m_client->isUp()) {
        m_state.clear();
        stateText = tr("The loop does not answer");
        reason = tr("The loop at %1 does not answer: %2").arg(m_client->describe(), m_client->connectionError());
    } else {
        m_status = m_client->status(m_projectId);
        if (!m_status) {
            m_state.clear();
            stateText = tr("Not in the loop");
            reason = tr("The loop does not serve this project yet: start the backend and choose “Connect to this project” "
                        "on the ML backend tab.");
        } else {
            const client::LoopStatus &status = *m_status;
            const bool enabled = status.settings.enabled;
            if (status.state == u"training") {
                m_state = status.state;
                m_trainRequested = false;
                const QString trigger = VersionsModel::triggerText(status.trigger);
                stateText = tr("Training (%1) — %2 s").arg(trigger).arg(int(status.elapsedSeconds));
                reason = tr("A training run is in progress; wait for it or cancel it.");
                color = kBusy;
            } else if (status.state == u"queued") {
                m_state = status.state;
                m_trainRequested = false;
                stateText = tr("Queued (%1)").arg(VersionsModel::triggerText(status.queued));
                reason = tr("A run is already queued and starts after the cooldown.");
                color = kBusy;
            } else {
                m_state = enabled ? QStringLiteral("idle") : QStringLiteral("off");
                // A cancelled run ends without a signal of its own: its end is this.
                if (std::exchange(m_cancelRequested, false))
                    showMessage(tr("Training cancelled; the active version keeps serving."), false);
                stateText = enabled ? tr("Idle") : tr("Off — trains only when you press “Train now”");
                color = enabled ? kIdle : kOff;
                if (m_trainRequested)
                    reason = tr("Starting a training run…");
            }
        }
    }
    m_stateLabel->setText(stateText);
    m_stateDot->setPixmap(statusDot(color, devicePixelRatioF()));
    const bool training = m_state == u"training";
    m_progress->setVisible(training);
    m_progress->setValue(m_status ? int(m_status->progress * 100) : 0);
    const bool canTrain = reason.isEmpty();
    m_trainButton->setEnabled(canTrain);
    m_trainButton->setToolTip(canTrain ? tr("Train a new version from every annotation now") : reason);
    m_reasonLabel->setText(reason);
    m_reasonLabel->setVisible(!reason.isEmpty());
    m_cancelButton->setEnabled(training && !m_cancelRunning);
    if (training && !m_tick->isActive())
        m_tick->start();
    else if (!training)
        m_tick->stop();

    if (m_status) {
        const client::LoopStatus &status = *m_status;
        const QLocale locale;
        QString counts = tr("%1 annotations · %2 usable examples · %3 new since the last training")
                             .arg(locale.toString(status.annotations), locale.toString(status.usableExamples),
                                  locale.toString(status.newSinceTraining));
        if (status.nextScheduledRun.isValid())
            counts += QStringLiteral("\n")
                      + tr("Next scheduled run: %1").arg(locale.toString(status.nextScheduledRun.toLocalTime(), QLocale::ShortFormat));
        m_countsLabel->setText(counts);
        QStringList errors;
        if (!status.lastError.isEmpty())
            errors << tr("Last run: %1").arg(status.lastError);
        if (!status.reconcileError.isEmpty())
            errors << tr("Reconcile: %1").arg(status.reconcileError);
        if (!status.webhookWarning.isEmpty())
            errors << tr("Webhook: %1").arg(status.webhookWarning);
        // LoopStatus has no field for the prediction refresh: it stays in the document.
        if (const QString e = status.raw.value(QStringLiteral("prediction_refresh")).toObject().value(QStringLiteral("error")).toString();
            !e.isEmpty())
            errors << tr("Prediction refresh: %1").arg(e);
        m_errorLabel->setText(errors.join(QLatin1Char('\n')));
        m_errorLabel->setVisible(!errors.isEmpty());
        const QString text = status.log.join(QLatin1Char('\n'));
        if (m_log->toPlainText() != text) {
            m_log->setPlainText(text);
            m_log->moveCursor(QTextCursor::End);
        }
        // Settings changed elsewhere (CLI, HTTP): show them unless the user is editing, or a save
        // of theirs has not been answered yet (the loop may not show it yet).
        if (!m_schedule->isAncestorOf(QApplication::focusWidget()) && m_savesRunning == 0)
            if (const loop::LoopSettings saved = m_client->settings(m_projectId); m_schedule->settings() != saved)
                m_schedule->setSettings(saved);
    } else {
        m_countsLabel->clear();
        m_errorLabel->clear();
        m_errorLabel->hide();
        m_log->clear();
    }
    m_schedule->setEnabled(m_status.has_value());
    Q_EMIT statusShown(m_state, m_trainButton->isEnabled(), reason);
}

void ModelPage::refreshVersions()
{
    const QList<client::VersionInfo> versions =
        (m_client && !m_projectId.isEmpty()) ? m_client->versions(m_projectId) : QList<client::VersionInfo>();
    m_versions->setVersions(versions);
    m_chart->setVersions(versions);
    if ((!m_userSelected || !m_table->selectionModel()->currentIndex().isValid()) && m_versions->rowCount() > 0) {
        const int active = m_versions->activeVersion();
        m_selectingAutomatically = true;
        selectVersion(active > 0 ? active : m_versions->versionAt(m_versions->rowCount() - 1).version);
        m_selectingAutomatically = false;
        m_userSelected = false;
    }
    showSelectedEvaluation();
    updateVersionActions();
    Q_EMIT versionsShown(m_versions->rowCount());
}

bool ModelPage::selectVersion(int version)
{
    const int row = m_versions->rowOfVersion(version);
    if (row < 0)
        return false;
    const QModelIndex index = m_proxy->mapFromSource(m_versions->index(row, 0));
    m_table->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_table->scrollTo(index);
    return true;
}

int ModelPage::selectedVersion() const
{
    const QModelIndex current = m_table->selectionModel()->currentIndex();
    return current.isValid() ? current.data(VersionsModel::VersionRole).toInt() : 0;
}

void ModelPage::showSelectedEvaluation()
{
    const int version = selectedVersion();
    const client::VersionInfo v = m_versions->versionAt(m_versions->rowOfVersion(version));
    if (v.version == 0) {
        m_confusion->clear();
        m_classes->clear();
        m_evaluationLabel->setText(!m_projectId.isEmpty() ? tr("No version yet: the first one trains when enough annotations arrive, "
                                                         "or press “Train now”.")
                                                   : QString());
        return;
    }
    m_confusion->setMetrics(v.metrics);
    m_classes->setMetrics(v.metrics);
    QString text = tr("%1: accuracy %2, macro-F1 %3 (%4)")
                       .arg(versionName(v), ratio(v.accuracy), ratio(versionMacroF1(v)),
                            evaluationText(v.metrics.value(QStringLiteral("evaluation")).toString()));
    m_evaluationLabel->setText(text);
}

void ModelPage::updateVersionActions()
{
    const int selected = selectedVersion();
    const int active = m_versions->activeVersion();
    const bool inLoop = m_status.has_value();
    m_activateButton->setEnabled(inLoop && !m_switchRunning && selected > 0 && selected != active);
    m_activateButton->setToolTip(selected > 0 && selected == active ? tr("The selected version is already active")
                                                                    : tr("Serve the selected version to Label Studio"));
    const int target = rollbackTarget();
    m_rollbackButton->setEnabled(inLoop && !m_switchRunning && target > 0);
    m_rollbackButton->setToolTip(target > 0 ? tr("Serve %1 again instead of %2").arg(versionWithAccuracy(target), versionWithAccuracy(active))
                                            : tr("There is no older version to roll back to"));
    m_exportButton->setEnabled(m_versions->rowCount() > 0);
}

int ModelPage::rollbackTarget() const
{
    // The same choice as the registry: the newest version older than the active one.
    const int active = m_versions->activeVersion();
    int target = 0;
    for (const client::VersionInfo &v : m_versions->versions())
        if (active > 0 && v.version < active)
            target = std::max(target, v.version);
    return target;
}

QString ModelPage::versionWithAccuracy(int version) const
{
    if (version <= 0)
        return tr("no version");
    const double accuracy = m_versions->versionAt(m_versions->rowOfVersion(version)).accuracy;
    return accuracy < 0 ? tr("v%1 (accuracy unknown)").arg(version)
                        : tr("v%1 (accuracy %2)").arg(version).arg(QLocale().toString(accuracy, 'f', 3));
}

bool ModelPage::confirm(const QString &title, const QString &text)
{
    if (m_confirm)
        return m_confirm(title, text);
    return QMessageBox::question(this, title, text, QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel)
           == QMessageBox::Yes;
}

void ModelPage::showMessage(const QString &text, bool error)
{
    m_messageLabel->setText(text);
    QPalette pal = palette();
    if (error)
        pal.setColor(QPalette::WindowText, QColor(0xb3, 0x26, 0x1e));
    m_messageLabel->setPalette(pal);
}

client::LoopClient::Done ModelPage::whenCurrent(std::function<void(const client::LoopResult &)> then)
{
    return [self = QPointer<ModelPage>(this), shown = m_shown, then = std::move(then)](const client::LoopResult &result) {
        if (self && self->m_shown == shown)
            then(result);
    };
}

void ModelPage::trainNow()
{
    if (!m_client || m_projectId.isEmpty() || m_trainRequested)
        return;
    // Until the answer, and after it until the run shows, the button stays off and says why.
    m_trainRequested = true;
    refreshStatus();
    m_client->train(m_projectId, whenCurrent([this](const client::LoopResult &result) {
        if (!result.ok) {
            m_trainRequested = false;
            showMessage(result.error, true);
        } else if (m_trainRequested || m_state == u"training" || m_state == u"queued") {
            // (Not when the run already ended: its own message stays.)
            const QString state = result.body.value(QStringLiteral("train")).toString();
            showMessage(state == u"started" ? tr("Training started.") : tr("Training queued: it starts when the current run and "
                                                                           "the cooldown are over."),
                        false);
        }
        refreshStatus();
    }));
}

void ModelPage::cancelRun()
{
    if (!m_client || m_projectId.isEmpty() || m_cancelRunning)
        return;
    m_cancelRunning = true;
    m_cancelButton->setEnabled(false);
    m_client->cancel(m_projectId, whenCurrent([this](const client::LoopResult &result) {
        m_cancelRunning = false;
        m_cancelRequested = result.ok;
        if (result.ok)
            showMessage(tr("Cancelling the training run…"), false);
        else
            showMessage(result.error, true);
        refreshStatus();
    }));
}

void ModelPage::activateSelected()
{
    const int version = selectedVersion();
    const int active = m_versions->activeVersion();
    if (!m_client || version <= 0 || version == active || m_switchRunning)
        return;
    if (!confirm(tr("Activate version"),
                 tr("Make %1 the active version in place of %2?\n\nLabel Studio gets its predictions from %1 from now on.")
                     .arg(versionWithAccuracy(version), versionWithAccuracy(active))))
        return;
    m_switchRunning = true;
    updateVersionActions();
    m_client->activate(m_projectId, version, whenCurrent([this, version](const client::LoopResult &result) {
        m_switchRunning = false;
        if (!result.ok)
            showMessage(result.error, true);
        else
            showMessage(tr("%1 is active.").arg(QStringLiteral("v%1").arg(version)), false);
        refresh();
    }));
}

void ModelPage::rollBack()
{
    const int target = rollbackTarget();
    const int active = m_versions->activeVersion();
    if (!m_client || target <= 0 || m_switchRunning)
        return;
    if (!confirm(tr("Roll back"), tr("Roll back from %1 to %2?\n\nLabel Studio gets its predictions from %2 from now on.")
                                      .arg(versionWithAccuracy(active), versionWithAccuracy(target))))
        return;
    m_switchRunning = true;
    updateVersionActions();
    m_client->rollback(m_projectId, whenCurrent([this](const client::LoopResult &result) {
        m_switchRunning = false;
        if (!result.ok)
            showMessage(result.error, true);
        else
            showMessage(tr("Rolled back: %1 is active.").arg(result.body.value(QStringLiteral("active")).toString()), false);
        refresh();
    }));
}

Status ModelPage::exportCsv(const QString &path) const
{
    if (!m_client || m_projectId.isEmpty())
        return Status::failure(tr("No project selected."));
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return Status::failure(tr("Cannot write %1: %2").arg(path, file.errorString()));
    file.write(VersionsModel::toCsv(m_client->versions(m_projectId)));
    if (!file.commit())
        return Status::failure(tr("Cannot write %1: %2").arg(path, file.errorString()));
    return {};
}

void ModelPage::exportCsvInteractive()
{
    const QString suggested = QStringLiteral("loopdeck-project-%1-versions.csv").arg(QString(m_projectId).replace(QLatin1Char('.'), QLatin1Char('-')));
    const QString path = QFileDialog::getSaveFileName(this, tr("Export metrics history"), suggested, tr("CSV files (*.csv)"));
    if (path.isEmpty())
        return;
    if (const Status s = exportCsv(path); !s)
        showMessage(s.error(), true);
    else
        showMessage(tr("Saved %1 versions to %2.").arg(m_versions->rowCount()).arg(path), false);
}

void ModelPage::saveSchedule()
{
    // Only what the user edited on a loop that answers: not the defaults an editor shows while a
    // remote loop's status has not come yet, nor an editing-finished fired by a switch of loops.
    if (!m_client || m_projectId.isEmpty() || !m_schedule->isEnabled() || !m_client->isUp() || !m_client->status(m_projectId))
        return;
    ++m_savesRunning;
    m_client->setSettings(m_projectId, m_schedule->settings(), whenCurrent([this](const client::LoopResult &result) {
        --m_savesRunning;
        if (!result.ok)
            m_schedule->setMessage(tr("Not saved: %1").arg(result.error), true);
        else
            m_schedule->setMessage(
                tr("Saved at %1; in force now.").arg(QLocale().toString(QTime::currentTime(), QStringLiteral("HH:mm:ss"))), false);
    }));
}

QString ModelPage::stateText() const
{
    return m_stateLabel->text();
}

QString ModelPage::trainReason() const
{
    return m_reasonLabel->text();
}

QString ModelPage::messageText() const
{
    return m_messageLabel->text();
}

QString ModelPage::logText() const
{
    return m_log->toPlainText();
}

} // namespace loopdeck::gui
