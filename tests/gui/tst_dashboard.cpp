// GUI test of the dashboard against the fixture Label Studio (offscreen): the projects table
// shows what the server reports, sorting and filtering work, the detail pane summarises the
// label config, a wrong token and a dead server read as they should, and a server that goes
// away and comes back is picked up again by the automatic refresh. Saves screenshots.
#include "gui/appsettings.h"
#include "gui/connectiondialog.h"
#include "gui/guiapp.h"
#include "gui/mainwindow.h"
#include "gui/projectdetailpane.h"
#include "gui/projectsmodel.h"
#include "gui/settingsdialog.h"
#include "gui/translations.h"
#include "lsfixture.h"
#include "store/store.h"

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QHeaderView>
#include <QLineEdit>
#include <QRandomGenerator>
#include <QScrollArea>
#include <QSettings>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace loopdeck;
using namespace loopdeck::labelstudio;
using loopdeck::gui::DashboardSession;
using loopdeck::gui::ProjectsModel;

namespace {

// A loopback TCP forwarder to the fixture server, so the test can make "the server" vanish and
// come back on the same address without touching the real Label Studio.
class Forwarder final : public QObject
{
public:
    Forwarder(const QString &host, quint16 port) : m_host(host), m_port(port)
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *in = m_server.nextPendingConnection()) {
                auto *out = new QTcpSocket(in);
                m_sockets << in;
                connect(in, &QTcpSocket::readyRead, out, [in, out] { out->write(in->readAll()); });
                connect(out, &QTcpSocket::readyRead, in, [in, out] { in->write(out->readAll()); });
                connect(out, &QTcpSocket::connected, out, [in, out] { out->write(in->readAll()); });
                connect(out, &QTcpSocket::disconnected, in, &QTcpSocket::disconnectFromHost);
                connect(in, &QTcpSocket::disconnected, in, [this, in] {
                    m_sockets.removeAll(in);
                    in->deleteLater();
                });
                out->connectToHost(m_host, m_port);
            }
        });
    }
    bool listen(quint16 port = 0) { return m_server.listen(QHostAddress::LocalHost, port); }
    quint16 port() const { return m_server.serverPort(); }
    void shutDown()
    {
        m_server.close();
        for (QTcpSocket *s : std::as_const(m_sockets))
            s->abort();
    }

private:
    QTcpServer m_server;
    QList<QTcpSocket *> m_sockets;
    QString m_host;
    quint16 m_port;
};

quint16 freePort()
{
    QTcpServer s;
    s.listen(QHostAddress::LocalHost, 0);
    return s.serverPort();
}

QString screenshotDir()
{
    const QString dir = QStringLiteral(LOOPDECK_SCREENSHOTS);
    QDir().mkpath(dir);
    return dir;
}

void saveShot(QWidget *w, const QString &name)
{
    QApplication::processEvents();
    const QPixmap pix = w->grab();
    QVERIFY2(!pix.isNull(), qPrintable(name));
    const QString path = screenshotDir() + QLatin1Char('/') + name;
    QVERIFY2(pix.save(path, "PNG"), qPrintable(path));
    qInfo("screenshot: %s", qPrintable(path));
}

} // namespace

class TestDashboard final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void listsServerProjects();
    void sortsAndFilters();
    void detailPaneShowsSelectedProject();
    void recordsNewCountsOnRefresh();
    void screenshots();
    void wrongTokenShowsAuthError();
    void deadPortShowsDisconnectedAndRecovers();
    void serverThatComesBackIsPickedUp();
    void chineseScreenshot();

private:
    std::unique_ptr<gui::MainWindow> makeWindow(QSettings *settings);
    void connectFixture(gui::MainWindow &w, const QString &name);
    QList<Project> serverProjects();
    const Project *serverProject(const QList<Project> &all, int id);

    testing::LsFixture m_fx;
    QTemporaryDir m_dir;
    std::unique_ptr<QSettings> m_settings;
    std::unique_ptr<gui::MainWindow> m_window;
    LabelStudioClient m_client;
    QString m_prefix;
    testing::SeededProject m_alpha, m_beta, m_gamma;
    Project m_images;
};

void TestDashboard::initTestCase()
{
    qputenv("LOOPDECK_NO_KEYCHAIN", "1");
    qunsetenv("LOOPDECK_TOKEN");
    gui::initResources();
    gui::installTranslations(QLocale(QLocale::English, QLocale::UnitedStates));
    LOOPDECK_REQUIRE_FIXTURE(m_fx);
    QVERIFY(m_dir.isValid());
    m_client.setServer(m_fx.url, m_fx.token);

    // Unique titles so that projects made by other tests (or earlier runs) never match.
    m_prefix = QStringLiteral("Dash%1").arg(QRandomGenerator::global()->bounded(100000, 999999));
    QString error;
    m_alpha = testing::seedProject(m_client, m_prefix + QStringLiteral(" Alpha product reviews"),
                                   {QStringLiteral("Great value, works as described"),
                                    QStringLiteral("Stopped working after a week"),
                                    QStringLiteral("It is fine, nothing special"),
                                    QStringLiteral("Love it, would buy again"),
                                    QStringLiteral("Terrible support experience"),
                                    QStringLiteral("Arrived on time"),
                                    QStringLiteral("Too expensive for what it is"),
                                    QStringLiteral("Does the job")},
                                   {QStringLiteral("Positive"), QStringLiteral("Negative"), QStringLiteral("Neutral"),
                                    QStringLiteral("Positive"), QString()},
                                   testing::sentimentConfig(), &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    m_beta = testing::seedProject(m_client, m_prefix + QStringLiteral(" Beta support tickets"),
                                  {QStringLiteral("Cannot log in"), QStringLiteral("Refund please"),
                                   QStringLiteral("Thanks, solved"), QStringLiteral("App crashes on start")},
                                  {QStringLiteral("Negative")}, testing::sentimentConfig(), &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    m_gamma = testing::seedProject(m_client, m_prefix + QStringLiteral(" Gamma survey answers"),
                                   {QStringLiteral("ok"), QStringLiteral("meh"), QStringLiteral("good")}, {},
                                   testing::sentimentConfig(), &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    // A config the built-in text classifier cannot serve (no tasks needed).
    auto [images, e] = syncWait<Project>([&](auto cb) {
        m_client.createProject(m_prefix + QStringLiteral(" Delta photo tags"),
                               QStringLiteral("<View><Image name=\"img\" value=\"$image\"/>"
                                              "<Choices name=\"tag\" toName=\"img\"><Choice value=\"Cat\"/>"
                                              "<Choice value=\"Dog\"/></Choices></View>"),
                               cb);
    });
    QVERIFY2(!e.isError(), qPrintable(e.message()));
    m_images = images;

    m_settings = std::make_unique<QSettings>(m_dir.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
    gui::AppSettings app(m_settings.get());
    app.setDataDir(m_dir.filePath(QStringLiteral("data")));
    app.setRefreshIntervalSeconds(2);

    // No synthetic or back-dated history: every snapshot in the store comes from a real refresh
    // against the fixture Label Studio (see recordsNewCountsOnRefresh and screenshots()).

    m_window = makeWindow(m_settings.get());
    connectFixture(*m_window, QStringLiteral("Local Label Studio"));
}

void TestDashboard::cleanupTestCase()
{
    m_window.reset();
}

std::unique_ptr<gui::MainWindow> TestDashboard::makeWindow(QSettings *settings)
{
    auto w = std::make_unique<gui::MainWindow>(settings);
    w->resize(1360, 820);
    w->show();
    QApplication::processEvents();
    return w;
}

void TestDashboard::connectFixture(gui::MainWindow &w, const QString &name)
{
    settings::ConnectionProfile profile;
    profile.name = name;
    profile.url = m_fx.url;
    w.applyConnection(profile, m_fx.token);
    QTRY_COMPARE_WITH_TIMEOUT(w.session()->state(), DashboardSession::State::Connected, 30000);
}

QList<Project> TestDashboard::serverProjects()
{
    auto [projects, error] = syncWait<QList<Project>>([&](auto cb) { m_client.fetchProjects(cb); });
    if (error.isError())
        qWarning("fetchProjects: %s", qPrintable(error.message()));
    return projects;
}

const Project *TestDashboard::serverProject(const QList<Project> &all, int id)
{
    for (const Project &p : all)
        if (p.id == id)
            return &p;
    return nullptr;
}

void TestDashboard::listsServerProjects()
{
    gui::MainWindow &w = *m_window;
    // A fresh refresh, then compare with what the server says right after it.
    QSignalSpy refreshed(&w, &gui::MainWindow::refreshed);
    w.refreshNow();
    QVERIFY(refreshed.wait(20000));
    QCOMPARE(refreshed.last().at(0).toBool(), true);
    const QList<Project> server = serverProjects();
    QVERIFY(!server.isEmpty());

    ProjectsModel *model = w.projectsModel();
    QCOMPARE(model->rowCount(), server.size());
    QCOMPARE(w.projectsProxy()->rowCount(), server.size());
    for (const Project &sp : server) {
        const int row = model->rowOf(sp.id);
        QVERIFY2(row >= 0, qPrintable(sp.title));
        auto cell = [&](int col, int role = ProjectsModel::SortRole) { return model->index(row, col).data(role); };
        QCOMPARE(cell(ProjectsModel::TitleColumn, Qt::DisplayRole).toString(), sp.title);
        QCOMPARE(cell(ProjectsModel::TasksColumn).toLongLong(), sp.counts.taskNumber);
        QCOMPARE(cell(ProjectsModel::AnnotatedColumn).toLongLong(), sp.counts.tasksWithAnnotations);
        QCOMPARE(cell(ProjectsModel::AnnotationsColumn).toLongLong(), sp.counts.totalAnnotations);
        QCOMPARE(cell(ProjectsModel::SkippedColumn).toLongLong(), sp.counts.skippedAnnotations);
        QCOMPARE(cell(ProjectsModel::PredictionsColumn).toLongLong(), sp.counts.totalPredictions);
        QCOMPARE(cell(ProjectsModel::DoneColumn, ProjectsModel::FractionRole).toDouble(), sp.counts.doneFraction());
        // What is shown is the locale's rendering of the same numbers.
        QCOMPARE(cell(ProjectsModel::TasksColumn, Qt::DisplayRole).toString(), QLocale().toString(sp.counts.taskNumber));
        QVERIFY(!cell(ProjectsModel::RefreshedColumn, Qt::DisplayRole).toString().isEmpty());
    }
    // The seeded projects carry the shape the seeding gave them (server-side truth, not ours).
    const Project *alpha = serverProject(server, m_alpha.project.id);
    QVERIFY(alpha);
    QCOMPARE(alpha->counts.taskNumber, qint64(m_alpha.taskIds.size()));
    QVERIFY(alpha->counts.skippedAnnotations >= 1);

    // Connection status: server version, user, token kind and where the token lives.
    QVERIFY2(w.statusText().startsWith(QStringLiteral("Connected")), qPrintable(w.statusText()));
    auto [version, ve] = syncWait<ServerVersion>([&](auto cb) { m_client.fetchVersion(cb); });
    QVERIFY(!ve.isError());
    QCOMPARE(w.session()->version().release, version.release);
    QVERIFY(!w.session()->user().displayName().isEmpty());
    QVERIFY2(w.tokenStatusText().contains(QStringLiteral("legacy token")), qPrintable(w.tokenStatusText()));
    QVERIFY2(w.tokenStatusText().contains(QStringLiteral("session only")), qPrintable(w.tokenStatusText()));
    // The token itself never lands in the settings file.
    m_settings->sync();
    QFile ini(m_settings->fileName());
    QVERIFY(ini.open(QIODevice::ReadOnly));
    QVERIFY(!ini.readAll().contains(m_fx.token.toUtf8()));
}

void TestDashboard::sortsAndFilters()
{
    gui::MainWindow &w = *m_window;
    QSortFilterProxyModel *proxy = w.projectsProxy();
    QTableView *table = w.projectsTable();

    // Click the "Tasks" header: ascending; click again: descending.
    QHeaderView *header = table->horizontalHeader();
    const int x = header->sectionViewportPosition(ProjectsModel::TasksColumn) + header->sectionSize(ProjectsModel::TasksColumn) / 2;
    const auto tasksAt = [&](int row) { return proxy->index(row, ProjectsModel::TasksColumn).data(ProjectsModel::SortRole).toLongLong(); };
    QTest::mouseClick(header->viewport(), Qt::LeftButton, {}, QPoint(x, header->height() / 2));
    QCOMPARE(header->sortIndicatorSection(), int(ProjectsModel::TasksColumn));
    const Qt::SortOrder first = header->sortIndicatorOrder();
    QTest::mouseClick(header->viewport(), Qt::LeftButton, {}, QPoint(x, header->height() / 2));
    QVERIFY(header->sortIndicatorOrder() != first);
    for (Qt::SortOrder order : {Qt::AscendingOrder, Qt::DescendingOrder}) {
        table->sortByColumn(ProjectsModel::TasksColumn, order);
        for (int r = 1; r < proxy->rowCount(); ++r) {
            if (order == Qt::AscendingOrder)
                QVERIFY(tasksAt(r - 1) <= tasksAt(r));
            else
                QVERIFY(tasksAt(r - 1) >= tasksAt(r));
        }
    }
    // Among our projects, descending by tasks: alpha (8) before beta (4) before gamma (3).
    auto proxyRowOf = [&](int id) {
        return proxy->mapFromSource(w.projectsModel()->index(w.projectsModel()->rowOf(id), 0)).row();
    };
    QVERIFY(proxyRowOf(m_alpha.project.id) < proxyRowOf(m_beta.project.id));
    QVERIFY(proxyRowOf(m_beta.project.id) < proxyRowOf(m_gamma.project.id));

    // Sort by title ascending (case-insensitive).
    table->sortByColumn(ProjectsModel::TitleColumn, Qt::AscendingOrder);
    for (int r = 1; r < proxy->rowCount(); ++r) {
        const QString a = proxy->index(r - 1, 0).data().toString();
        const QString b = proxy->index(r, 0).data().toString();
        QVERIFY2(a.compare(b, Qt::CaseInsensitive) <= 0, qPrintable(a + QStringLiteral(" > ") + b));
    }

    // Filter by typing into the filter box.
    QLineEdit *filter = w.filterEdit();
    filter->clear();
    QTest::keyClicks(filter, m_prefix);
    QCOMPARE(proxy->rowCount(), 4);
    filter->clear();
    QTest::keyClicks(filter, m_prefix.toLower() + QStringLiteral(" beta"));
    QCOMPARE(proxy->rowCount(), 1);
    QCOMPARE(proxy->index(0, 0).data(ProjectsModel::ProjectIdRole).toInt(), m_beta.project.id);
    filter->setText(QStringLiteral("no project is called like this %1").arg(m_prefix));
    QCOMPARE(proxy->rowCount(), 0);
    filter->clear();
    QCOMPARE(proxy->rowCount(), w.projectsModel()->rowCount());
}

void TestDashboard::detailPaneShowsSelectedProject()
{
    gui::MainWindow &w = *m_window;
    const QList<Project> server = serverProjects();
    const Project *alpha = serverProject(server, m_alpha.project.id);
    QVERIFY(alpha);

    // Select by clicking the row in the table.
    const QModelIndex idx = w.projectsProxy()->mapFromSource(w.projectsModel()->index(w.projectsModel()->rowOf(alpha->id), 0));
    QVERIFY(idx.isValid());
    w.projectsTable()->scrollTo(idx);
    QTest::mouseClick(w.projectsTable()->viewport(), Qt::LeftButton, {}, w.projectsTable()->visualRect(idx).center());
    gui::ProjectDetailPane *pane = w.detailPane();
    QCOMPARE(pane->projectId(), alpha->id);
    const QLocale locale;
    QCOMPARE(pane->countText(QStringLiteral("tasks")), locale.toString(alpha->counts.taskNumber));
    QCOMPARE(pane->countText(QStringLiteral("annotated")), locale.toString(alpha->counts.tasksWithAnnotations));
    QCOMPARE(pane->countText(QStringLiteral("annotations")), locale.toString(alpha->counts.totalAnnotations));
    QCOMPARE(pane->countText(QStringLiteral("skipped")), locale.toString(alpha->counts.skippedAnnotations));
    QCOMPARE(pane->countText(QStringLiteral("predictions")), locale.toString(alpha->counts.totalPredictions));
    QVERIFY(pane->isServable());
    const QString summary = pane->labelConfigSummary();
    QVERIFY2(summary.contains(QStringLiteral("can serve this project")), qPrintable(summary));
    for (const char *word : {"sentiment", "text", "Positive", "Negative", "Neutral", "single choice"})
        QVERIFY2(summary.contains(QLatin1String(word)), qPrintable(summary));
    // History from the store (this run's real refreshes), drawn as steps up to now.
    QVERIFY2(pane->chartPointCount() >= 1, qPrintable(QString::number(pane->chartPointCount())));

    // A project the built-in classifier cannot serve says so, and why.
    QVERIFY(w.selectProject(m_images.id));
    QCOMPARE(pane->projectId(), m_images.id);
    QVERIFY(!pane->isServable());
    const QString why = pane->labelConfigSummary();
    QVERIFY2(why.contains(QStringLiteral("cannot serve")), qPrintable(why));
    QVERIFY2(why.contains(QStringLiteral("Image")), qPrintable(why));
    QVERIFY(w.selectProject(m_alpha.project.id));
}

void TestDashboard::recordsNewCountsOnRefresh()
{
    gui::MainWindow &w = *m_window;
    QVERIFY(w.selectProject(m_alpha.project.id));
    const int pointsBefore = w.detailPane()->chartPointCount();
    // One more annotation on an unlabelled task; the automatic refresh (2 s) must pick it up.
    const QByteArray ann = R"({"result":[{"from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Neutral"]}}]})";
    auto [body, e] = syncWait<QByteArray>([&](auto cb) { m_client.createAnnotation(m_alpha.taskIds.at(6), ann, cb); });
    QVERIFY2(!e.isError(), qPrintable(e.message()));
    const Project *fresh = nullptr;
    const QList<Project> server = serverProjects();
    fresh = serverProject(server, m_alpha.project.id);
    QVERIFY(fresh);
    const int row = w.projectsModel()->rowOf(m_alpha.project.id);
    QTRY_COMPARE_WITH_TIMEOUT(
        w.projectsModel()->index(row, ProjectsModel::AnnotationsColumn).data(ProjectsModel::SortRole).toLongLong(),
        fresh->counts.totalAnnotations, 15000);
    QCOMPARE(w.detailPane()->countText(QStringLiteral("annotations")), QLocale().toString(fresh->counts.totalAnnotations));
    // The store got a new snapshot, so the chart grew by a step (two points).
    QTRY_VERIFY(w.detailPane()->chartPointCount() >= pointsBefore + 2);
    store::Store st;
    QString err;
    QVERIFY(st.open(gui::AppSettings(m_settings.get()).dataDir(), &err));
    const auto history = st.progress(w.session()->storeKey(), m_alpha.project.id);
    QVERIFY(!history.isEmpty());
    QCOMPARE(history.last().counts.totalAnnotations, fresh->counts.totalAnnotations);
}

void TestDashboard::screenshots()
{
    gui::MainWindow &w = *m_window;
    w.filterEdit()->clear();
    w.projectsTable()->sortByColumn(ProjectsModel::TitleColumn, Qt::AscendingOrder);
    QVERIFY(w.selectProject(m_alpha.project.id));
    // Real history for the chart the README shows: annotate the remaining tasks one at a time in
    // Label Studio and let the automatic refresh record each new count before the next one.
    const QByteArray ann = R"({"result":[{"from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Positive"]}}]})";
    for (int index : {5, 7}) {
        const int points = w.detailPane()->chartPointCount();
        auto [body, e] = syncWait<QByteArray>([&](auto cb) { m_client.createAnnotation(m_alpha.taskIds.at(index), ann, cb); });
        QVERIFY2(!e.isError(), qPrintable(e.message()));
        QTRY_VERIFY_WITH_TIMEOUT(w.detailPane()->chartPointCount() > points, 15000);
        QTest::qWait(2500); // a later refresh, so the steps are spread over time
    }
    saveShot(&w, QStringLiteral("main-window.png"));
    auto *scroll = w.findChild<QScrollArea *>(QStringLiteral("detailScroll"));
    QVERIFY(scroll);
    saveShot(scroll, QStringLiteral("detail-pane.png"));

    gui::AppSettings app(m_settings.get());
    gui::SettingsDialog settingsDialog(&app, &w);
    settingsDialog.show();
    saveShot(&settingsDialog, QStringLiteral("settings-dialog.png"));
    settingsDialog.reject();

    gui::ConnectionDialog dialog({QStringLiteral("Local Label Studio")}, &w);
    dialog.setSessionOnly(true);
    dialog.setValues(QStringLiteral("Team server"), m_fx.url.toString(), m_fx.token);
    dialog.show();
    QCOMPARE(dialog.tokenHint(), QStringLiteral("Detected: legacy token"));
    saveShot(&dialog, QStringLiteral("connection-dialog.png"));
    // The live hint follows what is pasted: a PAT is a JWT whose payload says token_type refresh.
    const QString pat = QStringLiteral("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.")
                        + QString::fromLatin1(QByteArray(R"({"token_type":"refresh","exp":4102444800,"jti":"x"})")
                                                  .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals))
                        + QStringLiteral(".c2lnbmF0dXJl");
    dialog.setValues(QStringLiteral("Team server"), m_fx.url.toString(), pat);
    QCOMPARE(dialog.tokenHint(), QStringLiteral("Detected: Personal Access Token"));
    dialog.setValues(QStringLiteral("Team server"), QStringLiteral("ftp://example.org"), pat);
    QVERIFY(!dialog.urlHint().isEmpty());
    dialog.reject();
}

void TestDashboard::wrongTokenShowsAuthError()
{
    gui::MainWindow &w = *m_window;
    const QString bad = QStringLiteral("0123456789abcdef0123456789abcdef01234567");
    LabelStudioClient probe;
    probe.setServer(m_fx.url, bad);
    auto [user, expected] = syncWait<User>([&](auto cb) { probe.fetchWhoAmI(cb); });
    QVERIFY(expected.isAuth());

    settings::ConnectionProfile profile;
    profile.name = QStringLiteral("Wrong token");
    profile.url = m_fx.url;
    w.applyConnection(profile, bad);
    QTRY_COMPARE_WITH_TIMEOUT(w.session()->state(), DashboardSession::State::Failed, 20000);
    QVERIFY(w.session()->lastError().isAuth());
    QVERIFY2(w.statusText().contains(expected.message()), qPrintable(w.statusText()));
    QCOMPARE(w.projectsModel()->rowCount(), 0);
    saveShot(&w, QStringLiteral("main-window-wrong-token.png"));
}

void TestDashboard::deadPortShowsDisconnectedAndRecovers()
{
    gui::MainWindow &w = *m_window;
    settings::ConnectionProfile dead;
    dead.name = QStringLiteral("Nothing listening");
    dead.url = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(freePort()));
    w.applyConnection(dead, m_fx.token);
    QTRY_COMPARE_WITH_TIMEOUT(w.session()->state(), DashboardSession::State::Disconnected, 20000);
    QVERIFY2(w.statusText().startsWith(QStringLiteral("Disconnected — ")), qPrintable(w.statusText()));
    QVERIFY(w.statusText().size() > QStringLiteral("Disconnected — ").size() + 10);
    QVERIFY(w.session()->lastError().isConnectivity());
    // Still polling: another failed refresh follows without any click.
    QSignalSpy refreshed(&w, &gui::MainWindow::refreshed);
    QVERIFY(refreshed.wait(10000));
    QCOMPARE(refreshed.last().at(0).toBool(), false);

    // Pointed back at the live server (the saved profile, token from this session).
    w.selectConnection(QStringLiteral("Local Label Studio"));
    QTRY_COMPARE_WITH_TIMEOUT(w.session()->state(), DashboardSession::State::Connected, 20000);
    QVERIFY(w.statusText().startsWith(QStringLiteral("Connected")));
    QCOMPARE(w.projectsModel()->rowCount(), serverProjects().size());
}

void TestDashboard::serverThatComesBackIsPickedUp()
{
    gui::MainWindow &w = *m_window;
    Forwarder forwarder(m_fx.url.host(), quint16(m_fx.url.port()));
    QVERIFY(forwarder.listen());
    const quint16 port = forwarder.port();
    settings::ConnectionProfile via;
    via.name = QStringLiteral("Through a forwarder");
    via.url = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port));
    w.applyConnection(via, m_fx.token);
    QTRY_COMPARE_WITH_TIMEOUT(w.session()->state(), DashboardSession::State::Connected, 20000);
    const int rows = w.projectsModel()->rowCount();
    QVERIFY(rows > 0);

    forwarder.shutDown(); // the "server" goes away
    QTRY_COMPARE_WITH_TIMEOUT(w.session()->state(), DashboardSession::State::Disconnected, 20000);
    QVERIFY(w.statusText().startsWith(QStringLiteral("Disconnected — ")));
    QCOMPARE(w.projectsModel()->rowCount(), rows); // last known counts stay visible

    QVERIFY(forwarder.listen(port)); // ... and comes back; nobody clicks anything
    QTRY_COMPARE_WITH_TIMEOUT(w.session()->state(), DashboardSession::State::Connected, 20000);
    QVERIFY(w.statusText().startsWith(QStringLiteral("Connected")));
    forwarder.shutDown();
    w.selectConnection(QStringLiteral("Local Label Studio"));
    QTRY_COMPARE_WITH_TIMEOUT(w.session()->state(), DashboardSession::State::Connected, 20000);
}

void TestDashboard::chineseScreenshot()
{
    m_window.reset();
    QVERIFY(QFile::exists(QStringLiteral(":/i18n/loopdeck_zh_CN.qm")));
    QVERIFY(gui::installTranslations(QLocale(QLocale::Chinese, QLocale::China)));
    // A new window has a new token store: the token comes from the environment this time,
    // paired with the server it is for (LOOPDECK_TOKEN alone is not sent anywhere).
    qputenv("LOOPDECK_TOKEN", m_fx.token.toUtf8());
    qputenv("LOOPDECK_URL", m_fx.url.toString().toUtf8());
    auto w = makeWindow(m_settings.get());
    // The saved "Local Label Studio" profile is the last used one: it reconnects on its own.
    QTRY_COMPARE_WITH_TIMEOUT(w->session()->state(), DashboardSession::State::Connected, 30000);
    QVERIFY(w->selectProject(m_alpha.project.id));
    QVERIFY2(w->statusText().startsWith(QStringLiteral("已连接")), qPrintable(w->statusText()));
    saveShot(w.get(), QStringLiteral("main-window-zh_CN.png"));
    w.reset();
    qunsetenv("LOOPDECK_TOKEN");
    qunsetenv("LOOPDECK_URL");
    gui::installTranslations(QLocale(QLocale::English, QLocale::UnitedStates));
}

QTEST_MAIN(TestDashboard)
#include "tst_dashboard.moc"
