#pragma once
// "Add connection" / "Edit connection" dialog (ui/connectiondialog.ui): name, server URL and
// token (a password field), with a live hint saying which kind of token was pasted and whether
// the URL can be a server address. The token itself is handed to TokenStore by MainWindow.
// When an edit points the connection at another server (origin), the dialog says that the saved
// token will be deleted and asks for a token for the new server.
// GUI thread only.
#include "settings/connectionprofile.h"

#include <QDialog>

#include <memory>

namespace Ui {
class ConnectionDialog;
}

namespace loopdeck::gui {

class ConnectionDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionDialog)

public:
    // `takenNames`: names of other profiles (a new profile may not reuse one).
    explicit ConnectionDialog(const QStringList &takenNames, QWidget *parent = nullptr);
    ~ConnectionDialog() override;

    // Fills the form for editing. `hasToken`: a token is stored, so an empty field keeps it.
    void setProfile(const settings::ConnectionProfile &profile, bool hasToken);
    // Whether the token will be kept in the keychain or for this session only (shown as a hint).
    void setSessionOnly(bool sessionOnly);

    settings::ConnectionProfile profile() const;
    QString token() const; // empty: keep the stored token (when editing)
    // Editing, and the URL now names another origin than the saved one: the saved token goes.
    bool serverChanged() const;

    // For tests: the current hint texts.
    QString tokenHint() const;
    QString urlHint() const;
    void setValues(const QString &name, const QString &url, const QString &token);

private:
    void updateHints();
    void accept() override;

    std::unique_ptr<Ui::ConnectionDialog> m_ui;
    QStringList m_takenNames;
    QString m_originalName;
    QUrl m_originalUrl;
    bool m_hasToken = false;
};

// The hint shown for a token, e.g. "Detected: Personal Access Token". Empty for no token.
QString tokenKindHint(labelstudio::TokenKind kind);

} // namespace loopdeck::gui
