#include "gui/appsettings.h"

#include "paths.h"

#include <algorithm>

namespace loopdeck::gui {
namespace {
const QString kRefreshKey = QStringLiteral("dashboard/refreshIntervalSeconds");
const QString kDataDirKey = QStringLiteral("storage/dataDir");
const QString kBackendHostKey = QStringLiteral("backend/host");
const QString kBackendPortKey = QStringLiteral("backend/port");
const QString kLanguageKey = QStringLiteral("ui/language");
} // namespace

AppSettings::AppSettings(QSettings *settings)
    : m_settings(settings)
{
}

int AppSettings::refreshIntervalSeconds() const
{
    const int v = m_settings->value(kRefreshKey, kDefaultRefreshSeconds).toInt();
    return std::clamp(v, kMinRefreshSeconds, kMaxRefreshSeconds);
}

void AppSettings::setRefreshIntervalSeconds(int seconds)
{
    m_settings->setValue(kRefreshKey, std::clamp(seconds, kMinRefreshSeconds, kMaxRefreshSeconds));
}

QString AppSettings::dataDir() const
{
    const QString v = m_settings->value(kDataDirKey).toString();
    return v.isEmpty() ? defaultDataDir() : v;
}

void AppSettings::setDataDir(const QString &dir)
{
    if (dir.isEmpty() || dir == defaultDataDir())
        m_settings->remove(kDataDirKey);
    else
        m_settings->setValue(kDataDirKey, dir);
}

QString AppSettings::backendHost() const
{
    return m_settings->value(kBackendHostKey, QStringLiteral("127.0.0.1")).toString();
}

void AppSettings::setBackendHost(const QString &host)
{
    m_settings->setValue(kBackendHostKey, host);
}

int AppSettings::backendPort() const
{
    return m_settings->value(kBackendPortKey, 9090).toInt();
}

void AppSettings::setBackendPort(int port)
{
    m_settings->setValue(kBackendPortKey, port);
}

QString AppSettings::language() const
{
    return m_settings->value(kLanguageKey).toString();
}

void AppSettings::setLanguage(const QString &language)
{
    if (language.isEmpty())
        m_settings->remove(kLanguageKey);
    else
        m_settings->setValue(kLanguageKey, language);
}

} // namespace loopdeck::gui
