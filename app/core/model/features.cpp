#include "core/model/features.h"

#include "core/model/tokenizer.h"

#include <QtConcurrent/QtConcurrentMap>

#include <algorithm>
#include <array>
#include <cmath>

namespace loopdeck::model {
namespace {

constexpr std::uint64_t kFnvOffset = 14695981039346656037ull;
constexpr std::uint64_t kFnvPrime = 1099511628211ull;

inline std::uint64_t fnvByte(std::uint64_t h, unsigned char b)
{
    return (h ^ b) * kFnvPrime;
}

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

constexpr int kDenseBits = 24; // dense tables up to 16 M entries (64 MB) during training

constexpr std::uint64_t kUnigramSalt = 0x756e696772616d31ull; // "unigram1"
constexpr std::uint64_t kBigramSalt = 0x62696772616d3221ull;  // "bigram2!"

} // namespace

std::uint64_t stableHash(QStringView s)
{
    std::uint64_t h = kFnvOffset;
    for (qsizetype i = 0; i < s.size(); ++i) {
        char32_t cp = s[i].unicode();
        if (QChar::isHighSurrogate(cp) && i + 1 < s.size() && s[i + 1].isLowSurrogate()) {
            cp = QChar::surrogateToUcs4(s[i].unicode(), s[i + 1].unicode());
            ++i;
        } else if (QChar::isSurrogate(cp)) {
            cp = 0xFFFD; // lone surrogate: hash the replacement character, as UTF-8 would
        }
        if (cp < 0x80) {
            h = fnvByte(h, static_cast<unsigned char>(cp));
        } else if (cp < 0x800) {
            h = fnvByte(h, static_cast<unsigned char>(0xC0 | (cp >> 6)));
            h = fnvByte(h, static_cast<unsigned char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            h = fnvByte(h, static_cast<unsigned char>(0xE0 | (cp >> 12)));
            h = fnvByte(h, static_cast<unsigned char>(0x80 | ((cp >> 6) & 0x3F)));
            h = fnvByte(h, static_cast<unsigned char>(0x80 | (cp & 0x3F)));
        } else {
            h = fnvByte(h, static_cast<unsigned char>(0xF0 | (cp >> 18)));
            h = fnvByte(h, static_cast<unsigned char>(0x80 | ((cp >> 12) & 0x3F)));
            h = fnvByte(h, static_cast<unsigned char>(0x80 | ((cp >> 6) & 0x3F)));
            h = fnvByte(h, static_cast<unsigned char>(0x80 | (cp & 0x3F)));
        }
    }
    return h;
}

FeatureHasher::FeatureHasher(int hashBits)
    : m_bits(std::clamp(hashBits, kMinHashBits, kMaxHashBits))
    , m_mask(static_cast<std::uint32_t>((1ull << m_bits) - 1))
{
}

std::uint32_t FeatureHasher::unigramBucket(std::uint64_t tokenHash) const
{
    return static_cast<std::uint32_t>(mix(tokenHash ^ kUnigramSalt)) & m_mask;
}

std::uint32_t FeatureHasher::bigramBucket(std::uint64_t firstHash, std::uint64_t secondHash) const
{
    return static_cast<std::uint32_t>(mix(mix(firstHash ^ kBigramSalt) + secondHash)) & m_mask;
}

TermCounts FeatureHasher::count(const QStringList &tokens) const
{
    std::vector<std::uint32_t> buckets;
    buckets.reserve(static_cast<std::size_t>(tokens.size()) * 2);
    std::uint64_t previous = 0;
    for (qsizetype i = 0; i < tokens.size(); ++i) {
        const std::uint64_t h = stableHash(tokens[i]);
        buckets.push_back(unigramBucket(h));
        if (i > 0)
            buckets.push_back(bigramBucket(previous, h));
        previous = h;
    }
    std::sort(buckets.begin(), buckets.end());
    TermCounts counts;
    for (std::uint32_t b : buckets) {
        if (!counts.empty() && counts.back().first == b)
            ++counts.back().second;
        else
            counts.emplace_back(b, 1u);
    }
    return counts;
}

TermCounts FeatureHasher::countText(QStringView text) const
{
    return count(Tokenizer::tokenize(text));
}

TfidfModel TfidfModel::fit(const std::vector<TermCounts> &documents, int hashBits)
{
    TfidfModel m;
    m.m_documents = static_cast<std::uint32_t>(documents.size());
    std::uint32_t maxBucket = 0;
    for (const TermCounts &d : documents)
        if (!d.empty())
            maxBucket = std::max(maxBucket, d.back().first);
    if (hashBits > 0 && hashBits <= kDenseBits && maxBucket < (1u << hashBits)) {
        std::vector<std::uint32_t> df(std::size_t(1) << hashBits, 0);
        for (const TermCounts &d : documents)
            for (const auto &[bucket, n] : d)
                ++df[bucket]; // each bucket appears once per document
        for (std::size_t b = 0; b < df.size(); ++b) {
            if (df[b]) {
                m.m_buckets.push_back(static_cast<std::uint32_t>(b));
                m.m_df.push_back(df[b]);
            }
        }
        m.computeIdf();
        return m;
    }
    std::vector<std::uint32_t> all;
    std::size_t total = 0;
    for (const TermCounts &d : documents)
        total += d.size();
    all.reserve(total);
    for (const TermCounts &d : documents)
        for (const auto &[bucket, n] : d)
            all.push_back(bucket);
    std::sort(all.begin(), all.end());
    for (std::uint32_t b : all) {
        if (!m.m_buckets.empty() && m.m_buckets.back() == b) {
            ++m.m_df.back();
        } else {
            m.m_buckets.push_back(b);
            m.m_df.push_back(1);
        }
    }
    m.computeIdf();
    return m;
}

std::optional<TfidfModel> TfidfModel::fromParts(std::vector<std::uint32_t> buckets,
                                                std::vector<std::uint32_t> documentFrequency,
                                                std::uint32_t documentCount, QString *error)
{
    auto fail = [error](const QString &why) -> std::optional<TfidfModel> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    if (buckets.size() != documentFrequency.size())
        return fail(QStringLiteral("the vocabulary and its document frequencies differ in length"));
    for (std::size_t i = 0; i < buckets.size(); ++i) {
        if (i > 0 && buckets[i] <= buckets[i - 1])
            return fail(QStringLiteral("the vocabulary is not sorted"));
        if (documentFrequency[i] == 0 || documentFrequency[i] > documentCount)
            return fail(QStringLiteral("a document frequency is out of range"));
    }
    TfidfModel m;
    m.m_buckets = std::move(buckets);
    m.m_df = std::move(documentFrequency);
    m.m_documents = documentCount;
    m.computeIdf();
    return m;
}

void TfidfModel::computeIdf()
{
    m_idf.resize(m_df.size());
    const double n = m_documents;
    for (std::size_t i = 0; i < m_df.size(); ++i)
        m_idf[i] = static_cast<float>(std::log((1.0 + n) / (1.0 + m_df[i])) + 1.0);
}

std::int64_t TfidfModel::column(std::uint32_t bucket) const
{
    const auto it = std::lower_bound(m_buckets.begin(), m_buckets.end(), bucket);
    if (it == m_buckets.end() || *it != bucket)
        return -1;
    return it - m_buckets.begin();
}

double sublinearTf(std::uint32_t n)
{
    static const std::array<double, 64> table = [] {
        std::array<double, 64> t{};
        for (std::size_t i = 1; i < t.size(); ++i)
            t[i] = 1.0 + std::log(static_cast<double>(i));
        return t;
    }();
    return n < table.size() ? table[n] : 1.0 + std::log(static_cast<double>(n));
}

SparseRow TfidfModel::weigh(const TermCounts &counts, const std::int32_t *denseColumns) const
{
    SparseRow row;
    row.reserve(counts.size());
    double norm = 0.0;
    // counts are sorted by bucket, so a search can resume where the last one stopped.
    auto from = m_buckets.begin();
    for (const auto &[bucket, n] : counts) {
        std::int64_t col;
        if (denseColumns) {
            col = denseColumns[bucket];
            if (col < 0)
                continue;
        } else {
            from = std::lower_bound(from, m_buckets.end(), bucket);
            if (from == m_buckets.end())
                break;
            if (*from != bucket)
                continue;
            col = from - m_buckets.begin();
        }
        const double v = sublinearTf(n) * m_idf[static_cast<std::size_t>(col)];
        norm += v * v;
        row.emplace_back(static_cast<std::uint32_t>(col), static_cast<float>(v));
    }
    if (norm > 0.0) {
        const double inv = 1.0 / std::sqrt(norm);
        for (auto &entry : row)
            entry.second = static_cast<float>(entry.second * inv);
    }
    return row;
}

SparseRow TfidfModel::transform(const TermCounts &counts) const
{
    return weigh(counts, nullptr);
}

std::vector<SparseRow> TfidfModel::transformAll(const std::vector<TermCounts> &documents, int hashBits) const
{
    std::vector<std::int32_t> dense;
    if (hashBits > 0 && hashBits <= kDenseBits && (m_buckets.empty() || m_buckets.back() < (1u << hashBits))) {
        dense.assign(std::size_t(1) << hashBits, -1);
        for (std::size_t i = 0; i < m_buckets.size(); ++i)
            dense[m_buckets[i]] = static_cast<std::int32_t>(i);
    }
    const std::int32_t *table = dense.empty() ? nullptr : dense.data();
    return QtConcurrent::blockingMapped<std::vector<SparseRow>>(
        documents, [this, table](const TermCounts &c) { return weigh(c, table); });
}

} // namespace loopdeck::model
