#include "gui/localloop.h"

#include "core/client/inprocessloopclient.h"
#include "core/loop/loopengine.h"

namespace loopdeck::gui {

LocalLoop::LocalLoop() = default;

LocalLoop::~LocalLoop() = default;

bool LocalLoop::open(const QString &dataDir)
{
    if (m_engine)
        return true;
    auto engine = std::make_unique<loop::LoopEngine>();
    if (const Status opened = engine->open(dataDir, loop::LoopSettings()); !opened) {
        m_error = opened.error();
        m_errorDir = dataDir;
        qWarning("LoopDeck: the loop cannot open its store: %s", qUtf8Printable(m_error));
        return false;
    }
    m_error.clear();
    m_errorDir.clear();
    m_engine = std::move(engine);
    m_client = std::make_unique<client::InProcessLoopClient>(m_engine.get());
    return true;
}

client::LoopClient *LocalLoop::client() const
{
    return m_client.get();
}

} // namespace loopdeck::gui
