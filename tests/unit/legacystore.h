#pragma once
// A loop store as the LoopDeck before project keys wrote it (schema 2, commit e29241c): the
// CREATE TABLE statements of migrations 1 and 2 copied verbatim from app/core/store/schema.cpp
// of that commit (never edit them: they are what users' files look like), and rows of one
// project (Label Studio id 3) in every loop table. Used by tst_loopstore (migration 3) and
// tst_loopengine (adopting the bare-id project under its full key).
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QString>
#include <QStringList>

namespace legacystore {

// migrations 1 and 2 of e29241c:app/core/store/schema.cpp
inline const char *const kSchemaTwo[] = {
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
};

// The label config project 3 had (one Text, one single-choice Choices).
inline const char kLabelConfig[] =
    "<View><Text name=\"text\" value=\"$text\"/><Choices name=\"sentiment\" toName=\"text\" choice=\"single\">"
    "<Choice value=\"Positive\"/><Choice value=\"Negative\"/></Choices></View>";

// What the rows below hold, for the checks.
constexpr int kTasks = 3;
constexpr int kAnnotations = 2;      // not cancelled
constexpr int kCancelled = 1;
constexpr qint64 kChangeSeq = 3;
constexpr qint64 kTrainedSeq = 1;    // annotations 12 and 13 arrived after version 1 was trained
constexpr qint64 kPending = 2;
inline const char kSettings[] = R"({"train_every":7,"cooldown_seconds":5})";

// Writes <dataDir>/loopdeck.sqlite3 at schema 2 with project 3's rows. Returns "" or the error.
inline QString writeSchemaTwo(const QString &path)
{
    const QString name = QStringLiteral("legacystore-writer");
    QString error;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(path);
        if (!db.open())
            return db.lastError().text();
        QStringList statements;
        for (const char *migration : kSchemaTwo)
            statements << QString::fromUtf8(migration).split(u';', Qt::SkipEmptyParts);
        const QString cfg = QString::fromUtf8(kLabelConfig).replace(u'\'', QStringLiteral("''"));
        statements
            << QStringLiteral("INSERT INTO progress_snapshot VALUES (1, 'http://ls', 3, 1000, 3, 2, 3, 1, 0, 2, 2, 0)")
            << QStringLiteral("INSERT INTO ls_task VALUES (3, 1, '{\"text\":\"a great film\"}', 1764064900000, 1764064901000)")
            << QStringLiteral("INSERT INTO ls_task VALUES (3, 2, '{\"text\":\"an awful film\"}', 1764064900000, 1764064901000)")
            << QStringLiteral("INSERT INTO ls_task VALUES (3, 3, '{\"text\":\"not labelled yet\"}', 1764064900000, 1764064901000)")
            << QStringLiteral("INSERT INTO ls_annotation VALUES (3, 11, 1, '[{\"from_name\":\"sentiment\",\"to_name\":\"text\","
                              "\"type\":\"choices\",\"value\":{\"choices\":[\"Positive\"]}}]', 0, 0, 1764064900000, 1, 1764064901000)")
            << QStringLiteral("INSERT INTO ls_annotation VALUES (3, 12, 2, '[{\"from_name\":\"sentiment\",\"to_name\":\"text\","
                              "\"type\":\"choices\",\"value\":{\"choices\":[\"Negative\"]}}]', 0, 0, 1764064900000, 2, 1764064901000)")
            << QStringLiteral("INSERT INTO ls_annotation VALUES (3, 13, 3, '[]', 1, 0, 1764064900000, 3, 1764064901000)")
            << QStringLiteral("INSERT INTO loop_project VALUES (3, %1, %2, 0, '%3', '{\"last_daily\":\"2025-11-24\"}',"
                              " 1764064950000, 1764064950000, '2025-11-25T10:02:30.000000Z', '', '%4')")
                   .arg(kChangeSeq)
                   .arg(kTrainedSeq)
                   .arg(QString::fromUtf8(kSettings), cfg)
            << QStringLiteral("INSERT INTO loop_version VALUES (3, 1, 1764064960000, 'manual', 1, '{\"accuracy\":1.0}')")
            << QStringLiteral("INSERT INTO loop_run VALUES (3, 1, 'manual', 1764064955000, 1764064960000, 'trained', 1,"
                              " 'loopdeck-v1 active (accuracy 1.000)')")
            << QStringLiteral("INSERT INTO served_prediction VALUES (3, 3, 1, '[\"Positive\"]', 1764064970000)")
            << QStringLiteral("INSERT INTO prediction_acceptance VALUES (3, 12, 1, 0)")
            << QStringLiteral("PRAGMA user_version=2");
        QSqlQuery q(db);
        for (const QString &s : std::as_const(statements)) {
            if (s.trimmed().isEmpty())
                continue;
            if (!q.exec(s)) {
                error = QStringLiteral("%1: %2").arg(s.left(60), q.lastError().text());
                break;
            }
        }
        q.finish();
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
    return error;
}

} // namespace legacystore
