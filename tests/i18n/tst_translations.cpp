// Translation completeness and the language setting.
// - Runs the real lupdate over the sources (the same project and options as the
//   update_translations target) into a copy of translations/loopdeck_zh_CN.ts and fails when a
//   source string has no finished Simplified Chinese translation, or when the committed .ts is
//   not current (strings added or removed in the sources without `--target update_translations`).
// - Loads the embedded zh_CN translation, checks the language precedence (LOOPDECK_LANG, the
//   saved choice, the system) and the settings dialog's language choice round trip.
#include "gui/appsettings.h"
#include "gui/guiapp.h"
#include "gui/settingsdialog.h"
#include "gui/translations.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QProcess>
#include <QPushButton>
#include <QSet>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>
#include <QXmlStreamReader>

using namespace loopdeck;

namespace {

const QString kSourceDir = QStringLiteral(LOOPDECK_SOURCE_DIR);
const QString kTsFile = kSourceDir + QStringLiteral("/translations/loopdeck_zh_CN.ts");

struct Message {
    QString context;
    QString source;
    QString comment;
    QString translationType; // "", "unfinished", "vanished", "obsolete"
    QStringList translations; // one, or one per plural form
    QString key() const { return context + u'\x1f' + source + u'\x1f' + comment; }
};

// Reads every <message> of a Qt Linguist .ts file; an XML error comes back in *error.
QList<Message> readTs(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot open %1: %2").arg(path, file.errorString());
        return {};
    }
    QList<Message> messages;
    QXmlStreamReader xml(&file);
    QString context;
    Message current;
    bool inMessage = false;
    while (!xml.atEnd()) {
        xml.readNext();
        if (xml.isStartElement()) {
            const auto name = xml.name();
            if (name == u"name" && !inMessage) {
                context = xml.readElementText();
            } else if (name == u"message") {
                current = Message{context, {}, {}, {}, {}};
                inMessage = true;
            } else if (inMessage && name == u"source") {
                current.source = xml.readElementText();
            } else if (inMessage && name == u"comment") {
                current.comment = xml.readElementText();
            } else if (inMessage && name == u"translation") {
                current.translationType = xml.attributes().value(QStringLiteral("type")).toString();
                // Either text, or <numerusform> children for plurals.
                QString text;
                while (!(xml.isEndElement() && xml.name() == u"translation") && !xml.atEnd()) {
                    xml.readNext();
                    if (xml.isCharacters())
                        text += xml.text();
                    else if (xml.isStartElement() && xml.name() == u"numerusform")
                        current.translations.append(xml.readElementText());
                }
                if (current.translations.isEmpty())
                    current.translations.append(text);
            }
        } else if (xml.isEndElement() && xml.name() == u"message") {
            messages.append(current);
            inMessage = false;
        }
    }
    if (xml.hasError())
        *error = QStringLiteral("%1:%2: %3").arg(path).arg(xml.lineNumber()).arg(xml.errorString());
    return messages;
}

QString describe(const Message &m)
{
    return QStringLiteral("[%1] \"%2\"").arg(m.context, m.source.left(80));
}

} // namespace

class TestTranslations : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void everySourceStringHasAFinishedChineseTranslation();
    void committedTsIsCurrent();
    void chineseTranslationLoads();
    void languagePrecedence();
    void settingsDialogSavesTheLanguage();

private:
    QTemporaryDir m_tmp;
    QList<Message> m_committed;
    QList<Message> m_fresh; // the committed .ts after lupdate over today's sources
};

void TestTranslations::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    QString error;
    m_committed = readTs(kTsFile, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QVERIFY2(!m_committed.isEmpty(), "the committed .ts has no messages");

    const QString fresh = m_tmp.filePath(QStringLiteral("loopdeck_zh_CN.ts"));
    QVERIFY(QFile::copy(kTsFile, fresh));
    QFile::setPermissions(fresh, QFile::ReadOwner | QFile::WriteOwner);
    // The lupdate project qt_add_translations wrote for loopdeck_gui (sources, include paths),
    // turned into JSON the way the update_translations target does it.
    const QString project = m_tmp.filePath(QStringLiteral("project.json"));
    QProcess generate;
    generate.setProcessChannelMode(QProcess::MergedChannels);
    generate.start(QStringLiteral(LOOPDECK_CMAKE),
                   {QStringLiteral("-DIN_FILE=" LOOPDECK_LUPDATE_PROJECT_IN), QStringLiteral("-DOUT_FILE=") + project,
                    QStringLiteral("-P"), QStringLiteral(LOOPDECK_LUPDATE_PROJECT_SCRIPT)});
    QVERIFY2(generate.waitForFinished(60000), "cmake -P GenerateLUpdateProject did not finish");
    QVERIFY2(generate.exitStatus() == QProcess::NormalExit && generate.exitCode() == 0, generate.readAll().constData());
    // Same options as qt_add_translations in app/gui/CMakeLists.txt; -ts points at the copy.
    QProcess lupdate;
    lupdate.setProcessChannelMode(QProcess::MergedChannels);
    lupdate.start(QStringLiteral(LOOPDECK_LUPDATE),
                  {QStringLiteral("-project"), project, QStringLiteral("-no-obsolete"), QStringLiteral("-locations"),
                   QStringLiteral("none"), QStringLiteral("-silent"), QStringLiteral("-ts"), fresh});
    QVERIFY2(lupdate.waitForFinished(120000), "lupdate did not finish within 2 minutes");
    const QByteArray output = lupdate.readAll();
    QVERIFY2(lupdate.exitStatus() == QProcess::NormalExit && lupdate.exitCode() == 0, output.constData());
    m_fresh = readTs(fresh, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
}

void TestTranslations::everySourceStringHasAFinishedChineseTranslation()
{
    QStringList problems;
    for (const Message &m : std::as_const(m_fresh)) {
        if (!m.translationType.isEmpty())
            problems.append(describe(m) + QStringLiteral(" is ") + m.translationType);
        else if (std::any_of(m.translations.cbegin(), m.translations.cend(),
                             [](const QString &t) { return t.trimmed().isEmpty(); }))
            problems.append(describe(m) + QStringLiteral(" has an empty translation"));
    }
    QVERIFY2(problems.isEmpty(),
             qPrintable(QStringLiteral("%1 of %2 strings lack a zh_CN translation (run `cmake --build <dir> "
                                       "--target update_translations`, then translate them in "
                                       "translations/loopdeck_zh_CN.ts):\n  %3")
                            .arg(problems.size())
                            .arg(m_fresh.size())
                            .arg(problems.mid(0, 30).join(QStringLiteral("\n  ")))));
}

void TestTranslations::committedTsIsCurrent()
{
    QSet<QString> committed;
    for (const Message &m : std::as_const(m_committed))
        committed.insert(m.key());
    QSet<QString> fresh;
    for (const Message &m : std::as_const(m_fresh))
        fresh.insert(m.key());
    QStringList problems;
    for (const Message &m : std::as_const(m_fresh))
        if (!committed.contains(m.key()))
            problems.append(describe(m) + QStringLiteral(" is in the sources but not in the .ts"));
    for (const Message &m : std::as_const(m_committed))
        if (!fresh.contains(m.key()))
            problems.append(describe(m) + QStringLiteral(" is in the .ts but no longer in the sources"));
    QVERIFY2(problems.isEmpty(),
             qPrintable(QStringLiteral("translations/loopdeck_zh_CN.ts is not current; run `cmake --build <dir> "
                                       "--target update_translations`:\n  %1")
                            .arg(problems.mid(0, 30).join(QStringLiteral("\n  ")))));
}

void TestTranslations::chineseTranslationLoads()
{
    gui::initResources();
    QVERIFY(gui::installTranslations(QLocale(QLocale::Chinese, QLocale::China)));
    QCOMPARE(QCoreApplication::translate("SettingsDialog", "Language"), QStringLiteral("语言"));
    QCOMPARE(QCoreApplication::translate("loopdeck::gui::SettingsDialog", "System language"), QStringLiteral("跟随系统"));
    QVERIFY(gui::installTranslations(QLocale(QLocale::English, QLocale::UnitedStates)));
    QCOMPARE(QCoreApplication::translate("SettingsDialog", "Language"), QStringLiteral("Language"));
}

void TestTranslations::languagePrecedence()
{
    const QByteArray saved = qgetenv("LOOPDECK_LANG");
    qunsetenv("LOOPDECK_LANG");
    QCOMPARE(gui::preferredLocale(QString()), QLocale::system());
    QCOMPARE(gui::preferredLocale(QStringLiteral("zh_CN")).name(), QStringLiteral("zh_CN"));
    QCOMPARE(gui::preferredLocale(QStringLiteral("en")).language(), QLocale::English);
    qputenv("LOOPDECK_LANG", "en");
    QCOMPARE(gui::preferredLocale(QStringLiteral("zh_CN")).language(), QLocale::English);
    if (saved.isNull())
        qunsetenv("LOOPDECK_LANG");
    else
        qputenv("LOOPDECK_LANG", saved);

    QStringList codes;
    for (const gui::Language &l : gui::availableLanguages())
        codes.append(l.code);
    QCOMPARE(codes, (QStringList{QStringLiteral("en"), QStringLiteral("zh_CN")}));
}

void TestTranslations::settingsDialogSavesTheLanguage()
{
    QSettings qsettings(m_tmp.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
    gui::AppSettings settings(&qsettings);
    settings.setDataDir(m_tmp.filePath(QStringLiteral("data")));
    QCOMPARE(settings.language(), QString());
    {
        gui::SettingsDialog dialog(&settings);
        auto *combo = dialog.findChild<QComboBox *>(QStringLiteral("languageCombo"));
        QVERIFY(combo);
        QCOMPARE(combo->count(), 3);
        QCOMPARE(combo->currentData().toString(), QString()); // follows the system by default
        QCOMPARE(combo->itemText(2), QStringLiteral("简体中文"));
        combo->setCurrentIndex(combo->findData(QStringLiteral("zh_CN")));
        static_cast<QDialog &>(dialog).accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
    }
    QCOMPARE(settings.language(), QStringLiteral("zh_CN"));
    {
        gui::SettingsDialog dialog(&settings);
        QCOMPARE(dialog.language(), QStringLiteral("zh_CN"));
        auto *buttons = dialog.findChild<QDialogButtonBox *>();
        QVERIFY(buttons);
        buttons->button(QDialogButtonBox::RestoreDefaults)->click();
        QCOMPARE(dialog.language(), QString());
        static_cast<QDialog &>(dialog).accept();
    }
    QCOMPARE(settings.language(), QString());
    QVERIFY(!qsettings.contains(QStringLiteral("ui/language")));
}

QTEST_MAIN(TestTranslations)
#include "tst_translations.moc"
