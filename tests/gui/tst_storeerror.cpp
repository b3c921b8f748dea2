// The window when the loop cannot open its store, offscreen and without a Label Studio: a data
// folder whose loopdeck.sqlite3 is not an SQLite database (tests run as root, so a read-only
// folder would not stop them) and one written by a newer LoopDeck. The window shows the "Loop"
// page with the folder, the reason and what to do, the dashboard and the other tabs keep
// working, and choosing another data directory starts the loop at once. The same with the loop
// the application owns (LocalLoop, what gui::run() hands the window): the window uses it, does not
// try the failed folder again, opens it in the new folder, and the loop outlives the window.
// Saves a screenshot.
#include "core/client/loopclient.h"
#include "core/loop/loopengine.h"
#include "gui/appsettings.h"
#include "gui/backendpanel.h"
#include "gui/guiapp.h"
#include "gui/localloop.h"
#include "gui/mainwindow.h"
#include "gui/modelpage.h"
#include "gui/translations.h"

#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QSettings>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace loopdeck;

class TestStoreError final : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;
    QSettings *m_settings = nullptr; // the last window's

    std::unique_ptr<gui::MainWindow> makeWindow(const QString &name, const QString &dataDir, gui::LocalLoop *loop = nullptr)
    {
        auto settings = new QSettings(m_dir.filePath(name + QStringLiteral(".ini")), QSettings::IniFormat);
        m_settings = settings;
        gui::AppSettings(settings).setDataDir(dataDir);
        auto window = std::make_unique<gui::MainWindow>(settings, loop);
        settings->setParent(window.get());
        window->resize(1360, 820);
        window->show();
        return window;
    }

    // The window shows the error page for `dataDir` and everything else still works.
    void checkErrorPage(gui::MainWindow *window, const QString &dataDir, const QString &reason)
    {
        QVERIFY(!window->engine());
        QVERIFY(!window->client());
        QVERIFY(!window->shownClient());
        QVERIFY(!window->backendPanel());
        QWidget *page = window->findChild<QWidget *>(QStringLiteral("loopErrorPage"));
        QVERIFY(page);
        QCOMPARE(window->loopErrorPage(), page);
        QCOMPARE(window->tabs()->currentWidget(), page);
        QVERIFY(page->isVisible());
        auto *text = page->findChild<QLabel *>(QStringLiteral("loopErrorText"));
        QVERIFY(text);
        const QString shown = text->text();
        QVERIFY2(shown.contains(QDir::toNativeSeparators(dataDir).toHtmlEscaped()), qPrintable(shown));
        QVERIFY2(shown.contains(reason, Qt::CaseInsensitive), qPrintable(shown));
        QVERIFY2(shown.contains(QLatin1String("Settings")), qPrintable(shown));
        QVERIFY(page->findChild<QPushButton *>(QStringLiteral("loopErrorSettingsButton")));
        // The model tab has no loop to show; every tab can be visited without a crash.
        QVERIFY(!window->tabs()->isTabEnabled(window->tabs()->indexOf(window->modelPage())));
        for (int i = 0; i < window->tabs()->count(); ++i) {
            window->tabs()->setCurrentIndex(i);
            QCoreApplication::processEvents();
        }
        window->tabs()->setCurrentWidget(page);
        // The dashboard still connects (nobody answers at this address: it says so).
        settings::ConnectionProfile profile;
        profile.name = QStringLiteral("Somewhere");
        profile.url = QUrl(QStringLiteral("http://127.0.0.1:9"));
        window->applyConnection(profile, QStringLiteral("0123456789abcdef0123456789abcdef01234567"));
        QTRY_VERIFY_WITH_TIMEOUT(window->session()->state() == gui::DashboardSession::State::Disconnected
                                     || window->session()->state() == gui::DashboardSession::State::Failed,
                                 20000);
        window->refreshNow();
        QTest::qWait(200);
    }

private Q_SLOTS:
    void initTestCase()
    {
        qputenv("LOOPDECK_NO_KEYCHAIN", "1");
        qunsetenv("LOOPDECK_TOKEN");
        qunsetenv("LOOPDECK_DATA_DIR");
        gui::initResources();
        gui::installTranslations(QLocale(QLocale::English, QLocale::UnitedStates));
        QVERIFY(m_dir.isValid());
    }

    void corruptStoreShowsTheErrorPage()
    {
        const QString data = m_dir.filePath(QStringLiteral("corrupt-data"));
        QVERIFY(QDir().mkpath(data));
        QFile file(QDir(data).filePath(QStringLiteral("loopdeck.sqlite3")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        for (int i = 0; i < 256; ++i)
            file.write("this is not an SQLite database, just text. ");
        file.close();

        auto window = makeWindow(QStringLiteral("corrupt"), data);
        checkErrorPage(window.get(), data, QStringLiteral("not a usable SQLite database"));
        window->tabs()->setCurrentWidget(window->loopErrorPage());
        const QString shot = QDir(QStringLiteral(LOOPDECK_SCREENSHOTS)).filePath(QStringLiteral("loop-error.png"));
        QDir().mkpath(QFileInfo(shot).path());
        QVERIFY(window->grab().save(shot, "PNG"));
        qInfo("screenshot: %s", qPrintable(shot));

        // Another data directory in Settings: the loop starts there at once, the page goes.
        const QString good = m_dir.filePath(QStringLiteral("good-data"));
        gui::AppSettings(m_settings).setDataDir(good);
        window->applySettings();
        QVERIFY(window->engine());
        QCOMPARE(window->engine()->dataDir(), good);
        QVERIFY(window->client());
        QCOMPARE(window->shownClient(), window->client());
        QCOMPARE(window->modelPage()->client(), window->client());
        QVERIFY(!window->findChild<QWidget *>(QStringLiteral("loopErrorPage")));
        QVERIFY(!window->loopErrorPage());
        QVERIFY(window->backendPanel());
        QVERIFY(window->tabs()->indexOf(window->backendPanel()) >= 0);
        QVERIFY(window->tabs()->isTabEnabled(window->tabs()->indexOf(window->modelPage())));
        QTRY_VERIFY(window->engine()->hasLabelStudio()); // the saved connection reaches the new loop
        window->close();
    }

    void storeOfANewerLoopDeckShowsTheErrorPage()
    {
        const QString data = m_dir.filePath(QStringLiteral("newer-data"));
        QVERIFY(QDir().mkpath(data));
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("newer"));
            db.setDatabaseName(QDir(data).filePath(QStringLiteral("loopdeck.sqlite3")));
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec(QStringLiteral("PRAGMA user_version=9999")));
            db.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("newer"));

        auto window = makeWindow(QStringLiteral("newer"), data);
        checkErrorPage(window.get(), data, QStringLiteral("newer LoopDeck"));
        window->close();
    }

    void applicationOwnsTheLoop()
    {
        const QString key = QStringLiteral("1.1764064800");
        const QString data = m_dir.filePath(QStringLiteral("app-data"));
        gui::LocalLoop loop;
        QVERIFY(loop.open(data));
        loop::LoopEngine *engine = loop.engine();
        QVERIFY(engine->setSettings(key, loop::LoopSettings()).ok());
        {
            auto window = makeWindow(QStringLiteral("app"), data, &loop);
            QCOMPARE(window->engine(), engine);
            QCOMPARE(window->client(), loop.client());
            QCOMPARE(window->shownClient(), loop.client());
            QCOMPARE(window->modelPage()->client(), loop.client());
            QVERIFY(window->backendPanel());
            window->close();
        }
        // The window is gone, the loop is not.
        QCOMPARE(loop.engine(), engine);
        QCOMPARE(loop.client()->projects(), QStringList{key});
        QVERIFY(loop.client()->status(key));

        // The application could not open its folder: the window explains it without trying the
        // same folder again, and opens the application's loop in the folder chosen in Settings.
        const QString corrupt = m_dir.filePath(QStringLiteral("app-corrupt"));
        QVERIFY(QDir().mkpath(corrupt));
        QFile file(QDir(corrupt).filePath(QStringLiteral("loopdeck.sqlite3")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        for (int i = 0; i < 256; ++i)
            file.write("this is not an SQLite database either. ");
        file.close();
        gui::LocalLoop broken;
        QVERIFY(!broken.open(corrupt));
        QCOMPARE(broken.errorDir(), corrupt);
        QVERIFY(!broken.client());
        auto window = makeWindow(QStringLiteral("app-corrupt"), corrupt, &broken);
        checkErrorPage(window.get(), corrupt, QStringLiteral("not a usable SQLite database"));
        QCOMPARE(window->loopError(), broken.error());
        const QString good = m_dir.filePath(QStringLiteral("app-good"));
        gui::AppSettings(m_settings).setDataDir(good);
        window->applySettings();
        QVERIFY(broken.engine());
        QCOMPARE(broken.engine()->dataDir(), good);
        QCOMPARE(window->engine(), broken.engine());
        QCOMPARE(window->shownClient(), broken.client());
        QCOMPARE(window->modelPage()->client(), broken.client());
        window->close();
    }
};

QTEST_MAIN(TestStoreError)
#include "tst_storeerror.moc"
