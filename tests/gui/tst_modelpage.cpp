// GUI test of the loop in the window (offscreen) against the fixture Label Studio: real
// annotations posted through Label Studio's API reach the window's backend as webhooks and
// train real versions; the model page (which sees the loop through its LoopClient) lists them
// with the same metrics as GET /versions, the chart has one point per version, "Train now" adds
// a version and is disabled (with a reason) from the click on, "Cancel" stops a run of 3000 examples, "Roll back" / "Activate" switch the version /setup reports (after a confirmation
// naming both versions), the CSV has one row per version, the schedule editor saves at once,
// and the dashboard columns, webhook list and notifications follow. Every test function makes
// its own project. Saves screenshots of the model page (English and Chinese) and of a
// notification (the in-window banner: offscreen has no system tray).
#include "backend/backendserver.h"
#include "core/backend/operatortoken.h"
#include "core/loop/loopengine.h"
#include "gui/accuracychart.h"
#include "gui/appsettings.h"
#include "gui/backendpanel.h"
#include "gui/confusionmodel.h"
#include "gui/guiapp.h"
#include "guitesting.h"
#include "gui/mainwindow.h"
#include "gui/modelpage.h"
#include "gui/notifier.h"
#include "gui/projectsmodel.h"
#include "gui/scheduleeditor.h"
#include "gui/translations.h"
#include "gui/versionsmodel.h"
#include "lsfixture.h"

#include <QApplication>
#include <QBarSet>
#include <QCheckBox>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineSeries>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPushButton>
#include <QRandomGenerator>
#include <QScatterSeries>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTcpServer>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace loopdeck;
using namespace loopdeck::labelstudio;
using loopdeck::gui::DashboardSession;
using loopdeck::testing::Http;
using loopdeck::testing::call;

namespace {

constexpr int kTasks = 90;
constexpr int kThreshold = 20;


// Three classes with overlapping words and a little label noise, so the classifier has
// something to learn and still errs (a confusion matrix worth looking at).
QStringList makeTexts(QStringList *labels)
{
    const QStringList classes = {QStringLiteral("Positive"), QStringLiteral("Negative"), QStringLiteral("Neutral")};
    const QList<QStringList> words = {
        {QStringLiteral("great"), QStringLiteral("lovely"), QStringLiteral("excellent"), QStringLiteral("happy"), QStringLiteral("fine")},
        {QStringLiteral("awful"), QStringLiteral("broken"), QStringLiteral("terrible"), QStringLiteral("late"), QStringLiteral("fine")},
        {QStringLiteral("okay"), QStringLiteral("average"), QStringLiteral("usual"), QStringLiteral("fine"), QStringLiteral("late")}};
    QStringList texts;
    for (int i = 0; i < kTasks; ++i) {
        const int c = (i * 7 + 3) % 3;
        const QStringList &w = words[c];
        texts << QStringLiteral("order %1: the delivery was %2 and %3").arg(i).arg(w[i % 5], w[(i / 5) % 5]);
        labels->append(classes[i % 11 == 0 ? (c + 1) % 3 : c]);
    }
    return texts;
}

// A version's accuracy as GET /versions "details" says it.
double accuracyOf(const QJsonObject &version)
{
    return version.value(QStringLiteral("metrics")).toObject().value(QStringLiteral("accuracy")).toDouble(-1);
}

} // namespace

class TestModelPage final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanupTestCase();
    void versionsMatchBackendAfterRealTraining();
    void trainNowAddsVersionWhileButtonDisabled();
    void cancelStopsARunningTraining();
    void rollBackAndActivateSwitchSetupVersion();
    void csvHasOneRowPerVersion();
    void scheduleEditorSavesAtOnce();
    void notificationsCanBeTurnedOff();
    void missedAnnotationsAreRecoveredAndAnnounced();
    void backendThatCannotServeIsAnnounced();
    void screenshotsEnglishAndChinese();

private:
    struct Project {
        int id = 0;
        QString key; // the loop's project key
        QList<int> tasks;
        QStringList labels;
        int annotated = 0;
    };

    void openWindow();
    // A new Label Studio project in the loop of the window's backend: registered through the
    // backend tab, threshold kThreshold; `annotations` posted (webhooks), then waits for
    // `versions` versions (the first ones by threshold, the rest by engine->train()).
    Project makeProject(const QString &title, int annotations, int versions);
    bool annotate(Project &p, int count);
    int versionCount(int projectId) const;
    QByteArray operatorAuth() const;
    QJsonArray backendVersions(int projectId) const;
    QString setupVersion(const QString &projectKey) const;
    QUrl backendUrl(const QString &path, const QString &query = {}) const;
    gui::ModelPage *page() const { return m_window->modelPage(); }

    testing::LsFixture m_fx;
    QTemporaryDir m_dir;
    std::unique_ptr<QSettings> m_settings;
    std::unique_ptr<gui::MainWindow> m_window;
    LabelStudioClient m_client;
    quint16 m_port = 0;
};

void TestModelPage::initTestCase()
{
    qputenv("LOOPDECK_NO_KEYCHAIN", "1");
    qunsetenv("LOOPDECK_TOKEN");
    gui::initResources();
    gui::installTranslations(QLocale(QLocale::English, QLocale::UnitedStates));
    LOOPDECK_REQUIRE_FIXTURE(m_fx);
    QVERIFY(m_dir.isValid());
    m_client.setServer(m_fx.url, m_fx.token);
    m_settings = std::make_unique<QSettings>(m_dir.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
    gui::AppSettings app(m_settings.get());
    app.setDataDir(m_dir.filePath(QStringLiteral("data")));
    m_port = backend::BackendServer::suggestFreePort(QStringLiteral("127.0.0.1"), 19190);
    QVERIFY(m_port != 0);
    app.setBackendPort(m_port);
}

void TestModelPage::init()
{
    if (!m_window)
        openWindow();
}

void TestModelPage::cleanupTestCase()
{
    m_window.reset();
}

void TestModelPage::openWindow()
{
    m_window = std::make_unique<gui::MainWindow>(m_settings.get());
    m_window->resize(1440, 900);
    m_window->show();
    // Every confirmation is accepted unless a test says otherwise.
    page()->setConfirm([](const QString &, const QString &) { return true; });
    settings::ConnectionProfile profile;
    profile.name = QStringLiteral("Local Label Studio");
    profile.url = m_fx.url;
    m_window->applyConnection(profile, m_fx.token);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->session()->state(), DashboardSession::State::Connected, 30000);
    QVERIFY(m_window->backendPanel()->startServer());
    QCOMPARE(m_window->backendPanel()->server()->port(), m_port);
}

QUrl TestModelPage::backendUrl(const QString &path, const QString &query) const
{
    QUrl u(QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(path));
    if (!query.isEmpty())
        u.setQuery(query);
    return u;
}

QByteArray TestModelPage::operatorAuth() const
{
    // The details and /loop/* are the operator's: with the token the window's backend made in its data folder.
    const auto token = backend::operatortoken::readFile(backend::operatortoken::pathIn(m_window->engine()->dataDir()));
    return token ? "Bearer " + token.value().toLatin1() : QByteArray();
}

QJsonArray TestModelPage::backendVersions(int projectId) const
{
    return call("GET", backendUrl(QStringLiteral("/versions"), QStringLiteral("project=%1").arg(projectId)), {}, operatorAuth())
        .json.value(QStringLiteral("details"))
        .toArray();
}

int TestModelPage::versionCount(int projectId) const
{
    return int(m_window->engine()->versionDetails(QString::number(projectId)).size());
}

QString TestModelPage::setupVersion(const QString &projectKey) const
{
    const Http setup = call("POST", backendUrl(QStringLiteral("/setup")),
                            QJsonDocument(QJsonObject{{QStringLiteral("project"), projectKey},
                                                      {QStringLiteral("schema"), testing::sentimentConfig()}})
                                .toJson());
    return setup.status == 200 ? setup.json.value(QStringLiteral("model_version")).toString() : QString();
}

bool TestModelPage::annotate(Project &p, int count)
{
    for (int i = 0; i < count && p.annotated < p.tasks.size(); ++i, ++p.annotated) {
        auto [body, error] = syncWait<QByteArray>([&](auto cb) {
            m_client.createAnnotation(p.tasks[p.annotated], testing::sentimentAnnotation(p.labels[p.annotated]), cb);
        });
        if (error.isError()) {
            qWarning("annotation %d: %s", p.annotated, qPrintable(error.message()));
            return false;
        }
    }
    return true;
}

TestModelPage::Project TestModelPage::makeProject(const QString &title, int annotations, int versions)
{
    Project p;
    const QStringList texts = makeTexts(&p.labels);
    QString error;
    const auto seeded = testing::seedProject(m_client, title + QStringLiteral(" %1").arg(QRandomGenerator::global()->bounded(100000, 999999)),
                                             texts, {}, testing::sentimentConfig(), &error);
    if (!error.isEmpty()) {
        qWarning("seeding: %s", qPrintable(error));
        return p;
    }
    p.tasks = seeded.taskIds;
    const int id = seeded.project.id;
    // The project's own loop settings: a low threshold, no cooldown between runs.
    loop::LoopSettings s = m_window->engine()->defaults();
    s.trainEvery = kThreshold;
    s.cooldownSeconds = 0;
    s.minExamples = 10;
    // Every new version becomes active: these tests are about the page, not about the
    // activation policy (tst_loopengine covers that), whose outcome on a few dozen examples
    // depends on the evaluation split.
    s.activationMargin = 1.0;
    if (const Status saved = m_window->engine()->setSettings(testing::keyOf(seeded.project), s); !saved) {
        qWarning("settings: %s", qPrintable(saved.error()));
        return p;
    }
    // Register the backend through the backend tab, as an operator would.
    auto idle = [&] {
        return m_window->engine()->status(QString::number(id)).body.value(QStringLiteral("state")).toString() == u"idle";
    };
    m_window->refreshNow();
    if (!QTest::qWaitFor([&] { return m_window->selectProject(id); }, 30000)) {
        qWarning("project %d not listed", id);
        return p;
    }
    // (Selecting the project already asked Label Studio for its registrations; wait for ours.)
    gui::BackendPanel *panel = m_window->backendPanel();
    panel->connectToProject();
    if (!QTest::qWaitFor([&] { return panel->registration() && panel->registration()->state == u"CO"; }, 60000)) {
        qWarning("registration failed: %s", qPrintable(m_window->backendPanel()->labelStudioStateText()));
        return p;
    }
    if (!annotate(p, annotations))
        return p;
    const int byThreshold = annotations / kThreshold;
    if (!QTest::qWaitFor([&] { return versionCount(id) >= std::min(byThreshold, versions); }, 120000)) {
        qWarning("no version by threshold");
        return p;
    }
    while (versionCount(id) < versions) {
        const int before = versionCount(id);
        if (!QTest::qWaitFor(idle, 60000))
            return p;
        const backend::LoopReply r = m_window->engine()->train(QString::number(id));
        if (r.error != backend::LoopReply::Error::None) {
            qWarning("train: %s", qPrintable(r.message));
            return p;
        }
        if (!QTest::qWaitFor([&] { return versionCount(id) > before; }, 120000)) {
            qWarning("no version by train()");
            return p;
        }
    }
    if (!QTest::qWaitFor(idle, 60000))
        return p;
    p.id = id;
    p.key = testing::keyOf(seeded.project);
    return p;
}

void TestModelPage::versionsMatchBackendAfterRealTraining()
{
    QSignalSpy notified(m_window->notifier(), &gui::Notifier::notified);
    Project p = makeProject(QStringLiteral("Model page feedback"), kThreshold + 4, 1);
    QVERIFY(p.id > 0);
    m_window->tabs()->setCurrentWidget(page());
    QCOMPARE(page()->projectKey(), p.key);
    const QJsonArray details = backendVersions(p.id);
    QCOMPARE(details.size(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(page()->versionsModel()->rowCount(), int(details.size()), 10000);

    // The table shows what GET /versions says, version by version.
    gui::VersionsModel *model = page()->versionsModel();
    for (const QJsonValue &dv : details) {
        const QJsonObject d = dv.toObject();
        const int row = model->rowOfVersion(d.value(QStringLiteral("version")).toInt());
        QVERIFY(row >= 0);
        auto cell = [&](int column, int role = gui::VersionsModel::SortRole) { return model->index(row, column).data(role); };
        const QJsonObject metrics = d.value(QStringLiteral("metrics")).toObject();
        QCOMPARE(cell(gui::VersionsModel::AccuracyColumn).toDouble(), metrics.value(QStringLiteral("accuracy")).toDouble());
        QCOMPARE(cell(gui::VersionsModel::MacroF1Column).toDouble(), metrics.value(QStringLiteral("macro_f1")).toDouble());
        QCOMPARE(cell(gui::VersionsModel::ExamplesColumn).toInt(), d.value(QStringLiteral("training_examples")).toInt());
        QCOMPARE(cell(gui::VersionsModel::ActiveColumn).toInt(), d.value(QStringLiteral("active")).toBool() ? 1 : 0);
        QCOMPARE(cell(gui::VersionsModel::TriggerColumn, Qt::DisplayRole).toString(), QStringLiteral("Threshold"));
        QCOMPARE(cell(gui::VersionsModel::AccuracyColumn, Qt::DisplayRole).toString(),
                 QLocale().toString(metrics.value(QStringLiteral("accuracy")).toDouble(), 'f', 3));
    }
    QVERIFY(details.first().toObject().value(QStringLiteral("training_examples")).toInt() >= kThreshold);

    // The chart: one point per version on each line, one bar per version, the active one marked.
    gui::AccuracyChart *chart = page()->chart();
    QCOMPARE(chart->accuracySeries()->count(), int(details.size()));
    QCOMPARE(chart->macroF1Series()->count(), int(details.size()));
    QCOMPARE(chart->examplesSet()->count(), int(details.size()));
    QCOMPARE(chart->activeMarker()->count(), 1);
    QCOMPARE(chart->activeMarker()->at(0).y(), accuracyOf(details.first().toObject()));
    QCOMPARE(chart->axisLabels(), QStringList{QStringLiteral("v1")});
    QVERIFY(chart->toolTipFor(0).contains(QStringLiteral("loopdeck-v1")));

    // The selected (active) version's evaluation: a 3x3 matrix whose counts add up to the
    // evaluated examples, per-class rows for the labels.
    const QJsonObject metrics = details.first().toObject().value(QStringLiteral("metrics")).toObject();
    gui::ConfusionModel *confusion = page()->confusionModel();
    const QJsonArray labels = metrics.value(QStringLiteral("confusion")).toObject().value(QStringLiteral("labels")).toArray();
    QVERIFY(labels.size() >= 2);
    QCOMPARE(confusion->rowCount(), int(labels.size()));
    QCOMPARE(confusion->columnCount(), int(labels.size()));
    int total = 0;
    for (int r = 0; r < confusion->rowCount(); ++r)
        for (int c = 0; c < confusion->columnCount(); ++c)
            total += confusion->index(r, c).data(gui::ConfusionModel::CountRole).toInt();
    QCOMPARE(total, details.first().toObject().value(QStringLiteral("training_examples")).toInt());
    QCOMPARE(page()->classMetricsModel()->rowCount(), int(metrics.value(QStringLiteral("per_class")).toArray().size()));

    // The dashboard's loop columns, the backend tab's webhooks, the notification.
    gui::ProjectsModel *projects = m_window->projectsModel();
    const int prow = projects->rowOf(p.id);
    QVERIFY(prow >= 0);
    QTRY_COMPARE_WITH_TIMEOUT(projects->index(prow, gui::ProjectsModel::ActiveVersionColumn).data().toString(),
                              QStringLiteral("loopdeck-v1"), 5000);
    QCOMPARE(projects->index(prow, gui::ProjectsModel::AccuracyColumn).data(gui::ProjectsModel::SortRole).toDouble(),
             metrics.value(QStringLiteral("accuracy")).toDouble());
    QTRY_COMPARE_WITH_TIMEOUT(projects->index(prow, gui::ProjectsModel::LoopStateColumn).data().toString(), QStringLiteral("Idle"),
                              5000);
    QVERIFY(m_window->backendPanel()->webhookRowCount() >= kThreshold);
    // The newest row may be the PROJECT_UPDATED that LoopDeck's own prediction refresh causes.
    const QStringList hooks = m_window->backendPanel()->webhookTexts();
    const QString annotationRow = QStringLiteral("ANNOTATION_CREATED %1 ").arg(p.key);
    QVERIFY2(std::any_of(hooks.cbegin(), hooks.cend(), [&](const QString &h) { return h.startsWith(annotationRow); }),
             qPrintable(hooks.join(QLatin1Char('\n'))));
    QVERIFY(notified.count() >= 1);
    for (const QList<QVariant> &n : std::as_const(notified)) // the first sync imports; it recovers nothing
        QVERIFY2(!n.at(0).toString().contains(QStringLiteral("recovered")), qPrintable(n.at(0).toString()));
    const QString expected = QStringLiteral("v1: — → %1").arg(QLocale().toString(metrics.value(QStringLiteral("accuracy")).toDouble(), 'f', 3));
    QVERIFY2(m_window->notifier()->lastMessage().contains(expected), qPrintable(m_window->notifier()->lastMessage()));

    // Screenshots: the notification (banner: offscreen has no tray) and the model page.
    QVERIFY(!m_window->notifier()->usesTray());
    QVERIFY(m_window->notificationBanner()->isVisible());
    QSignalSpy refreshed(m_window.get(), &gui::MainWindow::refreshed); // current counts in the picture
    m_window->refreshNow();
    QVERIFY(refreshed.wait(30000));
    m_window->tabs()->setCurrentIndex(0);
    testing::saveScreenshot(m_window.get(), QStringLiteral("notification-banner.png"));
    m_window->tabs()->setCurrentWidget(page());
    m_window->notificationBanner()->hide();
}

void TestModelPage::trainNowAddsVersionWhileButtonDisabled()
{
    Project p = makeProject(QStringLiteral("Train now"), kThreshold + 2, 1);
    QVERIFY(p.id > 0);
    m_window->tabs()->setCurrentWidget(page());
    QTRY_COMPARE_WITH_TIMEOUT(page()->versionsModel()->rowCount(), 1, 10000);
    QPushButton *train = page()->trainButton();
    QTRY_VERIFY_WITH_TIMEOUT(train->isEnabled(), 10000);
    QVERIFY(page()->trainReason().isEmpty());

    struct Shown {
        QString state;
        bool enabled;
        QString reason;
    };
    QList<Shown> shown;
    bool cancelWhileTraining = true;
    connect(page(), &gui::ModelPage::statusShown, this, [&](const QString &state, bool enabled, const QString &reason) {
        shown.append({state, enabled, reason});
        if (state == u"training")
            cancelWhileTraining = cancelWhileTraining && page()->cancelButton()->isEnabled();
    });
    QTest::mouseClick(train, Qt::LeftButton);
    QVERIFY(!train->isEnabled()); // from the click on, before the loop answers
    QCOMPARE(page()->trainReason(), QStringLiteral("Starting a training run…"));
    QTRY_COMPARE_WITH_TIMEOUT(page()->versionsModel()->rowCount(), 2, 120000);
    QTRY_VERIFY_WITH_TIMEOUT(train->isEnabled(), 30000);
    disconnect(page(), &gui::ModelPage::statusShown, this, nullptr);

    // Meanwhile the button was disabled and said why; it trained (state "training" was shown).
    bool disabledWithReason = false;
    bool sawTraining = false;
    for (const Shown &s : std::as_const(shown)) {
        if (!s.enabled) {
            QVERIFY2(!s.reason.isEmpty(), qPrintable(s.state));
            disabledWithReason = true;
        }
        sawTraining = sawTraining || s.state == u"training";
    }
    QVERIFY(disabledWithReason);
    QVERIFY(sawTraining);
    QVERIFY(cancelWhileTraining);
    QVERIFY2(page()->logText().contains(QStringLiteral("training_started trigger=manual")), qPrintable(page()->logText()));
    const QJsonArray details = backendVersions(p.id);
    QCOMPARE(details.size(), 2);
    QCOMPARE(details.last().toObject().value(QStringLiteral("trigger")).toString(), QStringLiteral("manual"));
    const int row = page()->versionsModel()->rowOfVersion(2);
    QCOMPARE(page()->versionsModel()->index(row, gui::VersionsModel::TriggerColumn).data().toString(), QStringLiteral("Manual"));
    QCOMPARE(page()->chart()->accuracySeries()->count(), 2);
    QCOMPARE(page()->chart()->examplesSet()->count(), 2);
    QVERIFY(!page()->cancelButton()->isEnabled());
}

void TestModelPage::cancelStopsARunningTraining()
{
    // A project big enough that a run takes seconds: 3000 annotated tasks, imported with their
    // annotations in one request; the loop reads them by reconcile. No automatic training.
    QStringList labels;
    const QStringList words = {QStringLiteral("great"), QStringLiteral("lovely"), QStringLiteral("awful"), QStringLiteral("broken"),
                               QStringLiteral("okay"), QStringLiteral("fine"), QStringLiteral("late"), QStringLiteral("average"),
                               QStringLiteral("happy"), QStringLiteral("terrible"), QStringLiteral("excellent"), QStringLiteral("usual")};
    const QStringList classes = {QStringLiteral("Positive"), QStringLiteral("Negative"), QStringLiteral("Neutral")};
    QJsonArray tasks;
    for (int i = 0; i < 3000; ++i) {
        QStringList text;
        for (int k = 0; k < 30; ++k)
            text << words[(i * 7 + k * k * 13 + k) % words.size()];
        text << QStringLiteral("order %1").arg(i);
        const QJsonObject result{{QStringLiteral("from_name"), QStringLiteral("sentiment")},
                                 {QStringLiteral("to_name"), QStringLiteral("text")},
                                 {QStringLiteral("type"), QStringLiteral("choices")},
                                 {QStringLiteral("value"), QJsonObject{{QStringLiteral("choices"), QJsonArray{classes[(i * 5 + i / 7) % 3]}}}}};
        tasks.append(QJsonObject{{QStringLiteral("data"), QJsonObject{{QStringLiteral("text"), text.join(QLatin1Char(' '))}}},
                                 {QStringLiteral("annotations"), QJsonArray{QJsonObject{{QStringLiteral("result"), QJsonArray{result}}}}}});
    }
    auto [project, e1] = syncWait<labelstudio::Project>([&](auto cb) {
        m_client.createProject(QStringLiteral("Cancel %1").arg(QRandomGenerator::global()->bounded(100000, 999999)),
                               testing::sentimentConfig(), cb);
    });
    QVERIFY2(!e1.isError(), qPrintable(e1.message()));
    auto [imported, e2] = syncWait<ImportResult>(
        [&](auto cb) { m_client.importTasks(project.id, QJsonDocument(tasks).toJson(QJsonDocument::Compact), cb); });
    QVERIFY2(!e2.isError(), qPrintable(e2.message()));
    loop::LoopSettings s = m_window->engine()->defaults();
    s.trainEvery = 0;
    s.onStartTraining = false;
    QVERIFY(m_window->engine()->setSettings(testing::keyOf(project), s).ok());
    m_window->refreshNow();
    QTRY_VERIFY_WITH_TIMEOUT(m_window->selectProject(project.id), 30000);
    m_window->tabs()->setCurrentWidget(page());
    QTRY_COMPARE_WITH_TIMEOUT(m_window->engine()->status(QString::number(project.id)).body.value(QStringLiteral("usable_examples")).toInt(),
                              3000, 180000);
    QTRY_VERIFY_WITH_TIMEOUT(page()->trainButton()->isEnabled(), 10000);
    QVERIFY(!page()->cancelButton()->isEnabled());

    QTest::mouseClick(page()->trainButton(), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(page()->state(), QStringLiteral("training"), 30000);
    QVERIFY(page()->cancelButton()->isEnabled());
    QVERIFY(!page()->trainButton()->isEnabled());
    QVERIFY(page()->stateText().startsWith(QStringLiteral("Training (Manual)")));
    QTest::mouseClick(page()->cancelButton(), Qt::LeftButton);
    QVERIFY(!page()->cancelButton()->isEnabled()); // until the answer
    QTRY_COMPARE_WITH_TIMEOUT(page()->state(), QStringLiteral("idle"), 60000);
    QTRY_VERIFY2_WITH_TIMEOUT(page()->messageText().contains(QStringLiteral("cancelled")), qPrintable(page()->messageText() + QLatin1Char('\n') + page()->logText()), 10000);
    QCOMPARE(versionCount(project.id), 0); // nothing was kept from the cancelled run
    QCOMPARE(page()->versionsModel()->rowCount(), 0);
    QVERIFY2(page()->logText().contains(QStringLiteral("cancel_requested")), qPrintable(page()->logText()));
    QVERIFY(page()->trainButton()->isEnabled());
    QVERIFY(!page()->cancelButton()->isEnabled());
    m_window->notificationBanner()->hide();
}

void TestModelPage::rollBackAndActivateSwitchSetupVersion()
{
    Project p = makeProject(QStringLiteral("Roll back"), kThreshold + 2, 2);
    QVERIFY(p.id > 0);
    m_window->tabs()->setCurrentWidget(page());
    QTRY_COMPARE_WITH_TIMEOUT(page()->versionsModel()->rowCount(), 2, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(page()->versionsModel()->activeVersion(), 2, 10000);
    QCOMPARE(setupVersion(p.key), QStringLiteral("loopdeck-v2"));
    const QJsonArray details = backendVersions(p.id);
    const QString acc1 = QLocale().toString(accuracyOf(details[0].toObject()), 'f', 3);
    const QString acc2 = QLocale().toString(accuracyOf(details[1].toObject()), 'f', 3);

    // Declined: nothing changes. The question names both versions with their accuracy.
    QString asked;
    page()->setConfirm([&](const QString &, const QString &text) {
        asked = text;
        return false;
    });
    QVERIFY(page()->rollbackButton()->isEnabled());
    QTest::mouseClick(page()->rollbackButton(), Qt::LeftButton);
    QVERIFY2(asked.contains(QStringLiteral("v2 (accuracy %1)").arg(acc2)) && asked.contains(QStringLiteral("v1 (accuracy %1)").arg(acc1)),
             qPrintable(asked));
    QTest::qWait(300);
    QCOMPARE(setupVersion(p.key), QStringLiteral("loopdeck-v2"));

    // Accepted: /setup reports v1.
    page()->setConfirm([&](const QString &, const QString &text) {
        asked = text;
        return true;
    });
    QTest::mouseClick(page()->rollbackButton(), Qt::LeftButton);
    // The answer comes later: until then neither switch can be pressed again.
    QVERIFY(!page()->rollbackButton()->isEnabled());
    QVERIFY(!page()->activateButton()->isEnabled());
    QTRY_COMPARE_WITH_TIMEOUT(setupVersion(p.key), QStringLiteral("loopdeck-v1"), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(page()->messageText(), QStringLiteral("Rolled back: loopdeck-v1 is active."), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(page()->versionsModel()->activeVersion(), 1, 10000);
    QVERIFY(!page()->rollbackButton()->isEnabled()); // nothing older than v1

    // Activate v2 again from the table.
    QVERIFY(page()->selectVersion(2));
    QVERIFY(page()->activateButton()->isEnabled());
    QTest::mouseClick(page()->activateButton(), Qt::LeftButton);
    QVERIFY2(asked.startsWith(QStringLiteral("Make v2 (accuracy %1) the active version in place of v1 (accuracy %2)").arg(acc2, acc1)),
             qPrintable(asked));
    QVERIFY(!page()->activateButton()->isEnabled());
    QTRY_COMPARE_WITH_TIMEOUT(page()->messageText(), QStringLiteral("v2 is active."), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(setupVersion(p.key), QStringLiteral("loopdeck-v2"), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(page()->versionsModel()->activeVersion(), 2, 10000);
    QVERIFY(!page()->activateButton()->isEnabled()); // the selected one is active now
    page()->setConfirm([](const QString &, const QString &) { return true; });
}

void TestModelPage::csvHasOneRowPerVersion()
{
    Project p = makeProject(QStringLiteral("CSV export"), kThreshold + 2, 2);
    QVERIFY(p.id > 0);
    QTRY_COMPARE_WITH_TIMEOUT(page()->versionsModel()->rowCount(), 2, 10000);
    const QString path = m_dir.filePath(QStringLiteral("versions-%1.csv").arg(p.id));
    const Status written = page()->exportCsv(path);
    QVERIFY2(written.ok(), qPrintable(written.error()));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(file.readAll()).split(QStringLiteral("\r\n"), Qt::SkipEmptyParts);
    const QJsonArray details = backendVersions(p.id);
    QCOMPARE(lines.size(), 1 + int(details.size()));
    QCOMPARE(lines.first(), gui::VersionsModel::csvColumns().join(QLatin1Char(',')));
    const QStringList columns = gui::VersionsModel::csvColumns();
    for (int i = 0; i < details.size(); ++i) {
        const QJsonObject d = details[i].toObject();
        const QStringList fields = lines[i + 1].split(QLatin1Char(','));
        QCOMPARE(fields.size(), columns.size());
        QCOMPARE(fields[columns.indexOf(QStringLiteral("version"))].toInt(), d.value(QStringLiteral("version")).toInt());
        QCOMPARE(fields[columns.indexOf(QStringLiteral("trigger"))], d.value(QStringLiteral("trigger")).toString());
        QCOMPARE(fields[columns.indexOf(QStringLiteral("training_examples"))].toInt(), d.value(QStringLiteral("training_examples")).toInt());
        QVERIFY(qAbs(fields[columns.indexOf(QStringLiteral("accuracy"))].toDouble() - accuracyOf(d)) < 1e-6);
        QCOMPARE(fields[columns.indexOf(QStringLiteral("active"))], d.value(QStringLiteral("active")).toBool() ? QStringLiteral("1") : QStringLiteral("0"));
    }
}

void TestModelPage::scheduleEditorSavesAtOnce()
{
    // A project in the loop (no training needed): the editor's change is in force at once.
    const auto seeded = testing::seedProject(m_client, QStringLiteral("Schedule %1").arg(QRandomGenerator::global()->bounded(100000, 999999)),
                                             {QStringLiteral("fine")}, {}, testing::sentimentConfig());
    QVERIFY(seeded.project.id > 0);
    m_window->engine()->addProject(testing::keyOf(seeded.project));
    m_window->refreshNow();
    QTRY_VERIFY_WITH_TIMEOUT(m_window->selectProject(seeded.project.id), 30000);
    m_window->tabs()->setCurrentWidget(page());
    gui::ScheduleEditor *editor = page()->scheduleEditor();
    QTRY_VERIFY_WITH_TIMEOUT(editor->isEnabled(), 5000);
    editor->everySpin()->setValue(7);
    Q_EMIT editor->everySpin()->editingFinished();
    editor->uncertaintyBox()->setChecked(true);
    editor->intervalBox()->setChecked(true);
    QCOMPARE(m_window->engine()->settings(testing::keyOf(seeded.project)).trainEvery, 7);
    QVERIFY(m_window->engine()->settings(testing::keyOf(seeded.project)).uncertaintySampling);
    const QJsonObject settings = call("GET", backendUrl(QStringLiteral("/loop/status"), QStringLiteral("project=%1").arg(seeded.project.id)), {}, operatorAuth())
                                     .json.value(QStringLiteral("settings"))
                                     .toObject();
    QCOMPARE(settings.value(QStringLiteral("train_every")).toInt(), 7);
    QCOMPARE(settings.value(QStringLiteral("interval_minutes")).toInt(), editor->intervalSpin()->value());
    QTRY_VERIFY(editor->message().startsWith(QStringLiteral("Saved"))); // the answer comes from the event loop
    // Off: "every N" unchecked stores 0.
    editor->everyBox()->setChecked(false);
    QCOMPARE(m_window->engine()->settings(testing::keyOf(seeded.project)).trainEvery, 0);
}

void TestModelPage::notificationsCanBeTurnedOff()
{
    gui::Notifier *notifier = m_window->notifier();
    QAction *action = m_window->notificationsAction();
    QVERIFY(action->isCheckable());
    action->setChecked(false);
    QVERIFY(!notifier->isEnabled());
    QCOMPARE(m_settings->value(QStringLiteral("notifications/enabled")).toBool(), false);
    const int before = notifier->count();
    notifier->notify(QStringLiteral("title"), QStringLiteral("message"));
    QCOMPARE(notifier->count(), before);
    QVERIFY(!m_window->notificationBanner()->isVisible());
    action->setChecked(true);
    notifier->notify(QStringLiteral("title"), QStringLiteral("message"));
    QCOMPARE(notifier->count(), before + 1);
    QVERIFY(m_window->notificationBanner()->isVisible());
    QVERIFY(m_window->notificationBanner()->text().contains(QStringLiteral("message")));
    m_window->notificationBanner()->hide();
}

void TestModelPage::missedAnnotationsAreRecoveredAndAnnounced()
{
    // A project with 3 annotations joins the loop: its first reconcile imports them, which is
    // not news. Then 4 annotations whose webhooks never reach the backend (none is registered
    // here, as if it had been stopped): the next reconcile recovers them and says so.
    Project p;
    const QStringList texts = makeTexts(&p.labels);
    const auto seeded = testing::seedProject(m_client, QStringLiteral("Missed %1").arg(QRandomGenerator::global()->bounded(100000, 999999)),
                                             texts.mid(0, 7), p.labels.mid(0, 3), testing::sentimentConfig());
    QVERIFY(seeded.project.id > 0);
    p.id = seeded.project.id;
    p.key = testing::keyOf(seeded.project);
    p.tasks = seeded.taskIds;
    p.annotated = 3;
    const auto annotations = [&] {
        return m_window->engine()->status(p.key).body.value(QStringLiteral("annotations")).toInt();
    };
    QSignalSpy notified(m_window->notifier(), &gui::Notifier::notified);
    m_window->engine()->addProject(p.key);
    QTRY_COMPARE_WITH_TIMEOUT(annotations(), 3, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->engine()->status(p.key).body.value(QStringLiteral("last_reconcile")).isNull(), 10000);
    QApplication::processEvents();
    for (const QList<QVariant> &n : std::as_const(notified))
        QVERIFY2(!n.at(0).toString().contains(QStringLiteral("recovered")), qPrintable(n.at(1).toString()));

    QVERIFY(annotate(p, 4));
    QTest::qWait(500);
    QCOMPARE(annotations(), 3);
    m_window->engine()->reconcileNow(p.key, false); // what the periodic reconcile does
    QTRY_COMPARE_WITH_TIMEOUT(annotations(), 7, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(!notified.isEmpty() && notified.last().at(0).toString().contains(QStringLiteral("recovered")), 10000);
    QVERIFY2(notified.last().at(0).toString().endsWith(QStringLiteral("missed annotations recovered")),
             qPrintable(notified.last().at(0).toString()));
    QVERIFY2(notified.last().at(1).toString().contains(QStringLiteral(" 4 ")), qPrintable(notified.last().at(1).toString()));
    m_window->notificationBanner()->hide();
}

void TestModelPage::backendThatCannotServeIsAnnounced()
{
    // Another program takes the backend's port while it is stopped: starting it again fails,
    // and the operator hears about it.
    gui::BackendPanel *panel = m_window->backendPanel();
    panel->stopServer();
    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress(QStringLiteral("127.0.0.1")), m_port));
    QSignalSpy notified(m_window->notifier(), &gui::Notifier::notified);
    QVERIFY(!panel->startServer());
    QVERIFY(!notified.isEmpty());
    QCOMPARE(notified.last().at(0).toString(), QStringLiteral("The ML backend is not answering"));
    QVERIFY2(notified.last().at(1).toString().contains(QString::number(m_port)), qPrintable(notified.last().at(1).toString()));
    QVERIFY(m_window->notificationBanner()->isVisible());
    squatter.close();
    QVERIFY(panel->startServer());
    m_window->notificationBanner()->hide();
}

void TestModelPage::screenshotsEnglishAndChinese()
{
    // A richer history for the README: three versions from real annotations.
    Project p = makeProject(QStringLiteral("Customer feedback"), 2 * kThreshold + 5, 3);
    QVERIFY(p.id > 0);
    m_window->tabs()->setCurrentWidget(page());
    QTRY_COMPARE_WITH_TIMEOUT(page()->versionsModel()->rowCount(), 3, 10000);
    m_window->notificationBanner()->hide();
    testing::saveScreenshot(m_window.get(), QStringLiteral("model-page.png"));

    // The same project in a new window in Chinese (the engine reloads it from the data folder).
    m_window.reset();
    QVERIFY(gui::installTranslations(QLocale(QLocale::Chinese, QLocale::China)));
    openWindow();
    QTRY_VERIFY_WITH_TIMEOUT(m_window->selectProject(p.id), 30000);
    m_window->tabs()->setCurrentWidget(page());
    QTRY_COMPARE_WITH_TIMEOUT(page()->versionsModel()->rowCount(), 3, 10000);
    QCOMPARE(page()->trainButton()->text(), QStringLiteral("立即训练"));
    m_window->notificationBanner()->hide();
    testing::saveScreenshot(m_window.get(), QStringLiteral("model-page-zh_CN.png"));
    m_window.reset(); // the next test gets an English window
    gui::installTranslations(QLocale(QLocale::English, QLocale::UnitedStates));
}

QTEST_MAIN(TestModelPage)
#include "tst_modelpage.moc"
