#include "labelstudio/tokenauth.h"

#include <nlohmann/json.hpp>

namespace loopdeck::labelstudio {
namespace {

std::optional<nlohmann::json> jwtPayload(const QString &token)
{
    const QStringList parts = token.trimmed().split(u'.');
    if (parts.size() != 3 || parts[0].isEmpty() || parts[1].isEmpty())
        return std::nullopt;
    const auto decoded = QByteArray::fromBase64Encoding(
        parts[1].toLatin1(), QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals
                                 | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return std::nullopt;
    auto payload = nlohmann::json::parse(decoded.decoded.begin(), decoded.decoded.end(), nullptr, false);
    if (payload.is_discarded() || !payload.is_object())
        return std::nullopt;
    return payload;
}

} // namespace

TokenKind detectTokenKind(const QString &token)
{
    const QString t = token.trimmed();
    if (t.isEmpty())
        return TokenKind::Unknown;
    if (const auto payload = jwtPayload(t)) {
        const auto type = payload->value("token_type", std::string());
        if (type == "access")
            return TokenKind::AccessToken;
        return TokenKind::PersonalAccessToken; // "refresh", or a JWT without a type
    }
    return TokenKind::Legacy;
}

std::optional<QDateTime> jwtExpiry(const QString &jwt)
{
    const auto payload = jwtPayload(jwt);
    if (!payload)
        return std::nullopt;
    const auto it = payload->find("exp");
    if (it == payload->end() || !it->is_number())
        return std::nullopt;
    return QDateTime::fromSecsSinceEpoch(it->get<qint64>(), Qt::UTC);
}

TokenAuth::TokenAuth(const QString &token)
    : m_token(token.trimmed())
    , m_kind(detectTokenKind(token))
{
}

bool TokenAuth::needsRefresh(const QDateTime &nowUtc) const
{
    if (m_kind != TokenKind::PersonalAccessToken)
        return false;
    if (m_access.isEmpty())
        return true;
    if (!m_accessExpiry)
        return false; // no exp claim: use it until the server says 401
    return nowUtc.addSecs(kRefreshMarginSeconds) >= *m_accessExpiry;
}

void TokenAuth::setAccessToken(const QString &access)
{
    m_access = access;
    m_accessExpiry = jwtExpiry(access);
}

void TokenAuth::clearAccessToken()
{
    m_access.clear();
    m_accessExpiry.reset();
}

QByteArray TokenAuth::authorizationHeader() const
{
    switch (m_kind) {
    case TokenKind::Legacy:
        return "Token " + m_token.toUtf8();
    case TokenKind::AccessToken:
        return "Bearer " + m_token.toUtf8();
    case TokenKind::PersonalAccessToken:
        return m_access.isEmpty() ? QByteArray() : "Bearer " + m_access.toUtf8();
    case TokenKind::Unknown:
        break;
    }
    return {};
}

} // namespace loopdeck::labelstudio
