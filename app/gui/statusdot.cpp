#include "gui/statusdot.h"

#include <QPainter>

namespace loopdeck::gui {

QPixmap statusDot(const QColor &color, qreal devicePixelRatio)
{
    QPixmap pix(QSize(14, 14) * devicePixelRatio);
    pix.setDevicePixelRatio(devicePixelRatio);
    pix.fill(Qt::transparent);
    QPainter p(&pix);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(color.darker(130), 1));
    p.setBrush(color);
    p.drawEllipse(QRectF(1.5, 1.5, 11, 11));
    return pix;
}

} // namespace loopdeck::gui
