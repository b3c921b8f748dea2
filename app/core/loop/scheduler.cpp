#include "core/loop/scheduler.h"

namespace loopdeck::loop {

QString triggerName(Trigger trigger)
{
    switch (trigger) {
    case Trigger::Threshold: return QStringLiteral("threshold");
    case Trigger::Interval: return QStringLiteral("interval");
    case Trigger::Daily: return QStringLiteral("daily");
    case Trigger::StartTraining: return QStringLiteral("start_training");
    case Trigger::Manual: return QStringLiteral("manual");
    }
    return QStringLiteral("manual");
}

std::optional<Trigger> triggerFromName(const QString &name)
{
    for (Trigger t : {Trigger::Threshold, Trigger::Interval, Trigger::Daily, Trigger::StartTraining, Trigger::Manual})
        if (triggerName(t) == name)
            return t;
    return std::nullopt;
}

TrainingScheduler::TrainingScheduler(Clock clock)
    : m_clock(clock ? std::move(clock) : Clock([] { return QDateTime::currentDateTimeUtc(); }))
{
}

QDateTime TrainingScheduler::now() const
{
    return m_clock();
}

void TrainingScheduler::setSettings(const LoopSettings &settings)
{
    const bool intervalChanged = settings.intervalMinutes != m_settings.intervalMinutes;
    const bool dailyChanged = settings.dailyAt != m_settings.dailyAt;
    m_settings = settings;
    const QDateTime t = now();
    if (intervalChanged || !m_lastInterval.isValid())
        m_lastInterval = t; // a new interval counts from now
    if (dailyChanged || !m_lastDaily.isValid()) {
        // Switching a daily time on does not start a run at once for a time already passed today.
        const QDateTime local = t.toLocalTime();
        m_lastDaily = settings.dailyAt.isValid() && local.time() >= settings.dailyAt ? local.date()
                                                                                     : local.date().addDays(-1);
    }
}

QDateTime TrainingScheduler::cooldownEnd() const
{
    return m_lastFinished.isValid() ? m_lastFinished.addSecs(m_settings.cooldownSeconds) : QDateTime();
}

bool TrainingScheduler::coolingDown(const QDateTime &at) const
{
    const QDateTime end = cooldownEnd();
    return end.isValid() && at < end;
}

bool TrainingScheduler::isExplicit(Trigger trigger)
{
    return trigger == Trigger::Manual || trigger == Trigger::StartTraining;
}

TrainingScheduler::Outcome TrainingScheduler::request(Trigger trigger)
{
    if (trigger != Trigger::Manual && !m_settings.enabled)
        return Outcome::Disabled;
    if (trigger == Trigger::StartTraining && !m_settings.onStartTraining)
        return Outcome::Disabled;
    const QDateTime t = now();
    // An operator's request (Train now, POST /loop/train, Label Studio's Start training) runs at
    // once; the cooldown only spaces out automatic triggers.
    const bool asked = isExplicit(trigger);
    if (m_queued) {
        // An explicit request upgrades a queued automatic one: it no longer waits for the cooldown.
        if (asked && !isExplicit(*m_queued)) {
            m_queued = trigger;
            m_queuedDue = t;
        }
        return Outcome::Coalesced;
    }
    if (m_running) {
        m_queued = trigger;
        m_queuedDue = t;
        return Outcome::Queued;
    }
    if (!asked && coolingDown(t)) {
        m_queued = trigger;
        m_queuedDue = cooldownEnd();
        return Outcome::Deferred;
    }
    return Outcome::Start;
}

std::optional<Trigger> TrainingScheduler::poll(qint64 pendingChanges)
{
    if (m_running)
        return std::nullopt;
    const QDateTime t = now();
    if (m_queued) {
        QDateTime due = m_queuedDue;
        if (!isExplicit(*m_queued) && coolingDown(t))
            due = std::max(due, cooldownEnd());
        if (t >= due) {
            const Trigger q = *m_queued;
            m_queued.reset();
            return q;
        }
        return std::nullopt;
    }
    if (!m_settings.enabled)
        return std::nullopt;
    if (m_settings.trainEvery > 0 && pendingChanges >= m_settings.trainEvery && !coolingDown(t))
        return Trigger::Threshold;
    if (m_settings.intervalMinutes > 0 && t >= m_lastInterval.addSecs(qint64(m_settings.intervalMinutes) * 60)) {
        m_lastInterval = t;
        if (pendingChanges > 0)
            return Trigger::Interval;
    }
    if (m_settings.dailyAt.isValid()) {
        const QDateTime local = t.toLocalTime();
        if (local.date() > m_lastDaily && local.time() >= m_settings.dailyAt) {
            m_lastDaily = local.date();
            if (pendingChanges > 0)
                return Trigger::Daily;
        } else if (local.date() > m_lastDaily.addDays(1)) {
            // Days were missed while LoopDeck was closed: catch up once.
            m_lastDaily = local.date().addDays(-1);
            if (pendingChanges > 0)
                return Trigger::Daily;
        }
    }
    return std::nullopt;
}

void TrainingScheduler::runStarted(Trigger trigger)
{
    m_running = trigger;
}

void TrainingScheduler::runFinished()
{
    m_running.reset();
    m_lastFinished = now();
}

QDateTime TrainingScheduler::nextDailyAfter(const QDate &lastDaily) const
{
    return QDateTime(lastDaily.addDays(1), m_settings.dailyAt).toUTC();
}

QDateTime TrainingScheduler::nextScheduledRun() const
{
    QDateTime next;
    if (m_settings.intervalMinutes > 0)
        next = m_lastInterval.addSecs(qint64(m_settings.intervalMinutes) * 60);
    if (m_settings.dailyAt.isValid()) {
        const QDateTime daily = nextDailyAfter(m_lastDaily);
        if (!next.isValid() || daily < next)
            next = daily;
    }
    return next;
}

QJsonObject TrainingScheduler::saveState() const
{
    QJsonObject o{{QStringLiteral("last_finished"), m_lastFinished.toUTC().toString(Qt::ISODateWithMs)},
                  {QStringLiteral("last_interval"), m_lastInterval.toUTC().toString(Qt::ISODateWithMs)},
                  {QStringLiteral("last_daily"), m_lastDaily.toString(Qt::ISODate)}};
    if (m_queued)
        o.insert(QStringLiteral("queued"), triggerName(*m_queued));
    return o;
}

QDateTime TrainingScheduler::cooldownUntil() const
{
    return coolingDown(now()) ? cooldownEnd() : QDateTime();
}

void TrainingScheduler::requeue(Trigger trigger, const QDateTime &due)
{
    if (m_queued)
        return;
    m_queued = trigger;
    m_queuedDue = due;
}

void TrainingScheduler::restoreState(const QJsonObject &state)
{
    applyTimes(state, false);
    // A run that was queued when LoopDeck stopped still runs.
    if (const auto q = triggerFromName(state.value(QStringLiteral("queued")).toString()); q && !m_running) {
        m_queued = q;
        m_queuedDue = now();
    }
}

void TrainingScheduler::restoreTimes(const QJsonObject &state)
{
    applyTimes(state, true);
}

void TrainingScheduler::applyTimes(const QJsonObject &state, bool onlyForward)
{
    const auto time = [&](const char *key) {
        return QDateTime::fromString(state.value(QLatin1String(key)).toString(), Qt::ISODateWithMs);
    };
    const auto take = [onlyForward](auto &mine, const auto &stored) {
        if (stored.isValid() && (!onlyForward || !mine.isValid() || stored > mine))
            mine = stored;
    };
    take(m_lastFinished, time("last_finished"));
    take(m_lastInterval, time("last_interval"));
    take(m_lastDaily, QDate::fromString(state.value(QStringLiteral("last_daily")).toString(), Qt::ISODate));
}

} // namespace loopdeck::loop
