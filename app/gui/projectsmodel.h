#pragma once
// Table model of a server's projects for the dashboard: one row per project with its counts,
// the share of annotated tasks and the time of the refresh that brought them. Rows are updated
// in place by project id, so selection and scroll position survive the automatic refresh.
// Used by MainWindow's projects table (through a QSortFilterProxyModel) and the tests.
#include "labelstudio/lstypes.h"

#include <QAbstractTableModel>
#include <QDateTime>

namespace loopdeck::gui {

class ProjectsModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProjectsModel)

public:
    enum Column {
        TitleColumn,
        TasksColumn,
        AnnotatedColumn,
        DoneColumn,
        AnnotationsColumn,
        SkippedColumn,
        PredictionsColumn,
        RefreshedColumn,
        ColumnCount
    };
    enum Role {
        SortRole = Qt::UserRole + 1, // numbers as numbers, titles case-folded
        ProjectIdRole,
        FractionRole,                // DoneColumn: 0..1
    };

    explicit ProjectsModel(QObject *parent = nullptr);

    void setProjects(const QList<labelstudio::Project> &projects, const QDateTime &refreshedAt);
    const QList<labelstudio::Project> &projects() const { return m_projects; }
    int rowOf(int projectId) const;
    const labelstudio::Project *projectAt(int row) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QList<labelstudio::Project> m_projects;
    QDateTime m_refreshedAt;
};

} // namespace loopdeck::gui
