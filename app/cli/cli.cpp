#include "cli/cli.h"
#include "cli/commands.h"

#include <QCoreApplication>
#include <QTextStream>

#include <cstring>
#include <functional>

namespace loopdeck::cli {
namespace {

struct Command {
    const char *name;
    const char *summary;
    std::function<int(const QStringList &)> run;
};

const Command kCommands[] = {
    {"projects", "list the projects of a Label Studio server with their annotation counts", runProjects},
    {"model", "train a text classifier from JSON lines, or predict with one (train | predict)", runModel},
    {"serve", "run the ML backend and the loop without a window", runServe},
    {"loop", "status, train, activate or rollback on a running backend", runLoop},
};

int printUsage(QTextStream &out)
{
    out << "Usage: loopdeck [COMMAND] [OPTIONS]\n\n"
        << "Without a command LoopDeck opens its window.\n\nCommands:\n";
    for (const Command &c : kCommands)
        out << "  " << QString::fromLatin1(c.name).leftJustified(10) << c.summary << '\n';
    out << "\nRun `loopdeck COMMAND --help` for a command's options.\n";
    return 0;
}

} // namespace

bool isCliInvocation(int argc, char *argv[])
{
    if (argc < 2)
        return false;
    const char *first = argv[1];
    if (!std::strcmp(first, "--help") || !std::strcmp(first, "-h") || !std::strcmp(first, "--version")
        || !std::strcmp(first, "help"))
        return true;
    for (const Command &c : kCommands)
        if (!std::strcmp(first, c.name))
            return true;
    return false;
}

int run(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("LoopDeck"));
    QCoreApplication::setOrganizationName(QStringLiteral("LoopDeck"));
    QCoreApplication::setApplicationVersion(QStringLiteral(LOOPDECK_VERSION));
    QTextStream out(stdout);
    QStringList args = app.arguments();
    args.removeFirst();
    const QString first = args.value(0);
    if (first == u"--version") {
        out << "loopdeck " << LOOPDECK_VERSION << '\n';
        return 0;
    }
    for (const Command &c : kCommands)
        if (first == QLatin1String(c.name))
            return c.run(args);
    if (first == u"--help" || first == u"-h" || first == u"help")
        return printUsage(out);
    QTextStream err(stderr);
    err << "loopdeck: unknown command '" << first << "'\n";
    printUsage(err);
    return 2;
}

} // namespace loopdeck::cli
