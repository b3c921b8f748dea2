#pragma once
// The loop: one object that owns, for one data folder, the embedded ML backend server, the
// prediction service and model registry, the loop store, a scheduler per project and the
// trainer, and (when connected) a Label Studio client for reconcile and prediction refresh.
// `loopdeck serve` and the window are thin views of it: they start and stop it, show its
// signals and call its operator actions; behaviour is the same headless and in the window.
//
// What it does by itself, for every project that registers the backend (/setup) or sends it a
// webhook: keeps annotations in the store (webhooks are written before /webhook answers),
// reconciles with Label Studio (full sync when a project is first seen and on start/reconnect,
// incremental every 10 minutes), retrains on the project's triggers (scheduler.h), keeps every
// version with its metrics, activates a new version unless it is worse than the active one by
// more than the margin, keeps the last N versions, and refreshes Label Studio's predictions for
// unlabeled tasks with the new version's scores.
//
// Threads: lives in the thread that creates it (GUI or serve's main thread); its signals are
// emitted there. The LoopControl methods (operator routes) and the webhook sink run on HTTP
// threads and are thread-safe; training, sync parsing and prediction run on worker threads.
#include "core/backend/backendtypes.h"
#include "core/backend/loopcontrol.h"
#include "core/loop/loopsettings.h"
#include "core/loop/scheduler.h"
#include "core/result.h"

#include <QDateTime>
#include <QHash>
#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QThreadPool>
#include <QUrl>

#include <functional>
#include <memory>
#include <mutex>

QT_BEGIN_NAMESPACE
class QTimer;
QT_END_NAMESPACE

namespace loopdeck::backend {
class BackendServer;
class ModelRegistry;
class PredictionService;
} // namespace loopdeck::backend
namespace loopdeck::labelstudio {
class LabelStudioClient;
}
namespace loopdeck::store {
class LoopStore;
struct TargetSpec;
} // namespace loopdeck::store

namespace loopdeck::loop {

struct TrainingControl;
struct TrainingOutput;

class LoopEngine final : public QObject, public backend::LoopControl
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LoopEngine)
public:
    using Clock = std::function<QDateTime()>;

    explicit LoopEngine(QObject *parent = nullptr);
    ~LoopEngine() override;

    // Opens the store and the model registry of dataDir and loads the active versions.
    // `defaults` apply to every project without its own settings. Call once, before start().
    Status open(const QString &dataDir, const LoopSettings &defaults);
    QString dataDir() const { return m_dataDir; }
    void setClock(Clock clock);                // tests: an injected clock for the schedulers
    void setSyncIntervalMinutes(int minutes);  // default 10; 0 = only on start/reconnect

    // Label Studio to reconcile with and to import predictions into (empty url = none).
    // A new server (or token) starts a full sync of every known project.
    void setLabelStudio(const QUrl &url, const QString &token);
    bool hasLabelStudio() const;

    // The embedded backend (created by open()).
    backend::BackendServer *server() const { return m_server; }
    std::shared_ptr<backend::PredictionService> predictionService() const { return m_service; }
    store::LoopStore *store() const { return m_store.get(); }
    bool startServer(const backend::ServerConfig &config, QString *error);
    void stopServer();

    // ---- projects -------------------------------------------------------------------------
    QList<qint64> projects() const;
    // Adds a project to the loop (what /setup and a webhook do by themselves).
    void addProject(qint64 projectId);
    LoopSettings settings(qint64 projectId) const;
    LoopSettings defaults() const { return m_defaults; }
    // Saves the project's settings in the store; takes effect at once.
    Status setSettings(qint64 projectId, const LoopSettings &settings);

    // ---- operator actions (any thread) ----------------------------------------------------
    backend::LoopReply status(const QString &projectId) const override;
    backend::LoopReply train(const QString &projectId) override;
    backend::LoopReply activate(const QString &projectId, int version) override;
    backend::LoopReply rollback(const QString &projectId) override;
    QJsonArray versionDetails(const QString &projectId) const override;
    backend::LoopReply cancel(const QString &projectId) override;
    backend::LoopReply configure(const QString &projectId, const QJsonObject &changes) override;
    // Cancels the run in progress (the active version keeps serving). False when none runs.
    bool cancel(qint64 projectId);
    // Starts a sync now (full or incremental) for one project or, with 0, every project.
    void reconcileNow(qint64 projectId = 0, bool full = true);

    // The webhook sink the server calls before it answers (HTTP thread): "" when stored.
    QString ingestWebhook(const backend::WebhookEvent &event);

Q_SIGNALS:
    void projectAdded(qint64 projectId);
    void statusChanged(qint64 projectId);     // state, progress, counts or settings changed
    void versionsChanged(qint64 projectId);   // a version was added, activated, rolled back or deleted
    void trainingStarted(qint64 projectId, const QString &trigger);
    // A run produced `version`; `activated` says whether it serves now. Accuracies are -1 when unknown.
    void trainingFinished(qint64 projectId, int version, bool activated, double previousAccuracy, double accuracy);
    void trainingFailed(qint64 projectId, const QString &error);
    void reconciled(qint64 projectId, int recoveredAnnotations);
    void predictionsRefreshed(qint64 projectId, int version, int created, int sent);
    // One greppable line per event ("loop project=3 event=trained version=4 accuracy=0.912 ...").
    void logLine(const QString &line);

private:
    struct Project;
    struct RefreshJob;

    Project &projectLocked(qint64 projectId) const;
    void ensureProject(qint64 projectId);
    void pollAll();
    void pollProject(qint64 projectId);
    void startRun(qint64 projectId, Trigger trigger);
    void finishRun(qint64 projectId, Trigger trigger, const QDateTime &started, qint64 changeSeq,
                   const Result<TrainingOutput> &result, const QString &targetName, int droppedLabels);
    void pruneVersions(qint64 projectId, int keep);
    void refreshPredictions(qint64 projectId, int version);
    void sendRefreshBatch(std::shared_ptr<RefreshJob> job);
    void syncProject(qint64 projectId, bool full);
    void syncPage(qint64 projectId, bool full, int page, QString watermark, std::shared_ptr<QSet<qint64>> seen,
                  int recovered, QDateTime started);
    void afterActivation(qint64 projectId, int version, const QString &how);
    // Looks for the project webhook to this backend; when it is missing twice 5 s apart, makes it.
    void checkWebhook(qint64 projectId, bool createWhenMissing = false);
    void saveSchedule(qint64 projectId);
    void log(qint64 projectId, const QString &event, const QString &details = {});
    std::optional<store::TargetSpec> targetOf(qint64 projectId, QString *why) const;
    double accuracyOf(qint64 projectId, int version) const;
    int activeVersion(qint64 projectId) const;
    static std::optional<qint64> parseProjectId(const QString &projectId);
    // For the operator actions: the id, or the reply that says why not (bad id, not served).
    static std::optional<qint64> projectIdOrFailure(const QString &projectId, backend::LoopReply *failure);
    static backend::LoopReply unknownProject(qint64 projectId);
    std::optional<qint64> servedProject(const QString &projectId, backend::LoopReply *failure) const;

    QString m_dataDir;
    LoopSettings m_defaults;
    Clock m_clock;
    int m_syncMinutes = 10;
    std::unique_ptr<store::LoopStore> m_store;
    std::shared_ptr<backend::ModelRegistry> m_registry;
    std::shared_ptr<backend::PredictionService> m_service;
    backend::BackendServer *m_server = nullptr;
    QPointer<labelstudio::LabelStudioClient> m_client;
    QTimer *m_pollTimer = nullptr;
    QTimer *m_syncTimer = nullptr;

    // Training runs, sync and refresh jobs: a pool of their own, so the classifier's own use of
    // the global pool never waits behind them.
    QThreadPool m_workers;
    mutable std::mutex m_mutex; // guards m_projects
    mutable QHash<qint64, std::shared_ptr<Project>> m_projects;
};

} // namespace loopdeck::loop
