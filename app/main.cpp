// LoopDeck entry point: picks the headless command line or the desktop window from the
// arguments, and nothing else. A headless build (LOOPDECK_GUI=OFF) always takes the command
// line, which prints the help when no command is given.
#include "cli/cli.h"
#if LOOPDECK_HAS_GUI
#include "gui/guiapp.h"
#endif

#ifdef _WIN32
#include <windows.h>

#include <cstdio>

// The Windows desktop build is a GUI-subsystem program without a console of its own; a command
// (`loopdeck serve` typed in cmd or PowerShell) writes to the console it was started from.
// Streams already redirected to a file or pipe are left alone. Not verified on Windows yet
// (packaging/README.md).
static void attachParentConsole()
{
    if (!AttachConsole(ATTACH_PARENT_PROCESS))
        return;
    FILE *stream = nullptr;
    if (_fileno(stdout) < 0)
        freopen_s(&stream, "CONOUT$", "w", stdout);
    if (_fileno(stderr) < 0)
        freopen_s(&stream, "CONOUT$", "w", stderr);
}
#endif

int main(int argc, char *argv[])
{
#if LOOPDECK_HAS_GUI
    if (!loopdeck::cli::isCliInvocation(argc, argv))
        return loopdeck::gui::run(argc, argv);
#endif
#ifdef _WIN32
    attachParentConsole();
#endif
    return loopdeck::cli::run(argc, argv);
}
