#include "labelstudio/lsparse.h"

#include <nlohmann/json.hpp>

#include <QCoreApplication>

namespace loopdeck::labelstudio {
namespace {

using json = nlohmann::json;

// Reads typed fields out of a JSON object and remembers the first problem with its path.
class Reader
{
public:
    Reader(const json &object, QString path, LsError *error)
        : m_obj(object), m_path(std::move(path)), m_error(error) {}

    bool ok() const { return !m_failed; }

    QString string(const char *key, bool required = false)
    {
        const auto it = m_obj.find(key);
        if (it == m_obj.end() || it->is_null()) {
            if (required)
                fail(key, QStringLiteral("is missing"));
            return {};
        }
        if (!it->is_string()) {
            fail(key, QStringLiteral("should be a string but is %1").arg(QString::fromUtf8(it->type_name())));
            return {};
        }
        return QString::fromStdString(it->get<std::string>());
    }

    qint64 integer(const char *key, bool required = false)
    {
        const auto it = m_obj.find(key);
        if (it == m_obj.end() || it->is_null()) {
            if (required)
                fail(key, QStringLiteral("is missing"));
            return 0;
        }
        if (!it->is_number_integer()) {
            fail(key, QStringLiteral("should be a whole number but is %1").arg(QString::fromUtf8(it->type_name())));
            return 0;
        }
        return it->get<qint64>();
    }

    QDateTime dateTime(const char *key)
    {
        const QString s = string(key);
        if (s.isEmpty())
            return {};
        QDateTime dt = QDateTime::fromString(s, Qt::ISODateWithMs);
        if (!dt.isValid())
            fail(key, QStringLiteral("is not a date: %1").arg(s));
        return dt;
    }

    const json *object(const char *key)
    {
        const auto it = m_obj.find(key);
        if (it == m_obj.end() || it->is_null())
            return nullptr;
        if (!it->is_object()) {
            fail(key, QStringLiteral("should be an object but is %1").arg(QString::fromUtf8(it->type_name())));
            return nullptr;
        }
        return &*it;
    }

    QString pathOf(const char *key) const { return m_path.isEmpty() ? QString::fromUtf8(key) : m_path + u'.' + QString::fromUtf8(key); }

private:
    void fail(const char *key, const QString &what)
    {
        if (m_failed)
            return;
        m_failed = true;
        *m_error = LsError::badResponse(pathOf(key), what);
    }

    const json &m_obj;
    QString m_path;
    LsError *m_error;
    bool m_failed = false;
};

bool parseDocument(const QByteArray &body, json *out, LsError *error)
{
    *out = json::parse(body.begin(), body.end(), nullptr, false);
    if (out->is_discarded()) {
        *error = LsError::badResponse(QString(), QStringLiteral("the answer is not JSON (%1 bytes starting with \"%2\")")
                                                     .arg(body.size())
                                                     .arg(QString::fromUtf8(body.left(40)).simplified()));
        return false;
    }
    return true;
}

bool expectObject(const json &doc, const QString &path, LsError *error)
{
    if (doc.is_object())
        return true;
    *error = LsError::badResponse(path, QStringLiteral("should be an object but is %1").arg(QString::fromUtf8(doc.type_name())));
    return false;
}

bool readProject(const json &obj, const QString &path, Project *p, LsError *error)
{
    if (!expectObject(obj, path, error))
        return false;
    Reader r(obj, path, error);
    p->id = int(r.integer("id", true));
    p->title = r.string("title");
    p->description = r.string("description");
    p->labelConfig = r.string("label_config");
    p->modelVersion = r.string("model_version");
    p->color = r.string("color");
    p->createdAt = r.dateTime("created_at");
    if (const json *creator = r.object("created_by")) {
        Reader c(*creator, r.pathOf("created_by"), error);
        p->createdBy = c.string("email");
        if (!c.ok())
            return false;
    }
    ProjectCounts &n = p->counts;
    n.taskNumber = r.integer("task_number");
    n.tasksWithAnnotations = r.integer("num_tasks_with_annotations");
    n.totalAnnotations = r.integer("total_annotations_number");
    n.skippedAnnotations = r.integer("skipped_annotations_number");
    n.totalPredictions = r.integer("total_predictions_number");
    n.finishedTasks = r.integer("finished_task_number");
    n.usefulAnnotations = r.integer("useful_annotation_number");
    n.groundTruth = r.integer("ground_truth_number");
    return r.ok();
}

bool readMlBackend(const json &obj, const QString &path, MlBackend *b, LsError *error)
{
    if (!expectObject(obj, path, error))
        return false;
    Reader r(obj, path, error);
    b->id = int(r.integer("id", true));
    b->project = int(r.integer("project"));
    b->url = r.string("url", true);
    b->title = r.string("title");
    b->state = r.string("state");
    b->readableState = r.string("readable_state");
    b->errorMessage = r.string("error_message");
    b->modelVersion = r.string("model_version");
    b->authMethod = r.string("auth_method");
    return r.ok();
}

QString tr(const char *text)
{
    return QCoreApplication::translate("loopdeck::labelstudio::LsError", text);
}

} // namespace

bool parseVersion(const QByteArray &body, ServerVersion *out, LsError *error)
{
    json doc;
    if (!parseDocument(body, &doc, error) || !expectObject(doc, QString(), error))
        return false;
    Reader r(doc, QString(), error);
    out->release = r.string("release", true);
    return r.ok();
}

bool parseUser(const QByteArray &body, User *out, LsError *error)
{
    json doc;
    if (!parseDocument(body, &doc, error) || !expectObject(doc, QString(), error))
        return false;
    Reader r(doc, QString(), error);
    out->id = int(r.integer("id", true));
    out->email = r.string("email");
    out->username = r.string("username");
    out->firstName = r.string("first_name");
    out->lastName = r.string("last_name");
    out->activeOrganization = int(r.integer("active_organization"));
    return r.ok();
}

bool parseProject(const QByteArray &body, Project *out, LsError *error)
{
    json doc;
    return parseDocument(body, &doc, error) && readProject(doc, QString(), out, error);
}

bool parseProjectPage(const QByteArray &body, ProjectPage *out, LsError *error)
{
    json doc;
    if (!parseDocument(body, &doc, error) || !expectObject(doc, QString(), error))
        return false;
    Reader r(doc, QString(), error);
    out->count = r.integer("count", true);
    const auto next = doc.find("next");
    out->hasNext = next != doc.end() && next->is_string() && !next->get<std::string>().empty();
    const auto results = doc.find("results");
    if (results == doc.end() || !results->is_array()) {
        *error = LsError::badResponse(QStringLiteral("results"), results == doc.end() ? QStringLiteral("is missing")
                                                                                       : QStringLiteral("should be a list"));
        return false;
    }
    out->projects.clear();
    for (size_t i = 0; i < results->size(); ++i) {
        Project p;
        if (!readProject((*results)[i], QStringLiteral("results[%1]").arg(i), &p, error))
            return false;
        out->projects.append(std::move(p));
    }
    return r.ok();
}

bool parseMlBackends(const QByteArray &body, QList<MlBackend> *out, LsError *error)
{
    json doc;
    if (!parseDocument(body, &doc, error))
        return false;
    if (!doc.is_array()) {
        *error = LsError::badResponse(QString(), QStringLiteral("should be a list of ML backends"));
        return false;
    }
    out->clear();
    for (size_t i = 0; i < doc.size(); ++i) {
        MlBackend b;
        if (!readMlBackend(doc[i], QStringLiteral("[%1]").arg(i), &b, error))
            return false;
        out->append(std::move(b));
    }
    return true;
}

bool parseMlBackend(const QByteArray &body, MlBackend *out, LsError *error)
{
    json doc;
    return parseDocument(body, &doc, error) && readMlBackend(doc, QString(), out, error);
}

bool parseImportResult(const QByteArray &body, ImportResult *out, LsError *error)
{
    json doc;
    if (!parseDocument(body, &doc, error) || !expectObject(doc, QString(), error))
        return false;
    Reader r(doc, QString(), error);
    out->taskCount = int(r.integer("task_count", true));
    out->taskIds.clear();
    if (const auto ids = doc.find("task_ids"); ids != doc.end() && ids->is_array())
        for (const auto &id : *ids)
            if (id.is_number_integer())
                out->taskIds.append(id.get<int>());
    return r.ok();
}

bool parseAccessToken(const QByteArray &body, QString *access, LsError *error)
{
    json doc;
    if (!parseDocument(body, &doc, error) || !expectObject(doc, QString(), error))
        return false;
    Reader r(doc, QString(), error);
    *access = r.string("access", true);
    return r.ok();
}

bool parseCreatedToken(const QByteArray &body, QString *token, LsError *error)
{
    json doc;
    if (!parseDocument(body, &doc, error) || !expectObject(doc, QString(), error))
        return false;
    Reader r(doc, QString(), error);
    *token = r.string("token", true);
    return r.ok();
}

QString errorDetail(const QByteArray &body)
{
    const json doc = json::parse(body.begin(), body.end(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
        return {};
    QString detail;
    if (const auto it = doc.find("detail"); it != doc.end() && it->is_string())
        detail = QString::fromStdString(it->get<std::string>());
    if (const auto v = doc.find("validation_errors"); v != doc.end() && v->is_object())
        detail += u' ' + QString::fromStdString(v->dump());
    return detail.trimmed();
}

LsError classifyFailure(QNetworkReply::NetworkError networkError, int httpStatus, const QByteArray &body,
                        const QString &networkErrorString, bool usedRefreshToken)
{
    LsError e;
    e.httpStatus = httpStatus;
    e.detail = errorDetail(body);
    using K = LsError::Kind;
    if (httpStatus == 0) {
        e.detail = networkErrorString;
        switch (networkError) {
        case QNetworkReply::OperationCanceledError:
            e.kind = K::Cancelled;
            break;
        case QNetworkReply::TimeoutError:
            e.kind = K::Timeout;
            break;
        case QNetworkReply::SslHandshakeFailedError:
        case QNetworkReply::UnknownNetworkError:
            e.kind = networkErrorString.contains(QLatin1String("SSL"), Qt::CaseInsensitive)
                            || networkErrorString.contains(QLatin1String("TLS"), Qt::CaseInsensitive)
                            || networkError == QNetworkReply::SslHandshakeFailedError
                        ? K::Tls
                        : K::Unreachable;
            break;
        default:
            e.kind = K::Unreachable;
            break;
        }
        return e;
    }
    if (httpStatus == 401) {
        const QString d = e.detail.toLower();
        if (d.contains(QLatin1String("legacy token")))
            e.kind = K::LegacyTokensDisabled;
        else if (usedRefreshToken && (d.contains(QLatin1String("blacklisted")) || d.contains(QLatin1String("expired"))))
            e.kind = K::TokenExpired;
        else
            e.kind = K::InvalidToken;
        return e;
    }
    if (httpStatus == 403)
        e.kind = K::Forbidden;
    else if (httpStatus == 404)
        e.kind = K::NotFound;
    else if (httpStatus >= 500)
        e.kind = K::ServerError;
    else if (httpStatus >= 400)
        e.kind = K::ClientError;
    else
        e.kind = K::BadResponse;
    return e;
}

LsError LsError::badResponse(const QString &field, const QString &what)
{
    LsError e;
    e.kind = Kind::BadResponse;
    e.field = field;
    e.detail = what;
    return e;
}

QString LsError::kindName() const
{
    switch (kind) {
    case Kind::None: return QStringLiteral("none");
    case Kind::Unreachable: return QStringLiteral("unreachable");
    case Kind::Timeout: return QStringLiteral("timeout");
    case Kind::Tls: return QStringLiteral("tls");
    case Kind::InvalidToken: return QStringLiteral("invalid_token");
    case Kind::TokenExpired: return QStringLiteral("token_expired");
    case Kind::LegacyTokensDisabled: return QStringLiteral("legacy_tokens_disabled");
    case Kind::Forbidden: return QStringLiteral("forbidden");
    case Kind::NotFound: return QStringLiteral("not_found");
    case Kind::ClientError: return QStringLiteral("client_error");
    case Kind::ServerError: return QStringLiteral("server_error");
    case Kind::BadResponse: return QStringLiteral("bad_response");
    case Kind::Cancelled: return QStringLiteral("cancelled");
    case Kind::Redirected: return QStringLiteral("redirected");
    }
    return QStringLiteral("unknown");
}

QString LsError::message() const
{
    const QString where = url.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(url);
    const QString said = detail.isEmpty() ? QString() : tr(" The server said: %1").arg(detail);
    switch (kind) {
    case Kind::None:
        return {};
    case Kind::Unreachable:
        return tr("Cannot reach the Label Studio server%1: %2. Check the URL and that the server is running.")
            .arg(where, detail);
    case Kind::Timeout:
        return tr("The Label Studio server%1 did not answer in time. It may be overloaded or the network is slow.").arg(where);
    case Kind::Tls:
        return tr("The secure connection to%1 failed: %2. Check the certificate or use the right http/https scheme.")
            .arg(where.isEmpty() ? QStringLiteral(" the server") : where, detail);
    case Kind::InvalidToken:
        return tr("Label Studio rejected the token (401).%1 Copy a fresh token from Account & Settings.").arg(said);
    case Kind::TokenExpired:
        return tr("The Personal Access Token has expired or was revoked (401).%1 Create a new one in Account & Settings.").arg(said);
    case Kind::LegacyTokensDisabled:
        return tr("This organization has legacy tokens switched off (401). Use a Personal Access Token instead, "
                  "or ask an owner to enable legacy tokens in Organization > API Tokens Settings.");
    case Kind::Forbidden:
        if (detail.contains(QLatin1String("reserved network address")))
            return tr("Label Studio refuses to call an address on this machine or a private network (403: %1). "
                      "Start Label Studio with ML_BLOCK_LOCAL_IP=false (and SSRF_PROTECTION_ENABLED=false so that "
                      "webhooks reach LoopDeck), or serve the backend on an address Label Studio may call.")
                .arg(detail);
        return tr("The token's user may not do this (403).%1").arg(said);
    case Kind::NotFound:
        return tr("Not found (404)%1. Check that the URL points to a Label Studio server and the project still exists.%2")
            .arg(where, said);
    case Kind::ClientError:
        return tr("Label Studio refused the request (%1).%2").arg(httpStatus).arg(said);
    case Kind::ServerError:
        return tr("Label Studio had an internal error (%1)%2. Try again; if it persists, check the server's log.")
            .arg(httpStatus)
            .arg(where);
    case Kind::BadResponse:
        return field.isEmpty() ? tr("Label Studio sent an answer LoopDeck cannot read: %1.").arg(detail)
                               : tr("Label Studio sent an answer LoopDeck cannot read: field \"%1\" %2.").arg(field, detail);
    case Kind::Cancelled:
        return tr("The request was cancelled.");
    case Kind::Redirected:
        return tr("The Label Studio server redirected LoopDeck to %1, which is another server (scheme, host or port). "
                  "LoopDeck does not send the token there; if that is the right address, put it in the connection's URL.")
            .arg(url);
    }
    return {};
}

QString User::displayName() const
{
    const QString full = QString(firstName + u' ' + lastName).trimmed();
    if (!full.isEmpty())
        return full;
    return email.isEmpty() ? username : email;
}

double ProjectCounts::doneFraction() const
{
    return taskNumber > 0 ? double(tasksWithAnnotations) / double(taskNumber) : 0.0;
}

QString tokenKindName(TokenKind kind)
{
    // Spelled out as translate() calls so that lupdate files them under the context used here.
    switch (kind) {
    case TokenKind::Legacy:
        return QCoreApplication::translate("loopdeck::labelstudio::LsError", "legacy token");
    case TokenKind::PersonalAccessToken:
        return QCoreApplication::translate("loopdeck::labelstudio::LsError", "Personal Access Token");
    case TokenKind::AccessToken:
        return QCoreApplication::translate("loopdeck::labelstudio::LsError", "short-lived access token");
    case TokenKind::Unknown:
        break;
    }
    return QCoreApplication::translate("loopdeck::labelstudio::LsError", "no token");
}

} // namespace loopdeck::labelstudio
