// The loop's pure decisions (core/loop/policy.h) and how a label and score are chosen from a
// classifier's output (core/model/choice.h): plain values in, plain values out, no server, no
// clock. Each case names the rule it pins down.
#include "core/loop/policy.h"
#include "core/model/choice.h"

#include <QTest>

#include <cmath>
#include <limits>

namespace policy = loopdeck::loop::policy;
using loopdeck::model::chooseLabels;
using loopdeck::model::ClassScore;
using loopdeck::model::Prediction;

namespace {

// A prediction as the classifier returns it: chosen labels, score, every class highest first.
Prediction prediction(const QStringList &labels, double score, std::vector<ClassScore> scores)
{
    Prediction p;
    p.labels = labels;
    p.score = score;
    p.scores = std::move(scores);
    return p;
}

} // namespace

class TestPolicy final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // ---- isAnnotatorEvent ----

    void annotatorEvents_data()
    {
        QTest::addColumn<QString>("action");
        QTest::addColumn<bool>("annotator");
        QTest::newRow("created") << "ANNOTATION_CREATED" << true;
        QTest::newRow("updated") << "ANNOTATION_UPDATED" << true;
        QTest::newRow("bulk created") << "ANNOTATIONS_CREATED" << true;
        QTest::newRow("deleted") << "ANNOTATION_DELETED" << true;
        QTest::newRow("bulk deleted") << "ANNOTATIONS_DELETED" << true;
        // LoopDeck's own PATCH of model_version causes PROJECT_UPDATED: not an annotator.
        QTest::newRow("project updated") << "PROJECT_UPDATED" << false;
        QTest::newRow("start training") << "START_TRAINING" << false;
        QTest::newRow("tasks created") << "TASKS_CREATED" << false;
        QTest::newRow("empty") << "" << false;
        QTest::newRow("case matters") << "annotation_created" << false;
    }
    void annotatorEvents()
    {
        QFETCH(QString, action);
        QFETCH(bool, annotator);
        QCOMPARE(policy::isAnnotatorEvent(action), annotator);
    }

    // ---- failureBackoffSeconds ----

    void backoff_data()
    {
        QTest::addColumn<int>("failures");
        QTest::addColumn<int>("seconds");
        QTest::newRow("negative") << -3 << 0;
        QTest::newRow("none") << 0 << 0;
        QTest::newRow("1st") << 1 << 60;
        QTest::newRow("2nd") << 2 << 120;
        QTest::newRow("3rd") << 3 << 240;
        QTest::newRow("4th") << 4 << 480;
        QTest::newRow("5th") << 5 << 960;
        QTest::newRow("6th") << 6 << 1920;
        QTest::newRow("7th: 3840 capped") << 7 << 3600;
        QTest::newRow("8th") << 8 << 3600;
        QTest::newRow("40th (no shift overflow)") << 40 << 3600;
        QTest::newRow("INT_MAX") << std::numeric_limits<int>::max() << 3600;
    }
    void backoff()
    {
        QFETCH(int, failures);
        QFETCH(int, seconds);
        QCOMPARE(policy::failureBackoffSeconds(failures), seconds);
    }

    void backoffNeverDecreases()
    {
        int previous = 0;
        for (int f = 0; f <= 100; ++f) {
            const int s = policy::failureBackoffSeconds(f);
            QVERIFY2(s >= previous, qPrintable(QStringLiteral("failures %1: %2 < %3").arg(f).arg(s).arg(previous)));
            QVERIFY(s <= 3600);
            previous = s;
        }
    }

    // ---- failureCause ----

    void causeIgnoresNumbers()
    {
        QCOMPARE(policy::failureCause(QStringLiteral("Only 3 usable examples; at least 10 are needed.")),
                 policy::failureCause(QStringLiteral("Only 4 usable examples; at least 10 are needed.")));
        // decimals and multi-digit numbers alike
        QCOMPARE(policy::failureCause(QStringLiteral("accuracy 0.51 below 0.75 after 120 s")),
                 policy::failureCause(QStringLiteral("accuracy 0.9 below 1.25 after 7 s")));
        QCOMPARE(policy::failureCause(QStringLiteral("Label Studio answered 502")), QStringLiteral("Label Studio answered #"));
    }

    void causeKeepsWords()
    {
        QVERIFY(policy::failureCause(QStringLiteral("Only 3 usable examples"))
                != policy::failureCause(QStringLiteral("Only 3 labelled classes")));
        QVERIFY(policy::failureCause(QStringLiteral("Label Studio is unreachable"))
                != policy::failureCause(QStringLiteral("Label Studio timed out")));
        QVERIFY(!policy::failureCause(QStringLiteral("The model file is damaged")).isEmpty());
    }

    void causeWhitespace()
    {
        // simplified: a message that differs only by spacing (or a trailing newline) is the same cause
        QCOMPARE(policy::failureCause(QStringLiteral("  disk   full \n")), QStringLiteral("disk full"));
        QCOMPARE(policy::failureCause(QString()), QString());
    }

    // ---- Wilson score interval (textbook values: Newcombe 1998, Stat Med 17:857, Table I) ----

    void wilson_data()
    {
        QTest::addColumn<int>("successes");
        QTest::addColumn<int>("n");
        QTest::addColumn<double>("low");
        QTest::addColumn<double>("high");
        QTest::newRow("81/263") << 81 << 263 << 0.2553 << 0.3662;
        QTest::newRow("15/148") << 15 << 148 << 0.0624 << 0.1605;
        QTest::newRow("0/20 (low exactly 0)") << 0 << 20 << 0.0 << 0.1611;
        QTest::newRow("1/29") << 1 << 29 << 0.0061 << 0.1718;
        QTest::newRow("20/20 (high exactly 1)") << 20 << 20 << 0.8389 << 1.0;
        QTest::newRow("n = 0: nothing known") << 0 << 0 << 0.0 << 1.0;
    }
    void wilson()
    {
        QFETCH(int, successes);
        QFETCH(int, n);
        QFETCH(double, low);
        QFETCH(double, high);
        const policy::Interval w = policy::wilsonInterval(successes, n);
        QVERIFY2(std::abs(w.low - low) < 5e-5, qPrintable(QString::number(w.low, 'f', 6)));
        QVERIFY2(std::abs(w.high - high) < 5e-5, qPrintable(QString::number(w.high, 'f', 6)));
    }

    // ---- Newcombe's interval for a paired difference (new - active) ----

    void paired_data()
    {
        QTest::addColumn<int>("both");
        QTest::addColumn<int>("newOnly");
        QTest::addColumn<int>("activeOnly");
        QTest::addColumn<int>("neither");
        QTest::addColumn<double>("difference");
        QTest::addColumn<double>("low");
        QTest::addColumn<double>("high");
        // Textbook: Cavo et al. 2012 as in Fagerland, Lydersen & Laake, Statistical Analysis of
        // Contingency Tables (2017), ch. 8: estimate -0.0621, 95 % CI -0.1186 to -0.0046.
        QTest::newRow("Cavo 2012 (textbook)") << 59 << 6 << 16 << 80 << -0.0621 << -0.1186 << -0.0046;
        // Hand-computed from the formula (Wilson intervals of 2/21 and 8/21, phi corrected to 0
        // since both*neither - newOnly*activeOnly = 5 <= n/2).
        QTest::newRow("Bentur 2009 table") << 1 << 1 << 7 << 12 << -0.2857 << -0.5069 << -0.0256;
        // Correlation 0.9 after the correction: (100 - 10) / sqrt(10*10*10*10).
        QTest::newRow("all ties, half right") << 10 << 0 << 0 << 10 << 0.0 << -0.0898 << 0.0898;
        // A margin of the table is 0: phi = 0, interval from the Wilson bounds of 20/20 alone.
        QTest::newRow("all ties, all right") << 20 << 0 << 0 << 0 << 0.0 << -0.1611 << 0.1611;
        QTest::newRow("all ties, all wrong") << 0 << 0 << 0 << 20 << 0.0 << -0.1611 << 0.1611;
        QTest::newRow("all discordant, balanced") << 0 << 10 << 10 << 0 << 0.0 << -0.4014 << 0.4014;
        QTest::newRow("all discordant against the new one") << 0 << 0 << 10 << 0 << -1.0 << -1.0 << -0.6075;
        QTest::newRow("all discordant for the new one") << 0 << 10 << 0 << 0 << 1.0 << 0.6075 << 1.0;
        QTest::newRow("n = 1") << 0 << 0 << 0 << 1 << 0.0 << -0.7935 << 0.7935;
        QTest::newRow("n = 0") << 0 << 0 << 0 << 0 << 0.0 << -1.0 << 1.0;
    }
    void paired()
    {
        QFETCH(int, both);
        QFETCH(int, newOnly);
        QFETCH(int, activeOnly);
        QFETCH(int, neither);
        QFETCH(double, difference);
        QFETCH(double, low);
        QFETCH(double, high);
        const policy::PairedCounts c{both, newOnly, activeOnly, neither};
        const policy::PairedDifference d = policy::pairedDifference(c);
        QCOMPARE(d.n, both + newOnly + activeOnly + neither);
        QVERIFY2(std::abs(d.difference - difference) < 5e-5, qPrintable(QString::number(d.difference, 'f', 6)));
        QVERIFY2(std::abs(d.interval.low - low) < 5e-5, qPrintable(QString::number(d.interval.low, 'f', 6)));
        QVERIFY2(std::abs(d.interval.high - high) < 5e-5, qPrintable(QString::number(d.interval.high, 'f', 6)));
        QVERIFY(d.interval.low <= d.difference && d.difference <= d.interval.high);
    }

    void pairedSwapIsMirrored()
    {
        // Swapping the roles of the versions mirrors the interval.
        const auto a = policy::pairedDifference({30, 2, 10, 8});
        const auto b = policy::pairedDifference({30, 10, 2, 8});
        QVERIFY(std::abs(a.difference + b.difference) < 1e-12);
        QVERIFY(std::abs(a.interval.low + b.interval.high) < 1e-12);
        QVERIFY(std::abs(a.interval.high + b.interval.low) < 1e-12);
    }

    void pairedNarrowsWithMoreExamples()
    {
        // The same proportions, ten times the examples: a narrower interval around the same difference.
        const auto small = policy::pairedDifference({15, 0, 5, 0});
        const auto large = policy::pairedDifference({150, 0, 50, 0});
        QCOMPARE(small.difference, large.difference);
        QVERIFY(large.interval.high - large.interval.low < (small.interval.high - small.interval.low) / 2);
        QVERIFY(small.interval.high < 0.0); // -0.0378 (hand-computed)
    }

    // ---- decideActivation ----

    void decide_data()
    {
        QTest::addColumn<int>("activeVersion");
        QTest::addColumn<bool>("compared");
        QTest::addColumn<int>("both");
        QTest::addColumn<int>("newOnly");
        QTest::addColumn<int>("activeOnly");
        QTest::addColumn<int>("neither");
        QTest::addColumn<double>("margin");
        QTest::addColumn<bool>("activate");
        QTest::addColumn<int>("reason");
        using R = policy::ActivationReason;
        QTest::newRow("no active version") << 0 << true << 0 << 0 << 50 << 0 << 0.02 << true << int(R::NoActiveVersion);
        QTest::newRow("nothing to compare on") << 3 << false << 0 << 0 << 0 << 0 << 0.02 << true << int(R::NoComparison);
        QTest::newRow("no shared examples") << 3 << true << 0 << 0 << 0 << 0 << 0.02 << true << int(R::TooFewShared);
        // 9 of 9 against the new one would be "worse with confidence", but 9 < 10 examples decide nothing.
        QTest::newRow("too few shared, all against") << 3 << true << 0 << 0 << 9 << 0 << 0.02 << true << int(R::TooFewShared);
        QTest::newRow("10 shared, all against") << 3 << true << 0 << 0 << 10 << 0 << 0.02 << false << int(R::WorseWithConfidence);
        QTest::newRow("all ties") << 3 << true << 40 << 0 << 0 << 10 << 0.02 << true << int(R::NotWorse);
        QTest::newRow("better") << 3 << true << 30 << 10 << 2 << 8 << 0.02 << true << int(R::NotWorse);
        // -0.16, interval -0.2904 to -0.0240: below -0.02 -> kept; a margin of 0.03 tolerates it.
        QTest::newRow("worse, bound below the margin") << 3 << true << 30 << 2 << 10 << 8 << 0.02 << false << int(R::WorseWithConfidence);
        QTest::newRow("worse, bound within a wider margin") << 3 << true << 30 << 2 << 10 << 8 << 0.03 << true << int(R::NotWorse);
        // Cavo: -0.0621 (-0.1186 to -0.0046): worse with confidence only with margin 0.
        QTest::newRow("slightly worse, margin 0") << 3 << true << 59 << 6 << 16 << 80 << 0.0 << false << int(R::WorseWithConfidence);
        QTest::newRow("slightly worse, default margin") << 3 << true << 59 << 6 << 16 << 80 << 0.02 << true << int(R::NotWorse);
        QTest::newRow("worse by chance only") << 3 << true << 40 << 3 << 6 << 1 << 0.02 << true << int(R::NotWorse);
        QTest::newRow("margin 1 takes anything") << 3 << true << 0 << 0 << 500 << 0 << 1.0 << true << int(R::NotWorse);
    }
    void decide()
    {
        QFETCH(int, activeVersion);
        QFETCH(bool, compared);
        QFETCH(int, both);
        QFETCH(int, newOnly);
        QFETCH(int, activeOnly);
        QFETCH(int, neither);
        QFETCH(double, margin);
        QFETCH(bool, activate);
        QFETCH(int, reason);
        policy::ActivationInput in;
        in.activeVersion = activeVersion;
        if (compared)
            in.shared = policy::PairedCounts{both, newOnly, activeOnly, neither};
        in.margin = margin;
        const policy::ActivationDecision d = policy::decideActivation(in);
        QCOMPARE(d.activate, activate);
        QCOMPARE(int(d.reason), reason);
        if (compared && activeVersion > 0)
            QCOMPARE(d.difference.n, both + newOnly + activeOnly + neither);
    }

    void decideDefaults()
    {
        policy::ActivationInput in;
        QCOMPARE(in.margin, 0.02);
        QVERIFY(policy::decideActivation(in).activate); // defaults: no active version
        in.activeVersion = 1;
        QVERIFY(policy::decideActivation(in).activate); // no comparison
        in.shared = policy::PairedCounts{0, 0, 20, 0};
        QVERIFY(!policy::decideActivation(in).activate);
        QCOMPARE(policy::kMinSharedExamples, 10);
    }

    void operatorsChoiceStands()
    {
        // Chosen by hand while the new version trained: kept, however the new one compares.
        policy::ActivationInput in;
        in.activeVersion = 2;
        in.operatorChose = true;
        in.shared = policy::PairedCounts{0, 30, 0, 0}; // the new one right on all 30, the active on none
        policy::ActivationDecision d = policy::decideActivation(in);
        QVERIFY(!d.activate);
        QCOMPARE(int(d.reason), int(policy::ActivationReason::OperatorChose));
        in.shared.reset();
        QVERIFY(!policy::decideActivation(in).activate);
        // Nothing active (the operator's choice cannot be "none"): the new one serves.
        in.activeVersion = 0;
        d = policy::decideActivation(in);
        QVERIFY(d.activate);
        QCOMPARE(int(d.reason), int(policy::ActivationReason::NoActiveVersion));
    }

    // ---- chooseLabels: single choice ----

    void singleTopClass()
    {
        const Prediction p = prediction({QStringLiteral("spam")}, 0.7,
                                        {{QStringLiteral("spam"), 0.7}, {QStringLiteral("ham"), 0.3}});
        const auto c = chooseLabels(p, {QStringLiteral("ham"), QStringLiteral("spam")}, false);
        QCOMPARE(c.labels, QStringList{QStringLiteral("spam")});
        QCOMPARE(c.score, 0.7);
    }

    void singleEmptyAllowedMeansAny()
    {
        const Prediction p = prediction({QStringLiteral("b")}, 0.6, {{QStringLiteral("b"), 0.6}, {QStringLiteral("a"), 0.4}});
        const auto c = chooseLabels(p, {}, false);
        QCOMPARE(c.labels, QStringList{QStringLiteral("b")});
        QCOMPARE(c.score, 0.6);
    }

    void singleSkipsLabelsTheConfigNoLongerHas()
    {
        // The classifier was trained with "old"; the config now offers only a and b: the most
        // probable allowed class wins, with its own probability (not the top one's).
        const Prediction p = prediction({QStringLiteral("old")}, 0.5,
                                        {{QStringLiteral("old"), 0.5}, {QStringLiteral("b"), 0.3}, {QStringLiteral("a"), 0.2}});
        const auto c = chooseLabels(p, {QStringLiteral("a"), QStringLiteral("b")}, false);
        QCOMPARE(c.labels, QStringList{QStringLiteral("b")});
        QCOMPARE(c.score, 0.3);
    }

    void singleNothingAllowed()
    {
        const Prediction p = prediction({QStringLiteral("x")}, 0.9, {{QStringLiteral("x"), 0.9}, {QStringLiteral("y"), 0.1}});
        const auto c = chooseLabels(p, {QStringLiteral("z")}, false);
        QVERIFY(c.labels.isEmpty());
        QCOMPARE(c.score, 0.0);
    }

    void singleWithoutScoresFallsBackToLabels()
    {
        const Prediction withLabel = prediction({QStringLiteral("a")}, 0.8, {});
        auto c = chooseLabels(withLabel, {QStringLiteral("a")}, false);
        QCOMPARE(c.labels, QStringList{QStringLiteral("a")});
        QCOMPARE(c.score, 0.8);
        c = chooseLabels(withLabel, {QStringLiteral("b")}, false);
        QVERIFY(c.labels.isEmpty());
        c = chooseLabels(prediction({}, 0.0, {}), {}, false);
        QVERIFY(c.labels.isEmpty());
        QCOMPARE(c.score, 0.0);
    }

    // ---- chooseLabels: multiple choice ----

    void multipleMeanOfChosen()
    {
        const Prediction p = prediction({QStringLiteral("a"), QStringLiteral("c")}, 0.7,
                                        {{QStringLiteral("a"), 0.9}, {QStringLiteral("c"), 0.5}, {QStringLiteral("b"), 0.1}});
        const auto c = chooseLabels(p, {QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}, true);
        QCOMPARE(c.labels, (QStringList{QStringLiteral("a"), QStringLiteral("c")}));
        QCOMPARE(c.score, 0.7);
    }

    void multipleDropsDisallowedAndRescores()
    {
        // "c" is no longer in the config: it goes, and the score is the mean of what stays.
        const Prediction p = prediction({QStringLiteral("a"), QStringLiteral("c")}, 0.7,
                                        {{QStringLiteral("a"), 0.9}, {QStringLiteral("c"), 0.5}, {QStringLiteral("b"), 0.1}});
        const auto c = chooseLabels(p, {QStringLiteral("a"), QStringLiteral("b")}, true);
        QCOMPARE(c.labels, QStringList{QStringLiteral("a")});
        QCOMPARE(c.score, 0.9);
        // Multiple choice never adds a label the classifier did not choose (b stays out).
        QVERIFY(!c.labels.contains(QStringLiteral("b")));
    }

    void multipleEmptyAllowedMeansAny()
    {
        const Prediction p = prediction({QStringLiteral("x"), QStringLiteral("y")}, 0.6,
                                        {{QStringLiteral("x"), 0.8}, {QStringLiteral("y"), 0.4}});
        const auto c = chooseLabels(p, {}, true);
        QCOMPARE(c.labels, (QStringList{QStringLiteral("x"), QStringLiteral("y")}));
        QCOMPARE(c.score, (0.8 + 0.4) / 2.0);
    }

    void multipleNothingChosenOrAllowed()
    {
        const Prediction none = prediction({}, 0.0, {{QStringLiteral("x"), 0.3}, {QStringLiteral("y"), 0.2}});
        auto c = chooseLabels(none, {}, true);
        QVERIFY(c.labels.isEmpty()); // below every threshold: nothing, not the top class
        QCOMPARE(c.score, 0.0);
        const Prediction some = prediction({QStringLiteral("x")}, 0.9, {{QStringLiteral("x"), 0.9}});
        c = chooseLabels(some, {QStringLiteral("y")}, true);
        QVERIFY(c.labels.isEmpty());
        QCOMPARE(c.score, 0.0);
    }
};

QTEST_GUILESS_MAIN(TestPolicy)
#include "tst_policy.moc"
