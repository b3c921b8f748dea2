#pragma once
// The model page's schedule editor for one project: the loop on/off, retrain every N
// annotations, every X minutes, daily at HH:MM, on Label Studio's "Start training" (each with
// its own on/off), the activation margin, minimum examples, versions kept, and the "refresh
// predictions after a new version" and "uncertainty sampling" toggles. It only edits a
// LoopSettings value: ModelPage saves it in the loop (store) on every edit(), so a change takes
// effect at once. GUI thread only.
#include "core/loop/loopsettings.h"

#include <QWidget>

class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QSpinBox;
class QTimeEdit;

namespace loopdeck::gui {

class ScheduleEditor final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ScheduleEditor)

public:
    explicit ScheduleEditor(QWidget *parent = nullptr);

    // Shows `settings` without emitting edited().
    void setSettings(const loop::LoopSettings &settings);
    // The shown values (fields the editor does not show keep what setSettings() gave).
    loop::LoopSettings settings() const;
    // A line under the editor ("Saved at 10:42", or why not, in red).
    void setMessage(const QString &text, bool error);
    QString message() const;

    QCheckBox *enabledBox() const { return m_enabled; }
    QCheckBox *everyBox() const { return m_everyOn; }
    QSpinBox *everySpin() const { return m_every; }
    QCheckBox *intervalBox() const { return m_intervalOn; }
    QSpinBox *intervalSpin() const { return m_interval; }
    QCheckBox *dailyBox() const { return m_dailyOn; }
    QTimeEdit *dailyEdit() const { return m_daily; }
    QCheckBox *startTrainingBox() const { return m_startTraining; }
    QDoubleSpinBox *marginSpin() const { return m_margin; }
    QCheckBox *refreshBox() const { return m_refresh; }
    QCheckBox *uncertaintyBox() const { return m_uncertainty; }

Q_SIGNALS:
    void edited();

private:
    void updateEnabled();

    loop::LoopSettings m_base;
    bool m_loading = false;
    QCheckBox *m_enabled = nullptr;
    QCheckBox *m_everyOn = nullptr;
    QSpinBox *m_every = nullptr;
    QCheckBox *m_intervalOn = nullptr;
    QSpinBox *m_interval = nullptr;
    QCheckBox *m_dailyOn = nullptr;
    QTimeEdit *m_daily = nullptr;
    QCheckBox *m_startTraining = nullptr;
    QDoubleSpinBox *m_margin = nullptr;
    QSpinBox *m_minExamples = nullptr;
    QSpinBox *m_keep = nullptr;
    QCheckBox *m_refresh = nullptr;
    QCheckBox *m_uncertainty = nullptr;
    QLabel *m_message = nullptr;
};

} // namespace loopdeck::gui
