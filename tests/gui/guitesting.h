#pragma once
// What the offscreen GUI tests share: saving a screenshot of a widget as PNG into
// LOOPDECK_SCREENSHOTS (build/<preset>/screenshots), where scripts/update-screenshots.sh finds it.
#include <QApplication>
#include <QDir>
#include <QPixmap>
#include <QString>
#include <QTest>
#include <QWidget>

namespace loopdeck::testing {

inline void saveScreenshot(QWidget *w, const QString &name)
{
    QApplication::processEvents();
    const QString dir = QStringLiteral(LOOPDECK_SCREENSHOTS);
    QDir().mkpath(dir);
    const QPixmap pix = w->grab();
    QVERIFY2(!pix.isNull(), qPrintable(name));
    const QString path = dir + QLatin1Char('/') + name;
    QVERIFY2(pix.save(path, "PNG"), qPrintable(path));
    qInfo("screenshot: %s", qPrintable(path));
}

} // namespace loopdeck::testing
