#pragma once
// Keeps an Endpoints object beside every Service that has a selector (Kubernetes'
// endpoints_controller.go, as of 1.32): the matching pods' addresses, ready ones under
// `addresses` and the others under `notReadyAddresses`, with the Service's target ports
// resolved in each pod. Subsets are packed as Kubernetes' RepackSubsets leaves them (pods
// offering the same ports share one subset) and sorted, so an unchanged set of pods is an
// unchanged object and no write. The Endpoints goes when its Service goes; Services without
// a selector (and ExternalName ones) are left to whoever manages their Endpoints by hand.
//
// 1.32 labels the Endpoints with the Service's labels (plus service.kubernetes.io/headless
// for headless Services); the `endpoints.kubernetes.io/managed-by` label only arrives in
// 1.33, so it is not set. targetRef carries no resourceVersion either (1.32 dropped it),
// which is also what keeps a pod's status heartbeat from rewriting its Endpoints.

#include "core/controllers/controller.h"
#include "core/controllers/sharedinformers.h"
#include "core/events/eventrecorder.h"

#include <nlohmann/json.hpp>

namespace podscape::core::controllers {

class EndpointsController final : public Controller
{
public:
    struct Options {
        // Addresses kept in one Endpoints (Kubernetes' maxCapacity): beyond it the list is
        // truncated, ready addresses first, and annotated endpoints.kubernetes.io/over-capacity.
        size_t maxAddresses = 1000;
    };

    EndpointsController(SharedInformers &informers, Options options);
    explicit EndpointsController(SharedInformers &informers) : EndpointsController(informers, Options{}) {}

    // `key` is the Service's (and its Endpoints') "namespace/name".
    Result<void> sync(const std::string &key) override;

    using ObjectPtr = std::shared_ptr<const nlohmann::json>;
    // The subsets Kubernetes publishes for `service` given the pods its selector matches:
    // packed and sorted, an empty array when no pod qualifies. Pure; tests and views use it.
    static nlohmann::json computeSubsets(const nlohmann::json &service, const std::vector<ObjectPtr> &pods);
    // The port `servicePort` reaches in `pod` (targetPort as a number, or a named container
    // port of the same protocol), or nullopt when the pod has no such port.
    static std::optional<int> findPort(const nlohmann::json &pod, const nlohmann::json &servicePort);

private:
    // The services in the pod's namespace whose selector matches its labels.
    std::vector<std::string> servicesSelecting(const nlohmann::json &pod) const;
    void onPodUpdated(const ObjectPtr &oldPod, const ObjectPtr &newPod);
    void enqueueIfManaged(const std::string &key);

    Options m_options;
    store::Store &m_store;
    cache::Informer &m_services;
    cache::Informer &m_pods;
    cache::Informer &m_endpoints;
    events::EventRecorder m_recorder;
};

} // namespace podscape::core::controllers
