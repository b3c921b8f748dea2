#pragma once
// Plain data parsed from Label Studio's REST answers. No behaviour beyond small helpers.
#include <QDateTime>
#include <QList>
#include <QString>

#include <optional>

namespace loopdeck::labelstudio {

struct ServerVersion {
    QString release; // "1.23.2"
};

struct User {
    int id = 0;
    QString email;
    QString username;
    QString firstName;
    QString lastName;
    int activeOrganization = 0;
    QString displayName() const;
};

// The count fields of a project. Label Studio omits a count (null) when it was not asked for.
struct ProjectCounts {
    qint64 taskNumber = 0;
    qint64 tasksWithAnnotations = 0;   // num_tasks_with_annotations
    qint64 totalAnnotations = 0;       // total_annotations_number
    qint64 skippedAnnotations = 0;     // skipped_annotations_number
    qint64 totalPredictions = 0;       // total_predictions_number
    qint64 finishedTasks = 0;          // finished_task_number
    qint64 usefulAnnotations = 0;      // useful_annotation_number
    qint64 groundTruth = 0;            // ground_truth_number
    // Share of tasks with at least one annotation, 0..1 (0 for an empty project).
    double doneFraction() const;
    bool operator==(const ProjectCounts &) const = default;
};

struct Project {
    int id = 0;
    QString title;
    QString description;
    QString labelConfig;
    QString modelVersion;
    QString color;
    QDateTime createdAt;
    QString createdBy; // e-mail of the creator
    ProjectCounts counts;
};

struct ProjectPage {
    qint64 count = 0;
    bool hasNext = false;
    QList<Project> projects;
};

enum class TokenKind {
    Unknown,
    Legacy,              // DRF key, sent as "Authorization: Token <key>"
    PersonalAccessToken, // JWT refresh token, exchanged for short-lived "Bearer" access tokens
    AccessToken,         // a short-lived JWT access token pasted by mistake (works until it expires)
};

QString tokenKindName(TokenKind kind); // translated, for the UI: "legacy token", ...

// An ML backend registration as Label Studio sees it (GET /api/ml).
struct MlBackend {
    int id = 0;
    int project = 0;
    QString url;
    QString title;
    QString state;        // CO, DI, ER, TR, PR
    QString readableState;
    QString errorMessage;
    QString modelVersion;
    QString authMethod;   // NONE or BASIC_AUTH
};

struct ImportResult {
    int taskCount = 0;
    QList<int> taskIds;
};

} // namespace loopdeck::labelstudio
