#include "core/loop/sharedmodels.h"

#include "core/store/loopstore.h"

#include <QJsonDocument>

namespace loopdeck::loop {

Result<QStringList> SharedModels::projects() const
{
    return m_store->modelProjects();
}

Result<QList<backend::CatalogVersion>> SharedModels::versions(const QString &projectId) const
{
    const auto stored = m_store->models(projectId);
    if (!stored)
        return Result<QList<backend::CatalogVersion>>::failure(stored.error());
    QList<backend::CatalogVersion> out;
    for (const store::StoredModel &m : stored.value()) {
        backend::CatalogVersion v;
        v.version = m.version;
        v.created = m.created;
        v.target = m.target;
        v.metrics = QJsonDocument::fromJson(m.metrics).object();
        v.trainingExamples = m.examples;
        v.sha256 = m.sha256;
        out << v;
    }
    return out;
}

Result<int> SharedModels::add(const QString &projectId, const backend::CatalogVersion &meta, const QByteArray &file)
{
    store::StoredModel m;
    m.created = meta.created;
    m.target = meta.target;
    m.metrics = QJsonDocument(meta.metrics).toJson(QJsonDocument::Compact);
    m.examples = meta.trainingExamples;
    return m_store->addModel(projectId, m, file);
}

Result<QPair<QByteArray, QString>> SharedModels::file(const QString &projectId, int version) const
{
    return m_store->modelBody(projectId, version);
}

Result<QString> SharedModels::checksum(const QString &projectId, int version) const
{
    return m_store->modelChecksum(projectId, version);
}

Result<QHash<QString, int>> SharedModels::active(const QString &projectId) const
{
    return m_store->activeModels(projectId);
}

Status SharedModels::activate(const QString &projectId, int version)
{
    return m_store->setActiveModel(projectId, version);
}

Status SharedModels::remove(const QString &projectId, int version)
{
    return m_store->removeModel(projectId, version);
}

} // namespace loopdeck::loop
