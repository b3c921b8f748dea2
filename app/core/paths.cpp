#include "paths.h"

#include <QStandardPaths>

namespace loopdeck {

QString defaultDataDir()
{
    const QString fromEnv = qEnvironmentVariable("LOOPDECK_DATA_DIR");
    if (!fromEnv.isEmpty())
        return fromEnv;
    return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation);
}

} // namespace loopdeck
