#pragma once
// Runs one asynchronous client call to completion in a local event loop, for the command
// line and tests (never on the GUI thread). Usage:
//   auto [projects, error] = syncWait<QList<Project>>([&](auto cb) { client.fetchProjects(cb); });
#include "labelstudio/labelstudioclient.h"

#include <QEventLoop>

#include <utility>

namespace loopdeck::labelstudio {

template <typename T, typename Call>
std::pair<T, LsError> syncWait(Call call)
{
    QEventLoop loop;
    std::pair<T, LsError> result;
    bool finished = false;
    call(Callback<T>([&](const T &value, const LsError &error) {
        result = {value, error};
        finished = true;
        loop.quit();
    }));
    if (!finished)
        loop.exec();
    return result;
}

} // namespace loopdeck::labelstudio
