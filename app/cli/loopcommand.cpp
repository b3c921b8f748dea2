// `loopdeck loop status|train|activate|rollback`: the loop's operator actions against a running
// backend (`loopdeck serve` or the window's backend), over its HTTP routes /loop/*.
#include "cli/commands.h"
#include "core/backend/operatortoken.h"
#include "core/paths.h"

#include <QCommandLineParser>
#include <QEventLoop>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTextStream>
#include <QTimer>
#include <QUrlQuery>

namespace loopdeck::cli {

namespace {

struct HttpAnswer {
    int status = 0;          // 0 = no answer
    QByteArray body;
    QString networkError;
};

HttpAnswer call(const QByteArray &verb, const QUrl &url, const QByteArray &authorization, int timeoutMs, const QByteArray &body)
{
    QNetworkAccessManager nam;
    QNetworkRequest request(url);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    if (!authorization.isEmpty())
        request.setRawHeader("Authorization", authorization);
    // A redirect would carry the operator token to wherever it points: never follow one.
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    request.setTransferTimeout(timeoutMs);
    QNetworkReply *reply = verb == "GET" ? nam.get(request) : nam.post(request, body);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    HttpAnswer answer;
    answer.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    answer.body = reply->readAll();
    if (answer.status == 0)
        answer.networkError = reply->errorString();
    reply->deleteLater();
    return answer;
}

} // namespace

int runLoop(const QStringList &args)
{
    QTextStream out(stdout);
    QTextStream err(stderr);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Watches and steers the loop of a running LoopDeck backend.\n"
        "  status    usable examples, new annotations since the last training, state, next run, errors\n"
        "  train     start a training run now (queued when one is in progress)\n"
        "  activate  make --version N the active model\n"
        "  rollback  go back to the version before the active one\n"
        "  cancel    stop the training run in progress (the active version keeps serving)\n"
        "  settings  change the project's loop settings: --set KEY=VALUE (train_every, interval_minutes,\n"
        "            daily_at, on_start_training, cooldown_seconds, activation_margin, keep_versions,\n"
        "            refresh_predictions, uncertainty_sampling, min_examples, enabled)"));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("action"), QStringLiteral("status, train, activate, rollback, cancel or settings"));
    const QCommandLineOption backendOption(QStringLiteral("backend"),
                                           QStringLiteral("The backend's URL, e.g. http://127.0.0.1:9090."), QStringLiteral("URL"));
    const QCommandLineOption projectOption(QStringLiteral("project"), QStringLiteral("The Label Studio project id."),
                                           QStringLiteral("ID"));
    const QCommandLineOption versionOption(QStringLiteral("version"), QStringLiteral("For activate: the version number (or loopdeck-vN)."),
                                           QStringLiteral("N"));
    const QCommandLineOption userOption(QStringLiteral("basic-auth-user"), QStringLiteral("The backend's Basic auth user."),
                                        QStringLiteral("U"));
    const QCommandLineOption passwordEnvOption(QStringLiteral("basic-auth-password-env"),
                                               QStringLiteral("Environment variable with the Basic auth password."),
                                               QStringLiteral("VAR"));
    const QCommandLineOption timeoutOption(QStringLiteral("timeout"), QStringLiteral("Seconds to wait for the backend (default 15)."),
                                           QStringLiteral("S"), QStringLiteral("15"));
    const QCommandLineOption tokenFileOption(QStringLiteral("operator-token-file"),
                                             QStringLiteral("File with the backend's operator token (default: LOOPDECK_OPERATOR_TOKEN, "
                                                            "else operator-token in --data-dir)."),
                                             QStringLiteral("FILE"));
    const QCommandLineOption dataDirOption(QStringLiteral("data-dir"),
                                           QStringLiteral("The backend's data folder, for its operator token (default: LoopDeck's "
                                                          "data folder)."),
                                           QStringLiteral("DIR"));
    const QCommandLineOption setOption(QStringLiteral("set"), QStringLiteral("For settings: KEY=VALUE (repeatable)."),
                                       QStringLiteral("KEY=VALUE"));
    parser.addOptions({backendOption, projectOption, versionOption, userOption, passwordEnvOption, timeoutOption, setOption,
                       tokenFileOption, dataDirOption});
    if (!parser.parse(args)) {
        err << "loopdeck loop: " << parser.errorText() << '\n';
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        out << parser.helpText();
        return 0;
    }
    const QStringList positional = parser.positionalArguments();
    const QString action = positional.value(0);
    const QStringList actions = {QStringLiteral("status"), QStringLiteral("train"), QStringLiteral("activate"),
                                 QStringLiteral("rollback"), QStringLiteral("cancel"), QStringLiteral("settings")};
    if (positional.size() != 1 || !actions.contains(action)) {
        err << "loopdeck loop: say one action: status, train, activate, rollback, cancel or settings\n";
        return 2;
    }
    if (!parser.isSet(backendOption) || !parser.isSet(projectOption)) {
        err << "loopdeck loop: give --backend URL and --project ID\n";
        return 2;
    }
    if (action == u"activate" && !parser.isSet(versionOption)) {
        err << "loopdeck loop: activate needs --version N\n";
        return 2;
    }
    QJsonObject changes;
    if (action == u"settings") {
        if (!parser.isSet(setOption)) {
            err << "loopdeck loop: settings needs at least one --set KEY=VALUE\n";
            return 2;
        }
        for (const QString &assignment : parser.values(setOption)) {
            const qsizetype eq = assignment.indexOf(QLatin1Char('='));
            if (eq <= 0) {
                err << "loopdeck loop: --set wants KEY=VALUE, not '" << assignment << "'\n";
                return 2;
            }
            const QString key = assignment.left(eq);
            const QString value = assignment.mid(eq + 1);
            // true/false and numbers as JSON, anything else (e.g. a time) as a string.
            const QJsonDocument asJson = QJsonDocument::fromJson("[" + value.toUtf8() + "]");
            changes.insert(key, asJson.isArray() && asJson.array().size() == 1 ? asJson.array().first() : QJsonValue(value));
        }
    }
    const QUrl base = QUrl::fromUserInput(parser.value(backendOption));
    if (!base.isValid() || (base.scheme() != u"http" && base.scheme() != u"https")) {
        err << "loopdeck loop: --backend must be an http(s) URL, not '" << parser.value(backendOption) << "'\n";
        return 2;
    }
    bool ok = false;
    const int timeout = parser.value(timeoutOption).toInt(&ok);
    if (!ok || timeout <= 0) {
        err << "loopdeck loop: --timeout must be a positive number of seconds\n";
        return 2;
    }
    // The operator token admits /loop/* (and, with Basic auth set, stands in for it there).
    QString token = qEnvironmentVariable("LOOPDECK_OPERATOR_TOKEN").trimmed();
    QString tokenSource = QStringLiteral("LOOPDECK_OPERATOR_TOKEN");
    if (parser.isSet(tokenFileOption) || token.isEmpty()) {
        const QString file = parser.isSet(tokenFileOption)
            ? parser.value(tokenFileOption)
            : backend::operatortoken::pathIn(parser.isSet(dataDirOption) ? parser.value(dataDirOption) : defaultDataDir());
        const Result<QString> read = backend::operatortoken::readFile(file);
        if (!read) {
            err << "loopdeck loop: no operator token: " << read.error()
                << " Give --operator-token-file FILE or --data-dir DIR (the backend's data folder), or set "
                   "LOOPDECK_OPERATOR_TOKEN.\n";
            return 2;
        }
        token = read.value();
        tokenSource = file;
    }
    const QByteArray authorization = "Bearer " + token.toLatin1();
    const QHostAddress backendAddress(base.host());
    if (base.scheme() == u"http" && base.host().compare(QLatin1String("localhost"), Qt::CaseInsensitive) != 0
        && !(backendAddress.isNull() ? false : backendAddress.isLoopback()))
        err << "loopdeck loop: warning: the operator token goes to " << base.host()
            << " unencrypted (http); put the backend behind HTTPS (docs/deploy.md)\n";
    if (parser.isSet(userOption))
        err << "loopdeck loop: note: --basic-auth-user is not needed for /loop/* any more (the operator token admits it)\n";

    QUrl url = base;
    url.setPath(base.path().chopped(base.path().endsWith(QLatin1Char('/')) ? 1 : 0) + QStringLiteral("/loop/") + action);
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("project"), parser.value(projectOption));
    if (action == u"activate")
        query.addQueryItem(QStringLiteral("version"), parser.value(versionOption));
    url.setQuery(query);
    const HttpAnswer answer = call(action == u"status" ? "GET" : "POST", url, authorization, timeout * 1000,
                                   QJsonDocument(changes).toJson(QJsonDocument::Compact));
    if (answer.status == 0) {
        err << "loopdeck loop: the backend at " << base.toString() << " did not answer: " << answer.networkError << '\n';
        return 3;
    }
    if (answer.status >= 300 && answer.status < 400) {
        err << "loopdeck loop: the backend at " << base.toString() << " redirects (HTTP " << answer.status
            << "); give the address it redirects to (the token is not sent on)\n";
        return 5;
    }
    const QJsonDocument doc = QJsonDocument::fromJson(answer.body);
    if (answer.status != 200) {
        const QString message = doc.isObject() ? doc.object().value(QStringLiteral("error")).toString() : QString();
        err << "loopdeck loop: " << action << " failed (HTTP " << answer.status << "): "
            << (message.isEmpty() ? QString::fromUtf8(answer.body.left(300)) : message) << '\n';
        if (answer.status == 401)
            err << "loopdeck loop: the operator token came from " << tokenSource
                << "; is it this backend's? (`loopdeck operator-token --data-dir DIR` on its machine prints it)\n";
        return answer.status == 401 ? 4 : 5;
    }
    out << (doc.isNull() ? answer.body : doc.toJson(QJsonDocument::Indented));
    return 0;
}

int runOperatorToken(const QStringList &args)
{
    QTextStream out(stdout);
    QTextStream err(stderr);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Prints the operator token of a data folder (made when there is none yet): the credential for the\n"
        "backend's /loop/* routes and for a window that operates this loop from another machine.\n"
        "With --rotate a new token replaces it; restart `loopdeck serve` (or the window's backend) so it\n"
        "takes effect, and paste the new one into remote windows."));
    parser.addHelpOption();
    const QCommandLineOption dataDirOption(QStringLiteral("data-dir"), QStringLiteral("The data folder (default: LoopDeck's data folder)."),
                                           QStringLiteral("DIR"));
    const QCommandLineOption rotateOption(QStringLiteral("rotate"), QStringLiteral("Replace the token with a new one."));
    parser.addOptions({dataDirOption, rotateOption});
    if (!parser.parse(args)) {
        err << "loopdeck operator-token: " << parser.errorText() << '\n';
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        out << parser.helpText();
        return 0;
    }
    if (!parser.positionalArguments().isEmpty()) {
        err << "loopdeck operator-token: unexpected argument '" << parser.positionalArguments().first() << "'\n";
        return 2;
    }
    const QString dir = parser.isSet(dataDirOption) ? parser.value(dataDirOption) : defaultDataDir();
    const Result<QString> token = parser.isSet(rotateOption) ? backend::operatortoken::rotate(dir)
                                                             : backend::operatortoken::loadOrCreate(dir);
    if (!token) {
        err << "loopdeck operator-token: " << token.error() << '\n';
        return 1;
    }
    out << token.value() << '\n';
    err << "(" << backend::operatortoken::pathIn(dir) << (parser.isSet(rotateOption) ? ", new: restart the backend" : "") << ")\n";
    return 0;
}

} // namespace loopdeck::cli
