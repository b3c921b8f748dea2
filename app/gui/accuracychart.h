#pragma once
// The model page's chart: per model version, accuracy, macro-F1 and live acceptance as lines
// on a 0–1 axis (left) and the training examples as bars on a second axis (right); the active
// version is marked with a larger point, hovering a point or bar shows that version's values.
// The x axis is one slot per version (versions pruned by retention leave no gap); labels are
// thinned so that 1 and 100 versions both read. Fed with a LoopClient's versions(); GUI thread.
#include "core/client/loopclient.h"

#include <QChartView>

QT_BEGIN_NAMESPACE
class QBarSeries;
class QBarSet;
class QBarCategoryAxis;
class QCategoryAxis;
class QLineSeries;
class QScatterSeries;
class QValueAxis;
QT_END_NAMESPACE

namespace loopdeck::gui {

class AccuracyChart final : public QChartView
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AccuracyChart)

public:
    explicit AccuracyChart(QWidget *parent = nullptr);

    void setVersions(const QList<client::VersionInfo> &versions);

    // For tests: the series as drawn.
    QLineSeries *accuracySeries() const { return m_accuracy; }
    QLineSeries *macroF1Series() const { return m_macroF1; }
    QLineSeries *acceptanceSeries() const { return m_acceptance; }
    QBarSet *examplesSet() const { return m_examples; }
    QScatterSeries *activeMarker() const { return m_activeMarker; }
    // The x-axis labels shown (after thinning).
    QStringList axisLabels() const;
    // The text the hover tooltip shows for the version in slot `slot` (empty if none).
    QString toolTipFor(int slot) const;

private:
    void hover(const QPointF &point, bool state);
    void hoverBar(bool state, int index);

    QList<client::VersionInfo> m_versions;
    QLineSeries *m_accuracy = nullptr;
    QLineSeries *m_macroF1 = nullptr;
    QLineSeries *m_acceptance = nullptr;
    QScatterSeries *m_activeMarker = nullptr;
    QBarSeries *m_bars = nullptr;
    QBarSet *m_examples = nullptr;
    QCategoryAxis *m_xAxis = nullptr;
    QBarCategoryAxis *m_barAxis = nullptr;
    QValueAxis *m_scoreAxis = nullptr;
    QValueAxis *m_examplesAxis = nullptr;
};

} // namespace loopdeck::gui
