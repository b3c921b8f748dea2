#pragma once
// Serves predictions for many Label Studio projects at once. Per project it keeps the label
// config (what to predict: Choices bound to Text) and the active model per target. A project's
// state is one immutable snapshot behind a std::shared_ptr: a request copies the pointer under a
// short lock and works on that snapshot, and a new model or config is swapped in whole, so a
// request never sees a half-built model and a hot swap drops no request.
// Called by the HTTP handlers of BackendServer (any server thread), by the loop/trainer
// (install, publish, activate, rollback) and by the GUI (versions, active model). Thread-safe.
//
// Which version is active is one decision per project. activate, rollback, publish,
// installModel and loadActiveFromRegistry take the project's activation lock and hold it across
// the registry's active.json write (temp file + rename) and the in-memory swap, disk first, so
// after any mix of them on any threads the version on disk is the one serving and a restart
// serves it too; rollback decides what "previous" is under that lock. A failed disk write
// swaps nothing. Model files are loaded before the lock is taken (rollback re-checks its guess
// under the lock and loads again if another activation moved it). Readers (predict, setup,
// activeVersion, ...) never take the activation lock: they copy the snapshot pointer under a
// short shared lock, and the swap holds the exclusive side only for building the new snapshot
// (no disk, no model loading).
#include "core/backend/modelregistry.h"

#include <QHash>
#include <QString>
#include <QStringList>

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>

namespace loopdeck::labelconfig {
struct LabelConfig;
}
namespace loopdeck::model {
class TextClassifier;
}

namespace loopdeck::backend {

struct SetupOutcome {
    QString projectId;
    QString modelVersion;   // "loopdeck-v<N>", or "loopdeck-v0" before any model exists
    bool servable = false;  // the label config has at least one Choices→Text target
    QString reason;         // why nothing can be served (empty when servable)
};

struct PredictOutcome {
    int status = 200;          // 400 when a task cannot be read
    QString error;             // one sentence, set when status != 200
    nlohmann::json body;       // {"results": [...]} on success
    int predicted = 0;         // tasks that received a prediction
};

class PredictionService final
{
public:
    static constexpr int kNoModel = 0;

    explicit PredictionService(std::shared_ptr<ModelRegistry> registry = {});
    ~PredictionService();
    PredictionService(const PredictionService &) = delete;
    PredictionService &operator=(const PredictionService &) = delete;

    std::shared_ptr<ModelRegistry> registry() const { return m_registry; }

    // The project key (projectkey.h): "3.1700000000" stays (Label Studio's own name of the
    // project, which tells two servers' project 3 apart), a bare id "3" stays.
    static QString projectIdOf(const QString &project);
    static QString versionName(int version); // "loopdeck-v<N>"
    // A bare id ("3") as the one project key with that id this service knows ("3.1700000000"),
    // else unchanged. A key stays as it is.
    QString resolve(const QString &projectId) const;

    // ---- HTTP handlers -----------------------------------------------------------------
    // Stores the project's label config (a null xml keeps the current one).
    SetupOutcome setup(const QString &projectId, const QString &labelConfigXml);
    // tasks: a JSON array of task objects. labelConfigXml may be empty (use the stored one).
    // Before a model exists for the project, no task gets a prediction: results is empty
    // (Label Studio then saves nothing and asks again after the next /setup version bump).
    PredictOutcome predict(const QString &projectId, const QString &labelConfigXml,
                           const nlohmann::json &tasks);

    // ---- model management (loop, trainer, GUI, CLI) -----------------------------------
    // Loads every project's active versions from the registry. Returns how many models were
    // loaded; problems go to *warnings.
    int loadActiveFromRegistry(QStringList *warnings = nullptr);
    // Serves what the registry says is active for the project (another replica of a shared store
    // activated it): under the activation lock, loads each target's version that differs from
    // the one serving (the registry checks its checksum) and swaps it in. Returns how many were
    // swapped, or -1 with *error when one could not be loaded (that target keeps its model).
    int syncActive(const QString &projectId, QString *error);
    // Puts a model in service in memory only (tests, `serve --model`). target = Choices name,
    // empty = the first servable target of the label config.
    void installModel(const QString &projectId, std::shared_ptr<const model::TextClassifier> model,
                      int version, const QString &target = {});
    // Saves a freshly trained model as the next registry version and activates it.
    std::optional<ModelVersionInfo> publish(const QString &projectId,
                                            std::shared_ptr<const model::TextClassifier> model,
                                            const NewModelVersion &meta, QString *error);
    // Activates an existing registry version (loads it, then swaps it in).
    bool activate(const QString &projectId, int version, QString *error);
    // The same for a version whose model is in memory already (the trainer's own output, saved
    // to the registry by it): no second read of the file on the caller's thread.
    bool activateLoaded(const QString &projectId, int version, std::shared_ptr<const model::TextClassifier> model,
                        const QString &target, QString *error);
    // Goes back to the previous registry version of a target; returns the version now active.
    std::optional<int> rollback(const QString &projectId, const QString &target, QString *error);
    // Sets the label config without a /setup call (CLI --label-config, GUI).
    SetupOutcome setLabelConfig(const QString &projectId, const QString &labelConfigXml);
    // A project served under its bare id ("3", before project keys) now has its full key (the
    // loop adopted it, ModelRegistry::renameProject moved its folder): its in-memory state goes
    // to the key (unless the key has its own already) and the bare id serves nothing any more,
    // so another server's project 3 no longer falls back to it (see state()).
    void renameProject(const QString &from, const QString &to);

    // ---- reading ---------------------------------------------------------------------
    int activeVersion(const QString &projectId) const;    // highest active version, 0 = none
    QString modelVersion(const QString &projectId) const; // versionName(activeVersion())
    QHash<QString, int> activeTargets(const QString &projectId) const; // target -> version
    // The model serving `target` (or, without one of its own, the project's default model),
    // with its version in *version; null when none.
    std::shared_ptr<const model::TextClassifier> activeModel(const QString &projectId, const QString &target,
                                                             int *version = nullptr) const;
    QHash<QString, QString> activeModelVersions() const;  // projectId -> "loopdeck-vN", with a model
    QStringList versionNames(const QString &projectId) const; // registry + in-memory, oldest first
    QStringList projects() const;
    QString labelConfigXml(const QString &projectId) const;

private:
    struct ProjectState;
    using StatePtr = std::shared_ptr<const ProjectState>;

    StatePtr state(const QString &projectId) const;
    // The project's activation lock (created on first use, never freed).
    std::mutex &activationMutex(const QString &projectId);
    // Swaps `model` in for `target`; the caller holds activationMutex(projectId).
    void swapInLocked(const QString &projectId, std::shared_ptr<const model::TextClassifier> model, int version,
                      const QString &target);
    // Applies `change` to a copy of the project's state and swaps the copy in.
    template<typename Change>
    StatePtr update(const QString &projectId, Change &&change);

    std::shared_ptr<ModelRegistry> m_registry;
    mutable std::shared_mutex m_mutex;
    QHash<QString, StatePtr> m_projects;
    std::mutex m_activationMutexesGuard;
    std::map<QString, std::unique_ptr<std::mutex>> m_activationMutexes;
};

} // namespace loopdeck::backend
