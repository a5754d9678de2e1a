#include "cgroupmanager.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

namespace podscape::core::kubelet::runtime {

namespace fs = std::filesystem;

namespace {

Error unavailable(std::string why) { return Error(Reason::ServiceUnavailable, std::move(why)); }

std::string readFile(const std::string &path)
{
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

bool writeFile(const std::string &path, const std::string &text, std::string &error)
{
    std::ofstream out(path);
    out << text;
    out.flush();
    if (!out) {
        error = "cannot write " + path + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

bool hasWords(const std::string &list, std::initializer_list<const char *> words)
{
    std::istringstream in(list);
    std::string w;
    size_t found = 0;
    while (in >> w)
        for (const char *want : words)
            found += w == want;
    return found == words.size();
}

// Where cgroup2 is mounted, from /proc/self/mountinfo ("" if nowhere).
std::string cgroup2Mount()
{
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        auto dash = line.find(" - ");
        if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0)
            continue;
        std::istringstream fields(line);
        std::string id, parent, dev, root, mount;
        fields >> id >> parent >> dev >> root >> mount;
        return mount;
    }
    return {};
}

// The subtree all nodes' cgroups go under, set up once per process.
Result<std::string> engineBase()
{
    static std::once_flag once;
    static Result<std::string> base = std::string();
    std::call_once(once, [] {
        base = [] () -> Result<std::string> {
            const std::string mount = cgroup2Mount();
            if (mount.empty())
                return unavailable("no cgroup v2 hierarchy is mounted");
            std::string own;
            std::istringstream cg(readFile("/proc/self/cgroup"));
            std::string line;
            while (std::getline(cg, line))
                if (line.rfind("0::", 0) == 0)
                    own = line.substr(3);
            if (own.empty())
                return unavailable("this process is not in the cgroup v2 hierarchy at " + mount);
            const std::string dir = (fs::path(mount) / fs::path(own).relative_path()).lexically_normal().string();
            if (!hasWords(readFile(dir + "/cgroup.controllers"), {"memory", "cpu"}))
                return unavailable("the memory and cpu controllers are not delegated to " + dir);
            if (access(dir.c_str(), W_OK) != 0)
                return unavailable(dir + " is not writable by this user");
            std::string error;
            if (!hasWords(readFile(dir + "/cgroup.subtree_control"), {"memory", "cpu"})) {
                // The engine leaves for a leaf, so that its own cgroup may give controllers
                // to children.
                std::error_code ec;
                fs::create_directories(dir + "/podscape-engine", ec);
                if (ec)
                    return unavailable("cannot create " + dir + "/podscape-engine: " + ec.message());
                if (!writeFile(dir + "/podscape-engine/cgroup.procs", std::to_string(getpid()), error)
                    || !writeFile(dir + "/cgroup.subtree_control", "+memory +cpu", error))
                    return unavailable(error);
            }
            return dir;
        }();
    });
    return base;
}

} // namespace

Result<std::unique_ptr<CgroupManager>> CgroupManager::open(const std::string &nodeName)
{
    auto base = engineBase();
    if (!base)
        return base.error();
    const std::string path = *base + "/podscape-" + nodeName;
    std::error_code ec;
    fs::create_directories(path, ec);
    std::string error;
    if (ec)
        return unavailable("cannot create " + path + ": " + ec.message());
    if (!writeFile(path + "/cgroup.subtree_control", "+memory +cpu", error))
        return unavailable(error);
    // Cgroups of containers a killed engine left: empty now (their processes died with it).
    for (const auto &entry : fs::directory_iterator(path, ec))
        if (entry.is_directory(ec))
            ::rmdir(entry.path().c_str());
    return std::unique_ptr<CgroupManager>(new CgroupManager(path));
}

Result<std::string> CgroupManager::create(const std::string &containerId, int64_t memoryLimitBytes, int64_t cpuLimitMilli)
{
    const std::string path = m_path + "/" + containerId.substr(0, 16);
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec)
        return Error::internal("cannot create the cgroup " + path + ": " + ec.message());
    std::string error;
    // No swap: a container over its memory limit is OOMKilled, as on a node without swap.
    if (memoryLimitBytes > 0
        && (!writeFile(path + "/memory.max", std::to_string(memoryLimitBytes), error)
            || (fs::exists(path + "/memory.swap.max") && !writeFile(path + "/memory.swap.max", "0", error))))
        return Error::internal(error);
    // A CPU limit is a quota per 100 ms period, as the kubelet sets it.
    if (cpuLimitMilli > 0 && !writeFile(path + "/cpu.max", std::to_string(std::max<int64_t>(1000, cpuLimitMilli * 100)) + " 100000", error))
        return Error::internal(error);
    return path;
}

bool CgroupManager::oomKilled(const std::string &path)
{
    std::istringstream in(readFile(path + "/memory.events"));
    std::string key;
    int64_t value = 0;
    while (in >> key >> value)
        if (key == "oom_kill" && value > 0)
            return true;
    return false;
}

int64_t CgroupManager::memoryCurrent(const std::string &path)
{
    std::string text = readFile(path + "/memory.current");
    return text.empty() ? -1 : std::strtoll(text.c_str(), nullptr, 10);
}

void CgroupManager::remove(const std::string &path)
{
    ::rmdir(path.c_str());
}

} // namespace podscape::core::kubelet::runtime
