#include "core/client/inprocessloopclient.h"

#include "core/loop/loopengine.h"

#include <QJsonArray>

namespace loopdeck::client {

InProcessLoopClient::InProcessLoopClient(loop::LoopEngine *engine, QObject *parent)
    : LoopClient(parent)
    , m_engine(engine)
{
    if (!engine)
        return;
    using E = loop::LoopEngine;
    connect(engine, &E::projectAdded, this, &LoopClient::projectAdded);
    connect(engine, &E::statusChanged, this, &LoopClient::statusChanged);
    connect(engine, &E::versionsChanged, this, &LoopClient::versionsChanged);
    connect(engine, &E::trainingStarted, this, &LoopClient::trainingStarted);
    connect(engine, &E::trainingFinished, this, &LoopClient::trainingFinished);
    connect(engine, &E::trainingFailed, this, &LoopClient::trainingFailed);
    connect(engine, &E::reconciled, this, &LoopClient::reconciled);
    connect(engine, &E::predictionsRefreshed, this, &LoopClient::predictionsRefreshed);
}

InProcessLoopClient::~InProcessLoopClient() = default;

QString InProcessLoopClient::describe() const
{
    return tr("this computer");
}

QStringList InProcessLoopClient::projects() const
{
    return m_engine ? m_engine->projects() : QStringList();
}

std::optional<LoopStatus> InProcessLoopClient::status(const QString &project) const
{
    if (!m_engine)
        return std::nullopt;
    const backend::LoopReply reply = m_engine->status(project);
    if (reply.error != backend::LoopReply::Error::None)
        return std::nullopt; // not in the loop (yet), or its store row cannot be read
    QString why;
    auto parsed = LoopStatus::fromJson(reply.body, &why);
    if (!parsed) // the engine's own JSON: a parser that refuses it is a bug to hear about
        qWarning("LoopDeck: the loop's status of project %s: %s", qUtf8Printable(project), qUtf8Printable(why));
    return parsed;
}

QList<VersionInfo> InProcessLoopClient::versions(const QString &project) const
{
    QList<VersionInfo> out;
    if (!m_engine)
        return out;
    for (const QJsonValue &v : m_engine->versionDetails(project)) {
        QString why;
        if (auto info = VersionInfo::fromJson(v.toObject(), &why))
            out.append(std::move(*info));
        else
            qWarning("LoopDeck: a version of project %s: %s", qUtf8Printable(project), qUtf8Printable(why));
    }
    return out;
}

loop::LoopSettings InProcessLoopClient::settings(const QString &project) const
{
    return m_engine ? m_engine->settings(project) : loop::LoopSettings();
}

void InProcessLoopClient::refresh(const QString &project)
{
    // Reads are always fresh here; the signals still follow, as the interface promises.
    QMetaObject::invokeMethod(
        this,
        [this, project] {
            Q_EMIT statusChanged(project);
            Q_EMIT versionsChanged(project);
        },
        Qt::QueuedConnection);
}

void InProcessLoopClient::train(const QString &project, Done done)
{
    if (!m_engine)
        return answer(std::move(done), gone());
    answer(std::move(done), m_engine->train(project));
}

void InProcessLoopClient::cancel(const QString &project, Done done)
{
    if (!m_engine)
        return answer(std::move(done), gone());
    answer(std::move(done), m_engine->cancel(project));
}

void InProcessLoopClient::activate(const QString &project, int version, Done done)
{
    if (!m_engine)
        return answer(std::move(done), gone());
    answer(std::move(done), m_engine->activate(project, version));
}

void InProcessLoopClient::rollback(const QString &project, Done done)
{
    if (!m_engine)
        return answer(std::move(done), gone());
    answer(std::move(done), m_engine->rollback(project));
}

void InProcessLoopClient::setSettings(const QString &project, const loop::LoopSettings &settings, Done done)
{
    if (!m_engine)
        return answer(std::move(done), gone());
    // Not configure() (the /loop/settings route's, which applies later on the engine's thread):
    // this is that thread, and the window reads the settings back right after.
    if (const Status saved = m_engine->setSettings(project, settings); !saved)
        return answer(std::move(done), LoopResult::failure(saved.error()));
    answer(std::move(done), LoopResult::success(QJsonObject{{QStringLiteral("project"), project},
                                                            {QStringLiteral("settings"), settings.toJson()}}));
}

void InProcessLoopClient::answer(Done done, const backend::LoopReply &reply)
{
    answer(std::move(done), reply.error == backend::LoopReply::Error::None ? LoopResult::success(reply.body)
                                                                          : LoopResult::failure(reply.message));
}

void InProcessLoopClient::answer(Done done, LoopResult result)
{
    if (!done)
        return;
    // Queued behind what the engine queued while it acted (startRun, afterActivation), which
    // runs first: the reads show the change when `done` runs.
    QMetaObject::invokeMethod(
        this, [done = std::move(done), result = std::move(result)] { done(result); }, Qt::QueuedConnection);
}

LoopResult InProcessLoopClient::gone() const
{
    return LoopResult::failure(tr("The loop on this computer has stopped."));
}

} // namespace loopdeck::client
