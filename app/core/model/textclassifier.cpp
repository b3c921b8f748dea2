#include "core/model/textclassifier.h"

#include "core/model/features.h"
#include "core/model/modelfile.h"

#include <QtConcurrent/QtConcurrentMap>
#include <QtEndian>

#include <linear.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <mutex>
#include <numeric>

namespace loopdeck::model {

// Immutable once built. weights is row-major: column-major would make predict() touch k
// cache lines per feature; row-major keeps one feature's k weights together.
struct TextClassifier::Impl {
    QStringList classes;
    TrainOptions options;
    FeatureHasher hasher{20};
    TfidfModel tfidf;
    int columns = 0;            // 1 for single-label with two classes, else classes.size()
    std::vector<float> weights; // tfidf.size() x columns
    std::vector<float> bias;    // columns
};

namespace {

constexpr char kPayloadKind[5] = "TXTC";

void setError(QString *error, const QString &message)
{
    if (error)
        *error = message;
}

void quietLiblinear()
{
    static std::once_flag once;
    std::call_once(once, [] { set_print_string_function([](const char *) {}); });
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

struct Column {
    std::vector<float> weights;
    float bias = 0.0f;
};

// One binary L2-regularised logistic regression: positive[i] says whether example i is in the
// class. L2R_LR is liblinear's primal trust-region Newton solver, which uses no random numbers,
// so equal input gives equal weights.
Column trainBinary(const std::vector<feature_node *> &rows, const std::vector<char> &positive,
                   int featureCount, double c)
{
    Column col;
    col.weights.assign(static_cast<std::size_t>(featureCount), 0.0f);
    const auto n = static_cast<int>(rows.size());
    const int positives = static_cast<int>(std::count(positive.begin(), positive.end(), 1));
    if (positives == 0 || positives == n) {
        // Every example agrees: a constant model with Laplace-smoothed probability.
        const double p = (positives + 0.5) / (n + 1.0);
        col.bias = static_cast<float>(std::log(p / (1.0 - p)));
        return col;
    }
    std::vector<double> y(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i)
        y[i] = positive[i] ? 1.0 : -1.0;
    problem prob{};
    prob.l = n;
    prob.n = featureCount + 1; // + bias feature
    prob.y = y.data();
    prob.x = const_cast<feature_node **>(rows.data());
    prob.bias = 1.0;
    parameter param{};
    param.solver_type = L2R_LR;
    param.eps = 0.01;
    param.C = c;
    param.p = 0.1;
    ::model *m = ::train(&prob, &param);
    const double sign = (m->label[0] == 1) ? 1.0 : -1.0;
    for (int j = 0; j < featureCount; ++j)
        col.weights[static_cast<std::size_t>(j)] = static_cast<float>(sign * m->w[j]);
    col.bias = static_cast<float>(sign * m->w[featureCount] * m->bias);
    free_and_destroy_model(&m);
    return col;
}

} // namespace

TextClassifier::TextClassifier(std::unique_ptr<Impl> impl) : d(std::move(impl)) {}

TextClassifier::~TextClassifier() = default;

std::shared_ptr<const TextClassifier> TextClassifier::train(const QList<Example> &examples,
                                                           const TrainOptions &options, QString *error)
{
    if (examples.isEmpty()) {
        setError(error, QStringLiteral("There are no examples to train on."));
        return nullptr;
    }
    if (!(options.c > 0.0) || !std::isfinite(options.c)) {
        setError(error, QStringLiteral("The regularisation constant C must be a positive number (got %1).")
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

    auto impl = std::make_unique<Impl>();
    impl->classes = classes;
    impl->options = options;
    impl->hasher = FeatureHasher(options.hashBits);

    // Tokenise and count in parallel; blockingMapped keeps the input order.
    const FeatureHasher hasher = impl->hasher;
    const std::vector<TermCounts> counts = QtConcurrent::blockingMapped<std::vector<TermCounts>>(
        examples, [hasher](const Example &e) { return hasher.countText(e.text); });
    impl->tfidf = TfidfModel::fit(counts, options.hashBits);
    const auto featureCount = static_cast<int>(impl->tfidf.size());

    // liblinear rows: features (1-based columns), then the bias feature, then the terminator.
    std::vector<SparseRow> rows = impl->tfidf.transformAll(counts, options.hashBits);
    std::size_t nodes = 0;
    for (const SparseRow &r : rows)
        nodes += r.size() + 2;
    std::vector<feature_node> space(nodes);
    std::vector<feature_node *> x(rows.size());
    std::size_t at = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        x[i] = &space[at];
        for (const auto &[col, value] : rows[i])
            space[at++] = feature_node{static_cast<int>(col) + 1, value};
        space[at++] = feature_node{featureCount + 1, 1.0};
        space[at++] = feature_node{-1, 0.0};
    }
    rows.clear();

    const bool oneColumn = !options.multiLabel && classes.size() == 2;
    impl->columns = oneColumn ? 1 : static_cast<int>(classes.size());
    std::vector<int> columnIds(static_cast<std::size_t>(impl->columns));
    std::iota(columnIds.begin(), columnIds.end(), 0);
    quietLiblinear();
    const std::vector<Column> trained = QtConcurrent::blockingMapped<std::vector<Column>>(
        columnIds, [&](int column) {
            // A single column learns "second class vs first"; otherwise one class vs the rest.
            const QString &cls = classes[oneColumn ? 1 : column];
            std::vector<char> positive(examples.size());
            for (qsizetype i = 0; i < examples.size(); ++i)
                positive[static_cast<std::size_t>(i)] = examples[i].labels.contains(cls) ? 1 : 0;
            return trainBinary(x, positive, featureCount, options.c);
        });

    impl->weights.assign(static_cast<std::size_t>(featureCount) * impl->columns, 0.0f);
    impl->bias.resize(static_cast<std::size_t>(impl->columns));
    for (int c = 0; c < impl->columns; ++c) {
        const Column &col = trained[static_cast<std::size_t>(c)];
        impl->bias[static_cast<std::size_t>(c)] = col.bias;
        for (int f = 0; f < featureCount; ++f)
            impl->weights[static_cast<std::size_t>(f) * impl->columns + c] = col.weights[static_cast<std::size_t>(f)];
    }
    return std::shared_ptr<const TextClassifier>(new TextClassifier(std::move(impl)));
}

Prediction TextClassifier::predict(const QString &text) const
{
    const int k = d->columns;
    std::vector<double> decision(static_cast<std::size_t>(k), 0.0);
    const TermCounts counts = d->hasher.countText(text);
    const auto &buckets = d->tfidf.buckets();
    const auto &idf = d->tfidf.idf();
    double norm = 0.0;
    auto from = buckets.begin();
    for (const auto &[bucket, n] : counts) {
        from = std::lower_bound(from, buckets.end(), bucket);
        if (from == buckets.end())
            break;
        if (*from != bucket)
            continue;
        const auto col = static_cast<std::size_t>(from - buckets.begin());
        const double v = sublinearTf(n) * idf[col];
        norm += v * v;
        const float *w = d->weights.data() + col * static_cast<std::size_t>(k);
        for (int c = 0; c < k; ++c)
            decision[static_cast<std::size_t>(c)] += v * w[c];
    }
    const double inv = norm > 0.0 ? 1.0 / std::sqrt(norm) : 0.0;
    for (int c = 0; c < k; ++c)
        decision[static_cast<std::size_t>(c)] = decision[static_cast<std::size_t>(c)] * inv + d->bias[static_cast<std::size_t>(c)];

    Prediction p;
    const auto classCount = static_cast<std::size_t>(d->classes.size());
    p.scores.resize(classCount);
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

int TextClassifier::trainingExamples() const
{
    return static_cast<int>(d->tfidf.documentCount());
}

qsizetype TextClassifier::featureCount() const
{
    return static_cast<qsizetype>(d->tfidf.size());
}

// Payload layout (big-endian), format version 1:
//   "TXTC", u8 multiLabel, f64 threshold, f64 c, u32 hashBits, u32 documents,
//   u32 classCount, classCount x (u32 length, UTF-8), u32 columns, u32 features,
//   features x varint bucket delta, features x varint df, columns x f32 bias,
//   features x columns x f32 weights.
QByteArray TextClassifier::payload() const
{
    Writer w;
    w.raw(kPayloadKind, 4);
    w.u8(d->options.multiLabel ? 1 : 0);
    w.f64(d->options.threshold);
    w.f64(d->options.c);
    w.u32(static_cast<quint32>(d->options.hashBits));
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
    for (float b : d->bias)
        w.f32(b);
    for (float x : d->weights)
        w.f32(x);
    return w.take();
}

std::shared_ptr<const TextClassifier> TextClassifier::fromPayload(const QByteArray &payload, QString *error)
{
    auto fail = [error](const QString &why) -> std::shared_ptr<const TextClassifier> {
        setError(error, why);
        return nullptr;
    };
    Reader r(payload);
    if (r.raw(4) != QByteArray(kPayloadKind, 4))
        return fail(QStringLiteral("it holds a different kind of model, not a text classifier"));
    auto impl = std::make_unique<Impl>();
    const quint8 multi = r.u8();
    impl->options.multiLabel = multi == 1;
    impl->options.threshold = r.f64();
    impl->options.c = r.f64();
    impl->options.hashBits = static_cast<int>(r.u32());
    const quint32 documents = r.u32();
    const quint32 classCount = r.u32();
    if (!r.ok() || multi > 1 || !(impl->options.threshold > 0.0 && impl->options.threshold < 1.0)
        || !(impl->options.c > 0.0) || impl->options.hashBits < FeatureHasher::kMinHashBits
        || impl->options.hashBits > FeatureHasher::kMaxHashBits || classCount < 2
        || classCount > static_cast<quint32>(r.remaining()))
        return fail(QStringLiteral("its settings are damaged"));
    impl->hasher = FeatureHasher(impl->options.hashBits);
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
    if (bucket >= (quint64(1) << impl->options.hashBits) && features > 0)
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
    const quint64 weightCount = quint64(features) * static_cast<quint64>(impl->columns);
    if (static_cast<quint64>(r.remaining()) != (weightCount + static_cast<quint64>(impl->columns)) * 4)
        return fail(QStringLiteral("its weights have the wrong size"));
    impl->bias.resize(static_cast<std::size_t>(impl->columns));
    for (float &b : impl->bias)
        b = r.f32();
    impl->weights.resize(weightCount);
    for (float &x : impl->weights)
        x = r.f32();
    const auto finite = [](float v) { return std::isfinite(v); };
    if (!r.ok() || !r.atEnd() || !std::all_of(impl->bias.begin(), impl->bias.end(), finite)
        || !std::all_of(impl->weights.begin(), impl->weights.end(), finite))
        return fail(QStringLiteral("its weights are damaged"));
    return std::shared_ptr<const TextClassifier>(new TextClassifier(std::move(impl)));
}

QByteArray TextClassifier::toBytes() const
{
    return ModelFile::encode(payload());
}

std::shared_ptr<const TextClassifier> TextClassifier::fromBytes(const QByteArray &bytes, QString *error)
{
    QString why;
    const auto p = ModelFile::decode(bytes, &why);
    if (!p) {
        setError(error, QStringLiteral("The model is refused: %1.").arg(why));
        return nullptr;
    }
    auto model = fromPayload(*p, &why);
    if (!model)
        setError(error, QStringLiteral("The model is refused: %1.").arg(why));
    return model;
}

bool TextClassifier::save(const QString &path, QString *error) const
{
    return ModelFile::write(path, payload(), error);
}

std::shared_ptr<const TextClassifier> TextClassifier::load(const QString &path, QString *error)
{
    const auto p = ModelFile::read(path, error);
    if (!p)
        return nullptr;
    QString why;
    auto model = fromPayload(*p, &why);
    if (!model)
        setError(error, QStringLiteral("The model file %1 is refused: %2.").arg(path, why));
    return model;
}

} // namespace loopdeck::model
