#pragma once
// Loads LoopDeck's embedded translation (":/i18n/loopdeck_<locale>.qm") and Qt's own for a
// locale, replacing whatever was installed before. The language is, in this order: LOOPDECK_LANG
// (e.g. "zh_CN"), the choice saved in Settings (AppSettings::language), the system locale.
// Called by gui::run() at start-up, by the settings dialog for its language list and by the GUI
// tests for localized screenshots. GUI thread only.
#include <QList>
#include <QLocale>
#include <QString>

namespace loopdeck::gui {

// The locale the app should use: LOOPDECK_LANG if set, else `choice` (a locale name saved in
// Settings) if not empty, else the system locale.
QLocale preferredLocale(const QString &choice = QString());

// The languages LoopDeck is translated into, for the settings dialog: the locale name (what
// AppSettings::language stores) and the language's own name ("English", "简体中文").
struct Language {
    QString code;
    QString nativeName;
};
QList<Language> availableLanguages();
// Installs the translators for `locale` (English needs none). True when LoopDeck's own
// translation was found (or English was asked for).
bool installTranslations(const QLocale &locale);
// Back to the source language (English).
void removeTranslations();

} // namespace loopdeck::gui
