// LoopStore on a real SQLite file: migrations (empty dir, a schema-1 file, a schema-2 file of
// the previous main whose rows keep their bare id as key and move to the full key in one rename,
// a newer schema is refused), idempotent events, older copies never overwrite newer ones, the
// documented training-data rule (ground truth, else most recent; cancelled are not examples;
// labels not in the config dropped and counted; multi-choice), deletions through reconcile
// snapshots, tombstones that keep a webhook's delete against an older reconcile page, pending
// changes across a training, live acceptance, and concurrent writers losing nothing.
#include "core/model/textclassifier.h"
#include "core/store/loopstore.h"
#include "core/store/schema.h"
#include "legacystore.h"

#include <QDateTime>
#include <QFile>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <QThreadPool>

#include <nlohmann/json.hpp>

#include <atomic>
#include <mutex>

using loopdeck::model::Example;
using loopdeck::store::AnnotationChange;
using loopdeck::store::ChangeSet;
using loopdeck::store::LoopStore;
using loopdeck::store::TargetSpec;
using loopdeck::store::TaskChange;
using loopdeck::store::TrainingData;

namespace {

const QString kProject = QStringLiteral("3.1764064800");
const qint64 kT0 = QDateTime(QDate(2026, 11, 25), QTime(10, 0), Qt::UTC).toMSecsSinceEpoch();

std::string resultOf(const QStringList &labels, const char *fromName = "sentiment")
{
    nlohmann::json choices = nlohmann::json::array();
    for (const QString &l : labels)
        choices.push_back(l.toStdString());
    return nlohmann::json::array({nlohmann::json{{"from_name", fromName},
                                                 {"to_name", "text"},
                                                 {"type", "choices"},
                                                 {"value", {{"choices", choices}}}}})
        .dump();
}

AnnotationChange ann(qint64 id, qint64 task, const QStringList &labels, qint64 updatedAt = kT0, bool cancelled = false,
                     bool groundTruth = false)
{
    AnnotationChange a;
    a.id = id;
    a.taskId = task;
    a.resultJson = cancelled ? std::string("[]") : resultOf(labels);
    a.cancelled = cancelled;
    a.groundTruth = groundTruth;
    a.updatedAtMs = updatedAt;
    return a;
}

TaskChange taskOf(qint64 id, const QString &text, std::vector<AnnotationChange> annotations = {})
{
    TaskChange t;
    t.id = id;
    t.dataJson = nlohmann::json{{"text", text.toStdString()}}.dump();
    t.updatedAtMs = kT0;
    t.annotations = std::move(annotations);
    return t;
}

ChangeSet webhook(std::vector<TaskChange> tasks)
{
    ChangeSet c;
    c.action = QStringLiteral("ANNOTATION_CREATED");
    c.tasks = std::move(tasks);
    return c;
}

const TargetSpec kSentiment{QStringLiteral("sentiment"), QStringLiteral("text"),
                            {QStringLiteral("Positive"), QStringLiteral("Negative")}, false};

QHash<QString, QStringList> examplesByText(const TrainingData &d)
{
    QHash<QString, QStringList> out;
    for (const Example &e : d.examples)
        out.insert(e.text, e.labels);
    return out;
}

// A connection of the test's own to look inside the file.
struct Peek {
    explicit Peek(const QString &path)
        : name(QStringLiteral("peek-%1").arg(++counter))
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(path);
        db.open();
    }
    ~Peek()
    {
        {
            QSqlDatabase db = QSqlDatabase::database(name, false);
            db.close();
        }
        QSqlDatabase::removeDatabase(name);
    }
    QVariant value(const QString &sql) const
    {
        QSqlQuery q(QSqlDatabase::database(name, false));
        if (!q.exec(sql) || !q.next())
            return {};
        return q.value(0);
    }
    bool exec(const QString &sql) const
    {
        QSqlQuery q(QSqlDatabase::database(name, false));
        return q.exec(sql);
    }
    QString name;
    static inline int counter = 0;
};

} // namespace

class TestLoopStore final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void migratesEmptyDir();
    void migratesSchemaOneFile();
    void migratesSchemaTwoFileKeepingBareIds();
    void refusesNewerSchema();
    void refusesNonDatabase();
    void closedStoreSaysSo();
    void idempotentEvents();
    void olderCopyNeverOverwrites();
    void conflictRule();
    void multiChoice();
    void deletionThroughSnapshot();
    void deletionEvents();
    void tombstonesOutliveOlderPages();
    void removeMissing();
    void pendingAcrossTraining();
    void liveAcceptance();
    void projectRowRoundTrip();
    void versionsAndRuns();
    void concurrentWriters();
    void countsKeptByEveryWrite();
    void migrationKeepsTriggersWhole();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<LoopStore> m_store;
    void openStore()
    {
        m_store = std::make_unique<LoopStore>();
        const auto s = m_store->open(m_dir->path());
        QVERIFY2(s, qPrintable(s.error()));
    }
};

void TestLoopStore::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void TestLoopStore::cleanup()
{
    m_store.reset();
    m_dir.reset();
}

void TestLoopStore::migratesEmptyDir()
{
    const QString sub = m_dir->filePath(QStringLiteral("not/yet/there"));
    LoopStore store;
    const auto s = store.open(sub);
    QVERIFY2(s, qPrintable(s.error()));
    QVERIFY(store.isOpen());
    QVERIFY(QFile::exists(sub + QStringLiteral("/loopdeck.sqlite3")));
    QCOMPARE(store.path(), sub + QStringLiteral("/loopdeck.sqlite3"));
    {
        Peek peek(store.path());
        QCOMPARE(peek.value(QStringLiteral("PRAGMA user_version")).toInt(), loopdeck::store::schema::latestVersion());
        for (const char *table : {"progress_snapshot", "ls_task", "ls_annotation", "loop_project", "loop_version", "loop_run",
                                  "served_prediction", "prediction_acceptance"})
            QVERIFY2(peek.value(QStringLiteral("SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name='%1'")
                                    .arg(QLatin1String(table)))
                             .toInt()
                         == 1,
                     table);
    }
    // Opening again changes nothing and works.
    store.close();
    QVERIFY(!store.isOpen());
    QVERIFY(store.open(sub));
    QVERIFY(store.projects());
    QVERIFY(store.projects()->isEmpty());
}

void TestLoopStore::migratesSchemaOneFile()
{
    // A file of the first LoopDeck: progress snapshots only, user_version 1, one row.
    const QString path = m_dir->filePath(QStringLiteral("loopdeck.sqlite3"));
    {
        Peek peek(path);
        QVERIFY(peek.exec(QStringLiteral(
            "CREATE TABLE progress_snapshot (id INTEGER PRIMARY KEY, server TEXT NOT NULL, project_id INTEGER NOT NULL,"
            " taken_at INTEGER NOT NULL, task_number INTEGER NOT NULL, tasks_with_annotations INTEGER NOT NULL,"
            " total_annotations INTEGER NOT NULL, skipped_annotations INTEGER NOT NULL, total_predictions INTEGER NOT NULL,"
            " finished_tasks INTEGER NOT NULL, useful_annotations INTEGER NOT NULL, ground_truth INTEGER NOT NULL)")));
        QVERIFY(peek.exec(QStringLiteral("CREATE INDEX progress_by_project ON progress_snapshot(server, project_id, taken_at)")));
        QVERIFY(peek.exec(QStringLiteral("INSERT INTO progress_snapshot VALUES (1, 'http://ls', 3, 1000, 10, 5, 6, 1, 0, 5, 5, 0)")));
        QVERIFY(peek.exec(QStringLiteral("PRAGMA user_version=1")));
    }
    openStore();
    {
        Peek peek(path);
        QCOMPARE(peek.value(QStringLiteral("PRAGMA user_version")).toInt(), loopdeck::store::schema::latestVersion());
        QCOMPARE(peek.value(QStringLiteral("SELECT total_annotations FROM progress_snapshot WHERE id = 1")).toInt(), 6);
    }
    const auto applied = m_store->apply(kProject, webhook({taskOf(1, QStringLiteral("good"), {ann(10, 1, {QStringLiteral("Positive")})})}));
    QVERIFY2(applied, qPrintable(applied.error()));
    QCOMPARE(applied.value(), 1);
}

void TestLoopStore::migratesSchemaTwoFileKeepingBareIds()
{
    // A file of the previous main (schema 2, integer project ids) with project 3 in every loop
    // table: after migration 3 every row is there under the key "3".
    const QString path = m_dir->filePath(QStringLiteral("loopdeck.sqlite3"));
    const QString written = legacystore::writeSchemaTwo(path);
    QVERIFY2(written.isEmpty(), qPrintable(written));
    openStore();
    const QString bare = QStringLiteral("3");
    {
        Peek peek(path);
        QCOMPARE(peek.value(QStringLiteral("PRAGMA user_version")).toInt(), loopdeck::store::schema::latestVersion());
        QCOMPARE(peek.value(QStringLiteral("SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name='ls_tombstone'")).toInt(), 1);
        QCOMPARE(peek.value(QStringLiteral("SELECT total_annotations FROM progress_snapshot WHERE id = 1")).toInt(), 3);
        for (const char *table : {"ls_task", "ls_annotation", "loop_project", "loop_version", "loop_run", "served_prediction",
                                  "prediction_acceptance"}) {
            QVERIFY2(peek.value(QStringLiteral("SELECT COUNT(*) FROM %1 WHERE project_key = '3'").arg(QLatin1String(table))).toInt() > 0,
                     table);
            QVERIFY2(peek.value(QStringLiteral("SELECT COUNT(*) FROM %1 WHERE project_key <> '3'").arg(QLatin1String(table))).toInt() == 0,
                     table);
        }
    }
    QCOMPARE(m_store->projects().value(), QStringList{bare});
    const auto row = m_store->project(bare);
    QVERIFY2(row, qPrintable(row.error()));
    QCOMPARE(row->changeSeq, legacystore::kChangeSeq);
    QCOMPARE(row->trainedSeq, legacystore::kTrainedSeq);
    QCOMPARE(row->settings, QByteArray(legacystore::kSettings));
    QCOMPARE(row->schedule, QByteArray(R"({"last_daily":"2025-11-24"})"));
    QCOMPARE(row->labelConfig, QString::fromUtf8(legacystore::kLabelConfig));
    QCOMPARE(row->syncWatermark, QStringLiteral("2025-11-25T10:02:30.000000Z"));
    QCOMPARE(row->lastFullSync.toMSecsSinceEpoch(), 1764064950000);
    const auto counts = m_store->counts(bare);
    QVERIFY(counts);
    QCOMPARE(counts->tasks, legacystore::kTasks);
    QCOMPARE(counts->annotations, legacystore::kAnnotations);
    QCOMPARE(counts->cancelled, legacystore::kCancelled);
    QCOMPARE(m_store->pendingChanges(bare).value(), legacystore::kPending);
    const auto data = m_store->trainingData(bare, kSentiment);
    QVERIFY(data);
    QCOMPARE(examplesByText(data.value()).value(QStringLiteral("a great film")), QStringList{QStringLiteral("Positive")});
    QCOMPARE(examplesByText(data.value()).value(QStringLiteral("an awful film")), QStringList{QStringLiteral("Negative")});
    QCOMPARE(m_store->versions(bare)->size(), 1);
    QCOMPARE(m_store->versions(bare)->at(0).trigger, QStringLiteral("manual"));
    QCOMPARE(m_store->runs(bare, 10)->size(), 1);
    QCOMPARE(m_store->runs(bare, 10)->at(0).outcome, QStringLiteral("trained"));
    QCOMPARE(m_store->acceptance(bare)->value(1).total, 1);
    QCOMPARE(m_store->unlabeledTasks(bare, QStringLiteral("text"))->size(), 1);
    // The loop goes on writing the migrated project; and a new server's project 3 is separate.
    QCOMPARE(m_store->apply(bare, webhook({taskOf(4, QStringLiteral("four"), {ann(14, 4, {QStringLiteral("Positive")})})})).value(), 1);
    QCOMPARE(m_store->counts(bare)->annotations, legacystore::kAnnotations + 1);

    // Adoption under the full key moves every row; a second adoption (another server's key)
    // finds nothing left to take.
    QCOMPARE(m_store->renameProject(bare, kProject).value(), true);
    QCOMPARE(m_store->projects().value(), QStringList{kProject});
    QCOMPARE(m_store->counts(kProject)->annotations, legacystore::kAnnotations + 1);
    QCOMPARE(m_store->project(kProject)->settings, QByteArray(legacystore::kSettings));
    QCOMPARE(m_store->versions(kProject)->size(), 1);
    QCOMPARE(m_store->acceptance(kProject)->value(1).total, 1);
    QCOMPARE(m_store->renameProject(bare, QStringLiteral("3.1764069999")).value(), false);
    QVERIFY(!m_store->project(bare));
    {
        Peek peek(path);
        for (const char *table : {"ls_task", "ls_annotation", "loop_project", "loop_version", "loop_run", "served_prediction",
                                  "prediction_acceptance"})
            QVERIFY2(peek.value(QStringLiteral("SELECT COUNT(*) FROM %1 WHERE project_key <> '%2'").arg(QLatin1String(table), kProject)).toInt() == 0,
                     table);
    }
}

void TestLoopStore::refusesNewerSchema()
{
    openStore();
    const QString path = m_store->path();
    m_store->close();
    const int newer = loopdeck::store::schema::latestVersion() + 1;
    {
        Peek peek(path);
        QVERIFY(peek.exec(QStringLiteral("PRAGMA user_version=%1").arg(newer)));
    }
    LoopStore store;
    const auto s = store.open(m_dir->path());
    QVERIFY(!s);
    QVERIFY2(s.error().contains(QLatin1String("newer")), qPrintable(s.error()));
    QVERIFY2(s.error().contains(QString::number(newer)), qPrintable(s.error()));
    QVERIFY(!store.isOpen());
    QVERIFY(!store.apply(kProject, webhook({taskOf(1, QStringLiteral("x"))})));
    Peek peek(path);
    QCOMPARE(peek.value(QStringLiteral("PRAGMA user_version")).toInt(), newer); // untouched
}

void TestLoopStore::refusesNonDatabase()
{
    QFile f(m_dir->filePath(QStringLiteral("loopdeck.sqlite3")));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(4096, 'x'));
    f.close();
    LoopStore store;
    const auto s = store.open(m_dir->path());
    QVERIFY(!s);
    QVERIFY2(s.error().contains(QLatin1String("loopdeck.sqlite3")), qPrintable(s.error()));
    QVERIFY(!store.isOpen());
}

void TestLoopStore::closedStoreSaysSo()
{
    LoopStore store;
    const auto r = store.apply(kProject, webhook({taskOf(1, QStringLiteral("x"))}));
    QVERIFY(!r);
    QVERIFY(!r.error().isEmpty());
    QVERIFY(!store.markTrained(kProject, 1));
}

void TestLoopStore::idempotentEvents()
{
    openStore();
    const ChangeSet event = webhook({taskOf(1, QStringLiteral("good film"), {ann(10, 1, {QStringLiteral("Positive")})}),
                                     taskOf(2, QStringLiteral("bad film"), {ann(11, 2, {QStringLiteral("Negative")})})});
    auto first = m_store->apply(kProject, event);
    QVERIFY2(first, qPrintable(first.error()));
    QCOMPARE(first.value(), 2);
    QCOMPARE(m_store->pendingChanges(kProject).value(), 2);
    const qint64 seq = m_store->project(kProject)->changeSeq;
    for (int i = 0; i < 3; ++i) {
        auto again = m_store->apply(kProject, event);
        QVERIFY(again);
        QCOMPARE(again.value(), 0);
    }
    QCOMPARE(m_store->pendingChanges(kProject).value(), 2);
    QCOMPARE(m_store->project(kProject)->changeSeq, seq);
    QCOMPARE(m_store->counts(kProject)->annotations, 2);
    // The same annotation from the task list (annotationsComplete) with the same meaning: no change.
    ChangeSet page;
    TaskChange t = taskOf(1, QStringLiteral("good film"), {ann(10, 1, {QStringLiteral("Positive")})});
    t.annotationsComplete = true;
    page.tasks.push_back(t);
    page.snapshotAtMs = QDateTime::currentMSecsSinceEpoch() + 1000;
    QCOMPARE(m_store->apply(kProject, page).value(), 0);
    // A deletion twice counts once.
    ChangeSet del;
    del.deletedAnnotations = {11};
    QCOMPARE(m_store->apply(kProject, del).value(), 1);
    QCOMPARE(m_store->apply(kProject, del).value(), 0);
    QCOMPARE(m_store->pendingChanges(kProject).value(), 2); // one insert left + one deletion
}

void TestLoopStore::olderCopyNeverOverwrites()
{
    openStore();
    QCOMPARE(m_store->apply(kProject, webhook({taskOf(1, QStringLiteral("fine"), {ann(10, 1, {QStringLiteral("Negative")}, kT0 + 2000)})}))
                 .value(),
             1);
    // A reconcile page or a late webhook carrying the older version of the same annotation.
    QCOMPARE(m_store->apply(kProject, webhook({taskOf(1, QStringLiteral("fine"), {ann(10, 1, {QStringLiteral("Positive")}, kT0 + 1000)})}))
                 .value(),
             0);
    auto data = m_store->trainingData(kProject, kSentiment);
    QVERIFY(data);
    QCOMPARE(examplesByText(data.value()).value(QStringLiteral("fine")), QStringList{QStringLiteral("Negative")});
    // The same time (an update within the same ms) and a newer one do change it.
    QCOMPARE(m_store->apply(kProject, webhook({taskOf(1, QStringLiteral("fine"), {ann(10, 1, {QStringLiteral("Positive")}, kT0 + 3000)})}))
                 .value(),
             1);
    data = m_store->trainingData(kProject, kSentiment);
    QCOMPARE(examplesByText(data.value()).value(QStringLiteral("fine")), QStringList{QStringLiteral("Positive")});
}

void TestLoopStore::conflictRule()
{
    openStore();
    const QString P = QStringLiteral("Positive"), N = QStringLiteral("Negative");
    std::vector<TaskChange> tasks;
    // most recent wins
    tasks.push_back(taskOf(1, QStringLiteral("t1 recent"), {ann(101, 1, {P}, kT0 + 1), ann(102, 1, {N}, kT0 + 2)}));
    // ground truth wins over a more recent one
    tasks.push_back(taskOf(2, QStringLiteral("t2 ground truth"), {ann(201, 2, {P}, kT0 + 1, false, true), ann(202, 2, {N}, kT0 + 9)}));
    // only a skip: not an example
    tasks.push_back(taskOf(3, QStringLiteral("t3 skipped"), {ann(301, 3, {}, kT0 + 1, true)}));
    // a newer skip does not hide an older answer
    tasks.push_back(taskOf(4, QStringLiteral("t4 answer then skip"), {ann(401, 4, {N}, kT0 + 1), ann(402, 4, {}, kT0 + 5, true)}));
    // a label the config does not have: dropped, counted
    tasks.push_back(taskOf(5, QStringLiteral("t5 neutral"), {ann(501, 5, {QStringLiteral("Neutral")})}));
    // one allowed label left of two: kept with it
    tasks.push_back(taskOf(6, QStringLiteral("t6 mixed"), {ann(601, 6, {P, QStringLiteral("Meh")})}));
    // no text under the data key
    TaskChange noText = taskOf(7, QString(), {ann(701, 7, {P})});
    noText.dataJson = R"({"image": "x.png"})";
    tasks.push_back(noText);
    // the newest annotation does not answer this target; the older one does
    AnnotationChange other = ann(802, 8, {P}, kT0 + 9);
    other.resultJson = resultOf({P}, "other_control");
    tasks.push_back(taskOf(8, QStringLiteral("t8 other control"), {ann(801, 8, {N}, kT0 + 1), other}));
    // two labels for a single-choice target
    tasks.push_back(taskOf(9, QStringLiteral("t9 both"), {ann(901, 9, {P, N})}));
    QVERIFY(m_store->apply(kProject, webhook(tasks)));

    const auto data = m_store->trainingData(kProject, kSentiment);
    QVERIFY2(data, qPrintable(data.error()));
    const auto ex = examplesByText(data.value());
    QCOMPARE(ex.value(QStringLiteral("t1 recent")), QStringList{N});
    QCOMPARE(ex.value(QStringLiteral("t2 ground truth")), QStringList{P});
    QVERIFY(!ex.contains(QStringLiteral("t3 skipped")));
    QCOMPARE(ex.value(QStringLiteral("t4 answer then skip")), QStringList{N});
    QVERIFY(!ex.contains(QStringLiteral("t5 neutral")));
    QCOMPARE(ex.value(QStringLiteral("t6 mixed")), QStringList{P});
    QCOMPARE(ex.value(QStringLiteral("t8 other control")), QStringList{N});
    QVERIFY(!ex.contains(QStringLiteral("t9 both")));
    QCOMPARE(data->examples.size(), 5);
    QCOMPARE(data->cancelled, 2);
    QCOMPARE(data->droppedLabels, 2);   // Neutral, Meh
    QCOMPARE(data->droppedExamples, 2); // t5 (nothing left), t9 (two labels, single choice)
    QCOMPARE(data->withoutText, 1);
    QCOMPARE(data->tasksWithAnnotations, 8); // all but the skip-only task
    QCOMPARE(data->changeSeq, m_store->project(kProject)->changeSeq);

    // With no choice list every label counts (but still one per single-choice task).
    TargetSpec any = kSentiment;
    any.choices.clear();
    const auto all = m_store->trainingData(kProject, any);
    QCOMPARE(examplesByText(all.value()).value(QStringLiteral("t5 neutral")), QStringList{QStringLiteral("Neutral")});
    QCOMPARE(all->droppedLabels, 0);

    // The ground-truth flag moving to another annotation moves the winner.
    QVERIFY(m_store->apply(kProject, webhook({taskOf(2, QStringLiteral("t2 ground truth"),
                                                     {ann(201, 2, {P}, kT0 + 20, false, false), ann(202, 2, {N}, kT0 + 21, false, true)})})));
    QCOMPARE(examplesByText(m_store->trainingData(kProject, kSentiment).value()).value(QStringLiteral("t2 ground truth")),
             QStringList{N});
}

void TestLoopStore::multiChoice()
{
    openStore();
    const TargetSpec topics{QStringLiteral("sentiment"), QStringLiteral("text"),
                            {QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}, true};
    QVERIFY(m_store->apply(kProject, webhook({taskOf(1, QStringLiteral("two"), {ann(1, 1, {QStringLiteral("a"), QStringLiteral("c")})}),
                                              taskOf(2, QStringLiteral("one"), {ann(2, 2, {QStringLiteral("b")})}),
                                              taskOf(3, QStringLiteral("dup"), {ann(3, 3, {QStringLiteral("b"), QStringLiteral("b")})}),
                                              taskOf(4, QStringLiteral("partly unknown"),
                                                     {ann(4, 4, {QStringLiteral("a"), QStringLiteral("zzz")})})})));
    const auto data = m_store->trainingData(kProject, topics);
    QVERIFY(data);
    const auto ex = examplesByText(data.value());
    QCOMPARE(ex.value(QStringLiteral("two")), (QStringList{QStringLiteral("a"), QStringLiteral("c")}));
    QCOMPARE(ex.value(QStringLiteral("one")), QStringList{QStringLiteral("b")});
    QCOMPARE(ex.value(QStringLiteral("dup")), QStringList{QStringLiteral("b")});
    QCOMPARE(ex.value(QStringLiteral("partly unknown")), QStringList{QStringLiteral("a")});
    QCOMPARE(data->droppedLabels, 1);
    QCOMPARE(data->droppedExamples, 0);
}

void TestLoopStore::deletionThroughSnapshot()
{
    openStore();
    // A reconcile page was requested a minute ago; meanwhile a webhook brought annotation 20.
    const qint64 pageRequested = QDateTime::currentMSecsSinceEpoch() - 60000;
    QVERIFY(m_store->apply(kProject, webhook({taskOf(1, QStringLiteral("a"), {ann(20, 1, {QStringLiteral("Positive")})})})));
    ChangeSet stale;
    stale.snapshotAtMs = pageRequested;
    TaskChange listed = taskOf(1, QStringLiteral("a"));
    listed.annotationsComplete = true; // the page says: task 1 has no annotations
    stale.tasks.push_back(listed);
    QCOMPARE(m_store->apply(kProject, stale).value(), 0);
    QCOMPARE(m_store->counts(kProject)->annotations, 1); // not undone by the older page

    // A page requested after the webhook does delete it (it was deleted in Label Studio).
    ChangeSet fresh = stale;
    fresh.snapshotAtMs = QDateTime::currentMSecsSinceEpoch() + 1000;
    QCOMPARE(m_store->apply(kProject, fresh).value(), 1);
    QCOMPARE(m_store->counts(kProject)->annotations, 0);
    QCOMPARE(m_store->pendingChanges(kProject).value(), 1); // the deletion (the row itself is gone)
}

void TestLoopStore::deletionEvents()
{
    openStore();
    QVERIFY(m_store->apply(kProject, webhook({taskOf(1, QStringLiteral("a"), {ann(1, 1, {QStringLiteral("Positive")}),
                                                                                ann(2, 1, {QStringLiteral("Negative")})}),
                                              taskOf(2, QStringLiteral("b"), {ann(3, 2, {QStringLiteral("Positive")})}),
                                              taskOf(3, QStringLiteral("c"))})));
    ChangeSet delTask;
    delTask.deletedTasks = {1};
    QCOMPARE(m_store->apply(kProject, delTask).value(), 2); // its two annotations
    QCOMPARE(m_store->counts(kProject)->tasks, 2);
    ChangeSet delAnn;
    delAnn.deletedAnnotations = {3, 999};
    QCOMPARE(m_store->apply(kProject, delAnn).value(), 1);
    QCOMPARE(m_store->counts(kProject)->annotations, 0);
    const auto unlabeled = m_store->unlabeledTasks(kProject, QStringLiteral("text"));
    QVERIFY(unlabeled);
    QCOMPARE(unlabeled->size(), 2);
    QCOMPARE(m_store->allTexts(kProject, QStringLiteral("text")).value(), (QStringList{QStringLiteral("b"), QStringLiteral("c")}));
}

void TestLoopStore::tombstonesOutliveOlderPages()
{
    openStore();
    QVERIFY(m_store->apply(kProject, webhook({taskOf(1, QStringLiteral("a"), {ann(11, 1, {QStringLiteral("Positive")}),
                                                                                ann(12, 1, {QStringLiteral("Negative")})}),
                                              taskOf(2, QStringLiteral("b"), {ann(21, 2, {QStringLiteral("Positive")})})})));
    // A reconcile page is requested; then webhooks report annotation 11 and task 2 deleted.
    const qint64 pageRequested = QDateTime::currentMSecsSinceEpoch() - 60000;
    ChangeSet deleted;
    deleted.action = QStringLiteral("ANNOTATIONS_DELETED");
    deleted.deletedAnnotations = {11};
    QCOMPARE(m_store->apply(kProject, deleted).value(), 1);
    deleted.action = QStringLiteral("TASKS_DELETED");
    deleted.deletedAnnotations.clear();
    deleted.deletedTasks = {2};
    QCOMPARE(m_store->apply(kProject, deleted).value(), 1);
    QCOMPARE(m_store->counts(kProject)->annotations, 1);
    QCOMPARE(m_store->counts(kProject)->tasks, 1);
    const qint64 pendingAfterDelete = m_store->pendingChanges(kProject).value();

    // The page (answered from before the deletes) still lists both, complete with annotations.
    const auto page = [&](qint64 snapshotAtMs) {
        ChangeSet c;
        c.snapshotAtMs = snapshotAtMs;
        TaskChange one = taskOf(1, QStringLiteral("a"), {ann(11, 1, {QStringLiteral("Positive")}), ann(12, 1, {QStringLiteral("Negative")})});
        one.annotationsComplete = true;
        TaskChange two = taskOf(2, QStringLiteral("b"), {ann(21, 2, {QStringLiteral("Positive")})});
        two.annotationsComplete = true;
        c.tasks = {one, two};
        return c;
    };
    const auto stale = m_store->apply(kProject, page(pageRequested));
    QVERIFY2(stale, qPrintable(stale.error()));
    QCOMPARE(stale.value(), 0);
    QCOMPARE(m_store->counts(kProject)->annotations, 1); // 11 stays deleted
    QCOMPARE(m_store->counts(kProject)->tasks, 1);       // task 2 stays deleted
    QCOMPARE(m_store->pendingChanges(kProject).value(), pendingAfterDelete);
    QCOMPARE(examplesByText(m_store->trainingData(kProject, kSentiment).value()).keys(), QStringList{QStringLiteral("a")});
    QCOMPARE(examplesByText(m_store->trainingData(kProject, kSentiment).value()).value(QStringLiteral("a")),
             QStringList{QStringLiteral("Negative")});
    // Another server's project 1 with the same ids is not buried by these tombstones.
    const QString other = QStringLiteral("3.1764069999");
    QCOMPARE(m_store->apply(other, page(pageRequested)).value(), 3);
    QCOMPARE(m_store->counts(other)->tasks, 2);

    // A page requested after the deletes that lists them: Label Studio has them (again), so
    // they come back.
    const auto fresh = m_store->apply(kProject, page(QDateTime::currentMSecsSinceEpoch() + 1000));
    QVERIFY2(fresh, qPrintable(fresh.error()));
    QCOMPARE(fresh.value(), 2);
    QCOMPARE(m_store->counts(kProject)->annotations, 3);
    QCOMPARE(m_store->counts(kProject)->tasks, 2);
}

void TestLoopStore::removeMissing()
{
    openStore();
    std::vector<TaskChange> tasks;
    for (qint64 id = 1; id <= 5; ++id)
        tasks.push_back(taskOf(id, QStringLiteral("task %1").arg(id), {ann(100 + id, id, {QStringLiteral("Positive")})}));
    QVERIFY(m_store->apply(kProject, webhook(tasks)));
    // A listing that started before these were heard of deletes nothing.
    const auto early = m_store->removeMissing(kProject, {1}, QDateTime::currentMSecsSinceEpoch() - 60000);
    QVERIFY(early);
    QCOMPARE(early.value(), 0);
    QCOMPARE(m_store->counts(kProject)->tasks, 5);
    // A listing that started after: tasks 4 and 5 are gone in Label Studio.
    const auto removed = m_store->removeMissing(kProject, {1, 2, 3}, QDateTime::currentMSecsSinceEpoch() + 1000);
    QVERIFY2(removed, qPrintable(removed.error()));
    QCOMPARE(removed.value(), 2);
    QCOMPARE(m_store->counts(kProject)->tasks, 3);
    QCOMPARE(m_store->counts(kProject)->annotations, 3);
    // Another server's project 3 (another creation time) is not touched.
    const QString other = QStringLiteral("3.1764065999");
    QVERIFY(m_store->apply(other, webhook({taskOf(1, QStringLiteral("other"), {ann(1, 1, {QStringLiteral("Positive")})})})));
    QCOMPARE(m_store->removeMissing(kProject, {}, QDateTime::currentMSecsSinceEpoch() + 1000).value(), 3);
    QCOMPARE(m_store->counts(other)->annotations, 1);
    QCOMPARE(m_store->counts(other)->tasks, 1);
    QCOMPARE(m_store->projects().value(), (QStringList{kProject, other}));
}

void TestLoopStore::pendingAcrossTraining()
{
    openStore();
    std::vector<TaskChange> tasks;
    for (qint64 id = 1; id <= 5; ++id)
        tasks.push_back(taskOf(id, QStringLiteral("task %1").arg(id), {ann(id, id, {QStringLiteral("Positive")})}));
    QVERIFY(m_store->apply(kProject, webhook(tasks)));
    QCOMPARE(m_store->pendingChanges(kProject).value(), 5);
    // The trainer reads the data ...
    const auto data = m_store->trainingData(kProject, kSentiment);
    QVERIFY(data);
    // ... while it trains two annotations arrive and one is changed.
    QVERIFY(m_store->apply(kProject, webhook({taskOf(6, QStringLiteral("six"), {ann(6, 6, {QStringLiteral("Negative")})}),
                                              taskOf(7, QStringLiteral("seven"), {ann(7, 7, {QStringLiteral("Negative")})}),
                                              taskOf(1, QStringLiteral("task 1"), {ann(1, 1, {QStringLiteral("Negative")}, kT0 + 5)})})));
    QCOMPARE(m_store->pendingChanges(kProject).value(), 7); // 5 + 2 new; the change of 1 is not a new row
    QVERIFY(m_store->markTrained(kProject, data->changeSeq));
    QCOMPARE(m_store->pendingChanges(kProject).value(), 3); // what arrived during training stays pending

    const auto second = m_store->trainingData(kProject, kSentiment);
    QVERIFY(m_store->markTrained(kProject, second->changeSeq));
    QCOMPARE(m_store->pendingChanges(kProject).value(), 0);

    // Deletions count as changes; one during a training stays pending after it.
    ChangeSet del;
    del.deletedAnnotations = {2};
    QCOMPARE(m_store->apply(kProject, del).value(), 1);
    QCOMPARE(m_store->pendingChanges(kProject).value(), 1);
    const auto third = m_store->trainingData(kProject, kSentiment);
    del.deletedAnnotations = {3};
    QCOMPARE(m_store->apply(kProject, del).value(), 1);
    QVERIFY(m_store->markTrained(kProject, third->changeSeq));
    QVERIFY2(m_store->pendingChanges(kProject).value() >= 1, "a deletion during training was forgotten");
    const auto fourth = m_store->trainingData(kProject, kSentiment);
    QVERIFY(m_store->markTrained(kProject, fourth->changeSeq));
    QCOMPARE(m_store->pendingChanges(kProject).value(), 0);
    QCOMPARE(m_store->project(kProject)->trainedSeq, fourth->changeSeq);
}

void TestLoopStore::liveAcceptance()
{
    openStore();
    QVERIFY(m_store->apply(kProject, webhook({taskOf(1, QStringLiteral("a")), taskOf(2, QStringLiteral("b")), taskOf(3, QStringLiteral("c")),
                                              taskOf(4, QStringLiteral("d"))})));
    const auto P = QStringLiteral("Positive"), N = QStringLiteral("Negative");
    QVERIFY(m_store->recordServed(kProject, 2, {{1, {P}}, {2, {N}}, {3, {P}}}));
    QVERIFY(m_store->recordServed(kProject, 3, {{3, {N}}})); // the newest prediction of task 3 is v3's
    const loopdeck::store::LabelReader reader = [](const std::string &result) {
        QStringList labels;
        const auto j = nlohmann::json::parse(result, nullptr, false);
        if (j.is_array())
            for (const auto &r : j)
                for (const auto &c : r["value"]["choices"])
                    labels << QString::fromStdString(c.get<std::string>());
        labels.sort();
        return labels;
    };
    QVERIFY(m_store->apply(kProject, webhook({taskOf(1, QStringLiteral("a"), {ann(11, 1, {P})}),     // v2 accepted
                                              taskOf(2, QStringLiteral("b"), {ann(12, 2, {P})}),     // v2 not accepted
                                              taskOf(3, QStringLiteral("c"), {ann(13, 3, {N})}),     // v3 accepted
                                              taskOf(4, QStringLiteral("d"), {ann(14, 4, {P})})}),   // never predicted
                           reader));
    // A skip and a change of an answered task do not count again.
    QVERIFY(m_store->apply(kProject, webhook({taskOf(1, QStringLiteral("a"), {ann(11, 1, {N}, kT0 + 9), ann(15, 1, {}, kT0, true)})}), reader));
    const auto acc = m_store->acceptance(kProject);
    QVERIFY2(acc, qPrintable(acc.error()));
    QCOMPARE(acc->size(), 2);
    QCOMPARE(acc->value(2).accepted, 1);
    QCOMPARE(acc->value(2).total, 2);
    QCOMPARE(acc->value(2).rate(), 0.5);
    QCOMPARE(acc->value(3).accepted, 1);
    QCOMPARE(acc->value(3).total, 1);
    // Forgetting a version drops what it served.
    QVERIFY(m_store->forgetVersion(kProject, 3));
    QVERIFY(m_store->apply(kProject, webhook({taskOf(3, QStringLiteral("c"), {ann(16, 3, {N})})}), reader));
    QCOMPARE(m_store->acceptance(kProject)->value(2).total, 3); // task 3's older v2 prediction now counts
}

void TestLoopStore::projectRowRoundTrip()
{
    openStore();
    QVERIFY(!m_store->project(kProject)); // unknown project: a sentence
    QVERIFY(m_store->project(kProject).error().contains(kProject));
    QCOMPARE(m_store->ensureProject(kProject).value(), true);
    QCOMPARE(m_store->ensureProject(kProject).value(), false);
    QVERIFY(m_store->setSettings(kProject, R"({"train_every":5})"));
    QVERIFY(m_store->setSchedule(kProject, R"({"last_daily":"2026-11-24"})"));
    QVERIFY(m_store->setLabelConfig(kProject, QStringLiteral("<View/>")));
    QVERIFY(m_store->setLastError(kProject, QStringLiteral("Something failed.")));
    const QDateTime when = QDateTime(QDate(2026, 11, 25), QTime(8, 0), Qt::UTC);
    QVERIFY(m_store->setSyncState(kProject, when, true, QStringLiteral("2026-11-25T07:59:00.123456Z")));
    QVERIFY(m_store->setSyncState(kProject, when.addSecs(60), false, QStringLiteral("2026-11-25T08:00:30Z")));
    const auto row = m_store->project(kProject);
    QVERIFY(row);
    QCOMPARE(row->settings, QByteArray(R"({"train_every":5})"));
    QCOMPARE(row->schedule, QByteArray(R"({"last_daily":"2026-11-24"})"));
    QCOMPARE(row->labelConfig, QStringLiteral("<View/>"));
    QCOMPARE(row->lastError, QStringLiteral("Something failed."));
    QCOMPARE(row->lastFullSync, when);
    QCOMPARE(row->lastSync, when.addSecs(60));
    QCOMPARE(row->syncWatermark, QStringLiteral("2026-11-25T08:00:30Z"));
    // It survives closing and opening again.
    m_store.reset();
    openStore();
    QCOMPARE(m_store->project(kProject)->settings, QByteArray(R"({"train_every":5})"));
    // Clearing with a null string (the engine after a success, a sync of an empty project with
    // no watermark) is stored as "" (every column is NOT NULL).
    const auto cleared = m_store->setLastError(kProject, QString());
    QVERIFY2(cleared, qPrintable(cleared.error()));
    QCOMPARE(m_store->project(kProject)->lastError, QString());
    const auto synced = m_store->setSyncState(kProject, when.addSecs(120), true, QString());
    QVERIFY2(synced, qPrintable(synced.error()));
    QCOMPARE(m_store->project(kProject)->lastFullSync, when.addSecs(120));
    QCOMPARE(m_store->project(kProject)->syncWatermark, QString());
}

void TestLoopStore::versionsAndRuns()
{
    openStore();
    const QDateTime t = QDateTime(QDate(2026, 11, 25), QTime(9, 0), Qt::UTC);
    QVERIFY(m_store->recordVersion(kProject, {1, t, QStringLiteral("threshold"), 50, R"({"accuracy":0.9})"}));
    QVERIFY(m_store->recordVersion(kProject, {2, t.addSecs(60), QStringLiteral("manual"), 60, R"({"accuracy":0.8})"}));
    QVERIFY(m_store->recordVersion(kProject, {2, t.addSecs(61), QStringLiteral("manual"), 61, R"({"accuracy":0.85})"}));
    auto v = m_store->versions(kProject);
    QVERIFY(v);
    QCOMPARE(v->size(), 2);
    QCOMPARE(v->at(0).trigger, QStringLiteral("threshold"));
    QCOMPARE(v->at(0).created, t);
    QCOMPARE(v->at(1).examples, 61);
    QCOMPARE(v->at(1).metrics, QByteArray(R"({"accuracy":0.85})"));
    QVERIFY(m_store->forgetVersion(kProject, 1));
    QCOMPARE(m_store->versions(kProject)->size(), 1);

    for (int i = 0; i < 3; ++i) {
        loopdeck::store::RunRecord r;
        r.trigger = QStringLiteral("manual");
        r.started = t.addSecs(i);
        r.finished = t.addSecs(i + 1);
        r.outcome = i == 1 ? QStringLiteral("failed") : QStringLiteral("trained");
        r.message = QStringLiteral("run %1").arg(i);
        QCOMPARE(m_store->recordRun(kProject, r).value(), i + 1);
    }
    const auto runs = m_store->runs(kProject, 2);
    QVERIFY(runs);
    QCOMPARE(runs->size(), 2);
    QCOMPARE(runs->at(0).runNo, 2); // the last two, oldest first
    QCOMPARE(runs->at(0).outcome, QStringLiteral("failed"));
    QCOMPARE(runs->at(1).message, QStringLiteral("run 2"));
}

void TestLoopStore::concurrentWriters()
{
    openStore();
    constexpr int kThreads = 8;
    constexpr int kEventsPerThread = 40;
    QThreadPool pool;
    pool.setMaxThreadCount(kThreads);
    std::atomic<int> failures{0};
    std::atomic<int> changed{0};
    QStringList errors;
    std::mutex errorsMutex;
    LoopStore *store = m_store.get();
    for (int t = 0; t < kThreads; ++t) {
        pool.start([&, t] {
            for (int i = 0; i < kEventsPerThread; ++i) {
                const qint64 task = qint64(t) * 1000 + i + 1;
                const auto r = store->apply(kProject, webhook({taskOf(task, QStringLiteral("text %1").arg(task),
                                                                      {ann(task, task, {i % 2 ? QStringLiteral("Positive") : QStringLiteral("Negative")})})}));
                if (!r) {
                    ++failures;
                    std::lock_guard lock(errorsMutex);
                    errors << r.error();
                } else {
                    changed += r.value();
                }
                // Readers in between, as /loop/status and the trainer do.
                if (i % 10 == 0 && (!store->pendingChanges(kProject) || !store->trainingData(kProject, kSentiment)))
                    ++failures;
            }
        });
    }
    pool.waitForDone();
    QVERIFY2(failures.load() == 0, qPrintable(errors.join(QLatin1Char('\n'))));
    QCOMPARE(changed.load(), kThreads * kEventsPerThread);
    QCOMPARE(m_store->counts(kProject)->annotations, kThreads * kEventsPerThread);
    QCOMPARE(m_store->counts(kProject)->tasks, kThreads * kEventsPerThread);
    QCOMPARE(m_store->pendingChanges(kProject).value(), kThreads * kEventsPerThread);
    QCOMPARE(m_store->project(kProject)->changeSeq, kThreads * kEventsPerThread);
    QCOMPARE(m_store->trainingData(kProject, kSentiment)->examples.size(), kThreads * kEventsPerThread);
}

void TestLoopStore::countsKeptByEveryWrite()
{
    // The counts /loop/status shows are kept by triggers, not counted: after every kind of
    // write, on two projects, they equal the rows (a fixed seed, so a failure replays).
    openStore();
    const QString path = m_dir->filePath(QStringLiteral("loopdeck.sqlite3"));
    QString keys[2] = {QStringLiteral("7"), QStringLiteral("8.1764064800")};
    QRandomGenerator rng(20261203);
    const auto check = [&](int step) {
        Peek peek(path);
        for (const QString &key : keys) {
            const auto kept = m_store->counts(key);
            QVERIFY2(kept, qPrintable(kept.error()));
            const QString where = QStringLiteral("project_key = '%1'").arg(key);
            const auto rows = [&](const QString &sql) { return peek.value(sql.arg(where)).toLongLong(); };
            const QByteArray what = QStringLiteral("step %1, project %2").arg(step).arg(key).toUtf8();
            QVERIFY2(kept->tasks == rows(QStringLiteral("SELECT COUNT(*) FROM ls_task WHERE %1")), what.constData());
            QVERIFY2(kept->annotations == rows(QStringLiteral("SELECT COUNT(*) FROM ls_annotation WHERE %1 AND cancelled = 0")),
                     what.constData());
            QVERIFY2(kept->cancelled == rows(QStringLiteral("SELECT COUNT(*) FROM ls_annotation WHERE %1 AND cancelled <> 0")),
                     what.constData());
        }
    };
    qint64 time = kT0;
    int nonZero = 0;
    for (int step = 0; step < 400; ++step) {
        const QString key = keys[rng.bounded(2)];
        const qint64 task = 1 + rng.bounded(30);
        ChangeSet c;
        switch (rng.bounded(7)) {
        case 0: // an annotation's webhook, new or an edit (it may flip cancelled)
        case 1: {
            const bool cancelled = rng.bounded(4) == 0;
            c = webhook({taskOf(task, QStringLiteral("t%1").arg(task),
                                {ann(1000 * task + rng.bounded(4), task, {QStringLiteral("Positive")}, time += 1000, cancelled)})});
            break;
        }
        case 2: // a reconcile page: the task's complete list (others of it are deleted)
            c.snapshotAtMs = (time += 1000);
            c.tasks.push_back(taskOf(task, QStringLiteral("t%1").arg(task),
                                     {ann(1000 * task + rng.bounded(4), task, {QStringLiteral("Negative")}, time, rng.bounded(3) == 0)}));
            c.tasks.back().annotationsComplete = true;
            break;
        case 3: // a task without annotations
            c.snapshotAtMs = (time += 1000);
            c.tasks.push_back(taskOf(task, QStringLiteral("t%1").arg(task)));
            break;
        case 4:
            c.action = QStringLiteral("ANNOTATIONS_DELETED");
            c.deletedAnnotations.push_back(1000 * task + rng.bounded(4));
            break;
        case 5:
            c.action = QStringLiteral("TASKS_DELETED");
            c.deletedTasks.push_back(task);
            break;
        case 6: { // a full reconcile's end: tasks not listed go
            QSet<qint64> live;
            for (qint64 t = 1; t <= 30; ++t)
                if (rng.bounded(4) != 0)
                    live.insert(t);
            const auto removed = m_store->removeMissing(key, live, time += 1000);
            QVERIFY2(removed, qPrintable(removed.error()));
            check(step);
            continue;
        }
        }
        const auto applied = m_store->apply(key, c);
        QVERIFY2(applied, qPrintable(applied.error()));
        check(step);
        if (QTest::currentTestFailed())
            return;
        nonZero += m_store->counts(key)->annotations > 0 ? 1 : 0;
    }
    QVERIFY(nonZero > 50); // the walk did fill the projects
    // Adoption moves the rows and their counts to the full key.
    const auto moved = m_store->renameProject(keys[0], QStringLiteral("7.1764064800"));
    QVERIFY2(moved && moved.value(), "the bare-id project was not renamed");
    keys[0] = QStringLiteral("7.1764064800");
    check(-1);
    QCOMPARE(m_store->counts(QStringLiteral("7"))->tasks, 0);
}

void TestLoopStore::migrationKeepsTriggersWhole()
{
    const QStringList statements = loopdeck::store::schema::splitStatements(
        QStringLiteral("CREATE TABLE a (x INT);CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET n = n + 1;"
                       " DELETE FROM c; END;INSERT INTO a VALUES (1);"));
    QCOMPARE(statements.size(), 3);
    QCOMPARE(statements.at(0).trimmed(), QStringLiteral("CREATE TABLE a (x INT)"));
    QCOMPARE(statements.at(1).trimmed(),
             QStringLiteral("CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET n = n + 1; DELETE FROM c; END"));
    QCOMPARE(statements.at(2).trimmed(), QStringLiteral("INSERT INTO a VALUES (1)"));
}

QTEST_GUILESS_MAIN(TestLoopStore)
#include "tst_loopstore.moc"
