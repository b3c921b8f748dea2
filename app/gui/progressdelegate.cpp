#include "gui/progressdelegate.h"

#include "gui/projectsmodel.h"

#include <QApplication>
#include <QPainter>
#include <QStyleOptionProgressBar>

#include <algorithm>
#include <cmath>

namespace loopdeck::gui {

ProgressDelegate::ProgressDelegate(QObject *parent)
    : QStyledItemDelegate(parent)
{
}

void ProgressDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    // Background and selection as for any other cell, without the text.
    QStyleOptionViewItem background = option;
    initStyleOption(&background, index);
    background.text.clear();
    const QWidget *widget = option.widget;
    QStyle *style = widget ? widget->style() : QApplication::style();
    style->drawControl(QStyle::CE_ItemViewItem, &background, painter, widget);

    const double fraction = std::clamp(index.data(ProjectsModel::FractionRole).toDouble(), 0.0, 1.0);
    QStyleOptionProgressBar bar;
    bar.initFrom(widget ? widget : qApp->activeWindow());
    bar.state = option.state | QStyle::State_Horizontal;
    const int vmargin = std::max(3, (option.rect.height() - option.fontMetrics.height() - 4) / 2);
    bar.rect = option.rect.adjusted(6, vmargin, -6, -vmargin);
    bar.minimum = 0;
    bar.maximum = 1000;
    bar.progress = int(std::lround(fraction * 1000));
    bar.text = index.data(Qt::DisplayRole).toString();
    bar.textVisible = true;
    bar.textAlignment = Qt::AlignCenter;
    bar.palette = option.palette;
    // Keep the bar's own colours when the row is selected.
    bar.palette.setCurrentColorGroup(QPalette::Active);
    painter->save();
    style->drawControl(QStyle::CE_ProgressBar, &bar, painter, widget);
    painter->restore();
}

QSize ProgressDelegate::sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    QSize s = QStyledItemDelegate::sizeHint(option, index);
    s.setWidth(std::max(s.width(), option.fontMetrics.horizontalAdvance(QStringLiteral("100%")) * 3));
    return s;
}

} // namespace loopdeck::gui
