#pragma once
// Draws the projects table's "% done" cell as a progress bar (with the percentage as text)
// using the current style, so it looks native on every platform. Reads the share from
// ProjectsModel::FractionRole. Installed by MainWindow on the "Done" column.
#include <QStyledItemDelegate>

namespace loopdeck::gui {

class ProgressDelegate final : public QStyledItemDelegate
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProgressDelegate)

public:
    explicit ProgressDelegate(QObject *parent = nullptr);

    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;
};

} // namespace loopdeck::gui
