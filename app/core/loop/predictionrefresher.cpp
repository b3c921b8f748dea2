#include "core/loop/predictionrefresher.h"

#include "core/labelstudio/labelstudioclient.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace loopdeck::loop {

using nlohmann::json;

namespace {

// Label Studio's failures that are worth a later try: its own trouble (5xx, "database is
// locked": the import was rolled back) and a refused connection (nothing was sent). Not a
// time-out: the import may have been stored, and a second one would duplicate it.
bool worthRetrying(const labelstudio::LsError &error)
{
    using K = labelstudio::LsError::Kind;
    return error.kind == K::ServerError || error.kind == K::Unreachable;
}

// Failures that no other batch can get past: the token, the connection, the server.
bool stopsTheJob(const labelstudio::LsError &error)
{
    using K = labelstudio::LsError::Kind;
    return error.kind == K::InvalidToken || error.kind == K::TokenExpired || error.kind == K::LegacyTokensDisabled
        || error.kind == K::Forbidden || error.kind == K::Timeout || error.kind == K::Tls || error.kind == K::Cancelled
        || error.kind == K::Redirected || worthRetrying(error);
}

} // namespace

PredictionRefresher::PredictionRefresher(QObject *parent)
    : QObject(parent)
{
    m_clock.start();
}

PredictionRefresher::~PredictionRefresher() = default;

void PredictionRefresher::setClient(labelstudio::LabelStudioClient *client)
{
    m_client = client;
}

std::vector<PredictionRefresher::Batch> PredictionRefresher::makeBatches(const std::vector<QByteArray> &predictions,
                                                                         const QList<QPair<qint64, QStringList>> &labels,
                                                                         int batchSize)
{
    std::vector<Batch> out;
    const std::size_t size = std::size_t(std::max(1, batchSize));
    for (std::size_t i = 0; i < predictions.size(); i += size) {
        Batch b;
        b.body = "[";
        const std::size_t end = std::min(predictions.size(), i + size);
        for (std::size_t k = i; k < end; ++k) {
            if (k > i)
                b.body += ',';
            b.body += predictions[k];
            if (qsizetype(k) < labels.size())
                b.predictions << labels[qsizetype(k)];
        }
        b.body += ']';
        out.push_back(std::move(b));
    }
    return out;
}

void PredictionRefresher::annotatorActivity()
{
    m_lastActivityMs.store(m_clock.elapsed());
}

int PredictionRefresher::msSinceActivity() const
{
    return int(std::min<qint64>(m_clock.elapsed() - m_lastActivityMs.load(), 1 << 30));
}

void PredictionRefresher::cancelAll()
{
    ++m_generation;
}

void PredictionRefresher::start(std::shared_ptr<Job> job)
{
    sendNext(std::move(job), m_generation);
}

void PredictionRefresher::sendNext(std::shared_ptr<Job> job, quint64 generation)
{
    if (generation != m_generation)
        return;
    if (!m_client) {
        Q_EMIT finished(job->projectKey, job->version, QStringLiteral("failed"), job->sent, job->created,
                        QStringLiteral("LoopDeck is not connected to Label Studio."));
        return;
    }
    if (m_wanted && !m_wanted(*job)) {
        Q_EMIT finished(job->projectKey, job->version, QStringLiteral("superseded"), job->sent, job->created, QString());
        return;
    }
    if (job->next >= job->batches.size()) {
        setModelVersion(job, generation);
        return;
    }
    // Annotators first: wait until they have not saved anything for a moment.
    const int quiet = msSinceActivity();
    if (quiet < m_options.quietMs && job->waitedMs < m_options.maxQuietWaitMs) {
        const int wait = m_options.quietMs - quiet;
        job->waitedMs += wait;
        QTimer::singleShot(wait, this, [this, job, generation] { sendNext(job, generation); });
        return;
    }
    const Batch &batch = job->batches[job->next];
    m_client->sendRaw(
        "POST", QStringLiteral("/api/projects/%1/import/predictions").arg(job->lsProjectId), {}, batch.body,
        [this, job, generation](const QByteArray &answer, const labelstudio::LsError &error) {
            if (generation != m_generation)
                return;
            const Batch &batch = job->batches[job->next];
            if (error.isError()) {
                if (worthRetrying(error) && job->attempt < m_options.retries) {
                    const int delay = m_options.retryBaseMs << job->attempt;
                    ++job->attempt;
                    QTimer::singleShot(delay, this, [this, job, generation] { sendNext(job, generation); });
                    return;
                }
                if (!stopsTheJob(error)) {
                    // This batch is refused (e.g. a task deleted since): the others may still go.
                    job->problems << error.message();
                    job->sent += int(batch.predictions.size());
                    job->attempt = 0;
                    ++job->next;
                    QTimer::singleShot(m_options.pauseMs, this, [this, job, generation] { sendNext(job, generation); });
                    return;
                }
                Q_EMIT finished(job->projectKey, job->version, QStringLiteral("failed"), job->sent, job->created,
                                job->attempt > 0 ? QStringLiteral("Label Studio did not take a batch of predictions after %1 tries: %2")
                                                       .arg(job->attempt + 1)
                                                       .arg(error.message())
                                                 : QStringLiteral("Label Studio did not take a batch of predictions: %1")
                                                       .arg(error.message()));
                return;
            }
            const json doc = json::parse(answer.begin(), answer.end(), nullptr, false);
            const int created = doc.is_object() && doc.contains("created") && doc["created"].is_number_integer()
                ? doc["created"].get<int>()
                : 0;
            const int size = int(batch.predictions.size());
            job->sent += size;
            job->created += std::min(created, size);
            // Live acceptance may only count predictions Label Studio holds: when it dropped some
            // of the batch (they did not fit the label config) we cannot tell which, so none count.
            if (created >= size)
                Q_EMIT batchStored(job->projectKey, job->version, batch.predictions);
            else
                job->problems << QStringLiteral("Label Studio stored %1 of %2 predictions of a batch; it drops the ones "
                                                "that do not fit the label config.")
                                     .arg(created)
                                     .arg(size);
            Q_EMIT progress(job->projectKey, job->version, job->sent, job->created);
            job->attempt = 0;
            job->waitedMs = 0;
            ++job->next;
            QTimer::singleShot(m_options.pauseMs, this, [this, job, generation] { sendNext(job, generation); });
        });
}

void PredictionRefresher::setModelVersion(std::shared_ptr<Job> job, quint64 generation)
{
    const auto done = [this, job] {
        const bool complete = job->created == job->sent && job->problems.isEmpty();
        Q_EMIT finished(job->projectKey, job->version, complete ? QStringLiteral("done") : QStringLiteral("incomplete"), job->sent,
                        job->created, job->problems.join(QLatin1Char(' ')));
    };
    // Label Studio accepts a model_version only when it holds predictions of it.
    if (job->created <= 0) {
        if (job->sent > 0)
            job->problems << QStringLiteral("Label Studio stored none of the predictions, so the project keeps its model version.");
        done();
        return;
    }
    if (msSinceActivity() < m_options.quietMs && job->waitedMs < m_options.maxQuietWaitMs) {
        const int wait = m_options.quietMs - msSinceActivity();
        job->waitedMs += wait;
        QTimer::singleShot(wait, this, [this, job, generation] {
            if (generation == m_generation)
                setModelVersion(job, generation);
        });
        return;
    }
    QJsonObject patch{{QStringLiteral("model_version"), job->versionName}};
    if (job->uncertaintySampling)
        patch.insert(QStringLiteral("sampling"), QStringLiteral("Uncertainty sampling"));
    m_client->sendRaw("PATCH", QStringLiteral("/api/projects/%1/").arg(job->lsProjectId), {},
                      QJsonDocument(patch).toJson(QJsonDocument::Compact),
                      [this, job, generation, done](const QByteArray &, const labelstudio::LsError &error) {
                          if (generation != m_generation)
                              return;
                          if (error.isError()) {
                              if (worthRetrying(error) && job->attempt < m_options.retries) {
                                  const int delay = m_options.retryBaseMs << job->attempt;
                                  ++job->attempt;
                                  QTimer::singleShot(delay, this, [this, job, generation] {
                                      if (generation == m_generation)
                                          setModelVersion(job, generation);
                                  });
                                  return;
                              }
                              Q_EMIT finished(job->projectKey, job->version, QStringLiteral("failed"), job->sent, job->created,
                                              QStringLiteral("Predictions were imported but the project's model version could "
                                                             "not be set: %1")
                                                  .arg(error.message()));
                              return;
                          }
                          done();
                      });
}

} // namespace loopdeck::loop
