#pragma once
// One function per top-level command. Each receives the arguments after the command name
// (args[0] is the command itself, as QCommandLineParser expects) and returns an exit status.
// Errors go to stderr as one sentence a person understands; results go to stdout.
#include <QStringList>

namespace loopdeck::cli {

int runProjects(const QStringList &args); // projectscommand.cpp
int runModel(const QStringList &args);    // modelcommand.cpp
int runServe(const QStringList &args);    // servecommand.cpp
int runLoop(const QStringList &args);     // loopcommand.cpp
int runDemo(const QStringList &args);     // democommand.cpp
int runOperatorToken(const QStringList &args); // loopcommand.cpp

} // namespace loopdeck::cli
