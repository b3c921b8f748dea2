// The connection dialog when a saved connection is edited (offscreen, no server): pointing it at
// another server says plainly that the saved token will be deleted and wants a new token before
// Save; a path change on the same server keeps the token.
#include "gui/connectiondialog.h"

#include <QApplication>
#include <QDialogButtonBox>
#include <QPushButton>
#include <QTest>

using namespace loopdeck;

class TestGuiConnectionDialog final : public QObject
{
    Q_OBJECT

    static bool saveEnabled(const gui::ConnectionDialog &dialog)
    {
        const auto *box = dialog.findChild<QDialogButtonBox *>();
        return box && box->button(QDialogButtonBox::Save) && box->button(QDialogButtonBox::Save)->isEnabled();
    }

private Q_SLOTS:
    void editToAnotherServerAsksForANewToken()
    {
        const settings::ConnectionProfile saved{QStringLiteral("Lab"), QUrl(QStringLiteral("http://localhost:8080")),
                                                labelstudio::TokenKind::Legacy};
        gui::ConnectionDialog dialog({QStringLiteral("Lab")});
        dialog.setProfile(saved, true);
        QVERIFY(!dialog.serverChanged());
        QCOMPARE(dialog.tokenHint(), QStringLiteral("The saved token is kept."));
        QVERIFY(saveEnabled(dialog));

        // Same server, another path: the token stays.
        dialog.setValues(QStringLiteral("Lab"), QStringLiteral("http://localhost:8080/label-studio"), QString());
        QVERIFY(!dialog.serverChanged());
        QCOMPARE(dialog.tokenHint(), QStringLiteral("The saved token is kept."));
        QVERIFY(saveEnabled(dialog));

        // Another host: said plainly, and Save waits for a token for the new server.
        dialog.setValues(QStringLiteral("Lab"), QStringLiteral("https://ls.example.org"), QString());
        QVERIFY(dialog.serverChanged());
        QVERIFY2(dialog.tokenHint().contains(QLatin1String("will be deleted")), qPrintable(dialog.tokenHint()));
        QVERIFY2(dialog.tokenHint().contains(QLatin1String("http://localhost:8080")), qPrintable(dialog.tokenHint()));
        QVERIFY2(dialog.tokenHint().contains(QLatin1String("Paste a token for the new server")), qPrintable(dialog.tokenHint()));
        QVERIFY(!saveEnabled(dialog));

        // Another port is another server too.
        dialog.setValues(QStringLiteral("Lab"), QStringLiteral("http://localhost:8081"), QString());
        QVERIFY(dialog.serverChanged());
        QVERIFY(!saveEnabled(dialog));

        dialog.setValues(QStringLiteral("Lab"), QStringLiteral("https://ls.example.org"),
                         QStringLiteral("0123456789abcdef0123456789abcdef01234567"));
        QCOMPARE(dialog.tokenHint(), QStringLiteral("Detected: legacy token"));
        QVERIFY(saveEnabled(dialog));
        QCOMPARE(dialog.token(), QStringLiteral("0123456789abcdef0123456789abcdef01234567"));
    }
};

QTEST_MAIN(TestGuiConnectionDialog)
#include "tst_guiconnectiondialog.moc"
