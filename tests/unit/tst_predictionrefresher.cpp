// PredictionRefresher's error paths against a scripted fake Label Studio on loopback, through the
// real LabelStudioClient: batches and their `created` counts, retries of its own batch on 5xx
// (not after a time-out), "failed" without a model_version PATCH, "incomplete" when Label Studio drops
// predictions (batchStored() only for whole batches), no PATCH when nothing was stored, waiting
// for annotators (annotatorActivity()), "superseded" and cancelAll(). A fake is right here: a
// real Label Studio does not answer 500 or drop predictions on request.
#include "core/loop/predictionrefresher.h"
#include "fakelabelstudio.h"
#include "labelstudio/labelstudioclient.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>

#include <functional>
#include <memory>

using loopdeck::labelstudio::LabelStudioClient;
using loopdeck::loop::PredictionRefresher;
using loopdeck::test::FakeLabelStudio;

namespace {

constexpr int kTimeout = 10000;
constexpr qint64 kProject = 7;
using Stored = QList<QPair<qint64, QStringList>>;

using Seen = loopdeck::test::FakeRequest;

bool isImport(const Seen &s)
{
    return s.method == "POST" && s.target.endsWith("/import/predictions");
}

bool isPatch(const Seen &s)
{
    return s.method == "PATCH";
}

// Task ids of an import body, in order.
QList<qint64> tasksOf(const Seen &s)
{
    QList<qint64> out;
    for (const QJsonValue &v : QJsonDocument::fromJson(s.body).array())
        out << v.toObject().value(QStringLiteral("task")).toInteger();
    return out;
}

QByteArray response(int status, const QByteArray &body)
{
    return loopdeck::test::httpResponse(status, body);
}

QByteArray created(int n)
{
    return response(201, R"({"created": )" + QByteArray::number(n) + "}");
}

QList<Seen> importsOf(const FakeLabelStudio &server)
{
    QList<Seen> out;
    for (const Seen &s : server.requests())
        if (isImport(s))
            out << s;
    return out;
}

int patchesOf(const FakeLabelStudio &server)
{
    int n = 0;
    for (const Seen &s : server.requests())
        n += isPatch(s) ? 1 : 0;
    return n;
}

// Answers every import with created = its size and every PATCH with 200.
QByteArray storeAll(const Seen &s, int)
{
    if (isImport(s))
        return created(int(tasksOf(s).size()));
    return response(200, "{}");
}

// Five predictions for tasks 101..105, labels a/b alternating: batches of 2, 2 and 1.
std::shared_ptr<PredictionRefresher::Job> makeJob(int batchSize = 2, bool uncertainty = false)
{
    std::vector<QByteArray> bodies;
    Stored labels;
    for (qint64 task = 101; task <= 105; ++task) {
        const QString label = task % 2 ? QStringLiteral("a") : QStringLiteral("b");
        const QJsonObject one{{QStringLiteral("task"), task},
                              {QStringLiteral("model_version"), QStringLiteral("loopdeck-v3")},
                              {QStringLiteral("score"), 0.75},
                              {QStringLiteral("result"), QJsonArray{QJsonObject{{QStringLiteral("from_name"), QStringLiteral("label")},
                                                                               {QStringLiteral("to_name"), QStringLiteral("text")},
                                                                               {QStringLiteral("type"), QStringLiteral("choices")},
                                                                               {QStringLiteral("value"),
                                                                                QJsonObject{{QStringLiteral("choices"),
                                                                                             QJsonArray{label}}}}}}}};
        bodies.push_back(QJsonDocument(one).toJson(QJsonDocument::Compact));
        labels.append({task, QStringList{label}});
    }
    auto job = std::make_shared<PredictionRefresher::Job>();
    job->projectKey = QStringLiteral("7.1700000000");
    job->lsProjectId = kProject;
    job->version = 3;
    job->versionName = QStringLiteral("loopdeck-v3");
    job->uncertaintySampling = uncertainty;
    job->batches = PredictionRefresher::makeBatches(bodies, labels, batchSize);
    return job;
}

// The refresher with the test's small options, a real client pointed at the fake, and spies.
struct Rig {
    explicit Rig(FakeLabelStudio::Script script)
        : server(std::move(script))
    {
        client.setServer(server.url(), QStringLiteral("0123456789abcdef0123456789abcdef01234567"));
        client.setTimeout(std::chrono::milliseconds(2000));
        PredictionRefresher::Options o;
        o.batchSize = 2;
        o.pauseMs = 10;
        o.quietMs = 200;
        o.retryBaseMs = 20;
        refresher.setOptions(o);
        refresher.setClient(&client);
    }

    // finished()'s arguments as one value: state, sent, created, error.
    struct Outcome {
        QString state;
        int sent = -1;
        int created = -1;
        QString error;
    };
    Outcome waitFinished()
    {
        if (finished.isEmpty() && !finished.wait(kTimeout))
            return {};
        const QList<QVariant> args = finished.constFirst();
        return {args.at(2).toString(), args.at(3).toInt(), args.at(4).toInt(), args.at(5).toString()};
    }
    // The task ids of every batchStored() signal, in order.
    QList<QList<qint64>> storedBatches() const
    {
        QList<QList<qint64>> out;
        for (const QList<QVariant> &args : stored) {
            QList<qint64> ids;
            for (const auto &p : args.at(2).value<Stored>())
                ids << p.first;
            out << ids;
        }
        return out;
    }

    FakeLabelStudio server;
    LabelStudioClient client;
    PredictionRefresher refresher;
    QSignalSpy finished{&refresher, &PredictionRefresher::finished};
    QSignalSpy stored{&refresher, &PredictionRefresher::batchStored};
    QSignalSpy progress{&refresher, &PredictionRefresher::progress};
};

const QList<QList<qint64>> kAllBatches{{101, 102}, {103, 104}, {105}};

} // namespace

class TestPredictionRefresher final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { qRegisterMetaType<Stored>(); }

    void makeBatchesSplits()
    {
        const auto job = makeJob(2);
        QCOMPARE(job->batches.size(), std::size_t(3));
        QCOMPARE(job->batches[2].predictions.size(), 1);
        const QJsonArray first = QJsonDocument::fromJson(job->batches[0].body).array();
        QCOMPARE(first.size(), 2);
        QCOMPARE(first.at(1).toObject().value(QStringLiteral("task")).toInteger(), 102);
        QCOMPARE(PredictionRefresher::makeBatches({}, {}, 2).size(), std::size_t(0));
        QCOMPARE(makeJob(0)->batches.size(), std::size_t(5)); // batch size below 1 = 1
    }

    // Every batch stored: done, one PATCH with the version after the last batch, batchStored for each.
    void allCreated()
    {
        Rig rig(storeAll);
        rig.refresher.start(makeJob(2, true));
        const auto out = rig.waitFinished();
        QCOMPARE(out.state, QStringLiteral("done"));
        QCOMPARE(out.sent, 5);
        QCOMPARE(out.created, 5);
        QCOMPARE(out.error, QString());

        const QList<Seen> &seen = rig.server.requests();
        QCOMPARE(seen.size(), 4);
        for (int i = 0; i < 3; ++i) {
            QVERIFY(isImport(seen[i]));
            QCOMPARE(seen[i].target, QByteArray("/api/projects/7/import/predictions"));
            QCOMPARE(tasksOf(seen[i]), kAllBatches[i]);
        }
        QCOMPARE(seen[3].method, QByteArray("PATCH"));
        QCOMPARE(seen[3].target, QByteArray("/api/projects/7/"));
        const QJsonObject patch = QJsonDocument::fromJson(seen[3].body).object();
        QCOMPARE(patch.value(QStringLiteral("model_version")).toString(), QStringLiteral("loopdeck-v3"));
        QCOMPARE(patch.value(QStringLiteral("sampling")).toString(), QStringLiteral("Uncertainty sampling"));

        QCOMPARE(rig.storedBatches(), kAllBatches);
        QCOMPARE(rig.stored.constFirst().at(0).toString(), QStringLiteral("7.1700000000"));
        QCOMPARE(rig.stored.constFirst().at(1).toInt(), 3);
        QCOMPARE(rig.stored.constFirst().at(2).value<Stored>().constFirst().second, QStringList{QStringLiteral("a")});
        QCOMPARE(rig.progress.size(), 3);
        QCOMPARE(rig.progress.constLast().at(2).toInt(), 5); // sent
        QCOMPARE(rig.progress.constLast().at(3).toInt(), 5); // created
    }

    // Without uncertainty sampling the PATCH carries only the version (sampling is the user's).
    void patchWithoutSampling()
    {
        Rig rig(storeAll);
        rig.refresher.start(makeJob(2, false));
        QCOMPARE(rig.waitFinished().state, QStringLiteral("done"));
        QCOMPARE(patchesOf(rig.server), 1);
        const QJsonObject patch = QJsonDocument::fromJson(rig.server.requests().constLast().body).object();
        QCOMPARE(patch.keys(), QStringList{QStringLiteral("model_version")});
    }

    // A 500 on the second batch: that batch (the same body) is sent again, then the rest.
    void serverErrorRetried()
    {
        Rig rig([](const Seen &s, int index) { return index == 1 ? response(500, R"({"detail":"database is locked"})") : storeAll(s, index); });
        rig.refresher.start(makeJob());
        const auto out = rig.waitFinished();
        QCOMPARE(out.state, QStringLiteral("done"));
        QCOMPARE(out.created, 5);
        const QList<Seen> imports = importsOf(rig.server);
        QCOMPARE(imports.size(), 4);
        QCOMPARE(imports[1].body, imports[2].body); // the failed batch again, not the next one
        QCOMPARE(tasksOf(imports[2]), kAllBatches[1]);
        QVERIFY2(imports[2].atMs - imports[1].atMs >= 20, "retried before retryBaseMs");
        QCOMPARE(rig.storedBatches(), kAllBatches); // the retried batch counts once
        QCOMPARE(patchesOf(rig.server), 1);
    }

    // No answer at all (the client's time-out): not retried — Label Studio may have stored the
    // batch, and a second import would duplicate it. The job fails, without a PATCH.
    void timeoutNotRetried()
    {
        Rig rig([](const Seen &s, int index) { return index == 0 ? QByteArray() : storeAll(s, index); });
        rig.client.setTimeout(std::chrono::milliseconds(300));
        rig.refresher.start(makeJob());
        const auto out = rig.waitFinished();
        QCOMPARE(out.state, QStringLiteral("failed"));
        QVERIFY2(!out.error.isEmpty(), "a failed refresh says why");
        QCOMPARE(importsOf(rig.server).size(), 1);
        QCOMPARE(patchesOf(rig.server), 0);
        QVERIFY(rig.stored.isEmpty());
    }

    // 500 forever: the first batch is tried 1 + retries times, then "failed"; nothing else is sent.
    void serverErrorForever()
    {
        Rig rig([](const Seen &, int) { return response(500, R"({"detail":"database is locked"})"); });
        auto options = rig.refresher.options();
        options.retries = 3;
        rig.refresher.setOptions(options);
        rig.refresher.start(makeJob());
        const auto out = rig.waitFinished();
        QCOMPARE(out.state, QStringLiteral("failed"));
        QCOMPARE(out.sent, 0);
        QCOMPARE(out.created, 0);
        QVERIFY2(out.error.contains(QLatin1String("4 tries")), qPrintable(out.error));
        QCOMPARE(importsOf(rig.server).size(), 4);
        for (const Seen &s : importsOf(rig.server))
            QCOMPARE(tasksOf(s), kAllBatches[0]);
        QCOMPARE(patchesOf(rig.server), 0);
        QVERIFY(rig.stored.isEmpty());
        // nothing more arrives afterwards
        QTest::qWait(200);
        QCOMPARE(rig.server.requests().size(), 4);
    }

    // A 4xx is the batch's own fault: not retried, the other batches still go, "incomplete".
    void clientErrorSkipsBatch()
    {
        Rig rig([](const Seen &s, int index) { return index == 0 ? response(400, R"({"detail":"task 101 does not exist"})") : storeAll(s, index); });
        rig.refresher.start(makeJob());
        const auto out = rig.waitFinished();
        QCOMPARE(out.state, QStringLiteral("incomplete"));
        QCOMPARE(out.sent, 5);
        QCOMPARE(out.created, 3);
        QVERIFY(!out.error.isEmpty());
        QCOMPARE(importsOf(rig.server).size(), 3);
        QCOMPARE(rig.storedBatches(), (QList<QList<qint64>>{{103, 104}, {105}}));
        QCOMPARE(patchesOf(rig.server), 1); // Label Studio holds some: the project shows the version
    }

    // Label Studio stored one of the second batch's two: incomplete, that batch is not reported
    // as stored (we cannot tell which one it kept), the version is still set.
    void fewerCreated()
    {
        Rig rig([](const Seen &s, int index) { return index == 1 ? created(1) : storeAll(s, index); });
        rig.refresher.start(makeJob());
        const auto out = rig.waitFinished();
        QCOMPARE(out.state, QStringLiteral("incomplete"));
        QCOMPARE(out.sent, 5);
        QCOMPARE(out.created, 4);
        QVERIFY2(out.error.contains(QLatin1String("1 of 2")), qPrintable(out.error));
        QCOMPARE(rig.storedBatches(), (QList<QList<qint64>>{{101, 102}, {105}}));
        QCOMPARE(patchesOf(rig.server), 1);
    }

    // A `created` larger than the batch (or a missing one) is not believed beyond the batch size.
    void createdIsCapped()
    {
        Rig rig([](const Seen &s, int index) {
            if (index == 0)
                return created(50);
            if (index == 1)
                return response(201, "{}");
            return storeAll(s, index);
        });
        rig.refresher.start(makeJob());
        const auto out = rig.waitFinished();
        QCOMPARE(out.state, QStringLiteral("incomplete"));
        QCOMPARE(out.created, 3); // 2 (capped) + 0 (missing) + 1
        QCOMPARE(rig.storedBatches(), (QList<QList<qint64>>{{101, 102}, {105}}));
    }

    // Nothing stored anywhere: no PATCH (Label Studio would show a version it has no predictions of).
    void createdZeroEverywhere()
    {
        Rig rig([](const Seen &s, int index) { return isImport(s) ? created(0) : storeAll(s, index); });
        rig.refresher.start(makeJob());
        const auto out = rig.waitFinished();
        QCOMPARE(out.state, QStringLiteral("incomplete"));
        QCOMPARE(out.sent, 5);
        QCOMPARE(out.created, 0);
        QVERIFY(!out.error.isEmpty());
        QCOMPARE(importsOf(rig.server).size(), 3);
        QCOMPARE(patchesOf(rig.server), 0);
        QVERIFY(rig.stored.isEmpty());
    }

    // An annotator saved just before the start: the first batch waits until quietMs have passed.
    void waitsForAnnotators()
    {
        Rig rig(storeAll);
        const int quietMs = rig.refresher.options().quietMs;
        QElapsedTimer sinceActivity;
        sinceActivity.start();
        const qint64 serverStart = rig.server.clock().elapsed();
        rig.refresher.annotatorActivity();
        rig.refresher.start(makeJob());
        QCOMPARE(rig.waitFinished().state, QStringLiteral("done"));
        const qint64 firstPost = importsOf(rig.server).constFirst().atMs - serverStart;
        QVERIFY2(firstPost >= quietMs, qPrintable(QStringLiteral("first POST after %1 ms").arg(firstPost)));
        QVERIFY2(firstPost < quietMs + 3000, qPrintable(QStringLiteral("first POST after %1 ms").arg(firstPost)));
        QVERIFY(sinceActivity.elapsed() >= quietMs);
    }

    // Without activity the first batch goes at once (the control for the case above).
    void noActivityNoWait()
    {
        Rig rig(storeAll);
        const qint64 serverStart = rig.server.clock().elapsed();
        rig.refresher.start(makeJob());
        QCOMPARE(rig.waitFinished().state, QStringLiteral("done"));
        const qint64 firstPost = importsOf(rig.server).constFirst().atMs - serverStart;
        QVERIFY2(firstPost < rig.refresher.options().quietMs, qPrintable(QStringLiteral("first POST after %1 ms").arg(firstPost)));
    }

    // An annotator saves while the first batch is in flight: the next batch waits quietMs from then.
    void activityMidJobPausesNextBatch()
    {
        Rig rig(storeAll);
        qint64 activityAt = -1;
        rig.server.onRequest = [&](const Seen &s) {
            if (isImport(s) && activityAt < 0) {
                activityAt = rig.server.clock().elapsed();
                rig.refresher.annotatorActivity();
            }
        };
        rig.refresher.start(makeJob());
        QCOMPARE(rig.waitFinished().state, QStringLiteral("done"));
        const QList<Seen> imports = importsOf(rig.server);
        QCOMPARE(imports.size(), 3);
        const qint64 gap = imports[1].atMs - activityAt;
        QVERIFY2(gap >= rig.refresher.options().quietMs, qPrintable(QStringLiteral("second POST %1 ms after the activity").arg(gap)));
        // The PATCH waits as well (it was quiet by then: it goes right after the last batch).
        QVERIFY(isPatch(rig.server.requests().constLast()));
    }

    // A newer version took over before the start: superseded, nothing sent.
    void supersededBeforeStart()
    {
        Rig rig(storeAll);
        int asked = 0;
        rig.refresher.setStillWanted([&](const PredictionRefresher::Job &job) {
            ++asked;
            return job.version != 3;
        });
        rig.refresher.start(makeJob());
        const auto out = rig.waitFinished();
        QCOMPARE(out.state, QStringLiteral("superseded"));
        QCOMPARE(out.sent, 0);
        QCOMPARE(asked, 1);
        QTest::qWait(100);
        QVERIFY(rig.server.requests().isEmpty());
        QCOMPARE(rig.finished.size(), 1);
    }

    // ... or after the first batch: it stops there, no PATCH.
    void supersededMidJob()
    {
        Rig rig(storeAll);
        rig.refresher.setStillWanted([&](const PredictionRefresher::Job &) { return importsOf(rig.server).isEmpty(); });
        rig.refresher.start(makeJob());
        const auto out = rig.waitFinished();
        QCOMPARE(out.state, QStringLiteral("superseded"));
        QCOMPARE(out.sent, 2);
        QCOMPARE(rig.server.requests().size(), 1);
        QCOMPARE(patchesOf(rig.server), 0);
    }

    // cancelAll() while a batch is in flight: its answer is ignored, nothing more is sent, no finished().
    void cancelAllInFlight()
    {
        Rig rig(storeAll);
        rig.server.onRequest = [&](const Seen &s) {
            if (isImport(s))
                rig.refresher.cancelAll();
        };
        rig.refresher.start(makeJob());
        QVERIFY(QTest::qWaitFor([&] { return !rig.server.requests().isEmpty(); }, kTimeout));
        QTest::qWait(500); // pauseMs 10, retryBaseMs 20: anything still scheduled would have gone
        QCOMPARE(rig.server.requests().size(), 1);
        QVERIFY(rig.finished.isEmpty());
        QVERIFY(rig.stored.isEmpty());
        QVERIFY(rig.progress.isEmpty());
    }

    // cancelAll() in the pause between two batches: the scheduled next batch does not go.
    void cancelAllBetweenBatches()
    {
        Rig rig(storeAll);
        connect(&rig.refresher, &PredictionRefresher::progress, &rig.refresher, [&] { rig.refresher.cancelAll(); });
        rig.refresher.start(makeJob());
        QVERIFY(rig.progress.wait(kTimeout));
        QTest::qWait(500);
        QCOMPARE(rig.server.requests().size(), 1);
        QVERIFY(rig.finished.isEmpty());
    }

    // cancelAll() while a failed batch waits for its retry: the retry does not go.
    void cancelAllDuringRetry()
    {
        Rig rig([](const Seen &, int) { return response(503, "{}"); });
        auto options = rig.refresher.options();
        options.retryBaseMs = 200;
        rig.refresher.setOptions(options);
        rig.refresher.start(makeJob());
        QVERIFY(QTest::qWaitFor([&] { return !rig.server.requests().isEmpty(); }, kTimeout));
        QTest::qWait(50); // the 503 is in; the retry is 200 ms away
        rig.refresher.cancelAll();
        QTest::qWait(600);
        QCOMPARE(rig.server.requests().size(), 1);
        QVERIFY(rig.finished.isEmpty());
    }

    // A job started after cancelAll() runs normally (the cancel drops only the jobs before it).
    void startAfterCancel()
    {
        Rig rig(storeAll);
        rig.refresher.cancelAll();
        rig.refresher.start(makeJob());
        QCOMPARE(rig.waitFinished().state, QStringLiteral("done"));
    }

    // Without a client: failed at once, with a sentence.
    void noClient()
    {
        PredictionRefresher refresher;
        QSignalSpy finished(&refresher, &PredictionRefresher::finished);
        refresher.start(makeJob());
        QCOMPARE(finished.size(), 1);
        QCOMPARE(finished.constFirst().at(2).toString(), QStringLiteral("failed"));
        QVERIFY(!finished.constFirst().at(5).toString().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestPredictionRefresher)
#include "tst_predictionrefresher.moc"
