#include "logger.h"

#include "timeformat.h"

#include <chrono>
#include <cstdio>

namespace podscape::core {

std::string_view logLevelName(LogLevel level)
{
    switch (level) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warning: return "warning";
    case LogLevel::Error: return "error";
    case LogLevel::Off: return "off";
    }
    return "?";
}

bool parseLogLevel(std::string_view text, LogLevel &out)
{
    std::string t(text);
    for (auto &c : t)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (t == "debug") out = LogLevel::Debug;
    else if (t == "info") out = LogLevel::Info;
    else if (t == "warning" || t == "warn") out = LogLevel::Warning;
    else if (t == "error") out = LogLevel::Error;
    else if (t == "off") out = LogLevel::Off;
    else return false;
    return true;
}

Logger &Logger::instance()
{
    static Logger logger;
    return logger;
}

Logger::Logger()
{
    m_sink = [](LogLevel level, std::string_view component, std::string_view message) {
        auto now = std::chrono::system_clock::now();
        std::string line = formatRfc3339Micro(now) + " " + std::string(logLevelName(level)) + " ["
                           + std::string(component) + "] " + std::string(message) + "\n";
        std::fwrite(line.data(), 1, line.size(), stderr);
    };
}

Logger::Sink Logger::setSink(Sink sink)
{
    std::lock_guard lock(m_mutex);
    std::swap(m_sink, sink);
    return sink;
}

void Logger::write(LogLevel level, std::string_view component, std::string_view message)
{
    if (!enabled(level))
        return;
    std::lock_guard lock(m_mutex);
    if (m_sink)
        m_sink(level, component, message);
}

} // namespace podscape::core
