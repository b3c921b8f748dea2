#include "core/backend/operatortoken.h"

#include <QDir>
#include <QFile>
#include <QRandomGenerator>

#include <array>
#include <filesystem>
#include <system_error>

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

// Writes the token to a new owner-only file beside the final one (created with mode 0600, so no
// other user can ever open it), then moves it into place: over an existing token (`replace`), or
// only where there is none yet - when another process made one meanwhile, that one is used.
Result<QString> write(const QString &dataDir, const QString &token, bool replace)
{
    if (!QDir().mkpath(dataDir))
        return Result<QString>::failure(QStringLiteral("Could not make the data folder %1 for the operator token.").arg(dataDir));
    const QString final = pathIn(dataDir);
    const QString temp = final + QStringLiteral(".new-") + QString::number(QRandomGenerator::system()->generate64(), 36);
    QFile file(temp);
    if (!file.open(QIODevice::WriteOnly | QIODevice::NewOnly, kOwnerOnly) || file.write(token.toLatin1() + '\n') < 0
        || !file.flush()) {
        const QString why = file.errorString();
        file.close();
        QFile::remove(temp);
        return Result<QString>::failure(QStringLiteral("Could not write the operator token to %1: %2.").arg(final, why));
    }
    file.close();
    std::error_code ec;
    if (replace) {
        std::filesystem::rename(std::filesystem::path(temp.toStdU16String()), std::filesystem::path(final.toStdU16String()), ec);
    } else if (!QFile::rename(temp, final)) { // never replaces: another starter's token wins
        QFile::remove(temp);
        if (QFile::exists(final))
            return readFile(final);
        return Result<QString>::failure(QStringLiteral("Could not put the operator token in place at %1.").arg(final));
    }
    if (ec) {
        QFile::remove(temp);
        return Result<QString>::failure(
            QStringLiteral("Could not put the operator token in place at %1: %2.").arg(final, QString::fromStdString(ec.message())));
    }
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
    // A token file others can read (copied, restored from a backup): owner-only again.
    if (file.exists() && (file.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther | QFileDevice::WriteGroup
                                                 | QFileDevice::WriteOther)))
        file.setPermissions(kOwnerOnly);
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
    return write(dataDir, generate(), false);
}

Result<QString> rotate(const QString &dataDir)
{
    return write(dataDir, generate(), true);
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
