#pragma once
// Latent semantic analysis (LSA) of a project's own texts: a dense k-dimensional representation
// learned without labels from the character n-gram buckets (FeatureHasher's block 1) of the
// labelled and unlabelled texts together. The matrix X has one row per text and one column per
// bucket seen in at least minDf texts; entries are binary presence x smoothed idf
// ln((1 + N) / (1 + df)) + 1, neither row-normalised nor centred. A randomized truncated SVD
// (Halko, Martinsson & Tropp 2011: Gaussian-like sketch, power iterations with re-orthonormalisation
// by Cholesky QR twice, or modified Gram-Schmidt when columns are nearly dependent; Jacobi
// eigen-decomposition of the small B Bᵀ) gives the top-k right
// singular vectors V_k; a text's representation is x · V_k, l2-normalised. Plain C++, seeded,
// with a portable pseudo-Gaussian (sum of uniforms), so equal input gives equal output on a
// platform (chunked sums are added in a fixed order, whatever the number of threads).
// Called by TextClassifier::train() (few labels with a pool of unlabelled texts) and by
// TextClassifier's prediction and model-file code through LsaProjection; tests: tst_lsa.
#include "core/model/linearsolver.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace loopdeck::model {

// The result of truncatedSvd(): singular values (descending) and the right singular vectors,
// columns x k row-major (v[j * k + c]); sign-fixed so each vector's largest-magnitude entry is
// positive.
struct TruncatedSvd {
    int k = 0;
    std::vector<double> singular;
    std::vector<double> v;
};

// Randomized truncated SVD of a CSR matrix (rows x x.columns); k is clamped to the matrix's
// smaller side. Spreads the sparse products over the global thread pool; deterministic.
TruncatedSvd truncatedSvd(const CsrMatrix &x, int k, int oversampling = 10, int powerIterations = 5,
                          std::uint64_t seed = 0x4c53414c4f4f5031ull);

// What a trained model keeps: the kept buckets (strictly increasing) and per bucket k floats,
// idf x V_k row (idf folded in).
struct LsaProjection {
    int dimensions = 0;
    std::vector<std::uint32_t> buckets;
    std::vector<float> vectors; // buckets.size() x dimensions

    bool empty() const { return dimensions == 0; }
    // The representation of a text from its buckets, ascending (repeats allowed, counted once;
    // unknown buckets ignored): the sum of the known buckets' vectors in ascending order, in
    // double, then l2-normalised and rounded to float (all zeros when no bucket is known).
    // out: dimensions floats.
    void project(const std::uint32_t *sortedBuckets, std::size_t count, float *out) const;
};

// At most this many buckets (columns) are kept: the most frequent ones. Bounds the fit's memory
// (a few dense columns x k matrices), the model's size (k floats per bucket) and a prediction's
// lookups, whatever the pool's size.
inline constexpr std::size_t kLsaMaxColumns = std::size_t(1) << 16;

// Fits the projection. documents: per text its distinct buckets, ascending. Returns an empty
// projection when fewer than minColumns buckets reach minDf; keeps at most kLsaMaxColumns.
LsaProjection fitLsa(const std::vector<std::vector<std::uint32_t>> &documents, int dimensions,
                     std::uint32_t minDf, std::size_t minColumns);

} // namespace loopdeck::model
