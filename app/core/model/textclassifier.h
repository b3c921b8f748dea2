#pragma once
// The built-in text classifier. Features: hashed word uni+bigrams plus character n-grams
// (char_wb 2-4 for Latin-script words, plain 1-3 for CJK), sublinear TF-IDF, each block
// l2-normalised (features.h); optionally NB-weighted (NBSVM). Learner: one-vs-rest L2-loss linear
// SVMs (linearsolver.h). C and the weighting are chosen by stratified cross-validation on the
// training set; the out-of-fold decision values also fit the calibration (Platt or temperature
// scaling, calibration.h), so scores are probabilities. Unlabelled texts may be passed for the
// document frequencies and, with few labels, for an LSA representation (lsa.h) added as dense
// features. Model files of format 1 (word features + logistic regression) still load.
// An instance is immutable once trained or loaded, so one instance can serve many threads at
// once and be swapped whole (std::shared_ptr). train() uses the global thread pool.
// Called by the prediction service (backend), the trainer (loop) and `loopdeck model`.
#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace loopdeck::model {

struct Example {
    QString text;
    QStringList labels; // one label for single choice; any number for multiple choice
};

// How features are weighted before the SVM: plain TF-IDF, TF-IDF x NB log-count ratio (NBSVM),
// or Mixed: the average of the plain and the NB model (still one linear model).
enum class FeatureWeighting { Auto, Plain, NaiveBayes, Mixed };

struct WarmStart;

struct TrainOptions {
    bool multiLabel = false;   // one-vs-rest with a threshold instead of a single arg-max
    double threshold = 0.5;    // multi-label decision threshold on each class probability
    double c = 0.0;            // inverse regularisation strength; 0 = choose by cross-validation
    int hashBits = 20;         // each feature block = 2^hashBits buckets
    bool charGrams = true;     // add the character n-gram block
    FeatureWeighting weighting = FeatureWeighting::Auto; // Auto = choose by cross-validation
    int folds = 3;             // internal cross-validation folds (selection and calibration)
    // With unlabelled texts and fewer than 1000 single-label examples: self-training (two rounds
    // adding the most confident unlabelled texts, class-balanced, as pseudo-labelled examples).
    bool selfTraining = true;
    // Under the same conditions, with at least 200 texts in all: an LSA representation of the
    // character n-grams learned from the labelled and unlabelled texts together (lsa.h), appended
    // as 50 dense features. Off: the model is exactly what it would be without it.
    bool poolRepresentation = true;
    // Limits of the cross-validation's cost; 0 = the built-in ones. Above cvWorkBudget non-zeros x
    // columns, C and the weighting are chosen on a stratified sample; the solvers of the C path
    // stay alive between C values while they fit in cvSolverMemory bytes. Not saved with a model.
    std::size_t cvWorkBudget = 0;
    std::size_t cvSolverMemory = 0;
    // Dual starting points from an earlier training on mostly the same examples with the same
    // classes, C and weighting (the loop's previous version; TrainReport::solution gives them).
    // Only a starting point: the solution is the same up to the solver's tolerance. Not saved
    // with a model (the model does not keep it).
    std::shared_ptr<const WarmStart> warmStart;
};

// Dual solutions of a training, for the next one to start from (TrainOptions::warmStart). All
// vectors hold one value per example, in the examples' order: 0 for an example the earlier
// training did not have or labelled otherwise, and for a fold's own test examples.
struct WarmStart {
    using Parts = std::vector<std::vector<std::vector<float>>>; // [part: 0 plain, 1 NB][column]
    // The final model's (a part the weighting does not use: empty): the folds' starting points
    // when the folds are not the earlier ones (the loop keeps it only when there were no folds). (The final model itself starts from the folds'
    // average: measured closer to its optimum than the earlier final solution, whose features
    // the new examples' document frequencies have moved.)
    Parts final;
    // The cross-validation's folds: each example's fold (empty: assigned as usual, stratified and
    // seeded), and each fold's solutions. With the same folds as the earlier training, each
    // fold's solvers start from that fold's solution, which differs only by the new examples.
    std::vector<int> foldOf;
    std::vector<Parts> folds;   // [fold]
};

// What training chose and measured (stored in the model file).
struct ModelSelection {
    int formatVersion = 3;     // of the model file this model was loaded from / will be saved as
    double c = 0.0;            // chosen C
    FeatureWeighting weighting = FeatureWeighting::Plain;
    int folds = 0;             // internal CV folds used (0: too little data, defaults used)
    double cvAccuracy = -1.0;  // out-of-fold accuracy of the chosen setting (-1: no CV)
    QString calibration;       // "platt", "temperature", "platt-per-class" or "none (format 1)"
    std::vector<double> calibrationParameters; // a, b (Platt) / a (temperature) / a_c, b_c ...
};

// What else training can hand back besides the model.
struct TrainReport {
    // Per example (same order): the label(s) the chosen C and weighting predicted for it in the
    // internal cross-validation, by a model that did not see it, calibrated like predict()'s.
    // Each fold's labels come from a calibration fitted on the other folds only. An estimate of
    // the model's accuracy that needs no further training, slightly optimistic: the same folds
    // also chose C and the weighting, and the document frequencies came from all texts (no
    // labels). Empty when no cross-validation ran, or when training failed or was cancelled.
    std::vector<QStringList> outOfFold;
    // How many C values of the grid the cross-validation solved (ascending; it stops climbing
    // when no candidate is as accurate at a C as at the one before). 0 without cross-validation.
    int cValuesTried = 0;
    // Wall-clock milliseconds of the stages: tokenising, counting and weighting the texts (and
    // the LSA fit); choosing C and the weighting (the cross-validation); the calibration and
    // the final model.
    qint64 featuresMs = 0;
    qint64 selectionMs = 0;
    qint64 finalMs = 0;
    // The final model's and the cross-validation's dual solutions at the chosen setting, and the
    // folds: TrainOptions::warmStart of a later training (folds empty without cross-validation).
    WarmStart solution;
    // Examples C and the weighting were chosen on (all, or a stratified sample when the data is
    // large); 0 when both were given.
    int selectionExamples = 0;
    // Rows all solvers visited (cross-validation and final model; DualSvm::lastVisits): the
    // work a warm start saves.
    long long solverVisits = 0;
};

// Called during training with the share done (0..1); returning false cancels training.
// Invoked from worker threads, never concurrently.
using TrainProgress = std::function<bool(double progress)>;

struct ClassScore {
    QString label;
    double probability = 0.0;
};

struct Prediction {
    QStringList labels;             // chosen label(s); empty when nothing passes the threshold
    double score = 0.0;             // probability of the top (single) or mean of chosen (multi) labels
    std::vector<ClassScore> scores; // every class, highest first
};

class TextClassifier final
{
public:
    // Trains a model. Returns nullptr and sets *error when the data cannot make a model
    // (no examples, fewer than two classes, ...) or when progress returned false (cancelled).
    // unlabeled: texts of unlabelled tasks; they count for the document frequencies and, with few
    // single-label examples, for self-training and the LSA representation (TrainOptions).
    // Deterministic for equal input.
    static std::shared_ptr<const TextClassifier> train(const QList<Example> &examples,
                                                       const TrainOptions &options, QString *error,
                                                       const QStringList &unlabeled = {},
                                                       const TrainProgress &progress = {},
                                                       TrainReport *report = nullptr);

    // Loads a model file written by save(). A corrupt, truncated or foreign file is refused
    // with a clear message in *error and nullptr; never half-loaded.
    static std::shared_ptr<const TextClassifier> load(const QString &path, QString *error);

    // Writes the model atomically (temporary file + rename) with a format version and a checksum.
    bool save(const QString &path, QString *error) const;

    // Thread-safe. Allocates nothing per token or n-gram (thread-local scratch buffers).
    Prediction predict(const QString &text) const;
    // The reference form of predict(): scores term counts (FeatureHasher::countText) with a
    // binary search over the vocabulary per feature. predict(t) gives exactly the same result
    // as predictFromCounts(countText(t)); kept for the tests that check this.
    Prediction predictFromCounts(const std::vector<std::pair<std::uint32_t, std::uint32_t>> &counts) const;

    QStringList classes() const;
    bool isMultiLabel() const;

    // --- helpers beyond the core API ---
    // The options the model was trained with (threshold is used by predict()); c and weighting
    // are the chosen values.
    TrainOptions options() const;
    // What cross-validation chose and how the scores are calibrated.
    ModelSelection selection() const;
    // Number of training examples and of distinct hashed features the model knows.
    int trainingExamples() const;
    qsizetype featureCount() const;
    // Dimensions of the LSA representation learned from the unlabelled pool (0: none).
    int poolDimensions() const;
    // The model file contents (ModelFile container) without touching the disk, and back;
    // for storing models in a database blob. fromBytes() checks exactly like load().
    QByteArray toBytes() const;
    static std::shared_ptr<const TextClassifier> fromBytes(const QByteArray &bytes, QString *error);

    ~TextClassifier();
    TextClassifier(const TextClassifier &) = delete;
    TextClassifier &operator=(const TextClassifier &) = delete;

private:
    struct Impl;
    explicit TextClassifier(std::unique_ptr<Impl> impl);
    static std::shared_ptr<const TextClassifier> fromPayload(const QByteArray &payload, quint32 version,
                                                             QString *error);
    QByteArray payload() const;

    std::unique_ptr<const Impl> d;
};

} // namespace loopdeck::model
