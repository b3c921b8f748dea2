#pragma once
// The store's schema: one numbered list of migrations for the whole store (progress snapshots,
// the loop's annotations, versions, runs and settings, and the model files of a shared store),
// the same on SQLite and PostgreSQL. The SQL sticks to what both accept (BIGINT keys, natural
// primary keys, INSERT ... ON CONFLICT); where they differ (an id that numbers itself, the count
// triggers of migration 4, BLOB/BYTEA) a migration has a PostgreSQL text of its own.
// The number applied: SQLite's `PRAGMA user_version`; PostgreSQL's table loopdeck_schema.
// On PostgreSQL, migrate() holds an advisory lock, so of several replicas starting at once one
// migrates and the others wait and then find nothing to do.
// Called by Store::open and LoopStore::open, on the thread that owns the connection.
#include <QString>
#include <QStringList>

class QSqlDatabase;

namespace loopdeck::store::schema {

int latestVersion();
// Reads user_version and applies what is missing, one transaction per migration. Refuses a
// file written by a newer LoopDeck. `path` only names the file in error sentences.
bool migrate(QSqlDatabase &db, const QString &path, QString *error);
// A migration's text as statements: split at ';', keeping a CREATE TRIGGER ... END; and a
// $$ ... $$ body whole.
QStringList splitStatements(const QString &sql);
// Migration `index` (0 = the first) in SQLite's or PostgreSQL's text.
QString migrationText(int index, bool postgres);

} // namespace loopdeck::store::schema
