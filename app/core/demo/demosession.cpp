#include "core/demo/demosession.h"

#include "core/backend/backendserver.h"
#include "core/labelstudio/syncwait.h"
#include "core/loop/loopengine.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QStandardPaths>
#include <QTcpServer>

#include <nlohmann/json.hpp>

namespace loopdeck::demo {

using nlohmann::json;

namespace {

quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

} // namespace

QString demoLabelConfig()
{
    return QStringLiteral("<View><Header value=\"Is this review positive or negative?\"/>"
                          "<Text name=\"text\" value=\"$text\"/>"
                          "<Choices name=\"sentiment\" toName=\"text\" choice=\"single\" showInLine=\"true\">"
                          "<Choice value=\"Positive\"/><Choice value=\"Negative\"/></Choices></View>");
}

QList<DemoText> sampleTexts(int count, quint32 seed)
{
    // Reviews of made-up products. Both classes share the frame words and some hedges, and one
    // review in eight mixes praise and complaint, so early models err and later ones improve.
    const QStringList items = {QStringLiteral("kettle"), QStringLiteral("backpack"), QStringLiteral("desk lamp"),
                               QStringLiteral("headphones"), QStringLiteral("coffee grinder"), QStringLiteral("rain jacket"),
                               QStringLiteral("keyboard"), QStringLiteral("water bottle"), QStringLiteral("phone case"),
                               QStringLiteral("blender")};
    const QStringList good = {QStringLiteral("works perfectly"), QStringLiteral("feels sturdy"), QStringLiteral("arrived early"),
                              QStringLiteral("is worth every penny"), QStringLiteral("looks great"), QStringLiteral("is easy to use"),
                              QStringLiteral("exceeded my expectations"), QStringLiteral("is quiet and fast")};
    const QStringList bad = {QStringLiteral("broke after a week"), QStringLiteral("feels cheap"), QStringLiteral("arrived damaged"),
                             QStringLiteral("is a waste of money"), QStringLiteral("looks nothing like the photos"),
                             QStringLiteral("is hard to use"), QStringLiteral("stopped working"), QStringLiteral("is loud and slow")};
    const QStringList hedges = {QStringLiteral("Honestly,"), QStringLiteral("To be fair,"), QStringLiteral("After a month,"),
                                QStringLiteral("Overall"), QStringLiteral("I must say"), QString()};
    QRandomGenerator rng(seed);
    QList<DemoText> out;
    for (int i = 0; i < count; ++i) {
        const bool positive = rng.bounded(2) == 0;
        const QString item = items[rng.bounded(int(items.size()))];
        const QStringList &main = positive ? good : bad;
        const QStringList &other = positive ? bad : good;
        QString text = QStringLiteral("%1 the %2 %3").arg(hedges[rng.bounded(int(hedges.size()))], item, main[rng.bounded(int(main.size()))]);
        if (rng.bounded(8) == 0)
            text += QStringLiteral(", although it %1").arg(other[rng.bounded(int(other.size()))].section(QLatin1Char(' '), 1));
        else
            text += QStringLiteral(" and %1").arg(main[rng.bounded(int(main.size()))]);
        text += QStringLiteral(" (order %1).").arg(1000 + i);
        out.append({text.trimmed(), positive ? QStringLiteral("Positive") : QStringLiteral("Negative")});
    }
    return out;
}

QString findLabelStudio()
{
    const QString fromEnv = qEnvironmentVariable("LOOPDECK_LABEL_STUDIO");
    if (!fromEnv.isEmpty())
        return QFileInfo(fromEnv).isExecutable() ? fromEnv : QString();
    // The venv of the README's run command, next to a build tree (build/<preset>/app/loopdeck).
    const QDir appDir(QCoreApplication::applicationDirPath());
    for (const QString &relative : {QStringLiteral("../../../.venv-labelstudio/bin/label-studio"),
                                    QStringLiteral("../.venv-labelstudio/bin/label-studio")}) {
        const QString candidate = QDir::cleanPath(appDir.filePath(relative));
        if (QFileInfo(candidate).isExecutable())
            return candidate;
    }
    return QStandardPaths::findExecutable(QStringLiteral("label-studio"));
}

DemoSession::DemoSession(QObject *parent)
    : QObject(parent)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        if (m_stage == Stage::StartingLabelStudio)
            pollHealth();
        else if (m_stage == Stage::Annotating)
            annotateNext();
    });
    connect(&m_labelStudio, &QProcess::finished, this, [this](int code, QProcess::ExitStatus) {
        if (m_stage != Stage::Stopped && m_stage != Stage::Failed)
            fail(tr("Label Studio stopped unexpectedly (exit status %1); its log is in %2.")
                     .arg(code)
                     .arg(m_dataDir ? m_dataDir->filePath(QStringLiteral("label-studio.log")) : QString()));
    });
}

DemoSession::~DemoSession()
{
    stop();
}

QString DemoSession::dataDir() const
{
    return m_dataDir ? m_dataDir->path() : QString();
}

void DemoSession::setStage(Stage stage, const QString &message)
{
    m_stage = stage;
    Q_EMIT stageChanged(stage, message);
}

void DemoSession::fail(const QString &message)
{
    m_timer.stop();
    setStage(Stage::Failed, message);
    Q_EMIT failed(message);
}

void DemoSession::start(const Options &options)
{
    if (m_stage != Stage::Idle && m_stage != Stage::Stopped && m_stage != Stage::Failed)
        return;
    m_options = options;
    m_annotated = 0;
    m_project = 0;
    const QString program = findLabelStudio();
    if (program.isEmpty()) {
        fail(tr("Label Studio was not found. Run scripts/quickstart.sh app, which prepares a Python venv with "
                "label-studio 1.23.2, or install it (pip install label-studio==1.23.2) and set LOOPDECK_LABEL_STUDIO "
                "to the label-studio program."));
        return;
    }
    m_engine.reset(); // a failed run's loop goes before its folder
    m_dataDir = std::make_unique<QTemporaryDir>(QDir::tempPath() + QStringLiteral("/loopdeck-demo-XXXXXX"));
    if (!m_dataDir->isValid()) {
        fail(tr("Cannot create a temporary folder for the demo's Label Studio."));
        return;
    }
    // The demo's own loop, next to its Label Studio: the user's store, model registry, settings
    // and backend are never touched, and stop() removes it all.
    m_engine = std::make_unique<loop::LoopEngine>();
    if (const Status opened = m_engine->open(m_dataDir->filePath(QStringLiteral("loop")), loop::LoopSettings()); !opened) {
        fail(opened.error());
        return;
    }
    const quint16 port = freePort();
    m_url = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port));
    m_token = QString::fromLatin1(QByteArray::number(QRandomGenerator::global()->generate64(), 16).rightJustified(16, '0')
                                  + QByteArray::number(QRandomGenerator::global()->generate64(), 16).rightJustified(16, '0')
                                  + QByteArray::number(QRandomGenerator::global()->generate(), 16).rightJustified(8, '0'));
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char *bare : {"USERNAME", "PASSWORD", "PORT", "HOST"})
        env.remove(QLatin1String(bare)); // Label Studio reads these bare names too
    env.insert(QStringLiteral("LATEST_VERSION_CHECK"), QStringLiteral("false"));
    env.insert(QStringLiteral("COLLECT_ANALYTICS"), QStringLiteral("false"));
    env.insert(QStringLiteral("LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN"), QStringLiteral("true"));
    // Label Studio 1.23 refuses to call a backend and webhooks on this machine otherwise.
    env.insert(QStringLiteral("ML_BLOCK_LOCAL_IP"), QStringLiteral("false"));
    env.insert(QStringLiteral("SSRF_PROTECTION_ENABLED"), QStringLiteral("false"));
    m_labelStudio.setProcessEnvironment(env);
    m_labelStudio.setStandardOutputFile(m_dataDir->filePath(QStringLiteral("label-studio.log")));
    m_labelStudio.setStandardErrorFile(m_dataDir->filePath(QStringLiteral("label-studio.log")), QIODevice::Append);
    m_labelStudio.start(program, {QStringLiteral("start"), QStringLiteral("--no-browser"), QStringLiteral("--internal-host"),
                                  QStringLiteral("127.0.0.1"), QStringLiteral("--port"), QString::number(port),
                                  QStringLiteral("--data-dir"), m_dataDir->path(), QStringLiteral("--username"),
                                  QStringLiteral("demo@loopdeck.local"), QStringLiteral("--password"), QStringLiteral("LoopDeck-demo-1"),
                                  QStringLiteral("--user-token"), m_token, QStringLiteral("--enable-legacy-api-token"),
                                  QStringLiteral("--log-level"), QStringLiteral("WARNING")});
    setStage(Stage::StartingLabelStudio,
             tr("Starting Label Studio on %1 (the first start takes up to a minute)…").arg(m_url.toString()));
    m_healthTries = 0;
    m_client.setServer(m_url, m_token);
    m_timer.start(1000);
}

void DemoSession::pollHealth()
{
    m_client.checkHealth([this](const bool &up, const labelstudio::LsError &) {
        if (m_stage != Stage::StartingLabelStudio)
            return;
        if (up) {
            createProject();
            return;
        }
        if (++m_healthTries > 360) { // 3 minutes at 0.5 s
            fail(tr("Label Studio did not answer within 3 minutes; its log is in %1.")
                     .arg(m_dataDir->filePath(QStringLiteral("label-studio.log"))));
            return;
        }
        m_timer.start(500);
    });
}

void DemoSession::createProject()
{
    setStage(Stage::CreatingProject, tr("Creating a demo project with %1 sample reviews…").arg(m_options.tasks));
    m_client.createProject(tr("LoopDeck demo: product reviews"), demoLabelConfig(),
                           [this](const labelstudio::Project &project, const labelstudio::LsError &error) {
                               if (error.isError()) {
                                   fail(tr("Cannot create the demo project: %1").arg(error.message()));
                                   return;
                               }
                               m_project = project.id;
                               json tasks = json::array();
                               m_truth.clear();
                               for (const DemoText &t : sampleTexts(m_options.tasks)) {
                                   tasks.push_back({{"text", t.text.toStdString()}});
                                   m_truth.insert(t.text, t.label);
                               }
                               m_client.importTasks(m_project, QByteArray::fromStdString(tasks.dump()),
                                                    [this](const labelstudio::ImportResult &, const labelstudio::LsError &e) {
                                                        if (e.isError()) {
                                                            fail(tr("Cannot import the sample reviews: %1").arg(e.message()));
                                                            return;
                                                        }
                                                        startBackend();
                                                    });
                           });
}

void DemoSession::startBackend()
{
    if (!m_engine) {
        fail(tr("The loop is not running."));
        return;
    }
    setStage(Stage::StartingBackend, tr("Starting the demo's own backend and connecting it to the project (its data is in %1 "
                                        "until the demo stops)…")
                                         .arg(QDir::toNativeSeparators(m_dataDir->path())));
    // Every call into the engine is here: its backend on a free port, the project's settings
    // and the demo's Label Studio.
    backend::BackendServer *server = m_engine->server();
    backend::ServerConfig config;
    config.host = QStringLiteral("127.0.0.1");
    config.port = freePort();
    QString error;
    if (!m_engine->startServer(config, &error)) {
        fail(tr("Cannot start the backend: %1").arg(error));
        return;
    }
    loop::LoopSettings settings = m_engine->defaults();
    settings.trainEvery = m_options.trainEvery;
    settings.minExamples = std::min(settings.minExamples, m_options.trainEvery);
    settings.cooldownSeconds = 5;
    settings.uncertaintySampling = true;
    if (const Status s = m_engine->setSettings(QString::number(m_project), settings); !s) {
        fail(s.error());
        return;
    }
    m_engine->setLabelStudio(m_url, m_token);
    labelstudio::MlBackendRegistration reg;
    reg.url = QStringLiteral("http://127.0.0.1:%1").arg(server->port());
    reg.project = m_project;
    reg.title = QStringLiteral("LoopDeck");
    m_client.registerMlBackend(reg, [this](const labelstudio::MlBackend &, const labelstudio::LsError &error) {
        if (error.isError()) {
            fail(tr("Label Studio did not accept the backend: %1").arg(error.message()));
            return;
        }
        Q_EMIT labelStudioReady(m_url, m_token, m_project);
        setStage(Stage::Annotating, tr("A simulated annotator labels a review every %1 s; the loop retrains every %2 annotations.")
                                        .arg(m_options.annotationIntervalMs / 1000.0, 0, 'f', 1)
                                        .arg(m_options.trainEvery));
        m_timer.start(m_options.annotationIntervalMs);
    });
}

void DemoSession::annotateNext()
{
    if (m_annotated >= m_options.maxAnnotations) {
        setStage(Stage::Annotating, tr("The simulated annotator is done (%1 reviews); the demo keeps running until you stop it.")
                                        .arg(m_annotated));
        return;
    }
    // The next task as Label Studio hands it out (uncertainty sampling once a version exists).
    m_client.sendRaw("GET", QStringLiteral("/api/projects/%1/next").arg(m_project), {}, {},
                     [this](const QByteArray &body, const labelstudio::LsError &error) {
                         if (m_stage != Stage::Annotating)
                             return;
                         const json task = json::parse(body.begin(), body.end(), nullptr, false);
                         if (error.isError() || !task.is_object() || !task.contains("id") || !task.contains("data")) {
                             m_timer.start(m_options.annotationIntervalMs * 3); // nothing to label right now
                             return;
                         }
                         const QString text = QString::fromStdString(task["data"].value("text", std::string()));
                         const QString label = m_truth.value(text, QStringLiteral("Positive"));
                         const json annotation = {{"result",
                                                   {{{"from_name", "sentiment"}, {"to_name", "text"}, {"type", "choices"},
                                                     {"value", {{"choices", {label.toStdString()}}}}}}}};
                         m_client.createAnnotation(task["id"].get<int>(), QByteArray::fromStdString(annotation.dump()),
                                                   [this](const QByteArray &, const labelstudio::LsError &e) {
                                                       if (m_stage != Stage::Annotating)
                                                           return;
                                                       if (!e.isError())
                                                           Q_EMIT annotated(++m_annotated);
                                                       m_timer.start(m_options.annotationIntervalMs);
                                                   });
                     });
}

void DemoSession::stop()
{
    m_timer.stop();
    const bool wasRunning = m_labelStudio.state() != QProcess::NotRunning;
    m_stage = Stage::Stopped; // before the process ends, so its exit is not a failure
    if (m_engine)
        m_engine->stopServer(); // no webhook or request reaches the demo's loop from here on
    if (wasRunning) {
        m_labelStudio.terminate();
        if (!m_labelStudio.waitForFinished(10000))
            m_labelStudio.kill();
        m_labelStudio.waitForFinished(5000);
    }
    m_engine.reset(); // waits for its training run, then closes its store
    m_dataDir.reset();
    if (wasRunning)
        Q_EMIT stageChanged(Stage::Stopped, tr("The demo stopped; its Label Studio and data are gone."));
}

} // namespace loopdeck::demo
