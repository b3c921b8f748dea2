#include "core/client/loopclient.h"

#include <QJsonValue>

#include <algorithm>
#include <cmath>
#include <limits>

namespace loopdeck::client {

namespace {

const QString kVersionPrefix = QStringLiteral("loopdeck-v");

// "loopdeck-v4" -> 4; 0 when `name` is not exactly such a name (no sign, no leading zero).
int versionOf(const QString &name)
{
    if (!name.startsWith(kVersionPrefix))
        return 0;
    bool ok = false;
    const int n = name.mid(kVersionPrefix.size()).toInt(&ok);
    return ok && n > 0 && kVersionPrefix + QString::number(n) == name ? n : 0;
}

// Reads the fields of one JSON object the way GET /loop/status and GET /versions write them.
// A missing key and null read as "none"; a value of another type, or a number that is not what
// the field holds, fails the read: the first failure is kept and later reads return defaults, so
// fromJson reads every field and asks ok() once. `path` prefixes the keys in the sentence
// ("webhook.url").
class Reader
{
public:
    Reader(const QJsonObject &json, QString path, QString *failure)
        : m_json(json)
        , m_path(std::move(path))
        , m_failure(failure)
    {
    }

    bool ok() const { return m_failure->isEmpty(); }

    QString string(const char *key)
    {
        const QJsonValue v = value(key);
        if (v.isString())
            return v.toString();
        if (!v.isNull() && !v.isUndefined())
            fail(key, QStringLiteral("should be text"));
        return {};
    }

    bool boolean(const char *key, bool none)
    {
        const QJsonValue v = value(key);
        if (v.isBool())
            return v.toBool();
        if (!v.isNull() && !v.isUndefined())
            fail(key, QStringLiteral("should be true or false"));
        return none;
    }

    double number(const char *key, double none)
    {
        const QJsonValue v = value(key);
        if (v.isDouble())
            return v.toDouble();
        if (!v.isNull() && !v.isUndefined())
            fail(key, QStringLiteral("should be a number"));
        return none;
    }

    // A share from 0 to 1 (accuracy, F1, acceptance); null and missing are `none`.
    double ratio(const char *key, double none)
    {
        const double d = number(key, none);
        if (has(key) && ok() && !(d >= 0 && d <= 1)) {
            fail(key, QStringLiteral("should be a number from 0 to 1"));
            return none;
        }
        return d;
    }

    // A whole number from `low` to `high`; the range is checked before any cast (a cast of
    // 1e300 to an integer is undefined).
    qint64 whole(const char *key, qint64 low, qint64 high, qint64 none = 0)
    {
        const QJsonValue v = value(key);
        if (v.isNull() || v.isUndefined())
            return none;
        const double d = v.toDouble();
        if (!v.isDouble() || !(d >= double(low) && d <= double(high)) || d != std::floor(d)) {
            fail(key, QStringLiteral("should be a whole number from %1 to %2").arg(low).arg(high));
            return none;
        }
        return qint64(d);
    }

    int count(const char *key) { return int(whole(key, 0, std::numeric_limits<int>::max())); }

    // An ISO 8601 time; null, missing and "" are "none" (invalid).
    QDateTime date(const char *key)
    {
        const QString text = string(key);
        if (text.isEmpty())
            return {};
        const QDateTime t = QDateTime::fromString(text, Qt::ISODateWithMs);
        if (!t.isValid())
            fail(key, QStringLiteral("should be an ISO 8601 time, not \"%1\"").arg(text.left(40)));
        return t;
    }

    // A version name "loopdeck-vN" -> N; null and missing are 0.
    int version(const char *key)
    {
        const QString text = string(key);
        if (text.isEmpty() && ok())
            return 0;
        const int n = versionOf(text);
        if (n == 0)
            fail(key, QStringLiteral("should be a version name like \"loopdeck-v4\", not \"%1\"").arg(text.left(40)));
        return n;
    }

    QJsonObject object(const char *key)
    {
        const QJsonValue v = value(key);
        if (v.isObject())
            return v.toObject();
        if (!v.isNull() && !v.isUndefined())
            fail(key, QStringLiteral("should be an object"));
        return {};
    }

    QStringList strings(const char *key)
    {
        const QJsonValue v = value(key);
        if (v.isNull() || v.isUndefined())
            return {};
        if (!v.isArray()) {
            fail(key, QStringLiteral("should be a list of text"));
            return {};
        }
        QStringList out;
        for (const QJsonValue &item : v.toArray()) {
            if (!item.isString()) {
                fail(key, QStringLiteral("should be a list of text"));
                return {};
            }
            out << item.toString();
        }
        return out;
    }

    bool has(const char *key) const
    {
        const QJsonValue v = m_json.value(QLatin1String(key));
        return !v.isNull() && !v.isUndefined();
    }

    void fail(const char *key, const QString &detail)
    {
        if (!ok())
            return;
        const QString field = m_path.isEmpty() ? QString::fromLatin1(key) : QString(m_path + QLatin1Char('.') + QLatin1String(key));
        *m_failure = LoopClient::tr("The loop sent an answer LoopDeck cannot read: field \"%1\" %2.").arg(field, detail);
    }

private:
    QJsonValue value(const char *key) const { return ok() ? m_json.value(QLatin1String(key)) : QJsonValue(); }

    QJsonObject m_json;
    QString m_path;
    QString *m_failure;
};

template <typename T>
std::optional<T> refuse(const QString &why, QString *error)
{
    if (error)
        *error = why;
    return std::nullopt;
}

} // namespace

std::optional<LoopStatus> LoopStatus::fromJson(const QJsonObject &json, QString *error)
{
    QString failure;
    Reader r(json, QString(), &failure);
    LoopStatus s;
    s.project = r.string("project");
    if (r.ok() && s.project.isEmpty())
        r.fail("project", QStringLiteral("is missing"));
    s.state = r.string("state");
    if (r.ok() && s.state.isEmpty())
        r.fail("state", QStringLiteral("is missing"));
    // Present while a run is in progress: a progress outside 0..1 is drawn as its nearest end.
    s.progress = std::clamp(r.number("progress", 0), 0.0, 1.0);
    s.trigger = r.string("trigger");
    s.elapsedSeconds = r.number("elapsed_seconds", 0);
    s.queued = r.string("queued");
    s.tasks = r.count("tasks");
    s.annotations = r.count("annotations");
    s.cancelledAnnotations = r.count("cancelled_annotations");
    s.usableExamples = r.count("usable_examples");
    s.newSinceTraining = r.count("new_since_training");
    s.activeVersion = r.version("active_version");
    s.nextScheduledRun = r.date("next_scheduled_run");
    s.lastReconcile = r.date("last_reconcile");
    s.lastError = r.string("last_error");
    s.reconcileError = r.string("reconcile_error");
    s.failuresInARow = r.count("failures_in_a_row");
    s.log = r.strings("log");

    const QJsonObject webhook = r.object("webhook");
    Reader w(webhook, QStringLiteral("webhook"), &failure);
    s.webhookUrl = w.string("url");
    s.webhookState = w.string("state");
    s.webhookWarning = w.string("warning");

    // "enabled" is at the top as well as in settings (the same value); a server that sends only
    // the top-level one still says what it means.
    const bool enabledGiven = r.has("enabled");
    const bool enabled = r.boolean("enabled", true);
    const QJsonObject settings = r.object("settings");
    if (r.ok()) {
        // A server sends every key; one that sends fewer leaves the rest at the defaults.
        QString why;
        if (!loop::LoopSettings::fromJson(settings, loop::LoopSettings(), &s.settings, &why))
            r.fail("settings", QStringLiteral("is not usable: %1").arg(why.endsWith(QLatin1Char('.')) ? why.chopped(1) : why));
        else if (enabledGiven && !settings.contains(QStringLiteral("enabled")))
            s.settings.enabled = enabled;
    }
    if (!failure.isEmpty())
        return refuse<LoopStatus>(failure, error);
    s.raw = json;
    return s;
}

std::optional<VersionInfo> VersionInfo::fromJson(const QJsonObject &json, QString *error)
{
    QString failure;
    Reader r(json, QString(), &failure);
    VersionInfo v;
    // The number and the name say the same; either is enough, and both must agree.
    const bool hasNumber = r.has("version");
    const bool hasName = r.has("name");
    v.version = int(r.whole("version", 1, std::numeric_limits<int>::max()));
    const int named = hasName ? r.version("name") : 0;
    if (r.ok() && !hasNumber && !hasName)
        r.fail("version", QStringLiteral("is missing"));
    if (r.ok() && hasNumber && hasName && named != v.version)
        r.fail("name", QStringLiteral("names version %1, not %2").arg(named).arg(v.version));
    if (!hasNumber)
        v.version = named;
    v.name = kVersionPrefix + QString::number(v.version);
    v.created = r.date("created");
    v.trigger = r.string("trigger");
    v.active = r.boolean("active", false);
    v.trainingExamples = r.count("training_examples");

    v.metrics = r.object("metrics");
    Reader m(v.metrics, QStringLiteral("metrics"), &failure);
    v.accuracy = m.ratio("accuracy", -1);
    (void)m.ratio("macro_f1", -1);
    v.durationMs = m.whole("duration_ms", 0, qint64(1) << 53);
    (void)m.string("evaluation");

    // null until an annotator has judged one of the version's predictions
    const QJsonObject live = r.object("live_acceptance");
    Reader l(live, QStringLiteral("live_acceptance"), &failure);
    v.liveTotal = l.count("total");
    const int accepted = l.count("accepted");
    if (l.ok() && accepted > v.liveTotal)
        l.fail("accepted", QStringLiteral("is more than total"));
    const double rate = l.ratio("rate", -1);
    if (!live.isEmpty())
        v.liveAcceptance = rate >= 0 ? rate : v.liveTotal > 0 ? double(accepted) / v.liveTotal : -1;
    if (!failure.isEmpty())
        return refuse<VersionInfo>(failure, error);
    v.raw = json;
    return v;
}

} // namespace loopdeck::client
