#pragma once
// Table model of one project's model versions for the model page: one row per version with
// its time, trigger, training examples, accuracy, macro-F1, live acceptance and whether it
// serves now. Fed with the loop engine's versionDetails() JSON (the same objects as the
// "details" of GET /versions); rows are updated in place by version number so selection
// survives a refresh. Also writes the metrics history as CSV. GUI thread only.
#include <QAbstractTableModel>
#include <QJsonArray>
#include <QJsonObject>

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
        DetailsRole,                 // the version's JSON object, any column
        ActiveRole,                  // bool, any column
    };

    explicit VersionsModel(QObject *parent = nullptr);

    // Replaces the rows with `details` (versionDetails() of one project), ordered by version.
    void setVersions(const QJsonArray &details);
    void clear();
    const QList<QJsonObject> &versions() const { return m_rows; }
    int rowOfVersion(int version) const;
    QJsonObject versionAt(int row) const;
    int activeVersion() const; // 0 when none serves

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // "threshold" -> "Every N annotations", ... (translated).
    static QString triggerText(const QString &trigger);
    // The metrics history as CSV (RFC 4180, UTF-8, "." decimals, header row first): one row
    // per version with the columns listed in csvColumns().
    static QByteArray toCsv(const QJsonArray &details);
    static QStringList csvColumns();

private:
    QList<QJsonObject> m_rows;
};

// Small accessors of a version's JSON object (missing numbers are -1).
double versionAccuracy(const QJsonObject &version);
double versionMacroF1(const QJsonObject &version);
double versionAcceptance(const QJsonObject &version);
QString versionName(const QJsonObject &version); // "v3"

} // namespace loopdeck::gui
