#pragma once
// YAML <-> JSON as kubectl and the API server read and write manifests.
//
// Decoding types plain scalars the way Kubernetes' YAML reader (YAML 1.1 rules) does:
// `8080` is a number, `"8080"` a string, unquoted `yes`/`on`/`true` booleans, `~` null,
// `0644` octal. Whether that type suits the field is validation's job, which can then say
// where the value is, thanks to the positions kept here.

#include "core/base/result.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podscape::core::model {

struct SourcePosition {
    int line = 0;   // 1-based
    int column = 0; // 1-based
    bool operator==(const SourcePosition &) const = default;
};

// One document of a YAML stream, with where each value came from.
struct YamlDocument {
    nlohmann::json value;
    int index = 0; // position in the stream, counting only non-empty documents
    SourcePosition start;
    // JSON Pointer ("/spec/containers/0/image") -> position of the key (for map entries) or
    // of the item (for list entries).
    std::map<std::string, SourcePosition, std::less<>> positions;

    // The position of `pointer`, or of its nearest ancestor that has one.
    SourcePosition positionOf(std::string_view pointer) const;
};

struct YamlDecodeOptions {
    std::string sourceName;             // file name used in error messages
    size_t maxBytes = 16 * 1024 * 1024; // larger input is refused before parsing
    int maxDepth = 256;                 // nesting limit

    static YamlDecodeOptions forSource(std::string name)
    {
        YamlDecodeOptions o;
        o.sourceName = std::move(name);
        return o;
    }
    static YamlDecodeOptions withMaxBytes(size_t bytes)
    {
        YamlDecodeOptions o;
        o.maxBytes = bytes;
        return o;
    }
};

// Decodes a multi-document stream; empty documents (a trailing `---`) are skipped, as
// kubectl does. Errors carry "file:line:column: what is wrong" and, for tab indentation
// and duplicate keys, what to do about it.
Result<std::vector<YamlDocument>> decodeYamlStream(std::string_view text, const YamlDecodeOptions &options = {});
// Exactly one document (an empty input is an error).
Result<YamlDocument> decodeYamlDocument(std::string_view text, const YamlDecodeOptions &options = {});
// JSON or YAML: JSON is valid YAML, but a JSON parse gives better messages for JSON input.
Result<std::vector<YamlDocument>> decodeManifests(std::string_view text, const YamlDecodeOptions &options = {});

// YAML as kubectl prints it: apiVersion, kind, metadata, spec, status first at the top,
// then the rest in alphabetical order; strings that would read back as another type quoted.
std::string encodeYaml(const nlohmann::json &value);
// Documents separated by `---`.
std::string encodeYamlStream(const std::vector<nlohmann::json> &values);

// How an unquoted YAML scalar reads (exposed for the editor's highlighting and for tests).
nlohmann::json resolvePlainScalar(std::string_view text);

// A JSON Pointer segment, escaped (~ -> ~0, / -> ~1).
std::string escapePointerToken(std::string_view token);

} // namespace podscape::core::model
