#include "core/loop/loopengine.h"

#include "core/backend/backendapi.h"
#include "core/backend/backendserver.h"
#include "core/backend/modelregistry.h"
#include "core/backend/predictionservice.h"
#include "core/labelconfig/labelconfig.h"
#include "core/labelstudio/labelstudioclient.h"
#include "core/loop/lspayload.h"
#include "core/loop/trainer.h"
#include "core/model/textclassifier.h"
#include "core/store/loopstore.h"

#include <QFutureWatcher>
#include <QJsonDocument>
#include <QTimer>
#include <QUrlQuery>
#include <QtConcurrent>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace loopdeck::loop {

using backend::LoopReply;
using nlohmann::json;

namespace {

constexpr int kSyncPageSize = 500;
constexpr int kRefreshBatch = 500;
constexpr int kRunLogLines = 40;
// Judged annotations before live acceptance stands in for a version's accuracy.
constexpr int kLiveAcceptanceMinimum = 20;

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
};

} // namespace

struct LoopEngine::Project {
    explicit Project(TrainingScheduler::Clock clock) : scheduler(std::move(clock)) {}
    TrainingScheduler scheduler;
    LoopSettings settings;
    std::shared_ptr<TrainingControl> control; // set while a run is in progress
    QDateTime runStarted;
    QString runTrigger;
    QString lastError;
    QStringList runLog;
    // "usable examples" for /loop/status, recomputed when the change counter moves
    qint64 cachedSeq = -1;
    int usable = 0;
    int droppedLabels = 0;
    int droppedExamples = 0;
    // reconcile
    bool syncing = false;
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

struct LoopEngine::RefreshJob {
    qint64 projectId = 0;
    int version = 0;
    std::vector<QByteArray> batches;
    std::vector<int> batchSizes;
    std::size_t next = 0;
    int sent = 0;
    int created = 0;
};

LoopEngine::LoopEngine(QObject *parent)
    : QObject(parent)
    , m_clock([] { return QDateTime::currentDateTimeUtc(); })
{
    m_workers.setMaxThreadCount(2);
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
}

std::optional<qint64> LoopEngine::parseProjectId(const QString &projectId)
{
    bool ok = false;
    const qint64 id = backend::PredictionService::projectIdOf(projectId).toLongLong(&ok);
    if (!ok || id <= 0)
        return std::nullopt;
    return id;
}

Status LoopEngine::open(const QString &dataDir, const LoopSettings &defaults)
{
    m_dataDir = dataDir;
    m_defaults = defaults;
    m_store = std::make_unique<store::LoopStore>();
    if (Status s = m_store->open(dataDir); !s)
        return s;
    m_registry = std::make_shared<backend::ModelRegistry>(dataDir);
    m_service = std::make_shared<backend::PredictionService>(m_registry);
    QStringList warnings;
    m_service->loadActiveFromRegistry(&warnings);
    for (const QString &w : std::as_const(warnings))
        Q_EMIT logLine(QStringLiteral("loop event=warning message=\"%1\"").arg(w));

    m_server = new backend::BackendServer(m_service, this);
    m_server->setWebhookSink([this](const backend::WebhookEvent &event) { return ingestWebhook(event); });
    // The engine outlives the server (it stops it first), so a non-owning pointer is safe.
    m_server->setLoopControl(std::shared_ptr<backend::LoopControl>(this, [](backend::LoopControl *) {}));
    connect(m_server, &backend::BackendServer::projectSetup, this,
            [this](const QString &projectId, const QString &, const QString &) {
                if (const auto id = parseProjectId(projectId)) {
                    addProject(*id);
                    const QString xml = m_service->labelConfigXml(QString::number(*id));
                    if (!xml.isEmpty())
                        (void)m_store->setLabelConfig(*id, xml);
                }
            });

    if (const auto ids = m_store->projects(); ids) {
        for (qint64 id : ids.value()) {
            if (const auto row = m_store->project(id); row && !row->labelConfig.isEmpty()
                && m_service->labelConfigXml(QString::number(id)).isEmpty())
                m_service->setLabelConfig(QString::number(id), row->labelConfig);
            ensureProject(id);
        }
    } else {
        return Status::failure(ids.error());
    }

    m_pollTimer = new QTimer(this);
    m_pollTimer->setInterval(1000);
    connect(m_pollTimer, &QTimer::timeout, this, &LoopEngine::pollAll);
    m_pollTimer->start();
    m_syncTimer = new QTimer(this);
    connect(m_syncTimer, &QTimer::timeout, this, [this] { reconcileNow(0, false); });
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
    if (url.isEmpty()) {
        delete m_client;
        return;
    }
    if (!m_client)
        m_client = new labelstudio::LabelStudioClient(this);
    m_client->setServer(url, token);
    reconcileNow(0, true);
}

bool LoopEngine::hasLabelStudio() const
{
    return m_client && !m_client->baseUrl().isEmpty();
}

bool LoopEngine::startServer(const backend::ServerConfig &config, QString *error)
{
    backend::ServerConfig c = config;
    c.dataDir = m_dataDir;
    return m_server->start(c, error);
}

void LoopEngine::stopServer()
{
    m_server->stop();
}

// ---- projects --------------------------------------------------------------------------

LoopEngine::Project &LoopEngine::projectLocked(qint64 projectId) const
{
    auto it = m_projects.find(projectId);
    if (it == m_projects.end())
        it = m_projects.insert(projectId, std::make_shared<Project>([this] { return m_clock(); }));
    return **it;
}

QList<qint64> LoopEngine::projects() const
{
    std::lock_guard lock(m_mutex);
    QList<qint64> ids = m_projects.keys();
    std::sort(ids.begin(), ids.end());
    return ids;
}

void LoopEngine::ensureProject(qint64 projectId)
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
            p.scheduler.restoreState(QJsonDocument::fromJson(row->schedule).object());
            p.lastError = row->lastError;
            p.lastReconcile = row->lastSync;
        }
    }
    log(projectId, QStringLiteral("added"), created && created.value() ? QStringLiteral("first_seen=true") : QString());
    Q_EMIT projectAdded(projectId);
    if (hasLabelStudio() && row && !row->lastFullSync.isValid())
        syncProject(projectId, true);
}

void LoopEngine::addProject(qint64 projectId)
{
    ensureProject(projectId);
}

LoopSettings LoopEngine::settings(qint64 projectId) const
{
    std::lock_guard lock(m_mutex);
    const auto it = m_projects.find(projectId);
    return it == m_projects.end() ? m_defaults : (*it)->settings;
}

Status LoopEngine::setSettings(qint64 projectId, const LoopSettings &settings)
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

void LoopEngine::saveSchedule(qint64 projectId)
{
    QJsonObject state;
    {
        std::lock_guard lock(m_mutex);
        state = projectLocked(projectId).scheduler.saveState();
    }
    (void)m_store->setSchedule(projectId, QJsonDocument(state).toJson(QJsonDocument::Compact));
}

void LoopEngine::log(qint64 projectId, const QString &event, const QString &details)
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

std::optional<store::TargetSpec> LoopEngine::targetOf(qint64 projectId, QString *why) const
{
    const QString xml = m_service->labelConfigXml(QString::number(projectId));
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

int LoopEngine::activeVersion(qint64 projectId) const
{
    return m_service->activeVersion(QString::number(projectId));
}

double LoopEngine::accuracyOf(qint64 projectId, int version) const
{
    if (version <= 0)
        return -1.0;
    const auto info = m_registry->version(QString::number(projectId), version);
    if (!info || !info->metrics.contains(QStringLiteral("accuracy")))
        return -1.0;
    return info->metrics.value(QStringLiteral("accuracy")).toDouble(-1.0);
}

// ---- webhooks (HTTP threads) -------------------------------------------------------------

QString LoopEngine::ingestWebhook(const backend::WebhookEvent &event)
{
    const auto id = parseProjectId(event.projectId);
    if (!id)
        return {}; // not attributable to a project (an organisation-level event): reconcile covers it
    const auto changes = parseWebhook(event.payload);
    if (!changes)
        return changes.error();
    QString fromName;
    if (const QString xml = m_service->labelConfigXml(QString::number(*id)); !xml.isEmpty()) {
        const labelconfig::LabelConfig config = labelconfig::parse(xml);
        if (config.isServable())
            fromName = config.targets.constFirst().fromName;
    }
    store::LabelReader reader;
    if (!fromName.isEmpty())
        reader = [name = fromName.toStdString()](const std::string &result) { return labelsIn(result, name); };
    const auto applied = m_store->apply(*id, changes.value(), reader);
    if (!applied)
        return applied.error();
    if (!changes->labelConfig.isEmpty()) {
        // A changed label config (PROJECT_UPDATED, or any event that carries the project) is
        // in force for serving and for the next training at once.
        if (changes->labelConfig != m_service->labelConfigXml(QString::number(*id)))
            m_service->setLabelConfig(QString::number(*id), changes->labelConfig);
        (void)m_store->setLabelConfig(*id, changes->labelConfig);
    }
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
    return {};
}

// ---- scheduling and training -------------------------------------------------------------

void LoopEngine::pollAll()
{
    const QList<qint64> ids = projects();
    for (qint64 id : ids)
        pollProject(id);
}

void LoopEngine::pollProject(qint64 projectId)
{
    const auto pending = m_store->pendingChanges(projectId);
    if (!pending)
        return;
    std::optional<Trigger> trigger;
    {
        std::lock_guard lock(m_mutex);
        if (!m_projects.contains(projectId))
            return;
        trigger = projectLocked(projectId).scheduler.poll(pending.value());
    }
    if (trigger)
        startRun(projectId, *trigger);
}

void LoopEngine::startRun(qint64 projectId, Trigger trigger)
{
    QString why;
    const auto target = targetOf(projectId, &why);
    auto control = std::make_shared<TrainingControl>();
    const QDateTime started = m_clock();
    int minExamples = 0;
    {
        std::lock_guard lock(m_mutex);
        Project &p = projectLocked(projectId);
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
        finishRun(projectId, trigger, started, 0, Result<TrainingOutput>::failure(why), QString(), 0);
        return;
    }
    const bool automatic = trigger == Trigger::Threshold || trigger == Trigger::Interval || trigger == Trigger::Daily;
    store::LoopStore *store = m_store.get();
    const store::TargetSpec spec = *target;
    auto *watcher = new QFutureWatcher<RunResult>(this);
    connect(watcher, &QFutureWatcher<RunResult>::finished, this, [=, this] {
        const RunResult r = watcher->result();
        watcher->deleteLater();
        finishRun(projectId, trigger, started, r.changeSeq, *r.result, spec.fromName, r.droppedLabels);
    });
    watcher->setFuture(QtConcurrent::run(&m_workers, [=]() -> RunResult {
        RunResult r;
        const auto data = store->trainingData(projectId, spec);
        if (!data) {
            r.result = Result<TrainingOutput>::failure(data.error());
            return r;
        }
        r.changeSeq = data->changeSeq;
        r.droppedLabels = data->droppedLabels;
        if (automatic && data->examples.size() < minExamples) {
            r.result = Result<TrainingOutput>::failure(
                QStringLiteral("Only %1 usable examples; automatic training starts at %2.").arg(data->examples.size()).arg(minExamples));
            return r;
        }
        TrainingInput input;
        if (const auto unlabeled = store->unlabeledTasks(projectId, spec.dataKey); unlabeled)
            for (const store::UnlabeledTask &t : unlabeled.value())
                input.unlabeledTexts << t.text;
        input.examples = data->examples;
        input.choices = spec.choices;
        input.multiple = spec.multiple;
        r.result = Trainer::train(input, control.get());
        return r;
    }));
}

void LoopEngine::finishRun(qint64 projectId, Trigger trigger, const QDateTime &started, qint64 changeSeq,
                           const Result<TrainingOutput> &result, const QString &targetName, int droppedLabels)
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
    const QString pid = QString::number(projectId);
    QString error;
    if (Trainer::isCancelled(result)) {
        run.outcome = QStringLiteral("cancelled");
        run.message = result.error();
        log(projectId, QStringLiteral("training_cancelled"));
    } else if (!result) {
        error = result.error();
    } else {
        const TrainingOutput &out = result.value();
        QJsonObject metrics = out.metrics;
        metrics.insert(QStringLiteral("trigger"), triggerName(trigger));
        metrics.insert(QStringLiteral("dropped_labels"), droppedLabels);
        backend::NewModelVersion meta;
        meta.target = targetName;
        meta.metrics = metrics;
        meta.trainingExamples = out.examples;
        QString why;
        const auto info = m_registry->addVersion(pid, *out.classifier, meta, &why);
        if (!info) {
            error = QStringLiteral("The new version could not be saved: %1").arg(why);
        } else {
            (void)m_store->recordVersion(projectId, store::VersionRecord{info->version, info->created, triggerName(trigger),
                                                                         out.examples,
                                                                         QJsonDocument(metrics).toJson(QJsonDocument::Compact)});
            (void)m_store->markTrained(projectId, changeSeq);
            const int previous = activeVersion(projectId);
            // The active version's accuracy: how often annotators kept its predictions, once
            // enough were judged (it never saw those tasks, so this is fair), else its own
            // evaluation (optimistic on the few examples an early version has).
            double before = accuracyOf(projectId, previous);
            QString basis = QStringLiteral("evaluation");
            if (const auto live = m_store->acceptance(projectId); live && live->contains(previous)
                && live->value(previous).total >= kLiveAcceptanceMinimum) {
                before = live->value(previous).rate();
                basis = QStringLiteral("live acceptance");
            }
            const double after = metrics.value(QStringLiteral("accuracy")).toDouble();
            bool activated = previous <= 0 || before < 0 || after >= before - settings.activationMargin;
            run.version = info->version;
            if (activated && !m_service->activate(pid, info->version, &why)) {
                activated = false;
                error = QStringLiteral("Version %1 was trained but cannot be activated: %2").arg(info->version).arg(why);
            }
            run.outcome = activated ? QStringLiteral("trained") : QStringLiteral("kept");
            run.message = activated ? QStringLiteral("%1 active (accuracy %2)").arg(info->name()).arg(after, 0, 'f', 3)
                                    : QStringLiteral("%1 (accuracy %2) is below %3 (%4 %5) by more than %6; %3 stays active")
                                          .arg(info->name())
                                          .arg(after, 0, 'f', 3)
                                          .arg(backend::ModelRegistry::versionName(previous), basis)
                                          .arg(before, 0, 'f', 3)
                                          .arg(settings.activationMargin);
            log(projectId, QStringLiteral("trained"),
                QStringLiteral("version=%1 trigger=%2 examples=%3 accuracy=%4 macro_f1=%5 duration_ms=%6 activated=%7 "
                               "compared_with=%8")
                    .arg(info->version)
                    .arg(triggerName(trigger))
                    .arg(out.examples)
                    .arg(after, 0, 'f', 4)
                    .arg(metrics.value(QStringLiteral("macro_f1")).toDouble(), 0, 'f', 4)
                    .arg(out.durationMs)
                    .arg(activated ? QStringLiteral("true") : QStringLiteral("false"))
                    .arg(previous > 0 ? QStringLiteral("v%1:%2:%3").arg(previous).arg(before, 0, 'f', 4).arg(basis.left(4))
                                      : QStringLiteral("none")));
            pruneVersions(projectId, settings.keepVersions);
            {
                std::lock_guard lock(m_mutex);
                projectLocked(projectId).lastError.clear();
            }
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
        {
            std::lock_guard lock(m_mutex);
            projectLocked(projectId).lastError = error;
        }
        (void)m_store->setLastError(projectId, error);
        log(projectId, QStringLiteral("training_failed"), QStringLiteral("error=\"%1\"").arg(error));
        Q_EMIT trainingFailed(projectId, error);
    }
    (void)m_store->recordRun(projectId, run);
    Q_EMIT statusChanged(projectId);
    QTimer::singleShot(0, this, [this, projectId] { pollProject(projectId); }); // a queued run
}

void LoopEngine::pruneVersions(qint64 projectId, int keep)
{
    const QString pid = QString::number(projectId);
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

bool LoopEngine::cancel(qint64 projectId)
{
    std::lock_guard lock(m_mutex);
    const auto it = m_projects.find(projectId);
    if (it == m_projects.end() || !(*it)->control)
        return false;
    (*it)->control->cancel = true;
    return true;
}

// ---- operator actions (any thread) -------------------------------------------------------

std::optional<qint64> LoopEngine::projectIdOrFailure(const QString &projectId, LoopReply *failure)
{
    const auto id = parseProjectId(projectId);
    if (!id)
        *failure = LoopReply::fail(LoopReply::Error::BadRequest,
                                   QStringLiteral("\"%1\" is not a project id like \"3\".").arg(projectId.left(40)));
    return id;
}

LoopReply LoopEngine::unknownProject(qint64 projectId)
{
    return LoopReply::fail(LoopReply::Error::UnknownProject,
                           QStringLiteral("The loop does not serve project %1 yet; register the backend in the project first.")
                               .arg(projectId));
}

std::optional<qint64> LoopEngine::servedProject(const QString &projectId, LoopReply *failure) const
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
    if (!cancel(*id))
        return LoopReply::fail(LoopReply::Error::NotPossible, QStringLiteral("No training run of project %1 is in progress.").arg(*id));
    log(*id, QStringLiteral("cancel_requested"));
    return LoopReply::ok(QJsonObject{{QStringLiteral("project"), QString::number(*id)}, {QStringLiteral("cancel"), QStringLiteral("requested")}});
}

LoopReply LoopEngine::configure(const QString &projectId, const QJsonObject &changes)
{
    LoopReply failure;
    const auto id = servedProject(projectId, &failure);
    if (!id)
        return failure;
    LoopSettings next;
    QString why;
    if (!LoopSettings::fromJson(changes, settings(*id), &next, &why))
        return LoopReply::fail(LoopReply::Error::BadRequest, why);
    // Saved and applied on the engine's thread (the scheduler lives there); the answer already
    // carries what will be in force.
    QMetaObject::invokeMethod(
        this,
        [this, id = *id, next] {
            if (const Status s = setSettings(id, next); !s)
                log(id, QStringLiteral("settings_failed"), QStringLiteral("error=\"%1\"").arg(s.error()));
        },
        Qt::QueuedConnection);
    return LoopReply::ok(QJsonObject{{QStringLiteral("project"), QString::number(*id)}, {QStringLiteral("settings"), next.toJson()}});
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
    return LoopReply::ok(QJsonObject{{QStringLiteral("project"), QString::number(*id)}, {QStringLiteral("train"), state}});
}

LoopReply LoopEngine::activate(const QString &projectId, int version)
{
    LoopReply failure;
    const auto id = projectIdOrFailure(projectId, &failure);
    if (!id)
        return failure;
    const QString pid = QString::number(*id);
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
    const QString pid = QString::number(*id);
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

void LoopEngine::afterActivation(qint64 projectId, int version, const QString &how)
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
    const auto id = parseProjectId(projectId);
    if (!id)
        return out;
    const QString pid = QString::number(*id);
    const QList<backend::ModelVersionInfo> all = m_registry->versions(pid);
    const QHash<QString, int> active = m_registry->activeVersions(pid);
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
                         {QStringLiteral("duration_ms"), metrics.value(QStringLiteral("duration_ms"))}}},
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
    const auto counts = m_store->counts(*id);
    const auto pending = m_store->pendingChanges(*id);
    // Usable examples: recomputed only when the store changed.
    bool stale = false;
    {
        std::lock_guard lock(m_mutex);
        stale = projectLocked(*id).cachedSeq != row->changeSeq;
    }
    if (stale) {
        QString why;
        if (const auto target = targetOf(*id, &why)) {
            if (const auto data = m_store->trainingData(*id, *target); data) {
                std::lock_guard lock(m_mutex);
                Project &p = projectLocked(*id);
                p.cachedSeq = row->changeSeq;
                p.usable = int(data->examples.size());
                p.droppedLabels = data->droppedLabels;
                p.droppedExamples = data->droppedExamples;
            }
        }
    }
    const int active = activeVersion(*id);
    std::lock_guard lock(m_mutex);
    const Project &p = projectLocked(*id);
    QJsonObject body{{QStringLiteral("project"), QString::number(*id)},
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

void LoopEngine::refreshPredictions(qint64 projectId, int version)
{
    QString why;
    const auto target = targetOf(projectId, &why);
    if (!target) {
        log(projectId, QStringLiteral("refresh_skipped"), QStringLiteral("reason=\"%1\"").arg(why));
        return;
    }
    const QString xml = m_service->labelConfigXml(QString::number(projectId));
    const labelconfig::LabelConfig config = labelconfig::parse(xml);
    const labelconfig::ClassificationTarget t = config.targets.constFirst();
    {
        std::lock_guard lock(m_mutex);
        Project &p = projectLocked(projectId);
        p.refreshState = QStringLiteral("running");
        p.refreshVersion = version;
        p.refreshSent = p.refreshCreated = 0;
        p.refreshError.clear();
    }
    store::LoopStore *store = m_store.get();
    auto registry = m_registry;
    auto *watcher = new QFutureWatcher<std::shared_ptr<RefreshJob>>(this);
    connect(watcher, &QFutureWatcher<std::shared_ptr<RefreshJob>>::finished, this, [this, watcher, projectId] {
        auto job = watcher->result();
        watcher->deleteLater();
        if (!job->batches.empty() || job->sent == 0)
            sendRefreshBatch(job);
    });
    watcher->setFuture(QtConcurrent::run(&m_workers, [=]() -> std::shared_ptr<RefreshJob> {
        auto job = std::make_shared<RefreshJob>();
        job->projectId = projectId;
        job->version = version;
        QString error;
        const auto classifier = registry->load(QString::number(projectId), version, &error);
        const auto tasks = store->unlabeledTasks(projectId, t.dataKey);
        if (!classifier || !tasks)
            return job;
        const std::string versionName = backend::ModelRegistry::versionName(version).toStdString();
        QList<QPair<qint64, QStringList>> served;
        json batch = json::array();
        const auto flush = [&] {
            if (batch.empty())
                return;
            const std::string s = batch.dump(-1, ' ', false, json::error_handler_t::replace);
            job->batches.emplace_back(s.data(), qsizetype(s.size()));
            job->batchSizes.push_back(int(batch.size()));
            batch = json::array();
        };
        for (const store::UnlabeledTask &task : tasks.value()) {
            const model::Prediction p = classifier->predict(task.text);
            QStringList chosen;
            double score = 0.0;
            if (!t.multiple) {
                for (const model::ClassScore &cs : p.scores)
                    if (t.choices.isEmpty() || t.choices.contains(cs.label)) {
                        chosen << cs.label;
                        score = cs.probability;
                        break;
                    }
            } else {
                for (const QString &l : p.labels)
                    if (t.choices.isEmpty() || t.choices.contains(l))
                        chosen << l;
                score = chosen.isEmpty() ? 0.0 : p.score;
            }
            if (chosen.isEmpty())
                continue;
            json choices = json::array();
            for (const QString &c : std::as_const(chosen))
                choices.push_back(c.toStdString());
            batch.push_back(json{{"task", task.taskId},
                                 {"model_version", versionName},
                                 {"score", score},
                                 {"result", json::array({json{{"from_name", t.fromName.toStdString()},
                                                              {"to_name", t.toName.toStdString()},
                                                              {"type", "choices"},
                                                              {"value", json{{"choices", choices}}}}})}});
            served.append({task.taskId, chosen});
            if (int(batch.size()) >= kRefreshBatch)
                flush();
        }
        flush();
        (void)store->recordServed(projectId, version, served);
        return job;
    }));
}

void LoopEngine::sendRefreshBatch(std::shared_ptr<RefreshJob> job)
{
    const qint64 projectId = job->projectId;
    const auto fail = [this, projectId](const QString &error) {
        {
            std::lock_guard lock(m_mutex);
            Project &p = projectLocked(projectId);
            p.refreshState = QStringLiteral("failed");
            p.refreshError = error;
        }
        log(projectId, QStringLiteral("refresh_failed"), QStringLiteral("error=\"%1\"").arg(error));
        Q_EMIT statusChanged(projectId);
    };
    if (!m_client) {
        fail(QStringLiteral("LoopDeck is not connected to Label Studio."));
        return;
    }
    if (activeVersion(projectId) != job->version) {
        log(projectId, QStringLiteral("refresh_superseded"), QStringLiteral("version=%1").arg(job->version));
        return; // a newer version took over; its own refresh runs
    }
    if (job->next < job->batches.size()) {
        const QByteArray body = job->batches[job->next];
        const int size = job->batchSizes[job->next];
        m_client->sendRaw("POST", QStringLiteral("/api/projects/%1/import/predictions").arg(projectId), {}, body,
                          [this, job, size, fail](const QByteArray &answer, const labelstudio::LsError &error) {
                              if (error.isError()) {
                                  fail(error.message());
                                  return;
                              }
                              const json doc = json::parse(answer.begin(), answer.end(), nullptr, false);
                              const int created = doc.is_object() && doc.contains("created") && doc["created"].is_number_integer()
                                  ? doc["created"].get<int>()
                                  : 0;
                              job->sent += size;
                              job->created += created;
                              {
                                  std::lock_guard lock(m_mutex);
                                  Project &p = projectLocked(job->projectId);
                                  p.refreshSent = job->sent;
                                  p.refreshCreated = job->created;
                              }
                              ++job->next;
                              sendRefreshBatch(job);
                          });
        return;
    }
    // All predictions are in: make the project show this version (and sort by uncertainty).
    QJsonObject patch{{QStringLiteral("model_version"), backend::ModelRegistry::versionName(job->version)}};
    if (settings(projectId).uncertaintySampling)
        patch.insert(QStringLiteral("sampling"), QStringLiteral("Uncertainty sampling"));
    m_client->sendRaw("PATCH", QStringLiteral("/api/projects/%1/").arg(projectId), {},
                      QJsonDocument(patch).toJson(QJsonDocument::Compact),
                      [this, job, fail](const QByteArray &, const labelstudio::LsError &error) {
                          if (error.isError()) {
                              fail(QStringLiteral("Predictions were imported but the project's model version could not be set: %1")
                                       .arg(error.message()));
                              return;
                          }
                          const bool lost = job->created != job->sent;
                          {
                              std::lock_guard lock(m_mutex);
                              Project &p = projectLocked(job->projectId);
                              p.refreshState = QStringLiteral("done");
                              if (lost)
                                  p.refreshError = QStringLiteral("Label Studio stored %1 of %2 predictions; it drops the ones that "
                                                                  "do not fit the label config.")
                                                       .arg(job->created)
                                                       .arg(job->sent);
                          }
                          log(job->projectId, QStringLiteral("predictions_refreshed"),
                              QStringLiteral("version=%1 sent=%2 created=%3").arg(job->version).arg(job->sent).arg(job->created));
                          Q_EMIT predictionsRefreshed(job->projectId, job->version, job->created, job->sent);
                          Q_EMIT statusChanged(job->projectId);
                      });
}

// ---- reconcile -----------------------------------------------------------------------------

void LoopEngine::checkWebhook(qint64 projectId, bool createWhenMissing)
{
    if (!m_client || !m_server || !m_server->isListening())
        return;
    const quint16 port = m_server->port();
    QUrlQuery byProject;
    byProject.addQueryItem(QStringLiteral("project"), QString::number(projectId));
    const auto setState = [this, projectId](const QString &url, const QString &state, const QString &warning) {
        {
            std::lock_guard lock(m_mutex);
            Project &p = projectLocked(projectId);
            p.webhookUrl = url;
            p.webhookState = state;
            p.webhookWarning = warning;
        }
        if (!warning.isEmpty())
            log(projectId, QStringLiteral("webhook_missing"), QStringLiteral("url=%1 warning=\"%2\"").arg(url, warning));
        else if (state == QLatin1String("created"))
            log(projectId, QStringLiteral("webhook_created"), QStringLiteral("url=%1").arg(url));
        Q_EMIT statusChanged(projectId);
    };
    // Which URL Label Studio uses for this backend: its registration for our port.
    m_client->sendRaw("GET", QStringLiteral("/api/ml"), byProject, {}, [=, this](const QByteArray &answer, const labelstudio::LsError &error) {
        if (error.isError())
            return;
        const json list = json::parse(answer.begin(), answer.end(), nullptr, false);
        QString backendUrl;
        if (list.is_array())
            for (const json &b : list)
                if (b.is_object() && b.contains("url") && b["url"].is_string()) {
                    const QUrl u(QString::fromStdString(b["url"].get<std::string>()));
                    if (u.port() == port)
                        backendUrl = u.toString(QUrl::StripTrailingSlash);
                }
        if (backendUrl.isEmpty())
            return; // not registered in this project (yet)
        const QString hookUrl = backendUrl + QStringLiteral("/webhook");
        m_client->sendRaw("GET", QStringLiteral("/api/webhooks/"), byProject, {},
                          [=, this](const QByteArray &hooksAnswer, const labelstudio::LsError &hooksError) {
                              if (hooksError.isError())
                                  return;
                              const json hooks = json::parse(hooksAnswer.begin(), hooksAnswer.end(), nullptr, false);
                              // With a webhook secret the hook must carry it (Label Studio's own
                              // webhook carries no credentials): add it to the headers.
                              const std::string secret = m_server->config().webhookSecret.toStdString();
                              const std::string secretHeader = backend::BackendApi::kWebhookSecretHeader;
                              if (hooks.is_array())
                                  for (const json &h : hooks) {
                                      if (!h.is_object() || !h.value("is_active", true)
                                          || QUrl(QString::fromStdString(h.value("url", std::string())))
                                                     .toString(QUrl::StripTrailingSlash)
                                              != hookUrl)
                                          continue;
                                      const json headers = h.value("headers", json::object());
                                      if (secret.empty()
                                          || (headers.is_object() && headers.value(secretHeader, std::string()) == secret)) {
                                          setState(hookUrl, QStringLiteral("ok"), QString());
                                          return;
                                      }
                                      json patched = headers.is_object() ? headers : json::object();
                                      patched[secretHeader] = secret;
                                      m_client->sendRaw("PATCH", QStringLiteral("/api/webhooks/%1/").arg(h.value("id", 0)), {},
                                                        QByteArray::fromStdString(json{{"headers", patched}}.dump()),
                                                        [=](const QByteArray &, const labelstudio::LsError &patchError) {
                                                            setState(hookUrl,
                                                                     patchError.isError() ? QStringLiteral("missing")
                                                                                          : QStringLiteral("ok"),
                                                                     patchError.isError()
                                                                         ? QStringLiteral("The webhook to %1 lacks the secret header "
                                                                                          "and Label Studio refused to add it (%2).")
                                                                               .arg(hookUrl, patchError.message())
                                                                         : QString());
                                                        });
                                      return;
                                  }
                              // Label Studio may still be making it (registration): look again
                              // before making one. It refuses loopback and private addresses
                              // unless SSRF protection is off; then we make it ourselves.
                              if (!createWhenMissing) {
                                  QTimer::singleShot(5000, this, [this, projectId] { checkWebhook(projectId, true); });
                                  return;
                              }
                              json create = {{"project", projectId},
                                             {"url", hookUrl.toStdString()},
                                             {"send_payload", true},
                                             {"send_for_all_actions", true},
                                             {"is_active", true}};
                              if (!secret.empty())
                                  create["headers"] = json{{secretHeader, secret}};
                              m_client->sendRaw(
                                  "POST", QStringLiteral("/api/webhooks/"), {}, QByteArray::fromStdString(create.dump()),
                                  [=, this](const QByteArray &, const labelstudio::LsError &createError) {
                                      if (!createError.isError()) {
                                          setState(hookUrl, QStringLiteral("created"), QString());
                                          return;
                                      }
                                      setState(hookUrl, QStringLiteral("missing"),
                                               QStringLiteral("Label Studio has no webhook to %1 and refused to make one (%2). "
                                                              "Annotations then reach LoopDeck only through the reconcile every "
                                                              "%3 minutes. Start Label Studio with SSRF_PROTECTION_ENABLED=false "
                                                              "to let it call a backend on a local address.")
                                                   .arg(hookUrl, createError.message())
                                                   .arg(m_syncMinutes));
                                  });
                          });
    });
}

void LoopEngine::reconcileNow(qint64 projectId, bool full)
{
    if (!hasLabelStudio())
        return;
    const QList<qint64> ids = projectId > 0 ? QList<qint64>{projectId} : projects();
    for (qint64 id : ids)
        syncProject(id, full);
}

void LoopEngine::syncProject(qint64 projectId, bool full)
{
    if (!m_client)
        return;
    {
        std::lock_guard lock(m_mutex);
        Project &p = projectLocked(projectId);
        if (p.syncing)
            return;
        p.syncing = true;
    }
    QString watermark;
    if (const auto row = m_store->project(projectId); row) {
        watermark = row->syncWatermark;
        if (!row->lastFullSync.isValid())
            full = true;
    }
    if (full)
        watermark.clear();
    const QDateTime started = QDateTime::currentDateTimeUtc(); // real time: compared with seen_at
    // The label config first: the loop can train before Label Studio calls /setup again.
    m_client->sendRaw("GET", QStringLiteral("/api/projects/%1/").arg(projectId), {}, {},
                      [this, projectId, full, watermark, started](const QByteArray &answer, const labelstudio::LsError &error) {
                          if (!error.isError()) {
                              const json doc = json::parse(answer.begin(), answer.end(), nullptr, false);
                              if (doc.is_object() && doc.contains("label_config") && doc["label_config"].is_string()) {
                                  const QString xml = QString::fromStdString(doc["label_config"].get<std::string>());
                                  if (xml != m_service->labelConfigXml(QString::number(projectId))) {
                                      m_service->setLabelConfig(QString::number(projectId), xml);
                                      (void)m_store->setLabelConfig(projectId, xml);
                                  }
                              }
                          }
                          syncPage(projectId, full, 1, watermark, std::make_shared<QSet<qint64>>(), 0, started);
                      });
}

void LoopEngine::syncPage(qint64 projectId, bool full, int page, QString watermark, std::shared_ptr<QSet<qint64>> seen,
                          int recovered, QDateTime started)
{
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("project"), QString::number(projectId));
    query.addQueryItem(QStringLiteral("fields"), QStringLiteral("all"));
    query.addQueryItem(QStringLiteral("page_size"), QString::number(kSyncPageSize));
    query.addQueryItem(QStringLiteral("page"), QString::number(page));
    query.addQueryItem(QStringLiteral("resolve_uri"), QStringLiteral("false"));
    const QString since = watermark;
    if (!full && !since.isEmpty()) {
        const json filter = {
            {"filters",
             {{"conjunction", "or"},
              {"items",
               json::array({json{{"filter", "filter:tasks:updated_at"}, {"operator", "greater"}, {"type", "Datetime"}, {"value", since.toStdString()}},
                            json{{"filter", "filter:tasks:completed_at"}, {"operator", "greater"}, {"type", "Datetime"}, {"value", since.toStdString()}}})}}}};
        query.addQueryItem(QStringLiteral("query"), QString::fromStdString(filter.dump()));
    }
    const auto finish = [this, projectId](const QString &error, bool full, const QString &watermark, int recovered, const QDateTime &when) {
        {
            std::lock_guard lock(m_mutex);
            Project &p = projectLocked(projectId);
            p.syncing = false;
            p.syncError = error;
            if (error.isEmpty()) {
                p.lastReconcile = when;
                p.lastRecovered = recovered;
            }
        }
        if (error.isEmpty()) {
            (void)m_store->setSyncState(projectId, when, full, watermark);
            log(projectId, QStringLiteral("reconciled"),
                QStringLiteral("mode=%1 changed=%2").arg(full ? QStringLiteral("full") : QStringLiteral("incremental")).arg(recovered));
            Q_EMIT reconciled(projectId, recovered);
            pollProject(projectId);
            checkWebhook(projectId);
        } else {
            log(projectId, QStringLiteral("reconcile_failed"), QStringLiteral("error=\"%1\"").arg(error));
        }
        Q_EMIT statusChanged(projectId);
    };
    const qint64 requestedAt = QDateTime::currentMSecsSinceEpoch();
    m_client->sendRaw(
        "GET", QStringLiteral("/api/tasks/"), query, {},
        [=, this](const QByteArray &answer, const labelstudio::LsError &error) mutable {
            // Past the last page Label Studio answers 404 "Invalid page".
            if (error.isError() && !(error.kind == labelstudio::LsError::Kind::NotFound && page > 1)) {
                finish(error.message(), full, watermark, recovered, started);
                return;
            }
            int count = 0;
            qint64 total = -1;
            if (!error.isError()) {
                const json doc = json::parse(answer.begin(), answer.end(), nullptr, false);
                const json *tasks = nullptr;
                if (doc.is_object() && doc.contains("tasks") && doc["tasks"].is_array())
                    tasks = &doc["tasks"];
                else if (doc.is_array())
                    tasks = &doc;
                if (!tasks) {
                    finish(QStringLiteral("Label Studio's task list has no \"tasks\" list."), full, watermark, recovered, started);
                    return;
                }
                if (doc.is_object() && doc.contains("total") && doc["total"].is_number_integer())
                    total = doc["total"].get<qint64>();
                store::ChangeSet changes;
                changes.snapshotAtMs = requestedAt;
                QString maxTime = watermark;
                for (const json &t : *tasks) {
                    auto task = parseTask(t);
                    if (!task)
                        continue;
                    seen->insert(task->id);
                    for (const char *key : {"updated_at", "completed_at"})
                        if (t.contains(key) && t[key].is_string()) {
                            const QString v = QString::fromStdString(t[key].get<std::string>());
                            if (v > maxTime)
                                maxTime = v;
                        }
                    changes.tasks.push_back(std::move(task).value());
                }
                count = int(tasks->size());
                watermark = maxTime;
                QString fromName;
                QString why;
                if (const auto target = targetOf(projectId, &why))
                    fromName = target->fromName;
                store::LabelReader reader;
                if (!fromName.isEmpty())
                    reader = [name = fromName.toStdString()](const std::string &r) { return labelsIn(r, name); };
                const auto applied = m_store->apply(projectId, changes, reader);
                if (!applied) {
                    finish(applied.error(), full, watermark, recovered, started);
                    return;
                }
                recovered += applied.value();
            }
            const bool more = count == kSyncPageSize && (total < 0 || qint64(page) * kSyncPageSize < total);
            if (more) {
                syncPage(projectId, full, page + 1, watermark, seen, recovered, started);
                return;
            }
            if (full) {
                const auto removed = m_store->removeMissing(projectId, *seen, started.toMSecsSinceEpoch());
                if (!removed) {
                    finish(removed.error(), full, watermark, recovered, started);
                    return;
                }
                recovered += removed.value();
            }
            finish(QString(), full, watermark, recovered, started);
        });
}

} // namespace loopdeck::loop
