#include "cli/commands.h"

#include <QTextStream>

namespace loopdeck::cli {

int runModel(const QStringList &)
{
    QTextStream(stderr) << "loopdeck: 'model' is not implemented yet\n";
    return 3;
}

} // namespace loopdeck::cli
