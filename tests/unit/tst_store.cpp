// The SQLite store: migrations, progress snapshots, and refusing files it must not touch.
#include "store/store.h"

#include <QFile>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace loopdeck;

namespace {

labelstudio::Project project(int id, qint64 tasks, qint64 annotated)
{
    labelstudio::Project p;
    p.id = id;
    p.title = QStringLiteral("P%1").arg(id);
    p.counts.taskNumber = tasks;
    p.counts.tasksWithAnnotations = annotated;
    p.counts.totalAnnotations = annotated;
    return p;
}

} // namespace

class TestStore final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void migratesAndRecords()
    {
        QTemporaryDir dir;
        store::Store s;
        QString error;
        QVERIFY2(s.open(dir.path() + QStringLiteral("/nested/data"), &error), qPrintable(error));
        QCOMPARE(s.schemaVersion(), store::Store::latestSchemaVersion());
        const QString server = QStringLiteral("http://ls:8080");
        const QDateTime t0 = QDateTime::fromSecsSinceEpoch(1'800'000'000, Qt::UTC);
        QVERIFY(s.recordProgress(server, {project(1, 10, 2), project(2, 5, 0)}, t0, &error));
        // unchanged counts are not written again; changed ones are
        QVERIFY(s.recordProgress(server, {project(1, 10, 2), project(2, 5, 1)}, t0.addSecs(30), &error));
        QVERIFY(s.recordProgress(server, {project(1, 10, 4)}, t0.addSecs(60), &error));
        const auto p1 = s.progress(server, 1);
        QCOMPARE(p1.size(), 2);
        QCOMPARE(p1[0].takenAt, t0);
        QCOMPARE(p1[0].counts.tasksWithAnnotations, 2);
        QCOMPARE(p1[1].counts.tasksWithAnnotations, 4);
        QCOMPARE(p1[1].takenAt, t0.addSecs(60));
        QCOMPARE(s.progress(server, 2).size(), 2);
        QCOMPARE(s.progress(QStringLiteral("http://other"), 1).size(), 0); // servers are kept apart
        QCOMPARE(s.progress(server, 1, 1).size(), 1);                       // limit keeps the newest
        QCOMPARE(s.progress(server, 1, 1)[0].counts.tasksWithAnnotations, 4);
        s.close();

        store::Store again;
        QVERIFY2(again.open(dir.path() + QStringLiteral("/nested/data"), &error), qPrintable(error));
        QCOMPARE(again.progress(server, 1).size(), 2); // persisted
    }

    void refusesNewerSchema()
    {
        QTemporaryDir dir;
        {
            store::Store s;
            QString error;
            QVERIFY(s.open(dir.path(), &error));
        }
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("poke"));
            db.setDatabaseName(dir.filePath(QStringLiteral("loopdeck.sqlite3")));
            QVERIFY(db.open());
            QSqlQuery(db).exec(QStringLiteral("PRAGMA user_version=999"));
            db.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("poke"));
        store::Store s;
        QString error;
        QVERIFY(!s.open(dir.path(), &error));
        QVERIFY2(error.contains(QLatin1String("newer LoopDeck")), qPrintable(error));
        QVERIFY(!s.isOpen());
    }

    void refusesGarbageFile()
    {
        QTemporaryDir dir;
        QFile f(dir.filePath(QStringLiteral("loopdeck.sqlite3")));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(4096, 'x'));
        f.close();
        store::Store s;
        QString error;
        QVERIFY(!s.open(dir.path(), &error));
        QVERIFY2(error.contains(QLatin1String("loopdeck.sqlite3")), qPrintable(error));
    }

    void refusesUnusableDirectory()
    {
        QTemporaryDir dir;
        QFile blocker(dir.filePath(QStringLiteral("file")));
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.close();
        store::Store s;
        QString error;
        QVERIFY(!s.open(dir.filePath(QStringLiteral("file/sub")), &error)); // a file where a directory should be
        QVERIFY(!error.isEmpty());
    }

    void readingWhenClosedIsAnError()
    {
        store::Store s;
        QString error;
        QVERIFY(s.progress(QStringLiteral("x"), 1, 10, &error).isEmpty());
        QVERIFY(!error.isEmpty());
    }

    void writingWhenClosedIsAnError()
    {
        store::Store s;
        QString error;
        QVERIFY(!s.recordProgress(QStringLiteral("x"), {project(1, 1, 1)}, QDateTime::currentDateTimeUtc(), &error));
        QVERIFY(!error.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestStore)
#include "tst_store.moc"
