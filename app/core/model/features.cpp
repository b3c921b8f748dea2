#include "core/model/features.h"

#include "core/model/tokenizer.h"

#include <QThreadPool>
#include <QtConcurrent/QtConcurrentMap>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>

namespace loopdeck::model {
namespace {

constexpr std::uint64_t kFnvOffset = 14695981039346656037ull;
constexpr std::uint64_t kFnvPrime = 1099511628211ull;

inline std::uint64_t fnvByte(std::uint64_t h, unsigned char b)
{
    return (h ^ b) * kFnvPrime;
}

constexpr int kDenseBits = 24; // dense tables up to 16 M entries (64 MB) during training

inline bool isSpace(char32_t cp)
{
    return cp == u' ' || cp == u'\t' || cp == u'\n' || cp == u'\r' || cp == 0x0B || cp == 0x0C
        || (cp >= 0x80 && QChar::isSpace(cp));
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

namespace {

// Buffers reused by every feature extraction on a thread.
struct Scratch {
    QString folded;
    std::vector<char32_t> run;
    std::vector<std::uint32_t> buckets;
};

Scratch &scratch()
{
    thread_local Scratch s;
    return s;
}

// Character n-grams of case-folded text. Walks whitespace-separated chunks; inside a chunk,
// maximal runs of CJK characters give plain 1..kCjkMax-grams; the other runs are padded with a
// space on both sides and give char_wb kCharMin..kCharMax-grams (a padded run shorter than n
// gives itself once, as scikit-learn's char_wb does). Code points are read straight from the
// UTF-16 text (surrogate pairs joined, lone surrogates as U+FFFD); run is a reused buffer.
void charGramsOfFolded(const FeatureHasher &hasher, QStringView folded, std::vector<char32_t> &run,
                       std::vector<std::uint32_t> &out)
{
    run.clear();
    // charGramHash computed incrementally: the hash of the n-gram at `at` extends the (n-1)-gram's.
    auto emitRange = [&](int minN, int maxN) {
        const int len = static_cast<int>(run.size());
        const char32_t *r = run.data();
        for (int at = 0; at < len; ++at) {
            std::uint64_t h = kFnvOffset;
            const int top = std::min(maxN, len - at);
            for (int n = 1; n <= top; ++n) {
                h = (h ^ static_cast<std::uint32_t>(r[at + n - 1])) * kFnvPrime;
                if (n >= minN)
                    out.push_back(hasher.charBucket(h ^ static_cast<std::uint64_t>(n)));
            }
        }
    };
    enum class Kind { None, Latin, Cjk } kind = Kind::None;
    auto flush = [&] {
        if (kind == Kind::Latin) {
            run.push_back(u' ');
            if (run.size() > 2) { // else only the two pads
                if (static_cast<int>(run.size()) < FeatureHasher::kCharMin)
                    out.push_back(hasher.charBucket(charGramHash(run.data(), static_cast<int>(run.size()))));
                else
                    emitRange(FeatureHasher::kCharMin, FeatureHasher::kCharMax);
            }
        } else if (kind == Kind::Cjk) {
            emitRange(1, FeatureHasher::kCjkMax);
        }
        run.clear();
        kind = Kind::None;
    };
    const char16_t *s = folded.utf16();
    const qsizetype size = folded.size();
    for (qsizetype i = 0; i < size; ++i) {
        char32_t cp = s[i];
        if (cp < 0x80) {
            // ASCII: never CJK; the spaces isSpace() knows below 0x80.
            if (cp == u' ' || (cp >= u'\t' && cp <= u'\r')) {
                flush();
                continue;
            }
            if (kind != Kind::Latin) {
                flush();
                kind = Kind::Latin;
                run.push_back(u' ');
            }
            run.push_back(cp);
            continue;
        }
        if (QChar::isHighSurrogate(cp) && i + 1 < size && QChar::isLowSurrogate(s[i + 1])) {
            cp = QChar::surrogateToUcs4(s[i], s[i + 1]);
            ++i;
        } else if (QChar::isSurrogate(cp)) {
            cp = 0xFFFD;
        }
        if (!Tokenizer::isCjk(cp) && isSpace(cp)) { // no CJK character is a space: cheaper first
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

} // namespace

void FeatureHasher::charGramBuckets(QStringView text, std::vector<std::uint32_t> &out) const
{
    QString folded; // not the thread's scratch buffer: a caller may be in the middle of countTextInto
    Tokenizer::foldCase(text, folded);
    std::vector<char32_t> run;
    charGramsOfFolded(*this, folded, run, out);
}

namespace {

// LSD radix sort over as many bits as the largest value has, in at most 4 passes of at most
// 8 bits (3 passes of 7 bits for the usual 21-bit buckets), all counted in one read: linear
// time for the bucket lists of long documents; short lists use std::sort.
void sortBuckets(std::vector<std::uint32_t> &v)
{
    const std::size_t n = v.size();
    if (n < 128) {
        std::sort(v.begin(), v.end());
        return;
    }
    std::uint32_t all = 0;
    for (std::uint32_t x : v)
        all |= x;
    const int width = std::max(1, static_cast<int>(std::bit_width(all)));
    const int passes = (width + 7) / 8;
    const int digit = (width + passes - 1) / passes;
    const std::uint32_t mask = (1u << digit) - 1u;
    std::uint32_t count[4][257] = {};
    for (std::uint32_t x : v)
        for (int p = 0; p < passes; ++p)
            ++count[p][((x >> (p * digit)) & mask) + 1];
    thread_local std::vector<std::uint32_t> tmp;
    if (tmp.size() < n)
        tmp.resize(n);
    std::uint32_t *src = v.data();
    std::uint32_t *dst = tmp.data();
    for (int p = 0; p < passes; ++p) {
        std::uint32_t *c = count[p];
        for (std::uint32_t b = 1; b <= mask + 1; ++b)
            c[b] += c[b - 1];
        const int shift = p * digit;
        for (std::size_t i = 0; i < n; ++i)
            dst[c[(src[i] >> shift) & mask]++] = src[i];
        std::swap(src, dst);
    }
    if (src != v.data())
        std::copy(src, src + n, v.data());
    if (tmp.size() > (std::size_t(1) << 20))
        tmp = {}; // a very long document's buffer is not kept
}

// Run-length counts of sorted buckets into out.
void countRuns(const std::vector<std::uint32_t> &sorted, TermCounts &out)
{
    out.resize(sorted.size());
    std::size_t used = 0;
    const std::size_t n = sorted.size();
    for (std::size_t i = 0; i < n;) {
        const std::uint32_t b = sorted[i];
        std::size_t j = i + 1;
        while (j < n && sorted[j] == b)
            ++j;
        out[used++] = {b, static_cast<std::uint32_t>(j - i)};
        i = j;
    }
    out.resize(used);
}

TermCounts countSorted(std::vector<std::uint32_t> &buckets)
{
    sortBuckets(buckets);
    TermCounts counts;
    countRuns(buckets, counts);
    return counts;
}

// Word uni+bigram buckets of the tokens the tokenizer hands over, hashed from its views.
class WordBucketSink final : public Tokenizer::Sink
{
public:
    WordBucketSink(const FeatureHasher &hasher, std::vector<std::uint32_t> &out) : m_hasher(hasher), m_out(out) {}
    void token(QStringView token) override
    {
        const std::uint64_t h = stableHash(token);
        m_out.push_back(m_hasher.unigramBucket(h));
        if (m_any)
            m_out.push_back(m_hasher.bigramBucket(m_previous, h));
        m_previous = h;
        m_any = true;
    }

private:
    const FeatureHasher &m_hasher;
    std::vector<std::uint32_t> &m_out;
    std::uint64_t m_previous = 0;
    bool m_any = false;
};

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
    TermCounts counts;
    countTextInto(text, counts);
    return counts;
}

const std::vector<std::uint32_t> &FeatureHasher::sortedBuckets(QStringView text) const
{
    Scratch &sc = scratch();
    // Give back what a very long previous text made huge.
    constexpr std::size_t kKeep = std::size_t(1) << 16; // kept up to a text of ~15,000 characters
    if (sc.buckets.capacity() > kKeep)
        sc.buckets = {};
    if (sc.run.capacity() > kKeep)
        sc.run = {};
    if (sc.folded.capacity() > static_cast<qsizetype>(kKeep))
        sc.folded = QString();
    Tokenizer::foldCase(text, sc.folded);
    sc.buckets.clear();
    WordBucketSink words(*this, sc.buckets);
    Tokenizer::scanFolded(sc.folded, words);
    if (m_chars)
        charGramsOfFolded(*this, sc.folded, sc.run, sc.buckets);
    sortBuckets(sc.buckets);
    return sc.buckets;
}

void FeatureHasher::countTextInto(QStringView text, TermCounts &out) const
{
    countRuns(sortedBuckets(text), out);
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

const double *sublinearTfTable()
{
    static const std::array<double, kSublinearTfTableSize> table = [] {
        std::array<double, kSublinearTfTableSize> t{};
        for (std::size_t i = 1; i < t.size(); ++i)
            t[i] = 1.0 + std::log(static_cast<double>(i));
        return t;
    }();
    return table.data();
}

double sublinearTf(std::uint32_t n)
{
    return n < kSublinearTfTableSize ? sublinearTfTable()[n] : 1.0 + std::log(static_cast<double>(n));
}

std::size_t TfidfModel::weighAt(const TermCounts &counts, const std::int32_t *denseColumns, std::uint32_t *columns,
                                float *values) const
{
    std::size_t written = 0;
    double norm = 0.0;
    std::size_t blockStart = 0;
    std::uint64_t block = 0;
    auto closeBlock = [&] {
        if (norm > 0.0) {
            const double inv = 1.0 / std::sqrt(norm);
            for (std::size_t i = blockStart; i < written; ++i)
                values[i] = static_cast<float>(values[i] * inv);
        }
        norm = 0.0;
        blockStart = written;
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
        columns[written] = static_cast<std::uint32_t>(col);
        values[written] = static_cast<float>(v);
        ++written;
    }
    closeBlock();
    return written;
}

std::size_t TfidfModel::keptColumns(const TermCounts &counts, const std::int32_t *denseColumns) const
{
    std::size_t kept = 0;
    auto from = m_buckets.begin();
    for (const auto &[bucket, n] : counts) {
        if (denseColumns) {
            kept += denseColumns[bucket] >= 0;
        } else {
            from = std::lower_bound(from, m_buckets.end(), bucket);
            if (from == m_buckets.end())
                break;
            kept += *from == bucket;
        }
    }
    return kept;
}

SparseRow TfidfModel::transform(const TermCounts &counts) const
{
    std::vector<std::uint32_t> columns(counts.size());
    std::vector<float> values(counts.size());
    SparseRow row(weighAt(counts, nullptr, columns.data(), values.data()));
    for (std::size_t i = 0; i < row.size(); ++i)
        row[i] = {columns[i], values[i]};
    return row;
}

CsrMatrix TfidfModel::transformAll(std::size_t rows, const DocumentAt &document, int hashBits, std::size_t columns,
                                   const ExtraEntries &extra) const
{
    std::vector<std::int32_t> dense;
    if (hashBits > 0 && hashBits <= kDenseBits && (m_buckets.empty() || m_buckets.back() < (1u << hashBits))) {
        dense.assign(std::size_t(1) << hashBits, -1);
        for (std::size_t i = 0; i < m_buckets.size(); ++i)
            dense[m_buckets[i]] = static_cast<std::int32_t>(i);
    }
    const std::int32_t *table = dense.empty() ? nullptr : dense.data();
    // Two passes over chunks of consecutive rows on the pool: the first counts each row's entries,
    // the second writes them in place. Only the matrix's own memory is touched (its first touch,
    // the kernel zeroing its pages, is a large part of the cost), nothing is copied.
    struct Chunk {
        std::size_t from = 0, to = 0;
    };
    const std::size_t threads = static_cast<std::size_t>(std::max(1, QThreadPool::globalInstance()->maxThreadCount()));
    std::vector<Chunk> chunks(std::min(rows, threads * 8));
    for (std::size_t c = 0; c < chunks.size(); ++c)
        chunks[c] = {rows * c / chunks.size(), rows * (c + 1) / chunks.size()};
    // Row i's extra entries, into the chunk's own buffers.
    const auto extrasOf = [&extra](std::size_t i, std::vector<std::uint32_t> &extraColumns, std::vector<float> &extraValues) {
        extraColumns.clear();
        extraValues.clear();
        if (extra)
            extra(i, extraColumns, extraValues);
    };
    CsrMatrix x;
    x.columns = columns;
    x.start.assign(rows + 1, 0);
    QtConcurrent::blockingMap(chunks, [&](const Chunk &ch) {
        std::vector<std::uint32_t> extraColumns;
        std::vector<float> extraValues;
        for (std::size_t i = ch.from; i < ch.to; ++i) {
            extrasOf(i, extraColumns, extraValues);
            x.start[i + 1] = keptColumns(document(i), table) + extraColumns.size();
        }
    });
    for (std::size_t i = 0; i < rows; ++i)
        x.start[i + 1] += x.start[i];
    x.column.resize(x.start[rows]);
    x.value.resize(x.start[rows]);
    QtConcurrent::blockingMap(chunks, [&](const Chunk &ch) {
        std::vector<std::uint32_t> extraColumns;
        std::vector<float> extraValues;
        for (std::size_t i = ch.from; i < ch.to; ++i) {
            std::size_t at = x.start[i];
            at += weighAt(document(i), table, x.column.data() + at, x.value.data() + at);
            extrasOf(i, extraColumns, extraValues);
            std::copy(extraColumns.begin(), extraColumns.end(), x.column.begin() + static_cast<std::ptrdiff_t>(at));
            std::copy(extraValues.begin(), extraValues.end(), x.value.begin() + static_cast<std::ptrdiff_t>(at));
            at += extraColumns.size();
            Q_ASSERT(at == x.start[i + 1]); // the counting pass's length (document and extra are deterministic)
        }
    });
    return x;
}

CsrMatrix TfidfModel::transformAll(const std::vector<TermCounts> &documents, int hashBits) const
{
    return transformAll(documents.size(), [&](std::size_t i) -> const TermCounts & { return documents[i]; }, hashBits, size());
}

} // namespace loopdeck::model
