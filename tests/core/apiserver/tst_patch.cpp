#include "core/apiserver/patch.h"

#include <QtTest>

using namespace podscape::core;
using namespace podscape::core::apiserver;
using nlohmann::json;

namespace {
const json kDeployment = json::parse(R"({"metadata": {"name": "web", "annotations": {"deployment.kubernetes.io/revision": "2"}},
  "spec": {"replicas": 3, "template": {"metadata": {"labels": {"app": "web"}},
           "spec": {"containers": [{"name": "web", "image": "kubia:v2"}]}}}})");

Result<json> apply(std::string_view contentType, std::string_view body)
{
    auto type = patchTypeOf(contentType);
    if (!type)
        return type.takeError();
    return applyPatch(*type, kDeployment, body, model::SchemaRegistry::builtin(), "Deployment");
}
} // namespace

class TestPatch : public QObject
{
    Q_OBJECT
private slots:
    void contentTypesPickThePatch()
    {
        QCOMPARE(*patchTypeOf("application/strategic-merge-patch+json"), PatchType::Strategic);
        QCOMPARE(*patchTypeOf("application/merge-patch+json; charset=utf-8"), PatchType::Merge);
        QCOMPARE(*patchTypeOf("application/json-patch+json"), PatchType::Json);
        auto unknown = patchTypeOf("text/plain");
        QVERIFY(!unknown);
        QCOMPARE(unknown.error().httpCode(), 415);
    }

    void scaleSendsAMergePatch()
    {
        auto r = apply("application/merge-patch+json", R"({"spec": {"replicas": 5}})");
        QVERIFY(r.ok());
        QCOMPARE((*r)["spec"]["replicas"], json(5));
        // Merge patch replaces lists whole.
        auto lists = apply("application/merge-patch+json", R"({"spec": {"template": {"spec": {"containers": [{"name": "x"}]}}}})");
        QVERIFY(lists.ok());
        QCOMPARE((*lists)["spec"]["template"]["spec"]["containers"], json::parse(R"([{"name": "x"}])"));
    }

    void rolloutUndoSendsAJsonPatch()
    {
        // What kubectl 1.32 sends for `rollout undo` (REPORT.md).
        auto r = apply("application/json-patch+json", R"([
          {"op": "replace", "path": "/spec/template", "value": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "kubia:v1"}]}}},
          {"op": "replace", "path": "/metadata/annotations", "value": {"deployment.kubernetes.io/revision": "2"}}])");
        QVERIFY(r.ok());
        QCOMPARE((*r)["spec"]["template"]["spec"]["containers"][0]["image"], json("kubia:v1"));
    }

    void strategicMergeIsTheDefaultForKubectl()
    {
        auto r = apply("application/strategic-merge-patch+json",
                       R"({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-27T21:38:26Z"}}}}})");
        QVERIFY(r.ok());
        QCOMPARE((*r)["spec"]["template"]["metadata"]["labels"]["app"], json("web"));
        QVERIFY((*r)["spec"]["template"]["metadata"]["annotations"].contains("kubectl.kubernetes.io/restartedAt"));
    }

    void badPatchesAreErrorsNotExceptions()
    {
        auto notJson = apply("application/merge-patch+json", "{spec:");
        QVERIFY(!notJson);
        QCOMPARE(notJson.error().httpCode(), 400);
        auto failedTest = apply("application/json-patch+json", R"([{"op": "test", "path": "/spec/replicas", "value": 4}])");
        QVERIFY(!failedTest);
        QCOMPARE(failedTest.error().httpCode(), 422);
        auto missingPath = apply("application/json-patch+json", R"([{"op": "remove", "path": "/spec/nothing"}])");
        QVERIFY(!missingPath);
        auto notAList = apply("application/json-patch+json", R"({"op": "remove"})");
        QVERIFY(!notAList);
        QCOMPARE(notAList.error().httpCode(), 400);
    }
};

QTEST_GUILESS_MAIN(TestPatch)
#include "tst_patch.moc"
