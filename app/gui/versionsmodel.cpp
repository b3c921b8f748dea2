#include "gui/versionsmodel.h"

#include <QColor>
#include <QDateTime>
#include <QFont>
#include <QHash>
#include <QLocale>
#include <QSet>

#include <algorithm>

namespace loopdeck::gui {

namespace {

const QString kMetrics = QStringLiteral("metrics");

QString csvField(const QString &text)
{
    if (!text.contains(QLatin1Char(',')) && !text.contains(QLatin1Char('"')) && !text.contains(QLatin1Char('\n'))
        && !text.contains(QLatin1Char('\r')))
        return text;
    QString quoted = text;
    quoted.replace(QLatin1String("\""), QLatin1String("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

QString csvNumber(double value, int decimals)
{
    return value < 0 ? QString() : QString::number(value, 'f', decimals);
}

} // namespace

double versionAccuracy(const QJsonObject &version)
{
    return version.value(kMetrics).toObject().value(QStringLiteral("accuracy")).toDouble(-1);
}

double versionMacroF1(const QJsonObject &version)
{
    return version.value(kMetrics).toObject().value(QStringLiteral("macro_f1")).toDouble(-1);
}

double versionAcceptance(const QJsonObject &version)
{
    const QJsonValue live = version.value(QStringLiteral("live_acceptance"));
    return live.isObject() ? live.toObject().value(QStringLiteral("rate")).toDouble(-1) : -1;
}

QString versionName(const QJsonObject &version)
{
    return QStringLiteral("v%1").arg(version.value(QStringLiteral("version")).toInt());
}

VersionsModel::VersionsModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void VersionsModel::clear()
{
    if (m_rows.isEmpty())
        return;
    beginResetModel();
    m_rows.clear();
    endResetModel();
}

void VersionsModel::setVersions(const QJsonArray &details)
{
    QList<QJsonObject> incoming;
    for (const QJsonValue &v : details)
        if (v.isObject() && v.toObject().value(QStringLiteral("version")).toInt() > 0)
            incoming.append(v.toObject());
    std::sort(incoming.begin(), incoming.end(), [](const QJsonObject &a, const QJsonObject &b) {
        return a.value(QStringLiteral("version")).toInt() < b.value(QStringLiteral("version")).toInt();
    });
    QSet<int> keep;
    for (const QJsonObject &v : std::as_const(incoming))
        keep.insert(v.value(QStringLiteral("version")).toInt());

    // Deleted versions go (from the bottom so row numbers stay valid).
    for (int row = int(m_rows.size()) - 1; row >= 0; --row) {
        if (!keep.contains(m_rows[row].value(QStringLiteral("version")).toInt())) {
            beginRemoveRows({}, row, row);
            m_rows.removeAt(row);
            endRemoveRows();
        }
    }
    // The rest are updated in place; new ones are inserted where their number belongs.
    for (const QJsonObject &v : std::as_const(incoming)) {
        const int version = v.value(QStringLiteral("version")).toInt();
        const int row = rowOfVersion(version);
        if (row >= 0) {
            if (m_rows[row] != v) {
                m_rows[row] = v;
                Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
            }
            continue;
        }
        int at = 0;
        while (at < m_rows.size() && m_rows[at].value(QStringLiteral("version")).toInt() < version)
            ++at;
        beginInsertRows({}, at, at);
        m_rows.insert(at, v);
        endInsertRows();
    }
}

int VersionsModel::rowOfVersion(int version) const
{
    for (int row = 0; row < m_rows.size(); ++row)
        if (m_rows[row].value(QStringLiteral("version")).toInt() == version)
            return row;
    return -1;
}

QJsonObject VersionsModel::versionAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows[row] : QJsonObject();
}

int VersionsModel::activeVersion() const
{
    for (const QJsonObject &v : m_rows)
        if (v.value(QStringLiteral("active")).toBool())
            return v.value(QStringLiteral("version")).toInt();
    return 0;
}

int VersionsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int VersionsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString VersionsModel::triggerText(const QString &trigger)
{
    if (trigger == u"threshold")
        return tr("Threshold");
    if (trigger == u"interval")
        return tr("Schedule");
    if (trigger == u"daily")
        return tr("Daily");
    if (trigger == u"start_training")
        return tr("Label Studio");
    if (trigger == u"manual")
        return tr("Manual");
    return trigger.isEmpty() ? tr("Unknown") : trigger;
}

QVariant VersionsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const QJsonObject &v = m_rows[index.row()];
    const int version = v.value(QStringLiteral("version")).toInt();
    const bool active = v.value(QStringLiteral("active")).toBool();
    switch (role) {
    case VersionRole: return version;
    case DetailsRole: return v;
    case ActiveRole: return active;
    default: break;
    }
    const QLocale locale;
    if (role == Qt::FontRole && active) {
        QFont bold;
        bold.setBold(true);
        return bold;
    }
    auto ratio = [&](double value) -> QVariant {
        switch (role) {
        case Qt::DisplayRole: return value < 0 ? QStringLiteral("—") : locale.toString(value, 'f', 3);
        case SortRole: return value;
        case Qt::TextAlignmentRole: return QVariant::fromValue(Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
        default: return {};
        }
    };

    switch (index.column()) {
    case VersionColumn:
        if (role == Qt::DisplayRole)
            return versionName(v);
        if (role == SortRole)
            return version;
        if (role == Qt::ToolTipRole)
            return v.value(QStringLiteral("name")).toString();
        return {};
    case CreatedColumn: {
        const QDateTime created = QDateTime::fromString(v.value(QStringLiteral("created")).toString(), Qt::ISODateWithMs);
        if (role == Qt::DisplayRole)
            return created.isValid() ? locale.toString(created.toLocalTime(), QStringLiteral("MMM d HH:mm")) : QString();
        if (role == SortRole)
            return created;
        if (role == Qt::ToolTipRole)
            return locale.toString(created.toLocalTime(), QLocale::LongFormat);
        return {};
    }
    case TriggerColumn:
        if (role == Qt::DisplayRole || role == SortRole)
            return triggerText(v.value(QStringLiteral("trigger")).toString());
        return {};
    case ExamplesColumn: {
        const int n = v.value(QStringLiteral("training_examples")).toInt();
        if (role == Qt::DisplayRole)
            return locale.toString(n);
        if (role == SortRole)
            return n;
        if (role == Qt::TextAlignmentRole)
            return QVariant::fromValue(Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
        return {};
    }
    case AccuracyColumn:
        if (role == Qt::ToolTipRole)
            return v.value(kMetrics).toObject().value(QStringLiteral("evaluation")).toString();
        return ratio(versionAccuracy(v));
    case MacroF1Column: return ratio(versionMacroF1(v));
    case AcceptanceColumn: {
        if (role == Qt::ToolTipRole) {
            const QJsonObject live = v.value(QStringLiteral("live_acceptance")).toObject();
            if (live.isEmpty())
                return tr("No annotation has been compared with this version's predictions yet");
            return tr("%1 of %2 annotations kept this version's prediction")
                .arg(live.value(QStringLiteral("accepted")).toInt())
                .arg(live.value(QStringLiteral("total")).toInt());
        }
        return ratio(versionAcceptance(v));
    }
    case ActiveColumn:
        if (role == Qt::DisplayRole)
            return active ? tr("Active") : QString();
        if (role == SortRole)
            return active ? 1 : 0;
        if (role == Qt::TextAlignmentRole)
            return QVariant::fromValue(Qt::Alignment(Qt::AlignCenter));
        if (role == Qt::ForegroundRole && active)
            return QColor(0x2e, 0xa0, 0x43);
        return {};
    default: return {};
    }
}

QVariant VersionsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case TriggerColumn: return tr("What started the training run");
        case ExamplesColumn: return tr("Annotated tasks the version was trained on");
        case AccuracyColumn: return tr("Share of held-out examples classified correctly");
        case MacroF1Column: return tr("F1 score averaged over the classes, each class counting the same");
        case AcceptanceColumn: return tr("Share of annotations that kept the label this version predicted");
        case ActiveColumn: return tr("The version that answers Label Studio now");
        default: return {};
        }
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case VersionColumn: return tr("Version");
    case CreatedColumn: return tr("Trained");
    case TriggerColumn: return tr("Trigger");
    case ExamplesColumn: return tr("Examples");
    case AccuracyColumn: return tr("Accuracy");
    case MacroF1Column: return tr("Macro-F1");
    case AcceptanceColumn: return tr("Live");
    case ActiveColumn: return tr("Serving");
    default: return {};
    }
}

QStringList VersionsModel::csvColumns()
{
    return {QStringLiteral("version"),          QStringLiteral("name"),           QStringLiteral("created"),
            QStringLiteral("trigger"),          QStringLiteral("training_examples"), QStringLiteral("accuracy"),
            QStringLiteral("macro_f1"),         QStringLiteral("live_acceptance"), QStringLiteral("live_accepted"),
            QStringLiteral("live_total"),       QStringLiteral("evaluation"),     QStringLiteral("duration_ms"),
            QStringLiteral("active")};
}

QByteArray VersionsModel::toCsv(const QJsonArray &details)
{
    QList<QJsonObject> rows;
    for (const QJsonValue &v : details)
        if (v.isObject())
            rows.append(v.toObject());
    std::sort(rows.begin(), rows.end(), [](const QJsonObject &a, const QJsonObject &b) {
        return a.value(QStringLiteral("version")).toInt() < b.value(QStringLiteral("version")).toInt();
    });
    QString out = csvColumns().join(QLatin1Char(',')) + QStringLiteral("\r\n");
    for (const QJsonObject &v : std::as_const(rows)) {
        const QJsonObject metrics = v.value(kMetrics).toObject();
        const QJsonObject live = v.value(QStringLiteral("live_acceptance")).toObject();
        const QJsonValue duration = metrics.value(QStringLiteral("duration_ms"));
        const QStringList fields = {
            QString::number(v.value(QStringLiteral("version")).toInt()),
            csvField(v.value(QStringLiteral("name")).toString()),
            csvField(v.value(QStringLiteral("created")).toString()),
            csvField(v.value(QStringLiteral("trigger")).toString()),
            QString::number(v.value(QStringLiteral("training_examples")).toInt()),
            csvNumber(versionAccuracy(v), 6),
            csvNumber(versionMacroF1(v), 6),
            csvNumber(versionAcceptance(v), 6),
            live.isEmpty() ? QString() : QString::number(live.value(QStringLiteral("accepted")).toInt()),
            live.isEmpty() ? QString() : QString::number(live.value(QStringLiteral("total")).toInt()),
            csvField(metrics.value(QStringLiteral("evaluation")).toString()),
            duration.isDouble() ? QString::number(qint64(duration.toDouble())) : QString(),
            v.value(QStringLiteral("active")).toBool() ? QStringLiteral("1") : QStringLiteral("0"),
        };
        out += fields.join(QLatin1Char(',')) + QStringLiteral("\r\n");
    }
    return out.toUtf8();
}

} // namespace loopdeck::gui
