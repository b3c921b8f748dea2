#include "core/loop/loopsettings.h"

#include <QJsonDocument>

namespace loopdeck::loop {

QJsonObject LoopSettings::toJson() const
{
    return QJsonObject{
        {QStringLiteral("enabled"), enabled},
        {QStringLiteral("train_every"), trainEvery},
        {QStringLiteral("interval_minutes"), intervalMinutes},
        {QStringLiteral("daily_at"), dailyAt.isValid() ? dailyAt.toString(QStringLiteral("HH:mm")) : QString()},
        {QStringLiteral("on_start_training"), onStartTraining},
        {QStringLiteral("cooldown_seconds"), cooldownSeconds},
        {QStringLiteral("activation_margin"), activationMargin},
        {QStringLiteral("keep_versions"), keepVersions},
        {QStringLiteral("refresh_predictions"), refreshPredictions},
        {QStringLiteral("uncertainty_sampling"), uncertaintySampling},
        {QStringLiteral("min_examples"), minExamples},
    };
}

bool LoopSettings::fromJson(const QJsonObject &json, const LoopSettings &defaults, LoopSettings *out, QString *error)
{
    LoopSettings s = defaults;
    const auto readBool = [&](const char *key, bool *target) {
        const QJsonValue v = json.value(QLatin1String(key));
        if (v.isUndefined())
            return true;
        if (!v.isBool()) {
            *error = QStringLiteral("\"%1\" must be true or false.").arg(QLatin1String(key));
            return false;
        }
        *target = v.toBool();
        return true;
    };
    const auto readInt = [&](const char *key, int *target, int low, int high) {
        const QJsonValue v = json.value(QLatin1String(key));
        if (v.isUndefined())
            return true;
        const double d = v.toDouble(-1e18);
        if (!v.isDouble() || d < low || d > high || d != double(qint64(d))) { // range first: the cast of 1e300 is undefined
            *error = QStringLiteral("\"%1\" must be a whole number from %2 to %3.").arg(QLatin1String(key)).arg(low).arg(high);
            return false;
        }
        *target = int(d);
        return true;
    };
    if (!readBool("enabled", &s.enabled) || !readInt("train_every", &s.trainEvery, 0, 1000000)
        || !readInt("interval_minutes", &s.intervalMinutes, 0, 100000) || !readBool("on_start_training", &s.onStartTraining)
        || !readInt("cooldown_seconds", &s.cooldownSeconds, 0, 86400) || !readInt("keep_versions", &s.keepVersions, 1, 1000)
        || !readBool("refresh_predictions", &s.refreshPredictions)
        || !readBool("uncertainty_sampling", &s.uncertaintySampling) || !readInt("min_examples", &s.minExamples, 2, 1000000))
        return false;
    if (const QJsonValue v = json.value(QStringLiteral("daily_at")); !v.isUndefined()) {
        if (!v.isString() && !v.isNull()) {
            *error = QStringLiteral("\"daily_at\" must be a time like \"02:30\" or empty.");
            return false;
        }
        const QString text = v.toString().trimmed();
        s.dailyAt = text.isEmpty() ? QTime() : QTime::fromString(text, QStringLiteral("H:mm"));
        if (!text.isEmpty() && !s.dailyAt.isValid()) {
            *error = QStringLiteral("\"daily_at\" must be a time like \"02:30\", not \"%1\".").arg(text.left(20));
            return false;
        }
    }
    if (const QJsonValue v = json.value(QStringLiteral("activation_margin")); !v.isUndefined()) {
        if (!v.isDouble() || v.toDouble() < 0 || v.toDouble() > 1) {
            *error = QStringLiteral("\"activation_margin\" must be a number from 0 to 1.");
            return false;
        }
        s.activationMargin = v.toDouble();
    }
    *out = s;
    return true;
}

LoopSettings LoopSettings::fromStored(const QByteArray &json, const LoopSettings &defaults)
{
    LoopSettings s = defaults;
    QString ignored;
    const QJsonDocument doc = QJsonDocument::fromJson(json);
    if (doc.isObject() && !fromJson(doc.object(), defaults, &s, &ignored))
        s = defaults;
    return s;
}

} // namespace loopdeck::loop
