#include "gui/translations.h"

#include <QCoreApplication>
#include <QLibraryInfo>
#include <QTranslator>

#include <memory>

namespace loopdeck::gui {
namespace {

std::unique_ptr<QTranslator> &appTranslator()
{
    static std::unique_ptr<QTranslator> t;
    return t;
}

std::unique_ptr<QTranslator> &qtTranslator()
{
    static std::unique_ptr<QTranslator> t;
    return t;
}

} // namespace

QLocale preferredLocale(const QString &choice)
{
    const QString forced = qEnvironmentVariable("LOOPDECK_LANG");
    if (!forced.isEmpty())
        return QLocale(forced);
    return choice.isEmpty() ? QLocale::system() : QLocale(choice);
}

QList<Language> availableLanguages()
{
    // Names are written in their own language, as language pickers usually do; they are not
    // translated. Add a language here when translations/loopdeck_<code>.ts is added.
    return {{QStringLiteral("en"), QStringLiteral("English")},
            {QStringLiteral("zh_CN"), QStringLiteral("简体中文")}};
}

void removeTranslations()
{
    for (auto *slot : {&appTranslator(), &qtTranslator()}) {
        if (*slot) {
            QCoreApplication::removeTranslator(slot->get());
            slot->reset();
        }
    }
}

bool installTranslations(const QLocale &locale)
{
    removeTranslations();
    QLocale::setDefault(locale);
    if (locale.language() == QLocale::English || locale.language() == QLocale::C)
        return true;
    auto qt = std::make_unique<QTranslator>();
    if (qt->load(locale, QStringLiteral("qtbase"), QStringLiteral("_"),
                 QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
        QCoreApplication::installTranslator(qt.get());
        qtTranslator() = std::move(qt);
    }
    auto own = std::make_unique<QTranslator>();
    if (!own->load(locale, QStringLiteral("loopdeck"), QStringLiteral("_"), QStringLiteral(":/i18n")))
        return false;
    QCoreApplication::installTranslator(own.get());
    appTranslator() = std::move(own);
    return true;
}

} // namespace loopdeck::gui
