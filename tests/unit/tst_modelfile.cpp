// Unit tests for the model file container (modelfile.h) and TextClassifier save/load.
#include "core/model/modelfile.h"
#include "core/model/textclassifier.h"
#include "syntheticdata.h"

#include <QCryptographicHash>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace loopdeck::model;

class TestModelFile : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void roundTrip();
    void multiLabelRoundTrip();
    void containerRoundTrip();
    void refused_data();
    void refused();
    void everyFlippedByteIsRefused();
    void missingFileAndUnwritablePath();
    void formatOneFileStillLoads();
    void formatMismatchRefused();
    void formatTwoStillLoads();

private:
    void writeBytes(const QString &path, const QByteArray &bytes);

    QTemporaryDir m_dir;
    std::shared_ptr<const TextClassifier> m_model;
    QByteArray m_good;
};

void TestModelFile::writeBytes(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QCOMPARE(f.write(bytes), bytes.size());
}

void TestModelFile::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QString error;
    m_model = TextClassifier::train(testdata::topicSentences(30, 21), {}, &error);
    QVERIFY2(m_model, qPrintable(error));
    const QString path = m_dir.filePath(u"good.ldm"_qs);
    QVERIFY2(m_model->save(path, &error), qPrintable(error));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    m_good = f.readAll();
    QVERIFY(m_good.startsWith("LDKMODEL"));
}

void TestModelFile::roundTrip()
{
    QString error;
    const auto loaded = TextClassifier::load(m_dir.filePath(u"good.ldm"_qs), &error);
    QVERIFY2(loaded, qPrintable(error));
    QCOMPARE(loaded->classes(), m_model->classes());
    QCOMPARE(loaded->isMultiLabel(), m_model->isMultiLabel());
    QCOMPARE(loaded->featureCount(), m_model->featureCount());
    QCOMPARE(loaded->trainingExamples(), m_model->trainingExamples());
    QCOMPARE(loaded->toBytes(), m_good);
    for (const Example &e : testdata::topicSentences(10, 22)) {
        const Prediction a = m_model->predict(e.text);
        const Prediction b = loaded->predict(e.text);
        QCOMPARE(a.labels, b.labels);
        QCOMPARE(a.score, b.score);
    }
    // In-memory bytes behave like the file.
    QVERIFY(TextClassifier::fromBytes(m_good, &error));
}

void TestModelFile::multiLabelRoundTrip()
{
    TrainOptions o;
    o.multiLabel = true;
    o.threshold = 0.3;
    o.c = 3.5;
    o.hashBits = 16;
    const auto model = TextClassifier::train(testdata::topicSentences(30, 23, true), o, nullptr);
    QVERIFY(model);
    QString error;
    const QString path = m_dir.filePath(u"multi.ldm"_qs);
    QVERIFY(model->save(path, &error));
    const auto loaded = TextClassifier::load(path, &error);
    QVERIFY2(loaded, qPrintable(error));
    QVERIFY(loaded->isMultiLabel());
    QCOMPARE(loaded->options().threshold, 0.3);
    QCOMPARE(loaded->options().c, 3.5);
    QCOMPARE(loaded->options().hashBits, 16);
    const QString text = u"goal team and pasta recipe"_qs;
    QCOMPARE(loaded->predict(text).labels, model->predict(text).labels);
}

void TestModelFile::containerRoundTrip()
{
    const QByteArray payload("hello \0 world", 13);
    QString error;
    const auto back = ModelFile::decode(ModelFile::encode(payload), &error);
    QVERIFY2(back, qPrintable(error));
    QCOMPARE(*back, payload);
    QVERIFY(ModelFile::decode(ModelFile::encode({}), &error)); // empty payload is still a file
}

void TestModelFile::refused_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("expected");
    QByteArray flipped = m_good;
    flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x01);
    QByteArray wrongMagic = m_good;
    wrongMagic[0] = 'X';
    QByteArray newer = m_good;
    newer[11] = 99; // format version (big-endian u32 at offset 8)
    QTest::newRow("flipped byte") << flipped << u"checksum"_qs;
    QTest::newRow("truncated") << m_good.left(m_good.size() - 100) << u"truncated"_qs;
    QTest::newRow("truncated header") << m_good.left(12) << u"truncated"_qs;
    QTest::newRow("trailing") << m_good + "junk" << u"unexpected bytes"_qs;
    QTest::newRow("wrong magic") << wrongMagic << u"not a LoopDeck model"_qs;
    QTest::newRow("foreign") << QByteArray("PK\x03\x04 a zip file, not ours") << u"not a LoopDeck model"_qs;
    QTest::newRow("empty") << QByteArray() << u"empty"_qs;
    QTest::newRow("newer version") << newer << u"version 99"_qs;
    // A valid container with a payload that is not a classifier.
    QTest::newRow("foreign payload") << ModelFile::encode("XXXXsomething") << u"different kind of model"_qs;
    QTest::newRow("short payload") << ModelFile::encode(QByteArray("TXC3\x00", 5)) << u"damaged"_qs;
    QTest::newRow("short format-2 payload") << ModelFile::encode(QByteArray("TXC2\x00", 5), 2) << u"damaged"_qs;
    QTest::newRow("short format-1 payload") << ModelFile::encode(QByteArray("TXTC\x00", 5), 1) << u"damaged"_qs;
}

void TestModelFile::refused()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, expected);
    const QString path = m_dir.filePath(u"bad.ldm"_qs);
    writeBytes(path, bytes);
    QString error;
    QVERIFY(!TextClassifier::load(path, &error));
    QVERIFY2(error.contains(expected), qPrintable(error));
    QVERIFY2(error.contains(path), qPrintable(error));
    QVERIFY(!TextClassifier::fromBytes(bytes, &error));
}

void TestModelFile::everyFlippedByteIsRefused()
{
    // Sample positions across header, payload and checksum.
    for (qsizetype pos = 0; pos < m_good.size(); pos += std::max<qsizetype>(1, m_good.size() / 97)) {
        QByteArray bad = m_good;
        bad[pos] = static_cast<char>(bad[pos] ^ 0x40);
        QString error;
        QVERIFY2(!TextClassifier::fromBytes(bad, &error), qPrintable(QString::number(pos)));
        QVERIFY(!error.isEmpty());
    }
}

void TestModelFile::missingFileAndUnwritablePath()
{
    QString error;
    QVERIFY(!TextClassifier::load(m_dir.filePath(u"nope.ldm"_qs), &error));
    QVERIFY2(error.contains(u"Cannot open"), qPrintable(error));
    QVERIFY(!m_model->save(m_dir.filePath(u"no/such/dir/m.ldm"_qs), &error));
    QVERIFY2(error.contains(u"Cannot write"), qPrintable(error));
    // A failed save leaves an existing model untouched.
    const QString path = m_dir.filePath(u"good.ldm"_qs);
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), m_good);
}

void TestModelFile::formatOneFileStillLoads()
{
    // Written by LoopDeck before format 2 (word uni+bigrams, logistic regression), from
    // tests/data/model/textclassifier-v1.jsonl with --hash-bits 12. The expected scores are what
    // that version printed for these texts.
    QString error;
    const auto old = TextClassifier::load(QStringLiteral(LOOPDECK_TESTDATA "/model/textclassifier-v1.ldm"), &error);
    QVERIFY2(old, qPrintable(error));
    QCOMPARE(old->selection().formatVersion, 1);
    QCOMPARE(old->selection().calibration, u"none (format 1)"_qs);
    QCOMPARE(old->classes(), (QStringList{u"food"_qs, u"sport"_qs, u"tech"_qs}));
    QCOMPARE(old->options().hashBits, 12);
    QVERIFY(!old->options().charGrams);
    QCOMPARE(old->trainingExamples(), 12);
    const Prediction a = old->predict(u"the referee stopped the match"_qs);
    QCOMPARE(a.labels, QStringList{u"sport"_qs});
    QVERIFY(qAbs(a.score - 0.627192147053592) < 1e-9);
    const Prediction b = old->predict(u"我的电脑软件"_qs);
    QCOMPARE(b.labels, QStringList{u"tech"_qs});
    QVERIFY(qAbs(b.score - 0.7268980342869729) < 1e-9);
    const Prediction c = old->predict(u"garlic pasta"_qs);
    QCOMPARE(c.labels, QStringList{u"food"_qs});
    QVERIFY(qAbs(c.score - 0.5661464241185146) < 1e-9);
    // Saving it again writes format 1, byte for byte what was read.
    QFile f(QStringLiteral(LOOPDECK_TESTDATA "/model/textclassifier-v1.ldm"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(old->toBytes(), f.readAll());
}

void TestModelFile::formatMismatchRefused()
{
    // A container that claims format 1 but holds a format-2 payload (and the reverse) is refused
    // with a clear message, never misread.
    QByteArray v2 = m_good;
    const auto payload = ModelFile::decode(v2, nullptr);
    QVERIFY(payload);
    QByteArray file = ModelFile::encode(*payload);
    file[11] = 1; // version field, big-endian u32 at offset 8
    // re-seal the checksum over the edited header
    file = file.left(file.size() - ModelFile::kChecksumSize);
    file.append(QCryptographicHash::hash(file, QCryptographicHash::Sha256));
    QString error;
    QVERIFY(!TextClassifier::fromBytes(file, &error));
    QVERIFY2(error.contains(u"do not match its format version 1"), qPrintable(error));
    QByteArray v1 = QFile(QStringLiteral(LOOPDECK_TESTDATA "/model/textclassifier-v1.ldm")).exists()
        ? [] {
              QFile f(QStringLiteral(LOOPDECK_TESTDATA "/model/textclassifier-v1.ldm"));
              return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
          }()
        : QByteArray();
    QVERIFY(!v1.isEmpty());
    quint32 version = 0;
    const auto p1 = ModelFile::decode(v1, &error, &version);
    QVERIFY(p1);
    QCOMPARE(version, 1u);
    QVERIFY(!TextClassifier::fromBytes(ModelFile::encode(*p1, 2), &error));
    QVERIFY2(error.contains(u"do not match its format version 2"), qPrintable(error));
}

void TestModelFile::formatTwoStillLoads()
{
    // A model without a pool representation is written as format 2 (payload TXC2), which a
    // LoopDeck of format 2 reads. The same model as a format-3 file carries a zero dimensions
    // field (u32) between the calibration and the bias: it loads too and predicts the same.
    QString error;
    const auto payload = ModelFile::decode(m_good, &error);
    QVERIFY(payload);
    QCOMPARE(m_model->poolDimensions(), 0);
    QCOMPARE(m_model->selection().formatVersion, 2);
    QCOMPARE(payload->left(4), QByteArray("TXC2"));
    const qsizetype columns = m_model->classes().size(); // three classes: one column each
    const qsizetype tail = m_model->featureCount() * columns * 2 + columns * 8;
    const QByteArray v2 = *payload;
    QByteArray v3 = v2;
    v3.insert(v3.size() - tail, QByteArray(4, '\0'));
    v3.replace(0, 4, QByteArray("TXC3"));
    const QByteArray file = ModelFile::encode(v3, 3);
    const auto newer = TextClassifier::fromBytes(file, &error);
    QVERIFY2(newer, qPrintable(error));
    QCOMPARE(newer->selection().formatVersion, 3);
    QCOMPARE(newer->poolDimensions(), 0);
    for (const QString &t : {u"goal team and pasta recipe"_qs, u"我的电脑软件"_qs, u"kernel"_qs}) {
        const Prediction a = newer->predict(t), b = m_model->predict(t);
        QCOMPARE(a.labels, b.labels);
        QVERIFY(a.score == b.score);
    }
    QCOMPARE(newer->toBytes(), file); // written back as format 3
    QCOMPARE(m_model->toBytes(), ModelFile::encode(v2, 2));
    // The same payload claimed as format 3 is refused.
    QVERIFY(!TextClassifier::fromBytes(ModelFile::encode(v2, 3), &error));
    QVERIFY2(error.contains(u"do not match its format version 3"), qPrintable(error));
}

QTEST_MAIN(TestModelFile)
#include "tst_modelfile.moc"
