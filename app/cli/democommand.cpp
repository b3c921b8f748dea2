// `loopdeck demo`: the demo without a window — a local Label Studio with a sample project, the
// backend and the loop, and a simulated annotator, until interrupted (Ctrl+C or SIGTERM), which
// stops everything it started. Progress and the loop's events go to stderr, one line each.
#include "cli/commands.h"
#include "cli/terminationsignals.h"

#include "core/backend/backendserver.h"
#include "core/demo/demosession.h"
#include "core/loop/loopengine.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QTextStream>

namespace loopdeck::cli {

int runDemo(const QStringList &args)
{
    QTextStream err(stderr);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Runs the LoopDeck demo without a window: starts a local Label Studio (from the venv that "
        "`scripts/quickstart.sh app` prepares, or LOOPDECK_LABEL_STUDIO), creates a project with sample reviews, "
        "starts the backend, and lets a simulated annotator label at a visible pace while the loop retrains. "
        "Ctrl+C stops it all."));
    parser.addHelpOption();
    const QCommandLineOption tasksOption(QStringLiteral("tasks"), QStringLiteral("Sample reviews to import (default 300)."),
                                         QStringLiteral("N"), QStringLiteral("300"));
    const QCommandLineOption everyOption(QStringLiteral("train-every"), QStringLiteral("Retrain every N annotations (default 20)."),
                                         QStringLiteral("N"), QStringLiteral("20"));
    const QCommandLineOption paceOption(QStringLiteral("pace-ms"),
                                        QStringLiteral("Milliseconds between two annotations (default 700)."), QStringLiteral("MS"),
                                        QStringLiteral("700"));
    const QCommandLineOption maxOption(QStringLiteral("annotations"),
                                       QStringLiteral("Annotations the simulated annotator makes (default 200)."), QStringLiteral("N"),
                                       QStringLiteral("200"));
    parser.addOptions({tasksOption, everyOption, paceOption, maxOption});
    if (!parser.parse(args)) {
        err << "loopdeck demo: " << parser.errorText() << '\n';
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        QTextStream(stdout) << parser.helpText();
        return 0;
    }
    demo::DemoSession::Options options;
    bool ok1 = false, ok2 = false, ok3 = false, ok4 = false;
    options.tasks = parser.value(tasksOption).toInt(&ok1);
    options.trainEvery = parser.value(everyOption).toInt(&ok2);
    options.annotationIntervalMs = parser.value(paceOption).toInt(&ok3);
    options.maxAnnotations = parser.value(maxOption).toInt(&ok4);
    if (!ok1 || !ok2 || !ok3 || !ok4 || options.tasks < 10 || options.trainEvery < 2 || options.annotationIntervalMs < 0
        || options.maxAnnotations < 0) {
        err << "loopdeck demo: --tasks (10 or more), --train-every (2 or more), --pace-ms and --annotations must be whole numbers\n";
        return 2;
    }

    const auto now = [] { return QDateTime::currentDateTime().toString(Qt::ISODateWithMs); };
    // The session makes its own loop engine in its temporary folder (start() creates it).
    demo::DemoSession session;
    int status = 0;
    QObject::connect(&session, &demo::DemoSession::stageChanged, &session,
                     [&](demo::DemoSession::Stage, const QString &message) {
                         err << now() << " demo " << message << '\n';
                         err.flush();
                     });
    QObject::connect(&session, &demo::DemoSession::labelStudioReady, &session, [&](const QUrl &url, const QString &, int project) {
        const quint16 port = session.engine()->server()->port();
        err << now() << " demo Label Studio: " << url.toString() << "/projects/" << project
            << " (user demo@loopdeck.local, password LoopDeck-demo-1); backend: http://127.0.0.1:" << port
            << "; loop status: loopdeck loop status --backend http://127.0.0.1:" << port << " --project "
            << project << '\n';
        err.flush();
    });
    QObject::connect(&session, &demo::DemoSession::failed, &session, [&](const QString &) {
        status = 1;
        QCoreApplication::quit();
    });
    const TerminationSignals signalHandlers;
    session.start(options);
    if (loop::LoopEngine *engine = session.engine())
        QObject::connect(engine, &loop::LoopEngine::logLine, &session, [&](const QString &line) {
            err << now() << ' ' << line << '\n';
            err.flush();
        });
    const int loopStatus = QCoreApplication::exec();
    err << now() << " demo stopping\n";
    session.stop();
    err.flush();
    return status != 0 ? status : loopStatus;
}

} // namespace loopdeck::cli
