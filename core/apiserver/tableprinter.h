#pragma once
// Server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks for, with the
// columns kubectl shows against a real cluster (Kubernetes' own printers): pods, nodes,
// namespaces, services, endpoints, deployments, replicasets, replicationcontrollers,
// events, configmaps, secrets; NAME and AGE for anything else. Columns of priority 1 are
// the `-o wide` ones. Each row carries the object's metadata as PartialObjectMetadata, which
// is where kubectl takes NAMESPACE (`-A`) and LABELS (`--show-labels`, `-L`) from.

#include "core/base/clock.h"
#include "core/model/object.h"

#include <nlohmann/json.hpp>

#include <string_view>
#include <vector>

namespace podscape::core::apiserver {

class TablePrinter
{
public:
    // The column definitions for a kind.
    static std::vector<model::TableColumn> columns(std::string_view kind);
    // One row's cells, in the order of columns(kind); `now` gives the ages.
    static std::vector<nlohmann::json> cells(std::string_view kind, const nlohmann::json &object, Clock::TimePoint now);
    // A whole Table for these objects (all of one kind).
    static model::Table print(std::string_view kind, const std::vector<const nlohmann::json *> &objects, Clock::TimePoint now);

    // The STATUS column of a pod as kubectl prints it ("Running", "CrashLoopBackOff",
    // "Init:0/1", "Terminating", "Completed"...).
    static std::string podStatus(const nlohmann::json &pod);
};

} // namespace podscape::core::apiserver
