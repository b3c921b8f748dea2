#pragma once
// How the loop behaves for one project: when to retrain (every N new or changed annotations,
// every X minutes, daily at HH:MM, on Label Studio's "Start training"), when a new version may
// replace the active one, and what to do after a new version (refresh predictions in Label
// Studio, uncertainty sampling). Defaults come from `loopdeck serve` flags or the app settings;
// a project's own values (edited in the window) are stored as JSON in the loop store and
// override them key by key. Plain value type; any thread.
#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QTime>

namespace loopdeck::loop {

struct LoopSettings {
    bool enabled = true;             // the loop trains this project by itself
    int trainEvery = 50;             // new or changed annotations since the last training; 0 = off
    int intervalMinutes = 0;         // 0 = off
    QTime dailyAt;                   // invalid = off
    bool onStartTraining = true;     // honour Label Studio's "Start training"
    int cooldownSeconds = 30;        // between automatic runs
    double activationMargin = 0.02;  // a new version must not be worse than the active one by more
    int keepVersions = 20;           // older versions are deleted (never the active one)
    bool refreshPredictions = true;  // import the new version's predictions for unlabeled tasks
    bool uncertaintySampling = false; // set the project's sampling so the least certain come first
    int minExamples = 10;            // fewer usable examples: no automatic training

    QJsonObject toJson() const;
    // Keys present in `json` override `defaults`; unknown keys are ignored, wrong types and
    // out-of-range values are refused with a sentence.
    static bool fromJson(const QJsonObject &json, const LoopSettings &defaults, LoopSettings *out, QString *error);
    static LoopSettings fromStored(const QByteArray &json, const LoopSettings &defaults);
    bool operator==(const LoopSettings &) const = default;
};

} // namespace loopdeck::loop
