// TrainingScheduler with an injected clock: every trigger (threshold, interval, daily incl.
// catch-up after a restart, start_training, manual), coalescing, cooldown, switched-off
// triggers and the state that must survive a restart. No timers: the test moves the clock.
#include "core/loop/scheduler.h"

#include <QJsonDocument>
#include <QTest>

using loopdeck::loop::LoopSettings;
using loopdeck::loop::Trigger;
using loopdeck::loop::TrainingScheduler;
using Outcome = loopdeck::loop::TrainingScheduler::Outcome;

namespace {

// A local wall-clock time on a fixed day (the daily trigger works in local time).
QDateTime localAt(int dayOffset, int hour, int minute, int second = 0)
{
    return QDateTime(QDate(2026, 3, 10).addDays(dayOffset), QTime(hour, minute, second)).toUTC();
}

LoopSettings quiet()
{
    LoopSettings s;
    s.trainEvery = 0;
    s.intervalMinutes = 0;
    s.dailyAt = QTime();
    s.cooldownSeconds = 30;
    return s;
}

} // namespace

class TestScheduler final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init() { m_now = localAt(0, 12, 0); }

    void triggerNames();
    void threshold();
    void thresholdOff();
    void intervalOnlyWhenSomethingChanged();
    void dailyAtTime();
    void dailyNotAtOnceWhenSwitchedOnLate();
    void dailyCatchUpAfterRestart();
    void startTrainingAndManual();
    void coalescing();
    void cooldownDefersAutomaticNotManual();
    void disabledTriggers();
    void stateRoundTrip();
    void restoreKeepsQueuedRun();

private:
    TrainingScheduler make(const LoopSettings &s)
    {
        TrainingScheduler sch([this] { return m_now; });
        sch.setSettings(s);
        return sch;
    }
    QDateTime m_now;
};

void TestScheduler::triggerNames()
{
    for (Trigger t : {Trigger::Threshold, Trigger::Interval, Trigger::Daily, Trigger::StartTraining, Trigger::Manual})
        QCOMPARE(loopdeck::loop::triggerFromName(loopdeck::loop::triggerName(t)), std::optional<Trigger>(t));
    QCOMPARE(loopdeck::loop::triggerName(Trigger::StartTraining), QStringLiteral("start_training"));
    QVERIFY(!loopdeck::loop::triggerFromName(QStringLiteral("sometimes")));
}

void TestScheduler::threshold()
{
    LoopSettings s = quiet();
    s.trainEvery = 5;
    TrainingScheduler sch = make(s);
    QCOMPARE(sch.poll(0), std::nullopt);
    QCOMPARE(sch.poll(4), std::nullopt);
    QCOMPARE(sch.poll(5), std::optional<Trigger>(Trigger::Threshold));
    sch.runStarted(Trigger::Threshold);
    QVERIFY(sch.isRunning());
    QCOMPARE(sch.running(), std::optional<Trigger>(Trigger::Threshold));
    QCOMPARE(sch.poll(50), std::nullopt); // one run at a time
    m_now = m_now.addSecs(5);
    sch.runFinished();
    QVERIFY(!sch.isRunning());
    // Cooldown (30 s) after the run: the threshold waits.
    QCOMPARE(sch.poll(7), std::nullopt);
    m_now = m_now.addSecs(29);
    QCOMPARE(sch.poll(7), std::nullopt);
    m_now = m_now.addSecs(1);
    QCOMPARE(sch.poll(7), std::optional<Trigger>(Trigger::Threshold));
    QCOMPARE(sch.poll(4), std::nullopt);
}

void TestScheduler::thresholdOff()
{
    LoopSettings s = quiet();
    s.trainEvery = 0;
    TrainingScheduler sch = make(s);
    QCOMPARE(sch.poll(1000000), std::nullopt);
    QVERIFY(!sch.nextScheduledRun().isValid());
}

void TestScheduler::intervalOnlyWhenSomethingChanged()
{
    LoopSettings s = quiet();
    s.intervalMinutes = 10;
    const QDateTime t0 = m_now;
    TrainingScheduler sch = make(s);
    QCOMPARE(sch.nextScheduledRun(), t0.addSecs(600));
    m_now = t0.addSecs(599);
    QCOMPARE(sch.poll(3), std::nullopt);
    // Due, but nothing changed: no run (the same data would make the same model); the period restarts.
    m_now = t0.addSecs(600);
    QCOMPARE(sch.poll(0), std::nullopt);
    QCOMPARE(sch.nextScheduledRun(), t0.addSecs(1200));
    m_now = t0.addSecs(900);
    QCOMPARE(sch.poll(3), std::nullopt);
    m_now = t0.addSecs(1200);
    QCOMPARE(sch.poll(3), std::optional<Trigger>(Trigger::Interval));
    sch.runStarted(Trigger::Interval);
    m_now = m_now.addSecs(60);
    sch.runFinished();
    QCOMPARE(sch.nextScheduledRun(), t0.addSecs(1800));
    m_now = t0.addSecs(1799);
    QCOMPARE(sch.poll(3), std::nullopt);
    m_now = t0.addSecs(1800);
    QCOMPARE(sch.poll(3), std::optional<Trigger>(Trigger::Interval));
}

void TestScheduler::dailyAtTime()
{
    m_now = localAt(0, 1, 0);
    LoopSettings s = quiet();
    s.dailyAt = QTime(2, 30);
    TrainingScheduler sch = make(s);
    QCOMPARE(sch.nextScheduledRun(), localAt(0, 2, 30));
    m_now = localAt(0, 2, 29, 59);
    QCOMPARE(sch.poll(5), std::nullopt);
    m_now = localAt(0, 2, 30);
    QCOMPARE(sch.poll(5), std::optional<Trigger>(Trigger::Daily));
    sch.runStarted(Trigger::Daily);
    m_now = localAt(0, 2, 31);
    sch.runFinished();
    m_now = localAt(0, 23, 0);
    QCOMPARE(sch.poll(5), std::nullopt); // once a day
    QCOMPARE(sch.nextScheduledRun(), localAt(1, 2, 30));
    // Next day, nothing changed: no run, and the day counts as done.
    m_now = localAt(1, 2, 30);
    QCOMPARE(sch.poll(0), std::nullopt);
    m_now = localAt(1, 3, 0);
    QCOMPARE(sch.poll(5), std::nullopt);
    m_now = localAt(2, 2, 30);
    QCOMPARE(sch.poll(5), std::optional<Trigger>(Trigger::Daily));
}

void TestScheduler::dailyNotAtOnceWhenSwitchedOnLate()
{
    m_now = localAt(0, 10, 0);
    TrainingScheduler sch = make(quiet());
    LoopSettings s = quiet();
    s.dailyAt = QTime(2, 30); // already past today
    sch.setSettings(s);
    QCOMPARE(sch.poll(100), std::nullopt);
    m_now = localAt(0, 23, 59);
    QCOMPARE(sch.poll(100), std::nullopt);
    QCOMPARE(sch.nextScheduledRun(), localAt(1, 2, 30));
    m_now = localAt(1, 2, 30);
    QCOMPARE(sch.poll(100), std::optional<Trigger>(Trigger::Daily));

    // Switching it on before today's time runs today.
    m_now = localAt(5, 1, 0);
    TrainingScheduler early = make(quiet());
    early.setSettings(s);
    m_now = localAt(5, 2, 30);
    QCOMPARE(early.poll(1), std::optional<Trigger>(Trigger::Daily));
}

void TestScheduler::dailyCatchUpAfterRestart()
{
    LoopSettings s = quiet();
    s.dailyAt = QTime(2, 30);
    QJsonObject saved;
    {
        m_now = localAt(0, 1, 0);
        TrainingScheduler before = make(s);
        m_now = localAt(0, 2, 30);
        QCOMPARE(before.poll(5), std::optional<Trigger>(Trigger::Daily));
        before.runStarted(Trigger::Daily);
        m_now = localAt(0, 2, 31);
        before.runFinished();
        // Through text, as the store keeps it.
        saved = QJsonDocument::fromJson(QJsonDocument(before.saveState()).toJson()).object();
    }
    // LoopDeck was closed for three days and starts at 10:00, after the daily time.
    m_now = localAt(3, 10, 0);
    TrainingScheduler after = make(s);
    after.restoreState(saved);
    QCOMPARE(after.poll(5), std::optional<Trigger>(Trigger::Daily)); // the missed run, once
    after.runStarted(Trigger::Daily);
    m_now = localAt(3, 10, 1);
    after.runFinished();
    m_now = localAt(3, 11, 0);
    QCOMPARE(after.poll(5), std::nullopt);
    QCOMPARE(after.nextScheduledRun(), localAt(4, 2, 30));

    // Closed for three days and started at 01:00, before the daily time: the missed run happens
    // at once, and today's run still happens at 02:30.
    m_now = localAt(3, 1, 0);
    TrainingScheduler early = make(s);
    early.restoreState(saved);
    QCOMPARE(early.poll(5), std::optional<Trigger>(Trigger::Daily));
    early.runStarted(Trigger::Daily);
    m_now = localAt(3, 1, 1);
    early.runFinished();
    QCOMPARE(early.poll(5), std::nullopt);
    m_now = localAt(3, 2, 30);
    QCOMPARE(early.poll(5), std::optional<Trigger>(Trigger::Daily));

    // Started the next morning before the daily time: nothing was missed, nothing runs early.
    m_now = localAt(1, 1, 0);
    TrainingScheduler nextMorning = make(s);
    nextMorning.restoreState(saved);
    QCOMPARE(nextMorning.poll(5), std::nullopt);
    m_now = localAt(1, 2, 30);
    QCOMPARE(nextMorning.poll(5), std::optional<Trigger>(Trigger::Daily));
}

void TestScheduler::startTrainingAndManual()
{
    TrainingScheduler sch = make(quiet());
    QCOMPARE(sch.request(Trigger::StartTraining), Outcome::Start);
    sch.runStarted(Trigger::StartTraining);
    m_now = m_now.addSecs(2);
    sch.runFinished();
    m_now = m_now.addSecs(60); // past the cooldown
    QCOMPARE(sch.request(Trigger::Manual), Outcome::Start);
    sch.runStarted(Trigger::Manual);
    QCOMPARE(sch.running(), std::optional<Trigger>(Trigger::Manual));
}

void TestScheduler::coalescing()
{
    TrainingScheduler sch = make(quiet());
    QCOMPARE(sch.request(Trigger::Manual), Outcome::Start);
    sch.runStarted(Trigger::Manual);
    QCOMPARE(sch.request(Trigger::StartTraining), Outcome::Queued);
    QCOMPARE(sch.queued(), std::optional<Trigger>(Trigger::StartTraining));
    QCOMPARE(sch.request(Trigger::StartTraining), Outcome::Coalesced);
    QCOMPARE(sch.request(Trigger::Threshold), Outcome::Coalesced);
    // Both explicit: a manual request joins the queued Start training (neither waits).
    QCOMPARE(sch.request(Trigger::Manual), Outcome::Coalesced);
    QCOMPARE(sch.queued(), std::optional<Trigger>(Trigger::StartTraining));
    QCOMPARE(sch.request(Trigger::Manual), Outcome::Coalesced);
    QCOMPARE(sch.poll(100), std::nullopt); // still running
    m_now = m_now.addSecs(3);
    sch.runFinished();
    // Exactly one queued run follows, at once (explicit), then nothing more.
    QCOMPARE(sch.poll(0), std::optional<Trigger>(Trigger::StartTraining));
    QCOMPARE(sch.queued(), std::nullopt);
    sch.runStarted(Trigger::Manual);
    m_now = m_now.addSecs(3);
    sch.runFinished();
    QCOMPARE(sch.poll(0), std::nullopt);
}

void TestScheduler::cooldownDefersAutomaticNotManual()
{
    LoopSettings s = quiet();
    s.cooldownSeconds = 120;
    TrainingScheduler sch = make(s);
    QCOMPARE(sch.request(Trigger::Manual), Outcome::Start);
    sch.runStarted(Trigger::Manual);
    m_now = m_now.addSecs(10);
    const QDateTime finished = m_now;
    sch.runFinished();

    QCOMPARE(sch.request(Trigger::Interval), Outcome::Deferred);
    QCOMPARE(sch.queued(), std::optional<Trigger>(Trigger::Interval));
    QCOMPARE(sch.queuedDueAt(), finished.addSecs(120));
    QCOMPARE(sch.request(Trigger::Interval), Outcome::Coalesced);
    // Start training is a person's request: it upgrades the queued run, which no longer waits.
    QCOMPARE(sch.request(Trigger::StartTraining), Outcome::Coalesced);
    QCOMPARE(sch.queued(), std::optional<Trigger>(Trigger::StartTraining));
    m_now = finished.addSecs(1);
    QCOMPARE(sch.poll(0), std::optional<Trigger>(Trigger::StartTraining));
    sch.runStarted(Trigger::StartTraining);
    m_now = m_now.addSecs(10);
    sch.runFinished();
    QCOMPARE(sch.request(Trigger::StartTraining), Outcome::Start); // in the cooldown, at once

    // Manual right after a run: not deferred.
    sch.runStarted(Trigger::StartTraining);
    m_now = m_now.addSecs(1);
    sch.runFinished();
    QCOMPARE(sch.request(Trigger::Manual), Outcome::Start);
    sch.runStarted(Trigger::Manual);
    m_now = m_now.addSecs(1);
    sch.runFinished();
    // A deferred automatic request becomes due at once when the operator asks.
    QCOMPARE(sch.request(Trigger::Threshold), Outcome::Deferred);
    QCOMPARE(sch.request(Trigger::Manual), Outcome::Coalesced);
    QCOMPARE(sch.poll(0), std::optional<Trigger>(Trigger::Manual));
}

void TestScheduler::disabledTriggers()
{
    LoopSettings s = quiet();
    s.enabled = false;
    s.trainEvery = 1;
    s.intervalMinutes = 1;
    s.dailyAt = QTime(0, 0);
    TrainingScheduler sch = make(s);
    QCOMPARE(sch.request(Trigger::StartTraining), Outcome::Disabled);
    QCOMPARE(sch.request(Trigger::Threshold), Outcome::Disabled);
    for (int minute = 1; minute <= 60 * 48; minute += 7) {
        m_now = m_now.addSecs(7 * 60);
        QCOMPARE(sch.poll(1000), std::nullopt);
    }
    // "Train now" still works: the operator asked.
    QCOMPARE(sch.request(Trigger::Manual), Outcome::Start);

    LoopSettings noStart = quiet();
    noStart.onStartTraining = false;
    TrainingScheduler other = make(noStart);
    QCOMPARE(other.request(Trigger::StartTraining), Outcome::Disabled);
    QCOMPARE(other.queued(), std::nullopt);
    QCOMPARE(other.request(Trigger::Manual), Outcome::Start);
}

void TestScheduler::stateRoundTrip()
{
    LoopSettings s = quiet();
    s.intervalMinutes = 60;
    s.dailyAt = QTime(2, 30);
    s.cooldownSeconds = 600;
    m_now = localAt(0, 12, 0);
    const QDateTime t0 = m_now;
    TrainingScheduler before = make(s);
    m_now = t0.addSecs(3600);
    QCOMPARE(before.poll(4), std::optional<Trigger>(Trigger::Interval));
    before.runStarted(Trigger::Interval);
    m_now = t0.addSecs(3600 + 30);
    const QDateTime finished = m_now;
    before.runFinished();
    const QJsonObject saved = QJsonDocument::fromJson(QJsonDocument(before.saveState()).toJson()).object();
    const QDateTime nextBefore = before.nextScheduledRun();
    QCOMPARE(nextBefore, t0.addSecs(7200));

    // Restart 5 minutes later: the interval keeps counting from the last run, not from now,
    // and the cooldown of the last run still applies.
    m_now = finished.addSecs(300);
    TrainingScheduler after = make(s);
    QCOMPARE(after.nextScheduledRun(), m_now.addSecs(3600)); // what a fresh start would say
    after.restoreState(saved);
    QCOMPARE(after.nextScheduledRun(), nextBefore);
    QCOMPARE(after.request(Trigger::Interval), Outcome::Deferred);
    QCOMPARE(after.queuedDueAt(), finished.addSecs(600));
    QCOMPARE(after.saveState().value(QStringLiteral("last_interval")), saved.value(QStringLiteral("last_interval")));
    QCOMPARE(after.saveState().value(QStringLiteral("last_finished")), saved.value(QStringLiteral("last_finished")));
    QCOMPARE(after.saveState().value(QStringLiteral("last_daily")), saved.value(QStringLiteral("last_daily")));

    // Garbage state changes nothing and does not crash.
    TrainingScheduler garbage = make(s);
    const QDateTime freshNext = garbage.nextScheduledRun();
    garbage.restoreState(QJsonObject{{QStringLiteral("last_interval"), 5},
                                     {QStringLiteral("last_daily"), QStringLiteral("tomorrow")},
                                     {QStringLiteral("queued"), QStringLiteral("whenever")}});
    QCOMPARE(garbage.nextScheduledRun(), freshNext);
    QCOMPARE(garbage.queued(), std::nullopt);
}

void TestScheduler::restoreKeepsQueuedRun()
{
    TrainingScheduler before = make(quiet());
    QCOMPARE(before.request(Trigger::Manual), Outcome::Start);
    before.runStarted(Trigger::Manual);
    QCOMPARE(before.request(Trigger::Manual), Outcome::Queued);
    const QJsonObject saved = before.saveState();
    QCOMPARE(saved.value(QStringLiteral("queued")).toString(), QStringLiteral("manual"));

    m_now = m_now.addSecs(3600);
    TrainingScheduler after = make(quiet());
    after.restoreState(saved);
    QCOMPARE(after.queued(), std::optional<Trigger>(Trigger::Manual));
    QCOMPARE(after.poll(0), std::optional<Trigger>(Trigger::Manual));
}

QTEST_GUILESS_MAIN(TestScheduler)
#include "tst_scheduler.moc"
