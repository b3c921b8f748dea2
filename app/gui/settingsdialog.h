#pragma once
// The settings dialog (ui/settingsdialog.ui): how often the dashboard refreshes, where the
// data directory is and the interface language (System / English / 简体中文; it applies at the
// next start, which the dialog says). Reads and writes AppSettings when accepted; MainWindow
// applies the result. GUI thread only.
#include <QDialog>

#include <memory>

namespace Ui {
class SettingsDialog;
}

namespace loopdeck::gui {

class AppSettings;

class SettingsDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SettingsDialog)

public:
    explicit SettingsDialog(AppSettings *settings, QWidget *parent = nullptr);
    ~SettingsDialog() override;

    int refreshIntervalSeconds() const;
    QString dataDir() const;
    void setRefreshIntervalSeconds(int seconds);
    void setDataDir(const QString &dir);
    // "" = follow the system, else a code from gui::availableLanguages().
    QString language() const;
    void setLanguage(const QString &language);

private:
    void accept() override;
    void browse();
    void restoreDefaults();

    std::unique_ptr<Ui::SettingsDialog> m_ui;
    AppSettings *m_settings;
};

} // namespace loopdeck::gui
