// Per-prediction latency of the built-in classifier, in-process, one thread:
//   bench_predict MODEL TEXTS.jsonl [rounds] [chars]
// Reads the "text" field of every line (cut to `chars` characters when given, lines shorter
// than that are skipped), then times TextClassifier::predict() on each text, `rounds` times over
// the whole list (default 5; the first round is a warm-up and not counted), then the same for
// the reference scoring path predictFromCounts(FeatureHasher::countText(text)) (binary search
// per feature) as a comparison.
// Prints one JSON line: mean / p50 / p99 in µs for both, and whether every result was identical.
#include "core/model/features.h"
#include "core/model/textclassifier.h"

#include <QElapsedTimer>
#include <QFile>
#include <QString>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace loopdeck::model;
using nlohmann::json;

namespace {

struct Figures {
    double mean = 0, p50 = 0, p99 = 0;
};

Figures summarise(std::vector<double> us)
{
    Figures f;
    if (us.empty())
        return f;
    double sum = 0;
    for (double x : us)
        sum += x;
    std::sort(us.begin(), us.end());
    f.mean = sum / static_cast<double>(us.size());
    f.p50 = us[us.size() / 2];
    f.p99 = us[std::min(us.size() - 1, us.size() * 99 / 100)];
    return f;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_predict MODEL TEXTS.jsonl [rounds] [chars]\n");
        return 2;
    }
    QString error;
    const auto model = TextClassifier::load(QString::fromLocal8Bit(argv[1]), &error);
    if (!model) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    const int rounds = argc > 3 ? std::max(2, std::atoi(argv[3])) : 5;
    const qsizetype chars = argc > 4 ? std::atoi(argv[4]) : 0;
    std::vector<QString> texts;
    std::ifstream in(argv[2], std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty())
            continue;
        QString t = QString::fromStdString(json::parse(line).at("text").get<std::string>());
        if (chars > 0) {
            if (t.size() < chars)
                continue;
            t.truncate(chars);
        }
        texts.push_back(std::move(t));
    }
    if (texts.empty()) {
        std::fprintf(stderr, "no texts\n");
        return 1;
    }
    // The reference path needs the model's hasher settings; a model's predict() and
    // predictFromCounts() share them, so rebuild the hasher from the options.
    const TrainOptions o = model->options();
    const FeatureHasher hasher(o.hashBits, o.charGrams);

    // Each path in rounds of its own, so neither evicts the other's tables from the caches.
    QElapsedTimer timer;
    auto time = [&](auto &&predictOne) {
        std::vector<double> us;
        for (int r = 0; r < rounds; ++r) {
            for (const QString &t : texts) {
                timer.start();
                const Prediction p = predictOne(t);
                const double elapsed = static_cast<double>(timer.nsecsElapsed()) / 1000.0;
                if (r > 0) // the first round is a warm-up
                    us.push_back(elapsed);
            }
        }
        return us;
    };
    const std::vector<double> fast = time([&](const QString &t) { return model->predict(t); });
    const std::vector<double> reference
        = time([&](const QString &t) { return model->predictFromCounts(hasher.countText(t)); });
    bool identical = true;
    for (const QString &t : texts) {
        const Prediction a = model->predict(t);
        const Prediction b = model->predictFromCounts(hasher.countText(t));
        identical = identical && a.labels == b.labels && a.score == b.score && a.scores.size() == b.scores.size();
        for (std::size_t i = 0; identical && i < a.scores.size(); ++i)
            identical = a.scores[i].label == b.scores[i].label && a.scores[i].probability == b.scores[i].probability;
    }
    const Figures f = summarise(fast);
    const Figures g = summarise(reference);
    const json out = {{"texts", texts.size()},
                      {"rounds_counted", rounds - 1},
                      {"chars", chars},
                      {"predict_us", {{"mean", f.mean}, {"p50", f.p50}, {"p99", f.p99}}},
                      {"reference_us", {{"mean", g.mean}, {"p50", g.p50}, {"p99", g.p99}}},
                      {"identical", identical}};
    std::printf("%s\n", out.dump().c_str());
    return identical ? 0 : 1;
}
