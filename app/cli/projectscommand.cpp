#include "cli/commands.h"

#include <QTextStream>

namespace loopdeck::cli {

int runProjects(const QStringList &)
{
    QTextStream(stderr) << "loopdeck: 'projects' is not implemented yet\n";
    return 3;
}

} // namespace loopdeck::cli
