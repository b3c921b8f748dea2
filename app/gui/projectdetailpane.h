#pragma once
// Right-hand pane of the dashboard: everything about the selected project — all its counts,
// its label config summarised (which Text objects and Choices controls, their values, and
// whether the built-in text classifier can serve it and, if not, why) and a chart of
// annotations over time from the local store's progress snapshots.
// Created by MainWindow, which calls showProject() on selection and after each refresh.
#include "labelstudio/lstypes.h"
#include "store/store.h"

#include <QHash>
#include <QWidget>

class QChart;
class QChartView;
class QDateTimeAxis;
class QGroupBox;
class QLabel;
class QLineSeries;
class QStackedWidget;
class QValueAxis;

namespace loopdeck::gui {

class ProjectDetailPane final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProjectDetailPane)

public:
    explicit ProjectDetailPane(QWidget *parent = nullptr);

    void showProject(const labelstudio::Project &project, const QList<store::ProgressPoint> &history);
    void clear();
    int projectId() const { return m_projectId; }

    // For tests and screenshots: the label config summary as plain text, and whether the
    // built-in classifier can serve the shown project.
    QString labelConfigSummary() const;
    bool isServable() const { return m_servable; }
    QString countText(const QString &key) const;
    int chartPointCount() const;

private:
    void setPage(int index);
    void setCounts(const labelstudio::Project &project);
    void setLabelConfig(const QString &xml);
    void setHistory(const QList<store::ProgressPoint> &history);

    int m_projectId = 0;
    bool m_servable = false;
    QStackedWidget *m_stack;
    QLabel *m_title;
    QLabel *m_subtitle;
    QHash<QString, QLabel *> m_counts;
    QLabel *m_servableLabel;
    QLabel *m_configLabel;
    QChartView *m_chartView;
    QChart *m_chart;
    QLineSeries *m_annotationSeries;
    QLineSeries *m_taskSeries;
    QDateTimeAxis *m_timeAxis;
    QValueAxis *m_valueAxis;
    QLabel *m_chartHint;
};

} // namespace loopdeck::gui
