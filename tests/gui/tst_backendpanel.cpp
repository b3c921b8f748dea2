// GUI test of the ML backend panel against the fixture Label Studio (offscreen): one click
// starts the embedded backend, its URL is shown and /health answers, requests are counted and
// logged, "Connect to this project" registers it with a seeded project and Label Studio reports
// it connected, "Fetch predictions" goes through, and one click stops it. Saves a screenshot.
#include "backend/backendserver.h"
#include "gui/appsettings.h"
#include "gui/backendpanel.h"
#include "gui/guiapp.h"
#include "gui/mainwindow.h"
#include "gui/translations.h"
#include "lsfixture.h"

#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPushButton>
#include <QRandomGenerator>
#include <QSettings>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

#include <memory>

using namespace loopdeck;
using namespace loopdeck::labelstudio;
using loopdeck::gui::DashboardSession;

class TestBackendPanel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void startsWithOneClickAndAnswersHealth();
    void connectsToSeededProject();
    void fetchesPredictions();
    void screenshot();
    void stopsWithOneClick();
    void teardownAfterTheSessionIsGone();

private:
    QPushButton *button(const char *name) const
    {
        return m_window->backendPanel()->findChild<QPushButton *>(QLatin1String(name));
    }

    testing::LsFixture m_fx;
    QTemporaryDir m_dir;
    std::unique_ptr<QSettings> m_settings;
    std::unique_ptr<gui::MainWindow> m_window;
    LabelStudioClient m_client;
    testing::SeededProject m_project;
};

void TestBackendPanel::initTestCase()
{
    qputenv("LOOPDECK_NO_KEYCHAIN", "1");
    qunsetenv("LOOPDECK_TOKEN");
    gui::initResources();
    gui::installTranslations(QLocale(QLocale::English, QLocale::UnitedStates));
    LOOPDECK_REQUIRE_FIXTURE(m_fx);
    QVERIFY(m_dir.isValid());
    m_client.setServer(m_fx.url, m_fx.token);
    QString error;
    const QString title = QStringLiteral("Backend%1 customer feedback").arg(QRandomGenerator::global()->bounded(100000, 999999));
    m_project = testing::seedProject(m_client, title,
                                     {QStringLiteral("Great service, thank you"), QStringLiteral("Awful, never again"),
                                      QStringLiteral("Okay I guess"), QStringLiteral("Brilliant support team"),
                                      QStringLiteral("The parcel was late")},
                                     {QStringLiteral("Positive"), QStringLiteral("Negative")},
                                     testing::sentimentConfig(), &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));

    m_settings = std::make_unique<QSettings>(m_dir.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
    gui::AppSettings app(m_settings.get());
    app.setDataDir(m_dir.filePath(QStringLiteral("data")));
    const quint16 port = backend::BackendServer::suggestFreePort(QStringLiteral("127.0.0.1"), 19090);
    QVERIFY(port != 0);
    app.setBackendPort(port);

    m_window = std::make_unique<gui::MainWindow>(m_settings.get());
    m_window->resize(1360, 820);
    m_window->show();
    settings::ConnectionProfile profile;
    profile.name = QStringLiteral("Local Label Studio");
    profile.url = m_fx.url;
    m_window->applyConnection(profile, m_fx.token);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->session()->state(), DashboardSession::State::Connected, 30000);
    QVERIFY(m_window->selectProject(m_project.project.id));
    m_window->tabs()->setCurrentWidget(m_window->backendPanel());
}

void TestBackendPanel::cleanupTestCase()
{
    m_window.reset();
}

void TestBackendPanel::startsWithOneClickAndAnswersHealth()
{
    gui::BackendPanel *panel = m_window->backendPanel();
    QVERIFY(!panel->isRunning());
    QVERIFY(panel->url().isEmpty());
    QPushButton *start = button("startBackendButton");
    QVERIFY(start);
    QTest::mouseClick(start, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(panel->isRunning(), 5000);
    QCOMPARE(panel->stateText(), QStringLiteral("Running"));
    QVERIFY2(panel->errorText().isEmpty(), qPrintable(panel->errorText()));
    const QString url = panel->url();
    QCOMPARE(url, QStringLiteral("http://127.0.0.1:%1").arg(gui::AppSettings(m_settings.get()).backendPort()));
    auto *urlEdit = panel->findChild<QLineEdit *>(QStringLiteral("backendUrl"));
    QVERIFY(urlEdit);
    QCOMPARE(urlEdit->text(), url);

    // /health answers with JSON, and the panel counts and logs the request.
    const qint64 before = panel->requestCount();
    QNetworkAccessManager nam;
    std::unique_ptr<QNetworkReply> reply(nam.get(QNetworkRequest(QUrl(url + QStringLiteral("/health")))));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    QVERIFY(finished.wait(5000));
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    const QJsonDocument doc = QJsonDocument::fromJson(reply->readAll());
    QVERIFY(doc.isObject());
    QTRY_VERIFY_WITH_TIMEOUT(panel->requestCount() > before, 5000);
    QTRY_VERIFY_WITH_TIMEOUT(panel->logRowCount() >= 1, 5000);

    // "Copy operator token": the token of this backend's data folder, which /loop/* takes.
    QPushButton *copyToken = button("copyOperatorToken");
    QVERIFY(copyToken);
    QApplication::clipboard()->clear();
    QTest::mouseClick(copyToken, Qt::LeftButton);
    const QString token = QApplication::clipboard()->text();
    QVERIFY(token.startsWith(QLatin1String("ldo_")));
    QNetworkRequest status(QUrl(url + QStringLiteral("/loop/status")));
    status.setRawHeader("Authorization", "Bearer " + token.toLatin1());
    std::unique_ptr<QNetworkReply> withToken(nam.get(status));
    QSignalSpy statusDone(withToken.get(), &QNetworkReply::finished);
    QVERIFY(statusDone.wait(5000));
    QCOMPARE(withToken->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
}

void TestBackendPanel::connectsToSeededProject()
{
    gui::BackendPanel *panel = m_window->backendPanel();
    QPushButton *connectButton = button("connectProjectButton");
    QVERIFY(connectButton);
    QVERIFY(connectButton->isEnabled());
    QSignalSpy updated(panel, &gui::BackendPanel::registrationUpdated);
    QTest::mouseClick(connectButton, Qt::LeftButton);
    QVERIFY(updated.wait(60000));
    QCOMPARE(updated.last().at(0).toBool(), true);
    QVERIFY(panel->registration().has_value());
    QCOMPARE(panel->registration()->state, QStringLiteral("CO"));
    QVERIFY2(panel->labelStudioStateText().startsWith(QStringLiteral("Connected")), qPrintable(panel->labelStudioStateText()));

    // Label Studio's own list agrees: one registration for our URL, connected.
    auto [backends, error] = syncWait<QList<MlBackend>>([&](auto cb) { m_client.fetchMlBackends(m_project.project.id, cb); });
    QVERIFY2(!error.isError(), qPrintable(error.message()));
    int mine = 0;
    for (const MlBackend &b : backends) {
        if (QUrl(b.url).adjusted(QUrl::StripTrailingSlash) == QUrl(panel->url())) {
            ++mine;
            QCOMPARE(b.state, QStringLiteral("CO"));
        }
    }
    QCOMPARE(mine, 1);
    // Label Studio called /setup on us: the log has it.
    auto *log = panel->findChild<QTreeWidget *>(QStringLiteral("requestLog"));
    QVERIFY(log);
    QTRY_VERIFY_WITH_TIMEOUT(!log->findItems(QStringLiteral("/setup"), Qt::MatchExactly, 2).isEmpty(), 5000);

    // Connecting again reuses the registration instead of adding a second one.
    QTest::mouseClick(connectButton, Qt::LeftButton);
    QVERIFY(updated.wait(60000));
    auto [again, error2] = syncWait<QList<MlBackend>>([&](auto cb) { m_client.fetchMlBackends(m_project.project.id, cb); });
    QVERIFY(!error2.isError());
    QCOMPARE(again.size(), backends.size());
}

void TestBackendPanel::fetchesPredictions()
{
    gui::BackendPanel *panel = m_window->backendPanel();
    QPushButton *fetch = button("fetchPredictionsButton");
    QVERIFY(fetch);
    QVERIFY(fetch->isEnabled());
    QSignalSpy requested(panel, &gui::BackendPanel::predictionsRequested);
    QTest::mouseClick(fetch, Qt::LeftButton);
    QVERIFY(requested.wait(120000));
    QVERIFY2(requested.last().at(0).toBool(), qPrintable(panel->predictionsText()));
    QVERIFY2(panel->predictionsText().contains(QStringLiteral("Label Studio")), qPrintable(panel->predictionsText()));
    // Label Studio asked us: a /predict request shows in the log (not just any row).
    auto *log = panel->findChild<QTreeWidget *>(QStringLiteral("requestLog"));
    QVERIFY(log);
    const auto predictRows = [log] {
        int n = 0;
        for (int i = 0; i < log->topLevelItemCount(); ++i)
            if (log->topLevelItem(i)->text(2) == u"/predict" && log->topLevelItem(i)->text(3).startsWith(u"200"))
                ++n;
        return n;
    };
    QTRY_VERIFY_WITH_TIMEOUT(predictRows() >= 1, 5000);
}

void TestBackendPanel::screenshot()
{
    QApplication::processEvents();
    QTest::qWait(600); // one metrics tick
    const QString dir = QStringLiteral(LOOPDECK_SCREENSHOTS);
    QDir().mkpath(dir);
    const QString path = dir + QStringLiteral("/backend-panel.png");
    QVERIFY(m_window->grab().save(path, "PNG"));
    qInfo("screenshot: %s", qPrintable(path));
}

void TestBackendPanel::stopsWithOneClick()
{
    gui::BackendPanel *panel = m_window->backendPanel();
    const QString url = panel->url();
    QTest::mouseClick(button("startBackendButton"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!panel->isRunning(), 5000);
    QCOMPARE(panel->stateText(), QStringLiteral("Stopped"));
    QVERIFY(panel->url().isEmpty());
    QNetworkAccessManager nam;
    std::unique_ptr<QNetworkReply> reply(nam.get(QNetworkRequest(QUrl(url + QStringLiteral("/health")))));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    QVERIFY(finished.wait(5000));
    QVERIFY(reply->error() != QNetworkReply::NoError);
}

void TestBackendPanel::teardownAfterTheSessionIsGone()
{
    // The main window deletes its DashboardSession before the tab widget that holds the
    // panel; a running server must then stop without any slot touching the dead session
    // (ASan reports a heap-use-after-free otherwise).
    auto *session = new DashboardSession;
    gui::AppSettings app(m_settings.get());
    QTemporaryDir data;
    loop::LoopEngine engine;
    QVERIFY(engine.open(data.path(), loop::LoopSettings()).ok());
    auto *panel = new gui::BackendPanel(session, &app, &engine);
    panel->show();
    QTest::mouseClick(panel->findChild<QPushButton *>(QStringLiteral("startBackendButton")), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(panel->isRunning(), 5000);
    delete session;
    delete panel;
}

QTEST_MAIN(TestBackendPanel)
#include "tst_backendpanel.moc"
