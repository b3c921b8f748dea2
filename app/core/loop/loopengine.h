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
#include "core/backend/modelregistry.h"
#include "core/backend/loopcontrol.h"
#include "core/loop/loopsettings.h"
#include "core/loop/policy.h"
#include "core/loop/predictionrefresher.h"
#include "core/loop/reconciler.h"
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
class LoopEvents;
class ModelRegistry;
class PredictionService;
} // namespace loopdeck::backend
namespace loopdeck::labelstudio {
class LabelStudioClient;
}
#include "core/store/loopstore.h"

namespace loopdeck::loop {

struct TrainingControl;
struct TrainingOutput;

// The new version against the active one on the labelled tasks the active one was not trained on
// (its recorded trained_tasks; worked out by the training worker; policy.h decides on it).
struct SharedComparison {
    int activeVersion = 0;                      // the version scored (0 = none was active)
    std::optional<policy::PairedCounts> counts; // nullopt = not compared (`why` says why)
    int newExamples = 0;                        // examples of tasks it did not learn; counts->total() of them
                                                // have an out-of-fold prediction of the new version
    QString why;
};
class WebhookProvisioner;

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
    // With `storeUrl` (postgresql://...) the store, the model files and the active versions are
    // in that database, shared with other replicas (see "Replicas" below); dataDir then keeps
    // only local copies of the model files.
    Status open(const QString &dataDir, const LoopSettings &defaults, const QString &storeUrl = {});
    // ---- replicas (a shared store) --------------------------------------------------------
    // Every replica serves /predict, /setup and /webhook. A run takes the project's training lock
    // in the store first (one run per project across replicas; an automatic trigger is decided
    // again under the lock, so it fires once); a run whose replica died is taken over by the
    // replica that next finds its lock free. An activation is announced by the store (NOTIFY),
    // and every replica loads the version (checksum checked) and swaps it in; a check every
    // 2 s catches what a lost notification missed. /ready says whether this replica serves
    // what the store says is active. Automatic reconciles run on one replica at a time (the one
    // holding the store's sync lock); the prediction refresh after a new version runs on the
    // replica that trained it. A version's metrics name the replica that trained it ("replica").
    bool isShared() const;
    // The name this replica records on the runs it claims (default host:pid).
    void setReplicaName(const QString &name);
    QString replicaName() const { return m_replica; }
    QString notReady() const override;
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
    // The loop's signals as events for GET /loop/events.
    std::shared_ptr<backend::LoopEvents> events() const { return m_events; }
    bool startServer(const backend::ServerConfig &config, QString *error);
    void stopServer();

    // ---- projects -------------------------------------------------------------------------
    // A project is Label Studio's key "<id>.<created_at>" (core/backend/projectkey.h), so two
    // servers' project 1 are two projects here. projects() lists the keys.
    QStringList projects() const;
    QStringList projectList() const override { return projects(); }
    // What a client named: a full key stays; a bare id ("3") becomes the one known key with
    // that id (nullopt + *why when several servers have a project 3; the bare id itself when
    // none is known yet).
    std::optional<QString> resolve(const QString &project, QString *why = nullptr) const;
    // The key of Label Studio project `lsProjectId` on the connected server ("" when that server
    // has no such project the loop knows).
    QString keyOnServer(qint64 lsProjectId) const;
    // The connected Label Studio's URL ("" when none).
    QUrl labelStudioUrl() const;
    // Adds a project to the loop (what /setup and a webhook do by themselves).
    void addProject(const QString &projectId);
    LoopSettings settings(const QString &projectId) const;
    LoopSettings defaults() const { return m_defaults; }
    // Saves the project's settings in the store; takes effect at once.
    Status setSettings(const QString &projectId, const LoopSettings &settings);

    // ---- operator actions (any thread) ----------------------------------------------------
    backend::LoopReply status(const QString &projectId) const override;
    backend::LoopReply train(const QString &projectId) override;
    backend::LoopReply activate(const QString &projectId, int version) override;
    backend::LoopReply rollback(const QString &projectId) override;
    QJsonArray versionDetails(const QString &projectId) const override;
    backend::LoopReply cancel(const QString &projectId) override;
    QString resolveProject(const QString &projectId) const override { return resolve(projectId).value_or(projectId); }
    backend::LoopReply configure(const QString &projectId, const QJsonObject &changes) override;
    // Cancels the run in progress (the active version keeps serving). False when none runs.
    bool cancelRun(const QString &projectId);
    // Starts a sync now (full or incremental) for one project or, with 0, every project.
    void reconcileNow(const QString &projectId = {}, bool full = true);

    // The webhook sink the server calls before it answers (HTTP thread).
    backend::WebhookOutcome ingestWebhook(const backend::WebhookEvent &event);

Q_SIGNALS:
    void projectAdded(const QString &projectId);
    void statusChanged(const QString &projectId);     // state, progress, counts or settings changed
    void versionsChanged(const QString &projectId);   // a version was added, activated, rolled back or deleted
    void trainingStarted(const QString &projectId, const QString &trigger);
    // A run produced `version`; `activated` says whether it serves now. Accuracies are -1 when unknown.
    void trainingFinished(const QString &projectId, int version, bool activated, double previousAccuracy, double accuracy);
    void trainingFailed(const QString &projectId, const QString &error);
    void reconciled(const QString &projectId, int recoveredAnnotations);
    void predictionsRefreshed(const QString &projectId, int version, int created, int sent);
    // One greppable line per event ("loop project=3 event=trained version=4 accuracy=0.912 ...").
    void logLine(const QString &line);

private:
    struct Project;

    Project &projectLocked(const QString &projectId) const;
    void ensureProject(const QString &projectId);
    void pollAll();
    void pollProject(const QString &projectId);
    enum class RunStart { Normal, TakeOver };
    void startRun(const QString &projectId, Trigger trigger, RunStart how = RunStart::Normal);
    // Shared store: takes the project's training lock; for an automatic trigger decides again
    // on the store's state. False when the run must not start here (an explicit one is queued).
    bool claimRun(const QString &projectId, Trigger trigger, RunStart how);
    void releaseRun(const QString &projectId);
    // Shared store, every 2 s: projects other replicas added, active versions to load, runs to
    // take over.
    void refreshShared();
    // Serves what the store says is active for `projectId` (all projects when empty).
    void syncActive(const QString &projectId = {});
    void finishRun(const QString &projectId, Trigger trigger, const QDateTime &started, qint64 changeSeq,
                   const Result<TrainingOutput> &result, const std::optional<backend::ModelVersionInfo> &saved,
                   const QString &saveError, const QJsonObject &savedMetrics, const SharedComparison &shared);
    void finishTooFew(const QString &projectId, Trigger trigger, const QDateTime &started, const QString &why);
    void pruneVersions(const QString &projectId, int keep);
    void refreshPredictions(const QString &projectId, int version);
    void afterActivation(const QString &projectId, int version, const QString &how);
    void onRefreshFinished(const QString &projectId, int version, const QString &state, int sent, int created,
                           const QString &error);
    // The reconciler's reports: a listing of the server's projects, a reconcile's outcome.
    void onServerListed(const QHash<qint64, QString> &found, const QHash<qint64, QString> &previous, bool initial);
    void onListingFailed(const QString &error);
    void onReconciled(const QString &projectId, const Reconciler::Outcome &outcome);
    // True when the project lives on the connected server (else it is another server's).
    bool onConnectedServer(const QString &projectId);
    store::LabelReader labelReader(const QString &projectId) const;
    // Looks for the project webhook to this backend; when it is missing twice 5 s apart, makes it.
    void checkWebhook(const QString &projectId);
    void onWebhookChecked(const QString &projectId, const QString &url, const QString &state, const QString &warning);
    bool isThisBackend(const QUrl &url, quint16 port) const;
    void saveSchedule(const QString &projectId);
    // Saves the project's settings in force now and hands them to its scheduler (engine thread).
    void persistSettings(const QString &projectId);
    void log(const QString &projectId, const QString &event, const QString &details = {});
    std::optional<store::TargetSpec> targetOf(const QString &projectId, QString *why) const;
    double accuracyOf(const QString &projectId, int version) const;
    int activeVersion(const QString &projectId) const;
    // For the operator actions: the key, or the reply that says why not (bad id, ambiguous
    // bare id, not served).
    std::optional<QString> projectIdOrFailure(const QString &projectId, backend::LoopReply *failure) const;
    static backend::LoopReply unknownProject(const QString &projectId);
    std::optional<QString> servedProject(const QString &projectId, backend::LoopReply *failure) const;
    // Gives a project stored under a bare id (a store from before project keys) its full key,
    // when `key` is a project of the connected server (or `unconnected`: no server to ask).
    void adoptLegacy(const QString &key, bool unconnected = false);
    // Where an event for `key` goes: the bare-id project of an older store while it waits for
    // adoption (which it schedules), else the key itself. Any thread.
    QString legacyTarget(const QString &key);
    // After a bare-id project's run or sync ended: adopt it now if it was postponed.
    void adoptWhenLegacy(const QString &projectId);
    // Label Studio's project id of a key (for its REST paths).
    static qint64 lsId(const QString &key);

    QString m_dataDir;
    QString m_replica;
    int m_sharedTicks = 0;
    QSet<QString> m_unreleased; // claims whose release failed, tried again (engine thread)
    mutable std::mutex m_readyMutex;
    QString m_notReady; // guarded by m_readyMutex: "" = ready
    LoopSettings m_defaults;
    Clock m_clock;
    int m_syncMinutes = 10;
    std::unique_ptr<store::LoopStore> m_store;
    std::shared_ptr<backend::ModelRegistry> m_registry;
    std::shared_ptr<backend::PredictionService> m_service;
    std::shared_ptr<backend::LoopEvents> m_events;
    backend::BackendServer *m_server = nullptr;
    QPointer<labelstudio::LabelStudioClient> m_client;
    PredictionRefresher *m_refresher = nullptr;
    WebhookProvisioner *m_provisioner = nullptr;
    // Reconcile, and the connected server's projects (Label Studio id -> key): reconcile and
    // refresh act only on keys of that server, so a project of another server is never
    // reconciled against (or fed predictions from) this one. Its generation, bumped by
    // setLabelStudio, tells work for an older server from work for this one.
    Reconciler *m_reconciler = nullptr;
    QTimer *m_pollTimer = nullptr;
    QTimer *m_syncTimer = nullptr;

    // Training runs, sync and refresh jobs: a pool of their own, so the classifier's own use of
    // the global pool never waits behind them.
    QThreadPool m_workers;
    mutable std::mutex m_mutex; // guards m_projects
    mutable QHash<QString, std::shared_ptr<Project>> m_projects;
};

} // namespace loopdeck::loop
