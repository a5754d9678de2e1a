#include "bootstrap.h"

#include <arpa/inet.h>

namespace podscape::core::apiserver {

using nlohmann::json;

namespace {

// "127.96.0.0/12" -> "127.96.0.1"
Result<std::string> firstAddress(const std::string &cidr)
{
    const size_t slash = cidr.find('/');
    in_addr a{};
    if (slash == std::string::npos || inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &a) != 1)
        return fail(Reason::BadRequest, "the service range \"" + cidr + "\" is not an IPv4 CIDR");
    const int bits = std::atoi(cidr.c_str() + slash + 1);
    const uint32_t mask = bits <= 0 ? 0 : bits >= 32 ? 0xffffffffu : ~((1u << (32 - bits)) - 1);
    a.s_addr = htonl((ntohl(a.s_addr) & mask) + 1);
    char out[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, out, sizeof out);
    return std::string(out);
}

} // namespace

Result<void> ensureKubernetesService(cluster::ClusterApi &api, const std::string &serviceCIDR, const std::string &serverIP,
                                     uint16_t serverPort)
{
    const std::string ip = serverIP.empty() || serverIP == "0.0.0.0" || serverIP == "::" ? "127.0.0.1" : serverIP;
    const json labels = {{"component", "apiserver"}, {"provider", "kubernetes"}};
    if (!api.store().get("services", "default", "kubernetes")) {
        auto clusterIP = firstAddress(serviceCIDR);
        if (!clusterIP)
            return clusterIP.takeError();
        json service = {{"apiVersion", "v1"},
                        {"kind", "Service"},
                        {"metadata", {{"name", "kubernetes"}, {"namespace", "default"}, {"labels", labels}}},
                        {"spec",
                         {{"type", "ClusterIP"},
                          {"clusterIP", *clusterIP},
                          {"ports", json::array({{{"name", "https"}, {"port", 443}, {"protocol", "TCP"}, {"targetPort", serverPort}}})},
                          {"sessionAffinity", "None"}}}};
        if (auto created = api.create(std::move(service)); !created && created.error().reason() != Reason::AlreadyExists)
            return created.takeError();
    }
    json subsets = json::array({{{"addresses", json::array({{{"ip", ip}}})},
                                 {"ports", json::array({{{"name", "https"}, {"port", serverPort}, {"protocol", "TCP"}}})}}});
    auto existing = api.store().get("endpoints", "default", "kubernetes");
    if (existing) {
        if ((**existing).value("subsets", json()) == subsets)
            return {};
        json updated = **existing;
        updated["subsets"] = subsets;
        auto written = api.update(std::move(updated));
        return written ? Result<void>() : Result<void>(fail(written.error()));
    }
    json endpoints = {{"apiVersion", "v1"},
                      {"kind", "Endpoints"},
                      {"metadata", {{"name", "kubernetes"}, {"namespace", "default"}, {"labels", labels}}},
                      {"subsets", subsets}};
    auto created = api.create(std::move(endpoints));
    return created ? Result<void>() : Result<void>(fail(created.error()));
}

} // namespace podscape::core::apiserver
