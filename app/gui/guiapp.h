#pragma once
// Desktop entry: creates the QApplication, loads the translation for the system locale,
// opens the user's loop (LocalLoop, owned here rather than by a window) and shows the main window. Called by main() when no command-line command is given.

namespace loopdeck::gui {

int run(int argc, char *argv[]);
// Registers the icons embedded in the gui library (run() does it; tests call it themselves).
void initResources();

} // namespace loopdeck::gui
