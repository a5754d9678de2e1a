#include "core/model/labelselector.h"

#include <QtTest>
#include <nlohmann/json.hpp>

using namespace podscape::core;
using namespace podscape::core::model;
using nlohmann::json;
using Op = LabelSelector::Operator;

namespace {

// "a=1,b=" as a label set ("" for none), for compact tables.
Labels labels(const QString &text)
{
    Labels out;
    for (const QString &pair : text.split(',', Qt::SkipEmptyParts)) {
        const auto eq = pair.indexOf('=');
        out[pair.left(eq).toStdString()] = pair.mid(eq + 1).toStdString();
    }
    return out;
}

LabelSelector parsed(const QString &text)
{
    auto r = LabelSelector::parse(text.toStdString());
    if (!r) {
        qWarning("cannot parse %s: %s", qPrintable(text), r.error().message().c_str());
        return LabelSelector::nothing();
    }
    return *r;
}

QString str(const LabelSelector &s) { return QString::fromStdString(s.toString()); }

struct ExpectedCause {
    std::string type;
    std::string field;
};

} // namespace

class TestLabelSelector : public QObject
{
    Q_OBJECT
private slots:
    void parseCanonical_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("canonical");
        QTest::newRow("empty") << "" << "";
        QTest::newRow("blank") << " \t\r\n" << "";
        QTest::newRow("equals") << "x=a" << "x=a";
        QTest::newRow("double equals kept") << "x==a" << "x==a";
        QTest::newRow("not equals") << "x!=a" << "x!=a";
        QTest::newRow("empty value") << "x=" << "x=";
        QTest::newRow("empty value before comma") << "x=,z= " << "x=,z=";
        QTest::newRow("sorted by key") << "z=c,x=a,y=b" << "x=a,y=b,z=c";
        QTest::newRow("in") << "x in (a)" << "x in (a)";
        QTest::newRow("in sorted, unique") << "x in (b,a,a)" << "x in (a,b)";
        QTest::newRow("in trailing comma") << "x in (a,)" << "x in (,a)";
        QTest::newRow("in leading comma") << "x in (,a)" << "x in (,a)";
        QTest::newRow("in empty") << "x in ()" << "x in ()";
        QTest::newRow("in only comma") << "x in (,)" << "x in ()";
        QTest::newRow("in double comma") << "x in (a,,b)" << "x in (,a,b)";
        QTest::newRow("in triple comma") << "x in (a,,,b)" << "x in (,a,b)";
        QTest::newRow("no space before paren") << "x in(a , b)" << "x in (a,b)";
        QTest::newRow("notin") << "x notin (c)" << "x notin (c)";
        QTest::newRow("kubernetes example") << "x in (foo,,baz),y,z notin ()" << "x in (,baz,foo),y,z notin ()";
        QTest::newRow("exists") << "canary" << "canary";
        QTest::newRow("does not exist") << "!canary" << "!canary";
        QTest::newRow("does not exist, spaced") << "! canary" << "!canary";
        QTest::newRow("greater") << "x>1" << "x>1";
        QTest::newRow("less") << "x < 10" << "x<10";
        QTest::newRow("kubectl style")
            << "app=kubia,tier!=db,env in (a,b),env notin (c),!canary,canary"
            << "app=kubia,!canary,canary,env in (a,b),env notin (c),tier!=db";
        QTest::newRow("whitespace") << "  app = kubia , tier != db  " << "app=kubia,tier!=db";
        QTest::newRow("other whitespace") << "\tx\n=\ra" << "x=a";
        QTest::newRow("keywords as key and value") << "in in (in)" << "in in (in)";
        QTest::newRow("keywords as values") << "notin notin (notin,in)" << "notin notin (in,notin)";
        QTest::newRow("keyword as exact value") << "x=in" << "x=in";
        QTest::newRow("keyword alone is a key") << "in" << "in";
        QTest::newRow("prefixed key") << "example.com/app=web" << "example.com/app=web";
        QTest::newRow("all characters") << "a.b/c-d_e=F.g_H-1" << "a.b/c-d_e=F.g_H-1";
        QTest::newRow("same key twice keeps order") << "x!=b,y,x!=a" << "x!=b,x!=a,y";
    }
    void parseCanonical()
    {
        QFETCH(QString, text);
        QFETCH(QString, canonical);
        auto r = LabelSelector::parse(text.toStdString());
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message().c_str());
        QCOMPARE(str(*r), canonical);
        QVERIFY(!r->selectsNothing());
        QCOMPARE(r->isEmpty(), canonical.isEmpty());
        QCOMPARE(r->empty(), canonical.isEmpty());
        // The canonical text parses back to the same selector.
        auto again = LabelSelector::parse(canonical.toStdString());
        QVERIFY(again.ok());
        QCOMPARE(*again, *r);
    }

    void parseRequirements()
    {
        const LabelSelector s = parsed("env in (b,a),!canary,tier!=db,x==1,y>5");
        const std::vector<LabelSelector::Requirement> expected{
            {"canary", Op::DoesNotExist, {}},
            {"env", Op::In, {"a", "b"}},
            {"tier", Op::NotEquals, {"db"}},
            {"x", Op::DoubleEquals, {"1"}},
            {"y", Op::GreaterThan, {"5"}},
        };
        QCOMPARE(s.requirements().size(), expected.size());
        for (size_t i = 0; i < expected.size(); ++i)
            QVERIFY2(s.requirements()[i] == expected[i], s.requirements()[i].toString().c_str());
    }

    void parseErrors_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("problem");
        QTest::newRow("paren after comma") << "x=a,)" << "found ')' at position 4, expected: '!' or a key after ','";
        QTest::newRow("paren first") << ")" << "found ')' at position 0, expected: '!', a key or end of string";
        QTest::newRow("comma first") << ",x" << "found ',' at position 0, expected: '!', a key or end of string";
        QTest::newRow("two values") << "x=a b" << "found 'b' at position 4, expected: ',' or end of string";
        QTest::newRow("in without paren") << "x in a" << "found 'a' at position 5, expected: '('";
        QTest::newRow("unclosed") << "x in (a" << "found end of string at position 7, expected: ',' or ')'";
        QTest::newRow("missing comma") << "x in (a b)" << "found 'b' at position 8, expected: ',' or ')'";
        QTest::newRow("operator in set") << "x in (=)" << "found '=' at position 6, expected: ',', ')' or a value";
        QTest::newRow("operator after comma") << "x in (a,=)" << "found '=' at position 8, expected: ',' or a value";
        QTest::newRow("no operator") << "x y" << "found 'y' at position 2, expected: an operator (in, notin, =, ==, !=, >, <)";
        QTest::newRow("bang as operator") << "x!y" << "found '!' at position 1, expected: an operator";
        QTest::newRow("paren as value") << "x=(" << "found '(' at position 2, expected: a value";
        QTest::newRow("triple equals") << "x===b" << "found '=' at position 3, expected: a value";
        QTest::newRow("not with value") << "!x=a" << "found '=' at position 2, expected: ',' or end of string";
        QTest::newRow("bang alone") << "!" << "found end of string at position 1, expected: a key";
        QTest::newRow("double bang") << "!!x" << "found '!' at position 1, expected: a key";
        QTest::newRow("trailing comma") << "x," << "found end of string at position 2, expected: '!' or a key after ','";
        QTest::newRow("double comma") << "x=a,,y=b" << "found ',' at position 4, expected: '!' or a key after ','";
        QTest::newRow("in without set") << "x in" << "found end of string at position 4, expected: '('";
        QTest::newRow("bad key") << "-bad=x"
                                 << "invalid key \"-bad\" at position 0: name part must consist of alphanumeric characters";
        QTest::newRow("two slashes") << "x/y/z=a" << "invalid key \"x/y/z\" at position 0: a qualified name must consist";
        QTest::newRow("long key") << QString(64, 'k') + "=x"
                                  << "at position 0: name part must be no more than 63 characters";
        QTest::newRow("bad key later") << "a=b, c/=d" << "invalid key \"c/\" at position 5: name part must be non-empty";
        QTest::newRow("bad value") << "x=-bad" << "invalid value \"-bad\" for key \"x\" at position 2: a valid label must";
        QTest::newRow("bad value in set") << "x in (a,-b)" << "invalid value \"-b\" for key \"x\" at position 8:";
        QTest::newRow("long value") << "x=" + QString(64, 'v') << "at position 2: must be no more than 63 characters";
        QTest::newRow("gt not a number") << "x>a"
                                         << "invalid value \"a\" for key \"x\" at position 2: for '>' and '<' the value must be an integer";
        QTest::newRow("gt empty") << "x>" << "invalid value \"\" for key \"x\" at position 2: for '>' and '<'";
        QTest::newRow("lt overflow") << "x<99999999999999999999" << "for '>' and '<' the value must be an integer";
        QTest::newRow("gt negative") << "x>-1" << "a valid label must be an empty string";
        QTest::newRow("control character") << QString::fromLatin1("x=a\x01") << "invalid value \"a\\x01\"";
    }
    void parseErrors()
    {
        QFETCH(QString, text);
        QFETCH(QString, problem);
        auto r = LabelSelector::parse(text.toStdString());
        QVERIFY(!r.ok());
        QCOMPARE(r.error().reason(), Reason::BadRequest);
        const QString message = QString::fromStdString(r.error().message());
        QVERIFY2(message.startsWith("unable to parse label selector \""), qPrintable(message));
        QVERIFY2(message.contains(problem), qPrintable(message));
    }

    void parseErrorNamesSelector()
    {
        auto r = LabelSelector::parse("app=kubia,)");
        QVERIFY(!r.ok());
        QCOMPARE(QString::fromStdString(r.error().message()),
                 QStringLiteral("unable to parse label selector \"app=kubia,)\": found ')' at position 10, "
                                "expected: '!' or a key after ','"));
    }

    void matches_data()
    {
        QTest::addColumn<QString>("selector");
        QTest::addColumn<QString>("labels");
        QTest::addColumn<bool>("expected");
        QTest::newRow("everything, no labels") << "" << "" << true;
        QTest::newRow("everything") << "" << "x=y" << true;
        QTest::newRow("equals") << "x=y" << "x=y" << true;
        QTest::newRow("equals other value") << "x=y" << "x=z" << false;
        QTest::newRow("equals missing") << "x=y" << "" << false;
        QTest::newRow("double equals") << "x==y" << "x=y" << true;
        QTest::newRow("double equals other") << "x==y" << "x=z" << false;
        QTest::newRow("not equals") << "x!=y" << "x=z" << true;
        QTest::newRow("not equals same") << "x!=y" << "x=y" << false;
        QTest::newRow("not equals missing") << "x!=y" << "" << true;
        QTest::newRow("in") << "x in (y,z)" << "x=z" << true;
        QTest::newRow("in other") << "x in (y,z)" << "x=w" << false;
        QTest::newRow("in missing") << "x in (y,z)" << "" << false;
        QTest::newRow("notin") << "x notin (y,z)" << "x=w" << true;
        QTest::newRow("notin listed") << "x notin (y,z)" << "x=y" << false;
        QTest::newRow("notin missing") << "x notin (y,z)" << "" << true;
        QTest::newRow("exists with empty value") << "x" << "x=" << true;
        QTest::newRow("exists missing") << "x" << "y=x" << false;
        QTest::newRow("does not exist") << "!x" << "y=1" << true;
        QTest::newRow("does not exist present") << "!x" << "x=a" << false;
        QTest::newRow("empty value equals") << "x=" << "x=" << true;
        QTest::newRow("empty value needs the key") << "x=" << "" << false;
        QTest::newRow("not empty value, missing") << "x!=" << "" << true;
        QTest::newRow("not empty value, empty") << "x!=" << "x=" << false;
        QTest::newRow("in empty set") << "x in ()" << "x=" << true;
        QTest::newRow("in empty set other") << "x in ()" << "x=a" << false;
        QTest::newRow("gt") << "x>1" << "x=2" << true;
        QTest::newRow("gt equal") << "x>1" << "x=1" << false;
        QTest::newRow("gt smaller") << "x>1" << "x=0" << false;
        QTest::newRow("gt not a number") << "x>1" << "x=a" << false;
        QTest::newRow("gt missing") << "x>1" << "" << false;
        QTest::newRow("gt overflow") << "x>1" << "x=99999999999999999999" << false;
        QTest::newRow("gt numeric not lexical") << "x>9" << "x=10" << true;
        QTest::newRow("lt negative label") << "x<1" << "x=-5" << true;
        QTest::newRow("lt plus sign") << "x<1" << "x=+0" << true;
        QTest::newRow("lt") << "x<10" << "x=10" << false;
        QTest::newRow("all of several") << "x=y,z=w" << "x=y,z=w" << true;
        QTest::newRow("one of several fails") << "x=y,z=w" << "x=y" << false;
        QTest::newRow("kubectl style")
            << "app=kubia,tier!=db,env in (a,b),env notin (c),!canary" << "app=kubia,tier=web,env=a" << true;
        QTest::newRow("kubectl style, canary") << "app=kubia,tier!=db,env in (a,b),env notin (c),!canary"
                                               << "app=kubia,tier=web,env=a,canary=true" << false;
    }
    void matches()
    {
        QFETCH(QString, selector);
        QFETCH(QString, labels);
        QFETCH(bool, expected);
        const LabelSelector s = parsed(selector);
        QCOMPARE(s.matches(::labels(labels)), expected);
    }

    void everythingAndNothing()
    {
        const LabelSelector all = LabelSelector::everything();
        const LabelSelector none = LabelSelector::nothing();
        QVERIFY(all.isEmpty());
        QVERIFY(!all.selectsNothing());
        QVERIFY(all.matches({}));
        QVERIFY(all.matches(labels("a=b")));
        QVERIFY(!none.isEmpty());
        QVERIFY(none.selectsNothing());
        QVERIFY(!none.matches({}));
        QVERIFY(!none.matches(labels("a=b")));
        QCOMPARE(str(none), QString());
        QCOMPARE(str(all), QString());
        QVERIFY(!(all == none));
        QCOMPARE(LabelSelector(), all);
        // Adding to nothing still selects nothing, as in Kubernetes.
        LabelSelector n = LabelSelector::nothing();
        n.add({"a", Op::Exists, {}});
        QVERIFY(n.selectsNothing());
        QVERIFY(n.requirements().empty());
    }

    void fromJson_data()
    {
        QTest::addColumn<QString>("document");
        QTest::addColumn<QString>("canonical");
        QTest::addColumn<bool>("nothing");
        QTest::newRow("null selects nothing") << "null" << "" << true;
        QTest::newRow("empty selects everything") << "{}" << "" << false;
        QTest::newRow("empty parts") << R"({"matchLabels":{},"matchExpressions":[]})" << "" << false;
        QTest::newRow("null parts") << R"({"matchLabels":null,"matchExpressions":null})" << "" << false;
        QTest::newRow("matchLabels") << R"({"matchLabels":{"app":"kubia"}})" << "app=kubia" << false;
        QTest::newRow("matchLabels sorted") << R"({"matchLabels":{"b":"2","a":"1"}})" << "a=1,b=2" << false;
        QTest::newRow("In") << R"({"matchExpressions":[{"key":"env","operator":"In","values":["b","a"]}]})"
                            << "env in (a,b)" << false;
        QTest::newRow("NotIn") << R"({"matchExpressions":[{"key":"env","operator":"NotIn","values":["c"]}]})"
                               << "env notin (c)" << false;
        QTest::newRow("Exists") << R"({"matchExpressions":[{"key":"canary","operator":"Exists"}]})" << "canary" << false;
        QTest::newRow("DoesNotExist, null values")
            << R"({"matchExpressions":[{"key":"canary","operator":"DoesNotExist","values":null}]})" << "!canary" << false;
        QTest::newRow("Exists, empty values")
            << R"({"matchExpressions":[{"key":"canary","operator":"Exists","values":[]}]})" << "canary" << false;
        QTest::newRow("both, sorted by key")
            << R"({"matchLabels":{"tier":"web","app":"kubia"},"matchExpressions":[{"key":"env","operator":"In","values":["prod"]},{"key":"app","operator":"Exists"}]})"
            << "app=kubia,app,env in (prod),tier=web" << false;
        QTest::newRow("empty label value") << R"({"matchLabels":{"a":""}})" << "a=" << false;
        QTest::newRow("unknown fields ignored") << R"({"matchLabels":{"a":"b"},"foo":1})" << "a=b" << false;
    }
    void fromJson()
    {
        QFETCH(QString, document);
        QFETCH(QString, canonical);
        QFETCH(bool, nothing);
        auto r = LabelSelector::fromJson(json::parse(document.toStdString()));
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message().c_str());
        QCOMPARE(str(*r), canonical);
        QCOMPARE(r->selectsNothing(), nothing);
        QCOMPARE(r->isEmpty(), !nothing && canonical.isEmpty());
    }

    void fromJsonKeepsValues()
    {
        // Values stay as written (Kubernetes keeps them); only the text is sorted.
        auto r = LabelSelector::fromJson(json::parse(R"({"matchExpressions":[{"key":"env","operator":"In","values":["b","a","b"]}]})"));
        QVERIFY(r.ok());
        QCOMPARE(r->requirements().front().values, (std::vector<std::string>{"b", "a", "b"}));
        QCOMPARE(str(*r), QStringLiteral("env in (a,b,b)"));
        QVERIFY(r->matches(labels("env=a")));
        QVERIFY(!r->matches(labels("env=c")));
    }

    void fromJsonErrors_data()
    {
        QTest::addColumn<QString>("document");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("message");
        QTest::addColumn<QStringList>("causes"); // "type field" per cause
        QTest::newRow("In without values")
            << R"({"matchExpressions":[{"key":"a","operator":"In"}]})" << ""
            << "matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
            << QStringList{"FieldValueRequired matchExpressions[0].values"};
        QTest::newRow("second expression, empty values")
            << R"({"matchExpressions":[{"key":"a","operator":"Exists"},{"key":"b","operator":"NotIn","values":[]}]})"
            << "" << "matchExpressions[1].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
            << QStringList{"FieldValueRequired matchExpressions[1].values"};
        QTest::newRow("Exists with values")
            << R"({"matchExpressions":[{"key":"a","operator":"Exists","values":["x"]}]})" << ""
            << "matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
            << QStringList{"FieldValueForbidden matchExpressions[0].values"};
        QTest::newRow("unknown operator")
            << R"({"matchExpressions":[{"key":"a","operator":"Gt","values":["1"]}]})" << ""
            << "matchExpressions[0].operator: Invalid value: \"Gt\": not a valid selector operator"
            << QStringList{"FieldValueInvalid matchExpressions[0].operator"};
        QTest::newRow("lower-case operator")
            << R"({"matchExpressions":[{"key":"a","operator":"in","values":["1"]}]})" << ""
            << "matchExpressions[0].operator: Invalid value: \"in\": not a valid selector operator"
            << QStringList{"FieldValueInvalid matchExpressions[0].operator"};
        QTest::newRow("missing operator")
            << R"({"matchExpressions":[{"key":"a"}]})" << ""
            << "matchExpressions[0].operator: Invalid value: \"\": not a valid selector operator"
            << QStringList{"FieldValueInvalid matchExpressions[0].operator"};
        QTest::newRow("bad key")
            << R"({"matchExpressions":[{"key":"-a","operator":"Exists"}]})" << ""
            << "matchExpressions[0].key: Invalid value: \"-a\": name part must consist of alphanumeric characters, "
               "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  "
               "or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
            << QStringList{"FieldValueInvalid matchExpressions[0].key"};
        QTest::newRow("missing key")
            << R"({"matchExpressions":[{"operator":"Exists"}]})" << ""
            << "[matchExpressions[0].key: Invalid value: \"\": name part must be non-empty, matchExpressions[0].key: "
               "Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
               "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
               "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')]"
            << QStringList{"FieldValueInvalid matchExpressions[0].key", "FieldValueInvalid matchExpressions[0].key"};
        QTest::newRow("bad value")
            << R"({"matchExpressions":[{"key":"a","operator":"In","values":["ok","-x"]}]})" << ""
            << "matchExpressions[0].values[1]: Invalid value: \"-x\": a valid label must be an empty string or consist "
               "of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character "
               "(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
               "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
            << QStringList{"FieldValueInvalid matchExpressions[0].values[1]"};
        QTest::newRow("matchLabels bad key")
            << R"({"matchLabels":{"bad key":"x"}})" << ""
            << "matchLabels: Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', '_' "
               "or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
               "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
            << QStringList{"FieldValueInvalid matchLabels"};
        QTest::newRow("matchLabels long value")
            << QString(R"({"matchLabels":{"a":"%1"}})").arg(QString(64, 'v')) << "spec.selector"
            << QString("spec.selector.matchLabels: Invalid value: \"%1\": must be no more than 63 characters").arg(QString(64, 'v'))
            << QStringList{"FieldValueInvalid spec.selector.matchLabels"};
        QTest::newRow("matchLabels number")
            << R"({"matchLabels":{"app":1}})" << "" << "matchLabels[app]: Invalid value: number: must be a string"
            << QStringList{"FieldValueTypeInvalid matchLabels[app]"};
        QTest::newRow("matchLabels a list")
            << R"({"matchLabels":["app"]})" << ""
            << "matchLabels: Invalid value: array: must be an object of label keys and values"
            << QStringList{"FieldValueTypeInvalid matchLabels"};
        QTest::newRow("matchExpressions an object")
            << R"({"matchExpressions":{"key":"a"}})" << ""
            << "matchExpressions: Invalid value: object: must be a list of requirements"
            << QStringList{"FieldValueTypeInvalid matchExpressions"};
        QTest::newRow("expression a string")
            << R"({"matchExpressions":["a=b"]})" << ""
            << "matchExpressions[0]: Invalid value: string: must be an object with key, operator and values"
            << QStringList{"FieldValueTypeInvalid matchExpressions[0]"};
        QTest::newRow("values a string")
            << R"({"matchExpressions":[{"key":"a","operator":"In","values":"x"}]})" << ""
            << "matchExpressions[0].values: Invalid value: string: must be a list of strings"
            << QStringList{"FieldValueTypeInvalid matchExpressions[0].values"};
        QTest::newRow("value a number")
            << R"({"matchExpressions":[{"key":"a","operator":"In","values":["x",2]}]})" << ""
            << "matchExpressions[0].values[1]: Invalid value: number: must be a string"
            << QStringList{"FieldValueTypeInvalid matchExpressions[0].values[1]"};
        QTest::newRow("key a number")
            << R"({"matchExpressions":[{"key":5,"operator":"Exists"}]})" << ""
            << "matchExpressions[0].key: Invalid value: number: must be a string"
            << QStringList{"FieldValueTypeInvalid matchExpressions[0].key"};
        QTest::newRow("selector a string")
            << R"("app=kubia")" << "spec.selector"
            << "spec.selector: Invalid value: string: must be an object with matchLabels and matchExpressions"
            << QStringList{"FieldValueTypeInvalid spec.selector"};
        QTest::newRow("several at once, under a path")
            << R"({"matchLabels":{"a":"-"},"matchExpressions":[{"key":"b","operator":"In"},{"key":"c","operator":"Nope"}]})"
            << "spec.selector"
            << "[spec.selector.matchLabels: Invalid value: \"-\": a valid label must be an empty string or consist of "
               "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
               "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
               "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?'), spec.selector.matchExpressions[0].values: Required "
               "value: must be specified when `operator` is 'In' or 'NotIn', spec.selector.matchExpressions[1].operator: "
               "Invalid value: \"Nope\": not a valid selector operator]"
            << QStringList{"FieldValueInvalid spec.selector.matchLabels",
                           "FieldValueRequired spec.selector.matchExpressions[0].values",
                           "FieldValueInvalid spec.selector.matchExpressions[1].operator"};
    }
    void fromJsonErrors()
    {
        QFETCH(QString, document);
        QFETCH(QString, path);
        QFETCH(QString, message);
        QFETCH(QStringList, causes);
        auto r = LabelSelector::fromJson(json::parse(document.toStdString()), path.toStdString());
        QVERIFY(!r.ok());
        QCOMPARE(r.error().reason(), Reason::Invalid);
        QCOMPARE(QString::fromStdString(r.error().message()), message);
        QStringList actual;
        for (const auto &c : r.error().causes()) {
            actual << QString::fromStdString(c.type + " " + c.field);
            QVERIFY(!c.message.empty());
        }
        QCOMPARE(actual, causes);
    }

    void fromMatchLabels_data()
    {
        QTest::addColumn<QString>("document");
        QTest::addColumn<QString>("canonical");
        QTest::addColumn<bool>("nothing");
        QTest::newRow("null") << "null" << "" << true;
        QTest::newRow("empty map selects nothing") << "{}" << "" << true;
        QTest::newRow("one label") << R"({"app":"kubia"})" << "app=kubia" << false;
        QTest::newRow("sorted") << R"({"tier":"web","app":"kubia"})" << "app=kubia,tier=web" << false;
    }
    void fromMatchLabels()
    {
        QFETCH(QString, document);
        QFETCH(QString, canonical);
        QFETCH(bool, nothing);
        auto r = LabelSelector::fromMatchLabels(json::parse(document.toStdString()));
        QVERIFY(r.ok());
        QCOMPARE(str(*r), canonical);
        QCOMPARE(r->selectsNothing(), nothing);
        // A Service without selector must not pick up every pod.
        QCOMPARE(r->matches(labels("app=kubia,tier=web")), !nothing);
        QVERIFY(!r->matches(labels("app=other")));
    }

    void fromMatchLabelsErrors_data()
    {
        QTest::addColumn<QString>("document");
        QTest::addColumn<QString>("message");
        QTest::newRow("not a map") << R"(["app"])" << "spec.selector: Invalid value: array: must be an object of label keys and values";
        QTest::newRow("number value") << R"({"app":1})" << "spec.selector[app]: Invalid value: number: must be a string";
        QTest::newRow("bad key") << R"({"a b":"x"})" << "spec.selector: Invalid value: \"a b\": name part must consist";
        QTest::newRow("bad value") << R"({"app":"x y"})" << "spec.selector: Invalid value: \"x y\": a valid label must";
    }
    void fromMatchLabelsErrors()
    {
        QFETCH(QString, document);
        QFETCH(QString, message);
        auto r = LabelSelector::fromMatchLabels(json::parse(document.toStdString()), "spec.selector");
        QVERIFY(!r.ok());
        QCOMPARE(r.error().reason(), Reason::Invalid);
        QVERIFY2(QString::fromStdString(r.error().message()).startsWith(message), r.error().message().c_str());
        QCOMPARE(r.error().causes().size(), size_t(1));
    }

    void fromSet()
    {
        auto all = LabelSelector::fromSet({});
        QVERIFY(all.ok());
        QVERIFY(all->isEmpty());
        QVERIFY(all->matches(labels("x=y")));
        auto s = LabelSelector::fromSet(labels("b=2,a=1"));
        QVERIFY(s.ok());
        QCOMPARE(str(*s), QStringLiteral("a=1,b=2"));
        QVERIFY(s->matches(labels("a=1,b=2,c=3")));
        QVERIFY(!s->matches(labels("a=1")));
        auto bad = LabelSelector::fromSet({{"bad key", "x"}, {"ok", "-"}});
        QVERIFY(!bad.ok());
        QCOMPARE(bad.error().reason(), Reason::Invalid);
        QCOMPARE(bad.error().causes().size(), size_t(2));
        QVERIFY(bad.error().message().find("\"bad key\"") != std::string::npos);
        QVERIFY(bad.error().message().find("\"-\"") != std::string::npos);
    }

    void labelsFromJson_data()
    {
        QTest::addColumn<QString>("document");
        QTest::addColumn<QString>("labels");
        QTest::newRow("labels") << R"({"app":"kubia","tier":"web"})" << "app=kubia,tier=web";
        QTest::newRow("empty value") << R"({"a":""})" << "a=";
        QTest::newRow("non-strings skipped") << R"({"a":"1","b":2,"c":null,"d":["x"]})" << "a=1";
        QTest::newRow("null") << "null" << "";
        QTest::newRow("array") << R"(["a"])" << "";
        QTest::newRow("string") << R"("a=b")" << "";
    }
    void labelsFromJson()
    {
        QFETCH(QString, document);
        QFETCH(QString, labels);
        QCOMPARE(podscape::core::model::labelsFromJson(json::parse(document.toStdString())), ::labels(labels));
    }

    void makeRequirement_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<int>("op");
        QTest::addColumn<QStringList>("values");
        QTest::addColumn<QString>("problem"); // empty: valid
        QTest::newRow("in") << "env" << int(Op::In) << QStringList{"a", "b"} << "";
        QTest::newRow("equals") << "env" << int(Op::Equals) << QStringList{"a"} << "";
        QTest::newRow("exists") << "env" << int(Op::Exists) << QStringList{} << "";
        QTest::newRow("gt") << "n" << int(Op::GreaterThan) << QStringList{"5"} << "";
        QTest::newRow("in, no values") << "env" << int(Op::In) << QStringList{}
                                       << "for 'in', 'notin' operators, values set can't be empty";
        QTest::newRow("equals, two values") << "env" << int(Op::Equals) << QStringList{"a", "b"}
                                            << "exact-match compatibility requires one single value";
        QTest::newRow("not equals, none") << "env" << int(Op::NotEquals) << QStringList{}
                                          << "exact-match compatibility requires one single value";
        QTest::newRow("exists with value") << "env" << int(Op::DoesNotExist) << QStringList{"a"}
                                           << "values set must be empty for exists and does not exist";
        QTest::newRow("gt two values") << "n" << int(Op::LessThan) << QStringList{"1", "2"}
                                       << "for 'Gt', 'Lt' operators, exactly one value is required";
        QTest::newRow("gt word") << "n" << int(Op::GreaterThan) << QStringList{"x"}
                                 << "value \"x\": for 'Gt', 'Lt' operators, the value must be an integer";
        QTest::newRow("bad key") << "a b" << int(Op::Exists) << QStringList{} << "key \"a b\": name part must consist";
        QTest::newRow("bad value") << "env" << int(Op::In) << QStringList{"ok", "no way"}
                                   << "value \"no way\": a valid label must";
    }
    void makeRequirement()
    {
        QFETCH(QString, key);
        QFETCH(int, op);
        QFETCH(QStringList, values);
        QFETCH(QString, problem);
        std::vector<std::string> v;
        for (const auto &s : values)
            v.push_back(s.toStdString());
        auto r = LabelSelector::makeRequirement(key.toStdString(), Op(op), v);
        QCOMPARE(r.ok(), problem.isEmpty());
        if (r.ok()) {
            QCOMPARE(r->key, key.toStdString());
            QCOMPARE(int(r->op), op);
            QCOMPARE(r->values, v);
        } else {
            QCOMPARE(r.error().reason(), Reason::BadRequest);
            QVERIFY2(QString::fromStdString(r.error().message()).contains(problem), r.error().message().c_str());
        }
    }

    void addKeepsKeyOrder()
    {
        LabelSelector s;
        s.add({"tier", Op::Equals, {"web"}});
        s.add({"app", Op::Equals, {"kubia"}});
        s.add({"env", Op::Exists, {}});
        s.add({"app", Op::NotEquals, {"x"}});
        QCOMPARE(str(s), QStringLiteral("app=kubia,app!=x,env,tier=web"));
        QVERIFY(s.matches(labels("app=kubia,env=prod,tier=web")));
        QVERIFY(!s.matches(labels("app=kubia,tier=web")));
        QCOMPARE(s, parsed("tier=web,app=kubia,env,app!=x"));
    }

    void requiresExactMatch_data()
    {
        QTest::addColumn<QString>("selector");
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("value"); // "<none>" when there is none
        QTest::newRow("equals") << "x=a" << "x" << "a";
        QTest::newRow("double equals") << "x==a,y=b" << "x" << "a";
        QTest::newRow("in one") << "x in (a)" << "x" << "a";
        QTest::newRow("in two") << "x in (a,b)" << "x" << "<none>";
        QTest::newRow("not equals") << "x!=a" << "x" << "<none>";
        QTest::newRow("exists") << "x" << "x" << "<none>";
        QTest::newRow("other key") << "y=a" << "x" << "<none>";
        QTest::newRow("empty value") << "x=" << "x" << "";
        QTest::newRow("first requirement decides") << "x!=a,x=b" << "x" << "<none>";
    }
    void requiresExactMatch()
    {
        QFETCH(QString, selector);
        QFETCH(QString, key);
        QFETCH(QString, value);
        const auto v = parsed(selector).requiresExactMatch(key.toStdString());
        QCOMPARE(v ? QString::fromStdString(*v) : QStringLiteral("<none>"), value);
    }

    void requirementToString_data()
    {
        QTest::addColumn<int>("op");
        QTest::addColumn<QStringList>("values");
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("name");
        QTest::newRow("in") << int(Op::In) << QStringList{"b", "a"} << "k in (a,b)" << "in";
        QTest::newRow("notin") << int(Op::NotIn) << QStringList{"a"} << "k notin (a)" << "notin";
        QTest::newRow("exists") << int(Op::Exists) << QStringList{} << "k" << "exists";
        QTest::newRow("does not exist") << int(Op::DoesNotExist) << QStringList{} << "!k" << "!";
        QTest::newRow("equals") << int(Op::Equals) << QStringList{"v"} << "k=v" << "=";
        QTest::newRow("double equals") << int(Op::DoubleEquals) << QStringList{"v"} << "k==v" << "==";
        QTest::newRow("not equals") << int(Op::NotEquals) << QStringList{"v"} << "k!=v" << "!=";
        QTest::newRow("gt") << int(Op::GreaterThan) << QStringList{"1"} << "k>1" << "gt";
        QTest::newRow("lt") << int(Op::LessThan) << QStringList{"1"} << "k<1" << "lt";
    }
    void requirementToString()
    {
        QFETCH(int, op);
        QFETCH(QStringList, values);
        QFETCH(QString, text);
        QFETCH(QString, name);
        LabelSelector::Requirement r{"k", Op(op), {}};
        for (const auto &v : values)
            r.values.push_back(v.toStdString());
        QCOMPARE(QString::fromStdString(r.toString()), text);
        QCOMPARE(QString::fromStdString(std::string(LabelSelector::operatorName(Op(op)))), name);
    }

    void equality()
    {
        QCOMPARE(parsed("a=b,c=d"), parsed("c=d, a=b"));
        QCOMPARE(parsed("x in (b,a)"), parsed("x in (a,b,a)"));
        QVERIFY(!(parsed("a=b") == parsed("a==b")));
        QVERIFY(!(parsed("a=b") == parsed("a!=b")));
        QVERIFY(!(parsed("") == LabelSelector::nothing()));
    }
};

QTEST_GUILESS_MAIN(TestLabelSelector)
#include "tst_labelselector.moc"
