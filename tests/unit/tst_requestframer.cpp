// RequestFramer without sockets: where requests begin and end on one connection, whatever
// way the bytes are split, and which framings it refuses (chunked 411, two lengths, bare LF,
// huge headers or bodies) so that it can never disagree with QHttpServer.
#include "core/backend/requestframer.h"

#include <QTest>

using loopdeck::backend::FramingError;
using loopdeck::backend::RequestFramer;
using loopdeck::backend::RequestHead;

namespace {

struct Seen {
    QList<RequestHead> heads;
    QList<QByteArray> bodies;
};

RequestFramer makeFramer(Seen *seen, RequestFramer::Limits limits = {}, RequestFramer::HeadCheck check = {})
{
    return RequestFramer(limits, std::move(check),
                         [seen](const RequestHead &head, const QByteArray &body) {
                             seen->heads.append(head);
                             seen->bodies.append(body);
                         },
                         true);
}

const QByteArray kTwo = "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
                        "{\"tasks\":1}"
                        "GET /health?x=1 HTTP/1.1\r\nHost: x\r\n\r\n";

} // namespace

class TestRequestFramer final : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void pipelinedRequestsInOneChunk()
    {
        Seen seen;
        RequestFramer f = makeFramer(&seen);
        QVERIFY(!f.feed(kTwo));
        QCOMPARE(seen.heads.size(), 2);
        QCOMPARE(seen.heads[0].method, QByteArray("POST"));
        QCOMPARE(seen.heads[0].path(), QByteArray("/predict"));
        QCOMPARE(seen.heads[0].header("content-type"), QByteArray("application/json"));
        QCOMPARE(seen.bodies[0], QByteArray("{\"tasks\":1}"));
        QCOMPARE(seen.heads[1].path(), QByteArray("/health"));
        QCOMPARE(seen.heads[1].query(), QByteArray("x=1"));
        QCOMPARE(seen.bodies[1], QByteArray());
        QVERIFY(f.idle());
    }

    void anySplitGivesTheSameRequests()
    {
        for (qsizetype step = 1; step <= kTwo.size(); ++step) {
            Seen seen;
            RequestFramer f = makeFramer(&seen);
            for (qsizetype i = 0; i < kTwo.size(); i += step)
                QVERIFY(!f.feed(kTwo.mid(i, step)));
            QCOMPARE(seen.heads.size(), 2);
            QCOMPARE(seen.bodies[0], QByteArray("{\"tasks\":1}"));
            QCOMPARE(seen.heads[1].path(), QByteArray("/health"));
        }
    }

    void lastChunkMarkerInsideABodyIsJustData()
    {
        // The old guard ended a request at "\r\n0\r\n\r\n" wherever it appeared.
        const QByteArray body = "{\"a\":\"\r\n0\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n\"}";
        const QByteArray req = "POST /webhook HTTP/1.1\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
        Seen seen;
        RequestFramer f = makeFramer(&seen);
        QVERIFY(!f.feed(req));
        QCOMPARE(seen.heads.size(), 1);
        QCOMPARE(seen.bodies[0], body);
    }

    void refusals_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<int>("status");
        QTest::newRow("chunked") << QByteArray("POST /webhook HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n") << 411;
        QTest::newRow("chunked, odd case") << QByteArray("POST /webhook HTTP/1.1\r\ntransfer-ENCODING: gzip, Chunked\r\n\r\n") << 411;
        QTest::newRow("two lengths") << QByteArray("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab") << 400;
        QTest::newRow("negative length") << QByteArray("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n") << 400;
        QTest::newRow("length with sign") << QByteArray("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n") << 400;
        QTest::newRow("length overflow") << QByteArray("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n") << 400;
        QTest::newRow("body over limit") << QByteArray("POST / HTTP/1.1\r\nContent-Length: 1025\r\n\r\n") << 413;
        QTest::newRow("bare LF") << QByteArray("GET / HTTP/1.1\nHost: x\n\n") << 400;
        QTest::newRow("bare LF in a header") << QByteArray("GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n") << 400;
        QTest::newRow("stray CR") << QByteArray("GET / HTTP/1.1\r\nHost: x\ry\r\n\r\n") << 400;
        QTest::newRow("folded header") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n y\r\n\r\n") << 400;
        QTest::newRow("space before colon") << QByteArray("GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n") << 400;
        QTest::newRow("no colon") << QByteArray("GET / HTTP/1.1\r\nHost\r\n\r\n") << 400;
        QTest::newRow("absolute target") << QByteArray("GET http://x/ HTTP/1.1\r\n\r\n") << 400;
        QTest::newRow("bad version") << QByteArray("GET / HTTP/2.0\r\n\r\n") << 505;
        QTest::newRow("request line") << QByteArray("GET /\r\n\r\n") << 400;
        QTest::newRow("upgrade") << QByteArray("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n") << 400;
        QTest::newRow("connect") << QByteArray("CONNECT /x HTTP/1.1\r\n\r\n") << 405;
        QTest::newRow("header too large") << QByteArray("GET / HTTP/1.1\r\nX: " + QByteArray(5000, 'a')) << 431;
        QByteArray many = "GET / HTTP/1.1\r\n";
        for (int i = 0; i < 101; ++i)
            many += "X" + QByteArray::number(i) + ": y\r\n";
        QTest::newRow("too many headers") << many + "\r\n" << 431;
    }

    void refusals()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(int, status);
        RequestFramer::Limits limits;
        limits.maxBodyBytes = 1024;
        limits.maxHeaderBytes = 4096;
        Seen seen;
        RequestFramer f = makeFramer(&seen, limits);
        const auto error = f.feed(bytes);
        QVERIFY2(error.has_value(), bytes.constData());
        QCOMPARE(error->status, status);
        QVERIFY(!error->message.isEmpty());
        QVERIFY(seen.heads.isEmpty());
        QVERIFY(f.failed());
        // After a refusal nothing more is framed.
        QVERIFY(!f.feed(QByteArray("GET / HTTP/1.1\r\n\r\n")));
        QVERIFY(seen.heads.isEmpty());
    }

    void headCheckRunsBeforeTheBody()
    {
        Seen seen;
        int checked = 0;
        RequestFramer f = makeFramer(&seen, {}, [&](const RequestHead &head) -> std::optional<FramingError> {
            ++checked;
            if (head.header("authorization").isEmpty())
                return FramingError(401, QStringLiteral("no auth"));
            return std::nullopt;
        });
        // Headers only, the declared body not sent yet: the check has already refused.
        const auto error = f.feed(QByteArray("POST /setup HTTP/1.1\r\nContent-Length: 1000\r\n\r\n"));
        QCOMPARE(checked, 1);
        QVERIFY(error.has_value());
        QCOMPARE(error->status, 401);
        QCOMPARE(f.current().path(), QByteArray("/setup"));
        QVERIFY(seen.heads.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestRequestFramer)
#include "tst_requestframer.moc"
