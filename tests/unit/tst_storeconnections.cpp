// LoopStore's per-thread SQLite connections are bounded: a thread's connection is closed when
// the thread ends, so threads that come and go (HTTP, pool) leave no file descriptors or
// connections behind; close() with threads still alive is safe, and such a thread gets a fresh
// connection when it uses the store again.
#include "core/store/loopstore.h"

#include <QDir>
#include <QSemaphore>
#include <QSqlDatabase>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using loopdeck::store::LoopStore;

namespace {

int openFiles()
{
    return int(QDir(QStringLiteral("/proc/self/fd")).entryList(QDir::AllEntries | QDir::System | QDir::NoDotAndDotDot).size());
}

int connections()
{
    return int(QSqlDatabase::connectionNames().size());
}

// One store read and one write, as a webhook thread does.
bool useStore(LoopStore &store, qint64 projectId)
{
    const auto listed = store.projects();
    const auto created = store.ensureProject(QStringLiteral("%1.1764064800").arg(projectId));
    return listed.ok() && created.ok();
}

} // namespace

class TestStoreConnections : public QObject
{
    Q_OBJECT

private slots:
    void threadChurnLeavesNoConnections();
    void stdThreadsLeaveNoConnections();
    void closeWithLiveThreads();
};

void TestStoreConnections::threadChurnLeavesNoConnections()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    LoopStore store;
    QVERIFY2(store.open(dir.path()).ok(), "open");
    QVERIFY(useStore(store, 1));
    const int baseFiles = openFiles();
    const int baseConnections = connections();

    // 200 threads, 4 at a time. A thread's connection goes when the thread's thread_local
    // storage is destroyed, which may be a moment after QThread::wait() returns, so a few
    // recently finished threads may still hold theirs: bounded, never growing.
    constexpr int kThreads = 200;
    constexpr int kBatch = 4;
    constexpr int kSlack = 3 * 2 * kBatch; // database + WAL (+ shm) per connection, two batches
    std::atomic<int> failures{0};
    int maxFiles = baseFiles;
    int maxConnections = baseConnections;
    for (int started = 0; started < kThreads; started += kBatch) {
        std::vector<std::unique_ptr<QThread>> batch;
        for (int i = 0; i < kBatch; ++i) {
            const qint64 projectId = 100 + started + i;
            batch.emplace_back(QThread::create([&store, &failures, projectId] {
                if (!useStore(store, projectId))
                    ++failures;
            }));
            batch.back()->start();
        }
        for (auto &t : batch)
            QVERIFY(t->wait(30000));
        maxFiles = std::max(maxFiles, openFiles());
        maxConnections = std::max(maxConnections, connections());
    }
    QCOMPARE(failures.load(), 0);
    qInfo("open files %d -> max %d; connections %d -> max %d", baseFiles, maxFiles, baseConnections, maxConnections);
    QVERIFY2(maxFiles <= baseFiles + kSlack, qPrintable(QStringLiteral("open files grew from %1 to %2").arg(baseFiles).arg(maxFiles)));
    QVERIFY2(maxConnections <= baseConnections + 2 * kBatch,
             qPrintable(QStringLiteral("connections grew from %1 to %2").arg(baseConnections).arg(maxConnections)));
    // Once every thread is gone, nothing of theirs is left.
    QTRY_COMPARE_WITH_TIMEOUT(connections(), baseConnections, 5000);
    const auto projects = store.projects();
    QVERIFY(projects.ok());
    QCOMPARE(projects.value().size(), kThreads + 1);

    // SQLite keeps a closed connection's descriptors while another connection of the process
    // holds a lock on the file (and reuses them for the next open): a few may stay until the
    // last connection goes. With the store closed, nothing of it is left.
    store.close();
    QCOMPARE(connections(), baseConnections - 1);
    QVERIFY2(openFiles() < baseFiles, qPrintable(QStringLiteral("%1 files open, %2 before").arg(openFiles()).arg(baseFiles)));
}

void TestStoreConnections::stdThreadsLeaveNoConnections()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    LoopStore store;
    QVERIFY2(store.open(dir.path()).ok(), "open");
    const int baseConnections = connections();
    std::atomic<int> failures{0};
    for (int i = 0; i < 50; ++i) {
        std::thread t([&] {
            if (!useStore(store, 7))
                ++failures;
        });
        t.join(); // join returns after the thread's thread_local destructors ran
        QCOMPARE(connections(), baseConnections);
    }
    QCOMPARE(failures.load(), 0);
}

void TestStoreConnections::closeWithLiveThreads()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const int baseConnections = connections();
    auto store = std::make_unique<LoopStore>();
    QVERIFY2(store->open(dir.path()).ok(), "open");

    // Threads that used the store and are still alive (idle, outside any store call) when it
    // is closed: close() removes their connections; a later call opens a fresh one; their end
    // removes that one; a store destroyed before they end leaves them nothing to do.
    constexpr int kThreads = 6;
    QSemaphore used, closed, reused, destroyed;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            if (!useStore(*store, 10 + i))
                ++failures;
            used.release();
            closed.acquire();
            if (!useStore(*store, 20 + i))
                ++failures;
            reused.release();
            destroyed.acquire();
        });
    }
    used.acquire(kThreads);
    QCOMPARE(connections(), baseConnections + kThreads + 1);
    store->close();
    QCOMPARE(connections(), baseConnections);
    QVERIFY2(store->open(dir.path()).ok(), "reopen");
    closed.release(kThreads);
    reused.acquire(kThreads);
    QCOMPARE(connections(), baseConnections + kThreads + 1);
    store.reset();
    QCOMPARE(connections(), baseConnections);
    destroyed.release(kThreads);
    for (auto &t : threads)
        t.join();
    QCOMPARE(failures.load(), 0);
    QCOMPARE(connections(), baseConnections);
}

QTEST_GUILESS_MAIN(TestStoreConnections)
#include "tst_storeconnections.moc"
