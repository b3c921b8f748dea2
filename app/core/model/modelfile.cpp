#include "core/model/modelfile.h"

#include <QCryptographicHash>
#include <QFile>
#include <QSaveFile>
#include <QtEndian>

#include <cstring>

namespace loopdeck::model {
namespace {

void setError(QString *error, const QString &message)
{
    if (error)
        *error = message;
}

} // namespace

QByteArray ModelFile::encode(const QByteArray &payload, quint32 version)
{
    QByteArray out;
    out.reserve(kHeaderSize + payload.size() + kChecksumSize);
    out.append(kMagic, 8);
    char buf[8];
    qToBigEndian<quint32>(version, buf);
    out.append(buf, 4);
    qToBigEndian<quint64>(static_cast<quint64>(payload.size()), buf);
    out.append(buf, 8);
    out.append(payload);
    out.append(QCryptographicHash::hash(out, QCryptographicHash::Sha256));
    return out;
}

std::optional<QByteArray> ModelFile::decode(const QByteArray &file, QString *error, quint32 *version)
{
    if (file.isEmpty()) {
        setError(error, QStringLiteral("the file is empty"));
        return std::nullopt;
    }
    if (file.size() < 8 || std::memcmp(file.constData(), kMagic, 8) != 0) {
        setError(error, QStringLiteral("it is not a LoopDeck model file (unknown file signature)"));
        return std::nullopt;
    }
    if (file.size() < kHeaderSize + kChecksumSize) {
        setError(error, QStringLiteral("the file is truncated (%1 bytes)").arg(file.size()));
        return std::nullopt;
    }
    const auto fileVersion = qFromBigEndian<quint32>(file.constData() + 8);
    if (fileVersion == 0 || fileVersion > kFormatVersion) {
        setError(error, QStringLiteral("it uses model format version %1, but this LoopDeck reads "
                                       "versions up to %2; a newer LoopDeck wrote it")
                            .arg(fileVersion)
                            .arg(kFormatVersion));
        return std::nullopt;
    }
    if (version)
        *version = fileVersion;
    const auto length = qFromBigEndian<quint64>(file.constData() + 12);
    const quint64 expected = static_cast<quint64>(file.size() - kHeaderSize - kChecksumSize);
    if (length > expected) {
        setError(error, QStringLiteral("the file is truncated (%1 of %2 payload bytes present)")
                            .arg(expected)
                            .arg(length));
        return std::nullopt;
    }
    if (length < expected) {
        setError(error, QStringLiteral("the file has %1 unexpected bytes after the model")
                            .arg(expected - length));
        return std::nullopt;
    }
    const qsizetype signedLength = static_cast<qsizetype>(length);
    const QByteArray checked = file.left(kHeaderSize + signedLength);
    const QByteArray stored = file.mid(kHeaderSize + signedLength, kChecksumSize);
    if (QCryptographicHash::hash(checked, QCryptographicHash::Sha256) != stored) {
        setError(error, QStringLiteral("the file is corrupt (checksum mismatch)"));
        return std::nullopt;
    }
    return file.mid(kHeaderSize, signedLength);
}

bool ModelFile::write(const QString &path, const QByteArray &payload, QString *error, quint32 version)
{
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly)) {
        setError(error, QStringLiteral("Cannot write the model file %1: %2").arg(path, f.errorString()));
        return false;
    }
    const QByteArray bytes = encode(payload, version);
    if (f.write(bytes) != bytes.size() || !f.commit()) {
        setError(error, QStringLiteral("Cannot write the model file %1: %2").arg(path, f.errorString()));
        f.cancelWriting();
        return false;
    }
    return true;
}

std::optional<QByteArray> ModelFile::read(const QString &path, QString *error, quint32 *version)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        setError(error, QStringLiteral("Cannot open the model file %1: %2").arg(path, f.errorString()));
        return std::nullopt;
    }
    if (f.size() > kMaxFileSize) {
        setError(error, QStringLiteral("The model file %1 is refused: it is too large (%2 bytes)")
                            .arg(path)
                            .arg(f.size()));
        return std::nullopt;
    }
    const QByteArray bytes = f.readAll();
    if (f.error() != QFileDevice::NoError) {
        setError(error, QStringLiteral("Cannot read the model file %1: %2").arg(path, f.errorString()));
        return std::nullopt;
    }
    QString why;
    auto payload = decode(bytes, &why, version);
    if (!payload)
        setError(error, QStringLiteral("The model file %1 is refused: %2.").arg(path, why));
    return payload;
}

} // namespace loopdeck::model
