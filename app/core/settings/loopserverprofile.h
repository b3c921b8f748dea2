#pragma once
// Saved "LoopDeck server" connections: a `loopdeck serve` elsewhere whose loop the window
// operates (docs/deploy.md). A profile holds a name, the server's URL and, for a team's own
// certificate authority, the path of its CA certificate (PEM); never the operator token (that
// lives in the OS keychain through TokenStore, under tokenKey()). Kept in QSettings under
// "loopServers/", apart from the Label Studio connections. Plain value types; GUI thread.
#include <QList>
#include <QSettings>
#include <QString>
#include <QUrl>

#include <optional>

namespace loopdeck::settings {

struct LoopServerProfile {
    QString name;
    QUrl url;
    QString caFile; // empty: the system's CAs only
    bool operator==(const LoopServerProfile &) const = default;

    // The TokenStore key of this profile's operator token (apart from Label Studio profiles' keys).
    QString tokenKey() const { return QStringLiteral("loopdeck-server/") + name; }
};

class LoopServerProfiles final
{
public:
    explicit LoopServerProfiles(QSettings *settings = nullptr);

    QList<LoopServerProfile> all() const;
    std::optional<LoopServerProfile> find(const QString &name) const;
    void save(const LoopServerProfile &profile); // adds or replaces the one with the same name
    void remove(const QString &name);
    // The loop the window showed last: a profile name, or empty for this computer's.
    QString current() const;
    void setCurrent(const QString &name);

    // Why a URL cannot be a LoopDeck server address (the window words it). `cleartext` is set
    // for an accepted plain-http URL to another machine: the token would travel unencrypted.
    enum class UrlProblem { None, NotAnAddress, Scheme, UserInfo, QueryOrFragment };
    static UrlProblem validateUrl(const QUrl &url, bool *cleartext = nullptr);

private:
    QSettings *settings() const;
    void writeAll(const QList<LoopServerProfile> &list);
    QSettings *m_settings;
    mutable std::optional<QSettings> m_own;
};

} // namespace loopdeck::settings
