#pragma once
// Which Label Studio project a request is about, across several Label Studio servers.
//
// Every Label Studio numbers its projects from 1, so a bare id does not say which server's
// project 1 is meant. Label Studio itself names a project to an ML backend as
// "<id>.<created_at as Unix seconds>" (the `project` of /setup and /predict), and every webhook
// carries the project object with its `created_at`. LoopDeck uses exactly that string as the
// project's key everywhere (store rows, model folders, settings, schedules, versions, logs,
// /loop/* and /versions): two servers' project 1 have different creation times, so their keys
// differ without the user doing anything. A bare id ("3") is still accepted where a client
// sends no creation time (old servers, conformance tests, an operator typing `--project 3`);
// the loop resolves it to the one known key with that id (LoopEngine::resolve).
// See docs/architecture.md, "Project identity". Pure functions; any thread.
#include <QDateTime>
#include <QRegularExpression>
#include <QString>

#include <optional>

namespace loopdeck::backend::projectkey {

// "3.1700000000" from id 3 and a creation time (seconds are truncated, as Label Studio does).
inline QString make(qint64 id, qint64 createdUnixSeconds)
{
    return QString::number(id) + QLatin1Char('.') + QString::number(createdUnixSeconds);
}

// The Label Studio project id of a key ("3.1700000000" -> 3, "3" -> 3); 0 when it has none.
inline qint64 lsId(const QString &key)
{
    const qsizetype dot = key.indexOf(QLatin1Char('.'));
    bool ok = false;
    const qint64 id = (dot < 0 ? key : key.left(dot)).toLongLong(&ok);
    return ok && id > 0 ? id : 0;
}

// True for a key that carries the creation time ("3.1700000000").
inline bool hasCreated(const QString &key)
{
    return key.indexOf(QLatin1Char('.')) > 0;
}

// The creation time of a key, 0 when it has none.
inline qint64 createdOf(const QString &key)
{
    const qsizetype dot = key.indexOf(QLatin1Char('.'));
    return dot < 0 ? 0 : key.mid(dot + 1).toLongLong();
}

// Normalises what a client sent as `project`: "3.1700000000" stays, "3" stays, "3.1700000000.5"
// keeps the first two parts, surrounding blanks go. Empty when it does not start with a name.
inline QString normalise(const QString &raw)
{
    const QString s = raw.trimmed();
    static const QRegularExpression re(QStringLiteral("^([A-Za-z0-9_-]{1,64})(\\.([0-9]{1,20}))?"));
    const QRegularExpressionMatch m = re.match(s);
    if (!m.hasMatch())
        return {};
    return m.captured(3).isEmpty() ? m.captured(1) : m.captured(1) + QLatin1Char('.') + m.captured(3);
}

// Label Studio's `created_at` ("2026-12-03T14:15:32.123456Z", or with an offset) as Unix seconds,
// truncated like Python's int(created_at.timestamp()). Empty when it is not such a time.
inline std::optional<qint64> unixSecondsOf(const QString &iso)
{
    static const QRegularExpression re(
        QStringLiteral("^(\\d{4}-\\d\\d-\\d\\d)[T ](\\d\\d:\\d\\d:\\d\\d)(\\.\\d+)?(Z|[+-]\\d\\d:?\\d\\d)?$"));
    const QRegularExpressionMatch m = re.match(iso.trimmed());
    if (!m.hasMatch())
        return std::nullopt;
    QDateTime t = QDateTime::fromString(m.captured(1) + QLatin1Char('T') + m.captured(2), Qt::ISODate);
    if (!t.isValid())
        return std::nullopt;
    t.setTimeSpec(Qt::UTC);
    qint64 seconds = t.toSecsSinceEpoch();
    const QString zone = m.captured(4);
    if (!zone.isEmpty() && zone != QLatin1String("Z")) {
        QString digits = zone.mid(1);
        digits.remove(QLatin1Char(':'));
        const int offset = digits.left(2).toInt() * 3600 + digits.mid(2, 2).toInt() * 60;
        seconds += zone.startsWith(QLatin1Char('+')) ? -offset : offset;
    }
    return seconds;
}

} // namespace loopdeck::backend::projectkey
