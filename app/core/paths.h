#pragma once
// Where LoopDeck keeps its files. The data directory holds the SQLite store and the model
// files; it defaults to the platform's app-data location and can be overridden by the
// LOOPDECK_DATA_DIR environment variable, the settings dialog, or `--data-dir`.
#include <QString>

namespace loopdeck {

QString defaultDataDir();

} // namespace loopdeck
