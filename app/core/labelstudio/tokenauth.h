#pragma once
// Decides how a token authenticates: legacy keys go out as "Token <key>"; a Personal Access
// Token (a JWT refresh token) is exchanged at /api/token/refresh/ for a short-lived access
// token sent as "Bearer <access>", renewed shortly before it expires. No network here; the
// LabelStudioClient drives the refresh. Pure logic, unit-tested on its own.
#include "labelstudio/lstypes.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>

#include <optional>

namespace loopdeck::labelstudio {

// Looks at the token's shape: a JWT whose payload says token_type "refresh" is a PAT, one
// that says "access" is an access token; anything else non-empty is a legacy key.
TokenKind detectTokenKind(const QString &token);

// The `exp` claim of a JWT (not verified: we only need to know when to refresh).
std::optional<QDateTime> jwtExpiry(const QString &jwt);

class TokenAuth final
{
public:
    // Refresh this long before the access token's expiry.
    static constexpr int kRefreshMarginSeconds = 30;

    TokenAuth() = default;
    explicit TokenAuth(const QString &token);

    TokenKind kind() const { return m_kind; }
    const QString &token() const { return m_token; }

    // PAT only: true when there is no access token or it expires within the margin.
    bool needsRefresh(const QDateTime &nowUtc) const;
    void setAccessToken(const QString &access);
    void clearAccessToken();
    const QString &accessToken() const { return m_access; }
    std::optional<QDateTime> accessExpiry() const { return m_accessExpiry; }

    // The Authorization header value for the next request (empty for a PAT without access).
    QByteArray authorizationHeader() const;

private:
    QString m_token;
    TokenKind m_kind = TokenKind::Unknown;
    QString m_access;
    std::optional<QDateTime> m_accessExpiry;
};

} // namespace loopdeck::labelstudio
