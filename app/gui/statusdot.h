#pragma once
// The small coloured disc that shows a state (connected, running, failed) next to a label.
// Used by the main window's connection status and the backend panel.
#include <QColor>
#include <QPixmap>

namespace loopdeck::gui {

// A 14×14 (device-independent) antialiased disc with a darker rim.
QPixmap statusDot(const QColor &color, qreal devicePixelRatio);

} // namespace loopdeck::gui
