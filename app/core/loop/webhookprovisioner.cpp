#include "core/loop/webhookprovisioner.h"

#include "core/backend/backendapi.h"
#include "core/labelstudio/labelstudioclient.h"

#include <QTimer>
#include <QUrlQuery>

#include <nlohmann/json.hpp>

namespace loopdeck::loop {

using nlohmann::json;

WebhookProvisioner::WebhookProvisioner(QObject *parent)
    : QObject(parent)
{
}

void WebhookProvisioner::setClient(labelstudio::LabelStudioClient *client)
{
    ++m_generation;
    m_client = client;
}

void WebhookProvisioner::check(const Target &target, bool createWhenMissing)
{
    if (!m_client)
        return;
    const quint64 generation = m_generation;
    QUrlQuery byProject;
    byProject.addQueryItem(QStringLiteral("project"), QString::number(target.lsProjectId));
    // Which URL Label Studio uses for this backend: its registration that reaches us.
    m_client->sendRaw("GET", QStringLiteral("/api/ml"), byProject, {},
                      [this, target, createWhenMissing, generation](const QByteArray &answer, const labelstudio::LsError &error) {
                          if (generation != m_generation || error.isError())
                              return;
                          const json list = json::parse(answer.begin(), answer.end(), nullptr, false);
                          QString backendUrl;
                          if (list.is_array())
                              for (const json &b : list)
                                  if (b.is_object() && b.contains("url") && b["url"].is_string()) {
                                      const QUrl u(QString::fromStdString(b["url"].get<std::string>()));
                                      if (target.isThisBackend && target.isThisBackend(u))
                                          backendUrl = u.toString(QUrl::StripTrailingSlash);
                                  }
                          if (backendUrl.isEmpty())
                              return; // not registered in this project (yet)
                          checkHooks(target, backendUrl + QStringLiteral("/webhook"), createWhenMissing, generation);
                      });
}

void WebhookProvisioner::checkHooks(const Target &target, const QString &hookUrl, bool createWhenMissing, quint64 generation)
{
    if (!m_client || generation != m_generation)
        return;
    QUrlQuery byProject;
    byProject.addQueryItem(QStringLiteral("project"), QString::number(target.lsProjectId));
    const QString key = target.projectKey;
    m_client->sendRaw(
        "GET", QStringLiteral("/api/webhooks/"), byProject, {},
        [this, target, key, hookUrl, createWhenMissing, generation](const QByteArray &answer, const labelstudio::LsError &error) {
            if (generation != m_generation || error.isError())
                return;
            const json hooks = json::parse(answer.begin(), answer.end(), nullptr, false);
            // With a webhook secret the hook must carry it (Label Studio's own webhook carries no
            // credentials): add it to the headers.
            const std::string secret = target.secret.toStdString();
            const std::string secretHeader = backend::BackendApi::kWebhookSecretHeader;
            if (hooks.is_array())
                for (const json &h : hooks) {
                    if (!h.is_object() || !h.value("is_active", true)
                        || QUrl(QString::fromStdString(h.value("url", std::string()))).toString(QUrl::StripTrailingSlash) != hookUrl)
                        continue;
                    const json headers = h.value("headers", json::object());
                    if (secret.empty() || (headers.is_object() && headers.value(secretHeader, std::string()) == secret)) {
                        Q_EMIT checked(key, hookUrl, QStringLiteral("ok"), QString());
                        return;
                    }
                    json patched = headers.is_object() ? headers : json::object();
                    patched[secretHeader] = secret;
                    m_client->sendRaw("PATCH", QStringLiteral("/api/webhooks/%1/").arg(h.value("id", 0)), {},
                                      QByteArray::fromStdString(json{{"headers", patched}}.dump()),
                                      [this, key, hookUrl, generation](const QByteArray &, const labelstudio::LsError &patchError) {
                                          if (generation != m_generation)
                                              return;
                                          Q_EMIT checked(key, hookUrl,
                                                         patchError.isError() ? QStringLiteral("missing") : QStringLiteral("ok"),
                                                         patchError.isError()
                                                             ? QStringLiteral("The webhook to %1 lacks the secret header and "
                                                                              "Label Studio refused to add it (%2).")
                                                                   .arg(hookUrl, patchError.message())
                                                             : QString());
                                      });
                    return;
                }
            // Label Studio may still be making it (registration): look again before making one.
            if (!createWhenMissing) {
                QTimer::singleShot(5000, this, [this, target, generation] {
                    if (generation == m_generation)
                        check(target, true);
                });
                return;
            }
            json create = {{"project", target.lsProjectId},
                           {"url", hookUrl.toStdString()},
                           {"send_payload", true},
                           {"send_for_all_actions", true},
                           {"is_active", true}};
            if (!secret.empty())
                create["headers"] = json{{secretHeader, secret}};
            m_client->sendRaw(
                "POST", QStringLiteral("/api/webhooks/"), {}, QByteArray::fromStdString(create.dump()),
                [this, key, hookUrl, generation, minutes = target.syncMinutes](const QByteArray &, const labelstudio::LsError &createError) {
                    if (generation != m_generation)
                        return;
                    if (!createError.isError()) {
                        Q_EMIT checked(key, hookUrl, QStringLiteral("created"), QString());
                        return;
                    }
                    Q_EMIT checked(key, hookUrl, QStringLiteral("missing"),
                                   QStringLiteral("Label Studio has no webhook to %1 and refused to make one (%2). Annotations "
                                                  "then reach LoopDeck only through the reconcile every %3 minutes. Start Label "
                                                  "Studio with SSRF_PROTECTION_ENABLED=false to let it call a backend on a local "
                                                  "address.")
                                       .arg(hookUrl, createError.message())
                                       .arg(minutes));
                });
        });
}

} // namespace loopdeck::loop
