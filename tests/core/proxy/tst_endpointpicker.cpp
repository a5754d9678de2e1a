#include "core/proxy/endpointpicker.h"

#include <QtTest>

using namespace podscape::core;
using namespace podscape::core::proxy;

namespace {

Clock::TimePoint at(int seconds) { return Clock::TimePoint(std::chrono::seconds(1'700'000'000 + seconds)); }

std::vector<Backend> backends(std::initializer_list<const char *> ips)
{
    std::vector<Backend> out;
    for (const char *ip : ips)
        out.push_back({ip, 8080});
    return out;
}

EndpointPicker::Options affinity(int timeoutSeconds, size_t maxEntries = 65536)
{
    EndpointPicker::Options o;
    o.clientIPAffinity = true;
    o.affinityTimeout = std::chrono::seconds(timeoutSeconds);
    o.maxAffinityEntries = maxEntries;
    return o;
}

} // namespace

class TestEndpointPicker : public QObject
{
    Q_OBJECT
private slots:
    void roundRobinSurvivesChanges()
    {
        EndpointPicker p;
        QVERIFY(!p.pick("c", at(0)));
        p.setBackends(backends({"10.0.0.2", "10.0.0.1", "10.0.0.2"})); // sorted, de-duplicated
        QCOMPARE(p.backends().size(), size_t(2));
        QCOMPARE(p.pick("c", at(0))->ip, std::string("10.0.0.1"));
        QCOMPARE(p.pick("c", at(0))->ip, std::string("10.0.0.2"));
        QCOMPARE(p.pick("c", at(0))->ip, std::string("10.0.0.1"));
        p.setBackends(backends({"10.0.0.1"}));
        QCOMPARE(p.pick("c", at(0))->ip, std::string("10.0.0.1"));
        p.setBackends({});
        QVERIFY(!p.pick("c", at(0)));
    }

    void affinityExpiresAfterIdleTimeout()
    {
        EndpointPicker p(affinity(10));
        p.setBackends(backends({"10.0.0.1", "10.0.0.2"}));
        const Backend first = *p.pick("a", at(0));
        QCOMPARE(*p.pick("a", at(9)), first);
        QCOMPARE(*p.pick("a", at(19)), first); // counted from the last connection
        QCOMPARE(*p.pick("b", at(19)), (first.ip == "10.0.0.1" ? backends({"10.0.0.2"}) : backends({"10.0.0.1"}))[0]);
        // 11 s idle: the entry is gone and round robin decides afresh.
        const Backend next = *p.pick("a", at(30));
        QCOMPARE(next, first); // the rotation is back at `first` (a, b took one each)
        QCOMPARE(p.affinityEntries(), size_t(2));
    }

    void affinityDroppedWhenBackendLeaves()
    {
        EndpointPicker p(affinity(100));
        p.setBackends(backends({"10.0.0.1", "10.0.0.2"}));
        const Backend first = *p.pick("a", at(0));
        std::vector<Backend> rest = p.backends();
        std::erase(rest, first);
        p.setBackends(rest);
        QCOMPARE(p.affinityEntries(), size_t(0));
        QCOMPARE(*p.pick("a", at(1)), rest[0]);
        p.setBackends(backends({"10.0.0.1", "10.0.0.2"})); // back again: a stays where it went
        QCOMPARE(*p.pick("a", at(2)), rest[0]);
    }

    void affinityTableIsBounded()
    {
        EndpointPicker p(affinity(100, 3));
        p.setBackends(backends({"10.0.0.1"}));
        for (int i = 0; i < 10; ++i)
            QVERIFY(p.pick("client-" + std::to_string(i), at(i)));
        QCOMPARE(p.affinityEntries(), size_t(3));
        p.setOptions(EndpointPicker::Options{}); // affinity off forgets everyone
        QCOMPARE(p.affinityEntries(), size_t(0));
    }
};

QTEST_GUILESS_MAIN(TestEndpointPicker)
#include "tst_endpointpicker.moc"
