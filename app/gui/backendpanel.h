#pragma once
// The "ML backend" tab: starts and stops the embedded Label Studio ML backend with one click,
// shows its URL (with a copy button), live request count, errors, latency and a bounded log
// of recent requests, and connects it to the project selected on the dashboard — registering
// it in Label Studio (reusing an existing registration for the same URL), showing Label
// Studio's own view of it (state and error) and asking Label Studio to fetch predictions.
// Next to the requests, the loop's webhooks from Label Studio as they arrive (time, action,
// project, task).
// Created by MainWindow; the GUI tests drive it through the public methods.
#include "core/backend/backendserver.h"
#include "core/loop/loopengine.h"
#include "labelstudio/lstypes.h"

#include <QDateTime>
#include <QPointer>
#include <QWidget>

#include <memory>
#include <optional>

class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTimer;
class QTreeWidget;


namespace loopdeck::gui {

class AppSettings;
class DashboardSession;

class BackendPanel final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BackendPanel)

public:
    static constexpr int kMaxLogRows = 200;

    // The panel views and configures the engine's server; the engine owns it (and outlives
    // the panel or not: every use goes through a guarded pointer).
    BackendPanel(DashboardSession *session, AppSettings *settings, loop::LoopEngine *engine, QWidget *parent = nullptr);
    ~BackendPanel() override;

    // The project selected on the dashboard (null: none). Copied; safe to pass a model's row.
    void setProject(const labelstudio::Project *project);
    // Stops the server (window closing).
    void shutdown();

    bool startServer();
    void stopServer();
    bool isRunning() const;
    backend::BackendServer *server() const { return m_server.data(); }
    // The address Label Studio should use, e.g. "http://127.0.0.1:9090" (empty when stopped).
    QString url() const;

    // For tests and screenshots.
    QString stateText() const;
    QString errorText() const;
    QString labelStudioStateText() const;
    std::optional<labelstudio::MlBackend> registration() const { return m_registration; }
    QString predictionsText() const;
    int logRowCount() const;
    int webhookRowCount() const;
    // The newest webhook row as "ACTION project task" (empty when none); tests.
    QString lastWebhookText() const;
    // Every listed webhook as "ACTION PROJECT TASK", newest first.
    QStringList webhookTexts() const;
    qint64 requestCount() const;

public Q_SLOTS:
    void connectToProject();
    void checkRegistration();
    void fetchPredictions();

Q_SIGNALS:
    void serverStateChanged(bool running);
    // After "Connect to this project" or "Check again" got Label Studio's answer.
    void registrationUpdated(bool ok);
    void predictionsRequested(bool ok);

private:
    QWidget *buildServerBox();
    QWidget *buildLabelStudioBox();
    QWidget *buildTrafficBox();
    QWidget *buildLogBox();
    void updateServerState();
    void updateProjectActions();
    void updateMetrics();
    void flushLog();
    void showRegistration(const std::optional<labelstudio::MlBackend> &backend, const QString &error);
    void showError(const QString &message);
    void onRequestServed(const backend::RequestRecord &record);
    void onWebhook(const backend::WebhookEvent &event);

    QPointer<DashboardSession> m_session; // owned by the main window; may go first at teardown
    AppSettings *m_settings;
    QPointer<backend::BackendServer> m_server;
    QPointer<loop::LoopEngine> m_engine;
    std::optional<labelstudio::Project> m_project;
    std::optional<labelstudio::MlBackend> m_registration;
    QList<backend::RequestRecord> m_pendingLog;
    int m_droppedLog = 0;
    quint64 m_projectGeneration = 0;

    QLineEdit *m_hostEdit = nullptr;
    QSpinBox *m_portSpin = nullptr;
    QPushButton *m_startButton = nullptr;
    QLabel *m_stateDot = nullptr;
    QLabel *m_stateLabel = nullptr;
    QLineEdit *m_urlEdit = nullptr;
    QPushButton *m_copyButton = nullptr;
    QPushButton *m_copyTokenButton = nullptr;
    QLabel *m_errorLabel = nullptr;
    QPushButton *m_usePortButton = nullptr;

    QLabel *m_projectLabel = nullptr;
    QPushButton *m_connectButton = nullptr;
    QPushButton *m_checkButton = nullptr;
    QPushButton *m_fetchButton = nullptr;
    QLabel *m_lsStateLabel = nullptr;
    QLabel *m_lsDetailLabel = nullptr;
    QLabel *m_setupLabel = nullptr;
    QLabel *m_predictionsLabel = nullptr;

    QLabel *m_requestsValue = nullptr;
    QLabel *m_errorsValue = nullptr;
    QLabel *m_predictionsValue = nullptr;
    QLabel *m_p50Value = nullptr;
    QLabel *m_p99Value = nullptr;
    QLabel *m_uptimeValue = nullptr;

    QTreeWidget *m_log = nullptr;
    QTreeWidget *m_webhooks = nullptr;
    QTimer *m_tick = nullptr;
};

// "Connected", "Disconnected", "Error", ... for Label Studio's ML backend state codes.
QString mlBackendStateText(const QString &code);

} // namespace loopdeck::gui
