// The loop's pure decisions (core/loop/policy.h) and how a label and score are chosen from a
// classifier's output (core/model/choice.h): plain values in, plain values out, no server, no
// clock. Each case names the rule it pins down.
#include "core/loop/policy.h"
#include "core/model/choice.h"

#include <QTest>

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

    // ---- shouldActivate ----

    void activate_data()
    {
        QTest::addColumn<int>("activeVersion");
        QTest::addColumn<double>("activeAccuracy");
        QTest::addColumn<double>("newAccuracy");
        QTest::addColumn<double>("margin");
        QTest::addColumn<bool>("activate");
        QTest::newRow("no active version") << 0 << 0.99 << 0.10 << 0.02 << true;
        QTest::newRow("negative active version = none") << -1 << 0.99 << 0.10 << 0.02 << true;
        QTest::newRow("active measure unknown") << 3 << -1.0 << 0.10 << 0.02 << true;
        QTest::newRow("new measure unknown") << 3 << 0.90 << -1.0 << 0.02 << true;
        QTest::newRow("better") << 3 << 0.80 << 0.85 << 0.02 << true;
        QTest::newRow("equal") << 3 << 0.80 << 0.80 << 0.02 << true;
        QTest::newRow("worse within margin") << 3 << 0.80 << 0.79 << 0.02 << true;
        QTest::newRow("worse by exactly the margin") << 3 << 0.75 << 0.50 << 0.25 << true; // binary-exact values
        QTest::newRow("worse by more than the margin") << 3 << 0.80 << 0.77 << 0.02 << false;
        QTest::newRow("zero margin, a hair worse") << 3 << 0.80 << 0.7999 << 0.0 << false;
        QTest::newRow("zero margin, equal") << 3 << 0.80 << 0.80 << 0.0 << true;
        QTest::newRow("active measured 0, new 0") << 3 << 0.0 << 0.0 << 0.02 << true;
        QTest::newRow("margin 1 takes anything") << 3 << 1.0 << 0.0 << 1.0 << true;
    }
    void activate()
    {
        QFETCH(int, activeVersion);
        QFETCH(double, activeAccuracy);
        QFETCH(double, newAccuracy);
        QFETCH(double, margin);
        QFETCH(bool, activate);
        policy::ActivationInput in;
        in.activeVersion = activeVersion;
        in.activeAccuracy = activeAccuracy;
        in.newAccuracy = newAccuracy;
        in.margin = margin;
        QCOMPARE(policy::shouldActivate(in), activate);
    }

    void activateDefaultMargin()
    {
        policy::ActivationInput in;
        QCOMPARE(in.margin, 0.02);
        QVERIFY(policy::shouldActivate(in)); // defaults: no active version
        in.activeVersion = 1;
        in.activeAccuracy = 0.9;
        in.newAccuracy = 0.85;
        QVERIFY(!policy::shouldActivate(in));
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
