#include "core/backend/loopevents.h"

#include <QJsonDocument>
#include <QRandomGenerator>

namespace loopdeck::backend {

LoopEvents::LoopEvents()
    : m_boot(QString::number(QRandomGenerator::system()->generate64(), 36))
{
}

QByteArray LoopEvents::frame(qint64 id, const QByteArray &kind, const QByteArray &json)
{
    // JSON from QJsonDocument::Compact has no raw newline, so one data line carries it.
    return "id: " + QByteArray::number(id) + "\nevent: " + kind + "\ndata: " + json + "\n\n";
}

void LoopEvents::post(const QByteArray &kind, const QJsonObject &data)
{
    const qint64 id = m_next.fetch_add(1);
    Q_EMIT event(frame(id, kind, QJsonDocument(data).toJson(QJsonDocument::Compact)));
}

} // namespace loopdeck::backend
