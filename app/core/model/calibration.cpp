#include "core/model/calibration.h"

#include <algorithm>
#include <cmath>

namespace loopdeck::model {
namespace {

double sigmoid(double x)
{
    if (x >= 0)
        return 1.0 / (1.0 + std::exp(-x));
    const double e = std::exp(x);
    return e / (1.0 + e);
}

// Log-loss of softmax(a d) over all rows against smoothed targets (Platt's idea for several
// classes): the true class 1 - eps, the others eps / (k - 1), eps = 1 / (n + 2). Keeps a finite on
// separable data, where the plain log-loss would push it to infinity (and scores to exactly 1).
double softmaxLoss(const std::vector<double> &d, std::size_t k, const std::vector<int> &truth, double a)
{
    double loss = 0.0;
    const std::size_t n = truth.size();
    const double eps = 1.0 / (static_cast<double>(n) + 2.0);
    const double other = k > 1 ? eps / static_cast<double>(k - 1) : 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const double *row = d.data() + i * k;
        double m = -1e300;
        for (std::size_t c = 0; c < k; ++c)
            m = std::max(m, a * row[c]);
        double s = 0.0;
        for (std::size_t c = 0; c < k; ++c)
            s += std::exp(a * row[c] - m);
        double target = 0.0;
        for (std::size_t c = 0; c < k; ++c)
            target += (static_cast<int>(c) == truth[i] ? 1.0 - eps : other) * a * row[c];
        loss += m + std::log(s) - target;
    }
    return loss;
}

} // namespace

double PlattScale::probability(double decision) const
{
    return sigmoid(a * decision + b);
}

PlattScale fitPlatt(const std::vector<double> &decisions, const std::vector<char> &positive)
{
    const std::size_t n = decisions.size();
    double prior1 = 0, prior0 = 0;
    for (char p : positive)
        (p ? prior1 : prior0) += 1.0;
    PlattScale s;
    const double hi = (prior1 + 1.0) / (prior1 + 2.0);
    const double lo = 1.0 / (prior0 + 2.0);
    if (prior1 == 0.0 || prior0 == 0.0) {
        const double p = (prior1 + 0.5) / (n + 1.0);
        s.a = 1.0;
        s.b = std::log(p / (1.0 - p));
        return s;
    }
    // Newton with backtracking on F(A, B) = sum t log(1 + e^-f) + (1 - t) log(1 + e^f),
    // f = A d + B, in Platt's parameterisation p = 1 / (1 + exp(A d + B)) (so a = -A, b = -B).
    double A = 0.0, B = std::log((prior0 + 1.0) / (prior1 + 1.0));
    auto loss = [&](double a, double b) {
        double f = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            const double t = positive[i] ? hi : lo;
            const double fApB = decisions[i] * a + b;
            if (fApB >= 0)
                f += t * fApB + std::log1p(std::exp(-fApB));
            else
                f += (t - 1.0) * fApB + std::log1p(std::exp(fApB));
        }
        return f;
    };
    double fval = loss(A, B);
    for (int it = 0; it < 100; ++it) {
        double h11 = 1e-12, h22 = 1e-12, h21 = 0.0, g1 = 0.0, g2 = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            const double t = positive[i] ? hi : lo;
            const double fApB = decisions[i] * A + B;
            double p, q;
            if (fApB >= 0) {
                p = std::exp(-fApB) / (1.0 + std::exp(-fApB));
                q = 1.0 / (1.0 + std::exp(-fApB));
            } else {
                p = 1.0 / (1.0 + std::exp(fApB));
                q = std::exp(fApB) / (1.0 + std::exp(fApB));
            }
            const double d2 = p * q;
            h11 += decisions[i] * decisions[i] * d2;
            h22 += d2;
            h21 += decisions[i] * d2;
            const double d1 = t - p;
            g1 += decisions[i] * d1;
            g2 += d1;
        }
        if (std::fabs(g1) < 1e-5 && std::fabs(g2) < 1e-5)
            break;
        const double det = h11 * h22 - h21 * h21;
        const double dA = -(h22 * g1 - h21 * g2) / det;
        const double dB = -(-h21 * g1 + h11 * g2) / det;
        const double gd = g1 * dA + g2 * dB;
        double step = 1.0;
        bool moved = false;
        while (step >= 1e-10) {
            const double na = A + step * dA, nb = B + step * dB;
            const double nf = loss(na, nb);
            if (nf < fval + 1e-4 * step * gd) {
                A = na;
                B = nb;
                fval = nf;
                moved = true;
                break;
            }
            step /= 2.0;
        }
        if (!moved)
            break;
    }
    s.a = -A;
    s.b = -B;
    return s;
}

double fitTemperature(const std::vector<double> &decisions, std::size_t k, const std::vector<int> &truth)
{
    if (truth.empty() || k == 0)
        return 1.0;
    // Golden-section search over log a in [ln 0.01, ln 1000].
    double lo = std::log(0.01), hi = std::log(1000.0);
    const double g = (std::sqrt(5.0) - 1.0) / 2.0;
    double x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo);
    double f1 = softmaxLoss(decisions, k, truth, std::exp(x1));
    double f2 = softmaxLoss(decisions, k, truth, std::exp(x2));
    for (int it = 0; it < 60; ++it) {
        if (f1 < f2) {
            hi = x2;
            x2 = x1;
            f2 = f1;
            x1 = hi - g * (hi - lo);
            f1 = softmaxLoss(decisions, k, truth, std::exp(x1));
        } else {
            lo = x1;
            x1 = x2;
            f1 = f2;
            x2 = lo + g * (hi - lo);
            f2 = softmaxLoss(decisions, k, truth, std::exp(x2));
        }
    }
    return std::exp((lo + hi) / 2.0);
}

void softmaxScaled(const double *d, std::size_t k, double a, double *out)
{
    double m = -1e300;
    for (std::size_t c = 0; c < k; ++c)
        m = std::max(m, a * d[c]);
    double s = 0.0;
    for (std::size_t c = 0; c < k; ++c) {
        out[c] = std::exp(a * d[c] - m);
        s += out[c];
    }
    for (std::size_t c = 0; c < k; ++c)
        out[c] /= s;
}

double expectedCalibrationError(const std::vector<double> &confidence, const std::vector<char> &correct,
                                int bins)
{
    const std::size_t n = std::min(confidence.size(), correct.size());
    if (n == 0 || bins < 1)
        return 0.0;
    std::vector<double> conf(static_cast<std::size_t>(bins), 0.0), hit(static_cast<std::size_t>(bins), 0.0);
    std::vector<std::size_t> count(static_cast<std::size_t>(bins), 0);
    for (std::size_t i = 0; i < n; ++i) {
        const double p = std::clamp(confidence[i], 0.0, 1.0);
        const auto b = static_cast<std::size_t>(std::min(bins - 1, static_cast<int>(p * bins)));
        conf[b] += p;
        hit[b] += correct[i] ? 1.0 : 0.0;
        ++count[b];
    }
    double ece = 0.0;
    for (std::size_t b = 0; b < count.size(); ++b)
        if (count[b])
            ece += std::fabs(hit[b] - conf[b]) / static_cast<double>(n);
    return ece;
}

} // namespace loopdeck::model
