#pragma once
// The store's schema: one numbered list of migrations for the whole SQLite file (progress
// snapshots, the loop's annotations, versions, runs and settings). `PRAGMA user_version` holds
// the number applied. The SQL sticks to what SQLite and PostgreSQL both accept (BIGINT keys,
// natural primary keys, INSERT ... ON CONFLICT) so a later step can run it on QPSQL, except the
// triggers of migration 4 that keep the per-project counts (SQLite's trigger syntax; PostgreSQL
// needs them written as trigger functions).
// Called by Store::open and LoopStore::open, on the thread that owns the connection.
#include <QString>
#include <QStringList>

class QSqlDatabase;

namespace loopdeck::store::schema {

int latestVersion();
// Reads user_version and applies what is missing, one transaction per migration. Refuses a
// file written by a newer LoopDeck. `path` only names the file in error sentences.
bool migrate(QSqlDatabase &db, const QString &path, QString *error);
// A migration's text as statements: split at ';', keeping a CREATE TRIGGER ... END; whole.
QStringList splitStatements(const QString &sql);

} // namespace loopdeck::store::schema
