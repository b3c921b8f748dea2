#pragma once
// LoopClient for a LoopEngine in this process (the user's, or the demo's): reads ask the engine
// at once and parse its JSON with the same fromJson as the remote client, so both clients give
// the window the same values; actions call the engine's operator methods (settings through
// setSettings, which saves and applies at once) and answer through `Done` from the event loop,
// after the engine's own queued work for them (a train's start, an activation's signals) has
// run. The engine's signals are forwarded as they are emitted. The engine is not owned; when it
// is gone, reads are empty and actions fail. GUI thread (the engine's) only.
#include "core/client/loopclient.h"

#include <QPointer>

namespace loopdeck::backend {
struct LoopReply;
}
namespace loopdeck::loop {
class LoopEngine;
}

namespace loopdeck::client {

class InProcessLoopClient final : public LoopClient
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(InProcessLoopClient)

public:
    explicit InProcessLoopClient(loop::LoopEngine *engine, QObject *parent = nullptr);
    ~InProcessLoopClient() override;

    loop::LoopEngine *engine() const { return m_engine.data(); }

    Where where() const override { return Where::ThisComputer; }
    QString describe() const override;
    bool isUp() const override { return true; }
    QString connectionError() const override { return {}; }

    QStringList projects() const override;
    std::optional<LoopStatus> status(const QString &project) const override;
    QList<VersionInfo> versions(const QString &project) const override;
    loop::LoopSettings settings(const QString &project) const override;
    void refresh(const QString &project) override;

    void train(const QString &project, Done done) override;
    void cancel(const QString &project, Done done) override;
    void activate(const QString &project, int version, Done done) override;
    void rollback(const QString &project, Done done) override;
    void setSettings(const QString &project, const loop::LoopSettings &settings, Done done) override;

private:
    // Hands `result` to `done` from the event loop (never from inside the call that asked).
    void answer(Done done, LoopResult result);
    void answer(Done done, const backend::LoopReply &reply);
    LoopResult gone() const;

    QPointer<loop::LoopEngine> m_engine;
};

} // namespace loopdeck::client
