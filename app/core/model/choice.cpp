#include "core/model/choice.h"

namespace loopdeck::model {

Choice chooseLabels(const Prediction &p, const QStringList &allowed, bool multiple)
{
    Choice out;
    const auto ok = [&](const QString &label) { return allowed.isEmpty() || allowed.contains(label); };
    if (!multiple) {
        for (const ClassScore &cs : p.scores)
            if (ok(cs.label)) {
                out.labels << cs.label;
                out.score = cs.probability;
                return out;
            }
        if (!p.labels.isEmpty() && ok(p.labels.front())) {
            out.labels << p.labels.front();
            out.score = p.score;
        }
        return out;
    }
    double sum = 0.0;
    for (const QString &label : p.labels) {
        if (!ok(label))
            continue;
        out.labels << label;
        for (const ClassScore &cs : p.scores)
            if (cs.label == label)
                sum += cs.probability;
    }
    if (!out.labels.isEmpty())
        out.score = sum / double(out.labels.size());
    return out;
}

} // namespace loopdeck::model
