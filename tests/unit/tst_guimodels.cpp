// The model page's view models and chart without a window: VersionsModel (rows from a
// LoopClient's versions(), in-place updates, CSV), ConfusionModel (counts, row-normalised
// shares, malformed input), ClassMetricsModel, ProjectsModel's loop columns, and
// AccuracyChart's series and thinned axis at 1 and 100 versions. Every model runs under
// QAbstractItemModelTester. The JSON here is made up (shape of GET /versions "details") and
// read by VersionInfo::fromJson, as a client reads it.
#include "gui/accuracychart.h"
#include "gui/confusionmodel.h"
#include "gui/projectsmodel.h"
#include "gui/versionsmodel.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QBarSet>
#include <QDir>
#include <QJsonArray>
#include <QJsonObject>
#include <QLineSeries>
#include <QScatterSeries>
#include <QSignalSpy>
#include <QTest>

using namespace loopdeck;
using client::VersionInfo;
using gui::ConfusionModel;
using gui::VersionsModel;

namespace {

QJsonObject version(int n, double accuracy, bool active, QJsonValue live = QJsonValue::Null, int examples = 0)
{
    QJsonObject metrics{{QStringLiteral("accuracy"), accuracy},
                        {QStringLiteral("macro_f1"), accuracy - 0.05},
                        {QStringLiteral("evaluation"), QStringLiteral("stratified 5-fold cross-validation")},
                        {QStringLiteral("duration_ms"), 12}};
    return QJsonObject{{QStringLiteral("name"), QStringLiteral("loopdeck-v%1").arg(n)},
                       {QStringLiteral("version"), n},
                       {QStringLiteral("created"), QStringLiteral("2026-11-25T10:%1:00.000Z").arg(n % 60, 2, 10, QLatin1Char('0'))},
                       {QStringLiteral("trigger"), n == 1 ? QStringLiteral("threshold") : QStringLiteral("manual")},
                       {QStringLiteral("training_examples"), examples > 0 ? examples : 20 * n},
                       {QStringLiteral("metrics"), metrics},
                       {QStringLiteral("live_acceptance"), live},
                       {QStringLiteral("active"), active}};
}

// The versions as a client gives them; one that does not read is left out (and said).
QList<VersionInfo> infos(const QList<QJsonObject> &details)
{
    QList<VersionInfo> out;
    for (const QJsonObject &d : details) {
        QString why;
        if (const auto v = VersionInfo::fromJson(d, &why))
            out.append(*v);
        else
            qWarning("test data: %s", qPrintable(why));
    }
    return out;
}

QJsonObject live(int accepted, int total)
{
    return QJsonObject{{QStringLiteral("rate"), double(accepted) / total},
                       {QStringLiteral("accepted"), accepted},
                       {QStringLiteral("total"), total}};
}

QJsonObject confusion(const QStringList &labels, const QList<QList<int>> &matrix, const QString &layout = QStringLiteral("truth_by_predicted"))
{
    QJsonArray rows;
    for (const auto &r : matrix) {
        QJsonArray row;
        for (int v : r)
            row.append(v);
        rows.append(row);
    }
    return QJsonObject{{QStringLiteral("confusion"), QJsonObject{{QStringLiteral("labels"), QJsonArray::fromStringList(labels)},
                                                                 {QStringLiteral("matrix"), rows},
                                                                 {QStringLiteral("layout"), layout}}}};
}

} // namespace

class TestGuiModels final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void versionsModelShowsDetails();
    void versionsModelUpdatesInPlace();
    void versionsModelShowsWhatIsUnknown();
    void csvOneRowPerVersion();
    void confusionSharesAreRowNormalised();
    void confusionMalformedAndMultiLabel();
    void classMetrics();
    void projectsLoopColumns();
    void chartOneVersion();
    void chartHundredVersions();
};

void TestGuiModels::versionsModelShowsDetails()
{
    VersionsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    // Given out of order; shown by version number.
    model.setVersions(infos({version(3, 0.9, false, live(9, 10)), version(1, 0.8, false), version(2, 0.85, true)}));
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.columnCount(), int(VersionsModel::ColumnCount));
    QCOMPARE(model.index(0, VersionsModel::VersionColumn).data().toString(), QStringLiteral("v1"));
    QCOMPARE(model.index(2, VersionsModel::VersionColumn).data().toString(), QStringLiteral("v3"));
    QCOMPARE(model.activeVersion(), 2);
    QCOMPARE(model.index(1, VersionsModel::ActiveColumn).data(VersionsModel::SortRole).toInt(), 1);
    QCOMPARE(model.index(1, 0).data(Qt::FontRole).value<QFont>().bold(), true);
    QCOMPARE(model.index(0, VersionsModel::AccuracyColumn).data(VersionsModel::SortRole).toDouble(), 0.8);
    QCOMPARE(model.index(0, VersionsModel::AccuracyColumn).data().toString(), QLocale().toString(0.8, 'f', 3));
    QCOMPARE(model.index(0, VersionsModel::TriggerColumn).data().toString(), VersionsModel::triggerText(QStringLiteral("threshold")));
    QCOMPARE(model.index(2, VersionsModel::ExamplesColumn).data(VersionsModel::SortRole).toInt(), 60);
    // No live acceptance yet: a dash, sorting first.
    QCOMPARE(model.index(0, VersionsModel::AcceptanceColumn).data().toString(), QStringLiteral("—"));
    QCOMPARE(model.index(0, VersionsModel::AcceptanceColumn).data(VersionsModel::SortRole).toDouble(), -1.0);
    QCOMPARE(model.index(2, VersionsModel::AcceptanceColumn).data(VersionsModel::SortRole).toDouble(), 0.9);
    QVERIFY(model.index(2, VersionsModel::AcceptanceColumn).data(Qt::ToolTipRole).toString().contains(QStringLiteral("9")));
    QCOMPARE(model.index(2, 0).data(VersionsModel::VersionRole).toInt(), 3);
    for (int c = 0; c < VersionsModel::ColumnCount; ++c)
        QVERIFY(!model.headerData(c, Qt::Horizontal).toString().isEmpty());
}

void TestGuiModels::versionsModelUpdatesInPlace()
{
    VersionsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setVersions(infos({version(1, 0.8, false), version(2, 0.85, true)}));
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    const QPersistentModelIndex v2(model.index(1, 0));

    // v1 pruned, v2 rolled back from... no: v3 trained and active, v2 gets live acceptance.
    model.setVersions(infos({version(2, 0.85, false, live(3, 4)), version(3, 0.9, true)}));
    QCOMPARE(reset.count(), 0);
    QCOMPARE(removed.count(), 1);
    QCOMPARE(inserted.count(), 1);
    QVERIFY(changed.count() >= 1);
    QVERIFY(v2.isValid());
    QCOMPARE(v2.row(), 0);
    QCOMPARE(v2.data(VersionsModel::VersionRole).toInt(), 2);
    QCOMPARE(model.activeVersion(), 3);
    QCOMPARE(model.rowOfVersion(1), -1);
    QCOMPARE(model.rowOfVersion(3), 1);

    // The same again: nothing changes.
    changed.clear();
    model.setVersions(infos({version(2, 0.85, false, live(3, 4)), version(3, 0.9, true)}));
    QCOMPARE(changed.count(), 0);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.activeVersion(), 0);
}

void TestGuiModels::versionsModelShowsWhatIsUnknown()
{
    VersionsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    // (Malformed JSON never gets here: fromJson refuses it, tst_loopclient.) A version with
    // nothing but its number shows dashes; one without a number is left out.
    const QList<VersionInfo> bare = infos({QJsonObject{{QStringLiteral("version"), 4}}});
    QCOMPARE(bare.size(), 1);
    model.setVersions(bare + QList<VersionInfo>{VersionInfo()});
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.index(0, VersionsModel::VersionColumn).data().toString(), QStringLiteral("v4"));
    QCOMPARE(model.index(0, VersionsModel::CreatedColumn).data().toString(), QString());
    QCOMPARE(model.index(0, VersionsModel::AccuracyColumn).data().toString(), QStringLiteral("—"));
    QCOMPARE(model.index(0, VersionsModel::MacroF1Column).data(VersionsModel::SortRole).toDouble(), -1.0);
    QCOMPARE(model.index(0, VersionsModel::ExamplesColumn).data(VersionsModel::SortRole).toInt(), 0);
}

void TestGuiModels::csvOneRowPerVersion()
{
    QJsonObject odd = version(2, 0.5, true, live(1, 2));
    QJsonObject metrics = odd.value(QStringLiteral("metrics")).toObject();
    metrics.insert(QStringLiteral("evaluation"), QStringLiteral("holdout, \"20 %\""));
    odd.insert(QStringLiteral("metrics"), metrics);
    const QJsonObject bare{{QStringLiteral("version"), 7}, {QStringLiteral("name"), QStringLiteral("loopdeck-v7")}};
    const QList<VersionInfo> versions = infos({bare, version(1, 0.75, false), odd});
    QCOMPARE(versions.size(), 3);
    const QString csv = QString::fromUtf8(VersionsModel::toCsv(versions));
    const QStringList lines = csv.split(QStringLiteral("\r\n"), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 4);
    QCOMPARE(lines[0], VersionsModel::csvColumns().join(QLatin1Char(',')));
    QCOMPARE(lines[1], QStringLiteral("1,loopdeck-v1,2026-11-25T10:01:00.000Z,threshold,20,0.750000,0.700000,,,,"
                                      "stratified 5-fold cross-validation,12,0"));
    QCOMPARE(lines[2], QStringLiteral("2,loopdeck-v2,2026-11-25T10:02:00.000Z,manual,40,0.500000,0.450000,0.500000,1,2,"
                                      "\"holdout, \"\"20 %\"\"\",12,1"));
    QCOMPARE(lines[3], QStringLiteral("7,loopdeck-v7,,,0,,,,,,,,0"));
}

void TestGuiModels::confusionSharesAreRowNormalised()
{
    ConfusionModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QStringList labels = {QStringLiteral("Positive"), QStringLiteral("Negative"), QStringLiteral("Neutral")};
    model.setMetrics(confusion(labels, {{2, 4, 1}, {1, 7, 0}, {0, 0, 0}}));
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.columnCount(), 3);
    QCOMPARE(model.headerData(1, Qt::Horizontal).toString(), QStringLiteral("Negative"));
    QCOMPARE(model.headerData(2, Qt::Vertical).toString(), QStringLiteral("Neutral"));
    QCOMPARE(model.index(0, 1).data().toString(), QStringLiteral("4"));
    QCOMPARE(model.index(0, 1).data(ConfusionModel::CountRole).toInt(), 4);
    QCOMPARE(model.index(0, 1).data(ConfusionModel::ShareRole).toDouble(), 4.0 / 7.0);
    QCOMPARE(model.index(1, 1).data(ConfusionModel::ShareRole).toDouble(), 7.0 / 8.0);
    QCOMPARE(model.index(2, 2).data(ConfusionModel::ShareRole).toDouble(), 0.0); // empty row: no division by zero
    // Shading follows the share: a bigger share is a darker cell; text stays readable.
    const QColor light = model.index(0, 2).data(Qt::BackgroundRole).value<QColor>();
    const QColor dark = model.index(0, 1).data(Qt::BackgroundRole).value<QColor>();
    QVERIFY(dark.lightness() < light.lightness());
    QCOMPARE(model.index(1, 1).data(Qt::ForegroundRole).value<QColor>(), QColor(Qt::white));
    QCOMPARE(model.index(2, 0).data(Qt::BackgroundRole).value<QColor>(), ConfusionModel::shade(0, false));
    QVERIFY(model.index(0, 1).data(Qt::ToolTipRole).toString().contains(QStringLiteral("Positive")));
}

void TestGuiModels::confusionMalformedAndMultiLabel()
{
    ConfusionModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    // A row of the wrong length: nothing shown rather than a wrong table.
    model.setMetrics(confusion({QStringLiteral("a"), QStringLiteral("b")}, {{1, 2}, {3}}));
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.columnCount(), 0);
    model.setMetrics(QJsonObject{{QStringLiteral("confusion"), QStringLiteral("nonsense")}});
    QCOMPARE(model.rowCount(), 0);
    model.setMetrics(confusion({QStringLiteral("a"), QStringLiteral("b")}, {{5, 1, 2, 2}, {6, 0, 1, 3}},
                               QStringLiteral("per_class_tn_fp_fn_tp")));
    QVERIFY(model.isMultiLabel());
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.columnCount(), 4);
    QCOMPARE(model.headerData(3, Qt::Horizontal).toString(), QStringLiteral("TP"));
    QCOMPARE(model.index(1, 3).data(ConfusionModel::ShareRole).toDouble(), 0.3);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
}

void TestGuiModels::classMetrics()
{
    gui::ClassMetricsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QJsonArray perClass{QJsonObject{{QStringLiteral("label"), QStringLiteral("Positive")},
                                    {QStringLiteral("precision"), 0.5},
                                    {QStringLiteral("recall"), 0.25},
                                    {QStringLiteral("f1"), 1.0 / 3.0},
                                    {QStringLiteral("support"), 8}},
                        QStringLiteral("junk")};
    model.setMetrics(QJsonObject{{QStringLiteral("per_class"), perClass}});
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.index(0, gui::ClassMetricsModel::ClassColumn).data().toString(), QStringLiteral("Positive"));
    QCOMPARE(model.index(0, gui::ClassMetricsModel::RecallColumn).data(gui::ClassMetricsModel::SortRole).toDouble(), 0.25);
    QCOMPARE(model.index(0, gui::ClassMetricsModel::F1Column).data().toString(), QLocale().toString(1.0 / 3.0, 'f', 3));
    QCOMPARE(model.index(0, gui::ClassMetricsModel::SupportColumn).data(gui::ClassMetricsModel::SortRole).toInt(), 8);
}

void TestGuiModels::projectsLoopColumns()
{
    gui::ProjectsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    labelstudio::Project a;
    a.id = 3;
    a.title = QStringLiteral("Alpha");
    labelstudio::Project b;
    b.id = 4;
    b.title = QStringLiteral("Beta");
    model.setProjects({a, b}, QDateTime::currentDateTimeUtc());
    QCOMPARE(model.index(0, gui::ProjectsModel::LoopStateColumn).data().toString(), QStringLiteral("—"));
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.setLoopSummary(4, gui::LoopSummary{QStringLiteral("loopdeck-v12"), 0.9125, QStringLiteral("training")});
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.first().at(0).toModelIndex().row(), 1);
    QCOMPARE(model.index(1, gui::ProjectsModel::ActiveVersionColumn).data().toString(), QStringLiteral("loopdeck-v12"));
    QCOMPARE(model.index(1, gui::ProjectsModel::ActiveVersionColumn).data(gui::ProjectsModel::SortRole).toInt(), 12);
    QCOMPARE(model.index(1, gui::ProjectsModel::AccuracyColumn).data().toString(), QLocale().toString(0.9125, 'f', 3));
    QCOMPARE(model.index(1, gui::ProjectsModel::LoopStateColumn).data().toString(), gui::ProjectsModel::loopStateText(QStringLiteral("training")));
    // The same summary again: no signal.
    model.setLoopSummary(4, gui::LoopSummary{QStringLiteral("loopdeck-v12"), 0.9125, QStringLiteral("training")});
    QCOMPARE(changed.count(), 1);
    // A summary for a project not listed is kept for when it shows up.
    model.setLoopSummary(9, gui::LoopSummary{QString(), -1, QStringLiteral("off")});
    labelstudio::Project c;
    c.id = 9;
    model.setProjects({a, b, c}, QDateTime::currentDateTimeUtc());
    QCOMPARE(model.index(2, gui::ProjectsModel::LoopStateColumn).data().toString(), gui::ProjectsModel::loopStateText(QStringLiteral("off")));
    QCOMPARE(model.index(2, gui::ProjectsModel::AccuracyColumn).data().toString(), QStringLiteral("—"));
}

void TestGuiModels::chartOneVersion()
{
    gui::AccuracyChart chart;
    chart.setVersions(infos({version(1, 0.8, true, live(3, 4))}));
    QCOMPARE(chart.accuracySeries()->count(), 1);
    QCOMPARE(chart.accuracySeries()->at(0), QPointF(0, 0.8));
    QVERIFY(chart.accuracySeries()->pointsVisible()); // one point must be visible without a line
    QCOMPARE(chart.acceptanceSeries()->count(), 1);
    QCOMPARE(chart.examplesSet()->count(), 1);
    QCOMPARE(chart.examplesSet()->at(0), 20.0);
    QCOMPARE(chart.activeMarker()->count(), 1);
    QCOMPARE(chart.axisLabels(), QStringList{QStringLiteral("v1")});
    QVERIFY(chart.toolTipFor(0).contains(QStringLiteral("loopdeck-v1")));
    QVERIFY(chart.toolTipFor(1).isEmpty());
    chart.setVersions({});
    QCOMPARE(chart.accuracySeries()->count(), 0);
    QCOMPARE(chart.examplesSet()->count(), 0);
    QVERIFY(chart.axisLabels().isEmpty());
}

void TestGuiModels::chartHundredVersions()
{
    // Versions 31..130 (older ones pruned), no live acceptance for the newest, v100 active.
    QList<QJsonObject> details;
    for (int n = 31; n <= 130; ++n)
        details.append(version(n, 0.5 + n / 400.0, n == 100, n < 120 ? QJsonValue(live(n % 7, 7)) : QJsonValue(QJsonValue::Null)));
    gui::AccuracyChart chart;
    chart.setVersions(infos(details));
    QCOMPARE(chart.accuracySeries()->count(), 100);
    QCOMPARE(chart.macroF1Series()->count(), 100);
    QCOMPARE(chart.acceptanceSeries()->count(), 89);
    QCOMPARE(chart.examplesSet()->count(), 100);
    QCOMPARE(chart.activeMarker()->count(), 1);
    QCOMPARE(chart.activeMarker()->at(0).x(), 69.0); // v100 is the 70th slot
    const QStringList labels = chart.axisLabels();
    QVERIFY2(labels.size() >= 8 && labels.size() <= 13, qPrintable(labels.join(QLatin1Char(' '))));
    QCOMPARE(labels.first(), QStringLiteral("v31"));
    QVERIFY(chart.toolTipFor(69).contains(QStringLiteral("loopdeck-v100")));

    // For a look at readability (made-up history: not for the README).
    chart.resize(900, 320);
    QDir().mkpath(QStringLiteral(LOOPDECK_SCREENSHOTS));
    QVERIFY(chart.grab().save(QStringLiteral(LOOPDECK_SCREENSHOTS "/chart-100-versions-synthetic.png"), "PNG"));
}

QTEST_MAIN(TestGuiModels)
#include "tst_guimodels.moc"
