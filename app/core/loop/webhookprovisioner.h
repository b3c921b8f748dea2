#pragma once
// Makes sure Label Studio calls this backend's /webhook for a project: finds the backend's
// registration in the project (the one whose URL reaches this backend — policy::isThisBackend),
// looks for the project webhook to `<that URL>/webhook` (Label Studio makes one at registration),
// adds the webhook secret header to it when one is set, and makes the webhook itself when Label
// Studio did not (it refuses loopback and private addresses unless SSRF protection is off) —
// after looking twice, 5 s apart, since Label Studio may still be making it.
// Reports each project's outcome with checked(): url, state ("ok", "created", "missing") and a
// warning sentence when Label Studio refused.
// Threads: lives in the loop engine's thread. Called by LoopEngine after a reconcile.
#include <QObject>
#include <QPointer>
#include <QString>
#include <QUrl>

#include <functional>

namespace loopdeck::labelstudio {
class LabelStudioClient;
}

namespace loopdeck::loop {

class WebhookProvisioner final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WebhookProvisioner)
public:
    struct Target {
        QString projectKey;
        qint64 lsProjectId = 0;
        std::function<bool(const QUrl &)> isThisBackend; // which registered URL is ours
        QString secret;                                  // the webhook secret ("" = none)
        int syncMinutes = 10;                            // for the sentence when it is missing
    };

    explicit WebhookProvisioner(QObject *parent = nullptr);
    // A new client (or none): checks still on their way are dropped.
    void setClient(labelstudio::LabelStudioClient *client);
    void check(const Target &target, bool createWhenMissing = false);

Q_SIGNALS:
    void checked(const QString &projectKey, const QString &url, const QString &state, const QString &warning);

private:
    void checkHooks(const Target &target, const QString &hookUrl, bool createWhenMissing, quint64 generation);

    QPointer<labelstudio::LabelStudioClient> m_client;
    quint64 m_generation = 0;
};

} // namespace loopdeck::loop
