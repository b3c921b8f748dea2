#include "settings/tokenstore.h"

#include <qt6keychain/keychain.h>


namespace loopdeck::settings {
namespace {

bool keychainDisabled()
{
    return qEnvironmentVariableIntValue("LOOPDECK_NO_KEYCHAIN") == 1;
}

bool isMissingBackend(QKeychain::Error e)
{
    return e == QKeychain::NoBackendAvailable || e == QKeychain::NotImplemented || e == QKeychain::OtherError
        || e == QKeychain::AccessDenied;
}

} // namespace

TokenStore::TokenStore(QObject *parent)
    : QObject(parent)
    , m_sessionOnly(keychainDisabled())
{
}

QString TokenStore::serviceName()
{
    return QStringLiteral("LoopDeck");
}

bool TokenStore::sameServer(const QUrl &a, const QUrl &b)
{
    if (!a.isValid() || !b.isValid() || a.host().isEmpty())
        return false;
    const auto defaultPort = [](const QUrl &u) { return u.port(u.scheme() == u"https" ? 443 : 80); };
    const auto path = [](const QUrl &u) {
        QString p = u.path();
        while (p.endsWith(QLatin1Char('/')))
            p.chop(1);
        return p;
    };
    return a.scheme().compare(b.scheme(), Qt::CaseInsensitive) == 0 && a.host().compare(b.host(), Qt::CaseInsensitive) == 0
        && defaultPort(a) == defaultPort(b) && path(a) == path(b);
}

QString TokenStore::environmentTokenFor(const QUrl &server, QString *why)
{
    const QString token = qEnvironmentVariable("LOOPDECK_TOKEN");
    const auto refuse = [why](const QString &reason) {
        if (why)
            *why = reason;
        return QString();
    };
    if (token.isEmpty())
        return refuse(QString());
    const QString scope = qEnvironmentVariable("LOOPDECK_URL");
    if (scope.isEmpty())
        return refuse(tr("LOOPDECK_TOKEN is ignored because LOOPDECK_URL does not say which server it is for."));
    if (!sameServer(QUrl::fromUserInput(scope), server))
        return refuse(tr("LOOPDECK_TOKEN is ignored because it was given for %1, not for %2.")
                          .arg(scope, server.toString(QUrl::RemoveUserInfo)));
    if (why)
        why->clear();
    return token;
}

void TokenStore::read(const QString &profile, const QUrl &server, ReadCallback done)
{
    auto fallback = [this, profile, server](const QString &warning, const ReadCallback &cb) {
        if (const auto it = m_session.constFind(profile); it != m_session.constEnd()) {
            cb(*it, Source::Session, warning);
            return;
        }
        const QString env = environmentTokenFor(server);
        if (!env.isEmpty()) {
            cb(env, Source::Environment, warning);
            return;
        }
        cb(QString(), Source::None, warning);
    };
    if (m_sessionOnly) {
        fallback(QString(), done);
        return;
    }
    auto *job = new QKeychain::ReadPasswordJob(serviceName(), this);
    job->setAutoDelete(true);
    job->setKey(profile);
    connect(job, &QKeychain::Job::finished, this, [this, job, done, fallback](QKeychain::Job *) {
        if (job->error() == QKeychain::NoError) {
            done(job->textData(), Source::Keychain, QString());
            return;
        }
        QString warning;
        if (job->error() != QKeychain::EntryNotFound) {
            if (isMissingBackend(job->error()))
                m_sessionOnly = true;
            warning = tr("The system keychain is not available (%1); the token is kept for this session only.")
                          .arg(job->errorString());
        }
        fallback(warning, done);
    });
    job->start();
}

void TokenStore::write(const QString &profile, const QString &token, WriteCallback done)
{
    m_session.insert(profile, token);
    if (m_sessionOnly) {
        done(false, tr("No system keychain is available; the token is kept for this session only and not saved."));
        return;
    }
    auto *job = new QKeychain::WritePasswordJob(serviceName(), this);
    job->setAutoDelete(true);
    job->setKey(profile);
    job->setTextData(token);
    connect(job, &QKeychain::Job::finished, this, [this, job, done](QKeychain::Job *) {
        if (job->error() == QKeychain::NoError) {
            done(true, QString());
            return;
        }
        if (isMissingBackend(job->error()))
            m_sessionOnly = true;
        done(false, tr("The token could not be saved in the system keychain (%1); it is kept for this session only.")
                        .arg(job->errorString()));
    });
    job->start();
}

void TokenStore::remove(const QString &profile)
{
    m_session.remove(profile);
    if (m_sessionOnly)
        return;
    auto *job = new QKeychain::DeletePasswordJob(serviceName(), this);
    job->setAutoDelete(true);
    job->setKey(profile);
    job->start();
}

} // namespace loopdeck::settings
