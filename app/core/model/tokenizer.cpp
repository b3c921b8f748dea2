#include "core/model/tokenizer.h"

#include <QRegularExpression>
#include <QTextBoundaryFinder>

namespace loopdeck::model {
namespace {

// URLs with a scheme or starting with "www.", and e-mail addresses. Applied to case-folded text.
const QRegularExpression &specialPattern()
{
    // thread_local: each thread keeps its own compiled (JIT) copy, so matching never contends.
    thread_local const QRegularExpression re(QStringLiteral(
        R"((?<url>(?<![a-z0-9+.-])(?:[a-z][a-z0-9+.-]{1,15}://|www\.)[^\s<>"'()\[\]{}]+)|)"
        R"((?<email>(?<![a-z0-9._%+-])[a-z0-9._%+-]+@(?:[a-z0-9-]+\.)+[a-z]{2,}(?![a-z0-9-])))"));
    return re;
}

bool mayContainSpecial(QStringView text)
{
    return text.contains(u'@') || text.contains(u"://") || text.contains(u"www.");
}

char32_t codePointAt(QStringView s, qsizetype i, qsizetype *width)
{
    const QChar c = s[i];
    if (c.isHighSurrogate() && i + 1 < s.size() && s[i + 1].isLowSurrogate()) {
        *width = 2;
        return QChar::surrogateToUcs4(c, s[i + 1]);
    }
    *width = 1;
    return c.unicode();
}

// One word segment found by the boundary finder: a number, a plain word, or a word that
// contains CJK characters (split into single characters and the runs between them).
void addSegment(QStringView seg, QStringList &out)
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
        return; // punctuation, spaces, symbols
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

void tokenizeWords(QStringView text, QStringList &out)
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

} // namespace

bool Tokenizer::isCjk(char32_t ucs4)
{
    if (ucs4 < 0x1100)
        return false; // fast path: Latin, Greek, Cyrillic, ...
    switch (QChar::script(ucs4)) {
    case QChar::Script_Han:
    case QChar::Script_Hiragana:
    case QChar::Script_Katakana:
    case QChar::Script_Hangul:
        return true;
    default:
        return false;
    }
}

QStringList Tokenizer::tokenize(QStringView text)
{
    QStringList out;
    const QString folded = text.toString().toCaseFolded();
    const QStringView view(folded);
    if (!mayContainSpecial(view)) {
        tokenizeWords(view, out);
        return out;
    }
    qsizetype pos = 0;
    auto it = specialPattern().globalMatch(folded);
    while (it.hasNext()) {
        const QRegularExpressionMatch m = it.next();
        tokenizeWords(view.mid(pos, m.capturedStart() - pos), out);
        out.append(m.capturedLength(u"url") > 0 ? urlToken() : emailToken());
        pos = m.capturedEnd();
    }
    tokenizeWords(view.mid(pos), out);
    return out;
}

} // namespace loopdeck::model
