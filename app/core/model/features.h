#pragma once
// Turns token lists into the sparse vectors the classifier learns from: word unigrams and
// bigrams hashed into 2^hashBits buckets with a stable hash (FNV-1a over UTF-8, then a 64-bit
// mixer), so equal text gives equal features on every machine and run. TfidfModel learns the
// document frequency of every bucket seen in training and maps raw counts to sublinear
// (1 + ln tf) x idf weights, l2-normalised. Buckets never seen in training are dropped.
// Called by TextClassifier (training, prediction, model files) and the metrics helpers' tests.
#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QStringView>

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace loopdeck::model {

// FNV-1a (64-bit) over the UTF-8 encoding of s, computed without allocating.
std::uint64_t stableHash(QStringView s);

// The sublinear term frequency 1 + ln(n) (n >= 1), from a table for small n.
double sublinearTf(std::uint32_t n);

// (bucket, count) pairs sorted by bucket; each bucket appears once.
using TermCounts = std::vector<std::pair<std::uint32_t, std::uint32_t>>;
// (column, value) pairs sorted by column; column indexes TfidfModel::buckets().
using SparseRow = std::vector<std::pair<std::uint32_t, float>>;

class FeatureHasher final
{
public:
    static constexpr int kMinHashBits = 10;
    static constexpr int kMaxHashBits = 28;

    explicit FeatureHasher(int hashBits = 20);

    int hashBits() const { return m_bits; }
    std::uint32_t unigramBucket(std::uint64_t tokenHash) const;
    std::uint32_t bigramBucket(std::uint64_t firstHash, std::uint64_t secondHash) const;

    // Unigram and bigram counts of a token sequence.
    TermCounts count(const QStringList &tokens) const;
    // Tokenizes (Tokenizer) and counts.
    TermCounts countText(QStringView text) const;

private:
    int m_bits;
    std::uint32_t m_mask;
};

class TfidfModel final
{
public:
    TfidfModel() = default;

    // Learns the vocabulary (every bucket seen) and the smoothed idf
    // ln((1 + n) / (1 + df)) + 1 from the training documents. With hashBits (the buckets'
    // range, <= 24) document frequencies are counted in a dense table instead of by sorting.
    static TfidfModel fit(const std::vector<TermCounts> &documents, int hashBits = 0);

    // Rebuilds a model from saved parts; buckets must be strictly increasing and every df in
    // 1..documentCount. Returns std::nullopt and sets *error otherwise.
    static std::optional<TfidfModel> fromParts(std::vector<std::uint32_t> buckets,
                                               std::vector<std::uint32_t> documentFrequency,
                                               std::uint32_t documentCount, QString *error);

    // Sublinear tf x idf, l2-normalised; unknown buckets are dropped.
    SparseRow transform(const TermCounts &counts) const;
    // The same for many documents at once (training): looks columns up in a dense table when
    // hashBits <= 24 and spreads the work over the global thread pool.
    std::vector<SparseRow> transformAll(const std::vector<TermCounts> &documents, int hashBits) const;

    // Column of a bucket, or -1 when the bucket was never seen in training.
    std::int64_t column(std::uint32_t bucket) const;

    std::size_t size() const { return m_buckets.size(); }
    std::uint32_t documentCount() const { return m_documents; }
    const std::vector<std::uint32_t> &buckets() const { return m_buckets; }
    const std::vector<std::uint32_t> &documentFrequency() const { return m_df; }
    const std::vector<float> &idf() const { return m_idf; }

private:
    void computeIdf();
    SparseRow weigh(const TermCounts &counts, const std::int32_t *denseColumns) const;

    std::vector<std::uint32_t> m_buckets; // sorted, unique
    std::vector<std::uint32_t> m_df;      // per column
    std::vector<float> m_idf;             // per column
    std::uint32_t m_documents = 0;
};

} // namespace loopdeck::model
