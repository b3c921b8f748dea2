#pragma once
// Reads a Label Studio project's label_config XML and finds what the built-in text classifier
// can serve: each <Choices> control bound (toName) to a <Text> object. Anything it cannot
// serve comes with a reason a person understands (shown in the GUI and by /setup).
// Called by the backend (/setup, /predict), the dashboard's detail pane and the trainer.
#include <QList>
#include <QString>
#include <QStringList>

namespace loopdeck::labelconfig {

struct ClassificationTarget {
    QString fromName;   // the Choices control's name, e.g. "sentiment"
    QString toName;     // the Text object's name, e.g. "text"
    QString dataKey;    // the task data key the Text reads, e.g. "text" for value="$text"
    bool multiple = false;   // choice="multiple"
    QStringList choices;     // values as Label Studio stores them in results
};

struct LabelConfig {
    QList<ClassificationTarget> targets;   // servable targets, document order
    QStringList objects;                   // every object tag seen, e.g. "Text:text", "Image:img"
    QStringList controls;                  // every control tag seen, e.g. "Choices:sentiment"
    // Problems come twice: in the user's language (GUI) and in English (protocol texts sent to
    // Label Studio, which stay English whatever language the app runs in).
    QString error;                         // set when the XML itself cannot be read
    QString errorEnglish;
    QStringList unsupported;               // why other controls are not served, one sentence each
    QStringList unsupportedEnglish;        // the same sentences in English, same order

    bool isServable() const { return error.isEmpty() && !targets.isEmpty(); }
    // One sentence saying why nothing can be served (empty when servable), translated (GUI).
    QString reason() const;
    // The same sentence in English, for /setup warnings and anything sent to Label Studio.
    QString protocolReason() const;
};

LabelConfig parse(const QString &xml);

} // namespace loopdeck::labelconfig
