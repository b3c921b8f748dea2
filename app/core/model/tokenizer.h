#pragma once
// Splits text into the word tokens the text classifier counts. Unicode-aware: word boundaries
// come from QTextBoundaryFinder (UAX #29); Han, Hiragana, Katakana and Hangul text becomes one
// token per character; everything is case-folded; URLs, e-mail addresses and numbers are folded
// into the class tokens <url>, <email> and <num>. Stateless and thread-safe.
// Called by the feature extractor (features.h) during training and prediction; it uses the
// allocation-free form (foldCase + scanFolded), tokenize() gives the same tokens as a list.
#include <QString>
#include <QStringList>
#include <QStringView>

namespace loopdeck::model {

class Tokenizer final
{
public:
    static QString urlToken() { return QStringLiteral("<url>"); }
    static QString emailToken() { return QStringLiteral("<email>"); }
    static QString numberToken() { return QStringLiteral("<num>"); }

    // The tokens of text, in reading order.
    static QStringList tokenize(QStringView text);

    // Receives tokens one at a time; a token view is only valid during the call.
    class Sink
    {
    public:
        virtual void token(QStringView token) = 0;

    protected:
        ~Sink() = default;
    };
    // out = text case-folded as tokenize() folds it (QString::toCaseFolded); reuses out's buffer.
    static void foldCase(QStringView text, QString &out);
    // The tokens of a case-folded text (foldCase), in reading order, without a string per token.
    // Allocates nothing after the first calls on a thread (a thread-local boundary buffer).
    static void scanFolded(const QString &folded, Sink &sink);

    // True for code points of the scripts that are split one token per character.
    static bool isCjk(char32_t ucs4);
};

} // namespace loopdeck::model
