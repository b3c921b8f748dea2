#pragma once
// Request counters and latency percentiles of the ML backend, per route and overall.
// Written by the server threads after every request, read by GET /metrics and the GUI.
// Latencies come from a bounded window of the most recent requests (a ring per route), so
// the percentiles describe the last few thousand requests and memory stays fixed.
#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QString>

#include <cstdint>
#include <mutex>
#include <vector>

namespace loopdeck::backend {

class ServerMetrics final
{
public:
    static constexpr int kWindow = 4096; // latencies kept per route

    ServerMetrics();

    // route is "METHOD /path" for a known route, or e.g. "unmatched" for 404/405 answers.
    void record(const QString &route, int status, std::int64_t latencyNs);
    // Counts predictions actually made (tasks that received a result).
    void addPredictions(std::int64_t n);
    void reset();

    struct Percentiles {
        double p50 = 0, p90 = 0, p99 = 0, max = 0; // milliseconds
    };
    struct RouteStats {
        std::int64_t count = 0;
        std::int64_t errors = 0; // status >= 400
        Percentiles latency;
    };
    RouteStats overall() const;
    QHash<QString, RouteStats> routes() const;
    std::int64_t predictions() const;
    double uptimeSeconds() const;

    // {"uptime_seconds", "requests_total", "errors_total", "predictions_total",
    //  "latency_ms": {p50,p90,p99,max}, "routes": {"POST /predict": {count, errors, latency_ms}}}
    QJsonObject toJson() const;

private:
    struct Series {
        std::int64_t count = 0;
        std::int64_t errors = 0;
        std::vector<std::int64_t> window; // ring of the last kWindow latencies (ns)
        std::size_t next = 0;
        void add(int status, std::int64_t ns);
        RouteStats stats() const;
    };

    mutable std::mutex m_mutex;
    Series m_overall;
    QHash<QString, Series> m_routes;
    std::int64_t m_predictions = 0;
    QElapsedTimer m_uptime;
};

} // namespace loopdeck::backend
