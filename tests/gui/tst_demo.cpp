// The demo in the window, offscreen: with no saved connection the first-run screen explains the
// three steps and offers the demo; without a Label Studio program it says so inline; "Try the
// demo" starts a real local Label Studio (from the test venv), the window connects to the demo
// project, the simulated annotator's annotations make the loop train a version by itself, and
// stopping the demo ends its Label Studio. Saves a screenshot of the demo running.
#include "core/backend/backendserver.h"
#include "core/backend/predictionservice.h"
#include "core/demo/demosession.h"
#include "core/loop/loopengine.h"
#include "gui/appsettings.h"
#include "gui/guiapp.h"
#include "gui/mainwindow.h"
#include "gui/translations.h"

#include <QAction>
#include <QDir>
#include <QLocale>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
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

    void demoTrainsAVersionAndStopsWhatItStarted()
    {
        qputenv("LOOPDECK_LABEL_STUDIO", QByteArrayLiteral(LOOPDECK_LABEL_STUDIO_BIN));
        auto window = makeWindow(QStringLiteral("demo"));
        QTest::mouseClick(window->findChild<QPushButton *>(QStringLiteral("tryDemoButton")), Qt::LeftButton);
        QVERIFY(window->demoSession());
        QSignalSpy ready(window->demoSession(), &demo::DemoSession::labelStudioReady);
        QVERIFY(ready.wait(240000) || !ready.isEmpty());
        const QUrl labelStudio = ready.first().at(0).toUrl();
        const int project = ready.first().at(2).toInt();
        QVERIFY(project > 0);
        QVERIFY(!window->firstRunPanel()->isVisible());
        // The window is connected to the demo's Label Studio and shows its project.
        QTRY_COMPARE_WITH_TIMEOUT(window->session()->serverUrl(), labelStudio, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(window->session()->state() == gui::DashboardSession::State::Connected, 60000);
        // The annotator's labels arrive; the loop trains a version by itself (every 20).
        loop::LoopEngine *engine = window->engine();
        QTRY_VERIFY_WITH_TIMEOUT(window->demoSession()->annotations() >= 5, 60000);
        QTRY_VERIFY_WITH_TIMEOUT(engine->predictionService()->activeVersion(QString::number(project)) >= 1, 180000);
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
    }
};

QTEST_MAIN(TestDemo)
#include "tst_demo.moc"
