// `loopdeck model train|predict`: trains the built-in text classifier from JSON lines and
// predicts with a saved model, one JSON line out per JSON line in.
#include "cli/commands.h"

#include "core/model/metrics.h"
#include "core/model/textclassifier.h"

#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

namespace loopdeck::cli {
namespace {

using nlohmann::json;
using loopdeck::model::Example;
using loopdeck::model::Metrics;
using loopdeck::model::TextClassifier;
using loopdeck::model::TrainOptions;

constexpr int kExitData = 1;  // bad input data, model or I/O
constexpr int kExitUsage = 2; // bad command line

int fail(int status, const QString &message)
{
    std::cerr << "loopdeck: " << message.toStdString() << std::endl;
    return status;
}

const char *kUsage =
    "Usage:\n"
    "  loopdeck model train --input FILE.jsonl --out MODEL [--text-field text] [--label-field label]\n"
    "                       [--eval holdout|kfold|none] [--multi-label] [--c auto] [--hash-bits 20]\n"
    "                       [--weighting auto|plain|nb|mixed] [--no-char-grams] [--cv-folds 3]\n"
    "                       [--unlabeled FILE.jsonl [--no-self-training] [--no-pool-representation]]\n"
    "                       [--threshold 0.5]\n"
    "                       [--folds 5] [--seed 42]\n"
    "  loopdeck model predict --model MODEL [--text-field text] [--input FILE.jsonl] [--stats]\n"
    "                         [--all-scores]\n"
    "\n"
    "train reads one JSON object per line with a text field and a label field (a string, or an\n"
    "array of strings for --multi-label), prints evaluation metrics as JSON and writes MODEL.\n"
    "C and the feature weighting are chosen by internal cross-validation unless given; the texts\n"
    "of --unlabeled (its text field; labels are ignored) count for the document frequencies and,\n"
    "with fewer than 1000 single-label examples, for self-training and an LSA representation of\n"
    "all the texts (50 extra features).\n"
    "predict reads JSON lines (stdin unless --input) and writes one {\"label\", \"score\"} line per\n"
    "input line, in order (--all-scores adds every class's probability); a bad line gets an\n"
    "{\"error\"} line and the exit status is 1.\n"
    "\n"
    "Options of train:\n"
    "  --input FILE        JSON lines to train on (required)\n"
    "  --out MODEL         where to write the model (required)\n"
    "  --text-field NAME   field holding the text (default text)\n"
    "  --label-field NAME  field holding the label or labels (default label)\n"
    "  --eval MODE         holdout (default), kfold or none\n"
    "  --multi-label       train one-vs-rest on label sets\n"
    "  --c VALUE           inverse regularisation strength, or auto (default: chosen by cross-validation)\n"
    "  --weighting MODE    auto (default), plain or nb (NB-weighted features)\n"
    "  --no-char-grams     word n-grams only\n"
    "  --cv-folds K        internal cross-validation folds (default 3)\n"
    "  --unlabeled FILE    JSON lines of unlabelled texts (document frequencies, self-training)\n"
    "  --no-self-training  no self-training on the --unlabeled texts\n"
    "  --no-pool-representation  no LSA representation learned from the --unlabeled texts\n"
    "  --hash-bits BITS    each feature block is 2^BITS buckets (default 20)\n"
    "  --threshold P       multi-label decision threshold (default 0.5)\n"
    "  --folds K           folds for --eval kfold (default 5)\n"
    "  --seed N            seed of the evaluation split (default 42)\n"
    "Options of predict:\n"
    "  --model MODEL       model file written by train (required)\n"
    "  --text-field NAME   field holding the text (default text)\n"
    "  --input FILE        read JSON lines from FILE instead of stdin\n"
    "  --stats             at the end, print predict() timing as JSON on stderr\n"
    "  --all-scores        add every class's probability\n"
    "Both:\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit status: 0 success, 1 bad data, model or I/O, 2 bad command line.\n";

// Parses one input line into an example; returns an error sentence (without the line number)
// or std::nullopt on success.
std::optional<QString> readObject(const std::string &line, json *out)
{
    try {
        *out = json::parse(line);
    } catch (const json::parse_error &e) {
        // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 5: ..."
        std::string what = e.what();
        const auto pos = what.find("] ");
        return QStringLiteral("not valid JSON (%1)")
            .arg(QString::fromStdString(pos == std::string::npos ? what : what.substr(pos + 2)));
    }
    if (!out->is_object())
        return QStringLiteral("expected a JSON object, got %1").arg(QString::fromLatin1(out->type_name()));
    return std::nullopt;
}

std::optional<QString> textOf(const json &object, const std::string &field, QString *text)
{
    const auto it = object.find(field);
    if (it == object.end())
        return QStringLiteral("the text field \"%1\" is missing").arg(QString::fromStdString(field));
    if (!it->is_string())
        return QStringLiteral("the text field \"%1\" is %2, not a string")
            .arg(QString::fromStdString(field), QString::fromLatin1(it->type_name()));
    *text = QString::fromStdString(it->get<std::string>());
    return std::nullopt;
}

std::optional<QString> labelsOf(const json &object, const std::string &field, bool multiLabel,
                                QStringList *labels)
{
    const QString name = QString::fromStdString(field);
    const auto it = object.find(field);
    if (it == object.end())
        return QStringLiteral("the label field \"%1\" is missing").arg(name);
    if (it->is_string()) {
        labels->append(QString::fromStdString(it->get<std::string>()));
    } else if (it->is_array()) {
        for (const json &l : *it) {
            if (!l.is_string())
                return QStringLiteral("the label field \"%1\" holds %2; labels must be strings")
                    .arg(name, QString::fromLatin1(l.type_name()));
            labels->append(QString::fromStdString(l.get<std::string>()));
        }
    } else {
        return QStringLiteral("the label field \"%1\" is %2, not a string or an array of strings")
            .arg(name, QString::fromLatin1(it->type_name()));
    }
    for (const QString &l : *labels)
        if (l.isEmpty())
            return QStringLiteral("the label field \"%1\" contains an empty label").arg(name);
    if (!multiLabel && labels->size() != 1)
        return QStringLiteral("the label field \"%1\" has %2 labels; pass --multi-label to train on label sets")
            .arg(name)
            .arg(labels->size());
    labels->removeDuplicates();
    return std::nullopt;
}

json metricsJson(const Metrics &m)
{
    json perClass = json::object();
    for (const auto &c : m.perClass)
        perClass[c.label.toStdString()] = {
            {"precision", c.precision}, {"recall", c.recall}, {"f1", c.f1}, {"support", c.support}};
    json confusion = json::array();
    for (const auto &row : m.confusion)
        confusion.push_back(row);
    return {{"accuracy", m.accuracy},
            {"macro_f1", m.macroF1},
            {"evaluated_examples", m.examples},
            {"per_class", perClass},
            {"confusion", confusion},
            {"ece", m.ece >= 0 ? json(m.ece) : json(nullptr)},
            {"brier", m.brier >= 0 ? json(m.brier) : json(nullptr)}};
}

bool parseArgs(QCommandLineParser &parser, const QStringList &args, QString *error)
{
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption help({u"h"_qs, u"help"_qs}, u"Show this help."_qs);
    parser.addOption(help);
    if (!parser.parse(args)) {
        *error = parser.errorText();
        return false;
    }
    if (!parser.positionalArguments().isEmpty()) {
        *error = QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().first());
        return false;
    }
    return true;
}

int runTrain(const QStringList &args)
{
    QCommandLineParser parser;
    const QCommandLineOption input(u"input"_qs, u"JSON lines to train on."_qs, u"file"_qs);
    const QCommandLineOption out(u"out"_qs, u"Where to write the model."_qs, u"model"_qs);
    const QCommandLineOption textField(u"text-field"_qs, u"Field holding the text."_qs, u"name"_qs, u"text"_qs);
    const QCommandLineOption labelField(u"label-field"_qs, u"Field holding the label(s)."_qs, u"name"_qs, u"label"_qs);
    const QCommandLineOption evalMode(u"eval"_qs, u"holdout, kfold or none."_qs, u"mode"_qs, u"holdout"_qs);
    const QCommandLineOption multi(u"multi-label"_qs, u"Train one-vs-rest on label sets."_qs);
    const QCommandLineOption cOpt(u"c"_qs, u"Inverse regularisation strength, or auto."_qs, u"value"_qs, u"auto"_qs);
    const QCommandLineOption weighting(u"weighting"_qs, u"auto, plain or nb."_qs, u"mode"_qs, u"auto"_qs);
    const QCommandLineOption noChars(u"no-char-grams"_qs, u"Word n-grams only."_qs);
    const QCommandLineOption cvFolds(u"cv-folds"_qs, u"Internal cross-validation folds."_qs, u"k"_qs, u"3"_qs);
    const QCommandLineOption unlabeledOpt(u"unlabeled"_qs, u"JSON lines of unlabelled texts."_qs, u"file"_qs);
    const QCommandLineOption noSelfTraining(u"no-self-training"_qs, u"No self-training on --unlabeled."_qs);
    const QCommandLineOption noPool(u"no-pool-representation"_qs, u"No LSA representation from --unlabeled."_qs);
    const QCommandLineOption bits(u"hash-bits"_qs, u"Feature space is 2^bits buckets."_qs, u"bits"_qs, u"20"_qs);
    const QCommandLineOption threshold(u"threshold"_qs, u"Multi-label decision threshold."_qs, u"p"_qs, u"0.5"_qs);
    const QCommandLineOption folds(u"folds"_qs, u"Folds for --eval kfold."_qs, u"k"_qs, u"5"_qs);
    const QCommandLineOption seed(u"seed"_qs, u"Seed of the evaluation split."_qs, u"n"_qs, u"42"_qs);
    parser.addOptions({input, out, textField, labelField, evalMode, multi, cOpt, bits, threshold, folds, seed,
                       weighting, noChars, cvFolds, unlabeledOpt, noSelfTraining, noPool});
    QString error;
    if (!parseArgs(parser, args, &error))
        return fail(kExitUsage, error);
    if (parser.isSet(u"help"_qs)) {
        std::cout << kUsage;
        return 0;
    }
    if (!parser.isSet(input) || !parser.isSet(out))
        return fail(kExitUsage, u"model train needs --input FILE and --out MODEL"_qs);

    TrainOptions options;
    options.multiLabel = parser.isSet(multi);
    bool okC = true, okBits = false, okT = false, okFolds = false, okSeed = false, okCv = false;
    options.c = parser.value(cOpt) == u"auto" ? 0.0 : parser.value(cOpt).toDouble(&okC);
    options.folds = parser.value(cvFolds).toInt(&okCv);
    options.charGrams = !parser.isSet(noChars);
    options.selfTraining = !parser.isSet(noSelfTraining);
    options.poolRepresentation = !parser.isSet(noPool);
    const QString w = parser.value(weighting);
    if (w == u"plain")
        options.weighting = loopdeck::model::FeatureWeighting::Plain;
    else if (w == u"nb")
        options.weighting = loopdeck::model::FeatureWeighting::NaiveBayes;
    else if (w == u"mixed")
        options.weighting = loopdeck::model::FeatureWeighting::Mixed;
    else if (w != u"auto")
        return fail(kExitUsage, QStringLiteral("--weighting must be auto, plain, nb or mixed, not '%1'").arg(w));
    if (!okC || !(options.c > 0.0 || parser.value(cOpt) == u"auto"))
        return fail(kExitUsage, u"--c takes a positive number or auto"_qs);
    options.hashBits = parser.value(bits).toInt(&okBits);
    options.threshold = parser.value(threshold).toDouble(&okT);
    const int k = parser.value(folds).toInt(&okFolds);
    const quint32 splitSeed = parser.value(seed).toUInt(&okSeed);
    if (!okBits || !okT || !okFolds || !okSeed || !okCv)
        return fail(kExitUsage, u"--hash-bits, --threshold, --folds, --cv-folds and --seed take numbers"_qs);
    const QString mode = parser.value(evalMode);
    if (mode != u"holdout" && mode != u"kfold" && mode != u"none")
        return fail(kExitUsage, QStringLiteral("--eval must be holdout, kfold or none, not '%1'").arg(mode));

    const QString path = parser.value(input);
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(kExitData, QStringLiteral("cannot open %1: %2").arg(path, file.errorString()));
    const std::string textKey = parser.value(textField).toStdString();
    const std::string labelKey = parser.value(labelField).toStdString();
    QList<Example> examples;
    qint64 lineNo = 0;
    while (!file.atEnd()) {
        QByteArray raw = file.readLine();
        ++lineNo;
        if (raw.trimmed().isEmpty())
            continue; // blank lines (e.g. a trailing newline) carry no example
        json object;
        Example e;
        std::optional<QString> why = readObject(raw.toStdString(), &object);
        if (!why)
            why = textOf(object, textKey, &e.text);
        if (!why)
            why = labelsOf(object, labelKey, options.multiLabel, &e.labels);
        if (why)
            return fail(kExitData, QStringLiteral("%1:%2: %3").arg(path).arg(lineNo).arg(*why));
        examples.append(std::move(e));
    }
    if (file.error() != QFileDevice::NoError)
        return fail(kExitData, QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
    QStringList unlabeled;
    if (parser.isSet(unlabeledOpt)) {
        const QString upath = parser.value(unlabeledOpt);
        QFile ufile(upath);
        if (!ufile.open(QIODevice::ReadOnly))
            return fail(kExitData, QStringLiteral("cannot open %1: %2").arg(upath, ufile.errorString()));
        qint64 uline = 0;
        while (!ufile.atEnd()) {
            const QByteArray raw = ufile.readLine();
            ++uline;
            if (raw.trimmed().isEmpty())
                continue;
            json object;
            QString text;
            std::optional<QString> why = readObject(raw.toStdString(), &object);
            if (!why)
                why = textOf(object, textKey, &text);
            if (why)
                return fail(kExitData, QStringLiteral("%1:%2: %3").arg(upath).arg(uline).arg(*why));
            unlabeled.append(text);
        }
    }

    json result;
    result["examples"] = examples.size();
    result["eval"] = mode.toStdString();
    std::optional<Metrics> metrics;
    if (mode == u"holdout")
        metrics = loopdeck::model::evaluateHoldout(examples, options, 0.2, splitSeed, &error);
    else if (mode == u"kfold")
        metrics = loopdeck::model::evaluateKFold(examples, options, k, splitSeed, &error);
    if (mode != u"none" && !metrics)
        return fail(kExitData, QStringLiteral("cannot evaluate: %1").arg(error));

    QElapsedTimer timer;
    timer.start();
    loopdeck::model::TrainReport report;
    const auto model = TextClassifier::train(examples, options, &error, unlabeled, {}, &report);
    const double seconds = timer.nsecsElapsed() / 1e9;
    if (!model)
        return fail(kExitData, QStringLiteral("cannot train: %1").arg(error));
    const QString outPath = parser.value(out);
    if (!model->save(outPath, &error))
        return fail(kExitData, error);

    json classes = json::array();
    for (const QString &c : model->classes())
        classes.push_back(c.toStdString());
    result["classes"] = classes;
    result["multi_label"] = options.multiLabel;
    if (metrics) {
        result.update(metricsJson(*metrics));
    } else {
        result["accuracy"] = nullptr;
        result["macro_f1"] = nullptr;
        result["per_class"] = nullptr;
    }
    result["train_seconds"] = seconds;
    result["train_stages_ms"] = {{"features", report.featuresMs},
                                 {"selection", report.selectionMs},
                                 {"final", report.finalMs}};
    result["unlabeled"] = unlabeled.size();
    const loopdeck::model::ModelSelection sel = model->selection();
    result["selection"] = {
        {"c", sel.c},
        {"weighting", sel.weighting == loopdeck::model::FeatureWeighting::NaiveBayes ? "nb"
                      : sel.weighting == loopdeck::model::FeatureWeighting::Mixed    ? "mixed"
                                                                                     : "plain"},
        {"char_grams", options.charGrams},
        {"cv_folds", sel.folds},
        {"cv_accuracy", sel.cvAccuracy >= 0 ? json(sel.cvAccuracy) : json(nullptr)},
        {"calibration", sel.calibration.toStdString()},
        {"calibration_parameters", sel.calibrationParameters},
        {"format_version", sel.formatVersion}};
    result["features"] = model->featureCount();
    result["pool_dimensions"] = model->poolDimensions();
    result["model_bytes"] = QFileInfo(outPath).size();
    result["model"] = outPath.toStdString();
    std::cout << result.dump() << std::endl;
    return 0;
}

int runPredict(const QStringList &args)
{
    QCommandLineParser parser;
    const QCommandLineOption modelOpt(u"model"_qs, u"Model file written by train."_qs, u"model"_qs);
    const QCommandLineOption textField(u"text-field"_qs, u"Field holding the text."_qs, u"name"_qs, u"text"_qs);
    const QCommandLineOption input(u"input"_qs, u"Read JSON lines from this file instead of stdin."_qs, u"file"_qs);
    const QCommandLineOption stats(u"stats"_qs, u"At the end, print predict() timing as JSON on stderr."_qs);
    const QCommandLineOption allScores(u"all-scores"_qs, u"Add every class's probability."_qs);
    parser.addOptions({modelOpt, textField, input, stats, allScores});
    QString error;
    if (!parseArgs(parser, args, &error))
        return fail(kExitUsage, error);
    if (parser.isSet(u"help"_qs)) {
        std::cout << kUsage;
        return 0;
    }
    if (!parser.isSet(modelOpt))
        return fail(kExitUsage, u"model predict needs --model MODEL"_qs);
    const auto model = TextClassifier::load(parser.value(modelOpt), &error);
    if (!model)
        return fail(kExitData, error);

    std::ifstream fileStream;
    std::istream *in = &std::cin;
    if (parser.isSet(input)) {
        fileStream.open(QFile::encodeName(parser.value(input)).toStdString(), std::ios::binary);
        if (!fileStream)
            return fail(kExitData, QStringLiteral("cannot open %1").arg(parser.value(input)));
        in = &fileStream;
    }
    const std::string textKey = parser.value(textField).toStdString();
    std::string line;
    qint64 lineNo = 0;
    qint64 bad = 0;
    std::vector<double> micros; // time spent in predict() per good line
    QElapsedTimer timer;
    while (std::getline(*in, line)) {
        ++lineNo;
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        json object;
        QString text;
        std::optional<QString> why = readObject(line, &object);
        if (!why)
            why = textOf(object, textKey, &text);
        json answer;
        if (why) {
            ++bad;
            answer["error"] = QStringLiteral("line %1: %2").arg(lineNo).arg(*why).toStdString();
        } else {
            timer.start();
            const auto p = model->predict(text);
            micros.push_back(timer.nsecsElapsed() / 1000.0);
            answer["label"] = p.labels.isEmpty() ? json(nullptr) : json(p.labels.first().toStdString());
            answer["score"] = p.score;
            if (parser.isSet(allScores)) {
                json scores = json::object();
                for (const auto &cs : p.scores)
                    scores[cs.label.toStdString()] = cs.probability;
                answer["scores"] = scores;
            }
            if (model->isMultiLabel()) {
                json labels = json::array();
                for (const QString &l : p.labels)
                    labels.push_back(l.toStdString());
                answer["labels"] = labels;
            }
        }
        std::cout << answer.dump() << '\n' << std::flush;
    }
    if (parser.isSet(stats)) {
        json s = {{"lines", lineNo}, {"errors", bad}, {"predicted", micros.size()}};
        if (!micros.empty()) {
            double sum = 0;
            for (double m : micros)
                sum += m;
            std::sort(micros.begin(), micros.end());
            s["predict_us_mean"] = sum / static_cast<double>(micros.size());
            s["predict_us_p50"] = micros[micros.size() / 2];
            s["predict_us_p99"] = micros[std::min(micros.size() - 1, micros.size() * 99 / 100)];
        }
        std::cerr << s.dump() << std::endl;
    }
    if (bad > 0)
        return fail(kExitData, QStringLiteral("%1 of %2 input lines could not be read").arg(bad).arg(lineNo));
    return 0;
}

} // namespace

int runModel(const QStringList &args)
{
    const QString sub = args.value(1);
    // QCommandLineParser wants a program name first; "model train" reads well in its messages.
    QStringList rest = args.mid(2);
    rest.prepend(u"loopdeck model "_qs + sub);
    if (sub == u"train")
        return runTrain(rest);
    if (sub == u"predict")
        return runPredict(rest);
    if (sub == u"--help" || sub == u"-h" || sub == u"help") {
        std::cout << kUsage;
        return 0;
    }
    std::cerr << "loopdeck: "
              << (sub.isEmpty() ? std::string("model needs a subcommand: train or predict")
                                : "unknown model subcommand '" + sub.toStdString() + "'")
              << "\n\n"
              << kUsage;
    return kExitUsage;
}

} // namespace loopdeck::cli
