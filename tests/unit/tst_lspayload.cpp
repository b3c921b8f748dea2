// Label Studio 1.23.2 payloads -> ChangeSets: every webhook shape the loop handles (with the
// quirks: ANNOTATIONS_CREATED carries a list under the singular key, START_TRAINING has no
// annotation), task objects of /api/tasks?fields=all, canonical results (same meaning, same
// string), Label Studio's microsecond timestamps, and malformed input (a sentence, no crash).
#include "core/loop/lspayload.h"

#include <QDateTime>
#include <QTest>

#include <nlohmann/json.hpp>

using loopdeck::loop::parseLsTime;
using loopdeck::loop::parseTask;
using loopdeck::loop::parseWebhook;
using loopdeck::store::ChangeSet;
using nlohmann::json;

namespace {

const char *const kConfig =
    "<View><Text name=\"text\" value=\"$text\"/><Choices name=\"sentiment\" toName=\"text\">"
    "<Choice value=\"Positive\"/><Choice value=\"Negative\"/></Choices></View>";

// An annotation as Label Studio 1.23.2 serialises it in a webhook (AnnotationSerializer).
json annotation(qint64 id, qint64 task, const char *label, const char *updated = "2026-11-25T10:01:02.123456Z")
{
    return json{{"id", id},
                {"result", json::array({json{{"id", "Xy12abCd"},
                                             {"type", "choices"},
                                             {"value", {{"choices", json::array({label})}}},
                                             {"origin", "manual"},
                                             {"to_name", "text"},
                                             {"from_name", "sentiment"}}})},
                {"created_username", " admin@example.com, 1"},
                {"created_ago", "0 minutes"},
                {"completed_by", 1},
                {"was_cancelled", false},
                {"ground_truth", false},
                {"created_at", "2026-11-25T10:01:02.000001Z"},
                {"updated_at", updated},
                {"draft_created_at", nullptr},
                {"lead_time", 3.2},
                {"import_id", nullptr},
                {"last_action", nullptr},
                {"bulk_created", false},
                {"task", task},
                {"project", 3},
                {"updated_by", 1},
                {"parent_prediction", nullptr},
                {"parent_annotation", nullptr},
                {"last_created_by", nullptr}};
}

json task(qint64 id, const char *text)
{
    return json{{"id", id},
                {"data", {{"text", text}}},
                {"meta", json::object()},
                {"created_at", "2026-11-25T09:00:00.000000Z"},
                {"updated_at", "2026-11-25T10:01:02.200000Z"},
                {"is_labeled", true},
                {"overlap", 1},
                {"inner_id", id},
                {"total_annotations", 1},
                {"cancelled_annotations", 0},
                {"total_predictions", 0},
                {"comment_count", 0},
                {"unresolved_comment_count", 0},
                {"last_comment_updated_at", nullptr},
                {"project", 3},
                {"updated_by", 1},
                {"file_upload", nullptr},
                {"comment_authors", json::array()}};
}

json project()
{
    return json{{"id", 3}, {"title", "Reviews"}, {"label_config", kConfig}, {"model_version", ""}};
}

ChangeSet parsed(const json &body)
{
    const auto r = parseWebhook(QByteArray::fromStdString(body.dump()));
    if (!r)
        qFatal("unexpected parse failure: %s", qPrintable(r.error()));
    return r.value();
}

} // namespace

class TestLsPayload final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void annotationCreated();
    void annotationUpdated();
    void annotationsCreatedList();
    void annotationsDeleted();
    void tasksDeleted();
    void tasksCreated();
    void projectUpdated();
    void startTrainingWithoutAnnotation();
    void unknownAction();
    void taskFromList();
    void canonicalResult();
    void idsAsStrings();
    void malformed_data();
    void malformed();
    void lsTime_data();
    void lsTime();
};

void TestLsPayload::annotationCreated()
{
    const ChangeSet c = parsed({{"action", "ANNOTATION_CREATED"},
                                {"annotation", annotation(41, 7, "Positive")},
                                {"task", task(7, "I loved it")},
                                {"project", project()}});
    QCOMPARE(c.action, QStringLiteral("ANNOTATION_CREATED"));
    QCOMPARE(c.labelConfig, QString::fromUtf8(kConfig));
    QCOMPARE(c.tasks.size(), std::size_t(1));
    QCOMPARE(c.tasks[0].id, 7);
    QVERIFY(json::parse(c.tasks[0].dataJson) == (json{{"text", "I loved it"}}));
    QVERIFY(!c.tasks[0].annotationsComplete); // a webhook never says the task's whole list
    QCOMPARE(c.tasks[0].annotations.size(), std::size_t(1));
    const auto &a = c.tasks[0].annotations[0];
    QCOMPARE(a.id, 41);
    QCOMPARE(a.taskId, 7);
    QVERIFY(!a.cancelled);
    QVERIFY(!a.groundTruth);
    QCOMPARE(a.updatedAtMs, QDateTime(QDate(2026, 11, 25), QTime(10, 1, 2, 123), Qt::UTC).toMSecsSinceEpoch());
    // Only what the result means is kept: no region id, no origin.
    const json result = json::parse(a.resultJson);
    QCOMPARE(result.size(), std::size_t(1));
    QVERIFY(!result[0].contains("id"));
    QVERIFY(!result[0].contains("origin"));
    QVERIFY(result[0]["value"]["choices"][0] == json("Positive"));
    QVERIFY(c.annotations.empty());
    QVERIFY(c.touchesAnnotations());
    QVERIFY(!c.startTraining);
}

void TestLsPayload::annotationUpdated()
{
    json a = annotation(41, 7, "Negative", "2026-11-25T11:00:00.5Z");
    a["was_cancelled"] = true;
    a["ground_truth"] = true;
    // Without a task object the annotation's own "task" says where it belongs.
    const ChangeSet c = parsed({{"action", "ANNOTATION_UPDATED"}, {"annotation", a}, {"project", project()}});
    QVERIFY(c.tasks.empty());
    QCOMPARE(c.annotations.size(), std::size_t(1));
    QCOMPARE(c.annotations[0].taskId, 7);
    QVERIFY(c.annotations[0].cancelled);
    QVERIFY(c.annotations[0].groundTruth);
    QCOMPARE(c.annotations[0].updatedAtMs, QDateTime(QDate(2026, 11, 25), QTime(11, 0, 0, 500), Qt::UTC).toMSecsSinceEpoch());
}

void TestLsPayload::annotationsCreatedList()
{
    // Data Manager "predictions -> annotations": lists under the singular keys.
    const ChangeSet c = parsed({{"action", "ANNOTATIONS_CREATED"},
                                {"annotation", json::array({annotation(1, 10, "Positive"), annotation(2, 11, "Negative"),
                                                            annotation(3, 10, "Negative")})},
                                {"task", json::array({task(10, "first"), task(11, "second")})},
                                {"project", project()}});
    QCOMPARE(c.tasks.size(), std::size_t(2));
    QCOMPARE(c.tasks[0].id, 10);
    QCOMPARE(c.tasks[0].annotations.size(), std::size_t(2));
    QCOMPARE(c.tasks[0].annotations[0].id, 1);
    QCOMPARE(c.tasks[0].annotations[1].id, 3);
    QCOMPARE(c.tasks[1].annotations.size(), std::size_t(1));
    QCOMPARE(c.tasks[1].annotations[0].id, 2);
    QVERIFY(c.annotations.empty());

    // An annotation whose task is not in the list is kept on its own, not lost.
    const ChangeSet d = parsed({{"action", "ANNOTATIONS_CREATED"},
                                {"annotation", json::array({annotation(5, 50, "Positive"), annotation(6, 60, "Positive")})},
                                {"task", json::array({task(50, "x")})}});
    QCOMPARE(d.tasks.size(), std::size_t(1));
    QCOMPARE(d.tasks[0].annotations.size(), std::size_t(1));
    QCOMPARE(d.annotations.size(), std::size_t(1));
    QCOMPARE(d.annotations[0].id, 6);
    QCOMPARE(d.annotations[0].taskId, 60);
}

void TestLsPayload::annotationsDeleted()
{
    const ChangeSet c = parsed({{"action", "ANNOTATIONS_DELETED"},
                                {"annotations", json::array({json{{"id", 4}}, json{{"id", 9}}})},
                                {"project", project()}});
    QCOMPARE(c.deletedAnnotations, (std::vector<qint64>{4, 9}));
    QVERIFY(c.touchesAnnotations());
    const ChangeSet one = parsed({{"action", "ANNOTATION_DELETED"}, {"annotation", {{"id", 12}}}});
    QCOMPARE(one.deletedAnnotations, (std::vector<qint64>{12}));
    // Junk entries are skipped, the rest is kept.
    const ChangeSet junk = parsed({{"action", "ANNOTATIONS_DELETED"},
                                   {"annotations", json::array({json{{"id", -1}}, json("x"), json{{"id", 13}}, nullptr})}});
    QCOMPARE(junk.deletedAnnotations, (std::vector<qint64>{13}));
}

void TestLsPayload::tasksDeleted()
{
    const ChangeSet c = parsed({{"action", "TASKS_DELETED"}, {"tasks", json::array({json{{"id", 70}}, json{{"id", 71}}})}, {"project", project()}});
    QCOMPARE(c.deletedTasks, (std::vector<qint64>{70, 71}));
    QVERIFY(c.tasks.empty());
    QVERIFY(c.touchesAnnotations());
}

void TestLsPayload::tasksCreated()
{
    json noData = json{{"id", 92}};
    const ChangeSet c = parsed({{"action", "TASKS_CREATED"},
                                {"tasks", json::array({task(90, "new one"), task(91, "another"), noData})},
                                {"project", project()}});
    QCOMPARE(c.tasks.size(), std::size_t(2)); // the one without data waits for reconcile
    QCOMPARE(c.tasks[1].id, 91);
    QVERIFY(c.tasks[0].annotations.empty());
    QVERIFY(!c.touchesAnnotations());
}

void TestLsPayload::projectUpdated()
{
    json p = project();
    p["label_config"] = "<View><Text name=\"t\" value=\"$t\"/></View>";
    const ChangeSet c = parsed({{"action", "PROJECT_UPDATED"}, {"project", p}});
    QVERIFY(c.projectUpdated);
    QCOMPARE(c.labelConfig, QStringLiteral("<View><Text name=\"t\" value=\"$t\"/></View>"));
    QVERIFY(!c.touchesAnnotations());
}

void TestLsPayload::startTrainingWithoutAnnotation()
{
    // What POST /api/ml/{id}/train sends: no annotation at all (the reference backend crashes here).
    const ChangeSet c = parsed({{"action", "START_TRAINING"}, {"project", project()}});
    QVERIFY(c.startTraining);
    QVERIFY(c.tasks.empty());
    QVERIFY(c.annotations.empty());
    QVERIFY(!c.touchesAnnotations());
    QCOMPARE(c.labelConfig, QString::fromUtf8(kConfig));
    // The older test shape with an "annotation": {"project": 1} is fine as well.
    const ChangeSet old = parsed({{"action", "START_TRAINING"}, {"annotation", {{"project", 1}}}, {"project", {{"id", 1}}}});
    QVERIFY(old.startTraining);
}

void TestLsPayload::unknownAction()
{
    const ChangeSet c = parsed({{"action", "REVIEW_CREATED"}, {"review", {{"id", 1}}}});
    QCOMPARE(c.action, QStringLiteral("REVIEW_CREATED"));
    QVERIFY(!c.touchesAnnotations());
    QVERIFY(!c.startTraining);
    QVERIFY(!c.projectUpdated);
}

void TestLsPayload::taskFromList()
{
    json t = task(7, "I loved it");
    t["annotations"] = json::array({annotation(41, 7, "Positive"), annotation(42, 7, "Negative")});
    t["predictions"] = json::array();
    t["drafts"] = json::array();
    const auto r = parseTask(t);
    QVERIFY2(r, qPrintable(r.error()));
    QVERIFY(r->annotationsComplete);
    QCOMPARE(r->annotations.size(), std::size_t(2));
    QCOMPARE(r->updatedAtMs, QDateTime(QDate(2026, 11, 25), QTime(10, 1, 2, 200), Qt::UTC).toMSecsSinceEpoch());

    json empty = task(8, "nothing yet");
    empty["annotations"] = json::array();
    const auto e = parseTask(empty);
    QVERIFY(e);
    QVERIFY(e->annotationsComplete); // an empty list says "no annotations", not "unknown"
    json without = task(9, "no list");
    const auto w = parseTask(without);
    QVERIFY(w);
    QVERIFY(!w->annotationsComplete);

    json bad = task(10, "bad annotation");
    bad["annotations"] = json::array({json{{"result", json::array()}}});
    const auto b = parseTask(bad);
    QVERIFY(!b);
    QVERIFY2(b.error().contains(QLatin1String("id")), qPrintable(b.error()));
    QVERIFY(!parseTask(json::array()));
    QVERIFY(!parseTask(json{{"id", 3}, {"data", "text"}}));
}

void TestLsPayload::canonicalResult()
{
    // The same meaning written two ways (key order, extra keys, region id) gives the same string.
    json a = annotation(1, 7, "Positive");
    json b = annotation(1, 7, "Positive");
    b["result"] = json::parse(R"([{"from_name": "sentiment", "value": {"choices": ["Positive"]}, "to_name": "text",
                                   "type": "choices", "id": "OTHER", "origin": "prediction-changed", "readonly": false}])");
    const ChangeSet ca = parsed({{"action", "ANNOTATION_CREATED"}, {"annotation", a}});
    const ChangeSet cb = parsed({{"action", "ANNOTATION_UPDATED"}, {"annotation", b}});
    QCOMPARE(ca.annotations[0].resultJson, cb.annotations[0].resultJson);
    // From the task list the same.
    json t = task(7, "x");
    t["annotations"] = json::array({b});
    QCOMPARE(parseTask(t)->annotations[0].resultJson, ca.annotations[0].resultJson);
    // A different meaning gives a different string.
    const ChangeSet cn = parsed({{"action", "ANNOTATION_UPDATED"}, {"annotation", annotation(1, 7, "Negative")}});
    QVERIFY(cn.annotations[0].resultJson != ca.annotations[0].resultJson);
    // No result / null result: an empty list.
    json none = annotation(2, 7, "Positive");
    none["result"] = nullptr;
    QCOMPARE(parsed({{"action", "ANNOTATION_CREATED"}, {"annotation", none}}).annotations[0].resultJson, std::string("[]"));
}

void TestLsPayload::idsAsStrings()
{
    json a = annotation(41, 7, "Positive");
    a["id"] = "41";
    a["task"] = "7";
    const ChangeSet c = parsed({{"action", "ANNOTATION_CREATED"}, {"annotation", a}});
    QCOMPARE(c.annotations[0].id, 41);
    QCOMPARE(c.annotations[0].taskId, 7);
}

void TestLsPayload::malformed_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("mention");
    QTest::newRow("not json") << QByteArray("{\"action\": ") << "JSON";
    QTest::newRow("empty") << QByteArray("") << "JSON";
    QTest::newRow("binary") << QByteArray("\x00\xff\xfe", 3) << "JSON";
    QTest::newRow("list") << QByteArray("[1,2]") << "object";
    QTest::newRow("string") << QByteArray("\"ANNOTATION_CREATED\"") << "object";
    QTest::newRow("no action") << QByteArray(R"({"annotation": {"id": 1, "task": 2}})") << "action";
    QTest::newRow("action number") << QByteArray(R"({"action": 5})") << "action";
    QTest::newRow("created without annotation") << QByteArray(R"({"action": "ANNOTATION_CREATED", "project": {"id": 1}})") << "annotation";
    QTest::newRow("annotation string") << QByteArray(R"({"action": "ANNOTATION_CREATED", "annotation": "x"})") << "object";
    QTest::newRow("annotation no id") << QByteArray(R"({"action": "ANNOTATION_CREATED", "annotation": {"task": 2, "result": []}})") << "id";
    QTest::newRow("annotation no task") << QByteArray(R"({"action": "ANNOTATION_CREATED", "annotation": {"id": 2, "result": []}})") << "task";
    QTest::newRow("result object") << QByteArray(R"({"action": "ANNOTATION_UPDATED", "annotation": {"id": 2, "task": 3, "result": {"a": 1}}})") << "result";
    QTest::newRow("task without data") << QByteArray(R"({"action": "ANNOTATION_CREATED", "annotation": {"id": 2, "task": 3}, "task": {"id": 3}})") << "data";
    QTest::newRow("task list of junk") << QByteArray(R"({"action": "ANNOTATIONS_CREATED", "annotation": [{"id": 2, "task": 3}], "task": [7]})") << "object";
    QTest::newRow("huge id") << QByteArray(R"({"action": "ANNOTATION_CREATED", "annotation": {"id": 1e400, "task": 3}})") << "JSON";
}

void TestLsPayload::malformed()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, mention);
    const auto r = parseWebhook(body);
    QVERIFY(!r);
    QVERIFY2(r.error().contains(mention), qPrintable(r.error()));
    QVERIFY2(r.error().endsWith(QLatin1Char('.')), qPrintable(r.error()));
}

void TestLsPayload::lsTime_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<qint64>("ms");
    const qint64 base = QDateTime(QDate(2026, 11, 25), QTime(10, 1, 2), Qt::UTC).toMSecsSinceEpoch();
    QTest::newRow("microseconds Z") << "2026-11-25T10:01:02.123456Z" << base + 123;
    QTest::newRow("microseconds round down") << "2026-11-25T10:01:02.999999Z" << base + 999;
    QTest::newRow("milliseconds") << "2026-11-25T10:01:02.123Z" << base + 123;
    QTest::newRow("one digit") << "2026-11-25T10:01:02.5Z" << base + 500;
    QTest::newRow("no fraction") << "2026-11-25T10:01:02Z" << base;
    QTest::newRow("offset") << "2026-11-25T12:01:02.123456+02:00" << base + 123;
    QTest::newRow("empty") << "" << qint64(0);
    QTest::newRow("garbage") << "yesterday" << qint64(0);
    QTest::newRow("dot only") << "." << qint64(0);
}

void TestLsPayload::lsTime()
{
    QFETCH(QString, text);
    QFETCH(qint64, ms);
    QCOMPARE(parseLsTime(text.toStdString()), ms);
}

QTEST_GUILESS_MAIN(TestLsPayload)
#include "tst_lspayload.moc"
