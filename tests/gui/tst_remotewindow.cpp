// The window operating a `loopdeck serve` in another process (offscreen, real processes): the
// real Label Studio fixture feeds that serve through webhooks; the window, connected to the same
// Label Studio for its project list, operates the serve's loop through "Connect to a LoopDeck
// server" (RemoteLoopClient: HTTP + the /loop/events stream). The model page shows the same
// versions as GET /versions; Train now adds a version that arrives through the events; roll back
// and activate act on the serve; the schedule edited in the window is in force there; a wrong
// token and a stopped server are said in the status bar and on the page, and the window recovers
// by itself when the server is back. Saves model-page-remote.png.
#include "core/client/remoteloopclient.h"
#include "gui/appsettings.h"
#include "gui/guiapp.h"
#include "guitesting.h"
#include "gui/loopserverdialog.h"
#include "gui/mainwindow.h"
#include "gui/modelpage.h"
#include "gui/notifier.h"
#include "gui/projectsmodel.h"
#include "gui/scheduleeditor.h"
#include "gui/translations.h"
#include "gui/versionsmodel.h"
#include "lsfixture.h"
#include "serveprocess.h"

#include <QApplication>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPushButton>
#include <QRandomGenerator>
#include <QSettings>
#include <QSpinBox>
#include <QStatusBar>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace loopdeck;
using namespace loopdeck::labelstudio;
using loopdeck::testing::Http;
using loopdeck::testing::ServeProcess;

namespace {

constexpr int kTasks = 70;
constexpr int kThreshold = 20;

} // namespace

class TestRemoteWindow final : public QObject
{
    Q_OBJECT
    testing::LsFixture m_fx;
    QTemporaryDir m_dir;
    QTemporaryDir m_serveData;
    ServeProcess m_serve;
    std::unique_ptr<QSettings> m_settings;
    std::unique_ptr<gui::MainWindow> m_window;
    LabelStudioClient m_client;
    int m_project = 0;
    QString m_key;
    QList<int> m_tasks;
    QStringList m_labels;
    int m_annotated = 0;

    gui::ModelPage *page() const { return m_window->modelPage(); }
    settings::LoopServerProfile profile() const
    {
        settings::LoopServerProfile p;
        p.name = QStringLiteral("Team server");
        p.url = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_serve.port));
        return p;
    }
    QJsonArray serveVersions() const
    {
        return m_serve.call("GET", QStringLiteral("/versions"), QStringLiteral("project=%1").arg(m_key)).json.value(QStringLiteral("details")).toArray();
    }
    QJsonObject serveStatus() const
    {
        return m_serve.call("GET", QStringLiteral("/loop/status"), QStringLiteral("project=%1").arg(m_key)).json;
    }
    bool annotate(int count)
    {
        for (int i = 0; i < count; ++i, ++m_annotated) {
            auto [body, error] = syncWait<QByteArray>(
                [&](auto cb) { m_client.createAnnotation(m_tasks[m_annotated], testing::sentimentAnnotation(m_labels[m_annotated]), cb); });
            if (error.isError()) {
                qWarning("annotation %d: %s", m_annotated, qPrintable(error.message()));
                return false;
            }
        }
        return true;
    }
    bool startServe()
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("LOOPDECK_TOKEN"), m_fx.token);
        return m_serve.start(m_serveData.path(),
                             {QStringLiteral("--label-studio"), m_fx.url.toString(), QStringLiteral("--train-every"),
                              QString::number(kThreshold), QStringLiteral("--log-level"), QStringLiteral("warning")},
                             env);
    }

private Q_SLOTS:
    void initTestCase()
    {
        qputenv("LOOPDECK_NO_KEYCHAIN", "1");
        qunsetenv("LOOPDECK_TOKEN");
        gui::initResources();
        gui::installTranslations(QLocale(QLocale::English, QLocale::UnitedStates));
        LOOPDECK_REQUIRE_FIXTURE(m_fx);
        QVERIFY(m_dir.isValid() && m_serveData.isValid());
        m_client.setServer(m_fx.url, m_fx.token);

        // The team's loop: `loopdeck serve` in its own process, registered in a Label Studio project.
        QVERIFY(startServe());
        for (int i = 0; i < kTasks; ++i) {
            const bool positive = (i * 7 + 3) % 5 < 3;
            m_labels << (positive ? QStringLiteral("Positive") : QStringLiteral("Negative"));
        }
        QStringList texts;
        for (int i = 0; i < kTasks; ++i)
            texts << QStringLiteral("ticket %1 was %2 and %3")
                         .arg(i)
                         .arg(m_labels[i] == u"Positive" ? QStringLiteral("great") : QStringLiteral("awful"),
                              i % 3 ? QStringLiteral("fine") : QStringLiteral("late"));
        QString error;
        const auto seeded = testing::seedProject(m_client, QStringLiteral("Remote %1").arg(QRandomGenerator::global()->bounded(100000, 999999)),
                                                 texts, {}, testing::sentimentConfig(), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        m_project = seeded.project.id;
        m_key = testing::keyOf(seeded.project);
        m_tasks = seeded.taskIds;
        MlBackendRegistration reg;
        reg.url = m_serve.url(QString()).toString();
        reg.project = m_project;
        auto [registered, e1] = syncWait<MlBackend>([&](auto cb) { m_client.registerMlBackend(reg, cb); });
        QVERIFY2(!e1.isError(), qPrintable(e1.message()));
        QTRY_COMPARE_WITH_TIMEOUT(serveStatus().value(QStringLiteral("project")).toString(), m_key, 30000);
        // Every version activates (the page is under test, not the activation policy); no cooldown.
        QCOMPARE(m_serve.call("POST", QStringLiteral("/loop/settings"), QStringLiteral("project=%1").arg(m_key),
                              R"({"activation_margin": 1.0, "cooldown_seconds": 0})")
                     .status,
                 200);
        QVERIFY(annotate(kThreshold + 2));
        QTRY_COMPARE_WITH_TIMEOUT(serveVersions().size(), 1, 60000);

        // The window: the same Label Studio for its project list, this computer's loop at first.
        m_settings = std::make_unique<QSettings>(m_dir.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
        gui::AppSettings(m_settings.get()).setDataDir(m_dir.filePath(QStringLiteral("data")));
        m_window = std::make_unique<gui::MainWindow>(m_settings.get());
        m_window->show();
        page()->setConfirm([](const QString &, const QString &) { return true; });
        settings::ConnectionProfile ls;
        ls.name = QStringLiteral("Team Label Studio");
        ls.url = m_fx.url;
        m_window->applyConnection(ls, m_fx.token);
        QTRY_VERIFY_WITH_TIMEOUT(m_window->selectProject(m_project), 30000);
        QCOMPARE(m_window->loopLocationText(), QStringLiteral("Loop: this computer"));
    }

    void cleanupTestCase()
    {
        m_window.reset();
        m_serve.stop();
    }

    void showsTheServersVersions()
    {
        m_window->applyLoopServer(profile(), m_serve.token);
        QVERIFY(m_window->remoteClient());
        QTRY_VERIFY_WITH_TIMEOUT(m_window->remoteClient()->isUp(), 15000);
        QVERIFY2(m_window->loopLocationText().endsWith(QLatin1String("connected")), qPrintable(m_window->loopLocationText()));
        QCOMPARE(m_window->shownClient(), m_window->remoteClient());
        m_window->tabs()->setCurrentWidget(page());
        QTRY_VERIFY_WITH_TIMEOUT(m_window->selectProject(m_project), 10000);
        const QJsonArray versions = serveVersions();
        QTRY_COMPARE_WITH_TIMEOUT(page()->versionsModel()->rowCount(), int(versions.size()), 15000);
        QCOMPARE(page()->versionsModel()->activeVersion(), 1);
        // The same metrics as /versions: the page's version list is the server's.
        const QList<client::VersionInfo> shown = m_window->remoteClient()->versions(m_key);
        QCOMPARE(shown.size(), versions.size());
        for (int i = 0; i < versions.size(); ++i) {
            const QJsonObject v = versions[i].toObject();
            QCOMPARE(shown[i].version, v.value(QStringLiteral("version")).toInt());
            QCOMPARE(shown[i].trainingExamples, v.value(QStringLiteral("training_examples")).toInt());
            QCOMPARE(shown[i].trigger, v.value(QStringLiteral("trigger")).toString());
        }
        // The saved server survives: a new window would operate it again.
        QCOMPARE(settings::LoopServerProfiles(m_settings.get()).current(), profile().name);
    }

    void trainNowArrivesThroughEvents()
    {
        m_window->tabs()->setCurrentWidget(page());
        QTRY_VERIFY_WITH_TIMEOUT(page()->trainButton()->isEnabled(), 15000);
        QTest::mouseClick(page()->trainButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(serveVersions().size(), 2, 60000);
        QTRY_COMPARE_WITH_TIMEOUT(page()->versionsModel()->rowCount(), 2, 15000);
        QTRY_COMPARE_WITH_TIMEOUT(page()->versionsModel()->activeVersion(), 2, 15000);
        QCOMPARE(serveStatus().value(QStringLiteral("active_version")).toString(), QStringLiteral("loopdeck-v2"));
        // The notification comes from the remote loop's event, as it does for this computer's.
        QTRY_VERIFY_WITH_TIMEOUT(m_window->notificationBanner()->text().contains(QLatin1String("v2")), 15000);
    }

    void rollBackAndActivateActOnTheServer()
    {
        QTRY_VERIFY_WITH_TIMEOUT(page()->rollbackButton()->isEnabled(), 15000);
        QTest::mouseClick(page()->rollbackButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(serveStatus().value(QStringLiteral("active_version")).toString(), QStringLiteral("loopdeck-v1"), 15000);
        QTRY_COMPARE_WITH_TIMEOUT(page()->versionsModel()->activeVersion(), 1, 15000);
        QVERIFY(page()->selectVersion(2));
        QTRY_VERIFY_WITH_TIMEOUT(page()->activateButton()->isEnabled(), 15000);
        QTest::mouseClick(page()->activateButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(serveStatus().value(QStringLiteral("active_version")).toString(), QStringLiteral("loopdeck-v2"), 15000);
        QTRY_COMPARE_WITH_TIMEOUT(page()->versionsModel()->activeVersion(), 2, 15000);
    }

    void scheduleEditedRemotelyIsInForce()
    {
        gui::ScheduleEditor *editor = page()->scheduleEditor();
        QTRY_VERIFY_WITH_TIMEOUT(editor->isEnabled(), 10000);
        editor->everySpin()->setValue(33);
        Q_EMIT editor->everySpin()->editingFinished();
        QTRY_COMPARE_WITH_TIMEOUT(serveStatus().value(QStringLiteral("settings")).toObject().value(QStringLiteral("train_every")).toInt(), 33,
                                  15000);
        QTRY_COMPARE_WITH_TIMEOUT(m_window->remoteClient()->settings(m_key).trainEvery, 33, 15000);
        testing::saveScreenshot(m_window.get(), QStringLiteral("model-page-remote.png"));
    }

    void wrongTokenIsSaid()
    {
        m_window->applyLoopServer(profile(), QStringLiteral("ldo_this_is_not_the_servers_token"));
        QTRY_VERIFY_WITH_TIMEOUT(m_window->loopLocationText().endsWith(QLatin1String("not answering")), 15000);
        QVERIFY2(m_window->remoteClient()->connectionError().contains(QLatin1String("operator token")),
                 qPrintable(m_window->remoteClient()->connectionError()));
        // The page says the loop does not answer, and why; the label in the status bar too.
        QTRY_VERIFY_WITH_TIMEOUT(page()->trainReason().contains(QLatin1String("operator token")), 10000);
        QVERIFY(!page()->trainButton()->isEnabled());
        auto *where = m_window->statusBar()->findChild<QLabel *>(QStringLiteral("loopLocation"));
        QVERIFY(where);
        QCOMPARE(where->text(), m_window->loopLocationText());
        QVERIFY(where->toolTip().contains(QLatin1String("operator token")));
        // The right token again: back at once.
        m_window->applyLoopServer(profile(), m_serve.token);
        QTRY_VERIFY_WITH_TIMEOUT(m_window->remoteClient()->isUp(), 15000);
        QTRY_COMPARE_WITH_TIMEOUT(page()->versionsModel()->rowCount(), 2, 15000);
    }

    void deadServerIsSaidAndRecovered()
    {
        // After the demo's loop or a settings change was shown, the status bar still follows this one.
        m_window->useLoopServer(profile().name); // already operated: nothing changes
        auto *where = m_window->statusBar()->findChild<QLabel *>(QStringLiteral("loopLocation"));
        QVERIFY(where);
        m_serve.stop();
        QTRY_VERIFY_WITH_TIMEOUT(m_window->loopLocationText().endsWith(QLatin1String("not answering")), 20000);
        QTRY_VERIFY_WITH_TIMEOUT(where->text().endsWith(QLatin1String("not answering")), 5000);
        // The dashboard shows no loop state of a loop that does not answer.
        QTRY_VERIFY_WITH_TIMEOUT(m_window->projectsModel()->loopSummaryCount() == 0, 5000);
        QVERIFY(!m_window->remoteClient()->connectionError().isEmpty());
        QVERIFY(startServe()); // same port, same data folder, same token
        QTRY_VERIFY_WITH_TIMEOUT(m_window->remoteClient()->isUp(), 40000);
        QTRY_VERIFY_WITH_TIMEOUT(m_window->loopLocationText().endsWith(QLatin1String("connected")), 5000);
        QTRY_COMPARE_WITH_TIMEOUT(page()->versionsModel()->rowCount(), 2, 15000);
    }

    void aNewWindowWithoutTheTokenDoesNotConnect()
    {
        // The token was kept for the first window's session only (no keychain here): a second
        // window restores the chosen server, but without a token it does not knock on its door.
        gui::MainWindow second(m_settings.get());
        QTRY_VERIFY_WITH_TIMEOUT(second.loopLocationText().contains(QLatin1String("no operator token")), 10000);
        QVERIFY(!second.remoteClient());
        QCOMPARE(second.shownClient(), second.client());
    }

    void editingTheAddressNeedsANewToken()
    {
        gui::LoopServerDialog dialog({});
        dialog.setProfile(profile(), true);
        QVERIFY2(dialog.problem().isEmpty(), qPrintable(dialog.problem())); // same server: the stored token is kept
        dialog.setValues(profile().name, QStringLiteral("http://127.0.0.2:%1").arg(m_serve.port), QString());
        QVERIFY(dialog.problem().contains(QLatin1String("another server")));
        dialog.setValues(profile().name, profile().url.toString(), QStringLiteral("ldo_line\nbreak_0123456789"));
        QVERIFY(dialog.problem().contains(QLatin1String("line breaks")));
    }

    void backToThisComputer()
    {
        m_window->useLoopServer(QString());
        QVERIFY(!m_window->remoteClient());
        QCOMPARE(m_window->shownClient(), m_window->client());
        QCOMPARE(m_window->loopLocationText(), QStringLiteral("Loop: this computer"));
        QCOMPARE(settings::LoopServerProfiles(m_settings.get()).current(), QString());
    }
};

QTEST_MAIN(TestRemoteWindow)
#include "tst_remotewindow.moc"
