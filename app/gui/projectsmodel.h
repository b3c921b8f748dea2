#pragma once
// Table model of a server's projects for the dashboard: one row per project with its counts,
// the share of annotated tasks and the time of the refresh that brought them. Rows are updated
// in place by project id, so selection and scroll position survive the automatic refresh.
// The loop columns (active model version, its accuracy, loop state) come from the loop engine
// through setLoopSummary(). Used by MainWindow's projects table (through a
// QSortFilterProxyModel) and the tests.
#include "labelstudio/lstypes.h"

#include <QAbstractTableModel>
#include <QDateTime>
#include <QHash>

namespace loopdeck::gui {

// What the loop says about one project, for the dashboard.
struct LoopSummary {
    QString activeVersion; // "loopdeck-v3"; empty when none serves
    double accuracy = -1;  // the active version's; -1 when unknown
    QString state;         // "idle", "training", "queued", "off"; empty: not in the loop
    bool operator==(const LoopSummary &) const = default;
};

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
        ActiveVersionColumn,
        AccuracyColumn,
        LoopStateColumn,
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
    void setLoopSummary(int projectId, const LoopSummary &summary);
    // Forgets every loop summary (the window shows another loop engine).
    void clearLoopSummaries();
    LoopSummary loopSummary(int projectId) const { return m_loop.value(projectId); }
    int loopSummaryCount() const { return int(m_loop.size()); }
    // "Idle", "Training", ... (translated); "—" for a project outside the loop.
    static QString loopStateText(const QString &state);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QList<labelstudio::Project> m_projects;
    QDateTime m_refreshedAt;
    QHash<int, LoopSummary> m_loop;
};

} // namespace loopdeck::gui
