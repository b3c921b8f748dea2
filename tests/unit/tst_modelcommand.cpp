// Unit tests for `loopdeck model train|predict` (app/cli/modelcommand.cpp): runs the command
// function in-process with stdout/stderr captured, and the real binary for stdin input.
#include "cli/commands.h"
#include "syntheticdata.h"

#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <unistd.h>

using nlohmann::json;

namespace {

struct Run {
    int status = -1;
    QByteArray out;
    QByteArray err;
};

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Runs loopdeck::cli::runModel with fd 1 and 2 redirected into files.
Run runModel(const QStringList &args, const QTemporaryDir &dir)
{
    const QString outPath = dir.filePath(u"stdout.txt"_qs);
    const QString errPath = dir.filePath(u"stderr.txt"_qs);
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    const int savedOut = ::dup(1);
    const int savedErr = ::dup(2);
    FILE *o = std::fopen(QFile::encodeName(outPath).constData(), "w");
    FILE *e = std::fopen(QFile::encodeName(errPath).constData(), "w");
    ::dup2(::fileno(o), 1);
    ::dup2(::fileno(e), 2);
    Run r;
    r.status = loopdeck::cli::runModel(args);
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    ::dup2(savedOut, 1);
    ::dup2(savedErr, 2);
    ::close(savedOut);
    ::close(savedErr);
    std::fclose(o);
    std::fclose(e);
    r.out = readAll(outPath);
    r.err = readAll(errPath);
    return r;
}

void writeLines(const QString &path, const QList<QByteArray> &lines)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        qFatal("cannot write %s", qPrintable(path));
    for (const QByteArray &l : lines)
        f.write(l + '\n');
}

QList<QByteArray> topicJsonl(bool multi)
{
    QList<QByteArray> lines;
    for (const auto &e : testdata::topicSentences(40, 31, multi)) {
        json j;
        j["body"] = e.text.toStdString();
        if (multi) {
            json labels = json::array();
            for (const QString &l : e.labels)
                labels.push_back(l.toStdString());
            j["tags"] = labels;
        } else {
            j["tags"] = e.labels.first().toStdString();
        }
        lines.append(QByteArray::fromStdString(j.dump()));
    }
    return lines;
}

QList<json> jsonLines(const QByteArray &out)
{
    QList<json> result;
    for (const QByteArray &l : out.split('\n'))
        if (!l.isEmpty())
            result.append(json::parse(l.toStdString()));
    return result;
}

} // namespace

class TestModelCommand : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }
    void trainPrintsMetrics();
    void trainKFoldMultiLabel();
    void trainBadLines_data();
    void trainBadLines();
    void predictFromFileKeepsOrder();
    void predictFromStdinWithBinary();
    void predictRefusesCorruptModel();
    void usageErrors();
    void selectionCalibrationAndUnlabeled();

private:
    QString trainModel();
    QTemporaryDir m_dir;
};

QString TestModelCommand::trainModel()
{
    const QString input = m_dir.filePath(u"train.jsonl"_qs);
    writeLines(input, topicJsonl(false));
    const QString model = m_dir.filePath(u"topics.ldm"_qs);
    const Run r = runModel({u"model"_qs, u"train"_qs, u"--input"_qs, input, u"--text-field"_qs, u"body"_qs,
                            u"--label-field"_qs, u"tags"_qs, u"--out"_qs, model},
                           m_dir);
    if (r.status != 0)
        qWarning("train failed: %s", r.err.constData());
    return r.status == 0 ? model : QString();
}

void TestModelCommand::trainPrintsMetrics()
{
    const QString input = m_dir.filePath(u"train.jsonl"_qs);
    QList<QByteArray> lines = topicJsonl(false);
    lines.insert(5, QByteArray()); // a blank line is not an example
    writeLines(input, lines);
    const QString model = m_dir.filePath(u"m1.ldm"_qs);
    const Run r = runModel({u"model"_qs, u"train"_qs, u"--input"_qs, input, u"--text-field"_qs, u"body"_qs,
                            u"--label-field"_qs, u"tags"_qs, u"--out"_qs, model},
                           m_dir);
    QVERIFY2(r.status == 0, r.err.constData());
    const json j = json::parse(r.out.toStdString());
    QCOMPARE(j["examples"].get<int>(), 120);
    QVERIFY(j["classes"] == json({"food", "sport", "tech"}));
    QVERIFY(j["accuracy"].get<double>() > 0.8 && j["accuracy"].get<double>() <= 1.0);
    QVERIFY(j["macro_f1"].get<double>() > 0.8);
    QCOMPARE(j["evaluated_examples"].get<int>(), 24); // holdout: 20 %
    int support = 0;
    for (const char *cls : {"food", "sport", "tech"}) {
        const json &c = j["per_class"][cls];
        for (const char *k : {"precision", "recall", "f1"})
            QVERIFY(c[k].get<double>() >= 0.0 && c[k].get<double>() <= 1.0);
        support += c["support"].get<int>();
    }
    QCOMPARE(support, 24);
    QVERIFY(j["train_seconds"].get<double>() >= 0.0);
    QCOMPARE(j["model_bytes"].get<qint64>(), QFileInfo(model).size());
    QVERIFY(QFileInfo(model).size() > 0);
    // Calibration of the holdout scores and what cross-validation chose.
    QVERIFY(j["ece"].get<double>() >= 0.0 && j["ece"].get<double>() <= 1.0);
    QVERIFY(j["brier"].get<double>() >= 0.0 && j["brier"].get<double>() <= 2.0);
    const json &sel = j["selection"];
    QVERIFY(sel["c"].get<double>() > 0.0);
    QCOMPARE(sel["cv_folds"].get<int>(), 3);
    QVERIFY(sel["calibration"] == "temperature");
    QCOMPARE(sel["format_version"].get<int>(), 2); // no pool representation: format 2
    QCOMPARE(j["pool_dimensions"].get<int>(), 0); // no --unlabeled
    QVERIFY(sel["weighting"] == "plain" || sel["weighting"] == "nb" || sel["weighting"] == "mixed");
}

void TestModelCommand::trainKFoldMultiLabel()
{
    const QString input = m_dir.filePath(u"multi.jsonl"_qs);
    writeLines(input, topicJsonl(true));
    const QString model = m_dir.filePath(u"multi.ldm"_qs);
    const Run r = runModel({u"model"_qs, u"train"_qs, u"--input"_qs, input, u"--text-field"_qs, u"body"_qs,
                            u"--label-field"_qs, u"tags"_qs, u"--multi-label"_qs, u"--eval"_qs, u"kfold"_qs,
                            u"--c"_qs, u"5"_qs, u"--out"_qs, model},
                           m_dir);
    QVERIFY2(r.status == 0, r.err.constData());
    const json j = json::parse(r.out.toStdString());
    QVERIFY(j["multi_label"].get<bool>());
    QCOMPARE(j["evaluated_examples"].get<int>(), 120); // every example predicted once
    QVERIFY(j["eval"] == "kfold");

    // The multi-label model answers with a labels array.
    const QString in = m_dir.filePath(u"ask.jsonl"_qs);
    writeLines(in, {R"({"text": "pasta garlic recipe with the kernel compiler server"})"});
    const Run p = runModel({u"model"_qs, u"predict"_qs, u"--model"_qs, model, u"--input"_qs, in}, m_dir);
    QVERIFY2(p.status == 0, p.err.constData());
    const json a = json::parse(p.out.toStdString());
    QVERIFY(a["labels"].is_array());
    QVERIFY(a.contains("score"));
}

void TestModelCommand::trainBadLines_data()
{
    QTest::addColumn<QByteArray>("badLine");
    QTest::addColumn<QString>("expected");
    QTest::newRow("malformed") << QByteArray(R"({"body": "x", "tags": )") << u"not valid JSON"_qs;
    QTest::newRow("not object") << QByteArray(R"(["x"])") << u"expected a JSON object"_qs;
    QTest::newRow("missing text") << QByteArray(R"({"tags": "food"})") << u"text field \"body\" is missing"_qs;
    QTest::newRow("text not string") << QByteArray(R"({"body": 7, "tags": "food"})") << u"is number, not a string"_qs;
    QTest::newRow("missing label") << QByteArray(R"({"body": "x"})") << u"label field \"tags\" is missing"_qs;
    QTest::newRow("label wrong type") << QByteArray(R"({"body": "x", "tags": {"a": 1}})") << u"not a string or an array"_qs;
    QTest::newRow("array needs multi") << QByteArray(R"({"body": "x", "tags": ["food", "tech"]})") << u"--multi-label"_qs;
    QTest::newRow("array of numbers") << QByteArray(R"({"body": "x", "tags": [1]})") << u"labels must be strings"_qs;
    QTest::newRow("empty label") << QByteArray(R"({"body": "x", "tags": ""})") << u"empty label"_qs;
}

void TestModelCommand::trainBadLines()
{
    QFETCH(QByteArray, badLine);
    QFETCH(QString, expected);
    QList<QByteArray> lines = topicJsonl(false);
    lines.insert(6, badLine); // line 7
    const QString input = m_dir.filePath(u"bad.jsonl"_qs);
    writeLines(input, lines);
    const QString model = m_dir.filePath(u"bad.ldm"_qs);
    QFile::remove(model);
    const Run r = runModel({u"model"_qs, u"train"_qs, u"--input"_qs, input, u"--text-field"_qs, u"body"_qs,
                            u"--label-field"_qs, u"tags"_qs, u"--out"_qs, model},
                           m_dir);
    QVERIFY(r.status != 0);
    QVERIFY2(r.err.startsWith("loopdeck: "), r.err.constData());
    QVERIFY2(r.err.contains(":7: "), r.err.constData());
    QVERIFY2(QString::fromUtf8(r.err).contains(expected), r.err.constData());
    QVERIFY(r.out.isEmpty());
    QVERIFY(!QFileInfo::exists(model));
}

void TestModelCommand::predictFromFileKeepsOrder()
{
    const QString model = trainModel();
    QVERIFY(!model.isEmpty());
    const QString in = m_dir.filePath(u"ask.jsonl"_qs);
    writeLines(in, {R"({"text": "goal team coach referee"})", "garbage", R"({"text": "kernel server cpu"})",
                    R"({"nottext": "x"})", R"({"text": "面条 好吃 recipe"})"});
    const Run r = runModel({u"model"_qs, u"predict"_qs, u"--model"_qs, model, u"--input"_qs, in, u"--stats"_qs},
                           m_dir);
    QVERIFY(r.status != 0);
    const QList<json> out = jsonLines(r.out);
    QCOMPARE(out.size(), 5);
    QVERIFY(out[0]["label"] == "sport");
    QVERIFY(out[0]["score"].get<double>() > 0.34 && out[0]["score"].get<double>() < 1.0);
    QVERIFY(QString::fromStdString(out[1]["error"].get<std::string>()).startsWith(u"line 2:"));
    QVERIFY(out[2]["label"] == "tech");
    QVERIFY(QString::fromStdString(out[3]["error"].get<std::string>()).contains(u"line 4: the text field"));
    QVERIFY(out[4]["label"] == "food");
    QVERIFY(!out[0].contains("labels")); // single-label output
    QVERIFY2(r.err.contains("\"predicted\":3"), r.err.constData());
    QVERIFY2(r.err.contains("loopdeck: 2 of 5 input lines"), r.err.constData());
}

void TestModelCommand::predictFromStdinWithBinary()
{
    const QString binary = QStringLiteral(LOOPDECK_BINARY);
    // The unit test targets depend on `loopdeck`: a missing binary is a failure, not a skip.
    QVERIFY2(QFileInfo::exists(binary), qPrintable(binary));
    const QString model = trainModel();
    QVERIFY(!model.isEmpty());
    QProcess p;
    p.start(binary, {u"model"_qs, u"predict"_qs, u"--model"_qs, model});
    QVERIFY(p.waitForStarted());
    p.write(R"({"text": "laptop software"})" "\n" R"({"text": "the league match"})" "\n");
    p.closeWriteChannel();
    QVERIFY(p.waitForFinished(30000));
    QCOMPARE(p.exitCode(), 0);
    const QList<json> out = jsonLines(p.readAllStandardOutput());
    QCOMPARE(out.size(), 2);
    QVERIFY(out[0]["label"] == "tech");
    QVERIFY(out[1]["label"] == "sport");
}

void TestModelCommand::predictRefusesCorruptModel()
{
    const QString model = trainModel();
    QVERIFY(!model.isEmpty());
    QFile f(model);
    QVERIFY(f.open(QIODevice::ReadWrite));
    f.seek(40);
    f.write("\xff\xff\xff");
    f.close();
    const Run r = runModel({u"model"_qs, u"predict"_qs, u"--model"_qs, model, u"--input"_qs,
                            m_dir.filePath(u"train.jsonl"_qs)},
                           m_dir);
    QVERIFY(r.status != 0);
    QVERIFY2(r.err.startsWith("loopdeck: The model file"), r.err.constData());
    QVERIFY2(r.err.contains("checksum"), r.err.constData());
    QVERIFY(r.out.isEmpty());
}

void TestModelCommand::usageErrors()
{
    Run r = runModel({u"model"_qs}, m_dir);
    QCOMPARE(r.status, 2);
    QVERIFY(r.err.contains("train or predict"));
    r = runModel({u"model"_qs, u"train"_qs, u"--input"_qs, u"x.jsonl"_qs}, m_dir);
    QCOMPARE(r.status, 2);
    QVERIFY(r.err.contains("--out"));
    r = runModel({u"model"_qs, u"train"_qs, u"--input"_qs, u"x"_qs, u"--out"_qs, u"y"_qs, u"--eval"_qs, u"maybe"_qs},
                 m_dir);
    QCOMPARE(r.status, 2);
    r = runModel({u"model"_qs, u"train"_qs, u"--input"_qs, m_dir.filePath(u"none.jsonl"_qs), u"--out"_qs, u"y"_qs},
                 m_dir);
    QCOMPARE(r.status, 1);
    QVERIFY(r.err.contains("cannot open"));
    r = runModel({u"model"_qs, u"predict"_qs, u"--bogus"_qs}, m_dir);
    QCOMPARE(r.status, 2);
    r = runModel({u"model"_qs, u"--help"_qs}, m_dir);
    QCOMPARE(r.status, 0);
    QVERIFY(r.out.contains("loopdeck model train"));
}

void TestModelCommand::selectionCalibrationAndUnlabeled()
{
    const QString input = m_dir.filePath(u"sel.jsonl"_qs);
    writeLines(input, topicJsonl(false));
    const QString unlabeled = m_dir.filePath(u"unl.jsonl"_qs);
    writeLines(unlabeled, {R"({"body": "the coach and the team"})", R"({"body": "compiler for the kernel"})",
                           R"({"body": "garlic noodles recipe", "tags": "ignored"})"});
    const QString model = m_dir.filePath(u"sel.ldm"_qs);
    const Run r = runModel({u"model"_qs, u"train"_qs, u"--input"_qs, input, u"--text-field"_qs, u"body"_qs,
                            u"--label-field"_qs, u"tags"_qs, u"--eval"_qs, u"none"_qs, u"--c"_qs, u"0.7"_qs,
                            u"--weighting"_qs, u"mixed"_qs, u"--unlabeled"_qs, unlabeled, u"--out"_qs, model},
                           m_dir);
    QVERIFY2(r.status == 0, r.err.constData());
    const json j = json::parse(r.out.toStdString());
    QCOMPARE(j["unlabeled"].get<int>(), 3);
    QCOMPARE(j["selection"]["c"].get<double>(), 0.7);
    QVERIFY(j["selection"]["weighting"] == "mixed");
    QVERIFY(!j.contains("ece")); // no evaluation asked for
    const QString in = m_dir.filePath(u"ask2.jsonl"_qs);
    writeLines(in, {R"({"text": "goal team coach referee"})"});
    const Run p = runModel({u"model"_qs, u"predict"_qs, u"--model"_qs, model, u"--input"_qs, in, u"--all-scores"_qs},
                           m_dir);
    QVERIFY2(p.status == 0, p.err.constData());
    const QList<json> out = jsonLines(p.out);
    QCOMPARE(out.size(), 1);
    double sum = 0;
    for (const auto &[label, prob] : out[0]["scores"].items())
        sum += prob.get<double>();
    QVERIFY(std::abs(sum - 1.0) < 1e-9);
    QCOMPARE(out[0]["scores"]["sport"].get<double>(), out[0]["score"].get<double>());
    // Bad values are usage errors.
    for (const QStringList &bad : {QStringList{u"--weighting"_qs, u"best"_qs}, QStringList{u"--c"_qs, u"-1"_qs},
                                   QStringList{u"--cv-folds"_qs, u"x"_qs}}) {
        const Run u = runModel(QStringList{u"model"_qs, u"train"_qs, u"--input"_qs, input, u"--out"_qs, model} + bad, m_dir);
        QCOMPARE(u.status, 2);
    }
    // An unreadable --unlabeled file is a data error that names the file.
    const Run missing = runModel({u"model"_qs, u"train"_qs, u"--input"_qs, input, u"--text-field"_qs, u"body"_qs,
                                  u"--label-field"_qs, u"tags"_qs, u"--unlabeled"_qs, m_dir.filePath(u"nope.jsonl"_qs),
                                  u"--out"_qs, model},
                                 m_dir);
    QCOMPARE(missing.status, 1);
    QVERIFY2(missing.err.contains("nope.jsonl"), missing.err.constData());
}

QTEST_GUILESS_MAIN(TestModelCommand)
#include "tst_modelcommand.moc"
