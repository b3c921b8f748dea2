#include "core/model/linearsolver.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace loopdeck::model {
namespace {

std::uint64_t nextRandom(std::uint64_t &state)
{
    // splitmix64: fixed, documented arithmetic, the same on every platform.
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

} // namespace

DualSvm::DualSvm(const CsrMatrix &x, std::vector<std::uint32_t> rows, std::vector<char> positive,
                 const float *scale, std::uint64_t seed)
    : m_x(x)
    , m_positive(std::move(positive))
    , m_scale(scale)
    , m_alpha(rows.size(), 0.0)
    , m_sq(rows.size(), 1.0)
    , m_w(x.columns, 0.0)
    , m_rng(seed)
{
    const std::size_t l = rows.size();
    m_begin.resize(l);
    m_end.resize(l);
    std::size_t nnz = 0;
    for (std::size_t k = 0; k < l; ++k) {
        m_begin[k] = m_x.start[rows[k]];
        m_end[k] = m_x.start[rows[k] + 1];
        nnz += m_end[k] - m_begin[k];
    }
    const std::uint32_t *col = m_x.column.data();
    const float *val = m_x.value.data();
    if (m_scale) {
        m_valStart.resize(l);
        m_val.resize(nnz);
        float *out = m_val.data();
        for (std::size_t k = 0; k < l; ++k) {
            m_valStart[k] = static_cast<std::size_t>(out - m_val.data());
            double s = 1.0;
            for (std::size_t e = m_begin[k]; e < m_end[k]; ++e) {
                const float v = val[e] * m_scale[col[e]];
                *out++ = v;
                s += double(v) * v;
            }
            m_sq[k] = s;
        }
    } else {
        for (std::size_t k = 0; k < l; ++k) {
            double s = 1.0;
            for (std::size_t e = m_begin[k]; e < m_end[k]; ++e)
                s += double(val[e]) * val[e];
            m_sq[k] = s;
        }
    }
}

void DualSvm::startFrom(const std::vector<float> &alpha)
{
    std::fill(m_w.begin(), m_w.end(), 0.0);
    m_b = 0.0;
    const std::size_t l = std::min(alpha.size(), m_alpha.size());
    for (std::size_t k = 0; k < m_alpha.size(); ++k) {
        const double a = k < l && alpha[k] > 0.0f && std::isfinite(alpha[k]) ? double(alpha[k]) : 0.0;
        m_alpha[k] = a;
        if (a == 0.0)
            continue;
        const double d = m_positive[k] ? a : -a;
        const std::uint32_t *col = m_x.column.data() + m_begin[k];
        const float *val = rowValues(k);
        for (std::size_t e = 0, len = m_end[k] - m_begin[k]; e < len; ++e)
            m_w[col[e]] += d * double(val[e]);
        m_b += d;
    }
}

double DualSvm::decision(std::size_t r) const
{
    double d = m_b;
    const std::uint32_t *col = m_x.column.data();
    const float *val = m_x.value.data();
    if (m_scale) {
        for (std::size_t e = m_x.start[r]; e < m_x.start[r + 1]; ++e)
            d += double(val[e]) * m_scale[col[e]] * m_w[col[e]];
    } else {
        for (std::size_t e = m_x.start[r]; e < m_x.start[r + 1]; ++e)
            d += double(val[e]) * m_w[col[e]];
    }
    return d;
}

bool DualSvm::solve(double c, const std::atomic<bool> *cancel, double eps, int maxEpochs)
{
    const std::size_t l = m_alpha.size();
    m_epochs = 0;
    m_visits = 0;
    if (l == 0)
        return true;
    const double diag = 0.5 / c;
    std::vector<std::size_t> index(l);
    for (std::size_t k = 0; k < l; ++k)
        index[k] = k;
    std::size_t active = l;
    double pgMaxOld = std::numeric_limits<double>::infinity();
    const std::uint32_t *columns = m_x.column.data();
    double *w = m_w.data();
    while (m_epochs < maxEpochs) {
        if (cancel && cancel->load(std::memory_order_relaxed))
            return false;
        for (std::size_t k = 0; k + 1 < active; ++k) {
            const std::size_t j = k + static_cast<std::size_t>(nextRandom(m_rng) % (active - k));
            std::swap(index[k], index[j]);
        }
        m_visits += active; // every active row is visited (some are shrunk on the way)
        double pgMax = -std::numeric_limits<double>::infinity();
        double pgMin = std::numeric_limits<double>::infinity();
        for (std::size_t s = 0; s < active; ++s) {
            const std::size_t k = index[s];
            const double y = m_positive[k] ? 1.0 : -1.0;
            const std::uint32_t *col = columns + m_begin[k];
            const float *val = rowValues(k);
            const std::size_t len = m_end[k] - m_begin[k];
            double wx = m_b;
            for (std::size_t e = 0; e < len; ++e)
                wx += double(val[e]) * w[col[e]];
            const double g = y * wx - 1.0 + m_alpha[k] * diag;
            double pg = 0.0;
            if (m_alpha[k] == 0.0) {
                if (g > pgMaxOld) {
                    --active;
                    std::swap(index[s], index[active]);
                    --s;
                    continue;
                }
                if (g < 0.0)
                    pg = g;
            } else {
                pg = g;
            }
            pgMax = std::max(pgMax, pg);
            pgMin = std::min(pgMin, pg);
            if (std::fabs(pg) > 1e-12) {
                const double old = m_alpha[k];
                m_alpha[k] = std::max(old - g / (m_sq[k] + diag), 0.0);
                const double d = (m_alpha[k] - old) * y;
                for (std::size_t e = 0; e < len; ++e)
                    w[col[e]] += d * double(val[e]);
                m_b += d;
            }
        }
        ++m_epochs;
        if (pgMax - pgMin <= eps) {
            if (active == l)
                break;
            active = l; // converged on the active set: check everything once more
            pgMaxOld = std::numeric_limits<double>::infinity();
            continue;
        }
        pgMaxOld = pgMax <= 0.0 ? std::numeric_limits<double>::infinity() : pgMax;
    }
    return true;
}

std::vector<float> nbRatios(const CsrMatrix &x, const std::vector<std::uint32_t> &rows,
                            const std::vector<char> &positive, std::size_t counted)
{
    const std::size_t limit = std::min(counted, x.columns);
    std::vector<double> p(limit, 1.0), q(limit, 1.0);
    for (std::size_t k = 0; k < rows.size(); ++k) {
        std::vector<double> &side = positive[k] ? p : q;
        for (std::size_t e = x.start[rows[k]]; e < x.start[rows[k] + 1]; ++e)
            if (x.value[e] != 0.0f && x.column[e] < limit)
                side[x.column[e]] += 1.0;
    }
    double sp = 0.0, sq = 0.0;
    for (std::size_t j = 0; j < limit; ++j) {
        sp += p[j];
        sq += q[j];
    }
    std::vector<float> r(x.columns, 1.0f);
    for (std::size_t j = 0; j < limit; ++j)
        r[j] = static_cast<float>(std::log((p[j] / sp) / (q[j] / sq)));
    return r;
}

} // namespace loopdeck::model
