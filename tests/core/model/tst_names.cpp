#include "core/model/names.h"

#include <QtTest>

#include <limits>
#include <set>

using namespace podscape::core::model;

namespace {

// The API server's messages, word for word (apimachinery pkg/util/validation).
const QString kLabelMsg = QStringLiteral(
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end "
    "with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
const QString kSubdomainMsg = QStringLiteral(
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
const QString kDns1035Msg = QStringLiteral(
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation "
    "is '[a-z]([-a-z0-9]*[a-z0-9])?')");
const QString kQualifiedPart = QStringLiteral(
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
    "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
const QString kLabelValueMsg = QStringLiteral(
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
    "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
const QString kEnvMsg = QStringLiteral(
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must "
    "not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation "
    "is '[-._a-zA-Z][-._a-zA-Z0-9]*')");
const QString kConfigKeyMsg = QStringLiteral(
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
    "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
const QString kIpMsg = QStringLiteral("must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
const QString kCidrMsg = QStringLiteral("must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");

QStringList toList(const std::vector<std::string> &errors)
{
    QStringList list;
    for (const auto &e : errors)
        list << QString::fromStdString(e);
    return list;
}

QString repeat(char c, int n) { return QString(n, QLatin1Char(c)); }

} // namespace

class TestNames : public QObject
{
    Q_OBJECT
private slots:
    void dns1123Label_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<QStringList>("errors");
        const QStringList ok;
        for (const char *v : {"a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "0-0", "1-1", "my-name", "123-abc"})
            QTest::newRow(v) << QString(v) << ok;
        QTest::newRow("63 characters") << repeat('a', 63) << ok;
        for (const char *v : {"", "A", "ABC", "aBc", "A-1", "1-A", "-", "a-", "-a", "1-", "-1", "_", "a_b", "_1", " ",
                              "a ", " a", "a b", "a.", ".a", "..", "a..b", "über"})
            QTest::newRow(qPrintable(QStringLiteral("bad <%1>").arg(v))) << QString::fromUtf8(v) << QStringList{kLabelMsg};
        // A valid subdomain that is not a valid label can only have dots.
        for (const char *v : {"a.b", "1.2", "a.b.c"})
            QTest::newRow(v) << QString(v) << QStringList{"must not contain dots"};
        QTest::newRow("64 characters") << repeat('a', 64) << QStringList{"must be no more than 63 characters"};
        QTest::newRow("long with dots") << repeat('a', 60) + ".bcd" << QStringList{"must be no more than 63 characters", "must not contain dots"};
        QTest::newRow("long and bad") << repeat('A', 64) << QStringList{"must be no more than 63 characters", kLabelMsg};
    }
    void dns1123Label()
    {
        QFETCH(QString, value);
        QFETCH(QStringList, errors);
        QCOMPARE(toList(isDns1123Label(value.toStdString())), errors);
    }

    void dns1123Subdomain_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<QStringList>("errors");
        const QStringList ok;
        for (const char *v : {"a", "a.b", "a.b.c", "1.a", "a-1.b-2", "0.0", "example.com", "kubia-7b8c9d.default"})
            QTest::newRow(v) << QString(v) << ok;
        // Only the whole name is limited; a part may be longer than a DNS label.
        QTest::newRow("253 characters") << repeat('a', 253) << ok;
        QTest::newRow("long part") << repeat('a', 100) + ".b" << ok;
        for (const char *v : {"", ".", "a..b", ".a", "a.", "A.b", "a_b", "a.-b", "a-.b", "a b", "-a"})
            QTest::newRow(qPrintable(QStringLiteral("bad <%1>").arg(v))) << QString(v) << QStringList{kSubdomainMsg};
        QTest::newRow("254 characters") << repeat('a', 254) << QStringList{"must be no more than 253 characters"};
        QTest::newRow("long and bad") << repeat('a', 253) + "-" << QStringList{"must be no more than 253 characters", kSubdomainMsg};
    }
    void dns1123Subdomain()
    {
        QFETCH(QString, value);
        QFETCH(QStringList, errors);
        QCOMPARE(toList(isDns1123Subdomain(value.toStdString())), errors);
    }

    void dns1035Label_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<QStringList>("errors");
        const QStringList ok;
        for (const char *v : {"a", "ab", "a-1", "a--1", "kubia", "my-service", "abc-123"})
            QTest::newRow(v) << QString(v) << ok;
        QTest::newRow("63 characters") << repeat('a', 63) << ok;
        for (const char *v : {"", "0", "1-a", "123-abc", "A", "-a", "a-", "a.b", "a_b", "Kubia"})
            QTest::newRow(qPrintable(QStringLiteral("bad <%1>").arg(v))) << QString(v) << QStringList{kDns1035Msg};
        QTest::newRow("64 characters") << repeat('a', 64) << QStringList{"must be no more than 63 characters"};
    }
    void dns1035Label()
    {
        QFETCH(QString, value);
        QFETCH(QStringList, errors);
        QCOMPARE(toList(isDns1035Label(value.toStdString())), errors);
    }

    void qualifiedName_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<QStringList>("errors");
        const QStringList ok;
        for (const char *v : {"simple", "now-with-dashes", "1-starts-with-num", "1234", "simple/simple",
                              "now-with-dashes/simple", "now.with.dots/simple", "1-num.2-num/3-num", "1234/5678",
                              "1.2.3.4/5678", "Uppercase_Is_OK_123", "example.com/Uppercase_Is_OK_123",
                              "app.kubernetes.io/name", "a.b_c-d", "a"})
            QTest::newRow(v) << QString(v) << ok;
        QTest::newRow("63 name") << repeat('a', 63) << ok;
        QTest::newRow("253 prefix, 63 name") << repeat('a', 253) + "/" + repeat('b', 63) << ok;

        const QString name = "name part " + kQualifiedPart;
        QTest::newRow("empty") << "" << QStringList{"name part must be non-empty", name};
        for (const char *v : {"nospecialchars%^=@", "cantendwithadash-", "-cantstartwithadash-", "_a", "a_", "a b",
                              "a:b", "über"})
            QTest::newRow(qPrintable(QStringLiteral("bad <%1>").arg(v))) << QString::fromUtf8(v) << QStringList{name};
        QTest::newRow("two slashes")
            << "only/one/slash"
            << QStringList{"a qualified name " + kQualifiedPart +
                           " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"};
        QTest::newRow("empty name") << "example.com/" << QStringList{"name part must be non-empty", name};
        QTest::newRow("empty prefix") << "/simple" << QStringList{"prefix part must be non-empty"};
        QTest::newRow("uppercase prefix") << "Example.com/abc" << QStringList{"prefix part " + kSubdomainMsg};
        QTest::newRow("underscore prefix") << "example_com/abc" << QStringList{"prefix part " + kSubdomainMsg};
        QTest::newRow("long name") << repeat('a', 64) << QStringList{"name part must be no more than 63 characters"};
        QTest::newRow("long prefix") << repeat('a', 254) + "/abc"
                                     << QStringList{"prefix part must be no more than 253 characters"};
        QTest::newRow("everything wrong") << "A_/-" << QStringList{"prefix part " + kSubdomainMsg, name};
    }
    void qualifiedName()
    {
        QFETCH(QString, value);
        QFETCH(QStringList, errors);
        QCOMPARE(toList(isQualifiedName(value.toStdString())), errors);
    }

    void labelValue_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<QStringList>("errors");
        const QStringList ok;
        for (const char *v : {"", "simple", "now-with-dashes", "1-starts-with-num", "end-with-num-1", "1234", "A",
                              "ZZZ", "a.b_c-d", "MyValue", "my_value", "12345"})
            QTest::newRow(qPrintable(QStringLiteral("ok <%1>").arg(v))) << QString(v) << ok;
        QTest::newRow("63 characters") << repeat('a', 63) << ok;
        for (const char *v : {"nospecialchars%^=@", "Tama-nui-te-rā", "cantendwithadash-", "-cantstartwithadash",
                              "_a", "a b", "a/b", ".", "a,b"})
            QTest::newRow(qPrintable(QStringLiteral("bad <%1>").arg(v))) << QString::fromUtf8(v) << QStringList{kLabelValueMsg};
        QTest::newRow("64 characters") << repeat('a', 64) << QStringList{"must be no more than 63 characters"};
        QTest::newRow("long and bad") << "-" + repeat('a', 63) << QStringList{"must be no more than 63 characters", kLabelValueMsg};
    }
    void labelValue()
    {
        QFETCH(QString, value);
        QFETCH(QStringList, errors);
        QCOMPARE(toList(isValidLabelValue(value.toStdString())), errors);
    }

    void portName_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<QStringList>("errors");
        const QStringList ok;
        for (const char *v : {"telnet", "re-mail-ck", "pop3", "a", "a-1", "1-a", "a-1-b-2-c", "1-a-2-b-3", "http", "abcdefghijklmno"})
            QTest::newRow(v) << QString(v) << ok;
        const QString charset = "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
        const QString letter = "must contain at least one letter (a-z)";
        const QString hyphens = "must not contain consecutive hyphens";
        const QString ends = "must not begin or end with a hyphen";
        QTest::newRow("empty") << "" << QStringList{charset, letter};
        QTest::newRow("digits only") << "1234" << QStringList{letter};
        QTest::newRow("leading hyphen") << "-abc" << QStringList{ends};
        QTest::newRow("trailing hyphen") << "abc-" << QStringList{ends};
        QTest::newRow("double hyphen") << "a--b" << QStringList{hyphens};
        QTest::newRow("uppercase") << "Telnet" << QStringList{charset};
        QTest::newRow("underscore") << "a_b" << QStringList{charset};
        QTest::newRow("16 characters") << "abcdefghijklmnop" << QStringList{"must be no more than 15 characters"};
        QTest::newRow("hyphen") << "-" << QStringList{letter, ends};
        QTest::newRow("two hyphens") << "--" << QStringList{letter, hyphens, ends};
        QTest::newRow("all at once") << "-A--1-_-------xx" << QStringList{"must be no more than 15 characters", charset, hyphens, ends};
    }
    void portName()
    {
        QFETCH(QString, value);
        QFETCH(QStringList, errors);
        QCOMPARE(toList(isValidPortName(value.toStdString())), errors);
    }

    void portNum_data()
    {
        QTest::addColumn<qint64>("port");
        QTest::addColumn<bool>("valid");
        QTest::newRow("1") << qint64(1) << true;
        QTest::newRow("80") << qint64(80) << true;
        QTest::newRow("65535") << qint64(65535) << true;
        QTest::newRow("0") << qint64(0) << false;
        QTest::newRow("-1") << qint64(-1) << false;
        QTest::newRow("65536") << qint64(65536) << false;
        QTest::newRow("huge") << std::numeric_limits<qint64>::max() << false;
        QTest::newRow("wraps to 80 in 16 bits") << qint64(65536 + 80) << false;
    }
    void portNum()
    {
        QFETCH(qint64, port);
        QFETCH(bool, valid);
        const QStringList expected = valid ? QStringList{} : QStringList{"must be between 1 and 65535, inclusive"};
        QCOMPARE(toList(isValidPortNum(port)), expected);
    }

    void ip_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<bool>("valid");
        for (const char *v : {"0.0.0.0", "255.255.255.255", "1.2.3.4", "10.9.8.7", "010.001.002.003", "::", "::1",
                              "2001:db8::ffff", "2001:db8:0:0:0:0:0:1", "1:2:3:4:5:6:7:8", "::ffff:1.2.3.4",
                              "1:2:3:4:5:6:1.2.3.4", "fe80::1", "FE80::ABCD", "::1.2.3.4", "1:2:3:4:5:6:7::",
                              "1::", "0001:0002::0003"})
            QTest::newRow(v) << QString(v) << true;
        for (const char *v : {"", "1", "1.2.3", "1.2.3.4.5", "256.0.0.0", "1.2.3.-4", " 1.2.3.4", "1.2.3.4 ",
                              "a.b.c.d", "1.2.3.4/24", ":::", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "g::1",
                              "fe80::1%eth0", "1:2:3:4:5:6:7:8::", ":1", "1:", "1.2.3.4:80", "::ffff:1.2.3",
                              "1:2:3:4:5:6:7:1.2.3.4", "1:2:3:4:5:6:7", "[::1]", "1..2.3", "localhost"})
            QTest::newRow(qPrintable(QStringLiteral("bad <%1>").arg(v))) << QString(v) << false;
    }
    void ip()
    {
        QFETCH(QString, value);
        QFETCH(bool, valid);
        QCOMPARE(toList(isValidIp(value.toStdString())), valid ? QStringList{} : QStringList{kIpMsg});
    }

    void cidr_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<bool>("valid");
        for (const char *v : {"0.0.0.0/0", "1.2.3.0/24", "1.2.3.4/32", "1.2.3.4/24", "010.0.0.0/8", "::/0",
                              "2001:db8::/64", "2001:db8::/128", "::ffff:1.2.3.4/120", "1.2.3.0/024", "10.9.8.0/24"})
            QTest::newRow(v) << QString(v) << true;
        for (const char *v : {"", "1.2.3.4", "1.2.3.0/33", "2001:db8::/129", "1.2.3.0/", "1.2.3.0/-1", "1.2.3.0/+8",
                              "/24", "1.2.3.0/24/1", "a/8", " 1.2.3.0/24", "1.2.3.0/ 24", "1.2.3.0/24 ",
                              "1.2.3.0/99999999999999999999", "1.2.3/24", "::1/1a"})
            QTest::newRow(qPrintable(QStringLiteral("bad <%1>").arg(v))) << QString(v) << false;
    }
    void cidr()
    {
        QFETCH(QString, value);
        QFETCH(bool, valid);
        QCOMPARE(toList(isValidCidr(value.toStdString())), valid ? QStringList{} : QStringList{kCidrMsg});
    }

    void envVarName_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<QStringList>("errors");
        const QStringList ok;
        for (const char *v : {"A", "ABC", "AbC_123", "_123", "a", "-", "-123", ".abc", "a.b", "a-b", "A_B", "_",
                              "my.env-name", "MY_ENV.NAME", "MyEnvName1", ".a"})
            QTest::newRow(v) << QString(v) << ok;
        for (const char *v : {"", "1ABC", "123", "A B", "A=B", "A$B", "1..", "é"})
            QTest::newRow(qPrintable(QStringLiteral("bad <%1>").arg(v))) << QString::fromUtf8(v) << QStringList{kEnvMsg};
        QTest::newRow("dot") << "." << QStringList{"must not be '.'"};
        QTest::newRow("dot dot") << ".." << QStringList{"must not be '..'"};
        QTest::newRow("dot dot name") << "..a" << QStringList{"must not start with '..'"};
        QTest::newRow("three dots") << "..." << QStringList{"must not start with '..'"};
        QTest::newRow("both") << ".. x" << QStringList{kEnvMsg, "must not start with '..'"};
    }
    void envVarName()
    {
        QFETCH(QString, value);
        QFETCH(QStringList, errors);
        QCOMPARE(toList(isValidEnvVarName(value.toStdString())), errors);
    }

    void configMapKey_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<QStringList>("errors");
        const QStringList ok;
        for (const char *v : {"a", "ab", "abc", "a1", "-a", "a-", "-", "a-1", "A", "A.B", "a_b", "1", ".a", "a..b",
                              "key.name", "KEY_NAME", "key-name", "app.properties"})
            QTest::newRow(v) << QString(v) << ok;
        QTest::newRow("253 characters") << repeat('a', 253) << ok;
        for (const char *v : {"", "a b", "a/b", "$", "a:b", "ü"})
            QTest::newRow(qPrintable(QStringLiteral("bad <%1>").arg(v))) << QString::fromUtf8(v) << QStringList{kConfigKeyMsg};
        QTest::newRow("dot") << "." << QStringList{"must not be '.'"};
        QTest::newRow("dot dot") << ".." << QStringList{"must not be '..'"};
        QTest::newRow("dot dot name") << "..a" << QStringList{"must not start with '..'"};
        QTest::newRow("254 characters") << repeat('a', 254) << QStringList{"must be no more than 253 characters"};
        QTest::newRow("254 with a slash") << repeat('a', 253) + "/"
                                          << QStringList{"must be no more than 253 characters", kConfigKeyMsg};
    }
    void configMapKey()
    {
        QFETCH(QString, value);
        QFETCH(QStringList, errors);
        QCOMPARE(toList(isConfigMapKey(value.toStdString())), errors);
    }

    void generateName_data()
    {
        QTest::addColumn<QString>("base");
        QTest::addColumn<QString>("prefix");
        QTest::newRow("usual") << "kubia-" << "kubia-";
        QTest::newRow("empty") << "" << "";
        QTest::newRow("58 characters kept") << repeat('a', 58) << repeat('a', 58);
        QTest::newRow("59 characters cut") << repeat('b', 59) << repeat('b', 58);
        QTest::newRow("100 characters cut") << repeat('c', 100) << repeat('c', 58);
    }
    void generateName()
    {
        QFETCH(QString, base);
        QFETCH(QString, prefix);
        constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
        std::mt19937_64 engine(42);
        const std::string name = podscape::core::model::generateName(base.toStdString(), engine);
        QCOMPARE(name.size(), size_t(prefix.size() + 5));
        QVERIFY(name.size() <= 63);
        QCOMPARE(QString::fromStdString(name.substr(0, name.size() - 5)), prefix);
        for (char c : name.substr(name.size() - 5))
            QVERIFY2(kAlphabet.find(c) != std::string_view::npos, name.c_str());
        // The same seed gives the same name: tests can rely on it.
        std::mt19937_64 again(42);
        QCOMPARE(podscape::core::model::generateName(base.toStdString(), again), name);
    }

    void generateNameRandomness()
    {
        std::mt19937_64 engine(7);
        std::set<char> seen;
        std::set<std::string> names;
        for (int i = 0; i < 2000; ++i) {
            const std::string name = podscape::core::model::generateName("web-", engine);
            names.insert(name);
            for (char c : name.substr(4))
                seen.insert(c);
            QVERIFY(isDns1123Subdomain(name).empty());
        }
        // Every letter of the alphabet turns up, nothing else, and names do not repeat.
        QCOMPARE(seen, (std::set<char>{'b', 'c', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'q', 'r',
                                       's', 't', 'v', 'w', 'x', 'z', '2', '4', '5', '6', '7', '8', '9'}));
        QVERIFY(names.size() > 1990);
        // The overload without an engine also produces fresh names.
        QVERIFY(podscape::core::model::generateName("x-") != podscape::core::model::generateName("x-") ||
                podscape::core::model::generateName("x-") != podscape::core::model::generateName("x-"));
    }

    void quoteForMessage_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QByteArray>("quoted");
        QTest::newRow("plain") << QByteArray("abc") << QByteArray("\"abc\"");
        QTest::newRow("empty") << QByteArray("") << QByteArray("\"\"");
        QTest::newRow("quote and backslash") << QByteArray("a\"b\\c") << QByteArray("\"a\\\"b\\\\c\"");
        QTest::newRow("whitespace escapes") << QByteArray("a\nb\tc\r") << QByteArray("\"a\\nb\\tc\\r\"");
        QTest::newRow("control") << QByteArray("a\x01" "b\x7f", 4) << QByteArray("\"a\\x01b\\x7f\"");
        QTest::newRow("nul") << QByteArray("a\0b", 3) << QByteArray("\"a\\x00b\"");
        QTest::newRow("utf-8 kept") << QByteArray("Tama-nui-te-r\xc4\x81") << QByteArray("\"Tama-nui-te-r\xc4\x81\"");
        QTest::newRow("stray byte") << QByteArray("a\xff" "b") << QByteArray("\"a\\xffb\"");
        QTest::newRow("cut sequence") << QByteArray("a\xc4") << QByteArray("\"a\\xc4\"");
        QTest::newRow("overlong") << QByteArray("\xc0\xaf") << QByteArray("\"\\xc0\\xaf\"");
        QTest::newRow("surrogate") << QByteArray("\xed\xa0\x80") << QByteArray("\"\\xed\\xa0\\x80\"");
        QTest::newRow("long") << QByteArray(150, 'x') << QByteArray("\"" + QByteArray(100, 'x') + "\"...");
        QTest::newRow("exactly 100") << QByteArray(100, 'y') << QByteArray("\"" + QByteArray(100, 'y') + "\"");
    }
    void quoteForMessage()
    {
        QFETCH(QByteArray, text);
        QFETCH(QByteArray, quoted);
        const std::string out = podscape::core::model::quoteForMessage(std::string_view(text.constData(), text.size()));
        QCOMPARE(QByteArray::fromStdString(out), quoted);
    }
};

QTEST_GUILESS_MAIN(TestNames)
#include "tst_names.moc"
