#pragma once
// The loop's local copy of each Label Studio project it serves, in the same SQLite file as the
// progress snapshots (schema.h): tasks and annotations (fed by webhooks, repaired by reconcile),
// a change counter for "N new or changed annotations since the last training", the project's
// loop settings and schedule state, every model version with its metrics and trigger, the
// training runs, and what each version predicted (for live acceptance).
//
// Where it lives: a SQLite file in the data folder (the default), or a PostgreSQL database
// (`serve --store postgresql://...`, Qt's QPSQL driver) shared by replicas, with the same schema
// (schema.h). A shared store also keeps the model files (model_file, checksummed), which
// version serves (model_active, announced with NOTIFY loopdeck_active) and the training run in
// progress per project (loop_claim, guarded by a per-project advisory lock).
//
// Threads: every method may be called from any thread; each thread gets its own connection to
// the store (SQLite: WAL mode), and write transactions are serialised by one mutex, so a webhook
// on an HTTP thread and the trainer on a worker never trip over each other. On PostgreSQL a
// write transaction also takes a transaction-level advisory lock first, so the writes of all
// replicas are serialised the same way (a change counter is read and bumped in one transaction).
//
// Connection lifetime (threads come and go: HTTP threads on every server start, pool threads
// that expire when idle), so the number of open connections and file descriptors stays bounded
// by the number of live threads that used the store:
//  - A thread's connection is opened on its first call and registered with a thread_local
//    holder; when the thread ends, the holder's destructor removes it (QSqlDatabase::
//    removeDatabase), in that thread, after every QSqlDatabase/QSqlQuery handle of it is gone
//    (they only live inside LoopStore methods). For a QThread this runs just after run()
//    returns and finished() is emitted, possibly a moment after wait() returned.
//  - close() and the destructor remove the connections of all threads, also of threads that are
//    still alive. That is safe only while no other thread is inside a LoopStore method: the
//    owner stops the HTTP server and waits for its workers first (as LoopEngine does). A thread
//    that calls the store again after close()/open() gets a fresh connection.
//  - Whichever comes first (thread end or close) removes a connection; the other finds it gone.
//    The list of open connections is shared with the holders (a weak reference), so a thread
//    that ends after the LoopStore was destroyed has nothing to do.
// Called by the loop engine, its reconciler and trainer, and by BackendApi's webhook sink.
#include "core/result.h"
#include "core/store/changeset.h"

#include <QByteArray>
#include <QDateTime>
#include <QHash>
#include <QList>
#include <QSet>
#include <QString>
#include <QStringList>
#include <QVariantList>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

class QSqlDatabase;

namespace loopdeck::model {
struct Example;
}

namespace loopdeck::store {

// Which labels of an annotation count, and where a task keeps its text.
struct TargetSpec {
    QString fromName;     // the Choices control, e.g. "sentiment"
    QString dataKey;      // the task data key of its Text, e.g. "text"
    QStringList choices;  // allowed labels (empty = any)
    bool multiple = false;
};

// The training examples of one target, by the documented rule (README, "Training data"):
// cancelled (skipped) annotations are not examples; of a task's other annotations the ground
// truth one wins, else the most recent; labels not in the label config are dropped.
struct TrainingData {
    QList<model::Example> examples;
    QList<qint64> exampleSeqs;    // per example: the change_seq of the annotation it came from
    QList<qint64> exampleTasks;   // per example: its Label Studio task id
    int tasksWithAnnotations = 0; // tasks with at least one annotation that is not cancelled
    int cancelled = 0;            // cancelled annotations
    int droppedLabels = 0;        // labels not in the current label config, removed
    int droppedExamples = 0;      // tasks left with no allowed label for the target
    int withoutText = 0;          // tasks whose data has no text under dataKey
    qint64 changeSeq = 0;         // the change counter when the data was read
};

struct UnlabeledTask {
    qint64 taskId = 0;
    QString text;
};

struct LoopProjectRow {
    QString projectId;        // the project key ("3.1700000000", projectkey.h)
    qint64 changeSeq = 0;
    qint64 trainedSeq = 0;
    qint64 deletedSince = 0;
    QByteArray settings;      // JSON object
    QByteArray schedule;      // JSON object
    QDateTime lastFullSync;   // invalid = never
    QDateTime lastSync;
    QString syncWatermark;
    QString lastError;
    QString labelConfig;      // the newest label config XML Label Studio sent ("" = none yet)
};

struct VersionRecord {
    int version = 0;
    QDateTime created;
    QString trigger;          // threshold / interval / daily / start_training / manual
    int examples = 0;
    QByteArray metrics;       // JSON object
};

struct RunRecord {
    int runNo = 0;
    QString trigger;
    QDateTime started;
    QDateTime finished;
    QString outcome;          // trained / kept / failed / cancelled
    int version = 0;
    QString message;
};

struct Acceptance {
    int accepted = 0;
    int total = 0;
    double rate() const { return total > 0 ? double(accepted) / total : 0.0; }
};

// What the store knows of a task, to compare with Label Studio's task_only listing.
struct TaskSignature {
    bool known = false;
    qint64 updatedAtMs = 0;
    qint64 annotations = 0;   // annotations not cancelled (Label Studio's total_annotations leaves skips out)
    qint64 cancelled = 0;
};

struct StoreCounts {
    qint64 tasks = 0;
    qint64 annotations = 0;   // not cancelled
    qint64 cancelled = 0;
};

// Reads the served target's labels from an annotation's result JSON (sorted); the engine
// supplies it from the project's label config.
using LabelReader = std::function<QStringList(const std::string &resultJson)>;

// A model version kept in a shared store.
struct StoredModel {
    int version = 0;
    QDateTime created;
    QString target;
    QByteArray metrics;      // JSON object
    int examples = 0;
    QString sha256;          // hex
    qint64 size = 0;
};

// A training run in progress (loop_claim).
struct RunClaim {
    QString projectId;
    QString replica;
    QString trigger;
    QDateTime started;
};

struct LoopStoreConnections; // loopstore.cpp

class LoopStore final
{
public:
    LoopStore();
    ~LoopStore();
    LoopStore(const LoopStore &) = delete;
    LoopStore &operator=(const LoopStore &) = delete;

    // Opens (creates, migrates) <dataDir>/loopdeck.sqlite3, or, with a `postgresql://` URL, that
    // database (dataDir is then not used).
    Status open(const QString &dataDir, const QString &postgresUrl = {});
    void close();
    bool isOpen() const;
    // The file, or the database URL without its password.
    QString path() const { return m_path; }
    bool isShared() const { return m_postgres; }
    // Whether `location` is a PostgreSQL URL (postgresql:// or postgres://).
    static bool isPostgresUrl(const QString &location);
    // The URL as it may be shown: without its password.
    static QString displayUrl(const QString &postgresUrl);

    // Project keys ("3.1700000000", or a bare "3" from a store written before keys).
    Result<QStringList> projects() const;
    // Gives a project that was stored under a bare id ("3", before project keys) its full key
    // ("3.1700000000"): every row moves over in one transaction. Does nothing when `from` is
    // unknown or `to` already exists. Returns whether it moved.
    Result<bool> renameProject(const QString &from, const QString &to);
    // Creates the project's row when missing; true when it was created (first seen).
    Result<bool> ensureProject(const QString &projectId);
    Result<LoopProjectRow> project(const QString &projectId) const;

    // Applies changes in one transaction. Returns how many annotations really changed
    // (inserted, changed, deleted); applying the same changes again returns 0. An older
    // copy of an annotation (updated_at before the stored one) changes nothing.
    Result<int> apply(const QString &projectId, const ChangeSet &changes, const LabelReader &reader = {});
    // Reconcile: deletes the tasks (and their annotations) that Label Studio no longer lists,
    // among those LoopDeck heard of before the listing started (listedSinceMs, local clock).
    Result<int> removeMissing(const QString &projectId, const QSet<qint64> &liveTaskIds, qint64 listedSinceMs);

    // Annotations new, changed or deleted since the last successful training.
    Result<qint64> pendingChanges(const QString &projectId) const;
    // After a training that read the data at `changeSeq`: those changes are no longer pending.
    Status markTrained(const QString &projectId, qint64 changeSeq);

    Result<TrainingData> trainingData(const QString &projectId, const TargetSpec &target) const;
    Result<QList<UnlabeledTask>> unlabeledTasks(const QString &projectId, const QString &dataKey) const;
    // Every task's text (labelled or not), for document frequencies.
    Result<QStringList> allTexts(const QString &projectId, const QString &dataKey) const;
    Result<StoreCounts> counts(const QString &projectId) const;
    Result<QHash<qint64, TaskSignature>> taskSignatures(const QString &projectId) const;

    Status setSettings(const QString &projectId, const QByteArray &json);
    // Every project's settings JSON in one read (replicas pick up each other's changes).
    Result<QHash<QString, QByteArray>> allSettings() const;
    Status setSchedule(const QString &projectId, const QByteArray &json);
    Status setSyncState(const QString &projectId, const QDateTime &when, bool full, const QString &watermark);
    Status setLastError(const QString &projectId, const QString &error);
    Status setLabelConfig(const QString &projectId, const QString &xml);

    Status recordVersion(const QString &projectId, const VersionRecord &version);
    Result<QList<VersionRecord>> versions(const QString &projectId) const;
    Status forgetVersion(const QString &projectId, int version);
    // Assigns the run number; returns it.
    Result<int> recordRun(const QString &projectId, const RunRecord &run);
    Result<QList<RunRecord>> runs(const QString &projectId, int limit) const;

    // What `version` predicted for tasks (labels sorted), for live acceptance.
    Status recordServed(const QString &projectId, int version, const QList<QPair<qint64, QStringList>> &predictions);
    Result<QHash<int, Acceptance>> acceptance(const QString &projectId) const;

    // ---- shared store (PostgreSQL; on SQLite these fail or do nothing, as noted) ----------
    // Stores a model file as the project's next version (one past the highest); returns it.
    Result<int> addModel(const QString &projectId, const StoredModel &meta, const QByteArray &body);
    Result<QList<StoredModel>> models(const QString &projectId) const;   // oldest first, without bodies
    // The file and its recorded SHA-256 (hex); fails when the version is unknown.
    Result<QPair<QByteArray, QString>> modelBody(const QString &projectId, int version) const;
    Result<QString> modelChecksum(const QString &projectId, int version) const;
    Result<QStringList> modelProjects() const;
    Result<QHash<QString, int>> activeModels(const QString &projectId) const; // target -> version
    // Every project's active versions in one read (replicas compare what they serve).
    Result<QHash<QString, QHash<QString, int>>> allActiveModels() const;
    // Makes `version` (which must exist) serve its target, and announces it (NOTIFY).
    Status setActiveModel(const QString &projectId, int version);
    // Deletes a version that is not active.
    Status removeModel(const QString &projectId, int version);

    // Takes the project's training lock (a session advisory lock of this thread's connection)
    // and records the run; false when another replica holds it. SQLite: always true.
    // Call claimRun/releaseRun on one thread (the loop engine's).
    Result<bool> claimRun(const QString &projectId, const QString &replica, const QString &trigger);
    // Ends this replica's claim: its record (only its own), then the lock. A failure keeps both
    // (call again); a claim this store no longer holds is left alone.
    Status releaseRun(const QString &projectId);
    // Whether this replica still holds the project's claim: the lock in this session and its own
    // record. False after the session was renewed (another replica may have taken the run over).
    Result<bool> stillClaimed(const QString &projectId);
    bool holdsClaim(const QString &projectId) const;
    // On the claiming thread, now and then: when its session was renewed (the connection broke),
    // listens again and returns (once) the projects whose claims were lost with the old session;
    // their records stay until releaseRun deletes them by owner.
    QSet<QString> renewSession(QObject *context);
    // Runs recorded in loop_claim whose replica no longer holds the lock (it died): this
    // thread now holds their locks and must run or release them. `skip`: projects this replica
    // runs itself. SQLite: none.
    Result<QList<RunClaim>> orphanedRuns(const QSet<QString> &skip);
    Result<QList<RunClaim>> claims() const;
    // Whether this replica does the automatic reconciles of a shared store: one replica at a time
    // (a session advisory lock of this thread's connection, kept while it lives; another replica
    // takes it when this one is gone). SQLite: always true.
    bool leadsSync();
    // Calls `onChange(projectId)` (on `context`'s thread, which must be this thread) when any
    // replica activates a version. False + *error when the store cannot listen (SQLite).
    bool listenForActivations(QObject *context, std::function<void(const QString &)> onChange, QString *error);

private:
    QSqlDatabase connection() const;
    Status write(const std::function<Status(QSqlDatabase &)> &work);
    Status writeOne(const QString &sql, const QVariantList &values, const QString &what);

    QString m_path;
    QString m_url;             // PostgreSQL: the URL to connect to
    bool m_postgres = false;
    QString m_baseName;
    // Names of this store's open connections, shared with the threads' holders.
    std::shared_ptr<LoopStoreConnections> m_connections;
    std::mutex m_writeMutex;
    bool m_open = false;
    // A broken connection was replaced on the claiming thread: its claims and LISTEN are gone.
    void sessionLost() const;

    // Claims, on the thread that claims and listens (the engine's), guarded by m_claimMutex.
    // Never held across a write() (writers may reach sessionLost() holding the write mutex);
    // recursive for the few nested reads.
    mutable std::recursive_mutex m_claimMutex;
    mutable QHash<QString, QString> m_claimed;    // project -> owner token of its record ("" while taken over)
    mutable QHash<QString, QString> m_lostClaims; // claims lost with a renewed session: project -> owner
    mutable QSet<QString> m_lostToReport;         // of those, not yet returned by renewSession()
    mutable bool m_relisten = false;
    bool m_listening = false;
    std::function<void(const QString &)> m_onActivation;
    std::atomic<std::thread::id> m_sessionThread{}; // the thread that claims and listens
};

} // namespace loopdeck::store
