#include "core/model/quantity.h"

#include <QtTest>

#include <limits>

using namespace podscape::core;
using namespace podscape::core::model;

namespace {

Quantity q(const QString &text)
{
    auto r = Quantity::parse(text.toStdString());
    if (!r) {
        qWarning("cannot parse %s: %s", qPrintable(text), r.error().message().c_str());
        return {};
    }
    return *r;
}

QString str(const Quantity &quantity) { return QString::fromStdString(quantity.toString()); }

constexpr qint64 kMax = std::numeric_limits<qint64>::max();
constexpr qint64 kMin = std::numeric_limits<qint64>::min();

} // namespace

class TestQuantity : public QObject
{
    Q_OBJECT
private slots:
    // What Kubernetes prints for each input (cases from apimachinery's quantity tests, checked
    // against its rules: canonical form, nano rounding, binary cap).
    void canonical_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("expected");
        const auto row = [](const char *input, const char *expected) {
            QTest::newRow(input) << QString::fromUtf8(input) << QString::fromUtf8(expected);
        };
        // Zero in every family prints as "0".
        row("0", "0");
        row("0n", "0");
        row("0m", "0");
        row("0Ki", "0");
        row("0k", "0");
        row("0Mi", "0");
        row("0G", "0");
        row("-0", "0");
        row("0.000", "0");
        row("0e99999999999", "0");
        // Plain and decimal suffixes.
        row("1", "1");
        row("9", "9");
        row("5n", "5n");
        row("4u", "4u");
        row("3m", "3m");
        row("8k", "8k");
        row("50k", "50k");
        row("7M", "7M");
        row("6G", "6G");
        row("5T", "5T");
        row("40T", "40T");
        row("300T", "300T");
        row("2P", "2P");
        row("1E", "1E");
        row("12E", "12E");
        row("1G", "1G");
        row("100M", "100M");
        row("1000m", "1");
        row("1000M", "1G");
        row("128974848", "128974848");
        row("2048", "2048");
        // DecimalSI has no suffix past E: the exponent form takes over, as in Kubernetes.
        row("1000E", "1e21");
        row("5000E", "5e21");
        // Binary suffixes.
        row("1Ki", "1Ki");
        row("8Ki", "8Ki");
        row("7Mi", "7Mi");
        row("6Gi", "6Gi");
        row("5Ti", "5Ti");
        row("4Pi", "4Pi");
        row("3Ei", "3Ei");
        row("10Ti", "10Ti");
        row("100Ti", "100Ti");
        row("123Mi", "123Mi");
        row("1024Mi", "1Gi");
        row("1025Ki", "1025Ki");
        row("0.5Gi", "512Mi");
        row("1.5Gi", "1536Mi");
        row("0.5Mi", "512Ki");
        row("0.5Ki", "512"); // below 1024 a binary quantity prints as decimal
        // Binary that is not a whole number prints as decimal, without losing anything.
        row("1.1Gi", "1181116006400m");
        row("100.035Ki", "102435840m");
        row("0.05Gi", "53687091200m");
        row("0.025Ti", "27487790694400m");
        row(".001Ki", "1024m");
        row(".000001Ki", "1024u");
        row(".000000001Ki", "1024n");
        row("0.000000000001Ki", "2n"); // rounds up, becomes decimal
        // Exponents.
        row("1e3", "1e3");
        row("1E3", "1e3");
        row("1e+3", "1e3");
        row("1E-3", "1e-3");
        row("1E6", "1e6");
        row("1e9", "1e9");
        row("1E12", "1e12");
        row("1e15", "1e15");
        row("1E18", "1e18");
        row("1e13", "10e12");
        row("1e14", "100e12");
        row("1e21", "1e21");
        row("129e6", "129e6");
        row("1.2e3", "1200");
        row("1.3E+6", "1300e3");
        row("1.40e9", "1400e6");
        row("1.53E12", "1530e9");
        row("1.6e15", "1600e12");
        row("1.7E18", "1700e15");
        row("0.5e0", "500e-3");
        row("0.5e-1", "50e-3");
        row("0.5e-2", "5e-3");
        row("1e0", "1");
        // Fractions.
        row("1.5", "1500m");
        row("0.001", "1m");
        row("0.0005k", "500m");
        row("0.005", "5m");
        row("0.05", "50m");
        row("0.5", "500m");
        row("0.00050k", "500m");
        row("0.00500", "5m");
        row("9.01", "9010m");
        row("8.1k", "8100");
        row("7.123456M", "7123456");
        row("6.987654321G", "6987654321");
        row("5.444T", "5444G");
        row("40.1T", "40100G");
        row("300.2T", "300200G");
        row("2.5P", "2500T");
        row("1.01E", "1010P");
        row("10.035M", "10035k");
        row("100.035k", "100035");
        row("1.2345", "1234500u");
        row(".001", "1m");
        row(".0001k", "100m");
        row("1.", "1");
        row("1.G", "1G");
        // Spellings Kubernetes may echo back verbatim (its cache, #138165) print canonically.
        row("1.500", "1500m");
        row("1.001", "1001m");
        row("+1", "1");
        row("01", "1");
        row("007Mi", "7Mi");
        // Finer than a nano unit rounds away from zero.
        row("3.001n", "4n");
        row("1.1E-9", "2e-9");
        row("0.0000000001", "1n");
        row("0.0000000005", "1n");
        row("0.00000000050", "1n");
        row("0.5e-9", "1e-9");
        row("0.9n", "1n");
        row("0.00000012345", "124n");
        row("0.00000012354", "124n");
        row("1e-100", "1e-9");
        row("5e-1000000000000", "1e-9");
        row("-0.9n", "-1n");
        // Binary input is capped at 2^63-1.
        row("8Ei", "9223372036854775807");
        row("9Ei", "9223372036854775807");
        row("9223372036854775807Ki", "9223372036854775807");
        row("99999999999999999999999999999999999999999999Ki", "9223372036854775807");
        row("-9Ei", "-9223372036854775807");
        row("7.5Ei", "7680Pi"); // under the cap: exact
        // Large decimals are kept exactly.
        row("9223372036854775808", "9223372036854775808");
        row("18446744073709551616", "18446744073709551616");
        row("999999999999999999999999999", "999999999999999999999999999");
        row("999999999999999999999999999.999999999", "999999999999999999999999999999999999n");
        // Signs.
        row("-1", "-1");
        row("-100m", "-100m");
        row("-1.5Gi", "-1536Mi");
        row("-0.5Ki", "-512");
        row("-1e3", "-1e3");
        row("-1.1Gi", "-1181116006400m");
    }
    void canonical()
    {
        QFETCH(QString, input);
        QFETCH(QString, expected);
        auto parsed = Quantity::parse(input.toStdString());
        QVERIFY2(parsed.ok(), parsed.ok() ? "" : parsed.error().message().c_str());
        QCOMPARE(str(*parsed), expected);
        // The canonical form is a fixed point and means the same amount.
        auto again = Quantity::parse(expected.toStdString());
        QVERIFY(again.ok());
        QCOMPARE(str(*again), expected);
        QCOMPARE(*again, *parsed);
    }

    void format_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<int>("format");
        QTest::newRow("plain") << "1" << int(Quantity::Format::DecimalSI);
        QTest::newRow("milli") << "100m" << int(Quantity::Format::DecimalSI);
        QTest::newRow("binary") << "1Ki" << int(Quantity::Format::BinarySI);
        QTest::newRow("zero binary") << "0Ki" << int(Quantity::Format::BinarySI);
        QTest::newRow("half Ki stays binary") << "0.5Ki" << int(Quantity::Format::BinarySI);
        QTest::newRow("sub-unit binary is decimal") << "0.000000000001Ki" << int(Quantity::Format::DecimalSI);
        QTest::newRow("negative fraction, exponent") << "-.5e0" << int(Quantity::Format::DecimalExponent);
        QTest::newRow("fractional binary above one") << "1.1Gi" << int(Quantity::Format::BinarySI);
        QTest::newRow("exponent") << "1e3" << int(Quantity::Format::DecimalExponent);
        QTest::newRow("exponent zero") << "1e0" << int(Quantity::Format::DecimalExponent);
        QTest::newRow("exa is SI") << "1E" << int(Quantity::Format::DecimalSI);
        QTest::newRow("capped binary") << "9Ei" << int(Quantity::Format::BinarySI);
    }
    void format()
    {
        QFETCH(QString, input);
        QFETCH(int, format);
        QCOMPARE(int(q(input).format()), format);
    }

    void invalid_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("problem");
        QTest::newRow("empty") << "" << "it is empty";
        QTest::newRow("space inside") << "5 Mi" << "unexpected ' ' at position 1";
        QTest::newRow("leading space") << " 1" << "expected a digit at position 0, found ' '";
        QTest::newRow("trailing space") << "1 " << "unexpected ' ' at position 1";
        QTest::newRow("two points") << "1.2.3" << "unexpected '.' at position 3";
        QTest::newRow("1.1.M") << "1.1.M" << "unexpected '.' at position 3";
        QTest::newRow("unknown letter") << "1Zi" << "unexpected 'Z' at position 1";
        QTest::newRow("sign in the middle") << "1+1.0M" << "unexpected '.' at position 3";
        QTest::newRow("lone i") << "1i" << "unknown suffix \"i\"";
        QTest::newRow(".5i") << ".5i" << "unknown suffix \"i\"";
        QTest::newRow("-3.01i") << "-3.01i" << "unknown suffix \"i\"";
        QTest::newRow("milli-binary") << "0.1mi" << "unknown suffix \"mi\"";
        QTest::newRow("am") << "0.1am" << "unexpected 'a' at position 3";
        QTest::newRow("word") << "aoeu" << "expected a digit at position 0, found 'a'";
        QTest::newRow("exponent without digits") << "-3.01e-" << "unknown suffix \"e-\"";
        QTest::newRow("bare e") << "1e" << "unknown suffix \"e\"";
        QTest::newRow("capital K") << "1K" << "unknown suffix \"K\"";
        QTest::newRow("lower ki") << "1ki" << "unknown suffix \"ki\"";
        QTest::newRow("digits after suffix") << "1Mi3" << "unknown suffix \"Mi3\"";
        QTest::newRow("two exponents") << "1e3e3" << "unexpected 'e' at position 3";
        QTest::newRow("suffix then sign") << "1Ki-" << "unknown suffix \"Ki-\"";
        QTest::newRow("trailing sign") << "1-" << "unknown suffix \"-\"";
        QTest::newRow("suffix only") << "Mi" << "expected a digit at position 0, found 'M'";
        QTest::newRow("exponent only") << "e3" << "expected a digit at position 0, found 'e'";
        QTest::newRow("sign only") << "-" << "there are no digits";
        QTest::newRow("point only") << "." << "there are no digits";
        QTest::newRow("signed point") << "+.Ki" << "there are no digits";
        QTest::newRow("exponent overflow") << "1e99999999999999999999" << "the exponent \"e99999999999999999999\" is out of range";
        QTest::newRow("1e27") << "1e27" << "too large";
        QTest::newRow("-1e27") << "-1e27" << "too large";
        QTest::newRow("10^27 digits") << "1000000000000000000000000000" << "too large";
        QTest::newRow("1e30") << "1e30" << "too large";
        QTest::newRow("huge exponent") << "1e999999999999" << "too large";
        QTest::newRow("E times billions") << "1000000000E" << "too large";
        QTest::newRow("control byte") << QString::fromLatin1("1\x01") << "unexpected byte 0x01 at position 1";
    }
    void invalid()
    {
        QFETCH(QString, input);
        QFETCH(QString, problem);
        auto r = Quantity::parse(input.toStdString());
        QVERIFY(!r.ok());
        QCOMPARE(r.error().reason(), Reason::BadRequest);
        const QString message = QString::fromStdString(r.error().message());
        // The message names the text, the problem and the accepted form.
        QVERIFY2(message.startsWith("invalid quantity \""), qPrintable(message));
        QVERIFY2(message.contains(problem), qPrintable(message));
        QVERIFY2(message.contains("Ki, Mi, Gi, Ti, Pi, Ei"), qPrintable(message));
    }

    void messageQuotesText()
    {
        auto r = Quantity::parse("5 Mi");
        QVERIFY(!r.ok());
        QVERIFY(QString::fromStdString(r.error().message()).startsWith("invalid quantity \"5 Mi\": "));
        // Unprintable input is escaped so the message stays readable (and valid UTF-8).
        auto bin = Quantity::parse(std::string("1\xff", 2));
        QVERIFY(!bin.ok());
        QVERIFY2(QString::fromStdString(bin.error().message()).startsWith("invalid quantity \"1\\xff\""),
                 bin.error().message().c_str());
    }

    void values_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<qint64>("value");
        QTest::addColumn<qint64>("milli");
        QTest::newRow("zero") << "0" << qint64(0) << qint64(0);
        QTest::newRow("one") << "1" << qint64(1) << qint64(1000);
        QTest::newRow("1.5 rounds up") << "1.5" << qint64(2) << qint64(1500);
        QTest::newRow("-1.5 rounds away from zero") << "-1.5" << qint64(-2) << qint64(-1500);
        QTest::newRow("100m") << "100m" << qint64(1) << qint64(100);
        QTest::newRow("1n") << "1n" << qint64(1) << qint64(1);
        QTest::newRow("-1n") << "-1n" << qint64(-1) << qint64(-1);
        QTest::newRow("2.5m") << "2.5m" << qint64(1) << qint64(3);
        QTest::newRow("-2.5m") << "-2.5m" << qint64(-1) << qint64(-3);
        QTest::newRow("1Gi") << "1Gi" << qint64(1073741824) << qint64(1073741824000);
        QTest::newRow("1.5Gi") << "1.5Gi" << qint64(1610612736) << qint64(1610612736000);
        QTest::newRow("1k") << "1k" << qint64(1000) << qint64(1000000);
        QTest::newRow("max") << "9223372036854775807" << kMax << kMax;
        QTest::newRow("min") << "-9223372036854775808" << kMin << kMin;
        QTest::newRow("12E saturates") << "12E" << kMax << kMax;
        QTest::newRow("-12E saturates") << "-12E" << kMin << kMin;
        QTest::newRow("milli limit") << "9223372036854775.807" << qint64(9223372036854776) << kMax;
        QTest::newRow("milli just over") << "9223372036854775.808" << qint64(9223372036854776) << kMax;
        QTest::newRow("capped binary") << "9Ei" << kMax << kMax;
    }
    void values()
    {
        QFETCH(QString, input);
        QFETCH(qint64, value);
        QFETCH(qint64, milli);
        const Quantity quantity = q(input);
        QCOMPARE(qint64(quantity.value()), value);
        QCOMPARE(qint64(quantity.milliValue()), milli);
    }

    void compare_data()
    {
        QTest::addColumn<QString>("a");
        QTest::addColumn<QString>("b");
        QTest::addColumn<int>("expected");
        QTest::newRow("0 0") << "0" << "0" << 0;
        QTest::newRow("100m 50m") << "100m" << "50m" << 1;
        QTest::newRow("50m 100m") << "50m" << "100m" << -1;
        QTest::newRow("10000T 100Gi") << "10000T" << "100Gi" << 1;
        QTest::newRow("1Gi bytes") << "1Gi" << "1073741824" << 0;
        QTest::newRow("1k 1000") << "1k" << "1000" << 0;
        QTest::newRow("1e3 1k") << "1e3" << "1k" << 0;
        QTest::newRow("-1 1") << "-1" << "1" << -1;
        QTest::newRow("1n 0") << "1n" << "0" << 1;
        QTest::newRow("999m 1") << "999m" << "1" << -1;
        QTest::newRow("12E 9Ei") << "12E" << "9Ei" << 1;
        QTest::newRow("-2 -1") << "-2" << "-1" << -1;
        QTest::newRow("0Ki 0") << "0Ki" << "0" << 0;
        QTest::newRow("1.1Gi its decimal") << "1.1Gi" << "1181116006400m" << 0;
    }
    void compare()
    {
        QFETCH(QString, a);
        QFETCH(QString, b);
        QFETCH(int, expected);
        const Quantity x = q(a);
        const Quantity y = q(b);
        QCOMPARE(x.compare(y), expected);
        QCOMPARE(y.compare(x), -expected);
        QCOMPARE(x == y, expected == 0);
        QCOMPARE(x != y, expected != 0);
        QCOMPARE(x < y, expected < 0);
        QCOMPARE(x <= y, expected <= 0);
        QCOMPARE(x > y, expected > 0);
        QCOMPARE(x >= y, expected >= 0);
    }

    void arithmetic_data()
    {
        QTest::addColumn<QString>("a");
        QTest::addColumn<QString>("b");
        QTest::addColumn<QString>("sum");
        QTest::addColumn<QString>("difference");
        QTest::newRow("10 + 1e1") << "10" << "1e1" << "20" << "0";
        QTest::newRow("binary keeps its format") << "1Ki" << "1" << "1025" << "1023";
        QTest::newRow("decimal plus binary") << "10" << "1Ki" << "1034" << "-1014";
        QTest::newRow("zero takes the other's format") << "0" << "1Gi" << "1Gi" << "-1Gi";
        QTest::newRow("zero takes milli") << "0" << "100m" << "100m" << "-100m";
        QTest::newRow("adding zero keeps the format") << "1Gi" << "0" << "1Gi" << "1Gi";
        QTest::newRow("milli plus zero") << "100m" << "0" << "100m" << "100m";
        QTest::newRow("Gi plus Gi") << "1Gi" << "1Gi" << "2Gi" << "0";
        QTest::newRow("Gi minus Mi") << "1Gi" << "512Mi" << "1536Mi" << "512Mi";
        QTest::newRow("halves") << "500m" << "500m" << "1" << "0";
        QTest::newRow("below zero") << "1" << "1500m" << "2500m" << "-500m";
        QTest::newRow("exponent") << "1e3" << "1" << "1001" << "999";
        QTest::newRow("k and e") << "1k" << "1e3" << "2k" << "0";
        QTest::newRow("beyond int64") << "9223372036854775807" << "1" << "9223372036854775808"
                                      << "9223372036854775806";
        QTest::newRow("saturates") << "999999999999999999999999999" << "999999999999999999999999999"
                                   << "999999999999999999999999999999999999n" << "0";
        QTest::newRow("saturates negative") << "-999999999999999999999999999" << "999999999999999999999999999"
                                            << "0" << "-999999999999999999999999999999999999n";
    }
    void arithmetic()
    {
        QFETCH(QString, a);
        QFETCH(QString, b);
        QFETCH(QString, sum);
        QFETCH(QString, difference);
        Quantity s = q(a);
        QCOMPARE(str(s.add(q(b))), sum);
        Quantity d = q(a);
        QCOMPARE(str(d.sub(q(b))), difference);
        // The operands are left alone.
        const Quantity y = q(b);
        Quantity x = q(a);
        x.add(y);
        QCOMPARE(y, q(b));
    }

    void fromInt_data()
    {
        QTest::addColumn<qint64>("value");
        QTest::addColumn<int>("format");
        QTest::addColumn<QString>("expected");
        QTest::newRow("1") << qint64(1) << int(Quantity::Format::DecimalSI) << "1";
        QTest::newRow("1000") << qint64(1000) << int(Quantity::Format::DecimalSI) << "1k";
        QTest::newRow("1234000") << qint64(1234000) << int(Quantity::Format::DecimalSI) << "1234k";
        QTest::newRow("1024 binary") << qint64(1024) << int(Quantity::Format::BinarySI) << "1Ki";
        QTest::newRow("1e6") << qint64(1000000) << int(Quantity::Format::DecimalExponent) << "1e6";
        QTest::newRow("1Mi") << qint64(1024 * 1024) << int(Quantity::Format::BinarySI) << "1Mi";
        QTest::newRow("-5") << qint64(-5) << int(Quantity::Format::DecimalSI) << "-5";
        QTest::newRow("zero binary") << qint64(0) << int(Quantity::Format::BinarySI) << "0";
        QTest::newRow("min") << kMin << int(Quantity::Format::DecimalSI) << "-9223372036854775808";
        QTest::newRow("max binary") << kMax << int(Quantity::Format::BinarySI) << "9223372036854775807";
    }
    void fromInt()
    {
        QFETCH(qint64, value);
        QFETCH(int, format);
        QFETCH(QString, expected);
        const Quantity quantity = Quantity::fromInt(value, Quantity::Format(format));
        QCOMPARE(str(quantity), expected);
        QCOMPARE(qint64(quantity.value()), value);
        QCOMPARE(int(quantity.format()), format);
        QCOMPARE(q(expected), quantity);
    }

    void fromMilli_data()
    {
        QTest::addColumn<qint64>("milli");
        QTest::addColumn<int>("format");
        QTest::addColumn<QString>("expected");
        QTest::newRow("1m") << qint64(1) << int(Quantity::Format::DecimalSI) << "1m";
        QTest::newRow("1000m") << qint64(1000) << int(Quantity::Format::DecimalSI) << "1";
        QTest::newRow("1234000m") << qint64(1234000) << int(Quantity::Format::DecimalSI) << "1234";
        QTest::newRow("binary milli prints decimal") << qint64(1024) << int(Quantity::Format::BinarySI) << "1024m";
        QTest::newRow("1Mi milli") << qint64(1024 * 1024) << int(Quantity::Format::BinarySI) << "1048576m";
        QTest::newRow("exponent") << qint64(1000000) << int(Quantity::Format::DecimalExponent) << "1e3";
        QTest::newRow("negative") << qint64(-1500) << int(Quantity::Format::DecimalSI) << "-1500m";
        QTest::newRow("min") << kMin << int(Quantity::Format::DecimalSI) << "-9223372036854775808m";
    }
    void fromMilli()
    {
        QFETCH(qint64, milli);
        QFETCH(int, format);
        QFETCH(QString, expected);
        const Quantity quantity = Quantity::fromMilli(milli, Quantity::Format(format));
        QCOMPARE(str(quantity), expected);
        QCOMPARE(qint64(quantity.milliValue()), milli);
        QCOMPARE(q(expected), quantity);
    }

    void defaultsAndSign()
    {
        const Quantity zero;
        QVERIFY(zero.isZero());
        QCOMPARE(zero.sign(), 0);
        QCOMPARE(str(zero), QStringLiteral("0"));
        QCOMPARE(int(zero.format()), int(Quantity::Format::DecimalSI));
        QCOMPARE(Quantity::fromMilli(1), q("1m"));
        QVERIFY(!q("1n").isZero());
        QCOMPARE(q("1n").sign(), 1);
        QCOMPARE(q("-1n").sign(), -1);
        QVERIFY(q("0Mi").isZero());
        Quantity x = q("1Gi");
        QCOMPARE(str(x.neg()), QStringLiteral("-1Gi"));
        QCOMPARE(str(x.neg()), QStringLiteral("1Gi"));
        Quantity z;
        QCOMPARE(str(z.neg()), QStringLiteral("0"));
    }
};

QTEST_GUILESS_MAIN(TestQuantity)
#include "tst_quantity.moc"
