#pragma once
// LoopDeck's local SQLite store (Qt Sql): progress snapshots now; annotations, served
// predictions, model versions and training runs as the loop grows. Schema changes are
// numbered migrations applied in a transaction at open(); WAL mode. A Store object is used
// from the thread that opened it (Qt Sql connections are per thread); open one per thread.
// Used by the dashboard (progress chart), the CLI and, later, the loop.
#include "labelstudio/lstypes.h"

#include <QDateTime>
#include <QList>
#include <QString>

namespace loopdeck::store {

struct ProgressPoint {
    QDateTime takenAt; // UTC
    labelstudio::ProjectCounts counts;
};

class Store final
{
public:
    Store();
    ~Store();
    Store(const Store &) = delete;
    Store &operator=(const Store &) = delete;

    // Opens (creating if needed) <dataDir>/loopdeck.sqlite3 and migrates it. On failure
    // returns false and *error says which file and why (permissions, disk, corrupt, newer schema).
    bool open(const QString &dataDir, QString *error);
    void close();
    bool isOpen() const;
    QString path() const { return m_path; }
    int schemaVersion() const;
    static int latestSchemaVersion();

    // Records one refresh of a server's projects. A project whose counts did not change since
    // its last point is not written again (the chart shows steps, the file stays small).
    bool recordProgress(const QString &server, const QList<labelstudio::Project> &projects, const QDateTime &takenAtUtc,
                        QString *error);
    // Oldest first; at most `limit` most recent points. When the store cannot be read the list is
    // empty and *error (if given) says why.
    QList<ProgressPoint> progress(const QString &server, int projectId, int limit = 1000,
                                  QString *error = nullptr) const;

private:
    bool migrate(QString *error);
    QString m_connectionName;
    QString m_path;
};

} // namespace loopdeck::store
