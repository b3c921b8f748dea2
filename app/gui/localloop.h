#pragma once
// The user's loop in this process: the LoopEngine of the data directory in the settings and the
// InProcessLoopClient the window views it through. The application owns it (gui::run() makes
// it before the window and destroys it after), so the loop is not a window's; a MainWindow made
// without one (the GUI tests) makes its own. When the store cannot be opened, error() says why
// and open() may be tried again with another folder (the window does after Settings).
// GUI thread only.
#include <QString>

#include <memory>

namespace loopdeck::client {
class InProcessLoopClient;
class LoopClient;
} // namespace loopdeck::client
namespace loopdeck::loop {
class LoopEngine;
}

namespace loopdeck::gui {

class LocalLoop final
{
public:
    LocalLoop();
    ~LocalLoop();
    LocalLoop(const LocalLoop &) = delete;
    LocalLoop &operator=(const LocalLoop &) = delete;

    // Opens the loop of `dataDir` (with the default loop settings) unless one is open; false
    // when its store cannot be opened (error() and errorDir() say why and where).
    bool open(const QString &dataDir);
    // Null while none is open.
    loop::LoopEngine *engine() const { return m_engine.get(); }
    client::LoopClient *client() const;
    // Why the last open() failed ("" after a success).
    QString error() const { return m_error; }
    QString errorDir() const { return m_errorDir; }

private:
    std::unique_ptr<loop::LoopEngine> m_engine;
    std::unique_ptr<client::InProcessLoopClient> m_client; // declared after: goes before the engine it views
    QString m_error;
    QString m_errorDir;
};

} // namespace loopdeck::gui
