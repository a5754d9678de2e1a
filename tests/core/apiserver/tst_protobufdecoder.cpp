// Protobuf request bodies: bodies recorded from kubectl 1.32's create commands (tests/data/
// protobuf/*.pb, captured with -v=9) must decode to exactly the JSON the same command prints
// with --dry-run=client -o json (*.json beside them); malformed bodies fail with the place.
#include "core/apiserver/protobufdecoder.h"

#include <QDir>
#include <QFile>
#include <QtTest>

using namespace podscape::core;
using namespace podscape::core::apiserver;
using nlohmann::json;

namespace {

std::string readFile(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(path));
    return f.readAll().toStdString();
}

// kubectl prints Go's zero time as null; the decoder leaves it out, as JSON omits it.
void dropNulls(json &j)
{
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end();)
            if (it->is_null()) {
                it = j.erase(it);
            } else {
                dropNulls(*it);
                ++it;
            }
    } else if (j.is_array()) {
        for (auto &v : j)
            dropNulls(v);
    }
}

std::string varint(uint64_t v)
{
    std::string out;
    do {
        uint8_t b = v & 0x7F;
        v >>= 7;
        out.push_back(char(b | (v ? 0x80 : 0)));
    } while (v);
    return out;
}
std::string field(int number, const std::string &bytes) { return varint(uint64_t(number) << 3 | 2) + varint(bytes.size()) + bytes; }
std::string envelope(const std::string &apiVersion, const std::string &kind, const std::string &raw, const std::string &extra = {})
{
    return std::string("k8s\0", 4) + field(1, field(1, apiVersion) + field(2, kind)) + field(2, raw) + extra;
}

} // namespace

class TestProtobufDecoder : public QObject
{
    Q_OBJECT
private slots:
    void kubectlBodies_data()
    {
        QTest::addColumn<QString>("name");
        const QDir dir(QStringLiteral(PODSCAPE_TEST_DATA "/protobuf"));
        const auto files = dir.entryList({"*.pb"});
        QVERIFY(files.size() >= 7);
        for (const auto &f : files)
            QTest::newRow(qPrintable(f)) << dir.filePath(f.chopped(3));
    }
    void kubectlBodies()
    {
        QFETCH(QString, name);
        auto decoded = ProtobufDecoder::decode(readFile(name + ".pb"));
        QVERIFY2(decoded.ok(), decoded.ok() ? "" : decoded.error().message().c_str());
        json expected = json::parse(readFile(name + ".json"));
        dropNulls(expected);
        QVERIFY2(*decoded == expected, (decoded->dump(2) + "\nexpected\n" + expected.dump(2)).c_str());
    }

    void truncatedBodiesFailCleanly()
    {
        const std::string body = readFile(QStringLiteral(PODSCAPE_TEST_DATA "/protobuf/deployment.pb"));
        int failures = 0;
        for (size_t n = 0; n < body.size(); ++n)
            failures += ProtobufDecoder::decode(body.substr(0, n)).ok() ? 0 : 1;
        // Cutting a length-delimited body anywhere but at a field boundary of the outer
        // envelope breaks it; most cuts must fail, none may crash.
        QVERIFY(failures > int(body.size()) / 2);
    }

    void malformedBodies()
    {
        auto bad = ProtobufDecoder::decode("{\"kind\":\"ConfigMap\"}");
        QVERIFY(!bad.ok());
        QVERIFY(bad.error().message().find("magic") != std::string::npos);

        // A field this ConfigMap does not have, with the path to it.
        auto unknown = ProtobufDecoder::decode(envelope("v1", "ConfigMap", field(1, field(1, "cm")) + field(99, "x")));
        QVERIFY(!unknown.ok());
        QCOMPARE(unknown.error().reason(), Reason::BadRequest);
        QVERIFY2(unknown.error().message().find("field number 99") != std::string::npos, unknown.error().message().c_str());

        auto utf8 = ProtobufDecoder::decode(envelope("v1", "ConfigMap", field(1, field(1, "\xff\xfe"))));
        QVERIFY(!utf8.ok());
        QVERIFY2(utf8.error().message().find("metadata.name") != std::string::npos, utf8.error().message().c_str());
        QVERIFY(utf8.error().message().find("UTF-8") != std::string::npos);

        for (const char *bad : {"\xc0\x9a", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) { // overlong, surrogate, > U+10FFFF, cut
            auto r = ProtobufDecoder::decode(envelope("apps/v1", std::string(bad) + "Deployment", ""));
            QVERIFY(!r.ok());
            QVERIFY2(r.error().message().find("UTF-8") != std::string::npos, r.error().message().c_str());
        }
        QVERIFY(ProtobufDecoder::decode(envelope("v1", "ConfigMap", field(1, field(1, "caf\xc3\xa9")))).ok());

        auto kind = ProtobufDecoder::decode(envelope("batch/v1", "Job", ""));
        QVERIFY(!kind.ok());
        QCOMPARE(kind.error().reason(), Reason::UnsupportedMediaType);
        QVERIFY(kind.error().message().find("send Job as JSON") != std::string::npos);

        auto encoded = ProtobufDecoder::decode(envelope("v1", "ConfigMap", "", field(3, "gzip")));
        QVERIFY(!encoded.ok());
        QCOMPARE(encoded.error().reason(), Reason::UnsupportedMediaType);

        // A length running past the end.
        auto cut = ProtobufDecoder::decode(std::string("k8s\0", 4) + "\x0a\x7f" + "short");
        QVERIFY(!cut.ok());
        QCOMPARE(cut.error().reason(), Reason::BadRequest);
    }
};

QTEST_GUILESS_MAIN(TestProtobufDecoder)
#include "tst_protobufdecoder.moc"
