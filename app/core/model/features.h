#pragma once
// Turns text into the sparse vectors the classifier learns from. Two blocks of hashed features,
// each 2^hashBits buckets wide, with stable hashes (FNV-1a, then a 64-bit mixer), so equal text
// gives equal features on every machine and run:
//   block 0 (buckets [0, 2^bits)): word unigrams and bigrams of Tokenizer tokens;
//   block 1 (buckets [2^bits, 2^(bits+1))), only with character n-grams on: for runs of Latin
//     (non-CJK) characters, char_wb n-grams (charMin..charMax) of each whitespace-separated word
//     padded with one space on each side, punctuation kept; for runs of Han/Kana/Hangul, plain
//     character 1..cjkMax-grams.
// TfidfModel learns the document frequency of every bucket seen in training (optionally only
// those in >= minDf documents) and maps raw counts to sublinear (1 + ln tf) x idf weights,
// l2-normalised per block. Buckets never seen in training are dropped.
// Called by TextClassifier (training, prediction, model files) and the metrics helpers' tests.
#include "core/model/linearsolver.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QStringView>

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace loopdeck::model {

// FNV-1a (64-bit) over the UTF-8 encoding of s, computed without allocating.
std::uint64_t stableHash(QStringView s);

// FNV-1a (64-bit) over the code points cps[0..n) as 32-bit units (little-endian bytes), then
// salted with n: the hash of a character n-gram. Stable across platforms.
std::uint64_t charGramHash(const char32_t *cps, int n);

namespace detail {
// splitmix64 finaliser: spreads FNV's weak low bits over the whole word.
inline std::uint64_t mix(std::uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}
inline constexpr std::uint64_t kUnigramSalt = 0x756e696772616d31ull; // "unigram1"
inline constexpr std::uint64_t kBigramSalt = 0x62696772616d3221ull;  // "bigram2!"
inline constexpr std::uint64_t kCharSalt = 0x63686172677261ull;      // "chargra"
} // namespace detail

// The sublinear term frequency 1 + ln(n) (n >= 1), from a table for small n.
double sublinearTf(std::uint32_t n);
// The table sublinearTf() reads for n < kSublinearTfTableSize (entry n = sublinearTf(n), n >= 1).
inline constexpr std::uint32_t kSublinearTfTableSize = 64;
const double *sublinearTfTable();

// (bucket, count) pairs sorted by bucket; each bucket appears once.
using TermCounts = std::vector<std::pair<std::uint32_t, std::uint32_t>>;
// (column, value) pairs sorted by column; column indexes TfidfModel::buckets().
using SparseRow = std::vector<std::pair<std::uint32_t, float>>;

class FeatureHasher final
{
public:
    static constexpr int kMinHashBits = 10;
    static constexpr int kMaxHashBits = 28;

    static constexpr int kCharMin = 2; // char_wb n-gram lengths for Latin-script words
    static constexpr int kCharMax = 4;
    static constexpr int kCjkMax = 3;  // plain character n-grams 1..3 for CJK runs

    // charGrams off: word uni+bigrams only (the format-1 model's features).
    explicit FeatureHasher(int hashBits = 20, bool charGrams = false);

    int hashBits() const { return m_bits; }
    bool charGrams() const { return m_chars; }
    // Number of bits a bucket needs: hashBits + 1 with character n-grams, else hashBits.
    int rangeBits() const { return m_chars ? m_bits + 1 : m_bits; }
    std::uint32_t unigramBucket(std::uint64_t tokenHash) const
    {
        return static_cast<std::uint32_t>(detail::mix(tokenHash ^ detail::kUnigramSalt)) & m_mask;
    }
    std::uint32_t bigramBucket(std::uint64_t firstHash, std::uint64_t secondHash) const
    {
        return static_cast<std::uint32_t>(detail::mix(detail::mix(firstHash ^ detail::kBigramSalt) + secondHash)) & m_mask;
    }
    // Bucket of a character n-gram (block 1).
    std::uint32_t charBucket(std::uint64_t gramHash) const
    {
        return (static_cast<std::uint32_t>(detail::mix(gramHash ^ detail::kCharSalt)) & m_mask) | (m_mask + 1);
    }

    // Unigram and bigram counts of a token sequence (block 0 only).
    TermCounts count(const QStringList &tokens) const;
    // Character n-gram buckets of text (block 1), unsorted, one entry per occurrence.
    void charGramBuckets(QStringView text, std::vector<std::uint32_t> &out) const;
    // Tokenizes (Tokenizer) and counts both blocks.
    TermCounts countText(QStringView text) const;
    // The same into out (cleared first), reusing out's and thread-local buffers: no allocation
    // per token or n-gram, and none at all once the buffers have grown (the prediction path).
    void countTextInto(QStringView text, TermCounts &out) const;
    // Every bucket occurrence of text (both blocks), sorted: what countText() counts. The
    // vector is this thread's scratch buffer, valid until the next call on this thread.
    const std::vector<std::uint32_t> &sortedBuckets(QStringView text) const;

private:
    int m_bits;
    std::uint32_t m_mask;
    bool m_chars = false;
};

class TfidfModel final
{
public:
    TfidfModel() = default;

    // Learns the vocabulary (every bucket seen) and the smoothed idf
    // ln((1 + n) / (1 + df)) + 1 from the training documents. With hashBits (the buckets'
    // range, <= 24) document frequencies are counted in a dense table instead of by sorting.
    // minDf > 1 keeps only buckets seen in at least minDf documents.
    static TfidfModel fit(const std::vector<TermCounts> &documents, int hashBits = 0, std::uint32_t minDf = 1);
    // Same, over two document lists (labelled and unlabelled texts).
    static TfidfModel fit(const std::vector<TermCounts> &documents, const std::vector<TermCounts> &more,
                          int hashBits, std::uint32_t minDf);

    // Buckets >> blockBits name the block a feature belongs to; each block is l2-normalised on
    // its own (default 32: one block).
    void setBlockBits(int bits) { m_blockBits = bits; }
    int blockBits() const { return m_blockBits; }

    // Rebuilds a model from saved parts; buckets must be strictly increasing and every df in
    // 1..documentCount. Returns std::nullopt and sets *error otherwise.
    static std::optional<TfidfModel> fromParts(std::vector<std::uint32_t> buckets,
                                               std::vector<std::uint32_t> documentFrequency,
                                               std::uint32_t documentCount, QString *error);

    // Sublinear tf x idf, l2-normalised; unknown buckets are dropped.
    SparseRow transform(const TermCounts &counts) const;
    // The same for many documents at once (training), straight into one matrix of `columns`
    // columns (at least size()): document(i) is row i's counts; extra(i, columns, values), when
    // given, appends row i's further entries (columns from size() on, ascending) after its TF-IDF
    // ones (it is called twice per row: to count, then to write; it must append the same both
    // times). Looks columns up in a dense table when hashBits <= 24 and weighs chunks of rows on
    // the global thread pool. Called from one thread; document and extra from the pool's.
    using DocumentAt = std::function<const TermCounts &(std::size_t row)>;
    using ExtraEntries = std::function<void(std::size_t row, std::vector<std::uint32_t> &columns, std::vector<float> &values)>;
    CsrMatrix transformAll(std::size_t rows, const DocumentAt &document, int hashBits, std::size_t columns,
                           const ExtraEntries &extra = {}) const;
    CsrMatrix transformAll(const std::vector<TermCounts> &documents, int hashBits) const;

    // Column of a bucket, or -1 when the bucket was never seen in training.
    std::int64_t column(std::uint32_t bucket) const;

    std::size_t size() const { return m_buckets.size(); }
    std::uint32_t documentCount() const { return m_documents; }
    const std::vector<std::uint32_t> &buckets() const { return m_buckets; }
    const std::vector<std::uint32_t> &documentFrequency() const { return m_df; }
    const std::vector<float> &idf() const { return m_idf; }

private:
    void computeIdf();
    // Writes the row's columns and values (at most counts.size() of each) and returns how many.
    std::size_t weighAt(const TermCounts &counts, const std::int32_t *denseColumns, std::uint32_t *columns,
                        float *values) const;
    // How many entries weighAt() writes for counts.
    std::size_t keptColumns(const TermCounts &counts, const std::int32_t *denseColumns) const;

    std::vector<std::uint32_t> m_buckets; // sorted, unique
    std::vector<std::uint32_t> m_df;      // per column
    std::vector<float> m_idf;             // per column
    std::uint32_t m_documents = 0;
    int m_blockBits = 32;
};

} // namespace loopdeck::model
