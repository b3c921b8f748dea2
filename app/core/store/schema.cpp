#include "core/store/schema.h"

#include <QDir>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStringList>

#include <iterator>

namespace loopdeck::store::schema {
namespace {

// Each entry moves the schema from version i to i+1. Never edit a released entry: append.
// An entry is SQLite's text; kPostgres below gives PostgreSQL's text where the two differ.
const char *const kMigrations[] = {
    // 1: progress snapshots per server and project
    "CREATE TABLE progress_snapshot ("
    " id INTEGER PRIMARY KEY,"
    " server TEXT NOT NULL,"
    " project_id INTEGER NOT NULL,"
    " taken_at INTEGER NOT NULL," // ms since epoch, UTC
    " task_number INTEGER NOT NULL,"
    " tasks_with_annotations INTEGER NOT NULL,"
    " total_annotations INTEGER NOT NULL,"
    " skipped_annotations INTEGER NOT NULL,"
    " total_predictions INTEGER NOT NULL,"
    " finished_tasks INTEGER NOT NULL,"
    " useful_annotations INTEGER NOT NULL,"
    " ground_truth INTEGER NOT NULL);"
    "CREATE INDEX progress_by_project ON progress_snapshot(server, project_id, taken_at);",

    // 2: the loop. Times are ms since epoch (UTC); JSON kept as text.
    // Tasks and annotations as Label Studio last told us (webhooks and reconcile).
    "CREATE TABLE ls_task ("
    " project_id BIGINT NOT NULL,"
    " task_id BIGINT NOT NULL,"
    " data TEXT NOT NULL,"              // the task's data object
    " updated_at BIGINT NOT NULL,"
    " seen_at BIGINT NOT NULL,"         // when LoopDeck last heard of it (local clock)
    " PRIMARY KEY (project_id, task_id));"
    "CREATE TABLE ls_annotation ("
    " project_id BIGINT NOT NULL,"
    " annotation_id BIGINT NOT NULL,"
    " task_id BIGINT NOT NULL,"
    " result TEXT NOT NULL,"            // the annotation's result list
    " cancelled INTEGER NOT NULL,"
    " ground_truth INTEGER NOT NULL,"
    " updated_at BIGINT NOT NULL,"
    " change_seq BIGINT NOT NULL,"      // loop_project.change_seq when it last changed
    " seen_at BIGINT NOT NULL,"         // when LoopDeck last heard of it (local clock)
    " PRIMARY KEY (project_id, annotation_id));"
    "CREATE INDEX ls_annotation_by_task ON ls_annotation(project_id, task_id);"
    // One row per project the loop serves: change counters, settings, schedule and sync state.
    "CREATE TABLE loop_project ("
    " project_id BIGINT NOT NULL PRIMARY KEY,"
    " change_seq BIGINT NOT NULL,"      // bumped by every real change of an annotation
    " trained_seq BIGINT NOT NULL,"     // change_seq the last successful training read
    " deleted_since BIGINT NOT NULL,"   // annotations deleted since the last training
    " settings TEXT NOT NULL,"          // LoopSettings as JSON ("{}" = defaults)
    " schedule TEXT NOT NULL,"          // scheduler state as JSON (survives restarts)
    " last_full_sync BIGINT NOT NULL,"  // 0 = never
    " last_sync BIGINT NOT NULL,"
    " sync_watermark TEXT NOT NULL,"    // Label Studio time of the newest change seen
    " last_error TEXT NOT NULL,"
    " label_config TEXT NOT NULL);"     // the newest label config Label Studio sent
    "CREATE TABLE loop_version ("
    " project_id BIGINT NOT NULL,"
    " version INTEGER NOT NULL,"
    " created BIGINT NOT NULL,"
    " trigger_kind TEXT NOT NULL,"
    " examples INTEGER NOT NULL,"
    " metrics TEXT NOT NULL,"
    " PRIMARY KEY (project_id, version));"
    "CREATE TABLE loop_run ("
    " project_id BIGINT NOT NULL,"
    " run_no INTEGER NOT NULL,"
    " trigger_kind TEXT NOT NULL,"
    " started_at BIGINT NOT NULL,"
    " finished_at BIGINT NOT NULL,"
    " outcome TEXT NOT NULL,"           // trained / rejected / failed / cancelled
    " version INTEGER NOT NULL,"        // 0 = none
    " message TEXT NOT NULL,"
    " PRIMARY KEY (project_id, run_no));"
    // What a version predicted for a task (served by /predict or imported), to measure how often
    // the annotator kept it.
    "CREATE TABLE served_prediction ("
    " project_id BIGINT NOT NULL,"
    " task_id BIGINT NOT NULL,"
    " version INTEGER NOT NULL,"
    " labels TEXT NOT NULL,"            // JSON list, sorted
    " served_at BIGINT NOT NULL,"
    " PRIMARY KEY (project_id, task_id, version));"
    "CREATE TABLE prediction_acceptance ("
    " project_id BIGINT NOT NULL,"
    " annotation_id BIGINT NOT NULL,"
    " version INTEGER NOT NULL,"
    " accepted INTEGER NOT NULL,"
    " PRIMARY KEY (project_id, annotation_id));",

    // 3: project identity. A project is Label Studio's "<id>.<created_at>" key (projectkey.h),
    // not a bare id, so two servers' project 1 never share rows. Rows of a store written before
    // keep their bare id as the key ("3") until the loop first hears the full key and renames
    // them (LoopStore::renameProject). Deletions seen by webhook leave a tombstone, so a
    // reconcile page that was requested before the delete cannot bring the object back.
    "CREATE TABLE ls_task_v3 ("
    " project_key TEXT NOT NULL,"
    " task_id BIGINT NOT NULL,"
    " data TEXT NOT NULL,"
    " updated_at BIGINT NOT NULL,"
    " seen_at BIGINT NOT NULL,"
    " PRIMARY KEY (project_key, task_id));"
    "INSERT INTO ls_task_v3 SELECT CAST(project_id AS TEXT), task_id, data, updated_at, seen_at FROM ls_task;"
    "DROP TABLE ls_task;"
    "ALTER TABLE ls_task_v3 RENAME TO ls_task;"
    "CREATE TABLE ls_annotation_v3 ("
    " project_key TEXT NOT NULL,"
    " annotation_id BIGINT NOT NULL,"
    " task_id BIGINT NOT NULL,"
    " result TEXT NOT NULL,"
    " cancelled INTEGER NOT NULL,"
    " ground_truth INTEGER NOT NULL,"
    " updated_at BIGINT NOT NULL,"
    " change_seq BIGINT NOT NULL,"
    " seen_at BIGINT NOT NULL,"
    " PRIMARY KEY (project_key, annotation_id));"
    "INSERT INTO ls_annotation_v3 SELECT CAST(project_id AS TEXT), annotation_id, task_id, result, cancelled,"
    " ground_truth, updated_at, change_seq, seen_at FROM ls_annotation;"
    "DROP TABLE ls_annotation;"
    "ALTER TABLE ls_annotation_v3 RENAME TO ls_annotation;"
    "CREATE INDEX ls_annotation_by_task ON ls_annotation(project_key, task_id);"
    "CREATE INDEX ls_annotation_by_seq ON ls_annotation(project_key, change_seq);"
    "CREATE TABLE loop_project_v3 ("
    " project_key TEXT NOT NULL PRIMARY KEY,"
    " change_seq BIGINT NOT NULL,"
    " trained_seq BIGINT NOT NULL,"
    " deleted_since BIGINT NOT NULL,"
    " settings TEXT NOT NULL,"
    " schedule TEXT NOT NULL,"
    " last_full_sync BIGINT NOT NULL,"
    " last_sync BIGINT NOT NULL,"
    " sync_watermark TEXT NOT NULL,"
    " last_error TEXT NOT NULL,"
    " label_config TEXT NOT NULL,"
    " server_url TEXT NOT NULL DEFAULT '');"  // the Label Studio this project was last reconciled with
    "INSERT INTO loop_project_v3 SELECT CAST(project_id AS TEXT), change_seq, trained_seq, deleted_since, settings,"
    " schedule, last_full_sync, last_sync, sync_watermark, last_error, label_config, '' FROM loop_project;"
    "DROP TABLE loop_project;"
    "ALTER TABLE loop_project_v3 RENAME TO loop_project;"
    "CREATE TABLE loop_version_v3 ("
    " project_key TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " created BIGINT NOT NULL,"
    " trigger_kind TEXT NOT NULL,"
    " examples INTEGER NOT NULL,"
    " metrics TEXT NOT NULL,"
    " PRIMARY KEY (project_key, version));"
    "INSERT INTO loop_version_v3 SELECT CAST(project_id AS TEXT), version, created, trigger_kind, examples, metrics"
    " FROM loop_version;"
    "DROP TABLE loop_version;"
    "ALTER TABLE loop_version_v3 RENAME TO loop_version;"
    "CREATE TABLE loop_run_v3 ("
    " project_key TEXT NOT NULL,"
    " run_no INTEGER NOT NULL,"
    " trigger_kind TEXT NOT NULL,"
    " started_at BIGINT NOT NULL,"
    " finished_at BIGINT NOT NULL,"
    " outcome TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " message TEXT NOT NULL,"
    " PRIMARY KEY (project_key, run_no));"
    "INSERT INTO loop_run_v3 SELECT CAST(project_id AS TEXT), run_no, trigger_kind, started_at, finished_at, outcome,"
    " version, message FROM loop_run;"
    "DROP TABLE loop_run;"
    "ALTER TABLE loop_run_v3 RENAME TO loop_run;"
    "CREATE TABLE served_prediction_v3 ("
    " project_key TEXT NOT NULL,"
    " task_id BIGINT NOT NULL,"
    " version INTEGER NOT NULL,"
    " labels TEXT NOT NULL,"
    " served_at BIGINT NOT NULL,"
    " PRIMARY KEY (project_key, task_id, version));"
    "INSERT INTO served_prediction_v3 SELECT CAST(project_id AS TEXT), task_id, version, labels, served_at"
    " FROM served_prediction;"
    "DROP TABLE served_prediction;"
    "ALTER TABLE served_prediction_v3 RENAME TO served_prediction;"
    "CREATE TABLE prediction_acceptance_v3 ("
    " project_key TEXT NOT NULL,"
    " annotation_id BIGINT NOT NULL,"
    " version INTEGER NOT NULL,"
    " accepted INTEGER NOT NULL,"
    " PRIMARY KEY (project_key, annotation_id));"
    "INSERT INTO prediction_acceptance_v3 SELECT CAST(project_id AS TEXT), annotation_id, version, accepted"
    " FROM prediction_acceptance;"
    "DROP TABLE prediction_acceptance;"
    "ALTER TABLE prediction_acceptance_v3 RENAME TO prediction_acceptance;"
    "CREATE TABLE ls_tombstone ("
    " project_key TEXT NOT NULL,"
    " kind TEXT NOT NULL,"               // 'task' or 'annotation'
    " object_id BIGINT NOT NULL,"
    " deleted_at BIGINT NOT NULL,"       // local ms when LoopDeck heard of the delete
    " PRIMARY KEY (project_key, kind, object_id));",
    // 4: counts kept, not counted. /loop/status (asked by the window on its own thread after
    // every change) shows a project's tasks, annotations and cancelled annotations; counting
    // them read every annotation row with its result (30-45 ms at 50,000 annotations). Triggers
    // keep them in ls_count in the same transaction as the rows, on every path that writes
    // rows (apply, deletions, removeMissing, renameProject), so a read is one primary-key row.
    // These tables are written with INSERT ... ON CONFLICT DO UPDATE, never INSERT OR REPLACE
    // (a REPLACE deletes without firing the delete triggers unless recursive_triggers is on).
    // The annotations-by-task index also holds `cancelled`, so the "has a live annotation" test
    // of the unlabeled-task and signature queries reads the index alone. (A separate
    // (project, cancelled) index was tried first: the planner then answered the unlabeled-task
    // query in quadratic time, 137 s at 50,000 annotations.)
    "DROP INDEX ls_annotation_by_task;"
    "CREATE INDEX ls_annotation_by_task ON ls_annotation(project_key, task_id, cancelled);"
    "CREATE TABLE ls_count ("
    " project_key TEXT NOT NULL PRIMARY KEY,"
    " tasks BIGINT NOT NULL DEFAULT 0,"
    " annotations BIGINT NOT NULL DEFAULT 0,"  // not cancelled
    " cancelled BIGINT NOT NULL DEFAULT 0);"
    "INSERT INTO ls_count (project_key, tasks, annotations, cancelled)"
    " SELECT k.project_key,"
    " (SELECT COUNT(*) FROM ls_task t WHERE t.project_key = k.project_key),"
    " (SELECT COUNT(*) FROM ls_annotation a WHERE a.project_key = k.project_key AND a.cancelled = 0),"
    " (SELECT COUNT(*) FROM ls_annotation a WHERE a.project_key = k.project_key AND a.cancelled <> 0)"
    " FROM (SELECT project_key FROM ls_task UNION SELECT project_key FROM ls_annotation) k;"
    "CREATE TRIGGER ls_task_counted AFTER INSERT ON ls_task BEGIN"
    " INSERT INTO ls_count (project_key, tasks) VALUES (NEW.project_key, 1)"
    " ON CONFLICT (project_key) DO UPDATE SET tasks = tasks + 1;"
    " END;"
    "CREATE TRIGGER ls_task_uncounted AFTER DELETE ON ls_task BEGIN"
    " UPDATE ls_count SET tasks = tasks - 1 WHERE project_key = OLD.project_key;"
    " END;"
    "CREATE TRIGGER ls_task_moved AFTER UPDATE OF project_key ON ls_task BEGIN"
    " UPDATE ls_count SET tasks = tasks - 1 WHERE project_key = OLD.project_key;"
    " INSERT INTO ls_count (project_key, tasks) VALUES (NEW.project_key, 1)"
    " ON CONFLICT (project_key) DO UPDATE SET tasks = tasks + 1;"
    " END;"
    "CREATE TRIGGER ls_annotation_counted AFTER INSERT ON ls_annotation BEGIN"
    " INSERT INTO ls_count (project_key, annotations, cancelled) VALUES (NEW.project_key, NEW.cancelled = 0, NEW.cancelled <> 0)"
    " ON CONFLICT (project_key) DO UPDATE SET annotations = annotations + (NEW.cancelled = 0),"
    " cancelled = cancelled + (NEW.cancelled <> 0);"
    " END;"
    "CREATE TRIGGER ls_annotation_uncounted AFTER DELETE ON ls_annotation BEGIN"
    " UPDATE ls_count SET annotations = annotations - (OLD.cancelled = 0), cancelled = cancelled - (OLD.cancelled <> 0)"
    " WHERE project_key = OLD.project_key;"
    " END;"
    // An upsert's DO UPDATE fires this one too (with equal old and new values it nets zero).
    "CREATE TRIGGER ls_annotation_recounted AFTER UPDATE OF project_key, cancelled ON ls_annotation BEGIN"
    " UPDATE ls_count SET annotations = annotations - (OLD.cancelled = 0), cancelled = cancelled - (OLD.cancelled <> 0)"
    " WHERE project_key = OLD.project_key;"
    " INSERT INTO ls_count (project_key, annotations, cancelled) VALUES (NEW.project_key, NEW.cancelled = 0, NEW.cancelled <> 0)"
    " ON CONFLICT (project_key) DO UPDATE SET annotations = annotations + (NEW.cancelled = 0),"
    " cancelled = cancelled + (NEW.cancelled <> 0);"
    " END;",

    // 5: a store shared by replicas (PostgreSQL; SQLite gets the same tables, unused there).
    // model_file: every model version's file, with its SHA-256, so a replica that did not train
    // it can load it and check it. model_active: which version serves each target. loop_claim:
    // the training run in progress per project and the replica running it (a row while it runs;
    // a row whose replica no longer holds the project's advisory lock is a run to take over).
    "CREATE TABLE model_file ("
    " project_key TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " created BIGINT NOT NULL,"
    " target TEXT NOT NULL,"
    " metrics TEXT NOT NULL,"
    " examples INTEGER NOT NULL,"
    " sha256 TEXT NOT NULL,"           // hex of the body's SHA-256
    " size BIGINT NOT NULL,"
    " body BLOB NOT NULL,"
    " PRIMARY KEY (project_key, version));"
    "CREATE TABLE model_active ("
    " project_key TEXT NOT NULL,"
    " target TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " PRIMARY KEY (project_key, target));"
    "CREATE TABLE loop_claim ("
    " project_key TEXT NOT NULL PRIMARY KEY,"
    " replica TEXT NOT NULL,"
    " owner TEXT NOT NULL,"            // this claim's token: a release deletes only its own row
    " trigger_kind TEXT NOT NULL,"
    " started_at BIGINT NOT NULL);",
};

// PostgreSQL's text of the migrations that differ: an id that numbers itself, the count
// triggers as trigger functions (a boolean is cast to 0/1), BYTEA for a file. Bodies are
// dollar-quoted; splitStatements keeps them whole.
const char *postgresText(int index)
{
    switch (index) {
    case 0:
        return "CREATE TABLE progress_snapshot ("
               " id BIGSERIAL PRIMARY KEY,"
               " server TEXT NOT NULL,"
               " project_id INTEGER NOT NULL,"
               " taken_at BIGINT NOT NULL,"
               " task_number INTEGER NOT NULL,"
               " tasks_with_annotations INTEGER NOT NULL,"
               " total_annotations INTEGER NOT NULL,"
               " skipped_annotations INTEGER NOT NULL,"
               " total_predictions INTEGER NOT NULL,"
               " finished_tasks INTEGER NOT NULL,"
               " useful_annotations INTEGER NOT NULL,"
               " ground_truth INTEGER NOT NULL);"
               "CREATE INDEX progress_by_project ON progress_snapshot(server, project_id, taken_at);";
    case 3:
        return "DROP INDEX ls_annotation_by_task;"
               "CREATE INDEX ls_annotation_by_task ON ls_annotation(project_key, task_id, cancelled);"
               "CREATE TABLE ls_count ("
               " project_key TEXT NOT NULL PRIMARY KEY,"
               " tasks BIGINT NOT NULL DEFAULT 0,"
               " annotations BIGINT NOT NULL DEFAULT 0,"
               " cancelled BIGINT NOT NULL DEFAULT 0);"
               "INSERT INTO ls_count (project_key, tasks, annotations, cancelled)"
               " SELECT k.project_key,"
               " (SELECT COUNT(*) FROM ls_task t WHERE t.project_key = k.project_key),"
               " (SELECT COUNT(*) FROM ls_annotation a WHERE a.project_key = k.project_key AND a.cancelled = 0),"
               " (SELECT COUNT(*) FROM ls_annotation a WHERE a.project_key = k.project_key AND a.cancelled <> 0)"
               " FROM (SELECT project_key FROM ls_task UNION SELECT project_key FROM ls_annotation) k;"
               "CREATE FUNCTION ls_task_count() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
               " IF TG_OP <> 'INSERT' THEN"
               "  UPDATE ls_count SET tasks = tasks - 1 WHERE project_key = OLD.project_key;"
               " END IF;"
               " IF TG_OP <> 'DELETE' THEN"
               "  INSERT INTO ls_count (project_key, tasks) VALUES (NEW.project_key, 1)"
               "  ON CONFLICT (project_key) DO UPDATE SET tasks = ls_count.tasks + 1;"
               " END IF;"
               " RETURN NULL; END $$;"
               "CREATE TRIGGER ls_task_counted AFTER INSERT OR DELETE OR UPDATE OF project_key ON ls_task"
               " FOR EACH ROW EXECUTE FUNCTION ls_task_count();"
               "CREATE FUNCTION ls_annotation_count() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
               " IF TG_OP <> 'INSERT' THEN"
               "  UPDATE ls_count SET annotations = annotations - (OLD.cancelled = 0)::int,"
               "  cancelled = cancelled - (OLD.cancelled <> 0)::int WHERE project_key = OLD.project_key;"
               " END IF;"
               " IF TG_OP <> 'DELETE' THEN"
               "  INSERT INTO ls_count (project_key, annotations, cancelled)"
               "  VALUES (NEW.project_key, (NEW.cancelled = 0)::int, (NEW.cancelled <> 0)::int)"
               "  ON CONFLICT (project_key) DO UPDATE SET annotations = ls_count.annotations + (NEW.cancelled = 0)::int,"
               "  cancelled = ls_count.cancelled + (NEW.cancelled <> 0)::int;"
               " END IF;"
               " RETURN NULL; END $$;"
               "CREATE TRIGGER ls_annotation_counted AFTER INSERT OR DELETE OR UPDATE OF project_key, cancelled"
               " ON ls_annotation FOR EACH ROW EXECUTE FUNCTION ls_annotation_count();";
    case 4:
        return "CREATE TABLE model_file ("
               " project_key TEXT NOT NULL,"
               " version INTEGER NOT NULL,"
               " created BIGINT NOT NULL,"
               " target TEXT NOT NULL,"
               " metrics TEXT NOT NULL,"
               " examples INTEGER NOT NULL,"
               " sha256 TEXT NOT NULL,"
               " size BIGINT NOT NULL,"
               " body BYTEA NOT NULL,"
               " PRIMARY KEY (project_key, version));"
               "CREATE TABLE model_active ("
               " project_key TEXT NOT NULL,"
               " target TEXT NOT NULL,"
               " version INTEGER NOT NULL,"
               " PRIMARY KEY (project_key, target));"
               "CREATE TABLE loop_claim ("
               " project_key TEXT NOT NULL PRIMARY KEY,"
               " replica TEXT NOT NULL,"
               " owner TEXT NOT NULL,"
               " trigger_kind TEXT NOT NULL,"
               " started_at BIGINT NOT NULL);";
    default:
        return nullptr;
    }
}

QString sqlError(const QString &what, const QSqlError &e)
{
    return QStringLiteral("%1: %2").arg(what, e.text());
}

} // namespace

// A migration's statements, split at ';' except inside a CREATE TRIGGER ... END body (SQLite)
// or a $$ ... $$ body (PostgreSQL).
QStringList splitStatements(const QString &sql)
{
    QStringList pieces;
    {
        // Split at ';' outside dollar quotes.
        QString current;
        bool quoted = false;
        for (qsizetype i = 0; i < sql.size(); ++i) {
            if (sql.at(i) == u'$' && i + 1 < sql.size() && sql.at(i + 1) == u'$') {
                quoted = !quoted;
                current += QStringLiteral("$$");
                ++i;
                continue;
            }
            if (sql.at(i) == u';' && !quoted) {
                pieces << current;
                current.clear();
                continue;
            }
            current += sql.at(i);
        }
        pieces << current;
    }
    QStringList out;
    QString trigger; // a trigger being put together, up to its END
    for (const QString &piece : std::as_const(pieces)) {
        if (piece.trimmed().isEmpty())
            continue;
        static const QRegularExpression begin(QStringLiteral("\\bBEGIN\\b"), QRegularExpression::CaseInsensitiveOption);
        const bool sqliteTrigger = piece.trimmed().startsWith(QLatin1String("CREATE TRIGGER"), Qt::CaseInsensitive)
                                   && piece.contains(begin);
        if (trigger.isEmpty() && !sqliteTrigger) {
            out << piece;
            continue;
        }
        trigger += piece + u';';
        if (piece.trimmed().compare(QLatin1String("END"), Qt::CaseInsensitive) == 0) {
            trigger.chop(1);
            out << trigger;
            trigger.clear();
        }
    }
    if (!trigger.isEmpty())
        out << trigger; // an unfinished trigger: SQLite says what is wrong with it
    return out;
}

namespace {

// PostgreSQL: the schema number lives in a one-row table (there is no user_version), and
// whichever replica starts first migrates while the others wait on this advisory lock.
constexpr qint64 kMigrationLock = 0x4C4F4F5044454B01; // "LOOPDEK" + 1

bool isPostgres(const QSqlDatabase &db)
{
    return db.driverName() == QLatin1String("QPSQL");
}

int userVersion(QSqlDatabase &db)
{
    QSqlQuery q(db);
    if (isPostgres(db)) {
        // Made on first use (under the migration lock; IF NOT EXISTS would print a notice).
        if (!q.exec(QStringLiteral("SELECT to_regclass('loopdeck_schema') IS NULL")) || !q.next())
            return -1;
        if (q.value(0).toBool()) {
            // Table and row in one transaction: never a table without its row.
            if (!db.transaction())
                return -1;
            if (!q.exec(QStringLiteral("CREATE TABLE loopdeck_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)"))
                || !q.exec(QStringLiteral("INSERT INTO loopdeck_schema (id, version) VALUES (1, 0)")) || !db.commit()) {
                db.rollback();
                return -1;
            }
        }
        if (q.exec(QStringLiteral("SELECT version FROM loopdeck_schema WHERE id = 1")) && q.next())
            return q.value(0).toInt();
        return -1;
    }
    if (q.exec(QStringLiteral("PRAGMA user_version")) && q.next())
        return q.value(0).toInt();
    return -1;
}

bool setUserVersion(QSqlDatabase &db, int version)
{
    QSqlQuery q(db);
    if (isPostgres(db))
        return q.exec(QStringLiteral("UPDATE loopdeck_schema SET version = %1 WHERE id = 1").arg(version));
    return q.exec(QStringLiteral("PRAGMA user_version=%1").arg(version));
}

// Holds PostgreSQL's migration lock for its lifetime (nothing on SQLite: its write lock does it).
class MigrationLock
{
public:
    explicit MigrationLock(QSqlDatabase &db)
        : m_db(db)
    {
        if (isPostgres(m_db)) {
            QSqlQuery q(m_db);
            m_held = q.exec(QStringLiteral("SELECT pg_advisory_lock(%1)").arg(kMigrationLock));
            m_error = q.lastError();
        }
    }
    ~MigrationLock()
    {
        if (m_held) {
            QSqlQuery q(m_db);
            q.exec(QStringLiteral("SELECT pg_advisory_unlock(%1)").arg(kMigrationLock));
        }
    }
    MigrationLock(const MigrationLock &) = delete;
    MigrationLock &operator=(const MigrationLock &) = delete;
    bool failed() const { return isPostgres(m_db) && !m_held; }
    QSqlError error() const { return m_error; }

private:
    QSqlDatabase &m_db;
    bool m_held = false;
    QSqlError m_error;
};

} // namespace

int latestVersion()
{
    return int(std::size(kMigrations));
}

QString migrationText(int index, bool postgres)
{
    if (index < 0 || index >= latestVersion())
        return {};
    const char *text = postgres && postgresText(index) ? postgresText(index) : kMigrations[index];
    return QString::fromUtf8(text);
}

bool migrate(QSqlDatabase &db, const QString &path, QString *error)
{
    const QString where = QDir::toNativeSeparators(path);
    const MigrationLock lock(db);
    if (lock.failed()) {
        *error = sqlError(QStringLiteral("Cannot take the migration lock of %1").arg(where), lock.error());
        return false;
    }
    const int current = userVersion(db);
    if (current < 0) {
        *error = sqlError(QStringLiteral("Cannot read the schema version of %1").arg(where), db.lastError());
        return false;
    }
    if (current > latestVersion()) {
        *error = QStringLiteral("The store %1 was written by a newer LoopDeck (schema %2, this one knows %3). "
                                "Update LoopDeck or choose another data directory.")
                     .arg(where)
                     .arg(current)
                     .arg(latestVersion());
        return false;
    }
    for (int v = current; v < latestVersion(); ++v) {
        if (!db.transaction()) {
            *error = sqlError(QStringLiteral("Cannot start migration %1").arg(v + 1), db.lastError());
            return false;
        }
        // Another process may have migrated the file while we waited for the write lock.
        if (userVersion(db) > v) {
            db.rollback();
            continue;
        }
        QSqlQuery q(db);
        const QStringList statements = splitStatements(migrationText(v, isPostgres(db)));
        for (const QString &statement : statements) {
            if (statement.trimmed().isEmpty())
                continue;
            if (!q.exec(statement)) {
                *error = sqlError(QStringLiteral("Migration %1 of %2 failed").arg(v + 1).arg(where), q.lastError());
                db.rollback();
                return false;
            }
        }
        if (!setUserVersion(db, v + 1) || !db.commit()) {
            *error = sqlError(QStringLiteral("Cannot finish migration %1").arg(v + 1), db.lastError());
            db.rollback();
            return false;
        }
    }
    return true;
}

} // namespace loopdeck::store::schema
