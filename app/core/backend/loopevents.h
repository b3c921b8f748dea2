#pragma once
// What happens in the loop, as a stream for remote windows: GET /loop/events answers with
// Server-Sent Events (text/event-stream), one event per loop signal ("status", "versions",
// "training_finished", ...; data = a JSON object naming the project). A window keeps one such
// connection open instead of polling; on each (re)connect it first gets "hello" and then reads
// the whole state once, so no replay is kept here.
//
// The loop posts into a LoopEvents from its own thread; each open stream lives in an HTTP
// thread and gets the frames queued there (frame() is built once per event and shared).
// Thread-safe.
#include <QByteArray>
#include <QJsonObject>
#include <QObject>
#include <QString>

#include <atomic>

namespace loopdeck::backend {

class LoopEvents final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LoopEvents)
public:
    LoopEvents();

    // Sends an event to every open stream. `kind` is a short word ("status"); any thread.
    void post(const QByteArray &kind, const QJsonObject &data);
    // A random id of this process's loop, told in "hello": a window seeing another one knows
    // the server restarted.
    QString bootId() const { return m_boot; }
    qint64 posted() const { return m_next.load() - 1; }
    // Open streams (the HTTP layer caps them; tests read it).
    int openStreams() const { return m_streams.load(); }
    void streamOpened() { m_streams.fetch_add(1); }
    void streamClosed() { m_streams.fetch_sub(1); }

    // One SSE frame: "id: N\nevent: KIND\ndata: JSON\n\n".
    static QByteArray frame(qint64 id, const QByteArray &kind, const QByteArray &json);

Q_SIGNALS:
    void event(const QByteArray &frame);

private:
    QString m_boot;
    std::atomic<qint64> m_next{1};
    std::atomic<int> m_streams{0};
};

} // namespace loopdeck::backend
