#include "gui/loopserverdialog.h"

#include "core/client/remoteloopclient.h"
#include "settings/connectionprofile.h"

#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace loopdeck::gui {

LoopServerDialog::LoopServerDialog(const QStringList &takenNames, QWidget *parent)
    : QDialog(parent)
    , m_taken(takenNames)
{
    setWindowTitle(tr("Connect to a LoopDeck server"));
    setObjectName(QStringLiteral("loopServerDialog"));
    auto *form = new QFormLayout;
    m_name = new QLineEdit(this);
    m_name->setObjectName(QStringLiteral("loopServerName"));
    m_name->setPlaceholderText(tr("Team server"));
    m_url = new QLineEdit(this);
    m_url->setObjectName(QStringLiteral("loopServerUrl"));
    m_url->setPlaceholderText(QStringLiteral("https://loopdeck.example.org"));
    m_token = new QLineEdit(this);
    m_token->setObjectName(QStringLiteral("loopServerToken"));
    m_token->setEchoMode(QLineEdit::Password);
    m_token->setPlaceholderText(tr("`loopdeck operator-token` on the server prints it"));
    m_ca = new QLineEdit(this);
    m_ca->setObjectName(QStringLiteral("loopServerCa"));
    m_ca->setPlaceholderText(tr("Optional: your team's CA certificate (PEM)"));
    auto *browse = new QPushButton(tr("Browse…"), this);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(this, tr("CA certificate"), QString(),
                                                          tr("Certificates (*.pem *.crt *.cer);;All files (*)"));
        if (!file.isEmpty())
            m_ca->setText(file);
    });
    auto *caRow = new QHBoxLayout;
    caRow->addWidget(m_ca, 1);
    caRow->addWidget(browse);
    form->addRow(tr("&Name:"), m_name);
    form->addRow(tr("&Address:"), m_url);
    form->addRow(tr("Operator &token:"), m_token);
    form->addRow(tr("&CA certificate:"), caRow);

    m_hint = new QLabel(this);
    m_hint->setObjectName(QStringLiteral("loopServerHint"));
    m_hint->setWordWrap(true);
    m_result = new QLabel(this);
    m_result->setObjectName(QStringLiteral("loopServerTestResult"));
    m_result->setWordWrap(true);
    m_result->setTextFormat(Qt::PlainText); // it may carry the server's own sentence
    m_hint->setTextFormat(Qt::PlainText);
    m_result->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_test = new QPushButton(tr("&Test"), this);
    m_test->setObjectName(QStringLiteral("loopServerTest"));
    connect(m_test, &QPushButton::clicked, this, &LoopServerDialog::runTest);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Connect"));
    m_buttons->addButton(m_test, QDialogButtonBox::ActionRole);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &LoopServerDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(tr("Operate the loop of a <tt>loopdeck serve</tt> that runs next to your team's Label Studio. "
                                "See docs/deploy.md for HTTPS and the operator token."),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    layout->addLayout(form);
    layout->addWidget(m_hint);
    layout->addWidget(m_result);
    layout->addWidget(m_buttons);
    setMinimumWidth(520);
    for (QLineEdit *e : {m_name, m_url, m_token, m_ca})
        connect(e, &QLineEdit::textChanged, this, [this] {
            ++m_testRun; // a test of the old values no longer says anything
            m_result->clear();
            updateHints();
        });
    updateHints();
}

void LoopServerDialog::setProfile(const settings::LoopServerProfile &profile, bool hasToken)
{
    m_originalName = profile.name;
    m_originalUrl = profile.url;
    m_hasToken = hasToken;
    m_name->setText(profile.name);
    m_url->setText(profile.url.toString());
    m_ca->setText(profile.caFile);
    if (hasToken)
        m_token->setPlaceholderText(tr("Stored in the keychain; leave empty to keep it"));
    updateHints();
}

void LoopServerDialog::setValues(const QString &name, const QString &url, const QString &token, const QString &caFile)
{
    m_name->setText(name);
    m_url->setText(url);
    m_token->setText(token);
    m_ca->setText(caFile);
}

settings::LoopServerProfile LoopServerDialog::profile() const
{
    settings::LoopServerProfile p;
    p.name = m_name->text().trimmed();
    p.url = QUrl::fromUserInput(m_url->text().trimmed());
    p.caFile = m_ca->text().trimmed();
    return p;
}

QString LoopServerDialog::token() const
{
    return m_token->text().trimmed();
}

QString LoopServerDialog::testResult() const
{
    return m_result->text();
}

QString LoopServerDialog::problem() const
{
    const settings::LoopServerProfile p = profile();
    if (p.name.isEmpty())
        return tr("Give the server a name.");
    if (p.name != m_originalName && m_taken.contains(p.name))
        return tr("A server named \"%1\" is saved already.").arg(p.name);
    if (m_url->text().trimmed().isEmpty())
        return tr("Give the server's address, e.g. https://loopdeck.example.org.");
    switch (settings::LoopServerProfiles::validateUrl(p.url)) {
    case settings::LoopServerProfiles::UrlProblem::None: break;
    case settings::LoopServerProfiles::UrlProblem::NotAnAddress: return tr("\"%1\" is not a server address.").arg(m_url->text().trimmed());
    case settings::LoopServerProfiles::UrlProblem::Scheme: return tr("The address must start with https:// (or http://).");
    case settings::LoopServerProfiles::UrlProblem::UserInfo:
        return tr("Leave the user name and password out of the address; the operator token is the credential.");
    case settings::LoopServerProfiles::UrlProblem::QueryOrFragment: return tr("Leave ?… and #… out of the address.");
    }
    // A stored token belongs to the address it was given for: another scheme, host or port needs its own.
    const bool keepsToken = m_hasToken && settings::ConnectionProfiles::sameOrigin(m_originalUrl, p.url);
    if (token().isEmpty() && !keepsToken)
        return m_hasToken ? tr("The address points to another server: paste that server's operator token (the stored one is "
                               "not sent there).")
                          : tr("Paste the server's operator token.");
    if (!client::RemoteLoopClient::isUsableToken(token()))
        return client::RemoteLoopClient::unusableTokenSentence();
    if (!p.caFile.isEmpty()) {
        QString error;
        if (client::RemoteLoopClient::loadCaFile(p.caFile, &error).isEmpty())
            return error;
    }
    return {};
}

void LoopServerDialog::updateHints()
{
    const QString why = problem();
    bool cleartext = false;
    settings::LoopServerProfiles::validateUrl(profile().url, &cleartext);
    QString hint = why;
    if (why.isEmpty() && cleartext)
        hint = tr("Plain http: the operator token would cross the network unencrypted. Put the server behind HTTPS.");
    m_hint->setText(hint);
    m_hint->setStyleSheet(why.isEmpty() && !cleartext ? QString() : QStringLiteral("color:#b45309"));
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(why.isEmpty());
    m_test->setEnabled(why.isEmpty() && !token().isEmpty());
}

void LoopServerDialog::runTest()
{
    const settings::LoopServerProfile p = profile();
    client::RemoteLoopClient::Endpoint e;
    e.url = p.url;
    e.token = token();
    QString error;
    if (!p.caFile.isEmpty())
        e.caCertificates = client::RemoteLoopClient::loadCaFile(p.caFile, &error);
    if (!problem().isEmpty())
        return;
    m_result->setText(tr("Testing…"));
    m_result->setStyleSheet(QString());
    const int run = ++m_testRun;
    client::RemoteLoopClient::testConnection(e, this, [this, run](bool ok, const QString &message) {
        if (run != m_testRun)
            return; // the form changed meanwhile
        m_result->setText(message);
        m_result->setStyleSheet(ok ? QStringLiteral("color:#2e7d32") : QStringLiteral("color:#c62828"));
    });
}

void LoopServerDialog::accept()
{
    if (!problem().isEmpty())
        return;
    QDialog::accept();
}

} // namespace loopdeck::gui
