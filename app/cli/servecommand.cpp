// `loopdeck serve`: the ML backend without a window, until SIGINT/SIGTERM.
#include "cli/commands.h"

#include "core/backend/backendserver.h"
#include "core/backend/modelregistry.h"
#include "core/backend/predictionservice.h"
#include "core/model/textclassifier.h"
#include "core/paths.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QSocketNotifier>
#include <QTextStream>

#include <csignal>
#include <memory>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace loopdeck::cli {

namespace {

using backend::BackendServer;
using backend::PredictionService;
using backend::ServerConfig;

enum class LogLevel { Error = 0, Warning = 1, Info = 2, Debug = 3 };

#ifdef Q_OS_UNIX
int g_signalPipe[2] = {-1, -1};

void onTerminationSignal(int)
{
    const char byte = 1;
    [[maybe_unused]] const auto written = ::write(g_signalPipe[1], &byte, 1);
}
#endif

QString now()
{
    return QDateTime::currentDateTime().toString(Qt::ISODateWithMs);
}

// "7=path" -> ("7", "path"); false when malformed.
bool splitAssignment(const QString &value, QString *projectId, QString *path)
{
    const qsizetype eq = value.indexOf(QLatin1Char('='));
    if (eq <= 0 || eq == value.size() - 1)
        return false;
    *projectId = value.left(eq).trimmed();
    *path = value.mid(eq + 1);
    return backend::ModelRegistry::isValidProjectId(*projectId);
}

} // namespace

int runServe(const QStringList &args)
{
    QTextStream err(stderr);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Runs LoopDeck's Label Studio ML backend without a window until interrupted (Ctrl+C or SIGTERM).\n"
        "Register it in Label Studio (project settings > Model) with http://HOST:PORT."));
    parser.addHelpOption();
    const QCommandLineOption hostOption(QStringLiteral("host"), QStringLiteral("Address to listen on (default 127.0.0.1)."),
                                        QStringLiteral("H"), QStringLiteral("127.0.0.1"));
    const QCommandLineOption portOption(QStringLiteral("port"), QStringLiteral("Port to listen on (default 9090; 0 = any free port)."),
                                        QStringLiteral("P"), QStringLiteral("9090"));
    const QCommandLineOption dataDirOption(QStringLiteral("data-dir"),
                                           QStringLiteral("Data folder with the model registry (default: LoopDeck's data folder)."),
                                           QStringLiteral("DIR"));
    const QCommandLineOption userOption(QStringLiteral("basic-auth-user"),
                                        QStringLiteral("Require HTTP Basic auth with this user (Label Studio: Authentication method BASIC_AUTH)."),
                                        QStringLiteral("U"));
    const QCommandLineOption passwordEnvOption(QStringLiteral("basic-auth-password-env"),
                                               QStringLiteral("Name of the environment variable holding the Basic auth password."),
                                               QStringLiteral("VAR"));
    const QCommandLineOption webhookSecretEnvOption(
        QStringLiteral("webhook-secret-env"),
        QStringLiteral("Name of the environment variable holding a shared secret that webhooks may send in the "
                       "X-LoopDeck-Webhook-Secret header instead of Basic auth (without Basic auth it is required)."),
        QStringLiteral("VAR"));
    const QCommandLineOption forceOption(QStringLiteral("force-insecure-bind"),
                                         QStringLiteral("Allow a non-loopback address without Basic auth (trusted networks only)."));
    const QCommandLineOption maxBodyOption(QStringLiteral("max-body-mb"),
                                           QStringLiteral("Largest request body accepted, in MiB (default 32)."), QStringLiteral("N"),
                                           QStringLiteral("32"));
    const QCommandLineOption threadsOption(QStringLiteral("threads"),
                                           QStringLiteral("HTTP threads (default 0 = automatic, %1 here).")
                                               .arg(BackendServer::automaticThreadCount()),
                                           QStringLiteral("N"), QStringLiteral("0"));
    const QCommandLineOption modelOption(QStringLiteral("model"),
                                         QStringLiteral("Serve MODEL_FILE for project PROJECT_ID (in memory, not added to the registry). Repeatable."),
                                         QStringLiteral("PROJECT_ID=MODEL_FILE"));
    const QCommandLineOption labelConfigOption(QStringLiteral("label-config"),
                                               QStringLiteral("Use this label config XML for PROJECT_ID until Label Studio sends one. Repeatable."),
                                               QStringLiteral("PROJECT_ID=FILE.xml"));
    const QCommandLineOption logLevelOption(QStringLiteral("log-level"),
                                            QStringLiteral("error, warning (failed requests), info (every request; default) or debug."),
                                            QStringLiteral("LEVEL"), QStringLiteral("info"));
    parser.addOptions({hostOption, portOption, dataDirOption, userOption, passwordEnvOption, webhookSecretEnvOption, forceOption, maxBodyOption,
                       threadsOption, modelOption, labelConfigOption, logLevelOption});
    if (!parser.parse(args)) {
        err << "loopdeck serve: " << parser.errorText() << '\n';
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        QTextStream(stdout) << parser.helpText();
        return 0;
    }
    if (!parser.positionalArguments().isEmpty()) {
        err << "loopdeck serve: unexpected argument '" << parser.positionalArguments().constFirst() << "'\n";
        return 2;
    }

    const QString levelName = parser.value(logLevelOption).toLower();
    LogLevel level = LogLevel::Info;
    if (levelName == u"error")
        level = LogLevel::Error;
    else if (levelName == u"warning" || levelName == u"warn")
        level = LogLevel::Warning;
    else if (levelName == u"debug")
        level = LogLevel::Debug;
    else if (levelName != u"info") {
        err << "loopdeck serve: --log-level must be error, warning, info or debug, not '" << levelName << "'\n";
        return 2;
    }

    ServerConfig config;
    config.host = parser.value(hostOption);
    bool ok = false;
    const uint port = parser.value(portOption).toUInt(&ok);
    if (!ok || port > 65535) {
        err << "loopdeck serve: --port must be a number from 0 to 65535, not '" << parser.value(portOption) << "'\n";
        return 2;
    }
    config.port = quint16(port);
    const double maxBodyMb = parser.value(maxBodyOption).toDouble(&ok);
    if (!ok || maxBodyMb <= 0) {
        err << "loopdeck serve: --max-body-mb must be a positive number, not '" << parser.value(maxBodyOption) << "'\n";
        return 2;
    }
    config.maxBodyBytes = qint64(maxBodyMb * 1024 * 1024);
    config.threads = parser.value(threadsOption).toInt(&ok);
    if (!ok || config.threads < 0 || config.threads > 64) {
        err << "loopdeck serve: --threads must be a number from 0 to 64\n";
        return 2;
    }
    config.forceInsecureBind = parser.isSet(forceOption);
    config.dataDir = parser.isSet(dataDirOption) ? parser.value(dataDirOption) : defaultDataDir();
    if (parser.isSet(userOption)) {
        config.basicAuthUser = parser.value(userOption);
        if (!parser.isSet(passwordEnvOption)) {
            err << "loopdeck serve: --basic-auth-user needs --basic-auth-password-env VAR (the password is read from "
                   "an environment variable so it does not show in the process list)\n";
            return 2;
        }
    }
    if (parser.isSet(passwordEnvOption)) {
        const QString var = parser.value(passwordEnvOption);
        config.basicAuthPassword = qEnvironmentVariable(var.toLocal8Bit().constData());
        if (config.basicAuthPassword.isEmpty()) {
            err << "loopdeck serve: the environment variable " << var << " is not set or empty\n";
            return 2;
        }
        if (config.basicAuthUser.isEmpty()) {
            err << "loopdeck serve: --basic-auth-password-env needs --basic-auth-user\n";
            return 2;
        }
    }
    if (parser.isSet(webhookSecretEnvOption)) {
        const QString var = parser.value(webhookSecretEnvOption);
        config.webhookSecret = qEnvironmentVariable(var.toLocal8Bit().constData());
        if (config.webhookSecret.isEmpty()) {
            err << "loopdeck serve: the environment variable " << var << " is not set or empty\n";
            return 2;
        }
    }
    if (const QString refused = BackendServer::checkConfig(config); !refused.isEmpty()) {
        err << "loopdeck serve: " << refused << '\n';
        return 1;
    }

    auto registry = std::make_shared<backend::ModelRegistry>(config.dataDir);
    auto service = std::make_shared<PredictionService>(registry);
    QStringList warnings;
    const int loaded = service->loadActiveFromRegistry(&warnings);
    for (const QString &w : warnings)
        err << "loopdeck serve: warning: " << w << '\n';

    for (const QString &value : parser.values(labelConfigOption)) {
        QString projectId, path;
        if (!splitAssignment(value, &projectId, &path)) {
            err << "loopdeck serve: --label-config wants PROJECT_ID=FILE.xml, not '" << value << "'\n";
            return 2;
        }
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            err << "loopdeck serve: cannot read the label config " << path << ": " << file.errorString() << '\n';
            return 2;
        }
        const auto outcome = service->setLabelConfig(projectId, QString::fromUtf8(file.readAll()));
        if (!outcome.servable)
            err << "loopdeck serve: warning: project " << projectId << ": " << outcome.reason << '\n';
    }
    for (const QString &value : parser.values(modelOption)) {
        QString projectId, path;
        if (!splitAssignment(value, &projectId, &path)) {
            err << "loopdeck serve: --model wants PROJECT_ID=MODEL_FILE, not '" << value << "'\n";
            return 2;
        }
        QString error;
        auto model = model::TextClassifier::load(path, &error);
        if (!model) {
            err << "loopdeck serve: cannot load the model " << path << ": " << error << '\n';
            return 2;
        }
        // Numbered after the registry's versions so names never collide.
        int version = service->activeVersion(projectId);
        for (const auto &info : registry->versions(projectId))
            version = std::max(version, info.version);
        service->installModel(projectId, std::move(model), version + 1);
        if (level >= LogLevel::Info)
            err << now() << " project " << projectId << " serves " << path << " as "
                << PredictionService::versionName(version + 1) << '\n';
    }

    BackendServer server(service);
    // Connected only when something will be printed: with no listener the server keeps no log.
    if (level >= LogLevel::Warning) {
        QObject::connect(&server, &BackendServer::requestServed, [&err, level](const backend::RequestRecord &r) {
            const bool failed = r.status >= 400;
            if (level >= LogLevel::Info || failed) {
                err << r.when.toLocalTime().toString(Qt::ISODateWithMs) << ' ' << r.method << ' ' << r.path << ' ' << r.status << ' '
                    << QString::number(r.latencyMs, 'f', 2) << " ms";
                if (r.tasks >= 0)
                    err << " tasks=" << r.tasks;
                err << " from " << r.peer << '\n';
                err.flush();
            }
        });
    }
    QObject::connect(&server, &BackendServer::requestsDropped, [&err, level](int count) {
        if (level >= LogLevel::Info)
            err << now() << " (" << count << " more requests not logged)\n";
    });
    QObject::connect(&server, &BackendServer::webhookReceived, [&err, level](const backend::WebhookEvent &e) {
        if (level >= LogLevel::Info)
            err << now() << " webhook " << e.action << " project " << (e.projectId.isEmpty() ? QStringLiteral("?") : e.projectId)
                << " (" << e.payload.size() << " bytes)\n";
    });
    QObject::connect(&server, &BackendServer::projectSetup,
                     [&err, level](const QString &projectId, const QString &hostname, const QString &version) {
                         if (level >= LogLevel::Info)
                             err << now() << " setup project " << projectId << " from "
                                 << (hostname.isEmpty() ? QStringLiteral("?") : hostname) << ": model_version " << version << '\n';
                     });
    QObject::connect(&server, &BackendServer::errorOccurred, [&err](const QString &message) {
        err << now() << " error: " << message << '\n';
        err.flush();
    });

    QString error;
    if (!server.start(config, &error)) {
        // errorOccurred already printed the sentence; make the exit status say it too.
        return 1;
    }
    if (level >= LogLevel::Warning) {
        err << now() << " LoopDeck ML backend listening on http://" << config.host << ':' << server.port() << " ("
            << server.threadCount() << " threads, " << loaded << " registry models, data " << config.dataDir
            << (config.hasAuth() ? QStringLiteral(", Basic auth") : QString()) << ")\n";
        err.flush();
    }

#ifdef Q_OS_UNIX
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, g_signalPipe) != 0) {
        err << "loopdeck serve: cannot set up signal handling\n";
        return 1;
    }
    QSocketNotifier notifier(g_signalPipe[0], QSocketNotifier::Read);
    QObject::connect(&notifier, &QSocketNotifier::activated, [&] {
        char byte = 0;
        [[maybe_unused]] const auto got = ::read(g_signalPipe[0], &byte, 1);
        QCoreApplication::quit();
    });
    struct sigaction action = {};
    action.sa_handler = onTerminationSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
#endif

    const int status = QCoreApplication::exec();
    if (level >= LogLevel::Info)
        err << now() << " stopping\n";
    server.stop();
#ifdef Q_OS_UNIX
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    ::close(g_signalPipe[0]);
    ::close(g_signalPipe[1]);
    g_signalPipe[0] = g_signalPipe[1] = -1;
#endif
    err.flush();
    return status;
}

} // namespace loopdeck::cli
