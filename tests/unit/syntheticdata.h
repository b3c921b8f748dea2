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

// Three classes whose vocabularies overlap: every sentence draws most words from one shared
// pool and only some from its class's stems, which carry class-typical endings in random
// combinations (stem + ending), so the best achievable accuracy is well below 1 and a model that
// learns less than it should misses the thresholds. With unseenForms, test sentences use
// stem/ending pairs that training sentences never use (only character n-grams generalise).
inline QList<loopdeck::model::Example> overlappingTopics(int perClass, unsigned seed, bool unseenForms = false)
{
    const QStringList classes = {u"north"_qs, u"south"_qs, u"west"_qs};
    const QList<QStringList> stems = {{u"kra"_qs, u"vol"_qs, u"dun"_qs, u"pes"_qs},
                                      {u"mib"_qs, u"tor"_qs, u"gal"_qs, u"sef"_qs},
                                      {u"ruk"_qs, u"hen"_qs, u"zol"_qs, u"bap"_qs}};
    const QList<QStringList> endings = {{u"ax"_qs, u"ix"_qs, u"orn"_qs},
                                        {u"ela"_qs, u"uma"_qs, u"ito"_qs},
                                        {u"enk"_qs, u"ast"_qs, u"ulp"_qs}};
    const QStringList shared = {u"the"_qs, u"river"_qs, u"stone"_qs, u"market"_qs, u"old"_qs, u"road"_qs,
                                u"green"_qs, u"hill"_qs, u"city"_qs, u"people"_qs, u"light"_qs, u"村"_qs};
    std::mt19937 rng(seed);
    auto draw = [&rng](qsizetype n) { return static_cast<qsizetype>(rng() % static_cast<unsigned>(n)); };
    QList<loopdeck::model::Example> out;
    for (int i = 0; i < perClass; ++i) {
        for (qsizetype c = 0; c < classes.size(); ++c) {
            QStringList words;
            const int length = 6 + static_cast<int>(rng() % 5);
            for (int w = 0; w < length; ++w) {
                const unsigned r = rng() % 10;
                if (r < 6) {
                    words << shared[draw(shared.size())];
                } else {
                    // 3 in 4 class words are from the true class, 1 in 4 from another (overlap).
                    const qsizetype from = (rng() % 4 == 0) ? (c + 1 + draw(2)) % 3 : c;
                    const qsizetype stem = draw(4);
                    qsizetype ending = draw(3);
                    if (unseenForms)
                        ending = (stem + 1) % 3; // training pairs avoid this one
                    else if (ending == (stem + 1) % 3)
                        ending = (ending + 1) % 3;
                    words << stems[from][stem] + endings[from][ending];
                }
            }
            out.append({words.join(u' '), {classes[c]}});
        }
    }
    return out;
}

} // namespace testdata
