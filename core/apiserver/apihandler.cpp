#include "apihandler.h"

#include "core/apiserver/patch.h"
#include "core/model/yamlcodec.h"
#include "core/apiserver/protobufdecoder.h"
#include "core/apiserver/requestinfo.h"
#include "core/apiserver/tableprinter.h"
#include "core/model/fieldselector.h"
#include "core/model/labelselector.h"
#include "core/scheduler/binding.h"

#include <algorithm>
#include <deque>

namespace podscape::core::apiserver {

using nlohmann::json;

struct ApiHandler::Target {
    RequestInfo info;
    const model::ResourceInfo *resource = nullptr;
    std::string storeResource;
};

namespace {

constexpr int64_t kMinPage = 5000;

// Read-modify-write loops (patch, scale, status, apply) retry when another writer got in
// between, as the API server's GuaranteedUpdate does: each conflict means someone else made
// progress, so a busy controller (a Deployment being rolled out) only delays the request.
constexpr int kConflictRetries = 50;

// A kind with a status subresource: its main resource's writes leave status alone (it is
// the controllers' and kubelets' to write, through /status).
bool statusIsSeparate(const model::ResourceInfo &r) { return r.hasSubresource("status"); }

// NotFound worded as the API server words it: `deployments.apps "web" not found`. (A
// template only because Target is private to ApiHandler.)
template <class Target>
Error notFoundAs(Error e, const Target &t)
{
    if (e.reason() != Reason::NotFound)
        return e;
    return Error(Reason::NotFound, t.info.resource + (t.resource->group.empty() ? "" : "." + t.resource->group) + " \""
                                       + t.info.name + "\" not found");
}

// The revision a list reads (0: the latest), from resourceVersion and resourceVersionMatch
// as the API conventions define them: unset or "0" is the latest; N with NotOlderThan (the
// default) is the latest, which is never older than N unless N is in the future; N with
// Exact is the state at N, while the store's history still has it.
Result<store::Revision> listRevision(const RequestInfo &info, store::Revision current)
{
    const std::string rv = info.queryValue("resourceVersion"), match = info.queryValue("resourceVersionMatch");
    if (!match.empty() && match != "Exact" && match != "NotOlderThan")
        return fail(Error::invalid("ListOptions", "", {Cause{"FieldValueNotSupported", "Unsupported value: \"" + match
                                                                + "\": supported values: \"Exact\", \"NotOlderThan\"", "resourceVersionMatch"}}));
    if (!match.empty() && rv.empty())
        return fail(Error::invalid("ListOptions", "", {Cause{"FieldValueForbidden", "resourceVersionMatch is forbidden unless resourceVersion is provided", "resourceVersionMatch"}}));
    if (rv.empty())
        return store::Revision(0);
    if (!info.queryValue("continue").empty())
        return fail(Error::invalid("ListOptions", "", {Cause{"FieldValueForbidden", "specifying resource version is not allowed when using continue", "resourceVersion"}}));
    store::Revision wanted = 0;
    try {
        size_t used = 0;
        wanted = std::stoll(rv, &used);
        if (used != rv.size() || wanted < 0)
            throw std::invalid_argument(rv);
    } catch (const std::exception &) {
        return fail(Reason::BadRequest, "resourceVersion must be a number, not \"" + rv + "\"");
    }
    if (wanted == 0) {
        if (match == "Exact")
            return fail(Error::invalid("ListOptions", "", {Cause{"FieldValueForbidden", "resourceVersionMatch \"Exact\" is forbidden for resourceVersion \"0\"", "resourceVersionMatch"}}));
        return store::Revision(0);
    }
    if (wanted > current) {
        Error e(Reason::Timeout, "Too large resource version: " + rv + ", current: " + std::to_string(current));
        e.addCause(Cause{"ResourceVersionTooLarge", "Too large resource version", ""});
        return fail(std::move(e));
    }
    return match == "Exact" ? wanted : store::Revision(0);
}

// DeleteOptions fields, from a DELETE body or an Eviction's deleteOptions.
void readDeleteOptions(const json &body, store::DeleteOptions &options, bool &dryRun)
{
    options.propagationPolicy = body.value("propagationPolicy", "");
    if (body.contains("gracePeriodSeconds") && body["gracePeriodSeconds"].is_number_integer())
        options.gracePeriodSeconds = body["gracePeriodSeconds"].get<int64_t>();
    const json &pre = body.value("preconditions", json::object());
    if (pre.contains("uid") && pre["uid"].is_string())
        options.preconditionUid = pre["uid"].get<std::string>();
    if (pre.contains("resourceVersion") && pre["resourceVersion"].is_string())
        options.preconditionResourceVersion = pre["resourceVersion"].get<std::string>();
    if (body.value("dryRun", json::array()) == json::array({"All"}))
        dryRun = true;
}

void takeStatusFrom(json &object, const json &current)
{
    if (current.contains("status"))
        object["status"] = current["status"];
    else
        object.erase("status");
}

HttpResponse jsonResponse(const json &body, int status = 200)
{
    HttpResponse r;
    r.status = status;
    r.body = body.dump();
    return r;
}

HttpResponse errorResponse(const Error &e) { return HttpResponse::fromError(e); }

bool wantsTable(const HttpRequest &r) { return r.header("accept").find("as=Table") != std::string::npos; }

// labelSelector and fieldSelector from the query, for lists and watches alike.
Result<void> selectorsFromQuery(const RequestInfo &info, model::LabelSelector &labels, model::FieldSelector &fields)
{
    if (auto l = info.queryValue("labelSelector"); !l.empty()) {
        auto parsed = model::LabelSelector::parse(l);
        if (!parsed)
            return parsed.takeError();
        labels = std::move(*parsed);
    }
    if (auto f = info.queryValue("fieldSelector"); !f.empty()) {
        auto parsed = model::FieldSelector::parse(f);
        if (!parsed)
            return parsed.takeError();
        fields = std::move(*parsed);
    }
    return {};
}

bool dryRun(const RequestInfo &info) { return info.queryValue("dryRun") == "All"; }

Result<cluster::WriteOptions> writeOptions(const RequestInfo &info)
{
    cluster::WriteOptions o;
    o.dryRun = dryRun(info);
    const std::string v = info.queryValue("fieldValidation", "Strict");
    if (v == "Strict")
        o.fieldValidation = cluster::FieldValidation::Strict;
    else if (v == "Warn")
        o.fieldValidation = cluster::FieldValidation::Warn;
    else if (v == "Ignore")
        o.fieldValidation = cluster::FieldValidation::Ignore;
    else
        return fail(Reason::BadRequest, "fieldValidation must be Strict, Warn or Ignore, not \"" + v + "\"");
    return o;
}

void addWarnings(HttpResponse &r, const std::vector<std::string> &warnings)
{
    for (const auto &w : warnings) {
        std::string escaped;
        for (char c : w)
            escaped += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
        r.headers.emplace_back("Warning", "299 - \"" + escaped + "\"");
    }
}

Result<json> parseBody(const HttpRequest &request)
{
    const std::string &body = request.body;
    const std::string type = request.header("content-type");
    if (type.rfind(ProtobufDecoder::kMediaType, 0) == 0)
        return ProtobufDecoder::decode(body); // kubectl create deployment|configmap|secret|namespace|service
    if (!type.empty() && type.find("json") == std::string::npos)
        return fail(Error(Reason::UnsupportedMediaType, "the body of the request was in an unknown format (" + type
                                                            + ") - accepted media types include: application/json, "
                                                              "application/vnd.kubernetes.protobuf"));
    json parsed = json::parse(body, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object())
        return fail(Reason::BadRequest, "the request body is not a JSON object");
    return parsed;
}

// A body without apiVersion or kind takes them from the URL, as the API server's decoder
// defaults them (clients built on generated types often leave them out); a body that names
// another kind is refused rather than stored under the wrong resource.
Result<void> typeFromTarget(json &object, const model::ResourceInfo &resource)
{
    const std::string apiVersion = resource.apiVersion();
    auto given = object.find("apiVersion");
    if (given == object.end() || given->is_null() || (given->is_string() && given->get<std::string>().empty()))
        object["apiVersion"] = apiVersion;
    else if (*given != apiVersion)
        return fail(Reason::BadRequest, "the API version in the data (" + (given->is_string() ? given->get<std::string>() : given->dump())
                                            + ") does not match the expected API version (" + apiVersion + ")");
    auto kind = object.find("kind");
    if (kind == object.end() || kind->is_null() || (kind->is_string() && kind->get<std::string>().empty()))
        object["kind"] = resource.kind;
    else if (*kind != resource.kind)
        return fail(Reason::BadRequest, "the kind in the data (" + (kind->is_string() ? kind->get<std::string>() : kind->dump())
                                            + ") does not match the expected kind (" + resource.kind + ")");
    return {};
}

// One watch: the objects that exist first (as ADDED, when no resourceVersion was given), then
// the store's events, one JSON line each, as full objects or one-row Tables.
class WatchStream final : public ResponseStream
{
public:
    WatchStream(std::shared_ptr<store::Watcher> watcher, std::deque<json> initial, const model::ResourceInfo &resource,
                bool table, bool bookmarks, Clock &clock, Clock::TimePoint deadline)
        : m_watcher(std::move(watcher)), m_initial(std::move(initial)), m_resource(resource), m_table(table),
          m_bookmarks(bookmarks), m_clock(clock), m_deadline(deadline)
    {}
    ~WatchStream() override { m_watcher->stop(); }

    std::optional<std::string> next(std::chrono::milliseconds wait) override
    {
        if (!m_initial.empty()) {
            json e = {{"type", "ADDED"}, {"object", render(m_initial.front())}};
            m_initial.pop_front();
            return e.dump() + "\n";
        }
        if (m_done)
            return std::nullopt;
        if (m_clock.now() >= m_deadline) {
            m_done = true; // timeoutSeconds: the client watches again from its last revision
            return std::nullopt;
        }
        auto event = m_watcher->next(wait);
        if (!event) {
            if (m_watcher->isStopped())
                m_done = true;
            return std::nullopt;
        }
        switch (event->type) {
        case store::EventType::Error:
            m_done = true;
            return json{{"type", "ERROR"}, {"object", event->error.toStatus()}}.dump() + "\n";
        case store::EventType::Bookmark:
            if (!m_bookmarks)
                return std::nullopt;
            return json{{"type", "BOOKMARK"},
                        {"object", {{"kind", m_resource.kind}, {"apiVersion", m_resource.apiVersion()},
                                    {"metadata", {{"resourceVersion", std::to_string(event->revision)}}}}}}
                       .dump()
                + "\n";
        default: break;
        }
        const char *type = event->type == store::EventType::Added ? "ADDED"
            : event->type == store::EventType::Deleted            ? "DELETED"
                                                                  : "MODIFIED";
        return json{{"type", type}, {"object", render(*event->object)}}.dump() + "\n";
    }

    bool finished() const override { return m_done && m_initial.empty(); }

private:
    json render(const json &object) const
    {
        if (!m_table)
            return object;
        auto table = TablePrinter::print(m_resource.kind, {&object}, m_clock.now());
        table.setResourceVersion(object.value("metadata", json::object()).value("resourceVersion", ""));
        return table.toJson();
    }

    std::shared_ptr<store::Watcher> m_watcher;
    std::deque<json> m_initial;
    const model::ResourceInfo &m_resource;
    bool m_table, m_bookmarks;
    Clock &m_clock;
    Clock::TimePoint m_deadline;
    bool m_done = false;
};

json scaleOf(const json &workload)
{
    const json &spec = workload.value("spec", json::object());
    std::string selector;
    if (workload.value("kind", "") == "ReplicationController") {
        const json selectorMap = spec.value("selector", json::object()); // items() of a temporary would dangle
        for (const auto &[k, v] : selectorMap.items())
            selector += (selector.empty() ? "" : ",") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    } else if (auto parsed = model::LabelSelector::fromJson(spec.value("selector", json::object())); parsed) {
        selector = parsed->toString();
    }
    const int desired = spec.contains("replicas") && spec["replicas"].is_number_integer() ? spec["replicas"].get<int>() : 1;
    const int current = workload.value("status", json::object()).value("replicas", 0);
    return model::Scale::forWorkload(model::Object(workload), desired, current, selector).doc();
}

} // namespace

ApiHandler::ApiHandler(cluster::ClusterApi &api, Clock &clock, const model::SchemaRegistry &registry)
    : m_api(api), m_clock(clock), m_registry(registry), m_discovery(registry), m_openApi(registry), m_fieldManager(registry)
{}

void ApiHandler::setNodeAccess(cluster::NodeAccess &nodes)
{
    m_nodeProxy = std::make_unique<NodeProxy>(nodes, m_clock);
    if (!m_metrics)
        for (auto &r : MetricsApi::resources())
            m_discovery.addResource(std::move(r));
    m_metrics = std::make_unique<MetricsApi>(nodes, m_api.store());
}

HttpResponse ApiHandler::handle(const HttpRequest &request)
{
    auto parsed = parseRequest(request.method, request.target);
    if (!parsed)
        return errorResponse(parsed.error());
    if (!parsed->isResource)
        return nonResource(request, parsed->path);
    if (parsed->group == MetricsApi::kGroup && m_metrics)
        return m_metrics->handle(*parsed);

    Target t;
    t.info = std::move(*parsed);
    for (const auto &r : m_registry.resources())
        if (r.group == t.info.group && r.version == t.info.version && r.plural == t.info.resource)
            t.resource = &r;
    if (!t.resource)
        return errorResponse(Error(Reason::NotFound, "the server could not find the requested resource"));
    if (!t.resource->namespaced && !t.info.ns.empty())
        return errorResponse(Error(Reason::NotFound, "the server could not find the requested resource"));
    t.storeResource = cluster::ClusterApi::storeResource(*t.resource);
    if (t.info.subresource == "scale" && t.resource->hasSubresource("scale"))
        return scale(request, t);
    if (t.resource->kind == "Pod"
        && (t.info.subresource == "log" || t.info.subresource == "exec" || t.info.subresource == "attach"
            || t.info.subresource == "portforward"))
        return podSubresource(request, t);
    if (t.info.subresource == "status" && t.resource->hasSubresource("status"))
        return status(request, t);
    if (t.resource->kind == "Pod" && (t.info.subresource == "binding" || t.info.subresource == "eviction")) {
        if (t.info.verb != "create")
            return errorResponse(Error(Reason::MethodNotAllowed, "pods/" + t.info.subresource + " only answers POST"));
        return t.info.subresource == "binding" ? binding(request, t, t.info.name) : eviction(request, t);
    }
    if (!t.info.subresource.empty())
        return errorResponse(Error(Reason::NotFound, "the server could not find the requested resource (" + t.info.resource
                                                         + "/" + t.info.subresource + ")"));
    if (t.resource->kind == "Binding" && t.info.verb == "create")
        return binding(request, t, {});

    const std::string &verb = t.info.verb;
    if (verb == "watch")
        return watch(request, t);
    if (verb == "get")
        return get(request, t);
    if (verb == "list")
        return list(request, t);
    if (verb == "create")
        return create(request, t);
    if (verb == "update")
        return update(request, t);
    if (verb == "patch")
        return patch(request, t);
    if (verb == "delete")
        return remove(request, t);
    return errorResponse(Error(Reason::MethodNotAllowed, "the server does not allow this method on the requested resource"));
}

HttpResponse ApiHandler::podSubresource(const HttpRequest &request, const Target &t)
{
    if (!m_nodeProxy)
        return errorResponse(Error(Reason::ServiceUnavailable, "this API server has no nodes to forward pods/"
                                                                   + t.info.subresource + " to"));
    const std::string &sub = t.info.subresource;
    const bool get = request.method == "GET";
    if (sub == "log" && !get)
        return errorResponse(Error(Reason::MethodNotAllowed, "pods/log only answers GET"));
    if (!get && request.method != "POST")
        return errorResponse(Error(Reason::MethodNotAllowed, "pods/" + sub + " answers GET (WebSocket) and POST"));
    // exec, attach and port-forward act inside the pod: a write (RBAC's "create"), whatever the method.
    if (sub != "log" && request.role == Role::ReadOnly)
        return errorResponse(Error(Reason::Forbidden, "this token is read-only: pods/" + sub + " is not allowed"));
    auto pod = m_api.store().get(t.storeResource, t.info.ns, t.info.name);
    if (!pod) {
        Error e = pod.takeError();
        if (e.reason() == Reason::NotFound)
            e = Error(Reason::NotFound, "pods \"" + t.info.name + "\" not found");
        return errorResponse(e);
    }
    if (sub == "log")
        return m_nodeProxy->logs(t.info, **pod);
    if (sub == "exec" || sub == "attach")
        return m_nodeProxy->remoteCommand(request, t.info, **pod, sub == "attach");
    return m_nodeProxy->portForward(request, t.info, **pod);
}

HttpResponse ApiHandler::nonResource(const HttpRequest &request, const std::string &path)
{
    if (path == "/version")
        return jsonResponse({{"major", "1"},
                             {"minor", "32"},
                             {"gitVersion", kGitVersion},
                             {"gitCommit", ""},
                             {"gitTreeState", "clean"},
                             {"buildDate", "2026-11-28T00:00:00Z"},
                             {"goVersion", "none (C++)"},
                             {"compiler", "gcc"},
                             {"platform", "linux/amd64"}});
    if (path == "/healthz" || path == "/livez" || path == "/readyz") {
        HttpResponse r;
        r.contentType = "text/plain; charset=utf-8";
        r.body = "ok";
        return r;
    }
    if (path == "/openapi/v3")
        return jsonResponse(m_openApi.root());
    if (path.rfind("/openapi/v3/", 0) == 0) {
        if (const json *doc = m_openApi.document(path.substr(std::string("/openapi/v3/").size())))
            return jsonResponse(*doc);
    }
    const std::string accept = request.header("accept");
    const bool aggregated = accept.find("as=APIGroupDiscoveryList") != std::string::npos;
    if (path == "/api" || path == "/apis") {
        if (aggregated) {
            // v2 when the client takes it, else v2beta1 (older clients).
            const std::string version = accept.find("v=v2;") != std::string::npos || accept.find("v=v2,") != std::string::npos
                    || (accept.find("v=v2") != std::string::npos && accept.find("v=v2beta1") == std::string::npos)
                ? "apidiscovery.k8s.io/v2"
                : "apidiscovery.k8s.io/v2beta1";
            HttpResponse r = jsonResponse(m_discovery.aggregated(path == "/api", version));
            r.contentType = "application/json;g=apidiscovery.k8s.io;v=" + version.substr(version.find('/') + 1)
                + ";as=APIGroupDiscoveryList";
            return r;
        }
        return jsonResponse(path == "/api" ? m_discovery.apiVersions(request.header("host")) : m_discovery.apiGroupList());
    }
    auto info = parseRequest("GET", path);
    if (info && !info->version.empty()) {
        json list = m_discovery.apiResourceList(info->group, info->version);
        if (!list.is_null())
            return jsonResponse(list);
    }
    return errorResponse(Error(Reason::NotFound, "the server could not find the requested resource"));
}

HttpResponse ApiHandler::get(const HttpRequest &request, const Target &t)
{
    auto object = m_api.store().get(t.storeResource, t.info.ns, t.info.name);
    if (!object) {
        Error e = object.takeError();
        if (e.reason() == Reason::NotFound)
            e = Error(Reason::NotFound, t.info.resource + (t.resource->group.empty() ? "" : "." + t.resource->group) + " \""
                                            + t.info.name + "\" not found");
        return errorResponse(e);
    }
    if (wantsTable(request)) {
        auto table = TablePrinter::print(t.resource->kind, {object->get()}, m_clock.now());
        table.setResourceVersion((**object)["metadata"].value("resourceVersion", ""));
        return jsonResponse(table.toJson());
    }
    return jsonResponse(**object);
}

HttpResponse ApiHandler::list(const HttpRequest &request, const Target &t)
{
    store::ListOptions options;
    options.ns = t.info.ns;
    if (auto selected = selectorsFromQuery(t.info, options.labels, options.fields); !selected)
        return errorResponse(selected.error());
    if (auto l = t.info.queryValue("limit"); !l.empty()) {
        try {
            // Pages of at least kMinPage items. API conventions let a server return everything
            // instead of a page; returning larger pages is the same freedom, taken because a
            // page's fixed cost dominates: kubectl throttles itself to 5 requests/s after a burst
            // of 10, so 10,000 pods in pages of 500 would take 2 s of waiting alone. A page of
            // 5,000 pods is about 3 MB: memory stays bounded.
            options.limit = std::stoll(l);
            if (options.limit > 0)
                options.limit = std::max<int64_t>(options.limit, kMinPage);
        } catch (const std::exception &) {
            return errorResponse(Error(Reason::BadRequest, "limit must be a number, not \"" + l + "\""));
        }
    }
    options.continueToken = t.info.queryValue("continue");
    if (auto pinned = listRevision(t.info, m_api.store().revision()); !pinned)
        return errorResponse(pinned.error());
    else
        options.revision = *pinned;
    auto result = m_api.store().list(t.storeResource, options);
    if (!result)
        return errorResponse(result.error());
    const std::string rv = std::to_string(result->revision);
    if (wantsTable(request)) {
        std::vector<const json *> objects;
        for (const auto &o : result->items)
            objects.push_back(o.get());
        auto table = TablePrinter::print(t.resource->kind, objects, m_clock.now());
        table.setResourceVersion(rv);
        table.setContinue(result->continueToken);
        HttpResponse r;
        r.body = table.dump(); // while `result` still holds the objects the rows point into
        return r;
    }
    // Written item by item: a list built as one json value would deep-copy every object.
    json metadata = {{"resourceVersion", rv}};
    if (!result->continueToken.empty())
        metadata["continue"] = result->continueToken;
    HttpResponse r;
    r.body = json{{"kind", t.resource->kind + "List"}, {"apiVersion", t.resource->apiVersion()}, {"metadata", metadata}}.dump();
    r.body.pop_back(); // the closing brace; items follow
    r.body += ",\"items\":[";
    for (size_t i = 0; i < result->items.size(); ++i) {
        if (i)
            r.body += ',';
        r.body += result->items[i]->dump();
    }
    r.body += "]}";
    return r;
}

HttpResponse ApiHandler::create(const HttpRequest &request, const Target &t)
{
    auto body = parseBody(request);
    if (!body)
        return errorResponse(body.error());
    json &object = *body;
    if (auto typed = typeFromTarget(object, *t.resource); !typed)
        return errorResponse(typed.error());
    if (t.resource->namespaced) {
        json &meta = object["metadata"];
        if (!meta.is_object())
            meta = json::object();
        const std::string given = meta.value("namespace", "");
        if (!given.empty() && given != t.info.ns)
            return errorResponse(Error(Reason::BadRequest, "the namespace of the provided object (" + given
                                                               + ") does not match the namespace sent on the request (" + t.info.ns + ")"));
        meta["namespace"] = t.info.ns;
    }
    auto options = writeOptions(t.info);
    if (!options)
        return errorResponse(options.error());
    m_fieldManager.recordUpdate(nullptr, object, t.resource->type, managerOf(request, t.info), m_clock.now());
    auto written = m_api.create(std::move(object), *options);
    if (!written)
        return errorResponse(written.error());
    HttpResponse r = jsonResponse(*written->object, 201);
    addWarnings(r, written->warnings);
    return r;
}

HttpResponse ApiHandler::update(const HttpRequest &request, const Target &t)
{
    auto body = parseBody(request);
    if (!body)
        return errorResponse(body.error());
    json &object = *body;
    if (auto typed = typeFromTarget(object, *t.resource); !typed)
        return errorResponse(typed.error());
    const json &meta = object.value("metadata", json::object());
    if (meta.value("name", "") != t.info.name)
        return errorResponse(Error(Reason::BadRequest, "the name of the object (" + meta.value("name", std::string())
                                                           + ") does not match the name on the URL (" + t.info.name + ")"));
    if (t.resource->namespaced)
        object["metadata"]["namespace"] = t.info.ns;
    auto options = writeOptions(t.info);
    if (!options)
        return errorResponse(options.error());
    if (auto current = m_api.store().get(t.storeResource, t.info.ns, t.info.name))
        m_fieldManager.recordUpdate(current->get(), object, t.resource->type, managerOf(request, t.info), m_clock.now());
    auto written = m_api.update(std::move(object), *options);
    if (!written)
        return errorResponse(written.error());
    HttpResponse r = jsonResponse(*written->object);
    addWarnings(r, written->warnings);
    return r;
}

HttpResponse ApiHandler::patch(const HttpRequest &request, const Target &t)
{
    if (request.header("content-type").rfind("application/apply-patch+yaml", 0) == 0)
        return serverSideApply(request, t);
    auto type = patchTypeOf(request.header("content-type"));
    if (!type)
        return errorResponse(type.error());
    auto options = writeOptions(t.info);
    if (!options)
        return errorResponse(options.error());
    // Read, patch, write with the read's resourceVersion; a concurrent writer makes us retry.
    for (int attempt = 0; attempt < kConflictRetries; ++attempt) {
        auto current = m_api.store().get(t.storeResource, t.info.ns, t.info.name);
        if (!current)
            return errorResponse(current.error());
        auto patched = applyPatch(*type, **current, request.body, m_registry, t.resource->type);
        if (!patched)
            return errorResponse(patched.error());
        json &object = *patched;
        if (!object.is_object() || !object["metadata"].is_object())
            return errorResponse(Error(Reason::BadRequest, "the patch removed the object's metadata"));
        object["metadata"]["name"] = t.info.name;
        if (t.resource->namespaced)
            object["metadata"]["namespace"] = t.info.ns;
        // A patch that names no resourceVersion applies to whatever is current.
        if (!request.body.empty() && request.body.find("\"resourceVersion\"") == std::string::npos)
            object["metadata"]["resourceVersion"] = (**current)["metadata"].value("resourceVersion", "");
        m_fieldManager.recordUpdate(current->get(), object, t.resource->type, managerOf(request, t.info), m_clock.now());
        auto written = m_api.update(std::move(object), *options);
        if (!written && written.error().reason() == Reason::Conflict && request.body.find("\"resourceVersion\"") == std::string::npos)
            continue;
        if (!written)
            return errorResponse(written.error());
        HttpResponse r = jsonResponse(*written->object);
        addWarnings(r, written->warnings);
        return r;
    }
    return errorResponse(Error(Reason::Conflict, "the object kept changing while the patch was applied; try again"));
}

HttpResponse ApiHandler::watch(const HttpRequest &request, const Target &t)
{
    store::WatchOptions options;
    options.ns = t.info.ns;
    if (auto selected = selectorsFromQuery(t.info, options.labels, options.fields); !selected)
        return errorResponse(selected.error());
    if (!t.info.name.empty()) // GET .../pods/NAME?watch=true, an old form kubectl still knows
        options.fields = model::FieldSelector::oneTermEqual("metadata.name", t.info.name);
    options.bookmarks = t.info.queryFlag("allowWatchBookmarks");
    std::deque<json> initial;
    const std::string rv = t.info.queryValue("resourceVersion");
    if (rv.empty() || rv == "0") {
        // Start from the current state: every object as ADDED, then the changes after it.
        store::ListOptions list;
        list.ns = options.ns;
        list.labels = options.labels;
        list.fields = options.fields;
        auto current = m_api.store().list(t.storeResource, list);
        if (!current)
            return errorResponse(current.error());
        for (const auto &o : current->items)
            initial.push_back(*o);
        options.fromRevision = current->revision;
    } else {
        try {
            options.fromRevision = std::stoll(rv);
        } catch (const std::exception &) {
            return errorResponse(Error(Reason::BadRequest, "resourceVersion must be a number, not \"" + rv + "\""));
        }
    }
    int64_t timeout = 1800; // the API server's --min-request-timeout
    if (auto s = t.info.queryValue("timeoutSeconds"); !s.empty())
        timeout = std::clamp<int64_t>(std::atoll(s.c_str()), 1, 3600);
    auto watcher = m_api.store().watch(t.storeResource, options);
    HttpResponse r;
    if (!watcher) {
        // Too old a revision: like the API server, a watch that ends at once with an ERROR event.
        Error e = watcher.takeError();
        if (e.reason() != Reason::Gone && e.reason() != Reason::Expired)
            return errorResponse(e);
        r.body = json{{"type", "ERROR"}, {"object", e.toStatus()}}.dump() + "\n";
        return r;
    }
    r.stream = std::make_shared<WatchStream>(std::move(*watcher), std::move(initial), *t.resource, wantsTable(request),
                                             options.bookmarks, m_clock, m_clock.now() + std::chrono::seconds(timeout));
    return r;
}

HttpResponse ApiHandler::scale(const HttpRequest &request, const Target &t)
{
    auto options = writeOptions(t.info);
    if (!options)
        return errorResponse(options.error());
    for (int attempt = 0; attempt < kConflictRetries; ++attempt) {
        auto current = m_api.store().get(t.storeResource, t.info.ns, t.info.name);
        if (!current)
            return errorResponse(current.error());
        const json currentScale = scaleOf(**current);
        if (t.info.verb == "get")
            return jsonResponse(currentScale);
        json wanted;
        if (t.info.verb == "update") {
            auto body = parseBody(request);
            if (!body)
                return errorResponse(body.error());
            wanted = std::move(*body);
        } else if (t.info.verb == "patch") {
            auto type = patchTypeOf(request.header("content-type"));
            if (!type)
                return errorResponse(type.error());
            auto patched = applyPatch(*type, currentScale, request.body, m_registry, "Scale");
            if (!patched)
                return errorResponse(patched.error());
            wanted = std::move(*patched);
        } else {
            return errorResponse(Error(Reason::MethodNotAllowed, "scale supports get, update and patch"));
        }
        const json &replicas = wanted.value("spec", json::object()).value("replicas", json());
        if (!replicas.is_number_integer() || replicas.get<int64_t>() < 0)
            return errorResponse(Error::invalid("Scale", t.info.name,
                                                {Cause{"FieldValueInvalid", "must be a non-negative integer", "spec.replicas"}}));
        // A resourceVersion in the Scale is a precondition on the workload, as in Kubernetes.
        // A patched Scale carries the resourceVersion it was read at: a precondition only if
        // the patch itself named one (else a busy controller would fail the request).
        std::string precondition = wanted.value("metadata", json::object()).value("resourceVersion", "");
        if (t.info.verb == "patch" && request.body.find("\"resourceVersion\"") == std::string::npos)
            precondition.clear();
        json workload = **current;
        if (!precondition.empty())
            workload["metadata"]["resourceVersion"] = precondition;
        workload["spec"]["replicas"] = replicas;
        m_fieldManager.recordUpdate(current->get(), workload, t.resource->type, managerOf(request, t.info), m_clock.now());
        auto written = m_api.update(std::move(workload), *options);
        if (!written && written.error().reason() == Reason::Conflict && precondition.empty())
            continue;
        if (!written)
            return errorResponse(written.error());
        return jsonResponse(scaleOf(*written->object));
    }
    return errorResponse(Error(Reason::Conflict, "the object kept changing while it was scaled; try again"));
}

HttpResponse ApiHandler::remove(const HttpRequest &request, const Target &t)
{
    store::DeleteOptions options;
    bool dry = dryRun(t.info);
    if (!request.body.empty()) {
        auto body = parseBody(request);
        if (!body)
            return errorResponse(body.error());
        readDeleteOptions(*body, options, dry);
    }
    if (auto g = t.info.queryValue("gracePeriodSeconds"); !g.empty())
        options.gracePeriodSeconds = std::atoll(g.c_str());
    if (auto p = t.info.queryValue("propagationPolicy"); !p.empty())
        options.propagationPolicy = p;
    if (dry) {
        // Everything a delete checks, nothing it does: the object as it is now.
        auto current = m_api.store().get(t.storeResource, t.info.ns, t.info.name);
        if (!current)
            return errorResponse(notFoundAs(current.takeError(), t));
        const json &meta = (**current)["metadata"];
        if (options.preconditionUid && meta.value("uid", "") != *options.preconditionUid)
            return errorResponse(Error(Reason::Conflict, "Precondition failed: UID in precondition: " + *options.preconditionUid
                                                             + ", UID in object meta: " + meta.value("uid", "")));
        if (options.preconditionResourceVersion && meta.value("resourceVersion", "") != *options.preconditionResourceVersion)
            return errorResponse(Error(Reason::Conflict, "Precondition failed: ResourceVersion in precondition: "
                                                             + *options.preconditionResourceVersion
                                                             + ", ResourceVersion in object meta: " + meta.value("resourceVersion", "")));
        return jsonResponse(**current);
    }
    auto removed = m_api.remove(*t.resource, t.info.ns, t.info.name, options);
    if (!removed)
        return errorResponse(notFoundAs(removed.takeError(), t));
    return jsonResponse(**removed);
}

HttpResponse ApiHandler::status(const HttpRequest &request, const Target &t)
{
    const std::string &verb = t.info.verb;
    if (verb == "get")
        return get(request, t);
    if (verb != "update" && verb != "patch")
        return errorResponse(Error(Reason::MethodNotAllowed, t.info.resource + "/status answers GET, PUT and PATCH"));
    auto options = writeOptions(t.info);
    if (!options)
        return errorResponse(options.error());
    options->statusOnly = true;
    std::optional<json> body;
    std::optional<PatchType> type;
    if (verb == "update") {
        auto parsed = parseBody(request);
        if (!parsed)
            return errorResponse(parsed.error());
        if (auto typed = typeFromTarget(*parsed, *t.resource); !typed)
            return errorResponse(typed.error());
        const std::string named = parsed->value("metadata", json::object()).value("name", "");
        if (named != t.info.name)
            return errorResponse(Error(Reason::BadRequest, "the name of the object (" + named
                                                               + ") does not match the name on the URL (" + t.info.name + ")"));
        body = std::move(*parsed);
    } else {
        auto pt = patchTypeOf(request.header("content-type"));
        if (!pt)
            return errorResponse(pt.error());
        type = *pt;
    }
    for (int attempt = 0; attempt < kConflictRetries; ++attempt) {
        auto current = m_api.store().get(t.storeResource, t.info.ns, t.info.name);
        if (!current)
            return errorResponse(notFoundAs(current.takeError(), t));
        json wanted;
        if (body) {
            wanted = *body;
        } else {
            auto patched = applyPatch(*type, **current, request.body, m_registry, t.resource->type);
            if (!patched)
                return errorResponse(patched.error());
            wanted = std::move(*patched);
        }
        // The write takes only the status (WriteOptions::statusOnly); resourceVersion is a
        // precondition when the client gave one.
        json object = std::move(wanted);
        if (!object.is_object() || !object["metadata"].is_object())
            return errorResponse(Error(Reason::BadRequest, "the object has no metadata"));
        object["metadata"]["name"] = t.info.name;
        if (t.resource->namespaced)
            object["metadata"]["namespace"] = t.info.ns;
        const bool unconditional = object["metadata"].value("resourceVersion", "").empty()
            || (type && request.body.find("\"resourceVersion\"") == std::string::npos);
        if (unconditional)
            object["metadata"]["resourceVersion"] = (**current)["metadata"].value("resourceVersion", "");
        auto written = m_api.update(std::move(object), *options);
        if (!written && written.error().reason() == Reason::Conflict && unconditional)
            continue;
        if (!written)
            return errorResponse(written.error());
        return jsonResponse(*written->object);
    }
    return errorResponse(Error(Reason::Conflict, "the object kept changing while its status was written; try again"));
}

HttpResponse ApiHandler::binding(const HttpRequest &request, const Target &t, const std::string &podName)
{
    auto body = parseBody(request);
    if (!body)
        return errorResponse(body.error());
    const json &meta = body->value("metadata", json::object());
    const std::string name = podName.empty() ? meta.value("name", "") : podName;
    if (name.empty())
        return errorResponse(Error::invalid("Binding", "", {Cause{"FieldValueRequired", "Required value", "metadata.name"}}));
    if (!podName.empty() && !meta.value("name", "").empty() && meta.value("name", "") != podName)
        return errorResponse(Error(Reason::BadRequest, "the name of the binding (" + meta.value("name", std::string())
                                                           + ") does not match the pod on the URL (" + podName + ")"));
    const json &target = body->value("target", json::object());
    const std::string kind = target.value("kind", "Node");
    if (kind != "Node")
        return errorResponse(Error::invalid("Binding", name, {Cause{"FieldValueNotSupported", "must be Node", "target.kind"}}));
    if (dryRun(t.info))
        return jsonResponse({{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()}, {"status", "Success"}}, 201);
    const std::string uid = meta.value("uid", "");
    auto bound = scheduler::bindPod(m_api.store(), m_clock, scheduler::Binding{t.info.ns, name, target.value("name", ""), uid});
    if (!bound) {
        Error e = bound.takeError();
        if (e.reason() == Reason::NotFound)
            e = Error(Reason::NotFound, "pods \"" + name + "\" not found");
        return errorResponse(e);
    }
    return jsonResponse({{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()}, {"status", "Success"}}, 201);
}

HttpResponse ApiHandler::eviction(const HttpRequest &request, const Target &t)
{
    auto body = parseBody(request);
    if (!body)
        return errorResponse(body.error());
    const std::string named = body->value("metadata", json::object()).value("name", "");
    if (!named.empty() && named != t.info.name)
        return errorResponse(Error(Reason::BadRequest, "name in URL does not match name in Eviction object"));
    store::DeleteOptions options;
    bool dry = dryRun(t.info);
    readDeleteOptions(body->value("deleteOptions", json::object()), options, dry);
    // No PodDisruptionBudgets exist in this cluster, so every eviction is allowed: it is the
    // pod's graceful delete. (With budgets it would be 429 TooManyRequests when one says no.)
    if (dry) {
        if (auto current = m_api.store().get("pods", t.info.ns, t.info.name); !current)
            return errorResponse(notFoundAs(current.takeError(), t));
    } else if (auto removed = m_api.remove(*t.resource, t.info.ns, t.info.name, options); !removed) {
        return errorResponse(notFoundAs(removed.takeError(), t));
    }
    return jsonResponse({{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()}, {"status", "Success"}}, 201);
}

std::string ApiHandler::managerOf(const HttpRequest &request, const RequestInfo &info)
{
    if (auto m = info.queryValue("fieldManager"); !m.empty())
        return m;
    // As the API server defaults it: the User-Agent up to its first '/' ("kubectl", "python").
    const std::string agent = request.header("user-agent");
    const std::string product = agent.substr(0, agent.find('/'));
    return product.empty() ? "unknown" : product.substr(0, 128);
}

HttpResponse ApiHandler::serverSideApply(const HttpRequest &request, const Target &t)
{
    const std::string manager = t.info.queryValue("fieldManager");
    if (manager.empty())
        return errorResponse(Error::invalid("PatchOptions", "", {Cause{"FieldValueRequired", "is required for apply patch", "fieldManager"}}));
    const bool force = t.info.queryFlag("force");
    auto options = writeOptions(t.info);
    if (!options)
        return errorResponse(options.error());
    auto decoded = model::decodeYamlDocument(request.body, model::YamlDecodeOptions::forSource("the applied configuration"));
    if (!decoded)
        return errorResponse(decoded.error());
    json config = std::move(decoded->value);
    if (!config.is_object())
        return errorResponse(Error(Reason::BadRequest, "the applied configuration must be an object with apiVersion, kind and metadata"));
    if (config.value("apiVersion", "").empty() || config.value("kind", "").empty())
        return errorResponse(Error(Reason::BadRequest, "the applied configuration needs apiVersion and kind (server-side apply does not infer them)"));
    if (auto typed = typeFromTarget(config, *t.resource); !typed)
        return errorResponse(typed.error());
    json &meta = config["metadata"];
    if (!meta.is_object())
        meta = json::object();
    if (const std::string named = meta.value("name", ""); !named.empty() && named != t.info.name)
        return errorResponse(Error(Reason::BadRequest, "the name of the object (" + named + ") does not match the name on the URL ("
                                                           + t.info.name + ")"));
    meta["name"] = t.info.name;
    if (t.resource->namespaced)
        meta["namespace"] = t.info.ns;
    if (config.contains("status") && t.resource->hasSubresource("status"))
        config.erase("status"); // the main resource's apply does not own status
    for (int attempt = 0; attempt < kConflictRetries; ++attempt) {
        auto current = m_api.store().get(t.storeResource, t.info.ns, t.info.name);
        const bool exists = current.ok();
        if (!exists && current.error().reason() != Reason::NotFound)
            return errorResponse(current.error());
        auto applied = m_fieldManager.apply(exists ? current->get() : nullptr, config, t.resource->type, manager, force, m_clock.now());
        if (!applied)
            return errorResponse(applied.error());
        Result<cluster::WriteResult> written = fail(Reason::InternalError, "not written");
        if (exists) {
            (*applied)["metadata"]["resourceVersion"] = (**current)["metadata"].value("resourceVersion", "");
            written = m_api.update(std::move(*applied), *options);
        } else {
            written = m_api.create(std::move(*applied), *options);
        }
        if (!written && (written.error().reason() == Reason::Conflict || written.error().reason() == Reason::AlreadyExists))
            continue; // someone wrote in between: apply again to what is there now
        if (!written)
            return errorResponse(written.error());
        HttpResponse r = jsonResponse(*written->object, exists ? 200 : 201);
        addWarnings(r, written->warnings);
        return r;
    }
    return errorResponse(Error(Reason::Conflict, "the object kept changing while the configuration was applied; try again"));
}

} // namespace podscape::core::apiserver
