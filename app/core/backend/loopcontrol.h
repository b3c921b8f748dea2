#pragma once
// What the backend's operator routes (/loop/status, /loop/train, /loop/activate, /loop/rollback
// and the "details" of /versions) ask of the loop, without the backend knowing the loop's
// classes. The loop engine implements it; BackendApi maps a LoopReply's error to an HTTP
// status (the one place that decides status codes). Called on HTTP worker threads: every
// implementation must be thread-safe and must not block on the engine's thread.
#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace loopdeck::backend {

struct LoopReply {
    enum class Error {
        None,
        UnknownProject,  // the loop does not serve this project            -> 404
        UnknownVersion,  // no such model version                           -> 404
        Busy,            // a run is in progress and another is queued       -> 409
        NotPossible,     // nothing to roll back to, loop switched off, ...  -> 409
        BadRequest,      // a parameter is wrong                             -> 400
        Failed,          // the store or the disk failed                     -> 500
    };
    Error error = Error::None;
    QString message;     // a sentence, set with an error (and for some successes)
    QJsonObject body;    // the answer on success

    static LoopReply ok(QJsonObject body) { return LoopReply{Error::None, {}, std::move(body)}; }
    static LoopReply fail(Error error, QString message) { return LoopReply{error, std::move(message), {}}; }
};

class LoopControl
{
public:
    virtual ~LoopControl() = default;
    virtual LoopReply status(const QString &projectId) const = 0;
    virtual LoopReply train(const QString &projectId) = 0;
    virtual LoopReply activate(const QString &projectId, int version) = 0;
    virtual LoopReply rollback(const QString &projectId) = 0;
    virtual LoopReply cancel(const QString &projectId) = 0;
    // Changes the project's loop settings: the keys of `changes` (LoopSettings JSON names).
    virtual LoopReply configure(const QString &projectId, const QJsonObject &changes) = 0;
    // The projects the loop knows (keys), for GET /loop/status without ?project.
    virtual QStringList projectList() const { return {}; }
    // One object per version (oldest first) for GET /versions "details".
    virtual QJsonArray versionDetails(const QString &projectId) const = 0;
    // A bare project id ("3", from a client that sends no creation time) as the project's key
    // ("3.1700000000", projectkey.h) when exactly one known project has that id; else unchanged.
    virtual QString resolveProject(const QString &projectId) const { return projectId; }
    // GET /ready: "" when this backend serves every active version (a replica of a shared store:
    // the ones the store names), else a sentence saying what is missing (-> 503).
    virtual QString notReady() const { return {}; }
};

} // namespace loopdeck::backend
