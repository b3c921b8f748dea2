#include "gui/notifier.h"

#include "core/backend/projectkey.h"

#include "core/backend/backendserver.h"
#include "core/client/loopclient.h"

#include <QGuiApplication>
#include <QHBoxLayout>
#include <QIcon>
#include <QLabel>
#include <QLocale>
#include <QSettings>
#include <QStyle>
#include <QSystemTrayIcon>
#include <QTimer>
#include <QToolButton>

namespace loopdeck::gui {

namespace {
const QString kEnabledKey = QStringLiteral("notifications/enabled");
constexpr int kBannerMs = 20000;
} // namespace

// ---- NotificationBanner -----------------------------------------------------------------------

NotificationBanner::NotificationBanner(QWidget *parent)
    : QFrame(parent)
    , m_hide(new QTimer(this))
{
    setObjectName(QStringLiteral("notificationBanner"));
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(10, 4, 4, 4);
    m_icon = new QLabel(this);
    m_text = new QLabel(this);
    m_text->setObjectName(QStringLiteral("notificationText"));
    m_text->setWordWrap(true);
    m_text->setTextFormat(Qt::RichText);
    auto *close = new QToolButton(this);
    close->setObjectName(QStringLiteral("notificationClose"));
    close->setAutoRaise(true);
    close->setText(QStringLiteral("×"));
    close->setToolTip(tr("Dismiss"));
    layout->addWidget(m_icon);
    layout->addWidget(m_text, 1);
    layout->addWidget(close);
    connect(close, &QToolButton::clicked, this, &QWidget::hide);
    m_hide->setSingleShot(true);
    m_hide->setInterval(kBannerMs);
    connect(m_hide, &QTimer::timeout, this, &QWidget::hide);
    hide();
}

void NotificationBanner::showNotification(const QString &title, const QString &message, bool error)
{
    QPalette pal = palette();
    pal.setColor(QPalette::Window, error ? QColor(0xfd, 0xec, 0xea) : QColor(0xe8, 0xf4, 0xfd));
    pal.setColor(QPalette::WindowText, QColor(0x20, 0x20, 0x20));
    setPalette(pal);
    const QIcon icon = style()->standardIcon(error ? QStyle::SP_MessageBoxWarning : QStyle::SP_MessageBoxInformation);
    m_icon->setPixmap(icon.pixmap(QSize(18, 18), devicePixelRatioF()));
    m_text->setText(QStringLiteral("<b>%1</b> — %2").arg(title.toHtmlEscaped(), message.toHtmlEscaped()));
    show();
    m_hide->start();
}

QString NotificationBanner::text() const
{
    return m_text->text();
}

// ---- Notifier ---------------------------------------------------------------------------------

Notifier::Notifier(QSettings *settings, NotificationBanner *banner, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_banner(banner)
{
    // Offscreen and minimal platforms have no tray even when isSystemTrayAvailable() guesses yes.
    const QString platform = QGuiApplication::platformName();
    if (QSystemTrayIcon::isSystemTrayAvailable() && platform != u"offscreen" && platform != u"minimal") {
        m_tray = new QSystemTrayIcon(QIcon(QStringLiteral(":/icons/loopdeck.svg")), this);
        m_tray->setToolTip(tr("LoopDeck"));
        m_tray->setVisible(isEnabled());
        connect(m_tray, &QSystemTrayIcon::messageClicked, this, &Notifier::showWindowRequested);
        connect(m_tray, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason reason) {
            if (reason == QSystemTrayIcon::Trigger || reason == QSystemTrayIcon::DoubleClick)
                Q_EMIT showWindowRequested();
        });
    }
}

Notifier::~Notifier() = default;

bool Notifier::isEnabled() const
{
    return m_settings->value(kEnabledKey, true).toBool();
}

void Notifier::setEnabled(bool enabled)
{
    m_settings->setValue(kEnabledKey, enabled);
    if (m_tray)
        m_tray->setVisible(enabled);
    if (!enabled && m_banner)
        m_banner->hide();
}

QString Notifier::accuracyText(double accuracy)
{
    return accuracy < 0 ? QStringLiteral("—") : QLocale().toString(accuracy, 'f', 3);
}

QString Notifier::nameOf(const QString &projectId) const
{
    const QString name = m_projectName ? m_projectName(projectId) : QString();
    return name.isEmpty() ? tr("Project %1").arg(backend::projectkey::lsId(projectId)) : name;
}

void Notifier::notify(const QString &title, const QString &message, bool error)
{
    if (!isEnabled())
        return;
    m_lastTitle = title;
    m_lastMessage = message;
    ++m_count;
    if (m_tray && m_tray->isVisible() && QSystemTrayIcon::supportsMessages())
        m_tray->showMessage(title, message, error ? QSystemTrayIcon::Warning : QSystemTrayIcon::Information, 10000);
    else if (m_banner)
        m_banner->showNotification(title, message, error);
    Q_EMIT notified(title, message);
}

void Notifier::watch(client::LoopClient *client, ProjectName projectName)
{
    using client::LoopClient;
    m_projectName = std::move(projectName);
    connect(client, &LoopClient::trainingFinished, this,
            [this](const QString &project, int version, bool activated, double previous, double accuracy) {
                const QString change = tr("v%1: %2 → %3").arg(version).arg(accuracyText(previous), accuracyText(accuracy));
                if (activated)
                    notify(tr("%1: new model version").arg(nameOf(project)), change);
                else
                    notify(tr("%1: new version not activated").arg(nameOf(project)),
                           tr("%1 — kept inactive; the active version keeps serving (the model page's log says why).")
                               .arg(change));
            });
    connect(client, &LoopClient::trainingFailed, this, [this](const QString &project, const QString &error) {
        notify(tr("%1: training failed").arg(nameOf(project)), error, true);
    });
    connect(client, &LoopClient::projectAdded, this, [this](const QString &project) { m_firstSync.insert(project); });
    connect(client, &LoopClient::reconciled, this, [this](const QString &project, int recovered) {
        if (m_firstSync.remove(project))
            return;
        if (recovered > 0)
            notify(tr("%1: missed annotations recovered").arg(nameOf(project)),
                   tr("The reconcile with Label Studio recovered %1 annotations the backend had missed.").arg(recovered));
    });
}

void Notifier::watchServer(backend::BackendServer *server)
{
    if (!server)
        return;
    connect(server, &backend::BackendServer::errorOccurred, this,
            [this](const QString &message) { notify(tr("The ML backend is not answering"), message, true); });
}

} // namespace loopdeck::gui
