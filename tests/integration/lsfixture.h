#pragma once
// Test-side access to the fixture Label Studio (tests/integration/labelstudio_fixture.py):
// reads the env file it wrote and offers small synchronous helpers to set up server state
// through Label Studio's own API. Header-only; used by integration and GUI tests.
#include "labelstudio/labelstudioclient.h"
#include "labelstudio/syncwait.h"

#include <QFile>
#include <QEventLoop>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTest>
#include <QUrl>

#include <nlohmann/json.hpp>

namespace loopdeck::testing {

struct LsFixture {
    QUrl url;
    QString token;    // legacy key of the preset user
    QString username;
    QString password;

    bool isValid() const { return url.isValid() && !token.isEmpty(); }

    static LsFixture load() { return loadFrom(QStringLiteral(LOOPDECK_LS_ENV)); }

    // The env file labelstudio_fixture.py wrote (a second server a suite starts for itself).
    static LsFixture loadFrom(const QString &envFile)
    {
        LsFixture f;
        QFile file(envFile);
        if (!file.open(QIODevice::ReadOnly))
            return f;
        QHash<QString, QString> values;
        for (const QByteArray &line : file.readAll().split('\n')) {
            const int eq = line.indexOf('=');
            if (eq > 0)
                values.insert(QString::fromUtf8(line.left(eq)), QString::fromUtf8(line.mid(eq + 1)));
        }
        f.url = QUrl(values.value(QStringLiteral("URL")));
        f.token = values.value(QStringLiteral("TOKEN"));
        f.username = values.value(QStringLiteral("USERNAME"));
        f.password = values.value(QStringLiteral("PASSWORD"));
        return f;
    }
};

// Fails the calling test (QVERIFY-style) when the fixture is not there.
#define LOOPDECK_REQUIRE_FIXTURE(f)                                                                            \
    do {                                                                                                        \
        f = loopdeck::testing::LsFixture::load();                                                               \
        QVERIFY2(f.isValid(), "Label Studio fixture env missing: run through ctest (fixture labelstudio/start)"); \
    } while (0)

// A text-classification project with `texts` imported and, for the first labels.size() tasks,
// one annotation each choosing labels[i] (an empty label makes a skipped annotation).
// The loop's key of a Label Studio project: "<id>.<created_at>", as Label Studio names it to a
// backend (core/backend/projectkey.h).
inline QString keyOf(const labelstudio::Project &project)
{
    return QString::number(project.id) + QLatin1Char('.') + QString::number(project.createdAt.toSecsSinceEpoch());
}

struct SeededProject {
    labelstudio::Project project;
    QList<int> taskIds;
};

inline QString sentimentConfig()
{
    return QStringLiteral(
        "<View><Text name=\"text\" value=\"$text\"/>"
        "<Choices name=\"sentiment\" toName=\"text\" choice=\"single\">"
        "<Choice value=\"Positive\"/><Choice value=\"Negative\"/><Choice value=\"Neutral\"/></Choices></View>");
}

// An annotation of sentimentConfig(): the one choice `label`, as Label Studio's API takes it.
inline QByteArray sentimentAnnotation(const QString &label)
{
    const QJsonObject value{{QStringLiteral("choices"), QJsonArray{label}}};
    const QJsonObject result{{QStringLiteral("from_name"), QStringLiteral("sentiment")},
                             {QStringLiteral("to_name"), QStringLiteral("text")},
                             {QStringLiteral("type"), QStringLiteral("choices")},
                             {QStringLiteral("value"), value}};
    return QJsonDocument(QJsonObject{{QStringLiteral("result"), QJsonArray{result}}}).toJson(QJsonDocument::Compact);
}

inline SeededProject seedProject(labelstudio::LabelStudioClient &client, const QString &title,
                                 const QStringList &texts, const QStringList &labels,
                                 const QString &config = sentimentConfig(), QString *error = nullptr)
{
    using namespace labelstudio;
    SeededProject out;
    auto fail = [&](const LsError &e) {
        if (error)
            *error = e.message();
        return out;
    };
    auto [project, e1] = syncWait<Project>([&](auto cb) { client.createProject(title, config, cb); });
    if (e1.isError())
        return fail(e1);
    out.project = project;
    auto tasks = nlohmann::json::array();
    for (const QString &t : texts)
        tasks.push_back({{"text", t.toStdString()}});
    auto [imported, e2] = syncWait<ImportResult>(
        [&](auto cb) { client.importTasks(project.id, QByteArray::fromStdString(tasks.dump()), cb); });
    if (e2.isError())
        return fail(e2);
    out.taskIds = imported.taskIds;
    for (int i = 0; i < labels.size() && i < imported.taskIds.size(); ++i) {
        nlohmann::json ann;
        if (labels[i].isEmpty()) {
            ann = {{"result", nlohmann::json::array()}, {"was_cancelled", true}};
        } else {
            ann = {{"result",
                    {{{"from_name", "sentiment"}, {"to_name", "text"}, {"type", "choices"},
                      {"value", {{"choices", {labels[i].toStdString()}}}}}}}};
        }
        auto [body, e3] = syncWait<QByteArray>([&](auto cb) {
            client.createAnnotation(imported.taskIds[i], QByteArray::fromStdString(ann.dump()), cb);
        });
        if (e3.isError())
            return fail(e3);
    }
    return out;
}

// One HTTP call to LoopDeck's backend (JSON in, JSON out), waited for in a local event loop.
struct Http {
    int status = 0; // 0 = no answer
    QJsonObject json;
    QByteArray body;
};

// `authorization`: the Authorization header to send (none when empty).
inline Http call(const QByteArray &verb, const QUrl &url, const QByteArray &body = {}, const QByteArray &authorization = {})
{
    QNetworkAccessManager nam;
    QNetworkRequest request(url);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    if (!authorization.isEmpty())
        request.setRawHeader("Authorization", authorization);
    request.setTransferTimeout(20000);
    QNetworkReply *reply = nam.sendCustomRequest(request, verb, body);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    Http h;
    h.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    h.body = reply->readAll();
    h.json = QJsonDocument::fromJson(h.body).object();
    reply->deleteLater();
    return h;
}

} // namespace loopdeck::testing
