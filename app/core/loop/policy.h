#pragma once
// The loop's decisions as pure functions over plain values, each written once and tested on its
// own (tests/unit/tst_policy.cpp): which webhook events are annotators at work, how long a
// failing project waits before its next automatic run, and whether a new version replaces the
// active one. No I/O, no state; any thread. Called by LoopEngine.
#include <QString>
#include <QStringList>
#include <QUrl>

#include <optional>

namespace loopdeck::loop::policy {

// Webhook actions that mean a person saved, changed or deleted annotations in Label Studio
// (the prediction refresh pauses for them). PROJECT_UPDATED is not one: LoopDeck's own
// model_version update causes it.
bool isAnnotatorEvent(const QString &action);

// The wait before the next automatic run after `failures` failed runs in a row (1 = the first
// failure): 1 minute, doubling, at most 1 hour. 0 failures = no wait.
int failureBackoffSeconds(int failures);

// A failure's cause, for "notify once per cause": the message without numbers, so "Only 3
// usable examples" and "Only 4 usable examples" are one cause.
QString failureCause(const QString &error);

// Whether a backend URL registered in Label Studio is this backend, so that our webhook secret
// may go into the webhook Label Studio calls for it: the same port, and a host that reaches our
// listening socket — its bound address itself; with a wildcard bind (0.0.0.0, ::) any address
// of this machine, "localhost" or this machine's name; "localhost" also for a loopback bind.
// Another host with our port number is not us (127.0.0.2 is not 127.0.0.1 either).
struct ThisBackend {
    quint16 port = 0;
    QString boundHost;             // what the server listens on ("127.0.0.1", "0.0.0.0", "::", a name)
    QStringList machineNames;      // this machine's host names, lower case
    QStringList machineAddresses;  // this machine's interface addresses (QHostAddress::toString)
};
bool isThisBackend(const QUrl &url, const ThisBackend &me);

// ---- Whether a freshly trained version replaces the active one ----
//
// Like with like: both versions are judged on the same examples, the labelled tasks the active
// version was not trained on (it never saw their labels). For each, the active version's prediction
// (scored at decision time) and the new version's out-of-fold prediction (from its evaluation,
// made by a model that did not see that example) are compared with the annotation. The paired
// outcomes go into a 2x2 table; the difference in accuracy (new - active) gets Newcombe's
// hybrid score interval for paired proportions (Newcombe 1998, Stat Med 17:2635, method 10:
// Wilson score intervals for the two accuracies, combined with the correlation of the pairs).
// The new version is kept inactive only when the whole 95 % interval lies below -margin, i.e.
// it is worse by more than the margin with 97.5 % one-sided confidence; with fewer than
// kMinSharedExamples shared examples it is activated (no evidence against it).

// z for a two-sided 95 % interval (the 97.5 % quantile of the standard normal).
inline constexpr double kZ95 = 1.959963984540054;
// Fewer shared examples than this: no verdict, the new version is activated.
inline constexpr int kMinSharedExamples = 10;

struct Interval {
    double low = 0.0;
    double high = 1.0;
};

// Wilson's score interval for `successes` of `n` (n = 0: [0, 1]).
Interval wilsonInterval(int successes, int n, double z = kZ95);

// Paired correctness on the shared examples.
struct PairedCounts {
    int both = 0;       // both versions right
    int newOnly = 0;    // only the new version right
    int activeOnly = 0; // only the active version right
    int neither = 0;    // both wrong
    int total() const { return both + newOnly + activeOnly + neither; }
    double newAccuracy() const { return total() > 0 ? double(both + newOnly) / total() : 0.0; }
    double activeAccuracy() const { return total() > 0 ? double(both + activeOnly) / total() : 0.0; }
};

// The difference in accuracy new - active and Newcombe's interval for it (clamped to [-1, 1]).
// n = 0: difference 0, interval [-1, 1].
struct PairedDifference {
    int n = 0;
    double difference = 0.0;
    Interval interval{-1.0, 1.0};
};
PairedDifference pairedDifference(const PairedCounts &counts, double z = kZ95);

struct ActivationInput {
    int activeVersion = 0;                // 0 = none
    std::optional<PairedCounts> shared;   // nullopt = no comparison possible (e.g. the active
                                          // version's training data is not known)
    double margin = 0.02;                 // tolerated loss in accuracy (activation_margin)
    bool operatorChose = false;           // the operator activated or rolled back while it trained
};

enum class ActivationReason {
    NoActiveVersion,     // activate: nothing to compare with
    NoComparison,        // activate: no shared examples could be scored
    TooFewShared,        // activate: fewer than kMinSharedExamples shared examples
    NotWorse,            // activate: not worse by more than the margin with confidence
    WorseWithConfidence, // keep the active one
    OperatorChose,       // keep the active one: the operator chose it while the new one trained
};

struct ActivationDecision {
    bool activate = true;
    ActivationReason reason = ActivationReason::NoActiveVersion;
    PairedDifference difference; // set when a comparison was made (reason NotWorse/WorseWithConfidence/TooFewShared)
};

ActivationDecision decideActivation(const ActivationInput &in);

} // namespace loopdeck::loop::policy
