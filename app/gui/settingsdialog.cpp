#include "gui/settingsdialog.h"

#include "gui/appsettings.h"
#include "gui/translations.h"
#include "paths.h"
#include "ui_settingsdialog.h"

#include <QDir>
#include <QFileDialog>
#include <QMessageBox>
#include <QPushButton>

#include <algorithm>

namespace loopdeck::gui {

SettingsDialog::SettingsDialog(AppSettings *settings, QWidget *parent)
    : QDialog(parent)
    , m_ui(std::make_unique<Ui::SettingsDialog>())
    , m_settings(settings)
{
    m_ui->setupUi(this);
    m_ui->intervalSpin->setRange(AppSettings::kMinRefreshSeconds, AppSettings::kMaxRefreshSeconds);
    m_ui->intervalSpin->setSuffix(tr(" seconds"));
    m_ui->intervalSpin->setMinimumWidth(140);
    m_ui->intervalSpin->setMaximumWidth(180);
    for (QLabel *hint : {m_ui->intervalHint, m_ui->dataDirHint, m_ui->languageHint})
        hint->setMinimumWidth(360);
    m_ui->languageCombo->addItem(tr("System language"), QString());
    for (const Language &language : availableLanguages())
        m_ui->languageCombo->addItem(language.nativeName, language.code);
    m_ui->dataDirEdit->setPlaceholderText(QDir::toNativeSeparators(defaultDataDir()));
    m_ui->dataDirEdit->setClearButtonEnabled(true);
    for (QLabel *hint : {m_ui->intervalHint, m_ui->dataDirHint, m_ui->languageHint})
        hint->setForegroundRole(QPalette::PlaceholderText);
    setRefreshIntervalSeconds(m_settings->refreshIntervalSeconds());
    setDataDir(m_settings->dataDir());
    setLanguage(m_settings->language());
    connect(m_ui->browseButton, &QPushButton::clicked, this, &SettingsDialog::browse);
    connect(m_ui->buttonBox, &QDialogButtonBox::accepted, this, &SettingsDialog::accept);
    connect(m_ui->buttonBox->button(QDialogButtonBox::RestoreDefaults), &QPushButton::clicked, this,
            &SettingsDialog::restoreDefaults);
    // Word-wrapped hints: size the dialog for its width, not for the labels' one-line guess.
    layout()->activate();
    resize(600, std::max(minimumSizeHint().height(), layout()->totalHeightForWidth(600)));
}

SettingsDialog::~SettingsDialog() = default;

int SettingsDialog::refreshIntervalSeconds() const
{
    return m_ui->intervalSpin->value();
}

QString SettingsDialog::dataDir() const
{
    const QString text = m_ui->dataDirEdit->text().trimmed();
    return text.isEmpty() ? defaultDataDir() : QDir::fromNativeSeparators(text);
}

void SettingsDialog::setRefreshIntervalSeconds(int seconds)
{
    m_ui->intervalSpin->setValue(seconds);
}

void SettingsDialog::setDataDir(const QString &dir)
{
    m_ui->dataDirEdit->setText(QDir::toNativeSeparators(dir));
}

QString SettingsDialog::language() const
{
    return m_ui->languageCombo->currentData().toString();
}

void SettingsDialog::setLanguage(const QString &language)
{
    const int index = m_ui->languageCombo->findData(language);
    // An unknown saved code (a language since removed) shows as "System language".
    m_ui->languageCombo->setCurrentIndex(std::max(index, 0));
}

void SettingsDialog::browse()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Choose the data directory"), dataDir());
    if (!dir.isEmpty())
        setDataDir(dir);
}

void SettingsDialog::restoreDefaults()
{
    setRefreshIntervalSeconds(AppSettings::kDefaultRefreshSeconds);
    setDataDir(defaultDataDir());
    setLanguage(QString());
}

void SettingsDialog::accept()
{
    const QString dir = dataDir();
    if (!QDir().mkpath(dir)) {
        QMessageBox::warning(this, tr("Data directory"),
                             tr("The directory %1 cannot be created. Choose another one.")
                                 .arg(QDir::toNativeSeparators(dir)));
        return;
    }
    m_settings->setRefreshIntervalSeconds(refreshIntervalSeconds());
    m_settings->setDataDir(dir);
    m_settings->setLanguage(language());
    QDialog::accept();
}

} // namespace loopdeck::gui
