#include "patch.h"

#include "strategicmerge.h"

namespace podscape::core::apiserver {

using nlohmann::json;

Result<PatchType> patchTypeOf(std::string_view contentType)
{
    std::string_view media = contentType.substr(0, contentType.find(';'));
    while (!media.empty() && media.back() == ' ')
        media.remove_suffix(1);
    if (media == "application/strategic-merge-patch+json")
        return PatchType::Strategic;
    if (media == "application/merge-patch+json")
        return PatchType::Merge;
    if (media == "application/json-patch+json")
        return PatchType::Json;
    return fail(Error(Reason::UnsupportedMediaType,
                      "the body of the request was in an unknown format - accepted media types include: "
                      "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, "
                      "application/strategic-merge-patch+json"));
}

Result<json> applyPatch(PatchType patchType, const json &original, std::string_view body, const model::SchemaRegistry &registry,
                        const std::string &type)
{
    json patch = json::parse(body, nullptr, false);
    if (patch.is_discarded())
        return fail(Reason::BadRequest, "the patch is not valid JSON");
    switch (patchType) {
    case PatchType::Strategic: return strategicMerge(original, patch, registry, type);
    case PatchType::Merge: {
        if (!patch.is_object())
            return fail(Reason::BadRequest, "a merge patch must be a JSON object");
        json result = original;
        result.merge_patch(patch);
        return result;
    }
    case PatchType::Json: {
        if (!patch.is_array())
            return fail(Reason::BadRequest, "a JSON patch must be a list of operations");
        // nlohmann reports a failed operation (a missing path, a failed test) by throwing:
        // turned into the API server's answer here, at the library's edge.
        try {
            return original.patch(patch);
        } catch (const json::exception &e) {
            return fail(Reason::Invalid, std::string("the JSON patch could not be applied: ") + e.what());
        }
    }
    }
    return fail(Reason::BadRequest, "unknown patch type");
}

} // namespace podscape::core::apiserver
