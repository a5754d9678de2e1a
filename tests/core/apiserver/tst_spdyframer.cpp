// SPDY/3.1 framing: the dictionary, frames cut anywhere, one compression context per
// direction, and malformed input refused with a reason. (kubectl itself is the judge of
// interoperability in tst_nodeproxy.)
#include "core/apiserver/outboundqueue.h"
#include "core/apiserver/spdyframer.h"

#include <QtTest>

#include <thread>
#include <zlib.h>

using namespace podscape::core::apiserver;

namespace {
using Headers = std::vector<std::pair<std::string, std::string>>;
std::string bigEndian32(uint32_t v)
{
    return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}
} // namespace

class TestSpdyFramer : public QObject
{
    Q_OBJECT
private slots:
    void dictionaryIsTheSpecs()
    {
        const std::string &d = SpdyFramer::dictionary();
        QCOMPARE(d.size(), size_t(1423));
        // zlib names a preset dictionary by its Adler-32: the value SPDY/3 peers expect.
        QCOMPARE(adler32(adler32(0, nullptr, 0), reinterpret_cast<const Bytef *>(d.data()), uInt(d.size())), 0xe3c6a7c2UL);
    }

    void framesSurviveAnyCut()
    {
        SpdyFramer client, server;
        const Headers h1 = {{"streamtype", "error"}, {"port", "8080"}, {"requestid", "0"}};
        const Headers h2 = {{"streamtype", "data"}, {"port", "8080"}, {"requestid", "0"}};
        const std::string first = client.synStream(1, h1, true);
        const std::string second = client.synStream(3, h2, false); // after `first`: one context
        // The second block reuses the first's context: the same names cost almost nothing.
        QVERIFY(second.size() < first.size());
        std::string wire = first + second + SpdyFramer::data(3, "hello", false) + SpdyFramer::ping(7)
            + SpdyFramer::data(3, "", true) + SpdyFramer::rstStream(3, SpdyFrame::kCancel);
        std::vector<SpdyFrame> frames;
        // One byte at a time: WebSocket messages do not follow frame boundaries.
        for (char c : wire) {
            auto got = server.feed(std::string_view(&c, 1));
            QVERIFY(got.ok());
            for (auto &f : *got)
                frames.push_back(std::move(f));
        }
        QCOMPARE(frames.size(), size_t(6));
        QCOMPARE(frames[0].type, uint16_t(SpdyFrame::SynStream));
        QCOMPARE(frames[0].streamId, 1u);
        QVERIFY(frames[0].fin());
        QCOMPARE(frames[0].headers, h1);
        QCOMPARE(frames[1].header("StreamType"), std::string("data"));
        QCOMPARE(frames[2].type, uint16_t(SpdyFrame::Data));
        QCOMPARE(frames[2].data, std::string("hello"));
        QVERIFY(!frames[2].fin());
        QCOMPARE(frames[3].type, uint16_t(SpdyFrame::Ping));
        QCOMPARE(frames[3].value, 7u);
        QVERIFY(frames[4].fin() && frames[4].data.empty());
        QCOMPARE(frames[5].type, uint16_t(SpdyFrame::RstStream));
        QCOMPARE(frames[5].value, SpdyFrame::kCancel);

        // And back: the server's replies decode at the client.
        std::string replyWire = server.synReply(1, {}, false); // in order: they share a context
        replyWire += server.synReply(3, {{"a", "b"}}, false);
        auto replies = client.feed(replyWire);
        QVERIFY(replies.ok());
        QCOMPARE(replies->size(), size_t(2));
        QCOMPARE((*replies)[1].header("a"), std::string("b"));
    }

    void malformedInputIsRefused()
    {
        {
            SpdyFramer f; // a SPDY/2 control frame
            auto r = f.feed(std::string("\x80\x02\x00\x01\x00\x00\x00\x00", 8));
            QVERIFY(!r.ok());
            QVERIFY(r.error().message().find("version 2") != std::string::npos);
        }
        {
            SpdyFramer f; // a frame longer than accepted, refused from its header alone
            auto r = f.feed(bigEndian32(1) + bigEndian32(0x00FFFFFF));
            QVERIFY(!r.ok());
            QVERIFY(r.error().message().find("accepts up to") != std::string::npos);
        }
        {
            SpdyFramer f; // a header block that is not zlib
            std::string payload = bigEndian32(1) + bigEndian32(0) + std::string(2, '\0') + "not zlib at all";
            auto r = f.feed(bigEndian32(0x80030001) + bigEndian32(uint32_t(payload.size())) + payload);
            QVERIFY(!r.ok());
            QVERIFY(r.error().message().find("header block") != std::string::npos);
        }
        {
            SpdyFramer f; // too short for its type
            auto r = f.feed(bigEndian32(0x80030003) + bigEndian32(4) + bigEndian32(1));
            QVERIFY(!r.ok());
            QVERIFY(r.error().message().find("too short") != std::string::npos);
        }
        {
            SpdyFramer f; // an incomplete frame is kept for the next bytes, not an error
            auto r = f.feed(std::string("\x00\x00\x00\x01\x00\x00\x00\x05hel", 11));
            QVERIFY(r.ok());
            QVERIFY(r->empty());
            r = f.feed("lo");
            QVERIFY(r.ok());
            QCOMPARE(r->size(), size_t(1));
            QCOMPARE(r->front().data, std::string("hello"));
        }
    }

    void outboundQueueIsBounded()
    {
        OutboundQueue q(10);
        QVERIFY(q.push("12345678"));
        QVERIFY(q.push("ab", false)); // exactly full
        QVERIFY(q.push("control", true)); // forced past the bound
        auto joined = q.pop(std::chrono::milliseconds(0), true);
        QCOMPARE(*joined, std::string("12345678ab")); // concatenated up to the bound
        QCOMPARE(*q.pop(std::chrono::milliseconds(0), true), std::string("control"));
        QVERIFY(!q.pop(std::chrono::milliseconds(0), true));
        // A producer waiting on a full queue is released by close() and told so.
        QVERIFY(q.push("1234567890"));
        bool pushed = true;
        std::thread producer([&] { pushed = q.push("more"); });
        q.close();
        producer.join();
        QVERIFY(!pushed);
        QCOMPARE(*q.pop(std::chrono::milliseconds(0), false), std::string("1234567890"));
    }
};

QTEST_GUILESS_MAIN(TestSpdyFramer)
#include "tst_spdyframer.moc"
