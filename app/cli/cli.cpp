#include "cli/cli.h"
#include "cli/commands.h"

#include <QCoreApplication>
#include <QTextStream>

#include <cstring>
#include <functional>
#include <vector>

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
    {"loop", "status, train, activate, rollback, cancel or settings on a running backend", runLoop},
    {"operator-token", "print (or --rotate) the operator token that /loop/* and the window's remote view need",
     runOperatorToken},
    {"demo", "a local Label Studio, a sample project and a simulated annotator, to watch the loop", runDemo},
};

int printUsage(QTextStream &out)
{
    out << "Usage: loopdeck [COMMAND] [OPTIONS]\n"
        << "       loopdeck --help | --version\n\n";
    if (LOOPDECK_HAS_GUI)
        out << "Without a command LoopDeck opens its window (Qt's standard options such as\n"
               "-platform and -style apply; LOOPDECK_LANG=zh_CN or en overrides the language);\n"
               "with --demo the window starts the demo (see `loopdeck demo --help`).\n";
    else
        out << "This is a headless build: it has no window, and without a command it prints this help.\n";
    out << "\nCommands:\n";
    for (const Command &c : kCommands)
        out << "  " << QString::fromLatin1(c.name).leftJustified(15) << c.summary << '\n';
    out << "\nOptions:\n"
        << "  -h, --help  show this help (also: loopdeck help)\n"
        << "  --version   print \"loopdeck VERSION\" and exit\n"
        << "\nRun `loopdeck COMMAND --help` for a command's options.\n";
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
    // Qt's generated --help says "Usage: <argv[0]> [options]"; show "loopdeck serve" there
    // instead of the binary's full path. The copy keeps argv itself untouched.
    QByteArray program("loopdeck");
    if (isCliInvocation(argc, argv) && argv[1][0] != '-')
        program += ' ' + QByteArray(argv[1]);
    std::vector<char *> qtArgv(argv, argv + argc);
    qtArgv.push_back(nullptr);
    if (argc > 0)
        qtArgv[0] = program.data();
    int qtArgc = argc;
    QCoreApplication app(qtArgc, qtArgv.data());
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
    if (first.isEmpty() || first == u"--help" || first == u"-h" || first == u"help")
        return printUsage(out); // no command at all only reaches here in a headless build
    QTextStream err(stderr);
    err << "loopdeck: unknown command '" << first << "'\n";
    printUsage(err);
    return 2;
}

} // namespace loopdeck::cli
