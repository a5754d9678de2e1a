#include "imagecatalog.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>

namespace podscape::core::kubelet::runtime {

namespace {

std::string sha256Hex(const std::string &text)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char *>(text.data()), text.size(), digest);
    std::string out;
    char buf[3];
    for (unsigned char b : digest) {
        std::snprintf(buf, sizeof buf, "%02x", b);
        out += buf;
    }
    return out;
}

bool isBaseImage(const std::string &name)
{
    return name == "busybox" || name == "alpine" || name == "debian" || name == "ubuntu";
}

} // namespace

std::vector<std::string> ImageCatalog::available()
{
    return {"luksa/kubia (tags latest, v1, v2, v3)",
            "luksa/kubia-unhealthy",
            "nginx (any tag)",
            "hashicorp/http-echo (any tag)",
            "busybox, alpine, debian, ubuntu (any tag: the host's shell and tools)"};
}

Result<CatalogImage> ImageCatalog::resolve(const ImageReference &ref)
{
    const std::string name = ref.name();
    const std::string &tag = ref.tag();
    CatalogImage image;
    image.ref = ref.normalized();
    image.digest = "sha256:" + sha256Hex(ref.repository() + ":" + tag);
    if (name == "kubia") {
        if (tag == "latest" || tag == "v1")
            image.entrypoint = {"podscape-image", "kubia"};
        else if (tag == "v2" || tag == "v3")
            image.entrypoint = {"podscape-image", "kubia", "--version", tag};
        image.ports = {8080};
        image.sizeBytes = 662'000'000; // node:7 plus app.js, as the book's image
    } else if (name == "kubia-unhealthy") {
        image.entrypoint = {"podscape-image", "kubia", "--version", "unhealthy"};
        image.ports = {8080};
        image.sizeBytes = 662'000'000;
    } else if (name == "nginx") {
        image.entrypoint = {"podscape-image", "web"};
        image.cmd = {"--port", "80"};
        image.ports = {80};
        image.sizeBytes = 187'000'000;
    } else if (name == "http-echo") {
        image.entrypoint = {"podscape-image", "http-echo"};
        image.ports = {5678};
        image.sizeBytes = 6'000'000;
    } else if (isBaseImage(name)) {
        image.cmd = {name == "busybox" || name == "alpine" ? "sh" : "bash"};
        image.sizeBytes = name == "busybox" ? 4'300'000 : name == "alpine" ? 7'800'000 : 78'000'000;
    }
    if (image.entrypoint.empty() && image.cmd.empty()) {
        std::string list;
        for (const auto &a : available())
            list += (list.empty() ? "" : "; ") + a;
        return Error(Reason::NotFound, "pull access denied for " + ref.repository() + ":" + tag +
                               ": Podscape's process runtime has no registry and runs only the images it ships: " +
                               list);
    }
    return image;
}

std::vector<std::string> ImageCatalog::argv(const CatalogImage &image, const std::vector<std::string> &command,
                                            const std::vector<std::string> &args)
{
    std::vector<std::string> out = command.empty() ? image.entrypoint : command;
    const std::vector<std::string> &tail = !args.empty() ? args : command.empty() ? image.cmd : args;
    out.insert(out.end(), tail.begin(), tail.end());
    return out;
}

} // namespace podscape::core::kubelet::runtime
