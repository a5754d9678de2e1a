#pragma once
// The verdict of one plugin on one pod (and node), in the framework's vocabulary: success, or
// unschedulable with reasons worded as kube-scheduler words them. The two unschedulable codes
// differ in what preemption could do: evicting pods can fix Unschedulable (not enough cpu),
// never UnschedulableAndUnresolvable (a taint, a node selector, a cordon).

#include <string>
#include <vector>

namespace podscape::core::scheduler {

class Status
{
public:
    enum class Code { Success, Unschedulable, UnschedulableAndUnresolvable, Error };

    Status() = default;
    Status(Code code, std::vector<std::string> reasons) : m_code(code), m_reasons(std::move(reasons)) {}
    static Status unschedulable(std::string reason) { return {Code::Unschedulable, {std::move(reason)}}; }
    static Status unresolvable(std::string reason) { return {Code::UnschedulableAndUnresolvable, {std::move(reason)}}; }
    static Status error(std::string message) { return {Code::Error, {std::move(message)}}; }

    bool ok() const { return m_code == Code::Success; }
    bool isRejected() const { return m_code == Code::Unschedulable || m_code == Code::UnschedulableAndUnresolvable; }
    Code code() const { return m_code; }
    const std::vector<std::string> &reasons() const { return m_reasons; }
    // The reasons joined by ", " (Status.Message()).
    std::string message() const;
    // The plugin that returned it, set by the framework.
    const std::string &plugin() const { return m_plugin; }
    Status &setPlugin(std::string plugin)
    {
        m_plugin = std::move(plugin);
        return *this;
    }

private:
    Code m_code = Code::Success;
    std::vector<std::string> m_reasons;
    std::string m_plugin;
};

inline std::string Status::message() const
{
    std::string out;
    for (size_t i = 0; i < m_reasons.size(); ++i) {
        if (i)
            out += ", ";
        out += m_reasons[i];
    }
    return out;
}

} // namespace podscape::core::scheduler
