#pragma once
// Typed access to the desktop app's own settings (refresh interval, data directory, the
// backend's host and port, the interface language) in QSettings. The main window, the settings dialog and the backend
// panel read and write through it; tests hand it a temporary QSettings.
#include <QSettings>
#include <QString>

namespace loopdeck::gui {

class AppSettings final
{
public:
    static constexpr int kDefaultRefreshSeconds = 30;
    static constexpr int kMinRefreshSeconds = 2;
    static constexpr int kMaxRefreshSeconds = 3600;

    // Not owned; must outlive this object.
    explicit AppSettings(QSettings *settings);

    int refreshIntervalSeconds() const;
    void setRefreshIntervalSeconds(int seconds);

    // The configured data directory, or the platform default when none is set.
    QString dataDir() const;
    void setDataDir(const QString &dir); // empty restores the default

    QString backendHost() const;
    void setBackendHost(const QString &host);
    int backendPort() const;
    void setBackendPort(int port);

    // Interface language: "" follows the system, else a locale name such as "en" or "zh_CN".
    // Read once at start-up (gui::run), so a change applies after a restart.
    QString language() const;
    void setLanguage(const QString &language);

    QSettings *settings() const { return m_settings; }

private:
    QSettings *m_settings;
};

} // namespace loopdeck::gui
