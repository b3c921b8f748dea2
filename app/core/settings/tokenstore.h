#pragma once
// Keeps API tokens in the operating system's keychain (Secret Service / KWallet on Linux,
// Keychain on macOS, Credential Manager on Windows) through QtKeychain, one entry per
// connection profile. Tokens are never written to settings files or logs.
// Where no keychain answers (headless machines, CI) the token lives for this session only and
// isSessionOnly() says so. LOOPDECK_TOKEN in the environment is used only for the server it was
// given for - LOOPDECK_URL, which must be set next to it - and only when the profile has no
// stored token: a token never goes to another server, and never silently replaces a stored one.
// Set LOOPDECK_NO_KEYCHAIN=1 to skip the keychain entirely. Used by the dashboard and the CLI.
#include <QHash>
#include <QObject>
#include <QString>
#include <QUrl>

#include <functional>

namespace loopdeck::settings {

class TokenStore final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TokenStore)

public:
    enum class Source { Keychain, Session, Environment, None };

    explicit TokenStore(QObject *parent = nullptr);

    using ReadCallback = std::function<void(const QString &token, Source source, const QString &warning)>;
    using WriteCallback = std::function<void(bool persisted, const QString &warning)>;

    // Finds the token for a profile: the keychain, then this session's memory, then
    // LOOPDECK_TOKEN if LOOPDECK_URL names the same server as `server` (the profile's URL).
    void read(const QString &profile, const QUrl &server, ReadCallback done);

    // LOOPDECK_TOKEN when it was given for `server` (LOOPDECK_URL set and the same scheme, host,
    // port and path), else empty with the reason in *why (empty when LOOPDECK_TOKEN is unset).
    static QString environmentTokenFor(const QUrl &server, QString *why = nullptr);
    // Same scheme, host (case-insensitive), port (80/443 by default) and path (trailing '/' ignored).
    static bool sameServer(const QUrl &a, const QUrl &b);
    // Stores the token; when the keychain is not available it is kept for this session only and
    // `persisted` is false with a warning sentence for the user.
    void write(const QString &profile, const QString &token, WriteCallback done);
    void remove(const QString &profile);

    // True once the keychain failed for lack of a backend: later writes skip it.
    bool isSessionOnly() const { return m_sessionOnly; }

    static QString serviceName();

private:
    QHash<QString, QString> m_session;
    bool m_sessionOnly = false;
};

} // namespace loopdeck::settings
