#include "store/store.h"

#include "core/store/schema.h"

#include <QDir>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QUuid>

namespace loopdeck::store {
namespace {

QString sqlError(const QString &what, const QSqlError &e)
{
    return QStringLiteral("%1: %2").arg(what, e.text());
}

} // namespace

Store::Store()
    : m_connectionName(QStringLiteral("loopdeck-store-") + QUuid::createUuid().toString(QUuid::WithoutBraces))
{
}

Store::~Store()
{
    close();
}

int Store::latestSchemaVersion()
{
    return schema::latestVersion();
}

bool Store::open(const QString &dataDir, QString *error)
{
    close();
    if (!QDir().mkpath(dataDir)) {
        *error = QStringLiteral("Cannot create the data directory %1.").arg(QDir::toNativeSeparators(dataDir));
        return false;
    }
    m_path = QDir(dataDir).filePath(QStringLiteral("loopdeck.sqlite3"));
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connectionName);
    db.setDatabaseName(m_path);
    db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
    if (!db.open()) {
        *error = sqlError(QStringLiteral("Cannot open the store %1").arg(QDir::toNativeSeparators(m_path)), db.lastError());
        db = {};
        QSqlDatabase::removeDatabase(m_connectionName);
        return false;
    }
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("PRAGMA journal_mode=WAL")) || !q.exec(QStringLiteral("PRAGMA foreign_keys=ON"))) {
        *error = sqlError(QStringLiteral("The store %1 is not a usable SQLite database").arg(QDir::toNativeSeparators(m_path)),
                          q.lastError());
        close();
        return false;
    }
    if (!migrate(error)) {
        close();
        return false;
    }
    return true;
}

void Store::close()
{
    if (QSqlDatabase::contains(m_connectionName)) {
        QSqlDatabase::database(m_connectionName, false).close();
        QSqlDatabase::removeDatabase(m_connectionName);
    }
}

bool Store::isOpen() const
{
    return QSqlDatabase::contains(m_connectionName) && QSqlDatabase::database(m_connectionName, false).isOpen();
}

int Store::schemaVersion() const
{
    QSqlQuery q(QSqlDatabase::database(m_connectionName, false));
    if (q.exec(QStringLiteral("PRAGMA user_version")) && q.next())
        return q.value(0).toInt();
    return -1;
}

bool Store::migrate(QString *error)
{
    QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    return schema::migrate(db, m_path, error);
}

bool Store::recordProgress(const QString &server, const QList<labelstudio::Project> &projects,
                           const QDateTime &takenAtUtc, QString *error)
{
    QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    if (!db.isOpen()) {
        *error = QStringLiteral("The store is not open.");
        return false;
    }
    if (!db.transaction()) {
        *error = sqlError(QStringLiteral("Cannot write progress"), db.lastError());
        return false;
    }
    QSqlQuery last(db);
    last.prepare(QStringLiteral(
        "SELECT task_number, tasks_with_annotations, total_annotations, skipped_annotations, total_predictions,"
        " finished_tasks, useful_annotations, ground_truth FROM progress_snapshot"
        " WHERE server = ? AND project_id = ? ORDER BY taken_at DESC, id DESC LIMIT 1"));
    QSqlQuery insert(db);
    insert.prepare(QStringLiteral(
        "INSERT INTO progress_snapshot (server, project_id, taken_at, task_number, tasks_with_annotations,"
        " total_annotations, skipped_annotations, total_predictions, finished_tasks, useful_annotations, ground_truth)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    for (const labelstudio::Project &p : projects) {
        const labelstudio::ProjectCounts &c = p.counts;
        last.addBindValue(server);
        last.addBindValue(p.id);
        if (!last.exec()) {
            *error = sqlError(QStringLiteral("Cannot read progress"), last.lastError());
            db.rollback();
            return false;
        }
        if (last.next()) {
            labelstudio::ProjectCounts prev;
            prev.taskNumber = last.value(0).toLongLong();
            prev.tasksWithAnnotations = last.value(1).toLongLong();
            prev.totalAnnotations = last.value(2).toLongLong();
            prev.skippedAnnotations = last.value(3).toLongLong();
            prev.totalPredictions = last.value(4).toLongLong();
            prev.finishedTasks = last.value(5).toLongLong();
            prev.usefulAnnotations = last.value(6).toLongLong();
            prev.groundTruth = last.value(7).toLongLong();
            if (prev == c)
                continue;
        }
        last.finish();
        for (const QVariant &v : {QVariant(server), QVariant(p.id), QVariant(takenAtUtc.toMSecsSinceEpoch()),
                                  QVariant(c.taskNumber), QVariant(c.tasksWithAnnotations), QVariant(c.totalAnnotations),
                                  QVariant(c.skippedAnnotations), QVariant(c.totalPredictions), QVariant(c.finishedTasks),
                                  QVariant(c.usefulAnnotations), QVariant(c.groundTruth)})
            insert.addBindValue(v);
        if (!insert.exec()) {
            *error = sqlError(QStringLiteral("Cannot write progress"), insert.lastError());
            db.rollback();
            return false;
        }
    }
    if (!db.commit()) {
        *error = sqlError(QStringLiteral("Cannot write progress"), db.lastError());
        db.rollback();
        return false;
    }
    return true;
}

QList<ProgressPoint> Store::progress(const QString &server, int projectId, int limit, QString *error) const
{
    QList<ProgressPoint> points;
    QSqlQuery q(QSqlDatabase::database(m_connectionName, false));
    q.prepare(QStringLiteral(
        "SELECT taken_at, task_number, tasks_with_annotations, total_annotations, skipped_annotations,"
        " total_predictions, finished_tasks, useful_annotations, ground_truth FROM progress_snapshot"
        " WHERE server = ? AND project_id = ? ORDER BY taken_at DESC, id DESC LIMIT ?"));
    q.addBindValue(server);
    q.addBindValue(projectId);
    q.addBindValue(limit);
    if (!q.exec()) {
        if (error)
            *error = sqlError(QStringLiteral("Cannot read progress from %1").arg(QDir::toNativeSeparators(m_path)),
                              q.lastError());
        return points;
    }
    while (q.next()) {
        ProgressPoint p;
        p.takenAt = QDateTime::fromMSecsSinceEpoch(q.value(0).toLongLong(), Qt::UTC);
        p.counts.taskNumber = q.value(1).toLongLong();
        p.counts.tasksWithAnnotations = q.value(2).toLongLong();
        p.counts.totalAnnotations = q.value(3).toLongLong();
        p.counts.skippedAnnotations = q.value(4).toLongLong();
        p.counts.totalPredictions = q.value(5).toLongLong();
        p.counts.finishedTasks = q.value(6).toLongLong();
        p.counts.usefulAnnotations = q.value(7).toLongLong();
        p.counts.groundTruth = q.value(8).toLongLong();
        points.prepend(p);
    }
    return points;
}

} // namespace loopdeck::store
