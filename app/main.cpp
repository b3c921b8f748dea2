// LoopDeck entry point: picks the headless command line or the desktop window from the
// arguments, and nothing else. A headless build (LOOPDECK_GUI=OFF) always takes the command
// line, which prints the help when no command is given.
#include "cli/cli.h"
#if LOOPDECK_HAS_GUI
#include "gui/guiapp.h"
#endif

int main(int argc, char *argv[])
{
#if LOOPDECK_HAS_GUI
    if (!loopdeck::cli::isCliInvocation(argc, argv))
        return loopdeck::gui::run(argc, argv);
#endif
    return loopdeck::cli::run(argc, argv);
}
