#pragma once
// A container image reference, parsed and normalised as containerd does (the docker
// reference grammar): "nginx" is docker.io/library/nginx:latest, "luksa/kubia" is
// docker.io/luksa/kubia:latest, "registry.local:5000/team/app:1.2" keeps its registry.

#include "core/base/result.h"

#include <string>
#include <string_view>

namespace podscape::core::kubelet::runtime {

class ImageReference
{
public:
    // Errors are Invalid, with the message the kubelet shows for InvalidImageName.
    static Result<ImageReference> parse(std::string_view text);

    const std::string &domain() const { return m_domain; } // "docker.io"
    const std::string &path() const { return m_path; }     // "library/nginx"
    const std::string &tag() const { return m_tag; }       // "latest" when none was given
    const std::string &digest() const { return m_digest; } // "sha256:...", or ""
    bool hasExplicitTag() const { return m_explicitTag; }

    std::string repository() const { return m_domain + "/" + m_path; } // docker.io/library/nginx
    // The last path component: "nginx" for docker.io/library/nginx.
    std::string name() const;
    // docker.io/library/nginx:latest (with "@digest" when one was given).
    std::string normalized() const;
    // As people write it: "nginx:latest", "luksa/kubia:v2".
    std::string familiar() const;

private:
    std::string m_domain;
    std::string m_path;
    std::string m_tag;
    std::string m_digest;
    bool m_explicitTag = false;
};

} // namespace podscape::core::kubelet::runtime
