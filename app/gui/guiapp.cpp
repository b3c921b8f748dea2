#include "gui/guiapp.h"

#include "gui/appsettings.h"
#include "gui/localloop.h"
#include "gui/mainwindow.h"
#include "gui/translations.h"

#include <QApplication>
#include <QIcon>
#include <QSettings>

// Resources compiled into the static gui library must be pulled in by name (outside any namespace).
static void initGuiResources()
{
    Q_INIT_RESOURCE(loopdeck);
}

namespace loopdeck::gui {

void initResources()
{
    ::initGuiResources();
}

int run(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("LoopDeck"));
    QApplication::setOrganizationName(QStringLiteral("LoopDeck"));
    QApplication::setApplicationVersion(QStringLiteral(LOOPDECK_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("loopdeck"));
    initResources();
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/loopdeck.svg")));
    // The user's loop is the application's: made before the window, gone after it. A store that
    // cannot be opened is the window's to explain (its "Loop" page).
    LocalLoop loop;
    {
        QSettings settings;
        const AppSettings app(&settings);
        installTranslations(preferredLocale(app.language()));
        loop.open(app.dataDir());
    }

    MainWindow window(nullptr, &loop);
    window.show();
    if (QCoreApplication::arguments().contains(QStringLiteral("--demo")))
        window.startDemo();
    return app.exec();
}

} // namespace loopdeck::gui
