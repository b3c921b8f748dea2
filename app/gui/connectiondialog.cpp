#include "gui/connectiondialog.h"

#include "labelstudio/tokenauth.h"
#include "ui_connectiondialog.h"

#include <QPushButton>

#include <algorithm>

namespace loopdeck::gui {

using labelstudio::TokenKind;

QString tokenKindHint(TokenKind kind)
{
    switch (kind) {
    case TokenKind::Legacy:
        return ConnectionDialog::tr("Detected: legacy token");
    case TokenKind::PersonalAccessToken:
        return ConnectionDialog::tr("Detected: Personal Access Token");
    case TokenKind::AccessToken:
        return ConnectionDialog::tr("Detected: short-lived access token — it will expire; "
                                    "use a Personal Access Token for a lasting connection");
    case TokenKind::Unknown:
        break;
    }
    return {};
}

ConnectionDialog::ConnectionDialog(const QStringList &takenNames, QWidget *parent)
    : QDialog(parent)
    , m_ui(std::make_unique<Ui::ConnectionDialog>())
    , m_takenNames(takenNames)
{
    m_ui->setupUi(this);
    setWindowTitle(tr("Add connection"));
    m_ui->tokenEdit->setPlaceholderText(tr("Paste the token from Label Studio"));
    m_ui->nameEdit->setText(tr("Label Studio"));
    m_ui->urlEdit->setText(QStringLiteral("http://localhost:8080"));
    for (QLabel *hint : {m_ui->nameHint, m_ui->urlHint, m_ui->tokenHint, m_ui->storageHint})
        hint->setForegroundRole(QPalette::PlaceholderText);
    for (QLabel *hint : {m_ui->nameHint, m_ui->urlHint, m_ui->tokenHint})
        hint->setMinimumWidth(360); // word-wrapped labels in a form layout otherwise wrap early
    connect(m_ui->nameEdit, &QLineEdit::textChanged, this, &ConnectionDialog::updateHints);
    connect(m_ui->urlEdit, &QLineEdit::textChanged, this, &ConnectionDialog::updateHints);
    connect(m_ui->tokenEdit, &QLineEdit::textChanged, this, &ConnectionDialog::updateHints);
    connect(m_ui->showTokenCheck, &QCheckBox::toggled, this, [this](bool on) {
        m_ui->tokenEdit->setEchoMode(on ? QLineEdit::Normal : QLineEdit::Password);
    });
    connect(m_ui->buttonBox, &QDialogButtonBox::accepted, this, &ConnectionDialog::accept);
    setSessionOnly(false);
    updateHints();
    // Word-wrapped hints: size the dialog for its width, not for the labels' one-line guess.
    layout()->activate();
    resize(580, std::max(minimumSizeHint().height(), layout()->totalHeightForWidth(580)));
}

ConnectionDialog::~ConnectionDialog() = default;

void ConnectionDialog::setProfile(const settings::ConnectionProfile &profile, bool hasToken)
{
    setWindowTitle(tr("Edit connection"));
    m_originalName = profile.name;
    m_originalUrl = profile.url;
    m_hasToken = hasToken;
    m_ui->nameEdit->setText(profile.name);
    m_ui->urlEdit->setText(profile.url.toString());
    m_ui->tokenEdit->clear();
    m_ui->tokenEdit->setPlaceholderText(hasToken ? tr("Leave empty to keep the saved token")
                                                 : tr("Paste the token from Label Studio"));
    updateHints();
}

void ConnectionDialog::setSessionOnly(bool sessionOnly)
{
    m_ui->storageHint->setText(sessionOnly
                                   ? tr("No system keychain is available: the token is kept for this session only.")
                                   : tr("The token is stored in the system keychain, never in a settings file."));
}

settings::ConnectionProfile ConnectionDialog::profile() const
{
    settings::ConnectionProfile p;
    p.name = m_ui->nameEdit->text().trimmed();
    p.url = QUrl::fromUserInput(m_ui->urlEdit->text().trimmed());
    p.tokenKind = labelstudio::detectTokenKind(m_ui->tokenEdit->text().trimmed());
    return p;
}

QString ConnectionDialog::token() const
{
    return m_ui->tokenEdit->text().trimmed();
}

bool ConnectionDialog::serverChanged() const
{
    if (m_originalUrl.isEmpty())
        return false;
    const QUrl url = QUrl::fromUserInput(m_ui->urlEdit->text().trimmed());
    return settings::ConnectionProfiles::validateUrl(url).isEmpty() && !settings::ConnectionProfiles::sameOrigin(m_originalUrl, url);
}

QString ConnectionDialog::tokenHint() const
{
    return m_ui->tokenHint->text();
}

QString ConnectionDialog::urlHint() const
{
    return m_ui->urlHint->text();
}

void ConnectionDialog::setValues(const QString &name, const QString &url, const QString &token)
{
    m_ui->nameEdit->setText(name);
    m_ui->urlEdit->setText(url);
    m_ui->tokenEdit->setText(token);
}

void ConnectionDialog::updateHints()
{
    const QString name = m_ui->nameEdit->text().trimmed();
    const QString urlText = m_ui->urlEdit->text().trimmed();
    const QString token = m_ui->tokenEdit->text().trimmed();

    QString urlProblem;
    if (urlText.isEmpty())
        urlProblem = tr("Enter the address of the Label Studio server.");
    else
        urlProblem = settings::ConnectionProfiles::validateUrl(QUrl::fromUserInput(urlText));
    m_ui->urlHint->setText(urlProblem);
    m_ui->urlHint->setVisible(!urlProblem.isEmpty());

    // A saved token is kept only while the connection stays on the same server.
    const bool moved = m_hasToken && serverChanged();
    const bool keepsToken = m_hasToken && !moved;
    QString tokenText;
    if (token.isEmpty() && moved)
        tokenText = tr("The server address changed: the token saved for %1 will be deleted, so that it is never sent to "
                       "another server. Paste a token for the new server.")
                        .arg(m_originalUrl.adjusted(QUrl::RemovePath | QUrl::RemoveQuery | QUrl::RemoveFragment | QUrl::RemoveUserInfo)
                                 .toString());
    else if (token.isEmpty())
        tokenText = keepsToken ? tr("The saved token is kept.") : tr("A token is needed to read projects.");
    else
        tokenText = tokenKindHint(labelstudio::detectTokenKind(token));
    m_ui->tokenHint->setText(tokenText);
    if (m_hasToken)
        m_ui->tokenEdit->setPlaceholderText(moved ? tr("Paste a token for the new server") : tr("Leave empty to keep the saved token"));

    QString nameProblem;
    if (name.isEmpty())
        nameProblem = tr("Give the connection a name.");
    else if (name != m_originalName && m_takenNames.contains(name))
        nameProblem = tr("Another connection is already called “%1”.").arg(name);
    else if (name.startsWith(QLatin1String("loopdeck-server/")))
        // The keychain keeps LoopDeck servers' operator tokens under that prefix.
        nameProblem = tr("Names starting with “loopdeck-server/” are LoopDeck's own; choose another.");
    m_ui->nameHint->setText(nameProblem);
    m_ui->nameHint->setVisible(!nameProblem.isEmpty());

    if (QPushButton *save = m_ui->buttonBox->button(QDialogButtonBox::Save))
        save->setEnabled(urlProblem.isEmpty() && nameProblem.isEmpty() && (keepsToken || !token.isEmpty()));
}

void ConnectionDialog::accept()
{
    updateHints();
    if (QPushButton *save = m_ui->buttonBox->button(QDialogButtonBox::Save); save && !save->isEnabled())
        return;
    QDialog::accept();
}

} // namespace loopdeck::gui
