#pragma once
// Headless command line: `loopdeck projects`, `loopdeck model train|predict`, `loopdeck serve`.
// main() asks isCliInvocation() first; run() owns its QCoreApplication.

namespace loopdeck::cli {

// True when argv[1] names a command (or --help/--version), so no window is needed.
bool isCliInvocation(int argc, char *argv[]);

// Runs the command; returns the process exit status.
int run(int argc, char *argv[]);

} // namespace loopdeck::cli
