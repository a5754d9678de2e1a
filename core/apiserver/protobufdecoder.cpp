#include "protobufdecoder.h"

#include "core/base/base64.h"
#include "core/base/timeformat.h"
#include "core/model/names.h"

#include <cstring>
#include <map>
#include <sstream>
#include <vector>

namespace podscape::core::apiserver {

using nlohmann::json;

// The field table, as text in generated.proto's terms (protobuffields.cpp).
extern const char *const kProtobufFields;

namespace {

struct Field {
    int number = 0;
    std::string name;
    std::string type; // a scalar (string, int32, ...) or a message name
    bool repeated = false;
    bool map = false; // map<string, type>
    bool ptr = false; // a Go pointer: its zero value is kept
};

using Message = std::map<int, Field>;

const std::map<std::string, Message> &messages()
{
    static const std::map<std::string, Message> table = [] {
        std::map<std::string, Message> t;
        std::istringstream in(kProtobufFields);
        std::string line;
        Message *current = nullptr;
        while (std::getline(in, line)) {
            std::istringstream words(line);
            std::string first;
            if (!(words >> first) || first.front() == '#')
                continue;
            if (first == "message") {
                std::string name;
                words >> name;
                current = &t[name];
                continue;
            }
            Field f;
            f.number = std::stoi(first);
            words >> f.name;
            std::string type;
            words >> type;
            if (type == "repeated") {
                f.repeated = true;
                words >> type;
            }
            if (type.rfind("map<string,", 0) == 0) {
                f.map = true;
                type = type.substr(11, type.size() - 12);
            }
            f.type = type;
            std::string flag;
            f.ptr = (words >> flag) && flag == "ptr";
            if (current)
                (*current)[f.number] = f;
        }
        return t;
    }();
    return table;
}

bool isScalar(const std::string &type)
{
    return type == "string" || type == "bytes" || type == "bool" || type == "int32" || type == "int64" || type == "uint32"
           || type == "uint64" || type == "double" || type == "float";
}

class Reader
{
public:
    explicit Reader(std::string_view bytes) : m_bytes(bytes) {}
    bool done() const { return m_at >= m_bytes.size(); }

    bool varint(uint64_t &v)
    {
        v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (m_at >= m_bytes.size())
                return false;
            const auto b = static_cast<unsigned char>(m_bytes[m_at++]);
            v |= uint64_t(b & 0x7F) << shift;
            if (!(b & 0x80))
                return true;
        }
        return false;
    }
    bool fixed(size_t n, uint64_t &v)
    {
        if (m_bytes.size() - m_at < n)
            return false;
        v = 0;
        for (size_t i = 0; i < n; ++i)
            v |= uint64_t(static_cast<unsigned char>(m_bytes[m_at + i])) << (8 * i);
        m_at += n;
        return true;
    }
    bool bytes(std::string_view &out)
    {
        uint64_t n = 0;
        if (!varint(n) || n > m_bytes.size() - m_at)
            return false;
        out = m_bytes.substr(m_at, size_t(n));
        m_at += size_t(n);
        return true;
    }

private:
    std::string_view m_bytes;
    size_t m_at = 0;
};

Error malformed(const std::string &path, const std::string &what)
{
    return Error(Reason::BadRequest, "the protobuf body is malformed at " + (path.empty() ? std::string("the top") : path)
                                         + ": " + what + "; send the object as JSON instead");
}

bool isZero(const json &v)
{
    return v.is_null() || (v.is_string() && v.get_ref<const std::string &>().empty()) || (v.is_boolean() && !v.get<bool>())
           || (v.is_number() && v == 0);
}

class Decoder
{
public:
    // `keepZeros`: the fields of a message mapped to a scalar (Time, IntOrString...), where a
    // zero is a value, not Go's omitted field.
    Result<json> message(std::string_view bytes, const std::string &type, const std::string &path, int depth,
                         bool keepZeros = false);

private:
    Result<json> scalar(Reader &r, int wire, const std::string &type, const std::string &path);
    Result<json> value(Reader &r, int wire, const std::string &type, const std::string &path, int depth);
    Result<json> special(std::string_view bytes, const std::string &type, const std::string &path, int depth);
};

Result<json> Decoder::scalar(Reader &r, int wire, const std::string &type, const std::string &path)
{
    if (type == "string" || type == "bytes") {
        std::string_view s;
        if (wire != 2 || !r.bytes(s))
            return malformed(path, "expected length-delimited " + type);
        if (type == "bytes")
            return json(base64Encode(s));
        if (!model::isValidUtf8(s))
            return malformed(path, "the string is not valid UTF-8");
        return json(std::string(s));
    }
    uint64_t v = 0;
    if (type == "double" || type == "float") {
        if (!(type == "double" ? wire == 1 && r.fixed(8, v) : wire == 5 && r.fixed(4, v)))
            return malformed(path, "expected a " + type);
        if (type == "double") {
            double d;
            std::memcpy(&d, &v, 8);
            return json(d);
        }
        const uint32_t bits = uint32_t(v);
        float f;
        std::memcpy(&f, &bits, 4);
        return json(double(f));
    }
    if (wire != 0 || !r.varint(v))
        return malformed(path, "expected a varint " + type);
    if (type == "bool")
        return json(v != 0);
    if (type == "int32")
        return json(int64_t(int32_t(uint32_t(v))));
    if (type == "int64")
        return json(int64_t(v));
    if (type == "uint32")
        return json(uint64_t(uint32_t(v)));
    return json(v);
}

Result<json> Decoder::value(Reader &r, int wire, const std::string &type, const std::string &path, int depth)
{
    if (isScalar(type))
        return scalar(r, wire, type, path);
    std::string_view bytes;
    if (wire != 2 || !r.bytes(bytes))
        return malformed(path, "expected an embedded " + type);
    return message(bytes, type, path, depth + 1);
}

// Messages Kubernetes maps to JSON scalars.
Result<json> Decoder::special(std::string_view bytes, const std::string &type, const std::string &path, int depth)
{
    auto decoded = message(bytes, type, path, depth, true);
    if (!decoded)
        return decoded;
    const json &m = *decoded;
    if (type == "meta.v1.Time" || type == "meta.v1.MicroTime") {
        const int64_t seconds = m.value("seconds", int64_t(0));
        const int64_t nanos = m.value("nanos", int64_t(0));
        if (seconds == 0 && nanos == 0)
            return json(); // Go's zero time: null in JSON
        const WallTime t{std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanos)};
        return json(type == "meta.v1.Time" ? formatRfc3339(t) : formatRfc3339Micro(t));
    }
    if (type == "resource.Quantity")
        return json(m.value("string", std::string()));
    if (type == "intstr.IntOrString") {
        if (m.value("type", int64_t(0)) == 1)
            return json(m.value("strVal", std::string()));
        return json(m.value("intVal", int64_t(0)));
    }
    // FieldsV1 and RawExtension carry JSON bytes (base64 after the scalar decoder).
    return malformed(path, "unexpected special type " + type);
}

Result<json> Decoder::message(std::string_view bytes, const std::string &type, const std::string &path, int depth,
                              bool keepZeros)
{
    if (depth > 64)
        return malformed(path, "nested too deeply");
    if (!keepZeros && (type == "meta.v1.Time" || type == "meta.v1.MicroTime" || type == "resource.Quantity" || type == "intstr.IntOrString"))
        return special(bytes, type, path, depth);
    const auto &table = messages();
    auto def = table.find(type);
    if (def == table.end())
        return fail(Reason::UnsupportedMediaType, "this server cannot decode " + type + " (at " + path
                                                      + ") from protobuf; send the object as JSON");
    const bool rawJson = type == "meta.v1.FieldsV1" || type == "runtime.RawExtension";
    Reader r(bytes);
    json out = json::object();
    while (!r.done()) {
        uint64_t tag = 0;
        if (!r.varint(tag))
            return malformed(path, "a field tag is cut short");
        const int number = int(tag >> 3), wire = int(tag & 7);
        auto f = def->second.find(number);
        const std::string fieldPath = path.empty() ? std::string() : path + ".";
        if (f == def->second.end())
            return malformed(path, "field number " + std::to_string(number) + " is not a field of " + type);
        const Field &field = f->second;
        const std::string here = fieldPath + field.name;
        if (rawJson && field.name == "raw") {
            std::string_view raw;
            if (wire != 2 || !r.bytes(raw))
                return malformed(here, "expected bytes");
            json parsed = json::parse(raw, nullptr, false);
            if (parsed.is_discarded())
                return malformed(here, "the embedded JSON does not parse");
            return parsed;
        }
        if (field.map) {
            std::string_view entry;
            if (wire != 2 || !r.bytes(entry))
                return malformed(here, "expected a map entry");
            Reader e(entry);
            std::string key;
            json v;
            while (!e.done()) {
                uint64_t etag = 0;
                if (!e.varint(etag))
                    return malformed(here, "a map entry is cut short");
                const int enumber = int(etag >> 3), ewire = int(etag & 7);
                if (enumber == 1) {
                    auto k = scalar(e, ewire, "string", here);
                    if (!k)
                        return k;
                    key = k->get<std::string>();
                } else if (enumber == 2) {
                    auto got = value(e, ewire, field.type, here + "[" + key + "]", depth);
                    if (!got)
                        return got;
                    v = std::move(*got);
                } else {
                    return malformed(here, "a map entry has field " + std::to_string(enumber));
                }
            }
            if (v.is_null())
                v = field.type == "string" || field.type == "bytes" ? json("") : json(nullptr);
            out[field.name][key] = std::move(v);
            continue;
        }
        if (field.repeated && wire == 2 && isScalar(field.type) && field.type != "string" && field.type != "bytes") {
            std::string_view packed; // packed repeated numbers
            if (!r.bytes(packed))
                return malformed(here, "a packed list is cut short");
            Reader p(packed);
            while (!p.done()) {
                auto got = scalar(p, field.type == "double" ? 1 : field.type == "float" ? 5 : 0, field.type, here);
                if (!got)
                    return got;
                out[field.name].push_back(std::move(*got));
            }
            continue;
        }
        const std::string itemPath = field.repeated ? here + "[" + std::to_string(out.value(field.name, json::array()).size()) + "]" : here;
        auto got = value(r, wire, field.type, itemPath, depth);
        if (!got)
            return got;
        if (field.repeated)
            out[field.name].push_back(std::move(*got));
        else if (!keepZeros && !field.ptr && isZero(*got))
            out.erase(field.name); // Go wrote a non-pointer field's zero value: JSON omits it
        else
            out[field.name] = std::move(*got);
    }
    return out;
}

} // namespace

Result<json> ProtobufDecoder::decode(std::string_view body)
{
    static constexpr std::string_view kMagic("k8s\0", 4);
    if (body.substr(0, 4) != kMagic)
        return fail(Reason::BadRequest, "the protobuf body does not start with Kubernetes' magic bytes \"k8s\\x00\"");
    // runtime.Unknown: typeMeta (1), raw (2), contentEncoding (3), contentType (4).
    Decoder d;
    Reader r(body.substr(4));
    std::string_view raw, encoding;
    json typeMeta = json::object();
    while (!r.done()) {
        uint64_t tag = 0;
        std::string_view bytes;
        if (!r.varint(tag) || (tag & 7) != 2 || !r.bytes(bytes))
            return malformed("", "the runtime.Unknown envelope is cut short");
        if ((tag >> 3) == 1) {
            auto decoded = d.message(bytes, "runtime.TypeMeta", "typeMeta", 0);
            if (!decoded)
                return decoded;
            typeMeta = std::move(*decoded);
        } else if ((tag >> 3) == 2) {
            raw = bytes;
        } else if ((tag >> 3) == 3) {
            encoding = bytes;
        }
    }
    const std::string apiVersion = typeMeta.value("apiVersion", ""), kind = typeMeta.value("kind", "");
    if (apiVersion.empty() || kind.empty())
        return fail(Reason::BadRequest, "the protobuf body names no apiVersion and kind");
    if (!encoding.empty())
        return fail(Reason::UnsupportedMediaType, "protobuf bodies with a content encoding are not decoded; send JSON");
    const auto slash = apiVersion.find('/');
    const std::string group = slash == std::string::npos ? "core" : apiVersion.substr(0, slash);
    const std::string version = slash == std::string::npos ? apiVersion : apiVersion.substr(slash + 1);
    const std::string type = group + "." + version + "." + kind;
    if (!messages().count(type))
        return fail(Reason::UnsupportedMediaType, "this server decodes protobuf bodies only for the kinds kubectl's create "
                                                  "commands send; send " + kind + " as JSON (application/json)");
    auto object = d.message(raw, type, "", 0);
    if (!object)
        return object;
    json out = {{"apiVersion", apiVersion}, {"kind", kind}};
    out.update(*object);
    return out;
}

} // namespace podscape::core::apiserver
