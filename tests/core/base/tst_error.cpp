#include "core/base/result.h"

#include <QtTest>
#include <nlohmann/json.hpp>

using namespace podscape::core;

class TestError : public QObject
{
    Q_OBJECT
private slots:
    void reasonCodes_data()
    {
        QTest::addColumn<int>("reason");
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("code");
        QTest::newRow("NotFound") << int(Reason::NotFound) << "NotFound" << 404;
        QTest::newRow("AlreadyExists") << int(Reason::AlreadyExists) << "AlreadyExists" << 409;
        QTest::newRow("Conflict") << int(Reason::Conflict) << "Conflict" << 409;
        QTest::newRow("Invalid") << int(Reason::Invalid) << "Invalid" << 422;
        QTest::newRow("BadRequest") << int(Reason::BadRequest) << "BadRequest" << 400;
        QTest::newRow("Gone") << int(Reason::Gone) << "Gone" << 410;
        QTest::newRow("Expired") << int(Reason::Expired) << "Expired" << 410;
        QTest::newRow("Unauthorized") << int(Reason::Unauthorized) << "Unauthorized" << 401;
        QTest::newRow("Forbidden") << int(Reason::Forbidden) << "Forbidden" << 403;
        QTest::newRow("MethodNotAllowed") << int(Reason::MethodNotAllowed) << "MethodNotAllowed" << 405;
        QTest::newRow("TooLarge") << int(Reason::RequestEntityTooLarge) << "RequestEntityTooLarge" << 413;
        QTest::newRow("InternalError") << int(Reason::InternalError) << "InternalError" << 500;
        QTest::newRow("Timeout") << int(Reason::Timeout) << "Timeout" << 504;
    }
    void reasonCodes()
    {
        QFETCH(int, reason);
        QFETCH(QString, name);
        QFETCH(int, code);
        const auto r = static_cast<Reason>(reason);
        QCOMPARE(QString::fromStdString(std::string(reasonName(r))), name);
        QCOMPARE(defaultHttpCode(r), code);
        QCOMPARE(reasonFromName(name.toStdString()), r);
        Error e(r, "m");
        QCOMPARE(e.httpCode(), code);
    }

    void statusRoundTrip()
    {
        Error e = Error::invalid("Pod", "kubia",
                                 {{std::string(cause::Required), "Required value", "spec.containers[0].image"},
                                  {std::string(cause::UnknownField), "unknown field \"images\"",
                                   "spec.containers[0].images"}});
        QCOMPARE(e.reason(), Reason::Invalid);
        QCOMPARE(e.httpCode(), 422);
        QCOMPARE(QString::fromStdString(e.message()),
                 QStringLiteral("Pod \"kubia\" is invalid: [spec.containers[0].image: Required value, "
                                "spec.containers[0].images: unknown field \"images\"]"));
        nlohmann::json status = e.toStatus();
        QCOMPARE(status["kind"], "Status");
        QCOMPARE(status["status"], "Failure");
        QCOMPARE(status["reason"], "Invalid");
        QCOMPARE(status["code"], 422);
        QCOMPARE(status["details"]["name"], "kubia");
        QCOMPARE(status["details"]["kind"], "Pod");
        QCOMPARE(status["details"]["causes"].size(), 2u);
        QCOMPARE(status["details"]["causes"][0]["reason"], "FieldValueRequired");
        QCOMPARE(status["details"]["causes"][0]["field"], "spec.containers[0].image");
        Error back = Error::fromStatus(status);
        QCOMPARE(back, e);
    }

    void singleCauseMessage()
    {
        Error e = Error::invalid("Deployment", "web", {{"FieldValueInvalid", "must match", "spec.selector"}});
        QCOMPARE(QString::fromStdString(e.message()),
                 QStringLiteral("Deployment \"web\" is invalid: spec.selector: must match"));
    }

    void fromStatusWithoutReason()
    {
        // A proxy or an old server may send only a code.
        Error e = Error::fromStatus(nlohmann::json{{"kind", "Status"}, {"code", 404}, {"message", "gone away"}});
        QCOMPARE(e.reason(), Reason::NotFound);
        QCOMPARE(e.httpCode(), 404);
        Error raw = Error::fromStatus(nlohmann::json("<html>bad gateway</html>"), 502);
        QCOMPARE(raw.httpCode(), 502);
        QCOMPARE(raw.reason(), Reason::Unknown);
        QVERIFY(raw.message().find("bad gateway") != std::string::npos);
        Error expired = Error::fromStatus(nlohmann::json{{"kind", "Status"}, {"reason", "Expired"}, {"code", 410}});
        QVERIFY(expired.isGone());
    }

    void notFoundWording()
    {
        Error e = Error::notFound("pods", "kubia");
        QCOMPARE(QString::fromStdString(e.message()), QStringLiteral("pods \"kubia\" not found"));
        QCOMPARE(e.toStatus()["details"]["kind"], "pods");
    }

    void resultValueAndError()
    {
        Result<int> ok = 42;
        QVERIFY(ok.ok());
        QCOMPARE(*ok, 42);
        Result<int> bad = fail(Reason::Conflict, "changed");
        QVERIFY(!bad);
        QCOMPARE(bad.error().reason(), Reason::Conflict);
        QCOMPARE(bad.valueOr(7), 7);
        Result<std::string> s = "text";
        QCOMPARE(s->size(), size_t(4));
        Result<void> v;
        QVERIFY(v.ok());
        Result<void> vf = Error::internal("boom");
        QVERIFY(!vf.ok());
        QCOMPARE(vf.error().httpCode(), 500);
    }
};

QTEST_GUILESS_MAIN(TestError)
#include "tst_error.moc"
