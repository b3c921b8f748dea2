#include "core/loop/loopengine.h"

#include "core/backend/backendapi.h"
#include "core/backend/backendserver.h"
#include "core/backend/loopevents.h"
#include "core/backend/operatortoken.h"
#include "core/backend/modelregistry.h"
#include "core/backend/projectkey.h"
#include "core/backend/predictionservice.h"
#include "core/labelconfig/labelconfig.h"
#include "core/labelstudio/labelstudioclient.h"
#include "core/loop/lspayload.h"
#include "core/loop/policy.h"
#include "core/loop/sharedmodels.h"
#include "core/model/choice.h"
#include "core/loop/trainer.h"
#include "core/loop/webhookprovisioner.h"
#include "core/model/textclassifier.h"
#include "core/store/loopstore.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <QCoreApplication>
#include <QFutureWatcher>
#include <QHostAddress>
#include <QHostInfo>
#include <QNetworkInterface>
#include <QJsonDocument>
#include <QTimer>
#include <QtConcurrent>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <optional>

namespace loopdeck::loop {

using backend::LoopReply;
using nlohmann::json;

namespace {

// Hands the heap's free pages back to the system (glibc keeps them after a large free; a
// training run's matrices are hundreds of MB at 50,000 examples). Elsewhere a no-op.
void releaseFreedMemory()
{
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

constexpr int kRunLogLines = 40;

QString iso(const QDateTime &t)
{
    return t.isValid() ? t.toUTC().toString(Qt::ISODateWithMs) : QString();
}

QJsonValue isoOrNull(const QDateTime &t)
{
    return t.isValid() ? QJsonValue(iso(t)) : QJsonValue(QJsonValue::Null);
}

// Labels of one Choices control in an annotation's result JSON, sorted.
QStringList labelsIn(const std::string &resultJson, const std::string &fromName)
{
    QStringList labels;
    const json result = json::parse(resultJson, nullptr, false);
    if (!result.is_array())
        return labels;
    for (const json &region : result) {
        if (!region.is_object() || region.value("from_name", std::string()) != fromName)
            continue;
        const auto value = region.find("value");
        if (value == region.end() || !value->is_object())
            continue;
        const auto choices = value->find("choices");
        if (choices != value->end() && choices->is_array())
            for (const json &c : *choices)
                if (c.is_string())
                    labels << QString::fromStdString(c.get<std::string>());
    }
    labels.sort();
    return labels;
}

struct RunResult {
    std::optional<Result<TrainingOutput>> result;
    qint64 changeSeq = 0;
    int droppedLabels = 0;
    int usable = -1;          // the examples the run read (-1: it read none), as a recount would count them
    int droppedExamples = 0;
    bool tooFew = false; // an automatic run found fewer usable examples than min_examples
    // Saved by the worker (writing a model file is no work for the engine's thread):
    std::optional<backend::ModelVersionInfo> saved;
    QString saveError;
    QJsonObject metrics;
    SharedComparison shared;
};

QStringList sortedLabels(QStringList labels)
{
    labels.sort();
    return labels;
}

// The store's change counter up to which a version's training data reached: every annotation
// with a higher change_seq arrived (or changed) after it was trained. Kept in its metrics.
const QString kDataChangeSeq = QStringLiteral("data_change_seq");
// The tasks a version learnt labels from, as [first, last] id ranges: the activation policy's
// "examples the active version never saw" are the labelled tasks outside this set. (A change
// counter cannot tell: a second annotator's annotation or a re-save of a trained task is newer
// than the version but its text and label were learnt.)
const QString kTrainedTasks = QStringLiteral("trained_tasks");

QJsonArray taskRanges(QList<qint64> ids)
{
    std::sort(ids.begin(), ids.end());
    QJsonArray out;
    for (qsizetype i = 0; i < ids.size();) {
        qsizetype j = i;
        while (j + 1 < ids.size() && ids[j + 1] <= ids[j] + 1)
            ++j;
        out.append(QJsonArray{double(ids[i]), double(ids[j])});
        i = j + 1;
    }
    return out;
}

// The ranges back, sorted by their first id; std::nullopt when the value is not such a list.
std::optional<std::vector<std::pair<qint64, qint64>>> rangesOf(const QJsonValue &value)
{
    if (!value.isArray())
        return std::nullopt;
    std::vector<std::pair<qint64, qint64>> out;
    for (const QJsonValue &r : value.toArray()) {
        const QJsonArray pair = r.toArray();
        if (pair.size() != 2 || !pair.at(0).isDouble() || !pair.at(1).isDouble())
            return std::nullopt;
        out.emplace_back(qint64(pair.at(0).toDouble()), qint64(pair.at(1).toDouble()));
    }
    std::sort(out.begin(), out.end());
    return out;
}

bool inRanges(const std::vector<std::pair<qint64, qint64>> &ranges, qint64 id)
{
    auto it = std::upper_bound(ranges.begin(), ranges.end(), std::pair<qint64, qint64>(id, std::numeric_limits<qint64>::max()));
    return it != ranges.begin() && std::prev(it)->second >= id;
}

// Scores the active version on the labelled tasks it was not trained on and pairs its
// correctness with the new version's out-of-fold predictions for them (worker thread).
SharedComparison compareWithActive(const backend::ModelRegistry &registry, const QString &projectId, int activeVersion,
                                   const std::shared_ptr<const model::TextClassifier> &active,
                                   const store::TrainingData &data, const TrainingOutput &out, const store::TargetSpec &spec)
{
    SharedComparison c;
    c.activeVersion = activeVersion;
    if (activeVersion <= 0 || !active) {
        c.why = QStringLiteral("no version was active");
        return c;
    }
    const auto info = registry.version(projectId, activeVersion);
    const auto trained = info ? rangesOf(info->metrics.value(kTrainedTasks)) : std::nullopt;
    if (!trained) {
        c.why = QStringLiteral("the tasks %1 was trained on are not recorded (a version trained before LoopDeck kept "
                               "them, or not trained by the loop)")
                    .arg(backend::ModelRegistry::versionName(activeVersion));
        return c;
    }
    policy::PairedCounts counts;
    const qsizetype n = std::min<qsizetype>(data.examples.size(), qsizetype(out.outOfFold.size()));
    for (qsizetype i = 0; i < n && i < data.exampleTasks.size(); ++i) {
        if (inRanges(*trained, data.exampleTasks[i]))
            continue; // the active version learnt this task's text and a label for it
        ++c.newExamples;
        const std::optional<QStringList> &oof = out.outOfFold[std::size_t(i)];
        if (!oof)
            continue; // no prediction by a model that did not see it
        const model::Example &e = data.examples[i];
        const QStringList truth = sortedLabels(e.labels);
        const bool newRight = sortedLabels(*oof) == truth;
        const bool activeRight =
            sortedLabels(model::chooseLabels(active->predict(e.text), spec.choices, spec.multiple).labels) == truth;
        if (newRight && activeRight)
            ++counts.both;
        else if (newRight)
            ++counts.newOnly;
        else if (activeRight)
            ++counts.activeOnly;
        else
            ++counts.neither;
    }
    c.counts = counts;
    return c;
}

// Without a previous run in memory (the first run after serve started): the active version's
// choice of C and weighting, for a run on a similar number of mostly the same tasks (no
// solutions to start from). Only a version the loop trained for this target with its own
// selection (its metrics say on how many examples it was made) and that was trained on at least
// Trainer::kWarmShare of the tasks now labelled; Trainer checks the classes and the size.
std::shared_ptr<const WarmState> choiceOf(const backend::ModelRegistry &registry, const QString &projectId, const QString &target,
                                          int activeVersion, const std::shared_ptr<const model::TextClassifier> &active,
                                          const QList<qint64> &tasks)
{
    if (activeVersion <= 0 || !active || tasks.isEmpty())
        return nullptr;
    const model::ModelSelection chosen = active->selection();
    const auto info = registry.version(projectId, activeVersion);
    if (!info || info->target != target || chosen.folds <= 0 || !(chosen.c > 0.0))
        return nullptr;
    const QJsonObject warm = info->metrics.value(QStringLiteral("warm_start")).toObject();
    const int selectedOn = warm.value(QStringLiteral("selected_on")).toInt();
    const auto trained = rangesOf(info->metrics.value(kTrainedTasks));
    if (selectedOn < Trainer::kKFoldBelow || !trained)
        return nullptr;
    qsizetype known = 0;
    for (const qint64 task : tasks)
        known += inRanges(*trained, task) ? 1 : 0;
    if (known < Trainer::kWarmShare * double(tasks.size()))
        return nullptr;
    auto state = std::make_shared<WarmState>();
    state->classes = active->classes();
    state->multiple = active->isMultiLabel();
    state->c = chosen.c;
    state->weighting = chosen.weighting;
    state->selectedOn = selectedOn;
    state->selectionSample = warm.value(QStringLiteral("selection_sample")).toInt();
    return state;
}

QString signedFixed(double v, int decimals)
{
    return (v >= 0 ? QStringLiteral("+") : QString()) + QString::number(v, 'f', decimals);
}

} // namespace

struct LoopEngine::Project {
    explicit Project(TrainingScheduler::Clock clock) : scheduler(std::move(clock)) {}
    TrainingScheduler scheduler;
    LoopSettings settings;
    int settingsUnsaved = 0; // configure() changes not yet written to the store (persistSettings)
    std::shared_ptr<TrainingControl> control; // set while a run is in progress
    QDateTime runStarted;
    QString runTrigger;
    QString lastError;
    QStringList runLog;
    // Per target (from_name): what the last successful run leaves for the next (trainer.h).
    QHash<QString, std::shared_ptr<const WarmState>> warm;
    // "usable examples" for /loop/status, recomputed when the change counter moves
    qint64 cachedSeq = -1;
    bool recounting = false;  // a worker is recounting usable examples
    // versionDetails(): the registry's versions (metadata files), read again only after a
    // version was added, activated, rolled back or deleted
    std::optional<QList<backend::ModelVersionInfo>> versionsCache;
    quint64 versionsEpoch = 0; // bumped by every versionsChanged: a read that spans one is not cached
    int usable = 0;
    int droppedLabels = 0;
    int droppedExamples = 0;
    // failures: automatic runs back off while the cause lasts
    int failures = 0;             // failed runs in a row
    QDateTime backoffUntil;       // no automatic run before this
    QString lastCause;            // policy::failureCause of the last failure (notified once)
    qint64 waitForPendingAbove = -1; // too few examples: automatic runs wait for more changes
    // reconcile (the reconciler says whether one is running)
    QDateTime lastReconcile;
    int lastRecovered = 0;
    QString syncError;
    // prediction refresh
    QString refreshState; // "", running, done, failed
    int refreshVersion = 0;
    int refreshSent = 0;
    int refreshCreated = 0;
    QString refreshError;
    // the project webhook Label Studio should call (made by LS at registration, or by us)
    QString webhookUrl;
    QString webhookState; // "", ok, created, missing
    QString webhookWarning;
};

LoopEngine::LoopEngine(QObject *parent)
    : QObject(parent)
    , m_clock([] { return QDateTime::currentDateTimeUtc(); })
    , m_events(std::make_shared<backend::LoopEvents>())
{
    m_workers.setMaxThreadCount(2);
    // Every signal a window shows, also as an event of GET /loop/events (remote windows).
    using Obj = QJsonObject;
    const auto post = [events = m_events](const char *kind, Obj data) { events->post(QByteArray(kind), data); };
    const auto key = QStringLiteral("project");
    connect(this, &LoopEngine::projectAdded, this, [post, key](const QString &p) { post("project_added", Obj{{key, p}}); });
    connect(this, &LoopEngine::statusChanged, this, [post, key](const QString &p) { post("status", Obj{{key, p}}); });
    connect(this, &LoopEngine::versionsChanged, this, [post, key](const QString &p) { post("versions", Obj{{key, p}}); });
    connect(this, &LoopEngine::trainingStarted, this, [post, key](const QString &p, const QString &trigger) {
        post("training_started", Obj{{key, p}, {QStringLiteral("trigger"), trigger}});
    });
    connect(this, &LoopEngine::trainingFinished, this,
            [post, key](const QString &p, int version, bool activated, double previous, double accuracy) {
                post("training_finished", Obj{{key, p},
                                              {QStringLiteral("version"), version},
                                              {QStringLiteral("activated"), activated},
                                              {QStringLiteral("previous_accuracy"), previous},
                                              {QStringLiteral("accuracy"), accuracy}});
            });
    connect(this, &LoopEngine::trainingFailed, this, [post, key](const QString &p, const QString &error) {
        post("training_failed", Obj{{key, p}, {QStringLiteral("error"), error}});
    });
    connect(this, &LoopEngine::reconciled, this, [post, key](const QString &p, int recovered) {
        post("reconciled", Obj{{key, p}, {QStringLiteral("recovered"), recovered}});
    });
    connect(this, &LoopEngine::predictionsRefreshed, this, [post, key](const QString &p, int version, int created, int sent) {
        post("predictions_refreshed",
             Obj{{key, p}, {QStringLiteral("version"), version}, {QStringLiteral("created"), created}, {QStringLiteral("sent"), sent}});
    });
}

LoopEngine::~LoopEngine()
{
    if (m_server)
        m_server->stop(); // no request reaches the loop from here on
    {
        std::lock_guard lock(m_mutex);
        for (const auto &p : std::as_const(m_projects))
            if (p->control)
                p->control->cancel = true;
    }
    // Training and refresh jobs use the store: wait for them before it closes.
    const auto watchers = findChildren<QFutureWatcherBase *>();
    for (QFutureWatcherBase *w : watchers)
        w->waitForFinished();
    m_workers.waitForDone();
}

qint64 LoopEngine::lsId(const QString &key)
{
    return backend::projectkey::lsId(key);
}

std::optional<QString> LoopEngine::resolve(const QString &project, QString *why) const
{
    const QString key = backend::projectkey::normalise(project);
    if (key.isEmpty() || lsId(key) <= 0) {
        if (why)
            *why = QStringLiteral("\"%1\" is not a project like \"3\" or \"3.1700000000\".").arg(project.left(40));
        return std::nullopt;
    }
    if (backend::projectkey::hasCreated(key))
        return key;
    // A bare id: the one project with that id. With several (two servers' project 3) it
    // names none of them: guessing would act on the wrong server's project.
    const qint64 id = lsId(key);
    std::lock_guard lock(m_mutex);
    QStringList matches;
    for (auto it = m_projects.cbegin(); it != m_projects.cend(); ++it)
        if (lsId(it.key()) == id)
            matches << it.key();
    if (matches.size() > 1) {
        matches.sort();
        if (why)
            *why = QStringLiteral("Several Label Studio servers have a project %1 (%2); name one by its key.")
                       .arg(id)
                       .arg(matches.join(QStringLiteral(", ")));
        return std::nullopt;
    }
    return matches.isEmpty() ? key : matches.constFirst();
}

QString LoopEngine::keyOnServer(qint64 lsProjectId) const
{
    return m_reconciler ? m_reconciler->keyOnServer(lsProjectId) : QString();
}

QUrl LoopEngine::labelStudioUrl() const
{
    return m_client ? m_client->baseUrl() : QUrl();
}

QString LoopEngine::legacyTarget(const QString &key)
{
    if (!backend::projectkey::hasCreated(key))
        return key;
    const QString bare = QString::number(lsId(key));
    bool adoptNow = false;
    {
        std::lock_guard lock(m_mutex);
        if (m_projects.contains(key) || !m_projects.contains(bare))
            return key;
        const std::optional<QString> listed = m_reconciler ? m_reconciler->listedKey(lsId(key)) : std::nullopt;
        if (listed && *listed != key)
            return key; // another server's project with that id: a project of its own
        // The connected server's (or, with no server to ask, the only one that talks to us):
        // adopt the old rows; until then they stay the project's.
        adoptNow = listed.has_value() || !m_client;
    }
    if (adoptNow)
        QMetaObject::invokeMethod(this, [this, key] { adoptLegacy(key, true); }, Qt::QueuedConnection);
    return bare;
}

void LoopEngine::adoptWhenLegacy(const QString &projectId)
{
    if (backend::projectkey::hasCreated(projectId))
        return;
    const QString key = keyOnServer(lsId(projectId));
    if (!key.isEmpty())
        QTimer::singleShot(0, this, [this, key] { adoptLegacy(key); });
}

void LoopEngine::adoptLegacy(const QString &key, bool unconnected)
{
    // Engine thread only, and only for a key of the connected server (its listing): the
    // old rows came from the server the loop was connected to, not from whichever server's
    // project with that id speaks first.
    if (!backend::projectkey::hasCreated(key))
        return;
    const QString bare = QString::number(lsId(key));
    {
        std::lock_guard lock(m_mutex);
        if (!unconnected && keyOnServer(lsId(key)) != key)
            return;
        const auto it = m_projects.constFind(bare);
        if (it == m_projects.constEnd() || m_projects.contains(key))
            return;
        // Not while a run, sync or refresh still works under the bare id: retried when it ends.
        const Project &p = **it;
        if (p.control || m_reconciler->isRunning(bare) || p.refreshState == QLatin1String("running"))
            return;
        for (auto other = m_projects.cbegin(); other != m_projects.cend(); ++other)
            if (other.key() != bare && lsId(other.key()) == lsId(key))
                return;
    }
    // Model folder first (it can be moved back), then the rows in one transaction.
    QString why;
    if (!m_registry->renameProject(bare, key, &why)) {
        log(bare, QStringLiteral("adopt_failed"), QStringLiteral("key=%1 error=\"%2\"").arg(key, why));
        return;
    }
    const auto moved = m_store->renameProject(bare, key);
    if (!moved || !moved.value()) {
        QString back;
        (void)m_registry->renameProject(key, bare, &back);
        if (!moved)
            log(bare, QStringLiteral("adopt_failed"), QStringLiteral("key=%1 error=\"%2\"").arg(key, moved.error()));
        return;
    }
    m_service->renameProject(bare, key); // its label config (and anything else held in memory)
    QStringList warnings;
    m_service->loadActiveFromRegistry(&warnings);
    if (const QString xml = m_service->labelConfigXml(bare); !xml.isEmpty() && m_service->labelConfigXml(key).isEmpty())
        m_service->setLabelConfig(key, xml);
    {
        std::lock_guard lock(m_mutex);
        if (auto p = m_projects.take(bare)) {
            p->versionsCache.reset();
            m_projects.insert(key, p);
        }
    }
    log(key, QStringLiteral("adopted"), QStringLiteral("from=%1").arg(bare));
    Q_EMIT projectAdded(key);
    Q_EMIT statusChanged(key);
}

Status LoopEngine::open(const QString &dataDir, const LoopSettings &defaults, const QString &storeUrl)
{
    m_dataDir = dataDir;
    m_defaults = defaults;
    if (m_replica.isEmpty())
        m_replica = QHostInfo::localHostName() + u':' + QString::number(QCoreApplication::applicationPid());
    m_store = std::make_unique<store::LoopStore>();
    if (Status s = m_store->open(dataDir, storeUrl); !s)
        return s;
    m_registry = m_store->isShared()
                     ? std::make_shared<backend::ModelRegistry>(dataDir, std::make_shared<SharedModels>(m_store.get()))
                     : std::make_shared<backend::ModelRegistry>(dataDir);
    m_service = std::make_shared<backend::PredictionService>(m_registry);
    QStringList warnings;
    m_service->loadActiveFromRegistry(&warnings);
    for (const QString &w : std::as_const(warnings))
        Q_EMIT logLine(QStringLiteral("loop event=warning message=\"%1\"").arg(w));
    if (m_store->isShared() && !warnings.isEmpty()) {
        // Checked again every 2 s against the store (syncActive). A single data folder has no
        // one else to serve: there /ready reflects only that the store is open.
        std::lock_guard lock(m_readyMutex);
        m_notReady = QStringLiteral("Cannot load %1 active version(s) (see the log).").arg(warnings.size());
    }
    if (m_store->isShared()) {
        QString error;
        if (!m_store->listenForActivations(this, [this](const QString &key) { syncActive(key); }, &error))
            Q_EMIT logLine(QStringLiteral("loop event=warning message=\"%1; new versions arrive by polling (2 s)\"").arg(error));
        Q_EMIT logLine(QStringLiteral("loop event=store_shared store=%1 replica=%2").arg(m_store->path(), m_replica));
    }

    m_server = new backend::BackendServer(m_service, this);
    m_server->setWebhookSink([this](const backend::WebhookEvent &event) { return ingestWebhook(event); });
    // The engine outlives the server (it stops it first), so a non-owning pointer is safe.
    m_server->setLoopControl(std::shared_ptr<backend::LoopControl>(this, [](backend::LoopControl *) {}));
    m_server->setLoopEvents(m_events);
    connect(m_server, &backend::BackendServer::projectSetup, this,
            [this](const QString &projectId, const QString &, const QString &) {
                if (auto id = resolve(projectId)) {
                    id = legacyTarget(*id);
                    addProject(*id);
                    const QString xml = m_service->labelConfigXml(*id);
                    if (!xml.isEmpty())
                        (void)m_store->setLabelConfig(*id, xml);
                }
            });

    m_reconciler = new Reconciler(m_store.get(), this);
    m_reconciler->setProjects([this] { return projects(); });
    m_reconciler->setLabelReader([this](const QString &key) { return labelReader(key); });
    // The label config first: the loop can train before Label Studio calls /setup again.
    connect(m_reconciler, &Reconciler::labelConfig, this, [this](const QString &key, const QString &xml) {
        if (xml != m_service->labelConfigXml(key)) {
            m_service->setLabelConfig(key, xml);
            (void)m_store->setLabelConfig(key, xml);
        }
    });
    connect(m_reconciler, &Reconciler::listed, this, &LoopEngine::onServerListed);
    connect(m_reconciler, &Reconciler::listingFailed, this, &LoopEngine::onListingFailed);
    connect(m_reconciler, &Reconciler::finished, this, &LoopEngine::onReconciled);

    if (const auto ids = m_store->projects(); ids) {
        for (const QString &id : ids.value()) {
            if (const auto row = m_store->project(id); row && !row->labelConfig.isEmpty()
                && m_service->labelConfigXml(id).isEmpty())
                m_service->setLabelConfig(id, row->labelConfig);
            ensureProject(id);
        }
    } else {
        return Status::failure(ids.error());
    }

    m_refresher = new PredictionRefresher(this);
    m_refresher->setStillWanted([this](const PredictionRefresher::Job &job) {
        return keyOnServer(job.lsProjectId) == job.projectKey && activeVersion(job.projectKey) == job.version;
    });
    connect(m_refresher, &PredictionRefresher::progress, this, [this](const QString &key, int version, int sent, int created) {
        {
            std::lock_guard lock(m_mutex);
            Project &p = projectLocked(key);
            if (p.refreshVersion != version)
                return;
            p.refreshSent = sent;
            p.refreshCreated = created;
        }
        Q_EMIT statusChanged(key);
    });
    connect(m_refresher, &PredictionRefresher::batchStored, this,
            [this](const QString &key, int version, const QList<QPair<qint64, QStringList>> &predictions) {
                if (const Status s = m_store->recordServed(key, version, predictions); !s)
                    log(key, QStringLiteral("warning"), QStringLiteral("message=\"%1\"").arg(s.error()));
            });
    connect(m_refresher, &PredictionRefresher::finished, this, &LoopEngine::onRefreshFinished);
    m_provisioner = new WebhookProvisioner(this);
    connect(m_provisioner, &WebhookProvisioner::checked, this, &LoopEngine::onWebhookChecked);
    // Connected first, so the cache is gone before any view asks for the new versions.
    connect(this, &LoopEngine::versionsChanged, this, [this](const QString &key) {
        std::lock_guard lock(m_mutex);
        if (const auto it = m_projects.constFind(key); it != m_projects.constEnd()) {
            (*it)->versionsCache.reset();
            ++(*it)->versionsEpoch;
        }
    });

    m_pollTimer = new QTimer(this);
    m_pollTimer->setInterval(1000);
    connect(m_pollTimer, &QTimer::timeout, this, [this] {
        if (m_store->isShared() && ++m_sharedTicks % 2 == 0)
            refreshShared();
        pollAll();
    });
    m_pollTimer->start();
    m_syncTimer = new QTimer(this);
    connect(m_syncTimer, &QTimer::timeout, this, [this] {
        if (m_store->leadsSync()) // replicas of a shared store: one of them reconciles
            reconcileNow(QString(), false);
    });
    setSyncIntervalMinutes(m_syncMinutes);
    return {};
}

void LoopEngine::setClock(Clock clock)
{
    m_clock = std::move(clock);
}

void LoopEngine::setSyncIntervalMinutes(int minutes)
{
    m_syncMinutes = minutes;
    if (!m_syncTimer)
        return;
    if (minutes > 0)
        m_syncTimer->start(minutes * 60 * 1000);
    else
        m_syncTimer->stop();
}

void LoopEngine::setLabelStudio(const QUrl &url, const QString &token)
{
    // Answers still on their way belong to the previous server: they are dropped, and no
    // project stays "syncing" waiting for them. The reconciler lets go of the old server first:
    // the client's setServer() fails what is in flight at once, and those failures must not
    // count as this reconcile's (nor carry an old job on to the new server).
    if (m_reconciler)
        m_reconciler->setClient(nullptr);
    QStringList keys;
    {
        std::lock_guard lock(m_mutex);
        for (auto it = m_projects.begin(); it != m_projects.end(); ++it) {
            (*it)->syncError.clear();
            if ((*it)->refreshState == QLatin1String("running")) {
                (*it)->refreshState = QStringLiteral("failed");
                (*it)->refreshError = QStringLiteral("The connection to Label Studio changed before the refresh finished.");
            }
            keys << it.key();
        }
    }
    if (m_refresher)
        m_refresher->cancelAll();
    if (url.isEmpty()) {
        if (m_provisioner)
            m_provisioner->setClient(nullptr);
        delete m_client;
    } else {
        if (!m_client)
            m_client = new labelstudio::LabelStudioClient(this);
        m_client->setServer(url, token);
        if (m_refresher)
            m_refresher->setClient(m_client);
        if (m_provisioner)
            m_provisioner->setClient(m_client);
        if (m_reconciler)
            m_reconciler->setClient(m_client); // lists the server's projects, then reconciles them
    }
    for (const QString &key : std::as_const(keys))
        Q_EMIT statusChanged(key);
}

bool LoopEngine::hasLabelStudio() const
{
    return m_client && !m_client->baseUrl().isEmpty();
}

bool LoopEngine::startServer(const backend::ServerConfig &config, QString *error)
{
    backend::ServerConfig c = config;
    c.dataDir = m_dataDir;
    if (c.operatorToken.isEmpty()) {
        const Result<QString> token = backend::operatortoken::loadOrCreate(m_dataDir);
        if (!token) {
            *error = token.error();
            return false;
        }
        c.operatorToken = token.value();
    }
    return m_server->start(c, error);
}

void LoopEngine::stopServer()
{
    m_server->stop();
}

// ---- projects --------------------------------------------------------------------------

LoopEngine::Project &LoopEngine::projectLocked(const QString &projectId) const
{
    auto it = m_projects.find(projectId);
    if (it == m_projects.end())
        it = m_projects.insert(projectId, std::make_shared<Project>([this] { return m_clock(); }));
    return **it;
}

QStringList LoopEngine::projects() const
{
    std::lock_guard lock(m_mutex);
    QStringList ids = m_projects.keys();
    std::sort(ids.begin(), ids.end());
    return ids;
}

void LoopEngine::ensureProject(const QString &projectId)
{
    {
        std::lock_guard lock(m_mutex);
        if (m_projects.contains(projectId))
            return;
    }
    const auto created = m_store->ensureProject(projectId);
    const auto row = m_store->project(projectId);
    {
        std::lock_guard lock(m_mutex);
        Project &p = projectLocked(projectId);
        p.settings = LoopSettings::fromStored(row ? row->settings : QByteArray(), m_defaults);
        p.scheduler.setSettings(p.settings);
        if (row) {
            // A shared store's schedule is every replica's: its times, not another replica's queue.
            if (m_store->isShared())
                p.scheduler.restoreTimes(QJsonDocument::fromJson(row->schedule).object());
            else
                p.scheduler.restoreState(QJsonDocument::fromJson(row->schedule).object());
            p.lastError = row->lastError;
            p.lastReconcile = row->lastSync;
        }
    }
    log(projectId, QStringLiteral("added"), created && created.value() ? QStringLiteral("first_seen=true") : QString());
    Q_EMIT projectAdded(projectId);
    if (hasLabelStudio() && row && !row->lastFullSync.isValid() && m_store->leadsSync())
        m_reconciler->sync(projectId, true);
}

void LoopEngine::addProject(const QString &projectId)
{
    ensureProject(projectId);
}

LoopSettings LoopEngine::settings(const QString &projectId) const
{
    std::lock_guard lock(m_mutex);
    const auto it = m_projects.find(projectId);
    return it == m_projects.end() ? m_defaults : (*it)->settings;
}

Status LoopEngine::setSettings(const QString &projectId, const LoopSettings &settings)
{
    ensureProject(projectId);
    const QByteArray json = QJsonDocument(settings.toJson()).toJson(QJsonDocument::Compact);
    if (Status s = m_store->setSettings(projectId, json); !s)
        return s;
    {
        std::lock_guard lock(m_mutex);
        Project &p = projectLocked(projectId);
        p.settings = settings;
        p.scheduler.setSettings(settings);
    }
    saveSchedule(projectId);
    log(projectId, QStringLiteral("settings"), QString::fromUtf8(json));
    Q_EMIT statusChanged(projectId);
    QTimer::singleShot(0, this, [this, projectId] { pollProject(projectId); });
    return {};
}

void LoopEngine::persistSettings(const QString &projectId)
{
    LoopSettings current;
    {
        std::lock_guard lock(m_mutex);
        current = projectLocked(projectId).settings;
    }
    const QByteArray json = QJsonDocument(current.toJson()).toJson(QJsonDocument::Compact);
    const Status saved = m_store->setSettings(projectId, json);
    {
        std::lock_guard lock(m_mutex);
        Project &p = projectLocked(projectId);
        p.settingsUnsaved = std::max(0, p.settingsUnsaved - 1);
        if (saved)
            p.scheduler.setSettings(p.settings); // the newest, also if a change came meanwhile
    }
    if (!saved) {
        log(projectId, QStringLiteral("settings_failed"), QStringLiteral("error=\"%1\"").arg(saved.error()));
        return;
    }
    saveSchedule(projectId);
    log(projectId, QStringLiteral("settings"), QString::fromUtf8(json));
    Q_EMIT statusChanged(projectId);
    QTimer::singleShot(0, this, [this, projectId] { pollProject(projectId); });
}

void LoopEngine::saveSchedule(const QString &projectId)
{
    QJsonObject state;
    {
        std::lock_guard lock(m_mutex);
        state = projectLocked(projectId).scheduler.saveState();
    }
    (void)m_store->setSchedule(projectId, QJsonDocument(state).toJson(QJsonDocument::Compact));
}

void LoopEngine::log(const QString &projectId, const QString &event, const QString &details)
{
    QString line = QStringLiteral("loop project=%1 event=%2").arg(projectId).arg(event);
    if (!details.isEmpty())
        line += QLatin1Char(' ') + details;
    {
        std::lock_guard lock(m_mutex);
        if (m_projects.contains(projectId)) {
            QStringList &runLog = projectLocked(projectId).runLog;
            runLog << iso(m_clock()) + QLatin1Char(' ') + event + (details.isEmpty() ? QString() : QLatin1Char(' ') + details);
            while (runLog.size() > kRunLogLines)
                runLog.removeFirst();
        }
    }
    Q_EMIT logLine(line);
}

std::optional<store::TargetSpec> LoopEngine::targetOf(const QString &projectId, QString *why) const
{
    const QString xml = m_service->labelConfigXml(projectId);
    if (xml.isEmpty()) {
        *why = QStringLiteral("Label Studio has not sent project %1's label config yet (it does when it calls /setup).")
                   .arg(projectId);
        return std::nullopt;
    }
    const labelconfig::LabelConfig config = labelconfig::parse(xml);
    if (!config.isServable()) {
        *why = config.reason();
        return std::nullopt;
    }
    const labelconfig::ClassificationTarget &t = config.targets.constFirst();
    return store::TargetSpec{t.fromName, t.dataKey, t.choices, t.multiple};
}

int LoopEngine::activeVersion(const QString &projectId) const
{
    return m_service->activeVersion(projectId);
}

double LoopEngine::accuracyOf(const QString &projectId, int version) const
{
    if (version <= 0)
        return -1.0;
    const auto info = m_registry->version(projectId, version);
    if (!info || !info->metrics.contains(QStringLiteral("accuracy")))
        return -1.0;
    return info->metrics.value(QStringLiteral("accuracy")).toDouble(-1.0);
}

// ---- webhooks (HTTP threads) -------------------------------------------------------------

backend::WebhookOutcome LoopEngine::ingestWebhook(const backend::WebhookEvent &event)
{
    if (event.projectId.isEmpty())
        return backend::WebhookOutcome::stored(); // not attributable to a project (an organisation-level event): reconcile covers it
    QString why;
    auto id = resolve(event.projectId, &why);
    if (!id)
        return backend::WebhookOutcome::badEvent(why);
    id = legacyTarget(*id);
    const auto changes = parseWebhook(event.payload);
    if (!changes)
        return backend::WebhookOutcome::badEvent(changes.error());
    const auto applied = m_store->apply(*id, changes.value(), labelReader(*id));
    if (!applied)
        return backend::WebhookOutcome::storeFailed(applied.error());
    if (!changes->labelConfig.isEmpty()) {
        // A changed label config (PROJECT_UPDATED, or any event that carries the project) is
        // in force for serving and for the next training at once.
        if (changes->labelConfig != m_service->labelConfigXml(*id))
            m_service->setLabelConfig(*id, changes->labelConfig);
        (void)m_store->setLabelConfig(*id, changes->labelConfig);
    }
    if (policy::isAnnotatorEvent(event.action) && m_refresher)
        m_refresher->annotatorActivity(); // the prediction refresh makes way
    const bool startTraining = changes->startTraining;
    const int changed = applied.value();
    const QString action = changes->action;
    QMetaObject::invokeMethod(
        this,
        [this, id = *id, startTraining, changed, action] {
            ensureProject(id);
            if (changed > 0)
                log(id, QStringLiteral("webhook"), QStringLiteral("action=%1 changed=%2").arg(action).arg(changed));
            if (startTraining) {
                TrainingScheduler::Outcome outcome;
                {
                    std::lock_guard lock(m_mutex);
                    outcome = projectLocked(id).scheduler.request(Trigger::StartTraining);
                }
                log(id, QStringLiteral("start_training"),
                    QStringLiteral("outcome=%1").arg(outcome == TrainingScheduler::Outcome::Start      ? QStringLiteral("start")
                                                     : outcome == TrainingScheduler::Outcome::Disabled ? QStringLiteral("disabled")
                                                                                                       : QStringLiteral("queued")));
                if (outcome == TrainingScheduler::Outcome::Start)
                    startRun(id, Trigger::StartTraining);
            }
            pollProject(id);
            Q_EMIT statusChanged(id);
        },
        Qt::QueuedConnection);
    return backend::WebhookOutcome::stored();
}

// ---- scheduling and training -------------------------------------------------------------

void LoopEngine::pollAll()
{
    const QStringList ids = projects();
    for (const QString &id : ids)
        pollProject(id);
}

void LoopEngine::pollProject(const QString &projectId)
{
    const auto pending = m_store->pendingChanges(projectId);
    if (!pending)
        return;
    std::optional<Trigger> trigger;
    {
        std::lock_guard lock(m_mutex);
        if (!m_projects.contains(projectId))
            return;
        Project &p = projectLocked(projectId);
        // A failing project waits (1 min doubling to 1 h) before its next automatic run; an
        // explicit request queued meanwhile still runs.
        const std::optional<Trigger> queued = p.scheduler.queued();
        const bool asked = queued && TrainingScheduler::isExplicit(*queued);
        if (p.backoffUntil.isValid() && m_clock() < p.backoffUntil && !asked)
            return;
        // Too few examples last time: nothing automatic until new annotations arrive.
        if (p.waitForPendingAbove >= 0 && pending.value() <= p.waitForPendingAbove && !asked)
            return;
        p.waitForPendingAbove = -1;
        trigger = p.scheduler.poll(pending.value());
    }
    if (trigger)
        startRun(projectId, *trigger);
}

void LoopEngine::startRun(const QString &projectId, Trigger trigger, RunStart how)
{
    if (!claimRun(projectId, trigger, how))
        return;
    QString why;
    const auto target = targetOf(projectId, &why);
    auto control = std::make_shared<TrainingControl>();
    const QDateTime started = m_clock();
    int minExamples = 0;
    std::shared_ptr<const WarmState> warm;
    {
        std::lock_guard lock(m_mutex);
        Project &p = projectLocked(projectId);
        if (target)
            warm = p.warm.value(target->fromName);
        p.scheduler.runStarted(trigger);
        p.control = control;
        p.runStarted = started;
        p.runTrigger = triggerName(trigger);
        minExamples = p.settings.minExamples;
    }
    saveSchedule(projectId);
    log(projectId, QStringLiteral("training_started"), QStringLiteral("trigger=%1").arg(triggerName(trigger)));
    Q_EMIT trainingStarted(projectId, triggerName(trigger));
    Q_EMIT statusChanged(projectId);
    if (!target) {
        finishRun(projectId, trigger, started, 0, Result<TrainingOutput>::failure(why), std::nullopt, QString(), QJsonObject(),
                  SharedComparison());
        return;
    }
    const bool automatic = trigger == Trigger::Threshold || trigger == Trigger::Interval || trigger == Trigger::Daily;
    // The version serving now is what the new one must not be worse than; its model is
    // immutable, so the worker can score it while it keeps serving.
    int activeAtStart = 0;
    const std::shared_ptr<const model::TextClassifier> activeModel = m_service->activeModel(projectId, target->fromName, &activeAtStart);
    store::LoopStore *store = m_store.get();
    auto registry = m_registry;
    const store::TargetSpec spec = *target;
    const QString replica = isShared() ? m_replica : QString();
    auto *watcher = new QFutureWatcher<RunResult>(this);
    connect(watcher, &QFutureWatcher<RunResult>::finished, this, [=, this] {
        const RunResult r = watcher->result();
        watcher->deleteLater();
        if (r.usable >= 0) {
            // The run read every annotation: that is the usable count /loop/status shows (no
            // recount of the same data, none that competed with the run).
            std::lock_guard lock(m_mutex);
            Project &p = projectLocked(projectId);
            if (!p.recounting && r.changeSeq >= p.cachedSeq) {
                p.cachedSeq = r.changeSeq;
                p.usable = r.usable;
                p.droppedLabels = r.droppedLabels;
                p.droppedExamples = r.droppedExamples;
            }
        }
        if (r.tooFew) {
            // Not a failure: the loop waits for more annotations (no back-off in time, no alarm).
            finishTooFew(projectId, trigger, started, r.result->error());
            return;
        }
        finishRun(projectId, trigger, started, r.changeSeq, *r.result, r.saved, r.saveError, r.metrics, r.shared);
    });
    watcher->setFuture(QtConcurrent::run(&m_workers, [=]() -> RunResult {
        // The run's data, matrices and models are freed when this scope ends; then the heap's
        // free pages go back to the system, so a long-running serve does not keep the peak of
        // its largest training.
        RunResult result = [&]() -> RunResult {
            RunResult r;
            const auto data = store->trainingData(projectId, spec);
            if (!data) {
                r.result = Result<TrainingOutput>::failure(data.error());
                return r;
            }
            r.changeSeq = data->changeSeq;
            r.droppedLabels = data->droppedLabels;
            r.usable = int(data->examples.size());
            r.droppedExamples = data->droppedExamples;
            if (automatic && data->examples.size() < minExamples) {
                r.tooFew = true;
                r.result = Result<TrainingOutput>::failure(
                    QStringLiteral("Only %1 usable examples; automatic training starts at %2.").arg(data->examples.size()).arg(minExamples));
                return r;
            }
            TrainingInput input;
            if (const auto unlabeled = store->unlabeledTasks(projectId, spec.dataKey); unlabeled)
                for (const store::UnlabeledTask &t : unlabeled.value())
                    input.unlabeledTexts << t.text;
            input.examples = data->examples;
            input.exampleTasks = data->exampleTasks;
            input.warm = warm ? warm : choiceOf(*registry, projectId, spec.fromName, activeAtStart, activeModel, data->exampleTasks);
            input.choices = spec.choices;
            input.multiple = spec.multiple;
            r.result = Trainer::train(input, control.get());
            if (*r.result && !Trainer::isCancelled(*r.result)) {
                const TrainingOutput &out = r.result->value();
                r.metrics = out.metrics;
                r.metrics.insert(QStringLiteral("trigger"), triggerName(trigger));
                if (!replica.isEmpty())
                    r.metrics.insert(QStringLiteral("replica"), replica); // which replica of a shared store trained it
                r.metrics.insert(QStringLiteral("dropped_labels"), r.droppedLabels);
                qint64 dataSeq = data->changeSeq; // an annotation read although it came after the counter was read
                for (const qint64 s : std::as_const(data->exampleSeqs))
                    dataSeq = std::max(dataSeq, s);
                r.metrics.insert(kDataChangeSeq, double(dataSeq));
                r.metrics.insert(kTrainedTasks, taskRanges(data->exampleTasks));
                r.shared = compareWithActive(*registry, projectId, activeAtStart, activeModel, data.value(), out, spec);
                backend::NewModelVersion meta;
                meta.target = spec.fromName;
                meta.metrics = r.metrics;
                meta.trainingExamples = out.examples;
                QString why;
                r.saved = registry->addVersion(projectId, *out.classifier, meta, &why);
                if (!r.saved)
                    r.saveError = why;
            }
            return r;
        }();
        releaseFreedMemory();
        return result;
    }));
}

void LoopEngine::finishRun(const QString &projectId, Trigger trigger, const QDateTime &started, qint64 changeSeq,
                           const Result<TrainingOutput> &result, const std::optional<backend::ModelVersionInfo> &saved,
                           const QString &saveError, const QJsonObject &savedMetrics, const SharedComparison &shared)
{
    LoopSettings settings;
    {
        std::lock_guard lock(m_mutex);
        Project &p = projectLocked(projectId);
        p.control.reset();
        p.scheduler.runFinished();
        settings = p.settings;
    }
    saveSchedule(projectId);
    store::RunRecord run;
    run.trigger = triggerName(trigger);
    run.started = started;
    run.finished = m_clock();
    const QString pid = projectId;
    QString error;
    // A replica of a shared store records and activates a version only while it still holds the
    // run's claim: after its session was renewed, another replica may be running it already.
    bool lostClaim = false;
    if (isShared() && !Trainer::isCancelled(result)) {
        const auto still = m_store->stillClaimed(projectId);
        lostClaim = !still || !still.value();
    }
    if (lostClaim) {
        run.outcome = QStringLiteral("cancelled");
        run.message = QStringLiteral("This replica lost its claim on the run (its connection to the store was renewed); "
                                     "another replica takes the run over.");
        log(projectId, QStringLiteral("run_lost_claim"), QStringLiteral("version_not_used=%1").arg(saved ? saved->version : 0));
        QString ignored; // never active: only a file nobody will serve
        if (saved && !m_registry->removeVersion(projectId, saved->version, &ignored))
            log(projectId, QStringLiteral("warning"), QStringLiteral("message=\"%1\"").arg(ignored));
    } else if (Trainer::isCancelled(result)) {
        run.outcome = QStringLiteral("cancelled");
        run.message = result.error();
        log(projectId, QStringLiteral("training_cancelled"));
    } else if (!result) {
        error = result.error();
    } else {
        const TrainingOutput &out = result.value();
        const QJsonObject metrics = savedMetrics;
        QString why;
        const auto &info = saved;
        if (!info) {
            error = QStringLiteral("The new version could not be saved: %1").arg(saveError);
        } else {
            (void)m_store->recordVersion(projectId, store::VersionRecord{info->version, info->created, triggerName(trigger),
                                                                         out.examples,
                                                                         QJsonDocument(metrics).toJson(QJsonDocument::Compact)});
            (void)m_store->markTrained(projectId, changeSeq);
            if (out.warm) {
                std::lock_guard lock(m_mutex);
                QHash<QString, std::shared_ptr<const WarmState>> &warm = projectLocked(projectId).warm;
                warm.clear(); // one state per project: the latest target's
                warm.insert(info->target, out.warm);
            }
            // A shared store: what serves now is what the store says, also if another replica's
            // activation or rollback has not reached this one yet (its notification waits for
            // this thread), so an operator's choice made there stands here too.
            if (isShared())
                syncActive(projectId);
            const int previous = activeVersion(projectId);
            const QString previousName = backend::ModelRegistry::versionName(previous);
            // Like with like: both versions on the labelled tasks the active one was not trained
            // on (policy.h). An operator who activated or rolled back while this one trained
            // chose by hand: that choice stands (the new version is kept, to activate later).
            policy::ActivationInput input;
            input.activeVersion = previous;
            input.margin = settings.activationMargin;
            const QString notCompared = shared.why;
            if (previous != shared.activeVersion)
                input.operatorChose = true;
            else
                input.shared = shared.counts;
            const policy::ActivationDecision decision = policy::decideActivation(input);
            const double cvAccuracy = metrics.value(QStringLiteral("accuracy")).toDouble();
            const bool compared = decision.reason == policy::ActivationReason::NotWorse
                || decision.reason == policy::ActivationReason::WorseWithConfidence;
            // What the notification shows as "before -> after": the accuracies on the shared
            // examples when compared, else the active version's evaluation and the new one's.
            double before = accuracyOf(projectId, previous);
            double after = cvAccuracy;
            if (compared) {
                before = input.shared->activeAccuracy();
                after = input.shared->newAccuracy();
            }
            const policy::PairedDifference &diff = decision.difference;
            const QString onShared =
                input.shared
                    ? QStringLiteral("on the %1 labelled tasks %2 was not trained on: accuracy %3 %4, %2 %5, difference %6 "
                                     "(95 % interval %7 to %8)")
                          .arg(diff.n)
                          .arg(previousName, info->name())
                          .arg(input.shared->newAccuracy(), 0, 'f', 3)
                          .arg(input.shared->activeAccuracy(), 0, 'f', 3)
                          .arg(signedFixed(diff.difference, 3), signedFixed(diff.interval.low, 3), signedFixed(diff.interval.high, 3))
                    : QString();
            QString decisionText;
            switch (decision.reason) {
            case policy::ActivationReason::NoActiveVersion:
                decisionText = QStringLiteral("no version was active");
                break;
            case policy::ActivationReason::NoComparison:
                decisionText = QStringLiteral("not compared with %1: %2").arg(previousName, notCompared);
                break;
            case policy::ActivationReason::TooFewShared:
                decisionText = QStringLiteral("only %1 examples %2 was not trained on to compare on (fewer than %3; "
                                              "%4 of %5 new ones were held out in its evaluation)")
                                   .arg(diff.n)
                                   .arg(previousName)
                                   .arg(policy::kMinSharedExamples)
                                   .arg(diff.n)
                                   .arg(shared.newExamples);
                break;
            case policy::ActivationReason::NotWorse:
                decisionText = QStringLiteral("not shown to be worse than %1 by more than %2 %3")
                                   .arg(previousName)
                                   .arg(settings.activationMargin)
                                   .arg(onShared);
                break;
            case policy::ActivationReason::OperatorChose:
                decisionText = QStringLiteral("%1 was made active by hand while it trained; that choice stands").arg(previousName);
                break;
            case policy::ActivationReason::WorseWithConfidence:
                decisionText = QStringLiteral("worse than %1 by more than %2 with 95 % confidence %3")
                                   .arg(previousName)
                                   .arg(settings.activationMargin)
                                   .arg(onShared);
                break;
            }
            bool activated = decision.activate;
            run.version = info->version;
            if (activated && !m_service->activateLoaded(pid, info->version, out.classifier, info->target, &why)) {
                activated = false;
                error = QStringLiteral("Version %1 was trained but cannot be activated: %2").arg(info->version).arg(why);
            }
            run.outcome = activated ? QStringLiteral("trained") : QStringLiteral("kept");
            run.message = activated ? QStringLiteral("%1 active (evaluation accuracy %2): %3").arg(info->name()).arg(cvAccuracy, 0, 'f', 3).arg(decisionText)
                                    : QStringLiteral("%1 kept inactive, %2 stays active: %3").arg(info->name(), previousName, decisionText);
            QString comparedWith = QStringLiteral("none");
            if (previous > 0) {
                comparedWith = QStringLiteral("v%1").arg(previous);
                if (input.shared)
                    comparedWith += QStringLiteral(" shared=%1 new_right=%2 active_right=%3 difference=%4 interval=%5..%6")
                                        .arg(diff.n)
                                        .arg(input.shared->both + input.shared->newOnly)
                                        .arg(input.shared->both + input.shared->activeOnly)
                                        .arg(signedFixed(diff.difference, 4), signedFixed(diff.interval.low, 4),
                                             signedFixed(diff.interval.high, 4));
            }
            log(projectId, QStringLiteral("trained"),
                QStringLiteral("version=%1 trigger=%2 examples=%3 accuracy=%4 macro_f1=%5 duration_ms=%6 activated=%7 "
                               "compared_with=%8 decision=\"%9\"")
                    .arg(info->version)
                    .arg(triggerName(trigger))
                    .arg(out.examples)
                    .arg(cvAccuracy, 0, 'f', 4)
                    .arg(metrics.value(QStringLiteral("macro_f1")).toDouble(), 0, 'f', 4)
                    .arg(out.durationMs)
                    .arg(activated ? QStringLiteral("true") : QStringLiteral("false"))
                    .arg(comparedWith, decisionText));
            pruneVersions(projectId, settings.keepVersions);
            bool recovered = false;
            {
                std::lock_guard lock(m_mutex);
                Project &p = projectLocked(projectId);
                recovered = p.failures > 0;
                p.lastError.clear();
                p.failures = 0;
                p.backoffUntil = QDateTime();
                p.lastCause.clear();
            }
            if (recovered)
                log(projectId, QStringLiteral("recovered"));
            (void)m_store->setLastError(projectId, QString());
            Q_EMIT versionsChanged(projectId);
            Q_EMIT trainingFinished(projectId, info->version, activated, before, after);
            if (activated)
                afterActivation(projectId, info->version, QStringLiteral("trained"));
        }
    }
    if (!error.isEmpty()) {
        run.outcome = QStringLiteral("failed");
        run.message = error;
        bool newCause = false;
        int wait = 0;
        {
            std::lock_guard lock(m_mutex);
            Project &p = projectLocked(projectId);
            p.lastError = error;
            ++p.failures;
            wait = policy::failureBackoffSeconds(p.failures);
            p.backoffUntil = m_clock().addSecs(wait);
            const QString cause = policy::failureCause(error);
            newCause = cause != p.lastCause;
            p.lastCause = cause;
        }
        (void)m_store->setLastError(projectId, error);
        log(projectId, QStringLiteral("training_failed"),
            QStringLiteral("error=\"%1\" next_automatic_run_in_s=%2").arg(error).arg(wait));
        if (newCause) // one notification per cause, not one per retry
            Q_EMIT trainingFailed(projectId, error);
    }
    (void)m_store->recordRun(projectId, run);
    releaseRun(projectId); // after the version, the trained mark and the record: the next claimant sees them
    Q_EMIT statusChanged(projectId);
    QTimer::singleShot(0, this, [this, projectId] { pollProject(projectId); }); // a queued run
    adoptWhenLegacy(projectId);
}

void LoopEngine::finishTooFew(const QString &projectId, Trigger trigger, const QDateTime &started, const QString &why)
{
    qint64 pending = 0;
    if (const auto p = m_store->pendingChanges(projectId); p)
        pending = p.value();
    bool known = false;
    {
        std::lock_guard lock(m_mutex);
        const auto it = m_projects.constFind(projectId);
        known = it != m_projects.constEnd();
    }
    if (!known) {
        releaseRun(projectId);
        return;
    }
    {
        std::lock_guard lock(m_mutex);
        Project &p = projectLocked(projectId);
        p.control.reset();
        p.scheduler.runFinished();
        p.waitForPendingAbove = pending; // the next automatic run waits for new annotations
        p.lastError = why;
    }
    saveSchedule(projectId);
    store::RunRecord run;
    run.trigger = triggerName(trigger);
    run.started = started;
    run.finished = m_clock();
    run.outcome = QStringLiteral("skipped");
    run.message = why;
    (void)m_store->recordRun(projectId, run);
    releaseRun(projectId);
    log(projectId, QStringLiteral("training_skipped"), QStringLiteral("reason=\"%1\"").arg(why));
    Q_EMIT statusChanged(projectId);
}

// ---- replicas ---------------------------------------------------------------------------

bool LoopEngine::isShared() const
{
    return m_store && m_store->isShared();
}

void LoopEngine::setReplicaName(const QString &name)
{
    m_replica = name;
}

QString LoopEngine::notReady() const
{
    if (!m_store || !m_store->isOpen())
        return QStringLiteral("The loop's store is not open.");
    std::lock_guard lock(m_readyMutex);
    return m_notReady;
}

bool LoopEngine::claimRun(const QString &projectId, Trigger trigger, RunStart how)
{
    if (!isShared())
        return true;
    const auto claimed = m_store->claimRun(projectId, m_replica, triggerName(trigger));
    const bool asked = TrainingScheduler::isExplicit(trigger);
    if (!claimed || !claimed.value()) {
        if (!claimed)
            log(projectId, QStringLiteral("warning"), QStringLiteral("message=\"%1\"").arg(claimed.error()));
        // Another replica runs the project. An explicit request waits for it (queued, asked again
        // every second); an automatic trigger is the other run's business, or is found again by
        // the next poll if the changes are still there after it.
        if (asked) {
            std::lock_guard lock(m_mutex);
            projectLocked(projectId).scheduler.requeue(trigger, m_clock().addSecs(1));
        }
        return false;
    }
    m_unreleased.remove(projectId); // a new claim: an old failed release must not end it
    if (asked)
        return true;
    // An automatic trigger (also one taken over) is decided again on the store's state, under
    // the lock: the replica that ran before may just have trained on these very changes. (Not by
    // polling the scheduler again: its poll already moved the interval and daily marks.)
    // Threshold: still that many changes, and not within the cooldown after the last run of any
    // replica; interval and daily: still something changed since the last training.
    const auto pending = m_store->pendingChanges(projectId);
    const auto row = m_store->project(projectId);
    bool still = false;
    if (pending && row) {
        std::lock_guard lock(m_mutex);
        Project &p = projectLocked(projectId);
        p.scheduler.restoreTimes(QJsonDocument::fromJson(row->schedule).object()); // what the others ran
        if (trigger == Trigger::Threshold) {
            still = p.settings.trainEvery > 0 && pending.value() >= p.settings.trainEvery;
            if (const QDateTime until = p.scheduler.cooldownUntil(); still && until.isValid() && how != RunStart::TakeOver) {
                p.scheduler.requeue(Trigger::Threshold, until); // as a single replica would: after the cooldown
                still = false;
            }
        } else {
            still = pending.value() > 0;
        }
    }
    if (still)
        return true;
    releaseRun(projectId);
    return false;
}

void LoopEngine::releaseRun(const QString &projectId)
{
    if (!isShared())
        return;
    if (const Status s = m_store->releaseRun(projectId); !s) {
        log(projectId, QStringLiteral("warning"), QStringLiteral("message=\"%1\"").arg(s.error()));
        // Still claimed: tried again by refreshShared (a lock let go with its record still there
        // would make another replica run the finished run again).
        if (m_store->holdsClaim(projectId))
            m_unreleased.insert(projectId);
    } else {
        m_unreleased.remove(projectId);
    }
}

void LoopEngine::syncActive(const QString &projectId)
{
    if (!isShared())
        return;
    const auto all = m_store->allActiveModels();
    if (!all) {
        log(QString(), QStringLiteral("warning"), QStringLiteral("message=\"%1\"").arg(all.error()));
        std::lock_guard lock(m_readyMutex);
        m_notReady = QStringLiteral("Cannot read the active versions from the store (see the log).");
        return;
    }
    QStringList problems;
    for (auto it = all->cbegin(); it != all->cend(); ++it) {
        const QString &key = it.key();
        if (!projectId.isEmpty() && key != projectId)
            continue;
        const QHash<QString, int> served = m_service->activeTargets(key);
        bool same = true;
        for (auto t = it.value().cbegin(); t != it.value().cend(); ++t)
            same = same && served.value(t.key(), backend::PredictionService::kNoModel) == t.value();
        if (same)
            continue;
        QString error;
        const int swapped = m_service->syncActive(key, &error);
        if (swapped < 0) {
            problems << error;
            log(key, QStringLiteral("warning"), QStringLiteral("message=\"%1\"").arg(error));
        } else if (swapped > 0) {
            log(key, QStringLiteral("version_loaded"),
                QStringLiteral("version=%1 from=store").arg(m_service->activeVersion(key)));
            Q_EMIT versionsChanged(key);
            Q_EMIT statusChanged(key);
        }
    }
    std::lock_guard lock(m_readyMutex);
    if (!problems.isEmpty())
        m_notReady = QStringLiteral("Cannot load %1 active version(s) (see the log).").arg(problems.size());
    else if (projectId.isEmpty())
        m_notReady.clear();
}

void LoopEngine::refreshShared()
{
    // A renewed session (the connection to PostgreSQL broke) lost its locks: a run in flight
    // here may be taken over by another replica now, so it stops; its result is not recorded.
    const QSet<QString> lost = m_store->renewSession(this);
    for (const QString &key : lost) {
        bool running = false;
        {
            std::lock_guard lock(m_mutex);
            if (const auto it = m_projects.constFind(key); it != m_projects.constEnd() && (*it)->control) {
                (*it)->control->cancel = true;
                running = true;
            }
        }
        log(key, QStringLiteral("run_lost_claim"),
            QStringLiteral("reason=\"the connection to the store was renewed; another replica may take the run over\""));
        if (!running)
            releaseRun(key); // its record (by owner); a run still going does it when it ends
    }
    for (const QString &key : QSet<QString>(m_unreleased))
        releaseRun(key);
    // Projects another replica added (a webhook or /setup that reached it).
    if (const auto ids = m_store->projects(); ids) {
        for (const QString &id : ids.value()) {
            bool known = false;
            {
                std::lock_guard lock(m_mutex);
                known = m_projects.contains(id);
            }
            if (!known) {
                if (const auto row = m_store->project(id); row && !row->labelConfig.isEmpty() && m_service->labelConfigXml(id).isEmpty())
                    m_service->setLabelConfig(id, row->labelConfig);
                ensureProject(id);
            }
        }
    }
    syncActive();
    // Settings another replica saved (POST /loop/settings reached it), unless a change made here
    // is still on its way to the store.
    if (const auto stored = m_store->allSettings(); stored) {
        QStringList changed;
        {
            std::lock_guard lock(m_mutex);
            for (auto it = stored->cbegin(); it != stored->cend(); ++it) {
                const auto p = m_projects.constFind(it.key());
                if (p == m_projects.constEnd() || (*p)->settingsUnsaved > 0)
                    continue;
                const LoopSettings theirs = LoopSettings::fromStored(it.value(), m_defaults);
                if (theirs.toJson() == (*p)->settings.toJson())
                    continue;
                (*p)->settings = theirs;
                (*p)->scheduler.setSettings(theirs);
                changed << it.key();
            }
        }
        for (const QString &key : std::as_const(changed)) {
            log(key, QStringLiteral("settings"), QStringLiteral("from=store"));
            Q_EMIT statusChanged(key);
        }
    }
    // Runs whose replica died: this one takes them over.
    QSet<QString> running; // and projects this replica does not train (switched off, --no-loop)
    {
        std::lock_guard lock(m_mutex);
        for (auto it = m_projects.cbegin(); it != m_projects.cend(); ++it)
            if ((*it)->control || !(*it)->settings.enabled)
                running.insert(it.key());
    }
    const auto orphans = m_store->orphanedRuns(running);
    if (!orphans) {
        log(QString(), QStringLiteral("warning"), QStringLiteral("message=\"%1\"").arg(orphans.error()));
        return;
    }
    for (const store::RunClaim &c : orphans.value()) {
        ensureProject(c.projectId);
        const Trigger trigger = triggerFromName(c.trigger).value_or(Trigger::Manual);
        log(c.projectId, QStringLiteral("run_taken_over"),
            QStringLiteral("from=%1 trigger=%2").arg(c.replica, c.trigger));
        startRun(c.projectId, trigger, RunStart::TakeOver);
    }
}

void LoopEngine::pruneVersions(const QString &projectId, int keep)
{
    const QString pid = projectId;
    const QList<backend::ModelVersionInfo> all = m_registry->versions(pid);
    const QHash<QString, int> active = m_registry->activeVersions(pid);
    int excess = int(all.size()) - keep;
    const int newest = all.isEmpty() ? 0 : all.constLast().version;
    for (const backend::ModelVersionInfo &v : all) {
        if (excess <= 0)
            break;
        // Never the active one, never the newest (version numbers must not be reused).
        if (v.version == newest || std::find(active.cbegin(), active.cend(), v.version) != active.cend())
            continue;
        QString why;
        if (m_registry->removeVersion(pid, v.version, &why)) {
            (void)m_store->forgetVersion(projectId, v.version);
            log(projectId, QStringLiteral("version_deleted"), QStringLiteral("version=%1 keep=%2").arg(v.version).arg(keep));
            --excess;
        } else {
            log(projectId, QStringLiteral("warning"), QStringLiteral("message=\"%1\"").arg(why));
        }
    }
}

bool LoopEngine::cancelRun(const QString &projectId)
{
    std::lock_guard lock(m_mutex);
    const auto it = m_projects.find(projectId);
    if (it == m_projects.end() || !(*it)->control)
        return false;
    (*it)->control->cancel = true;
    return true;
}

// ---- operator actions (any thread) -------------------------------------------------------

std::optional<QString> LoopEngine::projectIdOrFailure(const QString &projectId, LoopReply *failure) const
{
    QString why;
    const auto id = resolve(projectId, &why);
    if (!id)
        *failure = LoopReply::fail(LoopReply::Error::BadRequest, why);
    return id;
}

LoopReply LoopEngine::unknownProject(const QString &projectId)
{
    return LoopReply::fail(LoopReply::Error::UnknownProject,
                           QStringLiteral("The loop does not serve project %1 yet; register the backend in the project first.")
                               .arg(projectId));
}

std::optional<QString> LoopEngine::servedProject(const QString &projectId, LoopReply *failure) const
{
    const auto id = projectIdOrFailure(projectId, failure);
    if (!id)
        return std::nullopt;
    std::lock_guard lock(m_mutex);
    if (!m_projects.contains(*id)) {
        *failure = unknownProject(*id);
        return std::nullopt;
    }
    return id;
}

LoopReply LoopEngine::cancel(const QString &projectId)
{
    LoopReply failure;
    const auto id = projectIdOrFailure(projectId, &failure);
    if (!id)
        return failure;
    if (!cancelRun(*id))
        return LoopReply::fail(LoopReply::Error::NotPossible, QStringLiteral("No training run of project %1 is in progress.").arg(*id));
    log(*id, QStringLiteral("cancel_requested"));
    return LoopReply::ok(QJsonObject{{QStringLiteral("project"), *id}, {QStringLiteral("cancel"), QStringLiteral("requested")}});
}

LoopReply LoopEngine::configure(const QString &projectId, const QJsonObject &changes)
{
    LoopReply failure;
    const auto id = servedProject(projectId, &failure);
    if (!id)
        return failure;
    LoopSettings next;
    QString why;
    {
        // Read, change and publish under one lock: what the answer says is at once what status()
        // shows and what the next change builds on (two quick changes of different keys both
        // stand; before, the second was computed from the settings the first had not yet replaced).
        std::lock_guard lock(m_mutex);
        Project &p = projectLocked(*id);
        if (!LoopSettings::fromJson(changes, p.settings, &next, &why))
            return LoopReply::fail(LoopReply::Error::BadRequest, why);
        p.settings = next;
        ++p.settingsUnsaved; // a shared store's settings are not read back over it meanwhile
    }
    // Saved and given to the scheduler on the engine's thread (the scheduler lives there): the
    // settings in force when the job runs, never the value of this call, so an older job that
    // runs after a newer change cannot undo it.
    QMetaObject::invokeMethod(this, [this, id = *id] { persistSettings(id); }, Qt::QueuedConnection);
    return LoopReply::ok(QJsonObject{{QStringLiteral("project"), *id}, {QStringLiteral("settings"), next.toJson()}});
}

LoopReply LoopEngine::train(const QString &projectId)
{
    LoopReply failure;
    const auto id = projectIdOrFailure(projectId, &failure);
    if (!id)
        return failure;
    TrainingScheduler::Outcome outcome;
    {
        std::lock_guard lock(m_mutex);
        if (!m_projects.contains(*id))
            return unknownProject(*id);
        outcome = projectLocked(*id).scheduler.request(Trigger::Manual);
    }
    QString state;
    switch (outcome) {
    case TrainingScheduler::Outcome::Start:
        state = QStringLiteral("started");
        QMetaObject::invokeMethod(this, [this, id = *id] { startRun(id, Trigger::Manual); }, Qt::QueuedConnection);
        break;
    case TrainingScheduler::Outcome::Queued:
    case TrainingScheduler::Outcome::Deferred: state = QStringLiteral("queued"); break;
    case TrainingScheduler::Outcome::Coalesced: state = QStringLiteral("already_queued"); break;
    case TrainingScheduler::Outcome::Disabled:
        return LoopReply::fail(LoopReply::Error::NotPossible, QStringLiteral("Training is switched off for this project."));
    }
    QMetaObject::invokeMethod(this, [this, id = *id] { Q_EMIT statusChanged(id); }, Qt::QueuedConnection);
    return LoopReply::ok(QJsonObject{{QStringLiteral("project"), *id}, {QStringLiteral("train"), state}});
}

LoopReply LoopEngine::activate(const QString &projectId, int version)
{
    LoopReply failure;
    const auto id = projectIdOrFailure(projectId, &failure);
    if (!id)
        return failure;
    const QString pid = *id;
    if (!m_registry->version(pid, version))
        return LoopReply::fail(LoopReply::Error::UnknownVersion, QStringLiteral("Project %1 has no model version %2.").arg(pid).arg(version));
    QString why;
    if (!m_service->activate(pid, version, &why))
        return LoopReply::fail(LoopReply::Error::Failed, why);
    QMetaObject::invokeMethod(this, [this, id = *id, version] { afterActivation(id, version, QStringLiteral("activated")); },
                              Qt::QueuedConnection);
    return LoopReply::ok(QJsonObject{{QStringLiteral("project"), pid},
                                     {QStringLiteral("active"), backend::ModelRegistry::versionName(version)},
                                     {QStringLiteral("version"), version}});
}

LoopReply LoopEngine::rollback(const QString &projectId)
{
    LoopReply failure;
    const auto id = projectIdOrFailure(projectId, &failure);
    if (!id)
        return failure;
    const QString pid = *id;
    const QHash<QString, int> active = m_registry->activeVersions(pid);
    if (active.isEmpty())
        return LoopReply::fail(LoopReply::Error::NotPossible, QStringLiteral("Project %1 has no active model to roll back.").arg(pid));
    QString why;
    const auto now = m_service->rollback(pid, active.constBegin().key(), &why);
    if (!now)
        return LoopReply::fail(LoopReply::Error::NotPossible, why);
    const int version = *now;
    QMetaObject::invokeMethod(this, [this, id = *id, version] { afterActivation(id, version, QStringLiteral("rolled_back")); },
                              Qt::QueuedConnection);
    return LoopReply::ok(QJsonObject{{QStringLiteral("project"), pid},
                                     {QStringLiteral("active"), backend::ModelRegistry::versionName(version)},
                                     {QStringLiteral("version"), version}});
}

void LoopEngine::afterActivation(const QString &projectId, int version, const QString &how)
{
    if (how != QLatin1String("trained"))
        log(projectId, how, QStringLiteral("version=%1").arg(version));
    Q_EMIT versionsChanged(projectId);
    Q_EMIT statusChanged(projectId);
    if (settings(projectId).refreshPredictions && hasLabelStudio())
        refreshPredictions(projectId, version);
}

QJsonArray LoopEngine::versionDetails(const QString &projectId) const
{
    QJsonArray out;
    const auto id = resolve(projectId);
    if (!id)
        return out;
    const QString pid = *id;
    QList<backend::ModelVersionInfo> all;
    {
        std::lock_guard lock(m_mutex);
        const auto it = m_projects.constFind(pid);
        if (it != m_projects.constEnd() && (*it)->versionsCache)
            all = *(*it)->versionsCache;
    }
    if (all.isEmpty()) {
        quint64 epoch = 0;
        {
            std::lock_guard lock(m_mutex);
            const auto it = m_projects.constFind(pid);
            epoch = it != m_projects.constEnd() ? (*it)->versionsEpoch : 0;
        }
        all = m_registry->versions(pid);
        std::lock_guard lock(m_mutex);
        const auto it = m_projects.constFind(pid);
        if (it != m_projects.constEnd() && (*it)->versionsEpoch == epoch)
            (*it)->versionsCache = all;
    }
    const QHash<QString, int> active = m_service->activeTargets(pid); // in memory: what serves now
    QHash<int, store::VersionRecord> records;
    if (const auto r = m_store->versions(*id); r)
        for (const store::VersionRecord &v : r.value())
            records.insert(v.version, v);
    QHash<int, store::Acceptance> acceptance;
    if (const auto a = m_store->acceptance(*id); a)
        acceptance = a.value();
    for (const backend::ModelVersionInfo &info : all) {
        QJsonObject metrics = info.metrics;
        const store::VersionRecord rec = records.value(info.version);
        const QString trigger = !rec.trigger.isEmpty() ? rec.trigger : metrics.value(QStringLiteral("trigger")).toString(QStringLiteral("manual"));
        QJsonValue live = QJsonValue::Null;
        if (acceptance.contains(info.version)) {
            const store::Acceptance a = acceptance.value(info.version);
            live = QJsonObject{{QStringLiteral("rate"), a.rate()},
                               {QStringLiteral("accepted"), a.accepted},
                               {QStringLiteral("total"), a.total}};
        }
        out.append(QJsonObject{
            {QStringLiteral("name"), info.name()},
            {QStringLiteral("version"), info.version},
            {QStringLiteral("created"), iso(info.created)},
            {QStringLiteral("trigger"), trigger},
            {QStringLiteral("target"), info.target},
            {QStringLiteral("training_examples"), info.trainingExamples},
            {QStringLiteral("metrics"),
             QJsonObject{{QStringLiteral("accuracy"), metrics.value(QStringLiteral("accuracy"))},
                         {QStringLiteral("macro_f1"), metrics.value(QStringLiteral("macro_f1"))},
                         {QStringLiteral("per_class"), metrics.value(QStringLiteral("per_class"))},
                         {QStringLiteral("confusion"), metrics.value(QStringLiteral("confusion"))},
                         {QStringLiteral("evaluation"), metrics.value(QStringLiteral("evaluation"))},
                         {QStringLiteral("duration_ms"), metrics.value(QStringLiteral("duration_ms"))},
                         // from Trainer::kKFoldBelow examples on: where the time went, what the run reused
                         {QStringLiteral("stages_ms"), metrics.value(QStringLiteral("stages_ms"))},
                         {QStringLiteral("warm_start"), metrics.value(QStringLiteral("warm_start"))},
                         {QStringLiteral("model"), metrics.value(QStringLiteral("model"))}}},
            {QStringLiteral("live_acceptance"), live},
            {QStringLiteral("active"), std::find(active.cbegin(), active.cend(), info.version) != active.cend()},
        });
    }
    return out;
}

LoopReply LoopEngine::status(const QString &projectId) const
{
    LoopReply failure;
    const auto id = servedProject(projectId, &failure);
    if (!id)
        return failure;
    const auto row = m_store->project(*id);
    if (!row)
        return LoopReply::fail(LoopReply::Error::Failed, row.error());
    const auto counts = m_store->counts(*id); // indexed counts: cheap next to the recount below
    const auto pending = m_store->pendingChanges(*id);
    // Usable examples: reading them means reading every annotation, so it never happens here
    // (this may be the GUI thread): a worker recounts when the store changed, and the answer
    // carries the last count until then (statusChanged follows).
    bool stale = false;
    {
        std::lock_guard lock(m_mutex);
        Project &p = projectLocked(*id);
        // Not while a run trains: it reads every annotation itself and leaves the count.
        stale = p.cachedSeq != row->changeSeq && !p.recounting && !p.control;
        if (stale)
            p.recounting = true;
    }
    if (stale) {
        const QString key = *id;
        const qint64 seq = row->changeSeq;
        // status() is a read, but the recount it starts is the engine's own work.
        LoopEngine *self = const_cast<LoopEngine *>(this);
        (void)QtConcurrent::run(&self->m_workers, [self, key, seq] {
            QString why;
            std::optional<store::TrainingData> counted;
            if (const auto target = self->targetOf(key, &why))
                if (auto data = self->m_store->trainingData(key, *target); data)
                    counted = std::move(data).value();

            {
                std::lock_guard lock(self->m_mutex);
                Project &p = self->projectLocked(key);
                p.recounting = false;
                p.cachedSeq = seq;
                if (counted) {
                    p.usable = int(counted->examples.size());
                    p.droppedLabels = counted->droppedLabels;
                    p.droppedExamples = counted->droppedExamples;
                }
            }
            QMetaObject::invokeMethod(self, [self, key] { Q_EMIT self->statusChanged(key); }, Qt::QueuedConnection);
        });
    }
    const int active = activeVersion(*id);
    std::lock_guard lock(m_mutex);
    const Project &p = projectLocked(*id);
    QJsonObject body{{QStringLiteral("project"), *id},
                     {QStringLiteral("enabled"), p.settings.enabled},
                     {QStringLiteral("usable_examples"), p.usable},
                     {QStringLiteral("dropped_labels"), p.droppedLabels},
                     {QStringLiteral("dropped_examples"), p.droppedExamples},
                     {QStringLiteral("tasks"), counts ? counts->tasks : 0},
                     {QStringLiteral("annotations"), counts ? counts->annotations : 0},
                     {QStringLiteral("cancelled_annotations"), counts ? counts->cancelled : 0},
                     {QStringLiteral("new_since_training"), pending ? pending.value() : 0},
                     {QStringLiteral("active_version"), active > 0 ? QJsonValue(backend::ModelRegistry::versionName(active))
                                                                   : QJsonValue(QJsonValue::Null)},
                     {QStringLiteral("next_scheduled_run"), isoOrNull(p.scheduler.nextScheduledRun())},
                     {QStringLiteral("last_reconcile"), isoOrNull(p.lastReconcile)},
                     {QStringLiteral("last_full_reconcile"), isoOrNull(row->lastFullSync)},
                     {QStringLiteral("reconcile_error"), p.syncError.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(p.syncError)},
                     {QStringLiteral("last_error"), p.lastError.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(p.lastError)},
                     {QStringLiteral("failures_in_a_row"), p.failures},
                     {QStringLiteral("backoff_until"),
                      p.backoffUntil.isValid() && p.backoffUntil > m_clock() ? isoOrNull(p.backoffUntil) : QJsonValue(QJsonValue::Null)},
                     {QStringLiteral("settings"), p.settings.toJson()},
                     {QStringLiteral("log"), QJsonArray::fromStringList(p.runLog)}};
    if (p.control) {
        body.insert(QStringLiteral("state"), QStringLiteral("training"));
        body.insert(QStringLiteral("progress"), p.control->progress.load());
        body.insert(QStringLiteral("trigger"), p.runTrigger);
        body.insert(QStringLiteral("elapsed_seconds"), double(p.runStarted.msecsTo(m_clock())) / 1000.0);
    } else if (p.scheduler.queued()) {
        body.insert(QStringLiteral("state"), QStringLiteral("queued"));
    } else {
        body.insert(QStringLiteral("state"), QStringLiteral("idle"));
    }
    if (p.scheduler.queued()) {
        body.insert(QStringLiteral("queued"), triggerName(*p.scheduler.queued()));
        body.insert(QStringLiteral("queued_due"), isoOrNull(p.scheduler.queuedDueAt()));
    }
    if (!p.webhookState.isEmpty())
        body.insert(QStringLiteral("webhook"),
                    QJsonObject{{QStringLiteral("url"), p.webhookUrl},
                                {QStringLiteral("state"), p.webhookState},
                                {QStringLiteral("warning"), p.webhookWarning.isEmpty() ? QJsonValue(QJsonValue::Null)
                                                                                       : QJsonValue(p.webhookWarning)}});
    if (!p.refreshState.isEmpty())
        body.insert(QStringLiteral("prediction_refresh"),
                    QJsonObject{{QStringLiteral("state"), p.refreshState},
                                {QStringLiteral("version"), backend::ModelRegistry::versionName(p.refreshVersion)},
                                {QStringLiteral("sent"), p.refreshSent},
                                {QStringLiteral("created"), p.refreshCreated},
                                {QStringLiteral("error"), p.refreshError.isEmpty() ? QJsonValue(QJsonValue::Null)
                                                                                   : QJsonValue(p.refreshError)}});
    return LoopReply::ok(body);
}

// ---- prediction refresh --------------------------------------------------------------------

void LoopEngine::refreshPredictions(const QString &projectId, int version)
{
    QString why;
    const auto target = targetOf(projectId, &why);
    if (!target) {
        log(projectId, QStringLiteral("refresh_skipped"), QStringLiteral("reason=\"%1\"").arg(why));
        return;
    }
    if (!onConnectedServer(projectId)) {
        log(projectId, QStringLiteral("refresh_skipped"),
            QStringLiteral("reason=\"the connected Label Studio is not this project's server\""));
        return;
    }
    // Parsed once: a PROJECT_UPDATED in between must not leave us without a target.
    const labelconfig::LabelConfig config = labelconfig::parse(m_service->labelConfigXml(projectId));
    if (!config.isServable() || config.targets.isEmpty()) {
        log(projectId, QStringLiteral("refresh_skipped"), QStringLiteral("reason=\"%1\"").arg(config.reason()));
        return;
    }
    const labelconfig::ClassificationTarget t = config.targets.constFirst();
    {
        std::lock_guard lock(m_mutex);
        Project &p = projectLocked(projectId);
        p.refreshState = QStringLiteral("running");
        p.refreshVersion = version;
        p.refreshSent = p.refreshCreated = 0;
        p.refreshError.clear();
    }
    Q_EMIT statusChanged(projectId);
    store::LoopStore *store = m_store.get();
    auto registry = m_registry;
    const int batchSize = m_refresher->options().batchSize;
    const bool uncertainty = settings(projectId).uncertaintySampling;
    using Job = PredictionRefresher::Job;
    const quint64 generation = m_reconciler->generation();
    auto *watcher = new QFutureWatcher<Result<std::shared_ptr<Job>>>(this);
    connect(watcher, &QFutureWatcher<Result<std::shared_ptr<Job>>>::finished, this, [this, watcher, projectId, version, generation] {
        const Result<std::shared_ptr<Job>> job = watcher->result();
        watcher->deleteLater();
        if (generation != m_reconciler->generation()) {
            // Prepared for a server we no longer talk to: never import it into the new one.
            onRefreshFinished(projectId, version, QStringLiteral("failed"), 0, 0,
                              QStringLiteral("The connection to Label Studio changed before the refresh started."));
            return;
        }
        if (!job) {
            onRefreshFinished(projectId, version, QStringLiteral("failed"), 0, 0, job.error());
            return;
        }
        m_refresher->start(job.value());
    });
    watcher->setFuture(QtConcurrent::run(&m_workers, [=]() -> Result<std::shared_ptr<Job>> {
        QString error;
        const auto classifier = registry->load(projectId, version, &error);
        if (!classifier)
            return Result<std::shared_ptr<Job>>::failure(
                QStringLiteral("Version %1 could not be loaded for the refresh: %2").arg(version).arg(error));
        const auto tasks = store->unlabeledTasks(projectId, t.dataKey);
        if (!tasks)
            return Result<std::shared_ptr<Job>>::failure(tasks.error());
        auto job = std::make_shared<Job>();
        job->projectKey = projectId;
        job->lsProjectId = lsId(projectId);
        job->version = version;
        job->versionName = backend::ModelRegistry::versionName(version);
        job->uncertaintySampling = uncertainty;
        const std::string versionName = job->versionName.toStdString();
        std::vector<QByteArray> bodies;
        QList<QPair<qint64, QStringList>> labels;
        for (const store::UnlabeledTask &task : tasks.value()) {
            const model::Choice choice = model::chooseLabels(classifier->predict(task.text), t.choices, t.multiple);
            if (choice.labels.isEmpty())
                continue;
            json choices = json::array();
            for (const QString &c : choice.labels)
                choices.push_back(c.toStdString());
            const std::string one = json{{"task", task.taskId},
                                         {"model_version", versionName},
                                         {"score", choice.score},
                                         {"result", json::array({json{{"from_name", t.fromName.toStdString()},
                                                                      {"to_name", t.toName.toStdString()},
                                                                      {"type", "choices"},
                                                                      {"value", json{{"choices", choices}}}}})}}
                                        .dump(-1, ' ', false, json::error_handler_t::replace);
            bodies.emplace_back(one.data(), qsizetype(one.size()));
            labels.append({task.taskId, choice.labels});
        }
        job->batches = PredictionRefresher::makeBatches(bodies, labels, batchSize);
        return job;
    }));
}

void LoopEngine::onRefreshFinished(const QString &projectId, int version, const QString &state, int sent, int created,
                                   const QString &error)
{
    {
        std::lock_guard lock(m_mutex);
        Project &p = projectLocked(projectId);
        if (p.refreshVersion != version)
            return; // an older refresh
        p.refreshState = state;
        p.refreshSent = sent;
        p.refreshCreated = created;
        p.refreshError = error;
    }
    if (state == QLatin1String("done") || state == QLatin1String("incomplete")) {
        log(projectId, QStringLiteral("predictions_refreshed"),
            QStringLiteral("version=%1 sent=%2 created=%3 state=%4").arg(version).arg(sent).arg(created).arg(state));
        Q_EMIT predictionsRefreshed(projectId, version, created, sent);
    } else if (state == QLatin1String("superseded")) {
        log(projectId, QStringLiteral("refresh_superseded"), QStringLiteral("version=%1").arg(version));
    } else {
        log(projectId, QStringLiteral("refresh_failed"), QStringLiteral("version=%1 error=\"%2\"").arg(version).arg(error));
    }
    Q_EMIT statusChanged(projectId);
}

// ---- reconcile -----------------------------------------------------------------------------

// Whether a backend URL registered in Label Studio is this server (policy::isThisBackend): only
// then does its webhook get our secret.
bool LoopEngine::isThisBackend(const QUrl &url, quint16 port) const
{
    policy::ThisBackend me;
    me.port = port;
    me.boundHost = m_server ? m_server->config().host : QString();
    me.machineNames << QHostInfo::localHostName().toLower();
    if (!QHostInfo::localDomainName().isEmpty())
        me.machineNames << (QHostInfo::localHostName() + QLatin1Char('.') + QHostInfo::localDomainName()).toLower();
    for (const QHostAddress &a : QNetworkInterface::allAddresses())
        me.machineAddresses << a.toString();
    return policy::isThisBackend(url, me);
}

void LoopEngine::checkWebhook(const QString &projectId)
{
    if (!m_client || !m_server || !m_server->isListening() || !onConnectedServer(projectId))
        return;
    WebhookProvisioner::Target target;
    target.projectKey = projectId;
    target.lsProjectId = lsId(projectId);
    target.isThisBackend = [this, port = m_server->port()](const QUrl &url) { return isThisBackend(url, port); };
    target.secret = m_server->config().webhookSecret;
    target.syncMinutes = m_syncMinutes;
    m_provisioner->check(target);
}

void LoopEngine::onWebhookChecked(const QString &projectId, const QString &url, const QString &state, const QString &warning)
{
    {
        std::lock_guard lock(m_mutex);
        const auto it = m_projects.constFind(projectId);
        if (it == m_projects.constEnd())
            return;
        (*it)->webhookUrl = url;
        (*it)->webhookState = state;
        (*it)->webhookWarning = warning;
    }
    if (!warning.isEmpty())
        log(projectId, QStringLiteral("webhook_missing"), QStringLiteral("url=%1 warning=\"%2\"").arg(url, warning));
    else if (state == QLatin1String("created"))
        log(projectId, QStringLiteral("webhook_created"), QStringLiteral("url=%1").arg(url));
    Q_EMIT statusChanged(projectId);
}

void LoopEngine::reconcileNow(const QString &projectId, bool full)
{
    if (!hasLabelStudio() || !m_reconciler)
        return;
    const QStringList ids = !projectId.isEmpty() ? QStringList{projectId} : projects();
    for (const QString &id : ids)
        m_reconciler->sync(id, full);
}

void LoopEngine::onListingFailed(const QString &error)
{
    const QStringList keys = projects();
    for (const QString &key : keys) {
        {
            std::lock_guard lock(m_mutex);
            projectLocked(key).syncError = error;
        }
        Q_EMIT statusChanged(key);
    }
    Q_EMIT logLine(QStringLiteral("loop event=discover_failed error=\"%1\"").arg(error));
}

void LoopEngine::onServerListed(const QHash<qint64, QString> &found, const QHash<qint64, QString> &previous, bool initial)
{
    for (const QString &key : found)
        adoptLegacy(key);
    // After connecting, every project of the loop that lives on this server is reconciled;
    // after a later listing, only the ones it newly found.
    const QStringList keys = projects();
    for (const QString &key : keys) {
        const bool here = found.value(lsId(key)) == key;
        if (!here) {
            {
                std::lock_guard lock(m_mutex);
                projectLocked(key).syncError.clear();
            }
            Q_EMIT statusChanged(key);
        } else if ((initial || previous.value(lsId(key)) != key) && m_store->leadsSync()) {
            m_reconciler->sync(key, true);
        }
    }
}

bool LoopEngine::onConnectedServer(const QString &projectId)
{
    return m_reconciler && m_reconciler->onServer(projectId);
}

void LoopEngine::onReconciled(const QString &projectId, const Reconciler::Outcome &outcome)
{
    const bool ok = outcome.error.isEmpty();
    {
        std::lock_guard lock(m_mutex);
        Project &p = projectLocked(projectId);
        p.syncError = outcome.error;
        if (ok) {
            p.lastReconcile = outcome.started;
            p.lastRecovered = outcome.recovered;
        }
    }
    if (ok) {
        log(projectId, QStringLiteral("reconciled"), QStringLiteral("mode=%1 changed=%2").arg(outcome.mode()).arg(outcome.recovered));
        Q_EMIT reconciled(projectId, outcome.recovered);
        pollProject(projectId);
        checkWebhook(projectId);
    } else {
        // The reconciler tries again by itself while the same server is connected.
        log(projectId, QStringLiteral("reconcile_failed"),
            QStringLiteral("error=\"%1\" retry_in_s=%2").arg(outcome.error).arg(outcome.retryInMs / 1000));
    }
    Q_EMIT statusChanged(projectId);
    adoptWhenLegacy(projectId);
}

store::LabelReader LoopEngine::labelReader(const QString &projectId) const
{
    QString why;
    if (const auto target = targetOf(projectId, &why))
        return [name = target->fromName.toStdString()](const std::string &r) { return labelsIn(r, name); };
    return {};
}

} // namespace loopdeck::loop
