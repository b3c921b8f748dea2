#pragma once
// Loads LoopDeck's embedded translation (":/i18n/loopdeck_<locale>.qm") and Qt's own for a
// locale, replacing whatever was installed before. LOOPDECK_LANG (e.g. "zh_CN") overrides the
// system locale. Called by gui::run() at start-up and by the GUI tests for localized screenshots.
#include <QLocale>
#include <QString>

namespace loopdeck::gui {

// The locale the app should use: LOOPDECK_LANG if set, else the system locale.
QLocale preferredLocale();
// Installs the translators for `locale` (English needs none). True when LoopDeck's own
// translation was found (or English was asked for).
bool installTranslations(const QLocale &locale);
// Back to the source language (English).
void removeTranslations();

} // namespace loopdeck::gui
