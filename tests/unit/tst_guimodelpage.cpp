// The model page and the notifier against a LoopClient that is not the engine (offscreen, no
// server): a fake that answers actions only when the test says, the way a remote loop does. The
// button of an action stays disabled until its answer; a failure shows the answer's sentence and
// gives the button back; an answer that arrives after the page moved to another project (or
// after the page is gone) is dropped; a schedule edit is saved through the client and the
// "Saved" line waits for the answer; a loop that does not answer says so; the page reads status
// and versions only from the client. The notifier announces a client's trainingFinished.
#include "core/client/loopclient.h"
#include "gui/guiapp.h"
#include "gui/modelpage.h"
#include "gui/notifier.h"
#include "gui/scheduleeditor.h"
#include "gui/versionsmodel.h"

#include <QApplication>
#include <QCheckBox>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace loopdeck;
using client::LoopResult;
using client::LoopStatus;
using client::VersionInfo;

namespace {

const QString kKey = QStringLiteral("5.1764064800");

// A loop at "http://loop.example:9090": what status(), versions() and settings() say is set by
// the test; every action is recorded and waits in `pending` until the test answers it.
class FakeLoopClient final : public client::LoopClient
{
public:
    std::optional<LoopStatus> statusValue;
    QList<VersionInfo> versionList;
    loop::LoopSettings settingsValue;
    bool up = true;
    QString down;
    QStringList calls;
    QList<Done> pending;

    Where where() const override { return Where::Remote; }
    QString describe() const override { return QStringLiteral("http://loop.example:9090"); }
    bool isUp() const override { return up; }
    QString connectionError() const override { return down; }
    QStringList projects() const override { return {kKey}; }
    std::optional<LoopStatus> status(const QString &project) const override { return project == kKey ? statusValue : std::nullopt; }
    QList<VersionInfo> versions(const QString &project) const override { return project == kKey ? versionList : QList<VersionInfo>(); }
    loop::LoopSettings settings(const QString &) const override { return settingsValue; }
    void refresh(const QString &) override {}
    void train(const QString &project, Done done) override { record(QStringLiteral("train ") + project, std::move(done)); }
    void cancel(const QString &project, Done done) override { record(QStringLiteral("cancel ") + project, std::move(done)); }
    void activate(const QString &project, int version, Done done) override
    {
        record(QStringLiteral("activate %1 %2").arg(project).arg(version), std::move(done));
    }
    void rollback(const QString &project, Done done) override { record(QStringLiteral("rollback ") + project, std::move(done)); }
    void setSettings(const QString &project, const loop::LoopSettings &settings, Done done) override
    {
        record(QStringLiteral("settings %1 train_every=%2").arg(project).arg(settings.trainEvery), std::move(done));
    }

    // Answers the oldest waiting action.
    void answer(const LoopResult &result)
    {
        QVERIFY(!pending.isEmpty());
        const Done done = pending.takeFirst();
        done(result);
    }
    void changed()
    {
        Q_EMIT statusChanged(kKey);
        Q_EMIT versionsChanged(kKey);
    }

private:
    void record(const QString &call, Done done)
    {
        calls << call;
        pending << std::move(done);
    }
};

LoopStatus idleStatus(int active)
{
    LoopStatus s;
    s.project = kKey;
    s.state = QStringLiteral("idle");
    s.annotations = 30;
    s.usableExamples = 28;
    s.activeVersion = active;
    s.log = {QStringLiteral("2026-11-25T10:00:00.000Z trained version=1")};
    return s;
}

VersionInfo version(int n, double accuracy, bool active)
{
    VersionInfo v;
    v.version = n;
    v.name = QStringLiteral("loopdeck-v%1").arg(n);
    v.accuracy = accuracy;
    v.active = active;
    v.trainingExamples = 20 * n;
    v.metrics = QJsonObject{{QStringLiteral("accuracy"), accuracy}};
    v.raw = QJsonObject{{QStringLiteral("version"), n}, {QStringLiteral("active"), active}, {QStringLiteral("metrics"), v.metrics}};
    return v;
}

} // namespace

class TestGuiModelPage final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { gui::initResources(); }

    void init()
    {
        m_client = std::make_unique<FakeLoopClient>();
        m_client->statusValue = idleStatus(2);
        m_client->versionList = {version(1, 0.8, false), version(2, 0.85, true)};
        m_page = std::make_unique<gui::ModelPage>(m_client.get());
        m_page->setConfirm([](const QString &, const QString &) { return true; });
        m_page->setProject(kKey, QStringLiteral("Reviews"));
        m_page->show();
    }

    void cleanup()
    {
        m_page.reset();
        m_client.reset();
    }

    void readsOnlyFromTheClient()
    {
        QCOMPARE(m_page->client(), m_client.get());
        QCOMPARE(m_page->state(), QStringLiteral("idle"));
        QVERIFY(m_page->trainButton()->isEnabled());
        QCOMPARE(m_page->versionsModel()->rowCount(), 2);
        QCOMPARE(m_page->selectedVersion(), 2); // the active one
        QVERIFY(m_page->logText().contains(QStringLiteral("trained version=1")));
        // A change the client announces is shown.
        m_client->statusValue->state = QStringLiteral("training");
        m_client->statusValue->trigger = QStringLiteral("manual");
        m_client->statusValue->progress = 0.4;
        m_client->changed();
        QTRY_COMPARE(m_page->state(), QStringLiteral("training"));
        QVERIFY(m_page->stateText().startsWith(QStringLiteral("Training (Manual)")));
        QVERIFY(m_page->cancelButton()->isEnabled());
        QVERIFY(!m_page->trainButton()->isEnabled());
    }

    void trainWaitsForTheAnswer()
    {
        QTest::mouseClick(m_page->trainButton(), Qt::LeftButton);
        QCOMPARE(m_client->calls, QStringList{QStringLiteral("train ") + kKey});
        QVERIFY(!m_page->trainButton()->isEnabled());
        QCOMPARE(m_page->trainReason(), QStringLiteral("Starting a training run…"));
        // A second press while it waits asks nothing more.
        m_page->trainNow();
        QCOMPARE(m_client->calls.size(), 1);
        // Refused: the sentence of the answer, shown as an error; the button is back.
        m_client->answer(LoopResult::failure(QStringLiteral("Training is switched off for this project."), 409));
        QCOMPARE(m_page->messageText(), QStringLiteral("Training is switched off for this project."));
        QVERIFY(m_page->trainButton()->isEnabled());
        QVERIFY(m_page->trainReason().isEmpty());

        // Accepted: the run shows when the loop says so.
        QTest::mouseClick(m_page->trainButton(), Qt::LeftButton);
        m_client->statusValue->state = QStringLiteral("training");
        m_client->answer(LoopResult::success(QJsonObject{{QStringLiteral("train"), QStringLiteral("started")}}));
        QCOMPARE(m_page->messageText(), QStringLiteral("Training started."));
        QCOMPARE(m_page->state(), QStringLiteral("training"));
        QVERIFY(!m_page->trainButton()->isEnabled());
    }

    void cancelWaitsForTheAnswer()
    {
        m_client->statusValue->state = QStringLiteral("training");
        m_client->changed();
        QTRY_VERIFY(m_page->cancelButton()->isEnabled());
        QTest::mouseClick(m_page->cancelButton(), Qt::LeftButton);
        QCOMPARE(m_client->calls, QStringList{QStringLiteral("cancel ") + kKey});
        QVERIFY(!m_page->cancelButton()->isEnabled());
        m_page->refresh(); // a refresh meanwhile does not give it back
        QVERIFY(!m_page->cancelButton()->isEnabled());
        m_client->answer(LoopResult::failure(QStringLiteral("No training run of project 5 is in progress."), 409));
        QCOMPARE(m_page->messageText(), QStringLiteral("No training run of project 5 is in progress."));
        QVERIFY(m_page->cancelButton()->isEnabled());
        // Accepted, then the run ends.
        QTest::mouseClick(m_page->cancelButton(), Qt::LeftButton);
        m_client->answer(LoopResult::success());
        QCOMPARE(m_page->messageText(), QStringLiteral("Cancelling the training run…"));
        m_client->statusValue->state = QStringLiteral("idle");
        m_client->changed();
        QTRY_COMPARE(m_page->messageText(), QStringLiteral("Training cancelled; the active version keeps serving."));
    }

    void switchingWaitsForTheAnswer()
    {
        QVERIFY(m_page->selectVersion(1));
        QVERIFY(m_page->activateButton()->isEnabled());
        QVERIFY(m_page->rollbackButton()->isEnabled());
        QTest::mouseClick(m_page->activateButton(), Qt::LeftButton);
        QCOMPARE(m_client->calls, QStringList{QStringLiteral("activate %1 1").arg(kKey)});
        QVERIFY(!m_page->activateButton()->isEnabled());
        QVERIFY(!m_page->rollbackButton()->isEnabled());
        m_page->rollBack(); // nothing while the first waits
        QCOMPARE(m_client->calls.size(), 1);
        m_client->answer(LoopResult::failure(QStringLiteral("Project 5 has no model version 1."), 404));
        QCOMPARE(m_page->messageText(), QStringLiteral("Project 5 has no model version 1."));
        QVERIFY(m_page->activateButton()->isEnabled());

        QTest::mouseClick(m_page->activateButton(), Qt::LeftButton);
        m_client->versionList = {version(1, 0.8, true), version(2, 0.85, false)};
        m_client->statusValue->activeVersion = 1;
        m_client->answer(LoopResult::success(QJsonObject{{QStringLiteral("active"), QStringLiteral("loopdeck-v1")}}));
        QCOMPARE(m_page->messageText(), QStringLiteral("v1 is active."));
        QCOMPARE(m_page->versionsModel()->activeVersion(), 1);
        QVERIFY(!m_page->activateButton()->isEnabled()); // the selected one is active now
        QVERIFY(!m_page->rollbackButton()->isEnabled()); // nothing older than v1
    }

    void lateAnswersAreDropped()
    {
        QTest::mouseClick(m_page->trainButton(), Qt::LeftButton);
        m_page->setProject(QStringLiteral("6.1764064800"), QStringLiteral("Other"));
        m_client->answer(LoopResult::failure(QStringLiteral("about the other project")));
        QVERIFY(m_page->messageText().isEmpty());
        // The page is gone before the answer: nothing is touched.
        m_page->setProject(kKey, QStringLiteral("Reviews"));
        QTest::mouseClick(m_page->trainButton(), Qt::LeftButton);
        QCOMPARE(m_client->pending.size(), 1);
        m_page.reset();
        m_client->answer(LoopResult::success(QJsonObject{{QStringLiteral("train"), QStringLiteral("started")}}));
    }

    void scheduleIsSavedThroughTheClient()
    {
        gui::ScheduleEditor *editor = m_page->scheduleEditor();
        QVERIFY(editor->isEnabled());
        editor->everySpin()->setValue(9);
        Q_EMIT editor->everySpin()->editingFinished();
        QCOMPARE(m_client->calls, QStringList{QStringLiteral("settings %1 train_every=9").arg(kKey)});
        QVERIFY(editor->message().isEmpty()); // no "Saved" before the loop says so
        // Until the answer, a refresh does not put the loop's older settings back.
        m_page->refresh();
        QCOMPARE(editor->everySpin()->value(), 9);
        m_client->answer(LoopResult::failure(QStringLiteral("\"train_every\" must be a whole number from 0 to 1000000.")));
        QCOMPARE(editor->message(), QStringLiteral("Not saved: \"train_every\" must be a whole number from 0 to 1000000."));
        editor->uncertaintyBox()->setChecked(!editor->uncertaintyBox()->isChecked());
        m_client->settingsValue.trainEvery = 9;
        m_client->answer(LoopResult::success());
        QVERIFY2(editor->message().startsWith(QStringLiteral("Saved at")), qPrintable(editor->message()));
    }

    void aLoopThatDoesNotAnswerSaysSo()
    {
        m_client->up = false;
        m_client->down = QStringLiteral("Connection refused");
        m_page->refresh();
        QCOMPARE(m_page->stateText(), QStringLiteral("The loop does not answer"));
        QCOMPARE(m_page->trainReason(), QStringLiteral("The loop at http://loop.example:9090 does not answer: Connection refused"));
        QVERIFY(!m_page->trainButton()->isEnabled());
        QVERIFY(!m_page->scheduleEditor()->isEnabled());
        // Back: the client says so, and the page follows.
        m_client->up = true;
        Q_EMIT m_client->connectionChanged(true, QString());
        QTRY_COMPARE(m_page->state(), QStringLiteral("idle"));
        QVERIFY(m_page->trainButton()->isEnabled());
    }

    void notifierAnnouncesAClientsEvents()
    {
        QTemporaryDir dir;
        QSettings settings(dir.filePath(QStringLiteral("n.ini")), QSettings::IniFormat);
        gui::NotificationBanner banner;
        gui::Notifier notifier(&settings, &banner);
        notifier.watch(m_client.get(), [](const QString &key) { return key == kKey ? QStringLiteral("Reviews") : QString(); });
        Q_EMIT m_client->trainingFinished(kKey, 3, true, 0.8, 0.85);
        QCOMPARE(notifier.lastTitle(), QStringLiteral("Reviews: new model version"));
        QCOMPARE(notifier.lastMessage(), QStringLiteral("v3: %1 → %2").arg(QLocale().toString(0.8, 'f', 3), QLocale().toString(0.85, 'f', 3)));
        Q_EMIT m_client->trainingFailed(kKey, QStringLiteral("disk full"));
        QCOMPARE(notifier.lastMessage(), QStringLiteral("disk full"));
        // A project's first reconcile imports; the next one recovers.
        Q_EMIT m_client->projectAdded(kKey);
        Q_EMIT m_client->reconciled(kKey, 4);
        QCOMPARE(notifier.count(), 2);
        Q_EMIT m_client->reconciled(kKey, 4);
        QCOMPARE(notifier.count(), 3);
        QCOMPARE(notifier.lastTitle(), QStringLiteral("Reviews: missed annotations recovered"));
    }

private:
    std::unique_ptr<FakeLoopClient> m_client;
    std::unique_ptr<gui::ModelPage> m_page;
};

QTEST_MAIN(TestGuiModelPage)
#include "tst_guimodelpage.moc"
