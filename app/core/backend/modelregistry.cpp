#include "core/backend/modelregistry.h"

#include "core/backend/modelcatalog.h"
#include "core/model/textclassifier.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSaveFile>
#include <QUuid>

#include <algorithm>

namespace loopdeck::backend {

namespace {

const QString kActiveFile = QStringLiteral("active.json");

bool writeJsonAtomically(const QString &path, const QJsonObject &object, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        if (error)
            *error = QStringLiteral("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    file.write(QJsonDocument(object).toJson(QJsonDocument::Indented));
    if (!file.commit()) {
        if (error)
            *error = QStringLiteral("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

std::optional<QJsonObject> readJsonObject(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("Cannot read %1: %2").arg(path, file.errorString());
        return std::nullopt;
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parseError);
    if (!doc.isObject()) {
        if (error)
            *error = QStringLiteral("%1 is not a JSON object (%2)").arg(path, parseError.errorString());
        return std::nullopt;
    }
    return doc.object();
}

} // namespace

QString ModelVersionInfo::name() const
{
    return ModelRegistry::versionName(version);
}

QJsonObject ModelVersionInfo::toJson() const
{
    return QJsonObject{{QStringLiteral("version"), version},
                       {QStringLiteral("model_version"), name()},
                       {QStringLiteral("project"), projectId},
                       {QStringLiteral("created"), created.toUTC().toString(Qt::ISODateWithMs)},
                       {QStringLiteral("target"), target},
                       {QStringLiteral("metrics"), metrics},
                       {QStringLiteral("training_examples"), trainingExamples}};
}

ModelRegistry::ModelRegistry(const QString &dataDir, std::shared_ptr<ModelCatalog> catalog)
    : m_dataDir(dataDir)
    , m_catalog(std::move(catalog))
{
}

QString ModelRegistry::projectDir(const QString &projectId) const
{
    // A catalog's local copies have a folder of their own: a data folder used with SQLite before
    // keeps its versions untouched (the catalog numbers its own from 1).
    if (m_catalog)
        return m_dataDir + QStringLiteral("/model-cache/") + projectId;
    return m_dataDir + QStringLiteral("/models/") + projectId;
}

bool ModelRegistry::renameProject(const QString &from, const QString &to, QString *error)
{
    if (!isValidProjectId(from) || !isValidProjectId(to)) {
        *error = QStringLiteral("\"%1\" or \"%2\" is not a project id.").arg(from, to);
        return false;
    }
    std::lock_guard lock(m_mutex);
    const QString source = projectDir(from);
    const QString target = projectDir(to);
    if (!QFileInfo::exists(source))
        return true;
    if (m_catalog) {
        // The catalog's rows move with the store's (LoopStore::renameProject); the local copies
        // are only a cache: moved when possible, else dropped and fetched again when needed.
        if (QFileInfo::exists(target) || !QDir().rename(source, target))
            QDir(source).removeRecursively();
        return true;
    }
    if (QFileInfo::exists(target)) {
        *error = QStringLiteral("%1 exists already; the versions in %2 stay where they are.")
                     .arg(QDir::toNativeSeparators(target), QDir::toNativeSeparators(source));
        return false;
    }
    if (!QDir().rename(source, target)) {
        *error = QStringLiteral("Cannot rename %1 to %2.").arg(QDir::toNativeSeparators(source), QDir::toNativeSeparators(target));
        return false;
    }
    return true;
}

bool ModelRegistry::isValidProjectId(const QString &projectId)
{
    static const QRegularExpression re(QStringLiteral("^[A-Za-z0-9_-]{1,64}(\\.[0-9]{1,20})?$"));
    return re.match(projectId).hasMatch();
}

QString ModelRegistry::versionName(int version)
{
    return QStringLiteral("loopdeck-v") + QString::number(version);
}

QStringList ModelRegistry::projects() const
{
    if (m_catalog) {
        const auto ids = m_catalog->projects();
        return ids ? ids.value() : QStringList();
    }
    std::lock_guard lock(m_mutex);
    QStringList out;
    const QDir dir(m_dataDir + QStringLiteral("/models"));
    const QStringList entries = dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
    for (const QString &e : entries)
        if (isValidProjectId(e))
            out << e;
    return out;
}

QList<ModelVersionInfo> ModelRegistry::versions(const QString &projectId, QStringList *warnings) const
{
    std::lock_guard lock(m_mutex);
    return versionsLocked(projectId, warnings);
}

std::optional<ModelVersionInfo> ModelRegistry::version(const QString &projectId, int version) const
{
    const auto all = versions(projectId);
    for (const ModelVersionInfo &info : all)
        if (info.version == version)
            return info;
    return std::nullopt;
}

QList<ModelVersionInfo> ModelRegistry::versionsLocked(const QString &projectId, QStringList *warnings) const
{
    QList<ModelVersionInfo> out;
    if (!isValidProjectId(projectId))
        return out;
    if (m_catalog) {
        const auto all = m_catalog->versions(projectId);
        if (!all) {
            if (warnings)
                *warnings << all.error();
            return out;
        }
        for (const CatalogVersion &v : all.value()) {
            ModelVersionInfo info;
            info.projectId = projectId;
            info.version = v.version;
            info.created = v.created;
            info.target = v.target;
            info.metrics = v.metrics;
            info.trainingExamples = v.trainingExamples;
            info.modelPath = projectDir(projectId) + QStringLiteral("/v%1.ldm").arg(v.version); // the local copy
            out << info;
        }
        return out;
    }
    const QDir dir(projectDir(projectId));
    static const QRegularExpression re(QStringLiteral("^v([0-9]{1,9})\\.json$"));
    const QStringList sidecars = dir.entryList({QStringLiteral("v*.json")}, QDir::Files);
    for (const QString &name : sidecars) {
        const auto m = re.match(name);
        if (!m.hasMatch())
            continue;
        const int n = m.captured(1).toInt();
        QString error;
        const auto obj = readJsonObject(dir.filePath(name), &error);
        const QString modelPath = dir.filePath(QStringLiteral("v%1.ldm").arg(n));
        if (!obj) {
            if (warnings)
                *warnings << error;
            continue;
        }
        if (!QFileInfo::exists(modelPath)) {
            if (warnings)
                *warnings << QStringLiteral("%1 has no model file %2").arg(dir.filePath(name), modelPath);
            continue;
        }
        ModelVersionInfo info;
        info.projectId = projectId;
        info.version = n;
        info.created = QDateTime::fromString(obj->value(QStringLiteral("created")).toString(), Qt::ISODateWithMs);
        info.target = obj->value(QStringLiteral("target")).toString();
        info.metrics = obj->value(QStringLiteral("metrics")).toObject();
        info.trainingExamples = obj->value(QStringLiteral("training_examples")).toInt();
        info.modelPath = modelPath;
        out << info;
    }
    std::sort(out.begin(), out.end(),
              [](const ModelVersionInfo &a, const ModelVersionInfo &b) { return a.version < b.version; });
    return out;
}

std::optional<ModelVersionInfo> ModelRegistry::addVersion(const QString &projectId,
                                                          const model::TextClassifier &model,
                                                          const NewModelVersion &meta, QString *error)
{
    if (!isValidProjectId(projectId)) {
        if (error)
            *error = QStringLiteral("'%1' cannot be a project id (letters, digits, '-' and '_' only)").arg(projectId);
        return std::nullopt;
    }
    if (m_catalog)
        return addToCatalog(projectId, model, meta, error);
    std::lock_guard lock(m_mutex);
    const QString dirPath = projectDir(projectId);
    if (!QDir().mkpath(dirPath)) {
        if (error)
            *error = QStringLiteral("Cannot create the model folder %1").arg(dirPath);
        return std::nullopt;
    }
    // Next number: one past the highest number seen in any file name, so a number is never
    // reused even when a sidecar was damaged.
    int next = 1;
    static const QRegularExpression re(QStringLiteral("^v([0-9]{1,9})\\.(?:json|ldm)$"));
    const QStringList files = QDir(dirPath).entryList(QDir::Files);
    for (const QString &f : files) {
        const auto m = re.match(f);
        if (m.hasMatch())
            next = std::max(next, m.captured(1).toInt() + 1);
    }
    ModelVersionInfo info;
    info.projectId = projectId;
    info.version = next;
    info.created = QDateTime::currentDateTimeUtc();
    info.target = meta.target;
    info.metrics = meta.metrics;
    info.trainingExamples = meta.trainingExamples;
    info.modelPath = dirPath + QStringLiteral("/v%1.ldm").arg(next);

    QString saveError;
    if (!model.save(info.modelPath, &saveError)) {
        if (error)
            *error = QStringLiteral("Cannot save model version %1: %2").arg(next).arg(saveError);
        return std::nullopt;
    }
    // The sidecar is written last: a version exists only once its sidecar does.
    QJsonObject sidecar = info.toJson();
    sidecar.remove(QStringLiteral("model_version"));
    if (!writeJsonAtomically(dirPath + QStringLiteral("/v%1.json").arg(next), sidecar, error)) {
        QFile::remove(info.modelPath);
        return std::nullopt;
    }
    return info;
}

QHash<QString, int> ModelRegistry::activeVersions(const QString &projectId) const
{
    std::lock_guard lock(m_mutex);
    return activeLocked(projectId);
}

QHash<QString, int> ModelRegistry::activeLocked(const QString &projectId) const
{
    QHash<QString, int> out;
    if (!isValidProjectId(projectId))
        return out;
    if (m_catalog) {
        const auto active = m_catalog->active(projectId);
        return active ? active.value() : out;
    }
    const QString path = projectDir(projectId) + QLatin1Char('/') + kActiveFile;
    if (!QFileInfo::exists(path))
        return out;
    const auto obj = readJsonObject(path, nullptr);
    if (!obj)
        return out;
    const QJsonObject targets = obj->value(QStringLiteral("targets")).toObject();
    for (auto it = targets.begin(); it != targets.end(); ++it)
        if (it.value().toInt() > 0)
            out.insert(it.key(), it.value().toInt());
    return out;
}

bool ModelRegistry::writeActiveLocked(const QString &projectId, const QHash<QString, int> &active,
                                      QString *error)
{
    QJsonObject targets;
    for (auto it = active.cbegin(); it != active.cend(); ++it)
        targets.insert(it.key(), it.value());
    return writeJsonAtomically(projectDir(projectId) + QLatin1Char('/') + kActiveFile,
                               QJsonObject{{QStringLiteral("targets"), targets}}, error);
}

bool ModelRegistry::activate(const QString &projectId, int version, QString *error)
{
    if (m_catalog) {
        // Checks that the version exists in the same transaction as it writes.
        const Status s = m_catalog->activate(projectId, version);
        if (!s && error)
            *error = s.error();
        return s.ok();
    }
    std::lock_guard lock(m_mutex);
    const auto all = versionsLocked(projectId, nullptr);
    const auto it = std::find_if(all.cbegin(), all.cend(),
                                 [&](const ModelVersionInfo &i) { return i.version == version; });
    if (it == all.cend()) {
        if (error)
            *error = QStringLiteral("Project %1 has no model version %2").arg(projectId).arg(version);
        return false;
    }
    QHash<QString, int> active = activeLocked(projectId);
    active.insert(it->target, version);
    return writeActiveLocked(projectId, active, error);
}

std::optional<int> ModelRegistry::previousVersion(const QString &projectId, const QString &target,
                                                  QString *error) const
{
    std::lock_guard lock(m_mutex);
    const int current = activeLocked(projectId).value(target, 0);
    if (current == 0) {
        if (error)
            *error = QStringLiteral("Project %1 has no active model to roll back from").arg(projectId);
        return std::nullopt;
    }
    const auto all = versionsLocked(projectId, nullptr);
    int previous = 0;
    for (const ModelVersionInfo &info : all)
        if (info.target == target && info.version < current)
            previous = std::max(previous, info.version);
    if (previous == 0) {
        if (error)
            *error = QStringLiteral("Project %1 has no version older than %2 to roll back to")
                         .arg(projectId, versionName(current));
        return std::nullopt;
    }
    return previous;
}

bool ModelRegistry::removeVersion(const QString &projectId, int version, QString *error)
{
    if (m_catalog) {
        if (const Status s = m_catalog->remove(projectId, version); !s) {
            if (error)
                *error = s.error();
            return false;
        }
        std::lock_guard lock(m_mutex);
        QFile::remove(projectDir(projectId) + QStringLiteral("/v%1.ldm").arg(version));
        return true;
    }
    std::lock_guard lock(m_mutex);
    const QHash<QString, int> active = activeLocked(projectId);
    if (std::find(active.cbegin(), active.cend(), version) != active.cend()) {
        if (error)
            *error = QStringLiteral("%1 of project %2 is active and cannot be deleted").arg(versionName(version), projectId);
        return false;
    }
    const QString base = projectDir(projectId) + QStringLiteral("/v%1").arg(version);
    // The sidecar goes first: without it the version no longer exists, even if the model file stays.
    for (const QString &path : QStringList{base + QStringLiteral(".json"), base + QStringLiteral(".ldm")}) {
        if (QFileInfo::exists(path) && !QFile::remove(path)) {
            if (error)
                *error = QStringLiteral("Cannot delete %1").arg(path);
            return false;
        }
    }
    return true;
}

std::shared_ptr<const model::TextClassifier> ModelRegistry::load(const QString &projectId, int version,
                                                                  QString *error) const
{
    if (!isValidProjectId(projectId)) {
        if (error)
            *error = QStringLiteral("'%1' cannot be a project id").arg(projectId);
        return nullptr;
    }
    if (m_catalog)
        return loadFromCatalog(projectId, version, error);
    const QString path = projectDir(projectId) + QStringLiteral("/v%1.ldm").arg(version);
    QString loadError;
    auto model = model::TextClassifier::load(path, &loadError);
    if (!model && error)
        *error = QStringLiteral("Cannot load %1 of project %2: %3").arg(versionName(version), projectId, loadError);
    return model;
}

namespace {

QString sha256Hex(const QByteArray &bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

std::optional<QByteArray> readFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    return file.readAll();
}

} // namespace

std::optional<ModelVersionInfo> ModelRegistry::addToCatalog(const QString &projectId, const model::TextClassifier &model,
                                                            const NewModelVersion &meta, QString *error)
{
    const QString dirPath = projectDir(projectId);
    if (!QDir().mkpath(dirPath)) {
        if (error)
            *error = QStringLiteral("Cannot create the model folder %1").arg(dirPath);
        return std::nullopt;
    }
    // The file is written locally first (TextClassifier saves to a path), then stored in the
    // catalog, which numbers it; the local file becomes the copy of that version.
    const QString temporary = dirPath + QStringLiteral("/.new-") + QUuid::createUuid().toString(QUuid::WithoutBraces) + QStringLiteral(".ldm");
    QString saveError;
    if (!model.save(temporary, &saveError)) {
        if (error)
            *error = QStringLiteral("Cannot save the new model version: %1").arg(saveError);
        QFile::remove(temporary);
        return std::nullopt;
    }
    const auto bytes = readFile(temporary);
    if (!bytes) {
        if (error)
            *error = QStringLiteral("Cannot read back %1").arg(QDir::toNativeSeparators(temporary));
        QFile::remove(temporary);
        return std::nullopt;
    }
    CatalogVersion entry;
    entry.created = QDateTime::currentDateTimeUtc();
    entry.target = meta.target;
    entry.metrics = meta.metrics;
    entry.trainingExamples = meta.trainingExamples;
    entry.sha256 = sha256Hex(*bytes);
    const auto version = m_catalog->add(projectId, entry, *bytes);
    if (!version) {
        if (error)
            *error = QStringLiteral("Cannot store the new model version: %1").arg(version.error());
        QFile::remove(temporary);
        return std::nullopt;
    }
    ModelVersionInfo info;
    info.projectId = projectId;
    info.version = version.value();
    info.created = entry.created;
    info.target = meta.target;
    info.metrics = meta.metrics;
    info.trainingExamples = meta.trainingExamples;
    info.modelPath = dirPath + QStringLiteral("/v%1.ldm").arg(info.version);
    std::lock_guard lock(m_mutex);
    QFile::remove(info.modelPath); // a stale copy of a number used before (a store that was reset)
    if (!QFile::rename(temporary, info.modelPath))
        QFile::remove(temporary); // only the cache: the next load fetches it from the catalog
    return info;
}

std::shared_ptr<const model::TextClassifier> ModelRegistry::loadFromCatalog(const QString &projectId, int version,
                                                                            QString *error) const
{
    const auto fail = [&](const QString &why) -> std::shared_ptr<const model::TextClassifier> {
        if (error)
            *error = QStringLiteral("Cannot load %1 of project %2: %3").arg(versionName(version), projectId, why);
        return nullptr;
    };
    const auto expected = m_catalog->checksum(projectId, version);
    if (!expected)
        return fail(expected.error());
    const QString path = projectDir(projectId) + QStringLiteral("/v%1.ldm").arg(version);
    {
        std::lock_guard lock(m_mutex);
        const auto local = readFile(path);
        if (!local || sha256Hex(*local) != expected.value()) {
            // No local copy, or not the catalog's file: fetch it, check it, keep it.
            const auto fetched = m_catalog->file(projectId, version);
            if (!fetched)
                return fail(fetched.error());
            if (sha256Hex(fetched->first) != fetched->second)
                return fail(QStringLiteral("the stored file does not match its SHA-256 (%1); it was damaged in the store")
                                .arg(fetched->second));
            if (!QDir().mkpath(projectDir(projectId)))
                return fail(QStringLiteral("cannot create the model folder %1").arg(projectDir(projectId)));
            QSaveFile file(path);
            if (!file.open(QIODevice::WriteOnly) || file.write(fetched->first) != fetched->first.size() || !file.commit())
                return fail(QStringLiteral("cannot write the local copy %1: %2").arg(path, file.errorString()));
        }
    }
    QString loadError;
    auto model = model::TextClassifier::load(path, &loadError);
    if (!model)
        return fail(loadError);
    return model;
}

} // namespace loopdeck::backend
