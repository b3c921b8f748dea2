#pragma once
// The operator token: the credential for the backend's operator routes (/loop/* and the
// "details" of /versions), which change what the loop does or show what it learnt. Any local
// user or process can reach a loopback port, so these routes need it there too. Label
// Studio's own calls (/setup, /predict, /webhook, /health) never do.
//
// It lives in the data folder as the file "operator-token" (one line, owner-only: mode 0600 on
// Unix), made at the first start of `loopdeck serve` or the window's backend; the CLI and the
// window read it from there, a remote window gets it pasted once. Sent as
// "Authorization: Bearer <token>". Rotate: `loopdeck operator-token --rotate`, then restart.
// Plain functions; any thread.
#include "core/result.h"

#include <QByteArray>
#include <QString>

namespace loopdeck::backend {

namespace operatortoken {

// <dataDir>/operator-token
QString pathIn(const QString &dataDir);
// Reads the token of dataDir, making one when there is none yet. Fails (with a sentence) when
// the file cannot be read or written, or holds no token.
Result<QString> loadOrCreate(const QString &dataDir);
// Reads an existing token file (for the CLI: a file given by --operator-token-file).
Result<QString> readFile(const QString &path);
// Replaces the token of dataDir with a new one and returns it.
Result<QString> rotate(const QString &dataDir);
// A new random token: "ldo_" + 43 characters of base64url (256 random bits).
QString generate();
// Compares a presented "Authorization" header value with the token in constant time (for the
// token's length). False for an empty token.
bool matchesBearer(const QByteArray &authorization, const QString &token);

} // namespace operatortoken

} // namespace loopdeck::backend
