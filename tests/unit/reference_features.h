#pragma once
// The feature extraction as it was before the allocation-free fast path (LoopDeck 0.1,
// tokenizer.cpp/features.cpp at the time): one QString per token, QTextBoundaryFinder for
// every text, code points copied into vectors, std::sort. Kept only as the reference the fast
// path must match exactly (tst_fastpath.cpp); not used by the application.
#include "core/model/features.h"
#include "core/model/tokenizer.h"

#include <QRegularExpression>
#include <QTextBoundaryFinder>

#include <algorithm>
#include <vector>

namespace loopdeck::model::reference {

inline char32_t codePointAt(QStringView s, qsizetype i, qsizetype *width)
{
    const QChar c = s[i];
    if (c.isHighSurrogate() && i + 1 < s.size() && s[i + 1].isLowSurrogate()) {
        *width = 2;
        return QChar::surrogateToUcs4(c, s[i + 1]);
    }
    *width = 1;
    return c.unicode();
}

inline void addSegment(QStringView seg, QStringList &out)
{
    bool hasLetter = false;
    bool hasDigit = false;
    bool hasCjk = false;
    for (qsizetype i = 0; i < seg.size();) {
        qsizetype w = 1;
        const char32_t cp = codePointAt(seg, i, &w);
        if (Tokenizer::isCjk(cp))
            hasCjk = true;
        else if (QChar::isLetter(cp) || QChar::isMark(cp))
            hasLetter = true;
        else if (QChar::isNumber(cp))
            hasDigit = true;
        i += w;
    }
    if (!hasLetter && !hasDigit && !hasCjk)
        return;
    if (!hasCjk) {
        out.append(hasLetter ? seg.toString() : Tokenizer::numberToken());
        return;
    }
    qsizetype runStart = -1;
    for (qsizetype i = 0; i < seg.size();) {
        qsizetype w = 1;
        const char32_t cp = codePointAt(seg, i, &w);
        if (Tokenizer::isCjk(cp)) {
            if (runStart >= 0)
                addSegment(seg.mid(runStart, i - runStart), out);
            runStart = -1;
            out.append(seg.mid(i, w).toString());
        } else if (runStart < 0) {
            runStart = i;
        }
        i += w;
    }
    if (runStart >= 0)
        addSegment(seg.mid(runStart), out);
}

inline void tokenizeWords(QStringView text, QStringList &out)
{
    if (text.isEmpty())
        return;
    QTextBoundaryFinder finder(QTextBoundaryFinder::Word, text.data(), text.size());
    qsizetype start = 0;
    for (qsizetype next = finder.toNextBoundary(); next != -1; next = finder.toNextBoundary()) {
        if (next > start)
            addSegment(text.mid(start, next - start), out);
        start = next;
    }
}

inline QStringList tokenize(QStringView text)
{
    static const QRegularExpression re(QStringLiteral(
        R"((?<url>(?<![a-z0-9+.-])(?:[a-z][a-z0-9+.-]{1,15}://|www\.)[^\s<>"'()\[\]{}]+)|)"
        R"((?<email>(?<![a-z0-9._%+-])[a-z0-9._%+-]+@(?:[a-z0-9-]+\.)+[a-z]{2,}(?![a-z0-9-])))"));
    QStringList out;
    const QString folded = text.toString().toCaseFolded();
    const QStringView view(folded);
    if (!(view.contains(u'@') || view.contains(u"://") || view.contains(u"www."))) {
        tokenizeWords(view, out);
        return out;
    }
    qsizetype pos = 0;
    auto it = re.globalMatch(folded);
    while (it.hasNext()) {
        const QRegularExpressionMatch m = it.next();
        tokenizeWords(view.mid(pos, m.capturedStart() - pos), out);
        out.append(m.capturedLength(u"url") > 0 ? Tokenizer::urlToken() : Tokenizer::emailToken());
        pos = m.capturedEnd();
    }
    tokenizeWords(view.mid(pos), out);
    return out;
}

inline bool isSpace(char32_t cp)
{
    return cp == u' ' || cp == u'\t' || cp == u'\n' || cp == u'\r' || cp == 0x0B || cp == 0x0C
        || (cp >= 0x80 && QChar::isSpace(cp));
}

inline void charGramBuckets(const FeatureHasher &hasher, QStringView text, std::vector<std::uint32_t> &out)
{
    const QString folded = text.toString().toCaseFolded();
    std::vector<char32_t> cps;
    for (qsizetype i = 0; i < folded.size(); ++i) {
        char32_t cp = folded[i].unicode();
        if (QChar::isHighSurrogate(cp) && i + 1 < folded.size() && folded[i + 1].isLowSurrogate()) {
            cp = QChar::surrogateToUcs4(folded[i].unicode(), folded[i + 1].unicode());
            ++i;
        } else if (QChar::isSurrogate(cp)) {
            cp = 0xFFFD;
        }
        cps.push_back(cp);
    }
    std::vector<char32_t> run;
    auto emitRange = [&](int minN, int maxN) {
        const int len = static_cast<int>(run.size());
        for (int at = 0; at < len; ++at)
            for (int n = minN; n <= maxN && at + n <= len; ++n)
                out.push_back(hasher.charBucket(charGramHash(run.data() + at, n)));
    };
    enum class Kind { None, Latin, Cjk } kind = Kind::None;
    auto flush = [&] {
        if (kind == Kind::Latin) {
            run.push_back(u' ');
            if (run.size() > 2)
                emitRange(FeatureHasher::kCharMin, FeatureHasher::kCharMax);
        } else if (kind == Kind::Cjk) {
            emitRange(1, FeatureHasher::kCjkMax);
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

// (bucket, count) pairs sorted by bucket, as FeatureHasher::countText gave them.
inline TermCounts countText(const FeatureHasher &hasher, QStringView text)
{
    std::vector<std::uint32_t> buckets;
    const QStringList tokens = tokenize(text);
    std::uint64_t previous = 0;
    for (qsizetype i = 0; i < tokens.size(); ++i) {
        const std::uint64_t h = stableHash(tokens[i]);
        buckets.push_back(hasher.unigramBucket(h));
        if (i > 0)
            buckets.push_back(hasher.bigramBucket(previous, h));
        previous = h;
    }
    if (hasher.charGrams())
        charGramBuckets(hasher, text, buckets);
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

} // namespace loopdeck::model::reference
