// Reconciler on its own: a store in a temporary folder, the real LabelStudioClient, and a fake
// Label Studio on loopback (fakelabelstudio.h) that keeps one project's tasks and answers the
// reconcile's requests the way Label Studio 1.23 does — plus what a real one does not do on
// request: 500 on a page, a task id filter it ignores, a task deleted between the listing and
// its fetch. Covers the keyset listing (ends on an empty page), the stop when the id filter is
// ignored (nothing removed), page retries, the task_only diff (only differing tasks fetched, a
// 404 removes the task), the switch to one full pass when many differ, removal of the tasks
// Label Studio no longer has at the end, a client change mid-sync (answers dropped, nothing left
// running, no retry against the new server), and the listing of the server's projects.
#include "core/loop/reconciler.h"
#include "core/store/loopstore.h"
#include "fakelabelstudio.h"
#include "labelstudio/labelstudioclient.h"

#include <QDateTime>
#include <QMap>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <memory>

using loopdeck::labelstudio::LabelStudioClient;
using loopdeck::loop::Reconciler;
using loopdeck::store::LoopStore;
using loopdeck::test::FakeLabelStudio;
using loopdeck::test::FakeRequest;
using loopdeck::test::httpResponse;
using nlohmann::json;

namespace {

constexpr int kTimeout = 20000; // generous: ASan on a loaded machine; never a speed claim

// Label Studio project 1, created 2025-11-25T10:00:00Z: its key everywhere in the loop.
const QString kKey = QStringLiteral("1.1764064800");
const char *const kCreated = "2025-11-25T10:00:00.123456Z";
const QString kToken = QStringLiteral("0123456789abcdef0123456789abcdef01234567");
const std::string kConfig = "<View><Text name=\"text\" value=\"$text\"/><Choices name=\"label\" toName=\"text\">"
                            "<Choice value=\"A\"/><Choice value=\"B\"/></Choices></View>";

// Label Studio's time format (microseconds, UTC) for a second of a fixed day.
std::string lsTime(int second)
{
    return QDateTime(QDate(2026, 11, 25), QTime(10, 0), Qt::UTC)
        .addSecs(second)
        .toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss.zzz456Z"))
        .toStdString();
}

struct LsTask {
    int annotations = 1; // not cancelled
    int cancelled = 0;
    int second = 1;      // updated_at
};

// Project 1 of a Label Studio, as far as the reconcile sees it.
class LsProject
{
public:
    QMap<qint64, LsTask> tasks;
    QList<QPair<qint64, QString>> projects{{1, QString::fromLatin1(kCreated)}}; // /api/projects/: id, created_at
    int projectsPerPage = 100;
    bool ignoreIdFilter = false; // every listing answers the first page
    int failingPages = 0;        // the next task listings answer 500
    QSet<qint64> goneOnFetch;    // listed, then 404 on GET /api/tasks/<id>/ (deleted in between)

    // Changes a task the way an annotator does: one more annotation, a newer updated_at.
    void annotate(qint64 id)
    {
        ++tasks[id].annotations;
        tasks[id].second += 10;
    }

    QByteArray answer(const FakeRequest &r)
    {
        const QString path = r.path();
        if (path == QLatin1String("/api/projects/"))
            return projectPage(r.queryItem("page").toInt());
        if (path == QLatin1String("/api/projects/1/"))
            return httpResponse(200, QByteArray::fromStdString(json{{"id", 1}, {"created_at", kCreated}, {"label_config", kConfig}}.dump()));
        if (path == QLatin1String("/api/tasks/"))
            return taskPage(r);
        if (path.startsWith(QLatin1String("/api/tasks/"))) {
            const qint64 id = path.section(QLatin1Char('/'), 3, 3).toLongLong();
            if (!tasks.contains(id) || goneOnFetch.contains(id))
                return httpResponse(404, R"({"detail": "Not found."})");
            return httpResponse(200, QByteArray::fromStdString(taskJson(id, true).dump()));
        }
        return httpResponse(404, R"({"detail": "Not found."})");
    }

private:
    json taskJson(qint64 id, bool withAnnotations) const
    {
        const LsTask &t = tasks[id];
        json task = {{"id", id},
                     {"data", {{"text", "task " + std::to_string(id)}}},
                     {"updated_at", lsTime(t.second)},
                     {"total_annotations", t.annotations},
                     {"cancelled_annotations", t.cancelled}};
        if (withAnnotations) {
            json list = json::array();
            for (int i = 0; i < t.annotations + t.cancelled; ++i)
                list.push_back({{"id", id * 100 + i},
                                {"task", id},
                                {"result", json::array({json{{"from_name", "label"},
                                                             {"to_name", "text"},
                                                             {"type", "choices"},
                                                             {"value", {{"choices", json::array({i % 2 ? "B" : "A"})}}}}})},
                                {"was_cancelled", i >= t.annotations},
                                {"ground_truth", false},
                                {"updated_at", lsTime(t.second)}});
            task["annotations"] = list;
        }
        return task;
    }

    QByteArray projectPage(int page) const
    {
        json results = json::array();
        const int from = (std::max(page, 1) - 1) * projectsPerPage;
        for (int i = from; i < std::min<int>(from + projectsPerPage, int(projects.size())); ++i)
            results.push_back({{"id", projects[i].first}, {"title", "P"}, {"created_at", projects[i].second.toStdString()}});
        const bool more = from + projectsPerPage < projects.size();
        return httpResponse(200, QByteArray::fromStdString(json{{"count", projects.size()},
                                                                {"next", more ? json("http://ls/api/projects/?page=" + std::to_string(page + 1)) : json(nullptr)},
                                                                {"results", results}}
                                                               .dump()));
    }

    QByteArray taskPage(const FakeRequest &r)
    {
        if (failingPages > 0) {
            --failingPages;
            return httpResponse(500, R"({"detail": "KeyError"})");
        }
        qint64 afterId = 0;
        const json query = json::parse(r.queryItem("query").toStdString(), nullptr, false);
        if (!ignoreIdFilter && query.is_object())
            for (const json &item : query["filters"]["items"])
                if (item.value("filter", std::string()) == "filter:tasks:id")
                    afterId = item.value("value", qint64(0));
        const bool taskOnly = r.queryItem("fields") == QLatin1String("task_only");
        const int pageSize = r.queryItem("page_size").toInt();
        json list = json::array();
        for (auto it = tasks.lowerBound(afterId + 1); it != tasks.end() && int(list.size()) < pageSize; ++it)
            list.push_back(taskJson(it.key(), !taskOnly));
        return httpResponse(200, QByteArray::fromStdString(json{{"tasks", list}, {"total", tasks.size()}}.dump()));
    }
};

// The id filter of a keyset listing request (-1 without one).
qint64 afterIdOf(const FakeRequest &r)
{
    const json query = json::parse(r.queryItem("query").toStdString(), nullptr, false);
    if (query.is_object() && query.contains("filters"))
        for (const json &item : query["filters"]["items"])
            if (item.value("filter", std::string()) == "filter:tasks:id")
                return item.value("value", qint64(-1));
    return -1;
}

} // namespace

class TestReconciler final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void keysetListingEndsOnEmptyPage();
    void ignoredIdFilterStopsAndRemovesNothing();
    void failedPageIsRetried();
    void diffFetchesOnlyDifferingTasks();
    void manyDifferingTasksReadInOnePass();
    void goneTasksRemovedAtTheEnd();
    void clientChangeDropsAnswersAndRetries();
    void listingMapsIdsToKeys();
    void failuresKeepOneRetryChain();
    void failedListingIsRetried();

private:
    // Points the client at `fake` and waits for the listing of its projects.
    void connectTo(FakeLabelStudio &fake);
    // Starts a reconcile of kKey and waits for its outcome.
    Reconciler::Outcome reconcile(bool full = true);
    // Task listing (/api/tasks/) requests from request `from` on.
    static QList<FakeRequest> listings(const FakeLabelStudio &fake, int from = 0);
    // GET /api/tasks/<id>/ paths from request `from` on.
    static QStringList fetches(const FakeLabelStudio &fake, int from = 0);
    QList<qint64> storedTasks() const;

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<LoopStore> m_store;
    std::unique_ptr<LabelStudioClient> m_client;
    std::unique_ptr<Reconciler> m_reconciler;
    QList<QPair<QString, Reconciler::Outcome>> m_finished;
    QStringList m_configs; // labelConfig() signals: "key xml"
};

void TestReconciler::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_store = std::make_unique<LoopStore>();
    const auto opened = m_store->open(m_dir->path());
    QVERIFY2(opened, qPrintable(opened.error()));
    QVERIFY(m_store->ensureProject(kKey));
    m_client = std::make_unique<LabelStudioClient>();
    m_reconciler = std::make_unique<Reconciler>(m_store.get());
    m_reconciler->setProjects([] { return QStringList{kKey}; });
    m_finished.clear();
    m_configs.clear();
    connect(m_reconciler.get(), &Reconciler::finished, this,
            [this](const QString &key, const Reconciler::Outcome &outcome) { m_finished.append({key, outcome}); });
    connect(m_reconciler.get(), &Reconciler::labelConfig, this,
            [this](const QString &key, const QString &xml) { m_configs << key + QLatin1Char(' ') + xml; });
}

void TestReconciler::cleanup()
{
    m_reconciler.reset();
    m_client.reset();
    m_store.reset();
    m_dir.reset();
}

void TestReconciler::connectTo(FakeLabelStudio &fake)
{
    m_client->setServer(fake.url(), kToken);
    m_reconciler->setClient(m_client.get());
    QTRY_VERIFY_WITH_TIMEOUT(m_reconciler->listedKey(1).has_value(), kTimeout);
}

Reconciler::Outcome TestReconciler::reconcile(bool full)
{
    const qsizetype before = m_finished.size();
    // Tasks the store holds were seen at least a millisecond before this listing begins (only
    // those can be removed by it), as between two reconciles in life.
    QTest::qWait(5);
    // A reconcile that does not start or finish is an outcome with an error, so a test that
    // checks for "no error" cannot pass on it.
    Reconciler::Outcome none;
    if (!m_reconciler->sync(kKey, full)) {
        none.error = QStringLiteral("test: the reconcile did not start");
        return none;
    }
    if (!QTest::qWaitFor([&] { return m_finished.size() > before; }, kTimeout)) {
        none.error = QStringLiteral("test: the reconcile did not finish");
        return none;
    }
    return m_finished.constLast().second;
}

QList<FakeRequest> TestReconciler::listings(const FakeLabelStudio &fake, int from)
{
    QList<FakeRequest> out;
    for (qsizetype i = from; i < fake.requests().size(); ++i)
        if (fake.requests().at(i).path() == QLatin1String("/api/tasks/"))
            out << fake.requests().at(i);
    return out;
}

QStringList TestReconciler::fetches(const FakeLabelStudio &fake, int from)
{
    QStringList out;
    for (qsizetype i = from; i < fake.requests().size(); ++i) {
        const QString path = fake.requests().at(i).path();
        if (path.startsWith(QLatin1String("/api/tasks/")) && path != QLatin1String("/api/tasks/"))
            out << path;
    }
    return out;
}

QList<qint64> TestReconciler::storedTasks() const
{
    const auto signatures = m_store->taskSignatures(kKey);
    if (!signatures)
        return {};
    QList<qint64> ids = signatures->keys();
    std::sort(ids.begin(), ids.end());
    return ids;
}

void TestReconciler::keysetListingEndsOnEmptyPage()
{
    LsProject ls;
    for (qint64 id = 1; id <= 5; ++id)
        ls.tasks[id] = LsTask{};
    ls.tasks[3].annotations = 2;
    FakeLabelStudio fake([&](const FakeRequest &r, int) { return ls.answer(r); });
    Reconciler::Options options;
    options.pageSize = 2;
    m_reconciler->setOptions(options);
    connectTo(fake);

    const Reconciler::Outcome outcome = reconcile();
    QVERIFY2(outcome.error.isEmpty(), qPrintable(outcome.error));
    QCOMPARE(m_finished.constLast().first, kKey);
    QCOMPARE(outcome.mode(), QStringLiteral("full")); // an empty store reads everything
    QCOMPARE(outcome.recovered, 6);
    // Pages of 2 by id: after 0, 2, 4, then 5 answers nothing and ends the listing (a short
    // page does not: a server may cap the page size below ours).
    const QList<FakeRequest> pages = listings(fake);
    QList<qint64> after;
    for (const FakeRequest &r : pages) {
        after << afterIdOf(r);
        QCOMPARE(r.queryItem("fields"), QStringLiteral("all"));
        QCOMPARE(r.queryItem("page_size"), QStringLiteral("2"));
        QCOMPARE(r.queryItem("project"), QStringLiteral("1"));
    }
    QCOMPARE(after, (QList<qint64>{0, 2, 4, 5}));
    QCOMPARE(storedTasks(), (QList<qint64>{1, 2, 3, 4, 5}));
    QVERIFY(!m_reconciler->isRunning(kKey));
    // The label config was read first and reported; the sync state is in the store.
    QCOMPARE(m_configs, QStringList{kKey + QLatin1Char(' ') + QString::fromStdString(kConfig)});
    QVERIFY(fake.paths().indexOf(QStringLiteral("/api/projects/1/")) < fake.paths().indexOf(QStringLiteral("/api/tasks/")));
    const auto row = m_store->project(kKey);
    QVERIFY(row && row->lastFullSync.isValid());
}

void TestReconciler::ignoredIdFilterStopsAndRemovesNothing()
{
    LsProject ls;
    for (qint64 id = 1; id <= 5; ++id)
        ls.tasks[id] = LsTask{};
    FakeLabelStudio fake([&](const FakeRequest &r, int) { return ls.answer(r); });
    Reconciler::Options options;
    options.pageSize = 2;
    m_reconciler->setOptions(options);
    connectTo(fake);
    QVERIFY(reconcile().error.isEmpty());
    QCOMPARE(storedTasks().size(), 5);

    // Task 5 is deleted, and the server answers the first page to every listing.
    ls.tasks.remove(5);
    ls.ignoreIdFilter = true;
    const int from = int(fake.requests().size());
    const Reconciler::Outcome outcome = reconcile();
    QVERIFY2(outcome.error.contains(QStringLiteral("ignored the task id filter")), qPrintable(outcome.error));
    QCOMPARE(listings(fake, from).size(), 2); // the same page twice, then it stopped
    QCOMPARE(storedTasks(), (QList<qint64>{1, 2, 3, 4, 5})); // an incomplete listing removes nothing
    QVERIFY(!m_reconciler->isRunning(kKey));
}

void TestReconciler::failedPageIsRetried()
{
    LsProject ls;
    for (qint64 id = 1; id <= 3; ++id)
        ls.tasks[id] = LsTask{};
    FakeLabelStudio fake([&](const FakeRequest &r, int) { return ls.answer(r); });
    Reconciler::Options options;
    options.pageRetryBaseMs = 20;
    options.pageRetries = 2;
    options.retryBaseMs = 600000; // no second reconcile within the test
    m_reconciler->setOptions(options);
    connectTo(fake);

    // One 500 (Label Studio 1.23 when a task is deleted while it builds the page): the same page again.
    ls.failingPages = 1;
    Reconciler::Outcome outcome = reconcile();
    QVERIFY2(outcome.error.isEmpty(), qPrintable(outcome.error));
    QList<FakeRequest> pages = listings(fake);
    QCOMPARE(pages.size(), 3); // 500, the same page, the empty page
    QCOMPARE(pages.at(1).target, pages.at(0).target);
    QCOMPARE(storedTasks(), (QList<qint64>{1, 2, 3}));

    // A page that keeps failing: tried pageRetries more times, then the reconcile fails.
    ls.failingPages = 100;
    const int from = int(fake.requests().size());
    outcome = reconcile();
    QVERIFY(!outcome.error.isEmpty());
    QCOMPARE(listings(fake, from).size(), 1 + options.pageRetries);
    QCOMPARE(outcome.retryInMs, options.retryBaseMs);
    QCOMPARE(storedTasks(), (QList<qint64>{1, 2, 3}));
}

void TestReconciler::diffFetchesOnlyDifferingTasks()
{
    LsProject ls;
    for (qint64 id = 1; id <= 6; ++id)
        ls.tasks[id] = LsTask{};
    FakeLabelStudio fake([&](const FakeRequest &r, int) { return ls.answer(r); });
    Reconciler::Options options;
    options.pageSize = 4;
    m_reconciler->setOptions(options);
    connectTo(fake);
    QVERIFY(reconcile().error.isEmpty());

    // Task 2 got an annotation; task 4 too, but it is deleted before the reconcile fetches it.
    ls.annotate(2);
    ls.annotate(4);
    ls.goneOnFetch.insert(4);
    const int from = int(fake.requests().size());
    const Reconciler::Outcome outcome = reconcile();
    QVERIFY2(outcome.error.isEmpty(), qPrintable(outcome.error));
    for (const FakeRequest &r : listings(fake, from))
        QCOMPARE(r.queryItem("fields"), QStringLiteral("task_only"));
    QCOMPARE(fetches(fake, from), (QStringList{QStringLiteral("/api/tasks/2/"), QStringLiteral("/api/tasks/4/")}));
    QCOMPARE(storedTasks(), (QList<qint64>{1, 2, 3, 5, 6})); // the 404 removed task 4
    QCOMPARE(m_store->taskSignatures(kKey)->value(2).annotations, 2);
    QCOMPARE(outcome.recovered, 2); // task 2's new annotation, task 4's deleted one
}

void TestReconciler::manyDifferingTasksReadInOnePass()
{
    LsProject ls;
    for (qint64 id = 1; id <= 5; ++id)
        ls.tasks[id] = LsTask{};
    FakeLabelStudio fake([&](const FakeRequest &r, int) { return ls.answer(r); });
    Reconciler::Options options;
    options.diffFetchLimit = 2;
    m_reconciler->setOptions(options);
    connectTo(fake);
    QVERIFY(reconcile().error.isEmpty());

    for (qint64 id : {1, 3, 5})
        ls.annotate(id);
    const int from = int(fake.requests().size());
    const Reconciler::Outcome outcome = reconcile();
    QVERIFY2(outcome.error.isEmpty(), qPrintable(outcome.error));
    QCOMPARE(outcome.mode(), QStringLiteral("full"));
    QVERIFY(fetches(fake, from).isEmpty()); // 3 differ, more than the limit: no GET each
    QStringList fields;
    QList<qint64> after;
    for (const FakeRequest &r : listings(fake, from)) {
        fields << r.queryItem("fields");
        after << afterIdOf(r);
    }
    // The task_only listing (a page and the empty one), then everything from the first id again.
    QCOMPARE(fields, (QStringList{QStringLiteral("task_only"), QStringLiteral("task_only"), QStringLiteral("all"),
                                  QStringLiteral("all")}));
    QCOMPARE(after, (QList<qint64>{0, 5, 0, 5}));
    const auto signatures = m_store->taskSignatures(kKey);
    for (qint64 id : {1, 3, 5})
        QCOMPARE(signatures->value(id).annotations, 2);
    QCOMPARE(outcome.recovered, 3);
}

void TestReconciler::goneTasksRemovedAtTheEnd()
{
    LsProject ls;
    for (qint64 id = 1; id <= 4; ++id)
        ls.tasks[id] = LsTask{};
    FakeLabelStudio fake([&](const FakeRequest &r, int) { return ls.answer(r); });
    Reconciler::Options options;
    options.pageSize = 2;
    m_reconciler->setOptions(options);
    connectTo(fake);
    QVERIFY(reconcile().error.isEmpty());

    // Tasks 2 and 4 are deleted in Label Studio. While the listing runs, a webhook brings task 9,
    // which no page lists: heard of after the listing began, it stays.
    ls.tasks.remove(2);
    ls.tasks.remove(4);
    QList<QList<qint64>> storedAtListing;
    bool webhookSent = false;
    fake.onRequest = [&](const FakeRequest &r) {
        if (r.path() != QLatin1String("/api/tasks/"))
            return;
        storedAtListing << storedTasks();
        if (!std::exchange(webhookSent, true)) {
            loopdeck::store::ChangeSet webhook;
            loopdeck::store::TaskChange task;
            task.id = 9;
            task.dataJson = R"({"text":"task 9"})";
            webhook.tasks.push_back(task);
            QVERIFY(m_store->apply(kKey, webhook));
        }
    };
    const Reconciler::Outcome outcome = reconcile();
    QVERIFY2(outcome.error.isEmpty(), qPrintable(outcome.error));
    QCOMPARE(storedTasks(), (QList<qint64>{1, 3, 9}));
    QCOMPARE(outcome.recovered, 2); // the deleted tasks' annotations
    // Nothing was removed while pages were still coming.
    QVERIFY(!storedAtListing.isEmpty());
    for (const QList<qint64> &ids : std::as_const(storedAtListing))
        QVERIFY(ids.contains(2) && ids.contains(4));
}

void TestReconciler::clientChangeDropsAnswersAndRetries()
{
    LsProject ls;
    for (qint64 id = 1; id <= 3; ++id)
        ls.tasks[id] = LsTask{};
    FakeLabelStudio fake([&](const FakeRequest &r, int) { return ls.answer(r); });
    Reconciler::Options options;
    options.retryBaseMs = 300;
    m_reconciler->setOptions(options);
    connectTo(fake);

    // The client changes (to one for a server that does not answer yet) while the first page is
    // on its way; the old server's answer arrives after.
    FakeLabelStudio silent([](const FakeRequest &, int) { return QByteArray(); });
    LabelStudioClient other;
    other.setServer(silent.url(), kToken);
    const quint64 generation = m_reconciler->generation();
    fake.onRequest = [&](const FakeRequest &r) {
        if (r.path() == QLatin1String("/api/tasks/"))
            m_reconciler->setClient(&other);
    };
    QVERIFY(m_reconciler->sync(kKey, true));
    QTRY_VERIFY_WITH_TIMEOUT(!listings(fake).isEmpty(), kTimeout);
    QVERIFY(m_reconciler->generation() > generation);
    QVERIFY(!m_reconciler->isRunning(kKey));
    QVERIFY(!m_reconciler->listedKey(1).has_value()); // the new server's listing has not answered
    QTest::qWait(500);
    QVERIFY(m_finished.isEmpty());     // the answer was dropped
    QVERIFY(storedTasks().isEmpty());  // and nothing of it reached the store
    QCOMPARE(listings(fake).size(), 1);
    QCOMPARE(silent.paths(), QStringList{QStringLiteral("/api/projects/")}); // nothing of the old job went there

    // A failed reconcile is tried again by itself — but not once the client changed: its
    // retry never reaches the next server.
    fake.onRequest = nullptr;
    FakeLabelStudio failing([&](const FakeRequest &r, int) {
        return r.path() == QLatin1String("/api/tasks/") ? httpResponse(403, R"({"detail": "no"})") : ls.answer(r);
    });
    connectTo(failing);
    QVERIFY(m_reconciler->sync(kKey, true));
    QTRY_COMPARE_WITH_TIMEOUT(m_finished.size(), 2, kTimeout); // failed, then failed again on its retry
    QVERIFY(!m_finished.at(0).second.error.isEmpty());
    QCOMPARE(m_finished.at(0).second.retryInMs, 300);
    QCOMPARE(m_finished.at(1).second.retryInMs, 600); // doubling
    FakeLabelStudio next([&](const FakeRequest &r, int) { return ls.answer(r); });
    connectTo(next);
    QTest::qWait(1500);
    QCOMPARE(m_finished.size(), 2);
    QCOMPARE(next.paths(), QStringList{QStringLiteral("/api/projects/")}); // its listing, no reconcile
}

void TestReconciler::listingMapsIdsToKeys()
{
    LsProject ls;
    ls.projects = {{1, QString::fromLatin1(kCreated)}, {2, QStringLiteral("2025-11-26T08:30:00Z")}, {7, QString::fromLatin1(kCreated)}};
    ls.projectsPerPage = 2; // two pages
    FakeLabelStudio fake([&](const FakeRequest &r, int) { return ls.answer(r); });
    const QString otherServers3 = QStringLiteral("3.1700000000");
    const QString otherServers7 = QStringLiteral("7.1700000000");
    m_reconciler->setProjects([&] { return QStringList{kKey, otherServers3, otherServers7}; });
    QObject context; // the connections below end with the test's locals
    QList<bool> initial;
    QHash<qint64, QString> found;
    connect(m_reconciler.get(), &Reconciler::listed, &context,
            [&](const QHash<qint64, QString> &f, const QHash<qint64, QString> &, bool i) {
                found = f;
                initial << i;
            });

    m_client->setServer(fake.url(), kToken);
    m_reconciler->setClient(m_client.get());
    QVERIFY(!m_reconciler->listedKey(1).has_value()); // nothing known before the listing ends
    QVERIFY(!m_reconciler->sync(kKey, true));         // nor reconciled
    QTRY_COMPARE_WITH_TIMEOUT(initial, QList<bool>{true}, kTimeout);
    QCOMPARE(fake.paths(), (QStringList{QStringLiteral("/api/projects/"), QStringLiteral("/api/projects/")}));
    QCOMPARE(found.size(), 3);
    QCOMPARE(m_reconciler->keyOnServer(1), kKey);
    QCOMPARE(m_reconciler->keyOnServer(2), QStringLiteral("2.1764145800"));
    QCOMPARE(m_reconciler->keyOnServer(7), QStringLiteral("7.1764064800"));
    QCOMPARE(m_reconciler->keyOnServer(3), QString());
    QCOMPARE(m_reconciler->listedKey(3), std::optional<QString>(QString()));

    // Another server's projects 3 and 7 (this listing checked them): not reconciled, no new listing.
    const int from = int(fake.requests().size());
    QVERIFY(!m_reconciler->onServer(otherServers3));
    QVERIFY(!m_reconciler->sync(otherServers3, true));
    QVERIFY(!m_reconciler->sync(otherServers7, true));
    QTest::qWait(200);
    QCOMPARE(fake.requests().size(), from);

    // A key no listing has checked (a project made since?): one new listing, however often asked.
    const QString newKey = QStringLiteral("8.1764064800");
    QVERIFY(!m_reconciler->sync(newKey, true));
    QVERIFY(!m_reconciler->sync(newKey, true));
    QTRY_COMPARE_WITH_TIMEOUT(initial, (QList<bool>{true, false}), kTimeout);
    QCOMPARE(fake.paths().mid(from), (QStringList{QStringLiteral("/api/projects/"), QStringLiteral("/api/projects/")}));

    // This server's project is reconciled.
    QVERIFY(reconcile().error.isEmpty());
    QCOMPARE(m_finished.constLast().first, kKey);

    // A listing that fails says so, and nothing is known of that server.
    FakeLabelStudio broken([](const FakeRequest &, int) { return httpResponse(500, R"({"detail": "down"})"); });
    QStringList failures;
    connect(m_reconciler.get(), &Reconciler::listingFailed, &context, [&](const QString &error) { failures << error; });
    m_client->setServer(broken.url(), kToken);
    m_reconciler->setClient(m_client.get());
    QTRY_COMPARE_WITH_TIMEOUT(failures.size(), 1, kTimeout);
    QVERIFY(!m_reconciler->listedKey(1).has_value());
    QVERIFY(!m_reconciler->sync(kKey, true));
}

void TestReconciler::failuresKeepOneRetryChain()
{
    // Reconciles asked for while the server fails (the periodic sync, a button) must not each
    // start a retry chain of their own: one pending retry per project, whatever asked.
    LsProject ls;
    for (qint64 id = 1; id <= 3; ++id)
        ls.tasks[id] = LsTask{};
    FakeLabelStudio failing([&](const FakeRequest &r, int) {
        return r.path() == QLatin1String("/api/tasks/") ? httpResponse(403, R"({"detail": "no"})") : ls.answer(r);
    });
    Reconciler::Options options;
    options.retryBaseMs = 200;
    options.retryMaxMs = 200;
    m_reconciler->setOptions(options);
    connectTo(failing);
    for (int i = 0; i < 5; ++i) {
        QTRY_VERIFY_WITH_TIMEOUT(!m_reconciler->isRunning(kKey), kTimeout);
        const qsizetype before = m_finished.size();
        if (m_reconciler->sync(kKey, false))
            QTRY_VERIFY_WITH_TIMEOUT(m_finished.size() > before, kTimeout);
    }
    const qsizetype from = m_finished.size();
    QTest::qWait(2000);
    const qsizetype attempts = m_finished.size() - from;
    // One chain: a retry every 200 ms plus the reconcile's own time, so at most about 10.
    QVERIFY2(attempts >= 3, qPrintable(QStringLiteral("the failing reconcile was not retried (%1)").arg(attempts)));
    QVERIFY2(attempts <= 12, qPrintable(QStringLiteral("%1 failed reconciles in 2 s: retry chains multiply").arg(attempts)));
    for (qsizetype i = from; i < m_finished.size(); ++i)
        QVERIFY(!m_finished.at(i).second.error.isEmpty());
}

void TestReconciler::failedListingIsRetried()
{
    // Label Studio still starting when LoopDeck connects: the listing of its projects fails
    // once, is tried again by itself, and the loop's project is reconciled after all.
    LsProject ls;
    ls.tasks[1] = LsTask{};
    int projectListings = 0;
    FakeLabelStudio flaky([&](const FakeRequest &r, int) {
        if (r.path() == QLatin1String("/api/projects/") && projectListings++ == 0)
            return httpResponse(503, R"({"detail": "starting"})");
        return ls.answer(r);
    });
    Reconciler::Options options;
    options.retryBaseMs = 200;
    options.retryMaxMs = 200;
    m_reconciler->setOptions(options);
    QStringList failures;
    bool initialListing = false;
    QObject context;
    connect(m_reconciler.get(), &Reconciler::listingFailed, &context, [&](const QString &e) { failures << e; });
    connect(m_reconciler.get(), &Reconciler::listed, &context,
            [&](const QHash<qint64, QString> &, const QHash<qint64, QString> &, bool initial) { initialListing = initial; });
    m_client->setServer(flaky.url(), kToken);
    m_reconciler->setClient(m_client.get());
    QTRY_COMPARE_WITH_TIMEOUT(failures.size(), 1, kTimeout);
    QVERIFY(!m_reconciler->listedKey(1).has_value());
    QTRY_VERIFY_WITH_TIMEOUT(m_reconciler->listedKey(1).has_value(), kTimeout);
    QCOMPARE(projectListings, 2);
    QVERIFY(initialListing); // still the connect's listing: every project of the server is reconciled
    QCOMPARE(m_reconciler->keyOnServer(1), kKey);
    const auto outcome = reconcile();
    QVERIFY2(outcome.error.isEmpty(), qPrintable(outcome.error));
}

QTEST_MAIN(TestReconciler)
#include "tst_reconciler.moc"
