#pragma once
// Table models of one version's evaluation for the model page: the confusion matrix as a
// heat map (counts as text, cells shaded by their share of the row, so each true class reads
// as "where did its examples go") and the per-class precision / recall / F1 / support.
// Fed with the "metrics" object of a version (VersionInfo::metrics). Single-label
// matrices are truth x predicted; multi-label ones ("per_class_tn_fp_fn_tp") have one row per
// class with TN, FP, FN, TP. GUI thread only.
#include <QAbstractTableModel>
#include <QJsonObject>
#include <QStringList>

#include <vector>

namespace loopdeck::gui {

class ConfusionModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConfusionModel)

public:
    enum Role {
        CountRole = Qt::UserRole + 1, // int
        ShareRole,                    // double 0..1: count / row total (0 for an empty row)
    };

    explicit ConfusionModel(QObject *parent = nullptr);

    // `metrics`: the version's metrics object; anything malformed shows as an empty table.
    void setMetrics(const QJsonObject &metrics);
    void clear();
    bool isMultiLabel() const { return m_multiLabel; }
    QStringList labels() const { return m_labels; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // The heat-map colour of a share (0 = base colour, 1 = full accent), and a text colour
    // that stays readable on it.
    static QColor shade(double share, bool diagonal);
    static QColor textOn(const QColor &background);

private:
    QStringList m_labels;
    std::vector<std::vector<int>> m_matrix;
    std::vector<int> m_rowTotals;
    bool m_multiLabel = false;
};

class ClassMetricsModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ClassMetricsModel)

public:
    enum Column { ClassColumn, PrecisionColumn, RecallColumn, F1Column, SupportColumn, ColumnCount };
    enum Role { SortRole = Qt::UserRole + 1 };

    explicit ClassMetricsModel(QObject *parent = nullptr);

    void setMetrics(const QJsonObject &metrics);
    void clear();

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Row {
        QString label;
        double precision = 0;
        double recall = 0;
        double f1 = 0;
        int support = 0;
    };
    QList<Row> m_rows;
};

} // namespace loopdeck::gui
