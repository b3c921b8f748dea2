#pragma once
// The container every LoopDeck model file uses: magic, format version, payload length, payload
// and a SHA-256 over all of it. The checksum is verified before anyone parses the payload, and
// files are written through QSaveFile so a crash never leaves half a model behind.
// Called by TextClassifier::save()/load() (and tests); the payload layout belongs to the caller.
#include <QByteArray>
#include <QString>

#include <optional>

namespace loopdeck::model {

class ModelFile final
{
public:
    static constexpr char kMagic[9] = "LDKMODEL"; // 8 bytes on disk, no terminator
    static constexpr quint32 kFormatVersion = 3; // 1: word features + LR; 2: + char n-grams, SVM, calibration; 3: + LSA section
    static constexpr qint64 kHeaderSize = 8 + 4 + 8;
    static constexpr qint64 kChecksumSize = 32;
    static constexpr qint64 kMaxFileSize = qint64(1) << 31; // refuse absurd files early

    // Wraps a payload into the on-disk form.
    static QByteArray encode(const QByteArray &payload, quint32 version = kFormatVersion);
    // Checks magic, version, length and checksum; returns the payload or std::nullopt with a
    // sentence in *error (without the file name). *version gets the file's format version.
    static std::optional<QByteArray> decode(const QByteArray &file, QString *error, quint32 *version = nullptr);

    // Atomic write (temporary file + rename).
    static bool write(const QString &path, const QByteArray &payload, QString *error,
                      quint32 version = kFormatVersion);
    // Reads and decodes; *error names the file.
    static std::optional<QByteArray> read(const QString &path, QString *error, quint32 *version = nullptr);
};

} // namespace loopdeck::model
