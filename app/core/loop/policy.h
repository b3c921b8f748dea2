#pragma once
// The loop's decisions as pure functions over plain values, each written once and tested on its
// own (tests/unit/tst_policy.cpp): which webhook events are annotators at work, how long a
// failing project waits before its next automatic run, and whether a new version replaces the
// active one. No I/O, no state; any thread. Called by LoopEngine.
#include <QString>
#include <QStringList>
#include <QUrl>

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

struct ActivationInput {
    int activeVersion = 0;          // 0 = none
    double activeAccuracy = -1.0;   // the active version's measure, -1 = unknown
    double newAccuracy = -1.0;
    double margin = 0.02;
};

// Whether a freshly trained version replaces the active one: always when there is none or its
// measure is unknown; otherwise unless it is worse by more than the margin.
bool shouldActivate(const ActivationInput &in);

} // namespace loopdeck::loop::policy
