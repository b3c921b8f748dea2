#include "core/backend/predictionservice.h"

#include "core/backend/projectkey.h"
#include "core/model/choice.h"

#include "core/backend/jsontypename.h"
#include "core/labelconfig/labelconfig.h"
#include "core/model/textclassifier.h"

#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace loopdeck::backend {

using nlohmann::json;

namespace {

QString taskLabel(const json &task, std::size_t index)
{
    QString label = QStringLiteral("tasks[%1]").arg(index);
    const auto id = task.find("id");
    if (id != task.end() && (id->is_number_integer() || id->is_string()))
        label += QStringLiteral(" (id %1)")
                     .arg(QString::fromStdString(id->is_string() ? id->get<std::string>() : id->dump()));
    return label;
}

} // namespace

struct ActiveModel {
    int version = 0;
    std::shared_ptr<const model::TextClassifier> model;
};

// One servable target with its model, prepared for the hot path (UTF-8 keys, choice set).
struct ServedTarget {
    std::string fromName;
    std::string toName;
    std::string dataKey;
    bool multiple = false;
    QStringList choices;
    int version = 0;
    std::shared_ptr<const model::TextClassifier> model;
};

struct PredictionService::ProjectState {
    QString configXml;
    std::shared_ptr<const labelconfig::LabelConfig> config;
    std::map<QString, ActiveModel> models; // target name ("" = first servable target) -> model
    std::set<int> installedVersions;       // versions known in memory (for /versions)
    // A bare id given a model explicitly (installModel: `serve --model 3=FILE`): it serves every
    // server's project 3 that has no state of its own. A bare id from a registry does not.
    bool everyServer = false;
    std::vector<ServedTarget> served;      // derived from config + models by compile()

    void compile()
    {
        served.clear();
        if (!config)
            return;
        bool first = true;
        for (const labelconfig::ClassificationTarget &t : config->targets) {
            auto it = models.find(t.fromName);
            if (it == models.end() && first)
                it = models.find(QString());
            first = false;
            if (it == models.end() || !it->second.model)
                continue;
            ServedTarget s;
            s.fromName = t.fromName.toStdString();
            s.toName = t.toName.toStdString();
            s.dataKey = t.dataKey.toStdString();
            s.multiple = t.multiple;
            s.choices = t.choices;
            s.version = it->second.version;
            s.model = it->second.model;
            served.push_back(std::move(s));
        }
    }

    // The version every answer is tagged with and /setup reports: the highest version among
    // the models that actually serve a target of the current label config (0 = none serves).
    int servedVersion() const
    {
        int v = 0;
        for (const ServedTarget &t : served)
            v = std::max(v, t.version);
        return v;
    }

    int maxVersion() const
    {
        int v = 0;
        for (const auto &[target, m] : models)
            v = std::max(v, m.version);
        return v;
    }
};

PredictionService::PredictionService(std::shared_ptr<ModelRegistry> registry)
    : m_registry(std::move(registry))
{
}

PredictionService::~PredictionService() = default;

QString PredictionService::projectIdOf(const QString &project)
{
    return projectkey::normalise(project);
}

QString PredictionService::resolve(const QString &projectId) const
{
    if (projectId.isEmpty() || projectkey::hasCreated(projectId))
        return projectId;
    const qint64 id = projectkey::lsId(projectId);
    std::shared_lock lock(m_mutex);
    QString only;
    for (auto it = m_projects.cbegin(); it != m_projects.cend(); ++it)
        if (projectkey::hasCreated(it.key()) && projectkey::lsId(it.key()) == id) {
            if (!only.isEmpty())
                return projectId; // several servers' project: the bare id stays itself
            only = it.key();
        }
    return only.isEmpty() ? projectId : only;
}

QString PredictionService::versionName(int version)
{
    return ModelRegistry::versionName(version);
}

PredictionService::StatePtr PredictionService::state(const QString &projectId) const
{
    std::shared_lock lock(m_mutex);
    if (const auto it = m_projects.constFind(projectId); it != m_projects.constEnd())
        return *it;
    // A key with no state of its own ("3.1700000000") serves what `serve --model 3=FILE` set up
    // for its bare id (never another server's data: a registry's bare id is adopted instead).
    if (projectkey::hasCreated(projectId))
        if (StatePtr bare = m_projects.value(QString::number(projectkey::lsId(projectId))); bare && bare->everyServer)
            return bare;
    return {};
}

template<typename Change>
PredictionService::StatePtr PredictionService::update(const QString &projectId, Change &&change)
{
    std::unique_lock lock(m_mutex);
    StatePtr old = m_projects.value(projectId);
    if (!old && projectkey::hasCreated(projectId)) { // starts from an explicit bare id's state, see state()
        old = m_projects.value(QString::number(projectkey::lsId(projectId)));
        if (old && !old->everyServer)
            old.reset();
    }
    auto next = old ? std::make_shared<ProjectState>(*old) : std::make_shared<ProjectState>();
    change(*next);
    next->compile();
    StatePtr result = next;
    m_projects.insert(projectId, result);
    return result;
}

SetupOutcome PredictionService::setup(const QString &projectId, const QString &labelConfigXml)
{
    StatePtr s;
    if (labelConfigXml.isNull()) {
        s = state(projectId);
        if (!s)
            s = update(projectId, [](ProjectState &) {});
    } else {
        StatePtr current = state(projectId);
        if (current && current->config && current->configXml == labelConfigXml) {
            s = current;
        } else {
            // Parse outside the lock; the swap itself is short.
            auto parsed = std::make_shared<const labelconfig::LabelConfig>(labelconfig::parse(labelConfigXml));
            s = update(projectId, [&](ProjectState &st) {
                st.configXml = labelConfigXml;
                st.config = parsed;
            });
        }
    }
    SetupOutcome out;
    out.projectId = projectId;
    out.modelVersion = versionName(s->servedVersion());
    out.servable = s->config && s->config->isServable();
    if (!s->config)
        out.reason = QStringLiteral("Label Studio has not sent this project's label config yet.");
    else if (!out.servable)
        out.reason = s->config->protocolReason();
    return out;
}

void PredictionService::renameProject(const QString &from, const QString &to)
{
    std::unique_lock lock(m_mutex);
    StatePtr moved = m_projects.take(from);
    if (moved && !m_projects.contains(to))
        m_projects.insert(to, std::move(moved));
}

SetupOutcome PredictionService::setLabelConfig(const QString &projectId, const QString &labelConfigXml)
{
    return setup(projectId, labelConfigXml.isNull() ? QString(QLatin1String("")) : labelConfigXml);
}

PredictOutcome PredictionService::predict(const QString &projectId, const QString &labelConfigXml,
                                          const json &tasks)
{
    PredictOutcome out;
    // A list of tasks, or (as the ml-backend conformance tests send it) one task object.
    std::vector<const json *> list;
    if (tasks.is_object()) {
        list.push_back(&tasks);
    } else if (tasks.is_array()) {
        list.reserve(tasks.size());
        for (const json &t : tasks)
            list.push_back(&t);
    } else {
        out.status = 400;
        out.error = QStringLiteral("\"tasks\" must be a list of task objects, not %1.")
                        .arg(QLatin1String(jsonTypeName(tasks)));
        return out;
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (!list[i]->is_object()) {
            out.status = 400;
            out.error = QStringLiteral("tasks[%1] is %2; every task must be an object like {\"id\": 1, \"data\": {...}}.")
                            .arg(i)
                            .arg(QLatin1String(jsonTypeName(*list[i])));
            return out;
        }
    }

    StatePtr s = state(projectId);
    const bool hasModel = s && !s->models.empty();
    if (!hasModel) {
        // Honest answer before any model exists: no prediction at all. Label Studio saves
        // nothing for an empty list, so tasks are not marked as predicted by a model that
        // does not exist; after the first version /setup reports it and LS asks again.
        out.body = json{{"results", json::array()},
                        {"model_version", versionName(0).toStdString()},
                        {"message", "No model has been trained for this project yet, so no task got a prediction."}};
        return out;
    }
    // Label Studio sends the current label config with every request; adopt it when it changed.
    if (!labelConfigXml.isEmpty() && (!s->config || s->configXml != labelConfigXml)) {
        auto parsed = std::make_shared<const labelconfig::LabelConfig>(labelconfig::parse(labelConfigXml));
        s = update(projectId, [&](ProjectState &st) {
            st.configXml = labelConfigXml;
            st.config = parsed;
        });
    }
    if (s->served.empty()) {
        out.body = json{{"results", json::array()},
                        {"model_version", versionName(0).toStdString()},
                        {"message", "The project's label config has no Choices control that the active model can fill, so no task got a prediction."}};
        return out;
    }

    json results = json::array();
    const int version = s->servedVersion();
    for (std::size_t i = 0; i < list.size(); ++i) {
        const json &task = *list[i];
        const auto data = task.find("data");
        if (data == task.end() || !data->is_object()) {
            out.status = 400;
            out.error = QStringLiteral("%1 has no \"data\" object (it is %2); Label Studio tasks keep their fields under \"data\".")
                            .arg(taskLabel(task, i),
                                 QLatin1String(data == task.end() ? "missing" : jsonTypeName(*data)));
            return out;
        }
        json regions = json::array();
        double scoreSum = 0.0;
        for (const ServedTarget &t : s->served) {
            auto value = data->find(t.dataKey);
            if (value == data->end())
                value = data->find("$undefined$");
            if (value == data->end() || !value->is_string()) {
                out.status = 400;
                out.error = QStringLiteral("%1: data.%2 must be a string with the text to classify, but it is %3.")
                                .arg(taskLabel(task, i), QString::fromStdString(t.dataKey),
                                     QLatin1String(value == data->end() ? "missing" : jsonTypeName(*value)));
                return out;
            }
            const model::Prediction p = t.model->predict(QString::fromStdString(value->get_ref<const std::string &>()));
            const model::Choice choice = model::chooseLabels(p, t.choices, t.multiple);
            json chosen = json::array();
            for (const QString &label : choice.labels)
                chosen.push_back(label.toStdString());
            const double score = choice.score;
            if (chosen.empty())
                continue;
            regions.push_back(json{{"from_name", t.fromName},
                                   {"to_name", t.toName},
                                   {"type", "choices"},
                                   {"value", json{{"choices", std::move(chosen)}}},
                                   {"score", score}});
            scoreSum += score;
        }
        if (regions.empty()) {
            // No allowed choice survived for any target: send no prediction for this task. An
            // empty list keeps the answer aligned with the tasks (Label Studio zips the two)
            // and makes Label Studio save nothing for it.
            results.push_back(json::array());
            continue;
        }
        const double score = scoreSum / double(regions.size());
        results.push_back(json{{"result", std::move(regions)},
                               {"score", score},
                               {"model_version", versionName(version).toStdString()}});
        ++out.predicted;
    }
    out.body = json{{"results", std::move(results)}, {"model_version", versionName(version).toStdString()}};
    return out;
}

std::mutex &PredictionService::activationMutex(const QString &projectId)
{
    std::lock_guard lock(m_activationMutexesGuard);
    std::unique_ptr<std::mutex> &m = m_activationMutexes[projectId];
    if (!m)
        m = std::make_unique<std::mutex>();
    return *m;
}

void PredictionService::swapInLocked(const QString &projectId, std::shared_ptr<const model::TextClassifier> model,
                                     int version, const QString &target)
{
    update(projectId, [&](ProjectState &st) {
        st.models[target] = ActiveModel{version, std::move(model)};
        st.installedVersions.insert(version);
    });
}

int PredictionService::loadActiveFromRegistry(QStringList *warnings)
{
    if (!m_registry)
        return 0;
    int loaded = 0;
    const QStringList ids = m_registry->projects();
    for (const QString &projectId : ids) {
        // Read and installed under the lock, so an activation on another thread cannot slip in
        // between reading active.json and serving what it names. (Start-up: nobody waits.)
        std::lock_guard lock(activationMutex(projectId));
        const QHash<QString, int> active = m_registry->activeVersions(projectId);
        for (auto it = active.cbegin(); it != active.cend(); ++it) {
            QString error;
            auto model = m_registry->load(projectId, it.value(), &error);
            if (!model) {
                if (warnings)
                    *warnings << error;
                continue;
            }
            swapInLocked(projectId, std::move(model), it.value(), it.key());
            ++loaded;
        }
    }
    return loaded;
}

int PredictionService::syncActive(const QString &projectId, QString *error)
{
    if (!m_registry)
        return 0;
    std::lock_guard lock(activationMutex(projectId));
    const QHash<QString, int> wanted = m_registry->activeVersions(projectId);
    const QHash<QString, int> served = activeTargets(projectId);
    int swapped = 0;
    QStringList failures;
    for (auto it = wanted.cbegin(); it != wanted.cend(); ++it) {
        if (served.value(it.key(), kNoModel) == it.value())
            continue;
        QString why;
        auto model = m_registry->load(projectId, it.value(), &why);
        if (!model) {
            failures << why;
            continue;
        }
        swapInLocked(projectId, std::move(model), it.value(), it.key());
        ++swapped;
    }
    if (!failures.isEmpty()) {
        if (error)
            *error = failures.join(u' ');
        return -1;
    }
    return swapped;
}

void PredictionService::installModel(const QString &projectId, std::shared_ptr<const model::TextClassifier> model,
                                     int version, const QString &target)
{
    std::lock_guard lock(activationMutex(projectId));
    swapInLocked(projectId, std::move(model), version, target);
    if (!projectkey::hasCreated(projectId))
        update(projectId, [](ProjectState &st) { st.everyServer = true; });
}

std::optional<ModelVersionInfo> PredictionService::publish(const QString &projectId,
                                                           std::shared_ptr<const model::TextClassifier> model,
                                                           const NewModelVersion &meta, QString *error)
{
    if (!model) {
        if (error)
            *error = QStringLiteral("There is no model to publish.");
        return std::nullopt;
    }
    if (!m_registry) {
        if (error)
            *error = QStringLiteral("This prediction service has no model registry (no data folder).");
        return std::nullopt;
    }
    // Saving a new (not yet active) version needs no activation lock: the registry numbers it.
    auto info = m_registry->addVersion(projectId, *model, meta, error);
    if (!info)
        return std::nullopt;
    std::lock_guard lock(activationMutex(projectId));
    if (!m_registry->activate(projectId, info->version, error))
        return std::nullopt;
    swapInLocked(projectId, std::move(model), info->version, info->target);
    return info;
}

bool PredictionService::activate(const QString &projectId, int version, QString *error)
{
    if (!m_registry) {
        if (error)
            *error = QStringLiteral("This prediction service has no model registry (no data folder).");
        return false;
    }
    const auto info = m_registry->version(projectId, version);
    if (!info) {
        if (error)
            *error = QStringLiteral("Project %1 has no model version %2.").arg(projectId).arg(version);
        return false;
    }
    // Load first, outside the lock: if the file is damaged nothing changes.
    auto model = m_registry->load(projectId, version, error);
    if (!model)
        return false;
    return activateLoaded(projectId, version, std::move(model), info->target, error);
}

bool PredictionService::activateLoaded(const QString &projectId, int version, std::shared_ptr<const model::TextClassifier> model,
                                       const QString &target, QString *error)
{
    if (!m_registry || !model) {
        if (error)
            *error = QStringLiteral("There is no model to activate.");
        return false;
    }
    std::lock_guard lock(activationMutex(projectId));
    // The registry re-checks under its lock that the version still exists (retention may have
    // deleted it meanwhile) before it writes active.json.
    if (!m_registry->activate(projectId, version, error))
        return false;
    swapInLocked(projectId, std::move(model), version, target);
    return true;
}

std::optional<int> PredictionService::rollback(const QString &projectId, const QString &target, QString *error)
{
    if (!m_registry) {
        if (error)
            *error = QStringLiteral("This prediction service has no model registry (no data folder).");
        return std::nullopt;
    }
    // Guess "previous" and load it without the lock; under the lock, decide again and use the
    // loaded model only when the decision is the same. Concurrent activations can move it a
    // few times; after that the model is loaded under the lock.
    constexpr int kLoadOutsideLock = 3;
    std::shared_ptr<const model::TextClassifier> model;
    int loaded = 0;
    for (int attempt = 0;; ++attempt) {
        {
            std::lock_guard lock(activationMutex(projectId));
            const auto previous = m_registry->previousVersion(projectId, target, error);
            if (!previous)
                return std::nullopt;
            if (attempt > 0 && (loaded == *previous || attempt >= kLoadOutsideLock)) {
                if (loaded != *previous) {
                    model = m_registry->load(projectId, *previous, error);
                    if (!model)
                        return std::nullopt;
                }
                if (!m_registry->activate(projectId, *previous, error))
                    return std::nullopt;
                swapInLocked(projectId, std::move(model), *previous, target);
                return previous;
            }
            loaded = *previous;
        }
        model = m_registry->load(projectId, loaded, error);
        if (!model)
            return std::nullopt; // nothing changed, on disk or in memory
    }
}

int PredictionService::activeVersion(const QString &projectId) const
{
    const StatePtr s = state(projectId);
    return s ? s->maxVersion() : kNoModel;
}

QString PredictionService::modelVersion(const QString &projectId) const
{
    return versionName(activeVersion(projectId));
}

QHash<QString, int> PredictionService::activeTargets(const QString &projectId) const
{
    QHash<QString, int> out;
    if (const StatePtr s = state(projectId))
        for (const auto &[target, m] : s->models)
            out.insert(target, m.version);
    return out;
}

std::shared_ptr<const model::TextClassifier> PredictionService::activeModel(const QString &projectId, const QString &target,
                                                                          int *version) const
{
    if (version)
        *version = kNoModel;
    const StatePtr s = state(projectId);
    if (!s)
        return {};
    auto it = s->models.find(target);
    if (it == s->models.end())
        it = s->models.find(QString());
    if (it == s->models.end() || !it->second.model)
        return {};
    if (version)
        *version = it->second.version;
    return it->second.model;
}

QHash<QString, QString> PredictionService::activeModelVersions() const
{
    QHash<QString, QString> out;
    std::shared_lock lock(m_mutex);
    for (auto it = m_projects.cbegin(); it != m_projects.cend(); ++it)
        if (!it.value()->models.empty())
            out.insert(it.key(), versionName(it.value()->maxVersion()));
    return out;
}

QStringList PredictionService::versionNames(const QString &projectId) const
{
    std::set<int> all;
    if (const StatePtr s = state(projectId))
        all = s->installedVersions;
    if (m_registry)
        for (const ModelVersionInfo &info : m_registry->versions(projectId))
            all.insert(info.version);
    QStringList out;
    for (int v : all)
        out << versionName(v);
    return out;
}

QStringList PredictionService::projects() const
{
    QStringList out;
    {
        std::shared_lock lock(m_mutex);
        out = m_projects.keys();
    }
    if (m_registry)
        for (const QString &p : m_registry->projects())
            if (!out.contains(p))
                out << p;
    out.sort();
    return out;
}

QString PredictionService::labelConfigXml(const QString &projectId) const
{
    const StatePtr s = state(projectId);
    return s ? s->configXml : QString();
}

} // namespace loopdeck::backend
