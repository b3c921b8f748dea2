#pragma once
// Turns what Label Studio sends (webhook bodies, task objects from /api/tasks?fields=all) into
// plain changes for the loop's store: tasks with their data, annotations with their result,
// and deletions. Knows the 1.23.2 payload shapes (label-studio-api.md, section C):
//   ANNOTATION_CREATED / ANNOTATION_UPDATED   {"annotation": {...}, "task": {...}, "project": {...}}
//   ANNOTATIONS_CREATED                        {"annotation": [...], "task": [...]}   (a list under the singular key)
//   ANNOTATIONS_DELETED / ANNOTATION_DELETED   {"annotations": [{"id": 1}, ...]} / {"annotation": {"id": 1}}
//   TASKS_CREATED / TASKS_DELETED              {"tasks": [...]} / {"tasks": [{"id": 1}]}
//   PROJECT_UPDATED                            {"project": {"label_config": "..."}}
//   START_TRAINING                             {"project": {...}}   (no annotation)
// Pure functions, no I/O; any thread. Malformed parts come back as a sentence, never a throw.
#include "core/result.h"
#include "core/store/changeset.h"

#include <QByteArray>
#include <QString>

#include <nlohmann/json_fwd.hpp>


namespace loopdeck::loop {

using store::AnnotationChange;
using store::ChangeSet;
using store::TaskChange;

// Label Studio's timestamps ("2026-11-25T10:01:02.123456Z") in ms since epoch; 0 when unreadable.
qint64 parseLsTime(const std::string &text);

// A webhook body. Unknown actions give an empty ChangeSet with the action set.
Result<ChangeSet> parseWebhook(const QByteArray &body);
// The parsed-JSON form (the HTTP layer already parsed the body once).
Result<ChangeSet> parseWebhook(const nlohmann::json &body);

// One task object of /api/tasks?fields=all (with "annotations"), for reconcile.
Result<TaskChange> parseTask(const nlohmann::json &task);

} // namespace loopdeck::loop
