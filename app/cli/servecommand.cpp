// `loopdeck serve`: the ML backend without a window, until SIGINT/SIGTERM.
#include "cli/commands.h"
#include "cli/terminationsignals.h"

#include "core/backend/backendserver.h"
#include "core/backend/modelregistry.h"
#include "core/backend/predictionservice.h"
#include "core/backend/operatortoken.h"
#include "core/loop/loopengine.h"
#include "core/model/textclassifier.h"
#include "core/paths.h"
#include "core/store/loopstore.h"
#include "settings/connectionprofile.h"
#include "settings/tokenstore.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QHostInfo>
#include <QSettings>
#include <QEventLoop>
#include <QTime>
#include <QTextStream>

#include <memory>


namespace loopdeck::cli {

namespace {

using backend::BackendServer;
using backend::PredictionService;
using backend::ServerConfig;

enum class LogLevel { Error = 0, Warning = 1, Info = 2, Debug = 3 };

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

// Turns the [serve] section of an INI file into command-line arguments. Every key must name an
// option of `parser` (not config or help); flags take true/false. Returns a sentence on error.
QString readConfigFile(const QString &path, const QList<QCommandLineOption> &options, QStringList *out)
{
    if (!QFileInfo(path).isFile())
        return QStringLiteral("the config file %1 does not exist").arg(path);
    QSettings ini(path, QSettings::IniFormat);
    if (ini.status() != QSettings::NoError)
        return QStringLiteral("the config file %1 is not a readable INI file").arg(path);
    const QStringList groups = ini.childGroups();
    for (const QString &g : groups)
        if (g != u"serve")
            return QStringLiteral("%1: unknown section [%2]; options go in a [serve] section").arg(path, g);
    if (!ini.childKeys().isEmpty())
        return QStringLiteral("%1: options must be in a [serve] section (found %2 outside it)").arg(path, ini.childKeys().constFirst());
    ini.beginGroup(QStringLiteral("serve"));
    const QStringList keys = ini.childKeys();
    for (const QString &key : keys) {
        const auto option = std::find_if(options.cbegin(), options.cend(),
                                         [&](const QCommandLineOption &o) { return o.names().contains(key); });
        if (option == options.cend() || key == u"config")
            return QStringLiteral("%1: unknown key \"%2\" (keys are the option names of `loopdeck serve --help`)").arg(path, key);
        const QVariant value = ini.value(key);
        if (option->valueName().isEmpty()) { // a flag
            const QString text = value.toString().trimmed().toLower();
            if (text != u"true" && text != u"false")
                return QStringLiteral("%1: \"%2\" takes true or false, not \"%3\"").arg(path, key, value.toString());
            if (text == u"true")
                *out << QStringLiteral("--") + key;
            continue;
        }
        // A repeatable option may list several values separated by commas.
        const QStringList values = value.typeId() == QMetaType::QStringList ? value.toStringList() : QStringList{value.toString()};
        for (const QString &v : values)
            *out << QStringLiteral("--") + key << v.trimmed();
    }
    return {};
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
    const QCommandLineOption allowedHostOption(
        QStringLiteral("allowed-host"),
        QStringLiteral("Also answer requests addressed to NAME (the Host header), e.g. host.docker.internal when Label Studio "
                       "runs in Docker. IP addresses, localhost and this machine's name are always answered; other names get "
                       "421 (protection against DNS rebinding). Repeatable."),
        QStringLiteral("NAME"));
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
    const QCommandLineOption labelStudioOption(
        QStringLiteral("label-studio"),
        QStringLiteral("Label Studio to reconcile annotations with and to import refreshed predictions into; the token comes "
                       "from LOOPDECK_TOKEN. Without it the loop still trains from webhooks."),
        QStringLiteral("URL"));
    const QCommandLineOption profileOption(QStringLiteral("profile"),
                                           QStringLiteral("Use the Label Studio connection saved in the app under NAME (URL and keychain token)."),
                                           QStringLiteral("NAME"));
    const loop::LoopSettings builtIn;
    const QCommandLineOption trainEveryOption(
        QStringLiteral("train-every"),
        QStringLiteral("Retrain after N new or changed annotations (default %1; 0 = off).").arg(builtIn.trainEvery), QStringLiteral("N"),
        QString::number(builtIn.trainEvery));
    const QCommandLineOption trainIntervalOption(QStringLiteral("train-interval"),
                                                 QStringLiteral("Also retrain every MINUTES when annotations changed (default off)."),
                                                 QStringLiteral("MINUTES"), QStringLiteral("0"));
    const QCommandLineOption trainDailyOption(QStringLiteral("train-daily"),
                                              QStringLiteral("Also retrain daily at HH:MM local time when annotations changed (default off)."),
                                              QStringLiteral("HH:MM"));
    const QCommandLineOption storeOption(
        QStringLiteral("store"),
        QStringLiteral("Keep the loop's store, the model files and the active versions in PostgreSQL, shared by every replica "
                       "started with the same URL (postgresql://USER:PASSWORD@HOST:PORT/DATABASE[?sslmode=require]); default: "
                       "the environment variable LOOPDECK_STORE, else a SQLite file in the data folder."),
        QStringLiteral("URL"));
    const QCommandLineOption replicaOption(QStringLiteral("replica-name"),
                                           QStringLiteral("This replica's name in the store's run records and logs (default host:port)."),
                                           QStringLiteral("NAME"));
    const QCommandLineOption noLoopOption(QStringLiteral("no-loop"),
                                          QStringLiteral("Serve predictions only: never train by itself (operator routes still work)."));
    const QList<QCommandLineOption> options = {hostOption, portOption, dataDirOption, userOption, passwordEnvOption,
                                               webhookSecretEnvOption, allowedHostOption, forceOption, maxBodyOption,
                                               threadsOption, modelOption, labelConfigOption, logLevelOption,
                                               labelStudioOption, profileOption, trainEveryOption, trainIntervalOption,
                                               trainDailyOption, noLoopOption, storeOption, replicaOption};
    parser.addOptions(options);
    const QCommandLineOption configOption(
        QStringLiteral("config"),
        QStringLiteral("Read options from an INI file: one key per option, named like the option without the dashes, in a "
                       "[serve] section (e.g. port = 9090, train-every = 100, force-insecure-bind = true). Options given on "
                       "the command line win."),
        QStringLiteral("FILE"));
    parser.addOption(configOption);
    if (!parser.parse(args)) {
        err << "loopdeck serve: " << parser.errorText() << '\n';
        return 2;
    }
    if (parser.isSet(configOption)) {
        // The file's options go in front of the command line's, so that a flag given on the
        // command line is the last one the parser sees and wins; repeatable ones add up.
        QStringList fromFile;
        if (const QString problem = readConfigFile(parser.value(configOption), options, &fromFile); !problem.isEmpty()) {
            err << "loopdeck serve: " << problem << '\n';
            return 2;
        }
        QStringList merged = args.mid(0, 1) + fromFile + args.mid(1);
        if (!parser.parse(merged)) {
            err << "loopdeck serve: " << parser.errorText() << '\n';
            return 2;
        }
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
    for (const QString &name : parser.values(allowedHostOption)) {
        const QString host = name.trimmed();
        if (host.isEmpty() || host.contains(QLatin1Char(':')) || host.contains(QLatin1Char('/')) || host.contains(QLatin1Char(' '))) {
            err << "loopdeck serve: --allowed-host wants a host name like host.docker.internal (no scheme or port), not '"
                << name << "'\n";
            return 2;
        }
        config.allowedHosts << host;
    }
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

    loop::LoopSettings defaults;
    defaults.enabled = !parser.isSet(noLoopOption);
    defaults.trainEvery = parser.value(trainEveryOption).toInt(&ok);
    if (!ok || defaults.trainEvery < 0) {
        err << "loopdeck serve: --train-every must be a whole number (0 = off), not '" << parser.value(trainEveryOption) << "'\n";
        return 2;
    }
    defaults.intervalMinutes = parser.value(trainIntervalOption).toInt(&ok);
    if (!ok || defaults.intervalMinutes < 0) {
        err << "loopdeck serve: --train-interval must be a whole number of minutes (0 = off), not '"
            << parser.value(trainIntervalOption) << "'\n";
        return 2;
    }
    if (parser.isSet(trainDailyOption)) {
        defaults.dailyAt = QTime::fromString(parser.value(trainDailyOption), QStringLiteral("H:mm"));
        if (!defaults.dailyAt.isValid()) {
            err << "loopdeck serve: --train-daily wants a time like 02:30, not '" << parser.value(trainDailyOption) << "'\n";
            return 2;
        }
    }

    // Label Studio for reconcile and prediction refresh: --label-studio URL with LOOPDECK_TOKEN,
    // or a saved connection. A token only ever goes to the server it was given for.
    QUrl labelStudioUrl;
    QString labelStudioToken;
    if (parser.isSet(labelStudioOption) && parser.isSet(profileOption)) {
        err << "loopdeck serve: give --label-studio URL or --profile NAME, not both\n";
        return 2;
    }
    if (parser.isSet(labelStudioOption)) {
        labelStudioUrl = QUrl::fromUserInput(parser.value(labelStudioOption));
        if (const QString bad = settings::ConnectionProfiles::validateUrl(labelStudioUrl); !bad.isEmpty()) {
            err << "loopdeck serve: --label-studio: " << bad << '\n';
            return 2;
        }
        labelStudioToken = qEnvironmentVariable("LOOPDECK_TOKEN");
        if (labelStudioToken.isEmpty()) {
            err << "loopdeck serve: --label-studio needs the token in the environment variable LOOPDECK_TOKEN\n";
            return 2;
        }
    } else if (parser.isSet(profileOption)) {
        settings::ConnectionProfiles profiles;
        const auto profile = profiles.find(parser.value(profileOption));
        if (!profile) {
            err << "loopdeck serve: no saved connection named '" << parser.value(profileOption) << "'\n";
            return 2;
        }
        labelStudioUrl = profile->url;
        settings::TokenStore tokens;
        QEventLoop wait;
        bool done = false;
        QString warning;
        tokens.read(profile->name, profile->url, [&](const QString &token, settings::TokenStore::Source, const QString &warn) {
            labelStudioToken = token;
            warning = warn;
            done = true;
            wait.quit();
        });
        if (!done)
            wait.exec();
        if (labelStudioToken.isEmpty()) {
            err << "loopdeck serve: the connection '" << profile->name << "' has no token in the keychain"
                << (warning.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(warning)) << '\n';
            return 2;
        }
    }

    loop::LoopEngine engine;
    // Every line of the loop's log, queued to this thread (one writer for stderr).
    QObject::connect(&engine, &loop::LoopEngine::logLine, &engine, [&err, level](const QString &line) {
        if (level >= LogLevel::Info) {
            err << now() << ' ' << line << '\n';
            err.flush();
        }
    });
    const QString storeUrl = parser.isSet(storeOption) ? parser.value(storeOption) : qEnvironmentVariable("LOOPDECK_STORE");
    if (!storeUrl.isEmpty() && !store::LoopStore::isPostgresUrl(storeUrl)) {
        err << "loopdeck serve: --store wants a PostgreSQL URL (postgresql://USER:PASSWORD@HOST:PORT/DATABASE), not '"
            << store::LoopStore::displayUrl(storeUrl) << "'\n";
        return 2;
    }
    engine.setReplicaName(parser.isSet(replicaOption) ? parser.value(replicaOption)
                                                      : QHostInfo::localHostName() + u':' + QString::number(config.port));
    if (const Status opened = engine.open(config.dataDir, defaults, storeUrl); !opened) {
        err << "loopdeck serve: " << opened.error() << '\n';
        return 1;
    }
    auto service = engine.predictionService();
    auto registry = service->registry();
    const int loaded = int(service->activeModelVersions().size());

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

    BackendServer &server = *engine.server();
    // Every receiver below has `server` (this thread) as its context, so signals emitted on
    // HTTP threads (webhookReceived, projectSetup) are queued here: one thread writes stderr.
    // Connected only when something will be printed: with no listener the server keeps no log.
    if (level >= LogLevel::Warning) {
        QObject::connect(&server, &BackendServer::requestServed, &server, [&err, level](const backend::RequestRecord &r) {
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
    QObject::connect(&server, &BackendServer::requestsDropped, &server, [&err, level](int count) {
        if (level >= LogLevel::Info)
            err << now() << " (" << count << " more requests not logged)\n";
    });
    QObject::connect(&server, &BackendServer::webhookReceived, &server, [&err, level](const backend::WebhookEvent &e) {
        if (level >= LogLevel::Info)
            err << now() << " webhook " << e.action << " project " << (e.projectId.isEmpty() ? QStringLiteral("?") : e.projectId)
                << " (" << e.payload.size() << " bytes)\n";
    });
    QObject::connect(&server, &BackendServer::projectSetup, &server,
                     [&err, level](const QString &projectId, const QString &hostname, const QString &version) {
                         if (level >= LogLevel::Info)
                             err << now() << " setup project " << projectId << " from "
                                 << (hostname.isEmpty() ? QStringLiteral("?") : hostname) << ": model_version " << version << '\n';
                     });
    QObject::connect(&server, &BackendServer::errorOccurred, &server, [&err](const QString &message) {
        err << now() << " error: " << message << '\n';
        err.flush();
    });

    QString error;
    if (!engine.startServer(config, &error)) {
        // errorOccurred printed the server's sentence; the engine's own (the operator token) not.
        if (!error.isEmpty() && error != server.lastError())
            err << now() << " error: " << error << '\n';
        return 1;
    }
    if (level >= LogLevel::Warning) {
        err << now() << " LoopDeck ML backend listening on http://" << config.host << ':' << server.port() << " ("
            << server.threadCount() << " threads, " << loaded << " registry models, data " << config.dataDir
            << (config.hasAuth() ? QStringLiteral(", Basic auth") : QString()) << ", operator token in "
            << backend::operatortoken::pathIn(config.dataDir) << ")\n";
        err.flush();
    }
    if (!labelStudioUrl.isEmpty()) {
        engine.setLabelStudio(labelStudioUrl, labelStudioToken);
        if (level >= LogLevel::Info)
            err << now() << " loop reconciles with Label Studio at " << labelStudioUrl.toString() << '\n';
    }

    const TerminationSignals signalHandlers;
    if (!signalHandlers.error().isEmpty()) {
        err << "loopdeck serve: " << signalHandlers.error() << '\n';
        return 1;
    }

    const int status = QCoreApplication::exec();
    if (level >= LogLevel::Info)
        err << now() << " stopping\n";
    server.stop();
    err.flush();
    return status;
}

} // namespace loopdeck::cli
