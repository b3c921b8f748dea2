#include "gui/accuracychart.h"

#include "gui/versionsmodel.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QCategoryAxis>
#include <QCursor>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLocale>
#include <QScatterSeries>
#include <QToolTip>
#include <QValueAxis>

#include <cmath>

namespace loopdeck::gui {

namespace {

constexpr int kMaxAxisLabels = 12;      // thinned beyond this many versions
constexpr int kMaxVersionsWithPoints = 40;

QString ratioText(double value)
{
    return value < 0 ? QStringLiteral("—") : QLocale().toString(value, 'f', 3);
}

} // namespace

AccuracyChart::AccuracyChart(QWidget *parent)
    : QChartView(parent)
{
    setObjectName(QStringLiteral("accuracyChart"));
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(220);
    auto *chart = new QChart;
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->setBackgroundRoundness(0);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setAnimationOptions(QChart::NoAnimation);

    m_examples = new QBarSet(tr("Training examples"));
    m_examples->setColor(QColor(0xc9, 0xd6, 0xe8));
    m_examples->setBorderColor(QColor(0xa8, 0xb9, 0xd1));
    m_bars = new QBarSeries;
    m_bars->append(m_examples);
    m_bars->setBarWidth(0.6);
    chart->addSeries(m_bars);

    auto line = [&](const QString &name, const QColor &color, Qt::PenStyle style) {
        auto *s = new QLineSeries;
        s->setName(name);
        QPen pen(color);
        pen.setWidthF(2.2);
        pen.setStyle(style);
        s->setPen(pen);
        chart->addSeries(s);
        connect(s, &QLineSeries::hovered, this, &AccuracyChart::hover);
        return s;
    };
    m_accuracy = line(tr("Accuracy"), QColor(0x1f, 0x6f, 0xb4), Qt::SolidLine);
    m_macroF1 = line(tr("Macro-F1"), QColor(0xe0, 0x7b, 0x16), Qt::SolidLine);
    m_acceptance = line(tr("Live acceptance"), QColor(0x8e, 0x5b, 0xb5), Qt::DashLine);

    m_activeMarker = new QScatterSeries;
    m_activeMarker->setName(tr("Active version"));
    m_activeMarker->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
    m_activeMarker->setMarkerSize(13);
    m_activeMarker->setColor(QColor(0x2e, 0xa0, 0x43));
    m_activeMarker->setBorderColor(Qt::white);
    chart->addSeries(m_activeMarker);
    connect(m_activeMarker, &QScatterSeries::hovered, this, &AccuracyChart::hover);
    connect(m_examples, &QBarSet::hovered, this, &AccuracyChart::hoverBar);

    m_xAxis = new QCategoryAxis;
    m_xAxis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    m_xAxis->setGridLineVisible(false);
    m_barAxis = new QBarCategoryAxis;
    m_barAxis->setVisible(false);
    m_scoreAxis = new QValueAxis;
    m_scoreAxis->setRange(0.0, 1.0);
    m_scoreAxis->setTickCount(6);
    m_scoreAxis->setLabelFormat(QStringLiteral("%.1f"));
    m_scoreAxis->setTitleText(tr("Score"));
    m_examplesAxis = new QValueAxis;
    m_examplesAxis->setLabelFormat(QStringLiteral("%d"));
    m_examplesAxis->setGridLineVisible(false);
    m_examplesAxis->setTitleText(tr("Examples"));
    chart->addAxis(m_xAxis, Qt::AlignBottom);
    chart->addAxis(m_barAxis, Qt::AlignBottom);
    chart->addAxis(m_scoreAxis, Qt::AlignLeft);
    chart->addAxis(m_examplesAxis, Qt::AlignRight);
    m_bars->attachAxis(m_barAxis);
    m_bars->attachAxis(m_examplesAxis);
    for (QXYSeries *s : {static_cast<QXYSeries *>(m_accuracy), static_cast<QXYSeries *>(m_macroF1),
                         static_cast<QXYSeries *>(m_acceptance), static_cast<QXYSeries *>(m_activeMarker)}) {
        s->attachAxis(m_xAxis);
        s->attachAxis(m_scoreAxis);
    }
    setChart(chart);
    setVersions({});
}

void AccuracyChart::setVersions(const QList<client::VersionInfo> &versions)
{
    m_versions = versions;
    std::sort(m_versions.begin(), m_versions.end(),
              [](const client::VersionInfo &a, const client::VersionInfo &b) { return a.version < b.version; });
    const int n = int(m_versions.size());

    QList<QPointF> accuracy, macroF1, acceptance, active;
    QStringList categories;
    QList<qreal> examples;
    int maxExamples = 0;
    for (int i = 0; i < n; ++i) {
        const client::VersionInfo &v = m_versions[i];
        categories << versionName(v);
        const int ex = v.trainingExamples;
        examples << ex;
        maxExamples = std::max(maxExamples, ex);
        if (const double a = v.accuracy; a >= 0) {
            accuracy << QPointF(i, a);
            if (v.active)
                active << QPointF(i, a);
        }
        if (const double f = versionMacroF1(v); f >= 0)
            macroF1 << QPointF(i, f);
        if (const double r = v.liveAcceptance; r >= 0)
            acceptance << QPointF(i, r);
    }
    m_accuracy->replace(accuracy);
    m_macroF1->replace(macroF1);
    m_acceptance->replace(acceptance);
    m_activeMarker->replace(active);
    const bool points = n <= kMaxVersionsWithPoints;
    for (QLineSeries *s : {m_accuracy, m_macroF1, m_acceptance}) {
        s->setPointsVisible(points || n == 1);
        s->setMarkerSize(points ? 7 : 4);
    }

    m_examples->remove(0, m_examples->count());
    m_examples->append(examples);
    m_barAxis->clear();
    m_barAxis->append(categories);

    // One label every `step` versions (and the last one when it has room), so 100 versions
    // show about a dozen labels instead of an unreadable strip.
    for (const QString &label : m_xAxis->categoriesLabels())
        m_xAxis->remove(label);
    const int step = std::max(1, int(std::ceil(double(n) / kMaxAxisLabels)));
    for (int i = 0; i < n; ++i) {
        const bool last = i == n - 1 && (step == 1 || (n - 1) % step >= step / 2 + 1);
        if (i % step == 0 || last)
            m_xAxis->append(categories[i], i);
    }
    m_xAxis->setStartValue(-0.5);
    m_xAxis->setRange(-0.5, std::max(0.5, n - 0.5));
    if (n > 0)
        m_barAxis->setRange(categories.first(), categories.last());
    m_examplesAxis->setRange(0, std::max(10, int(std::ceil(maxExamples * 1.15))));
    m_examplesAxis->applyNiceNumbers();
}

QStringList AccuracyChart::axisLabels() const
{
    return m_xAxis->categoriesLabels();
}

QString AccuracyChart::toolTipFor(int slot) const
{
    if (slot < 0 || slot >= m_versions.size())
        return {};
    const client::VersionInfo &v = m_versions[slot];
    const QLocale locale;
    QString text = tr("<b>%1</b>%2 — %3")
                       .arg(v.name, v.active ? tr(" (active)") : QString(), VersionsModel::triggerText(v.trigger));
    text += QStringLiteral("<br>") + tr("Accuracy: %1").arg(ratioText(v.accuracy));
    text += QStringLiteral("<br>") + tr("Macro-F1: %1").arg(ratioText(versionMacroF1(v)));
    text += QStringLiteral("<br>") + tr("Live acceptance: %1").arg(ratioText(v.liveAcceptance));
    text += QStringLiteral("<br>") + tr("Training examples: %1").arg(locale.toString(v.trainingExamples));
    return text;
}

void AccuracyChart::hover(const QPointF &point, bool state)
{
    if (!state) {
        QToolTip::hideText();
        return;
    }
    QToolTip::showText(QCursor::pos(), toolTipFor(int(std::lround(point.x()))), this);
}

void AccuracyChart::hoverBar(bool state, int index)
{
    if (!state) {
        QToolTip::hideText();
        return;
    }
    QToolTip::showText(QCursor::pos(), toolTipFor(index), this);
}

} // namespace loopdeck::gui
