#pragma once
// Table model of one project's model versions for the model page: one row per version with
// its time, trigger, training examples, accuracy, macro-F1, live acceptance and whether it
// serves now. Fed with a LoopClient's versions() (the "details" of GET /versions, typed); rows
// are updated in place by version number so selection survives a refresh. Also writes the
// metrics history as CSV. GUI thread only.
#include "core/client/loopclient.h"

#include <QAbstractTableModel>

namespace loopdeck::gui {

class VersionsModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(VersionsModel)

public:
    enum Column {
        VersionColumn,
        CreatedColumn,
        TriggerColumn,
        ExamplesColumn,
        AccuracyColumn,
        MacroF1Column,
        AcceptanceColumn,
        ActiveColumn,
        ColumnCount
    };
    enum Role {
        SortRole = Qt::UserRole + 1, // numbers as numbers (missing values sort first)
        VersionRole,                 // int version number, any column
        DetailsRole,                 // the version's JSON object (VersionInfo::raw), any column
        ActiveRole,                  // bool, any column
    };

    explicit VersionsModel(QObject *parent = nullptr);

    // Replaces the rows with `versions` (of one project), ordered by version; versions below 1
    // are left out.
    void setVersions(const QList<client::VersionInfo> &versions);
    void clear();
    const QList<client::VersionInfo> &versions() const { return m_rows; }
    int rowOfVersion(int version) const;
    client::VersionInfo versionAt(int row) const; // version 0 when there is no such row
    int activeVersion() const; // 0 when none serves

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // "threshold" -> "Every N annotations", ... (translated).
    static QString triggerText(const QString &trigger);
    // The metrics history as CSV (RFC 4180, UTF-8, "." decimals, header row first): one row
    // per version with the columns listed in csvColumns().
    static QByteArray toCsv(QList<client::VersionInfo> versions);
    static QStringList csvColumns();

private:
    QList<client::VersionInfo> m_rows;
};

// The macro-F1 from a version's metrics (-1 when missing; VersionInfo has no field for it), and
// its short name.
double versionMacroF1(const client::VersionInfo &version);
QString versionName(const client::VersionInfo &version); // "v3"

} // namespace loopdeck::gui
