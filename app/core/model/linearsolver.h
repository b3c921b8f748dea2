#pragma once
// The linear learner behind TextClassifier: an L2-regularised squared-hinge (L2-loss) linear SVM
// with a bias term, solved in the dual by coordinate descent with shrinking (Hsieh et al., ICML
// 2008 — the algorithm of LinearSVC / liblinear's solver 1), on a CSR matrix, optionally with a
// per-column feature scale (NB weighting). Own code instead of liblinear so that the visiting
// order comes from a seeded generator (deterministic for equal input, also when several solvers
// run on different threads) and so that one solver can walk a path of increasing C values,
// warm-started from the previous solution (cheap cross-validation).
// One instance per thread; the matrix is shared read-only (and read in place: only the scaled
// values of a scaled solver are copied).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace loopdeck::model {

// An allocator whose resize() leaves elements of trivial types uninitialised: the matrix's
// hundreds of MB are written right after by several threads, so the pages are first touched
// (and zeroed by the kernel) in parallel instead of by one memset.
template <typename T>
struct UninitialisedAllocator : std::allocator<T> {
    template <typename U>
    struct rebind {
        using other = UninitialisedAllocator<U>;
    };
    UninitialisedAllocator() = default;
    template <typename U>
    UninitialisedAllocator(const UninitialisedAllocator<U> &) noexcept {}
    template <typename U, typename... Args>
    void construct(U *p, Args &&...args)
    {
        if constexpr (sizeof...(Args) == 0 && std::is_trivially_default_constructible_v<U>)
            ::new (static_cast<void *>(p)) U;
        else
            ::new (static_cast<void *>(p)) U(std::forward<Args>(args)...);
    }
};

// Rows of (column, value) pairs; row i is entries [start[i], start[i+1]).
struct CsrMatrix {
    std::vector<std::size_t> start{0};
    std::vector<std::uint32_t, UninitialisedAllocator<std::uint32_t>> column;
    std::vector<float, UninitialisedAllocator<float>> value;
    std::size_t columns = 0;
    std::size_t rows() const { return start.size() - 1; }
};

class DualSvm final
{
public:
    // rows: the matrix rows to train on; positive[k] the label of rows[k]. scale: nullptr or one
    // factor per column (kept by pointer: must outlive the solver).
    DualSvm(const CsrMatrix &x, std::vector<std::uint32_t> rows, std::vector<char> positive,
            const float *scale, std::uint64_t seed);

    // Solves for C (> 0), starting from the current solution. Returns false when *cancel became
    // true (the solution is then unfinished).
    bool solve(double c, const std::atomic<bool> *cancel = nullptr, double eps = 0.1, int maxEpochs = 300);

    // Starts from the dual solution alpha (one value per training row, >= 0) instead of zero:
    // sets w and b from it. For warm starts from a related problem (the folds of a
    // cross-validation for the model on all rows): the optimum is the same, and the solution
    // found equals a cold start's up to the tolerance (not bit for bit).
    void startFrom(const std::vector<float> &alpha);
    // The dual solution, one value per training row.
    const std::vector<double> &alpha() const { return m_alpha; }

    // Decision value w.x + b of any row of the matrix (scaled like the training rows).
    double decision(std::size_t row) const;
    // Weights in the scaled space; multiply by the scale for weights on the raw features.
    const std::vector<double> &weights() const { return m_w; }
    double bias() const { return m_b; }
    int lastEpochs() const { return m_epochs; }
    // Rows the last solve() visited over all its passes (shrinking leaves rows out): its work.
    std::uint64_t lastVisits() const { return m_visits; }

private:
    const float *rowValues(std::size_t k) const
    {
        return m_scale ? m_val.data() + m_valStart[k] : m_x.value.data() + m_begin[k];
    }

    const CsrMatrix &m_x;
    std::vector<char> m_positive;
    const float *m_scale;
    // The training rows are read from the shared matrix (row k = entries [m_begin[k], m_end[k]));
    // with a scale, their scaled values are copied (row k's at m_val[m_valStart[k] ...]).
    std::vector<std::size_t> m_begin, m_end, m_valStart;
    std::vector<float> m_val;
    std::vector<double> m_alpha;
    std::vector<double> m_sq; // x.x + 1 (bias) per training row
    std::vector<double> m_w;
    double m_b = 0.0;
    std::uint64_t m_rng;
    int m_epochs = 0;
    std::uint64_t m_visits = 0;
};

// Naive Bayes log-count ratios per column (Wang & Manning 2012): r_j = log((p_j / |p|_1) /
// (q_j / |q|_1)) with p_j = 1 + documents of the positive rows containing j, q_j the same for
// the negative rows. Only the first `counted` columns are counted (the sums too); the rest (dense
// features) get a ratio of 1, unscaled.
std::vector<float> nbRatios(const CsrMatrix &x, const std::vector<std::uint32_t> &rows,
                            const std::vector<char> &positive, std::size_t counted = SIZE_MAX);

} // namespace loopdeck::model
