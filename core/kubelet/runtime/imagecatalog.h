#pragma once
// The images the process runtime can run. No registry or Docker exists on a teaching laptop,
// so an image name resolves to a program Podscape ships (podscape-image) or, for the base
// images, to the host's own shell and tools. Each entry has what a real image carries: an
// entrypoint, a default command, the ports it listens on, and a stable digest.
//
// | image                        | runs                                   | listens |
// |------------------------------|----------------------------------------|---------|
// | luksa/kubia[:latest|v1]      | podscape-image kubia                   | 8080    |
// | luksa/kubia:v2, :v3          | podscape-image kubia --version v2|v3   | 8080    |
// | luksa/kubia-unhealthy        | podscape-image kubia --version unhealthy | 8080  |
// | nginx[:any tag]              | podscape-image web --port 80           | 80      |
// | hashicorp/http-echo[:any]    | podscape-image http-echo (args: -text=...) | 5678 |
// | busybox, alpine, debian, ubuntu [:any] | the command, with the host's sh  | -       |
//
// Kubernetes' rule applies: a container's `command` replaces the entrypoint (and the default
// command), `args` replaces the default command.

#include "core/base/result.h"
#include "imagereference.h"

#include <string>
#include <vector>

namespace podscape::core::kubelet::runtime {

struct CatalogImage {
    std::string ref;                     // normalised: docker.io/luksa/kubia:latest
    std::string digest;                  // sha256:<64 hex>, stable per normalised name
    std::vector<std::string> entrypoint; // argv[0] "podscape-image" is resolved by the runtime
    std::vector<std::string> cmd;
    std::vector<int> ports; // where the program listens by default
    int64_t sizeBytes = 0;
};

class ImageCatalog
{
public:
    // The image a reference names, or NotFound with a message listing what exists (what
    // the kubelet shows after "Failed to pull image"). Tags the program does not know
    // (luksa/kubia:v9) are NotFound too.
    static Result<CatalogImage> resolve(const ImageReference &ref);
    // One line per image, for messages and `podscape-agent --list-images`.
    static std::vector<std::string> available();
    // The argv a container runs: entrypoint and cmd combined with the pod's command/args.
    static std::vector<std::string> argv(const CatalogImage &image, const std::vector<std::string> &command,
                                         const std::vector<std::string> &args);
};

} // namespace podscape::core::kubelet::runtime
