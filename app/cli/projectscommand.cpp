// `loopdeck projects`: the dashboard's project list for scripts and headless machines.
#include "cli/commands.h"

#include "labelstudio/labelstudioclient.h"
#include "labelstudio/syncwait.h"
#include "settings/connectionprofile.h"
#include "settings/tokenstore.h"

#include <QCommandLineParser>
#include <QTextStream>

#include <nlohmann/json.hpp>

namespace loopdeck::cli {
namespace {

using namespace labelstudio;

nlohmann::json countsJson(const ProjectCounts &c)
{
    return {{"task_number", c.taskNumber},
            {"num_tasks_with_annotations", c.tasksWithAnnotations},
            {"total_annotations_number", c.totalAnnotations},
            {"skipped_annotations_number", c.skippedAnnotations},
            {"total_predictions_number", c.totalPredictions},
            {"finished_task_number", c.finishedTasks},
            {"useful_annotation_number", c.usefulAnnotations},
            {"ground_truth_number", c.groundTruth}};
}

void printTable(QTextStream &out, const QList<Project> &projects)
{
    const QStringList headers = {QStringLiteral("ID"), QStringLiteral("TITLE"), QStringLiteral("TASKS"),
                                 QStringLiteral("ANNOTATED"), QStringLiteral("DONE"), QStringLiteral("ANNOTATIONS"),
                                 QStringLiteral("SKIPPED"), QStringLiteral("PREDICTIONS")};
    QList<QStringList> rows;
    for (const Project &p : projects) {
        const ProjectCounts &c = p.counts;
        rows.append({QString::number(p.id), p.title, QString::number(c.taskNumber),
                     QString::number(c.tasksWithAnnotations),
                     QString::number(c.doneFraction() * 100.0, 'f', 1) + u'%', QString::number(c.totalAnnotations),
                     QString::number(c.skippedAnnotations), QString::number(c.totalPredictions)});
    }
    QList<qsizetype> widths;
    for (const QString &h : headers)
        widths.append(h.size());
    for (const QStringList &r : rows)
        for (int i = 0; i < r.size(); ++i)
            widths[i] = std::max(widths[i], std::min<qsizetype>(r[i].size(), 40));
    auto line = [&](const QStringList &cells) {
        QStringList padded;
        for (int i = 0; i < cells.size(); ++i) {
            const QString cell = cells[i].size() > 40 ? cells[i].left(39) + QChar(0x2026) : cells[i];
            padded.append(i == 1 ? cell.leftJustified(widths[i]) : cell.rightJustified(widths[i]));
        }
        out << padded.join(QStringLiteral("  ")) << '\n';
    };
    line(headers);
    for (const QStringList &r : rows)
        line(r);
}

} // namespace

int runProjects(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Lists every project of a Label Studio server with its annotation counts.\n"
        "The token comes from LOOPDECK_TOKEN together with --url (or LOOPDECK_URL naming the same server),\n"
        "or from the keychain entry of a saved connection (--profile)."));
    parser.addHelpOption();
    const QCommandLineOption urlOption(QStringLiteral("url"), QStringLiteral("Label Studio address, e.g. http://localhost:8080."),
                                       QStringLiteral("URL"));
    const QCommandLineOption profileOption(QStringLiteral("profile"), QStringLiteral("Use a connection saved in the app."),
                                           QStringLiteral("NAME"));
    const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("Print JSON instead of a table."));
    const QCommandLineOption timeoutOption(QStringLiteral("timeout"), QStringLiteral("Seconds to wait per request (default 15)."),
                                           QStringLiteral("SECONDS"), QStringLiteral("15"));
    parser.addOptions({urlOption, profileOption, jsonOption, timeoutOption});
    parser.process(args);

    QTextStream out(stdout);
    QTextStream err(stderr);
    const auto fail = [&](const QString &message, int status) {
        err << "loopdeck: " << message << '\n';
        return status;
    };

    if (!parser.isSet(urlOption) && !parser.isSet(profileOption))
        return fail(QStringLiteral("give the server with --url URL or --profile NAME."), 2);
    QUrl url = QUrl::fromUserInput(parser.value(urlOption));
    QString token;
    // LOOPDECK_TOKEN goes only to the server it was given for: the --url of this command, or
    // LOOPDECK_URL. It never replaces a saved connection's stored token.
    const QString envToken = qEnvironmentVariable("LOOPDECK_TOKEN");
    const QString envScope = qEnvironmentVariable("LOOPDECK_URL");
    if (parser.isSet(profileOption)) {
        settings::ConnectionProfiles profiles;
        const auto profile = profiles.find(parser.value(profileOption));
        if (!profile)
            return fail(QStringLiteral("no saved connection named '%1'.").arg(parser.value(profileOption)), 2);
        if (parser.isSet(urlOption) && !settings::TokenStore::sameServer(url, profile->url))
            return fail(QStringLiteral("--url %1 is not the server of the saved connection '%2' (%3); its token is only sent there.")
                            .arg(url.toString(QUrl::RemoveUserInfo), profile->name, profile->url.toString(QUrl::RemoveUserInfo)),
                        2);
        url = profile->url;
        settings::TokenStore store;
        QString warning;
        settings::TokenStore::Source source = settings::TokenStore::Source::None;
        QEventLoop loop;
        bool done = false;
        store.read(profile->name, profile->url, [&](const QString &tok, settings::TokenStore::Source src, const QString &warn) {
            token = tok;
            source = src;
            warning = warn;
            done = true;
            loop.quit();
        });
        if (!done)
            loop.exec();
        if (!warning.isEmpty())
            err << "loopdeck: " << warning << '\n';
        if (!envToken.isEmpty() && source != settings::TokenStore::Source::Environment) {
            QString why;
            settings::TokenStore::environmentTokenFor(profile->url, &why);
            if (!token.isEmpty())
                err << "loopdeck: LOOPDECK_TOKEN is ignored: the saved connection '" << profile->name
                    << "' has its own token.\n";
            else if (!why.isEmpty())
                err << "loopdeck: " << why << '\n';
        }
    } else {
        if (!envScope.isEmpty() && !envToken.isEmpty()
            && !settings::TokenStore::sameServer(QUrl::fromUserInput(envScope), url))
            return fail(QStringLiteral("LOOPDECK_TOKEN was given for %1 (LOOPDECK_URL), not for %2; it is not sent there.")
                            .arg(envScope, url.toString(QUrl::RemoveUserInfo)),
                        2);
        token = envToken; // paired with this command's --url
    }
    if (const QString problem = settings::ConnectionProfiles::validateUrl(url); !problem.isEmpty())
        return fail(problem, 2);
    if (token.isEmpty())
        return fail(QStringLiteral("no token: set LOOPDECK_TOKEN with --url, or save the connection in the app."), 2);
    bool timeoutOk = false;
    const int timeoutSeconds = parser.value(timeoutOption).toInt(&timeoutOk);
    if (!timeoutOk || timeoutSeconds <= 0)
        return fail(QStringLiteral("--timeout takes a positive number of seconds."), 2);

    LabelStudioClient client;
    client.setServer(url, token);
    client.setTimeout(std::chrono::seconds(timeoutSeconds));
    if (client.tokenKind() == TokenKind::AccessToken)
        err << "loopdeck: this is a short-lived access token; use a Personal Access Token for anything that runs long.\n";
    auto [projects, error] = syncWait<QList<Project>>([&](auto cb) { client.fetchProjects(cb); });
    if (error.isError()) {
        if (parser.isSet(jsonOption))
            out << QString::fromStdString(nlohmann::json({{"error", {{"kind", error.kindName().toStdString()},
                                                                     {"status", error.httpStatus},
                                                                     {"message", error.message().toStdString()}}}})
                                              .dump(2))
                << '\n';
        return fail(error.message(), error.isConnectivity() ? 3 : error.isAuth() ? 4 : 5);
    }
    if (parser.isSet(jsonOption)) {
        auto list = nlohmann::json::array();
        for (const Project &p : projects) {
            nlohmann::json item = {{"id", p.id}, {"title", p.title.toStdString()},
                                   {"done_fraction", p.counts.doneFraction()}};
            item.update(countsJson(p.counts));
            list.push_back(std::move(item));
        }
        out << QString::fromStdString(nlohmann::json({{"server", url.toString().toStdString()},
                                                      {"token_kind", tokenKindName(client.tokenKind()).toStdString()},
                                                      {"projects", list}})
                                          .dump(2))
            << '\n';
    } else {
        printTable(out, projects);
    }
    return 0;
}

} // namespace loopdeck::cli
