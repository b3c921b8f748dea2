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
constexpr std::uint64_t kCharSalt = 0x63686172677261ull;      // "chargra"

inline bool isSpace(char32_t cp)
{
    return cp == u' ' || cp == u'\t' || cp == u'\n' || cp == u'\r' || cp == 0x0B || cp == 0x0C
        || (cp >= 0x80 && QChar::isSpace(cp));
}

// Appends the code points of s (surrogate pairs joined, lone surrogates as U+FFFD).
void toCodePoints(QStringView s, std::vector<char32_t> &out)
{
    out.clear();
    out.reserve(static_cast<std::size_t>(s.size()));
    for (qsizetype i = 0; i < s.size(); ++i) {
        char32_t cp = s[i].unicode();
        if (QChar::isHighSurrogate(cp) && i + 1 < s.size() && s[i + 1].isLowSurrogate()) {
            cp = QChar::surrogateToUcs4(s[i].unicode(), s[i + 1].unicode());
            ++i;
        } else if (QChar::isSurrogate(cp)) {
            cp = 0xFFFD;
        }
        out.push_back(cp);
    }
}

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

std::uint64_t charGramHash(const char32_t *cps, int n)
{
    std::uint64_t h = kFnvOffset;
    for (int i = 0; i < n; ++i)
        h = (h ^ static_cast<std::uint32_t>(cps[i])) * kFnvPrime;
    return h ^ static_cast<std::uint64_t>(n);
}

FeatureHasher::FeatureHasher(int hashBits, bool charGrams)
    : m_bits(std::clamp(hashBits, kMinHashBits, kMaxHashBits))
    , m_mask(static_cast<std::uint32_t>((1ull << m_bits) - 1))
    , m_chars(charGrams)
{
}

std::uint32_t FeatureHasher::charBucket(std::uint64_t gramHash) const
{
    return (static_cast<std::uint32_t>(mix(gramHash ^ kCharSalt)) & m_mask) | (m_mask + 1);
}

void FeatureHasher::charGramBuckets(QStringView text, std::vector<std::uint32_t> &out) const
{
    // Case-fold like the tokenizer, then walk whitespace-separated chunks. Inside a chunk,
    // maximal runs of CJK characters give plain 1..kCjkMax-grams; the other runs are padded
    // with a space on both sides and give char_wb kCharMin..kCharMax-grams (a padded run
    // shorter than n gives itself once, as scikit-learn's char_wb does).
    const QString folded = text.toString().toCaseFolded();
    std::vector<char32_t> cps;
    toCodePoints(folded, cps);
    std::vector<char32_t> run;
    run.reserve(64);
    // charGramHash computed incrementally: the hash of the n-gram at `at` extends the (n-1)-gram's.
    auto emitRange = [&](int minN, int maxN) {
        const int len = static_cast<int>(run.size());
        for (int at = 0; at < len; ++at) {
            std::uint64_t h = kFnvOffset;
            for (int n = 1; n <= maxN && at + n <= len; ++n) {
                h = (h ^ static_cast<std::uint32_t>(run[static_cast<std::size_t>(at + n - 1)])) * kFnvPrime;
                if (n >= minN)
                    out.push_back(charBucket(h ^ static_cast<std::uint64_t>(n)));
            }
        }
    };
    auto emitLatin = [&] {
        if (run.size() <= 2)
            return; // only the two pads
        const int len = static_cast<int>(run.size());
        if (len < kCharMin) {
            out.push_back(charBucket(charGramHash(run.data(), len)));
            return;
        }
        emitRange(kCharMin, kCharMax);
    };
    auto emitCjk = [&] { emitRange(1, kCjkMax); };
    enum class Kind { None, Latin, Cjk } kind = Kind::None;
    auto flush = [&] {
        if (kind == Kind::Latin) {
            run.push_back(u' ');
            emitLatin();
        } else if (kind == Kind::Cjk) {
            emitCjk();
        }
        run.clear();
        kind = Kind::None;
    };
    for (char32_t cp : cps) {
        if (isSpace(cp)) {
            flush();
            continue;
        }
        const Kind k = Tokenizer::isCjk(cp) ? Kind::Cjk : Kind::Latin;
        if (k != kind) {
            flush();
            kind = k;
            if (k == Kind::Latin)
                run.push_back(u' ');
        }
        run.push_back(cp);
    }
    flush();
}

std::uint32_t FeatureHasher::unigramBucket(std::uint64_t tokenHash) const
{
    return static_cast<std::uint32_t>(mix(tokenHash ^ kUnigramSalt)) & m_mask;
}

std::uint32_t FeatureHasher::bigramBucket(std::uint64_t firstHash, std::uint64_t secondHash) const
{
    return static_cast<std::uint32_t>(mix(mix(firstHash ^ kBigramSalt) + secondHash)) & m_mask;
}

namespace {

// LSD radix sort, 3 passes of 11 bits (buckets < 2^29 need no more than 33 bits): linear time
// for the long bucket lists of long documents; short lists use std::sort.
void sortBuckets(std::vector<std::uint32_t> &v)
{
    if (v.size() < 512) {
        std::sort(v.begin(), v.end());
        return;
    }
    thread_local std::vector<std::uint32_t> tmp;
    tmp.resize(v.size());
    std::uint32_t *src = v.data();
    std::uint32_t *dst = tmp.data();
    const std::size_t n = v.size();
    for (int shift = 0; shift < 33; shift += 11) {
        std::size_t count[2049] = {};
        for (std::size_t i = 0; i < n; ++i)
            ++count[((src[i] >> shift) & 2047u) + 1];
        for (std::size_t b = 1; b < 2049; ++b)
            count[b] += count[b - 1];
        for (std::size_t i = 0; i < n; ++i)
            dst[count[(src[i] >> shift) & 2047u]++] = src[i];
        std::swap(src, dst);
    }
    if (src != v.data())
        std::copy(src, src + n, v.data());
}

TermCounts countSorted(std::vector<std::uint32_t> &buckets)
{
    sortBuckets(buckets);
    TermCounts counts;
    for (std::uint32_t b : buckets) {
        if (!counts.empty() && counts.back().first == b)
            ++counts.back().second;
        else
            counts.emplace_back(b, 1u);
    }
    return counts;
}

void wordBuckets(const FeatureHasher &hasher, const QStringList &tokens, std::vector<std::uint32_t> &buckets)
{
    buckets.reserve(buckets.size() + static_cast<std::size_t>(tokens.size()) * 2);
    std::uint64_t previous = 0;
    for (qsizetype i = 0; i < tokens.size(); ++i) {
        const std::uint64_t h = stableHash(tokens[i]);
        buckets.push_back(hasher.unigramBucket(h));
        if (i > 0)
            buckets.push_back(hasher.bigramBucket(previous, h));
        previous = h;
    }
}

} // namespace

TermCounts FeatureHasher::count(const QStringList &tokens) const
{
    std::vector<std::uint32_t> buckets;
    wordBuckets(*this, tokens, buckets);
    return countSorted(buckets);
}

TermCounts FeatureHasher::countText(QStringView text) const
{
    std::vector<std::uint32_t> buckets;
    wordBuckets(*this, Tokenizer::tokenize(text), buckets);
    if (m_chars)
        charGramBuckets(text, buckets);
    return countSorted(buckets);
}

TfidfModel TfidfModel::fit(const std::vector<TermCounts> &documents, int hashBits, std::uint32_t minDf)
{
    return fit(documents, {}, hashBits, minDf);
}

TfidfModel TfidfModel::fit(const std::vector<TermCounts> &documents, const std::vector<TermCounts> &more,
                           int hashBits, std::uint32_t minDf)
{
    TfidfModel m;
    m.m_documents = static_cast<std::uint32_t>(documents.size() + more.size());
    minDf = std::max(minDf, 1u);
    std::uint32_t maxBucket = 0;
    for (const auto *list : {&documents, &more})
        for (const TermCounts &d : *list)
            if (!d.empty())
                maxBucket = std::max(maxBucket, d.back().first);
    if (hashBits > 0 && hashBits <= kDenseBits && maxBucket < (1u << hashBits)) {
        std::vector<std::uint32_t> df(std::size_t(1) << hashBits, 0);
        for (const auto *list : {&documents, &more})
            for (const TermCounts &d : *list)
                for (const auto &[bucket, n] : d)
                    ++df[bucket]; // each bucket appears once per document
        for (std::size_t b = 0; b < df.size(); ++b) {
            if (df[b] >= minDf) {
                m.m_buckets.push_back(static_cast<std::uint32_t>(b));
                m.m_df.push_back(df[b]);
            }
        }
        m.computeIdf();
        return m;
    }
    std::vector<std::uint32_t> all;
    std::size_t total = 0;
    for (const auto *list : {&documents, &more})
        for (const TermCounts &d : *list)
            total += d.size();
    all.reserve(total);
    for (const auto *list : {&documents, &more})
        for (const TermCounts &d : *list)
            for (const auto &[bucket, n] : d)
                all.push_back(bucket);
    std::sort(all.begin(), all.end());
    for (std::uint32_t b : all) {
        if (!m.m_buckets.empty() && m.m_buckets.back() == b) {
            ++m.m_df.back();
        } else {
            if (!m.m_buckets.empty() && m.m_df.back() < minDf) {
                m.m_buckets.pop_back();
                m.m_df.pop_back();
            }
            m.m_buckets.push_back(b);
            m.m_df.push_back(1);
        }
    }
    if (!m.m_buckets.empty() && m.m_df.back() < minDf) {
        m.m_buckets.pop_back();
        m.m_df.pop_back();
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
    std::size_t blockStart = 0;
    std::uint64_t block = 0;
    auto closeBlock = [&] {
        if (norm > 0.0) {
            const double inv = 1.0 / std::sqrt(norm);
            for (std::size_t i = blockStart; i < row.size(); ++i)
                row[i].second = static_cast<float>(row[i].second * inv);
        }
        norm = 0.0;
        blockStart = row.size();
    };
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
        const std::uint64_t b = std::uint64_t(bucket) >> m_blockBits;
        if (b != block) {
            closeBlock();
            block = b;
        }
        const double v = sublinearTf(n) * m_idf[static_cast<std::size_t>(col)];
        norm += v * v;
        row.emplace_back(static_cast<std::uint32_t>(col), static_cast<float>(v));
    }
    closeBlock();
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
