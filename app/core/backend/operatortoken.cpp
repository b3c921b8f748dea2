#include "core/backend/operatortoken.h"

#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QSaveFile>

#include <array>

namespace loopdeck::backend::operatortoken {

namespace {

constexpr QFileDevice::Permissions kOwnerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;

bool looksLikeToken(const QByteArray &t)
{
    if (t.size() < 16 || t.size() > 512)
        return false;
    for (const char c : t)
        if (c <= ' ' || c > '~')
            return false;
    return true;
}

Result<QString> write(const QString &dataDir, const QString &token)
{
    if (!QDir().mkpath(dataDir))
        return Result<QString>::failure(QStringLiteral("Could not make the data folder %1 for the operator token.").arg(dataDir));
    // QSaveFile: a reader never sees half a token; the new file is made owner-only before the
    // token is written into it.
    QSaveFile file(pathIn(dataDir));
    if (!file.open(QIODevice::WriteOnly) || !file.setPermissions(kOwnerOnly) || file.write(token.toLatin1() + '\n') < 0
        || !file.commit())
        return Result<QString>::failure(QStringLiteral("Could not write the operator token to %1: %2.")
                                            .arg(pathIn(dataDir), file.errorString()));
    QFile::setPermissions(pathIn(dataDir), kOwnerOnly);
    return token;
}

} // namespace

QString pathIn(const QString &dataDir)
{
    return QDir(dataDir).filePath(QStringLiteral("operator-token"));
}

QString generate()
{
    std::array<quint32, 8> words{};
    QRandomGenerator::system()->fillRange(words.data(), words.size());
    const QByteArray bytes(reinterpret_cast<const char *>(words.data()), sizeof(words));
    return QStringLiteral("ldo_") + QString::fromLatin1(bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

Result<QString> readFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return Result<QString>::failure(QStringLiteral("Could not read the operator token file %1: %2.").arg(path, file.errorString()));
    const QByteArray token = file.read(4096).trimmed();
    if (!looksLikeToken(token))
        return Result<QString>::failure(QStringLiteral("The operator token file %1 holds no token (one line of 16 to 512 printable "
                                                       "characters). Make a new one with `loopdeck operator-token --rotate`.")
                                            .arg(path));
    return QString::fromLatin1(token);
}

Result<QString> loadOrCreate(const QString &dataDir)
{
    if (QFile::exists(pathIn(dataDir)))
        return readFile(pathIn(dataDir));
    return write(dataDir, generate());
}

Result<QString> rotate(const QString &dataDir)
{
    return write(dataDir, generate());
}

bool matchesBearer(const QByteArray &authorization, const QString &token)
{
    if (token.isEmpty())
        return false;
    const QByteArray prefix = "bearer ";
    if (authorization.size() <= prefix.size() || authorization.left(prefix.size()).toLower() != prefix)
        return false;
    const QByteArray presented = authorization.mid(prefix.size()).trimmed();
    const QByteArray expected = token.toLatin1();
    // Constant time for the token's length: every byte is looked at whatever differs first.
    unsigned diff = unsigned(presented.size() ^ expected.size());
    for (qsizetype i = 0; i < expected.size(); ++i)
        diff |= unsigned(char(expected[i]) ^ (i < presented.size() ? presented[i] : char(0)));
    return diff == 0;
}

} // namespace loopdeck::backend::operatortoken
