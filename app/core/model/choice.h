#pragma once
// How a classifier's output becomes Label Studio's answer for one Choices control: which labels
// and which score. Written once, used by /predict (PredictionService) and by the prediction
// refresh (LoopEngine), so a task gets the same label and score either way.
//   single choice: the most probable class the label config still allows; score = its probability.
//   multiple:      the predicted labels the config allows; score = their mean probability.
// Pure function; any thread.
#include "core/model/textclassifier.h"

#include <QStringList>

namespace loopdeck::model {

struct Choice {
    QStringList labels; // empty = nothing the config allows
    double score = 0.0;
};

Choice chooseLabels(const Prediction &prediction, const QStringList &allowed, bool multiple);

} // namespace loopdeck::model
