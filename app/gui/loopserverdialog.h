#pragma once
// "Connect to a LoopDeck server" dialog: a name, the server's address, its operator token (a
// password field) and, for a team's own certificate authority, its CA certificate file. "Test"
// tries the server (RemoteLoopClient::testConnection) and says in words what is wrong:
// nothing answers, the certificate is not trusted, the token is refused, another version.
// The token is handed to TokenStore by MainWindow. GUI thread only.
#include "settings/loopserverprofile.h"

#include <QDialog>

QT_BEGIN_NAMESPACE
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPushButton;
QT_END_NAMESPACE

namespace loopdeck::gui {

class LoopServerDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LoopServerDialog)

public:
    // `takenNames`: names of other saved servers (a new one may not reuse one).
    explicit LoopServerDialog(const QStringList &takenNames, QWidget *parent = nullptr);

    // Editing a saved server: `hasToken` = a token is stored, so an empty field keeps it.
    void setProfile(const settings::LoopServerProfile &profile, bool hasToken);
    settings::LoopServerProfile profile() const;
    QString token() const; // empty: keep the stored one (when editing)

    // For tests.
    void setValues(const QString &name, const QString &url, const QString &token, const QString &caFile = {});
    QPushButton *testButton() const { return m_test; }
    QString testResult() const;
    QString problem() const; // what stops OK now ("" when it may be accepted)

private:
    void updateHints();
    void runTest();
    void accept() override;

    QStringList m_taken;
    QString m_originalName;
    QUrl m_originalUrl;
    bool m_hasToken = false;
    QLineEdit *m_name = nullptr;
    QLineEdit *m_url = nullptr;
    QLineEdit *m_token = nullptr;
    QLineEdit *m_ca = nullptr;
    QLabel *m_hint = nullptr;
    QLabel *m_result = nullptr;
    QPushButton *m_test = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
    int m_testRun = 0;
};

} // namespace loopdeck::gui
