#include "settings/connectionprofile.h"
#include "settings/tokenstore.h"

#include <QCoreApplication>

namespace loopdeck::settings {
namespace {

QString kindKey(labelstudio::TokenKind kind)
{
    switch (kind) {
    case labelstudio::TokenKind::Legacy: return QStringLiteral("legacy");
    case labelstudio::TokenKind::PersonalAccessToken: return QStringLiteral("pat");
    case labelstudio::TokenKind::AccessToken: return QStringLiteral("access");
    case labelstudio::TokenKind::Unknown: break;
    }
    return QStringLiteral("unknown");
}

labelstudio::TokenKind kindFromKey(const QString &key)
{
    if (key == u"legacy")
        return labelstudio::TokenKind::Legacy;
    if (key == u"pat")
        return labelstudio::TokenKind::PersonalAccessToken;
    if (key == u"access")
        return labelstudio::TokenKind::AccessToken;
    return labelstudio::TokenKind::Unknown;
}

} // namespace

ConnectionProfiles::ConnectionProfiles(QSettings *settings)
    : m_settings(settings)
{
}

QSettings *ConnectionProfiles::settings() const
{
    if (m_settings)
        return m_settings;
    if (!m_own)
        m_own.emplace();
    return &*m_own;
}

QList<ConnectionProfile> ConnectionProfiles::all() const
{
    QSettings *s = settings();
    QList<ConnectionProfile> out;
    const int n = s->beginReadArray(QStringLiteral("connections"));
    for (int i = 0; i < n; ++i) {
        s->setArrayIndex(i);
        ConnectionProfile p;
        p.name = s->value(QStringLiteral("name")).toString();
        p.url = QUrl(s->value(QStringLiteral("url")).toString());
        p.tokenKind = kindFromKey(s->value(QStringLiteral("tokenKind")).toString());
        if (!p.name.isEmpty())
            out.append(p);
    }
    s->endArray();
    return out;
}

std::optional<ConnectionProfile> ConnectionProfiles::find(const QString &name) const
{
    for (const ConnectionProfile &p : all())
        if (p.name == name)
            return p;
    return std::nullopt;
}

void ConnectionProfiles::save(const ConnectionProfile &profile)
{
    QList<ConnectionProfile> list = all();
    bool replaced = false;
    for (ConnectionProfile &p : list) {
        if (p.name == profile.name) {
            p = profile;
            replaced = true;
        }
    }
    if (!replaced)
        list.append(profile);
    writeAll(list);
}

bool ConnectionProfiles::saveEdited(const ConnectionProfile &profile, TokenStore &tokens)
{
    const auto before = find(profile.name);
    const bool moved = before && !sameOrigin(before->url, profile.url);
    ConnectionProfile saved = profile;
    if (moved) {
        tokens.remove(profile.name);
        saved.tokenKind = labelstudio::TokenKind::Unknown;
    }
    save(saved);
    return moved;
}

void ConnectionProfiles::remove(const QString &name)
{
    QList<ConnectionProfile> list = all();
    list.removeIf([&](const ConnectionProfile &p) { return p.name == name; });
    writeAll(list);
}

void ConnectionProfiles::writeAll(const QList<ConnectionProfile> &list)
{
    QSettings *s = settings();
    s->remove(QStringLiteral("connections"));
    s->beginWriteArray(QStringLiteral("connections"), int(list.size()));
    for (int i = 0; i < list.size(); ++i) {
        s->setArrayIndex(i);
        s->setValue(QStringLiteral("name"), list[i].name);
        s->setValue(QStringLiteral("url"), list[i].url.toString());
        s->setValue(QStringLiteral("tokenKind"), kindKey(list[i].tokenKind));
    }
    s->endArray();
    s->sync();
}

QString ConnectionProfiles::lastUsed() const
{
    return settings()->value(QStringLiteral("lastConnection")).toString();
}

void ConnectionProfiles::setLastUsed(const QString &name)
{
    settings()->setValue(QStringLiteral("lastConnection"), name);
}

QString ConnectionProfiles::validateUrl(const QUrl &url)
{
    const auto tr = [](const char *t) { return QCoreApplication::translate("loopdeck::settings::ConnectionProfiles", t); };
    if (!url.isValid() || url.isEmpty())
        return tr("Enter the server address, for example http://localhost:8080.");
    if (url.scheme() != u"http" && url.scheme() != u"https")
        return tr("The address must start with http:// or https://.");
    if (url.host().isEmpty())
        return tr("The address has no host name.");
    if (!url.userInfo().isEmpty())
        return tr("Do not put a user name or password in the address; use the token field.");
    return {};
}

bool ConnectionProfiles::sameOrigin(const QUrl &a, const QUrl &b)
{
    if (!a.isValid() || !b.isValid() || a.host().isEmpty())
        return false;
    const auto port = [](const QUrl &u) { return u.port(u.scheme().compare(u"https", Qt::CaseInsensitive) == 0 ? 443 : 80); };
    return a.scheme().compare(b.scheme(), Qt::CaseInsensitive) == 0 && a.host().compare(b.host(), Qt::CaseInsensitive) == 0
        && port(a) == port(b);
}

} // namespace loopdeck::settings
