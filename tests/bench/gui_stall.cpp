// How long the loop engine blocks the thread it lives on (the GUI thread in the window) for a
// big project: a store with N annotated tasks (default 50,000), the engine on it with the
// default settings, a window-like reader that asks status() and versionDetails() after every
// statusChanged/versionsChanged, coalesced 50 ms as the model page does, and a storm
// of annotation webhooks from another thread (as Label Studio sends them while people label).
// A 1 ms timer on the engine's thread measures the longest gap between its ticks.
//   bench_gui_stall [annotations] [webhooks] [seconds]
// Prints one JSON line. tests/bench/gui_stall.sh runs it and writes docs/benchmarks.md's figures.
#include "core/backend/backendtypes.h"
#include "core/backend/predictionservice.h"
#include "core/loop/loopengine.h"
#include "core/store/loopstore.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTimer>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <thread>

#include <time.h>

using namespace loopdeck;
using nlohmann::json;

namespace {

const char *const kConfig = "<View><Text name=\"text\" value=\"$text\"/><Choices name=\"sentiment\" toName=\"text\" "
                            "choice=\"single\"><Choice value=\"Positive\"/><Choice value=\"Negative\"/></Choices></View>";
const QString kKey = QStringLiteral("1.1764064800");

std::string textOf(int i)
{
    static const std::string pos[] = {"great", "lovely", "excellent", "happy", "fine"};
    static const std::string neg[] = {"awful", "broken", "terrible", "sad", "slow"};
    const std::string *words = i % 2 == 0 ? pos : neg;
    std::string text = "review ";
    text += std::to_string(i);
    text += " was ";
    text += words[i % 5];
    text += " and ";
    text += words[(i / 5) % 5];
    return text;
}

json annotationOf(int task, int id)
{
    json choices = json::array();
    choices.push_back(task % 2 == 0 ? std::string("Positive") : std::string("Negative"));
    json value = json::object();
    value["choices"] = choices;
    json region = json::object();
    region["from_name"] = "sentiment";
    region["to_name"] = "text";
    region["type"] = "choices";
    region["value"] = value;
    json result = json::array();
    result.push_back(region);
    return json{{"id", id},
                {"task", task},
                {"result", result},
                {"was_cancelled", false},
                {"ground_truth", false},
                {"updated_at", "2026-11-25T10:00:00.000000Z"}};
}

// CPU time of the calling thread, in microseconds.
qint64 threadCpuUs()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return qint64(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int annotations = argc > 1 ? std::atoi(argv[1]) : 50000;
    const int webhooks = argc > 2 ? std::atoi(argv[2]) : 500;
    const int seconds = argc > 3 ? std::atoi(argv[3]) : 30;
    QTemporaryDir dir;

    // The store, filled directly (as a finished first reconcile would leave it).
    QElapsedTimer fill;
    fill.start();
    {
        store::LoopStore s;
        if (!s.open(dir.path())) {
            std::fprintf(stderr, "cannot open the store\n");
            return 1;
        }
        (void)s.setLabelConfig(kKey, QString::fromLatin1(kConfig));
        for (int from = 1; from <= annotations; from += 1000) {
            store::ChangeSet page;
            page.snapshotAtMs = 1;
            for (int t = from; t < from + 1000 && t <= annotations; ++t) {
                store::TaskChange task;
                task.id = t;
                task.dataJson = json{{"text", textOf(t)}}.dump();
                task.annotationsComplete = true;
                store::AnnotationChange a;
                a.id = t;
                a.taskId = t;
                a.resultJson = annotationOf(t, t)["result"].dump();
                a.updatedAtMs = 1764064800000;
                task.annotations.push_back(a);
                page.tasks.push_back(task);
            }
            if (!s.apply(kKey, page)) {
                std::fprintf(stderr, "cannot fill the store\n");
                return 1;
            }
        }
        (void)s.markTrained(kKey, s.project(kKey)->changeSeq); // trained already: only the storm counts
    }
    const double fillSeconds = fill.elapsed() / 1000.0;

    loop::LoopEngine engine;
    if (const Status opened = engine.open(dir.path(), loop::LoopSettings()); !opened) {
        std::fprintf(stderr, "%s\n", qPrintable(opened.error()));
        return 1;
    }
    engine.predictionService()->setLabelConfig(kKey, QString::fromLatin1(kConfig));

    // The window: reads status and versions on every change, as the model page does.
    // Each read is timed on the wall clock and on the thread's CPU clock: a read that waits
    // (for a lock, or for a core the machine's other work holds) shows a wall time well above
    // its CPU time.
    int reads = 0;
    qint64 longestRead = 0, longestReadCpu = 0, longestStatus = 0, longestVersions = 0;
    const auto read = [&](const QString &key) {
        if (key != kKey)
            return;
        QElapsedTimer t;
        t.start();
        const qint64 cpu0 = threadCpuUs();
        (void)engine.status(kKey);
        const qint64 afterStatus = t.nsecsElapsed() / 1000;
        (void)engine.versionDetails(kKey);
        const qint64 total = t.nsecsElapsed() / 1000;
        longestStatus = std::max(longestStatus, afterStatus);
        longestVersions = std::max(longestVersions, total - afterStatus);
        longestRead = std::max(longestRead, total);
        longestReadCpu = std::max(longestReadCpu, threadCpuUs() - cpu0);
        ++reads;
    };
    // Coalesced like the model page (a burst of changes makes one read 50 ms later).
    QTimer coalesce;
    coalesce.setSingleShot(true);
    coalesce.setInterval(50);
    QObject::connect(&coalesce, &QTimer::timeout, &app, [&] { read(kKey); });
    const auto changed = [&](const QString &key) {
        if (key == kKey && !coalesce.isActive())
            coalesce.start();
    };
    QObject::connect(&engine, &loop::LoopEngine::statusChanged, &app, changed);
    QObject::connect(&engine, &loop::LoopEngine::versionsChanged, &app, changed);

    // The stall meter.
    QElapsedTimer clock;
    clock.start();
    qint64 last = 0, longest = 0;
    QTimer tick;
    tick.setInterval(1);
    QObject::connect(&tick, &QTimer::timeout, &app, [&] {
        const qint64 now = clock.nsecsElapsed() / 1000;
        if (last > 0)
            longest = std::max(longest, now - last);
        last = now;
    });
    tick.start();

    // Label Studio's webhooks, from another thread (the HTTP threads in real life).
    std::atomic<int> sent{0};
    std::thread storm([&] {
        for (int i = 0; i < webhooks; ++i) {
            const int task = annotations + 1 + i;
            backend::WebhookEvent e;
            e.action = QStringLiteral("ANNOTATION_CREATED");
            e.projectId = kKey;
            e.payload = QByteArray::fromStdString(json{{"action", "ANNOTATION_CREATED"},
                                                       {"annotation", annotationOf(task, task)},
                                                       {"task", {{"id", task}, {"data", {{"text", textOf(task)}}}}},
                                                       {"project", {{"id", 1}}}}
                                                      .dump());
            (void)engine.ingestWebhook(e);
            ++sent;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    QTimer::singleShot(seconds * 1000, &app, &QCoreApplication::quit);
    app.exec();
    storm.join();
    const QJsonObject status = engine.status(kKey).body;
    std::printf("%s\n", QJsonDocument(QJsonObject{{QStringLiteral("annotations"), annotations},
                                                  {QStringLiteral("webhooks"), sent.load()},
                                                  {QStringLiteral("seconds"), seconds},
                                                  {QStringLiteral("fill_seconds"), fillSeconds},
                                                  {QStringLiteral("reads"), reads},
                                                  {QStringLiteral("longest_read_ms"), double(longestRead) / 1000.0},
                                                  {QStringLiteral("longest_read_cpu_ms"), double(longestReadCpu) / 1000.0},
                                                  {QStringLiteral("longest_status_ms"), double(longestStatus) / 1000.0},
                                                  {QStringLiteral("longest_versions_ms"), double(longestVersions) / 1000.0},
                                                  {QStringLiteral("longest_stall_ms"), double(longest) / 1000.0},
                                                  {QStringLiteral("usable_examples"), status.value(QStringLiteral("usable_examples"))},
                                                  {QStringLiteral("active_version"), status.value(QStringLiteral("active_version"))},
                                                  {QStringLiteral("versions"), engine.versionDetails(kKey).size()},
                                                  {QStringLiteral("state"), status.value(QStringLiteral("state"))},
                                                  {QStringLiteral("last_error"), status.value(QStringLiteral("last_error"))}})
                            .toJson(QJsonDocument::Compact)
                            .constData());
    return 0;
}
