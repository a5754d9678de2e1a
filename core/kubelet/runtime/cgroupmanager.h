#pragma once
// resources.limits for the process runtime through cgroup v2, where this user may write a
// cgroup with the memory and cpu controllers (a systemd user session delegates one; root has
// the whole tree). The kernel forbids processes in a cgroup whose children get controllers, so
// the engine first moves itself into a leaf of its own cgroup, once per process:
//
//   <own cgroup>/                  subtree_control: +memory +cpu
//     podscape-engine/             the engine's threads
//     podscape-<node>/             subtree_control: +memory +cpu
//       <container id>/            memory.max, memory.swap.max = 0, cpu.max; the container
//
// Anything refused along the way makes open() fail with the reason, and the runtime reports
// limits as not enforced (the node's IsolationDegraded condition) instead of failing pods.

#include "core/base/result.h"

#include <cstdint>
#include <memory>
#include <string>

namespace podscape::core::kubelet::runtime {

class CgroupManager
{
public:
    // The subtree for one node's containers; Unavailable-style error (Reason::ServiceUnavailable)
    // saying why there is none.
    static Result<std::unique_ptr<CgroupManager>> open(const std::string &nodeName);

    // A cgroup for one container with its limits (0: none); returns its path. The container's
    // first process joins it by writing to <path>/cgroup.procs before it executes the program.
    Result<std::string> create(const std::string &containerId, int64_t memoryLimitBytes, int64_t cpuLimitMilli);
    // Whether the kernel's OOM killer killed something in it (memory.events: oom_kill).
    static bool oomKilled(const std::string &path);
    // memory.current, or -1.
    static int64_t memoryCurrent(const std::string &path);
    // Removes the (empty) cgroup.
    static void remove(const std::string &path);

    const std::string &path() const { return m_path; }

private:
    explicit CgroupManager(std::string path) : m_path(std::move(path)) {}
    std::string m_path;
};

} // namespace podscape::core::kubelet::runtime
