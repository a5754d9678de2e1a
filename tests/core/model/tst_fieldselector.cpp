#include "core/model/fieldselector.h"

#include <QtTest>

#include <map>

using namespace podscape::core;
using namespace podscape::core::model;
using Op = FieldSelector::Operator;

namespace {

FieldSelector parsed(const QString &text)
{
    auto r = FieldSelector::parse(text.toStdString());
    if (!r) {
        qWarning("cannot parse %s: %s", qPrintable(text), r.error().message().c_str());
        return {};
    }
    return *r;
}

// An object's fields from "name=value;name=value" (';' so that values may hold commas).
FieldSelector::FieldGetter fields(const QString &text)
{
    std::map<std::string, std::string, std::less<>> values;
    for (const QString &pair : text.split(';', Qt::SkipEmptyParts)) {
        const auto eq = pair.indexOf('=');
        values[pair.left(eq).toStdString()] = pair.mid(eq + 1).toStdString();
    }
    return [values](std::string_view field) -> std::optional<std::string> {
        const auto it = values.find(field);
        if (it == values.end())
            return std::nullopt;
        return it->second;
    };
}

} // namespace

class TestFieldSelector : public QObject
{
    Q_OBJECT
private slots:
    void parseCanonical_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("canonical");
        QTest::newRow("empty") << "" << "";
        QTest::newRow("only commas") << ",," << "";
        QTest::newRow("name") << "metadata.name=x" << "metadata.name=x";
        QTest::newRow("not equals") << "status.phase!=Running" << "status.phase!=Running";
        QTest::newRow("empty value") << "spec.nodeName=" << "spec.nodeName=";
        QTest::newRow("double equals prints single") << "a==b" << "a=b";
        QTest::newRow("empty double equals") << "a==" << "a=";
        QTest::newRow("terms ordered by their text") << "b=1,a=2" << "a=2,b=1";
        QTest::newRow("empty terms skipped") << "a=b,,c=d," << "a=b,c=d";
        QTest::newRow("kubectl style") << "status.phase!=Running,metadata.name=x,spec.nodeName="
                                       << "metadata.name=x,spec.nodeName=,status.phase!=Running";
        QTest::newRow("escaped comma") << "a=b\\,c" << "a=b\\,c";
        QTest::newRow("escaped equals") << "a=b\\=c" << "a=b\\=c";
        QTest::newRow("escaped backslash") << "a=b\\\\c" << "a=b\\\\c";
        QTest::newRow("escaped backslash before comma") << "x=a\\\\,y=b" << "x=a\\\\,y=b";
        QTest::newRow("first operator splits") << "a=!b" << "a=!b";
        QTest::newRow("free-form field") << "!a=b" << "!a=b";
        QTest::newRow("spaces are data") << "a b= c" << "a b= c";
        QTest::newRow("empty field") << "=x" << "=x";
        QTest::newRow("double equals sorts by its text") << "a==b,a=A" << "a=b,a=A";
        QTest::newRow("unicode value") << "metadata.name=caf\xc3\xa9" << "metadata.name=caf\xc3\xa9";
    }
    void parseCanonical()
    {
        QFETCH(QString, text);
        QFETCH(QString, canonical);
        auto r = FieldSelector::parse(text.toStdString());
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message().c_str());
        QCOMPARE(QString::fromStdString(r->toString()), canonical);
        QCOMPARE(r->isEmpty(), canonical.isEmpty());
        auto again = FieldSelector::parse(canonical.toStdString());
        QVERIFY(again.ok());
        QCOMPARE(*again, *r);
    }

    void requirements_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QStringList>("expected"); // "field|op|value"
        QTest::newRow("one") << "metadata.name=x" << QStringList{"metadata.name|=|x"};
        QTest::newRow("double equals is equals") << "a==b" << QStringList{"a|=|b"};
        QTest::newRow("not equals") << "status.phase!=Running" << QStringList{"status.phase|!=|Running"};
        QTest::newRow("empty value") << "spec.nodeName=" << QStringList{"spec.nodeName|=|"};
        QTest::newRow("unescaped value") << "a=x\\,y\\=z\\\\" << QStringList{"a|=|x,y=z\\"};
        QTest::newRow("not-equals wins over equals") << "a!=b" << QStringList{"a|!=|b"};
        QTest::newRow("bang in value") << "a=!b" << QStringList{"a|=|!b"};
        QTest::newRow("several, in text order") << "z=1,a!=2" << QStringList{"a|!=|2", "z|=|1"};
    }
    void requirements()
    {
        QFETCH(QString, text);
        QFETCH(QStringList, expected);
        QStringList actual;
        const FieldSelector selector = parsed(text);
        for (const auto &r : selector.requirements())
            actual << QString::fromStdString(r.field + "|" + (r.op == Op::Equals ? "=" : "!=") + "|" + r.value);
        QCOMPARE(actual, expected);
    }

    void parseErrors_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("problem");
        QTest::newRow("no operator") << "a" << "cannot understand term \"a\", expected <field>=<value>, <field>==<value> or <field>!=<value>";
        QTest::newRow("bad second term") << "a=b,c" << "cannot understand term \"c\"";
        QTest::newRow("unescaped equals") << "a=b=c" << "term \"a=b=c\": unescaped '=' in the value (write '\\=')";
        QTest::newRow("unescaped equals after not equals") << "a!==b" << "term \"a!==b\": unescaped '='";
        QTest::newRow("unknown escape") << "a=b\\q" << "term \"a=b\\\\q\": invalid escape sequence \"\\\\q\"";
        QTest::newRow("trailing backslash") << "a=b\\" << "term \"a=b\\\\\": the value ends with a lone '\\'";
        QTest::newRow("escaped comma joins terms") << "a=b\\,c=d" << "term \"a=b\\\\,c=d\": unescaped '='";
        QTest::newRow("greater than") << "a>1" << "cannot understand term \"a>1\"";
    }
    void parseErrors()
    {
        QFETCH(QString, text);
        QFETCH(QString, problem);
        auto r = FieldSelector::parse(text.toStdString());
        QVERIFY(!r.ok());
        QCOMPARE(r.error().reason(), Reason::BadRequest);
        const QString message = QString::fromStdString(r.error().message());
        QVERIFY2(message.startsWith("invalid field selector \""), qPrintable(message));
        QVERIFY2(message.contains(problem), qPrintable(message));
    }

    void matches_data()
    {
        QTest::addColumn<QString>("selector");
        QTest::addColumn<QString>("object");
        QTest::addColumn<bool>("expected");
        QTest::newRow("everything") << "" << "" << true;
        QTest::newRow("name") << "metadata.name=x" << "metadata.name=x" << true;
        QTest::newRow("other name") << "metadata.name=x" << "metadata.name=y" << false;
        QTest::newRow("missing is empty: equals empty") << "spec.nodeName=" << "" << true;
        QTest::newRow("unscheduled") << "spec.nodeName=" << "spec.nodeName=" << true;
        QTest::newRow("scheduled") << "spec.nodeName=" << "spec.nodeName=node-1" << false;
        QTest::newRow("not running") << "status.phase!=Running" << "status.phase=Pending" << true;
        QTest::newRow("running") << "status.phase!=Running" << "status.phase=Running" << false;
        QTest::newRow("missing is not Running") << "status.phase!=Running" << "" << true;
        QTest::newRow("missing is not x") << "metadata.name=x" << "" << false;
        QTest::newRow("both hold") << "metadata.name=x,metadata.namespace=default"
                                   << "metadata.name=x;metadata.namespace=default" << true;
        QTest::newRow("one fails") << "metadata.name=x,metadata.namespace=default"
                                   << "metadata.name=x;metadata.namespace=kube-system" << false;
        QTest::newRow("escaped value") << "metadata.name=a\\,b" << "metadata.name=a,b" << true;
        QTest::newRow("escaped value, literal text") << "metadata.name=a\\,b" << "metadata.name=a\\,b" << false;
        QTest::newRow("contradiction") << "a=1,a!=1" << "a=1" << false;
    }
    void matches()
    {
        QFETCH(QString, selector);
        QFETCH(QString, object);
        QFETCH(bool, expected);
        QCOMPARE(parsed(selector).matches(fields(object)), expected);
    }

    void matchesAsksForEachField()
    {
        std::vector<std::string> asked;
        const auto get = [&](std::string_view field) -> std::optional<std::string> {
            asked.emplace_back(field);
            return std::string("v");
        };
        QVERIFY(parsed("b=v,a=v").matches(get));
        QCOMPARE(asked, (std::vector<std::string>{"a", "b"}));
        // No terms: nothing to ask, even without a getter.
        QVERIFY(FieldSelector().matches({}));
        QVERIFY(FieldSelector::everything().isEmpty());
        // A missing getter answers "absent" for every field.
        QVERIFY(parsed("spec.nodeName=").matches({}));
        QVERIFY(!parsed("metadata.name=x").matches({}));
    }

    void requiresExactMatch_data()
    {
        QTest::addColumn<QString>("selector");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("value"); // "<none>" when there is none
        QTest::newRow("equals") << "metadata.name=x" << "metadata.name" << "x";
        QTest::newRow("double equals") << "metadata.name==x" << "metadata.name" << "x";
        QTest::newRow("not equals") << "metadata.name!=x" << "metadata.name" << "<none>";
        QTest::newRow("other field") << "metadata.name=x" << "spec.nodeName" << "<none>";
        QTest::newRow("second term") << "a=1,b=2" << "b" << "2";
        QTest::newRow("empty value") << "spec.nodeName=" << "spec.nodeName" << "";
        QTest::newRow("unescaped") << "a=x\\,y" << "a" << "x,y";
    }
    void requiresExactMatch()
    {
        QFETCH(QString, selector);
        QFETCH(QString, field);
        QFETCH(QString, value);
        const auto v = parsed(selector).requiresExactMatch(field.toStdString());
        QCOMPARE(v ? QString::fromStdString(*v) : QStringLiteral("<none>"), value);
    }

    void escaping_data()
    {
        QTest::addColumn<QString>("raw");
        QTest::addColumn<QString>("escaped");
        QTest::newRow("plain") << "abc" << "abc";
        QTest::newRow("empty") << "" << "";
        QTest::newRow("comma") << "a,b" << "a\\,b";
        QTest::newRow("equals") << "a=b" << "a\\=b";
        QTest::newRow("backslash") << "a\\b" << "a\\\\b";
        QTest::newRow("all") << "\\,=" << "\\\\\\,\\=";
        QTest::newRow("not special") << "!()<> " << "!()<> ";
    }
    void escaping()
    {
        QFETCH(QString, raw);
        QFETCH(QString, escaped);
        QCOMPARE(QString::fromStdString(FieldSelector::escapeValue(raw.toStdString())), escaped);
        auto back = FieldSelector::unescapeValue(escaped.toStdString());
        QVERIFY(back.ok());
        QCOMPARE(QString::fromStdString(*back), raw);
        // A value escaped into a selector comes back out whole.
        const FieldSelector one = FieldSelector::oneTermEqual("metadata.name", raw.toStdString());
        QCOMPARE(QString::fromStdString(one.toString()), "metadata.name=" + escaped);
        QCOMPARE(parsed(QString::fromStdString(one.toString())), one);
    }

    void unescapeErrors_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("problem");
        QTest::newRow("bare comma") << "a,b" << "unescaped ',' in the value";
        QTest::newRow("bare equals") << "a=b" << "unescaped '=' in the value";
        QTest::newRow("unknown escape") << "a\\nb" << "invalid escape sequence \"\\\\n\"";
        QTest::newRow("lone backslash") << "ab\\" << "the value ends with a lone '\\'";
    }
    void unescapeErrors()
    {
        QFETCH(QString, value);
        QFETCH(QString, problem);
        auto r = FieldSelector::unescapeValue(value.toStdString());
        QVERIFY(!r.ok());
        QCOMPARE(r.error().reason(), Reason::BadRequest);
        QVERIFY2(QString::fromStdString(r.error().message()).contains(problem), r.error().message().c_str());
    }

    void equalityIgnoresOrder()
    {
        QCOMPARE(parsed("a==b,a=A"), parsed("a=A,a=b"));
        QCOMPARE(parsed("a=1,b=2"), parsed("b=2,a=1"));
        QVERIFY(!(parsed("a=1") == parsed("a!=1")));
        QVERIFY(!(parsed("a=1") == parsed("a=1,a=1")));
        QVERIFY(!(parsed("a=1,b=2") == parsed("a=1,b=3")));
        QCOMPARE(FieldSelector::oneTermEqual("a", "1"), parsed("a==1"));
    }
};

QTEST_GUILESS_MAIN(TestFieldSelector)
#include "tst_fieldselector.moc"
