#include "core/model/yamlcodec.h"
#include "tests/testdata.h"

#include <QtTest>


using namespace podscape::core;
using namespace podscape::core::model;
using nlohmann::json;

namespace {
std::string readData(const char *name) { return podscape::tests::readTestData(std::string("manifests/") + name); }
} // namespace

class TestYamlCodec : public QObject
{
    Q_OBJECT
private slots:
    void scalarTyping_data()
    {
        QTest::addColumn<QString>("yaml");
        QTest::addColumn<QString>("json");
        QTest::newRow("int") << "v: 8080" << R"({"v":8080})";
        QTest::newRow("quoted int stays string") << "v: \"8080\"" << R"({"v":"8080"})";
        QTest::newRow("single quoted") << "v: '8080'" << R"({"v":"8080"})";
        QTest::newRow("yes is bool") << "v: yes" << R"({"v":true})";
        QTest::newRow("Off is bool") << "v: Off" << R"({"v":false})";
        QTest::newRow("quoted yes") << "v: \"yes\"" << R"({"v":"yes"})";
        QTest::newRow("tilde null") << "v: ~" << R"({"v":null})";
        QTest::newRow("empty null") << "v:" << R"({"v":null})";
        QTest::newRow("octal") << "v: 0644" << R"({"v":420})";
        QTest::newRow("hex") << "v: 0x1F" << R"({"v":31})";
        QTest::newRow("underscores") << "v: 1_000" << R"({"v":1000})";
        QTest::newRow("negative") << "v: -12" << R"({"v":-12})";
        QTest::newRow("float") << "v: 1.5" << R"({"v":1.5})";
        QTest::newRow("exponent") << "v: 1e3" << R"({"v":1000.0})";
        QTest::newRow("quantity string") << "v: 500m" << R"({"v":"500m"})";
        QTest::newRow("version-like") << "v: 1.2.3" << R"({"v":"1.2.3"})";
        QTest::newRow("timestamp stays string") << "v: 2024-05-01" << R"({"v":"2024-05-01"})";
        QTest::newRow("explicit str tag") << "v: !!str 10" << R"({"v":"10"})";
        QTest::newRow("explicit int tag") << "v: !!int \"10\"" << R"({"v":10})";
        QTest::newRow("literal block") << "v: |\n  a\n  b\n" << R"({"v":"a\nb\n"})";
        QTest::newRow("folded block") << "v: >-\n  a\n  b\n" << R"({"v":"a b"})";
        QTest::newRow("comments ignored") << "# top\nv: 1 # trailing\n# end" << R"({"v":1})";
        QTest::newRow("numeric key is string") << "8080: http" << R"({"8080":"http"})";
        QTest::newRow("flow") << "v: {a: [1, \"2\", c]}" << R"({"v":{"a":[1,"2","c"]}})";
        QTest::newRow("anchor and alias") << "a: &x {p: 1}\nb: *x" << R"({"a":{"p":1},"b":{"p":1}})";
        QTest::newRow("merge key") << "a: &x {p: 1, q: 2}\nb:\n  <<: *x\n  q: 3" << R"({"a":{"p":1,"q":2},"b":{"p":1,"q":3}})";
        QTest::newRow("big unsigned") << "v: 18446744073709551615" << R"({"v":18446744073709551615})";
        QTest::newRow("inf stays text") << "v: .inf" << R"({"v":".inf"})";
    }
    void scalarTyping()
    {
        QFETCH(QString, yaml);
        QFETCH(QString, json);
        auto doc = decodeYamlDocument(yaml.toStdString());
        QVERIFY2(doc.ok(), doc.ok() ? "" : doc.error().message().c_str());
        QCOMPARE(QString::fromStdString(doc->value.dump()), QString::fromStdString(json::parse(json.toStdString()).dump()));
    }

    void multiDocumentStream()
    {
        auto docs = decodeYamlStream(readData("kubia-deployment.yaml"), YamlDecodeOptions::forSource("kubia-deployment.yaml"));
        QVERIFY2(docs.ok(), docs.ok() ? "" : docs.error().message().c_str());
        QCOMPARE(docs->size(), size_t(2)); // the trailing empty document is skipped
        const auto &deploy = (*docs)[0];
        QCOMPARE(deploy.value["kind"], "Deployment");
        QCOMPARE(deploy.value["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"], "yes");
        QCOMPARE(deploy.value["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"], "8080");
        QCOMPARE(deploy.value["metadata"]["annotations"]["kubernetes.io/change-cause"], "kubectl apply --record");
        // positions: line of the key (1-based), first line is a comment
        QCOMPARE(deploy.positionOf("/spec/replicas"), (SourcePosition{11, 3}));
        QCOMPARE(deploy.positionOf("/spec/template/spec/containers/0"), (SourcePosition{28, 9}));
        QCOMPARE(deploy.positionOf("/spec/template/spec/containers/0/image"), (SourcePosition{28, 9}));
        QCOMPARE(deploy.positionOf("/spec/template/spec/containers/0/name"), (SourcePosition{29, 9}));
        // unknown pointer falls back to its nearest ancestor
        QCOMPARE(deploy.positionOf("/spec/replicas/nope"), (SourcePosition{11, 3}));
        const auto &svc = (*docs)[1];
        QCOMPARE(svc.index, 1);
        QCOMPARE(svc.value["spec"]["ports"][0]["nodePort"], 30123);
        QCOMPARE(svc.positionOf("/spec/ports/0/nodePort"), (SourcePosition{61, 5}));
    }

    void seedPodTabsReported()
    {
        auto docs = decodeYamlStream(readData("seed-pod-tabs.yaml"), YamlDecodeOptions::forSource("pod.yaml"));
        QVERIFY(!docs.ok());
        const auto &msg = docs.error().message();
        QCOMPARE(docs.error().reason(), Reason::BadRequest);
        QVERIFY2(msg.rfind("pod.yaml:4:1: ", 0) == 0, msg.c_str());
        QVERIFY2(msg.find("tab") != std::string::npos, msg.c_str());
        QVERIFY2(msg.find("spaces") != std::string::npos, msg.c_str());
    }

    void tabsInsideBlockScalarAllowed()
    {
        auto doc = decodeYamlDocument("script: |\n  echo a\n  \techo b\nnext: 1\n");
        QVERIFY2(doc.ok(), doc.ok() ? "" : doc.error().message().c_str());
        QCOMPARE(doc->value["script"], "echo a\n\techo b\n");
        QCOMPARE(doc->value["next"], 1);
        // ...but a tab indenting the next key is still caught
        auto bad = decodeYamlDocument("script: |\n  echo a\n\tnext: 1\n");
        QVERIFY(!bad.ok());
        QVERIFY(bad.error().message().find("line 3, column 1") != std::string::npos);
    }

    void errors_data()
    {
        QTest::addColumn<QString>("yaml");
        QTest::addColumn<QString>("expected");
        QTest::newRow("duplicate key") << "a: 1\nb: 2\na: 3\n" << "line 3, column 1: duplicate key \"a\" in the same mapping (first at line 1)";
        QTest::newRow("bad indentation") << "a:\n  b: 1\n c: 2\n" << "line 3";
        QTest::newRow("unclosed flow") << "a: [1, 2\n" << "line ";
        QTest::newRow("bad alias") << "a: *nope\n" << "line 1";
        QTest::newRow("complex key") << "? [a]\n: 1\n" << "mapping key";
        QTest::newRow("bad int tag") << "a: !!int abc\n" << "tagged !!int";
        QTest::newRow("control character") << QString("a: 1\nb: x\x01y\n") << "line 2, column 5: control character U+0001";
    }
    void errors()
    {
        QFETCH(QString, yaml);
        QFETCH(QString, expected);
        auto docs = decodeYamlStream(yaml.toStdString());
        QVERIFY(!docs.ok());
        QCOMPARE(docs.error().reason(), Reason::BadRequest);
        QVERIFY2(docs.error().message().find(expected.toStdString()) != std::string::npos,
                 docs.error().message().c_str());
    }

    void notUtf8()
    {
        // yaml-cpp would guess UTF-16 from "\x01\x00" and read binary as text (a fuzzer finding).
        for (std::string text : {std::string("a: 1\nb: \xff\n"), std::string("\x01\x00\xff\x00", 4), std::string("a: \xc3\x28\n"),
                                 std::string("a: \xef\xbf\xbf\n")}) {
            auto docs = decodeYamlStream(text);
            QVERIFY(!docs.ok());
            QCOMPARE(docs.error().reason(), Reason::BadRequest);
        }
        auto d = decodeYamlStream("a: 1\nb: \xff\n");
        QVERIFY2(d.error().message().find("line 2, column 4: the text is not valid UTF-8 (byte 0xff)") == 0, d.error().message().c_str());
        // real UTF-8 is fine
        auto ok = decodeYamlDocument("greeting: \xe4\xbd\xa0\xe5\xa5\xbd\n");
        QVERIFY(ok.ok());
        QCOMPARE(ok->value["greeting"].get<std::string>().size(), size_t(6));
    }

    void billionLaughsBounded()
    {
        std::string y = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
        char prev = 'a';
        for (char c = 'b'; c <= 'k'; ++c, ++prev)
            y += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *"
                 + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n";
        auto docs = decodeYamlStream(y);
        QVERIFY(!docs.ok());
        QVERIFY(docs.error().message().find("too many values") != std::string::npos);
    }

    void sizeAndDepthLimits()
    {
        auto big = decodeYamlStream(std::string(100, 'a'), YamlDecodeOptions::withMaxBytes(10));
        QVERIFY(!big.ok());
        QCOMPARE(big.error().reason(), Reason::RequestEntityTooLarge);
        std::string deep;
        for (int i = 0; i < 300; ++i)
            deep += "[";
        auto d = decodeYamlStream(deep);
        QVERIFY(!d.ok());
    }

    void jsonInput()
    {
        auto docs = decodeManifests("{\n  \"kind\": \"Pod\",\n  \"spec\": {\"x\": \"8080\", \"n\": 1.0}\n}");
        QVERIFY2(docs.ok(), docs.ok() ? "" : docs.error().message().c_str());
        QCOMPARE(docs->front().value["spec"]["x"], "8080");
        QCOMPARE(docs->front().positionOf("/spec/x"), (SourcePosition{3, 12}));
        auto bad = decodeManifests("{\n  \"kind\": \"Pod\",\n  \"spec\": {\"x\": }\n}", YamlDecodeOptions::forSource("p.json"));
        QVERIFY(!bad.ok());
        QVERIFY2(bad.error().message().rfind("p.json:3:", 0) == 0, bad.error().message().c_str());
        QVERIFY(bad.error().message().find("invalid JSON") != std::string::npos);
    }

    void encodeOrderAndQuoting()
    {
        json pod = {{"status", {{"phase", "Running"}}},
                    {"spec", {{"containers", json::array({{{"name", "kubia"}, {"image", "luksa/kubia"}}})}}},
                    {"metadata", {{"name", "kubia"}, {"labels", {{"version", "1.0"}, {"enabled", "yes"}, {"port", "8080"}}}}},
                    {"kind", "Pod"},
                    {"apiVersion", "v1"},
                    {"data", {{"script", "line1\nline2\n"}, {"empty", ""}, {"nothing", nullptr}}}};
        std::string y = encodeYaml(pod);
        // top-level order as kubectl prints it
        auto at = [&](const char *k) { return y.find(std::string("\n") + k + ":") + 1; };
        QVERIFY(y.rfind("apiVersion: v1\n", 0) == 0);
        QVERIFY(at("kind") < at("metadata"));
        QVERIFY(at("metadata") < at("spec"));
        QVERIFY(at("spec") < at("status"));
        QVERIFY(at("status") < at("data"));
        QVERIFY2(y.find("\"1.0\"") != std::string::npos, y.c_str());
        QVERIFY2(y.find("\"yes\"") != std::string::npos, y.c_str());
        QVERIFY2(y.find("\"8080\"") != std::string::npos, y.c_str());
        QVERIFY2(y.find("script: |") != std::string::npos, y.c_str());
        // and everything reads back to the same JSON
        auto back = decodeYamlDocument(y);
        QVERIFY2(back.ok(), y.c_str());
        QCOMPARE(back->value, pod);
    }

    void roundTripRealisticManifests()
    {
        auto docs = decodeYamlStream(readData("kubia-deployment.yaml"));
        QVERIFY(docs.ok());
        std::vector<json> values;
        for (auto &d : *docs)
            values.push_back(d.value);
        std::string text = encodeYamlStream(values);
        auto again = decodeYamlStream(text);
        QVERIFY2(again.ok(), text.c_str());
        QCOMPARE(again->size(), values.size());
        for (size_t i = 0; i < values.size(); ++i)
            QCOMPARE((*again)[i].value, values[i]);
        // encoding is a fixed point
        std::vector<json> values2;
        for (auto &d : *again)
            values2.push_back(d.value);
        QCOMPARE(encodeYamlStream(values2), text);
    }
};

QTEST_GUILESS_MAIN(TestYamlCodec)
#include "tst_yamlcodec.moc"
