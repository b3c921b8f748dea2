#pragma once
// Saved Label Studio connections. A profile holds a name, the server URL and what kind of token
// it uses, never the token itself (that lives in the OS keychain, see TokenStore). Profiles are
// kept in QSettings under "connections/". Used by the dashboard's connection selector and by
// `loopdeck projects --profile NAME`.
#include "labelstudio/lstypes.h"

#include <QList>
#include <QSettings>
#include <QString>
#include <QUrl>

#include <optional>

namespace loopdeck::settings {

class TokenStore;

struct ConnectionProfile {
    QString name;
    QUrl url;
    labelstudio::TokenKind tokenKind = labelstudio::TokenKind::Unknown;
    bool operator==(const ConnectionProfile &) const = default;
};

class ConnectionProfiles final
{
public:
    // Uses the application's default QSettings unless a settings object is given (tests).
    explicit ConnectionProfiles(QSettings *settings = nullptr);

    QList<ConnectionProfile> all() const;
    std::optional<ConnectionProfile> find(const QString &name) const;
    // Adds or replaces the profile with the same name.
    void save(const ConnectionProfile &profile);
    // Saves an edit like save(). When it moves a saved profile to another origin (see
    // sameOrigin), the token stored for the profile is deleted from `tokens` (keychain entry and
    // session copy) and its token kind forgotten, so that the old server's token is never sent to
    // the new one. Returns true when that happened: the caller then asks for a token for the new
    // server.
    bool saveEdited(const ConnectionProfile &profile, TokenStore &tokens);
    void remove(const QString &name);
    QString lastUsed() const;
    void setLastUsed(const QString &name);

    // An error sentence when the URL cannot be a Label Studio server address, else empty.
    static QString validateUrl(const QUrl &url);
    // Same scheme, host (case-insensitive) and port (80/443 when not written): the servers a
    // token may go to. The path does not count (a token for http://h/ls is one for http://h).
    static bool sameOrigin(const QUrl &a, const QUrl &b);

private:
    QSettings *settings() const;
    void writeAll(const QList<ConnectionProfile> &list);
    QSettings *m_settings;
    mutable std::optional<QSettings> m_own;
};

} // namespace loopdeck::settings
