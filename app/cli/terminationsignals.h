#pragma once
// Quits the Qt event loop on SIGINT or SIGTERM, for the long-running commands (`serve`,
// `demo`): the signal handler only writes a byte to a socket pair, a QSocketNotifier in the
// main thread reads it and calls QCoreApplication::quit(), so the command's own code runs its
// clean shutdown after exec() returns. Unix only; elsewhere it does nothing. One at a time.
#include <QString>

#include <memory>

namespace loopdeck::cli {

class TerminationSignals final
{
public:
    TerminationSignals();
    ~TerminationSignals(); // restores the default handlers
    TerminationSignals(const TerminationSignals &) = delete;
    TerminationSignals &operator=(const TerminationSignals &) = delete;

    // Empty when the handlers are installed, else why not.
    QString error() const { return m_error; }

private:
    struct Impl;
    std::unique_ptr<Impl> d;
    QString m_error;
};

} // namespace loopdeck::cli
