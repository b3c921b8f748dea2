#include "core/loop/policy.h"

#include <QRegularExpression>

#include <algorithm>

namespace loopdeck::loop::policy {

bool isAnnotatorEvent(const QString &action)
{
    return action == QLatin1String("ANNOTATION_CREATED") || action == QLatin1String("ANNOTATION_UPDATED")
        || action == QLatin1String("ANNOTATIONS_CREATED") || action == QLatin1String("ANNOTATION_DELETED")
        || action == QLatin1String("ANNOTATIONS_DELETED");
}

int failureBackoffSeconds(int failures)
{
    if (failures <= 0)
        return 0;
    const int doublings = std::min(failures - 1, 6); // 60 * 2^6 = 3840 > 3600
    return std::min(60 << doublings, 3600);
}

QString failureCause(const QString &error)
{
    static const QRegularExpression digits(QStringLiteral("\\d+(\\.\\d+)?"));
    QString cause = error;
    cause.replace(digits, QStringLiteral("#"));
    return cause.simplified();
}

bool shouldActivate(const ActivationInput &in)
{
    if (in.activeVersion <= 0 || in.activeAccuracy < 0.0 || in.newAccuracy < 0.0)
        return true;
    return in.newAccuracy >= in.activeAccuracy - in.margin;
}

} // namespace loopdeck::loop::policy
