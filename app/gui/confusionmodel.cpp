#include "gui/confusionmodel.h"

#include <QColor>
#include <QJsonArray>
#include <QLocale>

namespace loopdeck::gui {

// ---- ConfusionModel -------------------------------------------------------------------------

ConfusionModel::ConfusionModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void ConfusionModel::clear()
{
    beginResetModel();
    m_labels.clear();
    m_matrix.clear();
    m_rowTotals.clear();
    m_multiLabel = false;
    endResetModel();
}

void ConfusionModel::setMetrics(const QJsonObject &metrics)
{
    beginResetModel();
    m_labels.clear();
    m_matrix.clear();
    m_rowTotals.clear();
    const QJsonObject confusion = metrics.value(QStringLiteral("confusion")).toObject();
    m_multiLabel = confusion.value(QStringLiteral("layout")).toString() == u"per_class_tn_fp_fn_tp";
    QStringList labels;
    for (const QJsonValue &l : confusion.value(QStringLiteral("labels")).toArray())
        labels << l.toString();
    const QJsonArray matrix = confusion.value(QStringLiteral("matrix")).toArray();
    const qsizetype columns = m_multiLabel ? 4 : labels.size();
    bool wellFormed = matrix.size() == labels.size();
    std::vector<std::vector<int>> rows;
    for (const QJsonValue &r : matrix) {
        const QJsonArray row = r.toArray();
        if (row.size() != columns) {
            wellFormed = false;
            break;
        }
        std::vector<int> values;
        for (const QJsonValue &v : row)
            values.push_back(std::max(0, v.toInt()));
        rows.push_back(std::move(values));
    }
    if (wellFormed) {
        m_labels = labels;
        m_matrix = std::move(rows);
        for (const auto &row : m_matrix) {
            int total = 0;
            for (int v : row)
                total += v;
            m_rowTotals.push_back(total);
        }
    }
    endResetModel();
}

int ConfusionModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_matrix.size());
}

int ConfusionModel::columnCount(const QModelIndex &parent) const
{
    if (parent.isValid() || m_matrix.empty())
        return 0;
    return m_multiLabel ? 4 : int(m_labels.size());
}

QColor ConfusionModel::shade(double share, bool diagonal)
{
    share = std::clamp(share, 0.0, 1.0);
    // Diagonal (correct) in green, off-diagonal (confusions) in red, from a pale base.
    const QColor base(0xf7, 0xf7, 0xf7);
    const QColor accent = diagonal ? QColor(0x1b, 0x7f, 0x3b) : QColor(0xc6, 0x28, 0x28);
    auto mix = [&](int a, int b) { return int(a + (b - a) * share); };
    return QColor(mix(base.red(), accent.red()), mix(base.green(), accent.green()), mix(base.blue(), accent.blue()));
}

QColor ConfusionModel::textOn(const QColor &background)
{
    const double luminance = 0.299 * background.redF() + 0.587 * background.greenF() + 0.114 * background.blueF();
    return luminance < 0.55 ? QColor(Qt::white) : QColor(0x20, 0x20, 0x20);
}

QVariant ConfusionModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const int count = m_matrix[size_t(index.row())][size_t(index.column())];
    const int total = m_rowTotals[size_t(index.row())];
    const double share = total > 0 ? double(count) / total : 0.0;
    // Multi-label: TN and TP are the correct cells.
    const bool correct = m_multiLabel ? (index.column() == 0 || index.column() == 3) : index.row() == index.column();
    switch (role) {
    case Qt::DisplayRole: return QLocale().toString(count);
    case CountRole: return count;
    case ShareRole: return share;
    case Qt::TextAlignmentRole: return QVariant::fromValue(Qt::Alignment(Qt::AlignCenter));
    case Qt::BackgroundRole: return shade(share, correct);
    case Qt::ForegroundRole: return textOn(shade(share, correct));
    case Qt::ToolTipRole: {
        const QString percent = QLocale().toString(share * 100.0, 'f', 1);
        if (m_multiLabel)
            return tr("%1: %2 (%3% of the class's examples)")
                .arg(m_labels.value(index.row()), headerData(index.column(), Qt::Horizontal).toString())
                .arg(percent);
        return tr("True %1, predicted %2: %3 examples (%4% of the row)")
            .arg(m_labels.value(index.row()), m_labels.value(index.column()))
            .arg(count)
            .arg(percent);
    }
    default: return {};
    }
}

QVariant ConfusionModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role == Qt::ToolTipRole) {
        if (orientation == Qt::Vertical)
            return m_multiLabel ? tr("Class") : tr("True class");
        return m_multiLabel ? QVariant() : QVariant(tr("Predicted class"));
    }
    if (role != Qt::DisplayRole)
        return {};
    if (orientation == Qt::Vertical)
        return m_labels.value(section);
    if (m_multiLabel) {
        switch (section) {
        case 0: return tr("TN");
        case 1: return tr("FP");
        case 2: return tr("FN");
        case 3: return tr("TP");
        default: return {};
        }
    }
    return m_labels.value(section);
}

// ---- ClassMetricsModel ----------------------------------------------------------------------

ClassMetricsModel::ClassMetricsModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void ClassMetricsModel::clear()
{
    beginResetModel();
    m_rows.clear();
    endResetModel();
}

void ClassMetricsModel::setMetrics(const QJsonObject &metrics)
{
    beginResetModel();
    m_rows.clear();
    for (const QJsonValue &v : metrics.value(QStringLiteral("per_class")).toArray()) {
        const QJsonObject o = v.toObject();
        if (o.isEmpty())
            continue;
        m_rows.append(Row{o.value(QStringLiteral("label")).toString(), o.value(QStringLiteral("precision")).toDouble(),
                          o.value(QStringLiteral("recall")).toDouble(), o.value(QStringLiteral("f1")).toDouble(),
                          o.value(QStringLiteral("support")).toInt()});
    }
    endResetModel();
}

int ClassMetricsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ClassMetricsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ClassMetricsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows[index.row()];
    const QLocale locale;
    if (role == Qt::TextAlignmentRole)
        return QVariant::fromValue(index.column() == ClassColumn ? Qt::Alignment(Qt::AlignLeft | Qt::AlignVCenter)
                                                                 : Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
    if (role != Qt::DisplayRole && role != SortRole)
        return {};
    const bool display = role == Qt::DisplayRole;
    switch (index.column()) {
    case ClassColumn: return r.label;
    case PrecisionColumn: return display ? QVariant(locale.toString(r.precision, 'f', 3)) : QVariant(r.precision);
    case RecallColumn: return display ? QVariant(locale.toString(r.recall, 'f', 3)) : QVariant(r.recall);
    case F1Column: return display ? QVariant(locale.toString(r.f1, 'f', 3)) : QVariant(r.f1);
    case SupportColumn: return display ? QVariant(locale.toString(r.support)) : QVariant(r.support);
    default: return {};
    }
}

QVariant ClassMetricsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case PrecisionColumn: return tr("Of the examples predicted as this class, the share that belong to it");
        case RecallColumn: return tr("Of the examples of this class, the share found");
        case F1Column: return tr("Harmonic mean of precision and recall");
        case SupportColumn: return tr("Held-out examples of this class");
        default: return {};
        }
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case ClassColumn: return tr("Class");
    case PrecisionColumn: return tr("Precision");
    case RecallColumn: return tr("Recall");
    case F1Column: return tr("F1");
    case SupportColumn: return tr("Support");
    default: return {};
    }
}

} // namespace loopdeck::gui
