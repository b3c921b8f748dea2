#pragma once
// Model versions on disk, one folder per Label Studio project:
//   <dataDir>/models/<project>/v<N>.ldm    the model file (TextClassifier::save)
//   <dataDir>/models/<project>/v<N>.json   sidecar: version, created, target, metrics, examples
//   <dataDir>/models/<project>/active.json which version serves each target
// Version numbers grow per project and are never reused. Every file is written to a temporary
// file and renamed, so a crash leaves the previous state intact.
// With a ModelCatalog (modelcatalog.h; replicas on a PostgreSQL store) the catalog holds the
// files, their metadata and the active versions instead, and <dataDir>/models/<project>/ is only
// a local copy of the files loaded (checked against the catalog's SHA-256 on every load), kept in
// <dataDir>/model-cache/<project>/ (never in models/, which a SQLite data folder uses).
// Called by PredictionService (load active versions, activate/rollback) and the loop's trainer.
// Thread-safe: one mutex serialises all disk operations of one registry.
// Which version is active is decided by PredictionService under its per-project activation
// lock (the active.json write and the in-memory swap together); only it calls activate().
#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <memory>
#include <mutex>
#include <optional>

namespace loopdeck::model {
class TextClassifier;
}

namespace loopdeck::backend {

class ModelCatalog;

struct ModelVersionInfo {
    QString projectId;
    int version = 0;
    QDateTime created;
    QString target;          // Choices name (fromName) the model serves; empty = first servable target
    QJsonObject metrics;     // whatever the trainer measured (accuracy, f1, ...)
    int trainingExamples = 0;
    QString modelPath;       // absolute path of v<N>.ldm

    QString name() const;    // "loopdeck-v<N>"
    QJsonObject toJson() const;
};

// Metadata the trainer supplies with a new version.
struct NewModelVersion {
    QString target;
    QJsonObject metrics;
    int trainingExamples = 0;
};

class ModelRegistry final
{
public:
    explicit ModelRegistry(const QString &dataDir, std::shared_ptr<ModelCatalog> catalog = {});
    bool isShared() const { return m_catalog != nullptr; }

    QString dataDir() const { return m_dataDir; }
    QString projectDir(const QString &projectId) const;

    // Moves a project's versions to a new id (a bare "3" from before project keys to its key
    // "3.1700000000"). False + *error when `to` exists or the folder cannot be renamed; true
    // when `from` has nothing to move.
    bool renameProject(const QString &from, const QString &to, QString *error);

    // A project id is used as a folder name: letters, digits, '-' and '_' only, 1..64 chars.
    static bool isValidProjectId(const QString &projectId);
    static QString versionName(int version); // "loopdeck-v<N>"

    // Projects that have a models folder.
    QStringList projects() const;

    // All versions of a project, oldest first. Versions whose sidecar is unreadable are skipped
    // (and named in *warnings when given).
    QList<ModelVersionInfo> versions(const QString &projectId, QStringList *warnings = nullptr) const;
    std::optional<ModelVersionInfo> version(const QString &projectId, int version) const;

    // Saves the model as the next version (not yet active). Returns the new version's info.
    std::optional<ModelVersionInfo> addVersion(const QString &projectId, const model::TextClassifier &model,
                                               const NewModelVersion &meta, QString *error);

    // Which version serves each target ("" = first servable target). Empty when nothing is active.
    QHash<QString, int> activeVersions(const QString &projectId) const;

    // Makes `version` the active one for its target (active.json, written atomically). Fails
    // when the version does not exist (checked under the same lock as the write). Disk only:
    // PredictionService::activate/rollback/publish call it with the served model swapped in
    // under one lock, so nothing else should.
    bool activate(const QString &projectId, int version, QString *error);

    // What a rollback of `target` goes back to: the newest version older than the active one
    // for the same target. nullopt with *error when nothing is active or nothing is older.
    // Changes nothing; PredictionService::rollback asks it under its activation lock.
    std::optional<int> previousVersion(const QString &projectId, const QString &target, QString *error) const;

    // Deletes a version's files (retention). Refuses the active version of any target. Version
    // numbers are never reused as long as the newest version is kept (the loop never deletes it).
    bool removeVersion(const QString &projectId, int version, QString *error);

    // Loads a version's model file. With a catalog: from the local copy when its SHA-256 matches
    // the catalog's, else fetched from the catalog, checked and copied first.
    std::shared_ptr<const model::TextClassifier> load(const QString &projectId, int version,
                                                      QString *error) const;

private:
    std::optional<ModelVersionInfo> addToCatalog(const QString &projectId, const model::TextClassifier &model,
                                                 const NewModelVersion &meta, QString *error);
    std::shared_ptr<const model::TextClassifier> loadFromCatalog(const QString &projectId, int version,
                                                                 QString *error) const;
    QList<ModelVersionInfo> versionsLocked(const QString &projectId, QStringList *warnings) const;
    QHash<QString, int> activeLocked(const QString &projectId) const;
    bool writeActiveLocked(const QString &projectId, const QHash<QString, int> &active, QString *error);

    QString m_dataDir;
    std::shared_ptr<ModelCatalog> m_catalog;
    mutable std::mutex m_mutex;
};

} // namespace loopdeck::backend
