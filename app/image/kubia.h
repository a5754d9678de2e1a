#pragma once
// luksa/kubia from "Kubernetes in Action": a node.js server on 8080 that answers every
// request with the pod's hostname. Variants by --version:
//   v1 (default)  200 "You've hit <host>"
//   v2            200 "This is v2 running in pod <host>"
//   v3            like v2 with "v3" for 5 requests, then 500 for every later one (the bad
//                 rollout that the book's readiness probe and minReadySeconds stop)
//   unhealthy     like v1 for 5 requests, then 500 (the liveness probe demo)
// No SIGTERM handler, on purpose: node as PID 1 ignores SIGTERM, and the pod is killed only
// after its termination grace period.

#include <string>
#include <vector>

namespace podscape::image {

class Kubia
{
public:
    // args: the program's arguments after "kubia". Returns the exit code (run() serves forever
    // unless the arguments are wrong or the port cannot be bound).
    static int run(const std::vector<std::string> &args);
};

} // namespace podscape::image
