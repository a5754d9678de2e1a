#pragma once
// What a program learns from the pod it runs in: the address to bind (POD_IP, set by the
// kubelet; each pod has its own loopback address, so many pods can use the same port) and the
// hostname (the runtime gives each pod a UTS namespace named after the pod).

#include <string>

namespace podscape::image {

class PodEnvironment
{
public:
    // POD_IP, or 0.0.0.0 when unset or empty.
    static std::string bindAddress();
    static std::string hostname();
};

} // namespace podscape::image
