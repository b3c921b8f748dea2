#pragma once
// The model registry's catalog (backend/modelcatalog.h) on the loop's shared store: model files,
// their metadata and the active versions live in PostgreSQL (LoopStore's model_file and
// model_active), so every replica serves the same versions. Thread-safe (LoopStore is).
// Made by LoopEngine::open when the store is shared.
#include "core/backend/modelcatalog.h"

namespace loopdeck::store {
class LoopStore;
}

namespace loopdeck::loop {

class SharedModels final : public backend::ModelCatalog
{
public:
    explicit SharedModels(store::LoopStore *store) : m_store(store) {}

    Result<QStringList> projects() const override;
    Result<QList<backend::CatalogVersion>> versions(const QString &projectId) const override;
    Result<int> add(const QString &projectId, const backend::CatalogVersion &meta, const QByteArray &file) override;
    Result<QPair<QByteArray, QString>> file(const QString &projectId, int version) const override;
    Result<QString> checksum(const QString &projectId, int version) const override;
    Result<QHash<QString, int>> active(const QString &projectId) const override;
    Status activate(const QString &projectId, int version) override;
    Status remove(const QString &projectId, int version) override;

private:
    store::LoopStore *m_store; // owned by the engine, which outlives the registry's users
};

} // namespace loopdeck::loop
