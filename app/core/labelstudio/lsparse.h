#pragma once
// Turns Label Studio's JSON answers into typed structs, and failed answers into LsError.
// Pure functions (no network): the client calls them, unit tests feed them responses
// recorded from a real Label Studio 1.23.2 (tests/data/labelstudio/).
#include "labelstudio/lserror.h"
#include "labelstudio/lstypes.h"

#include <QByteArray>
#include <QNetworkReply>

namespace loopdeck::labelstudio {

// Each parser returns false and fills *error (kind BadResponse, field named) when the body is
// not what Label Studio sends.
bool parseVersion(const QByteArray &body, ServerVersion *out, LsError *error);
bool parseUser(const QByteArray &body, User *out, LsError *error);
bool parseProject(const QByteArray &body, Project *out, LsError *error);
bool parseProjectPage(const QByteArray &body, ProjectPage *out, LsError *error);
bool parseMlBackends(const QByteArray &body, QList<MlBackend> *out, LsError *error);
bool parseMlBackend(const QByteArray &body, MlBackend *out, LsError *error);
bool parseImportResult(const QByteArray &body, ImportResult *out, LsError *error);
bool parseAccessToken(const QByteArray &body, QString *access, LsError *error);
bool parseCreatedToken(const QByteArray &body, QString *token, LsError *error);

// Classifies a finished reply. `networkError` is QNetworkReply::error(); `httpStatus` 0 when
// no HTTP answer came. The server's `detail` (if any) is kept, and 401s are told apart:
// legacy tokens disabled, PAT expired/blacklisted, or simply a wrong key.
LsError classifyFailure(QNetworkReply::NetworkError networkError, int httpStatus, const QByteArray &body,
                        const QString &networkErrorString, bool usedRefreshToken);

// The `detail` string of a Label Studio / DRF error body, or empty.
QString errorDetail(const QByteArray &body);

} // namespace loopdeck::labelstudio
