#pragma once
// Synthetic labelled sentences for the model tests: three topics with their own vocabulary plus
// shared filler words, drawn with a seeded Mersenne Twister, so every run sees the same data.
#include "core/model/textclassifier.h"

#include <random>

namespace testdata {

inline QList<loopdeck::model::Example> topicSentences(int perClass, unsigned seed = 7,
                                                       bool multiLabel = false)
{
    const QStringList sport = {u"goal"_qs, u"match"_qs, u"team"_qs, u"coach"_qs, u"league"_qs,
                               u"score"_qs, u"player"_qs, u"referee"_qs, u"球队"_qs, u"比赛"_qs};
    const QStringList tech = {u"compiler"_qs, u"kernel"_qs, u"server"_qs, u"laptop"_qs, u"cpu"_qs,
                              u"software"_qs, u"network"_qs, u"database"_qs, u"电脑"_qs, u"软件"_qs};
    const QStringList food = {u"pasta"_qs, u"recipe"_qs, u"garlic"_qs, u"oven"_qs, u"dessert"_qs,
                              u"spicy"_qs, u"noodles"_qs, u"bakery"_qs, u"面条"_qs, u"好吃"_qs};
    const QStringList filler = {u"the"_qs, u"a"_qs, u"today"_qs, u"really"_qs, u"we"_qs, u"saw"_qs,
                                u"new"_qs, u"and"_qs, u"very"_qs, u"about"_qs, u"42"_qs};
    const QList<QPair<QString, QStringList>> topics = {
        {u"sport"_qs, sport}, {u"tech"_qs, tech}, {u"food"_qs, food}};
    std::mt19937 rng(seed);
    auto pick = [&rng](const QStringList &words) { return words[static_cast<qsizetype>(rng() % words.size())]; };
    QList<loopdeck::model::Example> out;
    for (int i = 0; i < perClass; ++i) {
        for (qsizetype t = 0; t < topics.size(); ++t) {
            QStringList words;
            QStringList labels{topics[t].first};
            const int length = 6 + static_cast<int>(rng() % 6);
            for (int w = 0; w < length; ++w)
                words << (rng() % 3 == 0 ? pick(topics[t].second) : pick(filler));
            words << pick(topics[t].second);
            if (multiLabel && rng() % 3 == 0) {
                const qsizetype other = (t + 1) % topics.size();
                words << pick(topics[other].second) << pick(topics[other].second);
                labels << topics[other].first;
            }
            out.append({words.join(u' '), labels});
        }
    }
    return out;
}

} // namespace testdata
