#include "core/loop/reconciler.h"

#include "core/backend/projectkey.h"
#include "core/labelstudio/labelstudioclient.h"
#include "core/loop/lspayload.h"

#include <QTimer>
#include <QUrlQuery>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace loopdeck::loop {

using nlohmann::json;

namespace {

qint64 lsId(const QString &key)
{
    return backend::projectkey::lsId(key);
}

} // namespace

// One reconcile of one project: a keyset listing (full) or a watermark listing (incremental).
struct Reconciler::Job {
    QString key;
    quint64 generation = 0;  // m_generation when it started
    bool full = false;
    bool diffOnly = false;   // full, listing ids and counts only (fields=task_only)
    qint64 afterId = 0;      // keyset: the highest task id seen so far
    int page = 1;            // incremental: page number
    QString watermark;
    QDateTime started;
    QSet<qint64> seen;
    QList<qint64> changed;   // diffOnly: tasks whose counts or time differ from the store's
    int pageAttempts = 0;    // tries of the current page after Label Studio failed it
    std::shared_ptr<QHash<qint64, store::TaskSignature>> signatures;
    int recovered = 0;
};

QString Reconciler::Outcome::mode() const
{
    return full ? (diffOnly ? QStringLiteral("full_diff") : QStringLiteral("full")) : QStringLiteral("incremental");
}

Reconciler::Reconciler(store::LoopStore *store, QObject *parent)
    : QObject(parent)
    , m_store(store)
{
}

Reconciler::~Reconciler() = default;

void Reconciler::setClient(labelstudio::LabelStudioClient *client)
{
    // Answers still on their way belong to the previous server: they are dropped, and no
    // project stays "running" waiting for them.
    ++m_generation;
    m_client = client;
    m_running.clear();
    m_failures.clear();
    m_retries.clear();
    m_listing = false;
    m_listingFailures = 0;
    m_listingRetry = 0;
    {
        std::lock_guard lock(m_mutex);
        m_serverKeys.clear();
        m_serverKeysKnown = false;
        m_notOnServer.clear();
    }
    if (m_client) {
        m_initialListing = true;
        startListing();
    }
}

QString Reconciler::keyOnServer(qint64 lsProjectId) const
{
    std::lock_guard lock(m_mutex);
    return m_serverKeys.value(lsProjectId);
}

std::optional<QString> Reconciler::listedKey(qint64 lsProjectId) const
{
    std::lock_guard lock(m_mutex);
    if (!m_serverKeysKnown)
        return std::nullopt;
    return m_serverKeys.value(lsProjectId);
}

int Reconciler::retryDelayMs(int failures) const
{
    return std::min(m_options.retryBaseMs << std::min(std::max(failures, 1) - 1, 5), m_options.retryMaxMs);
}

void Reconciler::startListing()
{
    m_listing = true;
    listProjects(1, std::make_shared<QHash<qint64, QString>>());
}

// The connected server's projects (id -> key): which of the loop's projects live there.
void Reconciler::listProjects(int page, std::shared_ptr<QHash<qint64, QString>> found)
{
    if (!m_client)
        return;
    const quint64 generation = m_generation;
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("page"), QString::number(page));
    query.addQueryItem(QStringLiteral("page_size"), QStringLiteral("100"));
    m_client->sendRaw("GET", QStringLiteral("/api/projects/"), query, {},
                      [this, page, found, generation](const QByteArray &answer, const labelstudio::LsError &error) {
                          if (generation != m_generation)
                              return; // answered for a server we no longer talk to
                          if (error.isError()) {
                              m_listing = false;
                              // Listed again by itself (doubling like a reconcile): until a
                              // listing succeeds no project of this server can be reconciled.
                              // A listing that follows setClient() stays the initial one.
                              ++m_listingFailures;
                              const quint64 token = ++m_retrySerial;
                              m_listingRetry = token;
                              QTimer::singleShot(retryDelayMs(m_listingFailures), this, [this, generation, token] {
                                  if (generation != m_generation || m_listingRetry != token || m_listing || !m_client)
                                      return;
                                  m_listingRetry = 0;
                                  startListing();
                              });
                              Q_EMIT listingFailed(error.message());
                              return;
                          }
                          m_listingFailures = 0;
                          m_listingRetry = 0;
                          const json doc = json::parse(answer.begin(), answer.end(), nullptr, false);
                          const json *list = doc.is_object() && doc.contains("results") && doc["results"].is_array() ? &doc["results"]
                                             : doc.is_array()                                                   ? &doc
                                                                                                                : nullptr;
                          if (list)
                              for (const json &p : *list) {
                                  if (!p.is_object() || !p.contains("id") || !p["id"].is_number_integer())
                                      continue;
                                  const qint64 id = p["id"].get<qint64>();
                                  const auto created = p.contains("created_at") && p["created_at"].is_string()
                                      ? backend::projectkey::unixSecondsOf(QString::fromStdString(p["created_at"].get<std::string>()))
                                      : std::nullopt;
                                  if (created)
                                      found->insert(id, backend::projectkey::make(id, *created));
                              }
                          const bool more = doc.is_object() && doc.contains("next") && doc["next"].is_string() && list && !list->empty();
                          if (more) {
                              listProjects(page + 1, found);
                              return;
                          }
                          const QStringList keys = m_projects ? m_projects() : QStringList();
                          QHash<qint64, QString> previous;
                          {
                              std::lock_guard lock(m_mutex);
                              previous = std::exchange(m_serverKeys, *found);
                              m_serverKeysKnown = true;
                          }
                          m_notOnServer.clear();
                          for (const QString &key : keys)
                              if (found->value(lsId(key)) != key)
                                  m_notOnServer.insert(key);
                          m_listing = false;
                          const bool initial = std::exchange(m_initialListing, false);
                          Q_EMIT listed(*found, previous, initial);
                      });
}

bool Reconciler::onServer(const QString &key)
{
    bool known = false;
    {
        std::lock_guard lock(m_mutex);
        if (m_serverKeys.value(lsId(key)) == key)
            return true;
        known = m_serverKeysKnown;
    }
    // A key no listing has checked yet may be a project this server made since: list again.
    // A key a listing did not find is another server's: no new listing for it (no storm).
    if (known && !m_notOnServer.contains(key) && !m_listing && m_client && !m_client->baseUrl().isEmpty()) {
        m_initialListing = false;
        startListing();
    }
    return false;
}

store::LabelReader Reconciler::labelReader(const QString &key) const
{
    return m_labelReader ? m_labelReader(key) : store::LabelReader();
}

bool Reconciler::sync(const QString &key, bool full)
{
    if (!m_client || !onServer(key))
        return false; // another server's project, or the list of this server's projects is on its way
    if (m_running.contains(key))
        return false;
    m_running.insert(key);
    m_retries.remove(key); // this reconcile is the retry; a failure schedules the next one
    auto job = std::make_shared<Job>();
    job->key = key;
    job->generation = m_generation;
    job->full = full;
    if (const auto row = m_store->project(key); row) {
        job->watermark = row->syncWatermark;
        if (!row->lastFullSync.isValid())
            job->full = true;
    }
    if (job->full) {
        job->watermark.clear();
        // A store that already holds the project lists ids and counts only (fields=task_only,
        // about 4x faster) and fetches the tasks that differ; a first sync reads everything.
        if (const auto counts = m_store->counts(key); counts && counts->tasks > 0)
            job->diffOnly = true;
    }
    job->started = QDateTime::currentDateTimeUtc(); // real time: compared with seen_at
    // The label config first: the loop can train before Label Studio calls /setup again.
    m_client->sendRaw("GET", QStringLiteral("/api/projects/%1/").arg(lsId(key)), {}, {},
                      [this, job](const QByteArray &answer, const labelstudio::LsError &error) {
                          if (job->generation != m_generation)
                              return;
                          if (!error.isError()) {
                              const json doc = json::parse(answer.begin(), answer.end(), nullptr, false);
                              if (doc.is_object() && doc.contains("label_config") && doc["label_config"].is_string())
                                  Q_EMIT labelConfig(job->key, QString::fromStdString(doc["label_config"].get<std::string>()));
                          }
                          // The signal's receiver may have changed the client (a direct call).
                          if (job->generation == m_generation)
                              syncPage(job);
                      });
    return true;
}

void Reconciler::syncPage(std::shared_ptr<Job> job)
{
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("project"), QString::number(lsId(job->key)));
    query.addQueryItem(QStringLiteral("fields"), job->diffOnly ? QStringLiteral("task_only") : QStringLiteral("all"));
    query.addQueryItem(QStringLiteral("page_size"), QString::number(m_options.pageSize));
    query.addQueryItem(QStringLiteral("resolve_uri"), QStringLiteral("false"));
    if (job->full) {
        // Keyset listing: ids above the last one seen, in id order. Tasks deleted or created while
        // the listing runs cannot shift a live task out of it (page numbers would).
        const json filter = {{"filters",
                              {{"conjunction", "and"},
                               {"items", json::array({json{{"filter", "filter:tasks:id"}, {"operator", "greater"},
                                                           {"type", "Number"}, {"value", job->afterId}}})}}},
                             {"ordering", json::array({"tasks:id"})}};
        query.addQueryItem(QStringLiteral("page"), QStringLiteral("1"));
        query.addQueryItem(QStringLiteral("query"), QString::fromStdString(filter.dump()));
    } else {
        query.addQueryItem(QStringLiteral("page"), QString::number(job->page));
        if (!job->watermark.isEmpty()) {
            const std::string since = job->watermark.toStdString();
            const json filter = {
                {"filters",
                 {{"conjunction", "or"},
                  {"items",
                   json::array({json{{"filter", "filter:tasks:updated_at"}, {"operator", "greater"}, {"type", "Datetime"}, {"value", since}},
                                json{{"filter", "filter:tasks:completed_at"}, {"operator", "greater"}, {"type", "Datetime"}, {"value", since}}})}}},
                {"ordering", json::array({"tasks:id"})}};
            query.addQueryItem(QStringLiteral("query"), QString::fromStdString(filter.dump()));
        }
    }
    const qint64 requestedAt = QDateTime::currentMSecsSinceEpoch();
    m_client->sendRaw(
        "GET", QStringLiteral("/api/tasks/"), query, {},
        [this, job, requestedAt](const QByteArray &answer, const labelstudio::LsError &error) {
            if (job->generation != m_generation)
                return;
            // Past the last page Label Studio answers 404 "Invalid page".
            if (error.isError() && !(error.kind == labelstudio::LsError::Kind::NotFound && !job->full && job->page > 1)) {
                // Label Studio 1.23 answers 500 when a task of the page is deleted while it builds
                // the page (KeyError in data_manager/api.py): the same page again is safe (keyset).
                using K = labelstudio::LsError::Kind;
                if ((error.kind == K::ServerError || error.kind == K::Timeout || error.kind == K::Unreachable)
                    && job->pageAttempts < m_options.pageRetries) {
                    const int delay = m_options.pageRetryBaseMs << job->pageAttempts++;
                    QTimer::singleShot(delay, this, [this, job] {
                        if (job->generation == m_generation)
                            syncPage(job);
                    });
                    return;
                }
                finish(job, error.message());
                return;
            }
            job->pageAttempts = 0;
            int count = 0;
            const qint64 before = job->afterId;
            if (!error.isError()) {
                const json doc = json::parse(answer.begin(), answer.end(), nullptr, false);
                const json *tasks = doc.is_object() && doc.contains("tasks") && doc["tasks"].is_array() ? &doc["tasks"]
                                    : doc.is_array()                                                  ? &doc
                                                                                                      : nullptr;
                if (!tasks) {
                    finish(job, QStringLiteral("Label Studio's task list has no \"tasks\" list."));
                    return;
                }
                count = int(tasks->size());
                if (job->diffOnly && !job->signatures)
                    if (const auto sigs = m_store->taskSignatures(job->key); sigs)
                        job->signatures = std::make_shared<QHash<qint64, store::TaskSignature>>(sigs.value());
                store::ChangeSet changes;
                changes.snapshotAtMs = requestedAt;
                for (const json &t : *tasks) {
                    const qint64 id = t.is_object() && t.contains("id") && t["id"].is_number_integer() ? t["id"].get<qint64>() : 0;
                    if (id <= 0)
                        continue;
                    job->seen.insert(id);
                    job->afterId = std::max(job->afterId, id);
                    for (const char *key : {"updated_at", "completed_at"})
                        if (t.contains(key) && t[key].is_string()) {
                            const QString v = QString::fromStdString(t[key].get<std::string>());
                            if (v > job->watermark)
                                job->watermark = v;
                        }
                    if (job->diffOnly) {
                        // Fetch the task when its annotation counts or its time differ from ours.
                        const store::TaskSignature mine = job->signatures ? job->signatures->value(id) : store::TaskSignature{};
                        const qint64 total = t.value("total_annotations", qint64(-1));
                        const qint64 cancelled = t.value("cancelled_annotations", qint64(-1));
                        const qint64 updated = t.contains("updated_at") && t["updated_at"].is_string()
                            ? parseLsTime(t["updated_at"].get<std::string>())
                            : 0;
                        if (!mine.known || total != mine.annotations || cancelled != mine.cancelled || updated > mine.updatedAtMs)
                            job->changed << id;
                        continue;
                    }
                    if (auto task = parseTask(t))
                        changes.tasks.push_back(std::move(task).value());
                }
                if (!changes.tasks.empty()) {
                    const auto applied = m_store->apply(job->key, changes, labelReader(job->key));
                    if (!applied) {
                        finish(job, applied.error());
                        return;
                    }
                    job->recovered += applied.value();
                }
            }
            if (job->full && count > 0 && job->afterId <= before) {
                // The id filter was not applied (the same page again): stop rather than loop.
                finish(job, QStringLiteral("Label Studio ignored the task id filter of the reconcile listing; "
                                           "nothing was removed."));
                return;
            }
            // A keyset listing ends on an empty page (a server may cap the page size below ours);
            // an incremental one on a short page.
            if (job->full ? count > 0 : count == m_options.pageSize) {
                ++job->page;
                syncPage(job);
                return;
            }
            if (job->diffOnly && !job->changed.isEmpty()) {
                if (job->changed.size() > m_options.diffFetchLimit) {
                    // Many differ: one pass that reads everything is cheaper than a GET each.
                    job->diffOnly = false;
                    job->afterId = 0;
                    job->page = 1;
                    job->changed.clear();
                    syncPage(job);
                    return;
                }
                fetchChangedTask(job);
                return;
            }
            if (job->full) {
                removeMissing(job);
                return;
            }
            finish(job, QString());
        });
}

void Reconciler::fetchChangedTask(std::shared_ptr<Job> job)
{
    if (job->changed.isEmpty()) {
        job->diffOnly = false; // the listing is complete: deletions next
        removeMissing(job);
        return;
    }
    const qint64 id = job->changed.takeFirst();
    const qint64 requestedAt = QDateTime::currentMSecsSinceEpoch();
    m_client->sendRaw("GET", QStringLiteral("/api/tasks/%1/").arg(id), {}, {},
                      [this, job, id, requestedAt](const QByteArray &answer, const labelstudio::LsError &error) {
                          if (job->generation != m_generation)
                              return;
                          if (error.isError() && error.kind != labelstudio::LsError::Kind::NotFound) {
                              finish(job, error.message());
                              return;
                          }
                          if (error.isError()) {
                              job->seen.remove(id); // a 404: deleted since the listing, so removeMissing deletes it
                          } else {
                              const json doc = json::parse(answer.begin(), answer.end(), nullptr, false);
                              if (auto task = parseTask(doc)) {
                                  store::ChangeSet changes;
                                  changes.snapshotAtMs = requestedAt;
                                  changes.tasks.push_back(std::move(task).value());
                                  const auto applied = m_store->apply(job->key, changes, labelReader(job->key));
                                  if (!applied) {
                                      finish(job, applied.error());
                                      return;
                                  }
                                  job->recovered += applied.value();
                              }
                          }
                          fetchChangedTask(job);
                      });
}

void Reconciler::removeMissing(const std::shared_ptr<Job> &job)
{
    const auto removed = m_store->removeMissing(job->key, job->seen, job->started.toMSecsSinceEpoch());
    if (!removed) {
        finish(job, removed.error());
        return;
    }
    job->recovered += removed.value();
    finish(job, QString());
}

void Reconciler::finish(const std::shared_ptr<Job> &job, const QString &error)
{
    const QString key = job->key;
    m_running.remove(key);
    Outcome outcome;
    outcome.full = job->full;
    outcome.diffOnly = job->diffOnly;
    outcome.recovered = job->recovered;
    outcome.started = job->started;
    outcome.error = error;
    if (error.isEmpty()) {
        m_failures.remove(key);
        // An incremental watermark re-reads the last two minutes next time: a task changed while
        // this listing was under way may have moved between its pages.
        QString watermark = job->watermark;
        if (!job->full && !watermark.isEmpty()) {
            const qint64 ms = parseLsTime(watermark.toStdString());
            if (ms > 0)
                watermark = QDateTime::fromMSecsSinceEpoch(ms - 120000, Qt::UTC).toString(Qt::ISODateWithMs);
        }
        (void)m_store->setSyncState(key, job->started, job->full, watermark);
    } else {
        // Tried again by itself, doubling, while the same client is set; one pending retry per
        // key (a reconcile started meanwhile by another trigger replaces it).
        const int failures = ++m_failures[key];
        outcome.retryInMs = retryDelayMs(failures);
        const quint64 generation = job->generation;
        const bool full = job->full;
        const quint64 token = ++m_retrySerial;
        m_retries.insert(key, token);
        QTimer::singleShot(outcome.retryInMs, this, [this, key, generation, full, token] {
            if (generation == m_generation && m_retries.value(key) == token)
                sync(key, full);
        });
    }
    Q_EMIT finished(key, outcome);
}

} // namespace loopdeck::loop
