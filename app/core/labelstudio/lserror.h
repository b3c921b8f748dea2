#pragma once
// A failed Label Studio call, classified so that callers can react (re-authenticate, show
// "disconnected", point at a field) and so that a person reads one clear sentence.
// Produced by LabelStudioClient and the response parsers; shown by the GUI and the CLI.
#include <QString>

namespace loopdeck::labelstudio {

struct LsError {
    enum class Kind {
        None,
        Unreachable,          // connection refused, host not found, network down
        Timeout,              // no answer within the request timeout
        Tls,                  // certificate or handshake failure
        InvalidToken,         // 401: the key is unknown, revoked or malformed
        TokenExpired,         // 401: a Personal Access Token that no longer refreshes
        LegacyTokensDisabled, // 401: legacy keys switched off for the organisation
        Forbidden,            // 403
        NotFound,             // 404 (also: the URL is not a Label Studio server)
        ClientError,          // another 4xx, with the server's detail
        ServerError,          // 5xx
        BadResponse,          // the body is not the JSON we expect (field named)
        Cancelled,            // the request was aborted (shutdown, new server)
        Redirected,           // a redirect to another origin, not followed (url: where it pointed)
    };

    Kind kind = Kind::None;
    int httpStatus = 0;
    QString detail;  // what the server or the network layer said, verbatim
    QString field;   // for BadResponse: the JSON path that was missing or of the wrong type
    QString url;     // the request's URL (never carries the token); for Redirected, the redirect target

    bool isError() const { return kind != Kind::None; }
    // True for errors that say "the server is not there" rather than "the server said no".
    bool isConnectivity() const { return kind == Kind::Unreachable || kind == Kind::Timeout || kind == Kind::Tls; }
    bool isAuth() const { return kind == Kind::InvalidToken || kind == Kind::TokenExpired || kind == Kind::LegacyTokensDisabled; }

    // One or two sentences for a person, translated; says what to do where we know.
    QString message() const;
    // A stable machine name for the kind, e.g. "invalid_token" (used by `--json` output and logs).
    QString kindName() const;

    static LsError badResponse(const QString &field, const QString &what);
};

} // namespace loopdeck::labelstudio
