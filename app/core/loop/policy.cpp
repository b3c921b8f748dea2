#include "core/loop/policy.h"

#include <QHostAddress>
#include <QRegularExpression>

#include <algorithm>
#include <cmath>

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

Interval wilsonInterval(int successes, int n, double z)
{
    if (n <= 0)
        return {0.0, 1.0};
    const double p = double(successes) / n;
    const double z2n = z * z / n;
    const double centre = (p + z2n / 2.0) / (1.0 + z2n);
    const double half = z * std::sqrt(p * (1.0 - p) / n + z2n / (4.0 * n)) / (1.0 + z2n);
    return {successes <= 0 ? 0.0 : std::max(0.0, centre - half), successes >= n ? 1.0 : std::min(1.0, centre + half)};
}

PairedDifference pairedDifference(const PairedCounts &c, double z)
{
    PairedDifference out;
    out.n = c.total();
    if (out.n <= 0)
        return out;
    const int n = out.n;
    const int newRight = c.both + c.newOnly;
    const int activeRight = c.both + c.activeOnly;
    const double p1 = double(newRight) / n;
    const double p2 = double(activeRight) / n;
    out.difference = p1 - p2;
    const Interval w1 = wilsonInterval(newRight, n, z);
    const Interval w2 = wilsonInterval(activeRight, n, z);
    // The correlation of the paired outcomes, with Newcombe's correction: a positive
    // numerator (both*neither - newOnly*activeOnly) is reduced by n/2 (not below 0); a margin
    // of the table that is 0 makes it 0.
    double phi = 0.0;
    const double margins = double(newRight) * double(n - newRight) * double(activeRight) * double(n - activeRight);
    if (margins > 0.0) {
        const double a = double(c.both) * c.neither - double(c.newOnly) * c.activeOnly;
        if (a > n / 2.0)
            phi = (a - n / 2.0) / std::sqrt(margins);
        else if (a < 0.0)
            phi = a / std::sqrt(margins);
    }
    const double downNew = p1 - w1.low, upActive = w2.high - p2; // towards "new is worse"
    const double upNew = w1.high - p1, downActive = p2 - w2.low; // towards "new is better"
    const double below = std::sqrt(std::max(0.0, downNew * downNew + upActive * upActive - 2.0 * phi * downNew * upActive));
    const double above = std::sqrt(std::max(0.0, upNew * upNew + downActive * downActive - 2.0 * phi * upNew * downActive));
    out.interval = {std::max(-1.0, out.difference - below), std::min(1.0, out.difference + above)};
    return out;
}

ActivationDecision decideActivation(const ActivationInput &in)
{
    ActivationDecision d;
    if (in.operatorChose && in.activeVersion > 0) {
        // A choice made by hand after the run began outranks what the run would decide.
        d.activate = false;
        d.reason = ActivationReason::OperatorChose;
        return d;
    }
    if (in.activeVersion <= 0)
        return d; // NoActiveVersion
    if (!in.shared) {
        d.reason = ActivationReason::NoComparison;
        return d;
    }
    d.difference = pairedDifference(*in.shared);
    if (d.difference.n < kMinSharedExamples) {
        d.reason = ActivationReason::TooFewShared;
        return d;
    }
    if (d.difference.interval.high < -in.margin) {
        d.activate = false;
        d.reason = ActivationReason::WorseWithConfidence;
    } else {
        d.reason = ActivationReason::NotWorse;
    }
    return d;
}

} // namespace loopdeck::loop::policy
