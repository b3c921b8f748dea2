#pragma once
// The built-in text classifier: hashed word uni+bigram TF-IDF features and liblinear
// L2-regularised logistic regression. An instance is immutable once trained or loaded, so
// one instance can serve many threads at once and be swapped whole (std::shared_ptr).
// Called by the prediction service (backend), the trainer (loop) and `loopdeck model`.
#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <memory>
#include <vector>

namespace loopdeck::model {

struct Example {
    QString text;
    QStringList labels; // one label for single choice; any number for multiple choice
};

struct TrainOptions {
    bool multiLabel = false;   // one-vs-rest with a threshold instead of a single arg-max
    double threshold = 0.5;    // multi-label decision threshold on each class probability
    double c = 10.0;           // inverse regularisation strength
    int hashBits = 20;         // feature space = 2^hashBits buckets
};

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
    // (no examples, fewer than two classes, ...). Deterministic for equal input.
    static std::shared_ptr<const TextClassifier> train(const QList<Example> &examples,
                                                       const TrainOptions &options, QString *error);

    // Loads a model file written by save(). A corrupt, truncated or foreign file is refused
    // with a clear message in *error and nullptr; never half-loaded.
    static std::shared_ptr<const TextClassifier> load(const QString &path, QString *error);

    // Writes the model atomically (temporary file + rename) with a format version and a checksum.
    bool save(const QString &path, QString *error) const;

    // Thread-safe.
    Prediction predict(const QString &text) const;

    QStringList classes() const;
    bool isMultiLabel() const;

    // --- helpers beyond the core API ---
    // The options the model was trained with (threshold is used by predict()).
    TrainOptions options() const;
    // Number of training examples and of distinct hashed features the model knows.
    int trainingExamples() const;
    qsizetype featureCount() const;
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
    static std::shared_ptr<const TextClassifier> fromPayload(const QByteArray &payload, QString *error);
    QByteArray payload() const;

    std::unique_ptr<const Impl> d;
};

} // namespace loopdeck::model
