#pragma once
// The "Model" tab: the operator's view of the loop for the project selected on the dashboard.
// Training state (idle / queued / training with progress and elapsed time) with Train now
// (disabled while a run is queued or in progress, saying why) and Cancel; the versions table
// (VersionsModel) with Activate / Roll back (after a confirmation naming both versions and their
// accuracy) and CSV export; the accuracy-per-version chart (AccuracyChart); the selected
// version's confusion matrix and per-class metrics (ConfusionModel, ClassMetricsModel); the
// schedule editor (ScheduleEditor, saved in the loop store at once); the last runs' log lines.
// Views and steers a loop only through a client::LoopClient (the window's own, or the demo's
// while it runs, see setClient) and refreshes on its signals. Actions answer later: the button
// that started one stays disabled until its answer, which says what happened or why not.
// GUI thread only.
#include "core/client/loopclient.h"
#include "core/result.h"

#include <QPointer>
#include <QWidget>

#include <functional>
#include <optional>

class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSortFilterProxyModel;
class QTabWidget;
class QTableView;
class QTimer;

namespace loopdeck::gui {

class AccuracyChart;
class ClassMetricsModel;
class ConfusionModel;
class ScheduleEditor;
class VersionsModel;

class ModelPage final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ModelPage)

public:
    // Asked before Activate / Roll back; true = go ahead. The default shows a QMessageBox.
    using Confirm = std::function<bool(const QString &title, const QString &text)>;

    // `client` is not owned (null: no loop to show).
    explicit ModelPage(client::LoopClient *client, QWidget *parent = nullptr);
    ~ModelPage() override;

    // The loop to view (the window's own, or the demo's while the demo runs); null: none.
    void setClient(client::LoopClient *client);
    client::LoopClient *client() const { return m_client; }
    // The project to show (0: none). The title is only for the heading.
    void setProject(const QString &projectKey, const QString &title); // key: core/backend/projectkey.h
    QString projectKey() const { return m_projectId; }
    void setConfirm(Confirm confirm) { m_confirm = std::move(confirm); }

    // Selects a version in the table (and shows its evaluation); false if not listed.
    bool selectVersion(int version);
    int selectedVersion() const; // 0 when none
    // Writes the metrics history (VersionsModel::toCsv) to `path`.
    Status exportCsv(const QString &path) const;

    // For tests and screenshots.
    VersionsModel *versionsModel() const { return m_versions; }
    ConfusionModel *confusionModel() const { return m_confusion; }
    ClassMetricsModel *classMetricsModel() const { return m_classes; }
    AccuracyChart *chart() const { return m_chart; }
    ScheduleEditor *scheduleEditor() const { return m_schedule; }
    QTableView *versionsTable() const { return m_table; }
    QTableView *confusionTable() const { return m_confusionTable; }
    QTabWidget *detailTabs() const { return m_tabs; }
    QPushButton *trainButton() const { return m_trainButton; }
    QPushButton *cancelButton() const { return m_cancelButton; }
    QPushButton *activateButton() const { return m_activateButton; }
    QPushButton *rollbackButton() const { return m_rollbackButton; }
    QString state() const { return m_state; }  // "idle", "queued", "training", "off" or "" (not in the loop)
    QString stateText() const;
    QString trainReason() const;              // why Train now is disabled ("" when enabled)
    QString messageText() const;              // the last action's result or error
    QString logText() const;

public Q_SLOTS:
    void trainNow();
    void cancelRun();
    void activateSelected();
    void rollBack();
    void exportCsvInteractive();
    void refresh();

Q_SIGNALS:
    // After every status refresh: the state shown and whether Train now is enabled.
    void statusShown(const QString &state, bool trainEnabled, const QString &reason);
    void versionsShown(int count);

private:
    QWidget *buildTrainingBox();
    QWidget *buildVersionsBox();
    QWidget *buildEvaluationTab();
    void connectClient();
    // The `done` of an action: runs `then` only while the page shows the client and project the
    // action was for (a late answer about another one is dropped).
    client::LoopClient::Done whenCurrent(std::function<void(const client::LoopResult &)> then);
    void refreshStatus();
    void refreshVersions();
    void showSelectedEvaluation();
    void updateVersionActions();
    void saveSchedule();
    void showMessage(const QString &text, bool error);
    bool confirm(const QString &title, const QString &text);
    int rollbackTarget() const;
    QString versionWithAccuracy(int version) const;

    QPointer<client::LoopClient> m_client;
    QString m_projectId; // the project key ("3.1700000000"), empty = none
    QString m_title;
    QString m_state;
    std::optional<client::LoopStatus> m_status; // nullopt: not in the loop
    Confirm m_confirm;
    quint64 m_shown = 0;                  // bumped when the client or project changes
    bool m_trainRequested = false;        // from Train now until the run shows (or the answer says no)
    bool m_cancelRequested = false;       // the loop accepted Cancel; the run has not ended yet
    bool m_cancelRunning = false;         // Cancel asked, no answer yet
    bool m_switchRunning = false;         // Activate or Roll back asked, no answer yet
    int m_savesRunning = 0;               // schedule saves without an answer
    bool m_userSelected = false;          // the operator chose the selected version
    bool m_selectingAutomatically = false;

    QLabel *m_heading = nullptr;
    QLabel *m_stateDot = nullptr;
    QLabel *m_stateLabel = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_countsLabel = nullptr;
    QLabel *m_reasonLabel = nullptr;
    QLabel *m_messageLabel = nullptr;
    QPushButton *m_trainButton = nullptr;
    QPushButton *m_cancelButton = nullptr;

    VersionsModel *m_versions = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTableView *m_table = nullptr;
    QPushButton *m_activateButton = nullptr;
    QPushButton *m_rollbackButton = nullptr;
    QPushButton *m_exportButton = nullptr;
    AccuracyChart *m_chart = nullptr;

    QTabWidget *m_tabs = nullptr;
    ConfusionModel *m_confusion = nullptr;
    ClassMetricsModel *m_classes = nullptr;
    QTableView *m_confusionTable = nullptr;
    QTableView *m_classTable = nullptr;
    QLabel *m_evaluationLabel = nullptr;
    ScheduleEditor *m_schedule = nullptr;
    QPlainTextEdit *m_log = nullptr;
    QLabel *m_errorLabel = nullptr;

    QTimer *m_coalesce = nullptr; // client signals -> one refresh
    QTimer *m_tick = nullptr;     // elapsed time while a run is in progress
};

} // namespace loopdeck::gui
