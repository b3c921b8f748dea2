#pragma once
// Decides when a project trains. Triggers: N new or changed annotations since the last training
// (threshold), every X minutes (interval), daily at HH:MM (daily), Label Studio's "Start
// training" (start_training) and the operator's "Train now" (manual).
// Rules: at most one run in progress and one queued per project (more requests coalesce into the
// queued one); automatic triggers wait for a cooldown after the previous run (manual ones do
// not); interval and daily runs happen only when something changed since the last training
// (retraining the same data would make the same model); a daily run missed while LoopDeck was
// closed runs once at the next start. The state that matters across restarts (last interval
// run, last daily run, last finished run) round-trips through JSON in the loop store.
// Pure logic with an injected clock, no timers and no I/O: the loop engine calls poll() from a
// timer and after each change, under its own lock. Not thread-safe by itself.
#include "core/loop/loopsettings.h"

#include <QDateTime>
#include <QJsonObject>
#include <QString>

#include <functional>
#include <optional>

namespace loopdeck::loop {

enum class Trigger { Threshold, Interval, Daily, StartTraining, Manual };
QString triggerName(Trigger trigger);                  // "threshold", "interval", "daily", "start_training", "manual"
std::optional<Trigger> triggerFromName(const QString &name);

class TrainingScheduler final
{
public:
    using Clock = std::function<QDateTime()>;
    enum class Outcome {
        Start,      // start a run now (then call runStarted)
        Queued,     // a run is in progress; this one runs after it
        Deferred,   // cooldown: queued, due at nextQueuedAt()
        Coalesced,  // a run is already queued; nothing more to do
        Disabled,   // this trigger is switched off for the project
    };

    explicit TrainingScheduler(Clock clock = {});

    void setSettings(const LoopSettings &settings);
    const LoopSettings &settings() const { return m_settings; }

    // An explicit request (start_training, manual; also used for threshold by the engine).
    // Manual and StartTraining: asked for by a person, so never held back by the cooldown.
    static bool isExplicit(Trigger trigger);
    Outcome request(Trigger trigger);
    // What is due now, given the changes since the last training. At most one trigger; the
    // caller starts the run and calls runStarted().
    std::optional<Trigger> poll(qint64 pendingChanges);
    void runStarted(Trigger trigger);
    void runFinished();

    bool isRunning() const { return m_running.has_value(); }
    std::optional<Trigger> running() const { return m_running; }
    std::optional<Trigger> queued() const { return m_queued; }
    QDateTime queuedDueAt() const { return m_queuedDue; }
    // The next interval or daily run (invalid when neither is on).
    QDateTime nextScheduledRun() const;

    // When automatic runs may start again after the last finished one (invalid = now).
    QDateTime cooldownUntil() const;
    // A run that could not start (another replica runs the project): an explicit request waits
    // as the queued one, due at `due` (unless one is queued already).
    void requeue(Trigger trigger, const QDateTime &due);

    QJsonObject saveState() const;
    void restoreState(const QJsonObject &state);
    // Only the times of `state` (last finished, interval, daily), not its queued run: a replica
    // takes over what another replica of a shared store did, not what it still had to do.
    void restoreTimes(const QJsonObject &state);

private:
    QDateTime now() const;
    // onlyForward: a stored time replaces this scheduler's only when it is later.
    void applyTimes(const QJsonObject &state, bool onlyForward);
    bool coolingDown(const QDateTime &at) const;
    QDateTime cooldownEnd() const;
    QDateTime nextDailyAfter(const QDate &lastDaily) const;

    Clock m_clock;
    LoopSettings m_settings;
    std::optional<Trigger> m_running;
    std::optional<Trigger> m_queued;
    QDateTime m_queuedDue;
    QDateTime m_lastFinished;
    QDateTime m_lastInterval; // start of the current interval period
    QDate m_lastDaily;        // the day whose daily run is done (or skipped)
};

} // namespace loopdeck::loop
