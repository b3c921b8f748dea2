// The loop store on a real PostgreSQL (the ctest fixture of tests/replicas), as replicas use it:
// migrations run once while several stores open at the same time; the same writes give the same
// answers as on SQLite (a seeded random walk applied to both); two stores (two replicas) writing
// one project lose nothing and keep one change counter; model files keep their checksum, a
// damaged file is refused and a damaged local copy is fetched again; an activation reaches
// another replica's listener; one training claim per project, and a claim whose replica went
// away is found and taken over.
#include "core/backend/modelregistry.h"
#include "core/backend/predictionservice.h"
#include "core/loop/sharedmodels.h"
#include "core/model/textclassifier.h"
#include "core/store/loopstore.h"
#include "core/store/schema.h"
#include "pgtesting.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QThreadPool>

#include <nlohmann/json.hpp>

#include <atomic>
#include <mutex>

using loopdeck::backend::ModelRegistry;
using loopdeck::backend::NewModelVersion;
using loopdeck::backend::PredictionService;
using loopdeck::loop::SharedModels;
using loopdeck::model::Example;
using loopdeck::model::TextClassifier;
using loopdeck::store::AnnotationChange;
using loopdeck::store::ChangeSet;
using loopdeck::store::LoopStore;
using loopdeck::store::TargetSpec;
using loopdeck::store::TaskChange;
using namespace loopdeck::testing;

namespace {

const QString kProject = QStringLiteral("3.1764064800");
const qint64 kT0 = QDateTime(QDate(2026, 12, 4), QTime(10, 0), Qt::UTC).toMSecsSinceEpoch();
const TargetSpec kSentiment{QStringLiteral("sentiment"), QStringLiteral("text"),
                            {QStringLiteral("Positive"), QStringLiteral("Negative")}, false};

AnnotationChange ann(qint64 id, qint64 task, const QString &label, qint64 updatedAt, bool cancelled = false)
{
    AnnotationChange a;
    a.id = id;
    a.taskId = task;
    a.resultJson = cancelled ? std::string("[]")
                             : nlohmann::json::array({nlohmann::json{{"from_name", "sentiment"},
                                                                     {"to_name", "text"},
                                                                     {"type", "choices"},
                                                                     {"value", {{"choices", {label.toStdString()}}}}}})
                                   .dump();
    a.cancelled = cancelled;
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

std::shared_ptr<const TextClassifier> tinyModel(bool inverted)
{
    const QString pos = inverted ? QStringLiteral("Negative") : QStringLiteral("Positive");
    const QString neg = inverted ? QStringLiteral("Positive") : QStringLiteral("Negative");
    QList<Example> examples;
    for (const char *t : {"good great excellent", "great movie, loved it", "excellent and good", "good good good"})
        examples.append(Example{QString::fromUtf8(t), {pos}});
    for (const char *t : {"bad awful terrible", "awful movie, hated it", "terrible and bad", "bad bad bad"})
        examples.append(Example{QString::fromUtf8(t), {neg}});
    QString error;
    auto model = TextClassifier::train(examples, {}, &error);
    if (!model)
        qFatal("cannot train the test model: %s", qPrintable(error));
    return model;
}

// Everything a reader of the store sees of one project, as one comparable text.
QString observed(LoopStore &store, const QString &key)
{
    QStringList out;
    const auto counts = store.counts(key);
    out << (counts ? QStringLiteral("counts %1 %2 %3").arg(counts->tasks).arg(counts->annotations).arg(counts->cancelled)
                   : QStringLiteral("counts error"));
    const auto pending = store.pendingChanges(key);
    out << QStringLiteral("pending %1").arg(pending ? pending.value() : -1);
    if (const auto data = store.trainingData(key, kSentiment); data) {
        QStringList examples;
        for (int i = 0; i < data->examples.size(); ++i)
            examples << QStringLiteral("%1=%2@%3").arg(data->exampleTasks.at(i)).arg(data->examples.at(i).labels.join(u'|'))
                            .arg(data->exampleSeqs.at(i));
        out << QStringLiteral("examples %1 cancelled %2 withAnnotations %3").arg(examples.join(u',')).arg(data->cancelled)
                   .arg(data->tasksWithAnnotations);
    } else {
        out << QStringLiteral("training data error");
    }
    if (const auto unlabeled = store.unlabeledTasks(key, QStringLiteral("text")); unlabeled) {
        QStringList ids;
        for (const auto &t : unlabeled.value())
            ids << QString::number(t.taskId);
        out << QStringLiteral("unlabeled ") + ids.join(u',');
    }
    if (const auto signatures = store.taskSignatures(key); signatures) {
        QStringList rows;
        for (auto it = signatures->cbegin(); it != signatures->cend(); ++it)
            rows << QStringLiteral("%1:%2:%3:%4").arg(it.key()).arg(it->updatedAtMs).arg(it->annotations).arg(it->cancelled);
        rows.sort();
        out << QStringLiteral("signatures ") + rows.join(u',');
    }
    return out.join(u'\n');
}

} // namespace

class TestSharedStore final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void refusesWhatIsNotPostgres();
    void migratesOnceWhenReplicasStartTogether();
    void answersLikeSqlite();
    void twoReplicasWriteOneProject();
    void modelFilesKeepTheirChecksum();
    void activationReachesTheOtherReplica();
    void oneClaimPerProjectAndTakeOver();
    void explicitClaimRecordsTheReplica();
    void oneReplicaLeadsTheSync();
    void brokenSessionIsRenewed();

private:
    QString m_url; // a fresh database per case
};

void TestSharedStore::initTestCase()
{
    QVERIFY2(!pgAdminUrl().isEmpty(), "no PostgreSQL: run through ctest (fixture PG) or set LOOPDECK_PG_ADMIN_URL");
    QVERIFY2(QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL")), "Qt's QPSQL driver is missing (libqt6sql6-psql)");
}

void TestSharedStore::refusesWhatIsNotPostgres()
{
    LoopStore store;
    QTemporaryDir dir;
    const auto s = store.open(dir.path(), QStringLiteral("mysql://x@y/z"));
    QVERIFY(!s);
    QVERIFY2(s.error().contains(QLatin1String("not a PostgreSQL URL")), qPrintable(s.error()));
    // A server that is not there: a sentence naming it, without the password.
    const auto dead = store.open(dir.path(), QStringLiteral("postgresql://u:secret@127.0.0.1:1/db"));
    QVERIFY(!dead);
    QVERIFY2(dead.error().contains(QLatin1String("127.0.0.1:1/db")), qPrintable(dead.error()));
    QVERIFY2(!dead.error().contains(QLatin1String("secret")), qPrintable(dead.error()));
    QVERIFY(!store.isOpen());
}

void TestSharedStore::migratesOnceWhenReplicasStartTogether()
{
    m_url = freshDatabase();
    QVERIFY(!m_url.isEmpty());
    constexpr int kReplicas = 4;
    std::vector<std::unique_ptr<LoopStore>> stores;
    for (int i = 0; i < kReplicas; ++i)
        stores.push_back(std::make_unique<LoopStore>());
    QThreadPool pool;
    pool.setMaxThreadCount(kReplicas);
    std::mutex mutex;
    QStringList errors;
    for (int i = 0; i < kReplicas; ++i)
        pool.start([&, i] {
            QTemporaryDir dir;
            const auto s = stores[size_t(i)]->open(dir.path(), m_url);
            if (!s) {
                std::lock_guard lock(mutex);
                errors << s.error();
            }
        });
    pool.waitForDone();
    QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
    QUrl url(m_url);
    const QString db = url.path().mid(1);
    QCOMPARE(pgAdmin(QStringLiteral("DO $$ BEGIN IF (SELECT version FROM loopdeck_schema) <> %1 THEN RAISE 'wrong schema'; END IF; END $$")
                         .arg(loopdeck::store::schema::latestVersion()),
                     db),
             QString());
    // The count triggers are there (PostgreSQL's text of migration 4), and they count.
    QCOMPARE(pgAdmin(QStringLiteral("DO $$ BEGIN IF (SELECT COUNT(*) FROM pg_trigger WHERE tgname IN ('ls_task_counted',"
                                    " 'ls_annotation_counted')) <> 2 THEN RAISE 'triggers'; END IF; END $$"),
                     db),
             QString());
    // Opening again (a restart) changes nothing.
    LoopStore again;
    QTemporaryDir dir;
    QVERIFY(again.open(dir.path(), m_url));
}

void TestSharedStore::answersLikeSqlite()
{
    // The same seeded walk of webhooks, reconcile pages, deletions and trainings, applied to a
    // SQLite store and a PostgreSQL one: every reader answers the same after every step.
    m_url = freshDatabase();
    QVERIFY(!m_url.isEmpty());
    QTemporaryDir dir;
    LoopStore lite;
    LoopStore pg;
    QVERIFY(lite.open(dir.path()));
    QVERIFY(pg.open(dir.path(), m_url));
    QVERIFY(pg.isShared());
    QVERIFY(!lite.isShared());
    const QString keys[2] = {kProject, QStringLiteral("8.1764064800")};
    for (const QString &k : keys) {
        QVERIFY(lite.ensureProject(k));
        QVERIFY(pg.ensureProject(k));
    }
    QRandomGenerator rng(20261204);
    qint64 time = kT0;
    int labelled = 0;
    for (int step = 0; step < 300; ++step) {
        const QString key = keys[rng.bounded(2)];
        const qint64 task = 1 + rng.bounded(25);
        ChangeSet c;
        switch (rng.bounded(8)) {
        case 0:
        case 1:
        case 2: {
            const bool cancelled = rng.bounded(5) == 0;
            c.action = QStringLiteral("ANNOTATION_CREATED");
            c.tasks.push_back(taskOf(task, QStringLiteral("text %1").arg(task),
                                     {ann(1000 * task + rng.bounded(3), task, rng.bounded(2) ? QStringLiteral("Positive") : QStringLiteral("Negative"),
                                          time += 1000, cancelled)}));
            break;
        }
        case 3: // an older copy of an annotation: changes nothing
            c.action = QStringLiteral("ANNOTATION_UPDATED");
            c.tasks.push_back(taskOf(task, QStringLiteral("text %1").arg(task), {ann(1000 * task, task, QStringLiteral("Negative"), kT0 - 5)}));
            break;
        case 4:
            c.snapshotAtMs = (time += 1000);
            c.tasks.push_back(taskOf(task, QStringLiteral("text %1").arg(task),
                                     {ann(1000 * task + 1, task, QStringLiteral("Positive"), time)}));
            c.tasks.back().annotationsComplete = true;
            break;
        case 5:
            c.action = QStringLiteral("ANNOTATIONS_DELETED");
            c.deletedAnnotations.push_back(1000 * task + rng.bounded(3));
            break;
        case 6:
            c.action = QStringLiteral("TASKS_DELETED");
            c.deletedTasks.push_back(task);
            break;
        case 7: { // a training read the data
            const auto l = lite.project(key);
            const auto p = pg.project(key);
            QVERIFY(l && p);
            QCOMPARE(p->changeSeq, l->changeSeq);
            QVERIFY(lite.markTrained(key, l->changeSeq));
            QVERIFY(pg.markTrained(key, p->changeSeq));
            continue;
        }
        }
        const auto a = lite.apply(key, c);
        const auto b = pg.apply(key, c);
        QVERIFY2(a, qPrintable(a.error()));
        QVERIFY2(b, qPrintable(b.error()));
        QCOMPARE(b.value(), a.value());
        const QString onLite = observed(lite, key);
        const QString onPg = observed(pg, key);
        if (onLite != onPg)
            QFAIL(qPrintable(QStringLiteral("step %1, project %2:\nSQLite:\n%3\nPostgreSQL:\n%4").arg(step).arg(key, onLite, onPg)));
        labelled += lite.counts(key)->annotations > 0 ? 1 : 0;
    }
    QVERIFY(labelled > 100); // the walk did fill the projects
    // Adoption of a bare id moves the rows and their kept counts on both.
    QVERIFY(lite.ensureProject(QStringLiteral("9")));
    QVERIFY(pg.ensureProject(QStringLiteral("9")));
    ChangeSet c;
    c.action = QStringLiteral("ANNOTATION_CREATED");
    c.tasks.push_back(taskOf(1, QStringLiteral("moved"), {ann(1, 1, QStringLiteral("Positive"), kT0)}));
    QVERIFY(lite.apply(QStringLiteral("9"), c));
    QVERIFY(pg.apply(QStringLiteral("9"), c));
    QVERIFY(lite.renameProject(QStringLiteral("9"), QStringLiteral("9.1764064800")).value());
    QVERIFY(pg.renameProject(QStringLiteral("9"), QStringLiteral("9.1764064800")).value());
    QCOMPARE(observed(pg, QStringLiteral("9.1764064800")), observed(lite, QStringLiteral("9.1764064800")));
    QCOMPARE(pg.counts(QStringLiteral("9.1764064800"))->annotations, 1);
}

void TestSharedStore::twoReplicasWriteOneProject()
{
    // Two stores are two sessions, as two replicas are: webhooks on both, on many threads, for
    // one project. Nothing is lost and the change counter counts every change once.
    m_url = freshDatabase();
    QVERIFY(!m_url.isEmpty());
    QTemporaryDir dir;
    LoopStore a;
    LoopStore b;
    QVERIFY(a.open(dir.path(), m_url));
    QVERIFY(b.open(dir.path(), m_url));
    constexpr int kThreads = 6;
    constexpr int kEach = 30;
    QThreadPool pool;
    pool.setMaxThreadCount(kThreads);
    std::atomic<int> changed{0};
    std::mutex mutex;
    QStringList errors;
    for (int t = 0; t < kThreads; ++t)
        pool.start([&, t] {
            LoopStore &store = t % 2 ? b : a;
            for (int i = 0; i < kEach; ++i) {
                const qint64 task = qint64(t) * 1000 + i + 1;
                ChangeSet c;
                c.action = QStringLiteral("ANNOTATION_CREATED");
                c.tasks.push_back(taskOf(task, QStringLiteral("t%1").arg(task), {ann(task, task, QStringLiteral("Positive"), kT0 + i)}));
                const auto r = store.apply(kProject, c);
                // The same webhook again, through the other replica (a retry): changes nothing.
                const auto again = (t % 2 ? a : b).apply(kProject, c);
                std::lock_guard lock(mutex);
                if (!r || !again)
                    errors << (r ? again.error() : r.error());
                else
                    changed += r.value() + again.value();
            }
        });
    pool.waitForDone();
    QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
    QCOMPARE(changed.load(), kThreads * kEach);
    QCOMPARE(a.project(kProject)->changeSeq, kThreads * kEach);
    QCOMPARE(b.counts(kProject)->annotations, kThreads * kEach);
    QCOMPARE(b.pendingChanges(kProject).value(), kThreads * kEach);
    QCOMPARE(a.trainingData(kProject, kSentiment)->examples.size(), kThreads * kEach);
}

void TestSharedStore::modelFilesKeepTheirChecksum()
{
    m_url = freshDatabase();
    QVERIFY(!m_url.isEmpty());
    QTemporaryDir dirA;
    QTemporaryDir dirB;
    LoopStore a;
    LoopStore b;
    QVERIFY(a.open(dirA.path(), m_url));
    QVERIFY(b.open(dirB.path(), m_url));
    // A's data folder was used with SQLite before: its version 1 stays as it is.
    const QString sqliteV1 = dirA.filePath(QStringLiteral("models/%1/v1.ldm").arg(kProject));
    QVERIFY(QDir().mkpath(QFileInfo(sqliteV1).path()));
    {
        QFile f(sqliteV1);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("the SQLite registry's own version 1");
    }
    ModelRegistry registryA(dirA.path(), std::make_shared<SharedModels>(&a));
    ModelRegistry registryB(dirB.path(), std::make_shared<SharedModels>(&b));
    QVERIFY(registryA.isShared());
    NewModelVersion meta;
    meta.target = QStringLiteral("sentiment");
    meta.metrics = QJsonObject{{QStringLiteral("accuracy"), 0.75}};
    meta.trainingExamples = 8;
    QString error;
    const auto v1 = registryA.addVersion(kProject, *tinyModel(false), meta, &error);
    QVERIFY2(v1, qPrintable(error));
    const auto v2 = registryB.addVersion(kProject, *tinyModel(true), meta, &error);
    QVERIFY2(v2, qPrintable(error));
    QCOMPARE(v1->version, 1);
    QCOMPARE(v2->version, 2); // numbered by the store, whichever replica adds
    {
        QFile f(sqliteV1);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("the SQLite registry's own version 1"));
    }
    QCOMPARE(registryB.projects(), QStringList{kProject});
    const auto listed = registryB.versions(kProject);
    QCOMPARE(listed.size(), 2);
    QCOMPARE(listed.at(0).metrics.value(QStringLiteral("accuracy")).toDouble(), 0.75);
    QCOMPARE(listed.at(1).target, QStringLiteral("sentiment"));

    // B loads A's version: fetched from the store, checked, copied locally.
    const QString copyB = dirB.filePath(QStringLiteral("model-cache/%1/v1.ldm").arg(kProject));
    QVERIFY(!QFile::exists(copyB));
    auto model = registryB.load(kProject, 1, &error);
    QVERIFY2(model, qPrintable(error));
    QVERIFY(QFile::exists(copyB));
    // A damaged local copy is not used: it is fetched again.
    {
        QFile f(copyB);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write("not a model");
    }
    model = registryB.load(kProject, 1, &error);
    QVERIFY2(model, qPrintable(error));
    QVERIFY(QFile(copyB).size() > 100);
    // A file damaged in the store is refused, and nothing local is overwritten with it.
    const QString db = QUrl(m_url).path().mid(1);
    QCOMPARE(pgAdmin(QStringLiteral("UPDATE model_file SET body = set_byte(body, 40, (get_byte(body, 40) + 1) % 256) WHERE version = 2"), db),
             QString());
    // (B trained version 2 and keeps a good copy, which still matches the recorded checksum;
    // A has none and must fetch it.)
    model = registryB.load(kProject, 2, &error);
    QVERIFY2(model, qPrintable(error));
    model = registryA.load(kProject, 2, &error);
    QVERIFY(!model);
    QVERIFY2(error.contains(QLatin1String("SHA-256")), qPrintable(error));
    QVERIFY(!QFile::exists(dirA.filePath(QStringLiteral("model-cache/%1/v2.ldm").arg(kProject))));

    // Active versions are the store's; the active one cannot be deleted, another can.
    QVERIFY2(registryA.activate(kProject, 1, &error), qPrintable(error));
    QCOMPARE(registryB.activeVersions(kProject).value(QStringLiteral("sentiment")), 1);
    QVERIFY(!registryB.activate(kProject, 7, &error));
    QVERIFY(!registryB.removeVersion(kProject, 1, &error));
    QVERIFY2(error.contains(QLatin1String("active")), qPrintable(error));
    QVERIFY2(registryB.removeVersion(kProject, 2, &error), qPrintable(error));
    QCOMPARE(registryA.versions(kProject).size(), 1);
    const auto v3 = registryA.addVersion(kProject, *tinyModel(false), meta, &error);
    QVERIFY2(v3, qPrintable(error));
    QCOMPARE(v3->version, 2); // the highest kept is 1, and the loop recorded no version 2
}

void TestSharedStore::activationReachesTheOtherReplica()
{
    m_url = freshDatabase();
    QVERIFY(!m_url.isEmpty());
    QTemporaryDir dirA;
    QTemporaryDir dirB;
    LoopStore a;
    LoopStore b;
    QVERIFY(a.open(dirA.path(), m_url));
    QVERIFY(b.open(dirB.path(), m_url));
    auto registryA = std::make_shared<ModelRegistry>(dirA.path(), std::make_shared<SharedModels>(&a));
    auto registryB = std::make_shared<ModelRegistry>(dirB.path(), std::make_shared<SharedModels>(&b));
    PredictionService serviceA(registryA);
    PredictionService serviceB(registryB);
    QStringList heard;
    QString error;
    QVERIFY2(b.listenForActivations(this, [&](const QString &key) { heard << key; }, &error), qPrintable(error));
    NewModelVersion meta;
    meta.target = QStringLiteral("sentiment");
    const auto published = serviceA.publish(kProject, tinyModel(false), meta, &error);
    QVERIFY2(published, qPrintable(error));
    QCOMPARE(serviceA.activeVersion(kProject), 1);
    QCOMPARE(serviceB.activeVersion(kProject), 0);
    QTRY_COMPARE_WITH_TIMEOUT(heard, QStringList{kProject}, 1000);
    QCOMPARE(serviceB.syncActive(kProject, &error), 1);
    QCOMPARE(serviceB.activeVersion(kProject), 1);
    QCOMPARE(serviceB.syncActive(kProject, &error), 0); // nothing new
    // A rollback elsewhere is heard too.
    const auto second = serviceA.publish(kProject, tinyModel(true), meta, &error);
    QVERIFY2(second, qPrintable(error));
    QTRY_COMPARE_WITH_TIMEOUT(heard.size(), 2, 1000);
    QCOMPARE(serviceB.syncActive(kProject, &error), 1);
    QCOMPARE(serviceB.activeVersion(kProject), 2);
    QVERIFY(serviceA.rollback(kProject, QStringLiteral("sentiment"), &error));
    QTRY_COMPARE_WITH_TIMEOUT(heard.size(), 3, 1000);
    QCOMPARE(serviceB.syncActive(kProject, &error), 1);
    QCOMPARE(serviceB.activeTargets(kProject).value(QStringLiteral("sentiment")), 1);
    // SQLite cannot listen, and says so.
    LoopStore lite;
    QTemporaryDir dir;
    QVERIFY(lite.open(dir.path()));
    QVERIFY(!lite.listenForActivations(this, [](const QString &) {}, &error));
    QVERIFY(!error.isEmpty());
}

void TestSharedStore::oneClaimPerProjectAndTakeOver()
{
    m_url = freshDatabase();
    QVERIFY(!m_url.isEmpty());
    QTemporaryDir dir;
    auto a = std::make_unique<LoopStore>();
    LoopStore b;
    QVERIFY(a->open(dir.path(), m_url));
    QVERIFY(b.open(dir.path(), m_url));
    QCOMPARE(a->claimRun(kProject, QStringLiteral("a:1"), QStringLiteral("threshold")).value(), true);
    QCOMPARE(b.claimRun(kProject, QStringLiteral("b:1"), QStringLiteral("manual")).value(), false);
    // Another project is free.
    QCOMPARE(b.claimRun(QStringLiteral("4.1764064800"), QStringLiteral("b:1"), QStringLiteral("manual")).value(), true);
    QVERIFY(b.releaseRun(QStringLiteral("4.1764064800")));
    // A is alive: nothing to take over.
    QCOMPARE(b.orphanedRuns({})->size(), 0);
    QCOMPARE(b.claims()->size(), 1);
    QCOMPARE(b.claims()->at(0).replica, QStringLiteral("a:1"));
    // A goes away without finishing (its connection ends, as when its process is killed).
    a.reset();
    const auto orphans = b.orphanedRuns({});
    QVERIFY2(orphans, qPrintable(orphans.error()));
    QCOMPARE(orphans->size(), 1);
    QCOMPARE(orphans->at(0).projectId, kProject);
    QCOMPARE(orphans->at(0).trigger, QStringLiteral("threshold"));
    QCOMPARE(orphans->at(0).replica, QStringLiteral("a:1"));
    // B holds its lock now: a third replica cannot claim it; B's claim records B.
    LoopStore c;
    QVERIFY(c.open(dir.path(), m_url));
    QCOMPARE(c.claimRun(kProject, QStringLiteral("c:1"), QStringLiteral("manual")).value(), false);
    QCOMPARE(c.orphanedRuns({})->size(), 0);
    QCOMPARE(b.claimRun(kProject, QStringLiteral("b:1"), QStringLiteral("threshold")).value(), true);
    QCOMPARE(c.claims()->at(0).replica, QStringLiteral("b:1"));
    // Finished: the record goes, then the lock; the next claimant finds nothing to take over.
    QVERIFY(b.releaseRun(kProject));
    QCOMPARE(c.claims()->size(), 0);
    QCOMPARE(c.orphanedRuns({})->size(), 0);
    QCOMPARE(c.claimRun(kProject, QStringLiteral("c:1"), QStringLiteral("manual")).value(), true);
    QVERIFY(c.releaseRun(kProject));
}

void TestSharedStore::explicitClaimRecordsTheReplica()
{
    // SQLite has nothing to coordinate: a claim always succeeds and records nothing.
    QTemporaryDir dir;
    LoopStore lite;
    QVERIFY(lite.open(dir.path()));
    QCOMPARE(lite.claimRun(kProject, QStringLiteral("x"), QStringLiteral("manual")).value(), true);
    QVERIFY(lite.releaseRun(kProject));
    QCOMPARE(lite.orphanedRuns({})->size(), 0);
    QVERIFY(!lite.addModel(kProject, {}, QByteArray("x")));
}

void TestSharedStore::oneReplicaLeadsTheSync()
{
    m_url = freshDatabase();
    QVERIFY(!m_url.isEmpty());
    QTemporaryDir dir;
    auto a = std::make_unique<LoopStore>();
    LoopStore b;
    QVERIFY(a->open(dir.path(), m_url));
    QVERIFY(b.open(dir.path(), m_url));
    QVERIFY(a->leadsSync());
    QVERIFY(a->leadsSync()); // still
    QVERIFY(!b.leadsSync());
    a.reset(); // the leader goes away
    QTRY_VERIFY_WITH_TIMEOUT(b.leadsSync(), 5000);
    LoopStore lite;
    QVERIFY(lite.open(dir.path()));
    QVERIFY(lite.leadsSync());
}

void TestSharedStore::brokenSessionIsRenewed()
{
    // The server ends A's sessions (as a restart or a failover does). A's next calls work on a new
    // session (at most one fails on the way); its claim is reported lost, its LISTEN comes back,
    // and its late release does not remove the record of the replica that took the run over.
    m_url = freshDatabase();
    QVERIFY(!m_url.isEmpty());
    const QString db = QUrl(m_url).path().mid(1);
    QTemporaryDir dir;
    LoopStore a;
    LoopStore b;
    QVERIFY(a.open(dir.path(), m_url));
    QVERIFY(b.open(dir.path(), m_url));
    QStringList heard;
    QString error;
    QVERIFY2(a.listenForActivations(this, [&](const QString &key) { heard << key; }, &error), qPrintable(error));
    QCOMPARE(a.claimRun(kProject, QStringLiteral("a:1"), QStringLiteral("manual")).value(), true);
    QCOMPARE(a.stillClaimed(kProject).value(), true);

    QCOMPARE(pgAdmin(QStringLiteral("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = current_database()"
                                    " AND application_name = 'loopdeck' AND pid <> pg_backend_pid()"),
                     db),
             QString());
    // B's session ended too; both get new ones. A's claim went with its session: B may take it.
    int failures = 0;
    for (int i = 0; i < 3; ++i, QTest::qWait(1100)) // (a broken connection is replaced at most once a second)
        failures += a.ensureProject(kProject) ? 0 : 1;
    QVERIFY2(failures <= 1, "the store did not renew its session");
    QVERIFY(a.pendingChanges(kProject));
    QCOMPARE(a.stillClaimed(kProject).value(), false);
    const QSet<QString> lost = a.renewSession(this);
    QCOMPARE(lost, QSet<QString>{kProject});
    // (Not QTRY: taking an orphan over changes state, and QTRY evaluates its expression again.)
    QString orphanError;
    bool found = false;
    for (int i = 0; i < 100 && !found; ++i, QTest::qWait(50)) {
        const auto orphans = b.orphanedRuns({});
        orphanError = orphans ? QStringLiteral("%1 orphans").arg(orphans->size()) : orphans.error();
        found = orphans && orphans->size() == 1;
    }
    QVERIFY2(found, qPrintable(orphanError));
    QCOMPARE(b.claimRun(kProject, QStringLiteral("b:1"), QStringLiteral("manual")).value(), true);
    QVERIFY(a.releaseRun(kProject)); // not A's any more: nothing happens
    QCOMPARE(b.claims()->size(), 1);
    QCOMPARE(b.claims()->at(0).replica, QStringLiteral("b:1"));
    QVERIFY(b.releaseRun(kProject));
    QCOMPARE(b.claims()->size(), 0);

    // Again, with writers on other threads renewing their sessions while this (the claiming)
    // thread claims and releases: nobody waits for anybody forever.
    QCOMPARE(a.claimRun(kProject, QStringLiteral("a:1"), QStringLiteral("manual")).value(), true);
    QCOMPARE(pgAdmin(QStringLiteral("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = current_database()"
                                    " AND application_name = 'loopdeck' AND pid <> pg_backend_pid()"),
                     db),
             QString());
    QThreadPool writers;
    writers.setMaxThreadCount(4);
    std::atomic<int> written{0};
    for (int t = 0; t < 4; ++t)
        writers.start([&, t] {
            for (int i = 0; i < 20; ++i) {
                ChangeSet c;
                c.action = QStringLiteral("ANNOTATION_CREATED");
                const qint64 task = 50000 + t * 100 + i;
                c.tasks.push_back(taskOf(task, QStringLiteral("w%1").arg(task), {ann(task, task, QStringLiteral("Positive"), kT0)}));
                if (a.apply(kProject, c))
                    ++written;
                QThread::msleep(60);
            }
        });
    for (int i = 0; i < 20; ++i) {
        (void)a.releaseRun(kProject);
        (void)a.claimRun(kProject, QStringLiteral("a:1"), QStringLiteral("manual"));
        (void)a.renewSession(this);
        QTest::qWait(60);
    }
    QVERIFY2(writers.waitForDone(60000), "a writer is stuck");
    QVERIFY(written.load() > 40); // most writes went through on renewed sessions
    (void)a.releaseRun(kProject);
    const auto claimCount = [&] {
        const auto c = b.claims(); // B's session was ended too: its first read may fail
        return c ? int(c->size()) : -1;
    };
    QTRY_COMPARE_WITH_TIMEOUT(claimCount(), 0, 5000);

    // A listens again on its new session.
    QVERIFY(b.ensureProject(kProject));
    auto registryB = std::make_shared<ModelRegistry>(dir.filePath(QStringLiteral("b")), std::make_shared<SharedModels>(&b));
    PredictionService serviceB(registryB);
    NewModelVersion meta;
    meta.target = QStringLiteral("sentiment");
    QVERIFY2(serviceB.publish(kProject, tinyModel(false), meta, &error), qPrintable(error));
    QTRY_COMPARE_WITH_TIMEOUT(heard, QStringList{kProject}, 2000);
}

QTEST_GUILESS_MAIN(TestSharedStore)
#include "tst_sharedstore.moc"
