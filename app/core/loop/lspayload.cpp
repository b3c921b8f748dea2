#include "core/loop/lspayload.h"

#include <QDateTime>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace loopdeck::loop {

using nlohmann::json;

namespace {

QString typeName(const json &j)
{
    switch (j.type()) {
    case json::value_t::null: return QStringLiteral("null");
    case json::value_t::object: return QStringLiteral("an object");
    case json::value_t::array: return QStringLiteral("a list");
    case json::value_t::string: return QStringLiteral("a string");
    case json::value_t::boolean: return QStringLiteral("a boolean");
    default: return QStringLiteral("a number");
    }
}

// An id as Label Studio writes it: a number (or a numeric string). 0 when absent or not one.
qint64 idOf(const json &j)
{
    if (j.is_number_integer())
        return j.get<qint64>();
    if (j.is_number_unsigned())
        return qint64(j.get<quint64>());
    if (j.is_string()) {
        bool ok = false;
        const qint64 v = QString::fromStdString(j.get<std::string>()).toLongLong(&ok);
        return ok ? v : 0;
    }
    return 0;
}

qint64 idField(const json &object, const char *key)
{
    const auto it = object.find(key);
    return it == object.end() ? 0 : idOf(*it);
}

bool boolField(const json &object, const char *key)
{
    const auto it = object.find(key);
    return it != object.end() && it->is_boolean() && it->get<bool>();
}

qint64 timeField(const json &object, const char *key)
{
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? parseLsTime(it->get<std::string>()) : 0;
}

Result<AnnotationChange> parseAnnotation(const json &a, qint64 taskId, const QString &where)
{
    if (!a.is_object())
        return Result<AnnotationChange>::failure(QStringLiteral("%1 must be an object, not %2.").arg(where, typeName(a)));
    AnnotationChange c;
    c.id = idField(a, "id");
    if (c.id <= 0)
        return Result<AnnotationChange>::failure(QStringLiteral("%1 has no numeric \"id\".").arg(where));
    c.taskId = idField(a, "task");
    if (c.taskId <= 0)
        c.taskId = taskId;
    if (c.taskId <= 0)
        return Result<AnnotationChange>::failure(QStringLiteral("%1 (id %2) does not say its task.").arg(where).arg(c.id));
    const auto result = a.find("result");
    if (result != a.end() && !result->is_null()) {
        if (!result->is_array())
            return Result<AnnotationChange>::failure(
                QStringLiteral("%1 (id %2): \"result\" must be a list, not %3.").arg(where).arg(c.id).arg(typeName(*result)));
        // Only what a result means is kept (keys sorted), so the same annotation read from a
        // webhook or from the task list compares equal.
        json canonical = json::array();
        for (const json &region : *result) {
            if (!region.is_object())
                continue;
            json kept = json::object();
            for (const char *key : {"from_name", "to_name", "type", "value"})
                if (const auto it = region.find(key); it != region.end())
                    kept[key] = *it;
            canonical.push_back(std::move(kept));
        }
        c.resultJson = canonical.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    c.cancelled = boolField(a, "was_cancelled");
    c.groundTruth = boolField(a, "ground_truth");
    c.updatedAtMs = timeField(a, "updated_at");
    if (c.updatedAtMs == 0)
        c.updatedAtMs = timeField(a, "created_at");
    return c;
}

Result<TaskChange> parseTaskObject(const json &t, const QString &where, bool withAnnotations)
{
    if (!t.is_object())
        return Result<TaskChange>::failure(QStringLiteral("%1 must be an object, not %2.").arg(where, typeName(t)));
    TaskChange task;
    task.id = idField(t, "id");
    if (task.id <= 0)
        return Result<TaskChange>::failure(QStringLiteral("%1 has no numeric \"id\".").arg(where));
    const auto data = t.find("data");
    if (data == t.end() || !data->is_object())
        return Result<TaskChange>::failure(QStringLiteral("%1 (id %2) has no \"data\" object.").arg(where).arg(task.id));
    task.dataJson = data->dump(-1, ' ', false, json::error_handler_t::replace);
    task.updatedAtMs = timeField(t, "updated_at");
    if (withAnnotations) {
        const auto list = t.find("annotations");
        if (list != t.end() && list->is_array()) {
            task.annotationsComplete = true;
            for (std::size_t i = 0; i < list->size(); ++i) {
                auto a = parseAnnotation((*list)[i], task.id,
                                         QStringLiteral("%1 (id %2) annotations[%3]").arg(where).arg(task.id).arg(i));
                if (!a)
                    return Result<TaskChange>::failure(a.error());
                task.annotations.push_back(std::move(a).value());
            }
        }
    }
    return task;
}

// "annotation": {...} or [...] -> a list of objects
std::vector<const json *> oneOrMany(const json &body, const char *key)
{
    std::vector<const json *> out;
    const auto it = body.find(key);
    if (it == body.end() || it->is_null())
        return out;
    if (it->is_array())
        for (const json &e : *it)
            out.push_back(&e);
    else
        out.push_back(&*it);
    return out;
}

} // namespace

qint64 parseLsTime(const std::string &text)
{
    if (text.empty())
        return 0;
    QString s = QString::fromStdString(text);
    // Qt reads at most milliseconds: cut "…:02.123456Z" to "…:02.123Z".
    const qsizetype dot = s.indexOf(QLatin1Char('.'));
    if (dot > 0) {
        qsizetype end = dot + 1;
        while (end < s.size() && s.at(end).isDigit())
            ++end;
        if (end - dot > 4)
            s.remove(dot + 4, end - dot - 4);
    }
    QDateTime t = QDateTime::fromString(s, Qt::ISODateWithMs);
    if (!t.isValid())
        t = QDateTime::fromString(s, Qt::ISODate);
    return t.isValid() ? t.toMSecsSinceEpoch() : 0;
}

Result<ChangeSet> parseWebhook(const QByteArray &body)
{
    json parsed = json::parse(body.constData(), body.constData() + body.size(), nullptr, false);
    if (parsed.is_discarded())
        return Result<ChangeSet>::failure(QStringLiteral("The webhook body is not valid JSON."));
    return parseWebhook(parsed);
}

Result<ChangeSet> parseWebhook(const json &body)
{
    if (!body.is_object())
        return Result<ChangeSet>::failure(QStringLiteral("The webhook body must be an object, not %1.").arg(typeName(body)));
    ChangeSet set;
    const auto action = body.find("action");
    if (action == body.end() || !action->is_string())
        return Result<ChangeSet>::failure(QStringLiteral("The webhook body has no \"action\" string."));
    set.action = QString::fromStdString(action->get<std::string>());
    const std::string a = action->get<std::string>();

    if (const auto project = body.find("project"); project != body.end() && project->is_object())
        if (const auto lc = project->find("label_config"); lc != project->end() && lc->is_string())
            set.labelConfig = QString::fromStdString(lc->get<std::string>());

    if (a == "ANNOTATION_CREATED" || a == "ANNOTATION_UPDATED" || a == "ANNOTATIONS_CREATED") {
        const auto annotations = oneOrMany(body, "annotation");
        const auto tasks = oneOrMany(body, "task");
        if (annotations.empty())
            return Result<ChangeSet>::failure(QStringLiteral("%1 has no \"annotation\".").arg(set.action));
        for (std::size_t i = 0; i < tasks.size(); ++i) {
            auto t = parseTaskObject(*tasks[i], QStringLiteral("task[%1]").arg(i), false);
            if (!t)
                return Result<ChangeSet>::failure(t.error());
            set.tasks.push_back(std::move(t).value());
        }
        for (std::size_t i = 0; i < annotations.size(); ++i) {
            const qint64 fallbackTask = set.tasks.size() == 1 ? set.tasks.front().id : 0;
            auto an = parseAnnotation(*annotations[i], fallbackTask, QStringLiteral("annotation[%1]").arg(i));
            if (!an)
                return Result<ChangeSet>::failure(an.error());
            auto owner = std::find_if(set.tasks.begin(), set.tasks.end(),
                                      [&](const TaskChange &t) { return t.id == an->taskId; });
            if (owner != set.tasks.end())
                owner->annotations.push_back(std::move(an).value());
            else
                set.annotations.push_back(std::move(an).value());
        }
    } else if (a == "ANNOTATIONS_DELETED" || a == "ANNOTATION_DELETED") {
        for (const char *key : {"annotations", "annotation"})
            for (const json *e : oneOrMany(body, key)) {
                const qint64 id = e->is_object() ? idField(*e, "id") : idOf(*e);
                if (id > 0)
                    set.deletedAnnotations.push_back(id);
            }
    } else if (a == "TASKS_DELETED") {
        for (const json *e : oneOrMany(body, "tasks")) {
            const qint64 id = e->is_object() ? idField(*e, "id") : idOf(*e);
            if (id > 0)
                set.deletedTasks.push_back(id);
        }
    } else if (a == "TASKS_CREATED") {
        const auto tasks = oneOrMany(body, "tasks");
        for (std::size_t i = 0; i < tasks.size(); ++i) {
            auto t = parseTaskObject(*tasks[i], QStringLiteral("tasks[%1]").arg(i), false);
            if (t) // a task without data (an older payload) is picked up by the next reconcile
                set.tasks.push_back(std::move(t).value());
        }
    } else if (a == "START_TRAINING") {
        set.startTraining = true;
    } else if (a == "PROJECT_UPDATED") {
        set.projectUpdated = true;
    }
    return set;
}

Result<TaskChange> parseTask(const json &task)
{
    return parseTaskObject(task, QStringLiteral("task"), true);
}

} // namespace loopdeck::loop
