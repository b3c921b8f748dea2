// The demo in the window, offscreen: with no saved connection the first-run screen explains the
// three steps and offers the demo; without a Label Studio program it says so inline; "Try the
// demo" starts a real local Label Studio (from the test venv), the window connects to the demo
// project, the simulated annotator's annotations make the demo's own loop train a version by
// itself (shown on the model page), and stopping the demo ends its Label Studio. The demo never
// touches the user's loop: with a Label Studio and project settings of the user's own, it leaves
// the user's store, settings, model registry and Label Studio connection as they were. Saves a
// screenshot of the demo running.
#include "core/backend/backendserver.h"
#include "core/backend/predictionservice.h"
#include "core/client/inprocessloopclient.h"
#include "core/demo/demosession.h"
#include "core/loop/loopengine.h"
#include "core/store/loopstore.h"
#include "core/store/store.h"
#include "gui/appsettings.h"
#include "gui/backendpanel.h"
#include "gui/guiapp.h"
#include "gui/mainwindow.h"
#include "gui/modelpage.h"
#include "gui/versionsmodel.h"
#include "gui/translations.h"

#include <QAction>
#include <QDir>
#include <QDirIterator>
#include <QLocale>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace loopdeck;

class TestDemo final : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;

    std::unique_ptr<gui::MainWindow> makeWindow(const QString &name)
    {
        auto settings = new QSettings(m_dir.filePath(name + QStringLiteral(".ini")), QSettings::IniFormat);
        gui::AppSettings app(settings);
        app.setDataDir(m_dir.filePath(name + QStringLiteral("-data")));
        auto window = std::make_unique<gui::MainWindow>(settings);
        settings->setParent(window.get());
        window->resize(1360, 820);
        window->show();
        return window;
    }

private Q_SLOTS:
    void initTestCase()
    {
        qputenv("LOOPDECK_NO_KEYCHAIN", "1");
        qunsetenv("LOOPDECK_TOKEN");
        gui::initResources();
        gui::installTranslations(QLocale(QLocale::English, QLocale::UnitedStates));
        QVERIFY(m_dir.isValid());
    }

    void withoutLabelStudioTheFirstRunScreenSaysWhatToDo()
    {
        qputenv("LOOPDECK_LABEL_STUDIO", m_dir.filePath(QStringLiteral("no-such-label-studio")).toUtf8());
        auto window = makeWindow(QStringLiteral("missing"));
        QVERIFY(window->firstRunPanel()->isVisible());
        auto *tryButton = window->findChild<QPushButton *>(QStringLiteral("tryDemoButton"));
        QVERIFY(tryButton);
        QTest::mouseClick(tryButton, Qt::LeftButton);
        QTRY_VERIFY(window->firstRunMessage().contains(QLatin1String("Label Studio was not found")));
        QVERIFY(window->firstRunMessage().contains(QLatin1String("quickstart.sh app")));
        QVERIFY(window->firstRunPanel()->isVisible());
        QVERIFY(!window->demoSession());
    }

    void firstRunScreenGoesOnceAConnectionIsSaved()
    {
        auto window = makeWindow(QStringLiteral("connect"));
        QVERIFY(window->firstRunPanel()->isVisible());
        settings::ConnectionProfile profile;
        profile.name = QStringLiteral("Somewhere");
        profile.url = QUrl(QStringLiteral("http://127.0.0.1:9"));
        window->applyConnection(profile, QStringLiteral("0123456789abcdef0123456789abcdef01234567"));
        QVERIFY(!window->firstRunPanel()->isVisible());
    }

    // The user's own loop next to the demo: a Label Studio, a project with settings of its own.
    // The demo runs on an engine, backend and data folder of its own, and Stop gives the window
    // back as it was.
    void demoTrainsAVersionAndStopsWhatItStarted()
    {
        qputenv("LOOPDECK_LABEL_STUDIO", QByteArrayLiteral(LOOPDECK_LABEL_STUDIO_BIN));
        auto window = makeWindow(QStringLiteral("demo"));
        loop::LoopEngine *mine = window->engine();
        QVERIFY(mine);
        const QString userData = mine->dataDir();
        // The user's Label Studio (nobody answers there; the engine only has to keep it) and
        // settings for project 1, the id a fresh Label Studio gives the demo's project.
        const QUrl userLabelStudio(QStringLiteral("http://127.0.0.1:9"));
        mine->setLabelStudio(userLabelStudio, QStringLiteral("0123456789abcdef0123456789abcdef01234567"));
        QVERIFY(mine->hasLabelStudio());
        loop::LoopSettings userSettings = mine->defaults();
        userSettings.trainEvery = 77;
        userSettings.cooldownSeconds = 123;
        userSettings.uncertaintySampling = false;
        // The user's project 1 lives on another server (another creation time) than the demo's.
        const QString userKey = QStringLiteral("1.1764064800");
        QVERIFY(mine->setSettings(userKey, userSettings));
        const QStringList userProjects = mine->projects();
        QCOMPARE(userProjects, QStringList{userKey});

        QTest::mouseClick(window->findChild<QPushButton *>(QStringLiteral("tryDemoButton")), Qt::LeftButton);
        QVERIFY(window->demoSession());
        QSignalSpy ready(window->demoSession(), &demo::DemoSession::labelStudioReady);
        QVERIFY(ready.wait(240000) || !ready.isEmpty());
        const QUrl labelStudio = ready.first().at(0).toUrl();
        const int project = ready.first().at(2).toInt();
        QVERIFY(project > 0);
        QVERIFY(!window->firstRunPanel()->isVisible());
        // The demo's own loop: another engine, data folder and backend; the window shows it.
        loop::LoopEngine *engine = window->demoSession()->engine();
        QVERIFY(engine);
        QVERIFY(engine != mine);
        const QString demoData = window->demoSession()->dataDir();
        QVERIFY2(!QDir::cleanPath(engine->dataDir()).startsWith(QDir::cleanPath(userData)), qPrintable(engine->dataDir()));
        QVERIFY(engine->dataDir().startsWith(demoData));
        QVERIFY(engine->server()->isListening());
        QVERIFY(!mine->server()->isListening());
        // ... through a client of its own (the model page and the dashboard use only that).
        auto *shown = qobject_cast<client::InProcessLoopClient *>(window->shownClient());
        QVERIFY(shown);
        QVERIFY(window->shownClient() != window->client());
        QCOMPARE(shown->engine(), engine);
        QCOMPARE(window->modelPage()->client(), window->shownClient());
        // The backend tab configures the user's server: off while the demo runs its own.
        QVERIFY(!window->tabs()->isTabEnabled(window->tabs()->indexOf(window->backendPanel())));
        // The user's project keeps its settings and the user's engine its Label Studio.
        QVERIFY(mine->settings(userKey) == userSettings);
        QVERIFY(mine->hasLabelStudio());
        // The window is connected to the demo's Label Studio and shows its project.
        QTRY_COMPARE_WITH_TIMEOUT(window->session()->serverUrl(), labelStudio, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(window->session()->state() == gui::DashboardSession::State::Connected, 60000);
        // The annotator's labels arrive; the demo's loop trains a version by itself (every 20)
        // and the model page shows it.
        QTRY_VERIFY_WITH_TIMEOUT(window->demoSession()->annotations() >= 5, 60000);
        const auto demoKeyNow = [&] { return engine->resolve(QString::number(project)).value_or(QString()); };
        QTRY_VERIFY_WITH_TIMEOUT(engine->predictionService()->activeVersion(demoKeyNow()) >= 1, 180000);
        const QString demoKey = demoKeyNow();
        QVERIFY2(demoKey.startsWith(QStringLiteral("%1.").arg(project)), qPrintable(demoKey)); // Label Studio's full key
        QTRY_COMPARE_WITH_TIMEOUT(window->modelPage()->projectKey(), demoKey, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(window->modelPage()->versionsModel()->rowCount() >= 1, 10000);
        const QString shot = QDir(QStringLiteral(LOOPDECK_SCREENSHOTS)).filePath(QStringLiteral("demo.png"));
        QDir().mkpath(QFileInfo(shot).path());
        QVERIFY(window->grab().save(shot, "PNG"));
        qInfo("screenshot: %s", qPrintable(shot));

        window->stopDemo();
        QVERIFY(!window->demoSession());
        QNetworkAccessManager nam;
        QNetworkRequest request(QUrl(labelStudio.toString() + QStringLiteral("/health/")));
        request.setTransferTimeout(5000);
        std::unique_ptr<QNetworkReply> reply(nam.get(request));
        QSignalSpy finished(reply.get(), &QNetworkReply::finished);
        QVERIFY(finished.wait(10000));
        QVERIFY2(reply->error() != QNetworkReply::NoError, "the demo's Label Studio still answers after the demo stopped");
        QVERIFY(!QFileInfo::exists(demoData));

        // The window views the user's loop again, still connected to the user's Label Studio.
        QCOMPARE(window->engine(), mine);
        QVERIFY(window->client());
        QCOMPARE(window->shownClient(), window->client());
        QCOMPARE(qobject_cast<client::InProcessLoopClient *>(window->client())->engine(), mine);
        QCOMPARE(window->modelPage()->client(), window->client());
        QVERIFY(window->tabs()->isTabEnabled(window->tabs()->indexOf(window->backendPanel())));
        QVERIFY(mine->hasLabelStudio());
        // The user's store: the same projects and settings, no versions.
        QCOMPARE(mine->projects(), userProjects);
        QVERIFY(mine->settings(userKey) == userSettings);
        const auto storedProjects = mine->store()->projects();
        QVERIFY(storedProjects);
        QCOMPARE(storedProjects.value(), userProjects);
        const auto versions = mine->store()->versions(userKey);
        QVERIFY(versions);
        QVERIFY(versions.value().isEmpty());
        QCOMPARE(mine->predictionService()->activeVersion(demoKey), 0);
        // No demo progress history in the user's dashboard store.
        QVERIFY(window->session()->progressStore());
        QString problem;
        QVERIFY(window->session()
                    ->progressStore()
                    ->progress(labelStudio.adjusted(QUrl::StripTrailingSlash).toString(), project, 1000, &problem)
                    .isEmpty());
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        // The user's model registry holds no version file.
        QDirIterator models(userData, {QStringLiteral("*.ldm"), QStringLiteral("v*.json"), QStringLiteral("active.json")},
                            QDir::Files, QDirIterator::Subdirectories);
        QVERIFY2(!models.hasNext(), models.hasNext() ? qPrintable(models.next()) : "");
    }
};

QTEST_MAIN(TestDemo)
#include "tst_demo.moc"
