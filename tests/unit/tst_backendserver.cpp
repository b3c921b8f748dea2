// BackendServer against real HTTP: the real server on a free loopback port, hit with
// QNetworkAccessManager (and a raw socket where QNAM cannot send the request). Covers every
// route, the ml-backend conformance bodies, every kind of bad input, Basic auth, the bind
// policy and a busy port.
#include "core/backend/backendapi.h"
#include "core/backend/backendserver.h"
#include "core/backend/modelregistry.h"
#include "core/backend/predictionservice.h"
#include "core/model/textclassifier.h"

#include <QEventLoop>
#include <QHostInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <QElapsedTimer>
#include <QSet>
#include <QThread>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

using loopdeck::backend::BackendServer;
using loopdeck::backend::ModelRegistry;
using loopdeck::backend::PredictionService;
using loopdeck::backend::RequestRecord;
using loopdeck::backend::ServerConfig;
using loopdeck::backend::WebhookEvent;
using loopdeck::model::Example;
using loopdeck::model::TextClassifier;

namespace {

const QByteArray kSentimentConfig =
    R"(<View><Text name=\"text\" value=\"$text\"/><Choices name=\"sentiment\" toName=\"text\" choice=\"single\" showInLine=\"true\"><Choice value=\"Positive\"/><Choice value=\"Negative\"/><Choice value=\"Neutral\"/></Choices></View>)";

std::shared_ptr<const TextClassifier> sentimentModel()
{
    QList<Example> examples;
    for (const char *t : {"good great excellent", "great movie, loved it", "excellent and good", "that is positive", "good good"})
        examples.append(Example{QString::fromUtf8(t), {QStringLiteral("Positive")}});
    for (const char *t : {"bad awful terrible", "awful movie, hated it", "terrible and bad", "that is negative", "bad bad"})
        examples.append(Example{QString::fromUtf8(t), {QStringLiteral("Negative")}});
    QString error;
    auto model = TextClassifier::train(examples, {}, &error);
    if (!model)
        qFatal("cannot train the test model: %s", qPrintable(error));
    return model;
}

struct Reply {
    int status = 0;
    QByteArray body;
    QJsonObject json;
    bool isJsonObject = false;
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
    QHash<QByteArray, QByteArray> headers; // lower-case names
};

} // namespace

class TestBackendServer final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();

    void healthAndRoot();
    void conformanceBodies_data();
    void conformanceBodies();
    void setupStoresConfigAndReportsVersion();
    void predictWithModel();
    void predictBeforeModelIsEmpty();
    void webhookAnswersAndSignals();
    void versionsRoute();
    void metricsRoute();
    void requestLogSignal();
    void sloppyPathsAreForgiven();
    void badInput_data();
    void badInput();
    void unknownRouteIs404();
    void wrongMethodIs405();
    void bodyOverLimitIs413();
    void declaredHugeBodyIs413BeforeUpload();
    void basicAuth();
    void nonLoopbackBindRefusedWithoutAuth();
    void busyPortIsNamedWithAFreeOne();
    void restartOnSamePort();
    void severalThreadsServeConcurrently();
    void crossSiteRequestsChangeNothing_data();
    void crossSiteRequestsChangeNothing();
    void allowedOriginIsServed();
    void optionsGrantsNoCors();
    void chunkedIs411AndCannotSmuggle();
    void unauthenticatedRefusedBeforeBody();
    void webhookSecret();
    void deepJsonIs413_data();
    void deepJsonIs413();
    void tooManyElementsIs413();
    void allocationFailureIs503AndServerLives();
    void connectionCap();
    void setupReportsTheVersionPredictTags();
    void noSurvivingChoiceGetsNoPrediction();
    void webhookEventsTheLoopAppliesAreOk_data();
    void webhookEventsTheLoopAppliesAreOk();
    void foreignHostRefusedOnEveryRoute_data();
    void foreignHostRefusedOnEveryRoute();
    void ownHostsAreServed_data();
    void ownHostsAreServed();

private:
    // Sends raw bytes on a new connection and returns everything the server answers until it
    // closes the connection or `waitMs` pass without a complete answer.
    static QByteArray raw(quint16 port, const QByteArray &bytes, int waitMs = 5000);
    static int statusOf(const QByteArray &answer) { return answer.mid(9, 3).toInt(); }
    Reply send(const QByteArray &method, const QString &path, const QByteArray &body = {}, quint16 port = 0,
               const QByteArray &authorization = {});
    static void verifyError(const Reply &reply, int status, const char *mustContain = nullptr);

    QTemporaryDir m_dir;
    std::shared_ptr<PredictionService> m_service;
    std::unique_ptr<BackendServer> m_server;
    QNetworkAccessManager m_nam;
    quint16 m_port = 0;
};

QByteArray TestBackendServer::raw(quint16 port, const QByteArray &bytes, int waitMs)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000))
        return {};
    socket.write(bytes);
    QByteArray answer;
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < waitMs) {
        const qsizetype end = answer.indexOf("\r\n\r\n");
        if (end > 0) {
            const qsizetype at = answer.toLower().indexOf("content-length: ");
            if (at > 0 && at < end) {
                const qint64 length = answer.mid(at + 16, answer.indexOf("\r\n", at) - at - 16).toLongLong();
                if (answer.size() >= end + 4 + length)
                    break;
            }
        }
        if (socket.waitForReadyRead(100))
            answer += socket.readAll();
        else if (socket.state() != QAbstractSocket::ConnectedState)
            break;
    }
    answer += socket.readAll();
    return answer;
}

Reply TestBackendServer::send(const QByteArray &method, const QString &path, const QByteArray &body, quint16 port,
                              const QByteArray &authorization)
{
    QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(port ? port : m_port).arg(path)));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    if (!authorization.isEmpty())
        request.setRawHeader("Authorization", authorization);
    request.setTransferTimeout(10000);
    QNetworkReply *reply = m_nam.sendCustomRequest(request, method, body);
    QEventLoop loop;
    connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    Reply r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = reply->readAll();
    r.error = reply->error();
    for (const auto &h : reply->rawHeaderPairs())
        r.headers.insert(h.first.toLower(), h.second);
    const QJsonDocument doc = QJsonDocument::fromJson(r.body);
    r.isJsonObject = doc.isObject();
    r.json = doc.object();
    reply->deleteLater();
    return r;
}

void TestBackendServer::verifyError(const Reply &reply, int status, const char *mustContain)
{
    QVERIFY2(reply.status == status,
             qPrintable(QStringLiteral("expected %1, got %2: %3").arg(status).arg(reply.status).arg(QString::fromUtf8(reply.body))));
    QVERIFY2(reply.isJsonObject, reply.body.constData());
    QVERIFY(reply.headers.value("content-type").startsWith("application/json"));
    QCOMPARE(reply.json.value(QStringLiteral("status")).toInt(), status);
    const QString message = reply.json.value(QStringLiteral("error")).toString();
    QVERIFY2(message.size() > 10, reply.body.constData());
    if (mustContain)
        QVERIFY2(message.contains(QLatin1String(mustContain)), qPrintable(message));
}

void TestBackendServer::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_service = std::make_shared<PredictionService>(std::make_shared<ModelRegistry>(m_dir.path()));
    m_server = std::make_unique<BackendServer>(m_service);
    ServerConfig config;
    config.port = 0; // a free port chosen by the system
    config.dataDir = m_dir.path();
    config.maxBodyBytes = 1024 * 1024;
    QSignalSpy listening(m_server.get(), &BackendServer::listening);
    QString error;
    QVERIFY2(m_server->start(config, &error), qPrintable(error));
    QVERIFY(m_server->isListening());
    m_port = m_server->port();
    QVERIFY(m_port != 0);
    QCOMPARE(listening.count(), 1);
    QCOMPARE(listening.at(0).at(1).value<quint16>(), m_port);

    // Project 7 (Label Studio's key "7.1700000000") has a model; its sidecar makes it a registry
    // version too. Requests that say only "7" mean that project (the one known with id 7).
    QString publishError;
    loopdeck::backend::NewModelVersion meta;
    meta.target = QStringLiteral("sentiment");
    QVERIFY2(m_service->publish(QStringLiteral("7.1700000000"), sentimentModel(), meta, &publishError), qPrintable(publishError));
}

void TestBackendServer::cleanupTestCase()
{
    QSignalSpy stopped(m_server.get(), &BackendServer::stopped);
    m_server->stop();
    QCOMPARE(stopped.count(), 1);
    QVERIFY(!m_server->isListening());
    m_server->stop(); // twice is harmless
    QCOMPARE(stopped.count(), 1);
}

void TestBackendServer::healthAndRoot()
{
    for (const QString &path : {QStringLiteral("/health"), QStringLiteral("/")}) {
        const Reply r = send("GET", path);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json.value(QStringLiteral("status")).toString(), QStringLiteral("UP"));
        QCOMPARE(r.json.value(QStringLiteral("model_class")).toString(), QStringLiteral("LoopDeck"));
        QVERIFY(r.headers.value("content-type").startsWith("application/json"));
    }
}

void TestBackendServer::conformanceBodies_data()
{
    QTest::addColumn<bool>("withModel");
    QTest::newRow("before any model") << false;
    QTest::newRow("with a model") << true;
}

void TestBackendServer::conformanceBodies()
{
    QFETCH(bool, withModel);
    auto service = std::make_shared<PredictionService>();
    if (withModel) {
        // Like `serve --model 1=...`: project 1 (and requests without a project) have a model.
        service->installModel(QStringLiteral("1"), sentimentModel(), 1);
        service->installModel(QString(), sentimentModel(), 1);
    }
    BackendServer server(service);
    ServerConfig config;
    config.port = 0;
    QVERIFY(server.start(config));
    const auto send = [&](const QByteArray &method, const QString &path, const QByteArray &body = {}) {
        return this->send(method, path, body, server.port());
    };
    // B4.2 test_setup
    Reply r = send("POST", QStringLiteral("/setup"),
                   R"({"project": "1.1000000000", "schema": "<View></View>", "extra_params": {}})");
    QCOMPARE(r.status, 200);
    QVERIFY(r.json.value(QStringLiteral("model_version")).isString());
    // B4.3 test_predict: "tasks" is a single object
    r = send("POST", QStringLiteral("/predict"),
             R"({"tasks": {"id": 1}, "label_config": "<View></View>", "project": "1.1000000000", "params": {"context": {}}})");
    QCOMPARE(r.status, 200);
    QVERIFY(r.json.value(QStringLiteral("results")).isArray());
    // B4.4 test_webhook
    r = send("POST", QStringLiteral("/webhook"),
             R"({"action": "ANNOTATION_CREATED", "project": {"id": 1, "label_config": "<View></View>"}})");
    QCOMPARE(r.status, 201);
    // B4.5 test_basic: GET / and /health, setup with hostname and access token
    QCOMPARE(send("GET", QStringLiteral("/")).status, 200);
    QCOMPARE(send("GET", QStringLiteral("/health")).status, 200);
    r = send("POST", QStringLiteral("/setup"),
             R"({"project": "1.1654592272", "schema": ")" + kSentimentConfig
                 + R"(", "hostname": "http://localhost:8080", "access_token": "0123456789abcdef0123456789abcdef01234567"})");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("model_version")).toString(),
             withModel ? QStringLiteral("loopdeck-v1") : QStringLiteral("loopdeck-v0"));
    QCOMPARE(r.json.value(QStringLiteral("servable")).toBool(), true);
    // B4.6 sklearn example: no project, a list of tasks
    r = send("POST", QStringLiteral("/predict"),
             R"({"tasks": [{"data": {"text": "That is positive!"}}], "label_config": ")" + kSentimentConfig + R"("})");
    QCOMPARE(r.status, 200);
    QVERIFY(r.json.value(QStringLiteral("results")).isArray());
    if (withModel) {
        const QJsonArray results = r.json.value(QStringLiteral("results")).toArray();
        QCOMPARE(results.size(), 1);
        QCOMPARE(results.at(0).toObject().value(QStringLiteral("result")).toArray().at(0).toObject()
                     .value(QStringLiteral("value")).toObject().value(QStringLiteral("choices")).toArray(),
                 QJsonArray{QStringLiteral("Positive")});
    } else {
        QCOMPARE(r.json.value(QStringLiteral("results")).toArray().size(), 0);
    }
    // B4.7 huggingface_ner test_fit
    r = send("POST", QStringLiteral("/webhook"),
             R"({"action": "ANNOTATION_CREATED", "project": {"id": 12345, "label_config": "<View><Labels name=\"ner\" toName=\"text\"></Labels></View>"}, "annotation": {"project": 12345}})");
    QCOMPARE(r.status, 201);
    // B4.8 timeseries segmenter: bare project id, START_TRAINING
    r = send("POST", QStringLiteral("/setup"), R"({"schema": "<View></View>", "project": "1"})");
    QCOMPARE(r.status, 200);
    r = send("POST", QStringLiteral("/webhook"),
             R"({"action": "START_TRAINING", "annotation": {"project": 1}, "project": {"id": 1, "label_config": "<View></View>"}})");
    QCOMPARE(r.status, 201);
    QCOMPARE(r.json, (QJsonObject{{QStringLiteral("status"), QStringLiteral("ok")}}));
    r = send("POST", QStringLiteral("/predict"),
             R"({"tasks": [{"id": 1, "data": {"csv_url": "/data/x.csv"}}], "label_config": "<View></View>", "project": "1"})");
    QCOMPARE(r.status, 200);
    // B4.9 /versions answers a versions list
    r = send("GET", QStringLiteral("/versions"));
    QCOMPARE(r.status, 200);
    QVERIFY(r.json.value(QStringLiteral("versions")).isArray());
    QCOMPARE(r.json.value(QStringLiteral("versions")).toArray().contains(QStringLiteral("loopdeck-v1")), withModel);
    server.stop();
}

void TestBackendServer::setupStoresConfigAndReportsVersion()
{
    const Reply r = send("POST", QStringLiteral("/setup"),
                         R"({"project": "7.1700000000", "schema": ")" + kSentimentConfig + R"(", "extra_params": null})");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("model_version")).toString(), QStringLiteral("loopdeck-v1"));
    QVERIFY(m_service->labelConfigXml(QStringLiteral("7.1700000000")).contains(QLatin1String("sentiment")));

    const Reply image = send("POST", QStringLiteral("/setup"),
                             R"({"project": "8.1", "schema": "<View><Image name=\"i\" value=\"$image\"/></View>"})");
    QCOMPARE(image.status, 200); // LS must still be able to connect
    QCOMPARE(image.json.value(QStringLiteral("servable")).toBool(), false);
    QVERIFY(!image.json.value(QStringLiteral("warning")).toString().isEmpty());
}

void TestBackendServer::predictWithModel()
{
    const Reply r = send("POST", QStringLiteral("/predict"),
                         R"({"tasks": [{"id": 11, "data": {"text": "good great"}}, {"id": 12, "data": {"text": "awful bad"}}],
                             "project": "7.1700000000", "label_config": ")" + kSentimentConfig
                             + R"(", "params": {"login": null, "password": null, "context": null}})");
    QCOMPARE(r.status, 200);
    const QJsonArray results = r.json.value(QStringLiteral("results")).toArray();
    QCOMPARE(results.size(), 2);
    const char *expected[] = {"Positive", "Negative"};
    for (int i = 0; i < 2; ++i) {
        const QJsonObject item = results.at(i).toObject();
        QCOMPARE(item.keys(), (QStringList{QStringLiteral("model_version"), QStringLiteral("result"), QStringLiteral("score")}));
        QCOMPARE(item.value(QStringLiteral("model_version")).toString(), QStringLiteral("loopdeck-v1"));
        QVERIFY(item.value(QStringLiteral("score")).toDouble() > 0.5);
        const QJsonArray regions = item.value(QStringLiteral("result")).toArray();
        QCOMPARE(regions.size(), 1);
        const QJsonObject region = regions.at(0).toObject();
        QCOMPARE(region.keys(), (QStringList{QStringLiteral("from_name"), QStringLiteral("score"), QStringLiteral("to_name"),
                                             QStringLiteral("type"), QStringLiteral("value")}));
        QCOMPARE(region.value(QStringLiteral("from_name")).toString(), QStringLiteral("sentiment"));
        QCOMPARE(region.value(QStringLiteral("to_name")).toString(), QStringLiteral("text"));
        QCOMPARE(region.value(QStringLiteral("type")).toString(), QStringLiteral("choices"));
        QCOMPARE(region.value(QStringLiteral("value")).toObject().value(QStringLiteral("choices")).toArray(),
                 QJsonArray{QLatin1String(expected[i])});
    }
}

void TestBackendServer::predictBeforeModelIsEmpty()
{
    send("POST", QStringLiteral("/setup"), R"({"project": "9.1", "schema": ")" + kSentimentConfig + R"("})");
    const Reply r = send("POST", QStringLiteral("/predict"),
                         R"({"tasks": [{"id": 1, "data": {"text": "good"}}], "project": "9.1"})");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("results")).toArray().size(), 0);
}

void TestBackendServer::webhookAnswersAndSignals()
{
    QSignalSpy spy(m_server.get(), &BackendServer::webhookReceived);
    Reply r = send("POST", QStringLiteral("/webhook"),
                   R"({"action": "ANNOTATION_UPDATED", "annotation": {"id": 3, "result": []}, "task": {"id": 4, "project": 7}, "project": {"id": 7}})");
    QCOMPARE(r.status, 201);
    QCOMPARE(r.json.value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
    r = send("POST", QStringLiteral("/webhook"), R"({"action": "PROJECT_UPDATED", "project": {"id": 7}})");
    QCOMPARE(r.status, 201);
    QCOMPARE(r.json, (QJsonObject{{QStringLiteral("status"), QStringLiteral("ok")}}));
    QTRY_COMPARE(spy.count(), 2);
    const auto first = spy.at(0).at(0).value<WebhookEvent>();
    QCOMPARE(first.action, QStringLiteral("ANNOTATION_UPDATED"));
    // A bare id is the one known project with that id (7 was set up as "7.1700000000").
    QCOMPARE(first.projectId, QStringLiteral("7.1700000000"));
    QVERIFY(first.payload.contains("\"annotation\""));
    QCOMPARE(spy.at(1).at(0).value<WebhookEvent>().action, QStringLiteral("PROJECT_UPDATED"));
}

void TestBackendServer::versionsRoute()
{
    Reply r = send("GET", QStringLiteral("/versions?project=7.1700000000"));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("versions")).toArray(), QJsonArray{QStringLiteral("loopdeck-v1")});
    r = send("GET", QStringLiteral("/versions?project=404"));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("versions")).toArray().size(), 0);
    r = send("GET", QStringLiteral("/versions"));
    QCOMPARE(r.status, 200);
    QVERIFY(r.json.value(QStringLiteral("versions")).toArray().contains(QStringLiteral("loopdeck-v1")));
    QCOMPARE(r.json.value(QStringLiteral("projects")).toObject().value(QStringLiteral("7.1700000000")).toArray(),
             QJsonArray{QStringLiteral("loopdeck-v1")});
    verifyError(send("GET", QStringLiteral("/versions?project=../etc")), 400, "project");
}

void TestBackendServer::metricsRoute()
{
    send("POST", QStringLiteral("/predict"), R"({"tasks": [{"data": {"text": "good"}}], "project": "7"})");
    send("GET", QStringLiteral("/nothing-here"));
    const Reply r = send("GET", QStringLiteral("/metrics"));
    QCOMPARE(r.status, 200);
    const QJsonObject m = r.json;
    QVERIFY(m.value(QStringLiteral("requests_total")).toDouble() >= 2);
    QVERIFY(m.value(QStringLiteral("errors_total")).toDouble() >= 1);
    QVERIFY(m.value(QStringLiteral("predictions_total")).toDouble() >= 1);
    QVERIFY(m.value(QStringLiteral("uptime_seconds")).toDouble() >= 0);
    const QJsonObject predict = m.value(QStringLiteral("routes")).toObject().value(QStringLiteral("POST /predict")).toObject();
    QVERIFY(predict.value(QStringLiteral("count")).toDouble() >= 1);
    const QJsonObject latency = predict.value(QStringLiteral("latency_ms")).toObject();
    for (const char *p : {"p50", "p90", "p99", "max"})
        QVERIFY2(latency.value(QLatin1String(p)).isDouble(), p);
    QVERIFY(latency.value(QStringLiteral("p50")).toDouble() <= latency.value(QStringLiteral("p99")).toDouble());
    QVERIFY(m.value(QStringLiteral("routes")).toObject().value(QStringLiteral("unmatched")).toObject()
                .value(QStringLiteral("errors")).toDouble() >= 1);
    QCOMPARE(m.value(QStringLiteral("active_models")).toObject().value(QStringLiteral("7.1700000000")).toString(),
             QStringLiteral("loopdeck-v1"));
    QCOMPARE(m_server->metricsJson().value(QStringLiteral("active_models")), m.value(QStringLiteral("active_models")));
}

void TestBackendServer::requestLogSignal()
{
    QTest::qWait(250); // let records of earlier tests drain first
    QSignalSpy spy(m_server.get(), &BackendServer::requestServed);
    send("GET", QStringLiteral("/health?probe=log"));
    send("POST", QStringLiteral("/predict"), R"({"tasks": [{"data": {"text": "good"}}, {"data": {"text": "bad"}}], "project": "7"})");
    QTRY_VERIFY(spy.count() >= 2);
    const auto health = spy.at(spy.count() - 2).at(0).value<RequestRecord>();
    QCOMPARE(health.method, QStringLiteral("GET"));
    QCOMPARE(health.path, QStringLiteral("/health"));
    QCOMPARE(health.status, 200);
    QVERIFY(health.latencyMs >= 0.0);
    QCOMPARE(health.peer, QStringLiteral("127.0.0.1"));
    const auto predict = spy.at(spy.count() - 1).at(0).value<RequestRecord>();
    QCOMPARE(predict.method, QStringLiteral("POST"));
    QCOMPARE(predict.path, QStringLiteral("/predict"));
    QCOMPARE(predict.tasks, 2);
}

void TestBackendServer::sloppyPathsAreForgiven()
{
    QCOMPARE(send("GET", QStringLiteral("/health/")).status, 200);
    const Reply r = send("POST", QStringLiteral("//predict"), R"({"tasks": [{"data": {"text": "good"}}], "project": "7"})");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("results")).toArray().size(), 1);
}

void TestBackendServer::badInput_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("mustContain");
    const QString predict = QStringLiteral("/predict");
    const QString setup = QStringLiteral("/setup");
    const QString webhook = QStringLiteral("/webhook");
    QTest::newRow("predict malformed json") << predict << QByteArray(R"({"tasks": [)") << QStringLiteral("not valid JSON");
    QTest::newRow("predict garbage") << predict << QByteArray("tasks=1&x=2") << QStringLiteral("not valid JSON");
    QTest::newRow("predict empty body") << predict << QByteArray() << QStringLiteral("empty");
    QTest::newRow("predict whitespace body") << predict << QByteArray("  \n") << QStringLiteral("empty");
    QTest::newRow("predict body is a list") << predict << QByteArray("[1, 2]") << QStringLiteral("JSON object");
    QTest::newRow("predict body is a string") << predict << QByteArray(R"("tasks")") << QStringLiteral("JSON object");
    QTest::newRow("predict no tasks") << predict << QByteArray(R"({"project": "7"})") << QStringLiteral("\"tasks\"");
    QTest::newRow("predict tasks is a string") << predict << QByteArray(R"({"tasks": "abc", "project": "7"})") << QStringLiteral("a string");
    QTest::newRow("predict tasks is a number") << predict << QByteArray(R"({"tasks": 42, "project": "7"})") << QStringLiteral("a number");
    QTest::newRow("predict tasks is null") << predict << QByteArray(R"({"tasks": null, "project": "7"})") << QStringLiteral("null");
    QTest::newRow("predict task is a number") << predict << QByteArray(R"({"tasks": [1], "project": "7"})") << QStringLiteral("tasks[0]");
    QTest::newRow("predict task without data") << predict << QByteArray(R"({"tasks": [{"id": 5}], "project": "7"})") << QStringLiteral("\"data\"");
    QTest::newRow("predict data is a string") << predict << QByteArray(R"({"tasks": [{"id": 5, "data": "hello"}], "project": "7"})") << QStringLiteral("\"data\"");
    QTest::newRow("predict text is a number") << predict << QByteArray(R"({"tasks": [{"id": 5, "data": {"text": 3}}], "project": "7"})") << QStringLiteral("data.text");
    QTest::newRow("predict text is null") << predict << QByteArray(R"({"tasks": [{"id": 5, "data": {"text": null}}], "project": "7"})") << QStringLiteral("data.text");
    QTest::newRow("predict text missing") << predict << QByteArray(R"({"tasks": [{"id": 5, "data": {"body": "x"}}], "project": "7"})") << QStringLiteral("missing");
    QTest::newRow("predict project is a list") << predict << QByteArray(R"({"tasks": [], "project": [7]})") << QStringLiteral("\"project\"");
    QTest::newRow("predict project is a path") << predict << QByteArray(R"({"tasks": [], "project": "../../etc"})") << QStringLiteral("\"project\"");
    QTest::newRow("predict label_config is a number") << predict << QByteArray(R"({"tasks": [], "label_config": 5})") << QStringLiteral("label_config");
    QTest::newRow("predict params is a string") << predict << QByteArray(R"({"tasks": [], "params": "x"})") << QStringLiteral("params");
    QTest::newRow("predict invalid utf-8") << predict << QByteArray("{\"tasks\": [{\"data\": {\"text\": \"\xff\xfe\"}}]}") << QStringLiteral("not valid JSON");
    QTest::newRow("setup malformed json") << setup << QByteArray("{") << QStringLiteral("not valid JSON");
    QTest::newRow("setup empty body") << setup << QByteArray() << QStringLiteral("empty");
    QTest::newRow("setup without project") << setup << QByteArray(R"({"schema": "<View/>"})") << QStringLiteral("\"project\"");
    QTest::newRow("setup project is an object") << setup << QByteArray(R"({"project": {"id": 1}})") << QStringLiteral("\"project\"");
    QTest::newRow("setup schema is a number") << setup << QByteArray(R"({"project": "1.1", "schema": 1})") << QStringLiteral("schema");
    QTest::newRow("setup body is a number") << setup << QByteArray("12") << QStringLiteral("JSON object");
    QTest::newRow("webhook malformed json") << webhook << QByteArray("{\"action\":") << QStringLiteral("not valid JSON");
    QTest::newRow("webhook empty body") << webhook << QByteArray() << QStringLiteral("empty");
    QTest::newRow("webhook without action") << webhook << QByteArray(R"({"project": {"id": 1}})") << QStringLiteral("\"action\"");
    QTest::newRow("webhook action is a number") << webhook << QByteArray(R"({"action": 3})") << QStringLiteral("\"action\"");
    QTest::newRow("webhook body is a list") << webhook << QByteArray("[]") << QStringLiteral("JSON object");
}

void TestBackendServer::badInput()
{
    QFETCH(QString, path);
    QFETCH(QByteArray, body);
    QFETCH(QString, mustContain);
    const Reply r = send("POST", path, body);
    verifyError(r, 400, mustContain.toUtf8().constData());
    // The server is still fine afterwards.
    QCOMPARE(send("GET", QStringLiteral("/health")).status, 200);
}

void TestBackendServer::unknownRouteIs404()
{
    verifyError(send("GET", QStringLiteral("/nope")), 404, "no route GET /nope");
    verifyError(send("POST", QStringLiteral("/train")), 404, "/predict");
    verifyError(send("GET", QStringLiteral("/predict/extra")), 404);
}

void TestBackendServer::wrongMethodIs405()
{
    Reply r = send("POST", QStringLiteral("/health"), "{}");
    verifyError(r, 405, "answers GET");
    QCOMPARE(r.headers.value("allow"), QByteArray("GET"));
    r = send("GET", QStringLiteral("/predict"));
    verifyError(r, 405, "answers POST");
    QCOMPARE(r.headers.value("allow"), QByteArray("POST"));
    verifyError(send("DELETE", QStringLiteral("/setup")), 405);
    verifyError(send("PUT", QStringLiteral("/webhook"), "{}"), 405);
    verifyError(send("PATCH", QStringLiteral("/metrics"), "{}"), 405);
}

void TestBackendServer::bodyOverLimitIs413()
{
    BackendServer small(m_service);
    ServerConfig config;
    config.port = 0;
    config.maxBodyBytes = 2048;
    QVERIFY(small.start(config));
    const QByteArray big = R"({"tasks": [{"data": {"text": ")" + QByteArray(4000, 'a') + R"("}}]})";
    const Reply r = send("POST", QStringLiteral("/predict"), big, small.port());
    verifyError(r, 413, "at most 2048 bytes");
    // A body just under the limit is served.
    const QByteArray fits = R"({"tasks": [{"data": {"text": ")" + QByteArray(1500, 'a') + R"("}}], "project": "7"})";
    QCOMPARE(send("POST", QStringLiteral("/predict"), fits, small.port()).status, 200);
    small.stop();
}

void TestBackendServer::declaredHugeBodyIs413BeforeUpload()
{
    // Declares 10 GB and sends none of it: the answer must come from the headers alone.
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m_port);
    QVERIFY(socket.waitForConnected(5000));
    socket.write("POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n{\"tasks\": [");
    QByteArray answer;
    QElapsedTimer timer;
    timer.start();
    while (!answer.contains("\r\n\r\n{") || !answer.endsWith('}')) {
        if (timer.elapsed() > 5000)
            break;
        if (socket.waitForReadyRead(200))
            answer += socket.readAll();
        else if (socket.state() != QAbstractSocket::ConnectedState)
            break;
    }
    answer += socket.readAll();
    QVERIFY2(answer.startsWith("HTTP/1.1 413"), answer.constData());
    const QJsonObject body = QJsonDocument::fromJson(answer.mid(answer.indexOf("\r\n\r\n") + 4)).object();
    QCOMPARE(body.value(QStringLiteral("status")).toInt(), 413);
    QVERIFY(body.value(QStringLiteral("error")).toString().contains(QLatin1String("10000000000")));
    QCOMPARE(send("GET", QStringLiteral("/health")).status, 200);
}

void TestBackendServer::basicAuth()
{
    BackendServer guarded(m_service);
    ServerConfig config;
    config.port = 0;
    config.basicAuthUser = QStringLiteral("ls");
    config.basicAuthPassword = QStringLiteral("s3cret:with colon");
    QVERIFY(guarded.start(config));
    const quint16 port = guarded.port();
    const QByteArray right = "Basic " + QByteArray("ls:s3cret:with colon").toBase64();
    const QByteArray wrong = "Basic " + QByteArray("ls:nope").toBase64();

    Reply r = send("GET", QStringLiteral("/health"), {}, port);
    verifyError(r, 401, "Basic auth");
    QVERIFY(r.headers.value("www-authenticate").startsWith("Basic"));
    verifyError(send("GET", QStringLiteral("/health"), {}, port, wrong), 401, "wrong");
    verifyError(send("GET", QStringLiteral("/health"), {}, port, "Bearer abc"), 401);
    verifyError(send("POST", QStringLiteral("/predict"), R"({"tasks": []})", port, "Basic !!!"), 401);
    verifyError(send("GET", QStringLiteral("/unknown"), {}, port), 401); // no route map for strangers
    QCOMPARE(send("GET", QStringLiteral("/health"), {}, port, right).status, 200);
    r = send("POST", QStringLiteral("/predict"), R"({"tasks": [{"data": {"text": "good"}}], "project": "7"})", port, right);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(QStringLiteral("results")).toArray().size(), 1);
    verifyError(send("GET", QStringLiteral("/unknown"), {}, port, right), 404);
    guarded.stop();

    // Half a credential pair is refused up front.
    config.basicAuthPassword.clear();
    QString error;
    QVERIFY(!guarded.start(config, &error));
    QVERIFY2(error.contains(QLatin1String("both a user and a password")), qPrintable(error));
}

void TestBackendServer::nonLoopbackBindRefusedWithoutAuth()
{
    BackendServer exposed(m_service);
    QSignalSpy errors(&exposed, &BackendServer::errorOccurred);
    ServerConfig config;
    config.host = QStringLiteral("0.0.0.0");
    config.port = 0;
    QString error;
    QVERIFY(!exposed.start(config, &error));
    QVERIFY2(error.contains(QLatin1String("Refusing to listen on 0.0.0.0")), qPrintable(error));
    QCOMPARE(exposed.state(), BackendServer::State::Failed);
    QCOMPARE(errors.count(), 1);
    QVERIFY(!BackendServer::checkConfig(ServerConfig{}).size()); // 127.0.0.1 is fine

    config.host = QStringLiteral("not-an-address");
    QVERIFY(!exposed.start(config, &error));
    QVERIFY2(error.contains(QLatin1String("not an IP address")), qPrintable(error));

    // With a password, or forced, it binds.
    config.host = QStringLiteral("0.0.0.0");
    config.basicAuthUser = QStringLiteral("u");
    config.basicAuthPassword = QStringLiteral("p");
    QVERIFY2(exposed.start(config, &error), qPrintable(error));
    exposed.stop();
    config.basicAuthUser.clear();
    config.basicAuthPassword.clear();
    config.forceInsecureBind = true;
    QVERIFY2(exposed.start(config, &error), qPrintable(error));
    QCOMPARE(send("GET", QStringLiteral("/health"), {}, exposed.port()).status, 200);
    exposed.stop();
    QVERIFY(BackendServer::isLoopbackHost(QStringLiteral("localhost")));
    QVERIFY(BackendServer::isLoopbackHost(QStringLiteral("::1")));
    QVERIFY(!BackendServer::isLoopbackHost(QStringLiteral("192.168.1.2")));
}

void TestBackendServer::busyPortIsNamedWithAFreeOne()
{
    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
    const quint16 busy = squatter.serverPort();
    BackendServer second(m_service);
    ServerConfig config;
    config.port = busy;
    QString error;
    QVERIFY(!second.start(config, &error));
    QVERIFY2(error.contains(QStringLiteral("Port %1").arg(busy)) && error.contains(QLatin1String("already in use")),
             qPrintable(error));
    QVERIFY(second.suggestedPort() != 0);
    QVERIFY(second.suggestedPort() != busy);
    QVERIFY2(error.contains(QString::number(second.suggestedPort())), qPrintable(error));
    QCOMPARE(second.state(), BackendServer::State::Failed);
    // The suggestion really is free.
    config.port = second.suggestedPort();
    QVERIFY2(second.start(config, &error), qPrintable(error));
    QCOMPARE(second.port(), config.port);
    second.stop();
}

void TestBackendServer::restartOnSamePort()
{
    BackendServer again(m_service);
    ServerConfig config;
    config.port = 0;
    QVERIFY(again.start(config));
    config.port = again.port();
    again.stop();
    QVERIFY2(again.start(config), qPrintable(again.lastError()));
    QCOMPARE(send("GET", QStringLiteral("/health"), {}, again.port()).status, 200);
    again.stop();
}

void TestBackendServer::severalThreadsServeConcurrently()
{
    BackendServer multi(m_service);
    ServerConfig config;
    config.port = 0;
    config.threads = 3;
    QVERIFY(multi.start(config));
    QCOMPARE(multi.threadCount(), 3);
    // Many parallel connections (QNAM opens up to 6 per host) all get whole answers.
    QList<QNetworkReply *> replies;
    const QByteArray body = R"({"tasks": [{"data": {"text": "good great"}}, {"data": {"text": "bad awful"}}], "project": "7"})";
    for (int i = 0; i < 60; ++i) {
        QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:%1/predict").arg(multi.port())));
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        replies << m_nam.post(request, body);
    }
    for (QNetworkReply *reply : replies) {
        if (!reply->isFinished()) {
            QEventLoop loop;
            connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
            QTimer::singleShot(10000, &loop, &QEventLoop::quit);
            loop.exec();
        }
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        const QJsonArray results = QJsonDocument::fromJson(reply->readAll()).object().value(QStringLiteral("results")).toArray();
        QCOMPARE(results.size(), 2);
        reply->deleteLater();
    }
    const QJsonObject metrics = multi.metricsJson();
    QCOMPARE(metrics.value(QStringLiteral("threads")).toInt(), 3);
    QCOMPARE(metrics.value(QStringLiteral("predictions_total")).toDouble(), 120.0);
    multi.stop();

    // Three requests at once, each held inside its handler until all three are inside: this
    // only completes when three threads really serve at the same time.
    struct Barrier {
        std::mutex mutex;
        std::condition_variable cv;
        QSet<QThread *> inside;
        int entered = 0;
    };
    auto barrier = std::make_shared<Barrier>();
    BackendServer held(m_service);
    held.setWebhookSink([barrier](const WebhookEvent &) -> loopdeck::backend::WebhookOutcome {
        std::unique_lock lock(barrier->mutex);
        barrier->inside.insert(QThread::currentThread());
        ++barrier->entered;
        barrier->cv.notify_all();
        barrier->cv.wait_for(lock, std::chrono::seconds(10), [&] { return barrier->inside.size() >= 3; });
        return {};
    });
    QVERIFY(held.start(config));
    QList<QNetworkReply *> webhooks;
    for (int i = 0; i < 3; ++i) {
        QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:%1/webhook").arg(held.port())));
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        webhooks << m_nam.post(request, QByteArray(R"({"action": "ANNOTATION_CREATED", "project": {"id": 7}})"));
        // Wait until this one is inside a handler, so the next connection goes to a free thread.
        QTRY_VERIFY_WITH_TIMEOUT([&] { std::lock_guard lock(barrier->mutex); return barrier->entered > i; }(), 5000);
    }
    for (QNetworkReply *reply : webhooks) {
        if (!reply->isFinished()) {
            QEventLoop loop;
            connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
            QTimer::singleShot(10000, &loop, &QEventLoop::quit);
            loop.exec();
        }
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 201);
        reply->deleteLater();
    }
    {
        std::lock_guard lock(barrier->mutex);
        QCOMPARE(barrier->inside.size(), 3);
    }
    held.stop();
}


void TestBackendServer::crossSiteRequestsChangeNothing_data()
{
    // What a web page in the operator's browser can send without a CORS preflight: a simple
    // request (text/plain, form, multipart) - always with an Origin header on POST - or, with
    // a preflight we never grant, application/json with an Origin.
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("origin");
    QTest::addColumn<int>("status");
    for (const char *path : {"/setup", "/webhook", "/predict", "/loop/train", "/loop/activate", "/loop/rollback"}) {
        const QString p = QLatin1String(path);
        // Without an Origin, /loop/* refuses first for the missing operator token.
        const int noOrigin = p.startsWith(QLatin1String("/loop/")) ? 401 : 415;
        QTest::addRow("%s text/plain, no Origin", path) << p << QByteArray("text/plain") << QByteArray() << noOrigin;
        QTest::addRow("%s text/plain from a page", path) << p << QByteArray("text/plain;charset=UTF-8") << QByteArray("http://127.0.0.1:8000") << 403;
        QTest::addRow("%s form from a page", path) << p << QByteArray("application/x-www-form-urlencoded") << QByteArray("null") << 403;
        QTest::addRow("%s multipart, no Origin", path) << p << QByteArray("multipart/form-data; boundary=x") << QByteArray() << noOrigin;
        QTest::addRow("%s json from a page", path) << p << QByteArray("application/json") << QByteArray("http://evil.example") << 403;
        QTest::addRow("%s no Content-Type", path) << p << QByteArray() << QByteArray() << noOrigin;
    }
}

void TestBackendServer::crossSiteRequestsChangeNothing()
{
    QFETCH(QString, path);
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, origin);
    QFETCH(int, status);
    const QString configBefore = m_service->labelConfigXml(QStringLiteral("7.1700000000"));
    QVERIFY(configBefore.contains(QLatin1String("sentiment")));
    QSignalSpy webhooks(m_server.get(), &BackendServer::webhookReceived);
    QSignalSpy setups(m_server.get(), &BackendServer::projectSetup);
    const double predictionsBefore = m_server->metricsJson().value(QStringLiteral("predictions_total")).toDouble();
    const QByteArray body = path == u"/setup" ? R"({"project": "7", "schema": "<View></View>"})"
                            : path == u"/predict" ? R"({"project": "7", "tasks": [{"data": {"text": "good"}}]})"
                                                  : R"({"action": "START_TRAINING", "project": {"id": 7, "label_config": "<View></View>"}})";
    QByteArray request = "POST " + path.toLatin1() + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                         + QByteArray::number(body.size()) + "\r\n";
    if (!contentType.isEmpty())
        request += "Content-Type: " + contentType + "\r\n";
    if (!origin.isEmpty())
        request += "Origin: " + origin + "\r\n";
    const QByteArray answer = raw(m_port, request + "\r\n" + body);
    QVERIFY2(statusOf(answer) == status, answer.constData());
    QVERIFY2(!answer.toLower().contains("access-control-allow"), answer.constData());
    QTest::qWait(50);
    QCOMPARE(m_service->labelConfigXml(QStringLiteral("7.1700000000")), configBefore);
    QCOMPARE(webhooks.count(), 0);
    QCOMPARE(setups.count(), 0);
    QCOMPARE(m_server->metricsJson().value(QStringLiteral("predictions_total")).toDouble(), predictionsBefore);
}

void TestBackendServer::allowedOriginIsServed()
{
    BackendServer server(m_service);
    ServerConfig config;
    config.port = 0;
    config.allowedOrigins = {QStringLiteral("http://localhost:8080")};
    QVERIFY(server.start(config));
    const QByteArray body = R"({"tasks": [{"data": {"text": "good"}}], "project": "7"})";
    const QByteArray head = "POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                            + QByteArray::number(body.size()) + "\r\n";
    QCOMPARE(statusOf(raw(server.port(), head + "Origin: http://localhost:8080\r\n\r\n" + body)), 200);
    QCOMPARE(statusOf(raw(server.port(), head + "Origin: http://localhost:8081\r\n\r\n" + body)), 403);
    server.stop();
}

void TestBackendServer::optionsGrantsNoCors()
{
    // A preflight for a JSON POST from a page: no Access-Control-Allow-* ever, so the browser
    // never sends the real request.
    for (const char *path : {"/setup", "/webhook", "/predict", "/loop/train", "/health"}) {
        const QByteArray withOrigin = raw(m_port, "OPTIONS " + QByteArray(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\n"
                                                  "Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n\r\n");
        QVERIFY2(statusOf(withOrigin) == 403, withOrigin.constData());
        QVERIFY2(!withOrigin.toLower().contains("access-control-"), withOrigin.constData());
        const QByteArray plain = raw(m_port, "OPTIONS " + QByteArray(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        QVERIFY2(statusOf(plain) >= 400, plain.constData());
        QVERIFY2(!plain.toLower().contains("access-control-"), plain.constData());
    }
}

void TestBackendServer::chunkedIs411AndCannotSmuggle()
{
    QSignalSpy webhooks(m_server.get(), &BackendServer::webhookReceived);
    const QByteArray chunked = raw(m_port, "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                           "Transfer-Encoding: chunked\r\n\r\n"
                                           "12\r\n{\"action\":\"X\"}\r\n\r\n0\r\n\r\n");
    QVERIFY2(statusOf(chunked) == 411, chunked.constData());
    QVERIFY(chunked.contains("Content-Length"));
    // A body holding what the old guard took for the end of a chunked request, followed by a
    // second request on the same connection: both are framed exactly once, by Content-Length.
    const QByteArray first = "{\"action\": \"A\", \"note\": \"\r\n0\r\n\r\nPOST /webhook HTTP/1.1\r\n\"}";
    const QByteArray second = R"({"action": "B"})";
    const QByteArray bytes = "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                             + QByteArray::number(first.size()) + "\r\n\r\n" + first
                             + "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                             + QByteArray::number(second.size()) + "\r\n\r\n" + second;
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m_port);
    QVERIFY(socket.waitForConnected(5000));
    socket.write(bytes);
    QByteArray answers;
    QElapsedTimer timer;
    timer.start();
    while (answers.count("HTTP/1.1 ") < 3 && timer.elapsed() < 2000)
        if (socket.waitForReadyRead(100))
            answers += socket.readAll();
    // The first body (raw CR LF inside a JSON string) is not valid JSON: 400; the second is
    // the real second request: 200. Exactly two answers, no third request smuggled in.
    QVERIFY2(answers.count("HTTP/1.1 400") == 1 && answers.count("HTTP/1.1 200") == 1, answers.constData());
    QCOMPARE(answers.count("HTTP/1.1 "), 2);
    QTRY_COMPARE(webhooks.count(), 1);
    QCOMPARE(webhooks.at(0).at(0).value<WebhookEvent>().action, QStringLiteral("B"));
}

void TestBackendServer::unauthenticatedRefusedBeforeBody()
{
    BackendServer guarded(m_service);
    ServerConfig config;
    config.port = 0;
    config.basicAuthUser = QStringLiteral("ls");
    config.basicAuthPassword = QStringLiteral("pw");
    QVERIFY(guarded.start(config));
    // 900 KB declared, none sent: the 401 must come from the headers alone, for every route.
    for (const char *path : {"/setup", "/webhook", "/predict", "/loop/train", "/metrics", "/nowhere"}) {
        const QByteArray answer = raw(guarded.port(), "POST " + QByteArray(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                                      "Content-Length: 900000\r\n\r\n{",
                                      3000);
        QVERIFY2(statusOf(answer) == 401, answer.constData());
        // /loop/* asks for the operator token instead (Basic auth does not open it).
        QVERIFY(answer.contains(qstrncmp(path, "/loop/", 6) == 0 ? "WWW-Authenticate: Bearer" : "WWW-Authenticate: Basic"));
    }
    const QByteArray auth = "Authorization: Basic " + QByteArray("ls:pw").toBase64() + "\r\n";
    const QByteArray body = R"({"tasks": [{"data": {"text": "good"}}], "project": "7"})";
    QCOMPARE(statusOf(raw(guarded.port(), "POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + auth
                                             + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body)),
             200);
    guarded.stop();
}

void TestBackendServer::webhookSecret()
{
    const QByteArray event = R"({"action": "ANNOTATION_CREATED", "project": {"id": 7}})";
    const auto post = [&](quint16 port, const QByteArray &extra) {
        return statusOf(raw(port, "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + extra
                                      + "Content-Length: " + QByteArray::number(event.size()) + "\r\n\r\n" + event));
    };
    const QByteArray right = "X-LoopDeck-Webhook-Secret: hook-s3cret\r\n";
    const QByteArray wrong = "X-LoopDeck-Webhook-Secret: hook-s3creT\r\n";
    const QByteArray basic = "Authorization: Basic " + QByteArray("ls:pw").toBase64() + "\r\n";
    {
        // Secret only: webhooks need it, other routes are open as before.
        BackendServer server(m_service);
        ServerConfig config;
        config.port = 0;
        config.webhookSecret = QStringLiteral("hook-s3cret");
        QVERIFY(server.start(config));
        QCOMPARE(post(server.port(), {}), 401);
        QCOMPARE(post(server.port(), wrong), 401);
        QCOMPARE(post(server.port(), right), 201);
        QCOMPARE(send("GET", QStringLiteral("/health"), {}, server.port()).status, 200);
        server.stop();
    }
    {
        // Secret and Basic auth: a webhook may carry either (Label Studio's auto-created
        // webhook can carry headers but not Basic auth); every other route needs Basic auth.
        BackendServer server(m_service);
        ServerConfig config;
        config.port = 0;
        config.webhookSecret = QStringLiteral("hook-s3cret");
        config.basicAuthUser = QStringLiteral("ls");
        config.basicAuthPassword = QStringLiteral("pw");
        QVERIFY(server.start(config));
        QCOMPARE(post(server.port(), {}), 401);
        QCOMPARE(post(server.port(), wrong), 401);
        QCOMPARE(post(server.port(), right), 201);
        QCOMPARE(post(server.port(), basic), 201);
        const QByteArray setup = R"({"project": "7", "schema": "<View></View>"})";
        QCOMPARE(statusOf(raw(server.port(), "POST /setup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + right
                                                 + "Content-Length: " + QByteArray::number(setup.size()) + "\r\n\r\n" + setup)),
                 401); // the webhook secret opens /webhook only
        server.stop();
    }
}

void TestBackendServer::deepJsonIs413_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("body");
    // The reported crash: tasks is one object holding deeply nested arrays.
    QTest::newRow("predict 10k levels") << QStringLiteral("/predict")
                                        << R"({"tasks": {"data": )" + QByteArray(10000, '[') + QByteArray(10000, ']') + "}}";
    QTest::newRow("predict 300k levels") << QStringLiteral("/predict")
                                         << R"({"tasks": {"data": )" + QByteArray(300000, '[') + QByteArray(300000, ']') + "}}";
    QTest::newRow("predict unclosed 300k") << QStringLiteral("/predict") << QByteArray(300000, '[');
    QByteArray objects;
    for (int i = 0; i < 5000; ++i)
        objects += "{\"a\":";
    objects += "1" + QByteArray(5000, '}');
    QTest::newRow("setup nested objects") << QStringLiteral("/setup") << R"({"project": "7", "x": )" + objects + "}";
    QTest::newRow("webhook 65 levels") << QStringLiteral("/webhook")
                                       << R"({"action": "X", "p": )" + QByteArray(64, '[') + QByteArray(64, ']') + "}";
}

void TestBackendServer::deepJsonIs413()
{
    QFETCH(QString, path);
    QFETCH(QByteArray, body);
    const QString configBefore = m_service->labelConfigXml(QStringLiteral("7.1700000000"));
    verifyError(send("POST", path, body), 413, "levels deep");
    QCOMPARE(m_service->labelConfigXml(QStringLiteral("7.1700000000")), configBefore);
    QCOMPARE(send("GET", QStringLiteral("/health")).status, 200);
    // Just under the limit is served normally.
    const QByteArray fine = R"({"action": "X", "p": )" + QByteArray(62, '[') + QByteArray(62, ']') + "}";
    QCOMPARE(send("POST", QStringLiteral("/webhook"), fine).status, 200);
}

void TestBackendServer::tooManyElementsIs413()
{
    BackendServer server(m_service);
    ServerConfig config;
    config.port = 0;
    config.maxJsonElements = 10000;
    QVERIFY(server.start(config));
    QByteArray many = R"({"project": "7", "tasks": [)";
    for (int i = 0; i < 12000; ++i)
        many += i ? ",{}" : "{}";
    many += "]}";
    verifyError(send("POST", QStringLiteral("/predict"), many, server.port()), 413, "more than 10000 JSON values");
    QCOMPARE(send("GET", QStringLiteral("/health"), {}, server.port()).status, 200);
    server.stop();
}

void TestBackendServer::allocationFailureIs503AndServerLives()
{
    BackendServer server(m_service);
    int calls = 0;
    server.setWebhookSink([&calls](const WebhookEvent &) -> loopdeck::backend::WebhookOutcome {
        if (++calls == 1)
            throw std::bad_alloc();
        return {};
    });
    ServerConfig config;
    config.port = 0;
    QVERIFY(server.start(config));
    const QByteArray event = R"({"action": "ANNOTATION_CREATED", "project": {"id": 7}})";
    verifyError(send("POST", QStringLiteral("/webhook"), event, server.port()), 503, "out of memory");
    QCOMPARE(send("POST", QStringLiteral("/webhook"), event, server.port()).status, 201);
    QCOMPARE(send("GET", QStringLiteral("/health"), {}, server.port()).status, 200);
    server.stop();
}

void TestBackendServer::connectionCap()
{
    BackendServer server(m_service);
    ServerConfig config;
    config.port = 0;
    config.threads = 1;
    config.maxConnections = 2;
    QVERIFY(server.start(config));
    QTcpSocket a, b;
    for (QTcpSocket *s : {&a, &b}) {
        s->connectToHost(QHostAddress::LocalHost, server.port());
        QVERIFY(s->waitForConnected(5000));
    }
    QTest::qWait(300); // the server has accepted both
    const QByteArray refused = raw(server.port(), "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QVERIFY2(statusOf(refused) == 503, refused.constData());
    a.disconnectFromHost();
    b.disconnectFromHost();
    QTest::qWait(300);
    QCOMPARE(statusOf(raw(server.port(), "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")), 200);
    server.stop();
}

void TestBackendServer::setupReportsTheVersionPredictTags()
{
    // `serve --model 21=file` (target "") next to a registry model of a target the label
    // config does not have: only the first serves, so that is the version to report.
    auto service = std::make_shared<PredictionService>();
    service->installModel(QStringLiteral("21"), sentimentModel(), 1);
    service->installModel(QStringLiteral("21"), sentimentModel(), 2, QStringLiteral("topic"));
    BackendServer server(service);
    ServerConfig config;
    config.port = 0;
    QVERIFY(server.start(config));
    const Reply setup = send("POST", QStringLiteral("/setup"), R"({"project": "21.1", "schema": ")" + kSentimentConfig + R"("})",
                             server.port());
    QCOMPARE(setup.status, 200);
    const Reply predict = send("POST", QStringLiteral("/predict"), R"({"project": "21.1", "tasks": [{"data": {"text": "good"}}]})",
                               server.port());
    QCOMPARE(predict.status, 200);
    const QJsonArray results = predict.json.value(QStringLiteral("results")).toArray();
    QCOMPARE(results.size(), 1);
    const QString tagged = results.at(0).toObject().value(QStringLiteral("model_version")).toString();
    QCOMPARE(tagged, QStringLiteral("loopdeck-v1"));
    QCOMPARE(setup.json.value(QStringLiteral("model_version")).toString(), tagged);
    QCOMPARE(predict.json.value(QStringLiteral("model_version")).toString(), tagged);
    server.stop();
}

void TestBackendServer::noSurvivingChoiceGetsNoPrediction()
{
    // The model knows Positive/Negative; this label config allows neither.
    const QByteArray config = R"(<View><Text name=\"text\" value=\"$text\"/><Choices name=\"sentiment\" toName=\"text\"><Choice value=\"Spam\"/><Choice value=\"Ham\"/></Choices></View>)";
    m_service->installModel(QStringLiteral("23"), sentimentModel(), 1, QStringLiteral("sentiment"));
    QCOMPARE(send("POST", QStringLiteral("/setup"), R"({"project": "23", "schema": ")" + config + R"("})").status, 200);
    const double before = m_server->metricsJson().value(QStringLiteral("predictions_total")).toDouble();
    const Reply r = send("POST", QStringLiteral("/predict"),
                         R"({"project": "23", "tasks": [{"id": 1, "data": {"text": "good"}}, {"id": 2, "data": {"text": "bad"}}]})");
    QCOMPARE(r.status, 200);
    // One entry per task (Label Studio zips results with tasks), each an empty list of
    // predictions: Label Studio saves nothing for them.
    QCOMPARE(r.json.value(QStringLiteral("results")).toArray(), (QJsonArray{QJsonArray{}, QJsonArray{}}));
    QTest::qWait(50);
    QCOMPARE(m_server->metricsJson().value(QStringLiteral("predictions_total")).toDouble(), before);
}

void TestBackendServer::webhookEventsTheLoopAppliesAreOk_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("answer");
    const QString ok = QStringLiteral("ok");
    QTest::newRow("TASKS_CREATED") << QByteArray(R"({"action": "TASKS_CREATED", "project": {"id": 7}, "tasks": [{"id": 5, "data": {"text": "x"}}]})") << 201 << ok;
    QTest::newRow("TASKS_DELETED") << QByteArray(R"({"action": "TASKS_DELETED", "project": {"id": 7}, "tasks": [{"id": 5}]})") << 201 << ok;
    QTest::newRow("PROJECT_UPDATED") << QByteArray(R"({"action": "PROJECT_UPDATED", "project": {"id": 7}})") << 201 << ok;
    QTest::newRow("ANNOTATIONS_DELETED") << QByteArray(R"({"action": "ANNOTATIONS_DELETED", "project": {"id": 7}, "annotations": [{"id": 9}]})") << 201 << ok;
    QTest::newRow("ANNOTATION_CREATED") << QByteArray(R"({"action": "ANNOTATION_CREATED", "project": {"id": 7}})") << 201 << ok;
    QTest::newRow("START_TRAINING") << QByteArray(R"({"action": "START_TRAINING", "project": {"id": 7}})") << 201 << ok;
    // The loop really ignores these: "Unknown event", as Label Studio's own ML backends answer.
    QTest::newRow("PROJECT_CREATED") << QByteArray(R"({"action": "PROJECT_CREATED", "project": {"id": 7}})") << 200 << QStringLiteral("Unknown event");
    QTest::newRow("LABEL_LINK_CREATED") << QByteArray(R"({"action": "LABEL_LINK_CREATED", "project": {"id": 7}})") << 200 << QStringLiteral("Unknown event");
}

void TestBackendServer::webhookEventsTheLoopAppliesAreOk()
{
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    QFETCH(QString, answer);
    const Reply r = send("POST", QStringLiteral("/webhook"), body);
    QVERIFY2(r.status == status, r.body.constData());
    QCOMPARE(r.json, (QJsonObject{{QStringLiteral("status"), answer}}));
}

void TestBackendServer::foreignHostRefusedOnEveryRoute_data()
{
    QTest::addColumn<QByteArray>("host");
    QTest::newRow("other name") << QByteArray("evil.example");
    QTest::newRow("other name with our port") << QByteArray("evil.example:%PORT%");
    QTest::newRow("rebinding name") << QByteArray("rebind.test:%PORT%");
    QTest::newRow("localhost as a subdomain") << QByteArray("localhost.evil.example");
    QTest::newRow("IP as a subdomain") << QByteArray("127.0.0.1.evil.example:%PORT%");
    QTest::newRow("allowed name as a subdomain") << QByteArray("ls-backend.internal.evil.example");
    QTest::newRow("user info") << QByteArray("evil.example@127.0.0.1");
    QTest::newRow("empty") << QByteArray("");
}

void TestBackendServer::foreignHostRefusedOnEveryRoute()
{
    QFETCH(QByteArray, host);
    BackendServer server(m_service);
    ServerConfig config;
    config.port = 0;
    config.allowedHosts = {QStringLiteral("ls-backend.internal")};
    QVERIFY(server.start(config));
    host.replace("%PORT%", QByteArray::number(server.port()));
    QSignalSpy webhooks(&server, &BackendServer::webhookReceived);
    QSignalSpy setups(&server, &BackendServer::projectSetup);
    QStringList paths;
    for (const auto &spec : loopdeck::backend::allRoutes())
        paths << QLatin1String(spec.method) + QLatin1Char(' ') + QLatin1String(spec.path);
    paths << QStringLiteral("GET /nowhere");
    for (const QString &route : paths) {
        const QByteArray method = route.section(u' ', 0, 0).toLatin1();
        const QByteArray path = route.section(u' ', 1).toLatin1();
        // A large body is declared and not sent: the refusal must come from the headers alone.
        QByteArray request = method + ' ' + path + " HTTP/1.1\r\nHost: " + host + "\r\n";
        if (method == "POST")
            request += "Content-Type: application/json\r\nContent-Length: 900000\r\n\r\n{";
        else
            request += "\r\n";
        const QByteArray answer = raw(server.port(), request, 3000);
        QVERIFY2(statusOf(answer) == 421, (route + QStringLiteral(": ") + QString::fromLatin1(answer)).toUtf8().constData());
        const QJsonObject error = QJsonDocument::fromJson(answer.mid(answer.indexOf("\r\n\r\n") + 4)).object();
        const QString sentence = error.value(QStringLiteral("error")).toString();
        QVERIFY2(sentence.contains(QLatin1String("--allowed-host")), qPrintable(sentence));
        if (!host.isEmpty())
            QVERIFY2(sentence.contains(QString::fromLatin1(host.left(host.indexOf(':') < 0 ? host.size() : host.indexOf(':')))),
                     qPrintable(sentence));
    }
    QTest::qWait(50);
    QCOMPARE(webhooks.count(), 0);
    QCOMPARE(setups.count(), 0);
    server.stop();
}

void TestBackendServer::ownHostsAreServed_data()
{
    QTest::addColumn<QByteArray>("host"); // "-" = no Host header (HTTP/1.0)
    QTest::newRow("IPv4 with port") << QByteArray("127.0.0.1:%PORT%");
    QTest::newRow("IPv4") << QByteArray("127.0.0.1");
    QTest::newRow("another IPv4") << QByteArray("192.168.1.20:%PORT%");
    QTest::newRow("IPv6") << QByteArray("[::1]:%PORT%");
    QTest::newRow("localhost") << QByteArray("localhost");
    QTest::newRow("LOCALHOST with port") << QByteArray("LOCALHOST:%PORT%");
    QTest::newRow("allowed name") << QByteArray("ls-backend.internal:%PORT%");
    QTest::newRow("allowed name, other case") << QByteArray("LS-Backend.Internal");
    QTest::newRow("this machine") << QHostInfo::localHostName().toUtf8();
    QTest::newRow("no Host header") << QByteArray("-");
}

void TestBackendServer::ownHostsAreServed()
{
    QFETCH(QByteArray, host);
    BackendServer server(m_service);
    ServerConfig config;
    config.port = 0;
    config.allowedHosts = {QStringLiteral("ls-backend.internal")};
    QVERIFY(server.start(config));
    host.replace("%PORT%", QByteArray::number(server.port()));
    const QByteArray hostLine = host == "-" ? QByteArray() : "Host: " + host + "\r\n";
    const QByteArray version = host == "-" ? "HTTP/1.0" : "HTTP/1.1";
    for (const char *path : {"/health", "/versions", "/metrics"}) {
        const QByteArray answer = raw(server.port(), "GET " + QByteArray(path) + ' ' + version + "\r\n" + hostLine + "\r\n");
        QVERIFY2(statusOf(answer) == 200, answer.constData());
    }
    const QByteArray body = R"({"tasks": [{"data": {"text": "good"}}], "project": "7"})";
    const QByteArray predict = raw(server.port(), "POST /predict " + version + "\r\n" + hostLine
                                                      + "Content-Type: application/json\r\nContent-Length: "
                                                      + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    QVERIFY2(statusOf(predict) == 200, predict.constData());
    server.stop();
}

QTEST_GUILESS_MAIN(TestBackendServer)
#include "tst_backendserver.moc"
