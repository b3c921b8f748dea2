#include "core/model/textclassifier.h"

#include "core/model/calibration.h"
#include "core/model/features.h"
#include "core/model/linearsolver.h"
#include "core/model/lsa.h"
#include "core/model/metrics.h"
#include "core/model/modelfile.h"

#include <QElapsedTimer>
#include <QtConcurrent/QtConcurrentMap>
#include <QtEndian>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <mutex>
#include <numeric>

// A read hint for the lookup tables (GCC and Clang); nothing elsewhere (MSVC).
#if defined(__GNUC__) || defined(__clang__)
#define LOOPDECK_PREFETCH(address) __builtin_prefetch(address)
#else
#define LOOPDECK_PREFETCH(address) ((void)(address))
#endif

namespace loopdeck::model {

// How decision values become probabilities.
enum class Calibration : quint8 {
    Legacy = 0,        // format 1: sigmoid per column, normalised for single-label
    Platt = 1,         // single-label, two classes: one Platt scale on the single column
    Temperature = 2,   // single-label, several classes: softmax(a d)
    PlattPerClass = 3, // multi-label: one Platt scale per class
};

// Immutable once built. weights is row-major: column-major would make predict() touch k
// cache lines per feature; row-major keeps one feature's k weights together.
struct TextClassifier::Impl {
    QStringList classes;
    TrainOptions options;
    ModelSelection selection;
    FeatureHasher hasher{20};
    TfidfModel tfidf;
    int columns = 0;            // 1 for single-label with two classes, else classes.size()
    std::vector<float> weights; // tfidf.size() x columns; moved into records by buildLookup()
    std::vector<float> bias;    // columns
    std::vector<float> steps;   // format 2: per column, weights are multiples of it (16-bit quantised)
    Calibration calibration = Calibration::Legacy;
    std::vector<double> calA, calB; // per column (Platt kinds); calA[0] for Temperature
    // Format 3, few labels with a pool: the LSA projection of the char n-gram buckets and the
    // weights of its dimensions (lsa.dimensions x columns, row-major, not quantised).
    LsaProjection lsa;
    std::vector<float> lsaWeights;
    // Adds the LSA features' contribution of a text (its buckets ascending) to decision.
    void addPool(const std::uint32_t *sortedBuckets, std::size_t count, double *decision) const;

    // What predict() reads, built once by buildLookup() when training or loading ends.
    // records: per feature, in vocabulary (bucket) order, its bucket, its idf and its `columns`
    // weights side by side (2 + columns 32-bit words), so a known feature is read from one
    // place, usually one cache line; then one sentinel record (bucket 0xFFFFFFFF) and one record
    // of zeros, what an unknown bucket is scored with (it adds exact zeros). directory: for each
    // of the 2^bits equal slices of the bucket range, the index of its first record (plus one
    // end entry); hashed buckets spread evenly, so a slice holds about four records, and a
    // bucket is found in its slice by searchSteps branch-free halving steps. A text's buckets
    // come sorted, so both are read in ascending order and can be prefetched ahead. No binary
    // search over the whole vocabulary.
    std::vector<std::uint32_t> records; // (tfidf.size() + 2) x stride(): bucket, idf, weights (float bits)
    std::vector<std::uint32_t> directory;
    int directoryShift = 0;       // bucket >> directoryShift = slice
    std::uint32_t searchStep = 0; // largest halving step: 2 x searchStep > the longest slice

    void buildLookup();
    std::size_t stride() const { return static_cast<std::size_t>(columns) + 2; }
    float weight(std::size_t feature, std::size_t column) const
    {
        return std::bit_cast<float>(records[feature * stride() + 2 + column]);
    }
    // Probabilities, labels and score from the decision values (columns of them).
    Prediction finish(const double *decision) const;
};

void TextClassifier::Impl::buildLookup()
{
    const auto &buckets = tfidf.buckets();
    const auto &idf = tfidf.idf();
    const std::size_t n = buckets.size();
    const auto k = static_cast<std::size_t>(columns);
    const std::size_t st = stride();
    records.assign((n + 2) * st, 0);
    for (std::size_t f = 0; f < n; ++f) {
        std::uint32_t *r = records.data() + f * st;
        r[0] = buckets[f];
        r[1] = std::bit_cast<std::uint32_t>(idf[f]);
        for (std::size_t c = 0; c < k; ++c)
            r[2 + c] = std::bit_cast<std::uint32_t>(weights[f * k + c]);
    }
    records[n * st] = 0xFFFFFFFFu; // sentinel: above every bucket (< 2^29)
    weights = {};                  // records hold them now
    // Every bucket is < 2^rangeBits (checked on load); about four records per slice.
    const int rangeBits = hasher.rangeBits();
    const int bits = std::clamp(static_cast<int>(std::bit_width(n)) - 2, 0, rangeBits);
    directoryShift = rangeBits - bits;
    directory.assign((std::size_t(1) << bits) + 1, 0);
    std::size_t f = 0;
    std::uint32_t longest = 0;
    for (std::size_t slice = 0; slice < directory.size(); ++slice) {
        while (f < n && (std::uint64_t(buckets[f]) >> directoryShift) < slice)
            ++f;
        directory[slice] = static_cast<std::uint32_t>(f);
        if (slice > 0)
            longest = std::max(longest, directory[slice] - directory[slice - 1]);
    }
    directory.back() = static_cast<std::uint32_t>(n);
    if (directory.size() >= 2)
        longest = std::max(longest, directory.back() - directory[directory.size() - 2]);
    searchStep = longest == 0 ? 0 : std::bit_floor(longest);
}

namespace {

constexpr char kPayloadKindV1[5] = "TXTC";
constexpr char kPayloadKindV2[5] = "TXC2";
constexpr char kPayloadKindV3[5] = "TXC3";
// The LSA representation of the pool (few labels): dimensions, the document frequency a bucket
// needs, the texts (labelled + pool) it needs, the most dimensions a model file may hold.
constexpr int kLsaDimensions = 50;
constexpr std::uint32_t kLsaMinDf = 5;
constexpr std::size_t kLsaMinTexts = 200;
constexpr quint32 kLsaMaxDimensions = 1024;
// Candidate C values for the cross-validation, ascending (each solve warm-starts the next).
constexpr double kCGrid[] = {0.25, 0.6, 1.5, 4.0};
constexpr double kDefaultC = 0.6; // when there is too little data for cross-validation
constexpr double kCvEps = 0.2;    // solver tolerance inside the cross-validation (final: 0.1)
// Above this many non-zeros x columns, C and the weighting are chosen on a stratified sample.
constexpr std::size_t kCvWorkBudget = 8'000'000;
// Cross-validation solvers (weights, per-row state, NB-scaled values) stay alive from one C to the
// next while their estimated size fits in this; otherwise they are rebuilt from their duals.
constexpr std::size_t kCvSolverMemory = std::size_t(256) << 20;
constexpr std::size_t kSelfTrainingMaxLabels = 1000; // self-train only with fewer labels
constexpr int kSelfTrainingRounds = 2;
constexpr std::size_t kPlattBiasMinExamples = 1000; // below: Platt scale without the bias
constexpr int kSelfTrainingFactor = 4; // pseudo-labels per label added in each round
constexpr std::uint64_t kSolverSeed = 0x4c6f6f704465636bull; // "LoopDeck"
constexpr quint32 kFoldSeed = 20240601;

void setError(QString *error, const QString &message)
{
    if (error)
        *error = message;
}

double sigmoid(double x)
{
    if (x >= 0)
        return 1.0 / (1.0 + std::exp(-x));
    const double e = std::exp(x);
    return e / (1.0 + e);
}

// --- big-endian byte writer/reader for the payload -------------------------------------

class Writer
{
public:
    void u8(quint8 v) { m_out.append(static_cast<char>(v)); }
    void u32(quint32 v)
    {
        char b[4];
        qToBigEndian(v, b);
        m_out.append(b, 4);
    }
    void u64(quint64 v)
    {
        char b[8];
        qToBigEndian(v, b);
        m_out.append(b, 8);
    }
    void f32(float v) { u32(std::bit_cast<quint32>(v)); }
    void f64(double v) { u64(std::bit_cast<quint64>(v)); }
    void varint(quint32 v)
    {
        while (v >= 0x80) {
            m_out.append(static_cast<char>((v & 0x7F) | 0x80));
            v >>= 7;
        }
        m_out.append(static_cast<char>(v));
    }
    void bytes(const QByteArray &b)
    {
        u32(static_cast<quint32>(b.size()));
        m_out.append(b);
    }
    void raw(const char *data, qsizetype n) { m_out.append(data, n); }
    QByteArray take() { return std::move(m_out); }

private:
    QByteArray m_out;
};

class Reader
{
public:
    explicit Reader(const QByteArray &in) : m_in(in) {}
    bool ok() const { return m_ok; }
    bool atEnd() const { return m_pos == m_in.size(); }
    qsizetype remaining() const { return m_in.size() - m_pos; }

    quint8 u8() { return need(1) ? static_cast<quint8>(m_in[m_pos++]) : 0; }
    quint32 u32()
    {
        if (!need(4))
            return 0;
        const auto v = qFromBigEndian<quint32>(m_in.constData() + m_pos);
        m_pos += 4;
        return v;
    }
    quint64 u64()
    {
        if (!need(8))
            return 0;
        const auto v = qFromBigEndian<quint64>(m_in.constData() + m_pos);
        m_pos += 8;
        return v;
    }
    float f32() { return std::bit_cast<float>(u32()); }
    double f64() { return std::bit_cast<double>(u64()); }
    quint32 varint()
    {
        quint32 v = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            if (!need(1))
                return 0;
            const auto b = static_cast<quint8>(m_in[m_pos++]);
            if (shift == 28 && (b & 0xF0)) {
                m_ok = false; // more than 32 bits
                return 0;
            }
            v |= quint32(b & 0x7F) << shift;
            if (!(b & 0x80))
                return v;
        }
        m_ok = false;
        return 0;
    }
    QByteArray bytes()
    {
        const quint32 n = u32();
        if (!need(n))
            return {};
        QByteArray b = m_in.mid(m_pos, n);
        m_pos += n;
        return b;
    }
    QByteArray raw(qsizetype n)
    {
        if (!need(n))
            return {};
        QByteArray b = m_in.mid(m_pos, n);
        m_pos += n;
        return b;
    }

private:
    bool need(qint64 n)
    {
        if (!m_ok || n < 0 || n > remaining()) {
            m_ok = false;
            return false;
        }
        return true;
    }

    const QByteArray &m_in;
    qsizetype m_pos = 0;
    bool m_ok = true;
};

// --- training ---------------------------------------------------------------------------

// Progress over a known number of steps; the callback runs under a mutex.
class ProgressMeter
{
public:
    ProgressMeter(const TrainProgress &callback, int total) : m_callback(callback), m_total(std::max(total, 1)) {}
    void step()
    {
        std::lock_guard lock(m_mutex);
        ++m_done;
        if (m_callback && !m_cancel.load() && !m_callback(std::min(0.99, static_cast<double>(m_done) / m_total)))
            m_cancel.store(true);
    }
    bool finish()
    {
        std::lock_guard lock(m_mutex);
        if (m_callback && !m_cancel.load() && !m_callback(1.0))
            m_cancel.store(true);
        return !m_cancel.load();
    }
    bool start()
    {
        if (m_callback && !m_callback(0.0))
            m_cancel.store(true);
        return !m_cancel.load();
    }
    const std::atomic<bool> *flag() const { return &m_cancel; }
    bool cancelled() const { return m_cancel.load(); }

private:
    const TrainProgress &m_callback;
    const int m_total;
    int m_done = 0;
    std::atomic<bool> m_cancel{false};
    std::mutex m_mutex;
};

struct Setting {
    FeatureWeighting weighting;
    std::size_t cIndex;
};

// Out-of-fold accuracy of decision values (n x columns).
double oofAccuracy(const std::vector<double> &dec, int columns, const QList<Example> &examples,
                   const QStringList &classes, bool multiLabel)
{
    const auto k = static_cast<std::size_t>(columns);
    int correct = 0;
    for (qsizetype i = 0; i < examples.size(); ++i) {
        const double *d = dec.data() + static_cast<std::size_t>(i) * k;
        const QStringList &truth = examples[i].labels;
        if (multiLabel) {
            bool ok = true;
            for (std::size_t c = 0; c < k && ok; ++c)
                ok = (d[c] > 0.0) == truth.contains(classes[static_cast<qsizetype>(c)]);
            correct += ok;
        } else if (k == 1) {
            correct += classes[d[0] > 0.0 ? 1 : 0] == truth.first();
        } else {
            const auto best = static_cast<qsizetype>(std::max_element(d, d + k) - d);
            correct += classes[best] == truth.first();
        }
    }
    return examples.isEmpty() ? 0.0 : static_cast<double>(correct) / examples.size();
}

} // namespace

TextClassifier::TextClassifier(std::unique_ptr<Impl> impl)
    : d([](std::unique_ptr<Impl> i) {
          i->buildLookup();
          return i;
      }(std::move(impl)))
{
}

TextClassifier::~TextClassifier() = default;

std::shared_ptr<const TextClassifier> TextClassifier::train(const QList<Example> &examples,
                                                           const TrainOptions &options, QString *error,
                                                           const QStringList &unlabeled,
                                                           const TrainProgress &progress,
                                                           TrainReport *report)
{
    if (report)
        *report = {}; // filled only when training succeeds
    if (examples.isEmpty()) {
        setError(error, QStringLiteral("There are no examples to train on."));
        return nullptr;
    }
    if (!(options.c >= 0.0) || !std::isfinite(options.c)) {
        setError(error, QStringLiteral("The regularisation constant C must be a positive number, or 0 to "
                                       "choose it by cross-validation (got %1).")
                            .arg(options.c));
        return nullptr;
    }
    if (!(options.threshold > 0.0 && options.threshold < 1.0)) {
        setError(error, QStringLiteral("The multi-label threshold must be between 0 and 1 (got %1).")
                            .arg(options.threshold));
        return nullptr;
    }
    if (options.hashBits < FeatureHasher::kMinHashBits || options.hashBits > FeatureHasher::kMaxHashBits) {
        setError(error, QStringLiteral("hashBits must be between %1 and %2 (got %3).")
                            .arg(FeatureHasher::kMinHashBits)
                            .arg(FeatureHasher::kMaxHashBits)
                            .arg(options.hashBits));
        return nullptr;
    }
    if (options.folds < 2 || options.folds > 20) {
        setError(error, QStringLiteral("The cross-validation folds must be between 2 and 20 (got %1).")
                            .arg(options.folds));
        return nullptr;
    }
    QStringList classes;
    for (qsizetype i = 0; i < examples.size(); ++i) {
        const QStringList &labels = examples[i].labels;
        if (!options.multiLabel && labels.size() != 1) {
            setError(error, QStringLiteral("Example %1 has %2 labels, but single-label training needs "
                                           "exactly one per example (train a multi-label model instead).")
                                .arg(i + 1)
                                .arg(labels.size()));
            return nullptr;
        }
        for (const QString &l : labels) {
            if (l.isEmpty()) {
                setError(error, QStringLiteral("Example %1 has an empty label.").arg(i + 1));
                return nullptr;
            }
            classes.append(l);
        }
    }
    classes.sort();
    classes.removeDuplicates();
    if (classes.size() < 2) {
        setError(error, classes.isEmpty()
                            ? QStringLiteral("The examples carry no labels, so there is nothing to learn.")
                            : QStringLiteral("All examples have the label \"%1\"; a classifier needs at "
                                             "least two different labels.")
                                  .arg(classes.first()));
        return nullptr;
    }
    auto cancelled = [error] {
        setError(error, QStringLiteral("Training was cancelled."));
        return nullptr;
    };

    auto impl = std::make_unique<Impl>();
    impl->classes = classes;
    impl->options = options;
    impl->hasher = FeatureHasher(options.hashBits, options.charGrams);
    const bool oneColumn = !options.multiLabel && classes.size() == 2;
    impl->columns = oneColumn ? 1 : static_cast<int>(classes.size());
    const int k = impl->columns;
    const auto n = static_cast<std::size_t>(examples.size());

    // Cross-validation plan: settings x folds x columns solver paths.
    const bool tuneC = options.c == 0.0;
    std::vector<double> cs;
    if (tuneC)
        cs.assign(std::begin(kCGrid), std::end(kCGrid));
    else
        cs = {options.c};
    std::vector<FeatureWeighting> weightings;
    if (options.weighting == FeatureWeighting::Auto || options.weighting == FeatureWeighting::Mixed)
        weightings = {FeatureWeighting::Plain, FeatureWeighting::NaiveBayes};
    else
        weightings = {options.weighting};
    const int folds = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(options.folds), n / 2));
    const bool crossValidate = folds >= 2 && n >= 6;
    const int cvSteps = crossValidate ? folds * k * static_cast<int>(weightings.size() * cs.size() + 1) : 0;
    ProgressMeter meter(progress, 2 + cvSteps + k);
    if (!meter.start())
        return cancelled();
    QElapsedTimer stage;
    stage.start();
    TrainReport made;
    std::atomic<long long> visits{0}; // rows the solvers visited, added from the worker threads

    // Tokenise and count in parallel, each text's counts in its place.
    const FeatureHasher hasher = impl->hasher;
    const auto countAll = [&hasher](qsizetype size, const auto &textAt) {
        std::vector<TermCounts> out(static_cast<std::size_t>(size));
        std::vector<qsizetype> rows(static_cast<std::size_t>(size));
        std::iota(rows.begin(), rows.end(), qsizetype(0));
        QtConcurrent::blockingMap(rows, [&](qsizetype i) { hasher.countTextInto(textAt(i), out[static_cast<std::size_t>(i)]); });
        return out;
    };
    const std::vector<TermCounts> counts = countAll(examples.size(), [&](qsizetype i) -> const QString & { return examples[i].text; });
    std::vector<TermCounts> unlabeledCounts = countAll(unlabeled.size(), [&](qsizetype i) -> const QString & { return unlabeled[i]; });
    meter.step();
    if (meter.cancelled())
        return cancelled();
    const std::uint32_t minDf = counts.size() + unlabeledCounts.size() >= 1000 ? 2 : 1;
    impl->tfidf = TfidfModel::fit(counts, unlabeledCounts, hasher.rangeBits(), minDf);
    impl->tfidf.setBlockBits(hasher.hashBits());
    const std::size_t featureCount = impl->tfidf.size();
    // LSA of the char n-grams over labelled + pool texts (few labels only): dense columns
    // featureCount .. featureCount + lsaDims - 1, never NB-scaled.
    if (options.poolRepresentation && options.charGrams && !options.multiLabel && !unlabeledCounts.empty()
        && n < kSelfTrainingMaxLabels && n + unlabeledCounts.size() >= kLsaMinTexts) {
        const std::uint32_t charStart = std::uint32_t(1) << hasher.hashBits();
        std::vector<std::vector<std::uint32_t>> documents;
        documents.reserve(n + unlabeledCounts.size());
        for (const std::vector<TermCounts> *list : {&counts, static_cast<const std::vector<TermCounts> *>(&unlabeledCounts)}) {
            for (const TermCounts &tc : *list) {
                std::vector<std::uint32_t> b;
                for (const auto &[bucket, count] : tc)
                    if (bucket >= charStart)
                        b.push_back(bucket);
                documents.push_back(std::move(b));
            }
        }
        impl->lsa = fitLsa(documents, kLsaDimensions, kLsaMinDf, static_cast<std::size_t>(kLsaDimensions) + 10);
        if (meter.cancelled())
            return cancelled();
    }
    const auto lsaDims = static_cast<std::size_t>(impl->lsa.dimensions);
    const std::size_t totalColumns = featureCount + lsaDims;
    // Self-training (single-label, few labels): the unlabelled rows follow the labelled ones.
    const bool selfTrain = options.selfTraining && !options.multiLabel && !unlabeledCounts.empty()
        && n < kSelfTrainingMaxLabels;
    const std::size_t rowCount = n + (selfTrain ? unlabeledCounts.size() : 0);
    const auto countsOf = [&](std::size_t i) -> const TermCounts & { return i < n ? counts[i] : unlabeledCounts[i - n]; };
    TfidfModel::ExtraEntries lsaEntries;
    if (lsaDims > 0) {
        lsaEntries = [&](std::size_t i, std::vector<std::uint32_t> &columns, std::vector<float> &values) {
            const TermCounts &tc = countsOf(i);
            std::vector<std::uint32_t> buckets(tc.size());
            for (std::size_t j = 0; j < tc.size(); ++j)
                buckets[j] = tc[j].first;
            std::vector<float> z(lsaDims);
            impl->lsa.project(buckets.data(), buckets.size(), z.data());
            for (std::size_t dim = 0; dim < lsaDims; ++dim) {
                if (z[dim] != 0.0f) {
                    columns.push_back(static_cast<std::uint32_t>(featureCount + dim));
                    values.push_back(z[dim]);
                }
            }
        };
    }
    const CsrMatrix x = impl->tfidf.transformAll(rowCount, countsOf, hasher.rangeBits(), totalColumns, lsaEntries);
    unlabeledCounts.clear();
    const std::size_t totalRows = x.rows();
    meter.step();
    made.featuresMs = stage.restart();

    // Targets of each column: a single column learns "second class vs first"; otherwise one
    // class vs the rest.
    std::vector<std::vector<char>> targets(static_cast<std::size_t>(k), std::vector<char>(totalRows, 0));
    for (int c = 0; c < k; ++c) {
        const QString &cls = classes[oneColumn ? 1 : c];
        for (std::size_t i = 0; i < n; ++i)
            targets[static_cast<std::size_t>(c)][i] = examples[static_cast<qsizetype>(i)].labels.contains(cls) ? 1 : 0;
    }

    Setting chosen{weightings.front(), tuneC ? std::size_t(2) : std::size_t(0)};
    if (!tuneC)
        chosen.cIndex = 0;
    else
        chosen.cIndex = static_cast<std::size_t>(std::find(cs.begin(), cs.end(), kDefaultC) - cs.begin());
    if (options.weighting != FeatureWeighting::Auto)
        chosen.weighting = options.weighting;
    double cvAccuracy = -1.0;
    std::vector<double> chosenOof;
    std::vector<int> chosenFoldOf; // the fold of each row of chosenOof
    int cValuesTried = 0;
    // The cross-validation runs on all examples, or on a stratified sample of them when the
    // feature matrix is large (kCvWorkBudget), to bound its time.
    std::vector<std::uint32_t> cvIndex;
    QList<Example> cvExamples;
    const std::size_t cvWork = x.value.size() * static_cast<std::size_t>(k); // non-zeros x columns
    const std::size_t workBudget = options.cvWorkBudget > 0 ? options.cvWorkBudget : kCvWorkBudget;
    // Nothing to choose (C and the weighting given): the cross-validation only calibrates and
    // predicts out of fold, on all examples.
    const bool selects = tuneC || options.weighting == FeatureWeighting::Auto;
    if (selects && cvWork > workBudget && n >= 2000) {
        const int parts = static_cast<int>((cvWork + workBudget - 1) / workBudget);
        const std::vector<int> part = assignFolds(examples, parts, kFoldSeed + 1);
        for (std::size_t i = 0; i < n; ++i)
            if (part[i] == 0)
                cvIndex.push_back(static_cast<std::uint32_t>(i));
    } else {
        cvIndex.resize(n);
        std::iota(cvIndex.begin(), cvIndex.end(), 0u);
    }
    std::size_t m = cvIndex.size();
    for (std::uint32_t i : cvIndex)
        cvExamples.append(examples[static_cast<qsizetype>(i)]);
    std::vector<std::vector<char>> cvTargets(static_cast<std::size_t>(k), std::vector<char>(m, 0));
    for (std::size_t c = 0; c < static_cast<std::size_t>(k); ++c)
        for (std::size_t j = 0; j < m; ++j)
            cvTargets[c][j] = targets[c][cvIndex[j]];
    using Oof = std::vector<std::vector<std::vector<double>>>; // [weighting][c] -> rows x k
    // Out-of-fold decision values over the examples index[] for every weighting and C, one C at a
    // time for all folds, weightings and columns at once (in parallel), each solver warm-started
    // from its solution at the previous C. When every candidate that can be chosen is less
    // accurate at a C than at the one before, by more than one example (accuracy falls as C
    // grows), the larger C values are not tried. The dual solutions at every C are kept, to
    // warm-start the final model from them.
    struct CvRun {
        Oof oof;                  // [weighting][c] -> rows x k; levels C values filled
        std::size_t levels = 0;   // C values solved: grid[0 .. levels)
        std::vector<int> foldOf;  // per row of index[]
        // Per C solved: the out-of-fold accuracy of each candidate (each weighting, then the
        // plain+NB average when both ran).
        std::vector<std::vector<double>> accuracy;
        // Per task (fold, weighting, column; see taskOf) and C: the dual solution over the
        // fold's training rows (index[] order, test rows left out).
        std::vector<std::vector<std::vector<float>>> alpha;
        std::size_t taskOf(int fold, std::size_t w, int column, std::size_t weightings, int k) const
        {
            return (static_cast<std::size_t>(fold) * weightings + w) * static_cast<std::size_t>(k) + static_cast<std::size_t>(column);
        }
    };
    // The Mixed weighting's decision values: the average of the plain and the NB ones.
    const auto averaged = [](const std::vector<double> &plain, const std::vector<double> &nb) {
        std::vector<double> mixed(plain.size());
        for (std::size_t j = 0; j < mixed.size(); ++j)
            mixed[j] = 0.5 * (plain[j] + nb[j]);
        return mixed;
    };
    const auto candidateAccuracies = [&](const Oof &oof, std::size_t ci, const QList<Example> &on) {
        std::vector<double> acc;
        for (const auto &w : oof)
            acc.push_back(oofAccuracy(w[ci], k, on, classes, options.multiLabel));
        if (oof.size() == 2)
            acc.push_back(oofAccuracy(averaged(oof[0][ci], oof[1][ci]), k, on, classes, options.multiLabel));
        return acc;
    };
    // The earlier training's duals for a weighting's part and a column, when given and shaped
    // for these examples.
    const auto shapedPart = [&](const WarmStart::Parts &parts, FeatureWeighting w, int column) -> const std::vector<float> * {
        const std::size_t part = w == FeatureWeighting::NaiveBayes ? 1 : 0;
        if (part >= parts.size() || static_cast<std::size_t>(column) >= parts[part].size()
            || parts[part][static_cast<std::size_t>(column)].size() != n)
            return nullptr;
        return &parts[part][static_cast<std::size_t>(column)];
    };
    const auto warmPart = [&](FeatureWeighting w, int column) -> const std::vector<float> * {
        return options.warmStart ? shapedPart(options.warmStart->final, w, column) : nullptr;
    };
    // A fold solver's starting point: that fold's earlier solution when the folds are the earlier
    // training's, else the earlier final model's.
    const auto warmFold = [&](bool sameFolds, int fold, FeatureWeighting w, int column) -> const std::vector<float> * {
        const std::vector<float> *start =
            sameFolds ? shapedPart(options.warmStart->folds[static_cast<std::size_t>(fold)], w, column) : nullptr;
        return start ? start : warmPart(w, column);
    };
    // The earlier training's folds, when they fit these examples (every fold non-empty).
    const bool warmFolds = [&] {
        if (!options.warmStart || options.warmStart->foldOf.size() != n
            || options.warmStart->folds.size() != static_cast<std::size_t>(folds))
            return false;
        std::vector<std::size_t> size(static_cast<std::size_t>(folds), 0);
        for (int f : options.warmStart->foldOf) {
            if (f < 0 || f >= folds)
                return false;
            ++size[static_cast<std::size_t>(f)];
        }
        return std::find(size.begin(), size.end(), std::size_t(0)) == size.end();
    }();
    auto crossValidateOn = [&](const std::vector<std::uint32_t> &index, const std::vector<FeatureWeighting> &ws,
                               const std::vector<double> &grid) {
        const std::size_t rows = index.size();
        QList<Example> subset;
        for (std::uint32_t i : index)
            subset.append(examples[static_cast<qsizetype>(i)]);
        CvRun run;
        // All examples in their order with the earlier training's folds: those folds, so their
        // solutions are the solvers' starting points.
        const bool sameFolds = warmFolds && rows == n;
        run.foldOf = sameFolds ? options.warmStart->foldOf : assignFolds(subset, folds, kFoldSeed);
        run.oof.assign(ws.size(), std::vector<std::vector<double>>(grid.size()));
        const std::size_t taskCount = static_cast<std::size_t>(folds) * ws.size() * static_cast<std::size_t>(k);
        run.alpha.assign(taskCount, {});
        std::vector<std::size_t> taskIds(taskCount);
        std::iota(taskIds.begin(), taskIds.end(), std::size_t(0));
        // Solvers live from one C to the next when they fit in the budget; otherwise each C
        // rebuilds them from the kept dual solutions (and their NB scales, which are cheap).
        std::size_t nnz = 0;
        for (std::uint32_t i : index)
            nnz += x.start[i + 1] - x.start[i];
        const std::size_t trainNnz = nnz * static_cast<std::size_t>(folds - 1) / static_cast<std::size_t>(folds);
        std::size_t solverBytes = 0; // weights, per-row state, and the scaled values of NB solvers
        for (FeatureWeighting w : ws)
            solverBytes += static_cast<std::size_t>(folds * k)
                * (featureCount * 8 + rows * 40 + (w == FeatureWeighting::NaiveBayes ? trainNnz * 4 + featureCount * 4 : 0));
        const bool keepSolvers =
            grid.size() > 1 && solverBytes <= (options.cvSolverMemory > 0 ? options.cvSolverMemory : kCvSolverMemory);
        std::vector<std::unique_ptr<DualSvm>> solvers(taskCount);
        std::vector<std::vector<float>> scales(taskCount);
        std::vector<double> previous;
        for (std::size_t ci = 0; ci < grid.size(); ++ci) {
            for (auto &w : run.oof)
                w[ci].assign(rows * static_cast<std::size_t>(k), 0.0);
            QtConcurrent::blockingMap(taskIds, [&](std::size_t t) {
                if (meter.cancelled())
                    return;
                const int column = static_cast<int>(t % static_cast<std::size_t>(k));
                const std::size_t w = (t / static_cast<std::size_t>(k)) % ws.size();
                const int fold = static_cast<int>(t / (static_cast<std::size_t>(k) * ws.size()));
                std::vector<std::uint32_t> testRows;
                for (std::size_t j = 0; j < rows; ++j)
                    if (run.foldOf[j] == fold)
                        testRows.push_back(static_cast<std::uint32_t>(j));
                std::vector<float> scale; // the NB scale of a solver rebuilt for this C only
                if (!solvers[t]) {
                    std::vector<std::uint32_t> trainRows;
                    std::vector<char> positive;
                    const std::vector<char> &y = targets[static_cast<std::size_t>(column)];
                    for (std::size_t j = 0; j < rows; ++j) {
                        if (run.foldOf[j] != fold) {
                            trainRows.push_back(index[j]);
                            positive.push_back(y[index[j]]);
                        }
                    }
                    std::vector<float> &kept = keepSolvers ? scales[t] : scale;
                    if (ws[w] == FeatureWeighting::NaiveBayes)
                        kept = nbRatios(x, trainRows, positive, featureCount); // dense LSA columns unscaled
                    solvers[t] = std::make_unique<DualSvm>(x, std::move(trainRows), std::move(positive),
                                                           kept.empty() ? nullptr : kept.data(),
                                                           kSolverSeed + static_cast<std::uint64_t>(fold * 7919 + column));
                    if (ci > 0) {
                        solvers[t]->startFrom(run.alpha[t].back());
                    } else if (const auto *warm = warmFold(sameFolds, fold, ws[w], column)) {
                        std::vector<float> start;
                        start.reserve(rows);
                        for (std::size_t j = 0; j < rows; ++j)
                            if (run.foldOf[j] != fold)
                                start.push_back((*warm)[index[j]]);
                        solvers[t]->startFrom(start);
                    }
                }
                DualSvm &svm = *solvers[t];
                const bool solved = svm.solve(grid[ci], meter.flag(), kCvEps);
                visits += svm.lastVisits();
                if (!solved)
                    return;
                std::vector<double> &out = run.oof[w][ci];
                for (std::uint32_t j : testRows)
                    out[static_cast<std::size_t>(j) * static_cast<std::size_t>(k) + static_cast<std::size_t>(column)] =
                        svm.decision(index[j]);
                run.alpha[t].emplace_back(svm.alpha().begin(), svm.alpha().end());
                if (!keepSolvers || ci + 1 == grid.size()) {
                    solvers[t].reset();
                    scales[t] = {};
                }
                meter.step();
            });
            if (meter.cancelled())
                return run;
            run.levels = ci + 1;
            run.accuracy.push_back(candidateAccuracies(run.oof, ci, subset));
            if (ci + 1 == grid.size())
                break;
            const std::vector<double> &acc = run.accuracy.back();
            // Candidates the options allow: a fixed Mixed weighting is only chosen as the average.
            const double oneExample = 1.0 / static_cast<double>(std::max<std::size_t>(rows, 1));
            bool anyHeld = ci == 0;
            for (std::size_t a = 0; a < acc.size() && !anyHeld; ++a)
                if (options.weighting != FeatureWeighting::Mixed || a == 2)
                    anyHeld = acc[a] >= previous[a] - 1.5 * oneExample;
            previous = acc;
            if (!anyHeld) {
                for (auto &solver : solvers)
                    solver.reset();
                for (std::size_t skipped = (grid.size() - ci - 1) * taskCount; skipped > 0; --skipped)
                    meter.step();
                break;
            }
        }
        return run;
    };
    // The final model's warm start for one weighting and column: each row's dual value averaged
    // over the folds that trained on it, at C index ci (rows outside the run stay at zero).
    const auto warmStartFrom = [&](const CvRun &run, const std::vector<std::uint32_t> &index, std::size_t weightingsRun,
                                   std::size_t w, std::size_t ci, int column) {
        std::vector<float> sum(n, 0.0f);
        std::vector<std::uint8_t> count(n, 0);
        for (int f = 0; f < folds; ++f) {
            const std::vector<float> &a = run.alpha[run.taskOf(f, w, column, weightingsRun, k)][ci];
            std::size_t p = 0;
            for (std::size_t j = 0; j < index.size(); ++j) {
                if (run.foldOf[j] == f)
                    continue;
                sum[index[j]] += a[p++];
                ++count[index[j]];
            }
        }
        for (std::size_t i = 0; i < n; ++i)
            if (count[i] > 0)
                sum[i] /= static_cast<float>(count[i]);
        return sum;
    };
    // Dual starting points of the final model per [part (plain, NB)][column]; empty = from zero.
    std::vector<std::vector<std::vector<float>>> finalStart(2, std::vector<std::vector<float>>(static_cast<std::size_t>(k)));
    const auto keepStartsOf = [&](const CvRun &run, const std::vector<std::uint32_t> &index,
                                  const std::vector<FeatureWeighting> &ws, std::size_t ci) {
        for (std::size_t w = 0; w < ws.size(); ++w) {
            const std::size_t part = ws[w] == FeatureWeighting::NaiveBayes ? 1 : 0;
            for (int col = 0; col < k; ++col)
                finalStart[part][static_cast<std::size_t>(col)] = warmStartFrom(run, index, ws.size(), w, ci, col);
        }
        // The folds' solutions per example, for a later training's warm start (all examples only;
        // only the parts the chosen weighting uses; not without a report to hand them to).
        if (index.size() != n || !report)
            return;
        made.solution.foldOf = run.foldOf;
        made.solution.folds.assign(static_cast<std::size_t>(folds),
                                   WarmStart::Parts(2, std::vector<std::vector<float>>(static_cast<std::size_t>(k))));
        for (int f = 0; f < folds; ++f) {
            for (std::size_t w = 0; w < ws.size(); ++w) {
                const std::size_t part = ws[w] == FeatureWeighting::NaiveBayes ? 1 : 0;
                if (chosen.weighting != FeatureWeighting::Mixed && chosen.weighting != ws[w])
                    continue;
                for (int col = 0; col < k; ++col) {
                    const std::vector<float> &a = run.alpha[run.taskOf(f, w, col, ws.size(), k)][ci];
                    std::vector<float> &out = made.solution.folds[static_cast<std::size_t>(f)][part][static_cast<std::size_t>(col)];
                    out.assign(n, 0.0f);
                    std::size_t p = 0;
                    for (std::size_t j = 0; j < n && p < a.size(); ++j)
                        if (run.foldOf[j] != f)
                            out[index[j]] = a[p++];
                }
            }
        }
    };
    if (crossValidate) {
        CvRun run = crossValidateOn(cvIndex, weightings, cs);
        if (meter.cancelled())
            return cancelled();
        if (selects)
            made.selectionExamples = static_cast<int>(m);
        cValuesTried = static_cast<int>(run.levels);
        // Candidates in order of preference (ties keep the earlier: plainer, more regularised):
        // each weighting at each C, then the plain+NB average at each C (C values not tried, as
        // they lost at a smaller C, are skipped). Their accuracies are the run's.
        std::vector<FeatureWeighting> candidates = weightings;
        if (weightings.size() == 2)
            candidates.push_back(FeatureWeighting::Mixed);
        for (std::size_t w = 0; w < candidates.size(); ++w) {
            if (options.weighting == FeatureWeighting::Mixed && candidates[w] != FeatureWeighting::Mixed)
                continue;
            for (std::size_t ci = 0; ci < run.levels; ++ci) {
                const double acc = run.accuracy[ci][w];
                if (acc > cvAccuracy) {
                    cvAccuracy = acc;
                    chosen = {candidates[w], ci};
                }
            }
        }
        if (chosen.weighting == FeatureWeighting::Mixed) {
            chosenOof = averaged(run.oof[0][chosen.cIndex], run.oof[1][chosen.cIndex]);
        } else {
            const auto wIndex = static_cast<std::size_t>(std::find(weightings.begin(), weightings.end(), chosen.weighting) - weightings.begin());
            chosenOof = std::move(run.oof[wIndex][chosen.cIndex]);
        }
        if (m < n) {
            // Selected on a sample: the calibration needs out-of-fold values of models trained on
            // as much data as the final one will see, so cross-validate the chosen setting on all.
            cvIndex.resize(n);
            std::iota(cvIndex.begin(), cvIndex.end(), 0u);
            cvExamples = examples;
            cvTargets = targets;
            m = n;
            const std::vector<FeatureWeighting> again = chosen.weighting == FeatureWeighting::Mixed
                ? weightings
                : std::vector<FeatureWeighting>{chosen.weighting};
            CvRun all = crossValidateOn(cvIndex, again, {cs[chosen.cIndex]});
            if (meter.cancelled())
                return cancelled();
            chosenOof = again.size() == 2 ? averaged(all.oof[0][0], all.oof[1][0]) : all.oof[0][0];
            keepStartsOf(all, cvIndex, again, 0);
            chosenFoldOf = all.foldOf;
        } else {
            keepStartsOf(run, cvIndex, weightings, chosen.cIndex);
            chosenFoldOf = run.foldOf;
        }
    }
    const double c = cs[chosen.cIndex];
    made.selectionMs = stage.restart();

    // Calibration on the out-of-fold decision values (fixed defaults without CV): fitted on the
    // rows listed (indices into chosenOof's rows).
    struct Fitted {
        std::vector<double> a, b;
    };
    const auto fitCalibration = [&](const std::vector<std::uint32_t> &on) {
        Fitted f;
        if (options.multiLabel || k == 1) {
            f.a.assign(static_cast<std::size_t>(k), 1.0);
            f.b.assign(static_cast<std::size_t>(k), 0.0);
            for (int col = 0; col < k; ++col) {
                std::vector<double> dc;
                std::vector<char> yc;
                for (std::uint32_t j : on) {
                    dc.push_back(chosenOof[j * static_cast<std::size_t>(k) + static_cast<std::size_t>(col)]);
                    yc.push_back(cvTargets[static_cast<std::size_t>(col)][j]);
                }
                PlattScale ps = fitPlatt(dc, yc);
                if (on.size() < kPlattBiasMinExamples && !options.multiLabel) {
                    // Few examples: a fitted bias would move the decision threshold on noise;
                    // fit only the scale (sigmoid(a d) = softmax(a [-d/2, d/2])).
                    std::vector<double> pairs;
                    std::vector<int> truth;
                    for (std::size_t j = 0; j < dc.size(); ++j) {
                        pairs.insert(pairs.end(), {-dc[j] / 2.0, dc[j] / 2.0});
                        truth.push_back(yc[j] ? 1 : 0);
                    }
                    ps = {fitTemperature(pairs, 2, truth), 0.0};
                }
                f.a[static_cast<std::size_t>(col)] = ps.a;
                f.b[static_cast<std::size_t>(col)] = ps.b;
            }
        } else {
            std::vector<double> values;
            std::vector<int> truth;
            for (std::uint32_t j : on) {
                values.insert(values.end(), chosenOof.begin() + static_cast<std::ptrdiff_t>(j * static_cast<std::size_t>(k)),
                              chosenOof.begin() + static_cast<std::ptrdiff_t>((j + 1) * static_cast<std::size_t>(k)));
                truth.push_back(static_cast<int>(classes.indexOf(cvExamples[static_cast<qsizetype>(j)].labels.first())));
            }
            f.a = {fitTemperature(values, static_cast<std::size_t>(k), truth)};
        }
        return f;
    };
    impl->calibration = options.multiLabel ? Calibration::PlattPerClass
        : k == 1                           ? Calibration::Platt
                                           : Calibration::Temperature;
    if (crossValidate) {
        std::vector<std::uint32_t> all(m);
        std::iota(all.begin(), all.end(), 0u);
        Fitted f = fitCalibration(all);
        impl->calA = std::move(f.a);
        impl->calB = std::move(f.b);
    } else if (impl->calibration == Calibration::Temperature) {
        impl->calA.assign(1, 3.0);
        impl->calB.clear();
    } else {
        impl->calA.assign(static_cast<std::size_t>(k), 2.0);
        impl->calB.assign(static_cast<std::size_t>(k), 0.0);
    }

    // The out-of-fold labels for the report, calibrated without their own fold: each fold's
    // decision values go through a calibration fitted on the other folds' values, so the
    // threshold a Platt bias sets is not tuned on the examples it labels.
    made.cValuesTried = cValuesTried;
    if (report && crossValidate && chosenOof.size() == n * static_cast<std::size_t>(k) && chosenFoldOf.size() == n) {
        made.outOfFold.resize(n);
        Impl probe; // what finish() reads: classes, options, columns, calibration
        probe.classes = impl->classes;
        probe.options = impl->options;
        probe.columns = impl->columns;
        probe.calibration = impl->calibration;
        for (int f = 0; f < folds; ++f) {
            std::vector<std::uint32_t> others;
            for (std::size_t j = 0; j < n; ++j)
                if (chosenFoldOf[j] != f)
                    others.push_back(static_cast<std::uint32_t>(j));
            Fitted fitted = fitCalibration(others);
            probe.calA = std::move(fitted.a);
            probe.calB = std::move(fitted.b);
            for (std::size_t j = 0; j < n; ++j)
                if (chosenFoldOf[j] == f)
                    made.outOfFold[j] = probe.finish(chosenOof.data() + j * static_cast<std::size_t>(k)).labels;
        }
    }

    // The final model on all examples (plus pseudo-labelled ones when self-training).
    std::vector<int> columnIds(static_cast<std::size_t>(k));
    std::iota(columnIds.begin(), columnIds.end(), 0);
    std::vector<std::uint32_t> trainRows(n);
    std::iota(trainRows.begin(), trainRows.end(), 0u);
    impl->weights.assign(totalColumns * static_cast<std::size_t>(k), 0.0f); // LSA rows split off at the end
    impl->bias.assign(static_cast<std::size_t>(k), 0.0f);
    impl->steps.assign(static_cast<std::size_t>(k), 1.0f);
    made.solution.final.assign(2, std::vector<std::vector<float>>(static_cast<std::size_t>(k)));
    auto trainFinal = [&] {
        // One solver per column and part (plain and/or NB-weighted; Mixed averages the two), each
        // warm-started from the cross-validation's dual solutions when there are. With one column
        // its parts run in parallel; with several, the columns do (each solving its parts in
        // turn), so only one column's weights per thread are in memory at a time.
        const bool mixed = chosen.weighting == FeatureWeighting::Mixed;
        std::vector<std::size_t> parts;
        if (mixed || chosen.weighting == FeatureWeighting::Plain)
            parts.push_back(0);
        if (mixed || chosen.weighting == FeatureWeighting::NaiveBayes)
            parts.push_back(1);
        const double share = 1.0 / static_cast<double>(parts.size());
        // Raw-feature weights and bias of one column's part, scaled by its share.
        auto solvePart = [&](std::size_t col, std::size_t part, std::vector<double> &raw, double &bias) {
            std::vector<char> y;
            y.reserve(trainRows.size());
            for (std::uint32_t r : trainRows)
                y.push_back(targets[col][r]);
            std::vector<float> scale;
            if (part == 1)
                scale = nbRatios(x, trainRows, y, featureCount); // dense LSA columns unscaled
            DualSvm svm(x, trainRows, std::move(y), scale.empty() ? nullptr : scale.data(),
                        kSolverSeed + static_cast<std::uint64_t>(col));
            if (!finalStart[part][col].empty())
                svm.startFrom(finalStart[part][col]);
            const bool solved = svm.solve(c, meter.flag());
            visits += svm.lastVisits();
            if (!solved)
                return false;
            // The labelled examples' duals (rows 0 .. n-1 come first), for a later warm start.
            if (report)
                made.solution.final[part][col].assign(svm.alpha().begin(), svm.alpha().begin() + static_cast<std::ptrdiff_t>(n));
            raw.resize(totalColumns, 0.0);
            for (std::size_t j = 0; j < totalColumns; ++j)
                raw[j] += share * svm.weights()[j] * (scale.empty() ? 1.0 : scale[j]);
            bias += share * svm.bias();
            return true;
        };
        // Quantise to 16 bits per column now, so a trained model predicts exactly as its saved copy.
        auto store = [&](std::size_t col, const std::vector<double> &raw, double bias) {
            double maxAbs = 0.0;
            for (std::size_t j = 0; j < featureCount; ++j)
                maxAbs = std::max(maxAbs, std::fabs(raw[j]));
            const float step = maxAbs > 0.0 ? static_cast<float>(maxAbs / 32767.0) : 1.0f;
            impl->steps[col] = step;
            for (std::size_t j = 0; j < featureCount; ++j) {
                const double q = std::clamp(std::round(raw[j] / step), -32767.0, 32767.0);
                impl->weights[j * static_cast<std::size_t>(k) + col] = static_cast<float>(q) * step;
            }
            for (std::size_t j = featureCount; j < totalColumns; ++j) // LSA weights: plain floats
                impl->weights[j * static_cast<std::size_t>(k) + col] = static_cast<float>(raw[j]);
            impl->bias[col] = static_cast<float>(bias);
        };
        if (k == 1) {
            std::vector<std::vector<double>> raw(parts.size());
            std::vector<double> bias(parts.size(), 0.0);
            std::vector<std::size_t> jobs(parts.size());
            std::iota(jobs.begin(), jobs.end(), std::size_t(0));
            QtConcurrent::blockingMap(jobs, [&](std::size_t p) { solvePart(0, parts[p], raw[p], bias[p]); });
            if (meter.cancelled())
                return;
            std::vector<double> sum(totalColumns, 0.0);
            double b = 0.0;
            for (std::size_t p = 0; p < parts.size(); ++p) { // in a fixed order: the same sums every time
                for (std::size_t j = 0; j < totalColumns; ++j)
                    sum[j] += raw[p][j];
                b += bias[p];
            }
            store(0, sum, b);
            return;
        }
        QtConcurrent::blockingMap(columnIds, [&](int col) {
            std::vector<double> raw;
            double bias = 0.0;
            for (std::size_t part : parts)
                if (!solvePart(static_cast<std::size_t>(col), part, raw, bias))
                    return;
            store(static_cast<std::size_t>(col), raw, bias);
        });
    };
    trainFinal();
    for (int round = 0; selfTrain && round < kSelfTrainingRounds && !meter.cancelled(); ++round) {
        // Label the unlabelled rows with the current model and add the most confident ones, per
        // class in proportion to the labelled class counts, then retrain.
        const std::size_t u = totalRows - n;
        std::vector<int> label(u);
        std::vector<double> margin(u);
        for (std::size_t r = 0; r < u; ++r) {
            std::vector<double> dec(impl->bias.begin(), impl->bias.end());
            for (std::size_t e = x.start[n + r]; e < x.start[n + r + 1]; ++e) {
                const float *w = impl->weights.data() + static_cast<std::size_t>(x.column[e]) * static_cast<std::size_t>(k);
                for (int col = 0; col < k; ++col)
                    dec[static_cast<std::size_t>(col)] += double(x.value[e]) * w[col];
            }
            if (k == 1) {
                label[r] = dec[0] > 0.0 ? 1 : 0;
                margin[r] = std::fabs(dec[0]);
            } else {
                std::vector<double> sorted = dec;
                std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<>());
                label[r] = static_cast<int>(std::max_element(dec.begin(), dec.end()) - dec.begin());
                margin[r] = sorted[0] - sorted[1];
            }
        }
        const std::size_t budget = std::min(u, n * static_cast<std::size_t>(kSelfTrainingFactor) * static_cast<std::size_t>(round + 1));
        std::vector<std::uint32_t> picked;
        for (qsizetype cls = 0; cls < classes.size(); ++cls) {
            std::size_t labelled = 0;
            for (std::size_t i = 0; i < n; ++i)
                labelled += examples[static_cast<qsizetype>(i)].labels.first() == classes[cls];
            const std::size_t quota = budget * labelled / n;
            const int want = k == 1 ? static_cast<int>(cls) : static_cast<int>(cls);
            std::vector<std::uint32_t> candidates;
            for (std::size_t r = 0; r < u; ++r)
                if (label[r] == want)
                    candidates.push_back(static_cast<std::uint32_t>(r));
            const std::size_t take = std::min(quota, candidates.size());
            std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(take), candidates.end(),
                              [&](std::uint32_t a, std::uint32_t b) { return margin[a] > margin[b] || (margin[a] == margin[b] && a < b); });
            for (std::size_t t = 0; t < take; ++t) {
                const std::uint32_t row = static_cast<std::uint32_t>(n) + candidates[t];
                picked.push_back(row);
                for (int col = 0; col < k; ++col)
                    targets[static_cast<std::size_t>(col)][row] = (k == 1 ? cls == 1 : col == cls) ? 1 : 0;
            }
        }
        std::sort(picked.begin(), picked.end());
        trainRows.resize(n);
        trainRows.insert(trainRows.end(), picked.begin(), picked.end());
        trainFinal();
    }
    for (int col = 0; col < k; ++col)
        meter.step();
    if (meter.cancelled())
        return cancelled();

    if (!meter.finish())
        return cancelled();
    made.finalMs = stage.elapsed();
    made.solverVisits = visits.load();
    impl->lsaWeights.assign(impl->weights.begin() + static_cast<std::ptrdiff_t>(featureCount * static_cast<std::size_t>(k)),
                            impl->weights.end());
    impl->weights.resize(featureCount * static_cast<std::size_t>(k));
    impl->options.c = c;
    impl->options.weighting = chosen.weighting;
    impl->options.warmStart.reset(); // a starting point, not part of the model
    impl->options.folds = crossValidate ? folds : options.folds;
    // Format 3 only for a model with a pool representation: the others stay readable by a
    // LoopDeck of format 2 (an older serve sharing the models folder, a downgrade).
    impl->selection.formatVersion = impl->lsa.empty() ? 2 : static_cast<int>(ModelFile::kFormatVersion);
    impl->selection.c = c;
    impl->selection.weighting = chosen.weighting;
    impl->selection.folds = crossValidate ? folds : 0;
    impl->selection.cvAccuracy = cvAccuracy;
    if (report)
        *report = std::move(made);
    return std::shared_ptr<const TextClassifier>(new TextClassifier(std::move(impl)));
}

Prediction TextClassifier::predict(const QString &text) const
{
    // Same arithmetic in the same order as predictFromCounts(countText(text)), so the results are
    // bit-identical; only the lookups differ (and unknown buckets add exact zeros instead of
    // being skipped, which changes no sum). The text's buckets come sorted: first their
    // directory slices are read, then their records are found and used, each pass prefetching
    // kAhead entries ahead.
    constexpr std::size_t kAhead = 32;
    struct Entry {
        std::uint32_t bucket, count, lo, hi; // a distinct bucket, its count, its slice [lo, hi)
    };
    thread_local std::vector<Entry> entries;
    thread_local std::vector<double> manyColumns; // sums for models with many columns
    const std::vector<std::uint32_t> &sorted = d->hasher.sortedBuckets(text);
    const std::size_t all = sorted.size();
    const std::uint32_t *directory = d->directory.data();
    const int shift = d->directoryShift;
    entries.resize(all);
    Entry *entry = entries.data();
    std::size_t m = 0;
    for (std::size_t i = 0; i < all;) {
        if (i + kAhead < all)
            LOOPDECK_PREFETCH(directory + (sorted[i + kAhead] >> shift));
        const std::uint32_t bucket = sorted[i];
        std::size_t j = i + 1;
        while (j < all && sorted[j] == bucket)
            ++j;
        const std::uint32_t slice = bucket >> shift;
        entry[m++] = {bucket, static_cast<std::uint32_t>(j - i), directory[slice], directory[slice + 1]};
        i = j;
    }
    const auto ks = static_cast<std::size_t>(d->columns);
    const std::size_t stride = d->stride();
    // The running sums live on the stack (or in one thread-local buffer for many columns), in
    // locals the compiler can keep in registers across the loop.
    constexpr std::size_t kStackColumns = 32;
    double stackSums[2 * kStackColumns];
    double *decision = stackSums;
    if (ks > kStackColumns) {
        manyColumns.resize(2 * ks);
        decision = manyColumns.data();
    }
    double *block = decision + ks;
    std::fill_n(decision, 2 * ks, 0.0);
    const int blockBits = d->tfidf.blockBits();
    double norm = 0.0;
    std::uint64_t currentBlock = 0;
    auto closeBlock = [&] {
        const double inv = norm > 0.0 ? 1.0 / std::sqrt(norm) : 0.0;
        for (std::size_t c = 0; c < ks; ++c) {
            decision[c] += block[c] * inv;
            block[c] = 0.0;
        }
        norm = 0.0;
    };
    const std::uint32_t *records = d->records.data();
    const std::uint32_t *zeros = records + (d->records.size() - stride);
    const std::uint32_t top = d->searchStep;
    const double *tfTable = sublinearTfTable();
    for (std::size_t i = 0; i < m; ++i) {
        if (i + kAhead < m) {
            LOOPDECK_PREFETCH(records + entry[i + kAhead].lo * stride);
            LOOPDECK_PREFETCH(records + entry[i + kAhead].hi * stride);
        }
        const auto [bucket, n, lo, hi] = entry[i];
        // First record of the slice whose bucket is >= bucket: a fixed number of steps with
        // conditional moves (records[hi] is the next slice's first or the sentinel, > bucket).
        std::uint32_t pos = lo;
        for (std::uint32_t step = top; step > 0; step >>= 1) {
            const std::uint32_t probe = std::min(pos + step - 1, hi);
            pos = records[probe * stride] < bucket ? pos + step : pos;
        }
        const std::uint32_t *found = records + pos * stride;
        const std::uint32_t *r = *found == bucket ? found : zeros;
        const std::uint64_t b = std::uint64_t(bucket) >> blockBits;
        if (b != currentBlock) {
            closeBlock();
            currentBlock = b;
        }
        const double v = (n < kSublinearTfTableSize ? tfTable[n] : sublinearTf(n)) * std::bit_cast<float>(r[1]);
        norm += v * v;
        for (std::size_t c = 0; c < ks; ++c)
            block[c] += v * std::bit_cast<float>(r[2 + c]);
    }
    closeBlock();
    if (!d->lsa.empty())
        d->addPool(sorted.data(), all, decision);
    for (std::size_t c = 0; c < ks; ++c)
        decision[c] += d->bias[c];
    if (entries.capacity() > (std::size_t(1) << 16))
        entries = {}; // a very long text's buffer is not kept
    return d->finish(decision);
}

Prediction TextClassifier::predictFromCounts(const TermCounts &counts) const
{
    const int k = d->columns;
    const auto ks = static_cast<std::size_t>(k);
    std::vector<double> decision(ks, 0.0), block(ks, 0.0);
    const auto &buckets = d->tfidf.buckets();
    const auto &idf = d->tfidf.idf();
    const int blockBits = d->tfidf.blockBits();
    double norm = 0.0;
    std::uint64_t currentBlock = 0;
    auto closeBlock = [&] {
        const double inv = norm > 0.0 ? 1.0 / std::sqrt(norm) : 0.0;
        for (std::size_t c = 0; c < ks; ++c) {
            decision[c] += block[c] * inv;
            block[c] = 0.0;
        }
        norm = 0.0;
    };
    auto from = buckets.begin();
    for (const auto &[bucket, n] : counts) {
        from = std::lower_bound(from, buckets.end(), bucket);
        if (from == buckets.end())
            break;
        if (*from != bucket)
            continue;
        const std::uint64_t b = std::uint64_t(bucket) >> blockBits;
        if (b != currentBlock) {
            closeBlock();
            currentBlock = b;
        }
        const auto col = static_cast<std::size_t>(from - buckets.begin());
        const double v = sublinearTf(n) * idf[col];
        norm += v * v;
        for (std::size_t c = 0; c < ks; ++c)
            block[c] += v * d->weight(col, c);
    }
    closeBlock();
    if (!d->lsa.empty()) {
        std::vector<std::uint32_t> sorted(counts.size());
        for (std::size_t j = 0; j < counts.size(); ++j)
            sorted[j] = counts[j].first;
        d->addPool(sorted.data(), sorted.size(), decision.data());
    }
    for (std::size_t c = 0; c < ks; ++c)
        decision[c] += d->bias[c];
    return d->finish(decision.data());
}

void TextClassifier::Impl::addPool(const std::uint32_t *sortedBuckets, std::size_t count, double *decision) const
{
    thread_local std::vector<float> z;
    const auto dims = static_cast<std::size_t>(lsa.dimensions);
    const auto ks = static_cast<std::size_t>(columns);
    z.resize(dims);
    lsa.project(sortedBuckets, count, z.data());
    for (std::size_t dim = 0; dim < dims; ++dim) {
        const double v = z[dim];
        const float *w = lsaWeights.data() + dim * ks;
        for (std::size_t c = 0; c < ks; ++c)
            decision[c] += v * w[c];
    }
}

Prediction TextClassifier::Impl::finish(const double *decision) const
{
    const auto ks = static_cast<std::size_t>(columns);
    const int k = columns;
    const Impl *d = this;
    Prediction p;
    const auto classCount = static_cast<std::size_t>(d->classes.size());
    p.scores.resize(classCount);
    switch (d->calibration) {
    case Calibration::Legacy:
        if (k == 1) {
            const double p1 = sigmoid(decision[0]);
            p.scores[0] = {d->classes[0], 1.0 - p1};
            p.scores[1] = {d->classes[1], p1};
        } else {
            double sum = 0.0;
            for (std::size_t c = 0; c < classCount; ++c) {
                p.scores[c] = {d->classes[static_cast<qsizetype>(c)], sigmoid(decision[c])};
                sum += p.scores[c].probability;
            }
            if (!d->options.multiLabel && sum > 0.0) // one-vs-rest probabilities, normalised as liblinear does
                for (auto &s : p.scores)
                    s.probability /= sum;
        }
        break;
    case Calibration::Platt: {
        const double p1 = sigmoid(d->calA[0] * decision[0] + d->calB[0]);
        p.scores[0] = {d->classes[0], 1.0 - p1};
        p.scores[1] = {d->classes[1], p1};
        break;
    }
    case Calibration::Temperature: {
        thread_local std::vector<double> prob;
        prob.resize(ks);
        softmaxScaled(decision, ks, d->calA[0], prob.data());
        for (std::size_t c = 0; c < classCount; ++c)
            p.scores[c] = {d->classes[static_cast<qsizetype>(c)], prob[c]};
        break;
    }
    case Calibration::PlattPerClass:
        for (std::size_t c = 0; c < classCount; ++c)
            p.scores[c] = {d->classes[static_cast<qsizetype>(c)], sigmoid(d->calA[c] * decision[c] + d->calB[c])};
        break;
    }
    std::stable_sort(p.scores.begin(), p.scores.end(),
                     [](const ClassScore &a, const ClassScore &b) { return a.probability > b.probability; });
    if (!d->options.multiLabel) {
        p.labels = {p.scores.front().label};
        p.score = p.scores.front().probability;
    } else {
        double sum = 0.0;
        for (const ClassScore &s : p.scores) {
            if (s.probability >= d->options.threshold) {
                p.labels.append(s.label);
                sum += s.probability;
            }
        }
        p.score = p.labels.isEmpty() ? 0.0 : sum / p.labels.size();
    }
    return p;
}

QStringList TextClassifier::classes() const
{
    return d->classes;
}

bool TextClassifier::isMultiLabel() const
{
    return d->options.multiLabel;
}

TrainOptions TextClassifier::options() const
{
    return d->options;
}

ModelSelection TextClassifier::selection() const
{
    ModelSelection s = d->selection;
    switch (d->calibration) {
    case Calibration::Legacy:
        s.calibration = QStringLiteral("none (format 1)");
        break;
    case Calibration::Platt:
        s.calibration = QStringLiteral("platt");
        s.calibrationParameters = {d->calA[0], d->calB[0]};
        break;
    case Calibration::Temperature:
        s.calibration = QStringLiteral("temperature");
        s.calibrationParameters = {d->calA[0]};
        break;
    case Calibration::PlattPerClass:
        s.calibration = QStringLiteral("platt-per-class");
        for (std::size_t c = 0; c < d->calA.size(); ++c)
            s.calibrationParameters.insert(s.calibrationParameters.end(), {d->calA[c], d->calB[c]});
        break;
    }
    return s;
}

int TextClassifier::trainingExamples() const
{
    return static_cast<int>(d->tfidf.documentCount());
}

qsizetype TextClassifier::featureCount() const
{
    return static_cast<qsizetype>(d->tfidf.size());
}

int TextClassifier::poolDimensions() const
{
    return d->lsa.dimensions;
}

// Payload layout (big-endian), format version 2:
//   "TXC2", u8 multiLabel, f64 threshold, f64 c, u32 hashBits, u8 charGrams, u8 weighting
//   (1 plain, 2 nb, 3 mixed), u32 folds, f64 cvAccuracy, u32 documents, u32 classCount,
//   classCount x (u32 length, UTF-8), u32 columns, u32 features, features x varint bucket delta,
//   features x varint df, u8 calibration, u32 parameters, parameters x f64 (calA then calB),
//   columns x f32 bias, columns x f32 weight step, features x columns x i16 quantised weight.
// Format 3 ("TXC3"): as format 2 with an LSA section between the calibration parameters and the
//   bias: u32 dimensions (0: none); when > 0, u32 buckets, buckets x varint bucket delta
//   (strictly increasing), buckets x dimensions x f32 projection, dimensions x columns x f32 weight.
// Format 1 ("TXTC", see fromPayloadV1) is read, never written.
QByteArray TextClassifier::payload() const
{
    Writer w;
    // Document count, classes, columns, hashed buckets and document frequencies: the same
    // layout in both formats.
    const auto writeTables = [&] {
        w.u32(d->tfidf.documentCount());
        w.u32(static_cast<quint32>(d->classes.size()));
        for (const QString &c : d->classes)
            w.bytes(c.toUtf8());
        w.u32(static_cast<quint32>(d->columns));
        const auto &buckets = d->tfidf.buckets();
        w.u32(static_cast<quint32>(buckets.size()));
        std::uint32_t previous = 0;
        for (std::uint32_t b : buckets) {
            w.varint(b - previous);
            previous = b;
        }
        for (std::uint32_t df : d->tfidf.documentFrequency())
            w.varint(df);
    };
    if (d->calibration == Calibration::Legacy) {
        // A loaded format-1 model is written back as format 1, unchanged.
        w.raw(kPayloadKindV1, 4);
        w.u8(d->options.multiLabel ? 1 : 0);
        w.f64(d->options.threshold);
        w.f64(d->options.c);
        w.u32(static_cast<quint32>(d->options.hashBits));
        writeTables();
        for (float b : d->bias)
            w.f32(b);
        for (std::size_t f = 0; f < d->tfidf.size(); ++f)
            for (std::size_t c = 0; c < static_cast<std::size_t>(d->columns); ++c)
                w.f32(d->weight(f, c));
        return w.take();
    }
    const bool v3 = d->selection.formatVersion >= 3;
    w.raw(v3 ? kPayloadKindV3 : kPayloadKindV2, 4);
    w.u8(d->options.multiLabel ? 1 : 0);
    w.f64(d->options.threshold);
    w.f64(d->options.c);
    w.u32(static_cast<quint32>(d->options.hashBits));
    w.u8(d->hasher.charGrams() ? 1 : 0);
    w.u8(d->selection.weighting == FeatureWeighting::NaiveBayes ? 2
         : d->selection.weighting == FeatureWeighting::Mixed    ? 3
                                                                : 1);
    w.u32(static_cast<quint32>(d->selection.folds));
    w.f64(d->selection.cvAccuracy);
    writeTables();
    w.u8(static_cast<quint8>(d->calibration));
    w.u32(static_cast<quint32>(d->calA.size() + d->calB.size()));
    for (double a : d->calA)
        w.f64(a);
    for (double b : d->calB)
        w.f64(b);
    if (v3) {
        w.u32(static_cast<quint32>(d->lsa.dimensions));
        if (!d->lsa.empty()) {
            w.u32(static_cast<quint32>(d->lsa.buckets.size()));
            std::uint32_t previous = 0;
            for (std::uint32_t b : d->lsa.buckets) {
                w.varint(b - previous);
                previous = b;
            }
            for (float v : d->lsa.vectors)
                w.f32(v);
            for (float v : d->lsaWeights)
                w.f32(v);
        }
    }
    for (float b : d->bias)
        w.f32(b);
    const auto k = static_cast<std::size_t>(d->columns);
    for (float step : d->steps)
        w.f32(step);
    const std::size_t weightCount = d->tfidf.size() * k;
    QByteArray q(static_cast<qsizetype>(weightCount * 2), Qt::Uninitialized);
    for (std::size_t j = 0; j < weightCount; ++j) {
        const double v = std::round(double(d->weight(j / k, j % k)) / d->steps[j % k]);
        const auto i = static_cast<qint16>(std::clamp(v, -32767.0, 32767.0));
        qToBigEndian<qint16>(i, q.data() + 2 * j);
    }
    w.raw(q.constData(), q.size());
    return w.take();
}

// Format 1 payload ("TXTC"): as format 2 without charGrams..cvAccuracy, the calibration and the
// quantisation: columns x f32 bias, then features x columns x f32 weights.
std::shared_ptr<const TextClassifier> TextClassifier::fromPayload(const QByteArray &payload, quint32 version,
                                                                 QString *error)
{
    auto fail = [error](const QString &why) -> std::shared_ptr<const TextClassifier> {
        setError(error, why);
        return nullptr;
    };
    Reader r(payload);
    const QByteArray kind = r.raw(4);
    const char *expectedKind = version == 1 ? kPayloadKindV1 : version == 2 ? kPayloadKindV2 : kPayloadKindV3;
    if (version > 3 || kind != QByteArray(expectedKind, 4))
        return fail(kind == QByteArray(kPayloadKindV1, 4) || kind == QByteArray(kPayloadKindV2, 4)
                        || kind == QByteArray(kPayloadKindV3, 4)
                        ? QStringLiteral("its contents do not match its format version %1").arg(version)
                        : QStringLiteral("it holds a different kind of model, not a text classifier"));
    const bool v2 = version >= 2;
    auto impl = std::make_unique<Impl>();
    const quint8 multi = r.u8();
    impl->options.multiLabel = multi == 1;
    impl->options.threshold = r.f64();
    impl->options.c = r.f64();
    impl->options.hashBits = static_cast<int>(r.u32());
    quint8 chars = 0, weighting = 1;
    quint32 folds = 0;
    double cvAccuracy = -1.0;
    if (v2) {
        chars = r.u8();
        weighting = r.u8();
        folds = r.u32();
        cvAccuracy = r.f64();
    }
    const quint32 documents = r.u32();
    const quint32 classCount = r.u32();
    if (!r.ok() || multi > 1 || !(impl->options.threshold > 0.0 && impl->options.threshold < 1.0)
        || !(impl->options.c > 0.0) || impl->options.hashBits < FeatureHasher::kMinHashBits
        || impl->options.hashBits > FeatureHasher::kMaxHashBits || classCount < 2
        || classCount > static_cast<quint32>(r.remaining()) || chars > 1 || weighting < 1 || weighting > 3
        || folds > 20 || !(cvAccuracy >= -1.0 && cvAccuracy <= 1.0))
        return fail(QStringLiteral("its settings are damaged"));
    impl->hasher = FeatureHasher(impl->options.hashBits, chars == 1);
    impl->options.charGrams = chars == 1;
    impl->options.weighting = weighting == 2 ? FeatureWeighting::NaiveBayes
        : weighting == 3                     ? FeatureWeighting::Mixed
                                             : FeatureWeighting::Plain;
    impl->selection.formatVersion = static_cast<int>(version);
    impl->selection.c = impl->options.c;
    impl->selection.weighting = impl->options.weighting;
    impl->selection.folds = static_cast<int>(folds);
    impl->selection.cvAccuracy = cvAccuracy;
    if (folds >= 2)
        impl->options.folds = static_cast<int>(folds);
    for (quint32 i = 0; i < classCount && r.ok(); ++i)
        impl->classes.append(QString::fromUtf8(r.bytes()));
    impl->columns = static_cast<int>(r.u32());
    const quint32 features = r.u32();
    const bool oneColumn = !impl->options.multiLabel && classCount == 2;
    if (!r.ok() || impl->columns != (oneColumn ? 1 : static_cast<int>(classCount))
        || impl->classes.size() != static_cast<qsizetype>(classCount)
        || features > static_cast<quint64>(r.remaining()) / 2)
        return fail(QStringLiteral("its class list is damaged"));
    std::vector<std::uint32_t> buckets(features);
    std::vector<std::uint32_t> df(features);
    quint64 bucket = 0;
    for (quint32 i = 0; i < features && r.ok(); ++i) {
        bucket += r.varint();
        buckets[i] = static_cast<std::uint32_t>(bucket);
    }
    if (bucket >= (quint64(1) << impl->hasher.rangeBits()) && features > 0)
        return fail(QStringLiteral("its vocabulary is damaged"));
    for (quint32 i = 0; i < features && r.ok(); ++i)
        df[i] = r.varint();
    if (!r.ok())
        return fail(QStringLiteral("the vocabulary is cut short"));
    QString why;
    auto tfidf = TfidfModel::fromParts(std::move(buckets), std::move(df), documents, &why);
    if (!tfidf)
        return fail(QStringLiteral("its vocabulary is damaged (%1)").arg(why));
    impl->tfidf = std::move(*tfidf);
    impl->tfidf.setBlockBits(v2 ? impl->hasher.hashBits() : 32);
    const auto k = static_cast<std::size_t>(impl->columns);
    const quint64 weightCount = quint64(features) * static_cast<quint64>(impl->columns);
    // Every weight takes at least 2 bytes of what is left: a damaged count must not allocate
    // more than the file could hold (features and columns are each bounded, their product not).
    if (weightCount > static_cast<quint64>(r.remaining()) / 2)
        return fail(QStringLiteral("its weights have the wrong size"));
    impl->bias.resize(k);
    impl->weights.resize(weightCount);
    const auto finite = [](double v) { return std::isfinite(v); };
    if (!v2) {
        impl->calibration = Calibration::Legacy;
        if (static_cast<quint64>(r.remaining()) != (weightCount + static_cast<quint64>(impl->columns)) * 4)
            return fail(QStringLiteral("its weights have the wrong size"));
        for (float &b : impl->bias)
            b = r.f32();
        for (float &x : impl->weights)
            x = r.f32();
    } else {
        const quint8 calibration = r.u8();
        const quint32 parameters = r.u32();
        const bool multiClass = !impl->options.multiLabel && k > 1;
        const quint8 expectedKind = static_cast<quint8>(impl->options.multiLabel ? Calibration::PlattPerClass
                                                        : multiClass        ? Calibration::Temperature
                                                                            : Calibration::Platt);
        if (!r.ok() || calibration != expectedKind || parameters != (multiClass ? 1u : 2u * k))
            return fail(QStringLiteral("its calibration is damaged"));
        impl->calibration = static_cast<Calibration>(calibration);
        impl->calA.resize(multiClass ? 1 : k);
        impl->calB.resize(multiClass ? 0 : k);
        for (double &a : impl->calA)
            a = r.f64();
        for (double &b : impl->calB)
            b = r.f64();
        if (!r.ok() || !std::all_of(impl->calA.begin(), impl->calA.end(), finite)
            || !std::all_of(impl->calB.begin(), impl->calB.end(), finite) || (multiClass && !(impl->calA[0] > 0.0)))
            return fail(QStringLiteral("its calibration is damaged"));
        if (version >= 3) {
            const quint32 dims = r.u32();
            if (!r.ok() || dims > kLsaMaxDimensions || (dims > 0 && (!impl->hasher.charGrams() || impl->options.multiLabel)))
                return fail(QStringLiteral("its pool representation is damaged"));
            if (dims > 0) {
                const quint32 count = r.u32();
                if (!r.ok() || count == 0 || quint64(count) * dims * 4 > static_cast<quint64>(r.remaining()))
                    return fail(QStringLiteral("its pool representation is cut short"));
                LsaProjection &lsa = impl->lsa;
                lsa.buckets.resize(count);
                quint64 b = 0;
                for (quint32 i = 0; i < count && r.ok(); ++i) {
                    const quint32 delta = r.varint();
                    if (i > 0 && delta == 0)
                        return fail(QStringLiteral("its pool representation is damaged"));
                    b += delta;
                    lsa.buckets[i] = static_cast<std::uint32_t>(b);
                }
                if (!r.ok() || b >= (quint64(1) << impl->hasher.rangeBits()))
                    return fail(QStringLiteral("its pool representation is damaged"));
                const quint64 weightsAfter = quint64(dims) * k * 4;
                if (quint64(count) * dims * 4 + weightsAfter > static_cast<quint64>(r.remaining()))
                    return fail(QStringLiteral("its pool representation is cut short"));
                lsa.vectors.resize(std::size_t(count) * dims);
                for (float &v : lsa.vectors)
                    v = r.f32();
                impl->lsaWeights.resize(std::size_t(dims) * k);
                for (float &v : impl->lsaWeights)
                    v = r.f32();
                const auto finiteF = [](float v) { return std::isfinite(v); };
                if (!r.ok() || !std::all_of(lsa.vectors.begin(), lsa.vectors.end(), finiteF)
                    || !std::all_of(impl->lsaWeights.begin(), impl->lsaWeights.end(), finiteF))
                    return fail(QStringLiteral("its pool representation is damaged"));
                lsa.dimensions = static_cast<int>(dims);
            }
        }
        if (static_cast<quint64>(r.remaining()) != weightCount * 2 + static_cast<quint64>(impl->columns) * 8)
            return fail(QStringLiteral("its weights have the wrong size"));
        for (float &b : impl->bias)
            b = r.f32();
        impl->steps.resize(k);
        for (float &s : impl->steps)
            s = r.f32();
        if (!std::all_of(impl->steps.begin(), impl->steps.end(), [](float s) { return std::isfinite(s) && s > 0.0f; }))
            return fail(QStringLiteral("its weights are damaged"));
        const QByteArray q = r.raw(static_cast<qsizetype>(weightCount * 2));
        for (std::size_t j = 0; j < weightCount && r.ok(); ++j)
            impl->weights[j] = static_cast<float>(qFromBigEndian<qint16>(q.constData() + 2 * j)) * impl->steps[j % k];
    }
    if (!r.ok() || !r.atEnd() || !std::all_of(impl->bias.begin(), impl->bias.end(), finite)
        || !std::all_of(impl->weights.begin(), impl->weights.end(), finite))
        return fail(QStringLiteral("its weights are damaged"));
    return std::shared_ptr<const TextClassifier>(new TextClassifier(std::move(impl)));
}

QByteArray TextClassifier::toBytes() const
{
    return ModelFile::encode(payload(), static_cast<quint32>(d->selection.formatVersion));
}

std::shared_ptr<const TextClassifier> TextClassifier::fromBytes(const QByteArray &bytes, QString *error)
{
    QString why;
    quint32 version = 0;
    const auto p = ModelFile::decode(bytes, &why, &version);
    if (!p) {
        setError(error, QStringLiteral("The model is refused: %1.").arg(why));
        return nullptr;
    }
    auto model = fromPayload(*p, version, &why);
    if (!model)
        setError(error, QStringLiteral("The model is refused: %1.").arg(why));
    return model;
}

bool TextClassifier::save(const QString &path, QString *error) const
{
    return ModelFile::write(path, payload(), error, static_cast<quint32>(d->selection.formatVersion));
}

std::shared_ptr<const TextClassifier> TextClassifier::load(const QString &path, QString *error)
{
    quint32 version = 0;
    const auto p = ModelFile::read(path, error, &version);
    if (!p)
        return nullptr;
    QString why;
    auto model = fromPayload(*p, version, &why);
    if (!model)
        setError(error, QStringLiteral("The model file %1 is refused: %2.").arg(path, why));
    return model;
}

} // namespace loopdeck::model
