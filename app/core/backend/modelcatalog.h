#pragma once
// Where a ModelRegistry keeps its versions when several replicas share them: the model files
// with their SHA-256, their metadata and which version serves each target. The loop implements
// it on its PostgreSQL store (loop/sharedmodels.h); a registry without one keeps everything in
// files under the data folder. The registry keeps a local copy of each file it loaded (a cache,
// checked against the checksum on every load). Implementations are thread-safe.
#include "core/result.h"

#include <QByteArray>
#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

namespace loopdeck::backend {

struct CatalogVersion {
    int version = 0;
    QDateTime created;
    QString target;
    QJsonObject metrics;
    int trainingExamples = 0;
    QString sha256; // hex, of the model file
};

class ModelCatalog
{
public:
    virtual ~ModelCatalog() = default;
    virtual Result<QStringList> projects() const = 0;
    virtual Result<QList<CatalogVersion>> versions(const QString &projectId) const = 0; // oldest first
    // Stores the file as the project's next version; returns its number.
    virtual Result<int> add(const QString &projectId, const CatalogVersion &meta, const QByteArray &file) = 0;
    // The file and its recorded SHA-256 (hex).
    virtual Result<QPair<QByteArray, QString>> file(const QString &projectId, int version) const = 0;
    virtual Result<QString> checksum(const QString &projectId, int version) const = 0;
    virtual Result<QHash<QString, int>> active(const QString &projectId) const = 0; // target -> version
    // Makes an existing version serve its target (and tells the other replicas).
    virtual Status activate(const QString &projectId, int version) = 0;
    // Deletes a version that is not active.
    virtual Status remove(const QString &projectId, int version) = 0;
};

} // namespace loopdeck::backend
