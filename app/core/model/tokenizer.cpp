#include "core/model/tokenizer.h"

#include <QRegularExpression>
#include <QTextBoundaryFinder>

#include <algorithm>
#include <array>
#include <vector>

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
void addSegment(QStringView seg, Tokenizer::Sink &out)
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
        out.token(hasLetter ? seg : QStringView(u"<num>"));
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
            out.token(seg.mid(i, w));
        } else if (runStart < 0) {
            runStart = i;
        }
        i += w;
    }
    if (runStart >= 0)
        addSegment(seg.mid(runStart), out);
}

// Word break classes (UAX #29) of the ASCII characters.
enum class Wb : unsigned char {
    Other, CR, LF, Newline, WSegSpace, ALetter, Numeric, MidNum, SingleQuote,
    DoubleQuote, ExtendNumLet
};

constexpr std::array<Wb, 128> kAsciiWb = [] {
    std::array<Wb, 128> t{};
    for (Wb &w : t)
        w = Wb::Other;
    t[u'\r'] = Wb::CR;
    t[u'\n'] = Wb::LF;
    t[0x0B] = Wb::Newline;
    t[0x0C] = Wb::Newline;
    t[u' '] = Wb::WSegSpace;
    for (char16_t c = u'a'; c <= u'z'; ++c)
        t[c] = t[c - 32] = Wb::ALetter;
    for (char16_t c = u'0'; c <= u'9'; ++c)
        t[c] = Wb::Numeric;
    // Qt tailors two of UAX #29's classes: U+003A COLON (MidLetter) is Other and U+002E FULL STOP
    // (MidNumLet) is MidNum, so "a:b" and "e.g" are split and "3.14" is not (checked against
    // QTextBoundaryFinder by tst_fastpath).
    t[u','] = Wb::MidNum;
    t[u';'] = Wb::MidNum;
    t[u'.'] = Wb::MidNum;
    t[u'\''] = Wb::SingleQuote;
    t[u'"'] = Wb::DoubleQuote;
    t[u'_'] = Wb::ExtendNumLet;
    return t;
}();

// UAX #29 word boundary between s[i - 1] and s[i] (0 < i < n) of ASCII text, as Qt 6's
// QTextBoundaryFinder finds it: the rules that can apply to ASCII (WB3-WB3d, WB5-WB13b without
// Hebrew letters and Katakana; WB4 never applies). tst_fastpath compares it with the finder.
bool asciiWordBreak(const char16_t *s, qsizetype n, qsizetype i)
{
    const Wb a = kAsciiWb[s[i - 1]];
    const Wb b = kAsciiWb[s[i]];
    if (a == Wb::CR && b == Wb::LF)
        return false; // WB3
    if (a == Wb::CR || a == Wb::LF || a == Wb::Newline || b == Wb::CR || b == Wb::LF || b == Wb::Newline)
        return true; // WB3a, WB3b
    if (a == Wb::WSegSpace && b == Wb::WSegSpace)
        return false; // WB3d
    const auto midLetterQ = [](Wb w) { return w == Wb::SingleQuote; };
    const auto midNumQ = [](Wb w) { return w == Wb::MidNum || w == Wb::SingleQuote; };
    const auto word = [](Wb w) { return w == Wb::ALetter || w == Wb::Numeric; };
    if (word(a) && word(b))
        return false; // WB5, WB8, WB9, WB10
    if (a == Wb::ALetter && midLetterQ(b) && i + 1 < n && kAsciiWb[s[i + 1]] == Wb::ALetter)
        return false; // WB6
    if (b == Wb::ALetter && midLetterQ(a) && i >= 2 && kAsciiWb[s[i - 2]] == Wb::ALetter)
        return false; // WB7
    if (b == Wb::Numeric && midNumQ(a) && i >= 2 && kAsciiWb[s[i - 2]] == Wb::Numeric)
        return false; // WB11
    if (a == Wb::Numeric && midNumQ(b) && i + 1 < n && kAsciiWb[s[i + 1]] == Wb::Numeric)
        return false; // WB12
    if (b == Wb::ExtendNumLet && (word(a) || a == Wb::ExtendNumLet))
        return false; // WB13a
    if (a == Wb::ExtendNumLet && word(b))
        return false; // WB13b
    return true; // WB999
}

// The tokens of an ASCII segment, as addSegment() finds them: letters make a word, digits
// alone <num>; anything else (punctuation, spaces) is no token.
void addAsciiSegment(QStringView seg, Tokenizer::Sink &out)
{
    bool hasLetter = false;
    bool hasDigit = false;
    const char16_t *s = seg.utf16();
    for (qsizetype i = 0; i < seg.size(); ++i) {
        const Wb w = kAsciiWb[s[i]];
        hasLetter = hasLetter || w == Wb::ALetter;
        hasDigit = hasDigit || w == Wb::Numeric;
    }
    if (hasLetter)
        out.token(seg);
    else if (hasDigit)
        out.token(u"<num>");
}

bool isAscii(QStringView text)
{
    const char16_t *s = text.utf16();
    char16_t orAll = 0;
    for (qsizetype i = 0; i < text.size(); ++i)
        orAll |= s[i];
    return orAll < 0x80;
}

// ASCII text: the word boundaries computed here, the same QTextBoundaryFinder finds.
void tokenizeAscii(QStringView text, Tokenizer::Sink &out)
{
    const char16_t *s = text.utf16();
    const qsizetype n = text.size();
    qsizetype start = 0;
    for (qsizetype i = 1; i <= n; ++i) {
        if (i == n || asciiWordBreak(s, n, i)) {
            addAsciiSegment(text.mid(start, i - start), out);
            start = i;
        }
    }
}

// A stretch of text between single-character Han tokens (or all of a text without them): the
// word boundaries computed here for ASCII, else QTextBoundaryFinder's.
void tokenizeStretch(QStringView text, Tokenizer::Sink &out)
{
    if (text.isEmpty())
        return;
    if (isAscii(text)) {
        tokenizeAscii(text, out);
        return;
    }
    const qsizetype n = text.size();
    if (n == 1) {
        addSegment(text, out); // one code unit: one segment
        return;
    }
    // The finder keeps its boundary attributes in this buffer instead of allocating its own.
    thread_local std::vector<unsigned char> attributes;
    const auto need = static_cast<std::size_t>(text.size()) + 1;
    constexpr std::size_t kKeep = std::size_t(1) << 16; // a long text's buffer (~15,000+ characters) is not kept
    if (attributes.size() < need || (attributes.size() > kKeep && attributes.size() > need)) {
        attributes.resize(need);
        attributes.shrink_to_fit();
    }
    QTextBoundaryFinder finder(QTextBoundaryFinder::Word, text.data(), text.size(), attributes.data(),
                               static_cast<qsizetype>(attributes.size()));
    qsizetype start = 0;
    for (qsizetype next = finder.toNextBoundary(); next != -1; next = finder.toNextBoundary()) {
        if (next > start)
            addSegment(text.mid(start, next - start), out);
        start = next;
    }
}

// A CJK Unified Ideograph of the basic block: word-break class Other in UAX #29, so there is a
// boundary before it, and after it unless an Extend, Format or ZWJ character follows (WB4).
bool isBasicHan(char16_t c)
{
    return c >= 0x4E00 && c <= 0x9FEF;
}

// Code units that are certainly not Extend, Format or ZWJ (so a boundary falls between a Han
// character and them): ASCII, basic Han, CJK symbols and punctuation but the ideographic tone
// marks U+302A..U+302F, and the full-width ASCII forms.
bool breaksAfterHan(char16_t c)
{
    return c < 0x80 || isBasicHan(c) || (c >= 0x3000 && c <= 0x3029) || (c >= 0x3030 && c <= 0x303F)
        || (c >= 0xFF01 && c <= 0xFF5E);
}

// Words of folded text: every basic Han character followed by a code unit of breaksAfterHan()
// (or ending the text) is a token of its own (what the finder's segments give, without running
// it over Chinese text), and the stretches between them are segmented as a whole. Cutting there
// changes no boundary: each cut has a boundary on both sides, and the rules that look two
// characters back or ahead (WB6, WB7, WB11, WB12) need a letter or digit where the Han
// character stands. Not with Thai anywhere in the text: Qt tailors Thai word boundaries by
// dictionary (libthai), and the tailored finder's boundaries then depend on where its text
// starts; Lao, Myanmar and Khmer are left to the finder too, in case a Qt tailors them.
// tst_fastpath compares the result with QTextBoundaryFinder over whole texts.
void tokenizeWords(QStringView text, Tokenizer::Sink &out)
{
    if (isAscii(text)) {
        tokenizeAscii(text, out); // no Han, no tailoring
        return;
    }
    const char16_t *s = text.utf16();
    const qsizetype n = text.size();
    for (qsizetype i = 0; i < n; ++i) {
        if ((s[i] >= 0x0E00 && s[i] <= 0x0EFF) || (s[i] >= 0x1000 && s[i] <= 0x109F) || (s[i] >= 0x1780 && s[i] <= 0x17FF)) {
            tokenizeStretch(text, out);
            return;
        }
    }
    qsizetype pending = 0;
    for (qsizetype i = 0; i < n; ++i) {
        if (!isBasicHan(s[i]) || (i + 1 < n && !breaksAfterHan(s[i + 1])))
            continue;
        tokenizeStretch(text.mid(pending, i - pending), out);
        out.token(text.mid(i, 1));
        pending = i + 1;
    }
    tokenizeStretch(text.mid(pending), out);
}

} // namespace

bool Tokenizer::isCjk(char32_t ucs4)
{
    if (ucs4 < 0x1100)
        return false; // fast path: Latin, Greek, Cyrillic, ...
    // Fast paths for the blocks every code point of which has been Han or Hangul since
    // Unicode 11 (tst_fastpath checks them against QChar::script()).
    if ((ucs4 >= 0x4E00 && ucs4 <= 0x9FEF) || (ucs4 >= 0xAC00 && ucs4 <= 0xD7A3))
        return true;
    // And for Chinese punctuation: CJK symbols and punctuation U+3000..U+3004 and U+3008..U+3020
    // and the full-width forms U+FF01..U+FF64 are Common or Latin script.
    if ((ucs4 >= 0xFF01 && ucs4 <= 0xFF64) || (ucs4 >= 0x3000 && ucs4 <= 0x3004) || (ucs4 >= 0x3008 && ucs4 <= 0x3020))
        return false;
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

void Tokenizer::foldCase(QStringView text, QString &out)
{
    const qsizetype n = text.size();
    const char16_t *src = text.utf16();
    out.resize(n);
    char16_t *dst = reinterpret_cast<char16_t *>(out.data());
    if (isAscii(text)) {
        // ASCII: Unicode case folding maps only A-Z here.
        for (qsizetype i = 0; i < n; ++i) {
            const char16_t c = src[i];
            dst[i] = (c >= u'A' && c <= u'Z') ? char16_t(c + 32) : c;
        }
        return;
    }
    std::copy(src, src + n, dst);
    out = std::move(out).toCaseFolded(); // in place while out's buffer is not shared
}

void Tokenizer::scanFolded(const QString &folded, Sink &sink)
{
    const QStringView view(folded);
    if (!mayContainSpecial(view)) {
        tokenizeWords(view, sink);
        return;
    }
    qsizetype pos = 0;
    auto it = specialPattern().globalMatch(folded);
    while (it.hasNext()) {
        const QRegularExpressionMatch m = it.next();
        tokenizeWords(view.mid(pos, m.capturedStart() - pos), sink);
        sink.token(m.capturedLength(u"url") > 0 ? QStringView(u"<url>") : QStringView(u"<email>"));
        pos = m.capturedEnd();
    }
    tokenizeWords(view.mid(pos), sink);
}

QStringList Tokenizer::tokenize(QStringView text)
{
    struct ListSink final : Sink {
        QStringList out;
        void token(QStringView t) override { out.append(t.toString()); }
    } sink;
    QString folded;
    foldCase(text, folded);
    scanFolded(folded, sink);
    return std::move(sink.out);
}

} // namespace loopdeck::model
