#pragma once
// Loop notifications for the operator: a training run finished (with the accuracy change,
// e.g. "v7: 0.912 → 0.934"), a run failed (the error), the ML backend is not answering (it
// failed to start or stopped with an error), a
// reconcile recovered missed annotations. Shown as a tray balloon where the platform has a
// system tray (QSystemTrayIcon), otherwise — and on offscreen/minimal platforms — in the
// window's NotificationBanner. One setting ("notifications/enabled" in the app's QSettings)
// turns them off. Created by MainWindow, which hands it the loop (a client::LoopClient: the
// user's, the demo's), the embedded backend server and a project-name lookup. GUI thread only.
#include <QFrame>
#include <QObject>
#include <QSet>

#include <functional>

class QLabel;
class QSettings;
class QSystemTrayIcon;
class QTimer;

namespace loopdeck::backend {
class BackendServer;
}
namespace loopdeck::client {
class LoopClient;
}

namespace loopdeck::gui {

// The in-window fallback: a slim bar above the tabs with the last notification and a close
// button; hides itself after a while.
class NotificationBanner final : public QFrame
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NotificationBanner)

public:
    explicit NotificationBanner(QWidget *parent = nullptr);
    void showNotification(const QString &title, const QString &message, bool error);
    QString text() const;

private:
    QLabel *m_icon = nullptr;
    QLabel *m_text = nullptr;
    QTimer *m_hide = nullptr;
};

class Notifier final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Notifier)

public:
    using ProjectName = std::function<QString(const QString &projectKey)>;

    // `settings` and `banner` are not owned and must outlive the notifier.
    Notifier(QSettings *settings, NotificationBanner *banner, QObject *parent = nullptr);
    ~Notifier() override;

    // Announces what `client`'s loop does (several clients may be watched at once).
    void watch(client::LoopClient *client, ProjectName projectName);
    // Announces that `server` (an in-process loop's backend) stopped answering.
    void watchServer(backend::BackendServer *server);

    bool isEnabled() const;
    void setEnabled(bool enabled);
    // True when notifications go to the system tray (false: the in-window banner).
    bool usesTray() const { return m_tray != nullptr; }

    void notify(const QString &title, const QString &message, bool error = false);
    QString lastTitle() const { return m_lastTitle; }
    QString lastMessage() const { return m_lastMessage; }
    int count() const { return m_count; }

    // "0.912", or "—" when unknown (negative).
    static QString accuracyText(double accuracy);

Q_SIGNALS:
    void notified(const QString &title, const QString &message);
    // The tray icon or one of its messages was clicked: the window should come to the front.
    void showWindowRequested();

private:
    QString nameOf(const QString &projectKey) const;

    QSettings *m_settings;
    NotificationBanner *m_banner;
    QSystemTrayIcon *m_tray = nullptr;
    ProjectName m_projectName;
    QString m_lastTitle;
    QString m_lastMessage;
    int m_count = 0;
    // Projects the loop took on while the window runs: their first reconcile is the initial
    // import of existing annotations, not a recovery, and is not announced.
    QSet<QString> m_firstSync;
};

} // namespace loopdeck::gui
