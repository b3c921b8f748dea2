#include "core/backend/servermetrics.h"

#include <algorithm>

namespace loopdeck::backend {

namespace {

QJsonObject percentilesJson(const ServerMetrics::Percentiles &p)
{
    return QJsonObject{{QStringLiteral("p50"), p.p50},
                       {QStringLiteral("p90"), p.p90},
                       {QStringLiteral("p99"), p.p99},
                       {QStringLiteral("max"), p.max}};
}

QJsonObject statsJson(const ServerMetrics::RouteStats &s)
{
    return QJsonObject{{QStringLiteral("count"), double(s.count)},
                       {QStringLiteral("errors"), double(s.errors)},
                       {QStringLiteral("latency_ms"), percentilesJson(s.latency)}};
}

} // namespace

void ServerMetrics::Series::add(int status, std::int64_t ns)
{
    ++count;
    if (status >= 400)
        ++errors;
    if (window.size() < std::size_t(kWindow)) {
        window.push_back(ns);
    } else {
        window[next] = ns;
        next = (next + 1) % window.size();
    }
}

ServerMetrics::RouteStats ServerMetrics::Series::stats() const
{
    RouteStats s;
    s.count = count;
    s.errors = errors;
    if (window.empty())
        return s;
    std::vector<std::int64_t> sorted = window;
    std::sort(sorted.begin(), sorted.end());
    // Nearest-rank percentile.
    const auto at = [&](double q) {
        std::size_t rank = std::size_t(q * double(sorted.size()) + 0.999999);
        rank = std::clamp<std::size_t>(rank, 1, sorted.size());
        return double(sorted[rank - 1]) / 1e6;
    };
    s.latency.p50 = at(0.50);
    s.latency.p90 = at(0.90);
    s.latency.p99 = at(0.99);
    s.latency.max = double(sorted.back()) / 1e6;
    return s;
}

ServerMetrics::ServerMetrics()
{
    m_uptime.start();
}

void ServerMetrics::record(const QString &route, int status, std::int64_t latencyNs)
{
    std::lock_guard lock(m_mutex);
    m_overall.add(status, latencyNs);
    m_routes[route].add(status, latencyNs);
}

void ServerMetrics::addPredictions(std::int64_t n)
{
    std::lock_guard lock(m_mutex);
    m_predictions += n;
}

void ServerMetrics::reset()
{
    std::lock_guard lock(m_mutex);
    m_overall = Series();
    m_routes.clear();
    m_predictions = 0;
    m_uptime.restart();
}

ServerMetrics::RouteStats ServerMetrics::overall() const
{
    std::lock_guard lock(m_mutex);
    return m_overall.stats();
}

QHash<QString, ServerMetrics::RouteStats> ServerMetrics::routes() const
{
    std::lock_guard lock(m_mutex);
    QHash<QString, RouteStats> out;
    for (auto it = m_routes.cbegin(); it != m_routes.cend(); ++it)
        out.insert(it.key(), it.value().stats());
    return out;
}

std::int64_t ServerMetrics::predictions() const
{
    std::lock_guard lock(m_mutex);
    return m_predictions;
}

double ServerMetrics::uptimeSeconds() const
{
    std::lock_guard lock(m_mutex);
    return double(m_uptime.elapsed()) / 1000.0;
}

QJsonObject ServerMetrics::toJson() const
{
    const RouteStats all = overall();
    QJsonObject routesJson;
    const auto perRoute = routes();
    for (auto it = perRoute.cbegin(); it != perRoute.cend(); ++it)
        routesJson.insert(it.key(), statsJson(it.value()));
    return QJsonObject{{QStringLiteral("uptime_seconds"), uptimeSeconds()},
                       {QStringLiteral("requests_total"), double(all.count)},
                       {QStringLiteral("errors_total"), double(all.errors)},
                       {QStringLiteral("predictions_total"), double(predictions())},
                       {QStringLiteral("latency_ms"), percentilesJson(all.latency)},
                       {QStringLiteral("latency_window"), kWindow},
                       {QStringLiteral("routes"), routesJson}};
}

} // namespace loopdeck::backend
