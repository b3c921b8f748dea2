#include "cli/commands.h"

#include <QTextStream>

namespace loopdeck::cli {

int runServe(const QStringList &)
{
    QTextStream(stderr) << "loopdeck: 'serve' is not implemented yet\n";
    return 3;
}

} // namespace loopdeck::cli
