#pragma once
// The window's one way to the loop: status, versions with their details, train, cancel,
// activate, roll back, settings and events, for the engine in this process (InProcessLoopClient)
// or a `loopdeck serve` elsewhere (RemoteLoopClient, over the backend's operator routes and its
// /loop/events stream). The model page, the dashboard's loop columns, the schedule editor and the
// notifications use only this; none of them includes loopengine.h.
//
// Reads (projects(), status(), versions(), settings()) answer at once from what the client
// knows: the in-process client asks the engine, the remote one answers from the last status and
// versions the server sent (kept fresh by its events; empty before the first answer). Actions
// answer later, through `Done`, on the client's thread (the GUI thread). Signals mirror the
// engine's and arrive after the client's reads already show the change.
#include "core/loop/loopsettings.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <functional>
#include <optional>

namespace loopdeck::client {

// What the loop is doing for one project (GET /loop/status, typed). `raw` keeps the whole
// document for views that show more.
struct LoopStatus {
    QString project;                 // the project's key "<id>.<created_at>"
    QString state;                   // "idle", "queued" or "training"
    double progress = 0;             // 0..1 while training
    QString trigger;                 // of the run in progress
    double elapsedSeconds = 0;       // of the run in progress
    QString queued;                  // trigger of a queued run ("" = none)
    int tasks = 0;
    int annotations = 0;
    int cancelledAnnotations = 0;
    int usableExamples = 0;
    int newSinceTraining = 0;
    int activeVersion = 0;           // 0 = none
    QDateTime nextScheduledRun;      // invalid = none
    QDateTime lastReconcile;         // invalid = never
    QString lastError;               // of the last run ("" = none)
    QString reconcileError;          // of the last sync ("" = none)
    int failuresInARow = 0;
    QString webhookUrl, webhookState, webhookWarning;
    QStringList log;                 // the project's recent loop lines, oldest first
    loop::LoopSettings settings;
    QJsonObject raw;

    static std::optional<LoopStatus> fromJson(const QJsonObject &json, QString *error = nullptr);
};

// One kept model version (an element of GET /versions?details=1, typed). `metrics` keeps the
// evaluation document (per-class figures, confusion matrix) for the detail views.
struct VersionInfo {
    int version = 0;
    QString name;                    // "loopdeck-v4"
    QDateTime created;
    QString trigger;
    bool active = false;
    int trainingExamples = 0;
    double accuracy = -1;            // cross-validated; -1 = unknown
    double liveAcceptance = -1;      // share of its predictions annotators kept; -1 = none yet
    int liveTotal = 0;               // predictions judged for liveAcceptance
    qint64 durationMs = 0;
    QJsonObject metrics;
    QJsonObject raw;

    static std::optional<VersionInfo> fromJson(const QJsonObject &json, QString *error = nullptr);
};

// The answer to an action.
struct LoopResult {
    bool ok = false;
    int httpStatus = 0;              // the remote client's HTTP status (0: in-process or no answer)
    QString error;                   // a sentence when !ok
    QJsonObject body;                // the answer on success

    static LoopResult success(QJsonObject body = {}) { return LoopResult{true, 0, {}, std::move(body)}; }
    static LoopResult failure(QString error, int status = 0) { return LoopResult{false, status, std::move(error), {}}; }
};

class LoopClient : public QObject
{
    Q_OBJECT
public:
    using Done = std::function<void(const LoopResult &)>;
    enum class Where { ThisComputer, Remote };

    using QObject::QObject;
    ~LoopClient() override = default;

    virtual Where where() const = 0;
    // "this computer" or the server's URL, for the window's "which loop" label.
    virtual QString describe() const = 0;
    // Whether the loop answers (the in-process engine always does; a remote one while its event
    // stream is connected and its last request did not fail) and, when not, why.
    virtual bool isUp() const = 0;
    virtual QString connectionError() const = 0;

    virtual QStringList projects() const = 0;
    virtual std::optional<LoopStatus> status(const QString &project) const = 0;
    virtual QList<VersionInfo> versions(const QString &project) const = 0; // oldest first
    virtual loop::LoopSettings settings(const QString &project) const = 0;
    // Asks for a fresh status and versions of `project` (statusChanged/versionsChanged follow).
    virtual void refresh(const QString &project) = 0;

    virtual void train(const QString &project, Done done) = 0;
    virtual void cancel(const QString &project, Done done) = 0;
    virtual void activate(const QString &project, int version, Done done) = 0;
    virtual void rollback(const QString &project, Done done) = 0;
    virtual void setSettings(const QString &project, const loop::LoopSettings &settings, Done done) = 0;

Q_SIGNALS:
    void connectionChanged(bool up, const QString &error);
    void projectAdded(const QString &project);
    void statusChanged(const QString &project);
    void versionsChanged(const QString &project);
    void trainingStarted(const QString &project, const QString &trigger);
    // accuracies are -1 when unknown
    void trainingFinished(const QString &project, int version, bool activated, double previousAccuracy, double accuracy);
    void trainingFailed(const QString &project, const QString &error);
    void reconciled(const QString &project, int recoveredAnnotations);
    void predictionsRefreshed(const QString &project, int version, int created, int sent);
};

} // namespace loopdeck::client
