#include "core/loop/policy.h"

#include <QHostAddress>
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

bool isThisBackend(const QUrl &url, const ThisBackend &me)
{
    if (!url.isValid() || url.port(url.scheme() == QLatin1String("https") ? 443 : 80) != me.port)
        return false;
    const QString host = url.host().toLower();
    const QHostAddress bound(me.boundHost);
    const bool wildcard = bound == QHostAddress(QHostAddress::AnyIPv4) || bound == QHostAddress(QHostAddress::AnyIPv6)
        || bound == QHostAddress(QHostAddress::Any);
    const QHostAddress address(host);
    if (address.isNull()) { // a name
        if (host == me.boundHost.toLower())
            return true;
        if (host == QLatin1String("localhost"))
            return wildcard || bound.isLoopback();
        return wildcard && me.machineNames.contains(host);
    }
    if (wildcard)
        return address.isLoopback() ? address == QHostAddress(QHostAddress::LocalHost) || address == QHostAddress(QHostAddress::LocalHostIPv6)
                                         || me.machineAddresses.contains(address.toString())
                                    : me.machineAddresses.contains(address.toString());
    return !bound.isNull() && address.isEqual(bound);
}

bool shouldActivate(const ActivationInput &in)
{
    if (in.activeVersion <= 0 || in.activeAccuracy < 0.0 || in.newAccuracy < 0.0)
        return true;
    return in.newAccuracy >= in.activeAccuracy - in.margin;
}

} // namespace loopdeck::loop::policy
