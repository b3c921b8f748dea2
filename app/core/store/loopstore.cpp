#include "core/store/loopstore.h"

#include "core/model/textclassifier.h"
#include "core/store/schema.h"

#include <QCryptographicHash>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlDatabase>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QUrl>
#include <QUrlQuery>
#include <QUuid>
#include <QVariant>

#include <nlohmann/json.hpp>

#include <atomic>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace loopdeck::store {

using nlohmann::json;

namespace {

// A project's row with everything at its start value.
const auto kInsertProject = QStringLiteral(
    "INSERT INTO loop_project (project_key, change_seq, trained_seq, deleted_since, settings, schedule, last_full_sync,"
    " last_sync, sync_watermark, last_error, label_config) VALUES (?, 0, 0, 0, '{}', '{}', 0, 0, '', '', '')");

// Every table with a project_key column.
constexpr const char *kProjectTables[] = {"loop_project", "ls_task", "ls_annotation", "loop_version", "loop_run",
                                          "served_prediction", "prediction_acceptance", "ls_tombstone",
                                          "model_file", "model_active", "loop_claim"};

// PostgreSQL advisory lock keys (two int4 keys: a namespace and hashtext(project key)).
constexpr int kWriteLockSpace = 0x4C440001;  // every write transaction (one key)
constexpr int kTrainLockSpace = 0x4C440002;  // a project's training run
constexpr int kSyncLockSpace = 0x4C440003;   // the replica that reconciles (one key)
const QString kActivationChannel = QStringLiteral("loopdeck_active");

QString sqlError(const QString &what, const QSqlError &e)
{
    return QStringLiteral("%1: %2").arg(what, e.text());
}

// A number per thread that is never reused (thread ids are), for connection names.
int threadNumber()
{
    static std::atomic<int> next{0};
    thread_local const int number = ++next;
    return number;
}

QDateTime fromMs(qint64 ms)
{
    return ms > 0 ? QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC) : QDateTime();
}

// Runs a prepared statement with positional values; false + *error on failure. A null QString
// is bound as "" (Qt's SQLite driver would bind it as NULL, and every column is NOT NULL): a
// cleared error or a sync without a watermark is an empty text, not a refused write.
bool run(QSqlQuery &q, const QString &sql, const QVariantList &values, QString *error, const QString &what)
{
    if (!q.prepare(sql)) {
        *error = sqlError(what, q.lastError());
        return false;
    }
    for (const QVariant &v : values)
        q.addBindValue(v.typeId() == QMetaType::QString && v.toString().isNull() ? QVariant(QStringLiteral("")) : v);
    if (!q.exec()) {
        *error = sqlError(what, q.lastError());
        return false;
    }
    return true;
}

QString textOf(const std::string &dataJson, const std::string &key)
{
    const json data = json::parse(dataJson, nullptr, false);
    if (!data.is_object())
        return {};
    auto it = data.find(key);
    if (it == data.end())
        it = data.find("$undefined$");
    if (it == data.end() || !it->is_string())
        return {};
    return QString::fromStdString(it->get<std::string>());
}

QString labelsKey(QStringList labels)
{
    labels.sort();
    return QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(labels)).toJson(QJsonDocument::Compact));
}

} // namespace

// The open connections of one LoopStore. Shared (weakly) with the thread holders below, so a
// connection is removed exactly once, by close() or by its thread's end, whichever is first.
struct LoopStoreConnections {
    std::mutex mutex;
    QSet<QString> names;

    // Removes one connection if it is still open. Its thread holds no handle to it.
    void remove(const QString &name)
    {
        std::lock_guard lock(mutex);
        if (names.remove(name))
            QSqlDatabase::removeDatabase(name);
    }
    void removeAll()
    {
        std::lock_guard lock(mutex);
        for (const QString &name : std::as_const(names))
            QSqlDatabase::removeDatabase(name);
        names.clear();
    }
};

namespace {

// The LoopStore connections the current thread opened; its destructor runs when the thread
// ends and removes those still open.
class ThreadConnections
{
public:
    ThreadConnections() = default;
    ThreadConnections(const ThreadConnections &) = delete;
    ThreadConnections &operator=(const ThreadConnections &) = delete;
    ~ThreadConnections()
    {
        for (const auto &[owner, name] : m_entries)
            if (const auto connections = owner.lock())
                connections->remove(name);
    }

    void add(const std::shared_ptr<LoopStoreConnections> &owner, const QString &name)
    {
        // Forget the entries of stores that are gone (a long-lived thread may outlive many).
        std::erase_if(m_entries, [](const Entry &e) { return e.first.expired(); });
        for (const Entry &e : m_entries)
            if (e.second == name)
                return;
        m_entries.emplace_back(owner, name);
    }

private:
    using Entry = std::pair<std::weak_ptr<LoopStoreConnections>, QString>;
    std::vector<Entry> m_entries;
};

thread_local ThreadConnections t_threadConnections;

} // namespace

LoopStore::LoopStore()
    : m_baseName(QStringLiteral("loopdeck-loop-") + QUuid::createUuid().toString(QUuid::WithoutBraces) + QLatin1Char('-'))
    , m_connections(std::make_shared<LoopStoreConnections>())
{
}

LoopStore::~LoopStore()
{
    close();
}

bool LoopStore::isPostgresUrl(const QString &location)
{
    return location.startsWith(QLatin1String("postgresql://")) || location.startsWith(QLatin1String("postgres://"));
}

QString LoopStore::displayUrl(const QString &postgresUrl)
{
    // Never the password, nor the query (libpq takes password=... there too).
    const QUrl url(postgresUrl);
    QUrl shown;
    shown.setScheme(url.scheme());
    shown.setUserName(url.userName());
    shown.setHost(url.host());
    shown.setPort(url.port());
    shown.setPath(url.path());
    return shown.toString();
}

Status LoopStore::open(const QString &dataDir, const QString &postgresUrl)
{
    close();
    if (!postgresUrl.isEmpty()) {
        const QUrl url(postgresUrl);
        if (!isPostgresUrl(postgresUrl) || !url.isValid() || url.host().isEmpty() || url.path().size() < 2)
            return Status::failure(QStringLiteral("\"%1\" is not a PostgreSQL URL (postgresql://USER:PASSWORD@HOST:PORT/DATABASE).")
                                       .arg(displayUrl(postgresUrl)));
        if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL")))
            return Status::failure(QStringLiteral("Qt's PostgreSQL driver (QPSQL) is not installed; on Debian and Ubuntu: "
                                                  "apt-get install libqt6sql6-psql."));
        m_url = postgresUrl;
        m_postgres = true;
        m_path = displayUrl(postgresUrl);
        m_open = true;
        const Status prepared = [&]() -> Status {
            QSqlDatabase db = connection();
            if (!db.isOpen())
                return Status::failure(sqlError(QStringLiteral("Cannot connect to the store %1").arg(m_path), db.lastError()));
            std::lock_guard lock(m_writeMutex);
            QString error;
            if (!schema::migrate(db, m_path, &error))
                return Status::failure(error);
            return {};
        }();
        if (!prepared)
            close();
        return prepared;
    }
    m_postgres = false;
    m_url.clear();
    if (!QDir().mkpath(dataDir))
        return Status::failure(QStringLiteral("Cannot create the data directory %1.").arg(QDir::toNativeSeparators(dataDir)));
    m_path = QDir(dataDir).filePath(QStringLiteral("loopdeck.sqlite3"));
    m_open = true;
    const Status prepared = [&]() -> Status {
        QSqlDatabase db = connection();
        if (!db.isOpen())
            return Status::failure(
                sqlError(QStringLiteral("Cannot open the store %1").arg(QDir::toNativeSeparators(m_path)), db.lastError()));
        {
            QSqlQuery q(db);
            if (!q.exec(QStringLiteral("PRAGMA journal_mode=WAL")))
                return Status::failure(sqlError(
                    QStringLiteral("The store %1 is not a usable SQLite database").arg(QDir::toNativeSeparators(m_path)),
                    q.lastError()));
        }
        std::lock_guard lock(m_writeMutex);
        QString error;
        if (!schema::migrate(db, m_path, &error))
            return Status::failure(error);
        return {};
    }();
    if (!prepared)
        close();
    return prepared;
}

void LoopStore::close()
{
    // Connections of other threads are removed without touching them (database() would warn
    // that they belong to another thread); removeDatabase closes each one. See the header for
    // when this is safe.
    m_connections->removeAll();
    m_open = false;
    std::lock_guard guard(m_claimMutex); // the sessions that held them are closed
    m_claimed.clear();
    m_lostClaims.clear();
    m_lostToReport.clear();
}

bool LoopStore::isOpen() const
{
    return m_open;
}

QSqlDatabase LoopStore::connection() const
{
    const QString name = m_baseName + QString::number(threadNumber());
    if (QSqlDatabase::contains(name)) {
        QSqlDatabase db = QSqlDatabase::database(name, false);
        if (!m_postgres)
            return db;
        // A PostgreSQL connection can break (server restart, failover, network). A failed query
        // leaves it not open (libpq's status), and one not used for two seconds is checked with
        // a round trip; a broken one is replaced by a new connection (a new session).
        thread_local QHash<QString, qint64> lastUse;
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        qint64 &last = lastUse[name];
        const bool stale = now - last > 2000;
        last = now;
        bool alive = db.isOpen();
        if (alive && stale) {
            QSqlQuery ping(db);
            alive = ping.exec(QStringLiteral("SELECT 1"));
        }
        if (alive)
            return db;
        // While the server is away, one attempt per second and thread (each may wait for the
        // connect timeout); in between, calls fail at once on the dead connection.
        thread_local QHash<QString, qint64> lastAttempt;
        if (now - lastAttempt.value(name, 0) < 1000)
            return db;
        lastAttempt[name] = now;
        db = QSqlDatabase();
        {
            std::lock_guard lock(m_connections->mutex);
            QSqlDatabase::removeDatabase(name);
            m_connections->names.remove(name);
        }
        // The session held this thread's advisory locks and its LISTEN: they are gone with it.
        sessionLost();
    }
    std::lock_guard lock(m_connections->mutex);
    QSqlDatabase db;
    if (m_postgres) {
        const QUrl url(m_url);
        db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), name);
        db.setHostName(url.host());
        db.setPort(url.port(5432));
        db.setDatabaseName(url.path().mid(1));
        db.setUserName(url.userName());
        db.setPassword(url.password());
        // libpq options: keepalives, so a half-open connection is noticed (and the server ends a
        // dead replica's session, releasing its locks, within about half a minute), then the
        // URL's own (sslmode=require, connect_timeout=5, ...), quoted.
        QStringList options{QStringLiteral("connect_timeout=10"), QStringLiteral("application_name=loopdeck"),
                            QStringLiteral("keepalives=1"), QStringLiteral("keepalives_idle=10"),
                            QStringLiteral("keepalives_interval=5"), QStringLiteral("keepalives_count=3"),
                            QStringLiteral("tcp_user_timeout=30000")};
        const auto items = QUrlQuery(url).queryItems(QUrl::FullyDecoded);
        for (const auto &[key, value] : items) {
            QString quoted = value;
            quoted.replace(u'\\', QLatin1String("\\\\")).replace(u'\'', QLatin1String("\\'"));
            options << key + QStringLiteral("='") + quoted + u'\'';
        }
        db.setConnectOptions(options.join(u';'));
        if (db.open()) {
            QSqlQuery q(db);
            // The server side of the same: a replica that vanished without closing its socket.
            q.exec(QStringLiteral("SET tcp_keepalives_idle = 10"));
            q.exec(QStringLiteral("SET tcp_keepalives_interval = 5"));
            q.exec(QStringLiteral("SET tcp_keepalives_count = 3"));
        }
    } else {
        db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(m_path);
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=10000"));
        if (db.open()) {
            QSqlQuery q(db);
            q.exec(QStringLiteral("PRAGMA synchronous=NORMAL"));
        }
    }
    m_connections->names.insert(name);
    t_threadConnections.add(m_connections, name);
    return db;
}

void LoopStore::sessionLost() const
{
    // Any thread may get here (inside write(), holding m_writeMutex): only the claiming thread's
    // session held claims, and the check comes before any lock.
    if (std::this_thread::get_id() != m_sessionThread.load())
        return;
    std::lock_guard guard(m_claimMutex);
    // Their records stay until released by owner (releaseRun); their locks went with the session.
    for (auto it = m_claimed.cbegin(); it != m_claimed.cend(); ++it) {
        m_lostClaims.insert(it.key(), it.value());
        m_lostToReport.insert(it.key());
    }
    m_claimed.clear();
    m_relisten = true;
}

Status LoopStore::write(const std::function<Status(QSqlDatabase &)> &work)
{
    if (!m_open)
        return Status::failure(QStringLiteral("The loop store is not open."));
    std::lock_guard lock(m_writeMutex);
    QSqlDatabase db = connection();
    if (!db.isOpen())
        return Status::failure(sqlError(QStringLiteral("Cannot open the store"), db.lastError()));
    if (!db.transaction())
        return Status::failure(sqlError(QStringLiteral("Cannot start a transaction"), db.lastError()));
    if (m_postgres) {
        // The replicas' writes take turns, like SQLite's single writer (see the header).
        QSqlQuery q(db);
        if (!q.exec(QStringLiteral("SELECT pg_advisory_xact_lock(%1, 0)").arg(kWriteLockSpace))) {
            const QString why = sqlError(QStringLiteral("Cannot lock the store for writing"), q.lastError());
            db.rollback();
            return Status::failure(why);
        }
    }
    Status s = work(db);
    if (!s) {
        db.rollback();
        return s;
    }
    if (!db.commit()) {
        const QString why = sqlError(QStringLiteral("Cannot commit to the store"), db.lastError());
        db.rollback();
        return Status::failure(why);
    }
    return {};
}

Result<QStringList> LoopStore::projects() const
{
    QSqlQuery q(connection());
    QString error;
    if (!run(q, QStringLiteral("SELECT project_key FROM loop_project ORDER BY project_key"), {}, &error,
             QStringLiteral("Cannot list the loop's projects")))
        return Result<QStringList>::failure(error);
    QStringList out;
    while (q.next())
        out << q.value(0).toString();
    return out;
}

Result<bool> LoopStore::renameProject(const QString &from, const QString &to)
{
    bool moved = false;
    const Status s = write([&](QSqlDatabase &db) -> Status {
        QSqlQuery q(db);
        QString error;
        if (!run(q, QStringLiteral("SELECT (SELECT COUNT(*) FROM loop_project WHERE project_key = ?),"
                                   " (SELECT COUNT(*) FROM loop_project WHERE project_key = ?)"),
                 {from, to}, &error, QStringLiteral("Cannot read the loop projects")))
            return Status::failure(error);
        if (!q.next() || q.value(0).toInt() == 0 || q.value(1).toInt() != 0)
            return {};
        q.finish();
        for (const char *table : kProjectTables)
            if (!run(q, QStringLiteral("UPDATE %1 SET project_key = ? WHERE project_key = ?").arg(QLatin1String(table)),
                     {to, from}, &error, QStringLiteral("Cannot rename the project in %1").arg(QLatin1String(table))))
                return Status::failure(error);
        moved = true;
        return {};
    });
    if (!s)
        return Result<bool>::failure(s.error());
    return moved;
}

Result<bool> LoopStore::ensureProject(const QString &projectId)
{
    bool created = false;
    const Status s = write([&](QSqlDatabase &db) -> Status {
        QSqlQuery q(db);
        QString error;
        if (!run(q, QStringLiteral("SELECT 1 FROM loop_project WHERE project_key = ?"), {projectId}, &error,
                 QStringLiteral("Cannot read the loop project")))
            return Status::failure(error);
        if (q.next())
            return {};
        q.finish();
        if (!run(q,
                 kInsertProject,
                 {projectId}, &error, QStringLiteral("Cannot add the loop project")))
            return Status::failure(error);
        created = true;
        return {};
    });
    if (!s)
        return Result<bool>::failure(s.error());
    return created;
}

Result<LoopProjectRow> LoopStore::project(const QString &projectId) const
{
    QSqlQuery q(connection());
    QString error;
    if (!run(q,
             QStringLiteral("SELECT change_seq, trained_seq, deleted_since, settings, schedule, last_full_sync, last_sync,"
                            " sync_watermark, last_error, label_config FROM loop_project WHERE project_key = ?"),
             {projectId}, &error, QStringLiteral("Cannot read the loop project")))
        return Result<LoopProjectRow>::failure(error);
    if (!q.next())
        return Result<LoopProjectRow>::failure(QStringLiteral("The loop does not know project %1.").arg(projectId));
    LoopProjectRow row;
    row.projectId = projectId;
    row.changeSeq = q.value(0).toLongLong();
    row.trainedSeq = q.value(1).toLongLong();
    row.deletedSince = q.value(2).toLongLong();
    row.settings = q.value(3).toString().toUtf8();
    row.schedule = q.value(4).toString().toUtf8();
    row.lastFullSync = fromMs(q.value(5).toLongLong());
    row.lastSync = fromMs(q.value(6).toLongLong());
    row.syncWatermark = q.value(7).toString();
    row.lastError = q.value(8).toString();
    row.labelConfig = q.value(9).toString();
    return row;
}

Result<int> LoopStore::apply(const QString &projectId, const ChangeSet &changes, const LabelReader &reader)
{
    int changed = 0;
    const Status s = write([&](QSqlDatabase &db) -> Status {
        QString error;
        QSqlQuery q(db);
        // The project row (the change counter lives there).
        if (!run(q, QStringLiteral("SELECT change_seq FROM loop_project WHERE project_key = ?"), {projectId}, &error,
                 QStringLiteral("Cannot read the loop project")))
            return Status::failure(error);
        qint64 seq = 0;
        if (q.next()) {
            seq = q.value(0).toLongLong();
        } else {
            q.finish();
            if (!run(q,
                     kInsertProject,
                     {projectId}, &error, QStringLiteral("Cannot add the loop project")))
                return Status::failure(error);
        }
        q.finish();
        qint64 deleted = 0;
        const qint64 now = QDateTime::currentMSecsSinceEpoch();

        QSqlQuery read(db), upsert(db), acceptance(db), served(db), tomb(db);
        // A reconcile page requested before a delete that a webhook reported must not bring the
        // object back (its tombstone is newer than the page).
        // A webhook (no snapshot time) that arrives after the delete it raced with — Label Studio
        // delivers inside parallel requests, in any order — cannot bring it back either: Label
        // Studio never reuses an id, so any tombstone is final for events.
        const auto buried = [&](const char *kind, qint64 id, bool *out) -> Status {
            *out = false;
            if (!run(tomb,
                     QStringLiteral("SELECT 1 FROM ls_tombstone WHERE project_key = ? AND kind = ? AND object_id = ?"
                                    " AND deleted_at >= ?"),
                     {projectId, QLatin1String(kind), id, changes.snapshotAtMs > 0 ? changes.snapshotAtMs : qint64(0)}, &error,
                     QStringLiteral("Cannot read tombstones")))
                return Status::failure(error);
            *out = tomb.next();
            tomb.finish();
            return {};
        };
        const auto bury = [&](const char *kind, qint64 id) -> Status {
            if (!run(tomb,
                     QStringLiteral("INSERT INTO ls_tombstone (project_key, kind, object_id, deleted_at) VALUES (?, ?, ?, ?)"
                                    " ON CONFLICT (project_key, kind, object_id) DO UPDATE SET deleted_at = excluded.deleted_at"),
                     {projectId, QLatin1String(kind), id, now}, &error, QStringLiteral("Cannot record a deletion")))
                return Status::failure(error);
            return {};
        };
        const auto upsertAnnotation = [&](const AnnotationChange &a) -> Status {
            bool dead = false;
            if (Status st = buried("annotation", a.id, &dead); !st || dead)
                return st;
            if (!run(read,
                     QStringLiteral("SELECT result, cancelled, ground_truth, updated_at, task_id FROM ls_annotation"
                                    " WHERE project_key = ? AND annotation_id = ?"),
                     {projectId, a.id}, &error, QStringLiteral("Cannot read an annotation")))
                return Status::failure(error);
            const QString result = QString::fromStdString(a.resultJson);
            bool isNew = true;
            if (read.next()) {
                isNew = false;
                const bool same = read.value(0).toString() == result && read.value(1).toBool() == a.cancelled
                    && read.value(2).toBool() == a.groundTruth && read.value(4).toLongLong() == a.taskId;
                const qint64 storedTime = read.value(3).toLongLong();
                if (same || (a.updatedAtMs > 0 && storedTime > a.updatedAtMs)) {
                    read.finish();
                    return {};
                }
            }
            read.finish();
            ++seq;
            ++changed;
            if (!run(upsert,
                     QStringLiteral("INSERT INTO ls_annotation (project_key, annotation_id, task_id, result, cancelled,"
                                    " ground_truth, updated_at, change_seq, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                                    " ON CONFLICT (project_key, annotation_id) DO UPDATE SET task_id = excluded.task_id,"
                                    " result = excluded.result, cancelled = excluded.cancelled,"
                                    " ground_truth = excluded.ground_truth, updated_at = excluded.updated_at,"
                                    " change_seq = excluded.change_seq, seen_at = excluded.seen_at"),
                     {projectId, a.id, a.taskId, result, int(a.cancelled), int(a.groundTruth), a.updatedAtMs, seq, now},
                     &error, QStringLiteral("Cannot store an annotation")))
                return Status::failure(error);
            // Live acceptance: the first time a person answers a task the model had predicted.
            if (isNew && !a.cancelled && reader) {
                if (!run(served,
                         QStringLiteral("SELECT version, labels FROM served_prediction WHERE project_key = ? AND task_id = ?"
                                        " ORDER BY version DESC LIMIT 1"),
                         {projectId, a.taskId}, &error, QStringLiteral("Cannot read served predictions")))
                    return Status::failure(error);
                if (served.next()) {
                    const int version = served.value(0).toInt();
                    const bool accepted = served.value(1).toString() == labelsKey(reader(a.resultJson));
                    served.finish();
                    if (!run(acceptance,
                             QStringLiteral("INSERT INTO prediction_acceptance (project_key, annotation_id, version, accepted)"
                                            " VALUES (?, ?, ?, ?) ON CONFLICT (project_key, annotation_id) DO NOTHING"),
                             {projectId, a.id, version, int(accepted)}, &error, QStringLiteral("Cannot store acceptance")))
                        return Status::failure(error);
                }
                served.finish();
            }
            return {};
        };

        QSqlQuery taskUpsert(db), listIds(db), del(db);
        for (const TaskChange &t : changes.tasks) {
            bool dead = false;
            if (Status st = buried("task", t.id, &dead); !st)
                return st;
            if (dead)
                continue;
            if (!run(taskUpsert,
                     QStringLiteral("INSERT INTO ls_task (project_key, task_id, data, updated_at, seen_at) VALUES (?, ?, ?, ?, ?)"
                                    " ON CONFLICT (project_key, task_id) DO UPDATE SET data = excluded.data,"
                                    " updated_at = excluded.updated_at, seen_at = excluded.seen_at"),
                     {projectId, t.id, QString::fromStdString(t.dataJson), t.updatedAtMs, now}, &error,
                     QStringLiteral("Cannot store a task")))
                return Status::failure(error);
            QSet<qint64> present;
            for (const AnnotationChange &a : t.annotations) {
                present.insert(a.id);
                if (Status st = upsertAnnotation(a); !st)
                    return st;
            }
            if (t.annotationsComplete) {
                if (!run(listIds,
                         QStringLiteral("SELECT annotation_id FROM ls_annotation WHERE project_key = ? AND task_id = ?"
                                        " AND seen_at < ?"),
                         {projectId, t.id, changes.snapshotAtMs > 0 ? changes.snapshotAtMs : now}, &error,
                         QStringLiteral("Cannot list a task's annotations")))
                    return Status::failure(error);
                QList<qint64> gone;
                while (listIds.next())
                    if (!present.contains(listIds.value(0).toLongLong()))
                        gone << listIds.value(0).toLongLong();
                listIds.finish();
                for (qint64 id : gone) {
                    if (!run(del, QStringLiteral("DELETE FROM ls_annotation WHERE project_key = ? AND annotation_id = ?"),
                             {projectId, id}, &error, QStringLiteral("Cannot delete an annotation")))
                        return Status::failure(error);
                    ++deleted;
                }
            }
        }
        for (const AnnotationChange &a : changes.annotations)
            if (Status st = upsertAnnotation(a); !st)
                return st;
        for (qint64 id : changes.deletedAnnotations) {
            if (Status st = bury("annotation", id); !st)
                return st;
            if (!run(del, QStringLiteral("DELETE FROM ls_annotation WHERE project_key = ? AND annotation_id = ?"),
                     {projectId, id}, &error, QStringLiteral("Cannot delete an annotation")))
                return Status::failure(error);
            deleted += del.numRowsAffected();
        }
        for (qint64 id : changes.deletedTasks) {
            if (Status st = bury("task", id); !st)
                return st;
            if (!run(del, QStringLiteral("DELETE FROM ls_annotation WHERE project_key = ? AND task_id = ?"), {projectId, id},
                     &error, QStringLiteral("Cannot delete a task's annotations")))
                return Status::failure(error);
            deleted += del.numRowsAffected();
            if (!run(del, QStringLiteral("DELETE FROM ls_task WHERE project_key = ? AND task_id = ?"), {projectId, id},
                     &error, QStringLiteral("Cannot delete a task")))
                return Status::failure(error);
        }
        if (deleted > 0)
            seq += 1;
        changed += int(deleted);
        if (!run(q, QStringLiteral("UPDATE loop_project SET change_seq = ?, deleted_since = deleted_since + ? WHERE project_key = ?"),
                 {seq, deleted, projectId}, &error, QStringLiteral("Cannot update the change counter")))
            return Status::failure(error);
        return {};
    });
    if (!s)
        return Result<int>::failure(s.error());
    return changed;
}

Result<int> LoopStore::removeMissing(const QString &projectId, const QSet<qint64> &liveTaskIds, qint64 listedSinceMs)
{
    QSqlQuery q(connection());
    QString error;
    if (!run(q, QStringLiteral("SELECT task_id FROM ls_task WHERE project_key = ? AND seen_at < ?"), {projectId, listedSinceMs},
             &error, QStringLiteral("Cannot list stored tasks")))
        return Result<int>::failure(error);
    ChangeSet gone;
    while (q.next())
        if (!liveTaskIds.contains(q.value(0).toLongLong()))
            gone.deletedTasks.push_back(q.value(0).toLongLong());
    q.finish();
    // Tombstones only matter while a reconcile page older than them may be in flight: a day is plenty.
    if (Status s = writeOne(QStringLiteral("DELETE FROM ls_tombstone WHERE project_key = ? AND deleted_at < ?"),
                            {projectId, listedSinceMs - 24ll * 3600 * 1000}, QStringLiteral("Cannot prune tombstones"));
        !s)
        return Result<int>::failure(s.error());
    if (gone.deletedTasks.empty())
        return 0;
    return apply(projectId, gone);
}

Result<qint64> LoopStore::pendingChanges(const QString &projectId) const
{
    QSqlQuery q(connection());
    QString error;
    if (!run(q,
             QStringLiteral("SELECT p.deleted_since + (SELECT COUNT(*) FROM ls_annotation a WHERE a.project_key = p.project_key"
                            " AND a.change_seq > p.trained_seq) FROM loop_project p WHERE p.project_key = ?"),
             {projectId}, &error, QStringLiteral("Cannot count new annotations")))
        return Result<qint64>::failure(error);
    return q.next() ? q.value(0).toLongLong() : 0;
}

Status LoopStore::markTrained(const QString &projectId, qint64 changeSeq)
{
    return write([&](QSqlDatabase &db) -> Status {
        QSqlQuery q(db);
        QString error;
        // Deletions counted before the read are now part of a model; later ones stay pending
        // (a deletion bumps change_seq, so "no change since the read" means none were later).
        if (!run(q,
                 QStringLiteral("UPDATE loop_project SET trained_seq = ?,"
                                " deleted_since = CASE WHEN change_seq = ? THEN 0 ELSE deleted_since END"
                                " WHERE project_key = ?"),
                 {changeSeq, changeSeq, projectId}, &error, QStringLiteral("Cannot record the training")))
            return Status::failure(error);
        return {};
    });
}

Result<TrainingData> LoopStore::trainingData(const QString &projectId, const TargetSpec &target) const
{
    QSqlDatabase db = connection();
    QString error;
    TrainingData out;
    {
        QSqlQuery q(db);
        if (!run(q, QStringLiteral("SELECT change_seq FROM loop_project WHERE project_key = ?"), {projectId}, &error,
                 QStringLiteral("Cannot read the loop project")))
            return Result<TrainingData>::failure(error);
        if (q.next())
            out.changeSeq = q.value(0).toLongLong();
    }
    QSqlQuery q(db);
    q.setForwardOnly(true);
    if (!run(q,
             QStringLiteral("SELECT a.task_id, a.result, a.cancelled, t.data, a.change_seq FROM ls_annotation a"
                            " LEFT JOIN ls_task t ON t.project_key = a.project_key AND t.task_id = a.task_id"
                            " WHERE a.project_key = ?"
                            " ORDER BY a.task_id, a.cancelled, a.ground_truth DESC, a.updated_at DESC, a.annotation_id DESC"),
             {projectId}, &error, QStringLiteral("Cannot read the training data")))
        return Result<TrainingData>::failure(error);
    const std::string from = target.fromName.toStdString();
    const std::string key = target.dataKey.toStdString();
    qint64 currentTask = -1;
    bool done = false; // the current task already gave its example (or its winner had none)
    while (q.next()) {
        const qint64 taskId = q.value(0).toLongLong();
        const bool cancelled = q.value(2).toBool();
        if (taskId != currentTask) {
            currentTask = taskId;
            done = false;
            if (!cancelled)
                ++out.tasksWithAnnotations;
        }
        if (cancelled) {
            ++out.cancelled;
            continue;
        }
        if (done)
            continue;
        // The winning annotation of this task: labels of the target from its result.
        const json result = json::parse(q.value(1).toString().toStdString(), nullptr, false);
        QStringList labels;
        bool hasTarget = false;
        if (result.is_array())
            for (const json &region : result) {
                if (!region.is_object() || region.value("from_name", std::string()) != from)
                    continue;
                const auto value = region.find("value");
                if (value == region.end() || !value->is_object())
                    continue;
                const auto choices = value->find("choices");
                if (choices == value->end() || !choices->is_array())
                    continue;
                hasTarget = true;
                for (const json &c : *choices)
                    if (c.is_string())
                        labels << QString::fromStdString(c.get<std::string>());
            }
        if (!hasTarget)
            continue; // this annotation does not answer the target; an older one may
        done = true;
        QStringList allowed;
        for (const QString &l : std::as_const(labels)) {
            if (!target.choices.isEmpty() && !target.choices.contains(l))
                ++out.droppedLabels;
            else if (!allowed.contains(l))
                allowed << l;
        }
        if (allowed.isEmpty() || (!target.multiple && allowed.size() > 1)) {
            ++out.droppedExamples;
            continue;
        }
        const QString text = q.value(3).isNull() ? QString() : textOf(q.value(3).toString().toStdString(), key);
        if (text.isEmpty()) {
            ++out.withoutText;
            continue;
        }
        out.examples.append(model::Example{text, allowed});
        out.exampleSeqs.append(q.value(4).toLongLong());
        out.exampleTasks.append(q.value(0).toLongLong());
    }
    return out;
}

Result<QList<UnlabeledTask>> LoopStore::unlabeledTasks(const QString &projectId, const QString &dataKey) const
{
    QSqlQuery q(connection());
    q.setForwardOnly(true);
    QString error;
    if (!run(q,
             QStringLiteral("SELECT t.task_id, t.data FROM ls_task t WHERE t.project_key = ? AND NOT EXISTS"
                            " (SELECT 1 FROM ls_annotation a WHERE a.project_key = t.project_key AND a.task_id = t.task_id"
                            " AND a.cancelled = 0) ORDER BY t.task_id"),
             {projectId}, &error, QStringLiteral("Cannot read unlabeled tasks")))
        return Result<QList<UnlabeledTask>>::failure(error);
    QList<UnlabeledTask> out;
    const std::string key = dataKey.toStdString();
    while (q.next()) {
        const QString text = textOf(q.value(1).toString().toStdString(), key);
        if (!text.isEmpty())
            out.append(UnlabeledTask{q.value(0).toLongLong(), text});
    }
    return out;
}

Result<QStringList> LoopStore::allTexts(const QString &projectId, const QString &dataKey) const
{
    QSqlQuery q(connection());
    q.setForwardOnly(true);
    QString error;
    if (!run(q, QStringLiteral("SELECT data FROM ls_task WHERE project_key = ? ORDER BY task_id"), {projectId}, &error,
             QStringLiteral("Cannot read task texts")))
        return Result<QStringList>::failure(error);
    QStringList out;
    const std::string key = dataKey.toStdString();
    while (q.next()) {
        const QString text = textOf(q.value(0).toString().toStdString(), key);
        if (!text.isEmpty())
            out << text;
    }
    return out;
}

Result<StoreCounts> LoopStore::counts(const QString &projectId) const
{
    QSqlQuery q(connection());
    QString error;
    if (!run(q,
             // Kept by the store's triggers (schema migration 4): one row, whatever the size.
             QStringLiteral("SELECT tasks, annotations, cancelled FROM ls_count WHERE project_key = ?"),
             {projectId}, &error, QStringLiteral("Cannot count the store")))
        return Result<StoreCounts>::failure(error);
    StoreCounts c;
    if (q.next()) {
        c.tasks = q.value(0).toLongLong();
        c.annotations = q.value(1).toLongLong();
        c.cancelled = q.value(2).toLongLong();
    }
    return c;
}

Result<QHash<qint64, TaskSignature>> LoopStore::taskSignatures(const QString &projectId) const
{
    QSqlQuery q(connection());
    q.setForwardOnly(true);
    QString error;
    if (!run(q,
             QStringLiteral("SELECT t.task_id, t.updated_at, COALESCE(SUM(1 - a.cancelled), 0), COALESCE(SUM(a.cancelled), 0)"
                            " FROM ls_task t LEFT JOIN ls_annotation a ON a.project_key = t.project_key AND a.task_id = t.task_id"
                            " WHERE t.project_key = ? GROUP BY t.task_id, t.updated_at"),
             {projectId}, &error, QStringLiteral("Cannot read task signatures")))
        return Result<QHash<qint64, TaskSignature>>::failure(error);
    QHash<qint64, TaskSignature> out;
    while (q.next())
        out.insert(q.value(0).toLongLong(),
                   TaskSignature{true, q.value(1).toLongLong(), q.value(2).toLongLong(), q.value(3).toLongLong()});
    return out;
}

Status LoopStore::writeOne(const QString &sql, const QVariantList &values, const QString &what)
{
    return write([&](QSqlDatabase &db) -> Status {
        QSqlQuery q(db);
        QString error;
        if (!run(q, sql, values, &error, what))
            return Status::failure(error);
        return {};
    });
}


Status LoopStore::setSettings(const QString &projectId, const QByteArray &json)
{
    if (Result<bool> r = ensureProject(projectId); !r)
        return Status::failure(r.error());
    return writeOne(QStringLiteral("UPDATE loop_project SET settings = ? WHERE project_key = ?"),
                        {QString::fromUtf8(json), projectId}, QStringLiteral("Cannot save the loop settings"));
}

Status LoopStore::setSchedule(const QString &projectId, const QByteArray &json)
{
    if (Result<bool> r = ensureProject(projectId); !r)
        return Status::failure(r.error());
    return writeOne(QStringLiteral("UPDATE loop_project SET schedule = ? WHERE project_key = ?"),
                        {QString::fromUtf8(json), projectId}, QStringLiteral("Cannot save the schedule"));
}

Status LoopStore::setSyncState(const QString &projectId, const QDateTime &when, bool full, const QString &watermark)
{
    const qint64 ms = when.toMSecsSinceEpoch();
    if (full)
        return writeOne(QStringLiteral("UPDATE loop_project SET last_sync = ?, last_full_sync = ?, sync_watermark = ?"
                                       " WHERE project_key = ?"),
                        {ms, ms, watermark, projectId}, QStringLiteral("Cannot save the sync state"));
    return writeOne(QStringLiteral("UPDATE loop_project SET last_sync = ?, sync_watermark = ? WHERE project_key = ?"),
                    {ms, watermark, projectId}, QStringLiteral("Cannot save the sync state"));
}

Status LoopStore::setLastError(const QString &projectId, const QString &error)
{
    return writeOne(QStringLiteral("UPDATE loop_project SET last_error = ? WHERE project_key = ?"),
                        {error, projectId}, QStringLiteral("Cannot save the loop error"));
}

Status LoopStore::setLabelConfig(const QString &projectId, const QString &xml)
{
    if (Result<bool> r = ensureProject(projectId); !r)
        return Status::failure(r.error());
    return writeOne(QStringLiteral("UPDATE loop_project SET label_config = ? WHERE project_key = ?"), {xml, projectId},
                    QStringLiteral("Cannot save the label config"));
}

Status LoopStore::recordVersion(const QString &projectId, const VersionRecord &v)
{
    return writeOne(QStringLiteral("INSERT INTO loop_version (project_key, version, created, trigger_kind, examples, metrics)"
                                       " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (project_key, version) DO UPDATE SET"
                                       " created = excluded.created, trigger_kind = excluded.trigger_kind,"
                                       " examples = excluded.examples, metrics = excluded.metrics"),
                        {projectId, v.version, v.created.toMSecsSinceEpoch(), v.trigger, v.examples, QString::fromUtf8(v.metrics)},
                        QStringLiteral("Cannot record the model version"));
}

Result<QList<VersionRecord>> LoopStore::versions(const QString &projectId) const
{
    QSqlQuery q(connection());
    QString error;
    if (!run(q,
             QStringLiteral("SELECT version, created, trigger_kind, examples, metrics FROM loop_version WHERE project_key = ?"
                            " ORDER BY version"),
             {projectId}, &error, QStringLiteral("Cannot read model versions")))
        return Result<QList<VersionRecord>>::failure(error);
    QList<VersionRecord> out;
    while (q.next()) {
        VersionRecord v;
        v.version = q.value(0).toInt();
        v.created = fromMs(q.value(1).toLongLong());
        v.trigger = q.value(2).toString();
        v.examples = q.value(3).toInt();
        v.metrics = q.value(4).toString().toUtf8();
        out << v;
    }
    return out;
}

Status LoopStore::forgetVersion(const QString &projectId, int version)
{
    return write([&](QSqlDatabase &db) -> Status {
        QSqlQuery q(db);
        QString error;
        for (const char *sql : {"DELETE FROM loop_version WHERE project_key = ? AND version = ?",
                                "DELETE FROM served_prediction WHERE project_key = ? AND version = ?"})
            if (!run(q, QString::fromLatin1(sql), {projectId, version}, &error, QStringLiteral("Cannot forget a version")))
                return Status::failure(error);
        return {};
    });
}

Result<int> LoopStore::recordRun(const QString &projectId, const RunRecord &r)
{
    int runNo = 0;
    const Status s = write([&](QSqlDatabase &db) -> Status {
        QSqlQuery q(db);
        QString error;
        if (!run(q, QStringLiteral("SELECT COALESCE(MAX(run_no), 0) FROM loop_run WHERE project_key = ?"), {projectId}, &error,
                 QStringLiteral("Cannot number the run")))
            return Status::failure(error);
        runNo = q.next() ? q.value(0).toInt() + 1 : 1;
        q.finish();
        if (!run(q,
                 QStringLiteral("INSERT INTO loop_run (project_key, run_no, trigger_kind, started_at, finished_at, outcome,"
                                " version, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
                 {projectId, runNo, r.trigger, r.started.toMSecsSinceEpoch(), r.finished.toMSecsSinceEpoch(), r.outcome,
                  r.version, r.message},
                 &error, QStringLiteral("Cannot record the run")))
            return Status::failure(error);
        // Keep the last 500 runs of a project.
        if (!run(q, QStringLiteral("DELETE FROM loop_run WHERE project_key = ? AND run_no <= ?"), {projectId, runNo - 500},
                 &error, QStringLiteral("Cannot trim old runs")))
            return Status::failure(error);
        return {};
    });
    if (!s)
        return Result<int>::failure(s.error());
    return runNo;
}

Result<QList<RunRecord>> LoopStore::runs(const QString &projectId, int limit) const
{
    QSqlQuery q(connection());
    QString error;
    if (!run(q,
             QStringLiteral("SELECT run_no, trigger_kind, started_at, finished_at, outcome, version, message FROM loop_run"
                            " WHERE project_key = ? ORDER BY run_no DESC LIMIT ?"),
             {projectId, limit}, &error, QStringLiteral("Cannot read training runs")))
        return Result<QList<RunRecord>>::failure(error);
    QList<RunRecord> out;
    while (q.next()) {
        RunRecord r;
        r.runNo = q.value(0).toInt();
        r.trigger = q.value(1).toString();
        r.started = fromMs(q.value(2).toLongLong());
        r.finished = fromMs(q.value(3).toLongLong());
        r.outcome = q.value(4).toString();
        r.version = q.value(5).toInt();
        r.message = q.value(6).toString();
        out.prepend(r);
    }
    return out;
}

Status LoopStore::recordServed(const QString &projectId, int version, const QList<QPair<qint64, QStringList>> &predictions)
{
    if (predictions.isEmpty())
        return {};
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    return write([&](QSqlDatabase &db) -> Status {
        QSqlQuery q(db);
        QString error;
        if (!q.prepare(QStringLiteral("INSERT INTO served_prediction (project_key, task_id, version, labels, served_at)"
                                      " VALUES (?, ?, ?, ?, ?) ON CONFLICT (project_key, task_id, version) DO UPDATE SET"
                                      " labels = excluded.labels")))
            return Status::failure(sqlError(QStringLiteral("Cannot record predictions"), q.lastError()));
        for (const auto &[taskId, labels] : predictions) {
            q.addBindValue(projectId);
            q.addBindValue(taskId);
            q.addBindValue(version);
            q.addBindValue(labelsKey(labels));
            q.addBindValue(now);
            if (!q.exec())
                return Status::failure(sqlError(QStringLiteral("Cannot record predictions"), q.lastError()));
        }
        Q_UNUSED(error);
        return {};
    });
}

Result<QHash<int, Acceptance>> LoopStore::acceptance(const QString &projectId) const
{
    QSqlQuery q(connection());
    QString error;
    if (!run(q,
             QStringLiteral("SELECT version, SUM(accepted), COUNT(*) FROM prediction_acceptance WHERE project_key = ?"
                            " GROUP BY version"),
             {projectId}, &error, QStringLiteral("Cannot read live acceptance")))
        return Result<QHash<int, Acceptance>>::failure(error);
    QHash<int, Acceptance> out;
    while (q.next())
        out.insert(q.value(0).toInt(), Acceptance{q.value(1).toInt(), q.value(2).toInt()});
    return out;
}

// ---- shared store ------------------------------------------------------------------------

namespace {

Status notShared()
{
    return Status::failure(QStringLiteral("Only a PostgreSQL store keeps model files."));
}

} // namespace

Result<int> LoopStore::addModel(const QString &projectId, const StoredModel &meta, const QByteArray &body)
{
    if (!m_postgres)
        return Result<int>::failure(notShared().error());
    const QString sha = QString::fromLatin1(QCryptographicHash::hash(body, QCryptographicHash::Sha256).toHex());
    int version = 0;
    const Status s = write([&](QSqlDatabase &db) -> Status {
        QSqlQuery q(db);
        QString error;
        // Version numbers are the registry's on SQLite; here one past the highest stored, and
        // past the highest the loop recorded (a version whose file was pruned is not reused).
        if (!run(q,
                 QStringLiteral("SELECT GREATEST((SELECT COALESCE(MAX(version), 0) FROM model_file WHERE project_key = ?),"
                                " (SELECT COALESCE(MAX(version), 0) FROM loop_version WHERE project_key = ?))"),
                 {projectId, projectId}, &error, QStringLiteral("Cannot number the model version"))
            || !q.next())
            return Status::failure(error.isEmpty() ? QStringLiteral("Cannot number the model version.") : error);
        version = q.value(0).toInt() + 1;
        q.finish();
        if (!run(q,
                 QStringLiteral("INSERT INTO model_file (project_key, version, created, target, metrics, examples, sha256, size, body)"
                                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                 {projectId, version, meta.created.toMSecsSinceEpoch(), meta.target, QString::fromUtf8(meta.metrics),
                  meta.examples, sha, qint64(body.size()), body},
                 &error, QStringLiteral("Cannot store the model file")))
            return Status::failure(error);
        return {};
    });
    if (!s)
        return Result<int>::failure(s.error());
    return version;
}

Result<QList<StoredModel>> LoopStore::models(const QString &projectId) const
{
    QSqlQuery q(connection());
    QString error;
    if (!run(q,
             QStringLiteral("SELECT version, created, target, metrics, examples, sha256, size FROM model_file"
                            " WHERE project_key = ? ORDER BY version"),
             {projectId}, &error, QStringLiteral("Cannot read the model versions")))
        return Result<QList<StoredModel>>::failure(error);
    QList<StoredModel> out;
    while (q.next()) {
        StoredModel m;
        m.version = q.value(0).toInt();
        m.created = fromMs(q.value(1).toLongLong());
        m.target = q.value(2).toString();
        m.metrics = q.value(3).toString().toUtf8();
        m.examples = q.value(4).toInt();
        m.sha256 = q.value(5).toString();
        m.size = q.value(6).toLongLong();
        out << m;
    }
    return out;
}

Result<QPair<QByteArray, QString>> LoopStore::modelBody(const QString &projectId, int version) const
{
    QSqlQuery q(connection());
    QString error;
    if (!run(q, QStringLiteral("SELECT body, sha256 FROM model_file WHERE project_key = ? AND version = ?"),
             {projectId, version}, &error, QStringLiteral("Cannot read the model file")))
        return Result<QPair<QByteArray, QString>>::failure(error);
    if (!q.next())
        return Result<QPair<QByteArray, QString>>::failure(
            QStringLiteral("The store has no model version %1 of project %2.").arg(version).arg(projectId));
    return qMakePair(q.value(0).toByteArray(), q.value(1).toString());
}

Result<QHash<QString, QByteArray>> LoopStore::allSettings() const
{
    QSqlQuery q(connection());
    QString error;
    if (!run(q, QStringLiteral("SELECT project_key, settings FROM loop_project"), {}, &error,
             QStringLiteral("Cannot read the projects' settings")))
        return Result<QHash<QString, QByteArray>>::failure(error);
    QHash<QString, QByteArray> out;
    while (q.next())
        out.insert(q.value(0).toString(), q.value(1).toString().toUtf8());
    return out;
}

Result<QString> LoopStore::modelChecksum(const QString &projectId, int version) const
{
    QSqlQuery q(connection());
    QString error;
    if (!run(q, QStringLiteral("SELECT sha256 FROM model_file WHERE project_key = ? AND version = ?"), {projectId, version},
             &error, QStringLiteral("Cannot read the model checksum")))
        return Result<QString>::failure(error);
    if (!q.next())
        return Result<QString>::failure(
            QStringLiteral("The store has no model version %1 of project %2.").arg(version).arg(projectId));
    return q.value(0).toString();
}

Result<QStringList> LoopStore::modelProjects() const
{
    QSqlQuery q(connection());
    QString error;
    if (!run(q, QStringLiteral("SELECT DISTINCT project_key FROM model_file ORDER BY project_key"), {}, &error,
             QStringLiteral("Cannot list the projects with models")))
        return Result<QStringList>::failure(error);
    QStringList out;
    while (q.next())
        out << q.value(0).toString();
    return out;
}

Result<QHash<QString, int>> LoopStore::activeModels(const QString &projectId) const
{
    QSqlQuery q(connection());
    QString error;
    if (!run(q, QStringLiteral("SELECT target, version FROM model_active WHERE project_key = ?"), {projectId}, &error,
             QStringLiteral("Cannot read the active versions")))
        return Result<QHash<QString, int>>::failure(error);
    QHash<QString, int> out;
    while (q.next())
        out.insert(q.value(0).toString(), q.value(1).toInt());
    return out;
}

Result<QHash<QString, QHash<QString, int>>> LoopStore::allActiveModels() const
{
    QSqlQuery q(connection());
    QString error;
    if (!run(q, QStringLiteral("SELECT project_key, target, version FROM model_active"), {}, &error,
             QStringLiteral("Cannot read the active versions")))
        return Result<QHash<QString, QHash<QString, int>>>::failure(error);
    QHash<QString, QHash<QString, int>> out;
    while (q.next())
        out[q.value(0).toString()].insert(q.value(1).toString(), q.value(2).toInt());
    return out;
}

Status LoopStore::setActiveModel(const QString &projectId, int version)
{
    if (!m_postgres)
        return notShared();
    return write([&](QSqlDatabase &db) -> Status {
        QSqlQuery q(db);
        QString error;
        if (!run(q, QStringLiteral("SELECT target FROM model_file WHERE project_key = ? AND version = ?"), {projectId, version},
                 &error, QStringLiteral("Cannot read the model version")))
            return Status::failure(error);
        if (!q.next())
            return Status::failure(QStringLiteral("Project %1 has no model version %2").arg(projectId).arg(version));
        const QString target = q.value(0).toString();
        q.finish();
        if (!run(q,
                 QStringLiteral("INSERT INTO model_active (project_key, target, version) VALUES (?, ?, ?)"
                                " ON CONFLICT (project_key, target) DO UPDATE SET version = excluded.version"),
                 {projectId, target, version}, &error, QStringLiteral("Cannot activate the model version"))
            || !run(q, QStringLiteral("SELECT pg_notify(?, ?)"), {kActivationChannel, projectId}, &error,
                    QStringLiteral("Cannot announce the model version")))
            return Status::failure(error);
        return {};
    });
}

Status LoopStore::removeModel(const QString &projectId, int version)
{
    if (!m_postgres)
        return notShared();
    return write([&](QSqlDatabase &db) -> Status {
        QSqlQuery q(db);
        QString error;
        if (!run(q, QStringLiteral("SELECT 1 FROM model_active WHERE project_key = ? AND version = ?"), {projectId, version},
                 &error, QStringLiteral("Cannot read the active versions")))
            return Status::failure(error);
        if (q.next())
            return Status::failure(QStringLiteral("Version %1 of project %2 is active and cannot be deleted").arg(version).arg(projectId));
        q.finish();
        if (!run(q, QStringLiteral("DELETE FROM model_file WHERE project_key = ? AND version = ?"), {projectId, version}, &error,
                 QStringLiteral("Cannot delete the model version")))
            return Status::failure(error);
        return {};
    });
}

namespace {

// This session's advisory locks: (space, hashtext(project key)) for a project's training,
// (space, 0) without a project (the sync leader's).
QString lockKey(int space, const QString &projectId)
{
    return projectId.isEmpty() ? QStringLiteral("%1, 0").arg(space) : QStringLiteral("%1, hashtext(?)").arg(space);
}

QVariantList lockValues(const QString &projectId)
{
    return projectId.isEmpty() ? QVariantList() : QVariantList{projectId};
}

// Whether this session holds the lock (pg_locks: the two int4 keys are classid and objid, the
// latter as an unsigned oid). A lock taken again would only count up, so this asks first.
bool holdsLock(QSqlDatabase &db, int space, const QString &projectId, QString *error)
{
    QSqlQuery q(db);
    if (!run(q,
             QStringLiteral("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
                            " AND classid = %1 AND objid::bigint = %2")
                 .arg(space)
                 .arg(projectId.isEmpty() ? QStringLiteral("0") : QStringLiteral("(hashtext(?)::bigint & 4294967295)")),
             lockValues(projectId), error, QStringLiteral("Cannot read the store's locks"))
        || !q.next())
        return false;
    return q.value(0).toInt() > 0;
}

// Takes the lock when it is free; nullopt + *error when the store cannot be asked.
std::optional<bool> tryLock(QSqlDatabase &db, int space, const QString &projectId, QString *error)
{
    QSqlQuery q(db);
    if (!run(q, QStringLiteral("SELECT pg_try_advisory_lock(%1)").arg(lockKey(space, projectId)), lockValues(projectId), error,
             QStringLiteral("Cannot take the lock"))
        || !q.next()) {
        if (error->isEmpty())
            *error = QStringLiteral("Cannot take the lock.");
        return std::nullopt;
    }
    return q.value(0).toBool();
}

bool unlockTrain(QSqlDatabase &db, const QString &projectId, QString *error)
{
    QSqlQuery q(db);
    if (!run(q, QStringLiteral("SELECT pg_advisory_unlock(%1)").arg(lockKey(kTrainLockSpace, projectId)), {projectId}, error,
             QStringLiteral("Cannot release the training lock"))
        || !q.next())
        return false;
    if (!q.value(0).toBool()) {
        *error = QStringLiteral("The training lock of project %1 was not held (the store's session was renewed).").arg(projectId);
        return false;
    }
    return true;
}

} // namespace

Result<bool> LoopStore::claimRun(const QString &projectId, const QString &replica, const QString &trigger)
{
    if (!m_postgres)
        return true;
    m_sessionThread = std::this_thread::get_id();
    QSqlDatabase db = connection(); // may renew the session (and move its claims to the lost ones) first
    // Never hold m_claimMutex across a write(): a writer on another thread may need it while it
    // holds the write mutex (sessionLost).
    bool held = false;
    {
        std::lock_guard guard(m_claimMutex);
        held = m_claimed.contains(projectId); // a run taken over: orphanedRuns took the lock
    }
    if (!held) {
        QString error;
        const std::optional<bool> locked = tryLock(db, kTrainLockSpace, projectId, &error);
        if (!locked)
            return Result<bool>::failure(error);
        if (!*locked)
            return false;
    }
    const QString owner = QUuid::createUuid().toString(QUuid::WithoutBraces);
    const Status recorded = write([&](QSqlDatabase &wdb) -> Status {
        QSqlQuery w(wdb);
        QString why;
        if (!run(w,
                 QStringLiteral("INSERT INTO loop_claim (project_key, replica, owner, trigger_kind, started_at) VALUES (?, ?, ?, ?, ?)"
                                " ON CONFLICT (project_key) DO UPDATE SET replica = excluded.replica, owner = excluded.owner,"
                                " trigger_kind = excluded.trigger_kind, started_at = excluded.started_at"),
                 {projectId, replica, owner, trigger, QDateTime::currentMSecsSinceEpoch()}, &why,
                 QStringLiteral("Cannot record the run")))
            return Status::failure(why);
        return {};
    });
    if (!recorded) {
        {
            std::lock_guard guard(m_claimMutex);
            m_claimed.remove(projectId);
        }
        QString ignored; // the claim failed already; that is the error to report
        unlockTrain(db, projectId, &ignored);
        return Result<bool>::failure(recorded.error());
    }
    std::lock_guard guard(m_claimMutex);
    m_claimed.insert(projectId, owner);
    m_lostClaims.remove(projectId); // its old record was just replaced by this one
    m_lostToReport.remove(projectId);
    return true;
}

Result<bool> LoopStore::stillClaimed(const QString &projectId)
{
    if (!m_postgres)
        return true;
    QSqlDatabase db = connection(); // a renewed session has lost its locks: then not in m_claimed
    QString owner;
    {
        std::lock_guard guard(m_claimMutex);
        const auto it = m_claimed.constFind(projectId);
        if (it == m_claimed.constEnd())
            return false;
        owner = it.value();
    }
    QString error;
    const bool locked = holdsLock(db, kTrainLockSpace, projectId, &error);
    if (!error.isEmpty())
        return Result<bool>::failure(error);
    QSqlQuery q(db);
    if (!run(q, QStringLiteral("SELECT 1 FROM loop_claim WHERE project_key = ? AND owner = ?"), {projectId, owner}, &error,
             QStringLiteral("Cannot read the runs in progress")))
        return Result<bool>::failure(error);
    return locked && q.next();
}

Status LoopStore::releaseRun(const QString &projectId)
{
    if (!m_postgres)
        return {};
    QSqlDatabase db = connection();
    QString owner;
    bool lost = false;
    {
        std::lock_guard guard(m_claimMutex);
        if (const auto it = m_claimed.constFind(projectId); it != m_claimed.constEnd()) {
            owner = it.value();
        } else if (const auto l = m_lostClaims.constFind(projectId); l != m_lostClaims.constEnd()) {
            owner = l.value(); // lost with the session: its record still goes, no lock to let go
            lost = true;
        } else {
            return {}; // not ours: nothing to release, and never another replica's record
        }
    }
    // The record goes first, then the lock: a replica that gets the lock finds no run to take
    // over. Only this claim's record: another replica may own the project's record by now.
    const Status removed = write([&](QSqlDatabase &wdb) -> Status {
        QSqlQuery q(wdb);
        QString error;
        if (!run(q, QStringLiteral("DELETE FROM loop_claim WHERE project_key = ? AND owner = ?"), {projectId, owner}, &error,
                 QStringLiteral("Cannot finish the run record")))
            return Status::failure(error);
        return {};
    });
    if (!removed)
        return removed; // lock and record kept: the caller tries again (a free lock with the record would be taken over)
    {
        std::lock_guard guard(m_claimMutex);
        if (lost) {
            m_lostClaims.remove(projectId);
            return {};
        }
        m_claimed.remove(projectId);
    }
    QString error;
    if (!unlockTrain(db, projectId, &error))
        return Status::failure(error);
    return {};
}

bool LoopStore::holdsClaim(const QString &projectId) const
{
    std::lock_guard guard(m_claimMutex);
    return m_claimed.contains(projectId) || m_lostClaims.contains(projectId);
}

QSet<QString> LoopStore::renewSession(QObject *context)
{
    QSet<QString> lost;
    bool relisten = false;
    {
        std::lock_guard guard(m_claimMutex);
        lost = std::exchange(m_lostToReport, {}); // once; their records are released by owner later
        relisten = std::exchange(m_relisten, false) && m_listening;
    }
    if (relisten) {
        QString error;
        if (!listenForActivations(context, m_onActivation, &error)) {
            std::lock_guard guard(m_claimMutex);
            m_relisten = true; // again on the next call
        }
    }
    return lost;
}

Result<QList<RunClaim>> LoopStore::claims() const
{
    QSqlQuery q(connection());
    QString error;
    if (!run(q, QStringLiteral("SELECT project_key, replica, trigger_kind, started_at FROM loop_claim ORDER BY project_key"), {},
             &error, QStringLiteral("Cannot read the runs in progress")))
        return Result<QList<RunClaim>>::failure(error);
    QList<RunClaim> out;
    while (q.next())
        out << RunClaim{q.value(0).toString(), q.value(1).toString(), q.value(2).toString(), fromMs(q.value(3).toLongLong())};
    return out;
}

Result<QList<RunClaim>> LoopStore::orphanedRuns(const QSet<QString> &skip)
{
    if (!m_postgres)
        return QList<RunClaim>();
    const auto all = claims();
    if (!all)
        return all;
    QList<RunClaim> out;
    m_sessionThread = std::this_thread::get_id();
    QSqlDatabase db = connection();
    std::lock_guard guard(m_claimMutex); // no write() below
    for (const RunClaim &c : all.value()) {
        if (skip.contains(c.projectId) || m_claimed.contains(c.projectId))
            continue;
        QString error;
        const std::optional<bool> locked = tryLock(db, kTrainLockSpace, c.projectId, &error);
        if (!locked)
            return Result<QList<RunClaim>>::failure(error);
        if (!*locked)
            continue; // its replica is alive and running it
        // The lock is ours now: the row is still there only if its run ended without finishing.
        QSqlQuery check(db);
        if (!run(check, QStringLiteral("SELECT 1 FROM loop_claim WHERE project_key = ?"), {c.projectId}, &error,
                 QStringLiteral("Cannot read the runs in progress"))
            || !check.next()) {
            QString ignored; // it was taken a moment ago; nothing to run
            unlockTrain(db, c.projectId, &ignored);
            continue;
        }
        m_claimed.insert(c.projectId, QString()); // locked; claimRun records this replica as the owner
        out << c;
    }
    return out;
}

bool LoopStore::leadsSync()
{
    if (!m_postgres)
        return true;
    QSqlDatabase db = connection();
    QString error;
    if (holdsLock(db, kSyncLockSpace, QString(), &error))
        return true;
    return error.isEmpty() && tryLock(db, kSyncLockSpace, QString(), &error).value_or(false);
}

bool LoopStore::listenForActivations(QObject *context, std::function<void(const QString &)> onChange, QString *error)
{
    if (!m_postgres) {
        *error = QStringLiteral("Only a PostgreSQL store announces activations.");
        return false;
    }
    m_sessionThread = std::this_thread::get_id();
    QSqlDatabase db = connection();
    {
        std::lock_guard guard(m_claimMutex);
        m_listening = true;
        m_onActivation = onChange;
    }
    QSqlDriver *driver = db.driver();
    if (!driver || !driver->subscribeToNotification(kActivationChannel)) {
        *error = sqlError(QStringLiteral("Cannot listen for new versions"), driver ? driver->lastError() : db.lastError());
        return false;
    }
    QObject::connect(driver, &QSqlDriver::notification, context,
                     [onChange = std::move(onChange)](const QString &name, QSqlDriver::NotificationSource, const QVariant &payload) {
                         if (name == kActivationChannel)
                             onChange(payload.toString());
                     });
    return true;
}

} // namespace loopdeck::store
