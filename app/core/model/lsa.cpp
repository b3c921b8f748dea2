#include "core/model/lsa.h"

#include <QtConcurrent/QtConcurrentMap>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace loopdeck::model {

namespace {

// Rows per task of the parallel products.
constexpr std::size_t kChunkRows = 512;

std::uint64_t splitmix(std::uint64_t &state)
{
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// Approximately standard normal (Irwin-Hall: the sum of 12 uniforms minus 6): integer arithmetic
// and IEEE additions in a fixed order (no library normal distribution, whose algorithm differs
// between standard libraries), so the same draws wherever doubles round to nearest. The SVD as a
// whole is reproducible per platform and compiler (FMA contraction and libm may differ).
double pseudoGaussian(std::uint64_t &state)
{
    double s = 0.0;
    for (int i = 0; i < 12; ++i)
        s += static_cast<double>(splitmix(state) >> 11) * 0x1.0p-53;
    return s - 6.0;
}

// Runs f(begin, end) over [0, rows) in chunks on the global thread pool.
template<typename F>
void forChunks(std::size_t rows, F f)
{
    std::vector<std::size_t> chunks((rows + kChunkRows - 1) / kChunkRows);
    std::iota(chunks.begin(), chunks.end(), std::size_t(0));
    QtConcurrent::blockingMap(chunks, [&](std::size_t c) {
        f(c * kChunkRows, std::min(rows, (c + 1) * kChunkRows));
    });
}

// out (x.rows() x l, row-major) = x * q (x.columns x l, row-major).
void multiply(const CsrMatrix &x, const std::vector<double> &q, std::size_t l, std::vector<double> &out)
{
    out.assign(x.rows() * l, 0.0);
    forChunks(x.rows(), [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) {
            double *o = out.data() + i * l;
            for (std::size_t e = x.start[i]; e < x.start[i + 1]; ++e) {
                const double v = x.value[e];
                const double *r = q.data() + static_cast<std::size_t>(x.column[e]) * l;
                for (std::size_t c = 0; c < l; ++c)
                    o[c] += v * r[c];
            }
        }
    });
}

CsrMatrix transpose(const CsrMatrix &x)
{
    CsrMatrix t;
    t.columns = x.rows();
    t.start.assign(x.columns + 1, 0);
    for (std::uint32_t c : x.column)
        ++t.start[c + 1];
    for (std::size_t j = 0; j < x.columns; ++j)
        t.start[j + 1] += t.start[j];
    t.column.resize(x.column.size());
    t.value.resize(x.value.size());
    std::vector<std::size_t> next(t.start.begin(), t.start.end() - 1);
    for (std::size_t i = 0; i < x.rows(); ++i) {
        for (std::size_t e = x.start[i]; e < x.start[i + 1]; ++e) {
            const std::size_t p = next[x.column[e]]++;
            t.column[p] = static_cast<std::uint32_t>(i);
            t.value[p] = x.value[e];
        }
    }
    return t;
}

// Orthonormalises the l columns of a (rows x l, row-major) by modified Gram-Schmidt, twice
// ("twice is enough"); a column that is (numerically) in the span of the earlier ones becomes 0.
// The fallback of orthonormalise() for (nearly) rank-deficient matrices.
void gramSchmidt(std::vector<double> &a, std::size_t rows, std::size_t l)
{
    // Column-major copy: contiguous columns.
    std::vector<double> col(rows * l);
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t c = 0; c < l; ++c)
            col[c * rows + i] = a[i * l + c];
    for (std::size_t j = 0; j < l; ++j) {
        double *cj = col.data() + j * rows;
        double original = 0.0;
        for (std::size_t i = 0; i < rows; ++i)
            original += cj[i] * cj[i];
        for (int pass = 0; pass < 2; ++pass) {
            for (std::size_t p = 0; p < j; ++p) {
                const double *cp = col.data() + p * rows;
                double dot = 0.0;
                for (std::size_t i = 0; i < rows; ++i)
                    dot += cp[i] * cj[i];
                for (std::size_t i = 0; i < rows; ++i)
                    cj[i] -= dot * cp[i];
            }
        }
        double norm = 0.0;
        for (std::size_t i = 0; i < rows; ++i)
            norm += cj[i] * cj[i];
        const double scale = norm > 1e-20 * original && norm > 0.0 ? 1.0 / std::sqrt(norm) : 0.0;
        for (std::size_t i = 0; i < rows; ++i)
            cj[i] *= scale;
    }
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t c = 0; c < l; ++c)
            a[i * l + c] = col[c * rows + i];
}

// One Cholesky QR step: G = AᵀA (partial sums per chunk, added in chunk order), G = RᵀR,
// A = A R⁻¹. Returns false (a unchanged) when G is not numerically positive definite.
bool choleskyQrStep(std::vector<double> &a, std::size_t rows, std::size_t l)
{
    const std::size_t chunks = (rows + kChunkRows - 1) / kChunkRows;
    std::vector<double> partial(chunks * l * l, 0.0);
    forChunks(rows, [&](std::size_t begin, std::size_t end) {
        double *g = partial.data() + (begin / kChunkRows) * l * l;
        for (std::size_t i = begin; i < end; ++i) {
            const double *r = a.data() + i * l;
            for (std::size_t p = 0; p < l; ++p)
                for (std::size_t q = p; q < l; ++q)
                    g[p * l + q] += r[p] * r[q];
        }
    });
    std::vector<double> g(l * l, 0.0);
    for (std::size_t c = 0; c < chunks; ++c)
        for (std::size_t e = 0; e < l * l; ++e)
            g[e] += partial[c * l * l + e];
    // Upper-triangular R with G = RᵀR.
    std::vector<double> r(l * l, 0.0);
    for (std::size_t j = 0; j < l; ++j) {
        double d = g[j * l + j];
        for (std::size_t k = 0; k < j; ++k)
            d -= r[k * l + j] * r[k * l + j];
        if (!(d > 1e-12 * g[j * l + j]) || !(g[j * l + j] > 0.0))
            return false;
        r[j * l + j] = std::sqrt(d);
        for (std::size_t q = j + 1; q < l; ++q) {
            double v = g[j * l + q];
            for (std::size_t k = 0; k < j; ++k)
                v -= r[k * l + j] * r[k * l + q];
            r[j * l + q] = v / r[j * l + j];
        }
    }
    forChunks(rows, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) {
            double *x = a.data() + i * l; // solve x R = a in place
            for (std::size_t j = 0; j < l; ++j) {
                double v = x[j];
                for (std::size_t k = 0; k < j; ++k)
                    v -= x[k] * r[k * l + j];
                x[j] = v / r[j * l + j];
            }
        }
    });
    return true;
}

// Orthonormalises the l columns of a (rows x l, row-major): Cholesky QR twice (CholeskyQR2;
// parallel, cache-friendly), or modified Gram-Schmidt when the columns are nearly dependent.
void orthonormalise(std::vector<double> &a, std::size_t rows, std::size_t l)
{
    const std::vector<double> copy = a;
    if (choleskyQrStep(a, rows, l) && choleskyQrStep(a, rows, l))
        return;
    a = copy;
    gramSchmidt(a, rows, l);
}

// Eigen-decomposition of the symmetric n x n matrix a (row-major) by cyclic Jacobi rotations:
// eigenvalues on return in values, eigenvectors as the columns of vectors (row-major).
void jacobiEigen(std::vector<double> a, std::size_t n, std::vector<double> &values, std::vector<double> &vectors)
{
    vectors.assign(n * n, 0.0);
    for (std::size_t i = 0; i < n; ++i)
        vectors[i * n + i] = 1.0;
    for (int sweep = 0; sweep < 100; ++sweep) {
        double off = 0.0, total = 0.0;
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < n; ++j)
                (i == j ? total : off) += a[i * n + j] * a[i * n + j];
        if (off <= 1e-30 * (total + off) || off == 0.0)
            break;
        for (std::size_t p = 0; p + 1 < n; ++p) {
            for (std::size_t q = p + 1; q < n; ++q) {
                const double apq = a[p * n + q];
                if (apq == 0.0)
                    continue;
                const double theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                const double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1.0));
                const double c = 1.0 / std::sqrt(t * t + 1.0);
                const double s = t * c;
                for (std::size_t k = 0; k < n; ++k) { // columns p, q
                    const double akp = a[k * n + p], akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for (std::size_t k = 0; k < n; ++k) { // rows p, q
                    const double apk = a[p * n + k], aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for (std::size_t k = 0; k < n; ++k) {
                    const double vkp = vectors[k * n + p], vkq = vectors[k * n + q];
                    vectors[k * n + p] = c * vkp - s * vkq;
                    vectors[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    values.resize(n);
    for (std::size_t i = 0; i < n; ++i)
        values[i] = a[i * n + i];
}

} // namespace

TruncatedSvd truncatedSvd(const CsrMatrix &x, int k, int oversampling, int powerIterations, std::uint64_t seed)
{
    TruncatedSvd out;
    const std::size_t rows = x.rows(), cols = x.columns;
    const auto kk = static_cast<std::size_t>(std::clamp<std::int64_t>(k, 0, static_cast<std::int64_t>(std::min(rows, cols))));
    if (kk == 0)
        return out;
    const std::size_t l = std::min(kk + static_cast<std::size_t>(std::max(oversampling, 0)), std::min(rows, cols));
    // Sketch: Y = X Omega, Omega cols x l pseudo-Gaussian.
    std::vector<double> omega(cols * l);
    std::uint64_t state = seed;
    for (double &w : omega)
        w = pseudoGaussian(state);
    const CsrMatrix xt = transpose(x);
    std::vector<double> y, z;
    multiply(x, omega, l, y);
    omega = {};
    orthonormalise(y, rows, l);
    for (int it = 0; it < powerIterations; ++it) {
        multiply(xt, y, l, z); // Z = Xᵀ Q
        orthonormalise(z, cols, l);
        multiply(x, z, l, y); // Y = X Z
        orthonormalise(y, rows, l);
    }
    multiply(xt, y, l, z); // Z = Xᵀ Q = Bᵀ (cols x l)
    // B Bᵀ = Zᵀ Z (l x l).
    std::vector<double> g(l * l, 0.0);
    for (std::size_t j = 0; j < cols; ++j) {
        const double *r = z.data() + j * l;
        for (std::size_t a = 0; a < l; ++a)
            for (std::size_t b = a; b < l; ++b)
                g[a * l + b] += r[a] * r[b];
    }
    for (std::size_t a = 0; a < l; ++a)
        for (std::size_t b = 0; b < a; ++b)
            g[a * l + b] = g[b * l + a];
    std::vector<double> values, u;
    jacobiEigen(std::move(g), l, values, u);
    std::vector<std::size_t> order(l);
    std::iota(order.begin(), order.end(), std::size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] > values[b]; });
    out.k = static_cast<int>(kk);
    out.singular.resize(kk);
    out.v.assign(cols * kk, 0.0);
    for (std::size_t c = 0; c < kk; ++c) {
        const std::size_t e = order[c];
        const double s = std::sqrt(std::max(values[e], 0.0));
        out.singular[c] = s;
        if (!(s > 1e-7 * std::sqrt(std::max(values[order[0]], 0.0))) || s == 0.0) // below: round-off, not a direction
            continue; // no direction left: a zero vector
        double largest = 0.0;
        for (std::size_t j = 0; j < cols; ++j) {
            const double *r = z.data() + j * l;
            double sum = 0.0;
            for (std::size_t a = 0; a < l; ++a)
                sum += r[a] * u[a * l + e];
            out.v[j * kk + c] = sum / s;
            if (std::fabs(out.v[j * kk + c]) > std::fabs(largest))
                largest = out.v[j * kk + c];
        }
        if (largest < 0.0)
            for (std::size_t j = 0; j < cols; ++j)
                out.v[j * kk + c] = -out.v[j * kk + c];
    }
    return out;
}

void LsaProjection::project(const std::uint32_t *sortedBuckets, std::size_t count, float *out) const
{
    const auto k = static_cast<std::size_t>(dimensions);
    constexpr std::size_t kStack = 128;
    double stack[kStack];
    std::vector<double> heap;
    double *sum = stack;
    if (k > kStack) {
        heap.resize(k);
        sum = heap.data();
    }
    std::fill_n(sum, k, 0.0);
    auto from = buckets.begin();
    for (std::size_t i = 0; i < count; ++i) {
        const std::uint32_t bucket = sortedBuckets[i];
        if (i > 0 && sortedBuckets[i - 1] == bucket)
            continue;
        from = std::lower_bound(from, buckets.end(), bucket);
        if (from == buckets.end())
            break;
        if (*from != bucket)
            continue;
        const float *v = vectors.data() + static_cast<std::size_t>(from - buckets.begin()) * k;
        for (std::size_t c = 0; c < k; ++c)
            sum[c] += v[c];
    }
    double norm = 0.0;
    for (std::size_t c = 0; c < k; ++c)
        norm += sum[c] * sum[c];
    const double inv = norm > 0.0 ? 1.0 / std::sqrt(norm) : 0.0;
    for (std::size_t c = 0; c < k; ++c)
        out[c] = static_cast<float>(sum[c] * inv);
}

LsaProjection fitLsa(const std::vector<std::vector<std::uint32_t>> &documents, int dimensions, std::uint32_t minDf,
                     std::size_t minColumns)
{
    LsaProjection p;
    std::vector<std::uint32_t> all;
    for (const auto &d : documents)
        all.insert(all.end(), d.begin(), d.end());
    std::sort(all.begin(), all.end());
    std::vector<std::uint32_t> kept;
    std::vector<std::uint32_t> df;
    for (std::size_t i = 0; i < all.size();) {
        std::size_t j = i + 1;
        while (j < all.size() && all[j] == all[i])
            ++j;
        if (j - i >= minDf) {
            kept.push_back(all[i]);
            df.push_back(static_cast<std::uint32_t>(j - i));
        }
        i = j;
    }
    all = {};
    if (kept.size() > kLsaMaxColumns) {
        // A large pool: the kLsaMaxColumns most frequent buckets (ties: the lower bucket), so
        // memory, model size and prediction time stay bounded.
        std::vector<std::size_t> order(kept.size());
        std::iota(order.begin(), order.end(), std::size_t(0));
        std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(kLsaMaxColumns), order.end(),
                         [&](std::size_t a, std::size_t b) { return df[a] > df[b] || (df[a] == df[b] && kept[a] < kept[b]); });
        order.resize(kLsaMaxColumns);
        std::sort(order.begin(), order.end());
        std::vector<std::uint32_t> k2, df2;
        for (std::size_t i : order) {
            k2.push_back(kept[i]);
            df2.push_back(df[i]);
        }
        kept = std::move(k2);
        df = std::move(df2);
    }
    std::vector<double> idf;
    const double n = static_cast<double>(documents.size());
    for (std::uint32_t d : df)
        idf.push_back(std::log((1.0 + n) / (1.0 + static_cast<double>(d))) + 1.0);
    if (dimensions <= 0 || kept.size() < std::max<std::size_t>(minColumns, static_cast<std::size_t>(dimensions)))
        return p;
    CsrMatrix x;
    x.columns = kept.size();
    for (const auto &d : documents) {
        auto from = kept.begin();
        for (std::uint32_t b : d) {
            from = std::lower_bound(from, kept.end(), b);
            if (from == kept.end())
                break;
            if (*from == b) {
                const auto j = static_cast<std::size_t>(from - kept.begin());
                x.column.push_back(static_cast<std::uint32_t>(j));
                x.value.push_back(static_cast<float>(idf[j]));
            }
        }
        x.start.push_back(x.column.size());
    }
    const TruncatedSvd svd = truncatedSvd(x, dimensions);
    if (svd.k != dimensions)
        return p;
    const auto k = static_cast<std::size_t>(dimensions);
    p.dimensions = dimensions;
    p.buckets = std::move(kept);
    p.vectors.resize(p.buckets.size() * k);
    for (std::size_t j = 0; j < p.buckets.size(); ++j)
        for (std::size_t c = 0; c < k; ++c)
            p.vectors[j * k + c] = static_cast<float>(idf[j] * svd.v[j * k + c]);
    return p;
}

} // namespace loopdeck::model
