#pragma once
// Label Studio 1.23.2's webhook bodies for unit tests that feed a loop without a Label Studio:
// ANNOTATION_CREATED / ANNOTATION_UPDATED with the whole project, task and annotation objects,
// a two-class sentiment label config, and seeded sentences with a clear sentiment.
#include <QDateTime>
#include <QString>
#include <QStringList>

#include <nlohmann/json.hpp>

#include <random>

namespace loopdeck::test {

inline const QString kConfig = QStringLiteral(
    "<View><Text name=\"text\" value=\"$text\"/><Choices name=\"sentiment\" toName=\"text\" choice=\"single\">"
    "<Choice value=\"Positive\"/><Choice value=\"Negative\"/></Choices></View>");

// Sentences with a clear sentiment word mix, seeded.
inline QString sentence(std::mt19937 &rng, bool positive)
{
    static const QStringList pos = {QStringLiteral("great"), QStringLiteral("wonderful"), QStringLiteral("loved"),
                                    QStringLiteral("excellent"), QStringLiteral("superb"), QStringLiteral("delightful")};
    static const QStringList neg = {QStringLiteral("awful"), QStringLiteral("terrible"), QStringLiteral("hated"),
                                    QStringLiteral("boring"), QStringLiteral("dreadful"), QStringLiteral("broken")};
    static const QStringList filler = {QStringLiteral("the"), QStringLiteral("film"), QStringLiteral("was"),
                                       QStringLiteral("really"), QStringLiteral("and"), QStringLiteral("plot"),
                                       QStringLiteral("acting"), QStringLiteral("today")};
    QStringList words;
    const int n = 6 + int(rng() % 5);
    for (int i = 0; i < n; ++i)
        words << (rng() % 3 == 0 ? (positive ? pos : neg)[qsizetype(rng() % 6)] : filler[qsizetype(rng() % filler.size())]);
    words << (positive ? pos : neg)[qsizetype(rng() % 6)];
    return words.join(QLatin1Char(' '));
}

inline QString lsTime(int second)
{
    return QDateTime(QDate(2026, 11, 25), QTime(10, 0), Qt::UTC).addSecs(second).toString(Qt::ISODateWithMs).replace(
        QStringLiteral("Z"), QStringLiteral("123Z"));
}

// A webhook body the way Label Studio 1.23.2 sends ANNOTATION_CREATED / ANNOTATION_UPDATED, with
// the given project object (Label Studio sends the whole project, created_at included).
inline QByteArray annotationEvent(const char *action, const nlohmann::json &projectJson, qint64 taskId, qint64 annotationId,
                           const QString &text, const QString &label, int second)
{
    const qint64 project = projectJson.value("id", qint64(0));
    const nlohmann::json annotation = {{"id", annotationId},
                             {"result", nlohmann::json::array({nlohmann::json{{"id", "r" + std::to_string(annotationId)},
                                                          {"type", "choices"},
                                                          {"value", {{"choices", nlohmann::json::array({label.toStdString()})}}},
                                                          {"origin", "manual"},
                                                          {"to_name", "text"},
                                                          {"from_name", "sentiment"}}})},
                             {"created_username", " annotator@example.com, 1"},
                             {"created_ago", "0 minutes"},
                             {"completed_by", 1},
                             {"was_cancelled", false},
                             {"ground_truth", false},
                             {"created_at", lsTime(0).toStdString()},
                             {"updated_at", lsTime(second).toStdString()},
                             {"draft_created_at", nullptr},
                             {"lead_time", 2.5},
                             {"import_id", nullptr},
                             {"last_action", nullptr},
                             {"bulk_created", false},
                             {"task", taskId},
                             {"project", project},
                             {"updated_by", 1},
                             {"parent_prediction", nullptr},
                             {"parent_annotation", nullptr},
                             {"last_created_by", nullptr}};
    const nlohmann::json task = {{"id", taskId},
                       {"data", {{"text", text.toStdString()}}},
                       {"meta", nlohmann::json::object()},
                       {"created_at", lsTime(0).toStdString()},
                       {"updated_at", lsTime(second).toStdString()},
                       {"is_labeled", true},
                       {"overlap", 1},
                       {"inner_id", taskId},
                       {"total_annotations", 1},
                       {"cancelled_annotations", 0},
                       {"total_predictions", 0},
                       {"project", project},
                       {"updated_by", 1},
                       {"file_upload", nullptr}};
    const nlohmann::json body = {{"action", action}, {"annotation", annotation}, {"task", task}, {"project", projectJson}};
    return QByteArray::fromStdString(body.dump());
}

inline QByteArray annotationEvent(const char *action, qint64 project, qint64 taskId, qint64 annotationId, const QString &text,
                           const QString &label, int second)
{
    return annotationEvent(action, nlohmann::json{{"id", project}, {"title", "Reviews"}, {"label_config", kConfig.toStdString()}}, taskId,
                           annotationId, text, label, second);
}

} // namespace loopdeck::test
