#include "gui/scheduleeditor.h"

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSpinBox>
#include <QTimeEdit>
#include <QVBoxLayout>

namespace loopdeck::gui {

ScheduleEditor::ScheduleEditor(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("scheduleEditor"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::FieldsStayAtSizeHint);
    form->setLabelAlignment(Qt::AlignLeft);

    m_enabled = new QCheckBox(tr("Retrain this project by itself"), this);
    m_enabled->setObjectName(QStringLiteral("loopEnabled"));
    m_enabled->setToolTip(tr("Off: only “Train now” trains; the active version keeps serving"));
    form->addRow(m_enabled);

    auto row = [&](QCheckBox *box, QWidget *field, const QString &suffix = {}) {
        auto *h = new QHBoxLayout;
        h->setContentsMargins(0, 0, 0, 0);
        h->addWidget(box);
        h->addWidget(field);
        if (!suffix.isEmpty())
            h->addWidget(new QLabel(suffix, this));
        h->addStretch(1);
        form->addRow(h);
    };
    m_everyOn = new QCheckBox(tr("Every"), this);
    m_everyOn->setObjectName(QStringLiteral("trainEveryOn"));
    m_every = new QSpinBox(this);
    m_every->setObjectName(QStringLiteral("trainEvery"));
    m_every->setRange(1, 1000000);
    m_every->setValue(50);
    row(m_everyOn, m_every, tr("new or changed annotations"));

    m_intervalOn = new QCheckBox(tr("Every"), this);
    m_intervalOn->setObjectName(QStringLiteral("intervalOn"));
    m_interval = new QSpinBox(this);
    m_interval->setObjectName(QStringLiteral("intervalMinutes"));
    m_interval->setRange(1, 100000);
    m_interval->setValue(60);
    row(m_intervalOn, m_interval, tr("minutes (when something changed)"));

    m_dailyOn = new QCheckBox(tr("Daily at"), this);
    m_dailyOn->setObjectName(QStringLiteral("dailyOn"));
    m_daily = new QTimeEdit(QTime(2, 0), this);
    m_daily->setObjectName(QStringLiteral("dailyAt"));
    m_daily->setDisplayFormat(QStringLiteral("HH:mm"));
    row(m_dailyOn, m_daily);

    m_startTraining = new QCheckBox(tr("When Label Studio asks (“Start training”)"), this);
    m_startTraining->setObjectName(QStringLiteral("onStartTraining"));
    form->addRow(m_startTraining);

    m_margin = new QDoubleSpinBox(this);
    m_margin->setObjectName(QStringLiteral("activationMargin"));
    m_margin->setRange(0.0, 1.0);
    m_margin->setSingleStep(0.01);
    m_margin->setDecimals(3);
    m_margin->setToolTip(tr("A new version becomes active unless it is worse than the active one by more than this, with 95 % confidence, on the labelled tasks the active one was not trained on"));
    form->addRow(tr("Activation margin:"), m_margin);
    m_minExamples = new QSpinBox(this);
    m_minExamples->setObjectName(QStringLiteral("minExamples"));
    m_minExamples->setRange(2, 1000000);
    m_minExamples->setToolTip(tr("With fewer annotated tasks, nothing trains by itself"));
    form->addRow(tr("Minimum examples:"), m_minExamples);
    m_keep = new QSpinBox(this);
    m_keep->setObjectName(QStringLiteral("keepVersions"));
    m_keep->setRange(1, 1000);
    m_keep->setToolTip(tr("Older versions are deleted; the active one never is"));
    form->addRow(tr("Versions kept:"), m_keep);

    m_refresh = new QCheckBox(tr("Refresh Label Studio's predictions after a new version"), this);
    m_refresh->setObjectName(QStringLiteral("refreshPredictions"));
    form->addRow(m_refresh);
    m_uncertainty = new QCheckBox(tr("Uncertainty sampling (least certain tasks first)"), this);
    m_uncertainty->setObjectName(QStringLiteral("uncertaintySampling"));
    form->addRow(m_uncertainty);
    layout->addLayout(form);

    m_message = new QLabel(this);
    m_message->setObjectName(QStringLiteral("scheduleMessage"));
    m_message->setWordWrap(true);
    layout->addWidget(m_message);
    layout->addStretch(1);

    auto changed = [this] {
        updateEnabled();
        if (!m_loading)
            Q_EMIT edited();
    };
    for (QCheckBox *b : {m_enabled, m_everyOn, m_intervalOn, m_dailyOn, m_startTraining, m_refresh, m_uncertainty})
        connect(b, &QCheckBox::toggled, this, changed);
    // Numbers are saved when editing finishes, not on every keystroke.
    for (QSpinBox *s : {m_every, m_interval, m_minExamples, m_keep})
        connect(s, &QSpinBox::editingFinished, this, changed);
    connect(m_margin, &QDoubleSpinBox::editingFinished, this, changed);
    connect(m_daily, &QTimeEdit::editingFinished, this, changed);
    updateEnabled();
}

void ScheduleEditor::setSettings(const loop::LoopSettings &s)
{
    m_loading = true;
    m_base = s;
    m_enabled->setChecked(s.enabled);
    m_everyOn->setChecked(s.trainEvery > 0);
    if (s.trainEvery > 0)
        m_every->setValue(s.trainEvery);
    m_intervalOn->setChecked(s.intervalMinutes > 0);
    if (s.intervalMinutes > 0)
        m_interval->setValue(s.intervalMinutes);
    m_dailyOn->setChecked(s.dailyAt.isValid());
    if (s.dailyAt.isValid())
        m_daily->setTime(s.dailyAt);
    m_startTraining->setChecked(s.onStartTraining);
    m_margin->setValue(s.activationMargin);
    m_minExamples->setValue(s.minExamples);
    m_keep->setValue(s.keepVersions);
    m_refresh->setChecked(s.refreshPredictions);
    m_uncertainty->setChecked(s.uncertaintySampling);
    m_loading = false;
    updateEnabled();
}

loop::LoopSettings ScheduleEditor::settings() const
{
    loop::LoopSettings s = m_base;
    s.enabled = m_enabled->isChecked();
    s.trainEvery = m_everyOn->isChecked() ? m_every->value() : 0;
    s.intervalMinutes = m_intervalOn->isChecked() ? m_interval->value() : 0;
    s.dailyAt = m_dailyOn->isChecked() ? QTime(m_daily->time().hour(), m_daily->time().minute()) : QTime();
    s.onStartTraining = m_startTraining->isChecked();
    s.activationMargin = m_margin->value();
    s.minExamples = m_minExamples->value();
    s.keepVersions = m_keep->value();
    s.refreshPredictions = m_refresh->isChecked();
    s.uncertaintySampling = m_uncertainty->isChecked();
    return s;
}

void ScheduleEditor::setMessage(const QString &text, bool error)
{
    m_message->setText(text);
    QPalette pal = palette();
    if (error)
        pal.setColor(QPalette::WindowText, QColor(0xb3, 0x26, 0x1e));
    m_message->setPalette(pal);
}

QString ScheduleEditor::message() const
{
    return m_message->text();
}

void ScheduleEditor::updateEnabled()
{
    const bool on = m_enabled->isChecked();
    for (QWidget *w : std::initializer_list<QWidget *>{m_everyOn, m_intervalOn, m_dailyOn, m_startTraining})
        w->setEnabled(on);
    m_every->setEnabled(on && m_everyOn->isChecked());
    m_interval->setEnabled(on && m_intervalOn->isChecked());
    m_daily->setEnabled(on && m_dailyOn->isChecked());
}

} // namespace loopdeck::gui
