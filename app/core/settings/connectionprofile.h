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
    void remove(const QString &name);
    QString lastUsed() const;
    void setLastUsed(const QString &name);

    // An error sentence when the URL cannot be a Label Studio server address, else empty.
    static QString validateUrl(const QUrl &url);

private:
    QSettings *settings() const;
    void writeAll(const QList<ConnectionProfile> &list);
    QSettings *m_settings;
    mutable std::optional<QSettings> m_own;
};

} // namespace loopdeck::settings
