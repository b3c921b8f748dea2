// LoopDeck entry point: picks the headless command line or the desktop window from the
// arguments, and nothing else.
#include "cli/cli.h"
#include "gui/guiapp.h"

int main(int argc, char *argv[])
{
    if (loopdeck::cli::isCliInvocation(argc, argv))
        return loopdeck::cli::run(argc, argv);
    return loopdeck::gui::run(argc, argv);
}
