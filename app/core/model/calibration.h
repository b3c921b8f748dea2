#pragma once
// Turns linear decision values into probabilities that mean what they say, and measures how
// well they do. Fitted by TextClassifier::train() on out-of-fold decision values of its internal
// cross-validation; the measures are used by the evaluation helpers (metrics.h) and the tests.
//   Platt scaling (binary / one-vs-rest): p = 1 / (1 + exp(-(a d + b))), fitted by Newton's
//   method on the log-loss with Platt's smoothed targets (Lin, Lin & Weng 2007).
//   Temperature scaling (single-label, several classes): p = softmax(a d), a fitted by a
//   golden-section search on the log-loss (convex in a) against targets smoothed like Platt's.
// Pure functions, thread-safe.
#include <cstddef>
#include <vector>

namespace loopdeck::model {

struct PlattScale {
    double a = 1.0;
    double b = 0.0;
    double probability(double decision) const;
};

// decisions[i] with positive[i]; an empty input or one class only gives {a=1, b=0} adjusted to
// the base rate.
PlattScale fitPlatt(const std::vector<double> &decisions, const std::vector<char> &positive);

// decisions is row-major n x k; truth[i] in 0..k-1. Returns the factor a (> 0).
double fitTemperature(const std::vector<double> &decisions, std::size_t k, const std::vector<int> &truth);

// softmax(a * d) of one row of k decision values, written to out.
void softmaxScaled(const double *d, std::size_t k, double a, double *out);

// Expected calibration error with `bins` equal-width bins over the confidence: sum over bins of
// |bin| / n * |mean(correct) - mean(confidence)|. Confidence values outside [0, 1] are clamped.
double expectedCalibrationError(const std::vector<double> &confidence, const std::vector<char> &correct,
                                int bins = 10);

} // namespace loopdeck::model
