#pragma once
// Sends a new version's predictions for unlabeled tasks to Label Studio
// (`POST /api/projects/{id}/import/predictions`), then makes the project show that version
// (`PATCH /api/projects/{id}` with `model_version`, and optionally uncertainty sampling).
//
// Annotators come first. Label Studio on SQLite (its default) holds one write lock: a large
// import makes an annotator's save fail with 500 "database is locked". So the refresher sends
// small batches with a pause between them, waits while annotators are saving (the loop tells it
// through annotatorActivity(), called for every annotation webhook), and retries its own batch
// later when Label Studio fails it (5xx, time-out), never the annotator's request.
//
// Honest: a batch counts as delivered only by the `created` Label Studio answers; the refresh is
// "done" only when every prediction sent was stored, "incomplete" otherwise, "failed" when a
// batch could not be delivered after its retries; `model_version` is set only when Label Studio
// holds at least one prediction of the version. batchStored() hands the loop exactly the
// predictions Label Studio confirmed (for live acceptance).
//
// Threads: lives in the loop engine's thread; annotatorActivity() may be called from any
// thread. Called by LoopEngine only.
#include <QByteArray>
#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QPair>
#include <QPointer>
#include <QString>
#include <QStringList>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

namespace loopdeck::labelstudio {
class LabelStudioClient;
}

namespace loopdeck::loop {

class PredictionRefresher final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PredictionRefresher)
public:
    struct Options {
        int batchSize = 100;        // predictions per import request
        int pauseMs = 250;          // between two batches
        int quietMs = 2000;         // annotators' last save must be this long ago
        int maxQuietWaitMs = 60000; // after this much waiting a batch goes anyway (still small)
        int retries = 6;            // of one failed batch, 1 s doubling
        int retryBaseMs = 1000;
    };

    struct Batch {
        QByteArray body;                                 // JSON list of predictions
        QList<QPair<qint64, QStringList>> predictions;   // task id -> labels, in the body's order
    };

    struct Job {
        QString projectKey;
        qint64 lsProjectId = 0;
        int version = 0;
        QString versionName;
        bool uncertaintySampling = false;
        std::vector<Batch> batches;
        // progress, filled in as it goes
        std::size_t next = 0;
        int sent = 0;
        int created = 0;
        int attempt = 0;
        int waitedMs = 0;
        QStringList problems;
    };

    explicit PredictionRefresher(QObject *parent = nullptr);
    ~PredictionRefresher() override;

    void setClient(labelstudio::LabelStudioClient *client);
    void setOptions(const Options &options) { m_options = options; }
    Options options() const { return m_options; }
    // Asked before every batch: false stops the job quietly (a newer version took over).
    void setStillWanted(std::function<bool(const Job &)> wanted) { m_wanted = std::move(wanted); }

    // Splits `predictions` (one JSON object each) into batches of options().batchSize.
    static std::vector<Batch> makeBatches(const std::vector<QByteArray> &predictions,
                                          const QList<QPair<qint64, QStringList>> &labels, int batchSize);

    void start(std::shared_ptr<Job> job);
    // An annotator saved, edited or deleted something (any thread).
    void annotatorActivity();
    // Drops every job (the connection changed); their answers are ignored.
    void cancelAll();

Q_SIGNALS:
    void progress(const QString &projectKey, int version, int sent, int created);
    void batchStored(const QString &projectKey, int version, const QList<QPair<qint64, QStringList>> &predictions);
    // state: done / incomplete / failed / superseded; error: a sentence ("" when done)
    void finished(const QString &projectKey, int version, const QString &state, int sent, int created, const QString &error);

private:
    void sendNext(std::shared_ptr<Job> job, quint64 generation);
    void setModelVersion(std::shared_ptr<Job> job, quint64 generation);
    int msSinceActivity() const;

    QPointer<labelstudio::LabelStudioClient> m_client;
    Options m_options;
    std::function<bool(const Job &)> m_wanted;
    QElapsedTimer m_clock;
    std::atomic<qint64> m_lastActivityMs{-1000000};
    quint64 m_generation = 0;
};

} // namespace loopdeck::loop
