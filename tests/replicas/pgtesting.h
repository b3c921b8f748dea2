#pragma once
// The throwaway PostgreSQL of a test run (tests/replicas/pg_fixture.py, a ctest fixture): its
// admin URL, and a fresh database per test case, so cases never see each other's rows.
// The URL (a role that may create databases) comes from LOOPDECK_PG_ADMIN_URL, else from the
// fixture's env file (URL=...).
#include <QFile>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QString>
#include <QUrl>
#include <QUuid>

namespace loopdeck::testing {

inline QString pgAdminUrl()
{
    if (const QString url = qEnvironmentVariable("LOOPDECK_PG_ADMIN_URL"); !url.isEmpty())
        return url;
    QFile file(QStringLiteral(LOOPDECK_PG_ENV));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    for (const QByteArray &line : file.readAll().split('\n'))
        if (line.startsWith("URL="))
            return QString::fromUtf8(line.mid(4).trimmed());
    return {};
}

// Runs one statement on the admin database; "" or the error.
inline QString pgAdmin(const QString &sql, const QString &database = {})
{
    const QUrl url(pgAdminUrl());
    const QString name = QStringLiteral("pg-admin-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    QString error;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), name);
        db.setHostName(url.host());
        db.setPort(url.port(5432));
        db.setDatabaseName(database.isEmpty() ? url.path().mid(1) : database);
        db.setUserName(url.userName());
        db.setPassword(url.password());
        if (!db.open()) {
            error = db.lastError().text();
        } else {
            QSqlQuery q(db);
            if (!q.exec(sql))
                error = q.lastError().text();
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
    return error;
}

// A new empty database; returns its URL ("" when the server cannot make one).
inline QString freshDatabase()
{
    const QString name = QStringLiteral("ld_") + QUuid::createUuid().toString(QUuid::Id128).left(16);
    if (!pgAdmin(QStringLiteral("CREATE DATABASE %1").arg(name)).isEmpty())
        return {};
    QUrl url(pgAdminUrl());
    url.setPath(QLatin1Char('/') + name);
    return url.toString();
}

} // namespace loopdeck::testing
