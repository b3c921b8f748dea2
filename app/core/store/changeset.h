#pragma once
// Changes to the loop's copy of a Label Studio project, as plain values: tasks with their data,
// annotations with their result, deletions, and what a webhook asked for. Produced from Label
// Studio's JSON by loop/lspayload (webhooks, reconcile pages); written by LoopStore in one
// transaction. Any thread.
#include <QString>

#include <algorithm>
#include <string>
#include <vector>

namespace loopdeck::store {

struct AnnotationChange {
    qint64 id = 0;
    qint64 taskId = 0;
    std::string resultJson = "[]"; // the result list, compact JSON
    bool cancelled = false;        // was_cancelled (a skip)
    bool groundTruth = false;
    qint64 updatedAtMs = 0;        // Label Studio's updated_at (0 when unknown)
};

struct TaskChange {
    qint64 id = 0;
    std::string dataJson = "{}";   // the data object, compact JSON
    qint64 updatedAtMs = 0;
    // True when `annotations` is the task's complete list (a task from /api/tasks?fields=all);
    // then stored annotations of the task that are not in it were deleted.
    bool annotationsComplete = false;
    std::vector<AnnotationChange> annotations;
};

struct ChangeSet {
    QString action;                        // the webhook action ("" for a sync page)
    // For a reconcile page: when it was requested (local ms since epoch). Annotations missing
    // from a task's complete list are deleted only if LoopDeck heard of them before then, so a
    // webhook that arrives while the page is in flight is never undone by the older page.
    qint64 snapshotAtMs = 0;
    std::vector<TaskChange> tasks;         // upserts (with their annotations)
    std::vector<AnnotationChange> annotations; // upserts whose task came without data
    std::vector<qint64> deletedAnnotations;
    std::vector<qint64> deletedTasks;
    QString labelConfig;                   // project.label_config when the payload has it
    bool startTraining = false;            // START_TRAINING
    bool projectUpdated = false;           // PROJECT_UPDATED

    bool touchesAnnotations() const
    {
        return !annotations.empty() || !deletedAnnotations.empty() || !deletedTasks.empty()
            || std::any_of(tasks.begin(), tasks.end(), [](const TaskChange &t) { return !t.annotations.empty() || t.annotationsComplete; });
    }
};

} // namespace loopdeck::store
