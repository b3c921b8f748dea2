#pragma once
// Reconciles the loop's store with Label Studio, so that an annotation whose webhook never
// arrived (LoopDeck was closed, Label Studio gave up after 1 s) still reaches the store, and a
// task deleted in Label Studio leaves it.
//
// Which projects: Label Studio numbers its projects from 1 on every server, so the reconciler
// first lists the connected server's projects (`/api/projects/`, id and created_at) to learn
// which project keys "<id>.<created_at>" live there. It reconciles only those: another server's
// project 1 is never reconciled against this one. A key no listing has checked yet starts a new
// listing (a project made since); a key the last listing did not find does not (no storm).
//
// One reconcile of one project:
//   - full: a keyset listing (`filter:tasks:id greater` the last id seen, ordered by id) that
//     ends on an empty page; tasks deleted or created meanwhile cannot shift a live task out of
//     it. Afterwards the tasks the store knows from before the listing and Label Studio no
//     longer lists are removed (LoopStore::removeMissing). When the store already holds the
//     project, the listing asks for ids and counts only (fields=task_only) and fetches the
//     tasks whose counts or time differ (a 404 there: deleted since); with more than
//     diffFetchLimit of them, one fields=all pass is cheaper.
//   - incremental: the tasks updated or completed after the stored watermark, by page number.
// A page Label Studio fails (5xx, time-out, unreachable) is asked for again a few times; a
// failed reconcile is tried again by itself, 30 s doubling to 10 minutes, while the same client
// is set. setClient() drops everything on its way for the previous one.
//
// It reports what it learnt and leaves the project's state to its owner (LoopEngine): the
// label config seen on the way (labelConfig), each listing (listed / listingFailed) and each
// reconcile's outcome (finished).
//
// Threads: lives in the loop engine's thread, where its signals are emitted and its methods are
// called; keyOnServer() and listedKey() may be called from any thread.
#include "core/store/loopstore.h"

#include <QDateTime>
#include <QHash>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace loopdeck::labelstudio {
class LabelStudioClient;
}

namespace loopdeck::loop {

class Reconciler final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Reconciler)
public:
    struct Options {
        int pageSize = 500;          // tasks per listing page
        int diffFetchLimit = 300;    // differing tasks fetched one by one; more are read in one fields=all pass
        int pageRetries = 5;         // of one page Label Studio failed, 500 ms doubling
        int pageRetryBaseMs = 500;
        int retryBaseMs = 30000;     // a failed reconcile is tried again after this, doubling ...
        int retryMaxMs = 600000;     // ... up to this
    };

    struct Outcome {
        bool full = false;
        bool diffOnly = false;       // still a task_only diff when it ended
        int recovered = 0;           // annotations changed in the store (and tasks removed)
        QDateTime started;           // when the listing began (UTC, real time)
        QString error;               // "" = reconciled
        int retryInMs = 0;           // with an error: when it is tried again
        // "full_diff", "full" or "incremental", as the loop's log names it.
        QString mode() const;
    };

    explicit Reconciler(store::LoopStore *store, QObject *parent = nullptr);
    ~Reconciler() override;

    void setOptions(const Options &options) { m_options = options; }
    Options options() const { return m_options; }
    // The loop's project keys: after a listing, those it did not find are another server's.
    void setProjects(std::function<QStringList()> projects) { m_projects = std::move(projects); }
    // How an annotation's result becomes labels for a project (from its label config).
    void setLabelReader(std::function<store::LabelReader(const QString &key)> reader) { m_labelReader = std::move(reader); }

    // A new client, none, or the same client pointed at another server: the server's project
    // list is forgotten, answers and retries on their way are dropped, no reconcile is left
    // running; with a client, its projects are listed (then listed(..., initial = true)).
    void setClient(labelstudio::LabelStudioClient *client);
    // Bumped by every setClient(): work begun under an older generation is for a server the
    // loop no longer talks to.
    quint64 generation() const { return m_generation; }

    // The key of Label Studio project `lsProjectId` on the connected server ("" when it has no
    // such project). Any thread.
    QString keyOnServer(qint64 lsProjectId) const;
    // The same, but nullopt while no listing of this server has completed. Any thread.
    std::optional<QString> listedKey(qint64 lsProjectId) const;
    // True when the project lives on the connected server. A key no listing has checked starts
    // a new listing (and is false until it finds it).
    bool onServer(const QString &key);

    // Starts a reconcile of one project (full, or incremental after a full one): false when it
    // is not on the connected server, there is no client, or one is already running for it.
    bool sync(const QString &key, bool full);
    bool isRunning(const QString &key) const { return m_running.contains(key); }

Q_SIGNALS:
    // The project's label config as Label Studio has it, read first by every reconcile.
    void labelConfig(const QString &key, const QString &xml);
    // A listing of the server's projects completed: `found` and the listing before it
    // (`previous`) map Label Studio ids to keys; `initial` after setClient().
    void listed(const QHash<qint64, QString> &found, const QHash<qint64, QString> &previous, bool initial);
    void listingFailed(const QString &error);
    void finished(const QString &key, const loopdeck::loop::Reconciler::Outcome &outcome);

private:
    struct Job;

    void listProjects(int page, std::shared_ptr<QHash<qint64, QString>> found);
    void startListing();
    void syncPage(std::shared_ptr<Job> job);
    void fetchChangedTask(std::shared_ptr<Job> job);
    // The end of a full listing: the tasks Label Studio no longer has leave the store.
    void removeMissing(const std::shared_ptr<Job> &job);
    void finish(const std::shared_ptr<Job> &job, const QString &error);
    int retryDelayMs(int failures) const; // retryBaseMs doubling per failure, at most retryMaxMs
    store::LabelReader labelReader(const QString &key) const;

    store::LoopStore *m_store = nullptr;
    QPointer<labelstudio::LabelStudioClient> m_client;
    Options m_options;
    std::function<QStringList()> m_projects;
    std::function<store::LabelReader(const QString &)> m_labelReader;
    quint64 m_generation = 0;
    QSet<QString> m_running;           // keys with a reconcile under way
    QHash<QString, int> m_failures;    // failed reconciles in a row, per key
    // The one pending retry of each key (its token): a reconcile that starts, from whatever
    // trigger, cancels it, so failures never grow parallel retry chains.
    QHash<QString, quint64> m_retries;
    quint64 m_retrySerial = 0;
    int m_listingFailures = 0;         // failed listings of the server's projects in a row
    quint64 m_listingRetry = 0;        // token of the pending listing retry (0 = none)
    // The connected server's projects: Label Studio id -> key (m_mutex, read by other threads).
    mutable std::mutex m_mutex;
    QHash<qint64, QString> m_serverKeys;
    bool m_serverKeysKnown = false;
    QSet<QString> m_notOnServer;       // keys the last listing checked and did not find
    bool m_listing = false;            // a listing of the server's projects is under way
    bool m_initialListing = false;     // that listing follows setClient()
};

} // namespace loopdeck::loop
