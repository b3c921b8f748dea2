#include "gui/projectsmodel.h"

#include <QHash>
#include <QLocale>
#include <QSet>

namespace loopdeck::gui {

ProjectsModel::ProjectsModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void ProjectsModel::setProjects(const QList<labelstudio::Project> &projects, const QDateTime &refreshedAt)
{
    m_refreshedAt = refreshedAt;
    QSet<int> incoming;
    for (const auto &p : projects)
        incoming.insert(p.id);

    // Remove rows whose project is gone (from the bottom, so row numbers stay valid).
    for (int row = int(m_projects.size()) - 1; row >= 0; --row) {
        if (!incoming.contains(m_projects[row].id)) {
            beginRemoveRows({}, row, row);
            m_projects.removeAt(row);
            endRemoveRows();
        }
    }
    // Update the rows that stay, append the new ones in server order.
    QHash<int, int> rowById;
    for (int row = 0; row < m_projects.size(); ++row)
        rowById.insert(m_projects[row].id, row);
    QList<labelstudio::Project> added;
    for (const auto &p : projects) {
        if (const auto it = rowById.constFind(p.id); it != rowById.constEnd())
            m_projects[*it] = p;
        else
            added.append(p);
    }
    if (!m_projects.isEmpty())
        Q_EMIT dataChanged(index(0, 0), index(int(m_projects.size()) - 1, ColumnCount - 1));
    if (!added.isEmpty()) {
        const int first = int(m_projects.size());
        beginInsertRows({}, first, first + int(added.size()) - 1);
        m_projects.append(added);
        endInsertRows();
    }
}

int ProjectsModel::rowOf(int projectId) const
{
    for (int row = 0; row < m_projects.size(); ++row)
        if (m_projects[row].id == projectId)
            return row;
    return -1;
}

void ProjectsModel::setLoopSummary(int projectId, const LoopSummary &summary)
{
    if (m_loop.value(projectId) == summary && m_loop.contains(projectId))
        return;
    m_loop.insert(projectId, summary);
    if (const int row = rowOf(projectId); row >= 0)
        Q_EMIT dataChanged(index(row, ActiveVersionColumn), index(row, LoopStateColumn));
}

void ProjectsModel::clearLoopSummaries()
{
    if (m_loop.isEmpty())
        return;
    m_loop.clear();
    if (!m_projects.isEmpty())
        Q_EMIT dataChanged(index(0, ActiveVersionColumn), index(int(m_projects.size()) - 1, LoopStateColumn));
}

QString ProjectsModel::loopStateText(const QString &state)
{
    if (state == u"idle")
        return tr("Idle");
    if (state == u"training")
        return tr("Training");
    if (state == u"queued")
        return tr("Queued");
    if (state == u"off")
        return tr("Off");
    return QStringLiteral("—");
}

const labelstudio::Project *ProjectsModel::projectAt(int row) const
{
    return row >= 0 && row < m_projects.size() ? &m_projects[row] : nullptr;
}

int ProjectsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_projects.size());
}

int ProjectsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ProjectsModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_projects.size())
        return {};
    const labelstudio::Project &p = m_projects[index.row()];
    const labelstudio::ProjectCounts &c = p.counts;
    const QLocale locale;

    if (role == ProjectIdRole)
        return p.id;
    if (role == FractionRole)
        return c.doneFraction();

    auto number = [&](qint64 n) -> QVariant {
        if (role == Qt::DisplayRole)
            return locale.toString(n);
        if (role == SortRole)
            return n;
        if (role == Qt::TextAlignmentRole)
            return QVariant::fromValue(Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
        return {};
    };

    switch (index.column()) {
    case TitleColumn:
        if (role == Qt::DisplayRole)
            return p.title.isEmpty() ? tr("(untitled #%1)").arg(p.id) : p.title;
        if (role == SortRole)
            return p.title.toCaseFolded();
        if (role == Qt::ToolTipRole)
            return p.description.isEmpty() ? tr("Project #%1").arg(p.id)
                                           : tr("Project #%1 — %2").arg(p.id).arg(p.description);
        return {};
    case TasksColumn: return number(c.taskNumber);
    case AnnotatedColumn: return number(c.tasksWithAnnotations);
    case DoneColumn:
        if (role == Qt::DisplayRole)
            return QString(locale.toString(c.doneFraction() * 100.0, 'f', 0) + locale.percent());
        if (role == SortRole)
            return c.doneFraction();
        if (role == Qt::ToolTipRole)
            return tr("%1 of %2 tasks have at least one annotation")
                .arg(locale.toString(c.tasksWithAnnotations), locale.toString(c.taskNumber));
        return {};
    case AnnotationsColumn: return number(c.totalAnnotations);
    case SkippedColumn: return number(c.skippedAnnotations);
    case PredictionsColumn: return number(c.totalPredictions);
    case ActiveVersionColumn: {
        const QString version = m_loop.value(p.id).activeVersion;
        if (role == Qt::DisplayRole)
            return version.isEmpty() ? QStringLiteral("—") : version;
        if (role == SortRole)
            return version.mid(version.lastIndexOf(QLatin1Char('v')) + 1).toInt();
        return {};
    }
    case AccuracyColumn: {
        const double accuracy = m_loop.value(p.id).accuracy;
        if (role == Qt::DisplayRole)
            return accuracy < 0 ? QStringLiteral("—") : locale.toString(accuracy, 'f', 3);
        if (role == SortRole)
            return accuracy;
        if (role == Qt::TextAlignmentRole)
            return QVariant::fromValue(Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
        return {};
    }
    case LoopStateColumn: {
        const QString state = m_loop.value(p.id).state;
        if (role == Qt::DisplayRole || role == SortRole)
            return loopStateText(state);
        if (role == Qt::ToolTipRole && state.isEmpty())
            return tr("The loop does not serve this project; connect the ML backend to it");
        return {};
    }
    case RefreshedColumn:
        if (role == Qt::DisplayRole)
            return m_refreshedAt.isValid() ? locale.toString(m_refreshedAt.toLocalTime().time(), QLocale::ShortFormat)
                                           : QString();
        if (role == SortRole)
            return m_refreshedAt;
        if (role == Qt::ToolTipRole)
            return locale.toString(m_refreshedAt.toLocalTime(), QLocale::LongFormat);
        return {};
    default: return {};
    }
}

QVariant ProjectsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::TextAlignmentRole)
        return QVariant::fromValue(section == TitleColumn ? Qt::Alignment(Qt::AlignLeft | Qt::AlignVCenter)
                                                          : Qt::Alignment(Qt::AlignCenter));
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case TasksColumn: return tr("Tasks in the project");
        case AnnotatedColumn: return tr("Tasks with at least one annotation");
        case DoneColumn: return tr("Share of tasks with at least one annotation");
        case AnnotationsColumn: return tr("Annotations, all tasks together");
        case SkippedColumn: return tr("Annotations that were skipped");
        case PredictionsColumn: return tr("Predictions stored in Label Studio");
        case ActiveVersionColumn: return tr("The model version that answers Label Studio");
        case AccuracyColumn: return tr("Accuracy of the active model version");
        case LoopStateColumn: return tr("What the loop is doing for this project");
        case RefreshedColumn: return tr("When these counts were fetched");
        default: return {};
        }
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TitleColumn: return tr("Project");
    case TasksColumn: return tr("Tasks");
    case AnnotatedColumn: return tr("Annotated");
    case DoneColumn: return tr("Done");
    case AnnotationsColumn: return tr("Annotations");
    case SkippedColumn: return tr("Skipped");
    case PredictionsColumn: return tr("Predictions");
    case ActiveVersionColumn: return tr("Model");
    case AccuracyColumn: return tr("Accuracy");
    case LoopStateColumn: return tr("Loop");
    case RefreshedColumn: return tr("Last refresh");
    default: return {};
    }
}

} // namespace loopdeck::gui
