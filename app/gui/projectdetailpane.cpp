#include "gui/projectdetailpane.h"

#include "labelconfig/labelconfig.h"

#include <QChart>
#include <QChartView>
#include <QDateTimeAxis>
#include <QGraphicsLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineSeries>
#include <QLocale>
#include <QStackedWidget>
#include <QTextDocument>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <optional>

namespace loopdeck::gui {
namespace {

QLabel *makeValueLabel(QWidget *parent)
{
    auto *l = new QLabel(parent);
    l->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont f = l->font();
    f.setBold(true);
    l->setFont(f);
    return l;
}

double niceCeiling(double v)
{
    if (v <= 4)
        return 4;
    const double magnitude = std::pow(10.0, std::floor(std::log10(v)));
    for (double step : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (step * magnitude >= v)
            return step * magnitude;
    return 10 * magnitude;
}

} // namespace

ProjectDetailPane::ProjectDetailPane(QWidget *parent)
    : QWidget(parent)
    , m_stack(new QStackedWidget(this))
    , m_title(new QLabel(this))
    , m_subtitle(new QLabel(this))
    , m_servableLabel(new QLabel(this))
    , m_configLabel(new QLabel(this))
    , m_chartView(new QChartView(this))
    , m_chart(new QChart)
    , m_annotationSeries(new QLineSeries)
    , m_taskSeries(new QLineSeries)
    , m_timeAxis(new QDateTimeAxis)
    , m_valueAxis(new QValueAxis)
    , m_chartHint(new QLabel(this))
{
    setObjectName(QStringLiteral("projectDetailPane"));
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(m_stack);

    // Page 0: nothing selected.
    auto *empty = new QLabel(tr("Select a project to see its details."), m_stack);
    empty->setAlignment(Qt::AlignCenter);
    empty->setWordWrap(true);
    empty->setEnabled(false);
    m_stack->addWidget(empty);

    // Page 1: the project.
    auto *page = new QWidget(m_stack);
    auto *layout = new QVBoxLayout(page);
    layout->setContentsMargins(12, 8, 8, 8);
    layout->setSpacing(8);

    QFont titleFont = m_title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.35);
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    m_title->setWordWrap(true);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_subtitle->setWordWrap(true);
    m_subtitle->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(m_title);
    layout->addWidget(m_subtitle);

    auto *countsBox = new QGroupBox(tr("Progress"), page);
    auto *grid = new QGridLayout(countsBox);
    grid->setHorizontalSpacing(18);
    grid->setVerticalSpacing(4);
    const QList<std::pair<QString, QString>> rows = {
        {QStringLiteral("tasks"), tr("Tasks")},
        {QStringLiteral("annotated"), tr("Annotated tasks")},
        {QStringLiteral("done"), tr("Done")},
        {QStringLiteral("finished"), tr("Finished tasks")},
        {QStringLiteral("annotations"), tr("Annotations")},
        {QStringLiteral("useful"), tr("Useful annotations")},
        {QStringLiteral("skipped"), tr("Skipped")},
        {QStringLiteral("groundTruth"), tr("Ground truth")},
        {QStringLiteral("predictions"), tr("Predictions")},
        {QStringLiteral("modelVersion"), tr("Model version")},
    };
    // Two label/value pairs per row.
    for (int i = 0; i < rows.size(); ++i) {
        const int r = i / 2;
        const int c = (i % 2) * 2;
        auto *name = new QLabel(rows[i].second, countsBox);
        auto *value = makeValueLabel(countsBox);
        grid->addWidget(name, r, c);
        grid->addWidget(value, r, c + 1);
        m_counts.insert(rows[i].first, value);
    }
    grid->setColumnStretch(1, 1);
    grid->setColumnStretch(3, 1);
    grid->setColumnMinimumWidth(2, 0);
    layout->addWidget(countsBox);

    auto *configBox = new QGroupBox(tr("Label config"), page);
    auto *configLayout = new QVBoxLayout(configBox);
    m_servableLabel->setWordWrap(true);
    m_servableLabel->setTextFormat(Qt::RichText);
    m_configLabel->setWordWrap(true);
    m_configLabel->setTextFormat(Qt::RichText);
    m_configLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    configLayout->addWidget(m_servableLabel);
    configLayout->addWidget(m_configLabel);
    layout->addWidget(configBox);

    auto *chartBox = new QGroupBox(tr("Annotations over time"), page);
    auto *chartLayout = new QVBoxLayout(chartBox);
    chartLayout->setContentsMargins(4, 4, 4, 4);
    m_annotationSeries->setName(tr("Annotations"));
    m_taskSeries->setName(tr("Annotated tasks"));
    m_chart->addSeries(m_annotationSeries);
    m_chart->addSeries(m_taskSeries);
    m_chart->addAxis(m_timeAxis, Qt::AlignBottom);
    m_chart->addAxis(m_valueAxis, Qt::AlignLeft);
    for (QLineSeries *s : {m_annotationSeries, m_taskSeries}) {
        s->attachAxis(m_timeAxis);
        s->attachAxis(m_valueAxis);
        QPen pen = s->pen();
        pen.setWidthF(2.0);
        s->setPen(pen);
    }
    m_annotationSeries->setColor(QColor(0x2f, 0x6f, 0xd0));
    m_taskSeries->setColor(QColor(0x2a, 0xa1, 0x7a));
    {
        QPen dashed = m_taskSeries->pen();
        dashed.setStyle(Qt::DashLine);
        m_taskSeries->setPen(dashed);
    }
    m_valueAxis->setLabelFormat(QStringLiteral("%i"));
    m_valueAxis->setMin(0);
    m_timeAxis->setTickCount(5);
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    m_chart->setMargins(QMargins(4, 4, 4, 4));
    m_chart->setBackgroundRoundness(0);
    m_chart->layout()->setContentsMargins(0, 0, 0, 0);
    m_chart->setAnimationOptions(QChart::NoAnimation);
    m_chartView->setChart(m_chart);
    m_chartView->setRenderHint(QPainter::Antialiasing);
    m_chartView->setMinimumHeight(200);
    m_chartHint->setWordWrap(true);
    m_chartHint->setForegroundRole(QPalette::PlaceholderText);
    chartLayout->addWidget(m_chartView, 1);
    chartLayout->addWidget(m_chartHint);
    layout->addWidget(chartBox, 1);

    m_stack->addWidget(page);
    clear();
}

void ProjectDetailPane::setPage(int index)
{
    // Only the visible page counts for the size, so the empty page never needs a scroll bar.
    for (int i = 0; i < m_stack->count(); ++i) {
        const bool current = i == index;
        m_stack->widget(i)->setSizePolicy(current ? QSizePolicy::Preferred : QSizePolicy::Ignored,
                                          current ? QSizePolicy::Preferred : QSizePolicy::Ignored);
    }
    m_stack->setCurrentIndex(index);
    m_stack->updateGeometry();
}

void ProjectDetailPane::clear()
{
    m_projectId = 0;
    m_servable = false;
    setPage(0);
}

void ProjectDetailPane::showProject(const labelstudio::Project &project, const QList<store::ProgressPoint> &history)
{
    m_projectId = project.id;
    m_title->setText(project.title.isEmpty() ? tr("(untitled #%1)").arg(project.id) : project.title);
    const QLocale locale;
    QStringList sub;
    sub << tr("Project #%1").arg(project.id);
    if (!project.createdBy.isEmpty())
        sub << tr("created by %1").arg(project.createdBy);
    if (project.createdAt.isValid())
        sub << locale.toString(project.createdAt.toLocalTime().date(), QLocale::ShortFormat);
    m_subtitle->setText(sub.join(QStringLiteral(" · ")));
    m_subtitle->setToolTip(project.description);
    setCounts(project);
    setLabelConfig(project.labelConfig);
    setHistory(history);
    setPage(1);
}

void ProjectDetailPane::setCounts(const labelstudio::Project &project)
{
    const QLocale locale;
    const auto &c = project.counts;
    auto set = [&](const char *key, qint64 n) { m_counts.value(QString::fromLatin1(key))->setText(locale.toString(n)); };
    set("tasks", c.taskNumber);
    set("annotated", c.tasksWithAnnotations);
    set("finished", c.finishedTasks);
    set("annotations", c.totalAnnotations);
    set("useful", c.usefulAnnotations);
    set("skipped", c.skippedAnnotations);
    set("groundTruth", c.groundTruth);
    set("predictions", c.totalPredictions);
    m_counts.value(QStringLiteral("done"))->setText(locale.toString(c.doneFraction() * 100.0, 'f', 1) + locale.percent());
    m_counts.value(QStringLiteral("modelVersion"))
        ->setText(project.modelVersion.isEmpty() ? tr("none") : project.modelVersion.toHtmlEscaped());
}

void ProjectDetailPane::setLabelConfig(const QString &xml)
{
    const labelconfig::LabelConfig config = labelconfig::parse(xml);
    m_servable = config.isServable();
    if (m_servable) {
        m_servableLabel->setText(QStringLiteral("<span style=\"color:#1e7b4f; font-weight:600\">✔ %1</span>")
                                     .arg(tr("The built-in text classifier can serve this project.")));
    } else {
        m_servableLabel->setText(QStringLiteral("<span style=\"color:#b3261e; font-weight:600\">✖ %1</span><br>%2")
                                     .arg(tr("The built-in text classifier cannot serve this project."),
                                          config.reason().toHtmlEscaped()));
    }

    QString html;
    if (!config.error.isEmpty())
        html += QStringLiteral("<p>%1</p>").arg(config.error.toHtmlEscaped());
    if (!config.targets.isEmpty()) {
        html += QStringLiteral("<p style=\"margin-bottom:0\"><b>%1</b></p>").arg(tr("Text classification targets"));
        for (const auto &t : config.targets) {
            const QString kind = t.multiple ? tr("multiple choice") : tr("single choice");
            html += QStringLiteral("<p style=\"margin-top:2px; margin-left:12px\">• <b>%1</b> → %2 <i>(%3, %4)</i><br>"
                                   "&nbsp;&nbsp;%5</p>")
                        .arg(t.fromName.toHtmlEscaped(), t.toName.toHtmlEscaped(),
                             tr("reads $%1").arg(t.dataKey.toHtmlEscaped()), kind,
                             t.choices.isEmpty() ? tr("no choices")
                                                 : t.choices.join(QStringLiteral(", ")).toHtmlEscaped());
        }
    }
    auto list = [&](const QString &heading, const QStringList &items) {
        if (items.isEmpty())
            return;
        html += QStringLiteral("<p style=\"margin-top:4px; margin-bottom:0\"><b>%1</b> %2</p>")
                    .arg(heading, items.join(QStringLiteral(", ")).toHtmlEscaped());
    };
    list(tr("Objects:"), config.objects);
    list(tr("Controls:"), config.controls);
    if (!config.unsupported.isEmpty()) {
        html += QStringLiteral("<p style=\"margin-bottom:0\"><b>%1</b></p>").arg(tr("Not served"));
        for (const QString &why : config.unsupported)
            html += QStringLiteral("<p style=\"margin-top:2px; margin-left:12px\">• %1</p>").arg(why.toHtmlEscaped());
    }
    if (xml.trimmed().isEmpty())
        html += QStringLiteral("<p>%1</p>").arg(tr("This project has no label config yet."));
    m_configLabel->setText(html);
    m_configLabel->setVisible(!html.isEmpty());
}

void ProjectDetailPane::setHistory(const QList<store::ProgressPoint> &history)
{
    m_annotationSeries->clear();
    m_taskSeries->clear();
    if (history.isEmpty()) {
        m_chartHint->setText(tr("No progress recorded yet; each refresh adds a point."));
        m_timeAxis->setRange(QDateTime::currentDateTime().addSecs(-3600), QDateTime::currentDateTime());
        m_valueAxis->setRange(0, 4);
        m_valueAxis->setTickCount(5);
        return;
    }
    // Snapshots are written only when counts change: draw steps, held until now.
    const QDateTime now = QDateTime::currentDateTime();
    qint64 maxValue = 0;
    std::optional<store::ProgressPoint> previous;
    for (const store::ProgressPoint &p : history) {
        const qreal x = qreal(p.takenAt.toLocalTime().toMSecsSinceEpoch());
        if (previous) {
            m_annotationSeries->append(x, qreal(previous->counts.totalAnnotations));
            m_taskSeries->append(x, qreal(previous->counts.tasksWithAnnotations));
        }
        m_annotationSeries->append(x, qreal(p.counts.totalAnnotations));
        m_taskSeries->append(x, qreal(p.counts.tasksWithAnnotations));
        maxValue = std::max({maxValue, p.counts.totalAnnotations, p.counts.tasksWithAnnotations});
        previous = p;
    }
    QDateTime first = history.first().takenAt.toLocalTime();
    QDateTime last = std::max(now, history.last().takenAt.toLocalTime());
    m_annotationSeries->append(qreal(last.toMSecsSinceEpoch()), qreal(previous->counts.totalAnnotations));
    m_taskSeries->append(qreal(last.toMSecsSinceEpoch()), qreal(previous->counts.tasksWithAnnotations));
    if (first.secsTo(last) < 600)
        first = last.addSecs(-600); // at least ten minutes wide, so a fresh project still reads well
    const qint64 span = first.secsTo(last);
    m_timeAxis->setFormat(span > 2 * 86400 ? QStringLiteral("MMM d")
                          : span > 86400   ? QStringLiteral("ddd hh:mm")
                                           : QStringLiteral("hh:mm"));
    m_timeAxis->setRange(first, last);
    const double top = niceCeiling(double(maxValue) * 1.1);
    m_valueAxis->setRange(0, top);
    // Few enough ticks that every label fits, each on a whole number.
    int ticks = 6;
    for (int n : {6, 5, 4, 3}) {
        if (std::fmod(top, double(n - 1)) == 0.0) {
            ticks = n;
            break;
        }
    }
    m_valueAxis->setTickCount(ticks);
    m_chartHint->setText(tr("Snapshots: %1 · since %2 · a new one each time the counts change")
                             .arg(QLocale().toString(qint64(history.size())),
                                  QLocale().toString(history.first().takenAt.toLocalTime(), QLocale::ShortFormat)));
}

QString ProjectDetailPane::labelConfigSummary() const
{
    QTextDocument doc;
    doc.setHtml(m_servableLabel->text() + QStringLiteral("<br>") + m_configLabel->text());
    return doc.toPlainText();
}

QString ProjectDetailPane::countText(const QString &key) const
{
    const QLabel *l = m_counts.value(key);
    return l ? l->text() : QString();
}

int ProjectDetailPane::chartPointCount() const
{
    return int(m_annotationSeries->count());
}

} // namespace loopdeck::gui
