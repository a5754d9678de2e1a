#pragma once
// The pod subresources the API server does not answer itself but forwards to the pod's node,
// as kube-apiserver proxies them to the kubelet: pods/log (plain text, streamed with
// follow=true), and pods/exec, pods/attach, pods/portforward (upgraded connections).
//
// The pod is read from the store first, so that an unknown pod is a NotFound worded as the
// API server words it and an unscheduled one gets a clear BadRequest instead of a dial error.

#include "core/apiserver/httpsserver.h"
#include "core/apiserver/requestinfo.h"
#include "core/base/clock.h"
#include "core/cluster/nodeaccess.h"

#include <nlohmann/json.hpp>

namespace podscape::core::apiserver {

class NodeProxy
{
public:
    NodeProxy(cluster::NodeAccess &nodes, Clock &clock) : m_nodes(nodes), m_clock(clock) {}

    // GET pods/NAME/log?container=&follow=&tailLines=&sinceSeconds=&sinceTime=&timestamps=&previous=&limitBytes=
    HttpResponse logs(const RequestInfo &info, const nlohmann::json &pod);
    // GET pods/NAME/exec?command=..&container=&stdin=&stdout=&stderr=&tty= (and attach, without
    // command) as a WebSocket upgrade; errors from the node come back before the upgrade.
    HttpResponse remoteCommand(const HttpRequest &request, const RequestInfo &info, const nlohmann::json &pod,
                               bool attach);
    // GET pods/NAME/portforward as a WebSocket upgrade: SPDY/3.1+portforward.k8s.io (kubectl),
    // or v4.channel.k8s.io with ?ports= (other clients). Each forwarded connection dials the
    // pod's port through its node; a dial error goes to that connection's error stream, as
    // the kubelet reports it.
    HttpResponse portForward(const HttpRequest &request, const RequestInfo &info, const nlohmann::json &pod);

private:
    cluster::NodeAccess &m_nodes;
    Clock &m_clock;
};

// The node a pod is bound to, or a BadRequest saying why it has none.
Result<std::string> nodeOfPod(const nlohmann::json &pod);

} // namespace podscape::core::apiserver
