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

void TokenStore::read(const QString &profile, ReadCallback done)
{
    auto fallback = [this, profile](const QString &warning, const ReadCallback &cb) {
        if (const auto it = m_session.constFind(profile); it != m_session.constEnd()) {
            cb(*it, Source::Session, warning);
            return;
        }
        const QString env = qEnvironmentVariable("LOOPDECK_TOKEN");
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
