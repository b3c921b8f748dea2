#include "gui/guiapp.h"

#include <QApplication>
#include <QLabel>

namespace loopdeck::gui {

int run(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("LoopDeck"));
    QApplication::setOrganizationName(QStringLiteral("LoopDeck"));
    QLabel placeholder(QStringLiteral("LoopDeck"));
    placeholder.show();
    return app.exec();
}

} // namespace loopdeck::gui
