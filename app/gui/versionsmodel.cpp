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

// The kept predictions behind liveAcceptance (VersionInfo has the share and the total).
int liveAccepted(const client::VersionInfo &version)
{
    return version.raw.value(QStringLiteral("live_acceptance")).toObject().value(QStringLiteral("accepted")).toInt();
}

// Whether a row would show anything different: every field, and raw (the live counts and
// anything else no field holds).
bool sameVersion(const client::VersionInfo &a, const client::VersionInfo &b)
{
    return a.version == b.version && a.name == b.name && a.created == b.created && a.trigger == b.trigger
        && a.active == b.active && a.trainingExamples == b.trainingExamples && a.accuracy == b.accuracy
        && a.liveAcceptance == b.liveAcceptance && a.liveTotal == b.liveTotal && a.durationMs == b.durationMs
        && a.metrics == b.metrics && a.raw == b.raw;
}

} // namespace

double versionMacroF1(const client::VersionInfo &version)
{
    return version.metrics.value(QStringLiteral("macro_f1")).toDouble(-1);
}

QString versionName(const client::VersionInfo &version)
{
    return QStringLiteral("v%1").arg(version.version);
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

void VersionsModel::setVersions(const QList<client::VersionInfo> &versions)
{
    QList<client::VersionInfo> incoming;
    for (const client::VersionInfo &v : versions)
        if (v.version > 0)
            incoming.append(v);
    std::sort(incoming.begin(), incoming.end(),
              [](const client::VersionInfo &a, const client::VersionInfo &b) { return a.version < b.version; });
    QSet<int> keep;
    for (const client::VersionInfo &v : std::as_const(incoming))
        keep.insert(v.version);

    // Deleted versions go (from the bottom so row numbers stay valid).
    for (int row = int(m_rows.size()) - 1; row >= 0; --row) {
        if (!keep.contains(m_rows[row].version)) {
            beginRemoveRows({}, row, row);
            m_rows.removeAt(row);
            endRemoveRows();
        }
    }
    // The rest are updated in place; new ones are inserted where their number belongs.
    for (const client::VersionInfo &v : std::as_const(incoming)) {
        const int row = rowOfVersion(v.version);
        if (row >= 0) {
            if (!sameVersion(m_rows[row], v)) {
                m_rows[row] = v;
                Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
            }
            continue;
        }
        int at = 0;
        while (at < m_rows.size() && m_rows[at].version < v.version)
            ++at;
        beginInsertRows({}, at, at);
        m_rows.insert(at, v);
        endInsertRows();
    }
}

int VersionsModel::rowOfVersion(int version) const
{
    for (int row = 0; row < m_rows.size(); ++row)
        if (m_rows[row].version == version)
            return row;
    return -1;
}

client::VersionInfo VersionsModel::versionAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows[row] : client::VersionInfo();
}

int VersionsModel::activeVersion() const
{
    for (const client::VersionInfo &v : m_rows)
        if (v.active)
            return v.version;
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
    const client::VersionInfo &v = m_rows[index.row()];
    const int version = v.version;
    const bool active = v.active;
    switch (role) {
    case VersionRole: return version;
    case DetailsRole: return v.raw;
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
            return v.name;
        return {};
    case CreatedColumn: {
        const QDateTime &created = v.created;
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
            return triggerText(v.trigger);
        return {};
    case ExamplesColumn: {
        const int n = v.trainingExamples;
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
            return v.metrics.value(QStringLiteral("evaluation")).toString();
        return ratio(v.accuracy);
    case MacroF1Column: return ratio(versionMacroF1(v));
    case AcceptanceColumn: {
        if (role == Qt::ToolTipRole) {
            if (v.liveAcceptance < 0)
                return tr("No annotation has been compared with this version's predictions yet");
            return tr("%1 of %2 annotations kept this version's prediction").arg(liveAccepted(v)).arg(v.liveTotal);
        }
        return ratio(v.liveAcceptance);
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

QByteArray VersionsModel::toCsv(QList<client::VersionInfo> versions)
{
    std::sort(versions.begin(), versions.end(),
              [](const client::VersionInfo &a, const client::VersionInfo &b) { return a.version < b.version; });
    QString out = csvColumns().join(QLatin1Char(',')) + QStringLiteral("\r\n");
    for (const client::VersionInfo &v : std::as_const(versions)) {
        const bool live = v.liveAcceptance >= 0;
        const QStringList fields = {
            QString::number(v.version),
            csvField(v.name),
            v.created.isValid() ? v.created.toUTC().toString(Qt::ISODateWithMs) : QString(),
            csvField(v.trigger),
            QString::number(v.trainingExamples),
            csvNumber(v.accuracy, 6),
            csvNumber(versionMacroF1(v), 6),
            csvNumber(v.liveAcceptance, 6),
            live ? QString::number(liveAccepted(v)) : QString(),
            live ? QString::number(v.liveTotal) : QString(),
            csvField(v.metrics.value(QStringLiteral("evaluation")).toString()),
            // 0 ms is a real duration; a version without one has an empty field
            v.metrics.value(QStringLiteral("duration_ms")).isDouble() ? QString::number(v.durationMs) : QString(),
            v.active ? QStringLiteral("1") : QStringLiteral("0"),
        };
        out += fields.join(QLatin1Char(',')) + QStringLiteral("\r\n");
    }
    return out.toUtf8();
}

} // namespace loopdeck::gui
