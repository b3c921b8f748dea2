#include "settings/loopserverprofile.h"

#include <QHostAddress>

namespace loopdeck::settings {

LoopServerProfiles::LoopServerProfiles(QSettings *settings)
    : m_settings(settings)
{
}

QSettings *LoopServerProfiles::settings() const
{
    if (m_settings)
        return m_settings;
    if (!m_own)
        m_own.emplace();
    return &*m_own;
}

QList<LoopServerProfile> LoopServerProfiles::all() const
{
    QSettings *s = settings();
    QList<LoopServerProfile> out;
    const int n = s->beginReadArray(QStringLiteral("loopServers"));
    for (int i = 0; i < n; ++i) {
        s->setArrayIndex(i);
        LoopServerProfile p;
        p.name = s->value(QStringLiteral("name")).toString();
        p.url = QUrl(s->value(QStringLiteral("url")).toString());
        p.caFile = s->value(QStringLiteral("caFile")).toString();
        if (!p.name.isEmpty() && p.url.isValid())
            out.append(p);
    }
    s->endArray();
    return out;
}

std::optional<LoopServerProfile> LoopServerProfiles::find(const QString &name) const
{
    for (const LoopServerProfile &p : all())
        if (p.name == name)
            return p;
    return std::nullopt;
}

void LoopServerProfiles::writeAll(const QList<LoopServerProfile> &list)
{
    QSettings *s = settings();
    s->beginWriteArray(QStringLiteral("loopServers"), int(list.size()));
    for (int i = 0; i < list.size(); ++i) {
        s->setArrayIndex(i);
        s->setValue(QStringLiteral("name"), list[i].name);
        s->setValue(QStringLiteral("url"), list[i].url.toString());
        s->setValue(QStringLiteral("caFile"), list[i].caFile);
    }
    s->endArray();
    s->sync();
}

void LoopServerProfiles::save(const LoopServerProfile &profile)
{
    QList<LoopServerProfile> list = all();
    bool replaced = false;
    for (LoopServerProfile &p : list)
        if (p.name == profile.name) {
            p = profile;
            replaced = true;
        }
    if (!replaced)
        list.append(profile);
    writeAll(list);
}

void LoopServerProfiles::remove(const QString &name)
{
    QList<LoopServerProfile> list = all();
    list.removeIf([&](const LoopServerProfile &p) { return p.name == name; });
    writeAll(list);
    if (current() == name)
        setCurrent(QString());
}

QString LoopServerProfiles::current() const
{
    return settings()->value(QStringLiteral("loop/current")).toString();
}

void LoopServerProfiles::setCurrent(const QString &name)
{
    settings()->setValue(QStringLiteral("loop/current"), name);
    settings()->sync();
}

LoopServerProfiles::UrlProblem LoopServerProfiles::validateUrl(const QUrl &url, bool *cleartext)
{
    if (cleartext)
        *cleartext = false;
    if (!url.isValid() || url.host().isEmpty())
        return UrlProblem::NotAnAddress;
    if (url.scheme() != QLatin1String("https") && url.scheme() != QLatin1String("http"))
        return UrlProblem::Scheme;
    if (!url.userInfo().isEmpty())
        return UrlProblem::UserInfo;
    if (url.hasQuery() || url.hasFragment())
        return UrlProblem::QueryOrFragment;
    const QHostAddress address(url.host());
    const bool local = url.host().compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0
                       || (!address.isNull() && address.isLoopback());
    if (cleartext)
        *cleartext = url.scheme() == QLatin1String("http") && !local;
    return UrlProblem::None;
}

} // namespace loopdeck::settings
